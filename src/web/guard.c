/* web/guard — see guard.h for the why. */
#include "web/guard.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "util/log.h"

static void on_sweep(uv_timer_t *t);

void web_guard_init(struct web_guard *g, uv_loop_t *loop, unsigned max_conns)
{
    memset(g, 0, sizeof(*g));
    g->loop = loop;
    uv_timer_init(loop, &g->sweep);
    g->sweep.data = g;
    uv_unref((uv_handle_t *)&g->sweep);   /* advisory: never keeps the loop alive */
    web_guard_set_max(g, max_conns);
}

void web_guard_set_max(struct web_guard *g, unsigned max_conns)
{
    size_t cap = max_conns - max_conns / 8;
    g->soft_cap = cap ? cap : 1;
}

void web_guard_close(struct web_guard *g, uv_close_cb cb)
{
    uv_timer_stop(&g->sweep);
    uv_close((uv_handle_t *)&g->sweep, cb);
}

static void unlink_waiting(struct web_guard *g, struct web_guard_conn *gc)
{
    if (!gc->waiting)
        return;
    if (gc->prev)
        gc->prev->next = gc->next;
    else
        g->head = gc->next;
    if (gc->next)
        gc->next->prev = gc->prev;
    else
        g->tail = gc->prev;
    gc->prev = gc->next = NULL;
    gc->waiting = false;
}

static void push_waiting(struct web_guard *g, struct web_guard_conn *gc)
{
    unlink_waiting(g, gc);
    gc->since_ms = uv_now(g->loop);
    gc->prev = g->tail;
    gc->next = NULL;
    if (g->tail)
        g->tail->next = gc;
    else
        g->head = gc;
    g->tail = gc;
    gc->waiting = true;
    if (!uv_is_active((uv_handle_t *)&g->sweep))
        uv_timer_start(&g->sweep, on_sweep, WEB_GUARD_SWEEP_MS, WEB_GUARD_SWEEP_MS);
}

static void evict(struct web_guard *g, struct web_guard_conn *gc)
{
    unlink_waiting(g, gc);
    if (gc->evicted)
        return;
    gc->evicted = true;
    g->nopen--;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(gc->c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        shutdown(ci->connect_fd, SHUT_RDWR);
}

/* The oldest waiting connection matching ip (NULL = any address), an
 * unauthenticated one first. */
static struct web_guard_conn *oldest(struct web_guard *g, const uint8_t *ip)
{
    struct web_guard_conn *trusted = NULL;
    for (struct web_guard_conn *x = g->head; x; x = x->next) {
        if (ip && memcmp(x->ip, ip, 16) != 0)
            continue;
        if (!x->trusted)
            return x;
        if (!trusted)
            trusted = x;
    }
    return trusted;
}

static void client_ip(struct MHD_Connection *c, uint8_t out[16])
{
    memset(out, 0, 16);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr, 4);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr, 16);
    }
}

void web_guard_opened(struct web_guard *g, struct web_guard_conn *gc, struct MHD_Connection *c)
{
    memset(gc, 0, sizeof(*gc));
    gc->c = c;
    gc->open = true;
    client_ip(c, gc->ip);
    g->nopen++;
    push_waiting(g, gc);

    size_t same = 0;
    for (struct web_guard_conn *x = g->head; x; x = x->next)
        same += memcmp(x->ip, gc->ip, 16) == 0;
    if (same > WEB_GUARD_PER_IP) {
        /* A burst of new connections (a browser, a client's pool) is not a
         * hoard: only connections that have waited a while are evicted. */
        struct web_guard_conn *v = oldest(g, gc->ip);
        if (v && uv_now(g->loop) - v->since_ms >= WEB_GUARD_MIN_AGE_MS) {
            g->evictions++;
            evict(g, v);
        }
    }
    while (g->nopen > g->soft_cap) {
        struct web_guard_conn *v = oldest(g, NULL);
        if (!v)
            break;      /* everything is busy: MHD's own limit applies */
        if (g->evictions++ % 1000 == 0)
            log_msg(LOG_WARNING, "WebUI: %zu connections open, closing the oldest idle ones", g->nopen);
        evict(g, v);
    }
}

void web_guard_closed(struct web_guard *g, struct web_guard_conn *gc)
{
    if (!gc->open)
        return;
    unlink_waiting(g, gc);
    if (!gc->evicted)
        g->nopen--;
    gc->open = false;
}

void web_guard_busy(struct web_guard *g, struct web_guard_conn *gc, bool trusted)
{
    if (!gc->open || gc->evicted)
        return;
    unlink_waiting(g, gc);
    gc->trusted |= trusted;
}

void web_guard_idle(struct web_guard *g, struct web_guard_conn *gc)
{
    if (!gc->open || gc->evicted)
        return;
    push_waiting(g, gc);
}

static void on_sweep(uv_timer_t *t)
{
    struct web_guard *g = t->data;
    uint64_t now = uv_now(g->loop);
    /* The list is ordered by since_ms; trusted connections have no head
     * deadline (MHD's idle timeout closes them). */
    struct web_guard_conn *x = g->head;
    while (x && now - x->since_ms >= WEB_GUARD_HEAD_MS) {
        struct web_guard_conn *next = x->next;
        if (!x->trusted) {
            g->deadline_closes++;
            evict(g, x);
        }
        x = next;
    }
    if (!g->head)
        uv_timer_stop(&g->sweep);
}
