/* prefs — the daemon's preferences, keyed and typed as qBittorrent's
 * app/preferences.
 *
 * Values live in one JSON object.  The JSON type of each key's default is
 * its type: setPreferences with another type is refused (400), unknown keys
 * are ignored as qBittorrent does.  Numbers given as integers are accepted
 * for real-valued keys.  Hot paths never read prefs by name; the session
 * caches what it needs when prefs change.
 */
#ifndef TD_CORE_PREFS_H
#define TD_CORE_PREFS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

extern const char prefs_defaults_json[];

struct prefs {
    json_t *values;      /* every known key */
    char *password_hash; /* web_ui_password as PBKDF2 ("@ByteArray(...)"); never sent out */
};

int prefs_init(struct prefs *p);
void prefs_free(struct prefs *p);

/* Applies `changes` (an object).  Keys with a wrong JSON type make the whole
 * call fail with -EINVAL and a message naming the key; nothing is applied
 * then.  On success *applied (if not NULL) is a new object of the keys that
 * actually changed (unknown keys and unchanged values left out). */
int prefs_apply(struct prefs *p, json_t *changes, json_t **applied, char *err, size_t errlen);

/* Sets one key without type checks (loading from the store, command line). */
int prefs_set(struct prefs *p, const char *key, json_t *value /* stolen */);

bool prefs_bool(const struct prefs *p, const char *key);
int64_t prefs_int(const struct prefs *p, const char *key);
double prefs_real(const struct prefs *p, const char *key);
const char *prefs_str(const struct prefs *p, const char *key);

/* A new object for app/preferences (write-only keys left out). */
json_t *prefs_to_json(const struct prefs *p);

#endif
