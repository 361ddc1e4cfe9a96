/* utp internals shared by mux.c (table, demultiplexing, lifecycle) and
 * conn.c (one connection's state machine).  Not for use outside src/bt/utp. */
#ifndef TD_BT_UTP_UTP_INT_H
#define TD_BT_UTP_UTP_INT_H

#include "bt/utp/packet.h"
#include "bt/utp/utp.h"
#include "util/buf.h"
#include "util/hmap.h"

#define UTP_WIN_SLOTS 2048u          /* packets tracked per direction (power of two) */
#define UTP_SLOT(seq) ((seq) & (UTP_WIN_SLOTS - 1))
#define UTP_KEY_LEN 22               /* family, port, receive id, address (16) */
#define UTP_BASE_HIST 3              /* per-minute minima of the delay */
#define UTP_BASE_PERIOD_US 60000000
#define UTP_SYN_TRIES 3
#define UTP_SYN_GAP_US 1000000
#define UTP_MAX_TIMEOUTS 8
#define UTP_MAX_RTO_US 16000000
#define UTP_GAIN_PER_RTT 3000        /* LEDBAT: window growth per RTT at zero queueing delay */
#define UTP_DUP_ACKS 3
#define UTP_FLUSH_BURST 64           /* packets per connection per flush */
#define UTP_ACK_BYTES (128u * 1024)  /* an ack at once after this much data */

enum utp_state { UTP_CS_SYN_SENT, UTP_CS_SYN_RECV, UTP_CS_CONNECTED, UTP_CS_DEAD };

/* An outgoing packet kept until it is acked. */
struct utp_pkt {
    uint8_t type;
    bool lost;                /* counted out of flight; resend when the window allows */
    uint8_t tx;               /* transmissions */
    uint64_t sent_us;
    uint32_t len;             /* payload bytes */
    uint8_t data[];
};

/* A packet received ahead of a gap. */
struct utp_rx {
    uint8_t type;
    uint32_t len;
    uint8_t data[];
};

struct utp_conn {
    struct utp_mux *m;
    struct utp_conn *next, *prev;
    uint8_t key[UTP_KEY_LEN];
    struct sockaddr_storage addr;
    uint16_t recv_id, send_id;
    enum utp_state state;
    void *app;
    bool app_closed, err_reported, eof_reported, connected_reported, want_writable;
    int err;
    uint64_t created_us, last_recv_us, syn_next_us, linger_until_us;
    int syn_tries;

    /* sending */
    uint16_t seq_nr;          /* the next packet's number */
    uint16_t isn;             /* our first one (the STATE answering a SYN carries it) */
    uint16_t acked;           /* every packet up to it is acked */
    struct utp_pkt *out[UTP_WIN_SLOTS];
    unsigned n_lost;
    uint32_t flight, cwnd, ssthresh, peer_wnd, payload;
    bool slow_start;
    struct buf sq;            /* written, not packetized yet */
    bool fin_sent, fin_acked;
    uint16_t fin_seq;
    uint16_t loss_seq;        /* the window was last cut for a loss up to here */
    uint16_t fast_seq;        /* packets up to here were already fast-resent */
    int dup_acks;
    uint32_t srtt_us, rttvar_us, rto_us;
    bool have_rtt;
    uint64_t rto_at_us;       /* 0 = no timer */
    int timeouts;
    uint32_t base_hist[UTP_BASE_HIST];
    bool base_set[UTP_BASE_HIST];
    int base_idx;
    uint64_t base_rot_us;
    uint32_t our_delay_us;

    /* receiving */
    uint16_t ack_nr;          /* last packet received in order */
    struct utp_rx *in[UTP_WIN_SLOTS];
    uint32_t in_bytes;
    unsigned in_count;
    struct buf rq;            /* in order, not read yet */
    uint32_t reply_us;        /* our timestamp_difference for the peer */
    bool ack_pending;
    uint32_t unacked_bytes;   /* received since our last packet (which carried an ack) */
    bool got_fin;
    uint16_t eof_seq;
    bool eof;

    struct utp_stats st;
};

struct utp_mux {
    struct utp_ops ops;
    void *ud;
    struct utp_config cfg;
    struct hmap map;          /* key -> conn */
    struct utp_conn *conns;   /* all, for ticks and flushes */
    size_t n_conns;
    unsigned n_half_open;
    uint64_t rng;
};

uint32_t utp_rand(struct utp_mux *m);
/* seq a is after seq b in 16-bit serial arithmetic. */
static inline bool utp_seq_after(uint16_t a, uint16_t b) { return (int16_t)(uint16_t)(a - b) > 0; }

/* conn.c */
struct utp_conn *utp_conn_new(struct utp_mux *m, const struct sockaddr *addr, uint64_t now_us);
void utp_conn_free(struct utp_conn *c);
void utp_conn_start(struct utp_conn *c, uint64_t now_us);                           /* sends the SYN */
void utp_conn_on_syn(struct utp_conn *c, const struct utp_hdr *h, uint64_t now_us); /* answers it */
void utp_conn_on_packet(struct utp_conn *c, const struct utp_hdr *h, uint64_t now_us);
/* true: the window allows more than the burst sent */
bool utp_conn_flush(struct utp_conn *c, uint64_t now_us);
void utp_conn_tick(struct utp_conn *c, uint64_t now_us);
/* An unreachable destination: a SYN_SENT connection fails. */
void utp_conn_unreachable(struct utp_conn *c);
/* Fills a packet header with this connection's current state. */
void utp_conn_emit(struct utp_conn *c, uint8_t type, uint16_t seq, const uint8_t *payload, size_t plen,
                   uint64_t now_us);
/* The mux: the connection left the half-open state. */
void utp_mux_half_open_done(struct utp_conn *c);

#endif
