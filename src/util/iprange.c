#include "util/iprange.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum p2b_state {
    P2B_HEADER,      /* 7 magic bytes and the version */
    P2B_V12_NAME,    /* a name up to its NUL */
    P2B_V12_RANGE,   /* first, last */
    P2B_V3_NAMECOUNT,
    P2B_V3_NAMES,
    P2B_V3_RANGECOUNT,
    P2B_V3_RANGES,   /* name index, first, last */
    P2B_DONE,        /* v3's counted ranges read: the rest is ignored */
    P2B_BAD,
};

struct iprange_parser {
    enum iprange_format fmt;
    struct iprange_v4 *v4;
    size_t n4, cap4;
    struct iprange_v6 *v6;
    size_t n6, cap6;
    size_t rules, errors, first_error_line, line_no;
    bool nomem;
    /* text formats: the line being assembled */
    char line[IPRANGE_MAX_LINE + 1];
    size_t line_len;
    bool line_too_long;
    /* .p2b */
    enum p2b_state st;
    uint8_t rec[12];
    size_t rec_len;
    bool in_name;          /* bytes of the current name seen (a record begun) */
    uint32_t left;         /* v3: names or ranges still to read */
};

struct addr {
    int family;            /* AF_INET, AF_INET6 */
    uint32_t v4;           /* host order */
    uint8_t v6[16];
};

enum iprange_format iprange_format_of(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/'))
        return IPRANGE_NONE;
    if (strcasecmp(dot, ".dat") == 0)
        return IPRANGE_DAT;
    if (strcasecmp(dot, ".p2p") == 0)
        return IPRANGE_P2P;
    if (strcasecmp(dot, ".p2b") == 0)
        return IPRANGE_P2B;
    return IPRANGE_NONE;
}

int iprange_parser_new(enum iprange_format fmt, struct iprange_parser **out)
{
    *out = NULL;
    if (fmt != IPRANGE_DAT && fmt != IPRANGE_P2P && fmt != IPRANGE_P2B)
        return -EINVAL;
    struct iprange_parser *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->fmt = fmt;
    *out = p;
    return 0;
}

void iprange_parser_free(struct iprange_parser *p)
{
    if (!p)
        return;
    free(p->v4);
    free(p->v6);
    free(p);
}

size_t iprange_parser_rules(const struct iprange_parser *p) { return p->rules; }

static void malformed(struct iprange_parser *p)
{
    p->errors++;
    if (!p->first_error_line)
        p->first_error_line = p->line_no ? p->line_no : 1;
}

/* ---- adding ranges ---- */

static bool room(struct iprange_parser *p)
{
    if (p->n4 + p->n6 >= IPRANGE_MAX_RANGES) {
        malformed(p);   /* the bound, not the memory, ran out */
        return false;
    }
    return true;
}

static void add_v4(struct iprange_parser *p, uint32_t first, uint32_t last)
{
    if (!room(p))
        return;
    if (p->n4 == p->cap4) {
        size_t cap = p->cap4 ? p->cap4 * 2 : 1024;
        struct iprange_v4 *n = realloc(p->v4, cap * sizeof *n);
        if (!n) {
            p->nomem = true;
            return;
        }
        p->v4 = n;
        p->cap4 = cap;
    }
    p->v4[p->n4++] = (struct iprange_v4){first, last};
    p->rules++;
}

static void add_v6(struct iprange_parser *p, const uint8_t first[16], const uint8_t last[16])
{
    if (!room(p))
        return;
    if (p->n6 == p->cap6) {
        size_t cap = p->cap6 ? p->cap6 * 2 : 64;
        struct iprange_v6 *n = realloc(p->v6, cap * sizeof *n);
        if (!n) {
            p->nomem = true;
            return;
        }
        p->v6 = n;
        p->cap6 = cap;
    }
    memcpy(p->v6[p->n6].first, first, 16);
    memcpy(p->v6[p->n6].last, last, 16);
    p->n6++;
    p->rules++;
}

static void add_range(struct iprange_parser *p, const struct addr *a, const struct addr *b)
{
    if (a->family != b->family) {
        malformed(p);   /* one IPv4 and the other IPv6 */
        return;
    }
    if (a->family == AF_INET) {
        if (a->v4 > b->v4)
            malformed(p);
        else
            add_v4(p, a->v4, b->v4);
    } else {
        if (memcmp(a->v6, b->v6, 16) > 0)
            malformed(p);
        else
            add_v6(p, a->v6, b->v6);
    }
}

/* ---- text lines ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Dotted quad whose octets may carry leading zeros (eMule lists write
 * "001.009.096.105", which inet_pton refuses). */
static bool parse_v4(const char *s, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    size_t i = 0;
    for (int octet = 0; octet < 4; octet++) {
        if (octet > 0) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        size_t digits = 0;
        unsigned x = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            x = x * 10 + (unsigned)(s[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || digits > 3 || x > 255)
            return false;
        v = v << 8 | x;
    }
    if (i != n)
        return false;
    *out = v;
    return true;
}

/* s[0..n) trimmed of white space, as an IPv4 or IPv6 address. */
static bool parse_addr(const char *s, size_t n, struct addr *out)
{
    while (n > 0 && is_space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n == 0)
        return false;
    if (parse_v4(s, n, &out->v4)) {
        out->family = AF_INET;
        return true;
    }
    char buf[INET6_ADDRSTRLEN + 1];
    if (n >= sizeof buf || !memchr(s, ':', n))
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (inet_pton(AF_INET6, buf, out->v6) != 1)
        return false;
    out->family = AF_INET6;
    return true;
}

static bool comment(const char *s, size_t n)
{
    return (n > 0 && s[0] == '#') || (n > 1 && s[0] == '/' && s[1] == '/');
}

/* "first - last , level , description" */
static void dat_line(struct iprange_parser *p, const char *s, size_t n)
{
    const char *comma = memchr(s, ',', n);
    size_t range_len = comma ? (size_t)(comma - s) : n;
    if (comma) {
        /* The level runs to the next comma; above 127 the range is allowed,
         * which adds no rule (qBittorrent skips the line). */
        const char *lv = comma + 1, *end = s + n;
        while (lv < end && is_space(*lv))
            lv++;
        long level = 0;
        int digits = 0;
        bool neg = lv < end && *lv == '-';
        if (lv < end && (*lv == '-' || *lv == '+'))
            lv++;
        while (lv < end && *lv >= '0' && *lv <= '9' && digits < 10) {
            level = level * 10 + (*lv - '0');
            lv++;
            digits++;
        }
        if (!neg && level > 127)
            return;
    }
    const char *dash = memchr(s, '-', range_len);
    struct addr a, b;
    if (!dash || !parse_addr(s, (size_t)(dash - s), &a) ||
        !parse_addr(dash + 1, range_len - (size_t)(dash - s) - 1, &b)) {
        malformed(p);
        return;
    }
    add_range(p, &a, &b);
}

/* "name:first-last": the range follows the last '-' and the first ':'
 * after which an address starts. */
static void p2p_line(struct iprange_parser *p, const char *s, size_t n)
{
    const char *dash = NULL;
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == '-') {
            dash = s + i - 1;
            break;
        }
    struct addr a, b;
    if (!dash || parse_addr(s, (size_t)(dash - s), &a)) {
        malformed(p);   /* no range, or no name */
        return;
    }
    const char *colon = NULL;
    for (const char *c = s; c < dash; c++)
        if (*c == ':' && parse_addr(c + 1, (size_t)(dash - c - 1), &a)) {
            colon = c;
            break;
        }
    if (!colon || !parse_addr(dash + 1, (size_t)(s + n - dash - 1), &b)) {
        malformed(p);
        return;
    }
    add_range(p, &a, &b);
}

static void text_line(struct iprange_parser *p, const char *s, size_t n)
{
    p->line_no++;
    if (p->line_too_long || n > IPRANGE_MAX_LINE) {
        malformed(p);
        return;
    }
    while (n > 0 && is_space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n == 0 || comment(s, n))
        return;   /* blank lines are no rules, and no errors either */
    if (p->fmt == IPRANGE_DAT)
        dat_line(p, s, n);
    else
        p2p_line(p, s, n);
}

static void text_feed(struct iprange_parser *p, const uint8_t *data, size_t len)
{
    while (len > 0) {
        const uint8_t *nl = memchr(data, '\n', len);
        size_t seg = nl ? (size_t)(nl - data) : len;
        if (nl && p->line_len == 0 && !p->line_too_long) {
            /* A whole line in this chunk: parsed where it lies (no copy). */
            text_line(p, (const char *)data, seg);
            data += seg + 1;
            len -= seg + 1;
            continue;
        }
        if (!p->line_too_long) {
            if (p->line_len + seg > IPRANGE_MAX_LINE) {
                p->line_too_long = true;
            } else {
                memcpy(p->line + p->line_len, data, seg);
                p->line_len += seg;
            }
        }
        if (!nl)
            return;
        text_line(p, p->line, p->line_len);
        p->line_len = 0;
        p->line_too_long = false;
        data += seg + 1;
        len -= seg + 1;
    }
}

/* ---- .p2b ---- */

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Collects `want` bytes of a fixed record into p->rec; true when whole. */
static bool take(struct iprange_parser *p, const uint8_t **data, size_t *len, size_t want)
{
    size_t n = want - p->rec_len;
    if (n > *len)
        n = *len;
    memcpy(p->rec + p->rec_len, *data, n);
    p->rec_len += n;
    *data += n;
    *len -= n;
    if (p->rec_len < want)
        return false;
    p->rec_len = 0;
    return true;
}

/* Skips a name up to and including its NUL; true when the NUL was seen. */
static bool skip_name(struct iprange_parser *p, const uint8_t **data, size_t *len)
{
    const uint8_t *nul = memchr(*data, 0, *len);
    if (!nul) {
        p->in_name = *len > 0 || p->in_name;
        *data += *len;
        *len = 0;
        return false;
    }
    *len -= (size_t)(nul + 1 - *data);
    *data = nul + 1;
    p->in_name = false;
    return true;
}

static void p2b_range(struct iprange_parser *p, const uint8_t *first_be)
{
    p->line_no++;
    uint32_t a = be32(first_be), b = be32(first_be + 4);
    if (a > b)
        malformed(p);
    else
        add_v4(p, a, b);
}

static void p2b_feed(struct iprange_parser *p, const uint8_t *data, size_t len)
{
    while (len > 0 && !p->nomem) {
        switch (p->st) {
        case P2B_HEADER:
            if (!take(p, &data, &len, 8))
                return;
            if (memcmp(p->rec, "\xFF\xFF\xFF\xFFP2B", 7) != 0) {
                p->st = P2B_BAD;
            } else if (p->rec[7] == 1 || p->rec[7] == 2) {
                p->st = P2B_V12_NAME;
            } else if (p->rec[7] == 3) {
                p->st = P2B_V3_NAMECOUNT;
            } else {
                p->st = P2B_BAD;
            }
            break;
        case P2B_V12_NAME:
            p->in_name = true;   /* a record has begun: EOF now truncates it */
            if (skip_name(p, &data, &len)) {
                p->in_name = true;
                p->st = P2B_V12_RANGE;
            }
            break;
        case P2B_V12_RANGE:
            if (!take(p, &data, &len, 8))
                return;
            p2b_range(p, p->rec);
            p->in_name = false;
            p->st = P2B_V12_NAME;
            break;
        case P2B_V3_NAMECOUNT:
            if (!take(p, &data, &len, 4))
                return;
            p->left = be32(p->rec);
            p->st = p->left ? P2B_V3_NAMES : P2B_V3_RANGECOUNT;
            break;
        case P2B_V3_NAMES:
            if (skip_name(p, &data, &len) && --p->left == 0)
                p->st = P2B_V3_RANGECOUNT;
            break;
        case P2B_V3_RANGECOUNT:
            if (!take(p, &data, &len, 4))
                return;
            p->left = be32(p->rec);
            p->st = p->left ? P2B_V3_RANGES : P2B_DONE;
            break;
        case P2B_V3_RANGES:
            if (!take(p, &data, &len, 12))
                return;
            p2b_range(p, p->rec + 4);
            if (--p->left == 0)
                p->st = P2B_DONE;
            break;
        case P2B_DONE:
        case P2B_BAD:
            return;
        }
    }
}

static void p2b_end(struct iprange_parser *p)
{
    /* v1/v2 end after a whole record; v3 after its counted ranges.
     * Anything else is a truncated file (its earlier ranges stay). */
    bool clean = p->st == P2B_DONE || (p->st == P2B_V12_NAME && !p->in_name && p->rec_len == 0);
    if (!clean && p->st != P2B_BAD)
        p->st = P2B_BAD;
}

int iprange_parser_feed(struct iprange_parser *p, const uint8_t *data, size_t len)
{
    if (p->nomem)
        return -ENOMEM;
    if (p->fmt == IPRANGE_P2B)
        p2b_feed(p, data, len);
    else
        text_feed(p, data, len);
    return p->nomem ? -ENOMEM : 0;
}

/* ---- building the set ---- */

static int cmp_v4(const void *a, const void *b)
{
    const struct iprange_v4 *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int cmp_v6(const void *a, const void *b)
{
    const struct iprange_v6 *x = a, *y = b;
    return memcmp(x->first, y->first, 16);
}

/* x + 1 in *out; false when x is the last address (no successor). */
static bool succ6(const uint8_t x[16], uint8_t out[16])
{
    memcpy(out, x, 16);
    for (int i = 15; i >= 0; i--)
        if (++out[i] != 0)
            return true;
    return false;
}

static size_t merge_v4(struct iprange_v4 *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_v4);
    size_t w = 0;
    for (size_t i = 1; i < n; i++) {
        /* overlapping or adjacent (cur.last + 1 == next.first) */
        if (v[w].last == UINT32_MAX || v[i].first <= v[w].last + 1) {
            if (v[i].last > v[w].last)
                v[w].last = v[i].last;
        } else {
            v[++w] = v[i];
        }
    }
    return w + 1;
}

static size_t merge_v6(struct iprange_v6 *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_v6);
    size_t w = 0;
    for (size_t i = 1; i < n; i++) {
        uint8_t next[16];
        if (!succ6(v[w].last, next) || memcmp(v[i].first, next, 16) <= 0) {
            if (memcmp(v[i].last, v[w].last, 16) > 0)
                memcpy(v[w].last, v[i].last, 16);
        } else {
            v[++w] = v[i];
        }
    }
    return w + 1;
}

int iprange_parser_finish(struct iprange_parser *p, struct iprange_set *out, struct iprange_stats *stats)
{
    memset(out, 0, sizeof *out);
    if (p->fmt == IPRANGE_P2B) {
        p2b_end(p);
    } else if (p->line_len > 0 || p->line_too_long) {
        text_line(p, p->line, p->line_len);   /* the last line had no newline */
        p->line_len = 0;
    }
    if (stats)
        *stats = (struct iprange_stats){p->rules, p->errors, p->first_error_line, p->st == P2B_BAD};
    if (p->nomem) {
        iprange_parser_free(p);
        return -ENOMEM;
    }
    out->n4 = merge_v4(p->v4, p->n4);
    out->n6 = merge_v6(p->v6, p->n6);
    /* Give back the growth slack: a 1M-range list doubles into 2M slots. */
    out->v4 = out->n4 ? realloc(p->v4, out->n4 * sizeof *out->v4) : NULL;
    if (out->n4 && !out->v4)
        out->v4 = p->v4;
    else if (!out->n4)
        free(p->v4);
    out->v6 = out->n6 ? realloc(p->v6, out->n6 * sizeof *out->v6) : NULL;
    if (out->n6 && !out->v6)
        out->v6 = p->v6;
    else if (!out->n6)
        free(p->v6);
    p->v4 = NULL;
    p->v6 = NULL;
    iprange_parser_free(p);
    return 0;
}

/* ---- lookups ---- */

bool iprange_has_v4(const struct iprange_set *s, uint32_t ip)
{
    size_t lo = 0, hi = s->n4;   /* the last interval with first <= ip */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v4[mid].first <= ip)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && ip <= s->v4[lo - 1].last;
}

bool iprange_has_v6(const struct iprange_set *s, const uint8_t ip[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(ip, mapped, 12) == 0)
        return iprange_has_v4(s, be32(ip + 12));
    size_t lo = 0, hi = s->n6;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(s->v6[mid].first, ip, 16) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && memcmp(ip, s->v6[lo - 1].last, 16) <= 0;
}

bool iprange_has_addr(const struct iprange_set *s, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return iprange_has_v4(s, ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return iprange_has_v6(s, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
    return false;
}

bool iprange_has_text(const struct iprange_set *s, const char *ip)
{
    uint8_t b[16];
    if (inet_pton(AF_INET, ip, b) == 1)
        return iprange_has_v4(s, be32(b));
    if (inet_pton(AF_INET6, ip, b) == 1)
        return iprange_has_v6(s, b);
    return false;
}

size_t iprange_set_bytes(const struct iprange_set *s)
{
    return s->n4 * sizeof *s->v4 + s->n6 * sizeof *s->v6;
}

void iprange_set_free(struct iprange_set *s)
{
    if (!s)
        return;
    free(s->v4);
    free(s->v6);
    s->v4 = NULL;
    s->v6 = NULL;
    s->n4 = s->n6 = 0;
}
