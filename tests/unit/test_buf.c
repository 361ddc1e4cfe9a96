#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "util/buf.h"

static void append_and_consume(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_append_be32(&b, (uint32_t)i), 0);
    assert_int_equal(buf_size(&b), 4000);
    buf_consume(&b, 4 * 500);
    assert_int_equal(rd_be32(buf_head(&b)), 500);
    /* Growing after a consume must keep the unread bytes in order. */
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_append_u8(&b, (uint8_t)i), 0);
    assert_int_equal(rd_be32(buf_head(&b) + 4 * 499), 999);
    buf_consume(&b, 99999999);
    assert_int_equal(buf_size(&b), 0);
    buf_free(&b);
}

static void appendf_long(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(buf_appendf(&b, "%s-%d", big, 42), 0);
    assert_int_equal(buf_size(&b), 999 + 3);
    size_t n;
    char *s = (char *)buf_steal(&b, &n);
    assert_int_equal(n, 1002);
    assert_string_equal(s + 999, "-42");
    free(s);
    buf_free(&b);
}

/* A failed append poisons the buf until reset: nothing after it gets in,
 * buf_steal gives NULL, and one check at the end sees it. */
static void sticky_error(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_int_equal(buf_append_str(&b, "ok"), 0);
    assert_int_equal(buf_error(&b), 0);
    assert_int_equal(buf_reserve(&b, SIZE_MAX - 1), -ENOMEM);   /* cannot be had */
    assert_int_equal(buf_error(&b), -ENOMEM);
    assert_int_equal(buf_append_str(&b, "more"), -ENOMEM);
    assert_int_equal(buf_appendf(&b, "%d", 5), -ENOMEM);
    assert_int_equal(buf_append_u8(&b, 'x'), -ENOMEM);
    assert_int_equal(buf_reserve(&b, 1), -ENOMEM);
    assert_int_equal(buf_size(&b), 2);                 /* only what came before */
    assert_null(buf_steal(&b, NULL));
    assert_int_equal(buf_size(&b), 2);
    buf_reset(&b);
    assert_int_equal(buf_error(&b), 0);
    assert_int_equal(buf_append_str(&b, "again"), 0);
    char *s = (char *)buf_steal(&b, NULL);
    assert_string_equal(s, "again");
    free(s);
    assert_int_equal(buf_reserve(&b, SIZE_MAX / 2 + 1), -ENOMEM);
    buf_free(&b);
    assert_int_equal(buf_error(&b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_and_consume),
        cmocka_unit_test(appendf_long),
        cmocka_unit_test(sticky_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
