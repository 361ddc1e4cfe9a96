/* Feeds arbitrary bytes, as a proxy's replies, to the SOCKS4/SOCKS5/HTTP
 * CONNECT handshake (util/proxyhs).  The first byte picks the protocol,
 * credentials and target family and how the rest is split into reads; the
 * handshake must never read past what it is given, must stop at its bound,
 * and must stay in its final state. */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/buf.h"
#include "util/proxyhs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    data++;
    size--;
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(6881), .sin_addr.s_addr = htonl(0x7f000001)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(6881)};
    a6.sin6_addr.s6_addr[15] = 1;
    const struct sockaddr *t = (ctl & 4) ? (const struct sockaddr *)&a6 : (const struct sockaddr *)&a4;
    static struct proxyhs h;
    struct buf out = BUF_INIT;
    enum proxyhs_kind kind = (enum proxyhs_kind)((ctl & 3) % 3);
    int rc = proxyhs_start(&h, kind, t, (ctl & 8) ? "user" : NULL, "pass", &out);
    size_t chunk = (size_t)(ctl >> 4) + 1, off = 0, total = 0;
    while (rc == 0 && off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        size_t used = 99999;
        rc = proxyhs_feed(&h, data + off, n, &used, &out);
        if (used > n)
            __builtin_trap();
        if (rc == 0 && used != n)
            __builtin_trap();   /* waiting for more means it took all it had */
        total += used;
        off += n;
        if (total > PROXYHS_HTTP_MAX + 64)
            __builtin_trap();   /* no handshake reads that much */
    }
    if (rc != 0) {
        size_t used = 99999;
        if (proxyhs_feed(&h, data, size, &used, &out) != rc || used != 0)
            __builtin_trap();   /* final states stay final */
        const char *e = proxyhs_error(&h);
        if (rc < 0 && (!*e || strnlen(e, sizeof h.err) == sizeof h.err))
            __builtin_trap();
    }
    buf_free(&out);
    return 0;
}
