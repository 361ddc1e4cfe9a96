/* ssltorrent — SSL torrents in the session: each SSL torrent's TLS context
 * and identity (torrents/setSSLParameters, persisted in the store's kv
 * namespace "ssl"), the SSL listener (preferences ssl_enabled and
 * ssl_listen_port, 0 = a port the system picks) and the port an SSL torrent
 * announces.
 *
 * An SSL torrent (info dict with `ssl-cert`) never talks plain BitTorrent:
 * it connects out over TLS only, accepts peers only from the SSL listener,
 * and without a certificate set it makes and accepts no connections at all
 * (as libtorrent).  Torrents without `ssl-cert` are not affected.
 */
#ifndef TD_CORE_SSLTORRENT_H
#define TD_CORE_SSLTORRENT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct session;
struct torrent;
struct sslpeer;
struct sslpeer_ctx;

/* Called once the torrent has its metadata: builds the context of an SSL
 * torrent (with the identity already set, if any) and drops plain peers it
 * may have had while fetching the metadata. */
void ssltorrent_metadata(struct torrent *t);
/* A new identity for the torrent with this hex hash (committed by the API;
 * also before the metadata is known).  0, -ENOENT, -EINVAL, -ENOMEM. */
int ssltorrent_set_params(struct session *s, const char *hex, const char *cert, const char *key, const char *dh);
void ssltorrent_free(struct torrent *t);
/* torrents/setSSLParameters: validates (a certificate, an RSA/EC/DSA key and
 * DH parameters, PEM; -EINVAL otherwise), writes the store row and gives
 * the identity to the engine: after the commit when cb is set (cb(ud, rc)
 * then), at once without.  0 or a negative errno (cb will not run). */
int ssltorrent_save_params(struct session *s, struct torrent *t, const char *cert, const char *key, const char *dh,
                           void (*cb)(void *ud, int rc), void *ud);
/* The identity set for t, as stored ("" when none). */
void ssltorrent_params(const struct torrent *t, const char **cert, const char **key, const char **dh);

bool ssltorrent_is_ssl(const struct torrent *t);
/* The context to connect with, or NULL while the torrent has no identity. */
struct sslpeer_ctx *ssltorrent_ctx(const struct torrent *t);
/* Listen port to announce for t: the SSL port for SSL torrents (0 when not
 * listening), the plain one otherwise. */
uint16_t ssltorrent_announce_port(const struct torrent *t);

/* Identities stored by earlier runs; after the torrents are loaded. */
void ssltorrent_load(struct session *s);
/* (Re)starts or stops the SSL listener as the preferences say. */
int ssltorrent_listen(struct session *s);
void ssltorrent_stop(struct session *s);
/* Whether h is one of the SSL listener's sockets. */
bool ssltorrent_is_listener(const struct session *s, const uv_stream_t *h);
/* A TLS server-side connection for a peer accepted there. */
int ssltorrent_accept(struct session *s, struct sslpeer **out);
/* A new TLS connection's ciphertext read buffer: µTorrent Server's
 * encrypt_buffer_size (ut_encrypt_buffer_size, bytes, default 102400). */
void ssltorrent_size_buffers(struct session *s, struct sslpeer *t);
/* The port actually listened on, 0 when not listening. */
uint16_t ssltorrent_port(const struct session *s);

#endif
