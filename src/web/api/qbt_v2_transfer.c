/* web/api/qbt_v2_transfer — transfer/… (global rates and limits). */
#include <stdio.h>

#include "web/api/qbt_v2_int.h"

static void h_info(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    json_t *o = qbt_v2_transfer_info_json(q->s);
    if (o)
        web_reply_json(r, o);
    else
        web_reply_error(r, 500, NULL);
}

/* Alternative speed limits are not implemented: always the normal mode. */
static void h_speed_limits_mode(struct web_req *r, void *ud)
{
    (void)ud;
    web_reply_text(r, 200, "0");
}

static void reply_pref_int(struct web_req *r, struct qbt_v2 *q, const char *key)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)prefs_int(&q->s->prefs, key));
    web_reply_text(r, 200, buf);
}

static void h_download_limit(struct web_req *r, void *ud) { reply_pref_int(r, ud, "dl_limit"); }

static void h_upload_limit(struct web_req *r, void *ud) { reply_pref_int(r, ud, "up_limit"); }

int qbt_v2_register_transfer(struct qbt_v2 *q)
{
    static const struct { const char *path; web_handler h; } routes[] = {
        {"/api/v2/transfer/info", h_info},
        {"/api/v2/transfer/speedLimitsMode", h_speed_limits_mode},
        {"/api/v2/transfer/downloadLimit", h_download_limit},
        {"/api/v2/transfer/uploadLimit", h_upload_limit},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        int rc = web_route_add(q->ws, routes[i].path, WEB_GETPOST, routes[i].h, q);
        if (rc != 0)
            return rc;
    }
    return 0;
}
