/* storage internals shared by storage.c (jobs, read/write), storage_io.c
 * (paths, file descriptors, segment walking), storage_check.c and
 * storage_fs.c (delete, move).  Not part of the contract.
 *
 * Threading: fields marked [loop] are touched only on the loop thread.
 * The fd cache is the one structure workers share, so it has its own mutex.
 * save_path is written only while no job is in flight (after a move), so
 * workers can read it without a lock.
 */
#ifndef TD_DISK_STORAGE_INT_H
#define TD_DISK_STORAGE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "bt/metainfo.h"
#include "disk/storage.h"

#define STORAGE_FD_SLOTS 8
#define STORAGE_FD_IDLE_MS 20000

struct storage_fd_slot {
    int fd;          /* -1 when free */
    size_t file;
    bool writable;
    bool dsync;      /* opened with O_DSYNC */
    int refs;        /* workers using the fd right now */
    uint64_t stamp;  /* last use, for LRU eviction */
};

struct storage_job;

struct storage {
    uv_loop_t *loop;
    const struct bt_metainfo *mi;
    char *save_path;            /* no trailing '/' (unless it is "/") */
    uint8_t *prios;             /* [loop] num_files bytes, NULL = all wanted */
    uv_timer_t idle_timer;      /* closes idle fds; unref'd */
    uv_mutex_t fd_lock;
    bool sync_writes;           /* under fd_lock: open writable files with O_DSYNC */
    bool released;              /* under fd_lock: storage_release_files, until storage_hold_files */
    /* Hashing runs in parallel, but one torrent's pwrites take turns: the
     * kernel serializes writers of one file on its inode lock anyway, and
     * threads spinning there burned more CPU than the copy itself. */
    uv_mutex_t write_lock;
    struct storage_fd_slot fds[STORAGE_FD_SLOTS];
    uint64_t fd_clock;          /* under fd_lock */
    /* One byte per file, STORAGE_DIRTY_* bits: written (or created) since
     * the last storage_sync took it.  Workers set and the sync job takes
     * them with atomic operations, so writes never wait for a sync. */
    uint8_t *dirty;
    bool unsynced;              /* [loop] a write completed since the last storage_sync */
    ssize_t err_file;           /* [loop] storage_error_file(), -1 none */
    int inflight;               /* [loop] jobs queued or running */
    bool closing;               /* [loop] */
    bool excl;                  /* [loop] a move or delete is queued or running */
    size_t write_chunk;         /* [loop] storage_set_write_chunk, copied into each write job */
    atomic_bool sync_vfat;      /* storage_set_minimize_kernel_caching; read by workers opening files */
    struct storage_job *excl_pending;   /* [loop] waits for inflight == 0 */
    struct storage_check *checks;       /* [loop] running checks */
    int allocating;             /* [loop] storage_preallocate jobs in flight */
    struct storage_job *held, *held_tail;   /* [loop] writes waiting for them (counted in inflight) */
    void (*close_done)(void *ud);
    void *close_ud;
};

#define STORAGE_DIRTY_DATA 1     /* bytes written: fdatasync the file */
#define STORAGE_DIRTY_CREATED 2  /* created: fsync its directory too */

static inline void storage_mark_dirty(struct storage *st, size_t file, uint8_t bits)
{
    __atomic_fetch_or(&st->dirty[file], bits, __ATOMIC_RELEASE);
}

/* A unit of threadpool work.  work() runs on a worker; after() runs on the
 * loop thread and frees the job. */
struct storage_job {
    uv_work_t req;
    struct storage *st;
    void (*work)(struct storage_job *j);
    void (*after)(struct storage_job *j);
    bool excl;
    struct storage_job *next_held;
};

static inline int64_t storage_piece_off(const struct bt_metainfo *mi, uint32_t piece)
{
    return (int64_t)piece * mi->piece_length;
}

/* Size of a piece (the last one is usually shorter). */
static inline int64_t storage_piece_len(const struct bt_metainfo *mi, uint32_t piece)
{
    int64_t off = storage_piece_off(mi, piece);
    int64_t end = off + mi->piece_length;
    return (end > mi->total_size ? mi->total_size : end) - off;
}

/* Queues j (0 or a negative uv error).  Exclusive jobs (move, delete) start
 * once nothing else is in flight.  Returns -EBUSY / -ESHUTDOWN when the
 * storage does not take new work. */
int storage_job_submit(struct storage *st, struct storage_job *j);
int storage_job_submit_excl(struct storage *st, struct storage_job *j);
int storage_job_can_submit(const struct storage *st);
/* Submits a piece write: held back while a preallocation runs. */
int storage_job_submit_write(struct storage *st, struct storage_job *j);

/* ---- storage_io.c (worker-safe) ---- */

/* Joins save_path and a file's path and checks the result is strictly
 * below save_path; -EPERM otherwise.  *out is malloc'd. */
int storage_io_path(const char *save_path, const char *rel, char **out);

/* Opens the directory that holds rel below base without following any
 * symlink below base (mkdir'ing missing ones when create is set; base itself
 * is created with path_mkdirs).  *dirfd is the parent, *leaf points into rel.
 * A symlink on the way is -EPERM. */
int storage_io_walk(const char *base, const char *rel, bool create, int *dirfd,
                    const char **leaf);

/* Removes the directories named by the torrent's paths below base that are
 * empty, deepest first.  Never base itself. */
void storage_io_remove_empty_dirs(const char *base, const struct bt_metainfo *mi);
void storage_io_remove_empty_dirs_of(const char *base, const char *rel);   /* one file's folders */

/* Borrows an fd for file i.  write: open O_RDWR, creating directories and the
 * file (sparse, full length) when create is set; every component below
 * save_path is opened with O_NOFOLLOW.  Release with storage_io_fd_put(). */
int storage_io_fd_get(struct storage *st, size_t i, bool write, bool create, int *fd);
void storage_io_fd_put(struct storage *st, size_t i, int fd);
/* Closes cached fds nobody uses (all = also asserts none in use). */
void storage_io_fd_close_idle(struct storage *st);
size_t storage_io_fd_count(struct storage *st);

/* Calls fn for each piece of [off, off+len) of the torrent's bytes that lies
 * in one file, in order, skipping zero-length files.  Stops at the first
 * non-zero return and returns it. */
typedef int (*storage_seg_fn)(void *ctx, size_t file, int64_t file_off, uint8_t *buf,
                              size_t len);
int storage_io_segments(const struct bt_metainfo *mi, int64_t off, int64_t len,
                        uint8_t *buf, storage_seg_fn fn, void *ctx);

/* Full pread/pwrite with EINTR and short-transfer handling.  pread returns
 * -EIO at end of file. */
int storage_io_pread(int fd, uint8_t *buf, size_t len, int64_t off);
int storage_io_pwrite(int fd, const uint8_t *buf, size_t len, int64_t off);

/* ---- storage_check.c ---- */
/* Cancels every running check of st (storage_close). */
void storage_check_cancel_all(struct storage *st);

/* (storage.c) Extra open(2) flags for a file about to be opened for writing
 * in the directory dirfd: storage_sync_flags() of its file system. */
int storage_open_flags(struct storage *st, int dirfd);

#endif
