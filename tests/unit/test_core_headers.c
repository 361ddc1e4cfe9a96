/* The typed settings keep jansson out of core's headers: this file compiles
 * only if core/settings.h and core/session.h do not include jansson.h
 * (jansson.h defines JANSSON_H).  The run itself checks that the ids are
 * usable without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/session.h"
#include "core/settings.h"

#ifdef JANSSON_H
#error "a core header includes jansson.h"
#endif

static void ids_without_jansson(void **state)
{
    (void)state;
    assert_true(SET__COUNT > 200);
    assert_string_equal(settings_defs[SET_MAX_RATIO].name, "max_ratio");
    assert_int_equal(settings_defs[SET_SCAN_DIRS].type, SETT_JSON);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(ids_without_jansson)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
