/* picker — which blocks to request from which peer, one per torrent.
 *
 * Pieces are split into 16 KiB blocks (the last block of the last piece is
 * shorter).  The picker knows what we have, what every connected peer has
 * (as a per-piece availability count, with have-all peers counted once for
 * all pieces), piece priorities, and which peer requested which block.
 *
 * Pick order:
 *   0. time-critical pieces first (bt_picker_set_critical: a stream waits for
 *      them), in the order they were marked, whatever the priority or the
 *      sequential mode; a critical piece whose blocks are all requested is
 *      requested again from this peer too (at most BT_PICKER_MAX_DUP
 *      requesters per block), as libtorrent re-requests time-critical
 *      blocks from a faster peer;
 *   1. higher priority first (7 max, 6 high, 1 normal; 0 = skip, never picked);
 *   2. within a priority, pieces already started come first (strict
 *      completion: finish what you started, oldest first);
 *   3. then rarest first with random tie breaking, or lowest index first in
 *      sequential mode (sequential honours skip but not the other priorities);
 *   4. end-game: once every missing wanted block is requested, blocks already
 *      requested from other peers are handed out again (at most
 *      BT_PICKER_MAX_DUP requesters per block); the caller cancels the
 *      duplicates when the block arrives (bt_picker_block_requesters()).
 *
 * Cost: unstarted wanted pieces live in buckets keyed by (priority,
 * availability), each an array with O(1) insert/remove, so availability
 * changes are O(1) per piece (a bitfield is O(pieces), unavoidable).  A pick
 * walks the started pieces, then the buckets from the rarest up and stops at
 * the first piece the peer has: O(started + availability levels + pieces
 * skipped because the peer lacks them), which for typical peers (most pieces)
 * is far below O(num_pieces).  Sequential picking scans from the first
 * missing piece.  Statistics (distributed copies) are O(num_pieces).
 *
 * Loop thread only.  Peers are opaque pointers used as identities.
 */
#ifndef TD_BT_PICKER_H
#define TD_BT_PICKER_H

#include <stdbool.h>
#include <stdint.h>

#include "util/bitfield.h"

#define BT_PICKER_BLOCK 16384u
#define BT_PICKER_MAX_DUP 4          /* requesters per block in end-game */
#define BT_PICKER_PRIO_SKIP 0
#define BT_PICKER_PRIO_NORMAL 1
#define BT_PICKER_PRIO_HIGH 6
#define BT_PICKER_PRIO_MAX 7

struct bt_picker;

struct bt_block {
    uint32_t piece, begin, length;
};

/* Validates the geometry: num_pieces == ceil(total_size / piece_length) and
 * 0 < piece_length <= 1 GiB.  All pieces start missing at normal priority.
 * NULL on bad geometry (logged) or out of memory. */
struct bt_picker *bt_picker_new(uint32_t num_pieces, int64_t piece_length, int64_t total_size);
void bt_picker_free(struct bt_picker *p);

/* Reseeds the tie-breaking generator (tests; the default seed varies). */
void bt_picker_seed(struct bt_picker *p, uint64_t seed);

uint32_t bt_picker_num_pieces(const struct bt_picker *p);
uint32_t bt_picker_piece_size(const struct bt_picker *p, uint32_t piece);
uint32_t bt_picker_num_blocks(const struct bt_picker *p, uint32_t piece);
/* Length of the block at `begin`, 0 if begin is not a block start in the piece. */
uint32_t bt_picker_block_size(const struct bt_picker *p, uint32_t piece, uint32_t begin);

/* ---- what we have ---- */

/* Marks a piece verified (resume data or a passed hash); drops its
 * download state, the caller cancels outstanding requests. */
void bt_picker_we_have(struct bt_picker *p, uint32_t piece);
const struct bitfield *bt_picker_have(const struct bt_picker *p);
/* Every piece with priority > 0 is had. */
bool bt_picker_is_complete(const struct bt_picker *p);
/* Pieces with priority > 0 not had yet. */
uint32_t bt_picker_wanted_missing(const struct bt_picker *p);

/* prio 0..7; -EINVAL outside, -ENOMEM. */
int bt_picker_set_piece_priority(struct bt_picker *p, uint32_t piece, int prio);
int bt_picker_piece_priority(const struct bt_picker *p, uint32_t piece);
void bt_picker_set_sequential(struct bt_picker *p, bool on);
/* Sequential mode's read-ahead (µTorrent's progressive_piece_span): pieces
 * at or beyond the first missing one + span are not started in order (a
 * peer that has none in the window gets nothing but end-game duplicates and
 * time-critical pieces); 0 = no limit, the whole torrent.  Rarest-first mode
 * ignores it. */
void bt_picker_set_sequential_span(struct bt_picker *p, uint32_t pieces);

/* Time-critical pieces, libtorrent's set_piece_deadline without the clock:
 * marks are counted (several streams may wait for one piece), each on
 * needs one off.  A mark on a piece of priority 0 or one we have does
 * nothing until that changes; it never makes a skipped piece wanted.
 * -EINVAL for a bad index, -ENOMEM. */
int bt_picker_set_critical(struct bt_picker *p, uint32_t piece, bool on);
bool bt_picker_is_critical(const struct bt_picker *p, uint32_t piece);

/* ---- availability ----
 * A peer's pieces are registered once (bitfield, or have-all, or have-none
 * then haves) and withdrawn with bt_picker_peer_gone() using the same
 * bitfield the peer ended with.  -EINVAL for an index out of range (the
 * caller should drop the peer), -ENOMEM. */
int bt_picker_peer_have(struct bt_picker *p, uint32_t piece);
int bt_picker_peer_bitfield(struct bt_picker *p, const struct bitfield *bf);
void bt_picker_peer_have_all(struct bt_picker *p);
/* bf may be NULL when had_all. */
void bt_picker_peer_gone(struct bt_picker *p, const struct bitfield *bf, bool had_all);
/* Connected peers that have the piece (have-all peers included). */
unsigned bt_picker_availability(const struct bt_picker *p, uint32_t piece);
/* qBittorrent's "availability" (libtorrent's distributed copies): the
 * minimum piece availability, counting our own pieces, plus the fraction
 * of pieces above that minimum in thousandths, rounded through a float. */
double bt_picker_distributed_copies(const struct bt_picker *p);

/* ---- requests ---- */

/* Fills out[0..max) with blocks to request from `peer` (which has the pieces
 * in peer_has, or everything if peer_has_all) and records them as requested
 * by peer.  Returns how many (0 when nothing is useful). */
int bt_picker_pick(struct bt_picker *p, const struct bitfield *peer_has, bool peer_has_all,
                   void *peer, struct bt_block *out, int max);

/* Peers that currently have the block requested (possibly including the one
 * it just arrived from: skip yourself).  Call before block_received, which
 * forgets them; the caller sends them a cancel.  Returns the count written. */
int bt_picker_block_requesters(const struct bt_picker *p, uint32_t piece, uint32_t begin,
                               void **out, int max);

/* A block arrived from peer.  1 = the piece now has every block (hash it),
 * 0 = more to come, -EINVAL = not expected: bad offset, piece not being
 * downloaded or already had, or the block already received (the caller
 * counts the bytes as wasted).  A block of a started piece is accepted even
 * when its request was cancelled, since the data is still useful. */
int bt_picker_block_received(struct bt_picker *p, uint32_t piece, uint32_t begin, void *peer);

/* Forgets peer's request of one block (choke, reject, timeout) or of all
 * blocks (disconnect) so others can take them. */
void bt_picker_block_cancel(struct bt_picker *p, uint32_t piece, uint32_t begin, void *peer);
void bt_picker_peer_cancel_all(struct bt_picker *p, void *peer);

/* Hash check results.  failed: every block back to missing (also un-haves a
 * piece that had been marked had, for a recheck).  passed = we_have. */
void bt_picker_piece_failed(struct bt_picker *p, uint32_t piece);
void bt_picker_piece_passed(struct bt_picker *p, uint32_t piece);

enum { BT_PIECE_MISSING = 0, BT_PIECE_DOWNLOADING = 1, BT_PIECE_HAVE = 2 };
/* 0 missing, 1 started (blocks requested or received), 2 have. */
int bt_picker_piece_state(const struct bt_picker *p, uint32_t piece);

#endif
