/* web/server — the HTTP server every API dialect and the web UI sit on.
 *
 * Why this shape:
 * - libmicrohttpd does the HTTP/1.1 work (keep-alive, chunking, limits,
 *   TLS), but it runs on the daemon's ONE loop thread, not on its own: MHD is
 *   started with MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME and no internal
 *   thread, its epoll fd is watched by a uv_poll_t and MHD_run() is called
 *   when that fd is readable and from a uv_timer_t armed with
 *   MHD_get_timeout().  Handlers therefore run on the loop thread and may
 *   touch session/torrent state directly (one owner thread, no locks).
 * - A handler need not answer at once (e.g. it waits for an SQLite commit or
 *   a worker-thread job): if it returns without replying, the connection is
 *   suspended and resumed when web_reply*() is finally called.
 * - Everything qBittorrent 5.1 does at the HTTP level is done here, so that
 *   clients cannot tell the two apart (../shared/docs/api-surface.md §1, §2,
 *   outside the repository): method
 *   filter, 405/404/403/401/413/501, security headers, gzip, the SID cookie
 *   session, CSRF and Host checks, login bans, static WebUI files.
 * - Routes are exact paths.  A route is protected (needs a session, else
 *   403 "Forbidden") unless added with web_route_add_public(); public routes
 *   (auth/login, µTorrent /gui/, ops API) do their own authentication.
 * - Authentication is decided from the headers before a body is read: a
 *   request without a session to a protected route gets its 403 without
 *   sending the body, and one to a public route may send at most
 *   WEB_UNAUTH_MAX_BODY (8 KiB, a login form).  Nothing is buffered for a
 *   client that has not shown the password.
 * - web/guard keeps the server reachable under connection floods and slow
 *   clients (deadline for a whole unauthenticated request, per-address and
 *   global eviction of waiting connections): see guard.h.
 */
#ifndef TD_WEB_SERVER_H
#define TD_WEB_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "web/auth.h"

enum web_method { WEB_GET = 1, WEB_POST = 2, WEB_HEAD = 4 };
/* HEAD is answered wherever GET is allowed (body dropped, Content-Length kept). */
#define WEB_GETPOST (WEB_GET | WEB_POST)

struct web_config {
    const char *address;        /* "*" (dual stack), "0.0.0.0", "::", "127.0.0.1", … */
    int port;                   /* 0 = ephemeral (see web_server_port) */
    const char *https_cert_path;  /* both set = HTTPS */
    const char *https_key_path;
    const char *static_root;    /* dir with public/ and private/; NULL = no static files */
    bool alternative_ui;        /* omit CSP/COOP/Referrer-Policy like qBittorrent's alt UI */
    size_t max_body;            /* 0 = 64 MiB */
    unsigned max_connections;   /* 0 = 500 */
    unsigned idle_timeout_s;    /* 0 = 7 */
    struct web_auth_config auth;
};

struct web_server;
struct web_req;
typedef void (*web_handler)(struct web_req *req, void *ud);

struct web_file {
    const char *field;
    const char *filename;
    const uint8_t *data;
    size_t len;
};

/* Registers login/logout and app/version, webapiVersion, buildInfo. */
int web_server_start(uv_loop_t *loop, const struct web_config *cfg, struct web_server **out);
/* Closes the listener and all connections.  Requests still waiting for a
 * deferred reply stay valid until that reply (which is then dropped). */
void web_server_stop(struct web_server *ws);
/* Moves the WebUI to a new address (NULL = keep), port (< 0 = keep) and
 * HTTPS setting (both paths non-empty = HTTPS; unreadable files fall back
 * to HTTP with a warning, as qBittorrent does), as qBittorrent applies its
 * WebUI preferences at once.  Done on the next loop iteration, outside any
 * request: the old listener stops accepting, the new one starts, and the
 * old one's open connections may finish for up to 2 s.  Nothing changes
 * when everything is the same; when the new address cannot be bound the
 * old settings are bound again (logged).  -EINVAL, -ENOMEM. */
int web_server_rebind(struct web_server *ws, const char *address, int port, const char *cert_path,
                      const char *key_path);
/* The bound port (useful with port 0). */
int web_server_port(const struct web_server *ws);
/* Copies c; may be called again at any time (preferences changed). */
int web_server_set_auth(struct web_server *ws, const struct web_auth_config *c);
/* Serves static files from root (public/ and private/ below it); NULL = none.
 * alternative_ui drops the CSP/COOP/Referrer-Policy headers as qBittorrent
 * does for an alternative WebUI. */
int web_server_set_static_root(struct web_server *ws, const char *root, bool alternative_ui);
/* fn(slot) is called when a session that has a non-NULL slot ends. */
void web_server_set_session_free(struct web_server *ws, void (*fn)(void *slot));

/* methods: WEB_* mask.  -EEXIST when the path is taken, -ENOMEM, -EINVAL. */
int web_route_add(struct web_server *ws, const char *path, unsigned methods, web_handler h, void *ud);
int web_route_add_public(struct web_server *ws, const char *path, unsigned methods, web_handler h, void *ud);

/* ---- request accessors (valid until the reply has been sent) ---- */

/* GET/HEAD: query string only; POST: body only (urlencoded, or multipart
 * parts without filename).  Last duplicate wins.  NULL if absent. */
const char *web_req_param(struct web_req *r, const char *name);
/* "true"/"false" case-insensitive; anything else = dflt. */
bool web_req_bool(struct web_req *r, const char *name, bool dflt);
/* Multipart parts WITH a filename, any field name; a filename sent twice
 * keeps the last data. */
size_t web_req_file_count(struct web_req *r);
const struct web_file *web_req_file(struct web_req *r, size_t i);
/* Raw body of a POST that is neither urlencoded nor multipart (e.g. JSON);
 * NUL-terminated (not counted).  NULL/0 otherwise. */
const char *web_req_body(struct web_req *r, size_t *len);
const char *web_req_header(struct web_req *r, const char *name);
/* After reverse-proxy resolution; v4-mapped addresses shown as IPv4. */
const char *web_req_client_ip(struct web_req *r);
const char *web_req_path(struct web_req *r);
int web_req_method(struct web_req *r);   /* WEB_GET, WEB_POST or WEB_HEAD */
bool web_req_is_https(struct web_req *r);
/* The per-login session slot where an API keeps its state (sync rids, …).
 * NULL when the request has no session. */
void **web_req_session_slot(struct web_req *r);
void *web_req_session(struct web_req *r);   /* *slot, or NULL */
struct web_server *web_req_server(struct web_req *r);

/* ---- replies: exactly one per request, on the loop thread, now or later ---- */

void web_reply(struct web_req *r, int status, const char *content_type, const void *body, size_t len);
void web_reply_text(struct web_req *r, int status, const char *text);   /* text/plain; charset=UTF-8 */
void web_reply_json(struct web_req *r, json_t *j);                      /* steals j; compact, sorted keys */
void web_reply_json_str(struct web_req *r, char *s, size_t len);        /* takes a malloc'd body */
void web_reply_ok(struct web_req *r);                                   /* 200, empty, text/plain */
void web_reply_error(struct web_req *r, int status, const char *msg);   /* NULL = reason phrase */
/* Extra response header, before the reply (e.g. Content-Disposition). */
void web_req_add_header(struct web_req *r, const char *name, const char *value);

/* qBittorrent's reason phrase for status ("Not Found"), or "Unknown". */
const char *web_reason_phrase(int status);

#endif
