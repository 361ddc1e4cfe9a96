// rss.js: the RSS page (rss/items with their articles; add, refresh, remove
// feeds; download an article's torrent through the add dialog).
import { api } from "./api.js";
import { el, attempt, dialog, date } from "./util.js";
import { openAdd } from "./add.js";

function flatten(node, path, out) {
  for (const [name, v] of Object.entries(node || {})) {
    const p = path ? path + "\\" + name : name;
    if (v && typeof v === "object" && "url" in v) out.push({ path: p, ...v });
    else flatten(v, p, out);
  }
  return out;
}

export function mountRss(page) {
  const feeds = el("ul", { class: "sidebar", style: "list-style:none;margin:0;padding:6px", "aria-label": "Feeds" });
  const arts = el("div");
  let current = null;
  page.append(el("div", { class: "rowtools" },
    el("button", { text: "Add feed…", onclick: () => dialog("Add RSS feed", [{ name: "u", label: "Feed URL" }, { name: "p", label: "Name (optional)" }],
      (v) => api.rssAddFeed(v.u, v.p || undefined).then(load)) }),
    el("button", { text: "Refresh all", onclick: () => attempt(() => api.rssRefresh("").then(load)) })),
  el("div", { style: "display:grid;grid-template-columns:minmax(160px,260px) 1fr;gap:10px" }, feeds, arts));
  async function load() {
    let items;
    try { items = flatten(await api.rssItems(), "", []); } catch (e) { arts.replaceChildren(el("p", { class: "err", text: e.message })); return; }
    feeds.replaceChildren(...items.map((f) => el("li", { class: current === f.path ? "active" : "", tabindex: 0, onclick: () => { current = f.path; load(); } },
      el("span", { text: `${f.title || f.path} (${(f.articles || []).filter((a) => !a.isRead).length})` }),
      el("button", { class: "x", "aria-label": "Remove feed " + f.path, text: "✕", onclick: (e) => { e.stopPropagation(); attempt(() => api.rssRemove(f.path).then(load)); } }))));
    const f = items.find((x) => x.path === current) || items[0];
    if (!f) { arts.replaceChildren(el("p", { class: "muted", text: "No feeds yet" })); return; }
    arts.replaceChildren(el("h2", { text: f.title || f.path }), el("table", { class: "grid" }, el("tbody", {}, (f.articles || []).map((a) =>
      el("tr", {}, el("td", { class: "wrap", text: a.title }), el("td", { text: a.date ? date(Date.parse(a.date) / 1000) : "" }),
        el("td", {}, a.torrentURL && el("button", { text: "Download", "aria-label": "Download " + a.title, onclick: () => openAdd([], a.torrentURL) })))))));
  }
  return { show: load };
}
