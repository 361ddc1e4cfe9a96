/* catalog — the registry of categories and tags.
 *
 * qBittorrent keeps categories and tags as session-wide sets that exist
 * independently of torrents (a category can be empty, a tag unused), and
 * clients rely on that: qbit_manage creates a category when setCategory
 * answers 409, Sonarr creates its category up front.  A torrent refers to
 * them by name only (torrent.category, torrent.tags); this module owns the
 * sets, their validity rules and their persistence.
 *
 * Persistence: one row per item in the store's kv table, namespace
 * "category" (value: JSON {"save_path": str, "download_path": str|false}
 * with download_path absent = use the global default) and namespace "tag"
 * (value "{}").  catalog_load reads them once at startup.  Every mutation
 * updates memory at once and enqueues the rows; cb(ud, rc) runs after the
 * commit so the API can answer only when the change is durable.
 *
 * Change tracking for sync/maindata: every mutation bumps catalog.seq and
 * stamps the item with it; removals go into a bounded ring.  Sets are small
 * (bounded by CATALOG_MAX_*), so "changed since" is a plain walk.
 *
 * Loop thread only, like the rest of the session.
 */
#ifndef TD_CORE_CATALOG_H
#define TD_CORE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define CATALOG_MAX_CATEGORIES 10000
#define CATALOG_MAX_TAGS 10000
#define CATALOG_MAX_NAME 1024        /* bytes of a category name or tag */
#define CATALOG_MAX_PATH 4096
#define CATALOG_REMOVED_RING 1024

/* Per-category incomplete-download path: absent (use the global setting),
 * explicitly disabled, or a path. */
enum catalog_dl_mode {
    CATALOG_DL_DEFAULT = 0,
    CATALOG_DL_OFF,
    CATALOG_DL_ON,
};

struct catalog_category {
    char *name;
    char *save_path;             /* as given; "" = implicit (default path / name) */
    enum catalog_dl_mode dl_mode;
    char *download_path;         /* "" unless CATALOG_DL_ON */
    uint64_t seq;                /* catalog seq of the last change */
};

struct catalog_tag {
    char *name;
    uint64_t seq;
};

struct catalog_removed {
    uint64_t seq;
    bool is_tag;
    char *name;
};

struct catalog {
    struct store *store;         /* borrowed; NULL = memory only (tests) */
    struct catalog_category *cats;   /* sorted by name (bytewise) */
    size_t num_cats, cap_cats;
    struct catalog_tag *tags;        /* natural, case-insensitive order */
    size_t num_tags, cap_tags;
    uint64_t seq;                /* bumped by every change */
    struct catalog_removed removed[CATALOG_REMOVED_RING];
    size_t removed_next;
    uint64_t removed_floor;      /* removals at or below this seq are forgotten */
};

/* Called after the rows of a mutation committed (rc 0) or failed.  Also
 * called when there was nothing to write.  May run before the mutating
 * function returns only when store is NULL. */
typedef void (*catalog_done_cb)(void *ud, int rc);

/* st may be NULL (nothing persisted).  0 or -ENOMEM. */
int catalog_new(struct store *st, struct catalog **out);
/* Reads the kv rows; bad rows are logged and skipped.  0 or a store error. */
int catalog_load(struct catalog *c);
void catalog_free(struct catalog *c);

/* ---- categories ---- */

/* qBittorrent's rule: not empty, no '\', no leading or trailing '/', no "//". */
bool catalog_category_name_valid(const char *name);
const struct catalog_category *catalog_category_find(const struct catalog *c, const char *name);

struct catalog_category_opts {
    const char *save_path;       /* NULL = "" */
    enum catalog_dl_mode dl_mode;
    const char *download_path;   /* used with CATALOG_DL_ON; NULL = "" */
};

/* Creates name; with subcategories also its missing parents ("a/b/c" →
 * "a", "a/b", default options).  -EINVAL (invalid name or option too
 * long), -EEXIST, -ENOSPC (limit), -ENOMEM; cb only on 0. */
int catalog_category_add(struct catalog *c, const char *name, const struct catalog_category_opts *o,
                         bool subcategories, catalog_done_cb cb, void *ud);
/* -ENOENT when name does not exist, -EINVAL, -ENOMEM; cb only on 0. */
int catalog_category_edit(struct catalog *c, const char *name, const struct catalog_category_opts *o,
                          catalog_done_cb cb, void *ud);
/* Removes name, and with subcategories every "name/…" too.  -ENOENT when
 * nothing was removed; cb only on 0.  Torrents are the caller's business. */
int catalog_category_remove(struct catalog *c, const char *name, bool subcategories,
                            catalog_done_cb cb, void *ud);
/* True when a torrent in category `have` falls under a removal of `removed`
 * (equal, or a subcategory of it when subcategories are on). */
bool catalog_category_covers(const char *removed, const char *have, bool subcategories);

/* Where a torrent of this category is saved under automatic management:
 * the category's absolute save path, else default_path joined with a
 * relative save path or with the (sanitized) category name, recursively
 * through the parents when subcategories are on.  "" or an unknown
 * category = default_path.  Malloc'd, NULL on OOM. */
char *catalog_category_save_path(const struct catalog *c, const char *name, const char *default_path,
                                 bool subcategories);

/* torrents/add: a missing category is created (persisted before any row
 * enqueued later, such as the torrent's).  Returns 0, or -EINVAL when the
 * name is invalid (qBittorrent then adds the torrent uncategorised). */
int catalog_category_ensure(struct catalog *c, const char *name, bool subcategories);

/* torrents/add: creates the category and the tags a new torrent names when
 * they are missing, as qBittorrent does.  *category (malloc'd, may be NULL)
 * becomes "" when invalid; *tags (","-separated, malloc'd, may be NULL) is
 * rewritten to the valid tags in their stored spelling, invalid ones
 * dropped.  The rows are queued before the torrent's, so they are committed
 * no later than it.  0 or -ENOMEM. */
int catalog_prepare_add(struct catalog *c, char **category, char **tags, bool subcategories);

/* ---- tags ---- */

/* Tag text is trimmed of spaces first; valid = not empty, no ','. */
bool catalog_tag_valid(const char *tag);
/* The stored spelling of tag (case-insensitive match, after trimming), or NULL. */
const char *catalog_tag_find(const struct catalog *c, const char *tag);
/* -EINVAL, -EEXIST, -ENOSPC, -ENOMEM; cb only on 0. */
int catalog_tag_add(struct catalog *c, const char *tag, catalog_done_cb cb, void *ud);
/* -ENOENT; cb only on 0.  Torrents are the caller's business. */
int catalog_tag_remove(struct catalog *c, const char *tag, catalog_done_cb cb, void *ud);
/* Creates tag if missing (persisted like catalog_category_ensure).  Returns
 * the stored spelling, or NULL when the tag is invalid or on OOM/limit. */
const char *catalog_tag_ensure(struct catalog *c, const char *tag);

/* Natural, case-insensitive order (digit runs compare by value), the order
 * of torrents/tags.  Exposed for the API's sorting of a torrent's tags. */

/* ---- change tracking (sync/maindata) ---- */

/* Calls fn for every category changed (created or edited) after seq, in
 * name order; returns the current catalog seq. */
uint64_t catalog_changed_since(const struct catalog *c, uint64_t seq,
                               void (*fn)(const struct catalog_category *cat, void *ud), void *ud);
/* Calls fn with the name of every category removed after seq that does not
 * exist now (a re-created one shows up as changed instead).  0, or -ERANGE
 * when removals that old are forgotten (send a full update). */
int catalog_removed_since(const struct catalog *c, uint64_t seq, void (*fn)(const char *name, void *ud),
                          void *ud);
uint64_t catalog_tags_changed_since(const struct catalog *c, uint64_t seq,
                                    void (*fn)(const char *tag, void *ud), void *ud);
int catalog_tags_removed_since(const struct catalog *c, uint64_t seq, void (*fn)(const char *tag, void *ud),
                               void *ud);

#endif
