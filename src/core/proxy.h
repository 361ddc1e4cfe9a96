/* proxy — the proxy preferences (qBittorrent's proxy_type, proxy_ip,
 * proxy_port, proxy_auth_enabled + proxy_username/proxy_password,
 * proxy_hostname_lookup) and which traffic uses them:
 *   proxy_rss           RSS feeds;
 *   proxy_misc          everything "general purpose": .torrent URL downloads,
 *                       the add_trackers_url list, search plugins and their
 *                       downloads;
 *   proxy_bittorrent    BitTorrent: tracker announces and scrapes (as
 *                       qBittorrent hands the proxy to libtorrent, whose
 *                       proxy_tracker_connections is on), and with
 *   proxy_peer_connections  also peers and web seeds (libtorrent counts web
 *                       seeds as peer connections).
 * libcurl and Python's urllib take the URL form (proxy_url); peer
 * connections do the handshake themselves (core/peerproxy.c).
 *
 * UDP is not proxied (no SOCKS5 UDP ASSOCIATE).  Like libtorrent, which
 * refuses to send UDP around a configured proxy unless a SOCKS5 UDP tunnel
 * is up, torrentd then sends none: while proxy_udp_blocked(), UDP trackers
 * are not announced to and the DHT is off (uTP must stay off too).  LSD is
 * multicast on the local link and stays as configured, as in libtorrent.
 * The peer listener stays open (incoming peers learn nothing new).
 *
 * Settings group SG_PROXY: a change reaches the tracker client and the DHT
 * at once; fetches and peer dials read the settings when they start.
 */
#ifndef TD_CORE_PROXY_H
#define TD_CORE_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct session;

enum proxy_use { PROXY_USE_RSS, PROXY_USE_MISC, PROXY_USE_TRACKER, PROXY_USE_PEER };

/* Writes "http://[user:pass@]ip:port", "socks5h://…" (socks5 without
 * hostname lookup), "socks4a://" / "socks4://" (never credentials), or ""
 * when no proxy applies to `use` (type None, or its switch off).  Returns 0,
 * or -ENAMETOOLONG when it does not fit (buf then ""). */
int proxy_url(const struct session *s, enum proxy_use use, char *buf, size_t len);

/* A proxy is set for BitTorrent (proxy_bittorrent and a type): UDP
 * trackers, the DHT and uTP send nothing (see above). */
bool proxy_udp_blocked(const struct session *s);
/* Peer connections go through the proxy (also proxy_peer_connections). */
bool proxy_for_peers(const struct session *s);

/* Registers the SG_PROXY hook and applies the settings once (session_new).
 * Returns 0 or -ENOMEM. */
int proxy_init(struct session *s);
/* Shutdown: a name lookup in flight is let go. */
void proxy_close(struct session *s);

/* The proxy's address for a peer connection: proxy_ip when it is an
 * address, else what the name resolved to (looked up on libuv's resolver
 * threads whenever proxy_ip changes: a lookup of the proxy itself, never
 * of a peer or tracker).  Returns 0, -EINPROGRESS while the lookup runs, or
 * -EHOSTUNREACH when the name did not resolve. */
int proxy_peer_address(struct session *s, struct sockaddr_storage *out);

#endif
