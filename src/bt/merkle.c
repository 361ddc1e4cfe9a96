/* merkle — see merkle.h. */
#include "bt/merkle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static int sha256(const void *p, size_t n, uint8_t out[MERKLE_HASH])
{
    return EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

size_t merkle_width(size_t n)
{
    size_t w = 1;
    while (w < n)
        w <<= 1;
    return w;
}

size_t merkle_blocks(int64_t len)
{
    return len <= 0 ? 0 : (size_t)((len + MERKLE_BLOCK - 1) / MERKLE_BLOCK);
}

int merkle_leaves(const uint8_t *data, size_t len, uint8_t *leaves)
{
    for (size_t off = 0, i = 0; off < len; off += MERKLE_BLOCK, i++) {
        size_t n = len - off < MERKLE_BLOCK ? len - off : MERKLE_BLOCK;
        if (sha256(data + off, n, leaves + i * MERKLE_HASH))
            return -EIO;
    }
    return 0;
}

int merkle_pad(size_t width, uint8_t out[MERKLE_HASH])
{
    uint8_t pair[2 * MERKLE_HASH] = {0};
    memset(out, 0, MERKLE_HASH);
    for (size_t w = width; w > 1; w >>= 1) {
        memcpy(pair, out, MERKLE_HASH);
        memcpy(pair + MERKLE_HASH, out, MERKLE_HASH);
        if (sha256(pair, sizeof pair, out))
            return -EIO;
    }
    return 0;
}

int merkle_root(const uint8_t *nodes, size_t n, size_t width, const uint8_t pad[MERKLE_HASH],
                uint8_t out[MERKLE_HASH])
{
    if (n == 0 || width < n || (width & (width - 1)))
        return -EINVAL;
    if (n == 1 && width == 1) {
        memcpy(out, nodes, MERKLE_HASH);
        return 0;
    }
    /* One layer at a time in a scratch copy; `p` is the pad node of the
     * current height, so the missing right half of the tree costs one hash
     * per layer instead of width - n. */
    size_t cnt = n + (n & 1);
    uint8_t *v = malloc(cnt * MERKLE_HASH);
    if (!v)
        return -ENOMEM;
    uint8_t p[MERKLE_HASH], pair[2 * MERKLE_HASH];
    memcpy(v, nodes, n * MERKLE_HASH);
    memcpy(p, pad, MERKLE_HASH);
    int rc = 0;
    for (size_t w = width; w > 1 && rc == 0; w >>= 1) {
        if (n & 1)
            memcpy(v + n * MERKLE_HASH, p, MERKLE_HASH);
        size_t half = (n + 1) / 2;
        for (size_t i = 0; i < half && rc == 0; i++)
            rc = sha256(v + 2 * i * MERKLE_HASH, 2 * MERKLE_HASH, v + i * MERKLE_HASH);
        memcpy(pair, p, MERKLE_HASH);
        memcpy(pair + MERKLE_HASH, p, MERKLE_HASH);
        if (rc == 0)
            rc = sha256(pair, sizeof pair, p);
        n = half;
    }
    if (rc == 0)
        memcpy(out, v, MERKLE_HASH);
    free(v);
    return rc;
}

int merkle_piece(const uint8_t *data, size_t len, size_t width, uint8_t out[MERKLE_HASH])
{
    size_t n = merkle_blocks((int64_t)len);
    if (n == 0 || n > width)
        return -EINVAL;
    uint8_t *leaves = malloc(n * MERKLE_HASH);
    if (!leaves)
        return -ENOMEM;
    static const uint8_t zero[MERKLE_HASH];
    int rc = merkle_leaves(data, len, leaves);
    if (rc == 0)
        rc = merkle_root(leaves, n, width, zero, out);
    free(leaves);
    return rc;
}

int merkle_file_root(const uint8_t *layer, size_t n, int64_t piece_length,
                     uint8_t out[MERKLE_HASH])
{
    if (piece_length < MERKLE_BLOCK || n == 0)
        return -EINVAL;
    uint8_t pad[MERKLE_HASH];
    int rc = merkle_pad((size_t)(piece_length / MERKLE_BLOCK), pad);
    return rc ? rc : merkle_root(layer, n, merkle_width(n), pad, out);
}

static unsigned log2u(size_t w)
{
    unsigned k = 0;
    while ((size_t)1 << k < w)
        k++;
    return k;
}

/* Node `i` at `up` layers above the piece layer: the root of its span of
 * piece-layer nodes, or the pad of that height past the end. */
static int upper_node(const uint8_t *layer, size_t n, size_t bpp, unsigned up, size_t i,
                      uint8_t out[MERKLE_HASH])
{
    size_t span = (size_t)1 << up, start = i << up;
    if (start >= n)
        return merkle_pad(bpp * span, out);
    uint8_t pad[MERKLE_HASH];
    int rc = merkle_pad(bpp, pad);
    size_t cnt = n - start < span ? n - start : span;
    return rc ? rc : merkle_root(layer + start * MERKLE_HASH, cnt, span, pad, out);
}

int merkle_hash_request(const uint8_t *layer, size_t n, int64_t piece_length, uint32_t base,
                        uint32_t index, uint32_t count, uint32_t proof, uint8_t *out, size_t *nout)
{
    *nout = 0;
    if (!layer || n < 2 || piece_length < MERKLE_BLOCK || count == 0 ||
        count > MERKLE_REQ_MAX_COUNT)
        return -EINVAL;
    size_t bpp = (size_t)(piece_length / MERKLE_BLOCK);
    unsigned pl = log2u(bpp), height = pl + log2u(merkle_width(n));   /* of the root */
    /* libtorrent's validate_hash_request, plus: nothing below the piece layer */
    if (base < pl || base >= height || proof >= height - base)
        return -EINVAL;
    uint64_t level = (uint64_t)1 << (height - base);
    if ((uint64_t)index + count > level)
        return -EINVAL;
    if (n > MERKLE_REQ_MAX_LAYER)
        return -E2BIG;
    unsigned up = base - pl;
    size_t k = 0;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < count; i++, k++)
        rc = upper_node(layer, n, bpp, up, (size_t)index + i, out + k * MERKLE_HASH);
    /* layers above base that the requested nodes already determine */
    unsigned covered = log2u(merkle_width(count));
    for (unsigned i = 0; rc == 0 && i < proof; i++) {
        if (i + 1 < covered)
            continue;
        size_t anc = (size_t)index >> (i + 1);
        rc = upper_node(layer, n, bpp, up + i + 1, anc ^ 1, out + k++ * MERKLE_HASH);
    }
    if (rc == 0)
        *nout = k;
    return rc;
}
