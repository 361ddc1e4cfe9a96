/* search/jobs — qBittorrent's SearchJobManager and SearchHandler (runs of
 * nova2.py whose output becomes results) and SearchDownloadHandler (runs
 * of nova2dl.py whose file is added).  See search.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/service.h"
#include "core/session.h"
#include "search/search_int.h"
#include "util/log.h"

#define DL_MAX_OUT (64 * 1024)

struct search_dl {
    struct search *se;
    struct search_proc *proc;
    char *plugin, *url;
    char out[DL_MAX_OUT + 1];
    size_t out_len;
    struct search_dl *prev, *next;
};

/* ---- jobs ---- */

static void job_free(struct search_job *j)
{
    free(j->pattern);
    free(j->category);
    for (size_t i = 0; i < j->num_plugins; i++)
        free(j->plugins[i]);
    free(j->plugins);
    for (size_t i = 0; i < j->num_results; i++) {
        nova_result_free(&j->results[i].r);
        free(j->results[i].engine);
    }
    free(j->results);
    nova_lines_free(&j->lines);
    free(j);
}

struct search_job *search_job_find(struct search *se, int id)
{
    for (size_t i = 0; i < se->num_jobs; i++)
        if (se->jobs[i]->id == id)
            return se->jobs[i];
    return NULL;
}

size_t search_jobs(struct search *se, struct search_job *const **out)
{
    *out = se->jobs;
    return se->num_jobs;
}

static size_t running(struct search *se)
{
    size_t n = 0;
    for (size_t i = 0; i < se->num_jobs; i++)
        n += se->jobs[i]->running;
    return n;
}

static int new_id(struct search *se)
{
    for (;;) {
        unsigned v = 0;
        if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
            v = (unsigned)rand();
        int id = (int)(v % (unsigned)INT_MAX) + 1;   /* 1..INT_MAX */
        if (!search_job_find(se, id))
            return id;
    }
}

static void on_line(void *ud, const char *line, size_t len)
{
    struct search_job *j = ud;
    if (j->num_results >= SEARCH_MAX_RESULTS || j->bytes + len > SEARCH_MAX_RESULT_BYTES) {
        j->dropped++;
        return;
    }
    struct nova_result r;
    if (nova_parse_line(line, len, &r) != 0)
        return;
    char *engine = strdup(search_engine_by_url(j->se, r.site_url));
    if (!engine) {
        nova_result_free(&r);
        return;
    }
    if (j->num_results == j->cap_results) {
        size_t cap = j->cap_results ? j->cap_results * 2 : 64;
        struct search_result *v = realloc(j->results, cap * sizeof *v);
        if (!v) {
            nova_result_free(&r);
            free(engine);
            return;
        }
        j->results = v;
        j->cap_results = cap;
    }
    j->results[j->num_results++] = (struct search_result){r, engine};
    j->bytes += len;
}

static void on_out(void *ud, const char *data, size_t n)
{
    struct search_job *j = ud;
    nova_lines_feed(&j->lines, data, n, on_line, j);
}

static char *joined(char *const *v, size_t n, const char *sep)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(v[i]) + strlen(sep);
    char *s = malloc(len);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, len - o, "%s%s", i ? sep : "", v[i]);
    s[o] = '\0';
    return s;
}

static void log_job(const struct search_job *j, const char *what, const char *err, size_t errlen)
{
    char *engines = joined(j->plugins, j->num_plugins, ", ");
    char *e = nova_utf8_dup(err, errlen, true);
    log_msg(LOG_WARNING, "%s. Search query: \"%s\". Category: \"%s\". Engines: \"%s\". Error: \"%s\".", what,
            j->pattern, j->category, engines ? engines : "", e ? e : "");
    free(engines);
    free(e);
}

static void on_done(void *ud, int64_t status, int sig, bool killed, const char *err, size_t errlen)
{
    (void)status;
    struct search_job *j = ud;
    j->proc = NULL;
    j->running = false;
    if (errlen)
        log_job(j, "Error occurred in search engine", err, errlen);
    if (sig && !killed)
        log_job(j, "Search process failed", "Process crashed", strlen("Process crashed"));
    if (j->lines.skipped)
        log_msg(LOG_WARNING, "Search job %d: %llu result lines longer than %d bytes were ignored", j->id,
                (unsigned long long)j->lines.skipped, NOVA_MAX_LINE);
    if (j->dropped)
        log_msg(LOG_WARNING, "Search job %d: %llu results past the limit (%d results, %u MiB) were ignored", j->id,
                (unsigned long long)j->dropped, SEARCH_MAX_RESULTS, SEARCH_MAX_RESULT_BYTES >> 20);
    nova_lines_free(&j->lines);
}

int search_start(struct search *se, const char *pattern, const char *category, const char *const *plugins,
                 size_t n, int *id)
{
    if (running(se) >= SEARCH_MAX_RUNNING)
        return -EBUSY;
    if (!search_python(se))
        return -ENOENT;
    struct search_job **jobs = realloc(se->jobs, (se->num_jobs + 1) * sizeof *jobs);
    if (!jobs)
        return -ENOMEM;
    se->jobs = jobs;
    struct search_job *j = calloc(1, sizeof *j);
    if (!j || !(j->pattern = strdup(pattern)) || !(j->category = strdup(category)) ||
        !(j->plugins = calloc(n ? n : 1, sizeof *j->plugins)))
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (!(j->plugins[i] = strdup(plugins[i])))
            goto oom;
        j->num_plugins++;
    }
    j->se = se;
    j->id = new_id(se);

    /* nova2.py <engines,> <category> <pattern split on ' ', empty words kept> */
    size_t nw = 1;
    for (const char *p = pattern; *p; p++)
        nw += *p == ' ';
    char **args = calloc(nw + 2, sizeof *args);
    char *engines = joined(j->plugins, j->num_plugins, ",");
    char *words = strdup(pattern);
    int rc = -ENOMEM;
    if (args && engines && words) {
        args[0] = engines;
        args[1] = j->category;
        size_t k = 2;
        for (char *w = words;;) {
            char *sp = strchr(w, ' ');
            if (sp)
                *sp = '\0';
            args[k++] = w;
            if (!sp)
                break;
            w = sp + 1;
        }
        char **argv = search_argv(se, "nova2.py", (const char *const *)args, k);
        if (argv) {
            static const struct search_proc_ops ops = {.out = on_out, .done = on_done};
            rc = search_proc_spawn(se->loop, argv, search_env(se), se->timeout_ms, &ops, j, &j->proc);
            if (rc != 0)
                log_job(j, "Search process failed", "Process failed to start", strlen("Process failed to start"));
            search_argv_free(argv);
        }
    }
    free(args);
    free(engines);
    free(words);
    if (rc == -ENOMEM)
        goto oom;
    j->running = rc == 0;
    se->jobs[se->num_jobs++] = j;
    *id = j->id;
    return 0;
oom:
    if (j)
        job_free(j);
    return -ENOMEM;
}

int search_stop(struct search *se, int id)
{
    struct search_job *j = search_job_find(se, id);
    if (!j)
        return -ENOENT;
    if (j->proc) {
        /* Killed with its group; its handles close once it is reaped.  The
         * job is stopped now (its slot free), what it printed last is not
         * waited for. */
        search_proc_abandon(j->proc, false);
        j->proc = NULL;
        j->running = false;
        nova_lines_free(&j->lines);
    }
    return 0;
}

int search_delete(struct search *se, int id)
{
    int rc = search_stop(se, id);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < se->num_jobs; i++) {
        if (se->jobs[i]->id == id) {
            job_free(se->jobs[i]);
            memmove(&se->jobs[i], &se->jobs[i + 1], (se->num_jobs - i - 1) * sizeof *se->jobs);
            se->num_jobs--;
            break;
        }
    }
    return 0;
}

/* ---- downloads through a plugin ---- */

static void dl_unlink(struct search *se, struct search_dl *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        se->dls = d->next;
    if (d->next)
        d->next->prev = d->prev;
    free(d->plugin);
    free(d->url);
    free(d);
}

static void dl_out(void *ud, const char *data, size_t n)
{
    struct search_dl *d = ud;
    size_t take = n < DL_MAX_OUT - d->out_len ? n : DL_MAX_OUT - d->out_len;
    memcpy(d->out + d->out_len, data, take);
    d->out_len += take;
}

static void on_added(void *ud, int rc, struct torrent *t)
{
    (void)ud;
    (void)t;
    if (rc != 0)
        log_msg(LOG_WARNING, "Search engine: adding the downloaded torrent failed (%s)", strerror(-rc));
}

/* The file nova2dl printed: "<path> <url>" (qBittorrent wants exactly two
 * words; a path with spaces is taken when the line ends with the URL). */
static char *dl_path(struct search_dl *d)
{
    d->out[d->out_len] = '\0';
    char *line = d->out;
    size_t n = d->out_len;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    while (*line == ' ' || *line == '\n')
        line++, n--;
    if (memchr(line, '\n', n) || memchr(line, '\0', n))
        return NULL;
    size_t ul = strlen(d->url);
    if (n > ul + 1 && strcmp(line + n - ul, d->url) == 0 && line[n - ul - 1] == ' ')
        return strndup(line, n - ul - 1);
    char *sp = strchr(line, ' ');
    if (!sp || strchr(sp + 1, ' '))
        return NULL;
    return strndup(line, (size_t)(sp - line));
}

static void dl_done(void *ud, int64_t status, int sig, bool killed, const char *err, size_t errlen)
{
    struct search_dl *d = ud;
    struct search *se = d->se;
    d->proc = NULL;
    if (errlen) {
        char *e = nova_utf8_dup(err, errlen, true);
        log_msg(LOG_WARNING,
                "Error occurred when downloading torrent via search engine. Engine: \"%s\". URL: \"%s\". "
                "Error: \"%s\".",
                d->plugin, d->url, e ? e : "");
        free(e);
    }
    char *path = status == 0 && !sig && !killed ? dl_path(d) : NULL;
    if (path) {
        unsigned char *buf = NULL;
        size_t len = 0;
        search_read_file(path, SEARCH_TORRENT_MAX_BYTES, &buf, &len);
        /* The runtime's temporary files are ours to remove; a path
         * elsewhere is the plugin's business. */
        size_t tl = strlen(se->tmp_dir);
        if (strncmp(path, se->tmp_dir, tl) == 0 && path[tl] == '/' && !strchr(path + tl + 1, '/') &&
            !strstr(path, ".."))
            unlink(path);
        struct service_add_opts o;
        char errbuf[256] = "";
        if (!buf || len == 0) {
            log_msg(LOG_WARNING, "Search engine: cannot read the torrent file \"%s\" downloaded from \"%s\"", path,
                    d->url);
        } else if (service_add_opts_defaults(se->s, &o) == 0) {
            if (service_add_opts_resolve(se->s, &o) == 0) {
                int rc = service_add_torrent(se->s, buf, len, &o, on_added, NULL, errbuf, sizeof errbuf);
                if (rc != 0 && rc != -EEXIST)
                    log_msg(LOG_WARNING, "Search engine: the file downloaded from \"%s\" is no torrent (%s)",
                            d->url, *errbuf ? errbuf : strerror(-rc));
            }
            service_add_opts_free(&o);
        }
        free(buf);
        free(path);
    } else if (status == 0 && !sig && !killed) {
        log_msg(LOG_WARNING, "Search engine: plugin \"%s\" gave no torrent file for \"%s\"", d->plugin, d->url);
    }
    dl_unlink(se, d);
}

int search_download(struct search *se, const char *plugin, const char *url)
{
    if (!search_python(se))
        return -ENOENT;
    struct search_dl *d = calloc(1, sizeof *d);
    if (!d || !(d->plugin = strdup(plugin)) || !(d->url = strdup(url))) {
        if (d) {
            free(d->plugin);
            free(d);
        }
        return -ENOMEM;
    }
    d->se = se;
    const char *args[] = {plugin, url};
    char **argv = search_argv(se, "nova2dl.py", args, 2);
    int rc = -ENOMEM;
    if (argv) {
        static const struct search_proc_ops ops = {.out = dl_out, .done = dl_done};
        rc = search_proc_spawn(se->loop, argv, search_env(se), se->timeout_ms, &ops, d, &d->proc);
        search_argv_free(argv);
    }
    if (rc != 0) {
        free(d->plugin);
        free(d->url);
        free(d);
        return rc;
    }
    d->next = se->dls;
    if (se->dls)
        se->dls->prev = d;
    se->dls = d;
    return 0;
}

void search_jobs_close(struct search *se)
{
    for (size_t i = 0; i < se->num_jobs; i++) {
        if (se->jobs[i]->proc)
            search_proc_abandon(se->jobs[i]->proc, true);
        job_free(se->jobs[i]);
    }
    free(se->jobs);
    se->jobs = NULL;
    se->num_jobs = 0;
    while (se->dls) {
        search_proc_abandon(se->dls->proc, true);
        dl_unlink(se, se->dls);
    }
}
