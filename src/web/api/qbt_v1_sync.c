/* web/api/qbt_v1_sync — API v1's /sync/maindata and /sync/torrent_peers,
 * and its log queries.
 *
 * The rid scheme and the change tracking are v2's (qbt_v2_sync.c): one
 * engine, O(changes) per partial reply.  A v1 login keeps its own sync
 * state in its own session slot, so a client speaking both dialects on one
 * cookie gets a consistent rid sequence in each.  What differs is the
 * shape: torrents in the 4.1 flavour (4.x state names, no keys added after
 * 4.1) and no "trackers" sets (4.4+).
 */
#include <stdlib.h>
#include <string.h>

#include "core/torrent.h"
#include "web/api/qbt_v1_int.h"
#include "web/api/qbt_v2_int.h"

static struct qbt_v2_client *client_get(struct web_req *r, struct qbt_v1 *q)
{
    void **slot = web_req_dialect_slot(r, q->dialect);
    if (!slot)
        return NULL;   /* no session: the route's policy never lets one through */
    if (!*slot)
        *slot = calloc(1, sizeof(struct qbt_v2_client));
    return *slot;
}

/* v2's maindata reply in v1's shape. */
static void to_v1(json_t *o)
{
    json_t *ts = json_object_get(o, "torrents");
    const char *h;
    json_t *t;
    json_object_foreach(ts, h, t)
        qbt_v2_torrent_to_v1(t);
    json_object_del(o, "trackers");
    json_object_del(o, "trackers_removed");
}

static void h_maindata(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    struct qbt_v2_client *c = client_get(r, q);
    json_t *o = NULL;
    /* not shared: to_v1 rewrites the torrents in place */
    if (c && qbt_v2_sync_maindata(c, q->s, qbt_v2_parse_rid(web_req_param(r, "rid")), false, &o) == 0) {
        to_v1(o);
        web_reply_json(r, o);
    } else {
        web_reply_error(r, 500, NULL);
    }
}

static void h_torrent_peers(struct web_req *r, void *ud)
{
    struct qbt_v1 *q = ud;
    const char *h = web_req_param(r, "hash");
    struct torrent *t = h ? session_find_hex(q->s, h) : NULL;
    if (!t || t->removing) {
        web_reply_error(r, 404, NULL);
        return;
    }
    struct qbt_v2_client *c = client_get(r, q);
    json_t *o = NULL;
    if (c && qbt_v2_sync_peers(c, t, qbt_v2_parse_rid(web_req_param(r, "rid")), &o) == 0)
        web_reply_json(r, o);
    else
        web_reply_error(r, 500, NULL);
}

int qbt_v1_register_sync(struct qbt_v1 *q)
{
    q->dialect = web_dialect_register(q->ws, "qbt_v1", qbt_v2_client_free);
    if (q->dialect < 0)
        return q->dialect;
    static const struct web_route_def routes[] = {
        {"/sync/maindata", WEB_GETPOST, h_maindata, WEB_AUTH_QBT_SESSION, NULL},
        {"/sync/torrent_peers", WEB_GETPOST, h_torrent_peers, WEB_AUTH_QBT_SESSION, NULL},
    };
    /* log/main and log/peers take the same parameters in 4.1: shared whole */
    static const struct web_route_def logs[] = {
        {"/query/getLog", WEB_GETPOST, qbt_v2_h_log_main, WEB_AUTH_QBT_SESSION, NULL},
        {"/query/getPeerLog", WEB_GETPOST, qbt_v2_h_log_peers, WEB_AUTH_QBT_SESSION, NULL},
    };
    int rc = web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
    return rc ? rc : web_routes_add(q->ws, logs, sizeof logs / sizeof logs[0], qbt_v2_instance());
}
