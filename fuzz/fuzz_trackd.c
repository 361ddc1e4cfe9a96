/* Feeds arbitrary queries to the embedded tracker's announce and scrape
 * (bt/tracker/trackd) as one long-lived tracker would get them: the first
 * byte picks scrape or announce, the socket's family and the clock step;
 * the rest is `key=value&...` split as libmicrohttpd would hand it over
 * (values are raw bytes: MHD has already percent-decoded them).  Every
 * reply must be one well-formed bencoded dictionary with sorted keys, and
 * the swarms must stay within their bounds. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bencode.h"
#include "bt/tracker/trackd.h"
#include "util/buf.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXP 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct trackd *td;
    static uint64_t now = 100000;
    if (!td) {
        log_set_quiet(1);
        td = trackd_new();
    }
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++, size--;
    struct trackd_param p[MAXP];
    size_t n = 0;
    size_t i = 0;
    while (i <= size && n < MAXP) {
        const uint8_t *seg = data + i;
        const uint8_t *amp = memchr(seg, '&', size - i);
        size_t len = amp ? (size_t)(amp - seg) : size - i;
        const uint8_t *eq = memchr(seg, '=', len);
        size_t kl = eq ? (size_t)(eq - seg) : len;
        p[n++] = (struct trackd_param){(const char *)seg, kl, eq ? eq + 1 : seg + len, eq ? len - kl - 1 : 0};
        i += len + 1;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (mode & 2) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr.s6_addr[15] = (uint8_t)(mode >> 4);
        if (mode & 4)
            inet_pton(AF_INET6, "::ffff:10.1.2.3", &s6->sin6_addr);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(0x0a000000u | (mode >> 4));
    }
    now += (mode & 8) ? TRACKD_EXPIRE_S / 3 : 1;
    struct buf out = {0};
    int rc = (mode & 1) ? trackd_scrape(td, p, n, &out)
                        : trackd_announce(td, p, n, (const struct sockaddr *)&ss, now, &out);
    if (rc == 0) {
        struct benc_doc *doc = NULL;
        if (benc_parse(buf_head(&out), buf_size(&out), NULL, 0, &doc, NULL, NULL, 0) != 0)
            __builtin_trap();
        if (benc_root(doc)->type != BENC_DICT || benc_doc_unsorted(doc))
            __builtin_trap();
        benc_doc_free(doc);
    }
    buf_free(&out);
    if (trackd_torrents(td) > TRACKD_MAX_TORRENTS || trackd_peers(td) > TRACKD_MAX_ALL_PEERS)
        __builtin_trap();
    if (mode == 0xff)
        trackd_expire(td, now);
    return 0;
}
