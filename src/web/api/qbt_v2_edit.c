/* web/api/qbt_v2_edit — per-torrent edits of the qBittorrent WebUI API v2
 * (../shared/docs/api-surface.md §4.6, §4.7, §9, outside the repository):
 * management mode and locations, name,
 * file priorities, speed and share limits, download flags, trackers, web
 * seeds, and torrents/export.
 *
 * Settings changes go through core/service.h and are answered after their
 * commit.  Storage moves run on a worker and are not waited for, as in
 * qBittorrent: the torrent shows state "moving" meanwhile.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/service.h"
#include "core/view.h"
#include "util/log.h"
#include "util/path.h"
#include "util/pct.h"
#include "web/api/qbt_v2_int.h"

#define MAX_ITEMS 10000          /* ids, urls or file ids in one parameter */
#define WEB_SEED_SCHEMES "[http, https, ftp]"

/* ---- commit-then-reply ---- */


/* ---- parameters ---- */

/* Qt's toLongLong: the whole string (surrounding spaces allowed) must be an
 * integer; *ok tells. */
static int64_t to_int(const char *v, bool *ok)
{
    *ok = false;
    if (!v)
        return 0;
    while (isspace((unsigned char)*v))
        v++;
    if (!*v)
        return 0;
    char *e;
    errno = 0;
    long long x = strtoll(v, &e, 10);
    while (isspace((unsigned char)*e))
        e++;
    if (*e || errno || e == v)
        return 0;
    *ok = true;
    return x;
}


/* Absolute form of a user path: relative ones are under the default save
 * path, as in qBittorrent.  Trailing slashes dropped.  Malloc'd. */
static char *abs_path(struct qbt_v2 *q, const char *p)
{
    char *out;
    if (p[0] == '/')
        out = strdup(p);
    else if (asprintf(&out, "%s/%s", session_default_save_path(q->s), p) < 0)
        out = NULL;
    size_t n = out ? strlen(out) : 0;
    while (n > 1 && out[n - 1] == '/')
        out[--n] = 0;
    return out;
}

/* ---- management mode and locations ---- */

static void h_set_auto_management(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    struct qbt_v2_list l;
    if (!web_req_param(r, "enable")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    bool enable = web_req_bool(r, "enable", false);
    if (!qbt_v2_targets(r, q, "hashes", &l))
        return;
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l.n; i++) {
        b->pending++;
        qbt_v2_batch_check(b, service_set_auto_tmm(q->s, l.v[i], enable, qbt_v2_batch_done, b));
    }
    qbt_v2_list_free(&l);
    if (b)
        qbt_v2_batch_done(b, 0);
}

static void h_set_location(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *loc = web_req_param(r, "location");
    if (!loc || !web_req_param(r, "hashes")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    if (web_req_param_has_nul(r, "location")) {
        web_reply_error(r, 409, "Cannot make save path");   /* qBittorrent: mkpath fails */
        return;
    }
    while (isspace((unsigned char)*loc))
        loc++;
    size_t n = strlen(loc);
    while (n && isspace((unsigned char)loc[n - 1]))
        n--;
    if (n == 0) {
        web_reply_error(r, 400, "Save path cannot be empty");
        return;
    }
    char *trim = strndup(loc, n), *path = trim ? abs_path(q, trim) : NULL;
    free(trim);
    if (!path) {
        web_reply_error(r, 500, NULL);
        return;
    }
    if (path_mkdirs(path) != 0) {
        free(path);
        web_reply_error(r, 409, "Cannot make save path");
        return;
    }
    struct qbt_v2_list l;
    if (!qbt_v2_targets(r, q, "hashes", &l)) {
        free(path);
        return;
    }
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l.n; i++) {
        struct torrent *t = l.v[i];
        log_msg(LOG_INFO, "WebUI Set location: moving \"%s\", from \"%s\" to \"%s\"", torrent_name(t),
                t->save_path, path);
        b->pending++;
        qbt_v2_batch_check(b, service_set_location(q->s, t, path, qbt_v2_batch_done, b));
    }
    qbt_v2_list_free(&l);
    free(path);
    if (b)
        qbt_v2_batch_done(b, 0);
}

/* setSavePath / setDownloadPath: `id`, `path`; only manual torrents. */
static void set_path(struct web_req *r, struct qbt_v2 *q, bool download)
{
    const char *p = web_req_param(r, "path");
    if (!p || !web_req_param(r, "id")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    if (!*p && !download) {
        web_reply_error(r, 400, "Save path cannot be empty");
        return;
    }
    if (web_req_param_has_nul(r, "path")) {
        web_reply_error(r, 409, "Cannot create target directory");   /* qBittorrent: mkpath fails */
        return;
    }
    char *path = *p ? abs_path(q, p) : strdup("");
    if (!path) {
        web_reply_error(r, 500, NULL);
        return;
    }
    if (*path && path_mkdirs(path) != 0) {
        free(path);
        web_reply_error(r, 409, "Cannot create target directory");
        return;
    }
    if (*path && access(path, W_OK) != 0) {
        free(path);
        web_reply_error(r, 403, "Cannot write to directory");
        return;
    }
    struct qbt_v2_list l;
    if (!qbt_v2_targets(r, q, "id", &l)) {
        free(path);
        return;
    }
    for (size_t i = 0; i < l.n; i++) {
        if (download)
            service_set_download_path(q->s, l.v[i], path);   /* -EPERM: automatically managed, left */
        else
            service_set_save_path(q->s, l.v[i], path);
    }
    qbt_v2_list_free(&l);
    free(path);
    web_reply_ok(r);
}

static void h_set_save_path(struct web_req *r, void *ud) { set_path(r, ud, false); }
static void h_set_download_path(struct web_req *r, void *ud) { set_path(r, ud, true); }

/* ---- name and files ---- */

static void h_rename(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *name = web_req_param(r, "name");
    if (!name || !web_req_param(r, "hash")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    while (isspace((unsigned char)*name))
        name++;
    size_t n = strlen(name);
    while (n && isspace((unsigned char)name[n - 1]))
        n--;
    if (n == 0) {
        web_reply_error(r, 409, "Incorrect torrent name");
        return;
    }
    struct torrent *t = qbt_v2_single(r, q);
    if (!t)
        return;
    /* CR LF, CR and LF each become one space. */
    char *v = malloc(n + 1);
    if (!v) {
        web_reply_error(r, 500, NULL);
        return;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '\r' && i + 1 < n && name[i + 1] == '\n')
            i++;
        v[w++] = (name[i] == '\r' || name[i] == '\n') ? ' ' : name[i];
    }
    v[w] = 0;
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    if (b) {
        b->pending++;
        qbt_v2_batch_check(b, service_set_name(q->s, t, v, qbt_v2_batch_done, b));
        qbt_v2_batch_done(b, 0);
    }
    free(v);
}

/* Visible file index (pad files hidden) -> metainfo index, or SIZE_MAX. */
static size_t file_index(const struct torrent *t, int64_t visible)
{
    struct view_file f;
    return visible >= 0 && view_file(t, (size_t)visible, &f) == 0 ? f.index : SIZE_MAX;
}

static void flush_done(void *ud, int rc)
{
    if (rc != 0)
        log_msg(LOG_WARNING, "WebAPI: file priorities could not be saved (%d)", rc);
    web_reply_ok(ud);
}

static void h_file_prio(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *ids = web_req_param(r, "id");
    if (!ids || !web_req_param(r, "hash") || !web_req_param(r, "priority")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    bool ok;
    int64_t prio = to_int(web_req_param(r, "priority"), &ok);
    if (!ok || prio < INT_MIN || prio > INT_MAX) {
        web_reply_error(r, 400, "Priority must be an integer");
        return;
    }
    if (prio != 0 && prio != 1 && prio != 6 && prio != 7) {
        web_reply_error(r, 400, "Priority is not valid");
        return;
    }
    struct torrent *t = qbt_v2_single(r, q);
    if (!t)
        return;
    struct view_meta m;
    view_meta(t, &m);
    if (!m.has_metadata) {
        web_reply_error(r, 409, "Torrent's metadata has not yet downloaded");
        return;
    }
    size_t *idx = malloc(MAX_ITEMS * sizeof(*idx)), n = 0;
    if (!idx) {
        web_reply_error(r, 500, NULL);
        return;
    }
    for (const char *p = ids; n < MAX_ITEMS;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        char part[32] = "";
        if (len < sizeof(part))
            memcpy(part, p, len), part[len] = 0;
        int64_t id = len < sizeof(part) ? to_int(part, &ok) : (ok = false, 0);
        if (!ok) {
            free(idx);
            web_reply_error(r, 400, "File IDs must be integers");
            return;
        }
        size_t fi = id >= 0 ? file_index(t, id) : SIZE_MAX;
        if (fi == SIZE_MAX) {
            free(idx);
            web_reply_error(r, 409, "File ID is not valid");
            return;
        }
        if (t->file_prios[fi] != prio)
            idx[n++] = fi;
        if (!bar)
            break;
        p = bar + 1;
    }
    /* Answered once the change is committed. */
    int rc = service_set_file_priorities(q->s, t, idx, n, (int)prio, flush_done, r);
    free(idx);
    if (rc != 0) {
        if (rc != -ENOMEM && rc != -EINVAL)
            log_msg(LOG_WARNING, "WebAPI: file priorities of '%s' not saved (%d)", torrent_name(t), rc);
        web_reply_ok(r);
    }
}

/* ---- limits ---- */

static void limit_query(struct web_req *r, struct qbt_v2 *q, bool up)
{
    const char *hashes = web_req_param(r, "hashes");
    if (!hashes) {
        web_reply_error(r, 400, NULL);
        return;
    }
    json_t *o = json_object();
    size_t k = 0;
    for (const char *p = hashes; o && k < MAX_ITEMS; k++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        char *id = strndup(p, len);
        if (!id) {
            json_decref(o);
            o = NULL;
            break;
        }
        const struct torrent *t = len == 40 ? session_find_hex(q->s, id) : NULL;
        int64_t v = t && !t->removing ? (up ? t->up_limit : t->dl_limit) : -1;
        json_object_set_new(o, id, json_integer(v));
        free(id);
        if (!bar)
            break;
        p = bar + 1;
    }
    web_reply_json(r, o);   /* NULL = 500 */
}

static void h_download_limit(struct web_req *r, void *ud) { limit_query(r, ud, false); }
static void h_upload_limit(struct web_req *r, void *ud) { limit_query(r, ud, true); }

static void set_limit(struct web_req *r, struct qbt_v2 *q, bool up)
{
    const char *lim = web_req_param(r, "limit");
    struct qbt_v2_list l;
    if (!lim) {
        web_reply_error(r, 400, NULL);
        return;
    }
    bool ok;
    int64_t v = to_int(lim, &ok);   /* <= 0: unlimited */
    if (!qbt_v2_targets(r, q, "hashes", &l))
        return;
    qbt_v2_apply_rate_limit(r, q->s, &l, up, v);
}

static void h_set_download_limit(struct web_req *r, void *ud) { set_limit(r, ud, false); }
static void h_set_upload_limit(struct web_req *r, void *ud) { set_limit(r, ud, true); }

static void h_set_share_limits(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *ratio = web_req_param(r, "ratioLimit"), *st = web_req_param(r, "seedingTimeLimit"),
               *ist = web_req_param(r, "inactiveSeedingTimeLimit");
    struct qbt_v2_list l;
    if (!ratio || !st || !ist) {
        web_reply_error(r, 400, NULL);
        return;
    }
    /* qBittorrent falls back to "use the global limit" for what it cannot
     * parse; a value that is not a number is refused here, naming it, rather
     * than taken as 0 (which for a seeding time stopped the torrent at once). */
    bool ok_st, ok_ist;
    double rl;
    int64_t stl = to_int(st, &ok_st), istl = to_int(ist, &ok_ist);
    const char *bad = !qbt_v2_parse_ratio(ratio, &rl) ? "ratioLimit"
                    : !ok_st                          ? "seedingTimeLimit"
                    : !ok_ist                         ? "inactiveSeedingTimeLimit" : NULL;
    if (bad) {
        char m[64];
        snprintf(m, sizeof m, "Invalid value for parameter '%s'", bad);
        web_reply_error(r, 400, m);
        return;
    }
    if (!qbt_v2_targets(r, q, "hashes", &l))
        return;
    const char *act = web_req_param(r, "shareLimitAction");
    struct service_share_limits sl = {rl, stl, istl, act != NULL, qbt_v2_share_action_parse(act)};
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l.n; i++) {
        b->pending++;
        qbt_v2_batch_check(b, service_set_share_limits(q->s, l.v[i], &sl, qbt_v2_batch_done, b));
    }
    qbt_v2_list_free(&l);
    if (b)
        qbt_v2_batch_done(b, 0);
}

/* ---- flags ---- */

/* value < 0: toggle. */
static void set_flag(struct web_req *r, struct qbt_v2 *q, enum service_flag f, int value)
{
    struct qbt_v2_list l;
    if (!qbt_v2_targets(r, q, "hashes", &l))
        return;
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l.n; i++) {
        b->pending++;
        qbt_v2_batch_check(b, service_set_flag(q->s, l.v[i], f, value, qbt_v2_batch_done, b));
    }
    qbt_v2_list_free(&l);
    if (b)
        qbt_v2_batch_done(b, 0);
}

static void h_toggle_sequential(struct web_req *r, void *ud) { set_flag(r, ud, SERVICE_FLAG_SEQUENTIAL, -1); }
static void h_toggle_first_last(struct web_req *r, void *ud) { set_flag(r, ud, SERVICE_FLAG_FIRST_LAST, -1); }

static void h_set_super_seeding(struct web_req *r, void *ud)
{
    if (!web_req_param(r, "value")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    set_flag(r, ud, SERVICE_FLAG_SUPER_SEEDING, web_req_bool(r, "value", false));
}

/* ---- trackers ---- */

static void h_add_trackers(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *urls = web_req_param(r, "urls");
    if (!urls || !web_req_param(r, "hash")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct torrent *t = qbt_v2_single(r, ud);
    if (!t)
        return;
    /* One URL a line; an empty line starts the next tier. */
    struct service_tracker *v = malloc(MAX_ITEMS * sizeof *v);
    if (!v) {
        web_reply_error(r, 500, NULL);
        return;
    }
    int tier = 0;
    size_t k = 0, n = 0;
    for (const char *p = urls; k < MAX_ITEMS; k++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len == 0) {
            if (tier < INT_MAX)
                tier++;
        } else {
            char *u = strndup(p, len);
            if (u)
                v[n++] = (struct service_tracker){u, tier};
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    service_add_trackers(q->s, t, v, n);
    for (size_t i = 0; i < n; i++)
        free((char *)v[i].url);
    free(v);
    web_reply_ok(r);
}

static bool url_valid(const char *u);

/* qBittorrent parses the URL (QUrl): curl's parser catches the same
 * malformed hosts (e.g. an unclosed IPv6 bracket).  QUrl also takes a
 * reference without a scheme ("127.1.0.2", qbittorrent-api's own test),
 * so curl gets a default scheme for those. */
static bool tracker_url_valid(const char *u)
{
    if (!url_valid(u))
        return false;
    CURLU *h = curl_url();
    if (!h)
        return false;
    CURLUcode rc = curl_url_set(h, CURLUPART_URL, u, CURLU_NON_SUPPORT_SCHEME | CURLU_DEFAULT_SCHEME);
    curl_url_cleanup(h);
    return rc == CURLUE_OK;
}

static void h_edit_tracker(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *orig = web_req_param(r, "origUrl"), *nu = web_req_param(r, "newUrl");
    if (!orig || !nu || !web_req_param(r, "hash")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct torrent *t = qbt_v2_single(r, ud);
    if (!t)
        return;
    if (!*nu || !tracker_url_valid(nu)) {
        web_reply_error(r, 400, "New tracker URL is invalid");
        return;
    }
    int rc = service_replace_tracker(q->s, t, orig, nu);
    if (rc == -EEXIST)
        web_reply_error(r, 409, "New tracker URL already exists");
    else if (rc == -ENOENT)
        web_reply_error(r, 409, "Tracker not found");
    else if (rc == -EINVAL)
        web_reply_error(r, 400, "New tracker URL is invalid");
    else if (rc != 0)
        web_reply_error(r, 500, NULL);
    else
        web_reply_ok(r);
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

static void remove_urls(struct qbt_v2 *q, struct torrent *t, const char *urls)
{
    char **v = calloc(MAX_ITEMS, sizeof *v);
    size_t k = 0, n = 0;
    for (const char *p = urls; v && k < MAX_ITEMS; k++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len) {   /* QUrl::fromPercentEncoding: %XX decoded, anything else kept */
            pct_decode(p, len, PCT_LENIENT, &v[n], NULL);
            n += v[n] != NULL;
        }
        if (!bar)
            break;
        p = bar + 1;
    }
    service_remove_trackers(q->s, t, (const char *const *)v, n);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void h_remove_trackers(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *urls = web_req_param(r, "urls"), *hash = web_req_param(r, "hash");
    if (!urls || !hash) {
        web_reply_error(r, 400, NULL);
        return;
    }
    if (strcmp(hash, "*") == 0) {
        for (size_t i = 0; i < q->s->num_torrents; i++)
            if (!q->s->torrents[i]->removing)
                remove_urls(q, q->s->torrents[i], urls);
        web_reply_ok(r);
        return;
    }
    struct torrent *t = qbt_v2_single(r, q);
    if (!t)
        return;
    remove_urls(q, t, urls);
    web_reply_ok(r);
}

/* ---- web seeds ---- */

/* QUrl StrictMode validity, roughly: not empty, no spaces or controls, none
 * of the characters a URL may not carry raw, well-formed %XX escapes. */
static bool url_valid(const char *u)
{
    if (!u || !*u)
        return false;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f || strchr("\"<>\\^`{|}", *p))
            return false;
        if (*p == '%' && (hexval(p[1]) < 0 || hexval(p[2]) < 0))
            return false;
    }
    return true;
}

static bool scheme_ok(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0 ||
           strncasecmp(u, "ftp://", 6) == 0;
}

/* Splits urls on '|' (empty parts skipped), trimmed, into a NULL-terminated
 * array; checks each (and its scheme if asked).  Replies 400 itself. */
static char **web_seed_list(struct web_req *r, const char *urls, bool check_scheme)
{
    char **v = calloc(MAX_ITEMS + 1, sizeof(*v));
    size_t n = 0;
    char msg[600];
    for (const char *p = urls; v && n < MAX_ITEMS;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len) {
            char *raw = strndup(p, len);
            const char *s = raw;
            while (s && isspace((unsigned char)*s))
                s++;
            size_t sl = s ? strlen(s) : 0;
            while (sl && isspace((unsigned char)s[sl - 1]))
                sl--;
            char *u = s ? strndup(s, sl) : NULL;
            const char *err = NULL;
            if (!u)
                err = "";
            else if (!url_valid(u))
                snprintf(msg, sizeof(msg), "\"%.500s\" is not a valid URL", raw), err = msg;
            else if (check_scheme && !scheme_ok(u))
                err = "URL scheme must be one of " WEB_SEED_SCHEMES;
            free(raw);
            if (err) {
                free(u);
                for (size_t i = 0; i < n; i++)
                    free(v[i]);
                free(v);
                web_reply_error(r, *err ? 400 : 500, *err ? err : NULL);
                return NULL;
            }
            v[n++] = u;
        }
        if (!bar)
            break;
        p = bar + 1;
    }
    if (!v)
        web_reply_error(r, 500, NULL);
    return v;
}

static void free_list(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* addWebSeeds / removeWebSeeds: the same checks, one list operation apart. */
static void change_web_seeds(struct web_req *r, void *ud, bool add)
{
    const char *urls = web_req_param(r, "urls");
    if (!urls || !web_req_param(r, "hash")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct torrent *t = qbt_v2_single(r, ud);
    if (!t)
        return;
    char **v = web_seed_list(r, urls, add);
    if (!v)
        return;
    size_t n = 0;
    while (v[n])
        n++;
    service_change_web_seeds(t->s, t, add, (const char *const *)v, n);
    free_list(v);
    web_reply_ok(r);
}

static void h_add_web_seeds(struct web_req *r, void *ud)
{
    change_web_seeds(r, ud, true);
}

static void h_remove_web_seeds(struct web_req *r, void *ud)
{
    change_web_seeds(r, ud, false);
}

static void h_edit_web_seed(struct web_req *r, void *ud)
{
    const char *orig = web_req_param(r, "origUrl"), *nu = web_req_param(r, "newUrl");
    if (!orig || !nu || !web_req_param(r, "hash")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct torrent *t = qbt_v2_single(r, ud);
    if (!t)
        return;
    char msg[600];
    const char *bad = !url_valid(orig) ? orig : !url_valid(nu) ? nu : NULL;
    if (bad) {
        snprintf(msg, sizeof(msg), "\"%.500s\" is not a valid URL", bad);
        web_reply_error(r, 400, msg);
        return;
    }
    if (!scheme_ok(nu)) {
        web_reply_error(r, 400, "URL scheme must be one of " WEB_SEED_SCHEMES);
        return;
    }
    int rc = service_replace_web_seed(t->s, t, orig, nu);
    if (rc == -ENOENT || rc == -EAGAIN) {
        snprintf(msg, sizeof(msg), "\"%.500s\" is not an existing URL", orig);
        web_reply_error(r, 409, msg);
        return;
    }
    if (rc != 0) {
        web_reply_error(r, 500, NULL);
        return;
    }
    web_reply_ok(r);
}

/* ---- export ---- */

static void h_export(struct web_req *r, void *ud)
{
    struct torrent *t = qbt_v2_single(r, ud);
    if (!t)
        return;
    uint8_t *body;
    size_t len;
    int rc = view_torrent_file(t, &body, &len);
    if (rc == -ENOMEM) {
        web_reply_error(r, 500, NULL);
        return;
    }
    if (rc != 0) {
        web_reply_error(r, 409, "Unable to export torrent file. Error: the torrent has no metadata");
        return;
    }
    char disp[80];
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s.torrent\"", t->hex);
    web_req_add_header(r, "Content-Disposition", disp);
    web_reply(r, 200, "application/x-bittorrent", body, len);
    free(body);
}

/* ---- registration (called by qbt_v2_register_catalog) ---- */

int qbt_v2_register_edit(struct qbt_v2 *q)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/torrents/setAutoManagement", WEB_POST, h_set_auto_management, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/setLocation", WEB_POST, h_set_location, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/setSavePath", WEB_POST, h_set_save_path, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/setDownloadPath", WEB_POST, h_set_download_path, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/rename", WEB_POST, h_rename, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/filePrio", WEB_POST, h_file_prio, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/downloadLimit", WEB_GETPOST, h_download_limit, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/uploadLimit", WEB_GETPOST, h_upload_limit, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/setDownloadLimit", WEB_POST, h_set_download_limit, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/setUploadLimit", WEB_POST, h_set_upload_limit, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/setShareLimits", WEB_POST, h_set_share_limits, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/toggleSequentialDownload", WEB_POST, h_toggle_sequential, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/toggleFirstLastPiecePrio", WEB_POST, h_toggle_first_last, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/setSuperSeeding", WEB_POST, h_set_super_seeding, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/addTrackers", WEB_POST, h_add_trackers, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/editTracker", WEB_POST, h_edit_tracker, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/removeTrackers", WEB_POST, h_remove_trackers, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/addWebSeeds", WEB_POST, h_add_web_seeds, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/editWebSeed", WEB_POST, h_edit_web_seed, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/removeWebSeeds", WEB_POST, h_remove_web_seeds, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/export", WEB_GETPOST, h_export, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
}
