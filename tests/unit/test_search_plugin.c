/* search/nova: what qBittorrent reads of a plugin and of its runner —
 * "#VERSION:" headers (Utils::Version<2>, readLine(16) chunks), the
 * --capabilities XML, versions.txt, plugin names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "search/nova.h"

static int ver(const char *src, struct nova_version *v)
{
    return nova_version_of_source(src, strlen(src), v, NULL, 0);
}

static void versions(void **state)
{
    (void)state;
    struct nova_version v;
    char buf[24];
    assert_int_equal(ver("#VERSION: 1.00\n# AUTHORS: x\n", &v), 0);
    assert_int_equal(v.major, 1);
    assert_int_equal(v.minor, 0);
    nova_version_str(v, buf, sizeof buf);
    assert_string_equal(buf, "1.0");
    assert_int_equal(ver("# comment\n#version : 2.13\r\n", &v), 0);   /* case and spaces */
    nova_version_str(v, buf, sizeof buf);
    assert_string_equal(buf, "2.13");
    assert_int_equal(ver("import os\n", &v), -ENOENT);
    assert_int_equal(v.major, 0);
    char bad[32];
    assert_int_equal(nova_version_of_source("#VERSION: 1.2.3\n", 16, &v, bad, sizeof bad), -EINVAL);
    assert_string_equal(bad, "1.2.3");
    assert_int_equal(ver("#VERSION: 0.0\n", &v), -EINVAL);   /* not valid: both zero */
    assert_int_equal(ver("#VERSION: abc\n", &v), -EINVAL);
    /* only the first #VERSION: line counts */
    assert_int_equal(ver("#VERSION: x\n#VERSION: 3.1\n", &v), -EINVAL);
    /* read in 15-byte chunks: a long line's tail is read as a line of its
     * own, and a #VERSION: far into a line is not seen from its start */
    assert_int_equal(ver("# ..............#VERSION: 4.2\n", &v), -ENOENT);
    assert_int_equal(ver("#  version :  2.13\n", &v), -EINVAL);   /* the chunk ends at "2" */
    assert_int_equal(ver("#123456789abcde#VERSION:4.2\n", &v), 0);
    assert_int_equal(v.major, 4);
    /* the value is cut at 15 bytes of the line (spaces count before removal) */
    assert_int_equal(ver("#VERSION: 1.123456789\n", &v), 0);
    nova_version_str(v, buf, sizeof buf);
    assert_string_equal(buf, "1.123");
}

static void version_compare(void **state)
{
    (void)state;
    struct nova_version a, b;
    assert_int_equal(nova_version_parse("1.9", 3, &a), 0);
    assert_int_equal(nova_version_parse("1.10", 4, &b), 0);
    assert_true(nova_version_cmp(a, b) < 0);   /* numbers, not text */
    assert_int_equal(nova_version_parse("2", 1, &a), -EINVAL);
    assert_int_equal(nova_version_parse("-1.5", 4, &a), -EINVAL);
    assert_int_equal(nova_version_parse("1.", 2, &a), -EINVAL);
    assert_int_equal(nova_version_parse("0.1", 3, &a), 0);
    assert_true(nova_version_valid(a));
}

static void capabilities(void **state)
{
    (void)state;
    const char *xml = "<capabilities>\n"
                      "  <dummy>\n    <name>Dummy &amp; Co</name>\n    <url>http://d.example</url>\n"
                      "    <categories>movies tv</categories>\n  </dummy>\n"
                      "  <bare><name>Bare</name><url>http://b</url><categories /></bare>\n"
                      "  <nourl><name>N</name></nourl>\n"
                      "</capabilities>\n";
    struct nova_engine *e;
    size_t n;
    assert_int_equal(nova_caps_parse(xml, strlen(xml), &e, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(e[0].name, "dummy");
    assert_string_equal(e[0].full_name, "Dummy & Co");
    assert_string_equal(e[0].url, "http://d.example");
    assert_int_equal(e[0].num_cats, 2);
    assert_string_equal(e[0].cats[0], "movies");
    assert_string_equal(e[0].cats[1], "tv");
    assert_int_equal(e[1].num_cats, 0);
    assert_string_equal(e[2].url, "");
    nova_engines_free(e, n);

    assert_int_equal(nova_caps_parse("<capabilities/>", 15, &e, &n), 0);
    assert_int_equal(n, 0);
    nova_engines_free(e, n);
    assert_int_equal(nova_caps_parse("", 0, &e, &n), -EBADMSG);
    assert_int_equal(nova_caps_parse("<other><a/></other>", 19, &e, &n), -EBADMSG);
    assert_int_equal(nova_caps_parse("<capabilities><a>", 17, &e, &n), -EBADMSG);
    assert_null(e);
}

struct seen {
    char names[8][32];
    struct nova_version v[8];
    size_t n;
};

static void note(void *ud, const char *name, struct nova_version v)
{
    struct seen *s = ud;
    assert_true(s->n < 8);
    strcpy(s->names[s->n], name);
    s->v[s->n++] = v;
}

static void versions_txt(void **state)
{
    (void)state;
    const char *t = "# qBittorrent plugin versions\n\neztv: 1.16\n  piratebay : 3.07 \r\nbad line\nx: 1.2.3\n"
                    "../evil: 9.0\n";
    struct seen s = {0};
    size_t invalid;
    assert_int_equal(nova_versions_parse(t, strlen(t), note, &s, &invalid), 3);
    assert_int_equal(invalid, 2);
    assert_int_equal(s.n, 2);   /* the path-like name is counted valid but never used */
    assert_string_equal(s.names[0], "eztv");
    assert_int_equal(s.v[0].minor, 16);
    assert_string_equal(s.names[1], "piratebay");
    assert_int_equal(s.v[1].major, 3);
}

static void names(void **state)
{
    (void)state;
    assert_true(nova_name_ok("eztv"));
    assert_true(nova_name_ok("limetorrents_2"));
    assert_false(nova_name_ok(""));
    assert_false(nova_name_ok("../x"));
    assert_false(nova_name_ok("a.b"));
    assert_false(nova_name_ok("a b"));
    assert_false(nova_name_ok("-rf"));
    assert_false(nova_name_ok(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(versions),     cmocka_unit_test(version_compare), cmocka_unit_test(capabilities),
        cmocka_unit_test(versions_txt), cmocka_unit_test(names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
