/* dht: tokens, the peer store, and live DHT nodes on 127.0.0.x in the
 * test's own loop: hostile datagrams, rate limiting, a 16-node network
 * where one node announces and another finds it, and routing table
 * save/load. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "bt/dht/dht.h"
#include "bt/dht/node.h"
#include "bt/dht/krpc.h"
#include "bt/dht/store.h"
#include "bt/dht/token.h"
#include "util/log.h"

#define MINUTE (60u * 1000)

static union dht_addr ip4(const char *s, uint16_t port)
{
    union dht_addr a;
    memset(&a, 0, sizeof a);
    a.in.sin_family = AF_INET;
    inet_pton(AF_INET, s, &a.in.sin_addr);
    a.in.sin_port = htons(port);
    return a;
}

/* ---- tokens ---- */

static void test_tokens(void **state)
{
    (void)state;
    struct dht_tokens t;
    assert_int_equal(dht_tokens_init(&t, 1000), 0);
    union dht_addr a = ip4("1.2.3.4", 6881), same_ip = ip4("1.2.3.4", 9999), other = ip4("1.2.3.5", 6881);
    uint8_t tok[DHT_TOKEN_LEN], tok2[DHT_TOKEN_LEN];
    dht_token_make(&t, &a, tok);
    assert_true(dht_token_valid(&t, &a, tok, sizeof tok));
    assert_true(dht_token_valid(&t, &same_ip, tok, sizeof tok));   /* the IP, not the port */
    assert_false(dht_token_valid(&t, &other, tok, sizeof tok));
    assert_false(dht_token_valid(&t, &a, tok, sizeof tok - 1));
    assert_false(dht_token_valid(&t, &a, tok, 0));
    tok[0] ^= 1;
    assert_false(dht_token_valid(&t, &a, tok, sizeof tok));
    tok[0] ^= 1;
    /* no rotation before 5 minutes */
    dht_tokens_tick(&t, 1000 + 5 * MINUTE - 1);
    dht_token_make(&t, &a, tok2);
    assert_memory_equal(tok, tok2, sizeof tok);
    /* one rotation: the old token is still accepted, new tokens differ */
    dht_tokens_tick(&t, 1000 + 5 * MINUTE);
    assert_true(dht_token_valid(&t, &a, tok, sizeof tok));
    dht_token_make(&t, &a, tok2);
    assert_memory_not_equal(tok, tok2, sizeof tok);
    assert_true(dht_token_valid(&t, &a, tok2, sizeof tok2));
    /* a second rotation retires it */
    dht_tokens_tick(&t, 1000 + 10 * MINUTE);
    assert_false(dht_token_valid(&t, &a, tok, sizeof tok));
    assert_true(dht_token_valid(&t, &a, tok2, sizeof tok2));
    assert_false(dht_token_valid(&t, &other, tok2, sizeof tok2));
    /* IPv6 tokens are tied to the IPv6 address */
    union dht_addr v6;
    memset(&v6, 0, sizeof v6);
    v6.in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::1", &v6.in6.sin6_addr);
    dht_token_make(&t, &v6, tok);
    assert_true(dht_token_valid(&t, &v6, tok, sizeof tok));
    assert_false(dht_token_valid(&t, &a, tok, sizeof tok));
}

/* ---- peer store ---- */

static struct dht_peer peer_n(unsigned n)
{
    struct dht_peer p = {.len = 6};
    wr_be32(p.b, 0x01000000u + n);
    wr_be16(p.b + 4, (uint16_t)(1000 + n));
    return p;
}

static void test_store(void **state)
{
    (void)state;
    struct dht_store s;
    dht_store_init(&s);
    s.max_hashes = 3;
    s.max_peers = 4;
    uint8_t ih[4][20];
    for (int i = 0; i < 4; i++)
        memset(ih[i], 0x10 * (4 - i), 20);   /* inserted out of order */
    struct dht_peer out[10];
    for (unsigned i = 0; i < 6; i++) {
        struct dht_peer p = peer_n(i);
        assert_int_equal(dht_store_add(&s, ih[0], &p, 100 + i), 0);
    }
    /* bounded: the two oldest are gone, newest first */
    assert_int_equal(dht_store_get(&s, ih[0], 6, 200, out, 10), 4);
    struct dht_peer p5 = peer_n(5), p2 = peer_n(2);
    assert_memory_equal(out[0].b, p5.b, 6);
    assert_memory_equal(out[3].b, p2.b, 6);
    assert_int_equal(dht_store_get(&s, ih[0], 6, 200, out, 2), 2);
    assert_memory_equal(out[0].b, p5.b, 6);
    assert_int_equal(dht_store_get(&s, ih[0], 18, 200, out, 10), 0);   /* no IPv6 peers */
    /* re-announcing refreshes instead of duplicating */
    assert_int_equal(dht_store_add(&s, ih[0], &p2, 300), 0);
    assert_int_equal(dht_store_get(&s, ih[0], 6, 300, out, 10), 4);
    assert_memory_equal(out[0].b, p2.b, 6);
    /* hash limit */
    struct dht_peer p = peer_n(9);
    assert_int_equal(dht_store_add(&s, ih[1], &p, 100), 0);
    assert_int_equal(dht_store_add(&s, ih[2], &p, 100), 0);
    assert_int_equal(dht_store_add(&s, ih[3], &p, 100), -ENOSPC);
    assert_int_equal(dht_store_get(&s, ih[3], 6, 100, out, 10), 0);
    assert_int_equal(dht_store_get(&s, ih[2], 6, 100, out, 10), 1);
    p.len = 5;
    assert_int_equal(dht_store_add(&s, ih[0], &p, 100), -EINVAL);
    /* expiry after 30 minutes: ih[1] and ih[2] go, ih[0] keeps the refreshed peer */
    uint64_t later = 100 + DHT_STORE_TTL_MS;
    assert_int_equal(dht_store_get(&s, ih[1], 6, later, out, 10), 0);
    dht_store_expire(&s, later + 150);
    assert_int_equal(s.n, 1);
    assert_int_equal(dht_store_get(&s, ih[0], 6, later + 150, out, 10), 1);
    assert_memory_equal(out[0].b, p2.b, 6);
    p = peer_n(9);
    assert_int_equal(dht_store_add(&s, ih[3], &p, later), 0);   /* room again */
    dht_store_free(&s);
}

/* ---- live nodes ---- */

static uv_loop_t g_loop;
static uv_timer_t g_ticker;

#define NNODES 16
static struct dht *g_d[NNODES];
static size_t g_n;
static struct dht *g_extra;

static void on_tick(uv_timer_t *t)
{
    (void)t;
    uint64_t now = uv_now(&g_loop);
    for (size_t i = 0; i < g_n; i++)
        if (g_d[i])
            dht_tick(g_d[i], now);
    if (g_extra)
        dht_tick(g_extra, now);
}

static void run_until(bool (*done)(void *), void *arg, uint64_t ms)
{
    uint64_t end = uv_now(&g_loop) + ms;
    while (!done(arg) && uv_now(&g_loop) < end)
        uv_run(&g_loop, UV_RUN_ONCE);
}

static struct dht *start(const char *ip, unsigned rate)
{
    struct dht_config c = {.bind_address = ip, .port = 0, .allow_local = true, .max_queries_per_sec = rate};
    struct dht *d;
    assert_int_equal(dht_new(&g_loop, &c, &d), 0);
    assert_int_not_equal(dht_port(d), 0);
    return d;
}

static void loop_setup(void)
{
    assert_int_equal(uv_loop_init(&g_loop), 0);
    uv_timer_init(&g_loop, &g_ticker);
    uv_timer_start(&g_ticker, on_tick, 50, 50);
}

static void loop_teardown(void)
{
    for (size_t i = 0; i < g_n; i++) {
        dht_free(g_d[i]);
        g_d[i] = NULL;
    }
    g_n = 0;
    dht_free(g_extra);
    g_extra = NULL;
    uv_close((uv_handle_t *)&g_ticker, NULL);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&g_loop), 0);
}

/* A raw UDP client that collects what the DHT answers. */
struct client {
    uv_udp_t h;
    uint8_t got[16][512];
    size_t got_len[16];
    int n;
};

static void cl_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)s;
    static char buf[2048];
    (void)h;
    *b = uv_buf_init(buf, sizeof buf);
}

static void cl_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *a, unsigned f)
{
    (void)a;
    (void)f;
    struct client *c = h->data;
    if (n <= 0 || c->n >= 16 || n > 512)
        return;
    memcpy(c->got[c->n], b->base, (size_t)n);
    c->got_len[c->n++] = (size_t)n;
}

static void cl_send(struct client *c, struct dht *d, const char *ip, const void *p, size_t n)
{
    union dht_addr to = ip4(ip, dht_port(d));
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    assert_true(uv_udp_try_send(&c->h, &b, 1, &to.sa) >= 0);
}

struct wait_client {
    struct client c;
    int want;
};

static bool got_at_least(void *arg)
{
    struct wait_client *w = arg;
    return w->c.n >= w->want;
}

static void wait_replies(struct wait_client *w, int want, uint64_t ms)
{
    w->want = want;
    run_until(got_at_least, w, ms);
}

/* The answer (response or error) with tid t among what the client got. */
static bool find_answer(const struct client *c, const char *t, struct dht_msg *m)
{
    for (int i = 0; i < c->n; i++)
        if (dht_krpc_parse(c->got[i], c->got_len[i], m) == 0 && m->type != DHT_MSG_QUERY &&
            m->tid_len == strlen(t) && memcmp(m->tid, t, m->tid_len) == 0)
            return true;
    return false;
}

static void test_hostile_packets(void **state)
{
    (void)state;
    loop_setup();
    struct dht *d = g_d[g_n++] = start("127.0.0.1", 0);
    struct wait_client w;
    memset(&w, 0, sizeof w);
    uv_udp_init(&g_loop, &w.c.h);
    w.c.h.data = &w.c;
    union dht_addr me = ip4("127.0.0.50", 0);
    assert_int_equal(uv_udp_bind(&w.c.h, &me.sa, 0), 0);
    uv_udp_recv_start(&w.c.h, cl_alloc, cl_recv);

    /* garbage that is not a query is dropped silently */
    const char *junk[] = {"", "x", "d", "i1e", "le", "d1:y1:re", "d1:t2:aa1:y1:re", "1:a", "d1:ai1ee"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        cl_send(&w.c, d, "127.0.0.1", junk[i], strlen(junk[i]));
    /* a malformed query gets 203 with its tid, an unknown method 204 */
    const char *badq = "d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe";
    cl_send(&w.c, d, "127.0.0.1", badq, strlen(badq));
    wait_replies(&w, 1, 2000);
    assert_int_equal(w.c.n, 1);
    struct dht_msg m;
    assert_int_equal(dht_krpc_parse(w.c.got[0], w.c.got_len[0], &m), 0);
    assert_int_equal(m.type, DHT_MSG_ERROR);
    assert_int_equal(m.error_code, 203);
    assert_memory_equal(m.tid, "xy", 2);
    const char *vote = "d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:vv1:y1:qe";
    cl_send(&w.c, d, "127.0.0.1", vote, strlen(vote));
    wait_replies(&w, 2, 2000);
    assert_int_equal(dht_krpc_parse(w.c.got[1], w.c.got_len[1], &m), 0);
    assert_int_equal(m.error_code, 204);
    /* announce_peer with a forged token: 203 (the DHT also pings us, as a
     * new node, so look for the answer by tid) */
    const char *ann = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e"
                      "5:token8:aoeusnthe1:q13:announce_peer1:t2:an1:y1:qe";
    cl_send(&w.c, d, "127.0.0.1", ann, strlen(ann));
    wait_replies(&w, 4, 2000);
    assert_true(find_answer(&w.c, "an", &m));
    assert_int_equal(m.type, DHT_MSG_ERROR);
    assert_int_equal(m.error_code, 203);
    bool pinged = false;
    for (int i = 0; i < w.c.n; i++)
        pinged |= dht_krpc_parse(w.c.got[i], w.c.got_len[i], &m) == 0 && m.type == DHT_MSG_QUERY &&
                  m.method == DHT_M_PING && memcmp(m.id, dht_node_id(d), 20) == 0;
    assert_true(pinged);
    /* a ping is answered with the node's id and our address (BEP42 "ip") */
    const char *ping = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:pp1:y1:qe";
    cl_send(&w.c, d, "127.0.0.1", ping, strlen(ping));
    wait_replies(&w, 5, 2000);
    assert_true(find_answer(&w.c, "pp", &m));
    assert_int_equal(m.type, DHT_MSG_RESPONSE);
    assert_memory_equal(m.id, dht_node_id(d), 20);
    assert_int_equal(m.ip_len, 6);
    assert_memory_equal(m.ip, "\x7f\x00\x00\x32", 4);
    /* a get_peers gets a token that announce_peer then accepts */
    const char *gp = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:gp1:y1:qe";
    cl_send(&w.c, d, "127.0.0.1", gp, strlen(gp));
    wait_replies(&w, 6, 2000);
    assert_true(find_answer(&w.c, "gp", &m));
    assert_int_equal(m.token_len, 8);
    char good[256];
    int gl = snprintf(good, sizeof good, "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e"
                      "5:token8:XXXXXXXXe1:q13:announce_peer1:t2:ok1:y1:qe");
    memcpy(strstr(good, "XXXXXXXX"), m.token, 8);   /* the token may hold any byte */
    cl_send(&w.c, d, "127.0.0.1", good, (size_t)gl);
    wait_replies(&w, 7, 2000);
    assert_true(find_answer(&w.c, "ok", &m));
    assert_int_equal(m.type, DHT_MSG_RESPONSE);
    /* and the next get_peers returns us as a value */
    const char *gp2 = "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:g21:y1:qe";
    cl_send(&w.c, d, "127.0.0.1", gp2, strlen(gp2));
    wait_replies(&w, 8, 2000);
    assert_true(find_answer(&w.c, "g2", &m));
    assert_int_equal(m.n_values, 1);
    assert_memory_equal(m.values[0].b, "\x7f\x00\x00\x32\x1a\xe1", 6);

    uv_close((uv_handle_t *)&w.c.h, NULL);
    loop_teardown();
}

static void test_rate_limit(void **state)
{
    (void)state;
    loop_setup();
    struct dht *d = g_d[g_n++] = start("127.0.0.1", 50);   /* 2 per IP per second */
    struct wait_client w;
    memset(&w, 0, sizeof w);
    uv_udp_init(&g_loop, &w.c.h);
    w.c.h.data = &w.c;
    union dht_addr me = ip4("127.0.0.51", 0);
    assert_int_equal(uv_udp_bind(&w.c.h, &me.sa, 0), 0);
    uv_udp_recv_start(&w.c.h, cl_alloc, cl_recv);
    /* read_only pings, so the DHT does not ping us back */
    const char *ping = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping2:roi1e1:t2:pp1:y1:qe";
    for (int i = 0; i < 12; i++)
        cl_send(&w.c, d, "127.0.0.1", ping, strlen(ping));
    wait_replies(&w, 12, 700);
    assert_true(w.c.n >= 1);
    assert_true(w.c.n <= 4);   /* 2 a second, at most one second boundary crossed */
    uv_close((uv_handle_t *)&w.c.h, NULL);
    loop_teardown();
}

struct lookup_result {
    struct sockaddr_storage peers[64];
    size_t n;
    int calls;
    bool done;
};

static void on_peers(void *ud, const struct sockaddr_storage *peers, size_t n, bool done)
{
    struct lookup_result *r = ud;
    r->calls++;
    assert_false(r->done);   /* nothing after done */
    for (size_t i = 0; i < n && r->n < 64; i++)
        r->peers[r->n++] = peers[i];
    if (done) {
        assert_int_equal(n, 0);
        r->done = true;
    }
}

static bool lookup_done(void *arg)
{
    return ((struct lookup_result *)arg)->done;
}

static bool has_peer(const struct lookup_result *r, const char *ip, uint16_t port)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&r->peers[i];
        char s[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a->sin_addr, s, sizeof s);
        if (a->sin_family == AF_INET && strcmp(s, ip) == 0 && ntohs(a->sin_port) == port)
            return true;
    }
    return false;
}

static bool all_know_some(void *arg)
{
    size_t want = *(size_t *)arg;
    for (size_t i = 0; i < g_n; i++)
        if (dht_node_count(g_d[i]) < want)
            return false;
    return true;
}

static bool extra_knows(void *arg)
{
    return dht_node_count(g_extra) >= *(size_t *)arg;
}

static void test_network(void **state)
{
    (void)state;
    loop_setup();
    char ip[32], boot[64];
    for (g_n = 0; g_n < NNODES; g_n++) {
        snprintf(ip, sizeof ip, "127.0.0.%zu", g_n + 1);
        g_d[g_n] = start(ip, 10000);
    }
    snprintf(boot, sizeof boot, "127.0.0.1:%u", dht_port(g_d[0]));
    assert_int_equal(dht_add_bootstrap(g_d[1], "nonsense"), -EINVAL);
    assert_int_equal(dht_add_bootstrap(g_d[1], "127.0.0.1:0"), -EINVAL);
    assert_int_equal(dht_add_bootstrap(g_d[1], "127.0.0.1:99999"), -EINVAL);
    assert_int_equal(dht_add_bootstrap(g_d[1], ":80"), -EINVAL);
    for (size_t i = 1; i < g_n; i++)
        assert_int_equal(dht_add_bootstrap(g_d[i], boot), 0);
    /* node counts grow: everyone learns a good part of the network */
    size_t want = 6;
    run_until(all_know_some, &want, 5000);
    for (size_t i = 0; i < g_n; i++)
        if (dht_node_count(g_d[i]) < want)
            fail_msg("node %zu knows only %zu nodes", i, dht_node_count(g_d[i]));

    /* node 5 announces port 4242, node 12 announces with implied_port */
    uint8_t ih[20];
    memset(ih, 0xa5, sizeof ih);
    struct lookup_result r5 = {0}, r12 = {0}, r11 = {0};
    struct dht_lookup *h;
    assert_int_equal(dht_get_peers(g_d[5], ih, true, 4242, on_peers, &r5, &h), 0);
    assert_non_null(h);
    assert_int_equal(dht_get_peers(g_d[12], ih, true, 0, on_peers, &r12, NULL), 0);
    run_until(lookup_done, &r5, 5000);
    run_until(lookup_done, &r12, 5000);
    assert_true(r5.done && r12.done);
    /* let the announces land */
    uint64_t until = uv_now(&g_loop) + 300;
    while (uv_now(&g_loop) < until)
        uv_run(&g_loop, UV_RUN_ONCE);

    /* node 11 finds both through the DHT alone */
    assert_int_equal(dht_get_peers(g_d[11], ih, false, 0, on_peers, &r11, NULL), 0);
    run_until(lookup_done, &r11, 5000);
    assert_true(r11.done);
    assert_true(has_peer(&r11, "127.0.0.6", 4242));
    assert_true(has_peer(&r11, "127.0.0.13", dht_port(g_d[12])));
    /* each peer reported once */
    size_t n6 = 0;
    for (size_t i = 0; i < r11.n; i++)
        n6 += has_peer(&(struct lookup_result){.peers = {r11.peers[i]}, .n = 1}, "127.0.0.6", 4242);
    assert_int_equal(n6, 1);

    /* an unknown hash yields no peers, and still a done */
    uint8_t other[20];
    memset(other, 0x3c, sizeof other);
    struct lookup_result none = {0};
    assert_int_equal(dht_get_peers(g_d[2], other, false, 0, on_peers, &none, NULL), 0);
    run_until(lookup_done, &none, 5000);
    assert_true(none.done);
    assert_int_equal(none.n, 0);

    /* a cancelled lookup never calls back */
    struct lookup_result cancelled = {0};
    assert_int_equal(dht_get_peers(g_d[3], ih, false, 0, on_peers, &cancelled, &h), 0);
    dht_lookup_cancel(h);
    until = uv_now(&g_loop) + 500;
    while (uv_now(&g_loop) < until)
        uv_run(&g_loop, UV_RUN_ONCE);
    assert_int_equal(cancelled.calls, 0);

    /* save/load: a new node restores node 7's table and id */
    uint8_t *saved;
    size_t len;
    assert_int_equal(dht_save_nodes(g_d[7], &saved, &len), 0);
    size_t n_saved = (size_t)((saved[20] << 8) | saved[21]);
    assert_true(n_saved >= want);
    assert_int_equal(len, 20 + 2 + n_saved * 26 + 2);
    assert_memory_equal(saved, dht_node_id(g_d[7]), 20);
    g_extra = start("127.0.0.40", 10000);
    assert_int_equal(dht_node_count(g_extra), 0);
    assert_int_equal(dht_load_nodes(g_extra, saved, len - 1), -EPROTO);
    assert_int_equal(dht_load_nodes(g_extra, saved, 10), -EPROTO);
    uint8_t *bad = malloc(len);
    memcpy(bad, saved, len);
    bad[21] ^= 0x40;   /* count no longer matches */
    assert_int_equal(dht_load_nodes(g_extra, bad, len), -EPROTO);
    free(bad);
    assert_int_equal(dht_load_nodes(g_extra, saved, len), 0);
    assert_memory_equal(dht_node_id(g_extra), saved, 20);
    size_t want_extra = n_saved;
    run_until(extra_knows, &want_extra, 5000);
    assert_true(dht_node_count(g_extra) >= n_saved);
    /* and its own save has the same nodes */
    uint8_t *saved2;
    size_t len2;
    assert_int_equal(dht_save_nodes(g_extra, &saved2, &len2), 0);
    assert_true(len2 >= len);
    for (size_t i = 0; i < n_saved; i++) {
        bool found = false;
        for (size_t k = 22; k + 26 <= len2 && !found; k += 26)
            found = memcmp(saved + 22 + i * 26, saved2 + k, 26) == 0;
        assert_true(found);
    }
    free(saved);
    free(saved2);

    /* a lookup still running at dht_free is dropped without a callback */
    struct lookup_result dropped = {0};
    assert_int_equal(dht_get_peers(g_d[9], other, false, 0, on_peers, &dropped, NULL), 0);
    loop_teardown();
    assert_int_equal(dropped.calls, 0);
}

static void test_config(void **state)
{
    (void)state;
    loop_setup();
    struct dht_config c = {.bind_address = "not an ip"};
    struct dht *d = NULL;
    assert_int_equal(dht_new(&g_loop, &c, &d), -EINVAL);
    assert_null(d);
    uint8_t id[20];
    memset(id, 0x42, sizeof id);
    c = (struct dht_config){.bind_address = "127.0.0.1", .node_id = id, .allow_local = true};
    assert_int_equal(dht_new(&g_loop, &c, &d), 0);
    assert_memory_equal(dht_node_id(d), id, 20);
    /* the port is taken now */
    struct dht *d2 = NULL;
    c.port = dht_port(d);
    assert_int_equal(dht_new(&g_loop, &c, &d2), UV_EADDRINUSE);
    /* unusable and foreign-family nodes are refused */
    union dht_addr a = ip4("0.0.0.0", 1);
    assert_int_equal(dht_add_node(d, &a.sa), -EINVAL);
    a = ip4("127.0.0.9", 0);
    assert_int_equal(dht_add_node(d, &a.sa), -EINVAL);
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons(1), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    assert_int_equal(dht_add_node(d, (struct sockaddr *)&v6), -EAFNOSUPPORT);
    a = ip4("127.0.0.9", 9);
    assert_int_equal(dht_add_node(d, &a.sa), 0);
    /* local nodes are refused without allow_local */
    struct dht *strict;
    c = (struct dht_config){.bind_address = "127.0.0.2"};
    assert_int_equal(dht_new(&g_loop, &c, &strict), 0);
    assert_int_equal(dht_add_node(strict, &a.sa), -EINVAL);
    dht_free(strict);
    g_d[g_n++] = d;
    loop_teardown();
}

static void test_ipv6(void **state)
{
    (void)state;
    loop_setup();
    struct dht_config c = {.bind_address = "::1", .allow_local = true, .ipv6 = true};
    struct dht *a, *b;
    if (dht_new(&g_loop, &c, &a) != 0) {
        loop_teardown();
        skip();   /* no IPv6 loopback here */
    }
    assert_int_equal(dht_new(&g_loop, &c, &b), 0);
    g_d[g_n++] = a;
    g_d[g_n++] = b;
    char boot[64];
    snprintf(boot, sizeof boot, "[::1]:%u", dht_port(a));
    assert_int_equal(dht_add_bootstrap(b, boot), 0);
    size_t want = 1;
    run_until(all_know_some, &want, 3000);
    assert_int_equal(dht_node_count(a), 1);
    assert_int_equal(dht_node_count(b), 1);
    uint8_t ih[20];
    memset(ih, 0x66, sizeof ih);
    struct lookup_result ra = {0}, rb = {0};
    assert_int_equal(dht_get_peers(a, ih, true, 5555, on_peers, &ra, NULL), 0);
    run_until(lookup_done, &ra, 5000);
    assert_true(ra.done);
    assert_int_equal(dht_get_peers(b, ih, false, 0, on_peers, &rb, NULL), 0);
    run_until(lookup_done, &rb, 5000);
    assert_true(rb.done);
    assert_int_equal(rb.n, 1);
    const struct sockaddr_in6 *p = (const struct sockaddr_in6 *)&rb.peers[0];
    assert_int_equal(p->sin6_family, AF_INET6);
    assert_int_equal(ntohs(p->sin6_port), 5555);
    assert_true(IN6_IS_ADDR_LOOPBACK(&p->sin6_addr));
    loop_teardown();
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_hostile_packets),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_network),
        cmocka_unit_test(test_ipv6),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
