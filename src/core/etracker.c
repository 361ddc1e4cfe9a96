#include "core/etracker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "bt/tracker/trackd.h"
#include "core/portmap.h"
#include "core/session.h"
#include "util/buf.h"
#include "util/log.h"

#define MAX_PARAMS 96                 /* a scrape of TRACKD_MAX_SCRAPE hashes and then some */
#define CONN_LIMIT 256
#define CONN_TIMEOUT_S 15
#define CONN_MEMORY (16 * 1024)       /* a GET line and headers: announces are small */
#define EXPIRE_EVERY_MS (5 * 60 * 1000)

/* The daemon on the loop; `trackd` outlives a port change. */
struct etracker {
    struct session *s;
    struct trackd *td;
    struct MHD_Daemon *mhd;
    uv_poll_t *poll;                  /* heap: closed asynchronously */
    uv_timer_t *timer;
    uint16_t port;
    uint64_t next_expire_ms;
};

static uint64_t now_s(void)
{
    return uv_hrtime() / 1000000000u;
}

struct params {
    struct trackd_param p[MAX_PARAMS];
    size_t n;
    bool overflow;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, size_t klen, const char *val,
                               size_t vlen)
{
    (void)kind;
    struct params *ps = cls;
    if (ps->n == MAX_PARAMS) {
        ps->overflow = true;
        return MHD_NO;
    }
    ps->p[ps->n++] = (struct trackd_param){key, klen, (const uint8_t *)(val ? val : ""), val ? vlen : 0};
    return MHD_YES;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const void *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static bool path_is(const char *url, const char *path)
{
    /* qBittorrent matches the announce path as a prefix, without case. */
    return strncasecmp(url, path, strlen(path)) == 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **ctx)
{
    (void)version, (void)upload;
    struct etracker *et = cls;
    if (!*ctx) {   /* headers only so far: a GET has no body to wait for */
        *ctx = et;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;   /* a body is ignored (and answered 405 below) */
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "", 0);
    bool announce = path_is(url, "/announce"), scrape = !announce && path_is(url, "/scrape");
    if (!announce && !scrape)
        return reply(c, MHD_HTTP_NOT_FOUND, "", 0);
    struct params ps = {.n = 0};
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, collect, &ps);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct buf out = {0};
    int rc;
    if (ps.overflow) {
        static const char msg[] = "d14:failure reason19:Too many parameterse";
        return reply(c, MHD_HTTP_OK, msg, sizeof msg - 1);
    }
    if (announce)
        rc = trackd_announce(et->td, ps.p, ps.n, ci ? ci->client_addr : NULL, now_s(), &out);
    else
        rc = trackd_scrape(et->td, ps.p, ps.n, &out);
    enum MHD_Result r = rc == 0 ? reply(c, MHD_HTTP_OK, buf_head(&out), buf_size(&out))
                                : reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "", 0);
    buf_free(&out);
    return r;
}

static void run(struct etracker *et);

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status, (void)events;
    run(p->data);
}

static void on_timer(uv_timer_t *t)
{
    run(t->data);
}

static void run(struct etracker *et)
{
    if (!et->mhd)
        return;
    MHD_run(et->mhd);
    uint64_t now = uv_now(et->s->loop);
    if (now >= et->next_expire_ms) {
        trackd_expire(et->td, now_s());
        et->next_expire_ms = now + EXPIRE_EVERY_MS;
    }
    MHD_UNSIGNED_LONG_LONG ms;
    uint64_t wait = et->next_expire_ms - now;
    if (MHD_get_timeout(et->mhd, &ms) == MHD_YES && ms < wait)
        wait = ms;
    uv_timer_start(et->timer, on_timer, wait, 0);
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void close_daemon(struct etracker *et)
{
    if (!et->mhd)
        return;
    uv_poll_stop(et->poll);
    uv_close((uv_handle_t *)et->poll, free_handle);
    uv_close((uv_handle_t *)et->timer, free_handle);
    et->poll = NULL;
    et->timer = NULL;
    MHD_stop_daemon(et->mhd);
    et->mhd = NULL;
    et->port = 0;
}

static int open_daemon(struct etracker *et, int port)
{
    struct session *s = et->s;
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    const char *a = s->listen_address;
    struct MHD_OptionItem opts[8];
    int n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY, NULL};
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (a && inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    } else if (a && inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    } else
        flags |= MHD_USE_DUAL_STACK;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_access, et, MHD_OPTION_ARRAY,
                                            opts, MHD_OPTION_END);
    if (!d && (flags & MHD_USE_DUAL_STACK) == MHD_USE_DUAL_STACK)   /* no IPv6 here */
        d = MHD_start_daemon(flags & ~(unsigned)MHD_USE_DUAL_STACK, (uint16_t)port, NULL, NULL, on_access, et,
                             MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    const char *shown = a ? a : "0.0.0.0";
    const union MHD_DaemonInfo *ei = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    et->poll = ei ? malloc(sizeof *et->poll) : NULL;
    et->timer = et->poll ? malloc(sizeof *et->timer) : NULL;
    if (!et->timer || uv_poll_init(s->loop, et->poll, ei->epoll_fd) != 0) {
        /* qBittorrent's line */
        log_msg(LOG_WARNING, "Embedded Tracker: Unable to bind to IP: %s, port: %d. Reason: %s", shown, port,
                d ? "out of memory" : strerror(errno));
        free(et->poll);
        free(et->timer);
        et->poll = NULL;
        et->timer = NULL;
        if (d)
            MHD_stop_daemon(d);
        return -EADDRINUSE;
    }
    uv_timer_init(s->loop, et->timer);
    et->poll->data = et->timer->data = et;
    et->mhd = d;
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    et->port = pi && pi->port ? pi->port : (uint16_t)port;
    uv_poll_start(et->poll, UV_READABLE, on_poll);
    et->next_expire_ms = uv_now(s->loop) + EXPIRE_EVERY_MS;
    run(et);
    log_msg(LOG_INFO, "Embedded Tracker: Now listening on IP: %s, port: %u", shown, et->port);
    return 0;
}

/* Follows the settings: off, on, another port. */
static void apply(struct session *s)
{
    struct etracker *et = s->etracker;
    bool on = settings_bool(&s->settings, SET_ENABLE_EMBEDDED_TRACKER) && !s->shutting_down;
    int port = (int)settings_int(&s->settings, SET_EMBEDDED_TRACKER_PORT);
    if (!on) {
        if (et) {
            close_daemon(et);
            trackd_free(et->td);
            free(et);
            s->etracker = NULL;
            log_msg(LOG_INFO, "Embedded Tracker: stopped");
        }
    } else {
        if (!et) {
            et = calloc(1, sizeof *et);
            if (et && !(et->td = trackd_new())) {
                free(et);
                et = NULL;
            }
            if (!et) {
                log_msg(LOG_WARNING, "Embedded Tracker: out of memory");
                return;
            }
            et->s = s;
            s->etracker = et;
        }
        if (!et->mhd || (port != 0 && port != et->port)) {
            close_daemon(et);
            open_daemon(et, port);
        }
    }
    portmap_update(s);   /* embedded_tracker_port_forwarding follows the port */
}

void etracker_listen_changed(struct session *s)
{
    struct etracker *et = s->etracker;
    if (!et || !et->mhd)
        return;
    int port = et->port;   /* the same port, at the new address */
    close_daemon(et);
    open_daemon(et, port);
}

static void on_settings(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    apply(ud);
}

int etracker_start(struct session *s)
{
    int rc = settings_add_hook(&s->settings, SG_ETRACKER, on_settings, s);
    if (rc == 0)
        apply(s);
    return rc;
}

void etracker_stop(struct session *s)
{
    apply(s);   /* shutting_down: off */
}

uint16_t etracker_port(const struct session *s)
{
    return s->etracker ? s->etracker->port : 0;
}
