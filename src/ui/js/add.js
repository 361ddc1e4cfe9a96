// add.js: the add dialog (.torrent files by picker or drag-and-drop, magnet
// links and URLs, the add options, a directory browser for the save path).
// For magnet links that start at once, a second dialog lists each one's
// files with their priorities as soon as its metadata arrives, as
// qBittorrent's WebUI does.
import { api } from "./api.js";
import { model, poke } from "./sync.js";
import { el, store, toast, attempt, size } from "./util.js";

const PRIOS = [[0, "Do not download"], [1, "Normal"], [6, "High"], [7, "Maximum"]];

// The v1 info hash of a magnet link (hex or base32, lower-case hex out), or null.
export function magnetHash(link) {
  const m = /[?&]xt=urn:btih:([0-9a-z]+)/i.exec(link);
  if (!m) return null;
  const v = m[1];
  if (/^[0-9a-f]{40}$/i.test(v)) return v.toLowerCase();
  if (!/^[a-z2-7]{32}$/i.test(v)) return null;
  let bits = "";
  for (const ch of v.toUpperCase()) bits += "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".indexOf(ch).toString(2).padStart(5, "0");
  return bits.match(/.{4}/g).map((b) => parseInt(b, 2).toString(16)).join("");
}

// One section per magnet: "waiting" until torrents/files has entries, then
// its files with a priority each (set at once with torrents/filePrio).
function watchMetadata(hashes) {
  const d = el("dialog", { "aria-label": "Files of the added magnet links", id: "metadialog" });
  const parts = hashes.map((h) => {
    const title = el("h3", { text: model.torrents.get(h)?.name || h });
    const body = el("p", { class: "muted", text: "Waiting for the metadata…" });
    return { h, title, body, done: false, sec: el("section", { "data-hash": h }, title, body) };
  });
  let timer = null;
  const poll = async () => {
    timer = null;
    for (const p of parts.filter((x) => !x.done)) {
      // not in the sync model yet, or being deleted: asking now would be a 404
      if (!model.torrents.has(p.h) || model.deleting.has(p.h)) continue;
      let files;
      try { files = await api.files(p.h); } catch { continue; }
      if (!files || !files.length) continue;
      p.done = true;
      p.title.textContent = model.torrents.get(p.h)?.name || p.title.textContent;
      p.body.replaceWith(el("table", { class: "grid files" },
        el("thead", {}, el("tr", {}, ["Name", "Size", "Priority"].map((x) => el("th", { text: x })))),
        el("tbody", {}, files.map((f) => {
          const s = el("select", { "aria-label": "Priority of " + f.name, class: "prio" }, PRIOS.map(([v, t]) => el("option", { value: v, text: t })));
          s.value = String(f.priority === 4 ? 1 : f.priority);
          s.addEventListener("change", () => attempt(() => api.filePrio(p.h, [f.index], s.value)));
          return el("tr", { "data-file": f.name }, el("td", { class: "wrap", text: f.name }), el("td", { class: "num", text: size(f.size) }), el("td", {}, s));
        }))));
    }
    if (d.open && parts.some((x) => !x.done)) timer = setTimeout(poll, 1000);
  };
  d.append(el("form", { method: "dialog" }, el("h2", { text: "Files of the added magnet links" }),
    el("div", { class: "dbody" }, parts.map((p) => p.sec)),
    el("div", { class: "dfoot" }, el("button", { class: "primary", value: "close", text: "Close" }))));
  d.addEventListener("close", () => { if (timer) clearTimeout(timer); d.remove(); });
  document.body.append(d);
  d.showModal();
  poll();
}

async function browse(input) {
  const list = el("div", { class: "dirlist", role: "listbox", "aria-label": "Directories" });
  const here = el("strong");
  const show = async (dir) => {
    here.textContent = dir;
    list.replaceChildren(el("div", { class: "muted", text: "…" }));
    try {
      const dirs = await api.directoryContent(dir);
      const up = dir.replace(/\/+$/, "").replace(/\/[^/]*$/, "") || "/";
      list.replaceChildren(
        ...(dir !== "/" ? [el("div", { role: "option", text: "↑ ..", onclick: () => show(up) })] : []),
        ...dirs.sort().map((d) => el("div", { role: "option", text: d.replace(/.*\//, ""), onclick: () => show(d) })));
    } catch (e) {
      list.replaceChildren(el("div", { class: "err", text: e.message }));
    }
  };
  const d = el("dialog", { "aria-label": "Choose a directory" });
  d.append(el("form", { method: "dialog" }, el("h2", { text: "Choose a directory" }),
    el("div", { class: "dbody" }, here, list),
    el("div", { class: "dfoot" }, el("button", { value: "cancel", text: "Cancel" }),
      el("button", { class: "primary", type: "button", text: "Use this directory", onclick: () => { input.value = here.textContent; d.close(); } }))));
  d.addEventListener("close", () => d.remove());
  document.body.append(d);
  d.showModal();
  show(input.value || "/");
}

export async function openAdd(initialFiles = [], initialUrl = "") {
  const files = [...initialFiles];
  const opts = store.get("addopts", {});
  const fileList = el("ul", { class: "muted", "aria-label": "Chosen files" });
  const showFiles = () => fileList.replaceChildren(...files.map((f) => el("li", { text: f.name })));
  const picker = el("input", { type: "file", multiple: true, accept: ".torrent,application/x-bittorrent", "aria-label": "Torrent files", name: "torrentfiles" });
  picker.addEventListener("change", () => { files.push(...picker.files); showFiles(); });
  const drop = el("div", { class: "drop" }, "Drop .torrent files here or ", picker, fileList);
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); e.stopPropagation(); drop.classList.remove("over");
    files.push(...[...e.dataTransfer.files].filter((f) => /\.torrent$/i.test(f.name)));
    const text = e.dataTransfer.getData("text/plain");
    if (text) urls.value += (urls.value ? "\n" : "") + text;
    showFiles();
  });
  showFiles();
  const urls = el("textarea", { name: "urls", placeholder: "Magnet links, info hashes or URLs, one per line", "aria-label": "Magnet links or URLs" });
  const savepath = el("input", { name: "savepath", "aria-label": "Save path", style: "flex:1" });
  savepath.value = opts.savepath || model.server.default_save_path || "";
  if (!savepath.value) api.defaultSavePath().then((p) => { if (!savepath.value) savepath.value = p; }).catch(() => {});
  const category = el("select", { name: "category", "aria-label": "Category" },
    el("option", { value: "", text: "(none)" }), ...Object.keys(model.categories).sort().map((c) => el("option", { value: c, text: c })));
  category.addEventListener("change", () => {
    const c = model.categories[category.value];
    if (c && c.savePath) savepath.value = c.savePath;
  });
  const tags = el("input", { name: "tags", placeholder: "comma separated", "aria-label": "Tags", list: "taglist" });
  const layout = el("select", { name: "contentLayout", "aria-label": "Content layout" },
    ...[["Original", "Original"], ["Subfolder", "Create subfolder"], ["NoSubfolder", "Don't create subfolder"]].map(([v, t]) => el("option", { value: v, text: t })));
  layout.value = opts.contentLayout || "Original";
  const box = (name, label, on) => {
    const b = el("input", { type: "checkbox", name, checked: !!on });
    return [b, el("label", {}, b, " " + label)];
  };
  const [stopped, stoppedL] = box("stopped", "Start stopped", opts.stopped);
  const [skip, skipL] = box("skip_checking", "Skip hash check");
  const [seq, seqL] = box("sequentialDownload", "Sequential download");
  const [fl, flL] = box("firstLastPiecePrio", "First and last pieces first");
  const dl = el("input", { type: "number", min: 0, name: "dlLimit", placeholder: "∞", "aria-label": "Download limit KiB/s" });
  const ul = el("input", { type: "number", min: 0, name: "upLimit", placeholder: "∞", "aria-label": "Upload limit KiB/s" });
  const err = el("p", { class: "err", role: "alert" });
  const ok = el("button", { class: "primary", type: "submit", text: "Add" });
  const d = el("dialog", { "aria-label": "Add torrents", id: "adddialog" });
  const form = el("form", { method: "dialog" }, el("h2", { text: "Add torrents" }),
    el("div", { class: "dbody" }, drop, urls,
      el("label", { class: "f" }, "Save path", el("div", { style: "display:flex;gap:4px" }, savepath,
        el("button", { type: "button", text: "Browse…", onclick: () => browse(savepath) }))),
      el("div", { class: "row2" }, el("label", { class: "f" }, "Category", category), el("label", { class: "f" }, "Tags", tags)),
      el("datalist", { id: "taglist" }, model.tags.map((t) => el("option", { value: t }))),
      el("label", { class: "f" }, "Content layout", layout),
      el("div", { class: "row2" }, stoppedL, skipL, seqL, flL),
      el("div", { class: "row2" }, el("label", { class: "f" }, "Download limit (KiB/s)", dl), el("label", { class: "f" }, "Upload limit (KiB/s)", ul)),
      err),
    el("div", { class: "dfoot" }, el("button", { type: "button", text: "Cancel", onclick: () => d.close() }), ok));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!files.length && !urls.value.trim()) { err.textContent = "Choose a .torrent file or enter a link"; return; }
    const fd = new FormData();
    for (const f of files) fd.append("torrents", f, f.name);
    if (urls.value.trim()) fd.append("urls", urls.value.trim());
    if (savepath.value) fd.append("savepath", savepath.value);
    if (category.value) fd.append("category", category.value);
    if (tags.value.trim()) fd.append("tags", tags.value.trim());
    fd.append("stopped", stopped.checked);
    fd.append("skip_checking", skip.checked);
    fd.append("contentLayout", layout.value);
    fd.append("sequentialDownload", seq.checked);
    fd.append("firstLastPiecePrio", fl.checked);
    if (+dl.value > 0) fd.append("dlLimit", Math.round(+dl.value * 1024));
    if (+ul.value > 0) fd.append("upLimit", Math.round(+ul.value * 1024));
    ok.disabled = true;
    try {
      const r = await api.add(fd);
      if (r && r !== "Ok.") throw new Error(r);
      store.set("addopts", { savepath: savepath.value, contentLayout: layout.value, stopped: stopped.checked });
      d.close();
      toast("Added");
      poke();
      const magnets = stopped.checked ? [] : urls.value.split(/\s+/).map(magnetHash).filter(Boolean);
      if (magnets.length) watchMetadata([...new Set(magnets)]);
    } catch (e2) {
      err.textContent = e2.message;
    } finally {
      ok.disabled = false;
    }
  });
  d.append(form);
  d.addEventListener("close", () => d.remove());
  document.body.append(d);
  d.showModal();
  if (initialUrl) urls.value = initialUrl;
  urls.focus();
}
