/* web/api/ut_gui_actions — the acting calls of seed 004 "Actions" and the
 * server extras (api-surface.md §12.2), each a translation over
 * core/service.h.
 *
 * Torrent actions take one or many hash= (upper or lower case); a hash
 * that names no torrent is ignored, as µTorrent does: nothing changes and
 * the reply is still {"build":N}.  The reply goes out once every change
 * is committed (the service callbacks), as the qBittorrent dialects do.
 *
 * Vocabulary differences, decided here:
 * - pause/unpause: torrentd has no pause distinct from stop (a stopped
 *   torrent keeps nothing running), so pause stops and unpause starts; the
 *   row then shows "Stopped" (136), never the PAUSED bit.
 * - remove / removetorrent keep the data, removedata / removedatatorrent
 *   delete it.  The "torrent file" µTorrent also deletes is its copy in
 *   its settings folder; torrentd keeps metainfo only in its store, which
 *   every removal clears, so the torrent variants equal the plain ones.
 * - start clears a forced start (µTorrent's start puts the job back under
 *   the queue), forcestart sets it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>

#include "core/service.h"
#include "core/session.h"
#include "core/settings.h"
#include "core/view.h"
#include "util/log.h"
#include "util/path.h"
#include "web/api/ut_gui_int.h"

/* The torrents of c's hash= parameters, or replied (500) and false. */
static bool targets(struct ut_call *c, struct torrent ***ts, size_t *n)
{
    if (ut_call_hashes(c, ts, n) != 0) {
        ut_reply(c, NULL);
        return false;
    }
    return true;
}

typedef int (*svc_fn)(struct session *, struct torrent *, service_done_cb, void *);

static void each(struct ut_call *c, svc_fn fn)
{
    struct torrent **ts;
    size_t n;
    if (!targets(c, &ts, &n))
        return;
    struct ut_wait *b = ut_wait_new(c);
    for (size_t i = 0; b && i < n; i++) {
        ut_wait_hold(b);
        ut_wait_started(b, fn(c->s, ts[i], ut_wait_done, b));
    }
    free(ts);
    if (b)
        ut_wait_done(b, 0);
}

static int do_start(struct session *s, struct torrent *t, service_done_cb cb, void *ud)
{
    if (t->forced) {
        /* the job goes back under the queue: forced off, then started */
        struct ut_wait *b = ud;
        ut_wait_hold(b);
        ut_wait_started(b, service_set_forced(s, t, false, cb, ud));
    }
    return service_start(s, t, cb, ud);
}

static int do_force(struct session *s, struct torrent *t, service_done_cb cb, void *ud)
{
    return service_set_forced(s, t, true, cb, ud);
}

static int do_recheck(struct session *s, struct torrent *t, service_done_cb cb, void *ud)
{
    (void)s;
    (void)cb;
    (void)ud;
    torrent_recheck(t);
    return -EALREADY;   /* nothing to commit: no callback */
}

static int do_remove(struct session *s, struct torrent *t, service_done_cb cb, void *ud)
{
    (void)s;
    torrent_remove(t, false, cb, ud);
    return 0;
}

static int do_remove_data(struct session *s, struct torrent *t, service_done_cb cb, void *ud)
{
    (void)s;
    torrent_remove(t, true, cb, ud);
    return 0;
}

void ut_gui_start(struct ut_call *c) { each(c, do_start); }
void ut_gui_stop(struct ut_call *c) { each(c, service_stop); }
void ut_gui_pause(struct ut_call *c) { each(c, service_stop); }
void ut_gui_unpause(struct ut_call *c) { each(c, service_start); }
void ut_gui_forcestart(struct ut_call *c) { each(c, do_force); }
void ut_gui_recheck(struct ut_call *c) { each(c, do_recheck); }
void ut_gui_remove(struct ut_call *c) { each(c, do_remove); }
void ut_gui_removedata(struct ut_call *c) { each(c, do_remove_data); }
void ut_gui_removetorrent(struct ut_call *c) { each(c, do_remove); }
void ut_gui_removedatatorrent(struct ut_call *c) { each(c, do_remove_data); }

/* ---- queue ---- */

static void move(struct ut_call *c, enum queue_move how)
{
    struct torrent **ts;
    size_t n;
    if (!targets(c, &ts, &n))
        return;
    if (n == 0) {
        ut_reply_build(c);
        return;
    }
    struct ut_wait *b = ut_wait_new(c);
    if (b) {
        ut_wait_hold(b);
        int rc = service_queue_move(c->s, ts, n, how, ut_wait_done, b);
        ut_wait_started(b, rc);
        if (rc == -EPERM)
            ut_wait_fail(b, "Torrent queueing is disabled");
        ut_wait_done(b, 0);
    }
    free(ts);
}

void ut_gui_queuetop(struct ut_call *c) { move(c, QUEUE_TOP); }
void ut_gui_queueup(struct ut_call *c) { move(c, QUEUE_UP); }
void ut_gui_queuedown(struct ut_call *c) { move(c, QUEUE_DOWN); }
void ut_gui_queuebottom(struct ut_call *c) { move(c, QUEUE_BOTTOM); }

/* ---- setprio ---- */

/* µTorrent's file priorities (seed 004 "Files List": 0 skip, 1 low, 2
 * normal, 3 high) in the core's (0, 1, 6, 7: qBittorrent's skip, normal,
 * high, maximum).  qBittorrent has nothing below normal, so low is
 * stored as normal (and reads back as 2); high is maximum. */
static int prio_to_core(int64_t p)
{
    return p == 0 ? 0 : p == 3 ? 7 : 1;
}

void ut_gui_setprio(struct ut_call *c)
{
    struct torrent **ts;
    size_t n;
    if (!targets(c, &ts, &n))
        return;
    int64_t p;
    if (!ut_parse_int(ut_query_get(&c->q, "p"), 0, 3, &p)) {
        free(ts);
        ut_reply_error(c, "p must be a priority 0-3");
        return;
    }
    struct ut_wait *b = ut_wait_new(c);
    for (size_t i = 0; b && i < n; i++) {
        struct torrent *t = ts[i];
        size_t nf = view_file_count(t), k = 0;
        size_t *idx = malloc((c->q.n ? c->q.n : 1) * sizeof *idx);
        if (!idx) {
            ut_wait_fail(b, "out of memory");
            break;
        }
        bool bad = false;
        for (size_t j = 0; j < c->q.n; j++) {
            if (strcmp(c->q.v[j].key, "f") != 0)
                continue;
            int64_t f;
            struct view_file vf;
            if (nf == 0 || !ut_parse_int(c->q.v[j].val, 0, (int64_t)nf - 1, &f) || view_file(t, (size_t)f, &vf) != 0) {
                bad = true;
                break;
            }
            idx[k++] = vf.index;
        }
        if (bad) {
            ut_wait_fail(b, nf == 0 ? "the torrent has no metadata yet" : "f must be a file index of getfiles");
        } else if (k) {
            ut_wait_hold(b);
            ut_wait_started(b, service_set_file_priorities(c->s, t, idx, k, prio_to_core(p), ut_wait_done, b));
        }
        free(idx);
    }
    free(ts);
    if (b)
        ut_wait_done(b, 0);
}

/* ---- adding ---- */

/* seed 004 "Optional parameters to add-file, add-unknown-url, and
 * add-url": download_dir indexes list-dirs (0 = the default directory,
 * 1..N the ut_dir_download list), path is a subdirectory under it that
 * "may not contain '..' and must be a relative path".  Sets o->save_path
 * (NULL when neither is given: the category's or the default path).
 * NULL, or the error to reply. */
static const char *add_location(struct ut_call *c, struct service_add_opts *o)
{
    const char *dd = ut_query_get(&c->q, "download_dir");
    const char *sub = ut_query_get(&c->q, "path");
    for (size_t i = 0; i < c->q.n; i++)
        if (strcmp(c->q.v[i].key, "path") == 0 && ut_param_has_nul(&c->q.v[i]))
            return "path must not contain a NUL byte";
    if (sub && *sub) {
        if (sub[0] == '/' || sub[0] == '\\')
            return "path must be relative to the download directory";
        for (const char *p = sub; *p;) {
            size_t n = strcspn(p, "/\\");
            if (n == 2 && p[0] == '.' && p[1] == '.')
                return "path must not contain '..'";
            p += n;
            if (*p)
                p++;
        }
    }
    int64_t di = 0;
    if (dd && *dd && !ut_parse_int(dd, 0, INT32_MAX, &di))
        return "download_dir must be an index of list-dirs";
    if ((!dd || !*dd) && (!sub || !*sub))
        return NULL;
    const char *base = session_default_save_path(c->s);
    json_t *dirs = NULL;
    if (di > 0) {
        dirs = json_loads(settings_str(&c->s->settings, SET_UT_DIR_DOWNLOAD), 0, NULL);
        json_t *d = json_array_get(dirs, (size_t)di - 1);
        if (!json_is_string(d)) {
            json_decref(dirs);
            return "download_dir must be an index of list-dirs";
        }
        base = json_string_value(d);
    }
    o->save_path = sub && *sub ? path_join(base, sub) : strdup(base);
    json_decref(dirs);
    o->p.auto_tmm = false;
    return o->save_path ? NULL : "out of memory";
}

/* An add with the preferences' defaults (µTorrent's calls carry no add
 * options besides the location). */
struct add {
    struct ut_call *c;
    char *url;           /* add-unknown-url: a non-torrent may be a feed */
};

static void on_added(void *ud, int rc, struct torrent *t)
{
    (void)t;
    struct add *a = ud;
    if (rc == 0 || rc == -EEXIST)
        ut_reply_build(a->c);
    else if (rc == -EBADMSG && a->url)
        ut_gui_rss_add_unknown(a->c, a->url);
    else if (rc == -EBADMSG)
        ut_reply_error(a->c, "the URL is no valid torrent");
    else
        ut_reply_error(a->c, "cannot add the torrent");
    free(a->url);
    free(a);
}

/* The options of an add: the preferences' defaults (incomplete folder
 * included: utserver.conf's dir_active), then where the client asked for
 * it.  False when refused (replied). */
static bool add_opts(struct ut_call *c, struct service_add_opts *o)
{
    const char *err = service_add_opts_defaults(c->s, o) == 0 ? add_location(c, o) : "out of memory";
    if (!err && service_add_opts_resolve(c->s, o) != 0)
        err = "out of memory";
    if (err) {
        service_add_opts_free(o);
        ut_reply_error(c, err);
        return false;
    }
    return true;
}

static void add_url(struct ut_call *c, bool unknown)
{
    const char *s = ut_query_get(&c->q, "s");
    for (size_t i = 0; i < c->q.n; i++)
        if (strcmp(c->q.v[i].key, "s") == 0 && ut_param_has_nul(&c->q.v[i]))
            s = NULL;
    if (!s || !*s) {
        ut_reply_error(c, "s must be a URL or a magnet link");
        return;
    }
    struct service_add_opts o;
    if (!add_opts(c, &o))
        return;
    char *url = strdup(s);
    /* seed 004: "cookies can be sent with the :COOKIE: method":
     * URL:COOKIE:name=value;name2=value2 */
    char *ck = url ? strstr(url, ":COOKIE:") : NULL;
    if (ck) {
        *ck = 0;
        o.cookie = strdup(ck + 8);
    }
    struct add *a = calloc(1, sizeof *a);
    if (!url || !a || (ck && !o.cookie)) {
        free(url);
        free(a);
        service_add_opts_free(&o);
        ut_reply(c, NULL);
        return;
    }
    a->c = c;
    a->url = unknown ? strdup(url) : NULL;
    if (unknown && !a->url) {
        free(url);
        free(a);
        service_add_opts_free(&o);
        ut_reply(c, NULL);
        return;
    }
    bool http = strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
    int rc;
    if (http && !unknown) {
        /* µTorrent answers once the download is under way, as qBittorrent
         * does for a URL: the outcome shows in the list */
        rc = service_add_url(c->s, url, &o, NULL, NULL);
        free(a->url);
        free(a);
        if (rc == 0)
            ut_reply_build(c);
    } else {
        rc = http ? service_add_url(c->s, url, &o, on_added, a) : service_add_uri(c->s, url, &o, on_added, a);
        if (rc != 0) {
            free(a->url);
            free(a);
        }
    }
    free(url);
    service_add_opts_free(&o);
    if (rc == -EEXIST)
        ut_reply_build(c);   /* already there: nothing changes */
    else if (rc == -EAGAIN)
        ut_reply_error(c, "too many downloads in progress");
    else if (rc != 0)
        ut_reply_error(c, http ? "cannot download the URL" : "s is no URL, magnet link or info-hash");
}

void ut_gui_add_url(struct ut_call *c) { add_url(c, false); }

/* A torrent or an RSS feed, told apart by what the URL returns (seed 004):
 * the torrent path first; a body that is no torrent is fetched again and
 * added as a feed when it reads as one (ut_gui_rss.c).  Answered once the
 * outcome is known. */
void ut_gui_add_unknown_url(struct ut_call *c) { add_url(c, true); }

void ut_gui_add_file(struct ut_call *c)
{
    const struct web_file *f = NULL;
    for (size_t i = 0; i < web_req_file_count(c->r); i++) {
        const struct web_file *x = web_req_file(c->r, i);
        if (x && x->field && strcmp(x->field, "torrent_file") == 0)
            f = x;
    }
    if (!f) {
        ut_reply_error(c, "add-file needs a multipart part torrent_file");
        return;
    }
    struct service_add_opts o;
    if (!add_opts(c, &o))
        return;
    struct add *a = calloc(1, sizeof *a);
    if (!a) {
        service_add_opts_free(&o);
        ut_reply(c, NULL);
        return;
    }
    a->c = c;
    char msg[256] = "";
    int rc = service_add_torrent(c->s, f->data, f->len, &o, on_added, a, msg, sizeof msg);
    service_add_opts_free(&o);
    if (rc == 0)
        return;
    free(a);
    if (rc == -EEXIST) {
        ut_reply_build(c);
    } else if (rc == -EBADMSG) {
        char e[320];
        snprintf(e, sizeof e, "not a valid torrent file: %s", msg);
        ut_reply_error(c, e);
    } else {
        ut_reply_error(c, "cannot add the torrent");
    }
}

/* ---- server extras ---- */

static json_t *dir_entry(const char *path)
{
    struct statvfs v;
    int64_t mb = 0;
    if (statvfs(path, &v) == 0)
        mb = (int64_t)((unsigned long long)v.f_bavail * v.f_frsize / (1024 * 1024));
    return json_pack("{s:s,s:I}", "path", path, "available", (json_int_t)mb);
}

/* {"download-dirs":[{"path","available" MB}]}: index 0 the default
 * directory, then ut_dir_download (utserver.conf's dir_download). */
void ut_gui_list_dirs(struct ut_call *c)
{
    json_t *o = ut_reply_obj(), *a = json_array();
    json_t *dirs = json_loads(settings_str(&c->s->settings, SET_UT_DIR_DOWNLOAD), 0, NULL);
    bool ok = o && a && json_array_append_new(a, dir_entry(session_default_save_path(c->s))) == 0;
    size_t i;
    json_t *d;
    json_array_foreach(dirs, i, d)
        if (ok && json_is_string(d))
            ok = json_array_append_new(a, dir_entry(json_string_value(d))) == 0;
    json_decref(dirs);
    if (!ok || json_object_set_new(o, "download-dirs", a) != 0) {
        json_decref(o);
        ut_reply(c, NULL);
        return;
    }
    ut_reply(c, o);
}

/* clients-wave2.md §1.1 (@ctrl/utorrent's type) with seed 004's keys: an
 * object, not seed 004's list of one, because the client that reads it
 * types it so.  A µTorrent Server 3.3 face (product_code "server"); the
 * user agent and peer id are torrentd's own. */
void ut_gui_getversion(struct ut_call *c)
{
    char pid[21];
    size_t k = 0;
    for (; k < 8 && c->s->peer_id[k] >= 0x20 && c->s->peer_id[k] < 0x7f; k++)
        pid[k] = (char)c->s->peer_id[k];
    pid[k] = 0;
    json_t *o = ut_reply_obj();
    json_t *v = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:{s:{s:b, s:[]}, s:i, s:i}}",
                          "product_code", "server", "ui_version", UT_GUI_BUILD, "engine_version", UT_GUI_BUILD,
                          "major_version", 3, "minor_version", 3, "tiny_version", 0,
                          "user_agent", "torrentd/" TD_VERSION, "version_date", "", "device_id", "torrentd",
                          "peer_id", pid, "name", "torrentd",
                          "features", "device_pairing", "jsonp", 0, "supported_types", "remote", 0,
                          "settings_set", 1);
    if (!o || !v || json_object_set_new(o, "version", v) != 0 ||
        json_object_set_new(o, "name", json_string("torrentd")) != 0) {
        json_decref(o);
        ut_reply(c, NULL);
        return;
    }
    ut_reply(c, o);
}

/* seed 004 "get-sessions": one entry per token.html session. */
void ut_gui_get_sessions(struct ut_call *c)
{
    json_t *o = ut_reply_obj(), *a = json_array();
    bool ok = o && a;
    for (size_t i = 0; ok && i < UT_GUI_MAX_SESSIONS; i++) {
        const struct ut_gui_sess *u = &c->g->sess[i];
        if (!u->used)
            continue;
        ok = json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:b,s:s}", "guid", u->guid,
                                                "created", (json_int_t)u->created, "updated",
                                                (json_int_t)u->updated, "peer_ip", u->peer_ip, "sock_ip", "",
                                                "reported_ip", u->peer_ip, "user_agent", u->user_agent,
                                                "persistent", 0, "custom", "")) == 0;
    }
    if (!ok || json_object_set_new(o, "sessions", a) != 0) {
        json_decref(o);
        ut_reply(c, NULL);
        return;
    }
    ut_reply(c, o);
}

/* seed 004 "logout": the caller's own session (by its GUID cookie, else
 * by the token it came with), or with session=GUID (repeatable) the named
 * ones -- the admin's right, not the guest's. */
void ut_gui_logout(struct ut_call *c)
{
    bool named = false;
    for (size_t i = 0; i < c->q.n; i++) {
        if (strcmp(c->q.v[i].key, "session") != 0)
            continue;
        named = true;
        if (c->guest) {
            ut_reply_invalid(c);
            return;
        }
    }
    for (size_t i = 0; named && i < c->q.n; i++) {
        if (strcmp(c->q.v[i].key, "session") != 0)
            continue;
        for (size_t k = 0; k < UT_GUI_MAX_SESSIONS; k++)
            if (c->g->sess[k].used && strcmp(c->g->sess[k].guid, c->q.v[i].val) == 0)
                ut_gui_sess_end(c->g, &c->g->sess[k]);
    }
    if (!named) {
        struct ut_gui_sess *u = ut_gui_sess_of(c->g, c->r);
        const char *tok = ut_query_get(&c->q, "token");
        for (size_t k = 0; !u && tok && k < UT_GUI_MAX_SESSIONS; k++)
            if (c->g->sess[k].used && strcmp(c->g->sess[k].token, tok) == 0)
                u = &c->g->sess[k];
        if (u)
            ut_gui_sess_end(c->g, u);
    }
    ut_reply_build(c);
}
