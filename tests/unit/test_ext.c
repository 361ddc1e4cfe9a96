#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "bt/bencode.h"
#include "bt/ext.h"
#include "util/log.h"

static int parse_s(const char *s, struct bt_ext_handshake *h)
{
    return bt_ext_handshake_parse((const uint8_t *)s, strlen(s), h);
}

static void round_trip(void **state)
{
    (void)state;
    struct bt_ext_handshake ours = {
        .ut_metadata = 3, .ut_pex = 1, .metadata_size = 31235, .reqq = 500,
        .listen_port = 51413, .client = "torrentd 0.1.0", .yourip = {127, 0, 0, 1}, .yourip_len = 4,
    };
    struct buf b = BUF_INIT;
    assert_int_equal(bt_ext_handshake_build(&b, &ours), 0);
    const char want[] = "d1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei31235e"
                        "1:pi51413e4:reqqi500e1:v14:torrentd 0.1.06:yourip4:\x7f\0\0\x01" "e";
    assert_int_equal(buf_size(&b), sizeof want - 1);
    assert_memory_equal(buf_head(&b), want, sizeof want - 1);
    /* Keys are sorted, so a strict peer sees a canonical dict. */
    struct benc_doc *doc;
    assert_int_equal(benc_parse(buf_head(&b), buf_size(&b), NULL, 0, &doc, NULL, NULL, 0), 0);
    assert_false(benc_doc_unsorted(doc));
    benc_doc_free(doc);

    struct bt_ext_handshake got;
    assert_int_equal(bt_ext_handshake_parse(buf_head(&b), buf_size(&b), &got), 0);
    assert_int_equal(got.ut_metadata, 3);
    assert_int_equal(got.ut_pex, 1);
    assert_int_equal(got.metadata_size, 31235);
    assert_int_equal(got.reqq, 500);
    assert_int_equal(got.listen_port, 51413);
    assert_string_equal(got.client, "torrentd 0.1.0");
    assert_int_equal(got.yourip_len, 4);
    assert_memory_equal(got.yourip, ours.yourip, 4);
    buf_free(&b);

    /* Minimal: nothing supported, everything unknown, IPv6 yourip. */
    struct bt_ext_handshake none = {.metadata_size = -1, .reqq = -1, .yourip_len = 16};
    memset(none.yourip, 0xab, 16);
    assert_int_equal(bt_ext_handshake_build(&b, &none), 0);
    const char want2[] = "d1:mde6:yourip16:\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab" "e";
    assert_int_equal(buf_size(&b), sizeof want2 - 1);
    assert_memory_equal(buf_head(&b), want2, sizeof want2 - 1);
    assert_int_equal(bt_ext_handshake_parse(buf_head(&b), buf_size(&b), &got), 0);
    assert_int_equal(got.ut_metadata, 0);
    assert_int_equal(got.metadata_size, -1);
    assert_int_equal(got.reqq, -1);
    assert_int_equal(got.listen_port, 0);
    assert_string_equal(got.client, "");
    assert_int_equal(got.yourip_len, 16);
    buf_free(&b);
}

static void real_clients(void **state)
{
    (void)state;
    struct bt_ext_handshake h;
    /* libtorrent-style, with extra keys and unknown extensions. */
    const char lt[] = "d12:complete_agoi1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e"
                      "12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei5678e"
                      "4:reqqi500e11:upload_onlyi0e1:v17:qBittorrent/5.1.46:yourip4:\x0a\0\0\x02" "e";
    assert_int_equal(bt_ext_handshake_parse((const uint8_t *)lt, sizeof lt - 1, &h), 0);
    assert_int_equal(h.ut_metadata, 2);
    assert_int_equal(h.ut_pex, 1);
    assert_int_equal(h.metadata_size, 5678);
    assert_string_equal(h.client, "qBittorrent/5.1.4");
    assert_int_equal(h.yourip[3], 2);
    /* Transmission sends 'p' and 'v' with UTF-8. */
    assert_int_equal(parse_s("d1:ei1e1:md6:ut_pexi2ee1:pi6881e1:v19:Transmission 4.0 \xc3\xa9" "e", &h), 0);
    assert_int_equal(h.ut_pex, 2);
    assert_int_equal(h.ut_metadata, 0);
    assert_int_equal(h.listen_port, 6881);
    assert_string_equal(h.client, "Transmission 4.0 \xc3\xa9");
    /* Unsorted keys from sloppy clients are still read. */
    assert_int_equal(parse_s("d1:v3:abc1:md11:ut_metadatai9eee", &h), 0);
    assert_int_equal(h.ut_metadata, 9);
    assert_string_equal(h.client, "abc");
}

static void hostile(void **state)
{
    (void)state;
    struct bt_ext_handshake h;
    const char *garbage[] = {"", "x", "le", "i5e", "4:spam", "d1:md", "d1:mi1ee", "d1:md11:ut_metadatai1eeee",
                             "d1:mdee", "d1:mdeee"};
    for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) {
        memset(&h, 0x55, sizeof h);
        int rc = parse_s(garbage[i], &h);
        if (i == 6 || i == 8) {
            assert_int_equal(rc, 0);      /* "m" not a dict / empty: still a valid handshake */
        } else {
            assert_int_equal(rc, -EPROTO);
            assert_int_equal(h.metadata_size, -1);
        }
        assert_int_equal(h.ut_metadata, 0);
        assert_int_equal(h.ut_pex, 0);
    }
    /* Out-of-range values become "unknown". */
    assert_int_equal(parse_s("d1:md11:ut_metadatai256e6:ut_pexi-1ee13:metadata_sizei-5e"
                             "1:pi65536e4:reqqi99999999999e1:vi7e6:yourip3:abce", &h), 0);
    assert_int_equal(h.ut_metadata, 0);
    assert_int_equal(h.ut_pex, 0);
    assert_int_equal(h.metadata_size, -1);
    assert_int_equal(h.listen_port, 0);
    assert_int_equal(h.reqq, -1);
    assert_string_equal(h.client, "");
    assert_int_equal(h.yourip_len, 0);
    /* Wrong types for every field. */
    assert_int_equal(parse_s("d1:md11:ut_metadata1:16:ut_pexlee13:metadata_size1:51:p2:804:reqqdee", &h), 0);
    assert_int_equal(h.ut_metadata, 0);
    assert_int_equal(h.metadata_size, -1);
    assert_int_equal(h.reqq, -1);
    /* A client string with control characters, NUL, invalid UTF-8, too long. */
    char big[300] = "d1:v200:";
    size_t n = strlen(big);
    memset(big + n, 'A', 200);
    memcpy(big + n, "\x1b[31m\0\xff", 8);
    big[n + 200] = 'e';
    assert_int_equal(bt_ext_handshake_parse((const uint8_t *)big, n + 201, &h), 0);
    assert_int_equal(strlen(h.client), 63);
    assert_memory_equal(h.client, "?[31m?AAA", 9);
    /* Deep nesting and oversize payloads are refused cheaply. */
    char deep[64];
    memset(deep, 'l', 32);
    memset(deep + 32, 'e', 32);
    assert_int_equal(bt_ext_handshake_parse((const uint8_t *)deep, 64, &h), -E2BIG);
    uint8_t *huge = calloc(1, BT_EXT_HANDSHAKE_MAX + 1);
    assert_int_equal(bt_ext_handshake_parse(huge, BT_EXT_HANDSHAKE_MAX + 1, &h), -E2BIG);
    free(huge);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(real_clients),
        cmocka_unit_test(hostile),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
