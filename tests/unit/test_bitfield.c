#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "util/bitfield.h"

static void set_get_order(void **state)
{
    (void)state;
    struct bitfield bf;
    assert_int_equal(bitfield_init(&bf, 10), 0);
    assert_int_equal(bitfield_bytes(&bf), 2);
    bitfield_set(&bf, 0);
    bitfield_set(&bf, 9);
    bitfield_set(&bf, 9);   /* idempotent: count must not double */
    assert_int_equal(bf.bits[0], 0x80);   /* bit 0 = high bit of byte 0 */
    assert_int_equal(bf.bits[1], 0x40);
    assert_int_equal(bitfield_count(&bf), 2);
    assert_true(bitfield_get(&bf, 9));
    assert_false(bitfield_get(&bf, 8));
    bitfield_set(&bf, 10);   /* out of range: ignored, not written */
    bitfield_set(&bf, 0xffffffffu);
    assert_false(bitfield_get(&bf, 10));
    assert_int_equal(bitfield_count(&bf), 2);
    bitfield_clear(&bf, 0);
    bitfield_clear(&bf, 0);
    assert_int_equal(bitfield_count(&bf), 1);
    assert_int_equal(bf.bits[0], 0);
    bitfield_free(&bf);
}

static void set_all_keeps_spare_zero(void **state)
{
    (void)state;
    struct bitfield bf;
    assert_int_equal(bitfield_init(&bf, 13), 0);
    bitfield_set_all(&bf);
    assert_int_equal(bitfield_count(&bf), 13);
    assert_true(bitfield_all(&bf));
    assert_int_equal(bf.bits[0], 0xff);
    assert_int_equal(bf.bits[1], 0xf8);
    bitfield_clear_all(&bf);
    assert_int_equal(bitfield_count(&bf), 0);
    bitfield_free(&bf);

    assert_int_equal(bitfield_init(&bf, 16), 0);
    bitfield_set_all(&bf);
    assert_int_equal(bf.bits[1], 0xff);
    bitfield_free(&bf);

    assert_int_equal(bitfield_init(&bf, 0), 0);
    assert_int_equal(bitfield_bytes(&bf), 0);
    bitfield_set_all(&bf);
    assert_int_equal(bitfield_count(&bf), 0);
    assert_int_equal(bitfield_from_bytes(&bf, (const uint8_t *)"", 0), 0);
    bitfield_free(&bf);
}

static void from_bytes(void **state)
{
    (void)state;
    struct bitfield bf;
    assert_int_equal(bitfield_init(&bf, 12), 0);
    const uint8_t ok[2] = {0xa5, 0xf0};
    assert_int_equal(bitfield_from_bytes(&bf, ok, 2), 0);
    assert_int_equal(bitfield_count(&bf), 8);
    assert_true(bitfield_get(&bf, 0));
    assert_false(bitfield_get(&bf, 1));
    assert_true(bitfield_get(&bf, 11));

    /* Spare bit set: hostile or broken peer. Contents must stay. */
    const uint8_t spare[2] = {0x00, 0x01};
    assert_int_equal(bitfield_from_bytes(&bf, spare, 2), -EPROTO);
    const uint8_t spare2[2] = {0x00, 0x08};
    assert_int_equal(bitfield_from_bytes(&bf, spare2, 2), -EPROTO);
    assert_int_equal(bitfield_count(&bf), 8);
    /* Wrong sizes. */
    const uint8_t three[3] = {0};
    assert_int_equal(bitfield_from_bytes(&bf, three, 3), -EPROTO);
    assert_int_equal(bitfield_from_bytes(&bf, three, 1), -EPROTO);
    assert_int_equal(bitfield_count(&bf), 8);
    bitfield_free(&bf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_get_order),
        cmocka_unit_test(set_all_keeps_spare_zero),
        cmocka_unit_test(from_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
