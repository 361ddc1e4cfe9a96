#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "core/prefs.h"

static void defaults_have_qbt_types(void **state)
{
    (void)state;
    struct prefs p;
    assert_int_equal(prefs_init(&p), 0);
    assert_true(json_object_size(p.values) >= 200);
    assert_true(json_is_boolean(json_object_get(p.values, "dht")));
    assert_true(json_is_integer(json_object_get(p.values, "max_active_torrents")));
    assert_int_equal(prefs_int(&p, "max_active_torrents"), 5);
    assert_true(json_is_string(json_object_get(p.values, "proxy_type")));
    assert_true(json_is_object(json_object_get(p.values, "scan_dirs")));
    assert_false(prefs_bool(&p, "queueing_enabled"));
    assert_non_null(json_object_get(p.values, "add_stopped_enabled"));
    assert_null(json_object_get(p.values, "start_paused_enabled"));
    prefs_free(&p);
}

static void apply_checks_types_and_ignores_unknown(void **state)
{
    (void)state;
    struct prefs p;
    char err[128];
    json_t *applied = NULL;
    assert_int_equal(prefs_init(&p), 0);

    json_t *bad = json_pack("{s:s, s:i}", "dht", "yes", "max_active_torrents", 9);
    assert_int_equal(prefs_apply(&p, bad, NULL, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "dht"));
    /* Nothing applied from a refused call. */
    assert_int_equal(prefs_int(&p, "max_active_torrents"), 5);
    json_decref(bad);

    json_t *ok = json_pack("{s:b, s:i, s:i, s:s}", "dht", 0, "max_active_torrents", 9,
                           "max_ratio", 2, "no_such_key", "x");
    assert_int_equal(prefs_apply(&p, ok, &applied, err, sizeof err), 0);
    assert_false(prefs_bool(&p, "dht"));
    assert_int_equal(prefs_int(&p, "max_active_torrents"), 9);
    /* An integer for a real-valued key stays a real. */
    assert_true(json_is_real(json_object_get(p.values, "max_ratio")));
    assert_true(prefs_real(&p, "max_ratio") == 2.0);
    assert_null(json_object_get(p.values, "no_such_key"));
    assert_int_equal(json_object_size(applied), 3);
    json_decref(applied);
    json_decref(ok);

    /* Re-applying the same values changes nothing. */
    ok = json_pack("{s:i}", "max_active_torrents", 9);
    assert_int_equal(prefs_apply(&p, ok, &applied, err, sizeof err), 0);
    assert_int_equal(json_object_size(applied), 0);
    json_decref(applied);
    json_decref(ok);

    json_t *notobj = json_array();
    assert_int_equal(prefs_apply(&p, notobj, NULL, err, sizeof err), -EINVAL);
    json_decref(notobj);
    prefs_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_have_qbt_types),
        cmocka_unit_test(apply_checks_types_and_ignores_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
