/* web/api/qbt_v2_creator — torrentcreator/… (qBittorrent 5.x) over
 * core/creator.
 *
 * Shapes as qBittorrent 5.1's TorrentCreatorController sends them
 * (../shared/docs/api-surface.md §4.8, outside the repository): optional
 * keys appear only when set, pieceSize is
 * the requested size until the task finished and the chosen one after,
 * progress only while Running, errorMessage only when Failed.  Times are
 * QDateTime::toString() (Qt::TextDate, local time: "Wed Jan 8 14:03:05 2025").
 * An absent format means hybrid, as in qBittorrent 5.  Deliberate
 * difference: `source` is the source parameter (qBittorrent 5.1 copies the
 * comment into it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/creator.h"
#include "util/log.h"
#include "web/api/qbt_v2_int.h"
#include "web/web_int.h"


static struct creator *g_creator;   /* one per process, like the session */

/* Decoded form values may hold a NUL (%00) that the C string would hide:
 * a path cut short there must not be used. */
static bool param_has_nul(struct web_req *r, const char *name)
{
    for (size_t i = r->nparams; i-- > 0;)
        if (strcmp(r->params[i].name, name) == 0)
            return r->params[i].val.data && memchr(r->params[i].val.data, 0, r->params[i].val.len);
    return false;
}

/* Utils::String::parseInt: a whole decimal int, else the default. */
static int64_t param_int(struct web_req *r, const char *name, int64_t dflt)
{
    const char *v = web_req_param(r, name);
    if (!v || !*v)
        return dflt;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < INT32_MIN || x > INT32_MAX)
        return dflt;
    return x;
}

static json_t *qt_date(int64_t t)
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return json_string("");
    char s[64];
    snprintf(s, sizeof(s), "%s %s %d %02d:%02d:%02d %d", days[tm.tm_wday % 7], months[tm.tm_mon % 12],
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
    return json_string(s);
}

static const char *format_name(enum creator_format f)
{
    return f == CREATOR_V1 ? "v1" : f == CREATOR_V2 ? "v2" : "hybrid";
}

static const char *status_name(const struct creator_task *t)
{
    if (t->error)
        return "Failed";
    return t->status == CREATOR_QUEUED ? "Queued" : t->status == CREATOR_RUNNING ? "Running" : "Finished";
}

static json_t *str_array(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static void set_opt_str(json_t *o, const char *key, const char *v)
{
    if (v && *v)
        json_object_set_new(o, key, json_string(v));
}

static json_t *task_json(const struct creator_task *t)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool finished = t->status == CREATOR_FINISHED;
    json_object_set_new(o, "taskID", json_string(t->id));
    json_object_set_new(o, "sourcePath", json_string(t->source_path));
    json_object_set_new(o, "pieceSize",
                        json_integer(finished && !t->error ? t->result_piece_size : t->piece_size));
    json_object_set_new(o, "private", json_boolean(t->is_private));
    json_object_set_new(o, "timeAdded", qt_date(t->time_added));
    json_object_set_new(o, "format", json_string(format_name(t->format)));
    json_object_set_new(o, "optimizeAlignment", json_boolean(t->optimize_alignment));
    json_object_set_new(o, "paddedFileSizeLimit", json_integer(t->padded_file_size_limit));
    json_object_set_new(o, "status", json_string(status_name(t)));
    set_opt_str(o, "comment", t->comment);
    set_opt_str(o, "torrentFilePath", t->torrent_file_path);
    set_opt_str(o, "source", t->source);
    if (t->num_trackers)
        json_object_set_new(o, "trackers", str_array(t->trackers, t->num_trackers));
    if (t->num_url_seeds)
        json_object_set_new(o, "urlSeeds", str_array(t->url_seeds, t->num_url_seeds));
    if (t->time_started >= 0)
        json_object_set_new(o, "timeStarted", qt_date(t->time_started));
    if (t->time_finished >= 0)
        json_object_set_new(o, "timeFinished", qt_date(t->time_finished));
    if (finished && t->error)
        json_object_set_new(o, "errorMessage", json_string(t->error));
    else if (t->status == CREATOR_RUNNING)
        json_object_set_new(o, "progress", json_integer(t->progress));
    return o;
}

static void h_add_task(struct web_req *r, void *ud)
{
    (void)ud;
    const char *src = web_req_param(r, "sourcePath");
    if (!src || param_has_nul(r, "sourcePath") || param_has_nul(r, "torrentFilePath")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    const char *out = web_req_param(r, "torrentFilePath");
    const char *fmt = web_req_param(r, "format");
    struct creator_params p = {
        .source_path = src,
        .torrent_file_path = out,
        /* absent or unknown: hybrid, qBittorrent 5's default */
        .format = fmt && strcasecmp(fmt, "v1") == 0   ? CREATOR_V1
                  : fmt && strcasecmp(fmt, "v2") == 0 ? CREATOR_V2 : CREATOR_HYBRID,
        .piece_size = param_int(r, "pieceSize", 0),
        .optimize_alignment = web_req_bool(r, "optimizeAlignment", true),
        .padded_file_size_limit = param_int(r, "paddedFileSizeLimit", -1),
        .is_private = web_req_bool(r, "private", false),
        .start_seeding = web_req_bool(r, "startSeeding", !out || !*out),
        .comment = web_req_param(r, "comment"),
        .source = web_req_param(r, "source"),
        /* QString::split of an absent value gives one empty element */
        .trackers = web_req_param(r, "trackers") ? web_req_param(r, "trackers") : "",
        .url_seeds = web_req_param(r, "urlSeeds") ? web_req_param(r, "urlSeeds") : "",
    };
    struct creator_task *t;
    int rc = g_creator ? creator_add(g_creator, &p, &t) : -ENOMEM;
    if (rc == -EBUSY) {
        web_reply_error(r, 409, "Too many active tasks");
        return;
    }
    if (rc != 0) {
        web_reply_error(r, 500, NULL);
        return;
    }
    log_msg(LOG_INFO, "WebAPI: torrent creation task %s queued for \"%s\"", t->id, t->source_path);
    json_t *o = json_object();
    if (o && json_object_set_new(o, "taskID", json_string(t->id)) == 0)
        web_reply_json(r, o);
    else {
        json_decref(o);
        web_reply_error(r, 500, NULL);
    }
}

static void append_task(const struct creator_task *t, void *ud)
{
    json_array_append_new(ud, task_json(t));
}

static void h_status(struct web_req *r, void *ud)
{
    (void)ud;
    const char *id = web_req_param(r, "taskID");
    json_t *a = json_array();
    if (!a) {
        web_reply_error(r, 500, NULL);
        return;
    }
    if (id && *id) {
        const struct creator_task *t = creator_find(g_creator, id);
        if (!t) {
            json_decref(a);
            web_reply_error(r, 404, NULL);
            return;
        }
        append_task(t, a);
    } else {
        creator_list(g_creator, append_task, a);
    }
    web_reply_json(r, a);
}

static void h_torrent_file(struct web_req *r, void *ud)
{
    (void)ud;
    const char *id = web_req_param(r, "taskID");
    if (!id) {
        web_reply_error(r, 400, NULL);
        return;
    }
    const struct creator_task *t = creator_find(g_creator, id);
    if (!t) {
        web_reply_error(r, 404, NULL);
        return;
    }
    if (t->status != CREATOR_FINISHED) {
        web_reply_error(r, 409, "Torrent creation is still unfinished.");
        return;
    }
    if (t->error || !t->torrent) {
        web_reply_error(r, 409, "Torrent creation failed.");
        return;
    }
    char cd[80];
    snprintf(cd, sizeof(cd), "attachment; filename=\"%s.torrent\"", t->id);
    web_req_add_header(r, "Content-Disposition", cd);
    web_reply(r, 200, "application/x-bittorrent", t->torrent, t->torrent_len);
}

static void h_delete_task(struct web_req *r, void *ud)
{
    (void)ud;
    const char *id = web_req_param(r, "taskID");
    if (!id) {
        web_reply_error(r, 400, NULL);
        return;
    }
    if (creator_delete(g_creator, id) != 0) {
        web_reply_error(r, 404, NULL);
        return;
    }
    web_reply_ok(r);
}

int qbt_v2_register_creator(struct qbt_v2 *q)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/torrentcreator/addTask", WEB_POST, h_add_task, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrentcreator/status", WEB_GETPOST, h_status, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrentcreator/torrentFile", WEB_GETPOST, h_torrent_file, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrentcreator/deleteTask", WEB_POST, h_delete_task, WEB_AUTH_QBT_SESSION, NULL},
    };
    creator_free(g_creator);
    g_creator = NULL;
    int rc = creator_new(q->s->loop, q->s, &g_creator);
    return rc != 0 ? rc : web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
}
