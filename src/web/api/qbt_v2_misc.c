/* web/api/qbt_v2_misc — the small qBittorrent 5.x endpoints nothing else
 * owns: app/networkInterfaceList, networkInterfaceAddressList,
 * getDirectoryContent, cookies, setCookies, sendTestEmail and
 * torrents/SSLParameters, setSSLParameters.
 *
 * Cookies (core/cookiejar.h) go with .torrent downloads; SSL parameters
 * are set through core/service.h.  Core owns both store rows; a change is
 * answered after its commit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/natcmp.h"
#include "util/buf.h"
#include "util/log.h"
#include "core/notify.h"
#include "core/cookiejar.h"
#include "core/service.h"
#include "web/api/qbt_v2_int.h"

#define MAX_COOKIES_TEXT (4u << 20)     /* the `cookies` param */
#define MAX_COOKIES 10000u
#define MAX_DIR_ENTRIES 100000u         /* getDirectoryContent reply */
#define MAX_IFADDRS 4096u

/* ---- app/networkInterfaceList, networkInterfaceAddressList ---- */

struct if_entry {
    unsigned index, seq;
    bool running;
    char name[IF_NAMESIZE + 1];
    char addr[INET6_ADDRSTRLEN + 12];   /* + "%<scope id>" */
};

static int cmp_if_entry(const void *a, const void *b)
{
    const struct if_entry *x = a, *y = b;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* IPv4/IPv6 addresses of every interface in interface-index order (as Qt
 * lists them), link-local IPv6 with "%<interface index>" as qBittorrent
 * prints them. */
static int if_entries(struct if_entry **out, size_t *n)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0)
        return -errno;
    size_t cnt = 0;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
        if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
            cnt++;
    if (cnt > MAX_IFADDRS)
        cnt = MAX_IFADDRS;
    struct if_entry *v = calloc(cnt ? cnt : 1, sizeof *v);
    if (!v) {
        freeifaddrs(ifa);
        return -ENOMEM;
    }
    size_t k = 0;
    for (struct ifaddrs *i = ifa; i && k < cnt; i = i->ifa_next) {
        if (!i->ifa_addr || !i->ifa_name || strlen(i->ifa_name) > IF_NAMESIZE)
            continue;
        int fam = i->ifa_addr->sa_family;
        const void *a;
        if (fam == AF_INET)
            a = &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
        else if (fam == AF_INET6)
            a = &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
        else
            continue;
        if (!inet_ntop(fam, a, v[k].addr, sizeof v[k].addr - 12))
            continue;
        uint32_t scope = 0;
        if (fam == AF_INET6)
            scope = ((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_scope_id;
        if (scope)   /* link-local: qBittorrent's canonicalIPv6Addr keeps the index */
            snprintf(v[k].addr + strlen(v[k].addr), 12, "%%%u", (unsigned)scope);
        strcpy(v[k].name, i->ifa_name);
        v[k].index = if_nametoindex(i->ifa_name);
        v[k].seq = (unsigned)k;
        v[k].running = (i->ifa_flags & IFF_RUNNING) != 0;
        k++;
    }
    freeifaddrs(ifa);
    qsort(v, k, sizeof *v, cmp_if_entry);
    *out = v;
    *n = k;
    return 0;
}

static void h_iface_list(struct web_req *r, void *ud)
{
    (void)ud;
    struct if_entry *v;
    size_t n;
    int rc = if_entries(&v, &n);
    if (rc != 0) {
        log_msg(LOG_WARNING, "WebAPI: cannot list network interfaces: %s", strerror(-rc));
        web_reply_error(r, 500, NULL);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (i > 0 && strcmp(v[i].name, v[i - 1].name) == 0)
            continue;
        /* Qt's humanReadableName is the name itself on Linux. */
        json_array_append_new(a, json_pack("{s:s, s:s}", "name", v[i].name, "value", v[i].name));
    }
    free(v);
    if (!a)
        web_reply_error(r, 500, NULL);
    else
        web_reply_json(r, a);
}

/* Qt's interfaceFromName also takes an interface index. */
static bool iface_match(const struct if_entry *e, const char *want)
{
    char *end;
    errno = 0;
    unsigned long idx = strtoul(want, &end, 10);
    if (*want >= '0' && *want <= '9' && !*end && errno == 0)
        return e->index == idx;
    return strcmp(e->name, want) == 0;
}

static void h_iface_addrs(struct web_req *r, void *ud)
{
    (void)ud;
    const char *want = web_req_param(r, "iface");
    if (!want) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct if_entry *v;
    size_t n;
    int rc = if_entries(&v, &n);
    if (rc != 0) {
        log_msg(LOG_WARNING, "WebAPI: cannot list network interfaces: %s", strerror(-rc));
        web_reply_error(r, 500, NULL);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        /* "" = QNetworkInterface::allAddresses(): running interfaces only. */
        if (*want ? iface_match(&v[i], want) : v[i].running)
            json_array_append_new(a, json_string(v[i].addr));
    }
    free(v);
    if (!a)
        web_reply_error(r, 500, NULL);
    else
        web_reply_json(r, a);
}

/* ---- app/getDirectoryContent (listing on a worker thread) ---- */

enum dir_mode { DIR_BAD = 0, DIR_DIRS = 1, DIR_FILES = 2, DIR_ALL = 3 };

struct dir_item {
    char *name;
    struct statx st;
};

struct dir_job {
    uv_work_t work;
    struct web_req *r;
    char *path;
    enum dir_mode mode;
    bool meta;
    int status;          /* 200, 404, 400 (mode), 500 */
    json_t *result;
};

static int cmp_dir_item(const void *a, const void *b)
{
    const struct dir_item *x = a, *y = b;
    int c = natcmp(x->name, y->name);
    return c ? c : strcmp(x->name, y->name);
}

static json_t *dir_item_json(const struct dir_job *j, const char *prefix, const struct dir_item *it)
{
    if (!j->meta) {
        char *full = NULL;
        if (asprintf(&full, "%s%s", prefix, it->name) < 0)
            return NULL;
        json_t *s = json_string(full);
        free(full);
        return s;
    }
    bool dir = S_ISDIR(it->st.stx_mode);
    json_int_t birth = (it->st.stx_mask & STATX_BTIME) ? (json_int_t)it->st.stx_btime.tv_sec : -1;
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", it->name, "type", dir ? "dir" : "file",
                          "creation_date", birth, "last_access_date", (json_int_t)it->st.stx_atime.tv_sec,
                          "last_modification_date", (json_int_t)it->st.stx_mtime.tv_sec);
    if (o && !dir)
        json_object_set_new(o, "size", json_integer((json_int_t)it->st.stx_size));
    return o;
}

/* QDirIterator(dirPath, NoDotAndDotDot | Dirs/Files): no hidden entries, no
 * sockets/devices/broken links; symlinks count as what they point to.  Paths
 * are dirPath + '/' + name, unnormalized, as Qt builds them. */
static void dir_work(uv_work_t *w)
{
    struct dir_job *j = w->data;
    struct stat st;
    if (stat(j->path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        j->status = 404;
        return;
    }
    if (j->mode == DIR_BAD) {
        j->status = 400;
        return;
    }
    j->status = 500;
    size_t plen = strlen(j->path);
    char *prefix = malloc(plen + 2);
    if (!prefix)
        return;
    memcpy(prefix, j->path, plen + 1);
    if (plen == 0 || prefix[plen - 1] != '/')
        strcpy(prefix + plen, "/");
    struct dir_item *items = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    DIR *d = opendir(j->path);   /* unreadable: an empty list, as in Qt */
    int dfd = d ? dirfd(d) : -1;
    struct dirent *de;
    while (d && ok && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        struct statx sx;
        if (statx(dfd, de->d_name, 0, STATX_BASIC_STATS | STATX_BTIME, &sx) != 0)
            continue;
        bool want = (S_ISDIR(sx.stx_mode) && (j->mode & DIR_DIRS)) ||
                    (S_ISREG(sx.stx_mode) && (j->mode & DIR_FILES));
        if (!want)
            continue;
        if (n == MAX_DIR_ENTRIES) {
            log_msg(LOG_WARNING, "WebAPI: %s has more than %u entries; the listing is cut", j->path,
                    MAX_DIR_ENTRIES);
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct dir_item *ni = realloc(items, nc * sizeof *ni);
            if (!ni) {
                ok = false;
                break;
            }
            items = ni;
            cap = nc;
        }
        items[n].name = strdup(de->d_name);
        if (!items[n].name) {
            ok = false;
            break;
        }
        items[n++].st = sx;
    }
    if (d)
        closedir(d);
    if (ok && n > 1)
        qsort(items, n, sizeof *items, cmp_dir_item);
    json_t *a = ok ? json_array() : NULL;
    for (size_t i = 0; a && i < n; i++) {
        if (json_array_append_new(a, dir_item_json(j, prefix, &items[i])) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(items[i].name);
    free(items);
    free(prefix);
    if (a) {
        j->result = a;
        j->status = 200;
    }
}

static void dir_done(uv_work_t *w, int status)
{
    struct dir_job *j = w->data;
    if (status != 0)
        j->status = 500;
    switch (j->status) {
    case 200:
        web_reply_json(j->r, j->result);
        j->result = NULL;
        break;
    case 404:
        web_reply_error(j->r, 404, "Directory does not exist");
        break;
    case 400:
        web_reply_error(j->r, 400, "Invalid mode, allowed values: all, dirs, files");
        break;
    default:
        web_reply_error(j->r, 500, NULL);
    }
    json_decref(j->result);
    free(j->path);
    free(j);
}

static void h_dir_content(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *path = web_req_param(r, "dirPath");
    if (!path) {
        web_reply_error(r, 400, NULL);
        return;
    }
    /* ':' = a Qt resource path; relative paths would depend on our cwd. */
    if (path[0] != '/') {
        web_reply_error(r, 400, "Invalid directory path");
        return;
    }
    const char *m = web_req_param(r, "mode");
    enum dir_mode mode = !m || strcmp(m, "all") == 0 ? DIR_ALL
                         : strcmp(m, "dirs") == 0    ? DIR_DIRS
                         : strcmp(m, "files") == 0   ? DIR_FILES
                                                     : DIR_BAD;
    struct dir_job *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        free(j);
        web_reply_error(r, 500, NULL);
        return;
    }
    j->r = r;
    j->mode = mode;
    j->meta = web_req_bool(r, "withMetadata", false);
    j->work.data = j;
    int rc = uv_queue_work(q->s->loop, &j->work, dir_work, dir_done);
    if (rc != 0) {
        free(j->path);
        free(j);
        web_reply_error(r, 500, NULL);
    }
}

/* ---- app/cookies, app/setCookies ---- */

static void h_cookies(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    json_t *a = json_array();
    for (size_t i = 0; a && i < cookiejar_count(q->s); i++) {
        struct cookiejar_cookie c = cookiejar_get(q->s, i);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", c.name, "domain", c.domain, "path", c.path,
                              "value", c.value, "expirationDate", (json_int_t)c.expires);
        if (json_array_append_new(a, o) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    web_reply_json(r, a);   /* NULL = 500 */
}

/* QJsonValue::toString(): strings, anything else "". */
static const char *str_or_empty(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* QJsonValue::toInteger(): integers, integral doubles in range, else 0.
 * Absent = no expiration date (a session cookie), reported as -1. */
static json_int_t expiration_of(const json_t *o)
{
    const json_t *v = json_object_get(o, "expirationDate");
    if (!v)
        return -1;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (!json_is_real(v))
        return 0;
    double d = json_real_value(v);
    return d == floor(d) && d >= -9.2e18 && d <= 9.2e18 ? (json_int_t)d : 0;
}

/* The cookie list qBittorrent keeps for the given JSON text; replies the
 * 400 itself and returns NULL on bad input. */
static json_t *parse_cookies(struct web_req *r, const char *text)
{
    if (strlen(text) > MAX_COOKIES_TEXT) {
        web_reply_error(r, 400, "cookies too large");
        return NULL;
    }
    json_error_t je;
    json_t *in = json_loads(text, 0, &je);
    if (!in) {
        web_reply_error(r, 400, je.text);
        return NULL;
    }
    if (!json_is_array(in)) {
        json_decref(in);
        web_reply_error(r, 400, "cookies must be array");
        return NULL;
    }
    if (json_array_size(in) > MAX_COOKIES) {
        json_decref(in);
        web_reply_error(r, 400, "too many cookies");
        return NULL;
    }
    json_t *out = json_array();
    if (!out) {
        json_decref(in);
        web_reply_error(r, 500, NULL);
        return NULL;
    }
    size_t i;
    json_t *c;
    json_array_foreach(in, i, c) {
        if (!json_is_object(c)) {
            json_decref(in);
            json_decref(out);
            web_reply_error(r, 400, NULL);
            return NULL;
        }
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", str_or_empty(c, "name"), "domain",
                              str_or_empty(c, "domain"), "path", str_or_empty(c, "path"), "value",
                              str_or_empty(c, "value"), "expirationDate", expiration_of(c));
        if (json_array_append_new(out, o) != 0) {
            json_decref(in);
            json_decref(out);
            web_reply_error(r, 500, NULL);
            return NULL;
        }
    }
    json_decref(in);
    return out;
}

static void on_cookies_committed(void *ud, int rc)
{
    if (rc != 0)
        web_reply_error(ud, 500, NULL);
    else
        web_reply_ok(ud);
}

static void h_set_cookies(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *text = web_req_param(r, "cookies");
    if (!text) {
        web_reply_error(r, 400, NULL);
        return;
    }
    json_t *list = parse_cookies(r, text);
    if (!list)
        return;
    size_t n = json_array_size(list);
    struct cookiejar_cookie *v = calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        const json_t *c = json_array_get(list, i);
        v[i] = (struct cookiejar_cookie){str_or_empty(c, "name"), str_or_empty(c, "domain"),
                                         str_or_empty(c, "path"), str_or_empty(c, "value"), expiration_of(c)};
    }
    int rc = v ? cookiejar_set(q->s, v, n, on_cookies_committed, r) : -ENOMEM;
    free(v);
    json_decref(list);
    if (rc != 0) {
        log_msg(LOG_WARNING, "WebAPI: cookies could not be saved: %s", strerror(-rc));
        web_reply_error(r, 500, NULL);
    }
}

/* ---- app/sendTestEmail ---- */

/* Like qBittorrent: answered at once, the outcome goes to the log. */
static void h_send_test_email(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    notify_test_mail(q->s);
    web_reply_ok(r);
}

/* ---- torrents/SSLParameters, setSSLParameters ---- */

static struct torrent *find_torrent(struct qbt_v2 *q, const char *hash)
{
    struct torrent *t = session_find_hex(q->s, hash);
    return t && !t->removing ? t : NULL;
}

static void h_ssl_params(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *h = web_req_param(r, "hash");
    if (!h) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct torrent *t = find_torrent(q, h);
    if (!t) {
        web_reply_error(r, 404, NULL);
        return;
    }
    const char *cert, *key, *dh;
    service_ssl_params(t, &cert, &key, &dh);
    web_reply_json(r, json_pack("{s:s, s:s, s:s}", "ssl_certificate", cert, "ssl_private_key", key,
                                "ssl_dh_params", dh));
}

static void on_ssl_committed(void *ud, int rc)
{
    if (rc != 0)
        web_reply_error(ud, 500, NULL);
    else
        web_reply_ok(ud);
}

static void h_set_ssl_params(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *h = web_req_param(r, "hash");
    const char *cert = web_req_param(r, "ssl_certificate");
    const char *key = web_req_param(r, "ssl_private_key");
    const char *dh = web_req_param(r, "ssl_dh_params");
    if (!h || !cert || !key || !dh) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct torrent *t = find_torrent(q, h);
    if (!t) {
        web_reply_error(r, 404, NULL);
        return;
    }
    int rc = service_set_ssl_params(q->s, t, cert, key, dh, on_ssl_committed, r);
    if (rc != 0)
        web_reply_error(r, rc == -EINVAL ? 415 : 500, NULL);
}

/* ---- registration ---- */

int qbt_v2_register_misc(struct qbt_v2 *q)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/app/networkInterfaceList", WEB_GETPOST, h_iface_list, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/app/networkInterfaceAddressList", WEB_GETPOST, h_iface_addrs, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/app/getDirectoryContent", WEB_GETPOST, h_dir_content, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/app/cookies", WEB_GETPOST, h_cookies, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/app/setCookies", WEB_POST, h_set_cookies, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/app/sendTestEmail", WEB_POST, h_send_test_email, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/SSLParameters", WEB_GETPOST, h_ssl_params, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/setSSLParameters", WEB_POST, h_set_ssl_params, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
}
