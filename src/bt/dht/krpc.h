/* dht/krpc — the KRPC message codec of the DHT (BEP5, BEP32, BEP42, BEP43).
 *
 * Every datagram that reaches the DHT socket is untrusted.  dht_krpc_parse()
 * turns it into one plain struct dht_msg or refuses it; nothing else in the
 * DHT looks at bencoded bytes.  The parser is strict about what the DHT
 * relies on (20-byte ids, compact node lengths, types) and bounded in every
 * dimension (datagram size, bencode depth and tokens, string copies, number
 * of values).  Unknown keys are ignored, as BEP5 asks.
 *
 * The encoder writes the same struct back, keys sorted, so a round trip is
 * the identity on everything the DHT uses.
 */
#ifndef TD_BT_DHT_KRPC_H
#define TD_BT_DHT_KRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define DHT_ID_LEN 20
#define DHT_MAX_PACKET 4096      /* larger datagrams are dropped unread */
#define DHT_TID_MAX 16           /* our own ids are 4 bytes; others use 1..8 */
#define DHT_TOKEN_MAX 64
#define DHT_VALUES_MAX 100       /* further values in one reply are ignored */
#define DHT_ERRMSG_MAX 128
#define DHT_NODE4_LEN 26         /* compact node: id + IPv4 + port */
#define DHT_NODE6_LEN 38         /* id + IPv6 + port */

enum dht_msg_type { DHT_MSG_QUERY = 1, DHT_MSG_RESPONSE, DHT_MSG_ERROR };

enum dht_method {
    DHT_M_UNKNOWN = 0,
    DHT_M_PING,
    DHT_M_FIND_NODE,
    DHT_M_GET_PEERS,
    DHT_M_ANNOUNCE_PEER,
};

/* BEP32 "want" bits. */
#define DHT_WANT_N4 1u
#define DHT_WANT_N6 2u

/* KRPC error codes (BEP5). */
#define DHT_ERR_GENERIC 201
#define DHT_ERR_SERVER 202
#define DHT_ERR_PROTOCOL 203
#define DHT_ERR_METHOD 204

/* A compact peer: 6 bytes (IPv4 + port) or 18 bytes (IPv6 + port). */
struct dht_peer {
    uint8_t len;
    uint8_t b[18];
};

struct dht_msg {
    int type;                         /* enum dht_msg_type; 0 when unknown */
    uint8_t tid[DHT_TID_MAX];
    size_t tid_len;
    bool has_tid;
    int method;                       /* queries: enum dht_method */
    bool has_id;
    uint8_t id[DHT_ID_LEN];           /* a.id or r.id */
    bool has_target;
    uint8_t target[DHT_ID_LEN];       /* find_node target, get_peers/announce_peer info_hash */
    uint8_t token[DHT_TOKEN_MAX];
    size_t token_len;
    int port;                         /* announce_peer port; -1 when absent */
    bool implied_port;
    unsigned want;                    /* DHT_WANT_* */
    bool read_only;                   /* BEP43 "ro": 1 */
    /* Responses.  When parsed, nodes/nodes6 point into the caller's input. */
    const uint8_t *nodes;
    size_t nodes_len;                 /* multiple of DHT_NODE4_LEN */
    const uint8_t *nodes6;
    size_t nodes6_len;                /* multiple of DHT_NODE6_LEN */
    struct dht_peer values[DHT_VALUES_MAX];
    size_t n_values;
    uint8_t ip[18];                   /* BEP42 "ip": our address as the sender saw it */
    size_t ip_len;                    /* 0, 6 or 18 */
    /* Errors (and, after a failed parse, what to answer a query with). */
    int error_code;
    char error_msg[DHT_ERRMSG_MAX];
};

/* Parses one datagram.  Returns 0, or -EPROTO when it is malformed; then
 * out->type, out->has_tid/tid (when they could be read) and out->error_code
 * (DHT_ERR_PROTOCOL or DHT_ERR_METHOD) with error_msg say how to answer a
 * query.  Never reads outside p[0..n). */
int dht_krpc_parse(const uint8_t *p, size_t n, struct dht_msg *out);

/* Appends m as one bencoded KRPC message (keys sorted).  Returns 0, -EINVAL
 * (type/method/lengths inconsistent) or -ENOMEM. */
int dht_krpc_encode(struct buf *b, const struct dht_msg *m);

/* Resets m to an empty message (port -1). */
void dht_msg_init(struct dht_msg *m);

#endif
