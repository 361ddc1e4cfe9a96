/* web/router's dialect frame end to end: one server on 127.0.0.1 with a
 * public route, a qBittorrent-session route, an HTTP Basic route and an
 * API-token route; each accepts its credentials and refuses missing or
 * wrong ones with its status, body and headers, and the failures of every
 * kind count toward the one per-address ban.  Driven by libcurl on a
 * second thread while the test's loop serves (as test_web.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <uv.h>

#include "util/buf.h"
#include "util/log.h"
#include "web/api/qbt_v2.h"
#include "web/server.h"

/* anchorlib.py's qbt_password_hash("adminadmin") with a fixed salt. */
static const char PW_HASH[] =
    "@ByteArray(AAECAwQFBgcICQoLDA0ODw==:UC4grCR8uxnR4Gzyoule02IP9X8mRb7SaEfCylvs19kyzc76Vdb/"
    "0xQlSKu43sz2Dl4vz2SIZymUO3PvTxIfVQ==)";
static const char BAN_TEXT[] = "Your IP address has been banned after too many failed authentication attempts.";
static const char BASIC_OK[] = "Authorization: Basic YWRtaW46YWRtaW5hZG1pbg==";    /* admin:adminadmin */
static const char BASIC_BAD[] = "Authorization: Basic YWRtaW46d3Jvbmc=";          /* admin:wrong */
static const char TOKEN_401[] = "{\"error\":\"unauthorized\"}";

struct fx {
    uv_loop_t loop;
    uv_async_t async;
    struct web_server *ws;
    int port;
    int dialect_a, dialect_b;
    int freed_a, freed_b;
};

struct call {
    struct fx *f;
    const char *method;          /* NULL = GET */
    const char *path;
    const char *body;
    const char *hdrs[4];
    const char *cookie;
    long status;
    struct buf rbody, rhdrs;
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
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &k->rbody);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &k->rhdrs);
    struct curl_slist *h = NULL;
    for (int i = 0; i < 4 && k->hdrs[i]; i++)
        h = curl_slist_append(h, k->hdrs[i]);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (k->cookie)
        curl_easy_setopt(c, CURLOPT_COOKIE, k->cookie);
    if (k->method && strcmp(k->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, k->body ? k->body : "");
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &k->status);
    else
        k->status = -1;
    buf_append_u8(&k->rbody, 0);
    k->rbody.len--;
    buf_append_u8(&k->rhdrs, 0);
    k->rhdrs.len--;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    uv_async_send(&k->f->async);
}

static void on_async(uv_async_t *a)
{
    uv_stop(a->loop);
}

static long run(struct call *k)
{
    uv_thread_t t;
    k->status = 0;
    memset(&k->rbody, 0, sizeof k->rbody);
    memset(&k->rhdrs, 0, sizeof k->rhdrs);
    uv_thread_create(&t, call_thread, k);
    uv_run(&k->f->loop, UV_RUN_DEFAULT);
    uv_thread_join(&t);
    return k->status;
}

static const char *body(struct call *k)
{
    return k->rbody.data ? (const char *)k->rbody.data : "";
}

static const char *hdr(struct call *k, const char *name, char *out, size_t outlen)
{
    const char *p = (const char *)k->rhdrs.data;
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

static void call_free(struct call *k)
{
    buf_free(&k->rbody);
    buf_free(&k->rhdrs);
}

/* One request; asserts status and (if non-NULL) body; frees it. */
static void expect(struct call k, long status, const char *want_body)
{
    assert_int_equal(run(&k), status);
    if (want_body)
        assert_string_equal(body(&k), want_body);
    call_free(&k);
}

/* ---- routes ---- */

static void h_name(struct web_req *r, void *ud)
{
    (void)ud;
    web_reply_text(r, 200, web_req_path(r));
}

/* The raw query and whether the caller is the Basic guest. */
static void h_query(struct web_req *r, void *ud)
{
    (void)ud;
    char out[512];
    snprintf(out, sizeof out, "%s|%s", web_req_query(r), web_req_is_guest(r) ? "guest" : "account");
    web_reply_text(r, 200, out);
}

/* The dialect's µTorrent-style token: the query must carry token=t0k. */
static bool token_ok(struct web_req *r, void *ud)
{
    (void)ud;
    const char *t = web_req_param(r, "token");
    return t && strcmp(t, "t0k") == 0;
}

/* Counts per dialect in the session: the two dialects keep apart. */
static void h_slot(struct web_req *r, void *ud)
{
    struct fx *f = ud;
    const char *which = web_req_param(r, "d");
    int id = which && strcmp(which, "b") == 0 ? f->dialect_b : f->dialect_a;
    void **slot = web_req_dialect_slot(r, id);
    if (!slot) {
        web_reply_text(r, 200, "none");
        return;
    }
    if (!*slot)
        *slot = calloc(1, sizeof(int));
    int *n = *slot;
    char s[16];
    snprintf(s, sizeof s, "%d", ++*n);
    web_reply_text(r, 200, s);
}

static struct fx *g_fx;
static void free_a(void *p)
{
    g_fx->freed_a++;
    free(p);
}
static void free_b(void *p)
{
    g_fx->freed_b++;
    free(p);
}


typedef void (*cfg_fn)(struct web_config *c);

static struct fx *fx_start(cfg_fn tweak)
{
    struct fx *f = calloc(1, sizeof(*f));
    g_fx = f;
    uv_loop_init(&f->loop);
    uv_async_init(&f->loop, &f->async, on_async);
    struct web_config c;
    memset(&c, 0, sizeof(c));
    c.address = "127.0.0.1";
    web_auth_config_defaults(&c.auth);
    c.auth.username = "admin";
    c.auth.password_hash = PW_HASH;
    if (tweak)
        tweak(&c);
    assert_int_equal(web_server_start(&f->loop, &c, &f->ws), 0);
    f->port = web_server_port(f->ws);
    assert_int_equal(qbt_v2_auth_register(f->ws), 0);
    static const struct web_route_def routes[] = {
        {"/frame/public", WEB_GET, h_name, WEB_AUTH_PUBLIC, NULL},
        {"/frame/session", WEB_GETPOST, h_name, WEB_AUTH_QBT_SESSION, NULL},
        {"/frame/basic", WEB_GETPOST, h_name, WEB_AUTH_BASIC_TOKEN, NULL},
        {"/frame/basic_token", WEB_GET, h_name, WEB_AUTH_BASIC_TOKEN, token_ok},
        {"/frame/token", WEB_GETPOST, h_name, WEB_AUTH_API_TOKEN, NULL},
        {"/frame/slot", WEB_GET, h_slot, WEB_AUTH_QBT_SESSION, NULL},
        {"/frame/query", WEB_GETPOST, h_query, WEB_AUTH_BASIC_TOKEN, NULL},
    };
    assert_int_equal(web_routes_add(f->ws, routes, sizeof routes / sizeof routes[0], f), 0);
    f->dialect_a = web_dialect_register(f->ws, "a", free_a);
    f->dialect_b = web_dialect_register(f->ws, "b", free_b);
    assert_true(f->dialect_a > 0 && f->dialect_b > 0 && f->dialect_a != f->dialect_b);
    return f;
}

static void fx_stop(struct fx *f)
{
    web_server_stop(f->ws);
    uv_close((uv_handle_t *)&f->async, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
}

static void login(struct fx *f, char *cookie, size_t len)
{
    struct call k = {.f = f, .method = "POST", .path = "/api/v2/auth/login",
                     .body = "username=admin&password=adminadmin"};
    assert_int_equal(run(&k), 200);
    assert_string_equal(body(&k), "Ok.");
    char sc[256];
    assert_non_null(hdr(&k, "Set-Cookie", sc, sizeof sc));
    snprintf(cookie, len, "%.36s", sc);
    call_free(&k);
}

/* ---- tests ---- */

static void tables(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    /* All or nothing: a taken path adds none of the table. */
    const struct web_route_def clash[] = {
        {"/frame/new", WEB_GET, h_name, WEB_AUTH_PUBLIC, NULL},
        {"/frame/public", WEB_GET, h_name, WEB_AUTH_PUBLIC, NULL},
    };
    assert_int_equal(web_routes_add(f->ws, clash, 2, NULL), -EEXIST);
    expect((struct call){.f = f, .path = "/frame/new"}, 404, NULL);
    const struct web_route_def twice[] = {
        {"/frame/x", WEB_GET, h_name, WEB_AUTH_PUBLIC, NULL},
        {"/frame/x", WEB_GET, h_name, WEB_AUTH_PUBLIC, NULL},
    };
    assert_int_equal(web_routes_add(f->ws, twice, 2, NULL), -EEXIST);
    const struct web_route_def bad[] = {{"nopath", WEB_GET, h_name, WEB_AUTH_PUBLIC, NULL}};
    assert_int_equal(web_routes_add(f->ws, bad, 1, NULL), -EINVAL);
    const struct web_route_def nomethod[] = {{"/frame/y", 0, h_name, WEB_AUTH_PUBLIC, NULL}};
    assert_int_equal(web_routes_add(f->ws, nomethod, 1, NULL), -EINVAL);
    /* Methods are the table's: GET only here. */
    expect((struct call){.f = f, .method = "POST", .path = "/frame/public"}, 405, NULL);
    fx_stop(f);
}

static void public_and_session(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    expect((struct call){.f = f, .path = "/frame/public"}, 200, "/frame/public");
    expect((struct call){.f = f, .path = "/frame/session"}, 403, "Forbidden");
    expect((struct call){.f = f, .path = "/frame/session", .cookie = "SID=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, 403,
           "Forbidden");
    char cookie[64];
    login(f, cookie, sizeof cookie);
    expect((struct call){.f = f, .path = "/frame/session", .cookie = cookie}, 200, "/frame/session");
    /* Its CSRF rule applies to every policy. */
    expect((struct call){.f = f, .path = "/frame/session", .cookie = cookie, .hdrs = {"Origin: http://evil.example"}},
           401, "Unauthorized");
    expect((struct call){.f = f, .path = "/frame/basic", .hdrs = {BASIC_OK, "Origin: http://evil.example"}}, 401,
           "Unauthorized");
    fx_stop(f);
}

static void basic(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    char v[256];
    /* Missing: the challenge. */
    struct call k = {.f = f, .path = "/frame/basic"};
    assert_int_equal(run(&k), 401);
    assert_non_null(hdr(&k, "WWW-Authenticate", v, sizeof v));
    assert_string_equal(v, "Basic realm=\"uTorrent\"");
    call_free(&k);
    /* Malformed and wrong: the challenge again. */
    struct call m = {.f = f, .path = "/frame/basic", .hdrs = {"Authorization: Basic !!!"}};
    assert_int_equal(run(&m), 401);
    assert_non_null(hdr(&m, "WWW-Authenticate", v, sizeof v));
    call_free(&m);
    struct call w = {.f = f, .path = "/frame/basic", .hdrs = {BASIC_BAD}};
    assert_int_equal(run(&w), 401);
    assert_non_null(hdr(&w, "WWW-Authenticate", v, sizeof v));
    assert_string_equal(body(&w), "Unauthorized");
    call_free(&w);
    /* The qBittorrent cookie is not a Basic credential. */
    char cookie[64];
    login(f, cookie, sizeof cookie);
    expect((struct call){.f = f, .path = "/frame/basic", .cookie = cookie}, 401, NULL);
    /* Right: verified on a worker, then remembered. */
    expect((struct call){.f = f, .path = "/frame/basic", .hdrs = {BASIC_OK}}, 200, "/frame/basic");
    expect((struct call){.f = f, .path = "/frame/basic", .hdrs = {BASIC_OK}}, 200, "/frame/basic");
    /* A body beyond what an unverified client may send passes once the
     * credential is known (decided from the headers). */
    char *big = malloc(20001);
    memset(big, 'a', 20000);
    memcpy(big, "x=", 2);
    big[20000] = 0;
    expect((struct call){.f = f, .method = "POST", .path = "/frame/basic", .body = big, .hdrs = {BASIC_OK}}, 200,
           "/frame/basic");
    /* ... and is refused from the headers for an unknown credential. */
    expect((struct call){.f = f, .method = "POST", .path = "/frame/basic", .body = big,
                         .hdrs = {"Authorization: Basic YWRtaW46b3RoZXI="}},
           413, NULL);
    free(big);
    /* The dialect's token hook runs after Basic. */
    expect((struct call){.f = f, .path = "/frame/basic_token", .hdrs = {BASIC_OK}}, 400, "invalid request");
    expect((struct call){.f = f, .path = "/frame/basic_token?token=bad", .hdrs = {BASIC_OK}}, 400, NULL);
    expect((struct call){.f = f, .path = "/frame/basic_token?token=t0k", .hdrs = {BASIC_OK}}, 200,
           "/frame/basic_token");
    expect((struct call){.f = f, .path = "/frame/basic_token?token=t0k"}, 401, NULL);
    fx_stop(f);
}

static void token(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    char cookie[64];
    login(f, cookie, sizeof cookie);
    /* No token configured: the route needs a qBittorrent session. */
    expect((struct call){.f = f, .path = "/frame/token", .hdrs = {"X-API-Key: anything"}}, 403, "Forbidden");
    expect((struct call){.f = f, .path = "/frame/token", .cookie = cookie}, 200, "/frame/token");

    assert_int_equal(web_server_set_api_token(f->ws, "s3cret-token"), 0);
    char ct[128];
    struct call k = {.f = f, .path = "/frame/token"};
    assert_int_equal(run(&k), 401);
    assert_string_equal(body(&k), TOKEN_401);
    assert_non_null(hdr(&k, "Content-Type", ct, sizeof ct));
    assert_string_equal(ct, "application/json");
    call_free(&k);
    expect((struct call){.f = f, .path = "/frame/token", .cookie = cookie}, 401, TOKEN_401);
    expect((struct call){.f = f, .path = "/frame/token", .hdrs = {"X-API-Key: s3cret-tokeN"}}, 401, TOKEN_401);
    expect((struct call){.f = f, .path = "/frame/token", .hdrs = {"X-API-Key: s3cret"}}, 401, TOKEN_401);
    expect((struct call){.f = f, .path = "/frame/token", .hdrs = {"X-API-Key: s3cret-token"}}, 200, "/frame/token");
    expect((struct call){.f = f, .path = "/frame/token", .hdrs = {"X-API-Token: s3cret-token"}}, 200, "/frame/token");
    expect((struct call){.f = f, .path = "/frame/token", .hdrs = {"Authorization: Bearer s3cret-token"}}, 200,
           "/frame/token");
    expect((struct call){.f = f, .method = "POST", .path = "/frame/token", .body = "a=1",
                         .hdrs = {"Authorization: Bearer s3cret-token"}},
           200, "/frame/token");
    fx_stop(f);
}

static void three_fails(struct web_config *c)
{
    c->auth.max_auth_fail_count = 3;
}

/* A wrong Basic password, a wrong token and a wrong login: banned. */
static void failures_share_the_ban(void **state)
{
    (void)state;
    struct fx *f = fx_start(three_fails);
    assert_int_equal(web_server_set_api_token(f->ws, "s3cret-token"), 0);
    /* Missing credentials are no attempt: they do not count. */
    for (int i = 0; i < 4; i++) {
        expect((struct call){.f = f, .path = "/frame/basic"}, 401, NULL);
        expect((struct call){.f = f, .path = "/frame/token"}, 401, NULL);
    }
    expect((struct call){.f = f, .path = "/frame/basic", .hdrs = {BASIC_OK}}, 200, NULL);
    expect((struct call){.f = f, .path = "/frame/basic", .hdrs = {BASIC_BAD}}, 401, NULL);
    expect((struct call){.f = f, .path = "/frame/token", .hdrs = {"X-API-Key: wrong"}}, 401, TOKEN_401);
    expect((struct call){.f = f, .method = "POST", .path = "/api/v2/auth/login",
                         .body = "username=admin&password=wrong"},
           200, "Fails.");
    /* Banned everywhere now, even with the right credentials. */
    expect((struct call){.f = f, .method = "POST", .path = "/api/v2/auth/login",
                         .body = "username=admin&password=adminadmin"},
           403, BAN_TEXT);
    expect((struct call){.f = f, .path = "/frame/basic", .hdrs = {BASIC_OK}}, 403, BAN_TEXT);
    expect((struct call){.f = f, .path = "/frame/token", .hdrs = {"X-API-Key: s3cret-token"}}, 403, BAN_TEXT);
    /* Public routes stay reachable. */
    expect((struct call){.f = f, .path = "/frame/public"}, 200, NULL);
    fx_stop(f);
}

static void wrong_tokens_ban(void **state)
{
    (void)state;
    struct fx *f = fx_start(three_fails);
    assert_int_equal(web_server_set_api_token(f->ws, "s3cret-token"), 0);
    for (int i = 0; i < 3; i++)
        expect((struct call){.f = f, .path = "/frame/token", .hdrs = {"Authorization: Bearer nope"}}, 401, TOKEN_401);
    expect((struct call){.f = f, .path = "/frame/token", .hdrs = {"X-API-Key: s3cret-token"}}, 403, BAN_TEXT);
    fx_stop(f);
}

static void wrong_basic_ban(void **state)
{
    (void)state;
    struct fx *f = fx_start(three_fails);
    for (int i = 0; i < 3; i++)
        expect((struct call){.f = f, .path = "/frame/basic", .hdrs = {BASIC_BAD}}, 401, NULL);
    expect((struct call){.f = f, .path = "/frame/basic", .hdrs = {BASIC_OK}}, 403, BAN_TEXT);
    expect((struct call){.f = f, .method = "POST", .path = "/api/v2/auth/login",
                         .body = "username=admin&password=adminadmin"},
           403, BAN_TEXT);
    fx_stop(f);
}

/* web_req_query: the query as sent (order, repeats, escapes kept), per
 * request on one connection; the Basic guest: only its name, never the
 * account's, and only once set. */
static void raw_query_and_guest(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    static const char GUEST[] = "Authorization: Basic Z3Vlc3Q6eA==";   /* guest:x */
    expect((struct call){.f = f, .path = "/frame/query?hash=A&s=k&v=1&hash=b&s=k&v=%20+x", .hdrs = {BASIC_OK}}, 200,
           "hash=A&s=k&v=1&hash=b&s=k&v=%20+x|account");
    expect((struct call){.f = f, .path = "/frame/query", .hdrs = {BASIC_OK}}, 200, "|account");
    expect((struct call){.f = f, .method = "POST", .path = "/frame/query?a=1&a=2", .body = "b=3", .hdrs = {BASIC_OK}},
           200, "a=1&a=2|account");
    expect((struct call){.f = f, .path = "/frame/query?x", .hdrs = {GUEST}}, 401, NULL);
    assert_int_equal(web_server_set_basic_guest(f->ws, "guest"), 0);
    expect((struct call){.f = f, .path = "/frame/query?x", .hdrs = {GUEST}}, 200, "x|guest");
    expect((struct call){.f = f, .path = "/frame/query?x", .hdrs = {BASIC_BAD}}, 401, NULL);
    /* the account's own name is always checked */
    assert_int_equal(web_server_set_basic_guest(f->ws, "admin"), 0);
    expect((struct call){.f = f, .path = "/frame/query?x", .hdrs = {BASIC_BAD}}, 401, NULL);
    expect((struct call){.f = f, .path = "/frame/query?x", .hdrs = {BASIC_OK}}, 200, "x|account");
    assert_int_equal(web_server_set_basic_guest(f->ws, NULL), 0);
    expect((struct call){.f = f, .path = "/frame/query?x", .hdrs = {GUEST}}, 401, NULL);
    fx_stop(f);
}

static void dialect_slots(void **state)
{
    (void)state;
    struct fx *f = fx_start(NULL);
    char cookie[64];
    login(f, cookie, sizeof cookie);
    expect((struct call){.f = f, .path = "/frame/slot?d=a", .cookie = cookie}, 200, "1");
    expect((struct call){.f = f, .path = "/frame/slot?d=a", .cookie = cookie}, 200, "2");
    expect((struct call){.f = f, .path = "/frame/slot?d=b", .cookie = cookie}, 200, "1");
    expect((struct call){.f = f, .path = "/frame/slot?d=a", .cookie = cookie}, 200, "3");
    /* Logout frees both slots, each with its dialect's function. */
    expect((struct call){.f = f, .method = "POST", .path = "/api/v2/auth/logout", .cookie = cookie}, 200, "");
    assert_int_equal(f->freed_a, 1);
    assert_int_equal(f->freed_b, 1);
    fx_stop(f);
}

int main(void)
{
    log_set_quiet(1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tables),          cmocka_unit_test(public_and_session),
        cmocka_unit_test(basic),           cmocka_unit_test(token),
        cmocka_unit_test(failures_share_the_ban), cmocka_unit_test(wrong_tokens_ban),
        cmocka_unit_test(wrong_basic_ban), cmocka_unit_test(dialect_slots),
        cmocka_unit_test(raw_query_and_guest),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    log_shutdown();
    return rc;
}
