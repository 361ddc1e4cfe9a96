/* Unit tests for bt/layers: the piece layers of a v2 info dict fetched by
 * hash requests.  Honest answers come from merkle_hash_request (what we
 * serve, checked against libtorrent in test_creator_v2.py); hostile peers
 * send hashes that do not lead to the root, reject, or never answer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bt/bencode.h"
#include "bt/layers.h"
#include "bt/merkle.h"
#include "bt/wire.h"
#include "util/buf.h"
#include "util/log.h"

#define PL (4 * MERKLE_BLOCK)   /* piece length: 4 leaves per piece */

struct fake {
    struct bt_metainfo mi;
    struct bt_file files[3];
    uint8_t *layer[3];
    size_t n[3];
};

/* Files of n0 and n1 pieces (their layers are arbitrary hashes: only the
 * tree over them matters) and a one-piece file, which needs no layer. */
static void fake_init(struct fake *f, size_t n0, size_t n1)
{
    memset(f, 0, sizeof *f);
    f->mi.v2 = true;
    f->mi.piece_length = PL;
    f->mi.files = f->files;
    f->mi.num_files = 3;
    size_t ns[3] = {n0, n1, 1};
    uint32_t x = 12345;
    for (int i = 0; i < 3; i++) {
        f->n[i] = ns[i];
        f->layer[i] = malloc(ns[i] * MERKLE_HASH);
        for (size_t k = 0; k < ns[i] * MERKLE_HASH; k++) {
            x = x * 1103515245u + 12345u;
            f->layer[i][k] = (uint8_t)(x >> 16);
        }
        f->files[i].length = (int64_t)ns[i] * PL - 100;
        assert_int_equal(merkle_file_root(f->layer[i], ns[i], PL, f->files[i].pieces_root), 0);
    }
}

static void fake_free(struct fake *f)
{
    for (int i = 0; i < 3; i++)
        free(f->layer[i]);
}

/* The honest `hashes` payload for req; *len gets its size. */
static uint8_t *answer(const struct fake *f, const uint8_t *req, size_t *len)
{
    int i = 0;
    while (memcmp(req, f->files[i].pieces_root, 32) != 0)
        i++;
    uint8_t *out = malloc(BT_WIRE_HASH_REQ_LEN + (MERKLE_REQ_MAX_COUNT + 64) * MERKLE_HASH);
    size_t n;
    assert_int_equal(merkle_hash_request(f->layer[i], f->n[i], PL, rd_be32(req + 32), rd_be32(req + 36),
                                         rd_be32(req + 40), rd_be32(req + 44), out + BT_WIRE_HASH_REQ_LEN, &n),
                     0);
    memcpy(out, req, BT_WIRE_HASH_REQ_LEN);
    *len = BT_WIRE_HASH_REQ_LEN + n * MERKLE_HASH;
    return out;
}

/* The `piece layers` dict holds every file of more than one piece, with its
 * exact layer, keys in byte order. */
static void check_put(const struct fake *f, const struct bt_layers *l)
{
    struct buf b = BUF_INIT;
    assert_int_equal(bt_layers_put(l, &b), 0);
    struct benc_doc *doc;
    char err[128];
    assert_int_equal(benc_parse(buf_head(&b), buf_size(&b), NULL, 0, &doc, NULL, err, sizeof err), 0);
    for (int i = 0; i < 2; i++) {
        const struct benc *root = benc_root(doc);
        const struct benc *v = NULL;
        for (size_t k = 0; k + 1 < root->n; k += 2)
            if (root->items[k].slen == 32 && memcmp(root->items[k].s, f->files[i].pieces_root, 32) == 0)
                v = &root->items[k + 1];
        assert_non_null(v);
        assert_int_equal(v->slen, f->n[i] * MERKLE_HASH);
        assert_memory_equal(v->s, f->layer[i], v->slen);
    }
    benc_doc_free(doc);
    buf_free(&b);
}

static void honest_peer(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, 6, 1000);   /* 1000: two parts of 512 nodes with uncles */
    struct bt_layers *l;
    assert_int_equal(bt_layers_new(&f.mi, &l), 0);
    assert_false(bt_layers_done(l));
    int peer;
    uint8_t req[3][BT_WIRE_HASH_REQ_LEN];
    for (int k = 0; k < 3; k++)
        assert_int_equal(bt_layers_next(l, &peer, 0, req[k]), 1);
    assert_int_equal(bt_layers_next(l, &peer, 0, req[0] + 0), 0);   /* nothing left */
    for (int k = 0; k < 3; k++) {
        size_t len;
        uint8_t *a = answer(&f, req[k], &len);
        assert_int_equal(bt_layers_add(l, &peer, a, len), k == 2 ? 1 : 0);
        /* the same answer again is a harmless duplicate */
        assert_int_equal(bt_layers_add(l, &peer, a, len), 0);
        free(a);
    }
    assert_true(bt_layers_done(l));
    check_put(&f, l);
    bt_layers_free(l);
    fake_free(&f);
}

static void bad_hashes_distrust_peer(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, 6, 3);
    struct bt_layers *l;
    assert_int_equal(bt_layers_new(&f.mi, &l), 0);
    int bad, good;
    uint8_t req[BT_WIRE_HASH_REQ_LEN], req2[BT_WIRE_HASH_REQ_LEN];
    assert_int_equal(bt_layers_next(l, &bad, 0, req), 1);
    size_t len;
    uint8_t *a = answer(&f, req, &len);
    a[BT_WIRE_HASH_REQ_LEN + 5] ^= 1;   /* one node off: the root no longer matches */
    assert_int_equal(bt_layers_add(l, &bad, a, len), -EILSEQ);
    /* never asked again, though parts are left */
    assert_int_equal(bt_layers_next(l, &bad, 0, req2), 0);
    a[BT_WIRE_HASH_REQ_LEN + 5] ^= 1;
    /* a wrong count of hashes, or an answer to nothing asked */
    assert_int_equal(bt_layers_add(l, &good, a, len), -EPROTO);
    assert_int_equal(bt_layers_add(l, &bad, a, len - MERKLE_HASH), -EPROTO);
    assert_int_equal(bt_layers_add(l, &bad, a, 10), -EPROTO);
    /* the part goes to another peer at once */
    assert_int_equal(bt_layers_next(l, &good, 0, req2), 1);
    assert_memory_equal(req, req2, BT_WIRE_HASH_REQ_LEN);
    assert_int_equal(bt_layers_add(l, &good, a, len), 0);
    free(a);
    assert_int_equal(bt_layers_next(l, &good, 0, req2), 1);
    a = answer(&f, req2, &len);
    assert_int_equal(bt_layers_add(l, &good, a, len), 1);
    free(a);
    check_put(&f, l);
    bt_layers_free(l);
    fake_free(&f);
}

static void reject_and_timeout(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, 2, 2);
    struct bt_layers *l;
    assert_int_equal(bt_layers_new(&f.mi, &l), 0);
    int a, b, c;
    uint8_t ra[BT_WIRE_HASH_REQ_LEN], ra2[BT_WIRE_HASH_REQ_LEN], rb[BT_WIRE_HASH_REQ_LEN],
        rc[BT_WIRE_HASH_REQ_LEN];
    /* a rejects the first part: it is not asked for it again, b gets it */
    assert_int_equal(bt_layers_next(l, &a, 0, ra), 1);
    bt_layers_reject(l, &a, ra);
    assert_int_equal(bt_layers_next(l, &a, 0, ra2), 1);
    assert_memory_not_equal(ra, ra2, BT_WIRE_HASH_REQ_LEN);
    assert_int_equal(bt_layers_next(l, &a, 0, rb), 0);   /* a may not have the first */
    assert_int_equal(bt_layers_next(l, &b, 0, rb), 1);
    assert_memory_equal(ra, rb, BT_WIRE_HASH_REQ_LEN);
    /* b never answers: before the timeout c gets nothing, after it the part */
    assert_int_equal(bt_layers_next(l, &c, BT_LAYERS_TIMEOUT_MS - 1, rc), 0);
    assert_int_equal(bt_layers_next(l, &c, BT_LAYERS_TIMEOUT_MS + 1, rc), 1);
    assert_true(memcmp(rc, rb, BT_WIRE_HASH_REQ_LEN) == 0 || memcmp(rc, ra2, BT_WIRE_HASH_REQ_LEN) == 0);
    size_t len;
    uint8_t *ans = answer(&f, rc, &len);
    assert_int_equal(bt_layers_add(l, &c, ans, len), 0);
    free(ans);
    /* a disconnects: its part is free for c at once */
    bt_layers_peer_gone(l, &a);
    bt_layers_peer_gone(l, &b);
    assert_int_equal(bt_layers_next(l, &c, BT_LAYERS_TIMEOUT_MS + 2, rc), 1);
    ans = answer(&f, rc, &len);
    assert_int_equal(bt_layers_add(l, &c, ans, len), 1);
    free(ans);
    assert_true(bt_layers_done(l));
    bt_layers_free(l);
    fake_free(&f);
}

static void nothing_to_fetch(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f, 1, 1);
    struct bt_layers *l;
    assert_int_equal(bt_layers_new(&f.mi, &l), 0);
    assert_true(bt_layers_done(l));
    int p;
    uint8_t req[BT_WIRE_HASH_REQ_LEN];
    assert_int_equal(bt_layers_next(l, &p, 0, req), 0);
    struct buf b = BUF_INIT;
    assert_int_equal(bt_layers_put(l, &b), 0);
    assert_int_equal(buf_size(&b), 2);   /* "de" */
    buf_free(&b);
    bt_layers_free(l);
    f.mi.v2 = false;
    assert_int_equal(bt_layers_new(&f.mi, &l), -EINVAL);
    fake_free(&f);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(honest_peer),
        cmocka_unit_test(bad_hashes_distrust_peer),
        cmocka_unit_test(reject_and_timeout),
        cmocka_unit_test(nothing_to_fetch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
