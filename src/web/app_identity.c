/* web/app_identity — the endpoints by which clients recognise the server.
 *
 * torrentd presents itself as qBittorrent 5.1.4 / WebAPI 2.11.4
 * (../shared/docs/api-surface.md §0, outside the repository): qbit_manage
 * accepts only app versions that
 * qbittorrent-api knows, and 5.2+ would change login semantics.  The
 * buildInfo library versions are qBittorrent 5.1.4's, except openssl and
 * zlib which report what is really linked, as qBittorrent does.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include "web/web_int.h"

#define APP_VERSION "v5.1.4"
#define WEBAPI_VERSION "2.11.4"

static void version_handler(struct web_req *r, void *ud)
{
    (void)ud;
    web_reply_text(r, 200, APP_VERSION);
}

static void webapi_version_handler(struct web_req *r, void *ud)
{
    (void)ud;
    web_reply_text(r, 200, WEBAPI_VERSION);
}

static void build_info_handler(struct web_req *r, void *ud)
{
    (void)ud;
    json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s}",
                          "bitness", (int)(sizeof(void *) * 8),
                          "boost", "1.83.0",
                          "libtorrent", "2.0.11.0",
                          "openssl", OpenSSL_version(OPENSSL_VERSION_STRING),
                          "platform", "linux",
                          "qt", "6.7.3",
                          "zlib", zlibVersion());
    web_reply_json(r, j);
}

int web_app_identity_register(struct web_server *ws)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/app/version", WEB_GETPOST, version_handler, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/app/webapiVersion", WEB_GETPOST, webapi_version_handler, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/app/buildInfo", WEB_GETPOST, build_info_handler, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(ws, routes, sizeof routes / sizeof routes[0], NULL);
}
