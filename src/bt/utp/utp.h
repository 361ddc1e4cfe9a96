/* utp — uTP (BEP29): reliable, delay-based congestion-controlled byte
 * streams over one UDP socket, many connections per socket.
 *
 * Pure protocol core: no sockets, no clock, no loop.  The owner of the UDP
 * socket (core/utpsock.c) feeds datagrams in (utp_mux_recv), runs
 * utp_mux_flush() after each batch of input (deferred acks and queued data
 * go out there, so many small writes and many received packets cost one
 * ack and few packets) and utp_mux_tick() every few tens of milliseconds
 * (timeouts), passing the time in microseconds.  Datagrams leave through
 * ops->send.  Unit tests wire two muxes back to back through a lossy,
 * reordering "network" of their own.
 *
 * Connection (utp_conn) = one stream:
 *   - ids: the initiator picks recv_id r and sends with r + 1; its SYN
 *     carries r; the other side receives on r + 1 and sends with r.  The mux
 *     finds a connection by (address, receive id) in a hash map: O(1).
 *   - seq/ack: one number per packet (not per byte); SYN and FIN take one.
 *     The answer to a SYN is a STATE whose seq_nr is the responder's first
 *     DATA number (libutp and libtorrent do the same).
 *   - reliability: cumulative ack_nr plus selective ACK (extension 1) of
 *     the next 256 packets; a packet with 3 packets acked above it, or 3
 *     duplicate acks, is resent at once (fast retransmit); otherwise after
 *     the RTO, RFC 6298: srtt + 4 rttvar from samples of packets sent once
 *     (Karn), at least 500 ms (BEP29), doubled per timeout, 8 timeouts in a
 *     row end the connection.
 *   - congestion: LEDBAT with a 100 ms target.  One-way delay samples come
 *     back in the peer's timestamp_difference; the base delay is the minimum
 *     over the last two to three minutes (per-minute minima, so a drifting
 *     clock is forgotten within minutes, and a sample below the base resets
 *     it at once); the window grows by up to 3000 bytes per RTT when the
 *     queueing delay is under the target and shrinks above it, slow start
 *     until the first loss or the delay reaches the target, halved on loss
 *     (once per window), one packet after a timeout.
 *   - flow: never more in flight than the peer's advertised wnd_size; our
 *     wnd_size is what our receive buffer (UTP_RECV_BUF) has free, so an
 *     application that stops reading stops the sender.
 *   - close: utp_conn_close() sends a FIN after the queued data and lets the
 *     connection linger until the FIN is acked (at most UTP_LINGER_US); a
 *     RESET ends it at once; a packet for no connection is answered with a
 *     RESET.
 *   - half-open: at most cfg.max_half_open connections that got a SYN but
 *     no data yet; further SYNs are dropped (the peer retries).
 *
 * Events (ops->event) come only while the application holds the
 * connection, i.e. until utp_conn_close(); the mux frees it after that, on
 * a later tick.  Calling utp_conn_* from inside an event is allowed.
 * Loop thread only.
 */
#ifndef TD_BT_UTP_UTP_H
#define TD_BT_UTP_UTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct utp_mux;
struct utp_conn;

enum utp_event {
    UTP_EV_CONNECTED,   /* our SYN was answered */
    UTP_EV_READABLE,    /* utp_conn_read has bytes */
    UTP_EV_WRITABLE,    /* the send buffer has room again after a short write */
    UTP_EV_EOF,         /* the peer's FIN: all its data has been read */
    UTP_EV_ERROR,       /* err: -ECONNRESET, -ETIMEDOUT, -ECONNREFUSED (no more events) */
};

struct utp_ops {
    /* One datagram to `to`: hdr then payload (either may be empty). */
    void (*send)(void *ud, const struct sockaddr *to, const uint8_t *hdr, size_t hlen, const uint8_t *payload,
                 size_t plen);
    /* A SYN made connection c: 0 keeps it (the app owns it now, see
     * utp_conn_set_app), anything else refuses it with a RESET. */
    int (*accept)(void *ud, struct utp_conn *c);
    void (*event)(void *ud, struct utp_conn *c, enum utp_event ev, int err);
};

struct utp_config {
    uint32_t payload;        /* bytes of data per packet; 0 = UTP_DEFAULT_PAYLOAD */
    unsigned max_conns;      /* 0 = 4096 */
    unsigned max_half_open;  /* 0 = 64 */
    uint64_t seed;           /* connection ids and initial sequence numbers */
};

/* 1500-byte Ethernet MTU less IPv6 (40), UDP (8), our header with a full
 * SACK (54): safe on every common path and through tunnels. */
#define UTP_DEFAULT_PAYLOAD 1380
#define UTP_MAX_PAYLOAD 65000
#define UTP_RECV_BUF (2u << 20)
#define UTP_SEND_BUF (1u << 20)
#define UTP_TARGET_US 100000
#define UTP_MIN_RTO_US 500000
#define UTP_LINGER_US 10000000

struct utp_stats {
    uint32_t rtt_us, rttvar_us, rto_us;
    uint32_t cwnd, flight, peer_wnd, our_delay_us;
    uint64_t sent_packets, resent_packets, recv_packets, dup_packets;
};

int utp_mux_new(const struct utp_ops *ops, void *ud, const struct utp_config *cfg, struct utp_mux **out);
/* Frees every connection, without events or packets. */
void utp_mux_free(struct utp_mux *m);

/* One datagram from `from`.  -EPROTO: not uTP (or malformed). */
int utp_mux_recv(struct utp_mux *m, const uint8_t *p, size_t n, const struct sockaddr *from, uint64_t now_us);
/* Sends what is due: pending acks, queued data the windows allow, resends;
 * at most a burst per connection (64 packets): true when a connection has
 * more that its windows allow, so the caller flushes again soon (after
 * reading its socket: acks keep flowing). */
bool utp_mux_flush(struct utp_mux *m, uint64_t now_us);
/* Timeouts, SYN retries, lingering closes; frees connections let go of. */
void utp_mux_tick(struct utp_mux *m, uint64_t now_us);
/* The network says `to` is unreachable (an ICMP port or host unreachable
 * for a datagram we sent there): connections still waiting for the answer
 * to their SYN fail with -ECONNREFUSED at once (the caller falls back to
 * TCP without waiting for three SYNs); established ones ignore it (ICMP is
 * easily forged and often transient).  O(connections). */
void utp_mux_unreachable(struct utp_mux *m, const struct sockaddr *to);
/* Connections held (including lingering ones). */
size_t utp_mux_count(const struct utp_mux *m);

/* Starts a connection: the SYN leaves at once; UTP_EV_CONNECTED or
 * UTP_EV_ERROR (-ETIMEDOUT after 3 SYNs a second apart) follows.  app is
 * the event's owner.  -ENOMEM, -EMFILE (max_conns), -EAFNOSUPPORT. */
int utp_mux_connect(struct utp_mux *m, const struct sockaddr *to, void *app, uint64_t now_us, struct utp_conn **out);

void utp_conn_set_app(struct utp_conn *c, void *app);
void *utp_conn_app(const struct utp_conn *c);
const struct sockaddr *utp_conn_addr(const struct utp_conn *c);
/* Queues up to len bytes (as much as the send buffer takes); they leave
 * at the next flush.  Returns the bytes taken; 0 with room later means a
 * UTP_EV_WRITABLE follows. */
size_t utp_conn_write(struct utp_conn *c, const void *data, size_t len);
/* Bytes received in order and not read yet; reading them opens the window. */
size_t utp_conn_readable(const struct utp_conn *c);
size_t utp_conn_read(struct utp_conn *c, void *out, size_t cap);
/* The application lets go: a FIN follows the queued data; no more events. */
void utp_conn_close(struct utp_conn *c);
void utp_conn_stats(const struct utp_conn *c, struct utp_stats *st);
/* Data bytes per packet from now on (packets already made keep theirs:
 * sequence numbers count packets), within [UTP_DEFAULT_PAYLOAD,
 * UTP_MAX_PAYLOAD].  For paths known to carry large datagrams whole. */
void utp_conn_set_payload(struct utp_conn *c, uint32_t payload);

#endif
