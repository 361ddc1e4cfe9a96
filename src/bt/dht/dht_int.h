/* dht internals shared by dht.c (sockets, queries, maintenance) and
 * lookup.c (iterative lookups).  Not for use outside src/bt/dht. */
#ifndef TD_BT_DHT_DHT_INT_H
#define TD_BT_DHT_DHT_INT_H

#include "bt/dht/dht.h"
#include "bt/dht/krpc.h"
#include "bt/dht/node.h"
#include "bt/dht/routing.h"
#include "bt/dht/store.h"
#include "bt/dht/token.h"
#include "util/buf.h"

#define DHT_ALPHA 3
#define DHT_QUERY_TIMEOUT_MS 2000
#define DHT_MAX_PENDING 1024
#define DHT_LOOKUP_CANDS 32          /* per family, closest kept */
#define DHT_LOOKUP_MAX_QUERIES 64    /* per family */
#define DHT_LOOKUP_TIMEOUT_MS 60000
#define DHT_LOOKUP_EMPTY_MS 10000    /* give up on a family with no nodes at all */
#define DHT_LOOKUP_SEEN 256          /* peers remembered for de-duplication */
#define DHT_MAX_BOOTSTRAP 16
#define DHT_MAX_INTERNAL 4           /* self and refresh lookups at once */

/* Family index: 0 = IPv4, 1 = IPv6. */
static inline int dht_fam(const union dht_addr *a) { return a->sa.sa_family == AF_INET6; }

struct dht_sock {
    uv_udp_t h;
    struct dht *d;
    int fam;
};

struct dht_pending {
    uint32_t tid;
    union dht_addr addr;
    uint64_t sent_ms;
    int method;
    struct dht_lookup *l;    /* NULL for pings, bootstrap and announces */
    bool bootstrap;          /* a reply starts the self lookup */
};

enum { DHT_CAND_NEW, DHT_CAND_INFLIGHT, DHT_CAND_REPLIED, DHT_CAND_FAILED };

struct dht_cand {
    uint8_t id[DHT_ID_LEN];
    union dht_addr addr;
    int state;
    uint8_t token[DHT_TOKEN_MAX];
    size_t token_len;
};

struct dht_search {
    bool active, done;
    struct dht_cand c[DHT_LOOKUP_CANDS];   /* closest to the target first */
    size_t n;
    int inflight, queries;
};

struct dht_lookup {
    struct dht *d;
    struct dht_lookup *next;
    uint8_t target[DHT_ID_LEN];
    bool get_peers, announce, internal;
    uint16_t port;
    dht_peers_cb cb;
    void *ud;
    uint64_t started_ms;
    struct dht_search s[2];
    struct dht_peer seen[DHT_LOOKUP_SEEN];
    size_t n_seen;
    bool in_cb, cancelled, ticked;
    bool local_done;             /* our own store was consulted */
};

struct dht_resolve;

struct dht_rl_slot {   /* incoming queries of one source IP in one second */
    union dht_addr ip;
    uint64_t sec;
    unsigned count;
};

struct dht {
    uv_loop_t *loop;
    struct dht_sock *sock[2];
    struct dht_rt rt[2];
    uint8_t id[DHT_ID_LEN];
    bool id_fixed, allow_local;
    unsigned rate_total, rate_ip;
    uint64_t now;
    struct dht_tokens tokens;
    struct dht_store store;
    struct dht_pending *pend;
    size_t n_pend;
    uint32_t next_tid;
    struct dht_lookup *lookups;
    int n_internal;
    union dht_addr boot[DHT_MAX_BOOTSTRAP];
    size_t n_boot;
    struct dht_resolve *resolving;
    uint64_t last_boot_ms, last_expire_ms;
    struct dht_rl_slot rl[256];
    uint64_t rl_sec;
    unsigned rl_count;
    struct buf out;
    dht_other_cb other;          /* uTP on the same socket */
    void *other_ud;
    uint8_t rx[65536];           /* KRPC stops at DHT_MAX_PACKET; uTP packets may be larger */
};

/* dht.c */
/* Sends a query and records it as pending.  target may be NULL (ping).
 * Returns 0, -EBUSY (too many pending), -EAFNOSUPPORT or -ENOMEM. */
int dht_send_query(struct dht *d, const union dht_addr *to, int method, const uint8_t *target,
                   struct dht_lookup *l, bool bootstrap, const uint8_t *token, size_t token_len,
                   uint16_t port);

/* lookup.c */
struct dht_lookup *dht_lookup_start(struct dht *d, const uint8_t target[DHT_ID_LEN], bool get_peers,
                                    bool internal);
/* Feeds a reply (m NULL = timeout or error) from addr into the lookup.
 * May finish and free l. */
void dht_lookup_reply(struct dht_lookup *l, const union dht_addr *from, const struct dht_msg *m);
/* Adds compact nodes to the lookup's candidates (nodes: 26-byte, nodes6: 38-byte entries). */
void dht_lookup_add_nodes(struct dht_lookup *l, const uint8_t *nodes, size_t len, const uint8_t *nodes6,
                          size_t len6);
void dht_lookup_add(struct dht_lookup *l, const uint8_t id[DHT_ID_LEN], const union dht_addr *a);
/* Sends what can be sent; finishes (and frees) the lookup when it has
 * converged or timed out. */
void dht_lookup_step(struct dht_lookup *l);
void dht_lookup_tick_all(struct dht *d);
void dht_lookup_free_all(struct dht *d);

#endif
