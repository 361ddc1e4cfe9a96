#include "automation/cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* A number or a name (names: month 1-based, weekday 0-based). */
static int value(const char **p, const char *const *names, int nnames, int name_base, int *out)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        long v = 0;
        while (isdigit((unsigned char)*s)) {
            v = v * 10 + (*s++ - '0');
            if (v > 1000)
                return -EINVAL;
        }
        *p = s;
        *out = (int)v;
        return 0;
    }
    for (int i = 0; names && i < nnames; i++)
        if (strncasecmp(s, names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
            *p = s + 3;
            *out = i + name_base;
            return 0;
        }
    return -EINVAL;
}

/* One field into bits [lo, hi]; *star when it is "*" (with or without step). */
static int field(const char *s, size_t len, int lo, int hi, const char *const *names, int nnames, int name_base,
                 uint64_t *bits, bool *star)
{
    char buf[128];
    if (len == 0 || len >= sizeof buf)
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *bits = 0;
    *star = false;
    char *save = NULL;
    for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        const char *p = part;
        int a, b, step = 1;
        if (*p == '*') {
            a = lo, b = hi;
            p++;
            *star = true;
        } else {
            if (value(&p, names, nnames, name_base, &a))
                return -EINVAL;
            b = a;
            if (*p == '-') {
                p++;
                if (value(&p, names, nnames, name_base, &b))
                    return -EINVAL;
            }
        }
        if (*p == '/') {
            p++;
            if (value(&p, NULL, 0, 0, &step) || step <= 0)
                return -EINVAL;
            if (a == b && part[0] != '*')
                b = hi;   /* "5/15": from 5 to the end */
        }
        if (*p || a < lo || b > hi || a > b)
            return -EINVAL;
        for (int v = a; v <= b; v += step)
            *bits |= UINT64_C(1) << v;
    }
    return 0;
}

int cron_parse(const char *expr, struct cron *out)
{
    const char *f[5];
    size_t l[5];
    const char *p = expr;
    for (int i = 0; i < 5; i++) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return -EINVAL;
        f[i] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        l[i] = (size_t)(p - f[i]);
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p)
        return -EINVAL;
    struct cron c = {0};
    uint64_t b;
    bool star;
    if (field(f[0], l[0], 0, 59, NULL, 0, 0, &c.minute, &star))
        return -EINVAL;
    if (field(f[1], l[1], 0, 23, NULL, 0, 0, &b, &star))
        return -EINVAL;
    c.hour = (uint32_t)b;
    if (field(f[2], l[2], 1, 31, NULL, 0, 0, &b, &c.dom_star))
        return -EINVAL;
    c.dom = (uint32_t)b;
    if (field(f[3], l[3], 1, 12, months, 12, 1, &b, &star))
        return -EINVAL;
    c.month = (uint32_t)b;
    if (field(f[4], l[4], 0, 7, days, 7, 0, &b, &c.dow_star))
        return -EINVAL;
    if (b & (1u << 7))
        b |= 1;   /* 7 is Sunday too */
    c.dow = (uint8_t)(b & 0x7f);
    /* "*" with a step restricts the field: only a bare "*" is "any". */
    c.dom_star = c.dom_star && l[2] == 1;
    c.dow_star = c.dow_star && l[4] == 1;
    *out = c;
    return 0;
}

bool cron_match(const struct cron *c, const struct tm *tm)
{
    if (!((c->minute >> tm->tm_min) & 1) || !((c->hour >> tm->tm_hour) & 1) ||
        !((c->month >> (tm->tm_mon + 1)) & 1))
        return false;
    bool dom = (c->dom >> tm->tm_mday) & 1, dow = (c->dow >> tm->tm_wday) & 1;
    if (c->dom_star || c->dow_star)
        return dom && dow;
    return dom || dow;
}

time_t cron_next(const struct cron *c, time_t after)
{
    time_t t = after - (after % 60) + 60;
    /* Minute by minute, skipping whole hours and days that cannot match:
     * at most ~2.6 M steps over five years, usually far fewer. */
    for (long i = 0; i < 5L * 366 * 24 * 60; i++) {
        struct tm tm;
        if (!localtime_r(&t, &tm))
            return -1;
        if (!((c->month >> (tm.tm_mon + 1)) & 1) || !cron_match(&(struct cron){.minute = ~UINT64_C(0),
                                                                              .hour = ~0u,
                                                                              .dom = c->dom,
                                                                              .month = c->month,
                                                                              .dow = c->dow,
                                                                              .dom_star = c->dom_star,
                                                                              .dow_star = c->dow_star},
                                                                &tm)) {
            t += (time_t)(24 * 60 - tm.tm_hour * 60 - tm.tm_min) * 60;   /* next day's midnight */
            continue;
        }
        if (!((c->hour >> tm.tm_hour) & 1)) {
            t += (time_t)(60 - tm.tm_min) * 60;
            continue;
        }
        if (cron_match(c, &tm))
            return t;
        t += 60;
    }
    return -1;
}
