/* storage_fs — deleting and moving a torrent's files.  Both are exclusive
 * jobs: they start when nothing else of the storage is in flight, so no
 * worker holds a cached fd or reads save_path while they run. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/storage_int.h"
#include "util/log.h"

#define COPY_BUF (1 << 20)

struct fs_job {
    struct storage_job base;
    char *new_path;           /* move only */
    const size_t *idx;        /* rename only: files and their new relative paths */
    char *const *new_rel;
    size_t n;
    void (*done)(void *ud, int rc);
    void *ud;
    int rc;
};

static void fs_after(struct storage_job *base)
{
    struct fs_job *j = (struct fs_job *)base;
    struct storage *st = base->st;
    if (j->new_path && j->rc == 0) {
        free(st->save_path);
        st->save_path = j->new_path;
        j->new_path = NULL;
    }
    j->done(j->ud, j->rc);
    free(j->new_path);
    free(j);
}

static int submit_fs(struct storage *st, char *new_path, void (*work)(struct storage_job *),
                     void (*done)(void *ud, int rc), void *ud)
{
    struct fs_job *j = calloc(1, sizeof(*j));
    if (!j) {
        free(new_path);
        return -ENOMEM;
    }
    j->base.work = work;
    j->base.after = fs_after;
    j->new_path = new_path;
    j->done = done;
    j->ud = ud;
    j->rc = -EIO;   /* overwritten by work() */
    int rc = storage_job_submit_excl(st, &j->base);
    if (rc < 0) {
        free(j->new_path);
        free(j);
    }
    return rc;
}

/* ---- delete ---- */

/* Unlinks save_path/rel (never outside save_path: storage_io_path). */
static int delete_one(const char *save_path, const char *rel)
{
    char *full;
    int rc = storage_io_path(save_path, rel, &full);
    if (rc == 0) {
        if (unlink(full) < 0 && errno != ENOENT)
            rc = -errno;
        if (rc < 0)
            log_msg(LOG_WARNING, "storage: cannot delete \"%s\": %s", full, strerror(-rc));
        free(full);
    }
    return rc;
}

static void delete_work(struct storage_job *base)
{
    struct fs_job *j = (struct fs_job *)base;
    struct storage *st = base->st;
    const struct bt_metainfo *mi = st->mi;
    storage_io_fd_close_idle(st);
    j->rc = 0;
    for (size_t i = 0; i < mi->num_files; i++) {
        if (mi->files[i].pad)
            continue;
        int rc = delete_one(st->save_path, mi->files[i].path);
        if (rc < 0 && j->rc == 0)
            j->rc = rc;
    }
    storage_io_remove_empty_dirs(st->save_path, mi);
}

int storage_delete_paths(const char *save_path, const char *const *rel, size_t n)
{
    if (!save_path || !*save_path)
        return -EINVAL;
    int first = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = delete_one(save_path, rel[i]);
        if (rc < 0 && first == 0)
            first = rc;
    }
    for (size_t i = 0; i < n; i++)
        storage_io_remove_empty_dirs_of(save_path, rel[i]);
    return first;
}

int storage_delete_files(struct storage *st, void (*done)(void *ud, int rc), void *ud)
{
    if (!done)
        return -EINVAL;
    return submit_fs(st, NULL, delete_work, done, ud);
}

/* ---- move ---- */

static int copy_file(const char *from, int dfd, const char *leaf)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    struct stat sb;
    int out = -1, rc = 0;
    uint8_t *buf = malloc(COPY_BUF);
    if (!buf)
        rc = -ENOMEM;
    else if (fstat(in, &sb) < 0)
        rc = -errno;
    else if ((out = openat(dfd, leaf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                           sb.st_mode & 07777)) < 0)
        rc = errno == ELOOP ? -EPERM : -errno;
    else if (ftruncate(out, sb.st_size) < 0)
        rc = -errno;
    for (int64_t off = 0; rc == 0 && off < sb.st_size; ) {
        size_t n = sb.st_size - off < COPY_BUF ? (size_t)(sb.st_size - off) : COPY_BUF;
        rc = storage_io_pread(in, buf, n, off);
        if (rc == 0)
            rc = storage_io_pwrite(out, buf, n, off);
        off += (int64_t)n;
    }
    if (rc == 0 && fsync(out) < 0)
        rc = -errno;
    if (out >= 0 && close(out) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0 && out >= 0)
        unlinkat(dfd, leaf, 0);
    close(in);
    free(buf);
    return rc;
}

/* fsync of the folder that holds path: a rename or unlink is durable only
 * once the directory entry is (the file's own fsync does not cover it). */
static int fsync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == path ? strdup("/") : strndup(path, slash ? (size_t)(slash - path) : 0);
    if (!dir)
        return -ENOMEM;
    int fd = open(*dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 || fsync(fd) < 0 ? -errno : 0;
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* Moves one file: renamed, or across file systems copied (fsynced),
 * its new directory entry fsynced, and only then the original unlinked, so
 * a power cut at any point leaves a whole copy somewhere (the move intent
 * finishes the move at the next start).  The old folder is fsynced last, so
 * a confirmed move does not come back after a cut. */
static int move_one(const char *old_base, const char *new_base, const char *rel)
{
    char *from, *to;
    int rc = storage_io_path(old_base, rel, &from);
    if (rc < 0)
        return rc;
    rc = storage_io_path(new_base, rel, &to);
    if (rc < 0) {
        free(from);
        return rc;
    }
    struct stat sb;
    int dfd = -1;
    const char *leaf;
    if (lstat(from, &sb) < 0) {
        rc = errno == ENOENT ? 0 : -errno;   /* nothing to move */
    } else if ((rc = storage_io_walk(new_base, rel, true, &dfd, &leaf)) == 0) {
        if (renameat(AT_FDCWD, from, dfd, leaf) < 0) {
            rc = -errno;
            if (rc == -EXDEV && (rc = copy_file(from, dfd, leaf)) == 0) {
                if (fsync(dfd) < 0)
                    rc = -errno;
                else if (unlink(from) < 0)
                    rc = -errno;
            }
        } else if (fsync(dfd) < 0) {
            rc = -errno;
        }
        close(dfd);
        if (rc == 0)
            rc = fsync_dir_of(from);
    }
    if (rc < 0)
        log_msg(LOG_WARNING, "storage: cannot move \"%s\" to \"%s\": %s", from, to, strerror(-rc));
    free(from);
    free(to);
    return rc;
}

static void move_work(struct storage_job *base)
{
    struct fs_job *j = (struct fs_job *)base;
    struct storage *st = base->st;
    const struct bt_metainfo *mi = st->mi;
    storage_io_fd_close_idle(st);
    j->rc = 0;
    if (strcmp(st->save_path, j->new_path) == 0)
        return;
    for (size_t i = 0; i < mi->num_files && j->rc == 0; i++)
        if (!mi->files[i].pad)
            j->rc = move_one(st->save_path, j->new_path, mi->files[i].path);
    if (j->rc == 0)
        storage_io_remove_empty_dirs(st->save_path, mi);
}

int storage_move(struct storage *st, const char *new_save_path,
                 void (*done)(void *ud, int rc), void *ud)
{
    if (!done || !new_save_path || !*new_save_path)
        return -EINVAL;
    size_t n = strlen(new_save_path);
    while (n > 1 && new_save_path[n - 1] == '/')
        n--;
    char *p = strndup(new_save_path, n);
    if (!p)
        return -ENOMEM;
    return submit_fs(st, p, move_work, done, ud);
}

/* ---- rename ---- */

static int rename_one(const char *base, const char *from_rel, const char *to_rel)
{
    char *from;
    int rc = storage_io_path(base, from_rel, &from);
    if (rc < 0)
        return rc;
    struct stat sb;
    int dfd = -1;
    const char *leaf;
    if (lstat(from, &sb) < 0) {
        rc = errno == ENOENT ? 0 : -errno;   /* not created yet: nothing on disk to rename */
    } else if ((rc = storage_io_walk(base, to_rel, true, &dfd, &leaf)) == 0) {
        if (renameat(AT_FDCWD, from, dfd, leaf) < 0 || fsync(dfd) < 0)
            rc = -errno;
        close(dfd);
        if (rc == 0)
            rc = fsync_dir_of(from);   /* durable before the API confirms the rename */
    }
    if (rc == 0) {
        /* Drop directories the old path leaves empty (never base itself). */
        char *dir = strdup(from);
        size_t blen = strlen(base);
        for (char *slash = dir ? strrchr(dir, '/') : NULL; slash && (size_t)(slash - dir) > blen;
             slash = strrchr(dir, '/')) {
            *slash = 0;
            if (rmdir(dir) < 0)
                break;
        }
        free(dir);
    }
    if (rc < 0)
        log_msg(LOG_WARNING, "storage: cannot rename \"%s\" to \"%s\": %s", from_rel, to_rel, strerror(-rc));
    free(from);
    return rc;
}

static void rename_work(struct storage_job *base)
{
    struct fs_job *j = (struct fs_job *)base;
    struct storage *st = base->st;
    storage_io_fd_close_idle(st);
    j->rc = 0;
    for (size_t k = 0; k < j->n && j->rc == 0; k++)
        j->rc = rename_one(st->save_path, st->mi->files[j->idx[k]].path, j->new_rel[k]);
}

int storage_rename_files(struct storage *st, const size_t *idx, char *const *new_rel, size_t n,
                         void (*done)(void *ud, int rc), void *ud)
{
    if (!done || !idx || !new_rel)
        return -EINVAL;
    for (size_t k = 0; k < n; k++)
        if (idx[k] >= st->mi->num_files || !new_rel[k] || !*new_rel[k])
            return -EINVAL;
    struct fs_job *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->base.work = rename_work;
    j->base.after = fs_after;
    j->idx = idx;
    j->new_rel = new_rel;
    j->n = n;
    j->done = done;
    j->ud = ud;
    j->rc = -EIO;
    int rc = storage_job_submit_excl(st, &j->base);
    if (rc < 0)
        free(j);
    return rc;
}
