/* session_assert_loop_thread(): silent on the thread that made the session,
 * aborts (Debug builds) on any other -- checked in a forked child so the
 * abort can be observed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/session.h"

static struct session g_s;

static void other_thread(void *arg)
{
    session_assert_loop_thread(arg);
}

/* 0 when fn returned normally in a child, else the signal that ended it. */
static int run_in_child(void (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* quiet the expected assertion message */
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0)
            dup2(fd, 2);
        fn();
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st) ? -1 : 0;
}

static void from_other_thread(void)
{
    uv_thread_t th;
    uv_thread_create(&th, other_thread, &g_s);
    uv_thread_join(&th);
}

static void from_loop_thread(void)
{
    session_assert_loop_thread(&g_s);
}

static void loop_thread(void **state)
{
    (void)state;
    memset(&g_s, 0, sizeof g_s);
    g_s.loop_thread = uv_thread_self();
    g_s.loop_thread_known = true;
    assert_int_equal(run_in_child(from_loop_thread), 0);
#ifdef NDEBUG
    assert_int_equal(run_in_child(from_other_thread), 0);   /* release: no check */
#else
    assert_int_equal(run_in_child(from_other_thread), SIGABRT);
#endif
    /* a session built by hand (no recorded thread) is not checked */
    g_s.loop_thread_known = false;
    assert_int_equal(run_in_child(from_other_thread), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loop_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
