#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "bt/bencode.h"
#include "util/log.h"

static int parse(const char *s, struct benc_doc **doc)
{
    char err[200];
    return benc_parse((const uint8_t *)s, strlen(s), NULL, 0, doc, NULL, err, sizeof err);
}

static void expect_reject(const char *s, int code)
{
    struct benc_doc *doc = (struct benc_doc *)1;
    char err[200] = "";
    int rc = benc_parse((const uint8_t *)s, strlen(s), NULL, 0, &doc, NULL, err, sizeof err);
    if (rc != code)
        fail_msg("input '%s': expected %d, got %d (%s)", s, code, rc, err);
    assert_null(doc);
    assert_true(strlen(err) > 0);
}

static void valid_values(void **state)
{
    (void)state;
    struct benc_doc *doc;
    const char *in = "d3:agei-42e4:listli1ei0ee4:name5:hello3:nili9223372036854775807ee";
    assert_int_equal(parse(in, &doc), 0);
    const struct benc *r = benc_root(doc);
    assert_int_equal(r->type, BENC_DICT);
    assert_int_equal(r->n, 8);
    assert_int_equal(r->raw_len, strlen(in));
    int64_t v;
    assert_true(benc_dict_int(r, "age", &v));
    assert_int_equal(v, -42);
    size_t len;
    const uint8_t *s = benc_dict_str(r, "name", &len);
    assert_non_null(s);
    assert_int_equal(len, 5);
    assert_memory_equal(s, "hello", 5);
    char *dup = benc_dict_strdup(r, "name");
    assert_string_equal(dup, "hello");
    free(dup);
    const struct benc *l = benc_dict_get_type(r, "list", BENC_LIST);
    assert_non_null(l);
    assert_int_equal(l->n, 2);
    assert_int_equal(l->items[0].i, 1);
    assert_int_equal(l->items[1].i, 0);
    assert_int_equal(l->raw_len, 8);
    assert_memory_equal(l->raw, "li1ei0ee", 8);
    const struct benc *nl = benc_dict_get(r, "nil");
    assert_true(nl->type == BENC_INT && nl->i == INT64_MAX);
    assert_null(benc_dict_get_type(r, "name", BENC_INT));
    assert_null(benc_dict_get(r, "missing"));
    assert_false(benc_dict_int(r, "name", &v));
    assert_false(benc_doc_unsorted(doc));
    assert_true(benc_str_eq(&r->items[0], "age"));
    benc_doc_free(doc);

    assert_int_equal(parse("i-9223372036854775808e", &doc), 0);
    assert_true(benc_root(doc)->i == INT64_MIN);
    benc_doc_free(doc);
    assert_int_equal(parse("0:", &doc), 0);
    assert_int_equal(benc_root(doc)->slen, 0);
    benc_doc_free(doc);
    assert_int_equal(parse("le", &doc), 0);
    assert_int_equal(benc_root(doc)->n, 0);
    benc_doc_free(doc);
    assert_int_equal(parse("de", &doc), 0);
    benc_doc_free(doc);
    /* Binary strings may contain NUL and 'e'. */
    const uint8_t bin[] = {'3', ':', 0, 'e', 0xff};
    assert_int_equal(benc_parse(bin, sizeof bin, NULL, 0, &doc, NULL, NULL, 0), 0);
    assert_int_equal(benc_root(doc)->slen, 3);
    benc_doc_free(doc);
}

static void rejects(void **state)
{
    (void)state;
    /* non-canonical integers */
    expect_reject("i-0e", -EPROTO);
    expect_reject("i03e", -EPROTO);
    expect_reject("i-03e", -EPROTO);
    expect_reject("ie", -EPROTO);
    expect_reject("i-e", -EPROTO);
    expect_reject("i+1e", -EPROTO);
    expect_reject("i1.5e", -EPROTO);
    expect_reject("i 1e", -EPROTO);
    /* int64 overflow */
    expect_reject("i9223372036854775808e", -EPROTO);
    expect_reject("i-9223372036854775809e", -EPROTO);
    expect_reject("i99999999999999999999999999e", -EPROTO);
    /* strings */
    expect_reject("05:hello", -EPROTO);
    expect_reject("00:", -EPROTO);
    expect_reject("5:abc", -EPROTO);
    expect_reject("4294967296:x", -EPROTO);
    expect_reject("18446744073709551617:x", -EPROTO);
    expect_reject("999999999999999999999999999999:x", -EPROTO);
    expect_reject("-1:x", -EPROTO);
    expect_reject("3abc", -EPROTO);
    /* truncation */
    expect_reject("", -EPROTO);
    expect_reject("i42", -EPROTO);
    expect_reject("l", -EPROTO);
    expect_reject("li1e", -EPROTO);
    expect_reject("d3:foo", -EPROTO);
    expect_reject("d3:fooi1e", -EPROTO);
    expect_reject("12", -EPROTO);
    /* dict keys must be strings, and have values */
    expect_reject("di1ei2ee", -EPROTO);
    expect_reject("dlei2ee", -EPROTO);
    expect_reject("d3:fooe", -EPROTO);
    /* trailing data, unknown type bytes */
    expect_reject("i1ei2e", -EPROTO);
    expect_reject("dex", -EPROTO);
    expect_reject("x", -EPROTO);
    expect_reject("e", -EPROTO);
}

static void unsorted_and_duplicate_keys(void **state)
{
    (void)state;
    struct benc_doc *doc;
    assert_int_equal(parse("d1:bi1e1:ai2ee", &doc), 0);
    assert_true(benc_doc_unsorted(doc));
    int64_t v;
    assert_true(benc_dict_int(benc_root(doc), "a", &v));
    assert_int_equal(v, 2);
    benc_doc_free(doc);

    assert_int_equal(parse("d1:ai1e1:ai2ee", &doc), 0);
    assert_true(benc_doc_unsorted(doc));
    benc_doc_free(doc);

    /* Nested dict out of order inside a sorted one. */
    assert_int_equal(parse("d1:ad2:zz0:2:aa0:ee", &doc), 0);
    assert_true(benc_doc_unsorted(doc));
    benc_doc_free(doc);

    /* Shorter prefix sorts first: "a" < "ab" is sorted. */
    assert_int_equal(parse("d1:ai1e2:abi2e1:bi3ee", &doc), 0);
    assert_false(benc_doc_unsorted(doc));
    benc_doc_free(doc);
    /* ...and bytes compare unsigned: "\x7f" < "\x80". */
    assert_int_equal(parse("d1:\x7fi1e1:\x80i2ee", &doc), 0);
    assert_false(benc_doc_unsorted(doc));
    benc_doc_free(doc);
}

static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) {
        s[i] = 'l';
        s[depth + i] = 'e';
    }
    s[2 * depth] = 0;
    return s;
}

static void depth_limit(void **state)
{
    (void)state;
    struct benc_doc *doc;
    char *ok = nested(100);
    assert_int_equal(parse(ok, &doc), 0);
    const struct benc *n = benc_root(doc);
    int d = 0;
    while (n->n) {
        n = &n->items[0];
        d++;
    }
    assert_int_equal(d, 99);
    benc_doc_free(doc);
    free(ok);

    char *deep = nested(101);
    expect_reject(deep, -E2BIG);
    free(deep);
    /* Very deep hostile input must not recurse into a stack overflow. */
    char *huge = nested(200000);
    expect_reject(huge, -E2BIG);
    free(huge);

    struct benc_limits lim = {.max_depth = 3};
    assert_int_equal(benc_parse((const uint8_t *)"llee", 4, &lim, 0, &doc, NULL, NULL, 0), 0);
    benc_doc_free(doc);
    assert_int_equal(benc_parse((const uint8_t *)"lllleeee", 8, &lim, 0, &doc, NULL, NULL, 0), -E2BIG);
}

static void token_limit(void **state)
{
    (void)state;
    struct benc_doc *doc;
    struct benc_limits lim = {.max_tokens = 4};
    assert_int_equal(benc_parse((const uint8_t *)"li1ei2ei3ee", 11, &lim, 0, &doc, NULL, NULL, 0), 0);
    benc_doc_free(doc);
    assert_int_equal(benc_parse((const uint8_t *)"li1ei2ei3ei4ee", 14, &lim, 0, &doc, NULL, NULL, 0),
                     -E2BIG);
    /* A long list of empty strings: every node accounted for. */
    size_t count = 100000;
    char *s = malloc(count * 2 + 3);
    s[0] = 'l';
    for (size_t i = 0; i < count; i++)
        memcpy(s + 1 + 2 * i, "0:", 2);
    s[1 + 2 * count] = 'e';
    s[2 + 2 * count] = 0;
    assert_int_equal(parse(s, &doc), 0);
    assert_int_equal(benc_root(doc)->n, count);
    benc_doc_free(doc);
    free(s);
}

static void trailing_allowed(void **state)
{
    (void)state;
    struct benc_doc *doc;
    const char *msg = "d8:msg_typei1e5:piecei0eeRAWDATA";
    size_t used = 0;
    assert_int_equal(benc_parse((const uint8_t *)msg, strlen(msg), NULL, BENC_ALLOW_TRAILING,
                                &doc, &used, NULL, 0), 0);
    assert_int_equal(used, strlen(msg) - 7);
    benc_doc_free(doc);
    assert_int_equal(benc_parse((const uint8_t *)msg, strlen(msg), NULL, 0, &doc, &used, NULL, 0),
                     -EPROTO);
}

static void info_span_is_exact(void **state)
{
    (void)state;
    /* Unsorted keys inside info must be hashed as given, not re-encoded. */
    const char *t = "d8:announce3:url4:infod4:name1:x6:lengthi1eee";
    struct benc_doc *doc;
    assert_int_equal(parse(t, &doc), 0);
    const struct benc *info = benc_dict_get(benc_root(doc), "info");
    assert_non_null(info);
    assert_int_equal(info->raw_len, strlen("d4:name1:x6:lengthi1ee"));
    assert_memory_equal(info->raw, "d4:name1:x6:lengthi1ee", info->raw_len);
    assert_true(benc_doc_unsorted(doc));
    benc_doc_free(doc);
}

static void encoder(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_int_equal(benc_put_dict(&b), 0);
    benc_put_cstr(&b, "a");
    benc_put_int(&b, INT64_MIN);
    benc_put_cstr(&b, "b");
    benc_put_list(&b);
    benc_put_str(&b, "\0x", 2);
    benc_put_int(&b, 0);
    benc_put_end(&b);
    benc_put_cstr(&b, "c");
    benc_put_cstr(&b, "");
    benc_put_end(&b);
    const char want[] = "d1:ai-9223372036854775808e1:bl2:\0xi0ee1:c0:e";
    assert_int_equal(buf_size(&b), sizeof want - 1);
    assert_memory_equal(buf_head(&b), want, sizeof want - 1);
    /* What we encode, we decode, sorted. */
    struct benc_doc *doc;
    assert_int_equal(benc_parse(buf_head(&b), buf_size(&b), NULL, 0, &doc, NULL, NULL, 0), 0);
    assert_false(benc_doc_unsorted(doc));
    benc_doc_free(doc);
    buf_free(&b);
}

static void text_copy(void **state)
{
    (void)state;
    const uint8_t in[] = "ok \xc3\xa9 \xff\x01\x00z\xe2\x82";
    char *s = benc_strdup_text(in, sizeof in - 1, 100, false);
    assert_string_equal(s, "ok \xc3\xa9 ?\x01z??");
    free(s);
    s = benc_strdup_text(in, sizeof in - 1, 100, true);
    assert_string_equal(s, "ok \xc3\xa9 ??z??");
    free(s);
    /* Cut on a character boundary: "ok " + 2-byte char does not fit in 4. */
    s = benc_strdup_text(in, sizeof in - 1, 4, true);
    assert_string_equal(s, "ok ");
    free(s);
    /* Overlong encodings and surrogates are invalid. */
    const uint8_t bad[] = "\xc0\xaf\xed\xa0\x80";
    s = benc_strdup_text(bad, sizeof bad - 1, 100, false);
    assert_string_equal(s, "?????");
    free(s);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_values),
        cmocka_unit_test(rejects),
        cmocka_unit_test(unsorted_and_duplicate_keys),
        cmocka_unit_test(depth_limit),
        cmocka_unit_test(token_limit),
        cmocka_unit_test(trailing_allowed),
        cmocka_unit_test(info_span_is_exact),
        cmocka_unit_test(encoder),
        cmocka_unit_test(text_copy),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
