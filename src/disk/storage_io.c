/* storage_io — safe paths, the per-storage fd cache and the byte-range walk
 * over a torrent's files.  Everything here may run on worker threads. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/storage_int.h"
#include "util/log.h"
#include "util/path.h"

#define STORAGE_MAX_DEPTH 256

/* Defence in depth: the metainfo parser already sanitized rel. */
static int rel_is_safe(const char *rel)
{
    if (!rel || !*rel || rel[0] == '/')
        return 0;
    int depth = 0;
    for (const char *p = rel;; ) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        if (++depth > STORAGE_MAX_DEPTH)
            return 0;
        if (!e)
            return 1;
        p = e + 1;
    }
}

int storage_io_path(const char *save_path, const char *rel, char **out)
{
    *out = NULL;
    if (!rel_is_safe(rel)) {
        log_msg(LOG_WARNING, "storage: refusing unsafe path \"%s\"", rel ? rel : "(null)");
        return -EPERM;
    }
    char *full = path_join(save_path, rel);
    if (!full)
        return -ENOMEM;   /* rel passed our own check, so only OOM is left */
    size_t n = strlen(save_path);
    int ok = strncmp(full, save_path, n) == 0 &&
             (save_path[n - 1] == '/' ? full[n] != '\0' : full[n] == '/' && full[n + 1] != '\0');
    if (!ok) {
        log_msg(LOG_WARNING, "storage: path \"%s\" is not below \"%s\"", full, save_path);
        free(full);
        return -EPERM;
    }
    *out = full;
    return 0;
}

static int open_dir_nofollow(int dfd, const char *name, bool create)
{
    for (int tries = 0; tries < 2; tries++) {
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
            return fd;
        int e = errno;
        if (e == ENOENT && create && tries == 0) {
            if (mkdirat(dfd, name, 0777) < 0 && errno != EEXIST)
                return -errno;
            continue;
        }
        if (e == ELOOP || e == ENOTDIR) {
            struct stat sb;
            if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode)) {
                log_msg(LOG_WARNING, "storage: refusing to write through symlink \"%s\"", name);
                return -EPERM;
            }
        }
        return -e;
    }
    return -ENOENT;
}

int storage_io_walk(const char *base, const char *rel, bool create, int *dirfd,
                    const char **leaf)
{
    *dirfd = -1;
    if (!rel_is_safe(rel))
        return -EPERM;
    int dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 && errno == ENOENT && create) {
        int rc = path_mkdirs(base);
        if (rc < 0)
            return rc;
        dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (dfd < 0)
        return -errno;
    const char *p = rel;
    char name[256];
    for (const char *e; (e = strchr(p, '/')); p = e + 1) {
        size_t n = (size_t)(e - p);
        if (n >= sizeof(name)) {
            close(dfd);
            return -ENAMETOOLONG;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        int nfd = open_dir_nofollow(dfd, name, create);
        close(dfd);
        if (nfd < 0)
            return nfd;
        dfd = nfd;
    }
    *dirfd = dfd;
    *leaf = p;
    return 0;
}

static int open_write(struct storage *st, size_t i, bool create, int *out)
{
    /* O_DSYNC: all_writes_sync (fd_lock is held, so the flag is stable). */
    int sync = st->sync_writes ? O_DSYNC : 0;
    const struct bt_file *f = &st->mi->files[i];
    char *full;
    int rc = storage_io_path(st->save_path, f->path, &full);
    if (rc < 0)
        return rc;
    free(full);
    int dfd;
    const char *leaf;
    rc = storage_io_walk(st->save_path, f->path, create, &dfd, &leaf);
    if (rc < 0)
        return rc;
    sync |= storage_open_flags(st, dfd);   /* minimize_kernel_caching on vfat */
    int fd = openat(dfd, leaf, O_RDWR | O_NOFOLLOW | O_CLOEXEC | sync);
    if (fd < 0 && errno == ENOENT && create) {
        fd = openat(dfd, leaf, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | sync,
                    f->executable ? 0777 : 0666);
        if (fd >= 0)
            storage_mark_dirty(st, i, STORAGE_DIRTY_CREATED);
        if (fd >= 0 && ftruncate(fd, f->length) < 0) {
            rc = -errno;
            close(fd);
            unlinkat(dfd, leaf, 0);
            close(dfd);
            log_msg(LOG_WARNING, "storage: cannot size \"%s\": %s", f->path, strerror(-rc));
            return rc;
        }
        if (fd < 0 && errno == EEXIST)   /* another worker created it first */
            fd = openat(dfd, leaf, O_RDWR | O_NOFOLLOW | O_CLOEXEC | sync);
    }
    rc = fd < 0 ? -errno : 0;
    close(dfd);
    if (rc == -ELOOP) {
        log_msg(LOG_WARNING, "storage: refusing to write through symlink \"%s\"", f->path);
        return -EPERM;
    }
    if (rc < 0)
        return rc;
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        log_msg(LOG_WARNING, "storage: \"%s\" is not a regular file", f->path);
        return -EPERM;
    }
    *out = fd;
    return 0;
}

static int open_read(struct storage *st, size_t i, int *out)
{
    char *full;
    int rc = storage_io_path(st->save_path, st->mi->files[i].path, &full);
    if (rc < 0)
        return rc;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    rc = fd < 0 ? -errno : 0;
    free(full);
    *out = fd;
    return rc;
}

int storage_io_fd_get(struct storage *st, size_t i, bool write, bool create, int *fd)
{
    uv_mutex_lock(&st->fd_lock);
    st->fd_clock++;
    for (int k = 0; k < STORAGE_FD_SLOTS; k++) {
        struct storage_fd_slot *s = &st->fds[k];
        if (s->fd >= 0 && s->file == i && (write ? s->writable && s->dsync == st->sync_writes : true)) {
            s->refs++;
            s->stamp = st->fd_clock;
            *fd = s->fd;
            uv_mutex_unlock(&st->fd_lock);
            return 0;
        }
    }
    int nfd = -1;
    int rc = write ? open_write(st, i, create, &nfd) : open_read(st, i, &nfd);
    if (rc < 0) {
        uv_mutex_unlock(&st->fd_lock);
        return rc;
    }
    struct storage_fd_slot *victim = NULL;
    for (int k = 0; k < STORAGE_FD_SLOTS; k++) {
        struct storage_fd_slot *s = &st->fds[k];
        if (s->fd < 0) {
            victim = s;
            break;
        }
        if (s->refs == 0 && (!victim || s->stamp < victim->stamp))
            victim = s;
    }
    if (st->released)
        victim = NULL;   /* released: used once, closed by storage_io_fd_put */
    if (victim) {   /* else all slots busy: the fd stays uncached */
        if (victim->fd >= 0)
            close(victim->fd);
        *victim = (struct storage_fd_slot){nfd, i, write, write && st->sync_writes, 1, st->fd_clock};
    }
    uv_mutex_unlock(&st->fd_lock);
    *fd = nfd;
    return 0;
}

void storage_io_fd_put(struct storage *st, size_t i, int fd)
{
    uv_mutex_lock(&st->fd_lock);
    for (int k = 0; k < STORAGE_FD_SLOTS; k++) {
        struct storage_fd_slot *s = &st->fds[k];
        if (s->fd == fd && s->file == i && s->refs > 0) {
            /* Released (a stopped torrent): the last user closes it, so a
             * job that was running at the stop leaves nothing open. */
            if (--s->refs == 0 && st->released) {
                s->fd = -1;
                break;
            }
            uv_mutex_unlock(&st->fd_lock);
            return;
        }
    }
    uv_mutex_unlock(&st->fd_lock);
    close(fd);
}

void storage_io_fd_close_idle(struct storage *st)
{
    uv_mutex_lock(&st->fd_lock);
    for (int k = 0; k < STORAGE_FD_SLOTS; k++) {
        struct storage_fd_slot *s = &st->fds[k];
        if (s->fd >= 0 && s->refs == 0) {
            close(s->fd);
            s->fd = -1;
        }
    }
    uv_mutex_unlock(&st->fd_lock);
}

size_t storage_io_fd_count(struct storage *st)
{
    size_t n = 0;
    uv_mutex_lock(&st->fd_lock);
    for (int k = 0; k < STORAGE_FD_SLOTS; k++)
        n += st->fds[k].fd >= 0;
    uv_mutex_unlock(&st->fd_lock);
    return n;
}

int storage_io_segments(const struct bt_metainfo *mi, int64_t off, int64_t len,
                        uint8_t *buf, storage_seg_fn fn, void *ctx)
{
    if (off < 0 || len < 0 || off > mi->total_size || len > mi->total_size - off)
        return -EINVAL;
    size_t lo = 0, hi = mi->num_files;   /* last file with offset <= off */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (mi->files[mid].offset <= off)
            lo = mid;
        else
            hi = mid;
    }
    for (size_t i = lo; len > 0 && i < mi->num_files; i++) {
        const struct bt_file *f = &mi->files[i];
        int64_t end = f->offset + f->length;
        if (f->length == 0 || off >= end)
            continue;
        int64_t n = end - off < len ? end - off : len;
        int rc = fn(ctx, i, off - f->offset, buf, (size_t)n);
        if (rc)
            return rc;
        off += n;
        len -= n;
        if (buf)
            buf += n;
    }
    return len > 0 ? -EINVAL : 0;
}

int storage_io_pread(int fd, uint8_t *buf, size_t len, int64_t off)
{
    while (len > 0) {
        ssize_t n = pread(fd, buf, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

int storage_io_pwrite(int fd, const uint8_t *buf, size_t len, int64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

void storage_io_remove_empty_dirs_of(const char *base, const char *path)
{
    char *rel = strdup(path ? path : "");
    if (!rel)
        return;
    for (char *slash; (slash = strrchr(rel, '/')); ) {
        *slash = '\0';
        char *full;
        if (storage_io_path(base, rel, &full) < 0)
            break;
        int r = rmdir(full);
        int e = errno;
        free(full);
        if (r < 0 && e != ENOENT)
            break;
    }
    free(rel);
}

void storage_io_remove_empty_dirs(const char *base, const struct bt_metainfo *mi)
{
    for (size_t i = 0; i < mi->num_files; i++)
        storage_io_remove_empty_dirs_of(base, mi->files[i].path);
}
