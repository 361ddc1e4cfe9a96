/* torrent — lifecycle: allocation and creation, the first check and
 * rechecks, starting and stopping (activate/deactivate), share limits, the
 * one-second tick, removal and shutdown.  The other concerns live in
 * torrent_persist.c, torrent_pieces.c, torrent_meta.c, torrent_swarm.c and
 * torrent_files.c; what they share is in torrent_int.h.
 */
#include "core/torrent.h"
#include "core/torrent_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt/choker.h"
#include "bt/layers.h"
#include "bt/magnet.h"
#include "bt/metadata.h"
#include "bt/metainfo.h"
#include "bt/picker.h"
#include "bt/tracker/tracker.h"
#include "core/discovery.h"
#include "core/limits.h"
#include "core/peerpolicy.h"
#include "core/peer.h"
#include "core/queue.h"
#include "core/ssltorrent.h"
#include "core/stream.h"
#include "core/webseed.h"
#include "core/session.h"
#include "core/torrent_status.h"
#include "disk/storage.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/log.h"

#define TORRENT_RESUME_INTERVAL_MS 3000

const char *torrent_name(const struct torrent *t)
{
    if (t->name)
        return t->name;
    if (t->mi)
        return t->mi->name;
    return t->magnet_name ? t->magnet_name : t->hex;
}

int64_t torrent_piece_size(const struct torrent *t, uint32_t piece)
{
    return bt_metainfo_piece_size(t->mi, piece);
}

bool torrent_is_finished(const struct torrent *t)
{
    return t->mi && t->phase == TP_READY && t->wanted_done >= t->wanted_size;
}

static void on_tracker_stats(void *ud, int64_t *up, int64_t *down, int64_t *left)
{
    struct torrent *t = ud;
    *up = t->ul_session;
    *down = t->dl_session;
    *left = t->wanted_size - t->wanted_done;
}

/* SSL torrents announce the SSL listen port. */
static uint16_t on_tracker_port(void *ud)
{
    return ssltorrent_announce_port(ud);
}

static void on_tracker_peers(void *ud, const struct tracker_peer *peers, size_t n)
{
    struct torrent *t = ud;
    for (size_t i = 0; i < n; i++)
        torrent_add_peer_addr(t, (const struct sockaddr *)&peers[i].addr, false, PEER_SRC_TRACKER);
    /* Don't let fresh peers wait for the next tick. */
    if (t->active)
        torrent_connect_candidates(t, uv_now(t->s->loop));
}

/* The swarm as the trackers report it (libtorrent's num_complete and
 * num_incomplete, which qBittorrent shows): the largest count any tracker
 * gave, -1 while none did.  A stopped torrent's counts come from the
 * event=stopped reply, and no tick sees it: touch it for sync/maindata. */
static void on_tracker_changed(void *ud)
{
    struct torrent *t = ud;
    int64_t seeds = -1, leechers = -1;
    const struct tracker_entry *e;
    for (size_t i = 0; t->trk && (e = tracker_set_entry(t->trk, i)); i++) {
        if (e->swarm_seeds > seeds)
            seeds = e->swarm_seeds;
        if (e->swarm_leeches > leechers)
            leechers = e->swarm_leeches;
    }
    bool moved = seeds != t->num_complete || leechers != t->num_incomplete;
    t->num_complete = seeds;
    t->num_incomplete = leechers;
    if (moved && !t->active)
        torrent_touch(t);
}

/* Fields every torrent has, with or without metadata. */
static struct torrent *torrent_alloc(struct session *s, const uint8_t info_hash[20],
                                     const struct torrent_add_params *p, int64_t added_on)
{
    struct torrent *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->s = s;
    t->choker = malloc(sizeof *t->choker);
    if (t->choker)
        bt_choker_init(t->choker);
    memcpy(t->info_hash, info_hash, 20);
    hex_encode(info_hash, 20, t->hex);
    const char *sp = p && p->save_path && *p->save_path ? p->save_path : session_default_save_path(s);
    t->save_path = strdup(sp);
    t->category = strdup(p && p->category ? p->category : "");
    t->name = p && p->rename && *p->rename ? strdup(p->rename) : NULL;
    if (p && p->download_path && *p->download_path) {
        t->download_path = strdup(p->download_path);
        t->data_in_download = p->data_in_download_path;
    }
    bool lost = false;
    if (p && p->tags && *p->tags) {
        char *dup = strdup(p->tags), *save = NULL;
        lost = !dup;
        for (char *tok = dup ? strtok_r(dup, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ')
                tok++;
            if (*tok && strv_push(&t->tags, tok) != 0)
                lost = true;
        }
        free(dup);
    }
    t->stopped = p && p->stopped;
    t->sequential = p && p->sequential;
    t->first_last_piece = p && p->first_last_piece;
    t->forced = p && p->forced;
    t->auto_tmm = p && p->auto_tmm;
    t->up_limit = p && p->up_limit > 0 ? p->up_limit : 0;
    t->dl_limit = p && p->dl_limit > 0 ? p->dl_limit : 0;
    t->ratio_limit = p ? p->ratio_limit : -2;
    t->seeding_time_limit = p ? p->seeding_time_limit : -2;
    t->inactive_seeding_time_limit = p ? p->inactive_seeding_time_limit : -2;
    t->stop_condition = p ? p->stop_condition : TORRENT_STOP_NONE;
    t->share_limit_action = p ? p->share_limit_action : TORRENT_SHARE_DEFAULT;
    t->added_on = added_on;
    t->completion_on = t->seen_complete = -1;
    t->last_activity = -1;
    t->num_complete = t->num_incomplete = -1;
    t->phase = TP_LOADING;
    rate_init(&t->dl_rate);
    rate_init(&t->ul_rate);
    limits_init_torrent(t);
    limits_apply_torrent(t);
    lost |= (p && p->rename && *p->rename && !t->name) ||
            (p && p->download_path && *p->download_path && !t->download_path);
    if (lost || !t->choker || !t->save_path || !t->category) {
        free(t->choker);
        free(t->save_path);
        free(t->category);
        free(t->name);
        free(t->download_path);
        strv_clear(&t->tags);
        free(t);
        return NULL;
    }
    return t;
}

/* Gives the torrent its metadata: pieces, files, storage.  Takes mi; on
 * failure mi is freed and the torrent stays without metadata. */
int torrent_attach_metainfo(struct torrent *t, struct bt_metainfo *mi)
{
    size_t nf = mi->num_files ? mi->num_files : 1;
    t->file_prios = malloc(nf);
    if (t->file_prios)
        memset(t->file_prios, 1, nf);
    t->picker = bt_picker_new(mi->num_pieces, mi->piece_length, mi->total_size);
    if (!t->file_prios || !t->picker || bitfield_init(&t->have, mi->num_pieces) != 0 ||
        bitfield_init(&t->wanted, mi->num_pieces) != 0 ||
        !(t->synced_bits = calloc(1, bitfield_bytes(&t->have) + 1)) ||
        storage_open(t->s->loop, mi, t->data_in_download && t->download_path ? t->download_path : t->save_path,
                     &t->st) != 0) {
        log_msg(LOG_WARNING, "cannot set up torrent %s", t->hex);
        bt_picker_free(t->picker);
        t->picker = NULL;
        bitfield_free(&t->have);
        bitfield_free(&t->wanted);
        free(t->synced_bits);
        t->synced_bits = NULL;
        free(t->file_prios);
        t->file_prios = NULL;
        t->st = NULL;
        bt_metainfo_free(mi);
        return -ENOMEM;
    }
    t->mi = mi;
    t->root_known = false;
    tuning_storage_opened(t->s, t);
    if (mi->hybrid) {
        /* BEP52: peers may reach a hybrid by either hash */
        bool by_v1 = memcmp(t->info_hash, mi->info_hash, 20) == 0;
        memcpy(t->alt_hash, by_v1 ? mi->info_hash_v2 : mi->info_hash, 20);
        t->has_alt = true;
    }
    ssltorrent_metadata(t);
    torrent_apply_sequential(t);
    torrent_apply_file_priorities(t);
    return 0;
}

static void free_common(struct torrent *t)
{
    webseed_forget(t);
    ssltorrent_free(t);
    free(t->save_path);
    free(t->category);
    free(t->name);
    free(t->magnet_name);
    free(t->download_path);
    free(t->root_cache);
    free(t->delete_key);
    torrent_clear_magnet_extra(t);
    strv_clear(&t->tags);
    torrent_clear_renamed(t);
    free(t->choker);
    free(t);
}

static int finish_create(struct torrent *t, const struct bt_tier *tiers, size_t num_tiers,
                         const struct torrent_add_params *p, struct torrent **out)
{
    struct tracker_callbacks cb = {on_tracker_stats, on_tracker_peers, on_tracker_changed};
    t->trk = tracker_set_new(t->s->trackers, t->info_hash, tiers, num_tiers, &cb, t);
    if (t->trk)
        tracker_set_port_fn(t->trk, on_tracker_port);
    peerpolicy_tracker_set(t);   /* announce_to_all_tiers/_trackers */
    int rc = session_index_add(t->s, t);
    if (rc != 0) {
        t->removing = true;
        torrent_maybe_finish_removal(t);
        return rc;
    }
    if (p && p->top_of_queue)
        queue_move_to_top(t->s, t);
    *out = t;
    return 0;
}

int torrent_create(struct session *s, struct bt_metainfo *mi, const struct torrent_add_params *p,
                   int64_t added_on, struct torrent **out)
{
    session_assert_loop_thread(s);
    struct torrent *t = torrent_alloc(s, p && p->key ? p->key : mi->info_hash, p, added_on);
    if (!t) {
        bt_metainfo_free(mi);
        return -ENOMEM;
    }
    if (p && p->layout != TORRENT_LAYOUT_ORIGINAL)
        torrent_apply_layout(t, mi, p->layout);
    if (torrent_attach_metainfo(t, mi) != 0) {
        free_common(t);
        return -ENOMEM;
    }
    return finish_create(t, mi->tiers, mi->num_tiers, p, out);
}

int torrent_create_magnet(struct session *s, const struct bt_magnet *m, const struct torrent_add_params *p,
                          int64_t added_on, struct torrent **out)
{
    session_assert_loop_thread(s);
    struct torrent *t = torrent_alloc(s, m->info_hash, p, added_on);
    if (!t)
        return -ENOMEM;
    t->magnet_name = m->name ? strdup(m->name) : NULL;
    if (m->has_v2) {
        t->has_v2 = true;
        t->no_v1 = !m->has_v1;
        memcpy(t->info_hash_v2, m->info_hash_v2, 32);
        hex_encode(t->info_hash_v2, 32, t->hex_v2);
    }
    if (m->num_select_only || m->num_web_seeds) {
        t->has_magnet_extra = true;
        t->magnet_so = calloc(m->num_select_only + 1, sizeof *t->magnet_so);
        for (size_t i = 0; t->magnet_so && i < m->num_select_only; i++)
            t->magnet_so[t->num_magnet_so++] = m->select_only[i];
        strv_assign(&t->magnet_ws, (const char *const *)m->web_seeds, m->num_web_seeds);
    }
    /* One tier per tracker, in the link's order. */
    struct bt_tier *tiers = calloc(m->num_trackers ? m->num_trackers : 1, sizeof *tiers);
    if (!tiers) {
        free_common(t);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m->num_trackers; i++) {
        tiers[i].urls = &m->trackers[i];
        tiers[i].num_urls = 1;
    }
    int rc = finish_create(t, tiers, m->num_trackers, p, out);
    free(tiers);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < m->num_peers; i++)
        torrent_add_peer_addr(t, (const struct sockaddr *)&m->peers[i], false, PEER_SRC_API);
    return 0;
}

void torrent_set_have_from_bits(struct torrent *t, const uint8_t *bits)
{
    uint32_t n = t->mi->num_pieces;
    for (uint32_t i = 0; i < n; i++) {
        if (bits[i >> 3] & (0x80 >> (i & 7))) {
            bitfield_set(&t->have, i);
            bt_picker_we_have(t->picker, i);
        }
    }
    /* Found by a check or trusted from committed resume data: on disk. */
    memcpy(t->synced_bits, t->have.bits, bitfield_bytes(&t->have));
    torrent_apply_file_priorities(t);
    if (torrent_is_finished(t) || t->have.count == n)
        t->had_metadata_complete = true;
}

/* ---- checking ---- */

static void on_check_progress(void *ud, uint32_t done, uint32_t total)
{
    struct torrent *t = ud;
    (void)total;
    t->check_progress = done;
    torrent_touch(t);
}

/* ---- the check queue: max_active_checking_torrents ----
 * As libtorrent's active_checking (qBittorrent's default 1): at most that
 * many checks hash at once, the others wait in FIFO order showing as
 * checking with nothing done yet; <= 0 is no limit. */

static size_t check_slots(const struct session *s)
{
    int64_t v = settings_int(&s->settings, SET_MAX_ACTIVE_CHECKING_TORRENTS);
    return v <= 0 ? SIZE_MAX : (size_t)v;
}

static void checkq_drop(struct torrent *t)
{
    struct session *s = t->s;
    struct torrent **pp = &s->checkq_head, *prev = NULL;
    while (*pp && *pp != t) {
        prev = *pp;
        pp = &(*pp)->checkq_next;
    }
    if (*pp) {
        *pp = t->checkq_next;
        if (s->checkq_tail == t)
            s->checkq_tail = prev;
    }
    t->checkq_next = NULL;
    t->check_queued = false;
}

static void on_check_done(void *ud, int rc, const uint8_t *have_bits, uint32_t num_pieces);

static void run_check(struct torrent *t)
{
    int rc = storage_check(t->st, on_check_progress, on_check_done, t, &t->check);
    if (rc != 0) {
        t->phase = TP_ERROR;
        free(t->error);
        t->error = strdup("cannot start checking");
        return;
    }
    t->s->checks_running++;
}

void torrent_pump_checks(struct session *s)
{
    while (s->checkq_head && s->checks_running < check_slots(s)) {
        struct torrent *t = s->checkq_head;
        checkq_drop(t);
        run_check(t);
        torrent_touch(t);
    }
}

/* A running check ended (done, or cancelled by the caller) or a queued one
 * was dropped: the next may start. */
static void check_gone(struct torrent *t)
{
    if (t->check) {
        storage_check_cancel(t->check);
        t->check = NULL;
        t->s->checks_running--;
    } else if (t->check_queued) {
        checkq_drop(t);
    }
    torrent_pump_checks(t->s);
}

static void on_check_done(void *ud, int rc, const uint8_t *have_bits, uint32_t num_pieces)
{
    struct torrent *t = ud;
    t->check = NULL;
    t->s->checks_running--;
    torrent_pump_checks(t->s);
    torrent_touch(t);
    if (rc != 0 || num_pieces != t->mi->num_pieces) {
        t->phase = TP_ERROR;
        free(t->error);
        t->error = strdup(strerror(rc < 0 ? -rc : EIO));
        log_msg(LOG_CRITICAL, "'%s': checking failed: %s", torrent_name(t), t->error);
        return;
    }
    torrent_set_have_from_bits(t, have_bits);
    t->phase = TP_READY;
    if (torrent_is_finished(t) && t->completion_on < 0 && t->wanted_size > 0)
        t->completion_on = now_s();
    log_msg(LOG_INFO, "'%s': checked, %u of %u pieces present", torrent_name(t), t->have.count, num_pieces);
    torrent_save_resume(t);
    if (t->stop_condition != TORRENT_STOP_NONE) {
        /* MetadataReceived is met too once a torrent has been checked. */
        t->stop_condition = TORRENT_STOP_NONE;
        t->stopped = true;
        torrent_save_settings(t, NULL, NULL);
    }
    bool finish = t->finish_after_check && torrent_is_finished(t);
    t->finish_after_check = false;
    t->downloaded_since_check = false;
    if (!t->stopped)
        torrent_activate(t);
    if (finish)
        torrent_on_finished(t);   /* recheck_completed_torrents: checked, now it finishes */
    torrent_apply_pending_location(t);
}

void torrent_start_check(struct torrent *t)
{
    torrent_touch(t);
    torrent_drop_pending_resume(t);   /* the check decides what we have */
    t->phase = TP_CHECKING;
    t->check_progress = 0;
    struct session *s = t->s;
    if (s->checks_running < check_slots(s) && !s->checkq_head) {
        run_check(t);
        return;
    }
    t->check_queued = true;
    t->checkq_next = NULL;
    if (s->checkq_tail)
        s->checkq_tail->checkq_next = t;
    else
        s->checkq_head = t;
    s->checkq_tail = t;
}

/* A stopped torrent is not checked until it is started, as in qBittorrent:
 * it shows as stopped with what it knows (nothing) until then. */
void torrent_defer_check(struct torrent *t)
{
    t->needs_check = true;
    t->phase = TP_READY;
}

void torrent_begin(struct torrent *t, bool skip_checking)
{
    if (!t->mi) {
        t->phase = TP_READY;
        if (!t->stopped)
            torrent_activate(t);
        return;
    }
    if (skip_checking) {
        uint32_t n = t->mi->num_pieces;
        uint8_t *all = malloc(n / 8 + 1);
        if (all) {
            memset(all, 0xff, n / 8 + 1);
            torrent_set_have_from_bits(t, all);
            free(all);
        }
        t->phase = TP_READY;
        t->completion_on = now_s();
        torrent_save_resume(t);
        if (!t->stopped)
            torrent_activate(t);
        return;
    }
    if (t->stopped)
        torrent_defer_check(t);
    else
        torrent_start_check(t);
}

void torrent_clear_error(struct torrent *t)
{
    free(t->error);
    t->error = NULL;
    t->missing_files = false;
    free(t->missing_resume);
    t->missing_resume = NULL;
    t->missing_resume_len = 0;
}

void torrent_recheck(struct torrent *t)
{
    session_assert_loop_thread(t->s);
    if (t->removing || !t->mi)
        return;
    if (t->phase == TP_ERROR)
        torrent_clear_error(t);   /* the check decides (it sets the phase) */
    if (t->check || t->check_queued)
        check_gone(t);
    if (t->active)
        torrent_deactivate(t, false);
    if (t->writes_in_flight > 0) {
        /* Pieces still being written would land in the old picker; the
         * check that follows sees them on disk anyway. */
        log_debug("%s: recheck with %u writes in flight", t->hex, t->writes_in_flight);
    }
    t->needs_check = false;
    torrent_reset_pieces(t);
    torrent_start_check(t);
}

/* ---- activity ---- */

static void on_preallocated(void *ud, int rc)
{
    struct torrent *t = ud;
    t->allocating = false;
    if (rc == 0 || t->removing)
        return;
    free(t->error);
    t->error = strdup(strerror(-rc));
    log_msg(LOG_CRITICAL, "'%s': cannot allocate its files: %s; torrent stopped", torrent_name(t), t->error);
    t->phase = TP_ERROR;
    torrent_deactivate(t, true);
    torrent_touch(t);
}

void torrent_preallocate(struct torrent *t)
{
    if (!t->s->tune.preallocate || !t->active || !t->mi || !t->st || t->allocating || torrent_is_finished(t))
        return;
    int rc = storage_preallocate(t->st, on_preallocated, t);
    if (rc == 0)
        t->allocating = true;
    else
        log_msg(LOG_WARNING, "'%s': cannot preallocate its files now: %s", torrent_name(t), strerror(-rc));
}

void torrent_activate(struct torrent *t)
{
    if (t->active || t->removing || t->phase != TP_READY || t->stopped || t->queued)
        return;
    torrent_touch(t);
    t->active = true;
    session_set_active(t->s, t, true);
    tracker_set_start(t->trk);
    /* Announce now rather than on the next tick: a second less to first byte. */
    tracker_set_tick(t->trk, uv_now(t->s->loop));
    if (torrent_is_finished(t) && t->completion_on < 0)
        t->completion_on = now_s();
    webseed_sync(t);
    torrent_preallocate(t);   /* queued before any piece write: writes wait for it */
    /* Reconnect right away to peers we knew. */
    for (size_t i = 0; i < t->num_cands; i++)
        t->cands[i].next_try_ms = 0;
}

void torrent_deactivate(struct torrent *t, bool announce_stop)
{
    if (!t->active)
        return;
    torrent_touch(t);
    discovery_torrent_gone(t);
    webseed_free_all(t);
    t->active = false;
    t->active_epoch++;
    torrent_drop_read_cache(t);
    session_set_active(t->s, t, false);
    if (announce_stop)
        tracker_set_stop(t->trk);
    while (t->peers)
        peer_close(t->peers, "torrent stopped");
    rate_init(&t->dl_rate);
    rate_init(&t->ul_rate);
}

void torrent_start(struct torrent *t)
{
    session_assert_loop_thread(t->s);
    if (t->removing)
        return;
    torrent_touch(t);
    bool changed = t->stopped;
    t->stopped = false;
    if (t->st)
        storage_hold_files(t->st);
    if (t->phase == TP_ERROR && t->missing_files && t->mi) {
        /* Look again, as qBittorrent reloads the torrent: back -> resume
         * from what it had, still gone -> missingFiles, changed -> check. */
        enum torrent_resume_verdict v =
            torrent_resume_verdict(t, t->have.bits, t->missing_resume, t->missing_resume_len);
        if (v == TORRENT_RESUME_MISSING) {
            log_msg(LOG_CRITICAL, "File size mismatch for torrent '%s'. It's paused.", torrent_name(t));
            if (changed)
                torrent_save_settings(t, NULL, NULL);
            return;
        }
        if (v == TORRENT_RESUME_RECHECK)
            t->needs_check = true;
    }
    if (t->phase == TP_ERROR) {
        torrent_clear_error(t);
        t->phase = TP_READY;
    }
    if (t->forget_unsynced_at_start && t->st) {
        storage_forget_unsynced(t->st);
        t->forget_unsynced_at_start = false;
    }
    if (t->needs_check && t->phase == TP_READY && t->mi) {
        t->needs_check = false;
        torrent_start_check(t);   /* activates when done */
    } else {
        torrent_activate(t);
    }
    if (changed)
        torrent_save_settings(t, NULL, NULL);
}

void torrent_stop(struct torrent *t)
{
    session_assert_loop_thread(t->s);
    if (t->removing)
        return;
    torrent_touch(t);
    bool changed = !t->stopped;
    t->stopped = true;
    t->forced = false;
    torrent_deactivate(t, true);
    if (t->st)
        storage_release_files(t->st);   /* as libtorrent: a stopped torrent holds no file open */
    if (changed) {
        torrent_save_settings(t, NULL, NULL);
        torrent_save_resume(t);
    }
}

void torrent_set_queued(struct torrent *t, bool queued)
{
    if (t->queued == queued)
        return;
    t->queued = queued;
    torrent_touch(t);
    if (queued)
        torrent_deactivate(t, true);
    else
        torrent_activate(t);
}

void torrent_set_forced(struct torrent *t, bool forced)
{
    t->forced = forced;
    torrent_start(t);
}

void torrent_reannounce(struct torrent *t)
{
    session_assert_loop_thread(t->s);
    if (t->active)
        tracker_set_reannounce(t->trk);
}

/* ---- share limits ---- */

/* The global action setting (max_ratio_act) keeps qBittorrent's numbering,
 * 0 stop, 1 remove, 2 super-seeding, 3 remove with the files: the enum's
 * value minus one.  Anything else stops, as before. */
static enum torrent_share_action share_action_from_setting(int64_t v)
{
    return v >= 0 && v <= 3 ? (enum torrent_share_action)(v + 1) : TORRENT_SHARE_STOP;
}

static void check_share_limits(struct torrent *t)
{
    const struct settings *p = &t->s->settings;
    double ratio_limit;
    int64_t seed_limit, idle_limit;
    torrent_status_limits(t, &ratio_limit, &seed_limit, &idle_limit);

    double ratio = torrent_status_ratio(t);   /* INFINITY (uploaded, nothing downloaded) reaches any limit */
    int64_t idle = t->last_activity > 0 ? now_s() - t->last_activity : t->seeding_time;
    const char *why = NULL;
    if (ratio_limit >= 0 && ratio >= ratio_limit)
        why = "ratio";
    else if (seed_limit >= 0 && t->seeding_time >= seed_limit * 60)
        why = "seeding time";
    else if (idle_limit >= 0 && idle >= idle_limit * 60)
        why = "inactive seeding time";
    if (!why)
        return;
    enum torrent_share_action act = t->share_limit_action;
    if (act == TORRENT_SHARE_DEFAULT)
        act = share_action_from_setting(settings_int(p, SET_MAX_RATIO_ACT));
    log_msg(LOG_INFO, "'%s' reached its %s limit", torrent_name(t), why);
    switch (act) {
    case TORRENT_SHARE_REMOVE:
    case TORRENT_SHARE_REMOVE_WITH_CONTENT:
        torrent_remove(t, act == TORRENT_SHARE_REMOVE_WITH_CONTENT, NULL, NULL);
        break;
    case TORRENT_SHARE_SUPER_SEED:
        if (!t->super_seeding) {
            t->super_seeding = true;
            torrent_settings_changed(t, NULL, NULL);
        }
        break;
    default:
        torrent_stop(t);
        break;
    }
}

/* ---- tick ---- */

/* What a client would see change: only then is the torrent "changed" for
 * sync/maindata.  Pure clock fields (time_active, seeding_time) ride along
 * with the next real change, as with libtorrent's state updates. */
static uint64_t activity_signature(struct torrent *t)
{
    uint64_t h = 1469598103934665603ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ull)
    MIX(t->dl_session);
    MIX(t->ul_session);
    MIX(t->num_peers);
    MIX(t->phase);
    MIX(t->wanted_done);
    MIX(t->num_complete);
    MIX(t->num_incomplete);
    MIX(t->wasted);
    MIX(torrent_status_state(t, t->s->now_ms));
    MIX(rate_get(&t->dl_rate, t->s->now_ms));   /* speeds decay to 0 after the last byte */
    MIX(rate_get(&t->ul_rate, t->s->now_ms));
#undef MIX
    return h;
}

void torrent_tick(struct torrent *t, uint64_t now_ms)
{
    session_assert_loop_thread(t->s);
    uint64_t sig = activity_signature(t);
    if (sig != t->activity_sig) {
        t->activity_sig = sig;
        torrent_touch(t);
    }
    t->active_time++;
    bool finished = torrent_is_finished(t);
    if (finished)
        t->seeding_time++;
    if (t->trk)
        tracker_set_tick(t->trk, now_ms);
    struct peer *next;
    uint32_t np = t->mi ? t->mi->num_pieces : 0;
    for (struct peer *p = t->peers; p; p = next) {
        next = p->next;
        peer_tick(p, now_ms);
        /* libtorrent's last_seen_complete: a connected seed is a complete copy */
        if (p->state == PEER_ACTIVE && (p->have_all || (np && p->have.bits && p->have.count == np)))
            t->seen_complete = (int64_t)time(NULL);
        if (p->state == PEER_ACTIVE && !finished)
            torrent_fill_requests(t, p);
    }
    if (!t->active)
        return;
    torrent_connect_candidates(t, now_ms);
    if (t->mi && !finished)
        webseed_tick(t, now_ms);
    torrent_send_pex(t, now_ms);
    torrent_trim_read_cache(t, now_ms);
    if (!t->mi && t->meta_asm)
        for (struct peer *p = t->peers; p; p = p->next)
            torrent_request_metadata(t, p);   /* hands out blocks whose requests timed out */
    if (t->layers)
        for (struct peer *p = t->peers; p; p = p->next)
            torrent_request_layers(t, p);     /* the same for hash requests */
    if (now_ms >= t->next_choke_ms)
        torrent_run_choker(t);
    if (t->resume_dirty && now_ms - t->resume_saved_ms >= TORRENT_RESUME_INTERVAL_MS)
        torrent_save_resume(t);
    /* Last: it may stop or remove the torrent. */
    if (finished && !t->super_seeding)
        check_share_limits(t);
}

/* ---- removal ---- */

static void free_torrent(struct torrent *t)
{
    for (size_t i = 0; i < t->num_partials; i++)
        torrent_free_partial(t->partials[i]);
    free(t->partials);
    smartban_free(t->smartban);
    free(t->cands);
    bt_picker_free(t->picker);
    bitfield_free(&t->have);
    bitfield_free(&t->wanted);
    free(t->synced_bits);
    free(t->file_prios);
    torrent_clear_error(t);
    free(t->restore_have);
    free(t->restore_files);
    free(t->pending_location);
    torrent_drop_read_cache(t);
    free(t->rcache);
    bt_metadata_asm_free(t->meta_asm);
    bt_layers_free(t->layers);
    bt_metainfo_free(t->layers_mi);
    bt_metainfo_free(t->mi);
    free_common(t);
}

static void on_storage_closed(void *ud)
{
    struct torrent *t = ud;
    void (*done)(void *) = t->closed_cb;
    void *done_ud = t->closed_ud;
    struct session *s = t->removal_counted ? t->s : NULL;
    free_torrent(t);
    if (done)
        done(done_ud);
    if (s)
        session_removal_done(s);
}

static void on_files_deleted(void *ud, int rc)
{
    struct torrent *t = ud;
    if (rc != 0)
        log_msg(LOG_WARNING, "'%s': could not delete all files: %s", torrent_name(t), strerror(-rc));
    torrent_forget_delete_intent(t);
    storage_close(t->st, on_storage_closed, t);
}

void torrent_maybe_finish_removal(struct torrent *t)
{
    if (!t->removing || t->closing_peers > 0 || t->writes_in_flight > 0 || t->reads_in_flight > 0 || t->peers ||
        t->move_intent_pending || t->delete_intent_pending)
        return;
    if (t->trk) {
        tracker_set_free(t->trk);
        t->trk = NULL;
    }
    t->removing = false;  /* run once */
    if (t->closing && t->phase == TP_READY)
        torrent_save_resume(t);
    t->phase = TP_ERROR;
    if (!t->st) {
        on_storage_closed(t);
        return;
    }
    if (!t->delete_files) {
        storage_close(t->st, on_storage_closed, t);
        return;
    }
    /* Test hook (tests/integration/test_chaos.py::test_kill_between_delete_commit_and_unlinks):
     * with TORRENTD_TEST_STALL_DELETE set the files of a removal are never
     * unlinked, so that a kill -9 lands in the window between the committed
     * removal and the unlinks.  Never set outside tests: the removed
     * torrent stays in memory and a clean shutdown waits for it. */
    if (getenv("TORRENTD_TEST_STALL_DELETE")) {
        log_msg(LOG_INFO, "test: the files of '%s' are left (TORRENTD_TEST_STALL_DELETE)", torrent_name(t));
        return;
    }
    int rc = storage_delete_files(t->st, on_files_deleted, t);
    if (rc == -EBUSY)
        t->removing = true;   /* a move or rename runs: its completion calls us again */
    else if (rc != 0)
        on_files_deleted(t, rc);
}

void torrent_remove(struct torrent *t, bool delete_files, void (*cb)(void *ud, int rc), void *ud)
{
    session_assert_loop_thread(t->s);
    if (t->removing) {
        if (cb)
            cb(ud, 0);
        return;
    }
    if (t->check || t->check_queued)
        check_gone(t);
    /* Before the row's deletion, so that both commit together (and before
     * torrent_deactivate: it needs to see whether a move runs). */
    if (delete_files) {
        int irc = torrent_queue_delete_intent(t);
        if (irc != 0)
            log_msg(LOG_WARNING, "'%s': deletion intent not queued: %s", torrent_name(t), strerror(-irc));
    }
    /* A move's intent row belongs to this torrent's life: left behind, the
     * next start would finish the move on a torrent added again since
     * (test_chaos.py::test_readd_after_remove_while_moving). */
    if (t->phase == TP_MOVING || t->move_intent_pending)
        torrent_forget_move(t);
    stream_torrent_gone(t);
    torrent_deactivate(t, true);
    t->removing = true;
    t->removal_counted = true;
    t->s->removals_in_flight++;
    t->delete_files = delete_files;
    torrent_drop_pending_resume(t);   /* its row is being deleted */
    session_index_remove(t->s, t);
    store_torrent_delete(t->s->store, t->hex, cb, ud);
    log_msg(LOG_INFO, "removed torrent '%s'%s", torrent_name(t), delete_files ? " and its files" : "");
    torrent_maybe_finish_removal(t);
}

void torrent_close(struct torrent *t, void (*done)(void *ud), void *ud)
{
    if (t->check || t->check_queued) {
        check_gone(t);
        t->phase = TP_LOADING;  /* nothing worth saving */
    }
    stream_torrent_gone(t);
    torrent_deactivate(t, true);
    t->removing = true;
    t->closing = true;
    t->closed_cb = done;
    t->closed_ud = ud;
    session_index_remove(t->s, t);
    torrent_maybe_finish_removal(t);
}

/* ---- settings from the API ---- */

int torrent_settings_changed(struct torrent *t, void (*cb)(void *ud, int rc), void *ud)
{
    session_assert_loop_thread(t->s);
    torrent_touch(t);
    if (t->picker)   /* magnets have none until their metadata arrives */
        torrent_apply_sequential(t);
    if (t->active && t->mi && webseed_changed(t))
        webseed_sync(t);
    limits_apply_torrent(t);
    return torrent_save_settings(t, cb, ud);
}

/* ---- reporting ---- */

void torrent_touch(struct torrent *t)
{
    /* Not once removed: a storage job that completes while the files are
     * closed or deleted must not put a torrent about to be freed back on the
     * change list (removing is cleared when the close starts). */
    if (!t->removing && session_find(t->s, t->info_hash) == t)
        session_touch(t->s, t);
}
