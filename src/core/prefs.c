#include "core/prefs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int prefs_init(struct prefs *p)
{
    json_error_t e;
    p->values = json_loads(prefs_defaults_json, 0, &e);
    p->password_hash = NULL;
    return p->values ? 0 : -ENOMEM;
}

void prefs_free(struct prefs *p)
{
    json_decref(p->values);
    free(p->password_hash);
    p->values = NULL;
    p->password_hash = NULL;
}

static bool type_ok(const json_t *dflt, const json_t *v)
{
    if (json_is_boolean(dflt))
        return json_is_boolean(v);
    if (json_is_integer(dflt))
        return json_is_integer(v);
    if (json_is_real(dflt))
        return json_is_number(v);
    if (json_is_string(dflt))
        return json_is_string(v);
    if (json_is_object(dflt))
        return json_is_object(v);
    return json_typeof(dflt) == json_typeof(v);
}

int prefs_apply(struct prefs *p, json_t *changes, json_t **applied, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    if (!json_is_object(changes)) {
        snprintf(err, errlen, "Preferences must be a JSON object");
        return -EINVAL;
    }
    json_object_foreach(changes, key, v) {
        json_t *cur = json_object_get(p->values, key);
        if (cur && !type_ok(cur, v)) {
            snprintf(err, errlen, "Invalid type for preference '%s'", key);
            return -EINVAL;
        }
    }
    json_t *done = json_object();
    json_object_foreach(changes, key, v) {
        json_t *cur = json_object_get(p->values, key);
        if (!cur || json_equal(cur, v))
            continue;
        json_t *nv = json_is_real(cur) && json_is_integer(v)
                         ? json_real((double)json_integer_value(v))
                         : json_deep_copy(v);
        json_object_set_new(p->values, key, nv);
        json_object_set(done, key, nv);
    }
    if (applied)
        *applied = done;
    else
        json_decref(done);
    return 0;
}

int prefs_set(struct prefs *p, const char *key, json_t *value)
{
    return json_object_set_new(p->values, key, value) ? -ENOMEM : 0;
}

bool prefs_bool(const struct prefs *p, const char *key)
{
    return json_is_true(json_object_get(p->values, key));
}

int64_t prefs_int(const struct prefs *p, const char *key)
{
    json_t *v = json_object_get(p->values, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : (int64_t)json_number_value(v);
}

double prefs_real(const struct prefs *p, const char *key)
{
    return json_number_value(json_object_get(p->values, key));
}

const char *prefs_str(const struct prefs *p, const char *key)
{
    const char *s = json_string_value(json_object_get(p->values, key));
    return s ? s : "";
}

json_t *prefs_to_json(const struct prefs *p)
{
    return json_deep_copy(p->values);
}
