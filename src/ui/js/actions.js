// actions.js: what can be done to the selected torrents (toolbar, context
// menu, keyboard).  Every action goes through api.js; errors become toasts.
import { api } from "./api.js";
import { model, poke, markDeleting } from "./sync.js";
import { el, attempt, dialog, toast } from "./util.js";
import { tagsOf } from "./filters.js";

const done = (p) => p.then((r) => { poke(); return r; });
const run = (fn, msg) => attempt(() => done(fn()), msg);
const one = (hs) => model.torrents.get(hs[0]) || {};
const KiB = 1024;

async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    toast(`Copied ${what}`);
  } catch {
    // No clipboard permission (plain http on a LAN address): show it to copy by hand.
    dialog(`Copy ${what}`, [{ name: "v", label: what, type: "textarea", value: text, attrs: { readonly: true } }]);
  }
}

export async function deleteTorrents(hs) {
  if (!hs.length) return;
  const withFiles = el("input", { type: "checkbox", name: "files", id: "delfiles" });
  const names = hs.slice(0, 5).map((h) => model.torrents.get(h)?.name || h).join("\n") + (hs.length > 5 ? `\n… and ${hs.length - 5} more` : "");
  await dialog(`Delete ${hs.length} torrent${hs.length > 1 ? "s" : ""}`, [
    el("p", { class: "wrap", style: "white-space:pre-wrap", text: names }),
    el("label", {}, withFiles, " Also delete the files on disk"),
  ], () => {
    markDeleting(hs, true);
    return done(api.delete(hs, withFiles.checked)).catch((e) => { markDeleting(hs, false); throw e; });
  }, "Delete");
}

export function items(hs) {
  const t = one(hs);
  const n = hs.length;
  const limitDlg = (title, key, field) => dialog(title, [
    { name: "v", label: "KiB/s (0 = unlimited)", type: "number", value: Math.max(0, Math.round((t[field] || 0) / KiB)), attrs: { min: 0 } },
  ], (v) => done(api.act(key, hs, { limit: Math.round(+v.v * KiB) })));
  return [
    { label: "Start", run: () => run(() => api.act("start", hs)) },
    { label: "Stop", run: () => run(() => api.act("stop", hs)) },
    { label: "Force start", run: () => run(() => api.act("setForceStart", hs, { value: true })) },
    null,
    { label: "Delete…", run: () => deleteTorrents(hs) },
    null,
    { label: "Set location…", run: () => dialog("Set location", [{ name: "loc", label: "New save path", value: t.save_path }],
      (v) => done(api.setLocation(hs, v.loc))) },
    { label: "Rename…", disabled: n !== 1, run: () => dialog("Rename torrent", [{ name: "name", label: "Name", value: t.name }],
      (v) => done(api.rename(hs[0], v.name))) },
    { label: "Category…", run: () => dialog("Set category", [{ name: "c", label: "Category", type: "select", value: t.category || "",
      options: [["", "(none)"], ...Object.keys(model.categories).sort()] }], (v) => done(api.setCategory(hs, v.c))) },
    { label: "Tags…", run: () => tagsDialog(hs) },
    null,
    { label: "Download limit…", run: () => limitDlg("Download limit", "setDownloadLimit", "dl_limit") },
    { label: "Upload limit…", run: () => limitDlg("Upload limit", "setUploadLimit", "up_limit") },
    { label: "Share limits…", run: () => dialog("Share limits", [
      el("p", { class: "muted", text: "-2 = use the global limit, -1 = no limit" }),
      { name: "r", label: "Ratio", type: "number", value: t.ratio_limit ?? -2, attrs: { step: "0.01", min: -2 } },
      { name: "s", label: "Seeding time (minutes)", type: "number", value: t.seeding_time_limit ?? -2, attrs: { min: -2 } },
      { name: "i", label: "Inactive seeding time (minutes)", type: "number", value: t.inactive_seeding_time_limit ?? -2, attrs: { min: -2 } },
    ], (v) => done(api.setShareLimits(hs, v.r, v.s, v.i))) },
    null,
    { label: "Force recheck", run: () => run(() => api.act("recheck", hs)) },
    { label: "Force reannounce", run: () => run(() => api.act("reannounce", hs)) },
    null,
    { label: "Queue: move up", run: () => run(() => api.act("increasePrio", hs)) },
    { label: "Queue: move down", run: () => run(() => api.act("decreasePrio", hs)) },
    { label: "Queue: move to top", run: () => run(() => api.act("topPrio", hs)) },
    { label: "Queue: move to bottom", run: () => run(() => api.act("bottomPrio", hs)) },
    null,
    { label: (t.seq_dl ? "✓ " : "") + "Sequential download", run: () => run(() => api.act("toggleSequentialDownload", hs)) },
    { label: (t.f_l_piece_prio ? "✓ " : "") + "First and last pieces first", run: () => run(() => api.act("toggleFirstLastPiecePrio", hs)) },
    { label: (t.super_seeding ? "✓ " : "") + "Super seeding", run: () => run(() => api.act("setSuperSeeding", hs, { value: !t.super_seeding })) },
    null,
    { label: "Copy name", run: () => copy(hs.map((h) => model.torrents.get(h)?.name).join("\n"), "name") },
    { label: "Copy info hash", run: () => copy(hs.join("\n"), "info hash") },
    { label: "Copy magnet link", run: () => copy(hs.map((h) => model.torrents.get(h)?.magnet_uri).join("\n"), "magnet link") },
    { label: "Export .torrent", run: () => hs.forEach((h) => {
      const a = el("a", { href: api.exportUrl(h), download: (model.torrents.get(h)?.name || h) + ".torrent" });
      document.body.append(a); a.click(); a.remove();
    }) },
  ];
}

async function tagsDialog(hs) {
  const have = new Set(hs.flatMap((h) => tagsOf(model.torrents.get(h) || {})));
  const boxes = model.tags.slice().sort().map((tag) => {
    const b = el("input", { type: "checkbox", value: tag, checked: have.has(tag) });
    return el("label", {}, b, " " + tag);
  });
  const fresh = el("input", { name: "newtags", placeholder: "new tags, comma separated", "aria-label": "New tags" });
  await dialog("Tags", [el("div", { style: "display:grid;gap:4px" }, boxes.length ? boxes : el("span", { class: "muted", text: "No tags yet" })), fresh], async () => {
    const add = boxes.map((l) => l.firstChild).filter((b) => b.checked && !have.has(b.value)).map((b) => b.value);
    const del = boxes.map((l) => l.firstChild).filter((b) => !b.checked && have.has(b.value)).map((b) => b.value);
    const extra = fresh.value.split(",").map((s) => s.trim()).filter(Boolean);
    if (add.length || extra.length) await api.addTags(hs, [...add, ...extra].join(","));
    if (del.length) await api.removeTags(hs, del.join(","));
    poke();
  });
}
