/* search internals shared by search/plugins.c, search/jobs.c and
 * search/runtime.c (the embedded nova3 runtime). */
#ifndef TD_SEARCH_SEARCH_INT_H
#define TD_SEARCH_SEARCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "search/proc.h"
#include "search/search.h"

struct session;
struct fetch_req;

/* The runtime files compiled in (CMake writes search_runtime.c from
 * src/search/nova3/). */
struct search_runtime_file {
    const char *name;
    const unsigned char *data;
    size_t len;
};
extern const struct search_runtime_file search_runtime_files[];
extern const size_t search_runtime_files_count;

struct search_waiter {
    void (*cb)(void *ud, int rc);
    void *ud;
    struct search_waiter *next;
};

struct search_op;        /* plugins.c: one queued plugin operation */
struct search_dl;        /* jobs.c: a plugin download of a .torrent */
struct search_fetch;     /* plugins.c: a plugin file or versions.txt download */

struct search {
    struct session *s;
    uv_loop_t *loop;
    char *nova_dir;       /* <profile>/nova3 */
    char *engines_dir;    /* <profile>/nova3/engines */
    char *tmp_dir;        /* <profile>/nova3/tmp: TMPDIR of the runs */
    char python[4096];    /* the last python found (search_python) */
    char caps_python[4096];    /* the python of the capabilities run in flight */
    char loaded_python[4096];  /* the python whose capabilities made the list ("" = none yet) */
    uint64_t timeout_ms;

    struct search_plugin *plugins;   /* sorted by name */
    size_t num_plugins;

    struct search_op *ops_head, *ops_tail;   /* plugin operations, one at a time */
    struct search_proc *caps_proc;           /* the capabilities run of the op at the head */
    char *caps_out;
    size_t caps_len;
    struct search_waiter *idle_waiters;
    struct search_fetch *fetches;
    bool closing;

    struct search_job **jobs;        /* start order */
    size_t num_jobs;
    struct search_dl *dls;
};

/* runtime.c: writes the runtime into se->nova_dir (when a file differs). */
int search_runtime_write(struct search *se);

/* The argv of a run: python -I -B -Xutf8=1 <nova_dir>/<script> args...
 * (NULL-terminated, malloc'd, free with search_argv_free).  NULL on
 * ENOMEM or without python. */
char **search_argv(struct search *se, const char *script, const char *const *args, size_t n);
void search_argv_free(char **argv);
/* The extra environment of a run for search/proc (static storage; valid
 * until the next call): the limits, TMPDIR, and the proxy variables
 * qBittorrent sets from its proxy settings when proxy_misc ("use the proxy
 * for general purposes") is on — http_proxy/https_proxy for an HTTP proxy,
 * qbt_socks_proxy for SOCKS — and removes otherwise. */
char *const *search_env(struct search *se);

/* plugins.c */
void search_plugins_close(struct search *se);
void search_plugins_load(struct search *se);   /* queues the first capabilities run */
const char *search_engine_by_url(struct search *se, const char *url);

/* jobs.c */
void search_jobs_close(struct search *se);

/* Reads a regular file of at most max bytes into a malloc'd buffer (a NUL
 * after the data).  0, -EFBIG, -EINVAL (not a regular file), -errno. */
int search_read_file(const char *path, size_t max, unsigned char **out, size_t *len);

/* The Qt error text of a failed download, as qBittorrent logs it. */
const char *search_fetch_error(int rc, long status);

#endif
