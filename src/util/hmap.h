/* hmap — one hash map for the tree: byte-string keys to pointers.
 *
 * Open addressing with linear probing, at most half full, backward-shift
 * deletion (no tombstones), so a lookup touches a short run of one array.
 * Keys are hashed with SipHash-1-3 under a 128-bit key drawn from
 * getrandom() once per process: the keys we index come from outside (file
 * paths in untrusted .torrent files, info-hashes of added magnets, cookie
 * session ids), and an unkeyed hash would let whoever picks them put them
 * all in one probe run and make every insert linear.
 *
 * The map does not own keys or values: a key's bytes must stay unchanged
 * while it is in the map (callers point into the object the value is).
 * A zeroed struct hmap (HMAP_INIT) is an empty map; a struct copy moves the
 * map.  Not thread-safe: callers lock around it where they share it.
 */
#ifndef TD_UTIL_HMAP_H
#define TD_UTIL_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_ent {
    const void *key;   /* NULL = empty slot */
    size_t klen;
    uint64_t hash;
    void *val;
};

struct hmap {
    struct hmap_ent *e;
    size_t cap;        /* power of two, or 0 before the first insert */
    size_t n;          /* entries in use */
};

#define HMAP_INIT {NULL, 0, 0}

/* The keyed hash of the key bytes (the same for the whole process). */
uint64_t hmap_hash(const void *key, size_t klen);

/* The value stored under key, or NULL. */
void *hmap_get(const struct hmap *m, const void *key, size_t klen);

/* A pointer to the value slot of key, to update it in place; NULL when the
 * key is absent.  Valid until the next hmap_put/hmap_del/hmap_reserve. */
void **hmap_find(const struct hmap *m, const void *key, size_t klen);

/* Maps key to val (val may not be NULL).  A present key gets the new key
 * pointer and value, and its old value goes to *old (when old is not NULL;
 * *old is NULL for a new key).  Returns 0, or -ENOMEM with the map unchanged. */
int hmap_put(struct hmap *m, const void *key, size_t klen, void *val, void **old);

/* Makes room for `more` new keys so that the next `more` puts of new keys
 * cannot fail.  Returns 0 or -ENOMEM. */
int hmap_reserve(struct hmap *m, size_t more);

/* Removes key; returns its value, or NULL when it was absent. */
void *hmap_del(struct hmap *m, const void *key, size_t klen);

/* Iteration in slot order: `for (size_t i = 0; (e = hmap_next(m, &i));)`.
 * The map must not change during the walk. */
struct hmap_ent *hmap_next(const struct hmap *m, size_t *it);

/* Frees the table (not the keys or values) and empties the map. */
void hmap_free(struct hmap *m);

#endif
