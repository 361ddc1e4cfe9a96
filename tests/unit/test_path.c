#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "util/path.h"
#include "util/log.h"

static void expect_comp(const char *in, size_t len, const char *want)
{
    int dropped = -1;
    char *s = path_sanitize_component(in, len, &dropped);
    if (!want) {
        assert_null(s);
        assert_int_equal(dropped, 1);
        return;
    }
    assert_non_null(s);
    assert_int_equal(dropped, 0);
    assert_string_equal(s, want);
    free(s);
}

static void components(void **state)
{
    (void)state;
    expect_comp("", 0, NULL);
    expect_comp(".", 1, NULL);
    expect_comp("..", 2, NULL);
    expect_comp("...", 3, "...");
    expect_comp(".hidden", 7, ".hidden");
    expect_comp("normal name.mkv", 15, "normal name.mkv");
    expect_comp("../../x", 7, ".._.._x");
    expect_comp("/etc/x", 6, "_etc_x");
    expect_comp("a/../../b", 9, "a_.._.._b");
    expect_comp("a\\b", 3, "a_b");
    expect_comp("nul\0name", 8, "nul_name");
    expect_comp("\0", 1, "_");
    expect_comp("tab\there\n", 9, "tab_here_");
    expect_comp("del\x7f", 4, "del_");
    expect_comp("c1\xc2\x85x", 5, "c1_x");                     /* U+0085 NEL */
    expect_comp("caf\xc3\xa9", 5, "caf\xc3\xa9");               /* valid UTF-8 kept */
    expect_comp("\xe6\x97\xa5\xe6\x9c\xac", 6, "\xe6\x97\xa5\xe6\x9c\xac");
    expect_comp("bad\xff\xfe", 5, "bad__");
    expect_comp("\xc0\xaf", 2, "__");                           /* overlong '/' */
    expect_comp("\xed\xa0\x80", 3, "___");                      /* surrogate */
    expect_comp("trunc\xe6\x97", 7, "trunc__");
}

static void long_names(void **state)
{
    (void)state;
    char in[600];
    int dropped;
    /* 300-byte ASCII name with an extension: 255 bytes, extension kept. */
    memset(in, 'a', 300);
    memcpy(in + 296, ".mkv", 4);
    char *s = path_sanitize_component(in, 300, &dropped);
    assert_int_equal(strlen(s), 255);
    assert_string_equal(s + 251, ".mkv");
    free(s);
    /* Multi-byte characters are never split. */
    for (int i = 0; i < 200; i++)
        memcpy(in + 3 * i, "\xe6\x97\xa5", 3);
    s = path_sanitize_component(in, 600, &dropped);
    assert_int_equal(strlen(s), 255);   /* 85 whole characters */
    assert_memory_equal(s + 252, "\xe6\x97\xa5", 3);
    free(s);
    memcpy(in, "x", 1);
    for (int i = 0; i < 130; i++)
        memcpy(in + 1 + 2 * i, "\xc3\xa9", 2);
    s = path_sanitize_component(in, 261, &dropped);
    assert_int_equal(strlen(s), 255);   /* "x" + 127 two-byte chars */
    free(s);
    /* A huge "extension" is not an extension. */
    memset(in, 'b', 10);
    in[10] = '.';
    memset(in + 11, 'c', 289);
    s = path_sanitize_component(in, 300, &dropped);
    assert_int_equal(strlen(s), 255);
    assert_memory_equal(s, "bbbbbbbbbb.ccc", 14);
    free(s);
    /* Exactly 255 stays. */
    memset(in, 'd', 255);
    s = path_sanitize_component(in, 255, &dropped);
    assert_int_equal(strlen(s), 255);
    free(s);
}

static void join(void **state)
{
    (void)state;
    char *s = path_join("/save", "a/b.txt");
    assert_string_equal(s, "/save/a/b.txt");
    free(s);
    s = path_join("/save/", "a");
    assert_string_equal(s, "/save/a");
    free(s);
    s = path_join("", "a");
    assert_string_equal(s, "a");
    free(s);
    s = path_join("/save", "...");
    assert_string_equal(s, "/save/...");
    free(s);
    const char *bad[] = {"/etc/passwd", "", "../x", "a/../x", "a/..", "a//b", "a/", "./a", "a/./b", ".."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_null(path_join("/save", bad[i]));
}

static void mkdirs(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/td_test_path_XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char dir[256], file[256];
    snprintf(dir, sizeof dir, "%s/a/b/c", tmpl);
    assert_int_equal(path_mkdirs(dir), 0);
    assert_int_equal(path_mkdirs(dir), 0);            /* idempotent */
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    snprintf(file, sizeof file, "%s/x//y/f.bin", tmpl);
    assert_int_equal(path_mkdirs_for(file), 0);
    snprintf(dir, sizeof dir, "%s/x/y", tmpl);
    assert_int_equal(stat(dir, &st), 0);
    snprintf(dir, sizeof dir, "%s/x/y/f.bin", tmpl);
    assert_int_not_equal(stat(dir, &st), 0);          /* the file itself is not made */

    /* A regular file in the way. */
    snprintf(file, sizeof file, "%s/plain", tmpl);
    FILE *f = fopen(file, "w");
    fclose(f);
    snprintf(dir, sizeof dir, "%s/plain/sub", tmpl);
    assert_int_equal(path_mkdirs(dir), -ENOTDIR);
    assert_int_equal(path_mkdirs(file), -ENOTDIR);
    assert_int_equal(path_mkdirs_for("nodir.txt"), 0);
    assert_int_equal(path_mkdirs(""), -EINVAL);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(components),
        cmocka_unit_test(long_names),
        cmocka_unit_test(join),
        cmocka_unit_test(mkdirs),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
