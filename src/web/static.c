/* web/static — the built-in WebUI (compiled in, web/ui_files.h), or an
 * alternative WebUI's files from <static_root>/public and /private.
 *
 * The built-in UI is the same for every client: one table lookup, an ETag
 * per file and "Cache-Control: no-cache", so a browser revalidates each
 * module (304, no body) and never runs a stale one after an upgrade (the
 * modules have no hashed names: there is no build step).  gzip is
 * web_reply's, as for every reply.
 *
 * For an alternative UI, as qBittorrent (../shared/docs/api-surface.md §1, outside the repository):
 * requests without a session get
 * public/<path>; with a session private/<path>, falling back to public/.
 * "/" (and any path ending in '/') means index.html.  Paths with ".", ".."
 * or '\' segments are refused with 400; anything that resolves outside the
 * root (symlinks) or is not a regular file is 404.  The file is read on a
 * libuv worker thread; the reply is deferred until it is in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "web/ui_files.h"
#include "web/web_int.h"

#define STATIC_FILE_MAX (64u * 1024 * 1024)

struct static_job {
    uv_work_t work;
    struct web_req *req;
    struct web_server *ws;
    char *root, *rel;
    bool private_first;
    int status;
    char *data;
    size_t len;
};

static bool path_ok(const char *p)
{
    if (strchr(p, '\\'))
        return false;
    while (*p) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
    }
    return true;
}

/* Reads root/sub/rel if it is a regular file inside root/sub.  0, -ENOENT, -EFBIG, -EIO. */
static int read_in_root(const char *realroot, const char *sub, const char *rel, char **data, size_t *len)
{
    char base[PATH_MAX], path[PATH_MAX], realbase[PATH_MAX], real[PATH_MAX];
    if (snprintf(base, sizeof(base), "%s/%s", realroot, sub) >= (int)sizeof(base) ||
        snprintf(path, sizeof(path), "%s/%s", base, rel) >= (int)sizeof(path))
        return -ENOENT;
    /* The file must really be inside root/sub: no symlink leads out. */
    if (!realpath(base, realbase) || !realpath(path, real))
        return -ENOENT;
    size_t bl = strlen(realbase);
    if (strncmp(real, realbase, bl) != 0 || real[bl] != '/')
        return -ENOENT;
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -ENOENT;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -ENOENT;
    }
    if ((uint64_t)st.st_size > STATIC_FILE_MAX) {
        close(fd);
        return -EFBIG;
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
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

static void static_work(uv_work_t *w)
{
    struct static_job *j = w->data;
    char realroot[PATH_MAX];
    int rc = -ENOENT;
    if (realpath(j->root, realroot)) {
        if (j->private_first)
            rc = read_in_root(realroot, "private", j->rel, &j->data, &j->len);
        if (rc == -ENOENT)
            rc = read_in_root(realroot, "public", j->rel, &j->data, &j->len);
    }
    j->status = rc == 0 ? 200 : rc == -ENOENT ? 404 : 500;
}

const char *web_mime_type(const char *path)
{
    static const struct { const char *ext, *type; } tab[] = {
        {"html", "text/html"}, {"htm", "text/html"}, {"css", "text/css"},
        {"js", "text/javascript"}, {"mjs", "text/javascript"}, {"json", "application/json"},
        {"png", "image/png"}, {"gif", "image/gif"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
        {"svg", "image/svg+xml"}, {"ico", "image/vnd.microsoft.icon"}, {"webp", "image/webp"},
        {"woff", "font/woff"}, {"woff2", "font/woff2"}, {"ttf", "font/ttf"},
        {"txt", "text/plain"}, {"xml", "application/xml"}, {"wasm", "application/wasm"},
        {"webmanifest", "application/manifest+json"}, {"map", "application/json"},
        /* media, for streamed torrent files (µTorrent's /proxy) */
        {"mp4", "video/mp4"}, {"m4v", "video/mp4"}, {"mkv", "video/x-matroska"}, {"webm", "video/webm"},
        {"avi", "video/x-msvideo"}, {"mov", "video/quicktime"}, {"mpg", "video/mpeg"}, {"mpeg", "video/mpeg"},
        {"ts", "video/mp2t"}, {"flv", "video/x-flv"}, {"wmv", "video/x-ms-wmv"}, {"ogv", "video/ogg"},
        {"mp3", "audio/mpeg"}, {"m4a", "audio/mp4"}, {"aac", "audio/aac"}, {"flac", "audio/flac"},
        {"ogg", "audio/ogg"}, {"opus", "audio/ogg"}, {"wav", "audio/wav"}, {"srt", "application/x-subrip"},
        {"vtt", "text/vtt"}, {"pdf", "application/pdf"}, {"zip", "application/zip"},
    };
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
            if (strcasecmp(dot + 1, tab[i].ext) == 0)
                return tab[i].type;
    return "application/octet-stream";
}

static void static_done(uv_work_t *w, int status)
{
    struct static_job *j = w->data;
    struct web_req *r = j->req;
    struct web_server *ws = j->ws;
    if (status != 0 || j->status != 200) {
        free(j->data);
        web_reply_error(r, status != 0 ? 500 : j->status, NULL);
    } else {
        const char *type = web_mime_type(j->rel);
        const char *cache = strncmp(type, "image/", 6) == 0 ? "private, max-age=604800"
                            : strcmp(type, "text/css") == 0 || strcmp(type, "text/javascript") == 0
                                ? "private, max-age=43200"
                                : "no-store";
        web_req_add_header(r, "Cache-Control", cache);
        web_reply_take(r, 200, type, j->data, j->len);
    }
    free(j->root);
    free(j->rel);
    free(j);
    web_server_job_done(ws);
}

/* True if the If-None-Match list names etag (or is "*"). */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    size_t el = strlen(etag);
    for (const char *p = inm; *p;) {
        p += strspn(p, " \t,");
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ",");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if ((n == 1 && *p == '*') || (n == el && strncmp(p, etag, el) == 0))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

static void builtin_serve(struct web_req *r, const char *rel)
{
    const struct web_ui_file *f = NULL;
    size_t n = strlen(rel);
    for (size_t i = 0; i < web_ui_files_count && !f; i++) {
        const char *name = web_ui_files[i].name;
        if (n == 0 || rel[n - 1] == '/') {
            size_t nl = strlen(name);
            if (nl == n + sizeof("index.html") - 1 && strncmp(name, rel, n) == 0 &&
                strcmp(name + n, "index.html") == 0)
                f = &web_ui_files[i];
        } else if (strcmp(name, rel) == 0) {
            f = &web_ui_files[i];
        }
    }
    if (!f) {
        web_reply_error(r, 404, NULL);
        return;
    }
    web_req_add_header(r, "ETag", f->etag);
    web_req_add_header(r, "Cache-Control", "no-cache");
    web_req_add_header(r, "Vary", "Accept-Encoding");
    if (etag_matches(web_req_header(r, "If-None-Match"), f->etag)) {
        web_reply(r, 304, NULL, NULL, 0);
        return;
    }
    web_reply(r, 200, web_mime_type(f->name), f->data, f->len);
}

void web_static_serve(struct web_req *r)
{
    struct web_server *ws = r->ws;
    const char *p = r->path;
    if (!path_ok(p)) {
        web_reply_error(r, 400, NULL);
        return;
    }
    if (!ws->static_root && ws->builtin_ui) {
        while (*p == '/')
            p++;
        builtin_serve(r, p);
        return;
    }
    if (!ws->static_root) {
        web_reply_error(r, 404, NULL);
        return;
    }
    while (*p == '/')
        p++;
    struct static_job *j = calloc(1, sizeof(*j));
    size_t n = strlen(p);
    if (j) {
        j->root = strdup(ws->static_root);
        j->rel = malloc(n + sizeof("index.html"));
        if (j->rel)
            snprintf(j->rel, n + sizeof("index.html"), "%s%s", p, (n == 0 || p[n - 1] == '/') ? "index.html" : "");
    }
    if (!j || !j->root || !j->rel) {
        if (j) {
            free(j->root);
            free(j->rel);
        }
        free(j);
        web_reply_error(r, 500, NULL);
        return;
    }
    j->req = r;
    j->ws = ws;
    j->private_first = r->session != NULL;
    j->work.data = j;
    if (uv_queue_work(ws->loop, &j->work, static_work, static_done) != 0) {
        free(j->root);
        free(j->rel);
        free(j);
        web_reply_error(r, 500, NULL);
        return;
    }
    ws->jobs++;
}
