/* mseconn — Message Stream Encryption on peer connections (bt/mse.c
 * drives the handshake; this is its place in the engine).
 *
 * The `encryption` preference, as qBittorrent's (libtorrent's
 * out_enc_policy/in_enc_policy with prefer_rc4):
 *   0 prefer   outgoing offers RC4 and plaintext inside an MSE handshake;
 *              a peer that hangs up on it is dialled again in plaintext
 *              (and remembered so); incoming takes both kinds.
 *   1 require  RC4 only, both ways: plaintext handshakes are refused.
 *   2 disable  plaintext BitTorrent only: MSE incoming is refused.
 * It is read at each connect and accept, and a change closes the
 * connections the new value refuses (SG_ENCRYPTION).
 *
 * The filter sits between the socket and the peer's byte streams: bytes
 * read are decrypted into p->in (in place once the handshake is done), and
 * p->out is sealed on its way to the socket.  SSL torrents' connections
 * (core/sslpeer.c) never use it.
 *
 * The responder finds the torrent by HASH('req2', info-hash) in a map the
 * session keeps next to its info-hash index (both hashes of a hybrid).
 */
#ifndef TD_CORE_MSECONN_H
#define TD_CORE_MSECONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/settings.h"

struct peer;
struct session;
struct torrent;
struct mseconn;

/* struct peer's `crypto`: what the peer lists show (qBittorrent's E, e). */
enum { PEER_CRYPTO_NONE = 0, PEER_CRYPTO_HANDSHAKE = 1, PEER_CRYPTO_RC4 = 2 };

enum { MSECONN_PREFER = 0, MSECONN_REQUIRE = 1, MSECONN_DISABLE = 2 };
int mseconn_policy(struct session *s);

/* Outgoing connection p (its torrent and address set): starts the MSE
 * handshake unless the policy or the address says plaintext.  0, -ENOMEM. */
int mseconn_outgoing(struct peer *p);
/* Incoming connection p: watches its first bytes (plaintext or MSE). */
int mseconn_incoming(struct peer *p);
/* nread bytes were read to the end of p->in (not yet counted in its len).
 * Returns how many BitTorrent bytes p->in gained, or a negative errno: the
 * connection is to be closed for mseconn_error(p). */
ssize_t mseconn_on_read(struct peer *p, size_t nread);
/* What goes to the socket next: sets p->wdata and *len (0 for nothing). */
int mseconn_take_output(struct peer *p, size_t *len);
/* An incoming MSE connection must name the torrent its SKEY was. */
bool mseconn_hash_ok(const struct peer *p, const uint8_t info_hash[20]);
/* From peer_close (after the torrent let the peer go): prefer's fallback. */
void mseconn_closed(struct peer *p);
const char *mseconn_error(const struct peer *p);
void mseconn_free(struct mseconn *c);

/* The SKEY map.  add: -ENOMEM; a hash already mapped stays as it is. */
int mseconn_index_add(struct session *s, const uint8_t hash[20], struct torrent *t);
void mseconn_index_del(struct session *s, const uint8_t hash[20], const struct torrent *t);
struct torrent *mseconn_index_find(struct session *s, const uint8_t req2[20]);
void mseconn_session_free(struct session *s);

/* SG_ENCRYPTION hook (ud: the session). */
void mseconn_on_settings(void *ud, const struct settings_mask *changed);

#endif
