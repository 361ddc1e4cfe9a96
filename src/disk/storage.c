/* storage — lifetime, the job queue, piece writes and reads, stat. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "disk/storage_int.h"
#include "util/log.h"

#define STORAGE_MAX_PIECE_LEN (512LL << 20)

/* ---- jobs ---- */

static void idle_cb(uv_timer_t *t)
{
    struct storage *st = t->data;
    if (st->inflight == 0)
        storage_io_fd_close_idle(st);
}

static void close_cb(uv_handle_t *h)
{
    struct storage *st = h->data;
    void (*done)(void *) = st->close_done;
    void *ud = st->close_ud;
    uv_mutex_destroy(&st->fd_lock);
    uv_mutex_destroy(&st->write_lock);
    free(st->prios);
    free(st->dirty);
    free(st->save_path);
    free(st);
    if (done)
        done(ud);
}

static void job_work(uv_work_t *req)
{
    struct storage_job *j = (struct storage_job *)req;
    j->work(j);
}

static int queue_job(struct storage *st, struct storage_job *j);

static void drained(struct storage *st)
{
    if (st->inflight > 0)
        return;
    if (st->excl_pending) {
        struct storage_job *j = st->excl_pending;
        st->excl_pending = NULL;
        if (queue_job(st, j) == 0)
            return;
        log_msg(LOG_CRITICAL, "storage: cannot queue exclusive job");
        st->excl = false;
        j->after(j);   /* unreachable in practice; its result field still says -EIO */
    }
    if (st->closing) {
        storage_io_fd_close_idle(st);
        uv_close((uv_handle_t *)&st->idle_timer, close_cb);
        return;
    }
    if (storage_io_fd_count(st) > 0)
        uv_timer_start(&st->idle_timer, idle_cb, STORAGE_FD_IDLE_MS, 0);
}

static void job_after(uv_work_t *req, int status)
{
    (void)status;   /* jobs are never uv_cancel'ed */
    struct storage_job *j = (struct storage_job *)req;
    struct storage *st = j->st;
    if (j->excl)
        st->excl = false;
    j->after(j);
    st->inflight--;
    drained(st);
}

static int queue_job(struct storage *st, struct storage_job *j)
{
    j->st = st;
    int rc = uv_queue_work(st->loop, &j->req, job_work, job_after);
    if (rc < 0)
        return rc;
    st->inflight++;
    return 0;
}

int storage_job_can_submit(const struct storage *st)
{
    if (st->closing)
        return -ESHUTDOWN;
    if (st->excl)
        return -EBUSY;
    return 0;
}

int storage_job_submit(struct storage *st, struct storage_job *j)
{
    int rc = storage_job_can_submit(st);
    if (rc < 0)
        return rc;
    j->excl = false;
    return queue_job(st, j);
}

int storage_job_submit_write(struct storage *st, struct storage_job *j)
{
    if (st->allocating == 0)
        return storage_job_submit(st, j);
    int rc = storage_job_can_submit(st);
    if (rc < 0)
        return rc;
    j->excl = false;
    j->st = st;
    j->next_held = NULL;
    if (st->held_tail)
        st->held_tail->next_held = j;
    else
        st->held = j;
    st->held_tail = j;
    st->inflight++;   /* close and exclusive jobs wait for it like for a queued one */
    return 0;
}

/* The preallocation is done: the writes it held go to the threadpool. */
static void release_held(struct storage *st)
{
    while (st->held) {
        struct storage_job *j = st->held;
        st->held = j->next_held;
        if (uv_queue_work(st->loop, &j->req, job_work, job_after) != 0) {
            log_msg(LOG_CRITICAL, "storage: cannot queue a held write; writing it on the loop");
            /* Unreachable in practice (uv_queue_work fails only on NULL
             * callbacks).  The preallocation job is still in flight, so
             * drained() cannot run before it. */
            j->work(j);
            j->after(j);
            st->inflight--;
        }
    }
    st->held_tail = NULL;
}

int storage_job_submit_excl(struct storage *st, struct storage_job *j)
{
    int rc = storage_job_can_submit(st);
    if (rc < 0)
        return rc;
    if (st->checks)
        return -EBUSY;
    j->excl = true;
    j->st = st;
    st->excl = true;
    if (st->inflight > 0) {
        st->excl_pending = j;
        return 0;
    }
    rc = queue_job(st, j);
    if (rc < 0)
        st->excl = false;
    return rc;
}

/* ---- lifetime ---- */

static int layout_ok(const struct bt_metainfo *mi)
{
    if (!mi || mi->piece_length <= 0 || mi->piece_length > STORAGE_MAX_PIECE_LEN ||
        mi->num_files == 0 || !mi->files || (!mi->piece_hashes && !mi->piece_layers) ||
        mi->total_size <= 0)
        return 0;
    int64_t off = 0;
    for (size_t i = 0; i < mi->num_files; i++) {
        const struct bt_file *f = &mi->files[i];
        if (!f->path || f->length < 0 || f->offset != off || f->length > INT64_MAX - off)
            return 0;
        off += f->length;
    }
    int64_t pieces = (off + mi->piece_length - 1) / mi->piece_length;
    return off == mi->total_size && pieces == (int64_t)mi->num_pieces;
}

int storage_open(uv_loop_t *loop, const struct bt_metainfo *mi, const char *save_path,
                 struct storage **out)
{
    *out = NULL;
    if (!loop || !save_path || !*save_path || !layout_ok(mi)) {
        log_msg(LOG_WARNING, "storage: invalid layout or save path");
        return -EINVAL;
    }
    struct storage *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    size_t n = strlen(save_path);
    while (n > 1 && save_path[n - 1] == '/')
        n--;
    st->save_path = strndup(save_path, n);
    st->dirty = calloc(mi->num_files + 1, 1);
    st->err_file = -1;
    if (!st->save_path || !st->dirty || uv_mutex_init(&st->fd_lock) != 0) {
        free(st->dirty);
        free(st->save_path);
        free(st);
        return -ENOMEM;
    }
    if (uv_mutex_init(&st->write_lock) != 0) {
        uv_mutex_destroy(&st->fd_lock);
        free(st->dirty);
        free(st->save_path);
        free(st);
        return -ENOMEM;
    }
    st->loop = loop;
    st->mi = mi;
    for (int k = 0; k < STORAGE_FD_SLOTS; k++)
        st->fds[k].fd = -1;
    uv_timer_init(loop, &st->idle_timer);
    uv_unref((uv_handle_t *)&st->idle_timer);
    st->idle_timer.data = st;
    *out = st;
    return 0;
}

void storage_close(struct storage *st, void (*done)(void *ud), void *ud)
{
    if (!st || st->closing)
        return;
    st->closing = true;
    st->close_done = done;
    st->close_ud = ud;
    storage_check_cancel_all(st);
    uv_timer_stop(&st->idle_timer);
    drained(st);
}

const char *storage_save_path(const struct storage *st)
{
    return st->save_path;
}

int storage_set_file_priorities(struct storage *st, const uint8_t *prios)
{
    if (!prios) {
        free(st->prios);
        st->prios = NULL;
        return 0;
    }
    if (!st->prios && !(st->prios = malloc(st->mi->num_files)))
        return -ENOMEM;
    memcpy(st->prios, prios, st->mi->num_files);
    return 0;
}

/* ---- write ---- */

struct write_job {
    struct storage_job base;
    uint32_t piece;
    bool wanted;
    bool create;   /* pass 2 of the worker: may create files */
    uint8_t *data;
    uint8_t (*block_sha1)[20];   /* NULL, or filled as storage_write_piece_hashed says */
    bool always_hash;
    size_t chunk;                /* st->write_chunk when queued */
    storage_write_cb cb;
    void *ud;
    int rc;
    ssize_t err_file;   /* the file a write failed in, -1 none */
};

static int want_seg(void *ctx, size_t file, int64_t file_off, uint8_t *buf, size_t len)
{
    (void)file_off, (void)buf, (void)len;
    struct storage *st = ctx;
    const struct bt_file *f = &st->mi->files[file];
    return !f->pad && st->prios[file] != 0;
}

static int exists_seg(void *ctx, size_t file, int64_t file_off, uint8_t *buf, size_t len)
{
    (void)file_off, (void)buf, (void)len;
    struct write_job *j = ctx;
    if (j->base.st->mi->files[file].pad)
        return 0;
    int fd;
    int rc = storage_io_fd_get(j->base.st, file, true, false, &fd);
    if (rc < 0)
        return rc;
    storage_io_fd_put(j->base.st, file, fd);
    return 0;
}

static int write_seg(void *ctx, size_t file, int64_t file_off, uint8_t *buf, size_t len)
{
    struct write_job *j = ctx;
    struct storage *st = j->base.st;
    if (st->mi->files[file].pad)
        return 0;
    int fd;
    int rc = storage_io_fd_get(st, file, true, j->create, &fd);
    if (rc == 0) {
        size_t step = j->chunk ? j->chunk : len;
        for (size_t done = 0; rc == 0 && done < len; done += step)
            rc = storage_io_pwrite(fd, buf + done, len - done < step ? len - done : step, file_off + (int64_t)done);
        storage_io_fd_put(st, file, fd);
        storage_mark_dirty(st, file, STORAGE_DIRTY_DATA);   /* also a failed write may have left bytes */
    }
    if (rc < 0) {
        j->err_file = (ssize_t)file;
        log_msg(LOG_WARNING, "storage: write to \"%s\" failed: %s",
                st->mi->files[file].path, strerror(-rc));
    }
    return rc;
}

/* Empty files hold no bytes, so they are created with the piece their
 * offset falls in (the last piece for those at the very end). */
static int create_empty_files(struct write_job *j)
{
    struct storage *st = j->base.st;
    const struct bt_metainfo *mi = st->mi;
    for (size_t i = 0; i < mi->num_files; i++) {
        const struct bt_file *f = &mi->files[i];
        if (f->length != 0 || f->pad)
            continue;
        int64_t p = f->offset / mi->piece_length;
        if (p >= mi->num_pieces)
            p = mi->num_pieces - 1;
        if (p != j->piece)
            continue;
        int fd;
        int rc = storage_io_fd_get(st, i, true, true, &fd);
        if (rc < 0) {
            j->err_file = (ssize_t)i;
            return rc;
        }
        storage_io_fd_put(st, i, fd);
    }
    return 0;
}

static void write_work(struct storage_job *base)
{
    struct write_job *j = (struct write_job *)base;
    const struct bt_metainfo *mi = base->st->mi;
    int64_t off = storage_piece_off(mi, j->piece), len = storage_piece_len(mi, j->piece);
    bool ok = bt_metainfo_piece_ok(mi, j->piece, j->data, (size_t)len);
    if (j->block_sha1 && (!ok || j->always_hash))
        for (int64_t b = 0; b * STORAGE_HASH_BLOCK < len; b++) {
            int64_t n = len - b * STORAGE_HASH_BLOCK;
            SHA1(j->data + b * STORAGE_HASH_BLOCK, (size_t)(n < STORAGE_HASH_BLOCK ? n : STORAGE_HASH_BLOCK),
                 j->block_sha1[b]);
        }
    if (!ok) {
        log_debug("storage: piece %u failed the hash check", j->piece);
        j->rc = -EILSEQ;
    } else if (!j->wanted &&
               (j->rc = storage_io_segments(mi, off, len, NULL, exists_seg, j)) < 0) {
        log_debug("storage: piece %u lies in unwanted files that do not exist", j->piece);
    } else {
        j->create = j->wanted;
        uv_mutex_lock(&base->st->write_lock);
        j->rc = storage_io_segments(mi, off, len, j->data, write_seg, j);
        if (j->rc == 0 && j->wanted)
            j->rc = create_empty_files(j);
        uv_mutex_unlock(&base->st->write_lock);
    }
    free(j->data);
    j->data = NULL;
}

static void write_after(struct storage_job *base)
{
    struct write_job *j = (struct write_job *)base;
    if (j->rc != -EILSEQ)
        base->st->unsynced = true;
    base->st->err_file = j->err_file;
    j->cb(j->ud, j->piece, j->rc);
    free(j);
}

int storage_write_piece(struct storage *st, uint32_t piece, uint8_t *data,
                        storage_write_cb cb, void *ud)
{
    return storage_write_piece_hashed(st, piece, data, NULL, false, cb, ud);
}

int storage_write_piece_hashed(struct storage *st, uint32_t piece, uint8_t *data, uint8_t (*block_sha1)[20],
                               bool always, storage_write_cb cb, void *ud)
{
    int rc = !data || !cb || piece >= st->mi->num_pieces ? -EINVAL : storage_job_can_submit(st);
    struct write_job *j = rc < 0 ? NULL : calloc(1, sizeof(*j));
    if (rc == 0 && !j)
        rc = -ENOMEM;
    if (rc < 0) {
        free(data);
        return rc;
    }
    j->base.work = write_work;
    j->base.after = write_after;
    j->piece = piece;
    j->data = data;
    j->block_sha1 = block_sha1;
    j->always_hash = always;
    j->chunk = st->write_chunk;
    j->cb = cb;
    j->ud = ud;
    j->err_file = -1;
    j->wanted = !st->prios ||
                storage_io_segments(st->mi, storage_piece_off(st->mi, piece), storage_piece_len(st->mi, piece),
                                    NULL, want_seg, st) == 1;
    rc = storage_job_submit_write(st, &j->base);
    if (rc < 0) {
        free(data);
        free(j);
    }
    return rc;
}

/* ---- options and preallocation ---- */

void storage_set_sync_writes(struct storage *st, bool on)
{
    uv_mutex_lock(&st->fd_lock);
    st->sync_writes = on;
    uv_mutex_unlock(&st->fd_lock);
}

struct alloc_job {
    struct storage_job base;
    uint8_t *want;   /* per file: allocate it (a snapshot of the priorities) */
    void (*done)(void *ud, int rc);
    void *ud;
    int rc;
};

static void alloc_work(struct storage_job *base)
{
    struct alloc_job *j = (struct alloc_job *)base;
    struct storage *st = base->st;
    const struct bt_metainfo *mi = st->mi;
    j->rc = 0;
    for (size_t i = 0; i < mi->num_files && j->rc == 0; i++) {
        const struct bt_file *f = &mi->files[i];
        if (!j->want[i] || f->pad || f->length == 0)
            continue;
        int fd;
        int rc = storage_io_fd_get(st, i, true, true, &fd);
        if (rc == 0) {
            /* Blocks already allocated are kept: a partly downloaded file
             * loses nothing.  Under write_lock: where the file system has
             * no fallocate, glibc emulates it by writing zeros into holes,
             * which must not race a piece write already in flight. */
            uv_mutex_lock(&st->write_lock);
            rc = -posix_fallocate(fd, 0, f->length);
            uv_mutex_unlock(&st->write_lock);
            storage_io_fd_put(st, i, fd);
        }
        if (rc < 0) {
            log_msg(LOG_WARNING, "storage: cannot allocate %" PRId64 " bytes for \"%s\": %s", f->length, f->path,
                    strerror(-rc));
            j->rc = rc;
        }
    }
}

static void alloc_after(struct storage_job *base)
{
    struct alloc_job *j = (struct alloc_job *)base;
    struct storage *st = base->st;
    if (--st->allocating == 0)
        release_held(st);
    j->done(j->ud, j->rc);
    free(j->want);
    free(j);
}

int storage_preallocate(struct storage *st, void (*done)(void *ud, int rc), void *ud)
{
    if (!done)
        return -EINVAL;
    int rc = storage_job_can_submit(st);
    if (rc < 0)
        return rc;
    struct alloc_job *j = calloc(1, sizeof *j);
    if (j)
        j->want = malloc(st->mi->num_files);
    if (!j || !j->want) {
        free(j);
        return -ENOMEM;
    }
    for (size_t i = 0; i < st->mi->num_files; i++)
        j->want[i] = !st->prios || st->prios[i] != 0;
    j->base.work = alloc_work;
    j->base.after = alloc_after;
    j->done = done;
    j->ud = ud;
    rc = storage_job_submit(st, &j->base);
    if (rc < 0) {
        free(j->want);
        free(j);
        return rc;
    }
    st->allocating++;
    return 0;
}

/* ---- sync ---- */

struct sync_job {
    struct storage_job base;
    void (*cb)(void *ud, int rc);
    void *ud;
    int rc;
    ssize_t err_file;
};

/* fsync of the directory a new file was created in: without it a power cut
 * can lose the name while the data was synced. */
static int sync_dir_of(struct storage *st, size_t i)
{
    int dfd;
    const char *leaf;
    int rc = storage_io_walk(st->save_path, st->mi->files[i].path, false, &dfd, &leaf);
    if (rc < 0)
        return rc;
    rc = fsync(dfd) < 0 ? -errno : 0;
    close(dfd);
    return rc;
}

void storage_forget_unsynced(struct storage *st)
{
    for (size_t i = 0; i < st->mi->num_files; i++)
        __atomic_store_n(&st->dirty[i], 0, __ATOMIC_RELEASE);
    st->unsynced = false;
}

static void sync_work(struct storage_job *base)
{
    struct sync_job *j = (struct sync_job *)base;
    struct storage *st = base->st;
    for (size_t i = 0; i < st->mi->num_files; i++) {
        uint8_t bits = __atomic_exchange_n(&st->dirty[i], 0, __ATOMIC_ACQUIRE);
        if (!bits)
            continue;
        int fd;
        int rc = storage_io_fd_get(st, i, true, false, &fd);
        if (rc == 0) {
            rc = fdatasync(fd) < 0 ? -errno : 0;
            storage_io_fd_put(st, i, fd);
        }
        if (rc == 0 && (bits & STORAGE_DIRTY_CREATED))
            rc = sync_dir_of(st, i);
        if (rc < 0) {
            /* Still unsynced: the next sync tries again. */
            storage_mark_dirty(st, i, bits);
            log_msg(LOG_WARNING, "storage: cannot sync \"%s\": %s", st->mi->files[i].path, strerror(-rc));
            if (j->rc == 0) {
                j->rc = rc;
                j->err_file = (ssize_t)i;
            }
        }
    }
}

static void sync_after(struct storage_job *base)
{
    struct sync_job *j = (struct sync_job *)base;
    if (j->rc < 0)
        base->st->unsynced = true;
    base->st->err_file = j->err_file;
    j->cb(j->ud, j->rc);
    free(j);
}

int storage_sync(struct storage *st, void (*cb)(void *ud, int rc), void *ud)
{
    if (!cb)
        return -EINVAL;
    int rc = storage_job_can_submit(st);
    if (rc < 0)
        return rc;
    if (!st->unsynced)
        return 1;
    struct sync_job *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->base.work = sync_work;
    j->base.after = sync_after;
    j->err_file = -1;
    j->cb = cb;
    j->ud = ud;
    rc = storage_job_submit(st, &j->base);
    if (rc < 0) {
        free(j);
        return rc;
    }
    st->unsynced = false;
    return 0;
}

/* ---- write options (µTorrent Server keys) ---- */

void storage_set_write_chunk(struct storage *st, size_t bytes)
{
    st->write_chunk = bytes;
}

void storage_set_minimize_kernel_caching(struct storage *st, bool on)
{
    atomic_store_explicit(&st->sync_vfat, on, memory_order_relaxed);
}

int storage_sync_flags(long f_type, bool minimize_kernel_caching)
{
    return minimize_kernel_caching && f_type == MSDOS_SUPER_MAGIC ? O_SYNC : 0;
}

int storage_open_flags(struct storage *st, int dirfd)
{
    if (!atomic_load_explicit(&st->sync_vfat, memory_order_relaxed))
        return 0;
    struct statfs sf;
    return fstatfs(dirfd, &sf) == 0 ? storage_sync_flags((long)sf.f_type, true) : 0;
}

/* ---- read ---- */

struct read_job {
    struct storage_job base;
    int64_t off;
    uint32_t len;
    uint8_t *data;
    storage_read_cb cb;
    void *ud;
    int rc;
    ssize_t err_file;
};

static int read_seg(void *ctx, size_t file, int64_t file_off, uint8_t *buf, size_t len)
{
    struct read_job *j = ctx;
    struct storage *st = j->base.st;
    if (st->mi->files[file].pad) {
        memset(buf, 0, len);
        return 0;
    }
    int fd;
    int rc = storage_io_fd_get(st, file, false, false, &fd);
    if (rc == 0) {
        rc = storage_io_pread(fd, buf, len, file_off);
        storage_io_fd_put(st, file, fd);
    }
    if (rc < 0)
        j->err_file = (ssize_t)file;
    if (rc < 0 && rc != -ENOENT)
        log_msg(LOG_WARNING, "storage: read from \"%s\" failed: %s",
                st->mi->files[file].path, strerror(-rc));
    return rc;
}

static void read_work(struct storage_job *base)
{
    struct read_job *j = (struct read_job *)base;
    j->data = malloc(j->len);
    j->rc = j->data ? storage_io_segments(base->st->mi, j->off, j->len, j->data, read_seg, j) : -ENOMEM;
    if (j->rc < 0) {
        free(j->data);
        j->data = NULL;
    }
}

static void read_after(struct storage_job *base)
{
    struct read_job *j = (struct read_job *)base;
    base->st->err_file = j->err_file;
    j->cb(j->ud, j->rc, j->data, j->rc < 0 ? 0 : j->len);
    free(j);
}

int storage_read(struct storage *st, uint32_t piece, uint32_t begin, uint32_t len,
                 storage_read_cb cb, void *ud)
{
    if (!cb || piece >= st->mi->num_pieces || len == 0 ||
        (int64_t)begin + len > storage_piece_len(st->mi, piece))
        return -EINVAL;
    int rc = storage_job_can_submit(st);
    if (rc < 0)
        return rc;
    struct read_job *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->base.work = read_work;
    j->base.after = read_after;
    j->off = storage_piece_off(st->mi, piece) + begin;
    j->len = len;
    j->err_file = -1;
    j->cb = cb;
    j->ud = ud;
    rc = storage_job_submit(st, &j->base);
    if (rc < 0)
        free(j);
    return rc;
}

const char *storage_error_file(const struct storage *st)
{
    return st->err_file >= 0 ? st->mi->files[st->err_file].path : NULL;
}

void storage_release_files(struct storage *st)
{
    uv_mutex_lock(&st->fd_lock);
    st->released = true;
    uv_mutex_unlock(&st->fd_lock);
    storage_io_fd_close_idle(st);
}

void storage_hold_files(struct storage *st)
{
    uv_mutex_lock(&st->fd_lock);
    st->released = false;
    uv_mutex_unlock(&st->fd_lock);
}

/* ---- stat ---- */

int storage_stat_files(struct storage *st, int64_t *sizes, int64_t *mtimes)
{
    for (size_t i = 0; i < st->mi->num_files; i++) {
        int64_t size = -1, mtime = -1;
        char *full = NULL;
        struct stat sb;
        if (!st->mi->files[i].pad && storage_io_path(st->save_path, st->mi->files[i].path, &full) == 0 &&
            stat(full, &sb) == 0 && S_ISREG(sb.st_mode)) {
            size = sb.st_size;
            mtime = sb.st_mtim.tv_sec;
        }
        free(full);
        if (sizes)
            sizes[i] = size;
        if (mtimes)
            mtimes[i] = mtime;
    }
    return 0;
}
