/* export — .torrent copies in export_dir / export_dir_fin (export.h). */
#include "core/export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/session.h"
#include "core/torrent.h"
#include "core/view.h"
#include "util/log.h"
#include "util/path.h"

#define EXPORT_NAME_ROOM 24    /* " (4294967295).torrent" fits */
#define EXPORT_MAX_TRIES 10000 /* "<name> (n).torrent" counters tried */

static bool qbt_invalid(char c)
{
    return strchr("\\/:?\"*<>|", c) != NULL && c != '\0';
}

static bool qt_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

char *export_file_name(const char *torrent_name, unsigned n)
{
    /* qBittorrent's Utils::Fs::toValidFileName: trimmed, every run of
     * invalid characters one space. */
    const char *s = torrent_name ? torrent_name : "";
    size_t len = strlen(s);
    while (len && qt_space(*s))
        s++, len--;
    while (len && qt_space(s[len - 1]))
        len--;
    char *valid = malloc(len + 1);
    if (!valid)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (!qbt_invalid(s[i]))
            valid[k++] = s[i];
        else if (i == 0 || !qbt_invalid(s[i - 1]))
            valid[k++] = ' ';   /* the first of a run */
    }
    valid[k] = 0;
    /* Then a safe component: no control characters, room for the suffix
     * within 255 bytes, cut on a character boundary. */
    int dropped = 0;
    char *base = path_sanitize_component(valid, k, &dropped);
    if (!base && !dropped) {
        free(valid);
        return NULL;
    }
    const char *b = base ? base : valid;   /* "", "." or "..": harmless with ".torrent" after them */
    size_t bl = strlen(b);
    if (bl > 255 - EXPORT_NAME_ROOM) {
        bl = 255 - EXPORT_NAME_ROOM;
        while (bl > 0 && ((unsigned char)b[bl] & 0xc0) == 0x80)
            bl--;
    }
    char *out = NULL;
    int rc = n == 0 ? asprintf(&out, "%.*s.torrent", (int)bl, b) : asprintf(&out, "%.*s (%u).torrent", (int)bl, b, n);
    free(base);
    free(valid);
    return rc < 0 ? NULL : out;
}

struct export_job {
    uv_work_t w;
    char *dir, *name;             /* the folder, the torrent's name */
    uint8_t *data;
    size_t len;
    int rc;
    char *dest;                   /* the file written, or the one that failed */
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* tmp -> dir/name without replacing anything: -EEXIST when taken. */
static int place(const char *tmp, const char *dest)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    /* The filesystem cannot: a hard link is just as exclusive. */
    if (link(tmp, dest) != 0)
        return -errno;
    unlink(tmp);
    return 0;
}

static void work(uv_work_t *w)
{
    struct export_job *j = w->data;
    int rc = path_mkdirs(j->dir);
    char *tmp = NULL;
    int fd = -1;
    if (rc == 0 && asprintf(&tmp, "%s/.torrentd-export-XXXXXX", j->dir) < 0) {
        tmp = NULL;
        rc = -ENOMEM;
    }
    if (rc == 0 && (fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        rc = -errno;
    if (rc == 0)
        rc = write_all(fd, j->data, j->len);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = -errno;
    for (unsigned n = 0; rc == 0 && n < EXPORT_MAX_TRIES; n++) {
        char *file = export_file_name(j->name, n);
        free(j->dest);
        j->dest = NULL;
        if (!file || asprintf(&j->dest, "%s/%s", j->dir, file) < 0) {
            j->dest = NULL;
            rc = -ENOMEM;
        }
        free(file);
        if (rc != 0)
            break;
        rc = place(tmp, j->dest);
        if (rc == 0) {
            free(tmp);
            tmp = NULL;
            break;
        }
        if (rc == -EEXIST)
            rc = n + 1 < EXPORT_MAX_TRIES ? 0 : -EEXIST;
        else
            break;
    }
    if (tmp && fd >= 0)
        unlink(tmp);
    free(tmp);
    j->rc = rc;
}

static void done(uv_work_t *w, int status)
{
    struct export_job *j = w->data;
    int rc = status != 0 ? status : j->rc;
    if (rc != 0)
        log_msg(LOG_WARNING, "Failed to export torrent. Torrent: \"%s\". Destination: \"%s\". Reason: \"%s\"",
                j->name, j->dest ? j->dest : j->dir, strerror(-rc));
    free(j->dir);
    free(j->name);
    free(j->data);
    free(j->dest);
    free(j);
}

void export_torrent(struct torrent *t, const char *dir)
{
    if (!dir || !*dir || !t->mi)
        return;
    struct export_job *j = calloc(1, sizeof *j);
    if (!j)
        return;
    j->w.data = j;
    j->dir = strdup(dir);
    j->name = strdup(torrent_name(t));
    int rc = j->dir && j->name ? view_torrent_file(t, &j->data, &j->len) : -ENOMEM;
    if (rc == 0)
        rc = uv_queue_work(t->s->loop, &j->w, work, done);
    if (rc != 0) {
        log_msg(LOG_WARNING, "Failed to export torrent. Torrent: \"%s\". Destination: \"%s\". Reason: \"%s\"",
                torrent_name(t), dir, strerror(-rc));
        free(j->dir);
        free(j->name);
        free(j->data);
        free(j);
    }
}
