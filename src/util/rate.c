#include "util/rate.h"

#include <string.h>

void rate_init(struct rate *r)
{
    memset(r, 0, sizeof *r);
}

/* Moves the ring forward to now's second, zeroing the seconds skipped.
 * Bounded: at most RATE_BUCKETS buckets are cleared however long the gap. */
static void rate_roll(struct rate *r, uint64_t now_ms)
{
    uint64_t sec = now_ms / 1000;
    if (!r->started) {
        r->started = 1;
        r->start_ms = now_ms;
        r->cur_sec = sec;
        memset(r->bucket, 0, sizeof r->bucket);
        return;
    }
    if (sec <= r->cur_sec)
        return;   /* same second, or the clock went back: keep counting here */
    uint64_t gap = sec - r->cur_sec;
    if (gap >= RATE_BUCKETS) {
        memset(r->bucket, 0, sizeof r->bucket);
    } else {
        for (uint64_t s = r->cur_sec + 1; s <= sec; s++)
            r->bucket[s % RATE_BUCKETS] = 0;
    }
    r->cur_sec = sec;
}

void rate_add(struct rate *r, uint64_t bytes, uint64_t now_ms)
{
    rate_roll(r, now_ms);
    r->bucket[r->cur_sec % RATE_BUCKETS] += bytes;
    r->total += bytes;
}

uint64_t rate_get(struct rate *r, uint64_t now_ms)
{
    if (!r->started)
        return 0;
    rate_roll(r, now_ms);
    uint64_t sum = 0;
    for (int i = 0; i < RATE_BUCKETS; i++)
        sum += r->bucket[i];
    /* The ring covers RATE_WINDOW whole seconds plus the current partial one. */
    uint64_t span_ms = RATE_WINDOW * 1000 + (now_ms % 1000);
    uint64_t age_ms = now_ms > r->start_ms ? now_ms - r->start_ms : 0;
    if (age_ms < span_ms)
        span_ms = age_ms;
    if (span_ms < 1000)
        span_ms = 1000;   /* a young rate must not spike to bytes*1000/1ms */
    return sum * 1000 / span_ms;
}

void ratelimit_init(struct ratelimit *rl)
{
    memset(rl, 0, sizeof *rl);
}

void ratelimit_set(struct ratelimit *rl, uint64_t bytes_per_sec)
{
    rl->bytes_per_sec = bytes_per_sec;
    if (rl->tokens > bytes_per_sec)
        rl->tokens = bytes_per_sec;
}

uint64_t ratelimit_take(struct ratelimit *rl, uint64_t want, uint64_t now_ms)
{
    if (rl->bytes_per_sec == 0)
        return want;
    if (!rl->started) {
        rl->started = 1;
        rl->last_ms = now_ms;
        rl->tokens = rl->bytes_per_sec;   /* start with one second's worth */
    } else if (now_ms > rl->last_ms) {
        uint64_t dt = now_ms - rl->last_ms;
        if (dt > 1000)
            dt = 1000;   /* burst cap; also keeps the product from overflowing */
        /* Split so a huge limit cannot overflow the product. */
        uint64_t add = rl->bytes_per_sec / 1000 * dt + rl->bytes_per_sec % 1000 * dt / 1000;
        if (add > 0) {   /* else leave last_ms so sub-byte refills accumulate */
            rl->tokens += add;
            if (rl->tokens > rl->bytes_per_sec)
                rl->tokens = rl->bytes_per_sec;
            rl->last_ms = now_ms;
        }
    }
    uint64_t give = want < rl->tokens ? want : rl->tokens;
    rl->tokens -= give;
    return give;
}

uint64_t ratelimit_available(struct ratelimit *rl, uint64_t now_ms)
{
    if (rl->bytes_per_sec == 0)
        return UINT64_MAX;
    ratelimit_take(rl, 0, now_ms);   /* refills */
    return rl->tokens;
}

void ratelimit_refund(struct ratelimit *rl, uint64_t bytes)
{
    if (rl->bytes_per_sec == 0)
        return;
    rl->tokens += bytes;
    if (rl->tokens > rl->bytes_per_sec)
        rl->tokens = rl->bytes_per_sec;
}
