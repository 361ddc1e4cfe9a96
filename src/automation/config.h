/* automation/config — qbit_manage's config.yml, read as it is.
 *
 * A user's existing qbit_manage 4.8.1 configuration works unchanged: the
 * file is parsed with libyaml into a small tree (mappings keep their order,
 * every node its line), then checked against qbit_manage's schema
 * (../shared/docs/api-surface.md §13.2: the sections commands, settings,
 * directory, cat, cat_change, tracker, nohardlinks, share_limits,
 * recyclebin, orphaned, apprise, notifiarr, webhooks, and torrentd's own
 * `automation:` section with schedule, on_add and on_finish).  The `qbt:`
 * section is ignored (torrentd is the client).  A scalar tagged `!ENV NAME`
 * takes the environment variable's value, as qbit_manage's loader does.
 *
 * Errors name the file, the line and the key ("config.yml:12:
 * share_limits.noHL.max_ratio: not a number"): a key qbit_manage does not
 * know, a value of the wrong type, bad YAML.  A file that fails loads
 * nothing.
 *
 * Bounded: at most AUTOCFG_MAX_BYTES of input, AUTOCFG_MAX_DEPTH nested
 * collections and AUTOCFG_MAX_NODES nodes; aliases are refused (no
 * expansion bombs).  Pure: no loop, no session (fuzz_automation_config.c,
 * tests/unit/test_automation_config.c).
 */
#ifndef TD_AUTOMATION_CONFIG_H
#define TD_AUTOMATION_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTOCFG_MAX_BYTES (4u << 20)
#define AUTOCFG_MAX_DEPTH 32
#define AUTOCFG_MAX_NODES 200000

enum autocfg_kind { AUTOCFG_NULL, AUTOCFG_SCALAR, AUTOCFG_SEQ, AUTOCFG_MAP };

struct autocfg_node {
    enum autocfg_kind kind;
    int line;                      /* 1-based */
    char *str;                     /* SCALAR: its text (NULL-kind nodes: NULL) */
    bool plain;                    /* SCALAR written without quotes (true/123 are typed) */
    size_t n;                      /* SEQ / MAP: items */
    struct autocfg_node **items;   /* SEQ items, MAP values */
    char **keys;                   /* MAP keys (scalars), parallel to items */
};

struct autocfg {
    char *path;                    /* as loaded (for messages) */
    struct autocfg_node *root;     /* a MAP (an empty file gives an empty MAP) */
};

/* Parses and checks bytes.  name is used in messages.  0 with *out set, or
 * -EINVAL with err = "<name>:<line>: <key>: <why>", -ENOMEM, -E2BIG (over
 * AUTOCFG_MAX_BYTES). */
int autocfg_parse(const char *name, const char *data, size_t len, struct autocfg **out, char *err, size_t errlen);
/* Reads path and parses it (-errno of the read). */
int autocfg_load(const char *path, struct autocfg **out, char *err, size_t errlen);
void autocfg_free(struct autocfg *c);

/* ---- reading the checked tree ---- */

/* The value of key in map (NULL when map is no MAP or has no such key). */
const struct autocfg_node *autocfg_get(const struct autocfg_node *map, const char *key);
/* section.key of the root. */
const struct autocfg_node *autocfg_at(const struct autocfg *c, const char *section, const char *key);
/* Typed values; dflt when absent or null (the check has refused ill-typed ones). */
bool autocfg_bool(const struct autocfg_node *n, bool dflt);
int64_t autocfg_int(const struct autocfg_node *n, int64_t dflt);
double autocfg_real(const struct autocfg_node *n, double dflt);
const char *autocfg_str(const struct autocfg_node *n, const char *dflt);
/* A scalar or a sequence of scalars: how many, and the i-th. */
size_t autocfg_list_len(const struct autocfg_node *n);
const char *autocfg_list_at(const struct autocfg_node *n, size_t i);
bool autocfg_list_has(const struct autocfg_node *n, const char *s);
/* qbit_manage's durations in minutes: a number, or text such as "90d",
 * "1h30m", "45m", "2w" (pytimeparse's units s m h d w); -1 stays -1.
 * Returns 0 or -EINVAL. */
int autocfg_duration_parse(const char *s, double *minutes);
double autocfg_duration(const struct autocfg_node *n, double dflt);

#endif
