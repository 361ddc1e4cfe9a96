// main.js: start-up, login, the page router (#/torrents, #/settings/<group>,
// #/log, #/rss, #/search, #/automation, #/ops) and the theme.  Pages whose
// API answers 404 are hidden.  app_instance_name (a preference) goes in the
// title and the header, as qBittorrent's WebUI puts it in its title.
import { api, events as apiEvents } from "./api.js";
import * as sync from "./sync.js";
import { store } from "./util.js";
import { mountTorrents } from "./torrents.js";
import { mountSettings } from "./settings.js";
import { mountLog } from "./log.js";
import { mountRss } from "./rss.js";
import { mountSearch } from "./search.js";
import { mountStatus } from "./statusbar.js";
import { mountAutomation } from "./automation.js";
import { mountOps } from "./ops.js";

const $ = (id) => document.getElementById(id);
const pages = {};
let mounted = false, torrentsView = null, version = "";

// "torrentd <version> — <instance name>" (qBittorrent: "qBittorrent <v> WebUI — <name>").
function instanceName(name) {
  document.title = "torrentd" + (version ? " " + version : "") + (name ? " — " + name : "");
  $("instance").textContent = name ? " — " + name : "";
}
const navLink = (p) => document.querySelector(`nav a[data-page=${p}]`);

function theme(t) {
  document.documentElement.dataset.theme = t;
  store.set("theme", t);
}
theme(store.get("theme", matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));

function showLogin(message) {
  sync.stop();
  $("app").hidden = true;
  $("login").hidden = false;
  $("loginerr").textContent = message || "";
  $("loginform").username.focus();
}

async function showApp() {
  $("login").hidden = true;
  $("app").hidden = false;
  if (!mounted) {
    mounted = true;
    torrentsView = mountTorrents($("page-torrents"));
    pages.settings = mountSettings($("page-settings"));
    pages.log = mountLog($("page-log"));
    pages.rss = mountRss($("page-rss"));
    pages.search = mountSearch($("page-search"));
    mountStatus($("status"));
    pages.automation = mountAutomation($("page-automation"), () => { navLink("automation").hidden = true; });
    pages.ops = mountOps($("page-ops"));
    for (const [p, probe] of [["rss", "rss/items"], ["search", "search/plugins"]])
      api.has(probe).then((ok) => { navLink(p).hidden = !ok; });
    // /api/health (public) is the operations API's probe.  run-command
    // answers only POST (a probe would run something, or log a failed
    // request): the automation layer is there when health reports on it.
    api.health().then((h) => {
      navLink("ops").hidden = false;
      navLink("automation").hidden = !h?.checks?.automation;
    }, () => {});   // 404: neither page
    Promise.all([api.version().catch(() => ""), api.preferences().catch(() => ({}))]).then(([v, prefs]) => {
      version = v;
      instanceName(prefs.app_instance_name || "");
    });
  }
  sync.start();
  route();
}

let currentPage = null;
function route() {
  const [, page = "torrents", sub] = location.hash.split("/");
  const name = $("page-" + page) ? page : "torrents";
  if (currentPage && currentPage !== name && pages[currentPage]?.hide) pages[currentPage].hide();
  for (const s of document.querySelectorAll(".page")) s.hidden = s.id !== "page-" + name;
  for (const a of document.querySelectorAll("#nav a")) {
    a.classList.toggle("active", a.dataset.page === name);
    if (a.dataset.page === name) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  currentPage = name;
  if (pages[name]?.show) pages[name].show(sub);
}

$("loginform").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = e.target;
  const b = f.querySelector("button");
  b.disabled = true;
  try {
    await api.login(f.username.value, f.password.value);
    store.set("session", true);
    f.password.value = "";
    showApp();
  } catch (err) {
    $("loginerr").textContent = err.message;
  } finally {
    b.disabled = false;
  }
});
$("logout").addEventListener("click", async () => {
  store.set("session", false);
  try { await api.logout(); } catch { /* gone anyway */ }
  location.hash = "";
  location.reload();
});
$("theme").addEventListener("click", () => theme(document.documentElement.dataset.theme === "dark" ? "light" : "dark"));
// On a phone the filters are a drawer, opened from the header.
$("navtoggle").addEventListener("click", () => {
  if (currentPage !== "torrents") location.hash = "#/torrents";
  torrentsView.toggleSide();
  $("navtoggle").setAttribute("aria-expanded", String(torrentsView.side.classList.contains("open")));
});
addEventListener("hashchange", route);
apiEvents.addEventListener("preferences", (e) => instanceName(e.detail.app_instance_name || ""));
apiEvents.addEventListener("unauthorized", () => { store.set("session", false); showLogin("Your session has ended: log in again."); });

// A session cookie may still be valid (it is HttpOnly: unreadable here).  Ask
// only if this browser logged in before, so a first visit makes no request
// that fails with 403.
(async () => {
  if (!store.get("session", false)) { showLogin(""); return; }
  try {
    await api.webapiVersion();
    showApp();
  } catch (e) {
    store.set("session", false);
    showLogin(e.status === 403 ? "" : e.message);
  }
})();
