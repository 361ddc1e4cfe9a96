/* discovery — the session's trackerless peer sources: the DHT (BEP5) and
 * Local Service Discovery (BEP14).
 *
 * Both follow their preferences live (`dht`, `lsd`).  Private torrents
 * (BEP27) never use them.  The DHT's routing table is kept in the store
 * (kv "dht"/"nodes") across restarts.  The DHT and LSD accept loopback
 * nodes only when the session itself is bound to a loopback address
 * (tests), never otherwise.
 */
#ifndef TD_CORE_DISCOVERY_H
#define TD_CORE_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session;
struct torrent;
struct dht;
struct dht_lookup;
struct bt_lsd;

/* The session's discovery state (session.disc); only discovery.c writes it. */
struct discovery {
    struct dht *dht;             /* NULL when off */
    struct bt_lsd *lsd;          /* NULL when off */
};

/* A torrent's discovery state (torrent.disc); only discovery.c writes it. */
struct discovery_torrent {
    struct dht_lookup *lookup;   /* a DHT get_peers in flight, or NULL */
    uint64_t dht_next_ms;        /* next lookup (0 = at once) */
    uint64_t lsd_next_ms;        /* next LSD announce (0 = at once) */
};

void discovery_start(struct session *s);
void discovery_stop(struct session *s);
void discovery_prefs_changed(struct session *s);
/* The session listens on another port or address: the DHT moves there
 * (same id and table) and LSD announces the new port. */
void discovery_listen_changed(struct session *s);
/* Once per second: DHT maintenance, lookups for active torrents, LSD announces. */
void discovery_tick(struct session *s, uint64_t now_ms);
/* The torrent stops being active: its lookup is cancelled. */
void discovery_torrent_gone(struct torrent *t);
size_t discovery_dht_nodes(const struct session *s);
/* Whether the DHT runs (it may know no nodes yet). */
bool discovery_dht_running(const struct session *s);

#endif
