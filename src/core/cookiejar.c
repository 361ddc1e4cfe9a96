/* cookiejar — see cookiejar.h.  The row is made and read by store/record. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cookiejar.h"
#include "core/session.h"
#include "store/record.h"
#include "store/store.h"
#include "util/log.h"

#define NS_COOKIES "cookies"
#define KEY_COOKIES "list"

struct cookiejar {
    struct record_cookie *v;     /* owned; only cookies with an expiry */
    size_t n;
};

static struct cookiejar *jar(struct session *s)
{
    if (!s->cookies)
        s->cookies = calloc(1, sizeof *s->cookies);
    return s->cookies;
}

static int load_one(void *ud, const char *key, const char *value)
{
    struct cookiejar *j = ud;
    if (strcmp(key, KEY_COOKIES) != 0 || !value)
        return 0;
    struct record_cookie *v;
    size_t n;
    if (record_cookies_decode(value, &v, &n) != 0) {
        log_msg(LOG_WARNING, "stored cookies are unreadable; dropped");
        return 0;
    }
    /* Session cookies and expired ones go, as qBittorrent does at startup. */
    int64_t now = (int64_t)time(NULL);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].has_expires || v[i].expires == -1 || v[i].expires <= now)
            record_cookie_clear(&v[i]);
        else
            v[k++] = v[i];
    }
    record_cookies_free(j->v, j->n);
    j->v = v;
    j->n = k;
    return 0;
}

int cookiejar_load(struct session *s)
{
    struct cookiejar *j = jar(s);
    if (!j)
        return -ENOMEM;
    if (s->store)
        store_load_kv(s->store, NS_COOKIES, load_one, j);
    return 0;
}

void cookiejar_free(struct session *s)
{
    if (!s->cookies)
        return;
    record_cookies_free(s->cookies->v, s->cookies->n);
    free(s->cookies);
    s->cookies = NULL;
}

struct set_job {
    struct session *s;
    struct record_cookie *v;     /* the new list, applied after the commit */
    size_t n;
    void (*cb)(void *ud, int rc);
    void *ud;
};

static void on_committed(void *ud, int rc)
{
    struct set_job *j = ud;
    struct cookiejar *c = rc == 0 ? jar(j->s) : NULL;
    if (rc != 0)
        log_msg(LOG_WARNING, "cookies could not be saved: %s", strerror(-rc));
    if (c) {
        record_cookies_free(c->v, c->n);
        c->v = j->v;
        c->n = j->n;
    } else {
        record_cookies_free(j->v, j->n);
    }
    if (j->cb)
        j->cb(j->ud, rc);
    free(j);
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

int cookiejar_set(struct session *s, const struct cookiejar_cookie *v, size_t n, void (*cb)(void *ud, int rc),
                  void *ud)
{
    struct set_job *j = calloc(1, sizeof *j);
    struct record_cookie *list = calloc(n ? n : 1, sizeof *list);
    bool ok = j && list;
    for (size_t i = 0; ok && i < n; i++) {
        list[i] = (struct record_cookie){dup_or_empty(v[i].name), dup_or_empty(v[i].domain), dup_or_empty(v[i].path),
                                         dup_or_empty(v[i].value), true, v[i].expires};
        ok = list[i].name && list[i].domain && list[i].path && list[i].value;
    }
    char *dump = NULL;
    int rc = ok ? record_cookies_encode(list, n, &dump) : -ENOMEM;
    if (rc == 0) {
        *j = (struct set_job){s, list, n, cb, ud};
        rc = s->store ? store_kv_put(s->store, NS_COOKIES, KEY_COOKIES, dump, on_committed, j) : -EIO;
    }
    free(dump);
    if (rc != 0) {
        log_msg(LOG_WARNING, "cookies could not be saved: %s", strerror(-rc));
        record_cookies_free(list, list ? n : 0);
        free(j);
    }
    return rc;
}

size_t cookiejar_count(const struct session *s)
{
    return s->cookies ? s->cookies->n : 0;
}

struct cookiejar_cookie cookiejar_get(const struct session *s, size_t i)
{
    if (!s->cookies || i >= s->cookies->n)
        return (struct cookiejar_cookie){"", "", "", "", -1};
    const struct record_cookie *c = &s->cookies->v[i];
    return (struct cookiejar_cookie){c->name, c->domain, c->path, c->value, c->expires};
}

size_t cookiejar_lines(struct session *s, char ***out)
{
    *out = NULL;
    size_t n = cookiejar_count(s), k = 0;
    if (n == 0)
        return 0;
    char **v = calloc(n, sizeof *v);
    if (!v)
        return 0;
    for (size_t i = 0; i < n; i++) {
        struct cookiejar_cookie c = cookiejar_get(s, i);
        /* A leading dot means "and its subdomains" (Netscape's flag). */
        if (asprintf(&v[k], "%s\t%s\t%s\tFALSE\t%lld\t%s\t%s", c.domain, c.domain[0] == '.' ? "TRUE" : "FALSE",
                     *c.path ? c.path : "/", (long long)(c.expires > 0 ? c.expires : 0), c.name, c.value) >= 0)
            k++;
    }
    *out = v;
    return k;
}
