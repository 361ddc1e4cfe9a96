#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/rate.h"

static void steady_rate(void **state)
{
    (void)state;
    struct rate r;
    rate_init(&r);
    assert_int_equal(rate_get(&r, 1000), 0);
    /* 100 KB/s in 100 ms steps for 20 s. */
    uint64_t t = 1000000;
    for (int i = 0; i < 200; i++, t += 100)
        rate_add(&r, 10000, t);
    uint64_t v = rate_get(&r, t);
    assert_in_range(v, 90000, 110000);
    assert_int_equal(r.total, 2000000);
}

static void young_rate_does_not_spike(void **state)
{
    (void)state;
    struct rate r;
    rate_init(&r);
    rate_add(&r, 50000, 5000);
    /* One sample 1 ms ago is not 50 MB/s. */
    assert_true(rate_get(&r, 5001) <= 50000);
    /* After 2 s of 50 KB/s the young window gives ~50 KB/s, not 50/5. */
    rate_add(&r, 50000, 6000);
    assert_in_range(rate_get(&r, 7000), 45000, 55000);
}

static void decays_when_idle(void **state)
{
    (void)state;
    struct rate r;
    rate_init(&r);
    uint64_t t = 0;
    for (int i = 0; i < 100; i++, t += 100)
        rate_add(&r, 10000, t);
    uint64_t full = rate_get(&r, t);
    assert_true(full > 50000);
    uint64_t half = rate_get(&r, t + 2500);
    assert_true(half < full);
    assert_true(half > 0);
    assert_int_equal(rate_get(&r, t + 6100), 0);
    /* A long gap (days) rolls cleanly and counting resumes. */
    assert_int_equal(rate_get(&r, t + 86400000ULL * 3), 0);
    rate_add(&r, 1000, t + 86400000ULL * 3);
    assert_true(rate_get(&r, t + 86400000ULL * 3 + 10) > 0);
    /* Clock going backwards must not crash or underflow. */
    rate_add(&r, 1000, 5);
    assert_true(rate_get(&r, 5) < 100000);
}

static void bucket_unlimited(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl);
    assert_int_equal(ratelimit_take(&rl, 123456789, 0), 123456789);
    ratelimit_set(&rl, 0);
    assert_int_equal(ratelimit_take(&rl, 5, 10), 5);
}

static void bucket_limits(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl);
    ratelimit_set(&rl, 10000);
    uint64_t t = 50000;
    /* Starts with one second of burst. */
    assert_int_equal(ratelimit_take(&rl, 16384, t), 10000);
    assert_int_equal(ratelimit_take(&rl, 16384, t), 0);
    /* 100 ms later: 1000 bytes. */
    assert_int_equal(ratelimit_take(&rl, 16384, t + 100), 1000);
    /* Over 10 s of steady asking, about 10 KB/s gets through. */
    uint64_t sent = 0;
    for (uint64_t ms = 1; ms <= 10000; ms++)
        sent += ratelimit_take(&rl, 16384, t + 100 + ms);
    assert_in_range(sent, 99000, 101000);
    /* Idle for a minute: burst is capped at one second. */
    assert_int_equal(ratelimit_take(&rl, 1000000, t + 100000), 10000);
    /* Refund is capped too. */
    ratelimit_refund(&rl, 1000000);
    assert_int_equal(ratelimit_take(&rl, 1000000, t + 100000), 10000);
    /* Lowering the limit drops excess tokens. */
    ratelimit_refund(&rl, 10000);
    ratelimit_set(&rl, 100);
    assert_int_equal(ratelimit_take(&rl, 1000, t + 100000), 100);
    /* Tiny rates still trickle (sub-byte refills accumulate). */
    ratelimit_set(&rl, 3);
    uint64_t got = 0;
    for (uint64_t ms = 1; ms <= 2000; ms++)
        got += ratelimit_take(&rl, 100, t + 100000 + ms);
    assert_in_range(got, 5, 7);
    /* Huge limits do not overflow. */
    ratelimit_set(&rl, UINT64_MAX / 2);
    assert_true(ratelimit_take(&rl, 1000, t + 200000) == 1000);
}

static void bucket_available(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl);
    assert_true(ratelimit_available(&rl, 0) == UINT64_MAX);   /* unlimited */
    ratelimit_set(&rl, 10000);
    uint64_t t = 50000;
    assert_int_equal(ratelimit_available(&rl, t), 10000);     /* the first second's burst */
    assert_int_equal(ratelimit_available(&rl, t), 10000);     /* looking takes nothing */
    assert_int_equal(ratelimit_take(&rl, 4000, t), 4000);
    assert_int_equal(ratelimit_available(&rl, t), 6000);
    assert_int_equal(ratelimit_available(&rl, t + 200), 8000); /* refilled to now */
    assert_int_equal(ratelimit_available(&rl, t + 60000), 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steady_rate),
        cmocka_unit_test(young_rate_does_not_spike),
        cmocka_unit_test(decays_when_idle),
        cmocka_unit_test(bucket_unlimited),
        cmocka_unit_test(bucket_limits),
        cmocka_unit_test(bucket_available),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
