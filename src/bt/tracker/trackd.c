#include "bt/tracker/trackd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bencode.h"
#include "util/buf.h"
#include "util/hmap.h"

struct td_peer {
    uint8_t ip[16];              /* the endpoint the peer is known by */
    bool v6;
    bool has6;                   /* a second, IPv6 endpoint (BEP7 ipv6=) */
    uint8_t ip6[16];
    uint16_t port;
    uint8_t id[20];
    uint8_t id_len;
    bool seed;
    uint64_t seen_s;
};

struct td_swarm {
    uint8_t ih[20];              /* the hmap key */
    struct td_peer *peers;
    size_t n, cap;
    size_t seeds;
    uint64_t downloaded;         /* completed events (scrape) */
    struct td_swarm *prev, *next;   /* least recently announced first */
};

struct trackd {
    struct hmap swarms;
    struct td_swarm *lru_head, *lru_tail;
    size_t all_peers;
};

struct trackd *trackd_new(void)
{
    return calloc(1, sizeof(struct trackd));
}

static void lru_unlink(struct trackd *td, struct td_swarm *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        td->lru_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        td->lru_tail = w->prev;
    w->prev = w->next = NULL;
}

static void lru_append(struct trackd *td, struct td_swarm *w)
{
    w->prev = td->lru_tail;
    w->next = NULL;
    if (td->lru_tail)
        td->lru_tail->next = w;
    else
        td->lru_head = w;
    td->lru_tail = w;
}

static void swarm_drop(struct trackd *td, struct td_swarm *w)
{
    hmap_del(&td->swarms, w->ih, sizeof w->ih);
    lru_unlink(td, w);
    td->all_peers -= w->n;
    free(w->peers);
    free(w);
}

void trackd_free(struct trackd *td)
{
    if (!td)
        return;
    while (td->lru_head)
        swarm_drop(td, td->lru_head);
    hmap_free(&td->swarms);
    free(td);
}

size_t trackd_torrents(const struct trackd *td)
{
    return td->swarms.n;
}

size_t trackd_peers(const struct trackd *td)
{
    return td->all_peers;
}

static void peer_remove(struct trackd *td, struct td_swarm *w, size_t i)
{
    if (w->peers[i].seed)
        w->seeds--;
    w->peers[i] = w->peers[--w->n];
    td->all_peers--;
}

static void swarm_expire(struct trackd *td, struct td_swarm *w, uint64_t now_s)
{
    for (size_t i = 0; i < w->n;)
        if (now_s >= TRACKD_EXPIRE_S && w->peers[i].seen_s < now_s - TRACKD_EXPIRE_S)
            peer_remove(td, w, i);
        else
            i++;
}

void trackd_expire(struct trackd *td, uint64_t now_s)
{
    for (struct td_swarm *w = td->lru_head, *next; w; w = next) {
        next = w->next;
        swarm_expire(td, w, now_s);
        if (w->n == 0)
            swarm_drop(td, w);
    }
}

/* ---- replies ---- */

static int fail(struct buf *out, const char *why)
{
    benc_put_dict(out);
    benc_put_cstr(out, "failure reason");
    benc_put_cstr(out, why);
    benc_put_end(out);
    return buf_error(out) ? -ENOMEM : 0;
}

static const struct trackd_param *param(const struct trackd_param *p, size_t n, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < n; i++)
        if (p[i].klen == kl && memcmp(p[i].key, key, kl) == 0)
            return &p[i];
    return NULL;
}

static bool val_is(const struct trackd_param *v, const char *s)
{
    return v && v->vlen == strlen(s) && memcmp(v->val, s, v->vlen) == 0;
}

/* A decimal number of at most 19 digits (qBittorrent's toInt/toUShort
 * refuse signs and junk the same way: they fail, and so do we). */
static bool val_uint(const struct trackd_param *v, uint64_t *out)
{
    if (!v || v->vlen == 0 || v->vlen > 19)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < v->vlen; i++) {
        if (v->val[i] < '0' || v->val[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v->val[i] - '0');
    }
    *out = x;
    return true;
}

/* An address parameter as text: "1.2.3.4" or an IPv6 address. */
static bool val_addr(const struct trackd_param *v, uint8_t ip[16], bool *v6)
{
    char s[INET6_ADDRSTRLEN];
    if (!v || v->vlen == 0 || v->vlen >= sizeof s || memchr(v->val, 0, v->vlen))
        return false;
    memcpy(s, v->val, v->vlen);
    s[v->vlen] = 0;
    if (inet_pton(AF_INET, s, ip) == 1) {
        *v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, s, ip) == 1) {
        *v6 = true;
        return true;
    }
    return false;
}

static bool sock_addr(const struct sockaddr *sa, uint8_t ip[16], bool *v6)
{
    if (sa && sa->sa_family == AF_INET) {
        memcpy(ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        *v6 = false;
        return true;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            memcpy(ip, a->s6_addr + 12, 4);
            *v6 = false;
        } else {
            memcpy(ip, a->s6_addr, 16);
            *v6 = true;
        }
        return true;
    }
    return false;
}

static bool same_peer(const struct td_peer *a, const struct td_peer *b)
{
    return a->port == b->port && a->v6 == b->v6 && memcmp(a->ip, b->ip, a->v6 ? 16 : 4) == 0;
}

static void put_ip_text(struct buf *out, const uint8_t *ip, bool v6)
{
    char s[INET6_ADDRSTRLEN] = "";
    inet_ntop(v6 ? AF_INET6 : AF_INET, ip, s, sizeof s);
    benc_put_cstr(out, s);
}

static void put_peer_dict(struct buf *out, const struct td_peer *p, const uint8_t *ip, bool v6, bool no_id)
{
    benc_put_dict(out);
    benc_put_cstr(out, "ip");
    put_ip_text(out, ip, v6);
    if (!no_id) {
        benc_put_cstr(out, "peer id");
        benc_put_str(out, p->id, p->id_len);
    }
    benc_put_cstr(out, "port");
    benc_put_int(out, p->port);
    benc_put_end(out);
}

/* The peers sent: up to numwant of them, from a rotating start so that a
 * full swarm hands out everyone in turn, never the requester itself. */
static void put_peers(struct buf *out, const struct td_swarm *w, const struct td_peer *self, size_t numwant,
                      bool compact, bool no_id)
{
    size_t start = w->n ? (size_t)rand() % w->n : 0;
    if (compact) {
        uint8_t v4[TRACKD_MAX_PEERS * 6], v6[TRACKD_MAX_PEERS * 2 * 18];
        size_t n4 = 0, n6 = 0, sent = 0;
        for (size_t k = 0; k < w->n && sent < numwant; k++) {
            const struct td_peer *p = &w->peers[(start + k) % w->n];
            if (self && same_peer(p, self))
                continue;
            sent++;
            if (!p->v6) {
                memcpy(v4 + n4, p->ip, 4);
                wr_be16(v4 + n4 + 4, p->port);
                n4 += 6;
            } else {
                memcpy(v6 + n6, p->ip, 16);
                wr_be16(v6 + n6 + 16, p->port);
                n6 += 18;
            }
            if (p->has6) {
                memcpy(v6 + n6, p->ip6, 16);
                wr_be16(v6 + n6 + 16, p->port);
                n6 += 18;
            }
        }
        benc_put_cstr(out, "peers");
        benc_put_str(out, v4, n4);   /* required, even empty */
        if (n6) {
            benc_put_cstr(out, "peers6");
            benc_put_str(out, v6, n6);
        }
        return;
    }
    benc_put_cstr(out, "peers");
    benc_put_list(out);
    size_t sent = 0;
    for (size_t k = 0; k < w->n && sent < numwant; k++) {
        const struct td_peer *p = &w->peers[(start + k) % w->n];
        if (self && same_peer(p, self))
            continue;
        sent++;
        put_peer_dict(out, p, p->ip, p->v6, no_id);
        if (p->has6)
            put_peer_dict(out, p, p->ip6, true, no_id);
    }
    benc_put_end(out);
}

static struct td_swarm *swarm_get(struct trackd *td, const uint8_t ih[20], bool create)
{
    struct td_swarm *w = hmap_get(&td->swarms, ih, 20);
    if (w || !create)
        return w;
    if (td->swarms.n >= TRACKD_MAX_TORRENTS && td->lru_head)
        swarm_drop(td, td->lru_head);
    w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    memcpy(w->ih, ih, 20);
    if (hmap_put(&td->swarms, w->ih, 20, w, NULL) != 0) {
        free(w);
        return NULL;
    }
    lru_append(td, w);
    return w;
}

/* Registers or refreshes p; false when there is no room at all. */
static bool swarm_set(struct trackd *td, struct td_swarm *w, const struct td_peer *p, bool completed)
{
    size_t i = 0;
    while (i < w->n && !same_peer(&w->peers[i], p))
        i++;
    bool was_seed = false;
    if (i < w->n) {
        was_seed = w->peers[i].seed;
        if (was_seed)
            w->seeds--;
    } else {
        if (w->n >= TRACKD_MAX_PEERS || (td->all_peers >= TRACKD_MAX_ALL_PEERS && w->n > 0)) {
            size_t oldest = 0;
            for (size_t k = 1; k < w->n; k++)
                if (w->peers[k].seen_s < w->peers[oldest].seen_s)
                    oldest = k;
            peer_remove(td, w, oldest);   /* the stalest makes room */
        } else if (td->all_peers >= TRACKD_MAX_ALL_PEERS)
            return false;
        if (w->n == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 8;
            if (cap > TRACKD_MAX_PEERS)
                cap = TRACKD_MAX_PEERS;
            struct td_peer *np = realloc(w->peers, cap * sizeof *np);
            if (!np)
                return false;
            w->peers = np;
            w->cap = cap;
        }
        i = w->n++;
        td->all_peers++;
    }
    w->peers[i] = *p;
    if (p->seed)
        w->seeds++;
    if (completed && !was_seed)
        w->downloaded++;
    return true;
}

int trackd_announce(struct trackd *td, const struct trackd_param *prm, size_t n, const struct sockaddr *from,
                    uint64_t now_s, struct buf *out)
{
    struct td_peer me = {.seen_s = now_s};
    const struct trackd_param *v = param(prm, n, "info_hash");
    if (!v)
        return fail(out, "Missing \"info_hash\" parameter");
    if (v->vlen != 20)
        return fail(out, "Invalid \"info_hash\" parameter");
    const uint8_t *ih = v->val;
    if (!(v = param(prm, n, "peer_id")))
        return fail(out, "Missing \"peer_id\" parameter");
    if (v->vlen > 20)
        return fail(out, "Invalid \"peer_id\" parameter");
    memcpy(me.id, v->val, v->vlen);
    me.id_len = (uint8_t)v->vlen;
    uint64_t x;
    if (!(v = param(prm, n, "port")))
        return fail(out, "Missing \"port\" parameter");
    if (!val_uint(v, &x) || x == 0 || x > 65535)
        return fail(out, "Invalid \"port\" parameter");
    me.port = (uint16_t)x;
    size_t numwant = TRACKD_NUMWANT;
    if ((v = param(prm, n, "numwant"))) {
        if (!val_uint(v, &x))
            return fail(out, "Invalid \"numwant\" parameter");
        numwant = x > TRACKD_MAX_PEERS ? TRACKD_MAX_PEERS : (size_t)x;
    }
    bool no_id = val_is(param(prm, n, "no_peer_id"), "1");
    me.seed = val_is(param(prm, n, "left"), "0");
    bool compact = !val_is(param(prm, n, "compact"), "0");

    uint8_t sock_ip[16];
    bool sock_v6 = false;
    if (!sock_addr(from, sock_ip, &sock_v6))
        return fail(out, "Unknown peer address");
    if (!val_addr(param(prm, n, "ip"), me.ip, &me.v6)) {
        memcpy(me.ip, sock_ip, 16);
        me.v6 = sock_v6;
    }
    bool six;
    uint8_t ip6[16];
    if (val_addr(param(prm, n, "ipv6"), ip6, &six) && six && !(me.v6 && memcmp(ip6, me.ip, 16) == 0)) {
        me.has6 = true;
        memcpy(me.ip6, ip6, 16);
    }

    const struct trackd_param *ev = param(prm, n, "event");
    bool stopped = val_is(ev, "stopped");
    bool completed = val_is(ev, "completed");
    if (ev && ev->vlen && !stopped && !completed && !val_is(ev, "started") && !val_is(ev, "empty") &&
        !val_is(ev, "paused"))
        return fail(out, "Invalid \"event\" parameter");

    struct td_swarm *w = swarm_get(td, ih, !stopped);
    if (w) {
        swarm_expire(td, w, now_s);
        if (stopped) {
            for (size_t i = 0; i < w->n; i++)
                if (same_peer(&w->peers[i], &me)) {
                    peer_remove(td, w, i);
                    break;
                }
        } else if (!swarm_set(td, w, &me, completed)) {
            if (w->n == 0)
                swarm_drop(td, w);   /* made for this peer: no empty swarms */
            return fail(out, "The tracker is full");
        }
        lru_unlink(td, w);
        lru_append(td, w);
    }
    if (!w && !stopped)
        return -ENOMEM;

    /* Keys in bencode order. */
    benc_put_dict(out);
    benc_put_cstr(out, "complete");
    benc_put_int(out, w ? (int64_t)w->seeds : 0);
    benc_put_cstr(out, "external ip");
    benc_put_str(out, sock_ip, sock_v6 ? 16 : 4);
    benc_put_cstr(out, "incomplete");
    benc_put_int(out, w ? (int64_t)(w->n - w->seeds) : 0);
    benc_put_cstr(out, "interval");
    benc_put_int(out, TRACKD_INTERVAL_S);
    if (w && !stopped)
        put_peers(out, w, &me, numwant, compact, no_id);
    else if (compact) {
        benc_put_cstr(out, "peers");
        benc_put_str(out, "", 0);
    } else {
        benc_put_cstr(out, "peers");
        benc_put_list(out);
        benc_put_end(out);
    }
    benc_put_end(out);
    if (w && w->n == 0)
        swarm_drop(td, w);
    return buf_error(out) ? -ENOMEM : 0;
}

static int cmp_ih(const void *a, const void *b)
{
    return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, 20);
}

int trackd_scrape(struct trackd *td, const struct trackd_param *prm, size_t n, struct buf *out)
{
    const uint8_t *ih[TRACKD_MAX_SCRAPE];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (prm[i].klen != 9 || memcmp(prm[i].key, "info_hash", 9) != 0)
            continue;
        if (prm[i].vlen != 20)
            return fail(out, "Invalid \"info_hash\" parameter");
        if (k == TRACKD_MAX_SCRAPE)
            return fail(out, "Too many \"info_hash\" parameters");
        ih[k++] = prm[i].val;
    }
    if (k == 0)
        return fail(out, "Missing \"info_hash\" parameter");   /* no full scrape */
    /* A dictionary's keys go out sorted, each once. */
    qsort(ih, k, sizeof ih[0], cmp_ih);
    benc_put_dict(out);
    benc_put_cstr(out, "files");
    benc_put_dict(out);
    for (size_t i = 0; i < k; i++) {
        if (i > 0 && memcmp(ih[i], ih[i - 1], 20) == 0)
            continue;
        const struct td_swarm *w = swarm_get(td, ih[i], false);
        benc_put_str(out, ih[i], 20);
        benc_put_dict(out);
        benc_put_cstr(out, "complete");
        benc_put_int(out, w ? (int64_t)w->seeds : 0);
        benc_put_cstr(out, "downloaded");
        benc_put_int(out, w ? (int64_t)w->downloaded : 0);
        benc_put_cstr(out, "incomplete");
        benc_put_int(out, w ? (int64_t)(w->n - w->seeds) : 0);
        benc_put_end(out);
    }
    benc_put_end(out);
    benc_put_end(out);
    return buf_error(out) ? -ENOMEM : 0;
}
