/* Unit tests for bt/merkle: every result is compared with a naive tree
 * (merkle_ref.h: OpenSSL directly, all zero leaves materialized, no pad
 * shortcuts) or one written out by hand, for one block, three blocks,
 * exactly one piece and many pieces with a short tail. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "bt/merkle.h"

#include "merkle_ref.h"

static uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    uint32_t x = seed * 2654435761u + 7;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
    return p;
}

static void naive_root(const uint8_t *d, size_t len, size_t min_leaves, uint8_t out[32])
{
    assert_int_equal(merkle_ref_root(d, len, min_leaves, out), 0);
}

static void helpers(void **state)
{
    (void)state;
    assert_int_equal(merkle_width(0), 1);
    assert_int_equal(merkle_width(1), 1);
    assert_int_equal(merkle_width(3), 4);
    assert_int_equal(merkle_width(4), 4);
    assert_int_equal(merkle_width(5), 8);
    assert_int_equal(merkle_blocks(0), 0);
    assert_int_equal(merkle_blocks(1), 1);
    assert_int_equal(merkle_blocks(16384), 1);
    assert_int_equal(merkle_blocks(16385), 2);
    uint8_t z[32] = {0}, p[32], zz[64] = {0}, want[32];
    assert_int_equal(merkle_pad(1, p), 0);
    assert_memory_equal(p, z, 32);
    SHA256(zz, 64, want);
    assert_int_equal(merkle_pad(2, p), 0);
    assert_memory_equal(p, want, 32);
    uint8_t out[32];
    assert_int_equal(merkle_root(z, 0, 1, z, out), -EINVAL);
    assert_int_equal(merkle_root(z, 1, 3, z, out), -EINVAL);
    assert_int_equal(merkle_root(zz, 2, 1, z, out), -EINVAL);
    assert_int_equal(merkle_piece(zz, 0, 1, out), -EINVAL);
    assert_int_equal(merkle_piece(zz, 64, 1, out), 0);
    SHA256(zz, 64, want);
    assert_memory_equal(out, want, 32);
}

static void one_block(void **state)
{
    (void)state;
    uint8_t *d = pattern(1000, 1), out[32], want[32];
    SHA256(d, 1000, want);                      /* a single leaf is the root */
    assert_int_equal(merkle_piece(d, 1000, 1, out), 0);
    assert_memory_equal(out, want, 32);
    naive_root(d, 1000, 1, want);
    assert_memory_equal(out, want, 32);
    /* the same block as a piece-layer entry of a 64 KiB piece: padded to 4 leaves */
    assert_int_equal(merkle_piece(d, 1000, 4, out), 0);
    naive_root(d, 1000, 4, want);
    assert_memory_equal(out, want, 32);
    free(d);
}

static void three_blocks(void **state)
{
    (void)state;
    size_t len = 2 * 16384 + 5;
    uint8_t *d = pattern(len, 2), out[32], want[32];
    /* by hand: ((l0 l1) (l2 0)) */
    uint8_t l[4][32] = {{0}}, n[2][32], pair[64];
    SHA256(d, 16384, l[0]);
    SHA256(d + 16384, 16384, l[1]);
    SHA256(d + 32768, 5, l[2]);
    memcpy(pair, l[0], 32); memcpy(pair + 32, l[1], 32); SHA256(pair, 64, n[0]);
    memcpy(pair, l[2], 32); memcpy(pair + 32, l[3], 32); SHA256(pair, 64, n[1]);
    memcpy(pair, n[0], 32); memcpy(pair + 32, n[1], 32); SHA256(pair, 64, want);
    assert_int_equal(merkle_piece(d, len, merkle_width(merkle_blocks((int64_t)len)), out), 0);
    assert_memory_equal(out, want, 32);
    uint8_t leaves[3 * 32];
    assert_int_equal(merkle_leaves(d, len, leaves), 0);
    assert_memory_equal(leaves, l, 3 * 32);
    free(d);
}

static void exactly_one_piece(void **state)
{
    (void)state;
    int64_t pl = 4 * 16384;
    uint8_t *d = pattern((size_t)pl, 3), out[32], want[32];
    naive_root(d, (size_t)pl, 1, want);
    assert_int_equal(merkle_piece(d, (size_t)pl, 4, out), 0);
    assert_memory_equal(out, want, 32);
    /* a one-entry layer is its own root */
    uint8_t root[32];
    assert_int_equal(merkle_file_root(out, 1, pl, root), 0);
    assert_memory_equal(root, want, 32);
    free(d);
}

static void many_pieces(void **state)
{
    (void)state;
    /* 64 KiB pieces, 10 full pieces and a 16 KiB+1 tail: 11 layer entries,
     * padded to 16 with roots of 4 zero leaves */
    int64_t pl = 65536;
    size_t len = 10 * 65536 + 16385, np = 11;
    uint8_t *d = pattern(len, 4), want[32], root[32];
    uint8_t *layer = malloc(np * 32);
    assert_non_null(layer);
    for (size_t i = 0; i < np; i++) {
        size_t n = len - i * (size_t)pl < (size_t)pl ? len - i * (size_t)pl : (size_t)pl;
        assert_int_equal(merkle_piece(d + i * (size_t)pl, n, 4, layer + i * 32), 0);
        uint8_t ref[32];
        naive_root(d + i * (size_t)pl, n, 4, ref);
        assert_memory_equal(layer + i * 32, ref, 32);
    }
    naive_root(d, len, 1, want);
    assert_int_equal(merkle_file_root(layer, np, pl, root), 0);
    assert_memory_equal(root, want, 32);
    /* a changed byte in the tail changes the root */
    d[len - 1] ^= 1;
    assert_int_equal(merkle_piece(d + 10 * 65536, 16385, 4, layer + 10 * 32), 0);
    assert_int_equal(merkle_file_root(layer, np, pl, root), 0);
    assert_memory_not_equal(root, want, 32);
    free(layer);
    free(d);
}

/* Node `i` at height h (0 = leaves) of the file's tree, the naive way. */
static void naive_node(const uint8_t *d, size_t len, unsigned h, size_t i, uint8_t out[32])
{
    size_t span = (size_t)16384 << h, start = i * span;
    size_t n = start >= len ? 0 : len - start < span ? len - start : span;
    naive_root(n ? d + start : d, n, (size_t)1 << h, out);
}

static void hash_requests(void **state)
{
    (void)state;
    /* 64 KiB pieces (4 blocks, piece layer at height 2), 11 pieces: 64 leaves, root at height 6 */
    int64_t pl = 65536;
    size_t len = 10 * 65536 + 16385, np = 11;
    uint8_t *d = pattern(len, 5);
    uint8_t *layer = malloc(np * 32), *out = malloc((MERKLE_REQ_MAX_COUNT + 64) * 32), want[32];
    assert_non_null(layer);
    assert_non_null(out);
    for (size_t i = 0; i < np; i++)
        naive_node(d, len, 2, i, layer + i * 32);
    size_t n;
    /* the piece layer in two chunks of 8 with proofs up to the root's children */
    for (uint32_t idx = 0; idx < 16; idx += 8) {
        assert_int_equal(merkle_hash_request(layer, np, pl, 2, idx, 8, 3, out, &n), 0);
        assert_int_equal(n, 9);
        for (size_t i = 0; i < 8; i++) {
            naive_node(d, len, 2, idx + i, want);   /* past the end: the pad of that height */
            assert_memory_equal(out + i * 32, want, 32);
        }
        naive_node(d, len, 5, (idx >> 3) ^ 1, want);   /* the other half of the tree */
        assert_memory_equal(out + 8 * 32, want, 32);
    }
    /* two nodes of a higher layer, uncles from their subtree's sibling up */
    assert_int_equal(merkle_hash_request(layer, np, pl, 3, 2, 2, 2, out, &n), 0);
    assert_int_equal(n, 4);
    naive_node(d, len, 3, 2, want);
    assert_memory_equal(out, want, 32);
    naive_node(d, len, 3, 3, want);
    assert_memory_equal(out + 32, want, 32);
    naive_node(d, len, 4, 0, want);                 /* sibling of their parent (4, 1) */
    assert_memory_equal(out + 64, want, 32);
    naive_node(d, len, 5, 1, want);                 /* and of (5, 0) */
    assert_memory_equal(out + 96, want, 32);
    /* one node: every uncle from its parent's sibling */
    assert_int_equal(merkle_hash_request(layer, np, pl, 2, 5, 1, 3, out, &n), 0);
    assert_int_equal(n, 4);
    naive_node(d, len, 3, 3, want);
    assert_memory_equal(out + 32, want, 32);
    naive_node(d, len, 4, 0, want);
    assert_memory_equal(out + 64, want, 32);
    naive_node(d, len, 5, 1, want);
    assert_memory_equal(out + 96, want, 32);
    /* refused: leaves (not kept), out of the layer, too many proofs, nothing asked */
    assert_int_equal(merkle_hash_request(layer, np, pl, 0, 0, 8, 0, out, &n), -EINVAL);
    assert_int_equal(merkle_hash_request(layer, np, pl, 2, 12, 8, 0, out, &n), -EINVAL);
    assert_int_equal(merkle_hash_request(layer, np, pl, 2, 0, 8, 4, out, &n), -EINVAL);
    assert_int_equal(merkle_hash_request(layer, np, pl, 6, 0, 1, 0, out, &n), -EINVAL);
    assert_int_equal(merkle_hash_request(layer, np, pl, 2, 0, 0, 0, out, &n), -EINVAL);
    assert_int_equal(merkle_hash_request(layer, np, pl, 2, 0, MERKLE_REQ_MAX_COUNT + 1, 0, out, &n),
                     -EINVAL);
    free(out);
    free(layer);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(helpers),
        cmocka_unit_test(one_block),
        cmocka_unit_test(three_blocks),
        cmocka_unit_test(exactly_one_piece),
        cmocka_unit_test(many_pieces),
        cmocka_unit_test(hash_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
