/* dht/routing — routing table.  See routing.h. */
#include "bt/dht/routing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool bit(const uint8_t id[DHT_ID_LEN], int i)
{
    return id[i / 8] >> (7 - i % 8) & 1;
}

static bool prefix_match(const struct dht_bucket *b, const uint8_t id[DHT_ID_LEN])
{
    int full = b->depth / 8, rest = b->depth % 8;
    if (memcmp(b->first, id, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (b->first[full] & mask) == (id[full] & mask);
}

static size_t bucket_of(const struct dht_rt *rt, const uint8_t id[DHT_ID_LEN])
{
    for (size_t i = 0; i < rt->n; i++)
        if (prefix_match(&rt->b[i], id))
            return i;
    return 0;   /* unreachable: the buckets partition the space */
}

int dht_rt_init(struct dht_rt *rt, const uint8_t self[DHT_ID_LEN], uint64_t now_ms)
{
    memset(rt, 0, sizeof *rt);
    memcpy(rt->self, self, DHT_ID_LEN);
    rt->b = calloc(1, sizeof *rt->b);
    if (!rt->b)
        return -ENOMEM;
    rt->n = 1;
    rt->b[0].changed_ms = now_ms;
    return 0;
}

void dht_rt_free(struct dht_rt *rt)
{
    free(rt->b);
    rt->b = NULL;
    rt->n = 0;
}

enum dht_node_state dht_rt_state(const struct dht_rt_node *n, uint64_t now_ms)
{
    if (n->fails >= DHT_RT_BAD_FAILS)
        return DHT_NODE_BAD;
    if (n->answered && (now_ms < n->replied_ms + DHT_RT_GOOD_MS || now_ms < n->seen_ms + DHT_RT_GOOD_MS))
        return DHT_NODE_GOOD;
    return DHT_NODE_QUESTIONABLE;
}

/* Splits bucket i into two halves at bit depth.  Returns 0 or -ENOMEM. */
static int split(struct dht_rt *rt, size_t i)
{
    struct dht_bucket *nb = realloc(rt->b, (rt->n + 1) * sizeof *nb);
    if (!nb)
        return -ENOMEM;
    rt->b = nb;
    memmove(&rt->b[i + 2], &rt->b[i + 1], (rt->n - i - 1) * sizeof *nb);
    rt->n++;
    struct dht_bucket old = rt->b[i];
    struct dht_bucket *lo = &rt->b[i], *hi = &rt->b[i + 1];
    int d = old.depth;
    memset(lo, 0, sizeof *lo);
    memset(hi, 0, sizeof *hi);
    memcpy(lo->first, old.first, DHT_ID_LEN);
    memcpy(hi->first, old.first, DHT_ID_LEN);
    hi->first[d / 8] |= (uint8_t)(0x80 >> (d % 8));
    lo->depth = hi->depth = d + 1;
    lo->changed_ms = hi->changed_ms = old.changed_ms;
    for (size_t k = 0; k < old.n; k++) {
        struct dht_bucket *to = bit(old.nodes[k].id, d) ? hi : lo;
        to->nodes[to->n++] = old.nodes[k];
    }
    for (size_t k = 0; k < old.n_repl; k++) {
        struct dht_bucket *to = bit(old.repl[k].id, d) ? hi : lo;
        to->repl[to->n_repl++] = old.repl[k];
    }
    return 0;
}

static void cache(struct dht_bucket *b, const struct dht_rt_node *n)
{
    for (size_t k = 0; k < b->n_repl; k++)
        if (memcmp(b->repl[k].id, n->id, DHT_ID_LEN) == 0 || dht_addr_eq(&b->repl[k].addr, &n->addr)) {
            memmove(&b->repl[k], &b->repl[k + 1], (b->n_repl - k - 1) * sizeof *n);
            b->n_repl--;
            break;
        }
    if (b->n_repl == DHT_K) {
        memmove(&b->repl[0], &b->repl[1], (DHT_K - 1) * sizeof *n);
        b->n_repl--;
    }
    b->repl[b->n_repl++] = *n;
}

/* Index of the node in b that a newcomer may take the place of, or -1. */
static int victim(const struct dht_bucket *b, bool newcomer_bep42, uint64_t now_ms)
{
    for (size_t k = 0; k < b->n; k++)
        if (dht_rt_state(&b->nodes[k], now_ms) == DHT_NODE_BAD)
            return (int)k;
    if (newcomer_bep42)
        for (size_t k = 0; k < b->n; k++)
            if (!b->nodes[k].bep42 && dht_rt_state(&b->nodes[k], now_ms) != DHT_NODE_GOOD)
                return (int)k;
    return -1;
}

int dht_rt_seen(struct dht_rt *rt, const uint8_t id[DHT_ID_LEN], const union dht_addr *a,
                bool replied, bool bep42, uint64_t now_ms)
{
    if (memcmp(id, rt->self, DHT_ID_LEN) == 0)
        return DHT_RT_IGNORED;
    struct dht_rt_node nn = {.seen_ms = now_ms, .replied_ms = now_ms, .answered = replied, .bep42 = bep42};
    memcpy(nn.id, id, DHT_ID_LEN);
    nn.addr = *a;
    for (int guard = 0; guard <= DHT_RT_MAX_BUCKETS; guard++) {
        size_t i = bucket_of(rt, id);
        struct dht_bucket *b = &rt->b[i];
        for (size_t k = 0; k < b->n; k++) {
            struct dht_rt_node *n = &b->nodes[k];
            if (memcmp(n->id, id, DHT_ID_LEN) != 0)
                continue;
            if (!dht_addr_eq(&n->addr, a))
                return DHT_RT_IGNORED;   /* no hijacking a known id from elsewhere */
            n->seen_ms = now_ms;
            if (replied) {
                n->replied_ms = now_ms;
                n->answered = true;
                n->fails = 0;
                n->pinged_ms = 0;
                b->changed_ms = now_ms;
            }
            return DHT_RT_UPDATED;
        }
        if (b->n < DHT_K) {
            b->nodes[b->n++] = nn;
            b->changed_ms = now_ms;
            return DHT_RT_ADDED;
        }
        int v = victim(b, bep42 && replied, now_ms);
        if (v >= 0) {
            b->nodes[v] = nn;
            b->changed_ms = now_ms;
            return DHT_RT_ADDED;
        }
        if (!prefix_match(b, rt->self) || b->depth >= DHT_RT_MAX_BUCKETS - 1 ||
            rt->n >= DHT_RT_MAX_BUCKETS) {
            cache(b, &nn);
            return DHT_RT_CACHED;
        }
        if (split(rt, i))
            return -ENOMEM;
    }
    return DHT_RT_IGNORED;
}

static struct dht_rt_node *find_addr(struct dht_rt *rt, const union dht_addr *a, struct dht_bucket **bucket)
{
    for (size_t i = 0; i < rt->n; i++)
        for (size_t k = 0; k < rt->b[i].n; k++)
            if (dht_addr_eq(&rt->b[i].nodes[k].addr, a)) {
                *bucket = &rt->b[i];
                return &rt->b[i].nodes[k];
            }
    return NULL;
}

void dht_rt_failed(struct dht_rt *rt, const union dht_addr *a, uint64_t now_ms)
{
    struct dht_bucket *b;
    struct dht_rt_node *n = find_addr(rt, a, &b);
    if (!n)
        return;
    if (n->fails < 255)
        n->fails++;
    if (dht_rt_state(n, now_ms) == DHT_NODE_BAD && b->n_repl > 0) {
        *n = b->repl[--b->n_repl];
        b->changed_ms = now_ms;
    }
}

void dht_rt_pinged(struct dht_rt *rt, const union dht_addr *a, uint64_t now_ms)
{
    struct dht_bucket *b;
    struct dht_rt_node *n = find_addr(rt, a, &b);
    if (n)
        n->pinged_ms = now_ms;
}

size_t dht_rt_closest(const struct dht_rt *rt, const uint8_t target[DHT_ID_LEN],
                      struct dht_rt_node *out, size_t max)
{
    size_t got = 0;
    for (size_t i = 0; i < rt->n; i++)
        for (size_t k = 0; k < rt->b[i].n; k++) {
            const struct dht_rt_node *n = &rt->b[i].nodes[k];
            if (n->fails >= DHT_RT_BAD_FAILS)
                continue;
            /* insertion into the sorted, bounded result */
            size_t pos = got;
            while (pos > 0 && dht_id_closer(target, n->id, out[pos - 1].id) < 0)
                pos--;
            if (pos >= max)
                continue;
            size_t move = got < max ? got - pos : max - 1 - pos;
            memmove(&out[pos + 1], &out[pos], move * sizeof *out);
            out[pos] = *n;
            if (got < max)
                got++;
        }
    return got;
}

size_t dht_rt_count(const struct dht_rt *rt, enum dht_node_state state, uint64_t now_ms)
{
    size_t c = 0;
    for (size_t i = 0; i < rt->n; i++)
        for (size_t k = 0; k < rt->b[i].n; k++)
            c += dht_rt_state(&rt->b[i].nodes[k], now_ms) == state;
    return c;
}

size_t dht_rt_questionable(const struct dht_rt *rt, uint64_t now_ms, uint64_t min_gap_ms,
                           struct dht_rt_node *out, size_t max)
{
    size_t got = 0;
    for (size_t i = 0; i < rt->n; i++)
        for (size_t k = 0; k < rt->b[i].n; k++) {
            const struct dht_rt_node *n = &rt->b[i].nodes[k];
            if (dht_rt_state(n, now_ms) == DHT_NODE_GOOD)
                continue;
            if (n->pinged_ms && now_ms < n->pinged_ms + min_gap_ms)
                continue;
            size_t pos = got;
            while (pos > 0 && n->seen_ms < out[pos - 1].seen_ms)
                pos--;
            if (pos >= max)
                continue;
            size_t move = got < max ? got - pos : max - 1 - pos;
            memmove(&out[pos + 1], &out[pos], move * sizeof *out);
            out[pos] = *n;
            if (got < max)
                got++;
        }
    return got;
}

bool dht_rt_refresh_due(struct dht_rt *rt, uint64_t now_ms, uint8_t target[DHT_ID_LEN])
{
    for (size_t i = 0; i < rt->n; i++) {
        struct dht_bucket *b = &rt->b[i];
        if (now_ms < b->changed_ms + DHT_RT_REFRESH_MS)
            continue;
        uint8_t r[DHT_ID_LEN];
        if (dht_random(r, sizeof r))
            memset(r, 0x5a, sizeof r);
        /* keep the bucket's prefix bits, randomise the rest */
        for (int bit_i = 0; bit_i < DHT_ID_LEN * 8; bit_i++) {
            uint8_t m = (uint8_t)(0x80 >> (bit_i % 8));
            uint8_t src = bit_i < b->depth ? b->first[bit_i / 8] : r[bit_i / 8];
            target[bit_i / 8] = (uint8_t)((target[bit_i / 8] & ~m) | (src & m));
        }
        b->changed_ms = now_ms;
        return true;
    }
    return false;
}
