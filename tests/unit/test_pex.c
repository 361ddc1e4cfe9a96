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

#include "bt/bencode.h"
#include "bt/pex.h"
#include "util/log.h"

static struct bt_pex_peer v4(const char *ip, uint16_t port, uint8_t flags)
{
    struct bt_pex_peer p;
    memset(&p, 0, sizeof p);
    struct sockaddr_in *a = (struct sockaddr_in *)&p.addr;
    a->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a->sin_addr);
    a->sin_port = htons(port);
    p.flags = flags;
    return p;
}

static struct bt_pex_peer v6(const char *ip, uint16_t port, uint8_t flags)
{
    struct bt_pex_peer p;
    memset(&p, 0, sizeof p);
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&p.addr;
    a->sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &a->sin6_addr);
    a->sin6_port = htons(port);
    p.flags = flags;
    return p;
}

static void assert_peer(const struct bt_pex_peer *p, int fam, const char *ip, uint16_t port, uint8_t flags)
{
    char s[64];
    assert_int_equal(p->addr.ss_family, fam);
    if (fam == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&p->addr;
        inet_ntop(AF_INET, &a->sin_addr, s, sizeof s);
        assert_int_equal(ntohs(a->sin_port), port);
    } else {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&p->addr;
        inet_ntop(AF_INET6, &a->sin6_addr, s, sizeof s);
        assert_int_equal(ntohs(a->sin6_port), port);
    }
    assert_string_equal(s, ip);
    assert_int_equal(p->flags, flags);
}

static int parse_s(const char *s, size_t n, struct bt_pex_msg *m)
{
    return bt_pex_parse((const uint8_t *)s, n, m);
}
#define PARSE(lit, m) parse_s(lit, sizeof(lit) - 1, m)

static void round_trip(void **state)
{
    (void)state;
    struct bt_pex_peer added[] = {
        v4("10.0.0.1", 6881, BT_PEX_ENCRYPTION | BT_PEX_SEED),
        v6("2001:db8::1", 51413, BT_PEX_UTP | BT_PEX_REACHABLE),
        v4("192.168.1.2", 1, BT_PEX_HOLEPUNCH),
    };
    struct bt_pex_peer dropped[] = {v6("::1", 443, 0), v4("1.2.3.4", 65535, 0)};
    struct buf b = BUF_INIT;
    assert_int_equal(bt_pex_build(&b, added, 3, dropped, 2), 0);
    const char want[] = "d5:added12:\x0a\x00\x00\x01\x1a\xe1\xc0\xa8\x01\x02\x00\x01"
                        "7:added.f2:\x03\x08"
                        "6:added618:\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\xc8\xd5"
                        "8:added6.f1:\x14"
                        "7:dropped6:\x01\x02\x03\x04\xff\xff"
                        "8:dropped618:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x01\xbb" "e";
    assert_int_equal(buf_size(&b), sizeof want - 1);
    assert_memory_equal(buf_head(&b), want, sizeof want - 1);
    struct benc_doc *doc;
    assert_int_equal(benc_parse(buf_head(&b), buf_size(&b), NULL, 0, &doc, NULL, NULL, 0), 0);
    assert_false(benc_doc_unsorted(doc));
    benc_doc_free(doc);

    struct bt_pex_msg m;
    assert_int_equal(bt_pex_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.num_added, 3);
    assert_peer(&m.added[0], AF_INET, "10.0.0.1", 6881, 0x03);
    assert_peer(&m.added[1], AF_INET, "192.168.1.2", 1, 0x08);
    assert_peer(&m.added[2], AF_INET6, "2001:db8::1", 51413, 0x14);
    assert_int_equal(m.num_dropped, 2);
    assert_peer(&m.dropped[0], AF_INET, "1.2.3.4", 65535, 0);
    assert_peer(&m.dropped[1], AF_INET6, "::1", 443, 0);
    bt_pex_msg_free(&m);
    buf_reset(&b);

    /* Empty message: all keys present, empty. */
    assert_int_equal(bt_pex_build(&b, NULL, 0, NULL, 0), 0);
    const char empty[] = "d5:added0:7:added.f0:6:added60:8:added6.f0:7:dropped0:8:dropped60:e";
    assert_memory_equal(buf_head(&b), empty, sizeof empty - 1);
    assert_int_equal(bt_pex_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.num_added + m.num_dropped, 0);
    bt_pex_msg_free(&m);
    buf_reset(&b);

    struct bt_pex_peer many[BT_PEX_MAX_PEERS + 1];
    for (int i = 0; i <= BT_PEX_MAX_PEERS; i++)
        many[i] = v4("10.1.1.1", (uint16_t)(1000 + i), 0);
    assert_int_equal(bt_pex_build(&b, many, BT_PEX_MAX_PEERS + 1, NULL, 0), -EINVAL);
    assert_int_equal(bt_pex_build(&b, many, BT_PEX_MAX_PEERS, NULL, 0), 0);
    assert_int_equal(bt_pex_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.num_added, BT_PEX_MAX_PEERS);
    bt_pex_msg_free(&m);
    buf_free(&b);
}

static void flags_and_lenient(void **state)
{
    (void)state;
    struct bt_pex_msg m;
    /* No added.f: flags 0.  Short added.f: the rest 0.  Port 0 skipped (flag index kept). */
    assert_int_equal(PARSE("d5:added18:\x01\x01\x01\x01\x00\x00\x02\x02\x02\x02\x00\x02\x03\x03\x03\x03\x00\x03"
                           "7:added.f2:\x01\x02" "e", &m), 0);
    assert_int_equal(m.num_added, 2);
    assert_peer(&m.added[0], AF_INET, "2.2.2.2", 2, 0x02);
    assert_peer(&m.added[1], AF_INET, "3.3.3.3", 3, 0);
    bt_pex_msg_free(&m);
    /* Unknown keys and wrong-typed known keys are ignored. */
    assert_int_equal(PARSE("d5:addedi5e1:xle7:dropped6:\x01\x02\x03\x04\x00\x50" "e", &m), 0);
    assert_int_equal(m.num_added, 0);
    assert_int_equal(m.num_dropped, 1);
    assert_peer(&m.dropped[0], AF_INET, "1.2.3.4", 80, 0);
    bt_pex_msg_free(&m);
}

static void malformed(void **state)
{
    (void)state;
    struct bt_pex_msg m;
    assert_int_equal(PARSE("", &m), -EPROTO);
    assert_null(m.added);
    assert_int_equal(PARSE("le", &m), -EPROTO);
    assert_int_equal(PARSE("d5:added", &m), -EPROTO);
    assert_int_equal(PARSE("d5:added5:\x01\x02\x03\x04\x05" "e", &m), -EPROTO);
    assert_int_equal(PARSE("d5:added7:\x01\x02\x03\x04\x05\x06\x07" "e", &m), -EPROTO);
    assert_int_equal(PARSE("d6:added66:\x01\x02\x03\x04\x05\x06" "e", &m), -EPROTO);
    assert_int_equal(PARSE("d7:dropped1:\x01" "e", &m), -EPROTO);
    assert_int_equal(PARSE("d8:dropped617:\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11" "e", &m), -EPROTO);
    /* A good list then a bad one: nothing is returned. */
    assert_int_equal(PARSE("d5:added6:\x01\x02\x03\x04\x00\x01" "7:dropped1:xe", &m), -EPROTO);
    assert_null(m.added);
    assert_int_equal(m.num_added, 0);
    bt_pex_msg_free(&m);
    /* Trailing garbage. */
    assert_int_equal(PARSE("de" "x", &m), -EPROTO);
    /* More than 200 peers in one list. */
    size_t cnt = BT_PEX_MAX_PEERS + 1;
    char *s = malloc(32 + cnt * 6);
    int k = sprintf(s, "d5:added%zu:", cnt * 6);
    memset(s + k, 1, cnt * 6);
    memcpy(s + k + cnt * 6, "e", 1);
    assert_int_equal(parse_s(s, (size_t)k + cnt * 6 + 1, &m), -EPROTO);
    k = sprintf(s, "d5:added%zu:", (cnt - 1) * 6);
    memset(s + k, 1, (cnt - 1) * 6);
    memcpy(s + k + (cnt - 1) * 6, "e", 1);
    assert_int_equal(parse_s(s, (size_t)k + (cnt - 1) * 6 + 1, &m), 0);
    assert_int_equal(m.num_added, BT_PEX_MAX_PEERS);
    bt_pex_msg_free(&m);
    free(s);
    /* Huge message refused before parsing. */
    size_t big = 100000;
    s = calloc(1, big);
    assert_int_equal(parse_s(s, big, &m), -EPROTO);
    free(s);
}

static void diff_state(void **state)
{
    (void)state;
    struct bt_pex_state *st;
    assert_int_equal(bt_pex_state_new(&st), 0);
    struct buf b = BUF_INIT;
    struct bt_pex_msg m;

    /* Nothing connected: nothing to say. */
    assert_int_equal(bt_pex_state_diff(st, NULL, 0, 1000, &b), 0);
    assert_int_equal(buf_size(&b), 0);

    /* 120 peers (with duplicates and a bogus family): 50 go in the first message. */
    struct bt_pex_peer cur[130];
    size_t n = 0;
    for (int i = 0; i < 60; i++)
        cur[n++] = v4("10.0.0.1", (uint16_t)(2000 + i), BT_PEX_SEED);
    for (int i = 0; i < 60; i++)
        cur[n++] = v6("fe80::1", (uint16_t)(3000 + i), 0);
    cur[n++] = cur[0];
    cur[n++] = cur[70];
    struct bt_pex_peer junk;
    memset(&junk, 0, sizeof junk);
    junk.addr.ss_family = AF_UNIX;
    cur[n++] = junk;
    assert_int_equal(bt_pex_state_diff(st, cur, n, 1000, &b), 1);
    assert_int_equal(bt_pex_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.num_added, 50);
    assert_int_equal(m.num_dropped, 0);
    assert_int_equal(m.added[0].flags, BT_PEX_SEED);
    bt_pex_msg_free(&m);
    buf_reset(&b);

    /* Rate limit: not again within 60 s, even though 70 are still untold. */
    assert_int_equal(bt_pex_state_diff(st, cur, n, 60999, &b), 0);
    assert_int_equal(buf_size(&b), 0);
    assert_int_equal(bt_pex_state_diff(st, cur, n, 61000, &b), 1);
    assert_int_equal(bt_pex_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.num_added, 50);
    bt_pex_msg_free(&m);
    buf_reset(&b);
    assert_int_equal(bt_pex_state_diff(st, cur, n, 121000, &b), 1);
    assert_int_equal(bt_pex_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.num_added, 20);
    bt_pex_msg_free(&m);
    buf_reset(&b);
    /* All told, no change: nothing, and the clock does not restart. */
    assert_int_equal(bt_pex_state_diff(st, cur, n, 181000, &b), 0);

    /* Drop the first 5 IPv4 peers, add one: exactly that diff. */
    struct bt_pex_peer cur2[130];
    size_t n2 = 0;
    for (int i = 5; i < 60; i++)
        cur2[n2++] = v4("10.0.0.1", (uint16_t)(2000 + i), BT_PEX_SEED);
    for (int i = 0; i < 60; i++)
        cur2[n2++] = v6("fe80::1", (uint16_t)(3000 + i), 0);
    cur2[n2++] = v4("10.9.9.9", 9999, BT_PEX_UTP);
    assert_int_equal(bt_pex_state_diff(st, cur2, n2, 181001, &b), 1);
    assert_int_equal(bt_pex_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.num_added, 1);
    assert_peer(&m.added[0], AF_INET, "10.9.9.9", 9999, BT_PEX_UTP);
    assert_int_equal(m.num_dropped, 5);
    for (size_t i = 0; i < 5; i++)
        assert_peer(&m.dropped[i], AF_INET, "10.0.0.1", (uint16_t)(2000 + i), 0);
    bt_pex_msg_free(&m);
    buf_reset(&b);

    /* Everyone leaves: 120 drops, 50 per message. */
    size_t drops = 0;
    for (int r = 0; r < 5; r++) {
        int got = bt_pex_state_diff(st, NULL, 0, 300000 + (uint64_t)r * 60000, &b);
        if (got == 0)
            break;
        assert_int_equal(bt_pex_parse(buf_head(&b), buf_size(&b), &m), 0);
        assert_true(m.num_dropped <= 50);
        assert_int_equal(m.num_added, 0);
        drops += m.num_dropped;
        bt_pex_msg_free(&m);
        buf_reset(&b);
    }
    assert_int_equal(drops, 116);
    buf_free(&b);
    bt_pex_state_free(st);
    bt_pex_state_free(NULL);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(flags_and_lenient),
        cmocka_unit_test(malformed),
        cmocka_unit_test(diff_state),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
