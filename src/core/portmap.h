/* portmap — opens torrentd's ports on the home router: UPnP IGD (miniupnpc)
 * and NAT-PMP (libnatpmp), both behind qBittorrent's one `upnp` switch
 * (µTorrent's `upnp` and `natpmp` are that switch too).  libtorrent asks
 * both for every port; we ask the IGD first and NAT-PMP only for a port the
 * IGD did not map, so a router that speaks both holds one mapping per port.
 *
 * What is mapped: the peer listen port over TCP and UDP (uTP and the DHT
 * share the UDP port), the WebUI port over TCP when `web_ui_upnp`, and the
 * embedded tracker's port over TCP when `embedded_tracker_port_forwarding`
 * and the tracker runs.  Leases last `upnp_lease_duration` seconds (0 =
 * permanent for UPnP as qBittorrent; NAT-PMP has no permanent lease, so it
 * asks for two hours) and are renewed at half their life.  A changed port
 * drops the old mapping and adds the new one; `upnp` off removes them all,
 * on maps again; the shutdown removes them (portmap_stop, bounded).
 *
 * The libraries block (SSDP discovery waits for answers, SOAP and NAT-PMP
 * are request/response), so every exchange with the router runs as one job
 * on libuv's threadpool; one job at a time, its result applied on the loop.
 * The router's state (IGD URLs, what is mapped) belongs to the job while it
 * runs and to the loop between jobs.  Discovery asks only the local network
 * the user points at: SSDP with TTL 2 out of the listen interface (the
 * default multicast route when listening everywhere) and NAT-PMP to the
 * default gateway; a network with neither finds nothing and retries with a
 * backoff (60 s doubling to an hour), never elsewhere.  Bound to a loopback
 * address, or with no IPv4 interface but loopback up, nothing is sent at
 * all (a router cannot forward there).  Each wait is bounded: SSDP 2 x 1 s,
 * a NAT-PMP answer 2 s (libnatpmp's own retries would take a minute), SOAP
 * by miniupnpc's socket timeouts; a job holds one threadpool thread.
 *
 * The router's external IPv4 address, once known, is what
 * portmap_external_v4 returns (transfer/info and sync's
 * last_external_address_v4) and, when `announce_ip` is empty, what the
 * trackers are told.
 */
#ifndef TD_CORE_PORTMAP_H
#define TD_CORE_PORTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session;
struct portmap;

enum portmap_proto { PORTMAP_TCP = 1, PORTMAP_UDP = 2 };

/* One port to map (external port = internal port, as libtorrent asks). */
struct portmap_want {
    uint16_t port;
    uint8_t proto;           /* enum portmap_proto */
    uint8_t what;            /* enum portmap_what, for the log */
};
enum portmap_what { PORTMAP_PEER, PORTMAP_WEBUI, PORTMAP_TRACKER };
#define PORTMAP_MAX 6

/* Pure: the ports the settings ask for, given the bound peer port and the
 * embedded tracker's bound port (0 = not running).  Returns how many were
 * written into out (at most PORTMAP_MAX); none when `upnp` is off. */
size_t portmap_wanted(const struct session *s, uint16_t tracker_port, struct portmap_want out[PORTMAP_MAX]);

/* Pure: seconds until leases of `lease_s` seconds (0 = permanent) are
 * renewed: half the life, at least 1 s; a permanent UPnP lease is
 * refreshed hourly (a router that rebooted forgets it). */
uint32_t portmap_renew_after(int64_t lease_s, bool natpmp);

/* Starts mapping (after session_start has bound the listener). */
int portmap_start(struct session *s);
/* The listen port, the WebUI port or the embedded tracker changed: map
 * what is wanted now (no-op if nothing changed). */
void portmap_update(struct session *s);
/* Shutdown: removes the mappings in one last job, which gives up on the
 * router after PORTMAP_STOP_MS; the loop keeps running until it ends. */
#define PORTMAP_STOP_MS 3000
void portmap_stop(struct session *s);
/* After the loop ended. */
void portmap_free(struct session *s);

/* The router's external IPv4 address as text, "" when none is known. */
const char *portmap_external_v4(const struct session *s);
/* How many of the wanted ports are mapped now (tests, logs). */
size_t portmap_mapped(const struct session *s);

#endif
