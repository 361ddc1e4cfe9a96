/* core/utconf and core/ut_settings: utserver.conf syntax (comments, blank
 * lines, repeated dir_download, bounds, unknown keys warned with their line),
 * value errors naming file:line and key, the reload classes, and the
 * µTorrent <-> torrentd conversions (KB/s, percent, seconds, inverted
 * booleans, the download-directory view) in both directions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/settings.h"
#include "core/utconf.h"
#include "core/ut_settings.h"
#include "util/log.h"

struct warns {
    char text[8][256];
    int n;
};

static void on_warn(void *ud, const char *msg)
{
    struct warns *w = ud;
    if (w->n < 8)
        snprintf(w->text[w->n++], sizeof w->text[0], "%s", msg);
}

/* Parses text and applies the moment's batch to s; 0 or the error. */
static int apply_text(struct settings *s, const char *text, enum utconf_moment m, struct warns *w, char *err,
                      size_t errlen, char **password)
{
    struct utconf c;
    int rc = utconf_parse(text, strlen(text), "u.conf", &c, on_warn, w, err, errlen);
    if (rc != 0)
        return rc;
    struct ut_batch b;
    rc = ut_batch_init(&b, s, "/cwd");
    if (rc == 0)
        rc = utconf_batch(&c, m, &b, err, errlen);
    if (rc == 0)
        rc = settings_apply(s, b.ch, b.n, NULL, err, errlen);
    if (rc == 0 && password && b.password)
        *password = strdup(b.password);
    ut_batch_free(&b);
    utconf_free(&c);
    return rc;
}

static void table_sorted_and_typed(void **state)
{
    (void)state;
    for (size_t i = 0; i < ut_settings_count; i++) {
        const struct ut_setting *u = &ut_settings[i];
        if (i)
            assert_true(strcmp(ut_settings[i - 1].name, u->name) < 0);
        assert_ptr_equal(ut_settings_find(u->name), u);
        assert_true(u->access == 'Y' || u->access == 'R' || u->access == 'W');
        assert_true(u->conf || u->reload == UT_GUI);
        if (u->conv == UT_CONV_DIRECT) {
            enum setting_type t = settings_defs[u->id].type;
            assert_true(u->type == UT_BOOL ? t == SETT_BOOL : u->type == UT_INT ? t == SETT_INT : t == SETT_STR);
        }
    }
    assert_null(ut_settings_find("no_such_key"));
    /* Every key of seed 004's list is known. */
    static const char *const seed[] = {
        "bind_ip", "ut_webui_port", "token_auth_enable", "dir_active", "dir_completed", "dir_download",
        "dir_torrent_files", "dir_temp_files", "dir_autoload", "dir_autoload_delete", "dir_request", "upnp",
        "natpmp", "lsd", "dht", "pex", "rate_limit_local_peers", "dir_root", "disk_cache_max_size",
        "write_coalesce_max_size", "progressive_piece_span", "preferred_interface", "admin_name",
        "admin_password", "localhost_authentication", "logmask", "ut_webui_dir", "finish_cmd", "state_cmd",
        "uconnect_enable", "uconnect_username", "uconnect_password", "low_cpu", "sequential_download",
        "compact_allocation", "prealloc_space", "minimize_kernel_caching", "all_writes_sync",
        "randomize_bind_port", "token_auth_filter", "encrypt_buffer_size", "bind_port", "max_ul_rate",
        "max_ul_rate_seed", "conns_per_torrent", "max_total_connections", "auto_bandwidth_management",
        "max_dl_rate", "seed_ratio", "seed_time",
    };
    for (size_t i = 0; i < sizeof seed / sizeof seed[0]; i++) {
        const struct ut_setting *u = ut_settings_find(seed[i]);
        assert_non_null(u);
        assert_true(u->conf);
    }
}

static void syntax(void **state)
{
    (void)state;
    struct warns w = {0};
    char err[256] = "";
    struct utconf c;
    const char *text = "# comment\n\n   # indented comment\r\n"
                       "bind_port: 7001\n"
                       "  DHT :false  \n"
                       "bogus_key: 1\n"
                       "uconnect_enable: true\n"
                       "dir_download: /a\n"
                       "dir_download: b\n"
                       "finish_cmd: /bin/echo a:b %N";
    assert_int_equal(utconf_parse(text, strlen(text), "u.conf", &c, on_warn, &w, err, sizeof err), 0);
    assert_int_equal(c.n, 5);
    assert_string_equal(c.e[0].u->name, "bind_port");
    assert_string_equal(c.e[0].value, "7001");
    assert_int_equal(c.e[0].line, 4);
    assert_string_equal(c.e[1].u->name, "dht");
    assert_string_equal(c.e[1].value, "false");
    assert_string_equal(c.e[4].value, "/bin/echo a:b %N");   /* split at the first colon only */
    assert_int_equal(w.n, 2);
    assert_string_equal(w.text[0], "u.conf:6: unknown key 'bogus_key' ignored");
    assert_non_null(strstr(w.text[1], "u.conf:7: uconnect_enable ignored"));
    utconf_free(&c);

    /* Not name: value -> the line is named. */
    const char *bad = "dht: true\nthis line has no colon\n";
    assert_int_equal(utconf_parse(bad, strlen(bad), "u.conf", &c, NULL, NULL, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "u.conf:2: expected 'name: value'"));
    assert_int_equal(c.n, 0);
    assert_int_equal(utconf_parse(": x\n", 4, "u.conf", &c, NULL, NULL, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "u.conf:1:"));
    /* A NUL byte. */
    assert_int_equal(utconf_parse("dht: t\0rue\n", 11, "u.conf", &c, NULL, NULL, err, sizeof err), -EINVAL);

    /* Bounds: a long line, too many lines, too many bytes. */
    char *big = malloc(UTCONF_MAX_BYTES + 2);
    memset(big, 'a', UTCONF_MAX_LINE + 1);
    big[UTCONF_MAX_LINE + 1] = 0;
    assert_int_equal(utconf_parse(big, strlen(big), "u.conf", &c, NULL, NULL, err, sizeof err), -EFBIG);
    assert_non_null(strstr(err, "u.conf:1: line longer"));
    memset(big, '\n', UTCONF_MAX_LINES + 1);
    assert_int_equal(utconf_parse(big, UTCONF_MAX_LINES + 1, "u.conf", &c, NULL, NULL, err, sizeof err), -EFBIG);
    memset(big, '#', UTCONF_MAX_BYTES + 1);
    assert_int_equal(utconf_parse(big, UTCONF_MAX_BYTES + 1, "u.conf", &c, NULL, NULL, err, sizeof err), -EFBIG);
    free(big);
}

static void values_and_errors(void **state)
{
    (void)state;
    struct settings s;
    assert_int_equal(settings_init(&s), 0);
    char err[256] = "";
    char *pw = NULL;
    const char *text = "bind_port: 7001\n"
                       "max_ul_rate: 100\n"
                       "max_dl_rate: -1\n"
                       "seed_ratio: 150\n"
                       "seed_time: 3601\n"
                       "dht: 0\npex: FALSE\nlsd: true\nupnp: false\n"
                       "max_total_connections: 77\nconns_per_torrent: 11\n"
                       "localhost_authentication: false\n"
                       "rate_limit_local_peers: true\n"
                       "prealloc_space: true\n"
                       "admin_name: boss\nadmin_password: s3cret\n"
                       "dir_torrent_files: torrents\n"
                       "dir_root: /srv/ut\n"
                       "ut_webui_port: 9091\n";
    assert_int_equal(apply_text(&s, text, UTCONF_FIRST_START, NULL, err, sizeof err, &pw), 0);
    assert_int_equal(settings_int(&s, SET_LISTEN_PORT), 7001);
    assert_int_equal(settings_int(&s, SET_UP_LIMIT), 100 * 1024);
    assert_int_equal(settings_int(&s, SET_DL_LIMIT), 0);
    assert_true(settings_bool(&s, SET_MAX_RATIO_ENABLED));
    assert_true(settings_real(&s, SET_MAX_RATIO) == 1.5);
    assert_true(settings_bool(&s, SET_MAX_SEEDING_TIME_ENABLED));
    assert_int_equal(settings_int(&s, SET_MAX_SEEDING_TIME), 61);   /* minutes, rounded up */
    assert_false(settings_bool(&s, SET_DHT));
    assert_false(settings_bool(&s, SET_PEX));
    assert_true(settings_bool(&s, SET_LSD));
    assert_false(settings_bool(&s, SET_UPNP));
    assert_int_equal(settings_int(&s, SET_MAX_CONNEC), 77);
    assert_int_equal(settings_int(&s, SET_MAX_CONNEC_PER_TORRENT), 11);
    assert_true(settings_bool(&s, SET_BYPASS_LOCAL_AUTH));
    assert_true(settings_bool(&s, SET_LIMIT_LAN_PEERS));
    assert_true(settings_bool(&s, SET_PREALLOCATE_ALL));
    assert_string_equal(settings_str(&s, SET_WEB_UI_USERNAME), "boss");
    assert_string_equal(pw, "s3cret");
    free(pw);
    assert_string_equal(settings_str(&s, SET_EXPORT_DIR), "/srv/ut/torrents");   /* dir_root came later */
    assert_int_equal(settings_int(&s, SET_WEB_UI_PORT), 9091);
    assert_int_equal(settings_int(&s, SET_UT_WEBUI_PORT), 9091);

    /* Read back as µTorrent values. */
    char v[128];
    struct { const char *k, *want; } back[] = {
        {"bind_port", "7001"},      {"max_ul_rate", "100"},     {"max_dl_rate", "-1"},
        {"seed_ratio", "150"},      {"seed_time", "3660"},      {"dht", "false"},
        {"localhost_authentication", "false"}, {"admin_name", "boss"}, {"dir_active_download_flag", "true"},
    };
    for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
        assert_int_equal(ut_settings_format(&s, ut_settings_find(back[i].k), v, sizeof v), 0);
        assert_string_equal(v, back[i].want);
    }
    assert_int_equal(ut_settings_format(&s, ut_settings_find("admin_password"), v, sizeof v), -EINVAL);

    /* Bad values: file:line and the key; nothing applied. */
    struct { const char *text, *want; } bad[] = {
        {"dht: true\nbind_port: 70000\n", "u.conf:2: bind_port: 70000 is out of range 0..65535"},
        {"pex: yes\n", "u.conf:1: pex: 'yes' is not a boolean"},
        {"max_ul_rate: -5\n", "u.conf:1: max_ul_rate: -5 is out of range"},
        {"seed_ratio: 12x\n", "u.conf:1: seed_ratio: '12x' is not an integer"},
        {"disk_cache_max_size: 513\n", "u.conf:1: disk_cache_max_size: 513 is out of range 0..512"},
        {"ut_webui_port: 0\n", "u.conf:1: ut_webui_port: 0 is not a port"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        assert_int_not_equal(apply_text(&s, bad[i].text, UTCONF_FIRST_START, NULL, err, sizeof err, NULL), 0);
        assert_non_null(strstr(err, bad[i].want));
    }
    assert_true(settings_bool(&s, SET_DHT) == false);   /* the first file's value stayed */
    settings_free(&s);
}

static void reload_classes(void **state)
{
    (void)state;
    struct settings s;
    assert_int_equal(settings_init(&s), 0);
    char err[256];
    const char *text = "bind_port: 7001\nlocalhost_authentication: false\nrandomize_bind_port: true\n"
                       "dir_download: /x\ndir_download: y\n";
    /* Existing profile at start: UT_START and UT_ALWAYS, not bind_port. */
    assert_int_equal(apply_text(&s, text, UTCONF_START, NULL, err, sizeof err, NULL), 0);
    assert_int_equal(settings_int(&s, SET_LISTEN_PORT), 6881);
    assert_true(settings_bool(&s, SET_BYPASS_LOCAL_AUTH));
    assert_true(settings_bool(&s, SET_UT_RANDOMIZE_BIND_PORT));
    assert_string_equal(settings_str(&s, SET_UT_DIR_DOWNLOAD), "[\"/x\",\"/cwd/y\"]");
    /* Reload: UT_ALWAYS only. */
    text = "localhost_authentication: true\nrandomize_bind_port: false\n";
    assert_int_equal(apply_text(&s, text, UTCONF_RELOAD, NULL, err, sizeof err, NULL), 0);
    assert_false(settings_bool(&s, SET_BYPASS_LOCAL_AUTH));
    assert_true(settings_bool(&s, SET_UT_RANDOMIZE_BIND_PORT));
    /* A reload without dir_download keeps the list; with one replaces it. */
    assert_string_equal(settings_str(&s, SET_UT_DIR_DOWNLOAD), "[\"/x\",\"/cwd/y\"]");
    assert_int_equal(apply_text(&s, "dir_download: /z\n", UTCONF_RELOAD, NULL, err, sizeof err, NULL), 0);
    assert_string_equal(settings_str(&s, SET_UT_DIR_DOWNLOAD), "[\"/z\"]");
    settings_free(&s);
}

static void download_dirs(void **state)
{
    (void)state;
    struct settings s;
    assert_int_equal(settings_init(&s), 0);
    char err[256], v[256];
    /* Both: incomplete in dir_active, moved to dir_completed. */
    assert_int_equal(apply_text(&s, "dir_active: ./act/\ndir_completed: ../done\n", UTCONF_FIRST_START, NULL, err,
                                sizeof err, NULL),
                     0);
    assert_true(settings_bool(&s, SET_TEMP_PATH_ENABLED));
    assert_string_equal(settings_str(&s, SET_TEMP_PATH), "/cwd/act");
    assert_string_equal(settings_str(&s, SET_SAVE_PATH), "/done");
    ut_settings_format(&s, ut_settings_find("dir_active_download"), v, sizeof v);
    assert_string_equal(v, "/cwd/act");
    ut_settings_format(&s, ut_settings_find("dir_completed_download"), v, sizeof v);
    assert_string_equal(v, "/done");
    ut_settings_format(&s, ut_settings_find("dir_completed_download_flag"), v, sizeof v);
    assert_string_equal(v, "true");

    /* /gui/ turns the flag off: downloads stay where they are written. */
    struct ut_batch b;
    assert_int_equal(ut_batch_init(&b, &s, "/cwd"), 0);
    assert_int_equal(ut_batch_set(&b, ut_settings_find("dir_completed_download_flag"), "false", err, sizeof err), 0);
    assert_int_equal(ut_batch_finish(&b, err, sizeof err), 0);
    assert_int_equal(settings_apply(&s, b.ch, b.n, NULL, err, sizeof err), 0);
    ut_batch_free(&b);
    assert_false(settings_bool(&s, SET_TEMP_PATH_ENABLED));
    assert_string_equal(settings_str(&s, SET_SAVE_PATH), "/cwd/act");
    ut_settings_format(&s, ut_settings_find("dir_completed_download"), v, sizeof v);
    assert_string_equal(v, "");
    /* dir_active_download_flag cannot be false. */
    assert_int_equal(ut_batch_init(&b, &s, "/cwd"), 0);
    assert_int_equal(ut_batch_set(&b, ut_settings_find("dir_active_download_flag"), "false", err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "dir_active_download_flag:"));
    ut_batch_free(&b);
    settings_free(&s);
}

/* logmask: µTorrent's bits become log sources; log_src logs only those. */
static int ring_count;
static void count_entry(const struct log_entry *e, void *ud)
{
    (void)ud;
    ring_count += strstr(e->message, "logmask-probe") != NULL;
}

static void logmask_sources(void **state)
{
    (void)state;
    assert_int_equal(ut_settings_log_sources(0), 0);
    assert_int_equal(ut_settings_log_sources(1 << 20), LOG_SRC_PEER_OUT);
    assert_int_equal(ut_settings_log_sources(1 << 21), LOG_SRC_PEER_IN);
    assert_int_equal(ut_settings_log_sources((1 << 3) | (1 << 19) | (1 << 27) | (1 << 29)),
                     LOG_SRC_HAVE | LOG_SRC_DISCONNECT | LOG_SRC_WEBUI | LOG_SRC_PEX);
    /* bit 31 as a negative int32 (utserver.conf accepts both spellings) */
    assert_int_equal(ut_settings_log_sources(INT32_MIN), LOG_SRC_BLOCKED);
    assert_int_equal(ut_settings_log_sources(4294967295LL),
                     LOG_SRC_HAVE | LOG_SRC_DISCONNECT | LOG_SRC_PEER_OUT | LOG_SRC_PEER_IN | LOG_SRC_WEBUI |
                         LOG_SRC_PEX | LOG_SRC_BLOCKED);
    log_set_quiet(1);
    int evaluated = 0;
    log_set_sources(ut_settings_log_sources(1 << 21));
    log_src(LOG_SRC_PEER_OUT, "logmask-probe %d", ++evaluated);   /* off: not even evaluated */
    log_src(LOG_SRC_PEER_IN, "logmask-probe %d", ++evaluated);
    assert_int_equal(evaluated, 1);
    log_set_sources(0);
    log_src(LOG_SRC_PEER_IN, "logmask-probe %d", ++evaluated);
    ring_count = 0;
    log_entries(-1, LOG_INFO, count_entry, NULL);
    assert_int_equal(ring_count, 1);
    assert_int_equal(evaluated, 1);
    log_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_sorted_and_typed),
        cmocka_unit_test(syntax),
        cmocka_unit_test(values_and_errors),
        cmocka_unit_test(reload_classes),
        cmocka_unit_test(download_dirs),
        cmocka_unit_test(logmask_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
