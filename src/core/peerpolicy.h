/* peerpolicy — qBittorrent's peer preferences that shape whom we talk to and
 * how (libtorrent's settings of the same meaning), in one place:
 *
 *   max_uploads              unchoke slots over all torrents (libtorrent's
 *                            unchoke_slots_limit; -1 or 0: unlimited)
 *   upload_slots_behavior    0 fixed slots, 1 upload-rate based (libtorrent's
 *                            rate_based_choker: one slot more for every peer
 *                            we upload to faster than a threshold that rises
 *                            1 KiB/s a slot, plus one to probe)
 *   upload_choking_algorithm how a seed picks: 0 round-robin, 1 fastest
 *                            upload, 2 anti-leech (bt/choker.h)
 *   peer_turnover*           every peer_turnover_interval s, a downloading
 *                            torrent at peer_turnover_cutoff % of its
 *                            connection limit drops peer_turnover % of its
 *                            peers, the slowest first, to make room for new
 *   peer_tos                 the IP TOS / traffic class of peer sockets
 *   connection_speed         outgoing connection attempts per second (a
 *                            token bucket; < 0 means 200, 0 none)
 *   announce_to_all_tiers    a tracker of every tier, or BEP12's first tier
 *   announce_to_all_trackers every tracker of a tier, or the first that works
 *   ssrf_mitigation          libtorrent's: an HTTP tracker on loopback only
 *                            at .../announce, a web seed on loopback without
 *                            a query string
 *   reannounce_when_address_changed
 *                            a tracker reporting a new external address
 *                            (BEP24) makes every torrent announce again
 *   anonymous_mode           no client id: a random peer id, no "v" and no
 *                            "yourip" in the extension handshake, no
 *                            User-Agent on tracker requests
 *
 * Everything applies live (SG_PEER_POLICY): the chokers run again, a new
 * peer id is made, the trackers are told.
 */
#ifndef TD_CORE_PEERPOLICY_H
#define TD_CORE_PEERPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct session;
struct torrent;
struct bt_choker_peer;

int peerpolicy_start(struct session *s);
void peerpolicy_stop(struct session *s);

/* The peer id for this run's settings into s->peer_id (at start: before
 * the tracker client is made). */
void peerpolicy_make_peer_id(struct session *s);
bool peerpolicy_anonymous(const struct session *s);

/* Unchoke slots for t given its peers' snapshot (cp[0..n)): the per-torrent
 * limit, the rate-based count and what the global limit leaves once the
 * other torrents' unchokes are counted.  -1 = unlimited. */
int peerpolicy_unchoke_slots(struct torrent *t, const struct bt_choker_peer *cp, size_t n);
/* upload_choking_algorithm as bt/choker's seed algorithm. */
int peerpolicy_seed_algorithm(const struct session *s);

/* announce_to_all_tiers and announce_to_all_trackers on t's tracker set. */
void peerpolicy_tracker_set(struct torrent *t);

/* fetch_opts.refuse_addr for web seeds (ud: the session): the IP filter,
 * and ssrf_mitigation's rule (no query string to a loopback address). */
bool peerpolicy_webseed_refused(void *ud, const char *url, const struct sockaddr *sa);

/* Takes one outgoing connection attempt from the connection_speed bucket;
 * false: none left this second (try on a later tick). */
bool peerpolicy_take_dial(struct session *s);

/* peer_tos on a connected peer socket. */
void peerpolicy_socket(struct session *s, uv_tcp_t *h, int family);

/* Once a second from the session tick: peer turnover. */
void peerpolicy_tick(struct session *s, uint64_t now_ms);

#endif
