/* libFuzzer target for utserver.conf (core/utconf) and the µTorrent value
 * conversions (core/ut_settings).
 *
 * Never crash; and whatever parses must turn into a batch that either fails
 * with a message naming the file, or applies all or nothing: after a refused
 * batch the settings are exactly the defaults, after an accepted one every
 * µTorrent name formats without overflowing a generous buffer.  Every moment
 * (first start, start, reload) is tried.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/settings.h"
#include "core/utconf.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > UTCONF_MAX_BYTES + 16)
        return 0;
    log_set_quiet(1);
    struct utconf c;
    char err[512];
    if (utconf_parse((const char *)data, size, "f.conf", &c, NULL, NULL, err, sizeof err) != 0) {
        if (strncmp(err, "f.conf:", 7) != 0)
            abort();
        return 0;
    }
    for (int m = UTCONF_FIRST_START; m <= UTCONF_RELOAD; m++) {
        struct settings s;
        if (settings_init(&s) != 0)
            abort();
        struct ut_batch b;
        if (ut_batch_init(&b, &s, "/base") != 0)
            abort();
        int rc = utconf_batch(&c, (enum utconf_moment)m, &b, err, sizeof err);
        if (rc != 0 && strncmp(err, "f.conf:", 7) != 0)
            abort();
        if (rc == 0 && settings_apply(&s, b.ch, b.n, NULL, err, sizeof err) == 0) {
            char v[UT_VALUE_MAX * 2 + 64];
            for (size_t i = 0; i < ut_settings_count; i++) {
                const struct ut_setting *u = &ut_settings[i];
                int fr = ut_settings_format(&s, u, v, sizeof v);
                if (fr != 0 && !(fr == -EINVAL && (u->conv == UT_CONV_ADMIN_PASSWORD || u->conv == UT_CONV_IGNORED)) &&
                    u->conv != UT_CONV_DIR_DOWNLOAD)
                    abort();
            }
        }
        ut_batch_free(&b);
        settings_free(&s);
    }
    utconf_free(&c);
    return 0;
}
