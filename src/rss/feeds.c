/* rss/feeds — the tree, the API calls and the rows (see feeds.h);
 * fetching and merging are feeds_fetch.c's. */
#include "rss/feeds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/session.h"
#include "rss/feeds_int.h"
#include "store/store.h"
#include "util/log.h"

#define NS_TREE "rss"
#define KEY_TREE "feeds"
#define NS_ARTS "rss_articles"

int64_t rss_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void err_set(char *err, size_t errlen, const char *fmt, const char *arg)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, arg);
}

/* ---- commits ---- */

struct rss_op {
    struct rss_feeds *f;
    rss_feeds_done_fn done;
    void *ud;
    void (*after)(void *ud, int rc);
    void *after_ud;
    size_t pending;
    int rc;
    bool finished;
};

struct rss_op *rss_op_new(struct rss_feeds *f, rss_feeds_done_fn done, void *ud)
{
    struct rss_op *o = calloc(1, sizeof *o);
    if (o) {
        o->f = f;
        o->done = done;
        o->ud = ud;
    }
    return o;
}

void rss_op_after(struct rss_op *o, void (*fn)(void *ud, int rc), void *ud)
{
    o->after = fn;
    o->after_ud = ud;
}

static void op_complete(struct rss_op *o)
{
    struct rss_feeds *f = o->f;
    if (o->after)
        o->after(o->after_ud, o->rc);
    if (o->done)
        o->done(o->ud, o->rc);
    free(o);
    rss_feeds_maybe_release(f);
}

static void op_cb(void *ud, int rc)
{
    struct rss_op *o = ud;
    o->f->store_jobs--;
    if (rc && !o->rc) {
        o->rc = rc;
        log_msg(LOG_WARNING, "Couldn't save RSS session data. Error: \"%s\"", strerror(-rc));
    }
    if (--o->pending == 0 && o->finished)
        op_complete(o);
}

void rss_op_put(struct rss_op *o, const char *ns, const char *key, const char *value)
{
    int rc = store_kv_put(o->f->s->store, ns, key, value, op_cb, o);
    if (rc) {
        if (!o->rc)
            o->rc = rc;
        log_msg(LOG_WARNING, "Couldn't save RSS session data. Error: \"%s\"", strerror(-rc));
        return;
    }
    o->pending++;
    o->f->store_jobs++;
}

static json_t *feed_row(const struct rss_node *n)
{
    json_t *arts = json_array();
    for (size_t i = 0; arts && i < n->narts; i++) {
        json_t *a = json_deep_copy(n->arts[i].data);
        if (!a || json_object_set_new(a, "date", json_integer(n->arts[i].date_ms)) ||
            (n->arts[i].date_offset_s && json_object_set_new(a, "dateOffset", json_integer(n->arts[i].date_offset_s))) ||
            json_array_append_new(arts, a)) {
            json_decref(arts);
            return NULL;
        }
    }
    json_t *row = json_object();
    if (!row || !arts) {
        json_decref(row);
        json_decref(arts);
        return NULL;
    }
    json_object_set_new(row, "articles", arts);
    if (n->title)
        json_object_set_new(row, "title", json_string(n->title));
    if (n->last_build_date)
        json_object_set_new(row, "lastBuildDate", json_string(n->last_build_date));
    return row;
}

void rss_op_put_feed(struct rss_op *o, struct rss_node *n)
{
    json_t *row = feed_row(n);
    char *txt = row ? json_dumps(row, JSON_COMPACT) : NULL;
    json_decref(row);
    if (!txt) {
        o->rc = -ENOMEM;
        return;
    }
    rss_op_put(o, NS_ARTS, n->uid, txt);
    free(txt);
}

void rss_op_put_tree(struct rss_op *o)
{
    json_t *t = rss_feeds_json(o->f, false);
    char *txt = t ? json_dumps(t, JSON_COMPACT) : NULL;
    json_decref(t);
    if (!txt) {
        o->rc = -ENOMEM;
        return;
    }
    rss_op_put(o, NS_TREE, KEY_TREE, txt);
    free(txt);
}

static void barrier_cb(void *ud, int rc)
{
    struct rss_op *o = ud;
    o->f->store_jobs--;
    if (rc && !o->rc)
        o->rc = rc;
    op_complete(o);
}

int rss_op_finish(struct rss_op *o)
{
    o->finished = true;
    if (o->pending)
        return 0;
    /* nothing was queued (a no-op, or every put failed): a barrier so done
     * still runs after whatever was queued before, never inside the call */
    int rc = store_flush(o->f->s->store, barrier_cb, o);
    if (rc) {
        free(o);
        return rc;
    }
    o->f->store_jobs++;
    return 0;
}

/* ---- the tree ---- */

static struct rss_node *node_new(const char *name, bool is_feed)
{
    struct rss_node *n = calloc(1, sizeof *n);
    if (!n || !(n->name = strdup(name))) {
        free(n);
        return NULL;
    }
    n->is_feed = is_feed;
    return n;
}

void rss_art_clear(struct rss_art *a)
{
    free(a->id);
    json_decref(a->data);
    memset(a, 0, sizeof *a);
}

static void node_free(struct rss_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    for (size_t i = 0; i < n->narts; i++)
        rss_art_clear(&n->arts[i]);
    free(n->arts);
    free(n->name);
    free(n->uid);
    free(n->url);
    free(n->title);
    free(n->last_build_date);
    free(n->req_host);
    free(n);
}

static size_t kid_index(const struct rss_node *dir, const char *name, bool *found)
{
    size_t lo = 0, hi = dir->nkids;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(dir->kids[mid]->name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static int kid_add(struct rss_node *dir, struct rss_node *n)
{
    bool found;
    size_t i = kid_index(dir, n->name, &found);
    if (found)
        return -EEXIST;
    struct rss_node **k = realloc(dir->kids, (dir->nkids + 1) * sizeof *k);
    if (!k)
        return -ENOMEM;
    dir->kids = k;
    memmove(k + i + 1, k + i, (dir->nkids - i) * sizeof *k);
    k[i] = n;
    dir->nkids++;
    n->parent = dir;
    return 0;
}

static void kid_remove(struct rss_node *n)
{
    struct rss_node *dir = n->parent;
    bool found;
    size_t i = kid_index(dir, n->name, &found);
    if (found) {
        memmove(dir->kids + i, dir->kids + i + 1, (dir->nkids - i - 1) * sizeof *dir->kids);
        dir->nkids--;
    }
    n->parent = NULL;
}

/* qBittorrent's Item::isValidPath: non-empty, no empty component. */
static bool valid_path(const char *p)
{
    if (!*p || *p == '\\')
        return false;
    for (; *p; p++)
        if (*p == '\\' && (p[1] == '\\' || p[1] == '\0'))
            return false;
    return true;
}

struct rss_node *rss_find(struct rss_feeds *f, const char *path)
{
    struct rss_node *n = f->root;
    if (!*path)
        return n;
    const char *p = path;
    for (;;) {
        if (!n || n->is_feed)
            return NULL;
        size_t len = strcspn(p, "\\");
        char *name = strndup(p, len);
        if (!name)
            return NULL;
        bool found;
        size_t i = kid_index(n, name, &found);
        free(name);
        if (!found)
            return NULL;
        n = n->kids[i];
        if (!p[len])
            return n;
        p += len + 1;
    }
}

struct rss_node *rss_find_uid(struct rss_node *n, const char *uid)
{
    if (n->is_feed)
        return strcmp(n->uid, uid) == 0 ? n : NULL;
    for (size_t i = 0; i < n->nkids; i++) {
        struct rss_node *r = rss_find_uid(n->kids[i], uid);
        if (r)
            return r;
    }
    return NULL;
}

static struct rss_node *find_url(struct rss_node *n, const char *url)
{
    if (n->is_feed)
        return strcmp(n->url, url) == 0 ? n : NULL;
    for (size_t i = 0; i < n->nkids; i++) {
        struct rss_node *r = find_url(n->kids[i], url);
        if (r)
            return r;
    }
    return NULL;
}

char *rss_path(const struct rss_node *n)
{
    size_t len = 0;
    for (const struct rss_node *p = n; p && p->parent; p = p->parent)
        len += strlen(p->name) + 1;
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    out[len ? len - 1 : 0] = '\0';
    size_t end = len ? len - 1 : 0;
    for (const struct rss_node *p = n; p && p->parent; p = p->parent) {
        size_t l = strlen(p->name);
        end -= l;
        memcpy(out + end, p->name, l);
        if (end) {
            end--;
            out[end] = '\\';
        }
    }
    return out;
}

static const char *last_component(const char *path)
{
    const char *s = strrchr(path, '\\');
    return s ? s + 1 : path;
}

/* qBittorrent's prepareItemDest: the folder a new item at `path` goes to. */
static int prepare_dest(struct rss_feeds *f, const char *path, struct rss_node **dir, char *err, size_t errlen)
{
    if (!valid_path(path)) {
        err_set(err, errlen, "Incorrect RSS Item path: %s.", path);
        return -EINVAL;
    }
    if (rss_find(f, path)) {
        err_set(err, errlen, "RSS item with given path already exists: %s.", path);
        return -EEXIST;
    }
    const char *slash = strrchr(path, '\\');
    char *parent = strndup(path, slash ? (size_t)(slash - path) : 0);
    if (!parent)
        return -ENOMEM;
    struct rss_node *d = rss_find(f, parent);
    if (!d || d->is_feed) {
        err_set(err, errlen, "Parent folder doesn't exist: %s.", parent);
        free(parent);
        return -ENOENT;
    }
    free(parent);
    *dir = d;
    return 0;
}

static char *new_uid(void)
{
    uint8_t b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (uint8_t)rand();
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    char *s = malloc(40);
    if (s)
        snprintf(s, 40, "{%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x}", b[0], b[1], b[2],
                 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return s;
}

static struct rss_node *feed_new(struct rss_feeds *f, const char *name, const char *uid, const char *url,
                                 int64_t refresh_s)
{
    struct rss_node *n = node_new(name, true);
    if (!n)
        return NULL;
    n->owner = f;
    n->uid = uid ? strdup(uid) : new_uid();
    n->url = strdup(url);
    n->refresh_s = refresh_s > 0 ? refresh_s : 0;
    if (!n->uid || !n->url) {
        node_free(n);
        return NULL;
    }
    return n;
}

/* ---- loading ---- */

static bool uid_ok(const char *u)
{
    /* QUuid's string form: {8-4-4-4-12} hex */
    if (strlen(u) != 38 || u[0] != '{' || u[37] != '}')
        return false;
    for (int i = 1; i < 37; i++) {
        bool dash = i == 9 || i == 14 || i == 19 || i == 24;
        if (dash ? u[i] != '-' : !strchr("0123456789abcdefABCDEF", u[i]))
            return false;
    }
    return true;
}

static void load_folder(struct rss_feeds *f, struct rss_node *dir, json_t *obj, bool *updated)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (!*key || strchr(key, '\\')) {
            log_msg(LOG_WARNING, "Couldn't load RSS item. Item: \"%s\". Invalid data format.", key);
            continue;
        }
        struct rss_node *n = NULL;
        if (json_is_string(v)) {
            const char *url = *json_string_value(v) ? json_string_value(v) : key;
            n = find_url(f->root, url) ? NULL : feed_new(f, key, NULL, url, 0);
            *updated = true;
        } else if (json_is_object(v) && json_object_get(v, "url")) {
            const char *url = json_string_value(json_object_get(v, "url"));
            const char *uid = json_string_value(json_object_get(v, "uid"));
            if (!url) {
                log_msg(LOG_WARNING, "Couldn't load RSS feed. Feed: \"%s\". Reason: URL is required.", key);
                continue;
            }
            if (uid && !uid_ok(uid)) {
                log_msg(LOG_WARNING, "Couldn't load RSS feed. Feed: \"%s\". Reason: UID is invalid.", key);
                continue;
            }
            if (uid && rss_find_uid(f->root, uid)) {
                log_msg(LOG_WARNING,
                        "Duplicate RSS feed found. UID: \"%s\". Error: Configuration seems to be corrupted.", uid);
                continue;
            }
            if (!uid)
                *updated = true;
            n = feed_new(f, key, uid, url, json_integer_value(json_object_get(v, "refreshInterval")));
        } else if (json_is_object(v)) {
            n = node_new(key, false);
            if (n && kid_add(dir, n) == 0) {
                load_folder(f, n, v, updated);
                continue;
            }
            node_free(n);
            continue;
        } else {
            log_msg(LOG_WARNING, "Couldn't load RSS item. Item: \"%s\". Invalid data format.", key);
            continue;
        }
        if (!n || kid_add(dir, n) != 0)
            node_free(n);
    }
}

static int load_tree_row(void *ud, const char *key, const char *value)
{
    struct rss_feeds *f = ud;
    if (strcmp(key, KEY_TREE) != 0)
        return 0;
    json_error_t je;
    json_t *t = json_loads(value, 0, &je);
    if (!json_is_object(t)) {
        log_msg(LOG_WARNING, "Failed to parse RSS session data. Error: \"%s\"", je.text);
        json_decref(t);
        return 0;
    }
    bool updated = false;
    load_folder(f, f->root, t, &updated);
    json_decref(t);
    return 0;
}

static int art_cmp(const void *a, const void *b)
{
    const struct rss_art *x = a, *y = b;
    return x->date_ms < y->date_ms ? 1 : x->date_ms > y->date_ms ? -1 : 0;
}

static int load_articles_row(void *ud, const char *key, const char *value)
{
    struct rss_feeds *f = ud;
    struct rss_node *n = rss_find_uid(f->root, key);
    if (!n) {
        /* the feed's removal committed its tree row but not this one */
        store_kv_put(f->s->store, NS_ARTS, key, NULL, NULL, NULL);
        return 0;
    }
    json_t *row = json_loads(value, 0, NULL);
    json_t *arts = json_object_get(row, "articles");
    const char *title = json_string_value(json_object_get(row, "title"));
    const char *lbd = json_string_value(json_object_get(row, "lastBuildDate"));
    n->title = title ? strdup(title) : NULL;
    n->last_build_date = lbd ? strdup(lbd) : NULL;
    size_t cnt = json_array_size(arts);
    n->arts = cnt ? calloc(cnt, sizeof *n->arts) : NULL;
    size_t idx;
    json_t *a;
    json_array_foreach(arts, idx, a) {
        if (!n->arts)
            break;
        const char *id = json_string_value(json_object_get(a, "id"));
        if (!id || rss_art_find(n, id))
            continue;
        struct rss_art *r = &n->arts[n->narts];
        r->date_ms = json_integer_value(json_object_get(a, "date"));
        r->date_offset_s = (int)json_integer_value(json_object_get(a, "dateOffset"));
        r->data = json_deep_copy(a);
        r->id = strdup(id);
        if (!r->data || !r->id) {
            rss_art_clear(r);
            continue;
        }
        json_object_del(r->data, "date");
        json_object_del(r->data, "dateOffset");
        r->is_read = json_is_true(json_object_get(a, "isRead"));
        n->narts++;
    }
    if (n->narts > 1)
        qsort(n->arts, n->narts, sizeof *n->arts, art_cmp);
    rss_trim(f, n);
    json_decref(row);
    return 0;
}

static void on_handle_closed(uv_handle_t *h)
{
    struct rss_feeds *f = h->data;
    f->open_handles--;
    rss_feeds_maybe_release(f);
}

int rss_feeds_new(struct session *s, const struct rss_feeds_config *c, struct rss_feeds **out)
{
    struct rss_feeds *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->s = s;
    f->cfg = *c;
    f->root = node_new("", false);
    if (!f->root) {
        free(f);
        return -ENOMEM;
    }
    uv_timer_init(s->loop, &f->refresh_timer);
    uv_timer_init(s->loop, &f->dispatch_timer);
    f->refresh_timer.data = f->dispatch_timer.data = f;
    f->open_handles = 2;
    /* the timers run only for the feeds: they must not keep a finished loop alive */
    uv_unref((uv_handle_t *)&f->refresh_timer);
    uv_unref((uv_handle_t *)&f->dispatch_timer);
    if (s->store) {
        store_load_kv(s->store, NS_TREE, load_tree_row, f);
        store_load_kv(s->store, NS_ARTS, load_articles_row, f);
    }
    *out = f;
    if (f->cfg.processing)
        rss_refresh_due(f);
    return 0;
}

static void stop_fetches(struct rss_feeds *f, struct rss_node *n)
{
    if (n->is_feed) {
        rss_fetch_stop(f, n);
        return;
    }
    for (size_t i = 0; i < n->nkids; i++)
        stop_fetches(f, n->kids[i]);
}

void rss_feeds_maybe_release(struct rss_feeds *f)
{
    if (!f->stopping || f->open_handles || f->store_jobs)
        return;
    node_free(f->root);
    for (size_t i = 0; i < f->nhosts; i++)
        free(f->hosts[i].key);
    free(f->hosts);
    free(f);
}

void rss_feeds_free(struct rss_feeds *f)
{
    if (!f || f->stopping)
        return;
    f->stopping = true;
    f->new_fn = NULL;
    f->url_fn = NULL;
    stop_fetches(f, f->root);
    uv_close((uv_handle_t *)&f->refresh_timer, on_handle_closed);
    uv_close((uv_handle_t *)&f->dispatch_timer, on_handle_closed);
}

static void trim_all(struct rss_feeds *f, struct rss_node *n)
{
    if (n->is_feed) {
        rss_trim(f, n);
        return;
    }
    for (size_t i = 0; i < n->nkids; i++)
        trim_all(f, n->kids[i]);
}

void rss_feeds_configure(struct rss_feeds *f, const struct rss_feeds_config *c)
{
    struct rss_feeds_config old = f->cfg;
    f->cfg = *c;
    if (c->max_articles != old.max_articles)
        trim_all(f, f->root);   /* stored with the feed's next change, as qBittorrent */
    if (!c->processing) {
        uv_timer_stop(&f->refresh_timer);
    } else if (!old.processing || c->refresh_interval_min != old.refresh_interval_min) {
        rss_refresh_due(f);
    }
}

/* ---- API ---- */

int rss_feeds_add_folder(struct rss_feeds *f, const char *path, char *err, size_t errlen, rss_feeds_done_fn done,
                         void *ud)
{
    struct rss_node *dir;
    int rc = prepare_dest(f, path, &dir, err, errlen);
    if (rc)
        return rc;
    struct rss_node *n = node_new(last_component(path), false);
    struct rss_op *o = rss_op_new(f, done, ud);
    if (!n || !o || kid_add(dir, n) != 0) {
        node_free(n);
        free(o);
        return -ENOMEM;
    }
    rss_op_put_tree(o);
    return rss_op_finish(o);
}

int rss_feeds_add_feed(struct rss_feeds *f, const char *url, const char *path, int64_t refresh_s, char *err,
                       size_t errlen, rss_feeds_done_fn done, void *ud)
{
    if (find_url(f->root, url)) {
        err_set(err, errlen, "RSS feed with given URL already exists: %s.", url);
        return -EEXIST;
    }
    if (!*path)
        path = url;
    struct rss_node *dir;
    int rc = prepare_dest(f, path, &dir, err, errlen);
    if (rc)
        return rc;
    struct rss_node *n = feed_new(f, last_component(path), NULL, url, refresh_s);
    struct rss_op *o = rss_op_new(f, done, ud);
    if (!n || !o || kid_add(dir, n) != 0) {
        node_free(n);
        free(o);
        return -ENOMEM;
    }
    rss_op_put_tree(o);
    rc = rss_op_finish(o);
    if (f->cfg.processing)
        rss_refresh_due(f);
    return rc;
}

int rss_feeds_set_url(struct rss_feeds *f, const char *path, const char *url, char *err, size_t errlen,
                      rss_feeds_done_fn done, void *ud)
{
    struct rss_node *n = rss_find(f, path);
    if (!n || !n->is_feed) {
        err_set(err, errlen, "Feed doesn't exist: %s.", path);
        return -ENOENT;
    }
    struct rss_op *o = rss_op_new(f, done, ud);
    if (!o)
        return -ENOMEM;
    if (strcmp(url, n->url) != 0) {
        if (find_url(f->root, url)) {
            free(o);
            err_set(err, errlen, "RSS feed with given URL already exists: %s.", url);
            return -EEXIST;
        }
        char *nu = strdup(url);
        if (!nu) {
            free(o);
            return -ENOMEM;
        }
        char *old = n->url;
        n->url = nu;
        if (strcmp(n->name, old) == 0 && n->parent) {
            /* still named by its URL: follow it (qBittorrent's urlChanged) */
            char *parent = rss_path(n->parent);
            if (parent) {
                size_t len = strlen(parent) + strlen(url) + 2;
                char *dest = malloc(len);
                if (dest) {
                    snprintf(dest, len, "%s%s%s", parent, *parent ? "\\" : "", url);
                    rss_move(f, n, dest, NULL, 0);
                }
                free(dest);
            }
            free(parent);
        }
        if (f->url_fn)
            f->url_fn(f->url_ud, old, n->url);
        free(old);
        rss_op_put_tree(o);
        if (f->cfg.processing) {
            rss_fetch_stop(f, n);
            rss_refresh_node(f, n);
            n->next_refresh_ms = rss_now_ms() + rss_interval_ms(f, n);
        }
    }
    return rss_op_finish(o);
}

int rss_feeds_set_refresh_interval(struct rss_feeds *f, const char *path, int64_t refresh_s, char *err,
                                   size_t errlen, rss_feeds_done_fn done, void *ud)
{
    if (refresh_s < 0) {
        err_set(err, errlen, "%s", "Invalid 'refreshInterval' value");
        return -EINVAL;
    }
    struct rss_node *n = rss_find(f, path);
    if (!n || !n->is_feed) {
        err_set(err, errlen, "Feed doesn't exist: %s.", path);
        return -ENOENT;
    }
    struct rss_op *o = rss_op_new(f, done, ud);
    if (!o)
        return -ENOMEM;
    if (refresh_s != n->refresh_s) {
        /* the next refresh moves by the change (Session's refreshIntervalChanged) */
        int64_t old_ms = rss_interval_ms(f, n);
        n->refresh_s = refresh_s;
        int64_t new_ms = rss_interval_ms(f, n);
        rss_op_put_tree(o);
        if (n->next_refresh_ms > 0)
            n->next_refresh_ms += new_ms - old_ms;
        if (f->cfg.processing && new_ms < old_ms)
            rss_refresh_due(f);
    }
    return rss_op_finish(o);
}

static void delete_rows(struct rss_op *o, struct rss_node *n)
{
    if (n->is_feed) {
        rss_op_put(o, NS_ARTS, n->uid, NULL);
        return;
    }
    for (size_t i = 0; i < n->nkids; i++)
        delete_rows(o, n->kids[i]);
}

int rss_feeds_remove(struct rss_feeds *f, const char *path, char *err, size_t errlen, rss_feeds_done_fn done,
                     void *ud)
{
    if (!*path) {
        err_set(err, errlen, "%s", "Cannot delete root folder.");
        return -EPERM;
    }
    struct rss_node *n = rss_find(f, path);
    if (!n) {
        err_set(err, errlen, "Item doesn't exist: %s.", path);
        return -ENOENT;
    }
    struct rss_op *o = rss_op_new(f, done, ud);
    if (!o)
        return -ENOMEM;
    stop_fetches(f, n);
    kid_remove(n);
    /* the tree first: a crash between the two leaves an orphan articles
     * row, which the next start deletes */
    rss_op_put_tree(o);
    delete_rows(o, n);
    node_free(n);
    return rss_op_finish(o);
}

int rss_move(struct rss_feeds *f, struct rss_node *n, const char *dest, char *err, size_t errlen)
{
    /* qBittorrent 5.1's order: the destination is checked first (so moving
     * an item onto its own path is "already exists"), then a folder into
     * itself.  5.1 crashes moving a folder deeper into its own subtree;
     * 5.2's message answers that. */
    struct rss_node *dir;
    int rc = prepare_dest(f, dest, &dir, err, errlen);
    if (rc)
        return rc;
    if (dir == n) {
        err_set(err, errlen, "%s", "Couldn't move folder into itself.");
        return -ELOOP;
    }
    for (struct rss_node *p = dir; p; p = p->parent)
        if (p == n) {
            err_set(err, errlen, "%s", "Can't move a folder into itself or its subfolders.");
            return -ELOOP;
        }
    char *name = strdup(last_component(dest));
    if (!name)
        return -ENOMEM;
    struct rss_node *old_dir = n->parent;
    kid_remove(n);
    free(n->name);
    n->name = name;
    if (kid_add(dir, n) != 0) {
        kid_add(old_dir, n);
        return -ENOMEM;
    }
    return 0;
}

int rss_feeds_move(struct rss_feeds *f, const char *item_path, const char *dest_path, char *err, size_t errlen,
                   rss_feeds_done_fn done, void *ud)
{
    if (!*item_path) {
        err_set(err, errlen, "%s", "Cannot move root folder.");
        return -EPERM;
    }
    struct rss_node *n = rss_find(f, item_path);
    if (!n) {
        err_set(err, errlen, "Item doesn't exist: %s.", item_path);
        return -ENOENT;
    }
    int rc = rss_move(f, n, dest_path, err, errlen);
    if (rc)
        return rc;
    struct rss_op *o = rss_op_new(f, done, ud);
    if (!o)
        return -ENOMEM;
    rss_op_put_tree(o);
    return rss_op_finish(o);
}

struct rss_art *rss_art_find(struct rss_node *feed, const char *id)
{
    for (size_t i = 0; i < feed->narts; i++)
        if (feed->arts[i].id && strcmp(feed->arts[i].id, id) == 0)
            return &feed->arts[i];
    return NULL;
}

static bool art_mark(struct rss_art *a)
{
    if (a->is_read)
        return false;
    a->is_read = true;
    json_object_set_new(a->data, "isRead", json_true());
    return true;
}

static void mark_all(struct rss_op *o, struct rss_node *n)
{
    if (!n->is_feed) {
        for (size_t i = 0; i < n->nkids; i++)
            mark_all(o, n->kids[i]);
        return;
    }
    bool changed = false;
    for (size_t i = 0; i < n->narts; i++)
        changed |= art_mark(&n->arts[i]);
    if (changed)
        rss_op_put_feed(o, n);
}

int rss_feeds_mark_item_read(struct rss_feeds *f, const char *item_path, const char *article_id,
                             rss_feeds_done_fn done, void *ud)
{
    struct rss_op *o = rss_op_new(f, done, ud);
    if (!o)
        return -ENOMEM;
    struct rss_node *n = rss_find(f, item_path);
    if (n && article_id) {
        struct rss_art *a = n->is_feed ? rss_art_find(n, article_id) : NULL;
        if (a && art_mark(a))
            rss_op_put_feed(o, n);
    } else if (n) {
        mark_all(o, n);
    }
    return rss_op_finish(o);
}

int rss_feeds_refresh_item(struct rss_feeds *f, const char *item_path)
{
    struct rss_node *n = rss_find(f, item_path);
    if (!n)
        return -ENOENT;
    rss_refresh_node(f, n);
    return 0;
}

/* ---- JSON ---- */

static json_t *feed_json(const struct rss_node *n, bool with_data)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "uid", json_string(n->uid));
    json_object_set_new(o, "url", json_string(n->url));
    if (n->refresh_s > 0)
        json_object_set_new(o, "refreshInterval", json_integer(n->refresh_s));
    if (!with_data)
        return o;
    json_object_set_new(o, "title", json_string(n->title ? n->title : ""));
    json_object_set_new(o, "lastBuildDate", json_string(n->last_build_date ? n->last_build_date : ""));
    json_object_set_new(o, "isLoading", json_boolean(n->loading));
    json_object_set_new(o, "hasError", json_boolean(n->has_error));
    json_t *arts = json_array();
    for (size_t i = 0; arts && i < n->narts; i++) {
        json_t *a = json_deep_copy(n->arts[i].data);
        char d[32];
        feedparse_date_format(n->arts[i].date_ms, n->arts[i].date_offset_s, d);
        if (!a || json_object_set_new(a, "date", json_string(d)) || json_array_append_new(arts, a)) {
            json_decref(arts);
            arts = NULL;
        }
    }
    if (!arts || json_object_set_new(o, "articles", arts)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *node_json(const struct rss_node *n, bool with_data)
{
    if (n->is_feed)
        return feed_json(n, with_data);
    json_t *o = json_object();
    for (size_t i = 0; o && i < n->nkids; i++) {
        json_t *k = node_json(n->kids[i], with_data);
        if (!k || json_object_set_new(o, n->kids[i]->name, k)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *rss_feeds_json(struct rss_feeds *f, bool with_data) { return node_json(f->root, with_data); }

/* ---- the auto-downloader's view ---- */

static int walk(struct rss_node *n, rss_article_fn fn, void *ud)
{
    if (!n->is_feed) {
        for (size_t i = 0; i < n->nkids; i++) {
            int rc = walk(n->kids[i], fn, ud);
            if (rc)
                return rc;
        }
        return 0;
    }
    struct rss_feed_ref ref = {.url = n->url, .name = n->name};
    for (size_t i = 0; i < n->narts; i++) {
        const struct rss_art *a = &n->arts[i];
        const char *title = json_string_value(json_object_get(a->data, "title"));
        const char *tu = json_string_value(json_object_get(a->data, "torrentURL"));
        const char *link = json_string_value(json_object_get(a->data, "link"));
        struct rss_article art = {
            .id = a->id,
            .title = title ? title : "",
            .torrent_url = tu ? tu : "",
            .link = link ? link : "",
            .date = a->date_ms / 1000,
            .is_read = a->is_read,
        };
        int rc = fn(ud, &ref, &art);
        if (rc)
            return rc;
    }
    return 0;
}

int rss_feeds_walk(struct rss_feeds *f, rss_article_fn fn, void *ud) { return walk(f->root, fn, ud); }

int rss_feeds_mark_read(struct rss_feeds *f, const char *feed_url, const char *article_id)
{
    struct rss_node *n = find_url(f->root, feed_url);
    struct rss_art *a = n ? rss_art_find(n, article_id) : NULL;
    if (!a)
        return -ENOENT;
    if (!art_mark(a))
        return 0;
    struct rss_op *o = rss_op_new(f, NULL, NULL);
    if (!o)
        return -ENOMEM;
    rss_op_put_feed(o, n);
    return rss_op_finish(o);
}

void rss_feeds_on_new_article(struct rss_feeds *f, rss_feeds_new_fn fn, void *ud)
{
    f->new_fn = fn;
    f->new_ud = ud;
}

void rss_feeds_on_url_changed(struct rss_feeds *f, rss_feeds_url_fn fn, void *ud)
{
    f->url_fn = fn;
    f->url_ud = ud;
}

int rss_feeds_feed_state(struct rss_feeds *f, const char *feed_url, struct rss_feed_state *out)
{
    const struct rss_node *n = find_url(f->root, feed_url);
    if (!n)
        return -ENOENT;
    out->title = n->title ? n->title : "";
    out->next_refresh = f->cfg.processing && n->next_refresh_ms > 0 ? n->next_refresh_ms / 1000 : 0;
    out->loading = n->loading;
    out->has_error = n->has_error;
    return 0;
}
