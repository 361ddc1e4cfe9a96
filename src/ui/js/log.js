// log.js: the log page (log/main, incremental by last_known_id, level filters).
import { api } from "./api.js";
import { el } from "./util.js";

const LEVELS = [["normal", "Normal", 1], ["info", "Info", 2], ["warning", "Warning", 4], ["critical", "Critical", 8]];

export function mountLog(page) {
  const on = { normal: true, info: true, warning: true, critical: true };
  let lastId = -1, entries = [], timer = null, text = "";
  const list = el("table", { class: "grid log" });
  const search = el("input", { type: "search", placeholder: "Filter messages", "aria-label": "Filter log messages",
    oninput: () => { text = search.value.toLowerCase(); draw(); } });
  const boxes = LEVELS.map(([k, l]) => {
    const b = el("input", { type: "checkbox", checked: true, onchange: () => { on[k] = b.checked; lastId = -1; entries = []; load(); } });
    return el("label", {}, b, " " + l);
  });
  page.append(el("div", { class: "rowtools" }, boxes, search), list);
  function draw() {
    const rows = entries.filter((e) => !text || e.message.toLowerCase().includes(text)).slice(-2000).reverse();
    list.replaceChildren(el("tbody", {}, rows.map((e) => el("tr", { class: "t" + e.type },
      el("td", { text: new Date(e.timestamp * (e.timestamp > 1e12 ? 1 : 1000)).toLocaleString() }), el("td", { class: "wrap", text: e.message })))));
  }
  async function load() {
    try {
      const got = await api.log(lastId, on);
      if (got.length) {
        entries.push(...got);
        if (entries.length > 10000) entries = entries.slice(-10000);
        lastId = got[got.length - 1].id;
        draw();
      } else if (!entries.length) draw();
    } catch (e) {
      list.replaceChildren(el("caption", { class: "err", text: e.message }));
    }
  }
  return {
    show() { load(); clearInterval(timer); timer = setInterval(load, 3000); },
    hide() { clearInterval(timer); },
  };
}
