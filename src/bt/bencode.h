/* bencode — strict, bounded decoder and a small encoder (BEP3).
 *
 * The decoder builds a tree of nodes in one arena owned by a benc_doc.
 * Nodes point into the caller's input (no copies), so the input must outlive
 * the doc.  Every node records the exact byte span it was decoded from:
 * the info-hash is SHA-1 over the `info` value's span, never a re-encoding.
 *
 * Hostile input is normal input: depth and token counts are bounded, lengths
 * are checked before use, and any error comes back as a negative code plus a
 * human-readable message.
 */
#ifndef TD_BT_BENCODE_H
#define TD_BT_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum benc_type { BENC_INT = 1, BENC_STR, BENC_LIST, BENC_DICT };

struct benc {
    enum benc_type type;
    const uint8_t *raw;     /* this value's exact span in the input */
    size_t raw_len;
    int64_t i;              /* BENC_INT */
    const uint8_t *s;       /* BENC_STR: points into the input, not NUL-terminated */
    size_t slen;
    struct benc *items;     /* BENC_LIST: n elements.  BENC_DICT: n/2 pairs,
                               items[2k] is the key (a BENC_STR), items[2k+1] its value */
    size_t n;
};

struct benc_limits {
    int max_depth;          /* nesting of lists/dicts; default 100 (qBittorrent's bdecode_depth_limit) */
    size_t max_tokens;      /* values in the document; default 10,000,000 (bdecode_token_limit) */
};

struct benc_doc;

/* Parse flags. */
#define BENC_ALLOW_TRAILING 1u   /* stop after the first value (ut_metadata carries raw data after its dict) */

/* Decodes p[0..n).  Rejects: truncation, non-canonical integers ("i-0e",
 * "i03e", "ie"), integers outside int64, string lengths with leading zeros or
 * beyond the input, non-string dict keys, trailing bytes (unless
 * BENC_ALLOW_TRAILING), and exceeding the limits.  Unsorted or duplicate dict
 * keys are accepted (real torrents have them) but reported through
 * benc_doc_unsorted().  lim may be NULL for the defaults.  On success *out
 * owns the tree and *consumed (if not NULL) is the length of the first value.
 * Returns 0, -EPROTO (malformed), -E2BIG (limits) or -ENOMEM; err gets a
 * message on failure. */
int benc_parse(const uint8_t *p, size_t n, const struct benc_limits *lim, unsigned flags,
               struct benc_doc **out, size_t *consumed, char *err, size_t errlen);

const struct benc *benc_root(const struct benc_doc *doc);
bool benc_doc_unsorted(const struct benc_doc *doc);   /* some dict had unsorted or duplicate keys */
void benc_doc_free(struct benc_doc *doc);

/* Lookups on a dict node; NULL/false when missing or of another type. */
const struct benc *benc_dict_get(const struct benc *dict, const char *key);
const struct benc *benc_dict_get_type(const struct benc *dict, const char *key, enum benc_type t);
bool benc_dict_int(const struct benc *dict, const char *key, int64_t *out);
/* Returns the string and its length, or NULL. */
const uint8_t *benc_dict_str(const struct benc *dict, const char *key, size_t *len);
/* Copies a string value into a new NUL-terminated malloc'd string; NULL when missing. */
char *benc_dict_strdup(const struct benc *dict, const char *key);
bool benc_str_eq(const struct benc *s, const char *cstr);

/* Copies p[0..n) into a new NUL-terminated string that is valid UTF-8 and at
 * most maxlen bytes (cut on a character boundary): invalid bytes become '?',
 * NULs are dropped, and with `printable` control characters become '?' too.
 * NULL only on OOM. */
char *benc_strdup_text(const uint8_t *p, size_t n, size_t maxlen, bool printable);

/* Encoder: appends to b.  Dict keys must be written in sorted order by the
 * caller.  All return 0 or -ENOMEM. */
int benc_put_int(struct buf *b, int64_t v);
int benc_put_str(struct buf *b, const void *p, size_t n);
int benc_put_cstr(struct buf *b, const char *s);
int benc_put_list(struct buf *b);    /* 'l' */
int benc_put_dict(struct buf *b);    /* 'd' */
int benc_put_end(struct buf *b);     /* 'e' */

#endif
