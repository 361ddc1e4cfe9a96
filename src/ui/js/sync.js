// sync.js: the live model, kept by incremental sync/maindata.
// Each tick asks for rid=<last rid> and merges the delta (changed fields of
// changed torrents, removed hashes, categories, tags, trackers, server state);
// a full_update replaces everything.  Listeners get one "change" event per tick
// with {full, changed:Set(hash), structural} so views redo only what changed.
import { api } from "./api.js";

const HISTORY = 300;        // samples of the global speeds (5 minutes at 1 s)
const TORRENT_HISTORY = 120;

export const model = {
  torrents: new Map(),     // hash -> torrent object (fields as the API names them)
  categories: {},
  tags: [],
  trackers: {},            // url -> [hash]
  server: {},
  rid: 0,
  history: [],             // [{t, dl, up}]
  thist: new Map(),        // hash -> [{t, dl, up}] for torrents that moved data
  deleting: new Set(),     // hashes asked to be deleted, until a tick says they are gone
  connected: false,
};
export const events = new EventTarget();

let timer = null, running = false, interval = 1000;

function merge(d) {
  const changed = new Set();
  let structural = false;
  if (d.full_update) {
    model.torrents.clear();
    model.categories = {};
    model.tags = [];
    model.trackers = {};
    model.server = {};
    structural = true;
  }
  for (const [h, delta] of Object.entries(d.torrents || {})) {
    const t = model.torrents.get(h);
    if (t) Object.assign(t, delta);
    else { delta.hash = h; model.torrents.set(h, delta); structural = true; }   // new: keep the parsed object, no copy
    changed.add(h);
  }
  for (const h of d.torrents_removed || []) {
    if (model.torrents.delete(h)) structural = true;
    model.thist.delete(h);
    model.deleting.delete(h);
  }
  if (d.full_update) for (const h of model.deleting) if (!model.torrents.has(h)) model.deleting.delete(h);
  for (const [n, c] of Object.entries(d.categories || {}))
    model.categories[n] = Object.assign(model.categories[n] || {}, c);
  for (const n of d.categories_removed || []) delete model.categories[n];
  if (d.tags) model.tags = [...new Set([...model.tags, ...d.tags])];
  if (d.tags_removed) model.tags = model.tags.filter((t) => !d.tags_removed.includes(t));
  for (const [u, hs] of Object.entries(d.trackers || {})) model.trackers[u] = hs;
  for (const u of d.trackers_removed || []) delete model.trackers[u];
  if (d.server_state) Object.assign(model.server, d.server_state);
  model.rid = d.rid;
  return { full: !!d.full_update, changed, structural };
}

function sample() {
  const t = Date.now();
  model.history.push({ t, dl: model.server.dl_info_speed || 0, up: model.server.up_info_speed || 0 });
  if (model.history.length > HISTORY) model.history.shift();
  for (const [h, tor] of model.torrents) {
    let a = model.thist.get(h);
    if (!a && !tor.dlspeed && !tor.upspeed) continue;
    if (!a) model.thist.set(h, (a = []));
    a.push({ t, dl: tor.dlspeed || 0, up: tor.upspeed || 0 });
    if (a.length > TORRENT_HISTORY) a.shift();
  }
}

async function tick() {
  timer = null;
  if (!running) return;
  try {
    const t0 = performance.now();
    const d = await api.maindata(model.rid);
    const t1 = performance.now();
    const info = merge(d);
    sample();
    if (!model.connected) { model.connected = true; events.dispatchEvent(new Event("online")); }
    const ri = model.server.refresh_interval;
    if (ri >= 500 && ri <= 10000) interval = ri;
    const t2 = performance.now();
    events.dispatchEvent(new CustomEvent("change", { detail: info }));
    if (info.full) {
      // How long a full update takes, by part (read by tests/integration/test_ui.py).
      performance.measure("td:maindata-fetch", { start: t0, end: t1 });
      performance.measure("td:maindata-merge", { start: t1, end: t2 });
      performance.measure("td:maindata-views", { start: t2, end: performance.now() });
    }
  } catch (e) {
    if (model.connected) { model.connected = false; events.dispatchEvent(new Event("offline")); }
    if (e.status === 403) { running = false; return; }
  }
  if (running) timer = setTimeout(tick, document.hidden ? Math.max(interval, 5000) : interval);
}

export function start() {
  if (running) return;
  running = true;
  model.rid = 0;
  tick();
}
export function stop() {
  running = false;
  if (timer) clearTimeout(timer);
  timer = null;
}
// Torrents being deleted: views stop asking about them at once (a request
// for a hash the server has just dropped would answer 404), before the tick
// that removes them from the model.  on=false when the delete failed.
export function markDeleting(hs, on) {
  for (const h of hs) if (on) model.deleting.add(h); else model.deleting.delete(h);
}

// Ask now (after an action) instead of waiting for the next tick.
export function poke() {
  if (!running) return;
  if (timer) { clearTimeout(timer); timer = null; setTimeout(tick, 150); }
}
