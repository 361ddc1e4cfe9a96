/* strv — see strv.h. */
#include "util/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int strv_push(struct strv *l, const char *s)
{
    char *d = strdup(s);
    char **v = d ? realloc(l->v, (l->n + 1) * sizeof *v) : NULL;
    if (!v) {
        free(d);
        return -ENOMEM;
    }
    v[l->n++] = d;
    l->v = v;
    return 0;
}

ssize_t strv_find(const struct strv *l, const char *s, bool nocase)
{
    for (size_t i = 0; i < l->n; i++) {
        if ((nocase ? strcasecmp(l->v[i], s) : strcmp(l->v[i], s)) == 0)
            return (ssize_t)i;
    }
    return -1;
}

void strv_remove(struct strv *l, size_t i)
{
    free(l->v[i]);
    memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
    l->n--;
}

bool strv_equal(const struct strv *a, const struct strv *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    }
    return true;
}

int strv_assign(struct strv *dst, const char *const *v, size_t n)
{
    struct strv tmp = {0};
    for (size_t i = 0; i < n; i++) {
        if (strv_push(&tmp, v[i]) != 0) {
            strv_clear(&tmp);
            return -ENOMEM;
        }
    }
    strv_clear(dst);
    *dst = tmp;
    return 0;
}

void strv_clear(struct strv *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
