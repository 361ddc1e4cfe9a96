// util.js: DOM helpers, formatting, remembered settings, toasts and dialogs.

export function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k in e && typeof v !== "string") e[k] = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
export function size(n) {
  if (n === undefined || n === null || n < 0) return "";
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(n < 10 ? 2 : 1) : n) + " " + UNITS[i];
}
export const speed = (n) => (n ? size(n) + "/s" : "");
export const limit = (n) => (n > 0 ? size(n) + "/s" : "∞");
export const pct = (p) => (p >= 1 ? "100 %" : (Math.floor(p * 1000) / 10).toFixed(1) + " %");
export const ratio = (r) => (r < 0 ? "∞" : r >= 9999 ? "∞" : (r || 0).toFixed(2));
export function eta(s) {
  if (s === undefined || s < 0 || s >= 8640000) return "∞";
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
  if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
  return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
}
export const date = (t) => (t > 0 ? new Date(t * 1000).toLocaleString() : "");

export const store = {
  get(k, dflt) {
    try { const v = localStorage.getItem("td." + k); return v === null ? dflt : JSON.parse(v); } catch { return dflt; }
  },
  set(k, v) { try { localStorage.setItem("td." + k, JSON.stringify(v)); } catch { /* private mode */ } },
};

export function toast(msg, bad) {
  const t = el("div", { class: "toast" + (bad ? " bad" : ""), text: msg });
  document.getElementById("toasts").append(t);
  setTimeout(() => t.remove(), bad ? 8000 : 3500);
}

// Runs fn, reporting an API error as a toast; resolves to fn's result or undefined.
export async function attempt(fn, okMsg) {
  try {
    const r = await fn();
    if (okMsg) toast(okMsg);
    return r;
  } catch (e) {
    toast(e.message, true);
    return undefined;
  }
}

// A modal form.  fields: [{name, label, type, value, options, attrs}] or DOM nodes.
// submit(values) may throw: its message is shown in the dialog, which stays open.
export function dialog(title, fields, submit, okText = "OK") {
  return new Promise((resolve) => {
    const err = el("p", { class: "err", role: "alert" });
    const body = el("div", { class: "dbody" });
    const inputs = {};
    for (const f of fields) {
      if (f instanceof Node) { body.append(f); continue; }
      let input;
      if (f.type === "select") {
        input = el("select", { name: f.name }, f.options.map((o) =>
          el("option", { value: Array.isArray(o) ? o[0] : o, text: Array.isArray(o) ? o[1] : o })));
        input.value = f.value ?? "";
      } else if (f.type === "textarea") {
        input = el("textarea", { name: f.name, ...(f.attrs || {}) });
        input.value = f.value ?? "";
      } else if (f.type === "checkbox") {
        input = el("input", { type: "checkbox", name: f.name, checked: !!f.value });
      } else {
        input = el("input", { type: f.type || "text", name: f.name, ...(f.attrs || {}) });
        input.value = f.value ?? "";
      }
      inputs[f.name] = input;
      body.append(f.type === "checkbox" ? el("label", {}, input, " " + f.label)
        : el("label", { class: "f" }, f.label, input));
    }
    body.append(err);
    const d = el("dialog", { "aria-label": title });
    const cancel = el("button", { type: "button", text: "Cancel", onclick: () => d.close() });
    const ok = el("button", { type: "submit", class: "primary", text: okText });
    const f = el("form", { method: "dialog" }, el("h2", { text: title }), body, el("div", { class: "dfoot" }, cancel, ok));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const vals = {};
      for (const [k, i] of Object.entries(inputs)) vals[k] = i.type === "checkbox" ? i.checked : i.value;
      ok.disabled = true;
      try {
        const r = submit ? await submit(vals) : vals;
        d.close();
        resolve(r === undefined ? vals : r);
      } catch (e) {
        err.textContent = e.message;
      } finally {
        ok.disabled = false;
      }
    });
    d.append(f);
    d.addEventListener("close", () => { d.remove(); resolve(null); });
    document.body.append(d);
    d.showModal();
    const first = body.querySelector("input,select,textarea");
    if (first) first.focus();
  });
}

export const confirmDialog = (title, text, extra = []) =>
  dialog(title, [el("p", { text }), ...extra], null, "Confirm");
