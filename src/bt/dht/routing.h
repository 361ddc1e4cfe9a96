/* dht/routing — the BEP5 routing table of one address family.
 *
 * The 160-bit id space is partitioned into buckets of at most K=8 nodes.
 * A bucket is a prefix of `depth` bits; it starts as the whole space and a
 * full bucket splits in two only when it contains our own id, so the table
 * knows many nodes near us and a few far away.
 *
 * Node states follow BEP5: good when it answered one of our queries in the
 * last 15 minutes (or ever answered and queried us in the last 15 minutes),
 * bad after DHT_RT_BAD_FAILS unanswered queries in a row, questionable
 * otherwise.  A full bucket takes a new node only in place of a bad one (or a
 * non-BEP42 node that is not good, when the newcomer conforms); otherwise the
 * newcomer waits in the bucket's replacement cache until a member goes bad.
 *
 * Plain data: callers may read buckets and nodes directly.  The table does
 * no I/O; the DHT pings what dht_rt_questionable() names and reports the
 * outcome through dht_rt_seen()/dht_rt_failed().
 */
#ifndef TD_BT_DHT_ROUTING_H
#define TD_BT_DHT_ROUTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/dht/node.h"

#define DHT_K 8
#define DHT_RT_BAD_FAILS 2
#define DHT_RT_GOOD_MS (15u * 60 * 1000)
#define DHT_RT_REFRESH_MS (15u * 60 * 1000)
#define DHT_RT_MAX_BUCKETS 160

enum dht_node_state { DHT_NODE_GOOD, DHT_NODE_QUESTIONABLE, DHT_NODE_BAD };

struct dht_rt_node {
    uint8_t id[DHT_ID_LEN];
    union dht_addr addr;
    uint64_t seen_ms;       /* last packet from it */
    uint64_t replied_ms;    /* last answer to one of our queries, if answered */
    bool answered;          /* ever answered one of our queries */
    uint64_t pinged_ms;     /* last query we sent it; 0 = none */
    uint8_t fails;          /* unanswered queries in a row */
    bool bep42;             /* id conforms to its address (or exempt) */
};

struct dht_bucket {
    uint8_t first[DHT_ID_LEN];   /* the prefix, zero-padded */
    int depth;                   /* prefix bits, 0..159 */
    uint64_t changed_ms;         /* last add, replacement or answer in it */
    struct dht_rt_node nodes[DHT_K];
    size_t n;
    struct dht_rt_node repl[DHT_K];   /* replacement cache, newest last */
    size_t n_repl;
};

struct dht_rt {
    uint8_t self[DHT_ID_LEN];
    struct dht_bucket *b;        /* sorted by prefix; they partition the space */
    size_t n;
};

/* dht_rt_seen() results. */
enum {
    DHT_RT_UPDATED = 0,   /* already in the table */
    DHT_RT_ADDED,         /* new in the table */
    DHT_RT_CACHED,        /* bucket full: in the replacement cache */
    DHT_RT_IGNORED,       /* our own id, or a known id at another address */
};

/* Returns 0 or -ENOMEM. */
int dht_rt_init(struct dht_rt *rt, const uint8_t self[DHT_ID_LEN], uint64_t now_ms);
void dht_rt_free(struct dht_rt *rt);

enum dht_node_state dht_rt_state(const struct dht_rt_node *n, uint64_t now_ms);

/* A packet came from node id at a: replied says it answered our query
 * (otherwise it queried us).  Returns DHT_RT_* or -ENOMEM. */
int dht_rt_seen(struct dht_rt *rt, const uint8_t id[DHT_ID_LEN], const union dht_addr *a,
                bool replied, bool bep42, uint64_t now_ms);
/* A query to the node at a timed out.  A node that turns bad is replaced by
 * the newest cached node of its bucket, if any. */
void dht_rt_failed(struct dht_rt *rt, const union dht_addr *a, uint64_t now_ms);
/* We sent the node at a a query (for dht_rt_questionable's pacing). */
void dht_rt_pinged(struct dht_rt *rt, const union dht_addr *a, uint64_t now_ms);

/* Up to max non-bad nodes, closest to target first.  Returns the count. */
size_t dht_rt_closest(const struct dht_rt *rt, const uint8_t target[DHT_ID_LEN],
                      struct dht_rt_node *out, size_t max);
size_t dht_rt_count(const struct dht_rt *rt, enum dht_node_state state, uint64_t now_ms);
/* Up to max nodes that are not good and were not queried in the last
 * min_gap_ms, oldest first: the ones to ping next. */
size_t dht_rt_questionable(const struct dht_rt *rt, uint64_t now_ms, uint64_t min_gap_ms,
                           struct dht_rt_node *out, size_t max);
/* When a bucket went DHT_RT_REFRESH_MS without change, puts a random id
 * inside it into target, marks it changed now and returns true. */
bool dht_rt_refresh_due(struct dht_rt *rt, uint64_t now_ms, uint8_t target[DHT_ID_LEN]);

#endif
