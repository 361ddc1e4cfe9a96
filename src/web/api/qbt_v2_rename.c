/* web/api/qbt_v2_rename — torrents/renameFile and torrents/renameFolder.
 * Answered once the files are renamed, so the next torrents/files shows
 * the new names. */
#include <errno.h>

#include "web/api/qbt_v2_int.h"

static void on_done(void *ud, int rc)
{
    struct web_req *r = ud;
    if (rc == 0)
        web_reply_ok(r);
    else
        web_reply_error(r, 409, "Cannot rename: the files could not be moved");
}

static void rename_path(struct web_req *r, struct qbt_v2 *q, bool folder)
{
    const char *hash = web_req_param(r, "hash");
    const char *oldp = web_req_param(r, "oldPath"), *newp = web_req_param(r, "newPath");
    if (!hash || !oldp || !newp) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct torrent *t = session_find_hex(q->s, hash);
    if (!t || t->removing) {
        web_reply_error(r, 404, NULL);
        return;
    }
    if (web_req_param_has_nul(r, "newPath")) {
        /* qBittorrent: "The new path is invalid: '...'"; the prefix before
         * the NUL would name another file. */
        char msg[600];
        snprintf(msg, sizeof msg, "The new path is invalid: '%.500s'.", newp);
        web_reply_error(r, 409, msg);
        return;
    }
    char err[512] = "";
    int rc = torrent_rename_path(t, oldp, newp, folder, err, sizeof err, on_done, r);
    if (rc != 0)
        web_reply_error(r, rc == -ENOMEM ? 500 : 409, *err ? err : NULL);
}

static void h_rename_file(struct web_req *r, void *ud) { rename_path(r, ud, false); }
static void h_rename_folder(struct web_req *r, void *ud) { rename_path(r, ud, true); }

int qbt_v2_register_rename(struct qbt_v2 *q)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/torrents/renameFile", WEB_POST, h_rename_file, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/renameFolder", WEB_POST, h_rename_folder, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
}
