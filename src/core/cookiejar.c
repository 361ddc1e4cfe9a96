/* cookiejar — see cookiejar.h.  The list is kept as the JSON the store
 * holds, so what is read back is what was written. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cookiejar.h"
#include "core/session.h"
#include "store/store.h"
#include "util/log.h"

#define NS_COOKIES "cookies"
#define KEY_COOKIES "list"

struct cookiejar {
    json_t *list;                /* [{name, domain, path, value, expirationDate}] */
};

static struct cookiejar *jar(struct session *s)
{
    if (!s->cookies && (s->cookies = calloc(1, sizeof *s->cookies)) != NULL)
        s->cookies->list = json_array();
    return s->cookies && s->cookies->list ? s->cookies : NULL;
}

static const char *str_or_empty(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static int load_one(void *ud, const char *key, const char *value)
{
    struct cookiejar *j = ud;
    if (strcmp(key, KEY_COOKIES) != 0 || !value)
        return 0;
    json_t *a = json_loads(value, 0, NULL);
    if (!json_is_array(a)) {
        log_msg(LOG_WARNING, "stored cookies are unreadable; dropped");
        json_decref(a);
        return 0;
    }
    json_int_t now = (json_int_t)time(NULL);
    for (size_t i = json_array_size(a); i-- > 0;) {
        json_t *c = json_array_get(a, i);
        json_t *e = json_object_get(c, "expirationDate");
        if (!json_is_object(c) || !json_is_integer(e) || json_integer_value(e) == -1 ||
            json_integer_value(e) <= now)
            json_array_remove(a, i);
    }
    json_decref(j->list);
    j->list = a;
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
    json_decref(s->cookies->list);
    free(s->cookies);
    s->cookies = NULL;
}

struct set_job {
    struct session *s;
    json_t *list;
    void (*cb)(void *ud, int rc);
    void *ud;
};

static void on_committed(void *ud, int rc)
{
    struct set_job *j = ud;
    struct cookiejar *c = rc == 0 ? jar(j->s) : NULL;
    if (rc != 0) {
        log_msg(LOG_WARNING, "cookies could not be saved: %s", strerror(-rc));
        json_decref(j->list);
    } else if (c) {
        json_decref(c->list);
        c->list = j->list;
    } else {
        json_decref(j->list);
    }
    if (j->cb)
        j->cb(j->ud, rc);
    free(j);
}

int cookiejar_set(struct session *s, const struct cookiejar_cookie *v, size_t n, void (*cb)(void *ud, int rc),
                  void *ud)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", v[i].name ? v[i].name : "", "domain",
                              v[i].domain ? v[i].domain : "", "path", v[i].path ? v[i].path : "", "value",
                              v[i].value ? v[i].value : "", "expirationDate", (json_int_t)v[i].expires);
        if (json_array_append_new(list, o) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    char *dump = list ? json_dumps(list, JSON_COMPACT) : NULL;
    struct set_job *j = dump ? calloc(1, sizeof *j) : NULL;
    int rc = -ENOMEM;
    if (j) {
        *j = (struct set_job){s, list, cb, ud};
        rc = s->store ? store_kv_put(s->store, NS_COOKIES, KEY_COOKIES, dump, on_committed, j) : -EIO;
    }
    free(dump);
    if (rc != 0) {
        log_msg(LOG_WARNING, "cookies could not be saved: %s", strerror(-rc));
        json_decref(list);
        free(j);
    }
    return rc;
}

size_t cookiejar_count(const struct session *s)
{
    return s->cookies ? json_array_size(s->cookies->list) : 0;
}

struct cookiejar_cookie cookiejar_get(const struct session *s, size_t i)
{
    const json_t *c = s->cookies ? json_array_get(s->cookies->list, i) : NULL;
    const json_t *e = json_object_get(c, "expirationDate");
    return (struct cookiejar_cookie){str_or_empty(c, "name"), str_or_empty(c, "domain"), str_or_empty(c, "path"),
                                     str_or_empty(c, "value"), json_is_integer(e) ? json_integer_value(e) : -1};
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
