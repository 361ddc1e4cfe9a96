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

#include <stddef.h>
#include <stdint.h>

struct session;
struct torrent;

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

#endif
