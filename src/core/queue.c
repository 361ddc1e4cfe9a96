#include "core/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"
#include "core/torrent.h"
#include "util/rate.h"

void queue_reindex(struct session *s)
{
    for (size_t i = 0; i < s->num_torrents; i++)
        s->torrents[i]->queue_pos = (int64_t)i;
}

void queue_added(struct session *s, struct torrent *t)
{
    t->queue_pos = (int64_t)s->num_torrents - 1;
}

void queue_removed(struct session *s, size_t pos)
{
    for (size_t k = pos; k < s->num_torrents; k++)
        s->torrents[k]->queue_pos = (int64_t)k;
}

static int by_saved_pos(const void *a, const void *b)
{
    const struct torrent *x = *(struct torrent *const *)a, *y = *(struct torrent *const *)b;
    if (x->queue_pos != y->queue_pos)
        return x->queue_pos < y->queue_pos ? -1 : 1;
    return x->added_on < y->added_on ? -1 : x->added_on > y->added_on;
}

void queue_restore_order(struct session *s)
{
    if (s->num_torrents == 0)
        return;
    qsort(s->torrents, s->num_torrents, sizeof *s->torrents, by_saved_pos);
    queue_reindex(s);
}

static bool takes_part(const struct torrent *t)
{
    return !t->removing && !t->stopped && !t->forced && (t->phase == TP_READY || t->phase == TP_CHECKING);
}

bool queue_counts(const struct session *s, const struct torrent *t)
{
    const struct settings *st = &s->settings;
    if (!settings_bool(st, SET_DONT_COUNT_SLOW_TORRENTS) || t->queued || !t->slow_since_ms)
        return true;
    int64_t timer_s = settings_int(st, SET_SLOW_TORRENT_INACTIVE_TIMER);
    return s->now_ms < t->slow_since_ms + (uint64_t)(timer_s > 0 ? timer_s : 0) * 1000;
}

/* Tracks when each running torrent went under the slow thresholds. */
static void track_slow(struct session *s)
{
    const struct settings *st = &s->settings;
    bool on = settings_bool(st, SET_DONT_COUNT_SLOW_TORRENTS);
    int64_t dl_max = settings_int(st, SET_SLOW_TORRENT_DL_RATE_THRESHOLD) * 1024;
    int64_t ul_max = settings_int(st, SET_SLOW_TORRENT_UL_RATE_THRESHOLD) * 1024;
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        if (!on || t->queued || !t->active || !takes_part(t)) {
            t->slow_since_ms = 0;
            continue;
        }
        bool slow = (int64_t)rate_get(&t->dl_rate, s->now_ms) <= dl_max &&
                    (int64_t)rate_get(&t->ul_rate, s->now_ms) <= ul_max;
        if (!slow)
            t->slow_since_ms = 0;
        else if (!t->slow_since_ms)
            t->slow_since_ms = s->now_ms ? s->now_ms : 1;
    }
}

void queue_update(struct session *s)
{
    bool enabled = settings_bool(&s->settings, SET_QUEUEING_ENABLED);
    int64_t max_dl = settings_int(&s->settings, SET_MAX_ACTIVE_DOWNLOADS);
    int64_t max_up = settings_int(&s->settings, SET_MAX_ACTIVE_UPLOADS);
    int64_t max_all = settings_int(&s->settings, SET_MAX_ACTIVE_TORRENTS);
    int64_t dl = 0, up = 0;
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        bool allow = true;
        if (enabled && takes_part(t)) {
            bool seeding = torrent_is_finished(t);
            int64_t *count = seeding ? &up : &dl;
            int64_t max = seeding ? max_up : max_dl;
            /* A negative limit means "no limit", as in qBittorrent. */
            allow = (max < 0 || *count < max) && (max_all < 0 || dl + up < max_all);
            if (allow && queue_counts(s, t))
                (*count)++;
        }
        torrent_set_queued(t, !allow);
    }
}

void queue_tick(struct session *s)
{
    track_slow(s);
    if (settings_bool(&s->settings, SET_QUEUEING_ENABLED) || s->queue.was_enabled) {
        queue_update(s);
        s->queue.was_enabled = settings_bool(&s->settings, SET_QUEUEING_ENABLED);
    }
}

int queue_move(struct session *s, struct torrent **ts, size_t n, enum queue_move how)
{
    if (!settings_bool(&s->settings, SET_QUEUEING_ENABLED))
        return -EPERM;
    if (n == 0)
        return 0;
    /* Work on positions: each selected torrent moves past unselected ones. */
    bool *sel = calloc(s->num_torrents, sizeof *sel);
    struct torrent **out = malloc(s->num_torrents * sizeof *out);
    if (!sel || !out) {
        free(sel);
        free(out);
        return -ENOMEM;
    }
    for (size_t k = 0; k < n; k++)
        if (ts[k]->queue_pos >= 0 && (size_t)ts[k]->queue_pos < s->num_torrents &&
            s->torrents[ts[k]->queue_pos] == ts[k])
            sel[ts[k]->queue_pos] = true;
    size_t w = 0;
    switch (how) {
    case QUEUE_TOP:
    case QUEUE_BOTTOM: {
        bool first_pass_selected = how == QUEUE_TOP;
        for (int pass = 0; pass < 2; pass++) {
            bool want = pass == 0 ? first_pass_selected : !first_pass_selected;
            for (size_t i = 0; i < s->num_torrents; i++)
                if (sel[i] == want)
                    out[w++] = s->torrents[i];
        }
        break;
    }
    case QUEUE_UP:
    case QUEUE_DOWN: {
        /* One step among the torrents that have a queue position (the
         * unfinished ones): finished torrents are not slots to swap with. */
        memcpy(out, s->torrents, s->num_torrents * sizeof *out);
        size_t *slot = malloc(s->num_torrents * sizeof *slot);
        if (!slot) {
            free(sel);
            free(out);
            return -ENOMEM;
        }
        size_t m = 0;
        for (size_t i = 0; i < s->num_torrents; i++)
            if (!torrent_is_finished(s->torrents[i]))
                slot[m++] = i;
        if (how == QUEUE_UP) {
            for (size_t k = 1; k < m; k++) {
                size_t i = slot[k], j = slot[k - 1];
                if (sel[i] && !sel[j]) {
                    struct torrent *tmp = out[j];
                    out[j] = out[i];
                    out[i] = tmp;
                    sel[j] = true;
                    sel[i] = false;
                }
            }
        } else {
            for (size_t k = m; k-- > 1;) {
                size_t i = slot[k - 1], j = slot[k];
                if (sel[i] && !sel[j]) {
                    struct torrent *tmp = out[j];
                    out[j] = out[i];
                    out[i] = tmp;
                    sel[j] = true;
                    sel[i] = false;
                }
            }
        }
        free(slot);
        w = s->num_torrents;
        break;
    }
    }
    memcpy(s->torrents, out, w * sizeof *out);
    free(out);
    free(sel);
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        if (t->queue_pos != (int64_t)i) {
            t->queue_pos = (int64_t)i;
            torrent_settings_changed(t, NULL, NULL);
        }
    }
    queue_update(s);
    return 0;
}

void queue_move_to_top(struct session *s, struct torrent *t)
{
    size_t i = (size_t)t->queue_pos;
    if (i >= s->num_torrents || s->torrents[i] != t || i == 0)
        return;
    memmove(&s->torrents[1], &s->torrents[0], i * sizeof *s->torrents);
    s->torrents[0] = t;
    queue_reindex(s);
    for (size_t k = 1; k <= i; k++)   /* their saved positions moved too */
        torrent_settings_changed(s->torrents[k], NULL, NULL);
}
