/* torrent — persistence: the settings JSON and the magnet a torrent is
 * stored as, resume data (have bits, file sizes and mtimes, statistics),
 * and restoring all of it at startup.
 */
#include "core/torrent.h"
#include "core/torrent_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/magnet.h"
#include "bt/metainfo.h"
#include "bt/picker.h"
#include "bt/tracker/tracker.h"
#include "core/limits.h"
#include "core/session.h"
#include "disk/storage.h"
#include "store/store.h"
#include "util/log.h"

/* ---- persistence ---- */

static char *settings_json(const struct torrent *t)
{
    json_t *prios = json_array();
    for (size_t i = 0; t->mi && i < t->mi->num_files; i++)
        json_array_append_new(prios, json_integer(t->file_prios[i]));
    json_t *o = json_pack("{s:s, s:s, s:s?, s:O, s:b, s:b, s:b, s:b, s:b, s:b, s:I, s:I, s:f, s:I, s:I, s:o}",
                          "save_path", t->save_path, "category", t->category, "name", t->name,
                          "tags", t->tags, "stopped", t->stopped, "sequential", t->sequential,
                          "first_last_piece", t->first_last_piece, "forced", t->forced,
                          "super_seeding", t->super_seeding, "auto_tmm", t->auto_tmm,
                          "up_limit", (json_int_t)t->up_limit, "dl_limit", (json_int_t)t->dl_limit,
                          "ratio_limit", t->ratio_limit,
                          "seeding_time_limit", (json_int_t)t->seeding_time_limit,
                          "inactive_seeding_time_limit", (json_int_t)t->inactive_seeding_time_limit,
                          "file_prios", prios);
    json_object_set_new(o, "queue_pos", json_integer((json_int_t)t->queue_pos));
    json_object_set_new(o, "share_limit_action", json_integer(t->share_limit_action));
    if (t->download_path) {
        json_object_set_new(o, "download_path", json_string(t->download_path));
        json_object_set_new(o, "data_in_download", json_boolean(t->data_in_download));
    }
    if (t->stop_condition != TORRENT_STOP_NONE)
        json_object_set_new(o, "stop_condition", json_integer(t->stop_condition));
    if (t->renamed && json_object_size(t->renamed))
        json_object_set(o, "renamed", t->renamed);
    if (!t->mi && t->magnet_extra)
        json_object_set(o, "magnet_extra", t->magnet_extra);
    /* Trackers and web seeds as edited through the API (the metainfo keeps
     * the originals). */
    if (t->trk) {
        json_t *trs = json_array();
        for (size_t i = 0; i < tracker_set_count(t->trk); i++) {
            const struct tracker_entry *e = tracker_set_entry(t->trk, i);
            json_array_append_new(trs, json_pack("{s:s, s:i}", "url", e->url, "tier", e->tier));
        }
        json_object_set_new(o, "trackers", trs);
    }
    if (t->mi) {
        json_t *ws = json_array();
        for (size_t i = 0; i < t->mi->num_web_seeds; i++)
            json_array_append_new(ws, json_string(t->mi->web_seeds[i]));
        json_object_set_new(o, "web_seeds", ws);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* The magnet a metadata-less torrent is stored as: its trackers included. */
static char *magnet_of(const struct torrent *t)
{
    size_t n = t->trk ? tracker_set_count(t->trk) : 0;
    const char **urls = calloc(n ? n : 1, sizeof *urls);
    if (!urls)
        return NULL;
    for (size_t i = 0; i < n; i++)
        urls[i] = tracker_set_entry(t->trk, i)->url;
    char *m = bt_magnet_build2(t->no_v1 ? NULL : t->info_hash, t->has_v2 ? t->info_hash_v2 : NULL,
                               t->magnet_name, urls, n);
    free(urls);
    return m;
}

int torrent_persist(struct torrent *t, void (*cb)(void *ud, int rc), void *ud)
{
    char *settings = settings_json(t);
    char *magnet = t->mi ? NULL : magnet_of(t);
    if (!settings || (!t->mi && !magnet)) {
        free(settings);
        free(magnet);
        return -ENOMEM;
    }
    int rc = store_torrent_put(t->s->store, t->hex, t->mi ? t->mi->torrent_raw : NULL,
                               t->mi ? t->mi->torrent_len : 0, magnet, t->added_on, settings, cb, ud);
    free(settings);
    free(magnet);
    return rc;
}

int torrent_save_settings(struct torrent *t, void (*cb)(void *ud, int rc), void *ud)
{
    char *settings = settings_json(t);
    if (!settings)
        return -ENOMEM;
    int rc = store_torrent_settings(t->s->store, t->hex, settings, cb, ud);
    free(settings);
    return rc;
}

void torrent_save_resume(struct torrent *t)
{
    /* Mid-check bits are not worth keeping, and an unchecked torrent's empty
     * bitfield must never be saved as if it had been verified. */
    if (!t->mi || (t->phase != TP_READY && t->phase != TP_ERROR) || t->needs_check)
        return;
    size_t nf = t->mi->num_files;
    int64_t *files = malloc(2 * nf * sizeof(int64_t) + 1);
    if (!files)
        return;
    storage_stat_files(t->st, files, files + nf);
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                          "downloaded", (json_int_t)t->downloaded, "uploaded", (json_int_t)t->uploaded,
                          "wasted", (json_int_t)t->wasted, "active_time", (json_int_t)t->active_time,
                          "seeding_time", (json_int_t)t->seeding_time,
                          "completion_on", (json_int_t)t->completion_on,
                          "seen_complete", (json_int_t)t->seen_complete,
                          "last_activity", (json_int_t)t->last_activity);
    char *stats = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    store_resume_put(t->s->store, t->hex, t->have.bits, bitfield_bytes(&t->have), (uint8_t *)files,
                     2 * nf * sizeof(int64_t), stats);
    free(stats);
    free(files);
    t->resume_dirty = false;
    t->resume_saved_ms = t->s->now_ms;
}

/* Rebuilds the tracker set from the saved list (url + tier), which reflects
 * edits made through the API. */
static void restore_trackers(struct torrent *t, json_t *trs)
{
    size_t n = json_array_size(trs);
    if (!t->trk)
        return;
    /* Drop what the metainfo/magnet gave, then add the saved list in order. */
    while (tracker_set_count(t->trk) > 0) {
        char *url = strdup(tracker_set_entry(t->trk, 0)->url);
        int rc = url ? tracker_set_remove(t->trk, url) : -ENOMEM;
        free(url);
        if (rc != 0)
            break;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(trs, i);
        const char *url = json_string_value(json_object_get(e, "url"));
        if (url)
            tracker_set_add(t->trk, url, (int)json_integer_value(json_object_get(e, "tier")));
    }
}

static void apply_settings(struct torrent *t, const char *settings)
{
    json_error_t e;
    json_t *o = json_loads(settings ? settings : "{}", 0, &e);
    if (!o)
        return;
    const char *v;
    if ((v = json_string_value(json_object_get(o, "category")))) {
        free(t->category);
        t->category = strdup(v);
    }
    if ((v = json_string_value(json_object_get(o, "name")))) {
        free(t->name);
        t->name = strdup(v);
    }
    json_t *tags = json_object_get(o, "tags");
    if (json_is_array(tags)) {
        json_decref(t->tags);
        t->tags = json_incref(tags);
    }
    t->stopped = json_is_true(json_object_get(o, "stopped"));
    t->sequential = json_is_true(json_object_get(o, "sequential"));
    t->first_last_piece = json_is_true(json_object_get(o, "first_last_piece"));
    t->forced = json_is_true(json_object_get(o, "forced"));
    t->super_seeding = json_is_true(json_object_get(o, "super_seeding"));
    t->auto_tmm = json_is_true(json_object_get(o, "auto_tmm"));
    t->up_limit = json_integer_value(json_object_get(o, "up_limit"));
    t->dl_limit = json_integer_value(json_object_get(o, "dl_limit"));
    json_t *rl = json_object_get(o, "ratio_limit");
    if (rl)
        t->ratio_limit = json_number_value(rl);
    if (json_object_get(o, "seeding_time_limit"))
        t->seeding_time_limit = json_integer_value(json_object_get(o, "seeding_time_limit"));
    if (json_object_get(o, "inactive_seeding_time_limit"))
        t->inactive_seeding_time_limit = json_integer_value(json_object_get(o, "inactive_seeding_time_limit"));
    json_t *trs = json_object_get(o, "trackers");
    if (json_is_array(trs))
        restore_trackers(t, trs);
    json_t *extra = json_object_get(o, "magnet_extra");
    if (!t->mi && json_is_object(extra)) {
        json_decref(t->magnet_extra);
        t->magnet_extra = json_incref(extra);
    }
    json_t *ws = json_object_get(o, "web_seeds");
    if (t->mi && json_is_array(ws)) {
        for (size_t i = 0; i < t->mi->num_web_seeds; i++)
            free(t->mi->web_seeds[i]);
        free(t->mi->web_seeds);
        t->mi->num_web_seeds = 0;
        t->mi->web_seeds = calloc(json_array_size(ws) + 1, sizeof *t->mi->web_seeds);
        for (size_t i = 0; t->mi->web_seeds && i < json_array_size(ws); i++) {
            char *u = json_is_string(json_array_get(ws, i)) ? strdup(json_string_value(json_array_get(ws, i))) : NULL;
            if (u)   /* a NULL entry would be dereferenced by every reader */
                t->mi->web_seeds[t->mi->num_web_seeds++] = u;
        }
    }
    /* Renamed files: applied before any storage job ran (restore time). */
    json_t *ren = json_object_get(o, "renamed");
    if (t->mi && json_is_object(ren)) {
        const char *k;
        json_t *v;
        json_object_foreach(ren, k, v) {
            char *end;
            unsigned long i = strtoul(k, &end, 10);
            char *p = *end ? NULL : torrent_clean_rel_path(json_string_value(v));
            if (p && i < t->mi->num_files) {
                free(t->mi->files[i].path);
                t->mi->files[i].path = p;
                json_object_set(t->renamed, k, v);
                t->root_known = false;
            } else {
                free(p);
            }
        }
    }
    if (json_is_integer(json_object_get(o, "share_limit_action")))
        t->share_limit_action = (enum torrent_share_action)json_integer_value(json_object_get(o, "share_limit_action"));
    if (json_is_integer(json_object_get(o, "stop_condition")))
        t->stop_condition = (enum torrent_stop_condition)json_integer_value(json_object_get(o, "stop_condition"));
    if (json_is_integer(json_object_get(o, "queue_pos")))
        t->queue_pos = json_integer_value(json_object_get(o, "queue_pos"));
    json_t *prios = json_object_get(o, "file_prios");
    if (t->mi && json_is_array(prios) && json_array_size(prios) == t->mi->num_files)
        for (size_t i = 0; i < t->mi->num_files; i++)
            t->file_prios[i] = (uint8_t)json_integer_value(json_array_get(prios, i));
    json_decref(o);
    if (t->picker)
        bt_picker_set_sequential(t->picker, t->sequential);
}

static void apply_stats(struct torrent *t, const char *stats)
{
    json_error_t e;
    json_t *o = stats ? json_loads(stats, 0, &e) : NULL;
    if (!o)
        return;
#define GET(k) json_integer_value(json_object_get(o, #k))
    t->downloaded = GET(downloaded);
    t->uploaded = GET(uploaded);
    t->wasted = GET(wasted);
    t->active_time = GET(active_time);
    t->seeding_time = GET(seeding_time);
    if (json_object_get(o, "completion_on"))
        t->completion_on = GET(completion_on);
    if (json_object_get(o, "seen_complete"))
        t->seen_complete = GET(seen_complete);
    if (json_object_get(o, "last_activity"))
        t->last_activity = GET(last_activity);
#undef GET
    json_decref(o);
}

/* Resume data is trusted only when every file looks exactly as it did when
 * the data was saved; anything else (a crash after more writes, a user
 * editing files) costs a recheck, never a wrong "have". */
static bool files_match(struct torrent *t, const uint8_t *files, size_t files_len)
{
    size_t nf = t->mi->num_files;
    if (files_len != 2 * nf * sizeof(int64_t))
        return false;
    int64_t *now = malloc(2 * nf * sizeof(int64_t) + 1);
    if (!now)
        return false;
    storage_stat_files(t->st, now, now + nf);
    bool same = memcmp(now, files, files_len) == 0;
    free(now);
    return same;
}

int torrent_restore(struct torrent *t, const char *settings, const uint8_t *have, size_t have_len,
                    const uint8_t *files, size_t files_len, const char *stats)
{
    apply_settings(t, settings);
    apply_stats(t, stats);
    torrent_apply_file_priorities(t);
    limits_apply_torrent(t);
    if (!t->mi) {
        /* A magnet still waiting for its metadata. */
        t->phase = TP_READY;
        if (!t->stopped)
            torrent_activate(t);
        return 0;
    }
    if (have && have_len == bitfield_bytes(&t->have) && files_match(t, files, files_len)) {
        torrent_set_have_from_bits(t, have);
        t->phase = TP_READY;
        if (!t->stopped)
            torrent_activate(t);
        return 0;
    }
    if (have)
        log_msg(LOG_INFO, "'%s': files changed since the last save, rechecking", torrent_name(t));
    if (t->stopped)
        torrent_defer_check(t);
    else
        torrent_start_check(t);
    return 0;
}
