/* tracker — the announcer: which trackers to contact, when, and with what.
 *
 * One tracker_client per session holds what all torrents share: the HTTP
 * fetcher (borrowed, not owned), one UDP socket per address family, the
 * BEP15 connection ids (per tracker host:port, valid 60 s), our peer id,
 * port and announce key.  One tracker_set per torrent holds its tiers.
 *
 * There are no timers per torrent: the session calls tracker_set_tick()
 * about once a second for active torrents and the set does all its
 * scheduling there, in the session's clock (now_ms).  Replies arrive on the
 * loop thread and are reported through the callbacks.  Tiers follow BEP12:
 * each tier is shuffled once, tried in order, and a tracker that answers
 * moves to the front of its tier.  By default the first working tracker of
 * every tier is announced to (qBittorrent's announce_to_all_tiers).
 */
#ifndef TD_BT_TRACKER_TRACKER_H
#define TD_BT_TRACKER_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "bt/metainfo.h"
#include "bt/tracker/announce.h"
#include "util/fetch.h"

struct tracker_client;
struct tracker_set;

/* qBittorrent's tracker status values. */
enum tracker_status {
    TRACKER_DISABLED = 0,
    TRACKER_NOT_CONTACTED = 1,
    TRACKER_WORKING = 2,
    TRACKER_UPDATING = 3,
    TRACKER_NOT_WORKING = 4,
};

struct tracker_entry {
    char *url;
    int tier;
    int status;                 /* enum tracker_status */
    char msg[256];              /* failure reason, error or warning; "" when none */
    int64_t num_peers, num_seeds, num_leeches, num_downloaded;   /* -1 unknown */
    /* The swarm as the last reply said, the event=stopped one's included
     * (libtorrent's num_complete/num_incomplete); the row's counts above keep
     * the last running values through a stop, as qBittorrent shows them. */
    int64_t swarm_seeds, swarm_leeches;                          /* -1 unknown */
    uint64_t next_announce_ms, min_announce_ms;                  /* session clock; 0 = none */
};

struct tracker_callbacks {
    void (*get_stats)(void *ud, int64_t *uploaded, int64_t *downloaded, int64_t *left);
    void (*on_peers)(void *ud, const struct tracker_peer *peers, size_t n);
    void (*on_changed)(void *ud);   /* an entry's status/message/counts changed */
};

/* f is borrowed and must outlive the client.  Returns 0, -ENOMEM. */
int tracker_client_new(uv_loop_t *loop, struct fetch *f, const uint8_t peer_id[20],
                       uint16_t listen_port, struct tracker_client **out);
/* Every set must be freed first.  Detached event=stopped requests already
 * handed to the fetcher are left to it. */
void tracker_client_free(struct tracker_client *tc);
/* True when no detached event=stopped request is in flight (once every set
 * is freed, nothing else can be): shutdown waits for this, up to
 * qBittorrent's stop_tracker_timeout. */
bool tracker_client_idle(const struct tracker_client *tc);
void tracker_client_set_port(struct tracker_client *tc, uint16_t port);
/* Sends UDP and HTTP from ip (NULL = any).  Returns 0 or -EINVAL. */
int tracker_client_set_bind(struct tracker_client *tc, const char *ip);
void tracker_client_set_numwant(struct tracker_client *tc, int numwant);
/* libtorrent's two tracker timeouts (0 = default).  receive_ms (10 s): an
 * HTTP request that connects or receives nothing for this long ends; a UDP
 * datagram unanswered for receive_ms * 2^n is sent again (BEP15's 15 * 2^n
 * schedule, n = sends so far, up to 8).  completion_ms (30 s): any
 * announce or scrape, HTTP or UDP with all its retransmits, ends by then
 * ("timed out"); an event=stopped one by stop_ms instead (below). */
void tracker_client_set_timeouts(struct tracker_client *tc, uint32_t receive_ms, uint32_t completion_ms);
/* libtorrent's stop_tracker_timeout (qBittorrent's preference, 5 s by
 * default): the completion timeout of an event=stopped announce, HTTP or
 * UDP (the receive timeout applies as well); 0: no event=stopped announce is
 * sent at all, as libtorrent suppresses them. */
void tracker_client_set_stop_timeout(struct tracker_client *tc, uint32_t stop_ms);
/* HTTP announces and scrapes in flight across all sets at most (qBittorrent's
 * max_concurrent_http_announces; 0 counts as 1); due announces beyond wait. */
void tracker_client_set_max_http(struct tracker_client *tc, size_t n);
/* libtorrent's validate_https_trackers (qBittorrent's
 * validate_https_tracker_certificate, on by default): off, an https
 * tracker's certificate and host name are not checked. */
/* A new peer id for the announces from now on (anonymous_mode switched). */
void tracker_client_set_peer_id(struct tracker_client *tc, const uint8_t peer_id[20]);
/* The User-Agent of HTTP announces: NULL the default ("torrentd/<version>"),
 * "" none at all (anonymous_mode). */
void tracker_client_set_user_agent(struct tracker_client *tc, const char *ua);
/* fn(ud, ip) hears the address a tracker says it saw us at (BEP24's
 * "external ip", printable) with every reply that has one. */
void tracker_client_set_external_ip_fn(struct tracker_client *tc, void (*fn)(void *ud, const char *ip), void *ud);
/* libtorrent's ssrf_mitigation (on by default in qBittorrent): an HTTP
 * tracker on a loopback address is contacted only when its URL's path ends
 * in /announce. */
void tracker_client_set_ssrf_mitigation(struct tracker_client *tc, bool on);
/* refuse(ud, addr) is asked before any tracker address is contacted (HTTP,
 * redirects included, and UDP); true refuses it: the announce fails with
 * "blocked by the IP filter" when no address is left (libtorrent's
 * apply_ip_filter_to_trackers).  NULL: every address is fine. */
void tracker_client_set_refuse(struct tracker_client *tc, bool (*refuse)(void *ud, const struct sockaddr *sa),
                               void *ud);
void tracker_client_set_validate_https(struct tracker_client *tc, bool on);
/* libtorrent's announce_ip and announce_port (qBittorrent's preferences of
 * those names): the &ip= claimed in every announce ("" = none; an IPv4 one
 * also in UDP announces; longer than 63 bytes is cut) and the port
 * reported instead of the listen port (0 = the listen port). */
void tracker_client_set_announce(struct tracker_client *tc, const char *ip, uint16_t port);
/* The proxy for BitTorrent (core/proxy.c): HTTP announces and scrapes go
 * through url (a libcurl proxy URL); while `required`, UDP trackers are not
 * contacted (their rows say why) and, should url be "" (unusable
 * settings), neither are HTTP ones: nothing goes around a configured proxy.
 * url NULL or "" with required false: direct. */
void tracker_client_set_proxy(struct tracker_client *tc, const char *url, bool required);
/* BEP7: the IPv6 address we accept peers on, sent as &ipv6= in HTTP
 * announces so a tracker reached over IPv4 can hand it to IPv6 peers ("" or
 * NULL = none; not sent while a proxy is required: it would tell the
 * tracker what the proxy hides). */
void tracker_client_set_ipv6(struct tracker_client *tc, const char *ip6);

/* tiers are copied.  Returns NULL on out-of-memory. */
struct tracker_set *tracker_set_new(struct tracker_client *tc, const uint8_t info_hash[20],
                                    const struct bt_tier *tiers, size_t num_tiers,
                                    const struct tracker_callbacks *cb, void *ud);
/* Cancels everything in flight; no callback afterwards.  Allowed from
 * inside this set's callbacks. */
void tracker_set_free(struct tracker_set *ts);

void tracker_set_start(struct tracker_set *ts);       /* event=started on the next tick */
/* event=stopped now, best effort; ticks idle.  Rows keep their status,
 * message and counts (qbittorrent-nox 4.5.2 shows a paused torrent's tracker
 * as it was); the reply only updates swarm_seeds/swarm_leeches. */
void tracker_set_stop(struct tracker_set *ts);
void tracker_set_completed(struct tracker_set *ts);   /* event=completed on the next tick */
void tracker_set_reannounce(struct tracker_set *ts);  /* next tick, ignoring interval and min interval */
void tracker_set_tick(struct tracker_set *ts, uint64_t now_ms);
void tracker_set_announce_all(struct tracker_set *ts, bool all_trackers);
/* all_tiers (the default; qBittorrent's announce_to_all_tiers): a tracker
 * of every tier is announced to.  Off: BEP12 to the letter, the next tier
 * only when every tracker of the ones before failed. */
void tracker_set_announce_tiers(struct tracker_set *ts, bool all_tiers);
/* The set announces port_fn(ud) instead of the client's port (SSL torrents). */
void tracker_set_port_fn(struct tracker_set *ts, uint16_t (*port_fn)(void *ud));

size_t tracker_set_count(const struct tracker_set *ts);
const struct tracker_entry *tracker_set_entry(const struct tracker_set *ts, size_t i);  /* NULL past the end */
/* Return 0, -EINVAL (bad URL or tier), -EEXIST, -ENOENT or -ENOMEM. */
int tracker_set_add(struct tracker_set *ts, const char *url, int tier);
int tracker_set_remove(struct tracker_set *ts, const char *url);
int tracker_set_replace(struct tracker_set *ts, const char *old_url, const char *new_url);
/* URL of the first working tracker; while stopped, the one that was working
 * when the set stopped (if still listed); else NULL. */
const char *tracker_set_current(const struct tracker_set *ts);

#endif
