/* torrent_status — what a torrent is doing, in the engine's own words: one
 * state out of an enum and one snapshot of derived figures.
 *
 * Every API dialect (qBittorrent v2 today; µTorrent, v1 names, metrics
 * later) shows a torrent through this snapshot plus the torrent's plain
 * fields (name, limits, flags, paths), and maps the enum and the figures to
 * its own strings and numbers in its own file: the engine knows no client's
 * vocabulary (no "stalledUP", no 8640000).  One definition per figure lives
 * here, so the share limits and what a user sees cannot disagree.
 *
 * Loop thread only, like the torrent itself.
 */
#ifndef TD_CORE_TORRENT_STATUS_H
#define TD_CORE_TORRENT_STATUS_H

#include <stdbool.h>
#include <stdint.h>

struct torrent;

/* One per torrent at a time (precedence in torrent_status.c).  "Forced"
 * torrents ignore the queue; "stalled" ones run with no payload moving in
 * their direction this moment. */
enum torrent_state {
    TORRENT_STATE_ERROR,              /* disk error: stopped until started again */
    TORRENT_STATE_MISSING_FILES,      /* data it had is gone: stopped until started (looks again) or rechecked */
    TORRENT_STATE_CHECKING_RESUME,    /* loading, resume data not yet validated */
    TORRENT_STATE_MOVING,             /* data being moved to a new save path */
    TORRENT_STATE_STOPPED_DL,         /* stopped, not finished (or without metadata) */
    TORRENT_STATE_QUEUED_DL,          /* held back by the queue, not finished */
    TORRENT_STATE_METADATA,           /* magnet: fetching the info dictionary */
    TORRENT_STATE_METADATA_FORCED,    /* ... forced */
    TORRENT_STATE_CHECKING_DL,        /* hashing data, never finished before */
    TORRENT_STATE_CHECKING_UP,        /* hashing data of a torrent that had finished */
    TORRENT_STATE_DOWNLOADING,        /* receiving payload */
    TORRENT_STATE_DOWNLOADING_FORCED, /* not finished and forced (whether receiving or not) */
    TORRENT_STATE_STALLED_DL,         /* running, not finished, nothing arriving */
    TORRENT_STATE_STOPPED_UP,         /* stopped, finished */
    TORRENT_STATE_QUEUED_UP,          /* held back by the queue, finished */
    TORRENT_STATE_UPLOADING,          /* finished, sending payload */
    TORRENT_STATE_UPLOADING_FORCED,   /* finished and forced (whether sending or not) */
    TORRENT_STATE_STALLED_UP,         /* finished, running, nothing sent */
    TORRENT_STATE_COUNT
};

/* Derived figures at one moment.  Sizes and totals in bytes, rates in B/s,
 * times as epoch seconds (-1 = never) or durations in seconds. */
struct torrent_status {
    enum torrent_state state;
    bool has_metadata;
    bool finished;               /* every wanted piece is here (torrent_is_finished) */

    double progress;             /* 0..1 of the wanted bytes; of the pieces hashed while checking */
    /* All-time upload / download, download being the bytes we have when
     * the all-time download is under 1 % of them (a seeder that lost its
     * statistics, or one added with its data).  0 when nothing moved either
     * way; INFINITY when something was uploaded and nothing downloaded.  Not
     * capped: a dialect caps or encodes as it shows it. */
    double ratio;
    int64_t eta;                 /* seconds to finish at the current rate, when !eta_infinite */
    bool eta_infinite;           /* unknown or never: stopped, queued, finished, not running, no rate */
    double availability;         /* distributed copies among connected peers; -1 unknown (no picker, or we seed) */

    int64_t total_size;          /* every file, 0 without metadata */
    int64_t wanted_size;         /* files with priority > 0 */
    int64_t wanted_done;         /* ... of which we have */
    int64_t amount_left;         /* wanted_size - wanted_done, never negative */
    int64_t total_done;          /* bytes of every piece we have, wanted or not */

    uint64_t dl_rate, up_rate;   /* payload now; 0 while stopped */
    int64_t downloaded, uploaded;            /* all-time payload */
    int64_t downloaded_session, uploaded_session;
    int64_t wasted;

    unsigned seeds_connected;    /* connected peers that have every piece */
    unsigned leechers_connected; /* the other connected peers */
    int64_t seeds_swarm;         /* the trackers' count, or seeds_connected when they gave none */
    int64_t leechers_swarm;      /* the same for peers without every piece */

    /* The share limits in force: the torrent's own, or the global setting
     * where it says "use global" (-2); negative = none.  Minutes for times. */
    double ratio_limit;
    int64_t seeding_time_limit, inactive_seeding_time_limit;

    int64_t added_on, completion_on;
    int64_t last_activity;       /* last payload sent or received; -1 never */
    int64_t seen_complete;       /* last time a complete copy was seen: now while we have one */
    int64_t active_time;         /* seconds running */
    int64_t seeding_time;        /* seconds running while finished */
};

/* The snapshot of t at now_ms (the session's loop clock, for the rates)
 * and now_s (wall clock, for seen_complete). */
void torrent_status_get(const struct torrent *t, uint64_t now_ms, int64_t now_s, struct torrent_status *st);
/* The same at the session's last tick and the wall clock now. */
void torrent_status_now(const struct torrent *t, struct torrent_status *st);

/* The single figures that the engine itself needs every tick, the same
 * definitions the snapshot uses. */
enum torrent_state torrent_status_state(const struct torrent *t, uint64_t now_ms);
double torrent_status_ratio(const struct torrent *t);
/* The share limits in force (as in the snapshot); what the share-limit
 * check compares with. */
void torrent_status_limits(const struct torrent *t, double *ratio, int64_t *seeding_min, int64_t *inactive_min);
/* Bytes of every piece we have (libtorrent's total_done), O(1). */
int64_t torrent_status_total_done(const struct torrent *t);

#endif
