#include "bt/lsd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "util/buf.h"
#include "util/hex.h"
#include "util/log.h"

#define RECV_MAX 4096   /* real announces are < 1.5 KiB; larger ones arrive truncated and are dropped */

struct sock {
    uv_udp_t h;
    bool init;          /* needs uv_close */
    bool ok;            /* bound and usable */
};

struct bt_lsd {
    uv_loop_t *loop;
    struct sock s4, s6;
    bool unicast;
    bool closing;
    int open;           /* handles not yet closed */
    uint16_t listen_port;
    bt_lsd_peer_cb cb;
    void *ud;
    char cookie[17];
    bool has_target;
    struct sockaddr_storage target;
    uint8_t rbuf[RECV_MAX];
};

/* ---- parsing ----------------------------------------------------------- */

static bool eat_line(const uint8_t **p, const uint8_t *end, const uint8_t **ls, size_t *ll)
{
    if (*p >= end)
        return false;
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *le = nl ? nl : end;
    *ls = *p;
    *ll = (size_t)(le - *p);
    if (*ll > 0 && (*ls)[*ll - 1] == '\r')
        (*ll)--;
    *p = nl ? nl + 1 : end;
    return true;
}

static bool header_is(const uint8_t *l, size_t n, const char *name, const uint8_t **v, size_t *vl)
{
    size_t k = strlen(name);
    if (n <= k || l[k] != ':' || strncasecmp((const char *)l, name, k) != 0)
        return false;
    const uint8_t *s = l + k + 1, *e = l + n;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *v = s;
    *vl = (size_t)(e - s);
    return true;
}

int bt_lsd_parse(const uint8_t *p, size_t n, uint16_t *port, uint8_t (*hashes)[20], size_t max,
                 size_t *nh, char *cookie, size_t cookielen)
{
    static const char reqline[] = "BT-SEARCH * HTTP/1.1";
    *port = 0;
    *nh = 0;
    if (cookie && cookielen)
        cookie[0] = '\0';
    if (n == 0 || n > 65536 || memchr(p, '\0', n))
        return -EPROTO;
    const uint8_t *end = p + n, *l, *v;
    size_t ll, vl;
    if (!eat_line(&p, end, &l, &ll) || ll != sizeof reqline - 1 || memcmp(l, reqline, ll) != 0)
        return -EPROTO;
    bool any_hash = false, have_port = false, have_cookie = false;
    while (eat_line(&p, end, &l, &ll) && ll > 0) {
        if (header_is(l, ll, "Port", &v, &vl)) {
            unsigned x = 0;
            bool good = vl >= 1 && vl <= 5;
            for (size_t i = 0; good && i < vl; i++) {
                good = v[i] >= '0' && v[i] <= '9';
                x = x * 10 + (unsigned)(v[i] - '0');
            }
            if (!good || x == 0 || x > 65535)
                return -EPROTO;
            if (!have_port)
                *port = (uint16_t)x;
            have_port = true;
        } else if (header_is(l, ll, "Infohash", &v, &vl)) {
            uint8_t ih[20];
            if (vl != 40 || hex_decode((const char *)v, 40, ih, 20) != 20)
                continue;
            any_hash = true;
            if (*nh < max)
                memcpy(hashes[(*nh)++], ih, 20);
        } else if (header_is(l, ll, "cookie", &v, &vl) && !have_cookie && cookie && cookielen) {
            have_cookie = true;
            size_t k = 0;
            for (size_t i = 0; i < vl && k + 1 < cookielen; i++)
                cookie[k++] = v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '?';
            cookie[k] = '\0';
        }
    }
    if (!have_port || !any_hash)
        return -EPROTO;
    return 0;
}

/* ---- sockets ----------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct bt_lsd *l = h->data;
    *b = uv_buf_init((char *)l->rbuf, sizeof l->rbuf);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *b, const struct sockaddr *from, unsigned flags)
{
    struct bt_lsd *l = h->data;
    if (nread <= 0 || !from || (flags & UV_UDP_PARTIAL) || l->closing)
        return;
    uint16_t port;
    uint8_t hashes[BT_LSD_MAX_HASHES][20];
    size_t nh;
    char cookie[64];
    if (bt_lsd_parse((const uint8_t *)b->base, (size_t)nread, &port, hashes, BT_LSD_MAX_HASHES, &nh,
                     cookie, sizeof cookie)) {
        log_debug("lsd: malformed datagram of %zd bytes ignored", nread);
        return;
    }
    if (strcmp(cookie, l->cookie) == 0)
        return;   /* our own announce, looped back */
    struct sockaddr_storage peer;
    memset(&peer, 0, sizeof peer);
    if (from->sa_family == AF_INET) {
        memcpy(&peer, from, sizeof(struct sockaddr_in));
        ((struct sockaddr_in *)&peer)->sin_port = htons(port);
    } else if (from->sa_family == AF_INET6) {
        memcpy(&peer, from, sizeof(struct sockaddr_in6));
        ((struct sockaddr_in6 *)&peer)->sin6_port = htons(port);
    } else {
        return;
    }
    for (size_t i = 0; i < nh && !l->closing; i++)
        l->cb(l->ud, hashes[i], (const struct sockaddr *)&peer);
}

static void on_close(uv_handle_t *h)
{
    struct bt_lsd *l = h->data;
    if (--l->open == 0)
        free(l);
}

/* Opens one socket.  iface: the multicast interface or NULL; bind_sa: the
 * address to bind (the wildcard on BT_LSD_PORT in multicast mode). */
static int sock_open(struct bt_lsd *l, struct sock *s, const struct sockaddr *bind_sa, const char *iface)
{
    int fam = bind_sa->sa_family;
    int rc = uv_udp_init_ex(l->loop, &s->h, (unsigned)fam);
    if (rc)
        return rc;
    s->init = true;
    l->open++;
    s->h.data = l;
    unsigned flags = 0;
    if (!l->unicast)
        flags |= UV_UDP_REUSEADDR;   /* other clients on this host listen on 6771 too */
    if (fam == AF_INET6)
        flags |= UV_UDP_IPV6ONLY;
    rc = uv_udp_bind(&s->h, bind_sa, flags);
    if (rc)
        return rc;
    if (!l->unicast) {
        const char *group = fam == AF_INET ? BT_LSD_GROUP4 : BT_LSD_GROUP6;
        int j = uv_udp_set_membership(&s->h, group, iface, UV_JOIN_GROUP);
        if (j)
            log_msg(LOG_WARNING, "Local Peer Discovery: cannot join %s: %s", group, uv_strerror(j));
        if (iface && (j = uv_udp_set_multicast_interface(&s->h, iface)))
            log_msg(LOG_WARNING, "Local Peer Discovery: cannot use interface %s: %s", iface, uv_strerror(j));
        uv_udp_set_multicast_ttl(&s->h, 1);   /* stay on the LAN */
    }
    rc = uv_udp_recv_start(&s->h, on_alloc, on_recv);
    if (rc)
        return rc;
    s->ok = true;
    return 0;
}

/* "ip:port" / "[ip6]:port" into ss; false when it is not of that form. */
static bool split_host_port(const char *s, struct sockaddr_storage *ss)
{
    char host[64];
    const char *colon;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof host)
            return false;
        memcpy(host, s + 1, (size_t)(rb - s - 1));
        host[rb - s - 1] = '\0';
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            return false;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    char *e;
    long port = strtol(colon + 1, &e, 10);
    if (colon[1] == '\0' || *e || port < 0 || port > 65535)
        return false;
    if (s[0] == '[')
        return uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0;
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0;
}

int bt_lsd_new(uv_loop_t *loop, uint16_t listen_port, const char *bind_address,
               bt_lsd_peer_cb cb, void *ud, struct bt_lsd **out)
{
    *out = NULL;
    struct bt_lsd *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->loop = loop;
    l->listen_port = listen_port;
    l->cb = cb;
    l->ud = ud;
    uint8_t rnd[8];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        free(l);
        return -EIO;
    }
    hex_encode(rnd, sizeof rnd, l->cookie);

    const char *b = bind_address && *bind_address ? bind_address : NULL;
    struct sockaddr_in a4, any4;
    struct sockaddr_in6 a6, any6;
    struct sockaddr_storage exact;
    uv_ip4_addr("0.0.0.0", BT_LSD_PORT, &any4);
    uv_ip6_addr("::", BT_LSD_PORT, &any6);
    int rc = 0;
    if (b && uv_ip4_addr(b, 0, &a4) == 0) {
        rc = sock_open(l, &l->s4, (const struct sockaddr *)&any4,
                       a4.sin_addr.s_addr == htonl(INADDR_ANY) ? NULL : b);
    } else if (b && uv_ip6_addr(b, 0, &a6) == 0) {
        rc = sock_open(l, &l->s6, (const struct sockaddr *)&any6,
                       IN6_IS_ADDR_UNSPECIFIED(&a6.sin6_addr) ? NULL : b);
    } else if (b) {
        memset(&exact, 0, sizeof exact);
        if (!split_host_port(b, &exact)) {
            log_msg(LOG_WARNING, "Local Peer Discovery: bad bind address \"%s\"", b);
            free(l);
            return -EINVAL;
        }
        l->unicast = true;
        rc = sock_open(l, exact.ss_family == AF_INET ? &l->s4 : &l->s6, (const struct sockaddr *)&exact, NULL);
    } else {
        rc = sock_open(l, &l->s4, (const struct sockaddr *)&any4, NULL);
        int r6 = sock_open(l, &l->s6, (const struct sockaddr *)&any6, NULL);
        if (r6)
            log_debug("lsd: no IPv6: %s", uv_strerror(r6));
        if (rc && l->s6.ok)
            rc = 0;   /* IPv6 alone will do */
    }
    if (rc) {
        log_msg(LOG_WARNING, "Local Peer Discovery: cannot listen: %s", uv_strerror(rc));
        bt_lsd_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void bt_lsd_free(struct bt_lsd *l)
{
    if (!l || l->closing)
        return;
    l->closing = true;
    if (l->open == 0) {
        free(l);
        return;
    }
    if (l->s4.init)
        uv_close((uv_handle_t *)&l->s4.h, on_close);
    if (l->s6.init)
        uv_close((uv_handle_t *)&l->s6.h, on_close);
}

int bt_lsd_set_target(struct bt_lsd *l, const struct sockaddr *dst)
{
    if (dst->sa_family != AF_INET && dst->sa_family != AF_INET6)
        return -EINVAL;
    memset(&l->target, 0, sizeof l->target);
    memcpy(&l->target, dst, dst->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    l->has_target = true;
    return 0;
}

int bt_lsd_local_port(const struct bt_lsd *l)
{
    const struct sock *s = l->s4.ok ? &l->s4 : l->s6.ok ? &l->s6 : NULL;
    if (!s)
        return -ENOTCONN;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_udp_getsockname(&s->h, (struct sockaddr *)&ss, &len))
        return -ENOTCONN;
    return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                   : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int send_one(struct bt_lsd *l, struct sock *s, const struct sockaddr *dst, const char *host,
                    const uint8_t *const *ih, size_t n)
{
    struct buf b = BUF_INIT;
    int rc = buf_appendf(&b, "BT-SEARCH * HTTP/1.1\r\nHost: %s\r\nPort: %u\r\n", host, (unsigned)l->listen_port);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char hex[41];
        hex_encode(ih[i], 20, hex);
        rc = buf_appendf(&b, "Infohash: %s\r\n", hex);
    }
    rc = rc ? rc : buf_appendf(&b, "cookie: %s\r\n\r\n\r\n", l->cookie);
    if (rc == 0) {
        uv_buf_t ub = uv_buf_init((char *)buf_head(&b), (unsigned)buf_size(&b));
        int r = uv_udp_try_send(&s->h, &ub, 1, dst);
        rc = r < 0 ? r : 0;
        if (rc)
            log_debug("lsd: send failed: %s", uv_strerror(rc));
    }
    buf_free(&b);
    return rc;
}

int bt_lsd_announce(struct bt_lsd *l, const uint8_t *const *info_hashes, size_t n)
{
    if (l->closing)
        return -ENOTCONN;
    if (l->unicast && !l->has_target)
        return -ENOTCONN;
    struct sockaddr_in g4;
    struct sockaddr_in6 g6;
    uv_ip4_addr(BT_LSD_GROUP4, BT_LSD_PORT, &g4);
    uv_ip6_addr(BT_LSD_GROUP6, BT_LSD_PORT, &g6);
    int first = 0;
    for (size_t off = 0; off < n; off += BT_LSD_HASHES_PER_MSG) {
        size_t k = n - off < BT_LSD_HASHES_PER_MSG ? n - off : BT_LSD_HASHES_PER_MSG;
        for (int fam = 0; fam < 2; fam++) {
            struct sock *s = fam == 0 ? &l->s4 : &l->s6;
            const struct sockaddr *dst = fam == 0 ? (const struct sockaddr *)&g4 : (const struct sockaddr *)&g6;
            if (!s->ok)
                continue;
            if (l->has_target) {
                if (l->target.ss_family != (fam == 0 ? AF_INET : AF_INET6))
                    continue;
                dst = (const struct sockaddr *)&l->target;
            }
            int rc = send_one(l, s, dst, fam == 0 ? BT_LSD_GROUP4 ":6771" : "[" BT_LSD_GROUP6 "]:6771",
                              info_hashes + off, k);
            if (rc && !first)
                first = rc;
        }
    }
    return first;
}
