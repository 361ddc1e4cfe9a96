#include "core/peer.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bt/ext.h"
#include "bt/merkle.h"
#include "bt/metainfo.h"
#include "bt/picker.h"
#include "bt/wire.h"
#include "core/banlist.h"
#include "core/limits.h"
#include "core/mseconn.h"
#include "core/peerpolicy.h"
#include "core/peerproxy.h"
#include "core/session.h"
#include "core/settings.h"
#include "core/sslpeer.h"
#include "core/ssltorrent.h"
#include "core/torrent.h"
#include "core/tuning.h"
#include "core/utpsock.h"
#include "disk/storage.h"
#include "util/log.h"

/* Reading more than this ahead of the parser means the peer floods us. */
#define PEER_MAX_INBUF (4u << 20)
/* Stop reading blocks from disk for a peer while this much is queued. */
#define PEER_UPLOAD_HIGH_WATER (1u << 20)
/* libtorrent's handshake_timeout: a real peer answers within a round trip;
 * a silent or stalled one holds its (half-open) slot no longer than this. */
#define PEER_HANDSHAKE_TIMEOUT_MS 10000
/* Incoming connections not yet handshaken each hold a connection slot (and
 * count against max_connec, which also gates our own dials): without caps a
 * thousand connect-and-never-send sockets lock us out of our own swarm.  A
 * real peer's handshake takes one round trip, so a few per address suffice;
 * past the global cap the oldest half-open connection makes room, so a
 * flood from many addresses cannot lock newcomers out either. */
#define PEER_MAX_HALF_OPEN_PER_IP 8
#define PEER_MAX_HALF_OPEN 64
#define PEER_IDLE_TIMEOUT_MS 150000
#define PEER_KEEPALIVE_MS 110000
#define PEER_REQUEST_TIMEOUT_MS 30000

static void on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *b);
static void process_input(struct peer *p);
static void process_uploads(struct peer *p);

static void maybe_free(struct peer *p)
{
    if (p->refs > 0)
        return;
    buf_free(&p->in);
    buf_free(&p->out);
    sslpeer_free(p->tls);
    peerproxy_free(p->proxy);
    mseconn_free(p->mse);
    free(p->wdata);
    bitfield_free(&p->have);
    free(p->reqs);
    free(p->rext);
    free(p);
}

static void unref(struct peer *p)
{
    p->refs--;
    maybe_free(p);
}

static void on_close(uv_handle_t *h)
{
    struct peer *p = h->data;
    struct torrent *t = p->t;
    p->s->num_peers--;
    if (t)
        torrent_peer_closed(t);
    unref(p);
}

void peer_list_unlink(struct peer **head, struct peer *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else if (*head == p)
        *head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->next = p->prev = NULL;
}

void peer_list_push(struct peer **head, struct peer *p)
{
    p->prev = NULL;
    p->next = *head;
    if (*head)
        (*head)->prev = p;
    *head = p;
}

void peer_close(struct peer *p, const char *why)
{
    if (p->state == PEER_CLOSING)
        return;
    log_debug("peer %s:%u closed: %s", p->ip, p->port, why);
    log_src(LOG_SRC_DISCONNECT, "peer %s:%u disconnected: %s", p->ip, p->port, why);
    p->state = PEER_CLOSING;
    /* A peer with a torrent is in that torrent's list; others wait in the
     * session's handshaking list. */
    if (p->t)
        torrent_peer_detach(p->t, p);
    else
        peer_list_unlink(&p->s->handshaking, p);
    mseconn_closed(p);
    if (p->utp) {
        utpsock_close(p->utp);
        p->utp = NULL;
    }
    uv_close((uv_handle_t *)&p->tcp, on_close);
}

static struct peer *peer_alloc(struct session *s)
{
    struct peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->rext = calloc(1, sizeof *p->rext);
    if (!p->rext) {
        free(p);
        return NULL;
    }
    p->s = s;
    p->refs = 1;
    p->am_choking = p->peer_choking = true;
    p->connected_ms = p->last_recv_ms = p->last_send_ms = uv_now(s->loop);
    rate_init(&p->down);
    rate_init(&p->up);
    p->rext->metadata_size = -1;
    p->rext->reqq = -1;
    if (uv_tcp_init(s->loop, &p->tcp) != 0) {
        free(p->rext);
        free(p);
        return NULL;
    }
    p->tcp.data = p;
    s->num_peers++;
    return p;
}

static void set_addr(struct peer *p, const struct sockaddr *sa)
{
    size_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    memcpy(&p->addr, sa, len);
    if (sa->sa_family == AF_INET6) {
        uv_ip6_name((const struct sockaddr_in6 *)sa, p->ip, sizeof p->ip);
        p->port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    } else {
        uv_ip4_name((const struct sockaddr_in *)sa, p->ip, sizeof p->ip);
        p->port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    struct peer *p = h->data;
    (void)suggested;
    if (p->tls) {
        out->base = (char *)sslpeer_rbuf(p->tls, &out->len);
        return;
    }
    /* Read straight into the input buffer: no copy between socket and parser. */
    if (buf_reserve(&p->in, 256 * 1024) != 0) {
        out->base = NULL;
        out->len = 0;
        return;
    }
    out->base = (char *)p->in.data + p->in.len;
    out->len = p->in.cap - p->in.len - 1;
    if (p->t && p->t->mi && p->state == PEER_ACTIVE) {   /* as on_read charges */
        size_t allow = limits_read_allowance(p);
        if (out->len > allow)
            out->len = allow;
    }
}

/* ---- transport: TCP through p->tcp, or uTP through core/utpsock.c, whose
 * streams take the same calls; nothing above this cares which. ---- */

static void start_reading(struct peer *p)
{
    if (p->utp)
        utpsock_read_start(p->utp, alloc_cb, on_read);
    else
        uv_read_start((uv_stream_t *)&p->tcp, alloc_cb, on_read);
}

static void stop_reading(struct peer *p)
{
    if (p->utp)
        utpsock_read_stop(p->utp);
    else
        uv_read_stop((uv_stream_t *)&p->tcp);
}

static int transport_write(struct peer *p, const uv_buf_t *b, uv_write_cb cb)
{
    if (p->utp)
        return utpsock_write(&p->write_req, p->utp, b, cb);
    return uv_write(&p->write_req, (uv_stream_t *)&p->tcp, b, 1, cb);
}

static void connect_tcp(struct peer *p, const struct sockaddr *dial);

static void send_handshake(struct peer *p)
{
    bt_wire_handshake_build(&p->out, p->hs_hash, p->s->peer_id);
    peer_flush(p);
}

/* TCP is up (through the proxy's tunnel, if any): the handshake starts. */
static void begin_handshake(struct peer *p)
{
    p->state = PEER_HANDSHAKE;
    p->last_recv_ms = uv_now(p->s->loop);
    send_handshake(p);
    start_reading(p);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct peer *p = req->data;
    if (p->state == PEER_CLOSING)
        return;
    if (status != 0 && p->utp && p->tcp_fallback) {
        log_debug("peer %s:%u: uTP failed (%s), trying TCP", p->ip, p->port, uv_strerror(status));
        utpsock_close(p->utp);
        p->utp = NULL;
        p->over_utp = false;
        connect_tcp(p, (const struct sockaddr *)&p->addr);   /* no proxy: it would have carried TCP */
        return;
    }
    if (status != 0) {
        peer_close(p, uv_strerror(status));
        return;
    }
    if (!p->utp)
        peerpolicy_socket(p->s, &p->tcp, p->addr.ss_family);
    if (p->proxy)
        peerproxy_start(p, begin_handshake);   /* the proxy's handshake first */
    else
        begin_handshake(p);
}

/* Where an outgoing connection comes from: the listen address when one is
 * set (tests give every client its own 127.0.0.x), and with
 * outgoing_ports_min/max (libtorrent's outgoing_port and
 * num_outgoing_ports) a local port in that range, tried from a random
 * start until one is free; the range full, the kernel picks (as libtorrent
 * falls back).  libuv reports EADDRINUSE of a bound TCP handle only at
 * connect, so the socket is bound here and handed to the handle. */
static void bind_outgoing(struct session *s, uv_tcp_t *h, int family)
{
    struct sockaddr_storage local;
    memset(&local, 0, sizeof local);
    local.ss_family = (sa_family_t)family;
    bool have_addr = false;
    if (s->listen_address)
        have_addr = family == AF_INET ? uv_ip4_addr(s->listen_address, 0, (struct sockaddr_in *)&local) == 0
                                      : uv_ip6_addr(s->listen_address, 0, (struct sockaddr_in6 *)&local) == 0;
    int64_t lo = settings_int(&s->settings, SET_OUTGOING_PORTS_MIN);
    int64_t hi = settings_int(&s->settings, SET_OUTGOING_PORTS_MAX);
    if (lo <= 0 || hi < lo) {
        if (have_addr)
            uv_tcp_bind(h, (struct sockaddr *)&local, 0);
        return;
    }
    socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    uint32_t span = (uint32_t)(hi - lo + 1), start = 0;
    RAND_bytes((unsigned char *)&start, sizeof start);
    for (uint32_t k = 0; k < span; k++) {
        uint16_t port = htons((uint16_t)(lo + (start + k) % span));
        if (family == AF_INET)
            ((struct sockaddr_in *)&local)->sin_port = port;
        else
            ((struct sockaddr_in6 *)&local)->sin6_port = port;
        if (bind(fd, (struct sockaddr *)&local, len) == 0) {
            if (uv_tcp_open(h, fd) != 0)
                close(fd);
            return;
        }
    }
    close(fd);
    log_debug("outgoing_ports %lld-%lld all in use: the kernel picks", (long long)lo, (long long)hi);
    if (have_addr)
        uv_tcp_bind(h, (struct sockaddr *)&local, 0);
}

int peer_connect(struct session *s, struct torrent *t, const struct sockaddr *addr, struct peer **out)
{
    /* An SSL torrent talks TLS only, and only once it has a certificate. */
    if (ssltorrent_is_ssl(t) && !ssltorrent_ctx(t))
        return -EPERM;
    struct peer *p = peer_alloc(s);
    if (!p)
        return -ENOMEM;
    if (ssltorrent_is_ssl(t) && sslpeer_connect(ssltorrent_ctx(t), t->info_hash, &p->tls) != 0) {
        p->state = PEER_CLOSING;
        uv_close((uv_handle_t *)&p->tcp, on_close);
        return -ENOMEM;
    }
    if (p->tls)
        ssltorrent_size_buffers(s, p->tls);
    set_addr(p, addr);
    p->t = t;
    memcpy(p->hs_hash, t->info_hash, 20);
    if (mseconn_outgoing(p) != 0) {
        p->state = PEER_CLOSING;
        uv_close((uv_handle_t *)&p->tcp, on_close);
        return -ENOMEM;
    }
    p->state = PEER_CONNECTING;
    /* Through the proxy when one is set for peers (core/peerproxy.c); one
     * that cannot be used means no connection, never a direct one. */
    struct sockaddr_storage dial;
    int prc = peerproxy_prepare(p, addr, &dial);
    if (prc < 0) {
        p->state = PEER_CLOSING;
        uv_close((uv_handle_t *)&p->tcp, on_close);
        return prc;
    }
    p->connect_req.data = p;
    torrent_peer_attach(t, p);
    /* uTP first when allowed, as libtorrent (SSL torrents listen on TCP
     * only; a proxy carries TCP only, and nothing may go around it). */
    enum utpsock_out how = p->tls || p->proxy ? UTPSOCK_OUT_NONE : utpsock_outgoing(s);
    int urc = how == UTPSOCK_OUT_NONE
                  ? -EPROTONOSUPPORT
                  : utpsock_connect(s, addr, (uv_stream_t *)&p->tcp, &p->connect_req, on_connect, &p->utp);
    if (urc == 0) {
        p->over_utp = true;
        p->tcp_fallback = how == UTPSOCK_OUT_FIRST;
    } else if (how == UTPSOCK_OUT_ONLY) {
        peer_close(p, "uTP connect failed");
    } else {
        connect_tcp(p, (const struct sockaddr *)&dial);
    }
    if (p->state == PEER_CLOSING)
        return -ECONNREFUSED;
    if (out)
        *out = p;
    return 0;
}

static void connect_tcp(struct peer *p, const struct sockaddr *dial)
{
    bind_outgoing(p->s, &p->tcp, dial->sa_family);
    uv_tcp_nodelay(&p->tcp, 1);
    int rc = uv_tcp_connect(&p->connect_req, &p->tcp, dial, on_connect);
    if (rc != 0) {
        peer_close(p, uv_strerror(rc));
        return;
    }
    tuning_peer_socket(p->s, &p->tcp);   /* the socket exists once the connect started */
}

/* Room for one more half-open connection from ip: -EAGAIN when that
 * address has its share; closes the oldest one when all are taken. */
static int half_open_admit(struct session *s, const char *ip)
{
    unsigned total = 0, same = 0;
    struct peer *oldest = NULL;   /* the list is pushed at the front */
    for (struct peer *q = s->handshaking; q; q = q->next) {
        total++;
        same += strcmp(q->ip, ip) == 0;
        oldest = q;
    }
    if (same >= PEER_MAX_HALF_OPEN_PER_IP)
        return -EAGAIN;
    if (total >= PEER_MAX_HALF_OPEN && oldest)
        peer_close(oldest, "half-open limit: oldest makes room");
    return 0;
}

/* An accepted connection (TCP or uTP) past the address checks, or closed. */
static int admit(struct session *s, struct peer *p, const struct sockaddr *from)
{
    set_addr(p, from);
    const char *refused = banlist_refusal(s, p->ip);
    if (refused) {
        banlist_log(s, p->ip, true, refused);
        log_src(LOG_SRC_BLOCKED, "incoming connection from %s blocked: %s", p->ip, refused);
        p->state = PEER_CLOSING;
        uv_close((uv_handle_t *)&p->tcp, on_close);
        return -EPERM;
    }
    if (half_open_admit(s, p->ip) != 0) {
        log_debug("peer %s: too many half-open connections from it, refused", p->ip);
        p->state = PEER_CLOSING;
        uv_close((uv_handle_t *)&p->tcp, on_close);
        return -EAGAIN;
    }
    if (mseconn_incoming(p) != 0) {
        p->state = PEER_CLOSING;
        uv_close((uv_handle_t *)&p->tcp, on_close);
        return -ENOMEM;
    }
    p->incoming = true;
    p->source = PEER_SRC_INCOMING;
    p->state = PEER_HANDSHAKE;
    peer_list_push(&s->handshaking, p);
    s->had_incoming = true;
    start_reading(p);
    return 0;
}

int peer_accept(struct session *s, uv_stream_t *server, bool tls)
{
    struct peer *p = peer_alloc(s);
    if (!p)
        return -ENOMEM;
    /* uTP only (bittorrent_protocol 2) refuses plain TCP, as libtorrent's
     * enable_incoming_tcp off; SSL torrents have TCP alone. */
    if (uv_accept(server, (uv_stream_t *)&p->tcp) != 0 || (tls && ssltorrent_accept(s, &p->tls) != 0) ||
        (!tls && utpsock_outgoing(s) == UTPSOCK_OUT_ONLY)) {
        p->state = PEER_CLOSING;
        uv_close((uv_handle_t *)&p->tcp, on_close);
        return -EIO;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    uv_tcp_getpeername(&p->tcp, (struct sockaddr *)&ss, &len);
    uv_tcp_nodelay(&p->tcp, 1);
    tuning_peer_socket(s, &p->tcp);
    peerpolicy_socket(s, &p->tcp, ss.ss_family);
    return admit(s, p, (struct sockaddr *)&ss);
}

int peer_accept_utp(struct session *s, struct utpsock_stream *st)
{
    struct peer *p = peer_alloc(s);
    if (!p)
        return -ENOMEM;
    utpsock_adopt(st, (uv_stream_t *)&p->tcp);
    p->utp = st;
    p->over_utp = true;
    int rc = admit(s, p, utpsock_peer_addr(st));
    if (rc != 0)
        p->utp = NULL;   /* refused: the caller resets the connection */
    return rc;
}

static void on_write(uv_write_t *req, int status)
{
    struct peer *p = req->data;
    free(p->wdata);
    p->wdata = NULL;
    p->writing = false;
    if (p->state == PEER_CLOSING) {
        unref(p);
        return;
    }
    unref(p);
    if (status != 0) {
        peer_close(p, uv_strerror(status));
        return;
    }
    peer_flush(p);
    process_uploads(p);
}

/* What goes on the wire next: p->out itself, or for TLS the records that
 * carry it (and any handshake records).  0 with *len 0 when nothing. */
static int take_output(struct peer *p, size_t *len)
{
    *len = 0;
    if (buf_error(&p->out))
        return buf_error(&p->out);   /* a message was lost: the stream is broken */
    if (p->mse)
        return mseconn_take_output(p, len);
    if (!p->tls) {
        if (buf_size(&p->out) == 0)
            return 0;
        p->wdata = buf_steal(&p->out, len);
        return p->wdata ? 0 : -ENOMEM;
    }
    struct buf cipher = BUF_INIT;
    int rc = sslpeer_seal(p->tls, &p->out, &cipher);
    if (rc == 0 && buf_size(&cipher) > 0) {
        p->wdata = cipher.data;   /* fresh buffer: nothing consumed, data starts at 0 */
        *len = cipher.len;
        return 0;
    }
    buf_free(&cipher);
    return rc;
}

void peer_flush(struct peer *p)
{
    if (p->writing || p->state == PEER_CLOSING || p->state == PEER_CONNECTING)
        return;
    size_t len;
    int trc = take_output(p, &len);
    if (trc != 0) {
        peer_close(p, trc == -ENOMEM ? "out of memory"
                      : p->tls       ? sslpeer_error(p->tls)
                      : p->mse       ? mseconn_error(p)
                                     : "write failed");
        return;
    }
    if (len == 0)
        return;
    uv_buf_t b = uv_buf_init((char *)p->wdata, (unsigned)len);
    p->s->wire_ul_session += (int64_t)len;
    p->write_req.data = p;
    p->writing = true;
    p->refs++;
    int rc = transport_write(p, &b, on_write);
    if (rc != 0) {
        p->writing = false;
        p->refs--;
        free(p->wdata);
        p->wdata = NULL;
        peer_close(p, uv_strerror(rc));
        return;
    }
    p->last_send_ms = uv_now(p->s->loop);
}

void peer_send_have(struct peer *p, uint32_t piece)
{
    if (p->state != PEER_ACTIVE)
        return;
    log_src(LOG_SRC_HAVE, "peer %s:%u: have %u sent", p->ip, p->port, piece);
    bt_wire_put_have(&p->out, piece);
}

void peer_set_choke(struct peer *p, bool choke)
{
    if (p->state != PEER_ACTIVE || p->am_choking == choke)
        return;
    p->am_choking = choke;
    if (choke) {
        bt_wire_put_choke(&p->out);
        /* Queued requests die with the choke; fast peers are told so. */
        while (p->up_count > 0) {
            struct peer_upreq *r = &p->upreqs[p->up_head];
            if (p->fast)
                bt_wire_put_reject(&p->out, r->piece, r->begin, r->length);
            p->up_head = (p->up_head + 1) % PEER_MAX_UPREQS;
            p->up_count--;
        }
    } else {
        bt_wire_put_unchoke(&p->out);
        p->unchoked_since_ms = uv_now(p->s->loop);
    }
    peer_flush(p);
}

void peer_set_interested(struct peer *p, bool interested)
{
    if (p->state != PEER_ACTIVE || p->am_interested == interested)
        return;
    p->am_interested = interested;
    if (interested)
        bt_wire_put_interested(&p->out);
    else
        bt_wire_put_not_interested(&p->out);
    peer_flush(p);
}

void peer_send_request(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length)
{
    if (p->num_reqs == p->cap_reqs) {
        int cap = p->cap_reqs ? p->cap_reqs * 2 : 64;
        struct peer_req *r = realloc(p->reqs, (size_t)cap * sizeof *r);
        if (!r)
            return;
        p->reqs = r;
        p->cap_reqs = cap;
    }
    p->reqs[p->num_reqs++] = (struct peer_req){piece, begin, length, uv_now(p->s->loop)};
    bt_wire_put_request(&p->out, piece, begin, length);
}

void peer_send_cancel(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length)
{
    if (peer_forget_request(p, piece, begin))
        bt_wire_put_cancel(&p->out, piece, begin, length);
}

bool peer_forget_request(struct peer *p, uint32_t piece, uint32_t begin)
{
    /* Blocks usually arrive in request order: search from the front. */
    for (int i = 0; i < p->num_reqs; i++) {
        if (p->reqs[i].piece == piece && p->reqs[i].begin == begin) {
            memmove(&p->reqs[i], &p->reqs[i + 1], (size_t)(p->num_reqs - i - 1) * sizeof *p->reqs);
            p->num_reqs--;
            return true;
        }
    }
    return false;
}

int peer_pipeline_target(const struct peer *p, uint64_t now_ms)
{
    struct rate tmp = p->down;
    uint64_t r = rate_get(&tmp, now_ms);
    /* Keep about two seconds of data in flight, as libtorrent does. */
    int64_t n = (int64_t)(r * 2 / BT_WIRE_BLOCK_SIZE);
    int cap = p->rext->reqq > 0 ? (int)(p->rext->reqq < 500 ? p->rext->reqq : 500) : 250;
    int most = tuning_request_queue(p->s);
    if (cap > most)
        cap = most;
    if (n < 32)
        n = 32;
    if (n > cap)
        n = cap;
    return (int)n;
}

/* ---- input ---- */

static void on_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *b)
{
    struct peer *p = h->data;
    if (p->state == PEER_CLOSING)
        return;
    if (nread < 0) {
        peer_close(p, nread == UV_EOF ? "eof" : uv_strerror((int)nread));
        return;
    }
    if (nread == 0)
        return;
    p->last_recv_ms = uv_now(p->s->loop);
    p->s->wire_dl_session += nread;
    tuning_net_activity(&p->s->tune);
    if (p->tls) {
        size_t before = buf_size(&p->in);
        int rc = sslpeer_feed(p->tls, (const uint8_t *)b->base, (size_t)nread, &p->in);
        if (rc != 0) {
            log_msg(LOG_INFO, "SSL peer %s:%u refused: %s", p->ip, p->port, sslpeer_error(p->tls));
            peer_close(p, sslpeer_error(p->tls));
            return;
        }
        peer_flush(p);   /* handshake records */
        nread = (ssize_t)(buf_size(&p->in) - before);
        if (nread == 0 || p->state == PEER_CLOSING)
            return;
    } else if (p->mse) {
        nread = mseconn_on_read(p, (size_t)nread);
        if (nread < 0) {
            log_debug("peer %s:%u: encryption: %s", p->ip, p->port, mseconn_error(p));
            peer_close(p, mseconn_error(p));
            return;
        }
        peer_flush(p);   /* handshake bytes */
        if (nread == 0 || p->state == PEER_CLOSING)
            return;
    } else {
        p->in.len += (size_t)nread;
    }
    if (p->t && p->t->mi && p->state == PEER_ACTIVE && !limits_charge_download(p, (uint64_t)nread)) {
        stop_reading(p);   /* limits marked it read_paused */
    }
    process_input(p);
    if (p->state != PEER_CLOSING && buf_size(&p->in) > PEER_MAX_INBUF)
        peer_close(p, "input overflow");
}

static void send_initial(struct peer *p)
{
    struct torrent *t = p->t;
    if (p->ext) {
        struct bt_ext_handshake ours;
        memset(&ours, 0, sizeof ours);
        ours.ut_metadata = PEER_EXT_METADATA;
        ours.ut_pex = PEER_EXT_PEX;
        ours.metadata_size = t->mi && !t->mi->is_private ? (int64_t)t->mi->info_len : -1;
        ours.reqq = 500;
        ours.listen_port = ssltorrent_announce_port(t);
        snprintf(ours.client, sizeof ours.client, "torrentd %s", TD_VERSION);
        if (peerpolicy_anonymous(p->s)) {
            ours.client[0] = 0;   /* anonymous_mode: no "v" and no "yourip" */
        } else if (p->addr.ss_family == AF_INET) {
            memcpy(ours.yourip, &((struct sockaddr_in *)&p->addr)->sin_addr, 4);
            ours.yourip_len = 4;
        } else {
            memcpy(ours.yourip, &((struct sockaddr_in6 *)&p->addr)->sin6_addr, 16);
            ours.yourip_len = 16;
        }
        struct buf payload = BUF_INIT;
        if (bt_ext_handshake_build(&payload, &ours) == 0)
            bt_wire_put_extended(&p->out, 0, buf_head(&payload), buf_size(&payload));
        buf_free(&payload);
    }
    if (!t->mi) {
        /* Nothing to offer but the will to learn the metadata. */
        if (p->fast)
            bt_wire_put_have_none(&p->out);
        peer_flush(p);
        return;
    }
    uint32_t n = t->mi->num_pieces;
    if (p->fast && t->have.count == n)
        bt_wire_put_have_all(&p->out);
    else if (p->fast && t->have.count == 0)
        bt_wire_put_have_none(&p->out);
    else if (t->have.count > 0)
        bt_wire_put_bitfield(&p->out, t->have.bits, bitfield_bytes(&t->have));
    peer_flush(p);
}

static int on_handshake(struct peer *p)
{
    struct bt_handshake hs;
    if (bt_wire_handshake_parse(buf_head(&p->in), &hs) != 0)
        return -EPROTO;
    buf_consume(&p->in, BT_WIRE_HANDSHAKE_LEN);
    if (memcmp(hs.peer_id, p->s->peer_id, 20) == 0)
        return -ELOOP;
    if (p->incoming) {
        struct torrent *t = session_find(p->s, hs.info_hash);
        if (!t || t->stopped || t->phase != TP_READY || t->removing)
            return -ENOENT;
        if (!mseconn_hash_ok(p, hs.info_hash))
            return -EPROTO;   /* the MSE handshake was for another torrent */
        /* TLS routed by SNI to this very torrent, or plain for a plain one. */
        if (p->tls ? !sslpeer_uses(p->tls, ssltorrent_ctx(t)) || memcmp(sslpeer_info_hash(p->tls), hs.info_hash, 20) != 0
                   : ssltorrent_is_ssl(t))
            return -EACCES;
        peer_list_unlink(&p->s->handshaking, p);
        p->t = t;
        memcpy(p->hs_hash, hs.info_hash, 20);   /* answered with the hash it asked for */
        torrent_peer_attach(t, p);
        send_handshake(p);
    } else if (memcmp(hs.info_hash, p->hs_hash, 20) != 0) {
        return -EPROTO;
    }
    /* One connection per peer id: the second one adds nothing.  And, unless
     * enable_multi_connections_from_same_ip (libtorrent's
     * allow_multiple_connections_per_ip, off by default), one per address:
     * otherwise one host with made-up peer ids fills max_connec_per_torrent
     * with connections that never send a thing, and we cannot dial the
     * torrent's real peers until the idle timeout. */
    bool multi = settings_bool(&p->s->settings, SET_ENABLE_MULTI_CONNECTIONS_FROM_SAME_IP);
    struct peer *stale = NULL;
    for (struct peer *q = p->t->peers; q; q = q->next) {
        if (q == p || q->state != PEER_ACTIVE)
            continue;
        /* uTP from the address and UDP port of a connection we still hold:
         * the peer restarted (a live one reuses its connection), and a
         * killed uTP peer sends nothing that would close ours -- it would
         * block the peer until the idle timeout.  The new one replaces it. */
        if (p->utp && q->utp && q->port == p->port && strcmp(q->ip, p->ip) == 0 &&
            memcmp(q->peer_id, hs.peer_id, 20) != 0) {
            stale = q;
            continue;
        }
        if (memcmp(q->peer_id, hs.peer_id, 20) == 0 || (!multi && strcmp(q->ip, p->ip) == 0))
            return -EEXIST;
    }
    if (stale)
        peer_close(stale, "replaced by a new uTP connection from the same address and port");
    memcpy(p->peer_id, hs.peer_id, 20);
    if (p->utp)
        utpsock_peer_known(p->utp, p->peer_id);
    bt_wire_peer_client(hs.peer_id, p->client, sizeof p->client);
    p->fast = hs.fast;
    p->ext = hs.ext;
    if (p->t->mi && bitfield_init(&p->have, p->t->mi->num_pieces) != 0)
        return -ENOMEM;
    p->state = PEER_ACTIVE;
    log_src(p->incoming ? LOG_SRC_PEER_IN : LOG_SRC_PEER_OUT, "'%s': %s connection with peer %s:%u (%s)",
            torrent_name(p->t), p->incoming ? "incoming" : "outgoing", p->ip, p->port, p->client);
    send_initial(p);
    return 0;
}

static bool valid_block(struct peer *p, uint32_t piece, uint32_t begin, uint32_t len)
{
    struct torrent *t = p->t;
    if (piece >= t->mi->num_pieces || len == 0 || len > 128 * 1024)
        return false;
    int64_t psize = torrent_piece_size(t, piece);
    return (int64_t)begin + len <= psize;
}

static void drop_all_requests(struct peer *p)
{
    for (int i = 0; i < p->num_reqs; i++)
        bt_picker_block_cancel(p->t->picker, p->reqs[i].piece, p->reqs[i].begin, p);
    p->num_reqs = 0;
}

/* Before the metadata is known only the extension protocol matters; piece
 * messages cannot even be validated. */
static int on_message_no_metadata(struct peer *p, const struct bt_msg *m)
{
    struct torrent *t = p->t;
    switch (m->id) {
    case BT_MSG_CHOKE:
        p->peer_choking = true;
        return 0;
    case BT_MSG_UNCHOKE:
        p->peer_choking = false;
        return 0;
    case BT_MSG_INTERESTED:
        p->peer_interested = true;
        return 0;
    case BT_MSG_NOT_INTERESTED:
        p->peer_interested = false;
        return 0;
    case BT_MSG_HAVE_ALL:
        p->have_all = true;
        return 0;
    case BT_MSG_REQUEST:
        if (p->fast)
            bt_wire_put_reject(&p->out, m->index, m->begin, m->length);
        return 0;
    case BT_MSG_EXTENDED:
        break;
    case BT_MSG_HASHES:
        return torrent_on_hashes(t, p, m->payload, m->payload_len);
    case BT_MSG_HASH_REJECT:
        torrent_on_hash_reject(t, p, m->payload);
        return 0;
    default:
        return 0;
    }
    if (m->ext_id == 0) {
        if (bt_ext_handshake_parse(m->payload, m->payload_len, p->rext) != 0)
            return -EPROTO;
        if (p->rext->client[0])
            snprintf(p->client, sizeof p->client, "%s", p->rext->client);
        torrent_on_ext_handshake(t, p);
    } else if (m->ext_id == PEER_EXT_METADATA) {
        torrent_on_metadata_msg(t, p, m->payload, m->payload_len);
    } else if (m->ext_id == PEER_EXT_PEX) {
        torrent_on_pex_msg(t, p, m->payload, m->payload_len);
    }
    return 0;
}

/* BEP52: hashes from the piece layers we hold, a reject for anything else
 * (leaf hashes are not kept), so the peer asks elsewhere instead of waiting. */
static int on_hash_request(struct peer *p, const uint8_t *req)
{
    size_t n = 0;
    uint8_t *out = malloc((MERKLE_REQ_MAX_COUNT + 64) * MERKLE_HASH);
    int rc = out ? bt_metainfo_hash_request(p->t->mi, req, out, &n) : -ENOMEM;
    log_debug("peer: hash request (base %u, index %u, count %u, proof %u): %s", rd_be32(req + 32),
              rd_be32(req + 36), rd_be32(req + 40), rd_be32(req + 44), rc ? strerror(-rc) : "answered");
    if (rc == 0)
        bt_wire_put_hashes(&p->out, req, out, n);
    else
        bt_wire_put_hash_reject(&p->out, req);
    free(out);
    return 0;
}

static int on_message(struct peer *p, const struct bt_msg *m)
{
    struct torrent *t = p->t;
    if (!t->mi)
        return on_message_no_metadata(p, m);
    uint32_t n = t->mi->num_pieces;
    bool first = !p->bitfield_seen;
    switch (m->id) {
    case BT_MSG_KEEPALIVE:
        return 0;
    case BT_MSG_CHOKE:
        p->peer_choking = true;
        /* Without the fast extension a choke silently drops our requests. */
        if (!p->fast)
            drop_all_requests(p);
        return 0;
    case BT_MSG_UNCHOKE:
        p->peer_choking = false;
        torrent_fill_requests(t, p);
        return 0;
    case BT_MSG_INTERESTED:
        p->peer_interested = true;
        torrent_unchoke_check(t);
        return 0;
    case BT_MSG_NOT_INTERESTED:
        p->peer_interested = false;
        return 0;
    case BT_MSG_HAVE:
        if (m->index >= n)
            return -EPROTO;
        p->bitfield_seen = true;
        if (!p->have_all && !bitfield_get(&p->have, m->index)) {
            bitfield_set(&p->have, m->index);
            bt_picker_peer_have(t->picker, m->index);
            torrent_peer_interest(t, p);
        }
        return 0;
    case BT_MSG_BITFIELD:
        if (!first)
            return -EPROTO;
        p->bitfield_seen = true;
        if (bitfield_from_bytes(&p->have, m->payload, m->payload_len) != 0)
            return -EPROTO;
        bt_picker_peer_bitfield(t->picker, &p->have);
        torrent_peer_interest(t, p);
        return 0;
    case BT_MSG_HAVE_ALL:
        if (!p->fast || !first)
            return -EPROTO;
        p->bitfield_seen = true;
        p->have_all = true;
        bt_picker_peer_have_all(t->picker);
        torrent_peer_interest(t, p);
        return 0;
    case BT_MSG_HAVE_NONE:
        if (!p->fast || !first)
            return -EPROTO;
        p->bitfield_seen = true;
        return 0;
    case BT_MSG_REQUEST:
        if (!valid_block(p, m->index, m->begin, m->length))
            return -EPROTO;
        if (p->am_choking || !bitfield_get(&t->have, m->index)) {
            if (p->fast)
                bt_wire_put_reject(&p->out, m->index, m->begin, m->length);
            return 0;
        }
        if (p->up_count == PEER_MAX_UPREQS)
            return -ENOBUFS;
        p->upreqs[(p->up_head + p->up_count) % PEER_MAX_UPREQS] =
            (struct peer_upreq){m->index, m->begin, m->length};
        p->up_count++;
        process_uploads(p);
        return 0;
    case BT_MSG_CANCEL:
        for (int i = 0; i < p->up_count; i++) {
            struct peer_upreq *r = &p->upreqs[(p->up_head + i) % PEER_MAX_UPREQS];
            if (r->piece == m->index && r->begin == m->begin) {
                r->length = 0;  /* skipped when its turn comes */
                break;
            }
        }
        return 0;
    case BT_MSG_PIECE: {
        uint32_t len = (uint32_t)m->payload_len;
        if (!valid_block(p, m->index, m->begin, len))
            return -EPROTO;
        uint64_t now = uv_now(p->s->loop);
        p->last_block_ms = now;
        p->snubbed = false;
        rate_add(&p->down, len, now);
        p->downloaded += len;
        bool asked = peer_forget_request(p, m->index, m->begin);
        if (!asked) {
            t->wasted += len;
            p->s->wasted_session += len;
            return 0;
        }
        torrent_on_block(t, p, m->index, m->begin, m->payload, len);
        /* Refill once per read, not once per block: fewer, larger writes. */
        p->refill = true;
        return 0;
    }
    case BT_MSG_REJECT:
        if (peer_forget_request(p, m->index, m->begin))
            bt_picker_block_cancel(t->picker, m->index, m->begin, p);
        return 0;
    case BT_MSG_EXTENDED:
        return on_message_no_metadata(p, m);
    case BT_MSG_HASH_REQUEST:
        return on_hash_request(p, m->payload);
    default:
        /* allowed_fast, suggest, port and unknown ids: nothing to do yet. */
        return 0;
    }
}

static void process_input(struct peer *p)
{
    if (p->state == PEER_HANDSHAKE) {
        if (buf_size(&p->in) < BT_WIRE_HANDSHAKE_LEN)
            return;
        int rc = on_handshake(p);
        if (rc != 0) {
            peer_close(p, rc == -ELOOP    ? "connected to self"
                          : rc == -EEXIST ? "duplicate"
                          : rc == -EACCES ? "SSL torrent: TLS required for it alone"
                                          : "bad handshake");
            return;
        }
    }
    while (p->state == PEER_ACTIVE) {
        struct bt_msg m;
        size_t used;
        int rc = bt_wire_parse(buf_head(&p->in), buf_size(&p->in), BT_WIRE_DEFAULT_MAX_LEN, &m, &used);
        if (rc == -EAGAIN)
            break;
        if (rc != 0) {
            peer_close(p, "malformed message");
            return;
        }
        rc = on_message(p, &m);
        if (p->state == PEER_CLOSING)
            return;
        if (rc != 0) {
            peer_close(p, "protocol violation");
            return;
        }
        buf_consume(&p->in, used);
    }
    if (p->state == PEER_ACTIVE && p->refill) {
        p->refill = false;
        if (!p->peer_choking)
            torrent_fill_requests(p->t, p);
    }
    if (p->state == PEER_ACTIVE)
        peer_flush(p);
}

/* ---- uploads ---- */

/* Blocks come from the torrent's read cache: one disk read per piece, not
 * one per 16 KiB block. */
static void process_uploads(struct peer *p)
{
    struct torrent *t = p->t;
    while (p->state == PEER_ACTIVE && p->up_count > 0 && buf_size(&p->out) < PEER_UPLOAD_HIGH_WATER) {
        struct peer_upreq q = p->upreqs[p->up_head];
        if (q.length == 0) {   /* cancelled */
            p->up_head = (p->up_head + 1) % PEER_MAX_UPREQS;
            p->up_count--;
            continue;
        }
        const uint8_t *piece = torrent_cached_piece(t, q.piece);
        if (!piece)
            break;   /* loading: on_piece_loaded wakes us */
        if (!limits_take_upload(p, q.length))
            break;   /* the quota timer wakes us */
        p->up_head = (p->up_head + 1) % PEER_MAX_UPREQS;
        p->up_count--;
        uint64_t now = uv_now(p->s->loop);
        bt_wire_put_piece_header(&p->out, q.piece, q.begin, q.length);
        buf_append(&p->out, piece + q.begin, q.length);
        rate_add(&p->up, q.length, now);
        p->uploaded += q.length;
        t->uploaded += q.length;
        t->ul_session += q.length;
        rate_add(&t->ul_rate, q.length, now);
        rate_add(&p->s->ul_rate, q.length, now);
        p->s->ul_session += q.length;
        if (xferhist_addr_is_local((const struct sockaddr *)&p->addr))
            p->s->ul_local_session += q.length;
        t->last_activity = (int64_t)time(NULL);
        t->resume_dirty = true;
    }
    peer_flush(p);
}

void peer_resume_reading(struct peer *p)
{
    if (p->state == PEER_ACTIVE)
        start_reading(p);
}

void peer_resume_uploads(struct peer *p)
{
    process_uploads(p);
}

void peer_tick(struct peer *p, uint64_t now_ms)
{
    if (p->state == PEER_CONNECTING || p->state == PEER_HANDSHAKE) {
        if (now_ms - p->connected_ms > PEER_HANDSHAKE_TIMEOUT_MS)
            peer_close(p, "handshake timeout");
        return;
    }
    if (p->state != PEER_ACTIVE)
        return;
    if (now_ms - p->last_recv_ms > PEER_IDLE_TIMEOUT_MS) {
        peer_close(p, "idle");
        return;
    }
    if (p->num_reqs > 0 && now_ms - p->reqs[0].sent_ms > PEER_REQUEST_TIMEOUT_MS &&
        now_ms - p->last_block_ms > PEER_REQUEST_TIMEOUT_MS) {
        /* Snubbed: let other peers take these blocks. */
        p->snubbed = true;
        drop_all_requests(p);
    }
    if (now_ms - p->last_send_ms > PEER_KEEPALIVE_MS) {
        bt_wire_put_keepalive(&p->out);
        peer_flush(p);
    }
}
