#include "util/path.h"
#include "util/utf8.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "util/log.h"

#define PATH_COMPONENT_MAX 255
/* A suffix after the last '.' longer than this is not treated as an extension. */
#define PATH_EXT_MAX 32

/* Largest cut <= max that does not split a UTF-8 sequence of valid text s. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((uint8_t)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

char *path_sanitize_component(const char *s, size_t len, int *dropped)
{
    *dropped = 0;
    if (!s || len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
        *dropped = 1;
        return NULL;
    }
    /* Each byte maps to at most itself (valid UTF-8) or one '_'. */
    char *o = malloc(len + 1);
    if (!o)
        return NULL;
    const uint8_t *p = (const uint8_t *)s;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t l = utf8_seq(p + i, len - i);
        bool bad = l == 0 ||
                   (l == 1 && (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/' || p[i] == '\\')) ||
                   (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0);   /* C1 controls */
        if (bad) {
            o[n++] = '_';
            i += l ? l : 1;
        } else {
            memcpy(o + n, p + i, l);
            n += l;
            i += l;
        }
    }
    o[n] = 0;

    if (n > PATH_COMPONENT_MAX) {
        /* Keep a short extension, cut the stem on a character boundary. */
        const char *dot = strrchr(o, '.');
        size_t ext = dot && dot != o ? n - (size_t)(dot - o) : 0;
        if (ext > PATH_EXT_MAX)
            ext = 0;
        size_t stem = utf8_cut(o, n - ext, PATH_COMPONENT_MAX - ext);
        memmove(o + stem, o + n - ext, ext);
        n = stem + ext;
        o[n] = 0;
    }
    /* Sanitizing cannot produce "." or ".." from anything but themselves, and
     * truncation keeps at least one stem byte or a 2+ byte extension, but be
     * certain: */
    if (strcmp(o, ".") == 0 || strcmp(o, "..") == 0) {
        o[0] = '_';
        o[1] = 0;
    }
    return o;
}

char *path_join(const char *base, const char *rel)
{
    if (!base || !rel || rel[0] == '/' || rel[0] == 0)
        return NULL;
    for (const char *c = rel;;) {
        const char *e = strchr(c, '/');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.')) {
            log_debug("path_join: refusing unsafe relative path '%s'", rel);
            return NULL;
        }
        if (!e)
            break;
        c = e + 1;
    }
    size_t bl = strlen(base), rl = strlen(rel);
    bool slash = bl > 0 && base[bl - 1] != '/';
    char *o = malloc(bl + slash + rl + 1);
    if (!o)
        return NULL;
    memcpy(o, base, bl);
    if (slash)
        o[bl] = '/';
    memcpy(o + bl + slash, rel, rl + 1);
    return o;
}

static int mkdir_one(const char *dir)
{
    if (mkdir(dir, 0777) == 0)
        return 0;
    int e = errno;
    struct stat st;
    if (e == EEXIST) {
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        return -ENOTDIR;
    }
    return -e;
}

int path_mkdirs(const char *dir)
{
    if (!dir || !*dir)
        return -EINVAL;
    char *d = strdup(dir);
    if (!d)
        return -ENOMEM;
    size_t len = strlen(d);
    while (len > 1 && d[len - 1] == '/')
        d[--len] = 0;
    int rc = 0;
    /* Walk each prefix ending before a '/'; the loop visits every byte once. */
    for (size_t i = 1; i <= len && rc == 0; i++) {
        if (d[i] != '/' && d[i] != 0)
            continue;
        if (d[i - 1] == '/')
            continue;    /* "a//b" */
        char saved = d[i];
        d[i] = 0;
        rc = mkdir_one(d);
        d[i] = saved;
    }
    if (rc)
        log_debug("path_mkdirs(%s): %s", dir, strerror(-rc));
    free(d);
    return rc;
}

int path_mkdirs_for(const char *file)
{
    if (!file)
        return -EINVAL;
    const char *slash = strrchr(file, '/');
    if (!slash || slash == file)
        return 0;      /* relative file in cwd, or directly under "/" */
    char *d = strndup(file, (size_t)(slash - file));
    if (!d)
        return -ENOMEM;
    int rc = path_mkdirs(d);
    free(d);
    return rc;
}

int64_t path_free_bytes(const char *path)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path && *path ? path : "/");
    struct statvfs v;
    while (statvfs(p, &v) != 0) {
        char *slash = strrchr(p, '/');
        if (errno != ENOENT || !slash)
            return -1;
        if (slash == p)
            slash[1] = 0;
        else
            *slash = 0;
    }
    return (int64_t)v.f_bavail * (int64_t)v.f_frsize;
}
