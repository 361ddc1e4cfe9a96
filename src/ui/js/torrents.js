// torrents.js: the torrents page: sidebar filters (state, category, tag,
// tracker) with category/tag management, toolbar, table, detail panel.
import { api } from "./api.js";
import { model, events, poke } from "./sync.js";
import { el, attempt, dialog } from "./util.js";
import { filter, STATES, stateMatch, hostOf, tagsOf, invalidateTrackers } from "./filters.js";
import { TorrentTable } from "./table.js";
import { Details } from "./details.js";
import { items, deleteTorrents } from "./actions.js";
import { openAdd } from "./add.js";
import { openMenu } from "./menu.js";

export function mountTorrents(page) {
  const side = el("aside", { class: "sidebar", "aria-label": "Filters" });
  const work = el("div", { class: "work" });
  page.append(side, work);

  const search = el("input", { type: "search", placeholder: "Filter by name", "aria-label": "Filter torrents by name" });
  let st = null;
  search.addEventListener("input", () => { clearTimeout(st); st = setTimeout(() => { filter.text = search.value; table.refresh(); }, 120); });
  const sel = () => table.selected();
  const tb = (label, fn, attrs = {}) => el("button", { type: "button", text: label, onclick: fn, ...attrs });
  const toolbar = el("div", { class: "toolbar", role: "toolbar", "aria-label": "Torrent actions" },
    tb("+ Add", () => openAdd(), { class: "primary", id: "addbtn" }),
    el("span", { class: "sep" }),
    tb("▶ Start", () => attempt(() => api.act("start", sel()).then(poke)), { "aria-label": "Start selected" }),
    tb("■ Stop", () => attempt(() => api.act("stop", sel()).then(poke)), { "aria-label": "Stop selected" }),
    tb("✕ Delete", () => deleteTorrents(sel()), { "aria-label": "Delete selected" }),
    tb("⋯ More", (e) => { const r = e.target.getBoundingClientRect(); openMenu(r.left, r.bottom, items(sel())); }, { "aria-label": "More actions", id: "morebtn" }),
    el("span", { class: "grow" }), search);
  const tableHost = el("div", { style: "min-height:0;display:grid" });
  work.append(toolbar, tableHost);
  const table = new TorrentTable(tableHost);
  const details = new Details(work);

  table.addEventListener("select", () => details.setHash(table.curHash && table.sel.has(table.curHash) ? table.curHash : table.selected()[0] || null));
  table.addEventListener("open", (e) => { details.setHash(e.detail); details.show(details.tab); });
  table.addEventListener("menu", (e) => { if (table.sel.size) openMenu(e.detail.x, e.detail.y, items(sel())); });
  table.addEventListener("delete", () => deleteTorrents(sel()));

  // Drag .torrent files anywhere on the page.
  page.addEventListener("dragover", (e) => { if (e.dataTransfer.types.includes("Files")) e.preventDefault(); });
  page.addEventListener("drop", (e) => {
    const fs = [...e.dataTransfer.files].filter((f) => /\.torrent$/i.test(f.name));
    if (fs.length) { e.preventDefault(); openAdd(fs); }
  });

  const section = (title, ...tools) => el("h2", {}, title, ...tools);
  const item = (label, count, active, onclick, extra) => el("li", { class: active ? "active" : "", role: "option", "aria-selected": String(active), tabindex: 0, onclick,
    onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onclick(); } } },
  el("span", { text: label }), el("span", { class: "n", text: count }), el("span", { class: "tools" }, extra));
  const setF = (k, v) => { filter[k] = v; if (k === "tracker") invalidateTrackers(); table.refresh(); drawSide(); side.classList.remove("open"); };

  let sideKey = "";
  function drawSide(force = true) {
    const all = [...model.torrents.values()];
    // Counting 10,000 torrents per tick is cheap; rebuilding the DOM only when counts change.
    const states = STATES.map(([k, l]) => [k, l, k === "all" ? all.length : all.filter((t) => stateMatch(k, t)).length]);
    const cats = {};
    const tags = {};
    let untagged = 0;
    for (const t of all) {
      cats[t.category || ""] = (cats[t.category || ""] || 0) + 1;
      const tg = tagsOf(t);
      if (!tg.length) untagged++;
      for (const x of tg) tags[x] = (tags[x] || 0) + 1;
    }
    const hosts = {};
    const tracked = new Set();
    for (const [u, hs] of Object.entries(model.trackers)) {
      const hst = hostOf(u);
      hosts[hst] = hosts[hst] || new Set();
      for (const h of hs) { hosts[hst].add(h); tracked.add(h); }
    }
    const key = JSON.stringify([states, cats, tags, Object.keys(model.categories), model.tags, Object.entries(hosts).map(([k, v]) => [k, v.size]), filter]);
    if (!force && key === sideKey) return;
    sideKey = key;
    const x = (label, fn) => el("button", { class: "x", "aria-label": label, text: "✕", onclick: (e) => { e.stopPropagation(); fn(); } });
    side.replaceChildren(
      el("button", { class: "close icon", "aria-label": "Close filters", text: "✕", onclick: () => side.classList.remove("open") }),
      section("Status"),
      el("ul", { role: "listbox", "aria-label": "Status filter" }, states.map(([k, l, n]) => item(l, n, filter.state === k, () => setF("state", k)))),
      section("Categories", el("button", { "aria-label": "New category", text: "+", onclick: () => dialog("New category",
        [{ name: "c", label: "Name" }, { name: "p", label: "Save path (optional)" }], (v) => api.createCategory(v.c, v.p).then(poke)) })),
      el("ul", { role: "listbox", "aria-label": "Category filter" },
        item("All", all.length, filter.category === null, () => setF("category", null)),
        item("Uncategorised", cats[""] || 0, filter.category === "", () => setF("category", "")),
        Object.keys(model.categories).sort().map((c) => item(c, cats[c] || 0, filter.category === c, () => setF("category", c),
          el("span", {}, el("button", { class: "x", "aria-label": "Edit category " + c, text: "✎", onclick: (e) => { e.stopPropagation(); dialog("Edit category " + c,
            [{ name: "p", label: "Save path", value: model.categories[c].savePath || "" }], (v) => api.editCategory(c, v.p).then(poke)); } }),
          x("Remove category " + c, () => attempt(() => api.removeCategories([c]).then(poke))))))),
      section("Tags", el("button", { "aria-label": "New tag", text: "+", onclick: () => dialog("New tags",
        [{ name: "t", label: "Tags, comma separated" }], (v) => api.createTags(v.t).then(poke)) })),
      el("ul", { role: "listbox", "aria-label": "Tag filter" },
        item("All", all.length, filter.tag === null, () => setF("tag", null)),
        item("Untagged", untagged, filter.tag === "", () => setF("tag", "")),
        model.tags.slice().sort().map((t) => item(t, tags[t] || 0, filter.tag === t, () => setF("tag", t),
          x("Delete tag " + t, () => attempt(() => api.deleteTags(t).then(poke)))))),
      section("Trackers"),
      el("ul", { role: "listbox", "aria-label": "Tracker filter" },
        item("All", all.length, filter.tracker === null, () => setF("tracker", null)),
        item("Trackerless", all.length - all.filter((t) => tracked.has(t.hash)).length, filter.tracker === "", () => setF("tracker", "")),
        Object.keys(hosts).sort().map((hst) => item(hst, hosts[hst].size, filter.tracker === hst, () => setF("tracker", hst)))));
  }

  let sideTimer = 0;
  events.addEventListener("change", (e) => {
    if (Object.keys(e.detail).length && (e.detail.structural || e.detail.changed.size)) invalidateTrackers();
    table.refresh();
    // The sidebar's counts are recomputed at most every 2 s (10,000 torrents).
    const now = Date.now();
    if (e.detail.structural || now - sideTimer > 2000) { sideTimer = now; drawSide(false); }
  });
  drawSide();
  return { table, details, side, toggleSide: () => side.classList.toggle("open") };
}
