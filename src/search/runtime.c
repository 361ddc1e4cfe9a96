/* search/runtime — the search module's frame: the nova3 runtime on disk,
 * finding python, the argv and environment of a run, start and close. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/proxy.h"
#include "core/session.h"
#include "core/settings.h"
#include "search/search_int.h"
#include "util/log.h"

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* True when the file at path holds exactly data. */
static bool same_content(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool same = true;
    unsigned char buf[4096];
    size_t off = 0, n;
    while (same && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        same = off + n <= len && memcmp(buf, data + off, n) == 0;
        off += n;
    }
    fclose(f);
    return same && off == len;
}

/* Written to a temporary name and renamed: a run starting meanwhile sees
 * the old file or the new one, never half of one. */
static int write_file(const char *path, const unsigned char *data, size_t len)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (!tmp)
        return -ENOMEM;
    snprintf(tmp, n, "%s.tmp", path);
    int rc = 0;
    FILE *f = fopen(tmp, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len))
        rc = errno ? -errno : -EIO;
    if (f && fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int search_runtime_write(struct search *se)
{
    const char *dirs[] = {se->nova_dir, se->engines_dir, se->tmp_dir};
    for (size_t i = 0; i < 3; i++)
        if (mkdir(dirs[i], 0700) != 0 && errno != EEXIST)
            return -errno;
    for (size_t i = 0; i < search_runtime_files_count; i++) {
        const struct search_runtime_file *rf = &search_runtime_files[i];
        char *path = join(se->nova_dir, rf->name);
        if (!path)
            return -ENOMEM;
        int rc = same_content(path, rf->data, rf->len) ? 0 : write_file(path, rf->data, rf->len);
        free(path);
        if (rc != 0)
            return rc;
    }
    /* engines/ is a package (plugins are imported as engines.<name>). */
    char *init = join(se->engines_dir, "__init__.py");
    if (!init)
        return -ENOMEM;
    int rc = access(init, F_OK) == 0 ? 0 : write_file(init, (const unsigned char *)"", 0);
    free(init);
    return rc;
}

/* A name without '/' is looked up in PATH, as execvp would. */
static bool find_exe(const char *name, char *out, size_t size)
{
    if (!name || !*name)
        return false;
    if (strchr(name, '/')) {
        struct stat st;
        if (stat(name, &st) != 0 || !S_ISREG(st.st_mode) || access(name, X_OK) != 0)
            return false;
        snprintf(out, size, "%s", name);
        return true;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        char cand[4096];
        if (n > 0 && n + strlen(name) + 2 < sizeof cand) {
            snprintf(cand, sizeof cand, "%.*s/%s", (int)n, path, name);
            struct stat st;
            if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
                snprintf(out, size, "%s", cand);
                return true;
            }
        }
        if (!end)
            break;
        path = end + 1;
    }
    return false;
}

const char *search_python(struct search *se)
{
    const char *pref = settings_str(&se->s->settings, SET_PYTHON_EXECUTABLE_PATH);
    if (*pref) {
        if (find_exe(pref, se->python, sizeof se->python))
            return se->python;
        log_msg(LOG_WARNING, "Failed to find Python executable. Path: \"%s\".", pref);
        return NULL;
    }
    if (find_exe("python3", se->python, sizeof se->python) || find_exe("python", se->python, sizeof se->python))
        return se->python;
    return NULL;
}

void search_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

char **search_argv(struct search *se, const char *script, const char *const *args, size_t n)
{
    const char *py = search_python(se);
    if (!py)
        return NULL;
    char **v = calloc(n + 6, sizeof *v);
    if (!v)
        return NULL;
    /* -I: no user site, no PYTHON* variables, no script folder on the path
     * (the runner adds its own); -B: no stale bytecode next to a plugin
     * that was just replaced. */
    const char *head[] = {py, "-I", "-B", "-Xutf8=1"};
    size_t k = 0;
    for (; k < 4; k++)
        if (!(v[k] = strdup(head[k])))
            goto oom;
    if (!(v[k++] = join(se->nova_dir, script)))
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (!(v[k++] = strdup(args[i])))
            goto oom;
    return v;
oom:
    search_argv_free(v);
    return NULL;
}

int search_read_file(const char *path, size_t max, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return -EINVAL;
    }
    if ((uint64_t)st.st_size > max) {
        fclose(f);
        return -EFBIG;
    }
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

char *const *search_env(struct search *se)
{
    static char limits[64], tmpdir[4200], http[1200], https[1200], socks[1200];
    static char *env[8];
    size_t k = 0;
    snprintf(limits, sizeof limits, "TORRENTD_SEARCH_LIMITS=%d,%lld", SEARCH_CPU_LIMIT_S,
             (long long)SEARCH_MEM_LIMIT);
    snprintf(tmpdir, sizeof tmpdir, "TMPDIR=%s", se->tmp_dir);
    env[k++] = limits;
    env[k++] = tmpdir;
    /* proxy_misc: qBittorrent hands HTTP proxies to the plugins as
     * http(s)_proxy and SOCKS ones as qbt_socks_proxy.  A name without '='
     * removes the inherited variable (search/proc). */
    char url[1100];
    proxy_url(se->s, PROXY_USE_MISC, url, sizeof url);
    if (strncmp(url, "http://", 7) == 0) {
        snprintf(http, sizeof http, "http_proxy=%s", url);
        snprintf(https, sizeof https, "https_proxy=%s", url);
        env[k++] = http;
        env[k++] = https;
        env[k++] = "qbt_socks_proxy";
    } else if (*url) {
        snprintf(socks, sizeof socks, "qbt_socks_proxy=%s", url);
        env[k++] = "http_proxy";
        env[k++] = "https_proxy";
        env[k++] = socks;
    } else {
        env[k++] = "http_proxy";
        env[k++] = "https_proxy";
        env[k++] = "qbt_socks_proxy";
    }
    env[k] = NULL;
    return env;
}

const char *search_fetch_error(int rc, long status)
{
    if (rc == 0) {
        switch (status) {
        case 401:
            return "The remote server requires authentication to serve the content but the credentials "
                   "provided were not accepted (401)";
        case 403:
            return "The access to the remote content was denied (403)";
        case 404:
            return "The remote content was not found at the server (404)";
        default:
            return "An unknown error related to the remote content was detected";
        }
    }
    switch (rc) {
    case -ECONNREFUSED:
        return "The remote server refused the connection";
    case -ETIMEDOUT:
        return "The connection to the remote server timed out";
    case -EHOSTUNREACH:
        return "The remote host name was not found (invalid hostname)";
    case -EPROTONOSUPPORT:
        return "The Network Access API cannot honor the request because the protocol is not known";
    default:
        return "An unknown network-related error was detected";
    }
}

const char *search_category_label(const char *key)
{
    static const char *const tab[][2] = {
        {"all", "All categories"}, {"anime", "Anime"},       {"books", "Books"},
        {"games", "Games"},        {"movies", "Movies"},     {"music", "Music"},
        {"pictures", "Pictures"},  {"software", "Software"}, {"tv", "TV shows"},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(tab[i][0], key) == 0)
            return tab[i][1];
    return "";
}

/* What runs of an earlier process left in tmp/ (a plugin's download that
 * was never added) goes at start. */
static void clean_tmp(struct search *se)
{
    DIR *d = opendir(se->tmp_dir);
    if (!d)
        return;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.')
            continue;
        char *p = join(se->tmp_dir, de->d_name);
        struct stat st;
        if (p && lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            unlink(p);
        free(p);
    }
    closedir(d);
}

int search_new(struct session *s, struct search **out)
{
    *out = NULL;
    struct search *se = calloc(1, sizeof *se);
    if (!se)
        return -ENOMEM;
    se->s = s;
    se->loop = s->loop;
    se->timeout_ms = SEARCH_TIMEOUT_MS;
    const char *hook = getenv("TORRENTD_TEST_SEARCH_TIMEOUT_MS");
    if (hook && atoll(hook) > 0)
        se->timeout_ms = (uint64_t)atoll(hook);
    se->nova_dir = join(s->profile_dir, "nova3");
    se->engines_dir = se->nova_dir ? join(se->nova_dir, "engines") : NULL;
    se->tmp_dir = se->nova_dir ? join(se->nova_dir, "tmp") : NULL;
    if (!se->nova_dir || !se->engines_dir || !se->tmp_dir) {
        search_free(se);
        return -ENOMEM;
    }
    int rc = search_runtime_write(se);
    if (rc == 0)
        clean_tmp(se);
    if (rc != 0) {
        log_msg(LOG_WARNING, "Search engine: cannot write the search runtime to %s (%s)", se->nova_dir,
                strerror(-rc));
        search_free(se);
        return rc;
    }
    search_plugins_load(se);
    *out = se;
    return 0;
}

void search_free(struct search *se)
{
    if (!se)
        return;
    se->closing = true;
    search_jobs_close(se);
    search_plugins_close(se);
    free(se->nova_dir);
    free(se->engines_dir);
    free(se->tmp_dir);
    free(se);
}
