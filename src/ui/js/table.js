// table.js: the virtualised torrent table.  Only the rows in view (plus a
// few) exist in the DOM; a tick re-filters and re-sorts the model (cheap at
// 10,000 rows) and repaints just those rows.  Columns are chosen (header
// context menu), sorted (click), resized (drag the edge) and remembered.
import { el, size, speed, pct, ratio, eta, date, store, limit } from "./util.js";
import { model } from "./sync.js";
import { matches, tagsOf } from "./filters.js";
import { openMenu } from "./menu.js";

const ROW = 26, OVERSCAN = 8;

const progressCell = (t) => {
  const p = t.progress || 0;
  return el("div", { class: "pbar", role: "progressbar", "aria-valuenow": Math.floor(p * 100), "aria-valuemin": 0, "aria-valuemax": 100 },
    el("i", { style: `width:${(p * 100).toFixed(1)}%` }), el("span", { text: pct(p) }));
};
const STATE_NAMES = {
  error: "Errored", missingFiles: "Missing files", uploading: "Seeding", stalledUP: "Seeding (stalled)",
  stoppedUP: "Completed", pausedUP: "Completed", queuedUP: "Queued", checkingUP: "Checking", forcedUP: "[F] Seeding",
  allocating: "Allocating", downloading: "Downloading", metaDL: "Fetching metadata", forcedMetaDL: "[F] Fetching metadata",
  stoppedDL: "Stopped", pausedDL: "Stopped", queuedDL: "Queued", stalledDL: "Stalled", checkingDL: "Checking",
  forcedDL: "[F] Downloading", checkingResumeData: "Checking resume data", moving: "Moving", unknown: "Unknown",
};
export const stateName = (s) => STATE_NAMES[s] || s || "";

export const COLUMNS = [
  { key: "priority", label: "#", w: 40, num: true, text: (t) => (t.priority > 0 ? t.priority : "*") },
  { key: "name", label: "Name", w: 320, text: (t) => t.name },
  { key: "size", label: "Size", w: 85, num: true, text: (t) => size(t.size) },
  { key: "total_size", label: "Total size", w: 85, num: true, text: (t) => size(t.total_size) },
  { key: "progress", label: "Progress", w: 110, cell: progressCell },
  { key: "state", label: "Status", w: 120, text: (t) => stateName(t.state), cls: (t) => "st-" + t.state },
  { key: "num_seeds", label: "Seeds", w: 70, num: true, text: (t) => `${t.num_seeds ?? 0} (${t.num_complete ?? 0})` },
  { key: "num_leechs", label: "Peers", w: 70, num: true, text: (t) => `${t.num_leechs ?? 0} (${t.num_incomplete ?? 0})` },
  { key: "dlspeed", label: "Down speed", w: 95, num: true, text: (t) => speed(t.dlspeed) },
  { key: "upspeed", label: "Up speed", w: 95, num: true, text: (t) => speed(t.upspeed) },
  { key: "eta", label: "ETA", w: 80, num: true, text: (t) => (t.progress >= 1 ? "" : eta(t.eta)) },
  { key: "ratio", label: "Ratio", w: 60, num: true, text: (t) => ratio(t.ratio) },
  { key: "category", label: "Category", w: 100, text: (t) => t.category },
  { key: "tags", label: "Tags", w: 120, text: (t) => tagsOf(t).join(", ") },
  { key: "added_on", label: "Added on", w: 150, text: (t) => date(t.added_on) },
  { key: "completion_on", label: "Completed on", w: 150, text: (t) => date(t.completion_on) },
  { key: "tracker", label: "Tracker", w: 180, text: (t) => t.tracker },
  { key: "dl_limit", label: "Down limit", w: 85, num: true, text: (t) => limit(t.dl_limit) },
  { key: "up_limit", label: "Up limit", w: 85, num: true, text: (t) => limit(t.up_limit) },
  { key: "downloaded", label: "Downloaded", w: 90, num: true, text: (t) => size(t.downloaded) },
  { key: "uploaded", label: "Uploaded", w: 90, num: true, text: (t) => size(t.uploaded) },
  { key: "amount_left", label: "Remaining", w: 90, num: true, text: (t) => size(t.amount_left) },
  { key: "time_active", label: "Time active", w: 90, num: true, text: (t) => eta(t.time_active) },
  { key: "save_path", label: "Save path", w: 200, text: (t) => t.save_path },
  { key: "availability", label: "Availability", w: 80, num: true, text: (t) => (t.availability >= 0 ? (+t.availability).toFixed(2) : "") },
  { key: "hash", label: "Info hash", w: 200, text: (t) => t.hash },
];
const DEFAULT_COLS = ["name", "size", "progress", "state", "num_seeds", "num_leechs", "dlspeed", "upspeed", "eta", "ratio", "category", "tags", "added_on"];
const byKey = Object.fromEntries(COLUMNS.map((c) => [c.key, c]));

export class TorrentTable extends EventTarget {
  constructor(root) {
    super();
    const saved = store.get("table", {});
    this.cols = (saved.cols || DEFAULT_COLS).filter((k) => byKey[k]);
    this.widths = saved.widths || {};
    this.sort = saved.sort || { key: "added_on", desc: true };
    this.view = [];            // hashes in display order
    this.index = new Map();    // hash -> position in view
    this.sel = new Set();
    this.anchor = -1;
    this.cursor = -1;
    this.head = el("div", { class: "tt-head", role: "row" });
    this.spacer = el("div", { class: "tt-spacer" });
    this.body = el("div", { class: "tt-body", tabindex: 0, role: "grid", "aria-label": "Torrents", "aria-multiselectable": "true" }, this.spacer);
    this.emptyMsg = el("div", { class: "empty", text: "No torrents", hidden: true });
    this.root = el("div", { class: "tt" }, this.head, this.body);
    this.body.append(this.emptyMsg);
    root.append(this.root);
    this.pool = [];
    this.body.addEventListener("scroll", () => this.paint());
    this.body.addEventListener("keydown", (e) => this.key(e));
    new ResizeObserver(() => this.paint()).observe(this.body);
    this.head.addEventListener("contextmenu", (e) => { e.preventDefault(); this.columnMenu(e.clientX, e.clientY); });
    this.buildHead();
  }

  save() { store.set("table", { cols: this.cols, widths: this.widths, sort: this.sort }); }
  width(k) { return this.widths[k] || byKey[k].w; }
  totalWidth() { return this.cols.reduce((a, k) => a + this.width(k), 0); }

  buildHead() {
    this.head.replaceChildren();
    for (const k of this.cols) {
      const c = byKey[k];
      const h = el("div", { role: "columnheader", style: `width:${this.width(k)}px`, title: c.label,
        "aria-sort": this.sort.key === k ? (this.sort.desc ? "descending" : "ascending") : "none",
        class: (c.num ? "num " : "") + (this.sort.key === k ? "sorted" + (this.sort.desc ? " desc" : "") : "") },
      c.label);
      h.addEventListener("click", (e) => {
        if (e.target.classList.contains("rz")) return;
        this.sort = { key: k, desc: this.sort.key === k ? !this.sort.desc : !!c.num };
        this.save();
        this.buildHead();
        this.refresh();
      });
      const rz = el("span", { class: "rz", "aria-hidden": "true" });
      rz.addEventListener("pointerdown", (e) => this.startResize(e, k, h));
      h.append(rz);
      this.head.append(h);
    }
    this.head.style.minWidth = this.spacer.style.width = this.totalWidth() + "px";
    for (const r of this.pool) r.remove();
    this.pool = [];
    this.paint();
  }

  startResize(e, k, h) {
    e.preventDefault();
    e.stopPropagation();
    const x0 = e.clientX, w0 = this.width(k);
    const move = (ev) => {
      this.widths[k] = Math.max(30, w0 + ev.clientX - x0);
      h.style.width = this.widths[k] + "px";
    };
    const up = () => {
      removeEventListener("pointermove", move);
      removeEventListener("pointerup", up);
      this.save();
      this.buildHead();
    };
    addEventListener("pointermove", move);
    addEventListener("pointerup", up);
  }

  columnMenu(x, y) {
    const items = COLUMNS.map((c) => ({
      label: (this.cols.includes(c.key) ? "✓ " : "   ") + c.label,
      run: () => {
        if (this.cols.includes(c.key)) { if (this.cols.length > 1) this.cols = this.cols.filter((k) => k !== c.key); }
        else this.cols.push(c.key);
        this.save();
        this.buildHead();
      },
    }));
    items.push(null, { label: "Reset columns", run: () => { this.cols = [...DEFAULT_COLS]; this.widths = {}; this.save(); this.buildHead(); } });
    openMenu(x, y, items);
  }

  // Re-filter and re-sort from the model, then repaint what is in view.
  refresh() {
    const c = byKey[this.sort.key] || byKey.added_on;
    const k = c.key, dir = this.sort.desc ? -1 : 1;
    const rows = [];
    for (const t of model.torrents.values()) if (matches(t)) rows.push(t);
    const str = !c.num && k !== "progress" && k !== "added_on" && k !== "completion_on";
    rows.sort(str
      ? (a, b) => dir * String(a[k] ?? "").localeCompare(String(b[k] ?? ""), undefined, { numeric: true, sensitivity: "base" }) || (a.hash < b.hash ? -1 : 1)
      : (a, b) => dir * (((a[k] ?? 0) - (b[k] ?? 0)) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
    this.view = rows.map((t) => t.hash);
    this.index = new Map(this.view.map((h, i) => [h, i]));
    for (const h of this.sel) if (!this.index.has(h)) this.sel.delete(h);
    if (this.curHash && this.index.has(this.curHash)) this.cursor = this.index.get(this.curHash);
    else if (this.cursor >= this.view.length) this.cursor = this.view.length - 1;
    this.spacer.style.height = this.view.length * ROW + "px";
    this.emptyMsg.hidden = this.view.length > 0;
    this.paint();
    this.dispatchEvent(new Event("view"));
  }

  paint() {
    const top = this.body.scrollTop, h = this.body.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(this.view.length, Math.ceil((top + h) / ROW) + OVERSCAN);
    const need = last - first;
    while (this.pool.length < need) {
      const r = el("div", { class: "tt-row", role: "row" });
      r.addEventListener("mousedown", (e) => this.click(e, r._i));
      r.addEventListener("dblclick", () => this.dispatchEvent(new CustomEvent("open", { detail: this.view[r._i] })));
      r.addEventListener("contextmenu", (e) => {
        e.preventDefault();
        if (!this.sel.has(this.view[r._i])) this.select(r._i, false, false);
        this.dispatchEvent(new CustomEvent("menu", { detail: { x: e.clientX, y: e.clientY } }));
      });
      this.spacer.append(r);
      this.pool.push(r);
    }
    for (let j = 0; j < this.pool.length; j++) {
      const r = this.pool[j];
      const i = first + j;
      if (i >= last) { r.hidden = true; delete r.dataset.hash; continue; }
      r.hidden = false;
      r._i = i;
      const hash = this.view[i];
      const t = model.torrents.get(hash);
      r.style.top = i * ROW + "px";
      r.className = "tt-row" + (this.sel.has(hash) ? " sel" : "") + (i === this.cursor ? " cur" : "");
      r.setAttribute("aria-selected", this.sel.has(hash));
      r.dataset.hash = hash;
      if (r.children.length !== this.cols.length) {
        r.replaceChildren(...this.cols.map(() => el("div", { role: "gridcell" })));
      }
      this.cols.forEach((k, ci) => {
        const c = byKey[k], cell = r.children[ci];
        cell.style.width = this.width(k) + "px";
        cell.className = (c.num ? "num " : "") + (c.cls ? c.cls(t) : "") + " c-" + k;
        if (c.cell) cell.replaceChildren(c.cell(t));
        else {
          const v = String(c.text(t) ?? "");
          if (cell.textContent !== v) cell.textContent = v;
          if (k === "name") cell.title = v;
        }
      });
    }
  }

  click(e, i) {
    if (e.button !== 0) return;
    this.body.focus();
    this.select(i, e.shiftKey, e.ctrlKey || e.metaKey);
  }

  select(i, range, toggle) {
    if (i < 0 || i >= this.view.length) return;
    const h = this.view[i];
    if (range && this.anchor >= 0) {
      if (!toggle) this.sel.clear();
      const [a, b] = this.anchor < i ? [this.anchor, i] : [i, this.anchor];
      for (let j = a; j <= b; j++) this.sel.add(this.view[j]);
    } else if (toggle) {
      if (this.sel.has(h)) this.sel.delete(h); else this.sel.add(h);
      this.anchor = i;
    } else {
      this.sel.clear();
      this.sel.add(h);
      this.anchor = i;
    }
    this.cursor = i;
    this.curHash = h;
    this.scrollTo(i);
    this.paint();
    this.dispatchEvent(new Event("select"));
  }

  selectAll() {
    this.sel = new Set(this.view);
    this.paint();
    this.dispatchEvent(new Event("select"));
  }

  scrollTo(i) {
    const top = i * ROW, b = this.body;
    if (top < b.scrollTop) b.scrollTop = top;
    else if (top + ROW > b.scrollTop + b.clientHeight) b.scrollTop = top + ROW - b.clientHeight;
  }

  key(e) {
    const page = Math.max(1, Math.floor(this.body.clientHeight / ROW) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    let to = null;
    if (e.key in moves) to = Math.min(this.view.length - 1, Math.max(0, this.cursor + moves[e.key]));
    else if (e.key === "Home") to = 0;
    else if (e.key === "End") to = this.view.length - 1;
    if (to !== null) {
      e.preventDefault();
      this.select(to, e.shiftKey, e.ctrlKey && !e.shiftKey ? false : e.ctrlKey);
      return;
    }
    if ((e.ctrlKey || e.metaKey) && e.key === "a") { e.preventDefault(); this.selectAll(); }
    else if (e.key === " " && this.cursor >= 0) { e.preventDefault(); this.select(this.cursor, false, true); }
    else if (e.key === "Enter" && this.cursor >= 0) this.dispatchEvent(new CustomEvent("open", { detail: this.view[this.cursor] }));
    else if (e.key === "Delete") this.dispatchEvent(new Event("delete"));
    else if (e.key === "ContextMenu") {
      const r = this.body.getBoundingClientRect();
      this.dispatchEvent(new CustomEvent("menu", { detail: { x: r.left + 40, y: r.top + (this.cursor * ROW - this.body.scrollTop) + ROW } }));
    }
  }

  selected() { return [...this.sel]; }
}
