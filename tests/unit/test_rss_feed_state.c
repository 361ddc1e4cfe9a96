/* rss/feeds' rss_feeds_feed_state (the µTorrent dialect's NEXT_UPDATE and
 * DOWNLOAD_STATE): title after a document, next refresh only while
 * processing is on, -ENOENT for an unknown URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/session.h"
#include "rss/feeds.h"
#include "rss/feeds_int.h"
#include "store/store.h"
#include "util/log.h"

static int g_done;

static void on_done(void *ud, int rc)
{
    (void)ud;
    assert_int_equal(rc, 0);
    g_done++;
}

static void feed_state(void **state)
{
    (void)state;
    log_set_quiet(1);
    char dir[] = "/tmp/td_rss_state_XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/torrentd.db", dir);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct session *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->loop = &loop;
    assert_int_equal(store_open(&loop, path, &s->store), 0);
    struct rss_feeds_config c = {.refresh_interval_min = 30, .fetch_delay_s = 0, .max_articles = 5};
    struct rss_feeds *f;
    assert_int_equal(rss_feeds_new(s, &c, &f), 0);
    char err[256] = "";
    assert_int_equal(rss_feeds_add_feed(f, "http://x/feed", "Feed", 0, err, sizeof err, on_done, NULL), 0);
    while (g_done < 1)
        uv_run(&loop, UV_RUN_ONCE);

    struct rss_feed_state st;
    assert_int_equal(rss_feeds_feed_state(f, "http://x/other", &st), -ENOENT);
    assert_int_equal(rss_feeds_feed_state(f, "http://x/feed", &st), 0);
    assert_string_equal(st.title, "");
    assert_int_equal(st.next_refresh, 0);
    assert_false(st.loading);
    assert_false(st.has_error);

    struct rss_node *n = rss_find(f, "Feed");
    assert_non_null(n);
    const char *doc = "<rss><channel><title>Its Title</title><item><title>A</title><guid>a</guid></item>"
                      "</channel></rss>";
    rss_apply_document(f, n, (const uint8_t *)doc, strlen(doc));
    const char *bad = "<html>no feed</html>";
    rss_apply_document(f, n, (const uint8_t *)bad, strlen(bad));
    /* scheduled, but processing is off: nothing will run, so nothing shown */
    n->next_refresh_ms = 4102444800000;   /* 2100-01-01 */
    assert_int_equal(rss_feeds_feed_state(f, "http://x/feed", &st), 0);
    assert_string_equal(st.title, "Its Title");
    assert_true(st.has_error);
    assert_int_equal(st.next_refresh, 0);
    c.processing = true;
    f->cfg.processing = true;   /* as rss_feeds_configure would, without starting the timer */
    assert_int_equal(rss_feeds_feed_state(f, "http://x/feed", &st), 0);
    assert_int_equal(st.next_refresh, 4102444800);
    f->cfg.processing = false;

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
        cmocka_unit_test(feed_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
