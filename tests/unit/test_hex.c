#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "util/hex.h"

static void hex(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0x01, 0xab, 0xff, 0x7f};
    char out[11];
    assert_int_equal(hex_encode(in, 5, out), 0);
    assert_string_equal(out, "0001abff7f");
    hex_encode(in, 0, out);
    assert_string_equal(out, "");

    uint8_t b[20];
    assert_int_equal(hex_decode("0001ABff7F", 10, b, sizeof b), 5);
    assert_memory_equal(b, in, 5);
    assert_int_equal(hex_decode("", 0, b, sizeof b), 0);
    assert_int_equal(hex_decode("abc", 3, b, sizeof b), -EINVAL);      /* odd */
    assert_int_equal(hex_decode("0g", 2, b, sizeof b), -EINVAL);
    assert_int_equal(hex_decode("0 ", 2, b, sizeof b), -EINVAL);
    assert_int_equal(hex_decode("-1", 2, b, sizeof b), -EINVAL);
    assert_int_equal(hex_decode("00112233", 8, b, 3), -EINVAL);        /* no room */
    uint8_t canary[3] = {9, 9, 9};
    assert_int_equal(hex_decode("aabbccdd", 8, canary, 2), -EINVAL);
    assert_int_equal(canary[2], 9);
    /* 40-digit info-hash round trip. */
    const char *ih = "d9ba5827fbebdbdc1d3e8674f5506acfb6cb7894";
    assert_int_equal(hex_decode(ih, 40, b, 20), 20);
    char back[41];
    hex_encode(b, 20, back);
    assert_string_equal(back, ih);
}

static void base32(void **state)
{
    (void)state;
    uint8_t b[32];
    /* RFC 4648 test vectors. */
    assert_int_equal(base32_decode("", 0, b, sizeof b), 0);
    assert_int_equal(base32_decode("MY======", 8, b, sizeof b), 1);
    assert_memory_equal(b, "f", 1);
    assert_int_equal(base32_decode("MZXQ====", 8, b, sizeof b), 2);
    assert_memory_equal(b, "fo", 2);
    assert_int_equal(base32_decode("MZXW6===", 8, b, sizeof b), 3);
    assert_int_equal(base32_decode("MZXW6YQ=", 8, b, sizeof b), 4);
    assert_int_equal(base32_decode("mzxw6ytb", 8, b, sizeof b), 5);
    assert_memory_equal(b, "fooba", 5);
    assert_int_equal(base32_decode("MZXW6YTBOI", 10, b, sizeof b), 6);
    assert_memory_equal(b, "foobar", 6);
    /* A magnet's 32-character hash is 20 bytes; compare with its hex form. */
    const char *b32 = "3G5FQJ735PN5YHJ6QZ2PKUDKZ63MW6EU";
    assert_int_equal(base32_decode(b32, 32, b, 20), 20);
    char hex[41];
    hex_encode(b, 20, hex);
    assert_string_equal(hex, "d9ba5827fbebdbdc1d3e8674f5506acfb6cb7894");
    /* Rejects. */
    assert_int_equal(base32_decode("MZXW6YT1", 8, b, sizeof b), -EINVAL);  /* '1' */
    assert_int_equal(base32_decode("MZXW6YT8", 8, b, sizeof b), -EINVAL);
    assert_int_equal(base32_decode("M", 1, b, sizeof b), -EINVAL);          /* impossible length */
    assert_int_equal(base32_decode("MZX", 3, b, sizeof b), -EINVAL);
    assert_int_equal(base32_decode("MZ", 2, b, sizeof b), -EINVAL);         /* leftover bits set */
    assert_int_equal(base32_decode(b32, 32, b, 19), -EINVAL);               /* no room */
    assert_int_equal(base32_decode("MZ=XW6YT", 8, b, sizeof b), -EINVAL);
}

static void base64(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(base64_encode((const uint8_t *)"foobar", 6, out, sizeof out), 8);
    assert_string_equal(out, "Zm9vYmFy");
    assert_int_equal(base64_encode((const uint8_t *)"fo", 2, out, sizeof out), 4);
    assert_string_equal(out, "Zm8=");
    assert_int_equal(base64_encode((const uint8_t *)"fo", 2, out, 4), -EINVAL);
    uint8_t b[16];
    assert_int_equal(base64_decode("Zm9vYmFy", 8, b, sizeof b), 6);
    assert_memory_equal(b, "foobar", 6);
    assert_int_equal(base64_decode("Zm8=", 4, b, sizeof b), 2);
    assert_int_equal(base64_decode("Zg==", 4, b, sizeof b), 1);
    assert_int_equal(base64_decode("Zm8", 3, b, sizeof b), -EINVAL);
    assert_int_equal(base64_decode("Z=8A", 4, b, sizeof b), -EINVAL);
    assert_int_equal(base64_decode("Zm=A", 4, b, sizeof b), -EINVAL);
    assert_int_equal(base64_decode("Zm 8", 4, b, sizeof b), -EINVAL);
    assert_int_equal(base64_decode("Zm9vYmFy", 8, b, 5), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hex),
        cmocka_unit_test(base32),
        cmocka_unit_test(base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
