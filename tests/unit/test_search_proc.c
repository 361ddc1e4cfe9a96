/* search/proc: one run on a libuv loop — output and exit status, stderr
 * kept, the environment changes, the timeout kills the process group, and
 * an abandoned run leaves no handle behind (the loop ends, ASan sees no
 * leak).  The runs are /bin/sh scripts: the test's own fixtures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "search/proc.h"

struct run {
    char out[4096];
    size_t out_len;
    bool done, killed;
    int64_t status;
    int sig;
    char err[256];
};

static void on_out(void *ud, const char *data, size_t n)
{
    struct run *r = ud;
    assert_true(r->out_len + n < sizeof r->out);
    memcpy(r->out + r->out_len, data, n);
    r->out_len += n;
}

static void on_done(void *ud, int64_t status, int sig, bool killed, const char *err, size_t errlen)
{
    struct run *r = ud;
    assert_false(r->done);
    r->done = true;
    r->status = status;
    r->sig = sig;
    r->killed = killed;
    snprintf(r->err, sizeof r->err, "%.*s", (int)errlen, err);
}

static const struct search_proc_ops ops = {.out = on_out, .done = on_done};

static void sh(uv_loop_t *loop, const char *script, char *const *env, uint64_t timeout_ms, struct run *r,
               struct search_proc **p)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    memset(r, 0, sizeof *r);
    assert_int_equal(search_proc_spawn(loop, argv, env, timeout_ms, &ops, r, p), 0);
}

static void output_and_status(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct run r;
    struct search_proc *p;
    setenv("TD_PROC_KEEP", "kept", 1);
    setenv("TD_PROC_DROP", "dropped", 1);
    char *env[] = {"TD_PROC_ADD=added", "TD_PROC_DROP", NULL};
    sh(&loop, "echo \"$TD_PROC_KEEP $TD_PROC_ADD ${TD_PROC_DROP-gone} $(($$ == $(cut -d' ' -f5 /proc/$$/stat)))\"; "
              "echo oops >&2; exit 3", env, 0, &r, &p);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(r.done);
    assert_int_equal(r.status, 3);
    assert_int_equal(r.sig, 0);
    assert_false(r.killed);
    r.out[r.out_len] = '\0';
    assert_string_equal(r.out, "kept added gone 1\n");   /* its own process group */
    assert_string_equal(r.err, "oops\n");
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void missing_program(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct run r = {0};
    struct search_proc *p;
    char *argv[] = {"/nonexistent/python", NULL};
    assert_int_equal(search_proc_spawn(&loop, argv, NULL, 0, &ops, &r, &p), UV_ENOENT);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_false(r.done);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* The timeout kills the group: the shell's background child too. */
static void timeout_kills_group(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct run r;
    struct search_proc *p;
    sh(&loop, "sleep 30 & echo $!; wait", NULL, 300, &r, &p);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(r.done);
    assert_true(r.killed);
    assert_int_equal(r.sig, SIGKILL);
    r.out[r.out_len] = '\0';
    pid_t child = (pid_t)atoi(r.out);
    assert_true(child > 0);
    /* killed: a zombie until init reaps it, or gone.  SIGKILL to the group
     * is delivered asynchronously, so the child may still show as running
     * for a moment: wait for it, bounded (5 s). */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)child);
    char pstate = 'R';
    for (int tries = 0; tries < 500; tries++) {
        char st[256] = "";
        FILE *f = fopen(path, "r");
        if (!f) {
            pstate = 'X';   /* gone */
            break;
        }
        size_t n = fread(st, 1, sizeof st - 1, f);
        st[n] = '\0';
        fclose(f);
        char *rp = strrchr(st, ')');
        assert_non_null(rp);
        pstate = rp[2];
        if (pstate == 'Z')
            break;
        usleep(10000);
    }
    assert_true(pstate == 'Z' || pstate == 'X');
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* abandon(now): the callbacks never run and every handle is closed in the
 * next loop turn (the shutdown). */
static void abandon_now(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct run r;
    struct search_proc *p;
    sh(&loop, "echo started; sleep 30", NULL, 0, &r, &p);
    int pid = search_proc_pid(p);
    assert_true(pid > 0);
    search_proc_abandon(p, true);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_false(r.done);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(kill(pid, 0) == 0 ? 0 : -1, 0);   /* a zombie: killed, never reaped by us */
    /* abandon(later): reaped, then closed */
    uv_loop_init(&loop);
    sh(&loop, "sleep 30", NULL, 0, &r, &p);
    search_proc_abandon(p, false);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_false(r.done);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(output_and_status),
        cmocka_unit_test(missing_program),
        cmocka_unit_test(timeout_kills_group),
        cmocka_unit_test(abandon_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
