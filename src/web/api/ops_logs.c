/* web/api/ops_logs — the daemon's log for the operations API.
 *
 * GET /api/logs?limit=&level=&source= reads util/log's ring (the one v2
 * log/main reads): {"logs":[{timestamp,level,source,message}]}, newest
 * last, at most `limit` (100; 1..10000).  Levels are qBittorrent's types
 * named as Python's logging names them (normal and info: INFO, warning:
 * WARNING, critical: CRITICAL); `level` is a minimum (DEBUG and INFO: all,
 * WARNING: warnings and critical, ERROR and CRITICAL: critical), by
 * default the one POST /api/loglevel set.  The source is the subsystem a
 * message names first ("Ops:", "RSS", "WebAPI", ...; "Main" otherwise), as
 * qBitrr's per-process log names; `source` filters on it (case-insensitive).
 * "files" lists the log files GET /api/logs/<name> can read.
 *
 * GET /api/logs/<name>?lines=&offset=&format=json tails a file of the
 * file log (core/logfile.c: qbittorrent.log and its .bak rotations;
 * qBitrr's Main.log and All.log name qbittorrent.log):
 * `lines` (2000; 1..50000) lines ending `offset` lines before the end; JSON
 * {"content","next_bytes","size","inode","rotated","truncated"} as qBitrr,
 * text/plain otherwise.
 *
 * POST /api/loglevel {"level":"DEBUG"} (CRITICAL, ERROR, WARNING, NOTICE,
 * INFO, DEBUG, TRACE) sets the default filter above; DEBUG and TRACE also
 * turn on every log source (peer connections, WebUI requests, ...: the
 * chatter µTorrent's logmask selects), INFO and above put the configured
 * sources back.  Not persisted, as in qBitrr.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>

#include "core/session.h"
#include "util/log.h"
#include "web/api/ops_int.h"

#define LOGS_DEFAULT 100
#define LOGS_MAX 10000
#define TAIL_DEFAULT 2000
#define TAIL_MAX 50000
#define TAIL_READ_MAX ((off_t)16 << 20)   /* bytes read from a file's end at most */

static const char *level_name(int type)
{
    switch (type) {
    case LOG_WARNING: return "WARNING";
    case LOG_CRITICAL: return "CRITICAL";
    default: return "INFO";
    }
}

/* log_level bits at or above a Python level name; 0 = unknown name. */
static int mask_of(const char *name)
{
    static const struct {
        const char *name;
        int mask;
    } m[] = {
        {"TRACE", LOG_NORMAL | LOG_INFO | LOG_WARNING | LOG_CRITICAL},
        {"DEBUG", LOG_NORMAL | LOG_INFO | LOG_WARNING | LOG_CRITICAL},
        {"INFO", LOG_NORMAL | LOG_INFO | LOG_WARNING | LOG_CRITICAL},
        {"NOTICE", LOG_NORMAL | LOG_WARNING | LOG_CRITICAL},
        {"WARNING", LOG_WARNING | LOG_CRITICAL},
        {"ERROR", LOG_CRITICAL},
        {"CRITICAL", LOG_CRITICAL},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcasecmp(name, m[i].name) == 0)
            return m[i].mask;
    return 0;
}

/* The subsystem a message names first. */
static void source_of(const char *msg, char *out, size_t len)
{
    static const struct {
        const char *prefix, *source;
    } m[] = {
        {"Ops:", "Ops"},    {"RSS", "RSS"},       {"WebAPI", "WebUI"},   {"WebUI", "WebUI"},
        {"DHT", "DHT"},     {"Search", "Search"}, {"Watched", "Watched folders"},
        {"Automation", "Automation"}, {"qbit_manage", "Automation"},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strncmp(msg, m[i].prefix, strlen(m[i].prefix)) == 0) {
            snprintf(out, len, "%s", m[i].source);
            return;
        }
    snprintf(out, len, "Main");
}

struct collect {
    json_t *all;
    const char *source;
};

static void add_entry(const struct log_entry *e, void *ud)
{
    struct collect *c = ud;
    const char *msg = e->message ? e->message : "";
    char src[32];
    source_of(msg, src, sizeof src);
    if (c->source && *c->source && strcasecmp(c->source, src) != 0)
        return;
    time_t t = (time_t)e->timestamp;
    struct tm tm;
    char ts[32];
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_array_append_new(c->all, json_pack("{s:s, s:s, s:s, s:s, s:I}", "timestamp", ts, "level",
                                            level_name(e->type), "source", src, "message", msg, "id",
                                            (json_int_t)e->id));
}

static int log_dir(char *buf, size_t len)
{
    char path[4096];
    log_file_path(path, sizeof path);
    char *slash = strrchr(path, '/');
    if (!*path || !slash)
        return -ENOENT;
    *slash = 0;
    snprintf(buf, len, "%s", path);
    return 0;
}

static json_t *log_files(void)
{
    json_t *a = json_array();
    char dir[4096];
    if (log_dir(dir, sizeof dir) != 0)
        return a;
    DIR *d = opendir(dir);
    if (!d)
        return a;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "qbittorrent.log", 15) == 0)
            json_array_append_new(a, json_string(e->d_name));
    closedir(d);
    return a;
}

static void h_logs(struct web_req *r, void *ud)
{
    struct ops_web *w = ud;
    const char *lv = web_req_param(r, "level");
    int mask = lv && *lv ? mask_of(lv) : w->min_level;
    if (!mask) {
        ops_reply_error(r, 400, "level must be DEBUG, INFO, WARNING, ERROR or CRITICAL");
        return;
    }
    const char *ls = web_req_param(r, "limit");
    long limit = LOGS_DEFAULT;
    if (ls && *ls) {
        char *end;
        limit = strtol(ls, &end, 10);
        if (*end || limit < 1) {
            ops_reply_error(r, 400, "limit must be a positive integer");
            return;
        }
        if (limit > LOGS_MAX)
            limit = LOGS_MAX;
    }
    struct collect c = {json_array(), web_req_param(r, "source")};
    log_entries(-1, mask, add_entry, &c);
    size_t n = json_array_size(c.all);
    json_t *out = json_array();
    for (size_t i = n > (size_t)limit ? n - (size_t)limit : 0; i < n; i++)
        json_array_append(out, json_array_get(c.all, i));
    json_decref(c.all);
    web_reply_json(r, json_pack("{s:o, s:o}", "logs", out, "files", log_files()));
}

static long param_long(struct web_req *r, const char *k, long dflt, long min, long max, bool *bad)
{
    const char *v = web_req_param(r, k);
    if (!v || !*v)
        return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < min) {
        *bad = true;
        return dflt;
    }
    return x > max ? max : x;
}

static void h_tail(struct web_req *r, void *ud)
{
    (void)ud;
    const char *name = web_req_path(r) + strlen("/api/logs/");
    if (strcmp(name, "Main.log") == 0 || strcmp(name, "All.log") == 0)
        name = "qbittorrent.log";   /* qBitrr's names for the one log torrentd has */
    if (strncmp(name, "qbittorrent.log", 15) != 0 || strchr(name, '/') || strstr(name, "..")) {
        ops_reply_error(r, 404, "no such log file");
        return;
    }
    bool bad = false;
    long lines = param_long(r, "lines", TAIL_DEFAULT, 1, TAIL_MAX, &bad);
    long offset = param_long(r, "offset", 0, 0, LONG_MAX / 2, &bad);
    if (bad) {
        ops_reply_error(r, 400, "lines and offset are non-negative integers");
        return;
    }
    char dir[4096], path[4400];
    if (log_dir(dir, sizeof dir) != 0) {
        ops_reply_error(r, 404, "the file log is off (file_log_enabled)");
        return;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        ops_reply_error(r, 404, "no such log file");
        return;
    }
    off_t start = sb.st_size > TAIL_READ_MAX ? sb.st_size - TAIL_READ_MAX : 0;
    size_t len = (size_t)(sb.st_size - start);
    char *buf = malloc(len + 1);
    ssize_t got = buf ? pread(fd, buf, len, start) : -1;
    close(fd);
    if (got < 0) {
        free(buf);
        web_reply_error(r, 500, NULL);
        return;
    }
    buf[got] = 0;
    /* Every line's start; a partial first line (the read began mid-file)
     * is not shown.  Lines [first, last) of them are: `lines` ending
     * `offset` before the end. */
    size_t n = (size_t)got;
    if (n && buf[n - 1] == '\n')
        n--;
    size_t nl = 0, cap = 256;
    size_t *st = malloc(cap * sizeof *st);
    if (st && n)
        st[nl++] = 0;
    for (size_t i = 0; st && i < n; i++) {
        if (buf[i] != '\n')
            continue;
        if (nl == cap) {
            size_t *v = realloc(st, (cap *= 2) * sizeof *v);
            if (!v) {
                free(st);
                st = NULL;
                break;
            }
            st = v;
        }
        st[nl++] = i + 1;
    }
    if (!st) {
        free(buf);
        web_reply_error(r, 500, NULL);
        return;
    }
    size_t skip = start > 0 && nl ? 1 : 0;
    size_t total = nl - skip;
    size_t last = (size_t)offset >= total ? 0 : total - (size_t)offset;
    size_t first = last > (size_t)lines ? last - (size_t)lines : 0;
    bool truncated = first > 0 || start > 0;
    size_t from = first < last ? st[skip + first] : 0;
    size_t to = last < total ? st[skip + last] : (size_t)got;
    size_t clen = first < last ? to - from : 0;
    free(st);
    const char *fmt = web_req_param(r, "format");
    if (fmt && strcmp(fmt, "json") == 0) {
        json_t *o = json_pack("{s:s%, s:I, s:I, s:I, s:b, s:b}", "content", buf + from, clen, "next_bytes",
                              (json_int_t)sb.st_size, "size", (json_int_t)sb.st_size, "inode",
                              (json_int_t)sb.st_ino, "rotated", 0, "truncated", truncated);
        free(buf);
        web_reply_json(r, o);
        return;
    }
    web_reply(r, 200, "text/plain; charset=UTF-8", buf + from, clen);
    free(buf);
}

static void h_loglevel(struct web_req *r, void *ud)
{
    struct ops_web *w = ud;
    json_t *b = ops_body(r);
    if (!b)
        return;
    const char *lv = json_string_value(json_object_get(b, "level"));
    int mask = lv ? mask_of(lv) : 0;
    if (!mask) {
        json_decref(b);
        ops_reply_error(r, 400, "level must be one of CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG, TRACE");
        return;
    }
    w->min_level = mask;
    snprintf(w->level_name, sizeof w->level_name, "%s", lv);
    for (char *p = w->level_name; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (strcmp(w->level_name, "DEBUG") == 0 || strcmp(w->level_name, "TRACE") == 0) {
        log_set_sources(~0u);
    } else {
        /* The configured sources again (core/tuning applies them on SG_LOG). */
        struct settings_mask m = {0};
        for (int i = 0; i < SET__COUNT; i++)
            if (settings_defs[i].groups & SG_LOG)
                settings_mask_add(&m, (enum setting_id)i);
        settings_notify(&w->s->settings, &m);
    }
    log_msg(LOG_INFO, "Ops: log level set to %s", w->level_name);
    json_decref(b);
    web_reply_json(r, json_pack("{s:s, s:s}", "status", "ok", "level", w->level_name));
}

int ops_logs_register(struct ops_web *w)
{
    static const struct web_route_def routes[] = {
        {"/api/logs", WEB_GET, h_logs, WEB_AUTH_OPS_TOKEN, NULL},
        {"/api/logs/*", WEB_GET, h_tail, WEB_AUTH_OPS_TOKEN, NULL},
        {"/api/loglevel", WEB_POST, h_loglevel, WEB_AUTH_OPS_TOKEN, NULL},
    };
    return web_routes_add(w->ws, routes, sizeof routes / sizeof routes[0], w);
}
