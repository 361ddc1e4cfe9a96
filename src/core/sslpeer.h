/* sslpeer — the TLS layer of SSL torrents (libtorrent's "SSL torrents").
 *
 * A torrent whose info dict carries `ssl-cert` (the PEM of a root CA) only
 * talks to peers over TLS: the connecting side sends SNI = the info-hash in
 * hex, both sides present a certificate that chains to that root and whose
 * subjectAltName DNS entry (or last common name) is the torrent's name or
 * "*", and only then the BitTorrent handshake runs inside the tunnel.
 *
 * OpenSSL runs on memory BIOs: the peer feeds ciphertext read from its libuv
 * stream and gets plaintext back, and hands plaintext to seal and writes the
 * ciphertext it gets.  Nothing here blocks or knows about sockets, sessions
 * or torrents (the listener finds a torrent's context through a callback).
 */
#ifndef TD_CORE_SSLPEER_H
#define TD_CORE_SSLPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* One SSL torrent's context: trusts its root certificate and nothing else,
 * and presents the identity set by torrents/setSSLParameters. */
struct sslpeer_ctx;
/* The SSL listener's context: no identity of its own, SNI picks the torrent. */
struct sslpeer_server;
/* One TLS connection. */
struct sslpeer;

/* -EINVAL when root_pem holds no certificate, -ENOMEM.  name is the
 * torrent's name (what a peer certificate must be issued for). */
int sslpeer_ctx_new(const char *root_pem, const char *name, struct sslpeer_ctx **out);
/* PEM certificate, private key (unencrypted) and DH parameters.  -EINVAL
 * when one does not parse or the key does not belong to the certificate. */
int sslpeer_ctx_set_identity(struct sslpeer_ctx *c, const char *cert, const char *key, const char *dh);
bool sslpeer_ctx_has_identity(const struct sslpeer_ctx *c);
void sslpeer_ctx_free(struct sslpeer_ctx *c);

/* lookup returns the context of the SSL torrent with that info-hash when it
 * may accept peers (it has an identity), else NULL: the handshake fails. */
typedef struct sslpeer_ctx *(*sslpeer_lookup_fn)(void *ud, const uint8_t info_hash[20]);
int sslpeer_server_new(sslpeer_lookup_fn lookup, void *ud, struct sslpeer_server **out);
/* Connections accepted through it keep it alive until they are freed. */
void sslpeer_server_free(struct sslpeer_server *srv);

/* Outgoing: c must have an identity (-EPERM otherwise). */
int sslpeer_connect(struct sslpeer_ctx *c, const uint8_t info_hash[20], struct sslpeer **out);
/* Incoming, from the SSL listener. */
int sslpeer_accept(struct sslpeer_server *srv, struct sslpeer **out);
void sslpeer_free(struct sslpeer *t);

/* Where the stream should read ciphertext into (then call sslpeer_feed):
 * 64 KiB, or what sslpeer_set_rbuf_size set. */
uint8_t *sslpeer_rbuf(struct sslpeer *t, size_t *len);
/* µTorrent Server's encrypt_buffer_size: the connection's ciphertext read
 * buffer, at least SSLPEER_RBUF_MIN bytes (-EINVAL below), -ENOMEM.  Not
 * while a read into the old buffer is in progress (it never is between
 * loop callbacks). */
#define SSLPEER_RBUF_MIN 4096u
int sslpeer_set_rbuf_size(struct sslpeer *t, size_t len);
/* Takes len bytes of ciphertext and appends the plaintext they carry to
 * plain.  0, or -EPROTO when the handshake or the record layer failed (the
 * reason is in sslpeer_error), -ENOMEM. */
int sslpeer_feed(struct sslpeer *t, const uint8_t *data, size_t len, struct buf *plain);
/* Encrypts and consumes all of plain once the handshake is done (before,
 * plain waits) and appends to cipher whatever must be sent now, handshake
 * records included.  0, -EPROTO or -ENOMEM. */
int sslpeer_seal(struct sslpeer *t, struct buf *plain, struct buf *cipher);
bool sslpeer_established(const struct sslpeer *t);
/* Incoming: the info-hash the client asked for by SNI (NULL before). */
const uint8_t *sslpeer_info_hash(const struct sslpeer *t);
/* Whether the connection runs under context c (it was made or routed for
 * that torrent and not for another one, or an earlier torrent of the hash). */
bool sslpeer_uses(const struct sslpeer *t, const struct sslpeer_ctx *c);
const char *sslpeer_error(const struct sslpeer *t);

/* ---- pure helpers (exposed for the unit tests) ---- */

/* SNI host name -> info-hash: exactly 40 hex digits, any case.  0 or -EINVAL. */
int sslpeer_parse_sni(const char *name, uint8_t info_hash[20]);
/* Whether a certificate name (not NUL-terminated) admits a torrent. */
bool sslpeer_name_matches(const char *cert_name, size_t len, const char *torrent_name);
/* Whether the PEM certificate is issued for the torrent: one of its
 * subjectAltName DNS entries or its last common name matches (what
 * libtorrent checks on the certificate a peer presents). */
bool sslpeer_pem_matches(const char *cert_pem, const char *torrent_name);

#endif
