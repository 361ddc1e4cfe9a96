/* rss/feedparse — see feedparse.h.
 *
 * Qt's stream reader walks the document as a flat sequence of start and end
 * tags; qBittorrent's parser relies on that (an item's fields are found at
 * any depth below it, a channel is "everything after <channel>").  The
 * expat handlers below keep the same walk as a small state machine: a
 * capture (the text of one element and its descendants) stands for Qt's
 * readElementText, a skip for skipCurrentElement.
 */
#include "rss/feedparse.h"

#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rss/article.h"
#include "rss/html_entities.h"

#define NS_SEP '\x01'
#define XML_NS "http://www.w3.org/XML/1998/namespace"

enum fmt { FMT_NONE, FMT_RSS, FMT_ATOM };

enum field {
    F_NONE,
    F_CH_TITLE,   /* channel title */
    F_CH_DATE,    /* lastBuildDate / feed updated */
    F_TITLE,
    F_LINK,       /* RSS <link> or Atom <link> without attributes */
    F_DESC,       /* RSS description */
    F_CONTENT,    /* Atom summary/content */
    F_PUBDATE,    /* RSS pubDate (RFC 822) */
    F_UPDATED,    /* Atom updated (ISO 8601) */
    F_AUTHOR,
    F_ID,
    F_EXTRA,      /* any other child, kept by local name */
};

struct text {
    char *p;
    size_t len, cap;
};

struct ps {
    XML_Parser xp;
    struct feedparse_result *r;
    const char *prev_build_date;
    int64_t now_ms;
    enum fmt fmt;
    int depth;
    size_t elements;
    bool in_channel;
    int skip_depth;               /* > 0: inside an element being skipped */
    char *base_url;               /* Atom root xml:base */
    /* the item being read */
    int item_depth;               /* 0 = none */
    json_t *art;
    char *alt_url;                /* untyped enclosure */
    bool double_content;
    bool has_date;
    int64_t date_ms;
    int date_offset;
    int author_depth;             /* Atom <author> being read */
    /* the capture */
    int cap_depth;
    enum field cap;
    char *cap_name;
    struct text text;
    json_t *seen;                 /* ids of this document */
    size_t cap_articles;
};

static const char *local_name(const char *n)
{
    const char *s = strrchr(n, NS_SEP);
    return s ? s + 1 : n;
}

static void fail(struct ps *p, const char *msg)
{
    if (!p->r->error[0])
        snprintf(p->r->error, sizeof p->r->error, "%s", msg);
    XML_StopParser(p->xp, XML_FALSE);
}

/* ---- dates ---- */

static const char *const short_month[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static bool valid_ymd(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || y < 1)
        return false;
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t to_ms(int y, int mo, int d, int h, int mi, int s, int64_t offset_s)
{
    return ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) - offset_s) * 1000;
}

/* Splits s on whitespace into at most max words; returns the count, or
 * max + 1 when there are more. */
static size_t words(char *s, char **w, size_t max)
{
    size_t n = 0;
    for (char *t = strtok(s, " \t\r\n"); t; t = strtok(NULL, " \t\r\n")) {
        if (n == max)
            return max + 1;
        w[n++] = t;
    }
    return n;
}

static bool all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* "HH:MM[:SS]" (the seconds optional unless need_sec). */
static bool hms(const char *s, bool need_sec, int *h, int *m, int *sec)
{
    size_t n = strlen(s);
    if (!((n == 5 && !need_sec) || n == 8) || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return false;
    *h = (s[0] - '0') * 10 + (s[1] - '0');
    *m = (s[3] - '0') * 10 + (s[4] - '0');
    *sec = 0;
    if (n == 8) {
        if (s[5] != ':' || !isdigit((unsigned char)s[6]) || !isdigit((unsigned char)s[7]))
            return false;
        *sec = (s[6] - '0') * 10 + (s[7] - '0');
    }
    return true;
}

static int zone_offset(const char *z, int64_t *off)
{
    *off = 0;
    size_t n = strlen(z);
    if ((z[0] == '+' || z[0] == '-') && n == 5 && all_digits(z + 1, 4, 4)) {
        int hh = (z[1] - '0') * 10 + (z[2] - '0'), mm = (z[3] - '0') * 10 + (z[4] - '0');
        if (mm > 59)
            return -ERANGE;
        *off = (hh * 3600 + mm * 60) * (z[0] == '-' ? -1 : 1);
        return 0;
    }
    if (n == 1 && isalpha((unsigned char)z[0]) && toupper((unsigned char)z[0]) != 'J')
        return 0;   /* military zone: RFC 2822 reads it as -0000 */
    if (!strcmp(z, "UT") || !strcmp(z, "GMT"))
        return 0;
    static const struct {
        const char *name;
        int hours;
    } us[] = {{"EDT", -4}, {"EST", -5}, {"CDT", -5}, {"CST", -6}, {"MDT", -6},
              {"MST", -7}, {"PDT", -7}, {"PST", -8}};
    for (size_t i = 0; i < sizeof us / sizeof us[0]; i++)
        if (!strcmp(z, us[i].name)) {
            *off = us[i].hours * 3600;
            return 0;
        }
    for (size_t i = 0; i < n; i++)
        if (!isalpha((unsigned char)z[i]))
            return -ERANGE;
    return 0;   /* any other alphabetic zone: -0000 */
}

static int month_index(const char *m)
{
    for (int i = 0; i < 12; i++)
        if (!strcmp(m, short_month[i]))
            return i;
    return 12;   /* qBittorrent lets an unknown month through: the date check then fails */
}

int feedparse_date_rfc822(const char *in, int64_t *ms)
{
    if (!in)
        return -EINVAL;
    char s[128];
    size_t n = strlen(in);
    if (n >= sizeof s)
        return -EINVAL;
    memcpy(s, in, n + 1);
    /* "Wdy, DD Mon YYYY HH:MM[:SS] ZONE" or with '-' between day, month and
     * year; the weekday optional.  Turn the comma and dashes into words. */
    char *w[8];
    char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p)
        return -EINVAL;
    /* an optional "Weekday," : a capitalised word then a comma */
    char *comma = NULL;
    if (isupper((unsigned char)*p)) {
        char *q = p + 1;
        while (islower((unsigned char)*q))
            q++;
        if (*q == ',') {
            comma = q;
            *q = ' ';
        }
    }
    char *rest = p;
    if (comma) {
        rest = comma + 1;
        *comma = '\0';
    }
    /* day-Mon-year: both separators dashes or both whitespace */
    char *dash1 = NULL;
    {
        char *q = rest;
        while (isspace((unsigned char)*q))
            q++;
        char *d = q;
        while (isdigit((unsigned char)*d))
            d++;
        if (*d == '-') {
            char *m = d + 1;
            while (*m && *m != '-' && !isspace((unsigned char)*m))
                m++;
            if (*m != '-')
                return -EINVAL;   /* one dash, one space */
            dash1 = d;
            *d = ' ';
            *m = ' ';
        }
    }
    (void)dash1;
    size_t nw = words(rest, w, 6);
    int day, year, hour, minute, second, mon;
    const char *zone;
    if (nw == 5 && all_digits(w[0], 1, 2) && !strchr(w[1], '-') && all_digits(w[2], 2, 4) &&
        hms(w[3], false, &hour, &minute, &second)) {
        day = atoi(w[0]);
        mon = month_index(w[1]);
        year = atoi(w[2]);
        size_t yl = strlen(w[2]);
        if (yl < 4)
            year += (yl == 2 && year < 50) ? 2000 : 1900;
        zone = w[4];
        if (comma) {
            /* the weekday must be a capitalised word; its name is not checked */
            if (!isupper((unsigned char)p[0]))
                return -EINVAL;
        }
    } else {
        /* the obsolete "Wdy Mon DD HH:MM:SS YYYY" */
        if (comma)
            return -EINVAL;
        memcpy(s, in, n + 1);
        nw = words(s, w, 5);
        if (nw != 5 || !isupper((unsigned char)w[0][0]) || !all_digits(w[2], 2, 2) ||
            !hms(w[3], true, &hour, &minute, &second) || !all_digits(w[4], 4, 4))
            return -EINVAL;
        for (const char *q = w[0] + 1; *q; q++)
            if (!islower((unsigned char)*q))
                return -EINVAL;
        mon = month_index(w[1]);
        day = atoi(w[2]);
        year = atoi(w[4]);
        zone = NULL;
    }
    int64_t off = 0;
    if (zone) {
        int rc = zone_offset(zone, &off);
        if (rc)
            return rc;
    }
    bool leap_second = second == 60;
    if (leap_second)
        second = 59;
    if (!valid_ymd(year, mon + 1, day) || hour > 23 || minute > 59 || second > 59)
        return -EINVAL;
    if (leap_second && (hour * 3600 + minute * 60 + 60 - off + 86400 * 5) % 86400)
        return -EINVAL;
    *ms = to_ms(year, mon + 1, day, hour, minute, second, off);
    return 0;
}

static bool digits_at(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int feedparse_date_iso8601(const char *s, int64_t *ms, int *offset_s)
{
    if (!s || strlen(s) < 10 || !digits_at(s, 4) || s[4] != '-' || !digits_at(s + 5, 2) || s[7] != '-' ||
        !digits_at(s + 8, 2))
        return -EINVAL;
    int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2), h = 0, mi = 0, sec = 0, frac = 0;
    const char *p = s + 10;
    int64_t off = 0;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (!digits_at(p, 2) || p[2] != ':' || !digits_at(p + 3, 2))
            return -EINVAL;
        h = num(p, 2);
        mi = num(p + 3, 2);
        p += 5;
        if (*p == ':') {
            if (!digits_at(p + 1, 2))
                return -EINVAL;
            sec = num(p + 1, 2);
            p += 3;
            if (*p == '.' || *p == ',') {
                p++;
                int digits = 0;
                while (isdigit((unsigned char)*p)) {
                    if (digits < 3)
                        frac = frac * 10 + (*p - '0');
                    digits++;
                    p++;
                }
                if (!digits)
                    return -EINVAL;
                for (; digits < 3; digits++)
                    frac *= 10;
            }
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1;
            p++;
            if (!digits_at(p, 2))
                return -EINVAL;
            int oh = num(p, 2), om = 0;
            p += 2;
            if (*p == ':')
                p++;
            if (digits_at(p, 2)) {
                om = num(p, 2);
                p += 2;
            }
            if (oh > 23 || om > 59)
                return -EINVAL;
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (*p || !valid_ymd(y, mo, d) || h > 23 || mi > 59 || sec > 59)
        return -EINVAL;
    *ms = to_ms(y, mo, d, h, mi, sec, off) + frac;
    if (offset_s)
        *offset_s = (int)off;
    return 0;
}

void feedparse_date_format(int64_t ms, int offset_s, char out[32])
{
    if (offset_s <= -86400 || offset_s >= 86400)
        offset_s = 0;
    int64_t secs = (ms >= 0 ? ms / 1000 : (ms - 999) / 1000) + offset_s;
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        out[0] = '\0';
        return;
    }
    char tmp[96];
    int off = offset_s < 0 ? -offset_s : offset_s;
    int n = snprintf(tmp, sizeof tmp, "%02d %s %04d %02d:%02d:%02d %c%02d%02d", tm.tm_mday, short_month[tm.tm_mon],
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, offset_s < 0 ? '-' : '+', off / 3600,
                     off / 60 % 60);
    size_t len = n < 0 ? 0 : (size_t)n > 31 ? 31 : (size_t)n;   /* years past 9999 only */
    memcpy(out, tmp, len);
    out[len] = '\0';
}

/* ---- encodings ----
 *
 * expat reads UTF-8, UTF-16, ISO-8859-1 and US-ASCII itself; feeds also come
 * in single-byte code pages (windows-1251 on Russian trackers, KOI8-R,
 * ISO-8859-x), which Qt reads.  For those, iconv gives expat the byte ->
 * code point map it asks for.  Multi-byte encodings (Shift_JIS, GBK) stay
 * refused ("unknown encoding"). */
static int XMLCALL on_unknown_encoding(void *ud, const XML_Char *name, XML_Encoding *info)
{
    (void)ud;
    iconv_t cd = iconv_open("UTF-32BE", name);
    if (cd == (iconv_t)-1)
        return XML_STATUS_ERROR;
    for (int b = 0; b < 256; b++) {
        char in = (char)b;
        unsigned char out[8];
        char *ip = &in, *op = (char *)out;
        size_t il = 1, ol = sizeof out;
        iconv(cd, NULL, NULL, NULL, NULL);
        if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0 || sizeof out - ol != 4) {
            if (errno == EINVAL) {   /* the start of a multi-byte sequence */
                iconv_close(cd);
                return XML_STATUS_ERROR;
            }
            info->map[b] = -1;   /* not a character in that encoding */
            continue;
        }
        info->map[b] = (int)((uint32_t)out[0] << 24 | (uint32_t)out[1] << 16 | (uint32_t)out[2] << 8 | out[3]);
    }
    iconv_close(cd);
    info->data = NULL;
    info->convert = NULL;
    info->release = NULL;
    return XML_STATUS_OK;
}

/* ---- entities ---- */

static int entity_cmp(const void *k, const void *e)
{
    return strcmp(k, ((const struct html_entity *)e)->name);
}

/* A copy of doc with every HTML entity reference (&nbsp; ...) turned into a
 * character reference expat knows; CDATA sections and comments are copied
 * as they are.  An entity name at most 8 characters becomes at most
 * "&#9830;", so the copy is never longer than twice the input. */
static char *resolve_entities(const char *doc, size_t len, size_t *out_len)
{
    char *o = malloc(len * 2 + 1);
    if (!o)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < len;) {
        if (doc[i] == '<' && len - i >= 9 && !memcmp(doc + i, "<![CDATA[", 9)) {
            const char *end = memmem(doc + i, len - i, "]]>", 3);
            size_t stop = end ? (size_t)(end - doc) + 3 : len;
            memcpy(o + j, doc + i, stop - i);
            j += stop - i;
            i = stop;
            continue;
        }
        if (doc[i] == '<' && len - i >= 4 && !memcmp(doc + i, "<!--", 4)) {
            const char *end = memmem(doc + i, len - i, "-->", 3);
            size_t stop = end ? (size_t)(end - doc) + 3 : len;
            memcpy(o + j, doc + i, stop - i);
            j += stop - i;
            i = stop;
            continue;
        }
        if (doc[i] == '&') {
            size_t k = i + 1;
            while (k < len && k - i <= 9 && isalnum((unsigned char)doc[k]))
                k++;
            if (k < len && doc[k] == ';' && k > i + 1 && k - i - 1 <= 8) {
                char name[10];
                memcpy(name, doc + i + 1, k - i - 1);
                name[k - i - 1] = '\0';
                const struct html_entity *e =
                    strcmp(name, "amp") && strcmp(name, "lt") && strcmp(name, "gt") && strcmp(name, "quot") &&
                            strcmp(name, "apos")
                        ? bsearch(name, html_entities, sizeof html_entities / sizeof html_entities[0],
                                  sizeof html_entities[0], entity_cmp)
                        : NULL;
                if (e) {
                    j += (size_t)sprintf(o + j, "&#%u;", e->cp);
                    i = k + 1;
                    continue;
                }
            }
        }
        o[j++] = doc[i++];
    }
    o[j] = '\0';
    *out_len = j;
    return o;
}

/* ---- the walk ---- */

static void text_reset(struct text *t)
{
    t->len = 0;
    if (t->p)
        t->p[0] = '\0';
}

static char *trimmed(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

static void art_set(struct ps *p, const char *key, const char *v, bool trim)
{
    char *t = trim ? trimmed(v) : strdup(v);
    json_t *j = t ? json_string(t) : NULL;
    free(t);
    if (!j || json_object_set_new(p->art, key, j) != 0)
        fail(p, "out of memory");
}

static bool is_magnet(const char *s) { return strncasecmp(s, "magnet:", 7) == 0; }

static bool has_scheme(const char *s)
{
    if (!isalpha((unsigned char)*s))
        return false;
    for (s++; *s; s++) {
        if (*s == ':')
            return true;
        if (!isalnum((unsigned char)*s) && *s != '+' && *s != '-' && *s != '.')
            return false;
    }
    return false;
}

static void set_link(struct ps *p, const char *link)
{
    if (is_magnet(link)) {
        art_set(p, "torrentURL", link, false);
    } else if (p->fmt == FMT_ATOM && p->base_url && *p->base_url && !has_scheme(link)) {
        size_t n = strlen(p->base_url) + strlen(link) + 1;
        char *full = malloc(n);
        if (!full) {
            fail(p, "out of memory");
            return;
        }
        snprintf(full, n, "%s%s", p->base_url, link);
        art_set(p, "link", full, false);
        free(full);
    } else {
        art_set(p, "link", link, false);
    }
}

static void begin_item(struct ps *p)
{
    p->item_depth = p->depth;
    p->art = json_object();
    if (!p->art)
        fail(p, "out of memory");
    free(p->alt_url);
    p->alt_url = NULL;
    p->double_content = false;
    p->has_date = false;
    p->date_ms = 0;
    p->date_offset = 0;
    p->author_depth = 0;
}

/* qBittorrent's addArticle: the torrent URL and id fallbacks, then the
 * per-document dedup. */
static void end_item(struct ps *p)
{
    json_t *a = p->art;
    p->art = NULL;
    p->item_depth = 0;
    if (!a)
        return;
    const char *tu = json_string_value(json_object_get(a, "torrentURL"));
    if ((!tu || !*tu) && p->fmt == FMT_RSS)
        json_object_set_new(a, "torrentURL", json_string(p->alt_url ? p->alt_url : ""));
    tu = json_string_value(json_object_get(a, "torrentURL"));
    if (!tu || !*tu) {
        json_t *link = json_object_get(a, "link");
        json_object_set(a, "torrentURL", link ? link : json_null());
    }
    const char *id = rss_article_pick_id(json_string_value(json_object_get(a, "id")),
                                         json_string_value(json_object_get(a, "torrentURL")),
                                         json_string_value(json_object_get(a, "title")));
    if (!*id || json_object_get(p->seen, id)) {
        json_decref(a);
        return;
    }
    char *idc = strdup(id);
    if (!idc || json_object_set_new(a, "id", json_string(idc)) != 0 ||
        json_object_set_new(p->seen, idc, json_true()) != 0) {
        free(idc);
        json_decref(a);
        fail(p, "out of memory");
        return;
    }
    free(idc);
    struct feedparse_result *r = p->r;
    if (r->n == p->cap_articles) {
        size_t nc = p->cap_articles ? p->cap_articles * 2 : 16;
        struct feedparse_article *na = realloc(r->articles, nc * sizeof *na);
        if (!na) {
            json_decref(a);
            fail(p, "out of memory");
            return;
        }
        r->articles = na;
        p->cap_articles = nc;
    }
    r->articles[r->n++] = (struct feedparse_article){.data = a, .has_date = p->has_date, .date_ms = p->date_ms, .date_offset_s = p->date_offset};
}

static void begin_capture(struct ps *p, enum field f, const char *name)
{
    p->cap_depth = p->depth;
    p->cap = f;
    free(p->cap_name);
    p->cap_name = name ? strdup(name) : NULL;
    if (name && !p->cap_name)
        fail(p, "out of memory");
    text_reset(&p->text);
}

static void end_capture(struct ps *p)
{
    const char *t = p->text.p ? p->text.p : "";
    int64_t ms;
    switch (p->cap) {
    case F_CH_TITLE:
        free(p->r->title);
        p->r->title = strdup(t);
        break;
    case F_CH_DATE:
        if (*t) {
            if (p->prev_build_date && !strcmp(p->prev_build_date, t)) {
                p->r->unchanged = true;
                XML_StopParser(p->xp, XML_FALSE);
                break;
            }
            free(p->r->last_build_date);
            p->r->last_build_date = strdup(t);
        }
        break;
    case F_TITLE:
        art_set(p, "title", t, true);
        break;
    case F_LINK: {
        char *l = trimmed(t);
        if (l)
            set_link(p, l);
        free(l);
        break;
    }
    case F_DESC:
        art_set(p, "description", t, false);
        break;
    case F_CONTENT: {
        char *c = trimmed(t);
        if (c && *c) {
            art_set(p, "description", c, false);
            p->double_content = true;
        }
        free(c);
        break;
    }
    case F_PUBDATE: {
        char *d = trimmed(t);
        int rc = d ? feedparse_date_rfc822(d, &ms) : -EINVAL;
        free(d);
        p->date_offset = 0;
        if (rc == 0 || rc == -EINVAL) {
            p->has_date = true;
            p->date_ms = rc == 0 ? ms : p->now_ms;
        } else {
            p->has_date = false;
        }
        break;
    }
    case F_UPDATED: {
        char *d = trimmed(t);
        int off = 0;
        int rc = d ? feedparse_date_iso8601(d, &ms, &off) : -EINVAL;
        free(d);
        p->date_offset = rc == 0 ? off : 0;
        p->has_date = true;
        p->date_ms = rc == 0 ? ms : p->now_ms;
        break;
    }
    case F_AUTHOR:
        art_set(p, "author", t, true);
        break;
    case F_ID:
        art_set(p, "id", t, true);
        break;
    case F_EXTRA:
        if (!strcmp(p->cap_name, "date")) {
            /* qBittorrent stores it under "date", where the item's date
             * lives: Qt then reads the text as an ISO date, or none. */
            char *d = trimmed(t);
            int off = 0;
            p->has_date = d && feedparse_date_iso8601(d, &ms, &off) == 0;
            if (p->has_date) {
                p->date_ms = ms;
                p->date_offset = off;
            }
            free(d);
        } else if (strcmp(p->cap_name, "isRead") != 0) {
            art_set(p, p->cap_name, t, false);
        }
        break;
    case F_NONE:
        break;
    }
    p->cap_depth = 0;
    p->cap = F_NONE;
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (!strcmp(atts[i], name))
            return atts[i + 1];
    return NULL;
}

static void item_child(struct ps *p, const char *name, const char **atts)
{
    if (!strcmp(name, "title")) {
        begin_capture(p, F_TITLE, NULL);
    } else if (!strcmp(name, "link")) {
        if (p->fmt == FMT_ATOM && atts[0]) {
            const char *h = attr(atts, "href");
            set_link(p, h ? h : "");
        } else {
            begin_capture(p, F_LINK, NULL);
        }
    } else if (!strcmp(name, "author")) {
        if (p->fmt == FMT_ATOM)
            p->author_depth = p->depth;
        else
            begin_capture(p, F_AUTHOR, NULL);
    } else if (p->fmt == FMT_RSS && !strcmp(name, "enclosure")) {
        const char *type = attr(atts, "type"), *url = attr(atts, "url");
        if (type && !strcmp(type, "application/x-bittorrent")) {
            art_set(p, "torrentURL", url ? url : "", false);
        } else if (!type || !*type) {
            free(p->alt_url);
            p->alt_url = strdup(url ? url : "");
        }
    } else if (p->fmt == FMT_RSS && !strcmp(name, "description")) {
        begin_capture(p, F_DESC, NULL);
    } else if (p->fmt == FMT_RSS && !strcmp(name, "pubDate")) {
        begin_capture(p, F_PUBDATE, NULL);
    } else if (p->fmt == FMT_RSS && !strcmp(name, "guid")) {
        begin_capture(p, F_ID, NULL);
    } else if (p->fmt == FMT_ATOM && (!strcmp(name, "summary") || !strcmp(name, "content"))) {
        if (p->double_content)
            p->skip_depth = p->depth;
        else
            begin_capture(p, F_CONTENT, NULL);
    } else if (p->fmt == FMT_ATOM && !strcmp(name, "updated")) {
        begin_capture(p, F_UPDATED, NULL);
    } else if (p->fmt == FMT_ATOM && !strcmp(name, "id")) {
        begin_capture(p, F_ID, NULL);
    } else {
        begin_capture(p, F_EXTRA, name);
    }
}

static void XMLCALL on_start(void *ud, const XML_Char *qname, const XML_Char **atts)
{
    struct ps *p = ud;
    p->depth++;
    if (++p->elements > FEEDPARSE_MAX_ELEMENTS) {
        fail(p, "Too many elements in the RSS feed.");
        return;
    }
    if (p->depth > FEEDPARSE_MAX_DEPTH) {
        fail(p, "The RSS feed is nested too deeply.");
        return;
    }
    if (p->skip_depth || p->cap_depth)
        return;
    const char *name = local_name(qname);
    if (p->author_depth) {
        if (p->depth == p->author_depth + 1 && !strcmp(name, "name"))
            begin_capture(p, F_AUTHOR, NULL);
        else
            p->skip_depth = p->depth;
        return;
    }
    if (p->item_depth) {
        item_child(p, name, atts);
        return;
    }
    if (p->fmt == FMT_NONE) {
        if (p->depth != 1)
            return;
        if (!strcmp(name, "rss")) {
            p->fmt = FMT_RSS;
        } else if (!strcmp(name, "feed")) {
            p->fmt = FMT_ATOM;
            p->in_channel = true;
            const char *b = attr(atts, XML_NS "\x01" "base");
            if (b && !(p->base_url = strdup(b)))
                fail(p, "out of memory");
        } else {
            p->skip_depth = p->depth;
        }
        return;
    }
    if (!p->in_channel) {
        /* RSS: the first <channel> below <rss>; anything before it is skipped */
        if (!strcmp(name, "channel"))
            p->in_channel = true;
        else
            p->skip_depth = p->depth;
        return;
    }
    if (!strcmp(name, "title"))
        begin_capture(p, F_CH_TITLE, NULL);
    else if (!strcmp(name, p->fmt == FMT_RSS ? "lastBuildDate" : "updated"))
        begin_capture(p, F_CH_DATE, NULL);
    else if (!strcmp(name, p->fmt == FMT_RSS ? "item" : "entry"))
        begin_item(p);
}

static void XMLCALL on_end(void *ud, const XML_Char *qname)
{
    (void)qname;
    struct ps *p = ud;
    if (p->skip_depth == p->depth)
        p->skip_depth = 0;
    else if (p->cap_depth == p->depth)
        end_capture(p);
    else if (p->author_depth == p->depth)
        p->author_depth = 0;
    else if (p->item_depth == p->depth)
        end_item(p);
    p->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct ps *p = ud;
    if (!p->cap_depth || p->skip_depth || len <= 0)
        return;
    struct text *t = &p->text;
    if (t->len + (size_t)len > FEEDPARSE_MAX_TEXT) {
        fail(p, "An element of the RSS feed is too long.");
        return;
    }
    if (t->len + (size_t)len + 1 > t->cap) {
        size_t nc = t->cap ? t->cap : 256;
        while (nc < t->len + (size_t)len + 1)
            nc *= 2;
        char *np = realloc(t->p, nc);
        if (!np) {
            fail(p, "out of memory");
            return;
        }
        t->p = np;
        t->cap = nc;
    }
    memcpy(t->p + t->len, s, (size_t)len);
    t->len += (size_t)len;
    t->p[t->len] = '\0';
}

void feedparse_result_free(struct feedparse_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        json_decref(r->articles[i].data);
    free(r->articles);
    free(r->title);
    free(r->last_build_date);
    memset(r, 0, sizeof *r);
}

int feedparse_parse(const char *doc, size_t len, const char *prev_build_date, int64_t now_ms,
                    struct feedparse_result *out)
{
    memset(out, 0, sizeof *out);
    if (!doc || len > FEEDPARSE_MAX_DOC)
        return -EINVAL;
    size_t rlen;
    char *rdoc = resolve_entities(doc, len, &rlen);
    if (!rdoc)
        return -ENOMEM;
    struct ps p = {.r = out, .prev_build_date = prev_build_date, .now_ms = now_ms, .seen = json_object()};
    p.xp = XML_ParserCreateNS(NULL, NS_SEP);
    if (!p.xp || !p.seen) {
        if (p.xp)
            XML_ParserFree(p.xp);
        json_decref(p.seen);
        free(rdoc);
        return -ENOMEM;
    }
    XML_SetUserData(p.xp, &p);
    XML_SetElementHandler(p.xp, on_start, on_end);
    XML_SetCharacterDataHandler(p.xp, on_text);
    XML_SetUnknownEncodingHandler(p.xp, on_unknown_encoding, NULL);
    /* Entities come from the document's internal subset only: no external
     * DTD is ever fetched (expat's default), and expat's amplification
     * limits stop entity bombs. */
    XML_SetParamEntityParsing(p.xp, XML_PARAM_ENTITY_PARSING_NEVER);
    enum XML_Status st = XML_Parse(p.xp, rdoc, (int)rlen, XML_TRUE);
    if (st == XML_STATUS_ERROR && !out->error[0] && !out->unchanged) {
        enum XML_Error e = XML_GetErrorCode(p.xp);
        snprintf(out->error, sizeof out->error, "%s (line: %lu, column: %lu, offset: %ld).", XML_ErrorString(e),
                 (unsigned long)XML_GetCurrentLineNumber(p.xp),
                 (unsigned long)XML_GetCurrentColumnNumber(p.xp) + 1, (long)XML_GetCurrentByteIndex(p.xp));
    }
    /* qBittorrent adds the item it was reading when the document broke */
    if (out->error[0] && p.item_depth && p.art)
        end_item(&p);
    if (!out->error[0] && !out->unchanged && (p.fmt == FMT_NONE || !p.in_channel))
        snprintf(out->error, sizeof out->error, "Invalid RSS feed.");
    json_decref(p.art);
    json_decref(p.seen);
    free(p.alt_url);
    free(p.cap_name);
    free(p.base_url);
    free(p.text.p);
    XML_ParserFree(p.xp);
    free(rdoc);
    return 0;
}
