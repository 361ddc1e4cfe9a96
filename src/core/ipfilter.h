/* ipfilter — qBittorrent's IP filter: ip_filter_enabled, ip_filter_path and
 * ip_filter_trackers.
 *
 * The file (.dat, .p2p or .p2b: util/iprange.h) is read on a libuv worker
 * thread and the finished interval set is swapped in on the loop, so a 1M-
 * range list never stalls the loop and there is never a moment without a
 * filter between the old and the new one.  It is read again when the
 * preferences change (as qBittorrent) and when the file changes on disk
 * (polled).  Peers connected from an address the new filter holds are
 * disconnected.  The count is logged as qBittorrent logs it ("Successfully
 * parsed the IP filter file. Number of rules applied: N").
 *
 * The checks are not called directly: core/banlist.c's banlist_refusal asks
 * both the ban list and this filter, at the points where bans were checked
 * (incoming accepts, outgoing dials, peers from any source).  Trackers'
 * addresses are refused through the tracker client when
 * ip_filter_trackers is on.
 */
#ifndef TD_CORE_IPFILTER_H
#define TD_CORE_IPFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct session;

/* Registers the SG_IPFILTER hook and loads the filter when enabled. */
int ipfilter_start(struct session *s);
/* Stops polling and drops the filter; a load still on a worker is let go. */
void ipfilter_stop(struct session *s);

/* The address is in the loaded filter (false while none is loaded). */
bool ipfilter_blocks_text(const struct session *s, const char *ip);
bool ipfilter_blocks_addr(const struct session *s, const struct sockaddr *sa);
/* The filter's ranges after merging, and loads finished (for tests and the
 * log). */
size_t ipfilter_ranges(const struct session *s);
unsigned ipfilter_loads(const struct session *s);

#endif
