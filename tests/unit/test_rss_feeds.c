/* rss/feeds over a real store: merging (cap, order, dedup), the
 * auto-downloader's API (walk, mark_read, new-article events after the
 * commit) and everything surviving a reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/session.h"
#include "rss/feeds.h"
#include "rss/feeds_int.h"
#include "store/store.h"
#include "util/log.h"

static int g_done, g_rc;
static char g_new[16][64];
static int g_nnew;

static void on_done(void *ud, int rc)
{
    (void)ud;
    g_done++;
    if (rc)
        g_rc = rc;
}

static char g_url_change[128];

static void on_url(void *ud, const char *old_url, const char *new_url)
{
    (void)ud;
    snprintf(g_url_change, sizeof g_url_change, "%s>%s", old_url, new_url);
}

static void on_new(void *ud, const struct rss_feed_ref *feed, const struct rss_article *a)
{
    (void)ud;
    assert_string_equal(feed->url, "http://x/feed");
    if (g_nnew < 16)
        snprintf(g_new[g_nnew++], 64, "%s", a->title);
}

struct walked {
    char titles[16][64];
    bool read[16];
    int64_t dates[16];
    int n;
};

static int on_walk(void *ud, const struct rss_feed_ref *feed, const struct rss_article *a)
{
    (void)feed;
    struct walked *w = ud;
    if (w->n < 16) {
        snprintf(w->titles[w->n], 64, "%s", a->title);
        w->read[w->n] = a->is_read;
        w->dates[w->n] = a->date;
        w->n++;
    }
    return 0;
}

static void wait_done(uv_loop_t *loop, int want)
{
    while (g_done < want)
        uv_run(loop, UV_RUN_ONCE);
}

static const char *item(char *buf, size_t len, int i, int day)
{
    snprintf(buf, len, "<item><title>T%d</title><guid>g%d</guid><pubDate>%02d Jun 2003 00:00:00 GMT</pubDate></item>",
             i, i, day);
    return buf;
}

static void apply(struct rss_feeds *f, struct rss_node *n, const int *ids, const int *days, int cnt)
{
    char doc[4096] = "<rss><channel><title>Feed Title</title>", b[256];
    for (int i = 0; i < cnt; i++)
        strcat(doc, item(b, sizeof b, ids[i], days[i]));
    strcat(doc, "</channel></rss>");
    rss_apply_document(f, n, (const uint8_t *)doc, strlen(doc));
}

static void feeds_roundtrip(void **state)
{
    (void)state;
    log_set_quiet(1);
    char dir[] = "/tmp/td_rss_XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/torrentd.db", dir);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct session *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->loop = &loop;
    assert_int_equal(store_open(&loop, path, &s->store), 0);

    struct rss_feeds_config c = {.refresh_interval_min = 30, .fetch_delay_s = 0, .max_articles = 3};
    struct rss_feeds *f;
    assert_int_equal(rss_feeds_new(s, &c, &f), 0);
    char err[256] = "";
    assert_int_equal(rss_feeds_add_folder(f, "F", err, sizeof err, on_done, NULL), 0);
    assert_int_equal(rss_feeds_add_feed(f, "http://x/feed", "F\\Feed", 0, err, sizeof err, on_done, NULL), 0);
    assert_int_equal(rss_feeds_add_feed(f, "http://x/feed", "G", 0, err, sizeof err, on_done, NULL), -EEXIST);
    assert_string_equal(err, "RSS feed with given URL already exists: http://x/feed.");
    assert_int_equal(g_done, 0);   /* only after the commit */
    wait_done(&loop, 2);
    assert_int_equal(g_rc, 0);
    rss_feeds_on_new_article(f, on_new, NULL);

    struct rss_node *n = rss_find(f, "F\\Feed");
    assert_non_null(n);
    /* four articles, cap 3: the three newest, announced oldest first once stored */
    apply(f, n, (int[]){1, 2, 3, 4}, (int[]){1, 2, 3, 4}, 4);
    assert_int_equal(g_nnew, 0);
    while (g_nnew < 3)
        uv_run(&loop, UV_RUN_ONCE);
    assert_string_equal(g_new[0], "T2");
    assert_string_equal(g_new[1], "T3");
    assert_string_equal(g_new[2], "T4");
    struct walked w = {0};
    assert_int_equal(rss_feeds_walk(f, on_walk, &w), 0);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.titles[0], "T4");
    assert_string_equal(w.titles[2], "T2");
    assert_int_equal(w.dates[0], 1054425600 + 3 * 86400);   /* 04 Jun 2003 */
    /* an older article than the kept ones: not added; a newer one: added, the oldest dropped */
    g_nnew = 0;
    apply(f, n, (int[]){0, 5, 4}, (int[]){1, 9, 4}, 3);
    while (g_nnew < 1)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(g_nnew, 1);
    assert_string_equal(g_new[0], "T5");
    memset(&w, 0, sizeof w);
    rss_feeds_walk(f, on_walk, &w);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.titles[0], "T5");
    assert_string_equal(w.titles[1], "T4");
    assert_string_equal(w.titles[2], "T3");
    /* the title came with the document; the feed kept its given name */
    assert_string_equal(n->title, "Feed Title");
    assert_non_null(rss_find(f, "F\\Feed"));

    assert_int_equal(rss_feeds_mark_read(f, "http://x/feed", "g4"), 0);
    assert_int_equal(rss_feeds_mark_read(f, "http://x/feed", "nope"), -ENOENT);
    assert_int_equal(rss_feeds_mark_read(f, "http://other/", "g4"), -ENOENT);
    g_done = 0;
    assert_int_equal(rss_feeds_add_folder(f, "Z", err, sizeof err, on_done, NULL), 0);
    wait_done(&loop, 1);   /* after the mark_read's row too: jobs commit in order */
    json_t *before = rss_feeds_json(f, true);
    assert_non_null(before);
    json_t *arts = json_object_get(json_object_get(json_object_get(before, "F"), "Feed"), "articles");
    assert_int_equal(json_array_size(arts), 3);
    assert_true(json_is_true(json_object_get(json_array_get(arts, 1), "isRead")));
    assert_null(json_object_get(json_array_get(arts, 0), "isRead"));

    rss_feeds_free(f);
    store_close(s->store);
    uv_run(&loop, UV_RUN_DEFAULT);

    /* reopen: the same tree, articles, read state */
    assert_int_equal(store_open(&loop, path, &s->store), 0);
    assert_int_equal(rss_feeds_new(s, &c, &f), 0);
    json_t *after = rss_feeds_json(f, true);
    assert_true(json_equal(before, after));
    json_decref(after);
    memset(&w, 0, sizeof w);
    rss_feeds_walk(f, on_walk, &w);
    assert_int_equal(w.n, 3);
    assert_true(w.read[1]);
    assert_false(w.read[0]);
    /* setFeedURL: the subscriber hears of it at once */
    rss_feeds_on_url_changed(f, on_url, NULL);
    g_done = 0;
    assert_int_equal(rss_feeds_set_url(f, "F\\Feed", "http://x/feed", err, sizeof err, on_done, NULL), 0);
    assert_string_equal(g_url_change, "");   /* unchanged: no event */
    assert_int_equal(rss_feeds_set_url(f, "F\\Feed", "http://x/feed2", err, sizeof err, on_done, NULL), 0);
    assert_string_equal(g_url_change, "http://x/feed>http://x/feed2");
    assert_int_equal(rss_feeds_set_url(f, "F\\Feed", "http://x/feed", err, sizeof err, on_done, NULL), 0);
    wait_done(&loop, 3);
    /* a folder: marks every feed below it */
    g_done = 0;
    assert_int_equal(rss_feeds_mark_item_read(f, "F", NULL, on_done, NULL), 0);
    wait_done(&loop, 1);
    memset(&w, 0, sizeof w);
    rss_feeds_walk(f, on_walk, &w);
    assert_true(w.read[0] && w.read[1] && w.read[2]);
    /* remove: the articles row goes with the feed */
    g_done = 0;
    assert_int_equal(rss_feeds_remove(f, "F", err, sizeof err, on_done, NULL), 0);
    wait_done(&loop, 1);
    memset(&w, 0, sizeof w);
    rss_feeds_walk(f, on_walk, &w);
    assert_int_equal(w.n, 0);
    json_decref(before);
    rss_feeds_free(f);
    store_close(s->store);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(store_open(&loop, path, &s->store), 0);
    assert_int_equal(rss_feeds_new(s, &c, &f), 0);
    json_t *t = rss_feeds_json(f, false);
    assert_non_null(json_object_get(t, "Z"));
    assert_null(json_object_get(t, "F"));
    json_decref(t);
    rss_feeds_free(f);
    store_close(s->store);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(s);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(feeds_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
