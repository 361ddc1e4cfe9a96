/* automation/config: qbit_manage's config.yml as it is, and the errors
 * that name file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "automation/config.h"

static struct autocfg *ok(const char *text)
{
    struct autocfg *c = NULL;
    char err[512] = "";
    int rc = autocfg_parse("config.yml", text, strlen(text), &c, err, sizeof err);
    if (rc != 0)
        fail_msg("unexpected error %d: %s", rc, err);
    return c;
}

static void expect_err(const char *text, const char *want)
{
    struct autocfg *c = NULL;
    char err[512] = "";
    assert_int_equal(autocfg_parse("config.yml", text, strlen(text), &c, err, sizeof err), -EINVAL);
    assert_null(c);
    assert_string_equal(err, want);
}

/* The sample file's shapes: scalars, flow and block lists, "a|b" keys,
 * null entries, nested groups, the ignored qbt section with !ENV. */
static void sample_shapes(void **state)
{
    (void)state;
    setenv("TD_TEST_QBIT_PASS", "pw", 1);
    struct autocfg *c = ok("commands:\n  dry_run: True\n  cat_update: false\n"
                           "qbt:\n  host: \"localhost:8080\"\n  pass: !ENV TD_TEST_QBIT_PASS\n"
                           "settings:\n  force_auto_tmm_ignore_tags:\n    - cross-seed\n    - Upload\n"
                           "  private_tag: null\n  rem_unregistered_grace_minutes: 10\n"
                           "tracker:\n  torrentleech|tleechreload:\n    tag: TorrentLeech\n"
                           "  beyond-hd:\n    tag: [Beyond-HD, tag2]\n    cat: movies\n"
                           "nohardlinks:\n  movies-completed-4k:\n  series:\n    exclude_tags: [a]\n"
                           "    ignore_root_dir: true\n"
                           "share_limits:\n  noHL:\n    priority: 1\n    max_ratio: 5.0\n"
                           "    max_seeding_time: 90d\n    limit_upload_speed: -1\n"
                           "automation:\n  schedule: \"*/30 * * * *\"\n  on_add: [tag_update, share_limits]\n");
    assert_true(autocfg_bool(autocfg_at(c, "commands", "dry_run"), false));
    assert_false(autocfg_bool(autocfg_at(c, "commands", "cat_update"), true));
    assert_true(autocfg_bool(autocfg_at(c, "commands", "recheck"), true));   /* absent: the default */
    const struct autocfg_node *ig = autocfg_at(c, "settings", "force_auto_tmm_ignore_tags");
    assert_int_equal(autocfg_list_len(ig), 2);
    assert_string_equal(autocfg_list_at(ig, 1), "Upload");
    assert_null(autocfg_str(autocfg_at(c, "settings", "private_tag"), NULL));
    assert_int_equal(autocfg_int(autocfg_at(c, "settings", "rem_unregistered_grace_minutes"), 0), 10);
    const struct autocfg_node *trk = autocfg_at(c, "tracker", NULL);
    assert_int_equal(trk->n, 2);
    assert_string_equal(trk->keys[0], "torrentleech|tleechreload");   /* order kept */
    assert_int_equal(autocfg_list_len(autocfg_get(trk->items[0], "tag")), 1);
    assert_true(autocfg_list_has(autocfg_get(trk->items[1], "tag"), "tag2"));
    const struct autocfg_node *sl = autocfg_get(autocfg_at(c, "share_limits", NULL), "noHL");
    assert_true(autocfg_real(autocfg_get(sl, "max_ratio"), 0) == 5.0);
    assert_true(autocfg_duration(autocfg_get(sl, "max_seeding_time"), 0) == 90 * 1440);
    assert_string_equal(autocfg_str(autocfg_at(c, "automation", "schedule"), ""), "*/30 * * * *");
    assert_int_equal(autocfg_at(c, "nohardlinks", NULL)->items[0]->kind, AUTOCFG_NULL);
    autocfg_free(c);
}

static void empty_and_comments(void **state)
{
    (void)state;
    struct autocfg *c = ok("");
    assert_int_equal(c->root->kind, AUTOCFG_MAP);
    assert_int_equal(c->root->n, 0);
    autocfg_free(c);
    c = ok("# nothing but a comment\n");
    autocfg_free(c);
}

static void errors_name_line_and_key(void **state)
{
    (void)state;
    expect_err("settings:\n  tracker_error_tag: issue\n  bogus: 1\n", "config.yml:3: settings.bogus: unknown key");
    expect_err("commands:\n  dry_run: maybe\n", "config.yml:2: commands.dry_run: not a boolean");
    expect_err("\n\nshare_limits:\n  g:\n    max_ratio: lots\n",
               "config.yml:5: share_limits.g.max_ratio: not a number");
    expect_err("share_limits:\n  g:\n    max_seeding_time: forever\n",
               "config.yml:3: share_limits.g.max_seeding_time: not a duration");
    expect_err("share_limits:\n  g:\n    colour: red\n", "config.yml:3: share_limits.g.colour: unknown key");
    expect_err("tracker:\n  x:\n    tag: {a: 1}\n", "config.yml:3: tracker.x.tag: not a list of text values");
    expect_err("tracker:\n  x: just-text\n", "config.yml:2: tracker.x: not a mapping");
    expect_err("bogus_section: 1\n", "config.yml:1: bogus_section: unknown section");
    expect_err("orphaned:\n  min_file_age_minutes: 1.5\n",
               "config.yml:2: orphaned.min_file_age_minutes: not an integer");
    expect_err("webhooks:\n  function:\n    nope: x\n", "config.yml:3: webhooks.function.nope: unknown key");
    expect_err("settings:\n  a: 1\n  a: 2\n", "config.yml:3: a: duplicate key");
    expect_err("- a\n- b\n", "config.yml:1: the file is not a mapping of sections");
}

static void bad_yaml_and_bounds(void **state)
{
    (void)state;
    struct autocfg *c = NULL;
    char err[512];
    const char *t = "tracker:\n  a: [unclosed\n";
    assert_int_equal(autocfg_parse("c.yml", t, strlen(t), &c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "c.yml:"));
    assert_non_null(strstr(err, "invalid YAML"));
    t = "a: &x 1\nb: *x\n";
    assert_int_equal(autocfg_parse("c.yml", t, strlen(t), &c, err, sizeof err), -EINVAL);
    /* nesting past the bound */
    char deep[400];
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        deep[n++] = '[';
    for (int i = 0; i < 40; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    char doc[500];
    snprintf(doc, sizeof doc, "tracker: %s\n", deep);
    assert_int_equal(autocfg_parse("c.yml", doc, strlen(doc), &c, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "nested deeper"));
    t = "a: 1\n---\nb: 2\n";
    assert_int_equal(autocfg_parse("c.yml", t, strlen(t), &c, err, sizeof err), -EINVAL);
}

static void huge_reals_are_no_integers(void **state)
{
    (void)state;
    /* fuzz_automation_config: 1e26 converted to int64_t was undefined */
    struct autocfg *c = ok("automation:\n  on_add: [111111111111111111111111111, 2.9, -1e300, share_limits]\n");
    const struct autocfg_node *l = autocfg_at(c, "automation", "on_add");
    assert_int_equal(l->n, 4);
    assert_int_equal(autocfg_int(l->items[0], 7), 7);
    assert_int_equal(autocfg_int(l->items[1], 7), 2);
    assert_int_equal(autocfg_int(l->items[2], 7), 7);
    assert_int_equal(autocfg_int(l->items[3], 7), 7);
    autocfg_free(c);
}

static void durations(void **state)
{
    (void)state;
    double m;
    assert_int_equal(autocfg_duration_parse("90d", &m), 0);
    assert_true(m == 129600);
    assert_int_equal(autocfg_duration_parse("1h30m", &m), 0);
    assert_true(m == 90);
    assert_int_equal(autocfg_duration_parse("2w", &m), 0);
    assert_true(m == 20160);
    assert_int_equal(autocfg_duration_parse("30s", &m), 0);
    assert_true(m == 0.5);
    assert_int_equal(autocfg_duration_parse("-1", &m), 0);
    assert_true(m == -1);
    assert_int_equal(autocfg_duration_parse("43200", &m), 0);
    assert_true(m == 43200);
    assert_int_equal(autocfg_duration_parse("", &m), -EINVAL);
    assert_int_equal(autocfg_duration_parse("5 parsecs", &m), -EINVAL);
    assert_int_equal(autocfg_duration_parse("d", &m), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_shapes),
        cmocka_unit_test(empty_and_comments),
        cmocka_unit_test(errors_name_line_and_key),
        cmocka_unit_test(bad_yaml_and_bounds),
        cmocka_unit_test(durations),
        cmocka_unit_test(huge_reals_are_no_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
