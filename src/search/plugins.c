/* search/plugins — qBittorrent's SearchPluginManager: the plugin list from
 * `nova2.py --capabilities`, installs (with backup and rollback),
 * uninstalls, enabling, and the update check.  See search.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/proxy.h"
#include "core/session.h"
#include "core/settings.h"
#include "search/search_int.h"
#include "util/fetch.h"
#include "util/log.h"

#define CAPS_TIMEOUT_MS (60 * 1000)
#define CAPS_MAX_OUT (4u << 20)

/* One install request (installPlugin's sources): done once each source has
 * succeeded or failed. */
struct batch {
    size_t pending;
    void (*cb)(void *ud, int rc);
    void *ud;
};

enum op_kind { OP_LOAD, OP_INSTALL };

struct search_op {
    enum op_kind kind;
    char *name;
    unsigned char *data;     /* the plugin's bytes (OP_INSTALL) */
    size_t len;
    struct batch *batch;
    int phase;               /* OP_INSTALL: 0 not started, 1 checking, 2 restoring the backup */
    bool had_backup;
    struct nova_version incoming;
    struct search_op *next;
};

/* A download in flight: a plugin file (name set) or versions.txt. */
struct search_fetch {
    struct search *se;
    struct fetch_req *req;
    char *url;
    char *name;
    struct batch *batch;
    struct search_fetch *prev, *next;
};

static void run_ops(struct search *se);

static void batch_release(struct batch *b, int rc)
{
    if (b && --b->pending == 0) {
        if (b->cb)
            b->cb(b->ud, rc);
        free(b);
    }
}

/* ---- the list ---- */

static void plugin_clear(struct search_plugin *p)
{
    free(p->name);
    free(p->full_name);
    free(p->url);
    for (size_t i = 0; i < p->num_cats; i++)
        free(p->cats[i]);
    free(p->cats);
}

static void plugins_clear(struct search *se)
{
    for (size_t i = 0; i < se->num_plugins; i++)
        plugin_clear(&se->plugins[i]);
    free(se->plugins);
    se->plugins = NULL;
    se->num_plugins = 0;
}

static int cmp_plugin(const void *a, const void *b)
{
    return strcmp(((const struct search_plugin *)a)->name, ((const struct search_plugin *)b)->name);
}

size_t search_plugins(struct search *se, const struct search_plugin **out)
{
    *out = se->plugins;
    return se->num_plugins;
}

const struct search_plugin *search_plugin_find(struct search *se, const char *name)
{
    if (!name)
        return NULL;
    struct search_plugin key = {.name = (char *)name};
    return se->num_plugins ? bsearch(&key, se->plugins, se->num_plugins, sizeof key, cmp_plugin) : NULL;
}

const char *search_engine_by_url(struct search *se, const char *url)
{
    for (size_t i = 0; i < se->num_plugins; i++)
        if (strcmp(se->plugins[i].url, url) == 0)
            return se->plugins[i].name;
    return "";
}

/* Is name in the comma-separated disabled list? */
static bool is_disabled(struct search *se, const char *name)
{
    const char *list = settings_str(&se->s->settings, SET_SEARCH_DISABLED_ENGINES);
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

static char *plugin_path(struct search *se, const char *name, const char *suffix)
{
    size_t n = strlen(se->engines_dir) + strlen(name) + strlen(suffix) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s", se->engines_dir, name, suffix);
    return p;
}

static struct nova_version file_version(struct search *se, const char *name)
{
    struct nova_version v = {0, 0};
    char *path = plugin_path(se, name, ".py");
    unsigned char *data;
    size_t len;
    if (path && search_read_file(path, SEARCH_PLUGIN_MAX_BYTES, &data, &len) == 0) {
        char bad[32];
        if (nova_version_of_source((const char *)data, len, &v, bad, sizeof bad) == -EINVAL)
            log_msg(LOG_WARNING, "Search plugin '%s.py' contains invalid version string ('%s')", name, bad);
        free(data);
    }
    free(path);
    return v;
}

/* The capabilities output replaces the list (unparseable output leaves it
 * as it was, as in qBittorrent). */
static void apply_caps(struct search *se, const char *xml, size_t len)
{
    struct nova_engine *e;
    size_t n;
    if (nova_caps_parse(xml, len, &e, &n) != 0) {
        log_msg(LOG_WARNING, "Could not parse Nova search engine capabilities");
        return;
    }
    struct search_plugin *v = calloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; v && i < n; i++) {
        if (!nova_name_ok(e[i].name))
            continue;
        struct search_plugin *p = &v[k++];
        p->name = e[i].name;
        p->full_name = e[i].full_name;
        p->url = e[i].url;
        p->cats = e[i].cats;
        p->num_cats = e[i].num_cats;
        e[i].name = e[i].full_name = e[i].url = NULL;
        e[i].cats = NULL;
        e[i].num_cats = 0;
        p->version = file_version(se, p->name);
        p->enabled = !is_disabled(se, p->name);
    }
    nova_engines_free(e, n);
    if (!v)
        return;
    qsort(v, k, sizeof *v, cmp_plugin);
    /* Duplicate names cannot come from one directory; keep the list strict. */
    plugins_clear(se);
    se->plugins = v;
    se->num_plugins = k;
}

/* ---- the operation queue ---- */

static void op_free(struct search_op *op)
{
    free(op->name);
    free(op->data);
    free(op);
}

static void call_idle_waiters(struct search *se, int rc)
{
    while (se->idle_waiters) {
        struct search_waiter *w = se->idle_waiters;
        se->idle_waiters = w->next;
        w->cb(w->ud, rc);
        free(w);
    }
}

static void op_finish(struct search *se)
{
    struct search_op *op = se->ops_head;
    se->ops_head = op->next;
    if (!se->ops_head)
        se->ops_tail = NULL;
    struct batch *b = op->batch;
    op_free(op);
    batch_release(b, 0);
    if (se->ops_head)
        run_ops(se);
    else
        call_idle_waiters(se, 0);
}

static void caps_out(void *ud, const char *data, size_t n)
{
    struct search *se = ud;
    if (se->caps_len + n > CAPS_MAX_OUT)
        return;
    char *b = realloc(se->caps_out, se->caps_len + n + 1);
    if (!b)
        return;
    memcpy(b + se->caps_len, data, n);
    se->caps_len += n;
    b[se->caps_len] = '\0';
    se->caps_out = b;
}

static void install_checked(struct search *se, struct search_op *op);

static void caps_done(void *ud, int64_t status, int sig, bool killed, const char *err, size_t errlen)
{
    (void)status;
    (void)sig;
    struct search *se = ud;
    se->caps_proc = NULL;
    snprintf(se->loaded_python, sizeof se->loaded_python, "%s", se->caps_python);
    if (errlen) {
        char *e = nova_utf8_dup(err, errlen, true);
        log_msg(LOG_WARNING, "Error occurred when fetching search engine capabilities. Error: \"%s\".",
                e ? e : "");
        free(e);
    }
    if (killed)
        log_msg(LOG_WARNING, "Search engine capabilities: the plugins took too long to load");
    apply_caps(se, se->caps_out ? se->caps_out : "", se->caps_len);
    free(se->caps_out);
    se->caps_out = NULL;
    se->caps_len = 0;
    struct search_op *op = se->ops_head;
    if (op->kind == OP_INSTALL)
        install_checked(se, op);
    else
        op_finish(se);
}

/* Starts the capabilities run of the op at the head.  false when it cannot
 * run (no python, no memory: logged); the list then stays as it is. */
static bool caps_start(struct search *se)
{
    static const char *const args[] = {"--capabilities"};
    char **argv = search_argv(se, "nova2.py", args, 1);
    if (!argv)
        return false;
    static const struct search_proc_ops ops = {.out = caps_out, .done = caps_done};
    snprintf(se->caps_python, sizeof se->caps_python, "%s", argv[0]);
    int rc = search_proc_spawn(se->loop, argv, search_env(se), CAPS_TIMEOUT_MS, &ops, se, &se->caps_proc);
    if (rc != 0)
        log_msg(LOG_WARNING, "Search engine capabilities: cannot run %s (%s)", argv[0], uv_strerror(rc));
    search_argv_free(argv);
    return rc == 0;
}

static void restore_backup(struct search *se, struct search_op *op)
{
    char *dest = plugin_path(se, op->name, ".py");
    char *bak = plugin_path(se, op->name, ".py.bak");
    if (dest)
        unlink(dest);
    if (dest && bak && op->had_backup)
        rename(bak, dest);
    free(dest);
    free(bak);
}

static void install_failed(struct search *se, struct search_op *op)
{
    log_msg(LOG_INFO, "Search plugin installation failed. Plugin name: \"%s\"", op->name);
    restore_backup(se, op);
    if (op->had_backup) {
        op->phase = 2;
        if (caps_start(se))
            return;
    }
    op_finish(se);
}

static void install_checked(struct search *se, struct search_op *op)
{
    if (op->phase == 2) {   /* the backup is back and listed again */
        op_finish(se);
        return;
    }
    if (!search_plugin_find(se, op->name)) {
        install_failed(se, op);
        return;
    }
    char ver[24];
    nova_version_str(op->incoming, ver, sizeof ver);
    log_msg(LOG_INFO, "Search plugin has been updated. Plugin name: \"%s\". Version: %s.", op->name, ver);
    char *bak = plugin_path(se, op->name, ".py.bak");
    if (bak)
        unlink(bak);
    free(bak);
    op_finish(se);
}

static void install_begin(struct search *se, struct search_op *op)
{
    char bad[32];
    if (nova_version_of_source((const char *)op->data, op->len, &op->incoming, bad, sizeof bad) == -EINVAL)
        log_msg(LOG_WARNING, "Search plugin '%s.py' contains invalid version string ('%s')", op->name, bad);
    const struct search_plugin *cur = search_plugin_find(se, op->name);
    if (cur && nova_version_cmp(cur->version, op->incoming) >= 0) {
        char a[24], b[24];
        nova_version_str(cur->version, a, sizeof a);
        nova_version_str(op->incoming, b, sizeof b);
        log_msg(LOG_INFO,
                "Same or newer version of search plugin is already installed. Plugin name: \"%s\". Current "
                "version: %s. Incoming version: %s",
                op->name, a, b);
        op_finish(se);
        return;
    }
    char *dest = plugin_path(se, op->name, ".py");
    char *bak = plugin_path(se, op->name, ".py.bak");
    char *tmp = plugin_path(se, op->name, ".py.new");
    bool ok = dest && bak && tmp;
    if (ok) {
        op->had_backup = access(dest, F_OK) == 0 && rename(dest, bak) == 0;
        FILE *f = fopen(tmp, "wb");
        ok = f && fwrite(op->data, 1, op->len, f) == op->len;
        if (f && fclose(f) != 0)
            ok = false;
        ok = ok && rename(tmp, dest) == 0;
        if (!ok)
            unlink(tmp);
    }
    free(dest);
    free(bak);
    free(tmp);
    if (!ok) {
        log_msg(LOG_WARNING, "Search plugin installation failed. Plugin name: \"%s\" (cannot write it to %s)",
                op->name, se->engines_dir);
        restore_backup(se, op);
        op_finish(se);
        return;
    }
    op->phase = 1;
    if (!caps_start(se))
        install_failed(se, op);
}

static void run_ops(struct search *se)
{
    struct search_op *op = se->ops_head;
    if (!op || se->caps_proc || se->closing)
        return;
    if (op->kind == OP_INSTALL) {
        install_begin(se, op);
    } else if (!caps_start(se)) {
        op_finish(se);
    }
}

static void queue_op(struct search *se, struct search_op *op)
{
    bool idle = se->ops_head == NULL;
    if (se->ops_tail)
        se->ops_tail->next = op;
    else
        se->ops_head = op;
    se->ops_tail = op;
    if (idle)
        run_ops(se);
}

void search_plugins_load(struct search *se)
{
    struct search_op *op = calloc(1, sizeof *op);
    if (!op)
        return;
    op->kind = OP_LOAD;
    queue_op(se, op);
}

static void queue_install(struct search *se, const char *name, unsigned char *data, size_t len, struct batch *b)
{
    struct search_op *op = calloc(1, sizeof *op);
    if (!op || !(op->name = strdup(name))) {
        free(op);
        free(data);
        batch_release(b, -ENOMEM);
        return;
    }
    op->kind = OP_INSTALL;
    op->data = data;
    op->len = len;
    op->batch = b;
    queue_op(se, op);
}

int search_when_idle(struct search *se, void (*cb)(void *ud, int rc), void *ud)
{
    /* A list made without python (none at start) or by another one than
     * the preferences now name is made again first. */
    const char *py = se->ops_head ? NULL : search_python(se);
    if (py && strcmp(py, se->loaded_python) != 0)
        search_plugins_load(se);
    if (!se->ops_head) {
        cb(ud, 0);
        return 0;
    }
    struct search_waiter *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->cb = cb;
    w->ud = ud;
    struct search_waiter **pp = &se->idle_waiters;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    return 0;
}

/* ---- downloads ---- */

static void fetch_unlink(struct search *se, struct search_fetch *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        se->fetches = f->next;
    if (f->next)
        f->next->prev = f->prev;
    free(f->url);
    free(f->name);
    free(f);
}

static struct search_fetch *fetch_start(struct search *se, const char *url, const char *name, struct batch *b,
                                        fetch_cb cb)
{
    struct search_fetch *f = calloc(1, sizeof *f);
    if (!f || !(f->url = strdup(url)) || (name && !(f->name = strdup(name)))) {
        if (f)
            free(f->url);
        free(f);
        return NULL;
    }
    f->se = se;
    f->batch = b;
    f->next = se->fetches;
    if (se->fetches)
        se->fetches->prev = f;
    se->fetches = f;
    char proxy[1100];
    proxy_url(se->s, PROXY_USE_MISC, proxy, sizeof proxy);   /* plugin installs and updates: general purpose */
    struct fetch_opts o = {.timeout_ms = 60000, .max_body = SEARCH_PLUGIN_MAX_BYTES, .follow_redirects = 1,
                           .proxy = proxy};
    int rc = fetch_get(se->s->fetch, url, &o, cb, f, &f->req);
    if (rc != 0) {
        f->batch = NULL;
        fetch_unlink(se, f);
        return NULL;
    }
    return f;
}

static void on_plugin_fetched(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg)
{
    (void)errmsg;
    struct search_fetch *f = ud;
    struct search *se = f->se;
    struct batch *b = f->batch;
    f->req = NULL;
    if (rc == 0 && status == 200) {
        unsigned char *copy = malloc(len + 1);
        if (copy) {
            memcpy(copy, body, len);
            copy[len] = '\0';
            queue_install(se, f->name, copy, len, b);
        } else {
            batch_release(b, -ENOMEM);
        }
    } else {
        log_msg(LOG_WARNING, "Search plugin installation failed. Plugin name: \"%s\". Failed to download the "
                             "plugin file. %s", f->name, search_fetch_error(rc, status));
        batch_release(b, 0);
    }
    fetch_unlink(se, f);
}

/* The plugin name of a URL: the last path segment without its extension
 * (qBittorrent's Path(QUrl(url).path()).removedExtension().filename()). */
static bool name_of_url(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    if (!p)
        return false;
    size_t n = strcspn(p, "?#");
    const char *seg = p;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '/')
            seg = p + i + 1;
    size_t sl = (size_t)(p + n - seg);
    const char *dot = NULL;
    for (size_t i = 0; i < sl; i++)
        if (seg[i] == '.')
            dot = seg + i;
    if (dot)
        sl = (size_t)(dot - seg);
    if (sl == 0 || sl >= size)
        return false;
    memcpy(out, seg, sl);
    out[sl] = '\0';
    return nova_name_ok(out);
}

static void install_source(struct search *se, const char *src, struct batch *b)
{
    char name[128];
    if (strncasecmp(src, "http://", 7) == 0 || strncasecmp(src, "https://", 8) == 0) {
        if (!name_of_url(src, name, sizeof name)) {
            log_msg(LOG_WARNING, "Search plugin installation failed: no plugin name in \"%s\"", src);
            batch_release(b, 0);
            return;
        }
        /* The source's share of the batch goes with the download. */
        if (!fetch_start(se, src, name, b, on_plugin_fetched)) {
            log_msg(LOG_WARNING, "Search plugin installation failed. Plugin name: \"%s\". Failed to download the "
                                 "plugin file.", name);
            batch_release(b, 0);
        }
        return;
    }
    const char *path = src;
    if (strncasecmp(path, "file://", 7) == 0)
        path += 7;
    else if (strncasecmp(path, "file:", 5) == 0)
        path += 5;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t bl = strlen(base);
    if (bl < 4 || strcasecmp(base + bl - 3, ".py") != 0 || bl - 3 >= sizeof name) {
        log_msg(LOG_WARNING, "Search plugin installation failed. Plugin name: \"%s\". Unknown search engine plugin "
                             "file format.", base);
        batch_release(b, 0);
        return;
    }
    memcpy(name, base, bl - 3);
    name[bl - 3] = '\0';
    unsigned char *data;
    size_t len;
    int rc = nova_name_ok(name) ? search_read_file(path, SEARCH_PLUGIN_MAX_BYTES, &data, &len) : -EINVAL;
    if (rc != 0) {
        log_msg(LOG_WARNING, "Search plugin installation failed. Plugin name: \"%s\". Cannot read %s (%s)", name,
                path, strerror(-rc));
        batch_release(b, 0);
        return;
    }
    queue_install(se, name, data, len, b);
}

int search_install(struct search *se, const char *const *sources, size_t n, void (*cb)(void *ud, int rc),
                   void *ud)
{
    struct batch *b = calloc(1, sizeof *b);
    if (!b)
        return -ENOMEM;
    b->pending = n + 1;   /* + 1 while being filled */
    b->cb = cb;
    b->ud = ud;
    for (size_t i = 0; i < n; i++)
        install_source(se, sources[i], b);
    batch_release(b, 0);
    return 0;
}

void search_uninstall(struct search *se, const char *name)
{
    if (!nova_name_ok(name))
        return;
    /* engines/<name>.* as qBittorrent removes them (.py, .png, .ico, .bak). */
    static const char *const suffixes[] = {".py", ".png", ".ico", ".py.bak", ".py.new", ".pyc"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char *p = plugin_path(se, name, suffixes[i]);
        if (p)
            unlink(p);
        free(p);
    }
    const struct search_plugin *p = search_plugin_find(se, name);
    if (!p)
        return;
    size_t i = (size_t)(p - se->plugins);
    plugin_clear(&se->plugins[i]);
    memmove(&se->plugins[i], &se->plugins[i + 1], (se->num_plugins - i - 1) * sizeof *se->plugins);
    se->num_plugins--;
}

int search_enable(struct search *se, const char *const *names, size_t n, bool enable,
                  void (*cb)(void *ud, int rc), void *ud)
{
    /* The new disabled list: the old one minus (enable) or plus (disable)
     * the names of installed plugins. */
    const char *old = settings_str(&se->s->settings, SET_SEARCH_DISABLED_ENGINES);
    size_t cap = strlen(old) + 2;
    for (size_t i = 0; i < n; i++)
        cap += strlen(names[i]) + 1;
    char *list = calloc(1, cap);
    if (!list)
        return -ENOMEM;
    size_t len = 0;
    for (const char *p = old; *p;) {
        const char *end = strchr(p, ',');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        bool drop = false;
        for (size_t i = 0; enable && i < n && !drop; i++)
            drop = strlen(names[i]) == l && strncmp(names[i], p, l) == 0 && search_plugin_find(se, names[i]);
        if (l && !drop) {
            len += (size_t)snprintf(list + len, cap - len, "%s%.*s", len ? "," : "", (int)l, p);
        }
        if (!end)
            break;
        p = end + 1;
    }
    for (size_t i = 0; i < n; i++) {
        struct search_plugin *pl = (struct search_plugin *)search_plugin_find(se, names[i]);
        if (!pl)
            continue;
        pl->enabled = enable;
        if (!enable && !is_disabled(se, names[i])) {
            /* not yet in list? (the names given twice: check what we wrote) */
            bool present = false;
            size_t nl = strlen(names[i]);
            for (const char *p = list; *p && !present;) {
                const char *end = strchr(p, ',');
                size_t l = end ? (size_t)(end - p) : strlen(p);
                present = l == nl && strncmp(p, names[i], nl) == 0;
                if (!end)
                    break;
                p = end + 1;
            }
            if (!present)
                len += (size_t)snprintf(list + len, cap - len, "%s%s", len ? "," : "", names[i]);
        }
    }
    struct settings_mask changed = {0};
    int rc = settings_set_str(&se->s->settings, SET_SEARCH_DISABLED_ENGINES, list, &changed);
    free(list);
    if (rc != 0)
        return rc;
    if (settings_mask_empty(&changed)) {
        if (cb)
            cb(ud, 0);
        return 0;
    }
    return session_settings_changed(se->s, &changed, cb ? cb : NULL, ud);
}

/* ---- the update check ---- */

struct update_ctx {
    struct search *se;
    char **names;
    size_t n;
};

static void note_version(void *ud, const char *name, struct nova_version v)
{
    struct update_ctx *c = ud;
    const struct search_plugin *p = search_plugin_find(c->se, name);
    if (p && nova_version_cmp(v, p->version) <= 0)
        return;
    char ver[24];
    nova_version_str(v, ver, sizeof ver);
    log_msg(LOG_INFO, "Plugin \"%s\" is outdated, updating to version %s", name, ver);
    char **names = realloc(c->names, (c->n + 1) * sizeof *names);
    if (!names)
        return;
    c->names = names;
    if ((names[c->n] = strdup(name)))
        c->n++;
}

static void on_versions_fetched(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg)
{
    (void)errmsg;
    struct search_fetch *f = ud;
    struct search *se = f->se;
    f->req = NULL;
    if (rc != 0 || status != 200) {
        log_msg(LOG_INFO, "Failed to check for plugin updates: Update server is temporarily unavailable. %s",
                search_fetch_error(rc, status));
        fetch_unlink(se, f);
        return;
    }
    struct update_ctx c = {.se = se};
    size_t invalid;
    size_t good = nova_versions_parse((const char *)body, len, note_version, &c, &invalid);
    if (invalid > 0) {
        log_msg(LOG_INFO, "Failed to check for plugin updates: Incorrect update info received for %zu out of %zu "
                          "plugins.", invalid, good + invalid);
    } else if (c.n == 0) {
        log_msg(LOG_INFO, "All plugins are already up to date.");
    } else {
        log_msg(LOG_INFO, "Updating %zu plugins", c.n);
        const char *base = settings_str(&se->s->settings, SET_SEARCH_UPDATE_URL);
        for (size_t i = 0; i < c.n; i++) {
            log_msg(LOG_INFO, "Updating plugin %s", c.names[i]);
            size_t ul = strlen(base) + strlen(c.names[i]) + 4;
            char *url = malloc(ul);
            if (url) {
                snprintf(url, ul, "%s%s.py", base, c.names[i]);
                search_install(se, (const char *const *)&url, 1, NULL, NULL);
            }
            free(url);
        }
    }
    for (size_t i = 0; i < c.n; i++)
        free(c.names[i]);
    free(c.names);
    fetch_unlink(se, f);
}

void search_update_plugins(struct search *se)
{
    const char *base = settings_str(&se->s->settings, SET_SEARCH_UPDATE_URL);
    size_t ul = strlen(base) + 16;
    char *url = malloc(ul);
    if (!url)
        return;
    snprintf(url, ul, "%sversions.txt", base);
    if (!fetch_start(se, url, NULL, NULL, on_versions_fetched))
        log_msg(LOG_INFO, "Failed to check for plugin updates: Update server is temporarily unavailable. %s",
                search_fetch_error(-EPROTONOSUPPORT, 0));
    free(url);
}

void search_plugins_close(struct search *se)
{
    while (se->fetches) {
        struct search_fetch *f = se->fetches;
        if (f->req)
            fetch_cancel(f->req);
        struct batch *b = f->batch;
        fetch_unlink(se, f);
        batch_release(b, -ECANCELED);
    }
    if (se->caps_proc) {
        search_proc_abandon(se->caps_proc, true);
        se->caps_proc = NULL;
    }
    free(se->caps_out);
    se->caps_out = NULL;
    /* Waiters (requests) hear -ECANCELED; batches too. */
    while (se->ops_head) {
        struct search_op *op = se->ops_head;
        se->ops_head = op->next;
        struct batch *b = op->batch;
        op_free(op);
        batch_release(b, -ECANCELED);
    }
    se->ops_tail = NULL;
    call_idle_waiters(se, -ECANCELED);
    plugins_clear(se);
}
