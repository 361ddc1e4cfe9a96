/* Shared by web/api/ops_*.c only. */
#ifndef TD_WEB_API_OPS_INT_H
#define TD_WEB_API_OPS_INT_H

#include <jansson.h>

#include "web/api/ops_api.h"
#include "web/server.h"

struct ops_web {
    struct web_server *ws;
    struct session *s;
    struct ops *o;
    struct rss *rss;
    int min_level;               /* POST /api/loglevel: the default filter of GET /api/logs (log_level bits) */
    char level_name[16];
};

/* {"error": msg} with status. */
void ops_reply_error(struct web_req *r, int status, const char *msg);
/* The JSON body of a POST ({} when empty), or NULL after replying 400. */
json_t *ops_body(struct web_req *r);

int ops_health_register(struct ops_web *w);
int ops_logs_register(struct ops_web *w);
int ops_config_register(struct ops_web *w);
int ops_metrics_register(struct ops_web *w);

#endif
