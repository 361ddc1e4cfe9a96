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

static void move(struct web_req *r, struct qbt_v2 *q, enum queue_move how)
{
    const char *hashes = web_req_param(r, "hashes");
    if (!hashes) {
        web_reply_error(r, 400, NULL);
        return;
    }
    if (!settings_bool(&q->s->settings, SET_QUEUEING_ENABLED)) {
        web_reply_error(r, 409, "Torrent queueing must be enabled");
        return;
    }
    struct qbt_v2_list l = {0};
    if (qbt_v2_parse_hashes(q->s, hashes, false, &l) != 0) {
        web_reply_error(r, 500, NULL);
        return;
    }
    /* Answered once the new positions are committed. */
    int rc = service_queue_move(q->s, l.v, l.n, how, on_moved, r);
    qbt_v2_list_free(&l);
    if (rc != 0)
        web_reply_error(r, rc == -EPERM ? 409 : 500, rc == -EPERM ? "Torrent queueing must be enabled" : NULL);
}

static void h_increase(struct web_req *r, void *ud) { move(r, ud, QUEUE_UP); }
static void h_decrease(struct web_req *r, void *ud) { move(r, ud, QUEUE_DOWN); }
static void h_top(struct web_req *r, void *ud) { move(r, ud, QUEUE_TOP); }
static void h_bottom(struct web_req *r, void *ud) { move(r, ud, QUEUE_BOTTOM); }

int qbt_v2_register_queue(struct qbt_v2 *q)
{
    static const struct { const char *path; web_handler h; } routes[] = {
        {"/api/v2/torrents/increasePrio", h_increase},
        {"/api/v2/torrents/decreasePrio", h_decrease},
        {"/api/v2/torrents/topPrio", h_top},
        {"/api/v2/torrents/bottomPrio", h_bottom},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int rc = web_route_add(q->ws, routes[i].path, WEB_POST, routes[i].h, q);
        if (rc != 0)
            return rc;
    }
    return 0;
}
