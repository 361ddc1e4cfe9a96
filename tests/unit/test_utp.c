/* uTP protocol core: packets, and two muxes back to back over a simulated
 * network that loses, delays and reorders datagrams; the byte streams must
 * arrive whole and in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "bt/utp/packet.h"
#include "bt/utp/utp.h"
#include "util/buf.h"

/* ---- packets ---- */

static void packet_roundtrip(void **state)
{
    (void)state;
    struct utp_hdr h = {.type = UTP_ST_DATA, .conn_id = 0xbeef, .ts_us = 1, .ts_diff_us = 2, .wnd = 3,
                        .seq = 4, .ack = 5, .sack_len = 3, .sack = {0x81, 0, 0x10}};
    uint8_t out[UTP_HEADER_MAX + 4];
    size_t n = utp_packet_write(out, &h);
    assert_int_equal(n, 20 + 2 + 4);   /* SACK rounded up to 4 bytes */
    memcpy(out + n, "abcd", 4);
    struct utp_hdr p;
    assert_int_equal(utp_packet_parse(out, n + 4, &p), 0);
    assert_int_equal(p.type, UTP_ST_DATA);
    assert_int_equal(p.conn_id, 0xbeef);
    assert_int_equal(p.ts_us, 1);
    assert_int_equal(p.ts_diff_us, 2);
    assert_int_equal(p.wnd, 3);
    assert_int_equal(p.seq, 4);
    assert_int_equal(p.ack, 5);
    assert_int_equal(p.sack_len, 4);
    assert_int_equal(p.sack[0], 0x81);
    assert_int_equal(p.sack[2], 0x10);
    assert_int_equal(p.payload_len, 4);
    assert_memory_equal(p.payload, "abcd", 4);
    assert_true(utp_packet_is_utp(out, n));
}

static void packet_bounds(void **state)
{
    (void)state;
    uint8_t b[64] = {0x41, 0};
    struct utp_hdr h;
    assert_int_equal(utp_packet_parse(b, 19, &h), -EPROTO);   /* short */
    assert_int_equal(utp_packet_parse(b, 20, &h), 0);
    b[0] = 0x42;
    assert_int_equal(utp_packet_parse(b, 20, &h), -EPROTO);   /* version 2 */
    b[0] = 0x51;
    assert_int_equal(utp_packet_parse(b, 20, &h), -EPROTO);   /* type 5 */
    b[0] = 0x01;
    b[1] = 1;                                                  /* an extension with no room */
    assert_int_equal(utp_packet_parse(b, 21, &h), -EPROTO);
    b[20] = 0;
    b[21] = 40;                                                /* longer than what is left */
    assert_int_equal(utp_packet_parse(b, 30, &h), -EPROTO);
    b[21] = 40;                                                /* longer than kept: truncated */
    assert_int_equal(utp_packet_parse(b, 62, &h), 0);
    assert_int_equal(h.sack_len, UTP_SACK_MAX);
    assert_int_equal(h.payload_len, 0);
    b[1] = 77;                                                 /* unknown extension: skipped */
    b[20] = 0;
    b[21] = 2;
    assert_int_equal(utp_packet_parse(b, 26, &h), 0);
    assert_int_equal(h.sack_len, 0);
    assert_int_equal(h.payload_len, 2);
    /* KRPC never looks like uTP. */
    assert_false(utp_packet_is_utp((const uint8_t *)"d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q4:ping1:t2:aa1:y1:qe", 56));
}

/* ---- a simulated network ---- */

#define MAXQ 100000

struct dgram {
    uint64_t at;
    int to;
    size_t len;
    uint8_t data[UTP_HEADER_MAX + UTP_MAX_PAYLOAD];
};

struct side;

struct net {
    struct dgram *q[MAXQ];
    size_t n;
    unsigned loss_pm;        /* per mille */
    uint64_t delay_us, jitter_us;
    uint64_t rng;
    uint64_t t;
    struct side *sides[2];
    uint64_t sent, dropped;
    bool partition;
};

struct side {
    struct net *net;
    int idx;
    struct sockaddr_in addr;
    struct utp_mux *m;
    struct utp_conn *c;
    struct buf got;
    const uint8_t *src;
    size_t srclen, sent;
    bool connected, eof, reading, close_when_sent;
    int err, accepts;
    int64_t clock_off;
    unsigned drift_ppm;
    bool refuse;
};

static uint32_t nrand(struct net *n)
{
    n->rng ^= n->rng << 13;
    n->rng ^= n->rng >> 7;
    n->rng ^= n->rng << 17;
    return (uint32_t)n->rng;
}

static uint64_t side_now(const struct side *s)
{
    return (uint64_t)((int64_t)(s->net->t + s->net->t / 1000000 * s->drift_ppm) + s->clock_off);
}

static void op_send(void *ud, const struct sockaddr *to, const uint8_t *hdr, size_t hl, const uint8_t *pl, size_t pll)
{
    struct side *s = ud;
    struct net *n = s->net;
    (void)to;
    n->sent++;
    if (n->partition || nrand(n) % 1000 < n->loss_pm || n->n == MAXQ) {
        n->dropped++;
        return;
    }
    struct dgram *d = malloc(sizeof *d);
    assert_non_null(d);
    d->at = n->t + n->delay_us + (n->jitter_us ? nrand(n) % n->jitter_us : 0);
    d->to = 1 - s->idx;
    memcpy(d->data, hdr, hl);
    if (pll)
        memcpy(d->data + hl, pl, pll);
    d->len = hl + pll;
    n->q[n->n++] = d;
}

static void pump_writes(struct side *s)
{
    while (s->c && s->sent < s->srclen) {
        size_t k = utp_conn_write(s->c, s->src + s->sent, s->srclen - s->sent);
        if (k == 0)
            break;
        s->sent += k;
    }
    if (s->c && s->close_when_sent && s->sent == s->srclen) {
        utp_conn_close(s->c);
        s->c = NULL;
    }
}

static void drain(struct side *s)
{
    uint8_t tmp[70000];
    while (s->c && s->reading && utp_conn_readable(s->c) > 0) {
        size_t k = utp_conn_read(s->c, tmp, sizeof tmp);
        buf_append(&s->got, tmp, k);
    }
}

static void op_event(void *ud, struct utp_conn *c, enum utp_event ev, int err)
{
    struct side *s = ud;
    assert_ptr_equal(c, s->c);
    switch (ev) {
    case UTP_EV_CONNECTED:
        s->connected = true;
        pump_writes(s);
        break;
    case UTP_EV_READABLE:
        drain(s);
        break;
    case UTP_EV_WRITABLE:
        pump_writes(s);
        break;
    case UTP_EV_EOF:
        s->eof = true;
        break;
    case UTP_EV_ERROR:
        s->err = err;
        break;
    }
}

static int op_accept(void *ud, struct utp_conn *c)
{
    struct side *s = ud;
    s->accepts++;
    if (s->refuse || s->c)
        return -1;
    s->c = c;
    s->connected = true;
    pump_writes(s);
    return 0;
}

static const struct utp_ops ops = {op_send, op_accept, op_event};

static void side_init(struct net *n, struct side *s, int idx, uint32_t payload)
{
    memset(s, 0, sizeof *s);
    s->net = n;
    s->idx = idx;
    s->reading = true;
    s->addr.sin_family = AF_INET;
    s->addr.sin_port = htons((uint16_t)(6881 + idx));
    s->addr.sin_addr.s_addr = htonl(0x7f000001 + (uint32_t)idx);
    struct utp_config cfg = {.payload = payload, .seed = 1234 + (uint64_t)idx};
    assert_int_equal(utp_mux_new(&ops, s, &cfg, &s->m), 0);
    n->sides[idx] = s;
}

static void side_free(struct side *s)
{
    utp_mux_free(s->m);
    buf_free(&s->got);
}

static void net_free(struct net *n)
{
    for (size_t i = 0; i < n->n; i++)
        free(n->q[i]);
    n->n = 0;
}

/* Runs the network until done() or the time limit; true when done. */
static bool run(struct net *n, bool (*done)(struct net *), uint64_t limit_us)
{
    uint64_t next_tick = n->t;
    uint64_t end = n->t + limit_us;
    while (n->t < end) {
        if (done(n))
            return true;
        /* Everything due, earliest first. */
        for (;;) {
            size_t best = SIZE_MAX;
            for (size_t i = 0; i < n->n; i++)
                if (n->q[i]->at <= n->t && (best == SIZE_MAX || n->q[i]->at < n->q[best]->at))
                    best = i;
            if (best == SIZE_MAX)
                break;
            struct dgram *d = n->q[best];
            n->q[best] = n->q[--n->n];
            struct side *to = n->sides[d->to], *from = n->sides[1 - d->to];
            utp_mux_recv(to->m, d->data, d->len, (const struct sockaddr *)&from->addr, side_now(to));
            free(d);
        }
        for (int k = 0; k < 2; k++) {
            pump_writes(n->sides[k]);
            drain(n->sides[k]);
            utp_mux_flush(n->sides[k]->m, side_now(n->sides[k]));
        }
        if (n->t >= next_tick) {
            for (int k = 0; k < 2; k++)
                utp_mux_tick(n->sides[k]->m, side_now(n->sides[k]));
            next_tick = n->t + 10000;
        }
        uint64_t next = next_tick;
        for (size_t i = 0; i < n->n; i++)
            if (n->q[i]->at < next)
                next = n->q[i]->at;
        n->t = next > n->t ? next : n->t + 1;
    }
    return done(n);
}

static uint8_t *pattern(size_t len, unsigned seed)
{
    uint8_t *p = malloc(len);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
    return p;
}

static bool both_done(struct net *n)
{
    return buf_size(&n->sides[0]->got) == n->sides[1]->srclen && buf_size(&n->sides[1]->got) == n->sides[0]->srclen;
}

static bool b_eof(struct net *n) { return n->sides[1]->eof; }

static bool b_has_all(struct net *n)
{
    return buf_size(&n->sides[1]->got) == n->sides[0]->srclen;
}

/* Two streams at once; then A closes and B sees EOF after every byte, and
 * both connections go.  Returns the simulated seconds the streams took. */
static double transfer(unsigned loss_pm, uint64_t delay_us, uint64_t jitter_us, size_t len, uint32_t payload,
                       int64_t clock_off_b, unsigned drift_b)
{
    struct net n = {.loss_pm = loss_pm, .delay_us = delay_us, .jitter_us = jitter_us, .rng = 88172645463325252ull,
                    .t = 1000000};
    struct side a, b;
    side_init(&n, &a, 0, payload);
    side_init(&n, &b, 1, payload);
    b.clock_off = clock_off_b;
    b.drift_ppm = drift_b;
    uint8_t *pa = pattern(len, 1), *pb = pattern(len / 3 + 7, 2);
    a.src = pa;
    a.srclen = len;
    b.src = pb;
    b.srclen = len / 3 + 7;
    uint64_t t0 = n.t;
    assert_int_equal(utp_mux_connect(a.m, (const struct sockaddr *)&b.addr, &a, side_now(&a), &a.c), 0);
    bool ok = run(&n, both_done, 600ull * 1000000);
    if (!ok)
        print_message("stuck: a got %zu/%zu eof %d err %d sent %zu; b got %zu/%zu eof %d err %d sent %zu; pkts %llu\n",
                      buf_size(&a.got), b.srclen, a.eof, a.err, a.sent, buf_size(&b.got), a.srclen, b.eof, b.err,
                      b.sent, (unsigned long long)n.sent);
    assert_true(ok);
    double secs = (double)(n.t - t0) / 1e6;
    assert_int_equal(a.err, 0);
    assert_int_equal(b.err, 0);
    assert_int_equal(buf_size(&b.got), len);
    assert_memory_equal(buf_head(&b.got), pa, len);
    assert_int_equal(buf_size(&a.got), len / 3 + 7);
    assert_memory_equal(buf_head(&a.got), pb, len / 3 + 7);
    utp_conn_close(a.c);
    a.c = NULL;
    assert_true(run(&n, b_eof, 60ull * 1000000));
    utp_conn_close(b.c);
    b.c = NULL;
    /* The FINs are acked and the lingering connections go. */
    uint64_t end = n.t + 30000000ull;
    while (n.t < end && (utp_mux_count(a.m) || utp_mux_count(b.m))) {
        run(&n, both_done, 10000);
        n.t += 10000;
        utp_mux_tick(a.m, side_now(&a));
        utp_mux_tick(b.m, side_now(&b));
    }
    assert_int_equal(utp_mux_count(a.m), 0);
    assert_int_equal(utp_mux_count(b.m), 0);
    net_free(&n);
    side_free(&a);
    side_free(&b);
    free(pa);
    free(pb);
    return secs;
}

static void clean_link(void **state)
{
    (void)state;
    double s = transfer(0, 1000, 0, 4u << 20, 0, 0, 0);
    print_message("clean 1 ms link: 4 MiB in %.2f s simulated\n", s);
}

static void lossy_reordering_link(void **state)
{
    (void)state;
    /* 1 % loss, 20 ms delay, up to 5 ms jitter: datagrams overtake each other. */
    double s = transfer(10, 20000, 5000, 2u << 20, 0, 0, 0);
    print_message("1%% loss, 20 ms, reordering: 2 MiB in %.2f s simulated\n", s);
}

static void heavy_loss(void **state)
{
    (void)state;
    transfer(100, 5000, 10000, 300000, 500, 0, 0);   /* 10 % loss, small packets, heavy reordering */
}

static void clock_offset_and_drift(void **state)
{
    (void)state;
    /* B's clock is far ahead (wraps the 32-bit timestamps) and runs 200 ppm fast. */
    transfer(5, 10000, 2000, 1u << 20, 0, 4000000000ll, 200);
}

static void big_packets(void **state)
{
    (void)state;
    transfer(0, 100, 0, 8u << 20, 16000, 0, 0);
}

/* A reader that stops reading stops the sender: the window closes, nothing
 * is lost, and reading again resumes the stream. */
static void receiver_window(void **state)
{
    (void)state;
    struct net n = {.delay_us = 2000, .rng = 7, .t = 1000000};
    struct side a, b;
    side_init(&n, &a, 0, 0);
    side_init(&n, &b, 1, 0);
    size_t len = 3 * UTP_RECV_BUF;
    uint8_t *pa = pattern(len, 3);
    a.src = pa;
    a.srclen = len;
    b.reading = false;
    assert_int_equal(utp_mux_connect(a.m, (const struct sockaddr *)&b.addr, &a, side_now(&a), &a.c), 0);
    assert_false(run(&n, b_has_all, 5000000));
    /* Held back: at most the receive buffer (and a packet or so) waits in B. */
    assert_non_null(b.c);
    assert_true(utp_conn_readable(b.c) <= UTP_RECV_BUF + UTP_DEFAULT_PAYLOAD);
    assert_true(utp_conn_readable(b.c) >= UTP_RECV_BUF / 2);
    assert_int_equal(a.err, 0);
    b.reading = true;
    assert_true(run(&n, b_has_all, 60000000));
    assert_memory_equal(buf_head(&b.got), pa, len);
    net_free(&n);
    side_free(&a);
    side_free(&b);
    free(pa);
}

static bool a_failed(struct net *n) { return n->sides[0]->err != 0; }

/* Nobody answers: three SYNs, then -ETIMEDOUT (the driver falls back to TCP). */
static void connect_timeout(void **state)
{
    (void)state;
    struct net n = {.delay_us = 1000, .rng = 9, .t = 1000000, .partition = true};
    struct side a, b;
    side_init(&n, &a, 0, 0);
    side_init(&n, &b, 1, 0);
    assert_int_equal(utp_mux_connect(a.m, (const struct sockaddr *)&b.addr, &a, side_now(&a), &a.c), 0);
    uint64_t t0 = n.t;
    assert_true(run(&n, a_failed, 10000000));
    assert_int_equal(a.err, -ETIMEDOUT);
    assert_true(n.t - t0 >= 2900000 && n.t - t0 <= 3200000);
    assert_int_equal(n.sent, 3);
    utp_conn_close(a.c);
    utp_mux_tick(a.m, side_now(&a));
    assert_int_equal(utp_mux_count(a.m), 0);
    side_free(&a);
    side_free(&b);
}

/* An ICMP unreachable for the peer's address fails a connection waiting
 * for its SYN's answer at once; another port's does not. */
static void unreachable_fails_syn(void **state)
{
    (void)state;
    struct net n = {.delay_us = 1000, .rng = 9, .t = 1000000, .partition = true};
    struct side a, b;
    side_init(&n, &a, 0, 0);
    side_init(&n, &b, 1, 0);
    assert_int_equal(utp_mux_connect(a.m, (const struct sockaddr *)&b.addr, &a, side_now(&a), &a.c), 0);
    struct sockaddr_in other = b.addr;
    other.sin_port = htons(1);
    utp_mux_unreachable(a.m, (const struct sockaddr *)&other);
    assert_int_equal(a.err, 0);
    utp_mux_unreachable(a.m, (const struct sockaddr *)&b.addr);
    assert_int_equal(a.err, -ECONNREFUSED);
    utp_conn_close(a.c);
    utp_mux_tick(a.m, side_now(&a));
    assert_int_equal(utp_mux_count(a.m), 0);
    side_free(&a);
    side_free(&b);
}

/* A refused SYN is answered with a RESET: the initiator learns at once. */
static void refused_gets_reset(void **state)
{
    (void)state;
    struct net n = {.delay_us = 1000, .rng = 9, .t = 1000000};
    struct side a, b;
    side_init(&n, &a, 0, 0);
    side_init(&n, &b, 1, 0);
    b.refuse = true;
    assert_int_equal(utp_mux_connect(a.m, (const struct sockaddr *)&b.addr, &a, side_now(&a), &a.c), 0);
    uint64_t t0 = n.t;
    assert_true(run(&n, a_failed, 10000000));
    assert_int_equal(a.err, -ECONNRESET);
    assert_true(n.t - t0 < 100000);
    assert_int_equal(utp_mux_count(b.m), 0);
    utp_conn_close(a.c);
    net_free(&n);
    side_free(&a);
    side_free(&b);
}

static void noop_send(void *ud, const struct sockaddr *to, const uint8_t *h, size_t hl, const uint8_t *p, size_t pl)
{
    (void)to, (void)h, (void)hl, (void)p, (void)pl;
    (*(int *)ud)++;
}
static int keep_accept(void *ud, struct utp_conn *c) { (void)ud, (void)c; return 0; }
static void noop_event(void *ud, struct utp_conn *c, enum utp_event ev, int err) { (void)ud, (void)c, (void)ev, (void)err; }

/* SYNs from many ports: at most max_half_open connections wait; a
 * repeated SYN finds its connection; a packet for nobody gets a RESET. */
static void half_open_bound(void **state)
{
    (void)state;
    int sent = 0;
    struct utp_ops o = {noop_send, keep_accept, noop_event};
    struct utp_mux *m;
    struct utp_config cfg = {.max_half_open = 8};
    assert_int_equal(utp_mux_new(&o, &sent, &cfg, &m), 0);
    uint8_t pkt[UTP_HEADER_MAX];
    struct utp_hdr h = {.type = UTP_ST_SYN, .conn_id = 100, .seq = 1, .wnd = 100000};
    size_t hl = utp_packet_write(pkt, &h);
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000002)};
    for (int i = 0; i < 20; i++) {
        from.sin_port = htons((uint16_t)(1000 + i));
        assert_int_equal(utp_mux_recv(m, pkt, hl, (struct sockaddr *)&from, 1000), 0);
    }
    assert_int_equal(utp_mux_count(m), 8);
    assert_int_equal(sent, 8);   /* one STATE each; the rest were dropped */
    from.sin_port = htons(1000);
    utp_mux_recv(m, pkt, hl, (struct sockaddr *)&from, 2000);
    utp_mux_flush(m, 2000);
    assert_int_equal(utp_mux_count(m), 8);
    assert_int_equal(sent, 9);   /* the repeated SYN got its STATE again */
    h.type = UTP_ST_DATA;
    h.conn_id = 555;
    hl = utp_packet_write(pkt, &h);
    utp_mux_recv(m, pkt, hl, (struct sockaddr *)&from, 3000);
    assert_int_equal(sent, 10);  /* RESET */
    assert_int_equal(utp_mux_recv(m, (const uint8_t *)"d1:q4:pinge", 11, (struct sockaddr *)&from, 3000), -EPROTO);
    utp_mux_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(packet_roundtrip),
        cmocka_unit_test(packet_bounds),
        cmocka_unit_test(clean_link),
        cmocka_unit_test(lossy_reordering_link),
        cmocka_unit_test(heavy_loss),
        cmocka_unit_test(clock_offset_and_drift),
        cmocka_unit_test(big_packets),
        cmocka_unit_test(receiver_window),
        cmocka_unit_test(connect_timeout),
        cmocka_unit_test(refused_gets_reset),
        cmocka_unit_test(unreachable_fails_syn),
        cmocka_unit_test(half_open_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
