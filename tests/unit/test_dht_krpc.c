/* dht/krpc: KRPC encode/decode round trips and hostile datagrams. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bt/dht/krpc.h"
#include "bt/dht/node.h"
#include "util/log.h"

static int parse_str(const char *s, struct dht_msg *m)
{
    return dht_krpc_parse((const uint8_t *)s, strlen(s), m);
}

static void roundtrip(const struct dht_msg *in, struct dht_msg *out)
{
    struct buf b = BUF_INIT;
    assert_int_equal(dht_krpc_encode(&b, in), 0);
    /* out's nodes point into b: keep a copy that outlives this call */
    static uint8_t keep[4096];
    assert_true(buf_size(&b) <= sizeof keep);
    memcpy(keep, buf_head(&b), buf_size(&b));
    size_t n = buf_size(&b);
    buf_free(&b);
    assert_int_equal(dht_krpc_parse(keep, n, out), 0);
}

static void test_parse_bep5_examples(void **state)
{
    (void)state;
    struct dht_msg m;
    /* the literal examples of BEP5 */
    assert_int_equal(parse_str("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", &m), 0);
    assert_int_equal(m.type, DHT_MSG_QUERY);
    assert_int_equal(m.method, DHT_M_PING);
    assert_int_equal(m.tid_len, 2);
    assert_memory_equal(m.tid, "aa", 2);
    assert_memory_equal(m.id, "abcdefghij0123456789", 20);

    assert_int_equal(parse_str("d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re", &m), 0);
    assert_int_equal(m.type, DHT_MSG_RESPONSE);
    assert_memory_equal(m.id, "mnopqrstuvwxyz123456", 20);

    assert_int_equal(parse_str("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee", &m), 0);
    assert_int_equal(m.type, DHT_MSG_ERROR);
    assert_int_equal(m.error_code, 201);
    assert_string_equal(m.error_msg, "A Generic Error Ocurred");

    assert_int_equal(parse_str("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e"
                               "1:q9:find_node1:t2:aa1:y1:qe", &m), 0);
    assert_int_equal(m.method, DHT_M_FIND_NODE);
    assert_memory_equal(m.target, "mnopqrstuvwxyz123456", 20);

    assert_int_equal(parse_str("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e"
                               "1:q9:get_peers1:t2:aa1:y1:qe", &m), 0);
    assert_int_equal(m.method, DHT_M_GET_PEERS);

    assert_int_equal(parse_str("d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee"
                               "1:t2:aa1:y1:re", &m), 0);
    assert_int_equal(m.token_len, 8);
    assert_int_equal(m.n_values, 2);
    assert_memory_equal(m.values[0].b, "axje.u", 6);

    assert_int_equal(parse_str("d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:"
                               "mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe", &m), 0);
    assert_int_equal(m.method, DHT_M_ANNOUNCE_PEER);
    assert_true(m.implied_port);
    assert_int_equal(m.port, 6881);
    assert_memory_equal(m.token, "aoeusnth", 8);
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct dht_msg q, r;
    dht_msg_init(&q);
    q.type = DHT_MSG_QUERY;
    q.method = DHT_M_ANNOUNCE_PEER;
    memcpy(q.tid, "\x01\x02\x03\x04", 4);
    q.tid_len = 4;
    q.has_id = q.has_target = true;
    memset(q.id, 0xab, 20);
    memset(q.target, 0xcd, 20);
    memcpy(q.token, "tok", 3);
    q.token_len = 3;
    q.port = 51413;
    q.want = DHT_WANT_N4 | DHT_WANT_N6;
    q.read_only = true;
    roundtrip(&q, &r);
    assert_int_equal(r.type, DHT_MSG_QUERY);
    assert_int_equal(r.method, DHT_M_ANNOUNCE_PEER);
    assert_memory_equal(r.tid, q.tid, 4);
    assert_memory_equal(r.id, q.id, 20);
    assert_memory_equal(r.target, q.target, 20);
    assert_memory_equal(r.token, "tok", 3);
    assert_int_equal(r.port, 51413);
    assert_false(r.implied_port);
    assert_int_equal(r.want, DHT_WANT_N4 | DHT_WANT_N6);
    assert_true(r.read_only);

    /* find_node, get_peers and ping keep their own target keys */
    q.method = DHT_M_FIND_NODE;
    roundtrip(&q, &r);
    assert_int_equal(r.method, DHT_M_FIND_NODE);
    assert_memory_equal(r.target, q.target, 20);
    q.method = DHT_M_GET_PEERS;
    roundtrip(&q, &r);
    assert_int_equal(r.method, DHT_M_GET_PEERS);
    assert_memory_equal(r.target, q.target, 20);
    assert_int_equal(r.token_len, 0);   /* a get_peers query carries no token */

    /* a response with everything */
    uint8_t nodes[2 * DHT_NODE4_LEN], nodes6[DHT_NODE6_LEN];
    for (size_t i = 0; i < sizeof nodes; i++)
        nodes[i] = (uint8_t)i;
    memset(nodes6, 0x66, sizeof nodes6);
    struct dht_msg a;
    dht_msg_init(&a);
    a.type = DHT_MSG_RESPONSE;
    memcpy(a.tid, "xy", 2);
    a.tid_len = 2;
    a.has_id = true;
    memset(a.id, 0x11, 20);
    a.nodes = nodes;
    a.nodes_len = sizeof nodes;
    a.nodes6 = nodes6;
    a.nodes6_len = sizeof nodes6;
    memcpy(a.token, "12345678", 8);
    a.token_len = 8;
    a.n_values = 2;
    a.values[0].len = 6;
    memcpy(a.values[0].b, "\x7f\x00\x00\x01\x1a\xe1", 6);
    a.values[1].len = 18;
    memset(a.values[1].b, 0x22, 18);
    a.ip_len = 6;
    memcpy(a.ip, "\x01\x02\x03\x04\x05\x06", 6);
    roundtrip(&a, &r);
    assert_int_equal(r.type, DHT_MSG_RESPONSE);
    assert_int_equal(r.nodes_len, sizeof nodes);
    assert_memory_equal(r.nodes, nodes, sizeof nodes);
    assert_int_equal(r.nodes6_len, sizeof nodes6);
    assert_memory_equal(r.nodes6, nodes6, sizeof nodes6);
    assert_int_equal(r.n_values, 2);
    assert_int_equal(r.values[1].len, 18);
    assert_memory_equal(r.values[0].b, a.values[0].b, 6);
    assert_int_equal(r.ip_len, 6);
    assert_memory_equal(r.ip, a.ip, 6);

    /* an error */
    dht_msg_init(&a);
    a.type = DHT_MSG_ERROR;
    a.tid[0] = 'e';
    a.tid_len = 1;
    a.error_code = 203;
    strcpy(a.error_msg, "Protocol Error");
    roundtrip(&a, &r);
    assert_int_equal(r.type, DHT_MSG_ERROR);
    assert_int_equal(r.error_code, 203);
    assert_string_equal(r.error_msg, "Protocol Error");

    /* inconsistent messages are refused by the encoder */
    struct buf b = BUF_INIT;
    a.tid_len = 0;
    a.type = DHT_MSG_RESPONSE;
    assert_int_equal(dht_krpc_encode(&b, &a), -EINVAL);
    a.tid_len = 1;
    a.nodes_len = 27;
    a.nodes = nodes;
    assert_int_equal(dht_krpc_encode(&b, &a), -EINVAL);
    dht_msg_init(&q);
    q.type = DHT_MSG_QUERY;
    q.method = DHT_M_ANNOUNCE_PEER;   /* without a token */
    q.tid_len = 1;
    q.port = 1;
    assert_int_equal(dht_krpc_encode(&b, &q), -EINVAL);
    buf_free(&b);
}

struct bad {
    const char *in;
    int type;           /* what the parser should still have recognised */
    int code;           /* error_code for the answer */
};

static void test_malformed(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {"", 0, DHT_ERR_PROTOCOL},
        {"i42e", 0, DHT_ERR_PROTOCOL},
        {"l1:ae", 0, DHT_ERR_PROTOCOL},
        {"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:q", 0, DHT_ERR_PROTOCOL},      /* truncated */
        {"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qee", 0, DHT_ERR_PROTOCOL},    /* trailing */
        {"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:y1:qe", DHT_MSG_QUERY, DHT_ERR_PROTOCOL}, /* no t */
        {"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:ti5e1:y1:qe", DHT_MSG_QUERY, DHT_ERR_PROTOCOL},
        {"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t17:aaaaaaaaaaaaaaaaa1:y1:qe", DHT_MSG_QUERY, DHT_ERR_PROTOCOL},
        {"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aae", 0, DHT_ERR_PROTOCOL},             /* no y */
        {"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:ze", 0, DHT_ERR_PROTOCOL},
        {"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:yi1ee", 0, DHT_ERR_PROTOCOL},
        {"d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", DHT_MSG_QUERY, DHT_ERR_PROTOCOL},
        {"d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe", DHT_MSG_QUERY, DHT_ERR_PROTOCOL},
        {"d1:al2:ide1:q4:ping1:t2:aa1:y1:qe", DHT_MSG_QUERY, DHT_ERR_PROTOCOL},
        {"d1:q4:ping1:t2:aa1:y1:qe", DHT_MSG_QUERY, DHT_ERR_PROTOCOL},                           /* no a */
        {"d1:ad2:id20:abcdefghij0123456789e1:t2:aa1:y1:qe", DHT_MSG_QUERY, DHT_ERR_PROTOCOL},    /* no q */
        {"d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:aa1:y1:qe", DHT_MSG_QUERY, DHT_ERR_METHOD},
        {"d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe", DHT_MSG_QUERY, DHT_ERR_PROTOCOL},
        {"d1:ad2:id20:abcdefghij01234567899:info_hash3:abce1:q9:get_peers1:t2:aa1:y1:qe", DHT_MSG_QUERY, DHT_ERR_PROTOCOL},
        /* announce_peer without token, with port 0, with port 70000 */
        {"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881ee1:q13:announce_peer1:t2:aa1:y1:qe",
         DHT_MSG_QUERY, DHT_ERR_PROTOCOL},
        {"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
         DHT_MSG_QUERY, DHT_ERR_PROTOCOL},
        {"d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti70000e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
         DHT_MSG_QUERY, DHT_ERR_PROTOCOL},
        /* responses: bad compact lengths, wrong types */
        {"d1:rd2:id20:mnopqrstuvwxyz1234565:nodes25:aaaaaaaaaaaaaaaaaaaaaaaaae1:t2:aa1:y1:re", DHT_MSG_RESPONSE, DHT_ERR_PROTOCOL},
        {"d1:rd2:id20:mnopqrstuvwxyz1234566:nodes63:aaae1:t2:aa1:y1:re", DHT_MSG_RESPONSE, DHT_ERR_PROTOCOL},
        {"d1:rd2:id20:mnopqrstuvwxyz1234566:valuesl5:abcdeee1:t2:aa1:y1:re", DHT_MSG_RESPONSE, DHT_ERR_PROTOCOL},
        {"d1:rd2:id20:mnopqrstuvwxyz1234566:valuesli1eee1:t2:aa1:y1:re", DHT_MSG_RESPONSE, DHT_ERR_PROTOCOL},
        {"d1:rd2:id20:mnopqrstuvwxyz1234566:values6:abcdefe1:t2:aa1:y1:re", DHT_MSG_RESPONSE, DHT_ERR_PROTOCOL},
        {"d1:rd2:id20:mnopqrstuvwxyz1234565:token0:e1:t2:aa1:y1:re", DHT_MSG_RESPONSE, DHT_ERR_PROTOCOL},
        {"d1:r4:spam1:t2:aa1:y1:re", DHT_MSG_RESPONSE, DHT_ERR_PROTOCOL},
        {"d1:e4:spam1:t2:aa1:y1:ee", DHT_MSG_ERROR, DHT_ERR_PROTOCOL},
        {"d1:eli201ee1:t2:aa1:y1:ee", DHT_MSG_ERROR, DHT_ERR_PROTOCOL},
        {"d1:el3:abci201ee1:t2:aa1:y1:ee", DHT_MSG_ERROR, DHT_ERR_PROTOCOL},
        /* string length beyond the input, huge lengths, deep nesting */
        {"d1:ad2:id999999999999:abce1:q4:ping1:t2:aa1:y1:qe", 0, DHT_ERR_PROTOCOL},
        {"d1:ad2:id18446744073709551617:ae1:t2:aa1:y1:qe", 0, DHT_ERR_PROTOCOL},
        {"d1:xlllllllllllllllllllleeeeeeeeeeeeeeeeeeee1:t2:aa1:y1:qe", 0, DHT_ERR_PROTOCOL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dht_msg m;
        int rc = parse_str(cases[i].in, &m);
        if (rc != -EPROTO)
            fail_msg("case %zu accepted: %s", i, cases[i].in);
        if (m.type != cases[i].type)
            fail_msg("case %zu: type %d, want %d", i, m.type, cases[i].type);
        if (m.error_code != cases[i].code)
            fail_msg("case %zu: code %d, want %d", i, m.error_code, cases[i].code);
    }
    /* the tid survives a failed query parse so the error can be answered */
    struct dht_msg m;
    assert_int_equal(parse_str("d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:zz1:y1:qe", &m), -EPROTO);
    assert_true(m.has_tid);
    assert_memory_equal(m.tid, "zz", 2);

    /* a datagram above the size limit is refused before parsing */
    size_t big = DHT_MAX_PACKET + 1;
    uint8_t *p = malloc(big);
    memset(p, 'd', big);
    assert_int_equal(dht_krpc_parse(p, big, &m), -EPROTO);
    /* and a huge string inside an allowed size is bounded too */
    int h = snprintf((char *)p, big, "d1:rd2:id20:mnopqrstuvwxyz1234565:nodes%d:", 3000);
    memset(p + h, 'n', 3000);
    memcpy(p + h + 3000, "e1:t2:aa1:y1:re", 15);
    assert_int_equal(dht_krpc_parse(p, (size_t)h + 3015, &m), -EPROTO);   /* 3000 % 26 != 0 */
    free(p);
}

static void test_values_bounded(void **state)
{
    (void)state;
    /* more values than we keep: extras are ignored, not an error */
    struct buf b = BUF_INIT;
    buf_append_str(&b, "d1:rd2:id20:mnopqrstuvwxyz1234566:valuesl");
    for (int i = 0; i < DHT_VALUES_MAX + 50; i++)
        buf_append_str(&b, "6:abcdef");
    buf_append_str(&b, "ee1:t2:aa1:y1:re");
    struct dht_msg m;
    assert_int_equal(dht_krpc_parse(buf_head(&b), buf_size(&b), &m), 0);
    assert_int_equal(m.n_values, DHT_VALUES_MAX);
    buf_free(&b);
    /* unknown keys are ignored (BEP5 forward compatibility), "v" too */
    assert_int_equal(parse_str("d1:ad2:id20:abcdefghij01234567895:extrai1ee1:q4:ping1:t2:aa1:v4:LT011:y1:qe", &m), 0);
    /* error strings are made printable */
    assert_int_equal(parse_str("d1:eli202e3:a\x01\xff" "e1:t2:aa1:y1:ee", &m), 0);
    assert_string_equal(m.error_msg, "a??");
}

static void test_bep42(void **state)
{
    (void)state;
    /* BEP42's test vectors */
    static const struct {
        const char *ip;
        uint8_t r;
        uint8_t prefix[3];
    } v[] = {
        {"124.31.75.21", 1, {0x5f, 0xbf, 0xbf}},
        {"21.75.31.124", 86, {0x5a, 0x3c, 0xe9}},
        {"65.23.51.170", 22, {0xa5, 0xd4, 0x32}},
        {"84.124.73.14", 65, {0x1b, 0x03, 0x21}},
        {"43.213.53.83", 90, {0xe5, 0x6f, 0x6c}},
    };
    for (size_t i = 0; i < 5; i++) {
        union dht_addr a;
        memset(&a, 0, sizeof a);
        a.in.sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, v[i].ip, &a.in.sin_addr), 1);
        uint8_t id[20];
        memset(id, 0x77, sizeof id);
        memcpy(id, v[i].prefix, 3);
        id[19] = v[i].r;
        assert_true(dht_node_id_valid(id, &a));
        id[0] ^= 1;
        assert_false(dht_node_id_valid(id, &a));
        id[0] ^= 1;
        id[19] ^= 1;   /* another random byte gives another prefix */
        assert_false(dht_node_id_valid(id, &a));
        /* generated ids conform */
        for (int k = 0; k < 20; k++) {
            assert_int_equal(dht_node_id_make(id, &a), 0);
            assert_true(dht_node_id_valid(id, &a));
        }
    }
    /* IPv6: generated ids conform, random ones almost never do */
    union dht_addr a6;
    memset(&a6, 0, sizeof a6);
    a6.in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8:1234::1", &a6.in6.sin6_addr);
    uint8_t id[20];
    assert_int_equal(dht_node_id_make(id, &a6), 0);
    assert_true(dht_node_id_valid(id, &a6));
    memset(id, 0, sizeof id);
    id[19] = 0;
    bool ok0 = dht_node_id_valid(id, &a6);
    id[0] = 0xff;
    assert_false(ok0 && dht_node_id_valid(id, &a6));
    /* local addresses are exempt */
    union dht_addr lo;
    memset(&lo, 0, sizeof lo);
    lo.in.sin_family = AF_INET;
    inet_pton(AF_INET, "192.168.1.1", &lo.in.sin_addr);
    assert_true(dht_node_id_valid(id, &lo));
    inet_pton(AF_INET, "127.0.0.5", &lo.in.sin_addr);
    assert_true(dht_node_id_valid(id, &lo));
}

static void test_addr(void **state)
{
    (void)state;
    union dht_addr a;
    assert_int_equal(dht_addr_from_compact(&a, (const uint8_t *)"\x7f\x00\x00\x01\x1a\xe1", 6), 0);
    assert_int_equal(ntohs(a.in.sin_port), 6881);
    assert_true(dht_addr_is_local(&a));
    assert_false(dht_addr_usable(&a, false));
    assert_true(dht_addr_usable(&a, true));
    uint8_t c[18];
    assert_int_equal(dht_addr_compact(&a, c), 6);
    assert_memory_equal(c, "\x7f\x00\x00\x01\x1a\xe1", 6);
    assert_int_equal(dht_addr_from_compact(&a, c, 5), -EINVAL);
    /* port 0, 0.0.0.0, multicast and broadcast are never nodes */
    assert_int_equal(dht_addr_from_compact(&a, (const uint8_t *)"\x01\x02\x03\x04\x00\x00", 6), 0);
    assert_false(dht_addr_usable(&a, true));
    assert_int_equal(dht_addr_from_compact(&a, (const uint8_t *)"\x00\x00\x00\x00\x00\x01", 6), 0);
    assert_false(dht_addr_usable(&a, true));
    assert_int_equal(dht_addr_from_compact(&a, (const uint8_t *)"\xe0\x00\x00\x01\x00\x01", 6), 0);
    assert_false(dht_addr_usable(&a, true));
    assert_int_equal(dht_addr_from_compact(&a, (const uint8_t *)"\xff\xff\xff\xff\x00\x01", 6), 0);
    assert_false(dht_addr_usable(&a, true));
    assert_int_equal(dht_addr_from_compact(&a, (const uint8_t *)"\x08\x08\x08\x08\x00\x35", 6), 0);
    assert_true(dht_addr_usable(&a, false));
    assert_false(dht_addr_is_local(&a));
    static const char *const local[] = {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.1.1", "100.64.0.1"};
    for (size_t i = 0; i < 6; i++) {
        inet_pton(AF_INET, local[i], &a.in.sin_addr);
        assert_true(dht_addr_is_local(&a));
    }
    inet_pton(AF_INET, "172.32.0.1", &a.in.sin_addr);
    assert_false(dht_addr_is_local(&a));
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_bep5_examples),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_values_bounded),
        cmocka_unit_test(test_bep42),
        cmocka_unit_test(test_addr),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
