#include "bt/wire.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "util/log.h"

static const char bt_pstr[] = "\x13" "BitTorrent protocol";   /* 20 bytes */

int bt_wire_handshake_build(struct buf *b, const uint8_t info_hash[20], const uint8_t peer_id[20])
{
    uint8_t h[BT_WIRE_HANDSHAKE_LEN];
    memcpy(h, bt_pstr, 20);
    memset(h + 20, 0, 8);
    h[20 + 5] |= 0x10;   /* BEP10 extension protocol */
    h[20 + 7] |= 0x04;   /* BEP6 fast extension */
    memcpy(h + 28, info_hash, 20);
    memcpy(h + 48, peer_id, 20);
    return buf_append(b, h, sizeof h);
}

int bt_wire_handshake_parse(const uint8_t *p, struct bt_handshake *out)
{
    if (memcmp(p, bt_pstr, 20) != 0)
        return -EPROTO;
    memcpy(out->reserved, p + 20, 8);
    memcpy(out->info_hash, p + 28, 20);
    memcpy(out->peer_id, p + 48, 20);
    out->fast = (out->reserved[7] & 0x04) != 0;
    out->ext = (out->reserved[5] & 0x10) != 0;
    out->dht = (out->reserved[7] & 0x01) != 0;
    return 0;
}

int bt_wire_parse(const uint8_t *p, size_t n, uint32_t max_len, struct bt_msg *out, size_t *consumed)
{
    if (n < 4)
        return -EAGAIN;
    uint32_t len = rd_be32(p);
    if (len > max_len) {
        log_debug("wire: frame of %u bytes exceeds limit %u", len, max_len);
        return -EPROTO;
    }
    if (n - 4 < len)
        return -EAGAIN;

    memset(out, 0, sizeof *out);
    *consumed = 4 + (size_t)len;
    if (len == 0) {
        out->id = BT_MSG_KEEPALIVE;
        return 0;
    }
    const uint8_t *body = p + 5;
    size_t blen = len - 1;
    out->id = p[4];
    switch (out->id) {
    case BT_MSG_CHOKE:
    case BT_MSG_UNCHOKE:
    case BT_MSG_INTERESTED:
    case BT_MSG_NOT_INTERESTED:
    case BT_MSG_HAVE_ALL:
    case BT_MSG_HAVE_NONE:
        if (blen != 0)
            goto bad;
        return 0;
    case BT_MSG_HAVE:
    case BT_MSG_SUGGEST:
    case BT_MSG_ALLOWED_FAST:
        if (blen != 4)
            goto bad;
        out->index = rd_be32(body);
        return 0;
    case BT_MSG_REQUEST:
    case BT_MSG_CANCEL:
    case BT_MSG_REJECT:
        if (blen != 12)
            goto bad;
        out->index = rd_be32(body);
        out->begin = rd_be32(body + 4);
        out->length = rd_be32(body + 8);
        return 0;
    case BT_MSG_PIECE:
        if (blen < 8)
            goto bad;
        out->index = rd_be32(body);
        out->begin = rd_be32(body + 4);
        out->payload = body + 8;
        out->payload_len = blen - 8;
        out->length = (uint32_t)out->payload_len;
        return 0;
    case BT_MSG_PORT:
        if (blen != 2)
            goto bad;
        out->index = rd_be16(body);
        return 0;
    case BT_MSG_EXTENDED:
        if (blen < 1)
            goto bad;
        out->ext_id = body[0];
        out->payload = body + 1;
        out->payload_len = blen - 1;
        return 0;
    case BT_MSG_HASH_REQUEST:
    case BT_MSG_HASH_REJECT:
        if (blen != BT_WIRE_HASH_REQ_LEN)
            goto bad;
        out->payload = body;
        out->payload_len = blen;
        return 0;
    case BT_MSG_HASHES:
        if (blen < BT_WIRE_HASH_REQ_LEN)
            goto bad;
        out->payload = body;
        out->payload_len = blen;
        return 0;
    case BT_MSG_BITFIELD:
    default:
        out->payload = body;
        out->payload_len = blen;
        return 0;
    }
bad:
    log_debug("wire: message id %d with bad length %u", out->id, len);
    *consumed = 0;
    return -EPROTO;
}

static int put_hdr(struct buf *b, uint32_t len, uint8_t id)
{
    int r = buf_reserve(b, 5);
    if (r)
        return r;
    buf_append_be32(b, len);
    return buf_append_u8(b, id);
}

static int put_simple(struct buf *b, uint8_t id) { return put_hdr(b, 1, id); }

static int put_u32(struct buf *b, uint8_t id, uint32_t v)
{
    uint8_t m[9];
    wr_be32(m, 5);
    m[4] = id;
    wr_be32(m + 5, v);
    return buf_append(b, m, sizeof m);
}

static int put_triple(struct buf *b, uint8_t id, uint32_t index, uint32_t begin, uint32_t len)
{
    uint8_t m[17];
    wr_be32(m, 13);
    m[4] = id;
    wr_be32(m + 5, index);
    wr_be32(m + 9, begin);
    wr_be32(m + 13, len);
    return buf_append(b, m, sizeof m);
}

int bt_wire_put_keepalive(struct buf *b) { return buf_append_be32(b, 0); }
int bt_wire_put_choke(struct buf *b) { return put_simple(b, BT_MSG_CHOKE); }
int bt_wire_put_unchoke(struct buf *b) { return put_simple(b, BT_MSG_UNCHOKE); }
int bt_wire_put_interested(struct buf *b) { return put_simple(b, BT_MSG_INTERESTED); }
int bt_wire_put_not_interested(struct buf *b) { return put_simple(b, BT_MSG_NOT_INTERESTED); }
int bt_wire_put_have_all(struct buf *b) { return put_simple(b, BT_MSG_HAVE_ALL); }
int bt_wire_put_have_none(struct buf *b) { return put_simple(b, BT_MSG_HAVE_NONE); }
int bt_wire_put_have(struct buf *b, uint32_t index) { return put_u32(b, BT_MSG_HAVE, index); }
int bt_wire_put_allowed_fast(struct buf *b, uint32_t index) { return put_u32(b, BT_MSG_ALLOWED_FAST, index); }
int bt_wire_put_suggest(struct buf *b, uint32_t index) { return put_u32(b, BT_MSG_SUGGEST, index); }

int bt_wire_put_request(struct buf *b, uint32_t index, uint32_t begin, uint32_t len)
{
    return put_triple(b, BT_MSG_REQUEST, index, begin, len);
}

int bt_wire_put_cancel(struct buf *b, uint32_t index, uint32_t begin, uint32_t len)
{
    return put_triple(b, BT_MSG_CANCEL, index, begin, len);
}

int bt_wire_put_reject(struct buf *b, uint32_t index, uint32_t begin, uint32_t len)
{
    return put_triple(b, BT_MSG_REJECT, index, begin, len);
}

int bt_wire_put_piece_header(struct buf *b, uint32_t index, uint32_t begin, uint32_t len)
{
    if (len > UINT32_MAX - 9)
        return -EINVAL;
    uint8_t m[13];
    wr_be32(m, 9 + len);
    m[4] = BT_MSG_PIECE;
    wr_be32(m + 5, index);
    wr_be32(m + 9, begin);
    return buf_append(b, m, sizeof m);
}

int bt_wire_put_bitfield(struct buf *b, const uint8_t *bits, size_t nbytes)
{
    if (nbytes > UINT32_MAX - 1)
        return -EINVAL;
    int r = buf_reserve(b, 5 + nbytes);
    if (r)
        return r;
    put_hdr(b, (uint32_t)(1 + nbytes), BT_MSG_BITFIELD);
    return buf_append(b, bits, nbytes);
}

int bt_wire_put_extended(struct buf *b, uint8_t ext_id, const uint8_t *payload, size_t len)
{
    if (len > UINT32_MAX - 2)
        return -EINVAL;
    int r = buf_reserve(b, 6 + len);
    if (r)
        return r;
    put_hdr(b, (uint32_t)(2 + len), BT_MSG_EXTENDED);
    buf_append_u8(b, ext_id);
    return buf_append(b, payload, len);
}

int bt_wire_put_hashes(struct buf *b, const uint8_t *req, const uint8_t *hashes, size_t n)
{
    if (n > (UINT32_MAX - 1 - BT_WIRE_HASH_REQ_LEN) / 32)
        return -EINVAL;
    int r = buf_reserve(b, 5 + BT_WIRE_HASH_REQ_LEN + n * 32);
    if (r)
        return r;
    put_hdr(b, (uint32_t)(1 + BT_WIRE_HASH_REQ_LEN + n * 32), BT_MSG_HASHES);
    buf_append(b, req, BT_WIRE_HASH_REQ_LEN);
    return buf_append(b, hashes, n * 32);
}

/* A message whose payload is a hash request. */
static int put_hash_req_msg(struct buf *b, uint8_t id, const uint8_t *req)
{
    int r = buf_reserve(b, 5 + BT_WIRE_HASH_REQ_LEN);
    if (r)
        return r;
    put_hdr(b, 1 + BT_WIRE_HASH_REQ_LEN, id);
    return buf_append(b, req, BT_WIRE_HASH_REQ_LEN);
}

int bt_wire_put_hash_request(struct buf *b, const uint8_t *req)
{
    return put_hash_req_msg(b, BT_MSG_HASH_REQUEST, req);
}

int bt_wire_put_hash_reject(struct buf *b, const uint8_t *req)
{
    return put_hash_req_msg(b, BT_MSG_HASH_REJECT, req);
}

int bt_wire_put_port(struct buf *b, uint16_t port)
{
    uint8_t m[7];
    wr_be32(m, 3);
    m[4] = BT_MSG_PORT;
    wr_be16(m + 5, port);
    return buf_append(b, m, sizeof m);
}

/* BEP6 caps k in practice at 10; a larger bound keeps the O(k^2) duplicate
 * check and the hashing rounds trivially small. */
#define BT_ALLOWED_FAST_MAX_K 256
#define BT_ALLOWED_FAST_MAX_ROUNDS 100000

int bt_wire_allowed_fast_set(const uint8_t info_hash[20], const uint8_t ip[4], uint32_t num_pieces,
                             int k, uint32_t *out)
{
    if (k < 0 || k > BT_ALLOWED_FAST_MAX_K || num_pieces == 0)
        return k == 0 ? 0 : -EINVAL;
    if ((uint32_t)k > num_pieces)
        k = (int)num_pieces;
    uint8_t x[24];
    memcpy(x, ip, 3);
    x[3] = 0;            /* 0xFFFFFF00 & ip: the /24 gets one set */
    memcpy(x + 4, info_hash, 20);
    uint8_t h[SHA_DIGEST_LENGTH];
    SHA1(x, sizeof x, h);
    int got = 0;
    for (int round = 0; got < k && round < BT_ALLOWED_FAST_MAX_ROUNDS; round++) {
        if (round > 0)
            SHA1(h, sizeof h, h);
        for (int i = 0; i < 5 && got < k; i++) {
            uint32_t idx = rd_be32(h + 4 * i) % num_pieces;
            bool dup = false;
            for (int j = 0; j < got && !dup; j++)
                dup = out[j] == idx;
            if (!dup)
                out[got++] = idx;
        }
    }
    return got;
}

/* ---- client names ---- */

struct bt_client_name {
    char code[3];
    const char *name;
};

static const struct bt_client_name bt_clients[] = {
    {"qB", "qBittorrent"}, {"TR", "Transmission"}, {"lt", "libtorrent"},
    {"LT", "libtorrent (Rasterbar)"}, {"UT", "\xc2\xb5Torrent"}, {"UM", "\xc2\xb5Torrent Mac"},
    {"UW", "\xc2\xb5Torrent Web"}, {"DE", "Deluge"}, {"AR", "aria2"}, {"TD", "torrentd"},
    {"AZ", "Vuze"}, {"BI", "BiglyBT"}, {"KT", "KTorrent"}, {"BT", "BitTorrent"},
    {"BW", "BitTorrent Web"}, {"FD", "Free Download Manager"}, {"FW", "FrostWire"},
    {"LW", "LimeWire"}, {"PI", "PicoTorrent"}, {"RT", "rTorrent"}, {"SD", "Thunder"},
    {"XL", "Xunlei"}, {"WW", "WebTorrent"}, {"BC", "BitComet"},
    {"HL", "Halite"}, {"FL", "Folx"}, {"tT", "tTorrent"}, {"LH", "LH-ABC"},
};

/* libtorrent's fingerprint digits: 0-9, then A-Z for 10-35, a-z for 36-61. */
static int bt_vdigit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 36;
    return -1;
}

static void bt_printable_prefix(const uint8_t id[20], char *out, size_t outlen)
{
    size_t n = 0;
    while (n < 8 && n + 1 < outlen && id[n] >= 0x20 && id[n] < 0x7f) {
        out[n] = (char)id[n];
        n++;
    }
    if (n == 0) {
        /* Copied by hand: snprintf here trips -Wformat-truncation at -O2. */
        static const char unknown[] = "Unknown";
        while (unknown[n] && n + 1 < outlen) {
            out[n] = unknown[n];
            n++;
        }
    }
    out[n] = 0;
}

/* Dash-separated decimal version as aria2 ("A2-1-35-0-") and Mainline
 * ("M7-2-2--") write it, starting at id[start]; returns 0 on success. */
static int bt_dashed_version(const uint8_t id[20], int start, char *v, size_t vlen)
{
    size_t n = 0;
    int parts = 0, digits = 0;
    for (int i = start; i < 20 && parts < 3; i++) {
        if (id[i] >= '0' && id[i] <= '9') {
            if (n + 1 >= vlen || ++digits > 3)
                return -1;
            v[n++] = (char)id[i];
        } else if (id[i] == '-') {
            if (digits == 0)
                break;
            if (++parts < 3) {
                if (n + 1 >= vlen)
                    return -1;
                v[n++] = '.';
            }
            digits = 0;
        } else {
            return -1;
        }
    }
    if (parts == 0 || n == 0)
        return -1;
    if (v[n - 1] == '.')
        n--;
    v[n] = 0;
    return 0;
}

void bt_wire_peer_client(const uint8_t peer_id[20], char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    out[0] = 0;
    char v[16];
    if (peer_id[0] == '-' && peer_id[7] == '-') {
        const char *name = NULL;
        for (size_t i = 0; i < sizeof bt_clients / sizeof bt_clients[0]; i++) {
            const char *c = bt_clients[i].code;
            if (strlen(c) == 2 && peer_id[1] == (uint8_t)c[0] && peer_id[2] == (uint8_t)c[1]) {
                name = bt_clients[i].name;
                break;
            }
        }
        int d[4];
        bool ok = peer_id[1] > 0x20 && peer_id[1] < 0x7f && peer_id[2] > 0x20 && peer_id[2] < 0x7f;
        for (int i = 0; i < 4; i++)
            ok = ok && (d[i] = bt_vdigit(peer_id[3 + i])) >= 0;
        if (!ok) {
            /* -TIX0284- style: a three-letter code; not decoded further. */
            bt_printable_prefix(peer_id, out, outlen);
            return;
        }
        if (name && peer_id[1] == 'T' && peer_id[2] == 'R') {
            /* Transmission: -TR3000- is 3.00, -TR4050- is 4.0.5. */
            if (d[0] <= 3)
                snprintf(v, sizeof v, "%d.%c%c", d[0], peer_id[4], peer_id[5]);
            else
                snprintf(v, sizeof v, "%d.%d.%d", d[0], d[1], d[2]);
        } else {
            snprintf(v, sizeof v, "%d.%d.%d", d[0], d[1], d[2]);
        }
        if (name)
            snprintf(out, outlen, "%s %s", name, v);
        else
            snprintf(out, outlen, "%c%c %s", peer_id[1], peer_id[2], v);
        return;
    }
    if (peer_id[0] == 'A' && peer_id[1] == '2' && peer_id[2] == '-' &&
        bt_dashed_version(peer_id, 3, v, sizeof v) == 0) {
        snprintf(out, outlen, "aria2 %s", v);
        return;
    }
    if (peer_id[0] == 'M' && bt_dashed_version(peer_id, 1, v, sizeof v) == 0) {
        snprintf(out, outlen, "BitTorrent %s", v);
        return;
    }
    bt_printable_prefix(peer_id, out, outlen);
}
