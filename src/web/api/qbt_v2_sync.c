/* web/api/qbt_v2_sync — sync/maindata (§7.2) and sync/torrentPeers (§7.3).
 *
 * maindata keeps, per login, a snapshot of what the client has and a buffer
 * of changes since the rid it last accepted.  Each request folds into both
 * only what the core reports as changed since the previous request
 * (session_changed_since / session_removed_since, the catalog's seq), so a
 * partial reply costs O(changes): unchanged torrents are never serialized.
 *
 * Deliberate differences from qBittorrent 5.1's SyncController:
 *  - changed fields are merged into the buffer instead of replacing the
 *    buffer's entry, so a client retrying the accepted rid after several
 *    unaccepted replies still gets every field that changed;
 *  - a full update forgets the accepted rid (qBittorrent keeps it and
 *    later resends its whole snapshot as a "partial" update, which never
 *    tells the client about torrents removed before the full update).
 *
 * Queue priorities: a torrent's `priority` depends on the torrents before
 * it.  It can only move when a torrent enters or leaves the queue (added,
 * removed, finished or unfinished) or the queue order changes (a pointer
 * compare of s->torrents); only then is the whole queue walked.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/view.h"
#include "util/log.h"
#include "web/api/qbt_v2_int.h"

#define RID_WRAP 1000000

static struct qbt_v2_client g_anon;   /* requests without a web session */

struct qbt_v2_client *qbt_v2_client_get(struct web_req *r)
{
    void **slot = web_req_dialect_slot(r, qbt_v2_dialect);
    if (!slot)
        return &g_anon;
    if (!*slot)
        *slot = calloc(1, sizeof(struct qbt_v2_client));
    return *slot;
}

void qbt_v2_client_free(void *slot)
{
    if (slot) {
        qbt_v2_client_clear(slot);
        free(slot);
    }
}

int qbt_v2_parse_rid(const char *s)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < INT_MIN || v > INT_MAX)
        return 0;
    return (int)v;
}

/* ---- small JSON helpers ---- */

/* Sets key (stealing v); false when v is NULL or on OOM. */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0;
}

static bool set_add(json_t *set, const char *key)
{
    return json_object_set_new(set, key, json_true()) == 0;
}

/* The keys of an object, as an array in insertion order. */
static json_t *keys_of(const json_t *set)
{
    json_t *a = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)set, k, v) {
        if (!a || json_array_append_new(a, json_string(k)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Fields of now that differ from prev go into *diff (created on the first
 * difference) and, when update, into prev.  False on OOM. */
static bool diff_fields(json_t *prev, const json_t *now, json_t **diff, bool update)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)now, k, v) {
        json_t *old = json_object_get(prev, k);
        if (old && json_equal(old, v))
            continue;
        if (!*diff && !(*diff = json_object()))
            return false;
        if (json_object_set(*diff, k, v) != 0 || (update && json_object_set(prev, k, v) != 0))
            return false;
    }
    return true;
}

/* Merges changed fields into buf[key] (stealing diff). */
static bool diff_into(json_t *prev, const json_t *now, json_t **diff)
{
    return diff_fields(prev, now, diff, true);
}

static bool buf_merge(json_t *buf, const char *key, json_t *diff)
{
    if (!diff)
        return true;
    json_t *have = json_object_get(buf, key);
    if (!have)
        return put(buf, key, diff);
    int rc = json_object_update(have, diff);
    json_decref(diff);
    return rc == 0;
}

/* ---- maindata state ---- */

#define MAIN_FIELDS(X)                                                                                     \
    X(torrents) X(aux) X(categories) X(tags) X(trackers) X(server_state) X(b_torrents)                    \
        X(b_torrents_removed) X(b_categories) X(b_categories_removed) X(b_tags) X(b_tags_removed)        \
            X(b_trackers) X(b_trackers_removed) X(b_server_state)

static void main_clear(struct qbt_v2_sync_main *m)
{
#define FREE_FIELD(f) json_decref(m->f);
    MAIN_FIELDS(FREE_FIELD)
#undef FREE_FIELD
    free(m->order);
    memset(m, 0, sizeof(*m));
}

/* True when the queue order differs from the last fold's; keeps the new one.
 * A pointer compare over the torrent array: no torrent is looked at. */
static bool order_changed(struct qbt_v2_sync_main *m, struct session *s, bool *oom)
{
    size_t n = s->num_torrents;
    if (m->order && m->order_n == n && (n == 0 || memcmp(m->order, s->torrents, n * sizeof(*m->order)) == 0))
        return false;
    const struct torrent **o = realloc(m->order, (n ? n : 1) * sizeof(*o));
    if (!o) {
        *oom = true;
        return true;
    }
    if (n)
        memcpy(o, s->torrents, n * sizeof(*o));
    m->order = o;
    m->order_n = n;
    return true;
}

static void buf_clear(struct qbt_v2_sync_main *m)
{
    json_object_clear(m->b_torrents);
    json_object_clear(m->b_torrents_removed);
    json_object_clear(m->b_categories);
    json_object_clear(m->b_categories_removed);
    json_object_clear(m->b_tags);
    json_object_clear(m->b_tags_removed);
    json_object_clear(m->b_trackers);
    json_object_clear(m->b_trackers_removed);
    json_object_clear(m->b_server_state);
}

/* Empty snapshot and buffer (keeps the rids). */
static int main_reset(struct qbt_v2_sync_main *m)
{
    int last = m->last_sent;
    main_clear(m);
    m->last_sent = last;
    bool ok = true;
#define NEW_FIELD(f) ok = ok && (m->f = json_object()) != NULL;
    MAIN_FIELDS(NEW_FIELD)
#undef NEW_FIELD
    if (!ok) {
        main_clear(m);
        m->last_sent = last;
        return -ENOMEM;
    }
    return 0;
}

/* ---- trackers: url -> hashes ---- */

static bool tracker_link(struct qbt_v2_sync_main *m, const char *url, const char *hex)
{
    json_t *set = json_object_get(m->trackers, url);
    if (!set && !put(m->trackers, url, set = json_object()))
        return false;
    json_object_del(m->b_trackers_removed, url);
    return set_add(set, hex) && set_add(m->b_trackers, url);
}

static bool tracker_unlink(struct qbt_v2_sync_main *m, const char *url, const char *hex)
{
    json_t *set = json_object_get(m->trackers, url);
    if (!set || json_object_del(set, hex) != 0)
        return true;
    if (json_object_size(set) > 0)
        return set_add(m->b_trackers, url);
    json_object_del(m->trackers, url);
    json_object_del(m->b_trackers, url);
    return set_add(m->b_trackers_removed, url);
}

static bool has_string(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

/* The distinct tracker URLs of t. */
static json_t *urls_of(const struct torrent *t)
{
    json_t *a = json_array();
    struct view_tracker e;
    for (size_t i = 0; a && view_tracker(t, i, &e); i++) {
        if (e.url && !has_string(a, e.url) && json_array_append_new(a, json_string(e.url)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Moves hex from the URLs in old to those in now (either may be NULL). */
static bool trackers_move(struct qbt_v2_sync_main *m, const char *hex, const json_t *old, const json_t *now)
{
    size_t i;
    json_t *v;
    json_array_foreach(old, i, v) {
        if ((!now || !has_string(now, json_string_value(v))) && !tracker_unlink(m, json_string_value(v), hex))
            return false;
    }
    json_array_foreach(now, i, v) {
        if ((!old || !has_string(old, json_string_value(v))) && !tracker_link(m, json_string_value(v), hex))
            return false;
    }
    return true;
}

/* ---- torrents ---- */

static int64_t snap_priority(const json_t *snap)
{
    return json_integer_value(json_object_get(snap, "priority"));
}

/* Folds the current state of t into snapshot and buffer. */
static bool torrent_fold(struct qbt_v2_sync_main *m, const struct torrent *t, int64_t prio)
{
    json_t *now = qbt_v2_torrent_json_at(t, false, prio);
    json_t *urls = urls_of(t);
    json_t *snap = json_object_get(m->torrents, t->hex);
    bool ok = now && urls;
    if (ok && !snap) {
        /* new to the client: every field */
        ok = json_object_set(m->torrents, t->hex, now) == 0 &&
             (m->rebuilding || put(m->b_torrents, t->hex, json_copy(now)));
        json_object_del(m->b_torrents_removed, t->hex);
    } else if (ok) {
        json_t *diff = NULL;
        ok = diff_into(snap, now, &diff) && buf_merge(m->b_torrents, t->hex, diff);
    }
    ok = ok && trackers_move(m, t->hex, json_object_get(m->aux, t->hex), urls) &&
         json_object_set(m->aux, t->hex, urls) == 0;
    json_decref(now);
    json_decref(urls);
    return ok;
}

struct fold {
    struct qbt_v2_sync_main *m;
    struct session *s;
    struct torrent **changed;
    size_t n, cap;
    bool queue_moved;            /* some torrent entered or left the queue */
    bool oom;
};

static void on_removed(const char *hex, void *ud)
{
    struct fold *f = ud;
    struct qbt_v2_sync_main *m = f->m;
    json_t *snap = json_object_get(m->torrents, hex);
    if (!snap || f->oom)
        return;
    if (snap_priority(snap) != 0)
        f->queue_moved = true;
    if (!trackers_move(m, hex, json_object_get(m->aux, hex), NULL) || !set_add(m->b_torrents_removed, hex))
        f->oom = true;
    json_object_del(m->aux, hex);
    json_object_del(m->b_torrents, hex);
    json_object_del(m->torrents, hex);
}

static void on_changed(struct torrent *t, void *ud)
{
    struct fold *f = ud;
    if (t->removing || f->oom)
        return;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        struct torrent **v = realloc(f->changed, cap * sizeof(*v));
        if (!v) {
            f->oom = true;
            return;
        }
        f->changed = v;
        f->cap = cap;
    }
    f->changed[f->n++] = t;
    const json_t *snap = json_object_get(f->m->torrents, t->hex);
    int64_t probe = 0;
    bool queued = qbt_v2_queue_step(t, &probe) != 0;
    if (!snap || (snap_priority(snap) != 0) != queued)
        f->queue_moved = true;
}

/* Every torrent in queue order: changed ones re-serialized, the others
 * only get their priority corrected. */
static bool queue_walk(struct qbt_v2_sync_main *m, struct session *s, uint64_t since)
{
    int64_t pos = 0;
    for (size_t i = 0; i < s->num_torrents; i++) {
        const struct torrent *t = s->torrents[i];
        int64_t prio = qbt_v2_queue_step(t, &pos);
        if (t->removing)
            continue;
        json_t *snap = json_object_get(m->torrents, t->hex);
        if (!snap || t->change_seq > since) {
            if (!torrent_fold(m, t, prio))
                return false;
        } else if (snap_priority(snap) != prio) {
            json_t *d = json_pack("{s:I}", "priority", (json_int_t)prio);
            if (!d || json_object_set_new(snap, "priority", json_integer(prio)) != 0 ||
                !buf_merge(m->b_torrents, t->hex, d))
                return false;
        }
    }
    return true;
}

/* ---- categories and tags (core/catalog) ---- */

/* §5.7 */
static json_t *category_json(const struct catalog_category *c)
{
    json_t *o = json_pack("{s:s, s:s}", "name", c->name, "savePath", c->save_path ? c->save_path : "");
    if (o && c->dl_mode == CATALOG_DL_OFF && !put(o, "download_path", json_false()))
        goto oom;
    if (o && c->dl_mode == CATALOG_DL_ON &&
        !put(o, "download_path", json_string(c->download_path ? c->download_path : "")))
        goto oom;
    return o;
oom:
    json_decref(o);
    return NULL;
}

/* Reconciles snapshot categories and tags with the catalog: O(catalog),
 * only when the catalog changed since the last fold. */
static bool catalog_fold(struct qbt_v2_sync_main *m, const struct catalog *cat)
{
    if (!cat || (m->catalog_synced && m->catalog_seq == cat->seq))
        return true;
    json_t *seen = json_object();
    bool ok = seen != NULL;
    for (size_t i = 0; ok && i < cat->num_cats; i++) {
        const struct catalog_category *c = &cat->cats[i];
        json_t *now = category_json(c);
        json_t *snap = json_object_get(m->categories, c->name);
        ok = now && set_add(seen, c->name);
        if (ok && !snap) {
            ok = json_object_set(m->categories, c->name, now) == 0 &&
                 put(m->b_categories, c->name, json_copy(now));
            json_object_del(m->b_categories_removed, c->name);
        } else if (ok) {
            json_t *diff = NULL;
            ok = diff_into(snap, now, &diff) && buf_merge(m->b_categories, c->name, diff);
        }
        json_decref(now);
    }
    const char *k;
    json_t *v, *tmp;
    json_object_foreach_safe(m->categories, tmp, k, v) {
        if (ok && !json_object_get(seen, k)) {
            ok = set_add(m->b_categories_removed, k);
            json_object_del(m->b_categories, k);
            json_object_del(m->categories, k);
        }
    }
    json_object_clear(seen);
    for (size_t i = 0; ok && i < cat->num_tags; i++) {
        const char *tag = cat->tags[i].name;
        ok = set_add(seen, tag);
        if (ok && !json_object_get(m->tags, tag)) {
            ok = set_add(m->tags, tag) && set_add(m->b_tags, tag);
            json_object_del(m->b_tags_removed, tag);
        }
    }
    json_object_foreach_safe(m->tags, tmp, k, v) {
        if (ok && !json_object_get(seen, k)) {
            ok = set_add(m->b_tags_removed, k);
            json_object_del(m->b_tags, k);
            json_object_del(m->tags, k);
        }
    }
    json_decref(seen);
    if (ok) {
        m->catalog_seq = cat->seq;
        m->catalog_synced = true;
    }
    return ok;
}

/* ---- the fold ---- */

static bool server_fold(struct qbt_v2_sync_main *m, struct session *s)
{
    json_t *now = qbt_v2_server_state_json(s), *diff = NULL;
    bool ok = now && diff_into(m->server_state, now, &diff);
    if (ok && diff) {
        ok = json_object_update(m->b_server_state, diff) == 0;
        json_decref(diff);
    }
    json_decref(now);
    return ok;
}

/* Brings snapshot and buffer up to date.  *rebuilt is set when the
 * snapshot had to be made from scratch (the reply must be full). */
static int main_fold(struct qbt_v2_sync_main *m, struct session *s, bool *rebuilt)
{
    struct fold f = {.m = m, .s = s};
    int rc = 0;
    if (m->valid && session_removed_since(s, m->seq, on_removed, &f) == -ERANGE) {
        log_debug("sync/maindata: removals since %llu forgotten, full update", (unsigned long long)m->seq);
        m->valid = false;
    }
    *rebuilt = !m->valid;
    if (!m->valid) {
        if ((rc = main_reset(m)) != 0)
            return rc;
        f.queue_moved = true;
    } else {
        session_changed_since(s, m->seq, on_changed, &f);
    }
    if (order_changed(m, s, &f.oom))
        f.queue_moved = true;
    bool ok = !f.oom;
    m->rebuilding = *rebuilt;   /* the buffer is cleared after the full reply */
    if (ok && f.queue_moved)
        ok = queue_walk(m, s, m->valid ? m->seq : 0);
    m->rebuilding = false;
    for (size_t i = 0; ok && !f.queue_moved && i < f.n; i++) {
        const struct torrent *t = f.changed[i];
        ok = torrent_fold(m, t, snap_priority(json_object_get(m->torrents, t->hex)));
    }
    free(f.changed);
    ok = ok && catalog_fold(m, s->catalog) && server_fold(m, s);
    if (!ok) {
        main_reset(m);
        return -ENOMEM;
    }
    m->valid = true;
    m->seq = s->change_seq;
    return 0;
}

/* ---- replies ---- */

static json_t *trackers_json(const struct qbt_v2_sync_main *m, const json_t *urls)
{
    json_t *o = json_object();
    const char *url;
    json_t *v;
    json_object_foreach((json_t *)urls, url, v) {
        if (!o || !put(o, url, keys_of(json_object_get(m->trackers, url)))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *copy_object(const json_t *src)
{
    return json_copy((json_t *)src);
}

/* Object of shallow copies of the objects in src (leaf values are shared:
 * they are never modified in place). */
static json_t *copy_objects(const json_t *src)
{
    json_t *o = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v) {
        if (!o || !put(o, k, json_copy(v))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *full_reply(const struct qbt_v2_sync_main *m, int rid, bool shared)
{
    json_t *o = json_pack("{s:i, s:b}", "rid", rid, "full_update", 1);
    bool ok = o && put(o, "torrents", shared ? json_incref(m->torrents) : copy_objects(m->torrents)) &&
              put(o, "categories", copy_objects(m->categories)) && put(o, "tags", keys_of(m->tags)) &&
              put(o, "trackers", trackers_json(m, m->trackers)) && put(o, "server_state", json_copy(m->server_state));
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Adds key = make(src) when src is not empty. */
static bool part(json_t *o, const char *key, const json_t *src, json_t *(*make)(const json_t *))
{
    return json_object_size(src) == 0 || put(o, key, make(src));
}

static json_t *partial_reply(const struct qbt_v2_sync_main *m, int rid)
{
    json_t *o = json_pack("{s:i}", "rid", rid);
    bool ok = o && part(o, "torrents", m->b_torrents, copy_objects) &&
              part(o, "torrents_removed", m->b_torrents_removed, keys_of) &&
              part(o, "categories", m->b_categories, copy_objects) &&
              part(o, "categories_removed", m->b_categories_removed, keys_of) &&
              part(o, "tags", m->b_tags, keys_of) && part(o, "tags_removed", m->b_tags_removed, keys_of) &&
              (json_object_size(m->b_trackers) == 0 || put(o, "trackers", trackers_json(m, m->b_trackers))) &&
              part(o, "trackers_removed", m->b_trackers_removed, keys_of) &&
              part(o, "server_state", m->b_server_state, copy_object);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int qbt_v2_sync_maindata(struct qbt_v2_client *c, struct session *s, int rid, bool shared, json_t **out)
{
    struct qbt_v2_sync_main *m = &c->main;
    *out = NULL;
    bool full = true;
    if (m->valid && rid > 0 && m->last_sent > 0) {
        if (rid == m->last_sent) {
            m->accepted = rid;
            buf_clear(m);
        }
        if (rid == m->accepted)
            full = false;
    }
    bool rebuilt;
    int rc = main_fold(m, s, &rebuilt);
    if (rc != 0)
        return rc;
    int id = (m->last_sent % RID_WRAP) + 1;
    if (full || rebuilt) {
        *out = full_reply(m, id, shared);
        m->accepted = 0;
        buf_clear(m);
    } else {
        *out = partial_reply(m, id);
    }
    if (!*out)
        return -ENOMEM;
    m->last_sent = id;
    return 0;
}

/* ---- sync/torrentPeers: snapshot diff ---- */

/* qBittorrent's processHash for {key: object}: new keys whole, changed
 * objects as their changed fields, vanished keys in *removed. */
static bool diff_hash(const json_t *prev, const json_t *now, json_t **changed, json_t **removed)
{
    *changed = json_object();
    *removed = json_array();
    if (!*changed || !*removed)
        return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)now, k, v) {
        json_t *old = json_object_get(prev, k);
        if (!old) {
            if (!put(*changed, k, json_deep_copy(v)))
                return false;
            continue;
        }
        json_t *d = NULL;
        bool ok = diff_fields(old, v, &d, false) && (!d || json_object_set(*changed, k, d) == 0);
        json_decref(d);
        if (!ok)
            return false;
    }
    json_object_foreach((json_t *)prev, k, v) {
        if (!json_object_get(now, k) && json_array_append_new(*removed, json_string(k)) != 0)
            return false;
    }
    return true;
}

static json_t *peers_diff(const json_t *prev, const json_t *now)
{
    json_t *o = json_object(), *changed = NULL, *removed = NULL;
    json_t *pf = json_object_get(prev, "show_flags"), *nf = json_object_get(now, "show_flags");
    bool ok = o && diff_hash(json_object_get(prev, "peers"), json_object_get(now, "peers"), &changed, &removed);
    if (ok && (!pf || !json_equal(pf, nf)))
        ok = json_object_set(o, "show_flags", nf) == 0;
    if (ok && json_object_size(changed))
        ok = json_object_set(o, "peers", changed) == 0;
    if (ok && json_array_size(removed))
        ok = json_object_set(o, "peers_removed", removed) == 0;
    json_decref(changed);
    json_decref(removed);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int qbt_v2_sync_peers(struct qbt_v2_client *c, const struct torrent *t, int rid, json_t **out)
{
    struct qbt_v2_sync_peers *p = &c->peers;
    *out = NULL;
    json_t *data = json_pack("{s:b, s:o*}", "show_flags", 0, "peers", qbt_v2_peers_json(t));
    if (!data || !json_object_get(data, "peers")) {
        json_decref(data);
        return -ENOMEM;
    }
    int last_id = rid > 0 && p->last ? (int)json_integer_value(json_object_get(p->last, "rid")) : 0;
    bool full = true;
    if (last_id > 0) {
        if (last_id == rid) {
            json_decref(p->accepted);
            p->accepted = json_incref(p->last);
        }
        if (p->accepted && json_integer_value(json_object_get(p->accepted, "rid")) == rid)
            full = false;
    }
    json_t *reply;
    if (full) {
        json_decref(p->accepted);
        p->accepted = NULL;
        reply = json_deep_copy(data);
        if (reply && json_object_set_new(reply, "full_update", json_true()) != 0) {
            json_decref(reply);
            reply = NULL;
        }
    } else {
        reply = peers_diff(p->accepted, data);
    }
    int id = (last_id % RID_WRAP) + 1;
    if (!reply || json_object_set_new(data, "rid", json_integer(id)) != 0 ||
        json_object_set_new(reply, "rid", json_integer(id)) != 0) {
        json_decref(reply);
        json_decref(data);
        return -ENOMEM;
    }
    json_decref(p->last);
    p->last = data;
    *out = reply;
    return 0;
}

void qbt_v2_client_clear(struct qbt_v2_client *c)
{
    main_clear(&c->main);
    json_decref(c->peers.last);
    json_decref(c->peers.accepted);
    memset(c, 0, sizeof(*c));
}

/* ---- HTTP ---- */

static void h_maindata(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    struct qbt_v2_client *c = qbt_v2_client_get(r);
    json_t *o = NULL;
    /* shared: web_reply_json serialises the reply at once */
    if (c && qbt_v2_sync_maindata(c, q->s, qbt_v2_parse_rid(web_req_param(r, "rid")), true, &o) == 0)
        web_reply_json(r, o);
    else
        web_reply_error(r, 500, NULL);
}

static void h_torrent_peers(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *h = web_req_param(r, "hash");
    struct torrent *t = h ? session_find_hex(q->s, h) : NULL;
    if (!t || t->removing) {
        web_reply_error(r, 404, NULL);
        return;
    }
    struct qbt_v2_client *c = qbt_v2_client_get(r);
    json_t *o = NULL;
    if (c && qbt_v2_sync_peers(c, t, qbt_v2_parse_rid(web_req_param(r, "rid")), &o) == 0)
        web_reply_json(r, o);
    else
        web_reply_error(r, 500, NULL);
}

int qbt_v2_register_sync(struct qbt_v2 *q)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/sync/maindata", WEB_GETPOST, h_maindata, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/sync/torrentPeers", WEB_GETPOST, h_torrent_peers, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
}
