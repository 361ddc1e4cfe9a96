#include "bt/bencode.h"
#include "util/utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Two passes over the input with the same code: the first validates and
 * counts (values, and children per container in pre-order), the second
 * fills one exactly-sized node array.  Recursion depth is bounded by
 * max_depth, which is checked before descending. */

struct benc_doc {
    struct benc *nodes;
    size_t num_nodes;
    bool unsorted;
};

struct benc_parser {
    const uint8_t *p;
    size_t n;
    size_t pos;
    int max_depth;
    size_t max_tokens;
    size_t tokens;
    size_t *counts;          /* children per container, pre-order */
    size_t num_counts, cap_counts;
    size_t next_count;       /* pass 2: next entry of counts */
    struct benc *arena;      /* pass 2: node array; NULL in pass 1 */
    size_t arena_used;
    bool unsorted;
    char *err;
    size_t errlen;
};

static int fail(struct benc_parser *ps, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct benc_parser *ps, int code, const char *fmt, ...)
{
    if (ps->err && ps->errlen) {
        char msg[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(ps->err, ps->errlen, "bencode: %s at offset %zu", msg, ps->pos);
    }
    return code;
}

static int parse_int(struct benc_parser *ps, struct benc *out)
{
    size_t start = ps->pos++;              /* 'i' */
    bool neg = false;
    if (ps->pos < ps->n && ps->p[ps->pos] == '-') {
        neg = true;
        ps->pos++;
    }
    size_t digits = ps->pos;
    /* Magnitude limit: |INT64_MIN| for negatives. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    while (ps->pos < ps->n && ps->p[ps->pos] >= '0' && ps->p[ps->pos] <= '9') {
        uint64_t d = (uint64_t)(ps->p[ps->pos] - '0');
        if (v > (limit - d) / 10)
            return fail(ps, -EPROTO, "integer out of int64 range");
        v = v * 10 + d;
        ps->pos++;
    }
    size_t nd = ps->pos - digits;
    if (ps->pos >= ps->n)
        return fail(ps, -EPROTO, "truncated integer");
    if (ps->p[ps->pos] != 'e' || nd == 0)
        return fail(ps, -EPROTO, "malformed integer");
    if (ps->p[digits] == '0' && (nd > 1 || neg))
        return fail(ps, -EPROTO, "non-canonical integer");
    ps->pos++;
    out->type = BENC_INT;
    /* Negating through uint64 keeps INT64_MIN well defined. */
    out->i = neg ? (int64_t)(0 - v) : (int64_t)v;
    out->raw = ps->p + start;
    out->raw_len = ps->pos - start;
    return 0;
}

static int parse_str(struct benc_parser *ps, struct benc *out)
{
    size_t start = ps->pos;
    size_t len = 0;
    while (ps->pos < ps->n && ps->p[ps->pos] >= '0' && ps->p[ps->pos] <= '9') {
        len = len * 10 + (size_t)(ps->p[ps->pos] - '0');
        if (len > ps->n)   /* also keeps len*10 from overflowing */
            return fail(ps, -EPROTO, "string length beyond input");
        ps->pos++;
    }
    if (ps->pos >= ps->n)
        return fail(ps, -EPROTO, "truncated string length");
    if (ps->p[ps->pos] != ':')
        return fail(ps, -EPROTO, "malformed string length");
    if (ps->p[start] == '0' && ps->pos - start > 1)
        return fail(ps, -EPROTO, "string length with leading zero");
    ps->pos++;
    if (len > ps->n - ps->pos)
        return fail(ps, -EPROTO, "string length %zu beyond input", len);
    out->type = BENC_STR;
    out->s = ps->p + ps->pos;
    out->slen = len;
    ps->pos += len;
    out->raw = ps->p + start;
    out->raw_len = ps->pos - start;
    return 0;
}

static int key_cmp(const struct benc *a, const struct benc *b)
{
    size_t m = a->slen < b->slen ? a->slen : b->slen;
    int c = m ? memcmp(a->s, b->s, m) : 0;
    if (c)
        return c;
    return a->slen < b->slen ? -1 : a->slen > b->slen;
}

static int parse_value(struct benc_parser *ps, struct benc *out, int depth);

static int parse_container(struct benc_parser *ps, struct benc *out, int depth)
{
    size_t start = ps->pos;
    bool dict = ps->p[ps->pos] == 'd';
    if (depth >= ps->max_depth)
        return fail(ps, -E2BIG, "nesting deeper than %d", ps->max_depth);
    ps->pos++;

    size_t slot = 0, expect = 0;
    struct benc *items = NULL;
    if (!ps->arena) {
        if (ps->num_counts == ps->cap_counts) {
            size_t cap = ps->cap_counts ? ps->cap_counts * 2 : 64;
            size_t *c = realloc(ps->counts, cap * sizeof *c);
            if (!c)
                return fail(ps, -ENOMEM, "out of memory");
            ps->counts = c;
            ps->cap_counts = cap;
        }
        slot = ps->num_counts++;
    } else {
        expect = ps->counts[ps->next_count++];
        items = expect ? ps->arena + ps->arena_used : NULL;
        ps->arena_used += expect;
    }

    size_t k = 0;
    struct benc prev_key = {0}, tmp;
    for (;;) {
        if (ps->pos >= ps->n)
            return fail(ps, -EPROTO, "truncated %s", dict ? "dict" : "list");
        if (ps->p[ps->pos] == 'e')
            break;
        bool is_key = dict && k % 2 == 0;
        if (is_key && (ps->p[ps->pos] < '0' || ps->p[ps->pos] > '9'))
            return fail(ps, -EPROTO, "dict key is not a string");
        struct benc *child = items && k < expect ? &items[k] : &tmp;
        memset(child, 0, sizeof *child);
        int rc = parse_value(ps, child, depth + 1);
        if (rc)
            return rc;
        if (is_key) {
            if (k > 0 && key_cmp(&prev_key, child) >= 0)
                ps->unsorted = true;
            prev_key = *child;
        }
        k++;
    }
    if (dict && k % 2)
        return fail(ps, -EPROTO, "dict key without value");
    ps->pos++;
    if (!ps->arena)
        ps->counts[slot] = k;
    out->type = dict ? BENC_DICT : BENC_LIST;
    out->items = items;
    out->n = ps->arena ? expect : k;
    out->raw = ps->p + start;
    out->raw_len = ps->pos - start;
    return 0;
}

static int parse_value(struct benc_parser *ps, struct benc *out, int depth)
{
    if (ps->pos >= ps->n)
        return fail(ps, -EPROTO, "truncated input");
    if (++ps->tokens > ps->max_tokens)
        return fail(ps, -E2BIG, "more than %zu values", ps->max_tokens);
    uint8_t c = ps->p[ps->pos];
    if (c == 'i')
        return parse_int(ps, out);
    if (c >= '0' && c <= '9')
        return parse_str(ps, out);
    if (c == 'l' || c == 'd')
        return parse_container(ps, out, depth);
    return fail(ps, -EPROTO, "unexpected byte 0x%02x", c);
}

int benc_parse(const uint8_t *p, size_t n, const struct benc_limits *lim, unsigned flags,
               struct benc_doc **out, size_t *consumed, char *err, size_t errlen)
{
    struct benc_parser ps = {
        .p = p, .n = p ? n : 0,
        .max_depth = lim && lim->max_depth > 0 ? lim->max_depth : 100,
        .max_tokens = lim && lim->max_tokens > 0 ? lim->max_tokens : 10000000,
        .err = err, .errlen = errlen,
    };
    *out = NULL;
    if (err && errlen)
        err[0] = 0;

    struct benc tmp = {0};
    int rc = parse_value(&ps, &tmp, 0);
    if (rc == 0 && !(flags & BENC_ALLOW_TRAILING) && ps.pos != ps.n)
        rc = fail(&ps, -EPROTO, "%zu bytes of trailing data", ps.n - ps.pos);
    if (rc) {
        free(ps.counts);
        return rc;
    }
    size_t len = ps.pos;

    struct benc_doc *doc = calloc(1, sizeof *doc);
    struct benc *nodes = calloc(ps.tokens, sizeof *nodes);
    if (!doc || !nodes) {
        free(doc);
        free(nodes);
        free(ps.counts);
        return fail(&ps, -ENOMEM, "out of memory");
    }
    doc->num_nodes = ps.tokens;
    doc->unsorted = ps.unsorted;
    doc->nodes = nodes;

    ps.pos = 0;
    ps.tokens = 0;
    ps.arena = nodes;
    ps.arena_used = 1;
    rc = parse_value(&ps, &nodes[0], 0);
    free(ps.counts);
    if (rc || ps.arena_used != doc->num_nodes) {
        /* Cannot happen after a successful first pass. */
        benc_doc_free(doc);
        return rc ? rc : fail(&ps, -EPROTO, "internal inconsistency");
    }
    *out = doc;
    if (consumed)
        *consumed = len;
    return 0;
}

const struct benc *benc_root(const struct benc_doc *doc)
{
    return doc ? &doc->nodes[0] : NULL;
}

bool benc_doc_unsorted(const struct benc_doc *doc)
{
    return doc && doc->unsorted;
}

void benc_doc_free(struct benc_doc *doc)
{
    if (!doc)
        return;
    free(doc->nodes);
    free(doc);
}

const struct benc *benc_dict_get(const struct benc *dict, const char *key)
{
    if (!dict || dict->type != BENC_DICT || !key)
        return NULL;
    size_t kl = strlen(key);
    for (size_t k = 0; k + 1 < dict->n; k += 2) {
        const struct benc *kn = &dict->items[k];
        if (kn->slen == kl && memcmp(kn->s, key, kl) == 0)
            return &dict->items[k + 1];
    }
    return NULL;
}

const struct benc *benc_dict_get_type(const struct benc *dict, const char *key, enum benc_type t)
{
    const struct benc *v = benc_dict_get(dict, key);
    return v && v->type == t ? v : NULL;
}

bool benc_dict_int(const struct benc *dict, const char *key, int64_t *out)
{
    const struct benc *v = benc_dict_get_type(dict, key, BENC_INT);
    if (v && out)
        *out = v->i;
    return v != NULL;
}

const uint8_t *benc_dict_str(const struct benc *dict, const char *key, size_t *len)
{
    const struct benc *v = benc_dict_get_type(dict, key, BENC_STR);
    if (!v)
        return NULL;
    if (len)
        *len = v->slen;
    /* A zero-length string still has a valid (non-NULL) pointer into the input. */
    return v->s;
}

char *benc_dict_strdup(const struct benc *dict, const char *key)
{
    const struct benc *v = benc_dict_get_type(dict, key, BENC_STR);
    if (!v)
        return NULL;
    char *s = malloc(v->slen + 1);
    if (!s)
        return NULL;
    if (v->slen)
        memcpy(s, v->s, v->slen);
    s[v->slen] = 0;
    return s;
}

bool benc_str_eq(const struct benc *s, const char *cstr)
{
    if (!s || s->type != BENC_STR || !cstr)
        return false;
    size_t l = strlen(cstr);
    return s->slen == l && (l == 0 || memcmp(s->s, cstr, l) == 0);
}

char *benc_strdup_text(const uint8_t *p, size_t n, size_t maxlen, bool printable)
{
    size_t cap = n < maxlen ? n : maxlen;
    char *s = malloc(cap + 1);
    if (!s)
        return NULL;
    size_t o = 0, i = 0;
    while (i < n) {
        size_t l = utf8_seq(p + i, n - i);
        const uint8_t *src = p + i;
        uint8_t q = '?';
        bool ctl = (l == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
                   (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0);   /* C1 controls */
        if (l == 0 || (printable && ctl && p[i] != 0)) {
            src = &q;
            i += 1;
            l = 1;
        } else if (l == 1 && p[i] == 0) {
            i += 1;          /* NULs would cut the C string short */
            continue;
        } else {
            i += l;
        }
        if (o + l > cap)
            break;
        memcpy(s + o, src, l);
        o += l;
    }
    s[o] = 0;
    return s;
}

int benc_put_int(struct buf *b, int64_t v)
{
    return buf_appendf(b, "i%" PRId64 "e", v);
}

int benc_put_str(struct buf *b, const void *p, size_t n)
{
    int rc = buf_appendf(b, "%zu:", n);
    if (rc == 0 && n)
        rc = buf_append(b, p, n);
    return rc;
}

int benc_put_cstr(struct buf *b, const char *s)
{
    return benc_put_str(b, s, strlen(s));
}

int benc_put_list(struct buf *b) { return buf_append_u8(b, 'l'); }
int benc_put_dict(struct buf *b) { return buf_append_u8(b, 'd'); }
int benc_put_end(struct buf *b) { return buf_append_u8(b, 'e'); }
