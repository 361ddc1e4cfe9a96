/* search/proc — one run of the search runtime (python and a plugin: untrusted
 * code) on the libuv loop.
 *
 * uv_spawn, never a shell; UV_PROCESS_DETACHED, so the child leads its own
 * session and process group, and every kill goes to the whole group
 * (kill(-pid)): a plugin's own children die with it.  stdin is /dev/null,
 * stdout is handed to the owner as it arrives, stderr is kept up to
 * SEARCH_PROC_ERR_MAX bytes (for the log).  A timer kills the group when
 * the run takes longer than its timeout.  When the leader exits, the group
 * is killed too (nothing of a run outlives it), and done() runs once both
 * pipes have reached their end (or SEARCH_PROC_GRACE_MS later: a process
 * that left the group with setsid() may hold them; it is not killed).
 *
 * Lifetime: the owner's pointer is valid until done() starts or until
 * search_proc_abandon(); the struct itself lives on until its handles have
 * closed (one more loop turn), so neither may be called again after.
 * Loop thread only.
 */
#ifndef TD_SEARCH_PROC_H
#define TD_SEARCH_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SEARCH_PROC_ERR_MAX (16 * 1024)
/* After the leader exits, how long its pipes may stay open (held by a
 * process that left the group) before they are closed without their end. */
#define SEARCH_PROC_GRACE_MS 5000

struct search_proc;

struct search_proc_ops {
    /* Bytes of stdout, as they come (may be NULL: then discarded). */
    void (*out)(void *ud, const char *data, size_t n);
    /* The run is over.  exit_status / term_signal as uv reports them;
     * killed = the timeout or search_proc_kill ended it; err = stderr
     * (at most SEARCH_PROC_ERR_MAX bytes, NUL-terminated). */
    void (*done)(void *ud, int64_t exit_status, int term_signal, bool killed, const char *err, size_t errlen);
};

/* Starts argv[0] with argv (NULL-terminated) and the daemon's environment
 * changed by `extra_env` (NULL-terminated, may be NULL): "NAME=value"
 * replaces or adds, a bare "NAME" removes.  timeout_ms 0 = none.
 * 0, or a negative errno (uv_spawn's: -ENOENT for a missing program);
 * done() never runs then. */
int search_proc_spawn(uv_loop_t *loop, char *const *argv, char *const *extra_env, uint64_t timeout_ms,
                      const struct search_proc_ops *ops, void *ud, struct search_proc **out);

/* Kills the process group; done() still runs (killed = true). */
void search_proc_kill(struct search_proc *p);

/* Kills the process group and forgets the owner: neither callback runs
 * again.  The handles close once the exit is reaped, or at once when
 * `now` (the shutdown: the dead child is left to init). */
void search_proc_abandon(struct search_proc *p, bool now);

/* The leader's pid (tests, logs). */
int search_proc_pid(const struct search_proc *p);

#endif
