#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "bt/wire.h"
#include "util/log.h"

#define MAXLEN (1u << 20)

static void parse_one(struct buf *b, struct bt_msg *m)
{
    size_t used = 0;
    assert_int_equal(bt_wire_parse(buf_head(b), buf_size(b), MAXLEN, m, &used), 0);
    assert_int_equal(used, buf_size(b));
    /* Every strict prefix is incomplete, never an error or a message. */
    for (size_t k = 0; k < buf_size(b); k++) {
        struct bt_msg t;
        size_t u = 99;
        assert_int_equal(bt_wire_parse(buf_head(b), k, MAXLEN, &t, &u), -EAGAIN);
    }
}

static void handshake(void **state)
{
    (void)state;
    uint8_t ih[20], pid[20];
    for (int i = 0; i < 20; i++) {
        ih[i] = (uint8_t)i;
        pid[i] = (uint8_t)(0xa0 + i);
    }
    struct buf b = BUF_INIT;
    assert_int_equal(bt_wire_handshake_build(&b, ih, pid), 0);
    assert_int_equal(buf_size(&b), BT_WIRE_HANDSHAKE_LEN);
    const uint8_t *p = buf_head(&b);
    assert_int_equal(p[0], 19);
    assert_memory_equal(p + 1, "BitTorrent protocol", 19);
    assert_int_equal(p[25], 0x10);
    assert_int_equal(p[27], 0x04);
    struct bt_handshake h;
    assert_int_equal(bt_wire_handshake_parse(p, &h), 0);
    assert_memory_equal(h.info_hash, ih, 20);
    assert_memory_equal(h.peer_id, pid, 20);
    assert_true(h.fast);
    assert_true(h.ext);
    assert_false(h.dht);

    uint8_t bad[68];
    memcpy(bad, p, 68);
    bad[27] = 0x01;
    bad[25] = 0;
    assert_int_equal(bt_wire_handshake_parse(bad, &h), 0);
    assert_false(h.fast);
    assert_false(h.ext);
    assert_true(h.dht);
    bad[0] = 18;
    assert_int_equal(bt_wire_handshake_parse(bad, &h), -EPROTO);
    memcpy(bad, p, 68);
    bad[5] = 't';   /* "BitTtrrent" */
    assert_int_equal(bt_wire_handshake_parse(bad, &h), -EPROTO);
    buf_free(&b);
}

typedef int (*put0_fn)(struct buf *);

static void simple_roundtrips(void **state)
{
    (void)state;
    struct {
        put0_fn fn;
        int id;
    } cases[] = {
        {bt_wire_put_keepalive, BT_MSG_KEEPALIVE}, {bt_wire_put_choke, BT_MSG_CHOKE},
        {bt_wire_put_unchoke, BT_MSG_UNCHOKE},     {bt_wire_put_interested, BT_MSG_INTERESTED},
        {bt_wire_put_not_interested, BT_MSG_NOT_INTERESTED},
        {bt_wire_put_have_all, BT_MSG_HAVE_ALL},   {bt_wire_put_have_none, BT_MSG_HAVE_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf b = BUF_INIT;
        assert_int_equal(cases[i].fn(&b), 0);
        assert_int_equal(buf_size(&b), cases[i].id < 0 ? 4 : 5);
        struct bt_msg m;
        parse_one(&b, &m);
        assert_int_equal(m.id, cases[i].id);
        assert_int_equal(m.payload_len, 0);
        buf_free(&b);
    }
}

typedef int (*put1_fn)(struct buf *, uint32_t);
typedef int (*put3_fn)(struct buf *, uint32_t, uint32_t, uint32_t);

static void index_roundtrips(void **state)
{
    (void)state;
    struct {
        put1_fn fn;
        int id;
    } one[] = {{bt_wire_put_have, BT_MSG_HAVE},
               {bt_wire_put_suggest, BT_MSG_SUGGEST},
               {bt_wire_put_allowed_fast, BT_MSG_ALLOWED_FAST}};
    for (size_t i = 0; i < 3; i++) {
        struct buf b = BUF_INIT;
        assert_int_equal(one[i].fn(&b, 0xdeadbeef), 0);
        assert_int_equal(buf_size(&b), 9);
        struct bt_msg m;
        parse_one(&b, &m);
        assert_int_equal(m.id, one[i].id);
        assert_int_equal(m.index, 0xdeadbeef);
        buf_free(&b);
    }
    struct {
        put3_fn fn;
        int id;
    } three[] = {{bt_wire_put_request, BT_MSG_REQUEST},
                 {bt_wire_put_cancel, BT_MSG_CANCEL},
                 {bt_wire_put_reject, BT_MSG_REJECT}};
    for (size_t i = 0; i < 3; i++) {
        struct buf b = BUF_INIT;
        assert_int_equal(three[i].fn(&b, 7, 16384, 16384), 0);
        assert_int_equal(buf_size(&b), 17);
        struct bt_msg m;
        parse_one(&b, &m);
        assert_int_equal(m.id, three[i].id);
        assert_int_equal(m.index, 7);
        assert_int_equal(m.begin, 16384);
        assert_int_equal(m.length, 16384);
        buf_free(&b);
    }
    struct buf b = BUF_INIT;
    assert_int_equal(bt_wire_put_port(&b, 6881), 0);
    assert_int_equal(buf_size(&b), 7);
    struct bt_msg m;
    parse_one(&b, &m);
    assert_int_equal(m.id, BT_MSG_PORT);
    assert_int_equal(m.index, 6881);
    buf_free(&b);
}

static void payload_roundtrips(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    const uint8_t bits[3] = {0xff, 0x01, 0x80};
    assert_int_equal(bt_wire_put_bitfield(&b, bits, 3), 0);
    struct bt_msg m;
    parse_one(&b, &m);
    assert_int_equal(m.id, BT_MSG_BITFIELD);
    assert_int_equal(m.payload_len, 3);
    assert_memory_equal(m.payload, bits, 3);
    assert_ptr_equal(m.payload, buf_head(&b) + 5);   /* zero-copy */
    buf_reset(&b);

    uint8_t block[1000];
    for (int i = 0; i < 1000; i++)
        block[i] = (uint8_t)(i * 7);
    assert_int_equal(bt_wire_put_piece_header(&b, 3, 32768, sizeof block), 0);
    assert_int_equal(buf_size(&b), 13);
    assert_int_equal(buf_append(&b, block, sizeof block), 0);
    parse_one(&b, &m);
    assert_int_equal(m.id, BT_MSG_PIECE);
    assert_int_equal(m.index, 3);
    assert_int_equal(m.begin, 32768);
    assert_int_equal(m.payload_len, 1000);
    assert_int_equal(m.length, 1000);
    assert_memory_equal(m.payload, block, 1000);
    buf_reset(&b);

    const char *d = "d1:md6:ut_pexi1eee";
    assert_int_equal(bt_wire_put_extended(&b, 0, (const uint8_t *)d, strlen(d)), 0);
    parse_one(&b, &m);
    assert_int_equal(m.id, BT_MSG_EXTENDED);
    assert_int_equal(m.ext_id, 0);
    assert_int_equal(m.payload_len, strlen(d));
    assert_memory_equal(m.payload, d, strlen(d));
    buf_reset(&b);

    assert_int_equal(bt_wire_put_extended(&b, 3, NULL, 0), 0);
    parse_one(&b, &m);
    assert_int_equal(m.ext_id, 3);
    assert_int_equal(m.payload_len, 0);
    buf_free(&b);
}

static void stream_of_messages(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    bt_wire_put_have_none(&b);
    bt_wire_put_keepalive(&b);
    bt_wire_put_have(&b, 5);
    bt_wire_put_request(&b, 1, 2, 3);
    const uint8_t *p = buf_head(&b);
    size_t n = buf_size(&b);
    int ids[4], k = 0;
    while (n > 0 && k < 10) {
        struct bt_msg m;
        size_t used;
        assert_int_equal(bt_wire_parse(p, n, MAXLEN, &m, &used), 0);
        ids[k++] = m.id;
        p += used;
        n -= used;
    }
    assert_int_equal(k, 4);
    assert_int_equal(ids[0], BT_MSG_HAVE_NONE);
    assert_int_equal(ids[1], BT_MSG_KEEPALIVE);
    assert_int_equal(ids[2], BT_MSG_HAVE);
    assert_int_equal(ids[3], BT_MSG_REQUEST);
    buf_free(&b);
}

static int parse_raw(const uint8_t *p, size_t n, uint32_t max_len, struct bt_msg *m)
{
    size_t used = 0;
    return bt_wire_parse(p, n, max_len, m, &used);
}

static void malformed(void **state)
{
    (void)state;
    struct bt_msg m;
    /* Fixed-length ids with one byte too many and too few. */
    static const struct {
        uint8_t id;
        uint32_t good;
    } fixed[] = {{0, 1}, {1, 1}, {2, 1}, {3, 1}, {14, 1}, {15, 1}, {4, 5}, {13, 5},
                 {17, 5}, {6, 13}, {8, 13}, {16, 13}, {9, 3}, {21, 49}, {23, 49}};
    uint8_t frame[64];
    memset(frame, 0, sizeof frame);
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        for (int delta = -1; delta <= 1; delta++) {
            uint32_t len = fixed[i].good + (uint32_t)delta;
            if (len == 0)
                continue;   /* that is a keep-alive */
            wr_be32(frame, len);
            frame[4] = fixed[i].id;
            int r = parse_raw(frame, 4 + len, MAXLEN, &m);
            if (delta == 0) {
                assert_int_equal(r, 0);
                assert_int_equal(m.id, fixed[i].id);
            } else {
                assert_int_equal(r, -EPROTO);
            }
        }
    }
    /* piece shorter than its 8-byte header. */
    for (uint32_t len = 1; len < 9; len++) {
        wr_be32(frame, len);
        frame[4] = BT_MSG_PIECE;
        assert_int_equal(parse_raw(frame, 4 + len, MAXLEN, &m), -EPROTO);
    }
    wr_be32(frame, 9);
    assert_int_equal(parse_raw(frame, 13, MAXLEN, &m), 0);   /* empty block: legal frame */
    assert_int_equal(m.payload_len, 0);
    /* extended without its ext id. */
    wr_be32(frame, 1);
    frame[4] = BT_MSG_EXTENDED;
    assert_int_equal(parse_raw(frame, 5, MAXLEN, &m), -EPROTO);
    /* Length beyond the limit is refused before the bytes arrive. */
    wr_be32(frame, MAXLEN + 1);
    frame[4] = BT_MSG_PIECE;
    assert_int_equal(parse_raw(frame, 5, MAXLEN, &m), -EPROTO);
    wr_be32(frame, 0xffffffffu);
    assert_int_equal(parse_raw(frame, 4, MAXLEN, &m), -EPROTO);
    assert_int_equal(parse_raw(frame, 4, 0xffffffffu, &m), -EAGAIN);
    wr_be32(frame, 100);
    assert_int_equal(parse_raw(frame, 4, 99, &m), -EPROTO);
    assert_int_equal(parse_raw(frame, 4, 100, &m), -EAGAIN);
    /* Unknown ids come back as they are, for the caller to skip. */
    wr_be32(frame, 4);
    frame[4] = 0xc8;
    frame[5] = 'a';
    frame[6] = 'b';
    frame[7] = 'c';
    size_t used;
    assert_int_equal(bt_wire_parse(frame, 20, MAXLEN, &m, &used), 0);
    assert_int_equal(used, 8);
    assert_int_equal(m.id, 0xc8);
    assert_int_equal(m.payload_len, 3);
    assert_memory_equal(m.payload, "abc", 3);
    /* Nothing at all. */
    assert_int_equal(parse_raw(frame, 0, MAXLEN, &m), -EAGAIN);
}

static void hash_messages(void **state)
{
    (void)state;
    uint8_t req[BT_WIRE_HASH_REQ_LEN], hashes[3 * 32];
    for (size_t i = 0; i < sizeof req; i++)
        req[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof hashes; i++)
        hashes[i] = (uint8_t)(200 - i);
    struct buf b = BUF_INIT;
    struct bt_msg m;
    assert_int_equal(bt_wire_put_hashes(&b, req, hashes, 3), 0);
    assert_int_equal(buf_size(&b), 4 + 1 + 48 + 96);
    parse_one(&b, &m);
    assert_int_equal(m.id, BT_MSG_HASHES);
    assert_int_equal(m.payload_len, 48 + 96);
    assert_memory_equal(m.payload, req, 48);
    assert_memory_equal(m.payload + 48, hashes, 96);
    buf_reset(&b);
    assert_int_equal(bt_wire_put_hash_reject(&b, req), 0);
    parse_one(&b, &m);
    assert_int_equal(m.id, BT_MSG_HASH_REJECT);
    assert_int_equal(m.payload_len, 48);
    assert_memory_equal(m.payload, req, 48);
    /* a hashes message shorter than its request header is malformed */
    uint8_t frame[4 + 1 + 47] = {0};
    wr_be32(frame, 48);
    frame[4] = BT_MSG_HASHES;
    size_t used;
    assert_int_equal(bt_wire_parse(frame, sizeof frame, MAXLEN, &m, &used), -EPROTO);
    buf_free(&b);
}

static void allowed_fast_bep6(void **state)
{
    (void)state;
    uint8_t ih[20];
    memset(ih, 0xaa, sizeof ih);
    const uint8_t ip[4] = {80, 4, 4, 200};
    uint32_t out[9];
    assert_int_equal(bt_wire_allowed_fast_set(ih, ip, 1313, 7, out), 7);
    const uint32_t want7[7] = {1059, 431, 808, 1217, 287, 376, 1188};
    for (int i = 0; i < 7; i++)
        assert_int_equal(out[i], want7[i]);
    assert_int_equal(bt_wire_allowed_fast_set(ih, ip, 1313, 9, out), 9);
    const uint32_t want9[9] = {1059, 431, 808, 1217, 287, 376, 1188, 353, 508};
    for (int i = 0; i < 9; i++)
        assert_int_equal(out[i], want9[i]);
    /* Same /24, same set. */
    const uint8_t ip2[4] = {80, 4, 4, 1};
    uint32_t out2[9];
    assert_int_equal(bt_wire_allowed_fast_set(ih, ip2, 1313, 9, out2), 9);
    assert_memory_equal(out, out2, sizeof out);
    /* Small torrents: every piece, each once. */
    uint32_t small[10];
    assert_int_equal(bt_wire_allowed_fast_set(ih, ip, 3, 10, small), 3);
    assert_int_equal(small[0] + small[1] + small[2], 0 + 1 + 2);
    assert_int_equal(bt_wire_allowed_fast_set(ih, ip, 0, 10, small), -EINVAL);
    assert_int_equal(bt_wire_allowed_fast_set(ih, ip, 10, -1, small), -EINVAL);
    assert_int_equal(bt_wire_allowed_fast_set(ih, ip, 10, 0, small), 0);
}

static void client_names(void **state)
{
    (void)state;
    struct {
        const char *id;
        const char *name;
    } cases[] = {
        {"-qB4520-abcdefghijkl", "qBittorrent 4.5.2"},
        {"-qB4A00-abcdefghijkl", "qBittorrent 4.10.0"},
        {"-TR3000-abcdefghijkl", "Transmission 3.00"},
        {"-TR4050-abcdefghijkl", "Transmission 4.0.5"},
        {"-lt0D80-abcdefghijkl", "libtorrent 0.13.8"},
        {"-LT1280-abcdefghijkl", "libtorrent (Rasterbar) 1.2.8"},
        {"-TD0100-abcdefghijkl", "torrentd 0.1.0"},
        {"-UT355S-abcdefghijkl", "\xc2\xb5Torrent 3.5.5"},
        {"-DE13F0-abcdefghijkl", "Deluge 1.3.15"},
        {"-AR1350-abcdefghijkl", "aria2 1.3.5"},
        {"A2-1-35-0-abcdefghij", "aria2 1.35.0"},
        {"M7-2-2--abcdefghijkl", "BitTorrent 7.2.2"},
        {"-ZZ1230-abcdefghijkl", "ZZ 1.2.3"},
        {"-TIX0284-bcdefghijkl", "-TIX0284"},
        {"exbc\x01\x02xxxxxxxxxxxxxx", "exbc"},
        {"-\x01Z1230-abcdefghijkl", "-"},
        {"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13", "Unknown"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        bt_wire_peer_client((const uint8_t *)cases[i].id, out, sizeof out);
        assert_string_equal(out, cases[i].name);
    }
    /* Truncation always terminates. */
    char tiny[6];
    bt_wire_peer_client((const uint8_t *)"-qB4520-abcdefghijkl", tiny, sizeof tiny);
    assert_string_equal(tiny, "qBitt");
    char one[1];
    bt_wire_peer_client((const uint8_t *)"-qB4520-abcdefghijkl", one, sizeof one);
    assert_int_equal(one[0], 0);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake),          cmocka_unit_test(simple_roundtrips),
        cmocka_unit_test(index_roundtrips),   cmocka_unit_test(payload_roundtrips),
        cmocka_unit_test(stream_of_messages), cmocka_unit_test(malformed),
        cmocka_unit_test(allowed_fast_bep6),  cmocka_unit_test(client_names),
        cmocka_unit_test(hash_messages),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return r;
}
