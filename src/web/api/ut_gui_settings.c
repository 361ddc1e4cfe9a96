/* web/api/ut_gui_settings — getsettings / setsetting.
 *
 * TEMPORARY: minimal stand-ins, replaced by the conf helper's file (the
 * typed settings list, values as strings, the dir_* keys Sonarr reads).
 * getsettings answers an empty list (clients that only check the type, as
 * @ctrl/utorrent's test does, pass); setsetting is refused.
 */
#include "web/api/ut_gui_int.h"

void ut_gui_getsettings(struct ut_call *c)
{
    json_t *o = ut_reply_obj();
    if (o && json_object_set_new(o, "settings", json_array()) != 0) {
        json_decref(o);
        o = NULL;
    }
    ut_reply(c, o);
}

void ut_gui_setsetting(struct ut_call *c) { ut_reply_invalid(c); }
