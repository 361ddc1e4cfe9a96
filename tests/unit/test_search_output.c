/* search/nova: the plugin output parser (qBittorrent's
 * SearchHandler::parseSearchResult and readSearchOutput) on good lines,
 * short lines, bad numbers, invalid UTF-8, and a stream cut anywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "search/nova.h"

static int parse(const char *line, struct nova_result *r)
{
    return nova_parse_line(line, strlen(line), r);
}

static void full_line(void **state)
{
    (void)state;
    struct nova_result r;
    assert_int_equal(parse(" http://x/1.torrent | A name |1536| 12 |3|http://site | http://x/d | 1700000000 ", &r),
                     0);
    assert_string_equal(r.file_url, "http://x/1.torrent");
    assert_string_equal(r.file_name, "A name");
    assert_int_equal(r.file_size, 1536);
    assert_int_equal(r.seeds, 12);
    assert_int_equal(r.leechers, 3);
    assert_string_equal(r.site_url, "http://site");
    assert_string_equal(r.descr_link, "http://x/d");
    assert_int_equal(r.pub_date, 1700000000);
    nova_result_free(&r);
}

/* Six fields are enough (4.5's printer); fewer are no result; extra
 * fields are ignored. */
static void field_counts(void **state)
{
    (void)state;
    struct nova_result r;
    assert_int_equal(parse("l|n|1|2|3|u", &r), 0);
    assert_string_equal(r.descr_link, "");
    assert_int_equal(r.pub_date, -1);
    nova_result_free(&r);
    assert_int_equal(parse("l|n|1|2|3|u|d", &r), 0);
    assert_string_equal(r.descr_link, "d");
    assert_int_equal(r.pub_date, -1);
    nova_result_free(&r);
    assert_int_equal(parse("l|n|1|2|3|u|d|5|extra|more", &r), 0);
    assert_int_equal(r.pub_date, 5);
    nova_result_free(&r);
    assert_int_equal(parse("l|n|1|2|3", &r), -EINVAL);
    assert_int_equal(parse("", &r), -EINVAL);
    assert_int_equal(parse("no separators at all", &r), -EINVAL);
    assert_int_equal(parse("|||||", &r), 0);   /* six empty fields */
    assert_string_equal(r.file_url, "");
    assert_int_equal(r.file_size, 0);
    assert_int_equal(r.seeds, -1);
    nova_result_free(&r);
}

/* toLongLong: sign and digits only; size 0 when not a number, counts -1
 * when not a number or negative, dates only when > 0. */
static void numbers(void **state)
{
    (void)state;
    struct nova_result r;
    assert_int_equal(parse("l|n|1.5 GB|x|-4|u|d|0", &r), 0);
    assert_int_equal(r.file_size, 0);
    assert_int_equal(r.seeds, -1);
    assert_int_equal(r.leechers, -1);
    assert_int_equal(r.pub_date, -1);
    nova_result_free(&r);
    assert_int_equal(parse("l|n|-1|+7|0|u|d|-5", &r), 0);
    assert_int_equal(r.file_size, -1);
    assert_int_equal(r.seeds, 7);
    assert_int_equal(r.leechers, 0);
    assert_int_equal(r.pub_date, -1);
    nova_result_free(&r);
    assert_int_equal(parse("l|n|9223372036854775807|99999999999999999999|1 2|u|d|12x", &r), 0);
    assert_int_equal(r.file_size, INT64_MAX);
    assert_int_equal(r.seeds, -1);
    assert_int_equal(r.leechers, -1);
    assert_int_equal(r.pub_date, -1);
    nova_result_free(&r);
}

/* Bytes that are no UTF-8, and NUL, become U+FFFD. */
static void invalid_utf8(void **state)
{
    (void)state;
    struct nova_result r;
    const char line[] = "l|a\xff\xc3(b\0c\xe2\x82\xac|1|1|1|u";
    assert_int_equal(nova_parse_line(line, sizeof line - 1, &r), 0);
    assert_string_equal(r.file_name, "a\xEF\xBF\xBD\xEF\xBF\xBD(b\xEF\xBF\xBD" "c\xe2\x82\xac");
    nova_result_free(&r);
}

struct collected {
    char *lines[64];
    size_t n;
};

static void collect(void *ud, const char *line, size_t len)
{
    struct collected *c = ud;
    assert_true(c->n < 64);
    c->lines[c->n] = strndup(line, len);
    assert_non_null(c->lines[c->n]);
    c->n++;
}

static void collected_free(struct collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->lines[i]);
    c->n = 0;
}

/* The same stream fed whole, byte by byte, and in odd chunks gives the
 * same lines; the tail without '\n' is never a line. */
static void lines_any_cut(void **state)
{
    (void)state;
    const char *s = "one\ntwo|x\n\nthree\nunfinished";
    size_t n = strlen(s);
    for (size_t step = 1; step <= n; step++) {
        struct nova_lines l = {0};
        struct collected c = {0};
        for (size_t i = 0; i < n; i += step)
            assert_int_equal(nova_lines_feed(&l, s + i, i + step <= n ? step : n - i, collect, &c), 0);
        assert_int_equal(c.n, 4);
        assert_string_equal(c.lines[0], "one");
        assert_string_equal(c.lines[1], "two|x");
        assert_string_equal(c.lines[2], "");
        assert_string_equal(c.lines[3], "three");
        collected_free(&c);
        nova_lines_free(&l);
    }
}

/* A line over NOVA_MAX_LINE is dropped whole, however it arrives, and the
 * next line is intact. */
static void lines_too_long(void **state)
{
    (void)state;
    size_t big = NOVA_MAX_LINE + 10;
    char *s = malloc(big + 16);
    assert_non_null(s);
    memset(s, 'L', big);
    memcpy(s + big, "\nok\n", 4);
    size_t n = big + 4;
    size_t steps[] = {n, 1000, 7, NOVA_MAX_LINE};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        struct nova_lines l = {0};
        struct collected c = {0};
        for (size_t i = 0; i < n; i += steps[k])
            nova_lines_feed(&l, s + i, i + steps[k] <= n ? steps[k] : n - i, collect, &c);
        assert_int_equal(c.n, 1);
        assert_string_equal(c.lines[0], "ok");
        assert_int_equal(l.skipped, 1);
        assert_true(l.cap <= NOVA_MAX_LINE * 2);
        collected_free(&c);
        nova_lines_free(&l);
    }
    /* exactly NOVA_MAX_LINE bytes is still a line */
    memset(s, 'x', NOVA_MAX_LINE);
    s[NOVA_MAX_LINE] = '\n';
    struct nova_lines l = {0};
    struct collected c = {0};
    nova_lines_feed(&l, s, 10, collect, &c);
    nova_lines_feed(&l, s + 10, NOVA_MAX_LINE + 1 - 10, collect, &c);
    assert_int_equal(c.n, 1);
    assert_int_equal(strlen(c.lines[0]), NOVA_MAX_LINE);
    collected_free(&c);
    nova_lines_free(&l);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_line),     cmocka_unit_test(field_counts),  cmocka_unit_test(numbers),
        cmocka_unit_test(invalid_utf8),  cmocka_unit_test(lines_any_cut), cmocka_unit_test(lines_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
