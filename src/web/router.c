/* web/router — the route tables of the API dialects and their auth
 * policies: the header-level half of the request pipeline.
 *
 * Where the design came from: a dialect declares its routes as a static
 * table (path, methods, handler, auth policy), as Transmission's rpcimpl.c
 * declares its methods and Redis its command table, so that adding a
 * dialect is a table and one registration call, and the auth rules live
 * here once instead of in each dialect.  The qBittorrent session policy is
 * qBittorrent 5.1's WebApplication pipeline (../shared/docs/api-surface.md, outside the repository, §2.1-§2.3);
 * HTTP Basic is RFC 7617 with µTorrent's realm; API tokens follow the
 * X-Api-Key / Bearer (RFC 6750) conventions of the *arr tools.
 *
 * Everything is decided from the headers, before a body is read (see
 * web_admit): a client that has not shown a credential may send at most
 * WEB_UNAUTH_MAX_BODY.  Basic credentials not seen lately are checked on
 * a worker thread after the body is in (PBKDF2 is too slow for the loop),
 * and only then is the handler called.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/log.h"
#include "web/web_int.h"

static const char BAN_TEXT[] = "Your IP address has been banned after too many failed authentication attempts.";
static const char TOKEN_401[] = "{\"error\":\"unauthorized\"}";

static void format_ip(const struct sockaddr *sa, char *out, size_t outlen)
{
    char tmp[INET6_ADDRSTRLEN];
    out[0] = 0;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, tmp, sizeof(tmp));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, tmp, sizeof(tmp));
    else
        return;
    if (web_auth_ip_normalize(tmp, out, outlen) != 0)
        snprintf(out, outlen, "%s", tmp);
}

static const char *peer_ip(struct web_req *r, struct web_conn *wc, char *buf, size_t buflen)
{
    if (wc && wc->have_peer)
        return wc->peer_ip;
    buf[0] = 0;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr)
        format_ip(ci->client_addr, buf, buflen);
    if (wc) {
        snprintf(wc->peer_ip, sizeof(wc->peer_ip), "%s", buf);
        wc->have_peer = true;
    }
    return buf;
}

static const char *local_ip(struct web_req *r, struct web_conn *wc, char *buf, size_t buflen)
{
    if (wc && wc->have_local)
        return wc->local_ip;
    buf[0] = 0;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (ci && getsockname(ci->connect_fd, (struct sockaddr *)&ss, &len) == 0)
        format_ip((struct sockaddr *)&ss, buf, buflen);
    if (wc) {
        snprintf(wc->local_ip, sizeof(wc->local_ip), "%s", buf);
        wc->have_local = true;
    }
    return buf;
}

/* Host validation, remembered per connection until the auth settings change. */
static bool host_valid(struct web_req *r, struct web_conn *wc, const char *host)
{
    struct web_server *ws = r->ws;
    if (wc && host && wc->host[0] && wc->host_gen == ws->auth_gen && strcmp(wc->host, host) == 0)
        return true;
    char lip[64];
    if (!web_auth_host_valid(host, ws->port, local_ip(r, wc, lip, sizeof(lip)), ws->auth.domain_list))
        return false;
    if (wc && host && strlen(host) < sizeof(wc->host)) {
        memcpy(wc->host, host, strlen(host) + 1);
        wc->host_gen = ws->auth_gen;
    }
    return true;
}


/* ---- route tables ---- */

/* A route ending in a slash and a star matches its prefix followed by one
 * non-empty segment without '/' (qBittorrent v1's
 * /query/propertiesGeneral/<hash>).  Exact routes are looked up first. */
static bool prefix_match(const char *route, const char *path)
{
    size_t n = strlen(route);
    if (n < 2 || route[n - 1] != '*' || route[n - 2] != '/')
        return false;
    if (strncmp(route, path, n - 1) != 0)
        return false;
    const char *tail = path + n - 1;
    return *tail && !strchr(tail, '/');
}

static int route_exact(struct web_server *ws, const char *path)
{
    for (size_t i = 0; i < ws->nroutes; i++)
        if (strcmp(ws->routes[i].path, path) == 0)
            return (int)i;
    return -1;
}

/* A route ending in a slash and two stars matches its prefix followed by
 * any non-empty rest, slashes included (the files of a web UI's folders). */
static bool tree_match(const char *route, const char *path)
{
    size_t n = strlen(route);
    if (n < 3 || strcmp(route + n - 3, "/**") != 0)
        return false;
    return strncmp(route, path, n - 2) == 0 && path[n - 2] != 0;
}

static int route_index(struct web_server *ws, const char *path)
{
    int e = route_exact(ws, path);
    if (e >= 0)
        return e;
    for (size_t i = 0; i < ws->nroutes; i++)
        if (prefix_match(ws->routes[i].path, path))
            return (int)i;
    for (size_t i = 0; i < ws->nroutes; i++)
        if (tree_match(ws->routes[i].path, path))
            return (int)i;
    return -1;
}

static bool def_valid(const struct web_route_def *d)
{
    return d->path && d->path[0] == '/' && d->handler && (d->methods & (WEB_GET | WEB_POST | WEB_HEAD)) &&
           d->auth <= WEB_AUTH_API_KEY;
}

int web_routes_add(struct web_server *ws, const struct web_route_def *defs, size_t n, void *ud)
{
    if (!ws || (!defs && n))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!def_valid(&defs[i]))
            return -EINVAL;
        if (route_exact(ws, defs[i].path) >= 0)
            return -EEXIST;
        for (size_t k = 0; k < i; k++)
            if (strcmp(defs[k].path, defs[i].path) == 0)
                return -EEXIST;
    }
    if (ws->nroutes + n > ws->caproutes) {
        size_t nc = ws->caproutes ? ws->caproutes : 64;
        while (nc < ws->nroutes + n)
            nc *= 2;
        struct web_route *p = realloc(ws->routes, nc * sizeof(*p));
        if (!p)
            return -ENOMEM;
        ws->routes = p;
        ws->caproutes = nc;
    }
    size_t base = ws->nroutes;
    for (size_t i = 0; i < n; i++) {
        char *dup = strdup(defs[i].path);
        if (!dup) {
            while (ws->nroutes > base)
                free(ws->routes[--ws->nroutes].path);
            return -ENOMEM;
        }
        ws->routes[ws->nroutes++] =
            (struct web_route){dup, defs[i].methods, defs[i].auth, defs[i].handler, defs[i].token, ud};
    }
    return 0;
}

int web_route_add(struct web_server *ws, const char *path, unsigned methods, web_handler h, void *ud)
{
    const struct web_route_def d = {path, methods, h, WEB_AUTH_QBT_SESSION, NULL};
    return web_routes_add(ws, &d, 1, ud);
}

int web_route_add_public(struct web_server *ws, const char *path, unsigned methods, web_handler h, void *ud)
{
    const struct web_route_def d = {path, methods, h, WEB_AUTH_PUBLIC, NULL};
    return web_routes_add(ws, &d, 1, ud);
}

void web_routes_free(struct web_server *ws)
{
    for (size_t i = 0; i < ws->nroutes; i++)
        free(ws->routes[i].path);
    free(ws->routes);
    ws->routes = NULL;
    ws->nroutes = ws->caproutes = 0;
}

/* ^/api/v2/[A-Za-z_][A-Za-z_0-9]*\/[A-Za-z_][A-Za-z_0-9]*$ */
static bool is_v2_api_path(const char *p)
{
    if (strncmp(p, "/api/v2/", 8) != 0)
        return false;
    p += 8;
    for (int part = 0; part < 2; part++) {
        if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
            return false;
        while (*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            p++;
        if (part == 0 && *p++ != '/')
            return false;
    }
    return *p == 0;
}

static bool auth_needed(struct web_server *ws, const char *ip)
{
    if (ws->auth.bypass_local_auth && web_auth_is_loopback(ip))
        return false;
    if (ws->auth.bypass_auth_subnet_whitelist_enabled &&
        web_auth_ip_in_subnets(ip, ws->auth.bypass_auth_subnet_whitelist))
        return false;
    return true;
}

static void sha256(const char *s, uint8_t out[32])
{
    unsigned len = 32;
    if (EVP_Digest(s, strlen(s), out, &len, EVP_sha256(), NULL) != 1)
        memset(out, 0, 32);
}

/* ---- policies (each: false = replied) ---- */

/* qBittorrent: the SID cookie, or a session given to a client that
 * bypasses authentication.  `required` = WEB_AUTH_QBT_SESSION. */
static bool admit_session(struct web_req *r, bool required)
{
    struct web_server *ws = r->ws;
    const char *sid = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "SID");
    struct web_session *s = sid ? web_session_find(ws, sid) : NULL;
    if (!s && !auth_needed(ws, r->client_ip)) {
        s = web_session_start(ws);
        if (s)
            web_session_set_cookie(r, s);
    }
    if (s) {
        s->refs++;
        r->session = s;
        r->authed = true;
    }
    if (required && !r->session) {
        web_reply_error(r, 403, NULL);
        return false;
    }
    return true;
}

static void basic_challenge(struct web_req *r)
{
    web_req_add_header(r, "WWW-Authenticate", "Basic realm=\"uTorrent\"");
    web_reply_error(r, 401, NULL);
}

static struct web_basic_ok *basic_cached(struct web_server *ws, const uint8_t digest[32])
{
    uint64_t now = uv_now(ws->loop);
    for (size_t i = 0; i < WEB_BASIC_CACHE; i++) {
        struct web_basic_ok *c = &ws->basic_ok[i];
        if (c->until_ms > now && c->gen == ws->auth_gen && CRYPTO_memcmp(c->digest, digest, 32) == 0)
            return c;
    }
    return NULL;
}

static void basic_remember(struct web_server *ws, const uint8_t digest[32])
{
    struct web_basic_ok *c = &ws->basic_ok[ws->next_basic++ % WEB_BASIC_CACHE];
    memcpy(c->digest, digest, 32);
    c->gen = ws->auth_gen;
    c->until_ms = uv_now(ws->loop) + WEB_BASIC_CACHE_MS;
}

/* "Basic base64(user:pass)" decoded into out; the password after the first
 * ':' (RFC 7617).  false when malformed. */
static bool basic_decode(const char *h, char *out, size_t outlen, char **pass)
{
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return false;
    h += 6;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    if (n == 0 || n % 4 || n / 4 * 3 >= outlen)
        return false;
    int len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)h, (int)n);
    if (len < 0)
        return false;
    if (n >= 1 && h[n - 1] == '=')
        len--;
    if (n >= 2 && h[n - 2] == '=')
        len--;
    out[len] = 0;
    if (strlen(out) != (size_t)len)
        return false;   /* NUL inside */
    char *colon = strchr(out, ':');
    if (!colon)
        return false;
    *colon = 0;
    *pass = colon + 1;
    return true;
}

/* HTTP Basic with the WebUI account.  A header verified lately passes at
 * once; another is verified by web_dispatch before the handler. */
static bool admit_basic(struct web_req *r)
{
    struct web_server *ws = r->ws;
    if (!auth_needed(ws, r->client_ip)) {
        r->authed = true;
        return true;
    }
    const char *h = web_req_header(r, "Authorization");
    char dec[512], *pass;
    bool ok = basic_decode(h, dec, sizeof dec, &pass);
    bool guest = ok && ws->basic_guest && strcmp(dec, ws->basic_guest) == 0 &&
                 !(ws->auth.username && strcmp(dec, ws->auth.username) == 0);
    OPENSSL_cleanse(dec, sizeof dec);
    if (!ok) {
        basic_challenge(r);
        return false;
    }
    if (web_ban_is_banned(ws, r->client_ip)) {
        web_reply_error(r, 403, BAN_TEXT);
        return false;
    }
    if (guest) {
        r->authed = r->guest = true;
        return true;
    }
    sha256(h, r->basic_digest);
    if (basic_cached(ws, r->basic_digest))
        r->authed = true;
    else
        r->basic_pending = true;
    return true;
}

static bool token_matches(struct web_req *r, const char *tok, const char *want_tok);

/* X-API-Key, X-API-Token or a Bearer token against ws->api_token. */
static bool admit_token(struct web_req *r)
{
    struct web_server *ws = r->ws;
    const char *tok = web_req_header(r, "X-API-Key");
    if (!tok)
        tok = web_req_header(r, "X-API-Token");
    const char *az = tok ? NULL : web_req_header(r, "Authorization");
    if (az && strncasecmp(az, "Bearer ", 7) == 0) {
        tok = az + 7;
        while (*tok == ' ')
            tok++;
    }
    if (!tok || !*tok) {
        web_reply(r, 401, "application/json", TOKEN_401, sizeof TOKEN_401 - 1);
        return false;
    }
    return token_matches(r, tok, ws->api_token);
}

/* tok (sent) against want (configured), in constant time; a wrong one
 * counts toward the login ban.  false = replied (401 or the ban's 403). */
static bool token_matches(struct web_req *r, const char *tok, const char *want_tok)
{
    struct web_server *ws = r->ws;
    if (web_ban_is_banned(ws, r->client_ip)) {
        web_reply_error(r, 403, BAN_TEXT);
        return false;
    }
    /* Digests of both: equal length for CRYPTO_memcmp whatever was sent. */
    uint8_t got[32], want[32];
    sha256(tok, got);
    sha256(want_tok, want);
    if (CRYPTO_memcmp(got, want, 32) != 0) {
        int n = ws->auth.max_auth_fail_count > 0 ? web_ban_fail(ws, r->client_ip) : 0;
        log_msg(LOG_WARNING, "WebAPI login failure. Reason: invalid API token, attempt count: %d, IP: %s", n,
                r->client_ip);
        web_reply(r, 401, "application/json", TOKEN_401, sizeof TOKEN_401 - 1);
        return false;
    }
    r->authed = true;
    return true;
}

/* The operations API (seed 003): X-API-Token or a Bearer token against
 * ws->ops_token, or without either a qBittorrent session (qBitrr's WebUI
 * login); neither: 401 {"error":"unauthorized"}. */
static bool admit_ops(struct web_req *r)
{
    const char *tok = web_req_header(r, "X-API-Token");
    const char *az = tok ? NULL : web_req_header(r, "Authorization");
    if (az && strncasecmp(az, "Bearer ", 7) == 0) {
        tok = az + 7;
        while (*tok == ' ')
            tok++;
    }
    if (tok && *tok)
        return token_matches(r, tok, r->ws->ops_token);
    if (!admit_session(r, false))
        return false;
    if (r->session)
        return true;
    web_reply(r, 401, "application/json", TOKEN_401, sizeof TOKEN_401 - 1);
    return false;
}

/* X-API-Key against ws->api_key, else the qBittorrent session. */
static bool admit_api_key(struct web_req *r)
{
    static const char KEY_401[] = "{\"detail\":\"Invalid API key\"}";
    struct web_server *ws = r->ws;
    const char *key = web_req_header(r, "X-API-Key");
    if (!key || !*key)
        return admit_session(r, true);
    if (web_ban_is_banned(ws, r->client_ip)) {
        web_reply_error(r, 403, BAN_TEXT);
        return false;
    }
    uint8_t got[32], want[32];
    sha256(key, got);
    sha256(ws->api_key ? ws->api_key : "", want);
    if (!ws->api_key || CRYPTO_memcmp(got, want, 32) != 0) {
        int n = ws->auth.max_auth_fail_count > 0 ? web_ban_fail(ws, r->client_ip) : 0;
        log_msg(LOG_WARNING, "WebAPI login failure. Reason: invalid API key, attempt count: %d, IP: %s", n,
                r->client_ip);
        web_reply(r, 401, "application/json", KEY_401, sizeof KEY_401 - 1);
        return false;
    }
    r->authed = true;
    return true;
}

/* The header-level half of the §2.1 pipeline: CSRF, Host, client address,
 * then the route's auth policy.  Runs before a request body is read
 * (web_on_access), so a client without the password is answered without
 * sending one.  false = replied (r->state must be WEB_REQ_WAITING on
 * entry). */
bool web_admit(struct web_req *r)
{
    struct web_server *ws = r->ws;
    const struct web_auth_config *a = &ws->auth;
    const char *host = web_req_header(r, "Host");

    if (a->csrf_protection &&
        web_auth_is_cross_site(web_req_header(r, "Origin"), web_req_header(r, "Referer"), host,
                               web_req_header(r, "X-Forwarded-Host"))) {
        web_reply_error(r, 401, NULL);
        return false;
    }
    struct web_conn *wc = web_conn_of(r->conn);
    if (a->host_header_validation && !host_valid(r, wc, host)) {
        web_reply_error(r, 401, NULL);
        return false;
    }

    char pbuf[64];
    const char *pip = peer_ip(r, wc, pbuf, sizeof(pbuf));
    const char *xff = a->reverse_proxy_enabled ? web_req_header(r, "X-Forwarded-For") : NULL;
    if (xff)
        web_auth_client_ip(pip, xff, true, a->trusted_proxies, r->client_ip, sizeof(r->client_ip));
    else
        snprintf(r->client_ip, sizeof(r->client_ip), "%s", pip);

    r->admitted = true;
    r->route = route_index(ws, r->path);
    /* Unknown paths: the v2 namespace is qBittorrent's (403 without a
     * session, as qBittorrent answers before it looks the path up);
     * anything else is a static file. */
    enum web_auth_policy pol = r->route >= 0          ? ws->routes[r->route].auth
                               : is_v2_api_path(r->path) ? WEB_AUTH_QBT_SESSION
                                                         : WEB_AUTH_PUBLIC;
    if ((pol == WEB_AUTH_API_TOKEN && !ws->api_token) || (pol == WEB_AUTH_OPS_TOKEN && !ws->ops_token))
        pol = WEB_AUTH_QBT_SESSION;   /* no token configured: never open */
    switch (pol) {
    case WEB_AUTH_QBT_SESSION: return admit_session(r, true);
    case WEB_AUTH_PUBLIC: return admit_session(r, false);
    case WEB_AUTH_BASIC_TOKEN: return admit_basic(r);
    case WEB_AUTH_API_TOKEN: return admit_token(r);
    case WEB_AUTH_OPS_TOKEN: return admit_ops(r);
    case WEB_AUTH_API_KEY: return admit_api_key(r);
    }
    web_reply_error(r, 500, NULL);
    return false;
}

/* The route itself: its method, the dialect's token hook, the handler. */
static void route_run(struct web_req *r)
{
    struct web_server *ws = r->ws;
    if (r->route >= 0) {
        struct web_route *rt = &ws->routes[r->route];
        unsigned allowed = rt->methods | ((rt->methods & WEB_GET) ? WEB_HEAD : 0);
        if (!(allowed & (unsigned)r->method)) {
            web_reply_error(r, 405, NULL);
            return;
        }
        if (rt->auth == WEB_AUTH_BASIC_TOKEN && rt->token && !rt->token(r, rt->ud)) {
            web_reply_error(r, 400, "invalid request");
            return;
        }
        rt->h(r, rt->ud);
        return;
    }
    if (is_v2_api_path(r->path)) {
        web_reply_error(r, 404, NULL);   /* web_admit answered 403 without a session */
        return;
    }
    web_static_serve(r);
}

static void basic_checked(struct web_req *r, int ok, void *ud)
{
    (void)ud;
    if (ok < 0 || !r->conn) {
        web_ban_end(r, -1);
        web_reply_error(r, 503, NULL);   /* stopping, or nobody to answer: dropped */
        return;
    }
    if (!ok) {
        int n = web_ban_end(r, 0);
        log_msg(LOG_WARNING, "WebAPI login failure. Reason: invalid HTTP Basic credentials, attempt count: %d, IP: %s",
                n, r->client_ip);
        basic_challenge(r);
        return;
    }
    web_ban_end(r, 1);
    basic_remember(r->ws, r->basic_digest);
    r->basic_pending = false;
    r->authed = true;
    struct web_conn *wc = web_conn_of(r->conn);
    if (wc)
        web_guard_busy(&r->ws->guard, &wc->gc, true);
    route_run(r);
}

/* Basic credentials not seen lately: PBKDF2 on a worker, then the route. */
static void basic_verify(struct web_req *r)
{
    char dec[512], *pass;
    if (!basic_decode(web_req_header(r, "Authorization"), dec, sizeof dec, &pass)) {
        basic_challenge(r);
        return;
    }
    if (web_ban_begin(r)) {
        OPENSSL_cleanse(dec, sizeof dec);
        web_reply_error(r, 403, BAN_TEXT);
        return;
    }
    int rc = web_req_check_account(r, dec, pass, basic_checked, NULL);
    OPENSSL_cleanse(dec, sizeof dec);
    if (rc != 0) {
        web_ban_end(r, -1);
        web_reply_error(r, 500, NULL);
    }
}

/* The rest of the pipeline, then the route. */
void web_dispatch(struct web_req *r)
{
    struct web_server *ws = r->ws;
    r->state = WEB_REQ_WAITING;
    if (!r->admitted && !web_admit(r))
        return;
    struct web_conn *wc = web_conn_of(r->conn);
    if (wc)
        web_guard_busy(&ws->guard, &wc->gc, r->authed);

    if (r->method != WEB_POST)
        web_form_collect_query(r);
    if (r->basic_pending) {
        basic_verify(r);
        return;
    }
    route_run(r);
}
