/* web/api/qbt_v2_queue — torrents/increasePrio, decreasePrio, topPrio,
 * bottomPrio over core/service.  409 when queueing is disabled (Sonarr
 * swallows that 409 for topPrio). */
#include <errno.h>

#include "core/service.h"
#include "web/api/qbt_v2_int.h"

static void on_moved(void *ud, int rc)
{
    (void)rc;   /* moved either way; a failed commit is logged by the store */
    web_reply_ok(ud);
}

void qbt_v2_apply_queue_move(struct web_req *r, struct session *s, struct qbt_v2_list *l, enum queue_move how)
{
    /* Answered once the new positions are committed; core refuses with
     * -EPERM while queueing is disabled. */
    int rc = service_queue_move(s, l->v, l->n, how, on_moved, r);
    qbt_v2_list_free(l);
    if (rc != 0)
        web_reply_error(r, rc == -EPERM ? 409 : 500, rc == -EPERM ? "Torrent queueing must be enabled" : NULL);
}

static void move(struct web_req *r, struct qbt_v2 *q, enum queue_move how)
{
    const char *hashes = web_req_param(r, "hashes");
    if (!hashes) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct qbt_v2_list l = {0};
    if (qbt_v2_parse_hashes(q->s, hashes, false, &l) != 0) {
        qbt_v2_list_free(&l);
        web_reply_error(r, 500, NULL);
        return;
    }
    qbt_v2_apply_queue_move(r, q->s, &l, how);
}

static void h_increase(struct web_req *r, void *ud) { move(r, ud, QUEUE_UP); }
static void h_decrease(struct web_req *r, void *ud) { move(r, ud, QUEUE_DOWN); }
static void h_top(struct web_req *r, void *ud) { move(r, ud, QUEUE_TOP); }
static void h_bottom(struct web_req *r, void *ud) { move(r, ud, QUEUE_BOTTOM); }

int qbt_v2_register_queue(struct qbt_v2 *q)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/torrents/increasePrio", WEB_POST, h_increase, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/decreasePrio", WEB_POST, h_decrease, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/topPrio", WEB_POST, h_top, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/bottomPrio", WEB_POST, h_bottom, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
}
