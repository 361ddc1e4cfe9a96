// ops.js: the operations page (GET /api/health, the subsystems of
// GET /api/processes with their restart buttons, a link to /metrics).
// Refreshed every 5 s while shown.
import { api } from "./api.js";
import { el, attempt, eta } from "./util.js";

export function mountOps(page) {
  const status = el("p", { id: "ops-status", role: "status" });
  const problems = el("ul", { class: "err" });
  const health = el("pre", { class: "json", id: "ops-health", "aria-label": "Health checks" });
  const procs = el("tbody");
  const err = el("p", { class: "err", role: "alert" });
  let timer = null;
  page.append(el("h2", { text: "Operations" }),
    el("div", { class: "rowtools" }, el("a", { href: api.metricsUrl(), target: "_blank", rel: "noopener", id: "metrics-link", text: "Prometheus metrics (/metrics)" })),
    el("h3", { text: "Health" }), status, problems, err,
    el("h3", { text: "Subsystems" }),
    el("table", { class: "grid", id: "ops-processes" }, el("thead", {}, el("tr", {}, ["Name", "Status", "Up for", ""].map((x) => el("th", { text: x })))), procs),
    el("details", {}, el("summary", { text: "All health checks (JSON)" }), health));

  async function load() {
    try {
      const [h, p] = await Promise.all([api.health(), api.processes()]);
      err.textContent = "";
      status.textContent = "Status: " + h.status;
      status.className = h.status === "ok" ? "ok" : "warn";
      problems.replaceChildren(...(h.problems || []).map((x) => el("li", { text: x })));
      health.textContent = JSON.stringify(h.checks, null, 2);
      procs.replaceChildren(...p.processes.map((x) => el("tr", { "data-process": x.name }, el("td", { text: x.name }), el("td", { text: x.status }),
        el("td", { text: x.alive ? eta(x.uptime) : "" }),
        // a stopped subsystem (disabled in the preferences) is not restarted: the API answers 409
        el("td", {}, x.restartable && x.alive && el("button", { text: "Restart", "aria-label": "Restart " + x.name,
          onclick: () => attempt(() => api.restartProcess(x.name).then(load), "Restarted " + x.name) })))));
    } catch (e) {
      err.textContent = e.message;
    }
  }
  return {
    show() { load(); clearInterval(timer); timer = setInterval(() => { if (!document.hidden) load(); }, 5000); },
    hide() { clearInterval(timer); timer = null; },
  };
}
