/* mse — BitTorrent Message Stream Encryption (MSE/PE, "protocol
 * encryption"), both roles, as a pure state machine.
 *
 *   A (initiator)                       B (responder)
 *   Ya, PadA                    ->
 *                               <-      Yb, PadB
 *   HASH('req1',S), HASH('req2',SKEY) xor HASH('req3',S),
 *   ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)  ->
 *                               <-      ENCRYPT(VC, crypto_select, len(PadD), PadD),
 *                                       ENCRYPT2(payload)
 *   ENCRYPT2(payload)           ->
 *
 * Y = 2^X mod P (the 768-bit MODP prime, X 160 random bits), S the shared
 * secret, SKEY the info-hash, VC eight zero bytes; ENCRYPT is RC4 with
 * HASH('keyA',S,SKEY) from A and HASH('keyB',S,SKEY) from B, the first
 * 1024 bytes of key stream discarded; ENCRYPT2 is that RC4 stream again
 * when crypto_select is MSE_CRYPTO_RC4, plaintext when MSE_CRYPTO_PLAIN.
 * The pads are 0..512 random bytes; the receiver finds the end of PadA by
 * the req1 hash and of PadB by the encrypted VC, so each side searches a
 * bounded window and never buffers more than MSE_RX_MAX bytes.
 *
 * Nothing here knows sockets or torrents: the connection feeds what it
 * reads and gets the BitTorrent stream back, and hands its BitTorrent
 * output to mse_seal and writes what comes out (handshake bytes first).
 * The responder finds SKEY by HASH('req2', SKEY) through a callback, so the
 * session can answer from a map in O(1).
 */
#ifndef TD_BT_MSE_H
#define TD_BT_MSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define MSE_KEY_LEN 96          /* Ya, Yb, S: big-endian, zero-padded */
#define MSE_PAD_MAX 512
#define MSE_IA_MAX 65535
#define MSE_CRYPTO_PLAIN 0x01u
#define MSE_CRYPTO_RC4 0x02u
/* What the receive side holds at most before it can move on: a key and a
 * pad plus the marker that ends it. */
#define MSE_RX_MAX 1024

struct mse;

/* The responder's SKEY lookup: req2 is HASH('req2', SKEY); copies SKEY
 * (the 20-byte info-hash a torrent is known by) to skey and returns 0, or
 * returns -ENOENT for no such torrent. */
typedef int (*mse_lookup_fn)(void *ud, const uint8_t req2[20], uint8_t skey[20]);

struct mse_opts {
    uint32_t crypto;   /* initiator: crypto_provide; responder: the methods accepted */
    /* Pad lengths; -1 (what mse_opts_default gives) draws 0..512 at random
     * for PadA/PadB and sends no PadC/PadD, as libtorrent does. */
    int pad_len;
    /* Responder: which of the offered methods wins when both are allowed. */
    bool prefer_rc4;
};

void mse_opts_default(struct mse_opts *o);

/* skey: the info-hash of the torrent this connection is for.  The first
 * bytes to send (Ya, PadA) wait in mse_seal's output.  -EINVAL when
 * opts->crypto offers nothing we know, -ENOMEM, -EIO (OpenSSL failed). */
int mse_initiator_new(const uint8_t skey[20], const struct mse_opts *opts, struct mse **out);
int mse_responder_new(mse_lookup_fn lookup, void *ud, const struct mse_opts *opts, struct mse **out);
void mse_free(struct mse *m);

/* Takes len bytes read from the peer and appends the BitTorrent stream they
 * carry (the initiator's IA included) to plain.  0, -EPROTO when the
 * handshake failed (mse_error says why; the connection is to be closed),
 * -ENOMEM.  Handshake bytes to send in reply wait for mse_seal. */
int mse_feed(struct mse *m, const uint8_t *data, size_t len, struct buf *plain);
/* Appends to out what must go on the wire now: handshake bytes, then (the
 * initiator's step 3) up to MSE_IA_MAX bytes of plain as the initial
 * payload, and once established all of plain in the negotiated form.
 * Before that, plain waits.  0, -EPROTO (a failed handshake) or -ENOMEM. */
int mse_seal(struct mse *m, struct buf *plain, struct buf *out);

/* Handshake done: the two streams are in their final form. */
bool mse_established(const struct mse *m);
/* MSE_CRYPTO_RC4 or MSE_CRYPTO_PLAIN once established, else 0. */
uint32_t mse_selected(const struct mse *m);
/* The info-hash the handshake was for (the responder's lookup result). */
const uint8_t *mse_skey(const struct mse *m);
const char *mse_error(const struct mse *m);
/* Whether any byte has come from the peer (a failure before that is a
 * peer that closed on our first bytes: a plaintext-only peer). */
bool mse_heard(const struct mse *m);

/* The established fast path: len bytes read from the socket, decrypted in
 * place (nothing for plaintext); len bytes about to be written, encrypted
 * from in to out (in == out allowed; a copy for plaintext), so the sender
 * makes its write buffer in the same pass.  Only after mse_established. */
void mse_decrypt(struct mse *m, uint8_t *data, size_t len);
void mse_encrypt(struct mse *m, const uint8_t *in, uint8_t *out, size_t len);

/* ---- pure helpers (exposed for the unit tests, the fuzzer, the session) ---- */

/* What the first bytes of an incoming connection are: a plaintext
 * BitTorrent handshake (19, "BitTorrent protocol"), something else (an MSE
 * key), or too few bytes to tell. */
enum mse_detect { MSE_DETECT_MORE, MSE_DETECT_PLAIN, MSE_DETECT_MSE };
enum mse_detect mse_detect(const uint8_t *data, size_t len);

/* HASH('req2', info_hash): the key of the session's SKEY map. */
void mse_req2_hash(const uint8_t info_hash[20], uint8_t out[20]);

/* RC4 with the first `drop` bytes of key stream discarded (MSE drops
 * 1024).  OpenSSL's RC4 when its legacy provider loads (into a library
 * context of our own: loading a provider into the default context would
 * stop OpenSSL from loading the default provider there implicitly), else
 * a small RC4 of ours. */
struct mse_rc4;
int mse_rc4_new(const uint8_t *key, size_t key_len, size_t drop, struct mse_rc4 **out);
void mse_rc4_apply(struct mse_rc4 *r, const uint8_t *in, uint8_t *out, size_t len);
void mse_rc4_free(struct mse_rc4 *r);
/* "openssl-legacy" or "builtin". */
const char *mse_rc4_backend(void);
/* Tests: true forces our RC4 for RC4 states made after the call. */
void mse_rc4_force_builtin(bool on);

#endif
