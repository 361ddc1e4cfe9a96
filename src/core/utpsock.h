/* utpsock — uTP (bt/utp) on the session's UDP port, as byte streams for
 * core/peer.c.
 *
 * The UDP socket: the DHT's when the DHT runs (the DHT hands over every
 * datagram that is not KRPC, see dht_set_other), else a socket of our own
 * on the same address and port.  discovery.c tells us around DHT starts
 * and stops (utpsock_release_port / utpsock_sync) so that exactly one
 * socket holds the port; connections survive the switch.
 *
 * A stream mimics the libuv stream calls peer.c makes on TCP (read start
 * and stop with the same alloc and read callbacks, a write completed by
 * its uv_write_cb, a connect completed by its uv_connect_cb, UV_EOF and
 * errors through the read callback), with peer.c's uv_tcp_t as the handle
 * the callbacks get, so the peer code does not care which transport it
 * runs on.  A write completes once all its bytes are in the connection's
 * send buffer (as a TCP write completes once the kernel has them).
 *
 * Timers: every 50 ms while connections exist (timeouts); a check handle
 * flushes acks and data after each loop iteration's I/O, and an idle
 * handle keeps the loop from sleeping while a flush is due.
 *
 * Preferences (SG_UTP): bittorrent_protocol 0 = TCP and uTP (outgoing
 * tries uTP first and falls back to TCP, as libtorrent), 1 = TCP only (no
 * uTP in or out), 2 = uTP only; limit_utp_rate (core/limits.c);
 * utp_tcp_mixed_mode is stored (libtorrent's mixed_mode_algorithm: it only
 * throttles uTP when TCP peers are present, which our LEDBAT already yields to).
 */
#ifndef TD_CORE_UTPSOCK_H
#define TD_CORE_UTPSOCK_H

#include <stdbool.h>
#include <sys/socket.h>
#include <uv.h>

struct session;
struct utpsock;
struct utpsock_stream;

enum utpsock_out { UTPSOCK_OUT_NONE, UTPSOCK_OUT_FIRST, UTPSOCK_OUT_ONLY };

/* Follow the prefs, the DHT and the listen port (socket, mux, timers). */
void utpsock_sync(struct session *s);
/* Closes our own socket so that the DHT can bind the port. */
void utpsock_release_port(struct session *s);
/* Session end: every connection dropped, handles closed. */
void utpsock_stop(struct session *s);
/* How outgoing connections use uTP (bittorrent_protocol). */
enum utpsock_out utpsock_outgoing(struct session *s);

/* Connects; cb(req, 0) or cb(req, UV_ETIMEDOUT / UV_ECONNRESET) later.
 * owner is the handle the read callbacks get. */
int utpsock_connect(struct session *s, const struct sockaddr *to, uv_stream_t *owner, uv_connect_t *req,
                    uv_connect_cb cb, struct utpsock_stream **out);
int utpsock_read_start(struct utpsock_stream *st, uv_alloc_cb alloc_cb, uv_read_cb read_cb);
void utpsock_read_stop(struct utpsock_stream *st);
/* One write at a time (as peer.c does). */
int utpsock_write(uv_write_t *req, struct utpsock_stream *st, const uv_buf_t *b, uv_write_cb cb);
/* Lets go: a pending write completes with UV_ECANCELED here and now, no
 * callback after; the connection closes with a FIN after queued data. */
void utpsock_close(struct utpsock_stream *st);
const struct sockaddr *utpsock_peer_addr(const struct utpsock_stream *st);
/* An incoming stream's taker (peer_accept_utp) names its handle. */
void utpsock_adopt(struct utpsock_stream *st, uv_stream_t *owner);

/* The BitTorrent handshake named the peer.  On loopback (no MTU below 64
 * KiB, nothing fragments) a torrentd peer gets 60000-byte packets instead
 * of 1380 (it reads whole 64 KiB datagrams): a quarter of the CPU and
 * three to four times the speed.  libtorrent 2.0 (python3-libtorrent here)
 * stalls on them and libutp reads 4 KiB, so every other peer and every
 * other path keeps the safe size; there is no path MTU probing (a probe
 * that is lost cannot be split again: sequence numbers count packets). */
void utpsock_peer_known(struct utpsock_stream *st, const uint8_t peer_id[20]);

/* Live connections (tests, stats). */
size_t utpsock_count(const struct session *s);

#endif
