/* Tests for core/catalog: category and tag rules, save paths, change
 * tracking, and persistence through a real store (SQLite in a temp dir). */
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

#include "util/natcmp.h"
#include "core/catalog.h"
#include "store/store.h"
#include "util/log.h"

static struct catalog *mem(void)
{
    struct catalog *c;
    assert_int_equal(catalog_new(NULL, &c), 0);
    return c;
}

static void test_category_names(void **state)
{
    (void)state;
    assert_true(catalog_category_name_valid("movies"));
    assert_true(catalog_category_name_valid("a/b"));
    assert_true(catalog_category_name_valid("a b/c d"));
    assert_false(catalog_category_name_valid(""));
    assert_false(catalog_category_name_valid(NULL));
    assert_false(catalog_category_name_valid("/a"));
    assert_false(catalog_category_name_valid("a/"));
    assert_false(catalog_category_name_valid("a//b"));
    assert_false(catalog_category_name_valid("a\\b"));
    char big[CATALOG_MAX_NAME + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_false(catalog_category_name_valid(big));
}

static int g_calls, g_rc;
static void on_done(void *ud, int rc)
{
    (void)ud;
    g_calls++;
    g_rc = rc;
}

static void test_category_crud(void **state)
{
    (void)state;
    struct catalog *c = mem();
    struct catalog_category_opts o = {.save_path = "/data/movies"};
    g_calls = 0;
    assert_int_equal(catalog_category_add(c, "movies", &o, false, on_done, NULL), 0);
    assert_int_equal(g_calls, 1);
    assert_int_equal(g_rc, 0);
    assert_int_equal(catalog_category_add(c, "movies", NULL, false, on_done, NULL), -EEXIST);
    assert_int_equal(catalog_category_add(c, "bad/", NULL, false, on_done, NULL), -EINVAL);
    assert_int_equal(g_calls, 1);   /* no callback on failure */
    const struct catalog_category *k = catalog_category_find(c, "movies");
    assert_non_null(k);
    assert_string_equal(k->save_path, "/data/movies");
    assert_int_equal(k->dl_mode, CATALOG_DL_DEFAULT);
    assert_null(catalog_category_find(c, "Movies"));   /* case-sensitive like qBittorrent */

    struct catalog_category_opts e = {.save_path = "/x", .dl_mode = CATALOG_DL_ON, .download_path = "/tmp/i"};
    assert_int_equal(catalog_category_edit(c, "movies", &e, NULL, NULL), 0);
    k = catalog_category_find(c, "movies");
    assert_string_equal(k->save_path, "/x");
    assert_int_equal(k->dl_mode, CATALOG_DL_ON);
    assert_string_equal(k->download_path, "/tmp/i");
    assert_int_equal(catalog_category_edit(c, "nope", &e, NULL, NULL), -ENOENT);
    struct catalog_category_opts bad = {.dl_mode = (enum catalog_dl_mode)7};
    assert_int_equal(catalog_category_edit(c, "movies", &bad, NULL, NULL), -EINVAL);

    assert_int_equal(catalog_category_add(c, "b", NULL, false, NULL, NULL), 0);
    assert_int_equal(catalog_category_add(c, "a", NULL, false, NULL, NULL), 0);
    assert_int_equal(c->num_cats, 3);
    assert_string_equal(c->cats[0].name, "a");   /* kept sorted */
    assert_string_equal(c->cats[1].name, "b");
    assert_int_equal(catalog_category_remove(c, "b", false, NULL, NULL), 0);
    assert_int_equal(catalog_category_remove(c, "b", false, NULL, NULL), -ENOENT);
    assert_int_equal(catalog_category_remove(c, "", false, NULL, NULL), -ENOENT);
    assert_int_equal(c->num_cats, 2);
    catalog_free(c);
}

static void test_subcategories(void **state)
{
    (void)state;
    struct catalog *c = mem();
    /* Off: "a/b" is just a name. */
    assert_int_equal(catalog_category_add(c, "x/y", NULL, false, NULL, NULL), 0);
    assert_null(catalog_category_find(c, "x"));
    /* On: parents are created. */
    assert_int_equal(catalog_category_add(c, "a/b/c", NULL, true, NULL, NULL), 0);
    assert_non_null(catalog_category_find(c, "a"));
    assert_non_null(catalog_category_find(c, "a/b"));
    assert_non_null(catalog_category_find(c, "a/b/c"));
    assert_int_equal(catalog_category_add(c, "ab", NULL, true, NULL, NULL), 0);
    assert_true(catalog_category_covers("a", "a/b", true));
    assert_false(catalog_category_covers("a", "a/b", false));
    assert_false(catalog_category_covers("a", "ab", true));
    assert_false(catalog_category_covers("", "", true));
    /* Removing a parent with subcategories removes the children, not "ab". */
    assert_int_equal(catalog_category_remove(c, "a", true, NULL, NULL), 0);
    assert_null(catalog_category_find(c, "a/b/c"));
    assert_null(catalog_category_find(c, "a/b"));
    assert_non_null(catalog_category_find(c, "ab"));
    assert_non_null(catalog_category_find(c, "x/y"));
    catalog_free(c);
}

static void test_save_paths(void **state)
{
    (void)state;
    struct catalog *c = mem();
    struct catalog_category_opts abs = {.save_path = "/srv/tv"}, rel = {.save_path = "../../etc/x"};
    assert_int_equal(catalog_category_add(c, "tv", &abs, false, NULL, NULL), 0);
    assert_int_equal(catalog_category_add(c, "rel", &rel, false, NULL, NULL), 0);
    assert_int_equal(catalog_category_add(c, "..", NULL, false, NULL, NULL), 0);
    assert_int_equal(catalog_category_add(c, "p/q", NULL, true, NULL, NULL), 0);
    struct { const char *name; bool sub; const char *want; } cases[] = {
        {"tv", false, "/srv/tv"},
        {"", false, "/dl"},
        {"unknown", false, "/dl"},
        {"rel", false, "/dl/etc/x"},      /* ".." components dropped */
        {"..", false, "/dl"},             /* a hostile name cannot climb out */
        {"p", true, "/dl/p"},
        {"p/q", true, "/dl/p/q"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = catalog_category_save_path(c, cases[i].name, "/dl/", cases[i].sub);
        assert_non_null(p);
        assert_string_equal(p, cases[i].want);
        free(p);
    }
    /* Subcategory under a parent with an explicit path. */
    struct catalog_category_opts pp = {.save_path = "/media"};
    assert_int_equal(catalog_category_edit(c, "p", &pp, NULL, NULL), 0);
    char *p = catalog_category_save_path(c, "p/q", "/dl", true);
    assert_string_equal(p, "/media/q");
    free(p);
    catalog_free(c);
}

static void test_ensure(void **state)
{
    (void)state;
    struct catalog *c = mem();
    assert_int_equal(catalog_category_ensure(c, "new", false), 0);
    assert_non_null(catalog_category_find(c, "new"));
    assert_int_equal(catalog_category_ensure(c, "new", false), 0);
    assert_int_equal(catalog_category_ensure(c, "", false), 0);
    assert_int_equal(catalog_category_ensure(c, "bad//name", false), -EINVAL);
    assert_int_equal(c->num_cats, 1);
    assert_string_equal(catalog_tag_ensure(c, " Foo "), "Foo");
    assert_string_equal(catalog_tag_ensure(c, "foo"), "Foo");   /* same tag, first spelling */
    assert_null(catalog_tag_ensure(c, "a,b"));
    assert_null(catalog_tag_ensure(c, "   "));
    assert_int_equal(c->num_tags, 1);
    catalog_free(c);
}

static void test_prepare_add(void **state)
{
    (void)state;
    struct catalog *c = mem();
    assert_int_equal(catalog_tag_add(c, "Known", NULL, NULL), 0);
    char *cat = strdup("tv/hd"), *tags = strdup(" known ,new,, a,b ,bad\tx,  ");
    assert_int_equal(catalog_prepare_add(c, &cat, &tags, true), 0);
    assert_string_equal(cat, "tv/hd");
    assert_non_null(catalog_category_find(c, "tv"));
    assert_string_equal(tags, "Known,new,a,b,bad\tx");
    assert_non_null(catalog_tag_find(c, "new"));
    free(cat);
    free(tags);
    cat = strdup("bad//cat");
    tags = strdup("x");
    assert_int_equal(catalog_prepare_add(c, &cat, &tags, false), 0);
    assert_string_equal(cat, "");   /* qBittorrent adds it uncategorised */
    assert_string_equal(tags, "x");
    free(cat);
    free(tags);
    cat = NULL;
    tags = NULL;
    assert_int_equal(catalog_prepare_add(c, &cat, &tags, false), 0);
    assert_null(cat);
    assert_null(tags);
    catalog_free(c);
}

static void test_tags(void **state)
{
    (void)state;
    struct catalog *c = mem();
    assert_true(catalog_tag_valid("x"));
    assert_true(catalog_tag_valid("  x y "));
    assert_false(catalog_tag_valid(""));
    assert_false(catalog_tag_valid(" \t"));
    assert_false(catalog_tag_valid("a,b"));
    assert_false(catalog_tag_valid(NULL));
    const char *in[] = {"tag10", "Tag2", "beta", "Alpha", "tag1"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(catalog_tag_add(c, in[i], NULL, NULL), 0);
    assert_int_equal(catalog_tag_add(c, "ALPHA", NULL, NULL), -EEXIST);
    assert_int_equal(catalog_tag_add(c, ",", NULL, NULL), -EINVAL);
    const char *want[] = {"Alpha", "beta", "tag1", "Tag2", "tag10"};
    assert_int_equal(c->num_tags, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(c->tags[i].name, want[i]);
    assert_string_equal(catalog_tag_find(c, " TAG2"), "Tag2");
    assert_int_equal(catalog_tag_remove(c, "tag2", NULL, NULL), 0);
    assert_null(catalog_tag_find(c, "Tag2"));
    assert_int_equal(catalog_tag_remove(c, "tag2", NULL, NULL), -ENOENT);
    assert_int_equal(c->num_tags, 4);
    assert_true(natcmp("a2", "a10") < 0);
    assert_true(natcmp("B", "a") > 0);
    assert_int_equal(natcmp("abc", "ABC"), 0);
    catalog_free(c);
}

static void test_limits(void **state)
{
    (void)state;
    struct catalog *c = mem();
    char name[32];
    for (int i = 0; i < CATALOG_MAX_TAGS; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        assert_int_equal(catalog_tag_add(c, name, NULL, NULL), 0);
    }
    assert_int_equal(catalog_tag_add(c, "one-more", NULL, NULL), -ENOSPC);
    assert_null(catalog_tag_ensure(c, "one-more"));
    char *longpath = malloc(CATALOG_MAX_PATH + 2);
    memset(longpath, 'p', CATALOG_MAX_PATH + 1);
    longpath[CATALOG_MAX_PATH + 1] = 0;
    struct catalog_category_opts o = {.save_path = longpath};
    assert_int_equal(catalog_category_add(c, "c", &o, false, NULL, NULL), -EINVAL);
    free(longpath);
    catalog_free(c);
}

/* ---- change tracking ---- */

struct names {
    char v[64][64];
    int n;
};

static void collect_cat(const struct catalog_category *k, void *ud)
{
    struct names *n = ud;
    snprintf(n->v[n->n++], 64, "%s", k->name);
}

static void collect(const char *s, void *ud)
{
    struct names *n = ud;
    snprintf(n->v[n->n++], 64, "%s", s);
}

static void test_changes(void **state)
{
    (void)state;
    struct catalog *c = mem();
    assert_int_equal(catalog_category_add(c, "a", NULL, false, NULL, NULL), 0);
    assert_int_equal(catalog_tag_add(c, "t1", NULL, NULL), 0);
    uint64_t s1 = c->seq;
    assert_int_equal(catalog_category_add(c, "b", NULL, false, NULL, NULL), 0);
    assert_int_equal(catalog_category_edit(c, "a", NULL, NULL, NULL), 0);
    assert_int_equal(catalog_tag_add(c, "t2", NULL, NULL), 0);

    struct names n = {0};
    uint64_t now = catalog_changed_since(c, s1, collect_cat, &n);
    assert_int_equal(now, c->seq);
    assert_int_equal(n.n, 2);
    assert_string_equal(n.v[0], "a");
    assert_string_equal(n.v[1], "b");
    memset(&n, 0, sizeof(n));
    catalog_tags_changed_since(c, s1, collect, &n);
    assert_int_equal(n.n, 1);
    assert_string_equal(n.v[0], "t2");
    memset(&n, 0, sizeof(n));
    catalog_changed_since(c, now, collect_cat, &n);
    assert_int_equal(n.n, 0);

    uint64_t s2 = c->seq;
    assert_int_equal(catalog_category_remove(c, "b", false, NULL, NULL), 0);
    assert_int_equal(catalog_tag_remove(c, "t1", NULL, NULL), 0);
    memset(&n, 0, sizeof(n));
    assert_int_equal(catalog_removed_since(c, s2, collect, &n), 0);
    assert_int_equal(n.n, 1);
    assert_string_equal(n.v[0], "b");
    memset(&n, 0, sizeof(n));
    assert_int_equal(catalog_tags_removed_since(c, s2, collect, &n), 0);
    assert_int_equal(n.n, 1);
    assert_string_equal(n.v[0], "t1");
    memset(&n, 0, sizeof(n));
    assert_int_equal(catalog_removed_since(c, c->seq, collect, &n), 0);
    assert_int_equal(n.n, 0);

    /* Re-created after removal: reported as changed, not removed. */
    assert_int_equal(catalog_category_add(c, "b", NULL, false, NULL, NULL), 0);
    memset(&n, 0, sizeof(n));
    assert_int_equal(catalog_removed_since(c, s2, collect, &n), 0);
    assert_int_equal(n.n, 0);
    /* Removed twice: told once. */
    assert_int_equal(catalog_category_remove(c, "b", false, NULL, NULL), 0);
    memset(&n, 0, sizeof(n));
    assert_int_equal(catalog_removed_since(c, s2, collect, &n), 0);
    assert_int_equal(n.n, 1);

    /* Overflow the ring: old seqs get -ERANGE, recent ones still work. */
    char name[32];
    for (int i = 0; i < CATALOG_REMOVED_RING + 10; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        assert_int_equal(catalog_tag_add(c, name, NULL, NULL), 0);
        assert_int_equal(catalog_tag_remove(c, name, NULL, NULL), 0);
    }
    memset(&n, 0, sizeof(n));
    assert_int_equal(catalog_removed_since(c, s2, collect, &n), -ERANGE);
    uint64_t s3 = c->seq;
    assert_int_equal(catalog_tag_add(c, "last", NULL, NULL), 0);
    assert_int_equal(catalog_tag_remove(c, "last", NULL, NULL), 0);
    memset(&n, 0, sizeof(n));
    assert_int_equal(catalog_tags_removed_since(c, s3, collect, &n), 0);
    assert_int_equal(n.n, 1);
    assert_string_equal(n.v[0], "last");
    catalog_free(c);
}

/* ---- persistence ---- */

struct fx {
    char dir[64];
    char path[96];
    uv_loop_t loop;
};

static void wait_calls(uv_loop_t *loop, int want)
{
    while (g_calls < want)
        uv_run(loop, UV_RUN_ONCE);
}

static void test_persistence(void **state)
{
    (void)state;
    struct fx f;
    strcpy(f.dir, "/tmp/td_catalog_XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    snprintf(f.path, sizeof(f.path), "%s/torrentd.db", f.dir);
    assert_int_equal(uv_loop_init(&f.loop), 0);

    struct store *st;
    assert_int_equal(store_open(&f.loop, f.path, &st), 0);
    struct catalog *c;
    assert_int_equal(catalog_new(st, &c), 0);
    assert_int_equal(catalog_load(c), 0);
    assert_int_equal(c->num_cats + c->num_tags, 0);
    g_calls = 0;
    struct catalog_category_opts o1 = {.save_path = "/m", .dl_mode = CATALOG_DL_ON, .download_path = "/inc"};
    struct catalog_category_opts o2 = {.dl_mode = CATALOG_DL_OFF};
    assert_int_equal(catalog_category_add(c, "movies", &o1, false, on_done, NULL), 0);
    assert_int_equal(catalog_category_add(c, "tv/hd", &o2, true, on_done, NULL), 0);
    assert_int_equal(catalog_category_add(c, "gone", NULL, false, on_done, NULL), 0);
    assert_int_equal(catalog_tag_add(c, "Keep", on_done, NULL), 0);
    assert_int_equal(catalog_tag_add(c, "drop", on_done, NULL), 0);
    assert_int_equal(g_calls, 0);   /* with a store: only after the commit */
    wait_calls(&f.loop, 5);
    assert_int_equal(g_rc, 0);
    assert_int_equal(catalog_category_remove(c, "gone", false, on_done, NULL), 0);
    assert_int_equal(catalog_tag_remove(c, "DROP", on_done, NULL), 0);
    wait_calls(&f.loop, 7);
    assert_int_equal(g_rc, 0);
    catalog_free(c);
    store_close(st);
    uv_run(&f.loop, UV_RUN_DEFAULT);

    assert_int_equal(store_open(&f.loop, f.path, &st), 0);
    assert_int_equal(catalog_new(st, &c), 0);
    assert_int_equal(catalog_load(c), 0);
    assert_int_equal(c->num_cats, 3);   /* movies, tv, tv/hd */
    const struct catalog_category *k = catalog_category_find(c, "movies");
    assert_non_null(k);
    assert_string_equal(k->save_path, "/m");
    assert_int_equal(k->dl_mode, CATALOG_DL_ON);
    assert_string_equal(k->download_path, "/inc");
    k = catalog_category_find(c, "tv/hd");
    assert_non_null(k);
    assert_int_equal(k->dl_mode, CATALOG_DL_OFF);
    k = catalog_category_find(c, "tv");
    assert_non_null(k);
    assert_int_equal(k->dl_mode, CATALOG_DL_DEFAULT);
    assert_null(catalog_category_find(c, "gone"));
    assert_int_equal(c->num_tags, 1);
    assert_string_equal(c->tags[0].name, "Keep");
    catalog_free(c);

    /* Hostile rows written behind our back are skipped, not trusted. */
    g_calls = 0;
    assert_int_equal(store_kv_put(st, "category", "bad//name", "{}", on_done, NULL), 0);
    assert_int_equal(store_kv_put(st, "category", "notjson", "{", on_done, NULL), 0);
    assert_int_equal(store_kv_put(st, "category", "badtype", "{\"save_path\":5}", on_done, NULL), 0);
    assert_int_equal(store_kv_put(st, "tag", "a,b", "{}", on_done, NULL), 0);
    wait_calls(&f.loop, 4);
    log_set_quiet(1);
    assert_int_equal(catalog_new(st, &c), 0);
    assert_int_equal(catalog_load(c), 0);
    log_set_quiet(0);
    assert_null(catalog_category_find(c, "bad//name"));
    assert_null(catalog_category_find(c, "notjson"));
    const struct catalog_category *bt = catalog_category_find(c, "badtype");
    assert_non_null(bt);   /* a non-string save_path reads as "" */
    assert_string_equal(bt->save_path, "");
    assert_int_equal(c->num_tags, 1);
    catalog_free(c);
    store_close(st);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f.loop), 0);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f.dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_category_names),
        cmocka_unit_test(test_category_crud),
        cmocka_unit_test(test_subcategories),
        cmocka_unit_test(test_save_paths),
        cmocka_unit_test(test_ensure),
        cmocka_unit_test(test_prepare_add),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_changes),
        cmocka_unit_test(test_persistence),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
