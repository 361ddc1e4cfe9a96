/* settings — the daemon's typed settings, generated from one table
 * (core/settings_table.h: name, type, default, bounds, live-apply groups).
 *
 * Core code reads a setting by id with the getter of its type
 * (settings_int(&s->settings, SET_MAX_ACTIVE_TORRENTS)); a misspelt id is a
 * compile error and a getter of the wrong type an assertion.  Changes go
 * through the setters, which check the type and the bounds and name the
 * setting in their message, or through settings_apply, which checks a whole
 * batch before changing anything and reports the ids that really changed as
 * a settings_mask.  Whoever applied the batch then calls settings_notify
 * (session_settings_changed does, and persists) so the hooks registered for
 * the changed ids' groups run, each once.
 *
 * Dialects (qBittorrent's app/preferences, later µTorrent's setsetting) map
 * their own key names and JSON types onto these ids in their own tables; the
 * persistence name of a setting is only for the store.  No jansson here: the
 * store text is made and read by store/record (SQLite's JSON functions).
 */
#ifndef TD_CORE_SETTINGS_H
#define TD_CORE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/settings_table.h"

enum setting_id {
#define SETTINGS_ENUM(id, ...) SET_##id,
    SETTINGS_TABLE(SETTINGS_ENUM)
#undef SETTINGS_ENUM
    SET__COUNT
};

enum setting_type { SETT_BOOL, SETT_INT, SETT_REAL, SETT_STR, SETT_JSON };

/* Live-apply groups: a hook registers for a set of these. */
enum {
    SG_LISTEN = 1u << 0,      /* peer listener: port, address, random port */
    SG_LIMITS = 1u << 1,      /* global speed limits */
    SG_BANS = 1u << 2,        /* banned_IPs */
    SG_SSL = 1u << 3,         /* SSL torrent listener */
    SG_DISCOVERY = 1u << 4,   /* DHT, LSD on/off */
    SG_DHT_NODES = 1u << 5,   /* DHT bootstrap nodes: restart the DHT */
    SG_WEBUI_ROOT = 1u << 6,  /* alternative WebUI */
    SG_WEBUI_BIND = 1u << 7,  /* WebUI address, port, HTTPS */
    SG_WEBUI_AUTH = 1u << 8,  /* WebUI security (web_ui_*, bypass_*) */
    SG_WATCHDIR = 1u << 9,    /* watched folders: scan_dirs, ut_dir_autoload* */
    SG_RUNPROG = 1u << 10,    /* state_cmd on/off: per-torrent state tracking */
    SG_TRACKERS = 1u << 11,    /* tracker timeouts, HTTP announces in flight */
    SG_DISK = 1u << 12,       /* storage: preallocation, synchronous writes, read cache size */
    SG_LOG = 1u << 13,        /* log sources (µTorrent's logmask) */
    SG_LOW_CPU = 1u << 14,    /* low_cpu: the loop's pause after peer traffic */
    SG_SCHEDULER = 1u << 15,  /* alternative-speed scheduler (core/scheduler.c) */
    SG_FILE_LOG = 1u << 16,   /* log file (core/logfile.c) */
    SG_RSS = 1u << 17,        /* RSS feeds: processing, intervals, fetch delay, article cap (rss/rss.c) */
    SG_RSS_AUTODL = 1u << 18, /* RSS auto-downloader: on/off, smart filters, repacks (rss/autodl.c) */
    SG_DEFAULT_PATH = 1u << 19, /* default save path: managed torrents follow or turn manual (service_edit.c) */
    SG_TRACKER_LIST = 1u << 20, /* trackers from a URL: on/off, the URL (core/trackerlist.c) */
    SG_UTP = 1u << 21,        /* uTP: bittorrent_protocol (core/utpsock.c) */
    SG_ENCRYPTION = 1u << 22, /* encryption (MSE) policy: closes what a new value refuses (core/mseconn.c) */
    SG_IPFILTER = 1u << 23,   /* IP filter: on/off, its file, trackers too (core/ipfilter.c) */
    SG_PEER_POLICY = 1u << 24, /* unchoke slots and choking, peer turnover, connection pace, anonymity (core/peerpolicy.c) */
    SG_PORTMAP = 1u << 25,    /* UPnP/NAT-PMP: on/off, lease, WebUI and tracker forwarding (core/portmap.c) */
    SG_ETRACKER = 1u << 26,   /* embedded tracker: on/off, port (core/etracker.c) */
    SG_PROXY = 1u << 27,      /* proxy for BitTorrent: trackers, UDP off, DHT (core/proxy.c) */
    SG_AUTOMATION = 1u << 28,  /* qbit_manage automation: config file, schedule, API key (automation/) */
    SG_OPS = 1u << 29,        /* operations API token, qBitrr's rules, Arr connections (src/ops/) */
};

struct setting_def {
    const char *name;         /* persistence name (store key) */
    enum setting_type type;
    int64_t def_i;            /* BOOL and INT */
    double def_r;
    const char *def_s;        /* STR and JSON */
    int64_t min_i, max_i;
    double min_r, max_r;
    unsigned groups;
};

extern const struct setting_def settings_defs[SET__COUNT];

/* A set of setting ids. */
#define SETTINGS_MASK_WORDS ((SET__COUNT + 63) / 64)
struct settings_mask {
    uint64_t w[SETTINGS_MASK_WORDS];
};

static inline void settings_mask_add(struct settings_mask *m, enum setting_id id)
{
    m->w[id / 64] |= UINT64_C(1) << (id % 64);
}
static inline bool settings_mask_has(const struct settings_mask *m, enum setting_id id)
{
    return (m->w[id / 64] >> (id % 64)) & 1;
}
bool settings_mask_empty(const struct settings_mask *m);
size_t settings_mask_count(const struct settings_mask *m);
/* Whether any id in m belongs to one of `groups`. */
bool settings_mask_in_groups(const struct settings_mask *m, unsigned groups);

typedef void (*settings_hook_fn)(void *ud, const struct settings_mask *changed);

#define SETTINGS_MAX_HOOKS 32   /* the daemon registers about 22 (main, session and its modules, ut_gui) */

union setting_value {
    bool b;
    int64_t i;
    double r;
    char *s;                  /* STR and JSON; owned, never NULL after init */
};

struct settings {
    union setting_value v[SET__COUNT];
    char *password_hash;      /* WebUI password as PBKDF2 ("@ByteArray(...)"); stored apart, never sent out */
    struct {
        unsigned groups;
        settings_hook_fn fn;
        void *ud;
    } hooks[SETTINGS_MAX_HOOKS];
    size_t num_hooks;
};

int settings_init(struct settings *s);
void settings_free(struct settings *s);

bool settings_bool(const struct settings *s, enum setting_id id);
int64_t settings_int(const struct settings *s, enum setting_id id);
double settings_real(const struct settings *s, enum setting_id id);
const char *settings_str(const struct settings *s, enum setting_id id);   /* STR and JSON; never NULL */

/* The longest STR or JSON value a setting takes (bytes): room for a ban
 * list of ~15,000 addresses, yet a client cannot make every app/preferences
 * and every profile load carry megabytes (issue 10).  Longer is -ERANGE. */
#define SETTINGS_MAX_TEXT 262144

/* One change of a batch.  An INT value is accepted for a REAL setting. */
struct settings_change {
    enum setting_id id;
    enum setting_type type;
    union {
        bool b;
        int64_t i;
        double r;
        const char *s;
    } v;
};

/* Checks every change (type, bounds, JSON text well-formed), then applies
 * them all, or none: -EINVAL (type) or -ERANGE (bounds) with a message naming
 * the setting in err.  `changed` (if not NULL) gets the ids whose value
 * really changed added; an unchanged value adds nothing.  -ENOMEM leaves the
 * settings unchanged too. */
int settings_apply(struct settings *s, const struct settings_change *c, size_t n, struct settings_mask *changed,
                   char *err, size_t errlen);

/* One-change forms of settings_apply. */
int settings_set_bool(struct settings *s, enum setting_id id, bool v, struct settings_mask *changed);
int settings_set_int(struct settings *s, enum setting_id id, int64_t v, struct settings_mask *changed);
int settings_set_real(struct settings *s, enum setting_id id, double v, struct settings_mask *changed);
int settings_set_str(struct settings *s, enum setting_id id, const char *v, struct settings_mask *changed);

/* Live-apply hooks: fn runs from settings_notify when a changed id belongs
 * to one of `groups`, once per notify, in registration order.  -ENOSPC past
 * SETTINGS_MAX_HOOKS. */
int settings_add_hook(struct settings *s, unsigned groups, settings_hook_fn fn, void *ud);
/* Removes the hook registered with fn and ud (a module that stops before
 * the settings go away); the others keep their order.  Unknown: no-op. */
void settings_remove_hook(struct settings *s, settings_hook_fn fn, void *ud);
void settings_notify(struct settings *s, const struct settings_mask *changed);

/* The id with that persistence name, or -1. */
int settings_find(const char *name);

/* Store text: the value JSON-encoded as the `prefs` rows have always held it
 * (true, 6881, 2.0, "text", {}).  settings_to_text returns a malloc'd string
 * or NULL (ENOMEM).  settings_load_text sets the setting from such text,
 * converting an integer to a real and clamping to the bounds (an old profile
 * must load); -EINVAL when the text is not that type. */
char *settings_to_text(const struct settings *s, enum setting_id id);
int settings_load_text(struct settings *s, enum setting_id id, const char *text);

#endif
