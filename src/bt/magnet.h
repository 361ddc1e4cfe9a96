/* magnet — magnet URIs (BEP9, BEP53) and bare info-hashes.
 *
 * Magnets arrive from RSS feeds, *arr applications and users pasting text,
 * so they are untrusted: the URI length, the number of trackers, web seeds,
 * peers and selected files are all bounded, every value is percent-decoded
 * (with '+' as a space, as in URL queries) and checked, and parameters we do
 * not understand are ignored rather than failing the whole link.
 */
#ifndef TD_BT_MAGNET_H
#define TD_BT_MAGNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define BT_MAGNET_MAX_URI      (64 * 1024)
#define BT_MAGNET_MAX_TRACKERS 200
#define BT_MAGNET_MAX_WEB_SEEDS 200
#define BT_MAGNET_MAX_PEERS    100
#define BT_MAGNET_MAX_SELECT   10000   /* expanded `so` indices */
#define BT_MAGNET_MAX_NAME     4096    /* bytes of dn kept */

struct bt_magnet {
    uint8_t info_hash[20];               /* btih, or without one the btmh hash cut to 20 bytes */
    bool has_v1;
    uint8_t info_hash_v2[32];            /* urn:btmh:1220<sha256> */
    bool has_v2;
    char *name;                          /* dn: valid printable UTF-8, NULL if absent */
    char **trackers;                     /* tr, tr.N: deduplicated, order kept */
    size_t num_trackers;
    char **web_seeds;                    /* ws */
    size_t num_web_seeds;
    struct sockaddr_storage *peers;      /* x.pe: literal IPv4 "a.b.c.d:port" or "[v6]:port" only,
                                            host names are skipped (no DNS from a link) */
    size_t num_peers;
    uint32_t *select_only;               /* so=0,2,4-6: sorted, unique */
    size_t num_select_only;
};

/* Parses "magnet:?..." (scheme case-insensitive).  Several xt are allowed;
 * the first urn:btih (40 hex or 32 base32 digits) is the info-hash, so a
 * hybrid v1+v2 magnet works as v1; a magnet with only urn:btmh (BEP52
 * sha2-256 multihash) uses that hash cut to 20 bytes, as BEP52 peers do.
 * Extra trackers/web seeds/peers beyond the bounds are dropped; an unusable
 * x.pe is skipped.
 * Returns 0 and *out (free with bt_magnet_free), -EINVAL when malformed (no
 * usable xt, bad hash, bad `so`, too long), -ENOMEM.  err (may be NULL) gets a message for the user. */
int bt_magnet_parse(const char *uri, struct bt_magnet **out, char *err, size_t errlen);
void bt_magnet_free(struct bt_magnet *m);

/* A bare info-hash as torrents/add accepts it in `urls`: exactly 40 hex or
 * 32 base32 characters, nothing else.  Returns 0, -EINVAL or -ENOMEM. */
int bt_magnet_from_hash(const char *s, struct bt_magnet **out);

/* "magnet:?xt=urn:btih:<hex>&dn=<name>&tr=<url>..." escaped the way
 * libtorrent (and so qBittorrent) writes it: everything but alphanumerics
 * and -_!.~*() as lower-case %xx.  dn is left out when name is NULL or
 * empty.  Returns a malloc'd string, NULL on OOM. */
char *bt_magnet_build(const uint8_t info_hash[20], const char *name,
                      const char *const *trackers, size_t n);
/* The same with a btih (v1, 20 bytes) and/or a btmh (v2, 32 bytes) xt;
 * either may be NULL, not both. */
char *bt_magnet_build2(const uint8_t *v1, const uint8_t *v2, const char *name,
                       const char *const *trackers, size_t n);

/* Every magnet URI torrentd writes is built here.  BT_MAGNET_EMPTY_DN keeps
 * "dn=" when the name is NULL or empty, as qBittorrent's magnetUri field has
 * it (libtorrent's make_magnet_uri always writes dn). */
enum { BT_MAGNET_EMPTY_DN = 1 };
char *bt_magnet_build_ex(const uint8_t *v1, const uint8_t *v2, const char *name,
                         const char *const *trackers, size_t n, unsigned flags);

#endif
