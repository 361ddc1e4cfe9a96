/* util/log's file sink (qBittorrent's FileLogger): the file name and line
 * format, the messages logged before it was enabled, rotation into .bak,
 * .bak1, ... only with backup on, a directory change, off, the deletion of
 * old backups, and reopening after the file was moved away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>
#include <cmocka.h>

#include "util/log.h"

static char root[256];

static void path_in(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/%s", root, rel);
}

static char *slurp(const char *rel)
{
    char p[512];
    path_in(p, sizeof p, rel);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static bool exists(const char *rel)
{
    char p[512];
    struct stat st;
    path_in(p, sizeof p, rel);
    return stat(p, &st) == 0;
}

static off_t size_of(const char *rel)
{
    char p[512];
    struct stat st;
    path_in(p, sizeof p, rel);
    return stat(p, &st) == 0 ? st.st_size : -1;
}

static struct log_file_config conf(const char *rel, bool backup, int64_t max)
{
    static char dir[512];
    path_in(dir, sizeof dir, rel);
    return (struct log_file_config){.dir = dir, .backup = backup, .max_bytes = max, .age = 1,
                                    .age_unit = LOG_AGE_MONTHS};
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/td_log_file_XXXXXX");
    assert_non_null(mkdtemp(root));
    log_set_quiet(1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    log_file_set(NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void format_and_replay(void **state)
{
    (void)state;
    log_msg(LOG_NORMAL, "before the file: %d", 1);
    struct log_file_config c = conf("a/b", true, 65 * 1024);
    assert_int_equal(log_file_set(&c), 0);   /* creates a/b */
    log_msg(LOG_INFO, "info line");
    log_msg(LOG_WARNING, "warning line");
    log_msg(LOG_CRITICAL, "critical line");
    char *text = slurp("a/b/qbittorrent.log");
    assert_non_null(text);
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^\\(N\\) [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2} - before the file: 1$",
                             REG_EXTENDED | REG_NEWLINE), 0);
    assert_int_equal(regexec(&re, text, 0, NULL, 0), 0);
    regfree(&re);
    assert_non_null(strstr(text, " - info line\n"));
    assert_non_null(strstr(text, "(I) "));
    assert_non_null(strstr(text, "(W) "));
    assert_non_null(strstr(text, "(C) "));
    /* The line's time is the local time of the message. */
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char day[16];
    strftime(day, sizeof day, "%Y-%m-%dT", &tm);
    assert_non_null(strstr(text, day));
    char p[512];
    path_in(p, sizeof p, "a/b/qbittorrent.log");
    char got[512];
    log_file_path(got, sizeof got);
    assert_string_equal(got, p);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void rotates_with_backup_only(void **state)
{
    (void)state;
    struct log_file_config c = conf("rot", true, 1024);
    assert_int_equal(log_file_set(&c), 0);
    for (int i = 0; i < 60; i++)
        log_msg(LOG_INFO, "rotation filler line number %03d ..............................", i);
    assert_true(exists("rot/qbittorrent.log.bak"));
    assert_true(exists("rot/qbittorrent.log.bak1"));
    assert_true(exists("rot/qbittorrent.log.bak2"));
    assert_true(size_of("rot/qbittorrent.log.bak") >= 1024);
    assert_true(size_of("rot/qbittorrent.log.bak") < 1024 + 200);
    assert_true(size_of("rot/qbittorrent.log") < 1024);
    /* Nothing lost: every line is in one of the files. */
    char *bak = slurp("rot/qbittorrent.log.bak");
    assert_non_null(strstr(bak, "number 000"));

    /* Without backup the file just grows. */
    log_file_set(NULL);
    c = conf("grow", false, 1024);
    assert_int_equal(log_file_set(&c), 0);
    for (int i = 0; i < 60; i++)
        log_msg(LOG_INFO, "growing filler line number %03d ..............................", i);
    assert_false(exists("grow/qbittorrent.log.bak"));
    assert_true(size_of("grow/qbittorrent.log") > 3 * 1024);
}

static int count_in(const char *rel, const char *needle)
{
    char *text = slurp(rel);
    int n = 0;
    for (char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* The replay of a full ring is written in batches and still rotates. */
static void replay_rotates(void **state)
{
    (void)state;
    for (int i = 0; i < 3000; i++)
        log_msg(LOG_INFO, "replayed line %04d ....................................", i);
    struct log_file_config c = conf("many", true, 32 * 1024);
    assert_int_equal(log_file_set(&c), 0);
    int total = count_in("many/qbittorrent.log", "replayed line ");
    char rel[64] = "many/qbittorrent.log.bak";
    for (int i = 1; exists(rel); i++) {
        total += count_in(rel, "replayed line ");
        off_t size = size_of(rel);
        assert_true(size >= 32 * 1024 && size < 32 * 1024 + 200);
        snprintf(rel, sizeof rel, "many/qbittorrent.log.bak%d", i);
    }
    assert_true(exists("many/qbittorrent.log.bak3"));
    assert_int_equal(total, 3000);
    char *text = slurp("many/qbittorrent.log");
    assert_true(strlen(text) < 32 * 1024);
}

static void directory_change_and_off(void **state)
{
    (void)state;
    struct log_file_config c = conf("one", true, 65 * 1024);
    assert_int_equal(log_file_set(&c), 0);
    log_msg(LOG_INFO, "to the first");
    c = conf("two", true, 65 * 1024);
    assert_int_equal(log_file_set(&c), 0);
    log_msg(LOG_INFO, "to the second");
    assert_null(strstr(slurp("one/qbittorrent.log"), "to the second"));
    char *two = slurp("two/qbittorrent.log");
    assert_non_null(strstr(two, "to the second"));
    assert_null(strstr(two, "to the first"));   /* a move does not replay */
    log_file_set(NULL);
    log_msg(LOG_INFO, "to nobody");
    assert_null(strstr(slurp("two/qbittorrent.log"), "to nobody"));
    char got[64];
    log_file_path(got, sizeof got);
    assert_string_equal(got, "");
    assert_int_equal(log_file_reopen(), -ENOENT);
}

static void age_file(const char *rel, time_t age_s)
{
    char p[512];
    path_in(p, sizeof p, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("old\n", f);
    fclose(f);
    time_t t = time(NULL) - age_s;
    struct utimbuf u = {t, t};
    assert_int_equal(utime(p, &u), 0);
}

static void deletes_old_backups(void **state)
{
    (void)state;
    char p[512];
    path_in(p, sizeof p, "old");
    assert_int_equal(mkdir(p, 0700), 0);
    age_file("old/qbittorrent.log.bak", 3 * 86400);
    age_file("old/qbittorrent.log.bak7", 3600);
    age_file("old/other.bak", 30 * 86400);
    age_file("old/qbittorrent.log.bak9", 40 * 86400);
    /* large: the replay of the ring (shared by the tests) must not rotate here */
    struct log_file_config c = conf("old", true, INT64_C(1) << 30);
    c.delete_old = true;
    c.age = 2;
    c.age_unit = LOG_AGE_DAYS;
    assert_int_equal(log_file_set(&c), 0);
    assert_false(exists("old/qbittorrent.log.bak"));
    assert_true(exists("old/qbittorrent.log.bak7"));
    assert_true(exists("old/other.bak"));
    assert_false(exists("old/qbittorrent.log.bak9"));

    log_file_set(NULL);
    age_file("old/qbittorrent.log.bak3", 40 * 86400);
    age_file("old/qbittorrent.log.bak4", 20 * 86400);
    c.age = 1;
    c.age_unit = LOG_AGE_MONTHS;
    assert_int_equal(log_file_set(&c), 0);
    assert_false(exists("old/qbittorrent.log.bak3"));
    assert_true(exists("old/qbittorrent.log.bak4"));
}

static void reopens_after_a_move(void **state)
{
    (void)state;
    struct log_file_config c = conf("lr", true, 65 * 1024);
    assert_int_equal(log_file_set(&c), 0);
    log_msg(LOG_INFO, "before the move");
    char from[512], to[512];
    path_in(from, sizeof from, "lr/qbittorrent.log");
    path_in(to, sizeof to, "lr/qbittorrent.log.1");
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(log_file_reopen(), 0);
    log_msg(LOG_INFO, "after the move");
    assert_non_null(strstr(slurp("lr/qbittorrent.log"), "after the move"));
    assert_null(strstr(slurp("lr/qbittorrent.log.1"), "after the move"));
}

static void unopenable_is_reported(void **state)
{
    (void)state;
    age_file("afile", 0);
    struct log_file_config c = conf("afile", true, 65 * 1024);   /* a file, not a directory */
    assert_true(log_file_set(&c) < 0);
    char got[64];
    log_file_path(got, sizeof got);
    assert_string_equal(got, "");
    log_msg(LOG_INFO, "still alive");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(format_and_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(rotates_with_backup_only, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_rotates, setup, teardown),
        cmocka_unit_test_setup_teardown(directory_change_and_off, setup, teardown),
        cmocka_unit_test_setup_teardown(deletes_old_backups, setup, teardown),
        cmocka_unit_test_setup_teardown(reopens_after_a_move, setup, teardown),
        cmocka_unit_test_setup_teardown(unopenable_is_reported, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
