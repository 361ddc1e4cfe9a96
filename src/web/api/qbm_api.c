#include "web/api/qbm_api.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/settings.h"
#include "util/log.h"

struct qbm {
    struct web_server *ws;
    struct session *s;
    struct automation *a;
};
static struct qbm g_qbm;

/* FastAPI's 422: {"detail":[{"type","loc":["body",field],"msg","input"}]}. */
static void reply_422(struct web_req *r, const char *type, const char *field, const char *msg, json_t *input)
{
    json_t *loc = field ? json_pack("[ss]", "body", field) : json_pack("[si]", "body", 0);
    json_t *e = json_pack("{s:s,s:o,s:s,s:o}", "type", type, "loc", loc, "msg", msg, "input",
                          input ? json_incref(input) : json_object());
    web_reply_json_status(r, 422, json_pack("{s:[o]}", "detail", e));
}

static void reply_detail(struct web_req *r, int status, const char *detail)
{
    web_reply_json_status(r, status, json_pack("{s:s}", "detail", detail));
}

/* Pydantic's lax bool: true/false, 0/1, and the usual strings. */
static int lax_bool(json_t *v, bool *out)
{
    if (!v || json_is_null(v))
        return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = json_integer_value(v) == 1;
        return 0;
    }
    if (json_is_string(v)) {
        static const char *const t[] = {"true", "1", "yes", "on", "t", "y"}, *const f[] = {"false", "0", "no", "off", "f", "n"};
        for (size_t i = 0; i < 6; i++) {
            if (strcasecmp(json_string_value(v), t[i]) == 0)
                return *out = true, 0;
            if (strcasecmp(json_string_value(v), f[i]) == 0)
                return *out = false, 0;
        }
    }
    return -EINVAL;
}

static json_t *stats_json(const struct automation_stats *st)
{
    json_t *o = json_object(), *ex = json_array();
    for (unsigned i = 0; i < AM_NUM_CMDS; i++)
        if (st->executed & (1u << i))
            json_array_append_new(ex, json_string(automation_cmd_name(i)));
    json_object_set_new(o, "executed_commands", ex);
#define AM_STAT_JSON(n) json_object_set_new(o, #n, json_integer(st->n));
    AUTOMATION_STATS(AM_STAT_JSON)
#undef AM_STAT_JSON
    return o;
}

static void run_done(void *ud, const struct automation_result *res)
{
    struct web_req *r = ud;
    if (res->rc != 0) {
        reply_detail(r, 500, res->msg && *res->msg ? res->msg : "run failed");
        return;
    }
    json_t *results = json_array();
    for (size_t i = 0; i < res->n; i++)
        json_array_append_new(results, json_pack("{s:s,s:o}", "config_file", res->config_files[i], "stats",
                                                 stats_json(&res->stats[i])));
    web_reply_json(r, json_pack("{s:s,s:s,s:o}", "status", "success", "message",
                                "Commands executed successfully for all configs", "results", results));
}

static void h_run_command(struct web_req *r, void *ud)
{
    struct qbm *q = ud;
    size_t len;
    const char *body = web_req_body(r, &len);
    json_error_t jerr;
    json_t *j = body ? json_loadb(body, len, 0, &jerr) : NULL;
    if (!j || !json_is_object(j)) {
        if (j)
            reply_422(r, "model_attributes_type", NULL, "Input should be a valid dictionary or object to extract fields from", j);
        else
            reply_422(r, "json_invalid", NULL, "JSON decode error", NULL);
        json_decref(j);
        return;
    }
    json_t *cmds = json_object_get(j, "commands");
    if (!cmds) {
        reply_422(r, "missing", "commands", "Field required", j);
        json_decref(j);
        return;
    }
    if (!json_is_array(cmds)) {
        reply_422(r, "list_type", "commands", "Input should be a valid list", cmds);
        json_decref(j);
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(cmds, i, v) if (!json_is_string(v))
    {
        reply_422(r, "string_type", "commands", "Input should be a valid string", v);
        json_decref(j);
        return;
    }
    json_t *hashes = json_object_get(j, "hashes");
    if (hashes && !json_is_null(hashes)) {
        bool ok = json_is_array(hashes);
        json_array_foreach(hashes, i, v) ok = ok && json_is_string(v);
        if (!ok) {
            reply_422(r, "list_type", "hashes", "Input should be a valid list of strings", hashes);
            json_decref(j);
            return;
        }
    }
    json_t *cf = json_object_get(j, "config_file"), *ll = json_object_get(j, "log_level");
    if ((cf && !json_is_null(cf) && !json_is_string(cf)) || (ll && !json_is_null(ll) && !json_is_string(ll))) {
        reply_422(r, "string_type", cf && !json_is_string(cf) && !json_is_null(cf) ? "config_file" : "log_level",
                  "Input should be a valid string", NULL);
        json_decref(j);
        return;
    }
    struct automation_request req = {.origin = "api"};
    static const char *const flags[] = {"dry_run", "skip_cleanup", "skip_qb_version_check"};
    bool fv[3] = {false, false, false};
    for (size_t k = 0; k < 3; k++)
        if (lax_bool(json_object_get(j, flags[k]), &fv[k]) != 0) {
            reply_422(r, "bool_parsing", flags[k], "Input should be a valid boolean", json_object_get(j, flags[k]));
            json_decref(j);
            return;
        }
    req.dry_run = fv[0];
    req.skip_cleanup = fv[1];
    const char *lvl = json_string_value(ll);
    req.quiet = lvl && (strcasecmp(lvl, "WARNING") == 0 || strcasecmp(lvl, "WARN") == 0 ||
                        strcasecmp(lvl, "ERROR") == 0 || strcasecmp(lvl, "CRITICAL") == 0);
    if (json_array_size(cmds) == 0) {
        reply_detail(r, 400, "No commands provided");
        json_decref(j);
        return;
    }
    json_array_foreach(cmds, i, v)
    {
        const char *name = json_string_value(v);
        unsigned bit = automation_cmd_parse(name);
        if (bit)
            req.cmds |= bit;
        else if (strcmp(name, "skip_cleanup") == 0)
            req.skip_cleanup = true;
        else if (strcmp(name, "skip_qb_version_check") == 0)
            ; /* torrentd is its own client: nothing to check */
        else {
            char msg[512];
            snprintf(msg, sizeof msg, "Invalid command: %s", name);
            reply_detail(r, 400, msg);
            json_decref(j);
            return;
        }
    }
    if (!req.cmds) {
        reply_detail(r, 400, "No commands provided");
        json_decref(j);
        return;
    }
    const char **hv = NULL;
    size_t nh = hashes && json_is_array(hashes) ? json_array_size(hashes) : 0;
    if (nh && !(hv = calloc(nh, sizeof *hv))) {
        web_reply_error(r, 500, NULL);
        json_decref(j);
        return;
    }
    json_array_foreach(hashes, i, v) if (hv) hv[i] = json_string_value(v);
    req.hashes = hv;
    req.num_hashes = nh;
    req.config_file = cf && json_is_string(cf) ? json_string_value(cf) : NULL;
    int rc = automation_submit(q->a, &req, run_done, r);
    free(hv);
    if (rc == 1) {
        const char *name = req.config_file ? req.config_file
                                           : settings_str(&q->s->settings, SET_AUTOMATION_CONFIG_FILE);
        web_reply_json(r, json_pack("{s:s,s:s,s:s,s:O}", "status", "queued", "message",
                                    "Scheduled run in progress. Request queued.", "config_file", name, "commands",
                                    cmds));
    } else if (rc < 0) {
        reply_detail(r, 500, strerror(-rc));
    }
    json_decref(j);
}

static void h_force_reset(struct web_req *r, void *ud)
{
    struct qbm *q = ud;
    bool was = automation_force_reset(q->a);
    web_reply_json(r, json_pack("{s:s,s:s,s:b}", "status", "success", "message",
                                was ? "Reset successful: the run in progress is no longer waited for"
                                    : "Nothing to reset: no run in progress",
                                "was_running", was));
}

static void on_key(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    struct qbm *q = ud;
    web_server_set_api_key(q->ws, settings_str(&q->s->settings, SET_AUTOMATION_API_KEY));
}

int qbm_api_register(struct web_server *ws, struct session *s, struct automation *a)
{
    g_qbm = (struct qbm){ws, s, a};
    static const struct web_route_def routes[] = {
        {"/api/run-command", WEB_POST, h_run_command, WEB_AUTH_API_KEY, NULL},
        {"/api/system/force-reset", WEB_POST, h_force_reset, WEB_AUTH_API_KEY, NULL},
    };
    int rc = web_routes_add(ws, routes, sizeof routes / sizeof routes[0], &g_qbm);
    if (rc == 0)
        rc = settings_add_hook(&s->settings, SG_AUTOMATION, on_key, &g_qbm);
    if (rc == 0)
        on_key(&g_qbm, NULL);
    if (rc != 0)
        log_msg(LOG_CRITICAL, "qbit_manage API: cannot register its routes (%d)", rc);
    return rc;
}
