/* service — changing torrents and the categories and tags under them
 * (service.h).  Automatic torrent management is decided here and only
 * here: see relocate() and its callers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/catalog.h"
#include "core/service.h"
#include "core/session.h"
#include "core/ssltorrent.h"
#include "core/torrent.h"
#include "store/store.h"
#include "util/log.h"

static bool subcats(struct session *s) { return settings_bool(&s->settings, SET_USE_SUBCATEGORIES); }

/* Persists t's settings; cb after the commit. */
static int save(struct torrent *t, service_done_cb cb, void *ud)
{
    return torrent_settings_changed(t, cb, ud);
}

/* Nothing to commit: the answer is "done" at once. */
static int unchanged(service_done_cb cb, void *ud)
{
    if (cb)
        cb(ud, 0);
    return 0;
}

/* Waits for several commits and reports once, with the first error. */
struct join {
    size_t pending;    /* commits in flight + 1 while being filled */
    int rc;
    service_done_cb cb;
    void *ud;
};

static struct join *join_new(service_done_cb cb, void *ud)
{
    struct join *j = calloc(1, sizeof *j);
    if (j)
        *j = (struct join){1, 0, cb, ud};
    return j;
}

static void join_done(void *ud, int rc)
{
    struct join *j = ud;
    if (rc != 0 && j->rc == 0)
        j->rc = rc;
    if (--j->pending == 0) {
        if (j->cb)
            j->cb(j->ud, j->rc);
        free(j);
    }
}

static void join_save(struct join *j, struct torrent *t)
{
    j->pending++;
    if (save(t, join_done, j) != 0)
        j->pending--;
}

/* ---- automatic torrent management ---- */

static void move_to(struct torrent *t, const char *path)
{
    int rc = torrent_set_location(t, path, NULL, NULL);
    if (rc != 0)
        log_msg(LOG_WARNING, "'%s': cannot move to %s: %s", torrent_name(t), path, strerror(-rc));
}

/* An automatically managed torrent lives where its category says. */
static void relocate(struct session *s, struct torrent *t)
{
    char *path = catalog_category_save_path(s->catalog, t->category, session_default_save_path(s), subcats(s));
    if (path && strcmp(path, t->save_path) != 0)
        move_to(t, path);
    free(path);
}

/* qBittorrent's Torrent::setCategory: an automatically managed torrent
 * follows its new category's path, or becomes manual when the preference
 * torrent_changed_tmm_enabled is off.  1 changed, 0 the same, -ENOMEM. */
static int apply_category(struct session *s, struct torrent *t, const char *cat)
{
    if (strcmp(t->category ? t->category : "", cat) == 0)
        return 0;
    char *dup = strdup(cat);
    if (!dup)
        return -ENOMEM;
    free(t->category);
    t->category = dup;
    if (t->auto_tmm) {
        if (settings_bool(&s->settings, SET_TORRENT_CHANGED_TMM_ENABLED))
            relocate(s, t);
        else
            t->auto_tmm = false;
    }
    return 1;
}

void service_default_path_changed(struct session *s)
{
    bool follow = settings_bool(&s->settings, SET_SAVE_PATH_CHANGED_TMM_ENABLED);
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        if (t->removing || !t->auto_tmm)
            continue;
        char *path = catalog_category_save_path(s->catalog, t->category, session_default_save_path(s), subcats(s));
        if (path && strcmp(path, t->save_path) != 0) {
            if (follow) {
                move_to(t, path);
            } else {
                /* It stays where it is, now managed by hand. */
                t->auto_tmm = false;
                save(t, NULL, NULL);
            }
        }
        free(path);
    }
}

int service_set_category(struct session *s, struct torrent *t, const char *category, service_done_cb cb, void *ud)
{
    if (*category && !catalog_category_find(s->catalog, category))
        return -ENOENT;
    int rc = apply_category(s, t, category);
    return rc < 0 ? rc : rc == 0 ? unchanged(cb, ud) : save(t, cb, ud);
}

int service_set_auto_tmm(struct session *s, struct torrent *t, bool enable, service_done_cb cb, void *ud)
{
    if (t->auto_tmm == enable)
        return unchanged(cb, ud);
    t->auto_tmm = enable;
    if (enable)
        relocate(s, t);
    return save(t, cb, ud);
}

struct category_add {
    struct session *s;
    service_done_cb cb;
    void *ud;
    char name[];
};

static void on_category_added(void *ud, int rc)
{
    struct category_add *a = ud;
    if (rc != 0) {
        log_msg(LOG_WARNING, "Category '%s' could not be saved: %s", a->name, strerror(-rc));
        catalog_category_remove(a->s->catalog, a->name, false, NULL, NULL);
    }
    if (a->cb)
        a->cb(a->ud, rc);
    free(a);
}

int service_category_create(struct session *s, const char *name, const struct catalog_category_opts *o,
                            service_done_cb cb, void *ud)
{
    size_t n = name ? strlen(name) : 0;
    struct category_add *a = malloc(sizeof *a + n + 1);
    if (!a)
        return -ENOMEM;
    *a = (struct category_add){s, cb, ud};
    memcpy(a->name, name ? name : "", n + 1);
    /* A new category has no torrents yet: nothing of them to move. */
    int rc = catalog_category_add(s->catalog, name, o, subcats(s), on_category_added, a);
    if (rc != 0)
        free(a);
    return rc;
}

int service_category_edit(struct session *s, const char *name, const struct catalog_category_opts *o,
                          service_done_cb cb, void *ud)
{
    struct join *j = join_new(cb, ud);
    if (!j)
        return -ENOMEM;
    j->pending++;
    int rc = catalog_category_edit(s->catalog, name, o, join_done, j);
    if (rc != 0) {
        free(j);
        return rc;
    }
    /* Its automatically managed torrents move along, or become manual
     * (category_changed_tmm_enabled off, qBittorrent's default). */
    bool follow = settings_bool(&s->settings, SET_CATEGORY_CHANGED_TMM_ENABLED);
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        if (t->removing || !t->auto_tmm || strcmp(t->category ? t->category : "", name) != 0)
            continue;
        if (follow) {
            relocate(s, t);
        } else {
            t->auto_tmm = false;
            join_save(j, t);
        }
    }
    join_done(j, 0);
    return 0;
}

int service_category_remove(struct session *s, const char *name, service_done_cb cb, void *ud)
{
    bool sub = subcats(s);
    struct join *j = join_new(cb, ud);
    if (!j)
        return -ENOMEM;
    j->pending++;
    int rc = catalog_category_remove(s->catalog, name, sub, join_done, j);
    if (rc != 0) {
        free(j);
        return rc;
    }
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        if (!t->removing && catalog_category_covers(name, t->category, sub) && apply_category(s, t, "") > 0)
            join_save(j, t);
    }
    join_done(j, 0);
    return 0;
}

/* ---- locations ---- */

int service_set_location(struct session *s, struct torrent *t, const char *path, service_done_cb cb, void *ud)
{
    (void)s;
    t->auto_tmm = false;
    move_to(t, path);
    return save(t, cb, ud);
}

int service_set_save_path(struct session *s, struct torrent *t, const char *path)
{
    (void)s;
    if (t->auto_tmm)
        return -EPERM;
    int rc = torrent_set_location(t, path, NULL, NULL);
    if (rc != 0)
        log_msg(LOG_WARNING, "'%s': cannot move to %s: %s", torrent_name(t), path, strerror(-rc));
    return rc;
}

int service_set_download_path(struct session *s, struct torrent *t, const char *path)
{
    (void)s;
    if (t->auto_tmm)
        return -EPERM;
    return torrent_set_download_path(t, path);
}

/* ---- tags ---- */

/* Index of tag in t's tags (case-insensitive, like the tag set), or -1. */
static ssize_t tag_index(const struct torrent *t, const char *tag)
{
    return strv_find(&t->tags, tag, true);
}

/* Adds a tag (created in the catalog if unknown); true if t changed. */
static bool add_tag(struct session *s, struct torrent *t, const char *tag)
{
    const char *name = catalog_tag_ensure(s->catalog, tag);
    if (!name || tag_index(t, name) >= 0)
        return false;
    return strv_push(&t->tags, name) == 0;
}

static bool remove_tag(struct torrent *t, const char *tag)
{
    char buf[CATALOG_MAX_NAME + 1];
    const char *b = tag, *e = tag + strlen(tag);
    while (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        e--;
    if (e - b > CATALOG_MAX_NAME)
        return false;
    memcpy(buf, b, (size_t)(e - b));
    buf[e - b] = 0;
    ssize_t i = tag_index(t, buf);
    if (i < 0)
        return false;
    strv_remove(&t->tags, (size_t)i);
    return true;
}

int service_add_tags(struct session *s, struct torrent *t, const char *const *tags, size_t n, service_done_cb cb,
                     void *ud)
{
    bool changed = false;
    for (size_t i = 0; i < n; i++)
        changed |= add_tag(s, t, tags[i]);
    return changed ? save(t, cb, ud) : unchanged(cb, ud);
}

int service_remove_tags(struct session *s, struct torrent *t, const char *const *tags, size_t n,
                        service_done_cb cb, void *ud)
{
    (void)s;
    bool changed = false;
    if (n == 0) {
        changed = t->tags.n != 0;
        strv_clear(&t->tags);
    }
    for (size_t i = 0; i < n; i++)
        changed |= remove_tag(t, tags[i]);
    return changed ? save(t, cb, ud) : unchanged(cb, ud);
}

int service_set_tags(struct session *s, struct torrent *t, const char *const *tags, size_t n, service_done_cb cb,
                     void *ud)
{
    /* Build the new set (so "a,A" keeps one), then compare. */
    struct strv old = t->tags;
    t->tags = (struct strv){0};
    for (size_t i = 0; i < n; i++)
        add_tag(s, t, tags[i]);
    bool changed = !strv_equal(&old, &t->tags);
    strv_clear(&old);
    return changed ? save(t, cb, ud) : unchanged(cb, ud);
}

int service_tag_delete(struct session *s, const char *tag, service_done_cb cb, void *ud)
{
    const char *name = catalog_tag_find(s->catalog, tag);
    if (!name)
        return -ENOENT;
    struct join *j = join_new(cb, ud);
    if (!j)
        return -ENOMEM;
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        if (!t->removing && remove_tag(t, name))
            join_save(j, t);
    }
    j->pending++;
    if (catalog_tag_remove(s->catalog, name, join_done, j) != 0)
        j->pending--;
    join_done(j, 0);
    return 0;
}

/* ---- plain settings ---- */

int service_set_name(struct session *s, struct torrent *t, const char *name, service_done_cb cb, void *ud)
{
    (void)s;
    if (!*name)
        return -EINVAL;
    char *v = strdup(name);
    if (!v)
        return -ENOMEM;
    free(t->name);
    t->name = v;
    return save(t, cb, ud);
}

int service_set_rate_limit(struct session *s, struct torrent *t, bool upload, int64_t limit, service_done_cb cb,
                           void *ud)
{
    (void)s;
    if (limit <= 0)
        limit = 0;   /* 0 and -1 both mean unlimited */
    if (upload)
        t->up_limit = limit;
    else
        t->dl_limit = limit;
    return save(t, cb, ud);
}

int service_set_share_limits(struct session *s, struct torrent *t, const struct service_share_limits *l,
                             service_done_cb cb, void *ud)
{
    (void)s;
    t->ratio_limit = l->ratio_limit;
    t->seeding_time_limit = l->seeding_time_limit;
    t->inactive_seeding_time_limit = l->inactive_seeding_time_limit;
    if (l->set_action)
        t->share_limit_action = l->share_limit_action;
    return save(t, cb, ud);
}

int service_set_flag(struct session *s, struct torrent *t, enum service_flag f, int value, service_done_cb cb,
                     void *ud)
{
    (void)s;
    bool *p = f == SERVICE_FLAG_SEQUENTIAL   ? &t->sequential
            : f == SERVICE_FLAG_FIRST_LAST   ? &t->first_last_piece
                                             : &t->super_seeding;
    bool nv = value < 0 ? !*p : value == 1;
    if (nv == *p)
        return unchanged(cb, ud);
    *p = nv;
    return save(t, cb, ud);
}

int service_save(struct session *s, struct torrent *t, service_done_cb cb, void *ud)
{
    (void)s;
    return save(t, cb, ud);
}

int service_set_file_priorities(struct session *s, struct torrent *t, const size_t *idx, size_t n, int prio,
                                service_done_cb cb, void *ud)
{
    if (n == 0)
        return unchanged(cb, ud);
    int rc = torrent_set_file_priorities(t, idx, n, prio);
    if (rc != 0)
        return rc;
    /* torrent_set_file_priorities queued the row: answer once committed. */
    return s->store ? store_flush(s->store, cb, ud) : -EIO;
}

/* ---- SSL parameters ---- */

int service_set_ssl_params(struct session *s, struct torrent *t, const char *cert, const char *key, const char *dh,
                           service_done_cb cb, void *ud)
{
    return ssltorrent_save_params(s, t, cert, key, dh, cb, ud);
}

void service_ssl_params(const struct torrent *t, const char **cert, const char **key, const char **dh)
{
    ssltorrent_params(t, cert, key, dh);
}
