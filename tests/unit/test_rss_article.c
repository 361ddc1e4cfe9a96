#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rss/article.h"

/* qBittorrent's dedup key: guid, else torrent URL, else title; "" is absent. */
static void pick_id(void **state)
{
    (void)state;
    assert_string_equal(rss_article_pick_id("g", "u", "t"), "g");
    assert_string_equal(rss_article_pick_id("", "u", "t"), "u");
    assert_string_equal(rss_article_pick_id(NULL, "u", "t"), "u");
    assert_string_equal(rss_article_pick_id(NULL, "", "t"), "t");
    assert_string_equal(rss_article_pick_id(NULL, NULL, "t"), "t");
    assert_string_equal(rss_article_pick_id(NULL, NULL, NULL), "");
    assert_string_equal(rss_article_pick_id("", "", ""), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pick_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
