#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/xferhist.h"
#include "store/record.h"

static void use_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

/* 2026-03-10 00:00:00 UTC */
#define T0 1773100800LL
#define H 3600LL
#define D 86400LL

/* Midnight (local) shifts the days: [0] is today, [1] yesterday. */
static void rollover_utc(void **state)
{
    (void)state;
    use_tz("UTC0");
    struct xferhist h;
    xferhist_init(&h, T0 + 12 * H);
    assert_int_equal(h.start, T0 + 12 * H);
    xferhist_add(&h, T0 + 12 * H, 100, 10, 40, 4);
    xferhist_add(&h, T0 + D - 1, 1, 1, 0, 0);   /* 23:59:59, same day */
    assert_int_equal(h.dl[0], 101);
    assert_int_equal(h.ul[0], 11);
    assert_int_equal(h.dl_local[0], 40);
    assert_int_equal(h.ul_local[0], 4);
    xferhist_add(&h, T0 + D, 7, 0, 0, 0);       /* midnight */
    assert_int_equal(h.dl[0], 7);
    assert_int_equal(h.dl[1], 101);
    assert_int_equal(h.ul[0], 0);
    assert_int_equal(h.ul[1], 11);
    assert_int_equal(h.dl_local[1], 40);
    assert_int_equal(h.ul_local[1], 4);
    /* three quiet days, then a roll alone: zeros in between */
    xferhist_roll(&h, T0 + 4 * D + 5);
    assert_int_equal(h.dl[0], 0);
    assert_int_equal(h.dl[3], 7);
    assert_int_equal(h.dl[4], 101);
    /* the clock set back a day: no shift back, bytes go to today */
    uint64_t gen = h.gen;
    xferhist_add(&h, T0 + 3 * D, 5, 0, 0, 0);
    assert_int_equal(h.dl[0], 5);
    assert_int_equal(h.dl[3], 7);
    assert_true(h.gen > gen);
    /* 30 days later the oldest day (index 30) is still there, 31 later it is gone */
    xferhist_roll(&h, T0 + (4 + 26) * D);
    assert_int_equal(h.dl[30], 101);
    xferhist_roll(&h, T0 + (4 + 27) * D);
    for (int i = 0; i < XFERHIST_DAYS; i++)
        assert_true(h.dl[i] == 0 || (i == 30 && h.dl[i] == 7) || (i == 27 && h.dl[i] == 5));
    xferhist_roll(&h, T0 + 400 * D);
    for (int i = 0; i < XFERHIST_DAYS; i++)
        assert_int_equal(h.dl[i] + h.ul[i] + h.dl_local[i] + h.ul_local[i], 0);
    /* negative amounts (counters never go back) are ignored */
    xferhist_add(&h, T0 + 400 * D, -5, 3, 0, 0);
    assert_int_equal(h.dl[0], 0);
    assert_int_equal(h.ul[0], 3);
}

/* Days are the daemon's local days: UTC midnight is not one in New York,
 * local midnight is; a 23-hour DST day is one day. */
static void rollover_local(void **state)
{
    (void)state;
    use_tz("EST5EDT,M3.2.0,M11.1.0");
    struct xferhist h;
    xferhist_init(&h, T0 - 2 * H);               /* 2026-03-09 22:00 EDT */
    xferhist_add(&h, T0 - 2 * H, 1, 0, 0, 0);
    xferhist_add(&h, T0 + 3 * H, 2, 0, 0, 0);    /* 23:00 EDT, after UTC midnight */
    assert_int_equal(h.dl[0], 3);
    xferhist_add(&h, T0 + 4 * H, 4, 0, 0, 0);    /* 00:00 EDT on the 10th */
    assert_int_equal(h.dl[0], 4);
    assert_int_equal(h.dl[1], 3);
    /* 2026-03-08 (DST starts, 23 hours): 00:30 EST and 23:30 EDT are one day */
    int64_t mar8 = T0 - 2 * D + 5 * H;           /* 2026-03-08 00:00 EST */
    xferhist_init(&h, mar8 + 30 * 60);
    xferhist_add(&h, mar8 + 30 * 60, 1, 0, 0, 0);
    xferhist_add(&h, mar8 + 22 * H + 30 * 60, 1, 0, 0, 0);   /* 23:30 EDT */
    assert_int_equal(h.dl[0], 2);
    xferhist_add(&h, mar8 + 23 * H, 1, 0, 0, 0);            /* 00:00 EDT on the 9th */
    assert_int_equal(h.dl[1], 2);
    use_tz("UTC0");
}

static void reset(void **state)
{
    (void)state;
    use_tz("UTC0");
    struct xferhist h;
    xferhist_init(&h, T0);
    xferhist_add(&h, T0, 9, 9, 9, 9);
    xferhist_add(&h, T0 + D, 9, 9, 9, 9);
    uint64_t gen = h.gen;
    xferhist_reset(&h, T0 + D + 60);
    assert_true(h.gen > gen);
    assert_int_equal(h.start, T0 + D + 60);
    for (int i = 0; i < XFERHIST_DAYS; i++)
        assert_int_equal(h.dl[i] + h.ul[i] + h.dl_local[i] + h.ul_local[i], 0);
}

static bool local4(const char *ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return xferhist_addr_is_local((const struct sockaddr *)&a);
}

static bool local6(const char *ip)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return xferhist_addr_is_local((const struct sockaddr *)&a);
}

static void local_addresses(void **state)
{
    (void)state;
    assert_true(local4("127.0.3.2"));
    assert_true(local4("10.1.2.3"));
    assert_true(local4("172.16.0.1"));
    assert_true(local4("172.31.255.255"));
    assert_true(local4("192.168.1.1"));
    assert_true(local4("169.254.9.9"));
    assert_false(local4("172.32.0.1"));
    assert_false(local4("8.8.8.8"));
    assert_false(local4("100.64.0.1"));
    assert_true(local6("::1"));
    assert_true(local6("fe80::1"));
    assert_true(local6("fd00::5"));
    assert_true(local6("::ffff:192.168.0.7"));
    assert_false(local6("::ffff:1.2.3.4"));
    assert_false(local6("2001:db8::1"));
}

/* The stored row: every day round-trips; old or damaged rows read leniently. */
static void row(void **state)
{
    (void)state;
    struct record_xferhist x, y;
    memset(&x, 0, sizeof x);
    x.day = 20522;
    x.start = T0;
    for (int i = 0; i < RECORD_XFERHIST_DAYS; i++) {
        x.dl[i] = (int64_t)1 << 40 | i;
        x.ul[i] = i * 3;
        x.dl_local[i] = i;
        x.ul_local[i] = 31 - i;
    }
    char *text = NULL;
    assert_int_equal(record_xferhist_encode(&x, &text), 0);
    assert_non_null(strstr(text, "\"day\":20522"));
    assert_int_equal(record_xferhist_decode(text, &y), 0);
    assert_memory_equal(&x, &y, sizeof x);
    free(text);
    assert_int_equal(record_xferhist_decode("{\"day\":5,\"dl\":[1,\"x\",3],\"ul\":7}", &y), 0);
    assert_int_equal(y.day, 5);
    assert_int_equal(y.dl[0], 1);
    assert_int_equal(y.dl[1], 0);
    assert_int_equal(y.dl[2], 3);
    assert_int_equal(y.dl[3], 0);
    assert_int_equal(y.ul[0], 0);
    assert_int_equal(record_xferhist_decode("[1]", &y), -EINVAL);
    assert_int_equal(record_xferhist_decode("nope", &y), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rollover_utc), cmocka_unit_test(rollover_local), cmocka_unit_test(reset),
        cmocka_unit_test(local_addresses), cmocka_unit_test(row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
