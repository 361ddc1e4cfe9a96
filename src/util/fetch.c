#include "util/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/log.h"

#ifndef TD_VERSION
#define TD_VERSION "0"
#endif

#define FETCH_DEFAULT_TIMEOUT_MS 30000L
#define FETCH_DEFAULT_MAX_BODY ((size_t)16 << 20)
#define FETCH_MAX_REDIRECTS 10

struct fetch_req {
    struct fetch *f;
    CURL *easy;
    fetch_cb cb;
    void *ud;
    struct buf body;
    size_t max_body;
    bool too_big;
    bool in_cb;
    int follow;
    int redirects;
    char errbuf[CURL_ERROR_SIZE];
    struct buf upload;            /* fetch_mail: the message, read by curl */
    struct curl_slist *rcpt;
    struct curl_slist *hdrs;      /* fetch_opts.headers */
    bool (*refuse_addr)(void *ud, const char *url, const struct sockaddr *sa);
    void *refuse_ud;
    struct fetch_req *prev, *next;
};

struct fetch {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t *timer;
    struct fetch_req *reqs;
    size_t nreqs;
    int cb_depth;       /* > 0 while user callbacks run */
    bool dead;          /* fetch_free() was called inside a callback */
};

struct fetch_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct fetch *f;
};

static void free_on_close(uv_handle_t *h) { free(h); }

/* ---- request bookkeeping ---- */

static void req_unlink(struct fetch_req *r)
{
    struct fetch *f = r->f;
    if (r->prev)
        r->prev->next = r->next;
    else
        f->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    f->nreqs--;
}

static void req_destroy(struct fetch_req *r)
{
    req_unlink(r);
    curl_multi_remove_handle(r->f->multi, r->easy);
    curl_easy_cleanup(r->easy);
    buf_free(&r->body);
    buf_free(&r->upload);
    curl_slist_free_all(r->rcpt);
    curl_slist_free_all(r->hdrs);
    free(r);
}

static int map_curl_error(CURLcode c)
{
    switch (c) {
    case CURLE_OK: return 0;
    case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
    case CURLE_FILESIZE_EXCEEDED: return -E2BIG;
    case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return -EHOSTUNREACH;
    case CURLE_UNSUPPORTED_PROTOCOL: return -EPROTONOSUPPORT;
    case CURLE_TOO_MANY_REDIRECTS: return -ELOOP;
    case CURLE_OUT_OF_MEMORY: return -ENOMEM;
    default: return -EIO;
    }
}

static bool is_http_url(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

static void fetch_destroy(struct fetch *f);

/* Runs the user's callback; returns false when the fetch was freed inside. */
static bool deliver(struct fetch_req *r, int rc, long status, const char *msg)
{
    struct fetch *f = r->f;
    /* Make the body NUL-terminated without counting the NUL. */
    if (buf_append_u8(&r->body, 0) == 0)
        r->body.len--;
    static const uint8_t empty[1] = {0};
    const uint8_t *body = r->body.data ? buf_head(&r->body) : empty;
    r->in_cb = true;
    f->cb_depth++;
    r->cb(r->ud, rc, status, body, buf_size(&r->body), msg ? msg : "");
    f->cb_depth--;
    r->in_cb = false;
    req_destroy(r);
    if (f->dead && f->cb_depth == 0) {
        fetch_destroy(f);
        return false;
    }
    return !f->dead;
}

/* Restarts r on a new http(s) URL.  Returns 0 or a negative code. */
static int req_redirect(struct fetch_req *r, const char *url)
{
    curl_multi_remove_handle(r->f->multi, r->easy);
    buf_reset(&r->body);
    r->too_big = false;
    r->errbuf[0] = 0;
    if (curl_easy_setopt(r->easy, CURLOPT_URL, url) != CURLE_OK)
        return -ENOMEM;
    if (curl_multi_add_handle(r->f->multi, r->easy) != CURLM_OK)
        return -EIO;
    return 0;
}

/* Handles one finished transfer; returns false when f is gone. */
static bool req_done(struct fetch_req *r, CURLcode res)
{
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (res != CURLE_OK) {
        int rc = r->too_big ? -E2BIG : map_curl_error(res);
        const char *msg = r->errbuf[0] ? r->errbuf : curl_easy_strerror(res);
        if (r->too_big)
            msg = "response body too large";
        log_debug("fetch: %s", msg);
        return deliver(r, rc, status, msg);
    }
    if (r->follow && status >= 300 && status < 400) {
        char *loc = NULL;
        curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &loc);
        if (loc && *loc) {
            if (!is_http_url(loc))
                return deliver(r, -EXDEV, status, loc);
            if (++r->redirects > FETCH_MAX_REDIRECTS)
                return deliver(r, -ELOOP, status, "too many redirects");
            /* curl_easy_setopt copies the string, but loc lives in the
             * handle we are about to reconfigure: copy it first. */
            char *copy = strdup(loc);
            int rc = copy ? req_redirect(r, copy) : -ENOMEM;
            free(copy);
            if (rc == 0)
                return true;
            return deliver(r, rc, status, "redirect failed");
        }
    }
    return deliver(r, 0, status, "");
}

static bool check_multi_info(struct fetch *f)
{
    CURLMsg *m;
    int left;
    /* Each message is handled before reading the next: removing a handle
     * drops its queued messages, so cancels inside callbacks are safe. */
    while ((m = curl_multi_info_read(f->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct fetch_req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        if (!r)
            continue;
        if (!req_done(r, m->data.result))
            return false;
    }
    return true;
}

/* ---- curl ↔ libuv glue ---- */

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct fetch_sock *s = (struct fetch_sock *)h;
    struct fetch *f = s->f;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(f->multi, s->fd, flags, &running);
    check_multi_info(f);
}

static void on_timer(uv_timer_t *t)
{
    struct fetch *f = t->data;
    int running;
    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(f);
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct fetch *f = userp;
    struct fetch_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, free_on_close);
            curl_multi_assign(f->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        s->fd = fd;
        s->f = f;
        int prc = uv_poll_init_socket(f->loop, &s->poll, fd);
        if (prc != 0) {
            log_msg(LOG_WARNING, "fetch: cannot watch socket %d: %s", (int)fd, uv_strerror(prc));
            free(s);
            return -1;
        }
        curl_multi_assign(f->multi, fd, s);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct fetch *f = userp;
    if (!f->timer)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(f->timer);
    else /* never call socket_action from here: defer to the loop, even for 0 */
        uv_timer_start(f->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    struct fetch_req *r = ud;
    size_t len = size * n;
    if (len > r->max_body || buf_size(&r->body) > r->max_body - len) {
        r->too_big = true;
        return 0;   /* makes curl abort with CURLE_WRITE_ERROR */
    }
    if (buf_append(&r->body, p, len) != 0)
        return 0;
    return len;
}

/* ---- public API ---- */

int fetch_new(uv_loop_t *loop, struct fetch **out)
{
    *out = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -EIO;
    struct fetch *f = calloc(1, sizeof *f);
    if (!f)
        goto nomem;
    f->loop = loop;
    f->timer = malloc(sizeof *f->timer);
    f->multi = curl_multi_init();
    if (!f->timer || !f->multi)
        goto nomem;
    uv_timer_init(loop, f->timer);
    f->timer->data = f;
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
    *out = f;
    return 0;
nomem:
    if (f) {
        if (f->multi)
            curl_multi_cleanup(f->multi);
        free(f->timer);   /* never initialised when we get here with multi NULL */
        free(f);
    }
    curl_global_cleanup();
    return -ENOMEM;
}

static void fetch_destroy(struct fetch *f)
{
    while (f->reqs)
        req_destroy(f->reqs);
    /* Cleanup may close cached connections and call sock_cb: f stays valid. */
    curl_multi_cleanup(f->multi);
    uv_timer_stop(f->timer);
    uv_close((uv_handle_t *)f->timer, free_on_close);
    f->timer = NULL;
    free(f);
    curl_global_cleanup();
}

void fetch_free(struct fetch *f)
{
    if (!f || f->dead)
        return;
    if (f->cb_depth > 0) {
        /* Inside a callback: cancel everything else now, finish later. */
        f->dead = true;
        struct fetch_req *r = f->reqs, *next;
        for (; r; r = next) {
            next = r->next;
            if (!r->in_cb)
                req_destroy(r);
        }
        return;
    }
    fetch_destroy(f);
}

/* The connection filter (fetch_opts.refuse_addr): curl asks for each
 * socket it connects, so redirects and fallback addresses pass here too. */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct fetch_req *r = ud;
    if (purpose == CURLSOCKTYPE_IPCXN && r->refuse_addr) {
        char *url = NULL;
        curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &url);
        if (r->refuse_addr(r->refuse_ud, url ? url : "", &a->addr))
            return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

int fetch_get(struct fetch *f, const char *url, const struct fetch_opts *o, fetch_cb cb, void *ud,
              struct fetch_req **handle)
{
    if (handle)
        *handle = NULL;
    if (!f || !url || !cb || f->dead)
        return -EINVAL;
    if (!is_http_url(url))
        return -EPROTONOSUPPORT;
    struct fetch_opts def = {0};
    if (!o)
        o = &def;
    struct fetch_req *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->easy = curl_easy_init();
    if (!r->easy) {
        free(r);
        return -ENOMEM;
    }
    r->f = f;
    r->cb = cb;
    r->ud = ud;
    r->max_body = o->max_body ? o->max_body : FETCH_DEFAULT_MAX_BODY;
    r->follow = o->follow_redirects;

    CURL *e = r->easy;
    char iface[128];
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, url);
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    bad |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : FETCH_DEFAULT_TIMEOUT_MS);
    if (o->idle_timeout_ms > 0) {
        bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->idle_timeout_ms);
        bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        bad |= curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (o->idle_timeout_ms + 999) / 1000);
    }
    bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_body);
    /* "" sends no User-Agent at all (anonymous_mode): curl's own default */
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT,
                            !o->user_agent ? "torrentd/" TD_VERSION : *o->user_agent ? o->user_agent : NULL);
    if (o->range)
        bad |= curl_easy_setopt(e, CURLOPT_RANGE, o->range);
    /* Always set: an empty string keeps curl from reading http_proxy and
     * friends from the environment (a daemon's proxy is its preference). */
    bad |= curl_easy_setopt(e, CURLOPT_PROXY, o->proxy ? o->proxy : "");
    /* ... and an empty list keeps it from reading no_proxy: with a proxy
     * set, no host goes around it (nothing leaks, not even a name lookup
     * with socks5h). */
    bad |= curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    if (o->insecure) {
        bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o->num_cookies > 0) {
        bad |= curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");   /* the cookie engine, in memory */
        for (size_t i = 0; i < o->num_cookies; i++)
            bad |= curl_easy_setopt(e, CURLOPT_COOKIELIST, o->cookies[i]);
    }
    if (o->refuse_addr) {
        r->refuse_addr = o->refuse_addr;
        r->refuse_ud = o->refuse_ud;
        bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
        bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
    }
    if (o->bind_address && *o->bind_address) {
        int n = snprintf(iface, sizeof iface, "host!%s", o->bind_address);
        if (n < 0 || (size_t)n >= sizeof iface)
            bad = 1;
        else
            bad |= curl_easy_setopt(e, CURLOPT_INTERFACE, iface);
    }
    for (size_t i = 0; i < o->num_headers; i++) {
        struct curl_slist *n = curl_slist_append(r->hdrs, o->headers[i]);
        if (!n)
            bad = 1;
        else
            r->hdrs = n;
    }
    if (r->hdrs)
        bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
    if (o->post_body) {
        r->follow = 0;
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->post_len);
        bad |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, o->post_body);
    }
    if (o->method)
        bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
    if (bad) {
        curl_easy_cleanup(e);
        curl_slist_free_all(r->hdrs);
        free(r);
        return -EINVAL;
    }
    if (curl_multi_add_handle(f->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        curl_slist_free_all(r->hdrs);
        free(r);
        return -ENOMEM;
    }
    r->next = f->reqs;
    if (f->reqs)
        f->reqs->prev = r;
    f->reqs = r;
    f->nreqs++;
    if (handle)
        *handle = r;
    return 0;
}

void fetch_cancel(struct fetch_req *r)
{
    if (!r || r->in_cb)
        return;
    req_destroy(r);
}

size_t fetch_active(const struct fetch *f) { return f ? f->nreqs : 0; }

static size_t read_cb(char *p, size_t size, size_t n, void *ud)
{
    struct fetch_req *r = ud;
    size_t want = size * n, left = buf_size(&r->upload);
    size_t k = want < left ? want : left;
    memcpy(p, buf_head(&r->upload), k);
    buf_consume(&r->upload, k);
    return k;
}

/* Header values come from preferences: no CR/LF may start a new header. */
static void put_header(struct buf *b, const char *name, const char *value)
{
    buf_append_str(b, name);
    buf_append_str(b, ": ");
    for (const char *p = value ? value : ""; *p; p++)
        buf_append_u8(b, *p == '\r' || *p == '\n' ? ' ' : (uint8_t)*p);
    buf_append_str(b, "\r\n");
}

int fetch_mail(struct fetch *f, const struct fetch_mail *m, fetch_cb cb, void *ud, struct fetch_req **handle)
{
    if (handle)
        *handle = NULL;
    if (!f || !m || !m->server || !*m->server || !m->from || !m->to || !*m->to || !cb || f->dead)
        return -EINVAL;
    struct fetch_req *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->easy = curl_easy_init();
    if (!r->easy) {
        free(r);
        return -ENOMEM;
    }
    r->f = f;
    r->cb = cb;
    r->ud = ud;
    r->max_body = FETCH_DEFAULT_MAX_BODY;
    char url[512], from[512], to[512];
    bool smtps = strncasecmp(m->server, "smtps://", 8) == 0;
    const char *host = strstr(m->server, "://") ? strstr(m->server, "://") + 3 : m->server;
    snprintf(url, sizeof url, "%s://%s", smtps ? "smtps" : "smtp", host);
    snprintf(from, sizeof from, "<%s>", m->from);
    snprintf(to, sizeof to, "<%s>", m->to);
    r->rcpt = curl_slist_append(NULL, to);
    put_header(&r->upload, "From", m->from);
    put_header(&r->upload, "To", m->to);
    put_header(&r->upload, "Subject", m->subject);
    put_header(&r->upload, "Content-Type", "text/plain; charset=UTF-8");
    buf_append_str(&r->upload, "\r\n");
    buf_append_str(&r->upload, m->body ? m->body : "");
    buf_append_str(&r->upload, "\r\n");

    CURL *e = r->easy;
    int bad = !r->rcpt || buf_error(&r->upload);   /* every append above, checked once */
    bad |= curl_easy_setopt(e, CURLOPT_URL, url);
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    bad |= curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
    bad |= curl_easy_setopt(e, CURLOPT_MAIL_RCPT, r->rcpt);
    bad |= curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
    bad |= curl_easy_setopt(e, CURLOPT_READDATA, r);
    bad |= curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, m->timeout_ms > 0 ? m->timeout_ms : FETCH_DEFAULT_TIMEOUT_MS);
    if (m->tls && !smtps)
        bad |= curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (m->username && *m->username) {
        bad |= curl_easy_setopt(e, CURLOPT_USERNAME, m->username);
        bad |= curl_easy_setopt(e, CURLOPT_PASSWORD, m->password ? m->password : "");
    }
    if (bad || curl_multi_add_handle(f->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        buf_free(&r->upload);
        curl_slist_free_all(r->rcpt);
        free(r);
        return bad ? -EINVAL : -ENOMEM;
    }
    r->next = f->reqs;
    if (f->reqs)
        f->reqs->prev = r;
    f->reqs = r;
    f->nreqs++;
    if (handle)
        *handle = r;
    return 0;
}
