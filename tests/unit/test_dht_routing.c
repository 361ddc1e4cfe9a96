/* dht/routing: bucket splits, replacement rules, XOR ordering, refresh. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bt/dht/routing.h"
#include "util/log.h"

#define MIN (60u * 1000)

static union dht_addr addr_n(unsigned n)
{
    union dht_addr a;
    memset(&a, 0, sizeof a);
    a.in.sin_family = AF_INET;
    a.in.sin_addr.s_addr = htonl(0x01000000u + n);   /* 1.x.x.x, public */
    a.in.sin_port = htons((uint16_t)(1000 + n % 60000));
    return a;
}

static void id_with(uint8_t id[20], uint8_t first, uint8_t last)
{
    memset(id, 0x33, 20);
    id[0] = first;
    id[19] = last;
}

static bool in_table(const struct dht_rt *rt, const uint8_t id[20])
{
    for (size_t i = 0; i < rt->n; i++)
        for (size_t k = 0; k < rt->b[i].n; k++)
            if (memcmp(rt->b[i].nodes[k].id, id, 20) == 0)
                return true;
    return false;
}

/* Every bucket holds at most K nodes, all matching its prefix; the buckets
 * are sorted and their sizes add up to the whole space. */
static void check_invariants(const struct dht_rt *rt)
{
    long double covered = 0;
    for (size_t i = 0; i < rt->n; i++) {
        const struct dht_bucket *b = &rt->b[i];
        assert_true(b->n <= DHT_K);
        covered += 1.0L / (long double)(1ull << (b->depth > 63 ? 63 : b->depth));
        for (size_t k = 0; k < b->n; k++)
            for (int bit = 0; bit < b->depth; bit++) {
                int x = b->nodes[k].id[bit / 8] >> (7 - bit % 8) & 1;
                int y = b->first[bit / 8] >> (7 - bit % 8) & 1;
                assert_int_equal(x, y);
            }
        if (i > 0)
            assert_true(memcmp(rt->b[i - 1].first, b->first, 20) < 0);
    }
    assert_true(covered > 0.999L && covered < 1.001L);
}

static void test_split(void **state)
{
    (void)state;
    struct dht_rt rt;
    uint8_t self[20] = {0}, id[20];
    assert_int_equal(dht_rt_init(&rt, self, 0), 0);
    /* our own id is never stored */
    union dht_addr a = addr_n(999);
    assert_int_equal(dht_rt_seen(&rt, self, &a, true, true, 0), DHT_RT_IGNORED);
    /* eight far nodes fill the single bucket */
    for (unsigned i = 0; i < 8; i++) {
        id_with(id, (uint8_t)(0x80 + i), 0);
        a = addr_n(i);
        assert_int_equal(dht_rt_seen(&rt, id, &a, true, true, 0), DHT_RT_ADDED);
    }
    assert_int_equal(rt.n, 1);
    /* a ninth splits it (it holds our id); the far half is full and does not
     * hold our id, so the newcomer waits in the cache */
    id_with(id, 0x90, 0);
    a = addr_n(8);
    assert_int_equal(dht_rt_seen(&rt, id, &a, true, true, 0), DHT_RT_CACHED);
    assert_int_equal(rt.n, 2);
    assert_int_equal(rt.b[1].depth, 1);
    assert_int_equal(rt.b[1].n, 8);
    assert_int_equal(rt.b[1].n_repl, 1);
    assert_int_equal(rt.b[0].n, 0);
    assert_false(in_table(&rt, id));
    /* nodes nearer to us go to the near half; filling it splits again */
    for (unsigned i = 0; i < 8; i++) {
        id_with(id, (uint8_t)(0x40 + i), 0);
        a = addr_n(100 + i);
        assert_int_equal(dht_rt_seen(&rt, id, &a, true, true, 0), DHT_RT_ADDED);
    }
    id_with(id, 0x20, 0);
    a = addr_n(200);
    assert_int_equal(dht_rt_seen(&rt, id, &a, true, true, 0), DHT_RT_ADDED);
    assert_int_equal(rt.n, 3);
    check_invariants(&rt);
    /* many random nodes: the table stays consistent and bounded */
    srand(7);
    for (unsigned i = 0; i < 5000; i++) {
        for (int k = 0; k < 20; k++)
            id[k] = (uint8_t)rand();
        if (i % 3 == 0)
            id[0] = id[1] = 0;   /* some close to us, to force deep splits */
        a = addr_n(1000 + i);
        int rc = dht_rt_seen(&rt, id, &a, true, true, 0);
        assert_true(rc == DHT_RT_ADDED || rc == DHT_RT_CACHED);
    }
    check_invariants(&rt);
    assert_true(rt.n > 10 && rt.n <= DHT_RT_MAX_BUCKETS);
    assert_int_equal(dht_rt_count(&rt, DHT_NODE_GOOD, 0) <= rt.n * DHT_K, true);
    dht_rt_free(&rt);
}

/* A table whose far bucket (ids 1xxx) is full of 8 nodes seen at time 0. */
static void far_full(struct dht_rt *rt, bool bep42)
{
    uint8_t self[20] = {0}, id[20];
    assert_int_equal(dht_rt_init(rt, self, 0), 0);
    for (unsigned i = 0; i < 8; i++) {
        id_with(id, (uint8_t)(0x80 + i), 0);
        union dht_addr a = addr_n(i);
        assert_int_equal(dht_rt_seen(rt, id, &a, true, bep42, 0), DHT_RT_ADDED);
    }
    id_with(id, 0x70, 0);   /* split once so the far bucket cannot split */
    union dht_addr a = addr_n(50);
    dht_rt_seen(rt, id, &a, true, bep42, 0);
    assert_int_equal(rt->n, 2);
}

static void test_full_bucket_keeps_good_nodes(void **state)
{
    (void)state;
    struct dht_rt rt;
    far_full(&rt, true);
    uint8_t id[20];
    id_with(id, 0xa0, 0);
    union dht_addr a = addr_n(60);
    /* all good: newcomer cached, nobody replaced */
    assert_int_equal(dht_rt_seen(&rt, id, &a, true, true, 1000), DHT_RT_CACHED);
    assert_false(in_table(&rt, id));
    assert_int_equal(dht_rt_count(&rt, DHT_NODE_GOOD, 1000), 9);
    /* after 15 minutes silence they are questionable, still not replaced */
    assert_int_equal(dht_rt_count(&rt, DHT_NODE_QUESTIONABLE, 16 * MIN), 9);
    id_with(id, 0xa1, 0);
    a = addr_n(61);
    assert_int_equal(dht_rt_seen(&rt, id, &a, true, true, 16 * MIN), DHT_RT_CACHED);
    assert_false(in_table(&rt, id));
    /* the questionable ones are offered for pinging, oldest first */
    struct dht_rt_node q[4];
    assert_int_equal(dht_rt_questionable(&rt, 16 * MIN, MIN, q, 4), 4);
    /* a questionable node that fails twice is bad and replaced by the newest cached */
    union dht_addr victim = rt.b[1].nodes[3].addr;
    uint8_t victim_id[20];
    memcpy(victim_id, rt.b[1].nodes[3].id, 20);
    dht_rt_pinged(&rt, &victim, 16 * MIN);
    assert_int_equal(dht_rt_questionable(&rt, 16 * MIN + 1, MIN, q, 4), 4);   /* others still due */
    dht_rt_failed(&rt, &victim, 16 * MIN + 2000);
    assert_true(in_table(&rt, victim_id));   /* one failure is not enough */
    dht_rt_failed(&rt, &victim, 16 * MIN + 4000);
    assert_false(in_table(&rt, victim_id));
    assert_true(in_table(&rt, id));           /* 0xa1, the newest cached */
    assert_int_equal(rt.b[1].n, 8);
    /* an answer resets the failure count */
    union dht_addr x = rt.b[1].nodes[0].addr;
    uint8_t xid[20];
    memcpy(xid, rt.b[1].nodes[0].id, 20);
    dht_rt_failed(&rt, &x, 17 * MIN);
    assert_int_equal(dht_rt_seen(&rt, xid, &x, true, true, 17 * MIN), DHT_RT_UPDATED);
    assert_int_equal(rt.b[1].nodes[0].fails, 0);
    assert_int_equal(dht_rt_state(&rt.b[1].nodes[0], 17 * MIN), DHT_NODE_GOOD);
    dht_rt_free(&rt);
}

static void test_bad_replaced_directly(void **state)
{
    (void)state;
    struct dht_rt rt;
    far_full(&rt, true);
    union dht_addr bad = rt.b[1].nodes[5].addr;
    dht_rt_failed(&rt, &bad, 100);
    dht_rt_failed(&rt, &bad, 200);   /* bad, no cache: stays until someone comes */
    assert_int_equal(dht_rt_count(&rt, DHT_NODE_BAD, 300), 1);
    /* bad nodes are never returned as closest */
    struct dht_rt_node out[16];
    uint8_t target[20];
    memcpy(target, rt.b[1].nodes[5].id, 20);
    size_t n = dht_rt_closest(&rt, target, out, 16);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++)
        assert_false(dht_addr_eq(&out[i].addr, &bad));
    uint8_t id[20];
    id_with(id, 0xb0, 0);
    union dht_addr a = addr_n(77);
    assert_int_equal(dht_rt_seen(&rt, id, &a, false, true, 300), DHT_RT_ADDED);
    assert_true(in_table(&rt, id));
    assert_int_equal(dht_rt_count(&rt, DHT_NODE_BAD, 300), 0);
    /* a known id from another address does not move it */
    union dht_addr other = addr_n(78);
    assert_int_equal(dht_rt_seen(&rt, id, &other, true, true, 400), DHT_RT_IGNORED);
    dht_rt_free(&rt);
}

static void test_bep42_preferred(void **state)
{
    (void)state;
    struct dht_rt rt;
    far_full(&rt, false);   /* all non-conformant */
    uint8_t id[20];
    id_with(id, 0xc0, 0);
    union dht_addr a = addr_n(90);
    /* while they are good, a conformant newcomer still waits */
    assert_int_equal(dht_rt_seen(&rt, id, &a, true, true, 1000), DHT_RT_CACHED);
    /* once questionable, the conformant (and verified) newcomer takes a place */
    assert_int_equal(dht_rt_seen(&rt, id, &a, true, true, 16 * MIN), DHT_RT_ADDED);
    assert_true(in_table(&rt, id));
    /* a non-conformant newcomer does not */
    id_with(id, 0xc1, 0);
    a = addr_n(91);
    assert_int_equal(dht_rt_seen(&rt, id, &a, true, false, 16 * MIN), DHT_RT_CACHED);
    dht_rt_free(&rt);
}

static const uint8_t *g_target;
static int by_distance(const void *x, const void *y)
{
    return dht_id_closer(g_target, ((const struct dht_rt_node *)x)->id, ((const struct dht_rt_node *)y)->id);
}

static void test_closest(void **state)
{
    (void)state;
    struct dht_rt rt;
    uint8_t self[20], id[20], target[20];
    srand(11);
    for (int k = 0; k < 20; k++)
        self[k] = (uint8_t)rand();
    assert_int_equal(dht_rt_init(&rt, self, 0), 0);
    for (unsigned i = 0; i < 400; i++) {
        for (int k = 0; k < 20; k++)
            id[k] = (uint8_t)rand();
        if (i % 2)
            memcpy(id, self, 1 + i % 4);
        union dht_addr a = addr_n(i);
        dht_rt_seen(&rt, id, &a, true, true, 0);
    }
    for (int round = 0; round < 20; round++) {
        for (int k = 0; k < 20; k++)
            target[k] = (uint8_t)rand();
        if (round % 2)
            memcpy(target, self, 3);
        /* brute force over the whole table */
        struct dht_rt_node all[DHT_RT_MAX_BUCKETS * DHT_K];
        size_t n_all = 0;
        for (size_t i = 0; i < rt.n; i++)
            for (size_t k = 0; k < rt.b[i].n; k++)
                all[n_all++] = rt.b[i].nodes[k];
        g_target = target;
        qsort(all, n_all, sizeof all[0], by_distance);
        struct dht_rt_node out[8];
        size_t n = dht_rt_closest(&rt, target, out, 8);
        assert_int_equal(n, 8);
        for (size_t i = 0; i < n; i++) {
            assert_memory_equal(out[i].id, all[i].id, 20);
            if (i > 0)
                assert_true(dht_id_closer(target, out[i - 1].id, out[i].id) < 0);
        }
    }
    /* the metric itself */
    uint8_t t[20] = {0}, x[20] = {0}, y[20] = {0};
    x[19] = 1;
    y[0] = 0x80;
    assert_true(dht_id_closer(t, x, y) < 0);
    assert_true(dht_id_closer(t, y, x) > 0);
    assert_int_equal(dht_id_closer(t, x, x), 0);
    t[0] = 0x80;
    assert_true(dht_id_closer(t, y, x) < 0);
    dht_rt_free(&rt);
}

static void test_refresh(void **state)
{
    (void)state;
    struct dht_rt rt;
    far_full(&rt, true);   /* two buckets, changed at 0 */
    uint8_t target[20];
    assert_false(dht_rt_refresh_due(&rt, 14 * MIN, target));
    /* a reply in the far bucket counts as a change and postpones it */
    union dht_addr a = rt.b[1].nodes[0].addr;
    uint8_t id[20];
    memcpy(id, rt.b[1].nodes[0].id, 20);
    dht_rt_seen(&rt, id, &a, true, true, 10 * MIN);
    int due = 0;
    bool far_seen = false, near_seen = false;
    while (dht_rt_refresh_due(&rt, 16 * MIN, target)) {
        due++;
        assert_true(due <= 2);
        if (target[0] & 0x80)
            far_seen = true;
        else
            near_seen = true;
    }
    assert_int_equal(due, 1);
    assert_true(near_seen);     /* the near bucket, target inside it */
    assert_false(far_seen);
    assert_true(dht_rt_refresh_due(&rt, 26 * MIN, target));   /* far: 10 + 15 */
    assert_true(target[0] & 0x80);
    assert_false(dht_rt_refresh_due(&rt, 26 * MIN, target));
    assert_true(dht_rt_refresh_due(&rt, 31 * MIN + 1, target));
    assert_false(target[0] & 0x80);
    dht_rt_free(&rt);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_full_bucket_keeps_good_nodes),
        cmocka_unit_test(test_bad_replaced_directly),
        cmocka_unit_test(test_bep42_preferred),
        cmocka_unit_test(test_closest),
        cmocka_unit_test(test_refresh),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
