/* xferhist — the daily transfer history µTorrent keeps (getxferhist,
 * resetxferhist): payload downloaded and uploaded per local calendar day,
 * and the part of it exchanged with peers on the local network, for the
 * last XFERHIST_DAYS days.
 *
 * Shape, as µTorrent has it: four arrays of 31 day totals, index 0 = today
 * (µTorrent's settings.dat keeps daily_download_hist etc. as 31 64-bit
 * counters, today first; the official WebUI sums history["daily_download"]
 * [0..period) and utorrentctl takes len(daily_download) as the period).
 *
 * Days are local days (localtime_r: the TZ the daemon runs in, DST
 * included).  When the clock passes midnight the arrays shift by the days
 * that went by (a daemon stopped for a week comes back with a week of
 * zeros); a clock set back never shifts them back: the bytes go to the
 * current slot 0.  "Local" peers are those on loopback, private (RFC 1918,
 * RFC 4193) and link-local addresses.
 *
 * Persisted in the store's kv row "stats"/"xferhist" (store/record.h
 * record_xferhist), written with the all-time totals (every 15 s when it
 * changed) and at shutdown, so a kill -9 loses at most that interval; a
 * reset is committed before it is answered.
 *
 * The struct functions are pure (the clock is a parameter: unit tests move
 * it); the xferhist_* functions taking a session sample its counters.
 * Loop thread only.
 */
#ifndef TD_CORE_XFERHIST_H
#define TD_CORE_XFERHIST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct session;

#define XFERHIST_DAYS 31

struct xferhist {
    int64_t day;                  /* local day number of slot 0 (days since 1970-01-01, local) */
    int64_t start;                /* epoch s: when the history began, or was last reset */
    int64_t dl[XFERHIST_DAYS], ul[XFERHIST_DAYS];
    int64_t dl_local[XFERHIST_DAYS], ul_local[XFERHIST_DAYS];
    uint64_t gen;                 /* bumped by every change (the session saves when it moved) */
};

/* The local calendar day of epoch time now, as a day count. */
int64_t xferhist_local_day(int64_t now);

/* Empty, starting at now. */
void xferhist_init(struct xferhist *h, int64_t now);
/* Shifts the days so that slot 0 is now's day. */
void xferhist_roll(struct xferhist *h, int64_t now);
/* Adds bytes to now's day (rolling first); negative amounts are ignored. */
void xferhist_add(struct xferhist *h, int64_t now, int64_t dl, int64_t ul, int64_t dl_local, int64_t ul_local);
/* Everything zero, the history starting again at now. */
void xferhist_reset(struct xferhist *h, int64_t now);

/* A peer address on the local network (see above). */
bool xferhist_addr_is_local(const struct sockaddr *sa);

/* ---- the session's history ---- */

/* Adds what the session's counters moved since the last sample (each
 * tick; also before the history is shown or saved). */
void xferhist_sample(struct session *s);
/* The history as of now (sampled and rolled). */
const struct xferhist *xferhist_get(struct session *s);
/* The stored row's text (startup); a row that cannot be read is logged and
 * the history starts empty. */
void xferhist_load(struct session *s, const char *text);
/* Writes the row if the history changed since the last write (no callback). */
void xferhist_save(struct session *s);
/* resetxferhist: empties it and commits that; done(ud, rc) after the
 * commit.  0, or a negative errno (done not called). */
int xferhist_clear(struct session *s, void (*done)(void *ud, int rc), void *ud);

#endif
