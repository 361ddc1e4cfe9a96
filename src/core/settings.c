#include "core/settings.h"

#include <assert.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/record.h"

#define DEF_BOOL(d, lo, hi) .type = SETT_BOOL, .def_i = (d), .min_i = (lo), .max_i = (hi)
#define DEF_INT(d, lo, hi) .type = SETT_INT, .def_i = (d), .min_i = (lo), .max_i = (hi)
#define DEF_REAL(d, lo, hi) .type = SETT_REAL, .def_r = (d), .min_r = (lo), .max_r = (hi)
#define DEF_STR(d, lo, hi) .type = SETT_STR, .def_s = (d)
#define DEF_JSON(d, lo, hi) .type = SETT_JSON, .def_s = (d)
#define SETTINGS_ROW(id, nm, T, d, lo, hi, g) [SET_##id] = {.name = (nm), DEF_##T(d, lo, hi), .groups = (g)},

const struct setting_def settings_defs[SET__COUNT] = {SETTINGS_TABLE(SETTINGS_ROW)};

static bool is_text(enum setting_type t) { return t == SETT_STR || t == SETT_JSON; }

int settings_init(struct settings *s)
{
    memset(s, 0, sizeof *s);
    for (int id = 0; id < SET__COUNT; id++) {
        const struct setting_def *d = &settings_defs[id];
        switch (d->type) {
        case SETT_BOOL: s->v[id].b = d->def_i != 0; break;
        case SETT_INT: s->v[id].i = d->def_i; break;
        case SETT_REAL: s->v[id].r = d->def_r; break;
        case SETT_STR:
        case SETT_JSON:
            s->v[id].s = strdup(d->def_s);
            if (!s->v[id].s) {
                settings_free(s);
                return -ENOMEM;
            }
            break;
        }
    }
    return 0;
}

void settings_free(struct settings *s)
{
    for (int id = 0; id < SET__COUNT; id++) {
        if (is_text(settings_defs[id].type)) {
            free(s->v[id].s);
            s->v[id].s = NULL;
        }
    }
    free(s->password_hash);
    s->password_hash = NULL;
    s->num_hooks = 0;
}

bool settings_bool(const struct settings *s, enum setting_id id)
{
    assert(settings_defs[id].type == SETT_BOOL);
    return s->v[id].b;
}

int64_t settings_int(const struct settings *s, enum setting_id id)
{
    assert(settings_defs[id].type == SETT_INT);
    return s->v[id].i;
}

double settings_real(const struct settings *s, enum setting_id id)
{
    assert(settings_defs[id].type == SETT_REAL);
    return s->v[id].r;
}

const char *settings_str(const struct settings *s, enum setting_id id)
{
    assert(is_text(settings_defs[id].type));
    return s->v[id].s ? s->v[id].s : "";
}

bool settings_mask_empty(const struct settings_mask *m)
{
    for (size_t i = 0; i < SETTINGS_MASK_WORDS; i++) {
        if (m->w[i])
            return false;
    }
    return true;
}

size_t settings_mask_count(const struct settings_mask *m)
{
    size_t n = 0;
    for (size_t i = 0; i < SETTINGS_MASK_WORDS; i++)
        n += (size_t)__builtin_popcountll(m->w[i]);
    return n;
}

bool settings_mask_in_groups(const struct settings_mask *m, unsigned groups)
{
    for (int id = 0; id < SET__COUNT; id++) {
        if ((settings_defs[id].groups & groups) && settings_mask_has(m, (enum setting_id)id))
            return true;
    }
    return false;
}

/* Checks one change; for text settings *owned gets the new value's copy. */
static int check(const struct settings_change *c, char **owned, char *err, size_t errlen)
{
    *owned = NULL;
    if ((unsigned)c->id >= SET__COUNT) {
        snprintf(err, errlen, "unknown setting %d", (int)c->id);
        return -EINVAL;
    }
    const struct setting_def *d = &settings_defs[c->id];
    bool ok = c->type == d->type || (d->type == SETT_REAL && c->type == SETT_INT) ||
              (d->type == SETT_JSON && c->type == SETT_STR);
    if (!ok) {
        snprintf(err, errlen, "setting '%s': wrong type", d->name);
        return -EINVAL;
    }
    if (d->type == SETT_INT && (c->v.i < d->min_i || c->v.i > d->max_i)) {
        snprintf(err, errlen, "setting '%s': %lld is out of range %lld..%lld", d->name, (long long)c->v.i,
                 (long long)d->min_i, (long long)d->max_i);
        return -ERANGE;
    }
    if (d->type == SETT_REAL) {
        double r = c->type == SETT_INT ? (double)c->v.i : c->v.r;
        if (!(r >= d->min_r && r <= d->max_r)) {   /* NaN fails too */
            snprintf(err, errlen, "setting '%s': %g is out of range %g..%g", d->name, r, d->min_r, d->max_r);
            return -ERANGE;
        }
    }
    if (is_text(d->type)) {
        if (!c->v.s) {
            snprintf(err, errlen, "setting '%s': no value", d->name);
            return -EINVAL;
        }
        if (strnlen(c->v.s, SETTINGS_MAX_TEXT + 1) > SETTINGS_MAX_TEXT) {
            snprintf(err, errlen, "setting '%s': longer than %d bytes", d->name, SETTINGS_MAX_TEXT);
            return -ERANGE;
        }
        /* JSON text is kept in one form (compact, keys sorted), so that an
         * equal value compares equal. */
        int rc = 0;
        if (d->type == SETT_JSON)
            rc = record_json_canonical(c->v.s, owned);
        else if (!(*owned = strdup(c->v.s)))
            rc = -ENOMEM;
        if (rc == -EINVAL) {
            snprintf(err, errlen, "setting '%s': not JSON", d->name);
            return -EINVAL;
        }
        if (rc != 0)
            return -ENOMEM;
    }
    return 0;
}

int settings_apply(struct settings *s, const struct settings_change *c, size_t n, struct settings_mask *changed,
                   char *err, size_t errlen)
{
    char dummy[200];   /* the caller does not want the message */
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    char **owned = n ? calloc(n, sizeof *owned) : NULL;
    if (n && !owned)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = check(&c[i], &owned[i], err, errlen);
    if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            free(owned[i]);
        free(owned);
        return rc;
    }
    /* Every change is valid: apply them all. */
    for (size_t i = 0; i < n; i++) {
        enum setting_id id = c[i].id;
        union setting_value *v = &s->v[id];
        bool diff = false;
        switch (settings_defs[id].type) {
        case SETT_BOOL:
            diff = v->b != c[i].v.b;
            v->b = c[i].v.b;
            break;
        case SETT_INT:
            diff = v->i != c[i].v.i;
            v->i = c[i].v.i;
            break;
        case SETT_REAL: {
            double r = c[i].type == SETT_INT ? (double)c[i].v.i : c[i].v.r;
            diff = v->r != r;
            v->r = r;
            break;
        }
        case SETT_STR:
        case SETT_JSON:
            diff = strcmp(v->s, owned[i]) != 0;
            free(v->s);
            v->s = owned[i];
            owned[i] = NULL;
            break;
        }
        if (diff && changed)
            settings_mask_add(changed, id);
    }
    free(owned);
    return 0;
}

int settings_set_bool(struct settings *s, enum setting_id id, bool v, struct settings_mask *changed)
{
    struct settings_change c = {.id = id, .type = SETT_BOOL, .v.b = v};
    return settings_apply(s, &c, 1, changed, NULL, 0);
}

int settings_set_int(struct settings *s, enum setting_id id, int64_t v, struct settings_mask *changed)
{
    struct settings_change c = {.id = id, .type = SETT_INT, .v.i = v};
    return settings_apply(s, &c, 1, changed, NULL, 0);
}

int settings_set_real(struct settings *s, enum setting_id id, double v, struct settings_mask *changed)
{
    struct settings_change c = {.id = id, .type = SETT_REAL, .v.r = v};
    return settings_apply(s, &c, 1, changed, NULL, 0);
}

int settings_set_str(struct settings *s, enum setting_id id, const char *v, struct settings_mask *changed)
{
    struct settings_change c = {.id = id, .type = SETT_STR, .v.s = v};
    return settings_apply(s, &c, 1, changed, NULL, 0);
}

int settings_add_hook(struct settings *s, unsigned groups, settings_hook_fn fn, void *ud)
{
    if (s->num_hooks >= SETTINGS_MAX_HOOKS)
        return -ENOSPC;
    s->hooks[s->num_hooks].groups = groups;
    s->hooks[s->num_hooks].fn = fn;
    s->hooks[s->num_hooks].ud = ud;
    s->num_hooks++;
    return 0;
}

void settings_remove_hook(struct settings *s, settings_hook_fn fn, void *ud)
{
    for (size_t i = 0; i < s->num_hooks; i++)
        if (s->hooks[i].fn == fn && s->hooks[i].ud == ud) {
            memmove(&s->hooks[i], &s->hooks[i + 1], (s->num_hooks - i - 1) * sizeof s->hooks[0]);
            s->num_hooks--;
            return;
        }
}

void settings_notify(struct settings *s, const struct settings_mask *changed)
{
    unsigned groups = 0;
    for (int id = 0; id < SET__COUNT; id++) {
        if (settings_mask_has(changed, (enum setting_id)id))
            groups |= settings_defs[id].groups;
    }
    for (size_t i = 0; groups && i < s->num_hooks; i++) {
        if (s->hooks[i].groups & groups)
            s->hooks[i].fn(s->hooks[i].ud, changed);
    }
}

int settings_find(const char *name)
{
    /* The table is sorted by name (settings_table.h). */
    int lo = 0, hi = SET__COUNT - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(name, settings_defs[mid].name);
        if (c == 0)
            return mid;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

char *settings_to_text(const struct settings *s, enum setting_id id)
{
    const union setting_value *v = &s->v[id];
    struct record_value r = {0};
    switch (settings_defs[id].type) {
    case SETT_BOOL: r = (struct record_value){.type = RECORD_BOOL, .b = v->b}; break;
    case SETT_INT: r = (struct record_value){.type = RECORD_INT, .i = v->i}; break;
    case SETT_REAL: r = (struct record_value){.type = RECORD_REAL, .r = v->r}; break;
    case SETT_STR: r = (struct record_value){.type = RECORD_TEXT, .s = v->s}; break;
    case SETT_JSON: return strdup(v->s);
    }
    char *out = NULL;
    return record_value_encode(&r, &out) == 0 ? out : NULL;
}

int settings_load_text(struct settings *s, enum setting_id id, const char *text)
{
    const struct setting_def *d = &settings_defs[id];
    if (d->type == SETT_JSON)
        return settings_set_str(s, id, text, NULL);
    struct record_value j;
    int rc = record_value_decode(text, &j);
    if (rc != 0)
        return rc == -ENOMEM ? rc : -EINVAL;
    rc = -EINVAL;
    if (d->type == SETT_BOOL && j.type == RECORD_BOOL) {
        rc = settings_set_bool(s, id, j.b, NULL);
    } else if (d->type == SETT_INT && (j.type == RECORD_INT || j.type == RECORD_REAL)) {
        double r = j.r;
        int64_t i = j.type == RECORD_INT ? j.i : r >= 9.2e18 ? INT64_MAX : r <= -9.2e18 ? INT64_MIN : (int64_t)r;
        i = i < d->min_i ? d->min_i : i > d->max_i ? d->max_i : i;
        rc = settings_set_int(s, id, i, NULL);
    } else if (d->type == SETT_REAL && (j.type == RECORD_INT || j.type == RECORD_REAL)) {
        double r = j.r;
        r = r < d->min_r ? d->min_r : r > d->max_r ? d->max_r : r;
        rc = settings_set_real(s, id, r, NULL);
    } else if (d->type == SETT_STR && j.type == RECORD_TEXT) {
        rc = settings_set_str(s, id, j.s, NULL);
    }
    record_value_clear(&j);
    return rc;
}
