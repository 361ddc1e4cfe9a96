/* web/guard — keeps the WebUI reachable when clients hoard connections.
 *
 * Why: libmicrohttpd's own limits do not protect a small server against
 * idle and slow clients.  Its connection limit (500, as qBittorrent) is a
 * wall: once idle sockets hold every slot, new clients wait in the kernel's
 * accept queue behind more idle sockets.  Its idle timeout is reset by every
 * byte, so a request head trickled one byte a second lives forever.  The
 * guard adds what is missing, on the loop thread, with no MHD internals:
 *
 * - Every connection that waits for a request (a new connection, a
 *   keep-alive one between requests, an unauthenticated one still sending
 *   its head or its small body) is on a list ordered by when it started
 *   waiting.  It must have delivered a whole request within
 *   WEB_GUARD_HEAD_MS of that moment, whatever it trickles; a sweep closes
 *   the late ones.
 * - Per client address at most WEB_GUARD_PER_IP connections may wait; one
 *   more and that address's oldest waiting connection is closed if it has
 *   waited WEB_GUARD_MIN_AGE_MS (a burst of fresh connections is a client's
 *   pool, not a hoard).  A flood from one address only evicts its own
 *   sockets.
 * - Beyond a soft cap (7/8 of MHD's connection limit) the oldest waiting
 *   connection of any address is closed for each new one, so a flood from
 *   many addresses never fills MHD's limit: a new client is accepted and,
 *   being the youngest, is the last to be evicted.
 * - A connection that has carried an authenticated request is evicted only
 *   when no unauthenticated connection is waiting, and has no head deadline
 *   beyond MHD's idle timeout: clients without the password cannot push out
 *   the ones that have it.
 * Connections busy with a request (dispatched, suspended, replying, or an
 *   authenticated upload) are never touched: their cost is bounded elsewhere.
 *
 * Closing = shutdown(2) on the socket: MHD then sees EOF on its next run and
 * closes the connection itself (NOTIFY_CLOSED), so its bookkeeping stays
 * its own.  Works the same for TLS.
 */
#ifndef TD_WEB_GUARD_H
#define TD_WEB_GUARD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define WEB_GUARD_HEAD_MS 10000   /* a whole request (head, unauthenticated body) */
#define WEB_GUARD_PER_IP 64       /* waiting connections per client address */
#define WEB_GUARD_MIN_AGE_MS 1000 /* per-address eviction spares younger ones */
#define WEB_GUARD_SWEEP_MS 1000

/* Per TCP connection; embedded in the server's socket context. */
struct web_guard_conn {
    struct web_guard_conn *prev, *next;   /* waiting list, oldest first */
    struct MHD_Connection *c;
    uint8_t ip[16];                       /* client address, IPv4 v4-mapped */
    uint64_t since_ms;                    /* uv_now() when it started waiting */
    bool waiting;                         /* on the list */
    bool trusted;                         /* carried an authenticated request */
    bool evicted;                         /* shut down, MHD closes it soon */
    bool open;                            /* between web_guard_opened and _closed */
};

struct web_guard {
    uv_loop_t *loop;
    uv_timer_t sweep;
    struct web_guard_conn *head, *tail;
    size_t nopen;                         /* open and not evicted */
    size_t soft_cap;
    uint64_t evictions, deadline_closes;  /* for the log and tests */
};

/* max_conns: MHD's connection limit.  The sweep timer is a loop handle:
 * close it with web_guard_close(). */
void web_guard_init(struct web_guard *g, uv_loop_t *loop, unsigned max_conns);
void web_guard_close(struct web_guard *g, uv_close_cb cb);
void web_guard_set_max(struct web_guard *g, unsigned max_conns);

/* MHD_CONNECTION_NOTIFY_STARTED: starts waiting, applies the caps. */
void web_guard_opened(struct web_guard *g, struct web_guard_conn *gc, struct MHD_Connection *c);
/* MHD_CONNECTION_NOTIFY_CLOSED. */
void web_guard_closed(struct web_guard *g, struct web_guard_conn *gc);
/* A request was taken on (dispatched, or authenticated from its headers):
 * no deadline until it completes.  trusted: it showed a credential (a
 * session, a verified Basic credential or API token). */
void web_guard_busy(struct web_guard *g, struct web_guard_conn *gc, bool trusted);
/* The request completed; the connection waits for the next one. */
void web_guard_idle(struct web_guard *g, struct web_guard_conn *gc);

#endif
