/* tracker/announce — tracker protocol codecs, no I/O.
 *
 * HTTP announce (BEP3, compact peers BEP23, IPv6 peers BEP7), scrape (the
 * "announce" → "scrape" URL convention) and UDP trackers (BEP15, with the
 * BEP41 URL-data option).  Everything a tracker sends is untrusted: parsers
 * are bounded (at most TRACKER_MAX_PEERS peers kept, strings truncated) and
 * fail with -EPROTO and a message on garbage.
 */
#ifndef TD_BT_TRACKER_ANNOUNCE_H
#define TD_BT_TRACKER_ANNOUNCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/buf.h"

#define TRACKER_MAX_PEERS 10000
#define TRACKER_MAX_MSG 1024             /* failure/warning text kept, bytes */

/* BEP15 numbering, also used for HTTP. */
enum tracker_event {
    TRACKER_EVENT_NONE = 0,
    TRACKER_EVENT_COMPLETED = 1,
    TRACKER_EVENT_STARTED = 2,
    TRACKER_EVENT_STOPPED = 3,
};

struct tracker_announce_req {
    uint8_t info_hash[20];
    uint8_t peer_id[20];
    uint16_t port;
    int64_t uploaded, downloaded, left, corrupt;   /* left < 0: unknown (magnet), sent as 16 KiB so we still get seeds */
    int event;                                     /* enum tracker_event */
    int numwant;                                   /* < 0: tracker default */
    uint32_t key;
    const char *trackerid;                         /* NULL or "" = none */
    const char *ip;                                /* NULL or "" = none: the &ip= (BEP3) we claim, an IPv4
                                                      one also in UDP announces (libtorrent's announce_ip) */
    const char *ipv6;                              /* NULL or "" = none: BEP7's &ipv6=, the IPv6 address we
                                                      accept peers on (HTTP only) */
};

struct tracker_peer {
    struct sockaddr_storage addr;   /* AF_INET or AF_INET6, port set, never 0 */
};

struct tracker_announce_resp {
    int64_t interval, min_interval;          /* seconds; -1 absent */
    char *trackerid;                         /* NULL when absent */
    char *failure;                           /* NULL unless the tracker refused */
    char *warning;
    int64_t complete, incomplete, downloaded; /* -1 unknown */
    struct tracker_peer *peers;
    size_t num_peers;
    char *external_ip;                       /* printable, NULL when absent */
};

void tracker_announce_resp_init(struct tracker_announce_resp *r);
void tracker_announce_resp_free(struct tracker_announce_resp *r);

/* ---- HTTP ---- */

/* Appends announce_url plus the query (joined with '?' or '&' as the URL
 * needs; a '#fragment' is dropped).  Returns 0, -EINVAL or -ENOMEM. */
int tracker_http_url(struct buf *out, const char *announce_url, const struct tracker_announce_req *r);

/* Parses an announce response body.  A "failure reason" is a valid response:
 * 0 with out->failure set.  Returns 0, -EPROTO (not a bencoded dict,
 * wrongly typed fields) or -ENOMEM; err gets a message.  out is initialised
 * here and must be freed with tracker_announce_resp_free() either way. */
int tracker_http_parse(const uint8_t *body, size_t len, struct tracker_announce_resp *out,
                       char *err, size_t errlen);

/* Appends the scrape URL for one torrent.  -ENOTSUP when the last path
 * component does not start with "announce" (the tracker cannot scrape). */
int tracker_scrape_url(struct buf *out, const char *announce_url, const uint8_t info_hash[20]);

/* Counts for info_hash from a scrape body.  Returns 0, -ENOENT (hash not in
 * "files"), -EREMOTEIO (failure reason), -EPROTO. */
int tracker_scrape_parse(const uint8_t *body, size_t len, const uint8_t info_hash[20],
                         int64_t *complete, int64_t *incomplete, int64_t *downloaded);

/* ---- UDP (BEP15) ---- */

#define TRACKER_UDP_MAGIC 0x41727101980ULL

enum tracker_udp_action {
    TRACKER_UDP_CONNECT = 0,
    TRACKER_UDP_ANNOUNCE = 1,
    TRACKER_UDP_SCRAPE = 2,
    TRACKER_UDP_ERROR = 3,
};

/* Builders append one datagram; return 0 or -ENOMEM (-EINVAL for bad args). */
int tracker_udp_connect_req(struct buf *out, uint32_t txid);
/* url_data: the announce URL's path and query for BEP41 (NULL = none). */
int tracker_udp_announce_req(struct buf *out, uint64_t conn_id, uint32_t txid,
                             const struct tracker_announce_req *r, const char *url_data);
int tracker_udp_scrape_req(struct buf *out, uint64_t conn_id, uint32_t txid, const uint8_t info_hash[20]);

/* Transaction id of any response (for dispatch); -EPROTO when shorter than 8. */
int tracker_udp_txid(const uint8_t *p, size_t n, uint32_t *txid);

/* Parsers check length, action and transaction id.  They return 0, -EPROTO
 * (short, wrong action), -ESRCH (someone else's transaction) or -EREMOTEIO
 * (action 3: the tracker's message is in err). */
int tracker_udp_connect_parse(const uint8_t *p, size_t n, uint32_t txid, uint64_t *conn_id,
                              char *err, size_t errlen);
/* ipv6: the tracker was reached over IPv6, so peers are 18 bytes each. */
int tracker_udp_announce_parse(const uint8_t *p, size_t n, uint32_t txid, int ipv6,
                               struct tracker_announce_resp *out, char *err, size_t errlen);
int tracker_udp_scrape_parse(const uint8_t *p, size_t n, uint32_t txid, int64_t *complete,
                             int64_t *incomplete, int64_t *downloaded, char *err, size_t errlen);

#endif
