/* limits — global and per-torrent transfer rate limits.
 *
 * Token buckets (util/rate.h) for the session (normal or alternative
 * limits, from preferences) and for each torrent.  Uploads take tokens
 * before a block is read from disk; downloads are charged after the bytes
 * arrived and a peer whose charge could not be paid stops reading until the
 * bucket refills (TCP flow control then slows the sender).  A 100 ms quota
 * timer wakes throttled peers; it does nothing while nobody is throttled.
 *
 * limit_lan_peers (qBittorrent; µTorrent's rate_limit_local_peers): when
 * false, peers on loopback, private (RFC 1918, fc00::/7) and link-local
 * addresses (xferhist_addr_is_local) skip the global buckets; per-torrent
 * limits still hold them.
 */
#ifndef TD_CORE_LIMITS_H
#define TD_CORE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "util/rate.h"

struct session;
struct torrent;
struct peer;

/* The session's limit state (session.limits).  Only limits.c writes it;
 * others read it through limits_alt() and limits_rate(). */
struct limits {
    struct ratelimit dl, ul;     /* the global buckets: normal or alternative limits */
    bool alt;                    /* alternative limits in effect */
    bool throttled;              /* some peer waits for tokens */
    uint64_t seed_ul;            /* µTorrent's max_ul_rate_seed in B/s (0 = unlimited) */
    uv_timer_t quota_timer;
};

/* A torrent's own buckets (torrent.limits), from its dl_limit/up_limit;
 * seed_ul is µTorrent Server's max_ul_rate_seed, a second per-torrent
 * upload bucket that only a finished (seeding) torrent draws from, so the
 * lower of the two limits wins. */
struct limits_torrent {
    struct ratelimit dl, ul, seed_ul;
};

/* A peer's standing with the buckets (peer.limits); written by limits.c. */
struct limits_peer {
    uint64_t dl_debt;            /* received bytes not paid for yet */
    bool read_paused;            /* download limit: not reading until dl_debt is paid */
    bool up_throttled;           /* upload limit: waiting for tokens */
};

void limits_init(struct session *s);
void limits_close(struct session *s);

/* Re-reads dl_limit/up_limit or alt_dl_limit/alt_up_limit from prefs, and
 * the seeding cap (ut_max_ul_rate_seed, KB/s, -1 or 0 = unlimited). */
void limits_apply(struct session *s);
/* Switches normal/alternative limits and persists the mode (cb after commit). */
int limits_set_alt(struct session *s, bool alt, void (*cb)(void *ud, int rc), void *ud);
/* Sets the global limit of the mode in effect (normal or alternative),
 * B/s, negative = 0 = unlimited, as qBittorrent's setDownloadLimit does;
 * cb after the setting is committed.  0 or a negative errno (cb will not
 * run). */
int limits_set_rate(struct session *s, bool download, int64_t limit, void (*cb)(void *ud, int rc), void *ud);
/* Whether the alternative limits are in effect. */
bool limits_alt(const struct session *s);
/* The global limit in effect, B/s (0 = unlimited). */
uint64_t limits_rate(const struct session *s, bool download);

/* A new torrent's buckets, unlimited until limits_apply_torrent. */
void limits_init_torrent(struct torrent *t);
/* Re-reads the torrent's own dl_limit/up_limit. */
void limits_apply_torrent(struct torrent *t);

/* true: len bytes may be uploaded now (tokens taken). */
bool limits_take_upload(struct peer *p, uint32_t len);
/* How many bytes p may read from its socket now: the tokens of the buckets
 * it pays, at least LIMITS_MIN_READ (a read always makes progress; its
 * debt then pauses the peer), or SIZE_MAX when no download limit applies.
 * Charging after the bytes arrived alone lets one read take everything
 * the pipeline put in the kernel's buffer (half a megabyte and more) and
 * finish a small download well before its limit allows. */
#define LIMITS_MIN_READ (16u * 1024)
size_t limits_read_allowance(struct peer *p);
/* Charges n received bytes; false when the peer must pause reading (it is
 * then marked read_paused, and resumed by the quota timer). */
bool limits_charge_download(struct peer *p, uint64_t n);

#endif
