/* etracker — the embedded tracker (qBittorrent's `enable_embedded_tracker`
 * on `embedded_tracker_port`): an HTTP tracker served by torrentd itself on
 * its own libmicrohttpd daemon, run on the loop like the WebUI's (its epoll
 * fd under a uv_poll, MHD_run on readiness and on MHD's timeout).
 *
 * It has nothing of the WebUI: no authentication, no sessions; GET
 * /announce and /scrape only (other methods 405, other paths 404), answered
 * by bt/tracker/trackd (the swarms, bounded).  It listens where the peers
 * do: the session's listen address when it has one, else every address
 * (IPv4 and IPv6), following it when it changes.  Both settings act live (SG_ETRACKER): on/off, and a new
 * port re-listens (the swarms are kept); with
 * `embedded_tracker_port_forwarding` the port is mapped by core/portmap.
 */
#ifndef TD_CORE_ETRACKER_H
#define TD_CORE_ETRACKER_H

#include <stdint.h>

struct session;

int etracker_start(struct session *s);
void etracker_stop(struct session *s);
/* The session listens at another address: the tracker follows. */
void etracker_listen_changed(struct session *s);
/* The port the tracker listens on, 0 when it is off. */
uint16_t etracker_port(const struct session *s);

#endif
