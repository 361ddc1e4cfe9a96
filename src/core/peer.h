/* peer — one BitTorrent connection: TCP I/O, handshake, message dispatch,
 * request pipelining and serving blocks.
 *
 * Decisions that need the whole torrent (what to request, whom to unchoke,
 * what to do with a finished piece) are made in core/torrent.c; the peer
 * keeps only the per-connection state and calls back into the torrent.
 * A peer is freed only after its handle has closed and no disk read that
 * targets it is in flight (refs).
 */
#ifndef TD_CORE_PEER_H
#define TD_CORE_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/limits.h"
#include "util/bitfield.h"
#include "util/buf.h"
#include "util/rate.h"

struct session;
struct torrent;
struct bt_pex_state;
struct bt_ext_handshake;
struct sslpeer;
struct peerproxy;
struct mseconn;
struct utpsock_stream;

enum peer_state { PEER_CONNECTING, PEER_HANDSHAKE, PEER_ACTIVE, PEER_CLOSING };

/* One block we asked for. */
struct peer_req {
    uint32_t piece, begin, length;
    uint64_t sent_ms;
};

/* One block the peer asked us for. */
struct peer_upreq {
    uint32_t piece, begin, length;
};

#define PEER_MAX_UPREQS 512

struct peer {
    uv_tcp_t tcp;                   /* the handle (its lifetime is the peer's), unopened under uTP */
    struct utpsock_stream *utp;     /* core/utpsock.c: the uTP stream this peer runs over, else NULL */
    bool over_utp;                  /* uTP, for the peer lists (stays set after the close) */
    bool tcp_fallback;              /* outgoing uTP that may retry over TCP (bittorrent_protocol 0) */
    uv_connect_t connect_req;
    uv_write_t write_req;
    struct session *s;
    struct torrent *t;              /* NULL while an incoming handshake is pending */
    struct peer *next, *prev;
    enum peer_state state;
    int refs;                       /* 1 for the handle + 1 per disk read in flight */
    bool incoming;
    uint8_t source;                 /* PEER_SRC_* */

    struct sockaddr_storage addr;
    char ip[64];                    /* text form, no brackets */
    uint16_t port;

    struct buf in, out;             /* plaintext (BitTorrent messages) */
    struct sslpeer *tls;            /* core/sslpeer.c: TLS under an SSL torrent's connection, else NULL */
    struct peerproxy *proxy;        /* core/peerproxy.c: dialled through the proxy, else NULL */
    struct mseconn *mse;            /* core/mseconn.c: MSE under the connection, else NULL */
    uint8_t crypto;                 /* PEER_CRYPTO_* (core/mseconn.h): E or e in peer lists */
    uint8_t *wdata;                 /* bytes handed to uv_write */
    bool writing;

    uint8_t peer_id[20];
    uint8_t hs_hash[20];            /* the info-hash this connection uses (a hybrid has two) */
    char client[64];
    bool fast, ext;
    struct bt_ext_handshake *rext;  /* their extension handshake (BEP10); allocated with the peer,
                                       behind a pointer so core/peer.h needs no bt/ header */

    bool am_choking, am_interested, peer_choking, peer_interested;
    bool optimistic, snubbed;
    uint64_t unchoked_since_ms;
    struct bitfield have;
    bool have_all;
    bool bitfield_seen;
    bool refill;                    /* blocks arrived: top up requests after this read */
    struct limits_peer limits;      /* core/limits.c: download debt, paused reading, throttled uploads */
    struct bt_pex_state *pex;       /* what this peer was told last (ut_pex) */

    struct peer_req *reqs;          /* ours, outstanding */
    int num_reqs, cap_reqs;
    struct peer_upreq upreqs[PEER_MAX_UPREQS];   /* theirs, ring */
    int up_head, up_count;
    int reads_in_flight;

    struct rate down, up;
    int64_t downloaded, uploaded;
    uint64_t connected_ms, last_recv_ms, last_send_ms, last_block_ms;
};

/* Our BEP10 message ids (what we put in the handshake's "m"). */
enum { PEER_EXT_PEX = 1, PEER_EXT_METADATA = 2 };

enum { PEER_SRC_TRACKER = 1, PEER_SRC_INCOMING = 2, PEER_SRC_API = 4, PEER_SRC_PEX = 8, PEER_SRC_DHT = 16, PEER_SRC_LSD = 32 };

/* Outgoing connection for torrent t. */
int peer_connect(struct session *s, struct torrent *t, const struct sockaddr *addr, struct peer **out);
/* Takes an accepted connection from one of the session's listeners (tls:
 * the SSL listener's). */
int peer_accept(struct session *s, uv_stream_t *server, bool tls);

/* Takes an incoming uTP stream (core/utpsock.c); -EPERM refuses it. */
int peer_accept_utp(struct session *s, struct utpsock_stream *st);

/* Closes the connection; the torrent is told through torrent_peer_detach. */
void peer_close(struct peer *p, const char *why);

void peer_send_have(struct peer *p, uint32_t piece);
void peer_set_choke(struct peer *p, bool choke);
void peer_set_interested(struct peer *p, bool interested);
void peer_send_request(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length);
void peer_send_cancel(struct peer *p, uint32_t piece, uint32_t begin, uint32_t length);
/* Drops our outstanding request record (after cancel or reject). */
bool peer_forget_request(struct peer *p, uint32_t piece, uint32_t begin);
/* Intrusive doubly linked list of peers (torrent's and session's lists). */
void peer_list_push(struct peer **head, struct peer *p);
void peer_list_unlink(struct peer **head, struct peer *p);

/* Flushes queued output to the socket. */
void peer_flush(struct peer *p);

/* The quota timer wakes throttled peers. */
void peer_resume_reading(struct peer *p);
void peer_resume_uploads(struct peer *p);

/* Called every second from the torrent tick: timeouts, keep-alives. */
void peer_tick(struct peer *p, uint64_t now_ms);

/* Target number of outstanding requests for this link. */
int peer_pipeline_target(const struct peer *p, uint64_t now_ms);

#endif
