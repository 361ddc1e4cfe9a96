/* LSD in unit tests never touches the multicast groups: instances run in
 * unicast mode on 127.0.0.1 and announce to a test-chosen target. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <uv.h>

#include "bt/lsd.h"
#include "util/hex.h"
#include "util/log.h"

#define H1 "d9ba5827fbebdbdc1d3e8674f5506acfb6cb7894"
#define H2 "0123456789abcdef0123456789abcdef01234567"

static int parse_s(const char *s, uint16_t *port, uint8_t (*h)[20], size_t max, size_t *nh, char *ck, size_t cl)
{
    return bt_lsd_parse((const uint8_t *)s, strlen(s), port, h, max, nh, ck, cl);
}

static void parse(void **state)
{
    (void)state;
    uint16_t port;
    uint8_t h[4][20], want1[20], want2[20];
    size_t nh;
    char ck[16];
    hex_decode(H1, 40, want1, 20);
    hex_decode(H2, 40, want2, 20);

    assert_int_equal(parse_s("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n"
                             "Infohash: " H1 "\r\nInfohash: " H2 "\r\ncookie: abc\r\n\r\n\r\n",
                             &port, h, 4, &nh, ck, sizeof ck), 0);
    assert_int_equal(port, 6881);
    assert_int_equal(nh, 2);
    assert_memory_equal(h[0], want1, 20);
    assert_memory_equal(h[1], want2, 20);
    assert_string_equal(ck, "abc");

    /* LF only, odd case, extra spaces, upper-case hex, no cookie, a bad hash skipped. */
    assert_int_equal(parse_s("BT-SEARCH * HTTP/1.1\nport:   51413  \nINFOHASH: D9BA5827FBEBDBDC1D3E8674F5506ACFB6CB7894\n"
                             "Infohash: xyz\nInfohash: " H1 "00\n",
                             &port, h, 4, &nh, ck, sizeof ck), 0);
    assert_int_equal(port, 51413);
    assert_int_equal(nh, 1);
    assert_memory_equal(h[0], want1, 20);
    assert_string_equal(ck, "");

    /* More hashes than room: the first max kept. */
    assert_int_equal(parse_s("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " H2 "\r\nInfohash: " H1 "\r\n",
                             &port, h, 1, &nh, NULL, 0), 0);
    assert_int_equal(nh, 1);
    assert_memory_equal(h[0], want2, 20);

    /* Headers after the blank line are not read; long cookie cut; control bytes masked. */
    assert_int_equal(parse_s("BT-SEARCH * HTTP/1.1\r\nPort: 2\r\nInfohash: " H1 "\r\ncookie: 0123456789abcdef0123\r\n\r\nInfohash: " H2 "\r\n",
                             &port, h, 4, &nh, ck, sizeof ck), 0);
    assert_int_equal(nh, 1);
    assert_string_equal(ck, "0123456789abcde");
    assert_int_equal(parse_s("BT-SEARCH * HTTP/1.1\r\nPort: 2\r\nInfohash: " H1 "\r\ncookie: a\x01" "b\r\n",
                             &port, h, 4, &nh, ck, sizeof ck), 0);
    assert_string_equal(ck, "a?b");

    const char *bad[] = {
        "",
        "\r\n",
        "GET / HTTP/1.1\r\nPort: 1\r\nInfohash: " H1 "\r\n",
        "bt-search * HTTP/1.1\r\nPort: 1\r\nInfohash: " H1 "\r\n",
        "BT-SEARCH * HTTP/1.1 \r\nPort: 1\r\nInfohash: " H1 "\r\n",
        "BT-SEARCH * HTTP/1.1\r\nInfohash: " H1 "\r\n",                       /* no port */
        "BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: " H1 "\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: " H1 "\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: -1\r\nInfohash: " H1 "\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: 99999999999\r\nInfohash: " H1 "\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: 12a\r\nInfohash: " H1 "\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort:\r\nInfohash: " H1 "\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n",                                /* no hash */
        "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: zz\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\nInfohash: " H1 "\r\n",        /* hash after the end */
        "BT-SEARCH * HTTP/1.1\r\nPorts: 1\r\nInfohashes: " H1 "\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (parse_s(bad[i], &port, h, 4, &nh, ck, sizeof ck) != -EPROTO)
            fail_msg("case %zu accepted", i);
    }
    /* An embedded NUL. */
    const char nul[] = "BT-SEARCH * HTTP/1.1\r\nPort: 1\0\r\nInfohash: " H1 "\r\n";
    assert_int_equal(bt_lsd_parse((const uint8_t *)nul, sizeof nul - 1, &port, h, 4, &nh, ck, sizeof ck), -EPROTO);
}

/* ---- round trip on 127.0.0.1 ------------------------------------------ */

static uv_loop_t g_loop;
static uv_udp_t g_sink;
static uint8_t g_sink_data[4096];
static size_t g_sink_len;
static int g_sink_count;

struct got {
    int count;
    uint8_t ih[8][20];
    struct sockaddr_storage peer[8];
    struct bt_lsd *free_me;      /* freed from inside the callback */
};

static void on_peer(void *ud, const uint8_t info_hash[20], const struct sockaddr *peer)
{
    struct got *g = ud;
    if (g->count < 8) {
        memcpy(g->ih[g->count], info_hash, 20);
        memcpy(&g->peer[g->count], peer, sizeof(struct sockaddr_in));
    }
    g->count++;
    if (g->free_me) {
        bt_lsd_free(g->free_me);
        g->free_me = NULL;
    }
}

static void sink_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h, (void)s;
    *b = uv_buf_init((char *)g_sink_data, sizeof g_sink_data);
}

static void sink_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from, unsigned flags)
{
    (void)h, (void)b, (void)from, (void)flags;
    if (n > 0) {
        g_sink_len = (size_t)n;
        g_sink_count++;
    }
}

static void run_until(const int *counter, int want)
{
    for (int i = 0; i < 2000 && *counter < want; i++) {
        uv_run(&g_loop, UV_RUN_NOWAIT);
        if (*counter < want)
            uv_sleep(1);
    }
    assert_true(*counter >= want);
}

static void loopback(const char *host, struct sockaddr_storage *ss, int port)
{
    memset(ss, 0, sizeof *ss);
    assert_int_equal(uv_ip4_addr(host, port, (struct sockaddr_in *)ss), 0);
}

static void round_trip(void **state)
{
    (void)state;
    assert_int_equal(uv_loop_init(&g_loop), 0);
    struct sockaddr_storage a;
    loopback("127.0.0.1", &a, 0);
    uv_udp_init(&g_loop, &g_sink);
    assert_int_equal(uv_udp_bind(&g_sink, (struct sockaddr *)&a, 0), 0);
    int len = sizeof a;
    uv_udp_getsockname(&g_sink, (struct sockaddr *)&a, &len);
    uv_udp_recv_start(&g_sink, sink_alloc, sink_recv);

    struct got g1 = {0}, g2 = {0};
    struct bt_lsd *l1, *l2;
    assert_int_equal(bt_lsd_new(&g_loop, 6881, "127.0.0.1:0", on_peer, &g1, &l1), 0);
    assert_int_equal(bt_lsd_new(&g_loop, 7000, "127.0.0.1:0", on_peer, &g2, &l2), 0);
    int p1 = bt_lsd_local_port(l1), p2 = bt_lsd_local_port(l2);
    assert_true(p1 > 0 && p2 > 0 && p1 != p2);

    uint8_t ih1[20], ih2[20];
    hex_decode(H1, 40, ih1, 20);
    hex_decode(H2, 40, ih2, 20);
    const uint8_t *both[] = {ih1, ih2};

    /* Unicast mode never falls back to the multicast group. */
    assert_int_equal(bt_lsd_announce(l1, both, 2), -ENOTCONN);

    /* l1 -> sink: a well-formed BT-SEARCH with both hashes and a cookie. */
    assert_int_equal(bt_lsd_set_target(l1, (struct sockaddr *)&a), 0);
    assert_int_equal(bt_lsd_announce(l1, both, 2), 0);
    run_until(&g_sink_count, 1);
    uint16_t port;
    uint8_t h[4][20];
    size_t nh;
    char ck[64];
    assert_int_equal(bt_lsd_parse(g_sink_data, g_sink_len, &port, h, 4, &nh, ck, sizeof ck), 0);
    assert_int_equal(port, 6881);
    assert_int_equal(nh, 2);
    assert_memory_equal(h[0], ih1, 20);
    assert_memory_equal(h[1], ih2, 20);
    assert_int_equal(strlen(ck), 16);
    assert_non_null(memmem(g_sink_data, g_sink_len, "Host: 239.192.152.143:6771\r\n", 28));
    assert_int_equal(memcmp(g_sink_data + g_sink_len - 4, "\r\n\r\n", 4), 0);

    /* 45 hashes: three datagrams of at most 20. */
    const uint8_t *many[45];
    for (int i = 0; i < 45; i++)
        many[i] = ih1;
    int before = g_sink_count;
    assert_int_equal(bt_lsd_announce(l1, many, 45), 0);
    run_until(&g_sink_count, before + 3);

    /* l1 announces to itself: ignored by cookie.  Then l2 -> l1: heard. */
    struct sockaddr_storage t1, t2;
    loopback("127.0.0.1", &t1, p1);
    loopback("127.0.0.1", &t2, p2);
    assert_int_equal(bt_lsd_set_target(l1, (struct sockaddr *)&t1), 0);
    assert_int_equal(bt_lsd_announce(l1, both, 2), 0);
    assert_int_equal(bt_lsd_set_target(l2, (struct sockaddr *)&t1), 0);
    assert_int_equal(bt_lsd_announce(l2, both + 1, 1), 0);
    run_until(&g1.count, 1);
    for (int i = 0; i < 20; i++)
        uv_run(&g_loop, UV_RUN_NOWAIT);
    assert_int_equal(g1.count, 1);
    assert_memory_equal(g1.ih[0], ih2, 20);
    const struct sockaddr_in *pa = (const struct sockaddr_in *)&g1.peer[0];
    assert_int_equal(pa->sin_family, AF_INET);
    assert_int_equal(ntohs(pa->sin_port), 7000);   /* the announced Port, not the source port */
    assert_int_equal(ntohl(pa->sin_addr.s_addr), 0x7f000001);

    /* Garbage and a foreign datagram to l2: the garbage is dropped. */
    uv_buf_t junk = uv_buf_init((char *)"BT-SEARCH * HTTP/1.1\r\nPort: 0\r\n", 31);
    assert_true(uv_udp_try_send(&g_sink, &junk, 1, (struct sockaddr *)&t2) > 0);
    char msg[256];
    int k = snprintf(msg, sizeof msg, "BT-SEARCH * HTTP/1.1\r\nHost: x\r\nPort: 9\r\nInfohash: %s\r\nInfohash: %s\r\n\r\n\r\n", H1, H2);
    uv_buf_t good = uv_buf_init(msg, (unsigned)k);
    /* l2 frees itself from inside the first callback: no second callback, no use-after-free. */
    g2.free_me = l2;
    assert_true(uv_udp_try_send(&g_sink, &good, 1, (struct sockaddr *)&t2) > 0);
    run_until(&g2.count, 1);
    for (int i = 0; i < 20; i++)
        uv_run(&g_loop, UV_RUN_NOWAIT);
    assert_int_equal(g2.count, 1);
    assert_memory_equal(g2.ih[0], ih1, 20);
    assert_int_equal(ntohs(((struct sockaddr_in *)&g2.peer[0])->sin_port), 9);

    bt_lsd_free(l1);
    uv_close((uv_handle_t *)&g_sink, NULL);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&g_loop), 0);
}

static void bad_bind(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct bt_lsd *l;
    struct got g = {0};
    assert_int_equal(bt_lsd_new(&loop, 1, "not-an-address", on_peer, &g, &l), -EINVAL);
    assert_null(l);
    assert_int_equal(bt_lsd_new(&loop, 1, "127.0.0.1:70000", on_peer, &g, &l), -EINVAL);
    assert_int_equal(bt_lsd_new(&loop, 1, "[::1:0", on_peer, &g, &l), -EINVAL);
    /* An address we do not own: the bind error comes back, nothing leaks. */
    assert_true(bt_lsd_new(&loop, 1, "192.0.2.1:0", on_peer, &g, &l) < 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(bad_bind),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
