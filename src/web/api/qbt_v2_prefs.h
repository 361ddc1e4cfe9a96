/* web/api/qbt_v2_prefs — qBittorrent's app/preferences vocabulary: its key
 * names and JSON types, as a mapping table over the typed settings of
 * core/settings.h (as Transmission's api-compat maps old RPC names).
 *
 * The table format, so another dialect's table (µTorrent's utserver.conf /
 * setsetting names) is one more file of the same shape:
 *   { "dialect key", SET_<id>, <JSON type>, flags }
 * - the id names the core setting; several dialects may map the same id,
 *   and a dialect maps only what it has (use_subcategories, say, has no
 *   qBittorrent key here yet);
 * - the JSON type is what the dialect writes and accepts (an integer is
 *   accepted for QBT_REAL; QBT_OBJECT is an object kept as JSON text in a
 *   SETT_JSON setting); a wrong type refuses the whole request, naming the
 *   key; unknown keys are ignored;
 * - numbers out of the setting's bounds are clamped, not refused, because
 *   qBittorrent clamps or stores them silently;
 * - flags: QBT_WRITE_ONLY (accepted, never written out), QBT_READ_ONLY
 *   (written out, ignored on input).  A per-key conversion (units, enum
 *   names <-> numbers, lists <-> strings) belongs in the dialect's own
 *   apply/to_json step next to its table: the core keeps one unit.
 * Passwords are not settings: web_ui_password is hashed by qbt_v2_app.c.
 */
#ifndef TD_WEB_API_QBT_V2_PREFS_H
#define TD_WEB_API_QBT_V2_PREFS_H

#include <jansson.h>
#include <stddef.h>

#include "core/settings.h"

enum qbt_v2_jtype { QBT_BOOL, QBT_INT, QBT_REAL, QBT_STR, QBT_OBJECT };

enum { QBT_WRITE_ONLY = 1u << 0, QBT_READ_ONLY = 1u << 1 };

struct qbt_v2_pref {
    const char *key;
    enum setting_id id;
    enum qbt_v2_jtype type;
    unsigned flags;
};

extern const struct qbt_v2_pref qbt_v2_prefs[];
extern const size_t qbt_v2_prefs_count;

/* The row of a qBittorrent key, or NULL. */
const struct qbt_v2_pref *qbt_v2_pref_find(const char *key);

/* app/preferences: a new object, keys in table order. */
json_t *qbt_v2_prefs_to_json(const struct settings *s);

/* setPreferences: maps `changes` (an object) and applies it all or nothing
 * (settings_apply); *changed gets the ids that changed.  -EINVAL with a
 * message naming the key on a wrong JSON type. */
int qbt_v2_prefs_apply(struct settings *s, json_t *changes, struct settings_mask *changed, char *err, size_t errlen);

#endif
