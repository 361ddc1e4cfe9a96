/* web/api/qbt_v2_search — qBittorrent 5.1's search endpoints (search/start, ...) over
 * search/search.h (../shared/docs/clients-wave2.md §4.3 and api-surface.md
 * §4.10, outside the repository).
 *
 * start, stop, status, results, delete, plugins, installPlugin,
 * uninstallPlugin, enablePlugin, updatePlugins, downloadTorrent; the
 * shapes and 404/409 bodies of qBittorrent's SearchController.  status,
 * results and plugins answer GET and POST, the rest POST only (its
 * webapplication.h list).  search/categories (removed in API 2.6) is not
 * served.
 */
#ifndef TD_WEB_API_QBT_V2_SEARCH_H
#define TD_WEB_API_QBT_V2_SEARCH_H

#include "core/session.h"
#include "web/server.h"

/* Creates the search module (the runtime under <profile>/nova3, the plugin
 * list loading) and registers the routes.  One per process; 0 or a
 * negative errno (logged; the routes then answer 404 as before). */
int qbt_v2_search_register(struct web_server *ws, struct session *s);

/* Kills every search and plugin run and answers requests still waiting;
 * qbt_v2_close() calls it at the start of the shutdown. */
void qbt_v2_search_close(void);

#endif
