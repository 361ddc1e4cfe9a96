/* web/api/ut_gui_props — getfiles, getpeers, getprops, setprops. */
#include "web/api/ut_gui_int.h"

void ut_gui_getfiles(struct ut_call *c) { ut_reply_error(c, "not implemented yet"); }
void ut_gui_getpeers(struct ut_call *c) { ut_reply_error(c, "not implemented yet"); }
void ut_gui_getprops(struct ut_call *c) { ut_reply_error(c, "not implemented yet"); }
void ut_gui_setprops(struct ut_call *c) { ut_reply_error(c, "not implemented yet"); }
