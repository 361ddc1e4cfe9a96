/* peerproxy — an outgoing peer connection through the proxy
 * (proxy_peer_connections, core/proxy.h): the TCP connection goes to the
 * proxy, then a SOCKS4, SOCKS5 or HTTP CONNECT handshake (util/proxyhs)
 * opens the tunnel to the peer, and only then does the BitTorrent (or TLS)
 * handshake start.  The step is bounded: the proxy's replies are small and
 * the peer's handshake timeout covers a proxy that stalls.
 *
 * peer.c calls in at two points: peerproxy_prepare when it dials (which
 * address to connect to) and peerproxy_start when the TCP connection is up.
 */
#ifndef TD_CORE_PEERPROXY_H
#define TD_CORE_PEERPROXY_H

#include <sys/socket.h>

struct peer;
struct peerproxy;

/* Where p's connection to target goes.  Returns 0 (no proxy: *dial =
 * target), 1 (through the proxy: *dial is the proxy's address and
 * p->proxy is set), or an error, and then nothing may be dialled: -EINPROGRESS
 * (proxy_ip is a name still being looked up: try again soon), -EHOSTUNREACH (it did not
 * resolve), -EAFNOSUPPORT (SOCKS4 and an IPv6 peer), -ENOMEM. */
int peerproxy_prepare(struct peer *p, const struct sockaddr *target, struct sockaddr_storage *dial);

/* The connection to the proxy is up: runs the handshake, then calls
 * tunnel_up(p) with any bytes the peer sent early already in p->in.  On
 * failure the peer is closed with the proxy's reason. */
void peerproxy_start(struct peer *p, void (*tunnel_up)(struct peer *p));

void peerproxy_free(struct peerproxy *pp);

#endif
