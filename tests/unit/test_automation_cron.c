/* automation/cron: five-field expressions and the next matching minute. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include "automation/cron.h"

static time_t at(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_isdst = -1};
    return mktime(&tm);
}

static void parse_errors(void **state)
{
    (void)state;
    struct cron c;
    assert_int_equal(cron_parse("* * * * *", &c), 0);
    assert_int_equal(cron_parse("*/15 0-6,22 1 jan-mar mon-fri", &c), 0);
    assert_int_equal(cron_parse("5/10 * * * 7", &c), 0);
    assert_int_equal(cron_parse("* * * *", &c), -EINVAL);
    assert_int_equal(cron_parse("* * * * * *", &c), -EINVAL);
    assert_int_equal(cron_parse("60 * * * *", &c), -EINVAL);
    assert_int_equal(cron_parse("* 24 * * *", &c), -EINVAL);
    assert_int_equal(cron_parse("* * 0 * *", &c), -EINVAL);
    assert_int_equal(cron_parse("* * * 13 *", &c), -EINVAL);
    assert_int_equal(cron_parse("*/0 * * * *", &c), -EINVAL);
    assert_int_equal(cron_parse("5-1 * * * *", &c), -EINVAL);
    assert_int_equal(cron_parse("x * * * *", &c), -EINVAL);
    assert_int_equal(cron_parse("1,,2 * * * *", &c), 0);   /* empty list items are skipped, as strtok does */
}

static void next_times(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    struct cron c;
    assert_int_equal(cron_parse("*/30 * * * *", &c), 0);
    assert_int_equal(cron_next(&c, at(2026, 12, 7, 22, 10)), at(2026, 12, 7, 22, 30));
    assert_int_equal(cron_next(&c, at(2026, 12, 7, 22, 30)), at(2026, 12, 7, 23, 0));   /* strictly after */
    assert_int_equal(cron_parse("0 3 * * *", &c), 0);
    assert_int_equal(cron_next(&c, at(2026, 12, 7, 22, 10)), at(2026, 12, 8, 3, 0));
    assert_int_equal(cron_parse("15 10 29 2 *", &c), 0);   /* 29 February: the next leap year */
    assert_int_equal(cron_next(&c, at(2026, 12, 7, 0, 0)), at(2028, 2, 29, 10, 15));
    assert_int_equal(cron_parse("0 12 * * sun", &c), 0);
    assert_int_equal(cron_next(&c, at(2026, 12, 7, 0, 0)), at(2026, 12, 13, 12, 0));   /* 7 Dec 2026 is a Monday */
    assert_int_equal(cron_parse("0 12 * * 7", &c), 0);
    assert_int_equal(cron_next(&c, at(2026, 12, 7, 0, 0)), at(2026, 12, 13, 12, 0));
    /* both day fields restricted: either matches (the 1st, or a Friday) */
    assert_int_equal(cron_parse("0 0 1 * fri", &c), 0);
    assert_int_equal(cron_next(&c, at(2026, 12, 7, 0, 0)), at(2026, 12, 11, 0, 0));
    assert_int_equal(cron_parse("0 0 30 2 *", &c), 0);   /* never */
    assert_int_equal(cron_next(&c, at(2026, 12, 7, 0, 0)), -1);
}

static void match(void **state)
{
    (void)state;
    struct cron c;
    assert_int_equal(cron_parse("0-10/5 8 * * *", &c), 0);
    struct tm tm = {.tm_min = 5, .tm_hour = 8, .tm_mday = 3, .tm_mon = 4, .tm_wday = 2};
    assert_true(cron_match(&c, &tm));
    tm.tm_min = 6;
    assert_false(cron_match(&c, &tm));
    tm.tm_min = 10;
    assert_true(cron_match(&c, &tm));
    tm.tm_hour = 9;
    assert_false(cron_match(&c, &tm));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_errors),
        cmocka_unit_test(next_times),
        cmocka_unit_test(match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
