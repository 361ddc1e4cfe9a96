/* core/catalog — categories and tags (see catalog.h). */
#include "core/catalog.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/record.h"
#include "store/store.h"
#include "util/log.h"
#include "util/natcmp.h"
#include "util/path.h"

#define NS_CATEGORY "category"
#define NS_TAG "tag"

/* ---- commit fan-in: one callback after all rows of a mutation ---- */

struct job {
    catalog_done_cb cb;
    void *ud;
    size_t pending;   /* rows in flight + 1 while enqueueing */
    int rc;
};

static void job_done(void *ud, int rc)
{
    struct job *j = ud;
    if (rc != 0 && j->rc == 0)
        j->rc = rc;
    if (--j->pending)
        return;
    if (j->rc != 0)
        log_msg(LOG_WARNING, "Could not save categories/tags (%d)", j->rc);
    if (j->cb)
        j->cb(j->ud, j->rc);
    free(j);
}

/* NULL cb and no memory: the rows are still written, nobody is told. */
static struct job *job_new(catalog_done_cb cb, void *ud)
{
    struct job *j = calloc(1, sizeof(*j));
    if (j) {
        j->cb = cb;
        j->ud = ud;
        j->pending = 1;
    }
    return j;
}

static void job_put(struct catalog *c, struct job *j, const char *ns, const char *key, const char *value)
{
    if (!c->store)
        return;
    int rc;
    if (j) {
        j->pending++;
        rc = store_kv_put(c->store, ns, key, value, job_done, j);
        if (rc != 0) {
            j->pending--;
            if (j->rc == 0)
                j->rc = rc;
        }
    } else {
        rc = store_kv_put(c->store, ns, key, value, NULL, NULL);
    }
    if (rc != 0)
        log_msg(LOG_WARNING, "Could not save %s \"%s\" (%d)", ns, key, rc);
}

static void job_finish(struct job *j)
{
    if (j)
        job_done(j, 0);
}

/* ---- lifecycle ---- */

int catalog_new(struct store *st, struct catalog **out)
{
    struct catalog *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->store = st;
    *out = c;
    return 0;
}

static void cat_clear(struct catalog_category *k)
{
    free(k->name);
    free(k->save_path);
    free(k->download_path);
}

void catalog_free(struct catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->num_cats; i++)
        cat_clear(&c->cats[i]);
    for (size_t i = 0; i < c->num_tags; i++)
        free(c->tags[i].name);
    for (size_t i = 0; i < CATALOG_REMOVED_RING; i++)
        free(c->removed[i].name);
    free(c->cats);
    free(c->tags);
    free(c);
}

static void note_removed(struct catalog *c, const char *name, bool is_tag, uint64_t seq)
{
    /* An older removal of the same name is covered by this one: drop it so
     * a client is told once. */
    for (size_t i = 0; i < CATALOG_REMOVED_RING; i++) {
        struct catalog_removed *o = &c->removed[i];
        if (o->name && o->is_tag == is_tag && strcmp(o->name, name) == 0) {
            free(o->name);
            o->name = NULL;
        }
    }
    struct catalog_removed *r = &c->removed[c->removed_next];
    if (r->name && r->seq > c->removed_floor)
        c->removed_floor = r->seq;   /* the oldest known removal falls out */
    free(r->name);
    r->name = strdup(name);
    r->seq = seq;
    r->is_tag = is_tag;
    if (!r->name)   /* forgetting a removal: clients must get a full update */
        c->removed_floor = seq;
    c->removed_next = (c->removed_next + 1) % CATALOG_REMOVED_RING;
}

/* ---- names and order ---- */


/* Tags are one set case-insensitively; the natural order decides position. */
static int tag_cmp(const char *a, const char *b)
{
    if (strcasecmp(a, b) == 0)
        return 0;
    int d = natcmp(a, b);
    return d ? d : strcasecmp(a, b);
}

bool catalog_category_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > CATALOG_MAX_NAME || name[0] == '/' || name[n - 1] == '/')
        return false;
    return !strchr(name, '\\') && !strstr(name, "//");
}

/* Trimmed copy of a tag (spaces, tabs, newlines like QString::trimmed). */
static char *tag_trim(const char *tag)
{
    while (isspace((unsigned char)*tag))
        tag++;
    size_t n = strlen(tag);
    while (n && isspace((unsigned char)tag[n - 1]))
        n--;
    return strndup(tag, n);
}

bool catalog_tag_valid(const char *tag)
{
    if (!tag)
        return false;
    char *t = tag_trim(tag);
    bool ok = t && *t && strlen(t) <= CATALOG_MAX_NAME && !strchr(t, ',');
    free(t);
    return ok;
}

/* Binary search over an array of structs sorted by their leading name
 * (both catalog_category and catalog_tag start with `char *name`);
 * returns the index, or -1 with *pos = the insertion point. */
static ptrdiff_t name_search(const void *base, size_t n, size_t stride, const char *name,
                             int (*cmp)(const char *, const char *), size_t *pos)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = cmp(*(char *const *)((const char *)base + mid * stride), name);
        if (d == 0) {
            if (pos)
                *pos = mid;
            return (ptrdiff_t)mid;
        }
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos)
        *pos = lo;
    return -1;
}

static struct catalog_category *cat_lookup(const struct catalog *c, const char *name, size_t *pos)
{
    ptrdiff_t i = name_search(c->cats, c->num_cats, sizeof(*c->cats), name, strcmp, pos);
    return i < 0 ? NULL : &c->cats[i];
}

static struct catalog_tag *tag_lookup(const struct catalog *c, const char *tag, size_t *pos)
{
    ptrdiff_t i = name_search(c->tags, c->num_tags, sizeof(*c->tags), tag, tag_cmp, pos);
    return i < 0 ? NULL : &c->tags[i];
}

const struct catalog_category *catalog_category_find(const struct catalog *c, const char *name)
{
    return name ? cat_lookup(c, name, NULL) : NULL;
}

const char *catalog_tag_find(const struct catalog *c, const char *tag)
{
    char *t = tag ? tag_trim(tag) : NULL;
    const struct catalog_tag *k = t ? tag_lookup(c, t, NULL) : NULL;
    free(t);
    return k ? k->name : NULL;
}

/* ---- categories ---- */

static char *cat_value(const struct catalog_category *k)
{
    struct record_category r = {
        .save_path = k->save_path,
        .dl_mode = k->dl_mode == CATALOG_DL_ON ? RECORD_DL_ON : k->dl_mode == CATALOG_DL_OFF ? RECORD_DL_OFF
                                                                                           : RECORD_DL_DEFAULT,
        .download_path = k->download_path,
    };
    char *s = NULL;
    return record_category_encode(&r, &s) == 0 ? s : NULL;
}

static void cat_save(struct catalog *c, struct job *j, const struct catalog_category *k)
{
    char *v = cat_value(k);
    if (!v) {
        if (j && j->rc == 0)
            j->rc = -ENOMEM;
        return;
    }
    job_put(c, j, NS_CATEGORY, k->name, v);
    free(v);
}

static int opts_check(const struct catalog_category_opts *o)
{
    if (o && o->save_path && strlen(o->save_path) > CATALOG_MAX_PATH)
        return -EINVAL;
    if (o && o->download_path && strlen(o->download_path) > CATALOG_MAX_PATH)
        return -EINVAL;
    if (o && (o->dl_mode < CATALOG_DL_DEFAULT || o->dl_mode > CATALOG_DL_ON))
        return -EINVAL;
    return 0;
}

/* Fills k from o (k->name untouched).  0 or -ENOMEM (k unchanged then). */
static int cat_set_opts(struct catalog_category *k, const struct catalog_category_opts *o)
{
    const char *sp = o && o->save_path ? o->save_path : "";
    enum catalog_dl_mode mode = o ? o->dl_mode : CATALOG_DL_DEFAULT;
    const char *dp = mode == CATALOG_DL_ON && o->download_path ? o->download_path : "";
    char *nsp = strdup(sp), *ndp = strdup(dp);
    if (!nsp || !ndp) {
        free(nsp);
        free(ndp);
        return -ENOMEM;
    }
    free(k->save_path);
    free(k->download_path);
    k->save_path = nsp;
    k->download_path = ndp;
    k->dl_mode = mode;
    return 0;
}

/* Inserts a category in memory at its sorted place; returns it or NULL. */
static struct catalog_category *cat_insert(struct catalog *c, const char *name,
                                           const struct catalog_category_opts *o)
{
    size_t pos;
    if (cat_lookup(c, name, &pos) || c->num_cats >= CATALOG_MAX_CATEGORIES)
        return NULL;
    if (c->num_cats == c->cap_cats) {
        size_t nc = c->cap_cats ? c->cap_cats * 2 : 8;
        struct catalog_category *v = realloc(c->cats, nc * sizeof(*v));
        if (!v)
            return NULL;
        c->cats = v;
        c->cap_cats = nc;
    }
    struct catalog_category k = {0};
    k.name = strdup(name);
    if (!k.name || cat_set_opts(&k, o) != 0) {
        cat_clear(&k);
        return NULL;
    }
    memmove(&c->cats[pos + 1], &c->cats[pos], (c->num_cats - pos) * sizeof(*c->cats));
    c->cats[pos] = k;
    c->num_cats++;
    c->cats[pos].seq = ++c->seq;
    return &c->cats[pos];
}

/* Parents of name that are missing ("a/b/c" → "a", "a/b"). */
static size_t missing_parents(const struct catalog *c, const char *name)
{
    size_t n = 0;
    for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/')) {
        char *parent = strndup(name, (size_t)(p - name));
        if (parent && !cat_lookup(c, parent, NULL))
            n++;
        free(parent);
    }
    return n;
}

int catalog_category_add(struct catalog *c, const char *name, const struct catalog_category_opts *o,
                         bool subcategories, catalog_done_cb cb, void *ud)
{
    if (!catalog_category_name_valid(name) || opts_check(o) != 0)
        return -EINVAL;
    if (cat_lookup(c, name, NULL))
        return -EEXIST;
    size_t need = 1 + (subcategories ? missing_parents(c, name) : 0);
    if (c->num_cats + need > CATALOG_MAX_CATEGORIES)
        return -ENOSPC;
    struct job *j = job_new(cb, ud);
    if (!j)
        return -ENOMEM;
    int rc = 0;
    if (subcategories) {
        for (const char *p = strchr(name, '/'); p && rc == 0; p = strchr(p + 1, '/')) {
            char *parent = strndup(name, (size_t)(p - name));
            if (!parent) {
                rc = -ENOMEM;
            } else if (!cat_lookup(c, parent, NULL)) {
                struct catalog_category *k = cat_insert(c, parent, NULL);
                if (k)
                    cat_save(c, j, k);
                else
                    rc = -ENOMEM;
            }
            free(parent);
        }
    }
    struct catalog_category *k = rc == 0 ? cat_insert(c, name, o) : NULL;
    if (!k) {
        /* Parents made so far stay (they are valid and saved). */
        job_finish(j);
        return rc ? rc : -ENOMEM;
    }
    cat_save(c, j, k);
    log_debug("catalog: category \"%s\" created", name);
    job_finish(j);
    return 0;
}

int catalog_category_edit(struct catalog *c, const char *name, const struct catalog_category_opts *o,
                          catalog_done_cb cb, void *ud)
{
    if (!name || opts_check(o) != 0)
        return -EINVAL;
    struct catalog_category *k = cat_lookup(c, name, NULL);
    if (!k)
        return -ENOENT;
    struct job *j = job_new(cb, ud);
    if (!j || cat_set_opts(k, o) != 0) {
        free(j);
        return -ENOMEM;
    }
    k->seq = ++c->seq;
    cat_save(c, j, k);
    job_finish(j);
    return 0;
}

bool catalog_category_covers(const char *removed, const char *have, bool subcategories)
{
    if (!removed || !have || !*removed)
        return false;
    if (strcmp(removed, have) == 0)
        return true;
    size_t n = strlen(removed);
    return subcategories && strncmp(removed, have, n) == 0 && have[n] == '/';
}

int catalog_category_remove(struct catalog *c, const char *name, bool subcategories,
                            catalog_done_cb cb, void *ud)
{
    if (!name || !*name)
        return -ENOENT;
    struct job *j = job_new(cb, ud);
    if (!j)
        return -ENOMEM;
    size_t w = 0, removed = 0;
    uint64_t seq = c->seq + 1;
    for (size_t i = 0; i < c->num_cats; i++) {
        struct catalog_category *k = &c->cats[i];
        if (catalog_category_covers(name, k->name, subcategories)) {
            job_put(c, j, NS_CATEGORY, k->name, NULL);
            note_removed(c, k->name, false, seq);
            cat_clear(k);
            removed++;
        } else {
            c->cats[w++] = *k;
        }
    }
    c->num_cats = w;
    if (!removed) {
        free(j);
        return -ENOENT;
    }
    c->seq = seq;
    job_finish(j);
    return 0;
}

int catalog_category_ensure(struct catalog *c, const char *name, bool subcategories)
{
    if (!name || !*name || cat_lookup(c, name, NULL))
        return 0;
    int rc = catalog_category_add(c, name, NULL, subcategories, NULL, NULL);
    if (rc != 0)
        log_msg(LOG_WARNING, "Cannot create category \"%s\" (%d)", name, rc);
    return rc == -EEXIST ? 0 : rc;
}

/* default_path joined with rel whose components are sanitized ("" / "." /
 * ".." dropped): nothing under a category can escape the default path. */
static char *join_safe(const char *base, const char *rel)
{
    size_t cap = strlen(base) + 2 * strlen(rel) + 2;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t n = (size_t)snprintf(out, cap, "%s", base);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = 0;
    for (const char *p = rel; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        int dropped = 0;
        char *comp = path_sanitize_component(p, len, &dropped);
        if (!comp && !dropped) {
            free(out);
            return NULL;
        }
        if (comp) {
            size_t cl = strlen(comp);
            if (n + cl + 2 > cap) {
                char *bigger = realloc(out, n + cl + 2);
                if (!bigger) {
                    free(comp);
                    free(out);
                    return NULL;
                }
                out = bigger;
                cap = n + cl + 2;
            }
            if (n == 0 || out[n - 1] != '/')
                out[n++] = '/';
            memcpy(out + n, comp, cl);
            n += cl;
            out[n] = 0;
            free(comp);
        }
        if (!slash)
            break;
        p = slash + 1;
    }
    return out;
}

char *catalog_category_save_path(const struct catalog *c, const char *name, const char *default_path,
                                 bool subcategories)
{
    const struct catalog_category *k = name && *name ? cat_lookup(c, name, NULL) : NULL;
    if (!k)
        return join_safe(default_path, "");
    if (k->save_path[0] == '/')
        return join_safe(k->save_path, "");
    if (k->save_path[0])
        return join_safe(default_path, k->save_path);
    const char *slash = subcategories ? strrchr(name, '/') : NULL;
    if (!slash)
        return join_safe(default_path, name);
    /* Implicit path of a subcategory: its last component under the parent's path. */
    char *parent = strndup(name, (size_t)(slash - name));
    char *base = parent ? catalog_category_save_path(c, parent, default_path, true) : NULL;
    char *out = base ? join_safe(base, slash + 1) : NULL;
    free(parent);
    free(base);
    return out;
}

/* ---- tags ---- */

static struct catalog_tag *tag_insert(struct catalog *c, const char *t)
{
    size_t pos;
    if (tag_lookup(c, t, &pos) || c->num_tags >= CATALOG_MAX_TAGS)
        return NULL;
    if (c->num_tags == c->cap_tags) {
        size_t nc = c->cap_tags ? c->cap_tags * 2 : 16;
        struct catalog_tag *v = realloc(c->tags, nc * sizeof(*v));
        if (!v)
            return NULL;
        c->tags = v;
        c->cap_tags = nc;
    }
    char *name = strdup(t);
    if (!name)
        return NULL;
    memmove(&c->tags[pos + 1], &c->tags[pos], (c->num_tags - pos) * sizeof(*c->tags));
    c->tags[pos] = (struct catalog_tag){name, ++c->seq};
    c->num_tags++;
    return &c->tags[pos];
}

int catalog_tag_add(struct catalog *c, const char *tag, catalog_done_cb cb, void *ud)
{
    if (!catalog_tag_valid(tag))
        return -EINVAL;
    char *t = tag_trim(tag);
    if (!t)
        return -ENOMEM;
    int rc = 0;
    struct job *j = NULL;
    if (tag_lookup(c, t, NULL))
        rc = -EEXIST;
    else if (c->num_tags >= CATALOG_MAX_TAGS)
        rc = -ENOSPC;
    else if (!(j = job_new(cb, ud)) || !tag_insert(c, t))
        rc = -ENOMEM;
    if (rc == 0) {
        job_put(c, j, NS_TAG, t, "{}");
        job_finish(j);
    } else {
        free(j);
    }
    free(t);
    return rc;
}

int catalog_tag_remove(struct catalog *c, const char *tag, catalog_done_cb cb, void *ud)
{
    char *t = tag ? tag_trim(tag) : NULL;
    size_t pos;
    struct catalog_tag *k = t ? tag_lookup(c, t, &pos) : NULL;
    free(t);
    if (!k)
        return -ENOENT;
    struct job *j = job_new(cb, ud);
    if (!j)
        return -ENOMEM;
    c->seq++;
    job_put(c, j, NS_TAG, k->name, NULL);
    note_removed(c, k->name, true, c->seq);
    free(k->name);
    memmove(&c->tags[pos], &c->tags[pos + 1], (c->num_tags - pos - 1) * sizeof(*c->tags));
    c->num_tags--;
    job_finish(j);
    return 0;
}

const char *catalog_tag_ensure(struct catalog *c, const char *tag)
{
    const char *have = catalog_tag_find(c, tag);
    if (have)
        return have;
    if (!catalog_tag_valid(tag))
        return NULL;
    int rc = catalog_tag_add(c, tag, NULL, NULL);
    if (rc != 0) {
        log_msg(LOG_WARNING, "Cannot create tag \"%s\" (%d)", tag, rc);
        return NULL;
    }
    return catalog_tag_find(c, tag);
}

int catalog_prepare_add(struct catalog *c, char **category, char **tags, bool subcategories)
{
    if (*category && catalog_category_ensure(c, *category, subcategories) != 0) {
        char *none = strdup("");
        if (!none)
            return -ENOMEM;
        free(*category);
        *category = none;
    }
    if (!*tags)
        return 0;
    size_t cap = strlen(*tags) + 1;
    char *out = malloc(cap), *save = NULL, *dup = strdup(*tags);
    if (!out || !dup) {
        free(out);
        free(dup);
        return -ENOMEM;
    }
    size_t n = 0;
    out[0] = 0;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const char *name = catalog_tag_ensure(c, tok);
        size_t len = name ? strlen(name) : 0;
        /* A stored spelling is never longer than the trimmed token. */
        if (!name || n + (n ? 1 : 0) + len + 1 > cap)
            continue;
        if (n)
            out[n++] = ',';
        memcpy(out + n, name, len + 1);
        n += len;
    }
    free(dup);
    free(*tags);
    *tags = out;
    return 0;
}

/* ---- loading ---- */

static int load_cat(void *ud, const char *key, const char *value)
{
    struct catalog *c = ud;
    struct record_category r;
    int rc = record_category_decode(value, &r);
    struct catalog_category_opts opts = {
        .save_path = r.save_path,
        .dl_mode = r.dl_mode == RECORD_DL_ON ? CATALOG_DL_ON : r.dl_mode == RECORD_DL_OFF ? CATALOG_DL_OFF
                                                                                        : CATALOG_DL_DEFAULT,
        .download_path = r.download_path,
    };
    if (rc != 0 || !catalog_category_name_valid(key) || opts_check(&opts) != 0)
        log_msg(LOG_WARNING, "Ignoring a bad stored category \"%s\"", key);
    else if (!cat_insert(c, key, &opts))
        log_msg(LOG_WARNING, "Cannot load category \"%s\"", key);
    record_category_clear(&r);
    return 0;
}

static int load_tag(void *ud, const char *key, const char *value)
{
    struct catalog *c = ud;
    (void)value;
    char *t = catalog_tag_valid(key) ? tag_trim(key) : NULL;
    if (!t || !tag_insert(c, t))
        log_msg(LOG_WARNING, "Ignoring stored tag \"%s\"", key);
    free(t);
    return 0;
}

int catalog_load(struct catalog *c)
{
    if (!c->store)
        return 0;
    int rc = store_load_kv(c->store, NS_CATEGORY, load_cat, c);
    if (rc == 0)
        rc = store_load_kv(c->store, NS_TAG, load_tag, c);
    if (rc != 0)
        log_msg(LOG_WARNING, "Cannot load categories and tags (%d)", rc);
    return rc;
}

/* ---- change tracking ---- */

uint64_t catalog_changed_since(const struct catalog *c, uint64_t seq,
                               void (*fn)(const struct catalog_category *cat, void *ud), void *ud)
{
    for (size_t i = 0; i < c->num_cats; i++)
        if (c->cats[i].seq > seq)
            fn(&c->cats[i], ud);
    return c->seq;
}

uint64_t catalog_tags_changed_since(const struct catalog *c, uint64_t seq,
                                    void (*fn)(const char *tag, void *ud), void *ud)
{
    for (size_t i = 0; i < c->num_tags; i++)
        if (c->tags[i].seq > seq)
            fn(c->tags[i].name, ud);
    return c->seq;
}

static int removed_since(const struct catalog *c, uint64_t seq, bool tags, void (*fn)(const char *, void *),
                         void *ud)
{
    if (seq < c->removed_floor)
        return -ERANGE;
    /* Oldest first: walk the ring from the next slot to overwrite. */
    for (size_t i = 0; i < CATALOG_REMOVED_RING; i++) {
        const struct catalog_removed *r = &c->removed[(c->removed_next + i) % CATALOG_REMOVED_RING];
        if (!r->name || r->seq <= seq || r->is_tag != tags)
            continue;
        bool exists = tags ? tag_lookup(c, r->name, NULL) != NULL : cat_lookup(c, r->name, NULL) != NULL;
        if (!exists)
            fn(r->name, ud);
    }
    return 0;
}

int catalog_removed_since(const struct catalog *c, uint64_t seq, void (*fn)(const char *name, void *ud),
                          void *ud)
{
    return removed_since(c, seq, false, fn, ud);
}

int catalog_tags_removed_since(const struct catalog *c, uint64_t seq, void (*fn)(const char *tag, void *ud),
                               void *ud)
{
    return removed_since(c, seq, true, fn, ud);
}
