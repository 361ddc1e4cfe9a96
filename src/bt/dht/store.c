/* dht/store — announced peers.  See store.h. */
#include "bt/dht/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void dht_store_init(struct dht_store *s)
{
    memset(s, 0, sizeof *s);
    s->max_hashes = DHT_STORE_MAX_HASHES;
    s->max_peers = DHT_STORE_MAX_PEERS;
}

void dht_store_free(struct dht_store *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->e[i].peers);
    free(s->e);
    s->e = NULL;
    s->n = s->cap = 0;
}

/* Index of ih, or of where it would go (*found false). */
static size_t find(const struct dht_store *s, const uint8_t ih[DHT_ID_LEN], bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(s->e[mid].ih, ih, DHT_ID_LEN);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

int dht_store_add(struct dht_store *s, const uint8_t ih[DHT_ID_LEN], const struct dht_peer *p, uint64_t now_ms)
{
    if (p->len != 6 && p->len != 18)
        return -EINVAL;
    bool found;
    size_t i = find(s, ih, &found);
    if (!found) {
        if (s->n >= s->max_hashes)
            return -ENOSPC;
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 16;
            struct dht_store_entry *ne = realloc(s->e, cap * sizeof *ne);
            if (!ne)
                return -ENOMEM;
            s->e = ne;
            s->cap = cap;
        }
        memmove(&s->e[i + 1], &s->e[i], (s->n - i) * sizeof *s->e);
        s->n++;
        memset(&s->e[i], 0, sizeof s->e[i]);
        memcpy(s->e[i].ih, ih, DHT_ID_LEN);
        s->e[i].peers = calloc(s->max_peers, sizeof *s->e[i].peers);
        if (!s->e[i].peers) {
            memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof *s->e);
            s->n--;
            return -ENOMEM;
        }
    }
    struct dht_store_entry *e = &s->e[i];
    size_t slot = e->n, oldest = 0;
    for (size_t k = 0; k < e->n; k++) {
        if (e->peers[k].p.len == p->len && memcmp(e->peers[k].p.b, p->b, p->len) == 0) {
            slot = k;
            break;
        }
        if (e->peers[k].seen_ms < e->peers[oldest].seen_ms)
            oldest = k;
    }
    if (slot == e->n) {
        if (e->n < s->max_peers)
            e->n++;
        else
            slot = oldest;
    }
    e->peers[slot].p = *p;
    e->peers[slot].seen_ms = now_ms;
    return 0;
}

size_t dht_store_get(const struct dht_store *s, const uint8_t ih[DHT_ID_LEN], size_t plen,
                     uint64_t now_ms, struct dht_peer *out, size_t max)
{
    bool found;
    size_t i = find(s, ih, &found);
    if (!found)
        return 0;
    const struct dht_store_entry *e = &s->e[i];
    size_t got = 0;
    uint64_t seen[DHT_STORE_MAX_PEERS];
    if (max > DHT_STORE_MAX_PEERS)
        max = DHT_STORE_MAX_PEERS;
    for (size_t k = 0; k < e->n; k++) {
        const struct dht_stored_peer *sp = &e->peers[k];
        if (sp->p.len != plen || now_ms >= sp->seen_ms + DHT_STORE_TTL_MS)
            continue;
        /* newest first: insertion into the bounded result */
        size_t pos = got;
        while (pos > 0 && sp->seen_ms > seen[pos - 1])
            pos--;
        if (pos >= max)
            continue;
        size_t move = got < max ? got - pos : max - 1 - pos;
        memmove(&out[pos + 1], &out[pos], move * sizeof *out);
        memmove(&seen[pos + 1], &seen[pos], move * sizeof *seen);
        out[pos] = sp->p;
        seen[pos] = sp->seen_ms;
        if (got < max)
            got++;
    }
    return got;
}

void dht_store_expire(struct dht_store *s, uint64_t now_ms)
{
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct dht_store_entry *e = &s->e[i];
        size_t pw = 0;
        for (size_t k = 0; k < e->n; k++)
            if (now_ms < e->peers[k].seen_ms + DHT_STORE_TTL_MS)
                e->peers[pw++] = e->peers[k];
        e->n = pw;
        if (e->n == 0) {
            free(e->peers);
            continue;
        }
        s->e[w++] = *e;
    }
    s->n = w;
}
