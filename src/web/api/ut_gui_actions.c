/* web/api/ut_gui_actions — the acting calls of seed 004 "Actions". */
#include "web/api/ut_gui_int.h"

#define TODO(fn) void fn(struct ut_call *c) { ut_reply_error(c, "not implemented yet"); }
TODO(ut_gui_start)
TODO(ut_gui_stop)
TODO(ut_gui_pause)
TODO(ut_gui_unpause)
TODO(ut_gui_forcestart)
TODO(ut_gui_recheck)
TODO(ut_gui_remove)
TODO(ut_gui_removedata)
TODO(ut_gui_removetorrent)
TODO(ut_gui_removedatatorrent)
TODO(ut_gui_queuetop)
TODO(ut_gui_queueup)
TODO(ut_gui_queuedown)
TODO(ut_gui_queuebottom)
TODO(ut_gui_setprio)
TODO(ut_gui_add_url)
TODO(ut_gui_add_unknown_url)
TODO(ut_gui_add_file)
TODO(ut_gui_list_dirs)
TODO(ut_gui_getversion)
TODO(ut_gui_get_sessions)
TODO(ut_gui_logout)

void ut_gui_rss_unavailable(struct ut_call *c) { ut_reply_error(c, "RSS is not available yet"); }
