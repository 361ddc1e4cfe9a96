/* rate — transfer rate estimation and token-bucket limiting.
 *
 * struct rate keeps RATE_BUCKETS one-second buckets in a ring; the rate is
 * the sum of the last RATE_WINDOW full seconds plus the current partial one,
 * divided by the time they cover.  Idle time rolls buckets to zero, so the
 * rate decays to 0 within ~RATE_WINDOW s without any timer: cost is paid on
 * add/get only.  Fixed size, no allocation, one per peer and per torrent.
 *
 * struct ratelimit is a token bucket refilled at `bytes_per_sec` with at most
 * one second of burst, for global and per-torrent limits.  Time is the
 * caller's monotonic milliseconds (uv_now()), which keeps both testable.
 */
#ifndef TD_UTIL_RATE_H
#define TD_UTIL_RATE_H

#include <stdint.h>

#define RATE_WINDOW 5          /* seconds averaged */
#define RATE_BUCKETS (RATE_WINDOW + 1)

struct rate {
    uint64_t bucket[RATE_BUCKETS];
    uint64_t cur_sec;          /* second that bucket[cur_sec % RATE_BUCKETS] holds */
    uint64_t start_ms;         /* first sample; shortens the divisor while young */
    uint64_t total;            /* bytes ever added (session totals) */
    int started;
};

void rate_init(struct rate *r);
void rate_add(struct rate *r, uint64_t bytes, uint64_t now_ms);
/* Bytes per second over the window. */
uint64_t rate_get(struct rate *r, uint64_t now_ms);

struct ratelimit {
    uint64_t bytes_per_sec;    /* 0 = unlimited */
    uint64_t tokens;
    uint64_t last_ms;
    int started;
};

void ratelimit_init(struct ratelimit *rl);
/* Changing the limit keeps at most one second of tokens at the new rate. */
void ratelimit_set(struct ratelimit *rl, uint64_t bytes_per_sec);
/* Returns how many of `want` bytes may be sent now (0..want) and takes them
 * from the bucket.  Unlimited returns want. */
uint64_t ratelimit_take(struct ratelimit *rl, uint64_t want, uint64_t now_ms);
/* The tokens in the bucket now (refilled to now_ms, nothing taken);
 * UINT64_MAX when unlimited. */
uint64_t ratelimit_available(struct ratelimit *rl, uint64_t now_ms);
/* Gives back tokens taken but not used (e.g. a short write); capped at the burst. */
void ratelimit_refund(struct ratelimit *rl, uint64_t bytes);

#endif
