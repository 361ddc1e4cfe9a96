// automation.js: the automation page (qbit_manage's commands run in-process:
// POST /api/run-command with the chosen commands and dry run, the run's stats
// JSON shown as the API answers it; POST /api/system/force-reset).
import { api } from "./api.js";
import { el, toast } from "./util.js";

const COMMANDS = [
  ["cat_update", "Update categories"], ["tag_update", "Update tags"], ["recheck", "Recheck / resume"],
  ["rem_unregistered", "Remove unregistered"], ["tag_tracker_error", "Tag tracker errors"],
  ["rem_orphaned", "Remove orphaned files"], ["tag_nohardlinks", "Tag no hard links"], ["share_limits", "Share limits"],
];

export function mountAutomation(page, onGone) {
  const boxes = COMMANDS.map(([k, label]) => {
    const b = el("input", { type: "checkbox", name: k, value: k });
    return [b, el("label", {}, b, " " + label + " ", el("code", { class: "muted", text: k }))];
  });
  const dry = el("input", { type: "checkbox", name: "dry_run", checked: true });
  const skip = el("input", { type: "checkbox", name: "skip_cleanup" });
  const cfg = el("input", { name: "config_file", placeholder: "config.yml (the automation_config_file preference)", "aria-label": "Config file" });
  const out = el("pre", { class: "json", id: "automation-result", "aria-live": "polite", "aria-label": "Result of the last run" });
  const err = el("p", { class: "err", role: "alert", id: "automation-err" });
  const run = el("button", { class: "primary", type: "submit", text: "Run" });

  // The API's own answer, as it gave it: a FastAPI-style {"detail": …} error
  // is shown as text, the rest as indented JSON.
  const shown = (e) => { try { const j = JSON.parse(e.message); return typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail ?? j, null, 2); } catch { return e.message; } };

  const form = el("form", { class: "card automation", "aria-label": "Run automation commands" },
    el("fieldset", {}, el("legend", { text: "Commands" }), el("div", { class: "checks" }, boxes.map((b) => b[1]))),
    el("div", { class: "rowtools" }, el("label", {}, dry, " Dry run (report, change nothing)"), el("label", {}, skip, " Skip cleanup")),
    el("label", { class: "f" }, "Config file", cfg),
    el("div", { class: "rowtools" }, run,
      el("button", { type: "button", text: "Force reset", "aria-label": "Force reset of the run in progress", onclick: async () => {
        err.textContent = "";
        try { const r = await api.forceReset(); toast(r.message); out.textContent = JSON.stringify(r, null, 2); } catch (e) { err.textContent = shown(e); }
      } })),
    err);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    const commands = boxes.filter(([b]) => b.checked).map(([b]) => b.value);
    if (!commands.length) { err.textContent = "Choose at least one command"; return; }
    const req = { commands, dry_run: dry.checked, skip_cleanup: skip.checked };
    if (cfg.value.trim()) req.config_file = cfg.value.trim();
    run.disabled = true;
    out.textContent = "Running…";
    try {
      const r = await api.runCommand(req);
      out.textContent = JSON.stringify(r, null, 2);
    } catch (e2) {
      out.textContent = "";
      if (e2.status === 404) onGone();
      err.textContent = shown(e2);
    } finally {
      run.disabled = false;
    }
  });
  page.append(el("h2", { text: "Automation" }),
    el("p", { class: "muted", text: "qbit_manage's commands, run inside torrentd on its config.yml. A dry run reports what would change." }),
    form, el("h3", { text: "Result" }), out);
  return {};
}
