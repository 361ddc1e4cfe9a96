/* web/listener — the WebUI's listening sockets and their rebind state
 * machine: one libmicrohttpd daemon per listener, driven from the libuv
 * loop, and the move to a new address/port/HTTPS setting that qBittorrent
 * applies at once when its WebUI preferences change.
 *
 * Where the design came from: MHD's "external select" mode (MHD_USE_EPOLL
 * without an internal thread, MHD_run + MHD_get_timeout), as its manual
 * describes for embedding in a foreign event loop; the drain of the old
 * listener after a rebind follows nginx's graceful reload (the old socket
 * stops accepting, its connections finish or time out).  Split out of
 * server.c so the request pipeline and the socket lifecycle can be read
 * apart (issue 9).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "web/web_int.h"

#define DEFAULT_MAX_CONN 500
#define DEFAULT_IDLE_S 7
/* Request line + headers per connection.  libmicrohttpd zeroes the whole
 * pool between requests, so a big pool costs every request (256 KiB took a
 * fifth of the CPU of app/version); 32 KiB is its default. */
#define CONN_MEMORY_LIMIT (32 * 1024)
#define TLS_FILE_MAX (1024 * 1024)

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
        web_listener_close(l);
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
void web_listener_kick(struct web_listener *l)
{
    if (l && !l->closing)
        uv_timer_start(&l->timer, on_timer, 0, 0);
}

bool web_listener_https(const struct web_listener *l)
{
    return l->https;
}

bool web_listener_owns(const struct web_listener *l, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
    return l && ci && ci->daemon == l->mhd;
}

void web_bind_free(struct web_bind *b)
{
    if (!b)
        return;
    free(b->address);
    free(b->cert_path);
    free(b->key_path);
    free(b);
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
    web_server_handle_closed(ws);
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
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)web_on_completed, ws};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)web_on_uri, ws};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)web_on_connection, ws};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)web_log_mhd, ws};
    if (have_addr)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    if (l->https) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, l->tls_cert};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, l->tls_key};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    struct MHD_Daemon *d = MHD_start_daemon(flags, port, NULL, NULL, web_on_access, ws,
                                            MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!d && (flags & MHD_USE_DUAL_STACK) == MHD_USE_DUAL_STACK) {
        /* No IPv6 on this host: plain IPv4. */
        flags &= ~(unsigned)MHD_USE_DUAL_STACK;
        d = MHD_start_daemon(flags, port, NULL, NULL, web_on_access, ws, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    }
    return d;
}

/* Reads the certificate and key for HTTPS; false (logged) when either is
 * unreadable.  Empty paths mean plain HTTP. */
bool web_read_tls(const char *cert_path, const char *key_path, char **cert, char **key)
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
struct web_listener *web_listener_open(struct web_server *ws, const struct web_config *cfg, char *cert, char *key)
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
 * to stop otherwise); web_on_completed detaches them and they wait for their
 * reply, which is then dropped.  Streamed replies waiting for their bytes
 * are resumed too: the stop closes them and their done callbacks run. */
void web_listener_close(struct web_listener *l)
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
    for (struct web_stream *s = l->ws->streams; s; s = s->next) {
        if (!s->paused)
            continue;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(s->conn, MHD_CONNECTION_INFO_DAEMON);
        if (ci && ci->daemon == l->mhd) {
            MHD_resume_connection(s->conn);
            s->paused = false;
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

int web_listener_port(struct web_listener *l, int fallback)
{
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_BIND_PORT);
    return pi && pi->port ? pi->port : fallback;
}

void web_rebind_apply(struct web_server *ws)
{
    struct web_bind *b = ws->want;
    ws->want = NULL;
    if (!b || ws->stopping) {
        web_bind_free(b);
        return;
    }
    struct web_config cfg = ws->cfg_limits;
    cfg.address = b->address ? b->address : ws->address;
    cfg.port = b->port >= 0 ? b->port : ws->port;
    char *cert, *key;
    if (!web_read_tls(b->cert_path, b->key_path, &cert, &key))
        log_msg(LOG_CRITICAL, "WebUI: HTTPS setup failed, fallback to HTTP");
    bool https = cert && key;
    struct web_listener *cur = ws->lst;
    bool same = strcmp(cfg.address, ws->address) == 0 && cfg.port == ws->port && https == cur->https &&
                (!https || (strcmp(cert, cur->tls_cert) == 0 && strcmp(key, cur->tls_key) == 0));
    if (same) {
        free(cert);
        free(key);
        web_bind_free(b);
        return;
    }
    if (ws->old) {
        web_listener_close(ws->old);
        ws->old = NULL;
    }
    /* The new listener may need the very address and port of the current
     * one, so the current one stops accepting first. */
    MHD_socket fd = MHD_quiesce_daemon(cur->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    struct web_listener *l = web_listener_open(ws, &cfg, cert, key);
    if (!l && https) {
        log_msg(LOG_CRITICAL, "WebUI: HTTPS setup failed, fallback to HTTP");
        l = web_listener_open(ws, &cfg, NULL, NULL);
    }
    if (!l) {
        log_msg(LOG_CRITICAL, "WebUI: Unable to bind to IP: %s, port: %d", cfg.address, cfg.port);
        struct web_config back = ws->cfg_limits;
        back.address = ws->address;
        back.port = ws->port;
        char *c0 = cur->tls_cert ? strdup(cur->tls_cert) : NULL, *k0 = cur->tls_key ? strdup(cur->tls_key) : NULL;
        l = web_listener_open(ws, &back, c0, k0);
        if (!l) {
            log_msg(LOG_CRITICAL, "WebUI: cannot listen on %s:%d any more", ws->address, ws->port);
            web_bind_free(b);
            return;
        }
    } else {
        char *a = strdup(cfg.address);
        if (a) {
            free(ws->address);
            ws->address = a;
        }
        ws->port = web_listener_port(l, cfg.port);
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
    web_bind_free(b);
}

static void on_rebind(uv_timer_t *t)
{
    web_rebind_apply(t->data);
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
        web_bind_free(b);
        return -ENOMEM;
    }
    web_bind_free(ws->want);
    ws->want = b;
    uv_timer_start(&ws->rebind_timer, on_rebind, 0, 0);
    return 0;
}
