/* utpsock — see utpsock.h. */
#include "core/utpsock.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/dht/dht.h"
#include "bt/utp/utp.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/settings.h"
#include "util/log.h"

#define UTPSOCK_TICK_MS 50
#define UTPSOCK_READ_CHUNK (256 * 1024)
/* The kernel's default UDP buffers (about 200 KiB) overflow at loopback
 * speed long before our windows do. */
#define UTPSOCK_SOCKBUF (4 << 20)
#define UTPSOCK_LOOPBACK_PAYLOAD 60000

struct utpsock_stream {
    struct utpsock *u;
    struct utp_conn *c;
    uv_stream_t *owner;
    uv_alloc_cb alloc_cb;
    uv_read_cb read_cb;
    bool reading, closed, eof_seen, delivering;
    int err;                       /* a UV_* error not given to the reader yet */
    uv_connect_t *conn_req;
    uv_connect_cb conn_cb;
    uv_write_t *wreq;              /* the write in progress */
    uv_write_cb wcb;
    const uint8_t *wdata;
    size_t wlen, woff;
    bool wdone;                    /* all taken: the callback is due */
    struct utpsock_stream *due_next;
    bool due;                      /* on u->due: a callback or a delivery waits for the check */
};

struct utpsock {
    struct session *s;
    struct utp_mux *mux;
    uv_udp_t *own[2];              /* our sockets when the DHT has none (v4, v6) */
    struct dht *dht;               /* the DHT whose sockets we use */
    uv_timer_t timer;
    uv_check_t check;
    uv_idle_t idle;
    bool timer_on, idle_on;
    struct utpsock_stream *due;
};

static uint64_t now_us(void) { return uv_hrtime() / 1000; }

static void on_idle(uv_idle_t *h) { (void)h; }

static void want_flush(struct utpsock *u);
static void on_timer(uv_timer_t *h);

static void mark_due(struct utpsock_stream *st)
{
    struct utpsock *u = st->u;
    if (!st->due) {
        st->due = true;
        st->due_next = u->due;
        u->due = st;
    }
    want_flush(u);
}

static void want_flush(struct utpsock *u)
{
    if (!u->idle_on) {
        u->idle_on = true;
        uv_idle_start(&u->idle, on_idle);
    }
    if (!u->timer_on && utp_mux_count(u->mux) > 0) {
        u->timer_on = true;
        uv_timer_start(&u->timer, on_timer, UTPSOCK_TICK_MS, UTPSOCK_TICK_MS);
    }
}

/* ---- datagrams ---- */

static uv_udp_t *sock_for(struct utpsock *u, int family)
{
    int f = family == AF_INET6;
    if (u->dht)
        return dht_socket(u->dht, family);
    return u->own[f];
}

static void op_send(void *ud, const struct sockaddr *to, const uint8_t *hdr, size_t hl, const uint8_t *pl, size_t pll)
{
    struct utpsock *u = ud;
    uv_udp_t *h = sock_for(u, to->sa_family);
    if (!h)
        return;
    uv_buf_t b[2] = {uv_buf_init((char *)hdr, (unsigned)hl), uv_buf_init((char *)pl, (unsigned)pll)};
    int rc = uv_udp_try_send(h, b, pll ? 2 : 1, to);
    if (rc < 0 && rc != UV_EAGAIN)
        log_debug("utp: send failed: %s", uv_strerror(rc));   /* a lost datagram: resent later */
}

static void on_datagram(void *ud, const uint8_t *p, size_t n, const struct sockaddr *from)
{
    struct utpsock *u = ud;
    if (utp_mux_recv(u->mux, p, n, from, now_us()) == 0)
        want_flush(u);
}

static uint8_t rxbuf[65536];

static void own_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h, (void)suggested;
    *b = uv_buf_init((char *)rxbuf, sizeof rxbuf);
}

/* IP_RECVERR: an ICMP error for a datagram we sent waits in the socket's
 * error queue with the destination it was sent to.  A peer with no uTP
 * (no UDP socket on its port) answers our SYN with a port unreachable:
 * the connection falls back to TCP at once instead of after 3 SYNs, as
 * libtorrent does. */
static void drain_errors(struct utpsock *u, uv_udp_t *h)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)h, &fd) != 0)
        return;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage to;
        uint8_t data[64];
        union {
            char buf[512];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {data, sizeof data};
        struct msghdr mh = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
        if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            return;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
                  (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
                continue;
            const struct sock_extended_err *ee = (const struct sock_extended_err *)CMSG_DATA(cm);
            if ((ee->ee_origin == SO_EE_ORIGIN_ICMP || ee->ee_origin == SO_EE_ORIGIN_ICMP6) &&
                (ee->ee_errno == ECONNREFUSED || ee->ee_errno == EHOSTUNREACH || ee->ee_errno == ENETUNREACH))
                utp_mux_unreachable(u->mux, (const struct sockaddr *)&to);
        }
    }
}

static void own_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *b, const struct sockaddr *addr, unsigned flags)
{
    if (nread < 0) {
        drain_errors(h->data, h);
        want_flush(h->data);
        return;
    }
    if (nread == 0 || !addr || (flags & UV_UDP_PARTIAL))
        return;
    on_datagram(h->data, (const uint8_t *)b->base, (size_t)nread, addr);
}

static void on_own_closed(uv_handle_t *h) { free(h); }

static void close_own(struct utpsock *u)
{
    for (int f = 0; f < 2; f++) {
        if (u->own[f]) {
            uv_close((uv_handle_t *)u->own[f], on_own_closed);   /* the fd goes now: the port is free */
            u->own[f] = NULL;
        }
    }
}

static void tune_buffers(uv_udp_t *h)
{
    int v = UTPSOCK_SOCKBUF;
    uv_recv_buffer_size((uv_handle_t *)h, &v);
    v = UTPSOCK_SOCKBUF;
    uv_send_buffer_size((uv_handle_t *)h, &v);
}

static int open_own(struct utpsock *u, int family)
{
    struct session *s = u->s;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int rc;
    if (family == AF_INET)
        rc = uv_ip4_addr(s->listen_address ? s->listen_address : "0.0.0.0", s->listen_port, (struct sockaddr_in *)&ss);
    else
        rc = uv_ip6_addr(s->listen_address ? s->listen_address : "::", s->listen_port, (struct sockaddr_in6 *)&ss);
    if (rc != 0)
        return rc;
    uv_udp_t *h = malloc(sizeof *h);
    if (!h)
        return -ENOMEM;
    uv_udp_init(s->loop, h);
    h->data = u;
    rc = uv_udp_bind(h, (struct sockaddr *)&ss, UV_UDP_LINUX_RECVERR | (family == AF_INET6 ? UV_UDP_IPV6ONLY : 0));
    if (rc == 0)
        rc = uv_udp_recv_start(h, own_alloc, own_recv);
    if (rc != 0) {
        uv_close((uv_handle_t *)h, on_own_closed);
        return rc;
    }
    tune_buffers(h);
    u->own[family == AF_INET6] = h;
    return 0;
}

/* ---- connections ---- */

static int map_err(int err)
{
    return err == -ETIMEDOUT ? UV_ETIMEDOUT : err == -ECONNREFUSED ? UV_ECONNREFUSED : UV_ECONNRESET;
}

static void deliver(struct utpsock_stream *st)
{
    if (st->delivering)
        return;   /* a read callback that restarts reading: the loop below goes on */
    st->delivering = true;
    while (!st->closed && st->reading && st->c && utp_conn_readable(st->c) > 0) {
        uv_buf_t b;
        st->alloc_cb((uv_handle_t *)st->owner, UTPSOCK_READ_CHUNK, &b);
        if (!b.base || b.len == 0) {
            st->read_cb(st->owner, UV_ENOBUFS, &b);
            break;
        }
        size_t n = utp_conn_read(st->c, b.base, b.len);
        st->read_cb(st->owner, (ssize_t)n, &b);
        want_flush(st->u);   /* the window may have opened */
    }
    if (!st->closed && st->reading && st->err && (!st->c || utp_conn_readable(st->c) == 0)) {
        int e = st->err;
        st->err = 0;
        uv_buf_t b = uv_buf_init(NULL, 0);
        st->read_cb(st->owner, e, &b);
    }
    st->delivering = false;
}

static void complete_write(struct utpsock_stream *st, int status)
{
    uv_write_t *req = st->wreq;
    uv_write_cb cb = st->wcb;
    st->wreq = NULL;
    st->wcb = NULL;
    st->wdone = false;
    if (cb)
        cb(req, status);
}

static void push_write(struct utpsock_stream *st)
{
    if (!st->wreq || st->wdone || !st->c)
        return;
    st->woff += utp_conn_write(st->c, st->wdata + st->woff, st->wlen - st->woff);
    if (st->woff == st->wlen) {
        st->wdone = true;
        mark_due(st);
    }
    want_flush(st->u);
}

static void on_event(void *ud, struct utp_conn *c, enum utp_event ev, int err)
{
    (void)ud;
    struct utpsock_stream *st = utp_conn_app(c);
    if (!st || st->closed)
        return;
    switch (ev) {
    case UTP_EV_CONNECTED:
        if (st->conn_cb) {
            uv_connect_cb cb = st->conn_cb;
            st->conn_cb = NULL;
            cb(st->conn_req, 0);
        }
        break;
    case UTP_EV_READABLE:
        deliver(st);
        break;
    case UTP_EV_WRITABLE:
        push_write(st);
        break;
    case UTP_EV_EOF:
        st->err = UV_EOF;
        deliver(st);
        break;
    case UTP_EV_ERROR:
        st->c = NULL;   /* the mux frees it once we let go */
        utp_conn_close(c);
        if (st->conn_cb) {
            uv_connect_cb cb = st->conn_cb;
            st->conn_cb = NULL;
            cb(st->conn_req, map_err(err));
            return;
        }
        st->err = map_err(err);
        if (st->wreq && !st->wdone) {
            st->wdone = true;
            mark_due(st);
        }
        deliver(st);
        break;
    }
}

static struct utpsock_stream *stream_new(struct utpsock *u, struct utp_conn *c)
{
    struct utpsock_stream *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->u = u;
    st->c = c;
    utp_conn_set_app(c, st);
    return st;
}

static int on_accept(void *ud, struct utp_conn *c)
{
    struct utpsock *u = ud;
    struct session *s = u->s;
    if (settings_int(&s->settings, SET_BITTORRENT_PROTOCOL) == 1 || s->shutting_down)
        return -EPERM;
    struct utpsock_stream *st = stream_new(u, c);
    if (!st)
        return -ENOMEM;
    if (peer_accept_utp(s, st) != 0) {
        utp_conn_set_app(c, NULL);
        free(st);
        return -EPERM;
    }
    want_flush(u);
    return 0;
}

static const struct utp_ops ops = {op_send, on_accept, on_event};

/* ---- loop hooks ---- */

static void run_due(struct utpsock *u)
{
    while (u->due) {
        struct utpsock_stream *st = u->due;
        u->due = st->due_next;
        st->due = false;
        if (st->closed) {
            free(st);
            continue;
        }
        if (st->wreq && st->wdone)
            complete_write(st, st->c || st->err == UV_EOF ? 0 : st->err);
        if (!st->closed)
            deliver(st);
    }
}

static void on_check(uv_check_t *h)
{
    struct utpsock *u = h->data;
    if (!u->idle_on)
        return;   /* nothing arrived or was written since the last flush */
    run_due(u);
    bool more = utp_mux_flush(u->mux, now_us());
    run_due(u);   /* writes a flush made room for */
    if (!u->due && !more && u->idle_on) {
        u->idle_on = false;
        uv_idle_stop(&u->idle);
    }
}

static void on_timer(uv_timer_t *h)
{
    struct utpsock *u = h->data;
    uint64_t now = now_us();
    utp_mux_tick(u->mux, now);
    if (utp_mux_flush(u->mux, now))
        want_flush(u);
    if (utp_mux_count(u->mux) == 0) {
        u->timer_on = false;
        uv_timer_stop(&u->timer);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    struct utpsock *u = h->data;
    if (h == (uv_handle_t *)&u->idle)   /* the last of the three */
        free(u);
}

/* ---- session side ---- */

static struct utpsock *get(struct session *s)
{
    if (s->utp)
        return s->utp;
    struct utpsock *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->s = s;
    uint64_t seed = 0;
    RAND_bytes((unsigned char *)&seed, sizeof seed);
    struct utp_config cfg = {.seed = seed | 1};
    if (utp_mux_new(&ops, u, &cfg, &u->mux) != 0) {
        free(u);
        return NULL;
    }
    uv_timer_init(s->loop, &u->timer);
    uv_check_init(s->loop, &u->check);
    uv_idle_init(s->loop, &u->idle);
    u->timer.data = u->check.data = u->idle.data = u;
    uv_check_start(&u->check, on_check);
    uv_unref((uv_handle_t *)&u->check);
    s->utp = u;
    return u;
}

void utpsock_release_port(struct session *s)
{
    struct utpsock *u = s->utp;
    if (!u)
        return;
    close_own(u);
    if (u->dht)
        dht_set_other(u->dht, NULL, NULL);
    u->dht = NULL;
}

void utpsock_sync(struct session *s)
{
    struct utpsock *u = get(s);
    if (!u)
        return;
    struct dht *d = s->disc.dht;
    if (s->shutting_down) {
        utpsock_release_port(s);
        return;
    }
    bool want = settings_int(&s->settings, SET_BITTORRENT_PROTOCOL) != 1;
    if (d) {
        close_own(u);
        u->dht = d;
        dht_set_other(d, on_datagram, u);
        for (int f = 0; f < 2; f++) {
            uv_udp_t *h = dht_socket(d, f ? AF_INET6 : AF_INET);
            if (h)
                tune_buffers(h);
        }
        return;
    }
    /* Our own socket: when uTP is on, or while connections still need it. */
    if (!want && utp_mux_count(u->mux) == 0) {
        close_own(u);
        return;
    }
    bool moved = false;
    for (int f = 0; f < 2; f++) {
        if (!u->own[f])
            continue;
        struct sockaddr_storage ss;
        int len = sizeof ss;
        if (uv_udp_getsockname(u->own[f], (struct sockaddr *)&ss, &len) != 0 ||
            ntohs(((struct sockaddr_in *)&ss)->sin_port) != s->listen_port)
            moved = true;
    }
    if (moved)
        close_own(u);
    if (!u->own[0] && !u->own[1]) {
        int r4 = -EAFNOSUPPORT, r6 = -EAFNOSUPPORT;
        bool v6 = s->listen_address && strchr(s->listen_address, ':');
        if (!v6)
            r4 = open_own(u, AF_INET);
        if (v6 || !s->listen_address)
            r6 = open_own(u, AF_INET6);
        if (r4 != 0 && r6 != 0)
            log_msg(LOG_WARNING, "uTP: cannot listen on UDP port %u: %s", s->listen_port, uv_strerror(r4 ? r4 : r6));
        else
            log_msg(LOG_INFO, "uTP listening on UDP port %u", s->listen_port);
    }
}

void utpsock_stop(struct session *s)
{
    struct utpsock *u = s->utp;
    if (!u)
        return;
    utpsock_release_port(s);
    s->utp = NULL;
    utp_mux_free(u->mux);
    while (u->due) {
        struct utpsock_stream *st = u->due;
        u->due = st->due_next;
        if (st->closed)
            free(st);
    }
    uv_close((uv_handle_t *)&u->timer, NULL);
    uv_close((uv_handle_t *)&u->check, NULL);
    uv_close((uv_handle_t *)&u->idle, on_handle_closed);
}

enum utpsock_out utpsock_outgoing(struct session *s)
{
    if (!s->utp || (!s->utp->dht && !s->utp->own[0] && !s->utp->own[1]))
        return UTPSOCK_OUT_NONE;
    switch (settings_int(&s->settings, SET_BITTORRENT_PROTOCOL)) {
    case 1:
        return UTPSOCK_OUT_NONE;
    case 2:
        return UTPSOCK_OUT_ONLY;
    default:
        return UTPSOCK_OUT_FIRST;
    }
}

size_t utpsock_count(const struct session *s) { return s->utp ? utp_mux_count(s->utp->mux) : 0; }

int utpsock_connect(struct session *s, const struct sockaddr *to, uv_stream_t *owner, uv_connect_t *req,
                    uv_connect_cb cb, struct utpsock_stream **out)
{
    struct utpsock *u = s->utp;
    if (!u)
        return -ENOTCONN;
    struct utpsock_stream *st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    st->u = u;
    st->owner = owner;
    st->conn_req = req;
    st->conn_cb = cb;
    int rc = utp_mux_connect(u->mux, to, st, now_us(), &st->c);
    if (rc != 0) {
        free(st);
        return rc;
    }
    want_flush(u);
    *out = st;
    return 0;
}

void utpsock_peer_known(struct utpsock_stream *st, const uint8_t peer_id[20])
{
    if (!st->c)
        return;
    const struct sockaddr *a = utp_conn_addr(st->c);
    bool lo = a->sa_family == AF_INET
                  ? (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127
                  : IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr);
    bool reads_64k = memcmp(peer_id, "-TD", 3) == 0;   /* libtorrent 2.0 drops them (tested) */
    if (lo && reads_64k)
        utp_conn_set_payload(st->c, UTPSOCK_LOOPBACK_PAYLOAD);
}

void utpsock_adopt(struct utpsock_stream *st, uv_stream_t *owner) { st->owner = owner; }

const struct sockaddr *utpsock_peer_addr(const struct utpsock_stream *st)
{
    return st->c ? utp_conn_addr(st->c) : NULL;
}

int utpsock_read_start(struct utpsock_stream *st, uv_alloc_cb alloc_cb, uv_read_cb read_cb)
{
    st->alloc_cb = alloc_cb;
    st->read_cb = read_cb;
    st->reading = true;
    mark_due(st);   /* what arrived meanwhile, from the loop (not from inside the caller) */
    return 0;
}

void utpsock_read_stop(struct utpsock_stream *st) { st->reading = false; }

int utpsock_write(uv_write_t *req, struct utpsock_stream *st, const uv_buf_t *b, uv_write_cb cb)
{
    if (st->wreq)
        return UV_EBUSY;
    if (!st->c)
        return st->err ? st->err : UV_ECONNRESET;
    st->wreq = req;
    st->wcb = cb;
    st->wdata = (const uint8_t *)b->base;
    st->wlen = b->len;
    st->woff = 0;
    st->wdone = false;
    push_write(st);
    return 0;
}

void utpsock_close(struct utpsock_stream *st)
{
    if (st->closed)
        return;
    if (st->wreq)
        complete_write(st, UV_ECANCELED);
    st->closed = true;
    if (st->c && getenv("TD_UTP_STATS")) {
        struct utp_stats x;
        utp_conn_stats(st->c, &x);
        fprintf(stderr, "utp stats: rtt %u var %u rto %u cwnd %u flight %u wnd %u delay %u sent %llu resent %llu recv %llu dup %llu\n",
                x.rtt_us, x.rttvar_us, x.rto_us, x.cwnd, x.flight, x.peer_wnd, x.our_delay_us,
                (unsigned long long)x.sent_packets, (unsigned long long)x.resent_packets,
                (unsigned long long)x.recv_packets, (unsigned long long)x.dup_packets);
    }
    if (st->c) {
        utp_conn_set_app(st->c, NULL);
        utp_conn_close(st->c);
        st->c = NULL;
    }
    want_flush(st->u);   /* the FIN */
    mark_due(st);        /* freed from the loop: a caller up the stack may still look at it */
}
