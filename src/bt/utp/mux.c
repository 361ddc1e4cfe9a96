/* utp mux — the connection table of one UDP socket: lookup by (address,
 * receive id), SYNs, RESETs for strangers, flushes and ticks.  See utp.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "bt/utp/utp_int.h"

uint32_t utp_rand(struct utp_mux *m)
{
    /* xorshift64*: ids and sequence numbers need to be unguessable only
     * as far as the seed (the driver draws it from getrandom). */
    m->rng ^= m->rng >> 12;
    m->rng ^= m->rng << 25;
    m->rng ^= m->rng >> 27;
    return (uint32_t)((m->rng * 2685821657736338717ull) >> 32);
}

/* family, 0, port (2), receive id (2), address (16) */
static int make_key(uint8_t key[UTP_KEY_LEN], const struct sockaddr *sa, uint16_t id)
{
    memset(key, 0, UTP_KEY_LEN);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        key[0] = 4;
        memcpy(key + 2, &a->sin_port, 2);
        memcpy(key + 6, &a->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        key[0] = 6;
        memcpy(key + 2, &a->sin6_port, 2);
        memcpy(key + 6, &a->sin6_addr, 16);
    } else {
        return -EAFNOSUPPORT;
    }
    key[4] = (uint8_t)(id >> 8);
    key[5] = (uint8_t)id;
    return 0;
}

int utp_mux_new(const struct utp_ops *ops, void *ud, const struct utp_config *cfg, struct utp_mux **out)
{
    struct utp_mux *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->ops = *ops;
    m->ud = ud;
    if (cfg)
        m->cfg = *cfg;
    if (!m->cfg.payload)
        m->cfg.payload = UTP_DEFAULT_PAYLOAD;
    if (m->cfg.payload > UTP_MAX_PAYLOAD)
        m->cfg.payload = UTP_MAX_PAYLOAD;
    if (!m->cfg.max_conns)
        m->cfg.max_conns = 4096;
    if (!m->cfg.max_half_open)
        m->cfg.max_half_open = 64;
    m->rng = m->cfg.seed ? m->cfg.seed : 0x9e3779b97f4a7c15ull;
    *out = m;
    return 0;
}

static void unlink_conn(struct utp_conn *c)
{
    struct utp_mux *m = c->m;
    hmap_del(&m->map, c->key, UTP_KEY_LEN);
    if (c->prev)
        c->prev->next = c->next;
    else
        m->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    m->n_conns--;
    if (c->state == UTP_CS_SYN_RECV)
        m->n_half_open--;
}

void utp_mux_free(struct utp_mux *m)
{
    if (!m)
        return;
    struct utp_conn *c = m->conns;
    while (c) {
        struct utp_conn *n = c->next;
        utp_conn_free(c);
        c = n;
    }
    hmap_free(&m->map);
    free(m);
}

size_t utp_mux_count(const struct utp_mux *m) { return m->n_conns; }

void utp_mux_unreachable(struct utp_mux *m, const struct sockaddr *to)
{
    uint8_t key[UTP_KEY_LEN];
    if (make_key(key, to, 0) != 0)
        return;
    for (struct utp_conn *c = m->conns; c; c = c->next) {
        /* the same address and port, whatever the id (bytes 4-5) */
        if (memcmp(c->key, key, 4) == 0 && memcmp(c->key + 6, key + 6, UTP_KEY_LEN - 6) == 0)
            utp_conn_unreachable(c);
    }
}

void utp_mux_half_open_done(struct utp_conn *c) { c->m->n_half_open--; }

static int add_conn(struct utp_mux *m, struct utp_conn *c, uint16_t recv_id)
{
    c->recv_id = recv_id;
    if (make_key(c->key, (const struct sockaddr *)&c->addr, recv_id) != 0)
        return -EAFNOSUPPORT;
    if (hmap_put(&m->map, c->key, UTP_KEY_LEN, c, NULL) != 0)
        return -ENOMEM;
    c->next = m->conns;
    if (m->conns)
        m->conns->prev = c;
    m->conns = c;
    m->n_conns++;
    return 0;
}

static struct utp_conn *find(struct utp_mux *m, const struct sockaddr *sa, uint16_t id)
{
    uint8_t key[UTP_KEY_LEN];
    if (make_key(key, sa, id) != 0)
        return NULL;
    return hmap_get(&m->map, key, UTP_KEY_LEN);
}

int utp_mux_connect(struct utp_mux *m, const struct sockaddr *to, void *app, uint64_t now_us, struct utp_conn **out)
{
    if (to->sa_family != AF_INET && to->sa_family != AF_INET6)
        return -EAFNOSUPPORT;
    if (m->n_conns >= m->cfg.max_conns)
        return -EMFILE;
    struct utp_conn *c = utp_conn_new(m, to, now_us);
    if (!c)
        return -ENOMEM;
    uint16_t id = 0;
    for (int tries = 0; tries < 64; tries++) {
        id = (uint16_t)utp_rand(m);
        if (!find(m, to, id))
            break;
    }
    int rc = add_conn(m, c, id);
    if (rc != 0) {
        utp_conn_free(c);
        return rc;
    }
    c->send_id = (uint16_t)(id + 1);
    c->app = app;
    utp_conn_start(c, now_us);
    *out = c;
    return 0;
}

/* A packet for no connection: RESET, unless it is a RESET or a bare ack
 * (answering those could ping-pong). */
static void reset_stranger(struct utp_mux *m, const struct utp_hdr *h, const struct sockaddr *from, uint64_t now_us)
{
    if (h->type != UTP_ST_DATA && h->type != UTP_ST_FIN && h->type != UTP_ST_SYN)
        return;
    struct utp_hdr r;
    memset(&r, 0, sizeof r);
    r.type = UTP_ST_RESET;
    r.conn_id = h->conn_id;
    r.ts_us = (uint32_t)now_us;
    r.ts_diff_us = (uint32_t)now_us - h->ts_us;
    r.seq = (uint16_t)utp_rand(m);
    r.ack = h->seq;
    uint8_t hdr[UTP_HEADER_MAX];
    size_t hl = utp_packet_write(hdr, &r);
    m->ops.send(m->ud, from, hdr, hl, NULL, 0);
}

static void on_syn(struct utp_mux *m, const struct utp_hdr *h, const struct sockaddr *from, uint64_t now_us)
{
    uint16_t id = (uint16_t)(h->conn_id + 1);
    struct utp_conn *c = find(m, from, id);
    if (c) {
        utp_conn_on_packet(c, h, now_us);   /* a repeated SYN */
        return;
    }
    if (m->n_half_open >= m->cfg.max_half_open)
        return;   /* dropped: the peer tries again, or uses TCP */
    if (m->n_conns >= m->cfg.max_conns) {
        reset_stranger(m, h, from, now_us);
        return;
    }
    c = utp_conn_new(m, from, now_us);
    if (!c)
        return;
    if (add_conn(m, c, id) != 0) {
        utp_conn_free(c);
        return;
    }
    c->send_id = h->conn_id;
    utp_conn_on_syn(c, h, now_us);
    m->n_half_open++;
    if (m->ops.accept(m->ud, c) != 0) {
        c->app_closed = true;
        c->app = NULL;
        unlink_conn(c);
        utp_conn_free(c);
        reset_stranger(m, h, from, now_us);
        return;
    }
    (void)utp_conn_flush(c, now_us);   /* the STATE at once: the peer's clock is running */
}

int utp_mux_recv(struct utp_mux *m, const uint8_t *p, size_t n, const struct sockaddr *from, uint64_t now_us)
{
    struct utp_hdr h;
    if (utp_packet_parse(p, n, &h) != 0)
        return -EPROTO;
    if (h.type == UTP_ST_SYN) {
        on_syn(m, &h, from, now_us);
        return 0;
    }
    struct utp_conn *c = find(m, from, h.conn_id);
    if (!c) {
        reset_stranger(m, &h, from, now_us);
        return 0;
    }
    utp_conn_on_packet(c, &h, now_us);
    return 0;
}

bool utp_mux_flush(struct utp_mux *m, uint64_t now_us)
{
    bool more = false;
    for (struct utp_conn *c = m->conns; c; c = c->next)
        more |= utp_conn_flush(c, now_us);
    return more;
}

void utp_mux_tick(struct utp_mux *m, uint64_t now_us)
{
    struct utp_conn *c = m->conns;
    while (c) {
        struct utp_conn *next = c->next;
        utp_conn_tick(c, now_us);
        if (c->state == UTP_CS_DEAD && c->app_closed) {
            unlink_conn(c);
            utp_conn_free(c);
        }
        c = next;
    }
}
