/* trackd — the embedded tracker's swarms and its answers (BEP3 HTTP
 * tracker, BEP23 compact peers, BEP7 peers6, BEP48 scrape), without the
 * HTTP: core/etracker.c serves it.
 *
 * Behaviour as qBittorrent's embedded tracker (src/base/bittorrent/
 * tracker.cpp): announce needs info_hash (20 bytes), peer_id (at most 20)
 * and a port 1..65535; `ip` (a peer's claimed address, IPv4 or IPv6) wins
 * over the socket address, an IPv4-mapped socket address counts as IPv4;
 * `left=0` is a seed; `compact` is on unless "0"; `no_peer_id=1` drops peer
 * ids from a dictionary list; events started, completed, paused, empty or
 * none register the peer, stopped removes it, anything else fails.  A peer
 * is known by address and port.  The reply has interval 1800, complete,
 * incomplete, `external ip` (BEP24), `peers` (always) and `peers6` (when
 * there are any).  Errors are a bencoded `failure reason` (HTTP 200).
 *
 * Beyond qBittorrent: `ipv6` (BEP7) gives a peer a second, IPv6 endpoint;
 * peers that stop announcing expire after TRACKD_EXPIRE_S; /scrape answers
 * complete, incomplete and downloaded (completed events) per info_hash;
 * the requester is never sent back to itself; numwant is capped at
 * TRACKD_MAX_PEERS.  Memory is bounded: at most TRACKD_MAX_TORRENTS swarms
 * (a new swarm beyond that replaces the one announced to least recently),
 * TRACKD_MAX_PEERS per swarm (the stalest peer makes room) and
 * TRACKD_MAX_ALL_PEERS in all (then a swarm only replaces its own).
 */
#ifndef TD_BT_TRACKER_TRACKD_H
#define TD_BT_TRACKER_TRACKD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct buf;
struct trackd;

#define TRACKD_INTERVAL_S 1800
#define TRACKD_EXPIRE_S (2 * TRACKD_INTERVAL_S + 300)
#define TRACKD_MAX_TORRENTS 10000
#define TRACKD_MAX_PEERS 200
#define TRACKD_MAX_ALL_PEERS 100000
#define TRACKD_NUMWANT 50
#define TRACKD_MAX_SCRAPE 64       /* info_hashes in one scrape */

/* One query parameter, percent-decoded (binary: no NUL terminator needed). */
struct trackd_param {
    const char *key;
    size_t klen;
    const uint8_t *val;
    size_t vlen;
};

struct trackd *trackd_new(void);
void trackd_free(struct trackd *td);

/* Answers an announce from `from` (the socket's address) at now_s
 * (monotonic seconds): the bencoded reply (a failure reason included) is
 * appended to out.  0, or -ENOMEM. */
int trackd_announce(struct trackd *td, const struct trackd_param *p, size_t n, const struct sockaddr *from,
                    uint64_t now_s, struct buf *out);
/* Answers a scrape (one or more info_hash parameters). */
int trackd_scrape(struct trackd *td, const struct trackd_param *p, size_t n, struct buf *out);
/* Drops the peers not heard from since now_s - TRACKD_EXPIRE_S, and swarms left empty. */
void trackd_expire(struct trackd *td, uint64_t now_s);

size_t trackd_torrents(const struct trackd *td);
size_t trackd_peers(const struct trackd *td);

#endif
