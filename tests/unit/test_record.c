/* store/record: every record type round-trips through its row text, the text
 * is byte for byte what the jansson code wrote (the rows below were written
 * by the build before this module), and such old rows read back into the
 * structs.  Non-JSON or wrongly shaped rows are -EINVAL, never a crash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/record.h"

static void enc_value(const struct record_value *v, const char *want)
{
    char *t = NULL;
    assert_int_equal(record_value_encode(v, &t), 0);
    assert_string_equal(t, want);
    free(t);
}

static void values(void **state)
{
    (void)state;
    enc_value(&(struct record_value){.type = RECORD_BOOL, .b = true}, "true");
    enc_value(&(struct record_value){.type = RECORD_BOOL, .b = false}, "false");
    enc_value(&(struct record_value){.type = RECORD_INT, .i = 6881}, "6881");
    enc_value(&(struct record_value){.type = RECORD_INT, .i = INT64_MIN}, "-9223372036854775808");
    enc_value(&(struct record_value){.type = RECORD_REAL, .r = 2.0}, "2.0");
    enc_value(&(struct record_value){.type = RECORD_REAL, .r = -1.0}, "-1.0");
    enc_value(&(struct record_value){.type = RECORD_REAL, .r = 1.5}, "1.5");
    enc_value(&(struct record_value){.type = RECORD_TEXT, .s = "a\"b\\c\n\x01/é"}, "\"a\\\"b\\\\c\\n\\u0001/é\"");
    enc_value(&(struct record_value){.type = RECORD_TEXT, .s = ""}, "\"\"");
    enc_value(&(struct record_value){.type = RECORD_NULL}, "null");

    struct record_value v;
    assert_int_equal(record_value_decode("true", &v), 0);
    assert_int_equal(v.type, RECORD_BOOL);
    assert_true(v.b);
    assert_int_equal(record_value_decode("false", &v), 0);
    assert_int_equal(v.type, RECORD_BOOL);
    assert_false(v.b);
    assert_int_equal(record_value_decode("6881", &v), 0);
    assert_int_equal(v.type, RECORD_INT);
    assert_int_equal(v.i, 6881);
    assert_true(v.r == 6881.0);
    assert_int_equal(record_value_decode("0.1", &v), 0);
    assert_int_equal(v.type, RECORD_REAL);
    assert_true(v.r == 0.1);
    /* jansson wrote reals with 17 digits */
    assert_int_equal(record_value_decode("0.10000000000000001", &v), 0);
    assert_true(v.r == 0.1);
    assert_int_equal(record_value_decode("\"a\\\"b\\u00e9\"", &v), 0);
    assert_int_equal(v.type, RECORD_TEXT);
    assert_string_equal(v.s, "a\"bé");
    record_value_clear(&v);
    assert_int_equal(record_value_decode("null", &v), 0);
    assert_int_equal(v.type, RECORD_NULL);
    assert_int_equal(record_value_decode("{\"a\":1}", &v), 0);
    assert_int_equal(v.type, RECORD_OTHER);
    assert_int_equal(record_value_decode("not json", &v), -EINVAL);
    assert_int_equal(record_value_decode("", &v), -EINVAL);
    assert_int_equal(record_value_decode(NULL, &v), -EINVAL);
}

static void canonical(void **state)
{
    (void)state;
    char *t = NULL;
    assert_int_equal(record_json_canonical("{ \"/z\" : 1, \"/a\": \"x\", \"/m\": true, \"/n\": [1, {\"b\": null}] }", &t), 0);
    assert_string_equal(t, "{\"/a\":\"x\",\"/m\":true,\"/n\":[1,{\"b\":null}],\"/z\":1}");
    free(t);
    assert_int_equal(record_json_canonical("{}", &t), 0);
    assert_string_equal(t, "{}");
    free(t);
    assert_int_equal(record_json_canonical(" [1, 2] ", &t), 0);
    assert_string_equal(t, "[1,2]");
    free(t);
    assert_int_equal(record_json_canonical("{\"a\":", &t), -EINVAL);
    assert_null(t);
}

static void alltime(void **state)
{
    (void)state;
    char *t = NULL;
    assert_int_equal(record_alltime_encode(&(struct record_alltime){12345678901, 7}, &t), 0);
    assert_string_equal(t, "{\"dl\":12345678901,\"ul\":7}");   /* as session.c printed it */
    struct record_alltime a;
    assert_int_equal(record_alltime_decode(t, &a), 0);
    assert_int_equal(a.dl, 12345678901);
    assert_int_equal(a.ul, 7);
    free(t);
    assert_int_equal(record_alltime_decode("{\"ul\":3}", &a), 0);
    assert_int_equal(a.dl, 0);
    assert_int_equal(a.ul, 3);
    assert_int_equal(record_alltime_decode("[1]", &a), -EINVAL);
    assert_int_equal(record_alltime_decode("garbage", &a), -EINVAL);
}

static void category(void **state)
{
    (void)state;
    static const struct {
        struct record_category c;
        const char *text;
    } rows[] = {
        {{"/data/films", RECORD_DL_DEFAULT, NULL}, "{\"save_path\":\"/data/films\"}"},
        {{"", RECORD_DL_ON, "/tmp/incoming"}, "{\"save_path\":\"\",\"download_path\":\"/tmp/incoming\"}"},
        {{"/x", RECORD_DL_OFF, NULL}, "{\"save_path\":\"/x\",\"download_path\":false}"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *t = NULL;
        assert_int_equal(record_category_encode(&rows[i].c, &t), 0);
        assert_string_equal(t, rows[i].text);
        free(t);
        struct record_category c;
        assert_int_equal(record_category_decode(rows[i].text, &c), 0);
        assert_string_equal(c.save_path, rows[i].c.save_path);
        assert_int_equal(c.dl_mode, rows[i].c.dl_mode);
        if (rows[i].c.download_path)
            assert_string_equal(c.download_path, rows[i].c.download_path);
        else
            assert_null(c.download_path);
        record_category_clear(&c);
    }
    struct record_category c;
    assert_int_equal(record_category_decode("{\"download_path\":3}", &c), 0);
    assert_null(c.save_path);
    assert_int_equal(c.dl_mode, RECORD_DL_DEFAULT);
    record_category_clear(&c);
    assert_int_equal(record_category_decode("\"x\"", &c), -EINVAL);
    record_category_clear(&c);
}

static void ssl(void **state)
{
    (void)state;
    struct record_ssl p = {"-----BEGIN CERTIFICATE-----\nAA==\n", "k\n", "d", true, 1700000000};
    char *t = NULL;
    assert_int_equal(record_ssl_encode(&p, &t), 0);
    assert_string_equal(t, "{\"ssl_certificate\":\"-----BEGIN CERTIFICATE-----\\nAA==\\n\","
                           "\"ssl_private_key\":\"k\\n\",\"ssl_dh_params\":\"d\",\"added_on\":1700000000}");
    struct record_ssl q;
    assert_int_equal(record_ssl_decode(t, &q), 0);
    assert_string_equal(q.certificate, p.certificate);
    assert_string_equal(q.private_key, "k\n");
    assert_string_equal(q.dh_params, "d");
    assert_true(q.has_added_on);
    assert_int_equal(q.added_on, 1700000000);
    record_ssl_clear(&q);
    free(t);
    assert_int_equal(record_ssl_decode("{\"ssl_certificate\":1}", &q), 0);
    assert_null(q.certificate);
    assert_false(q.has_added_on);
    record_ssl_clear(&q);
}

static void cookies(void **state)
{
    (void)state;
    struct record_cookie in[] = {{"sid", ".example.org", "/", "a\"b", true, 1900000000},
                                 {"tmp", "h", "", "", true, -1}};
    char *t = NULL;
    assert_int_equal(record_cookies_encode(in, 2, &t), 0);
    /* as cookiejar.c wrote it with jansson */
    assert_string_equal(t, "[{\"name\":\"sid\",\"domain\":\".example.org\",\"path\":\"/\",\"value\":\"a\\\"b\","
                           "\"expirationDate\":1900000000},{\"name\":\"tmp\",\"domain\":\"h\",\"path\":\"\","
                           "\"value\":\"\",\"expirationDate\":-1}]");
    struct record_cookie *v;
    size_t n;
    assert_int_equal(record_cookies_decode(t, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "sid");
    assert_string_equal(v[0].domain, ".example.org");
    assert_string_equal(v[0].path, "/");
    assert_string_equal(v[0].value, "a\"b");
    assert_true(v[0].has_expires);
    assert_int_equal(v[0].expires, 1900000000);
    assert_int_equal(v[1].expires, -1);
    record_cookies_free(v, n);
    free(t);
    assert_int_equal(record_cookies_encode(NULL, 0, &t), 0);
    assert_string_equal(t, "[]");
    free(t);
    /* junk entries and fields */
    assert_int_equal(record_cookies_decode("[1,{\"name\":2,\"expirationDate\":\"x\"}]", &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "");
    assert_false(v[0].has_expires);
    record_cookies_free(v, n);
    assert_int_equal(record_cookies_decode("{}", &v, &n), -EINVAL);
    assert_int_equal(record_cookies_decode("[", &v, &n), -EINVAL);
}

static void stats(void **state)
{
    (void)state;
    struct record_torrent_stats s = {.downloaded = 1048576, .uploaded = 2, .wasted = 16384, .active_time = 60,
                                     .seeding_time = 30, .completion_on = 1700000001, .seen_complete = -1,
                                     .last_activity = 1700000002};
    char *t = NULL;
    assert_int_equal(record_torrent_stats_encode(&s, &t), 0);
    /* the resume row as torrent_save_resume wrote it with jansson */
    assert_string_equal(t, "{\"downloaded\":1048576,\"uploaded\":2,\"wasted\":16384,\"active_time\":60,"
                           "\"seeding_time\":30,\"completion_on\":1700000001,\"seen_complete\":-1,"
                           "\"last_activity\":1700000002}");
    struct record_torrent_stats r;
    assert_int_equal(record_torrent_stats_decode(t, &r), 0);
    assert_int_equal(r.downloaded, 1048576);
    assert_int_equal(r.uploaded, 2);
    assert_int_equal(r.wasted, 16384);
    assert_int_equal(r.active_time, 60);
    assert_int_equal(r.seeding_time, 30);
    assert_true(r.has_completion_on && r.has_seen_complete && r.has_last_activity);
    assert_int_equal(r.completion_on, 1700000001);
    assert_int_equal(r.seen_complete, -1);
    assert_int_equal(r.last_activity, 1700000002);
    free(t);
    /* an older row without the times */
    assert_int_equal(record_torrent_stats_decode("{\"downloaded\":5,\"uploaded\":6}", &r), 0);
    assert_int_equal(r.downloaded, 5);
    assert_false(r.has_completion_on || r.has_seen_complete || r.has_last_activity);
    assert_int_equal(record_torrent_stats_decode("{", &r), -EINVAL);
}

/* A settings row of a torrent with metadata as the jansson code wrote it
 * (every optional key present), and of a magnet without metadata. */
static const char old_full[] =
    "{\"save_path\":\"/srv/dl\",\"category\":\"films\",\"name\":\"Renamed \\\"x\\\"\","
    "\"tags\":[\"a\",\"b c\"],\"stopped\":true,\"sequential\":false,\"first_last_piece\":true,"
    "\"forced\":false,\"super_seeding\":false,\"auto_tmm\":true,\"up_limit\":1024,\"dl_limit\":0,"
    "\"ratio_limit\":1.5,\"seeding_time_limit\":-2,\"inactive_seeding_time_limit\":120,"
    "\"file_prios\":[1,0,7],\"queue_pos\":3,\"share_limit_action\":2,\"download_path\":\"/tmp/inc\","
    "\"data_in_download\":true,\"stop_condition\":1,\"renamed\":{\"0\":\"x/a.bin\",\"2\":\"c.bin\"},"
    "\"trackers\":[{\"url\":\"http://t1/announce\",\"tier\":0},{\"url\":\"udp://t2:80\",\"tier\":1}],"
    "\"web_seeds\":[\"http://ws/\"]}";
static const char old_magnet[] =
    "{\"save_path\":\"/srv/dl\",\"category\":\"\",\"name\":null,\"tags\":[],\"stopped\":false,"
    "\"sequential\":false,\"first_last_piece\":false,\"forced\":false,\"super_seeding\":false,"
    "\"auto_tmm\":false,\"up_limit\":0,\"dl_limit\":0,\"ratio_limit\":-2.0,\"seeding_time_limit\":-2,"
    "\"inactive_seeding_time_limit\":-2,\"file_prios\":[],\"queue_pos\":0,\"share_limit_action\":-1,"
    "\"magnet_extra\":{\"so\":[0,2],\"ws\":[\"http://m/\"]},\"trackers\":[]}";

static void settings_full(void **state)
{
    (void)state;
    struct record_torrent_settings ts;
    assert_int_equal(record_torrent_settings_decode(old_full, &ts), 0);
    assert_string_equal(ts.save_path, "/srv/dl");
    assert_string_equal(ts.category, "films");
    assert_string_equal(ts.name, "Renamed \"x\"");
    assert_int_equal(ts.num_tags, 2);
    assert_string_equal(ts.tags[0], "a");
    assert_string_equal(ts.tags[1], "b c");
    assert_true(ts.stopped && ts.first_last_piece && ts.auto_tmm);
    assert_false(ts.sequential || ts.forced || ts.super_seeding);
    assert_int_equal(ts.up_limit, 1024);
    assert_int_equal(ts.dl_limit, 0);
    assert_true(ts.has_ratio_limit && ts.ratio_limit == 1.5);
    assert_true(ts.has_seeding_time_limit);
    assert_int_equal(ts.seeding_time_limit, -2);
    assert_true(ts.has_inactive_seeding_time_limit);
    assert_int_equal(ts.inactive_seeding_time_limit, 120);
    assert_true(ts.has_file_prios);
    assert_int_equal(ts.num_file_prios, 3);
    assert_int_equal(ts.file_prios[0], 1);
    assert_int_equal(ts.file_prios[1], 0);
    assert_int_equal(ts.file_prios[2], 7);
    assert_true(ts.has_queue_pos && ts.queue_pos == 3);
    assert_true(ts.has_share_limit_action && ts.share_limit_action == 2);
    assert_string_equal(ts.download_path, "/tmp/inc");
    assert_true(ts.data_in_download);
    assert_true(ts.has_stop_condition && ts.stop_condition == 1);
    assert_int_equal(ts.num_renamed, 2);
    assert_int_equal(ts.renamed[0].index, 0);
    assert_string_equal(ts.renamed[0].path, "x/a.bin");
    assert_int_equal(ts.renamed[1].index, 2);
    assert_string_equal(ts.renamed[1].path, "c.bin");
    assert_false(ts.has_magnet_extra);
    assert_true(ts.has_trackers);
    assert_int_equal(ts.num_trackers, 2);
    assert_string_equal(ts.trackers[0].url, "http://t1/announce");
    assert_int_equal(ts.trackers[0].tier, 0);
    assert_string_equal(ts.trackers[1].url, "udp://t2:80");
    assert_int_equal(ts.trackers[1].tier, 1);
    assert_true(ts.has_web_seeds);
    assert_int_equal(ts.num_web_seeds, 1);
    assert_string_equal(ts.web_seeds[0], "http://ws/");
    /* and written back byte for byte */
    char *t = NULL;
    assert_int_equal(record_torrent_settings_encode(&ts, &t), 0);
    assert_string_equal(t, old_full);
    free(t);
    record_torrent_settings_clear(&ts);
}

static void settings_magnet(void **state)
{
    (void)state;
    struct record_torrent_settings ts;
    assert_int_equal(record_torrent_settings_decode(old_magnet, &ts), 0);
    assert_null(ts.name);
    assert_int_equal(ts.num_tags, 0);
    assert_true(ts.has_ratio_limit && ts.ratio_limit == -2.0);
    assert_true(ts.has_file_prios);
    assert_int_equal(ts.num_file_prios, 0);
    assert_null(ts.download_path);
    assert_false(ts.has_stop_condition);
    assert_int_equal(ts.num_renamed, 0);
    assert_true(ts.has_magnet_extra);
    assert_int_equal(ts.num_select_only, 2);
    assert_int_equal(ts.select_only[0], 0);
    assert_int_equal(ts.select_only[1], 2);
    assert_int_equal(ts.num_magnet_web_seeds, 1);
    assert_string_equal(ts.magnet_web_seeds[0], "http://m/");
    assert_true(ts.has_trackers);
    assert_int_equal(ts.num_trackers, 0);
    assert_false(ts.has_web_seeds);
    char *t = NULL;
    assert_int_equal(record_torrent_settings_encode(&ts, &t), 0);
    assert_string_equal(t, old_magnet);
    free(t);
    record_torrent_settings_clear(&ts);
}

/* What the old readers tolerated: missing keys, wrong types, junk entries. */
static void settings_lenient(void **state)
{
    (void)state;
    struct record_torrent_settings ts;
    assert_int_equal(record_torrent_settings_decode("{}", &ts), 0);
    assert_null(ts.save_path);
    assert_false(ts.has_ratio_limit || ts.has_queue_pos || ts.has_trackers || ts.has_file_prios);
    record_torrent_settings_clear(&ts);
    assert_int_equal(record_torrent_settings_decode(
                         "{\"tags\":[\"a\",1,null,\"b\"],\"up_limit\":\"fast\",\"ratio_limit\":2,"
                         "\"queue_pos\":1.5,\"renamed\":{\"x\":\"p\",\"1\":2,\"3\":\"q\"},"
                         "\"trackers\":[\"bare\",{\"tier\":1},{\"url\":\"http://u\"}],"
                         "\"magnet_extra\":{\"ws\":\"notalist\"},\"file_prios\":[1,\"x\",4]}",
                         &ts),
                     0);
    assert_int_equal(ts.num_tags, 2);
    assert_string_equal(ts.tags[1], "b");
    assert_int_equal(ts.up_limit, 0);
    assert_true(ts.has_ratio_limit && ts.ratio_limit == 2.0);
    assert_false(ts.has_queue_pos);
    assert_int_equal(ts.num_renamed, 1);
    assert_int_equal(ts.renamed[0].index, 3);
    assert_int_equal(ts.num_trackers, 1);
    assert_string_equal(ts.trackers[0].url, "http://u");
    assert_int_equal(ts.trackers[0].tier, 0);
    assert_true(ts.has_magnet_extra);
    assert_int_equal(ts.num_select_only, 0);
    assert_int_equal(ts.num_magnet_web_seeds, 0);
    assert_int_equal(ts.num_file_prios, 3);
    assert_int_equal(ts.file_prios[1], 0);
    record_torrent_settings_clear(&ts);
    assert_int_equal(record_torrent_settings_decode("[]", &ts), -EINVAL);
    assert_int_equal(record_torrent_settings_decode("{\"save_path\":", &ts), -EINVAL);
    assert_int_equal(record_torrent_settings_decode(NULL, &ts), -EINVAL);
    record_torrent_settings_clear(&ts);
}

/* Sizes an old reader met: thousands of files and long texts. */
static void settings_large(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint8_t *prios = malloc(N);
    assert_non_null(prios);
    for (size_t i = 0; i < N; i++)
        prios[i] = (uint8_t)(i % 8);
    struct record_rename ren[] = {{19999, "deep/ä/ö.txt"}};
    const char *tags[] = {"x"};
    struct record_torrent_settings ts = {
        .save_path = "/s", .category = "", .tags = tags, .num_tags = 1, .has_file_prios = true,
        .file_prios = prios, .num_file_prios = N, .renamed = ren, .num_renamed = 1,
    };
    char *t = NULL;
    assert_int_equal(record_torrent_settings_encode(&ts, &t), 0);
    struct record_torrent_settings r;
    assert_int_equal(record_torrent_settings_decode(t, &r), 0);
    assert_int_equal(r.num_file_prios, N);
    assert_memory_equal(r.file_prios, prios, N);
    assert_int_equal(r.num_renamed, 1);
    assert_int_equal(r.renamed[0].index, 19999);
    assert_string_equal(r.renamed[0].path, "deep/ä/ö.txt");
    record_torrent_settings_clear(&r);
    free(t);
    free(prios);
}

/* scan_dirs as qBittorrent 5.1's setPreferences reads it (QVariant::toInt). */
static void scan_dirs(void **state)
{
    (void)state;
    struct record_scan_dir *v = NULL;
    size_t n = 9;
    const char *text = "{\"/a\": 0, \"/b\": 1, \"/c\": \"/save/here\", \"/d\": \"0\", \"/e\": 2,"
                       " \"/f\": false, \"/g\": null, \"/h\": \"\", \"/i\": [1], \"/j\": 0.0}";
    assert_int_equal(record_scan_dirs_decode(text, &v, &n), 0);
    assert_int_equal(n, 10);
    const struct { const char *folder; enum record_scan_mode mode; const char *path; } want[] = {
        {"/a", RECORD_SCAN_FOLDER, NULL},   {"/b", RECORD_SCAN_DEFAULT, NULL},
        {"/c", RECORD_SCAN_PATH, "/save/here"}, {"/d", RECORD_SCAN_FOLDER, NULL},
        {"/e", RECORD_SCAN_DEFAULT, NULL},  {"/f", RECORD_SCAN_FOLDER, NULL},
        {"/g", RECORD_SCAN_DEFAULT, NULL},  {"/h", RECORD_SCAN_DEFAULT, NULL},
        {"/i", RECORD_SCAN_DEFAULT, NULL},  {"/j", RECORD_SCAN_FOLDER, NULL},
    };
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(v[i].folder, want[i].folder);
        assert_int_equal(v[i].mode, want[i].mode);
        if (want[i].path)
            assert_string_equal(v[i].path, want[i].path);
        else
            assert_null(v[i].path);
    }
    record_scan_dirs_free(v, n);
    assert_int_equal(record_scan_dirs_decode("{}", &v, &n), 0);
    assert_int_equal(n, 0);
    record_scan_dirs_free(v, n);
    assert_int_equal(record_scan_dirs_decode("[1]", &v, &n), -EINVAL);
    assert_int_equal(record_scan_dirs_decode("{not json", &v, &n), -EINVAL);
    assert_null(v);
}

static int teardown(void **state)
{
    (void)state;
    record_thread_done();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values),
        cmocka_unit_test(canonical),
        cmocka_unit_test(alltime),
        cmocka_unit_test(category),
        cmocka_unit_test(ssl),
        cmocka_unit_test(cookies),
        cmocka_unit_test(stats),
        cmocka_unit_test(settings_full),
        cmocka_unit_test(settings_magnet),
        cmocka_unit_test(settings_lenient),
        cmocka_unit_test(settings_large),
        cmocka_unit_test(scan_dirs),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
