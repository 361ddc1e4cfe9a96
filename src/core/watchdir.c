/* watchdir — watched folders (watchdir.h). */
#include "core/watchdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "core/service.h"
#include "core/session.h"
#include "core/settings.h"
#include "store/record.h"
#include "util/log.h"

#define WATCHDIR_LIST_MAX 100000   /* entries looked at per job */

enum wd_mode { WD_FOLDER, WD_DEFAULT, WD_PATH };

/* A file seen before that is not to be added again while it is unchanged:
 * it did not parse (done false), or it was added but could not be removed. */
struct wd_known {
    char *name;
    int64_t size, mtime_ns;
    bool done;
};

struct wd_action {
    char *from, *to;   /* to NULL: delete */
};

struct wd_entry {
    char *name;
    int64_t size, mtime_ns, mtime_s;
    bool magnet;
    bool read;         /* data holds the file */
    bool too_big;
    uint8_t *data;
    size_t len;
};

struct wd_folder;

struct wd_job {
    uv_work_t w;
    struct wd_folder *f;
    /* in */
    char *dir;
    struct wd_known *known;     /* sorted by name; names borrowed from the folder */
    size_t nknown;
    struct wd_action *acts;
    size_t nacts;
    int64_t limit;              /* torrent_file_size_limit */
    /* out */
    struct wd_entry *ents;
    size_t nents, cap;
    bool more;                  /* files left unread: run again */
    int list_err;
    struct wd_known *act_failed;  /* files that could not be deleted/renamed */
    size_t nact_failed;
    size_t next;                /* loop side: the entry to process next */
};

struct wd_folder {
    struct watchdir *wd;
    char *path;
    enum wd_mode mode;
    char *save_path;            /* WD_PATH */
    bool ut, ut_delete;         /* µTorrent's autoload: .loaded or delete */
    uv_fs_event_t ev;
    bool ev_open;               /* initialised (closed by folder_stop) */
    bool ev_failed;             /* not watching: retried at each rescan */
    struct wd_job *job;         /* on the threadpool */
    struct wd_job *res;         /* being added on the loop */
    bool scan_wanted, settle_wanted;
    struct wd_known *known;
    size_t nknown;
    struct wd_action *acts;
    size_t nacts;
    bool removed;
    int list_err;               /* last listing error, logged when it changes */
    int refs;                   /* ev handle + job in flight + the folder list */
};

struct watchdir {
    struct session *s;
    struct wd_folder **f;
    size_t n;
    uv_timer_t rescan, events, settle, drain;
    bool closing;
    int refs;                   /* open timers + folders alive + 1 */
};

/* ---- memory ---- */

static void known_free(struct wd_known *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(k[i].name);
    free(k);
}

static void acts_free(struct wd_action *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].from);
        free(a[i].to);
    }
    free(a);
}

static void job_free(struct wd_job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->nents; i++) {
        free(j->ents[i].name);
        free(j->ents[i].data);
    }
    free(j->ents);
    free(j->dir);
    free(j->known);   /* names are the folder's */
    acts_free(j->acts, j->nacts);
    known_free(j->act_failed, j->nact_failed);
    free(j);
}

static void wd_unref(struct watchdir *wd)
{
    if (--wd->refs == 0)
        free(wd);
}

static void folder_unref(struct wd_folder *f)
{
    if (--f->refs > 0)
        return;
    struct watchdir *wd = f->wd;
    job_free(f->res);
    known_free(f->known, f->nknown);
    acts_free(f->acts, f->nacts);
    free(f->path);
    free(f->save_path);
    free(f);
    wd_unref(wd);
}

/* ---- the worker ---- */

static int known_cmp(const void *a, const void *b)
{
    return strcmp(((const struct wd_known *)a)->name, ((const struct wd_known *)b)->name);
}

static bool has_suffix(const char *name, const char *suf)
{
    size_t n = strlen(name), k = strlen(suf);
    return n >= k && strcasecmp(name + n - k, suf) == 0;
}

static int read_file(int dirfd, const char *name, size_t size, uint8_t **out, size_t *len)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    uint8_t *b = malloc(size ? size : 1);
    size_t got = 0;
    int rc = b ? 0 : -ENOMEM;
    while (rc == 0 && got < size) {
        ssize_t r = read(fd, b + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = -errno;
        else if (r == 0)
            break;   /* shrank meanwhile: what is there is parsed (and fails) */
        else
            got += (size_t)r;
    }
    close(fd);
    if (rc != 0) {
        free(b);
        return rc;
    }
    *out = b;
    *len = got;
    return 0;
}

static void failed_action(struct wd_job *j, const char *path)
{
    struct stat st;
    const char *slash = strrchr(path, '/');
    struct wd_known *n = realloc(j->act_failed, (j->nact_failed + 1) * sizeof *n);
    if (!n || stat(path, &st) != 0) {
        if (n)
            j->act_failed = n;
        return;
    }
    j->act_failed = n;
    struct wd_known *k = &n[j->nact_failed];
    k->name = strdup(slash ? slash + 1 : path);
    k->size = st.st_size;
    k->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    k->done = true;
    if (k->name)
        j->nact_failed++;
}

static void job_work(uv_work_t *w)
{
    struct wd_job *j = w->data;
    /* What the last batch decided, before listing again. */
    for (size_t i = 0; i < j->nacts; i++) {
        struct wd_action *a = &j->acts[i];
        int rc = a->to ? rename(a->from, a->to) : unlink(a->from);
        if (rc != 0 && errno != ENOENT) {
            log_msg(LOG_WARNING, "Watched folder: cannot %s %s: %s", a->to ? "rename" : "delete", a->from,
                    strerror(errno));
            failed_action(j, a->from);
        }
    }
    DIR *d = opendir(j->dir);
    if (!d) {
        j->list_err = -errno;
        return;
    }
    int dfd = dirfd(d);
    size_t nread = 0, bytes = 0, seen = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && seen < WATCHDIR_LIST_MAX) {
        const char *name = de->d_name;
        if (name[0] == '.')
            continue;   /* hidden, as qBittorrent's QDirIterator skips them (and editors' temporaries) */
        bool magnet = has_suffix(name, ".magnet");
        if (!magnet && !has_suffix(name, ".torrent"))
            continue;
        seen++;
        struct stat st;
        /* Followed: a link to a file is that file; a loop (ELOOP), a
         * dangling link or a directory is no file and is left alone. */
        if (fstatat(dfd, name, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (j->nents == j->cap) {
            size_t cap = j->cap ? j->cap * 2 : 64;
            struct wd_entry *n = realloc(j->ents, cap * sizeof *n);
            if (!n) {
                j->more = true;
                break;
            }
            j->ents = n;
            j->cap = cap;
        }
        struct wd_entry *e = &j->ents[j->nents];
        memset(e, 0, sizeof *e);
        if (!(e->name = strdup(name)))
            break;
        j->nents++;
        e->magnet = magnet;
        e->size = st.st_size;
        e->mtime_s = st.st_mtim.tv_sec;
        e->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        struct wd_known key = {.name = (char *)name};
        const struct wd_known *k = j->nknown ? bsearch(&key, j->known, j->nknown, sizeof key, known_cmp) : NULL;
        if (k && k->size == e->size && k->mtime_ns == e->mtime_ns)
            continue;   /* unchanged since it failed (or was added) */
        uint64_t limit = magnet ? WATCHDIR_MAGNET_MAX : j->limit > 0 ? (uint64_t)j->limit : UINT64_MAX;
        if ((uint64_t)e->size > limit) {
            e->too_big = true;
            continue;
        }
        if (nread > 0 && (nread >= WATCHDIR_BATCH_FILES || bytes + (size_t)e->size > WATCHDIR_BATCH_BYTES)) {
            j->more = true;   /* the next job reads it */
            continue;
        }
        if (read_file(dfd, name, (size_t)e->size, &e->data, &e->len) == 0) {
            e->read = true;
            nread++;
            bytes += e->len;
        }
    }
    if (de && seen >= WATCHDIR_LIST_MAX)
        j->more = true;
    closedir(d);
}

/* ---- the loop side ---- */

static void job_done(uv_work_t *w, int status);
static void on_drain(uv_timer_t *h);
static void on_settle(uv_timer_t *h);
static void on_fs_event(uv_fs_event_t *h, const char *name, int events, int status);

static char *path_in(const struct wd_folder *f, const char *name, const char *suffix)
{
    char *p = NULL;
    if (asprintf(&p, "%s%s%s%s", f->path, strcmp(f->path, "/") == 0 ? "" : "/", name, suffix) < 0)
        return NULL;
    return p;
}

static void push_action(struct wd_folder *f, const char *name, const char *suffix)
{
    struct wd_action *n = realloc(f->acts, (f->nacts + 1) * sizeof *n);
    if (!n)
        return;
    f->acts = n;
    struct wd_action *a = &n[f->nacts];
    a->from = path_in(f, name, "");
    a->to = suffix ? path_in(f, name, suffix) : NULL;
    if (!a->from || (suffix && !a->to)) {
        free(a->from);
        free(a->to);
        return;
    }
    f->nacts++;
}

static struct wd_known *known_find(struct wd_folder *f, const char *name)
{
    struct wd_known key = {.name = (char *)name};
    return f->nknown ? bsearch(&key, f->known, f->nknown, sizeof key, known_cmp) : NULL;
}

static void known_remove(struct wd_folder *f, struct wd_known *k)
{
    free(k->name);
    size_t i = (size_t)(k - f->known);
    memmove(k, k + 1, (f->nknown - i - 1) * sizeof *k);
    f->nknown--;
}

static void known_put(struct wd_folder *f, const char *name, int64_t size, int64_t mtime_ns, bool done)
{
    struct wd_known *k = known_find(f, name);
    if (!k) {
        struct wd_known *n = realloc(f->known, (f->nknown + 1) * sizeof *n);
        char *dup = strdup(name);
        if (!n || !dup) {
            if (n)
                f->known = n;
            free(dup);
            return;
        }
        f->known = n;
        k = &n[f->nknown++];
        k->name = dup;
        k->size = size;
        k->mtime_ns = mtime_ns;
        k->done = done;
        qsort(f->known, f->nknown, sizeof *f->known, known_cmp);
        return;
    }
    k->size = size;
    k->mtime_ns = mtime_ns;
    k->done = done;
}

static void scan(struct wd_folder *f)
{
    struct watchdir *wd = f->wd;
    if (wd->closing || f->removed)
        return;
    if (f->job || f->res) {
        f->scan_wanted = true;   /* again once this one is through */
        return;
    }
    f->scan_wanted = false;
    struct wd_job *j = calloc(1, sizeof *j);
    if (!j || !(j->dir = strdup(f->path)) || (f->nknown && !(j->known = malloc(f->nknown * sizeof *j->known)))) {
        job_free(j);
        return;
    }
    j->w.data = j;
    j->f = f;
    j->nknown = f->nknown;
    if (f->nknown)
        memcpy(j->known, f->known, f->nknown * sizeof *j->known);
    j->acts = f->acts;
    j->nacts = f->nacts;
    f->acts = NULL;
    f->nacts = 0;
    j->limit = settings_int(&wd->s->settings, SET_TORRENT_FILE_SIZE_LIMIT);
    if (uv_queue_work(wd->s->loop, &j->w, job_work, job_done) != 0) {
        f->acts = j->acts;   /* kept for the next try */
        f->nacts = j->nacts;
        j->acts = NULL;
        j->nacts = 0;
        job_free(j);
        return;
    }
    f->job = j;
    f->refs++;
}

static int add_opts(struct wd_folder *f, struct service_add_opts *o)
{
    struct session *s = f->wd->s;
    int rc = service_add_opts_defaults(s, o);
    if (rc == 0 && f->mode != WD_DEFAULT) {
        o->p.auto_tmm = false;
        if (!(o->save_path = strdup(f->mode == WD_FOLDER ? f->path : f->save_path)))
            rc = -ENOMEM;
    }
    if (rc == 0)
        rc = service_add_opts_resolve(s, o);
    return rc;
}

/* The file was used: deleted, or renamed .loaded for µTorrent's autoload
 * without dir_autoload_delete. */
static void consumed(struct wd_folder *f, const struct wd_entry *e)
{
    struct wd_known *k = known_find(f, e->name);
    if (k)
        known_remove(f, k);
    push_action(f, e->name, f->ut && !f->ut_delete ? ".loaded" : NULL);
}

static void reject(struct wd_folder *f, const struct wd_entry *e, const char *why)
{
    log_msg(LOG_WARNING, "Rejecting failed torrent file: %s/%s (%s); renamed to %s.qbt_rejected", f->path, e->name,
            why, e->name);
    struct wd_known *k = known_find(f, e->name);
    if (k)
        known_remove(f, k);
    push_action(f, e->name, ".qbt_rejected");
}

static void add_magnets(struct wd_folder *f, struct wd_entry *e, const struct service_add_opts *o)
{
    char *text = malloc(e->len + 1);
    if (!text)
        return;
    memcpy(text, e->data, e->len);
    text[e->len] = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t' || *line == '\r')
            line++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (!*line)
            continue;
        int rc = service_add_uri(f->wd->s, line, o, NULL, NULL);
        if (rc != 0 && rc != -EEXIST)
            log_msg(LOG_WARNING, "Invalid Magnet URI. URI: %s. File: %s/%s", line, f->path, e->name);
    }
    free(text);
}

/* One entry of a finished listing; returns true when it cost an add. */
static bool process(struct wd_folder *f, struct wd_entry *e, int64_t now_s)
{
    struct wd_known *k = known_find(f, e->name);
    if (e->too_big) {
        reject(f, e, "larger than the size limit");
        return false;
    }
    if (!e->read) {
        /* Unchanged since it failed: give up once it has been left alone. */
        if (k && !k->done && k->size == e->size && k->mtime_ns == e->mtime_ns && now_s - e->mtime_s >= WATCHDIR_REJECT_S)
            reject(f, e, "not a valid torrent file");
        return false;
    }
    if (e->magnet && now_s - e->mtime_s < WATCHDIR_MAGNET_SETTLE_S) {
        /* May still be being written: look again shortly. */
        f->settle_wanted = true;
        if (!uv_is_active((uv_handle_t *)&f->wd->settle))
            uv_timer_start(&f->wd->settle, on_settle, WATCHDIR_MAGNET_SETTLE_S * 1000 + 100, 0);
        return false;
    }
    struct service_add_opts o;
    if (add_opts(f, &o) != 0) {
        service_add_opts_free(&o);
        return false;
    }
    if (e->magnet) {
        add_magnets(f, e, &o);
        consumed(f, e);
    } else {
        char err[256] = "";
        int rc = service_add_torrent(f->wd->s, e->data, e->len, &o, NULL, NULL, err, sizeof err);
        if (rc == -EBADMSG) {
            /* Perhaps half written: read again when it changes. */
            log_debug("watched folder: %s/%s does not parse yet: %s", f->path, e->name, err);
            known_put(f, e->name, e->size, e->mtime_ns, false);
        } else {
            consumed(f, e);   /* added, or a duplicate (qBittorrent removes it too) */
        }
    }
    service_add_opts_free(&o);
    return true;
}

static void arm_drain(struct watchdir *wd)
{
    if (!wd->closing && !uv_is_active((uv_handle_t *)&wd->drain))
        uv_timer_start(&wd->drain, on_drain, 0, 0);
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct wd_entry *)a)->name, ((const struct wd_entry *)b)->name);
}

/* Files that left the folder are forgotten (the listing is processed: its
 * order no longer matters, so it is sorted to look names up). */
static void prune_known(struct wd_folder *f, struct wd_job *j)
{
    if (j->more || f->nknown == 0)
        return;   /* the listing may be partial */
    qsort(j->ents, j->nents, sizeof *j->ents, entry_cmp);
    for (size_t i = f->nknown; i-- > 0;) {
        struct wd_entry key = {.name = f->known[i].name};
        if (!j->nents || !bsearch(&key, j->ents, j->nents, sizeof key, entry_cmp))
            known_remove(f, &f->known[i]);
    }
}

static void on_drain(uv_timer_t *h)
{
    struct watchdir *wd = h->data;
    int64_t now_s = (int64_t)time(NULL);
    int budget = WATCHDIR_ADDS_PER_TURN;
    bool again = false;
    for (size_t i = 0; i < wd->n; i++) {
        struct wd_folder *f = wd->f[i];
        struct wd_job *j = f->res;
        while (j && j->next < j->nents && budget > 0)
            budget -= process(f, &j->ents[j->next++], now_s);
        if (!j)
            continue;
        if (j->next < j->nents) {
            again = true;
            continue;
        }
        prune_known(f, j);
        bool more = j->more;
        f->res = NULL;
        job_free(j);
        if (more || f->nacts || f->scan_wanted)
            scan(f);
    }
    if (again)
        arm_drain(wd);
}

static void job_done(uv_work_t *w, int status)
{
    struct wd_job *j = w->data;
    struct wd_folder *f = j->f;
    struct watchdir *wd = f->wd;
    f->job = NULL;
    if (status != 0 || wd->closing || f->removed) {
        job_free(j);
        folder_unref(f);
        return;
    }
    for (size_t i = 0; i < j->nact_failed; i++)
        known_put(f, j->act_failed[i].name, j->act_failed[i].size, j->act_failed[i].mtime_ns, true);
    if (j->list_err != f->list_err) {
        f->list_err = j->list_err;
        if (j->list_err)
            log_msg(LOG_WARNING, "Watched folder %s cannot be read: %s", f->path, strerror(-j->list_err));
    }
    f->res = j;
    j->next = 0;
    folder_unref(f);   /* the job's reference; the list still holds one */
    arm_drain(wd);
}

/* ---- timers and events ---- */

static void on_rescan(uv_timer_t *h)
{
    struct watchdir *wd = h->data;
    for (size_t i = 0; i < wd->n; i++) {
        struct wd_folder *f = wd->f[i];
        /* A folder that was missing may be there now. */
        if (f->ev_failed && uv_fs_event_start(&f->ev, on_fs_event, f->path, 0) == 0)
            f->ev_failed = false;
        scan(f);
    }
}

static void on_events_due(uv_timer_t *h)
{
    struct watchdir *wd = h->data;
    for (size_t i = 0; i < wd->n; i++) {
        if (wd->f[i]->scan_wanted) {
            wd->f[i]->scan_wanted = false;
            scan(wd->f[i]);
        }
    }
}

static void on_settle(uv_timer_t *h)
{
    struct watchdir *wd = h->data;
    for (size_t i = 0; i < wd->n; i++) {
        if (wd->f[i]->settle_wanted) {
            wd->f[i]->settle_wanted = false;
            scan(wd->f[i]);
        }
    }
}

static void on_fs_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)events;
    struct wd_folder *f = h->data;
    struct watchdir *wd = f->wd;
    if (status != 0 || f->removed || wd->closing)
        return;
    if (name && !has_suffix(name, ".torrent") && !has_suffix(name, ".magnet"))
        return;   /* our own .loaded / .qbt_rejected renames, other files */
    f->scan_wanted = true;
    if (!uv_is_active((uv_handle_t *)&wd->events))
        uv_timer_start(&wd->events, on_events_due, WATCHDIR_EVENT_DELAY_MS, 0);
}

static void ev_closed(uv_handle_t *h)
{
    folder_unref(h->data);
}

/* Drops the folder from use: its handle closes, the list's reference goes;
 * a job in flight keeps it until it returns. */
static void folder_stop(struct wd_folder *f)
{
    f->removed = true;
    if (f->ev_open) {
        f->ev_open = false;
        uv_close((uv_handle_t *)&f->ev, ev_closed);
    } else {
        folder_unref(f);   /* no handle: its reference at once */
    }
    folder_unref(f);
}

static struct wd_folder *folder_new(struct watchdir *wd, const char *path)
{
    struct wd_folder *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return NULL;
    }
    f->wd = wd;
    f->refs = 2;   /* the folder list, and the fs event handle (or its stand-in) */
    wd->refs++;
    uv_fs_event_init(wd->s->loop, &f->ev);
    f->ev.data = f;
    f->ev_open = true;
    int rc = uv_fs_event_start(&f->ev, on_fs_event, path, 0);
    if (rc != 0) {
        /* No events (missing folder, inotify limits): the rescan finds the files. */
        f->ev_failed = true;
        log_msg(LOG_INFO, "Watched folder %s: no change events (%s), rescanning every %d s", path, uv_strerror(rc),
                WATCHDIR_RESCAN_MS / 1000);
    }
    log_msg(LOG_INFO, "Watching folder: \"%s\"", path);
    return f;
}

/* ---- the settings ---- */

struct want {
    char *path;
    enum wd_mode mode;
    char *save_path;
    bool ut, ut_delete;
};

/* A folder path as qBittorrent keeps it: no trailing slash. */
static char *clean_dir(const char *p)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    return strndup(p, n);
}

static void want_add(struct want **v, size_t *n, char *path, enum wd_mode mode, const char *save, bool ut,
                     bool ut_delete)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*v)[i].path, path) == 0) {
            log_msg(LOG_WARNING, "Watched folder %s is given twice; the first setting counts", path);
            free(path);
            return;
        }
    }
    struct want *nv = realloc(*v, (*n + 1) * sizeof *nv);
    char *sp = save ? strdup(save) : NULL;
    if (!nv || (save && !sp)) {
        if (nv)
            *v = nv;
        free(path);
        free(sp);
        return;
    }
    *v = nv;
    nv[(*n)++] = (struct want){path, mode, sp, ut, ut_delete};
}

static void apply(struct watchdir *wd)
{
    struct session *s = wd->s;
    const struct settings *p = &s->settings;
    struct want *v = NULL;
    size_t n = 0;
    struct record_scan_dir *dirs = NULL;
    size_t nd = 0;
    if (record_scan_dirs_decode(settings_str(p, SET_SCAN_DIRS), &dirs, &nd) != 0)
        log_msg(LOG_WARNING, "scan_dirs is not a JSON object; no qBittorrent watched folders");
    for (size_t i = 0; i < nd; i++) {
        if (dirs[i].folder[0] != '/') {
            log_msg(LOG_WARNING, "Watched folder \"%s\" ignored: the path must be absolute", dirs[i].folder);
            continue;
        }
        enum wd_mode m = dirs[i].mode == RECORD_SCAN_FOLDER ? WD_FOLDER
                       : dirs[i].mode == RECORD_SCAN_PATH   ? WD_PATH
                                                            : WD_DEFAULT;
        char *path = clean_dir(dirs[i].folder);
        if (path)
            want_add(&v, &n, path, m, m == WD_PATH ? dirs[i].path : NULL, false, false);
    }
    record_scan_dirs_free(dirs, nd);
    const char *ut = settings_str(p, SET_UT_DIR_AUTOLOAD);
    if (*ut) {
        char *abs = NULL;
        if (ut[0] != '/') {
            char cwd[4096];
            size_t len = sizeof cwd;
            if (uv_cwd(cwd, &len) == 0 && asprintf(&abs, "%s/%s", cwd, ut) < 0)
                abs = NULL;
        }
        char *path = clean_dir(abs ? abs : ut);
        free(abs);
        if (path)
            want_add(&v, &n, path, WD_DEFAULT, NULL, true, settings_bool(p, SET_UT_DIR_AUTOLOAD_DELETE));
    }
    /* Keep the folders still wanted (their state: files that failed),
     * forget the others, start the new ones. */
    struct wd_folder **nf = calloc(n ? n : 1, sizeof *nf);
    if (!nf)
        goto out;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < wd->n; k++) {
            if (wd->f[k] && strcmp(wd->f[k]->path, v[i].path) == 0) {
                nf[i] = wd->f[k];
                wd->f[k] = NULL;
                break;
            }
        }
        if (!nf[i])
            nf[i] = folder_new(wd, v[i].path);
        if (!nf[i])
            continue;
        struct wd_folder *f = nf[i];
        f->mode = v[i].mode;
        free(f->save_path);
        f->save_path = v[i].save_path;
        v[i].save_path = NULL;
        f->ut = v[i].ut;
        f->ut_delete = v[i].ut_delete;
        scan(f);
    }
    for (size_t k = 0; k < wd->n; k++) {
        if (wd->f[k]) {
            log_msg(LOG_INFO, "No longer watching folder: \"%s\"", wd->f[k]->path);
            folder_stop(wd->f[k]);
        }
    }
    free(wd->f);
    /* Folders that could not be made (ENOMEM) leave holes: close them up. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (nf[i])
            nf[m++] = nf[i];
    wd->f = nf;
    wd->n = m;
out:
    for (size_t i = 0; i < n; i++) {
        free(v[i].path);
        free(v[i].save_path);
    }
    free(v);
}

static void on_settings(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    struct session *s = ud;
    if (s->watchdir)
        apply(s->watchdir);
}

static void timer_closed(uv_handle_t *h)
{
    wd_unref(h->data);
}

int watchdir_start(struct session *s)
{
    struct watchdir *wd = calloc(1, sizeof *wd);
    if (!wd)
        return -ENOMEM;
    wd->s = s;
    wd->refs = 1;
    uv_timer_t *timers[] = {&wd->rescan, &wd->events, &wd->settle, &wd->drain};
    for (size_t i = 0; i < 4; i++) {
        uv_timer_init(s->loop, timers[i]);
        timers[i]->data = wd;
        wd->refs++;
    }
    s->watchdir = wd;
    uv_timer_start(&wd->rescan, on_rescan, WATCHDIR_RESCAN_MS, WATCHDIR_RESCAN_MS);
    apply(wd);
    return settings_add_hook(&s->settings, SG_WATCHDIR, on_settings, s);
}

void watchdir_close(struct session *s)
{
    struct watchdir *wd = s->watchdir;
    if (!wd)
        return;
    s->watchdir = NULL;
    wd->closing = true;
    uv_timer_t *timers[] = {&wd->rescan, &wd->events, &wd->settle, &wd->drain};
    for (size_t i = 0; i < 4; i++)
        uv_close((uv_handle_t *)timers[i], timer_closed);
    for (size_t i = 0; i < wd->n; i++) {
        job_free(wd->f[i]->res);
        wd->f[i]->res = NULL;
        folder_stop(wd->f[i]);
    }
    free(wd->f);
    wd->f = NULL;
    wd->n = 0;
    wd_unref(wd);
}

size_t watchdir_count(const struct session *s)
{
    return s->watchdir ? s->watchdir->n : 0;
}
