/* web/api/qbt_v2_transfer — transfer/… (global rates, limits, bans). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banlist.h"
#include "core/limits.h"
#include "web/api/qbt_v2_int.h"

static void h_info(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    json_t *o = qbt_v2_transfer_info_json(q->s);
    if (o)
        web_reply_json(r, o);
    else
        web_reply_error(r, 500, NULL);
}

static void reply_int(struct web_req *r, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    web_reply_text(r, 200, buf);
}

static void h_speed_limits_mode(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    web_reply_text(r, 200, q->s->alt_speed ? "1" : "0");
}

/* Replies once the change is committed. */
static void reply_after_commit(void *ud, int rc)
{
    struct web_req *r = ud;
    if (rc == 0)
        web_reply_ok(r);
    else
        web_reply_error(r, 500, "Cannot save the setting");
}

static void set_alt(struct web_req *r, struct qbt_v2 *q, bool alt)
{
    if (limits_set_alt(q->s, alt, reply_after_commit, r) != 0)
        web_reply_error(r, 500, NULL);
}

static void h_toggle_speed_limits_mode(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    set_alt(r, q, !q->s->alt_speed);
}

static void h_set_speed_limits_mode(struct web_req *r, void *ud)
{
    const char *mode = web_req_param(r, "mode");
    char *end = NULL;
    long v = mode ? strtol(mode, &end, 10) : 0;
    if (!mode || !*mode || *end) {
        web_reply_error(r, 400, "'mode': invalid argument");
        return;
    }
    set_alt(r, ud, v != 0);
}

/* The limit of the mode in effect, as qBittorrent reports it. */
static void h_download_limit(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    reply_int(r, (int64_t)q->s->dl_limit.bytes_per_sec);
}

static void h_upload_limit(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    reply_int(r, (int64_t)q->s->ul_limit.bytes_per_sec);
}

static void set_limit(struct web_req *r, struct qbt_v2 *q, bool download)
{
    const char *v = web_req_param(r, "limit");
    if (!v) {
        web_reply_error(r, 400, NULL);
        return;
    }
    long long limit = strtoll(v, NULL, 10);
    if (limit < 0)
        limit = 0;
    const char *key = q->s->alt_speed ? (download ? "alt_dl_limit" : "alt_up_limit")
                                      : (download ? "dl_limit" : "up_limit");
    json_t *changes = json_pack("{s:I}", key, (json_int_t)limit);
    json_t *applied = NULL;
    char err[128];
    if (!changes || prefs_apply(&q->s->prefs, changes, &applied, err, sizeof err) != 0) {
        json_decref(changes);
        web_reply_error(r, 400, NULL);
        return;
    }
    json_decref(changes);
    if (session_prefs_changed(q->s, applied, reply_after_commit, r) != 0)
        web_reply_error(r, 500, NULL);
    json_decref(applied);
}

static void h_set_download_limit(struct web_req *r, void *ud) { set_limit(r, ud, true); }
static void h_set_upload_limit(struct web_req *r, void *ud) { set_limit(r, ud, false); }

/* peers=ip:port|[v6]:port — the port is ignored: bans are per address. */
static void h_ban_peers(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *list = web_req_param(r, "peers");
    if (!list) {
        web_reply_error(r, 400, NULL);
        return;
    }
    char *dup = strdup(list), *save = NULL;
    if (!dup) {
        web_reply_error(r, 500, NULL);
        return;
    }
    for (char *tok = strtok_r(dup, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        char ip[64];
        if (tok[0] == '[') {
            char *close = strchr(tok, ']');
            if (!close || (size_t)(close - tok - 1) >= sizeof ip)
                continue;
            memcpy(ip, tok + 1, (size_t)(close - tok - 1));
            ip[close - tok - 1] = 0;
        } else {
            char *colon = strrchr(tok, ':');
            size_t n = colon ? (size_t)(colon - tok) : strlen(tok);
            if (n >= sizeof ip)
                continue;
            memcpy(ip, tok, n);
            ip[n] = 0;
        }
        banlist_ban(q->s, ip, "Manually banned");
    }
    free(dup);
    web_reply_ok(r);
}

int qbt_v2_register_transfer(struct qbt_v2 *q)
{
    static const struct { const char *path; unsigned methods; web_handler h; } routes[] = {
        {"/api/v2/transfer/info", WEB_GETPOST, h_info},
        {"/api/v2/transfer/speedLimitsMode", WEB_GETPOST, h_speed_limits_mode},
        {"/api/v2/transfer/toggleSpeedLimitsMode", WEB_POST, h_toggle_speed_limits_mode},
        {"/api/v2/transfer/setSpeedLimitsMode", WEB_POST, h_set_speed_limits_mode},
        {"/api/v2/transfer/downloadLimit", WEB_GETPOST, h_download_limit},
        {"/api/v2/transfer/uploadLimit", WEB_GETPOST, h_upload_limit},
        {"/api/v2/transfer/setDownloadLimit", WEB_POST, h_set_download_limit},
        {"/api/v2/transfer/setUploadLimit", WEB_POST, h_set_upload_limit},
        {"/api/v2/transfer/banPeers", WEB_POST, h_ban_peers},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        int rc = web_route_add(q->ws, routes[i].path, routes[i].methods, routes[i].h, q);
        if (rc != 0)
            return rc;
    }
    return 0;
}
