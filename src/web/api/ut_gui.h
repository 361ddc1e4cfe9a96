/* web/api/ut_gui — µTorrent Server's /gui/ API (seed 004 "µTorrent API",
 * ../shared/docs/api-surface.md §12 and clients-wave2.md §1, outside the
 * repository), so that Sonarr/Radarr, FlexGet, Medusa, @ctrl/utorrent and
 * the official WebUI drive torrentd as they drive utserver.
 *
 * A dialect over the frame (web/server.h) and the core: HTTP Basic with the
 * WebUI's own account (WEB_AUTH_BASIC_TOKEN: 401 realm "uTorrent", PBKDF2
 * on a worker, the shared login ban), an optional read-only guest, the
 * token of /gui/token.html checked by the route's token hook, and each
 * action a translation over core/service.h, the status snapshot and
 * core/view.h.  Labels are torrentd's categories (one model, two names).
 */
#ifndef TD_WEB_API_UT_GUI_H
#define TD_WEB_API_UT_GUI_H

#include "core/session.h"
#include "web/server.h"

struct rss;

/* Registers /gui/ (also /gui, /gui/. for Electorrent), /gui/token.html and
 * /proxy on ws; µTorrent's RSS calls and lists go to rss (rss/rss.h; NULL:
 * none).  0 or a negative errno (-EEXIST if a route is taken). */
int ut_gui_register(struct web_server *ws, struct session *s, struct rss *rss);

#endif
