/* utconf — µTorrent Server's utserver.conf (seed 004 "Configuration File").
 *
 * The format: one `name: value` per line (split at the first colon, both
 * sides trimmed), `#` as the first non-blank character makes a comment,
 * blank lines are skipped, `dir_download` may be repeated (one list, in file
 * order), booleans are true/false/1/0.  Everything is bounded: the file
 * (UTCONF_MAX_BYTES), a line (UTCONF_MAX_LINE), the number of lines.
 *
 * Parsing only checks the syntax and knows the keys (core/ut_settings):
 * an unknown key and a uconnect_* key (µTorrent Remote is gone) are warnings
 * with the line number, a line that is not `name: value` is an error.  The
 * values are checked when utconf_batch turns the entries into a ut_batch
 * (the error names file:line and the key), so a file is refused before any
 * of it is applied; the caller then applies the batch with settings_apply
 * (all or nothing) and session_settings_changed (live hooks, persistence).
 *
 * Which entries a read applies depends on the key's reload class and on the
 * moment (seed 004 "Reloadable Settings"): UT_FIRST keys only on the first
 * start of a profile (no stored settings: µTorrent's "settings.dat does not
 * exist"), UT_START keys at every start, UT_ALWAYS keys at every read
 * (start, SIGHUP, rcf.utmr).  Pure: no I/O besides utconf_load's read.
 */
#ifndef TD_CORE_UTCONF_H
#define TD_CORE_UTCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/ut_settings.h"

#define UTCONF_MAX_BYTES (1u << 20)
#define UTCONF_MAX_LINE 8192
#define UTCONF_MAX_LINES 10000

struct utconf_entry {
    const struct ut_setting *u;
    char *value;
    unsigned line;
};

struct utconf {
    char *file;                   /* as given: named in messages */
    struct utconf_entry *e;
    size_t n;
};

/* Called for each warning with "file:line: text". */
typedef void (*utconf_warn_fn)(void *ud, const char *msg);

/* Parses text (len bytes; NUL bytes are an error).  0, or -EINVAL/-EFBIG
 * with "file:line: reason" in err; -ENOMEM.  out is empty on error. */
int utconf_parse(const char *text, size_t len, const char *file, struct utconf *out, utconf_warn_fn warn, void *ud,
                 char *err, size_t errlen);
/* Reads and parses the file (at most UTCONF_MAX_BYTES). */
int utconf_load(const char *path, struct utconf *out, utconf_warn_fn warn, void *ud, char *err, size_t errlen);
void utconf_free(struct utconf *c);

enum utconf_moment {
    UTCONF_FIRST_START,   /* start of a profile with no stored settings: everything */
    UTCONF_START,         /* start of an existing profile: UT_START and UT_ALWAYS */
    UTCONF_RELOAD,        /* SIGHUP / rcf.utmr: UT_ALWAYS only */
};

/* Whether u is applied at that moment. */
bool utconf_applies(const struct ut_setting *u, enum utconf_moment m);

/* Adds the entries that apply at moment m to b (ut_batch_init'd over the
 * current settings) and finishes it.  0, or the ut_batch error with
 * "file:line: " in front. */
int utconf_batch(const struct utconf *c, enum utconf_moment m, struct ut_batch *b, char *err, size_t errlen);

#endif
