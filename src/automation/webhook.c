/* webhooks: qbit_manage's `webhooks:` section for http(s) URLs — run_start
 * and run_end with its payloads (modules/webhooks.py), POSTed as JSON
 * through the daemon's fetcher on the loop (util/fetch; the proxy_misc
 * proxy when set).  "notifiarr" and "apprise" as a value name those
 * services, which torrentd does not call: logged once per run. */
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
#include "util/fetch.h"
#include "util/log.h"

static void on_sent(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *err)
{
    char *url = ud;
    (void)body;
    (void)len;
    if (rc != 0 || status < 200 || status >= 300)
        log_msg(LOG_WARNING, "qbit_manage: webhook %s failed: %s", url, rc ? err : "HTTP error status");
    free(url);
}

static void post(struct am_ctx *c, const char *url, json_t *j)
{
    if (!url || !*url)
        return;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        log_msg(LOG_INFO, "qbit_manage: webhook \"%s\" is not an http(s) URL: not sent", url);
        return;
    }
    char *body = json_dumps(j, JSON_COMPACT);
    char proxy[512] = "";
    proxy_url(c->s, PROXY_USE_MISC, proxy, sizeof proxy);
    static const char *const headers[] = {"Content-Type: application/json"};
    struct fetch_opts o = {.timeout_ms = 15000,
                           .post_body = body,
                           .post_len = body ? strlen(body) : 0,
                           .headers = headers,
                           .num_headers = 1,
                           .proxy = proxy};
    char *u = strdup(url);
    if (body && u && c->s->fetch && fetch_get(c->s->fetch, url, &o, on_sent, u, NULL) == 0)
        u = NULL;
    else
        log_msg(LOG_WARNING, "qbit_manage: webhook %s not sent", url);
    free(u);
    free(body);
}

static void fmt_time(time_t t, char *out, size_t len)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

void am_webhook_start(struct am_ctx *c, bool web_api, time_t start)
{
    const char *url = autocfg_str(autocfg_at(c->cfg, "webhooks", "run_start"), NULL);
    if (!url)
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
    json_t *j = json_pack("{s:s,s:n,s:s,s:s,s:b,s:b,s:o}", "function", "run_start", "title", "body", body,
                          "start_time", ts, "dry_run", c->dry, "web_api_used", web_api, "commands", cmds);
    if (j)
        post(c, url, j);
    json_decref(j);
}

void am_webhook_end(struct am_ctx *c, time_t start, time_t end, int64_t next_run)
{
    const char *url = autocfg_str(autocfg_at(c->cfg, "webhooks", "run_end"), NULL);
    if (!url)
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
    post(c, url, j);
    json_decref(j);
}
