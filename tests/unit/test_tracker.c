/* tracker/announce codecs: URLs, HTTP responses, scrape, UDP packets. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bt/tracker/announce.h"
#include "util/log.h"

static void fill_req(struct tracker_announce_req *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 20; i++) {
        r->info_hash[i] = (uint8_t)(i * 13);   /* 0x00, 0x0d, ... covers reserved bytes */
        r->peer_id[i] = (uint8_t)('A' + i);
    }
    memcpy(r->peer_id, "-TD0100-", 8);
    r->port = 6881;
    r->uploaded = 10;
    r->downloaded = 20;
    r->left = 30;
    r->event = TRACKER_EVENT_STARTED;
    r->numwant = 50;
    r->key = 0xdeadbeef;
}

static char *url_of(const char *announce, const struct tracker_announce_req *r, int *rc)
{
    struct buf b = BUF_INIT;
    *rc = tracker_http_url(&b, announce, r);
    char *s = (char *)buf_steal(&b, NULL);
    buf_free(&b);
    return s;
}

static void test_http_url(void **state)
{
    (void)state;
    struct tracker_announce_req r;
    fill_req(&r);
    int rc;
    char *u = url_of("http://t.example/announce", &r, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(u,
        "http://t.example/announce?info_hash=%00%0D%1A%274AN%5Bhu%82%8F%9C%A9%B6%C3%D0%DD%EA%F7"
        "&peer_id=-TD0100-IJKLMNOPQRST&port=6881&uploaded=10&downloaded=20&left=30&corrupt=0"
        "&key=DEADBEEF&event=started&numwant=50&compact=1&no_peer_id=1");
    free(u);

    /* Existing query string: joined with '&'; a trailing '&' or '?' is reused. */
    r.event = TRACKER_EVENT_NONE;
    r.numwant = -1;
    r.trackerid = "id 1/x";
    u = url_of("https://t.example/a.php?passkey=abc", &r, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(u, "/a.php?passkey=abc&info_hash="));
    assert_null(strstr(u, "event="));
    assert_null(strstr(u, "numwant"));
    assert_non_null(strstr(u, "&trackerid=id%201%2Fx"));
    free(u);
    u = url_of("http://t/ann?k=v&", &r, &rc);
    assert_non_null(strstr(u, "?k=v&info_hash="));
    free(u);
    u = url_of("http://t/ann?", &r, &rc);
    assert_non_null(strstr(u, "/ann?info_hash="));
    free(u);
    /* Fragments are dropped, events spelled out. */
    r.event = TRACKER_EVENT_STOPPED;
    u = url_of("http://t/announce#frag", &r, &rc);
    assert_non_null(strstr(u, "/announce?info_hash="));
    assert_null(strstr(u, "frag"));
    assert_non_null(strstr(u, "&event=stopped"));
    free(u);
    /* Unknown size (magnet): left is not 0, or trackers would send no seeds. */
    r.left = -1;
    r.event = TRACKER_EVENT_COMPLETED;
    u = url_of("http://t/announce", &r, &rc);
    assert_non_null(strstr(u, "&left=16384&"));
    assert_non_null(strstr(u, "&event=completed"));
    free(u);

    struct buf b = BUF_INIT;
    assert_int_equal(tracker_http_url(&b, "", &r), -EINVAL);
    assert_int_equal(tracker_http_url(&b, "http://t/ann ounce", &r), -EINVAL);
    assert_int_equal(tracker_http_url(&b, "http://t/\nannounce", &r), -EINVAL);
    buf_free(&b);
}

static char *scrape_of(const char *announce, int *rc)
{
    uint8_t ih[20];
    memset(ih, 0xab, 20);
    struct buf b = BUF_INIT;
    *rc = tracker_scrape_url(&b, announce, ih);
    char *s = (char *)buf_steal(&b, NULL);
    buf_free(&b);
    return s;
}

static void test_scrape_url(void **state)
{
    (void)state;
    static const char *H = "info_hash=%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB%AB";
    struct { const char *in, *out; int rc; } cases[] = {
        {"http://example.com/announce", "http://example.com/scrape?", 0},
        {"http://example.com/x/announce", "http://example.com/x/scrape?", 0},
        {"http://example.com/announce.php", "http://example.com/scrape.php?", 0},
        {"http://example.com/announce?x2%0644", "http://example.com/scrape?x2%0644&", 0},
        {"http://example.com/announce?x=2/4", "http://example.com/scrape?x=2/4&", 0},
        {"http://example.com/a", NULL, -ENOTSUP},
        {"http://example.com/announce?x=2/4/announce", "http://example.com/scrape?x=2/4/announce&", 0},
        {"http://example.com/x%064announce", NULL, -ENOTSUP},
        {"http://example.com/announce/x", NULL, -ENOTSUP},
        {"http://example.com", NULL, -ENOTSUP},
        {"http://example.com?announce", NULL, -ENOTSUP},
        {"not a url", NULL, -EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;
        char *s = scrape_of(cases[i].in, &rc);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d, want %d", cases[i].in, rc, cases[i].rc);
        if (cases[i].out) {
            char want[512];
            snprintf(want, sizeof want, "%s%s", cases[i].out, H);
            assert_string_equal(s, want);
        }
        free(s);
    }
}

static int parse(const char *body, size_t len, struct tracker_announce_resp *r, char *err)
{
    return tracker_http_parse((const uint8_t *)body, len, r, err, 128);
}
#define PARSE(lit, r, err) parse(lit, sizeof(lit) - 1, r, err)

static void peer_is(const struct tracker_peer *p, const char *ip, int port)
{
    char s[INET6_ADDRSTRLEN];
    if (p->addr.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&p->addr;
        inet_ntop(AF_INET, &a->sin_addr, s, sizeof s);
        assert_int_equal(ntohs(a->sin_port), port);
    } else {
        assert_int_equal(p->addr.ss_family, AF_INET6);
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&p->addr;
        inet_ntop(AF_INET6, &a->sin6_addr, s, sizeof s);
        assert_int_equal(ntohs(a->sin6_port), port);
    }
    assert_string_equal(s, ip);
}

static void test_http_parse_compact(void **state)
{
    (void)state;
    struct tracker_announce_resp r;
    char err[128];
    /* Two peers plus 3 stray bytes, one with port 0 (dropped). */
    static const char body[] =
        "d8:completei5e10:incompletei7e8:intervali1800e12:min intervali60e"
        "5:peers21:\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50\x01\x02\x03\x04\x00\x00xyz"
        "6:peers618:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe2"
        "10:tracker id3:abce";
    assert_int_equal(PARSE(body, &r, err), 0);
    assert_int_equal(r.interval, 1800);
    assert_int_equal(r.min_interval, 60);
    assert_int_equal(r.complete, 5);
    assert_int_equal(r.incomplete, 7);
    assert_int_equal(r.downloaded, -1);
    assert_string_equal(r.trackerid, "abc");
    assert_null(r.failure);
    assert_null(r.warning);
    assert_int_equal(r.num_peers, 3);
    peer_is(&r.peers[0], "127.0.0.1", 6881);
    peer_is(&r.peers[1], "10.0.0.2", 80);
    peer_is(&r.peers[2], "2001:db8::1", 6882);
    tracker_announce_resp_free(&r);
}

static void test_http_parse_dict(void **state)
{
    (void)state;
    struct tracker_announce_resp r;
    char err[128];
    static const char body[] =
        "d8:intervali900e5:peersl"
        "d2:ip9:127.0.0.27:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881ee"
        "d2:ip7:::ffff14:porti7000ee"       /* '::ffff1' is no address */
        "d2:ip3:::14:porti7001ee"
        "d2:ip11:example.com4:porti80ee"    /* host names are skipped */
        "d2:ip8:10.0.0.14:porti0ee"         /* port 0 */
        "d2:ip8:10.0.0.14:porti70000ee"     /* port out of range */
        "i5e"                               /* not a dict */
        "d4:porti1ee"                       /* no ip */
        "e15:warning message4:slow11:external ip4:\x01\x02\x03\x04" "e";
    assert_int_equal(PARSE(body, &r, err), 0);
    assert_int_equal(r.interval, 900);
    assert_int_equal(r.min_interval, -1);
    assert_int_equal(r.complete, -1);
    assert_string_equal(r.warning, "slow");
    assert_string_equal(r.external_ip, "1.2.3.4");
    assert_int_equal(r.num_peers, 2);
    peer_is(&r.peers[0], "127.0.0.2", 6881);
    peer_is(&r.peers[1], "::1", 7001);
    tracker_announce_resp_free(&r);
}

static void test_http_parse_failure(void **state)
{
    (void)state;
    struct tracker_announce_resp r;
    char err[128];
    assert_int_equal(PARSE("d14:failure reason17:torrent not founde", &r, err), 0);
    assert_string_equal(r.failure, "torrent not found");
    assert_int_equal(r.num_peers, 0);
    tracker_announce_resp_free(&r);
    /* Control characters never reach the UI. */
    assert_int_equal(PARSE("d14:failure reason5:a\nb\x01\x00" "e", &r, err), 0);
    assert_string_equal(r.failure, "a?b??");
    tracker_announce_resp_free(&r);
    /* A non-string failure reason is still a failure. */
    assert_int_equal(PARSE("d14:failure reasoni3ee", &r, err), 0);
    assert_non_null(r.failure);
    tracker_announce_resp_free(&r);
}

static void test_http_parse_garbage(void **state)
{
    (void)state;
    struct tracker_announce_resp r;
    char err[128];
    const char *bad[] = {
        "", "<html>504 Gateway Timeout</html>", "le", "i5e", "d8:intervali5e", "d5:peersi5ee",
        "d6:peers6lee", "d8:intervali1e5:peers6:abcdefe trailing",
        "d5:peers99999999999:xe",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        int rc = parse(bad[i], strlen(bad[i]), &r, err);
        if (rc != -EPROTO)
            fail_msg("case %zu: rc %d", i, rc);
        assert_true(err[0] != 0);
        tracker_announce_resp_free(&r);
    }
    /* Huge or negative counts and intervals are not trusted blindly. */
    assert_int_equal(PARSE("d8:completei-5e10:incompletei9223372036854775807e8:intervali-1e5:peers0:e", &r, err), 0);
    assert_int_equal(r.complete, -1);
    assert_int_equal(r.incomplete, INT64_MAX);
    assert_int_equal(r.interval, -1);
    assert_int_equal(r.num_peers, 0);
    tracker_announce_resp_free(&r);
    /* An empty dict is a valid, peerless answer. */
    assert_int_equal(PARSE("de", &r, err), 0);
    assert_int_equal(r.num_peers, 0);
    tracker_announce_resp_free(&r);
}

static void test_http_parse_peer_cap(void **state)
{
    (void)state;
    size_t n = TRACKER_MAX_PEERS + 500;
    size_t len = n * 6;
    char *body = malloc(len + 64);
    int h = sprintf(body, "d5:peers%zu:", len);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = (uint8_t *)body + h + i * 6;
        p[0] = 10; p[1] = (uint8_t)(i >> 16); p[2] = (uint8_t)(i >> 8); p[3] = (uint8_t)i;
        p[4] = 0x1a; p[5] = 0xe1;
    }
    memcpy(body + h + len, "e", 1);
    struct tracker_announce_resp r;
    char err[128];
    assert_int_equal(parse(body, h + len + 1, &r, err), 0);
    assert_int_equal(r.num_peers, TRACKER_MAX_PEERS);
    tracker_announce_resp_free(&r);
    free(body);
}

/* The parser's value cap holds TRACKER_MAX_PEERS dict peers with peer ids
 * (7 values each), and refuses a reply of a million values before it costs
 * a node per value. */
static void test_http_parse_value_cap(void **state)
{
    (void)state;
    size_t n = TRACKER_MAX_PEERS;
    struct buf b = BUF_INIT;
    buf_append_str(&b, "d8:intervali1800e5:peersl");
    for (size_t i = 0; i < n; i++)
        buf_appendf(&b, "d2:ip%d:10.%zu.%zu.%zu7:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881ee",
                    snprintf(NULL, 0, "10.%zu.%zu.%zu", i >> 16 & 255, i >> 8 & 255, i & 255),
                    i >> 16 & 255, i >> 8 & 255, i & 255);
    buf_append_str(&b, "ee");
    assert_int_equal(buf_error(&b), 0);
    struct tracker_announce_resp r;
    char err[128];
    assert_int_equal(parse((const char *)buf_head(&b), buf_size(&b), &r, err), 0);
    assert_int_equal(r.num_peers, TRACKER_MAX_PEERS);
    tracker_announce_resp_free(&r);
    buf_free(&b);

    buf_append_str(&b, "d5:peersl");
    for (size_t i = 0; i < 1000000; i++)
        buf_append(&b, "le", 2);
    buf_append_str(&b, "ee");
    assert_int_equal(parse((const char *)buf_head(&b), buf_size(&b), &r, err), -EPROTO);
    assert_non_null(strstr(err, "more than 100000 values"));
    assert_int_equal(strncmp(err, "invalid tracker response: ", 26), 0);
    tracker_announce_resp_free(&r);
    buf_free(&b);
}

static void test_scrape_parse(void **state)
{
    (void)state;
    uint8_t ih[20], other[20];
    memset(ih, 'a', 20);
    memset(other, 'b', 20);
    static const char body[] =
        "d5:filesd20:bbbbbbbbbbbbbbbbbbbbd8:completei1ee"
        "20:aaaaaaaaaaaaaaaaaaaad8:completei5e10:downloadedi50e10:incompletei10eeee";
    int64_t c = 0, i = 0, d = 0;
    assert_int_equal(tracker_scrape_parse((const uint8_t *)body, sizeof body - 1, ih, &c, &i, &d), 0);
    assert_int_equal(c, 5);
    assert_int_equal(i, 10);
    assert_int_equal(d, 50);
    assert_int_equal(tracker_scrape_parse((const uint8_t *)body, sizeof body - 1, other, &c, &i, &d), 0);
    assert_int_equal(c, 1);
    assert_int_equal(i, -1);
    uint8_t none[20] = {0};
    assert_int_equal(tracker_scrape_parse((const uint8_t *)body, sizeof body - 1, none, &c, &i, &d), -ENOENT);
    const char *f = "d14:failure reason4:nopee";
    assert_int_equal(tracker_scrape_parse((const uint8_t *)f, strlen(f), ih, &c, &i, &d), -EREMOTEIO);
    const char *g = "d5:filesi1ee";
    assert_int_equal(tracker_scrape_parse((const uint8_t *)g, strlen(g), ih, &c, &i, &d), -EPROTO);
    assert_int_equal(tracker_scrape_parse((const uint8_t *)"xx", 2, ih, &c, &i, &d), -EPROTO);
}

static void test_udp_connect(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_int_equal(tracker_udp_connect_req(&b, 0x11223344), 0);
    static const uint8_t want[16] = {0, 0, 0x04, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44};
    assert_int_equal(buf_size(&b), 16);
    assert_memory_equal(buf_head(&b), want, 16);
    buf_free(&b);

    uint8_t resp[16] = {0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t cid = 0;
    char err[128];
    assert_int_equal(tracker_udp_connect_parse(resp, 16, 0x11223344, &cid, err, sizeof err), 0);
    assert_int_equal(cid, 0x0102030405060708ULL);
    assert_int_equal(tracker_udp_connect_parse(resp, 16, 0x11223345, &cid, err, sizeof err), -ESRCH);
    assert_int_equal(tracker_udp_connect_parse(resp, 15, 0x11223344, &cid, err, sizeof err), -EPROTO);
    assert_int_equal(tracker_udp_connect_parse(resp, 7, 0x11223344, &cid, err, sizeof err), -EPROTO);
    assert_int_equal(tracker_udp_connect_parse(NULL, 0, 0x11223344, &cid, err, sizeof err), -EPROTO);
    resp[3] = 1;   /* an announce reply where a connect reply belongs */
    assert_int_equal(tracker_udp_connect_parse(resp, 16, 0x11223344, &cid, err, sizeof err), -EPROTO);
    uint8_t e[] = {0, 0, 0, 3, 0x11, 0x22, 0x33, 0x44, 'b', 'a', 'd', '\n'};
    assert_int_equal(tracker_udp_connect_parse(e, sizeof e, 0x11223344, &cid, err, sizeof err), -EREMOTEIO);
    assert_string_equal(err, "bad?");
    uint32_t tx;
    assert_int_equal(tracker_udp_txid(e, sizeof e, &tx), 0);
    assert_int_equal(tx, 0x11223344);
    assert_int_equal(tracker_udp_txid(e, 7, &tx), -EPROTO);
}

static void test_udp_announce(void **state)
{
    (void)state;
    struct tracker_announce_req r;
    fill_req(&r);
    r.numwant = -1;
    struct buf b = BUF_INIT;
    assert_int_equal(tracker_udp_announce_req(&b, 0x0102030405060708ULL, 77, &r, NULL), 0);
    assert_int_equal(buf_size(&b), 98);
    const uint8_t *p = buf_head(&b);
    assert_int_equal(rd_be64(p), 0x0102030405060708ULL);
    assert_int_equal(rd_be32(p + 8), 1);
    assert_int_equal(rd_be32(p + 12), 77);
    assert_memory_equal(p + 16, r.info_hash, 20);
    assert_memory_equal(p + 36, r.peer_id, 20);
    assert_int_equal(rd_be64(p + 56), 20);   /* downloaded */
    assert_int_equal(rd_be64(p + 64), 30);   /* left */
    assert_int_equal(rd_be64(p + 72), 10);   /* uploaded */
    assert_int_equal(rd_be32(p + 80), 2);    /* started */
    assert_int_equal(rd_be32(p + 84), 0);
    assert_int_equal(rd_be32(p + 88), 0xdeadbeef);
    assert_int_equal(rd_be32(p + 92), 0xffffffff);
    assert_int_equal(rd_be16(p + 96), 6881);
    buf_reset(&b);
    /* announce_ip: an IPv4 one goes in the IP field; anything else leaves 0. */
    r.ip = "203.0.113.7";
    assert_int_equal(tracker_udp_announce_req(&b, 1, 2, &r, NULL), 0);
    assert_int_equal(rd_be32(buf_head(&b) + 84), 0xcb007107);
    buf_reset(&b);
    r.ip = "2001:db8::1";
    assert_int_equal(tracker_udp_announce_req(&b, 1, 2, &r, NULL), 0);
    assert_int_equal(rd_be32(buf_head(&b) + 84), 0);
    buf_reset(&b);
    struct buf u = BUF_INIT;
    assert_int_equal(tracker_http_url(&u, "http://t/announce", &r), 0);
    assert_non_null(memmem(buf_head(&u), buf_size(&u), "&ip=2001%3Adb8%3A%3A1", 21));
    buf_free(&u);
    r.ip = NULL;
    /* BEP7: &ipv6= is our IPv6 listen address, HTTP only */
    r.ipv6 = "2001:db8::5";
    assert_int_equal(tracker_http_url(&u, "http://t/announce", &r), 0);
    assert_non_null(memmem(buf_head(&u), buf_size(&u), "&ipv6=2001%3Adb8%3A%3A5", 23));
    assert_null(memmem(buf_head(&u), buf_size(&u), "&ip=", 4));
    buf_free(&u);
    assert_int_equal(tracker_udp_announce_req(&b, 1, 2, &r, NULL), 0);
    assert_int_equal(buf_size(&b), 98);
    buf_reset(&b);
    r.ipv6 = NULL;
    /* BEP41 URL data in 255-byte chunks. */
    char path[300];
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = 0;
    assert_int_equal(tracker_udp_announce_req(&b, 1, 2, &r, path), 0);
    assert_int_equal(buf_size(&b), 98 + 2 + 255 + 2 + 44);
    assert_int_equal(buf_head(&b)[98], 2);
    assert_int_equal(buf_head(&b)[99], 255);
    assert_int_equal(buf_head(&b)[98 + 257], 2);
    assert_int_equal(buf_head(&b)[98 + 258], 44);
    r.event = 9;
    assert_int_equal(tracker_udp_announce_req(&b, 1, 2, &r, NULL), -EINVAL);
    buf_free(&b);

    /* Reply: interval 1800, 3 leechers, 4 seeders, two IPv4 peers + 2 stray bytes. */
    uint8_t resp[20 + 12 + 2] = {0, 0, 0, 1, 0, 0, 0, 77, 0, 0, 0x07, 0x08, 0, 0, 0, 3, 0, 0, 0, 4,
                                 127, 0, 0, 1, 0x1a, 0xe1, 192, 168, 1, 1, 0, 80, 9, 9};
    struct tracker_announce_resp a;
    char err[128];
    assert_int_equal(tracker_udp_announce_parse(resp, sizeof resp, 77, 0, &a, err, sizeof err), 0);
    assert_int_equal(a.interval, 1800);
    assert_int_equal(a.incomplete, 3);
    assert_int_equal(a.complete, 4);
    assert_int_equal(a.num_peers, 2);
    peer_is(&a.peers[0], "127.0.0.1", 6881);
    peer_is(&a.peers[1], "192.168.1.1", 80);
    tracker_announce_resp_free(&a);
    /* Same bytes read as IPv6 peers: 14 bytes is not one whole peer. */
    assert_int_equal(tracker_udp_announce_parse(resp, sizeof resp, 77, 1, &a, err, sizeof err), 0);
    assert_int_equal(a.num_peers, 0);
    tracker_announce_resp_free(&a);
    assert_int_equal(tracker_udp_announce_parse(resp, sizeof resp, 78, 0, &a, err, sizeof err), -ESRCH);
    tracker_announce_resp_free(&a);
    assert_int_equal(tracker_udp_announce_parse(resp, 19, 77, 0, &a, err, sizeof err), -EPROTO);
    tracker_announce_resp_free(&a);
    resp[3] = 0;
    assert_int_equal(tracker_udp_announce_parse(resp, sizeof resp, 77, 0, &a, err, sizeof err), -EPROTO);
    tracker_announce_resp_free(&a);
    resp[3] = 3;
    assert_int_equal(tracker_udp_announce_parse(resp, 8, 77, 0, &a, err, sizeof err), -EREMOTEIO);
    assert_string_equal(err, "tracker error");
    tracker_announce_resp_free(&a);
}

static void test_udp_scrape(void **state)
{
    (void)state;
    uint8_t ih[20];
    memset(ih, 7, 20);
    struct buf b = BUF_INIT;
    assert_int_equal(tracker_udp_scrape_req(&b, 5, 6, ih), 0);
    assert_int_equal(buf_size(&b), 36);
    assert_int_equal(rd_be32(buf_head(&b) + 8), 2);
    assert_memory_equal(buf_head(&b) + 16, ih, 20);
    buf_free(&b);
    uint8_t resp[20] = {0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30};
    int64_t c, i, d;
    char err[64];
    assert_int_equal(tracker_udp_scrape_parse(resp, 20, 6, &c, &i, &d, err, sizeof err), 0);
    assert_int_equal(c, 10);
    assert_int_equal(d, 20);
    assert_int_equal(i, 30);
    assert_int_equal(tracker_udp_scrape_parse(resp, 19, 6, &c, &i, &d, err, sizeof err), -EPROTO);
    assert_int_equal(tracker_udp_scrape_parse(resp, 20, 5, &c, &i, &d, err, sizeof err), -ESRCH);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_url),
        cmocka_unit_test(test_scrape_url),
        cmocka_unit_test(test_http_parse_compact),
        cmocka_unit_test(test_http_parse_dict),
        cmocka_unit_test(test_http_parse_failure),
        cmocka_unit_test(test_http_parse_garbage),
        cmocka_unit_test(test_http_parse_peer_cap),
        cmocka_unit_test(test_http_parse_value_cap),
        cmocka_unit_test(test_http_parse_value_cap),
        cmocka_unit_test(test_scrape_parse),
        cmocka_unit_test(test_udp_connect),
        cmocka_unit_test(test_udp_announce),
        cmocka_unit_test(test_udp_scrape),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
