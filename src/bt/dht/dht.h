/* dht — a Mainline DHT node (BEP5, BEP32 IPv6, BEP42 node ids, BEP43 ro).
 *
 * The whole subsystem sits behind this small API, in the spirit of jech/dht:
 * the session creates one struct dht on its loop, feeds it bootstrap nodes
 * and known nodes, calls dht_tick() once a second and asks for peers of an
 * info-hash.  The DHT owns one UDP socket per address family on the
 * BitTorrent listen port and does everything else itself: answering
 * queries (ping, find_node, get_peers, announce_peer), keeping the routing
 * tables, rotating write tokens, storing announced peers, rate-limiting
 * incoming queries, and running iterative lookups (alpha=3 queries in
 * flight, converging on the K=8 closest nodes).
 *
 * Everything runs on the loop thread; nothing blocks.  Time is the
 * session's clock: the last now_ms given to dht_tick() (uv_now() before the
 * first tick); timeouts and rotations happen in dht_tick(), so their
 * granularity is the tick period.
 */
#ifndef TD_BT_DHT_DHT_H
#define TD_BT_DHT_DHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct dht;
struct dht_lookup;

struct dht_config {
    const char *bind_address;       /* NULL = any; an IPv4 or IPv6 literal binds that family only */
    uint16_t port;                  /* 0 = any (see dht_port) */
    const uint8_t *node_id;         /* 20 bytes; NULL = random (BEP42-conformant when
                                       bind_address is a public IPv4/IPv6 address) */
    bool ipv6;                      /* also run on IPv6 when bind_address is NULL */
    unsigned max_queries_per_sec;   /* incoming queries answered per second in total;
                                       0 = 250; each source IP gets 1/25 of it (10) */
    bool allow_local;               /* accept and store loopback, private and link-local
                                       nodes (tests on 127.0.0.x need it) */
};

/* Binds the sockets and starts listening.  Returns 0, -EINVAL (bad
 * address), -ENOMEM, or the libuv error of the bind (e.g. -EADDRINUSE).
 * When the IPv6 socket cannot be bound but IPv4 works, the DHT runs on IPv4
 * only (logged). */
int dht_new(uv_loop_t *loop, const struct dht_config *cfg, struct dht **out);
/* Closes the sockets and drops all lookups without calling them back.  The
 * loop must run once more to finish closing.  Not from inside a callback. */
void dht_free(struct dht *d);

/* "host:port" or "[v6]:port"; resolved with uv_getaddrinfo, then queried
 * with find_node for our own id.  Bootstrap nodes are asked again whenever
 * the table runs low.  Returns 0, -EINVAL or -ENOMEM. */
int dht_add_bootstrap(struct dht *d, const char *host_port);
/* A node known to exist (a peer's PORT message): pinged, and added to the
 * table when it answers.  Returns 0, -EINVAL (unusable address) or
 * -EAFNOSUPPORT (no socket of its family). */
int dht_add_node(struct dht *d, const struct sockaddr *addr);

/* About once a second: query timeouts, lookup progress, token rotation,
 * pings of questionable nodes, bucket refresh, peer expiry, re-bootstrap. */
void dht_tick(struct dht *d, uint64_t now_ms);

/* Good nodes in the routing tables (both families). */
size_t dht_node_count(const struct dht *d);

/* Peers of an info-hash as they arrive (done=false, only ones not reported
 * before in this lookup) and a last call with n=0 and done=true.  After the
 * done call the lookup is gone. */
typedef void (*dht_peers_cb)(void *ud, const struct sockaddr_storage *peers, size_t n, bool done);

/* Starts an iterative get_peers lookup on every family that has a socket.
 * With announce, announce_peer goes to the 8 closest nodes that gave a token,
 * for announce_port (0 = implied_port: the DHT's UDP port).  *handle (may be
 * NULL) stays valid until the done callback or dht_lookup_cancel().
 * Returns 0 or -ENOMEM. */
int dht_get_peers(struct dht *d, const uint8_t info_hash[20], bool announce, uint16_t announce_port,
                  dht_peers_cb cb, void *ud, struct dht_lookup **handle);
/* Stops a lookup; no callback after.  Allowed inside its own callback. */
void dht_lookup_cancel(struct dht_lookup *l);

/* Routing table persistence, for the store:
 *   own id (20) | n4 (be16) | n4 x (id 20, IPv4 4, port 2)
 *               | n6 (be16) | n6 x (id 20, IPv6 16, port 2)
 * good nodes first.  *out is malloc'd.  Returns 0 or -ENOMEM. */
int dht_save_nodes(const struct dht *d, uint8_t **out, size_t *len);
/* Adds the nodes as questionable (they are pinged over the next ticks) and
 * starts a lookup for our own id.  The saved id is adopted when no node_id
 * was configured and the tables are still empty.  Returns 0 or -EPROTO
 * (malformed; nothing is added). */
int dht_load_nodes(struct dht *d, const uint8_t *p, size_t len);

const uint8_t *dht_node_id(const struct dht *d);
/* The socket is shared with uTP (BEP29) on the same port: a datagram that
 * cannot be KRPC (its first byte is not 'd') goes to cb instead, before any
 * of the DHT's address checks.  cb NULL = dropped (the default). */
typedef void (*dht_other_cb)(void *ud, const uint8_t *p, size_t n, const struct sockaddr *from);
void dht_set_other(struct dht *d, dht_other_cb cb, void *ud);
/* The DHT's socket of a family (AF_INET, AF_INET6), for the sharer to send
 * from; NULL when there is none.  Valid until dht_free. */
uv_udp_t *dht_socket(struct dht *d, int family);

/* The bound UDP port (useful with cfg.port = 0). */
uint16_t dht_port(const struct dht *d);

#endif
