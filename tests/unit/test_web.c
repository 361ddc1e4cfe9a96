/* web/server end to end: a real server on 127.0.0.1 inside the test's uv
 * loop, driven by libcurl on a second thread (api-surface.md §1, §2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "util/buf.h"
#include "util/log.h"
#include "web/api/qbt_v2.h"
#include "web/server.h"
#include "web/ui_files.h"

/* anchorlib.py's qbt_password_hash("adminadmin") with a fixed salt. */
static const char PW_HASH[] =
    "@ByteArray(AAECAwQFBgcICQoLDA0ODw==:UC4grCR8uxnR4Gzyoule02IP9X8mRb7SaEfCylvs19kyzc76Vdb/"
    "0xQlSKu43sz2Dl4vz2SIZymUO3PvTxIfVQ==)";
static const char BAN_TEXT[] = "Your IP address has been banned after too many failed authentication attempts.";

struct fx {
    uv_loop_t loop;
    uv_async_t async;
    struct web_server *ws;
    int port;
    int slots_freed;
    char static_dir[64];
};

struct resp {
    long status;
    struct buf body;
    struct buf hdrs;
};

struct call {
    struct fx *f;
    const char *method;          /* NULL = GET */
    const char *path;
    const char *body;            /* POST body (urlencoded unless a Content-Type header is given) */
    size_t body_len;             /* 0 = strlen(body) */
    const char *hdrs[8];
    const char *cookie;          /* "SID=..." */
    bool gzip;                   /* let curl ask for and decode gzip */
    void (*setup)(CURL *c, struct curl_slist **h, void *ud, curl_mime **mime);
    void *ud;
    struct resp r;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    buf_append(ud, p, sz * n);
    return sz * n;
}

static void call_thread(void *arg)
{
    struct call *k = arg;
    CURL *c = curl_easy_init();
    char url[512];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", k->f->port, k->path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &k->r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &k->r.hdrs);
    struct curl_slist *h = NULL;
    for (int i = 0; i < 8 && k->hdrs[i]; i++)
        h = curl_slist_append(h, k->hdrs[i]);
    if (k->cookie)
        curl_easy_setopt(c, CURLOPT_COOKIE, k->cookie);
    if (k->gzip)
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
    const char *m = k->method ? k->method : "GET";
    if (strcmp(m, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(m, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, k->body ? k->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(k->body_len ? k->body_len : k->body ? strlen(k->body) : 0));
    } else if (strcmp(m, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    curl_mime *mime = NULL;
    if (k->setup)
        k->setup(c, &h, k->ud, &mime);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &k->r.status);
    else
        k->r.status = -1;
    buf_append_u8(&k->r.body, 0);
    k->r.body.len--;
    buf_append_u8(&k->r.hdrs, 0);
    k->r.hdrs.len--;
    curl_mime_free(mime);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    uv_async_send(&k->f->async);
}

static void on_async(uv_async_t *a)
{
    uv_stop(a->loop);
}

/* Runs one request to completion while the loop serves it. */
static long run(struct call *k)
{
    uv_thread_t t;
    memset(&k->r, 0, sizeof(k->r));
    uv_thread_create(&t, call_thread, k);
    uv_run(&k->f->loop, UV_RUN_DEFAULT);
    uv_thread_join(&t);
    return k->r.status;
}

static void call_free(struct call *k)
{
    buf_free(&k->r.body);
    buf_free(&k->r.hdrs);
}

/* Value of the first response header called name, copied into out. */
static const char *hdr(struct call *k, const char *name, char *out, size_t outlen)
{
    const char *p = (const char *)k->r.hdrs.data;
    size_t nl = strlen(name);
    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            break;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(eol - v), v);
            return out;
        }
        p = eol + 2;
    }
    return NULL;
}

static const char *body(struct call *k)
{
    return k->r.body.data ? (const char *)k->r.body.data : "";
}

/* ---- test routes ---- */

static void echo_handler(struct web_req *r, void *ud)
{
    (void)ud;
    json_t *j = json_object();
    const char *names[] = {"a", "b", "c", "empty", "q", "uni"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = web_req_param(r, names[i]);
        if (v)
            json_object_set_new(j, names[i], json_string(v));
    }
    json_object_set_new(j, "flag", json_integer(web_req_bool(r, "flag", false) ? 1
                                                : web_req_param(r, "flag") ? 2 : 0));
    json_t *files = json_array();
    for (size_t i = 0; i < web_req_file_count(r); i++) {
        const struct web_file *f = web_req_file(r, i);
        json_array_append_new(files, json_pack("{s:s,s:s,s:I,s:s%}", "field", f->field, "filename", f->filename,
                                               "len", (json_int_t)f->len, "data", (const char *)f->data, f->len));
    }
    json_object_set_new(j, "files", files);
    size_t blen;
    const char *b = web_req_body(r, &blen);
    if (b)
        json_object_set_new(j, "body", json_stringn(b, blen));
    json_object_set_new(j, "method", json_integer(web_req_method(r)));
    json_object_set_new(j, "ip", json_string(web_req_client_ip(r)));
    web_reply_json(r, j);
}

static void big_handler(struct web_req *r, void *ud)
{
    (void)ud;
    char *s = malloc(5001);
    for (int i = 0; i < 5000; i++)
        s[i] = "abcdefghij"[i % 10];
    s[5000] = 0;
    web_req_add_header(r, "X-Test", "yes");
    web_reply(r, 200, "text/plain; charset=UTF-8", s, 5000);
    free(s);
}

struct late {
    uv_timer_t t;
    struct web_req *r;
};

static void late_closed(uv_handle_t *h)
{
    free(h->data);
}

static void late_fire(uv_timer_t *t)
{
    struct late *l = t->data;
    web_reply_text(l->r, 202, "late");
    uv_close((uv_handle_t *)&l->t, late_closed);
}

static void late_handler(struct web_req *r, void *ud)
{
    struct fx *f = ud;
    struct late *l = calloc(1, sizeof(*l));
    l->r = r;
    uv_timer_init(&f->loop, &l->t);
    l->t.data = l;
    uv_timer_start(&l->t, late_fire, 50, 0);
}

static void later_handler(struct web_req *r, void *ud)
{
    struct fx *f = ud;
    struct late *l = calloc(1, sizeof(*l));
    l->r = r;
    uv_timer_init(&f->loop, &l->t);
    l->t.data = l;
    uv_timer_start(&l->t, late_fire, 1000, 0);
}

static void slot_handler(struct web_req *r, void *ud)
{
    (void)ud;
    void **slot = web_req_session_slot(r);
    if (!*slot)
        *slot = calloc(1, sizeof(int));
    int *n = *slot;
    char s[16];
    snprintf(s, sizeof(s), "%d", ++*n);
    web_reply_text(r, 200, s);
}

static void slot_free(void *p)
{
    (void)p;
}

static struct fx *g_fx;
static void counting_free(void *p)
{
    g_fx->slots_freed++;
    free(p);
}

static void public_handler(struct web_req *r, void *ud)
{
    (void)ud;
    web_reply_text(r, 200, web_req_session(r) ? "session" : "anon");
}

static void path_handler(struct web_req *r, void *ud)
{
    (void)ud;
    web_reply_text(r, 200, web_req_path(r));
}

/* A streamed body of STREAM_LEN bytes (byte i = i % 251) that becomes
 * available 70000 bytes at a time, each step after a 2 ms timer: the
 * connection must sleep and wake between them. */
#define STREAM_LEN 300000u
static int g_stream_done;

struct prod {
    struct web_stream *s;
    uv_timer_t t;
    uint64_t avail;
};

static void prod_closed(uv_handle_t *h) { free(h->data); }

static void prod_more(uv_timer_t *t)
{
    struct prod *p = t->data;
    p->avail += 70000;
    web_stream_wake(p->s);
}

static long prod_read(void *ud, uint64_t pos, char *buf, size_t max)
{
    struct prod *p = ud;
    if (pos >= p->avail) {
        if (!uv_is_active((uv_handle_t *)&p->t))
            uv_timer_start(&p->t, prod_more, 2, 0);
        return 0;
    }
    size_t n = p->avail - pos < max ? (size_t)(p->avail - pos) : max;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)((pos + i) % 251);
    return (long)n;
}

static void prod_done(void *ud)
{
    struct prod *p = ud;
    g_stream_done++;
    uv_timer_stop(&p->t);
    uv_close((uv_handle_t *)&p->t, prod_closed);
}

static const struct web_stream_ops prod_ops = {prod_read, prod_done};

static void stream_handler(struct web_req *r, void *ud)
{
    struct fx *f = ud;
    struct prod *p = calloc(1, sizeof *p);
    uv_timer_init(&f->loop, &p->t);
    p->t.data = p;
    web_req_add_header(r, "X-Stream", "yes");
    assert_int_equal(web_reply_stream(r, 206, "video/mp4", STREAM_LEN, &prod_ops, p, &p->s), 0);
}

typedef void (*cfg_fn)(struct web_config *c);

static struct fx *fx_start(cfg_fn tweak)
{
    struct fx *f = calloc(1, sizeof(*f));
    uv_loop_init(&f->loop);
    uv_async_init(&f->loop, &f->async, on_async);
    struct web_config c;
    memset(&c, 0, sizeof(c));
    c.address = "127.0.0.1";
    c.port = 0;
    web_auth_config_defaults(&c.auth);
    c.auth.username = "admin";
    c.auth.password_hash = PW_HASH;
    if (tweak)
        tweak(&c);
    assert_int_equal(web_server_start(&f->loop, &c, &f->ws), 0);
    f->port = web_server_port(f->ws);
    assert_true(f->port > 0);
    g_fx = f;
    web_server_set_session_free(f->ws, counting_free);
    assert_int_equal(qbt_v2_auth_register(f->ws), 0);   /* login/logout are the qBittorrent adapter's */
    assert_int_equal(web_route_add(f->ws, "/api/v2/test/echo", WEB_GETPOST, echo_handler, f), 0);
    assert_int_equal(web_route_add(f->ws, "/api/v2/test/echo", WEB_GETPOST, echo_handler, f), -EEXIST);
    assert_int_equal(web_route_add(f->ws, "/api/v2/test/big", WEB_GETPOST, big_handler, f), 0);
    assert_int_equal(web_route_add(f->ws, "/api/v2/test/late", WEB_GETPOST, late_handler, f), 0);
    assert_int_equal(web_route_add(f->ws, "/api/v2/test/later", WEB_GETPOST, later_handler, f), 0);
    assert_int_equal(web_route_add(f->ws, "/api/v2/test/slot", WEB_GETPOST, slot_handler, f), 0);
    assert_int_equal(web_route_add(f->ws, "/api/v2/test/postonly", WEB_POST, echo_handler, f), 0);
    assert_int_equal(web_route_add_public(f->ws, "/api/health", WEB_GET, public_handler, f), 0);
    assert_int_equal(web_route_add_public(f->ws, "/seg/*", WEB_GET, path_handler, f), 0);
    assert_int_equal(web_route_add_public(f->ws, "/seg/exact", WEB_GET, public_handler, f), 0);
    assert_int_equal(web_route_add_public(f->ws, "/tree/**", WEB_GET, path_handler, f), 0);
    assert_int_equal(web_route_add_public(f->ws, "/stream", WEB_GET, stream_handler, f), 0);
    assert_int_equal(web_route_add_public(f->ws, "/tree/one/*", WEB_GET, public_handler, f), 0);
    return f;
}

static void fx_stop(struct fx *f)
{
    web_server_stop(f->ws);
    uv_close((uv_handle_t *)&f->async, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    (void)slot_free;
}

/* Logs in; writes "SID=..." into cookie. */
static void login(struct fx *f, char *cookie, size_t len)
{
    struct call k = {.f = f, .method = "POST", .path = "/api/v2/auth/login",
                     .body = "username=admin&password=adminadmin"};
    assert_int_equal(run(&k), 200);
    assert_string_equal(body(&k), "Ok.");
    char sc[256];
    assert_non_null(hdr(&k, "Set-Cookie", sc, sizeof(sc)));
    snprintf(cookie, len, "%.36s", sc);   /* "SID=" + 32 */
    call_free(&k);
}

/* ---- tests ---- */

static void login_and_cookie(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    struct call k = {.f = f, .method = "POST", .path = "/api/v2/auth/login",
                     .body = "username=admin&password=adminadmin"};
    assert_int_equal(run(&k), 200);
    assert_string_equal(body(&k), "Ok.");
    char v[256], ct[128];
    assert_non_null(hdr(&k, "Set-Cookie", v, sizeof(v)));
    /* SID=<32 base64 chars>; HttpOnly; SameSite=Strict; path=/ */
    assert_int_equal(strlen(v), 4 + 32 + strlen("; HttpOnly; SameSite=Strict; path=/"));
    assert_memory_equal(v, "SID=", 4);
    assert_string_equal(v + 36, "; HttpOnly; SameSite=Strict; path=/");
    for (int i = 4; i < 36; i++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", v[i]));
    assert_string_equal(hdr(&k, "Content-Type", ct, sizeof(ct)), "text/plain; charset=UTF-8");
    char cookie[64];
    snprintf(cookie, sizeof(cookie), "%.36s", v);
    call_free(&k);

    /* Already logged in: Ok. without a new cookie. */
    struct call k2 = {.f = f, .method = "POST", .path = "/api/v2/auth/login",
                      .body = "username=x&password=y", .cookie = cookie};
    assert_int_equal(run(&k2), 200);
    assert_string_equal(body(&k2), "Ok.");
    assert_null(hdr(&k2, "Set-Cookie", v, sizeof(v)));
    call_free(&k2);

    /* A second login gets a different SID. */
    char c2[64];
    login(f, c2, sizeof(c2));
    assert_string_not_equal(cookie, c2);

    /* Identity endpoints, GET and POST. */
    struct call a = {.f = f, .path = "/api/v2/app/version", .cookie = cookie};
    assert_int_equal(run(&a), 200);
    assert_string_equal(body(&a), "v5.1.4");
    assert_string_equal(hdr(&a, "Content-Type", ct, sizeof(ct)), "text/plain; charset=UTF-8");
    assert_string_equal(hdr(&a, "X-Frame-Options", v, sizeof(v)), "SAMEORIGIN");
    assert_string_equal(hdr(&a, "X-XSS-Protection", v, sizeof(v)), "1; mode=block");
    assert_string_equal(hdr(&a, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
    assert_string_equal(hdr(&a, "Referrer-Policy", v, sizeof(v)), "same-origin");
    assert_string_equal(hdr(&a, "Cross-Origin-Opener-Policy", v, sizeof(v)), "same-origin");
    assert_string_equal(hdr(&a, "Content-Security-Policy", v, sizeof(v)),
                        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                        "script-src 'self' 'unsafe-inline'; object-src 'none'; form-action 'self'; "
                        "frame-src 'self' blob:; frame-ancestors 'self';");
    assert_non_null(hdr(&a, "Date", v, sizeof(v)));
    call_free(&a);
    struct call w = {.f = f, .method = "POST", .path = "/api/v2/app/webapiVersion", .cookie = cookie};
    assert_int_equal(run(&w), 200);
    assert_string_equal(body(&w), "2.11.4");
    call_free(&w);
    struct call b = {.f = f, .path = "/api/v2/app/buildInfo", .cookie = cookie};
    assert_int_equal(run(&b), 200);
    assert_string_equal(hdr(&b, "Content-Type", ct, sizeof(ct)), "application/json");
    assert_memory_equal(body(&b), "{\"bitness\":64,\"boost\":\"1.83.0\",\"libtorrent\":\"2.0.11.0\",\"openssl\":\"", 66);
    assert_non_null(strstr(body(&b), "\"platform\":\"linux\",\"qt\":\"6.7.3\",\"zlib\":\""));
    call_free(&b);
    fx_stop(f);
}

static void bad_login_and_ban(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    const char *bodies[] = {"username=admin&password=wrong", "username=Admin&password=adminadmin",
                            "username=admin", "", "password=adminadmin"};
    for (int i = 0; i < 5; i++) {
        struct call k = {.f = f, .method = "POST", .path = "/api/v2/auth/login", .body = bodies[i]};
        assert_int_equal(run(&k), 200);
        assert_string_equal(body(&k), "Fails.");
        char v[256];
        assert_null(hdr(&k, "Set-Cookie", v, sizeof(v)));
        call_free(&k);
    }
    /* Banned now, even with the right password. */
    struct call k = {.f = f, .method = "POST", .path = "/api/v2/auth/login",
                     .body = "username=admin&password=adminadmin"};
    assert_int_equal(run(&k), 403);
    assert_string_equal(body(&k), BAN_TEXT);
    call_free(&k);
    fx_stop(f);
}

static void short_ban(struct web_config *c)
{
    c->auth.max_auth_fail_count = 2;
    c->auth.ban_duration_s = 1;
}

static void ban_expires_and_success_clears(void **state)
{
    (void)state;
    struct fx *f = fx_start(short_ban);
    struct call k = {.f = f, .method = "POST", .path = "/api/v2/auth/login", .body = "username=admin&password=x"};
    assert_int_equal(run(&k), 200);
    call_free(&k);
    char cookie[64];
    login(f, cookie, sizeof(cookie));   /* clears the counter */
    for (int i = 0; i < 2; i++) {
        struct call w = {.f = f, .method = "POST", .path = "/api/v2/auth/login", .body = "username=admin&password=x"};
        assert_int_equal(run(&w), 200);
        assert_string_equal(body(&w), "Fails.");
        call_free(&w);
    }
    struct call b = {.f = f, .method = "POST", .path = "/api/v2/auth/login", .body = "username=admin&password=x"};
    assert_int_equal(run(&b), 403);
    call_free(&b);
    usleep(1100 * 1000);
    login(f, cookie, sizeof(cookie));
    fx_stop(f);
}

/* A route ending in a slash and a star takes exactly one more non-empty
 * segment (qBittorrent v1's /query/propertiesGeneral/<hash>); an exact
 * route of the same prefix wins. */
static void prefix_routes(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    struct call a = {.f = f, .path = "/seg/abc123"};
    assert_int_equal(run(&a), 200);
    assert_string_equal(body(&a), "/seg/abc123");
    call_free(&a);
    struct call e = {.f = f, .path = "/seg/exact"};
    assert_int_equal(run(&e), 200);
    assert_string_equal(body(&e), "anon");
    call_free(&e);
    const char *miss[] = {"/seg/", "/seg", "/seg/a/b", "/segx/a", "/seg/*x"};
    for (size_t i = 0; i < sizeof miss / sizeof miss[0]; i++) {
        struct call m = {.f = f, .path = miss[i]};
        int st = run(&m);
        if (i == 4) {   /* a literal star is just a segment */
            assert_int_equal(st, 200);
        } else {
            assert_int_equal(st, 404);
        }
        call_free(&m);
    }
    fx_stop(f);
}

/* A route ending in a slash and two stars takes any non-empty rest, folders
 * included (a web UI's files); one-segment routes win over it. */
static void tree_routes(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    const char *hit[] = {"/tree/a", "/tree/images/x.png", "/tree/a/b/c.js"};
    for (size_t i = 0; i < sizeof hit / sizeof hit[0]; i++) {
        struct call a = {.f = f, .path = hit[i]};
        assert_int_equal(run(&a), 200);
        assert_string_equal(body(&a), hit[i]);
        call_free(&a);
    }
    struct call e = {.f = f, .path = "/tree/one/z"};
    assert_int_equal(run(&e), 200);
    assert_string_equal(body(&e), "anon");
    call_free(&e);
    const char *miss[] = {"/tree/", "/tree", "/treex/a"};
    for (size_t i = 0; i < sizeof miss / sizeof miss[0]; i++) {
        struct call m = {.f = f, .path = miss[i]};
        assert_int_equal(run(&m), 404);
        call_free(&m);
    }
    fx_stop(f);
}

/* web_reply_stream: the body comes in steps, the connection sleeping in
 * between; status, Content-Length and extra headers as given; done runs
 * once per reply, also for HEAD (no body asked for). */
static void streamed_reply(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    g_stream_done = 0;
    struct call k = {.f = f, .path = "/stream"};
    assert_int_equal(run(&k), 206);
    assert_int_equal(k.r.body.len, STREAM_LEN);
    for (size_t i = 0; i < STREAM_LEN; i++)
        if (k.r.body.data[i] != (uint8_t)(i % 251))
            fail_msg("byte %zu", i);
    char v[64];
    assert_string_equal(hdr(&k, "Content-Length", v, sizeof v), "300000");
    assert_string_equal(hdr(&k, "Content-Type", v, sizeof v), "video/mp4");
    assert_string_equal(hdr(&k, "X-Stream", v, sizeof v), "yes");
    call_free(&k);
    struct call h = {.f = f, .path = "/stream", .method = "HEAD"};
    assert_int_equal(run(&h), 206);
    assert_string_equal(hdr(&h, "Content-Length", v, sizeof v), "300000");
    call_free(&h);
    fx_stop(f);
    assert_int_equal(g_stream_done, 2);
}

static void forbidden_and_logout(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    /* Sonarr's probe: 403 "Forbidden" without a cookie. */
    struct call k = {.f = f, .path = "/api/v2/app/webapiVersion"};
    assert_int_equal(run(&k), 403);
    assert_string_equal(body(&k), "Forbidden");
    char v[256];
    assert_string_equal(hdr(&k, "Content-Type", v, sizeof(v)), "text/plain; charset=UTF-8");
    call_free(&k);
    struct call bogus = {.f = f, .path = "/api/v2/app/version", .cookie = "SID=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    assert_int_equal(run(&bogus), 403);
    call_free(&bogus);
    struct call lo0 = {.f = f, .method = "POST", .path = "/api/v2/auth/logout"};
    assert_int_equal(run(&lo0), 403);
    call_free(&lo0);
    /* Public route: no session needed. */
    struct call pub = {.f = f, .path = "/api/health"};
    assert_int_equal(run(&pub), 200);
    assert_string_equal(body(&pub), "anon");
    call_free(&pub);

    char cookie[64];
    login(f, cookie, sizeof(cookie));
    struct call s1 = {.f = f, .path = "/api/v2/test/slot", .cookie = cookie};
    assert_int_equal(run(&s1), 200);
    assert_string_equal(body(&s1), "1");
    call_free(&s1);
    struct call s2 = {.f = f, .method = "POST", .path = "/api/v2/test/slot", .cookie = cookie};
    assert_int_equal(run(&s2), 200);
    assert_string_equal(body(&s2), "2");
    call_free(&s2);

    struct call lo = {.f = f, .method = "POST", .path = "/api/v2/auth/logout", .cookie = cookie};
    assert_int_equal(run(&lo), 200);
    assert_string_equal(body(&lo), "");
    assert_non_null(hdr(&lo, "Set-Cookie", v, sizeof(v)));
    assert_memory_equal(v, "SID=; expires=", 14);
    assert_non_null(strstr(v, " GMT; path=/"));
    call_free(&lo);
    assert_int_equal(f->slots_freed, 1);
    struct call after = {.f = f, .path = "/api/v2/app/version", .cookie = cookie};
    assert_int_equal(run(&after), 403);
    call_free(&after);
    fx_stop(f);
}

static void tiny_timeout(struct web_config *c)
{
    c->auth.session_timeout_s = 1;
}

static void session_timeout(void **state)
{
    (void)state;
    struct fx *f = fx_start(tiny_timeout);
    char cookie[64];
    login(f, cookie, sizeof(cookie));
    struct call k = {.f = f, .path = "/api/v2/app/version", .cookie = cookie};
    assert_int_equal(run(&k), 200);
    call_free(&k);
    usleep(600 * 1000);
    struct call k1 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie};
    assert_int_equal(run(&k1), 200);   /* use refreshes the idle timer */
    call_free(&k1);
    usleep(600 * 1000);
    struct call k2 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie};
    assert_int_equal(run(&k2), 200);
    call_free(&k2);
    usleep(1200 * 1000);
    struct call k3 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie};
    assert_int_equal(run(&k3), 403);
    call_free(&k3);
    fx_stop(f);
}

static void csrf_and_host(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    char cookie[64], origin[64], host[64], v[128];
    login(f, cookie, sizeof(cookie));
    struct call k = {.f = f, .path = "/api/v2/app/version", .cookie = cookie, .hdrs = {"Origin: http://evil.com"}};
    assert_int_equal(run(&k), 401);
    assert_string_equal(body(&k), "Unauthorized");
    assert_string_equal(hdr(&k, "Content-Type", v, sizeof(v)), "text/plain; charset=UTF-8");
    call_free(&k);
    /* Even login is refused cross-site. */
    struct call kl = {.f = f, .method = "POST", .path = "/api/v2/auth/login",
                      .body = "username=admin&password=adminadmin", .hdrs = {"Referer: http://evil.com:1/x"}};
    assert_int_equal(run(&kl), 401);
    call_free(&kl);
    snprintf(origin, sizeof(origin), "Origin: http://127.0.0.1:%d", f->port);
    struct call k2 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie, .hdrs = {origin}};
    assert_int_equal(run(&k2), 200);
    call_free(&k2);
    snprintf(origin, sizeof(origin), "Referer: http://127.0.0.1:%d/index.html", f->port);
    struct call k3 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie, .hdrs = {origin}};
    assert_int_equal(run(&k3), 200);
    call_free(&k3);
    /* Host validation: "*" domain list accepts any name, but not another port. */
    struct call k4 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie, .hdrs = {"Host: whatever.example"}};
    assert_int_equal(run(&k4), 200);
    call_free(&k4);
    snprintf(host, sizeof(host), "Host: 127.0.0.1:%d", f->port == 1 ? 2 : 1);
    struct call k5 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie, .hdrs = {host}};
    assert_int_equal(run(&k5), 401);
    assert_string_equal(body(&k5), "Unauthorized");
    call_free(&k5);

    struct web_auth_config a;
    web_auth_config_defaults(&a);
    a.password_hash = PW_HASH;
    a.domain_list = "*.example.com;qb.local";
    a.clickjacking_protection = false;
    a.use_custom_headers = true;
    a.custom_headers = "X-Custom: hello world\nno separator line\r\nAccess-Control-Allow-Origin: *";
    assert_int_equal(web_server_set_auth(f->ws, &a), 0);
    struct call k6 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie, .hdrs = {"Host: evil.org"}};
    assert_int_equal(run(&k6), 401);
    call_free(&k6);
    struct call k7 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie, .hdrs = {"Host: ui.EXAMPLE.com"}};
    assert_int_equal(run(&k7), 200);
    assert_null(hdr(&k7, "X-Frame-Options", v, sizeof(v)));
    assert_string_equal(hdr(&k7, "x-custom", v, sizeof(v)), "hello world");
    assert_string_equal(hdr(&k7, "access-control-allow-origin", v, sizeof(v)), "*");
    call_free(&k7);
    /* The local address itself is always a valid host. */
    snprintf(host, sizeof(host), "Host: 127.0.0.1:%d", f->port);
    struct call k8 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie, .hdrs = {host}};
    assert_int_equal(run(&k8), 200);
    call_free(&k8);
    fx_stop(f);
}

static void framing(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    char cookie[64], v[128];
    login(f, cookie, sizeof(cookie));
    struct call k = {.f = f, .path = "/api/v2/auth/login"};
    assert_int_equal(run(&k), 405);
    assert_string_equal(body(&k), "Method Not Allowed");
    call_free(&k);
    struct call k1 = {.f = f, .path = "/api/v2/test/postonly", .cookie = cookie};
    assert_int_equal(run(&k1), 405);
    call_free(&k1);
    struct call k1h = {.f = f, .method = "HEAD", .path = "/api/v2/test/postonly", .cookie = cookie};
    assert_int_equal(run(&k1h), 405);
    call_free(&k1h);
    struct call k2 = {.f = f, .path = "/api/v2/app/nonexistent", .cookie = cookie};
    assert_int_equal(run(&k2), 404);
    assert_string_equal(body(&k2), "Not Found");
    call_free(&k2);
    struct call k3 = {.f = f, .method = "POST", .path = "/api/v2/nosuchscope/x", .cookie = cookie};
    assert_int_equal(run(&k3), 404);
    call_free(&k3);
    struct call k4 = {.f = f, .path = "/api/v2/app/nonexistent"};
    assert_int_equal(run(&k4), 403);
    call_free(&k4);
    struct call k5 = {.f = f, .method = "PUT", .path = "/api/v2/app/version", .cookie = cookie};
    assert_int_equal(run(&k5), 501);
    assert_string_equal(hdr(&k5, "Connection", v, sizeof(v)), "close");
    call_free(&k5);
    struct call k6 = {.f = f, .method = "DELETE", .path = "/"};
    assert_int_equal(run(&k6), 501);
    call_free(&k6);
    /* HEAD = GET without body, Content-Length kept. */
    struct call k7 = {.f = f, .method = "HEAD", .path = "/api/v2/app/version", .cookie = cookie};
    assert_int_equal(run(&k7), 200);
    assert_string_equal(body(&k7), "");
    assert_string_equal(hdr(&k7, "Content-Length", v, sizeof(v)), "6");
    call_free(&k7);
    /* No static root configured: 404; traversal: 400. */
    struct call k8 = {.f = f, .path = "/index.html"};
    assert_int_equal(run(&k8), 404);
    call_free(&k8);
    struct call k9 = {.f = f, .path = "/a/../../etc/passwd"};
    assert_int_equal(run(&k9), 400);
    call_free(&k9);
    fx_stop(f);
}

/* Small replies are prepared once and shared (server.c reply cache): a
 * shared reply must never carry one request's own headers (Set-Cookie), and
 * each request keeps its own status. */
static void shared_replies(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    char cookie[64], v[256];
    login(f, cookie, sizeof(cookie));
    for (int i = 0; i < 3; i++) {
        struct call k = {.f = f, .path = "/api/v2/app/version", .cookie = cookie};
        assert_int_equal(run(&k), 200);
        assert_string_equal(body(&k), "v5.1.4");
        assert_null(hdr(&k, "Set-Cookie", v, sizeof(v)));
        assert_string_equal(hdr(&k, "X-Frame-Options", v, sizeof(v)), "SAMEORIGIN");
        assert_string_equal(hdr(&k, "Content-Type", v, sizeof(v)), "text/plain; charset=UTF-8");
        call_free(&k);
    }
    /* A second login gets its own cookie although its body is the cached "Ok.". */
    char cookie2[64];
    login(f, cookie2, sizeof(cookie2));
    assert_string_not_equal(cookie, cookie2);
    /* Cached error replies keep their own status and body. */
    struct call a = {.f = f, .path = "/api/v2/app/nonexistent", .cookie = cookie};
    assert_int_equal(run(&a), 404);
    assert_string_equal(body(&a), "Not Found");
    call_free(&a);
    struct call b = {.f = f, .path = "/api/v2/app/nonexistent"};
    assert_int_equal(run(&b), 403);
    assert_string_equal(body(&b), "Forbidden");
    call_free(&b);
    struct call c = {.f = f, .path = "/api/v2/app/nonexistent2", .cookie = cookie};
    assert_int_equal(run(&c), 404);
    assert_string_equal(body(&c), "Not Found");
    call_free(&c);
    fx_stop(f);
}

static void small_body(struct web_config *c)
{
    c->max_body = 1024 * 1024;
}

static void body_limit(void **state)
{
    (void)state;
    struct fx *f = fx_start(small_body);
    char cookie[64];
    login(f, cookie, sizeof(cookie));
    size_t n = 2 * 1024 * 1024;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[0] = 'a', big[1] = '=';
    big[n] = 0;
    struct call k = {.f = f, .method = "POST", .path = "/api/v2/test/echo", .cookie = cookie, .body = big};
    assert_int_equal(run(&k), 413);
    call_free(&k);
    /* Chunked: no Content-Length up front. */
    struct call k2 = {.f = f, .method = "POST", .path = "/api/v2/test/echo", .cookie = cookie, .body = big,
                      .hdrs = {"Transfer-Encoding: chunked", "Expect:"}};
    assert_int_equal(run(&k2), 413);
    call_free(&k2);
    /* Just under the limit works. */
    struct call k3 = {.f = f, .method = "POST", .path = "/api/v2/test/echo", .cookie = cookie, .body = big,
                      .body_len = 1000 * 1000};
    assert_int_equal(run(&k3), 200);
    call_free(&k3);
    free(big);
    fx_stop(f);
}

static void gzip(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    char cookie[64], v[128];
    login(f, cookie, sizeof(cookie));
    struct call k = {.f = f, .path = "/api/v2/test/big", .cookie = cookie, .gzip = true};
    assert_int_equal(run(&k), 200);
    assert_string_equal(hdr(&k, "Content-Encoding", v, sizeof(v)), "gzip");
    assert_string_equal(hdr(&k, "X-Test", v, sizeof(v)), "yes");
    assert_int_equal(k.r.body.len, 5000);   /* curl decoded it */
    assert_memory_equal(body(&k), "abcdefghijabc", 13);
    call_free(&k);
    struct call k2 = {.f = f, .path = "/api/v2/test/big", .cookie = cookie,
                      .hdrs = {"Accept-Encoding: deflate, gzip;q=0"}};
    assert_int_equal(run(&k2), 200);
    assert_null(hdr(&k2, "Content-Encoding", v, sizeof(v)));
    assert_int_equal(k2.r.body.len, 5000);
    call_free(&k2);
    struct call k3 = {.f = f, .path = "/api/v2/test/big", .cookie = cookie, .hdrs = {"Accept-Encoding: *"}};
    assert_int_equal(run(&k3), 200);
    assert_string_equal(hdr(&k3, "Content-Encoding", v, sizeof(v)), "gzip");
    assert_true(k3.r.body.len < 200);
    call_free(&k3);
    /* Small bodies are never compressed. */
    struct call k4 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie, .gzip = true};
    assert_int_equal(run(&k4), 200);
    assert_null(hdr(&k4, "Content-Encoding", v, sizeof(v)));
    call_free(&k4);
    fx_stop(f);
}

static void mime_setup(CURL *c, struct curl_slist **h, void *ud, curl_mime **mime)
{
    (void)h, (void)ud;
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "a");
    curl_mime_data(p, "multi a", CURL_ZERO_TERMINATED);
    p = curl_mime_addpart(m);
    curl_mime_name(p, "b");
    curl_mime_data(p, "x+y%20z", CURL_ZERO_TERMINATED);   /* multipart values are not form-decoded */
    p = curl_mime_addpart(m);
    curl_mime_name(p, "torrents");
    curl_mime_filename(p, "one.torrent");
    curl_mime_data(p, "d4:spam\0\0bin", 12);
    p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_filename(p, "two.torrent");
    curl_mime_data(p, "first", CURL_ZERO_TERMINATED);
    p = curl_mime_addpart(m);
    curl_mime_name(p, "torrents");
    curl_mime_filename(p, "two.torrent");
    curl_mime_data(p, "second", CURL_ZERO_TERMINATED);
    p = curl_mime_addpart(m);
    curl_mime_name(p, "a");
    curl_mime_data(p, "multi a2", CURL_ZERO_TERMINATED);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, m);
    *mime = m;
}

static void params(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    char cookie[64];
    login(f, cookie, sizeof(cookie));
    /* GET: query string, decoded, last duplicate wins. */
    struct call k = {.f = f, .path = "/api/v2/test/echo?a=1&b=x+y%21&a=2&empty=&flag=TRUE&uni=%C3%A9",
                     .cookie = cookie};
    assert_int_equal(run(&k), 200);
    json_t *j = json_loads(body(&k), 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "a")), "2");
    assert_string_equal(json_string_value(json_object_get(j, "b")), "x y!");
    assert_string_equal(json_string_value(json_object_get(j, "empty")), "");
    assert_string_equal(json_string_value(json_object_get(j, "uni")), "\xc3\xa9");
    assert_int_equal(json_integer_value(json_object_get(j, "flag")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "method")), WEB_GET);
    assert_string_equal(json_string_value(json_object_get(j, "ip")), "127.0.0.1");
    assert_null(json_object_get(j, "body"));
    json_decref(j);
    call_free(&k);

    /* POST: body only, query ignored; bools other than true/false = default. */
    struct call p = {.f = f, .method = "POST", .path = "/api/v2/test/echo?c=fromquery", .cookie = cookie,
                     .body = "a=1&b=x+y%21%26z&a=3&flag=1&empty=&q"};
    assert_int_equal(run(&p), 200);
    j = json_loads(body(&p), 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "a")), "3");
    assert_string_equal(json_string_value(json_object_get(j, "b")), "x y!&z");
    assert_null(json_object_get(j, "c"));
    assert_string_equal(json_string_value(json_object_get(j, "empty")), "");
    assert_int_equal(json_integer_value(json_object_get(j, "flag")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "files")), 0);
    json_decref(j);
    call_free(&p);

    /* multipart: fields and files (any field name; same filename collapses). */
    struct call m = {.f = f, .method = "POST", .path = "/api/v2/test/echo", .cookie = cookie, .setup = mime_setup};
    assert_int_equal(run(&m), 200);
    j = json_loads(body(&m), JSON_ALLOW_NUL, NULL);
    if (!j)
        fprintf(stderr, "multipart echo: %s\n", body(&m));
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "a")), "multi a2");
    assert_string_equal(json_string_value(json_object_get(j, "b")), "x+y%20z");
    json_t *files = json_object_get(j, "files");
    assert_int_equal(json_array_size(files), 2);
    json_t *f0 = json_array_get(files, 0), *f1 = json_array_get(files, 1);
    assert_string_equal(json_string_value(json_object_get(f0, "filename")), "one.torrent");
    assert_string_equal(json_string_value(json_object_get(f0, "field")), "torrents");
    assert_int_equal(json_integer_value(json_object_get(f0, "len")), 12);
    assert_memory_equal(json_string_value(json_object_get(f0, "data")), "d4:spam\0\0bin", 12);
    assert_string_equal(json_string_value(json_object_get(f1, "filename")), "two.torrent");
    assert_string_equal(json_string_value(json_object_get(f1, "data")), "second");
    json_decref(j);
    call_free(&m);

    /* Other content types: raw body. */
    struct call r = {.f = f, .method = "POST", .path = "/api/v2/test/echo", .cookie = cookie,
                     .body = "{\"x\":[1,2]}", .hdrs = {"Content-Type: application/json"}};
    assert_int_equal(run(&r), 200);
    j = json_loads(body(&r), 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"x\":[1,2]}");
    assert_null(json_object_get(j, "a"));
    json_decref(j);
    call_free(&r);
    fx_stop(f);
}

/* A multipart body may end with an epilogue after its close delimiter
 * (RFC 2046 §5.1.1; npm's form-data-encoder sends two CRLFs): ignored, the
 * form is read; quoted boundaries too. */
static void multipart_epilogue(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    char cookie[64];
    login(f, cookie, sizeof(cookie));
    static const char part[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue a\r\n"
                               "--XyZ\r\nContent-Disposition: form-data; name=\"torrent_file\"; "
                               "filename=\"file.torrent\"\r\nContent-Type: application/x-bittorrent\r\n\r\n"
                               "d4:spame\r\n--XyZ--";
    const char *tails[] = {"", "\r\n", "\r\n\r\n", "\r\nan epilogue, --XyZ-- and all\r\n"};
    const char *ctypes[] = {"Content-Type: multipart/form-data; boundary=XyZ",
                            "Content-Type: multipart/form-data; boundary=\"XyZ\""};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        for (size_t c = 0; c < 2; c++) {
            char b[512];
            snprintf(b, sizeof b, "%s%s", part, tails[i]);
            struct call m = {.f = f, .method = "POST", .path = "/api/v2/test/echo", .cookie = cookie,
                             .body = b, .hdrs = {ctypes[c]}};
            assert_int_equal(run(&m), 200);
            json_t *j = json_loads(body(&m), 0, NULL);
            assert_non_null(j);
            assert_string_equal(json_string_value(json_object_get(j, "a")), "value a");
            json_t *files = json_object_get(j, "files");
            assert_int_equal(json_array_size(files), 1);
            assert_string_equal(json_string_value(json_object_get(json_array_get(files, 0), "data")), "d4:spame");
            json_decref(j);
            call_free(&m);
        }
    }
    fx_stop(f);
}

static void deferred(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    char cookie[64];
    login(f, cookie, sizeof(cookie));
    for (int i = 0; i < 3; i++) {
        struct call k = {.f = f, .path = "/api/v2/test/late", .cookie = cookie};
        assert_int_equal(run(&k), 202);
        assert_string_equal(body(&k), "late");
        call_free(&k);
    }
    /* The connection keeps working after a resume (keep-alive). */
    struct call k2 = {.f = f, .path = "/api/v2/app/version", .cookie = cookie};
    assert_int_equal(run(&k2), 200);
    call_free(&k2);
    fx_stop(f);
}

static void bypass_local(struct web_config *c)
{
    c->auth.bypass_local_auth = true;
}

static void bypass_subnet(struct web_config *c)
{
    c->auth.bypass_auth_subnet_whitelist_enabled = true;
    c->auth.bypass_auth_subnet_whitelist = "10.0.0.0/8\n127.0.0.0/24";
}

static void bypass(void **state)
{
    (void)state;
    cfg_fn fns[] = {bypass_local, bypass_subnet};
    for (int i = 0; i < 2; i++) {
        struct fx *f = fx_start(fns[i]);
        struct call k = {.f = f, .path = "/api/v2/app/version"};
        assert_int_equal(run(&k), 200);
        assert_string_equal(body(&k), "v5.1.4");
        char v[256], cookie[64];
        assert_non_null(hdr(&k, "Set-Cookie", v, sizeof(v)));
        snprintf(cookie, sizeof(cookie), "%.36s", v);
        call_free(&k);
        /* The silently created session is reused with its cookie. */
        struct call k2 = {.f = f, .path = "/api/v2/test/slot", .cookie = cookie};
        assert_int_equal(run(&k2), 200);
        assert_null(hdr(&k2, "Set-Cookie", v, sizeof(v)));
        call_free(&k2);
        struct call k3 = {.f = f, .method = "POST", .path = "/api/v2/auth/login", .body = "username=x&password=y"};
        assert_int_equal(run(&k3), 200);
        assert_string_equal(body(&k3), "Ok.");
        call_free(&k3);
        fx_stop(f);
    }
    /* A whitelist that does not contain the client: 403 as usual. */
    struct fx *f = fx_start(bypass_subnet);
    struct web_auth_config a;
    web_auth_config_defaults(&a);
    a.bypass_auth_subnet_whitelist_enabled = true;
    a.bypass_auth_subnet_whitelist = "10.0.0.0/8, ::1";
    assert_int_equal(web_server_set_auth(f->ws, &a), 0);
    struct call k = {.f = f, .path = "/api/v2/app/version"};
    assert_int_equal(run(&k), 403);
    call_free(&k);
    fx_stop(f);
}

static struct fx *g_static;
static char g_root[64];

static void with_static(struct web_config *c)
{
    c->static_root = g_root;
}

static void write_file(const char *dir, const char *rel, const char *data)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(data, fp);
    fclose(fp);
}

static void static_files(void **state)
{
    (void)state;
    snprintf(g_root, sizeof(g_root), "/tmp/td_web_XXXXXX");
    assert_non_null(mkdtemp(g_root));
    char d[128];
    snprintf(d, sizeof(d), "%s/public", g_root);
    mkdir(d, 0700);
    snprintf(d, sizeof(d), "%s/private", g_root);
    mkdir(d, 0700);
    write_file(g_root, "public/index.html", "<html>login</html>");
    write_file(g_root, "private/index.html", "<html>app</html>");
    write_file(g_root, "public/app.js", "var x = 1;");
    write_file(g_root, "secret.txt", "outside");
    snprintf(d, sizeof(d), "%s/secret.txt", g_root);
    char l[128];
    snprintf(l, sizeof(l), "%s/public/link.txt", g_root);
    assert_int_equal(symlink(d, l), 0);

    struct fx *f = g_static = fx_start(with_static);
    char v[128], cookie[64];
    struct call k = {.f = f, .path = "/"};
    assert_int_equal(run(&k), 200);
    assert_string_equal(body(&k), "<html>login</html>");
    assert_string_equal(hdr(&k, "Content-Type", v, sizeof(v)), "text/html");
    assert_string_equal(hdr(&k, "Cache-Control", v, sizeof(v)), "no-store");
    call_free(&k);
    struct call k2 = {.f = f, .path = "/app.js"};
    assert_int_equal(run(&k2), 200);
    assert_string_equal(hdr(&k2, "Cache-Control", v, sizeof(v)), "private, max-age=43200");
    call_free(&k2);
    const char *bad[] = {"/../secret.txt", "/./index.html", "/a\\b", "/%2e%2e/secret.txt"};
    for (size_t i = 0; i < 4; i++) {
        struct call b = {.f = f, .path = bad[i]};
        assert_int_equal(run(&b), 400);
        assert_string_equal(body(&b), "Bad Request");
        call_free(&b);
    }
    const char *missing[] = {"/nope.html", "/link.txt", "/public/index.html", "/private"};
    for (size_t i = 0; i < 4; i++) {
        struct call b = {.f = f, .path = missing[i]};
        run(&b);
        if (b.r.status != 404)
            fprintf(stderr, "%s: %ld\n", missing[i], b.r.status);
        assert_int_equal(b.r.status, 404);
        call_free(&b);
    }
    login(f, cookie, sizeof(cookie));
    struct call k3 = {.f = f, .path = "/", .cookie = cookie};
    assert_int_equal(run(&k3), 200);
    assert_string_equal(body(&k3), "<html>app</html>");
    call_free(&k3);
    struct call k4 = {.f = f, .path = "/app.js", .cookie = cookie};   /* private falls back to public */
    assert_int_equal(run(&k4), 200);
    assert_string_equal(body(&k4), "var x = 1;");
    call_free(&k4);
    fx_stop(f);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_root);
    assert_int_equal(system(cmd), 0);
}

/* The built-in UI is compiled in (web/ui_files.h): served without a static
 * root, every file with its type and an ETag, 304 when the browser has it,
 * gzip when asked, "no-cache" so a module is never run stale. */
static void builtin_ui(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    assert_int_equal(web_server_use_builtin_ui(f->ws), 0);
    char v[128], etag[64];
    struct call k = {.f = f, .path = "/"};
    assert_int_equal(run(&k), 200);
    assert_true(strncmp(body(&k), "<!DOCTYPE html>", 15) == 0);
    assert_string_equal(hdr(&k, "Content-Type", v, sizeof(v)), "text/html");
    assert_string_equal(hdr(&k, "Cache-Control", v, sizeof(v)), "no-cache");
    assert_non_null(hdr(&k, "ETag", etag, sizeof(etag)));
    assert_true(etag[0] == '"' && strlen(etag) == 18);
    call_free(&k);

    char inm[96];
    snprintf(inm, sizeof(inm), "If-None-Match: W/\"x\", %s", etag);
    struct call k2 = {.f = f, .path = "/index.html", .hdrs = {inm}};
    assert_int_equal(run(&k2), 304);
    assert_int_equal(k2.r.body.len, 0);
    call_free(&k2);
    struct call k3 = {.f = f, .path = "/", .hdrs = {"If-None-Match: \"0000000000000000\""}};
    assert_int_equal(run(&k3), 200);
    call_free(&k3);

    size_t js = 0;
    for (size_t i = 0; i < web_ui_files_count; i++) {
        char path[256];
        snprintf(path, sizeof(path), "/%s", web_ui_files[i].name);
        struct call c = {.f = f, .path = path, .gzip = true};
        assert_int_equal(run(&c), 200);
        assert_int_equal(c.r.body.len, web_ui_files[i].len);
        assert_memory_equal(c.r.body.data, web_ui_files[i].data, web_ui_files[i].len);
        assert_string_equal(hdr(&c, "ETag", v, sizeof(v)), web_ui_files[i].etag);
        if (strstr(path, ".js")) {
            js++;
            assert_string_equal(hdr(&c, "Content-Type", v, sizeof(v)), "text/javascript");
        }
        if (web_ui_files[i].len > 1024)
            assert_string_equal(hdr(&c, "Content-Encoding", v, sizeof(v)), "gzip");
        call_free(&c);
    }
    assert_true(js >= 5);   /* api.js, main.js, ...: the modules are there */
    const char *missing[] = {"/nope.html", "/js/", "/js", "/public/index.html"};
    for (size_t i = 0; i < 4; i++) {
        struct call b = {.f = f, .path = missing[i]};
        assert_int_equal(run(&b), 404);
        call_free(&b);
    }
    struct call b = {.f = f, .path = "/../index.html"};
    assert_int_equal(run(&b), 400);
    call_free(&b);
    fx_stop(f);
}

static void stop_with_pending(void **state)
{
    (void)state;
    /* Stopping while a deferred reply is outstanding must not leak or crash:
     * the timer replies after the stop and the reply is dropped. */
    struct fx *f = fx_start(bypass_local);
    struct call k = {.f = f, .path = "/api/v2/test/later"};
    uv_thread_t t;
    memset(&k.r, 0, sizeof(k.r));
    uv_thread_create(&t, call_thread, &k);
    /* Let the request reach the handler, then stop. */
    for (int i = 0; i < 200; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    web_server_stop(f->ws);
    uv_run(&f->loop, UV_RUN_DEFAULT);   /* until the timer has replied and all is closed */
    uv_thread_join(&t);
    uv_close((uv_handle_t *)&f->async, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    assert_true(k.r.status != 202);
    call_free(&k);
    free(f);
}

int main(void)
{
    log_set_quiet(1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(login_and_cookie), cmocka_unit_test(bad_login_and_ban),
        cmocka_unit_test(ban_expires_and_success_clears), cmocka_unit_test(forbidden_and_logout),
        cmocka_unit_test(prefix_routes),    cmocka_unit_test(tree_routes),
        cmocka_unit_test(streamed_reply),
        cmocka_unit_test(session_timeout),  cmocka_unit_test(csrf_and_host),
        cmocka_unit_test(framing),          cmocka_unit_test(shared_replies),
        cmocka_unit_test(body_limit),
        cmocka_unit_test(gzip),             cmocka_unit_test(params),
        cmocka_unit_test(multipart_epilogue),
        cmocka_unit_test(deferred),         cmocka_unit_test(bypass),
        cmocka_unit_test(static_files),
        cmocka_unit_test(builtin_ui),     cmocka_unit_test(stop_with_pending),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    log_shutdown();
    return rc;
}
