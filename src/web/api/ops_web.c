/* web/api/ops_web — registration, token, status, processes, Arr connections
 * of the operations API (see ops_api.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/discovery.h"
#include "core/session.h"
#include "ops/ops.h"
#include "rss/feeds.h"
#include "rss/rss.h"
#include "util/log.h"
#include "web/api/ops_int.h"

void ops_reply_error(struct web_req *r, int status, const char *msg)
{
    web_reply_json_status(r, status, json_pack("{s:s}", "error", msg));
}

json_t *ops_body(struct web_req *r)
{
    size_t len = 0;
    const char *b = web_req_body(r, &len);
    if (!b || len == 0) {
        /* A form post (or none): its fields as strings. */
        json_t *o = json_object();
        const char *lv = web_req_param(r, "level");
        if (lv)
            json_object_set_new(o, "level", json_string(lv));
        return o;
    }
    json_error_t err;
    json_t *j = json_loadb(b, len, 0, &err);
    if (!json_is_object(j)) {
        json_decref(j);
        char msg[200];
        snprintf(msg, sizeof msg, "the body must be a JSON object (%s)", err.text);
        ops_reply_error(r, 400, msg);
        return NULL;
    }
    return j;
}

/* GET /api/token: the token a logged-in WebUI hands to scripts. */
static void h_token(struct web_req *r, void *ud)
{
    struct ops_web *w = ud;
    web_reply_json(r, json_pack("{s:s}", "token", settings_str(&w->s->settings, SET_OPS_TOKEN)));
}

static json_t *arr_array(struct ops_web *w)
{
    struct ops_arr_info a[32];
    size_t n = ops_arr_list(w->o, a, 32);
    json_t *v = json_array();
    for (size_t i = 0; i < n && i < 32; i++) {
        json_t *alive = a[i].alive < 0 ? json_null() : json_boolean(a[i].alive);
        json_array_append_new(v, json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I}", "name", a[i].name, "type",
                                           a[i].type, "url", a[i].url, "category", a[i].category, "alive", alive,
                                           "version", a[i].version, "imports", (json_int_t)a[i].imports));
    }
    return v;
}

/* GET /api/status (qBitrr's shape: the "qbit" instance is torrentd itself). */
static void h_status(struct web_req *r, void *ud)
{
    struct ops_web *w = ud;
    struct settings *st = &w->s->settings;
    json_t *arrs = arr_array(w);
    size_t i;
    json_t *a;
    json_array_foreach(arrs, i, a)
    {
        json_object_del(a, "url");
        json_object_del(a, "version");
        json_object_del(a, "imports");
    }
    json_t *o = json_pack("{s:{s:b, s:s, s:i, s:s}, s:{}, s:o, s:{s:b, s:s, s:s}, s:b}", "qbit", "alive", 1,
                          "host", settings_str(st, SET_WEB_UI_ADDRESS), "port", web_server_port(w->ws), "version",
                          "v5.1.4", "qbitInstances", "arrs", arrs, "webui", "LiveArr", 0, "Theme", "dark",
                          "ViewDensity", "comfortable", "ready", 1);
    web_reply_json(r, o);
}

/* GET /api/processes: torrentd's subsystems, in seed 003's shape (every
 * one runs in the daemon's process: the same pid). */
static void h_processes(struct web_req *r, void *ud)
{
    struct ops_web *w = ud;
    struct ops_process p[16];
    size_t n = ops_processes(w->o, p, 16);
    json_t *v = json_array();
    for (size_t i = 0; i < n && i < 16; i++) {
        bool alive = strcmp(p[i].status, "running") == 0 || strcmp(p[i].status, "busy") == 0;
        json_array_append_new(v, json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:I, s:b, s:b}", "name", p[i].name,
                                           "category", "", "kind", "torrent", "status", p[i].status, "pid",
                                           (json_int_t)(alive ? getpid() : 0), "alive", alive, "uptime",
                                           (json_int_t)p[i].uptime, "rebuilding", 0, "restartable",
                                           p[i].restartable));
    }
    web_reply_json(r, json_pack("{s:o}", "processes", v));
}

static int restart_one(struct ops_web *w, const char *name)
{
    int rc;
    if (strcmp(name, "rss") == 0) {
        if (!w->rss || !settings_bool(&w->s->settings, SET_RSS_PROCESSING_ENABLED))
            rc = -ESRCH;
        else {
            rc = rss_feeds_refresh_item(rss_feeds(w->rss), "");
            if (rc == 0) {
                ops_process_restarted(w->o, "rss");
                log_msg(LOG_INFO, "Ops: RSS feeds refreshed");
            }
        }
    } else {
        rc = ops_process_restart(w->o, name);
    }
    return rc;
}

/* POST /api/processes/restart_all: every restartable subsystem that runs. */
static void restart_all(struct web_req *r, struct ops_web *w)
{
    struct ops_process p[16];
    size_t n = ops_processes(w->o, p, 16);
    json_t *done = json_array();
    for (size_t i = 0; i < n && i < 16; i++)
        if (p[i].restartable && restart_one(w, p[i].name) == 0)
            json_array_append_new(done, json_string(p[i].name));
    web_reply_json(r, json_pack("{s:s, s:o}", "status", "ok", "restarted", done));
}

/* POST /api/processes/<name>/restart, and qBitrr's
 * /api/processes/<name>/<search|torrent|all>/restart (the kind means
 * nothing here: a subsystem is one thing). */
static void h_restart(struct web_req *r, void *ud)
{
    struct ops_web *w = ud;
    const char *rest = web_req_path(r) + strlen("/api/processes/");
    if (strcmp(rest, "restart_all") == 0) {
        restart_all(r, w);
        return;
    }
    const char *slash = strchr(rest, '/');
    char name[64];
    if (!slash || slash == rest || slash - rest > 63) {
        ops_reply_error(r, 404, "not found");
        return;
    }
    memcpy(name, rest, (size_t)(slash - rest));
    name[slash - rest] = 0;
    if (strcmp(slash, "/restart") != 0) {
        static const char *const kinds[] = {"/search/restart", "/torrent/restart", "/all/restart"};
        bool ok = false;
        for (size_t i = 0; i < 3; i++)
            ok |= strcmp(slash, kinds[i]) == 0;
        if (!ok) {
            /* <name>/<kind>/restart with another kind: qBitrr's 400 */
            size_t l = strlen(slash);
            const char *kind_end = strchr(slash + 1, '/');
            bool three = l > 8 && strcmp(slash + l - 8, "/restart") == 0 && kind_end == slash + l - 8;
            ops_reply_error(r, three ? 400 : 404, three ? "kind must be search, torrent or all" : "not found");
            return;
        }
    }
    int rc = restart_one(w, name);
    if (rc == -ENOENT) {
        ops_reply_error(r, 404, "unknown process");
    } else if (rc == -EPERM) {
        ops_reply_error(r, 400, "this process cannot be restarted");
    } else if (rc == -ESRCH) {
        ops_reply_error(r, 409, "not running (disabled in the preferences)");
    } else if (rc != 0) {
        ops_reply_error(r, 500, strerror(-rc));
    } else {
        web_reply_json(r, json_pack("{s:s, s:[s]}", "status", "ok", "restarted", name));
    }
}

struct arr_wait {
    struct ops_web *w;
    struct web_req *r;
};

static void arr_probed(void *ud)
{
    struct arr_wait *a = ud;
    web_reply_json(a->r, json_pack("{s:o}", "arrs", arr_array(a->w)));
    free(a);
}

/* GET /api/arr: each connection, probed now. */
static void h_arr(struct web_req *r, void *ud)
{
    struct arr_wait *a = malloc(sizeof *a);
    if (!a) {
        web_reply_error(r, 500, NULL);
        return;
    }
    a->w = ud;
    a->r = r;
    if (ops_arr_probe(a->w->o, arr_probed, a) != 0) {
        free(a);
        web_reply_error(r, 500, NULL);
    }
}

static void on_token_setting(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    struct ops_web *w = ud;
    web_server_set_ops_token(w->ws, settings_str(&w->s->settings, SET_OPS_TOKEN));
}

int ops_api_register(struct web_server *ws, struct session *s, struct ops *o, struct rss *rss)
{
    static struct ops_web w;   /* one per process, as the web server */
    w = (struct ops_web){ws, s, o, rss, LOG_NORMAL | LOG_INFO | LOG_WARNING | LOG_CRITICAL, "INFO"};
    static const struct web_route_def routes[] = {
        {"/api/token", WEB_GET, h_token, WEB_AUTH_OPS_TOKEN, NULL},
        {"/api/status", WEB_GET, h_status, WEB_AUTH_OPS_TOKEN, NULL},
        {"/api/processes", WEB_GET, h_processes, WEB_AUTH_OPS_TOKEN, NULL},
        {"/api/processes/**", WEB_POST, h_restart, WEB_AUTH_OPS_TOKEN, NULL},
        {"/api/arr", WEB_GET, h_arr, WEB_AUTH_OPS_TOKEN, NULL},
    };
    int rc = web_routes_add(ws, routes, sizeof routes / sizeof routes[0], &w);
    if (rc == 0)
        rc = ops_health_register(&w);
    if (rc == 0)
        rc = ops_logs_register(&w);
    if (rc == 0)
        rc = ops_config_register(&w);
    if (rc == 0)
        rc = ops_metrics_register(&w);
    if (rc == 0)
        rc = settings_add_hook(&s->settings, SG_OPS, on_token_setting, &w);
    if (rc == 0)
        on_token_setting(&w, NULL);
    return rc;
}
