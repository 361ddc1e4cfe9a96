#include "util/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Records the first failure; later calls see it. */
static int fail(struct buf *b, int rc)
{
    if (!b->err)
        b->err = rc;
    return rc;
}

int buf_reserve(struct buf *b, size_t extra)
{
    if (b->err)
        return b->err;
    if (b->cap - b->len >= extra)
        return 0;
    /* Reclaim consumed space before growing. */
    if (b->off > 0) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->cap - b->len >= extra)
            return 0;
    }
    if (extra > SIZE_MAX - b->len - 1)
        return fail(b, -ENOMEM);
    size_t need = b->len + extra + 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return fail(b, -ENOMEM);
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return fail(b, -ENOMEM);
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0 || b->err)
        return b->err;
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int buf_append_str(struct buf *b, const char *s) { return buf_append(b, s, strlen(s)); }

int buf_appendf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return fail(b, -EINVAL);
    if ((size_t)n < sizeof tmp)
        return buf_append(b, tmp, (size_t)n);
    int rc = buf_reserve(b, (size_t)n + 1);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int buf_append_u8(struct buf *b, uint8_t v) { return buf_append(b, &v, 1); }

int buf_append_be16(struct buf *b, uint16_t v)
{
    uint8_t t[2];
    wr_be16(t, v);
    return buf_append(b, t, 2);
}

int buf_append_be32(struct buf *b, uint32_t v)
{
    uint8_t t[4];
    wr_be32(t, v);
    return buf_append(b, t, 4);
}

int buf_append_be64(struct buf *b, uint64_t v)
{
    uint8_t t[8];
    wr_be32(t, (uint32_t)(v >> 32));
    wr_be32(t + 4, (uint32_t)v);
    return buf_append(b, t, 8);
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len - b->off) {
        b->off = b->len = 0;
        return;
    }
    b->off += n;
}

void buf_reset(struct buf *b)
{
    b->off = b->len = 0;
    b->err = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
    b->err = 0;
}

uint8_t *buf_steal(struct buf *b, size_t *len)
{
    if (b->err)
        return NULL;
    size_t n = buf_size(b);
    uint8_t *p = malloc(n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, buf_head(b), n);
    p[n] = 0;
    if (len)
        *len = n;
    buf_reset(b);
    return p;
}
