/* storage_check — hash every piece on disk, on two threadpool jobs at once.
 *
 * Phase 1 stats every file on a worker (so pieces in missing files are
 * skipped without any read).  Phase 2 splits the pieces into chunks of about
 * CHECK_CHUNK bytes; at most CHECK_JOBS chunks are in flight, each reading
 * large sequential blocks and hashing them.  Chunk results go into the
 * job's own array and are merged on the loop thread, so workers share
 * nothing but read-only state.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/storage_int.h"
#include "util/log.h"

#define CHECK_JOBS 2
#define CHECK_CHUNK (16LL << 20)
#define CHECK_BLOCK (4LL << 20)
#define CHECK_PROGRESS_MS 100

struct storage_check {
    struct storage *st;
    storage_check_progress_cb prog;
    storage_check_done_cb done;
    void *ud;
    uint8_t *have;            /* [loop] */
    int64_t *fsize;           /* written by phase 1, read-only afterwards */
    uint32_t n, chunk, next, done_pieces;
    int running;              /* [loop] jobs in flight */
    int rc;
    atomic_bool cancelled;
    bool finished;
    uint64_t last_prog;
    struct storage_check *next_check;
};

struct check_job {
    struct storage_job base;
    struct storage_check *c;
    uint32_t first, count;
    uint8_t *ok;              /* count bytes, 1 = piece verified */
    int rc;
    /* reader state, worker only */
    size_t cur_file;
    int cur_fd;
};

static void unlink_check(struct storage_check *c)
{
    for (struct storage_check **pp = &c->st->checks; *pp; pp = &(*pp)->next_check) {
        if (*pp == c) {
            *pp = c->next_check;
            return;
        }
    }
}

static void free_check(struct storage_check *c)
{
    free(c->have);
    free(c->fsize);
    free(c);
}

void storage_check_cancel(struct storage_check *c)
{
    if (!c || c->finished || atomic_load(&c->cancelled))
        return;
    atomic_store(&c->cancelled, true);
    unlink_check(c);
    if (c->running == 0)   /* only when called from the last progress callback */
        free_check(c);
}

void storage_check_cancel_all(struct storage *st)
{
    while (st->checks)
        storage_check_cancel(st->checks);
}

/* ---- workers ---- */

static void stat_work(struct storage_job *base)
{
    struct check_job *j = (struct check_job *)base;
    struct storage_check *c = j->c;
    const struct bt_metainfo *mi = base->st->mi;
    for (size_t i = 0; i < mi->num_files && !atomic_load(&c->cancelled); i++) {
        const struct bt_file *f = &mi->files[i];
        c->fsize[i] = -1;
        char *full;
        struct stat sb;
        if (f->pad || f->length == 0)
            c->fsize[i] = f->length;
        else if (storage_io_path(base->st->save_path, f->path, &full) == 0) {
            if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode))
                c->fsize[i] = sb.st_size;
            free(full);
        }
    }
}

static int avail_seg(void *ctx, size_t file, int64_t file_off, uint8_t *buf, size_t len)
{
    (void)buf;
    struct check_job *j = ctx;
    return j->c->fsize[file] < file_off + (int64_t)len ? -ENOENT : 0;
}

static int check_read_seg(void *ctx, size_t file, int64_t file_off, uint8_t *buf, size_t len)
{
    struct check_job *j = ctx;
    struct storage *st = j->base.st;
    if (st->mi->files[file].pad) {
        memset(buf, 0, len);
        return 0;
    }
    if (j->cur_fd < 0 || j->cur_file != file) {
        if (j->cur_fd >= 0)
            close(j->cur_fd);
        j->cur_fd = -1;
        char *full;
        int rc = storage_io_path(st->save_path, st->mi->files[file].path, &full);
        if (rc < 0)
            return rc;
        j->cur_fd = open(full, O_RDONLY | O_CLOEXEC);
        free(full);
        if (j->cur_fd < 0)
            return -errno;
        j->cur_file = file;
        posix_fadvise(j->cur_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    int rc = storage_io_pread(j->cur_fd, buf, len, file_off);
    posix_fadvise(j->cur_fd, file_off, (off_t)len, POSIX_FADV_DONTNEED);
    return rc;
}

static void chunk_work(struct storage_job *base)
{
    struct check_job *j = (struct check_job *)base;
    struct storage_check *c = j->c;
    const struct bt_metainfo *mi = base->st->mi;
    int64_t plen = mi->piece_length;
    size_t bufsize = (size_t)(plen > CHECK_BLOCK ? plen : CHECK_BLOCK);
    uint8_t *buf = malloc(bufsize);
    if (!buf) {
        j->rc = -ENOMEM;
        return;
    }
    uint32_t end = j->first + j->count;
    for (uint32_t p = j->first; p < end && !atomic_load(&c->cancelled); ) {
        int64_t off = (int64_t)p * plen;
        if (storage_io_segments(mi, off, storage_piece_len(mi, p), NULL, avail_seg, j)) {
            p++;
            continue;
        }
        /* Extend the block over following pieces that are present too. */
        uint32_t q = p + 1;
        int64_t blen = storage_piece_len(mi, p);
        while (q < end && blen + storage_piece_len(mi, q) <= (int64_t)bufsize &&
               storage_io_segments(mi, (int64_t)q * plen, storage_piece_len(mi, q), NULL,
                                   avail_seg, j) == 0)
            blen += storage_piece_len(mi, q++);
        int rc = storage_io_segments(mi, off, blen, buf, check_read_seg, j);
        if (rc < 0) {
            log_debug("storage: check read of pieces %u-%u failed: %s", p, q - 1, strerror(-rc));
        } else {
            const uint8_t *d = buf;
            for (uint32_t k = p; k < q; k++) {
                int64_t sz = storage_piece_len(mi, k);
                j->ok[k - j->first] = bt_metainfo_piece_ok(mi, k, d, (size_t)sz);
                d += sz;
            }
        }
        p = q;
    }
    if (j->cur_fd >= 0)
        close(j->cur_fd);
    free(buf);
}

/* ---- loop thread ---- */

static void finish(struct storage_check *c)
{
    c->finished = true;
    unlink_check(c);
    if (c->prog && c->rc == 0)
        c->prog(c->ud, c->n, c->n);
    c->done(c->ud, c->rc, c->have, c->n);
    free_check(c);
}

static void chunk_after(struct storage_job *base);

static void dispatch(struct storage_check *c)
{
    while (c->rc == 0 && c->running < CHECK_JOBS && c->next < c->n) {
        struct check_job *j = calloc(1, sizeof(*j));
        uint32_t count = c->n - c->next < c->chunk ? c->n - c->next : c->chunk;
        if (j)
            j->ok = calloc(count, 1);
        if (!j || !j->ok) {
            free(j);
            c->rc = -ENOMEM;
            break;
        }
        j->base.work = chunk_work;
        j->base.after = chunk_after;
        j->c = c;
        j->first = c->next;
        j->count = count;
        j->cur_fd = -1;
        int rc = storage_job_submit(c->st, &j->base);
        if (rc < 0) {
            free(j->ok);
            free(j);
            c->rc = rc;
            break;
        }
        c->next += count;
        c->running++;
    }
    if (c->running == 0)
        finish(c);
}

static void chunk_after(struct storage_job *base)
{
    struct check_job *j = (struct check_job *)base;
    struct storage_check *c = j->c;
    c->running--;
    if (j->rc < 0 && c->rc == 0)
        c->rc = j->rc;
    for (uint32_t k = 0; k < j->count; k++)
        if (j->ok[k])
            c->have[(j->first + k) >> 3] |= (uint8_t)(0x80u >> ((j->first + k) & 7));
    c->done_pieces += j->count;
    free(j->ok);
    free(j);
    if (atomic_load(&c->cancelled)) {
        if (c->running == 0)
            free_check(c);
        return;
    }
    uint64_t now = uv_now(c->st->loop);
    if (c->prog && c->done_pieces < c->n && now - c->last_prog >= CHECK_PROGRESS_MS) {
        c->last_prog = now;
        c->prog(c->ud, c->done_pieces, c->n);
        if (atomic_load(&c->cancelled))
            return;   /* storage_check_cancel freed c (running was 0) or jobs will */
    }
    dispatch(c);
}

static void stat_after(struct storage_job *base)
{
    struct check_job *j = (struct check_job *)base;
    struct storage_check *c = j->c;
    free(j);
    c->running--;
    if (atomic_load(&c->cancelled)) {
        if (c->running == 0)
            free_check(c);
        return;
    }
    c->last_prog = uv_now(c->st->loop);
    dispatch(c);
}

int storage_check(struct storage *st, storage_check_progress_cb prog,
                  storage_check_done_cb done, void *ud, struct storage_check **handle)
{
    if (handle)
        *handle = NULL;
    if (!done)
        return -EINVAL;
    int rc = storage_job_can_submit(st);
    if (rc < 0)
        return rc;
    const struct bt_metainfo *mi = st->mi;
    struct storage_check *c = calloc(1, sizeof(*c));
    struct check_job *j = calloc(1, sizeof(*j));
    if (c) {
        c->have = calloc(((size_t)mi->num_pieces + 7) / 8, 1);
        c->fsize = calloc(mi->num_files, sizeof(*c->fsize));
    }
    if (!c || !j || !c->have || !c->fsize) {
        if (c)
            free_check(c);
        free(j);
        return -ENOMEM;
    }
    c->st = st;
    c->prog = prog;
    c->done = done;
    c->ud = ud;
    c->n = mi->num_pieces;
    int64_t chunk = CHECK_CHUNK / mi->piece_length;
    c->chunk = chunk < 1 ? 1 : (uint32_t)chunk;
    atomic_init(&c->cancelled, false);
    j->base.work = stat_work;
    j->base.after = stat_after;
    j->c = c;
    j->cur_fd = -1;
    rc = storage_job_submit(st, &j->base);
    if (rc < 0) {
        free(j);
        free_check(c);
        return rc;
    }
    c->running = 1;
    c->next_check = st->checks;
    st->checks = c;
    if (handle)
        *handle = c;
    return 0;
}
