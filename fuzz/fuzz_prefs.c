/* qBittorrent's setPreferences mapping (web/api/qbt_v2_prefs.c) over the
 * typed settings: the input is the `json=` text a client sends, parsed as
 * qbt_v2_h_set_preferences parses it, then applied to fresh settings.
 *
 * Checked on every input:
 * - a refused batch changes nothing (app/preferences before == after) and
 *   says why (a message naming the key);
 * - an accepted batch leaves every INT and REAL setting inside its bounds,
 *   every JSON setting valid JSON and scan_dirs an object of numbers and
 *   paths;
 * - what app/preferences then writes is accepted back and changes nothing
 *   (the output is a fixed point of the input mapping). */
#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/settings.h"
#include "web/api/qbt_v2_prefs.h"

static char *dump(const struct settings *s)
{
    json_t *o = qbt_v2_prefs_to_json(s);
    assert(o);
    char *t = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert(t);
    return t;
}

static void check_bounds(const struct settings *s)
{
    for (int id = 0; id < SET__COUNT; id++) {
        const struct setting_def *d = &settings_defs[id];
        if (d->type == SETT_INT) {
            int64_t v = settings_int(s, (enum setting_id)id);
            assert(v >= d->min_i && v <= d->max_i);
        } else if (d->type == SETT_REAL) {
            double v = settings_real(s, (enum setting_id)id);
            assert(v >= d->min_r && v <= d->max_r);
        } else if (d->type == SETT_JSON) {
            /* valid JSON (µTorrent's ut_dir_download is an array); scan_dirs,
             * the one qBittorrent writes, an object of numbers and paths */
            json_error_t e;
            json_t *j = json_loads(settings_str(s, (enum setting_id)id), JSON_DECODE_ANY, &e);
            assert(j);
            if (id == SET_SCAN_DIRS) {
                const char *k;
                json_t *x;
                assert(json_is_object(j));
                json_object_foreach(j, k, x)
                    assert(json_is_integer(x) || json_is_string(x));
            }
            json_decref(j);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    json_error_t je;
    json_t *changes = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(changes)) {
        json_decref(changes);
        return 0;
    }
    struct settings s;
    if (settings_init(&s) != 0) {
        json_decref(changes);
        return 0;
    }
    char *before = dump(&s);
    struct settings_mask changed = {0};
    char err[256] = "";
    int rc = qbt_v2_prefs_apply(&s, changes, &changed, err, sizeof err);
    json_decref(changes);
    char *after = dump(&s);
    if (rc != 0) {
        assert(rc == -EINVAL || rc == -ERANGE || rc == -ENOMEM);
        assert(err[0]);
        assert(strcmp(before, after) == 0);
        assert(settings_mask_empty(&changed));
    } else {
        check_bounds(&s);
        json_t *out = json_loads(after, 0, &je);
        assert(json_is_object(out));
        struct settings_mask again = {0};
        rc = qbt_v2_prefs_apply(&s, out, &again, err, sizeof err);
        json_decref(out);
        assert(rc == 0);
        char *twice = dump(&s);
        assert(strcmp(after, twice) == 0);
        free(twice);
    }
    free(before);
    free(after);
    settings_free(&s);
    return 0;
}
