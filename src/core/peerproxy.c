/* peerproxy — see peerproxy.h. */
#include "core/peerproxy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/peer.h"
#include "core/proxy.h"
#include "core/session.h"
#include "core/settings.h"
#include "util/log.h"
#include "util/proxyhs.h"

struct peerproxy {
    struct proxyhs hs;
    struct buf out;                 /* request bytes not yet handed to libuv */
    uint8_t *wdata;                 /* the bytes a uv_write holds */
    uv_write_t wreq;
    bool writing;
    uint8_t rbuf[512];
    void (*tunnel_up)(struct peer *p);
    enum proxyhs_kind kind;
    char user[256], pass[256];
};

int peerproxy_prepare(struct peer *p, const struct sockaddr *target, struct sockaddr_storage *dial)
{
    struct session *s = p->s;
    size_t tlen = target->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (!proxy_for_peers(s)) {
        memcpy(dial, target, tlen);
        return 0;
    }
    const struct settings *st = &s->settings;
    const char *type = settings_str(st, SET_PROXY_TYPE);
    enum proxyhs_kind kind = strcmp(type, "HTTP") == 0     ? PROXYHS_HTTP
                           : strcmp(type, "SOCKS4") == 0   ? PROXYHS_SOCKS4
                                                           : PROXYHS_SOCKS5;
    if (kind == PROXYHS_SOCKS4 && target->sa_family != AF_INET)
        return -EAFNOSUPPORT;
    /* proxy_ip, or the address its name resolved to (core/proxy.c) */
    int rc = proxy_peer_address(p->s, dial);
    if (rc != 0)
        return rc;
    struct peerproxy *pp = calloc(1, sizeof *pp);
    if (!pp)
        return -ENOMEM;
    pp->kind = kind;
    /* SOCKS4 sends no credentials (qBittorrent offers none for it). */
    if (kind != PROXYHS_SOCKS4 && settings_bool(st, SET_PROXY_AUTH_ENABLED)) {
        snprintf(pp->user, sizeof pp->user, "%s", settings_str(st, SET_PROXY_USERNAME));
        snprintf(pp->pass, sizeof pp->pass, "%s", settings_str(st, SET_PROXY_PASSWORD));
    }
    p->proxy = pp;
    return 1;
}

void peerproxy_free(struct peerproxy *pp)
{
    if (!pp)
        return;
    buf_free(&pp->out);
    free(pp->wdata);
    memset(pp->user, 0, sizeof pp->user);
    memset(pp->pass, 0, sizeof pp->pass);
    free(pp);
}

static void pp_flush(struct peer *p);

static void on_written(uv_write_t *req, int status)
{
    struct peer *p = req->data;
    struct peerproxy *pp = p->proxy;
    pp->writing = false;
    free(pp->wdata);
    pp->wdata = NULL;
    if (p->state == PEER_CLOSING)
        return;
    if (status != 0) {
        peer_close(p, uv_strerror(status));
        return;
    }
    pp_flush(p);
}

static void pp_flush(struct peer *p)
{
    struct peerproxy *pp = p->proxy;
    if (pp->writing || buf_size(&pp->out) == 0)
        return;
    size_t len;
    pp->wdata = buf_steal(&pp->out, &len);
    if (!pp->wdata) {
        peer_close(p, "out of memory");
        return;
    }
    uv_buf_t b = uv_buf_init((char *)pp->wdata, (unsigned)len);
    pp->wreq.data = p;
    pp->writing = true;
    int rc = uv_write(&pp->wreq, (uv_stream_t *)&p->tcp, &b, 1, on_written);
    if (rc != 0) {
        pp->writing = false;
        peer_close(p, uv_strerror(rc));
    }
}

static void pp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    struct peer *p = h->data;
    (void)suggested;
    out->base = (char *)p->proxy->rbuf;
    out->len = sizeof p->proxy->rbuf;
}

static void pp_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *b)
{
    struct peer *p = h->data;
    struct peerproxy *pp = p->proxy;
    if (p->state == PEER_CLOSING)
        return;
    if (nread < 0) {
        peer_close(p, nread == UV_EOF ? "proxy closed the connection" : uv_strerror((int)nread));
        return;
    }
    size_t used = 0;
    int rc = proxyhs_feed(&pp->hs, (const uint8_t *)b->base, (size_t)nread, &used, &pp->out);
    if (rc < 0) {
        log_msg(LOG_INFO, "peer %s:%u through the proxy: %s", p->ip, p->port, proxyhs_error(&pp->hs));
        peer_close(p, proxyhs_error(&pp->hs));
        return;
    }
    if (rc == 0) {
        pp_flush(p);
        return;
    }
    uv_read_stop(h);
    /* Bytes after the reply are the peer's (over TLS they would be records
     * the TLS layer has to read: the peer never speaks first there). */
    size_t rest = (size_t)nread - used;
    if (rest && (p->tls || buf_append(&p->in, b->base + used, rest) != 0)) {
        peer_close(p, p->tls ? "unexpected bytes before the TLS handshake" : "out of memory");
        return;
    }
    log_debug("peer %s:%u: tunnel through the proxy open", p->ip, p->port);
    pp->tunnel_up(p);
}

void peerproxy_start(struct peer *p, void (*tunnel_up)(struct peer *p))
{
    struct peerproxy *pp = p->proxy;
    pp->tunnel_up = tunnel_up;
    int rc = proxyhs_start(&pp->hs, pp->kind, (const struct sockaddr *)&p->addr, pp->user, pp->pass, &pp->out);
    if (rc != 0) {
        peer_close(p, proxyhs_error(&pp->hs));
        return;
    }
    rc = uv_read_start((uv_stream_t *)&p->tcp, pp_alloc, pp_read);
    if (rc != 0) {
        peer_close(p, uv_strerror(rc));
        return;
    }
    pp_flush(p);
}
