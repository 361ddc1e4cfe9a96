/* runprog — external programs for torrent events (runprog.h). */
#include "core/runprog.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <uv.h>

#include "core/session.h"
#include "core/settings.h"
#include "core/torrent.h"
#include "core/view.h"
#include "util/buf.h"
#include "util/log.h"

#define RUNPROG_TICK_MS 1000
#define RUNPROG_LINE_MAX 512   /* a longer line is logged in pieces */

/* ---- splitting and placeholders ---- */

static int push_word(char ***v, size_t *n, const char *s, size_t len)
{
    /* qBittorrent strips one pair of quotes around a whole word
     * ("strip redundant quotes"); a lone '"' becomes "". */
    if (len >= 1 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len = len >= 2 ? len - 2 : 0;
    }
    char **nv = realloc(*v, (*n + 2) * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    *v = nv;
    if (!(nv[*n] = strndup(s, len)))
        return -ENOMEM;
    nv[++*n] = NULL;
    return 0;
}

int runprog_split(const char *cmdline, char ***argv, size_t *argc)
{
    char **v = calloc(1, sizeof *v);
    size_t n = 0;
    int rc = v ? 0 : -ENOMEM;
    const char *start = NULL;
    bool quoted = false;
    for (const char *p = cmdline; rc == 0; p++) {
        if (*p == '\0' || (*p == ' ' && !quoted)) {
            if (start)
                rc = push_word(&v, &n, start, (size_t)(p - start));
            start = NULL;
            if (*p == '\0')
                break;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;   /* the quote stays in the word, as in qBittorrent */
        if (!start)
            start = p;
    }
    if (rc != 0) {
        runprog_argv_free(v);
        return rc;
    }
    *argv = v;
    *argc = n;
    return 0;
}

void runprog_argv_free(char **argv)
{
    for (char **p = argv; p && *p; p++)
        free(*p);
    free(argv);
}

char *runprog_expand(const char *word, const char *(*value)(void *ud, char c), void *ud)
{
    /* qBittorrent walks from the right: a '%' at i takes word[i+1] and the
     * character left of it is skipped, so "%%N" is "%" + the name.  Every
     * decision depends on the original text only, and a value is never
     * looked at again. */
    size_t len = strlen(word);
    bool *at = len ? calloc(len, sizeof *at) : NULL;
    if (len && !at)
        return NULL;
    for (size_t i = len >= 2 ? len - 1 : 0; i-- > 0;) {
        if (word[i] != '%')
            continue;
        at[i] = value(ud, word[i + 1]) != NULL;
        if (i == 0)
            break;
        i--;   /* skip the character left of the '%' */
    }
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (at[i]) {
            buf_append_str(&b, value(ud, word[i + 1]));
            i++;
        } else {
            buf_append(&b, &word[i], 1);
        }
    }
    free(at);
    char *out = (char *)buf_steal(&b, NULL);
    buf_free(&b);
    return out;
}

int runprog_ut_state(enum torrent_state st, int super_seeding)
{
    switch (st) {
    case TORRENT_STATE_ERROR:
    case TORRENT_STATE_MISSING_FILES: return 1;
    case TORRENT_STATE_CHECKING_DL:
    case TORRENT_STATE_CHECKING_UP: return 2;
    case TORRENT_STATE_UPLOADING:
    case TORRENT_STATE_STALLED_UP: return super_seeding ? 4 : 5;
    case TORRENT_STATE_METADATA:
    case TORRENT_STATE_DOWNLOADING:
    case TORRENT_STATE_STALLED_DL: return 6;
    case TORRENT_STATE_UPLOADING_FORCED: return super_seeding ? 7 : 8;
    case TORRENT_STATE_METADATA_FORCED:
    case TORRENT_STATE_DOWNLOADING_FORCED: return 9;
    case TORRENT_STATE_QUEUED_UP: return 10;
    case TORRENT_STATE_STOPPED_UP: return 11;
    case TORRENT_STATE_QUEUED_DL: return 12;
    case TORRENT_STATE_STOPPED_DL: return 13;
    /* No µTorrent number: the last one reported stands. */
    case TORRENT_STATE_CHECKING_RESUME:
    case TORRENT_STATE_MOVING:
    case TORRENT_STATE_COUNT: break;
    }
    return 0;
}

/* µTorrent's status text for %M. */
static const char *ut_message(int state)
{
    static const char *const m[] = {
        "", "Error", "Checked", "Paused", "Super Seeding", "Seeding", "Downloading", "[F] Super Seeding",
        "[F] Seeding", "[F] Downloading", "Queued Seed", "Finished", "Queued", "Stopped",
    };
    return state > 0 && state < (int)(sizeof m / sizeof m[0]) ? m[state] : "";
}

/* ---- the values of one torrent ---- */

enum vocab { VOCAB_QBT, VOCAB_UT };

struct vars {
    enum vocab vocab;
    char *name, *category, *tags, *content, *root, *save, *tracker, *v1, *v2, *id, *num_files, *size;
    char *ut_file, *ut_dir, *ut_state, *ut_prev, *ut_msg, *ut_hash;
};

static void vars_free(struct vars *v)
{
    char **f[] = {&v->name, &v->category, &v->tags, &v->content, &v->root, &v->save, &v->tracker, &v->v1,
                  &v->v2, &v->id, &v->num_files, &v->size, &v->ut_file, &v->ut_dir, &v->ut_state, &v->ut_prev,
                  &v->ut_msg, &v->ut_hash};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        free(*f[i]);
        *f[i] = NULL;
    }
}

static char *join(const char *a, const char *b)
{
    char *s = NULL;
    if (asprintf(&s, "%s%s%s", a, *a && a[strlen(a) - 1] != '/' ? "/" : "", b) < 0)
        return NULL;
    return s;
}

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dupf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* qBittorrent's actualStorageLocation: where the files are now. */
static const char *storage_dir(const struct torrent *t)
{
    return t->data_in_download && t->download_path ? t->download_path : t->save_path;
}

/* Fills every value (both vocabularies: cheap, and one code path). */
static int vars_fill(struct vars *v, struct torrent *t, int state, int prev)
{
    struct buf tags = BUF_INIT;
    for (size_t i = 0; i < t->tags.n; i++) {
        buf_append_str(&tags, i ? "," : "");
        buf_append_str(&tags, t->tags.v[i]);
    }
    v->tags = (char *)buf_steal(&tags, NULL);
    buf_free(&tags);
    const char *dir = storage_dir(t);
    size_t nfiles = view_file_count(t);
    const char *root = torrent_root_folder(t);
    struct view_file f0 = {0};
    bool single = nfiles == 1 && view_file(t, 0, &f0) == 0;
    v->name = strdup(torrent_name(t));
    v->category = strdup(t->category ? t->category : "");
    v->save = strdup(t->save_path ? t->save_path : "");
    v->root = t->mi && root ? join(dir, root) : strdup("");
    if (!t->mi)
        v->content = strdup("");
    else if (single)
        v->content = join(dir, f0.path);
    else
        v->content = strdup(v->root && *v->root ? v->root : dir);
    const char *trk = view_tracker_current(t);
    struct view_tracker vt;
    if (!trk && view_tracker(t, 0, &vt))
        trk = vt.url;
    v->tracker = strdup(trk ? trk : "");
    const char *h1 = view_info_hash_v1_hex(t), *h2 = view_info_hash_v2_hex(t);
    v->v1 = strdup(*h1 ? h1 : "-");
    v->v2 = strdup(*h2 ? h2 : "-");
    v->id = strdup(t->hex);
    struct view_meta m;
    view_meta(t, &m);
    int64_t total = 0;
    for (size_t i = 0; i < nfiles; i++) {
        struct view_file f;
        if (view_file(t, i, &f) == 0)
            total += f.size;
    }
    v->num_files = dupf("%zu", nfiles);
    v->size = dupf("%" PRId64, total);
    /* µTorrent: %D the folder the data is in (a single file's own folder),
     * %F that file's name, only for single-file torrents. */
    if (single) {
        const char *slash = strrchr(f0.path, '/');
        v->ut_file = strdup(slash ? slash + 1 : f0.path);
        char *sub = slash ? strndup(f0.path, (size_t)(slash - f0.path)) : NULL;
        v->ut_dir = sub ? join(dir, sub) : strdup(dir);
        free(sub);
    } else {
        v->ut_file = strdup("");
        v->ut_dir = strdup(v->content && *v->content ? v->content : dir);
    }
    v->ut_state = dupf("%d", state);
    v->ut_prev = dupf("%d", prev);
    if (state == 1 && t->error)
        v->ut_msg = dupf("Error: %s", t->error);
    else
        v->ut_msg = strdup(ut_message(state));
    v->ut_hash = strdup(t->hex);
    for (char *p = v->ut_hash; p && *p; p++)
        *p = (char)toupper((unsigned char)*p);
    char **all[] = {&v->name, &v->category, &v->tags, &v->content, &v->root, &v->save, &v->tracker, &v->v1,
                    &v->v2, &v->id, &v->num_files, &v->size, &v->ut_file, &v->ut_dir, &v->ut_state,
                    &v->ut_prev, &v->ut_msg, &v->ut_hash};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!*all[i])
            return -ENOMEM;
    return 0;
}

static const char *var_value(void *ud, char c)
{
    const struct vars *v = ud;
    if (v->vocab == VOCAB_QBT) {
        switch (c) {
        case 'C': return v->num_files;
        case 'D': return v->save;
        case 'F': return v->content;
        case 'G': return v->tags;
        case 'I': return v->v1;
        case 'J': return v->v2;
        case 'K': return v->id;
        case 'L': return v->category;
        case 'N': return v->name;
        case 'R': return v->root;
        case 'T': return v->tracker;
        case 'Z': return v->size;
        default: return NULL;
        }
    }
    switch (c) {
    case 'F': return v->ut_file;
    case 'D': return v->ut_dir;
    case 'N': return v->name;
    case 'S': return v->ut_state;
    case 'P': return v->ut_prev;
    case 'L': return v->category;
    case 'T': return v->tracker;
    case 'M': return v->ut_msg;
    case 'I': return v->ut_hash;
    default: return NULL;
    }
}

/* ---- processes ---- */

struct job {
    struct job *next;
    char **argv;
    char *torrent;   /* name, for the log */
    char *shown;     /* the command with its placeholders replaced, for the log */
};

struct stream {
    uv_pipe_t pipe;
    struct proc *pr;
    char line[RUNPROG_LINE_MAX];
    size_t len;
    bool open;
};

struct proc {
    uv_process_t h;
    struct proc *next, *prev;   /* rp->procs, until the process handle closes */
    struct runprog *rp;
    struct stream out, err;
    char *prog;
    int pid;
    size_t logged;       /* output bytes logged so far */
    bool truncated;
    bool running;        /* counted in rp->running until its exit */
    int handles;         /* open uv handles; freed at 0 */
};

struct runprog {
    struct session *s;
    struct job *head, *tail;
    size_t queued, running;
    uv_timer_t tick;
    bool ticking;
    uint64_t seq;        /* change_seq already compared */
    struct proc *procs;  /* spawned, process handle not yet closed */
    bool closing;
    size_t handles;      /* procs not yet freed + the timer */
};

static void job_free(struct job *j)
{
    runprog_argv_free(j->argv);
    free(j->torrent);
    free(j->shown);
    free(j);
}

static void maybe_free_rp(struct runprog *rp)
{
    if (rp->closing && rp->handles == 0) {
        while (rp->head) {
            struct job *j = rp->head;
            rp->head = j->next;
            job_free(j);
        }
        free(rp);
    }
}

static void proc_unlink(struct proc *pr)
{
    if (pr->prev)
        pr->prev->next = pr->next;
    else if (pr->rp->procs == pr)
        pr->rp->procs = pr->next;
    if (pr->next)
        pr->next->prev = pr->prev;
    pr->next = pr->prev = NULL;
}

/* One of pr's handles has closed; the last frees it. */
static void proc_release(struct proc *pr)
{
    if (--pr->handles > 0)
        return;
    struct runprog *rp = pr->rp;
    free(pr->prog);
    free(pr);
    rp->handles--;
    maybe_free_rp(rp);
}

static void proc_handle_closed(uv_handle_t *h)
{
    proc_release(h->data);
}

static void pipe_closed(uv_handle_t *h)
{
    struct stream *st = h->data;
    proc_release(st->pr);
}

static void log_line(struct proc *pr, struct stream *st)
{
    if (st->len == 0)
        return;
    if (pr->logged < RUNPROG_LOG_BYTES) {
        log_msg(LOG_INFO, "External program %s (pid %d) %s: %.*s", pr->prog, pr->pid,
                st == &pr->out ? "output" : "error output", (int)st->len, st->line);
        pr->logged += st->len;
    } else if (!pr->truncated) {
        pr->truncated = true;
        log_msg(LOG_INFO, "External program %s (pid %d): further output not logged", pr->prog, pr->pid);
    }
    st->len = 0;
}

static void take_output(struct proc *pr, struct stream *st, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            log_line(pr, st);
            continue;
        }
        if (st->len == sizeof st->line)
            log_line(pr, st);
        st->line[st->len++] = p[i] == '\r' || p[i] == '\0' ? ' ' : p[i];
    }
}

static void close_stream(struct stream *st)
{
    if (!st->open)
        return;
    st->open = false;
    log_line(st->pr, st);
    uv_close((uv_handle_t *)&st->pipe, pipe_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    static char mem[4096];   /* the loop thread's; data is used before the next read */
    (void)suggested;
    *b = uv_buf_init(mem, sizeof mem);
}

static void on_read(uv_stream_t *h, ssize_t n, const uv_buf_t *b)
{
    struct stream *st = h->data;
    if (n > 0)
        take_output(st->pr, st, b->base, (size_t)n);
    else if (n < 0)
        close_stream(st);
}

/* What the child wrote before it exited is still in the pipe: read it now
 * (the fd is non-blocking), then close.  A grandchild that kept the pipe
 * open cannot hold the handle (or a slot) forever. */
static void drain_and_close(struct stream *st)
{
    if (!st->open)
        return;
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&st->pipe, &fd) == 0) {
        char b[4096];
        ssize_t n;
        for (int k = 0; k < 16 && (n = read(fd, b, sizeof b)) > 0; k++)
            take_output(st->pr, st, b, (size_t)n);
    }
    close_stream(st);
}

static void pump(struct runprog *rp);

static void on_exit_cb(uv_process_t *h, int64_t status, int sig)
{
    struct proc *pr = h->data;
    struct runprog *rp = pr->rp;
    drain_and_close(&pr->out);
    drain_and_close(&pr->err);
    if (sig)
        log_msg(LOG_WARNING, "External program %s (pid %d) was killed by signal %d", pr->prog, pr->pid, sig);
    else
        log_msg(status == 0 ? LOG_INFO : LOG_WARNING, "External program %s (pid %d) exited with code %" PRId64,
                pr->prog, pr->pid, status);
    pr->running = false;
    rp->running--;
    proc_unlink(pr);
    uv_close((uv_handle_t *)h, proc_handle_closed);
    pump(rp);
}

/* libuv closes nothing in the child but what has FD_CLOEXEC, and not every
 * library sets it (curl's wake-up socket pair does not): every descriptor
 * above stderr gets it first, so a program (and whatever it leaves running)
 * never holds the daemon's sockets or database open.  One close_range call;
 * the /proc walk only on kernels before 5.11. */
void runprog_cloexec_all(void)
{
    if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int self = dirfd(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        int fd = atoi(de->d_name);
        int fl;
        if (fd > 2 && fd != self && (fl = fcntl(fd, F_GETFD)) >= 0 && !(fl & FD_CLOEXEC))
            fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
    }
    closedir(d);
}

static int spawn(struct runprog *rp, struct job *j)
{
    struct proc *pr = calloc(1, sizeof *pr);
    if (!pr || !(pr->prog = strdup(j->argv[0]))) {
        free(pr);
        return -ENOMEM;
    }
    uv_loop_t *loop = rp->s->loop;
    pr->rp = rp;
    pr->h.data = pr;
    struct stream *sts[2] = {&pr->out, &pr->err};
    for (int i = 0; i < 2; i++) {
        uv_pipe_init(loop, &sts[i]->pipe, 0);
        sts[i]->pipe.data = sts[i];
        sts[i]->pr = pr;
        sts[i]->open = true;
        pr->handles++;
    }
    uv_stdio_container_t io[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&pr->out.pipe},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&pr->err.pipe},
    };
    uv_process_options_t o = {
        .exit_cb = on_exit_cb,
        .file = j->argv[0],
        .args = j->argv,
        .flags = UV_PROCESS_DETACHED,
        .stdio_count = 3,
        .stdio = io,
    };
    rp->handles++;
    runprog_cloexec_all();
    int rc = uv_spawn(loop, &pr->h, &o);
    if (rc != 0) {
        /* uv_spawn initialised the handle anyway: it is closed like the pipes. */
        log_msg(LOG_WARNING, "Failed to run external program. Torrent: \"%s\". Command: `%s` (%s)", j->torrent,
                j->shown, uv_strerror(rc));
        pr->handles++;
        uv_close((uv_handle_t *)&pr->h, proc_handle_closed);
        close_stream(&pr->out);
        close_stream(&pr->err);
        return rc;
    }
    pr->handles++;
    pr->pid = pr->h.pid;
    pr->running = true;
    rp->running++;
    pr->next = rp->procs;
    if (rp->procs)
        rp->procs->prev = pr;
    rp->procs = pr;
    log_msg(LOG_INFO, "Running external program. Torrent: \"%s\". Command: `%s` (pid %d)", j->torrent, j->shown,
            pr->pid);
    uv_read_start((uv_stream_t *)&pr->out.pipe, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&pr->err.pipe, on_alloc, on_read);
    return 0;
}

/* Starts waiting jobs while there is room. */
static void pump(struct runprog *rp)
{
    while (!rp->closing && rp->head && rp->running < RUNPROG_MAX_RUNNING) {
        struct job *j = rp->head;
        rp->head = j->next;
        if (!rp->head)
            rp->tail = NULL;
        rp->queued--;
        spawn(rp, j);
        job_free(j);
    }
}

/* Splits cmdline, fills in t's values and queues the job. */
static void run(struct runprog *rp, struct torrent *t, const char *cmdline, enum vocab vocab, int state, int prev)
{
    while (*cmdline == ' ' || *cmdline == '\t' || *cmdline == '\n' || *cmdline == '\r')
        cmdline++;   /* qBittorrent trims the program line */
    if (!rp || rp->closing || !*cmdline)
        return;
    if (rp->queued >= RUNPROG_MAX_QUEUED) {
        log_msg(LOG_WARNING, "External program not run for \"%s\": %d programs already waiting", torrent_name(t),
                RUNPROG_MAX_QUEUED);
        return;
    }
    struct vars v = {.vocab = vocab};
    struct job *j = calloc(1, sizeof *j);
    char **argv = NULL;
    size_t argc = 0;
    int rc = j ? vars_fill(&v, t, state, prev) : -ENOMEM;
    if (rc == 0)
        rc = runprog_split(cmdline, &argv, &argc);
    for (size_t i = 0; rc == 0 && i < argc; i++) {
        char *e = runprog_expand(argv[i], var_value, &v);
        if (!e)
            rc = -ENOMEM;
        else {
            free(argv[i]);
            argv[i] = e;
        }
    }
    if (rc == 0 && argc > 0) {
        j->argv = argv;
        j->torrent = strdup(v.name);
        j->shown = runprog_expand(cmdline, var_value, &v);
        argv = NULL;
        if (!j->torrent || !j->shown)
            rc = -ENOMEM;
    }
    if (rc == 0 && j->argv) {
        if (rp->tail)
            rp->tail->next = j;
        else
            rp->head = j;
        rp->tail = j;
        rp->queued++;
        j = NULL;
        pump(rp);
    } else if (rc != 0) {
        log_msg(LOG_WARNING, "External program not run for \"%s\": out of memory", torrent_name(t));
    }
    if (j)
        job_free(j);
    runprog_argv_free(argv);
    vars_free(&v);
}

/* ---- events ---- */

static int ut_state_of(struct torrent *t)
{
    return runprog_ut_state(torrent_status_state(t, t->s->now_ms), t->super_seeding);
}

/* Compares t's µTorrent state with the one last reported. */
static void check_state(struct runprog *rp, struct torrent *t)
{
    int now = ut_state_of(t);
    int was = t->runprog_state;
    if (now == 0 || now == was)
        return;
    t->runprog_state = (uint8_t)now;
    if (was != 0)
        run(rp, t, settings_str(&rp->s->settings, SET_UT_STATE_CMD), VOCAB_UT, now, was);
}

static void changed_cb(struct torrent *t, void *ud)
{
    check_state(ud, t);
}

static void on_tick(uv_timer_t *h)
{
    struct runprog *rp = h->data;
    rp->seq = session_changed_since(rp->s, rp->seq, changed_cb, rp);
}

/* state_cmd switched on: every torrent's state now is the starting point. */
static void state_tracking(struct runprog *rp, bool on)
{
    struct session *s = rp->s;
    if (on == rp->ticking)
        return;
    rp->ticking = on;
    if (!on) {
        uv_timer_stop(&rp->tick);
        return;
    }
    for (size_t i = 0; i < s->num_torrents; i++)
        s->torrents[i]->runprog_state = (uint8_t)ut_state_of(s->torrents[i]);
    rp->seq = s->change_seq;
    uv_timer_start(&rp->tick, on_tick, RUNPROG_TICK_MS, RUNPROG_TICK_MS);
}

static void on_settings(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    struct session *s = ud;
    if (s->runprog)
        state_tracking(s->runprog, *settings_str(&s->settings, SET_UT_STATE_CMD) != '\0');
}

int runprog_start(struct session *s)
{
    struct runprog *rp = calloc(1, sizeof *rp);
    if (!rp)
        return -ENOMEM;
    rp->s = s;
    uv_timer_init(s->loop, &rp->tick);
    rp->tick.data = rp;
    rp->handles = 1;
    s->runprog = rp;
    int rc = settings_add_hook(&s->settings, SG_RUNPROG, on_settings, s);
    on_settings(s, NULL);
    return rc;
}

static void tick_closed(uv_handle_t *h)
{
    struct runprog *rp = h->data;
    rp->handles--;
    maybe_free_rp(rp);
}

void runprog_close(struct session *s)
{
    struct runprog *rp = s->runprog;
    if (!rp)
        return;
    s->runprog = NULL;
    rp->closing = true;
    uv_close((uv_handle_t *)&rp->tick, tick_closed);
    /* Running children go on alone (own process group); their handles
     * close now so the loop can end.  libuv no longer reaps them: init does
     * once torrentd has exited. */
    rp->handles++;   /* hold rp while closing the procs below */
    while (rp->procs) {
        struct proc *pr = rp->procs;
        proc_unlink(pr);
        drain_and_close(&pr->out);
        drain_and_close(&pr->err);
        pr->running = false;
        rp->running--;
        uv_close((uv_handle_t *)&pr->h, proc_handle_closed);
    }
    rp->handles--;
    maybe_free_rp(rp);
}

void runprog_torrent_added(struct session *s, struct torrent *t)
{
    struct runprog *rp = s->runprog;
    if (!rp)
        return;
    if (rp->ticking)
        t->runprog_state = (uint8_t)ut_state_of(t);   /* its first state: recorded, not reported */
    const struct settings *p = &s->settings;
    if (settings_bool(p, SET_AUTORUN_ON_TORRENT_ADDED_ENABLED))
        run(rp, t, settings_str(p, SET_AUTORUN_ON_TORRENT_ADDED_PROGRAM), VOCAB_QBT, 0, 0);
}

void runprog_torrent_finished(struct session *s, struct torrent *t)
{
    struct runprog *rp = s->runprog;
    if (!rp)
        return;
    const struct settings *p = &s->settings;
    int was = t->runprog_state;
    if (rp->ticking)
        check_state(rp, t);   /* downloading -> seeding now, not at the next tick */
    if (settings_bool(p, SET_AUTORUN_ENABLED))
        run(rp, t, settings_str(p, SET_AUTORUN_PROGRAM), VOCAB_QBT, 0, 0);
    /* finish_cmd's %S is the state now (seeding, or 0 while the data moves
     * out of the incomplete folder: seeding is what it will be), %P the one
     * before (0 when state_cmd is off and nothing was tracked). */
    int st = ut_state_of(t);
    run(rp, t, settings_str(p, SET_UT_FINISH_CMD), VOCAB_UT, st ? st : 5, was);
}

size_t runprog_running(const struct session *s)
{
    return s->runprog ? s->runprog->running : 0;
}

size_t runprog_queued(const struct session *s)
{
    return s->runprog ? s->runprog->queued : 0;
}
