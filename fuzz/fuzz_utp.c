/* uTP datagrams are attacker-controlled: every non-KRPC datagram on the
 * UDP port goes through utp_packet_parse() and then into the connection
 * table.  Part 1: a packet that parses writes back to the same header (the
 * codec is its own oracle).  Part 2: the input, cut into datagrams (one
 * length byte each), is fed to a mux that also holds an outgoing
 * connection, with flushes and ticks between, under ASan/UBSan. */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt/utp/packet.h"
#include "bt/utp/utp.h"

static void on_send(void *ud, const struct sockaddr *to, const uint8_t *h, size_t hl, const uint8_t *p, size_t pl)
{
    (void)ud, (void)to, (void)p, (void)pl;
    struct utp_hdr x;
    if (utp_packet_parse(h, hl, &x) != 0)
        abort();   /* we only send what we can parse */
}

static int on_accept(void *ud, struct utp_conn *c)
{
    (void)ud;
    utp_conn_write(c, "hello", 5);
    return 0;
}

static void on_event(void *ud, struct utp_conn *c, enum utp_event ev, int err)
{
    (void)ud, (void)err;
    uint8_t tmp[4096];
    if (ev == UTP_EV_READABLE)
        while (utp_conn_read(c, tmp, sizeof tmp) > 0) {
        }
    if (ev == UTP_EV_ERROR || ev == UTP_EV_EOF)
        utp_conn_close(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct utp_hdr h, again;
    if (utp_packet_parse(data, size, &h) == 0) {
        uint8_t out[UTP_HEADER_MAX];
        size_t n = utp_packet_write(out, &h);
        if (utp_packet_parse(out, n, &again) != 0 || again.type != h.type || again.conn_id != h.conn_id ||
            again.seq != h.seq || again.ack != h.ack || again.wnd != h.wnd || again.ts_us != h.ts_us ||
            again.ts_diff_us != h.ts_diff_us || again.sack_len < h.sack_len ||
            memcmp(again.sack, h.sack, h.sack_len) != 0)
            abort();
    }

    static const struct utp_ops ops = {on_send, on_accept, on_event};
    struct utp_config cfg = {.seed = 42, .max_half_open = 4, .max_conns = 16};
    struct utp_mux *m;
    if (utp_mux_new(&ops, NULL, &cfg, &m) != 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(6881), .sin_addr.s_addr = htonl(0x7f000001)};
    struct utp_conn *c;
    uint64_t now = 1000000;
    if (utp_mux_connect(m, (struct sockaddr *)&a, NULL, now, &c) == 0)
        utp_conn_write(c, "request", 7);
    size_t off = 0;
    while (off < size) {
        size_t len = data[off++];
        if (len > size - off)
            len = size - off;
        a.sin_port = htons((uint16_t)(6881 + (len & 1)));
        utp_mux_recv(m, data + off, len, (struct sockaddr *)&a, now);
        off += len;
        now += 7000;
        utp_mux_flush(m, now);
        if ((off & 3) == 0)
            utp_mux_tick(m, now + 600000);
    }
    utp_mux_tick(m, now + 20000000);
    utp_mux_free(m);
    return 0;
}
