// search.js: the search page (search/start, results polled until the job
// stops; a result's link goes to the add dialog).
import { api } from "./api.js";
import { el, size, attempt } from "./util.js";
import { openAdd } from "./add.js";

export function mountSearch(page) {
  const q = el("input", { type: "search", placeholder: "Search for torrents", "aria-label": "Search pattern", style: "flex:1" });
  const plug = el("select", { "aria-label": "Search plugins" }, el("option", { value: "enabled", text: "All enabled plugins" }));
  const status = el("span", { class: "muted", role: "status" });
  const results = el("div");
  let id = null, timer = null, rows = [];
  const form = el("form", { class: "rowtools", onsubmit: async (e) => {
    e.preventDefault();
    if (id !== null) { await api.searchStop(id).catch(() => {}); }
    rows = [];
    const r = await attempt(() => api.searchStart(q.value, plug.value, "all"));
    if (!r) return;
    id = r.id;
    clearInterval(timer);
    timer = setInterval(poll, 1000);
  } }, q, plug, el("button", { class: "primary", text: "Search" }), status);
  page.append(form, results);
  async function poll() {
    try {
      const r = await api.searchResults(id, rows.length);
      rows.push(...r.results);
      status.textContent = `${r.status}: ${r.total} results`;
      if (r.status !== "Running") clearInterval(timer);
      results.replaceChildren(el("table", { class: "grid" }, el("thead", {}, el("tr", {}, ["Name", "Size", "Seeds", "Leechers", "Engine", ""].map((x) => el("th", { text: x })))),
        el("tbody", {}, rows.slice(0, 1000).map((x) => el("tr", {}, el("td", { class: "wrap", text: x.fileName }), el("td", { class: "num", text: size(x.fileSize) }),
          el("td", { class: "num", text: x.nbSeeders }), el("td", { class: "num", text: x.nbLeechers }), el("td", { text: x.siteUrl }),
          el("td", {}, el("button", { text: "Download", "aria-label": "Download " + x.fileName, onclick: () => openAdd([], x.fileUrl) })))))));
    } catch (e) { clearInterval(timer); status.textContent = e.message; }
  }
  return {
    async show() {
      try {
        const ps = await api.searchPlugins();
        plug.replaceChildren(el("option", { value: "enabled", text: "All enabled plugins" }), ...ps.filter((p) => p.enabled).map((p) => el("option", { value: p.name, text: p.fullName || p.name })));
        if (!ps.length) status.textContent = "No search plugins installed";
      } catch (e) { status.textContent = e.message; }
    },
  };
}
