/* rss/rule: qBittorrent's rule JSON and matcher, table-driven from its
 * documented examples (the episode filter tooltip of
 * automatedrssdownloader.cpp: "1x2;8-15;5;30-;" matches 2, 5, 8 through 15,
 * 30 and onward of season one, and with "30-" every later season) and from
 * rss_autodownloadrule.cpp's code paths (qBittorrent has no test file for
 * its RSS rules). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/settings.h"
#include "rss/rule.h"

static struct rss_smart_filter *smart;

static int setup(void **state)
{
    (void)state;
    /* The preference's default: the four filters of qBittorrent. */
    return rss_smart_filter_new(settings_defs[SET_RSS_SMART_EPISODE_FILTERS].def_s, &smart);
}

static int teardown(void **state)
{
    (void)state;
    rss_smart_filter_free(smart);
    return 0;
}

static struct rss_rule *rule_of(const char *json)
{
    json_error_t e;
    json_t *j = json_loads(json, 0, &e);
    assert_non_null(j);
    struct rss_rule *r;
    assert_int_equal(rss_rule_from_json(j, "r", &r), 0);
    json_decref(j);
    return r;
}

static char *dump(const struct rss_rule *r)
{
    json_t *j = rss_rule_to_json(r);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

struct mcase {
    const char *rule;    /* JSON */
    const char *title;
    bool match;
};

static void run_cases(const struct mcase *c, size_t n)
{
    struct rss_match_env env = {smart, true};
    for (size_t i = 0; i < n; i++) {
        struct rss_rule *r = rule_of(c[i].rule);
        bool m = rss_rule_matches(r, &env, c[i].title, 1000000000, NULL);
        if (m != c[i].match)
            fail_msg("rule %s, title '%s': expected %s", c[i].rule, c[i].title, c[i].match ? "match" : "no match");
        rss_rule_free(r);
    }
}

/* mustContain / mustNotContain: wildcard tokens (all, any order,
 * case-insensitive, unanchored), '|' alternatives, regex mode. */
static void contain(void **state)
{
    (void)state;
    static const struct mcase c[] = {
        {"{}", "anything", true},
        {"{\"mustContain\":\"Foo*Bar\"}", "the foo-x-BAR show", true},
        {"{\"mustContain\":\"Foo*Bar\"}", "bar foo", false},
        {"{\"mustContain\":\"Foo Bar\"}", "Bar of Foo", true},               /* tokens in any order */
        {"{\"mustContain\":\"Foo Bar\"}", "Foo only", false},
        {"{\"mustContain\":\"Foo?Bar\"}", "FooXBar", true},
        {"{\"mustContain\":\"Foo?Bar\"}", "FooBar", false},
        {"{\"mustContain\":\"file.mkv\"}", "fileXmkv", false},               /* '.' is literal */
        {"{\"mustContain\":\"file.mkv\"}", "a FILE.MKV", true},
        {"{\"mustContain\":\"[!a]x\"}", "ax", false},                         /* [!..] negates */
        {"{\"mustContain\":\"[!a]x\"}", "bx", true},
        {"{\"mustContain\":\"[ab]x\"}", "bx", true},
        {"{\"mustContain\":\"a[b\"}", "a[b", false},                          /* unclosed class: invalid, no match */
        {"{\"mustContain\":\"(x)+\"}", "(x)+", true},                         /* regex characters escaped */
        {"{\"mustContain\":\"a\\\\b\"}", "a\\b", true},
        {"{\"mustContain\":\"1080p|720p\"}", "Show 720p", true},             /* any alternative */
        {"{\"mustContain\":\"1080p|720p\"}", "Show 480p", false},
        {"{\"mustContain\":\"x|\"}", "nothing", true},                        /* an empty alternative matches */
        {"{\"mustContain\":\"ä\"}", "Ä", true},                               /* Unicode case folding */
        {"{\"mustNotContain\":\"x265|hevc\"}", "Show HEVC", false},
        {"{\"mustNotContain\":\"x265|hevc\"}", "Show x264", true},
        {"{\"mustNotContain\":\"x265|\"}", "Show x264", false},              /* "a|" rejects everything */
        {"{\"mustContain\":\"show\",\"mustNotContain\":\"720p\"}", "Show 720p", false},
        {"{\"useRegex\":true,\"mustContain\":\"^show\\\\.s\\\\d+\"}", "SHOW.S01E01", true},
        {"{\"useRegex\":true,\"mustContain\":\"^show\\\\.s\\\\d+\"}", "a show.s01", false},
        {"{\"useRegex\":true,\"mustContain\":\"a|b\"}", "b", true},          /* one regex, '|' its own */
        {"{\"useRegex\":true,\"mustContain\":\"foo bar\"}", "bar foo", false},
        {"{\"useRegex\":true,\"mustContain\":\"(\"}", "(", false},           /* invalid regex: no match */
        {"{\"useRegex\":true,\"mustNotContain\":\"(\"}", "(", true},
        {"{\"useRegex\":true,\"mustContain\":\"(a+)+$\"}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", false},
    };
    run_cases(c, sizeof c / sizeof c[0]);
}

/* The episode filter. */
static void episode_filter(void **state)
{
    (void)state;
    static const struct mcase c[] = {
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show S01E02 720p", true},
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show S01E03", false},
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show S01E05", true},
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show S01E08", true},
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show 1x15", true},
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show S01E16", false},
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show S01E30", true},
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show S01E99", true},
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show S02E01", true},   /* 30-: later seasons too */
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show S00E40", false},
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show S01E20", false},  /* not "2" followed by 0 */
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show 1x02", true},
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "Show S01.E02", true},
        {"{\"episodeFilter\":\"1x2;8-15;5;30-;\"}", "No episode here", false},
        {"{\"episodeFilter\":\"1x8-15;\"}", "Show S02E10", false},          /* a range is one season */
        {"{\"episodeFilter\":\"1x15-8;\"}", "Show S01E10", false},          /* A > B: ignored */
        {"{\"episodeFilter\":\"1x15-8;10;\"}", "Show S01E10", true},
        {"{\"episodeFilter\":\"1x002;\"}", "Show S01E02", true},            /* leading zeros stripped */
        {"{\"episodeFilter\":\"1x0;\"}", "Show S01E00", true},              /* "0" stays episode zero */
        {"{\"episodeFilter\":\"2x2;\"}", "Show S01E02", false},
        {"{\"episodeFilter\":\"1X2;\"}", "Show s01e02", true},              /* case-insensitive */
        {"{\"episodeFilter\":\"1x2\"}", "Show S01E02", false},              /* must end with ';' */
        {"{\"episodeFilter\":\"x2;\"}", "Show S01E02", false},
        {"{\"episodeFilter\":\"1x;;2;\"}", "Show S01E02", true},            /* empty items skipped */
        {"{\"episodeFilter\":\"3x5-;\"}", "Show S04E01", true},
        {"{\"episodeFilter\":\"3x5-;\"}", "Show S03E04", false},
        {"{\"episodeFilter\":\"3x5-;\"}", "Show S02E40", false},
    };
    run_cases(c, sizeof c / sizeof c[0]);
}

/* The smart filter's episode keys. */
static void smart_keys(void **state)
{
    (void)state;
    static const struct {
        const char *title, *key;
    } c[] = {
        {"Show S01E05 720p", "1x5"},        {"Show.s1e05", "1x5"},          {"Show 01x05", "1x5"},
        {"Show 2017.01.02", "2017.01.02"}, {"Show 02-01-2017", "02-01-2017"}, {"Show_S02E10_", "2x10"},
        {"No episode", ""},                {"ShowS01E05", ""},              /* needs a word boundary */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char *k = rss_smart_filter_episode(smart, c[i].title);
        assert_non_null(k);
        if (strcmp(k, c[i].key) != 0)
            fail_msg("'%s': key '%s', expected '%s'", c[i].title, k, c[i].key);
        free(k);
    }
    /* Filters from the preference, extended syntax (spaces ignored). */
    struct rss_smart_filter *f;
    assert_int_equal(rss_smart_filter_new("\nep (\\d+)\n", &f), 0);
    char *k = rss_smart_filter_episode(f, "Show EP 007");
    assert_string_equal(k, "");   /* "ep (\d+)" in extended syntax is "ep(\d+)" */
    free(k);
    k = rss_smart_filter_episode(f, "Show EP007");
    assert_string_equal(k, "7");
    free(k);
    rss_smart_filter_free(f);
}

/* The smart filter with previouslyMatchedEpisodes, REPACK and PROPER. */
static void smart_accept(void **state)
{
    (void)state;
    struct rss_match_env env = {smart, true};
    struct rss_rule *r = rule_of("{\"smartFilter\":true,\"mustContain\":\"show\"}");
    static const struct {
        const char *title;
        int accepted;
    } steps[] = {
        {"Show S01E05 720p", 1},
        {"Show S01E05 1080p", 0},          /* episode already downloaded */
        {"Show S01E06", 1},
        {"Show without episode", 0},       /* master: unrecognised episode is not accepted */
        {"Show S01E05 REPACK", 1},
        {"Show S01E05 repack 1080p", 0},
        {"Show S01E05 PROPER", 1},
        {"Show S01E05 REPACK PROPER", 1},
        {"Show S01E05 Proper Repack", 0},
        {"Show S01E06 PROPER", 1},
        {"Show 2017.01.02", 1},
        {"Show 2017.01.02", 0},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int rc = rss_rule_accept(r, &env, steps[i].title, 5000 + (int64_t)i);
        if (rc != steps[i].accepted)
            fail_msg("step %zu '%s': %d, expected %d", i, steps[i].title, rc, steps[i].accepted);
    }
    char *s = dump(r);
    assert_non_null(strstr(s, "\"previouslyMatchedEpisodes\":[\"1x5\",\"1x6\",\"1x5-REPACK\",\"1x5-PROPER\","
                              "\"1x5-REPACK-PROPER\",\"1x5-REPACK\",\"1x5-PROPER\",\"1x6-PROPER\",\"2017.01.02\"]"));
    /* lastMatch is the accepted article's date. */
    assert_int_equal(r->last_match, 5000 + 10);
    assert_non_null(strstr(s, "\"lastMatch\":\"01 Jan 1970 01:23:30 +0000\""));
    free(s);
    rss_rule_free(r);

    /* rss_download_repack_proper_episodes off: a seen episode never again. */
    env.download_repacks = false;
    r = rule_of("{\"smartFilter\":true,\"previouslyMatchedEpisodes\":\"1x5\"}");
    assert_int_equal(rss_rule_accept(r, &env, "Show S01E05 REPACK", 1), 0);
    assert_int_equal(rss_rule_accept(r, &env, "Show S01E07", 1), 1);
    rss_rule_free(r);

    /* matches() has no side effects; it reports what accept would record. */
    env.download_repacks = true;
    r = rule_of("{\"smartFilter\":true,\"previouslyMatchedEpisodes\":[\"1x5\"]}");
    struct strv eps = {0};
    assert_true(rss_rule_matches(r, &env, "Show S01E05 REPACK PROPER", 1, &eps));
    assert_int_equal(eps.n, 3);
    assert_string_equal(eps.v[0], "1x5-REPACK-PROPER");
    assert_int_equal(r->episodes.n, 1);
    assert_false(r->has_last_match);
    strv_clear(&eps);
    rss_rule_free(r);
}

/* ignoreDays against lastMatch, and the order of the checks. */
static void ignore_days(void **state)
{
    (void)state;
    struct rss_match_env env = {smart, true};
    struct rss_rule *r = rule_of("{\"ignoreDays\":2,\"lastMatch\":\"Thu, 01 Jan 2026 00:00:00 +0000\"}");
    assert_true(r->has_last_match);
    int64_t lm = r->last_match;
    assert_int_equal(lm, 1767225600);
    assert_false(rss_rule_matches(r, &env, "x", lm + 86400, NULL));
    assert_false(rss_rule_matches(r, &env, "x", lm + 2 * 86400 - 1, NULL));
    assert_true(rss_rule_matches(r, &env, "x", lm + 2 * 86400, NULL));
    assert_int_equal(rss_rule_accept(r, &env, "x", lm + 3 * 86400), 1);
    assert_int_equal(r->last_match, lm + 3 * 86400);
    assert_false(rss_rule_matches(r, &env, "x", lm + 4 * 86400, NULL));
    rss_rule_free(r);
    /* ignoreDays 0: no wait. */
    r = rule_of("{\"ignoreDays\":0,\"lastMatch\":\"Thu, 01 Jan 2026 00:00:00 +0000\"}");
    assert_true(rss_rule_matches(r, &env, "x", 1, NULL));
    rss_rule_free(r);
    /* The smart filter runs last: a title the episode filter rejects records nothing. */
    r = rule_of("{\"smartFilter\":true,\"episodeFilter\":\"1x1;\"}");
    assert_int_equal(rss_rule_accept(r, &env, "Show S01E02", 1), 0);
    assert_int_equal(r->episodes.n, 0);
    assert_int_equal(rss_rule_accept(r, &env, "Show S01E01", 1), 1);
    assert_int_equal(r->episodes.n, 1);
    rss_rule_free(r);
}

/* toJsonObject of a rule with defaults: every key, nulls, -2/"Default". */
static void json_defaults(void **state)
{
    (void)state;
    struct rss_rule *r = rule_of("{}");
    char *s = dump(r);
    assert_string_equal(
        s, "{\"addPaused\":null,\"affectedFeeds\":[],\"assignedCategory\":\"\",\"enabled\":true,"
           "\"episodeFilter\":\"\",\"ignoreDays\":0,\"lastMatch\":\"\",\"mustContain\":\"\",\"mustNotContain\":\"\","
           "\"previouslyMatchedEpisodes\":[],\"priority\":0,\"savePath\":\"\",\"smartFilter\":false,"
           "\"torrentContentLayout\":null,\"torrentParams\":{\"category\":\"\",\"download_limit\":-1,"
           "\"download_path\":\"\",\"inactive_seeding_time_limit\":-2,\"operating_mode\":\"AutoManaged\","
           "\"ratio_limit\":-2,\"save_path\":\"\",\"seeding_time_limit\":-2,"
           "\"share_limit_action\":\"Default\",\"skip_checking\":false,\"ssl_certificate\":\"\","
           "\"ssl_dh_params\":\"\",\"ssl_private_key\":\"\",\"tags\":[],\"upload_limit\":-1},\"useRegex\":false}");
    free(s);
    rss_rule_free(r);
    /* Not an object (setRule's ruleDef that is no JSON): the same defaults. */
    json_t *n = json_integer(3);
    assert_int_equal(rss_rule_from_json(n, "x", &r), 0);
    json_decref(n);
    assert_true(r->enabled);
    assert_string_equal(r->name, "x");
    rss_rule_free(r);
}

/* Parsing: strings or arrays, wrong types read as defaults, legacy keys,
 * torrentParams winning, enum names. */
static void json_parse(void **state)
{
    (void)state;
    struct rss_rule *r = rule_of("{\"enabled\":false,\"priority\":3,\"affectedFeeds\":\"http://a/feed\","
                                 "\"previouslyMatchedEpisodes\":\"1x1\",\"ignoreDays\":\"5\",\"useRegex\":1,"
                                 "\"mustContain\":7}");
    assert_false(r->enabled);
    assert_int_equal(r->priority, 3);
    assert_int_equal(r->feeds.n, 1);
    assert_string_equal(r->feeds.v[0], "http://a/feed");
    assert_int_equal(r->episodes.n, 1);
    assert_int_equal(r->ignore_days, 0);
    assert_false(r->use_regex);
    assert_string_equal(r->must_contain, "");
    rss_rule_free(r);

    /* 4.5's keys. */
    r = rule_of("{\"savePath\":\"/tmp//dl/\",\"assignedCategory\":\"tv\",\"addPaused\":true,"
                "\"torrentContentLayout\":\"Subfolder\"}");
    char *s = dump(r);
    assert_non_null(strstr(s, "\"addPaused\":true"));
    assert_non_null(strstr(s, "\"savePath\":\"/tmp/dl\""));
    assert_non_null(strstr(s, "\"assignedCategory\":\"tv\""));
    assert_non_null(strstr(s, "\"torrentContentLayout\":\"Subfolder\""));
    assert_non_null(strstr(s, "\"category\":\"tv\""));
    assert_non_null(strstr(s, "\"content_layout\":\"Subfolder\""));
    assert_non_null(strstr(s, "\"stopped\":true"));
    assert_non_null(strstr(s, "\"use_auto_tmm\":false"));   /* a save path turns ATM off */
    free(s);
    rss_rule_free(r);
    r = rule_of("{\"createSubfolder\":false}");
    assert_int_equal(r->tp.layout, RSS_LAYOUT_NOSUBFOLDER);
    rss_rule_free(r);
    r = rule_of("{\"createSubfolder\":true,\"addPaused\":null}");
    assert_int_equal(r->tp.layout, RSS_LAYOUT_ORIGINAL);
    assert_int_equal(r->tp.stopped, RSS_OPT_UNSET);
    rss_rule_free(r);
    r = rule_of("{\"torrentContentLayout\":\"\",\"createSubfolder\":false}");
    assert_int_equal(r->tp.layout, RSS_LAYOUT_UNSET);   /* the key is there: createSubfolder unread */
    rss_rule_free(r);

    /* torrentParams wins over the 4.5 keys. */
    r = rule_of("{\"savePath\":\"/old\",\"assignedCategory\":\"old\",\"addPaused\":true,"
                "\"torrentParams\":{\"category\":\"new\",\"tags\":[\" b \",\"a10\",\"a9\",\"b\",\"\"],"
                "\"save_path\":\"/new\",\"stopped\":false,\"operating_mode\":\"Forced\",\"seed_mode\":true,"
                "\"content_layout\":\"Bogus\",\"stop_condition\":\"FilesChecked\",\"ratio_limit\":1.5,"
                "\"upload_limit\":1024,\"share_limit_action\":\"RemoveWithContent\","
                "\"use_auto_tmm\":null,\"use_download_path\":true,\"download_path\":\"/inc\"}}");
    s = dump(r);
    assert_non_null(strstr(s, "\"assignedCategory\":\"new\""));
    assert_non_null(strstr(s, "\"savePath\":\"/new\""));
    assert_non_null(strstr(s, "\"addPaused\":false"));
    assert_non_null(strstr(s, "\"torrentContentLayout\":\"Original\""));   /* an unknown name is Original */
    assert_non_null(strstr(s, "\"tags\":[\"\",\"a9\",\"a10\",\"b\"]"));
    assert_non_null(strstr(s, "\"operating_mode\":\"Forced\""));
    assert_non_null(strstr(s, "\"skip_checking\":true"));   /* master's seed_mode read as 5.1's skip_checking */
    assert_non_null(strstr(s, "\"stop_condition\":\"FilesChecked\""));
    assert_non_null(strstr(s, "\"ratio_limit\":1.5"));
    assert_non_null(strstr(s, "\"upload_limit\":1024"));
    assert_non_null(strstr(s, "\"share_limit_action\":\"RemoveWithContent\""));
    assert_non_null(strstr(s, "\"use_download_path\":true"));
    assert_null(strstr(s, "use_auto_tmm"));
    assert_null(strstr(s, "seed_mode"));
    free(s);

    /* Round trip, dup and equality (previouslyMatchedEpisodes aside). */
    struct rss_rule *d = rss_rule_dup(r);
    assert_non_null(d);
    assert_true(rss_rule_same(r, d));
    char *a = dump(r), *b = dump(d);
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_int_equal(strv_push(&d->episodes, "1x1"), 0);
    assert_true(rss_rule_same(r, d));
    d->priority = 9;
    assert_false(rss_rule_same(r, d));
    rss_rule_free(d);
    rss_rule_free(r);

    /* name from the object when none is given. */
    json_t *j = json_pack("{s:s}", "name", "named");
    assert_int_equal(rss_rule_from_json(j, NULL, &r), 0);
    assert_string_equal(r->name, "named");
    json_decref(j);
    rss_rule_free(r);
}

static void dates(void **state)
{
    (void)state;
    char buf[40];
    rss_rule_format_date(1765136000, buf, sizeof buf);
    assert_string_equal(buf, "07 Dec 2025 19:33:20 +0000");
    int64_t t;
    assert_true(rss_rule_parse_date("Sun, 07 Dec 2025 19:33:20 +0000", &t));
    assert_int_equal(t, 1765136000);
    assert_true(rss_rule_parse_date("07 Dec 2025 20:33:20 +0100", &t));
    assert_int_equal(t, 1765136000);
    assert_false(rss_rule_parse_date("", &t));
    assert_false(rss_rule_parse_date("not a date", &t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(contain),      cmocka_unit_test(episode_filter), cmocka_unit_test(smart_keys),
        cmocka_unit_test(smart_accept), cmocka_unit_test(ignore_days),    cmocka_unit_test(json_defaults),
        cmocka_unit_test(json_parse),   cmocka_unit_test(dates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
