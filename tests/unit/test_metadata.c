#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "bt/metadata.h"
#include "util/log.h"

static int parse_s(const char *s, size_t n, struct bt_metadata_msg *m)
{
    return bt_metadata_parse((const uint8_t *)s, n, m);
}
#define PARSE(lit, m) parse_s(lit, sizeof(lit) - 1, m)

static void messages_round_trip(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    struct bt_metadata_msg m;

    assert_int_equal(bt_metadata_put_request(&b, 3), 0);
    assert_int_equal(buf_size(&b), strlen("d8:msg_typei0e5:piecei3ee"));
    assert_memory_equal(buf_head(&b), "d8:msg_typei0e5:piecei3ee", buf_size(&b));
    assert_int_equal(bt_metadata_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.type, BT_METADATA_REQUEST);
    assert_int_equal(m.piece, 3);
    assert_int_equal(m.total_size, -1);
    assert_null(m.data);
    buf_reset(&b);

    assert_int_equal(bt_metadata_put_reject(&b, 0), 0);
    assert_memory_equal(buf_head(&b), "d8:msg_typei2e5:piecei0ee", buf_size(&b));
    assert_int_equal(bt_metadata_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.type, BT_METADATA_REJECT);
    buf_reset(&b);

    uint8_t blk[BT_METADATA_BLOCK];
    for (size_t i = 0; i < sizeof blk; i++)
        blk[i] = (uint8_t)(i * 7);
    /* The raw bytes may themselves look like bencode: they must not be parsed. */
    memcpy(blk, "d3:foo", 6);
    assert_int_equal(bt_metadata_put_data(&b, 1, 20000, blk, sizeof blk), 0);
    assert_int_equal(bt_metadata_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.type, BT_METADATA_DATA);
    assert_int_equal(m.piece, 1);
    assert_int_equal(m.total_size, 20000);
    assert_int_equal(m.data_len, sizeof blk);
    assert_memory_equal(m.data, blk, sizeof blk);
    buf_reset(&b);
    /* Empty data is a valid message (the assembler judges the size). */
    assert_int_equal(bt_metadata_put_data(&b, 0, 5, NULL, 0), 0);
    assert_int_equal(bt_metadata_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.data_len, 0);
    buf_reset(&b);
    assert_int_equal(bt_metadata_put_data(&b, 0, 5, blk, BT_METADATA_BLOCK + 1), -EINVAL);
    buf_free(&b);

    /* Extra keys (libtorrent sends none, others might) are ignored. */
    assert_int_equal(PARSE("d8:msg_typei1e5:piecei0e10:total_sizei3e1:xi5ee" "abc", &m), 0);
    assert_int_equal(m.data_len, 3);
    assert_memory_equal(m.data, "abc", 3);
}

static void malformed(void **state)
{
    (void)state;
    struct bt_metadata_msg m;
    assert_int_equal(PARSE("", &m), -EPROTO);
    assert_int_equal(PARSE("le", &m), -EPROTO);
    assert_int_equal(PARSE("i1e", &m), -EPROTO);
    assert_int_equal(PARSE("d8:msg_typei0e", &m), -EPROTO);             /* truncated */
    assert_int_equal(PARSE("d5:piecei0ee", &m), -EPROTO);               /* no msg_type */
    assert_int_equal(PARSE("d8:msg_typei0ee", &m), -EPROTO);            /* no piece */
    assert_int_equal(PARSE("d8:msg_type1:05:piecei0ee", &m), -EPROTO);  /* wrong type */
    assert_int_equal(PARSE("d8:msg_typei0e5:piecei-1ee", &m), -EPROTO);
    assert_int_equal(PARSE("d8:msg_typei0e5:piecei2048ee", &m), -EPROTO);   /* > 32 MiB / 16 KiB */
    assert_int_equal(PARSE("d8:msg_typei0e5:piecei2047ee", &m), 0);
    assert_int_equal(PARSE("d8:msg_typei0e5:piecei99999999999999999999ee", &m), -EPROTO);
    assert_int_equal(PARSE("d8:msg_typei0e5:piecei0eexyz", &m), -EPROTO);   /* trailing bytes on a request */
    assert_int_equal(PARSE("d8:msg_typei1e5:piecei0ee" "abc", &m), -EPROTO);   /* data without total_size */
    assert_int_equal(PARSE("d8:msg_typei1e5:piecei0e10:total_sizei0ee", &m), -EPROTO);
    assert_int_equal(PARSE("d8:msg_typei1e5:piecei0e10:total_sizei-5ee", &m), -EPROTO);
    assert_int_equal(PARSE("d8:msg_typei1e5:piecei0e10:total_sizei33554433ee", &m), -EPROTO);
    assert_int_equal(PARSE("d8:msg_typei1e5:piecei0e10:total_sizei33554432ee", &m), 0);
    /* Unknown message type: ignorable, not fatal. */
    assert_int_equal(PARSE("d8:msg_typei3e5:piecei0ee", &m), -ENOTSUP);
    assert_int_equal(PARSE("d8:msg_typei-1e5:piecei0ee", &m), -ENOTSUP);
    /* Too much data after the dict. */
    size_t n = 60 + BT_METADATA_BLOCK + 1;
    char *big = calloc(1, n);
    int k = snprintf(big, n, "d8:msg_typei1e5:piecei0e10:total_sizei99999ee");
    assert_int_equal(parse_s(big, (size_t)k + BT_METADATA_BLOCK + 1, &m), -EPROTO);
    assert_int_equal(parse_s(big, (size_t)k + BT_METADATA_BLOCK, &m), 0);
    free(big);
    /* Deep nesting inside the dict hits the bencode limits. */
    assert_int_equal(PARSE("d8:msg_typei0e5:piecei0e1:xlllllllleeeeeeeee", &m), -EPROTO);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 31 + (i >> 8));
}

static void assembly_two_peers(void **state)
{
    (void)state;
    /* 2.5 blocks: the last one is short. */
    size_t size = 2 * BT_METADATA_BLOCK + 5000;
    uint8_t *info = malloc(size);
    fill(info, size, 1);
    uint8_t ih[20];
    SHA1(info, size, ih);
    int peer_a, peer_b;
    struct bt_metadata_asm *a;
    assert_int_equal(bt_metadata_asm_new(ih, (int64_t)size, &a), 0);
    size_t len = 123;
    assert_null(bt_metadata_asm_data(a, &len));

    assert_int_equal(bt_metadata_asm_next(a, &peer_a, 1000), 0);
    assert_int_equal(bt_metadata_asm_next(a, &peer_b, 1000), 1);
    assert_int_equal(bt_metadata_asm_next(a, &peer_a, 1000), 2);
    assert_int_equal(bt_metadata_asm_next(a, &peer_b, 1001), -1);   /* all in flight */

    /* Wrong sizes and indexes are refused and change nothing. */
    assert_int_equal(bt_metadata_asm_add(a, 0, info, BT_METADATA_BLOCK - 1), -EINVAL);
    assert_int_equal(bt_metadata_asm_add(a, 2, info + 2 * BT_METADATA_BLOCK, BT_METADATA_BLOCK), -EINVAL);
    assert_int_equal(bt_metadata_asm_add(a, 2, info + 2 * BT_METADATA_BLOCK, 4999), -EINVAL);
    assert_int_equal(bt_metadata_asm_add(a, 3, info, 10), -EINVAL);
    assert_int_equal(bt_metadata_asm_add(a, UINT32_MAX, info, 10), -EINVAL);

    /* Peer A answers; B goes silent, its block times out after 10 s. */
    assert_int_equal(bt_metadata_asm_add(a, 0, info, BT_METADATA_BLOCK), 0);
    assert_int_equal(bt_metadata_asm_add(a, 0, info, BT_METADATA_BLOCK), 0);   /* duplicate */
    assert_int_equal(bt_metadata_asm_add(a, 2, info + 2 * BT_METADATA_BLOCK, 5000), 0);
    assert_int_equal(bt_metadata_asm_next(a, &peer_a, 10999), -1);
    assert_int_equal(bt_metadata_asm_next(a, &peer_a, 11000), 1);
    assert_int_equal(bt_metadata_asm_next(a, &peer_a, 11000), -1);   /* asked again: in flight */
    assert_null(bt_metadata_asm_data(a, NULL));
    assert_int_equal(bt_metadata_asm_add(a, 1, info + BT_METADATA_BLOCK, BT_METADATA_BLOCK), 1);
    const uint8_t *d = bt_metadata_asm_data(a, &len);
    assert_non_null(d);
    assert_int_equal(len, size);
    assert_memory_equal(d, info, size);
    /* Complete: nothing more to ask, late blocks are ignored. */
    assert_int_equal(bt_metadata_asm_next(a, &peer_b, 20000), -1);
    assert_int_equal(bt_metadata_asm_add(a, 1, info + BT_METADATA_BLOCK, BT_METADATA_BLOCK), 0);
    bt_metadata_asm_free(a);
    free(info);
}

static void peer_gone_and_null_peer(void **state)
{
    (void)state;
    uint8_t info[100];
    fill(info, sizeof info, 9);
    uint8_t ih[20];
    SHA1(info, sizeof info, ih);
    int p1;
    struct bt_metadata_asm *a;
    assert_int_equal(bt_metadata_asm_new(ih, sizeof info, &a), 0);
    assert_int_equal(bt_metadata_asm_next(a, &p1, 0), 0);
    assert_int_equal(bt_metadata_asm_next(a, NULL, 0), -1);
    bt_metadata_asm_peer_gone(a, NULL);      /* not its request */
    assert_int_equal(bt_metadata_asm_next(a, NULL, 0), -1);
    bt_metadata_asm_peer_gone(a, &p1);       /* released at once, no timeout wait */
    assert_int_equal(bt_metadata_asm_next(a, NULL, 1), 0);
    assert_int_equal(bt_metadata_asm_add(a, 0, info, sizeof info), 1);
    bt_metadata_asm_free(a);
}

static void wrong_hash_resets(void **state)
{
    (void)state;
    size_t size = BT_METADATA_BLOCK + 1;   /* last block of one byte */
    uint8_t *info = malloc(size);
    fill(info, size, 3);
    uint8_t ih[20];
    SHA1(info, size, ih);
    struct bt_metadata_asm *a;
    int p;
    assert_int_equal(bt_metadata_asm_new(ih, (int64_t)size, &a), 0);
    assert_int_equal(bt_metadata_asm_next(a, &p, 0), 0);
    assert_int_equal(bt_metadata_asm_next(a, &p, 0), 1);
    uint8_t bad = (uint8_t)(info[size - 1] ^ 1);
    assert_int_equal(bt_metadata_asm_add(a, 0, info, BT_METADATA_BLOCK), 0);
    assert_int_equal(bt_metadata_asm_add(a, 1, &bad, 1), -EILSEQ);
    assert_null(bt_metadata_asm_data(a, NULL));
    /* Everything is asked for again, immediately. */
    assert_int_equal(bt_metadata_asm_next(a, &p, 1), 0);
    assert_int_equal(bt_metadata_asm_next(a, &p, 1), 1);
    assert_int_equal(bt_metadata_asm_add(a, 1, info + BT_METADATA_BLOCK, 1), 0);
    assert_int_equal(bt_metadata_asm_add(a, 0, info, BT_METADATA_BLOCK), 1);
    size_t len;
    assert_memory_equal(bt_metadata_asm_data(a, &len), info, size);
    bt_metadata_asm_free(a);
    free(info);
}

/* A v2 magnet's dict is checked by SHA-256: the SHA-1 of the same bytes
 * (or the first 20 bytes of the SHA-256) does not count. */
static void v2_checked_by_sha256(void **state)
{
    (void)state;
    size_t size = 100;
    uint8_t info[100];
    fill(info, size, 5);
    uint8_t h2[32];
    SHA256(info, size, h2);
    struct bt_metadata_asm *a;
    assert_int_equal(bt_metadata_asm_new_v2(h2, (int64_t)size, &a), 0);
    assert_int_equal(bt_metadata_asm_add(a, 0, info, size), 1);
    assert_memory_equal(bt_metadata_asm_data(a, NULL), info, size);
    bt_metadata_asm_free(a);
    uint8_t wrong[32];
    memcpy(wrong, h2, 32);
    wrong[31] ^= 1;   /* the cut 20 bytes match, the whole hash does not */
    assert_int_equal(bt_metadata_asm_new_v2(wrong, (int64_t)size, &a), 0);
    assert_int_equal(bt_metadata_asm_add(a, 0, info, size), -EILSEQ);
    bt_metadata_asm_free(a);
}

static void sizes(void **state)
{
    (void)state;
    uint8_t ih[20] = {0};
    struct bt_metadata_asm *a;
    assert_int_equal(bt_metadata_asm_new(ih, 0, &a), -EINVAL);
    assert_null(a);
    assert_int_equal(bt_metadata_asm_new(ih, -1, &a), -EINVAL);
    assert_int_equal(bt_metadata_asm_new(ih, BT_METADATA_MAX + 1LL, &a), -EINVAL);
    assert_int_equal(bt_metadata_asm_new(ih, INT64_MAX, &a), -EINVAL);
    /* Exactly one full block, and the maximum. */
    assert_int_equal(bt_metadata_asm_new(ih, BT_METADATA_BLOCK, &a), 0);
    int p;
    assert_int_equal(bt_metadata_asm_next(a, &p, 0), 0);
    assert_int_equal(bt_metadata_asm_next(a, &p, 0), -1);
    bt_metadata_asm_free(a);
    assert_int_equal(bt_metadata_asm_new(ih, BT_METADATA_MAX, &a), 0);
    int last = -1;
    for (int i = 0; i < 3000; i++) {
        int r = bt_metadata_asm_next(a, &p, 0);
        if (r < 0)
            break;
        last = r;
    }
    assert_int_equal(last, BT_METADATA_MAX / BT_METADATA_BLOCK - 1);
    bt_metadata_asm_free(a);
    bt_metadata_asm_free(NULL);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(messages_round_trip),
        cmocka_unit_test(v2_checked_by_sha256),
        cmocka_unit_test(malformed),
        cmocka_unit_test(assembly_two_peers),
        cmocka_unit_test(peer_gone_and_null_peer),
        cmocka_unit_test(wrong_hash_resets),
        cmocka_unit_test(sizes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
