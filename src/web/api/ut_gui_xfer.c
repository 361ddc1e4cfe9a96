/* web/api/ut_gui_xfer — getxferhist / resetxferhist and /proxy.
 *
 * TEMPORARY: stand-ins, replaced by the stream helper's file (a persisted
 * daily transfer history; file streaming with HTTP Range).
 */
#include "web/api/ut_gui_int.h"
#include "web/api/ut_serve.h"

void ut_gui_getxferhist(struct ut_call *c) { ut_reply_error(c, "transfer history is not available yet"); }

void ut_gui_resetxferhist(struct ut_call *c) { ut_reply_error(c, "transfer history is not available yet"); }

void ut_gui_proxy(struct web_req *r, void *ud)
{
    struct ut_gui *g = ud;
    ut_proxy_serve(r, g->s);
}
