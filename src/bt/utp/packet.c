/* utp_packet — see packet.h. */
#include "bt/utp/packet.h"

#include <errno.h>
#include <string.h>

#include "util/buf.h"

bool utp_packet_is_utp(const uint8_t *p, size_t n)
{
    return n >= UTP_HEADER_LEN && (p[0] & 0x0f) == UTP_VERSION && (p[0] >> 4) <= UTP_ST_SYN;
}

int utp_packet_parse(const uint8_t *p, size_t n, struct utp_hdr *h)
{
    memset(h, 0, sizeof *h);
    if (!utp_packet_is_utp(p, n))
        return -EPROTO;
    h->type = p[0] >> 4;
    h->conn_id = rd_be16(p + 2);
    h->ts_us = rd_be32(p + 4);
    h->ts_diff_us = rd_be32(p + 8);
    h->wnd = rd_be32(p + 12);
    h->seq = rd_be16(p + 16);
    h->ack = rd_be16(p + 18);
    uint8_t ext = p[1];
    size_t off = UTP_HEADER_LEN;
    /* Each extension takes at least two bytes, so the walk ends by itself. */
    while (ext != 0) {
        if (n - off < 2)
            return -EPROTO;
        uint8_t next = p[off], len = p[off + 1];
        off += 2;
        if (n - off < len)
            return -EPROTO;
        if (ext == UTP_EXT_SACK && len > 0 && h->sack_len == 0) {
            h->sack_len = len < UTP_SACK_MAX ? len : UTP_SACK_MAX;
            memcpy(h->sack, p + off, h->sack_len);
        }
        off += len;
        ext = next;
    }
    h->payload = p + off;
    h->payload_len = n - off;
    return 0;
}

size_t utp_packet_write(uint8_t *out, const struct utp_hdr *h)
{
    size_t slen = h->sack_len > UTP_SACK_MAX ? UTP_SACK_MAX : h->sack_len;
    slen = (slen + 3) & ~(size_t)3;
    if (slen > UTP_SACK_MAX)
        slen = UTP_SACK_MAX;
    out[0] = (uint8_t)(h->type << 4 | UTP_VERSION);
    out[1] = slen ? UTP_EXT_SACK : 0;
    wr_be16(out + 2, h->conn_id);
    wr_be32(out + 4, h->ts_us);
    wr_be32(out + 8, h->ts_diff_us);
    wr_be32(out + 12, h->wnd);
    wr_be16(out + 16, h->seq);
    wr_be16(out + 18, h->ack);
    if (!slen)
        return UTP_HEADER_LEN;
    out[20] = 0;
    out[21] = (uint8_t)slen;
    memset(out + 22, 0, slen);
    memcpy(out + 22, h->sack, h->sack_len < slen ? h->sack_len : slen);
    return UTP_HEADER_LEN + 2 + slen;
}
