/* dht/token — write tokens.  See token.h. */
#include "bt/dht/token.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

int dht_tokens_init(struct dht_tokens *t, uint64_t now_ms)
{
    t->rotated_ms = now_ms;
    if (dht_random(t->cur, sizeof t->cur) || dht_random(t->prev, sizeof t->prev))
        return -EIO;
    return 0;
}

void dht_tokens_tick(struct dht_tokens *t, uint64_t now_ms)
{
    if (now_ms < t->rotated_ms + DHT_TOKEN_ROTATE_MS)
        return;
    memcpy(t->prev, t->cur, sizeof t->cur);
    if (dht_random(t->cur, sizeof t->cur))
        t->cur[0] ^= 0xff;   /* still differs from prev */
    t->rotated_ms = now_ms;
}

static void make(const uint8_t secret[16], const union dht_addr *ip, uint8_t out[DHT_TOKEN_LEN])
{
    uint8_t in[16 + 16], md[SHA_DIGEST_LENGTH];
    size_t n = 0;
    memcpy(in, secret, 16);
    if (ip->sa.sa_family == AF_INET) {
        memcpy(in + 16, &ip->in.sin_addr, 4);
        n = 4;
    } else if (ip->sa.sa_family == AF_INET6) {
        memcpy(in + 16, &ip->in6.sin6_addr, 16);
        n = 16;
    }
    SHA1(in, 16 + n, md);
    memcpy(out, md, DHT_TOKEN_LEN);
}

void dht_token_make(const struct dht_tokens *t, const union dht_addr *ip, uint8_t out[DHT_TOKEN_LEN])
{
    make(t->cur, ip, out);
}

bool dht_token_valid(const struct dht_tokens *t, const union dht_addr *ip, const uint8_t *tok, size_t len)
{
    if (len != DHT_TOKEN_LEN)
        return false;
    uint8_t a[DHT_TOKEN_LEN], b[DHT_TOKEN_LEN];
    make(t->cur, ip, a);
    make(t->prev, ip, b);
    return CRYPTO_memcmp(a, tok, len) == 0 || CRYPTO_memcmp(b, tok, len) == 0;
}
