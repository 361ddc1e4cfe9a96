/* Peer extension messages: the first byte picks ut_metadata, ut_pex or an
 * LSD datagram (a LAN neighbour's); the rest is the payload.  Metadata data
 * messages are also fed to an assembler sized from their total_size. */
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt/lsd.h"
#include "bt/metadata.h"
#include "bt/pex.h"

static void metadata(const uint8_t *p, size_t n)
{
    struct bt_metadata_msg m;
    if (bt_metadata_parse(p, n, &m) != 0 || m.type != BT_METADATA_DATA)
        return;
    /* Keep allocations small: the size bound itself is unit-tested. */
    if (m.total_size > 4 * BT_METADATA_BLOCK)
        return;
    uint8_t ih[20] = {0};
    struct bt_metadata_asm *a;
    if (bt_metadata_asm_new(ih, m.total_size, &a) != 0)
        abort();
    int k = 0;
    (void)bt_metadata_asm_next(a, &k, 0);
    int rc = bt_metadata_asm_add(a, m.piece, m.data, m.data_len);
    if (rc != 0 && rc != -EINVAL && rc != -EILSEQ)
        abort();
    bt_metadata_asm_peer_gone(a, &k);
    bt_metadata_asm_free(a);
}

static void pex(const uint8_t *p, size_t n)
{
    struct bt_pex_msg m;
    if (bt_pex_parse(p, n, &m) == 0) {
        if (m.num_added > 2 * BT_PEX_MAX_PEERS || m.num_dropped > 2 * BT_PEX_MAX_PEERS)
            abort();
        /* What we received, re-sent through the diff state, must parse back. */
        struct bt_pex_state *s;
        struct buf b = BUF_INIT;
        if (bt_pex_state_new(&s) == 0) {
            if (bt_pex_state_diff(s, m.added, m.num_added, 0, &b) == 1) {
                struct bt_pex_msg back;
                if (bt_pex_parse(buf_head(&b), buf_size(&b), &back) != 0 || back.num_added > BT_PEX_SEND_MAX)
                    abort();
                bt_pex_msg_free(&back);
            }
            bt_pex_state_free(s);
        }
        buf_free(&b);
    }
    bt_pex_msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 3) {
    case 0:
        metadata(p, n);
        break;
    case 1:
        pex(p, n);
        break;
    default: {
        uint16_t port;
        uint8_t h[8][20];
        size_t nh;
        char ck[32];
        if (bt_lsd_parse(p, n, &port, h, 8, &nh, ck, sizeof ck) == 0 && (port == 0 || nh > 8))
            abort();
        break;
    }
    }
    return 0;
}
