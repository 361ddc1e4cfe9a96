/* web/api/ops_config — GET/POST /api/config: the preferences and the ops
 * settings as one JSON document, qBitrr's "Section.Key" addressing.
 *
 * GET answers {"Preferences":{<app/preferences keys>},"Ops":{...},
 * "WebUI":{"Token":...}}; secrets (passwords, the token, Arr API keys) are
 * shown as "********".  POST {"changes":{"Section.Key": value | null}}
 * (null = the default) checks every change first (the key exists and is
 * writable, the JSON type, the bounds, the shape of the JSON settings) and
 * answers 400 {"error":"<Section.Key>: why"} for the first bad one with
 * nothing changed; then applies them all through the typed settings (live,
 * through the SG_* hooks) and persists them, as setPreferences does.
 * Sending "********" back for a secret keeps it (a GET-edit-POST round trip
 * does not wipe the secrets); so does an Arr connection's APIKey.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"
#include "ops/ops.h"
#include "util/log.h"
#include "web/api/ops_int.h"
#include "web/api/qbt_v2_prefs.h"

#define REDACTED "********"

enum cfg_kind { CFG_PLAIN, CFG_SECRET, CFG_RULES, CFG_ARR };

static const struct cfg_key {
    const char *key;
    enum setting_id id;
    enum cfg_kind kind;
} keys[] = {
    {"Ops.Arr", SET_OPS_ARR, CFG_ARR},
    {"Ops.AutoPauseResume", SET_OPS_AUTO_PAUSE_RESUME, CFG_PLAIN},
    {"Ops.FreeSpace", SET_OPS_FREE_SPACE, CFG_PLAIN},
    {"Ops.FreeSpaceFolder", SET_OPS_FREE_SPACE_FOLDER, CFG_PLAIN},
    {"Ops.IgnoreTorrentsYoungerThan", SET_OPS_IGNORE_YOUNGER_THAN, CFG_PLAIN},
    {"Ops.ManagedCategories", SET_OPS_MANAGED_CATEGORIES, CFG_PLAIN},
    {"Ops.MaximumDeletablePercentage", SET_OPS_MAX_DELETABLE_PERCENTAGE, CFG_PLAIN},
    {"Ops.MetricsRequireToken", SET_OPS_METRICS_NEED_TOKEN, CFG_PLAIN},
    {"Ops.RemoveStalled", SET_OPS_STALLED_REMOVE, CFG_PLAIN},
    {"Ops.SeedingRules", SET_OPS_SEEDING_RULES, CFG_RULES},
    {"Ops.StalledDelay", SET_OPS_STALLED_DELAY, CFG_PLAIN},
    {"WebUI.Token", SET_OPS_TOKEN, CFG_SECRET},
};

static const struct cfg_key *key_find(const char *k)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].key, k) == 0)
            return &keys[i];
    return NULL;
}

static bool secret_pref(const char *k)
{
    return strstr(k, "password") || strstr(k, "secret") || strstr(k, "api_key") || strstr(k, "token");
}

/* An Arr array with the API keys hidden. */
static json_t *arr_redacted(const char *text)
{
    json_t *a = json_loads(text, 0, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        return json_array();
    }
    size_t i;
    json_t *c;
    json_array_foreach(a, i, c) if (json_is_object(c) && json_object_get(c, "APIKey"))
        json_object_set_new(c, "APIKey", json_string(REDACTED));
    return a;
}

static json_t *setting_json(const struct settings *st, const struct cfg_key *k)
{
    switch (settings_defs[k->id].type) {
    case SETT_BOOL: return json_boolean(settings_bool(st, k->id));
    case SETT_INT: return json_integer(settings_int(st, k->id));
    case SETT_REAL: return json_real(settings_real(st, k->id));
    case SETT_STR:
        if (k->kind == CFG_SECRET)
            return json_string(*settings_str(st, k->id) ? REDACTED : "");
        return json_string(settings_str(st, k->id));
    case SETT_JSON:
        if (k->kind == CFG_ARR)
            return arr_redacted(settings_str(st, k->id));
        json_t *v = json_loads(settings_str(st, k->id), 0, NULL);
        return v ? v : json_null();
    }
    return json_null();
}

static void h_get(struct web_req *r, void *ud)
{
    struct ops_web *w = ud;
    const struct settings *st = &w->s->settings;
    json_t *prefs = qbt_v2_prefs_to_json(st);
    const char *k;
    json_t *v;
    json_object_foreach(prefs, k, v) if (secret_pref(k) && json_is_string(v) && *json_string_value(v))
        json_object_set_new(prefs, k, json_string(REDACTED));
    json_t *out = json_pack("{s:o, s:{}, s:{}}", "Preferences", prefs, "Ops", "WebUI");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *dot = strchr(keys[i].key, '.');
        char sec[16];
        snprintf(sec, sizeof sec, "%.*s", (int)(dot - keys[i].key), keys[i].key);
        json_object_set_new(json_object_get(out, sec), dot + 1, setting_json(st, &keys[i]));
    }
    web_reply_json(r, out);
}

/* ---- POST ---- */

struct cfg_apply {
    struct ops_web *w;
    struct web_req *r;
    struct settings_mask changed;
};

static void committed(void *ud, int rc)
{
    struct cfg_apply *a = ud;
    if (rc != 0) {
        log_msg(LOG_WARNING, "Ops: configuration could not be saved (%d)", rc);
        ops_reply_error(a->r, 500, "the configuration could not be saved");
    } else {
        web_reply_json(a->r, json_pack("{s:s, s:b, s:s, s:[], s:I}", "status", "ok", "configReloaded", 1,
                                       "reloadType", "live", "affectedInstances", "changed",
                                       (json_int_t)settings_mask_count(&a->changed)));
    }
    free(a);
}

/* An Arr array where APIKey "********" means the stored key of the
 * connection with that Name.  Returns new text or NULL (ENOMEM). */
static char *arr_keep_keys(const struct settings *st, json_t *v)
{
    json_t *old = json_loads(settings_str(st, SET_OPS_ARR), 0, NULL);
    json_t *nv = json_deep_copy(v);
    size_t i, j;
    json_t *c, *o;
    json_array_foreach(nv, i, c)
    {
        const char *key = json_string_value(json_object_get(c, "APIKey"));
        const char *name = json_string_value(json_object_get(c, "Name"));
        if (!key || strcmp(key, REDACTED) != 0 || !name)
            continue;
        json_array_foreach(old, j, o)
        {
            const char *on = json_string_value(json_object_get(o, "Name"));
            json_t *ok = json_object_get(o, "APIKey");
            if (on && strcmp(on, name) == 0 && json_is_string(ok))
                json_object_set(c, "APIKey", ok);
        }
    }
    char *s = json_dumps(nv, JSON_COMPACT);
    json_decref(nv);
    json_decref(old);
    return s;
}

static bool bounds_ok(enum setting_id id, json_t *v)
{
    const struct setting_def *d = &settings_defs[id];
    if (d->type == SETT_INT)
        return json_integer_value(v) >= d->min_i && json_integer_value(v) <= d->max_i;
    if (d->type == SETT_REAL) {
        double x = json_number_value(v);
        return isfinite(x) && x >= d->min_r && x <= d->max_r;
    }
    return true;
}

/* One Section.Key change checked and, when good, added to c (strings to
 * free in owned).  NULL = good, else why. */
static const char *check_ops(const struct settings *st, const struct cfg_key *k, json_t *v,
                             struct settings_change *c, char **owned)
{
    const struct setting_def *d = &settings_defs[k->id];
    c->id = k->id;
    c->type = d->type;
    if (json_is_null(v)) {   /* back to the default */
        switch (d->type) {
        case SETT_BOOL: c->v.b = d->def_i != 0; break;
        case SETT_INT: c->v.i = d->def_i; break;
        case SETT_REAL: c->v.r = d->def_r; break;
        default: c->v.s = d->def_s; break;
        }
        return NULL;
    }
    switch (d->type) {
    case SETT_BOOL:
        if (!json_is_boolean(v))
            return "must be true or false";
        c->v.b = json_is_true(v);
        return NULL;
    case SETT_INT:
        if (!json_is_integer(v))
            return "must be an integer";
        if (!bounds_ok(k->id, v))
            return "out of range";
        c->v.i = json_integer_value(v);
        return NULL;
    case SETT_REAL:
        if (!json_is_number(v))
            return "must be a number";
        if (!bounds_ok(k->id, v))
            return "out of range";
        c->type = SETT_REAL;
        c->v.r = json_number_value(v);
        return NULL;
    case SETT_STR:
        if (!json_is_string(v))
            return "must be a string";
        c->v.s = json_string_value(v);
        if (k->kind == CFG_SECRET && strcmp(c->v.s, REDACTED) == 0)
            c->v.s = settings_str(st, k->id);   /* unchanged */
        return NULL;
    case SETT_JSON: {
        if (!json_is_array(v))
            return "must be a JSON array";
        char *text = k->kind == CFG_ARR ? arr_keep_keys(st, v) : json_dumps(v, JSON_COMPACT);
        if (!text)
            return "out of memory";
        *owned = text;
        const char *why = k->kind == CFG_ARR ? ops_arr_validate(text) : ops_rules_validate(text);
        if (why)
            return why;
        c->v.s = text;
        return NULL;
    }
    }
    return "unsupported";
}

/* A Preferences.<key> change: the checks qbt_v2_prefs_apply does not do
 * (unknown and read-only keys, bounds), so that it cannot fail later. */
static const char *check_pref(const char *key, json_t *v)
{
    const struct qbt_v2_pref *p = qbt_v2_pref_find(key);
    if (!p)
        return "no such preference";
    if (p->flags & QBT_READ_ONLY)
        return "read-only";
    bool type = p->type == QBT_BOOL    ? json_is_boolean(v)
                : p->type == QBT_INT   ? json_is_integer(v)
                : p->type == QBT_REAL  ? json_is_number(v)
                : p->type == QBT_STR   ? json_is_string(v)
                                       : json_is_object(v);
    if (!type)
        return p->type == QBT_BOOL ? "must be true or false"
               : p->type == QBT_INT ? "must be an integer"
               : p->type == QBT_REAL ? "must be a number"
               : p->type == QBT_STR  ? "must be a string"
                                     : "must be an object";
    enum setting_type st = settings_defs[p->id].type;
    if ((p->type == QBT_INT && st == SETT_INT) || (p->type == QBT_REAL && st == SETT_REAL))
        if (!bounds_ok(p->id, v))
            return "out of range";
    return NULL;
}

static void h_post(struct web_req *r, void *ud)
{
    struct ops_web *w = ud;
    struct settings *st = &w->s->settings;
    json_t *b = ops_body(r);
    if (!b)
        return;
    json_t *changes = json_object_get(b, "changes");
    if (!json_is_object(changes)) {
        json_decref(b);
        ops_reply_error(r, 400, "the body must be {\"changes\": {\"Section.Key\": value}}");
        return;
    }
    size_t n = json_object_size(changes), nc = 0;
    struct settings_change *c = calloc(n ? n : 1, sizeof *c);
    char **owned = calloc(n ? n : 1, sizeof *owned);
    json_t *prefs = json_object();
    char err[512] = "";
    const char *k;
    json_t *v;
    if (!c || !owned || !prefs) {
        snprintf(err, sizeof err, "out of memory");
        goto out;
    }
    json_object_foreach(changes, k, v)
    {
        const char *why = NULL;
        if (strncmp(k, "Preferences.", 12) == 0) {
            if (json_is_null(v))
                why = "null (the default) is not supported for preferences";
            else if (secret_pref(k + 12) && json_is_string(v) && strcmp(json_string_value(v), REDACTED) == 0)
                continue;   /* the redacted value sent back: unchanged */
            else if (!(why = check_pref(k + 12, v)))
                json_object_set(prefs, k + 12, v);
        } else {
            const struct cfg_key *ck = key_find(k);
            if (!ck)
                why = "no such key";
            else
                why = check_ops(st, ck, v, &c[nc], &owned[nc]);
            if (!why)
                nc++;
        }
        if (why) {
            snprintf(err, sizeof err, "%s: %s", k, why);
            goto out;
        }
    }
    struct cfg_apply *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, sizeof err, "out of memory");
        goto out;
    }
    a->w = w;
    a->r = r;
    char aerr[256] = "";
    /* Preferences first: all or nothing, so a failure there leaves the ops
     * settings untouched too (they were checked above and cannot fail). */
    if (json_object_size(prefs) && qbt_v2_prefs_apply(st, prefs, &a->changed, aerr, sizeof aerr) != 0) {
        snprintf(err, sizeof err, "Preferences.%s", aerr);
        free(a);
        goto out;
    }
    if (nc && settings_apply(st, c, nc, &a->changed, aerr, sizeof aerr) != 0) {
        snprintf(err, sizeof err, "%s", aerr);
        free(a);
        goto out;
    }
    log_msg(LOG_INFO, "Ops: configuration changed through the API (%zu setting(s))",
            settings_mask_count(&a->changed));
    int rc = session_settings_changed(w->s, &a->changed, committed, a);
    if (rc != 0)
        committed(a, rc);
out:
    for (size_t i = 0; owned && i < n; i++)
        free(owned[i]);
    free(owned);
    free(c);
    json_decref(prefs);
    json_decref(b);
    if (*err)
        ops_reply_error(r, 400, err);
}

static void h_config(struct web_req *r, void *ud)
{
    if (web_req_method(r) == WEB_POST)
        h_post(r, ud);
    else
        h_get(r, ud);
}

int ops_config_register(struct ops_web *w)
{
    static const struct web_route_def routes[] = {
        {"/api/config", WEB_GET | WEB_POST, h_config, WEB_AUTH_OPS_TOKEN, NULL},
    };
    return web_routes_add(w->ws, routes, sizeof routes / sizeof routes[0], w);
}
