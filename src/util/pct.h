/* pct — percent-encoding (RFC 3986 §2.1) of bytes into URLs and back.
 *
 * Encoders differ only in which bytes they leave as they are and in the case
 * of the hex digits, and each peer we talk to compares our bytes with its
 * own: trackers and web seeds get curl's escaping (RFC 3986 unreserved,
 * upper-case hex), magnet URIs get libtorrent's escape_string() (a wider
 * set, lower-case hex) because qBittorrent shows those byte for byte.  A
 * caller picks one of the sets below instead of writing its own loop.
 *
 * Decoders take untrusted text.  Strict decoding rejects a '%' that is not
 * followed by two hex digits; lenient decoding keeps such a '%' as it is (as
 * QUrl::fromPercentEncoding does).  '+' means a space only in
 * application/x-www-form-urlencoded text and in magnet URIs, as libtorrent
 * reads them (PCT_FORM); elsewhere it is a '+'.
 */
#ifndef TD_UTIL_PCT_H
#define TD_UTIL_PCT_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* The bytes an encoder leaves unescaped: ASCII letters and digits always,
 * plus the characters of `keep`; every other byte becomes %XX, with upper-
 * or lower-case hex digits as `upper` says. */
struct pct_set {
    const char *keep;
    bool upper;
};

/* RFC 3986 unreserved (A-Z a-z 0-9 - . _ ~), upper-case: curl_easy_escape();
 * tracker announce/scrape query values. */
extern const struct pct_set pct_rfc3986;
/* As pct_rfc3986 but '/' stays: a path of several segments (BEP19 web seeds). */
extern const struct pct_set pct_rfc3986_path;
/* libtorrent's escape_string(): alphanumerics and -_!.~*() stay, lower-case
 * hex; what qBittorrent's magnet URIs carry in dn= and tr=. */
extern const struct pct_set pct_libtorrent;

/* Appends the n bytes at p to b, escaped per set.  Returns 0 or -ENOMEM
 * (b keeps what it had before the call). */
int pct_encode(struct buf *b, const void *p, size_t n, const struct pct_set *set);

enum {
    PCT_FORM = 1,      /* '+' decodes to a space (form-urlencoded text) */
    PCT_LENIENT = 2,   /* a '%' without two hex digits is kept, not an error */
};

/* Decodes s[0..n) into a new NUL-terminated string *out of *outlen bytes (it
 * may contain NUL bytes: *outlen says how many there are; outlen may be NULL).
 * Hex digits are accepted in either case.  Returns 0, -EINVAL (a broken
 * escape without PCT_LENIENT; *out is NULL) or -ENOMEM. */
int pct_decode(const char *s, size_t n, unsigned flags, char **out, size_t *outlen);

#endif
