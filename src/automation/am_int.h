/* automation internals shared by run.c (the queue, the phases, the
 * schedule), cmds.c (the loop-side commands), share.c (share_limits) and
 * disk.c (the threadpool scans).  Not a contract for other layers. */
#ifndef TD_AUTOMATION_AM_INT_H
#define TD_AUTOMATION_AM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "automation/automation.h"
#include "automation/config.h"
#include "util/hmap.h"
#include "util/strv.h"

struct torrent;

/* What qbit_manage's get_torrent_info keeps per torrent name (cross-seeds
 * share a name). */
struct am_name {
    const char *name;          /* key; owned */
    bool is_complete;          /* any torrent of the name finished */
    bool msg_empty;            /* "" among the messages (a working tracker) */
    bool status_working;       /* 2 among the statuses */
    char *category;            /* the last one's */
};

/* A torrent's tracker verdict (get_tags). */
struct am_tracker {
    const struct autocfg_node *tag;   /* the config's tag list, or NULL (then fallback) */
    const char *fallback;             /* a single tag when tag is NULL ("other", the host) */
    const char *cat;                  /* tracker.<x>.cat or NULL */
    const char *notifiarr;            /* tracker.<x>.notifiarr or NULL (notifications' notifiarr_indexer) */
    char host[256];                   /* the fallback tag when no key matched */
    char url[256];                    /* scheme://host[:port] of the first tracker, or "No http URL found" */
};

struct am_ctx {
    struct session *s;
    const struct autocfg *cfg;
    unsigned cmds;
    bool dry;
    struct automation_stats *st;
    bool has_hashes;
    struct hmap hashes;        /* lower-case hex → (void *)1 */
    char **hash_keys;
    size_t num_hash_keys;

    /* resolved directory settings ("" = none) */
    char *root_dir, *remote_dir, *orphaned_dir, *recycle_dir, *torrents_dir;
    bool recycle_enabled;

    struct hmap names;         /* name → struct am_name (torrentinfo) */
    bool have_names;
    struct hmap files;         /* file path → how many torrents have it (cross-seeds) */
    char **file_keys;
    size_t num_file_keys;
    struct strv deleted_paths; /* files of torrents removed in this run (orphan excludes) */

    time_t started;            /* this config's run */
    /* texts already sent to webhooks: error in this run (a pointer so that
     * the const lookups that warn can record them) */
    struct strv *errors_sent;

    /* service calls in flight: the run waits for their commits */
    unsigned pending;
    void (*resume)(struct am_ctx *c);
};

/* The run's torrents sorted by added_on (qbit_manage's torrent_list),
 * without the ones being removed; hashes applied when filtered.  *n set;
 * NULL with *n = 0 on ENOMEM.  Caller frees the array. */
struct torrent **am_list(struct am_ctx *c, bool filtered, size_t *n);
bool am_hash_wanted(const struct am_ctx *c, const struct torrent *t);

/* A service completion that the run waits for. */
void am_service_done(void *ud, int rc);
/* Counts a call that may complete later: rc < 0 means its callback will not run. */
void am_track(struct am_ctx *c, int rc);

void am_tracker_of(const struct am_ctx *c, const struct torrent *t, struct am_tracker *out);
size_t am_tracker_tags(const struct am_tracker *tr, const char **out, size_t max);
bool am_has_tag(const struct torrent *t, const char *tag);
/* Tags of t that contain sub (is_tag_in_torrent exact=False). */
size_t am_tags_containing(const struct torrent *t, const char *sub, const char **out, size_t max);
bool am_is_complete(const struct torrent *t);
char *am_content_path(const struct torrent *t);   /* malloc'd */
const struct am_name *am_name_info(const struct am_ctx *c, const struct torrent *t);
bool am_has_cross_seed(const struct am_ctx *c, const struct torrent *t);
/* tor_delete_recycle: removes t (and its files unless keep_files), moving
 * them into the recycle bin first when it is on. */
void am_delete(struct am_ctx *c, struct torrent *t, bool with_files);

/* The commands (cmds.c, share.c). */
void am_build_torrentinfo(struct am_ctx *c);
void am_cat_update(struct am_ctx *c);
void am_tag_update(struct am_ctx *c);
void am_rem_unregistered(struct am_ctx *c);
void am_recheck(struct am_ctx *c);
void am_share_limits(struct am_ctx *c);

/* tag_nohardlinks's verdicts, computed on the threadpool (disk.c). */
struct am_nohl_item {
    char hex[41];
    char *content_path;
    bool ignore_root_dir;
    const struct autocfg_node *exclude_tags;
    bool has_nohl;             /* out: no hardlinks */
    bool checked;              /* out: the path could be examined */
};
void am_nohl_apply(struct am_ctx *c, struct am_nohl_item *v, size_t n);
/* Collects the torrents tag_nohardlinks looks at (loop). */
struct am_nohl_item *am_nohl_collect(struct am_ctx *c, size_t *n);

/* Disk work (threadpool side): pure functions of their inputs. */
struct am_orphan_job {
    /* in */
    char *root_dir, *orphaned_dir, *recycle_dir;
    struct strv torrent_files;     /* every torrent's files, full paths */
    struct strv excludes;          /* fnmatch patterns */
    int64_t min_age_minutes, max_files;
    int64_t empty_after_days;      /* 0 = delete instead of moving; -1 none */
    bool dry, run_orphans;
    struct am_nohl_item *nohl;
    size_t num_nohl;
    /* cleanup_dirs: files older than these days leave the recycle bin and
     * the orphaned dir (-1 = never) */
    int64_t recycle_days, orphan_days;
    /* out */
    int64_t recycle_emptied, orphaned_emptied;
    struct strv orphans;           /* sorted */
    struct strv log;               /* lines to log on the loop */
    int64_t moved;                 /* the stat (0 when aborted) */
};
void am_disk_work(struct am_orphan_job *j);

/* Notifications (webhook.c), as qbit_manage's webhooks.py.  am_notify
 * takes the command's attrs (a JSON array of objects, stolen) and sends
 * each to its `webhooks: function:` hook, or one per group_by value
 * ("category", "tag", "tracker", "status") when more than 10 torrents
 * were updated.  am_send_notification sends one attr (borrowed).
 * am_notify_error sends webhooks: error's run_error body. */
void am_notify(const struct am_ctx *c, json_t *attrs, const char *group_by);
void am_send_notification(const struct am_ctx *c, json_t *attr);
/* One torrent's attr as the commands' modules build it (function, title,
 * body, torrents, torrent_category, torrent_tag, torrent_tracker,
 * notifiarr_indexer); NULL strings become null.  NULL on ENOMEM. */
json_t *am_torrent_attr(const char *function, const char *title, const char *body, const char *name, const char *cat,
                        const char *tag, const struct am_tracker *tr);
void am_notify_error(const struct am_ctx *c, const char *text, const char *function, bool critical);
/* webhooks: run_start / run_end of one config's run (webhook.c). */
void am_webhook_start(struct am_ctx *c, bool web_api, bool skip_cleanup, time_t start);
void am_webhook_end(struct am_ctx *c, time_t start, time_t end, int64_t next_run);

/* The run in progress asked for log_level WARNING or above (am_log and
 * am_separator stay silent); runs are one at a time, on the loop. */
extern bool am_log_quiet;
void am_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void am_separator(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
