/* cookiejar — the cookies sent with .torrent downloads (qBittorrent's
 * app/setCookies), kept in the store's kv namespace "cookies" (key "list",
 * a JSON array of {name, domain, path, value, expirationDate}) and in
 * memory; memory follows the commit.
 */
#ifndef TD_CORE_COOKIEJAR_H
#define TD_CORE_COOKIEJAR_H

#include <stddef.h>
#include <stdint.h>

struct session;

struct cookiejar_cookie {
    const char *name, *domain, *path, *value;
    int64_t expires;             /* epoch s; -1 = a session cookie */
};

/* Loads the stored list, dropping session cookies and expired ones (as
 * qBittorrent does at startup).  0 or -ENOMEM. */
int cookiejar_load(struct session *s);
void cookiejar_free(struct session *s);

/* Replaces the list; cb(ud, rc) after the commit (memory changes only then).
 * 0 (cb will run) or a negative errno (cb will not). */
int cookiejar_set(struct session *s, const struct cookiejar_cookie *v, size_t n, void (*cb)(void *ud, int rc),
                  void *ud);

size_t cookiejar_count(const struct session *s);
/* The i-th cookie (valid until the next cookiejar_set commits). */
struct cookiejar_cookie cookiejar_get(const struct session *s, size_t i);

/* The cookies as Netscape cookie lines (util/fetch.h); *out is a malloc'd
 * array of malloc'd strings. */
size_t cookiejar_lines(struct session *s, char ***out);

#endif
