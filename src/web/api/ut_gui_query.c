/* web/api/ut_gui_query — µTorrent's query string as an ordered list.
 *
 * The frame's web_req_param is a map (last duplicate wins); /gui/ needs the
 * sequence: setprops applies s/v pairs to the most recent hash= (seed 004
 * "Torrent Job Properties"), setsetting pairs each v= with the s= before it,
 * getfiles and the actions take repeated hash=, setprio repeated f=.  Input
 * is untrusted and bounded (UT_QUERY_MAX_LEN, UT_QUERY_MAX_PARAMS); fuzzed
 * by fuzz/fuzz_ut_query.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/pct.h"
#include "web/api/ut_gui_int.h"

/* URLSearchParams (@ctrl/utorrent) writes a space as '+', encodeURIComponent
 * (the official WebUI) as %20: PCT_FORM reads both.  A stray '%' is kept,
 * as a browser sends it. */
#define DECODE_FLAGS (PCT_FORM | PCT_LENIENT)

void ut_query_free(struct ut_query *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->v[i].key);
        free(q->v[i].val);
    }
    free(q->v);
    q->v = NULL;
    q->n = 0;
}

int ut_query_parse(const char *s, size_t len, struct ut_query *out)
{
    out->v = NULL;
    out->n = 0;
    if (len > UT_QUERY_MAX_LEN)
        return -E2BIG;
    size_t cap = 0;
    const char *p = s, *end = s + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *seg_end = amp ? amp : end;
        if (seg_end > p) {
            if (out->n == UT_QUERY_MAX_PARAMS) {
                ut_query_free(out);
                return -E2BIG;
            }
            if (out->n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                struct ut_param *nv = realloc(out->v, ncap * sizeof *nv);
                if (!nv)
                    goto oom;
                out->v = nv;
                cap = ncap;
            }
            const char *eq = memchr(p, '=', (size_t)(seg_end - p));
            const char *kend = eq ? eq : seg_end;
            const char *vstart = eq ? eq + 1 : seg_end;
            struct ut_param *pr = &out->v[out->n];
            pr->key = pr->val = NULL;
            pr->val_len = 0;
            if (pct_decode(p, (size_t)(kend - p), DECODE_FLAGS, &pr->key, NULL) != 0)
                goto oom;
            if (pct_decode(vstart, (size_t)(seg_end - vstart), DECODE_FLAGS, &pr->val, &pr->val_len) != 0) {
                free(pr->key);
                goto oom;
            }
            out->n++;
        }
        p = amp ? amp + 1 : end;
    }
    return 0;
oom:
    ut_query_free(out);
    return -ENOMEM;
}

const char *ut_query_get(const struct ut_query *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->v[i].key, key) == 0)
            return q->v[i].val;
    return NULL;
}

bool ut_query_has(const struct ut_query *q, const char *key, const char *val)
{
    size_t vl = strlen(val);
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->v[i].key, key) == 0 && q->v[i].val_len == vl && memcmp(q->v[i].val, val, vl) == 0)
            return true;
    return false;
}

bool ut_param_has_nul(const struct ut_param *p)
{
    return strlen(p->val) != p->val_len;
}

bool ut_parse_int(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!v || !*v)
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (*end || errno || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}
