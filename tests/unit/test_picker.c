#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bt/picker.h"
#include "util/log.h"

#define BLK BT_PICKER_BLOCK

static int peer_a, peer_b, peer_c;
#define A ((void *)&peer_a)
#define B ((void *)&peer_b)
#define C ((void *)&peer_c)

static void bf_of(struct bitfield *bf, uint32_t n, const char *bits)
{
    assert_int_equal(bitfield_init(bf, n), 0);
    for (uint32_t i = 0; i < n && bits[i]; i++)
        if (bits[i] == '1')
            bitfield_set(bf, i);
}

static void geometry(void **state)
{
    (void)state;
    assert_null(bt_picker_new(0, BLK, 1));
    assert_null(bt_picker_new(3, BLK, 2 * BLK));        /* too many pieces */
    assert_null(bt_picker_new(1, BLK, 2 * BLK));        /* too few */
    assert_null(bt_picker_new(1, 0, 1));
    assert_null(bt_picker_new(1, -5, 1));
    assert_null(bt_picker_new(1, (int64_t)2 << 30, 1));
    assert_null(bt_picker_new(1, BLK, 0));

    /* 3 pieces of 40000 bytes (3 blocks: 16384+16384+7232), last 20000 (2 blocks). */
    struct bt_picker *p = bt_picker_new(3, 40000, 100000);
    assert_non_null(p);
    assert_int_equal(bt_picker_piece_size(p, 0), 40000);
    assert_int_equal(bt_picker_piece_size(p, 2), 20000);
    assert_int_equal(bt_picker_piece_size(p, 3), 0);
    assert_int_equal(bt_picker_num_blocks(p, 0), 3);
    assert_int_equal(bt_picker_num_blocks(p, 2), 2);
    assert_int_equal(bt_picker_block_size(p, 0, 2 * BLK), 40000 - 2 * BLK);
    assert_int_equal(bt_picker_block_size(p, 2, BLK), 20000 - BLK);
    assert_int_equal(bt_picker_block_size(p, 2, 2 * BLK), 0);
    assert_int_equal(bt_picker_block_size(p, 0, 100), 0);

    bt_picker_set_sequential(p, true);
    struct bt_block out[16];
    int n = bt_picker_pick(p, NULL, true, A, out, 16);
    assert_int_equal(n, 8);
    uint64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += out[i].length;
    assert_int_equal(sum, 100000);   /* blocks tile the torrent exactly */
    assert_int_equal(out[7].piece, 2);
    assert_int_equal(out[7].begin, BLK);
    assert_int_equal(out[7].length, 20000 - BLK);
    bt_picker_free(p);

    /* Exact multiple: no short block. */
    p = bt_picker_new(2, 2 * BLK, 4 * BLK);
    assert_int_equal(bt_picker_block_size(p, 1, BLK), BLK);
    bt_picker_free(p);
}

static void rarest_first(void **state)
{
    (void)state;
    struct bt_picker *p = bt_picker_new(4, BLK, 4 * BLK);
    struct bitfield x, y, z;
    bf_of(&x, 4, "1111");
    bf_of(&y, 4, "1011");
    bf_of(&z, 4, "1001");
    assert_int_equal(bt_picker_peer_bitfield(p, &x), 0);
    assert_int_equal(bt_picker_peer_bitfield(p, &y), 0);
    assert_int_equal(bt_picker_peer_bitfield(p, &z), 0);
    bt_picker_peer_have_all(p);
    assert_int_equal(bt_picker_availability(p, 0), 4);
    assert_int_equal(bt_picker_availability(p, 1), 2);
    assert_int_equal(bt_picker_availability(p, 2), 3);
    /* Availability 4,2,3,4: min 2 + 3 of 4 pieces above it. */
    assert_true(bt_picker_distributed_copies(p) > 2.74 && bt_picker_distributed_copies(p) < 2.76);

    struct bt_block out[4];
    assert_int_equal(bt_picker_pick(p, &x, false, A, out, 1), 1);
    assert_int_equal(out[0].piece, 1);
    assert_int_equal(bt_picker_pick(p, &x, false, A, out, 1), 1);
    assert_int_equal(out[0].piece, 2);
    /* Peer y lacks piece 1 and 2 is taken, so 0 and 3 in either order... */
    int n = bt_picker_pick(p, &y, false, B, out, 4);
    assert_int_equal(n, 3);
    /* ...then everything is requested: end-game duplicates A's piece 2. */
    assert_int_equal(out[2].piece, 2);
    assert_true(out[0].piece == 0 || out[0].piece == 3);
    assert_true(out[1].piece == 0 || out[1].piece == 3);
    assert_int_not_equal(out[0].piece, out[1].piece);

    /* Availability changes reorder: a new have makes piece 3 common. */
    bt_picker_peer_cancel_all(p, B);
    assert_int_equal(bt_picker_peer_have(p, 3), 0);
    assert_int_equal(bt_picker_peer_have(p, 4), -EINVAL);
    assert_int_equal(bt_picker_pick(p, &y, false, B, out, 1), 1);
    assert_int_equal(out[0].piece, 0);

    bt_picker_peer_gone(p, &x, false);
    bt_picker_peer_gone(p, NULL, true);
    assert_int_equal(bt_picker_availability(p, 1), 0);
    assert_int_equal(bt_picker_availability(p, 0), 2);
    assert_int_equal(bt_picker_availability(p, 3), 3);
    bitfield_free(&x);
    bitfield_free(&y);
    bitfield_free(&z);
    bt_picker_free(p);
}

/* libtorrent's distributed copies: our own pieces count, the fraction is
 * in thousandths through a float (qbittorrent-nox showed 1.062000036239624
 * for a download fed by one seed). */
static void distributed_copies_like_libtorrent(void **state)
{
    (void)state;
    struct bt_picker *p = bt_picker_new(3, BLK, 3 * BLK);
    struct bitfield x;
    bf_of(&x, 3, "110");
    assert_int_equal(bt_picker_peer_bitfield(p, &x), 0);
    /* 1,1,0: min 0, 2 of 3 above -> 0.666 */
    assert_true(bt_picker_distributed_copies(p) == (double)(0.666f));
    bt_picker_we_have(p, 2);
    /* 1,1,1 with our piece: one full copy */
    assert_true(bt_picker_distributed_copies(p) == 1.0);
    bt_picker_we_have(p, 0);
    /* 2,1,1: min 1, 1 of 3 above -> 1 + 0.333 as a float */
    assert_true(bt_picker_distributed_copies(p) == (double)(1.0f + 0.333f));
    bt_picker_peer_have_all(p);
    assert_true(bt_picker_distributed_copies(p) == (double)(2.0f + 0.333f));
    bitfield_free(&x);
    bt_picker_free(p);
}

static void random_tie_break(void **state)
{
    (void)state;
    int seen[64] = {0}, distinct = 0;
    for (uint64_t s = 1; s <= 40; s++) {
        struct bt_picker *p = bt_picker_new(64, BLK, 64 * BLK);
        bt_picker_seed(p, s * 7919);
        struct bt_block out[1];
        assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 1), 1);
        if (!seen[out[0].piece]++)
            distinct++;
        bt_picker_free(p);
    }
    assert_true(distinct >= 5);
}

static void strict_completion(void **state)
{
    (void)state;
    /* 3 pieces of 4 blocks. */
    struct bt_picker *p = bt_picker_new(3, 4 * BLK, 12 * BLK);
    struct bitfield common, rare;
    bf_of(&common, 3, "111");
    bf_of(&rare, 3, "001");
    bt_picker_peer_bitfield(p, &common);
    bt_picker_peer_bitfield(p, &common);
    bt_picker_peer_bitfield(p, &rare);   /* piece 2 is the most common */
    struct bt_block out[8];
    /* A has only the common piece 2 and starts it. */
    assert_int_equal(bt_picker_pick(p, &rare, false, A, out, 1), 1);
    assert_int_equal(out[0].piece, 2);
    assert_int_equal(bt_picker_piece_state(p, 2), BT_PIECE_DOWNLOADING);
    assert_int_equal(bt_picker_piece_state(p, 0), BT_PIECE_MISSING);
    /* B has everything; pieces 0 and 1 are rarer, but the started piece comes first. */
    assert_int_equal(bt_picker_pick(p, &common, false, B, out, 5), 5);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(out[i].piece, 2);
        assert_int_equal(out[i].begin, (uint32_t)(i + 1) * BLK);
    }
    assert_true(out[3].piece == 0 || out[3].piece == 1);
    assert_int_equal(out[4].piece, out[3].piece);
    bitfield_free(&common);
    bitfield_free(&rare);
    bt_picker_free(p);
}

static void priorities(void **state)
{
    (void)state;
    struct bt_picker *p = bt_picker_new(4, BLK, 4 * BLK);
    struct bitfield one;
    bf_of(&one, 4, "1000");
    bt_picker_peer_bitfield(p, &one);   /* piece 0 is rarest... of those with avail>0 */
    bt_picker_peer_have_all(p);
    assert_int_equal(bt_picker_set_piece_priority(p, 0, 8), -EINVAL);
    assert_int_equal(bt_picker_set_piece_priority(p, 0, -1), -EINVAL);
    assert_int_equal(bt_picker_set_piece_priority(p, 9, 1), -EINVAL);
    assert_int_equal(bt_picker_set_piece_priority(p, 1, 0), 0);
    assert_int_equal(bt_picker_set_piece_priority(p, 3, BT_PICKER_PRIO_MAX), 0);
    assert_int_equal(bt_picker_set_piece_priority(p, 2, BT_PICKER_PRIO_HIGH), 0);
    assert_int_equal(bt_picker_piece_priority(p, 3), 7);
    assert_int_equal(bt_picker_wanted_missing(p), 3);

    struct bt_block out[8];
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 8), 3);
    assert_int_equal(out[0].piece, 3);
    assert_int_equal(out[1].piece, 2);
    /* Normal priority: 0, not the skipped 1 (nobody but have-all has it, it is "rarer"). */
    assert_int_equal(out[2].piece, 0);
    /* Skipped pieces are never handed out, even in end-game. */
    assert_int_equal(bt_picker_pick(p, NULL, true, B, out, 8), 3);
    for (int i = 0; i < 3; i++)
        assert_int_not_equal(out[i].piece, 1);

    assert_false(bt_picker_is_complete(p));
    for (uint32_t i = 0; i < 4; i++)
        if (i != 1) {
            assert_int_equal(bt_picker_block_received(p, i, 0, A), 1);
            bt_picker_piece_passed(p, i);
        }
    assert_true(bt_picker_is_complete(p));
    assert_int_equal(bt_picker_piece_state(p, 1), BT_PIECE_MISSING);
    /* Un-skipping makes the torrent incomplete again and pickable. */
    assert_int_equal(bt_picker_set_piece_priority(p, 1, 1), 0);
    assert_false(bt_picker_is_complete(p));
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 8), 1);
    assert_int_equal(out[0].piece, 1);
    /* Skipping a started piece: its blocks are no longer handed out. */
    assert_int_equal(bt_picker_set_piece_priority(p, 1, 0), 0);
    assert_true(bt_picker_is_complete(p));
    assert_int_equal(bt_picker_pick(p, NULL, true, B, out, 8), 0);
    bitfield_free(&one);
    bt_picker_free(p);
}

static void sequential(void **state)
{
    (void)state;
    struct bt_picker *p = bt_picker_new(10, 2 * BLK, 20 * BLK);
    struct bitfield rare;
    bf_of(&rare, 10, "0000000001");
    bt_picker_peer_bitfield(p, &rare);
    bt_picker_peer_have_all(p);
    bt_picker_set_sequential(p, true);
    bt_picker_set_piece_priority(p, 1, 0);
    bt_picker_we_have(p, 0);
    struct bt_block out[6];
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 6), 6);
    assert_int_equal(out[0].piece, 2);
    assert_int_equal(out[1].piece, 2);
    assert_int_equal(out[2].piece, 3);
    assert_int_equal(out[5].piece, 4);
    bt_picker_set_sequential(p, false);
    assert_int_equal(bt_picker_pick(p, NULL, true, B, out, 1), 1);
    assert_true(out[0].piece >= 5 && out[0].piece <= 8);   /* avail 0 beats the rarest-with-a-copy piece 9 */
    bitfield_free(&rare);
    bt_picker_free(p);
}

/* µTorrent's progressive_piece_span: in sequential mode nothing at or past
 * the first missing piece + span is started; the window moves with the
 * first missing piece; 0 lifts it; rarest-first ignores it. */
static void sequential_span(void **state)
{
    (void)state;
    struct bt_picker *p = bt_picker_new(10, BLK, 10 * BLK);
    bt_picker_peer_have_all(p);
    bt_picker_set_sequential(p, true);
    bt_picker_set_sequential_span(p, 3);
    struct bt_block out[10];
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 10), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(out[i].piece, i);
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 10), 0);   /* window full, not end-game */
    assert_int_equal(bt_picker_block_received(p, 0, 0, A), 1);
    bt_picker_piece_passed(p, 0);
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 10), 1);
    assert_int_equal(out[0].piece, 3);
    bt_picker_set_sequential_span(p, 0);
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 10), 6);
    assert_int_equal(out[5].piece, 9);
    bt_picker_free(p);

    p = bt_picker_new(10, BLK, 10 * BLK);
    bt_picker_peer_have_all(p);
    bt_picker_set_sequential_span(p, 2);
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 10), 10);   /* rarest first: no window */
    bt_picker_free(p);
}

static void end_game(void **state)
{
    (void)state;
    struct bt_picker *p = bt_picker_new(1, 2 * BLK, 2 * BLK);
    struct bt_block out[4];
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 4), 2);
    /* A already has both requested: nothing more for A. */
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 4), 0);
    /* B gets duplicates of A's blocks. */
    assert_int_equal(bt_picker_pick(p, NULL, true, B, out, 4), 2);
    assert_int_equal(out[0].piece, 0);
    assert_int_not_equal(out[0].begin, out[1].begin);
    void *who[BT_PICKER_MAX_DUP];
    assert_int_equal(bt_picker_block_requesters(p, 0, 0, who, BT_PICKER_MAX_DUP), 2);
    assert_true((who[0] == A && who[1] == B) || (who[0] == B && who[1] == A));
    /* C too; then the cap on duplicates per block holds. */
    assert_int_equal(bt_picker_pick(p, NULL, true, C, out, 4), 2);
    int extra[BT_PICKER_MAX_DUP];
    int total = 0;
    for (int i = 0; i < BT_PICKER_MAX_DUP; i++) {
        extra[i] = bt_picker_pick(p, NULL, true, (void *)&extra[i], out, 4);
        total += extra[i];
    }
    assert_int_equal(total, 2 * (BT_PICKER_MAX_DUP - 3));
    /* Block arrives from B: everyone else gets a cancel. */
    int n = bt_picker_block_requesters(p, 0, BLK, who, BT_PICKER_MAX_DUP);
    assert_int_equal(n, BT_PICKER_MAX_DUP);
    assert_int_equal(bt_picker_block_received(p, 0, BLK, B), 0);
    assert_int_equal(bt_picker_block_requesters(p, 0, BLK, who, BT_PICKER_MAX_DUP), 0);
    /* The late duplicate from A is wasted. */
    assert_int_equal(bt_picker_block_received(p, 0, BLK, A), -EINVAL);
    assert_int_equal(bt_picker_block_received(p, 0, 0, C), 1);
    bt_picker_free(p);

    /* End-game only starts when every missing block is requested: a peer
     * lacking the unrequested piece gets no duplicates yet. */
    p = bt_picker_new(2, BLK, 2 * BLK);
    struct bitfield only0;
    bf_of(&only0, 2, "10");
    bt_picker_peer_bitfield(p, &only0);
    assert_int_equal(bt_picker_pick(p, &only0, false, A, out, 4), 1);
    assert_int_equal(bt_picker_pick(p, &only0, false, B, out, 4), 0);
    bitfield_free(&only0);
    bt_picker_free(p);
}

static void cancel_and_disconnect(void **state)
{
    (void)state;
    struct bt_picker *p = bt_picker_new(2, 2 * BLK, 4 * BLK);
    bt_picker_seed(p, 1);
    struct bt_block out[4], out2[4];
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 3), 3);
    assert_int_equal(bt_picker_pick(p, NULL, true, B, out2, 1), 1);
    assert_int_equal(bt_picker_block_received(p, out[0].piece, out[0].begin, A), 0);
    bt_picker_peer_cancel_all(p, A);
    /* A's unreceived blocks are free again and go to C before any duplicate. */
    int n = bt_picker_pick(p, NULL, true, C, out2, 4);
    assert_int_equal(n, 3);   /* 2 freed blocks, then an end-game duplicate of B's */
    void *dup[4];
    assert_int_equal(bt_picker_block_requesters(p, out2[2].piece, out2[2].begin, dup, 4), 2);
    for (int i = 0; i < 2; i++) {
        void *who[4];
        assert_int_equal(bt_picker_block_requesters(p, out2[i].piece, out2[i].begin, who, 4), 1);
        assert_ptr_equal(who[0], C);
    }
    /* Cancel of one block by its only requester frees it. */
    bt_picker_block_cancel(p, out2[0].piece, out2[0].begin, C);
    bt_picker_block_cancel(p, out2[0].piece, out2[0].begin, C);   /* twice: harmless */
    bt_picker_block_cancel(p, 99, 0, C);                          /* nonsense: harmless */
    /* The freed block first, then end-game duplicates of C's and B's. */
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 4), 3);
    assert_int_equal(out[0].piece, out2[0].piece);
    assert_int_equal(out[0].begin, out2[0].begin);
    bt_picker_free(p);

    /* A piece with nothing received whose requester leaves is missing again. */
    p = bt_picker_new(1, 2 * BLK, 2 * BLK);
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 4), 2);
    assert_int_equal(bt_picker_piece_state(p, 0), BT_PIECE_DOWNLOADING);
    bt_picker_peer_cancel_all(p, A);
    assert_int_equal(bt_picker_piece_state(p, 0), BT_PIECE_MISSING);
    assert_int_equal(bt_picker_pick(p, NULL, true, B, out, 4), 2);
    bt_picker_free(p);
}

static void hash_failure_and_bad_blocks(void **state)
{
    (void)state;
    struct bt_picker *p = bt_picker_new(2, 2 * BLK, 3 * BLK);
    struct bt_block out[4];
    bt_picker_set_sequential(p, true);
    assert_int_equal(bt_picker_block_received(p, 0, 0, A), -EINVAL);   /* never requested */
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 2), 2);
    assert_int_equal(bt_picker_block_received(p, 0, 1, A), -EINVAL);     /* unaligned */
    assert_int_equal(bt_picker_block_received(p, 0, 2 * BLK, A), -EINVAL); /* past the piece */
    assert_int_equal(bt_picker_block_received(p, 7, 0, A), -EINVAL);     /* no such piece */
    assert_int_equal(bt_picker_block_received(p, 0, 0, A), 0);
    assert_int_equal(bt_picker_block_received(p, 0, 0, A), -EINVAL);     /* duplicate */
    assert_int_equal(bt_picker_block_received(p, 0, BLK, B), 1);        /* from anyone */
    /* Waiting for the hash: nothing of piece 0 is handed out. */
    assert_int_equal(bt_picker_pick(p, NULL, true, B, out, 4), 1);
    assert_int_equal(out[0].piece, 1);
    assert_int_equal(out[0].length, BLK);
    bt_picker_piece_failed(p, 0);
    assert_int_equal(bt_picker_piece_state(p, 0), BT_PIECE_MISSING);
    assert_int_equal(bt_picker_pick(p, NULL, true, C, out, 4), 3);
    assert_int_equal(out[0].piece, 0);
    assert_int_equal(out[1].piece, 0);
    assert_int_equal(out[2].piece, 1);   /* end-game duplicate of B's block */
    assert_int_equal(bt_picker_block_received(p, 0, 0, C), 0);
    assert_int_equal(bt_picker_block_received(p, 0, BLK, C), 1);
    bt_picker_piece_passed(p, 0);
    assert_int_equal(bt_picker_piece_state(p, 0), BT_PIECE_HAVE);
    assert_int_equal(bt_picker_block_received(p, 0, 0, C), -EINVAL);
    assert_int_equal(bitfield_count(bt_picker_have(p)), 1);
    assert_false(bt_picker_is_complete(p));
    assert_int_equal(bt_picker_block_received(p, 1, 0, B), 1);
    bt_picker_piece_passed(p, 1);
    assert_true(bt_picker_is_complete(p));
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 4), 0);
    /* A recheck failure of a had piece makes it wanted again. */
    bt_picker_piece_failed(p, 1);
    assert_false(bt_picker_is_complete(p));
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 4), 1);
    assert_int_equal(out[0].piece, 1);
    bt_picker_free(p);
}

/* Random swarm: invariants hold and the download completes. */
static void simulated_swarm(void **state)
{
    (void)state;
    enum { NP = 300, NPEERS = 6 };
    struct bt_picker *p = bt_picker_new(NP, 3 * BLK, (int64_t)NP * 3 * BLK - 1000);
    bt_picker_seed(p, 42);
    struct bitfield has[NPEERS];
    int ids[NPEERS];
    srand(7);
    for (int k = 0; k < NPEERS; k++) {
        bitfield_init(&has[k], NP);
        for (uint32_t i = 0; i < NP; i++)
            if (rand() % 3 || k == 0)
                bitfield_set(&has[k], i);
        bt_picker_peer_bitfield(p, &has[k]);
    }
    for (uint32_t i = 0; i < NP; i += 10)
        bt_picker_set_piece_priority(p, i, (int)(i / 10 % 8));
    struct pend {
        struct bt_block b;
        int peer;
    } *pend = calloc(100000, sizeof *pend);
    size_t npend = 0;
    int rounds = 0;
    while (!bt_picker_is_complete(p) && rounds++ < 20000) {
        int k = rand() % NPEERS;
        struct bt_block out[8];
        int n = bt_picker_pick(p, &has[k], false, &ids[k], out, 1 + rand() % 8);
        for (int j = 0; j < n; j++) {
            assert_true(bitfield_get(&has[k], out[j].piece));
            assert_int_not_equal(bt_picker_piece_state(p, out[j].piece), BT_PIECE_HAVE);
            assert_int_not_equal(bt_picker_piece_priority(p, out[j].piece), 0);
            assert_int_equal(out[j].length, bt_picker_block_size(p, out[j].piece, out[j].begin));
            assert_true(npend < 100000);
            pend[npend++] = (struct pend){out[j], k};
        }
        /* Deliver, cancel or drop a random pending request. */
        for (int step = 0; step < 3 && npend > 0; step++) {
            size_t at = (size_t)rand() % npend;
            struct pend q = pend[at];
            pend[at] = pend[--npend];
            int what = rand() % 10;
            if (what == 0) {
                bt_picker_block_cancel(p, q.b.piece, q.b.begin, &ids[q.peer]);
            } else if (what == 1) {
                bt_picker_peer_cancel_all(p, &ids[q.peer]);
                size_t w = 0;
                for (size_t r = 0; r < npend; r++)
                    if (pend[r].peer != q.peer)
                        pend[w++] = pend[r];
                npend = w;
            } else {
                int r = bt_picker_block_received(p, q.b.piece, q.b.begin, &ids[q.peer]);
                if (r == 1) {
                    if (rand() % 5 == 0)
                        bt_picker_piece_failed(p, q.b.piece);
                    else
                        bt_picker_piece_passed(p, q.b.piece);
                }
            }
        }
    }
    assert_true(bt_picker_is_complete(p));
    for (uint32_t i = 0; i < NP; i++)
        if (bt_picker_piece_priority(p, i) > 0)
            assert_int_equal(bt_picker_piece_state(p, i), BT_PIECE_HAVE);
    for (int k = 0; k < NPEERS; k++) {
        bt_picker_peer_gone(p, &has[k], false);
        bitfield_free(&has[k]);
    }
    for (uint32_t i = 0; i < NP; i++)
        assert_int_equal(bt_picker_availability(p, i), 0);
    free(pend);
    bt_picker_free(p);
}

/* Big torrent: picks stay cheap (this would take minutes if each pick
 * scanned every piece). */
static void big_torrent(void **state)
{
    (void)state;
    enum { NP = 200000 };
    struct bt_picker *p = bt_picker_new(NP, BLK, (int64_t)NP * BLK);
    struct bitfield most;
    bitfield_init(&most, NP);
    bitfield_set_all(&most);
    for (int k = 0; k < 20; k++)
        bt_picker_peer_bitfield(p, &most);
    struct bt_block out[16];
    int picked = 0;
    for (int i = 0; i < 20000; i++) {
        int n = bt_picker_pick(p, &most, false, A, out, 4);
        for (int j = 0; j < n; j++) {
            assert_int_equal(bt_picker_block_received(p, out[j].piece, out[j].begin, A), 1);
            bt_picker_piece_passed(p, out[j].piece);
        }
        picked += n;
    }
    assert_int_equal(picked, 80000);
    assert_int_equal(bitfield_count(bt_picker_have(p)), 80000);
    bitfield_free(&most);
    bt_picker_free(p);
}

/* Time-critical pieces (a stream waits for them) come before priorities and
 * sequential order, in the order they were marked; skipped pieces stay
 * skipped; a late critical piece is requested again from another peer. */
static void critical_pieces(void **state)
{
    (void)state;
    struct bt_picker *p = bt_picker_new(10, BLK, 10 * BLK);
    bt_picker_set_sequential(p, true);
    assert_int_equal(bt_picker_set_piece_priority(p, 1, BT_PICKER_PRIO_MAX), 0);
    assert_int_equal(bt_picker_set_piece_priority(p, 9, 0), 0);
    assert_int_equal(bt_picker_set_critical(p, 10, true), -EINVAL);
    assert_int_equal(bt_picker_set_critical(p, 7, true), 0);
    assert_int_equal(bt_picker_set_critical(p, 9, true), 0);   /* skipped: no effect */
    assert_int_equal(bt_picker_set_critical(p, 5, true), 0);
    assert_int_equal(bt_picker_set_critical(p, 5, true), 0);   /* a second stream */
    assert_true(bt_picker_is_critical(p, 5));
    struct bt_block out[16];
    assert_int_equal(bt_picker_pick(p, NULL, true, A, out, 2), 2);
    assert_int_equal(out[0].piece, 7);
    assert_int_equal(out[1].piece, 5);
    /* Late: B is asked for what A already has requested, 9 is never picked. */
    assert_int_equal(bt_picker_pick(p, NULL, true, B, out, 2), 2);
    assert_int_equal(out[0].piece, 7);
    assert_int_equal(out[1].piece, 5);
    /* One unmark per mark. */
    assert_int_equal(bt_picker_set_critical(p, 5, false), 0);
    assert_true(bt_picker_is_critical(p, 5));
    assert_int_equal(bt_picker_set_critical(p, 5, false), 0);
    assert_false(bt_picker_is_critical(p, 5));
    assert_int_equal(bt_picker_set_critical(p, 7, false), 0);
    /* Back to the normal order: sequential from piece 0 (5 and 7 are started by A). */
    assert_int_equal(bt_picker_pick(p, NULL, true, C, out, 1), 1);
    assert_int_equal(out[0].piece, 0);
    /* Without sequential a critical piece beats priority 7. */
    bt_picker_set_sequential(p, false);
    assert_int_equal(bt_picker_set_critical(p, 8, true), 0);
    assert_int_equal(bt_picker_pick(p, NULL, true, C, out, 1), 1);
    assert_int_equal(out[0].piece, 8);
    bt_picker_free(p);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(geometry),          cmocka_unit_test(rarest_first),
        cmocka_unit_test(distributed_copies_like_libtorrent),
        cmocka_unit_test(random_tie_break),  cmocka_unit_test(strict_completion),
        cmocka_unit_test(priorities),        cmocka_unit_test(sequential),
        cmocka_unit_test(end_game),          cmocka_unit_test(cancel_and_disconnect),
        cmocka_unit_test(hash_failure_and_bad_blocks),
        cmocka_unit_test(simulated_swarm),   cmocka_unit_test(big_torrent),
        cmocka_unit_test(critical_pieces), cmocka_unit_test(sequential_span),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return r;
}
