#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "bt/mse.h"
#include "util/buf.h"

/* Two endpoints back to back: A (initiator) and B (responder), the wire
 * between them in two buffers, each side's BitTorrent stream in and out. */
struct end {
    struct mse *m;
    struct buf out;    /* BitTorrent bytes to send */
    struct buf in;     /* BitTorrent bytes received */
    int rc;            /* first error from feed/seal */
};

static const uint8_t HASH_X[20] = "01234567890123456789";
static const uint8_t HASH_Y[20] = "abcdefghijabcdefghij";

/* The session's SKEY map, as a list: HASH('req2', h) for a few hashes. */
static int lookup(void *ud, const uint8_t req2[20], uint8_t skey[20])
{
    const uint8_t *const *hashes = ud;
    for (int i = 0; hashes[i]; i++) {
        uint8_t h[20];
        mse_req2_hash(hashes[i], h);
        if (memcmp(h, req2, 20) == 0) {
            memcpy(skey, hashes[i], 20);
            return 0;
        }
    }
    return -ENOENT;
}

static const uint8_t *known[] = {HASH_Y, HASH_X, NULL};
static const uint8_t *only_y[] = {HASH_Y, NULL};

/* Moves what `from` has to say to `to`, in chunks of at most chunk bytes
 * (0: all at once); the bytes on the wire are kept in *wire when given. */
static size_t move(struct end *from, struct end *to, size_t chunk, struct buf *wire)
{
    if (from->rc || to->rc)
        return 0;
    struct buf w = BUF_INIT;
    from->rc = mse_seal(from->m, &from->out, &w);
    size_t n = buf_size(&w);
    if (wire)
        buf_append(wire, buf_head(&w), n);
    for (size_t at = 0; at < n && !to->rc;) {
        size_t k = chunk && n - at > chunk ? chunk : n - at;
        to->rc = mse_feed(to->m, buf_head(&w) + at, k, &to->in);
        at += k;
    }
    buf_free(&w);
    return n;
}

static void pump(struct end *a, struct end *b, size_t chunk)
{
    for (int round = 0; round < 20; round++) {
        size_t n = move(a, b, chunk, NULL);
        n += move(b, a, chunk, NULL);
        if (n == 0)
            break;
    }
}

static void end_free(struct end *e)
{
    mse_free(e->m);
    buf_free(&e->out);
    buf_free(&e->in);
}

static void pair(struct end *a, struct end *b, uint32_t provide, uint32_t accept, bool prefer_rc4, int pad,
                 const uint8_t *const *map)
{
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    struct mse_opts oa, ob;
    mse_opts_default(&oa);
    mse_opts_default(&ob);
    oa.crypto = provide;
    ob.crypto = accept;
    ob.prefer_rc4 = prefer_rc4;
    oa.pad_len = ob.pad_len = pad;
    assert_int_equal(mse_initiator_new(HASH_X, &oa, &a->m), 0);
    assert_int_equal(mse_responder_new(lookup, (void *)map, &ob, &b->m), 0);
}

/* Both directions carry the BitTorrent stream, before (IA) and after the
 * handshake, in the selected form. */
static void check_streams(struct end *a, struct end *b, uint32_t want)
{
    buf_append_str(&a->out, "handshake-from-A");   /* rides in IA */
    pump(a, b, 0);
    assert_int_equal(a->rc, 0);
    assert_int_equal(b->rc, 0);
    assert_true(mse_established(b->m));
    assert_int_equal(mse_selected(b->m), want);
    assert_memory_equal(mse_skey(b->m), HASH_X, 20);
    assert_int_equal(buf_size(&b->in), 16);
    assert_memory_equal(buf_head(&b->in), "handshake-from-A", 16);
    buf_append_str(&b->out, "handshake-from-B");
    pump(a, b, 0);
    assert_true(mse_established(a->m));
    assert_int_equal(mse_selected(a->m), want);
    assert_int_equal(buf_size(&a->in), 16);
    assert_memory_equal(buf_head(&a->in), "handshake-from-B", 16);

    /* 100 KiB each way: through seal/feed, and through the in-place path. */
    size_t big = 100 * 1024;
    uint8_t *data = malloc(big), *copy = malloc(big);
    RAND_bytes(data, (int)big);
    buf_reset(&b->in);
    buf_append(&a->out, data, big);
    struct buf wire = BUF_INIT;
    move(a, b, 1000, &wire);
    assert_int_equal(buf_size(&b->in), big);
    assert_memory_equal(buf_head(&b->in), data, big);
    assert_int_equal(buf_size(&wire), big);
    if (want == MSE_CRYPTO_PLAIN)
        assert_memory_equal(buf_head(&wire), data, big);
    else
        assert_memory_not_equal(buf_head(&wire), data, 64);
    buf_free(&wire);
    memset(copy, 0, big);
    mse_encrypt(b->m, data, copy, big);   /* out of place */
    mse_decrypt(a->m, copy, big);
    assert_memory_equal(copy, data, big);
    memcpy(copy, data, big);
    mse_encrypt(a->m, copy, copy, big);   /* in place */
    mse_decrypt(b->m, copy, big);
    assert_memory_equal(copy, data, big);
    free(data);
    free(copy);
}

static void rc4_vectors(void **state)
{
    (void)state;
    /* The classic vector: key "Key", "Plaintext" -> BBF316E8D940AF0AD3. */
    static const uint8_t want[] = {0xbb, 0xf3, 0x16, 0xe8, 0xd9, 0x40, 0xaf, 0x0a, 0xd3};
    uint8_t out[9], a[4096], b[4096], key[20];
    RAND_bytes(key, sizeof key);
    for (int forced = 0; forced < 2; forced++) {
        mse_rc4_force_builtin(forced);
        struct mse_rc4 *r;
        assert_int_equal(mse_rc4_new((const uint8_t *)"Key", 3, 0, &r), 0);
        mse_rc4_apply(r, (const uint8_t *)"Plaintext", out, 9);
        assert_memory_equal(out, want, 9);
        mse_rc4_free(r);
        memset(forced ? b : a, 0, 4096);
        assert_int_equal(mse_rc4_new(key, 20, 1024, &r), 0);
        mse_rc4_apply(r, forced ? b : a, forced ? b : a, 4096);
        mse_rc4_free(r);
    }
    mse_rc4_force_builtin(false);
    assert_memory_equal(a, b, sizeof a);   /* both backends, drop1024 included */
    print_message("RC4 backend: %s\n", mse_rc4_backend());
}

static void req2_hash(void **state)
{
    (void)state;
    uint8_t in[24], want[20], got[20];
    memcpy(in, "req2", 4);
    memcpy(in + 4, HASH_X, 20);
    SHA1(in, sizeof in, want);
    mse_req2_hash(HASH_X, got);
    assert_memory_equal(got, want, 20);
}

static void handshake_rc4(void **state)
{
    (void)state;
    struct end a, b;
    pair(&a, &b, MSE_CRYPTO_RC4, MSE_CRYPTO_RC4, true, -1, known);
    check_streams(&a, &b, MSE_CRYPTO_RC4);
    end_free(&a);
    end_free(&b);
    /* Our own RC4 on both sides gives the same stream. */
    mse_rc4_force_builtin(true);
    pair(&a, &b, MSE_CRYPTO_RC4, MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN, true, -1, known);
    check_streams(&a, &b, MSE_CRYPTO_RC4);
    mse_rc4_force_builtin(false);
    end_free(&a);
    end_free(&b);
}

static void handshake_plain(void **state)
{
    (void)state;
    struct end a, b;
    pair(&a, &b, MSE_CRYPTO_PLAIN, MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN, true, -1, known);
    check_streams(&a, &b, MSE_CRYPTO_PLAIN);
    end_free(&a);
    end_free(&b);
}

static void select_rules(void **state)
{
    (void)state;
    struct end a, b;
    /* Both offered: prefer_rc4 picks RC4, without it plaintext. */
    pair(&a, &b, MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN, MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN, true, -1, known);
    check_streams(&a, &b, MSE_CRYPTO_RC4);
    end_free(&a);
    end_free(&b);
    pair(&a, &b, MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN, MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN, false, -1, known);
    check_streams(&a, &b, MSE_CRYPTO_PLAIN);
    end_free(&a);
    end_free(&b);
    /* Nothing in common: the responder refuses. */
    pair(&a, &b, MSE_CRYPTO_PLAIN, MSE_CRYPTO_RC4, true, -1, known);
    pump(&a, &b, 0);
    assert_int_equal(b.rc, -EPROTO);
    assert_string_equal(mse_error(b.m), "no encryption method in common");
    assert_false(mse_established(a.m));
    end_free(&a);
    end_free(&b);
    /* No method we know. */
    struct mse_opts o;
    mse_opts_default(&o);
    o.crypto = 0x04;
    struct mse *m = NULL;
    assert_int_equal(mse_initiator_new(HASH_X, &o, &m), -EINVAL);
    o.crypto = MSE_CRYPTO_RC4;
    o.pad_len = MSE_PAD_MAX + 1;
    assert_int_equal(mse_responder_new(lookup, NULL, &o, &m), -EINVAL);
}

static void wrong_skey(void **state)
{
    (void)state;
    struct end a, b;
    pair(&a, &b, MSE_CRYPTO_RC4, MSE_CRYPTO_RC4, true, -1, only_y);
    buf_append_str(&a.out, "hs");
    pump(&a, &b, 0);
    assert_int_equal(b.rc, -EPROTO);
    assert_string_equal(mse_error(b.m), "no torrent for the obfuscated info-hash");
    assert_int_equal(buf_size(&b.in), 0);
    end_free(&a);
    end_free(&b);
}

/* A responder whose lookup answers the wrong SKEY: the keys differ, VC does
 * not decrypt to zeros. */
static int lookup_liar(void *ud, const uint8_t req2[20], uint8_t skey[20])
{
    (void)ud;
    (void)req2;
    memcpy(skey, HASH_Y, 20);
    return 0;
}

static void wrong_key_vc(void **state)
{
    (void)state;
    struct end a = {0}, b = {0};
    assert_int_equal(mse_initiator_new(HASH_X, NULL, &a.m), 0);
    assert_int_equal(mse_responder_new(lookup_liar, NULL, NULL, &b.m), 0);
    pump(&a, &b, 0);
    assert_int_equal(b.rc, -EPROTO);
    assert_string_equal(mse_error(b.m), "bad verification constant (wrong key or info-hash)");
    end_free(&a);
    end_free(&b);
}

static void garbage(void **state)
{
    (void)state;
    uint8_t junk[4096];
    RAND_bytes(junk, sizeof junk);
    junk[0] = 0x7f;   /* a valid-looking Ya: 1 < Y < P-1 */
    /* Responder: a key, then no req1 within 512 bytes. */
    struct mse *b;
    assert_int_equal(mse_responder_new(lookup, (void *)known, NULL, &b), 0);
    struct buf in = BUF_INIT;
    int rc = 0;
    size_t fed = 0;
    while (rc == 0 && fed < sizeof junk) {
        rc = mse_feed(b, junk + fed, 100, &in);
        fed += 100;
    }
    assert_int_equal(rc, -EPROTO);
    assert_true(fed <= MSE_KEY_LEN + MSE_PAD_MAX + 20 + 100);
    assert_int_equal(buf_size(&in), 0);
    assert_int_equal(mse_feed(b, junk, 10, &in), -EPROTO);   /* stays failed */
    struct buf out = BUF_INIT;
    assert_int_equal(mse_seal(b, &in, &out), -EPROTO);
    mse_free(b);
    /* Initiator: a key, then no ENCRYPT(VC) within 512 bytes. */
    struct mse *a;
    assert_int_equal(mse_initiator_new(HASH_X, NULL, &a), 0);
    rc = mse_feed(a, junk, sizeof junk, &in);
    assert_int_equal(rc, -EPROTO);
    assert_string_equal(mse_error(a), "no VC within 512 bytes of padding");
    mse_free(a);
    /* Keys outside 2..P-2. */
    uint8_t key[MSE_KEY_LEN] = {0};
    key[MSE_KEY_LEN - 1] = 1;
    assert_int_equal(mse_responder_new(lookup, (void *)known, NULL, &b), 0);
    assert_int_equal(mse_feed(b, key, sizeof key, &in), -EPROTO);
    assert_string_equal(mse_error(b), "bad Diffie-Hellman key");
    mse_free(b);
    memset(key, 0xff, sizeof key);
    assert_int_equal(mse_initiator_new(HASH_X, NULL, &a), 0);
    assert_int_equal(mse_feed(a, key, sizeof key, &in), -EPROTO);
    mse_free(a);
    buf_free(&in);
    buf_free(&out);
}

static void truncated(void **state)
{
    (void)state;
    /* One byte at a time: every boundary inside the handshake is crossed. */
    struct end a, b;
    pair(&a, &b, MSE_CRYPTO_RC4, MSE_CRYPTO_RC4, true, 300, known);
    buf_append_str(&a.out, "IA-bytes");
    pump(&a, &b, 1);
    buf_append_str(&b.out, "reply");
    pump(&a, &b, 1);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_true(mse_established(a.m) && mse_established(b.m));
    assert_int_equal(buf_size(&a.in), 5);
    assert_int_equal(buf_size(&b.in), 8);
    end_free(&a);
    end_free(&b);
    /* Cut short: no error, no bytes, not established. */
    pair(&a, &b, MSE_CRYPTO_RC4, MSE_CRYPTO_RC4, true, -1, known);
    struct buf w = BUF_INIT;
    assert_int_equal(mse_seal(a.m, &a.out, &w), 0);
    assert_true(buf_size(&w) >= MSE_KEY_LEN);
    assert_int_equal(mse_feed(b.m, buf_head(&w), MSE_KEY_LEN - 1, &b.in), 0);
    struct buf w2 = BUF_INIT;
    assert_int_equal(mse_seal(b.m, &b.out, &w2), 0);
    assert_int_equal(buf_size(&w2), 0);   /* no Yb before all of Ya */
    assert_int_equal(mse_feed(b.m, buf_head(&w) + MSE_KEY_LEN - 1, 1, &b.in), 0);
    assert_int_equal(mse_seal(b.m, &b.out, &w2), 0);
    assert_true(buf_size(&w2) >= MSE_KEY_LEN);
    assert_int_equal(mse_feed(a.m, buf_head(&w2), 50, &a.in), 0);
    assert_false(mse_established(a.m));
    assert_false(mse_established(b.m));
    assert_true(mse_heard(a.m));
    assert_int_equal(buf_size(&a.in) + buf_size(&b.in), 0);
    buf_free(&w);
    buf_free(&w2);
    end_free(&a);
    end_free(&b);
}

/* Pads of 512 bytes pass; one byte more past PadA (or PadB) and the mark
 * that ends it is out of the window. */
static void padding_bounds(void **state)
{
    (void)state;
    struct end a, b;
    pair(&a, &b, MSE_CRYPTO_RC4, MSE_CRYPTO_RC4, true, MSE_PAD_MAX, known);
    check_streams(&a, &b, MSE_CRYPTO_RC4);
    end_free(&a);
    end_free(&b);

    for (int side = 0; side < 2; side++) {
        pair(&a, &b, MSE_CRYPTO_RC4, MSE_CRYPTO_RC4, true, MSE_PAD_MAX, known);
        struct buf w = BUF_INIT;
        assert_int_equal(mse_seal(a.m, &a.out, &w), 0);   /* Ya + 512 */
        assert_int_equal(buf_size(&w), MSE_KEY_LEN + MSE_PAD_MAX);
        if (side == 0)
            buf_append(&w, "x", 1);
        assert_int_equal(mse_feed(b.m, buf_head(&w), buf_size(&w), &b.in), 0);
        buf_reset(&w);
        assert_int_equal(mse_seal(b.m, &b.out, &w), 0);   /* Yb + 512 */
        assert_int_equal(buf_size(&w), MSE_KEY_LEN + MSE_PAD_MAX);
        if (side == 1)
            buf_append(&w, "x", 1);
        assert_int_equal(mse_feed(a.m, buf_head(&w), buf_size(&w), &a.in), 0);
        buf_free(&w);
        pump(&a, &b, 0);
        struct end *failed = side == 0 ? &b : &a;
        assert_int_equal(failed->rc, -EPROTO);
        assert_false(mse_established(a.m) && mse_established(b.m));
        end_free(&a);
        end_free(&b);
    }
}

/* No BitTorrent bytes queued when step 3 goes out: IA is empty, and the
 * handshake still completes (the stream then starts after it). */
static void empty_ia(void **state)
{
    (void)state;
    struct end a, b;
    pair(&a, &b, MSE_CRYPTO_RC4, MSE_CRYPTO_RC4, true, 0, known);
    pump(&a, &b, 0);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_true(mse_established(a.m) && mse_established(b.m));
    assert_int_equal(buf_size(&b.in), 0);
    buf_append_str(&a.out, "late");
    pump(&a, &b, 0);
    assert_int_equal(buf_size(&b.in), 4);
    assert_memory_equal(buf_head(&b.in), "late", 4);
    end_free(&a);
    end_free(&b);
}

static void detect(void **state)
{
    (void)state;
    const uint8_t *hs = (const uint8_t *)"\x13" "BitTorrent protocol\0\0\0\0\0\0\0\0";
    assert_int_equal(mse_detect(hs, 1), MSE_DETECT_MORE);
    assert_int_equal(mse_detect(hs, 19), MSE_DETECT_MORE);
    assert_int_equal(mse_detect(hs, 20), MSE_DETECT_PLAIN);
    assert_int_equal(mse_detect(hs, 28), MSE_DETECT_PLAIN);
    assert_int_equal(mse_detect((const uint8_t *)"\x13" "BitTorrent pro", 15), MSE_DETECT_MORE);
    assert_int_equal(mse_detect((const uint8_t *)"\x13" "BitTorrent Pro", 15), MSE_DETECT_MSE);
    assert_int_equal(mse_detect((const uint8_t *)"\x14", 1), MSE_DETECT_MSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rc4_vectors),   cmocka_unit_test(req2_hash),      cmocka_unit_test(handshake_rc4),
        cmocka_unit_test(handshake_plain), cmocka_unit_test(select_rules), cmocka_unit_test(wrong_skey),
        cmocka_unit_test(wrong_key_vc),  cmocka_unit_test(garbage),        cmocka_unit_test(truncated),
        cmocka_unit_test(padding_bounds), cmocka_unit_test(empty_ia),    cmocka_unit_test(detect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
