/* ut_serve — µTorrent Server's replies that are not /gui/ JSON: a torrent's
 * file streamed by /proxy (ut_proxy.c) and the official web UI's files from
 * webui.zip or a webui/ folder (ut_webui.c).
 */
#ifndef TD_WEB_API_UT_SERVE_H
#define TD_WEB_API_UT_SERVE_H

#include <stdint.h>

#include "web/server.h"

struct session;

/* The /proxy handler (ut_gui.c registers the route: HTTP Basic with the
 * WebUI account, no token: seed 004). */
void ut_proxy_serve(struct web_req *r, struct session *s);

/* An HTTP Range header (RFC 9110 §14.1.2: "bytes=a-b", "bytes=a-",
 * "bytes=-n") against a body of `size` bytes; /proxy serves one range.
 * UT_RANGE_ONE: [*start, *start + *len) with len > 0 inside the body;
 * UT_RANGE_UNSATISFIABLE: 416; UT_RANGE_NONE: no header, several ranges,
 * or one that does not parse, all answered with the whole body. */
enum ut_range { UT_RANGE_NONE, UT_RANGE_ONE, UT_RANGE_UNSATISFIABLE };
enum ut_range ut_range_parse(const char *header, uint64_t size, uint64_t *start, uint64_t *len);

/* /gui/<file>, folders included (HTTP Basic, no token). */
int ut_webui_register(struct web_server *ws, struct session *s);

/* Answers r with the web UI file `name` (relative, e.g. "index.html"): the
 * /gui/ handler calls it for GET /gui/ without an action. */
void ut_webui_serve(struct web_req *r, struct session *s, const char *name);

#endif
