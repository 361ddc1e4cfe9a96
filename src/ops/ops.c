/* ops — the tick, the per-torrent records and the figures (see ops.h). */
#include "ops/ops.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/discovery.h"
#include "core/service.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/watchdir.h"
#include "bt/tracker/tracker.h"
#include "ops/ops_int.h"
#include "util/log.h"

#define OPS_TICK_MS 1000

struct session *ops_session(struct ops *o) { return o->s; }

/* ---- categories (few: a linear list) ---- */

static struct ops_cat *cat_find(struct ops *o, const char *name, bool create)
{
    for (size_t i = 0; i < o->ncats; i++)
        if (strcmp(o->cats[i].name, name) == 0)
            return &o->cats[i];
    if (!create)
        return NULL;
    struct ops_cat *v = realloc(o->cats, (o->ncats + 1) * sizeof *v);
    if (!v)
        return NULL;
    o->cats = v;
    char *n = strdup(name);
    if (!n)
        return NULL;
    o->cats[o->ncats] = (struct ops_cat){n, 0};
    return &o->cats[o->ncats++];
}

static void cat_add(struct ops *o, const char *name, int d)
{
    struct ops_cat *c = cat_find(o, name, d > 0);
    if (!c)
        return;
    if (d > 0)
        c->n++;
    else if (c->n > 0)
        c->n--;
}

/* ---- records ---- */

static bool has_tracker_error(const struct torrent *t)
{
    if (!t->trk || t->stopped)
        return false;
    size_t n = tracker_set_count(t->trk);
    for (size_t i = 0; i < n; i++) {
        const struct tracker_entry *e = tracker_set_entry(t->trk, i);
        if (e && e->status == TRACKER_NOT_WORKING)
            return true;
    }
    return false;
}

static bool is_stalled(enum torrent_state st)
{
    return st == TORRENT_STATE_STALLED_DL || st == TORRENT_STATE_METADATA;
}

static void rec_unaccount(struct ops *o, struct ops_rec *r)
{
    o->state_n[r->state]--;
    cat_add(o, r->category, -1);
    if (r->tracker_error)
        o->tracker_errors--;
}

static void rec_free(struct ops *o, struct ops_rec *r)
{
    rec_unaccount(o, r);
    hmap_del(&o->stalled, r->hex, 40);
    hmap_del(&o->recs, r->hex, 40);
    free(r->category);
    free(r);
}

/* The torrent changed (or is seen for the first time): its record, the
 * counts, and the rules that start from a change. */
static void rec_update(struct ops *o, struct torrent *t)
{
    if (t->removing)
        return;
    struct ops_rec *r = hmap_get(&o->recs, t->hex, 40);
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return;
        memcpy(r->hex, t->hex, 41);
        r->category = strdup("");
        if (!r->category || hmap_put(&o->recs, r->hex, 40, r, NULL) != 0) {
            free(r->category);
            free(r);
            return;
        }
        r->arr_sent = strv_find(&t->tags, OPS_TAG_IMPORTED, false) >= 0;
    } else {
        rec_unaccount(o, r);
    }
    r->t = t;
    r->seen_gen = o->gen;
    r->state = torrent_status_state(t, o->s->now_ms);
    const char *cat = t->category ? t->category : "";
    if (strcmp(cat, r->category) != 0) {
        char *c = strdup(cat);
        if (c) {
            free(r->category);
            r->category = c;
        }
    }
    r->tracker_error = has_tracker_error(t);
    o->state_n[r->state]++;
    cat_add(o, r->category, +1);
    if (r->tracker_error)
        o->tracker_errors++;

    if (is_stalled(r->state)) {
        if (!r->stalled_since_ms) {
            r->stalled_since_ms = uv_now(o->s->loop);
            hmap_put(&o->stalled, r->hex, 40, r, NULL);
        }
    } else if (r->stalled_since_ms) {
        r->stalled_since_ms = 0;
        hmap_del(&o->stalled, r->hex, 40);
        if (strv_find(&t->tags, OPS_TAG_STALLED, false) >= 0)
            ops_tag(o, t, OPS_TAG_STALLED, false);
    }
    if (torrent_is_finished(t) && !r->arr_sent)
        ops_arr_finished(o, r);
}

static void on_changed(struct torrent *t, void *ud) { rec_update(ud, t); }

static void on_removed(const char *hex, void *ud)
{
    struct ops *o = ud;
    struct ops_rec *r = hmap_get(&o->recs, hex, 40);
    if (r && (!r->t || session_find_hex(o->s, hex) != r->t))
        rec_free(o, r);
}

/* Every torrent, and records of torrents that are gone dropped: at start
 * and when the removal ring no longer reaches back to o->seq. */
static void full_walk(struct ops *o)
{
    o->gen++;
    for (size_t i = 0; i < o->s->num_torrents; i++)
        rec_update(o, o->s->torrents[i]);
    size_t it = 0;
    struct hmap_ent *e;
    struct ops_rec **gone = NULL;
    size_t ngone = 0;
    while ((e = hmap_next(&o->recs, &it))) {
        struct ops_rec *r = e->val;
        if (r->seen_gen != o->gen) {
            struct ops_rec **g = realloc(gone, (ngone + 1) * sizeof *g);
            if (!g)
                break;
            gone = g;
            gone[ngone++] = r;
        }
    }
    for (size_t i = 0; i < ngone; i++)
        rec_free(o, gone[i]);
    free(gone);
    o->seq = o->s->change_seq;
    o->synced = true;
}

void ops_sync(struct ops *o)
{
    if (!o->synced || session_removed_since(o->s, o->seq, on_removed, o) != 0) {
        full_walk(o);
        return;
    }
    o->seq = session_changed_since(o->s, o->seq, on_changed, o);
}

static void on_tick(uv_timer_t *h)
{
    struct ops *o = h->data;
    if (o->s->shutting_down)
        return;
    o->ticks++;
    ops_sync(o);
    /* Stalled timers run out without a change: look at the stalled ones. */
    size_t it = 0, n = 0;
    struct hmap_ent *e;
    struct ops_rec *batch[64];
    while ((e = hmap_next(&o->stalled, &it)) && n < 64)
        batch[n++] = e->val;
    for (size_t i = 0; i < n; i++)
        ops_stalled_check(o, batch[i]);
    ops_rules_tick(o);
}

static void on_settings(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    struct ops *o = ud;
    ops_arr_configure(o);
    /* New Arr categories or managed categories: look at every torrent again
     * (a finished one may now have an import to send). */
    o->synced = false;
}

int ops_start(struct session *s, struct ops **out)
{
    struct ops *o = calloc(1, sizeof *o);
    if (!o)
        return -ENOMEM;
    o->s = s;
    o->timer = malloc(sizeof *o->timer);
    if (!o->timer) {
        free(o);
        return -ENOMEM;
    }
    uv_timer_init(s->loop, o->timer);
    o->timer->data = o;
    o->started_ms = o->dht_started_ms = o->watch_started_ms = o->rss_started_ms = uv_now(s->loop);
    if (settings_add_hook(&s->settings, SG_OPS, on_settings, o) != 0) {
        uv_close((uv_handle_t *)o->timer, (uv_close_cb)free);
        free(o);
        return -ENOSPC;
    }
    ops_arr_configure(o);
    uv_timer_start(o->timer, on_tick, OPS_TICK_MS, OPS_TICK_MS);
    *out = o;
    return 0;
}

void ops_stop(struct ops *o)
{
    if (!o)
        return;
    o->stopping = true;
    settings_remove_hook(&o->s->settings, on_settings, o);
    uv_close((uv_handle_t *)o->timer, (uv_close_cb)free);
    ops_arr_free(o);
    size_t it = 0;
    struct hmap_ent *e;
    while ((e = hmap_next(&o->recs, &it))) {
        struct ops_rec *r = e->val;
        free(r->category);
        free(r);
    }
    hmap_free(&o->recs);
    hmap_free(&o->stalled);
    for (size_t i = 0; i < o->ncats; i++)
        free(o->cats[i].name);
    free(o->cats);
    free(o);
}

/* ---- helpers for the rules ---- */

bool ops_managed(const struct ops *o, const struct torrent *t)
{
    const char *list = settings_str(&o->s->settings, SET_OPS_MANAGED_CATEGORIES);
    if (!*list)
        return true;
    const char *cat = t->category ? t->category : "";
    size_t cl = strlen(cat);
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        const char *q = p;
        while (*q && *q != ',')
            q++;
        const char *end = q;
        while (end > p && end[-1] == ' ')
            end--;
        if ((size_t)(end - p) == cl && cl && memcmp(p, cat, cl) == 0)
            return true;
        p = q;
    }
    return false;
}

void ops_tag(struct ops *o, struct torrent *t, const char *tag, bool on)
{
    const char *v[] = {tag};
    int rc = on ? service_add_tags(o->s, t, v, 1, NULL, NULL) : service_remove_tags(o->s, t, v, 1, NULL, NULL);
    if (rc != 0)
        log_msg(LOG_WARNING, "Ops: cannot %s tag '%s' on '%s': %s", on ? "add" : "remove", tag, torrent_name(t),
                strerror(-rc));
}

/* ---- figures ---- */

size_t ops_state_count(const struct ops *o, enum torrent_state st)
{
    return st < TORRENT_STATE_COUNT ? o->state_n[st] : 0;
}

void ops_category_counts(const struct ops *o, void (*fn)(void *ud, const char *cat, size_t n), void *ud)
{
    for (size_t i = 0; i < o->ncats; i++)
        if (o->cats[i].n)
            fn(ud, o->cats[i].name, o->cats[i].n);
}

size_t ops_tracker_error_torrents(const struct ops *o) { return o->tracker_errors; }
size_t ops_stalled_count(const struct ops *o) { return o->stalled.n; }
void ops_counters(const struct ops *o, struct ops_counters *out) { *out = o->c; }

void ops_guard_state(struct ops *o, struct ops_guard_state *out)
{
    /* The settings as they are now; free_bytes and paused as the guard's
     * last run (every few seconds) saw them. */
    *out = o->guard;
    const struct settings *st = &o->s->settings;
    const char *folder = settings_str(st, SET_OPS_FREE_SPACE_FOLDER);
    snprintf(out->folder, sizeof out->folder, "%s", *folder ? folder : session_default_save_path(o->s));
    out->floor_bytes = settings_int(st, SET_OPS_FREE_SPACE);
    out->enabled = out->floor_bytes >= 0;
}

/* ---- automation hook (filled by the automation layer) ---- */

static ops_automation_probe auto_fn;
static void *auto_ud;
static _Atomic uint64_t auto_ok, auto_failed;

void ops_set_automation_probe(ops_automation_probe fn, void *ud)
{
    auto_fn = fn;
    auto_ud = ud;
}

void ops_automation_state(struct ops_automation_state *out)
{
    memset(out, 0, sizeof *out);
    out->last_run = out->next_run = -1;
    if (auto_fn)
        auto_fn(auto_ud, out);
}

void ops_metrics_automation_run(bool ok) { atomic_fetch_add(ok ? &auto_ok : &auto_failed, 1); }

void ops_metrics_automation_runs(uint64_t *ok, uint64_t *failed)
{
    *ok = atomic_load(&auto_ok);
    *failed = atomic_load(&auto_failed);
}

/* ---- processes ---- */

static int64_t up_s(struct ops *o, uint64_t since) { return (int64_t)((uv_now(o->s->loop) - since) / 1000); }

size_t ops_processes(struct ops *o, struct ops_process *out, size_t max)
{
    struct ops_automation_state a;
    ops_automation_state(&a);
    bool dht = discovery_dht_running(o->s);
    bool rss = settings_bool(&o->s->settings, SET_RSS_PROCESSING_ENABLED);
    bool watch = watchdir_count(o->s) > 0;
    struct ops_process all[] = {
        {"engine", "running", up_s(o, o->started_ms), false},
        {"dht", dht ? "running" : "stopped", dht ? up_s(o, o->dht_started_ms) : 0, true},
        {"rss", rss ? "running" : "stopped", rss ? up_s(o, o->rss_started_ms) : 0, true},
        {"watched_folders", watch ? "running" : "stopped", watch ? up_s(o, o->watch_started_ms) : 0, true},
        {"automation", a.configured ? (a.running ? "busy" : "running") : "not configured", 0, false},
        {"ops_rules", "running", up_s(o, o->started_ms), false},
    };
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = all[i];
    return n;
}

void ops_process_restarted(struct ops *o, const char *name)
{
    uint64_t now = uv_now(o->s->loop);
    if (strcmp(name, "rss") == 0)
        o->rss_started_ms = now;
    else if (strcmp(name, "dht") == 0)
        o->dht_started_ms = now;
    else if (strcmp(name, "watched_folders") == 0)
        o->watch_started_ms = now;
}

int ops_process_restart(struct ops *o, const char *name)
{
    struct session *s = o->s;
    if (strcmp(name, "dht") == 0) {
        if (!settings_bool(&s->settings, SET_DHT))
            return -ESRCH;
        /* What a new listen port does: the node goes down and comes up
         * again with the same id and routing table. */
        discovery_listen_changed(s);
        log_msg(LOG_INFO, "Ops: DHT restarted");
    } else if (strcmp(name, "watched_folders") == 0) {
        /* The watcher reconfigures (and rescans every folder) when its
         * setting group is notified. */
        struct settings_mask m = {0};
        settings_mask_add(&m, SET_SCAN_DIRS);
        settings_notify(&s->settings, &m);
        log_msg(LOG_INFO, "Ops: watched folders rescanned");
    } else if (strcmp(name, "engine") == 0 || strcmp(name, "automation") == 0 || strcmp(name, "ops_rules") == 0) {
        return -EPERM;
    } else {
        return -ENOENT;
    }
    ops_process_restarted(o, name);
    return 0;
}
