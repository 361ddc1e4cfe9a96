#include "bt/choker.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct rank {
    size_t idx;
    uint64_t k1, k2, k3, k4;   /* ascending sort keys */
};

static int rank_cmp(const void *a, const void *b)
{
    const struct rank *x = a, *y = b;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    if (x->k2 != y->k2)
        return x->k2 < y->k2 ? -1 : 1;
    if (x->k3 != y->k3)
        return x->k3 < y->k3 ? -1 : 1;
    if (x->k4 != y->k4)
        return x->k4 < y->k4 ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void bt_choker_init(struct bt_choker *c)
{
    memset(c, 0, sizeof *c);
}

static uint64_t tiebreak(const struct bt_choker *c, size_t i, size_t n)
{
    return (uint64_t)((i + n - c->rr_cursor % n) % n);
}

/* Leeching: reciprocation first, snubbed peers last, current unchokes win
 * ties (no churn between equal peers). */
static void rank_leech(const struct bt_choker *c, const struct bt_choker_peer *p, size_t i, size_t n,
                       struct rank *r)
{
    r->idx = i;
    r->k1 = p->snubbed;
    r->k2 = UINT64_MAX - p->down_rate;
    r->k3 = p->choked;
    r->k4 = tiebreak(c, i, n);
}

/* Seeding: unchoked peers within their turn by upload rate, then waiting
 * peers longest-waiting first, then peers whose turn is over. */
static void rank_seed(const struct bt_choker *c, const struct bt_choker_peer *p, size_t i, size_t n,
                      uint64_t now_ms, struct rank *r)
{
    r->idx = i;
    r->k4 = tiebreak(c, i, n);
    if (c->seed_algorithm == BT_CHOKER_SEED_FASTEST_UPLOAD) {
        r->k1 = UINT64_MAX - p->up_rate;
        r->k2 = p->choked;   /* current unchokes win ties: no churn */
        r->k3 = 0;
        return;
    }
    if (c->seed_algorithm == BT_CHOKER_SEED_ANTI_LEECH) {
        unsigned pm = p->progress_pm > 1000 ? 1000 : p->progress_pm;
        unsigned from_middle = pm > 500 ? pm - 500 : 500 - pm;
        r->k1 = 500 - from_middle;   /* 0 for a peer with nothing or everything */
        r->k2 = UINT64_MAX - p->up_rate;
        r->k3 = p->choked;
        return;
    }
    if (!p->choked) {
        bool turn_over = now_ms >= p->unchoked_since_ms &&
                         now_ms - p->unchoked_since_ms >= BT_CHOKER_SEED_TURN_MS;
        r->k1 = turn_over ? 2 : 0;
        r->k2 = UINT64_MAX - p->up_rate;
        r->k3 = 0;
    } else {
        r->k1 = 1;
        r->k2 = p->choked_since_ms;   /* 0 = never unchoked: waited longest */
        r->k3 = 0;
    }
}

void bt_choker_run(struct bt_choker *c, struct bt_choker_peer *peers, size_t n, int slots, bool seeding,
                   uint64_t now_ms)
{
    if (n == 0)
        return;
    struct rank *r = malloc(n * sizeof *r);
    uint8_t *sel = calloc(n, 1);   /* 1 regular unchoke, 2 optimistic */
    if (!r || !sel) {
        log_msg(LOG_WARNING, "choker: out of memory, keeping current unchokes");
        free(r);
        free(sel);
        return;
    }

    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!peers[i].interested)
            continue;
        if (seeding)
            rank_seed(c, &peers[i], i, n, now_ms, &r[m++]);
        else
            rank_leech(c, &peers[i], i, n, &r[m++]);
    }

    if (slots < 0) {
        for (size_t k = 0; k < m; k++)
            sel[r[k].idx] = 1;
    } else {
        size_t regular = seeding ? (size_t)slots : (slots > 0 ? (size_t)slots - 1 : 0);
        qsort(r, m, sizeof *r, rank_cmp);
        for (size_t k = 0; k < m && k < regular; k++)
            sel[r[k].idx] = 1;

        if (!seeding && slots > 0) {
            /* Optimistic slot: keep the current one until its time is up. */
            size_t cur = n;
            for (size_t i = 0; i < n && cur == n; i++)
                if (peers[i].optimistic && peers[i].interested && !sel[i])
                    cur = i;
            bool rotate = cur == n || now_ms - c->last_optimistic_ms >= BT_CHOKER_OPTIMISTIC_MS ||
                          now_ms < c->last_optimistic_ms;
            size_t pick = cur;
            if (rotate) {
                /* Never-unchoked peers first, then the longest waiting. */
                size_t best = n;
                struct rank bk = {0}, cand;
                for (size_t i = 0; i < n; i++) {
                    const struct bt_choker_peer *p = &peers[i];
                    if (!p->interested || sel[i] || i == cur)
                        continue;
                    bool fresh = p->unchoked_since_ms == 0 && p->choked_since_ms == 0;
                    cand = (struct rank){i, fresh ? 0 : 1, p->choked_since_ms, 0, tiebreak(c, i, n)};
                    if (best == n || rank_cmp(&cand, &bk) < 0) {
                        best = i;
                        bk = cand;
                    }
                }
                if (best != n)
                    pick = best;
                c->last_optimistic_ms = now_ms;
            }
            if (pick != n)
                sel[pick] = 2;
        }
    }

    for (size_t i = 0; i < n; i++) {
        struct bt_choker_peer *p = &peers[i];
        bool choke = sel[i] == 0;
        if (p->choked && !choke)
            p->unchoked_since_ms = now_ms ? now_ms : 1;
        else if (!p->choked && choke) {
            p->unchoked_since_ms = 0;
            p->choked_since_ms = now_ms ? now_ms : 1;
        }
        p->choked = choke;
        p->optimistic = sel[i] == 2;
    }
    c->rr_cursor++;
    free(r);
    free(sel);
}
