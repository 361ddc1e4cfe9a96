/* layers — fetching the piece layers of a v2 torrent from peers (BEP52).
 *
 * A v2 info dict (what a `urn:btmh` magnet yields) holds only each file's
 * pieces root; checking a piece needs the file's piece layer, which comes
 * from peers in `hashes` answers to our `hash request`s.  Every answer is
 * untrusted: it must echo a request we have in flight to that peer, carry
 * exactly the hashes asked for, and, with its uncle hashes, hash up to the
 * file's pieces root.  A peer whose hashes do not verify is never asked
 * again (the caller also disconnects it); a reject or a request unanswered
 * for BT_LAYERS_TIMEOUT_MS hands that part to another peer.
 *
 * Files are asked for in parts of up to BT_LAYERS_CHUNK piece-layer nodes
 * (a subtree of the file's tree), the proof taking them up to the root.
 * Peers are opaque keys, only compared.  Loop thread only.
 */
#ifndef TD_BT_LAYERS_H
#define TD_BT_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/metainfo.h"
#include "util/buf.h"

#define BT_LAYERS_CHUNK 512            /* nodes per request (a power of two) */
#define BT_LAYERS_TIMEOUT_MS 10000
#define BT_LAYERS_PER_PEER 4           /* requests in flight to one peer */
#define BT_LAYERS_MAX_BAD 64           /* peers remembered as not to be asked (per part) */

struct bt_layers;

/* The parts to fetch for mi's files of more than one piece.  mi is only read
 * here.  -EINVAL when mi has no v2 view, -ENOMEM. */
int bt_layers_new(const struct bt_metainfo *mi, struct bt_layers **out);
void bt_layers_free(struct bt_layers *l);

/* Whether every layer has been received and verified (true at once when no
 * file has more than one piece). */
bool bt_layers_done(const struct bt_layers *l);

/* The next request to send to peer (BT_WIRE_HASH_REQ_LEN bytes into req):
 * 1, or 0 when there is nothing for this peer now (all received or in
 * flight, the peer has BT_LAYERS_PER_PEER in flight, or it rejected or
 * failed every part left).  A part asked for more than BT_LAYERS_TIMEOUT_MS
 * ago is taken from its peer (which is not asked for it again) and given
 * to this one. */
int bt_layers_next(struct bt_layers *l, void *peer, uint64_t now_ms, uint8_t *req);

/* A `hashes` payload (the request echoed, then the hashes) from peer.
 * Returns 1 when this completed the last layer, 0 when stored (or a stale
 * duplicate of a part we already have), -EPROTO when it answers nothing we
 * asked this peer or has the wrong number of hashes, -EILSEQ when the
 * hashes do not lead to the pieces root (the peer is not asked again). */
int bt_layers_add(struct bt_layers *l, void *peer, const uint8_t *payload, size_t len);

/* A `hash reject` payload (the request) from peer: the part goes to others. */
void bt_layers_reject(struct bt_layers *l, void *peer, const uint8_t *req);

/* The peer's requests in flight become available to others at once. */
void bt_layers_peer_gone(struct bt_layers *l, void *peer);

/* Appends the bencoded `piece layers` dict (pieces root -> layer, keys
 * sorted), for a .torrent that bt_metainfo_parse will check.  Only once
 * bt_layers_done.  0, -EAGAIN or -ENOMEM. */
int bt_layers_put(const struct bt_layers *l, struct buf *b);

#endif
