/* A BEP52 hash tree built the naive way, for tests: the leaves of every
 * 16 KiB block, zero leaves up to a power of two (at least min_leaves),
 * hashed pairwise down to one node.  Independent of bt/merkle.c on purpose:
 * OpenSSL's SHA256() directly, every zero leaf materialized. */
#ifndef TD_TESTS_MERKLE_REF_H
#define TD_TESTS_MERKLE_REF_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

static inline int merkle_ref_root(const uint8_t *d, size_t len, size_t min_leaves, uint8_t out[32])
{
    size_t nb = (len + 16383) / 16384, w = 1;
    while (w < nb || w < min_leaves)
        w *= 2;
    uint8_t *v = calloc(w, 32);
    if (!v)
        return -1;
    for (size_t i = 0; i < nb; i++)
        SHA256(d + i * 16384, len - i * 16384 < 16384 ? len - i * 16384 : 16384, v + i * 32);
    for (; w > 1; w /= 2)
        for (size_t i = 0; i < w / 2; i++)
            SHA256(v + 2 * i * 32, 64, v + i * 32);
    memcpy(out, v, 32);
    free(v);
    return 0;
}

#endif
