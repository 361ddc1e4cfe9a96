/* web/server — libmicrohttpd on the libuv loop, the request pipeline and
 * the router.  See server.h for the why. */
#include "web/server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "util/log.h"
#include "web/web_int.h"

#define DEFAULT_MAX_BODY (64u * 1024 * 1024)
#define DEFAULT_MAX_CONN 500
#define DEFAULT_IDLE_S 7
/* Request line + headers per connection.  libmicrohttpd zeroes the whole
 * pool between requests, so a big pool costs every request (256 KiB took a
 * fifth of the CPU of app/version); 32 KiB is its default. */
#define CONN_MEMORY_LIMIT (32 * 1024)
#define POST_BUFFER 65536
#define TLS_FILE_MAX (1024 * 1024)
#define TEXT_PLAIN "text/plain; charset=UTF-8"

static const char CSP[] = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                          "script-src 'self' 'unsafe-inline'; object-src 'none'; form-action 'self'; "
                          "frame-src 'self' blob:;";

const char *web_reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

/* ---- loop integration ---- */

/* One libmicrohttpd daemon on the loop: its epoll fd watched by a uv_poll,
 * MHD_run on readiness and when MHD_get_timeout says.  Changing the WebUI
 * address, port or HTTPS settings starts a new listener and drains the old
 * one: it accepts nothing more, finishes what its connections are doing
 * (the setPreferences reply that caused the change among them) and is
 * stopped once they are gone or after DRAIN_MS. */
struct web_listener {
    struct web_server *ws;
    struct MHD_Daemon *mhd;
    uv_poll_t poll;
    uv_timer_t timer;
    int handles;             /* poll and timer until their close callbacks ran */
    bool https, closing;
    uint64_t drain_until;    /* uv_now() ms; 0 = not draining */
    char *tls_cert, *tls_key;
};

/* What web_server_rebind asked for. */
struct web_bind {
    char *address;           /* NULL = keep */
    int port;                /* < 0 = keep */
    char *cert_path, *key_path;
};

#define DRAIN_MS 2000
#define DRAIN_TICK_MS 50

static void on_timer(uv_timer_t *t);
static void listener_close(struct web_listener *l);
static void reply_cache_free(struct web_server *ws);

static void schedule(struct web_listener *l)
{
    if (l->closing)
        return;
    uint64_t cap = l->drain_until ? DRAIN_TICK_MS : 3600000;
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(l->mhd, &ms) == MHD_YES)
        uv_timer_start(&l->timer, on_timer, ms > cap ? cap : ms, 0);
    else if (l->drain_until)
        uv_timer_start(&l->timer, on_timer, cap, 0);
    else
        uv_timer_stop(&l->timer);
}

static bool drained(struct web_listener *l)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return !di || di->num_connections == 0 || uv_now(l->ws->loop) >= l->drain_until;
}

static void run_mhd(struct web_listener *l)
{
    if (l->closing)
        return;
    MHD_run(l->mhd);
    if (l->drain_until && drained(l)) {
        if (l->ws->old == l)
            l->ws->old = NULL;
        listener_close(l);
        return;
    }
    schedule(l);
}

static void on_timer(uv_timer_t *t)
{
    run_mhd(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status, (void)events;
    run_mhd(p->data);
}

/* Runs MHD on the next loop iteration (after a resume). */
static void kick(struct web_server *ws)
{
    if (ws->stopping)
        return;
    uv_timer_start(&ws->lst->timer, on_timer, 0, 0);
    if (ws->old && !ws->old->closing)
        uv_timer_start(&ws->old->timer, on_timer, 0, 0);
}

static void bind_free(struct web_bind *b)
{
    if (!b)
        return;
    free(b->address);
    free(b->cert_path);
    free(b->key_path);
    free(b);
}

static void maybe_free(struct web_server *ws)
{
    if (!ws->stopping || ws->open_handles > 0 || ws->jobs > 0)
        return;
    bind_free(ws->want);
    free(ws->address);
    reply_cache_free(ws);
    web_sessions_free(ws);
    for (size_t i = 0; i < ws->nroutes; i++)
        free(ws->routes[i].path);
    free(ws->routes);
    for (size_t i = 0; i < 8; i++)
        free(ws->auth_strings[i]);
    for (size_t i = 0; i < ws->nprebuilt; i++) {
        free(ws->prebuilt[i].name);
        free(ws->prebuilt[i].value);
    }
    free(ws->prebuilt);
    free(ws->bans);
    free(ws->static_root);
    free(ws);
}

void web_server_job_done(struct web_server *ws)
{
    ws->jobs--;
    maybe_free(ws);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct web_server *ws = h->data;
    ws->open_handles--;
    maybe_free(ws);
}

static void on_guard_closed(uv_handle_t *h)
{
    struct web_server *ws = (struct web_server *)(void *)((char *)h->data - offsetof(struct web_server, guard));
    ws->open_handles--;
    maybe_free(ws);
}

static void on_listener_handle_closed(uv_handle_t *h)
{
    struct web_listener *l = h->data;
    if (--l->handles > 0)
        return;
    struct web_server *ws = l->ws;
    free(l->tls_cert);
    free(l->tls_key);
    free(l);
    ws->open_handles--;
    maybe_free(ws);
}

/* ---- requests ---- */

static void waiting_unlink(struct web_req *r)
{
    if (r->pprev)
        r->pprev->pnext = r->pnext;
    else if (r->ws->waiting == r)
        r->ws->waiting = r->pnext;
    if (r->pnext)
        r->pnext->pprev = r->pprev;
    r->pnext = r->pprev = NULL;
}

static void req_free(struct web_req *r)
{
    if (r->pp)
        MHD_destroy_post_processor(r->pp);
    if (r->resp && !r->resp_shared)
        MHD_destroy_response(r->resp);
    web_form_free(r);
    buf_free(&r->raw);
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    web_session_unref(r->ws, r->session);
    free(r->path);
    free(r);
}

static void discard_body(struct web_req *r)
{
    if (r->pp) {
        MHD_destroy_post_processor(r->pp);
        r->pp = NULL;
    }
    r->has_raw = false;
    web_form_free(r);
    buf_free(&r->raw);
}

static int method_of(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return WEB_GET;
    if (strcmp(m, "POST") == 0)
        return WEB_POST;
    if (strcmp(m, "HEAD") == 0)
        return WEB_HEAD;
    return 0;
}

/* Framing errors (501, 413, 400) carry no body and close the connection. */
static enum MHD_Result queue_close(struct web_req *r, int status)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Connection", "close");
    MHD_add_response_header(resp, "Content-Type", TEXT_PLAIN);
    enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->state = WEB_REQ_QUEUED;
    return rc;
}

/* What stays true for the life of a TCP connection, computed once for it
 * instead of once per request: address formatting (inet_ntop, getsockname)
 * and Host validation were a fifth of the CPU of a keep-alive request. */
struct web_conn {
    struct web_guard_conn gc;
    char peer_ip[64];       /* normalized; "" when unknown */
    char local_ip[64];      /* normalized; filled on first use */
    bool have_peer, have_local;
    unsigned host_gen;      /* ws->auth_gen when `host` passed validation */
    char host[256];         /* last Host header that passed; "" = none */
};

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct web_server *ws = cls;
    struct web_conn *wc = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        wc = calloc(1, sizeof(*wc));
        *socket_context = wc;
        if (wc)
            web_guard_opened(&ws->guard, &wc->gc, c);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (wc)
            web_guard_closed(&ws->guard, &wc->gc);
        free(wc);
        *socket_context = NULL;
    }
}

static struct web_conn *conn_info(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static struct web_conn *conn_of(struct web_req *r)
{
    return conn_info(r->conn);
}

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

static int route_index(struct web_server *ws, const char *path)
{
    for (size_t i = 0; i < ws->nroutes; i++)
        if (strcmp(ws->routes[i].path, path) == 0)
            return (int)i;
    return -1;
}

static struct web_route *route_find(struct web_server *ws, const char *path)
{
    int i = route_index(ws, path);
    return i < 0 ? NULL : &ws->routes[i];
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

/* The header-level half of the §2.1 pipeline: CSRF, Host, client address,
 * session, and whether the route needs a session it does not have.  Runs
 * before a request body is read (on_access), so a client without the
 * password is answered without sending one.  false = replied (r->state
 * must be WEB_REQ_WAITING on entry). */
static bool admit(struct web_req *r)
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
    struct web_conn *wc = conn_of(r);
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
    }
    r->admitted = true;
    r->route = route_index(ws, r->path);
    bool needs_session = r->route >= 0 ? !ws->routes[r->route].is_public : is_v2_api_path(r->path);
    if (needs_session && !r->session) {
        web_reply_error(r, 403, NULL);
        return false;
    }
    return true;
}

/* The rest of the pipeline, then the route. */
static void dispatch(struct web_req *r)
{
    struct web_server *ws = r->ws;
    r->state = WEB_REQ_WAITING;
    if (!r->admitted && !admit(r))
        return;
    struct web_conn *wc = conn_of(r);
    if (wc)
        web_guard_busy(&ws->guard, &wc->gc, r->session != NULL);

    if (r->method != WEB_POST)
        web_form_collect_query(r);

    if (r->route >= 0) {
        struct web_route *rt = &ws->routes[r->route];
        unsigned allowed = rt->methods | ((rt->methods & WEB_GET) ? WEB_HEAD : 0);
        if (!(allowed & (unsigned)r->method)) {
            web_reply_error(r, 405, NULL);
            return;
        }
        rt->h(r, rt->ud);
        return;
    }
    if (is_v2_api_path(r->path)) {
        web_reply_error(r, 404, NULL);   /* admit() answered 403 without a session */
        return;
    }
    web_static_serve(r);
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    log_debug("web: mhd: %s", msg);
}

static bool is_form(const char *ct)
{
    if (!ct)
        return false;
    return strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 ||
           strncasecmp(ct, "multipart/form-data", 19) == 0;
}

/* A draining listener may differ from the current one in HTTPS. */
static bool conn_https(struct web_server *ws, struct MHD_Connection *c)
{
    if (ws->old) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
        if (ci && ci->daemon == ws->old->mhd)
            return ws->old->https;
    }
    return ws->https;
}

/* Hands a built reply (WEB_REQ_REPLIED) to MHD. */
static enum MHD_Result queue_reply(struct web_req *r)
{
    enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)r->status, r->resp);
    if (!r->resp_shared)
        MHD_destroy_response(r->resp);
    r->resp = NULL;
    r->state = WEB_REQ_QUEUED;
    return rc;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct web_server *ws = cls;
    struct web_req *r = *con_cls;

    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->ws = ws;
        r->conn = c;
        r->cur_part = -1;
        r->route = -1;
        r->body_cap = ws->max_body;
        r->https = conn_https(ws, c);
        r->method = method_of(method);
        r->path = strdup(url);
        *con_cls = r;
        if (!r->path)
            return MHD_NO;
        if (!r->method)
            return queue_close(r, 501);
        if (r->method == WEB_POST) {
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
            unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
            if (len > ws->max_body)
                return queue_close(r, 413);   /* before anything else, as qBittorrent's parser */
            if (len || MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding")) {
                /* A body follows: decide from the headers whether to read
                 * it at all.  An early reply makes MHD skip the body and
                 * close the connection after the reply. */
                r->state = WEB_REQ_WAITING;
                if (!admit(r))
                    return queue_reply(r);
                r->state = WEB_REQ_BODY;
                struct web_conn *wc = conn_info(c);
                if (r->session && wc)
                    web_guard_busy(&ws->guard, &wc->gc, true);   /* an upload may take its time */
                if (!r->session)
                    r->body_cap = WEB_UNAUTH_MAX_BODY;
            }
            if (len > r->body_cap)
                return queue_close(r, 413);
            const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
            if (is_form(ct))
                r->pp = MHD_create_post_processor(c, POST_BUFFER, web_form_iter, r);
            if (!r->pp)
                r->has_raw = true;
        }
        return MHD_YES;
    }

    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->state != WEB_REQ_BODY || r->too_large || r->bad_form)
            return MHD_YES;
        r->body_bytes += n;
        if (r->body_bytes > r->body_cap && r->admitted && !r->session) {
            /* Chunked, no session, past what a login needs: MHD cannot
             * answer mid-body, and reading on would let it cost us. */
            log_debug("web: unauthenticated body over %zu bytes from %s, connection dropped", r->body_cap,
                      r->client_ip);
            return MHD_NO;
        }
        if (r->body_bytes > r->body_cap) {
            r->too_large = true;
            discard_body(r);
        } else if (r->pp) {
            if (MHD_post_process(r->pp, upload_data, n) != MHD_YES) {
                r->bad_form = true;   /* 400 once the body is in */
                discard_body(r);
            }
        } else if (r->has_raw && buf_append(&r->raw, upload_data, n) != 0) {
            return MHD_NO;
        }
        return MHD_YES;
    }

    switch (r->state) {
    case WEB_REQ_BODY:
        if (r->too_large)
            return queue_close(r, 413);
        if (r->bad_form)
            return queue_close(r, 400);
        if (r->pp) {
            MHD_destroy_post_processor(r->pp);
            r->pp = NULL;
        }
        if (r->has_raw && buf_reserve(&r->raw, 1) == 0)
            r->raw.data[r->raw.len] = 0;
        dispatch(r);
        if (r->state == WEB_REQ_WAITING) {
            MHD_suspend_connection(c);
            r->suspended = true;
            r->pnext = ws->waiting;
            if (ws->waiting)
                ws->waiting->pprev = r;
            ws->waiting = r;
            return MHD_YES;
        }
        break;
    case WEB_REQ_WAITING:
    case WEB_REQ_QUEUED:
        return MHD_YES;
    case WEB_REQ_REPLIED:
        break;
    }
    return queue_reply(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct web_server *ws = cls;
    struct web_conn *wc = conn_info(c);
    if (wc)
        web_guard_idle(&ws->guard, &wc->gc);   /* waits for its next request now */
    struct web_req *r = *con_cls;
    *con_cls = NULL;
    if (!r)
        return;
    if (r->state == WEB_REQ_WAITING) {
        /* The handler still owes a reply: keep r until it comes. */
        waiting_unlink(r);
        r->conn = NULL;
        r->suspended = false;
        r->ws->jobs++;   /* the server outlives r */
        return;
    }
    req_free(r);
}

/* ---- replies ---- */

static bool accepts_gzip(const char *ae)
{
    if (!ae || strlen(ae) > 1024)
        return false;
    char s[1025];
    size_t n = 0;
    for (const char *p = ae; *p; p++)
        if (*p != ' ' && *p != '\t')
            s[n++] = *p;
    s[n] = 0;
    const char *codings[] = {"gzip", "*"};
    for (int k = 0; k < 2; k++) {
        size_t cl = strlen(codings[k]);
        char *save = NULL, copy[1025];
        memcpy(copy, s, n + 1);
        for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
            if (strncmp(it, codings[k], cl) != 0)
                continue;
            if (it[cl] == 0)
                return true;
            /* "gzip;q=0.5": skip the ";q=" */
            if (strlen(it) < cl + 3)
                return false;
            char *end;
            double q = strtod(it + cl + 3, &end);
            if (end == it + cl + 3 || *end || !(q > 0))
                return false;
            return true;
        }
    }
    return false;
}

/* gzip level 6 if it saves at least the 24 bytes of the header line. */
static bool gzip_body(char **body, size_t *len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    uLong cap = deflateBound(&z, (uLong)*len);
    char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return false;
    }
    z.next_in = (Bytef *)*body;
    z.avail_in = (uInt)*len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t outlen = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || outlen + 24 >= *len) {
        free(out);
        return false;
    }
    free(*body);
    *body = out;
    *len = outlen;
    return true;
}

/* Small replies repeat (app/version, the empty 200 of every action, `Ok.`,
 * error texts): building one costs more than the request itself (a dozen
 * header copies), so replies without per-request headers are prepared once
 * and shared until the security headers change (auth_gen). */
static bool reply_cacheable(const struct web_req *r, const char *ctype, size_t len)
{
    return r->nhdrs == 0 && len <= WEB_REPLY_CACHE_BODY && (!ctype || strlen(ctype) < sizeof(r->ws->replies[0].ctype));
}

static struct web_cached_reply *reply_cached(struct web_server *ws, const char *ctype, const char *body, size_t len)
{
    for (size_t i = 0; i < WEB_REPLY_CACHE; i++) {
        struct web_cached_reply *c = &ws->replies[i];
        if (c->resp && c->gen == ws->auth_gen && c->len == len && strcmp(c->ctype, ctype ? ctype : "") == 0 &&
            memcmp(c->body, body, len) == 0)
            return c;
    }
    return NULL;
}

static void reply_cache_put(struct web_server *ws, struct MHD_Response *resp, const char *ctype, const char *body,
                            size_t len)
{
    struct web_cached_reply *c = &ws->replies[ws->next_reply++ % WEB_REPLY_CACHE];
    if (c->resp)
        MHD_destroy_response(c->resp);   /* connections still sending it keep their reference */
    c->resp = resp;
    c->gen = ws->auth_gen;
    snprintf(c->ctype, sizeof(c->ctype), "%s", ctype ? ctype : "");
    memcpy(c->body, body, len);
    c->len = len;
}

static void reply_cache_free(struct web_server *ws)
{
    for (size_t i = 0; i < WEB_REPLY_CACHE; i++)
        if (ws->replies[i].resp)
            MHD_destroy_response(ws->replies[i].resp);
}

static void reply_ready(struct web_req *r, struct MHD_Response *resp, bool shared, int status)
{
    r->resp = resp;
    r->resp_shared = shared;
    r->status = status;
    r->state = WEB_REQ_REPLIED;
    if (r->suspended) {
        waiting_unlink(r);
        r->suspended = false;
        MHD_resume_connection(r->conn);
        kick(r->ws);
    }
}

void web_reply_take(struct web_req *r, int status, const char *content_type, char *body, size_t len)
{
    if (!r) {
        free(body);
        return;
    }
    if (!r->conn) {            /* connection gone while the handler worked */
        struct web_server *ws = r->ws;
        free(body);
        req_free(r);
        web_server_job_done(ws);
        return;
    }
    if (r->state != WEB_REQ_WAITING) {
        log_debug("web: second reply to %s ignored", r->path);
        free(body);
        return;
    }
    struct web_server *ws = r->ws;
    bool gz = false;
    if (len > 1024 && content_type && strncmp(content_type, "image/png", 9) != 0 &&
        strncmp(content_type, "image/gif", 9) != 0 && accepts_gzip(web_req_header(r, "Accept-Encoding")) &&
        len <= UINT32_MAX)
        gz = gzip_body(&body, &len);

    bool cacheable = !gz && reply_cacheable(r, content_type, len);
    char small[WEB_REPLY_CACHE_BODY];
    if (cacheable) {
        struct web_cached_reply *c = reply_cached(ws, content_type, body ? body : "", len);
        if (c) {
            free(body);
            reply_ready(r, c->resp, true, status);
            return;
        }
        memcpy(small, body ? body : "", len);
    }

    struct MHD_Response *resp;
    if (len == 0) {
        free(body);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(body);
    }
    if (!resp) {
        /* Nothing to send: drop the connection rather than hang it. */
        r->state = WEB_REQ_QUEUED;
        if (r->suspended) {
            waiting_unlink(r);
            r->suspended = false;
            MHD_resume_connection(r->conn);
            kick(ws);
        }
        return;
    }
    if (content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    /* qBittorrent announces keep-alive on every reply; MHD still closes
     * when the client asked for it (HTTP/1.0, Connection: close). */
    MHD_add_response_header(resp, "Connection", "keep-alive");
    if (gz)
        MHD_add_response_header(resp, "Content-Encoding", "gzip");
    for (size_t i = 0; i < ws->nprebuilt; i++)
        MHD_add_response_header(resp, ws->prebuilt[i].name, ws->prebuilt[i].value);
    for (size_t i = 0; i < r->nhdrs; i++)
        MHD_add_response_header(resp, r->hdrs[i].name, r->hdrs[i].value);
    if (cacheable)
        reply_cache_put(ws, resp, content_type, small, len);
    reply_ready(r, resp, cacheable, status);
}

void web_reply(struct web_req *r, int status, const char *content_type, const void *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy && len)
        memcpy(copy, body, len);
    if (!copy)
        len = 0, status = 500;
    web_reply_take(r, status, content_type, copy, len);
}

void web_reply_text(struct web_req *r, int status, const char *text)
{
    web_reply(r, status, TEXT_PLAIN, text ? text : "", text ? strlen(text) : 0);
}

void web_reply_json(struct web_req *r, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!s) {
        web_reply_error(r, 500, NULL);
        return;
    }
    web_reply_take(r, 200, "application/json", s, strlen(s));
}

void web_reply_json_str(struct web_req *r, char *s, size_t len)
{
    web_reply_take(r, 200, "application/json", s, s ? len : 0);
}

void web_reply_ok(struct web_req *r)
{
    web_reply(r, 200, TEXT_PLAIN, "", 0);
}

void web_reply_error(struct web_req *r, int status, const char *msg)
{
    web_reply_text(r, status, msg ? msg : web_reason_phrase(status));
}

static bool header_ok(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

void web_req_add_header(struct web_req *r, const char *name, const char *value)
{
    if (!r || r->nhdrs >= WEB_MAX_HEADERS || !header_ok(name) || !*name || !header_ok(value))
        return;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return;
    }
    r->hdrs[r->nhdrs].name = n;
    r->hdrs[r->nhdrs].value = v;
    r->nhdrs++;
}

/* ---- accessors ---- */

const char *web_req_header(struct web_req *r, const char *name)
{
    if (!r || !r->conn || !name)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *web_req_client_ip(struct web_req *r) { return r->client_ip; }
const char *web_req_path(struct web_req *r) { return r->path; }
int web_req_method(struct web_req *r) { return r->method; }
bool web_req_is_https(struct web_req *r) { return r->https; }
struct web_server *web_req_server(struct web_req *r) { return r->ws; }

void **web_req_session_slot(struct web_req *r)
{
    return r && r->session ? &r->session->slot : NULL;
}

void *web_req_session(struct web_req *r)
{
    return r && r->session ? r->session->slot : NULL;
}

/* ---- configuration ---- */

static int prebuilt_add(struct web_hdr **arr, size_t *n, const char *name, const char *value)
{
    struct web_hdr *p = realloc(*arr, (*n + 1) * sizeof(**arr));
    if (!p)
        return -ENOMEM;
    *arr = p;
    p[*n].name = strdup(name);
    p[*n].value = strdup(value);
    if (!p[*n].name || !p[*n].value) {
        free(p[*n].name);
        free(p[*n].value);
        return -ENOMEM;
    }
    (*n)++;
    return 0;
}

static int build_prebuilt(struct web_server *ws, struct web_hdr **out, size_t *nout)
{
    const struct web_auth_config *a = &ws->auth;
    struct web_hdr *arr = NULL;
    size_t n = 0;
    int rc = prebuilt_add(&arr, &n, "X-XSS-Protection", "1; mode=block");
    rc |= prebuilt_add(&arr, &n, "X-Content-Type-Options", "nosniff");
    if (!ws->alt_ui) {
        rc |= prebuilt_add(&arr, &n, "Cross-Origin-Opener-Policy", "same-origin");
        rc |= prebuilt_add(&arr, &n, "Referrer-Policy", "same-origin");
    }
    if (a->clickjacking_protection)
        rc |= prebuilt_add(&arr, &n, "X-Frame-Options", "SAMEORIGIN");
    char csp[512];
    snprintf(csp, sizeof(csp), "%s%s%s", ws->alt_ui ? "" : CSP,
             a->clickjacking_protection ? " frame-ancestors 'self';" : "",
             ws->https ? " upgrade-insecure-requests;" : "");
    const char *cspv = csp[0] == ' ' ? csp + 1 : csp;
    if (*cspv)
        rc |= prebuilt_add(&arr, &n, "Content-Security-Policy", cspv);

    const char *p = a->use_custom_headers && a->custom_headers ? a->custom_headers : "";
    for (int lines = 0; *p && lines < 256; lines++) {
        size_t len = strcspn(p, "\n");
        const char *colon = memchr(p, ':', len);
        if (colon) {
            char name[256], value[4096];
            const char *ns = p, *ne = colon, *vs = colon + 1, *ve = p + len;
            while (ns < ne && (*ns == ' ' || *ns == '\t'))
                ns++;
            while (ne > ns && (ne[-1] == ' ' || ne[-1] == '\t' || ne[-1] == '\r'))
                ne--;
            while (vs < ve && (*vs == ' ' || *vs == '\t'))
                vs++;
            while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
                ve--;
            if (ne > ns && (size_t)(ne - ns) < sizeof(name) && (size_t)(ve - vs) < sizeof(value)) {
                for (size_t i = 0; i < (size_t)(ne - ns); i++)
                    name[i] = (char)tolower((unsigned char)ns[i]);
                name[ne - ns] = 0;
                memcpy(value, vs, (size_t)(ve - vs));
                value[ve - vs] = 0;
                if (!strpbrk(name, " \t\r\n") && !strpbrk(value, "\r\n"))
                    rc |= prebuilt_add(&arr, &n, name, value);
            }
        } else if (len) {
            log_msg(LOG_WARNING, "Missing ':' separator in WebUI custom HTTP header: \"%.*s\"", (int)len, p);
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    if (rc) {
        for (size_t i = 0; i < n; i++) {
            free(arr[i].name);
            free(arr[i].value);
        }
        free(arr);
        return -ENOMEM;
    }
    *out = arr;
    *nout = n;
    return 0;
}

int web_server_set_static_root(struct web_server *ws, const char *root, bool alternative_ui)
{
    char *dup = root && *root ? strdup(root) : NULL;
    if (root && *root && !dup)
        return -ENOMEM;
    free(ws->static_root);
    ws->static_root = dup;
    ws->alt_ui = alternative_ui;
    /* The security headers differ for the alternative UI: rebuild them. */
    struct web_auth_config same = ws->auth;
    return web_server_set_auth(ws, &same);
}

int web_server_set_auth(struct web_server *ws, const struct web_auth_config *c)
{
    if (!ws || !c)
        return -EINVAL;
    const char *src[8] = {c->username, c->password_hash, c->domain_list, c->bypass_auth_subnet_whitelist,
                          c->custom_headers, c->trusted_proxies, NULL, NULL};
    char *dup[8] = {0};
    for (int i = 0; i < 6; i++) {
        dup[i] = strdup(src[i] ? src[i] : "");
        if (!dup[i]) {
            for (int k = 0; k < i; k++)
                free(dup[k]);
            return -ENOMEM;
        }
    }
    struct web_auth_config old = ws->auth;
    ws->auth = *c;
    ws->auth.username = dup[0];
    ws->auth.password_hash = dup[1];
    ws->auth.domain_list = dup[2];
    ws->auth.bypass_auth_subnet_whitelist = dup[3];
    ws->auth.custom_headers = dup[4];
    ws->auth.trusted_proxies = dup[5];
    struct web_hdr *pre;
    size_t npre;
    if (build_prebuilt(ws, &pre, &npre) != 0) {
        ws->auth = old;
        for (int i = 0; i < 6; i++)
            free(dup[i]);
        return -ENOMEM;
    }
    for (int i = 0; i < 8; i++) {
        free(ws->auth_strings[i]);
        ws->auth_strings[i] = dup[i];
    }
    for (size_t i = 0; i < ws->nprebuilt; i++) {
        free(ws->prebuilt[i].name);
        free(ws->prebuilt[i].value);
    }
    free(ws->prebuilt);
    ws->prebuilt = pre;
    ws->nprebuilt = npre;
    ws->auth_gen++;
    return 0;
}

void web_server_set_session_free(struct web_server *ws, void (*fn)(void *slot))
{
    ws->session_free = fn;
}

static int route_add(struct web_server *ws, const char *path, unsigned methods, web_handler h, void *ud,
                     bool pub)
{
    if (!ws || !path || path[0] != '/' || !h || !(methods & (WEB_GET | WEB_POST | WEB_HEAD)))
        return -EINVAL;
    if (route_find(ws, path))
        return -EEXIST;
    if (ws->nroutes == ws->caproutes) {
        size_t nc = ws->caproutes ? ws->caproutes * 2 : 64;
        struct web_route *p = realloc(ws->routes, nc * sizeof(*p));
        if (!p)
            return -ENOMEM;
        ws->routes = p;
        ws->caproutes = nc;
    }
    char *dup = strdup(path);
    if (!dup)
        return -ENOMEM;
    ws->routes[ws->nroutes++] = (struct web_route){dup, methods, pub, h, ud};
    return 0;
}

int web_route_add(struct web_server *ws, const char *path, unsigned methods, web_handler h, void *ud)
{
    return route_add(ws, path, methods, h, ud, false);
}

int web_route_add_public(struct web_server *ws, const char *path, unsigned methods, web_handler h, void *ud)
{
    return route_add(ws, path, methods, h, ud, true);
}

int web_server_port(const struct web_server *ws)
{
    return ws ? ws->port : -1;
}

static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = malloc(TLS_FILE_MAX + 1);
    size_t n = data ? fread(data, 1, TLS_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (!data || n == 0 || n > TLS_FILE_MAX) {
        free(data);
        return NULL;
    }
    data[n] = 0;
    return data;
}

static struct MHD_Daemon *start_mhd(struct web_server *ws, const struct web_config *cfg,
                                     const struct web_listener *l)
{
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    bool have_addr = false;
    const char *addr = cfg->address;
    uint16_t port = (uint16_t)cfg->port;
    if (!addr || !*addr || strcmp(addr, "*") == 0) {
        flags |= MHD_USE_DUAL_STACK;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
            s4->sin_family = AF_INET;
            s4->sin_port = htons(port);
        } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons(port);
            flags |= MHD_USE_IPv6;
        } else {
            log_msg(LOG_CRITICAL, "WebUI: invalid listen address '%s'", addr);
            return NULL;
        }
        have_addr = true;
    }
    if (l->https)
        flags |= MHD_USE_TLS;

    struct MHD_OptionItem opts[16];
    int n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                        cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONN, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                        cfg->idle_timeout_s ? cfg->idle_timeout_s : DEFAULT_IDLE_S, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY_LIMIT, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, ws};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, ws};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)log_mhd, ws};
    if (have_addr)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    if (l->https) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, l->tls_cert};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, l->tls_key};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    struct MHD_Daemon *d = MHD_start_daemon(flags, port, NULL, NULL, on_access, ws,
                                            MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!d && (flags & MHD_USE_DUAL_STACK) == MHD_USE_DUAL_STACK) {
        /* No IPv6 on this host: plain IPv4. */
        flags &= ~(unsigned)MHD_USE_DUAL_STACK;
        d = MHD_start_daemon(flags, port, NULL, NULL, on_access, ws, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    }
    return d;
}

/* Reads the certificate and key for HTTPS; false (logged) when either is
 * unreadable.  Empty paths mean plain HTTP. */
static bool read_tls(const char *cert_path, const char *key_path, char **cert, char **key)
{
    *cert = *key = NULL;
    if (!cert_path || !*cert_path || !key_path || !*key_path)
        return true;
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        log_msg(LOG_CRITICAL, "WebUI: HTTPS requested but libmicrohttpd has no TLS support");
        return false;
    }
    *cert = read_small_file(cert_path);
    *key = read_small_file(key_path);
    if (*cert && *key)
        return true;
    log_msg(LOG_CRITICAL, "WebUI: cannot read HTTPS certificate or key (%s, %s)", cert_path, key_path);
    free(*cert);
    free(*key);
    *cert = *key = NULL;
    return false;
}

/* Takes cert and key (both NULL = HTTP); NULL when MHD cannot listen. */
static struct web_listener *listener_open(struct web_server *ws, const struct web_config *cfg,
                                          char *cert, char *key)
{
    struct web_listener *l = calloc(1, sizeof(*l));
    if (!l) {
        free(cert);
        free(key);
        return NULL;
    }
    l->ws = ws;
    l->tls_cert = cert;
    l->tls_key = key;
    l->https = cert && key;
    l->mhd = start_mhd(ws, cfg, l);
    const union MHD_DaemonInfo *ei = l->mhd ? MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!ei || uv_poll_init(ws->loop, &l->poll, ei->epoll_fd) != 0) {
        if (l->mhd)
            MHD_stop_daemon(l->mhd);
        free(cert);
        free(key);
        free(l);
        return NULL;
    }
    uv_timer_init(ws->loop, &l->timer);
    l->poll.data = l->timer.data = l;
    l->handles = 2;
    ws->open_handles++;
    uv_poll_start(&l->poll, UV_READABLE, on_poll);
    schedule(l);
    return l;
}

/* Stops l's daemon.  Its suspended requests are resumed first (MHD refuses
 * to stop otherwise); on_completed detaches them and they wait for their
 * reply, which is then dropped. */
static void listener_close(struct web_listener *l)
{
    if (l->closing)
        return;
    for (struct web_req *r = l->ws->waiting; r; r = r->pnext) {
        if (!r->suspended || !r->conn)
            continue;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_DAEMON);
        if (ci && ci->daemon == l->mhd) {
            MHD_resume_connection(r->conn);
            r->suspended = false;
        }
    }
    l->closing = true;
    uv_poll_stop(&l->poll);
    uv_timer_stop(&l->timer);
    MHD_stop_daemon(l->mhd);
    l->mhd = NULL;
    uv_close((uv_handle_t *)&l->poll, on_listener_handle_closed);
    uv_close((uv_handle_t *)&l->timer, on_listener_handle_closed);
}

static int bound_port(struct web_listener *l, int fallback)
{
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_BIND_PORT);
    return pi && pi->port ? pi->port : fallback;
}

int web_server_start(uv_loop_t *loop, const struct web_config *cfg, struct web_server **out)
{
    if (!loop || !cfg || !out)
        return -EINVAL;
    *out = NULL;
    struct web_server *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return -ENOMEM;
    ws->loop = loop;
    ws->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
    ws->alt_ui = cfg->alternative_ui;
    ws->cfg_limits.max_connections = cfg->max_connections;
    ws->cfg_limits.idle_timeout_s = cfg->idle_timeout_s;
    ws->stopping = true;   /* until fully started, so maybe_free() works on failure */
    int rc = -ENOMEM;
    char *cert, *key;
    if (!(ws->address = strdup(cfg->address ? cfg->address : "*")))
        goto fail;
    if (cfg->static_root && !(ws->static_root = strdup(cfg->static_root)))
        goto fail;
    if (!read_tls(cfg->https_cert_path, cfg->https_key_path, &cert, &key))
        log_msg(LOG_CRITICAL, "WebUI: HTTPS setup failed, fallback to HTTP");
    ws->https = cert && key;
    if ((rc = web_server_set_auth(ws, &cfg->auth)) != 0) {
        free(cert);
        free(key);
        goto fail;
    }
    if ((rc = web_session_register_routes(ws)) != 0 || (rc = web_app_identity_register(ws)) != 0) {
        free(cert);
        free(key);
        goto fail;
    }
    bool want_https = cert && key;
    ws->lst = listener_open(ws, cfg, cert, key);
    if (!ws->lst && want_https) {
        /* A certificate or key MHD cannot use: qBittorrent serves HTTP then. */
        log_msg(LOG_CRITICAL, "WebUI: HTTPS setup failed, fallback to HTTP");
        ws->https = false;
        web_server_set_auth(ws, &cfg->auth);
        ws->lst = listener_open(ws, cfg, NULL, NULL);
    }
    if (!ws->lst) {
        log_msg(LOG_CRITICAL, "WebUI: cannot listen on %s:%d", ws->address, cfg->port);
        rc = -EADDRINUSE;
        goto fail;
    }
    ws->port = bound_port(ws->lst, cfg->port);
    uv_timer_init(loop, &ws->rebind_timer);
    ws->rebind_timer.data = ws;
    ws->open_handles++;
    web_guard_init(&ws->guard, loop, cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONN);
    ws->open_handles++;
    ws->stopping = false;
    log_msg(LOG_INFO, "WebUI: listening on %s port %d%s", ws->address, ws->port, ws->https ? " (HTTPS)" : "");
    *out = ws;
    return 0;
fail:
    maybe_free(ws);
    return rc;
}

static void on_rebind(uv_timer_t *t)
{
    struct web_server *ws = t->data;
    struct web_bind *b = ws->want;
    ws->want = NULL;
    if (!b || ws->stopping) {
        bind_free(b);
        return;
    }
    struct web_config cfg = ws->cfg_limits;
    cfg.address = b->address ? b->address : ws->address;
    cfg.port = b->port >= 0 ? b->port : ws->port;
    char *cert, *key;
    if (!read_tls(b->cert_path, b->key_path, &cert, &key))
        log_msg(LOG_CRITICAL, "WebUI: HTTPS setup failed, fallback to HTTP");
    bool https = cert && key;
    struct web_listener *cur = ws->lst;
    bool same = strcmp(cfg.address, ws->address) == 0 && cfg.port == ws->port && https == cur->https &&
                (!https || (strcmp(cert, cur->tls_cert) == 0 && strcmp(key, cur->tls_key) == 0));
    if (same) {
        free(cert);
        free(key);
        bind_free(b);
        return;
    }
    if (ws->old) {
        listener_close(ws->old);
        ws->old = NULL;
    }
    /* The new listener may need the very address and port of the current
     * one, so the current one stops accepting first. */
    MHD_socket fd = MHD_quiesce_daemon(cur->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    struct web_listener *l = listener_open(ws, &cfg, cert, key);
    if (!l && https) {
        log_msg(LOG_CRITICAL, "WebUI: HTTPS setup failed, fallback to HTTP");
        l = listener_open(ws, &cfg, NULL, NULL);
    }
    if (!l) {
        log_msg(LOG_CRITICAL, "WebUI: Unable to bind to IP: %s, port: %d", cfg.address, cfg.port);
        struct web_config back = ws->cfg_limits;
        back.address = ws->address;
        back.port = ws->port;
        char *c0 = cur->tls_cert ? strdup(cur->tls_cert) : NULL, *k0 = cur->tls_key ? strdup(cur->tls_key) : NULL;
        l = listener_open(ws, &back, c0, k0);
        if (!l) {
            log_msg(LOG_CRITICAL, "WebUI: cannot listen on %s:%d any more", ws->address, ws->port);
            bind_free(b);
            return;
        }
    } else {
        char *a = strdup(cfg.address);
        if (a) {
            free(ws->address);
            ws->address = a;
        }
        ws->port = bound_port(l, cfg.port);
    }
    cur->drain_until = uv_now(ws->loop) + DRAIN_MS;
    ws->old = cur;
    ws->lst = l;
    schedule(cur);
    if (ws->https != l->https) {
        /* upgrade-insecure-requests and the Secure cookie follow HTTPS. */
        ws->https = l->https;
        struct web_auth_config same_auth = ws->auth;
        web_server_set_auth(ws, &same_auth);
    }
    if (l->https)
        log_msg(LOG_INFO, "WebUI: HTTPS setup successful");
    log_msg(LOG_INFO, "WebUI: Now listening on IP: %s, port: %d", ws->address, ws->port);
    bind_free(b);
}

int web_server_rebind(struct web_server *ws, const char *address, int port, const char *cert_path,
                      const char *key_path)
{
    if (!ws || ws->stopping || port > 65535)
        return -EINVAL;
    struct web_bind *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->port = port;
    b->address = address ? strdup(address) : NULL;
    b->cert_path = strdup(cert_path ? cert_path : "");
    b->key_path = strdup(key_path ? key_path : "");
    if ((address && !b->address) || !b->cert_path || !b->key_path) {
        bind_free(b);
        return -ENOMEM;
    }
    bind_free(ws->want);
    ws->want = b;
    uv_timer_start(&ws->rebind_timer, on_rebind, 0, 0);
    return 0;
}

void web_server_stop(struct web_server *ws)
{
    if (!ws || ws->stopping)
        return;
    if (ws->old)
        listener_close(ws->old);
    ws->old = NULL;
    listener_close(ws->lst);
    ws->stopping = true;
    uv_timer_stop(&ws->rebind_timer);
    uv_close((uv_handle_t *)&ws->rebind_timer, on_handle_closed);
    web_guard_close(&ws->guard, on_guard_closed);
}
