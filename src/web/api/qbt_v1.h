/* web/api/qbt_v1 — the qBittorrent WebUI API v1 (the 4.1.x compatibility
 * layer: /version, /login, /logout, /query, /command and /sync paths;
 * ../shared/seeds/001 and ../shared/docs/clients-wave2.md §2, outside the
 * repository).
 *
 * A dialect over the frame (web/server.h) and the core: the same SID
 * session, CSRF/Host rules and login ban as v2 (its login handlers are
 * shared), the same torrent facts (qBittorrent JSON shared with v2 in its
 * 4.1 flavour: 4.x state names), answers as Sonarr, FlexGet and
 * python-qbittorrent parse them ("Ok."/"Fails.", 403 without a session).
 */
#ifndef TD_WEB_API_QBT_V1_H
#define TD_WEB_API_QBT_V1_H

#include "core/session.h"
#include "web/server.h"

/* Registers every v1 route on ws.  Call after qbt_v2_register (the v1
 * handlers use the v2 dialect's shared serializers).  0 or a negative
 * errno (-EEXIST if a route is taken). */
int qbt_v1_register(struct web_server *ws, struct session *s);

#endif
