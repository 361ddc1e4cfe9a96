#include "core/utconf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int say(char *out, size_t outlen, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int say(char *out, size_t outlen, const char *file, unsigned line, const char *fmt, ...)
{
    if (!out || !outlen)
        return 0;
    int n = line ? snprintf(out, outlen, "%s:%u: ", file, line) : snprintf(out, outlen, "%s: ", file);
    if (n >= 0 && (size_t)n < outlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out + n, outlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return 0;
}

void utconf_free(struct utconf *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->e[i].value);
    free(c->e);
    free(c->file);
    memset(c, 0, sizeof *c);
}

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

int utconf_parse(const char *text, size_t len, const char *file, struct utconf *out, utconf_warn_fn warn, void *ud,
                 char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len > UTCONF_MAX_BYTES) {
        say(err, errlen, file, 0, "larger than %u bytes", UTCONF_MAX_BYTES);
        return -EFBIG;
    }
    if (!(out->file = strdup(file)))
        return -ENOMEM;
    char msg[512];
    size_t cap = 0;
    unsigned line = 0;
    int rc = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        line++;
        if (line > UTCONF_MAX_LINES) {
            say(err, errlen, file, line, "more than %u lines", UTCONF_MAX_LINES);
            rc = -EFBIG;
            break;
        }
        if (end - pos > UTCONF_MAX_LINE) {
            say(err, errlen, file, line, "line longer than %u bytes", UTCONF_MAX_LINE);
            rc = -EFBIG;
            break;
        }
        const char *s = text + pos, *e = text + end;
        pos = end + 1;
        if (memchr(s, 0, (size_t)(e - s))) {
            say(err, errlen, file, line, "NUL byte in the line");
            rc = -EINVAL;
            break;
        }
        while (s < e && blank(*s))
            s++;
        while (e > s && blank(e[-1]))
            e--;
        if (s == e || *s == '#')
            continue;
        const char *colon = memchr(s, ':', (size_t)(e - s));
        if (!colon) {
            say(err, errlen, file, line, "expected 'name: value', got '%.*s'", (int)(e - s > 80 ? 80 : e - s), s);
            rc = -EINVAL;
            break;
        }
        const char *ne = colon, *vs = colon + 1;
        while (ne > s && blank(ne[-1]))
            ne--;
        while (vs < e && blank(*vs))
            vs++;
        char name[64];
        size_t nl_ = (size_t)(ne - s);
        if (nl_ == 0) {
            say(err, errlen, file, line, "a setting name is missing before ':'");
            rc = -EINVAL;
            break;
        }
        if (nl_ >= sizeof name) {
            say(msg, sizeof msg, file, line, "unknown key '%.*s' ignored", 60, s);
            if (warn)
                warn(ud, msg);
            continue;
        }
        for (size_t i = 0; i < nl_; i++)
            name[i] = (char)tolower((unsigned char)s[i]);
        name[nl_] = 0;
        const struct ut_setting *u = ut_settings_find(name);
        if (!u || !u->conf) {
            say(msg, sizeof msg, file, line, "unknown key '%s' ignored", name);
            if (warn)
                warn(ud, msg);
            continue;
        }
        if (u->conv == UT_CONV_IGNORED) {
            say(msg, sizeof msg, file, line, "%s ignored: µTorrent Remote (uconnect) no longer exists", name);
            if (warn)
                warn(ud, msg);
            continue;
        }
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            struct utconf_entry *g = realloc(out->e, nc * sizeof *g);
            if (!g) {
                rc = -ENOMEM;
                break;
            }
            out->e = g;
            cap = nc;
        }
        char *v = strndup(vs, (size_t)(e - vs));
        if (!v) {
            rc = -ENOMEM;
            break;
        }
        out->e[out->n++] = (struct utconf_entry){u, v, line};
    }
    if (rc != 0)
        utconf_free(out);
    return rc;
}

int utconf_load(const char *path, struct utconf *out, utconf_warn_fn warn, void *ud, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        say(err, errlen, path, 0, "cannot open: %s", strerror(errno));
        return rc;
    }
    char *buf = malloc(UTCONF_MAX_BYTES + 1);
    size_t len = 0;
    int rc = buf ? 0 : -ENOMEM;
    while (rc == 0 && len <= UTCONF_MAX_BYTES) {
        ssize_t r = read(fd, buf + len, UTCONF_MAX_BYTES + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            say(err, errlen, path, 0, "cannot read: %s", strerror(errno));
        }
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (rc == 0)
        rc = utconf_parse(buf, len, path, out, warn, ud, err, errlen);
    free(buf);
    return rc;
}

bool utconf_applies(const struct ut_setting *u, enum utconf_moment m)
{
    switch (u->reload) {
    case UT_ALWAYS: return true;
    case UT_START: return m != UTCONF_RELOAD;
    case UT_FIRST: return m == UTCONF_FIRST_START;
    case UT_GUI: return false;
    }
    return false;
}

int utconf_batch(const struct utconf *c, enum utconf_moment m, struct ut_batch *b, char *err, size_t errlen)
{
    char e[256];
    for (size_t i = 0; i < c->n; i++) {
        const struct utconf_entry *x = &c->e[i];
        if (!utconf_applies(x->u, m))
            continue;
        int rc = ut_batch_set(b, x->u, x->value, e, sizeof e);
        if (rc != 0) {
            say(err, errlen, c->file, x->line, "%s", e);
            return rc;
        }
    }
    int rc = ut_batch_finish(b, e, sizeof e);
    if (rc != 0)
        say(err, errlen, c->file, 0, "%s", e);
    return rc;
}
