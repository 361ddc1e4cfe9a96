/* Feeds arbitrary bytes to the peer wire codec as a peer's input stream;
 * BEP52 hashes / hash reject payloads go on to a piece-layer fetch
 * (bt/layers) that has asked this "peer" for everything it can. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bt/layers.h"
#include "bt/merkle.h"
#include "bt/wire.h"
#include "util/bitfield.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Files of 3 and 600 pieces of 16 KiB (one and two requests). */
static struct bt_layers *layers(void)
{
    static struct bt_layers *l;
    static struct bt_file files[2];
    static struct bt_metainfo mi;
    if (l)
        return l;
    mi.v2 = true;
    mi.piece_length = MERKLE_BLOCK;
    mi.files = files;
    mi.num_files = 2;
    files[0].length = 3 * MERKLE_BLOCK - 1;
    files[1].length = 600 * MERKLE_BLOCK;
    files[1].offset = 3 * MERKLE_BLOCK;
    memset(files[1].pieces_root, 0xab, MERKLE_HASH);
    bt_layers_new(&mi, &l);
    return l;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int peer;
    struct bt_layers *l = layers();
    uint8_t req[BT_WIRE_HASH_REQ_LEN];
    while (l && bt_layers_next(l, &peer, 0, req) == 1)
        ;
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
        if (l && m.id == BT_MSG_HASHES)
            bt_layers_add(l, &peer, m.payload, m.payload_len);
        if (l && m.id == BT_MSG_HASH_REJECT)
            bt_layers_reject(l, &peer, m.payload);
        p += used;
        n -= used;
    }
    if (l)
        bt_layers_peer_gone(l, &peer);
    return 0;
}
