// statusbar.js: speeds (with limits and the speed graph), alternative speed
// toggle, totals, DHT nodes, free space, connection status.
import { api } from "./api.js";
import { model, events, poke } from "./sync.js";
import { el, size, speed, limit, attempt, dialog } from "./util.js";
import { drawSpeeds } from "./graph.js";

export function mountStatus(bar) {
  const conn = el("span", { id: "conn", role: "status" });
  const dht = el("span");
  const free = el("span");
  const totals = el("span");
  const down = el("button", { class: "icon down", "aria-label": "Global download limit", id: "dlbtn" });
  const up = el("button", { class: "icon up", "aria-label": "Global upload limit", id: "ulbtn" });
  const alt = el("button", { "aria-label": "Alternative speed limits", "aria-pressed": "false", id: "altbtn", text: "Alt speed",
    onclick: () => attempt(() => api.toggleAltSpeed().then(poke)) });
  const canvas = el("canvas", { role: "img", "aria-label": "Transfer speed over the last minutes", id: "speedgraph" });
  // The small graph opens a large one (the last five minutes, live).
  const graphBtn = el("button", { class: "icon", "aria-label": "Show the transfer speed graph", id: "graphbtn", onclick: () => {
    const big = el("canvas", { class: "graph", style: "height:260px", role: "img", "aria-label": "Download and upload speed, last five minutes" });
    const legend = el("p", { class: "muted" });
    const d = el("dialog", { "aria-label": "Transfer speed" }, el("form", { method: "dialog" }, el("h2", { text: "Transfer speed" }),
      el("div", { class: "dbody" }, big, legend), el("div", { class: "dfoot" }, el("button", { class: "primary", text: "Close" }))));
    const redraw = () => {
      drawSpeeds(big, model.history);
      legend.textContent = `Down ${speed(model.server.dl_info_speed) || "0 B/s"} (blue) · Up ${speed(model.server.up_info_speed) || "0 B/s"} (green) · ${model.history.length} samples`;
    };
    events.addEventListener("change", redraw);
    d.addEventListener("close", () => { events.removeEventListener("change", redraw); d.remove(); });
    document.body.append(d);
    d.showModal();
    redraw();
  } }, canvas, el("span", { class: "phone-only", text: "Graph" }));
  const limDlg = (title, cur, fn) => dialog(title, [{ name: "v", label: "KiB/s (0 = unlimited)", type: "number", value: Math.round((cur || 0) / 1024), attrs: { min: 0 } }],
    (v) => fn(Math.round(+v.v * 1024)).then(poke));
  down.addEventListener("click", () => limDlg("Global download limit", model.server.dl_rate_limit, api.setGlobalDownloadLimit));
  up.addEventListener("click", () => limDlg("Global upload limit", model.server.up_rate_limit, api.setGlobalUploadLimit));
  bar.append(conn, dht, free, totals, el("span", { class: "grow" }), graphBtn, alt, down, up);
  const draw = () => {
    const s = model.server;
    conn.textContent = model.connected ? (s.connection_status || "connected") : "offline";
    conn.className = "conn-" + (model.connected ? s.connection_status : "disconnected");
    dht.textContent = `DHT: ${s.dht_nodes ?? 0} nodes`;
    free.textContent = s.free_space_on_disk !== undefined ? `Free: ${size(s.free_space_on_disk)}` : "";
    totals.textContent = `${model.torrents.size} torrents · ↓ ${size(s.dl_info_data || 0)} ↑ ${size(s.up_info_data || 0)}`;
    down.textContent = `↓ ${speed(s.dl_info_speed) || "0 B/s"} [${limit(s.dl_rate_limit)}]`;
    up.textContent = `↑ ${speed(s.up_info_speed) || "0 B/s"} [${limit(s.up_rate_limit)}]`;
    alt.setAttribute("aria-pressed", String(!!s.use_alt_speed_limits));
    alt.style.opacity = s.use_alt_speed_limits ? 1 : 0.45;
    drawSpeeds(canvas, model.history, { axis: false });
  };
  events.addEventListener("change", draw);
  events.addEventListener("offline", draw);
  draw();
}
