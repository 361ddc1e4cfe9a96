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
 * - Routes are exact paths, declared by each dialect as a table of
 *   struct web_route_def, each with an auth policy (qBittorrent session,
 *   public, HTTP Basic, API token): the policies are the frame's, the
 *   dialects only choose.  Login/logout, bans and per-dialect session slots
 *   are frame services the dialect's own handlers call.
 * - Authentication is decided from the headers before a body is read: a
 *   request without a session to a protected route gets its 403 without
 *   sending the body, and one that has shown no verified credential (a
 *   public route without a session, a Basic credential still to be
 *   checked) may send at most WEB_UNAUTH_MAX_BODY (8 KiB, a login form).
 *   Nothing is buffered for a client that has not shown the password.
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
/* Serves the built-in WebUI compiled into the binary (web/ui_files.h)
 * instead of any static root.  0 or -ENOMEM. */
int web_server_use_builtin_ui(struct web_server *ws);
/* fn(slot) is called when a session that has a non-NULL slot ends. */
void web_server_set_session_free(struct web_server *ws, void (*fn)(void *slot));

/* How a route authenticates, decided from the request headers before any
 * body is read (see web_admit() in router.c).  Every policy first applies the
 * CSRF and Host checks of the WebUI settings (§2.2, §2.3).
 * - WEB_AUTH_QBT_SESSION: qBittorrent's SID cookie session; without one
 *   403 "Forbidden", unless the client address bypasses authentication
 *   (bypass_local_auth, subnet whitelist), which then gets a session.  The
 *   default (0), so a route declared without a policy is never open.
 * - WEB_AUTH_PUBLIC: no credentials needed; the handler sees the session if
 *   the client has one (auth/login; static files).  Its body is capped at
 *   WEB_UNAUTH_MAX_BODY when the client has no session.
 * - WEB_AUTH_BASIC_TOKEN: HTTP Basic with the WebUI account (µTorrent's
 *   /gui/).  No or malformed credentials: 401 with WWW-Authenticate: Basic
 *   realm="uTorrent".  The password is checked on a worker thread (PBKDF2)
 *   and a verified header is remembered for WEB_BASIC_CACHE_MS; wrong ones
 *   count toward the login ban.  The auth bypass rules apply as for the
 *   session.  Then the route's `token` hook, if any, checks the dialect's
 *   token (false = 400 "invalid request", µTorrent's answer).
 * - WEB_AUTH_API_TOKEN: X-API-Key, X-API-Token or "Authorization: Bearer"
 *   equal (constant time) to the token of web_server_set_api_token();
 *   missing or wrong: 401 {"error":"unauthorized"}, wrong ones count toward
 *   the login ban.  With no token configured the route falls back to
 *   WEB_AUTH_QBT_SESSION, so an ops API is never open by default.
 * - WEB_AUTH_OPS_TOKEN: the operations API (seed 003): X-API-Token or
 *   "Authorization: Bearer" equal (constant time) to the token of
 *   web_server_set_ops_token(), or a qBittorrent session (a logged-in
 *   WebUI); otherwise 401 {"error":"unauthorized"}, wrong tokens counting
 *   toward the login ban.  No token configured: WEB_AUTH_QBT_SESSION.
 * - WEB_AUTH_API_KEY: qbit_manage's (/api/run-command): an X-API-Key header
 *   equal (constant time) to web_server_set_api_key()'s key, or else a
 *   qBittorrent session as WEB_AUTH_QBT_SESSION.  A wrong key: 401
 *   {"detail":"Invalid API key"}, counted toward the login ban.
 * A banned address gets 403 with the ban text from the Basic and token
 * policies; a valid qBittorrent session keeps working as in qBittorrent,
 * and PUBLIC handlers (auth/login) answer bans themselves. */
enum web_auth_policy {
    WEB_AUTH_QBT_SESSION = 0,
    WEB_AUTH_PUBLIC,
    WEB_AUTH_BASIC_TOKEN,
    WEB_AUTH_API_TOKEN,
    WEB_AUTH_OPS_TOKEN,
    WEB_AUTH_API_KEY,
};

/* One route of a dialect's table.  Paths are exact, except that one ending
 * in "/" "*" (a slash and a star) matches its prefix plus one non-empty segment without '/' (an
 * exact path wins; the handler reads the segment from web_req_path), and one
 * ending in "/" "**" its prefix plus any non-empty rest, slashes included
 * (a web UI's folders; one-segment routes win over it); methods
 * is a WEB_* mask.  token: WEB_AUTH_BASIC_TOKEN only, may be NULL (see above). */
struct web_route_def {
    const char *path;
    unsigned methods;
    web_handler handler;
    enum web_auth_policy auth;
    bool (*token)(struct web_req *r, void *ud);
};

/* Adds n routes, each called with ud.  All or nothing: -EEXIST when a path
 * is taken (nothing added), -ENOMEM, -EINVAL. */
int web_routes_add(struct web_server *ws, const struct web_route_def *defs, size_t n, void *ud);
/* One route (a table of one): WEB_AUTH_QBT_SESSION and WEB_AUTH_PUBLIC. */
int web_route_add(struct web_server *ws, const char *path, unsigned methods, web_handler h, void *ud);
int web_route_add_public(struct web_server *ws, const char *path, unsigned methods, web_handler h, void *ud);

/* The token of WEB_AUTH_API_TOKEN routes; NULL or "" = none (those routes
 * then need a qBittorrent session).  Copied. */
int web_server_set_api_token(struct web_server *ws, const char *token);
/* The key of WEB_AUTH_API_KEY routes; NULL or "" = none (a session only). */
int web_server_set_api_key(struct web_server *ws, const char *key);

/* The token of WEB_AUTH_OPS_TOKEN routes; NULL or "" = none.  Copied. */
int web_server_set_ops_token(struct web_server *ws, const char *token);

/* The read-only guest account of WEB_AUTH_BASIC_TOKEN routes (µTorrent's
 * guest, seed 004 "General notes for API access"): a Basic login with this
 * user name is let through without a password check (µTorrent's guest has
 * none) and marked, see web_req_is_guest; the dialect decides what a guest
 * may do.  Never the WebUI account's own name (that one is always checked).
 * NULL or "" = no guest (the default).  Copied; -ENOMEM. */
int web_server_set_basic_guest(struct web_server *ws, const char *user);

/* ---- dialects: per-login state ----
 * A session (one login) holds one slot per dialect, so each API keeps its
 * own per-client state (qBittorrent's sync rids, a µTorrent cache id)
 * without fighting over one pointer.  Register at start, before serving. */
#define WEB_MAX_DIALECTS 8
/* Returns the dialect id (>= 1; 0 is the default slot of
 * web_req_session_slot) or -ENOSPC.  slot_free(slot) is called when a
 * session whose slot is non-NULL ends; may be NULL. */
int web_dialect_register(struct web_server *ws, const char *name, void (*slot_free)(void *slot));
/* The slot of dialect id in the request's session; NULL without a session. */
void **web_req_dialect_slot(struct web_req *r, int dialect);

/* ---- frame services for dialect adapters (login, logout, bans) ---- */

/* The request's session, started (and its cookie set) if it has none.
 * -ENOMEM. */
int web_req_session_begin(struct web_req *r);
/* Ends the request's session (if any) and expires its cookie. */
void web_req_session_end(struct web_req *r);
bool web_req_has_session(struct web_req *r);

/* The brute-force ban of a client address, shared by every way of logging
 * in (login forms, Basic, API tokens).  web_ban_begin() is called when an
 * attempt arrives: it answers whether the address is banned (counting the
 * attempts still being checked) and otherwise counts this one as in flight;
 * web_ban_end() gives its outcome: ok > 0 a success clears the record,
 * ok == 0 a failure adds one (banning at max_auth_fail_count) and returns
 * the count, ok < 0 (not checked) only ends the in-flight count. */
bool web_ban_begin(struct web_req *r);
/* Lifts every ban and forgets the failed-login counts (µTorrent's
 * wipl.utmr, c.utmr: the way back in for a locked-out administrator). */
void web_server_clear_bans(struct web_server *ws);
int web_ban_end(struct web_req *r, int ok);

/* Checks user/password against the WebUI account on a worker thread
 * (PBKDF2), then calls done(r, ok, ud) on the loop thread; ok < 0 when the
 * check could not run (the server is stopping: reply 503).  -ENOMEM. */
int web_req_check_account(struct web_req *r, const char *user, const char *pass,
                          void (*done)(struct web_req *r, int ok, void *ud), void *ud);

/* ---- request accessors (valid until the reply has been sent) ---- */

/* GET/HEAD: query string only; POST: body only (urlencoded, or multipart
 * parts without filename).  Last duplicate wins.  NULL if absent. */
const char *web_req_param(struct web_req *r, const char *name);
/* True when the value web_req_param returns was cut at a NUL byte the
 * client sent (%00): a path or name must refuse it rather than use the
 * prefix, which names something else. */
bool web_req_param_has_nul(struct web_req *r, const char *name);
/* The raw query string (after '?', still percent-encoded; "" when none),
 * for dialects that need parameters in order with repeats (µTorrent's
 * /gui/): web_req_param keeps only the last of a repeated key. */
const char *web_req_query(struct web_req *r);
/* True when the request came in with the Basic guest account. */
bool web_req_is_guest(struct web_req *r);
/* The name of the first parameter (query, form or multipart field, not a
 * file) whose value holds a NUL byte, or NULL: for endpoints that refuse
 * any such value whatever its name. */
const char *web_req_nul_param(struct web_req *r);
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
void web_reply_json(struct web_req *r, json_t *j);                      /* steals j; compact, sorted keys; NULL = 500 */
void web_reply_json_status(struct web_req *r, int status, json_t *j);   /* steals j; compact, keys in insertion order; NULL = 500 */
void web_reply_json_str(struct web_req *r, char *s, size_t len);        /* takes a malloc'd body */
void web_reply_ok(struct web_req *r);                                   /* 200, empty, text/plain */
void web_reply_error(struct web_req *r, int status, const char *msg);   /* NULL = reason phrase */
/* Extra response header, before the reply (e.g. Content-Disposition). */
void web_req_add_header(struct web_req *r, const char *name, const char *value);

/* ---- streamed replies: a body produced piece by piece (file streaming) ----
 * The body is never held whole: libmicrohttpd asks for it as the socket
 * drains (MHD_create_response_from_callback).  ops->read(ud, pos, buf, max)
 * copies up to max bytes of the body at offset pos and returns how many
 * (> 0); 0 when they are not there yet: the connection is suspended (no
 * polling, no spinning, no idle timeout) until web_stream_wake(); -1 aborts
 * (the connection is closed: the client sees a short body).  ops->done(ud)
 * runs exactly once when the reply is over (sent, aborted, the client gone,
 * the server stopped); web_stream_wake must not be called after it.  Both
 * run on the loop thread, read from inside libmicrohttpd.  The size is
 * sent as Content-Length; HEAD gets the headers only.  Returns 0 (done will
 * be called), or -ENOMEM/-ENOTCONN: nothing was sent, done will not be
 * called, reply otherwise. */
struct web_stream;
struct web_stream_ops {
    long (*read)(void *ud, uint64_t pos, char *buf, size_t max);
    void (*done)(void *ud);
};
int web_reply_stream(struct web_req *r, int status, const char *content_type, uint64_t size,
                     const struct web_stream_ops *ops, void *ud, struct web_stream **out);
void web_stream_wake(struct web_stream *s);

/* Requests answered so far, per API dialect ("qbt_v2", "qbt_v1",
 * "utorrent", "ops", "webui") and HTTP status: fn once per pair seen. */
void web_server_request_counts(struct web_server *ws,
                               void (*fn)(void *ud, const char *dialect, int status, uint64_t n), void *ud);

/* The Content-Type for a file name's extension (the static WebUI's table,
 * media types included); application/octet-stream when unknown. */
const char *web_mime_type(const char *name);

/* qBittorrent's reason phrase for status ("Not Found"), or "Unknown". */
const char *web_reason_phrase(int status);

#endif
