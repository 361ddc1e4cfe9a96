/* core/torrent_status — the state enum and the snapshot of derived figures. */
#include "core/torrent_status.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "bt/metainfo.h"
#include "bt/picker.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/torrent.h"

/* rate_get ages the buckets it reads; the status is a read-only view. */
static uint64_t rate_at(const struct rate *r, uint64_t now_ms)
{
    struct rate tmp = *r;
    return rate_get(&tmp, now_ms);
}

/* Precedence: the phases that stop everything (loading, error, moving),
 * then a magnet's metadata, the check, then finished or not with stopped
 * before queued before forced before the rate. */
enum torrent_state torrent_status_state(const struct torrent *t, uint64_t now_ms)
{
    if (t->phase == TP_LOADING)
        return TORRENT_STATE_CHECKING_RESUME;
    if (t->phase == TP_ERROR)
        return t->missing_files ? TORRENT_STATE_MISSING_FILES : TORRENT_STATE_ERROR;
    if (t->phase == TP_MOVING)
        return TORRENT_STATE_MOVING;
    if (!t->mi) {
        if (t->stopped)
            return TORRENT_STATE_STOPPED_DL;
        if (t->queued)
            return TORRENT_STATE_QUEUED_DL;
        return t->forced ? TORRENT_STATE_METADATA_FORCED : TORRENT_STATE_METADATA;
    }
    if (t->phase == TP_CHECKING)
        return t->had_metadata_complete ? TORRENT_STATE_CHECKING_UP : TORRENT_STATE_CHECKING_DL;
    if (torrent_is_finished(t)) {
        if (t->stopped)
            return TORRENT_STATE_STOPPED_UP;
        if (t->queued)
            return TORRENT_STATE_QUEUED_UP;
        if (t->forced)
            return TORRENT_STATE_UPLOADING_FORCED;
        return rate_at(&t->ul_rate, now_ms) > 0 ? TORRENT_STATE_UPLOADING : TORRENT_STATE_STALLED_UP;
    }
    if (t->stopped)
        return TORRENT_STATE_STOPPED_DL;
    if (t->queued)
        return TORRENT_STATE_QUEUED_DL;
    if (t->forced)
        return TORRENT_STATE_DOWNLOADING_FORCED;
    return rate_at(&t->dl_rate, now_ms) > 0 ? TORRENT_STATE_DOWNLOADING : TORRENT_STATE_STALLED_DL;
}

/* Every piece is piece_length long but the last one. */
int64_t torrent_status_total_done(const struct torrent *t)
{
    const struct bt_metainfo *mi = t->mi;
    if (!mi || mi->num_pieces == 0)
        return 0;
    int64_t n = (int64_t)t->have.count * mi->piece_length;
    if (bitfield_get(&t->have, mi->num_pieces - 1))
        n -= mi->piece_length - bt_metainfo_piece_size(mi, mi->num_pieces - 1);
    return n;
}

/* qBittorrent's TorrentImpl::realRatio() (4.5.2 and 5.1.4 alike, but for
 * 4.5.2's cap at 9999, left to the dialect): the bytes we have count as
 * downloaded when the all-time download is under 1 % of them, so a seeder
 * that lost its statistics or was added with its data has a finite ratio. */
double torrent_status_ratio(const struct torrent *t)
{
    int64_t up = t->uploaded;
    int64_t total_done = torrent_status_total_done(t);
    int64_t down = (double)t->downloaded < (double)total_done * 0.01 ? total_done : t->downloaded;
    if (down <= 0)
        return up <= 0 ? 0.0 : INFINITY;
    return (double)up / (double)down;
}

/* qBittorrent's rule (TorrentImpl::effectiveRatioLimit and the like): only
 * -2 means the global setting, any other negative value means no limit.  A
 * global limit switched off is -1. */
void torrent_status_limits(const struct torrent *t, double *ratio, int64_t *seeding_min, int64_t *inactive_min)
{
    const struct settings *p = t->s ? &t->s->settings : NULL;
    double gr = p && settings_bool(p, SET_MAX_RATIO_ENABLED) ? settings_real(p, SET_MAX_RATIO) : -1;
    int64_t gs = p && settings_bool(p, SET_MAX_SEEDING_TIME_ENABLED) ? settings_int(p, SET_MAX_SEEDING_TIME) : -1;
    int64_t gi = p && settings_bool(p, SET_MAX_INACTIVE_SEEDING_TIME_ENABLED)
                     ? settings_int(p, SET_MAX_INACTIVE_SEEDING_TIME) : -1;
    *ratio = t->ratio_limit == -2 ? gr : t->ratio_limit;
    *seeding_min = t->seeding_time_limit == -2 ? gs : t->seeding_time_limit;
    *inactive_min = t->inactive_seeding_time_limit == -2 ? gi : t->inactive_seeding_time_limit;
}

static double progress(const struct torrent *t)
{
    if (!t->mi)
        return 0;
    if (t->phase == TP_CHECKING)
        return t->mi->num_pieces ? (double)t->check_progress / t->mi->num_pieces : 0;
    if (t->wanted_size <= 0)
        return 1.0;
    return (double)t->wanted_done / (double)t->wanted_size;
}

void torrent_status_get(const struct torrent *t, uint64_t now_ms, int64_t now_s, struct torrent_status *st)
{
    const struct bt_metainfo *mi = t->mi;
    memset(st, 0, sizeof(*st));
    st->state = torrent_status_state(t, now_ms);
    st->has_metadata = mi != NULL;
    st->finished = torrent_is_finished(t);
    st->progress = progress(t);
    st->ratio = torrent_status_ratio(t);

    st->total_size = mi ? mi->total_size : 0;
    st->wanted_size = t->wanted_size;
    st->wanted_done = t->wanted_done;
    st->amount_left = t->wanted_size > t->wanted_done ? t->wanted_size - t->wanted_done : 0;
    st->total_done = torrent_status_total_done(t);

    /* A stopped torrent's rates still decay from its last second running:
     * show 0 as qBittorrent does. */
    st->dl_rate = t->stopped ? 0 : rate_at(&t->dl_rate, now_ms);
    st->up_rate = t->stopped ? 0 : rate_at(&t->ul_rate, now_ms);
    st->downloaded = t->downloaded;
    st->uploaded = t->uploaded;
    st->downloaded_session = t->dl_session;
    st->uploaded_session = t->ul_session;
    st->wasted = t->wasted;

    st->eta_infinite = true;
    if (!t->stopped && !t->queued && !st->finished && t->phase == TP_READY && st->dl_rate > 0) {
        st->eta = st->amount_left / (int64_t)st->dl_rate;
        st->eta_infinite = false;
    }

    /* libtorrent frees a seed's piece picker: no distributed copies then */
    bool seed = mi && t->have.count >= mi->num_pieces;
    st->availability = mi && t->picker && !seed ? bt_picker_distributed_copies(t->picker) : -1;

    uint32_t np = mi ? mi->num_pieces : 0;
    for (const struct peer *p = t->peers; p; p = p->next) {
        if (p->state != PEER_ACTIVE)
            continue;
        if (p->have_all || (np && p->have.bits && p->have.count == np))
            st->seeds_connected++;
        else
            st->leechers_connected++;
    }
    st->seeds_swarm = t->num_complete >= 0 ? t->num_complete : st->seeds_connected;
    st->leechers_swarm = t->num_incomplete >= 0 ? t->num_incomplete : st->leechers_connected;

    torrent_status_limits(t, &st->ratio_limit, &st->seeding_time_limit, &st->inactive_seeding_time_limit);

    st->added_on = t->added_on;
    st->completion_on = t->completion_on;
    st->last_activity = t->last_activity;
    /* libtorrent's last_seen_complete: we are a complete copy ourselves */
    st->seen_complete = st->finished ? now_s : t->seen_complete;
    st->active_time = t->active_time;
    st->seeding_time = t->seeding_time;
}

void torrent_status_now(const struct torrent *t, struct torrent_status *st)
{
    torrent_status_get(t, t->s ? t->s->now_ms : 0, (int64_t)time(NULL), st);
}
