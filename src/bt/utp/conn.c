/* utp conn — one connection's state machine: sending, acking, resending,
 * LEDBAT, receiving in order.  See utp.h for the protocol decisions. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "bt/utp/utp_int.h"

static void event(struct utp_conn *c, enum utp_event ev, int err)
{
    if (!c->app_closed)
        c->m->ops.event(c->m->ud, c, ev, err);
}

static void set_state(struct utp_conn *c, enum utp_state st)
{
    if (c->state == UTP_CS_SYN_RECV && st != UTP_CS_SYN_RECV)
        utp_mux_half_open_done(c);
    c->state = st;
}

static void fail(struct utp_conn *c, int err)
{
    set_state(c, UTP_CS_DEAD);
    c->err = err;
    if (!c->err_reported) {
        c->err_reported = true;
        event(c, UTP_EV_ERROR, err);
    }
}

struct utp_conn *utp_conn_new(struct utp_mux *m, const struct sockaddr *addr, uint64_t now_us)
{
    struct utp_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->m = m;
    memcpy(&c->addr, addr, addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    c->created_us = c->last_recv_us = now_us;
    c->payload = m->cfg.payload;
    c->cwnd = 4 * c->payload;
    c->ssthresh = UINT32_MAX / 2;
    c->slow_start = true;
    c->peer_wnd = c->payload;   /* until the peer says */
    c->rto_us = 1000000;        /* RFC 6298's initial RTO */
    c->base_rot_us = now_us;
    return c;
}

void utp_conn_free(struct utp_conn *c)
{
    for (unsigned i = 0; i < UTP_WIN_SLOTS; i++) {
        free(c->out[i]);
        free(c->in[i]);
    }
    buf_free(&c->sq);
    buf_free(&c->rq);
    free(c);
}

/* ---- sending ---- */

static uint32_t recv_window(const struct utp_conn *c)
{
    size_t used = buf_size(&c->rq) + c->in_bytes;
    return used >= UTP_RECV_BUF ? 0 : (uint32_t)(UTP_RECV_BUF - used);
}

void utp_conn_emit(struct utp_conn *c, uint8_t type, uint16_t seq, const uint8_t *payload, size_t plen,
                   uint64_t now_us)
{
    struct utp_hdr h;
    memset(&h, 0, sizeof h);
    h.type = type;
    h.conn_id = type == UTP_ST_SYN ? c->recv_id : c->send_id;
    h.ts_us = (uint32_t)now_us;
    h.ts_diff_us = c->reply_us;
    h.wnd = recv_window(c);
    h.seq = seq;
    h.ack = c->ack_nr;
    if (c->in_count > 0 && type != UTP_ST_SYN) {
        /* Bit i: packet ack_nr + 2 + i is here. */
        for (unsigned i = 0; i < UTP_SACK_MAX * 8; i++) {
            uint16_t s = (uint16_t)(c->ack_nr + 2 + i);
            if (c->in[UTP_SLOT(s)]) {
                h.sack[i / 8] |= (uint8_t)(1u << (i % 8));
                h.sack_len = (uint8_t)(i / 8 + 1);
            }
        }
    }
    uint8_t hdr[UTP_HEADER_MAX];
    size_t hl = utp_packet_write(hdr, &h);
    c->m->ops.send(c->m->ud, (const struct sockaddr *)&c->addr, hdr, hl, payload, plen);
    c->ack_pending = false;
    c->unacked_bytes = 0;
    c->st.sent_packets++;
}

static void transmit(struct utp_conn *c, uint16_t seq, uint64_t now_us)
{
    struct utp_pkt *p = c->out[UTP_SLOT(seq)];
    if (p->tx > 0)
        c->st.resent_packets++;
    if (p->tx < 255)
        p->tx++;
    p->sent_us = now_us;
    if (p->lost) {
        p->lost = false;
        c->n_lost--;
    }
    c->flight += p->len + UTP_HEADER_LEN;
    if (!c->rto_at_us)
        c->rto_at_us = now_us + c->rto_us;
    utp_conn_emit(c, p->type, seq, p->data, p->len, now_us);
}

static int queue_packet(struct utp_conn *c, uint8_t type, size_t len, uint64_t now_us)
{
    struct utp_pkt *p = malloc(sizeof *p + len);
    if (!p)
        return -ENOMEM;
    p->type = type;
    p->lost = false;
    p->tx = 0;
    p->len = (uint32_t)len;
    if (len) {
        memcpy(p->data, buf_head(&c->sq), len);
        buf_consume(&c->sq, len);
    }
    uint16_t seq = c->seq_nr++;
    c->out[UTP_SLOT(seq)] = p;
    transmit(c, seq, now_us);
    return 0;
}

static uint32_t send_window(const struct utp_conn *c)
{
    return c->cwnd < c->peer_wnd ? c->cwnd : c->peer_wnd;
}

/* Room for one more packet of len payload bytes. */
static bool may_send(const struct utp_conn *c, size_t len)
{
    if ((uint16_t)(c->seq_nr - c->acked) >= UTP_WIN_SLOTS - 1)
        return false;
    /* With nothing in flight one packet always goes: it probes a closed
     * window and keeps a tiny one moving. */
    return c->flight == 0 || c->flight + len + UTP_HEADER_LEN <= send_window(c);
}

bool utp_conn_flush(struct utp_conn *c, uint64_t now_us)
{
    if (c->state == UTP_CS_DEAD || c->state == UTP_CS_SYN_SENT)
        return false;
    /* A burst at most: the rest goes at the next flush, after the driver
     * has read what arrived meanwhile (acks keep flowing both ways). */
    unsigned budget = UTP_FLUSH_BURST;
    /* The answer to a SYN goes before any data: its seq_nr tells the
     * initiator where our data starts, and data it gets first is dropped. */
    if (c->state == UTP_CS_SYN_RECV && c->ack_pending)
        utp_conn_emit(c, UTP_ST_STATE, c->isn, NULL, 0, now_us);
    if (c->n_lost > 0) {
        for (uint16_t s = (uint16_t)(c->acked + 1); s != c->seq_nr && c->n_lost > 0; s++) {
            struct utp_pkt *p = c->out[UTP_SLOT(s)];
            if (!p || !p->lost)
                continue;
            if (!may_send(c, p->len) || budget == 0)
                break;
            transmit(c, s, now_us);
            budget--;
        }
    }
    bool more = false;
    while (c->n_lost == 0 && buf_size(&c->sq) > 0) {
        size_t len = buf_size(&c->sq) < c->payload ? buf_size(&c->sq) : c->payload;
        if (!may_send(c, len))
            break;
        if (budget == 0) {
            more = true;
            break;
        }
        if (queue_packet(c, UTP_ST_DATA, len, now_us) != 0)
            break;
        budget--;
    }
    if (c->app_closed && !c->fin_sent && buf_size(&c->sq) == 0 && may_send(c, 0)) {
        c->fin_sent = true;
        c->fin_seq = c->seq_nr;
        queue_packet(c, UTP_ST_FIN, 0, now_us);
    }
    if (c->ack_pending)
        utp_conn_emit(c, UTP_ST_STATE, c->state == UTP_CS_SYN_RECV ? c->isn : c->seq_nr, NULL, 0, now_us);
    if (c->want_writable && buf_size(&c->sq) < UTP_SEND_BUF / 2) {
        c->want_writable = false;
        event(c, UTP_EV_WRITABLE, 0);
    }
    return more;
}

void utp_conn_start(struct utp_conn *c, uint64_t now_us)
{
    c->state = UTP_CS_SYN_SENT;
    c->seq_nr = (uint16_t)utp_rand(c->m);
    c->acked = c->loss_seq = c->fast_seq = (uint16_t)(c->seq_nr - 1);
    c->syn_tries = 1;
    c->syn_next_us = now_us + UTP_SYN_GAP_US;
    queue_packet(c, UTP_ST_SYN, 0, now_us);
}

void utp_conn_on_syn(struct utp_conn *c, const struct utp_hdr *h, uint64_t now_us)
{
    c->state = UTP_CS_SYN_RECV;
    c->seq_nr = c->isn = (uint16_t)utp_rand(c->m);
    c->acked = c->loss_seq = c->fast_seq = (uint16_t)(c->seq_nr - 1);
    c->ack_nr = h->seq;
    c->peer_wnd = h->wnd;
    c->reply_us = (uint32_t)now_us - h->ts_us;
    c->ack_pending = true;
}

/* ---- congestion control ---- */

static void rtt_sample(struct utp_conn *c, uint64_t rtt)
{
    uint32_t r = rtt > 60000000 ? 60000000 : (uint32_t)rtt;
    if (!c->have_rtt) {
        c->srtt_us = r;
        c->rttvar_us = r / 2;
        c->have_rtt = true;
    } else {
        uint32_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
        c->rttvar_us = (3 * c->rttvar_us + d) / 4;
        c->srtt_us = (7 * c->srtt_us + r) / 8;
    }
    uint64_t rto = (uint64_t)c->srtt_us + 4 * (uint64_t)c->rttvar_us;
    c->rto_us = rto < UTP_MIN_RTO_US ? UTP_MIN_RTO_US : rto > UTP_MAX_RTO_US ? UTP_MAX_RTO_US : (uint32_t)rto;
}

/* A one-way delay sample (the peer's clock minus ours, so only differences
 * mean anything): queueing delay = sample - base. */
static void delay_sample(struct utp_conn *c, uint32_t sample, uint64_t now_us)
{
    if (now_us - c->base_rot_us >= UTP_BASE_PERIOD_US) {
        c->base_rot_us = now_us;
        c->base_idx = (c->base_idx + 1) % UTP_BASE_HIST;
        c->base_set[c->base_idx] = false;
    }
    int i = c->base_idx;
    if (!c->base_set[i] || (int32_t)(sample - c->base_hist[i]) < 0) {
        c->base_hist[i] = sample;
        c->base_set[i] = true;
    }
    uint32_t base = sample;
    for (int k = 0; k < UTP_BASE_HIST; k++)
        if (c->base_set[k] && (int32_t)(c->base_hist[k] - base) < 0)
            base = c->base_hist[k];
    c->our_delay_us = sample - base;   /* >= 0 by construction */
}

static void cc_on_ack(struct utp_conn *c, uint32_t bytes)
{
    int64_t cwnd = c->cwnd;
    if (c->slow_start) {
        if (c->our_delay_us > UTP_TARGET_US / 2 || c->cwnd >= c->ssthresh) {
            c->slow_start = false;
        } else {
            cwnd += bytes;
        }
    }
    if (!c->slow_start) {
        int64_t off = (int64_t)UTP_TARGET_US - c->our_delay_us;
        if (off < -UTP_TARGET_US)
            off = -UTP_TARGET_US;
        /* gain * off_target * bytes_acked / cwnd: at most GAIN per window's worth of acks */
        cwnd += (int64_t)UTP_GAIN_PER_RTT * off / UTP_TARGET_US * (int64_t)bytes / (cwnd > 1 ? cwnd : 1);
    }
    int64_t lo = 2 * (int64_t)c->payload, hi = 4 * (int64_t)UTP_RECV_BUF;
    c->cwnd = (uint32_t)(cwnd < lo ? lo : cwnd > hi ? hi : cwnd);
}

static void cc_on_loss(struct utp_conn *c, uint16_t seq)
{
    if (!utp_seq_after(seq, c->loss_seq))
        return;   /* this window was cut already */
    c->loss_seq = (uint16_t)(c->seq_nr - 1);
    c->slow_start = false;
    c->cwnd = c->cwnd / 2 < 2 * c->payload ? 2 * c->payload : c->cwnd / 2;
    c->ssthresh = c->cwnd;
}

static void mark_lost(struct utp_conn *c, uint16_t seq)
{
    struct utp_pkt *p = c->out[UTP_SLOT(seq)];
    if (!p || p->lost)
        return;
    p->lost = true;
    c->n_lost++;
    c->flight -= p->len + UTP_HEADER_LEN;
}

/* ---- acks ---- */

static uint32_t ack_one(struct utp_conn *c, uint16_t seq, uint64_t now_us)
{
    struct utp_pkt *p = c->out[UTP_SLOT(seq)];
    if (!p)
        return 0;
    if (p->tx == 1)
        rtt_sample(c, now_us - p->sent_us);
    if (p->lost)
        c->n_lost--;
    else
        c->flight -= p->len + UTP_HEADER_LEN;
    if (p->type == UTP_ST_FIN)
        c->fin_acked = true;
    uint32_t n = p->len + UTP_HEADER_LEN;
    free(p);
    c->out[UTP_SLOT(seq)] = NULL;
    return n;
}

static void on_ack(struct utp_conn *c, const struct utp_hdr *h, uint64_t now_us)
{
    uint16_t in_flight = (uint16_t)(c->seq_nr - c->acked - 1);
    uint16_t adv = (uint16_t)(h->ack - c->acked);
    uint32_t bytes = 0;
    bool progress = false;
    if (adv >= 1 && adv <= in_flight) {
        for (uint16_t s = (uint16_t)(c->acked + 1); s != (uint16_t)(h->ack + 1); s++)
            bytes += ack_one(c, s, now_us);
        c->acked = h->ack;
        c->dup_acks = 0;
        c->timeouts = 0;
        progress = true;
    } else if (adv == 0 && in_flight > 0 && h->type == UTP_ST_STATE && h->payload_len == 0 && !h->sack_len) {
        if (++c->dup_acks == UTP_DUP_ACKS && utp_seq_after((uint16_t)(c->acked + 1), c->fast_seq)) {
            c->fast_seq = (uint16_t)(c->acked + 1);
            cc_on_loss(c, c->fast_seq);
            mark_lost(c, c->fast_seq);
        }
    }
    if (h->sack_len && utp_seq_after(c->seq_nr, h->ack)) {
        /* Selectively acked packets go; a packet with UTP_DUP_ACKS acked
         * above it is lost (counted from the top down). */
        int above = 0;
        uint16_t fast = c->fast_seq;
        for (int i = h->sack_len * 8 - 1; i >= -1; i--) {
            uint16_t s = (uint16_t)(h->ack + 2 + i);
            if (!utp_seq_after(s, c->acked) || !utp_seq_after(c->seq_nr, s))
                continue;
            bool sacked = i >= 0 && (h->sack[i / 8] >> (i % 8) & 1);
            if (sacked) {
                if (c->out[UTP_SLOT(s)]) {
                    bytes += ack_one(c, s, now_us);
                    progress = true;
                }
                above++;
            } else if (above >= UTP_DUP_ACKS && c->out[UTP_SLOT(s)] && utp_seq_after(s, fast)) {
                if (utp_seq_after(s, c->fast_seq))
                    c->fast_seq = s;
                cc_on_loss(c, s);
                mark_lost(c, s);
            }
        }
    }
    if (progress)
        c->rto_at_us = c->flight > 0 || c->n_lost > 0 ? now_us + c->rto_us : 0;
    if (h->ts_diff_us != 0 && bytes > 0)
        delay_sample(c, h->ts_diff_us, now_us);
    if (bytes > 0)
        cc_on_ack(c, bytes);
}

/* ---- receiving ---- */

static void deliver(struct utp_conn *c, uint8_t type, const uint8_t *data, size_t len)
{
    if (type == UTP_ST_DATA && len > 0 && !c->app_closed)
        buf_append(&c->rq, data, len);
    c->ack_nr++;
}

static void on_data(struct utp_conn *c, const struct utp_hdr *h)
{
    if (h->type == UTP_ST_FIN && !c->got_fin) {
        c->got_fin = true;
        c->eof_seq = h->seq;
    }
    if (c->got_fin && utp_seq_after(h->seq, c->eof_seq))
        return;
    c->ack_pending = true;
    /* Acks wait for the end of the batch the driver reads, except after
     * UTP_ACK_BYTES: a batch of large packets can be the whole window, and
     * the sender would stall until it is acked. */
    c->unacked_bytes += (uint32_t)h->payload_len + UTP_HEADER_LEN;
    uint16_t d = (uint16_t)(h->seq - c->ack_nr - 1);
    if (d >= 0x8000) {
        c->st.dup_packets++;   /* old: our ack was lost, the pending one repeats it */
        return;
    }
    if (buf_size(&c->rq) + c->in_bytes >= UTP_RECV_BUF)
        return;   /* a probe of our closed window, or a peer ignoring it: resent later */
    if (d == 0) {
        size_t before = buf_size(&c->rq);
        deliver(c, h->type, h->payload, h->payload_len);
        for (;;) {
            struct utp_rx *r = c->in[UTP_SLOT((uint16_t)(c->ack_nr + 1))];
            if (!r)
                break;
            c->in[UTP_SLOT((uint16_t)(c->ack_nr + 1))] = NULL;
            c->in_bytes -= r->len;
            c->in_count--;
            deliver(c, r->type, r->data, r->len);
            free(r);
        }
        if (buf_size(&c->rq) > before)
            event(c, UTP_EV_READABLE, 0);
    } else if (d < UTP_WIN_SLOTS - 1 && !c->in[UTP_SLOT(h->seq)]) {
        struct utp_rx *r = malloc(sizeof *r + h->payload_len);
        if (!r)
            return;
        r->type = h->type;
        r->len = (uint32_t)h->payload_len;
        memcpy(r->data, h->payload, h->payload_len);
        c->in[UTP_SLOT(h->seq)] = r;
        c->in_bytes += r->len;
        c->in_count++;
    } else {
        c->st.dup_packets++;
    }
}

static void check_eof(struct utp_conn *c)
{
    if (c->got_fin && c->ack_nr == c->eof_seq && !c->eof) {
        c->eof = true;
    }
    if (c->eof && !c->eof_reported && buf_size(&c->rq) == 0) {
        c->eof_reported = true;
        event(c, UTP_EV_EOF, 0);
    }
}

void utp_conn_on_packet(struct utp_conn *c, const struct utp_hdr *h, uint64_t now_us)
{
    if (c->state == UTP_CS_DEAD)
        return;
    c->st.recv_packets++;
    c->last_recv_us = now_us;
    if (h->type == UTP_ST_RESET) {
        fail(c, -ECONNRESET);
        return;
    }
    if (h->type == UTP_ST_SYN) {
        c->ack_pending = c->state == UTP_CS_SYN_RECV;   /* our STATE was lost: again */
        return;
    }
    c->reply_us = (uint32_t)now_us - h->ts_us;
    c->peer_wnd = h->wnd;
    if (c->state == UTP_CS_SYN_SENT) {
        if (h->type != UTP_ST_STATE)
            return;
        c->ack_nr = (uint16_t)(h->seq - 1);
        on_ack(c, h, now_us);
        set_state(c, UTP_CS_CONNECTED);
        c->connected_reported = true;
        event(c, UTP_EV_CONNECTED, 0);
        return;
    }
    if (c->state == UTP_CS_SYN_RECV && h->type != UTP_ST_STATE)
        set_state(c, UTP_CS_CONNECTED);
    on_ack(c, h, now_us);
    if (h->type == UTP_ST_DATA || h->type == UTP_ST_FIN)
        on_data(c, h);
    if (c->ack_pending && c->unacked_bytes >= UTP_ACK_BYTES)
        utp_conn_emit(c, UTP_ST_STATE, c->state == UTP_CS_SYN_RECV ? c->isn : c->seq_nr, NULL, 0, now_us);
    check_eof(c);
}

/* ---- time ---- */

void utp_conn_tick(struct utp_conn *c, uint64_t now_us)
{
    if (c->state == UTP_CS_DEAD)
        return;
    if (c->state == UTP_CS_SYN_SENT) {
        if (now_us < c->syn_next_us)
            return;
        if (c->syn_tries >= UTP_SYN_TRIES) {
            fail(c, -ETIMEDOUT);
            return;
        }
        c->syn_tries++;
        c->syn_next_us = now_us + UTP_SYN_GAP_US;
        struct utp_pkt *syn = c->out[UTP_SLOT((uint16_t)(c->acked + 1))];
        if (syn) {
            syn->tx++;   /* no RTT sample from an answer to a repeated SYN (Karn) */
            utp_conn_emit(c, UTP_ST_SYN, (uint16_t)(c->acked + 1), NULL, 0, now_us);
        }
        return;
    }
    if (c->app_closed && !c->linger_until_us)
        c->linger_until_us = now_us + UTP_LINGER_US;
    if (c->app_closed && (c->fin_acked || now_us >= c->linger_until_us)) {
        set_state(c, UTP_CS_DEAD);
        return;
    }
    if (c->state == UTP_CS_SYN_RECV && now_us - c->created_us > 2 * UTP_SYN_GAP_US * UTP_SYN_TRIES) {
        fail(c, -ETIMEDOUT);   /* a SYN and nothing after */
        return;
    }
    if (c->rto_at_us && now_us >= c->rto_at_us) {
        if (++c->timeouts > UTP_MAX_TIMEOUTS) {
            fail(c, -ETIMEDOUT);
            return;
        }
        /* Everything in flight is presumed lost; one packet at a time. */
        for (uint16_t s = (uint16_t)(c->acked + 1); s != c->seq_nr; s++)
            mark_lost(c, s);
        c->cwnd = c->payload + UTP_HEADER_LEN;
        c->slow_start = false;
        c->ssthresh = 2 * c->payload;
        c->loss_seq = (uint16_t)(c->seq_nr - 1);
        c->rto_us = c->rto_us * 2 > UTP_MAX_RTO_US ? UTP_MAX_RTO_US : c->rto_us * 2;
        c->rto_at_us = now_us + c->rto_us;
        (void)utp_conn_flush(c, now_us);
    }
}

void utp_conn_unreachable(struct utp_conn *c)
{
    if (c->state == UTP_CS_SYN_SENT)
        fail(c, -ECONNREFUSED);
}

/* ---- the application's side ---- */

void utp_conn_set_app(struct utp_conn *c, void *app) { c->app = app; }
void *utp_conn_app(const struct utp_conn *c) { return c->app; }
const struct sockaddr *utp_conn_addr(const struct utp_conn *c) { return (const struct sockaddr *)&c->addr; }
size_t utp_conn_readable(const struct utp_conn *c) { return buf_size(&c->rq); }

size_t utp_conn_write(struct utp_conn *c, const void *data, size_t len)
{
    if (c->state == UTP_CS_DEAD || c->app_closed || c->fin_sent)
        return 0;
    size_t room = buf_size(&c->sq) >= UTP_SEND_BUF ? 0 : UTP_SEND_BUF - buf_size(&c->sq);
    size_t n = len < room ? len : room;
    if (n && buf_append(&c->sq, data, n) != 0)
        n = 0;
    if (n < len)
        c->want_writable = true;
    return n;
}

size_t utp_conn_read(struct utp_conn *c, void *out, size_t cap)
{
    size_t n = buf_size(&c->rq) < cap ? buf_size(&c->rq) : cap;
    uint32_t before = recv_window(c);
    memcpy(out, buf_head(&c->rq), n);
    buf_consume(&c->rq, n);
    /* A window that was (nearly) closed is announced as soon as it opens. */
    if (before < 4 * c->payload && recv_window(c) >= 4 * c->payload)
        c->ack_pending = true;
    check_eof(c);
    return n;
}

void utp_conn_close(struct utp_conn *c)
{
    if (c->app_closed)
        return;
    c->app_closed = true;
    c->app = NULL;
    buf_reset(&c->rq);
    if (c->state == UTP_CS_SYN_SENT)
        set_state(c, UTP_CS_DEAD);
}

void utp_conn_stats(const struct utp_conn *c, struct utp_stats *st)
{
    *st = c->st;
    st->rtt_us = c->srtt_us;
    st->rttvar_us = c->rttvar_us;
    st->rto_us = c->rto_us;
    st->cwnd = c->cwnd;
    st->flight = c->flight;
    st->peer_wnd = c->peer_wnd;
    st->our_delay_us = c->our_delay_us;
}

void utp_conn_set_payload(struct utp_conn *c, uint32_t payload)
{
    c->payload = payload < UTP_DEFAULT_PAYLOAD ? UTP_DEFAULT_PAYLOAD
                 : payload > UTP_MAX_PAYLOAD  ? UTP_MAX_PAYLOAD
                                              : payload;
    if (c->cwnd < 2 * c->payload)
        c->cwnd = 2 * c->payload;
}
