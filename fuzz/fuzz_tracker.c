/* Tracker replies are attacker-controlled: HTTP announce/scrape bodies and
 * UDP datagrams.  The first byte picks the parser; the rest is the input. */
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
