/* web/api/ut_gui_xfer — getxferhist / resetxferhist (the daily transfer
 * history, core/xferhist.h) and /proxy (file streaming, ut_proxy.c).
 *
 * getxferhist answers
 *   {"build":N,"transfer_history":{"daily_download":[31 ints],
 *    "daily_upload":[…],"daily_local_download":[…],"daily_local_upload":[…],
 *    "start_time":<epoch s>}}
 * with index 0 = today (local day).  The four arrays and their order are
 * what µTorrent's consumers read: the official WebUI (bittorrent/webui
 * main.js loadTransferHistory: json.transfer_history, then
 * history["daily_upload"][day], ["daily_download"], ["daily_local_upload"],
 * ["daily_local_download"] for day 0..period), utorrentctl (xfer_history_get
 * returns res["transfer_history"]; period = len(daily_download), day 0 =
 * today), and µTorrent's settings.dat (31 daily counters, today first).
 * start_time (when the history began or was last reset) is ours: no
 * consumer we found reads it, none is disturbed by it.
 * resetxferhist empties the history and answers {"build":N} once that is
 * committed.
 */
#include "core/xferhist.h"
#include "web/api/ut_gui_int.h"
#include "web/api/ut_serve.h"

static json_t *days(const int64_t *v)
{
    json_t *a = json_array();
    for (int i = 0; a && i < XFERHIST_DAYS; i++)
        if (json_array_append_new(a, json_integer((json_int_t)v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

void ut_gui_getxferhist(struct ut_call *c)
{
    const struct xferhist *h = xferhist_get(c->s);
    json_t *dl = days(h->dl), *ul = days(h->ul), *dll = days(h->dl_local), *ull = days(h->ul_local);
    json_t *o = ut_reply_obj();
    if (!dl || !ul || !dll || !ull || !o) {
        json_decref(dl);
        json_decref(ul);
        json_decref(dll);
        json_decref(ull);
        json_decref(o);
        ut_reply(c, NULL);
        return;
    }
    /* "o" steals the arrays, also when the pack fails */
    json_t *th = json_pack("{s:o,s:o,s:o,s:o,s:I}", "daily_download", dl, "daily_upload", ul,
                           "daily_local_download", dll, "daily_local_upload", ull, "start_time",
                           (json_int_t)h->start);
    if (!th || json_object_set_new(o, "transfer_history", th) != 0) {
        json_decref(o);
        ut_reply(c, NULL);
        return;
    }
    ut_reply(c, o);
}

static void reset_done(void *ud, int rc)
{
    struct ut_call *c = ud;
    if (rc != 0)
        ut_reply_error(c, "cannot save the transfer history");
    else
        ut_reply_build(c);
}

void ut_gui_resetxferhist(struct ut_call *c)
{
    if (xferhist_clear(c->s, reset_done, c) != 0)
        ut_reply_error(c, "cannot save the transfer history");
}

void ut_gui_proxy(struct web_req *r, void *ud)
{
    struct ut_gui *g = ud;
    ut_proxy_serve(r, g->s);
}
