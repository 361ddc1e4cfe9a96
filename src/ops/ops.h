/* ops — qBitrr's torrent-side work done in-process, and the figures the
 * operations API (web/api/ops_*.c) and /metrics report.
 *
 * Why a layer of its own (above core, below web, like rss/): qBitrr is a
 * second process polling qBittorrent every 5 s; here the same rules run on
 * the live session through the core's service API, and read what changed
 * from the session's change list (session_changed_since) instead of
 * walking every torrent: each tick costs O(torrents that changed) plus the
 * few torrents a rule is watching.
 *
 * What it does (settings in settings_table.h, block "ops_*", SG_OPS):
 * - per torrent it keeps a small record (state, category, tracker error,
 *   stalled since): the per-state / per-category counts of /metrics and the
 *   health's tracker errors are kept up to date from the change list;
 * - stalled handling: a torrent older than ops_ignore_younger_than seconds
 *   that stays stalled (stalledDL, or a magnet fetching metadata) for
 *   ops_stalled_delay minutes (a real: 0.05 = 3 s; -1 off) is tagged
 *   "stalled" and, with ops_stalled_remove, removed with its files, but
 *   never once its progress is above ops_max_deletable_percentage (the tag
 *   goes when it moves again);
 * - the free-space guard (ops_free_space bytes kept free under
 *   ops_free_space_folder, default save path when empty; -1 off): running
 *   downloads are taken in queue order, each reserving what it still needs;
 *   the ones that do not fit are stopped and tagged "free_space_paused",
 *   and with ops_auto_pause_resume started again (tag removed) once they
 *   fit.  Seeding torrents and downloads the user stopped are left alone;
 * - per-tracker seeding rules (ops_seeding_rules, JSON array, first match
 *   wins; ops_rules_validate says what a rule holds): remove a finished
 *   torrent on ratio and/or seeding time (qBitrr's RemoveTorrent 1..4), never
 *   before its hit-and-run minimums (tag "hnr_active" meanwhile);
 * - Arr import trigger (ops_arr): when a torrent in an Arr connection's
 *   category finishes, the Arr's command API is called once and the
 *   torrent tagged "imported" (ops/arr.c).
 * Rules apply to every torrent, or only to the categories listed in
 * ops_managed_categories (comma-separated) when set.
 */
#ifndef TD_OPS_OPS_H
#define TD_OPS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/torrent_status.h"

struct session;
struct ops;

#define OPS_TAG_STALLED "stalled"
#define OPS_TAG_FREE_SPACE "free_space_paused"
#define OPS_TAG_IMPORTED "imported"
#define OPS_TAG_HNR "hnr_active"

/* Registers the SG_OPS hook and starts the 1 s tick.  0, -ENOMEM. */
int ops_start(struct session *s, struct ops **out);
/* Stops the tick, cancels Arr requests in flight.  NULL is a no-op. */
void ops_stop(struct ops *o);

struct session *ops_session(struct ops *o);

/* ---- figures (O(1) or O(categories)) ---- */

/* Brings the records up to date with the session's change list now
 * (O(changes)); the tick does it every second, a scrape first calls it. */
void ops_sync(struct ops *o);

size_t ops_state_count(const struct ops *o, enum torrent_state st);
/* fn(category, count) for each category with torrents ("" = none). */
void ops_category_counts(const struct ops *o, void (*fn)(void *ud, const char *cat, size_t n), void *ud);
/* Torrents with at least one tracker not working. */
size_t ops_tracker_error_torrents(const struct ops *o);

struct ops_guard_state {
    bool enabled;
    char folder[512];
    int64_t free_bytes;          /* available under folder; -1 unknown */
    int64_t floor_bytes;         /* ops_free_space */
    size_t paused;               /* torrents the guard holds stopped */
};
void ops_guard_state(struct ops *o, struct ops_guard_state *out);
size_t ops_stalled_count(const struct ops *o);     /* torrents tagged stalled by us */

/* Bytes available to an unprivileged writer under path, or under its
 * nearest existing parent (a save path is created with its first torrent);
 * -1 when none can be read. */
int64_t ops_free_bytes(const char *path);

/* Counters of what the rules did (monotonic, this run). */
struct ops_counters {
    uint64_t stalled_tagged, stalled_removed;
    uint64_t guard_paused, guard_resumed;
    uint64_t seeding_removed;
    uint64_t arr_triggered, arr_failed;
};
void ops_counters(const struct ops *o, struct ops_counters *out);

/* ---- the automation scheduler's state, for health and processes ----
 * The automation layer (issue 12, src/automation/) fills this in; until
 * it does, health reports "automation: not configured". */
struct ops_automation_state {
    bool configured;
    bool running;                /* a run in progress */
    int64_t last_run;            /* epoch s; -1 never */
    int64_t next_run;            /* epoch s; -1 none scheduled */
    char last_error[256];        /* "" = the last run succeeded */
};
typedef void (*ops_automation_probe)(void *ud, struct ops_automation_state *out);
void ops_set_automation_probe(ops_automation_probe fn, void *ud);
void ops_automation_state(struct ops_automation_state *out);
/* Counts one automation run ("ok" or failed) for /metrics. */
void ops_metrics_automation_run(bool ok);
void ops_metrics_automation_runs(uint64_t *ok, uint64_t *failed);

/* ---- processes (GET /api/processes) ---- */
struct ops_process {
    const char *name;            /* "engine", "dht", "rss", "watched_folders", "automation", "ops_rules" */
    const char *status;          /* "running", "stopped", "not configured" */
    int64_t uptime;              /* seconds since (re)started; 0 when not running */
    bool restartable;
};
size_t ops_processes(struct ops *o, struct ops_process *out, size_t max);
/* Notes a restart done by the caller (web/api/ops_procs.c restarts RSS,
 * which ops cannot see): its uptime starts again. */
void ops_process_restarted(struct ops *o, const char *name);
/* Restarts the DHT (stop + start, table kept in the store) or rescans the
 * watched folders.  -ENOENT unknown, -EPERM not restartable here, -ESRCH
 * not running. */
int ops_process_restart(struct ops *o, const char *name);

/* ---- configuration checks (POST /api/config validates first) ----
 * NULL when the JSON text is a valid value of the setting, else a static
 * message saying what is wrong (the caller names the key). */
const char *ops_rules_validate(const char *seeding_rules_json);

/* ---- Arr connections (ops/arr.c) ---- */
struct ops_arr_info {
    const char *name, *type, *url, *category;
    int alive;                   /* 1 answered, 0 did not, -1 not probed yet */
    char version[64];
    uint64_t imports;            /* import commands sent */
};
size_t ops_arr_list(struct ops *o, struct ops_arr_info *out, size_t max);
/* Probes each connection (GET <url>/api/v3|v1/system/status with the key);
 * done(ud) when all answered or failed.  0, -ENOMEM. */
int ops_arr_probe(struct ops *o, void (*done)(void *ud), void *ud);
const char *ops_arr_validate(const char *arr_json);

#endif
