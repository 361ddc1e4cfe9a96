/* ops/rules — qBitrr's torrent-side rules: stalled handling, the free-space
 * guard, per-tracker seeding rules (see ops.h for what each does). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bt/tracker/tracker.h"
#include "core/service.h"
#include "core/session.h"
#include "core/torrent.h"
#include "ops/ops_int.h"
#include "util/log.h"
#include "util/path.h"

/* The guard and the seeding rules walk the torrents: every few ticks, not
 * every second (qBitrr's loop runs every 5 s). */
#define OPS_RULES_EVERY 2

static bool has_tag(const struct torrent *t, const char *tag) { return strv_find(&t->tags, tag, false) >= 0; }

/* ---- stalled ---- */

void ops_stalled_check(struct ops *o, struct ops_rec *r)
{
    struct settings *st = &o->s->settings;
    struct torrent *t = r->t;
    if (!t || t->removing || !r->stalled_since_ms)
        return;
    double delay = settings_real(st, SET_OPS_STALLED_DELAY);
    if (delay < 0 || !ops_managed(o, t))
        return;
    uint64_t now = uv_now(o->s->loop);
    if ((double)(now - r->stalled_since_ms) < delay * 60000.0)
        return;
    int64_t age = (int64_t)time(NULL) - t->added_on;
    if (age < settings_int(st, SET_OPS_IGNORE_YOUNGER_THAN))
        return;
    struct torrent_status ts;
    torrent_status_now(t, &ts);
    if (!has_tag(t, OPS_TAG_STALLED)) {
        log_msg(LOG_WARNING, "Ops: '%s' stalled for %.1f minutes: tagged %s", torrent_name(t),
                (double)(now - r->stalled_since_ms) / 60000.0, OPS_TAG_STALLED);
        ops_tag(o, t, OPS_TAG_STALLED, true);
        o->c.stalled_tagged++;
    }
    if (!settings_bool(st, SET_OPS_STALLED_REMOVE))
        return;
    if (ts.progress > settings_real(st, SET_OPS_MAX_DELETABLE_PERCENTAGE))
        return;   /* never removed that far along (qBitrr's MaximumDeletablePercentage) */
    log_msg(LOG_WARNING, "Ops: removing stalled torrent '%s' (progress %.1f%%) and its files", torrent_name(t),
            ts.progress * 100);
    o->c.stalled_removed++;
    r->stalled_since_ms = 0;
    hmap_del(&o->stalled, r->hex, 40);
    torrent_remove(t, true, NULL, NULL);
}

/* ---- the free-space guard ---- */

int64_t ops_free_bytes(const char *path)
{
    return path_free_bytes(path);
}

static void guard_run(struct ops *o)
{
    struct session *s = o->s;
    struct settings *st = &s->settings;
    struct ops_guard_state *g = &o->guard;
    int64_t floor = settings_int(st, SET_OPS_FREE_SPACE);
    const char *folder = settings_str(st, SET_OPS_FREE_SPACE_FOLDER);
    if (!*folder)
        folder = session_default_save_path(s);
    snprintf(g->folder, sizeof g->folder, "%s", folder);
    g->floor_bytes = floor;
    g->free_bytes = ops_free_bytes(folder);
    g->enabled = floor >= 0;
    size_t paused = 0;
    if (!g->enabled || g->free_bytes < 0) {
        for (size_t i = 0; i < s->num_torrents; i++)
            paused += has_tag(s->torrents[i], OPS_TAG_FREE_SPACE);
        g->paused = paused;
        return;
    }
    bool resume = settings_bool(st, SET_OPS_AUTO_PAUSE_RESUME);
    int64_t budget = g->free_bytes - floor;
    /* s->torrents is queue order. */
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        if (t->removing || !t->mi || torrent_is_finished(t) || !ops_managed(o, t))
            continue;
        bool ours = has_tag(t, OPS_TAG_FREE_SPACE);
        if (t->stopped && !ours)
            continue;   /* the user's stop: not ours to undo */
        int64_t left = t->wanted_size - t->wanted_done;
        if (left < 0)
            left = 0;
        if (left <= budget) {
            budget -= left;
            if (ours && resume) {
                log_msg(LOG_INFO, "Ops: free space for '%s' again: started", torrent_name(t));
                service_start(s, t, NULL, NULL);
                ops_tag(o, t, OPS_TAG_FREE_SPACE, false);
                o->c.guard_resumed++;
            } else if (ours) {
                paused++;
            }
        } else {
            paused++;
            if (!t->stopped) {
                log_msg(LOG_WARNING,
                        "Ops: '%s' needs %lld bytes, %lld free above the floor under %s: stopped, tagged %s",
                        torrent_name(t), (long long)left, (long long)(budget > 0 ? budget : 0), folder,
                        OPS_TAG_FREE_SPACE);
                service_stop(s, t, NULL, NULL);
                ops_tag(o, t, OPS_TAG_FREE_SPACE, true);
                o->c.guard_paused++;
            }
        }
    }
    g->paused = paused;
}

/* ---- per-tracker seeding rules ---- */

struct seed_rule {
    double max_ratio;            /* -1 none */
    int64_t max_seeding_time;    /* seconds, -1 none */
    int remove;                  /* qBitrr's RemoveTorrent: -1 never, 1 ratio, 2 time, 3 either, 4 both */
    double hnr_ratio;            /* 0 none */
    int64_t hnr_seed_time;       /* seconds, 0 none */
};

static bool tracker_matches(const struct torrent *t, const char *pat)
{
    if (!*pat || strcmp(pat, "*") == 0)
        return true;
    if (!t->trk)
        return false;
    size_t n = tracker_set_count(t->trk);
    for (size_t i = 0; i < n; i++) {
        const struct tracker_entry *e = tracker_set_entry(t->trk, i);
        if (e && e->url && strstr(e->url, pat))
            return true;
    }
    return false;
}

static double num(json_t *o, const char *k, double dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

/* The first rule of the array that matches t; false when none. */
static bool rule_for(json_t *rules, const struct torrent *t, struct seed_rule *out)
{
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        json_t *tr = json_object_get(r, "Tracker");
        if (!tracker_matches(t, json_is_string(tr) ? json_string_value(tr) : ""))
            continue;
        out->max_ratio = num(r, "MaxUploadRatio", -1);
        out->max_seeding_time = (int64_t)num(r, "MaxSeedingTime", -1);
        out->remove = (int)num(r, "RemoveTorrent", -1);
        out->hnr_ratio = num(r, "HitAndRunMinimumRatio", 0);
        out->hnr_seed_time = (int64_t)num(r, "HitAndRunMinimumSeedTime", 0);
        return true;
    }
    return false;
}

const char *ops_rules_validate(const char *text)
{
    json_error_t err;
    json_t *a = json_loads(text, 0, &err);
    const char *why = NULL;
    if (!json_is_array(a)) {
        why = "must be a JSON array of rules";
        goto out;
    }
    size_t i;
    json_t *r;
    static const char *const nums[] = {"MaxUploadRatio", "MaxSeedingTime", "RemoveTorrent",
                                       "HitAndRunMinimumRatio", "HitAndRunMinimumSeedTime"};
    json_array_foreach(a, i, r)
    {
        if (!json_is_object(r)) {
            why = "each rule must be an object";
            goto out;
        }
        const char *k;
        json_t *v;
        json_object_foreach(r, k, v)
        {
            bool known = strcmp(k, "Tracker") == 0;
            for (size_t j = 0; j < sizeof nums / sizeof nums[0]; j++)
                if (strcmp(k, nums[j]) == 0) {
                    known = true;
                    if (!json_is_number(v)) {
                        why = "MaxUploadRatio, MaxSeedingTime, RemoveTorrent and the HitAndRun minimums are numbers";
                        goto out;
                    }
                }
            if (!known) {
                why = "a rule holds only Tracker, MaxUploadRatio, MaxSeedingTime, RemoveTorrent, "
                      "HitAndRunMinimumRatio, HitAndRunMinimumSeedTime";
                goto out;
            }
            if (strcmp(k, "Tracker") == 0 && !json_is_string(v)) {
                why = "Tracker is a string";
                goto out;
            }
        }
        int rm = (int)num(r, "RemoveTorrent", -1);
        if (rm != -1 && (rm < 1 || rm > 4)) {
            why = "RemoveTorrent is -1 (never), 1 (ratio), 2 (time), 3 (either) or 4 (both)";
            goto out;
        }
    }
out:
    json_decref(a);
    return why;
}

static void seeding_run(struct ops *o)
{
    struct session *s = o->s;
    const char *text = settings_str(&s->settings, SET_OPS_SEEDING_RULES);
    if (strcmp(text, "[]") == 0 || !*text)
        return;
    json_t *rules = json_loads(text, 0, NULL);
    if (!json_is_array(rules) || json_array_size(rules) == 0) {
        json_decref(rules);
        return;
    }
    struct torrent **doomed = NULL;
    size_t ndoomed = 0;
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        struct seed_rule rl;
        if (t->removing || !torrent_is_finished(t) || !ops_managed(o, t) || !rule_for(rules, t, &rl))
            continue;
        struct torrent_status ts;
        torrent_status_now(t, &ts);
        bool hnr_clear = (rl.hnr_ratio <= 0 || ts.ratio >= rl.hnr_ratio) &&
                         (rl.hnr_seed_time <= 0 || ts.seeding_time >= rl.hnr_seed_time);
        bool hnr_set = rl.hnr_ratio > 0 || rl.hnr_seed_time > 0;
        bool tagged = has_tag(t, OPS_TAG_HNR);
        if (hnr_set && !hnr_clear && !tagged)
            ops_tag(o, t, OPS_TAG_HNR, true);
        else if (tagged && hnr_clear)
            ops_tag(o, t, OPS_TAG_HNR, false);
        bool by_ratio = rl.max_ratio >= 0 && ts.ratio >= rl.max_ratio;
        bool by_time = rl.max_seeding_time >= 0 && ts.seeding_time >= rl.max_seeding_time;
        bool go = rl.remove == 1   ? by_ratio
                  : rl.remove == 2 ? by_time
                  : rl.remove == 3 ? by_ratio || by_time
                  : rl.remove == 4 ? by_ratio && by_time
                                   : false;
        if (!go || !hnr_clear)
            continue;
        struct torrent **d = realloc(doomed, (ndoomed + 1) * sizeof *d);
        if (!d)
            break;
        doomed = d;
        doomed[ndoomed++] = t;
    }
    json_decref(rules);
    for (size_t i = 0; i < ndoomed; i++) {
        struct torrent *t = doomed[i];
        log_msg(LOG_INFO, "Ops: '%s' reached its seeding rule: removed (files kept)", torrent_name(t));
        o->c.seeding_removed++;
        torrent_remove(t, false, NULL, NULL);
    }
    free(doomed);
}

void ops_rules_tick(struct ops *o)
{
    if (o->ticks % OPS_RULES_EVERY != 0)
        return;
    guard_run(o);
    seeding_run(o);
}
