/* rss/rule — see rule.h.  Behaviour from qBittorrent's
 * rss_autodownloadrule.cpp and addtorrentparams.cpp (5.1.4 for the JSON,
 * the API version torrentd speaks), rewritten in C. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rss/rule.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/natcmp.h"

/* Compiled regexes kept per rule: a rule has a handful (its tokens and the
 * episode filter's), so the bound only stops a rule with thousands of
 * tokens from holding thousands of compiled patterns; past it a pattern is
 * compiled for the one match and dropped. */
#define RULE_CACHE_MAX 64
/* PCRE2's backtracking bound per match (its default is 10,000,000): a
 * pathological user regex against a long title fails to match instead of
 * stalling the loop. */
#define RULE_MATCH_LIMIT 200000u
#define RULE_DEPTH_LIMIT 20000u

struct rule_rx {
    char *key;
    bool is_regex;
    pcre2_code *code;   /* NULL: the pattern does not compile (never matches) */
};

struct rss_rule_cache {
    struct rule_rx v[RULE_CACHE_MAX];
    size_t n;
};

struct rss_smart_filter {
    pcre2_code *code;   /* NULL: does not compile */
};

/* ---- small helpers ---- */

static char *xstrdup(const char *s)
{
    return strdup(s ? s : "");
}

static void set_str(char **dst, char *v)
{
    free(*dst);
    *dst = v;
}

static pcre2_match_context *match_ctx(void)
{
    /* One for the process: the rules live on the loop thread; a static
     * stays reachable, so it is no leak. */
    static pcre2_match_context *ctx;
    if (!ctx && (ctx = pcre2_match_context_create(NULL))) {
        pcre2_set_match_limit(ctx, RULE_MATCH_LIMIT);
        pcre2_set_depth_limit(ctx, RULE_DEPTH_LIMIT);
    }
    return ctx;
}

static pcre2_code *compile(const char *pattern, uint32_t extra)
{
    int err;
    PCRE2_SIZE off;
    /* Qt's QRegularExpression always works on Unicode text; titles come
     * from the network, so invalid UTF-8 must not make a match fail hard. */
    return pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                         PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_CASELESS | extra, &err, &off, NULL);
}

/* Runs code on subject: > 0 matched (PCRE2's count), else no match.
 * md receives the match data when not NULL (caller frees). */
static int exec(const pcre2_code *code, const char *subject, pcre2_match_data **md)
{
    if (md)
        *md = NULL;
    if (!code)
        return 0;
    pcre2_match_data *d = pcre2_match_data_create_from_pattern(code, NULL);
    if (!d)
        return 0;
    int rc = pcre2_match(code, (PCRE2_SPTR)subject, strlen(subject), 0, 0, d, match_ctx());
    if (rc > 0 && md)
        *md = d;
    else
        pcre2_match_data_free(d);
    return rc > 0 ? rc : 0;
}

/* Capture i of a match as a malloc'd string ("" when unset); NULL = -ENOMEM. */
static char *capture_of(pcre2_match_data *md, int rc, int i, const char *subject)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    if (i >= rc || ov[2 * i] == PCRE2_UNSET)
        return strdup("");
    return strndup(subject + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
}

/* QString::toInt: optional surrounding whitespace and sign, decimal digits,
 * within int; false otherwise (*out 0, as Qt's failed conversion). */
static bool qt_toint(const char *s, size_t n, int *out)
{
    *out = 0;
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    bool neg = false;
    if (n && (*s == '+' || *s == '-'))
        neg = *s == '-', s++, n--;
    if (!n)
        return false;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
        if (v > (long long)INT_MAX + 1)
            return false;
    }
    if (neg)
        v = -v;
    if (v > INT_MAX || v < INT_MIN)
        return false;
    *out = (int)v;
    return true;
}

static int toint0(const char *s, size_t n)
{
    int v;
    qt_toint(s, n, &v);
    return v;
}

/* ASCII case-insensitive substring: qBittorrent's contains(..., CaseInsensitive)
 * for the ASCII words REPACK and PROPER. */
static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

/* ---- wildcards: QRegularExpression::wildcardToRegularExpression with
 * UnanchoredWildcardConversion | NonPathWildcardConversion ---- */

static int sb_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = (*cap ? *cap * 2 : 64);
        while (c < *len + n + 1)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return -ENOMEM;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

static char *wildcard_to_regex(const char *w)
{
    char *rx = NULL;
    size_t len = 0, cap = 0, n = strlen(w), i = 0;
    int rc = sb_add(&rx, &len, &cap, "", 0);
    while (rc == 0 && i < n) {
        char c = w[i++];
        switch (c) {
        case '*':
            rc = sb_add(&rx, &len, &cap, "[\\d\\D]*", 7);
            break;
        case '?':
            rc = sb_add(&rx, &len, &cap, "[\\d\\D]", 6);
            break;
        case '\\': case '$': case '(': case ')': case '+': case '.': case '^': case '{': case '|': case '}':
            rc = sb_add(&rx, &len, &cap, "\\", 1);
            if (rc == 0)
                rc = sb_add(&rx, &len, &cap, &c, 1);
            break;
        case '[':
            rc = sb_add(&rx, &len, &cap, "[", 1);
            if (rc == 0 && i < n && w[i] == '!') {
                rc = sb_add(&rx, &len, &cap, "^", 1);
                i++;
            }
            if (rc == 0 && i < n && w[i] == ']')
                rc = sb_add(&rx, &len, &cap, &w[i++], 1);
            while (rc == 0 && i < n && w[i] != ']') {
                if (w[i] == '\\')
                    rc = sb_add(&rx, &len, &cap, "\\", 1);
                if (rc == 0)
                    rc = sb_add(&rx, &len, &cap, &w[i++], 1);
            }
            break;
        default:
            rc = sb_add(&rx, &len, &cap, &c, 1);
            break;
        }
    }
    if (rc != 0) {
        free(rx);
        return NULL;
    }
    return rx;
}

/* ---- the per-rule regex cache ---- */

static void cache_free(struct rss_rule_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].key);
        pcre2_code_free(c->v[i].code);
    }
    free(c);
}

/* The compiled form of expr (a regex, or a wildcard when !is_regex).
 * *tmp is set when the result is not cached (the caller frees it).
 * Returns false on -ENOMEM. */
static bool cached(struct rss_rule *r, const char *expr, bool is_regex, const pcre2_code **code, pcre2_code **tmp)
{
    *tmp = NULL;
    *code = NULL;
    if (!r->cache && !(r->cache = calloc(1, sizeof *r->cache)))
        return false;
    struct rss_rule_cache *c = r->cache;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].is_regex == is_regex && strcmp(c->v[i].key, expr) == 0) {
            *code = c->v[i].code;
            return true;
        }
    char *pattern = is_regex ? strdup(expr) : wildcard_to_regex(expr);
    if (!pattern)
        return false;
    pcre2_code *p = compile(pattern, 0);
    free(pattern);
    if (c->n == RULE_CACHE_MAX) {
        *code = *tmp = p;
        return true;
    }
    char *key = strdup(expr);
    if (!key) {
        pcre2_code_free(p);
        return false;
    }
    c->v[c->n++] = (struct rule_rx){key, is_regex, p};
    *code = p;
    return true;
}

/* Runs the cached expr on subject; > 0 on a match.  md as in exec(). */
static int rx_exec(struct rss_rule *r, const char *expr, bool is_regex, const char *subject,
                   pcre2_match_data **md)
{
    const pcre2_code *code;
    pcre2_code *tmp;
    if (md)
        *md = NULL;
    if (!cached(r, expr, is_regex, &code, &tmp))
        return -ENOMEM;
    int rc = exec(code, subject, md);
    pcre2_code_free(tmp);
    return rc;
}

/* ---- matching ---- */

/* matchesExpression: one alternative (the whole string with useRegex). */
static int matches_expression(struct rss_rule *r, const char *title, const char *expr, size_t n)
{
    if (n == 0)
        return 1;   /* "a|" always matches: so does an empty wildcard alternative */
    char *e = strndup(expr, n);
    if (!e)
        return -ENOMEM;
    int rc = 1;
    if (r->use_regex) {
        rc = rx_exec(r, e, true, title, NULL);
    } else {
        /* Every whitespace-separated token must match, in any order. */
        static const char ws[] = " \t\n\v\f\r";
        char *save = NULL;
        for (char *tok = strtok_r(e, ws, &save); tok && rc > 0; tok = strtok_r(NULL, ws, &save))
            rc = rx_exec(r, tok, false, title, NULL);
    }
    free(e);
    return rc < 0 ? rc : rc > 0;
}

/* mustContain (any alternative matches) or mustNotContain (none does):
 * 1 passes, 0 fails, -ENOMEM.  An empty field is no condition. */
static int check_list(struct rss_rule *r, const char *title, const char *field, bool must)
{
    if (!*field)
        return 1;
    const char *p = field;
    for (;;) {
        size_t n = r->use_regex ? strlen(p) : strcspn(p, "|");
        int m = matches_expression(r, title, p, n);
        if (m < 0)
            return m;
        if (m)
            return must ? 1 : 0;
        if (r->use_regex || p[n] != '|')
            break;
        p += n + 1;
    }
    return must ? 0 : 1;
}

static int single_episode(struct rss_rule *r, const char *title, const char *season, const char *ep, size_t epn)
{
    char *expr = NULL;
    if (asprintf(&expr, "\\b(?:s0?%s[ -_\\.]?e0?%.*s|%sx0?%.*s)(?:\\D|\\b)", season, (int)epn, ep, season,
                 (int)epn, ep) < 0)
        return -ENOMEM;
    int rc = rx_exec(r, expr, true, title, NULL);
    free(expr);
    return rc < 0 ? rc : rc > 0;
}

/* (season, episode) named in a title, for the ranges: 1 found, 0 none. */
static int title_episode(struct rss_rule *r, const char *title, int *season, int *ep)
{
    static const char *const pats[] = {
        "\\bs0?(\\d{1,4})[ -_\\.]?e(0?\\d{1,4})(?:\\D|\\b)",
        "\\b(\\d{1,4})x(0?\\d{1,4})(?:\\D|\\b)",
    };
    for (size_t i = 0; i < 2; i++) {
        pcre2_match_data *md;
        int rc = rx_exec(r, pats[i], true, title, &md);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            *season = toint0(title + ov[2], ov[3] - ov[2]);
            *ep = toint0(title + ov[4], ov[5] - ov[4]);
            pcre2_match_data_free(md);
            return 1;
        }
    }
    return 0;
}

/* matchesEpisodeFilterExpression: 1, 0 or -ENOMEM. */
static int episode_filter(struct rss_rule *r, const char *title)
{
    if (!*r->episode_filter)
        return 1;
    pcre2_match_data *md;
    int rc = rx_exec(r, "(^\\d{1,4})x(.*;$)", true, r->episode_filter, &md);
    if (rc <= 0)
        return rc;
    char *season = capture_of(md, rc, 1, r->episode_filter);
    char *list = capture_of(md, rc, 2, r->episode_filter);
    pcre2_match_data_free(md);
    if (!season || !list) {
        free(season);
        free(list);
        return -ENOMEM;
    }
    int season_ours = toint0(season, strlen(season));
    int result = 0;
    for (char *item = list; result == 0;) {
        size_t n = strcspn(item, ";");
        char *next = item[n] ? item + n + 1 : NULL;
        const char *ep = item;
        /* Leading zeros go, but "0" stays episode zero. */
        while (n > 1 && *ep == '0')
            ep++, n--;
        if (n == 0) {
            /* empty item: skipped */
        } else if (memchr(ep, '-', n)) {
            int s_theirs, e_theirs;
            int m = title_episode(r, title, &s_theirs, &e_theirs);
            if (m < 0) {
                result = m;
            } else if (m > 0 && ep[n - 1] == '-') {
                int e_ours = toint0(ep, n - 1);
                if ((s_theirs == season_ours && e_theirs >= e_ours) || s_theirs > season_ours)
                    result = 1;
            } else if (m > 0) {
                size_t first_n = (size_t)((const char *)memchr(ep, '-', n) - ep);
                const char *last = ep + n;
                while (last > ep && last[-1] != '-')
                    last--;
                int lo = toint0(ep, first_n), hi = toint0(last, (size_t)(ep + n - last));
                /* A > B: the item is ignored. */
                if (lo <= hi && s_theirs == season_ours && lo <= e_theirs && e_theirs <= hi)
                    result = 1;
            }
        } else {
            result = single_episode(r, title, season, ep, n);
        }
        if (!next)
            break;
        item = next;
    }
    free(season);
    free(list);
    return result;
}

/* matchesSmartEpisodeFilter: 1 (episodes gets the keys to record), 0, -ENOMEM. */
static int smart_episode(struct rss_rule *r, const struct rss_match_env *env, const char *title,
                         struct strv *episodes)
{
    if (!r->smart_filter)
        return 1;
    if (!env || !env->smart)
        return 0;
    char *key = rss_smart_filter_episode(env->smart, title);
    if (!key)
        return -ENOMEM;
    int rc = 1;
    if (!*key) {
        rc = 0;   /* no recognisable episode: not accepted (qBittorrent master; 5.1.0 accepted) */
    } else if (strv_find(&r->episodes, key, false) < 0) {
        rc = strv_push(episodes, key) == 0 ? 1 : -ENOMEM;
    } else if (!env->download_repacks) {
        rc = 0;
    } else {
        bool repack = contains_ci(title, "REPACK"), proper = contains_ci(title, "PROPER");
        char *full = NULL;
        if (!repack && !proper)
            rc = 0;
        else if (asprintf(&full, "%s%s%s", key, repack ? "-REPACK" : "", proper ? "-PROPER" : "") < 0)
            rc = -ENOMEM;
        else if (strv_find(&r->episodes, full, false) >= 0)
            rc = 0;
        else if (strv_push(episodes, full) != 0)
            rc = -ENOMEM;
        else if (repack && proper) {
            /* The separate REPACK and PROPER keys too, so neither comes again. */
            char *a = NULL, *b = NULL;
            if (asprintf(&a, "%s-REPACK", key) < 0 || asprintf(&b, "%s-PROPER", key) < 0 ||
                strv_push(episodes, a) != 0 || strv_push(episodes, b) != 0)
                rc = -ENOMEM;
            free(a);
            free(b);
        }
        free(full);
    }
    free(key);
    return rc;
}

static int do_match(struct rss_rule *r, const struct rss_match_env *env, const char *title, int64_t date,
                    struct strv *episodes)
{
    if (r->ignore_days > 0 && r->has_last_match && date < r->last_match + (int64_t)r->ignore_days * 86400)
        return 0;
    if (!title)
        title = "";
    int rc = check_list(r, title, r->must_contain, true);
    if (rc > 0)
        rc = check_list(r, title, r->must_not_contain, false);
    if (rc > 0)
        rc = episode_filter(r, title);
    if (rc > 0)
        rc = smart_episode(r, env, title, episodes);
    return rc;
}

bool rss_rule_matches(struct rss_rule *r, const struct rss_match_env *env, const char *title, int64_t date,
                      struct strv *episodes)
{
    struct strv tmp = {0};
    struct strv *e = episodes ? episodes : &tmp;
    strv_clear(e);
    int rc = do_match(r, env, title, date, e);
    strv_clear(&tmp);
    return rc > 0;
}

int rss_rule_accept(struct rss_rule *r, const struct rss_match_env *env, const char *title, int64_t date)
{
    struct strv e = {0};
    int rc = do_match(r, env, title, date, &e);
    if (rc <= 0) {
        strv_clear(&e);
        return rc;
    }
    size_t before = r->episodes.n;
    for (size_t i = 0; i < e.n; i++)
        if (strv_push(&r->episodes, e.v[i]) != 0) {
            while (r->episodes.n > before)
                strv_remove(&r->episodes, r->episodes.n - 1);
            strv_clear(&e);
            return -ENOMEM;
        }
    strv_clear(&e);
    r->has_last_match = true;
    r->last_match = date;
    return 1;
}

/* ---- smart filter ---- */

int rss_smart_filter_new(const char *filters, struct rss_smart_filter **out)
{
    *out = NULL;
    struct rss_smart_filter *f = calloc(1, sizeof *f);
    char *rx = NULL;
    size_t len = 0, cap = 0;
    int rc = f ? sb_add(&rx, &len, &cap, "(?:_|\\b)(?:", 11) : -ENOMEM;
    bool first = true;
    for (const char *p = filters ? filters : ""; rc == 0 && *p;) {
        size_t n = strcspn(p, "\n");
        if (n) {
            if (!first)
                rc = sb_add(&rx, &len, &cap, "|", 1);
            if (rc == 0)
                rc = sb_add(&rx, &len, &cap, p, n);
            first = false;
        }
        p += n;
        if (*p)
            p++;
    }
    if (rc == 0)
        rc = sb_add(&rx, &len, &cap, ")(?:_|\\b)", 9);
    if (rc != 0) {
        free(rx);
        free(f);
        return -ENOMEM;
    }
    f->code = compile(rx, PCRE2_EXTENDED | PCRE2_UCP);
    free(rx);
    *out = f;
    return 0;
}

void rss_smart_filter_free(struct rss_smart_filter *f)
{
    if (!f)
        return;
    pcre2_code_free(f->code);
    free(f);
}

char *rss_smart_filter_episode(const struct rss_smart_filter *f, const char *title)
{
    pcre2_match_data *md;
    int rc = exec(f ? f->code : NULL, title ? title : "", &md);
    if (rc <= 0)
        return strdup("");
    char *out = NULL;
    size_t len = 0, cap = 0;
    int err = sb_add(&out, &len, &cap, "", 0);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    bool first = true;
    for (int i = 1; err == 0 && i < rc; i++) {
        if (ov[2 * i] == PCRE2_UNSET || ov[2 * i + 1] == ov[2 * i])
            continue;
        const char *cap_s = title + ov[2 * i];
        size_t cap_n = ov[2 * i + 1] - ov[2 * i];
        char num[16];
        int v;
        if (qt_toint(cap_s, cap_n, &v)) {
            cap_n = (size_t)snprintf(num, sizeof num, "%d", v);
            cap_s = num;
        }
        if (!first)
            err = sb_add(&out, &len, &cap, "x", 1);
        if (err == 0)
            err = sb_add(&out, &len, &cap, cap_s, cap_n);
        first = false;
    }
    pcre2_match_data_free(md);
    if (err != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- rule objects ---- */

static void params_free(struct rss_rule_params *p)
{
    free(p->category);
    strv_clear(&p->tags);
    free(p->save_path);
    free(p->download_path);
    free(p->ssl_certificate);
    free(p->ssl_private_key);
    free(p->ssl_dh_params);
    memset(p, 0, sizeof *p);
}

static int params_defaults(struct rss_rule_params *p)
{
    memset(p, 0, sizeof *p);
    p->add_to_top = p->stopped = p->use_auto_tmm = p->use_download_path = RSS_OPT_UNSET;
    p->stop_condition = RSS_STOP_UNSET;
    p->layout = RSS_LAYOUT_UNSET;
    p->upload_limit = p->download_limit = -1;
    p->ratio_limit = -2;
    p->seeding_time_limit = p->inactive_seeding_time_limit = -2;
    p->share_action = RSS_SHARE_DEFAULT;
    p->category = strdup("");
    p->save_path = strdup("");
    p->download_path = strdup("");
    p->ssl_certificate = strdup("");
    p->ssl_private_key = strdup("");
    p->ssl_dh_params = strdup("");
    if (!p->category || !p->save_path || !p->download_path || !p->ssl_certificate || !p->ssl_private_key ||
        !p->ssl_dh_params) {
        params_free(p);
        return -ENOMEM;
    }
    return 0;
}

struct rss_rule *rss_rule_new(const char *name)
{
    struct rss_rule *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->enabled = true;
    r->name = xstrdup(name);
    r->must_contain = strdup("");
    r->must_not_contain = strdup("");
    r->episode_filter = strdup("");
    if (!r->name || !r->must_contain || !r->must_not_contain || !r->episode_filter ||
        params_defaults(&r->tp) != 0) {
        rss_rule_free(r);
        return NULL;
    }
    return r;
}

void rss_rule_free(struct rss_rule *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->must_contain);
    free(r->must_not_contain);
    free(r->episode_filter);
    strv_clear(&r->feeds);
    strv_clear(&r->episodes);
    params_free(&r->tp);
    cache_free(r->cache);
    free(r);
}

struct rss_rule *rss_rule_dup(const struct rss_rule *r)
{
    json_t *j = rss_rule_to_json(r);
    struct rss_rule *d = NULL;
    /* Through the JSON form: one definition of what a rule holds. */
    if (j && rss_rule_from_json(j, r->name, &d) != 0)
        d = NULL;
    json_decref(j);
    return d;
}

/* ---- JSON, as Qt's QJsonValue getters read it ---- */

static const char *jstr(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "";
}

static bool jbool(const json_t *o, const char *k, bool dflt)
{
    const json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* QJsonValue::toInt: a number that is an integer within int, else dflt. */
static int jint(const json_t *o, const char *k, int dflt)
{
    const json_t *v = json_object_get(o, k);
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v))
        d = json_real_value(v);
    else
        return dflt;
    if (d != floor(d) || d < INT_MIN || d > INT_MAX)
        return dflt;
    return (int)d;
}

static double jreal(const json_t *o, const char *k, double dflt)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

static enum rss_opt jopt(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return RSS_OPT_UNSET;
    return json_is_true(v) ? RSS_OPT_TRUE : RSS_OPT_FALSE;   /* QJsonValue::toBool: non-bool is false */
}

static const char *const layout_names[] = {"Original", "Subfolder", "NoSubfolder"};
static const char *const stop_names[] = {"None", "MetadataReceived", "FilesChecked"};

static int name_index(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static const struct {
    const char *name;
    int value;
} share_actions[] = {{"Default", RSS_SHARE_DEFAULT}, {"Stop", RSS_SHARE_STOP}, {"Remove", RSS_SHARE_REMOVE},
                     {"RemoveWithContent", RSS_SHARE_REMOVE_WITH_CONTENT},
                     {"EnableSuperSeeding", RSS_SHARE_SUPER_SEED}};

/* Utils::String::toEnum: the exact key's value, else dflt. */
#define ENUM_BY_NAME(tab, s, dflt) enum_by_name(tab, sizeof tab / sizeof tab[0], s, dflt)
static int enum_by_name(const void *tabv, size_t n, const char *s, int dflt)
{
    const struct {
        const char *name;
        int value;
    } *tab = tabv;
    for (size_t i = 0; i < n; i++)
        if (strcmp(tab[i].name, s) == 0)
            return tab[i].value;
    return dflt;
}
#define ENUM_NAME(tab, v) enum_name(tab, sizeof tab / sizeof tab[0], v)
static const char *enum_name(const void *tabv, size_t n, int v)
{
    const struct {
        const char *name;
        int value;
    } *tab = tabv;
    for (size_t i = 0; i < n; i++)
        if (tab[i].value == v)
            return tab[i].name;
    return tab[0].name;
}

/* Path(QString): QDir::cleanPath when the text holds a separator. */
static char *clean_path(const char *p)
{
    if (!strchr(p, '/') && !strchr(p, '\\'))
        return strdup(p);
    size_t n = strlen(p);
    char *out = malloc(n + 2), *work = strdup(p);
    const char **parts = calloc(n + 1, sizeof *parts);
    if (!out || !work || !parts) {
        free(out);
        free(work);
        free(parts);
        return NULL;
    }
    bool abs = p[0] == '/';
    size_t np = 0;
    char *save = NULL;
    for (char *t = strtok_r(work, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0)
            continue;
        if (strcmp(t, "..") == 0) {
            if (np && strcmp(parts[np - 1], "..") != 0) {
                np--;
                continue;
            }
            if (abs)
                continue;
        }
        parts[np++] = t;
    }
    size_t len = 0;
    if (abs)
        out[len++] = '/';
    for (size_t i = 0; i < np; i++) {
        if (i)
            out[len++] = '/';
        size_t l = strlen(parts[i]);
        memcpy(out + len, parts[i], l);
        len += l;
    }
    if (len == 0)
        out[len++] = '.';
    out[len] = '\0';
    free(work);
    free(parts);
    return out;
}

static int cmp_tags(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int c = natcmp(x, y);
    return c ? c : strcmp(x, y);
}

/* TagSet from an array: each trimmed (Tag's constructor), in TagLessThan
 * order, duplicates once.  0 or -ENOMEM. */
static int parse_tags(struct strv *tags, const json_t *arr)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        char *t = strndup(s, n);
        if (!t)
            return -ENOMEM;
        int rc = strv_find(tags, t, false) < 0 ? strv_push(tags, t) : 0;
        free(t);
        if (rc != 0)
            return rc;
    }
    if (tags->n > 1)
        qsort(tags->v, tags->n, sizeof *tags->v, cmp_tags);
    return 0;
}

/* parseAddTorrentParams. */
static int parse_params(struct rss_rule_params *p, const json_t *o)
{
    char *cat = strdup(jstr(o, "category")), *sp = clean_path(jstr(o, "save_path")),
         *dp = clean_path(jstr(o, "download_path"));
    char *c1 = strdup(jstr(o, "ssl_certificate")), *c2 = strdup(jstr(o, "ssl_private_key")),
         *c3 = strdup(jstr(o, "ssl_dh_params"));
    set_str(&p->category, cat);
    set_str(&p->save_path, sp);
    set_str(&p->download_path, dp);
    set_str(&p->ssl_certificate, c1);
    set_str(&p->ssl_private_key, c2);
    set_str(&p->ssl_dh_params, c3);
    if (!cat || !sp || !dp || !c1 || !c2 || !c3)
        return -ENOMEM;
    if (parse_tags(&p->tags, json_object_get(o, "tags")) != 0)
        return -ENOMEM;
    p->use_download_path = jopt(o, "use_download_path");
    p->forced = strcmp(jstr(o, "operating_mode"), "Forced") == 0;
    p->add_to_top = jopt(o, "add_to_top_of_queue");
    p->stopped = jopt(o, "stopped");
    const json_t *sc = json_object_get(o, "stop_condition");
    if (sc && !json_is_null(sc)) {
        int i = name_index(jstr(o, "stop_condition"), stop_names, 3);
        p->stop_condition = i < 0 ? RSS_STOP_NONE : (enum rss_stop_cond)i;   /* an unknown name is the enum's 0 */
    }
    /* skip_checking (5.1); later qBittorrent (master) calls it seed_mode, read too. */
    p->skip_checking = jbool(o, "skip_checking", jbool(o, "seed_mode", false));
    const json_t *cl = json_object_get(o, "content_layout");
    if (cl && !json_is_null(cl)) {
        int i = name_index(jstr(o, "content_layout"), layout_names, 3);
        p->layout = i < 0 ? RSS_LAYOUT_ORIGINAL : (enum rss_layout)i;
    }
    p->use_auto_tmm = jopt(o, "use_auto_tmm");
    p->upload_limit = jint(o, "upload_limit", -1);
    p->download_limit = jint(o, "download_limit", -1);
    p->ratio_limit = jreal(o, "ratio_limit", -2);
    p->seeding_time_limit = jint(o, "seeding_time_limit", -2);
    p->inactive_seeding_time_limit = jint(o, "inactive_seeding_time_limit", -2);
    p->share_action = ENUM_BY_NAME(share_actions, jstr(o, "share_limit_action"), RSS_SHARE_DEFAULT);
    return 0;
}

/* The 4.5 keys, when there is no torrentParams. */
static int parse_legacy(struct rss_rule_params *p, const json_t *o)
{
    char *sp = clean_path(jstr(o, "savePath")), *cat = strdup(jstr(o, "assignedCategory"));
    set_str(&p->save_path, sp);
    set_str(&p->category, cat);
    if (!sp || !cat)
        return -ENOMEM;
    const json_t *ap = json_object_get(o, "addPaused");
    p->stopped = json_is_boolean(ap) ? (json_is_true(ap) ? RSS_OPT_TRUE : RSS_OPT_FALSE) : RSS_OPT_UNSET;
    if (*sp)
        p->use_auto_tmm = RSS_OPT_FALSE;
    if (json_object_get(o, "torrentContentLayout")) {
        const char *s = jstr(o, "torrentContentLayout");
        int i = name_index(s, layout_names, 3);
        p->layout = !*s ? RSS_LAYOUT_UNSET : i < 0 ? RSS_LAYOUT_ORIGINAL : (enum rss_layout)i;
    } else {
        const json_t *cs = json_object_get(o, "createSubfolder");
        if (json_is_boolean(cs))
            p->layout = json_is_true(cs) ? RSS_LAYOUT_ORIGINAL : RSS_LAYOUT_NOSUBFOLDER;
    }
    return 0;
}

/* A string, or each string of an array (other values read as ""). */
static int parse_strings(struct strv *l, const json_t *v)
{
    if (json_is_string(v))
        return strv_push(l, json_string_value(v));
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (strv_push(l, json_is_string(e) ? json_string_value(e) : "") != 0)
            return -ENOMEM;
    }
    return 0;
}

int rss_rule_from_json(const json_t *v, const char *name, struct rss_rule **out)
{
    *out = NULL;
    const json_t *o = json_is_object(v) ? v : NULL;
    struct rss_rule *r = rss_rule_new(name && *name ? name : jstr(o, "name"));
    if (!r)
        return -ENOMEM;
    r->enabled = jbool(o, "enabled", true);
    r->priority = jint(o, "priority", 0);
    r->use_regex = jbool(o, "useRegex", false);
    set_str(&r->must_contain, strdup(jstr(o, "mustContain")));
    set_str(&r->must_not_contain, strdup(jstr(o, "mustNotContain")));
    set_str(&r->episode_filter, strdup(jstr(o, "episodeFilter")));
    r->has_last_match = rss_rule_parse_date(jstr(o, "lastMatch"), &r->last_match);
    r->ignore_days = jint(o, "ignoreDays", 0);
    r->smart_filter = jbool(o, "smartFilter", false);
    int rc = (!r->must_contain || !r->must_not_contain || !r->episode_filter) ? -ENOMEM : 0;
    if (rc == 0)
        rc = parse_strings(&r->feeds, json_object_get(o, "affectedFeeds"));
    if (rc == 0)
        rc = parse_strings(&r->episodes, json_object_get(o, "previouslyMatchedEpisodes"));
    const json_t *tp = json_object_get(o, "torrentParams");
    if (rc == 0)
        rc = tp ? parse_params(&r->tp, json_is_object(tp) ? tp : NULL) : parse_legacy(&r->tp, o);
    if (rc != 0) {
        rss_rule_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

static json_t *strv_json(const struct strv *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n; i++)
        if (json_array_append_new(a, json_string(l->v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *opt_json(enum rss_opt o)
{
    return o == RSS_OPT_UNSET ? json_null() : json_boolean(o == RSS_OPT_TRUE);
}

/* A double as Qt writes it: integral values without a fraction. */
static json_t *real_json(double d)
{
    if (d == floor(d) && fabs(d) < 9e15)
        return json_integer((json_int_t)d);
    return json_real(d);
}

/* serializeAddTorrentParams. */
static json_t *params_json(const struct rss_rule_params *p)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = 0;
    rc |= json_object_set_new(o, "category", json_string(p->category));
    rc |= json_object_set_new(o, "tags", strv_json(&p->tags));
    rc |= json_object_set_new(o, "save_path", json_string(p->save_path));
    rc |= json_object_set_new(o, "download_path", json_string(p->download_path));
    rc |= json_object_set_new(o, "operating_mode", json_string(p->forced ? "Forced" : "AutoManaged"));
    rc |= json_object_set_new(o, "skip_checking", json_boolean(p->skip_checking));
    rc |= json_object_set_new(o, "upload_limit", json_integer(p->upload_limit));
    rc |= json_object_set_new(o, "download_limit", json_integer(p->download_limit));
    rc |= json_object_set_new(o, "ratio_limit", real_json(p->ratio_limit));
    rc |= json_object_set_new(o, "seeding_time_limit", json_integer(p->seeding_time_limit));
    rc |= json_object_set_new(o, "inactive_seeding_time_limit", json_integer(p->inactive_seeding_time_limit));
    rc |= json_object_set_new(o, "share_limit_action", json_string(ENUM_NAME(share_actions, p->share_action)));
    rc |= json_object_set_new(o, "ssl_certificate", json_string(p->ssl_certificate));
    rc |= json_object_set_new(o, "ssl_private_key", json_string(p->ssl_private_key));
    rc |= json_object_set_new(o, "ssl_dh_params", json_string(p->ssl_dh_params));
    if (p->add_to_top != RSS_OPT_UNSET)
        rc |= json_object_set_new(o, "add_to_top_of_queue", opt_json(p->add_to_top));
    if (p->stopped != RSS_OPT_UNSET)
        rc |= json_object_set_new(o, "stopped", opt_json(p->stopped));
    if (p->stop_condition != RSS_STOP_UNSET)
        rc |= json_object_set_new(o, "stop_condition", json_string(stop_names[p->stop_condition]));
    if (p->layout != RSS_LAYOUT_UNSET)
        rc |= json_object_set_new(o, "content_layout", json_string(layout_names[p->layout]));
    if (p->use_auto_tmm != RSS_OPT_UNSET)
        rc |= json_object_set_new(o, "use_auto_tmm", opt_json(p->use_auto_tmm));
    if (p->use_download_path != RSS_OPT_UNSET)
        rc |= json_object_set_new(o, "use_download_path", opt_json(p->use_download_path));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *rss_rule_to_json(const struct rss_rule *r)
{
    char date[40] = "";
    if (r->has_last_match)
        rss_rule_format_date(r->last_match, date, sizeof date);
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = 0;
    rc |= json_object_set_new(o, "enabled", json_boolean(r->enabled));
    rc |= json_object_set_new(o, "priority", json_integer(r->priority));
    rc |= json_object_set_new(o, "useRegex", json_boolean(r->use_regex));
    rc |= json_object_set_new(o, "mustContain", json_string(r->must_contain));
    rc |= json_object_set_new(o, "mustNotContain", json_string(r->must_not_contain));
    rc |= json_object_set_new(o, "episodeFilter", json_string(r->episode_filter));
    rc |= json_object_set_new(o, "affectedFeeds", strv_json(&r->feeds));
    rc |= json_object_set_new(o, "lastMatch", json_string(date));
    rc |= json_object_set_new(o, "ignoreDays", json_integer(r->ignore_days));
    rc |= json_object_set_new(o, "smartFilter", json_boolean(r->smart_filter));
    rc |= json_object_set_new(o, "previouslyMatchedEpisodes", strv_json(&r->episodes));
    /* 4.5's keys, still written for older readers. */
    rc |= json_object_set_new(o, "addPaused", opt_json(r->tp.stopped));
    rc |= json_object_set_new(o, "torrentContentLayout",
                              r->tp.layout == RSS_LAYOUT_UNSET ? json_null() : json_string(layout_names[r->tp.layout]));
    rc |= json_object_set_new(o, "savePath", json_string(r->tp.save_path));
    rc |= json_object_set_new(o, "assignedCategory", json_string(r->tp.category));
    rc |= json_object_set_new(o, "torrentParams", params_json(&r->tp));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

bool rss_rule_same(const struct rss_rule *a, const struct rss_rule *b)
{
    if (strcmp(a->name, b->name) != 0)
        return false;
    json_t *x = rss_rule_to_json(a), *y = rss_rule_to_json(b);
    bool same = false;
    if (x && y) {
        json_object_del(x, "previouslyMatchedEpisodes");
        json_object_del(y, "previouslyMatchedEpisodes");
        same = json_equal(x, y);
    }
    json_decref(x);
    json_decref(y);
    return same;
}

/* ---- dates ---- */

void rss_rule_format_date(int64_t t, char *buf, size_t len)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        if (len)
            buf[0] = '\0';
        return;
    }
    /* Qt's RFC2822Date leaves out the optional day name. */
    snprintf(buf, len, "%02d %s %04d %02d:%02d:%02d +0000", tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool rss_rule_parse_date(const char *s, int64_t *out)
{
    *out = 0;
    if (!s || !*s)
        return false;
    /* libcurl's date parser reads RFC 822/2822 leniently, as Qt's does. */
    time_t t = curl_getdate(s, NULL);
    if (t == (time_t)-1)
        return false;
    *out = (int64_t)t;
    return true;
}
