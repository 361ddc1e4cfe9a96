/* web/api/qbt_v2_transfer — transfer/… (global rates, limits, bans). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banlist.h"
#include "core/limits.h"
#include "util/log.h"
#include "web/api/qbt_v2_int.h"

static void h_info(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    json_t *o = qbt_v2_transfer_info_json(q->s);
    web_reply_json(r, o);   /* NULL = 500 */
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
    web_reply_text(r, 200, limits_alt(q->s) ? "1" : "0");
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
    set_alt(r, q, !limits_alt(q->s));
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
    reply_int(r, (int64_t)limits_rate(q->s, true));
}

static void h_upload_limit(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    reply_int(r, (int64_t)limits_rate(q->s, false));
}

static void set_limit(struct web_req *r, struct qbt_v2 *q, bool download)
{
    const char *v = web_req_param(r, "limit");
    if (!v) {
        web_reply_error(r, 400, NULL);
        return;
    }
    int rc = limits_set_rate(q->s, download, strtoll(v, NULL, 10), reply_after_commit, r);
    if (rc != 0)
        web_reply_error(r, rc == -EINVAL ? 400 : 500, NULL);
}

static void h_set_download_limit(struct web_req *r, void *ud) { set_limit(r, ud, true); }
static void h_set_upload_limit(struct web_req *r, void *ud) { set_limit(r, ud, false); }

/* An address as QHostAddress::toString writes it (RFC 5952 for IPv6, as
 * inet_ntop does); 0 or -EINVAL. */
static int ip_text(const char *ip, char *out, size_t outlen)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1)
        return inet_ntop(AF_INET, a, out, (socklen_t)outlen) ? 0 : -EINVAL;
    if (inet_pton(AF_INET6, ip, a) == 1)
        return inet_ntop(AF_INET6, a, out, (socklen_t)outlen) ? 0 : -EINVAL;
    return -EINVAL;
}

/* peers=ip:port|[v6]:port — the port is ignored: bans are per address. */
static int peer_ip(const char *tok, char *out, size_t outlen)
{
    char ip[64];
    const char *end = tok[0] == '[' ? strchr(tok, ']') : strrchr(tok, ':');
    const char *from = tok[0] == '[' ? tok + 1 : tok;
    size_t n = end ? (size_t)(end - from) : strlen(from);
    if ((tok[0] == '[' && !end) || n >= sizeof ip)
        return -EINVAL;
    memcpy(ip, from, n);
    ip[n] = 0;
    return ip_text(ip, out, outlen);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *qbt_v2_ban_list(const char *list)
{
    size_t cap = 1, n = 0, len = 1;
    for (const char *c = list; *c; c++)
        cap += *c == '\n';
    char *dup = strdup(list), *save = NULL, *out = NULL;
    char(*v)[64] = calloc(cap, sizeof(*v));
    char **p = calloc(cap, sizeof(*p));
    if (!dup || !v || !p)
        goto done;
    for (char *tok = strtok_r(dup, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
        if (ip_text(tok, v[n], sizeof(v[0])) != 0) {
            log_msg(LOG_WARNING, "Rejected invalid IP address while applying the list of banned IP addresses. "
                                 "IP: \"%s\"", tok);
            continue;
        }
        p[n] = v[n];
        len += strlen(v[n++]) + 1;
    }
    qsort(p, n, sizeof(*p), cmp_str);
    out = malloc(len);
    if (!out)
        goto done;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(p[i], p[i - 1]) == 0)
            continue;
        if (out[0])
            strcat(out, "\n");
        strcat(out, p[i]);
    }
done:
    free(p);
    free(v);
    free(dup);
    return out;
}

struct ban_save {
    struct web_req *r;
    struct settings_mask applied;
};

static void on_bans_saved(void *ud, int rc)
{
    struct ban_save *b = ud;
    if (rc != 0) {
        log_msg(LOG_WARNING, "WebAPI: banned_IPs could not be saved (%d)", rc);
        web_reply_error(b->r, 500, NULL);
    } else {
        web_reply_ok(b->r);
    }
    free(b);
}

/* Bans at once (disconnect, peer log) and, like qBittorrent's banIP, adds
 * each new address to the banned_IPs preference (kept sorted by
 * qbt_v2_ban_list), committed before "Ok.". */
static void h_ban_peers(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *list = web_req_param(r, "peers");
    if (!list) {
        web_reply_error(r, 400, NULL);
        return;
    }
    const char *old = settings_str(&q->s->settings, SET_BANNED_IPS);
    char *dup = strdup(list), *save = NULL, *text = NULL;
    char *joined = malloc(strlen(old) + strlen(list) + 2);
    if (!dup || !joined)
        goto fail;
    strcpy(joined, old);
    for (char *tok = strtok_r(dup, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        char ip[64];
        if (peer_ip(tok, ip, sizeof ip) != 0)
            continue;
        banlist_ban(q->s, ip, "Manually banned");
        strcat(strcat(joined, "\n"), ip);
    }
    text = qbt_v2_ban_list(joined);
    if (text && strcmp(text, old) == 0) {
        web_reply_ok(r);
        goto done;
    }
    struct ban_save *b = text ? calloc(1, sizeof(*b)) : NULL;
    int rc = b ? settings_set_str(&q->s->settings, SET_BANNED_IPS, text, &b->applied) : -ENOMEM;
    if (rc == 0) {
        b->r = r;
        rc = session_settings_changed(q->s, &b->applied, on_bans_saved, b);
        if (rc != 0)
            on_bans_saved(b, rc);
        goto done;
    }
    free(b);
fail:
    web_reply_error(r, 500, NULL);
done:
    free(text);
    free(joined);
    free(dup);
}

int qbt_v2_register_transfer(struct qbt_v2 *q)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/transfer/info", WEB_GETPOST, h_info, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/transfer/speedLimitsMode", WEB_GETPOST, h_speed_limits_mode, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/transfer/toggleSpeedLimitsMode", WEB_POST, h_toggle_speed_limits_mode, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/transfer/setSpeedLimitsMode", WEB_POST, h_set_speed_limits_mode, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/transfer/downloadLimit", WEB_GETPOST, h_download_limit, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/transfer/uploadLimit", WEB_GETPOST, h_upload_limit, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/transfer/setDownloadLimit", WEB_POST, h_set_download_limit, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/transfer/setUploadLimit", WEB_POST, h_set_upload_limit, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/transfer/banPeers", WEB_POST, h_ban_peers, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
}
