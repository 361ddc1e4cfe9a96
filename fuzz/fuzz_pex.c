/* Feeds arbitrary bytes to the BEP11 ut_pex parser as a peer's payload; a
 * parsed message must respect the header's bounds, survive a rebuild and
 * re-parse unchanged, and drive the per-connection diff. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bt/pex.h"
#include "util/buf.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_peers(const struct bt_pex_peer *p, size_t n, bool dropped)
{
    if (n > 2 * BT_PEX_MAX_PEERS)   /* IPv4 and IPv6 lists are bounded each */
        __builtin_trap();
    for (size_t i = 0; i < n; i++) {
        const struct sockaddr_storage *a = &p[i].addr;
        uint16_t port = a->ss_family == AF_INET ? ((const struct sockaddr_in *)a)->sin_port
                        : a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
                                                   : 0;
        if (port == 0 || (dropped && p[i].flags))
            __builtin_trap();
    }
}

/* Per-family counts, for bt_pex_build's per-list bound. */
static void counts(const struct bt_pex_peer *p, size_t n, size_t *v4, size_t *v6)
{
    *v4 = *v6 = 0;
    for (size_t i = 0; i < n; i++)
        (p[i].addr.ss_family == AF_INET ? v4 : v6)[0]++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        log_set_quiet(1);
        quiet = 1;
    }
    struct bt_pex_msg m;
    int rc = bt_pex_parse(data, size, &m);
    if (rc != 0) {
        if (m.num_added || m.num_dropped)
            __builtin_trap();   /* on error *out is empty */
        bt_pex_msg_free(&m);
        return 0;
    }
    check_peers(m.added, m.num_added, false);
    check_peers(m.dropped, m.num_dropped, true);

    size_t a4, a6, d4, d6;
    counts(m.added, m.num_added, &a4, &a6);
    counts(m.dropped, m.num_dropped, &d4, &d6);
    struct buf b = BUF_INIT;
    if (bt_pex_build(&b, m.added, m.num_added, m.dropped, m.num_dropped) == 0) {
        struct bt_pex_msg r;
        if (bt_pex_parse(buf_head(&b), buf_size(&b), &r) != 0 || r.num_added != m.num_added ||
            r.num_dropped != m.num_dropped)
            __builtin_trap();
        for (size_t i = 0; i < r.num_added; i++)
            if (r.added[i].flags != m.added[i].flags)
                __builtin_trap();
        bt_pex_msg_free(&r);
    } else if (a4 <= BT_PEX_MAX_PEERS && a6 <= BT_PEX_MAX_PEERS && d4 <= BT_PEX_MAX_PEERS &&
               d6 <= BT_PEX_MAX_PEERS && b.cap) {
        __builtin_trap();   /* within bounds only OOM may fail */
    }
    buf_free(&b);

    /* The peers told to us as our own current set, twice a minute apart:
     * the second diff has nothing new to say. */
    struct bt_pex_state *st;
    if (bt_pex_state_new(&st) == 0) {
        struct buf o = BUF_INIT;
        bt_pex_state_diff(st, m.added, m.num_added, 1000, &o);
        buf_reset(&o);
        for (int k = 2; k < 12; k++)   /* the rest of a long list, 50 at a time */
            bt_pex_state_diff(st, m.added, m.num_added, 1000 + (uint64_t)k * BT_PEX_INTERVAL_MS, &o);
        buf_reset(&o);
        if (bt_pex_state_diff(st, m.added, m.num_added, 1000 + 13ull * BT_PEX_INTERVAL_MS, &o) == 1 &&
            m.num_added <= 10 * BT_PEX_SEND_MAX)
            __builtin_trap();
        bt_pex_state_diff(st, NULL, 0, 1000 + 14ull * BT_PEX_INTERVAL_MS, &o);
        buf_free(&o);
        bt_pex_state_free(st);
    }
    bt_pex_msg_free(&m);
    return 0;
}
