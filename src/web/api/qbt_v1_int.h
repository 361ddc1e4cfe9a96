/* web/api/qbt_v1 internals shared by qbt_v1.c and qbt_v1_sync.c. */
#ifndef TD_WEB_API_QBT_V1_INT_H
#define TD_WEB_API_QBT_V1_INT_H

#include "core/session.h"
#include "web/server.h"

/* The one v1 instance (one session per process). */
struct qbt_v1 {
    struct web_server *ws;
    struct session *s;
    int dialect;   /* session slot id: v1's own sync state (rids) */
};

/* sync/maindata, sync/torrent_peers, query/getLog and getPeerLog. */
int qbt_v1_register_sync(struct qbt_v1 *q);

#endif
