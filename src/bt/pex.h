/* pex — BEP11 peer exchange (ut_pex) messages and per-connection diffs.
 *
 * Peers tell each other which peers they connected to and dropped since the
 * last message.  Received lists are untrusted and bounded; what we send is a
 * diff against what this connection was told before, at most one message a
 * minute and at most 50 added + 50 dropped per message, as BEP11 asks.
 * Private torrents must not use any of this (the caller's rule).
 */
#ifndef TD_BT_PEX_H
#define TD_BT_PEX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/buf.h"

#define BT_PEX_MAX_PEERS 200          /* per received list (added, added6, dropped, dropped6) */
#define BT_PEX_SEND_MAX 50            /* per list in a message we send */
#define BT_PEX_INTERVAL_MS 60000

enum {
    BT_PEX_ENCRYPTION = 0x01,
    BT_PEX_SEED = 0x02,
    BT_PEX_UTP = 0x04,
    BT_PEX_HOLEPUNCH = 0x08,
    BT_PEX_REACHABLE = 0x10,
};

struct bt_pex_peer {
    struct sockaddr_storage addr;     /* AF_INET or AF_INET6 with port */
    uint8_t flags;                    /* BT_PEX_*; always 0 for dropped peers */
};

struct bt_pex_msg {
    struct bt_pex_peer *added;        /* IPv4 ones first, then IPv6 */
    size_t num_added;
    struct bt_pex_peer *dropped;
    size_t num_dropped;
};

/* Parses the payload after the extended message id byte.  Compact lists
 * whose length is not a multiple of 6 (18 for IPv6) or that hold more than
 * BT_PEX_MAX_PEERS entries give -EPROTO; a missing or short added.f only
 * leaves flags at 0; entries with port 0 are skipped.  On error *out is empty
 * (bt_pex_msg_free is still safe).  Returns 0, -EPROTO or -ENOMEM. */
int bt_pex_parse(const uint8_t *p, size_t n, struct bt_pex_msg *out);
void bt_pex_msg_free(struct bt_pex_msg *m);

/* Appends a bencoded payload with all six keys (empty strings where there is
 * nothing), as libtorrent does.  Addresses of other families are skipped.
 * Returns 0, -EINVAL (more than BT_PEX_MAX_PEERS in a list) or -ENOMEM. */
int bt_pex_build(struct buf *b, const struct bt_pex_peer *added, size_t na,
                 const struct bt_pex_peer *dropped, size_t nd);

/* What this connection has been told, so the next message is a diff. */
struct bt_pex_state;
int bt_pex_state_new(struct bt_pex_state **out);
void bt_pex_state_free(struct bt_pex_state *s);

/* current: the peers we are connected to now (duplicates fine).  Returns 1
 * when a message (the diff, at most BT_PEX_SEND_MAX per list; the rest goes
 * in later messages) was appended to out, 0 when it is too soon after the
 * last message or nothing changed, -ENOMEM. */
int bt_pex_state_diff(struct bt_pex_state *s, const struct bt_pex_peer *current, size_t n,
                      uint64_t now_ms, struct buf *out);

#endif
