#include "bt/picker.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define PRIO_LEVELS 8
#define MAX_PIECE_LEN (1LL << 30)

struct bt_pp {
    uint32_t avail;     /* peers with the piece, have-all peers not counted */
    uint32_t bavail;    /* availability of the bucket it sits in (lags avail only after ENOMEM) */
    uint32_t bpos;      /* index in that bucket */
    int32_t dl;         /* index in p->dl when started, else -1 */
    uint16_t crit;      /* bt_picker_set_critical marks */
    uint8_t prio;
    bool in_bucket;
};

struct bt_bucket {
    uint32_t *v;
    uint32_t n, cap;
};

/* Download state of one started piece.  Per block: received flag and up to
 * BT_PICKER_MAX_DUP requesters (more than one only in end-game). */
struct bt_dl {
    uint32_t piece, nblocks;
    uint32_t n_received;
    uint32_t n_free;    /* neither received nor requested */
    uint8_t *recv;
    uint8_t *nreq;
    void **req;         /* nblocks * BT_PICKER_MAX_DUP */
};

struct bt_picker {
    uint32_t n;
    int64_t plen, total;
    struct bt_pp *pp;
    struct bitfield have;
    uint32_t n_have_all;
    uint32_t wanted_missing;
    uint32_t unstarted[PRIO_LEVELS];   /* pieces in buckets, per priority */
    struct bt_bucket *bk;              /* [avail * PRIO_LEVELS + prio] */
    uint32_t levels;
    uint32_t max_avail;
    struct bt_dl **dl;                 /* started pieces, oldest first */
    uint32_t ndl, dlcap;
    bool sequential;
    uint32_t seq_cursor;
    uint32_t seq_span;                 /* 0 = unlimited */
    uint64_t rng;
    uint32_t *crit;                    /* pieces with a critical mark, oldest mark first */
    uint32_t ncrit, critcap;
};

static uint64_t rnd(struct bt_picker *p)
{
    uint64_t x = p->rng;   /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    p->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

void bt_picker_seed(struct bt_picker *p, uint64_t seed)
{
    p->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

/* ---- geometry ---- */

uint32_t bt_picker_num_pieces(const struct bt_picker *p) { return p->n; }

uint32_t bt_picker_piece_size(const struct bt_picker *p, uint32_t piece)
{
    if (piece >= p->n)
        return 0;
    if (piece + 1 < p->n)
        return (uint32_t)p->plen;
    return (uint32_t)(p->total - (int64_t)(p->n - 1) * p->plen);
}

uint32_t bt_picker_num_blocks(const struct bt_picker *p, uint32_t piece)
{
    return (bt_picker_piece_size(p, piece) + BT_PICKER_BLOCK - 1) / BT_PICKER_BLOCK;
}

uint32_t bt_picker_block_size(const struct bt_picker *p, uint32_t piece, uint32_t begin)
{
    uint32_t size = bt_picker_piece_size(p, piece);
    if (begin % BT_PICKER_BLOCK || begin >= size)
        return 0;
    return size - begin < BT_PICKER_BLOCK ? size - begin : BT_PICKER_BLOCK;
}

/* ---- buckets ---- */

static int ensure_levels(struct bt_picker *p, uint32_t avail)
{
    if (avail < p->levels)
        return 0;
    uint32_t nl = p->levels ? p->levels : 4;
    while (nl <= avail) {
        if (nl > UINT32_MAX / 2 / PRIO_LEVELS)
            return -ENOMEM;
        nl *= 2;
    }
    struct bt_bucket *bk = realloc(p->bk, (size_t)nl * PRIO_LEVELS * sizeof *bk);
    if (!bk)
        return -ENOMEM;
    memset(bk + (size_t)p->levels * PRIO_LEVELS, 0, (size_t)(nl - p->levels) * PRIO_LEVELS * sizeof *bk);
    p->bk = bk;
    p->levels = nl;
    return 0;
}

static struct bt_bucket *bucket(struct bt_picker *p, uint32_t avail, int prio)
{
    return &p->bk[(size_t)avail * PRIO_LEVELS + (size_t)prio];
}

static int bk_reserve(struct bt_picker *p, uint32_t avail, int prio)
{
    int r = ensure_levels(p, avail);
    if (r)
        return r;
    struct bt_bucket *b = bucket(p, avail, prio);
    if (b->n < b->cap)
        return 0;
    uint32_t nc = b->cap ? b->cap * 2 : 16;
    if (nc > p->n)
        nc = p->n;   /* a bucket never holds more than every piece */
    uint32_t *v = realloc(b->v, (size_t)nc * sizeof *v);
    if (!v)
        return -ENOMEM;
    b->v = v;
    b->cap = nc;
    return 0;
}

static bool should_bucket(const struct bt_picker *p, uint32_t i)
{
    assert(i < p->n);   /* public entry points range-check first */
    return p->pp[i].prio > 0 && p->pp[i].dl < 0 && !bitfield_get(&p->have, i);
}

static int bk_insert(struct bt_picker *p, uint32_t i)
{
    assert(i < p->n);   /* public entry points range-check first */
    struct bt_pp *pp = &p->pp[i];
    int r = bk_reserve(p, pp->avail, pp->prio);
    if (r)
        return r;
    struct bt_bucket *b = bucket(p, pp->avail, pp->prio);
    pp->bavail = pp->avail;
    pp->bpos = b->n;
    pp->in_bucket = true;
    b->v[b->n++] = i;
    p->unstarted[pp->prio]++;
    return 0;
}

static void bk_remove(struct bt_picker *p, uint32_t i)
{
    assert(i < p->n);   /* public entry points range-check first */
    struct bt_pp *pp = &p->pp[i];
    if (!pp->in_bucket)
        return;
    struct bt_bucket *b = bucket(p, pp->bavail, pp->prio);
    uint32_t last = b->v[--b->n];
    if (pp->bpos != b->n) {
        b->v[pp->bpos] = last;
        p->pp[last].bpos = pp->bpos;
    }
    pp->in_bucket = false;
    p->unstarted[pp->prio]--;
}

static void bk_rebucket(struct bt_picker *p, uint32_t i)
{
    assert(i < p->n);   /* public entry points range-check first */
    struct bt_pp *pp = &p->pp[i];
    if (!pp->in_bucket || pp->bavail == pp->avail)
        return;
    /* Reserve first: if that fails the piece keeps its old, slightly wrong
     * rank instead of being lost. */
    if (bk_reserve(p, pp->avail, pp->prio))
        return;
    bk_remove(p, i);
    bk_insert(p, i);
}

static void bk_insert_logged(struct bt_picker *p, uint32_t i)
{
    if (should_bucket(p, i) && !p->pp[i].in_bucket && bk_insert(p, i))
        log_msg(LOG_CRITICAL, "picker: out of memory, piece %u will not be requested", i);
}

/* ---- lifecycle ---- */

struct bt_picker *bt_picker_new(uint32_t num_pieces, int64_t piece_length, int64_t total_size)
{
    if (num_pieces == 0 || piece_length <= 0 || piece_length > MAX_PIECE_LEN || total_size <= 0 ||
        (total_size - 1) / piece_length + 1 != (int64_t)num_pieces) {
        log_msg(LOG_WARNING, "picker: bad geometry: %u pieces of %lld bytes for %lld bytes", num_pieces,
                (long long)piece_length, (long long)total_size);
        return NULL;
    }
    struct bt_picker *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = num_pieces;
    p->plen = piece_length;
    p->total = total_size;
    bt_picker_seed(p, (uint64_t)(uintptr_t)p ^ (uint64_t)total_size << 17 ^ num_pieces);
    p->pp = calloc(num_pieces, sizeof *p->pp);
    if (!p->pp || bitfield_init(&p->have, num_pieces) || ensure_levels(p, 1))
        goto fail;
    struct bt_bucket *b = bucket(p, 0, BT_PICKER_PRIO_NORMAL);
    b->v = malloc((size_t)num_pieces * sizeof *b->v);
    if (!b->v)
        goto fail;
    b->cap = num_pieces;
    for (uint32_t i = 0; i < num_pieces; i++) {
        p->pp[i].prio = BT_PICKER_PRIO_NORMAL;
        p->pp[i].dl = -1;
        bk_insert(p, i);   /* cannot fail: capacity reserved above */
    }
    p->wanted_missing = num_pieces;
    return p;
fail:
    bt_picker_free(p);
    return NULL;
}

static void dl_free(struct bt_dl *d)
{
    if (!d)
        return;
    free(d->recv);
    free(d->nreq);
    free(d->req);
    free(d);
}

void bt_picker_free(struct bt_picker *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->ndl; i++)
        dl_free(p->dl[i]);
    free(p->dl);
    for (size_t i = 0; i < (size_t)p->levels * PRIO_LEVELS; i++)
        free(p->bk[i].v);
    free(p->bk);
    free(p->crit);
    free(p->pp);
    bitfield_free(&p->have);
    free(p);
}

/* ---- started pieces ---- */

static struct bt_dl *dl_start(struct bt_picker *p, uint32_t piece)
{
    assert(piece < p->n);   /* public entry points range-check first */
    if (p->ndl == p->dlcap) {
        uint32_t nc = p->dlcap ? p->dlcap * 2 : 16;
        struct bt_dl **v = realloc(p->dl, (size_t)nc * sizeof *v);
        if (!v)
            return NULL;
        p->dl = v;
        p->dlcap = nc;
    }
    struct bt_dl *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->piece = piece;
    d->nblocks = bt_picker_num_blocks(p, piece);
    d->n_free = d->nblocks;
    d->recv = calloc(d->nblocks, 1);
    d->nreq = calloc(d->nblocks, 1);
    d->req = calloc((size_t)d->nblocks * BT_PICKER_MAX_DUP, sizeof *d->req);
    if (!d->recv || !d->nreq || !d->req) {
        dl_free(d);
        return NULL;
    }
    bk_remove(p, piece);
    p->pp[piece].dl = (int32_t)p->ndl;
    p->dl[p->ndl++] = d;
    return d;
}

/* Ends a piece's download state; it goes back to its bucket unless had. */
static void dl_drop(struct bt_picker *p, uint32_t idx)
{
    struct bt_dl *d = p->dl[idx];
    uint32_t piece = d->piece;
    memmove(p->dl + idx, p->dl + idx + 1, (size_t)(p->ndl - idx - 1) * sizeof *p->dl);
    p->ndl--;
    for (uint32_t j = idx; j < p->ndl; j++)
        p->pp[p->dl[j]->piece].dl = (int32_t)j;
    p->pp[piece].dl = -1;
    dl_free(d);
    bk_insert_logged(p, piece);
}

/* A started piece with nothing received and nothing requested is not
 * really started: release it so strict completion does not favour it. */
static void dl_maybe_release(struct bt_picker *p, uint32_t piece)
{
    assert(piece < p->n);   /* public entry points range-check first */
    int32_t idx = p->pp[piece].dl;
    if (idx >= 0 && p->dl[idx]->n_received == 0 && p->dl[idx]->n_free == p->dl[idx]->nblocks)
        dl_drop(p, (uint32_t)idx);
}

static struct bt_dl *dl_find(const struct bt_picker *p, uint32_t piece, uint32_t begin, uint32_t *block)
{
    if (piece >= p->n || p->pp[piece].dl < 0 || begin % BT_PICKER_BLOCK)
        return NULL;
    struct bt_dl *d = p->dl[p->pp[piece].dl];
    if (begin / BT_PICKER_BLOCK >= d->nblocks)
        return NULL;
    *block = begin / BT_PICKER_BLOCK;
    return d;
}

static bool dl_requested_by(const struct bt_dl *d, uint32_t b, const void *peer)
{
    for (int j = 0; j < d->nreq[b]; j++)
        if (d->req[(size_t)b * BT_PICKER_MAX_DUP + j] == peer)
            return true;
    return false;
}

static void dl_add_req(struct bt_picker *p, struct bt_dl *d, uint32_t b, void *peer, struct bt_block *out)
{
    if (d->nreq[b] == 0)
        d->n_free--;
    d->req[(size_t)b * BT_PICKER_MAX_DUP + d->nreq[b]++] = peer;
    out->piece = d->piece;
    out->begin = b * BT_PICKER_BLOCK;
    out->length = bt_picker_block_size(p, d->piece, out->begin);
}

/* ---- what we have ---- */

void bt_picker_we_have(struct bt_picker *p, uint32_t piece)
{
    if (piece >= p->n || bitfield_get(&p->have, piece))
        return;
    bitfield_set(&p->have, piece);
    if (p->pp[piece].prio > 0)
        p->wanted_missing--;
    bk_remove(p, piece);
    if (p->pp[piece].dl >= 0)
        dl_drop(p, (uint32_t)p->pp[piece].dl);
}

void bt_picker_piece_passed(struct bt_picker *p, uint32_t piece) { bt_picker_we_have(p, piece); }

void bt_picker_piece_failed(struct bt_picker *p, uint32_t piece)
{
    if (piece >= p->n)
        return;
    if (bitfield_get(&p->have, piece)) {
        bitfield_clear(&p->have, piece);
        if (p->pp[piece].prio > 0)
            p->wanted_missing++;
        if (piece < p->seq_cursor)
            p->seq_cursor = piece;
    }
    if (p->pp[piece].dl >= 0)
        dl_drop(p, (uint32_t)p->pp[piece].dl);
    else
        bk_insert_logged(p, piece);
}

const struct bitfield *bt_picker_have(const struct bt_picker *p) { return &p->have; }
bool bt_picker_is_complete(const struct bt_picker *p) { return p->wanted_missing == 0; }
uint32_t bt_picker_wanted_missing(const struct bt_picker *p) { return p->wanted_missing; }

int bt_picker_set_piece_priority(struct bt_picker *p, uint32_t piece, int prio)
{
    if (piece >= p->n || prio < 0 || prio > BT_PICKER_PRIO_MAX)
        return -EINVAL;
    struct bt_pp *pp = &p->pp[piece];
    if (pp->prio == prio)
        return 0;
    if (!bitfield_get(&p->have, piece) && (pp->prio > 0) != (prio > 0)) {
        if (prio > 0)
            p->wanted_missing++;
        else
            p->wanted_missing--;
    }
    bk_remove(p, piece);   /* the bucket is keyed by the old priority */
    pp->prio = (uint8_t)prio;
    if (should_bucket(p, piece))
        return bk_insert(p, piece);
    return 0;
}

int bt_picker_piece_priority(const struct bt_picker *p, uint32_t piece)
{
    return piece < p->n ? p->pp[piece].prio : -EINVAL;
}

void bt_picker_set_sequential(struct bt_picker *p, bool on) { p->sequential = on; }

void bt_picker_set_sequential_span(struct bt_picker *p, uint32_t pieces) { p->seq_span = pieces; }

int bt_picker_set_critical(struct bt_picker *p, uint32_t piece, bool on)
{
    if (piece >= p->n)
        return -EINVAL;
    struct bt_pp *pp = &p->pp[piece];
    if (!on) {
        if (pp->crit == 0 || --pp->crit > 0)
            return 0;
        for (uint32_t k = 0; k < p->ncrit; k++) {
            if (p->crit[k] == piece) {
                memmove(p->crit + k, p->crit + k + 1, (size_t)(p->ncrit - k - 1) * sizeof *p->crit);
                p->ncrit--;
                break;
            }
        }
        return 0;
    }
    if (pp->crit == UINT16_MAX)
        return -ENOMEM;
    if (pp->crit == 0) {
        if (p->ncrit == p->critcap) {
            uint32_t nc = p->critcap ? p->critcap * 2 : 16;
            uint32_t *v = realloc(p->crit, (size_t)nc * sizeof *v);
            if (!v)
                return -ENOMEM;
            p->crit = v;
            p->critcap = nc;
        }
        p->crit[p->ncrit++] = piece;
    }
    pp->crit++;
    return 0;
}

bool bt_picker_is_critical(const struct bt_picker *p, uint32_t piece)
{
    return piece < p->n && p->pp[piece].crit > 0;
}

int bt_picker_piece_state(const struct bt_picker *p, uint32_t piece)
{
    if (piece >= p->n)
        return -EINVAL;
    if (bitfield_get(&p->have, piece))
        return BT_PIECE_HAVE;
    return p->pp[piece].dl >= 0 ? BT_PIECE_DOWNLOADING : BT_PIECE_MISSING;
}

/* ---- availability ---- */

static void avail_inc(struct bt_picker *p, uint32_t i)
{
    assert(i < p->n);   /* public entry points range-check first */
    struct bt_pp *pp = &p->pp[i];
    if (pp->avail == UINT32_MAX)
        return;
    pp->avail++;
    if (pp->avail > p->max_avail)
        p->max_avail = pp->avail;
    bk_rebucket(p, i);
}

static void avail_dec(struct bt_picker *p, uint32_t i)
{
    assert(i < p->n);   /* public entry points range-check first */
    struct bt_pp *pp = &p->pp[i];
    if (pp->avail == 0)
        return;   /* unbalanced caller; never wrap */
    pp->avail--;
    bk_rebucket(p, i);
}

int bt_picker_peer_have(struct bt_picker *p, uint32_t piece)
{
    if (piece >= p->n)
        return -EINVAL;
    avail_inc(p, piece);
    return 0;
}

int bt_picker_peer_bitfield(struct bt_picker *p, const struct bitfield *bf)
{
    if (bf->nbits != p->n)
        return -EINVAL;
    size_t nbytes = bitfield_bytes(bf);
    for (size_t k = 0; k < nbytes; k++) {
        if (!bf->bits[k])
            continue;
        for (uint32_t i = (uint32_t)k * 8; i < (uint32_t)k * 8 + 8 && i < p->n; i++)
            if (bitfield_get(bf, i))
                avail_inc(p, i);
    }
    return 0;
}

void bt_picker_peer_have_all(struct bt_picker *p) { p->n_have_all++; }

void bt_picker_peer_gone(struct bt_picker *p, const struct bitfield *bf, bool had_all)
{
    if (had_all) {
        if (p->n_have_all > 0)
            p->n_have_all--;
        return;
    }
    if (!bf)
        return;
    size_t nbytes = bitfield_bytes(bf);
    for (size_t k = 0; k < nbytes; k++) {
        if (!bf->bits[k])
            continue;
        for (uint32_t i = (uint32_t)k * 8; i < (uint32_t)k * 8 + 8 && i < p->n; i++)
            if (bitfield_get(bf, i))
                avail_dec(p, i);
    }
}

unsigned bt_picker_availability(const struct bt_picker *p, uint32_t piece)
{
    return piece < p->n ? p->pp[piece].avail + p->n_have_all : 0;
}

/* As libtorrent's piece_picker::distributed_copies(), which qBittorrent
 * shows: a piece we have counts us as one more copy, the fraction is in
 * whole thousandths, and torrent_status carries the sum as a float. */
double bt_picker_distributed_copies(const struct bt_picker *p)
{
    if (p->n == 0)
        return 1.0;
    uint32_t min = UINT32_MAX, above = 0;
    for (uint32_t i = 0; i < p->n; i++) {
        uint32_t a = p->pp[i].avail + bitfield_get(&p->have, i);
        if (a < min)
            min = a;
    }
    for (uint32_t i = 0; i < p->n; i++)
        if (p->pp[i].avail + bitfield_get(&p->have, i) > min)
            above++;
    uint32_t thousandths = (uint32_t)((uint64_t)above * 1000 / p->n);
    return (double)((float)(p->n_have_all + min) + (float)thousandths / 1000.0f);
}

/* ---- picking ---- */

static bool has_piece(const struct bitfield *has, bool all, uint32_t i)
{
    return all || (has && bitfield_get(has, i));
}

static int take_blocks(struct bt_picker *p, struct bt_dl *d, void *peer, struct bt_block *out, int max)
{
    int got = 0;
    for (uint32_t b = 0; b < d->nblocks && got < max && d->n_free > 0; b++)
        if (!d->recv[b] && d->nreq[b] == 0)
            dl_add_req(p, d, b, peer, &out[got++]);
    return got;
}

/* Free blocks of started pieces the peer has; prio < 0 means any wanted. */
static int take_partials(struct bt_picker *p, const struct bitfield *has, bool all, void *peer, int prio,
                         struct bt_block *out, int max)
{
    int got = 0;
    for (uint32_t k = 0; k < p->ndl && got < max; k++) {
        struct bt_dl *d = p->dl[k];
        int pr = p->pp[d->piece].prio;
        if ((prio < 0 ? pr == 0 : pr != prio) || d->n_free == 0 || !has_piece(has, all, d->piece))
            continue;
        got += take_blocks(p, d, peer, out + got, max - got);
    }
    return got;
}

static int64_t scan_bucket(struct bt_picker *p, const struct bitfield *has, bool all, uint32_t avail, int prio)
{
    struct bt_bucket *b = bucket(p, avail, prio);
    if (b->n == 0)
        return -1;
    uint32_t start = (uint32_t)(rnd(p) % b->n);   /* random tie breaking */
    for (uint32_t j = 0; j < b->n; j++) {
        uint32_t i = b->v[(start + j) % b->n];
        if (has_piece(has, all, i))
            return i;
    }
    return -1;
}

/* Rarest unstarted piece of this priority the peer has.  A peer that sent a
 * bitfield is counted in the availability of its pieces, so level 0 (only
 * have-all peers have those) is scanned last for it. */
static int64_t find_rarest(struct bt_picker *p, const struct bitfield *has, bool all, int prio)
{
    if (p->unstarted[prio] == 0)
        return -1;
    for (uint32_t a = all ? 0 : 1; a < p->levels; a++) {
        int64_t i = scan_bucket(p, has, all, a, prio);
        if (i >= 0)
            return i;
    }
    return all ? -1 : scan_bucket(p, has, all, 0, prio);
}

static bool in_endgame(const struct bt_picker *p)
{
    for (int pr = 1; pr < PRIO_LEVELS; pr++)
        if (p->unstarted[pr])
            return false;
    for (uint32_t k = 0; k < p->ndl; k++)
        if (p->dl[k]->n_free > 0 && p->pp[p->dl[k]->piece].prio > 0)
            return false;
    return true;
}

static int take_endgame(struct bt_picker *p, const struct bitfield *has, bool all, void *peer,
                        struct bt_block *out, int max)
{
    int got = 0;
    /* Least-duplicated blocks first. */
    for (int dup = 1; dup < BT_PICKER_MAX_DUP && got < max; dup++) {
        for (uint32_t k = 0; k < p->ndl && got < max; k++) {
            struct bt_dl *d = p->dl[k];
            if (p->pp[d->piece].prio == 0 || !has_piece(has, all, d->piece))
                continue;
            for (uint32_t b = 0; b < d->nblocks && got < max; b++)
                if (!d->recv[b] && d->nreq[b] == dup && !dl_requested_by(d, b, peer))
                    dl_add_req(p, d, b, peer, &out[got++]);
        }
    }
    return got;
}

/* Time-critical pieces first: their free blocks; a critical piece with no
 * free block left is late, so blocks other peers have requested are asked
 * of this one too, least-duplicated first. */
static int take_critical(struct bt_picker *p, const struct bitfield *has, bool all, void *peer,
                         struct bt_block *out, int max)
{
    int got = 0;
    for (uint32_t k = 0; k < p->ncrit && got < max; k++) {
        uint32_t i = p->crit[k];
        if (p->pp[i].prio == 0 || bitfield_get(&p->have, i) || !has_piece(has, all, i))
            continue;
        struct bt_dl *d = p->pp[i].dl >= 0 ? p->dl[p->pp[i].dl] : dl_start(p, i);
        if (!d)
            return got;
        int before = got;
        got += take_blocks(p, d, peer, out + got, max - got);
        if (got > before)
            continue;   /* it had free blocks: not late */
        for (int dup = 1; dup < BT_PICKER_MAX_DUP && got < max; dup++)
            for (uint32_t b = 0; b < d->nblocks && got < max; b++)
                if (!d->recv[b] && d->nreq[b] == dup && !dl_requested_by(d, b, peer))
                    dl_add_req(p, d, b, peer, &out[got++]);
    }
    return got;
}

int bt_picker_pick(struct bt_picker *p, const struct bitfield *peer_has, bool peer_has_all, void *peer,
                   struct bt_block *out, int max)
{
    if (max <= 0 || (!peer_has && !peer_has_all))
        return 0;
    int got = 0;
    if (p->ncrit)
        got += take_critical(p, peer_has, peer_has_all, peer, out, max);
    if (p->sequential) {
        got += take_partials(p, peer_has, peer_has_all, peer, -1, out + got, max - got);
        while (p->seq_cursor < p->n && bitfield_get(&p->have, p->seq_cursor))
            p->seq_cursor++;
        uint32_t end = p->seq_span && p->n - p->seq_cursor > p->seq_span ? p->seq_cursor + p->seq_span : p->n;
        for (uint32_t i = p->seq_cursor; i < end && got < max; i++) {
            if (!p->pp[i].in_bucket || !has_piece(peer_has, peer_has_all, i))
                continue;
            struct bt_dl *d = dl_start(p, i);
            if (!d)
                return got;
            got += take_blocks(p, d, peer, out + got, max - got);
        }
    } else {
        for (int prio = BT_PICKER_PRIO_MAX; prio >= 1 && got < max; prio--) {
            got += take_partials(p, peer_has, peer_has_all, peer, prio, out + got, max - got);
            while (got < max) {
                int64_t i = find_rarest(p, peer_has, peer_has_all, prio);
                if (i < 0)
                    break;
                struct bt_dl *d = dl_start(p, (uint32_t)i);
                if (!d)
                    return got;
                got += take_blocks(p, d, peer, out + got, max - got);
            }
        }
    }
    if (got < max && in_endgame(p))
        got += take_endgame(p, peer_has, peer_has_all, peer, out + got, max - got);
    return got;
}

int bt_picker_block_requesters(const struct bt_picker *p, uint32_t piece, uint32_t begin, void **out, int max)
{
    uint32_t b;
    struct bt_dl *d = dl_find(p, piece, begin, &b);
    if (!d)
        return 0;
    int n = 0;
    for (int j = 0; j < d->nreq[b] && n < max; j++)
        out[n++] = d->req[(size_t)b * BT_PICKER_MAX_DUP + j];
    return n;
}

int bt_picker_block_received(struct bt_picker *p, uint32_t piece, uint32_t begin, void *peer)
{
    (void)peer;
    uint32_t b;
    struct bt_dl *d = dl_find(p, piece, begin, &b);
    if (!d || d->recv[b])
        return -EINVAL;
    d->recv[b] = 1;
    d->n_received++;
    if (d->nreq[b] == 0)
        d->n_free--;
    d->nreq[b] = 0;
    return d->n_received == d->nblocks ? 1 : 0;
}

static void dl_remove_req(struct bt_dl *d, uint32_t b, const void *peer)
{
    void **r = d->req + (size_t)b * BT_PICKER_MAX_DUP;
    for (int j = 0; j < d->nreq[b]; j++) {
        if (r[j] != peer)
            continue;
        r[j] = r[d->nreq[b] - 1];
        d->nreq[b]--;
        if (d->nreq[b] == 0 && !d->recv[b])
            d->n_free++;
        return;
    }
}

void bt_picker_block_cancel(struct bt_picker *p, uint32_t piece, uint32_t begin, void *peer)
{
    uint32_t b;
    struct bt_dl *d = dl_find(p, piece, begin, &b);
    if (!d)
        return;
    dl_remove_req(d, b, peer);
    dl_maybe_release(p, piece);
}

void bt_picker_peer_cancel_all(struct bt_picker *p, void *peer)
{
    /* Backwards: releasing a piece shifts only the entries after it. */
    for (uint32_t k = p->ndl; k-- > 0;) {
        struct bt_dl *d = p->dl[k];
        for (uint32_t b = 0; b < d->nblocks; b++)
            if (d->nreq[b])
                dl_remove_req(d, b, peer);
        dl_maybe_release(p, d->piece);
    }
}
