// settings.js: the preference pages (qBittorrent's groups).  A field is shown
// only if app/preferences has its key; the page sends only changed keys, and
// if the API refuses the batch, each key alone, so its message lands next to
// the field that caused it.  Keys of no group are listed under "Other".
import { api, events as apiEvents } from "./api.js";
import { el, toast } from "./util.js";

const KiB = 1024;
const sel = (...o) => ({ type: "select", options: o });
const LAYOUT = sel(["Original", "Original"], ["Subfolder", "Create subfolder"], ["NoSubfolder", "Don't create subfolder"]);
const num = (min, max) => ({ type: "number", min, max });
const kib = { type: "kib" };

const GROUPS = [
  ["downloads", "Downloads", [
    ["Adding", [["torrent_content_layout", "Content layout", LAYOUT], ["add_stopped_enabled", "Add torrents stopped"], ["start_paused_enabled", "Add torrents paused"],
      ["add_to_top_of_queue", "Add to top of queue"], ["preallocate_all", "Pre-allocate disk space"], ["incomplete_files_ext", "Append .!qB to incomplete files"],
      ["merge_trackers", "Merge trackers of an existing torrent"]]],
    ["Saving", [["auto_tmm_enabled", "Default torrent management: automatic"], ["save_path", "Default save path"], ["temp_path_enabled", "Keep incomplete torrents in"],
      ["temp_path", "Incomplete path"], ["export_dir", "Copy .torrent files to"], ["export_dir_fin", "Copy .torrent files of finished downloads to"],
      ["excluded_file_names_enabled", "Exclude file names"], ["excluded_file_names", "Excluded file names", { type: "textarea" }]]],
    ["Run on completion", [["autorun_on_torrent_added_enabled", "Run on torrent added"], ["autorun_on_torrent_added_program", "Program (added)"],
      ["autorun_enabled", "Run on torrent finished"], ["autorun_program", "Program (finished)"]]],
    ["E-mail notification", [["mail_notification_enabled", "Send an e-mail when a download finishes"], ["mail_notification_email", "To"],
      ["mail_notification_sender", "From"], ["mail_notification_smtp", "SMTP server"], ["mail_notification_ssl_enabled", "SMTP uses SSL"],
      ["mail_notification_auth_enabled", "SMTP authentication"], ["mail_notification_username", "Username"], ["mail_notification_password", "Password", { type: "password" }]]],
  ]],
  ["connection", "Connection", [
    ["Listening", [["listen_port", "Port for incoming connections", num(0, 65535)], ["random_port", "Random port on start"], ["upnp", "UPnP / NAT-PMP port forwarding"],
      ["bittorrent_protocol", "Peer connection protocol", sel([0, "TCP and µTP"], [1, "TCP"], [2, "µTP"])]]],
    ["Connection limits", [["max_connec", "Global maximum connections", num(-1)], ["max_connec_per_torrent", "Per torrent", num(-1)],
      ["max_uploads", "Global upload slots", num(-1)], ["max_uploads_per_torrent", "Upload slots per torrent", num(-1)]]],
    ["Proxy", [["proxy_type", "Type", sel(["None", "None"], ["SOCKS4", "SOCKS4"], ["SOCKS5", "SOCKS5"], ["HTTP", "HTTP"])], ["proxy_ip", "Host"], ["proxy_port", "Port", num(0, 65535)],
      ["proxy_auth_enabled", "Authentication"], ["proxy_username", "Username"], ["proxy_password", "Password", { type: "password" }], ["proxy_peer_connections", "Use for peer connections"],
      ["proxy_torrents_only", "Use for torrents only"], ["proxy_hostname_lookup", "Use for host name lookups"]]],
    ["IP filtering", [["ip_filter_enabled", "IP filter"], ["ip_filter_path", "Filter path"], ["ip_filter_trackers", "Apply to trackers"], ["banned_IPs", "Banned IPs", { type: "textarea" }]]],
  ]],
  ["speed", "Speed", [
    ["Global limits", [["dl_limit", "Download (KiB/s, 0 = ∞)", kib], ["up_limit", "Upload (KiB/s, 0 = ∞)", kib]]],
    ["Alternative limits", [["alt_dl_limit", "Download (KiB/s, 0 = ∞)", kib], ["alt_up_limit", "Upload (KiB/s, 0 = ∞)", kib],
      ["scheduler_enabled", "Schedule the alternative limits"], ["schedule_from_hour", "From hour", num(0, 23)], ["schedule_from_min", "From minute", num(0, 59)],
      ["schedule_to_hour", "To hour", num(0, 23)], ["schedule_to_min", "To minute", num(0, 59)],
      ["scheduler_days", "Days", sel([0, "Every day"], [1, "Weekdays"], [2, "Weekends"], [3, "Monday"], [4, "Tuesday"], [5, "Wednesday"], [6, "Thursday"], [7, "Friday"], [8, "Saturday"], [9, "Sunday"])]]],
    ["Rate limit settings", [["limit_utp_rate", "Apply to µTP"], ["limit_tcp_overhead", "Apply to transport overhead"], ["limit_lan_peers", "Apply to peers on LAN"]]],
  ]],
  ["bittorrent", "BitTorrent", [
    ["Privacy", [["dht", "DHT"], ["pex", "Peer exchange (PeX)"], ["lsd", "Local peer discovery"],
      ["encryption", "Encryption", sel([0, "Allow"], [1, "Require"], [2, "Disable"])], ["anonymous_mode", "Anonymous mode"]]],
    ["Queueing", [["queueing_enabled", "Torrent queueing"], ["max_active_downloads", "Maximum active downloads", num(-1)],
      ["max_active_uploads", "Maximum active uploads", num(-1)], ["max_active_torrents", "Maximum active torrents", num(-1)],
      ["dont_count_slow_torrents", "Do not count slow torrents"], ["slow_torrent_dl_rate_threshold", "Slow download threshold (KiB/s)", num(0)],
      ["slow_torrent_ul_rate_threshold", "Slow upload threshold (KiB/s)", num(0)], ["slow_torrent_inactive_timer", "Inactivity timer (s)", num(0)]]],
    ["Seeding limits", [["max_ratio_enabled", "When ratio reaches"], ["max_ratio", "Ratio", { type: "number", step: "0.01", min: -1 }],
      ["max_seeding_time_enabled", "When seeding time reaches"], ["max_seeding_time", "Minutes", num(-1)],
      ["max_inactive_seeding_time_enabled", "When inactive seeding time reaches"], ["max_inactive_seeding_time", "Minutes", num(-1)],
      ["max_ratio_act", "Then", sel([0, "Stop torrent"], [1, "Remove torrent"], [3, "Remove torrent and its files"], [2, "Enable super seeding"])]]],
    ["Trackers", [["add_trackers_enabled", "Add these trackers to new downloads"], ["add_trackers", "Trackers", { type: "textarea" }]]],
  ]],
  ["webui", "WebUI", [
    ["Server", [["web_ui_address", "IP address"], ["web_ui_port", "Port", num(1, 65535)], ["web_ui_upnp", "UPnP for the WebUI port"],
      ["use_https", "HTTPS"], ["web_ui_https_cert_path", "Certificate"], ["web_ui_https_key_path", "Key"]]],
    ["Authentication", [["web_ui_username", "Username"], ["web_ui_password", "New password", { type: "password", writeOnly: true }],
      ["bypass_local_auth", "Bypass authentication for localhost"], ["bypass_auth_subnet_whitelist_enabled", "Bypass for these subnets"],
      ["bypass_auth_subnet_whitelist", "Subnets", { type: "textarea" }], ["web_ui_max_auth_fail_count", "Ban after failures", num(0)],
      ["web_ui_ban_duration", "Ban for (s)", num(1)], ["web_ui_session_timeout", "Session timeout (s)", num(0)]]],
    ["Security", [["alternative_webui_enabled", "Use alternative WebUI"], ["alternative_webui_path", "Files location"],
      ["web_ui_clickjacking_protection_enabled", "Clickjacking protection"], ["web_ui_csrf_protection_enabled", "CSRF protection"],
      ["web_ui_secure_cookie_enabled", "Secure cookie"], ["web_ui_host_header_validation_enabled", "Host header validation"],
      ["web_ui_domain_list", "Server domains"], ["web_ui_use_custom_http_headers_enabled", "Custom HTTP headers"],
      ["web_ui_custom_http_headers", "Headers", { type: "textarea" }], ["web_ui_reverse_proxy_enabled", "Reverse proxy support"],
      ["web_ui_reverse_proxies_list", "Trusted proxies"]]],
  ]],
  ["advanced", "Advanced", [
    ["torrentd", [["app_instance_name", "Instance name (in the page title)"], ["refresh_interval", "Refresh interval (ms)", num(30)], ["resolve_peer_countries", "Resolve peer countries"],
      ["current_network_interface", "Network interface"], ["current_interface_address", "Optional IP address to bind to"],
      ["save_resume_data_interval", "Save resume data every (min)", num(0)], ["recheck_completed_torrents", "Recheck torrents on completion"],
      ["announce_ip", "IP address reported to trackers"], ["announce_to_all_tiers", "Announce to all tiers"], ["announce_to_all_trackers", "Announce to all trackers in a tier"],
      ["max_concurrent_http_announces", "Max concurrent HTTP announces", num(0)], ["stop_tracker_timeout", "Stop tracker timeout (s)", num(0)],
      ["enable_embedded_tracker", "Embedded tracker"], ["embedded_tracker_port", "Embedded tracker port", num(0, 65535)],
      ["outgoing_ports_min", "Outgoing ports (min)", num(0, 65535)], ["outgoing_ports_max", "Outgoing ports (max)", num(0, 65535)],
      ["async_io_threads", "Asynchronous I/O threads", num(1)], ["file_pool_size", "File pool size", num(1)],
      ["checking_memory_use", "Outstanding memory when checking (MiB)", num(1)], ["disk_cache", "Disk cache (MiB)", num(-1)]]],
  ]],
];
const KNOWN = new Set(GROUPS.flatMap((g) => g[2].flatMap((s) => s[1].map((f) => f[0]))));

export function mountSettings(page) {
  let prefs = null, current = "downloads";
  const fields = new Map();   // key -> {input, err, spec}
  const nav = el("nav", { "aria-label": "Preference groups" });
  const body = el("div");
  const msg = el("span", { role: "status" });
  const save = el("button", { class: "primary", text: "Save", id: "savePrefs", onclick: () => doSave() });
  page.append(el("div", { class: "settings" }, nav, el("div", {}, body, el("div", { class: "savebar" }, save, msg))));
  const groups = [...GROUPS, ["other", "Other", []]];
  for (const [k, label] of groups)
    nav.append(el("a", { href: "#/settings/" + k, "data-group": k, text: label }));

  function value(spec, v) {
    return spec.type === "kib" ? Math.round((v || 0) / KiB) : v;
  }
  function field(key, label, spec = {}) {
    if (!(key in prefs) && !spec.writeOnly) return null;
    const v = prefs[key];
    let input;
    const id = "pref-" + key;
    if (spec.type === "select") {
      input = el("select", { id }, spec.options.map(([ov, t]) => el("option", { value: ov, text: t })));
      input.value = String(v);
    } else if (typeof v === "boolean") {
      input = el("input", { type: "checkbox", id, checked: v });
    } else if (spec.type === "textarea") {
      input = el("textarea", { id, rows: 3 });
      input.value = v ?? "";
    } else if (spec.type === "number" || spec.type === "kib" || typeof v === "number") {
      input = el("input", { type: "number", id, step: spec.step || (Number.isInteger(v) || spec.type === "kib" ? "1" : "any"), min: spec.min ?? (spec.type === "kib" ? 0 : undefined), max: spec.max });
      input.value = value(spec, v);
    } else {
      input = el("input", { type: spec.type === "password" ? "password" : "text", id, autocomplete: "off" });
      input.value = spec.writeOnly ? "" : v ?? "";
    }
    const err = el("p", { class: "err", id: id + "-err", role: "alert" });
    input.setAttribute("aria-describedby", err.id);
    fields.set(key, { input, err, spec, orig: v, shown: input.type === "checkbox" ? input.checked : input.value });
    return el("div", { class: "pref" }, el("label", { for: id, text: label }), input, err);
  }

  function draw() {
    fields.clear();
    for (const a of nav.children) a.classList.toggle("active", a.dataset.group === current);
    const g = groups.find((x) => x[0] === current) || groups[0];
    let sections = g[2];
    if (g[0] === "other")
      sections = [["Other preferences", Object.keys(prefs).filter((k) => !KNOWN.has(k) && typeof prefs[k] !== "object").sort().map((k) => [k, k])]];
    body.replaceChildren(el("h2", { text: g[1] }), ...sections.map(([title, fs]) => {
      const rows = fs.map(([k, l, s]) => field(k, l, s)).filter(Boolean);
      return rows.length ? el("fieldset", {}, el("legend", { text: title }), rows) : null;
    }).filter(Boolean));
  }

  function read(f) {
    const i = f.input;
    if (i.type === "checkbox") return i.checked;
    if (i.type === "number") {
      if (i.value === "" || !i.checkValidity()) throw new Error(i.validationMessage || "a number is needed");
      const n = Number(i.value);
      return f.spec.type === "kib" ? n * KiB : n;
    }
    if (f.spec.type === "select" && typeof f.orig === "number") return Number(i.value);
    return i.value;
  }

  async function doSave() {
    const changed = {};
    let bad = false;
    msg.textContent = "";
    for (const [k, f] of fields) {
      f.err.textContent = "";
      // Untouched fields are not sent (nor judged: a stored value may be one
      // the form's bounds do not offer, e.g. -1 for "no limit").
      if ((f.input.type === "checkbox" ? f.input.checked : f.input.value) === f.shown) continue;
      try {
        const v = read(f);
        if (f.spec.writeOnly ? v !== "" : v !== f.orig) changed[k] = v;
      } catch (e) { f.err.textContent = e.message; bad = true; }
    }
    if (bad) return;
    if (!Object.keys(changed).length) { msg.textContent = "Nothing changed"; return; }
    try {
      await api.setPreferences(changed);
    } catch (e) {
      // Which key?  Ask again one at a time: the good ones are kept.
      let placed = false;
      for (const [k, v] of Object.entries(changed)) {
        try { await api.setPreferences({ [k]: v }); } catch (e2) { fields.get(k).err.textContent = e2.message; placed = true; }
      }
      if (!placed) msg.textContent = e.message;
    }
    prefs = await api.preferences();
    apiEvents.dispatchEvent(new CustomEvent("preferences", { detail: prefs }));
    const errs = [...fields.values()].filter((f) => f.err.textContent).map((f) => [f.input.id, f.err.textContent]);
    draw();
    for (const [id, t] of errs) { const f = [...fields.values()].find((x) => x.input.id === id); if (f) f.err.textContent = t; }
    if (!errs.length) { msg.textContent = "Saved"; toast("Preferences saved"); }
  }

  return {
    async show(sub) {
      current = sub || current;
      try {
        prefs = await api.preferences();
        draw();
      } catch (e) {
        body.replaceChildren(el("p", { class: "err", text: e.message }));
      }
    },
  };
}
