/* metadata — BEP9 ut_metadata messages and assembly of a magnet's info dict.
 *
 * A magnet gives only the info-hash; peers send the bencoded info dict in
 * 16 KiB blocks.  Everything a peer says is untrusted: the announced size is
 * bounded, each block must have exactly the size its index implies, and the
 * assembled dict is used only once its SHA-1 (SHA-256 for a v2 magnet)
 * equals the info-hash.
 *
 * All of this runs on the loop thread; the SHA-1 over at most 32 MiB is done
 * inline (a few ms) because it happens once per magnet.
 */
#ifndef TD_BT_METADATA_H
#define TD_BT_METADATA_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum { BT_METADATA_REQUEST = 0, BT_METADATA_DATA = 1, BT_METADATA_REJECT = 2 };

#define BT_METADATA_BLOCK 16384
#define BT_METADATA_MAX (32 * 1024 * 1024)   /* bigger metadata_size announcements are refused */
#define BT_METADATA_TIMEOUT_MS 10000         /* an unanswered request is handed to another peer */

struct bt_metadata_msg {
    int type;               /* BT_METADATA_* */
    uint32_t piece;         /* < BT_METADATA_MAX / BT_METADATA_BLOCK */
    int64_t total_size;     /* DATA only: 1..BT_METADATA_MAX; -1 otherwise */
    const uint8_t *data;    /* DATA only: points into the input, the bytes after the dict */
    size_t data_len;        /* <= BT_METADATA_BLOCK */
};

/* Parses the payload after the extended message id byte.  Returns 0,
 * -EPROTO (not a dict, missing/out-of-range msg_type, piece or total_size,
 * data too long) or -ENOTSUP for an unknown msg_type, which BEP9 says to
 * ignore rather than treat as an error. */
int bt_metadata_parse(const uint8_t *p, size_t n, struct bt_metadata_msg *out);

/* Append the bencoded payload only (no length prefix, no message ids).
 * put_data appends the dict followed by the len raw bytes.  0 or -ENOMEM
 * (-EINVAL for len > BT_METADATA_BLOCK). */
int bt_metadata_put_request(struct buf *b, uint32_t piece);
int bt_metadata_put_data(struct buf *b, uint32_t piece, int64_t total_size, const uint8_t *data, size_t len);
int bt_metadata_put_reject(struct buf *b, uint32_t piece);

/* Collects blocks from several peers.  Peers are opaque keys, only compared. */
struct bt_metadata_asm;

/* -EINVAL when size <= 0 or > BT_METADATA_MAX, -ENOMEM. */
int bt_metadata_asm_new(const uint8_t info_hash[20], int64_t size, struct bt_metadata_asm **out);
/* For a v2 magnet (urn:btmh): the dict is checked by SHA-256 instead. */
int bt_metadata_asm_new_v2(const uint8_t info_hash_v2[32], int64_t size, struct bt_metadata_asm **out);

/* The next block index to request from peer, or -1 when nothing is left to
 * ask for (all received or all in flight).  Unrequested blocks come first;
 * a block requested more than BT_METADATA_TIMEOUT_MS ago is handed out
 * again, to this or another peer. */
int bt_metadata_asm_next(struct bt_metadata_asm *a, void *peer, uint64_t now_ms);

/* Stores a received block.  Every block is BT_METADATA_BLOCK bytes except the
 * last, which holds the remainder.  Returns 1 once, when the last missing
 * block completes a dict whose SHA-1 matches; 0 when more are needed (or the
 * block was a duplicate, or metadata is already complete); -EILSEQ when
 * complete but the hash does not match — every block is then forgotten so
 * the download starts over; -EINVAL for a bad index or size. */
int bt_metadata_asm_add(struct bt_metadata_asm *a, uint32_t piece, const uint8_t *data, size_t len);

/* The verified info dict, or NULL until bt_metadata_asm_add returned 1. */
const uint8_t *bt_metadata_asm_data(const struct bt_metadata_asm *a, size_t *len);

/* The peer's outstanding requests become available to others at once. */
void bt_metadata_asm_peer_gone(struct bt_metadata_asm *a, void *peer);
void bt_metadata_asm_free(struct bt_metadata_asm *a);

#endif
