/* Feeds arbitrary bytes to the BEP10 extension handshake parser as a peer's
 * payload; the result must respect the header's ranges and survive a
 * rebuild and re-parse unchanged. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bt/ext.h"
#include "util/buf.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct bt_ext_handshake *h)
{
    if (h->ut_metadata < 0 || h->ut_metadata > 255 || h->ut_pex < 0 || h->ut_pex > 255)
        __builtin_trap();
    if (h->metadata_size < -1 || h->reqq == 0 || h->reqq < -1)
        __builtin_trap();
    if (h->yourip_len != 0 && h->yourip_len != 4 && h->yourip_len != 16)
        __builtin_trap();
    if (strnlen(h->client, sizeof h->client) == sizeof h->client)
        __builtin_trap();
    for (const unsigned char *c = (const unsigned char *)h->client; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            __builtin_trap();   /* sanitized to printable */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        log_set_quiet(1);
        quiet = 1;
    }
    struct bt_ext_handshake h;
    if (bt_ext_handshake_parse(data, size, &h) != 0) {
        if (h.ut_metadata || h.ut_pex || h.metadata_size != -1 || h.reqq != -1 || h.listen_port ||
            h.client[0] || h.yourip_len)
            __builtin_trap();   /* on error *out is all "unknown" */
        return 0;
    }
    check(&h);
    struct buf b = BUF_INIT;
    if (bt_ext_handshake_build(&b, &h) == 0) {
        struct bt_ext_handshake r;
        if (bt_ext_handshake_parse(buf_head(&b), buf_size(&b), &r) != 0)
            __builtin_trap();
        check(&r);
        if (r.ut_metadata != h.ut_metadata || r.ut_pex != h.ut_pex || r.metadata_size != h.metadata_size ||
            r.reqq != h.reqq || r.listen_port != h.listen_port || r.yourip_len != h.yourip_len ||
            memcmp(r.yourip, h.yourip, (size_t)h.yourip_len) != 0 || strcmp(r.client, h.client) != 0)
            __builtin_trap();
    }
    buf_free(&b);
    return 0;
}
