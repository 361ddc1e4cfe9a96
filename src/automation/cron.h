/* automation/cron — five-field cron expressions (minute hour day-of-month
 * month day-of-week), for the automation schedule as qbit_manage's
 * `--schedule` (croniter) reads them ("0,30 * * * *": every half hour).
 *
 * Each field is `*`, a number, a range `a-b`, any of those with a step
 * `/n`, or a comma list of them; day-of-week 0-7 (0 and 7 Sunday), month
 * and weekday names (jan, mon) accepted.  When both day fields are
 * restricted a day matches if either does (Vixie cron).  Local time.  Pure
 * (tests/unit/test_automation_cron.c).
 */
#ifndef TD_AUTOMATION_CRON_H
#define TD_AUTOMATION_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct cron {
    uint64_t minute;      /* bit i = minute i */
    uint32_t hour, dom, month;   /* dom bits 1..31, month bits 1..12 */
    uint8_t dow;          /* bits 0..6 */
    bool dom_star, dow_star;
};

/* 0, or -EINVAL for anything else than the grammar above. */
int cron_parse(const char *expr, struct cron *out);
/* Whether the minute of the broken-down local time tm matches. */
bool cron_match(const struct cron *c, const struct tm *tm);
/* The first whole minute strictly after `after` that matches, or -1 when
 * none within five years. */
time_t cron_next(const struct cron *c, time_t after);

#endif
