/* ut_serve — µTorrent Server's replies that are not /gui/ JSON: a torrent's
 * file streamed by /proxy (ut_proxy.c) and the official web UI's files from
 * webui.zip or a webui/ folder (ut_webui.c).
 */
#ifndef TD_WEB_API_UT_SERVE_H
#define TD_WEB_API_UT_SERVE_H

#include "web/server.h"

struct session;

/* The /proxy handler (ut_gui.c registers the route: HTTP Basic with the
 * WebUI account, no token: seed 004). */
void ut_proxy_serve(struct web_req *r, struct session *s);

/* /gui/<file>, folders included (HTTP Basic, no token). */
int ut_webui_register(struct web_server *ws, struct session *s);

/* Answers r with the web UI file `name` (relative, e.g. "index.html"): the
 * /gui/ handler calls it for GET /gui/ without an action. */
void ut_webui_serve(struct web_req *r, struct session *s, const char *name);

#endif
