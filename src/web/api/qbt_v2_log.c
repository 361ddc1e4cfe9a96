/* web/api/qbt_v2_log — log/main and log/peers, fed by util/log's ring and
 * core/banlist's peer log. */
#include <stdlib.h>

#include "core/banlist.h"
#include "util/log.h"
#include "web/api/qbt_v2_int.h"

static int64_t last_known_id(struct web_req *r)
{
    const char *v = web_req_param(r, "last_known_id");
    return v && *v ? strtoll(v, NULL, 10) : -1;
}

static void add_main(const struct log_entry *e, void *ud)
{
    json_array_append_new(ud, json_pack("{s:I, s:s, s:I, s:i}", "id", (json_int_t)e->id, "message",
                                        e->message ? e->message : "", "timestamp",
                                        (json_int_t)e->timestamp, "type", e->type));
}

void qbt_v2_h_log_main(struct web_req *r, void *ud)
{
    (void)ud;
    int mask = 0;
    if (web_req_bool(r, "normal", true))
        mask |= LOG_NORMAL;
    if (web_req_bool(r, "info", true))
        mask |= LOG_INFO;
    if (web_req_bool(r, "warning", true))
        mask |= LOG_WARNING;
    if (web_req_bool(r, "critical", true))
        mask |= LOG_CRITICAL;
    json_t *a = json_array();
    log_entries(last_known_id(r), mask, add_main, a);
    web_reply_json(r, a);
}

static void add_peer(const struct banlist_entry *e, void *ud)
{
    json_array_append_new(ud, json_pack("{s:I, s:s, s:I, s:b, s:s}", "id", (json_int_t)e->id, "ip", e->ip,
                                        "timestamp", (json_int_t)e->timestamp, "blocked", e->blocked,
                                        "reason", e->reason));
}

void qbt_v2_h_log_peers(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    json_t *a = json_array();
    banlist_entries(q->s, last_known_id(r), add_peer, a);
    web_reply_json(r, a);
}

int qbt_v2_register_log(struct qbt_v2 *q)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/log/main", WEB_GETPOST, qbt_v2_h_log_main, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/log/peers", WEB_GETPOST, qbt_v2_h_log_peers, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
}
