/* web/api/qbt_v2_state — core's torrent states and figures in qBittorrent's
 * words: the state strings of 4.x and 5.x (serialize_torrent.cpp
 * torrentStateToString), the torrents/info filters (TorrentFilter::match),
 * 8640000 for an unknown ETA, the ratio's -1 and the shareLimitAction names.
 *
 * The one place these words live: another dialect (µTorrent status bits,
 * the v1 names, metrics) is another table over the same enum, in its own
 * file.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "web/api/qbt_v2_int.h"

/* Which torrents/info filters a state belongs to. */
enum {
    F_DL = 1 << 0,        /* "downloading": not finished, whatever it is doing */
    F_SEED = 1 << 1,      /* "seeding": finished and not stopped */
    F_DONE = 1 << 2,      /* "completed": finished */
    F_ACTIVE = 1 << 3,    /* "active" (stalledDL too while it uploads) */
    F_CHECKING = 1 << 4,
    F_ERRORED = 1 << 5,
};

static const struct {
    const char *v4, *v5;
    unsigned filters;
} states[TORRENT_STATE_COUNT] = {
    [TORRENT_STATE_ERROR] = {"error", "error", F_ERRORED},
    [TORRENT_STATE_MISSING_FILES] = {"missingFiles", "missingFiles", F_ERRORED},
    [TORRENT_STATE_CHECKING_RESUME] = {"checkingResumeData", "checkingResumeData", F_CHECKING},
    [TORRENT_STATE_MOVING] = {"moving", "moving", F_ACTIVE},
    [TORRENT_STATE_STOPPED_DL] = {"pausedDL", "stoppedDL", F_DL},
    [TORRENT_STATE_QUEUED_DL] = {"queuedDL", "queuedDL", F_DL},
    [TORRENT_STATE_METADATA] = {"metaDL", "metaDL", F_DL | F_ACTIVE},
    [TORRENT_STATE_METADATA_FORCED] = {"forcedMetaDL", "forcedMetaDL", F_DL | F_ACTIVE},
    [TORRENT_STATE_CHECKING_DL] = {"checkingDL", "checkingDL", F_DL | F_CHECKING},
    [TORRENT_STATE_CHECKING_UP] = {"checkingUP", "checkingUP", F_SEED | F_DONE | F_CHECKING},
    [TORRENT_STATE_DOWNLOADING] = {"downloading", "downloading", F_DL | F_ACTIVE},
    [TORRENT_STATE_DOWNLOADING_FORCED] = {"forcedDL", "forcedDL", F_DL | F_ACTIVE},
    [TORRENT_STATE_STALLED_DL] = {"stalledDL", "stalledDL", F_DL},
    [TORRENT_STATE_STOPPED_UP] = {"pausedUP", "stoppedUP", F_DONE},
    [TORRENT_STATE_QUEUED_UP] = {"queuedUP", "queuedUP", F_SEED | F_DONE},
    [TORRENT_STATE_UPLOADING] = {"uploading", "uploading", F_SEED | F_DONE | F_ACTIVE},
    [TORRENT_STATE_UPLOADING_FORCED] = {"forcedUP", "forcedUP", F_SEED | F_DONE | F_ACTIVE},
    [TORRENT_STATE_STALLED_UP] = {"stalledUP", "stalledUP", F_SEED | F_DONE},
};

const char *qbt_v2_state_name(enum torrent_state s, bool v4)
{
    if ((unsigned)s >= TORRENT_STATE_COUNT || !states[s].v5)
        return "unknown";   /* what qBittorrent says for a state it has no name for */
    return v4 ? states[s].v4 : states[s].v5;
}

const char *qbt_v2_state_v4(const char *v5)
{
    for (unsigned i = 0; v5 && i < TORRENT_STATE_COUNT; i++)
        if (states[i].v5 && strcmp(states[i].v5, v5) == 0)
            return states[i].v4;
    return v5;
}

int64_t qbt_v2_eta(const struct torrent_status *st)
{
    return st->eta_infinite || st->eta >= QBT_V2_ETA_INFINITE ? QBT_V2_ETA_INFINITE : st->eta;
}

/* 5.1.4 shows an infinite ratio as -1; the cap is 4.5.2's (realRatio
 * capped at MAX_RATIO), kept as torrentd has always shown it. */
double qbt_v2_ratio_value(double ratio)
{
    if (isinf(ratio))
        return -1.0;
    return ratio > QBT_V2_MAX_RATIO ? QBT_V2_MAX_RATIO : ratio;
}

double qbt_v2_ratio(const struct torrent *t)
{
    return qbt_v2_ratio_value(torrent_status_ratio(t));
}

enum torrent_share_action qbt_v2_share_action_parse(const char *s)
{
    static const struct { const char *name; enum torrent_share_action a; } map[] = {
        {"Stop", TORRENT_SHARE_STOP}, {"Remove", TORRENT_SHARE_REMOVE},
        {"EnableSuperSeeding", TORRENT_SHARE_SUPER_SEED}, {"RemoveWithContent", TORRENT_SHARE_REMOVE_WITH_CONTENT},
    };
    for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(s, map[i].name) == 0)
            return map[i].a;
    return TORRENT_SHARE_DEFAULT;
}

bool qbt_v2_parse_ratio(const char *v, double *out)
{
    /* strtod alone would also take "nan", "inf", hex and leading spaces */
    if (!v || !*v || strspn(v, "0123456789.eE+-") != strlen(v))
        return false;
    char *e;
    errno = 0;
    double x = strtod(v, &e);
    if (e == v || *e || errno || !isfinite(x))
        return false;
    *out = x;
    return true;
}

enum qbt_v2_filter qbt_v2_filter_parse(const char *s)
{
    static const struct { const char *name; enum qbt_v2_filter f; } map[] = {
        {"downloading", QBT_F_DOWNLOADING}, {"seeding", QBT_F_SEEDING},
        {"completed", QBT_F_COMPLETED}, {"stopped", QBT_F_STOPPED}, {"paused", QBT_F_STOPPED},
        {"running", QBT_F_RUNNING}, {"resumed", QBT_F_RUNNING}, {"active", QBT_F_ACTIVE},
        {"inactive", QBT_F_INACTIVE}, {"stalled", QBT_F_STALLED},
        {"stalled_uploading", QBT_F_STALLED_UP}, {"stalled_downloading", QBT_F_STALLED_DL},
        {"checking", QBT_F_CHECKING}, {"moving", QBT_F_MOVING}, {"errored", QBT_F_ERRORED},
    };
    for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(s, map[i].name) == 0)
            return map[i].f;
    return QBT_F_ALL;
}

static unsigned filters_of(enum torrent_state s)
{
    return (unsigned)s < TORRENT_STATE_COUNT ? states[s].filters : 0;
}

static bool is_active(const struct torrent_status *st)
{
    if (st->state == TORRENT_STATE_STALLED_DL)
        return st->up_rate > 0;
    return filters_of(st->state) & F_ACTIVE;
}

bool qbt_v2_filter_match(enum qbt_v2_filter f, const struct torrent *t, const struct torrent_status *st)
{
    enum torrent_state s = st->state;
    switch (f) {
    case QBT_F_ALL: return true;
    case QBT_F_DOWNLOADING: return filters_of(s) & F_DL;
    case QBT_F_SEEDING: return filters_of(s) & F_SEED;
    case QBT_F_COMPLETED: return filters_of(s) & F_DONE;
    case QBT_F_STOPPED: return t->stopped;
    case QBT_F_RUNNING: return !t->stopped;
    case QBT_F_ACTIVE: return is_active(st);
    case QBT_F_INACTIVE: return !is_active(st);
    case QBT_F_STALLED: return s == TORRENT_STATE_STALLED_UP || s == TORRENT_STATE_STALLED_DL;
    case QBT_F_STALLED_UP: return s == TORRENT_STATE_STALLED_UP;
    case QBT_F_STALLED_DL: return s == TORRENT_STATE_STALLED_DL;
    case QBT_F_CHECKING: return filters_of(s) & F_CHECKING;
    case QBT_F_MOVING: return s == TORRENT_STATE_MOVING;
    case QBT_F_ERRORED: return filters_of(s) & F_ERRORED;
    }
    return true;
}
