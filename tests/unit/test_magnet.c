#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "bt/magnet.h"
#include "util/hex.h"
#include "util/log.h"

#define IH_HEX "d9ba5827fbebdbdc1d3e8674f5506acfb6cb7894"

static struct bt_magnet *parse_ok(const char *uri)
{
    struct bt_magnet *m = NULL;
    char err[128];
    int rc = bt_magnet_parse(uri, &m, err, sizeof err);
    if (rc)
        print_error("parse failed (%d): %s for %s\n", rc, err, uri);
    assert_int_equal(rc, 0);
    assert_non_null(m);
    return m;
}

static int parse_rc(const char *uri)
{
    struct bt_magnet *m = (struct bt_magnet *)1;
    int rc = bt_magnet_parse(uri, &m, NULL, 0);
    if (rc == 0)
        bt_magnet_free(m);
    else
        assert_null(m);
    return rc;
}

static void hex_and_fields(void **state)
{
    (void)state;
    struct bt_magnet *m = parse_ok(
        "magnet:?xt=urn:btih:" IH_HEX "&dn=My+Show%20S01%2FE02%0A"
        "&tr=http%3A%2F%2Ft1.example%2Fannounce&tr=udp://t2.example:6969"
        "&tr.1=http%3a%2f%2ft1.example%2fannounce&tr.2=udp%3A%2F%2Ft3.example%3A80"
        "&ws=http%3A%2F%2Fws.example%2Ff&x.pe=10.0.0.1:6881&x.pe=%5B%3A%3A1%5D%3A51413"
        "&x.pe=host.example:6881&x.pe=1.2.3.4:0&x.pe=1.2.3.4:99999&xl=1234&unknown=x");
    uint8_t ih[20];
    hex_decode(IH_HEX, 40, ih, 20);
    assert_true(m->has_v1);
    assert_false(m->has_v2);
    assert_memory_equal(m->info_hash, ih, 20);
    /* '+' and %20 are spaces, "/" decoded, the newline is not printable. */
    assert_string_equal(m->name, "My Show S01/E02?");
    assert_int_equal(m->num_trackers, 3);
    assert_string_equal(m->trackers[0], "http://t1.example/announce");
    assert_string_equal(m->trackers[1], "udp://t2.example:6969");
    assert_string_equal(m->trackers[2], "udp://t3.example:80");
    assert_int_equal(m->num_web_seeds, 1);
    assert_string_equal(m->web_seeds[0], "http://ws.example/f");
    assert_int_equal(m->num_peers, 2);
    const struct sockaddr_in *a = (const struct sockaddr_in *)&m->peers[0];
    assert_int_equal(a->sin_family, AF_INET);
    assert_int_equal(ntohs(a->sin_port), 6881);
    assert_int_equal(ntohl(a->sin_addr.s_addr), 0x0a000001);
    const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)&m->peers[1];
    assert_int_equal(b->sin6_family, AF_INET6);
    assert_int_equal(ntohs(b->sin6_port), 51413);
    assert_true(IN6_IS_ADDR_LOOPBACK(&b->sin6_addr));
    assert_null(m->select_only);
    bt_magnet_free(m);
}

static void base32_and_case(void **state)
{
    (void)state;
    /* base32 of d9ba5827... , lower case, URN prefix in odd case. */
    struct bt_magnet *m = parse_ok("MAGNET:?xt=URN:BtIh:3G5FQJ735PN5YHJ6QZ2PKUDKZ63MW6EU");
    uint8_t ih[20];
    hex_decode(IH_HEX, 40, ih, 20);
    assert_memory_equal(m->info_hash, ih, 20);
    assert_null(m->name);
    assert_int_equal(m->num_trackers, 0);
    bt_magnet_free(m);
    m = parse_ok("magnet:?dn=x&xt=urn:btih:3g5fqj735pn5yhj6qz2pkudkz63mw6eu");
    assert_memory_equal(m->info_hash, ih, 20);
    assert_string_equal(m->name, "x");
    bt_magnet_free(m);
    /* Upper-case hex. */
    m = parse_ok("magnet:?xt=urn:btih:D9BA5827FBEBDBDC1D3E8674F5506ACFB6CB7894");
    assert_memory_equal(m->info_hash, ih, 20);
    bt_magnet_free(m);
}

static void v2_and_hybrid(void **state)
{
    (void)state;
    const char *btmh = "urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e";
    char uri[512];
    snprintf(uri, sizeof uri, "magnet:?xt=%s&dn=v2only", btmh);
    char err[128];
    struct bt_magnet *m;
    /* v2 only: the swarm key is the SHA-256 cut to 20 bytes (BEP52). */
    assert_int_equal(bt_magnet_parse(uri, &m, err, sizeof err), 0);
    assert_false(m->has_v1);
    assert_true(m->has_v2);
    assert_int_equal(m->info_hash[0], 0xca);
    assert_int_equal(m->info_hash[19], 0xfa);
    assert_memory_equal(m->info_hash, m->info_hash_v2, 20);
    /* ... and built back with btmh only, which parses to the same hashes */
    char *back = bt_magnet_build2(NULL, m->info_hash_v2, "v2only", NULL, 0);
    assert_non_null(back);
    snprintf(uri, sizeof uri, "magnet:?xt=%s&dn=v2only", btmh);
    assert_string_equal(back, uri);
    free(back);
    bt_magnet_free(m);
    /* Hybrid: v1 is used, v2 recorded; order does not matter. */
    snprintf(uri, sizeof uri, "magnet:?xt=%s&xt=urn:btih:" IH_HEX, btmh);
    m = parse_ok(uri);
    assert_true(m->has_v1);
    assert_true(m->has_v2);
    assert_int_equal(m->info_hash_v2[0], 0xca);
    assert_int_equal(m->info_hash_v2[31], 0x2e);
    bt_magnet_free(m);
    /* Numbered xt. */
    snprintf(uri, sizeof uri, "magnet:?xt.1=urn:btih:" IH_HEX "&xt.2=%s", btmh);
    m = parse_ok(uri);
    assert_true(m->has_v1 && m->has_v2);
    bt_magnet_free(m);
    /* Broken multihash (wrong code / length). */
    assert_int_equal(parse_rc("magnet:?xt=urn:btmh:1120caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e"), -EINVAL);
    assert_int_equal(parse_rc("magnet:?xt=urn:btmh:1220caf1"), -EINVAL);
}

static void select_only(void **state)
{
    (void)state;
    struct bt_magnet *m = parse_ok("magnet:?xt=urn:btih:" IH_HEX "&so=0,2,4-6,2,10-10");
    uint32_t want[] = {0, 2, 4, 5, 6, 10};
    assert_int_equal(m->num_select_only, 6);
    assert_memory_equal(m->select_only, want, sizeof want);
    bt_magnet_free(m);
    m = parse_ok("magnet:?xt=urn:btih:" IH_HEX "&so=7-9&so.1=1");
    assert_int_equal(m->num_select_only, 4);
    assert_int_equal(m->select_only[0], 1);
    assert_int_equal(m->select_only[3], 9);
    bt_magnet_free(m);
    const char *bad[] = {"6-4", "1,", ",1", "1,,2", "a", "1-", "-1", "1-2-3", "4294967296",
                         "0-4294967295", "0-10000", "1 2", "0x1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char uri[256];
        snprintf(uri, sizeof uri, "magnet:?xt=urn:btih:" IH_HEX "&so=%s", bad[i]);
        char err[128];
        struct bt_magnet *x;
        assert_int_equal(bt_magnet_parse(uri, &x, err, sizeof err), -EINVAL);
        assert_string_equal(err, "invalid file selection (so)");
    }
    /* Exactly the bound is fine. */
    m = parse_ok("magnet:?xt=urn:btih:" IH_HEX "&so=0-9999");
    assert_int_equal(m->num_select_only, 10000);
    bt_magnet_free(m);
}

static void invalid(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "magnet:", "magnet:?", "http://x/?xt=urn:btih:" IH_HEX, "magnet:xt=urn:btih:" IH_HEX,
        "magnet:?xt=urn:btih:", "magnet:?xt=urn:btih:d9ba5827", "magnet:?xt=urn:btih:" IH_HEX "00",
        "magnet:?xt=urn:btih:g9ba5827fbebdbdc1d3e8674f5506acfb6cb7894",
        "magnet:?xt=urn:btih:3G5FQJ735PN5YHJ6QZ2PKUDKZ63MW6E1",   /* '1' is not base32 */
        "magnet:?xt=urn:sha1:" IH_HEX, "magnet:?dn=only&tr=http://t/",
        "magnet:?xt=urn:btih:" IH_HEX "&dn=%zz", "magnet:?xt=urn:btih:" IH_HEX "&dn=%4",
        "magnet:?xt=urn:btih:" IH_HEX "&tr=%",
        "magnet:?xt=urn:btih:d9ba5827fbebdbdc1d3e8674f5506acfb6cb789%00",
        "magnet:?xt=urn:btih:%00" IH_HEX,
        "magnet:?&&&=&=x&xt",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = parse_rc(bad[i]);
        if (rc != -EINVAL)
            print_error("case %zu: %s -> %d\n", i, bad[i], rc);
        assert_int_equal(rc, -EINVAL);
    }
    assert_int_equal(parse_rc(NULL), -EINVAL);
    /* Junk parameters around a good xt are ignored. */
    struct bt_magnet *m = parse_ok("magnet:?&&=&novalue&xt=urn:btih:" IH_HEX "&&tr=&ws=&x.pe=&dn=&so=");
    assert_int_equal(m->num_trackers, 0);
    assert_int_equal(m->num_web_seeds, 0);
    assert_int_equal(m->num_peers, 0);
    assert_null(m->name);
    assert_int_equal(m->num_select_only, 0);
    bt_magnet_free(m);
    /* Control characters / spaces in tracker URLs: that tracker is skipped. */
    m = parse_ok("magnet:?xt=urn:btih:" IH_HEX "&tr=http://a/%0d%0aX&tr=http://a+b/&tr=http://ok/");
    assert_int_equal(m->num_trackers, 1);
    assert_string_equal(m->trackers[0], "http://ok/");
    bt_magnet_free(m);
    /* A NUL in dn is dropped, invalid UTF-8 becomes '?'. */
    m = parse_ok("magnet:?xt=urn:btih:" IH_HEX "&dn=a%00b%ffc%c3%a9");
    assert_string_equal(m->name, "ab?c\xc3\xa9");
    bt_magnet_free(m);
}

static void huge(void **state)
{
    (void)state;
    /* Longer than 64 KiB: refused before parsing. */
    size_t n = BT_MAGNET_MAX_URI + 100;
    char *s = malloc(n + 1);
    int k = snprintf(s, n + 1, "magnet:?xt=urn:btih:%s&dn=", IH_HEX);
    memset(s + k, 'a', n - (size_t)k);
    s[n] = '\0';
    assert_int_equal(parse_rc(s), -EINVAL);
    free(s);

    /* 1000 distinct trackers, 1000 peers: bounded, first ones kept. */
    struct sbuf { char *p; size_t len, cap; } b = {malloc(BT_MAGNET_MAX_URI), 0, BT_MAGNET_MAX_URI};
    b.len = (size_t)snprintf(b.p, b.cap, "magnet:?xt=urn:btih:%s", IH_HEX);
    for (int i = 0; i < 1000 && b.len + 64 < b.cap; i++)
        b.len += (size_t)snprintf(b.p + b.len, b.cap - b.len, "&tr=udp://t%d/&x.pe=10.0.%d.%d:1", i, i / 256, i % 256);
    struct bt_magnet *m = parse_ok(b.p);
    assert_int_equal(m->num_trackers, BT_MAGNET_MAX_TRACKERS);
    assert_string_equal(m->trackers[0], "udp://t0/");
    assert_string_equal(m->trackers[199], "udp://t199/");
    assert_int_equal(m->num_peers, BT_MAGNET_MAX_PEERS);
    bt_magnet_free(m);
    /* The same tracker 2000 times: one entry. */
    b.len = (size_t)snprintf(b.p, b.cap, "magnet:?xt=urn:btih:%s", IH_HEX);
    for (int i = 0; i < 2000 && b.len + 64 < b.cap; i++)
        b.len += (size_t)snprintf(b.p + b.len, b.cap - b.len, "&tr=udp://same/");
    m = parse_ok(b.p);
    assert_int_equal(m->num_trackers, 1);
    bt_magnet_free(m);
    free(b.p);
}

static void from_hash(void **state)
{
    (void)state;
    struct bt_magnet *m;
    uint8_t ih[20];
    hex_decode(IH_HEX, 40, ih, 20);
    assert_int_equal(bt_magnet_from_hash(IH_HEX, &m), 0);
    assert_memory_equal(m->info_hash, ih, 20);
    assert_true(m->has_v1);
    bt_magnet_free(m);
    assert_int_equal(bt_magnet_from_hash("3G5FQJ735PN5YHJ6QZ2PKUDKZ63MW6EU", &m), 0);
    assert_memory_equal(m->info_hash, ih, 20);
    bt_magnet_free(m);
    const char *bad[] = {"", IH_HEX "0", " " IH_HEX, "d9ba5827", "magnet:?xt=urn:btih:" IH_HEX,
                         "3G5FQJ735PN5YHJ6QZ2PKUDKZ63MW6E", "g9ba5827fbebdbdc1d3e8674f5506acfb6cb7894"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(bt_magnet_from_hash(bad[i], &m), -EINVAL);
        assert_null(m);
    }
    assert_int_equal(bt_magnet_from_hash(NULL, &m), -EINVAL);
}

static void build_round_trip(void **state)
{
    (void)state;
    uint8_t ih[20];
    hex_decode(IH_HEX, 40, ih, 20);
    const char *tr[] = {"http://t1.example/announce?a=b&c", "udp://t2.example:6969"};
    char *s = bt_magnet_build(ih, "Ubuntu 22.04 (x64)+[ü]~*!", tr, 2);
    assert_non_null(s);
    assert_string_equal(s, "magnet:?xt=urn:btih:" IH_HEX
                           "&dn=Ubuntu%2022.04%20(x64)%2b%5b%c3%bc%5d~*!"
                           "&tr=http%3a%2f%2ft1.example%2fannounce%3fa%3db%26c"
                           "&tr=udp%3a%2f%2ft2.example%3a6969");
    struct bt_magnet *m = parse_ok(s);
    assert_memory_equal(m->info_hash, ih, 20);
    assert_string_equal(m->name, "Ubuntu 22.04 (x64)+[ü]~*!");
    assert_int_equal(m->num_trackers, 2);
    assert_string_equal(m->trackers[0], tr[0]);
    assert_string_equal(m->trackers[1], tr[1]);
    bt_magnet_free(m);
    free(s);
    s = bt_magnet_build(ih, NULL, NULL, 0);
    assert_string_equal(s, "magnet:?xt=urn:btih:" IH_HEX);
    free(s);
    s = bt_magnet_build(ih, "", NULL, 0);
    assert_string_equal(s, "magnet:?xt=urn:btih:" IH_HEX);
    free(s);
}

/* qBittorrent's magnetUri (web/api/qbt_v2_json.c) keeps dn= even when the
 * name is empty and lists btih before btmh for a hybrid. */
static void build_ex_empty_dn(void **state)
{
    (void)state;
    uint8_t v1[20], v2[32];
    hex_decode(IH_HEX, 40, v1, 20);
    memset(v2, 0xab, 32);
    const char *tr[] = {"udp://t.example:1", NULL, "http://u/a b"};
    char *s = bt_magnet_build_ex(v1, v2, "", tr, 3, BT_MAGNET_EMPTY_DN);
    assert_string_equal(s, "magnet:?xt=urn:btih:" IH_HEX "&xt=urn:btmh:1220"
                           "abababababababababababababababababababababababababababababababab"
                           "&dn=&tr=udp%3a%2f%2ft.example%3a1&tr=http%3a%2f%2fu%2fa%20b");
    free(s);
    s = bt_magnet_build_ex(NULL, v2, NULL, NULL, 0, BT_MAGNET_EMPTY_DN);
    assert_string_equal(s, "magnet:?xt=urn:btmh:1220"
                           "abababababababababababababababababababababababababababababababab&dn=");
    free(s);
    s = bt_magnet_build_ex(v1, NULL, "n", NULL, 0, 0);
    assert_string_equal(s, "magnet:?xt=urn:btih:" IH_HEX "&dn=n");
    free(s);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex_and_fields),
        cmocka_unit_test(base32_and_case),
        cmocka_unit_test(v2_and_hybrid),
        cmocka_unit_test(select_only),
        cmocka_unit_test(invalid),
        cmocka_unit_test(huge),
        cmocka_unit_test(from_hash),
        cmocka_unit_test(build_round_trip),
        cmocka_unit_test(build_ex_empty_dn),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
