/* ext — the BEP10 extension protocol handshake (extended message id 0).
 *
 * Peers tell each other which extension messages they speak and under which
 * message ids, plus a few facts about themselves.  The payload is untrusted:
 * parsing is bounded, unknown keys are ignored and every field falls back to
 * "unknown" rather than failing the whole handshake.
 */
#ifndef TD_BT_EXT_H
#define TD_BT_EXT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* A handshake payload larger than this is refused. */
#define BT_EXT_HANDSHAKE_MAX (64 * 1024)

struct bt_ext_handshake {
    int ut_metadata, ut_pex;   /* remote message ids 1..255, 0 = unsupported */
    int64_t metadata_size;     /* -1 unknown; callers must still bound it */
    int reqq;                  /* -1 unknown, else 1..INT_MAX */
    uint16_t listen_port;      /* 'p', 0 unknown */
    char client[64];           /* 'v', sanitized to printable UTF-8 */
    uint8_t yourip[16];
    int yourip_len;            /* 0, 4 or 16 */
};

/* Fills *out from the bencoded payload p[0..n) (after the extended message
 * id byte).  Returns 0, or -EPROTO when the payload is not a bencoded dict
 * (-E2BIG when too large or too deep); *out is then all "unknown". */
int bt_ext_handshake_parse(const uint8_t *p, size_t n, struct bt_ext_handshake *out);

/* Appends our bencoded handshake payload (no length prefix or message ids):
 * m with ut_metadata/ut_pex (omitted when 0), metadata_size when >= 0,
 * p when non-zero, reqq when > 0, v when non-empty, yourip when 4 or 16
 * bytes.  Returns 0 or -ENOMEM. */
int bt_ext_handshake_build(struct buf *b, const struct bt_ext_handshake *ours);

#endif
