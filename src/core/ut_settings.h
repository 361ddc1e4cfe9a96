/* ut_settings — µTorrent Server's setting names over torrentd's typed
 * settings: the second mapping table (the first is qBittorrent's, in
 * web/api/qbt_v2_prefs.c).  utserver.conf (core/utconf) and the /gui/
 * getsettings/setsetting calls (web/api/ut_gui_settings.c) both go through
 * it, so a key means the same thing in the file and over HTTP.
 *
 * Each row: the µTorrent name, its µTorrent type (0 int, 1 bool, 2 string:
 * the /gui/ type column), its /gui/ access (Y read-write, R read-only, W
 * write-only), when utserver.conf applies it (seed 004 "Reloadable
 * Settings"), the conversion, and the torrentd setting id(s) behind it.
 *
 * Conversions (µTorrent value <-> torrentd value):
 *   KBPS        rate limits: KB/s <-> B/s, and µTorrent's -1 (and 0)
 *               "unlimited" <-> torrentd's 0; read back as -1.
 *   RATIO_PCT   seed_ratio: percent <-> max_ratio (a ratio) plus
 *               max_ratio_enabled (0 % = disabled).
 *   SEED_TIME   seed_time: seconds <-> max_seeding_time (minutes, rounded
 *               up) plus max_seeding_time_enabled (0 = disabled).
 *   INVERT      a boolean of the opposite sense (localhost_authentication
 *               true = bypass_local_auth false).
 *   PATH        a directory: a relative value is made absolute against
 *               dir_root (dir_active, dir_completed, dir_torrent_files,
 *               dir_download) or the working directory (the others).
 *
 * Download directories.  µTorrent has "put new downloads in" (dir_active,
 * /gui/ dir_active_download) and "move completed downloads to"
 * (dir_completed, dir_completed_download + its _flag).  torrentd has
 * qBittorrent's save_path and temp_path(+temp_path_enabled): an incomplete
 * torrent lives in temp_path when it is enabled and moves to save_path on
 * completion.  So:
 *   completed set (flag true, non-empty):  temp_path = dir_active,
 *       temp_path_enabled = true, save_path = dir_completed;
 *   otherwise:                             save_path = dir_active,
 *       temp_path_enabled = false.
 * and back: dir_active = temp_path_enabled ? temp_path : save_path,
 * dir_completed = temp_path_enabled ? save_path : "".  Both µTorrent
 * statements hold either way: new downloads are written into dir_active,
 * finished ones end up in dir_completed.  dir_active_download_flag is always
 * true (torrentd always has a default save path) and read-only.
 * dir_add_label is auto_tmm_enabled: in automatic mode a torrent with a
 * category (µTorrent's label) is saved under save_path/<category>.
 *
 * natpmp and upnp are both torrentd's upnp (qBittorrent's one switch for
 * UPnP and NAT-PMP); the last one given wins.  ut_webui_port sets the WebUI
 * port itself (µTorrent Server has one HTTP port) and is also kept as
 * ut_webui_port.  admin_password is not a setting: the batch hands it to the
 * caller, which stores only its PBKDF2 hash.  The official WebUI's account
 * settings are webui.username (the same account's name) and webui.password:
 * getsettings shows UT_PASSWORD_PLACEHOLDER, never the password or its hash
 * (the WebUI sends a setting back only when its field changed, so the
 * placeholder sent back means "unchanged"); a new value goes the
 * admin_password way.  ut_settings_is_account() names the rows a read-only
 * guest must not see.  uconnect_* (µTorrent Remote,
 * gone) are accepted and ignored; the caller warns.
 *
 * No jansson here (core): dir_download's JSON array is made with
 * store/record's encoder.
 */
#ifndef TD_CORE_UT_SETTINGS_H
#define TD_CORE_UT_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/settings.h"

enum ut_type { UT_INT = 0, UT_BOOL = 1, UT_STR = 2 };

/* When utserver.conf applies a key (seed 004, "Reloadable Settings"). */
enum ut_reload {
    UT_FIRST,    /* only on a profile's first start (no stored settings yet) */
    UT_ALWAYS,   /* every time the file is read: start, SIGHUP, rcf.utmr */
    UT_START,    /* at program start only, not on reload */
    UT_GUI,      /* a /gui/ name only; not a utserver.conf key */
};

enum ut_conv {
    UT_CONV_DIRECT,
    UT_CONV_INVERT,
    UT_CONV_KBPS,
    UT_CONV_RATIO_PCT,
    UT_CONV_SEED_TIME,
    UT_CONV_PATH,              /* relative to the working directory */
    UT_CONV_ROOT_PATH,         /* relative to dir_root */
    UT_CONV_DIR_ACTIVE,        /* the download-directory view, see above */
    UT_CONV_DIR_COMPLETED,     /* conf dir_completed: sets the flag from emptiness */
    UT_CONV_DIR_COMPLETED_GUI, /* /gui/ dir_completed_download: the path only */
    UT_CONV_DIR_COMPLETED_FLAG,
    UT_CONV_DIR_ACTIVE_FLAG,   /* always true */
    UT_CONV_DIR_DOWNLOAD,      /* repeatable: one JSON array of paths */
    UT_CONV_ADMIN_PASSWORD,    /* handed to the caller (ut_batch.password) */
    UT_CONV_WEBUI_PASSWORD,    /* /gui/ webui.password: the same, read as UT_PASSWORD_PLACEHOLDER */
    UT_CONV_IGNORED,           /* uconnect_*: accepted, not stored */
    UT_CONV_WEBUI_PORT,        /* web_ui_port and ut_webui_port */
};

struct ut_setting {
    const char *name;
    enum ut_type type;
    char access;               /* 'Y', 'R', 'W' */
    enum ut_reload reload;
    enum ut_conv conv;
    int id;                    /* enum setting_id, or -1 */
    bool conf;                 /* a utserver.conf key */
    bool gui;                  /* listed by getsettings */
};

extern const struct ut_setting ut_settings[];
extern const size_t ut_settings_count;

/* utserver.conf's logmask bits as util/log sources (enum log_source):
 *   3 send have -> LOG_SRC_HAVE       19 disconnect -> LOG_SRC_DISCONNECT
 *   20 out connect -> LOG_SRC_PEER_OUT 21 in connect -> LOG_SRC_PEER_IN
 *   27 web UI -> LOG_SRC_WEBUI        29 pex -> LOG_SRC_PEX
 *   31 blocked connect -> LOG_SRC_BLOCKED
 * The other bits name µTorrent internals torrentd does not have (hole
 * punch, its bad-message counters, aggregated, trace) or events torrentd
 * always logs (17 error: warnings and errors are always in the log; 26
 * metadata finish: "metadata received" is logged at info level; 13/14
 * rss, 22-25 UPnP/NAT-PMP: their modules log at info level). */
unsigned ut_settings_log_sources(int64_t logmask);

/* The row of that µTorrent name (exact, lower case), or NULL. */
#define UT_PASSWORD_PLACEHOLDER "********"
/* The WebUI account's rows: the admin's name and password, the guest's name. */
bool ut_settings_is_account(const struct ut_setting *u);

const struct ut_setting *ut_settings_find(const char *name);

/* The /gui/ value text of u ("true", "-1", "/data"): 0, or -ENOSPC when
 * out is too small (-EINVAL for write-only and ignored rows). */
int ut_settings_format(const struct settings *s, const struct ut_setting *u, char *out, size_t outlen);

/* A batch of µTorrent name/value pairs turned into settings_changes.
 * Values are checked against the µTorrent key's type and range as they are
 * added (the error names the µTorrent key); paths and the directory view
 * are resolved by ut_batch_finish, so dir_root may come after dir_active.
 * Then settings_apply(changes, n) applies it all or nothing. */
#define UT_BATCH_MAX 128        /* changes; more is -E2BIG */
#define UT_VALUE_MAX 4096       /* bytes of one value */
#define UT_DIR_DOWNLOAD_MAX 64  /* dir_download entries */

struct ut_pending_path {
    const struct ut_setting *u;
    char *raw;
};

struct ut_batch {
    const struct settings *cur;
    char *cwd;                          /* base of relative paths */
    struct settings_change ch[UT_BATCH_MAX];
    size_t n;
    char *owned[UT_BATCH_MAX];          /* strings the changes point to */
    size_t num_owned;
    struct ut_pending_path paths[UT_BATCH_MAX];
    size_t num_paths;
    /* download-directory view */
    bool dir_touched;
    char *dir_active, *dir_completed;   /* raw (resolved at finish) */
    bool completed_flag;
    char *dl[UT_DIR_DOWNLOAD_MAX];      /* dir_download entries, raw */
    size_t num_dl;
    bool dl_touched;
    char *password;                     /* admin_password, plain; NULL if not given */
    bool finished;
};

/* cwd NULL = getcwd().  0 or -ENOMEM. */
int ut_batch_init(struct ut_batch *b, const struct settings *cur, const char *cwd);
/* Parses value for u.  Booleans: true/false/1/0 (any case); integers:
 * decimal in the key's range.  -EINVAL/-ERANGE/-E2BIG/-ENOMEM with
 * "<name>: <reason>" in err. */
int ut_batch_set(struct ut_batch *b, const struct ut_setting *u, const char *value, char *err, size_t errlen);
/* Resolves paths and the directory view into changes.  0 or -ENOMEM/-E2BIG. */
int ut_batch_finish(struct ut_batch *b, char *err, size_t errlen);
void ut_batch_free(struct ut_batch *b);

#endif
