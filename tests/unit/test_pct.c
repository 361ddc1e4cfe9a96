/* util/pct against the loops it replaced: each old encoder and decoder is
 * kept here verbatim (modulo names) as the reference, and the shared module
 * must give byte-identical output for every byte value and for random text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ctype.h>
#include <stdbool.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/pct.h"

/* ---- the old encoders ---- */

/* bt/tracker/announce.c */
static void old_announce(struct buf *b, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '.' || c == '_' || c == '~') {
            buf_append_u8(b, c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(b, e, 3);
        }
    }
}

/* core/webseed.c */
static void old_webseed(struct buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
            (p[i] && strchr("-._~/", p[i])))
            buf_append_u8(b, p[i]);
        else
            buf_appendf(b, "%%%02X", p[i]);
    }
}

/* bt/magnet.c put_escaped */
static void old_magnet(struct buf *b, const uint8_t *p, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
            (p[i] && strchr("-_!.~*()", p[i]))) {
            buf_append_u8(b, p[i]);
        } else {
            char e[3] = {'%', hexd[p[i] >> 4], hexd[p[i] & 15]};
            buf_append(b, e, 3);
        }
    }
}

/* web/api/qbt_v2_json.c append_escaped (C locale) */
static void old_qbt_json(struct buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((p[i] && isalnum(p[i])) || (p[i] && strchr("-_!.~*()", p[i])))
            buf_append_u8(b, p[i]);
        else
            buf_appendf(b, "%%%02x", p[i]);
    }
}

static void same_encoding(void (*old)(struct buf *, const uint8_t *, size_t), const struct pct_set *set,
                          const uint8_t *p, size_t n)
{
    struct buf want = BUF_INIT, got = BUF_INIT;
    old(&want, p, n);
    assert_int_equal(pct_encode(&got, p, n, set), 0);
    assert_int_equal(buf_size(&got), buf_size(&want));
    assert_memory_equal(buf_head(&got), buf_head(&want), buf_size(&want));
    buf_free(&want);
    buf_free(&got);
}

static void encoders_match_old(void **state)
{
    (void)state;
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    srand(9);
    for (int round = 0; round < 200; round++) {
        uint8_t r[64];
        size_t n = (size_t)rand() % sizeof r;
        for (size_t i = 0; i < n; i++)
            r[i] = (uint8_t)rand();
        const uint8_t *p = round == 0 ? all : r;
        size_t len = round == 0 ? sizeof all : n;
        same_encoding(old_announce, &pct_rfc3986, p, len);
        same_encoding(old_webseed, &pct_rfc3986_path, p, len);
        same_encoding(old_magnet, &pct_libtorrent, p, len);
        same_encoding(old_qbt_json, &pct_libtorrent, p, len);
    }
}

static void encode_examples(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    const char *s = "a b/~*(é)";
    assert_int_equal(pct_encode(&b, s, strlen(s), &pct_rfc3986), 0);
    assert_int_equal(buf_append_u8(&b, 0), 0);
    assert_string_equal((const char *)buf_head(&b), "a%20b%2F~%2A%28%C3%A9%29");
    buf_reset(&b);
    assert_int_equal(pct_encode(&b, s, strlen(s), &pct_rfc3986_path), 0);
    assert_int_equal(buf_append_u8(&b, 0), 0);
    assert_string_equal((const char *)buf_head(&b), "a%20b/~%2A%28%C3%A9%29");
    buf_reset(&b);
    assert_int_equal(pct_encode(&b, s, strlen(s), &pct_libtorrent), 0);
    assert_int_equal(buf_append_u8(&b, 0), 0);
    assert_string_equal((const char *)buf_head(&b), "a%20b%2f~*(%c3%a9)");
    buf_reset(&b);
    assert_int_equal(pct_encode(&b, "", 0, &pct_libtorrent), 0);
    assert_int_equal(buf_size(&b), 0);
    buf_free(&b);
}

/* ---- the old decoders ---- */

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* bt/magnet.c pct_decode: '+' is a space, a broken escape fails */
static char *old_magnet_decode(const char *s, size_t n, size_t *len, bool *bad)
{
    *bad = false;
    char *o = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            o[k++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(o);
                *bad = true;
                return NULL;
            }
            o[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            o[k++] = s[i];
        }
    }
    o[k] = '\0';
    *len = k;
    return o;
}

/* web/api/qbt_v2_edit.c percent_decode: QUrl::fromPercentEncoding */
static char *old_edit_decode(const char *s, size_t len, size_t *olen)
{
    char *out = malloc(len + 1);
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            out[w++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[w++] = s[i];
        }
    }
    out[w] = 0;
    *olen = w;
    return out;
}

static void decoders_match_old(void **state)
{
    (void)state;
    static const char alphabet[] = "%%%%+aZ09fFgG \x01\xff";
    const char *fixed[] = {"", "%", "%4", "%41", "a%41b", "%4g", "%%41", "%41%", "+%2B+", "%00x", "%fF%Ff"};
    srand(8);
    for (int round = 0; round < 2000; round++) {
        char r[16];
        const char *s;
        size_t n;
        if (round < (int)(sizeof fixed / sizeof *fixed)) {
            s = fixed[round];
            n = strlen(s);
        } else {
            n = (size_t)rand() % sizeof r;
            for (size_t i = 0; i < n; i++)
                r[i] = alphabet[(size_t)rand() % (sizeof alphabet - 1)];
            s = r;
        }
        size_t wl, gl;
        bool bad;
        char *want = old_magnet_decode(s, n, &wl, &bad), *got;
        int rc = pct_decode(s, n, PCT_FORM, &got, &gl);
        if (bad) {
            assert_int_equal(rc, -EINVAL);
            assert_null(got);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(gl, wl);
            assert_memory_equal(got, want, wl + 1);
        }
        free(want);
        free(got);

        want = old_edit_decode(s, n, &wl);
        assert_int_equal(pct_decode(s, n, PCT_LENIENT, &got, &gl), 0);
        assert_int_equal(gl, wl);
        assert_memory_equal(got, want, wl + 1);
        free(want);
        free(got);
    }
}

static void decode_examples(void **state)
{
    (void)state;
    char *o;
    size_t n;
    assert_int_equal(pct_decode("a+b%20c", 7, 0, &o, &n), 0);
    assert_string_equal(o, "a+b c");
    free(o);
    assert_int_equal(pct_decode("a+b%20c", 7, PCT_FORM, &o, NULL), 0);
    assert_string_equal(o, "a b c");
    free(o);
    assert_int_equal(pct_decode("x%00y", 5, 0, &o, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(o, "x\0y", 4);
    free(o);
    assert_int_equal(pct_decode("50%", 3, 0, &o, &n), -EINVAL);
    assert_null(o);
    assert_int_equal(pct_decode("50%", 3, PCT_LENIENT, &o, &n), 0);
    assert_string_equal(o, "50%");
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encoders_match_old),
        cmocka_unit_test(encode_examples),
        cmocka_unit_test(decoders_match_old),
        cmocka_unit_test(decode_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
