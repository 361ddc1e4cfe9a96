/* The announcer against a fake HTTP tracker and a fake UDP tracker running
 * on 127.0.0.1 in the test's own loop.  Time for scheduling is injected
 * through tracker_set_tick(now_ms). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

#include "bt/tracker/tracker.h"
#include "util/log.h"

static uv_loop_t g_loop;
static struct fetch *g_fetch;
static struct tracker_client *g_tc;

/* ---- fake HTTP tracker ---- */

#define MAX_SEEN 64
static char *g_http_seen[MAX_SEEN];
static int g_http_n;
static uv_tcp_t g_http;
static int g_http_port;

struct conn {
    uv_tcp_t tcp;
    char req[8192];
    size_t len;
    int answered;
};

static void on_close_free(uv_handle_t *h) { free(h); }

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    uv_close((uv_handle_t *)w->handle, on_close_free);
    free(w->data);
    free(w);
}

static void http_reply(struct conn *c, const char *body, size_t blen)
{
    char *all = malloc(256 + blen);
    int h = snprintf(all, 256, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", blen);
    memcpy(all + h, body, blen);
    uv_write_t *w = malloc(sizeof *w);
    w->data = all;
    uv_buf_t b = uv_buf_init(all, (unsigned)(h + (int)blen));
    uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
}

static void http_respond(struct conn *c)
{
    char path[4096] = "";
    sscanf(c->req, "GET %4095s", path);
    if (g_http_n < MAX_SEEN)
        g_http_seen[g_http_n++] = strdup(path);
    c->answered = 1;
    if (strncmp(path, "/scrape", 7) == 0) {
        /* Any hash: the body is built for the 20 'a' bytes the tests use. */
        static const char s[] = "d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei5e10:downloadedi9e10:incompletei3eeee";
        http_reply(c, s, sizeof s - 1);
        return;
    }
    if (strncmp(path, "/fail", 5) == 0) {
        static const char s[] = "d14:failure reason11:not allowede";
        http_reply(c, s, sizeof s - 1);
        return;
    }
    if (strstr(path, "&event=stopped")) {   /* counted without the one that left */
        static const char s[] = "d8:completei4e10:incompletei0e8:intervali1800ee";
        http_reply(c, s, sizeof s - 1);
        return;
    }
    /* No complete/incomplete: the announcer has to scrape. */
    static const char s[] = "d8:intervali1800e12:min intervali900e10:tracker id3:xyz"
                            "5:peers6:\x7f\x00\x00\x02\x1a\xe1" "e";
    http_reply(c, s, sizeof s - 1);
}

static void http_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)sz;
    struct conn *c = (struct conn *)h;
    b->base = c->req + c->len;
    b->len = sizeof c->req - 1 - c->len;
}

static void http_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct conn *c = (struct conn *)s;
    if (n < 0) {
        uv_read_stop(s);
        if (!c->answered && !uv_is_closing((uv_handle_t *)s))
            uv_close((uv_handle_t *)s, on_close_free);
        return;
    }
    c->len += (size_t)n;
    c->req[c->len] = 0;
    if (!c->answered && strstr(c->req, "\r\n\r\n"))
        http_respond(c);
}

static void http_conn(uv_stream_t *srv, int status)
{
    assert_int_equal(status, 0);
    struct conn *c = calloc(1, sizeof *c);
    uv_tcp_init(srv->loop, &c->tcp);
    assert_int_equal(uv_accept(srv, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, http_alloc, http_read);
}

/* ---- fake UDP tracker ---- */

static uv_udp_t g_udp;
static int g_udp_port;
static int g_udp_connects;
static int g_udp_events[MAX_SEEN];
static int g_udp_n;
static char g_udp_buf[2048];

static void udp_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)h; (void)sz;
    b->base = g_udp_buf;
    b->len = sizeof g_udp_buf;
}

static void udp_send(const uint8_t *p, size_t n, const struct sockaddr *to)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    assert_true(uv_udp_try_send(&g_udp, &b, 1, to) >= 0);
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from, unsigned flags)
{
    (void)h; (void)flags;
    if (n <= 0 || !from)
        return;
    const uint8_t *p = (const uint8_t *)b->base;
    uint8_t out[64];
    if (n == 16 && rd_be64(p) == TRACKER_UDP_MAGIC && rd_be32(p + 8) == 0) {
        g_udp_connects++;
        wr_be32(out, 0);
        memcpy(out + 4, p + 12, 4);
        wr_be32(out + 8, 0xc0);
        wr_be32(out + 12, 0xffee);
        udp_send(out, 16, from);
        return;
    }
    if (n < 98 || rd_be32(p + 8) != 1)
        return;
    assert_int_equal(rd_be32(p), 0xc0);
    assert_int_equal(rd_be32(p + 4), 0xffee);
    if (g_udp_n < MAX_SEEN)
        g_udp_events[g_udp_n++] = (int)rd_be32(p + 80);
    if (p[16] == 0xee) {   /* this torrent is unknown here */
        wr_be32(out, 3);
        memcpy(out + 4, p + 12, 4);
        memcpy(out + 8, "unregistered", 12);
        udp_send(out, 20, from);
        return;
    }
    wr_be32(out, 1);
    memcpy(out + 4, p + 12, 4);
    wr_be32(out + 8, 1800);
    bool stopped = rd_be32(p + 80) == TRACKER_EVENT_STOPPED;
    wr_be32(out + 12, stopped ? 0 : 1);   /* leechers, without the one that left */
    wr_be32(out + 16, 2);                 /* seeders */
    static const uint8_t peer[6] = {127, 0, 0, 3, 0x1b, 0x58};
    memcpy(out + 20, peer, 6);
    udp_send(out, 26, from);
}

/* ---- callbacks ---- */

static size_t g_peers;
static int g_changed;
static bool g_free_in_cb;
static struct tracker_set *g_ts;

static void get_stats(void *ud, int64_t *up, int64_t *down, int64_t *left)
{
    (void)ud;
    *up = 1;
    *down = 2;
    *left = 3;
}

static void on_peers(void *ud, const struct tracker_peer *p, size_t n)
{
    (void)ud;
    for (size_t i = 0; i < n; i++)
        assert_true(p[i].addr.ss_family == AF_INET);
    g_peers += n;
    if (g_free_in_cb) {
        tracker_set_free(g_ts);
        g_ts = NULL;
    }
}

static void on_changed(void *ud)
{
    (void)ud;
    g_changed++;
}

static const struct tracker_callbacks g_cb = {get_stats, on_peers, on_changed};

/* ---- harness ---- */

static void on_tick(uv_timer_t *t) { (void)t; }

static void run_ms(uint64_t ms)
{
    uv_timer_t t;
    uv_timer_init(&g_loop, &t);
    uv_timer_start(&t, on_tick, 5, 5);
    uint64_t end = uv_now(&g_loop) + ms;
    while (uv_now(&g_loop) < end)
        uv_run(&g_loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&g_loop, UV_RUN_NOWAIT);
}

/* Runs the loop until cond() holds (or 5 s pass). */
#define WAIT_FOR(cond)                                                  \
    do {                                                                \
        for (int _i = 0; _i < 500 && !(cond); _i++)                     \
            run_ms(10);                                                 \
        assert_true(cond);                                              \
    } while (0)

static int setup(void **state)
{
    (void)state;
    log_set_quiet(1);
    uv_loop_init(&g_loop);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(&g_loop, &g_http);
    assert_int_equal(uv_tcp_bind(&g_http, (struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&g_http, 16, http_conn), 0);
    struct sockaddr_in got;
    int len = sizeof got;
    uv_tcp_getsockname(&g_http, (struct sockaddr *)&got, &len);
    g_http_port = ntohs(got.sin_port);

    uv_udp_init(&g_loop, &g_udp);
    assert_int_equal(uv_udp_bind(&g_udp, (struct sockaddr *)&a, 0), 0);
    len = sizeof got;
    uv_udp_getsockname(&g_udp, (struct sockaddr *)&got, &len);
    g_udp_port = ntohs(got.sin_port);
    uv_udp_recv_start(&g_udp, udp_alloc, udp_recv);

    g_http_n = g_udp_n = g_udp_connects = 0;
    g_peers = 0;
    g_changed = 0;
    g_free_in_cb = false;
    assert_int_equal(fetch_new(&g_loop, &g_fetch), 0);
    uint8_t pid[20];
    memcpy(pid, "-TD0100-abcdefghijkl", 20);
    assert_int_equal(tracker_client_new(&g_loop, g_fetch, pid, 6881, &g_tc), 0);
    tracker_client_set_timeouts(g_tc, 1000, 2000);
    assert_int_equal(tracker_client_set_bind(g_tc, "127.0.0.1"), 0);
    return 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, (h == (uv_handle_t *)&g_http || h == (uv_handle_t *)&g_udp) ? NULL : on_close_free);
}

static int teardown(void **state)
{
    (void)state;
    tracker_client_free(g_tc);
    fetch_free(g_fetch);
    uv_walk(&g_loop, close_walk, NULL);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&g_loop), 0);
    for (int i = 0; i < g_http_n; i++)
        free(g_http_seen[i]);
    return 0;
}

static void make_url(char *out, size_t n, const char *scheme, int port, const char *path)
{
    snprintf(out, n, "%s://127.0.0.1:%d%s", scheme, port, path);
}

static const struct tracker_entry *entry_by_url(struct tracker_set *ts, const char *url)
{
    for (size_t i = 0; i < tracker_set_count(ts); i++)
        if (strcmp(tracker_set_entry(ts, i)->url, url) == 0)
            return tracker_set_entry(ts, i);
    fail_msg("no entry %s", url);
    return NULL;
}

static int http_announces(void)
{
    int n = 0;
    for (int i = 0; i < g_http_n; i++)
        n += strncmp(g_http_seen[i], "/announce", 9) == 0;
    return n;
}

static const char *last_http_announce(void)
{
    for (int i = g_http_n - 1; i >= 0; i--)
        if (strncmp(g_http_seen[i], "/announce", 9) == 0)
            return g_http_seen[i];
    return "";
}

/* A proxy required (core/proxy.c): a UDP tracker gets no datagram and says
 * why; an HTTP one gets nothing while the proxy URL is unusable ("");
 * without the proxy both work again. */
static void test_proxy_required(void **state)
{
    (void)state;
    char hu[128], uu[128];
    make_url(hu, sizeof hu, "http", g_http_port, "/announce");
    make_url(uu, sizeof uu, "udp", g_udp_port, "/announce");
    char *t0[] = {hu}, *t1[] = {uu};
    struct bt_tier tiers[] = {{t0, 1}, {t1, 1}};
    uint8_t ih[20];
    memset(ih, 'p', 20);
    tracker_client_set_proxy(g_tc, "", true);
    struct tracker_set *ts = tracker_set_new(g_tc, ih, tiers, 2, &g_cb, NULL);
    tracker_set_start(ts);
    tracker_set_tick(ts, 1000);
    run_ms(100);
    assert_int_equal(entry_by_url(ts, uu)->status, TRACKER_NOT_WORKING);
    assert_non_null(strstr(entry_by_url(ts, uu)->msg, "proxy"));
    assert_int_equal(entry_by_url(ts, hu)->status, TRACKER_NOT_WORKING);
    assert_non_null(strstr(entry_by_url(ts, hu)->msg, "proxy"));
    assert_int_equal(g_http_n + g_udp_n + g_udp_connects, 0);
    tracker_client_set_proxy(g_tc, NULL, false);
    tracker_set_reannounce(ts);
    tracker_set_tick(ts, 2000);
    WAIT_FOR(entry_by_url(ts, hu)->status == TRACKER_WORKING && entry_by_url(ts, uu)->status == TRACKER_WORKING);
    tracker_set_free(ts);
}

/* started → peers → interval honoured → completed → stopped, over HTTP and UDP. */
static void test_lifecycle(void **state)
{
    (void)state;
    char hu[128], uu[128], bad[] = "wss://127.0.0.1/announce";
    make_url(hu, sizeof hu, "http", g_http_port, "/announce");
    make_url(uu, sizeof uu, "udp", g_udp_port, "/announce");
    char *t0[] = {hu}, *t1[] = {uu}, *t2[] = {bad};
    struct bt_tier tiers[] = {{t0, 1}, {t1, 1}, {t2, 1}};
    uint8_t ih[20];
    memset(ih, 'a', 20);
    struct tracker_set *ts = tracker_set_new(g_tc, ih, tiers, 3, &g_cb, NULL);
    assert_non_null(ts);
    assert_int_equal(tracker_set_count(ts), 3);
    assert_int_equal(entry_by_url(ts, bad)->status, TRACKER_NOT_WORKING);
    assert_string_equal(entry_by_url(ts, bad)->msg, "unsupported scheme");
    assert_int_equal(entry_by_url(ts, hu)->status, TRACKER_NOT_CONTACTED);
    assert_null(tracker_set_current(ts));

    /* Not started: ticks do nothing. */
    tracker_set_tick(ts, 500);
    run_ms(50);
    assert_int_equal(g_http_n + g_udp_n, 0);

    uint64_t now = 1000;
    tracker_set_start(ts);
    tracker_set_tick(ts, now);
    assert_int_equal(entry_by_url(ts, hu)->status, TRACKER_UPDATING);
    WAIT_FOR(entry_by_url(ts, hu)->status == TRACKER_WORKING && entry_by_url(ts, uu)->status == TRACKER_WORKING);
    assert_non_null(strstr(last_http_announce(), "&event=started"));
    assert_non_null(strstr(last_http_announce(), "&port=6881&uploaded=1&downloaded=2&left=3&"));
    assert_non_null(strstr(last_http_announce(), "&peer_id=-TD0100-abcdefghijkl"));
    assert_null(strstr(last_http_announce(), "trackerid"));
    assert_int_equal(g_udp_n, 1);
    assert_int_equal(g_udp_events[0], TRACKER_EVENT_STARTED);
    assert_int_equal(g_udp_connects, 1);
    assert_int_equal(g_peers, 2);
    assert_true(g_changed > 0);
    assert_string_equal(tracker_set_current(ts), hu);

    const struct tracker_entry *h = entry_by_url(ts, hu), *u = entry_by_url(ts, uu);
    assert_int_equal(h->next_announce_ms, now + 1800 * 1000);
    assert_int_equal(h->min_announce_ms, now + 900 * 1000);
    assert_int_equal(h->num_peers, 1);
    assert_int_equal(u->num_seeds, 2);
    assert_int_equal(u->num_leeches, 1);
    /* The HTTP reply had no counts: a scrape fills them in. */
    WAIT_FOR(entry_by_url(ts, hu)->num_seeds == 5);
    assert_int_equal(h->num_leeches, 3);
    assert_int_equal(h->num_downloaded, 9);

    /* Interval honoured: nothing before it is due. */
    int before = http_announces();
    tracker_set_tick(ts, now + 1799 * 1000);
    run_ms(100);
    assert_int_equal(http_announces(), before);
    assert_int_equal(g_udp_n, 1);

    tracker_set_tick(ts, now + 1800 * 1000);
    WAIT_FOR(http_announces() == before + 1 && g_udp_n == 2);
    assert_null(strstr(last_http_announce(), "event="));
    assert_non_null(strstr(last_http_announce(), "&trackerid=xyz"));
    assert_int_equal(g_udp_events[1], TRACKER_EVENT_NONE);
    assert_int_equal(g_udp_connects, 1);   /* connection id reused within 60 s */
    now += 1800 * 1000;
    WAIT_FOR(entry_by_url(ts, hu)->status == TRACKER_WORKING && entry_by_url(ts, uu)->status == TRACKER_WORKING);

    /* Completed goes out at once, then forced reannounce ignores the interval. */
    tracker_set_completed(ts);
    tracker_set_tick(ts, now + 1000);
    WAIT_FOR(http_announces() == before + 2 && g_udp_n == 3);
    assert_non_null(strstr(last_http_announce(), "&event=completed"));
    assert_int_equal(g_udp_events[2], TRACKER_EVENT_COMPLETED);
    WAIT_FOR(entry_by_url(ts, hu)->status == TRACKER_WORKING && entry_by_url(ts, uu)->status == TRACKER_WORKING);
    tracker_set_reannounce(ts);
    tracker_set_tick(ts, now + 2000);
    WAIT_FOR(http_announces() == before + 3 && g_udp_n == 4);
    assert_null(strstr(last_http_announce(), "event="));
    WAIT_FOR(entry_by_url(ts, hu)->status == TRACKER_WORKING && entry_by_url(ts, uu)->status == TRACKER_WORKING);

    /* Stop: event=stopped to both, then ticks are idle.  The rows stay as
     * they were (qbittorrent-nox 4.5.2 shows a paused torrent's tracker
     * Working with the last counts); the stopped reply's counts go to
     * swarm_* (libtorrent's num_complete/num_incomplete). */
    assert_int_equal(h->swarm_seeds, 5);
    assert_int_equal(u->swarm_leeches, 1);
    tracker_set_stop(ts);
    assert_int_equal(entry_by_url(ts, hu)->status, TRACKER_WORKING);
    WAIT_FOR(http_announces() == before + 4 && g_udp_n == 5);
    assert_non_null(strstr(last_http_announce(), "&event=stopped"));
    assert_non_null(strstr(last_http_announce(), "&numwant=0"));
    assert_int_equal(g_udp_events[4], TRACKER_EVENT_STOPPED);
    WAIT_FOR(h->swarm_seeds == 4 && h->swarm_leeches == 0 && u->swarm_leeches == 0);
    assert_int_equal(u->swarm_seeds, 2);
    assert_int_equal(h->status, TRACKER_WORKING);
    assert_int_equal(u->status, TRACKER_WORKING);
    assert_int_equal(h->num_seeds, 5);
    assert_int_equal(h->num_leeches, 3);
    assert_int_equal(u->num_leeches, 1);
    assert_string_equal(tracker_set_current(ts), hu);
    tracker_set_tick(ts, now + 10 * 3600 * 1000);
    run_ms(100);
    assert_int_equal(http_announces(), before + 4);
    assert_int_equal(g_udp_n, 5);

    /* Started again: event=started again. */
    tracker_set_start(ts);
    tracker_set_tick(ts, now + 11 * 3600 * 1000);
    WAIT_FOR(http_announces() == before + 5 && g_udp_n == 6);
    assert_non_null(strstr(last_http_announce(), "&event=started"));
    assert_int_equal(g_udp_events[5], TRACKER_EVENT_STARTED);
    tracker_set_free(ts);   /* with the scrape possibly in flight */
    run_ms(50);
}

/* The listen port moves while the first announce is in flight: the forced
 * reannounce must still go out with the new port once that reply arrives,
 * not an interval later (test_listen_port.py::test_random_port's race). */
static void test_reannounce_while_in_flight(void **state)
{
    (void)state;
    char hu[128];
    make_url(hu, sizeof hu, "http", g_http_port, "/announce");
    char *t0[] = {hu};
    struct bt_tier tiers[] = {{t0, 1}};
    uint8_t ih[20];
    memset(ih, 'a', 20);
    struct tracker_set *ts = tracker_set_new(g_tc, ih, tiers, 1, &g_cb, NULL);
    assert_non_null(ts);
    uint64_t now = 1000;
    tracker_set_start(ts);
    tracker_set_tick(ts, now);
    assert_int_equal(entry_by_url(ts, hu)->status, TRACKER_UPDATING);   /* in flight */
    tracker_client_set_port(g_tc, 7001);
    tracker_set_reannounce(ts);
    WAIT_FOR(entry_by_url(ts, hu)->status == TRACKER_WORKING);
    assert_int_equal(http_announces(), 1);
    assert_non_null(strstr(last_http_announce(), "&port=6881&"));
    tracker_set_tick(ts, now + 1000);
    WAIT_FOR(http_announces() == 2);
    assert_non_null(strstr(last_http_announce(), "&port=7001&"));
    WAIT_FOR(entry_by_url(ts, hu)->status == TRACKER_WORKING);
    /* and then the interval holds again */
    tracker_set_tick(ts, now + 2000);
    run_ms(100);
    assert_int_equal(http_announces(), 2);
    tracker_set_free(ts);
    run_ms(50);
}

/* BEP12: a dead tracker fails over to the next in its tier, which then
 * moves to the front and stays there. */
static void test_failover(void **state)
{
    (void)state;
    char dead[128], alive[128];
    make_url(dead, sizeof dead, "http", 1, "/announce");   /* nothing listens on port 1 */
    make_url(alive, sizeof alive, "http", g_http_port, "/announce");
    char *urls[] = {dead, alive};
    struct bt_tier tier = {urls, 2};
    uint8_t ih[20];
    memset(ih, 'a', 20);
    struct tracker_set *ts = NULL;
    /* The tier is shuffled; keep the order where the dead one comes first. */
    for (int i = 0; i < 200; i++) {
        ts = tracker_set_new(g_tc, ih, &tier, 1, &g_cb, NULL);
        assert_non_null(ts);
        if (strcmp(tracker_set_entry(ts, 0)->url, dead) == 0)
            break;
        tracker_set_free(ts);
        ts = NULL;
    }
    assert_non_null(ts);
    tracker_set_start(ts);
    tracker_set_tick(ts, 1000);
    WAIT_FOR(entry_by_url(ts, dead)->status == TRACKER_NOT_WORKING);
    assert_true(entry_by_url(ts, dead)->msg[0] != 0);
    assert_true(entry_by_url(ts, dead)->next_announce_ms >= 1000 + 60 * 1000);
    assert_int_equal(entry_by_url(ts, alive)->status, TRACKER_NOT_CONTACTED);
    assert_int_equal(http_announces(), 0);

    tracker_set_tick(ts, 2000);
    WAIT_FOR(entry_by_url(ts, alive)->status == TRACKER_WORKING);
    assert_string_equal(tracker_set_entry(ts, 0)->url, alive);
    assert_string_equal(tracker_set_current(ts), alive);
    assert_int_equal(g_peers, 1);

    /* The dead one's back-off ends long before the interval: it is not retried. */
    tracker_set_tick(ts, 2000 + 1700 * 1000);
    run_ms(100);
    assert_int_equal(entry_by_url(ts, dead)->status, TRACKER_NOT_WORKING);
    assert_int_equal(http_announces(), 1);
    tracker_set_free(ts);
}

static void test_udp_error_and_failure(void **state)
{
    (void)state;
    char uu[128], hf[128];
    make_url(uu, sizeof uu, "udp", g_udp_port, "");
    make_url(hf, sizeof hf, "http", g_http_port, "/fail");
    char *t0[] = {uu}, *t1[] = {hf};
    struct bt_tier tiers[] = {{t0, 1}, {t1, 1}};
    uint8_t ih[20];
    memset(ih, 0xee, 20);
    struct tracker_set *ts = tracker_set_new(g_tc, ih, tiers, 2, &g_cb, NULL);
    tracker_set_start(ts);
    tracker_set_tick(ts, 1000);
    WAIT_FOR(entry_by_url(ts, uu)->status == TRACKER_NOT_WORKING && entry_by_url(ts, hf)->status == TRACKER_NOT_WORKING);
    assert_string_equal(entry_by_url(ts, uu)->msg, "unregistered");
    assert_string_equal(entry_by_url(ts, hf)->msg, "not allowed");
    assert_int_equal(g_peers, 0);
    assert_null(tracker_set_current(ts));
    /* Back-off doubles with each failure. */
    uint64_t first = entry_by_url(ts, hf)->next_announce_ms - 1000;
    uint64_t t = entry_by_url(ts, hf)->next_announce_ms;
    tracker_set_tick(ts, t);
    WAIT_FOR(g_http_n == 2 && entry_by_url(ts, hf)->status == TRACKER_NOT_WORKING);
    uint64_t second = entry_by_url(ts, hf)->next_announce_ms - t;
    assert_true(second > first);
    assert_true(second >= 120 * 1000);
    tracker_set_free(ts);
}

static int g_silent_n;
static char g_silent_buf[2048];

static void silent_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)h; (void)sz;
    b->base = g_silent_buf;
    b->len = sizeof g_silent_buf;
}

static void silent_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from, unsigned flags)
{
    (void)h; (void)b; (void)flags;
    if (n > 0 && from)
        g_silent_n++;
}

static void test_udp_timeout(void **state)
{
    (void)state;
    /* A UDP port that never answers: BEP15's doubling from the receive
     * timeout (sends at 0, 100 and 300 ms), cut at the completion timeout:
     * "timed out" at 350 ms, nothing sent after. */
    uv_udp_t *silent = malloc(sizeof *silent);
    uv_udp_init(&g_loop, silent);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_udp_bind(silent, (struct sockaddr *)&a, 0), 0);
    g_silent_n = 0;
    assert_int_equal(uv_udp_recv_start(silent, silent_alloc, silent_recv), 0);
    struct sockaddr_in got;
    int len = sizeof got;
    uv_udp_getsockname(silent, (struct sockaddr *)&got, &len);
    char uu[128];
    make_url(uu, sizeof uu, "udp", ntohs(got.sin_port), "/announce");
    tracker_client_set_timeouts(g_tc, 100, 350);
    char *t0[] = {uu};
    struct bt_tier tier = {t0, 1};
    uint8_t ih[20] = {0};
    struct tracker_set *ts = tracker_set_new(g_tc, ih, &tier, 1, &g_cb, NULL);
    tracker_set_start(ts);
    uint64_t t0ms = uv_now(&g_loop);
    tracker_set_tick(ts, 1000);
    WAIT_FOR(entry_by_url(ts, uu)->status == TRACKER_NOT_WORKING);
    uint64_t took = uv_now(&g_loop) - t0ms;
    assert_true(took >= 350 && took < 2000);
    assert_string_equal(entry_by_url(ts, uu)->msg, "timed out");
    run_ms(300);
    /* 3 on time; 2 when a loaded machine fires the first retransmit late
     * enough that the next one would fall after the cap */
    assert_true(g_silent_n == 3 || g_silent_n == 2);
    assert_true(tracker_client_idle(g_tc));
    tracker_set_free(ts);
}

/* A silent UDP tracker: the event=stopped announce gives up after
 * stop_tracker_timeout (not the completion timeout, nor a fixed 10 s); 0
 * sends no stopped announce at all (libtorrent's stop_tracker_timeout). */
static void test_stop_timeout(void **state)
{
    (void)state;
    uv_udp_t *silent = malloc(sizeof *silent);
    uv_udp_init(&g_loop, silent);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_udp_bind(silent, (struct sockaddr *)&a, 0), 0);
    g_silent_n = 0;
    assert_int_equal(uv_udp_recv_start(silent, silent_alloc, silent_recv), 0);
    struct sockaddr_in got;
    int len = sizeof got;
    uv_udp_getsockname(silent, (struct sockaddr *)&got, &len);
    char uu[128];
    make_url(uu, sizeof uu, "udp", ntohs(got.sin_port), "/announce");
    tracker_client_set_timeouts(g_tc, 100, 20000);
    char *t0[] = {uu};
    struct bt_tier tier = {t0, 1};
    uint8_t ih[20] = {0};
    for (int round = 0; round < 2; round++) {
        uint32_t stop_ms = round == 0 ? 400 : 0;
        tracker_client_set_stop_timeout(g_tc, stop_ms);
        struct tracker_set *ts = tracker_set_new(g_tc, ih, &tier, 1, &g_cb, NULL);
        tracker_set_start(ts);
        tracker_set_tick(ts, 1000);
        WAIT_FOR(g_silent_n > 0);   /* the started announce is in flight */
        int sent = g_silent_n;
        uint64_t t0ms = uv_now(&g_loop);
        tracker_set_stop(ts);
        if (stop_ms == 0) {
            assert_true(tracker_client_idle(g_tc));
            run_ms(300);
            assert_int_equal(g_silent_n, sent);   /* nothing more went out */
        } else {
            assert_false(tracker_client_idle(g_tc));
            WAIT_FOR(tracker_client_idle(g_tc));
            uint64_t took = uv_now(&g_loop) - t0ms;
            assert_true(took >= stop_ms && took < 3000);
            assert_true(g_silent_n > sent);
        }
        tracker_set_free(ts);
        g_silent_n = 0;
    }
}

static void test_free_in_callback(void **state)
{
    (void)state;
    char hu[128], uu[128];
    make_url(hu, sizeof hu, "http", g_http_port, "/announce");
    make_url(uu, sizeof uu, "udp", g_udp_port, "/announce");
    char *t0[] = {hu, uu};
    struct bt_tier tier = {t0, 2};
    uint8_t ih[20];
    memset(ih, 'a', 20);
    g_ts = tracker_set_new(g_tc, ih, &tier, 1, &g_cb, NULL);
    tracker_set_announce_all(g_ts, true);
    g_free_in_cb = true;
    tracker_set_start(g_ts);
    tracker_set_tick(g_ts, 1000);
    WAIT_FOR(g_ts == NULL);
    run_ms(100);   /* the other reply must not reach the freed set */
    assert_int_equal(g_peers, 1);
}

static void test_edit(void **state)
{
    (void)state;
    char *t0[] = {"http://a/announce", "http://b/announce", "http://a/announce"};
    char *t1[] = {"udp://c:80"};
    struct bt_tier tiers[] = {{t0, 3}, {t1, 1}};
    uint8_t ih[20] = {0};
    struct tracker_set *ts = tracker_set_new(g_tc, ih, tiers, 2, &g_cb, NULL);
    assert_int_equal(tracker_set_count(ts), 3);   /* the duplicate is dropped */
    assert_int_equal(tracker_set_add(ts, "http://b/announce", 5), -EEXIST);
    assert_int_equal(tracker_set_add(ts, "http://x y", 0), -EINVAL);
    assert_int_equal(tracker_set_add(ts, "", 0), -EINVAL);
    assert_int_equal(tracker_set_add(ts, "http://d/announce", -1), -EINVAL);
    assert_int_equal(tracker_set_add(ts, "http://d/announce", 0), 0);
    assert_int_equal(tracker_set_add(ts, "http://e/announce", 7), 0);
    assert_int_equal(tracker_set_count(ts), 5);
    /* Sorted by tier; d went to the end of tier 0. */
    assert_string_equal(tracker_set_entry(ts, 2)->url, "http://d/announce");
    assert_int_equal(tracker_set_entry(ts, 3)->tier, 1);
    assert_int_equal(tracker_set_entry(ts, 4)->tier, 7);
    assert_null(tracker_set_entry(ts, 5));
    assert_int_equal(tracker_set_replace(ts, "http://d/announce", "udp://f:1"), 0);
    assert_string_equal(tracker_set_entry(ts, 2)->url, "udp://f:1");
    assert_int_equal(tracker_set_entry(ts, 2)->tier, 0);
    assert_int_equal(tracker_set_replace(ts, "udp://f:1", "http://a/announce"), -EEXIST);
    assert_int_equal(tracker_set_replace(ts, "http://zz", "http://y"), -ENOENT);
    assert_int_equal(tracker_set_remove(ts, "udp://f:1"), 0);
    assert_int_equal(tracker_set_remove(ts, "udp://f:1"), -ENOENT);
    assert_int_equal(tracker_set_count(ts), 4);
    tracker_set_free(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_error_and_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_in_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reannounce_while_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proxy_required, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
