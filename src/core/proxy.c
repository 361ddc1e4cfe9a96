/* proxy — see proxy.h. */
#include "core/proxy.h"

#include <errno.h>
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

static void apply(struct session *s)
{
    char url[1024];
    if (proxy_url(s, PROXY_USE_TRACKER, url, sizeof url) != 0)
        log_msg(LOG_WARNING, "proxy settings too long: trackers are not contacted");
    /* A URL too long leaves "" with the block on: nothing goes direct. */
    tracker_client_set_proxy(s->trackers, url, proxy_udp_blocked(s));
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
