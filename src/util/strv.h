/* strv — a growable array of owned strings, in insertion order: a torrent's
 * tags, a magnet's web seeds.  Small lists, linear lookups.
 *
 * A zeroed struct strv is an empty list.  Functions return 0 or -ENOMEM;
 * on failure the list is unchanged.
 */
#ifndef TD_UTIL_STRV_H
#define TD_UTIL_STRV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct strv {
    char **v;
    size_t n;
};

/* Appends a copy of s. */
int strv_push(struct strv *l, const char *s);
/* Index of s (strcasecmp when nocase), or -1. */
ssize_t strv_find(const struct strv *l, const char *s, bool nocase);
/* Removes the i-th string (i < n), keeping the order of the rest. */
void strv_remove(struct strv *l, size_t i);
/* Same strings in the same order. */
bool strv_equal(const struct strv *a, const struct strv *b);
/* Replaces *dst with copies of v[0..n). */
int strv_assign(struct strv *dst, const char *const *v, size_t n);
/* Frees every string and the array; the list is empty after. */
void strv_clear(struct strv *l);

#endif
