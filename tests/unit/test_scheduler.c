/* core/scheduler: the rule that says when the alternative speed limits are
 * due (qBittorrent 5.1's BandwidthScheduler::isTimeForAlternative): the
 * window's edges, from == to, windows across midnight, every value of
 * scheduler_days, out-of-range settings, and local time across a DST change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include "core/scheduler.h"

/* wday: 0 Sunday .. 6 Saturday (struct tm). */
static bool due(int fh, int fm, int th, int tmin, int days, int wday, int h, int m, int s)
{
    struct scheduler_rule r = {fh, fm, th, tmin, days};
    struct tm now = {.tm_wday = wday, .tm_hour = h, .tm_min = m, .tm_sec = s};
    return scheduler_due(&r, &now);
}

enum { SUN, MON, TUE, WED, THU, FRI, SAT };

static void window_edges(void **state)
{
    (void)state;
    assert_false(due(8, 0, 20, 0, 0, WED, 7, 59, 59));
    assert_true(due(8, 0, 20, 0, 0, WED, 8, 0, 0));     /* on at the from minute */
    assert_true(due(8, 0, 20, 0, 0, WED, 19, 59, 59));
    assert_false(due(8, 0, 20, 0, 0, WED, 20, 0, 0));   /* off at the to minute */
    assert_true(due(10, 30, 10, 31, 0, WED, 10, 30, 59));
    assert_false(due(10, 30, 10, 31, 0, WED, 10, 31, 0));
    assert_true(due(0, 0, 23, 59, 0, WED, 0, 0, 0));
    assert_false(due(0, 0, 23, 59, 0, WED, 23, 59, 30));
    /* A leap second reads as :59. */
    assert_true(due(8, 0, 20, 0, 0, WED, 19, 59, 60));
}

static void from_equals_to_is_never(void **state)
{
    (void)state;
    for (int h = 0; h < 24; h++)
        for (int s = 0; s < 60; s += 29) {
            assert_false(due(10, 0, 10, 0, 0, MON, h, 0, s));
            assert_false(due(10, 0, 10, 0, 0, MON, 10, 0, s));
        }
}

static void across_midnight(void **state)
{
    (void)state;
    assert_false(due(22, 0, 6, 0, 0, TUE, 21, 59, 59));
    assert_true(due(22, 0, 6, 0, 0, TUE, 22, 0, 0));
    assert_true(due(22, 0, 6, 0, 0, TUE, 23, 59, 59));
    assert_true(due(22, 0, 6, 0, 0, WED, 0, 0, 0));
    assert_true(due(22, 0, 6, 0, 0, WED, 5, 59, 59));
    assert_false(due(22, 0, 6, 0, 0, WED, 6, 0, 0));
    assert_false(due(22, 0, 6, 0, 0, WED, 12, 0, 0));
    /* With days, qBittorrent makes only the gap [to, from) of a selected
     * day normal: the rest of the week is alternative. */
    assert_false(due(22, 0, 6, 0, 2, SAT, 12, 0, 0));
    assert_true(due(22, 0, 6, 0, 2, SAT, 23, 0, 0));
    assert_true(due(22, 0, 6, 0, 2, SUN, 3, 0, 0));
    assert_true(due(22, 0, 6, 0, 2, MON, 12, 0, 0));
    assert_true(due(22, 0, 6, 0, 1, SAT, 12, 0, 0));
    assert_false(due(22, 0, 6, 0, 1, FRI, 12, 0, 0));
}

static void weekdays_and_weekends(void **state)
{
    (void)state;
    for (int wd = SUN; wd <= SAT; wd++) {
        bool weekend = wd == SAT || wd == SUN;
        assert_true(due(8, 0, 20, 0, 0, wd, 12, 0, 0));
        assert_int_equal(due(8, 0, 20, 0, 1, wd, 12, 0, 0), !weekend);
        assert_int_equal(due(8, 0, 20, 0, 2, wd, 12, 0, 0), weekend);
        /* Outside the window, whatever the day. */
        assert_false(due(8, 0, 20, 0, 1, wd, 21, 0, 0));
        assert_false(due(8, 0, 20, 0, 2, wd, 7, 0, 0));
    }
}

static void single_days(void **state)
{
    (void)state;
    /* 3 Monday .. 9 Sunday. */
    static const int wday_of[10] = {[3] = MON, [4] = TUE, [5] = WED, [6] = THU, [7] = FRI, [8] = SAT, [9] = SUN};
    for (int d = 3; d <= 9; d++)
        for (int wd = SUN; wd <= SAT; wd++)
            assert_int_equal(due(8, 0, 20, 0, d, wd, 12, 0, 0), wd == wday_of[d]);
}

static void out_of_range_is_never(void **state)
{
    (void)state;
    assert_false(due(24, 0, 20, 0, 0, MON, 12, 0, 0));
    assert_false(due(8, 60, 20, 0, 0, MON, 12, 0, 0));
    assert_false(due(8, 0, -1, 0, 0, MON, 12, 0, 0));
    assert_false(due(8, 0, 20, -5, 0, MON, 12, 0, 0));
    assert_false(due(8, 0, 20, 0, 10, MON, 12, 0, 0));
    assert_false(due(8, 0, 20, 0, -1, MON, 12, 0, 0));
    assert_false(due(22, 0, 6, 0, 10, MON, 23, 0, 0));
}

/* Local time, not UTC and not "seconds since midnight": on the day clocks
 * go forward the 02:00-03:00 hour does not exist, and a window ending at
 * 03:00 ends one real second after 01:59:59. */
static void local_time_across_dst(void **state)
{
    (void)state;
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    time_t before = 1774745999;   /* 2026-03-29 00:59:59 UTC = 01:59:59 CET (Sunday) */
    struct scheduler_rule one_to_three = {1, 0, 3, 0, 0};
    struct scheduler_rule two_to_three = {2, 0, 3, 0, 0};
    struct scheduler_rule sundays = {1, 0, 4, 0, 9};
    assert_true(scheduler_due_at(&one_to_three, before));
    assert_false(scheduler_due_at(&one_to_three, before + 1));   /* 03:00:00 CEST */
    for (time_t t = before - 7200; t < before + 7200; t += 60)
        assert_false(scheduler_due_at(&two_to_three, t));
    assert_true(scheduler_due_at(&sundays, before + 1));
    /* The same instant in UTC is 01:00:00: due for a 01:00-03:00 window. */
    setenv("TZ", "UTC", 1);
    tzset();
    assert_true(scheduler_due_at(&one_to_three, before + 1));
    assert_false(scheduler_due_at(&one_to_three, before - 3600));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_edges),
        cmocka_unit_test(from_equals_to_is_never),
        cmocka_unit_test(across_midnight),
        cmocka_unit_test(weekdays_and_weekends),
        cmocka_unit_test(single_days),
        cmocka_unit_test(out_of_range_is_never),
        cmocka_unit_test(local_time_across_dst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
