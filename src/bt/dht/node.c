/* dht/node — ids and addresses.  See node.h. */
#include "bt/dht/node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

int dht_random(void *p, size_t n)
{
    return RAND_bytes(p, (int)n) == 1 ? 0 : -EIO;
}

int dht_addr_set(union dht_addr *out, const struct sockaddr *sa)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET)
        memcpy(&out->in, sa, sizeof out->in);
    else if (sa->sa_family == AF_INET6)
        memcpy(&out->in6, sa, sizeof out->in6);
    else
        return -EAFNOSUPPORT;
    return 0;
}

size_t dht_addr_compact(const union dht_addr *a, uint8_t out[18])
{
    if (a->sa.sa_family == AF_INET) {
        memcpy(out, &a->in.sin_addr, 4);
        memcpy(out + 4, &a->in.sin_port, 2);
        return 6;
    }
    if (a->sa.sa_family == AF_INET6) {
        memcpy(out, &a->in6.sin6_addr, 16);
        memcpy(out + 16, &a->in6.sin6_port, 2);
        return 18;
    }
    return 0;
}

int dht_addr_from_compact(union dht_addr *out, const uint8_t *p, size_t len)
{
    memset(out, 0, sizeof *out);
    if (len == 6) {
        out->in.sin_family = AF_INET;
        memcpy(&out->in.sin_addr, p, 4);
        memcpy(&out->in.sin_port, p + 4, 2);
        return 0;
    }
    if (len == 18) {
        out->in6.sin6_family = AF_INET6;
        memcpy(&out->in6.sin6_addr, p, 16);
        memcpy(&out->in6.sin6_port, p + 16, 2);
        return 0;
    }
    return -EINVAL;
}

bool dht_addr_ip_eq(const union dht_addr *a, const union dht_addr *b)
{
    if (a->sa.sa_family != b->sa.sa_family)
        return false;
    if (a->sa.sa_family == AF_INET)
        return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
    if (a->sa.sa_family == AF_INET6)
        return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
    return false;
}

bool dht_addr_eq(const union dht_addr *a, const union dht_addr *b)
{
    if (!dht_addr_ip_eq(a, b))
        return false;
    return a->sa.sa_family == AF_INET ? a->in.sin_port == b->in.sin_port
                                      : a->in6.sin6_port == b->in6.sin6_port;
}

bool dht_addr_is_local(const union dht_addr *a)
{
    if (a->sa.sa_family == AF_INET) {
        uint32_t ip = ntohl(a->in.sin_addr.s_addr);
        return (ip >> 24) == 127 || (ip >> 24) == 10 || (ip >> 20) == 0xac1 /* 172.16/12 */ ||
               (ip >> 16) == 0xc0a8 /* 192.168/16 */ || (ip >> 16) == 0xa9fe /* 169.254/16 */ ||
               (ip >> 22) == (100u << 2 | 1) /* 100.64/10 */;
    }
    if (a->sa.sa_family == AF_INET6) {
        const uint8_t *b = a->in6.sin6_addr.s6_addr;
        return IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr) || (b[0] & 0xfe) == 0xfc ||
               (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
    }
    return false;
}

bool dht_addr_usable(const union dht_addr *a, bool allow_local)
{
    if (a->sa.sa_family == AF_INET) {
        uint32_t ip = ntohl(a->in.sin_addr.s_addr);
        if (a->in.sin_port == 0 || ip == 0 || ip == 0xffffffffu || (ip >> 28) == 0xe || (ip >> 24) == 0)
            return false;
    } else if (a->sa.sa_family == AF_INET6) {
        if (a->in6.sin6_port == 0 || IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr) ||
            IN6_IS_ADDR_MULTICAST(&a->in6.sin6_addr) || IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr))
            return false;
    } else {
        return false;
    }
    return allow_local || !dht_addr_is_local(a);
}

const char *dht_addr_str(const union dht_addr *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof ip);
        snprintf(buf, len, "%s:%u", ip, ntohs(a->in.sin_port));
    } else if (a->sa.sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof ip);
        snprintf(buf, len, "[%s]:%u", ip, ntohs(a->in6.sin6_port));
    } else {
        snprintf(buf, len, "?");
    }
    return buf;
}

/* CRC32-C (Castagnoli, reflected 0x82f63b78).  BEP42 needs it over 4 or 8
 * bytes; neither zlib nor libcrypto exposes this polynomial. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
    }
    return ~crc;
}

/* The CRC that the first 21 bits of a conformant id carry; -1 for families
 * BEP42 does not cover. */
static int64_t bep42_crc(const union dht_addr *ip, uint8_t r)
{
    uint8_t b[8];
    size_t n;
    if (ip->sa.sa_family == AF_INET) {
        static const uint8_t mask[4] = {0x03, 0x0f, 0x3f, 0xff};
        memcpy(b, &ip->in.sin_addr, 4);
        n = 4;
        for (size_t i = 0; i < n; i++)
            b[i] &= mask[i];
    } else if (ip->sa.sa_family == AF_INET6) {
        static const uint8_t mask[8] = {0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff};
        memcpy(b, &ip->in6.sin6_addr, 8);
        n = 8;
        for (size_t i = 0; i < n; i++)
            b[i] &= mask[i];
    } else {
        return -1;
    }
    b[0] |= (uint8_t)((r & 7) << 5);
    return crc32c(b, n);
}

bool dht_node_id_valid(const uint8_t id[DHT_ID_LEN], const union dht_addr *ip)
{
    if (dht_addr_is_local(ip))
        return true;
    int64_t c = bep42_crc(ip, id[19]);
    if (c < 0)
        return false;
    uint32_t crc = (uint32_t)c;
    return id[0] == (uint8_t)(crc >> 24) && id[1] == (uint8_t)(crc >> 16) &&
           (id[2] & 0xf8) == ((crc >> 8) & 0xf8);
}

int dht_node_id_make(uint8_t id[DHT_ID_LEN], const union dht_addr *ip)
{
    if (dht_random(id, DHT_ID_LEN))
        return -EIO;
    if (!ip)
        return 0;
    int64_t c = bep42_crc(ip, id[19]);
    if (c < 0)
        return 0;
    uint32_t crc = (uint32_t)c;
    id[0] = (uint8_t)(crc >> 24);
    id[1] = (uint8_t)(crc >> 16);
    id[2] = (uint8_t)(((crc >> 8) & 0xf8) | (id[2] & 7));
    return 0;
}

int dht_id_closer(const uint8_t target[DHT_ID_LEN], const uint8_t a[DHT_ID_LEN],
                  const uint8_t b[DHT_ID_LEN])
{
    for (int i = 0; i < DHT_ID_LEN; i++) {
        uint8_t da = a[i] ^ target[i], db = b[i] ^ target[i];
        if (da != db)
            return da < db ? -1 : 1;
    }
    return 0;
}
