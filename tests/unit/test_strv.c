/* util/strv: push, find (exact and case-insensitive), remove keeping order,
 * equality, assign. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/strv.h"

static void basics(void **state)
{
    (void)state;
    struct strv l = {0};
    assert_int_equal(l.n, 0);
    assert_int_equal(strv_find(&l, "a", false), -1);
    assert_int_equal(strv_push(&l, "alpha"), 0);
    assert_int_equal(strv_push(&l, "Beta"), 0);
    assert_int_equal(strv_push(&l, "gamma"), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(strv_find(&l, "Beta", false), 1);
    assert_int_equal(strv_find(&l, "beta", false), -1);
    assert_int_equal(strv_find(&l, "beta", true), 1);
    strv_remove(&l, 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0], "Beta");
    assert_string_equal(l.v[1], "gamma");
    struct strv m = {0};
    const char *w[] = {"Beta", "gamma"};
    assert_int_equal(strv_assign(&m, w, 2), 0);
    assert_true(strv_equal(&l, &m));
    strv_remove(&m, 1);
    assert_false(strv_equal(&l, &m));
    assert_int_equal(strv_assign(&m, (const char *const[]){"gamma", "Beta"}, 2), 0);
    assert_false(strv_equal(&l, &m));   /* order counts */
    strv_clear(&l);
    strv_clear(&m);
    assert_int_equal(l.n, 0);
    assert_null(l.v);
    strv_clear(&l);   /* twice is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
