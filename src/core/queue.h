/* queue — qBittorrent's torrent queue: the order of s->torrents is the
 * queue order; with queueing enabled only the first max_active_downloads
 * unfinished and max_active_uploads finished torrents (max_active_torrents
 * in all) run, the others wait queued (TORRENT_STATE_QUEUED_DL/UP).
 * Stopped and forced torrents do not take part.
 *
 * dont_count_slow_torrents (libtorrent's setting of that name): a running
 * torrent whose download rate stayed under slow_torrent_dl_rate_threshold
 * and upload rate under slow_torrent_ul_rate_threshold (KiB/s) for
 * slow_torrent_inactive_timer seconds is inactive and does not count
 * against the limits, so the next queued torrent starts; once it moves
 * data again it counts (and the last in the queue waits again).
 */
#ifndef TD_CORE_QUEUE_H
#define TD_CORE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct session;
struct torrent;

/* The session's queue state (session.queue); only queue.c writes it, and
 * t->queue_pos of every torrent (restored from the settings at load). */
struct queue {
    bool was_enabled;            /* run the queue once more after it is switched off */
};

enum queue_move { QUEUE_UP, QUEUE_DOWN, QUEUE_TOP, QUEUE_BOTTOM };

/* Starts and queues torrents so the limits hold.  Cheap enough for every
 * tick: one walk over the torrents, only when queueing is enabled. */
void queue_update(struct session *s);
/* Whether t counts against the active limits now (not an inactive slow
 * torrent under dont_count_slow_torrents); updated by queue_tick. */
bool queue_counts(const struct session *s, const struct torrent *t);

/* The session's tick: queue_update while queueing is enabled, and once more
 * after it was switched off (that run lets every held-back torrent go). */
void queue_tick(struct session *s);

/* t was just appended to s->torrents: it is last in the queue. */
void queue_added(struct session *s, struct torrent *t);
/* The torrent at index pos left s->torrents: those after it move up. */
void queue_removed(struct session *s, size_t pos);

/* Moves the given torrents (API order kept among them) and persists the
 * new positions.  Returns -EPERM when queueing is disabled. */
int queue_move(struct session *s, struct torrent **ts, size_t n, enum queue_move how);

/* torrents/add addToTopOfQueue: first in the queue whether or not queueing
 * is enabled (as qBittorrent); positions are persisted with the settings. */
void queue_move_to_top(struct session *s, struct torrent *t);

/* After loading: puts s->torrents in the saved queue order. */
void queue_restore_order(struct session *s);

/* Renumbers t->queue_pos after the array changed. */
void queue_reindex(struct session *s);

#endif
