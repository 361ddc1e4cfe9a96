/* scheduler — qBittorrent's alternative-speed scheduler.
 *
 * With scheduler_enabled, the alternative speed limits (core/limits.c) are
 * switched on at schedule_from_hour:min and off at schedule_to_hour:min on
 * the days scheduler_days selects, in local time:
 *   0 every day, 1 weekdays (Mon-Fri), 2 weekends, 3 Monday ... 9 Sunday.
 * The rule is qBittorrent 5.1's BandwidthScheduler::isTimeForAlternative,
 * at one-second resolution:
 *   - from < to: alternative in [from, to) on a selected day;
 *   - from > to (across midnight): the hours [to, from) are normal on a
 *     selected day, every other moment is alternative.  So on a day the
 *     setting does not select, a window across midnight keeps the
 *     alternative limits on all day: qBittorrent's rule, kept as is so both
 *     daemons agree side by side;
 *   - from == to: never alternative;
 *   - an hour outside 0..23, a minute outside 0..59 or days outside 0..9:
 *     never alternative.
 * Like qBittorrent, the scheduler switches only when the rule's answer
 * changes (at a boundary), so a manual toggle (transfer/toggleSpeedLimitsMode)
 * holds until the next one; turning the scheduler on, and the daemon's
 * start with it on, applies the rule's answer at once.  A settings change
 * re-evaluates at once (qBittorrent's 30 s poll would within 30 s).
 *
 * The loop's timer fires at each minute boundary of the wall clock, where
 * all boundaries lie, and re-reads the local time (localtime_r) each time,
 * so clock steps and DST changes are followed within a minute.
 *
 * Tests: TORRENTD_TEST_CLOCK_FILE names a file holding seconds (a decimal
 * number, may be negative or fractional) added to the wall clock for the
 * scheduler only.  The file is watched: writing a new offset re-evaluates
 * at once and logs "test clock: ..." (so a test knows it was read).  Any
 * build honours it; it is environment-only, like TORRENTD_DEBUG.
 */
#ifndef TD_CORE_SCHEDULER_H
#define TD_CORE_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct session;

struct scheduler_rule {
    int64_t from_hour, from_min, to_hour, to_min;
    int64_t days;                /* qBittorrent's scheduler_days */
};

/* Whether the alternative limits are due at local time *now (tm_wday,
 * tm_hour, tm_min, tm_sec are read). */
bool scheduler_due(const struct scheduler_rule *r, const struct tm *now);
/* The same at epoch second t, in the local time zone (localtime_r: DST
 * changes and the TZ variable are followed). */
bool scheduler_due_at(const struct scheduler_rule *r, time_t t);

/* Registers the settings hook and, with scheduler_enabled, starts (after
 * limits_init: it may switch the limits).  0 or a negative errno. */
int scheduler_start(struct session *s);
/* Stops the timer and the clock-file watch (session shutdown). */
void scheduler_close(struct session *s);

#endif
