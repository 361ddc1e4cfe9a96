/* web/api/qbt_v2_auth — auth/login and auth/logout of the qBittorrent v2
 * dialect, with qBittorrent 5.1's exact answers (../shared/docs/api-surface.md, outside the repository, §2.4,
 * §2.5): "Ok." / "Fails." with 200, the ban text with 403, the SID cookie.
 *
 * Built on the frame's services (web/server.h): the account check on a
 * worker, the per-address ban shared with every other way of logging in,
 * and the cookie session.  Moved here from web/session.c (issue 9) so that
 * the frame knows no dialect's login.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "web/api/qbt_v2.h"
#include "web/api/qbt_v2_int.h"

static const char BAN_TEXT[] = "Your IP address has been banned after too many failed authentication attempts.";

static void login_done(struct web_req *r, int ok, void *ud)
{
    char *user = ud;
    if (ok < 0) {
        web_ban_end(r, -1);
        web_reply_error(r, 503, NULL);
    } else if (ok) {
        web_ban_end(r, 1);
        if (web_req_session_begin(r) != 0) {
            web_reply_error(r, 500, NULL);
        } else {
            log_msg(LOG_INFO, "WebAPI login success. IP: %s", web_req_client_ip(r));
            web_reply_text(r, 200, "Ok.");
        }
    } else {
        int n = web_ban_end(r, 0);
        log_msg(LOG_WARNING,
                "WebAPI login failure. Reason: invalid credentials, attempt count: %d, IP: %s, username: %s",
                n, web_req_client_ip(r), user);
        web_reply_text(r, 200, "Fails.");
    }
    free(user);
}

void qbt_v2_h_login(struct web_req *r, void *ud)
{
    (void)ud;
    if (web_req_has_session(r)) {
        web_reply_text(r, 200, "Ok.");
        return;
    }
    const char *user = web_req_param(r, "username");
    const char *pass = web_req_param(r, "password");
    if (web_ban_begin(r)) {
        log_msg(LOG_WARNING, "WebAPI login failure. Reason: IP has been banned, IP: %s, username: %s",
                web_req_client_ip(r), user ? user : "");
        web_reply_error(r, 403, BAN_TEXT);
        return;
    }
    char *u = strdup(user ? user : "");
    if (!u || web_req_check_account(r, u, pass, login_done, u) != 0) {
        free(u);
        web_ban_end(r, -1);
        web_reply_error(r, 500, NULL);
    }
}

void qbt_v2_h_logout(struct web_req *r, void *ud)
{
    (void)ud;
    web_req_session_end(r);   /* WEB_AUTH_QBT_SESSION: the pipeline guarantees a session */
    web_reply_ok(r);
}

int qbt_v2_auth_register(struct web_server *ws)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/auth/login", WEB_POST, qbt_v2_h_login, WEB_AUTH_PUBLIC, NULL},
        {"/api/v2/auth/logout", WEB_POST, qbt_v2_h_logout, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(ws, routes, sizeof routes / sizeof routes[0], NULL);
}
