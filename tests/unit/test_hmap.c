#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "util/hmap.h"

static void basics(void **state)
{
    (void)state;
    struct hmap m = HMAP_INIT;
    int a = 1, b = 2;
    void *old = &a;
    assert_null(hmap_get(&m, "x", 1));
    assert_null(hmap_del(&m, "x", 1));
    assert_int_equal(hmap_put(&m, "x", 1, &a, &old), 0);
    assert_null(old);
    assert_ptr_equal(hmap_get(&m, "x", 1), &a);
    assert_null(hmap_get(&m, "xy", 2));
    assert_null(hmap_get(&m, "", 0));
    char key2[] = "x";
    assert_int_equal(hmap_put(&m, key2, 1, &b, &old), 0);   /* replace: new key pointer, old value out */
    assert_ptr_equal(old, &a);
    assert_int_equal(m.n, 1);
    assert_ptr_equal(hmap_get(&m, "x", 1), &b);
    void **v = hmap_find(&m, "x", 1);
    assert_non_null(v);
    *v = &a;
    assert_ptr_equal(hmap_get(&m, "x", 1), &a);
    assert_ptr_equal(hmap_del(&m, "x", 1), &a);
    assert_int_equal(m.n, 0);
    assert_null(hmap_get(&m, "x", 1));
    /* binary keys with NUL bytes */
    static const uint8_t k1[20] = {0}, k2[20] = {0, 0, 1};
    assert_int_equal(hmap_put(&m, k1, 20, &a, NULL), 0);
    assert_int_equal(hmap_put(&m, k2, 20, &b, NULL), 0);
    assert_ptr_equal(hmap_get(&m, k1, 20), &a);
    assert_ptr_equal(hmap_get(&m, k2, 20), &b);
    assert_null(hmap_get(&m, k1, 19));
    hmap_free(&m);
    assert_int_equal(m.n, 0);
    assert_null(hmap_get(&m, k1, 20));
}

/* Random puts and deletes against a plain array: deletion's backward shift
 * must keep every remaining key reachable. */
#define NKEYS 600
static void model(void **state)
{
    (void)state;
    static char keys[NKEYS][12];
    static int present[NKEYS];
    for (int i = 0; i < NKEYS; i++)
        snprintf(keys[i], sizeof keys[i], "k%d", i);
    struct hmap m = HMAP_INIT;
    srand(4);
    size_t n = 0;
    for (int round = 0; round < 40000; round++) {
        int k = rand() % NKEYS;
        if (rand() % 3) {
            void *old;
            assert_int_equal(hmap_put(&m, keys[k], strlen(keys[k]), keys[k], &old), 0);
            assert_ptr_equal(old, present[k] ? keys[k] : NULL);
            n += !present[k];
            present[k] = 1;
        } else {
            assert_ptr_equal(hmap_del(&m, keys[k], strlen(keys[k])), present[k] ? keys[k] : NULL);
            n -= present[k];
            present[k] = 0;
        }
        assert_int_equal(m.n, n);
        if (round % 997 == 0)
            for (int i = 0; i < NKEYS; i++)
                assert_ptr_equal(hmap_get(&m, keys[i], strlen(keys[i])), present[i] ? keys[i] : NULL);
    }
    size_t it = 0, seen = 0;
    for (struct hmap_ent *e; (e = hmap_next(&m, &it));) {
        assert_ptr_equal(e->val, e->key);
        seen++;
    }
    assert_int_equal(seen, n);
    assert_true(m.n * 2 <= m.cap);
    hmap_free(&m);
}

static void reserve(void **state)
{
    (void)state;
    struct hmap m = HMAP_INIT;
    static char keys[100][8];
    assert_int_equal(hmap_reserve(&m, 100), 0);
    size_t cap = m.cap;
    assert_true(cap >= 200);
    for (int i = 0; i < 100; i++) {
        snprintf(keys[i], sizeof keys[i], "%d", i);
        assert_int_equal(hmap_put(&m, keys[i], strlen(keys[i]), keys[i], NULL), 0);
    }
    assert_int_equal(m.cap, cap);   /* no regrowth after the reserve */
    hmap_free(&m);
}

/* The hash is keyed and stable within the process; keys that differ in one
 * bit or only in length hash apart. */
static void hash(void **state)
{
    (void)state;
    assert_true(hmap_hash("abc", 3) == hmap_hash("abc", 3));
    assert_true(hmap_hash("abc", 3) != hmap_hash("abd", 3));
    assert_true(hmap_hash("abc", 3) != hmap_hash("abc\0", 4));
    assert_true(hmap_hash("", 0) != hmap_hash("\0", 1));
    /* FNV-1a's 0 and the unkeyed SipHash of "" would be the same in every
     * run; the keyed one is not a fixed constant (1 in 2^64 false alarm) */
    assert_true(hmap_hash("", 0) != 0x1e924b9d737700d7ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basics),
        cmocka_unit_test(model),
        cmocka_unit_test(reserve),
        cmocka_unit_test(hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
