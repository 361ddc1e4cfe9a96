// api.js: the only module that knows torrentd's URLs (qBittorrent WebUI API v2).
// Every call returns a promise; a non-2xx reply rejects with ApiError, whose
// message is the API's own text (shown to the user as is).  A 403 on any call
// but login means the session is gone: listeners of "unauthorized" go to login.

const BASE = "api/v2/";

export class ApiError extends Error {
  constructor(status, text, path) {
    super(text || `HTTP ${status}`);
    this.status = status;
    this.path = path;
  }
}

export const events = new EventTarget();

function form(params) {
  const f = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null) continue;
    f.append(k, Array.isArray(v) ? v.join("|") : String(v));
  }
  return f;
}

async function call(path, { params, body, method, as = "json", base = BASE, json } = {}) {
  let url = base + path;
  const init = { method: method || (body ? "POST" : "GET"), credentials: "same-origin" };
  if (params) url += "?" + form(params);
  if (body) init.body = body instanceof FormData ? body : form(body);
  if (json !== undefined) {   // the automation and operations APIs take JSON bodies
    init.body = JSON.stringify(json);
    init.headers = { "Content-Type": "application/json" };
  }
  let r;
  try {
    r = await fetch(url, init);
  } catch (e) {
    events.dispatchEvent(new CustomEvent("offline", { detail: e }));
    throw new ApiError(0, "torrentd is not reachable", path);
  }
  if (!r.ok) {
    const text = (await r.text()).trim();
    if (r.status === 403 && path !== "auth/login")
      events.dispatchEvent(new Event("unauthorized"));
    throw new ApiError(r.status, text, path);
  }
  if (as === "text") return (await r.text()).trim();
  if (as === "blob") return r.blob();
  const t = await r.text();
  return t ? JSON.parse(t) : null;
}
const post = (path, body, as = "text") => call(path, { body: body || {}, method: "POST", as });
const get = (path, params) => call(path, { params });
const hashes = (h) => (Array.isArray(h) ? h.join("|") : h);

export const api = {
  // auth and app
  async login(username, password) {
    const t = await post("auth/login", { username, password });
    if (t !== "Ok.") throw new ApiError(200, t || "Login failed", "auth/login");
  },
  logout: () => post("auth/logout"),
  version: () => call("app/version", { as: "text" }),
  webapiVersion: () => call("app/webapiVersion", { as: "text" }),
  preferences: () => get("app/preferences"),
  setPreferences: (p) => post("app/setPreferences", { json: JSON.stringify(p) }),
  defaultSavePath: () => call("app/defaultSavePath", { as: "text" }),
  directoryContent: (dirPath) => get("app/getDirectoryContent", { dirPath, mode: "dirs" }),
  // sync
  maindata: (rid) => get("sync/maindata", { rid }),
  torrentPeers: (hash, rid) => get("sync/torrentPeers", { hash, rid }),
  // transfer
  toggleAltSpeed: () => post("transfer/toggleSpeedLimitsMode"),
  setGlobalDownloadLimit: (limit) => post("transfer/setDownloadLimit", { limit }),
  setGlobalUploadLimit: (limit) => post("transfer/setUploadLimit", { limit }),
  banPeers: (peers) => post("transfer/banPeers", { peers: peers.join("|") }),
  // one torrent
  properties: (hash) => get("torrents/properties", { hash }),
  trackers: (hash) => get("torrents/trackers", { hash }),
  addTrackers: (hash, urls) => post("torrents/addTrackers", { hash, urls: urls.join("\n") }),
  editTracker: (hash, origUrl, newUrl) => post("torrents/editTracker", { hash, origUrl, newUrl }),
  removeTrackers: (hash, urls) => post("torrents/removeTrackers", { hash, urls: urls.join("|") }),
  addPeers: (h, peers) => post("torrents/addPeers", { hashes: hashes(h), peers: peers.join("|") }),
  files: (hash) => get("torrents/files", { hash }),
  filePrio: (hash, ids, priority) => post("torrents/filePrio", { hash, id: ids.join("|"), priority }),
  renameFile: (hash, oldPath, newPath) => post("torrents/renameFile", { hash, oldPath, newPath }),
  renameFolder: (hash, oldPath, newPath) => post("torrents/renameFolder", { hash, oldPath, newPath }),
  webseeds: (hash) => get("torrents/webseeds", { hash }),
  addWebSeeds: (hash, urls) => post("torrents/addWebSeeds", { hash, urls: urls.join("|") }),
  removeWebSeeds: (hash, urls) => post("torrents/removeWebSeeds", { hash, urls: urls.join("|") }),
  pieceStates: (hash) => get("torrents/pieceStates", { hash }),
  rename: (hash, name) => post("torrents/rename", { hash, name }),
  exportUrl: (hash) => BASE + "torrents/export?" + form({ hash }),
  // adding
  add: (fd) => call("torrents/add", { body: fd, method: "POST", as: "text" }),
  // the selection
  act: (name, h, extra) => post("torrents/" + name, { hashes: hashes(h), ...(extra || {}) }),
  delete: (h, deleteFiles) => post("torrents/delete", { hashes: hashes(h), deleteFiles }),
  setLocation: (h, location) => post("torrents/setLocation", { hashes: hashes(h), location }),
  setCategory: (h, category) => post("torrents/setCategory", { hashes: hashes(h), category }),
  addTags: (h, tags) => post("torrents/addTags", { hashes: hashes(h), tags }),
  removeTags: (h, tags) => post("torrents/removeTags", { hashes: hashes(h), tags }),
  setShareLimits: (h, ratioLimit, seedingTimeLimit, inactiveSeedingTimeLimit) =>
    post("torrents/setShareLimits", { hashes: hashes(h), ratioLimit, seedingTimeLimit, inactiveSeedingTimeLimit }),
  // categories and tags
  createCategory: (category, savePath) => post("torrents/createCategory", { category, savePath }),
  editCategory: (category, savePath) => post("torrents/editCategory", { category, savePath }),
  removeCategories: (names) => post("torrents/removeCategories", { categories: names.join("\n") }),
  createTags: (tags) => post("torrents/createTags", { tags }),
  deleteTags: (tags) => post("torrents/deleteTags", { tags }),
  // log
  log: (lastKnownId, levels) => get("log/main", { last_known_id: lastKnownId, ...levels }),
  // RSS
  rssItems: () => get("rss/items", { withData: true }),
  rssAddFeed: (url, path) => post("rss/addFeed", { url, path }),
  rssRemove: (path) => post("rss/removeItem", { path }),
  rssRefresh: (itemPath) => post("rss/refreshItem", { itemPath }),
  rssRules: () => get("rss/rules"),
  // search
  searchPlugins: () => get("search/plugins"),
  searchStart: (pattern, plugins, category) => post("search/start", { pattern, plugins, category }, "json"),
  searchStop: (id) => post("search/stop", { id }),
  searchResults: (id, offset) => get("search/results", { id, offset, limit: 500 }),
  searchDelete: (id) => post("search/delete", { id }),
  // automation (qbit_manage's API, outside api/v2; a WebUI session is accepted)
  runCommand: (req) => call("run-command", { base: "api/", method: "POST", json: req }),
  forceReset: () => call("system/force-reset", { base: "api/", method: "POST", json: {} }),
  // operations (qBitrr's API, outside api/v2; a WebUI session is accepted)
  health: () => call("health", { base: "api/" }),
  processes: () => call("processes", { base: "api/" }),
  restartProcess: (name) => call("processes/" + encodeURIComponent(name) + "/restart", { base: "api/", method: "POST" }),
  metricsUrl: () => "metrics",
  // Is a page's API there?  (a 404 hides the page; anything else shows it)
  async has(path) {
    try { await get(path); return true; } catch (e) { return e.status !== 404; }
  },
};
