/* web/api/qbt_v2 — the qBittorrent WebUI API v2 (5.1 / 2.11.4 dialect).
 *
 * An adapter only: every handler translates an HTTP request into plain calls
 * on the session and its torrents, and the result into qBittorrent's JSON or
 * text, byte for byte as qBittorrent 5.1 answers (../shared/docs/api-surface.md
 * §4–§9, outside the repository).
 * Handlers run on the loop thread (the web server runs there), so they touch
 * session state directly.  A change is answered only after the store has
 * committed it (torrents/add, setPreferences, delete, …).
 *
 * The HTTP server itself registers app/version, webapiVersion and buildInfo
 * (the login page needs them); everything else of the v2 surface lives here,
 * auth/login and auth/logout included (qbt_v2_auth.c, on the frame's
 * session and ban services).
 */
#ifndef TD_WEB_API_QBT_V2_H
#define TD_WEB_API_QBT_V2_H

#include "core/session.h"
#include "web/server.h"

/* Registers every route of this slice on ws (one session per process).
 * Also registers the dialect's per-login session slot (sync rid state).
 * Returns 0 or a negative errno (-EEXIST if a route is already taken). */
int qbt_v2_register(struct web_server *ws, struct session *s);

/* The rss/ feed endpoints (qbt_v2_rss.c) over the session's RSS module
 * (rss/rss.h).  0 or a negative errno (-EEXIST if a route is taken). */
struct rss;
int qbt_v2_rss_register(struct web_server *ws, struct rss *rss);

/* auth/login and auth/logout only (also done by qbt_v2_register): for a
 * server that serves no torrents, e.g. web/server's unit tests. */
int qbt_v2_auth_register(struct web_server *ws);

/* app/shutdown replies 200, then calls shutdown() ~100 ms later on the loop
 * thread (so the reply still reaches the client).  NULL = shutdown ignored. */
void qbt_v2_set_shutdown_hook(void (*shutdown)(void));

/* Cancels .torrent downloads still in flight for torrents/add urls and
 * frees their state.  Call before fetch_free()/session shutdown, which would
 * otherwise drop them silently (their memory with them under ASan). */
void qbt_v2_close(void);

#endif
