/* core/creator — makes new .torrent files from local data (qBittorrent's
 * torrent creator, served by the torrentcreator endpoints of the WebUI API).
 *
 * Why this shape:
 * - A task is created on the loop thread and runs as a chain of jobs on
 *   libuv's threadpool, one job at a time per task: walk the source, then
 *   hash a bounded batch of pieces per job (so a huge source never pins a
 *   worker for minutes, deleting a task stops it at the next batch, and the
 *   loop thread sees progress between batches), then build the bencoded
 *   bytes and write torrentFilePath.  At most one task runs at a time
 *   (qBittorrent's creation pool has one thread); the others wait, Queued.
 * - Formats v1, v2 and hybrid (BEP52).  v2 and hybrid need a power-of-two
 *   piece size; their files are ordered as the file tree's keys (byte-wise,
 *   component by component) and each starts on a piece boundary: a hybrid's
 *   v1 list has a BEP47 pad file after every file but the last.  Pieces
 *   never span files then, so one read of a piece feeds both its SHA-256
 *   leaves and its SHA-1.  v1 torrents have no pad files (qBittorrent 5 with
 *   libtorrent 2.0 ignores optimizeAlignment for them too).  Callers decide
 *   the default format (the WebUI adapter: hybrid, as qBittorrent 5).
 * - Layout as qBittorrent builds it: a file source is a single-file torrent;
 *   a directory source has its name as the root folder and (v1) its files ordered
 *   directory by directory (directories in natural, case-insensitive order,
 *   then the files within each).  Dot files are included.  Symbolic links are
 *   followed only when they point to a regular file inside the source tree;
 *   other links, and special files, are skipped.  Empty files are kept.
 * - Trackers follow qBittorrent's '|' list: URLs go into the current tier and
 *   an empty element starts a new tier ("a|b||c" = tiers [a b] [c]).
 * - Task ids are random UUIDs (lower-case, no braces), like QUuid's.
 * - startSeeding adds the result to the session, saved at the parent of the
 *   source and with the hash check skipped (the data was just hashed).
 *
 * Every function runs on the loop thread.
 */
#ifndef TD_CORE_CREATOR_H
#define TD_CORE_CREATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct session;
struct creator;
struct creator_job;

#define CREATOR_MAX_TASKS 16              /* finished ones are evicted first */
#define CREATOR_MAX_FILES 100000          /* files in one source */
#define CREATOR_MAX_DEPTH 64              /* directory nesting */
#define CREATOR_MAX_URLS 1000             /* '|' elements kept per list */
#define CREATOR_PIECE_MIN (16 * 1024)
#define CREATOR_PIECE_AUTO_MAX (16 * 1024 * 1024)
#define CREATOR_PIECE_MAX (256 * 1024 * 1024)   /* explicit pieceSize limit */

enum creator_format { CREATOR_V1, CREATOR_V2, CREATOR_HYBRID };
enum creator_status { CREATOR_QUEUED, CREATOR_RUNNING, CREATOR_FINISHED };

struct creator_params {
    const char *source_path;          /* absolute; a file or a directory */
    const char *torrent_file_path;    /* NULL or "" = keep the result in memory only */
    enum creator_format format;
    int64_t piece_size;               /* 0 = auto; else a multiple of 16 KiB up to 256 MiB */
    bool optimize_alignment;          /* v1 padding options: kept and reported only (see above) */
    int64_t padded_file_size_limit;
    bool is_private;
    bool start_seeding;
    const char *comment;              /* NULL = none */
    const char *source;               /* info.source; NULL = none */
    const char *trackers;             /* '|'-separated, see above; NULL = none */
    const char *url_seeds;            /* '|'-separated; NULL = none */
};

struct creator_task {
    char id[37];
    /* the request, as given (lists split on '|', empty elements kept, like
     * qBittorrent reports them) */
    char *source_path, *torrent_file_path, *comment, *source;
    char **trackers;
    size_t num_trackers;
    char **url_seeds;
    size_t num_url_seeds;
    enum creator_format format;
    int64_t piece_size;               /* as requested (0 = auto) */
    bool optimize_alignment;
    int64_t padded_file_size_limit;
    bool is_private, start_seeding;

    /* progress */
    enum creator_status status;
    int64_t time_added, time_started, time_finished;   /* epoch seconds, -1 = not yet */
    int progress;                     /* 0..100 */
    char *error;                      /* non-NULL = failed (also set by a failed startSeeding) */

    /* result, when finished without error */
    int64_t result_piece_size;
    uint8_t *torrent;
    size_t torrent_len;
    char info_hash_hex[41];

    /* private */
    struct creator *owner;            /* NULL once deleted (freed when its job returns) */
    struct creator_job *job;          /* on the threadpool */
    uint64_t seq;                     /* insertion order */
    struct creator_task *next;
};

/* s may be NULL (tests): startSeeding is then ignored. */
int creator_new(uv_loop_t *loop, struct session *s, struct creator **out);
/* Frees every task.  Jobs in flight stop at their next batch and free
 * themselves when they return to the loop. */
void creator_free(struct creator *c);

/* Queues a task (copying p) and starts it when nothing else runs.  Returns
 * 0, -EBUSY (CREATOR_MAX_TASKS unfinished tasks: "Too many active tasks"),
 * -EINVAL (no params) or -ENOMEM.  Bad parameters (missing source, bad piece
 * size) are not refused here: the task fails with a message, as in
 * qBittorrent. */
int creator_add(struct creator *c, const struct creator_params *p, struct creator_task **out);

/* NULL when unknown (or id is NULL). */
struct creator_task *creator_find(struct creator *c, const char *id);

/* Forgets the task, stopping it if it runs.  0 or -ENOENT. */
int creator_delete(struct creator *c, const char *id);

/* Calls fn for every task in qBittorrent's listing order: unfinished tasks
 * first, then finished ones, each group oldest first.  Returns the count. */
size_t creator_list(struct creator *c, void (*fn)(const struct creator_task *t, void *ud), void *ud);

/* Called after a task finished (successfully or not); for tests. */
void creator_set_done_cb(struct creator *c, void (*cb)(struct creator_task *t, void *ud), void *ud);

/* libtorrent's automatic piece size: the smallest power of two >= 16 KiB
 * that gives at most ~2048 pieces, capped at 16 MiB. */
int64_t creator_auto_piece_size(int64_t total_size);

/* Natural, case-insensitive order of names (digit runs by value), with a
 * byte-wise tie break so that the order is total. */
int creator_natural_cmp(const char *a, const char *b);

#endif
