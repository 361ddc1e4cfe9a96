/* Tracker replies are attacker-controlled: HTTP announce/scrape bodies and
 * UDP datagrams.  The first byte picks the parser (low bits) and, with its
 * top bit, a transaction id that does not match; the rest is the input.
 * corpus/tracker has hostile seeds: garbage, deep nesting, many values,
 * dict peers with bad entries, short/truncated/wrong-action datagrams, long
 * error texts with control bytes, IPv6 peer lists. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bt/tracker/announce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    char err[128];
    struct tracker_announce_resp r;
    int64_t a, b, c;
    uint64_t cid;
    uint32_t tx = 0;
    tracker_udp_txid(p, n, &tx);   /* make the transaction id match so parsers go deep */
    if (sel & 0x80)
        tx ^= 1;                    /* ... or not: someone else's (or a spoofed) reply */
    switch (sel % 6) {
    case 0:
        tracker_http_parse(p, n, &r, err, sizeof err);
        tracker_announce_resp_free(&r);
        break;
    case 1: {
        uint8_t ih[20];
        memset(ih, 'a', sizeof ih);
        tracker_scrape_parse(p, n, ih, &a, &b, &c);
        break;
    }
    case 2:
        tracker_udp_connect_parse(p, n, tx, &cid, err, sizeof err);
        break;
    case 3:
    case 4:
        tracker_udp_announce_parse(p, n, tx, sel % 6 == 4, &r, err, sizeof err);
        tracker_announce_resp_free(&r);
        break;
    default:
        tracker_udp_scrape_parse(p, n, tx, &a, &b, &c, err, sizeof err);
        break;
    }
    return 0;
}
