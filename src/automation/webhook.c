/* webhooks: qbit_manage's notifications (modules/webhooks.py,
 * notifiarr.py, apprise.py): run_start, run_end, error and the
 * per-command `function:` hooks with their JSON bodies, sent through the
 * daemon's fetcher on the loop (util/fetch; the proxy_misc proxy when set).
 * A hook's value is an http(s) URL, "notifiarr" (a GET carrying the JSON to
 * <base>/v1/notification/qbitManage/ with the X-API-Key header, as
 * notifiarr.py does; the base is notifiarr.base_url, a torrentd key, so a
 * test can point it at loopback) or "apprise" (the JSON plus "urls" POSTed
 * to <api_url>/notify).  Bounded (15 s each) and fire-and-forget: a failure
 * is logged and never fails the run, as in qbit_manage.  Not done:
 * qbit_manage's connect checks of notifiarr/apprise when the config loads
 * and its retries of a 5xx answer (6 tries, 2 s apart). */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "automation/am_int.h"
#include "core/proxy.h"
#include "core/session.h"
#include "util/buf.h"
#include "util/fetch.h"
#include "util/log.h"
#include "util/pct.h"

/* webhooks.py GROUP_NOTIFICATION_LIMIT */
#define AM_GROUP_LIMIT 10

static void on_sent(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *err)
{
    char *what = ud;
    if (rc != 0) {
        log_msg(LOG_WARNING, "qbit_manage: webhook %s failed: %s", what, err);
    } else {
        /* _request: Notifiarr answers {"result":"error","details":{"response":...}} */
        json_t *j = json_loadb((const char *)body, len, 0, NULL);
        const char *result = json_string_value(json_object_get(j, "result"));
        const char *resp = json_string_value(json_object_get(json_object_get(j, "details"), "response"));
        if (result && strcmp(result, "error") == 0 && resp && strstr(resp, "trigger is not enabled"))
            log_msg(LOG_INFO, "qbit_manage: Notifiarr Warning: %s", resp);
        else if (result && strcmp(result, "error") == 0 && resp)
            log_msg(LOG_WARNING, "qbit_manage: webhook %s: Notifiarr Error: %s", what, resp);
        else if (status >= 400 || (result && strcmp(result, "error") == 0))
            log_msg(LOG_WARNING, "qbit_manage: webhook %s failed: HTTP %ld", what, status);
        json_decref(j);
    }
    free(what);
}

/* One request; what names it in the log (never the API key). */
static void send_json(const struct am_ctx *c, const char *url, const char *what, const char *method,
                      const char *apikey, json_t *j)
{
    char *body = json_dumps(j, JSON_COMPACT);
    char proxy[512] = "", key[512] = "";
    proxy_url(c->s, PROXY_USE_MISC, proxy, sizeof proxy);
    const char *headers[2] = {"Content-Type: application/json", key};
    if (apikey)
        snprintf(key, sizeof key, "X-API-Key: %s", apikey);
    struct fetch_opts o = {.timeout_ms = 15000,
                           .post_body = body,
                           .post_len = body ? strlen(body) : 0,
                           .method = method,
                           .headers = headers,
                           .num_headers = apikey ? 2 : 1,
                           .proxy = proxy};
    char *w = strdup(what);
    if (body && w && c->s->fetch && fetch_get(c->s->fetch, url, &o, on_sent, w, NULL) == 0)
        w = NULL;
    else
        log_msg(LOG_WARNING, "qbit_manage: webhook %s not sent", what);
    free(w);
    free(body);
}

static void query_param(struct buf *b, const char *name, const char *value)
{
    buf_appendf(b, "%s=", name);
    pct_encode(b, value, strlen(value), &pct_rfc3986);
}

static void send_notifiarr(const struct am_ctx *c, json_t *j)
{
    const struct autocfg_node *n = autocfg_at(c->cfg, "notifiarr", NULL);
    const char *base = autocfg_str(autocfg_get(n, "base_url"), "https://notifiarr.com/api");
    struct buf u = {0};
    /* notifiarr.py: params qbit_client (qbt.host) and instance (False when unset) */
    buf_appendf(&u, "%s/v1/notification/qbitManage/?", base);
    query_param(&u, "qbit_client", autocfg_str(autocfg_at(c->cfg, "qbt", "host"), ""));
    buf_append_str(&u, "&");
    query_param(&u, "instance", autocfg_str(autocfg_get(n, "instance"), "False"));
    buf_append_u8(&u, 0);
    if (!u.err)
        send_json(c, (const char *)buf_head(&u), "notifiarr", "GET", autocfg_str(autocfg_get(n, "apikey"), ""), j);
    buf_free(&u);
}

static void send_apprise(const struct am_ctx *c, json_t *j)
{
    const struct autocfg_node *a = autocfg_at(c->cfg, "apprise", NULL);
    const struct autocfg_node *nu = autocfg_get(a, "notify_url");
    struct buf urls = {0}, u = {0};
    for (size_t i = 0; i < autocfg_list_len(nu); i++)
        buf_appendf(&urls, "%s%s", i ? "," : "", autocfg_list_at(nu, i) ? autocfg_list_at(nu, i) : "");
    buf_append_u8(&urls, 0);
    buf_appendf(&u, "%s/notify", autocfg_str(autocfg_get(a, "api_url"), ""));
    buf_append_u8(&u, 0);
    json_t *k = json_copy(j);
    if (k && !urls.err && !u.err && json_object_set_new(k, "urls", json_string((const char *)buf_head(&urls))) == 0)
        send_json(c, (const char *)buf_head(&u), "apprise", NULL, NULL, k);
    json_decref(k);
    buf_free(&urls);
    buf_free(&u);
}

/* webhooks.py _request: each distinct target once. */
static void request(const struct am_ctx *c, const struct autocfg_node *targets, json_t *j)
{
    size_t n = autocfg_list_len(targets);
    for (size_t i = 0; i < n; i++) {
        const char *t = autocfg_list_at(targets, i);
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++)
            dup = autocfg_list_at(targets, k) && t && strcmp(autocfg_list_at(targets, k), t) == 0;
        if (dup)
            continue;
        if (!t || !*t)
            break;
        if (strcmp(t, "notifiarr") == 0 || strcmp(t, "apprise") == 0) {
            bool notifiarr = *t == 'n';
            const char *need = notifiarr ? autocfg_str(autocfg_at(c->cfg, "notifiarr", "apikey"), NULL)
                                         : autocfg_str(autocfg_at(c->cfg, "apprise", "api_url"), NULL);
            if (!need) {
                log_msg(LOG_WARNING, "qbit_manage: Webhook attribute set to %s but %s attribute is not configured.",
                        t, t);
                break;
            }
            if (notifiarr)
                send_notifiarr(c, j);
            else
                send_apprise(c, j);
        } else if (strncmp(t, "http://", 7) == 0 || strncmp(t, "https://", 8) == 0) {
            send_json(c, t, t, NULL, NULL, j);
        } else {
            log_msg(LOG_INFO, "qbit_manage: webhook \"%s\" is not an http(s) URL: not sent", t);
        }
    }
}

static void post(struct am_ctx *c, const char *key, json_t *j)
{
    request(c, autocfg_at(c->cfg, "webhooks", key), j);
}

void am_send_notification(const struct am_ctx *c, json_t *attr)
{
    /* config.py send_notifications: the first function key (in config
     * order) contained in the attr's function names the hook, so
     * untag_tracker_error goes to tag_tracker_error and
     * cleanup_share_limits to share_limits. */
    const char *fn = json_string_value(json_object_get(attr, "function"));
    const struct autocfg_node *m = autocfg_at(c->cfg, "webhooks", "function");
    if (!fn || !m || m->kind != AUTOCFG_MAP)
        return;
    for (size_t k = 0; k < m->n; k++)
        if (strstr(fn, m->keys[k])) {
            request(c, m->items[k], attr);
            return;
        }
}

void am_notify_error(const struct am_ctx *c, const char *text, const char *function, bool critical)
{
    const struct autocfg_node *hooks = autocfg_at(c->cfg, "webhooks", "error");
    if (!autocfg_list_len(hooks))
        return;
    /* qbit_manage writes a fallback tag or category back into its config,
     * so each such warning reaches the hook once per run: so here. */
    if (c->errors_sent) {
        if (strv_find(c->errors_sent, text, false) >= 0)
            return;
        strv_push(c->errors_sent, text);
    }
    char title[256];
    snprintf(title, sizeof title, "%s Error", function ? function : "None");
    json_t *j = json_pack("{s:s,s:s,s:s,s:b,s:s}", "function", "run_error", "title", title, "body", text,
                          "critical", critical, "type", critical ? "failure" : "warning");
    if (j && function)
        json_object_set_new(j, "function_error", json_string(function));
    if (j)
        request(c, hooks, j);
    json_decref(j);
}

static json_t *get_or_null(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return v ? json_incref(v) : json_null();
}

void am_notify(const struct am_ctx *c, json_t *attrs, const char *group_by)
{
    size_t n = json_array_size(attrs);
    if (n <= AM_GROUP_LIMIT || !group_by) {
        for (size_t i = 0; i < n; i++)
            am_send_notification(c, json_array_get(attrs, i));
        json_decref(attrs);
        return;
    }
    /* group_notifications_by_key: the first attr of a group stands for it,
     * the others add their torrent; groups in first-seen order. */
    char key[64];
    snprintf(key, sizeof key, "torrent_%s", group_by);
    json_t *groups = json_array();   /* [first attr, ...] */
    for (size_t i = 0; i < n && groups; i++) {
        json_t *a = json_array_get(attrs, i), *g = NULL;
        json_t *v = json_object_get(a, key);
        for (size_t k = 0; k < json_array_size(groups) && !g; k++) {
            json_t *gv = json_object_get(json_array_get(groups, k), key);
            if ((!v || json_is_null(v)) ? (!gv || json_is_null(gv)) : json_equal(v, gv))
                g = json_array_get(groups, k);
        }
        if (g)
            json_array_append(json_object_get(g, "torrents"), json_array_get(json_object_get(a, "torrents"), 0));
        else
            json_array_append(groups, a);
    }
    bool by_cat = strcmp(group_by, "category") == 0, by_tag = strcmp(group_by, "tag") == 0,
         by_trk = strcmp(group_by, "tracker") == 0;
    for (size_t k = 0; k < json_array_size(groups); k++) {
        json_t *g = json_array_get(groups, k);
        json_t *gv = json_object_get(g, key);
        const char *gs = json_is_string(gv) ? json_string_value(gv) : "None";
        json_t *tl = json_object_get(g, "torrents");
        size_t cnt = json_array_size(tl);
        bool one = cnt == 1;
        char title[1024], body[1024];
        snprintf(title, sizeof title, "%s for %s", json_string_value(json_object_get(g, "title")), gs);
        snprintf(body, sizeof body, "Updated %zu %s with %s '%s'", cnt, one ? "torrent" : "torrents", group_by, gs);
        json_t *o = json_pack("{s:O,s:s,s:O,s:O}", "function", json_object_get(g, "function"), "title", title, "body",
                              one ? json_object_get(g, "body") : json_string(body), "torrents", tl);
        if (!o)
            continue;
        if (!one)
            json_decref(json_object_get(o, "body"));   /* the pack took its own reference */
        json_object_set(o, key, gv ? gv : json_null());
        /* which fields survive a group of several torrents (webhooks.py notify) */
        static const char *const fields[] = {"torrent_category", "torrent_tag", "torrent_tracker", "notifiarr_indexer"};
        for (size_t f = 0; f < 4; f++) {
            if (strcmp(fields[f], key) == 0)
                continue;
            bool keep = one || !(by_cat || ((by_tag || by_trk) && f <= 1));
            json_object_set_new(o, fields[f], keep ? get_or_null(g, fields[f]) : json_null());
        }
        am_send_notification(c, o);
        json_decref(o);
    }
    json_decref(groups);
    json_decref(attrs);
}

static void fmt_time(time_t t, char *out, size_t len)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

void am_webhook_start(struct am_ctx *c, bool web_api, bool skip_cleanup, time_t start)
{
    if (!autocfg_list_len(autocfg_at(c->cfg, "webhooks", "run_start")))
        return;
    char ts[32], body[64];
    fmt_time(start, ts, sizeof ts);
    snprintf(body, sizeof body, "Starting %s%sRun", web_api ? "WebAPI " : "", c->dry ? "Dry-" : "");
    json_t *cmds = json_array();
    static const unsigned order[] = {AM_RECHECK,          AM_CAT_UPDATE,   AM_TAG_UPDATE,      AM_REM_UNREGISTERED,
                                     AM_TAG_TRACKER_ERROR, AM_REM_ORPHANED, AM_TAG_NOHARDLINKS, AM_SHARE_LIMITS};
    for (size_t i = 0; i < 8; i++)
        if (c->cmds & order[i])
            json_array_append_new(cmds, json_string(automation_cmd_name((unsigned)__builtin_ctz(order[i]))));
    /* skip_qb_version_check does not apply: torrentd is the client */
    json_t *opts = json_array();
    if (skip_cleanup)
        json_array_append_new(opts, json_string("skip_cleanup"));
    if (c->dry)
        json_array_append_new(opts, json_string("dry_run"));
    json_t *j = json_pack("{s:s,s:n,s:s,s:s,s:b,s:b,s:o,s:o}", "function", "run_start", "title", "body", body,
                          "start_time", ts, "dry_run", c->dry, "web_api_used", web_api, "commands", cmds,
                          "execution_options", opts);
    if (j)
        post(c, "run_start", j);
    json_decref(j);
}

void am_webhook_end(struct am_ctx *c, time_t start, time_t end, int64_t next_run)
{
    if (!autocfg_list_len(autocfg_at(c->cfg, "webhooks", "run_end")))
        return;
    const struct automation_stats *st = c->st;
    char a[32], b[32], n[32];
    fmt_time(start, a, sizeof a);
    fmt_time(end, b, sizeof b);
    if (next_run > 0)
        fmt_time((time_t)next_run, n, sizeof n);
    json_t *j = json_pack("{s:s,s:n,s:s,s:s,s:s,s:o,s:I}", "function", "run_end", "title", "body",
                          c->dry ? "Finished Dry-Run" : "Finished Run", "start_time", a, "end_time", b, "next_run",
                          next_run > 0 ? json_string(n) : json_null(), "run_time", (json_int_t)(end - start));
    if (!j)
        return;
    static const struct {
        const char *key;
        size_t off;
    } f[] = {
#define F(k, s) {k, offsetof(struct automation_stats, s)}
        F("torrents_added", added), F("torrents_deleted", deleted),
        F("torrents_deleted_and_contents_count", deleted_contents), F("torrents_resumed", resumed),
        F("torrents_rechecked", rechecked), F("torrents_categorized", categorized), F("torrents_tagged", tagged),
        F("remove_unregistered", rem_unreg), F("torrents_tagged_tracker_error", tagged_tracker_error),
        F("torrents_untagged_tracker_error", untagged_tracker_error), F("orphaned_files_found", orphaned),
        F("torrents_tagged_no_hardlinks", tagged_noHL), F("torrents_untagged_no_hardlinks", untagged_noHL),
        F("torrents_updated_share_limits", updated_share_limits),
        F("torrents_cleaned_share_limits", cleaned_share_limits),
        F("files_deleted_from_recyclebin", recycle_emptied), F("files_deleted_from_orphaned", orphaned_emptied),
#undef F
    };
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        json_object_set_new(j, f[i].key, json_integer(*(const int64_t *)((const char *)st + f[i].off)));
    post(c, "run_end", j);
    json_decref(j);
}
