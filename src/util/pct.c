#include "util/pct.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

const struct pct_set pct_rfc3986 = {"-._~", true};
const struct pct_set pct_rfc3986_path = {"-._~/", true};
const struct pct_set pct_libtorrent = {"-_!.~*()", false};

static bool kept(uint8_t c, const char *keep)
{
    /* ASCII only whatever the locale: isalnum() would follow LC_CTYPE */
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr(keep, c));
}

int pct_encode(struct buf *b, const void *p, size_t n, const struct pct_set *set)
{
    const char *hex = set->upper ? "0123456789ABCDEF" : "0123456789abcdef";
    const uint8_t *s = p;
    if (n > (SIZE_MAX - 1) / 3)
        return -ENOMEM;
    int rc = buf_reserve(b, n * 3);   /* one reserve: the loop cannot fail half-way */
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (kept(s[i], set->keep)) {
            b->data[b->len++] = s[i];
        } else {
            b->data[b->len++] = '%';
            b->data[b->len++] = (uint8_t)hex[s[i] >> 4];
            b->data[b->len++] = (uint8_t)hex[s[i] & 15];
        }
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int pct_decode(const char *s, size_t n, unsigned flags, char **out, size_t *outlen)
{
    *out = NULL;
    if (n == SIZE_MAX)
        return -ENOMEM;
    char *o = malloc(n + 1);   /* decoding never grows the text */
    if (!o)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '+' && (flags & PCT_FORM)) {
            o[k++] = ' ';
        } else if (s[i] != '%') {
            o[k++] = s[i];
        } else if (i + 2 < n && (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
            o[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (flags & PCT_LENIENT) {
            o[k++] = '%';
        } else {
            free(o);
            return -EINVAL;
        }
    }
    o[k] = '\0';
    *out = o;
    if (outlen)
        *outlen = k;
    return 0;
}
