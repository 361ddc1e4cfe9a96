/* core/settings: the table (every id named, typed, default within bounds,
 * names unique and sorted), the setters (types, bounds, all-or-nothing
 * batches), the live-apply hooks (once per change, nothing for an
 * unchanged value) and the store text the `prefs` rows have always held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "core/settings.h"

static void table_is_complete(void **state)
{
    (void)state;
    for (int id = 0; id < SET__COUNT; id++) {
        const struct setting_def *d = &settings_defs[id];
        assert_non_null(d->name);
        assert_true(d->name[0] != '\0');
        if (id > 0)   /* sorted, hence unique; settings_find relies on it */
            assert_true(strcmp(settings_defs[id - 1].name, d->name) < 0);
        assert_int_equal(settings_find(d->name), id);
        switch (d->type) {
        case SETT_BOOL:
            assert_true(d->def_i == 0 || d->def_i == 1);
            break;
        case SETT_INT:
            assert_true(d->min_i <= d->def_i && d->def_i <= d->max_i);
            break;
        case SETT_REAL:
            assert_true(d->min_r <= d->def_r && d->def_r <= d->max_r);
            break;
        case SETT_STR:
            assert_non_null(d->def_s);
            break;
        case SETT_JSON: {
            json_error_t e;
            json_t *j = json_loads(d->def_s, JSON_DECODE_ANY, &e);
            assert_non_null(j);
            json_decref(j);
            break;
        }
        default:
            fail_msg("setting %s has no type", d->name);
        }
    }
    assert_int_equal(settings_find("no_such_setting"), -1);
    assert_int_equal(settings_find(""), -1);
    /* A few qBittorrent bounds. */
    assert_int_equal(settings_defs[SET_LISTEN_PORT].max_i, 65535);
    assert_int_equal(settings_defs[SET_LISTEN_PORT].min_i, 0);
    assert_true(settings_defs[SET_MAX_RATIO].min_r == -1.0);
    assert_int_equal(settings_defs[SET_MAX_RATIO_ACT].max_i, 3);
}

static void defaults_and_getters(void **state)
{
    (void)state;
    struct settings s;
    assert_int_equal(settings_init(&s), 0);
    assert_true(settings_bool(&s, SET_DHT));
    assert_int_equal(settings_int(&s, SET_LISTEN_PORT), 6881);
    assert_true(settings_real(&s, SET_MAX_RATIO) == -1.0);
    assert_string_equal(settings_str(&s, SET_WEB_UI_USERNAME), "admin");
    assert_string_equal(settings_str(&s, SET_SCAN_DIRS), "{}");
    assert_false(settings_bool(&s, SET_USE_SUBCATEGORIES));
    settings_free(&s);
}

static void setters_check_type_and_bounds(void **state)
{
    (void)state;
    struct settings s;
    char err[160] = "";
    struct settings_mask m = {0};
    assert_int_equal(settings_init(&s), 0);

    struct settings_change c = {.id = SET_DHT, .type = SETT_INT, .v.i = 1};
    assert_int_equal(settings_apply(&s, &c, 1, &m, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "'dht'"));

    c = (struct settings_change){.id = SET_LISTEN_PORT, .type = SETT_INT, .v.i = 65536};
    assert_int_equal(settings_apply(&s, &c, 1, &m, err, sizeof err), -ERANGE);
    assert_non_null(strstr(err, "'listen_port'"));
    c.v.i = -1;
    assert_int_equal(settings_apply(&s, &c, 1, &m, err, sizeof err), -ERANGE);
    assert_int_equal(settings_int(&s, SET_LISTEN_PORT), 6881);
    assert_true(settings_mask_empty(&m));

    c = (struct settings_change){.id = SET_MAX_RATIO, .type = SETT_REAL, .v.r = -1.5};
    assert_int_equal(settings_apply(&s, &c, 1, &m, err, sizeof err), -ERANGE);
    assert_non_null(strstr(err, "'max_ratio'"));

    /* An integer is taken for a real. */
    c = (struct settings_change){.id = SET_MAX_RATIO, .type = SETT_INT, .v.i = 3};
    assert_int_equal(settings_apply(&s, &c, 1, &m, err, sizeof err), 0);
    assert_true(settings_real(&s, SET_MAX_RATIO) == 3.0);
    assert_true(settings_mask_has(&m, SET_MAX_RATIO));

    /* A JSON setting takes JSON text only. */
    assert_int_equal(settings_set_str(&s, SET_SCAN_DIRS, "{not json", NULL), -EINVAL);
    assert_int_equal(settings_set_str(&s, SET_SCAN_DIRS, "{\"b\": 1, \"a\": \"x\"}", NULL), 0);
    assert_string_equal(settings_str(&s, SET_SCAN_DIRS), "{\"a\":\"x\",\"b\":1}");

    assert_int_equal(settings_set_int(&s, SET_LISTEN_PORT, 0, NULL), 0);
    assert_int_equal(settings_set_int(&s, SET_LISTEN_PORT, 65535, NULL), 0);
    assert_int_equal(settings_set_bool(&s, SET_LISTEN_PORT, true, NULL), -EINVAL);
    settings_free(&s);
}

static void batch_is_all_or_nothing(void **state)
{
    (void)state;
    struct settings s;
    char err[160] = "";
    assert_int_equal(settings_init(&s), 0);
    struct settings_change c[] = {
        {.id = SET_DHT, .type = SETT_BOOL, .v.b = false},
        {.id = SET_WEB_UI_USERNAME, .type = SETT_STR, .v.s = "someone"},
        {.id = SET_MAX_ACTIVE_TORRENTS, .type = SETT_INT, .v.i = 5},      /* unchanged */
        {.id = SET_WEB_UI_PORT, .type = SETT_INT, .v.i = 70000},          /* out of range */
    };
    struct settings_mask m = {0};
    assert_int_equal(settings_apply(&s, c, 4, &m, err, sizeof err), -ERANGE);
    assert_non_null(strstr(err, "web_ui_port"));
    assert_true(settings_bool(&s, SET_DHT));
    assert_string_equal(settings_str(&s, SET_WEB_UI_USERNAME), "admin");
    assert_true(settings_mask_empty(&m));

    c[3].v.i = 8081;
    assert_int_equal(settings_apply(&s, c, 4, &m, err, sizeof err), 0);
    assert_false(settings_bool(&s, SET_DHT));
    assert_string_equal(settings_str(&s, SET_WEB_UI_USERNAME), "someone");
    assert_int_equal(settings_int(&s, SET_WEB_UI_PORT), 8081);
    assert_int_equal(settings_mask_count(&m), 3);   /* not the unchanged one */
    assert_false(settings_mask_has(&m, SET_MAX_ACTIVE_TORRENTS));
    assert_true(settings_mask_in_groups(&m, SG_WEBUI_BIND));
    assert_false(settings_mask_in_groups(&m, SG_LIMITS));
    settings_free(&s);
}

struct calls {
    int limits, listen, both;
    struct settings_mask last;
};

static void on_limits(void *ud, const struct settings_mask *m)
{
    struct calls *c = ud;
    c->limits++;
    c->last = *m;
}
static void on_listen(void *ud, const struct settings_mask *m)
{
    (void)m;
    ((struct calls *)ud)->listen++;
}
static void on_both(void *ud, const struct settings_mask *m)
{
    (void)m;
    ((struct calls *)ud)->both++;
}

static void hooks_fire_once_per_change(void **state)
{
    (void)state;
    struct settings s;
    struct calls n = {0};
    assert_int_equal(settings_init(&s), 0);
    assert_int_equal(settings_add_hook(&s, SG_LIMITS, on_limits, &n), 0);
    assert_int_equal(settings_add_hook(&s, SG_LISTEN, on_listen, &n), 0);
    assert_int_equal(settings_add_hook(&s, SG_LIMITS | SG_LISTEN, on_both, &n), 0);

    /* Two limits in one batch: the limits hook runs once. */
    struct settings_change c[] = {
        {.id = SET_DL_LIMIT, .type = SETT_INT, .v.i = 1000},
        {.id = SET_UP_LIMIT, .type = SETT_INT, .v.i = 2000},
    };
    struct settings_mask m = {0};
    assert_int_equal(settings_apply(&s, c, 2, &m, NULL, 0), 0);
    settings_notify(&s, &m);
    assert_int_equal(n.limits, 1);
    assert_int_equal(n.listen, 0);
    assert_int_equal(n.both, 1);
    assert_true(settings_mask_has(&n.last, SET_DL_LIMIT) && settings_mask_has(&n.last, SET_UP_LIMIT));

    /* The same values again: nothing changed, nothing fires. */
    memset(&m, 0, sizeof m);
    assert_int_equal(settings_apply(&s, c, 2, &m, NULL, 0), 0);
    assert_true(settings_mask_empty(&m));
    settings_notify(&s, &m);
    assert_int_equal(n.limits, 1);
    assert_int_equal(n.both, 1);

    /* A setting of no group wakes nobody; a listen one only its hooks. */
    memset(&m, 0, sizeof m);
    assert_int_equal(settings_set_bool(&s, SET_ANONYMOUS_MODE, true, &m), 0);
    settings_notify(&s, &m);
    assert_int_equal(n.limits + n.listen + n.both, 2);
    memset(&m, 0, sizeof m);
    assert_int_equal(settings_set_int(&s, SET_LISTEN_PORT, 7000, &m), 0);
    settings_notify(&s, &m);
    assert_int_equal(n.listen, 1);
    assert_int_equal(n.limits, 1);
    assert_int_equal(n.both, 2);

    /* A removed hook runs no more; the others still do. */
    settings_remove_hook(&s, on_listen, &n);
    settings_remove_hook(&s, on_listen, NULL);   /* not registered: no-op */
    memset(&m, 0, sizeof m);
    assert_int_equal(settings_set_int(&s, SET_LISTEN_PORT, 7001, &m), 0);
    settings_notify(&s, &m);
    assert_int_equal(n.listen, 1);
    assert_int_equal(n.both, 3);
    assert_int_equal(settings_add_hook(&s, SG_LISTEN, on_listen, &n), 0);

    for (int i = 3; i < SETTINGS_MAX_HOOKS; i++)
        assert_int_equal(settings_add_hook(&s, SG_BANS, on_both, &n), 0);
    assert_int_equal(settings_add_hook(&s, SG_BANS, on_both, &n), -ENOSPC);
    settings_free(&s);
}

/* The `prefs` rows hold each value JSON-encoded; profiles written before the
 * typed settings must load as they are. */
static void store_text(void **state)
{
    (void)state;
    struct settings s;
    assert_int_equal(settings_init(&s), 0);
    static const struct { enum setting_id id; const char *text; } rows[] = {
        {SET_DHT, "true"}, {SET_LISTEN_PORT, "6881"}, {SET_MAX_RATIO, "-1.0"},
        {SET_WEB_UI_USERNAME, "\"admin\""}, {SET_SCAN_DIRS, "{}"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *t = settings_to_text(&s, rows[i].id);
        assert_string_equal(t, rows[i].text);
        free(t);
    }
    assert_int_equal(settings_load_text(&s, SET_DHT, "false"), 0);
    assert_false(settings_bool(&s, SET_DHT));
    assert_int_equal(settings_load_text(&s, SET_MAX_RATIO, "2"), 0);   /* an integer row for a real */
    assert_true(settings_real(&s, SET_MAX_RATIO) == 2.0);
    char *t = settings_to_text(&s, SET_MAX_RATIO);
    assert_string_equal(t, "2.0");
    free(t);
    assert_int_equal(settings_load_text(&s, SET_WEB_UI_DOMAIN_LIST, "\"a\\\"b\""), 0);
    assert_string_equal(settings_str(&s, SET_WEB_UI_DOMAIN_LIST), "a\"b");
    assert_int_equal(settings_load_text(&s, SET_SCAN_DIRS, "{\"/w\":0}"), 0);
    assert_string_equal(settings_str(&s, SET_SCAN_DIRS), "{\"/w\":0}");
    /* Out of range in an old row: clamped, not lost. */
    assert_int_equal(settings_load_text(&s, SET_LISTEN_PORT, "70000"), 0);
    assert_int_equal(settings_int(&s, SET_LISTEN_PORT), 65535);
    /* Another type: refused, value kept. */
    assert_int_equal(settings_load_text(&s, SET_DHT, "\"yes\""), -EINVAL);
    assert_int_equal(settings_load_text(&s, SET_LISTEN_PORT, "not json"), -EINVAL);
    assert_false(settings_bool(&s, SET_DHT));
    settings_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_is_complete),
        cmocka_unit_test(defaults_and_getters),
        cmocka_unit_test(setters_check_type_and_bounds),
        cmocka_unit_test(batch_is_all_or_nothing),
        cmocka_unit_test(hooks_fire_once_per_change),
        cmocka_unit_test(store_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
