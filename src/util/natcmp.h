/* natcmp — "natural" order as qBittorrent sorts names and tags: letters
 * case-insensitively, digit runs by numeric value ("ep2" < "ep10").
 * Returns <0, 0 or >0; ties between differently cased strings are 0, so
 * callers that need a total order add their own tie-break. */
#ifndef TD_UTIL_NATCMP_H
#define TD_UTIL_NATCMP_H

#include <stddef.h>
#include <string.h>

int natcmp_n(const char *a, size_t an, const char *b, size_t bn);

static inline int natcmp(const char *a, const char *b) { return natcmp_n(a, strlen(a), b, strlen(b)); }

#endif
