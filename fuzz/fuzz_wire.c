/* Feeds arbitrary bytes to the peer wire codec as a peer's input stream. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bt/wire.h"
#include "util/bitfield.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        log_set_quiet(1);
        quiet = 1;
    }
    if (size >= BT_WIRE_HANDSHAKE_LEN) {
        struct bt_handshake h;
        bt_wire_handshake_parse(data, &h);
    }
    if (size >= 20) {
        char name[32];
        bt_wire_peer_client(data, name, sizeof name);
    }
    const uint8_t *p = data;
    size_t n = size;
    /* Each frame consumes at least 4 bytes, so this ends within size/4 rounds. */
    while (n > 0) {
        struct bt_msg m;
        size_t used = 0;
        int r = bt_wire_parse(p, n, 64 * 1024, &m, &used);
        if (r != 0)
            break;
        if (used < 4 || used > n)
            __builtin_trap();
        if (m.payload && (m.payload < data || m.payload + m.payload_len > p + used))
            __builtin_trap();
        if (m.id == BT_MSG_BITFIELD) {
            struct bitfield bf;
            if (bitfield_init(&bf, (uint32_t)m.payload_len * 8 - (m.payload_len ? 3 : 0)) == 0) {
                bitfield_from_bytes(&bf, m.payload, m.payload_len);
                bitfield_free(&bf);
            }
        }
        p += used;
        n -= used;
    }
    return 0;
}
