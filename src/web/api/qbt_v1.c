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
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"
#include "core/torrent.h"
#include "core/torrent_status.h"
#include "web/api/qbt_v1.h"
#include "web/api/qbt_v2_int.h"
#include "web/api/qbt_v2_prefs.h"

/* What qBittorrent 4.1.9 answers (clients-wave2.md §2.1): Sonarr parses
 * "1." + api and wants >= 1.6 (categories); it trims the leading 'v'. */
#define QBT_V1_API "24"
#define QBT_V1_API_MIN "23"
#define QBT_V1_VERSION "v4.1.9"

struct qbt_v1 {
    struct web_server *ws;
    struct session *s;
};

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

int qbt_v1_register(struct web_server *ws, struct session *s)
{
    static struct qbt_v1 q;
    q = (struct qbt_v1){ws, s};
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
    };
    return web_routes_add(ws, routes, sizeof routes / sizeof routes[0], &q);
}
