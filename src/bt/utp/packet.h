/* utp_packet — the BEP29 (uTP) packet codec: the 20-byte header and the
 * extension chain (selective ACK, type 1; others skipped).
 *
 *   0       4       8               16              24              32
 *   | type  | ver   | extension     | connection_id                 |
 *   | timestamp_microseconds                                        |
 *   | timestamp_difference_microseconds                             |
 *   | wnd_size                                                      |
 *   | seq_nr                        | ack_nr                        |
 *   then extensions: (next extension type, length, bytes), 0 ends.
 *
 * Parsing is bounded by the datagram: every length is checked against what
 * is left, the chain ends at the datagram's end at the latest, a SACK longer
 * than UTP_SACK_MAX keeps its first UTP_SACK_MAX bytes (the rest speaks of
 * packets beyond any window we keep).  Pure: no I/O, no allocation.
 */
#ifndef TD_BT_UTP_PACKET_H
#define TD_BT_UTP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum utp_type { UTP_ST_DATA = 0, UTP_ST_FIN = 1, UTP_ST_STATE = 2, UTP_ST_RESET = 3, UTP_ST_SYN = 4 };

#define UTP_VERSION 1
#define UTP_HEADER_LEN 20
#define UTP_SACK_MAX 32            /* bytes of SACK bitmask kept and sent (256 packets) */
#define UTP_EXT_SACK 1
/* Room for a header with our largest SACK extension in front of a payload. */
#define UTP_HEADER_MAX (UTP_HEADER_LEN + 2 + UTP_SACK_MAX)

struct utp_hdr {
    uint8_t type;                  /* enum utp_type */
    uint16_t conn_id;
    uint32_t ts_us;                /* sender's clock, microseconds, wraps */
    uint32_t ts_diff_us;           /* sender's "now" minus our last timestamp it saw */
    uint32_t wnd;                  /* sender's receive window, bytes */
    uint16_t seq, ack;
    uint8_t sack_len;              /* 0 = no SACK */
    uint8_t sack[UTP_SACK_MAX];    /* bit i of byte j: packet ack + 2 + 8j + i received */
    const uint8_t *payload;        /* into the datagram (parse only) */
    size_t payload_len;
};

/* Whether a datagram on the shared UDP socket is uTP's: its first byte is
 * (type << 4) | 1 with a known type.  KRPC (DHT) starts with 'd' (0x64). */
bool utp_packet_is_utp(const uint8_t *p, size_t n);

/* 0, or -EPROTO for a short datagram, another version, an unknown type or
 * an extension running past the end. */
int utp_packet_parse(const uint8_t *p, size_t n, struct utp_hdr *h);

/* Writes the header and, when h->sack_len > 0, the SACK extension (whose
 * length is rounded up to a multiple of 4 as BEP29 asks) into out, which
 * has room for UTP_HEADER_MAX bytes.  Returns the bytes written. */
size_t utp_packet_write(uint8_t *out, const struct utp_hdr *h);

#endif
