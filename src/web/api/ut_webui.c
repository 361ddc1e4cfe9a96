/* ut_webui — the official µTorrent web UI at /gui/, from webui.zip or an
 * unpacked webui/ folder in ut_webui_dir (seed 004: "Directory where the
 * web UI file archive webui.zip is stored, or which contains a webui
 * subdirectory"; "" = the profile directory, a relative path is relative to
 * the daemon's working directory).  The zip wins when both exist.
 *
 * GET /gui/ without a query is index.html (ut_gui.c calls ut_webui_serve);
 * /gui/<path> is a file, folders included (the UI loads ./main.js,
 * ./lang/en.js, ./images/...).  The official build.sh gzips every file
 * inside the zip (main.js.gz), so a name not found is looked up again with
 * ".gz" and inflated; the frame gzips the reply again for clients that take
 * it.  Auth as /gui/: HTTP Basic, but no token (a browser loading the page
 * has none yet).
 *
 * Bounded and confined: the requested path must be relative and clean (no
 * empty, "." or ".." segment, no backslash, at most UT_WEBUI_MAX_NAME bytes)
 * or it is 400.  In the zip, names are only looked up (zip_name_locate),
 * never used as paths, and nothing is extracted to disk; an archive with
 * more than UT_WEBUI_MAX_ENTRIES entries is refused, a file (stored or
 * inflated) over UT_WEBUI_MAX_FILE is 500.  In the folder the file must
 * resolve (realpath) strictly inside webui/ and be a regular file.  Both are
 * read on a libuv worker; the reply is deferred until the bytes are in
 * memory.  No zip and no folder, or no such file: 404.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>
#include <zip.h>
#include <zlib.h>

#include "core/session.h"
#include "core/settings.h"
#include "util/log.h"
#include "web/api/ut_serve.h"
#include "web/server.h"

#define UT_WEBUI_MAX_ENTRIES 10000
#define UT_WEBUI_MAX_FILE (16u << 20)
#define UT_WEBUI_MAX_NAME 1024

struct webui_job {
    uv_work_t work;
    struct web_req *r;
    char *dir, *name;
    int status;                   /* 200, 404, 500 */
    char *data;
    size_t len;
};

/* ---- on the worker ---- */

/* gzip data (a member of the official zip) into a new buffer. */
static int gunzip(const char *in, size_t inlen, char **out, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return -ENOMEM;
    size_t cap = inlen * 4 + 1024, len = 0;
    if (cap > UT_WEBUI_MAX_FILE)
        cap = UT_WEBUI_MAX_FILE;
    char *buf = malloc(cap);
    int rc = buf ? Z_OK : Z_MEM_ERROR;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)inlen;
    while (rc == Z_OK) {
        if (len == cap) {
            if (cap >= UT_WEBUI_MAX_FILE) {
                rc = Z_BUF_ERROR;   /* a bomb, or just too big */
                break;
            }
            size_t nc = cap * 2 > UT_WEBUI_MAX_FILE ? UT_WEBUI_MAX_FILE : cap * 2;
            char *nb = realloc(buf, nc);
            if (!nb) {
                rc = Z_MEM_ERROR;
                break;
            }
            buf = nb;
            cap = nc;
        }
        z.next_out = (Bytef *)buf + len;
        z.avail_out = (uInt)(cap - len);
        rc = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
        if (rc == Z_BUF_ERROR && z.avail_in == 0)
            break;   /* truncated input */
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return rc == Z_MEM_ERROR ? -ENOMEM : -EFBIG;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

/* Entry `name` (or `name`.gz, inflated) of the archive.  0, -ENOENT (no such
 * entry), -ENOTSUP (no archive), -EFBIG, -EIO. */
static int from_zip(const char *zpath, const char *name, char **data, size_t *len)
{
    int err = 0;
    zip_t *za = zip_open(zpath, ZIP_RDONLY, &err);
    if (!za)
        return err == ZIP_ER_NOENT ? -ENOTSUP : -EIO;
    int rc = -ENOENT;
    zip_int64_t n = zip_get_num_entries(za, 0);
    if (n < 0 || n > UT_WEBUI_MAX_ENTRIES) {
        log_msg(LOG_WARNING, "µTorrent web UI: %s has %lld entries, more than %d: not served", zpath, (long long)n,
                UT_WEBUI_MAX_ENTRIES);
        zip_discard(za);
        return -EFBIG;
    }
    bool gz = false;
    zip_int64_t idx = zip_name_locate(za, name, 0);
    if (idx < 0) {
        char gzname[UT_WEBUI_MAX_NAME + 4];
        snprintf(gzname, sizeof gzname, "%s.gz", name);
        idx = zip_name_locate(za, gzname, 0);
        gz = idx >= 0;
    }
    zip_stat_t st;
    if (idx >= 0 && zip_stat_index(za, (zip_uint64_t)idx, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE)) {
        if (st.size > UT_WEBUI_MAX_FILE) {
            rc = -EFBIG;
        } else {
            char *buf = malloc(st.size + 1);
            zip_file_t *zf = buf ? zip_fopen_index(za, (zip_uint64_t)idx, 0) : NULL;
            zip_int64_t got = zf ? zip_fread(zf, buf, st.size) : -1;
            if (zf)
                zip_fclose(zf);
            if (got < 0 || (zip_uint64_t)got != st.size) {
                free(buf);
                rc = -EIO;
            } else if (gz) {
                rc = gunzip(buf, (size_t)got, data, len);
                free(buf);
            } else {
                *data = buf;
                *len = (size_t)got;
                rc = 0;
            }
        }
    }
    zip_discard(za);
    return rc;
}

/* Reads base/rel if it is a regular file strictly inside base. */
static int read_inside(const char *realbase, const char *rel, char **data, size_t *len)
{
    char path[PATH_MAX], real[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", realbase, rel) >= (int)sizeof path || !realpath(path, real))
        return -ENOENT;
    size_t bl = strlen(realbase);
    if (strncmp(real, realbase, bl) != 0 || real[bl] != '/')
        return -ENOENT;   /* a symlink out of webui/ */
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -ENOENT;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return -ENOENT;
    }
    if ((uint64_t)sb.st_size > UT_WEBUI_MAX_FILE) {
        close(fd);
        return -EFBIG;
    }
    size_t size = (size_t)sb.st_size, got = 0;
    char *buf = malloc(size + 1);
    while (buf && got < size) {
        ssize_t k = read(fd, buf + got, size - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (!buf || got != size) {
        free(buf);
        return -EIO;
    }
    *data = buf;
    *len = size;
    return 0;
}

static int from_folder(const char *dir, const char *name, char **data, size_t *len)
{
    char base[PATH_MAX], realbase[PATH_MAX];
    if (snprintf(base, sizeof base, "%s/webui", dir) >= (int)sizeof base || !realpath(base, realbase))
        return -ENOENT;
    int rc = read_inside(realbase, name, data, len);
    if (rc != -ENOENT)
        return rc;
    char gzname[UT_WEBUI_MAX_NAME + 4];
    snprintf(gzname, sizeof gzname, "%s.gz", name);
    char *gzdata;
    size_t gzlen;
    rc = read_inside(realbase, gzname, &gzdata, &gzlen);
    if (rc != 0)
        return rc;
    rc = gunzip(gzdata, gzlen, data, len);
    free(gzdata);
    return rc;
}

static void webui_work(uv_work_t *w)
{
    struct webui_job *j = w->data;
    char zpath[PATH_MAX];
    int rc = -ENOTSUP;
    if (snprintf(zpath, sizeof zpath, "%s/webui.zip", j->dir) < (int)sizeof zpath)
        rc = from_zip(zpath, j->name, &j->data, &j->len);
    if (rc == -ENOTSUP)
        rc = from_folder(j->dir, j->name, &j->data, &j->len);
    j->status = rc == 0 ? 200 : rc == -ENOENT || rc == -ENOTSUP ? 404 : 500;
}

/* ---- on the loop ---- */

static void webui_done(uv_work_t *w, int status)
{
    struct webui_job *j = w->data;
    if (status != 0 || j->status != 200) {
        free(j->data);
        web_reply_error(j->r, status != 0 ? 500 : j->status, NULL);
    } else {
        const char *type = web_mime_type(j->name);
        web_req_add_header(j->r, "Cache-Control", strncmp(type, "text/html", 9) == 0 ? "no-store" : "private, max-age=3600");
        web_reply(j->r, 200, type, j->data, j->len);
        free(j->data);
    }
    free(j->dir);
    free(j->name);
    free(j);
}

/* Relative and clean: no empty, "." or ".." segment, no backslash. */
static bool name_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > UT_WEBUI_MAX_NAME || p[0] == '/' || strchr(p, '\\'))
        return false;
    while (*p) {
        size_t k = strcspn(p, "/");
        if (k == 0 || (k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += k;
        if (*p == '/' && !*++p)
            return false;   /* trailing slash: no file named */
    }
    return true;
}

void ut_webui_serve(struct web_req *r, struct session *s, const char *name)
{
    if (!name_ok(name)) {
        web_reply_error(r, 400, NULL);
        return;
    }
    const char *dir = settings_str(&s->settings, SET_UT_WEBUI_DIR);
    struct webui_job *j = calloc(1, sizeof *j);
    if (j) {
        j->dir = strdup(*dir ? dir : s->profile_dir);
        j->name = strdup(name);
    }
    if (!j || !j->dir || !j->name) {
        if (j) {
            free(j->dir);
            free(j->name);
        }
        free(j);
        web_reply_error(r, 500, NULL);
        return;
    }
    j->r = r;
    j->work.data = j;
    if (uv_queue_work(s->loop, &j->work, webui_work, webui_done) != 0) {
        free(j->dir);
        free(j->name);
        free(j);
        web_reply_error(r, 500, NULL);
    }
}

static void h_file(struct web_req *r, void *ud)
{
    ut_webui_serve(r, ud, web_req_path(r) + strlen("/gui/"));
}

int ut_webui_register(struct web_server *ws, struct session *s)
{
    static const struct web_route_def routes[] = {
        {"/gui/**", WEB_GET, h_file, WEB_AUTH_BASIC_TOKEN, NULL},
    };
    return web_routes_add(ws, routes, sizeof routes / sizeof routes[0], s);
}
