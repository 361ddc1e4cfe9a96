/* nova — see nova.h. */
#include "search/nova.h"

#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/utf8.h"

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_ws(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_ws((*s)[*n - 1]))
        (*n)--;
}

char *nova_utf8_dup(const char *s, size_t n, bool do_trim)
{
    if (do_trim)
        trim(&s, &n);
    /* Worst case every byte becomes the 3-byte U+FFFD. */
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        size_t k = p[i] ? utf8_seq(p + i, n - i) : 0;
        if (k == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
        }
    }
    out[o] = '\0';
    return out;
}

/* QByteArray::toLongLong (base 10, the field already trimmed): an optional
 * sign and digits, nothing else, no overflow. */
static bool to_ll(const char *s, size_t n, int64_t *out)
{
    trim(&s, &n);
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

enum { F_LINK, F_NAME, F_SIZE, F_SEEDS, F_LEECH, F_ENGINE_URL, F_DESC_LINK, F_PUB_DATE, F_COUNT };

void nova_result_free(struct nova_result *r)
{
    if (!r)
        return;
    free(r->file_url);
    free(r->file_name);
    free(r->site_url);
    free(r->descr_link);
    memset(r, 0, sizeof *r);
}

int nova_parse_line(const char *line, size_t len, struct nova_result *out)
{
    memset(out, 0, sizeof *out);
    /* Field spans; fields past the eighth are ignored. */
    const char *f[F_COUNT];
    size_t fl[F_COUNT];
    size_t nf = 0;
    const char *start = line;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == '|') {
            if (nf < F_COUNT) {
                f[nf] = start;
                fl[nf] = (size_t)(line + i - start);
            }
            nf++;
            start = line + i + 1;
        }
    }
    if (nf <= F_ENGINE_URL)
        return -EINVAL;
    out->file_url = nova_utf8_dup(f[F_LINK], fl[F_LINK], true);
    out->file_name = nova_utf8_dup(f[F_NAME], fl[F_NAME], true);
    out->site_url = nova_utf8_dup(f[F_ENGINE_URL], fl[F_ENGINE_URL], true);
    out->descr_link = nf > F_DESC_LINK ? nova_utf8_dup(f[F_DESC_LINK], fl[F_DESC_LINK], true) : strdup("");
    if (!out->file_url || !out->file_name || !out->site_url || !out->descr_link) {
        nova_result_free(out);
        return -ENOMEM;
    }
    if (!to_ll(f[F_SIZE], fl[F_SIZE], &out->file_size))
        out->file_size = 0;
    if (!to_ll(f[F_SEEDS], fl[F_SEEDS], &out->seeds) || out->seeds < 0)
        out->seeds = -1;
    if (!to_ll(f[F_LEECH], fl[F_LEECH], &out->leechers) || out->leechers < 0)
        out->leechers = -1;
    out->pub_date = -1;
    int64_t secs;
    if (nf > F_PUB_DATE && to_ll(f[F_PUB_DATE], fl[F_PUB_DATE], &secs) && secs > 0)
        out->pub_date = secs;
    return 0;
}

/* ---- lines ---- */

int nova_lines_feed(struct nova_lines *l, const char *data, size_t n, nova_line_fn fn, void *ud)
{
    while (n) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        if (l->skipping) {
            if (nl)
                l->skipping = false;
        } else if (l->len + take > NOVA_MAX_LINE) {
            l->len = 0;
            l->skipped++;
            l->skipping = !nl;
        } else if (nl && l->len == 0) {
            fn(ud, data, take);   /* the common case: a whole line in this read */
        } else {
            if (l->len + take > l->cap) {
                size_t cap = l->cap ? l->cap : 256;
                while (cap < l->len + take)
                    cap *= 2;
                char *b = realloc(l->buf, cap);
                if (!b) {
                    l->len = 0;
                    l->skipping = !nl;
                    return -ENOMEM;
                }
                l->buf = b;
                l->cap = cap;
            }
            memcpy(l->buf + l->len, data, take);
            l->len += take;
            if (nl) {
                fn(ud, l->buf, l->len);
                l->len = 0;
            }
        }
        if (!nl)
            break;
        data = nl + 1;
        n -= take + 1;
    }
    return 0;
}

void nova_lines_free(struct nova_lines *l)
{
    free(l->buf);
    memset(l, 0, sizeof *l);
}

/* ---- versions ---- */

static bool to_int(const char *s, size_t n, int *out)
{
    int64_t v;
    if (!to_ll(s, n, &v) || v < -2147483648LL || v > 2147483647LL)
        return false;
    *out = (int)v;
    return true;
}

bool nova_version_valid(struct nova_version v)
{
    return v.major >= 0 && v.minor >= 0 && (v.major > 0 || v.minor > 0);
}

int nova_version_parse(const char *s, size_t n, struct nova_version *v)
{
    v->major = v->minor = 0;
    const char *dot = memchr(s, '.', n);
    if (!dot || memchr(dot + 1, '.', n - (size_t)(dot + 1 - s)))
        return -EINVAL;
    struct nova_version t;
    if (!to_int(s, (size_t)(dot - s), &t.major) || !to_int(dot + 1, n - (size_t)(dot + 1 - s), &t.minor) ||
        !nova_version_valid(t))
        return -EINVAL;
    *v = t;
    return 0;
}

int nova_version_cmp(struct nova_version a, struct nova_version b)
{
    if (a.major != b.major)
        return a.major < b.major ? -1 : 1;
    if (a.minor != b.minor)
        return a.minor < b.minor ? -1 : 1;
    return 0;
}

void nova_version_str(struct nova_version v, char *buf, size_t size)
{
    snprintf(buf, size, "%d.%d", v.major, v.minor);
}

int nova_version_of_source(const char *text, size_t len, struct nova_version *v, char *bad, size_t badsize)
{
    v->major = v->minor = 0;
    if (bad && badsize)
        bad[0] = '\0';
    size_t i = 0;
    while (i < len) {
        /* One readLine(16): up to 15 bytes, through the first '\n'. */
        size_t n = 0;
        while (n < 15 && i + n < len) {
            n++;
            if (text[i + n - 1] == '\n')
                break;
        }
        char chunk[16];
        size_t c = 0;
        for (size_t k = 0; k < n; k++)
            if (text[i + k] != ' ')
                chunk[c++] = text[i + k];
        chunk[c] = '\0';
        i += n;
        if (c < 9 || strncasecmp(chunk, "#VERSION:", 9) != 0)
            continue;
        if (nova_version_parse(chunk + 9, c - 9, v) == 0)
            return 0;
        if (bad && badsize) {
            char *u = nova_utf8_dup(chunk + 9, c - 9, true);
            snprintf(bad, badsize, "%s", u ? u : "");
            free(u);
        }
        return -EINVAL;
    }
    return -ENOENT;
}

/* ---- capabilities ---- */

struct caps_ctx {
    struct nova_engine *v;
    size_t n, cap;
    int depth;
    int field;             /* 0 none, 1 name, 2 url, 3 categories: inside that child */
    bool seen[4];          /* the first of each child counts (elementsByTagName(..).at(0)) */
    char *text;
    size_t tlen;
    bool bad_root, oom;
    XML_Parser p;
};

static void caps_fail(struct caps_ctx *c, bool oom)
{
    if (oom)
        c->oom = true;
    else
        c->bad_root = true;
    XML_StopParser(c->p, XML_FALSE);
}

static void XMLCALL caps_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    struct caps_ctx *c = ud;
    c->depth++;
    if (c->depth == 1) {
        if (strcmp(name, "capabilities") != 0)
            caps_fail(c, false);
    } else if (c->depth == 2) {
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 8;
            struct nova_engine *v = realloc(c->v, cap * sizeof *v);
            if (!v) {
                caps_fail(c, true);
                return;
            }
            c->v = v;
            c->cap = cap;
        }
        struct nova_engine *e = &c->v[c->n++];
        memset(e, 0, sizeof *e);
        memset(c->seen, 0, sizeof c->seen);
        if (!(e->name = strdup(name)))
            caps_fail(c, true);
    } else if (c->depth == 3) {
        c->field = !strcmp(name, "name") ? 1 : !strcmp(name, "url") ? 2 : !strcmp(name, "categories") ? 3 : 0;
        if (c->field && c->seen[c->field])
            c->field = 0;
        c->tlen = 0;
    }
}

static void XMLCALL caps_text(void *ud, const XML_Char *s, int len)
{
    struct caps_ctx *c = ud;
    if (c->depth < 3 || !c->field || len <= 0)
        return;
    char *t = realloc(c->text, c->tlen + (size_t)len + 1);
    if (!t) {
        caps_fail(c, true);
        return;
    }
    c->text = t;
    memcpy(t + c->tlen, s, (size_t)len);
    c->tlen += (size_t)len;
    t[c->tlen] = '\0';
}

static int add_cats(struct nova_engine *e, const char *t, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && is_ws(t[i]))
            i++;
        size_t j = i;
        while (j < n && !is_ws(t[j]))
            j++;
        if (j > i) {
            char **v = realloc(e->cats, (e->num_cats + 1) * sizeof *v);
            if (!v)
                return -ENOMEM;
            e->cats = v;
            if (!(v[e->num_cats] = strndup(t + i, j - i)))
                return -ENOMEM;
            e->num_cats++;
        }
        i = j;
    }
    return 0;
}

static void XMLCALL caps_end(void *ud, const XML_Char *name)
{
    (void)name;
    struct caps_ctx *c = ud;
    if (c->depth == 3 && c->field && c->n) {
        struct nova_engine *e = &c->v[c->n - 1];
        const char *t = c->text && c->tlen ? c->text : "";
        size_t tl = c->text ? c->tlen : 0;
        c->seen[c->field] = true;
        if (c->field == 3) {
            if (add_cats(e, t, tl) != 0)
                caps_fail(c, true);
        } else {
            char **slot = c->field == 1 ? &e->full_name : &e->url;
            free(*slot);
            if (!(*slot = strndup(t, tl)))
                caps_fail(c, true);
        }
        c->field = 0;
        c->tlen = 0;
    }
    c->depth--;
}

void nova_engines_free(struct nova_engine *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++) {
        free(e[i].name);
        free(e[i].full_name);
        free(e[i].url);
        for (size_t k = 0; k < e[i].num_cats; k++)
            free(e[i].cats[k]);
        free(e[i].cats);
    }
    free(e);
}

int nova_caps_parse(const char *xml, size_t len, struct nova_engine **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    struct caps_ctx c = {0};
    c.p = XML_ParserCreate("UTF-8");
    if (!c.p)
        return -ENOMEM;
    XML_SetUserData(c.p, &c);
    XML_SetElementHandler(c.p, caps_start, caps_end);
    XML_SetCharacterDataHandler(c.p, caps_text);
    int ok = len <= (size_t)INT32_MAX && XML_Parse(c.p, xml, (int)len, XML_TRUE) == XML_STATUS_OK;
    XML_ParserFree(c.p);
    free(c.text);
    int rc = c.oom ? -ENOMEM : (!ok || c.bad_root) ? -EBADMSG : 0;
    /* Entries without a name or URL element still count (qBittorrent reads
     * the missing ones as ""). */
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        if ((!c.v[i].full_name && !(c.v[i].full_name = strdup(""))) ||
            (!c.v[i].url && !(c.v[i].url = strdup(""))))
            rc = -ENOMEM;
    }
    if (rc != 0) {
        nova_engines_free(c.v, c.n);
        return rc;
    }
    *out = c.v;
    *n = c.n;
    return 0;
}

/* ---- versions.txt ---- */

size_t nova_versions_parse(const char *text, size_t len,
                           void (*fn)(void *ud, const char *name, struct nova_version v), void *ud,
                           size_t *invalid)
{
    size_t good = 0;
    *invalid = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
        const char *s = text + i;
        i += n + 1;
        trim(&s, &n);
        if (n == 0 || s[0] == '#')
            continue;
        const char *colon = memchr(s, ':', n);
        struct nova_version v;
        if (!colon || memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)) ||
            nova_version_parse(colon + 1, n - (size_t)(colon + 1 - s), &v) != 0) {
            (*invalid)++;
            continue;
        }
        good++;
        const char *name = s;
        size_t nn = (size_t)(colon - s);
        trim(&name, &nn);
        char buf[128];
        if (nn < sizeof buf) {
            memcpy(buf, name, nn);
            buf[nn] = '\0';
            if (nova_name_ok(buf))
                fn(ud, buf, v);
        }
    }
    return good;
}

bool nova_name_ok(const char *name)
{
    if (!name || !*name || strlen(name) > 100)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}
