/* dht — sockets, incoming queries, outgoing queries, maintenance.
 * See dht.h; lookups are in lookup.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/dht/dht_int.h"
#include "util/log.h"

#define DHT_PING_GAP_MS 60000        /* between pings of one questionable node */
#define DHT_PINGS_PER_TICK 4
#define DHT_REBOOT_MS 30000          /* re-bootstrap pace while the table is small */
#define DHT_EXPIRE_MS 60000

struct dht_resolve {
    uv_getaddrinfo_t req;
    struct dht *d;              /* NULL once the DHT is freed */
    struct dht_resolve *next;
};

/* ---- sending ---- */

static void send_msg(struct dht *d, const union dht_addr *to, const struct dht_msg *m)
{
    struct dht_sock *s = d->sock[dht_fam(to)];
    if (!s)
        return;
    buf_reset(&d->out);
    if (dht_krpc_encode(&d->out, m) != 0)
        return;
    uv_buf_t b = uv_buf_init((char *)buf_head(&d->out), (unsigned)buf_size(&d->out));
    int rc = uv_udp_try_send(&s->h, &b, 1, &to->sa);
    if (rc < 0)
        log_debug("dht: send failed: %s", uv_strerror(rc));   /* UDP is lossy anyway */
}

static unsigned want_bits(const struct dht *d)
{
    return d->sock[0] && d->sock[1] ? DHT_WANT_N4 | DHT_WANT_N6 : 0;
}

int dht_send_query(struct dht *d, const union dht_addr *to, int method, const uint8_t *target,
                   struct dht_lookup *l, bool bootstrap, const uint8_t *token, size_t token_len,
                   uint16_t port)
{
    if (!d->sock[dht_fam(to)])
        return -EAFNOSUPPORT;
    if (d->n_pend >= DHT_MAX_PENDING)
        return -EBUSY;
    if (!d->pend) {
        d->pend = malloc(DHT_MAX_PENDING * sizeof *d->pend);
        if (!d->pend)
            return -ENOMEM;
    }
    struct dht_msg m;
    dht_msg_init(&m);
    m.type = DHT_MSG_QUERY;
    m.method = method;
    uint32_t tid = d->next_tid++;
    wr_be32(m.tid, tid);
    m.tid_len = 4;
    m.has_id = true;
    memcpy(m.id, d->id, DHT_ID_LEN);
    if (target) {
        m.has_target = true;
        memcpy(m.target, target, DHT_ID_LEN);
    }
    if (method == DHT_M_FIND_NODE || method == DHT_M_GET_PEERS)
        m.want = want_bits(d);
    if (method == DHT_M_ANNOUNCE_PEER) {
        if (token_len == 0 || token_len > DHT_TOKEN_MAX)
            return -EINVAL;
        memcpy(m.token, token, token_len);
        m.token_len = token_len;
        m.implied_port = port == 0;
        m.port = port ? port : dht_port(d);
    }
    send_msg(d, to, &m);
    d->pend[d->n_pend++] = (struct dht_pending){
        .tid = tid, .addr = *to, .sent_ms = d->now, .method = method, .l = l, .bootstrap = bootstrap};
    dht_rt_pinged(&d->rt[dht_fam(to)], to, d->now);
    return 0;
}

/* ---- answering queries ---- */

/* Per-second budgets: in total and per source IP. */
static bool rate_ok(struct dht *d, const union dht_addr *from)
{
    uint64_t sec = uv_now(d->loop) / 1000;
    if (sec != d->rl_sec) {
        d->rl_sec = sec;
        d->rl_count = 0;
    }
    if (d->rl_count >= d->rate_total)
        return false;
    uint8_t c[18];
    size_t n = dht_addr_compact(from, c);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i + 2 < n; i++)   /* the IP, not the port */
        h = (h ^ c[i]) * 16777619u;
    struct dht_rl_slot *slot = &d->rl[h % 256];
    if (slot->sec != sec || !dht_addr_ip_eq(&slot->ip, from)) {
        if (slot->sec == sec && slot->count >= d->rate_ip)
            return false;   /* a collision shares the budget: conservative */
        slot->ip = *from;
        slot->sec = sec;
        slot->count = 0;
    }
    if (slot->count >= d->rate_ip)
        return false;
    slot->count++;
    d->rl_count++;
    return true;
}

static void reply_error(struct dht *d, const union dht_addr *to, const struct dht_msg *q, int code,
                        const char *msg)
{
    struct dht_msg e;
    dht_msg_init(&e);
    e.type = DHT_MSG_ERROR;
    memcpy(e.tid, q->tid, q->tid_len);
    e.tid_len = q->has_tid ? q->tid_len : 0;
    e.error_code = code;
    snprintf(e.error_msg, sizeof e.error_msg, "%s", msg);
    send_msg(d, to, &e);
}

/* Fills the closest nodes of each wanted family into r. */
static void put_nodes(struct dht *d, int fam, unsigned want, const uint8_t target[DHT_ID_LEN],
                      struct dht_msg *r, uint8_t *n4, uint8_t *n6)
{
    if (!want)
        want = fam ? DHT_WANT_N6 : DHT_WANT_N4;
    struct dht_rt_node near[DHT_K];
    for (int f = 0; f < 2; f++) {
        if (!(want & (f ? DHT_WANT_N6 : DHT_WANT_N4)) || !d->sock[f])
            continue;
        size_t n = dht_rt_closest(&d->rt[f], target, near, DHT_K), len = 0;
        uint8_t *out = f ? n6 : n4;
        for (size_t i = 0; i < n; i++) {
            memcpy(out + len, near[i].id, DHT_ID_LEN);
            len += DHT_ID_LEN;
            len += dht_addr_compact(&near[i].addr, out + len);
        }
        if (f) {
            r->nodes6 = n6;
            r->nodes6_len = len;
        } else {
            r->nodes = n4;
            r->nodes_len = len;
        }
    }
}

static void handle_query(struct dht *d, const union dht_addr *from, const struct dht_msg *q)
{
    int fam = dht_fam(from);
    if (!q->read_only) {
        bool bep42 = dht_node_id_valid(q->id, from);
        if (dht_rt_seen(&d->rt[fam], q->id, from, false, bep42, d->now) == DHT_RT_ADDED)
            dht_send_query(d, from, DHT_M_PING, NULL, NULL, false, NULL, 0, 0);   /* confirm it */
    }
    struct dht_msg r;
    dht_msg_init(&r);
    r.type = DHT_MSG_RESPONSE;
    memcpy(r.tid, q->tid, q->tid_len);
    r.tid_len = q->tid_len;
    r.has_id = true;
    memcpy(r.id, d->id, DHT_ID_LEN);
    r.ip_len = dht_addr_compact(from, r.ip);
    uint8_t n4[DHT_K * DHT_NODE4_LEN], n6[DHT_K * DHT_NODE6_LEN];
    switch (q->method) {
    case DHT_M_PING:
        break;
    case DHT_M_FIND_NODE:
        put_nodes(d, fam, q->want, q->target, &r, n4, n6);
        break;
    case DHT_M_GET_PEERS: {
        dht_token_make(&d->tokens, from, r.token);
        r.token_len = DHT_TOKEN_LEN;
        /* values of the querier's family; sized to stay well under an MTU */
        size_t max = fam ? 30 : 50;
        struct dht_peer vals[50];
        r.n_values = dht_store_get(&d->store, q->target, fam ? 18 : 6, d->now, vals, max);
        memcpy(r.values, vals, r.n_values * sizeof vals[0]);
        put_nodes(d, fam, q->want, q->target, &r, n4, n6);
        break;
    }
    case DHT_M_ANNOUNCE_PEER: {
        if (!dht_token_valid(&d->tokens, from, q->token, q->token_len)) {
            reply_error(d, from, q, DHT_ERR_PROTOCOL, "bad token");
            return;
        }
        union dht_addr peer = *from;
        if (!q->implied_port) {
            if (fam)
                peer.in6.sin6_port = htons((uint16_t)q->port);
            else
                peer.in.sin_port = htons((uint16_t)q->port);
        }
        struct dht_peer p;
        p.len = (uint8_t)dht_addr_compact(&peer, p.b);
        int rc = dht_store_add(&d->store, q->target, &p, d->now);
        if (rc == -ENOMEM) {
            reply_error(d, from, q, DHT_ERR_SERVER, "out of memory");
            return;
        }
        break;
    }
    default:
        reply_error(d, from, q, DHT_ERR_METHOD, "Method Unknown");
        return;
    }
    send_msg(d, from, &r);
}

/* ---- replies ---- */

static void start_self_lookup(struct dht *d, const union dht_addr *seed_addr, const struct dht_msg *m)
{
    struct dht_lookup *l = NULL;
    for (struct dht_lookup *x = d->lookups; x; x = x->next)
        if (x->internal && memcmp(x->target, d->id, DHT_ID_LEN) == 0)
            l = x;
    if (!l && d->n_internal < DHT_MAX_INTERNAL)
        l = dht_lookup_start(d, d->id, false, true);
    if (!l)
        return;
    if (m) {
        dht_lookup_add(l, m->id, seed_addr);
        dht_lookup_add_nodes(l, m->nodes, m->nodes_len, m->nodes6, m->nodes6_len);
    }
    dht_lookup_step(l);
}

static void handle_reply(struct dht *d, const union dht_addr *from, const struct dht_msg *m)
{
    size_t i;
    for (i = 0; i < d->n_pend; i++)
        if (m->tid_len == 4 && d->pend[i].tid == rd_be32(m->tid) && dht_addr_eq(&d->pend[i].addr, from))
            break;
    if (i == d->n_pend)
        return;   /* unsolicited, late or spoofed */
    struct dht_pending p = d->pend[i];
    d->pend[i] = d->pend[--d->n_pend];
    if (m->type == DHT_MSG_RESPONSE) {
        bool bep42 = dht_node_id_valid(m->id, from);
        dht_rt_seen(&d->rt[dht_fam(from)], m->id, from, true, bep42, d->now);
    } else {
        char a[64];
        log_debug("dht: error %d \"%s\" from %s", m->error_code, m->error_msg, dht_addr_str(from, a, sizeof a));
    }
    if (p.l)
        dht_lookup_reply(p.l, from, m);
    else if (p.bootstrap && m->type == DHT_MSG_RESPONSE)
        start_self_lookup(d, from, m);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct dht_sock *s = h->data;
    *b = uv_buf_init((char *)s->d->rx, sizeof s->d->rx);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags)
{
    (void)buf;
    struct dht_sock *s = h->data;
    struct dht *d = s->d;
    union dht_addr from;
    if (nread > 0 && addr && !(flags & UV_UDP_PARTIAL) && d->rx[0] != 'd' && d->other) {
        d->other(d->other_ud, d->rx, (size_t)nread, addr);
        return;
    }
    if (nread <= 0 || !addr || (flags & UV_UDP_PARTIAL) || (size_t)nread > DHT_MAX_PACKET ||
        dht_addr_set(&from, addr) != 0 || dht_fam(&from) != s->fam || !dht_addr_usable(&from, d->allow_local))
        return;
    struct dht_msg m;
    int rc = dht_krpc_parse(d->rx, (size_t)nread, &m);
    if (rc != 0) {
        char a[64];
        log_debug("dht: malformed packet from %s: %s", dht_addr_str(&from, a, sizeof a), m.error_msg);
        if (m.type == DHT_MSG_QUERY && rate_ok(d, &from))
            reply_error(d, &from, &m, m.error_code ? m.error_code : DHT_ERR_PROTOCOL, m.error_msg);
        return;
    }
    if (m.type == DHT_MSG_QUERY) {
        if (rate_ok(d, &from))
            handle_query(d, &from, &m);
    } else {
        handle_reply(d, &from, &m);
    }
}

/* ---- lifecycle ---- */

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static int open_sock(struct dht *d, int fam, const union dht_addr *bind_to)
{
    struct dht_sock *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->d = d;
    s->fam = fam;
    int rc = uv_udp_init(d->loop, &s->h);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->h.data = s;
    rc = uv_udp_bind(&s->h, &bind_to->sa, fam ? UV_UDP_IPV6ONLY : 0);
    if (rc == 0)
        rc = uv_udp_recv_start(&s->h, on_alloc, on_recv);
    if (rc < 0) {
        uv_close((uv_handle_t *)&s->h, on_sock_closed);
        return rc;
    }
    d->sock[fam] = s;
    return 0;
}

void dht_set_other(struct dht *d, dht_other_cb cb, void *ud)
{
    d->other = cb;
    d->other_ud = ud;
}

uv_udp_t *dht_socket(struct dht *d, int family)
{
    struct dht_sock *s = d->sock[family == AF_INET6];
    return s ? &s->h : NULL;
}

uint16_t dht_port(const struct dht *d)
{
    for (int f = 0; f < 2; f++) {
        if (!d->sock[f])
            continue;
        union dht_addr a;
        int len = sizeof a;
        if (uv_udp_getsockname(&d->sock[f]->h, &a.sa, &len) == 0)
            return ntohs(f ? a.in6.sin6_port : a.in.sin_port);
    }
    return 0;
}

int dht_new(uv_loop_t *loop, const struct dht_config *cfg, struct dht **out)
{
    *out = NULL;
    union dht_addr b4, b6;
    memset(&b4, 0, sizeof b4);
    memset(&b6, 0, sizeof b6);
    b4.in.sin_family = AF_INET;
    b4.in.sin_port = htons(cfg->port);
    b6.in6.sin6_family = AF_INET6;
    b6.in6.sin6_port = htons(cfg->port);
    bool want4 = true, want6 = cfg->ipv6;
    const union dht_addr *public_ip = NULL;
    if (cfg->bind_address) {
        if (inet_pton(AF_INET, cfg->bind_address, &b4.in.sin_addr) == 1) {
            want6 = false;
            public_ip = &b4;
        } else if (inet_pton(AF_INET6, cfg->bind_address, &b6.in6.sin6_addr) == 1) {
            want4 = false;
            want6 = true;
            public_ip = &b6;
        } else {
            log_msg(LOG_WARNING, "DHT: invalid bind address \"%s\"", cfg->bind_address);
            return -EINVAL;
        }
        if (dht_addr_is_local(public_ip))
            public_ip = NULL;
    }
    struct dht *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->loop = loop;
    d->now = uv_now(loop);
    d->allow_local = cfg->allow_local;
    d->rate_total = cfg->max_queries_per_sec ? cfg->max_queries_per_sec : 250;
    d->rate_ip = d->rate_total / 25 ? d->rate_total / 25 : 1;
    int rc = 0;
    if (cfg->node_id) {
        memcpy(d->id, cfg->node_id, DHT_ID_LEN);
        d->id_fixed = true;
    } else {
        rc = dht_node_id_make(d->id, public_ip);
    }
    dht_store_init(&d->store);
    if (!rc)
        rc = dht_tokens_init(&d->tokens, d->now);
    if (!rc)
        rc = dht_random(&d->next_tid, sizeof d->next_tid);
    if (!rc)
        rc = dht_rt_init(&d->rt[0], d->id, d->now);
    if (!rc)
        rc = dht_rt_init(&d->rt[1], d->id, d->now);
    if (!rc && want4)
        rc = open_sock(d, 0, &b4);
    if (!rc && want6) {
        if (want4 && cfg->port == 0)
            b6.in6.sin6_port = htons(dht_port(d));   /* both families on one port */
        int rc6 = open_sock(d, 1, &b6);
        if (rc6 < 0 && want4)
            log_msg(LOG_WARNING, "DHT: no IPv6 (%s); running on IPv4 only", uv_strerror(rc6));
        else
            rc = rc6;
    }
    if (rc) {
        log_msg(LOG_WARNING, "DHT: cannot start on port %u: %s", cfg->port, rc == -EIO ? "no randomness" : uv_strerror(rc));
        dht_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

void dht_free(struct dht *d)
{
    if (!d)
        return;
    dht_lookup_free_all(d);
    for (int f = 0; f < 2; f++) {
        if (d->sock[f]) {
            d->sock[f]->d = NULL;
            uv_close((uv_handle_t *)&d->sock[f]->h, on_sock_closed);
        }
        dht_rt_free(&d->rt[f]);
    }
    for (struct dht_resolve *r = d->resolving; r; r = r->next) {
        r->d = NULL;
        uv_cancel((uv_req_t *)&r->req);
    }
    dht_store_free(&d->store);
    buf_free(&d->out);
    free(d->pend);
    free(d);
}

/* ---- bootstrap and known nodes ---- */

static void bootstrap_send(struct dht *d)
{
    d->last_boot_ms = d->now;
    for (size_t i = 0; i < d->n_boot; i++)
        dht_send_query(d, &d->boot[i], DHT_M_FIND_NODE, d->id, NULL, true, NULL, 0, 0);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct dht_resolve *r = req->data;
    struct dht *d = r->d;
    if (d) {
        for (struct dht_resolve **pp = &d->resolving; *pp; pp = &(*pp)->next)
            if (*pp == r) {
                *pp = r->next;
                break;
            }
        if (status < 0)
            log_msg(LOG_WARNING, "DHT: cannot resolve bootstrap node: %s", uv_strerror(status));
        for (struct addrinfo *ai = res; ai && status == 0; ai = ai->ai_next) {
            union dht_addr a;
            if (dht_addr_set(&a, ai->ai_addr) != 0 || !d->sock[dht_fam(&a)])
                continue;
            bool dup = false;
            for (size_t i = 0; i < d->n_boot; i++)
                dup |= dht_addr_eq(&d->boot[i], &a);
            if (dup || d->n_boot >= DHT_MAX_BOOTSTRAP)
                continue;
            d->boot[d->n_boot++] = a;
            dht_send_query(d, &a, DHT_M_FIND_NODE, d->id, NULL, true, NULL, 0, 0);
        }
    }
    uv_freeaddrinfo(res);
    free(r);
}

int dht_add_bootstrap(struct dht *d, const char *host_port)
{
    char host[256];
    const char *colon = strrchr(host_port, ':');
    if (!colon || colon == host_port || (size_t)(colon - host_port) >= sizeof host)
        return -EINVAL;
    size_t hl = (size_t)(colon - host_port);
    memcpy(host, host_port, hl);
    host[hl] = '\0';
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port == 0 || port > 65535 || colon[1] == '\0' || host[0] == '\0')
        return -EINVAL;
    struct dht_resolve *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->d = d;
    r->req.data = r;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    int rc = uv_getaddrinfo(d->loop, &r->req, on_resolved, host, colon + 1, &hints);
    if (rc < 0) {
        free(r);
        return rc == UV_ENOMEM ? -ENOMEM : -EINVAL;
    }
    r->next = d->resolving;
    d->resolving = r;
    return 0;
}

int dht_add_node(struct dht *d, const struct sockaddr *addr)
{
    union dht_addr a;
    if (dht_addr_set(&a, addr) != 0 || !dht_addr_usable(&a, d->allow_local))
        return -EINVAL;
    if (!d->sock[dht_fam(&a)])
        return -EAFNOSUPPORT;
    /* find_node for our id doubles as a ping that also teaches us nodes */
    int rc = dht_send_query(d, &a, DHT_M_FIND_NODE, d->id, NULL, true, NULL, 0, 0);
    return rc == -EBUSY ? 0 : rc;
}

/* ---- maintenance ---- */

static void expire_pending(struct dht *d)
{
    for (size_t i = 0; i < d->n_pend;) {
        if (d->now < d->pend[i].sent_ms + DHT_QUERY_TIMEOUT_MS) {
            i++;
            continue;
        }
        struct dht_pending p = d->pend[i];
        d->pend[i] = d->pend[--d->n_pend];   /* i is looked at again */
        dht_rt_failed(&d->rt[dht_fam(&p.addr)], &p.addr, d->now);
        if (p.l)
            dht_lookup_reply(p.l, &p.addr, NULL);
    }
}

void dht_tick(struct dht *d, uint64_t now_ms)
{
    d->now = now_ms;   /* the session's clock wins, whatever uv_now() said at dht_new() */
    dht_tokens_tick(&d->tokens, d->now);
    expire_pending(d);
    dht_lookup_tick_all(d);
    for (int f = 0; f < 2; f++) {
        if (!d->sock[f])
            continue;
        struct dht_rt_node q[DHT_PINGS_PER_TICK];
        size_t n = dht_rt_questionable(&d->rt[f], d->now, DHT_PING_GAP_MS, q, DHT_PINGS_PER_TICK);
        for (size_t i = 0; i < n; i++)
            dht_send_query(d, &q[i].addr, DHT_M_PING, NULL, NULL, false, NULL, 0, 0);
        uint8_t target[DHT_ID_LEN];
        if (d->n_internal < DHT_MAX_INTERNAL && dht_rt_count(&d->rt[f], DHT_NODE_GOOD, d->now) +
                                                        dht_rt_count(&d->rt[f], DHT_NODE_QUESTIONABLE, d->now) > 0 &&
            dht_rt_refresh_due(&d->rt[f], d->now, target)) {
            struct dht_lookup *l = dht_lookup_start(d, target, false, true);
            if (l)
                dht_lookup_step(l);
        }
    }
    if (d->now >= d->last_expire_ms + DHT_EXPIRE_MS) {
        d->last_expire_ms = d->now;
        dht_store_expire(&d->store, d->now);
    }
    if (d->n_boot && dht_node_count(d) < DHT_K && d->now >= d->last_boot_ms + DHT_REBOOT_MS)
        bootstrap_send(d);
}

size_t dht_node_count(const struct dht *d)
{
    return dht_rt_count(&d->rt[0], DHT_NODE_GOOD, d->now) + dht_rt_count(&d->rt[1], DHT_NODE_GOOD, d->now);
}

const uint8_t *dht_node_id(const struct dht *d)
{
    return d->id;
}

int dht_get_peers(struct dht *d, const uint8_t info_hash[20], bool announce, uint16_t announce_port,
                  dht_peers_cb cb, void *ud, struct dht_lookup **handle)
{
    struct dht_lookup *l = dht_lookup_start(d, info_hash, true, false);
    if (!l)
        return -ENOMEM;
    l->announce = announce;
    l->port = announce_port;
    l->cb = cb;
    l->ud = ud;
    if (handle)
        *handle = l;
    for (int f = 0; f < 2; f++)
        if (l->s[f].active) {
            /* seeded now so the first queries leave at once; never finishes
             * here, so the caller gets its handle before any callback */
            struct dht_rt_node near[2 * DHT_K];
            size_t n = dht_rt_closest(&d->rt[f], info_hash, near, 2 * DHT_K);
            for (size_t i = 0; i < n; i++)
                dht_lookup_add(l, near[i].id, &near[i].addr);
        }
    for (int f = 0; f < 2; f++)
        for (size_t i = 0; i < l->s[f].n && l->s[f].inflight < DHT_ALPHA; i++)
            if (dht_send_query(d, &l->s[f].c[i].addr, DHT_M_GET_PEERS, info_hash, l, false, NULL, 0, 0) == 0) {
                l->s[f].c[i].state = DHT_CAND_INFLIGHT;
                l->s[f].inflight++;
                l->s[f].queries++;
            }
    return 0;
}

/* ---- persistence ---- */

int dht_save_nodes(const struct dht *d, uint8_t **out, size_t *len)
{
    struct buf b = BUF_INIT;
    int rc = buf_append(&b, d->id, DHT_ID_LEN);
    for (int f = 0; f < 2 && !rc; f++) {
        const struct dht_rt *rt = &d->rt[f];
        size_t count = 0;
        for (size_t i = 0; i < rt->n; i++)
            for (size_t k = 0; k < rt->b[i].n; k++)
                count += dht_rt_state(&rt->b[i].nodes[k], d->now) != DHT_NODE_BAD;
        if (count > 65535)
            count = 65535;
        rc = buf_append_be16(&b, (uint16_t)count);
        size_t put = 0;
        for (int good = 1; good >= 0 && !rc; good--)   /* good nodes first */
            for (size_t i = 0; i < rt->n && !rc; i++)
                for (size_t k = 0; k < rt->b[i].n && !rc && put < count; k++) {
                    const struct dht_rt_node *n = &rt->b[i].nodes[k];
                    enum dht_node_state st = dht_rt_state(n, d->now);
                    if (st == DHT_NODE_BAD || (st == DHT_NODE_GOOD) != (good == 1))
                        continue;
                    uint8_t c[18];
                    size_t cl = dht_addr_compact(&n->addr, c);
                    rc = buf_append(&b, n->id, DHT_ID_LEN);
                    if (!rc)
                        rc = buf_append(&b, c, cl);
                    put++;
                }
    }
    if (rc) {
        buf_free(&b);
        return -ENOMEM;
    }
    *out = buf_steal(&b, len);
    buf_free(&b);
    return *out ? 0 : -ENOMEM;
}

int dht_load_nodes(struct dht *d, const uint8_t *p, size_t len)
{
    if (len < DHT_ID_LEN + 2)
        return -EPROTO;
    size_t n4 = rd_be16(p + DHT_ID_LEN), off4 = DHT_ID_LEN + 2;
    size_t off6 = off4 + n4 * DHT_NODE4_LEN;
    if (len < off6 + 2)
        return -EPROTO;
    size_t n6 = rd_be16(p + off6);
    off6 += 2;
    if (len != off6 + n6 * DHT_NODE6_LEN)
        return -EPROTO;
    bool empty = !d->lookups;
    for (int f = 0; f < 2; f++)
        empty = empty && d->rt[f].n == 1 && d->rt[f].b[0].n == 0;
    if (!d->id_fixed && empty && memcmp(d->id, p, DHT_ID_LEN) != 0) {
        memcpy(d->id, p, DHT_ID_LEN);
        for (int f = 0; f < 2; f++) {
            dht_rt_free(&d->rt[f]);
            if (dht_rt_init(&d->rt[f], d->id, d->now))
                return -ENOMEM;
        }
    }
    for (size_t i = 0; i < n4 + n6; i++) {
        const uint8_t *e = i < n4 ? p + off4 + i * DHT_NODE4_LEN : p + off6 + (i - n4) * DHT_NODE6_LEN;
        union dht_addr a;
        if (dht_addr_from_compact(&a, e + DHT_ID_LEN, i < n4 ? 6 : 18) != 0 ||
            !dht_addr_usable(&a, d->allow_local) || !d->sock[dht_fam(&a)])
            continue;
        if (dht_rt_seen(&d->rt[dht_fam(&a)], e, &a, false, dht_node_id_valid(e, &a), d->now) < 0)
            return -ENOMEM;
    }
    start_self_lookup(d, NULL, NULL);
    return 0;
}
