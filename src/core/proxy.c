/* proxy — see proxy.h. */
#include "core/proxy.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/session.h"
#include "core/discovery.h"
#include "core/settings.h"
#include "bt/tracker/tracker.h"
#include "util/log.h"
#include "util/buf.h"
#include "util/pct.h"

int proxy_url(const struct session *s, enum proxy_use use, char *buf, size_t len)
{
    const struct settings *st = &s->settings;
    if (len)
        buf[0] = '\0';
    bool on = use == PROXY_USE_RSS       ? settings_bool(st, SET_PROXY_RSS)
            : use == PROXY_USE_MISC      ? settings_bool(st, SET_PROXY_MISC)
            : use == PROXY_USE_TRACKER   ? settings_bool(st, SET_PROXY_BITTORRENT)
                                         : proxy_for_peers(s);
    const char *type = settings_str(st, SET_PROXY_TYPE);
    bool http = strcmp(type, "HTTP") == 0, s5 = strcmp(type, "SOCKS5") == 0, s4 = strcmp(type, "SOCKS4") == 0;
    if (!on || !(http || s5 || s4))
        return 0;
    bool lookup = settings_bool(st, SET_PROXY_HOSTNAME_LOOKUP);
    const char *scheme = http ? "http" : s5 ? (lookup ? "socks5h" : "socks5") : (lookup ? "socks4a" : "socks4");
    bool auth = !s4 && settings_bool(st, SET_PROXY_AUTH_ENABLED);
    /* Credentials percent-encoded (RFC 3986 userinfo): a password may hold
     * ':', '@' or a space. */
    struct buf cred = BUF_INIT;
    if (auth) {
        const char *u = settings_str(st, SET_PROXY_USERNAME), *p = settings_str(st, SET_PROXY_PASSWORD);
        pct_encode(&cred, u, strlen(u), &pct_rfc3986);
        buf_append_u8(&cred, ':');
        pct_encode(&cred, p, strlen(p), &pct_rfc3986);
        buf_append_u8(&cred, '@');
    }
    int n = buf_error(&cred) ? -1
                             : snprintf(buf, len, "%s://%.*s%s:%lld", scheme, (int)buf_size(&cred),
                                        auth ? (const char *)buf_head(&cred) : "", settings_str(st, SET_PROXY_IP),
                                        (long long)settings_int(st, SET_PROXY_PORT));
    buf_free(&cred);
    if (n < 0 || (size_t)n >= len) {
        if (len)
            buf[0] = '\0';
        return -ENAMETOOLONG;
    }
    return 0;
}

static bool proxy_set(const struct settings *st)
{
    const char *type = settings_str(st, SET_PROXY_TYPE);
    return strcmp(type, "HTTP") == 0 || strcmp(type, "SOCKS5") == 0 || strcmp(type, "SOCKS4") == 0;
}

bool proxy_udp_blocked(const struct session *s)
{
    return proxy_set(&s->settings) && settings_bool(&s->settings, SET_PROXY_BITTORRENT);
}

bool proxy_for_peers(const struct session *s)
{
    return proxy_udp_blocked(s) && settings_bool(&s->settings, SET_PROXY_PEER_CONNECTIONS);
}

/* ---- the proxy's own name ---- */

struct proxy_host {
    struct session *s;              /* NULL once let go: the callback frees it */
    uv_getaddrinfo_t req;
    char name[256];
    int rc;                         /* 0 resolved, -EINPROGRESS running, < 0 failed */
    struct sockaddr_storage addr;   /* port 0 */
};

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct proxy_host *ph = req->data;
    if (ph->s) {
        /* IPv4 first, as a connect through the proxy would try it. */
        const struct addrinfo *pick = NULL;
        for (const struct addrinfo *a = status == 0 ? res : NULL; a; a = a->ai_next)
            if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) && (!pick || (pick->ai_family == AF_INET6 && a->ai_family == AF_INET)))
                pick = a;
        if (pick) {
            memcpy(&ph->addr, pick->ai_addr, pick->ai_addrlen);
            ph->rc = 0;
        } else {
            ph->rc = -EHOSTUNREACH;
            log_msg(LOG_WARNING, "proxy host \"%s\" does not resolve: peers are not connected", ph->name);
        }
    }
    uv_freeaddrinfo(res);
    if (!ph->s)
        free(ph);
}

static void host_let_go(struct session *s)
{
    struct proxy_host *ph = s->proxy_host;
    s->proxy_host = NULL;
    if (!ph)
        return;
    if (ph->rc == -EINPROGRESS) {
        ph->s = NULL;   /* freed by on_resolved */
        uv_cancel((uv_req_t *)&ph->req);
    } else {
        free(ph);
    }
}

/* proxy_ip as a name: resolve it (once per value). */
static void host_lookup(struct session *s)
{
    const char *ip = settings_str(&s->settings, SET_PROXY_IP);
    struct sockaddr_storage tmp;
    bool numeric = uv_ip4_addr(ip, 0, (struct sockaddr_in *)&tmp) == 0 || uv_ip6_addr(ip, 0, (struct sockaddr_in6 *)&tmp) == 0;
    if (!proxy_for_peers(s) || numeric || !*ip) {
        host_let_go(s);
        return;
    }
    if (s->proxy_host && strcmp(s->proxy_host->name, ip) == 0)
        return;
    host_let_go(s);
    struct proxy_host *ph = calloc(1, sizeof *ph);
    if (!ph)
        return;
    ph->s = s;
    ph->rc = -EINPROGRESS;
    ph->req.data = ph;
    snprintf(ph->name, sizeof ph->name, "%s", ip);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
    if (uv_getaddrinfo(s->loop, &ph->req, on_resolved, ph->name, NULL, &hints) != 0) {
        ph->rc = -EHOSTUNREACH;
    }
    s->proxy_host = ph;
}

int proxy_peer_address(struct session *s, struct sockaddr_storage *out)
{
    const char *ip = settings_str(&s->settings, SET_PROXY_IP);
    int port = (int)settings_int(&s->settings, SET_PROXY_PORT);
    memset(out, 0, sizeof *out);
    if (uv_ip4_addr(ip, port, (struct sockaddr_in *)out) == 0 || uv_ip6_addr(ip, port, (struct sockaddr_in6 *)out) == 0)
        return 0;
    struct proxy_host *ph = s->proxy_host;
    if (!ph || strcmp(ph->name, ip) != 0) {
        host_lookup(s);
        return -EINPROGRESS;
    }
    if (ph->rc != 0)
        return ph->rc;
    memcpy(out, &ph->addr, sizeof *out);
    if (out->ss_family == AF_INET)
        ((struct sockaddr_in *)out)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)port);
    return 0;
}

void proxy_close(struct session *s) { host_let_go(s); }

static void apply(struct session *s)
{
    char url[1024];
    if (proxy_url(s, PROXY_USE_TRACKER, url, sizeof url) != 0)
        log_msg(LOG_WARNING, "proxy settings too long: trackers are not contacted");
    /* A URL too long leaves "" with the block on: nothing goes direct. */
    tracker_client_set_proxy(s->trackers, url, proxy_udp_blocked(s));
    host_lookup(s);
}

static void on_proxy_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    struct session *s = ud;
    apply(s);
    discovery_prefs_changed(s);   /* the DHT goes off (or back on) with the block */
}

int proxy_init(struct session *s)
{
    apply(s);
    return settings_add_hook(&s->settings, SG_PROXY, on_proxy_changed, s);
}
