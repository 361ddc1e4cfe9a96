/* torrent — persistence: the settings row (a store/record) and the magnet a torrent is
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
#include "store/record.h"
#include "store/store.h"
#include "util/log.h"

/* ---- persistence ---- */

/* The settings row: the fields of t as a store/record, encoded there. */
static char *settings_text(const struct torrent *t)
{
    size_t nt = t->trk ? tracker_set_count(t->trk) : 0;
    struct record_tracker *trs = calloc(nt + 1, sizeof *trs);
    struct record_rename *ren = calloc(t->num_renamed + 1, sizeof *ren);
    char *out = NULL;
    if (trs && ren) {
        for (size_t i = 0; i < nt; i++) {
            const struct tracker_entry *e = tracker_set_entry(t->trk, i);
            trs[i] = (struct record_tracker){e->url, e->tier};
        }
        for (size_t i = 0; i < t->num_renamed; i++)
            ren[i] = (struct record_rename){(uint32_t)t->renamed[i].index, t->renamed[i].path};
        struct record_torrent_settings ts = {
            .save_path = t->save_path, .category = t->category, .name = t->name,
            .tags = (const char *const *)t->tags.v, .num_tags = t->tags.n,
            .stopped = t->stopped, .sequential = t->sequential, .first_last_piece = t->first_last_piece,
            .forced = t->forced, .super_seeding = t->super_seeding, .auto_tmm = t->auto_tmm,
            .up_limit = t->up_limit, .dl_limit = t->dl_limit,
            .has_ratio_limit = true, .ratio_limit = t->ratio_limit,
            .has_seeding_time_limit = true, .seeding_time_limit = t->seeding_time_limit,
            .has_inactive_seeding_time_limit = true, .inactive_seeding_time_limit = t->inactive_seeding_time_limit,
            .has_file_prios = true, .file_prios = t->file_prios, .num_file_prios = t->mi ? t->mi->num_files : 0,
            .has_queue_pos = true, .queue_pos = (int64_t)t->queue_pos,
            .has_share_limit_action = true, .share_limit_action = t->share_limit_action,
            .download_path = t->download_path, .data_in_download = t->data_in_download,
            .has_stop_condition = t->stop_condition != TORRENT_STOP_NONE, .stop_condition = t->stop_condition,
            .renamed = ren, .num_renamed = t->num_renamed,
            .has_magnet_extra = !t->mi && t->has_magnet_extra,
            .select_only = t->magnet_so, .num_select_only = t->num_magnet_so,
            .magnet_web_seeds = (const char *const *)t->magnet_ws.v, .num_magnet_web_seeds = t->magnet_ws.n,
            /* Trackers and web seeds as edited through the API (the
             * metainfo keeps the originals). */
            .has_trackers = t->trk != NULL, .trackers = trs, .num_trackers = nt,
            .has_web_seeds = t->mi != NULL,
            .web_seeds = t->mi ? (const char *const *)t->mi->web_seeds : NULL,
            .num_web_seeds = t->mi ? t->mi->num_web_seeds : 0,
        };
        record_torrent_settings_encode(&ts, &out);
    }
    free(trs);
    free(ren);
    return out;
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
    char *settings = settings_text(t);
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
    char *settings = settings_text(t);
    if (!settings)
        return -ENOMEM;
    int rc = store_torrent_settings(t->s->store, t->hex, settings, cb, ud);
    free(settings);
    return rc;
}

/* Commits have (a snapshot of t->have) with the files' current sizes and
 * mtimes and the statistics. */
static void put_resume(struct torrent *t, const uint8_t *have)
{
    size_t nf = t->mi->num_files;
    int64_t *files = malloc(2 * nf * sizeof(int64_t) + 1);
    if (!files)
        return;
    storage_stat_files(t->st, files, files + nf);
    struct record_torrent_stats st = {
        .downloaded = t->downloaded, .uploaded = t->uploaded, .wasted = t->wasted,
        .active_time = t->active_time, .seeding_time = t->seeding_time,
        .completion_on = t->completion_on, .seen_complete = t->seen_complete, .last_activity = t->last_activity,
    };
    char *stats = NULL;
    record_torrent_stats_encode(&st, &stats);
    store_resume_put(t->s->store, t->hex, have, bitfield_bytes(&t->have), (uint8_t *)files,
                     2 * nf * sizeof(int64_t), stats);
    free(stats);
    free(files);
}

struct resume_save {
    struct torrent *t;
    uint64_t seq;
    uint8_t have[];
};

/* The storage's sync of the pieces in r->have ended (a storage callback:
 * it runs before the storage, and so the torrent, is closed). */
static void on_resume_synced(void *ud, int rc)
{
    struct resume_save *r = ud;
    struct torrent *t = r->t;
    if (rc < 0) {
        /* The bytes of pieces we hold may not be on disk: claiming them in
         * the resume data would be a lie after a power cut. */
        torrent_fail_io(t, rc, TORRENT_IO_WRITE);
    } else {
        torrent_note_synced(t, r->have);
        if (r->seq > t->resume_put_seq) {
            t->resume_put_seq = r->seq;
            put_resume(t, r->have);
        }
    }
    free(r);
}

void torrent_save_resume(struct torrent *t)
{
    /* Mid-check bits are not worth keeping, and an unchecked torrent's empty
     * bitfield must never be saved as if it had been verified. */
    if (!t->mi || !t->st || (t->phase != TP_READY && t->phase != TP_ERROR) || t->needs_check || t->missing_files)
        return;
    /* Piece data first, then the bits that claim it (store.h's "Nothing is
     * lost"): the snapshot is taken now, when every piece in it has been
     * written, and committed once the sync that covers them ended. */
    size_t n = bitfield_bytes(&t->have);
    struct resume_save *r = malloc(sizeof *r + n + 1);
    if (!r)
        return;
    r->t = t;
    r->seq = ++t->resume_seq;
    memcpy(r->have, t->have.bits, n);
    int rc = storage_sync(t->st, on_resume_synced, r);
    if (rc == 1) {              /* nothing written since the last sync */
        torrent_note_synced(t, r->have);
        t->resume_put_seq = r->seq;
        put_resume(t, r->have);
        free(r);
    } else if (rc < 0) {        /* a move is running (its end saves again), or closed */
        free(r);
        return;
    }
    t->resume_dirty = false;
    t->resume_saved_ms = t->s->now_ms;
}

void torrent_drop_pending_resume(struct torrent *t)
{
    t->resume_put_seq = ++t->resume_seq;
}

/* Rebuilds the tracker set from the saved list (url + tier), which reflects
 * edits made through the API. */
static void restore_trackers(struct torrent *t, const struct record_tracker *trs, size_t n)
{
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
    for (size_t i = 0; i < n; i++)
        tracker_set_add(t->trk, trs[i].url, (int)trs[i].tier);
}

static void replace_str(char **dst, const char *v)
{
    char *d = strdup(v);
    if (d) {
        free(*dst);
        *dst = d;
    }
}

static void apply_settings(struct torrent *t, const struct record_torrent_settings *o)
{
    if (o->category)
        replace_str(&t->category, o->category);
    if (o->name)
        replace_str(&t->name, o->name);
    if (o->tags)
        strv_assign(&t->tags, o->tags, o->num_tags);
    t->stopped = o->stopped;
    t->sequential = o->sequential;
    t->first_last_piece = o->first_last_piece;
    t->forced = o->forced;
    t->super_seeding = o->super_seeding;
    t->auto_tmm = o->auto_tmm;
    t->up_limit = o->up_limit;
    t->dl_limit = o->dl_limit;
    if (o->has_ratio_limit)
        t->ratio_limit = o->ratio_limit;
    if (o->has_seeding_time_limit)
        t->seeding_time_limit = o->seeding_time_limit;
    if (o->has_inactive_seeding_time_limit)
        t->inactive_seeding_time_limit = o->inactive_seeding_time_limit;
    if (o->has_trackers)
        restore_trackers(t, o->trackers, o->num_trackers);
    if (!t->mi && o->has_magnet_extra) {
        torrent_clear_magnet_extra(t);
        t->has_magnet_extra = true;
        t->magnet_so = calloc(o->num_select_only + 1, sizeof *t->magnet_so);
        for (size_t i = 0; t->magnet_so && i < o->num_select_only; i++)
            t->magnet_so[t->num_magnet_so++] = o->select_only[i];
        strv_assign(&t->magnet_ws, o->magnet_web_seeds, o->num_magnet_web_seeds);
    }
    if (t->mi && o->has_web_seeds) {
        for (size_t i = 0; i < t->mi->num_web_seeds; i++)
            free(t->mi->web_seeds[i]);
        free(t->mi->web_seeds);
        t->mi->num_web_seeds = 0;
        t->mi->web_seeds = calloc(o->num_web_seeds + 1, sizeof *t->mi->web_seeds);
        for (size_t i = 0; t->mi->web_seeds && i < o->num_web_seeds; i++) {
            char *u = strdup(o->web_seeds[i]);
            if (u)
                t->mi->web_seeds[t->mi->num_web_seeds++] = u;
        }
    }
    /* Renamed files: applied before any storage job ran (restore time). */
    for (size_t k = 0; t->mi && k < o->num_renamed; k++) {
        size_t i = o->renamed[k].index;
        char *p = torrent_clean_rel_path(o->renamed[k].path);
        if (p && i < t->mi->num_files && torrent_set_renamed(t, i, p) == 0) {
            free(t->mi->files[i].path);
            t->mi->files[i].path = p;
            t->root_known = false;
        } else {
            free(p);
        }
    }
    if (o->has_share_limit_action)
        t->share_limit_action = (enum torrent_share_action)o->share_limit_action;
    if (o->has_stop_condition)
        t->stop_condition = (enum torrent_stop_condition)o->stop_condition;
    if (o->has_queue_pos)
        t->queue_pos = o->queue_pos;
    if (t->mi && o->has_file_prios && o->num_file_prios == t->mi->num_files)
        memcpy(t->file_prios, o->file_prios, o->num_file_prios);
    if (t->picker)
        torrent_apply_sequential(t);
}

static void apply_stats(struct torrent *t, const struct record_torrent_stats *o)
{
    t->downloaded = o->downloaded;
    t->uploaded = o->uploaded;
    t->wasted = o->wasted;
    t->active_time = o->active_time;
    t->seeding_time = o->seeding_time;
    if (o->has_completion_on)
        t->completion_on = o->completion_on;
    if (o->has_seen_complete)
        t->seen_complete = o->seen_complete;
    if (o->has_last_activity)
        t->last_activity = o->last_activity;
}

/* Whether the saved bits can be trusted.  A file with a claimed piece
 * (one the bits say we had) that is gone or no longer at its full length
 * (files are created at full length) makes it missingFiles, as libtorrent's
 * "mismatching file size" makes it for qBittorrent.  Otherwise a file that
 * looks exactly as it did at the save is fine, and one that changed since is
 * fine only if this daemon may have written it after the save: some piece
 * overlapping it was not had yet (a crash mid-download leaves exactly those
 * files newer) -- or none was, so nothing in it is trusted anyway.  Bytes of
 * the pieces the bits claim were synced before the bits were committed
 * (torrent_save_resume), so they are there even after a power cut.  A file
 * whose pieces were all had cannot have been written by us since: someone
 * else changed it, and that costs a recheck, never a wrong "have".
 * files == NULL: only look for missing files. */
enum torrent_resume_verdict torrent_resume_verdict(struct torrent *t, const uint8_t *have, const uint8_t *files,
                                                   size_t files_len)
{
    const struct bt_metainfo *mi = t->mi;
    size_t nf = mi->num_files;
    if (files && files_len != 2 * nf * sizeof(int64_t))
        return TORRENT_RESUME_RECHECK;
    int64_t *now = malloc(2 * nf * sizeof(int64_t) + 1), *then = malloc(2 * nf * sizeof(int64_t) + 1);
    enum torrent_resume_verdict v = now && then ? TORRENT_RESUME_TRUSTED : TORRENT_RESUME_RECHECK;
    if (v == TORRENT_RESUME_TRUSTED) {
        if (files)
            memcpy(then, files, files_len);
        storage_stat_files(t->st, now, now + nf);
    }
    for (size_t i = 0; v == TORRENT_RESUME_TRUSTED && i < nf; i++) {
        const struct bt_file *f = &mi->files[i];
        if (f->pad || f->length == 0)
            continue;
        uint32_t first = (uint32_t)(f->offset / mi->piece_length);
        uint32_t last = (uint32_t)((f->offset + f->length - 1) / mi->piece_length);
        uint32_t had = 0;
        for (uint32_t p = first; p <= last; p++)
            had += (have[p / 8] >> (7 - p % 8)) & 1;
        if (had == 0)
            continue;   /* nothing of it is claimed: whatever is there gets written */
        if (now[i] != f->length) {
            log_msg(LOG_INFO, "'%s': \"%s\" is missing or not at its full length", torrent_name(t), f->path);
            v = TORRENT_RESUME_MISSING;
        } else if (files && (now[i] != then[i] || now[nf + i] != then[nf + i]) && had == last - first + 1) {
            log_msg(LOG_INFO, "'%s': \"%s\" changed since the last save", torrent_name(t), f->path);
            v = TORRENT_RESUME_RECHECK;
        }
    }
    free(now);
    free(then);
    return v;
}

/* Begins a restored torrent from its saved bits, where its files are now. */
static void begin_from_resume(struct torrent *t, const uint8_t *have, size_t have_len, const uint8_t *files,
                              size_t files_len)
{
    enum torrent_resume_verdict v = TORRENT_RESUME_RECHECK;
    if (have && have_len == bitfield_bytes(&t->have))
        v = torrent_resume_verdict(t, have, files, files_len);
    if (v != TORRENT_RESUME_RECHECK) {
        torrent_set_have_from_bits(t, have);
        t->phase = TP_READY;
        if (v == TORRENT_RESUME_MISSING) {
            /* Kept to look again when the user starts it (the files may be
             * back: a volume mounted late). */
            t->missing_resume = malloc(files_len + 1);
            if (t->missing_resume) {
                memcpy(t->missing_resume, files, files_len);
                t->missing_resume_len = files_len;
            }
            torrent_files_missing(t);
        } else if (!t->stopped) {
            torrent_activate(t);
        }
        return;
    }
    if (have)
        log_msg(LOG_INFO, "'%s': files changed since the last save, rechecking", torrent_name(t));
    if (t->stopped)
        torrent_defer_check(t);
    else
        torrent_start_check(t);
}

static uint8_t *dup_blob(const uint8_t *p, size_t n)
{
    uint8_t *d = p ? malloc(n + 1) : NULL;
    if (d)
        memcpy(d, p, n);
    return d;
}

void torrent_finish_restore(struct torrent *t)
{
    uint8_t *have = t->restore_have, *files = t->restore_files;
    size_t have_len = t->restore_have_len, files_len = t->restore_files_len;
    t->restore_have = t->restore_files = NULL;
    t->restore_pending = false;
    t->phase = TP_LOADING;
    begin_from_resume(t, have, have_len, files, files_len);
    free(have);
    free(files);
}

int torrent_restore(struct torrent *t, const struct record_torrent_settings *settings, const uint8_t *have,
                    size_t have_len, const uint8_t *files, size_t files_len, const struct record_torrent_stats *stats,
                    const char *move_intent)
{
    if (settings)
        apply_settings(t, settings);
    if (stats)
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
    /* A move that a crash interrupted (its intent row survived): finish it
     * first, then judge the resume data where the files are. */
    char *nl = move_intent ? strchr(move_intent, '\n') : NULL;
    int kind = nl ? atoi(move_intent) : -1;
    if (nl && nl[1] == '/' && kind >= MOVE_SAVE_PATH && kind <= MOVE_TO_DOWNLOAD) {
        log_msg(LOG_INFO, "'%s': finishing the move to %s", torrent_name(t), nl + 1);
        t->restore_pending = true;
        t->restore_have = dup_blob(have, have_len);
        t->restore_have_len = t->restore_have ? have_len : 0;
        t->restore_files = dup_blob(files, files_len);
        t->restore_files_len = t->restore_files ? files_len : 0;
        t->phase = TP_LOADING;
        if (torrent_move_data(t, nl + 1, (enum move_kind)kind, NULL, NULL) == 0)
            return 0;
        torrent_finish_restore(t);
        return 0;
    }
    begin_from_resume(t, have, have_len, files, files_len);
    return 0;
}
