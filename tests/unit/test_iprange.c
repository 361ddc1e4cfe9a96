/* util/iprange: the eMule .dat, PeerGuardian .p2p and .p2b (v1, v2, v3)
 * parsers, fed whole and a byte at a time; malformed lines counted and
 * skipped; merging of overlapping and adjacent ranges; IPv4, IPv6 and
 * IPv4-mapped lookups at the edges.  A 1,000,000-range .dat is read the way
 * the daemon reads it (1 MiB chunks) and the time and memory are printed
 * (not asserted: machines differ). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "util/iprange.h"

static uint32_t v4(const char *s)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return ntohl(a.s_addr);
}

/* Parses text whole (chunk 0) or in chunks of `chunk` bytes. */
static struct iprange_set parse(enum iprange_format fmt, const void *data, size_t len, size_t chunk,
                                size_t *rules, size_t *errors, bool *bad)
{
    struct iprange_parser *p;
    assert_int_equal(iprange_parser_new(fmt, &p), 0);
    const uint8_t *d = data;
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t off = 0; off < len; off += chunk)
        assert_int_equal(iprange_parser_feed(p, d + off, len - off < chunk ? len - off : chunk), 0);
    struct iprange_set s;
    struct iprange_stats st;
    assert_int_equal(iprange_parser_finish(p, &s, &st), 0);
    if (rules)
        *rules = st.rules;
    if (errors)
        *errors = st.errors;
    if (bad)
        *bad = st.bad;
    return s;
}

static void formats_by_extension(void **state)
{
    (void)state;
    assert_int_equal(iprange_format_of("/x/ipfilter.dat"), IPRANGE_DAT);
    assert_int_equal(iprange_format_of("/x/level1.P2P"), IPRANGE_P2P);
    assert_int_equal(iprange_format_of("a.p2b"), IPRANGE_P2B);
    assert_int_equal(iprange_format_of("a.txt"), IPRANGE_NONE);
    assert_int_equal(iprange_format_of("/x.dat/file"), IPRANGE_NONE);
    assert_int_equal(iprange_format_of(""), IPRANGE_NONE);
    struct iprange_parser *p;
    assert_int_equal(iprange_parser_new(IPRANGE_NONE, &p), -EINVAL);
}

static const char dat[] =
    "# comment\n"
    "// another comment\n"
    "001.009.096.105 - 001.009.096.105 , 000 , Some organization\n"
    "10.0.0.0 - 10.0.0.255 , 100 , blocked range\r\n"
    "10.0.1.0 - 10.0.1.255 , 128 , allowed: level above 127\n"
    "10.0.2.0-10.0.2.9\n"                         /* no level, no description */
    "\n"
    "10.0.3.0 - 10.0.3.5 , 127 , at the limit\n"
    "2001:db8::1 - 2001:db8::ff , 0 , IPv6\n"
    "this is not a range\n"                       /* malformed: 1 */
    "1.2.3.4 - 2001:db8::1 , 0 , mixed\n"         /* malformed: 2 */
    "9.9.9.9 - 1.1.1.1 , 0 , backwards\n"         /* malformed: 3 */
    "256.1.1.1 - 256.1.1.2 , 0 , bad octet\n"     /* malformed: 4 */
    "127.0.0.2 - 127.0.0.2";                      /* last line, no newline */

static void check_dat(const struct iprange_set *s)
{
    assert_true(iprange_has_v4(s, v4("1.9.96.105")));
    assert_false(iprange_has_v4(s, v4("1.9.96.104")));
    assert_false(iprange_has_v4(s, v4("1.9.96.106")));
    assert_true(iprange_has_v4(s, v4("10.0.0.0")));
    assert_true(iprange_has_v4(s, v4("10.0.0.255")));
    assert_false(iprange_has_v4(s, v4("10.0.1.7")));    /* allowed */
    assert_true(iprange_has_v4(s, v4("10.0.2.9")));
    assert_false(iprange_has_v4(s, v4("10.0.2.10")));
    assert_true(iprange_has_v4(s, v4("10.0.3.5")));
    assert_true(iprange_has_text(s, "127.0.0.2"));
    assert_false(iprange_has_text(s, "127.0.0.1"));
    assert_true(iprange_has_text(s, "2001:db8::80"));
    assert_false(iprange_has_text(s, "2001:db8::100"));
    assert_true(iprange_has_text(s, "::ffff:10.0.0.7"));  /* mapped: looked up as IPv4 */
    assert_false(iprange_has_text(s, "not an address"));
}

static void dat_format(void **state)
{
    (void)state;
    size_t chunks[] = {0, 1, 2, 7, 64};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        size_t rules, errors;
        struct iprange_set s = parse(IPRANGE_DAT, dat, strlen(dat), chunks[i], &rules, &errors, NULL);
        assert_int_equal(rules, 6);
        assert_int_equal(errors, 4);
        check_dat(&s);
        iprange_set_free(&s);
    }
    struct iprange_parser *p;
    assert_int_equal(iprange_parser_new(IPRANGE_DAT, &p), 0);
    assert_int_equal(iprange_parser_feed(p, (const uint8_t *)"\n\n1.1.1.1-1.1.1.1\nbad\nbad", 26), 0);
    assert_int_equal(iprange_parser_rules(p), 1);
    struct iprange_set s;
    struct iprange_stats st;
    assert_int_equal(iprange_parser_finish(p, &s, &st), 0);
    assert_int_equal(st.first_error_line, 4);
    assert_int_equal(st.errors, 2);
    iprange_set_free(&s);
}

static void p2p_format(void **state)
{
    (void)state;
    static const char p2p[] =
        "# PeerGuardian\n"
        "Some:Org:Label:1.0.0.0-1.255.255.255\n"
        "Dashed-Name - Inc:5.5.5.5-5.5.5.10\n"
        "My:Company:Label:2001:db8::1-2001:db8::ff\n"
        "3.2.3.4-3.2.3.5\n"                       /* no name: malformed */
        "name:1.2.3.4\n"                          /* no range: malformed */
        "name:bogus-1.2.3.5\n";                   /* malformed */
    size_t rules, errors;
    struct iprange_set s = parse(IPRANGE_P2P, p2p, strlen(p2p), 3, &rules, &errors, NULL);
    assert_int_equal(rules, 3);
    assert_int_equal(errors, 3);
    assert_true(iprange_has_text(&s, "1.128.0.1"));
    assert_false(iprange_has_text(&s, "2.0.0.0"));
    assert_true(iprange_has_text(&s, "5.5.5.10"));
    assert_false(iprange_has_text(&s, "5.5.5.11"));
    assert_true(iprange_has_text(&s, "2001:db8::1"));
    assert_false(iprange_has_text(&s, "3.2.3.4"));
    iprange_set_free(&s);
}

static size_t put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
    return 4;
}

static void p2b_formats(void **state)
{
    (void)state;
    uint8_t b[256];
    for (int version = 1; version <= 2; version++) {
        size_t n = 0;
        memcpy(b, "\xFF\xFF\xFF\xFFP2B", 7);
        n = 7;
        b[n++] = (uint8_t)version;
        memcpy(b + n, "first", 6);
        n += 6;
        n += put32(b + n, v4("127.0.0.2"));
        n += put32(b + n, v4("127.0.0.3"));
        memcpy(b + n, "", 1);
        n += 1;   /* an empty name */
        n += put32(b + n, v4("192.168.0.0"));
        n += put32(b + n, v4("192.168.255.255"));
        for (size_t chunk = 0; chunk <= 5; chunk += 5) {
            size_t rules;
            bool bad;
            struct iprange_set s = parse(IPRANGE_P2B, b, n, chunk, &rules, NULL, &bad);
            assert_false(bad);
            assert_int_equal(rules, 2);
            assert_true(iprange_has_text(&s, "127.0.0.3"));
            assert_false(iprange_has_text(&s, "127.0.0.4"));
            assert_true(iprange_has_text(&s, "192.168.7.7"));
            iprange_set_free(&s);
        }
        /* Truncated in the last record: the first range stays, and it is bad. */
        size_t rules;
        bool bad;
        struct iprange_set s = parse(IPRANGE_P2B, b, n - 3, 0, &rules, NULL, &bad);
        assert_true(bad);
        assert_int_equal(rules, 1);
        assert_true(iprange_has_text(&s, "127.0.0.2"));
        iprange_set_free(&s);
    }
    /* v3: a name table, then (name index, first, last) triples. */
    size_t n = 0;
    memcpy(b, "\xFF\xFF\xFF\xFFP2B\x03", 8);
    n = 8;
    n += put32(b + n, 2);
    memcpy(b + n, "one\0two", 8);
    n += 8;
    n += put32(b + n, 2);
    n += put32(b + n, 0);
    n += put32(b + n, v4("127.0.0.5"));
    n += put32(b + n, v4("127.0.0.5"));
    n += put32(b + n, 1);
    n += put32(b + n, v4("8.8.8.0"));
    n += put32(b + n, v4("8.8.8.255"));
    memcpy(b + n, "trailing junk", 13);
    n += 13;
    size_t rules;
    bool bad;
    struct iprange_set s = parse(IPRANGE_P2B, b, n, 1, &rules, NULL, &bad);
    assert_false(bad);
    assert_int_equal(rules, 2);
    assert_true(iprange_has_text(&s, "127.0.0.5"));
    assert_false(iprange_has_text(&s, "127.0.0.6"));
    assert_true(iprange_has_text(&s, "8.8.8.8"));
    iprange_set_free(&s);
    /* Not a p2b, an unknown version. */
    s = parse(IPRANGE_P2B, "\xFF\xFF\xFF\xFFP2X\x01", 8, 0, &rules, NULL, &bad);
    assert_true(bad);
    assert_int_equal(rules, 0);
    iprange_set_free(&s);
    s = parse(IPRANGE_P2B, "\xFF\xFF\xFF\xFFP2B\x09", 8, 0, &rules, NULL, &bad);
    assert_true(bad);
    iprange_set_free(&s);
}

static void merging(void **state)
{
    (void)state;
    static const char text[] =
        "10.0.0.10 - 10.0.0.20 , 0 , a\n"
        "10.0.0.15 - 10.0.0.30 , 0 , overlaps a\n"
        "10.0.0.31 - 10.0.0.40 , 0 , adjacent\n"
        "10.0.0.42 - 10.0.0.42 , 0 , a gap of one before\n"
        "10.0.0.0 - 10.0.0.50 , 0 , inside\n"
        "255.255.255.0 - 255.255.255.255 , 0 , the top\n"
        "255.255.255.255 - 255.255.255.255 , 0 , again\n"
        "0.0.0.0 - 0.0.0.0 , 0 , the bottom\n"
        ":: - ::1 , 0 , six\n"
        "::2 - ::5 , 0 , adjacent six\n"
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0 - ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff , 0 , top\n"
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff - ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff , 0 , top\n";
    struct iprange_set s = parse(IPRANGE_DAT, text, strlen(text), 0, NULL, NULL, NULL);
    assert_int_equal(s.n4, 3);
    assert_int_equal(s.v4[0].first, 0);
    assert_int_equal(s.v4[1].first, v4("10.0.0.0"));
    assert_int_equal(s.v4[1].last, v4("10.0.0.50"));
    assert_int_equal(s.v4[2].last, UINT32_MAX);
    assert_true(iprange_has_v4(&s, 0));
    assert_false(iprange_has_v4(&s, 1));
    assert_true(iprange_has_v4(&s, UINT32_MAX));
    assert_false(iprange_has_v4(&s, v4("255.255.254.255")));
    assert_int_equal(s.n6, 2);
    assert_true(iprange_has_text(&s, "::5"));
    assert_false(iprange_has_text(&s, "::6"));
    assert_true(iprange_has_text(&s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_int_equal(iprange_set_bytes(&s), 3 * 8 + 2 * 32);
    iprange_set_free(&s);
    /* An empty set answers no to everything. */
    s = parse(IPRANGE_DAT, "", 0, 0, NULL, NULL, NULL);
    assert_false(iprange_has_text(&s, "1.2.3.4"));
    assert_false(iprange_has_text(&s, "::1"));
    iprange_set_free(&s);
}

static void long_lines(void **state)
{
    (void)state;
    size_t n = IPRANGE_MAX_LINE * 3;
    char *big = malloc(n + 64);
    assert_non_null(big);
    memset(big, 'x', n);
    strcpy(big + n, "\n1.1.1.1 - 1.1.1.1\n");
    size_t rules, errors;
    struct iprange_set s = parse(IPRANGE_DAT, big, strlen(big), 100, &rules, &errors, NULL);
    assert_int_equal(rules, 1);
    assert_int_equal(errors, 1);
    assert_true(iprange_has_text(&s, "1.1.1.1"));
    iprange_set_free(&s);
    free(big);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A million eMule lines written to a file, read back in 1 MiB chunks as
 * core/ipfilter.c does; prints seconds and the memory the process grew by. */
static void million_ranges(void **state)
{
    (void)state;
    char path[] = "/tmp/td_iprange_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    uint32_t x = 12345;
    for (unsigned i = 0; i < 1000000; i++) {
        x = x * 1103515245u + 12345u;   /* scattered, some overlapping */
        uint32_t a = x & 0xffffff00u, b = a + (x >> 24);
        fprintf(f, "%03u.%03u.%03u.%03u - %03u.%03u.%03u.%03u , 000 , Organization number %u\n", a >> 24,
                (a >> 16) & 255, (a >> 8) & 255, a & 255, b >> 24, (b >> 16) & 255, (b >> 8) & 255, b & 255, i);
    }
    fclose(f);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double t0 = now_s();
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    uint8_t *buf = malloc(1u << 20);
    struct iprange_parser *p;
    assert_int_equal(iprange_parser_new(IPRANGE_DAT, &p), 0);
    size_t n, bytes = 0;
    while ((n = fread(buf, 1, 1u << 20, in)) > 0) {
        assert_int_equal(iprange_parser_feed(p, buf, n), 0);
        bytes += n;
    }
    fclose(in);
    free(buf);
    struct iprange_set s;
    struct iprange_stats st;
    assert_int_equal(iprange_parser_finish(p, &s, &st), 0);
    size_t rules = st.rules;
    double t1 = now_s();
    getrusage(RUSAGE_SELF, &ru1);
    assert_int_equal(rules, 1000000);
    /* lookups */
    double t2 = now_s();
    size_t hits = 0;
    for (uint32_t i = 0; i < 1000000; i++)
        hits += iprange_has_v4(&s, i * 4294u);
    double t3 = now_s();
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    printf("iprange: 1,000,000 ranges (%.1f MB of .dat) loaded in %.3f s (%.3f s CPU); %zu merged intervals, "
           "%.1f MiB; peak RSS grew %.1f MiB (%.1f MiB total); 1M lookups in %.3f s (%zu hits)\n",
           (double)bytes / 1e6, t1 - t0, cpu, s.n4, (double)iprange_set_bytes(&s) / (1 << 20),
           (double)(ru1.ru_maxrss - ru0.ru_maxrss) / 1024, (double)ru1.ru_maxrss / 1024, t3 - t2, hits);
    iprange_set_free(&s);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_by_extension), cmocka_unit_test(dat_format), cmocka_unit_test(p2p_format),
        cmocka_unit_test(p2b_formats),          cmocka_unit_test(merging),    cmocka_unit_test(long_lines),
        cmocka_unit_test(million_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
