/* web/api/qbt_v2_search — see qbt_v2_search.h.
 *
 * Handlers that read the plugin list (start, plugins, enablePlugin) first
 * wait until no plugin operation is pending (search_when_idle): the list
 * loads at start and changes after installs, and a client that installed
 * a plugin and asks for the list expects to see it, as qBittorrent's
 * synchronous local install gives it.  installPlugin answers once every
 * source has been installed or has failed (qBittorrent answers at once and
 * finishes URL installs later; answering later is indistinguishable to a
 * client except that the list is already up to date).
 */
#include "web/api/qbt_v2_search.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/service.h"
#include "search/search.h"
#include "util/log.h"

static struct search *g_search;

#define MAX_NAMES 1000   /* '|'-separated values in one parameter */

/* QString::toInt: a whole decimal int, else 0. */
static int param_int(struct web_req *r, const char *name)
{
    const char *v = web_req_param(r, name);
    if (!v || !*v)
        return 0;
    char *e;
    errno = 0;
    long long x = strtoll(v, &e, 10);
    return (*e || errno || x < INT_MIN || x > INT_MAX) ? 0 : (int)x;
}

/* Splits v on '|' into a malloc'd array of malloc'd words (trimmed when
 * asked); NULL on ENOMEM. */
static char **split_bar(const char *v, bool trim, size_t *n)
{
    *n = 0;
    size_t cap = 1;
    for (const char *p = v; *p; p++)
        cap += *p == '|';
    if (cap > MAX_NAMES)
        cap = MAX_NAMES;
    char **out = calloc(cap, sizeof *out);
    if (!out)
        return NULL;
    const char *p = v;
    while (*n < cap) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;
        if (trim) {
            while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
                s++, len--;
            while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
                len--;
        }
        if (!(out[*n] = strndup(s, len))) {
            for (size_t i = 0; i < *n; i++)
                free(out[i]);
            free(out);
            return NULL;
        }
        (*n)++;
        if (!end)
            break;
        p = end + 1;
    }
    return out;
}

static void free_words(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static char *trimmed_dup(const char *v)
{
    while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n' || v[n - 1] == '\r'))
        n--;
    return strndup(v, n);
}

static bool require(struct web_req *r, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!web_req_param(r, names[i])) {
            web_reply_error(r, 400, NULL);
            return false;
        }
    }
    return true;
}

static bool python_or_409(struct web_req *r)
{
    if (search_python(g_search))
        return true;
    web_reply_error(r, 409, "Python must be installed to use the Search Engine.");
    return false;
}

/* ---- jobs ---- */

static json_t *job_json(const struct search_job *j)
{
    json_t *plugins = json_array();
    for (size_t i = 0; plugins && i < j->num_plugins; i++)
        json_array_append_new(plugins, json_string(j->plugins[i]));
    return json_pack("{s:i, s:s, s:s, s:s, s:o, s:I}", "id", j->id, "status", j->running ? "Running" : "Stopped",
                     "pattern", j->pattern, "category", j->category, "plugins", plugins ? plugins : json_array(),
                     "total", (json_int_t)j->num_results);
}

struct start_ctx {
    struct web_req *r;
    char *pattern, *category;
    char **plugins;
    size_t n;
};

static void start_ready(void *ud, int rc)
{
    struct start_ctx *c = ud;
    struct web_req *r = c->r;
    if (rc != 0) {
        web_reply_error(r, 503, NULL);
    } else if (python_or_409(r)) {
        /* The single values all / enabled / multi name plugin sets. */
        char **use = c->plugins;
        size_t n = c->n;
        const struct search_plugin *pl;
        size_t np = search_plugins(g_search, &pl);
        const char **set = NULL;
        bool special = c->n == 1 && (!strcasecmp(c->plugins[0], "all") || !strcasecmp(c->plugins[0], "enabled") ||
                                     !strcasecmp(c->plugins[0], "multi"));
        if (special) {
            bool all = !strcasecmp(c->plugins[0], "all");
            set = calloc(np ? np : 1, sizeof *set);
            n = 0;
            for (size_t i = 0; set && i < np; i++)
                if (all || pl[i].enabled)
                    set[n++] = pl[i].name;
            use = (char **)set;
        }
        int id = 0;
        rc = (special && !set) ? -ENOMEM
                               : search_start(g_search, c->pattern, c->category, (const char *const *)use, n, &id);
        free(set);
        if (rc == -EBUSY)
            web_reply_error(r, 409, "Unable to create more than 5 concurrent searches.");
        else if (rc == -ENOENT)
            web_reply_error(r, 409, "Python must be installed to use the Search Engine.");
        else if (rc != 0)
            web_reply_error(r, 500, NULL);
        else
            web_reply_json(r, json_pack("{s:i}", "id", id));
    }
    free(c->pattern);
    free(c->category);
    free_words(c->plugins, c->n);
    free(c);
}

static void h_start(struct web_req *r, void *ud)
{
    (void)ud;
    static const char *const req[] = {"pattern", "category", "plugins"};
    if (!require(r, req, 3) || !python_or_409(r))
        return;
    struct start_ctx *c = calloc(1, sizeof *c);
    if (!c || !(c->pattern = trimmed_dup(web_req_param(r, "pattern"))) ||
        !(c->category = trimmed_dup(web_req_param(r, "category"))) ||
        !(c->plugins = split_bar(web_req_param(r, "plugins"), false, &c->n))) {
        if (c) {
            free(c->pattern);
            free(c->category);
        }
        free(c);
        web_reply_error(r, 500, NULL);
        return;
    }
    c->r = r;
    if (search_when_idle(g_search, start_ready, c) != 0)
        start_ready(c, -ENOMEM);
}

static void h_stop(struct web_req *r, void *ud)
{
    (void)ud;
    static const char *const req[] = {"id"};
    if (!require(r, req, 1))
        return;
    if (search_stop(g_search, param_int(r, "id")) != 0)
        web_reply_error(r, 404, NULL);
    else
        web_reply_ok(r);
}

static void h_delete(struct web_req *r, void *ud)
{
    (void)ud;
    static const char *const req[] = {"id"};
    if (!require(r, req, 1))
        return;
    if (search_delete(g_search, param_int(r, "id")) != 0)
        web_reply_error(r, 404, NULL);
    else
        web_reply_ok(r);
}

static void h_status(struct web_req *r, void *ud)
{
    (void)ud;
    int id = param_int(r, "id");
    json_t *a = json_array();
    if (id != 0) {
        const struct search_job *j = search_job_find(g_search, id);
        if (!j) {
            json_decref(a);
            web_reply_error(r, 404, NULL);
            return;
        }
        json_array_append_new(a, job_json(j));
    } else {
        struct search_job *const *jobs;
        size_t n = search_jobs(g_search, &jobs);
        for (size_t i = 0; a && i < n; i++)
            json_array_append_new(a, job_json(jobs[i]));
    }
    web_reply_json(r, a);
}

static json_t *result_json(const struct search_result *sr)
{
    const struct nova_result *x = &sr->r;
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:I}", "fileName", x->file_name, "fileUrl",
                     x->file_url, "fileSize", (json_int_t)x->file_size, "nbSeeders", (json_int_t)x->seeds,
                     "nbLeechers", (json_int_t)x->leechers, "engineName", sr->engine, "siteUrl", x->site_url,
                     "descrLink", x->descr_link, "pubDate", (json_int_t)x->pub_date);
}

static void h_results(struct web_req *r, void *ud)
{
    (void)ud;
    static const char *const req[] = {"id"};
    if (!require(r, req, 1))
        return;
    const struct search_job *j = search_job_find(g_search, param_int(r, "id"));
    if (!j) {
        web_reply_error(r, 404, NULL);
        return;
    }
    int64_t size = (int64_t)j->num_results;
    int64_t limit = param_int(r, "limit");
    int64_t offset = param_int(r, "offset");
    /* SearchController::resultsAction: a negative offset counts from the
     * end; past either end is a conflict; limit <= 0 means all. */
    if (offset > size) {
        web_reply_error(r, 409, "Offset is out of range");
        return;
    }
    if (offset < 0)
        offset += size;
    if (offset < 0) {
        web_reply_error(r, 409, "Offset is out of range");
        return;
    }
    int64_t end = limit > 0 && offset + limit < size ? offset + limit : size;
    json_t *a = json_array();
    for (int64_t i = offset; a && i < end; i++)
        json_array_append_new(a, result_json(&j->results[i]));
    web_reply_json(r, json_pack("{s:s, s:o, s:I}", "status", j->running ? "Running" : "Stopped", "results",
                                a ? a : json_array(), "total", (json_int_t)size));
}

/* ---- plugins ---- */

static json_t *plugin_json(const struct search_plugin *p)
{
    /* "all" first, then the plugin's categories sorted case-insensitively. */
    const char **cats = calloc(p->num_cats ? p->num_cats : 1, sizeof *cats);
    json_t *a = json_array();
    if (cats && a) {
        for (size_t i = 0; i < p->num_cats; i++)
            cats[i] = p->cats[i];
        for (size_t i = 1; i < p->num_cats; i++)
            for (size_t k = i; k > 0 && strcasecmp(cats[k - 1], cats[k]) > 0; k--) {
                const char *t = cats[k];
                cats[k] = cats[k - 1];
                cats[k - 1] = t;
            }
        json_array_append_new(a, json_pack("{s:s, s:s}", "id", "all", "name", search_category_label("all")));
        for (size_t i = 0; i < p->num_cats; i++)
            json_array_append_new(a, json_pack("{s:s, s:s}", "id", cats[i], "name", search_category_label(cats[i])));
    }
    free(cats);
    char ver[24];
    nova_version_str(p->version, ver, sizeof ver);
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "name", p->name, "version", ver, "fullName", p->full_name,
                     "url", p->url, "supportedCategories", a ? a : json_array(), "enabled", p->enabled);
}

static void plugins_ready(void *ud, int rc)
{
    struct web_req *r = ud;
    if (rc != 0) {
        web_reply_error(r, 503, NULL);
        return;
    }
    const struct search_plugin *p;
    size_t n = search_plugins(g_search, &p);
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, plugin_json(&p[i]));
    web_reply_json(r, a);
}

static void h_plugins(struct web_req *r, void *ud)
{
    (void)ud;
    if (search_when_idle(g_search, plugins_ready, r) != 0)
        web_reply_error(r, 500, NULL);
}

static void reply_done(void *ud, int rc)
{
    struct web_req *r = ud;
    if (rc == -ECANCELED)
        web_reply_error(r, 503, NULL);
    else
        web_reply_ok(r);
}

static void h_install(struct web_req *r, void *ud)
{
    (void)ud;
    static const char *const req[] = {"sources"};
    if (!require(r, req, 1))
        return;
    size_t n;
    char **v = split_bar(web_req_param(r, "sources"), false, &n);
    if (!v || search_install(g_search, (const char *const *)v, n, reply_done, r) != 0)
        web_reply_error(r, 500, NULL);
    free_words(v, n);
}

static void h_uninstall(struct web_req *r, void *ud)
{
    (void)ud;
    static const char *const req[] = {"names"};
    if (!require(r, req, 1))
        return;
    size_t n;
    char **v = split_bar(web_req_param(r, "names"), true, &n);
    if (!v) {
        web_reply_error(r, 500, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++)
        search_uninstall(g_search, v[i]);
    free_words(v, n);
    web_reply_ok(r);
}

struct enable_ctx {
    struct web_req *r;
    char **names;
    size_t n;
    bool enable;
};

static void enable_ready(void *ud, int rc)
{
    struct enable_ctx *c = ud;
    if (rc != 0 ||
        search_enable(g_search, (const char *const *)c->names, c->n, c->enable, reply_done, c->r) != 0)
        web_reply_error(c->r, rc == -ECANCELED ? 503 : 500, NULL);
    free_words(c->names, c->n);
    free(c);
}

static void h_enable(struct web_req *r, void *ud)
{
    (void)ud;
    static const char *const req[] = {"names", "enable"};
    if (!require(r, req, 2))
        return;
    struct enable_ctx *c = calloc(1, sizeof *c);
    if (!c || !(c->names = split_bar(web_req_param(r, "names"), true, &c->n))) {
        free(c);
        web_reply_error(r, 500, NULL);
        return;
    }
    c->r = r;
    /* Utils::String::parseBool of the trimmed value; anything else is false. */
    char *v = trimmed_dup(web_req_param(r, "enable"));
    c->enable = v && strcasecmp(v, "true") == 0;
    free(v);
    if (search_when_idle(g_search, enable_ready, c) != 0)
        enable_ready(c, -ENOMEM);
}

static void h_update(struct web_req *r, void *ud)
{
    (void)ud;
    search_update_plugins(g_search);
    web_reply_ok(r);
}

static void h_download(struct web_req *r, void *ud)
{
    struct session *s = ud;
    static const char *const req[] = {"torrentUrl", "pluginName"};
    if (!require(r, req, 2))
        return;
    const char *url = web_req_param(r, "torrentUrl");
    const char *plugin = web_req_param(r, "pluginName");
    if (strncasecmp(url, "magnet:", 7) == 0) {
        /* A magnet skips the plugin: the core's add path with the
         * preferences' defaults, as any add without options. */
        struct service_add_opts o;
        if (service_add_opts_defaults(s, &o) == 0) {
            if (service_add_opts_resolve(s, &o) == 0)
                service_add_uri(s, url, &o, NULL, NULL);
            service_add_opts_free(&o);
        }
    } else {
        int rc = search_download(g_search, plugin, url);
        if (rc != 0)
            log_msg(LOG_WARNING,
                    "Error occurred when downloading torrent via search engine. Engine: \"%s\". URL: \"%s\". "
                    "Error: \"%s\".",
                    plugin, url, rc == -ENOENT ? "Python must be installed to use the Search Engine." : strerror(-rc));
    }
    web_reply_ok(r);
}

int qbt_v2_search_register(struct web_server *ws, struct session *s)
{
    if (g_search)
        return -EEXIST;
    int rc = search_new(s, &g_search);
    if (rc != 0) {
        log_msg(LOG_WARNING, "Search engine: disabled (%s)", strerror(-rc));
        return rc;
    }
    static const struct web_route_def routes[] = {
        {"/api/v2/search/start", WEB_POST, h_start, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/search/stop", WEB_POST, h_stop, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/search/status", WEB_GETPOST, h_status, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/search/results", WEB_GETPOST, h_results, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/search/delete", WEB_POST, h_delete, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/search/plugins", WEB_GETPOST, h_plugins, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/search/installPlugin", WEB_POST, h_install, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/search/uninstallPlugin", WEB_POST, h_uninstall, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/search/enablePlugin", WEB_POST, h_enable, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/search/updatePlugins", WEB_POST, h_update, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/search/downloadTorrent", WEB_POST, h_download, WEB_AUTH_QBT_SESSION, NULL},
    };
    rc = web_routes_add(ws, routes, sizeof routes / sizeof routes[0], s);
    if (rc != 0) {
        log_msg(LOG_CRITICAL, "WebAPI v2: cannot register the search routes (%d)", rc);
        search_free(g_search);
        g_search = NULL;
    }
    return rc;
}

void qbt_v2_search_close(void)
{
    search_free(g_search);
    g_search = NULL;
}
