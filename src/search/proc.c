/* search/proc — see proc.h. */
#include "search/proc.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/runprog.h"

extern char **environ;

struct search_proc {
    uv_process_t h;
    uv_pipe_t out, err;
    uv_timer_t timer;
    const struct search_proc_ops *ops;
    void *ud;                /* NULL once abandoned */
    int pid;
    int open;                /* handles not closed yet */
    bool out_eof, err_eof, exited, killed, reported;
    int64_t exit_status;
    int term_signal;
    char errbuf[SEARCH_PROC_ERR_MAX + 1];
    size_t errlen;
};

static void handle_closed(uv_handle_t *h)
{
    struct search_proc *p = h->data;
    if (--p->open == 0)
        free(p);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, handle_closed);
}

static void kill_group(struct search_proc *p)
{
    /* The group outlives its leader while members remain; ESRCH when none. */
    if (p->pid > 0)
        kill(-p->pid, SIGKILL);
}

static void close_all(struct search_proc *p)
{
    close_handle((uv_handle_t *)&p->timer);
    close_handle((uv_handle_t *)&p->out);
    close_handle((uv_handle_t *)&p->err);
    close_handle((uv_handle_t *)&p->h);
}

static void maybe_done(struct search_proc *p)
{
    if (!p->exited || !p->out_eof || !p->err_eof || p->reported)
        return;
    p->reported = true;
    close_all(p);
    if (p->ud) {
        void *ud = p->ud;
        p->ud = NULL;
        p->errbuf[p->errlen] = '\0';
        p->ops->done(ud, p->exit_status, p->term_signal, p->killed, p->errbuf, p->errlen);
    }
}

static void on_timeout(uv_timer_t *t);

static void on_exit_cb(uv_process_t *h, int64_t status, int sig)
{
    struct search_proc *p = h->data;
    p->exited = true;
    p->exit_status = status;
    p->term_signal = sig;
    /* Whatever the plugin left behind in its group goes with it, so the
     * pipes reach their end; one that left the group (setsid) and holds
     * them gets SEARCH_PROC_GRACE_MS, then they are closed anyway. */
    kill_group(p);
    uv_timer_start(&p->timer, on_timeout, SEARCH_PROC_GRACE_MS, 0);
    maybe_done(p);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    static char mem[16384];   /* the loop thread's; used before the next read */
    *b = uv_buf_init(mem, sizeof mem);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct search_proc *p = s->data;
    bool is_out = s == (uv_stream_t *)&p->out;
    if (n > 0) {
        if (is_out) {
            if (p->ud && p->ops->out)
                p->ops->out(p->ud, b->base, (size_t)n);
        } else {
            size_t room = SEARCH_PROC_ERR_MAX - p->errlen;
            size_t take = (size_t)n < room ? (size_t)n : room;
            memcpy(p->errbuf + p->errlen, b->base, take);
            p->errlen += take;
        }
        return;
    }
    if (n == 0)
        return;
    /* EOF or an error: this pipe is done. */
    uv_read_stop(s);
    if (is_out)
        p->out_eof = true;
    else
        p->err_eof = true;
    maybe_done(p);
}

static void on_timeout(uv_timer_t *t)
{
    struct search_proc *p = t->data;
    if (!p->exited) {
        search_proc_kill(p);
        return;
    }
    if (!p->out_eof) {
        uv_read_stop((uv_stream_t *)&p->out);
        p->out_eof = true;
    }
    if (!p->err_eof) {
        uv_read_stop((uv_stream_t *)&p->err);
        p->err_eof = true;
    }
    maybe_done(p);
}

/* environ with extra's names replaced or added ("NAME=value"), or removed
 * ("NAME"). */
static char **make_env(char *const *extra)
{
    size_t ne = 0, nx = 0;
    while (environ && environ[ne])
        ne++;
    while (extra && extra[nx])
        nx++;
    char **env = calloc(ne + nx + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < ne; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < nx && !replaced; j++)
            replaced = strncmp(extra[j], environ[i], nl) == 0 && (extra[j][nl] == '=' || extra[j][nl] == '\0');
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < nx; j++)
        if (strchr(extra[j], '='))
            env[k++] = extra[j];
    env[k] = NULL;
    return env;
}

int search_proc_spawn(uv_loop_t *loop, char *const *argv, char *const *extra_env, uint64_t timeout_ms,
                      const struct search_proc_ops *ops, void *ud, struct search_proc **out)
{
    *out = NULL;
    struct search_proc *p = calloc(1, sizeof *p);
    char **env = make_env(extra_env);
    if (!p || !env) {
        free(p);
        free(env);
        return -ENOMEM;
    }
    p->ops = ops;
    p->ud = ud;
    p->h.data = p->out.data = p->err.data = p->timer.data = p;
    uv_pipe_init(loop, &p->out, 0);
    uv_pipe_init(loop, &p->err, 0);
    uv_timer_init(loop, &p->timer);
    p->open = 4;
    uv_stdio_container_t io[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->err},
    };
    uv_process_options_t o = {
        .exit_cb = on_exit_cb,
        .file = argv[0],
        .args = (char **)argv,
        .env = env,
        .flags = UV_PROCESS_DETACHED,
        .stdio_count = 3,
        .stdio = io,
    };
    runprog_cloexec_all();   /* the daemon's sockets and database stay out of the child */
    int rc = uv_spawn(loop, &p->h, &o);
    free(env);
    if (rc != 0) {
        /* uv_spawn initialised the handle anyway: it closes like the rest. */
        p->ud = NULL;
        p->reported = true;
        close_all(p);
        return rc;
    }
    p->pid = p->h.pid;
    if (timeout_ms)
        uv_timer_start(&p->timer, on_timeout, timeout_ms, 0);
    uv_read_start((uv_stream_t *)&p->out, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&p->err, on_alloc, on_read);
    *out = p;
    return 0;
}

void search_proc_kill(struct search_proc *p)
{
    if (!p || p->exited)
        return;
    p->killed = true;
    kill_group(p);
    /* SIGKILL: the exit is reaped at once; the timer stays as a backstop. */
    uv_timer_start(&p->timer, on_timeout, SEARCH_PROC_GRACE_MS, 0);
}

void search_proc_abandon(struct search_proc *p, bool now)
{
    if (!p)
        return;
    p->ud = NULL;
    if (!p->exited)
        kill_group(p);
    /* Normally the handles stay until the exit is reaped (a closed process
     * handle is never waited for: a zombie until the daemon exits); at the
     * shutdown there is no later. */
    if (now && !p->reported) {
        p->reported = true;
        close_all(p);
    }
}

int search_proc_pid(const struct search_proc *p)
{
    return p ? p->pid : 0;
}
