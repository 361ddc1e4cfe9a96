/* dht/node — what identifies a DHT node: its 160-bit id and its UDP address.
 *
 * Addresses are kept in one small union rather than sockaddr_storage so the
 * routing table stays compact.  BEP42 ties an id to the node's IP: the first
 * 21 bits of the id come from CRC32-C over the masked IP and a random byte
 * kept in the id's last byte.  Loopback, private and link-local addresses are
 * exempt (BEP42), so any id is valid for them.
 */
#ifndef TD_BT_DHT_NODE_H
#define TD_BT_DHT_NODE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bt/dht/krpc.h"

union dht_addr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

/* Copies an AF_INET/AF_INET6 address.  Returns 0 or -EAFNOSUPPORT. */
int dht_addr_set(union dht_addr *out, const struct sockaddr *sa);
/* Compact form (BEP5/BEP32): IP then port, big-endian; returns 6, 18 or 0. */
size_t dht_addr_compact(const union dht_addr *a, uint8_t out[18]);
/* From 6 or 18 compact bytes.  Returns 0 or -EINVAL. */
int dht_addr_from_compact(union dht_addr *out, const uint8_t *p, size_t len);
bool dht_addr_eq(const union dht_addr *a, const union dht_addr *b);      /* IP and port */
bool dht_addr_ip_eq(const union dht_addr *a, const union dht_addr *b);   /* IP only */
/* Loopback, RFC1918/6598 private, link-local, unique-local. */
bool dht_addr_is_local(const union dht_addr *a);
/* Could be a DHT node: nonzero port, not unspecified, multicast or
 * broadcast; local addresses only with allow_local. */
bool dht_addr_usable(const union dht_addr *a, bool allow_local);
/* "1.2.3.4:5" / "[::1]:5" for logs; buf should hold 64 bytes. */
const char *dht_addr_str(const union dht_addr *a, char *buf, size_t len);

/* BEP42: true when id conforms to ip, or ip is exempt (local). */
bool dht_node_id_valid(const uint8_t id[DHT_ID_LEN], const union dht_addr *ip);
/* A fresh random id, BEP42-conformant for ip when ip is not NULL.
 * Returns 0 or -EIO (no randomness). */
int dht_node_id_make(uint8_t id[DHT_ID_LEN], const union dht_addr *ip);

/* XOR metric: <0 when a is closer to target than b, 0 when equal, >0 else. */
int dht_id_closer(const uint8_t target[DHT_ID_LEN], const uint8_t a[DHT_ID_LEN],
                  const uint8_t b[DHT_ID_LEN]);
/* Random bytes from OpenSSL.  Returns 0 or -EIO. */
int dht_random(void *p, size_t n);

#endif
