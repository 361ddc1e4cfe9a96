/* torrent — pieces: blocks assembled into piece buffers, pieces hashed and
 * written, smart-ban blame for failed pieces, finishing, and the read cache
 * that serves uploads.
 */
#include "core/torrent.h"
#include "core/torrent_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/metainfo.h"
#include "bt/picker.h"
#include "bt/tracker/tracker.h"
#include "core/banlist.h"
#include "core/notify.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/stream.h"
#include "core/webseed.h"
#include "disk/storage.h"
#include "util/log.h"

static bool piece_wanted(const struct torrent *t, uint32_t piece)
{
    assert(t->mi && piece < t->mi->num_pieces);
    return bitfield_get(&t->wanted, piece);
}

/* Smart-ban compares blocks as the wire carries them. */
_Static_assert(STORAGE_HASH_BLOCK == BT_PICKER_BLOCK, "storage hashes wire blocks");

static uint32_t piece_blocks(const struct torrent *t, uint32_t piece)
{
    return (uint32_t)((torrent_piece_size(t, piece) + BT_PICKER_BLOCK - 1) / BT_PICKER_BLOCK);
}

void torrent_free_partial(struct piece_buf *pb)
{
    free(pb->data);
    free(pb->senders);
    free(pb);
}

void torrent_apply_sequential(struct torrent *t)
{
    int64_t mb = settings_int(&t->s->settings, SET_UT_PROGRESSIVE_PIECE_SPAN);   /* -1..1024 */
    bt_picker_set_sequential(t->picker, t->sequential && mb >= 0);
    int64_t pieces = (mb > 0 ? mb : 80) * (1 << 20) / t->mi->piece_length;
    bt_picker_set_sequential_span(t->picker, pieces < 1 ? 1 : pieces > UINT32_MAX ? UINT32_MAX : (uint32_t)pieces);
}

void torrent_reset_pieces(struct torrent *t)
{
    bt_picker_free(t->picker);
    t->picker = bt_picker_new(t->mi->num_pieces, t->mi->piece_length, t->mi->total_size);
    torrent_apply_sequential(t);
    for (uint32_t i = 0; i < t->mi->num_pieces; i++)
        bitfield_clear(&t->have, i);
    memset(t->synced_bits, 0, bitfield_bytes(&t->have));
    for (size_t i = 0; i < t->num_partials; i++)
        torrent_free_partial(t->partials[i]);
    t->num_partials = 0;
    torrent_apply_file_priorities(t);
    stream_picker_reset(t);
}

/* Pieces waiting for hashing and writing hold their whole buffer; past this
 * the network is faster than the disk and asking for more only costs memory. */
#define TORRENT_MAX_WRITE_BACKLOG (64ll << 20)

bool torrent_write_backlog_full(const struct torrent *t)
{
    return (int64_t)t->writes_in_flight * t->mi->piece_length > TORRENT_MAX_WRITE_BACKLOG;
}

/* ---- blocks and pieces ---- */

static struct piece_buf *find_partial(struct torrent *t, uint32_t piece, size_t *idx)
{
    for (size_t i = 0; i < t->num_partials; i++) {
        if (t->partials[i]->piece == piece) {
            if (idx)
                *idx = i;
            return t->partials[i];
        }
    }
    return NULL;
}

static struct piece_buf *new_partial(struct torrent *t, uint32_t piece)
{
    assert(piece < t->mi->num_pieces);   /* blocks are matched to our requests first */
    if (t->num_partials == t->cap_partials) {
        size_t cap = t->cap_partials ? t->cap_partials * 2 : 16;
        struct piece_buf **n = realloc(t->partials, cap * sizeof *n);
        if (!n)
            return NULL;
        t->partials = n;
        t->cap_partials = cap;
    }
    struct piece_buf *pb = calloc(1, sizeof *pb);
    if (!pb)
        return NULL;
    pb->piece = piece;
    pb->data = malloc((size_t)torrent_piece_size(t, piece));
    pb->senders = calloc(piece_blocks(t, piece), sizeof *pb->senders);
    if (!pb->data || !pb->senders) {
        torrent_free_partial(pb);
        return NULL;
    }
    t->partials[t->num_partials++] = pb;
    return pb;
}

struct write_ctx {
    struct torrent *t;
    uint32_t piece;
    uint32_t nblocks;
    struct smartban_ip *senders;   /* from the piece_buf */
    uint8_t (*sha1)[20];           /* block hashes, filled by storage */
    bool verify;                   /* the piece failed before: sha1 is filled when it passes */
};

static void on_finished_moved(void *ud, int rc)
{
    struct torrent *t = ud;
    (void)rc;   /* logged by the move; the torrent finished either way */
    if (!t->removing && !t->closing && session_find(t->s, t->info_hash) == t)
        notify_torrent_finished(t);
}

void torrent_on_finished(struct torrent *t)
{
    if (t->downloaded_since_check && settings_bool(&t->s->settings, SET_RECHECK_COMPLETED_TORRENTS)) {
        /* qBittorrent's "Recheck torrents on completion": the finish (its
         * announce, the move out of the incomplete folder, programs and
         * mails) waits for a check of everything that was downloaded. */
        log_msg(LOG_INFO, "'%s': download finished, rechecking it before it counts as finished",
                torrent_name(t));
        t->finish_after_check = true;
        torrent_recheck(t);
        return;
    }
    t->completion_on = now_s();
    t->had_metadata_complete = true;
    log_msg(LOG_INFO, "'%s': download finished", torrent_name(t));
    tracker_set_completed(t->trk);
    struct peer *next;
    for (struct peer *p = t->peers; p; p = next) {
        next = p->next;
        if (p->state != PEER_ACTIVE)
            continue;
        peer_set_interested(p, false);
        /* Two seeds have nothing to say to each other. */
        if (p->have_all || (p->have.bits && p->have.count == t->mi->num_pieces))
            peer_close(p, "both seeding");
    }
    torrent_save_resume(t);
    t->next_choke_ms = 0;
    /* Complete: from the incomplete folder to the save path.  qBittorrent
     * announces "finished" (programs, export, e-mail) once the data is where
     * it stays. */
    if (t->data_in_download && t->st && strcmp(storage_save_path(t->st), t->save_path) != 0 &&
        torrent_move_data(t, t->save_path, MOVE_TO_SAVE, on_finished_moved, t) == 0)
        return;
    notify_torrent_finished(t);
}

static void ban_senders(struct torrent *t, const struct smartban_ip *ban, int n)
{
    for (int i = 0; i < n; i++) {
        char ip[64];
        smartban_ip_str(&ban[i], ip, sizeof ip);
        if (banlist_is_banned(t->s, ip))
            continue;   /* named again by another of the pieces it spoiled */
        log_msg(LOG_WARNING, "'%s': %s sent corrupt data", torrent_name(t), ip);
        banlist_ban_peer(t->s, ip, "sent corrupt data (smart ban)");
    }
}

/* A failed piece: remember who sent which block, ban who is already known
 * guilty (core/smartban.h). */
static void blame_failed(struct torrent *t, struct write_ctx *w)
{
    if (!t->smartban && !(t->smartban = smartban_new()))
        return;
    struct smartban_ip ban[8];
    int n = smartban_piece_failed(t->smartban, w->piece, w->nblocks, w->senders,
                                  (const uint8_t(*)[20])w->sha1, ban, 8);
    ban_senders(t, ban, n);
}

/* A piece that failed before has passed: whoever sent a block that differs
 * from the good one lied. */
static void blame_passed(struct torrent *t, struct write_ctx *w)
{
    struct smartban_ip ban[8];
    int n = smartban_piece_passed(t->smartban, w->piece, w->nblocks, (const uint8_t(*)[20])w->sha1, ban, 8);
    ban_senders(t, ban, n);
}

static void write_ctx_free(struct write_ctx *w)
{
    free(w->senders);
    free(w->sha1);
    free(w);
}

/* A piece written while the torrent closes for shutdown is kept when it
 * verified and does not finish the torrent: finishing runs work (moving out
 * of the incomplete folder, notifications) that has no place in a shutdown,
 * so that last piece is simply fetched again after the restart. */
static bool piece_worth_keeping(const struct torrent *t, uint32_t piece, int rc)
{
    if (rc != 0 || bitfield_get(&t->have, piece))
        return false;
    int64_t done = t->wanted_done + (piece_wanted(t, piece) ? torrent_piece_size(t, piece) : 0);
    return done < t->wanted_size;
}

static void on_piece_written(void *ud, uint32_t piece, int rc)
{
    struct write_ctx *w = ud;
    struct torrent *t = w->t;
    t->writes_in_flight--;
    if (t->fill_deferred && !t->removing && !torrent_write_backlog_full(t)) {
        t->fill_deferred = false;
        for (struct peer *p = t->peers; p; p = p->next)
            torrent_fill_requests(t, p);
    }
    if (t->removing && (!t->closing || !piece_worth_keeping(t, piece, rc))) {
        write_ctx_free(w);
        torrent_maybe_finish_removal(t);
        return;
    }
    if (t->closing) {
        /* Shutdown: the piece is on disk and verified, so the final save
         * (which waits for this write) includes it. */
        bitfield_set(&t->have, piece);
        bt_picker_piece_passed(t->picker, piece);
        if (piece_wanted(t, piece))
            t->wanted_done += torrent_piece_size(t, piece);
        t->resume_dirty = true;
        write_ctx_free(w);
        torrent_maybe_finish_removal(t);
        return;
    }
    if (rc == 0 && t->phase == TP_ERROR) {
        /* The write returned after the torrent failed I/O (on a file system
         * being shut down, a write that got past its checks lands in a page
         * cache that never reaches the disk): not known to be on disk, so
         * not had.  Fetched again once the torrent is started. */
        bt_picker_piece_failed(t->picker, piece);
    } else if (rc == 0) {
        if (w->verify)
            blame_passed(t, w);
        if (!bitfield_get(&t->have, piece)) {
            bt_picker_piece_passed(t->picker, piece);
            bitfield_set(&t->have, piece);
            t->downloaded_since_check = true;
            if (piece_wanted(t, piece))
                t->wanted_done += torrent_piece_size(t, piece);
            t->resume_dirty = true;
            stream_piece_had(t, piece);
            for (struct peer *p = t->peers; p; p = p->next) {
                peer_send_have(p, piece);
                peer_flush(p);
            }
            if (t->wanted_done >= t->wanted_size)
                torrent_on_finished(t);
        }
    } else if (rc == -EILSEQ) {
        int64_t sz = torrent_piece_size(t, piece);
        bt_picker_piece_failed(t->picker, piece);
        t->wasted += sz;
        t->s->wasted_session += sz;
        t->s->hash_failures++;
        log_msg(LOG_WARNING, "'%s': piece %u failed the hash check", torrent_name(t), piece);
        blame_failed(t, w);
        for (struct peer *p = t->peers; p; p = p->next)
            torrent_fill_requests(t, p);
    } else if (rc == -ENOENT) {
        /* Only unwanted, never-created files: the priority changed while the
         * piece was in flight.  Not an error, just not had. */
        bt_picker_piece_failed(t->picker, piece);
    } else {
        bt_picker_piece_failed(t->picker, piece);
        log_debug("%s: cannot write piece %u: %s", t->hex, piece, strerror(-rc));
        torrent_fail_io(t, rc, TORRENT_IO_WRITE);
    }
    write_ctx_free(w);
}

/* After an I/O error, the pieces verified and written since the last sync
 * that succeeded are not known to be on disk (a dying disk, a file system
 * shut down: the page cache that held them is gone), so they are had no
 * more and will be fetched again: progress never claims bytes that a
 * remount or a restart would not find.  Peers are already closed
 * (deactivated), so no `have` needs taking back. */
static void demote_unsynced(struct torrent *t)
{
    if (!t->mi || !t->synced_bits || !t->picker)
        return;
    uint32_t lost = 0;
    for (uint32_t i = 0; i < t->mi->num_pieces; i++) {
        if (!bitfield_get(&t->have, i) || (t->synced_bits[i >> 3] & (0x80 >> (i & 7))))
            continue;
        bitfield_clear(&t->have, i);
        bt_picker_piece_failed(t->picker, i);
        if (piece_wanted(t, i))
            t->wanted_done -= torrent_piece_size(t, i);
        lost++;
    }
    /* Nothing unsynced is claimed any more: the files the failed disk holds
     * are not due for a sync (now, and again when the torrent is started:
     * syncs running now put back what they could not sync). */
    if (t->st)
        storage_forget_unsynced(t->st);
    t->forget_unsynced_at_start = true;
    if (lost) {
        t->resume_dirty = true;
        log_msg(LOG_WARNING, "'%s': %u pieces written since the last sync may not be on disk: they will be downloaded again",
                torrent_name(t), lost);
    }
}

void torrent_fail_io(struct torrent *t, int rc, enum torrent_io op)
{
    if (t->phase == TP_ERROR)
        return;   /* the jobs that were in flight fail too: one report */
    /* qBittorrent's log line for libtorrent's file_error_alert, whose
     * message names the torrent, the operation, the file and the error. */
    const char *rel = t->st ? storage_error_file(t->st) : NULL;
    const char *root = t->st ? storage_save_path(t->st) : "";
    const char *opname = op == TORRENT_IO_READ ? "file_read" : "file_write";
    log_msg(LOG_WARNING, "File error alert. Torrent: \"%s\". File: \"%s%s%s\". Reason: \"%s %s (%s%s%s) error: %s\"",
            torrent_name(t), rel ? root : "", rel ? "/" : "", rel ? rel : "", torrent_name(t), opname,
            rel ? root : "", rel ? "/" : "", rel ? rel : "", strerror(-rc));
    torrent_clear_error(t);
    t->error = strdup(strerror(-rc));
    t->phase = TP_ERROR;
    torrent_deactivate(t, true);
    /* A full disk refused the next write but kept the ones it took (they
     * had their blocks reserved); any other error may have lost them. */
    if (rc != -ENOSPC && rc != -EDQUOT)
        demote_unsynced(t);
    torrent_touch(t);
}

void torrent_note_synced(struct torrent *t, const uint8_t *have_bits)
{
    if (t->synced_bits)
        memcpy(t->synced_bits, have_bits, bitfield_bytes(&t->have));
}

void torrent_files_missing(struct torrent *t)
{
    if (t->phase == TP_ERROR)
        return;
    log_msg(LOG_CRITICAL, "File size mismatch for torrent '%s'. It's paused.", torrent_name(t));
    free(t->error);
    t->error = strdup(strerror(ENOENT));
    t->phase = TP_ERROR;
    t->missing_files = true;
    torrent_deactivate(t, true);
    torrent_touch(t);
}

void torrent_on_block(struct torrent *t, struct peer *p, uint32_t piece, uint32_t begin,
                      const uint8_t *data, uint32_t len)
{
    torrent_on_block_from(t, p, p, piece, begin, data, len);
}

/* µTorrent Server's write_coalesce_max_size (MB, at most 32): how much of a
 * verified piece one pwrite() takes; 0 = µTorrent's default, 2 MB; -1 = no
 * write caching: each 16 KiB block on its own (storage_set_write_chunk). */
static size_t write_chunk(struct session *s)
{
    int64_t mb = settings_int(&s->settings, SET_UT_WRITE_COALESCE_MAX_SIZE);
    return mb < 0 ? STORAGE_HASH_BLOCK : (size_t)(mb ? mb : 2) << 20;
}

void torrent_on_block_from(struct torrent *t, struct peer *p, void *tag, uint32_t piece, uint32_t begin,
                           const uint8_t *data, uint32_t len)
{
    uint64_t now = t->s->now_ms;
    if (bitfield_get(&t->have, piece)) {
        t->wasted += len;
        t->s->wasted_session += len;
        return;
    }
    /* End-game: the same block may be on its way from others; cancel them. */
    void *others[16];
    int no = bt_picker_block_requesters(t->picker, piece, begin, others, 16);
    for (int i = 0; i < no; i++) {
        struct peer *q = others[i];
        if ((void *)q != tag && !webseed_is_tag(t, q) && q->state == PEER_ACTIVE) {
            peer_send_cancel(q, piece, begin, len);
            peer_flush(q);
        }
    }
    size_t idx = 0;
    struct piece_buf *pb = find_partial(t, piece, &idx);
    if (!pb)
        pb = new_partial(t, piece);
    if (!pb) {
        bt_picker_block_cancel(t->picker, piece, begin, tag);
        return;
    }
    int rc = bt_picker_block_received(t->picker, piece, begin, tag);
    if (rc < 0) {
        t->wasted += len;
        t->s->wasted_session += len;
        return;
    }
    memcpy(pb->data + begin, data, len);
    /* Web seeds (p NULL) stay nobody's: smart-ban blames addresses. */
    if (p)
        pb->senders[begin / BT_PICKER_BLOCK] = smartban_ip_of((const struct sockaddr *)&p->addr);
    else
        memset(&pb->senders[begin / BT_PICKER_BLOCK], 0, sizeof pb->senders[0]);

    t->downloaded += len;
    t->dl_session += len;
    t->s->dl_session += len;
    if (p && xferhist_addr_is_local((const struct sockaddr *)&p->addr))
        t->s->dl_local_session += len;
    rate_add(&t->dl_rate, len, now);
    rate_add(&t->s->dl_rate, len, now);
    t->last_activity = now_s();
    t->resume_dirty = true;

    if (rc == 1) {
        find_partial(t, piece, &idx);
        t->partials[idx] = t->partials[--t->num_partials];
        struct write_ctx *w = calloc(1, sizeof *w);
        uint32_t nblocks = piece_blocks(t, piece);
        uint8_t(*sha1)[20] = w ? malloc(nblocks * sizeof *sha1) : NULL;
        if (!sha1) {
            bt_picker_piece_failed(t->picker, piece);
            free(w);
            torrent_free_partial(pb);
            return;
        }
        w->t = t;
        w->piece = piece;
        w->nblocks = nblocks;
        w->senders = pb->senders;
        w->sha1 = sha1;
        w->verify = smartban_tracked(t->smartban, piece);
        t->writes_in_flight++;
        storage_set_write_chunk(t->st, write_chunk(t->s));
        storage_set_minimize_kernel_caching(t->st, settings_bool(&t->s->settings, SET_UT_MINIMIZE_KERNEL_CACHING));
        if (storage_write_piece_hashed(t->st, piece, pb->data, w->sha1, w->verify, on_piece_written, w) != 0) {
            t->writes_in_flight--;
            bt_picker_piece_failed(t->picker, piece);
            write_ctx_free(w);
        }
        free(pb);
    }
}

/* ---- read cache for uploads ---- */

#define READ_CACHE_IDLE_MS 10000

struct cache_load {
    struct torrent *t;
    int slot;
    uint32_t epoch;   /* t->active_epoch when the load started */
};

static void wake_uploaders(struct torrent *t)
{
    for (struct peer *p = t->peers; p; p = p->next)
        if (p->state == PEER_ACTIVE && p->up_count > 0)
            peer_resume_uploads(p);
}

static void slot_clear(struct torrent *t, struct cached_piece *c)
{
    t->s->tune.rcache_bytes -= c->len;
    free(c->data);
    c->data = NULL;
    c->len = 0;
    c->loading = false;
    c->piece = UINT32_MAX;
}

static void on_piece_loaded(void *ud, int rc, uint8_t *data, uint32_t len)
{
    struct cache_load *l = ud;
    struct torrent *t = l->t;
    struct cached_piece *c = &t->rcache[l->slot];
    bool stale = l->epoch != t->active_epoch;
    free(l);
    t->reads_in_flight--;
    c->loading = false;
    if (t->removing) {
        free(data);
        slot_clear(t, c);
        torrent_maybe_finish_removal(t);
        return;
    }
    if (rc != 0 && stale) {
        /* Started before the torrent was last stopped or errored: the peers
         * it was for are gone, and the torrent as it runs now (files
         * reopened, a disk perhaps mounted again) has not failed. */
        log_debug("%s: piece %u read from before the last stop failed: %s", t->hex, c->piece,
                  strerror(-rc));
        free(data);
        slot_clear(t, c);
    } else if (rc != 0) {
        log_msg(LOG_WARNING, "'%s': cannot read piece %u for uploading: %s", torrent_name(t), c->piece,
                strerror(-rc));
        free(data);
        /* As libtorrent: a file that cannot be read stops the torrent (its
         * peers are closed); a file that is gone is qBittorrent's
         * missingFiles, any other error its error state. */
        if (rc == -ENOENT)
            torrent_files_missing(t);
        else if (rc != -ENOMEM)
            torrent_fail_io(t, rc, TORRENT_IO_READ);
        /* Requests for it are dropped rather than waiting forever. */
        for (struct peer *p = t->peers; p; p = p->next)
            for (int i = 0; i < p->up_count; i++) {
                struct peer_upreq *q = &p->upreqs[(p->up_head + i) % PEER_MAX_UPREQS];
                if (q->piece == c->piece)
                    q->length = 0;
            }
        slot_clear(t, c);
    } else {
        c->data = data;
        c->used_ms = t->s->now_ms;
    }
    (void)len;   /* the size asked for, already in c->len */
    wake_uploaders(t);
}

static unsigned slots_allowed(const struct torrent *t)
{
    unsigned n = t->s->tune.rcache_slots;
    return n == 0 ? TUNING_RCACHE_SLOTS_AUTO : n > TUNING_RCACHE_SLOTS_MAX ? TUNING_RCACHE_SLOTS_MAX : n;
}

const uint8_t *torrent_cached_piece(struct torrent *t, uint32_t piece)
{
    assert(piece < t->mi->num_pieces);   /* peer.c queues only requests for pieces we have */
    struct tuning *e = &t->s->tune;
    if (!t->rcache) {
        if (!(t->rcache = calloc(TUNING_RCACHE_SLOTS_MAX, sizeof *t->rcache)))
            return NULL;
        for (int i = 0; i < TUNING_RCACHE_SLOTS_MAX; i++)
            t->rcache[i].piece = UINT32_MAX;
    }
    unsigned slots = slots_allowed(t), held = 0;
    int free_slot = -1, lru = -1;
    for (int i = 0; i < TUNING_RCACHE_SLOTS_MAX; i++) {
        struct cached_piece *c = &t->rcache[i];
        if ((c->data || c->loading) && c->piece == piece) {
            if (!c->data)
                return NULL;
            c->used_ms = t->s->now_ms;
            e->rcache_hits++;
            return c->data;
        }
        if (c->data || c->loading) {
            held++;
            if (c->data && (lru < 0 || c->used_ms < t->rcache[lru].used_ms))
                lru = i;
        } else if (free_slot < 0 && (unsigned)i < slots) {
            free_slot = i;
        }
    }
    uint32_t len = (uint32_t)torrent_piece_size(t, piece);
    e->rcache_misses++;
    /* Over the budget, a torrent reuses its own least recently used piece;
     * one that holds nothing may always load one. */
    bool over = e->rcache_budget && e->rcache_bytes + len > e->rcache_budget;
    int victim = free_slot >= 0 && (held == 0 || !over) ? free_slot : lru;
    if (victim < 0 || t->removing)
        return NULL;   /* every slot it may use is loading: wait for one */
    struct cached_piece *c = &t->rcache[victim];
    slot_clear(t, c);
    c->piece = piece;
    c->len = len;
    c->loading = true;
    e->rcache_bytes += len;
    struct cache_load *l = malloc(sizeof *l);
    if (!l) {
        slot_clear(t, c);
        return NULL;
    }
    *l = (struct cache_load){t, victim, t->active_epoch};
    t->reads_in_flight++;
    if (storage_read(t->st, piece, 0, len, on_piece_loaded, l) != 0) {
        t->reads_in_flight--;
        slot_clear(t, c);
        free(l);
    }
    return NULL;
}

/* Pieces nobody asked for lately give their memory back, and so do pieces
 * over a budget or a slot count that shrank. */
void torrent_trim_read_cache(struct torrent *t, uint64_t now)
{
    if (!t->rcache)
        return;
    struct tuning *e = &t->s->tune;
    unsigned slots = slots_allowed(t);
    for (int i = 0; i < TUNING_RCACHE_SLOTS_MAX; i++) {
        struct cached_piece *c = &t->rcache[i];
        if (c->data && (now - c->used_ms > READ_CACHE_IDLE_MS || (unsigned)i >= slots))
            slot_clear(t, c);
    }
    while (e->rcache_budget && e->rcache_bytes > e->rcache_budget) {
        int lru = -1;
        for (int i = 0; i < TUNING_RCACHE_SLOTS_MAX; i++)
            if (t->rcache[i].data && (lru < 0 || t->rcache[i].used_ms < t->rcache[lru].used_ms))
                lru = i;
        if (lru < 0)
            break;
        slot_clear(t, &t->rcache[lru]);
    }
}

void torrent_drop_read_cache(struct torrent *t)
{
    for (int i = 0; t->rcache && i < TUNING_RCACHE_SLOTS_MAX; i++)
        if (t->rcache[i].data)
            slot_clear(t, &t->rcache[i]);
}
