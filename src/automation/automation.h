/* automation — qbit_manage's eight commands run in-process, on the live
 * session (issue 12; ../shared/docs/api-surface.md §13).
 *
 * A run takes a list of commands and a config_file glob (relative to the
 * profile directory; default the setting automation_config_file,
 * "config.yml").  Every matching file is loaded and checked first
 * (automation/config): one that fails ends the run with its error and
 * nothing changes.  Then, for each file in turn, the commands run in
 * qbit_manage's fixed order (cat_update, tag_update, rem_unregistered and
 * tag_tracker_error in one pass, recheck, rem_orphaned, tag_nohardlinks,
 * share_limits) through the core service API only (core/service.h:
 * categories, tags, limits, start, recheck, removal); dry_run changes
 * nothing and counts the same.  The disk scans (the orphan walk, the
 * hardlink checks, moving orphans) run on libuv's threadpool with copies of
 * the paths they need; everything else runs on the loop.
 *
 * One run at a time: a run asked for while one is in progress (from the
 * web API, the schedule or a torrent event) waits in a FIFO and runs after,
 * in order; a run that fails does not lose the queue.  The schedule (the
 * config's `automation.schedule`: minutes, a duration such as "30m", or a
 * five-field cron expression) runs the config's `commands:`; on_add /
 * on_finish (`automation.on_add`, `automation.on_finish`) run their
 * commands for the one torrent added or finished.
 *
 * Loop thread only.
 */
#ifndef TD_AUTOMATION_AUTOMATION_H
#define TD_AUTOMATION_AUTOMATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session;
struct automation;

/* The commands, as bits (their order is the run order). */
enum automation_cmd {
    AM_CAT_UPDATE = 1u << 0,
    AM_TAG_UPDATE = 1u << 1,
    AM_REM_UNREGISTERED = 1u << 2,
    AM_TAG_TRACKER_ERROR = 1u << 3,
    AM_RECHECK = 1u << 4,
    AM_REM_ORPHANED = 1u << 5,
    AM_TAG_NOHARDLINKS = 1u << 6,
    AM_SHARE_LIMITS = 1u << 7,
    AM_ALL = 0xffu,
};
#define AM_NUM_CMDS 8

/* The bit of a command name (case-sensitive), 0 for an unknown one. */
unsigned automation_cmd_parse(const char *name);
/* The name of bit i (0..7). */
const char *automation_cmd_name(unsigned i);

/* qbit_manage's stats of one config's run (§13.3), in its key order. */
#define AUTOMATION_STATS(X)                                                                                       \
    X(added) X(deleted) X(deleted_contents) X(resumed) X(rechecked) X(orphaned) X(recycle_emptied)                \
        X(orphaned_emptied) X(tagged) X(categorized) X(rem_unreg) X(tagged_tracker_error) X(untagged_tracker_error) \
            X(tagged_noHL) X(untagged_noHL) X(updated_share_limits) X(cleaned_share_limits)

struct automation_stats {
    unsigned executed;   /* the commands that ran (bits) */
#define AM_STAT_FIELD(n) int64_t n;
    AUTOMATION_STATS(AM_STAT_FIELD)
#undef AM_STAT_FIELD
};

struct automation_request {
    unsigned cmds;              /* bits; 0 = the config's `commands:` (scheduled runs) */
    const char *config_file;    /* glob under the profile; NULL = the setting */
    const char *const *hashes;  /* NULL = every torrent */
    size_t num_hashes;
    bool dry_run, skip_cleanup;
    /* run-command's log_level: WARNING, ERROR or CRITICAL keep the run's
     * INFO lines (and its separators) out of the log, as qbit_manage's
     * logger at that level does; anything else logs them. */
    bool quiet;
    const char *origin;         /* for the log: "api", "schedule", "on_add", ... */
};

struct automation_result {
    int rc;                     /* 0, or the error (msg says what) */
    const char *msg;
    size_t n;
    const char *const *config_files;
    const struct automation_stats *stats;
};
typedef void (*automation_done_cb)(void *ud, const struct automation_result *r);

int automation_start(struct session *s, struct automation **out);
/* Cancels the queue; a run in progress ends at its next step without its
 * callback. */
void automation_stop(struct automation *a);

/* Runs req (copied) now, or queues it behind the run in progress.
 * Returns 0 when it started (cb will be called), 1 when it was queued (cb
 * is not called: the queued run is logged only), -ENOMEM, -EINVAL. */
int automation_submit(struct automation *a, const struct automation_request *req, automation_done_cb cb, void *ud);

/* qbit_manage's force-reset: forgets that a run is in progress and starts
 * the queue (the forgotten run goes on and answers its requester; the next
 * one may overlap it).  Returns whether one was. */
bool automation_force_reset(struct automation *a);

struct automation_state {
    bool running;
    size_t queued;
    int64_t next_run;           /* epoch s of the next scheduled run, -1 none */
    int64_t runs, failed_runs;
    const char *schedule;       /* "" none */
};
void automation_state(const struct automation *a, struct automation_state *out);

#endif
