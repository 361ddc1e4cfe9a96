/* web/api/qbt_v2_categories — torrents/categories, createCategory,
 * editCategory, removeCategories, setCategory and the tag endpoints
 * (../shared/docs/api-surface.md §4.6, §4.7, §5.7, outside the repository).
 *
 * The sets live in core/catalog; a torrent names its category and tags;
 * changes under torrents go through core/service.h (which applies automatic
 * torrent management).  Every change is answered after its rows (catalog
 * and torrent settings) committed.  Rows are committed in the order they were queued, so waiting
 * for the last one covers the earlier ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/catalog.h"
#include "core/service.h"
#include "util/log.h"
#include "web/api/qbt_v2_int.h"

#define MAX_LIST_ITEMS 10000   /* names in one tags/categories parameter */

/* Calls fn for each part of s split on sep, empty parts skipped (Qt's
 * SkipEmptyParts), at most MAX_LIST_ITEMS. */
static void split_each(const char *s, char sep, void (*fn)(const char *part, void *ud), void *ud)
{
    size_t k = 0;
    for (const char *p = s; p && k < MAX_LIST_ITEMS; k++) {
        const char *e = strchr(p, sep);
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len) {
            char *part = strndup(p, len);
            if (part)
                fn(part, ud);
            free(part);
        }
        if (!e)
            break;
        p = e + 1;
    }
}

static bool has_parts(const char *s, char sep)
{
    for (; s && *s; s++)
        if (*s != sep)
            return true;
    return false;
}

/* ---- categories ---- */

static void h_categories(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const struct catalog *c = q->s->catalog;
    json_t *o = json_object();
    for (size_t i = 0; o && i < c->num_cats; i++) {
        const struct catalog_category *k = &c->cats[i];
        json_t *v = json_pack("{s:s, s:s}", "name", k->name, "savePath", k->save_path);
        if (v && k->dl_mode == CATALOG_DL_ON)
            json_object_set_new(v, "download_path", json_string(k->download_path));
        else if (v && k->dl_mode == CATALOG_DL_OFF)
            json_object_set_new(v, "download_path", json_false());
        if (!v || json_object_set_new(o, k->name, v) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    web_reply_json(r, o);   /* NULL = 500 */
}

/* savePath / downloadPathEnabled / downloadPath as createCategory reads them. */
static struct catalog_category_opts category_opts(struct web_req *r)
{
    struct catalog_category_opts o = {.save_path = web_req_param(r, "savePath")};
    const char *en = web_req_param(r, "downloadPathEnabled");
    if (en && strcasecmp(en, "true") == 0) {
        o.dl_mode = CATALOG_DL_ON;
        o.download_path = web_req_param(r, "downloadPath");
    } else if (en && strcasecmp(en, "false") == 0) {
        o.dl_mode = CATALOG_DL_OFF;
    }
    return o;
}

static void h_create_category(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *name = web_req_param(r, "category");
    if (!name) {
        web_reply_error(r, 400, NULL);
        return;
    }
    if (!*name) {
        web_reply_error(r, 400, "Category cannot be empty");
        return;
    }
    struct catalog_category_opts o = category_opts(r);
    qbt_v2_apply_create_category(r, q->s, name, &o);
}

/* Answered after the commit; a commit that failed (the profile's disk is
 * full) is qBittorrent's "Unable to create category" (the category is not
 * kept: core/service.h). */
static void on_category_created(void *ud, int rc)
{
    struct web_req *r = ud;
    if (rc != 0)
        web_reply_error(r, 409, "Unable to create category");
    else
        web_reply_ok(r);
}

void qbt_v2_apply_create_category(struct web_req *r, struct session *s, const char *name,
                                  const struct catalog_category_opts *o)
{
    if (!catalog_category_name_valid(name)) {
        web_reply_error(r, 409, "Incorrect category name");
        return;
    }
    int rc = service_category_create(s, name, o, on_category_created, r);
    if (rc != 0)
        web_reply_error(r, rc == -ENOMEM ? 500 : 409, rc == -ENOMEM ? NULL : "Unable to create category");
}

static void h_edit_category(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *name = web_req_param(r, "category");
    if (!name || !web_req_param(r, "savePath")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    if (!*name) {
        web_reply_error(r, 400, "Category cannot be empty");
        return;
    }
    struct catalog_category_opts o = category_opts(r);
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    if (!b)
        return;
    b->pending++;
    int rc = service_category_edit(q->s, name, &o, qbt_v2_batch_done, b);
    if (rc != 0) {
        free(b);
        web_reply_error(r, rc == -ENOMEM ? 500 : 409, rc == -ENOMEM ? NULL : "Unable to edit category");
        return;
    }
    qbt_v2_batch_done(b, 0);
}

struct remove_ctx {
    struct qbt_v2 *q;
    struct qbt_v2_batch *b;
};

static void remove_one_category(const char *name, void *ud)
{
    struct remove_ctx *x = ud;
    x->b->pending++;
    qbt_v2_batch_check(x->b, service_category_remove(x->q->s, name, qbt_v2_batch_done, x->b));
}

static void h_remove_categories(struct web_req *r, void *ud)
{
    const char *cats = web_req_param(r, "categories");
    if (!cats) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    if (!b)
        return;
    struct remove_ctx x = {ud, b};
    split_each(cats, '\n', remove_one_category, &x);
    qbt_v2_batch_done(b, 0);
}

static void h_set_category(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *cat = web_req_param(r, "category");
    struct qbt_v2_list l;
    if (!cat) {
        web_reply_error(r, 400, NULL);
        return;
    }
    if (!qbt_v2_targets(r, q, "hashes", &l))
        return;
    qbt_v2_apply_category(r, q->s, &l, cat);
}

/* ---- tags ---- */

static void h_tags(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const struct catalog *c = q->s->catalog;
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->num_tags; i++)
        if (json_array_append_new(a, json_string(c->tags[i].name)) != 0) {
            json_decref(a);
            a = NULL;
        }
    web_reply_json(r, a);   /* NULL = 500 */
}

/* The parts of a ","-separated list (empty ones skipped, at most
 * MAX_LIST_ITEMS), NULL-terminated; NULL when out of memory. */
struct parts {
    char **v;
    size_t n;
};

static void part_push(const char *part, void *ud)
{
    struct parts *p = ud;
    if (p->v && (p->v[p->n] = strdup(part)) != NULL)
        p->n++;
}

static void parts_free(struct parts *p)
{
    for (size_t i = 0; p->v && i < p->n; i++)
        free(p->v[i]);
    free(p->v);
}

/* addTags / removeTags / setTags share this walk. */
static void tag_action(struct web_req *r, struct qbt_v2 *q, int mode /* 0 add, 1 remove, 2 set */)
{
    const char *tags = web_req_param(r, "tags");
    struct qbt_v2_list l;
    if (!tags && mode != 1) {
        web_reply_error(r, 400, NULL);
        return;
    }
    if (!qbt_v2_targets(r, q, "hashes", &l))
        return;
    struct parts p = {calloc(MAX_LIST_ITEMS + 1, sizeof(char *)), 0};
    struct qbt_v2_batch *b = p.v ? qbt_v2_batch_new(r) : NULL;
    if (!b) {
        if (!p.v)
            web_reply_error(r, 500, NULL);
        parts_free(&p);
        qbt_v2_list_free(&l);
        return;
    }
    split_each(tags ? tags : "", ',', part_push, &p);
    const char *const *v = (const char *const *)p.v;
    /* removeTags without any name removes all; names past the limit none. */
    bool none = mode == 1 && p.n == 0 && has_parts(tags, ',');
    for (size_t i = 0; !none && i < l.n; i++) {
        b->pending++;
        qbt_v2_batch_check(b, mode == 0 ? service_add_tags(q->s, l.v[i], v, p.n, qbt_v2_batch_done, b)
                              : mode == 1 ? service_remove_tags(q->s, l.v[i], v, p.n, qbt_v2_batch_done, b)
                                          : service_set_tags(q->s, l.v[i], v, p.n, qbt_v2_batch_done, b));
    }
    parts_free(&p);
    qbt_v2_list_free(&l);
    qbt_v2_batch_done(b, 0);
}

static void h_add_tags(struct web_req *r, void *ud) { tag_action(r, ud, 0); }
static void h_remove_tags(struct web_req *r, void *ud) { tag_action(r, ud, 1); }
static void h_set_tags(struct web_req *r, void *ud) { tag_action(r, ud, 2); }

static void create_one_tag(const char *tag, void *ud)
{
    struct remove_ctx *x = ud;
    x->b->pending++;
    if (catalog_tag_add(x->q->s->catalog, tag, qbt_v2_batch_done, x->b) != 0)
        x->b->pending--;   /* invalid or existing: ignored like qBittorrent */
}

static void delete_one_tag(const char *tag, void *ud)
{
    struct remove_ctx *x = ud;
    x->b->pending++;
    qbt_v2_batch_check(x->b, service_tag_delete(x->q->s, tag, qbt_v2_batch_done, x->b));
}

static void tags_param_action(struct web_req *r, struct qbt_v2 *q, void (*fn)(const char *, void *))
{
    const char *tags = web_req_param(r, "tags");
    if (!tags) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    if (!b)
        return;
    struct remove_ctx x = {q, b};
    split_each(tags, ',', fn, &x);
    qbt_v2_batch_done(b, 0);
}

static void h_create_tags(struct web_req *r, void *ud) { tags_param_action(r, ud, create_one_tag); }
static void h_delete_tags(struct web_req *r, void *ud) { tags_param_action(r, ud, delete_one_tag); }

/* ---- registration ---- */

int qbt_v2_register_edit(struct qbt_v2 *q);   /* qbt_v2_edit.c, registered with these */

int qbt_v2_register_catalog(struct qbt_v2 *q)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/torrents/categories", WEB_GETPOST, h_categories, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/createCategory", WEB_POST, h_create_category, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/editCategory", WEB_POST, h_edit_category, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/removeCategories", WEB_POST, h_remove_categories, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/setCategory", WEB_POST, h_set_category, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/tags", WEB_GETPOST, h_tags, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/createTags", WEB_POST, h_create_tags, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/deleteTags", WEB_POST, h_delete_tags, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/addTags", WEB_POST, h_add_tags, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/removeTags", WEB_POST, h_remove_tags, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/setTags", WEB_POST, h_set_tags, WEB_AUTH_QBT_SESSION, NULL},
    };
    int rc = web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
    return rc != 0 ? rc : qbt_v2_register_edit(q);
}
