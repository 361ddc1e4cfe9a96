/* search — torrent search through qBittorrent's search plugins (nova3).
 *
 * Plugins are Python files written for qBittorrent (engines/<name>.py with
 * a "#VERSION:" line and a class <name>), kept in <profile>/nova3/engines/
 * as qBittorrent keeps them in its data folder.  They run under a runtime
 * torrentd ships (src/search/nova3/: nova2.py, nova2dl.py, novaprinter.py,
 * helpers.py, torrentd's own code implementing the interface qBittorrent
 * documents).  Those files are compiled into the binary (CMake embeds
 * them) and written to <profile>/nova3/ at start whenever they differ, so
 * the daemon finds its runtime the same way from a build tree, `make run`
 * or an installed binary; plugin authors can run
 * `python3 <profile>/nova3/nova2.py <engine> all <words>` by hand.
 *
 * Python is the python_executable_path preference (a path, or a name
 * looked up in PATH; no fallback when it is set, as in qBittorrent), else
 * python3 or python from PATH.  Every run is `python -I -B -Xutf8=1
 * <runtime file> ...` through search/proc (own process group, killed with
 * it; never a shell) with RLIMIT_CPU / RLIMIT_AS set by the runner on
 * itself before any plugin is imported (SEARCH_CPU_LIMIT_S,
 * SEARCH_MEM_LIMIT), stdout parsed by search/nova with bounds.
 *
 * Plugins (qBittorrent's SearchPluginManager): the list is what
 * `nova2.py --capabilities` reports, loaded at start and after every
 * install; enabled unless named in search_disabled_engines (persisted);
 * installs from http(s) URLs (util/fetch through the session's fetch) or
 * local paths / file: URLs, refused when the same or a newer version is
 * installed, copied with a .bak backup and rolled back when the
 * capabilities do not list the plugin afterwards.  Plugin operations that
 * change the list run one at a time, in order.  updatePlugins reads
 * <search_update_url>versions.txt and re-installs each outdated plugin
 * from <search_update_url><name>.py, logging qBittorrent's lines.
 *
 * Jobs (qBittorrent's SearchJobManager): ids random in 1..INT_MAX, at most
 * SEARCH_MAX_RUNNING running at once, results kept (at most
 * SEARCH_MAX_RESULTS and SEARCH_MAX_RESULT_BYTES per job) until the job
 * is deleted; a run is killed after SEARCH_TIMEOUT_MS
 * (TORRENTD_TEST_SEARCH_TIMEOUT_MS overrides it: a test hook) and ends
 * "Stopped" like a stopped one.  Jobs are not persisted across restarts
 * (qBittorrent master persists them; 5.1's WebUI does not).
 *
 * Loop thread only.
 */
#ifndef TD_SEARCH_SEARCH_H
#define TD_SEARCH_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "search/nova.h"

struct session;
struct search;

#define SEARCH_MAX_RUNNING 5
#define SEARCH_MAX_RESULTS 20000
#define SEARCH_MAX_RESULT_BYTES (32u << 20)        /* of result lines kept per job */
#define SEARCH_TIMEOUT_MS (3 * 60 * 1000)
#define SEARCH_CPU_LIMIT_S 120                     /* CPU seconds per run */
#define SEARCH_MEM_LIMIT ((int64_t)1 << 30)        /* address space per run */
#define SEARCH_PLUGIN_MAX_BYTES (4u << 20)         /* a plugin file */
#define SEARCH_TORRENT_MAX_BYTES (64u << 20)       /* a .torrent a plugin downloaded */

struct search_plugin {
    char *name;
    struct nova_version version;
    char *full_name, *url;
    char **cats;           /* supported categories, "all" not included */
    size_t num_cats;
    bool enabled;
};

struct search_result {
    struct nova_result r;
    char *engine;          /* the plugin whose url is site_url, "" when none */
};

struct search_job {
    int id;
    char *pattern, *category;
    char **plugins;
    size_t num_plugins;
    bool running;
    struct search_result *results;
    size_t num_results, cap_results;
    /* internal */
    size_t bytes;          /* result line bytes kept */
    uint64_t dropped;      /* results past the limits */
    struct search_proc *proc;
    struct nova_lines lines;
    struct search *se;
};

/* Writes the runtime into <profile>/nova3/ and starts loading the plugin
 * list.  0 or a negative errno (the runtime cannot be written). */
int search_new(struct session *s, struct search **out);
/* Kills every run (process groups), cancels downloads, answers waiting
 * callbacks with -ECANCELED, frees everything.  Before the loop's last
 * turn (the handles close in it). */
void search_free(struct search *se);

/* The python to run, or NULL (qBittorrent's "Python must be installed"). */
const char *search_python(struct search *se);

/* ---- plugins ---- */

/* The plugins by name.  Valid until the next plugin operation ends. */
size_t search_plugins(struct search *se, const struct search_plugin **out);
const struct search_plugin *search_plugin_find(struct search *se, const char *name);
/* cb(ud) once no plugin operation is pending (at once when none is):
 * readers that want the list as installs left it.  When the python to use
 * is not the one the list was made with (python_executable_path changed,
 * or there was none at start), the list is loaded again first.  -ENOMEM. */
int search_when_idle(struct search *se, void (*cb)(void *ud, int rc), void *ud);
/* Installs each source (URL or local path), one after the other; cb(ud, 0)
 * once every one has succeeded or failed (failures are logged, as in
 * qBittorrent).  -ENOMEM. */
int search_install(struct search *se, const char *const *sources, size_t n, void (*cb)(void *ud, int rc),
                   void *ud);
/* Removes engines/<name>.* and the plugin; unknown names do nothing. */
void search_uninstall(struct search *se, const char *name);
/* Persists the disabled list; cb once committed (may be NULL). 0 or -errno. */
int search_enable(struct search *se, const char *const *names, size_t n, bool enable,
                  void (*cb)(void *ud, int rc), void *ud);
/* Starts the update check (results only in the log). */
void search_update_plugins(struct search *se);

/* ---- jobs ---- */

/* 0 and *id, -EBUSY (SEARCH_MAX_RUNNING running), -ENOENT (no python),
 * -ENOMEM, or a spawn error (the job then exists, stopped, as qBittorrent's
 * failed search does). */
int search_start(struct search *se, const char *pattern, const char *category, const char *const *plugins,
                 size_t n, int *id);
struct search_job *search_job_find(struct search *se, int id);
/* Jobs in start order. */
size_t search_jobs(struct search *se, struct search_job *const **out);
/* -ENOENT when there is no such job. */
int search_stop(struct search *se, int id);
int search_delete(struct search *se, int id);

/* Downloads url through plugin's download_torrent (nova2dl.py) and adds
 * the file it wrote through the core's add path.  Fire and forget, as
 * qBittorrent's: the outcome is logged.  -ENOENT (no python), -ENOMEM. */
int search_download(struct search *se, const char *plugin, const char *url);

/* qBittorrent's label of a category key ("All categories", "TV shows"),
 * "" for keys it does not know. */
const char *search_category_label(const char *key);

#endif
