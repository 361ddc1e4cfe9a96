#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_and_consume),
        cmocka_unit_test(appendf_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
