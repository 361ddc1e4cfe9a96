// menu.js: one pop-up menu at a time (context menus, column chooser).
// items: [{label, run}] with null for a separator; keyboard: arrows, Escape.
import { el } from "./util.js";

let open = null;

export function closeMenu() {
  if (open) { open.remove(); open = null; }
}

export function openMenu(x, y, items) {
  closeMenu();
  const m = el("div", { class: "menu", role: "menu" });
  for (const it of items) {
    if (!it) { m.append(el("hr")); continue; }
    m.append(el("button", { type: "button", role: "menuitem", text: it.label, disabled: it.disabled,
      onclick: () => { closeMenu(); it.run(); } }));
  }
  m.addEventListener("keydown", (e) => {
    const bs = [...m.querySelectorAll("button:not(:disabled)")];
    const i = bs.indexOf(document.activeElement);
    if (e.key === "ArrowDown") { e.preventDefault(); bs[(i + 1) % bs.length].focus(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); bs[(i - 1 + bs.length) % bs.length].focus(); }
    else if (e.key === "Escape") closeMenu();
  });
  document.body.append(m);
  const r = m.getBoundingClientRect();
  m.style.left = Math.max(0, Math.min(x, innerWidth - r.width - 4)) + "px";
  m.style.top = Math.max(0, Math.min(y, innerHeight - r.height - 4)) + "px";
  open = m;
  const b = m.querySelector("button");
  if (b) b.focus();
}

addEventListener("mousedown", (e) => { if (open && !open.contains(e.target)) closeMenu(); }, true);
