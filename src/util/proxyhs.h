/* proxyhs — the client side of a proxy handshake that opens a TCP tunnel
 * to one address: SOCKS4 (CONNECT), SOCKS5 (RFC 1928 CONNECT, without
 * authentication or with RFC 1929 username/password) and HTTP CONNECT
 * (with Basic authentication).  Pure bytes in, bytes out: no I/O, so the
 * peer code drives it on the loop (core/peerproxy.c) and tests and the
 * fuzzer drive it from buffers.
 *
 * Bounded: every reply has a fixed or length-prefixed size, except HTTP's,
 * which is read up to its blank line and refused past PROXYHS_HTTP_MAX
 * bytes.  proxyhs_feed consumes only the bytes of the handshake, so bytes the
 * far end sent right after it stay the caller's (they belong to the
 * tunnelled stream).
 *
 * The target is an IP address: peers are addresses, and a tunnel to a
 * numeric address needs no name lookup on either side.
 */
#ifndef TD_UTIL_PROXYHS_H
#define TD_UTIL_PROXYHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/buf.h"

enum proxyhs_kind { PROXYHS_SOCKS4, PROXYHS_SOCKS5, PROXYHS_HTTP };

#define PROXYHS_HTTP_MAX 4096   /* an HTTP reply's status line and headers */

struct proxyhs {
    enum proxyhs_kind kind;
    int step;                         /* internal state */
    int rc;                           /* the error, once failed */
    bool auth;
    uint8_t ip[16];                   /* the target, network order */
    bool ip6;
    uint16_t port;
    char user[256], pass[256];        /* RFC 1929 caps both at 255 bytes */
    uint8_t rx[PROXYHS_HTTP_MAX];     /* the reply so far */
    size_t rxlen;
    char err[128];
};

/* Starts a handshake to target (AF_INET or AF_INET6, with its port) and
 * appends the first request to out.  user/pass NULL (or user "") = no
 * authentication; SOCKS4 sends user as its USERID and never a password.
 * Returns 0, -EAFNOSUPPORT (SOCKS4 and an IPv6 target, or another family),
 * -ENAMETOOLONG (a credential over 255 bytes) or -ENOMEM. */
int proxyhs_start(struct proxyhs *h, enum proxyhs_kind kind, const struct sockaddr *target, const char *user,
                  const char *pass, struct buf *out);

/* Feeds len bytes from the proxy; *used says how many belong to the
 * handshake (the rest, if any, is the tunnel's).  A next request, if the
 * step needs one, is appended to out.  Returns 1 when the tunnel is open, 0
 * when more bytes are needed, or an error (then proxyhs_error says what the
 * proxy said): -EACCES (authentication refused or needed, or the proxy's
 * rules forbid the target), -ECONNREFUSED, -EHOSTUNREACH, -ENETUNREACH,
 * -ETIMEDOUT (the proxy could not reach the target), -EPROTO (not a reply
 * of that protocol), -ENOMEM.  After 1 or an error, further calls return
 * the same without reading. */
int proxyhs_feed(struct proxyhs *h, const uint8_t *in, size_t len, size_t *used, struct buf *out);

/* What went wrong, for the log ("" while nothing did). */
const char *proxyhs_error(const struct proxyhs *h);

#endif
