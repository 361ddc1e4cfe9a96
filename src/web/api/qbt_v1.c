/* web/api/qbt_v1 — qBittorrent WebUI API v1 over the frame and the core.
 *
 * qBittorrent 4.1 answered v1 by mapping each legacy path onto its v2
 * action (clients-wave2.md §2.1, outside the repository); here each v1
 * path has its own small handler on the same shared pieces: the v2
 * dialect's login/logout handlers (one session, one ban), its JSON
 * builders (the torrent object in its 4.1 flavour) and its parameter rules
 * (filter, hashes, sort, paging).  A hash given as the last path segment
 * (/query/propertiesGeneral/<hash>) is read from a frame prefix route
 * (a path ending in a slash and a star, web/server.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/limits.h"
#include "core/service.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/torrent_status.h"
#include "web/api/qbt_v1.h"
#include "web/api/qbt_v1_int.h"
#include "web/api/qbt_v2_int.h"
#include "web/api/qbt_v2_prefs.h"
#include "util/log.h"
#include "core/view.h"

/* What qBittorrent 4.1.9 answers (clients-wave2.md §2.1): Sonarr parses
 * "1." + api and wants >= 1.6 (categories); it trims the leading 'v'. */
#define QBT_V1_API "24"
#define QBT_V1_API_MIN "23"
#define QBT_V1_VERSION "v4.1.9"


static void reply_json(struct web_req *r, json_t *j)
{
    if (j)
        web_reply_json(r, j);
    else
        web_reply_error(r, 500, NULL);
}

/* ---- version paths (public) ---- */

static void h_api(struct web_req *r, void *ud)
{
    (void)ud;
    web_reply_text(r, 200, QBT_V1_API);
}

static void h_api_min(struct web_req *r, void *ud)
{
    (void)ud;
    web_reply_text(r, 200, QBT_V1_API_MIN);
}

static void h_version(struct web_req *r, void *ud)
{
    (void)ud;
    web_reply_text(r, 200, QBT_V1_VERSION);
}

/* ---- query paths ---- */

/* The torrent named by the last path segment; replies 404 itself on NULL
 * (qBittorrent 4.1: an unknown hash is 404 Not Found). */
static struct torrent *path_torrent(struct web_req *r, struct qbt_v1 *q)
{
    const char *p = strrchr(web_req_path(r), '/');
    struct torrent *t = p ? session_find_hex(q->s, p + 1) : NULL;
    if (!t || t->removing) {
        web_reply_error(r, 404, NULL);
        return NULL;
    }
    return t;
}

static int64_t param_int(struct web_req *r, const char *name)
{
    const char *v = web_req_param(r, name);
    if (!v || !*v)
        return 0;
    char *e;
    errno = 0;
    long long x = strtoll(v, &e, 10);
    return (*e || errno) ? 0 : (int64_t)x;
}

static bool list_has(const struct qbt_v2_list *l, const struct torrent *t)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == t)
            return true;
    return false;
}

static void h_torrents(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    enum qbt_v2_filter f = qbt_v2_filter_parse(web_req_param(r, "filter"));
    /* API6 renamed label to category; Sonarr sends both, older clients only label. */
    const char *cat = web_req_param(r, "category");
    if (!cat)
        cat = web_req_param(r, "label");
    const char *hashes = web_req_param(r, "hashes");
    struct qbt_v2_list ids = {0};
    json_t *arr = json_array();
    if (!arr || qbt_v2_parse_hashes(q->s, hashes, false, &ids) != 0) {
        qbt_v2_list_free(&ids);
        json_decref(arr);
        web_reply_error(r, 500, NULL);
        return;
    }
    int64_t pos = 0;
    for (size_t i = 0; i < q->s->num_torrents; i++) {
        const struct torrent *t = q->s->torrents[i];
        int64_t prio = qbt_v2_queue_step(t, &pos);
        if (t->removing || (hashes && !list_has(&ids, t)))
            continue;
        if (cat && strcmp(cat, t->category ? t->category : "") != 0)
            continue;
        struct torrent_status st;
        torrent_status_now(t, &st);
        if (!qbt_v2_filter_match(f, t, &st))
            continue;
        json_array_append_new(arr, qbt_v2_torrent_json_v1(t, prio));
    }
    qbt_v2_list_free(&ids);
    const char *sort = web_req_param(r, "sort");
    if (sort && *sort && qbt_v2_sort(arr, sort, web_req_bool(r, "reverse", false)) != 0) {
        json_decref(arr);
        web_reply_error(r, 400, "'sort' parameter is invalid");
        return;
    }
    qbt_v2_page(arr, param_int(r, "limit"), param_int(r, "offset"));
    reply_json(r, arr);
}

static void h_general(struct web_req *r, void *ud)
{
    struct torrent *t = path_torrent(r, ud);
    if (t)
        reply_json(r, qbt_v2_properties_json(t));
}

static void h_trackers(struct web_req *r, void *ud)
{
    struct torrent *t = path_torrent(r, ud);
    if (t)
        reply_json(r, qbt_v2_trackers_json(t, false));   /* 4.1: no DHT/PeX/LSD rows */
}

static void h_webseeds(struct web_req *r, void *ud)
{
    struct torrent *t = path_torrent(r, ud);
    if (t)
        reply_json(r, qbt_v2_webseeds_json(t));
}

static void h_files(struct web_req *r, void *ud)
{
    struct torrent *t = path_torrent(r, ud);
    if (t)
        reply_json(r, qbt_v2_files_json(t, NULL, 0));
}

static void h_piece_states(struct web_req *r, void *ud)
{
    struct torrent *t = path_torrent(r, ud);
    if (t)
        reply_json(r, qbt_v2_piece_states_json(t));
}

static void h_piece_hashes(struct web_req *r, void *ud)
{
    struct torrent *t = path_torrent(r, ud);
    if (t)
        reply_json(r, qbt_v2_piece_hashes_json(t));
}

static void h_transfer_info(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    reply_json(r, qbt_v2_transfer_info_json(q->s));
}

static void h_preferences(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    reply_json(r, qbt_v2_prefs_to_json(&q->s->settings));
}


/* ---- command paths ---- */

#define MAX_ITEMS 10000   /* file ids, tracker lines in one request */

/* The torrents a command acts on: `hashes` ('|'-separated or "all"), or
 * for the per-torrent commands of 3.x clients `hash` (Sonarr's and
 * qbittorrent-api's pause/resume/recheck).  Unknown hashes are skipped, as
 * in qBittorrent.  Replies 400 (neither given) or 500 itself on false. */
static bool targets(struct web_req *r, struct qbt_v1 *q, struct qbt_v2_list *l)
{
    (void)q;   /* v2's rule over the same session */
    memset(l, 0, sizeof *l);
    return qbt_v2_targets(r, qbt_v2_instance(), web_req_param(r, "hashes") ? "hashes" : "hash", l);
}

/* The one torrent of `hash`; 400 missing, 404 unknown (replied here). */
static struct torrent *single(struct web_req *r, struct qbt_v1 *q)
{
    (void)q;   /* v2's rule over the same session */
    return qbt_v2_single(r, qbt_v2_instance());
}

typedef int (*each_fn)(struct session *s, struct torrent *t, service_done_cb cb, void *ud);

/* Runs fn on every target, answering 200 once every change is committed. */
static void for_each(struct web_req *r, struct qbt_v1 *q, struct qbt_v2_list *l, each_fn fn)
{
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l->n; i++) {
        b->pending++;
        qbt_v2_batch_check(b, fn(q->s, l->v[i], qbt_v2_batch_done, b));
    }
    qbt_v2_list_free(l);
    if (b)
        qbt_v2_batch_done(b, 0);
}

static void run_targets(struct web_req *r, void *ud, each_fn fn)
{
    struct qbt_v2_list l;
    if (targets(r, ud, &l))
        for_each(r, ud, &l, fn);
}

/* Every torrent (pauseAll/resumeAll). */
static void run_all(struct web_req *r, struct qbt_v1 *q, each_fn fn)
{
    struct qbt_v2_list l = {0};
    if (qbt_v2_parse_hashes(q->s, "all", true, &l) != 0) {
        qbt_v2_list_free(&l);
        web_reply_error(r, 500, NULL);
        return;
    }
    for_each(r, q, &l, fn);
}

static void h_download(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    if (!web_req_param(r, "urls")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    qbt_v2_add(r, q->s, true);
}

static void h_upload(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    if (web_req_file_count(r) == 0) {
        web_reply_error(r, 400, NULL);
        return;
    }
    qbt_v2_add(r, q->s, true);
}

static void h_pause(struct web_req *r, void *ud) { run_targets(r, ud, service_stop); }
static void h_resume(struct web_req *r, void *ud) { run_targets(r, ud, service_start); }
static void h_pause_all(struct web_req *r, void *ud) { run_all(r, ud, service_stop); }
static void h_resume_all(struct web_req *r, void *ud) { run_all(r, ud, service_start); }

static int remove_keep(struct session *s, struct torrent *t, service_done_cb cb, void *ud)
{
    (void)s;
    torrent_remove(t, false, cb, ud);
    return 0;
}

static int remove_data(struct session *s, struct torrent *t, service_done_cb cb, void *ud)
{
    (void)s;
    torrent_remove(t, true, cb, ud);
    return 0;
}

static void h_delete(struct web_req *r, void *ud) { run_targets(r, ud, remove_keep); }
static void h_delete_perm(struct web_req *r, void *ud) { run_targets(r, ud, remove_data); }

static void h_recheck(struct web_req *r, void *ud)
{
    struct qbt_v2_list l;
    if (!targets(r, ud, &l))
        return;
    for (size_t i = 0; i < l.n; i++)
        torrent_recheck(l.v[i]);
    qbt_v2_list_free(&l);
    web_reply_ok(r);
}

/* setCategory (`category`) and 3.x's setLabel (`label`): 409 for a
 * category that does not exist, as 4.1 answers. */
static void set_category(struct web_req *r, struct qbt_v1 *q, const char *param)
{
    const char *cat = web_req_param(r, param);
    if (!cat) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct qbt_v2_list l;
    if (!targets(r, q, &l))
        return;
    qbt_v2_apply_category(r, q->s, &l, cat);
}

static void h_set_category(struct web_req *r, void *ud) { set_category(r, ud, "category"); }
static void h_set_label(struct web_req *r, void *ud) { set_category(r, ud, "label"); }

static void h_add_category(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    const char *name = web_req_param(r, "category");
    if (!name || !*name) {
        web_reply_error(r, 400, name ? "Category cannot be empty" : NULL);
        return;
    }
    const char *sp = web_req_param(r, "savePath");
    struct catalog_category_opts o = {0};
    o.save_path = sp ? sp : "";
    qbt_v2_apply_create_category(r, q->s, name, &o);
}

static void h_remove_categories(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    const char *cats = web_req_param(r, "categories");
    if (!cats) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    if (!b)
        return;
    for (const char *p = cats; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *name = strndup(p, len);
        if (name && *name) {
            b->pending++;
            int rc = service_category_remove(q->s, name, qbt_v2_batch_done, b);
            if (rc != 0)
                b->pending--;   /* unknown: skipped, as in qBittorrent */
        }
        free(name);
        if (!nl)
            break;
        p = nl + 1;
    }
    qbt_v2_batch_done(b, 0);
}

static bool to_int(const char *v, int64_t *out)
{
    if (!v || !*v)
        return false;
    char *e;
    errno = 0;
    long long x = strtoll(v, &e, 10);
    if (*e || errno)
        return false;
    *out = x;
    return true;
}

/* setFilePrio: hash, id ('|'-separated visible file indexes), priority. */
static void h_set_file_prio(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    const char *ids = web_req_param(r, "id");
    int64_t prio;
    if (!ids || !web_req_param(r, "hash") || !web_req_param(r, "priority")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    if (!to_int(web_req_param(r, "priority"), &prio) ||
        (prio != 0 && prio != 1 && prio != 2 && prio != 6 && prio != 7)) {
        web_reply_error(r, 400, "Priority is not valid");
        return;
    }
    if (prio == 2)
        prio = 6;   /* 4.1's "high" was 2 in 3.x (seed 001) */
    struct torrent *t = single(r, q);
    if (!t)
        return;
    struct view_meta m;
    view_meta(t, &m);
    if (!m.has_metadata) {
        web_reply_error(r, 409, "Torrent's metadata has not yet downloaded");
        return;
    }
    size_t *idx = malloc(MAX_ITEMS * sizeof *idx), n = 0;
    if (!idx) {
        web_reply_error(r, 500, NULL);
        return;
    }
    for (const char *p = ids; n < MAX_ITEMS;) {
        char *end;
        errno = 0;
        long long id = strtoll(p, &end, 10);
        struct view_file f;
        if (end == p || errno || (*end && *end != '|')) {
            free(idx);
            web_reply_error(r, 400, "File IDs must be integers");
            return;
        }
        if (id < 0 || view_file(t, (size_t)id, &f) != 0) {
            free(idx);
            web_reply_error(r, 409, "File ID is not valid");
            return;
        }
        idx[n++] = f.index;
        if (!*end)
            break;
        p = end + 1;
    }
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    if (b) {
        b->pending++;
        qbt_v2_batch_check(b, service_set_file_priorities(q->s, t, idx, n, (int)prio, qbt_v2_batch_done, b));
        qbt_v2_batch_done(b, 0);
    }
    free(idx);
}

/* get{Torrents}{Up,Dl}Limit: {hash: limit} (0 = none, like v2). */
static void torrents_limit(struct web_req *r, struct qbt_v1 *q, bool up)
{
    struct qbt_v2_list l;
    if (!targets(r, q, &l))
        return;
    json_t *o = json_object();
    for (size_t i = 0; o && i < l.n; i++) {
        int64_t v = up ? l.v[i]->up_limit : l.v[i]->dl_limit;
        json_object_set_new(o, l.v[i]->hex, json_integer(v > 0 ? v : 0));
    }
    qbt_v2_list_free(&l);
    reply_json(r, o);
}

static void h_get_up(struct web_req *r, void *ud) { torrents_limit(r, ud, true); }
static void h_get_dl(struct web_req *r, void *ud) { torrents_limit(r, ud, false); }

static void set_torrents_limit(struct web_req *r, struct qbt_v1 *q, bool up)
{
    int64_t v;
    if (!to_int(web_req_param(r, "limit"), &v)) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct qbt_v2_list l;
    if (!targets(r, q, &l))
        return;
    qbt_v2_apply_rate_limit(r, q->s, &l, up, v);
}

static void h_set_up(struct web_req *r, void *ud) { set_torrents_limit(r, ud, true); }
static void h_set_dl(struct web_req *r, void *ud) { set_torrents_limit(r, ud, false); }

static void reply_int(struct web_req *r, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    web_reply_text(r, 200, buf);
}

static void global_limit(struct web_req *r, struct qbt_v1 *q, bool download)
{
    reply_int(r, (int64_t)limits_rate(q->s, download));
}

static void h_global_up(struct web_req *r, void *ud) { global_limit(r, ud, false); }
static void h_global_dl(struct web_req *r, void *ud) { global_limit(r, ud, true); }

static void after_commit(void *ud, int rc)
{
    if (rc == 0)
        web_reply_ok(ud);
    else
        web_reply_error(ud, 500, NULL);
}

static void set_global(struct web_req *r, struct qbt_v1 *q, bool download)
{
    int64_t v;
    if (!to_int(web_req_param(r, "limit"), &v)) {
        web_reply_error(r, 400, NULL);
        return;
    }
    int rc = limits_set_rate(q->s, download, v, after_commit, r);
    if (rc != 0)
        web_reply_error(r, rc == -EINVAL ? 400 : 500, NULL);
}

static void h_set_global_up(struct web_req *r, void *ud) { set_global(r, ud, false); }
static void h_set_global_dl(struct web_req *r, void *ud) { set_global(r, ud, true); }

static void h_alt_enabled(struct web_req *r, void *ud)
{
    web_reply_text(r, 200, limits_alt(((struct qbt_v1 *)ud)->s) ? "true" : "false");
}

static void h_toggle_alt(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    if (limits_set_alt(q->s, !limits_alt(q->s), after_commit, r) != 0)
        web_reply_error(r, 500, NULL);
}

static void move(struct web_req *r, struct qbt_v1 *q, enum queue_move how)
{
    struct qbt_v2_list l;
    if (!targets(r, q, &l))
        return;
    qbt_v2_apply_queue_move(r, q->s, &l, how);
}

static void h_increase(struct web_req *r, void *ud) { move(r, ud, QUEUE_UP); }
static void h_decrease(struct web_req *r, void *ud) { move(r, ud, QUEUE_DOWN); }
static void h_top(struct web_req *r, void *ud) { move(r, ud, QUEUE_TOP); }
static void h_bottom(struct web_req *r, void *ud) { move(r, ud, QUEUE_BOTTOM); }

static void h_set_location(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    const char *loc = web_req_param(r, "location");
    if (!loc || !*loc) {
        web_reply_error(r, 400, loc ? "Save path cannot be empty" : NULL);
        return;
    }
    if (loc[0] != '/') {
        web_reply_error(r, 400, "Save path must be absolute");
        return;
    }
    struct qbt_v2_list l;
    if (!targets(r, q, &l))
        return;
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l.n; i++) {
        b->pending++;
        qbt_v2_batch_check(b, service_set_location(q->s, l.v[i], loc, qbt_v2_batch_done, b));
    }
    qbt_v2_list_free(&l);
    if (b)
        qbt_v2_batch_done(b, 0);
}

/* Commands taking `value` (true/false) for every target. */
enum v1_bool_cmd { CMD_AUTO_TMM, CMD_SUPER_SEEDING, CMD_FORCE_START, CMD_TOGGLE_SEQ, CMD_TOGGLE_FLP };

static void bool_cmd(struct web_req *r, struct qbt_v1 *q, enum v1_bool_cmd c)
{
    const char *pname = c == CMD_AUTO_TMM ? "enable" : "value";
    bool toggle = c == CMD_TOGGLE_SEQ || c == CMD_TOGGLE_FLP;
    if (!toggle && !web_req_param(r, pname)) {
        web_reply_error(r, 400, NULL);
        return;
    }
    bool v = web_req_bool(r, pname, false);
    struct qbt_v2_list l;
    if (!targets(r, q, &l))
        return;
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l.n; i++) {
        struct torrent *t = l.v[i];
        int rc;
        b->pending++;
        switch (c) {
        case CMD_AUTO_TMM: rc = service_set_auto_tmm(q->s, t, v, qbt_v2_batch_done, b); break;
        case CMD_SUPER_SEEDING:
            rc = service_set_flag(q->s, t, SERVICE_FLAG_SUPER_SEEDING, v, qbt_v2_batch_done, b);
            break;
        case CMD_FORCE_START: rc = service_set_forced(q->s, t, v, qbt_v2_batch_done, b); break;
        case CMD_TOGGLE_SEQ: rc = service_set_flag(q->s, t, SERVICE_FLAG_SEQUENTIAL, -1, qbt_v2_batch_done, b); break;
        default: rc = service_set_flag(q->s, t, SERVICE_FLAG_FIRST_LAST, -1, qbt_v2_batch_done, b); break;
        }
        qbt_v2_batch_check(b, rc);
    }
    qbt_v2_list_free(&l);
    if (b)
        qbt_v2_batch_done(b, 0);
}

static void h_set_auto_tmm(struct web_req *r, void *ud) { bool_cmd(r, ud, CMD_AUTO_TMM); }
static void h_set_super_seeding(struct web_req *r, void *ud) { bool_cmd(r, ud, CMD_SUPER_SEEDING); }
static void h_set_force_start(struct web_req *r, void *ud) { bool_cmd(r, ud, CMD_FORCE_START); }
static void h_toggle_seq(struct web_req *r, void *ud) { bool_cmd(r, ud, CMD_TOGGLE_SEQ); }
static void h_toggle_flp(struct web_req *r, void *ud) { bool_cmd(r, ud, CMD_TOGGLE_FLP); }

static void h_rename(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    const char *name = web_req_param(r, "name");
    if (!name) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct torrent *t = single(r, q);
    if (!t)
        return;
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    if (!b)
        return;
    b->pending++;
    int rc = service_set_name(q->s, t, name, qbt_v2_batch_done, b);
    if (rc == -EINVAL) {
        free(b);
        web_reply_error(r, 409, "Incorrect torrent name");
        return;
    }
    qbt_v2_batch_check(b, rc);
    qbt_v2_batch_done(b, 0);
}

static void h_get_save_path(struct web_req *r, void *ud)
{
    const char *p = session_default_save_path(((struct qbt_v1 *)ud)->s);
    web_reply_text(r, 200, p ? p : "");
}

/* addTrackers: hash, urls one a line. */
static void h_add_trackers(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    const char *urls = web_req_param(r, "urls");
    if (!urls) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct torrent *t = single(r, q);
    if (!t)
        return;
    struct service_tracker *v = malloc(MAX_ITEMS * sizeof *v);
    size_t n = 0;
    for (const char *p = urls; v && n < MAX_ITEMS;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        char *u = len ? strndup(p, len) : NULL;
        if (u)
            v[n++] = (struct service_tracker){u, 0};
        if (!nl)
            break;
        p = nl + 1;
    }
    if (!v) {
        web_reply_error(r, 500, NULL);
        return;
    }
    service_add_trackers(q->s, t, v, n);
    for (size_t i = 0; i < n; i++)
        free((char *)v[i].url);
    free(v);
    web_reply_ok(r);
}

int qbt_v1_register(struct web_server *ws, struct session *s)
{
    static struct qbt_v1 q;
    q = (struct qbt_v1){ws, s, 0};
    static const struct web_route_def routes[] = {
        {"/version/api", WEB_GET, h_api, WEB_AUTH_PUBLIC, NULL},
        {"/version/api_min", WEB_GET, h_api_min, WEB_AUTH_PUBLIC, NULL},
        {"/version/qbittorrent", WEB_GET, h_version, WEB_AUTH_PUBLIC, NULL},
        {"/login", WEB_POST, qbt_v2_h_login, WEB_AUTH_PUBLIC, NULL},
        {"/logout", WEB_GETPOST, qbt_v2_h_logout, WEB_AUTH_QBT_SESSION, NULL},
        {"/query/torrents", WEB_GETPOST, h_torrents, WEB_AUTH_QBT_SESSION, NULL},
        {"/query/propertiesGeneral/*", WEB_GETPOST, h_general, WEB_AUTH_QBT_SESSION, NULL},
        {"/query/propertiesTrackers/*", WEB_GETPOST, h_trackers, WEB_AUTH_QBT_SESSION, NULL},
        {"/query/propertiesWebSeeds/*", WEB_GETPOST, h_webseeds, WEB_AUTH_QBT_SESSION, NULL},
        {"/query/propertiesFiles/*", WEB_GETPOST, h_files, WEB_AUTH_QBT_SESSION, NULL},
        {"/query/getPieceStates/*", WEB_GETPOST, h_piece_states, WEB_AUTH_QBT_SESSION, NULL},
        {"/query/getPieceHashes/*", WEB_GETPOST, h_piece_hashes, WEB_AUTH_QBT_SESSION, NULL},
        {"/query/transferInfo", WEB_GETPOST, h_transfer_info, WEB_AUTH_QBT_SESSION, NULL},
        {"/query/preferences", WEB_GETPOST, h_preferences, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/download", WEB_POST, h_download, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/upload", WEB_POST, h_upload, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/pause", WEB_POST, h_pause, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/resume", WEB_POST, h_resume, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/pauseAll", WEB_POST, h_pause_all, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/resumeAll", WEB_POST, h_resume_all, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/delete", WEB_POST, h_delete, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/deletePerm", WEB_POST, h_delete_perm, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/recheck", WEB_POST, h_recheck, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/rename", WEB_POST, h_rename, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/setCategory", WEB_POST, h_set_category, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/setLabel", WEB_POST, h_set_label, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/addCategory", WEB_POST, h_add_category, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/removeCategories", WEB_POST, h_remove_categories, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/setFilePrio", WEB_POST, h_set_file_prio, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/getTorrentsUpLimit", WEB_POST, h_get_up, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/getTorrentsDlLimit", WEB_POST, h_get_dl, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/setTorrentsUpLimit", WEB_POST, h_set_up, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/setTorrentsDlLimit", WEB_POST, h_set_dl, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/getGlobalUpLimit", WEB_GETPOST, h_global_up, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/getGlobalDlLimit", WEB_GETPOST, h_global_dl, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/setGlobalUpLimit", WEB_POST, h_set_global_up, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/setGlobalDlLimit", WEB_POST, h_set_global_dl, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/alternativeSpeedLimitsEnabled", WEB_GETPOST, h_alt_enabled, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/toggleAlternativeSpeedLimits", WEB_POST, h_toggle_alt, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/increasePrio", WEB_POST, h_increase, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/decreasePrio", WEB_POST, h_decrease, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/topPrio", WEB_POST, h_top, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/bottomPrio", WEB_POST, h_bottom, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/setLocation", WEB_POST, h_set_location, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/setAutoTMM", WEB_POST, h_set_auto_tmm, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/setSuperSeeding", WEB_POST, h_set_super_seeding, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/setForceStart", WEB_POST, h_set_force_start, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/toggleSequentialDownload", WEB_POST, h_toggle_seq, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/toggleFirstLastPiecePrio", WEB_POST, h_toggle_flp, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/getSavePath", WEB_GETPOST, h_get_save_path, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/addTrackers", WEB_POST, h_add_trackers, WEB_AUTH_QBT_SESSION, NULL},
    };
    /* shared whole with v2: the same parameters and answers in 4.1 */
    static const struct web_route_def shared[] = {
        {"/command/setPreferences", WEB_POST, qbt_v2_h_set_preferences, WEB_AUTH_QBT_SESSION, NULL},
        {"/command/shutdown", WEB_GETPOST, qbt_v2_h_shutdown, WEB_AUTH_QBT_SESSION, NULL},
    };
    int rc = web_routes_add(ws, routes, sizeof routes / sizeof routes[0], &q);
    if (rc == 0)
        rc = web_routes_add(ws, shared, sizeof shared / sizeof shared[0], qbt_v2_instance());
    if (rc == 0)
        rc = qbt_v1_register_sync(&q);
    if (rc != 0)
        log_msg(LOG_CRITICAL, "WebAPI v1: cannot register routes (%d)", rc);
    return rc;
}
