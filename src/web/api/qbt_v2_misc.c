/* web/api/qbt_v2_misc — the small qBittorrent 5.x endpoints nothing else
 * owns: app/networkInterfaceList, networkInterfaceAddressList,
 * getDirectoryContent, cookies, setCookies, sendTestEmail and
 * torrents/SSLParameters, setSSLParameters.
 *
 * Cookies go with .torrent downloads (qbt_v2_cookie_lines); SSL parameters
 * are handed to the engine (core/ssltorrent.h) once committed.  Both
 * live in the store (kv namespaces "cookies" and "ssl") and in memory here;
 * a change is answered after its commit, and memory follows the commit.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/natcmp.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "core/notify.h"
#include "core/ssltorrent.h"
#include "web/api/qbt_v2_int.h"

#define NS_COOKIES "cookies"
#define KEY_COOKIES "list"
#define NS_SSL "ssl"
#define MAX_COOKIES_TEXT (4u << 20)     /* the `cookies` param */
#define MAX_COOKIES 10000u
#define MAX_PEM (64u << 10)             /* one SSL parameter */
#define MAX_DIR_ENTRIES 100000u         /* getDirectoryContent reply */
#define MAX_IFADDRS 4096u

/* What the store holds, mirrored: [{cookie}], and hash -> {ssl_*, added_on}
 * (added_on tells a re-added torrent from the one the row was written for). */
static json_t *g_cookies;
static json_t *g_ssl;

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
    (void)ud;
    web_reply_json(r, g_cookies ? json_incref(g_cookies) : json_array());
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

struct cookie_job {
    struct web_req *r;
    json_t *list;
};

static void on_cookies_committed(void *ud, int rc)
{
    struct cookie_job *j = ud;
    if (rc != 0) {
        log_msg(LOG_WARNING, "WebAPI: cookies could not be saved: %s", strerror(-rc));
        web_reply_error(j->r, 500, NULL);
        json_decref(j->list);
    } else {
        json_decref(g_cookies);
        g_cookies = j->list;
        web_reply_ok(j->r);
    }
    free(j);
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
    char *dump = json_dumps(list, JSON_COMPACT);
    struct cookie_job *j = dump ? calloc(1, sizeof *j) : NULL;
    int rc = -ENOMEM;
    if (j) {
        j->r = r;
        j->list = list;
        rc = q->s->store ? store_kv_put(q->s->store, NS_COOKIES, KEY_COOKIES, dump, on_cookies_committed, j)
                         : -EIO;
    }
    free(dump);
    if (rc != 0) {
        log_msg(LOG_WARNING, "WebAPI: cookies could not be saved: %s", strerror(-rc));
        json_decref(list);
        free(j);
        web_reply_error(r, 500, NULL);
    }
}

/* At startup qBittorrent drops session cookies and expired ones. */
static int load_cookies(void *ud, const char *key, const char *value)
{
    (void)ud;
    if (strcmp(key, KEY_COOKIES) != 0 || !value)
        return 0;
    json_t *a = json_loads(value, 0, NULL);
    if (!json_is_array(a)) {
        log_msg(LOG_WARNING, "stored cookies are unreadable; dropped");
        json_decref(a);
        return 0;
    }
    json_int_t now = (json_int_t)time(NULL);
    for (size_t i = json_array_size(a); i-- > 0;) {
        json_t *c = json_array_get(a, i);
        json_t *e = json_object_get(c, "expirationDate");
        if (!json_is_object(c) || !json_is_integer(e) || json_integer_value(e) == -1 ||
            json_integer_value(e) <= now)
            json_array_remove(a, i);
    }
    json_decref(g_cookies);
    g_cookies = a;
    return 0;
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

static const char *ssl_field(const json_t *e, const char *key)
{
    return str_or_empty(e, key);
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
    json_t *e = json_object_get(g_ssl, t->hex);
    if (e && json_integer_value(json_object_get(e, "added_on")) != t->added_on)
        e = NULL;   /* written for an earlier torrent with this hash */
    web_reply_json(r, json_pack("{s:s, s:s, s:s}", "ssl_certificate", ssl_field(e, "ssl_certificate"),
                                "ssl_private_key", ssl_field(e, "ssl_private_key"), "ssl_dh_params",
                                ssl_field(e, "ssl_dh_params")));
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;   /* encrypted keys are refused, never prompted for */
}

static char *bio_text(BIO *b)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        memcpy(s, p, (size_t)n);
        s[n] = 0;
    }
    return s;
}

/* qBittorrent's SSLParameters::isValid: a certificate, an RSA/EC/DSA key
 * (QSslKey) and DH parameters, all present.  The certificate and key are
 * kept re-encoded as Qt's toPem() gives them back; the DH parameters as
 * sent.  0 or -EINVAL. */
static int ssl_canonical(const char *cert, const char *key, const char *dh, char **cert_out, char **key_out)
{
    *cert_out = *key_out = NULL;
    if (!*cert || !*key || !*dh || strlen(cert) > MAX_PEM || strlen(key) > MAX_PEM || strlen(dh) > MAX_PEM)
        return -EINVAL;
    int rc = -EINVAL;
    X509 *x = NULL;
    EVP_PKEY *k = NULL, *p = NULL;
    BIO *in = NULL, *out = NULL;

    in = BIO_new_mem_buf(cert, -1);
    x = in ? PEM_read_bio_X509(in, NULL, no_passphrase, NULL) : NULL;
    BIO_free(in);
    in = BIO_new_mem_buf(key, -1);
    k = in ? PEM_read_bio_PrivateKey(in, NULL, no_passphrase, NULL) : NULL;
    BIO_free(in);
    in = BIO_new_mem_buf(dh, -1);
    p = in ? PEM_read_bio_Parameters(in, NULL) : NULL;
    BIO_free(in);
    if (!x || !k || !p)
        goto done;
    int kt = EVP_PKEY_get_base_id(k), pt = EVP_PKEY_get_base_id(p);
    if ((kt != EVP_PKEY_RSA && kt != EVP_PKEY_EC && kt != EVP_PKEY_DSA) ||
        (pt != EVP_PKEY_DH && pt != EVP_PKEY_DHX))
        goto done;
    rc = -ENOMEM;
    out = BIO_new(BIO_s_mem());
    if (!out || PEM_write_bio_X509(out, x) != 1 || !(*cert_out = bio_text(out)))
        goto done;
    BIO_free(out);
    out = BIO_new(BIO_s_mem());
    if (!out || PEM_write_bio_PrivateKey_traditional(out, k, NULL, NULL, 0, NULL, NULL) != 1 ||
        !(*key_out = bio_text(out)))
        goto done;
    rc = 0;
done:
    ERR_clear_error();
    BIO_free(out);
    X509_free(x);
    EVP_PKEY_free(k);
    EVP_PKEY_free(p);
    if (rc != 0) {
        free(*cert_out);
        free(*key_out);
        *cert_out = *key_out = NULL;
    }
    return rc;
}

struct ssl_job {
    struct web_req *r;            /* NULL: torrents/add, nobody waits */
    struct session *s;
    char hash[41];
    json_t *entry;
};

/* Memory and the engine take the parameters. */
static void ssl_keep(struct session *s, const char *hash, json_t *entry)
{
    if (!g_ssl)
        g_ssl = json_object();
    /* The torrent may have gone while the row was written. */
    ssltorrent_set_params(s, hash, json_string_value(json_object_get(entry, "ssl_certificate")),
                          json_string_value(json_object_get(entry, "ssl_private_key")),
                          json_string_value(json_object_get(entry, "ssl_dh_params")));
    if (!g_ssl || json_object_set(g_ssl, hash, entry) != 0)
        log_msg(LOG_WARNING, "WebAPI: SSL parameters of %s not kept in memory", hash);
}

static void on_ssl_committed(void *ud, int rc)
{
    struct ssl_job *j = ud;
    if (rc != 0) {
        log_msg(LOG_WARNING, "WebAPI: SSL parameters of %s could not be saved: %s", j->hash, strerror(-rc));
        if (j->r)
            web_reply_error(j->r, 500, NULL);
    } else if (j->r) {
        ssl_keep(j->s, j->hash, j->entry);
        web_reply_ok(j->r);
    }
    json_decref(j->entry);
    free(j);
}

/* Validates and stores the parameters of t.  With r, memory follows the
 * commit and r gets the answer; without (torrents/add), they apply at once
 * and a failed commit is only logged.  0, -EINVAL (not valid) or another
 * negative errno (r was not answered). */
static int ssl_save(struct qbt_v2 *q, struct torrent *t, const char *cert, const char *key, const char *dh,
                    struct web_req *r)
{
    char *c = NULL, *k = NULL;
    int rc = ssl_canonical(cert, key, dh, &c, &k);
    if (rc != 0)
        return rc;
    struct ssl_job *j = calloc(1, sizeof *j);
    char *dump = NULL;
    rc = -ENOMEM;
    if (j) {
        j->r = r;
        j->s = q->s;
        memcpy(j->hash, t->hex, sizeof j->hash);
        j->entry = json_pack("{s:s, s:s, s:s, s:I}", "ssl_certificate", c, "ssl_private_key", k,
                             "ssl_dh_params", dh, "added_on", (json_int_t)t->added_on);
        dump = j->entry ? json_dumps(j->entry, JSON_COMPACT) : NULL;
        if (dump && !r)
            ssl_keep(q->s, j->hash, j->entry);
        if (dump)
            rc = q->s->store ? store_kv_put(q->s->store, NS_SSL, j->hash, dump, on_ssl_committed, j) : -EIO;
    }
    if (k)
        explicit_bzero(k, strlen(k));
    free(c);
    free(k);
    free(dump);
    if (rc != 0) {
        log_msg(LOG_WARNING, "WebAPI: SSL parameters could not be saved: %s", strerror(-rc));
        if (j)
            json_decref(j->entry);
        free(j);
    }
    return rc;
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
    int rc = ssl_save(q, t, cert, key, dh, r);
    if (rc != 0)
        web_reply_error(r, rc == -EINVAL ? 415 : 500, NULL);
}

void qbt_v2_ssl_added(struct qbt_v2 *q, struct torrent *t, const char *cert, const char *key, const char *dh)
{
    if (ssl_save(q, t, cert, key, dh, NULL) == -EINVAL)
        log_msg(LOG_INFO, "WebAPI: the SSL parameters given with %s are not valid; not used", t->hex);
}

static int load_ssl(void *ud, const char *key, const char *value)
{
    (void)ud;
    json_t *e = value ? json_loads(value, 0, NULL) : NULL;
    if (!json_is_object(e) || strlen(key) != 40) {
        log_msg(LOG_WARNING, "stored SSL parameters of %s are unreadable; dropped", key);
        json_decref(e);
        return 0;
    }
    json_object_set_new(g_ssl, key, e);
    return 0;
}

/* ---- registration ---- */

int qbt_v2_register_misc(struct qbt_v2 *q)
{
    json_decref(g_cookies);
    json_decref(g_ssl);
    g_cookies = json_array();
    g_ssl = json_object();
    if (!g_cookies || !g_ssl)
        return -ENOMEM;
    if (q->s->store) {
        store_load_kv(q->s->store, NS_COOKIES, load_cookies, NULL);
        store_load_kv(q->s->store, NS_SSL, load_ssl, NULL);
    }
    static const struct { const char *path; unsigned m; web_handler h; } routes[] = {
        {"/api/v2/app/networkInterfaceList", WEB_GETPOST, h_iface_list},
        {"/api/v2/app/networkInterfaceAddressList", WEB_GETPOST, h_iface_addrs},
        {"/api/v2/app/getDirectoryContent", WEB_GETPOST, h_dir_content},
        {"/api/v2/app/cookies", WEB_GETPOST, h_cookies},
        {"/api/v2/app/setCookies", WEB_POST, h_set_cookies},
        {"/api/v2/app/sendTestEmail", WEB_POST, h_send_test_email},
        {"/api/v2/torrents/SSLParameters", WEB_GETPOST, h_ssl_params},
        {"/api/v2/torrents/setSSLParameters", WEB_POST, h_set_ssl_params},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int rc = web_route_add(q->ws, routes[i].path, routes[i].m, routes[i].h, q);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The stored cookies as Netscape cookie lines for .torrent downloads
 * (util/fetch.h).  *out is a malloc'd array of malloc'd strings. */
size_t qbt_v2_cookie_lines(char ***out)
{
    *out = NULL;
    size_t n = json_array_size(g_cookies), k = 0;
    if (n == 0)
        return 0;
    char **v = calloc(n, sizeof *v);
    if (!v)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(g_cookies, i);
        const char *dom = str_or_empty(c, "domain"), *path = str_or_empty(c, "path");
        json_int_t exp = expiration_of(c);
        /* A leading dot means "and its subdomains" (Netscape's flag). */
        if (asprintf(&v[k], "%s\t%s\t%s\tFALSE\t%lld\t%s\t%s", dom, dom[0] == '.' ? "TRUE" : "FALSE",
                     *path ? path : "/",
                     (long long)(exp > 0 ? exp : 0), str_or_empty(c, "name"), str_or_empty(c, "value")) >= 0)
            k++;
    }
    *out = v;
    return k;
}
