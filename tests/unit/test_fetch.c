/* fetch: a tiny HTTP server on 127.0.0.1 in the same loop answers by path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "util/fetch.h"
#include "util/log.h"

/* ---- the server ---- */

struct conn {
    uv_tcp_t tcp;
    char req[4096];
    size_t len;
    int answered;
};

static uv_tcp_t g_server;
static int g_port;
static int g_requests;

static void on_close_free(uv_handle_t *h) { free(h); }

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    uv_close((uv_handle_t *)w->handle, on_close_free);
    free(w->data);
    free(w);
}

static void send_raw(struct conn *c, const char *hdr, const char *body, size_t blen)
{
    size_t hl = strlen(hdr);
    char *all = malloc(hl + blen);
    memcpy(all, hdr, hl);
    if (blen)
        memcpy(all + hl, body, blen);
    uv_write_t *w = malloc(sizeof *w);
    w->data = all;
    uv_buf_t b = uv_buf_init(all, (unsigned)(hl + blen));
    uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
}

static void respond(struct conn *c)
{
    char path[256] = "";
    sscanf(c->req, "GET %255s", path);
    g_requests++;
    char hdr[512];
    if (strncmp(c->req, "GET /method ", 12) == 0 || strncmp(c->req, "POST /method ", 13) == 0) {
        /* echoes the method and whether a 7-byte body was announced */
        char body[64];
        snprintf(body, sizeof body, "%s%s", strncmp(c->req, "GET", 3) == 0 ? "GET" : "POST",
                 strstr(c->req, "Content-Length: 7\r\n") ? " body" : "");
        snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", strlen(body));
        send_raw(c, hdr, body, strlen(body));
    } else if (strcmp(path, "/ok") == 0) {
        const char *body = "hello world";
        snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", strlen(body));
        send_raw(c, hdr, body, strlen(body));
    } else if (strcmp(path, "/big") == 0) {
        size_t n = 300000;
        char *body = malloc(n);
        memset(body, 'x', n);
        /* No Content-Length: the limit must hold for streamed bodies too. */
        snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        send_raw(c, hdr, body, n);
        free(body);
    } else if (strcmp(path, "/bigdeclared") == 0) {
        snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n");
        send_raw(c, hdr, "", 0);
    } else if (strcmp(path, "/slow") == 0) {
        return;   /* never answer */
    } else if (strcmp(path, "/redir") == 0) {
        snprintf(hdr, sizeof hdr, "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        send_raw(c, hdr, "", 0);
    } else if (strcmp(path, "/magnet") == 0) {
        snprintf(hdr, sizeof hdr, "HTTP/1.1 302 Found\r\nLocation: magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        send_raw(c, hdr, "", 0);
    } else if (strcmp(path, "/loop") == 0) {
        snprintf(hdr, sizeof hdr, "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        send_raw(c, hdr, "", 0);
    } else {
        const char *body = "nope";
        snprintf(hdr, sizeof hdr, "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nConnection: close\r\n\r\n");
        send_raw(c, hdr, body, strlen(body));
    }
    c->answered = 1;
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)sz;
    struct conn *c = (struct conn *)h;
    b->base = c->req + c->len;
    b->len = sizeof c->req - 1 - c->len;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct conn *c = (struct conn *)s;
    if (n < 0) {
        uv_read_stop(s);
        if (!uv_is_closing((uv_handle_t *)s) && !c->answered)
            uv_close((uv_handle_t *)s, on_close_free);
        return;
    }
    c->len += (size_t)n;
    c->req[c->len] = 0;
    if (!c->answered && strstr(c->req, "\r\n\r\n"))
        respond(c);
}

static void on_conn(uv_stream_t *srv, int status)
{
    assert_int_equal(status, 0);
    struct conn *c = calloc(1, sizeof *c);
    uv_tcp_init(srv->loop, &c->tcp);
    assert_int_equal(uv_accept(srv, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void server_start(uv_loop_t *loop)
{
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(loop, &g_server);
    assert_int_equal(uv_tcp_bind(&g_server, (struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&g_server, 16, on_conn), 0);
    struct sockaddr_in got;
    int len = sizeof got;
    uv_tcp_getsockname(&g_server, (struct sockaddr *)&got, &len);
    g_port = ntohs(got.sin_port);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, h == (uv_handle_t *)&g_server ? NULL : on_close_free);
}

/* ---- the client side ---- */

struct result {
    int done;
    int rc;
    long status;
    char body[64];
    size_t len;
    char msg[256];
};

static void on_fetch(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *msg)
{
    struct result *r = ud;
    r->done++;
    r->rc = rc;
    r->status = status;
    r->len = len;
    assert_non_null(body);
    assert_int_equal(body[len], 0);
    snprintf(r->body, sizeof r->body, "%s", (const char *)body);
    snprintf(r->msg, sizeof r->msg, "%s", msg);
}

static uv_loop_t g_loop;
static struct fetch *g_f;

static int setup(void **state)
{
    (void)state;
    log_set_quiet(1);
    uv_loop_init(&g_loop);
    server_start(&g_loop);
    g_requests = 0;
    assert_int_equal(fetch_new(&g_loop, &g_f), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fetch_free(g_f);
    uv_walk(&g_loop, close_walk, NULL);
    uv_run(&g_loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&g_loop), 0);
    return 0;
}

static void url(char *out, size_t n, const char *path)
{
    snprintf(out, n, "http://127.0.0.1:%d%s", g_port, path);
}

static void on_tick(uv_timer_t *t) { (void)t; }

/* A ticking timer makes every UV_RUN_ONCE return, even when the event we
 * wait for was handled in the timer phase before the blocking poll. */
static void run_until(struct result *r, int want)
{
    uv_timer_t *tick = malloc(sizeof *tick);
    uv_timer_init(&g_loop, tick);
    uv_timer_start(tick, on_tick, 5, 5);
    for (int i = 0; i < 200000 && r->done < want; i++)
        uv_run(&g_loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)tick, on_close_free);
}

static void test_ok(void **state)
{
    (void)state;
    char u[128];
    url(u, sizeof u, "/ok");
    struct result r = {0};
    assert_int_equal(fetch_get(g_f, u, NULL, on_fetch, &r, NULL), 0);
    assert_int_equal(fetch_active(g_f), 1);
    run_until(&r, 1);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello world");
    assert_int_equal(r.len, 11);
    assert_int_equal(fetch_active(g_f), 0);
}

/* o->method: a GET that carries a body (Notifiarr's API), and the default
 * POST when a body is given without one. */
static void test_method_with_body(void **state)
{
    (void)state;
    char u[128];
    url(u, sizeof u, "/method");
    struct fetch_opts o = {.post_body = "{\"a\":1}", .post_len = 7, .method = "GET"};
    struct result r = {0};
    assert_int_equal(fetch_get(g_f, u, &o, on_fetch, &r, NULL), 0);
    run_until(&r, 1);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.body, "GET body");
    o.method = NULL;
    struct result p = {0};
    assert_int_equal(fetch_get(g_f, u, &o, on_fetch, &p, NULL), 0);
    run_until(&p, 1);
    assert_string_equal(p.body, "POST body");
}

static void test_404(void **state)
{
    (void)state;
    char u[128];
    url(u, sizeof u, "/missing");
    struct result r = {0};
    assert_int_equal(fetch_get(g_f, u, NULL, on_fetch, &r, NULL), 0);
    run_until(&r, 1);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "nope");
}

static void test_timeout(void **state)
{
    (void)state;
    char u[128];
    url(u, sizeof u, "/slow");
    struct result r = {0};
    struct fetch_opts o = {.timeout_ms = 300};
    uint64_t t0 = uv_now(&g_loop);
    assert_int_equal(fetch_get(g_f, u, &o, on_fetch, &r, NULL), 0);
    run_until(&r, 1);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.rc, -ETIMEDOUT);
    assert_true(uv_now(&g_loop) - t0 >= 250);
    assert_true(r.msg[0] != 0);
}

static void test_too_big(void **state)
{
    (void)state;
    char u[128];
    struct fetch_opts o = {.max_body = 100000};
    struct result r = {0}, r2 = {0};
    url(u, sizeof u, "/big");
    assert_int_equal(fetch_get(g_f, u, &o, on_fetch, &r, NULL), 0);
    url(u, sizeof u, "/bigdeclared");
    assert_int_equal(fetch_get(g_f, u, &o, on_fetch, &r2, NULL), 0);
    run_until(&r, 1);
    run_until(&r2, 1);
    assert_int_equal(r.rc, -E2BIG);
    assert_int_equal(r2.rc, -E2BIG);
    /* The same body fits under a larger limit. */
    struct result r3 = {0};
    o.max_body = 300000;
    url(u, sizeof u, "/big");
    assert_int_equal(fetch_get(g_f, u, &o, on_fetch, &r3, NULL), 0);
    run_until(&r3, 1);
    assert_int_equal(r3.rc, 0);
    assert_int_equal(r3.len, 300000);
}

static void test_cancel(void **state)
{
    (void)state;
    char u[128];
    url(u, sizeof u, "/slow");
    struct result r = {0}, r2 = {0};
    struct fetch_req *h = NULL;
    assert_int_equal(fetch_get(g_f, u, NULL, on_fetch, &r, &h), 0);
    assert_non_null(h);
    /* Let it connect and send, then cancel. */
    for (int i = 0; i < 50 && g_requests == 0; i++)
        uv_run(&g_loop, UV_RUN_NOWAIT);
    fetch_cancel(h);
    assert_int_equal(fetch_active(g_f), 0);
    url(u, sizeof u, "/ok");
    assert_int_equal(fetch_get(g_f, u, NULL, on_fetch, &r2, NULL), 0);
    run_until(&r2, 1);
    assert_int_equal(r.done, 0);
    assert_int_equal(r2.rc, 0);
}

static void test_redirects(void **state)
{
    (void)state;
    char u[128];
    struct fetch_opts o = {.follow_redirects = 1};
    struct result r = {0}, r2 = {0}, r3 = {0}, r4 = {0};
    url(u, sizeof u, "/redir");
    assert_int_equal(fetch_get(g_f, u, &o, on_fetch, &r, NULL), 0);
    run_until(&r, 1);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello world");

    url(u, sizeof u, "/magnet");
    assert_int_equal(fetch_get(g_f, u, &o, on_fetch, &r2, NULL), 0);
    run_until(&r2, 1);
    assert_int_equal(r2.rc, -EXDEV);
    assert_string_equal(r2.msg, "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567");

    url(u, sizeof u, "/loop");
    assert_int_equal(fetch_get(g_f, u, &o, on_fetch, &r3, NULL), 0);
    run_until(&r3, 1);
    assert_int_equal(r3.rc, -ELOOP);

    /* Not following: the 3xx itself comes back. */
    url(u, sizeof u, "/redir");
    assert_int_equal(fetch_get(g_f, u, NULL, on_fetch, &r4, NULL), 0);
    run_until(&r4, 1);
    assert_int_equal(r4.rc, 0);
    assert_int_equal(r4.status, 302);
}

static void test_bad_urls(void **state)
{
    (void)state;
    struct result r = {0};
    assert_int_equal(fetch_get(g_f, "ftp://127.0.0.1/x", NULL, on_fetch, &r, NULL), -EPROTONOSUPPORT);
    assert_int_equal(fetch_get(g_f, "file:///etc/passwd", NULL, on_fetch, &r, NULL), -EPROTONOSUPPORT);
    assert_int_equal(fetch_get(g_f, NULL, NULL, on_fetch, &r, NULL), -EINVAL);
    /* Refused connection: nothing listens on port 1. */
    assert_int_equal(fetch_get(g_f, "http://127.0.0.1:1/", NULL, on_fetch, &r, NULL), 0);
    run_until(&r, 1);
    assert_int_equal(r.rc, -ECONNREFUSED);
}

static void test_bind(void **state)
{
    (void)state;
    char u[128];
    url(u, sizeof u, "/ok");
    struct result r = {0}, r2 = {0};
    struct fetch_opts o = {.bind_address = "127.0.0.1"};
    assert_int_equal(fetch_get(g_f, u, &o, on_fetch, &r, NULL), 0);
    run_until(&r, 1);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.status, 200);
    /* An address we do not have cannot be bound. */
    o.bind_address = "192.0.2.77";
    assert_int_equal(fetch_get(g_f, u, &o, on_fetch, &r2, NULL), 0);
    run_until(&r2, 1);
    assert_true(r2.rc < 0);
}

/* Freeing the fetch from inside a callback cancels the rest silently. */
static struct result g_other;
static void on_fetch_free(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *msg)
{
    on_fetch(ud, rc, status, body, len, msg);
    fetch_free(g_f);
    g_f = NULL;
}

static void test_free_in_callback(void **state)
{
    (void)state;
    char u[128];
    struct result r = {0};
    memset(&g_other, 0, sizeof g_other);
    url(u, sizeof u, "/slow");
    assert_int_equal(fetch_get(g_f, u, NULL, on_fetch, &g_other, NULL), 0);
    url(u, sizeof u, "/ok");
    assert_int_equal(fetch_get(g_f, u, NULL, on_fetch_free, &r, NULL), 0);
    run_until(&r, 1);
    assert_int_equal(r.rc, 0);
    assert_null(g_f);
    for (int i = 0; i < 20; i++)
        uv_run(&g_loop, UV_RUN_NOWAIT);
    assert_int_equal(g_other.done, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_404, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_with_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_urls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_in_callback, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
