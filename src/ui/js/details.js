// details.js: the detail panel of the current torrent (one tab at a time,
// refreshed every 2 s while shown): general (torrents/properties and the
// pieces bar), trackers, peers (sync/torrentPeers, incremental), files (a
// tree with priorities, rename), HTTP sources, speed history.
import { api } from "./api.js";
import { model } from "./sync.js";
import { el, size, speed, pct, ratio, eta, date, limit, attempt, dialog, store } from "./util.js";
import { drawSpeeds } from "./graph.js";

const TABS = [["general", "General"], ["trackers", "Trackers"], ["peers", "Peers"], ["files", "Files"], ["sources", "HTTP sources"], ["speed", "Speed"]];
const PRIOS = [[0, "Do not download"], [1, "Normal"], [6, "High"], [7, "Maximum"]];
const TSTATUS = ["Disabled", "Not contacted", "Working", "Updating", "Not working"];

export class Details {
  constructor(root) {
    this.hash = null;
    this.tab = store.get("tab", "general");
    this.open = store.get("detailsOpen", true);
    this.tabs = el("div", { class: "tabs", role: "tablist", "aria-label": "Torrent details" });
    this.bodyEl = el("div", { class: "tabbody", role: "tabpanel" });
    this.root = el("section", { class: "details" + (this.open ? "" : " closed"), "aria-label": "Details" }, this.tabs, this.bodyEl);
    for (const [k, label] of TABS) {
      this.tabs.append(el("button", { role: "tab", id: "tab-" + k, "aria-selected": k === this.tab ? "true" : "false", text: label,
        onclick: () => this.show(k) }));
    }
    this.tabs.append(el("span", { class: "grow" }), el("button", { class: "icon", "aria-label": "Show or hide details", text: "▾",
      onclick: () => { this.open = !this.open; store.set("detailsOpen", this.open); this.root.classList.toggle("closed", !this.open); this.refresh(true); } }));
    root.append(this.root);
    this.peerRid = 0;
    this.peerMap = {};
    this.expanded = new Set();
    setInterval(() => this.refresh(false), 2000);
  }

  setHash(h) {
    if (h === this.hash) return;
    this.hash = h;
    this.peerRid = 0;
    this.peerMap = {};
    this.expanded = new Set();
    this.refresh(true);
  }

  show(k) {
    this.tab = k;
    store.set("tab", k);
    if (!this.open) { this.open = true; this.root.classList.remove("closed"); }
    for (const b of this.tabs.querySelectorAll("[role=tab]")) b.setAttribute("aria-selected", b.id === "tab-" + k ? "true" : "false");
    this.refresh(true);
  }

  async refresh(now) {
    // Nothing is asked while the page is hidden or logged out (no 403 storm).
    if (!this.open || document.hidden || !this.root.offsetParent) return;
    if (!this.hash || !model.torrents.has(this.hash) || model.deleting.has(this.hash)) {
      this.bodyEl.replaceChildren(el("p", { class: "muted", text: "Select a torrent to see its details." }));
      return;
    }
    if (this.busy && !now) return;
    // Inputs being edited are not repainted under the user's cursor.
    if (!now && this.bodyEl.contains(document.activeElement) && document.activeElement.matches("input,select,textarea")) return;
    this.busy = true;
    const h = this.hash, tab = this.tab;
    try {
      const node = await this[tab](h);
      if (h === this.hash && tab === this.tab && node) {
        const st = this.bodyEl.scrollTop;
        this.bodyEl.replaceChildren(node);
        this.bodyEl.scrollTop = st;
      }
    } catch (e) {
      if (h === this.hash) this.bodyEl.replaceChildren(el("p", { class: "err", text: e.message }));
    } finally {
      this.busy = false;
    }
  }

  async general(h) {
    const [p, pieces] = await Promise.all([api.properties(h), api.pieceStates(h).catch(() => [])]);
    const t = model.torrents.get(h) || {};
    const kv = [
      ["Name", t.name], ["Info hash v1", p.infohash_v1 || h], ["Info hash v2", p.infohash_v2 || ""],
      ["Save path", p.save_path], ["Download path", p.download_path || ""],
      ["Total size", size(p.total_size)], ["Pieces", `${p.pieces_num} × ${size(p.piece_size)} (have ${p.pieces_have})`],
      ["Progress", pct(t.progress || 0)], ["Time active", eta(p.time_elapsed)], ["Seeding time", eta(p.seeding_time)],
      ["ETA", eta(p.eta)], ["Connections", `${p.nb_connections} (${p.nb_connections_limit} max)`],
      ["Downloaded", `${size(p.total_downloaded)} (${size(p.total_downloaded_session)} this session)`],
      ["Uploaded", `${size(p.total_uploaded)} (${size(p.total_uploaded_session)} this session)`],
      ["Wasted", size(p.total_wasted)], ["Ratio", ratio(p.share_ratio)],
      ["Down speed", `${speed(p.dl_speed) || "0"} (${speed(p.dl_speed_avg) || "0"} avg)`],
      ["Up speed", `${speed(p.up_speed) || "0"} (${speed(p.up_speed_avg) || "0"} avg)`],
      ["Down limit", limit(p.dl_limit)], ["Up limit", limit(p.up_limit)],
      ["Seeds", `${p.seeds} (${p.seeds_total} total)`], ["Peers", `${p.peers} (${p.peers_total} total)`],
      ["Reannounce in", eta(p.reannounce)], ["Last seen complete", date(p.last_seen)],
      ["Added on", date(p.addition_date)], ["Completed on", date(p.completion_date)],
      ["Created on", date(p.creation_date)], ["Created by", p.created_by], ["Private", p.is_private ? "Yes" : "No"],
      ["Comment", p.comment],
    ];
    const canvas = el("canvas", { class: "pieces", "aria-label": "Pieces: downloaded, downloading and missing", role: "img" });
    const out = el("div", {}, canvas, el("dl", { class: "kv" }, kv.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v ?? "" })])));
    requestAnimationFrame(() => drawPieces(canvas, pieces));
    return out;
  }

  async trackers(h) {
    const list = await api.trackers(h);
    const rows = list.map((tr) => {
      const real = !tr.url.startsWith("** [");
      return el("tr", {}, el("td", { class: "wrap", text: tr.url }), el("td", { text: TSTATUS[tr.status] ?? tr.status }),
        el("td", { class: "num", text: tr.tier < 0 ? "" : tr.tier }), el("td", { class: "num", text: tr.num_peers }),
        el("td", { class: "num", text: tr.num_seeds }), el("td", { class: "num", text: tr.num_leeches }),
        el("td", { class: "wrap", text: tr.msg }),
        el("td", {}, real && el("button", { text: "Edit", "aria-label": "Edit tracker " + tr.url, onclick: () => dialog("Edit tracker", [{ name: "u", label: "URL", value: tr.url }],
          (v) => api.editTracker(h, tr.url, v.u).then(() => this.refresh(true))) }),
        real && el("button", { text: "Remove", "aria-label": "Remove tracker " + tr.url, onclick: () => attempt(() => api.removeTrackers(h, [tr.url]).then(() => this.refresh(true))) })));
    });
    return el("div", {}, el("div", { class: "rowtools" }, el("button", { text: "Add trackers…", onclick: () => dialog("Add trackers",
      [{ name: "u", label: "One URL per line", type: "textarea" }], (v) => api.addTrackers(h, v.u.split(/\s+/).filter(Boolean)).then(() => this.refresh(true))) })),
    el("table", { class: "grid" }, el("thead", {}, el("tr", {}, ["URL", "Status", "Tier", "Peers", "Seeds", "Leeches", "Message", ""].map((x) => el("th", { text: x })))),
      el("tbody", {}, rows)));
  }

  async peers(h) {
    const d = await api.torrentPeers(h, this.peerRid);
    if (d.full_update) this.peerMap = {};
    for (const [k, v] of Object.entries(d.peers || {})) this.peerMap[k] = Object.assign(this.peerMap[k] || {}, v);
    for (const k of d.peers_removed || []) delete this.peerMap[k];
    this.peerRid = d.rid;
    const rows = Object.entries(this.peerMap).sort((a, b) => (b[1].dl_speed || 0) - (a[1].dl_speed || 0)).map(([k, p]) =>
      el("tr", {}, el("td", { text: (p.country_code ? p.country_code.toUpperCase() + " " : "") + k }), el("td", { text: p.connection }),
        el("td", { text: p.flags, title: p.flags_desc }), el("td", { text: p.client }), el("td", { class: "num", text: pct(p.progress || 0) }),
        el("td", { class: "num", text: speed(p.dl_speed) }), el("td", { class: "num", text: speed(p.up_speed) }),
        el("td", { class: "num", text: size(p.downloaded) }), el("td", { class: "num", text: size(p.uploaded) }),
        el("td", {}, el("button", { text: "Ban", "aria-label": "Ban peer " + k, onclick: () => attempt(() => api.banPeers([k]), "Banned " + k) }))));
    return el("div", {}, el("div", { class: "rowtools" }, el("button", { text: "Add peers…", onclick: () => dialog("Add peers",
      [{ name: "p", label: "ip:port, one per line", type: "textarea" }], (v) => api.addPeers(h, v.p.split(/\s+/).filter(Boolean))) })),
    el("table", { class: "grid" }, el("thead", {}, el("tr", {}, ["Peer", "Connection", "Flags", "Client", "Progress", "Down", "Up", "Downloaded", "Uploaded", ""].map((x) => el("th", { text: x })))),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 10, class: "muted", text: "No peers connected" })))));
  }

  async files(h) {
    const files = await api.files(h);
    if (!files.length)   // a magnet: the tree appears here when the metadata arrives
      return el("p", { class: "muted", text: "Waiting for the metadata: the files are listed as soon as it arrives." });
    // Build a tree of folders from the "/"-separated names.
    const root = { name: "", path: "", dirs: new Map(), files: [] };
    for (const f of files) {
      const parts = f.name.split("/");
      let n = root;
      for (let i = 0; i < parts.length - 1; i++) {
        const path = parts.slice(0, i + 1).join("/");
        if (!n.dirs.has(parts[i])) n.dirs.set(parts[i], { name: parts[i], path, dirs: new Map(), files: [] });
        n = n.dirs.get(parts[i]);
      }
      n.files.push(f);
    }
    if (!this.expanded.size) this.expanded.add(files.length && files[0].name.includes("/") ? files[0].name.split("/")[0] : "");
    const all = (n) => [...n.files, ...[...n.dirs.values()].flatMap(all)];
    const rows = [];
    const prioSel = (ids, cur, label) => {
      const s = el("select", { "aria-label": "Priority of " + label, class: "prio" }, PRIOS.map(([v, t]) => el("option", { value: v, text: t })),
        cur === null ? el("option", { value: "", text: "Mixed", hidden: true }) : null);
      s.value = cur === null ? "" : String(cur === 4 ? 1 : cur);
      s.addEventListener("change", () => attempt(() => api.filePrio(h, ids, s.value).then(() => this.refresh(true))));
      return s;
    };
    const walk = (n, depth) => {
      for (const d of [...n.dirs.values()].sort((a, b) => a.name.localeCompare(b.name))) {
        const fs = all(d);
        const sz = fs.reduce((a, f) => a + f.size, 0);
        const done = fs.reduce((a, f) => a + f.size * f.progress, 0);
        const pr = fs.every((f) => f.priority === fs[0].priority) ? fs[0].priority : null;
        const open = this.expanded.has(d.path);
        rows.push(el("tr", {}, el("td", { style: `padding-left:${depth * 16 + 4}px` },
          el("span", { class: "tree-toggle", role: "button", tabindex: 0, "aria-label": (open ? "Collapse " : "Expand ") + d.name, "aria-expanded": String(open), text: open ? "▾" : "▸",
            onclick: () => { if (open) this.expanded.delete(d.path); else this.expanded.add(d.path); this.refresh(true); } }), d.name + "/"),
        el("td", { class: "num", text: size(sz) }), el("td", { class: "num", text: pct(sz ? done / sz : 1) }),
        el("td", {}, prioSel(fs.map((f) => f.index), pr, d.name)),
        el("td", {}, el("button", { text: "Rename", "aria-label": "Rename folder " + d.name, onclick: () => dialog("Rename folder", [{ name: "n", label: "New name", value: d.name }],
          (v) => api.renameFolder(h, d.path, d.path.replace(/[^/]*$/, "") + v.n).then(() => this.refresh(true))) }))));
        if (open) walk(d, depth + 1);
      }
      for (const f of n.files) {
        const base = f.name.replace(/.*\//, "");
        rows.push(el("tr", { "data-file": f.name }, el("td", { class: "wrap", style: `padding-left:${depth * 16 + 22}px`, text: base }),
          el("td", { class: "num", text: size(f.size) }), el("td", { class: "num", text: pct(f.progress) }),
          el("td", {}, prioSel([f.index], f.priority, base)),
          el("td", {}, el("button", { text: "Rename", "aria-label": "Rename file " + base, onclick: () => dialog("Rename file", [{ name: "n", label: "New name", value: base }],
            (v) => api.renameFile(h, f.name, f.name.replace(/[^/]*$/, "") + v.n).then(() => this.refresh(true))) }))));
      }
    };
    walk(root, 0);
    return el("table", { class: "grid files" }, el("thead", {}, el("tr", {}, ["Name", "Size", "Progress", "Priority", ""].map((x) => el("th", { text: x })))), el("tbody", {}, rows));
  }

  async sources(h) {
    const list = await api.webseeds(h);
    return el("div", {}, el("div", { class: "rowtools" }, el("button", { text: "Add HTTP sources…", onclick: () => dialog("Add HTTP sources",
      [{ name: "u", label: "One URL per line", type: "textarea" }], (v) => api.addWebSeeds(h, v.u.split(/\s+/).filter(Boolean)).then(() => this.refresh(true))) })),
    list.length ? el("table", { class: "grid" }, el("tbody", {}, list.map((s) => el("tr", {}, el("td", { class: "wrap", text: s.url }),
      el("td", {}, el("button", { text: "Remove", "aria-label": "Remove HTTP source " + s.url, onclick: () => attempt(() => api.removeWebSeeds(h, [s.url]).then(() => this.refresh(true))) }))))))
      : el("p", { class: "muted", text: "No HTTP sources" }));
  }

  // This torrent's download/upload speeds since it first moved data (the
  // samples sync.js keeps from each maindata tick), drawn as the status
  // bar's graph is.
  async speed(h) {
    const s = model.thist.get(h) || [];
    const peak = (k) => s.reduce((m, x) => Math.max(m, x[k]), 0);
    const c = el("canvas", { class: "graph", role: "img", "data-peak-dl": peak("dl"), "data-peak-up": peak("up"),
      "aria-label": `Speed history of this torrent: peak down ${speed(peak("dl")) || "0 B/s"}, peak up ${speed(peak("up")) || "0 B/s"}` });
    requestAnimationFrame(() => drawSpeeds(c, s.length ? s : [{ dl: 0, up: 0 }]));
    const t = model.torrents.get(h) || {};
    const mins = s.length > 1 ? Math.max(1, Math.round((s[s.length - 1].t - s[0].t) / 60000)) : 0;
    return el("div", {}, c, el("p", { class: "muted", text: `Down ${speed(t.dlspeed) || "0 B/s"} (peak ${speed(peak("dl")) || "0 B/s"}) · ` +
      `Up ${speed(t.upspeed) || "0 B/s"} (peak ${speed(peak("up")) || "0 B/s"}) · last ${s.length} samples${mins ? ` (~${mins} min)` : ""}` }));
  }
}

function drawPieces(canvas, states) {
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (!w) return;
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext("2d");
  const css = getComputedStyle(canvas);
  g.fillStyle = css.getPropertyValue("--line"); g.fillRect(0, 0, w, h);
  const n = states.length;
  if (!n) return;
  const colors = { 1: css.getPropertyValue("--warn"), 2: css.getPropertyValue("--accent") };
  for (let x = 0; x < w; x++) {
    const a = Math.floor((x * n) / w), b = Math.max(a + 1, Math.floor(((x + 1) * n) / w));
    let have = 0, dl = 0;
    for (let i = a; i < b; i++) { if (states[i] === 2) have++; else if (states[i] === 1) dl++; }
    if (!have && !dl) continue;
    g.fillStyle = dl ? colors[1] : colors[2];
    g.globalAlpha = dl ? 1 : Math.max(0.25, have / (b - a));
    g.fillRect(x, 0, 1, h);
  }
  g.globalAlpha = 1;
}
