/* web internals shared by the files of src/web/ (not src/web/api/):
 * server.c (MHD glue, pipeline, replies), listener.c (listeners and the
 * rebind state machine), router.c (route tables and the auth policies),
 * session.c (sessions, bans, account check), form.c, static.c and
 * app_identity.c.  Not for use outside src/web/. */
#ifndef TD_WEB_INT_H
#define TD_WEB_INT_H

#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/hmap.h"
#include "web/guard.h"
#include "web/server.h"

#define TEXT_PLAIN "text/plain; charset=UTF-8"
#define WEB_MAX_PARAMS 4096       /* form fields per request */
#define WEB_MAX_FILES 1024        /* uploaded files per request */
#define WEB_SID_LEN 32
#define WEB_MAX_SESSIONS 4096     /* oldest-idle evicted beyond this */
#define WEB_MAX_BANS 4096         /* failed-login records kept */
#define WEB_MAX_HEADERS 64        /* extra response headers per reply */
/* What a request without a verified credential may send: a login form needs a few
 * hundred bytes.  Bigger bodies are refused from the headers (413) or, when
 * chunked, the connection is dropped once past it: nothing is buffered for
 * a client that has not shown the password. */
#define WEB_UNAUTH_MAX_BODY (8u * 1024)

struct web_session {
    char sid[WEB_SID_LEN + 1];
    uint64_t last_ms;             /* uv_now() of the last use */
    void *slots[WEB_MAX_DIALECTS];   /* per dialect; [0] = web_req_session_slot */
    int refs;                     /* requests in flight holding it */
    bool dead;                    /* removed from the table, freed at refs == 0 */
    struct web_session *prev, *next;  /* LRU list, most recent first */
};

struct web_ban {
    char ip[64];
    int fails;
    int pending;                  /* logins from ip still being checked (PBKDF2 on a worker) */
    uint64_t banned_until_ms;     /* 0 = not banned */
    uint64_t last_ms;
};

struct web_route {
    char *path;
    unsigned methods;
    enum web_auth_policy auth;
    web_handler h;
    bool (*token)(struct web_req *r, void *ud);
    void *ud;
};

/* A Basic credential verified lately: the SHA-256 of the whole
 * Authorization header, so PBKDF2 runs once per credential and
 * WEB_BASIC_CACHE_MS, not once per request. */
#define WEB_BASIC_CACHE 16
#define WEB_BASIC_CACHE_MS (5 * 60 * 1000)
struct web_basic_ok {
    uint8_t digest[32];
    unsigned gen;                 /* web_server.auth_gen when verified */
    uint64_t until_ms;            /* 0 = free */
};

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
    char *query;            /* raw query of the request being parsed (web_on_uri), until web_on_access takes it */
};

struct web_hdr {
    char *name, *value;
};

/* Requests answered per (dialect, status): stats.c. */
#define WEB_MAX_STATS 128
struct web_stat {
    const char *dialect;          /* static */
    int status;
    uint64_t count;
};

struct web_param {
    char *name;
    struct buf val;
    bool has_nul;                 /* the value holds a NUL: C sees only its prefix */
};

struct web_upload {
    struct web_file pub;
    char *field, *filename;
    struct buf data;
};

enum web_req_state {
    WEB_REQ_BODY,          /* receiving the body */
    WEB_REQ_WAITING,       /* handler called, no reply yet (suspended) */
    WEB_REQ_REPLIED,       /* response built, not yet queued */
    WEB_REQ_QUEUED,        /* handed to MHD */
};

/* The close delimiter of a multipart body ("\r\n--" boundary "--") and how
 * much of it the bytes so far end with: web_form_multipart_feed. */
struct web_mp_end {
    char delim[80];               /* RFC 2046: a boundary has at most 70 characters */
    size_t len, matched;
    bool active, done;
};

struct web_req {
    struct web_server *ws;
    struct MHD_Connection *conn;  /* NULL once the connection is gone */
    enum web_req_state state;
    int method;                   /* WEB_*, 0 = unsupported */
    bool suspended, too_large, bad_form, has_raw, https;
    bool admitted;                /* header-level checks done (see web_admit() in router.c) */
    bool authed;                  /* credentials shown: a session, Basic or a token */
    bool basic_pending;           /* Basic credentials to verify before the handler */
    bool ban_counted;             /* counted in its address's web_ban.pending */
    uint8_t basic_digest[32];     /* of the Authorization header, when basic_pending */
    int route;                    /* index in ws->routes, -1 = none; valid once admitted */
    size_t body_bytes, body_cap;
    char *path;
    char *query;                  /* raw query string after '?' (URI log callback); NULL = none */
    bool guest;                   /* Basic credentials of the read-only guest (web_server_set_basic_guest) */
    struct MHD_PostProcessor *pp;
    struct web_mp_end mp_end;     /* where a multipart body ends (form.c) */
    struct buf raw;
    struct web_param *params;
    size_t nparams, capparams;
    struct web_upload *files;
    size_t nfiles, capfiles;
    int cur_part;                 /* index of the value being streamed, -1 none */
    const char *form_error;       /* static: why the form was refused (400 body) */
    bool cur_is_file;
    struct web_session *session;
    char client_ip[64];
    struct web_hdr hdrs[WEB_MAX_HEADERS];
    size_t nhdrs;
    struct MHD_Response *resp;
    bool resp_shared;             /* resp belongs to the reply cache: never destroy it here */
    int status;
    struct web_req *pnext, *pprev;  /* server's list of waiting requests */
};

/* A prepared reply (headers and a small body) that MHD may queue on many
 * connections at once; MHD counts the references. */
#define WEB_REPLY_CACHE 8
#define WEB_REPLY_CACHE_BODY 64
struct web_cached_reply {
    struct MHD_Response *resp;    /* NULL = free slot; holds one reference */
    unsigned gen;                 /* web_server.auth_gen when built */
    char ctype[64];
    char body[WEB_REPLY_CACHE_BODY];
    size_t len;
};

/* A streamed reply (web_reply_stream): lives as long as its MHD response. */
struct web_stream {
    struct web_server *ws;
    struct MHD_Connection *conn;
    const struct web_stream_ops *ops;
    void *ud;
    bool paused;                  /* its connection is suspended until web_stream_wake */
    struct web_stream *prev, *next;   /* web_server.streams */
};

struct web_server {
    uv_loop_t *loop;
    struct web_listener *lst;     /* the listener accepting connections */
    struct web_listener *old;     /* a listener being drained after a rebind, or NULL */
    uv_timer_t rebind_timer;      /* applies `want` outside any MHD callback */
    struct web_bind *want;        /* requested by web_server_rebind, not applied yet */
    int open_handles;             /* listeners and rebind_timer not yet closed */
    int jobs;                     /* worker-thread jobs still to report back */
    bool stopping;
    int port;                     /* of lst */
    char *address;                /* of lst, as configured ("*", "127.0.0.1", …) */
    struct web_config cfg_limits; /* max_connections, idle_timeout_s for new listeners */
    bool https;                   /* of lst */
    bool alt_ui;
    bool builtin_ui;              /* no static_root: serve web/ui_files.h */
    size_t max_body;
    char *static_root;

    struct web_route *routes;
    size_t nroutes, caproutes;

    /* auth config, deep copy */
    struct web_auth_config auth;
    char *auth_strings[8];
    unsigned auth_gen;            /* bumped by every web_server_set_auth: per-connection caches compare it */
    struct web_cached_reply replies[WEB_REPLY_CACHE]; /* see reply_cached() in reply.c */
    unsigned next_reply;
    struct web_hdr *prebuilt;     /* headers sent with every API/UI reply */
    size_t nprebuilt;

    struct hmap sessions;         /* sid -> struct web_session (util/hmap) */
    struct web_session *lru_head, *lru_tail;
    size_t nsessions;
    void (*slot_free[WEB_MAX_DIALECTS])(void *slot);   /* per dialect id */
    int ndialects;                /* ids in use; 0 (the default slot) always */
    char *api_token;              /* WEB_AUTH_API_TOKEN; NULL = none */
    char *ops_token;              /* WEB_AUTH_OPS_TOKEN; NULL = none */
    char *api_key;                /* WEB_AUTH_API_KEY; NULL = none */
    char *basic_guest;            /* WEB_AUTH_BASIC_TOKEN guest user name; NULL = none */
    struct web_basic_ok basic_ok[WEB_BASIC_CACHE];
    unsigned next_basic;

    struct web_ban *bans;
    size_t nbans;

    struct web_req *waiting;      /* suspended requests */
    struct web_stream *streams;   /* streamed replies being sent (listener close resumes the paused) */
    struct web_guard guard;       /* connection floods, slow heads (guard.h) */
    struct web_stat stats[WEB_MAX_STATS];
    size_t nstats;
};

/* form.c */
int web_form_add(struct web_req *r, const char *name, const char *filename,
                 const char *data, uint64_t off, size_t size);
void web_form_free(struct web_req *r);
enum MHD_Result web_form_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *filename, const char *content_type,
                              const char *transfer_encoding, const char *data,
                              uint64_t off, size_t size);
int web_form_collect_query(struct web_req *r);
void web_form_multipart_begin(struct web_mp_end *m, const char *content_type);
size_t web_form_multipart_feed(struct web_mp_end *m, const char *data, size_t n);

/* session.c */
struct web_session *web_session_find(struct web_server *ws, const char *sid);
struct web_session *web_session_start(struct web_server *ws);
void web_session_end(struct web_server *ws, struct web_session *s);
void web_session_unref(struct web_server *ws, struct web_session *s);
void web_sessions_free(struct web_server *ws);
void web_session_set_cookie(struct web_req *r, struct web_session *s);
bool web_ban_is_banned(struct web_server *ws, const char *ip);
int web_ban_fail(struct web_server *ws, const char *ip);

/* router.c */
bool web_admit(struct web_req *r);     /* false = replied */
void web_dispatch(struct web_req *r);  /* the body is in: admit if not yet, then the route */
void web_routes_free(struct web_server *ws);

/* stats.c */
void web_stats_count(struct web_server *ws, const char *path, int status);

/* static.c */
void web_static_serve(struct web_req *r);

/* app_identity.c */
int web_app_identity_register(struct web_server *ws);

/* listener.c */
struct web_listener;
struct web_listener *web_listener_open(struct web_server *ws, const struct web_config *cfg, char *cert, char *key);
void web_listener_close(struct web_listener *l);
bool web_listener_https(const struct web_listener *l);
bool web_listener_owns(const struct web_listener *l, struct MHD_Connection *c);
void web_listener_kick(struct web_listener *l);
int web_listener_port(struct web_listener *l, int fallback);
bool web_read_tls(const char *cert_path, const char *key_path, char **cert, char **key);
void web_rebind_apply(struct web_server *ws);   /* ws->want, from the rebind timer */
void web_bind_free(struct web_bind *b);

/* server.c */
void web_server_job_done(struct web_server *ws);   /* frees a stopped server when idle */
void web_server_handle_closed(struct web_server *ws);  /* a listener's handles are closed */
struct web_conn *web_conn_of(struct MHD_Connection *c);
void web_req_free(struct web_req *r);
void web_waiting_unlink(struct web_req *r);
void web_kick(struct web_server *ws);   /* runs MHD soon (after a resume) */

/* reply.c */
void web_reply_cache_free(struct web_server *ws);
enum MHD_Result web_on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **con_cls);
/* MHD_OPTION_URI_LOG_CALLBACK: the request's first callback, which alone
 * sees the raw URI; it keeps the raw query on the connection (web_conn,
 * freed with it: MHD does not report every request it refuses after this
 * callback) for web_on_access to move into the web_req.  Returns NULL. */
void *web_on_uri(void *cls, const char *uri, struct MHD_Connection *c);
void web_on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);
void web_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);
void web_log_mhd(void *cls, const char *fmt, va_list ap);
void web_reply_take(struct web_req *r, int status, const char *content_type, char *body, size_t len);

#endif
