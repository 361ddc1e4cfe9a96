/* wire — the BitTorrent peer wire framing (BEP3, BEP6 fast, BEP10 extended,
 * BEP52 hash request/hashes/hash reject).
 *
 * Pure codec, no I/O and no state: the peer connection feeds its input
 * buffer to bt_wire_parse() and appends outgoing messages with the
 * bt_wire_put_* builders.  Parsing is zero-copy (payloads point into the
 * input) and bounded: a frame longer than the caller's max_len is rejected
 * before any of it is buffered, and every known id has its exact length
 * checked, so a peer cannot make us read a field that is not there.
 */
#ifndef TD_BT_WIRE_H
#define TD_BT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum bt_msg_id {
    BT_MSG_KEEPALIVE = -1,
    BT_MSG_CHOKE = 0,
    BT_MSG_UNCHOKE = 1,
    BT_MSG_INTERESTED = 2,
    BT_MSG_NOT_INTERESTED = 3,
    BT_MSG_HAVE = 4,
    BT_MSG_BITFIELD = 5,
    BT_MSG_REQUEST = 6,
    BT_MSG_PIECE = 7,
    BT_MSG_CANCEL = 8,
    BT_MSG_PORT = 9,
    BT_MSG_SUGGEST = 13,
    BT_MSG_HAVE_ALL = 14,
    BT_MSG_HAVE_NONE = 15,
    BT_MSG_REJECT = 16,
    BT_MSG_ALLOWED_FAST = 17,
    BT_MSG_EXTENDED = 20,
    BT_MSG_HASH_REQUEST = 21,     /* BEP52; payload = the 48-byte request */
    BT_MSG_HASHES = 22,           /* payload = the request, then the hashes */
    BT_MSG_HASH_REJECT = 23,      /* payload = the request */
};

/* BEP52 request header: pieces root, base layer, index, length, proof layers. */
#define BT_WIRE_HASH_REQ_LEN 48

#define BT_WIRE_HANDSHAKE_LEN 68
#define BT_WIRE_BLOCK_SIZE 16384u
/* A max_len for bt_wire_parse that admits a 16 KiB block, a bitfield of up
 * to 8M pieces and 1 MiB extended messages (ut_metadata pieces are 16 KiB;
 * large ones are ext handshakes and pex).  Peers asking for more are broken
 * or hostile. */
#define BT_WIRE_DEFAULT_MAX_LEN (BT_WIRE_BLOCK_SIZE + 13 + 1024 * 1024)

struct bt_handshake {
    uint8_t reserved[8];
    uint8_t info_hash[20];
    uint8_t peer_id[20];
    bool fast;   /* BEP6: reserved[7] & 0x04 */
    bool ext;    /* BEP10: reserved[5] & 0x10 */
    bool dht;    /* BEP5: reserved[7] & 0x01 */
};

/* Appends the 68-byte handshake advertising fast and extended messages. */
int bt_wire_handshake_build(struct buf *b, const uint8_t info_hash[20], const uint8_t peer_id[20]);
/* p must hold BT_WIRE_HANDSHAKE_LEN bytes.  -EPROTO unless the protocol
 * string is exactly "\x13BitTorrent protocol". */
int bt_wire_handshake_parse(const uint8_t *p, struct bt_handshake *out);

struct bt_msg {
    int id;                  /* enum bt_msg_id, -1 keep-alive, or an unknown id as sent */
    uint32_t index, begin, length;   /* have/request/piece/cancel/reject/suggest/allowed_fast;
                                        port: index holds the port */
    const uint8_t *payload;  /* bitfield, piece block, extended body, unknown ids; points into p */
    size_t payload_len;
    uint8_t ext_id;          /* extended */
};

/* Decodes one message from p[0..n).  Returns 0 with *out filled and
 * *consumed set to the frame size; -EAGAIN when the frame is not complete
 * yet (nothing consumed); -EPROTO when the length prefix exceeds max_len, a
 * known id has the wrong length, or a piece/extended message is too short to
 * carry its header.  Unknown ids are returned with their payload so the
 * caller can skip them. */
int bt_wire_parse(const uint8_t *p, size_t n, uint32_t max_len, struct bt_msg *out, size_t *consumed);

/* Builders: append one complete frame; 0 or -ENOMEM. */
int bt_wire_put_keepalive(struct buf *b);
int bt_wire_put_choke(struct buf *b);
int bt_wire_put_unchoke(struct buf *b);
int bt_wire_put_interested(struct buf *b);
int bt_wire_put_not_interested(struct buf *b);
int bt_wire_put_have(struct buf *b, uint32_t index);
int bt_wire_put_bitfield(struct buf *b, const uint8_t *bits, size_t nbytes);
int bt_wire_put_request(struct buf *b, uint32_t index, uint32_t begin, uint32_t len);
/* Header only (length prefix covers the block); the caller appends len bytes. */
int bt_wire_put_piece_header(struct buf *b, uint32_t index, uint32_t begin, uint32_t len);
int bt_wire_put_cancel(struct buf *b, uint32_t index, uint32_t begin, uint32_t len);
int bt_wire_put_reject(struct buf *b, uint32_t index, uint32_t begin, uint32_t len);
int bt_wire_put_have_all(struct buf *b);
int bt_wire_put_have_none(struct buf *b);
int bt_wire_put_allowed_fast(struct buf *b, uint32_t index);
int bt_wire_put_suggest(struct buf *b, uint32_t index);
int bt_wire_put_extended(struct buf *b, uint8_t ext_id, const uint8_t *payload, size_t len);
int bt_wire_put_port(struct buf *b, uint16_t port);
/* BEP52 hash request (the 48 bytes: pieces root, base, index, length, proof). */
int bt_wire_put_hash_request(struct buf *b, const uint8_t *req);
/* BEP52 answers to a hash request `req` (BT_WIRE_HASH_REQ_LEN bytes, as received). */
int bt_wire_put_hashes(struct buf *b, const uint8_t *req, const uint8_t *hashes, size_t n);
int bt_wire_put_hash_reject(struct buf *b, const uint8_t *req);

/* BEP6 canonical allowed-fast set for a peer at IPv4 `ip`: writes up to k
 * distinct piece indices to out (k >= 0) and returns how many (fewer than k
 * only when num_pieces < k).  -EINVAL for bad arguments. */
int bt_wire_allowed_fast_set(const uint8_t info_hash[20], const uint8_t ip[4], uint32_t num_pieces,
                             int k, uint32_t *out);

/* Human-readable client name from the peer id ("qBittorrent 4.5.2");
 * unknown ids give their printable prefix.  Always NUL-terminates. */
void bt_wire_peer_client(const uint8_t peer_id[20], char *out, size_t outlen);

#endif
