/* lsd — Local Service Discovery (BEP14): finding peers on the same LAN.
 *
 * Announces are small HTTP-like BT-SEARCH datagrams sent to the multicast
 * groups 239.192.152.143:6771 and [ff15::efc0:988f]:6771; every client on
 * the LAN listens there.  Anyone on the LAN can send anything, so received
 * datagrams are parsed with bounds and our own announces (which multicast
 * loops back) are recognised by a random per-instance cookie.
 *
 * Runs on the loop thread.  The caller decides when to announce (once per
 * minute per torrent, never for private torrents) and what to do with the
 * peers it hears about.
 */
#ifndef TD_BT_LSD_H
#define TD_BT_LSD_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define BT_LSD_PORT 6771
#define BT_LSD_GROUP4 "239.192.152.143"
#define BT_LSD_GROUP6 "ff15::efc0:988f"
#define BT_LSD_MAX_HASHES 64        /* Infohash lines handled per received datagram */
#define BT_LSD_HASHES_PER_MSG 20    /* per sent datagram, keeps it under ~1100 bytes */

struct bt_lsd;

/* peer = the sender's IP with the Port it announced. */
typedef void (*bt_lsd_peer_cb)(void *ud, const uint8_t info_hash[20], const struct sockaddr *peer);

/* bind_address:
 *   NULL, "", "0.0.0.0" or "::"  listen on port 6771 of every interface and
 *                                join both groups (IPv6 best effort);
 *   an IPv4 or IPv6 literal      join that family's group on that interface
 *                                only, and send from it;
 *   "ip:port" or "[ip6]:port"    unicast only, for tests: bind exactly there
 *                                (port 0 = any free port, see
 *                                bt_lsd_local_port), join no group, and
 *                                announce only to a bt_lsd_set_target address.
 * A failure to join a group is logged, not fatal (no multicast route).
 * Returns 0, -EINVAL (bad address), -ENOMEM or a libuv bind error. */
int bt_lsd_new(uv_loop_t *loop, uint16_t listen_port, const char *bind_address,
               bt_lsd_peer_cb cb, void *ud, struct bt_lsd **out);

/* Closes the sockets; the memory goes when the loop has run the close
 * callbacks.  Safe to call from inside the peer callback (no further
 * callbacks follow). */
void bt_lsd_free(struct bt_lsd *l);

/* Sends BT-SEARCH for these info-hashes (up to BT_LSD_HASHES_PER_MSG
 * Infohash lines per datagram, more datagrams for more hashes) to the
 * groups, or to the test target.  Returns 0, -ENOTCONN in unicast mode
 * without a target, or the first send error. */
int bt_lsd_announce(struct bt_lsd *l, const uint8_t *const *info_hashes, size_t n);

/* Parses one datagram: request line "BT-SEARCH * HTTP/1.1", then headers
 * (names case-insensitive; CRLF or LF) up to an empty line or the end.
 * Port (1..65535) and at least one valid Infohash (40 hex) are required;
 * invalid Infohash lines are skipped, those beyond max are dropped (*nh is
 * what was stored).  cookie (may be NULL) gets the cookie header cut to
 * cookielen-1 printable bytes, "" when absent.  Returns 0 or -EPROTO. */
int bt_lsd_parse(const uint8_t *p, size_t n, uint16_t *port, uint8_t (*hashes)[20], size_t max,
                 size_t *nh, char *cookie, size_t cookielen);

/* For tests: announce to dst (unicast) instead of the multicast group. */
int bt_lsd_set_target(struct bt_lsd *l, const struct sockaddr *dst);

/* For tests: the port the (IPv4, else IPv6) socket is bound to, or -ENOTCONN. */
int bt_lsd_local_port(const struct bt_lsd *l);

#endif
