#include "core/scheduler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/limits.h"
#include "core/session.h"
#include "util/log.h"

struct scheduler {
    struct session *s;
    uv_timer_t timer;            /* fires just after each minute boundary while running */
    uv_fs_event_t watch;         /* the test clock file, when set */
    bool watching;
    bool running;                /* scheduler_enabled */
    bool last_due;               /* the rule's answer at the last evaluation */
    int64_t offset_ms;           /* test clock: added to the wall clock */
    char *clock_file;
    int open_handles;
};

bool scheduler_due(const struct scheduler_rule *r, const struct tm *now)
{
    if (r->from_hour < 0 || r->from_hour > 23 || r->to_hour < 0 || r->to_hour > 23 || r->from_min < 0 ||
        r->from_min > 59 || r->to_min < 0 || r->to_min > 59 || r->days < 0 || r->days > 9)
        return false;
    int64_t start = r->from_hour * 3600 + r->from_min * 60;
    int64_t end = r->to_hour * 3600 + r->to_min * 60;
    int64_t t = now->tm_hour * 3600 + now->tm_min * 60 + (now->tm_sec > 59 ? 59 : now->tm_sec);
    /* qBittorrent: a window across midnight is the complement of [to, from). */
    bool alternative = false;
    if (start > end) {
        int64_t x = start;
        start = end;
        end = x;
        alternative = true;
    }
    if (t < start || t >= end)
        return alternative;
    int day = now->tm_wday == 0 ? 7 : now->tm_wday;   /* Qt's dayOfWeek: 1 Monday .. 7 Sunday */
    bool selected = r->days == 0 || (r->days == 1 && day <= 5) || (r->days == 2 && day >= 6) ||
                    (r->days >= 3 && day == r->days - 2);
    return selected ? !alternative : alternative;
}

bool scheduler_due_at(const struct scheduler_rule *r, time_t t)
{
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return false;
    return scheduler_due(r, &tm);
}

static int64_t clock_ms(const struct scheduler *sc)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + sc->offset_ms;
}

static void on_timer(uv_timer_t *h);

/* Applies the rule: always when `force` (start), else only when its answer
 * changed since the last evaluation, so a manual toggle holds until then.
 * Re-arms the timer for the next minute boundary. */
static void evaluate(struct scheduler *sc, bool force)
{
    struct session *s = sc->s;
    const struct settings *st = &s->settings;
    int64_t ms = clock_ms(sc);
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    struct scheduler_rule r = {
        .from_hour = settings_int(st, SET_SCHEDULE_FROM_HOUR),
        .from_min = settings_int(st, SET_SCHEDULE_FROM_MIN),
        .to_hour = settings_int(st, SET_SCHEDULE_TO_HOUR),
        .to_min = settings_int(st, SET_SCHEDULE_TO_MIN),
        .days = settings_int(st, SET_SCHEDULER_DAYS),
    };
    bool due = scheduler_due_at(&r, t);
    if (force || due != sc->last_due) {
        sc->last_due = due;
        if (limits_alt(s) != due) {
            log_msg(LOG_INFO, "bandwidth scheduler: switching to %s speed limits", due ? "alternative" : "normal");
            int rc = limits_set_alt(s, due, NULL, NULL);
            if (rc != 0)
                log_msg(LOG_WARNING, "bandwidth scheduler: cannot store the speed limits mode: %s", strerror(-rc));
        }
    }
    /* 1 ms past the next boundary; a timer that fires early re-arms for the rest. */
    int64_t left = (60 - (tm.tm_sec > 59 ? 59 : tm.tm_sec)) * 1000 - ms % 1000 + 1;
    uv_timer_start(&sc->timer, on_timer, (uint64_t)(left > 0 ? left : 1), 0);
}

static void on_timer(uv_timer_t *h)
{
    struct scheduler *sc = h->data;
    if (sc->running)
        evaluate(sc, false);
}

static void set_running(struct scheduler *sc, bool on)
{
    if (on == sc->running)
        return;
    sc->running = on;
    if (on)
        evaluate(sc, true);
    else
        uv_timer_stop(&sc->timer);
}

static void on_settings(void *ud, const struct settings_mask *changed)
{
    struct session *s = ud;   /* not the scheduler: the hook outlives scheduler_close */
    struct scheduler *sc = s->sched;
    if (!sc)
        return;
    bool on = settings_bool(&sc->s->settings, SET_SCHEDULER_ENABLED);
    if (settings_mask_has(changed, SET_SCHEDULER_ENABLED) || on != sc->running)
        set_running(sc, on);
    else if (sc->running)
        evaluate(sc, false);
}

/* ---- the test clock ---- */

static void read_clock_file(struct scheduler *sc)
{
    FILE *f = fopen(sc->clock_file, "re");
    if (!f)
        return;
    char buf[64] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || errno != 0 || v > 1e11 || v < -1e11)
        return;   /* empty while being rewritten, or not a number */
    int64_t off = (int64_t)(v * 1000.0 + (v < 0 ? -0.5 : 0.5));
    if (off == sc->offset_ms)
        return;
    sc->offset_ms = off;
    log_msg(LOG_INFO, "test clock: scheduler time is the wall clock %+.3f s (%s)", (double)off / 1000.0,
            sc->clock_file);
    if (sc->running)
        evaluate(sc, false);
}

static void on_clock_file(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)name;
    (void)events;
    if (status == 0)
        read_clock_file(h->data);
}

static void on_closed(uv_handle_t *h)
{
    struct scheduler *sc = h->data;
    if (--sc->open_handles == 0) {
        free(sc->clock_file);
        free(sc);
    }
}

int scheduler_start(struct session *s)
{
    struct scheduler *sc = calloc(1, sizeof *sc);
    if (!sc)
        return -ENOMEM;
    sc->s = s;
    uv_timer_init(s->loop, &sc->timer);
    sc->timer.data = sc;
    uv_unref((uv_handle_t *)&sc->timer);
    sc->open_handles = 1;
    s->sched = sc;
    int rc = settings_add_hook(&s->settings, SG_SCHEDULER, on_settings, s);
    if (rc != 0)
        return rc;   /* scheduler_close frees it */

    const char *file = getenv("TORRENTD_TEST_CLOCK_FILE");
    if (file && *file && (sc->clock_file = strdup(file))) {
        read_clock_file(sc);
        uv_fs_event_init(s->loop, &sc->watch);
        sc->watch.data = sc;
        sc->open_handles++;
        sc->watching = true;
        rc = uv_fs_event_start(&sc->watch, on_clock_file, file, 0);
        if (rc != 0)
            log_msg(LOG_WARNING, "test clock: cannot watch %s: %s", file, uv_strerror(rc));
        uv_unref((uv_handle_t *)&sc->watch);
    }
    set_running(sc, settings_bool(&s->settings, SET_SCHEDULER_ENABLED));
    return 0;
}

void scheduler_close(struct session *s)
{
    struct scheduler *sc = s->sched;
    if (!sc)
        return;
    s->sched = NULL;
    sc->running = false;
    uv_close((uv_handle_t *)&sc->timer, on_closed);
    if (sc->watching)
        uv_close((uv_handle_t *)&sc->watch, on_closed);
}
