/* Feeds arbitrary bytes to the IP filter parsers (util/iprange): the first
 * byte picks the format (.dat, .p2p, .p2b) and a chunk size, the rest is the
 * file, fed in chunks as core/ipfilter.c feeds a real one.  The built set
 * must be sorted, merged and bounded, every range read must be found by
 * lookups at its ends, and feeding the same bytes whole must give the same
 * set. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/iprange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool build(enum iprange_format fmt, const uint8_t *d, size_t n, size_t chunk, struct iprange_set *out,
                  struct iprange_stats *st)
{
    struct iprange_parser *p;
    if (iprange_parser_new(fmt, &p) != 0)
        return false;
    for (size_t off = 0; off < n; off += chunk)
        if (iprange_parser_feed(p, d + off, n - off < chunk ? n - off : chunk) != 0) {
            iprange_parser_free(p);
            return false;
        }
    return iprange_parser_finish(p, out, st) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const enum iprange_format fmts[] = {IPRANGE_DAT, IPRANGE_P2P, IPRANGE_P2B};
    enum iprange_format fmt = fmts[data[0] % 3];
    size_t chunk = (size_t)(data[0] >> 2) + 1;
    const uint8_t *d = data + 1;
    size_t n = size - 1;

    struct iprange_set a, b;
    struct iprange_stats sa, sb;
    if (!build(fmt, d, n, chunk, &a, &sa))
        return 0;
    if (!build(fmt, d, n, n ? n : 1, &b, &sb))
        __builtin_trap();   /* only OOM may fail, and it did not the first time */
    if (sa.rules != sb.rules || sa.errors != sb.errors || sa.bad != sb.bad || a.n4 != b.n4 || a.n6 != b.n6 ||
        (a.n4 && memcmp(a.v4, b.v4, a.n4 * sizeof *a.v4)) || (a.n6 && memcmp(a.v6, b.v6, a.n6 * sizeof *a.v6)))
        __builtin_trap();   /* chunking must not change the result */
    if (a.n4 + a.n6 > sa.rules || sa.rules > IPRANGE_MAX_RANGES)
        __builtin_trap();
    for (size_t i = 0; i < a.n4; i++) {
        if (a.v4[i].first > a.v4[i].last)
            __builtin_trap();
        if (i > 0 && (uint64_t)a.v4[i - 1].last + 1 >= a.v4[i].first)
            __builtin_trap();   /* sorted, merged, not adjacent */
        if (!iprange_has_v4(&a, a.v4[i].first) || !iprange_has_v4(&a, a.v4[i].last))
            __builtin_trap();
        if (a.v4[i].first > 0 && iprange_has_v4(&a, a.v4[i].first - 1))
            __builtin_trap();
    }
    for (size_t i = 0; i < a.n6; i++) {
        if (memcmp(a.v6[i].first, a.v6[i].last, 16) > 0)
            __builtin_trap();
        if (i > 0 && memcmp(a.v6[i - 1].last, a.v6[i].first, 16) >= 0)
            __builtin_trap();
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a.v6[i].first, mapped, 12) != 0 && !iprange_has_v6(&a, a.v6[i].first))
            __builtin_trap();
    }
    iprange_set_free(&a);
    iprange_set_free(&b);
    return 0;
}
