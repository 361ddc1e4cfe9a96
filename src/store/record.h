/* record — typed C values for the rows whose text is JSON.
 *
 * The prefs, kv and torrents rows have held JSON text since the first
 * profile.  The engine does not parse or print JSON itself: core hands the
 * values to this module as C structs and gets C structs back, and the text is
 * made and read by SQLite's JSON1 functions (json_object, json_group_array,
 * json_each ...).  The text is what earlier builds wrote -- same keys, same
 * order, same types -- so an old and a new binary read the same profile
 * (tests/unit/test_record.c holds rows as the jansson code wrote them).
 * Numbers: a real is printed by SQLite (%.15g, "2.0", "0.1"); it reads back
 * as the same double for any value typed with 15 significant digits or fewer.
 *
 * Decoding is lenient as the old readers were: a key that is missing or of
 * another JSON type is "absent" (has_* false, NULL, 0), never an error; only
 * text that is not JSON, or not the expected object, is -EINVAL.
 *
 * Memory: encoders return a malloc'd string in *out.  Decoders fill a struct
 * whose pointers they allocate; the matching *_clear frees them (and is
 * harmless on a zeroed struct).  Pointers are const so that callers can fill
 * a struct for encoding from their own data without copying.
 *
 * Threads: the work is done on a private in-memory SQLite connection per
 * calling thread, opened on first use; record_thread_done closes the
 * caller's (optional: at exit it is still reachable, not leaked).
 *
 * Errors: 0 or a negative errno: -EINVAL (see above), -ENOMEM, -EIO (SQLite
 * failed otherwise).
 */
#ifndef TD_STORE_RECORD_H
#define TD_STORE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- one JSON scalar: the value of a prefs row ("true", "6881", "2.0",
 * "\"text\"") or of a kv row holding one value ---- */

enum record_type { RECORD_NULL, RECORD_BOOL, RECORD_INT, RECORD_REAL, RECORD_TEXT, RECORD_OTHER };

struct record_value {
    enum record_type type;    /* RECORD_OTHER: an array or object (decode only) */
    bool b;
    int64_t i;
    double r;                 /* RECORD_INT decodes with r set too */
    const char *s;            /* RECORD_TEXT */
};

int record_value_encode(const struct record_value *v, char **out);
/* A RECORD_TEXT's s is allocated: free it with record_value_clear. */
int record_value_decode(const char *text, struct record_value *v);
void record_value_clear(struct record_value *v);

/* JSON text in the one form kept for a setting that holds a JSON value:
 * compact, object keys sorted at the top level.  -EINVAL if not JSON. */
int record_json_canonical(const char *text, char **out);

/* ---- kv "stats"/"alltime": {"dl":n,"ul":n} ---- */

struct record_alltime {
    int64_t dl, ul;
};

int record_alltime_encode(const struct record_alltime *a, char **out);
int record_alltime_decode(const char *text, struct record_alltime *a);

/* ---- kv "stats"/"xferhist": {"day":n,"start":n,"dl":[31 ints],"ul":[…],
 * "dl_local":[…],"ul_local":[…]} (core/xferhist.h; index 0 = day `day`).
 * Decoding: a missing array is zeros, a short one zero-filled, a long one
 * cut, non-integers 0. ---- */

#define RECORD_XFERHIST_DAYS 31
struct record_xferhist {
    int64_t day, start;
    int64_t dl[RECORD_XFERHIST_DAYS], ul[RECORD_XFERHIST_DAYS];
    int64_t dl_local[RECORD_XFERHIST_DAYS], ul_local[RECORD_XFERHIST_DAYS];
};

int record_xferhist_encode(const struct record_xferhist *x, char **out);
int record_xferhist_decode(const char *text, struct record_xferhist *x);

/* ---- kv "categories"/<name>: {"save_path":s[,"download_path":s|false]} ---- */

enum record_dl_mode { RECORD_DL_DEFAULT, RECORD_DL_ON, RECORD_DL_OFF };

struct record_category {
    const char *save_path;          /* NULL when missing */
    enum record_dl_mode dl_mode;    /* DEFAULT: no download_path key */
    const char *download_path;      /* RECORD_DL_ON */
};

int record_category_encode(const struct record_category *c, char **out);
int record_category_decode(const char *text, struct record_category *c);
void record_category_clear(struct record_category *c);

/* ---- kv "ssl"/<hash>: a torrent's SSL parameters ---- */

struct record_ssl {
    const char *certificate, *private_key, *dh_params;   /* NULL when missing */
    bool has_added_on;
    int64_t added_on;               /* of the torrent the row was written for */
};

int record_ssl_encode(const struct record_ssl *p, char **out);
int record_ssl_decode(const char *text, struct record_ssl *p);
void record_ssl_clear(struct record_ssl *p);

/* ---- kv "cookies"/"list": [{name, domain, path, value, expirationDate}] ---- */

struct record_cookie {
    const char *name, *domain, *path, *value;   /* decode: "" when missing */
    bool has_expires;               /* decode: expirationDate was an integer */
    int64_t expires;
};

int record_cookies_encode(const struct record_cookie *v, size_t n, char **out);
/* Entries that are not objects are skipped. */
int record_cookies_decode(const char *text, struct record_cookie **v, size_t *n);
/* Frees the strings of one decoded entry. */
void record_cookie_clear(struct record_cookie *c);
void record_cookies_free(struct record_cookie *v, size_t n);

/* ---- the scan_dirs preference: {"folder": 0 | 1 | "path", ...} ----
 * Read as qBittorrent 5.1's setPreferences reads it (QVariant::toInt):
 * a number, a boolean or a string holding an integer is 0 (the folder
 * itself) or anything else (the default save path); any other string is a
 * save path ("" the default); null, arrays and objects the default. */

enum record_scan_mode { RECORD_SCAN_FOLDER, RECORD_SCAN_DEFAULT, RECORD_SCAN_PATH };
struct record_scan_dir {
    const char *folder;
    enum record_scan_mode mode;
    const char *path;          /* RECORD_SCAN_PATH */
};
int record_scan_dirs_decode(const char *text, struct record_scan_dir **v, size_t *n);
void record_scan_dirs_free(struct record_scan_dir *v, size_t n);

/* ---- the torrents row's settings ---- */

struct record_rename {
    uint32_t index;                 /* file index */
    const char *path;               /* new relative path */
};

struct record_tracker {
    const char *url;
    int64_t tier;
};

/* has_X: the key is written (encode) / was present with the right type
 * (decode).  Keys without a flag are always written. */
struct record_torrent_settings {
    const char *save_path;
    const char *category;
    const char *name;               /* NULL: written as null */
    const char *const *tags;
    size_t num_tags;
    bool stopped, sequential, first_last_piece, forced, super_seeding, auto_tmm;
    int64_t up_limit, dl_limit;
    bool has_ratio_limit;
    double ratio_limit;
    bool has_seeding_time_limit;
    int64_t seeding_time_limit;
    bool has_inactive_seeding_time_limit;
    int64_t inactive_seeding_time_limit;
    bool has_file_prios;
    const uint8_t *file_prios;
    size_t num_file_prios;
    bool has_queue_pos;
    int64_t queue_pos;
    bool has_share_limit_action;
    int64_t share_limit_action;
    const char *download_path;      /* NULL: neither it nor data_in_download is written */
    bool data_in_download;
    bool has_stop_condition;
    int64_t stop_condition;
    const struct record_rename *renamed;    /* written when num_renamed > 0 */
    size_t num_renamed;
    /* A magnet's so= (file selection) and ws= (web seeds), kept until its
     * metadata arrives. */
    bool has_magnet_extra;
    const int64_t *select_only;
    size_t num_select_only;
    const char *const *magnet_web_seeds;
    size_t num_magnet_web_seeds;
    bool has_trackers;              /* as edited through the API */
    const struct record_tracker *trackers;
    size_t num_trackers;
    bool has_web_seeds;
    const char *const *web_seeds;
    size_t num_web_seeds;
};

int record_torrent_settings_encode(const struct record_torrent_settings *ts, char **out);
int record_torrent_settings_decode(const char *text, struct record_torrent_settings *ts);
void record_torrent_settings_clear(struct record_torrent_settings *ts);

/* ---- the resume row's statistics ---- */

struct record_torrent_stats {
    int64_t downloaded, uploaded, wasted, active_time, seeding_time;
    bool has_completion_on, has_seen_complete, has_last_activity;   /* decode; always written */
    int64_t completion_on, seen_complete, last_activity;
};

int record_torrent_stats_encode(const struct record_torrent_stats *st, char **out);
int record_torrent_stats_decode(const char *text, struct record_torrent_stats *st);

/* Closes the calling thread's connection (it reopens on next use). */
void record_thread_done(void);

#endif
