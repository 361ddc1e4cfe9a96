/* ut_proxy — µTorrent Server's /proxy: one file of a torrent over HTTP,
 * with Range, also while the torrent is still downloading it.
 *
 * Two forms reach the same handler (seed 004; clients-wave2.md §1.3):
 *   /proxy?id=<info-hash>&file=<index>            (file may be omitted for a
 *                                                  single-file torrent)
 *   /proxy?sid=<stream id>&file=<index>&disposition=INLINE|ATTACHMENT
 *          &service=DOWNLOAD&qos=0                 (the official WebUI, btc)
 * The stream id is the one the torrent row carries at [22] (core/stream.h:
 * the info-hash in upper-case hex), so both forms look the torrent up the
 * same way.  `file` is the index in getfiles order (pad files hidden); it
 * maps through the metainfo, so no client-given path is ever opened.
 * service and qos are accepted and ignored.
 *
 * Auth: HTTP Basic with the WebUI account like /gui/, but no token: the
 * URL is handed to players and browsers that cannot add one (seed 004's
 * form has none; btc calls it with token=False).
 *
 * Replies:
 *   200 the whole file (no Range, a Range we do not serve: several ranges
 *       or one we cannot parse are answered with the whole file, which
 *       RFC 9110 §14.2 allows);
 *   206 one range, with Content-Range;
 *   416 an unsatisfiable range, with Content-Range: bytes * /size;
 *   400 a bad or missing file index (missing only for a multi-file torrent);
 *   404 no such torrent (unknown id/sid) or file, or no metadata yet;
 *   503 the first bytes cannot come: a missing piece of a stopped torrent,
 *       of an unselected file, or not there within STREAM_WAIT_MS.
 * Headers go out once the first bytes are read, so those errors have a
 * status; a later failure can only cut the body short.  Accept-Ranges,
 * Content-Type from the extension (web_mime_type), Content-Disposition
 * inline (default) or attachment with the file's name.
 *
 * The body is streamed (web_reply_stream): one STREAM_MAX_READ buffer per
 * request, refilled through core/stream as the socket drains; reads of
 * pieces not yet had make them time-critical and wait for them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/session.h"
#include "core/stream.h"
#include "core/view.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/pct.h"
#include "web/api/ut_serve.h"
#include "web/server.h"

struct proxy {
    struct stream *st;
    struct web_req *r;            /* until the reply is queued */
    struct web_stream *out;       /* after */
    int status;
    uint64_t start, len;          /* the range, in the file */
    uint8_t *buf;                 /* bytes [buf_pos, buf_pos + buf_len) of the body */
    uint64_t buf_pos;
    size_t buf_len;
    bool reading;                 /* a stream_read is under way */
    bool failed;
};

static void proxy_free(struct proxy *p)
{
    stream_close(p->st);
    free(p->buf);
    free(p);
}

/* ---- Range (RFC 9110 §14.1.2), one range only ---- */

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

enum ut_range ut_range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *len)
{
    if (!h || strncasecmp(h, "bytes=", 6) != 0)
        return UT_RANGE_NONE;
    const char *spec = h + 6;
    while (*spec == ' ')
        spec++;
    size_t n = strlen(spec);
    while (n && spec[n - 1] == ' ')
        n--;
    if (memchr(spec, ',', n))
        return UT_RANGE_NONE;   /* several ranges: the whole file */
    const char *dash = memchr(spec, '-', n);
    if (!dash)
        return UT_RANGE_NONE;
    uint64_t a, b;
    size_t na = (size_t)(dash - spec), nb = n - na - 1;
    if (na == 0) {                                   /* suffix: the last b bytes */
        if (!parse_u64(dash + 1, nb, &b))
            return UT_RANGE_NONE;
        if (b == 0 || size == 0)
            return UT_RANGE_UNSATISFIABLE;
        if (b > size)
            b = size;
        *start = size - b;
        *len = b;
        return UT_RANGE_ONE;
    }
    if (!parse_u64(spec, na, &a))
        return UT_RANGE_NONE;
    if (nb == 0)
        b = UINT64_MAX;
    else if (!parse_u64(dash + 1, nb, &b) || b < a)
        return UT_RANGE_NONE;   /* invalid: ignored, as RFC 9110 lets a server do */
    if (a >= size)
        return UT_RANGE_UNSATISFIABLE;
    if (b >= size)
        b = size - 1;
    *start = a;
    *len = b - a + 1;
    return UT_RANGE_ONE;
}

/* ---- the body ---- */

static void on_bytes(void *ud, int rc, const uint8_t *data, size_t len);

static int fetch(struct proxy *p, uint64_t pos)
{
    uint64_t want = p->len - pos;
    int rc = stream_read(p->st, (int64_t)(p->start + pos), want < STREAM_MAX_READ ? (size_t)want : STREAM_MAX_READ,
                         on_bytes, p);
    if (rc == 0) {
        p->reading = true;
        p->buf_pos = pos;
        p->buf_len = 0;
    }
    return rc;
}

static long body_read(void *ud, uint64_t pos, char *out, size_t max)
{
    struct proxy *p = ud;
    if (p->failed)
        return -1;
    if (pos >= p->buf_pos && pos < p->buf_pos + p->buf_len) {
        size_t off = (size_t)(pos - p->buf_pos), n = p->buf_len - off;
        if (n > max)
            n = max;
        memcpy(out, p->buf + off, n);
        return (long)n;
    }
    if (!p->reading && fetch(p, pos) != 0)
        return -1;
    return 0;   /* on_bytes wakes the connection */
}

static void body_done(void *ud)
{
    proxy_free(ud);
}

static const struct web_stream_ops body_ops = {body_read, body_done};

static void reply_error(struct proxy *p, int rc)
{
    struct web_req *r = p->r;
    p->r = NULL;
    const char *why = rc == -ENODATA   ? "the file's data cannot be downloaded now (torrent stopped or file not selected)"
                      : rc == -ETIMEDOUT ? "the file's data did not arrive in time"
                      : rc == -ENOENT   ? "torrent removed"
                                        : "cannot read the file";
    web_reply_error(r, rc == -ENOENT ? 404 : 503, why);
    proxy_free(p);
}

static void on_bytes(void *ud, int rc, const uint8_t *data, size_t len)
{
    struct proxy *p = ud;
    p->reading = false;
    if (rc == 0) {
        memcpy(p->buf, data, len);
        p->buf_len = len;
    }
    if (p->r) {   /* the first bytes: now the headers */
        if (rc != 0) {
            reply_error(p, rc);
            return;
        }
        struct web_req *r = p->r;
        p->r = NULL;
        char ctype[128];
        snprintf(ctype, sizeof ctype, "%s", web_mime_type(stream_path(p->st)));
        int e = web_reply_stream(r, p->status, ctype, p->len, &body_ops, p, &p->out);
        if (e != 0) {
            web_reply_error(r, 500, NULL);   /* also frees r when the client left */
            proxy_free(p);
        }
        return;
    }
    if (rc != 0) {
        log_msg(LOG_WARNING, "proxy: '%s' cut short: %s", stream_path(p->st), strerror(-rc));
        p->failed = true;
    }
    web_stream_wake(p->out);
}

/* ---- the request ---- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* RFC 6266: a plain ASCII name in quotes, and filename* for the rest. */
static void add_disposition(struct web_req *r, const char *path)
{
    const char *disp = web_req_param(r, "disposition");
    bool attach = disp && strcasecmp(disp, "ATTACHMENT") == 0;
    const char *name = base_name(path);
    struct buf b = BUF_INIT;
    buf_append_str(&b, attach ? "attachment; filename=\"" : "inline; filename=\"");
    for (const char *c = name; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (u < 0x20 || u >= 0x7f)
            buf_append_u8(&b, '_');
        else {
            if (u == '"' || u == '\\')
                buf_append_u8(&b, '\\');
            buf_append_u8(&b, u);
        }
    }
    buf_append_str(&b, "\"; filename*=UTF-8''");
    pct_encode(&b, name, strlen(name), &pct_rfc3986);
    buf_append_u8(&b, 0);
    if (!buf_error(&b))
        web_req_add_header(r, "Content-Disposition", (const char *)b.data);
    buf_free(&b);
}

void ut_proxy_serve(struct web_req *r, struct session *s)
{
    const char *id = web_req_param(r, "id");
    if (!id)
        id = web_req_param(r, "sid");
    struct torrent *t = id ? session_find_hex(s, id) : NULL;
    if (!t) {
        web_reply_error(r, 404, "unknown torrent");
        return;
    }
    const char *f = web_req_param(r, "file");
    uint64_t idx = 0;
    if (f ? !parse_u64(f, strlen(f), &idx) : view_file_count(t) != 1) {
        web_reply_error(r, 400, f ? "bad file index" : "file= is needed for a torrent of several files");
        return;
    }
    struct stream *st = NULL;
    int rc = idx > SIZE_MAX ? -ENOENT : stream_open(t, (size_t)idx, &st);
    if (rc != 0) {
        web_reply_error(r, rc == -ENOMEM ? 500 : 404, rc == -EAGAIN ? "no metadata yet" : "unknown file");
        return;
    }
    uint64_t size = (uint64_t)stream_size(st), start = 0, len = size;
    enum ut_range k = ut_range_parse(web_req_header(r, "Range"), size, &start, &len);
    web_req_add_header(r, "Accept-Ranges", "bytes");
    if (k == UT_RANGE_UNSATISFIABLE) {
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
        web_req_add_header(r, "Content-Range", cr);
        stream_close(st);
        web_reply_error(r, 416, "Range Not Satisfiable");
        return;
    }
    if (k == UT_RANGE_ONE) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)start,
                 (unsigned long long)(start + len - 1), (unsigned long long)size);
        web_req_add_header(r, "Content-Range", cr);
    }
    add_disposition(r, stream_path(st));
    web_req_add_header(r, "Cache-Control", "no-store");
    struct proxy *p = calloc(1, sizeof *p);
    uint8_t *buf = p ? malloc(STREAM_MAX_READ) : NULL;
    if (!buf) {
        free(p);
        stream_close(st);
        web_reply_error(r, 500, NULL);
        return;
    }
    *p = (struct proxy){.st = st, .r = r, .status = k == UT_RANGE_ONE ? 206 : 200, .start = start, .len = len,
                        .buf = buf};
    if (len == 0 || web_req_method(r) == WEB_HEAD) {   /* an empty file, or no body wanted: nothing to wait for */
        p->r = NULL;
        if (web_reply_stream(r, p->status, web_mime_type(stream_path(st)), len, &body_ops, p, &p->out) != 0) {
            web_reply_error(r, 500, NULL);
            proxy_free(p);
        }
        return;
    }
    rc = fetch(p, 0);
    if (rc != 0)
        reply_error(p, rc);
    /* else: on_bytes replies (the request waits, suspended) */
}
