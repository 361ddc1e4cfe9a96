/* rss/autodl: qBittorrent's auto-downloader driven with a fake feed list
 * and a fake add path: which articles are downloaded by which rule,
 * marked read, rss_auto_downloading_enabled acting, the rule set's
 * operations, matchingArticles, and the rules surviving a restart in the
 * store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <uv.h>

#include "core/settings.h"
#include "rss/autodl.h"
#include "store/store.h"

/* ---- a fake feed list ---- */

struct fart {
    const char *feed_url, *feed_name;
    struct rss_article a;
};

static struct fart arts[16];
static size_t n_arts;

static void art(const char *feed, const char *name, const char *id, const char *title, const char *url,
                int64_t date)
{
    arts[n_arts++] = (struct fart){feed, name, {id, title, url, "", date, false}};
}

static int fake_walk(void *ud, rss_article_fn fn, void *fn_ud)
{
    (void)ud;
    for (size_t i = 0; i < n_arts; i++) {
        struct rss_feed_ref f = {arts[i].feed_url, arts[i].feed_name};
        int rc = fn(fn_ud, &f, &arts[i].a);
        if (rc)
            return rc;
    }
    return 0;
}

static int fake_mark_read(void *ud, const char *feed_url, const char *id)
{
    (void)ud;
    for (size_t i = 0; i < n_arts; i++)
        if (strcmp(arts[i].feed_url, feed_url) == 0 && strcmp(arts[i].a.id, id) == 0)
            arts[i].a.is_read = true;
    return 0;
}

static bool is_read(const char *id)
{
    for (size_t i = 0; i < n_arts; i++)
        if (strcmp(arts[i].a.id, id) == 0)
            return arts[i].a.is_read;
    fail_msg("no article %s", id);
    return false;
}

/* ---- a fake add path ---- */

static char added[16][128];
static char added_cat[16][64];
static size_t n_added;
static int add_rc;   /* what the add reports through done */

static int fake_add(void *ud, const char *url, const struct rss_rule_params *tp, rss_autodl_added_fn done,
                    void *done_ud)
{
    (void)ud;
    snprintf(added[n_added], sizeof added[0], "%s", url);
    snprintf(added_cat[n_added], sizeof added_cat[0], "%s", tp->category);
    n_added++;
    done(done_ud, add_rc);
    return 0;
}

/* ---- fixture ---- */

struct fx {
    uv_loop_t loop;
    struct settings set;
    char dir[64], path[96];
    struct store *st;
    struct rss_autodl *a;
};

static struct rss_autodl *start(struct fx *f)
{
    struct rss_autodl_config c = {
        .loop = &f->loop, .store = f->st, .settings = &f->set,
        .feeds = {fake_walk, fake_mark_read, NULL}, .add = fake_add,
    };
    struct rss_autodl *a;
    assert_int_equal(rss_autodl_new(&c, &a), 0);
    return a;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(settings_init(&f->set), 0);
    strcpy(f->dir, "/tmp/td_autodl_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/torrentd.db", f->dir);
    assert_int_equal(store_open(&f->loop, f->path, &f->st), 0);
    n_arts = n_added = 0;
    add_rc = 0;
    memset(arts, 0, sizeof arts);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    rss_autodl_free(f->a);
    store_close(f->st);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    settings_free(&f->set);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

struct rec {
    int calls, rc;
};

static void on_done(void *ud, int rc)
{
    struct rec *r = ud;
    r->calls++;
    r->rc = rc;
}

static void wait_rec(struct fx *f, struct rec *r)
{
    for (int i = 0; i < 10000 && !r->calls; i++)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(r->calls, 1);
}

static void set_rule(struct fx *f, const char *name, const char *json)
{
    json_error_t e;
    json_t *j = json_loads(json, 0, &e);
    assert_non_null(j);
    struct rss_rule *r;
    assert_int_equal(rss_rule_from_json(j, name, &r), 0);
    json_decref(j);
    struct rec rec = {0};
    assert_int_equal(rss_autodl_set_rule(f->a, r, on_done, &rec), 0);
    wait_rec(f, &rec);
    assert_int_equal(rec.rc, 0);
}

static void enable(struct fx *f, bool on)
{
    struct settings_mask m = {0};
    assert_int_equal(settings_set_bool(&f->set, SET_RSS_AUTO_DOWNLOADING_ENABLED, on, &m), 0);
    settings_notify(&f->set, &m);
}

static void feed_fixture(void)
{
    art("http://f1/rss", "Feed One", "a1", "Show S01E01 720p", "http://t/1.torrent", 1000);
    art("http://f1/rss", "Feed One", "a2", "Show S01E02 1080p", "http://t/2.torrent", 2000);
    art("http://f1/rss", "Feed One", "a3", "Other S01E01", "http://t/3.torrent", 3000);
    art("http://f2/rss", "Feed Two", "b1", "Show S01E03 720p", "http://t/4.torrent", 4000);
    art("http://f2/rss", "Feed Two", "b2", "Show S01E04 no url", "", 5000);
}

/* Off: nothing is processed; switched on: every unread article goes to the
 * first enabled rule (priority order) of its feed that accepts it. */
static void processing(void **state)
{
    struct fx *f = *state;
    feed_fixture();
    f->a = start(f);
    set_rule(f, "late", "{\"priority\":5,\"mustContain\":\"show\",\"affectedFeeds\":[\"http://f1/rss\","
                        "\"http://f2/rss\"],\"torrentParams\":{\"category\":\"late\"}}");
    set_rule(f, "early", "{\"priority\":1,\"mustContain\":\"720p\",\"affectedFeeds\":\"http://f1/rss\","
                         "\"torrentParams\":{\"category\":\"early\"}}");
    set_rule(f, "off", "{\"enabled\":false,\"priority\":0,\"affectedFeeds\":[\"http://f1/rss\"]}");
    assert_string_equal(rss_autodl_rule_at(f->a, 0)->name, "off");
    assert_string_equal(rss_autodl_rule_at(f->a, 1)->name, "early");
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(n_added, 0);   /* rss_auto_downloading_enabled is off by default */

    enable(f, true);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(n_added, 3);
    assert_string_equal(added[0], "http://t/1.torrent");
    assert_string_equal(added_cat[0], "early");
    assert_string_equal(added[1], "http://t/2.torrent");
    assert_string_equal(added_cat[1], "late");
    assert_string_equal(added[2], "http://t/4.torrent");
    assert_string_equal(added_cat[2], "late");
    assert_true(is_read("a1") && is_read("a2") && is_read("b1"));
    assert_false(is_read("a3") || is_read("b2"));
    struct rss_rule *late = rss_autodl_find(f->a, "late");
    assert_true(late->has_last_match);
    assert_int_equal(late->last_match, 4000);

    /* A new article arrives: processed from the timer. */
    art("http://f2/rss", "Feed Two", "b3", "Show S01E05", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", 6000);
    struct rss_feed_ref ref = {"http://f2/rss", "Feed Two"};
    rss_autodl_on_new_article(f->a, &ref, &arts[n_arts - 1].a);
    assert_int_equal(n_added, 3);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(n_added, 4);
    assert_true(is_read("b3"));

    /* Off again: new articles are ignored. */
    enable(f, false);
    art("http://f2/rss", "Feed Two", "b4", "Show S01E06", "http://t/6.torrent", 7000);
    rss_autodl_on_new_article(f->a, &ref, &arts[n_arts - 1].a);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(n_added, 4);
    assert_false(is_read("b4"));
}

/* A failed add leaves the article unread; a duplicate marks it read. */
static void add_outcomes(void **state)
{
    struct fx *f = *state;
    assert_int_equal(settings_set_bool(&f->set, SET_RSS_AUTO_DOWNLOADING_ENABLED, true, NULL), 0);
    art("http://f1/rss", "Feed One", "a1", "Show S01E01", "http://t/1.torrent", 1000);
    f->a = start(f);
    add_rc = -EIO;
    set_rule(f, "r", "{\"affectedFeeds\":[\"http://f1/rss\"]}");
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(n_added, 1);
    assert_false(is_read("a1"));
    /* A changed rule re-queues every unread article. */
    add_rc = -EEXIST;
    set_rule(f, "r", "{\"affectedFeeds\":[\"http://f1/rss\"],\"priority\":2}");
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(n_added, 2);
    assert_true(is_read("a1"));
}

/* The smart filter across articles and the history it keeps. */
static void smart_history(void **state)
{
    struct fx *f = *state;
    assert_int_equal(settings_set_bool(&f->set, SET_RSS_AUTO_DOWNLOADING_ENABLED, true, NULL), 0);
    art("http://f1/rss", "F", "1", "Show S01E01 720p", "http://t/1", 1000);
    art("http://f1/rss", "F", "2", "Show S01E01 1080p", "http://t/2", 900);
    art("http://f1/rss", "F", "3", "Show S01E01 REPACK", "http://t/3", 800);
    f->a = start(f);
    set_rule(f, "s", "{\"smartFilter\":true,\"affectedFeeds\":[\"http://f1/rss\"]}");
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(n_added, 2);
    assert_string_equal(added[0], "http://t/1");
    assert_string_equal(added[1], "http://t/3");
    struct rss_rule *r = rss_autodl_find(f->a, "s");
    assert_int_equal(r->episodes.n, 2);
    assert_string_equal(r->episodes.v[1], "1x1-REPACK");

    /* rss_download_repack_proper_episodes off. */
    assert_int_equal(settings_set_bool(&f->set, SET_RSS_DOWNLOAD_REPACK_PROPER_EPISODES, false, NULL), 0);
    art("http://f1/rss", "F", "4", "Show S01E01 PROPER", "http://t/4", 700);
    struct rss_feed_ref ref = {"http://f1/rss", "F"};
    rss_autodl_on_new_article(f->a, &ref, &arts[n_arts - 1].a);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(n_added, 2);

    /* The smart filters preference is applied live. */
    struct settings_mask m = {0};
    assert_int_equal(settings_set_str(&f->set, SET_RSS_SMART_EPISODE_FILTERS, "ep(\\d+)", &m), 0);
    settings_notify(&f->set, &m);
    art("http://f1/rss", "F", "5", "Show ep7", "http://t/5", 600);
    rss_autodl_on_new_article(f->a, &ref, &arts[n_arts - 1].a);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(n_added, 3);
    assert_string_equal(r->episodes.v[2], "7");
}

/* rename, clone, remove, rules and matchingArticles. */
static void rule_ops(void **state)
{
    struct fx *f = *state;
    feed_fixture();
    f->a = start(f);
    set_rule(f, "a", "{\"mustContain\":\"show\",\"affectedFeeds\":[\"http://f1/rss\",\"http://f2/rss\","
                     "\"http://gone/rss\"],\"previouslyMatchedEpisodes\":[\"1x1\"],"
                     "\"lastMatch\":\"Thu, 01 Jan 2026 00:00:00 +0000\"}");
    struct rec rec = {0};
    assert_int_equal(rss_autodl_rename_rule(f->a, "x", "y", on_done, &rec), -ENOENT);
    assert_int_equal(rss_autodl_clone_rule(f->a, "a", "a", on_done, &rec), -EEXIST);
    assert_int_equal(rss_autodl_clone_rule(f->a, "a", "b", on_done, &rec), 0);
    wait_rec(f, &rec);
    struct rss_rule *b = rss_autodl_find(f->a, "b");
    assert_false(b->enabled);
    assert_int_equal(b->episodes.n, 0);
    assert_false(b->has_last_match);
    assert_int_equal(b->feeds.n, 3);

    memset(&rec, 0, sizeof rec);
    assert_int_equal(rss_autodl_rename_rule(f->a, "b", "a", on_done, &rec), -EEXIST);
    assert_int_equal(rss_autodl_rename_rule(f->a, "b", "c", on_done, &rec), 0);
    wait_rec(f, &rec);
    assert_null(rss_autodl_find(f->a, "b"));
    assert_non_null(rss_autodl_find(f->a, "c"));

    /* matchingArticles: by feed name, only feeds with a match, no side effects. */
    json_t *m = rss_autodl_matching_articles(f->a, "c");
    char *s = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"Feed One\":[\"Show S01E01 720p\",\"Show S01E02 1080p\"],"
                           "\"Feed Two\":[\"Show S01E03 720p\",\"Show S01E04 no url\"]}");
    free(s);
    json_decref(m);
    assert_false(rss_autodl_find(f->a, "c")->has_last_match);
    m = rss_autodl_matching_articles(f->a, "nope");
    assert_int_equal(json_object_size(m), 0);
    json_decref(m);

    json_t *all = rss_autodl_rules_json(f->a);
    assert_int_equal(json_object_size(all), 2);
    assert_true(json_is_false(json_object_get(json_object_get(all, "c"), "enabled")));
    json_decref(all);

    memset(&rec, 0, sizeof rec);
    assert_int_equal(rss_autodl_remove_rule(f->a, "c", on_done, &rec), 0);
    wait_rec(f, &rec);
    assert_int_equal(rss_autodl_remove_rule(f->a, "c", on_done, &rec), -ENOENT);
    assert_int_equal(rss_autodl_count(f->a), 1);

    /* A feed's URL changes: the rule follows it. */
    rss_autodl_feed_url_changed(f->a, "http://f2/rss", "http://f2/new");
    struct rss_rule *ra = rss_autodl_find(f->a, "a");
    assert_string_equal(ra->feeds.v[1], "http://f2/new");
    assert_string_equal(ra->feeds.v[0], "http://f1/rss");

    /* The same rule again but for its history: no change. */
    memset(&rec, 0, sizeof rec);
    struct rss_rule *same = rss_rule_dup(rss_autodl_find(f->a, "a"));
    strv_clear(&same->episodes);
    assert_int_equal(rss_autodl_set_rule(f->a, same, on_done, &rec), 0);
    assert_int_equal(rec.calls, 1);
    assert_int_equal(rss_autodl_find(f->a, "a")->episodes.n, 1);
}

/* Rules, their order and their history survive a restart. */
static void persistence(void **state)
{
    struct fx *f = *state;
    assert_int_equal(settings_set_bool(&f->set, SET_RSS_AUTO_DOWNLOADING_ENABLED, true, NULL), 0);
    art("http://f1/rss", "F", "1", "Show S01E01", "http://t/1", 1767225600);
    f->a = start(f);
    set_rule(f, "z", "{\"priority\":-1,\"smartFilter\":true,\"affectedFeeds\":[\"http://f1/rss\"]}");
    set_rule(f, "a", "{\"priority\":3}");
    set_rule(f, "gone", "{}");
    struct rec rec = {0};
    assert_int_equal(rss_autodl_rename_rule(f->a, "gone", "kept", on_done, &rec), 0);
    wait_rec(f, &rec);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(n_added, 1);
    memset(&rec, 0, sizeof rec);
    assert_int_equal(store_flush(f->st, on_done, &rec), 0);
    wait_rec(f, &rec);
    rss_autodl_free(f->a);
    store_close(f->st);
    uv_run(&f->loop, UV_RUN_DEFAULT);

    assert_int_equal(store_open(&f->loop, f->path, &f->st), 0);
    f->a = start(f);
    assert_int_equal(rss_autodl_count(f->a), 3);
    assert_string_equal(rss_autodl_rule_at(f->a, 0)->name, "z");
    assert_string_equal(rss_autodl_rule_at(f->a, 1)->name, "kept");
    assert_string_equal(rss_autodl_rule_at(f->a, 2)->name, "a");
    struct rss_rule *z = rss_autodl_find(f->a, "z");
    assert_int_equal(z->episodes.n, 1);
    assert_string_equal(z->episodes.v[0], "1x1");
    assert_true(z->has_last_match);
    assert_int_equal(z->last_match, 1767225600);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(n_added, 1);   /* the article was read */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(processing, setup, teardown),
        cmocka_unit_test_setup_teardown(add_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(smart_history, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(persistence, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
