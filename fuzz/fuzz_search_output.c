/* What a search plugin prints is untrusted: the daemon cuts its stdout
 * into lines (search/nova nova_lines, reads of any size) and parses each
 * as a result.  The input is that stdout; its first byte picks the read
 * size.  Checks: fed whole or in pieces the same lines come out, every
 * parsed string is valid UTF-8 without NUL, counts are -1 or more.  The
 * same bytes also go through the capabilities XML, versions.txt and
 * #VERSION: readers (the runner's and the update server's output). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search/nova.h"
#include "util/utf8.h"

struct tally {
    size_t lines, results;
    uint64_t sum;   /* of line lengths */
};

static void check_str(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (k == 0)
            abort();
        i += k;
    }
}

static void on_line(void *ud, const char *line, size_t len)
{
    struct tally *t = ud;
    t->lines++;
    t->sum += len;
    if (len > NOVA_MAX_LINE || memchr(line, '\n', len))
        abort();
    struct nova_result r;
    if (nova_parse_line(line, len, &r) != 0)
        return;
    t->results++;
    check_str(r.file_url);
    check_str(r.file_name);
    check_str(r.site_url);
    check_str(r.descr_link);
    if (r.seeds < -1 || r.leechers < -1 || (r.pub_date != -1 && r.pub_date <= 0))
        abort();
    nova_result_free(&r);
}

static void on_version(void *ud, const char *name, struct nova_version v)
{
    (void)ud;
    if (!nova_name_ok(name) || !nova_version_valid(v))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4 * NOVA_MAX_LINE)
        return 0;
    size_t step = (size_t)data[0] * 37 + 1;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;

    struct nova_lines whole = {0}, cut = {0};
    struct tally a = {0}, b = {0};
    nova_lines_feed(&whole, s, n, on_line, &a);
    for (size_t i = 0; i < n; i += step)
        nova_lines_feed(&cut, s + i, i + step <= n ? step : n - i, on_line, &b);
    if (a.lines != b.lines || a.results != b.results || a.sum != b.sum || whole.skipped != cut.skipped)
        abort();
    nova_lines_free(&whole);
    nova_lines_free(&cut);

    struct nova_engine *e;
    size_t ne;
    if (nova_caps_parse(s, n, &e, &ne) == 0)
        nova_engines_free(e, ne);
    size_t invalid;
    nova_versions_parse(s, n, on_version, NULL, &invalid);
    struct nova_version v;
    char bad[32];
    if (nova_version_of_source(s, n, &v, bad, sizeof bad) == 0 && !nova_version_valid(v))
        abort();
    return 0;
}
