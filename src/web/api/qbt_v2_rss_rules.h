/* web/api/qbt_v2_rss_rules — qBittorrent's rss/ rule endpoints: setRule,
 * renameRule, cloneRule, removeRule, rules and matchingArticles
 * (../shared/docs/clients-wave2.md §3.1, api-surface.md §4.9, outside the
 * repository), on rss/autodl.  The feed endpoints are qbt_v2_rss.c's.
 */
#ifndef TD_WEB_API_QBT_V2_RSS_RULES_H
#define TD_WEB_API_QBT_V2_RSS_RULES_H

#include "web/server.h"

struct rss;

/* Registers the six routes on ws, on rss's auto-downloader (rss/rss.h);
 * rss NULL: they answer 503.  0 or a negative errno (-EEXIST if a route
 * is taken). */
int qbt_v2_rss_rules_register(struct web_server *ws, struct rss *rss);

#endif
