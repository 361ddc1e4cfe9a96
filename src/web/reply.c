/* web/reply — building and queueing replies: gzip when the client takes
 * it, qBittorrent's security headers on every reply, and a small cache of
 * prepared replies that MHD queues on many connections at once.
 *
 * Where the design came from: qBittorrent's Http::Server (gzip above 1 KiB
 * unless the type is already compressed, keep-alive announced on every
 * reply); the shared-response cache is MHD's reference-counted
 * MHD_Response used as nginx serves its static error pages.  Split out of
 * server.c (issue 9).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/log.h"
#include "web/web_int.h"

static bool accepts_gzip(const char *ae)
{
    if (!ae || strlen(ae) > 1024)
        return false;
    char s[1025];
    size_t n = 0;
    for (const char *p = ae; *p; p++)
        if (*p != ' ' && *p != '\t')
            s[n++] = *p;
    s[n] = 0;
    const char *codings[] = {"gzip", "*"};
    for (int k = 0; k < 2; k++) {
        size_t cl = strlen(codings[k]);
        char *save = NULL, copy[1025];
        memcpy(copy, s, n + 1);
        for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
            if (strncmp(it, codings[k], cl) != 0)
                continue;
            if (it[cl] == 0)
                return true;
            /* "gzip;q=0.5": skip the ";q=" */
            if (strlen(it) < cl + 3)
                return false;
            char *end;
            double q = strtod(it + cl + 3, &end);
            if (end == it + cl + 3 || *end || !(q > 0))
                return false;
            return true;
        }
    }
    return false;
}

/* gzip level 6 if it saves at least the 24 bytes of the header line. */
static bool gzip_body(char **body, size_t *len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    uLong cap = deflateBound(&z, (uLong)*len);
    char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return false;
    }
    z.next_in = (Bytef *)*body;
    z.avail_in = (uInt)*len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t outlen = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || outlen + 24 >= *len) {
        free(out);
        return false;
    }
    free(*body);
    *body = out;
    *len = outlen;
    return true;
}

/* Small replies repeat (app/version, the empty 200 of every action, `Ok.`,
 * error texts): building one costs more than the request itself (a dozen
 * header copies), so replies without per-request headers are prepared once
 * and shared until the security headers change (auth_gen). */
static bool reply_cacheable(const struct web_req *r, const char *ctype, size_t len)
{
    return r->nhdrs == 0 && len <= WEB_REPLY_CACHE_BODY && (!ctype || strlen(ctype) < sizeof(r->ws->replies[0].ctype));
}

static struct web_cached_reply *reply_cached(struct web_server *ws, const char *ctype, const char *body, size_t len)
{
    for (size_t i = 0; i < WEB_REPLY_CACHE; i++) {
        struct web_cached_reply *c = &ws->replies[i];
        if (c->resp && c->gen == ws->auth_gen && c->len == len && strcmp(c->ctype, ctype ? ctype : "") == 0 &&
            memcmp(c->body, body, len) == 0)
            return c;
    }
    return NULL;
}

static void reply_cache_put(struct web_server *ws, struct MHD_Response *resp, const char *ctype, const char *body,
                            size_t len)
{
    struct web_cached_reply *c = &ws->replies[ws->next_reply++ % WEB_REPLY_CACHE];
    if (c->resp)
        MHD_destroy_response(c->resp);   /* connections still sending it keep their reference */
    c->resp = resp;
    c->gen = ws->auth_gen;
    snprintf(c->ctype, sizeof(c->ctype), "%s", ctype ? ctype : "");
    memcpy(c->body, body, len);
    c->len = len;
}

void web_reply_cache_free(struct web_server *ws)
{
    for (size_t i = 0; i < WEB_REPLY_CACHE; i++)
        if (ws->replies[i].resp)
            MHD_destroy_response(ws->replies[i].resp);
}

static void reply_ready(struct web_req *r, struct MHD_Response *resp, bool shared, int status)
{
    r->resp = resp;
    r->resp_shared = shared;
    r->status = status;
    log_src(LOG_SRC_WEBUI, "WebUI: %s from %s answered %d", r->path ? r->path : "?", r->client_ip, status);
    r->state = WEB_REQ_REPLIED;
    if (r->suspended) {
        web_waiting_unlink(r);
        r->suspended = false;
        MHD_resume_connection(r->conn);
        web_kick(r->ws);
    }
}

static void add_headers(struct web_req *r, struct MHD_Response *resp, const char *content_type)
{
    struct web_server *ws = r->ws;
    if (content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    /* qBittorrent announces keep-alive on every reply; MHD still closes
     * when the client asked for it (HTTP/1.0, Connection: close). */
    MHD_add_response_header(resp, "Connection", "keep-alive");
    for (size_t i = 0; i < ws->nprebuilt; i++)
        MHD_add_response_header(resp, ws->prebuilt[i].name, ws->prebuilt[i].value);
    for (size_t i = 0; i < r->nhdrs; i++)
        MHD_add_response_header(resp, r->hdrs[i].name, r->hdrs[i].value);
}

/* ---- streamed replies ---- */

#define STREAM_BLOCK (64u * 1024)

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct web_stream *s = cls;
    long n = s->ops->read(s->ud, pos, buf, max);
    if (n > 0)
        return (ssize_t)n;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    /* Not there yet: MHD would call again at once, so the connection
     * sleeps until web_stream_wake (allowed from a content reader). */
    s->paused = true;
    MHD_suspend_connection(s->conn);
    return 0;
}

static void stream_free(void *cls)
{
    struct web_stream *s = cls;
    if (s->prev)
        s->prev->next = s->next;
    else
        s->ws->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->ops->done(s->ud);
    free(s);
}

int web_reply_stream(struct web_req *r, int status, const char *content_type, uint64_t size,
                     const struct web_stream_ops *ops, void *ud, struct web_stream **out)
{
    if (!r->conn || r->state != WEB_REQ_WAITING)
        return -ENOTCONN;
    struct web_stream *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    *s = (struct web_stream){.ws = r->ws, .conn = r->conn, .ops = ops, .ud = ud};
    struct MHD_Response *resp = MHD_create_response_from_callback(size, STREAM_BLOCK, stream_reader, s, stream_free);
    if (!resp) {
        free(s);
        return -ENOMEM;
    }
    s->next = r->ws->streams;
    if (s->next)
        s->next->prev = s;
    r->ws->streams = s;
    add_headers(r, resp, content_type);
    *out = s;
    reply_ready(r, resp, false, status);
    return 0;
}

void web_stream_wake(struct web_stream *s)
{
    if (!s || !s->paused)
        return;
    s->paused = false;
    MHD_resume_connection(s->conn);
    web_kick(s->ws);
}

void web_reply_take(struct web_req *r, int status, const char *content_type, char *body, size_t len)
{
    if (!r) {
        free(body);
        return;
    }
    if (!r->conn) {            /* connection gone while the handler worked */
        struct web_server *ws = r->ws;
        free(body);
        web_req_free(r);
        web_server_job_done(ws);
        return;
    }
    if (r->state != WEB_REQ_WAITING) {
        log_debug("web: second reply to %s ignored", r->path);
        free(body);
        return;
    }
    struct web_server *ws = r->ws;
    bool gz = false;
    if (len > 1024 && content_type && strncmp(content_type, "image/png", 9) != 0 &&
        strncmp(content_type, "image/gif", 9) != 0 && accepts_gzip(web_req_header(r, "Accept-Encoding")) &&
        len <= UINT32_MAX)
        gz = gzip_body(&body, &len);

    bool cacheable = !gz && reply_cacheable(r, content_type, len);
    char small[WEB_REPLY_CACHE_BODY];
    if (cacheable) {
        struct web_cached_reply *c = reply_cached(ws, content_type, body ? body : "", len);
        if (c) {
            free(body);
            reply_ready(r, c->resp, true, status);
            return;
        }
        memcpy(small, body ? body : "", len);
    }

    struct MHD_Response *resp;
    if (len == 0) {
        free(body);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(body);
    }
    if (!resp) {
        /* Nothing to send: drop the connection rather than hang it. */
        r->state = WEB_REQ_QUEUED;
        if (r->suspended) {
            web_waiting_unlink(r);
            r->suspended = false;
            MHD_resume_connection(r->conn);
            web_kick(ws);
        }
        return;
    }
    add_headers(r, resp, content_type);
    if (gz)
        MHD_add_response_header(resp, "Content-Encoding", "gzip");
    if (cacheable)
        reply_cache_put(ws, resp, content_type, small, len);
    reply_ready(r, resp, cacheable, status);
}

void web_reply(struct web_req *r, int status, const char *content_type, const void *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy && len)
        memcpy(copy, body, len);
    if (!copy)
        len = 0, status = 500;
    web_reply_take(r, status, content_type, copy, len);
}

void web_reply_text(struct web_req *r, int status, const char *text)
{
    web_reply(r, status, TEXT_PLAIN, text ? text : "", text ? strlen(text) : 0);
}

void web_reply_json(struct web_req *r, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!s) {
        web_reply_error(r, 500, NULL);
        return;
    }
    web_reply_take(r, 200, "application/json", s, strlen(s));
}

void web_reply_json_status(struct web_req *r, int status, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s) {
        web_reply_error(r, 500, NULL);
        return;
    }
    web_reply_take(r, status, "application/json", s, strlen(s));
}

void web_reply_json_str(struct web_req *r, char *s, size_t len)
{
    web_reply_take(r, 200, "application/json", s, s ? len : 0);
}

void web_reply_ok(struct web_req *r)
{
    web_reply(r, 200, TEXT_PLAIN, "", 0);
}

void web_reply_error(struct web_req *r, int status, const char *msg)
{
    web_reply_text(r, status, msg ? msg : web_reason_phrase(status));
}

static bool header_ok(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

void web_req_add_header(struct web_req *r, const char *name, const char *value)
{
    if (!r || r->nhdrs >= WEB_MAX_HEADERS || !header_ok(name) || !*name || !header_ok(value))
        return;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return;
    }
    r->hdrs[r->nhdrs].name = n;
    r->hdrs[r->nhdrs].value = v;
    r->nhdrs++;
}
