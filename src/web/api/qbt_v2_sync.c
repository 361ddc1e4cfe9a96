/* web/api/qbt_v2_sync — sync/maindata and sync/torrentPeers.
 *
 * For now every answer is a full update (full_update: true) with a rid
 * that increases per login session (§7).  The per-session state lives in
 * struct qbt_v2_client so that the incremental protocol (snapshot + dirty
 * sets, §7.2) can be added there without touching the handlers' callers.
 */
#include <stdlib.h>

#include "web/api/qbt_v2_int.h"

#define RID_WRAP 1000000

static struct qbt_v2_client g_anon;   /* requests without a web session */

struct qbt_v2_client *qbt_v2_client_get(struct web_req *r)
{
    void **slot = web_req_session_slot(r);
    if (!slot)
        return &g_anon;
    if (!*slot)
        *slot = calloc(1, sizeof(struct qbt_v2_client));
    return *slot;
}

void qbt_v2_client_free(void *slot) { free(slot); }

static int next_rid(int *last)
{
    *last = (*last % RID_WRAP) + 1;
    return *last;
}

static void h_maindata(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    struct qbt_v2_client *c = qbt_v2_client_get(r);
    json_t *o = c ? qbt_v2_maindata_json(q->s, next_rid(&c->main_rid)) : NULL;
    if (o)
        web_reply_json(r, o);
    else
        web_reply_error(r, 500, NULL);
}

static void h_torrent_peers(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *h = web_req_param(r, "hash");
    struct torrent *t = h ? session_find_hex(q->s, h) : NULL;
    if (!t || t->removing) {
        web_reply_error(r, 404, NULL);
        return;
    }
    struct qbt_v2_client *c = qbt_v2_client_get(r);
    json_t *peers = qbt_v2_peers_json(t);
    json_t *o = c && peers ? json_pack("{s:i, s:b, s:b, s:o}", "rid", next_rid(&c->peers_rid), "full_update", 1,
                                       "show_flags", 0, "peers", peers)
                           : NULL;
    if (!o && (!c || !peers))
        json_decref(peers);
    if (o)
        web_reply_json(r, o);
    else
        web_reply_error(r, 500, NULL);
}

int qbt_v2_register_sync(struct qbt_v2 *q)
{
    int rc = web_route_add(q->ws, "/api/v2/sync/maindata", WEB_GETPOST, h_maindata, q);
    if (rc == 0)
        rc = web_route_add(q->ws, "/api/v2/sync/torrentPeers", WEB_GETPOST, h_torrent_peers, q);
    return rc;
}
