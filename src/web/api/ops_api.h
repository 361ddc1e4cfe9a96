/* web/api/ops_api — the operations API (qBitrr's WebUI API, seed 003) and
 * Prometheus' /metrics, over src/ops.
 *
 * One file per concern, each a route table registered from ops_api_register
 * (ops_web.c): ops_health.c (/health, /api/health: public), ops_logs.c
 * (/api/logs, /api/logs/<file>, /api/loglevel), ops_config.c (/api/config),
 * ops_web.c (/api/status, /api/processes[/<name>/restart], /api/token,
 * /api/arr), ops_metrics.c (/metrics).  Auth: WEB_AUTH_OPS_TOKEN
 * (web/server.h) with the token of the setting ops_token ("WebUI.Token").
 */
#ifndef TD_WEB_API_OPS_API_H
#define TD_WEB_API_OPS_API_H

struct web_server;
struct session;
struct ops;
struct rss;

/* Registers every route and the token hook.  0 or a negative errno. */
int ops_api_register(struct web_server *ws, struct session *s, struct ops *o, struct rss *rss);

#endif
