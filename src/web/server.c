/* web/server — libmicrohttpd's callbacks on the libuv loop: the request
 * life cycle (headers, body, dispatch, suspend/resume for deferred
 * replies), request accessors and the server's configuration.  See
 * server.h for the why; the listening sockets are web/listener.c, routes
 * and auth policies web/router.c, replies web/reply.c.
 *
 * The shape of on_access (called once for the headers, again per body
 * chunk, once more at the end) is libmicrohttpd's; the pipeline order
 * follows qBittorrent's WebApplication::processRequest (../shared/docs/api-surface.md, outside the repository,
 * §2.1), so that clients cannot tell the two apart.
 */
#include "web/server.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "web/web_int.h"

#define DEFAULT_MAX_BODY (64u * 1024 * 1024)
#define DEFAULT_MAX_CONN 500
#define POST_BUFFER 65536

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


static void maybe_free(struct web_server *ws)
{
    if (!ws->stopping || ws->open_handles > 0 || ws->jobs > 0)
        return;
    web_bind_free(ws->want);
    free(ws->address);
    web_reply_cache_free(ws);
    web_sessions_free(ws);
    web_routes_free(ws);
    free(ws->api_token);
    free(ws->ops_token);
    free(ws->api_key);
    free(ws->basic_guest);
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

void web_server_handle_closed(struct web_server *ws)
{
    ws->open_handles--;
    maybe_free(ws);
}

static void on_guard_closed(uv_handle_t *h)
{
    struct web_server *ws = (struct web_server *)(void *)((char *)h->data - offsetof(struct web_server, guard));
    ws->open_handles--;
    maybe_free(ws);
}


void web_kick(struct web_server *ws)
{
    if (ws->stopping)
        return;
    web_listener_kick(ws->lst);
    web_listener_kick(ws->old);
}

/* ---- requests ---- */

void web_waiting_unlink(struct web_req *r)
{
    if (r->pprev)
        r->pprev->pnext = r->pnext;
    else if (r->ws->waiting == r)
        r->ws->waiting = r->pnext;
    if (r->pnext)
        r->pnext->pprev = r->pprev;
    r->pnext = r->pprev = NULL;
}

void web_req_free(struct web_req *r)
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
    free(r->query);
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
/* msg: a static string naming what was wrong, or NULL for an empty body. */
static enum MHD_Result queue_close(struct web_req *r, int status, const char *msg)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(msg ? strlen(msg) : 0, (void *)(msg ? msg : ""),
                                                                MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Connection", "close");
    MHD_add_response_header(resp, "Content-Type", TEXT_PLAIN);
    web_stats_count(r->ws, r->path, status);
    enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->state = WEB_REQ_QUEUED;
    return rc;
}

void web_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
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
        if (wc) {
            web_guard_closed(&ws->guard, &wc->gc);
            free(wc->query);
        }
        free(wc);
        *socket_context = NULL;
    }
}

struct web_conn *web_conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    return ci ? ci->socket_context : NULL;
}


void web_log_mhd(void *cls, const char *fmt, va_list ap)
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
    if (ws->old && web_listener_owns(ws->old, c))
        return web_listener_https(ws->old);
    return ws->https;
}

/* Hands a built reply (WEB_REQ_REPLIED) to MHD. */
static enum MHD_Result queue_reply(struct web_req *r)
{
    web_stats_count(r->ws, r->path, r->status);
    enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)r->status, r->resp);
    if (!r->resp_shared)
        MHD_destroy_response(r->resp);
    r->resp = NULL;
    r->state = WEB_REQ_QUEUED;
    return rc;
}

/* The raw query is only ever seen here: MHD hands the access handler the
 * path and the decoded arguments, last duplicate indistinguishable from
 * the first.  A dialect that needs the parameters in order with repeats
 * (µTorrent's hash=…&s=…&v=… sequences) reads web_req_query instead. */
void *web_on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    struct web_conn *wc = web_conn_of(c);
    if (!wc)
        return NULL;
    free(wc->query);
    const char *q = uri ? strchr(uri, '?') : NULL;
    wc->query = q ? strdup(q + 1) : NULL;   /* NULL on ENOMEM: seen as no query */
    return NULL;
}

enum MHD_Result web_on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **con_cls)
{
    (void)version;
    struct web_server *ws = cls;
    struct web_req *r = *con_cls;

    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        struct web_conn *wc = web_conn_of(c);
        if (wc) {
            r->query = wc->query;   /* web_on_uri's, for this request */
            wc->query = NULL;
        }
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
            return queue_close(r, 501, NULL);
        if (r->method == WEB_POST) {
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
            unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
            if (len > ws->max_body)
                return queue_close(r, 413, NULL);   /* before anything else, as qBittorrent's parser */
            if (len || MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding")) {
                /* A body follows: decide from the headers whether to read
                 * it at all.  An early reply makes MHD skip the body and
                 * close the connection after the reply. */
                r->state = WEB_REQ_WAITING;
                if (!web_admit(r))
                    return queue_reply(r);
                r->state = WEB_REQ_BODY;
                struct web_conn *wc = web_conn_of(c);
                if (r->authed && wc)
                    web_guard_busy(&ws->guard, &wc->gc, true);   /* an upload may take its time */
                if (!r->authed)
                    r->body_cap = WEB_UNAUTH_MAX_BODY;
            }
            if (len > r->body_cap)
                return queue_close(r, 413, NULL);
            const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
            if (is_form(ct)) {
                r->pp = MHD_create_post_processor(c, POST_BUFFER, web_form_iter, r);
                web_form_multipart_begin(&r->mp_end, ct);
            }
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
        if (r->body_bytes > r->body_cap && r->admitted && !r->authed) {
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
            size_t feed = web_form_multipart_feed(&r->mp_end, upload_data, n);   /* no epilogue */
            if (feed && MHD_post_process(r->pp, upload_data, feed) != MHD_YES) {
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
            return queue_close(r, 413, NULL);
        if (r->bad_form)
            return queue_close(r, 400, r->form_error ? r->form_error : "Malformed form body");
        if (r->pp) {
            MHD_destroy_post_processor(r->pp);
            r->pp = NULL;
        }
        if (r->has_raw && buf_reserve(&r->raw, 1) == 0)
            r->raw.data[r->raw.len] = 0;
        web_dispatch(r);
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

void web_on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct web_server *ws = cls;
    struct web_conn *wc = web_conn_of(c);
    if (wc)
        web_guard_idle(&ws->guard, &wc->gc);   /* waits for its next request now */
    struct web_req *r = *con_cls;
    *con_cls = NULL;
    if (!r)
        return;
    if (r->state == WEB_REQ_WAITING) {
        /* The handler still owes a reply: keep r until it comes. */
        web_waiting_unlink(r);
        r->conn = NULL;
        r->suspended = false;
        r->ws->jobs++;   /* the server outlives r */
        return;
    }
    web_req_free(r);
}


/* ---- accessors ---- */

const char *web_req_header(struct web_req *r, const char *name)
{
    if (!r || !r->conn || !name)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *web_req_client_ip(struct web_req *r) { return r->client_ip; }
const char *web_req_query(struct web_req *r) { return r->query ? r->query : ""; }
bool web_req_is_guest(struct web_req *r) { return r->guest; }
const char *web_req_path(struct web_req *r) { return r->path; }
int web_req_method(struct web_req *r) { return r->method; }
bool web_req_is_https(struct web_req *r) { return r->https; }
struct web_server *web_req_server(struct web_req *r) { return r->ws; }

void **web_req_dialect_slot(struct web_req *r, int dialect)
{
    if (!r || !r->session || dialect < 0 || dialect >= WEB_MAX_DIALECTS)
        return NULL;
    return &r->session->slots[dialect];
}

void **web_req_session_slot(struct web_req *r)
{
    return web_req_dialect_slot(r, 0);
}

void *web_req_session(struct web_req *r)
{
    return r && r->session ? r->session->slots[0] : NULL;
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
    ws->builtin_ui = false;
    /* The security headers differ for the alternative UI: rebuild them. */
    struct web_auth_config same = ws->auth;
    return web_server_set_auth(ws, &same);
}

int web_server_use_builtin_ui(struct web_server *ws)
{
    int rc = web_server_set_static_root(ws, NULL, false);
    ws->builtin_ui = true;
    return rc;
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
    ws->slot_free[0] = fn;
}

int web_dialect_register(struct web_server *ws, const char *name, void (*slot_free)(void *slot))
{
    if (!ws || ws->ndialects + 1 >= WEB_MAX_DIALECTS)
        return -ENOSPC;
    int id = ++ws->ndialects;
    ws->slot_free[id] = slot_free;
    log_debug("web: dialect %s has session slot %d", name ? name : "?", id);
    return id;
}

int web_server_set_basic_guest(struct web_server *ws, const char *user)
{
    char *dup = NULL;
    if (user && *user && !(dup = strdup(user)))
        return -ENOMEM;
    free(ws->basic_guest);
    ws->basic_guest = dup;
    return 0;
}

int web_server_set_ops_token(struct web_server *ws, const char *token)
{
    char *dup = token && *token ? strdup(token) : NULL;
    if (token && *token && !dup)
        return -ENOMEM;
    free(ws->ops_token);
    ws->ops_token = dup;
    return 0;
}

int web_server_set_api_key(struct web_server *ws, const char *key)
{
    char *dup = key && *key ? strdup(key) : NULL;
    if (key && *key && !dup)
        return -ENOMEM;
    free(ws->api_key);
    ws->api_key = dup;
    return 0;
}

int web_server_set_api_token(struct web_server *ws, const char *token)
{
    char *dup = token && *token ? strdup(token) : NULL;
    if (token && *token && !dup)
        return -ENOMEM;
    free(ws->api_token);
    ws->api_token = dup;
    return 0;
}


int web_server_port(const struct web_server *ws)
{
    return ws ? ws->port : -1;
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
    if (!web_read_tls(cfg->https_cert_path, cfg->https_key_path, &cert, &key))
        log_msg(LOG_CRITICAL, "WebUI: HTTPS setup failed, fallback to HTTP");
    ws->https = cert && key;
    if ((rc = web_server_set_auth(ws, &cfg->auth)) != 0) {
        free(cert);
        free(key);
        goto fail;
    }
    if ((rc = web_app_identity_register(ws)) != 0) {
        free(cert);
        free(key);
        goto fail;
    }
    bool want_https = cert && key;
    ws->lst = web_listener_open(ws, cfg, cert, key);
    if (!ws->lst && want_https) {
        /* A certificate or key MHD cannot use: qBittorrent serves HTTP then. */
        log_msg(LOG_CRITICAL, "WebUI: HTTPS setup failed, fallback to HTTP");
        ws->https = false;
        web_server_set_auth(ws, &cfg->auth);
        ws->lst = web_listener_open(ws, cfg, NULL, NULL);
    }
    if (!ws->lst) {
        log_msg(LOG_CRITICAL, "WebUI: cannot listen on %s:%d", ws->address, cfg->port);
        rc = -EADDRINUSE;
        goto fail;
    }
    ws->port = web_listener_port(ws->lst, cfg->port);
    uv_timer_init(loop, &ws->rebind_timer);   /* started by web_server_rebind (listener.c) */
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


void web_server_stop(struct web_server *ws)
{
    if (!ws || ws->stopping)
        return;
    if (ws->old)
        web_listener_close(ws->old);
    ws->old = NULL;
    web_listener_close(ws->lst);
    ws->stopping = true;
    uv_timer_stop(&ws->rebind_timer);
    uv_close((uv_handle_t *)&ws->rebind_timer, on_handle_closed);
    web_guard_close(&ws->guard, on_guard_closed);
}
