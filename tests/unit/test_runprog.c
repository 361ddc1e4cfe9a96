/* core/runprog's argv splitter, placeholder expansion and µTorrent state
 * numbers; core/export's file names.  The expected words are what
 * qBittorrent 5.1 (Utils::String::splitCommand + "strip redundant quotes"
 * + replaceVariables in Application::runExternalProgram) makes of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/export.h"
#include "core/runprog.h"
#include "core/torrent_status.h"
#include "util/log.h"

static void expect_split(const char *cmd, const char *const *want, size_t n)
{
    char **v = NULL;
    size_t argc = 99;
    assert_int_equal(runprog_split(cmd, &v, &argc), 0);
    assert_int_equal(argc, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(v[i], want[i]);
    assert_null(v[n]);
    runprog_argv_free(v);
}

#define SPLIT(cmd, ...)                                                        \
    do {                                                                       \
        const char *const w_[] = {__VA_ARGS__};                                \
        expect_split(cmd, w_, sizeof w_ / sizeof w_[0]);                       \
    } while (0)

static void split(void **state)
{
    (void)state;
    SPLIT("/bin/prog a b", "/bin/prog", "a", "b");
    SPLIT("  /bin/prog   a  ", "/bin/prog", "a");
    /* quotes group words and stay unless they enclose the whole word */
    SPLIT("/bin/prog \"a b\" c", "/bin/prog", "a b", "c");
    SPLIT("/bin/prog --name=\"%N\"", "/bin/prog", "--name=\"%N\"");
    SPLIT("/bin/prog \"\" x", "/bin/prog", "", "x");   /* an empty argument survives */
    SPLIT("/bin/prog a\"b c\"d", "/bin/prog", "a\"b c\"d");
    SPLIT("\"/opt/my prog\" %N", "/opt/my prog", "%N");
    /* only spaces separate: a tab is part of a word */
    SPLIT("/bin/prog a\tb", "/bin/prog", "a\tb");
    /* an unclosed quote runs to the end */
    SPLIT("/bin/prog \"a b", "/bin/prog", "\"a b");
    SPLIT("/bin/prog \"", "/bin/prog", "");
    char **v = NULL;
    size_t argc = 9;
    assert_int_equal(runprog_split("   ", &v, &argc), 0);
    assert_int_equal(argc, 0);
    assert_null(v[0]);
    runprog_argv_free(v);
}

static const char *vals(void *ud, char c)
{
    (void)ud;
    switch (c) {
    case 'N': return "x\"; rm -rf ~; $(id) `id`\n-y";
    case 'I': return "0123abcd";
    case 'L': return "";
    case 'P': return "%N";   /* a value that looks like a placeholder stays as it is */
    default: return NULL;
    }
}

static void expect_expand(const char *w, const char *want)
{
    char *s = runprog_expand(w, vals, NULL);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void expand(void **state)
{
    (void)state;
    expect_expand("%N", "x\"; rm -rf ~; $(id) `id`\n-y");
    expect_expand("--name=%N.", "--name=x\"; rm -rf ~; $(id) `id`\n-y.");
    expect_expand("%I%I", "0123abcd0123abcd");
    expect_expand("[%L]", "[]");
    expect_expand("%P", "%N");            /* never expanded twice */
    expect_expand("%%I", "%0123abcd");    /* qBittorrent: right to left, the char left of a '%' skipped */
    expect_expand("%%%I", "%%0123abcd");
    expect_expand("%X%I", "%X0123abcd");  /* unknown letters stay */
    expect_expand("100%", "100%");
    expect_expand("%", "%");
    expect_expand("", "");
    expect_expand("a%Ib", "a0123abcdb");
}

static void split_then_expand(void **state)
{
    (void)state;
    /* The order that makes hostile names harmless: split, then fill in. */
    char **v = NULL;
    size_t n = 0;
    assert_int_equal(runprog_split("/bin/echo %N \"%I\" --l=%L", &v, &n), 0);
    assert_int_equal(n, 4);
    const char *want[] = {"/bin/echo", "x\"; rm -rf ~; $(id) `id`\n-y", "0123abcd", "--l="};
    for (size_t i = 0; i < n; i++) {
        char *e = runprog_expand(v[i], vals, NULL);
        assert_string_equal(e, want[i]);
        free(e);
    }
    runprog_argv_free(v);
}

static void ut_states(void **state)
{
    (void)state;
    assert_int_equal(runprog_ut_state(TORRENT_STATE_ERROR, 0), 1);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_MISSING_FILES, 0), 1);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_CHECKING_DL, 0), 2);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_CHECKING_UP, 0), 2);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_UPLOADING, 1), 4);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_STALLED_UP, 0), 5);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_UPLOADING, 0), 5);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_DOWNLOADING, 0), 6);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_STALLED_DL, 0), 6);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_METADATA, 0), 6);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_UPLOADING_FORCED, 1), 7);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_UPLOADING_FORCED, 0), 8);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_DOWNLOADING_FORCED, 0), 9);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_METADATA_FORCED, 0), 9);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_QUEUED_UP, 0), 10);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_STOPPED_UP, 0), 11);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_QUEUED_DL, 0), 12);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_STOPPED_DL, 0), 13);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_MOVING, 0), 0);
    assert_int_equal(runprog_ut_state(TORRENT_STATE_CHECKING_RESUME, 0), 0);
}

static void expect_name(const char *name, unsigned n, const char *want)
{
    char *s = export_file_name(name, n);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void export_names(void **state)
{
    (void)state;
    expect_name("Ubuntu 24.04", 0, "Ubuntu 24.04.torrent");
    expect_name("Ubuntu 24.04", 2, "Ubuntu 24.04 (2).torrent");
    /* qBittorrent's toValidFileName: trimmed, each run of \ / : ? " * < > | one space */
    expect_name("  a/b\\\\c:?d  ", 0, "a b c d.torrent");
    expect_name("../../etc/passwd", 0, ".. .. etc passwd.torrent");
    expect_name("..", 0, "...torrent");
    expect_name("", 0, ".torrent");
    expect_name("x\ny", 0, "x_y.torrent");   /* control characters: util/path */
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    char *s = export_file_name(big, 12345);
    assert_non_null(s);
    assert_true(strlen(s) <= 255);
    assert_null(strchr(s, '/'));
    assert_string_equal(s + strlen(s) - strlen(" (12345).torrent"), " (12345).torrent");
    free(s);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split),
        cmocka_unit_test(expand),
        cmocka_unit_test(split_then_expand),
        cmocka_unit_test(ut_states),
        cmocka_unit_test(export_names),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
