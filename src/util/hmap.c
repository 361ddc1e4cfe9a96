#include "util/hmap.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- SipHash-1-3 (Aumasson & Bernstein; the round count Rust's HashMap uses) ---- */

static uint64_t sip_k0, sip_k1;
static pthread_once_t sip_once = PTHREAD_ONCE_INIT;
static bool sip_ready;   /* set (release) after the key; the fast path skips pthread_once */

static void sip_seed(void)
{
    uint64_t k[2];
    if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) {
        /* no entropy source (very old kernel, seccomp): still differ per run */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        k[0] = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
        k[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&ts;
    }
    sip_k0 = k[0];
    sip_k1 = k[1];
    __atomic_store_n(&sip_ready, true, __ATOMIC_RELEASE);
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                                  \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                                     \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                                     \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                                  \
    } while (0)

static uint64_t rd_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);   /* one load */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

uint64_t hmap_hash(const void *key, size_t klen)
{
    if (!__atomic_load_n(&sip_ready, __ATOMIC_ACQUIRE))
        pthread_once(&sip_once, sip_seed);
    const uint8_t *p = key;
    uint64_t v0 = 0x736f6d6570736575ull ^ sip_k0, v1 = 0x646f72616e646f6dull ^ sip_k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ sip_k0, v3 = 0x7465646279746573ull ^ sip_k1;
    size_t full = klen & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = rd_le64(p + i);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)klen << 56;
    for (size_t i = 0; i < (klen & 7); i++)
        b |= (uint64_t)p[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the table ---- */

static size_t slot(const struct hmap *m, const void *key, size_t klen, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {   /* ends: never more than half full */
        const struct hmap_ent *e = &m->e[i];
        if (!e->key || (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0))
            return i;
    }
}

void **hmap_find(const struct hmap *m, const void *key, size_t klen)
{
    if (!m->n)
        return NULL;
    struct hmap_ent *e = &m->e[slot(m, key, klen, hmap_hash(key, klen))];
    return e->key ? &e->val : NULL;
}

void *hmap_get(const struct hmap *m, const void *key, size_t klen)
{
    void **v = hmap_find(m, key, klen);
    return v ? *v : NULL;
}

static int grow(struct hmap *m, size_t cap)
{
    struct hmap_ent *ne = calloc(cap, sizeof *ne);
    if (!ne)
        return -ENOMEM;
    struct hmap old = *m;
    m->e = ne;
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.e[i].key)
            m->e[slot(m, old.e[i].key, old.e[i].klen, old.e[i].hash)] = old.e[i];
    free(old.e);
    return 0;
}

int hmap_reserve(struct hmap *m, size_t more)
{
    if (more > SIZE_MAX / 4 - m->n)
        return -ENOMEM;
    size_t cap = m->cap ? m->cap : 16;
    while ((m->n + more) * 2 > cap)
        cap *= 2;
    return cap == m->cap ? 0 : grow(m, cap);
}

int hmap_put(struct hmap *m, const void *key, size_t klen, void *val, void **old)
{
    uint64_t h = hmap_hash(key, klen);
    if (old)
        *old = NULL;
    if (m->n) {
        struct hmap_ent *e = &m->e[slot(m, key, klen, h)];
        if (e->key) {
            if (old)
                *old = e->val;
            e->key = key;
            e->val = val;
            return 0;
        }
    }
    int rc = hmap_reserve(m, 1);
    if (rc)
        return rc;
    m->e[slot(m, key, klen, h)] = (struct hmap_ent){key, klen, h, val};
    m->n++;
    return 0;
}

void *hmap_del(struct hmap *m, const void *key, size_t klen)
{
    if (!m->n)
        return NULL;
    size_t mask = m->cap - 1, i = slot(m, key, klen, hmap_hash(key, klen));
    if (!m->e[i].key)
        return NULL;
    void *val = m->e[i].val;
    /* Backward shift: pull later members of the run into the hole unless
     * that would move them before their home slot. */
    for (size_t j = (i + 1) & mask; m->e[j].key; j = (j + 1) & mask) {
        size_t home = m->e[j].hash & mask;
        bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            m->e[i] = m->e[j];
            i = j;
        }
    }
    m->e[i] = (struct hmap_ent){0};
    m->n--;
    return val;
}

struct hmap_ent *hmap_next(const struct hmap *m, size_t *it)
{
    for (; *it < m->cap; (*it)++)
        if (m->e[*it].key)
            return &m->e[(*it)++];
    return NULL;
}

void hmap_free(struct hmap *m)
{
    free(m->e);
    *m = (struct hmap)HMAP_INIT;
}
