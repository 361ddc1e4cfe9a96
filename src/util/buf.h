/* buf — a growable byte buffer with a read cursor.
 *
 * Used for socket input/output queues and for building messages.  Appends
 * grow the buffer geometrically; buf_consume() advances the read side and
 * compacts lazily so that consuming is O(1) amortised.
 *
 * Errors are sticky: once an append fails (-ENOMEM), every later append and
 * reserve on the same buf fails with it and appends nothing, until
 * buf_reset/buf_free (buf_steal returns NULL).  So a string is built with
 * plain appends and checked once at the end:
 *
 *     struct buf b = BUF_INIT;
 *     buf_append_str(&b, "a=");
 *     buf_appendf(&b, "%d", n);
 *     char *s = (char *)buf_steal(&b, NULL);   // NULL if any append failed
 *     buf_free(&b);
 *
 * and a half-built message can never be sent: an append that fails leaves
 * nothing behind, and nothing after it gets in either.
 */
#ifndef TD_UTIL_BUF_H
#define TD_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
    uint8_t *data;
    size_t off;   /* read position: unread bytes are data[off .. len) */
    size_t len;   /* write position */
    size_t cap;
    int err;      /* 0, or the first append error (sticky, see above) */
};

#define BUF_INIT {NULL, 0, 0, 0, 0}

static inline const uint8_t *buf_head(const struct buf *b) { return b->data + b->off; }
static inline size_t buf_size(const struct buf *b) { return b->len - b->off; }

/* All return 0 or -ENOMEM (also when an earlier append on b failed). */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_append_u8(struct buf *b, uint8_t v);
int buf_append_be16(struct buf *b, uint16_t v);
int buf_append_be32(struct buf *b, uint32_t v);
int buf_append_be64(struct buf *b, uint64_t v);

/* The first append error since the last reset, or 0. */
static inline int buf_error(const struct buf *b) { return b->err; }

/* Drops n bytes from the front. */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/* Takes the unread bytes out as a malloc'd block (NUL-terminated, which is
 * not counted in *len) and leaves b empty.  NULL (b unchanged) on OOM or when
 * an append since the last reset failed. */
uint8_t *buf_steal(struct buf *b, size_t *len);

static inline uint32_t rd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint16_t rd_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint64_t rd_be64(const uint8_t *p)
{
    return (uint64_t)rd_be32(p) << 32 | rd_be32(p + 4);
}
static inline void wr_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void wr_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

#endif
