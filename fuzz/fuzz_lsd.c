/* Feeds arbitrary bytes to the BEP14 local service discovery parser as one
 * multicast datagram from anyone on the LAN; what it stores must respect
 * the bounds it promises. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bt/lsd.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        log_set_quiet(1);
        quiet = 1;
    }
    uint16_t port = 0;
    uint8_t hashes[4][20];
    size_t nh = 99;
    char cookie[17];
    memset(cookie, 'x', sizeof cookie);
    int rc = bt_lsd_parse(data, size, &port, hashes, 4, &nh, cookie, sizeof cookie);
    if (rc == 0) {
        if (port == 0 || nh == 0 || nh > 4)
            __builtin_trap();
        size_t cl = strnlen(cookie, sizeof cookie);
        if (cl == sizeof cookie)
            __builtin_trap();   /* not terminated */
        for (size_t i = 0; i < cl; i++)
            if ((unsigned char)cookie[i] < 0x20 || (unsigned char)cookie[i] == 0x7f)
                __builtin_trap();   /* promised printable */
    }
    /* no cookie buffer, one hash slot */
    bt_lsd_parse(data, size, &port, hashes, 1, &nh, NULL, 0);
    return 0;
}
