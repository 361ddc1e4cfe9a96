/* dht/token — announce_peer write tokens (BEP5).
 *
 * A token proves that the announcer received our get_peers reply at the
 * address it announces from.  It is the first DHT_TOKEN_LEN bytes of
 * SHA-1(secret || ip); the secret rotates every 5 minutes and the previous
 * one stays valid, so a token lives 5 to 10 minutes.  The port is not part
 * of it: BEP5 ties tokens to the IP.
 */
#ifndef TD_BT_DHT_TOKEN_H
#define TD_BT_DHT_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/dht/node.h"

#define DHT_TOKEN_LEN 8
#define DHT_TOKEN_ROTATE_MS (5u * 60 * 1000)

struct dht_tokens {
    uint8_t cur[16], prev[16];
    uint64_t rotated_ms;
};

/* Returns 0 or -EIO (no randomness). */
int dht_tokens_init(struct dht_tokens *t, uint64_t now_ms);
/* Rotates when DHT_TOKEN_ROTATE_MS have passed since the last rotation. */
void dht_tokens_tick(struct dht_tokens *t, uint64_t now_ms);
void dht_token_make(const struct dht_tokens *t, const union dht_addr *ip, uint8_t out[DHT_TOKEN_LEN]);
bool dht_token_valid(const struct dht_tokens *t, const union dht_addr *ip, const uint8_t *tok, size_t len);

#endif
