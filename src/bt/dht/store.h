/* dht/store — peers announced to us, per info-hash (BEP5 announce_peer).
 *
 * Bounded in every direction: at most max_hashes info-hashes, max_peers
 * peers each (a full list drops its oldest peer), and every peer expires
 * DHT_STORE_TTL_MS after its last announce.  Info-hashes are kept sorted
 * for binary search.
 */
#ifndef TD_BT_DHT_STORE_H
#define TD_BT_DHT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "bt/dht/krpc.h"

#define DHT_STORE_MAX_HASHES 10000
#define DHT_STORE_MAX_PEERS 100
#define DHT_STORE_TTL_MS (30u * 60 * 1000)

struct dht_stored_peer {
    struct dht_peer p;
    uint64_t seen_ms;
};

struct dht_store_entry {
    uint8_t ih[DHT_ID_LEN];
    struct dht_stored_peer *peers;
    size_t n;
};

struct dht_store {
    struct dht_store_entry *e;
    size_t n, cap;
    size_t max_hashes, max_peers;
};

void dht_store_init(struct dht_store *s);   /* default limits */
void dht_store_free(struct dht_store *s);
/* Adds or refreshes peer p for ih.  Returns 0, -ENOSPC (too many hashes),
 * -EINVAL (bad compact length) or -ENOMEM. */
int dht_store_add(struct dht_store *s, const uint8_t ih[DHT_ID_LEN], const struct dht_peer *p, uint64_t now_ms);
/* Up to max unexpired peers of ih whose compact length is plen (6 or 18),
 * newest first. */
size_t dht_store_get(const struct dht_store *s, const uint8_t ih[DHT_ID_LEN], size_t plen,
                     uint64_t now_ms, struct dht_peer *out, size_t max);
/* Drops expired peers and empty hashes. */
void dht_store_expire(struct dht_store *s, uint64_t now_ms);

#endif
