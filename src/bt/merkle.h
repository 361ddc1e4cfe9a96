/* merkle — the SHA-256 hash trees of BitTorrent v2 (BEP52).
 *
 * A file is cut into 16 KiB blocks; each leaf is the SHA-256 of one block
 * (the last block of a file is hashed as it is, not zero-filled).  The
 * leaves are padded up to a power of two with leaves of 32 zero bytes, and
 * each node is the SHA-256 of its two children concatenated.  The file's
 * `pieces root` is the root of that tree; the `piece layer` is the layer
 * whose nodes each cover one piece (piece_length / 16 KiB leaves).  Files of
 * at most one piece have no piece layer: their root covers only
 * next_pow2(blocks) leaves, not a whole piece.  Empty files have no tree.
 *
 * Pure functions, safe on any thread (creator and hash checks run them on
 * workers).
 */
#ifndef TD_BT_MERKLE_H
#define TD_BT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_BLOCK 16384
#define MERKLE_HASH 32

/* Smallest power of two >= n (1 for n = 0). */
size_t merkle_width(size_t n);

/* Number of 16 KiB blocks in len bytes. */
size_t merkle_blocks(int64_t len);

/* Leaf hashes of data[0..len): merkle_blocks(len) * 32 bytes into leaves.
 * Returns 0 or -EIO (SHA-256 unavailable). */
int merkle_leaves(const uint8_t *data, size_t len, uint8_t *leaves);

/* Root of a subtree of `width` zero leaves (width a power of two): what a
 * node beyond the end of a file hashes to at that height. */
int merkle_pad(size_t width, uint8_t out[MERKLE_HASH]);

/* Root over n nodes padded with copies of `pad` up to `width` nodes (width a
 * power of two >= n >= 1).  Returns 0, -EINVAL or -ENOMEM. */
int merkle_root(const uint8_t *nodes, size_t n, size_t width, const uint8_t pad[MERKLE_HASH],
                uint8_t out[MERKLE_HASH]);

/* Hash of one piece of a file: the root over the leaves of data[0..len)
 * padded with zero leaves up to `width` leaves — piece_length / 16 KiB for
 * a piece-layer entry, merkle_width(blocks) when the file fits in one piece
 * (the result is then the pieces root).  0, -EINVAL, -ENOMEM or -EIO. */
int merkle_piece(const uint8_t *data, size_t len, size_t width, uint8_t out[MERKLE_HASH]);

/* A file's pieces root from its piece layer (n hashes, n >= 2 for a real
 * layer; n = 1 is accepted and returns that hash). */
int merkle_file_root(const uint8_t *layer, size_t n, int64_t piece_length,
                     uint8_t out[MERKLE_HASH]);

/* The answer to a BEP52 hash request for one file, from its piece layer
 * (n nodes; the file has more than one piece): `count` nodes of layer
 * `base` (0 = leaves) from `index`, then the uncle hashes up to `proof`
 * layers above base, as libtorrent 2.0 sends and checks them (uncles start
 * at the sibling of the subtree the requested nodes span).  Only layers at
 * or above the piece layer can be served (no leaves are kept).  out must
 * hold MERKLE_HASH * (count + proof) bytes; *nout gets the hash count.
 * Returns 0, -EINVAL (a request libtorrent would refuse too, or below the
 * piece layer), -E2BIG (a layer too large to hash on request) or -ENOMEM. */
#define MERKLE_REQ_MAX_COUNT 8192
#define MERKLE_REQ_MAX_LAYER 65536    /* piece-layer nodes hashed for one answer */
int merkle_hash_request(const uint8_t *layer, size_t n, int64_t piece_length, uint32_t base,
                        uint32_t index, uint32_t count, uint32_t proof, uint8_t *out, size_t *nout);

#endif
