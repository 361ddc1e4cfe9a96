/* web/api/ops_health — GET /health and /api/health, without auth (qBitrr
 * answers {"status":"ok"}; torrentd adds what is wrong).  "status" is "ok"
 * or "degraded" with one line per problem in "problems"; "checks" holds the
 * figures: free space under the save paths, the peer listener, the DHT,
 * torrents whose trackers fail, the automation scheduler.  Always 200: a
 * health answer that arrives means the daemon runs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/discovery.h"
#include "core/session.h"
#include "ops/ops.h"
#include "web/api/ops_int.h"

/* Below this much free space a save path is a problem when the free-space
 * guard has no floor of its own. */
#define HEALTH_MIN_FREE ((int64_t)64 << 20)
/* A DHT that found no node in this long is a problem (not while it boots). */
#define HEALTH_DHT_GRACE_S 300

static void problem(json_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(json_t *p, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_array_append_new(p, json_string(buf));
}

static void disk_check(json_t *disks, json_t *probs, const char *what, const char *path, int64_t floor)
{
    if (!path || !*path)
        return;
    for (size_t i = 0; i < json_array_size(disks); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(disks, i), "path")), path) == 0)
            return;
    int64_t free_b = ops_free_bytes(path);
    int64_t need = floor >= 0 ? floor : HEALTH_MIN_FREE;
    bool ok = free_b >= need;
    json_array_append_new(disks, json_pack("{s:s, s:s, s:I, s:I, s:b}", "what", what, "path", path, "free_bytes",
                                           (json_int_t)free_b, "min_bytes", (json_int_t)need, "ok", ok));
    if (free_b < 0)
        problem(probs, "disk: %s (%s) cannot be read", what, path);
    else if (!ok)
        problem(probs, "disk: %lld bytes free under %s (%s), below %lld", (long long)free_b, path, what,
                (long long)need);
}

static void h_health(struct web_req *r, void *ud)
{
    struct ops_web *w = ud;
    struct session *s = w->s;
    struct settings *st = &s->settings;
    json_t *probs = json_array(), *disks = json_array();
    int64_t floor = settings_int(st, SET_OPS_FREE_SPACE);
    disk_check(disks, probs, "default save path", session_default_save_path(s), floor);
    if (settings_bool(st, SET_TEMP_PATH_ENABLED))
        disk_check(disks, probs, "incomplete folder", settings_str(st, SET_TEMP_PATH), floor);
    disk_check(disks, probs, "free-space folder", settings_str(st, SET_OPS_FREE_SPACE_FOLDER), floor);

    bool bound = s->have_listener4 || s->have_listener6;
    if (!bound)
        problem(probs, "listen: no peer listener on port %u", (unsigned)s->listen_port);

    bool dht_on = settings_bool(st, SET_DHT), dht_run = discovery_dht_running(s);
    size_t nodes = discovery_dht_nodes(s);
    struct ops_process p[16];
    size_t np = ops_processes(w->o, p, 16);
    int64_t dht_up = 0;
    for (size_t i = 0; i < np && i < 16; i++)
        if (strcmp(p[i].name, "dht") == 0)
            dht_up = p[i].uptime;
    if (dht_on && !dht_run)
        problem(probs, "dht: enabled but not running");
    else if (dht_run && nodes == 0 && dht_up >= HEALTH_DHT_GRACE_S)
        problem(probs, "dht: no nodes after %lld s", (long long)dht_up);

    ops_sync(w->o);
    size_t failing = ops_tracker_error_torrents(w->o);
    if (failing)
        problem(probs, "trackers: %zu torrent(s) with a tracker not working", failing);

    struct ops_automation_state a;
    ops_automation_state(&a);
    const char *astate = !a.configured ? "not configured" : a.running ? "running" : "idle";
    if (a.configured && a.last_error[0])
        problem(probs, "automation: last run failed: %s", a.last_error);

    struct ops_guard_state g;
    ops_guard_state(w->o, &g);
    json_t *guard = json_pack("{s:b, s:s, s:I, s:I, s:I}", "enabled", g.enabled, "folder", g.folder, "free_bytes",
                              (json_int_t)g.free_bytes, "floor_bytes", (json_int_t)g.floor_bytes, "paused",
                              (json_int_t)g.paused);
    json_t *o = json_pack(
        "{s:s, s:o, s:{s:o, s:{s:i, s:b}, s:{s:b, s:b, s:I}, s:{s:I}, s:{s:s, s:I, s:I, s:s}}}", "status",
        json_array_size(probs) ? "degraded" : "ok", "problems", probs, "checks", "disk", disks, "listen", "port",
        (int)s->listen_port, "bound", bound, "dht", "enabled", dht_on, "running", dht_run, "nodes",
        (json_int_t)nodes, "trackers", "torrents_failing", (json_int_t)failing, "automation", "state", astate,
        "last_run", (json_int_t)a.last_run, "next_run", (json_int_t)a.next_run, "last_error", a.last_error);
    json_object_set_new(json_object_get(o, "checks"), "free_space_guard", guard);
    web_reply_json(r, o);
}

int ops_health_register(struct ops_web *w)
{
    static const struct web_route_def routes[] = {
        {"/health", WEB_GET, h_health, WEB_AUTH_PUBLIC, NULL},
        {"/api/health", WEB_GET, h_health, WEB_AUTH_PUBLIC, NULL},
    };
    return web_routes_add(w->ws, routes, sizeof routes / sizeof routes[0], w);
}
