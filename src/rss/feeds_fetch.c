/* rss/feeds_fetch — refreshing feeds: when (qBittorrent's Session::refresh
 * timer), how (util/fetch on the loop, one fetch at a time per host:port
 * with rss_fetch_delay between two: qBittorrent's sequential download
 * service), and what a fetched document changes (Feed::updateArticles). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cookiejar.h"
#include "core/proxy.h"
#include "core/session.h"
#include "rss/feeds_int.h"
#include "util/fetch.h"
#include "util/log.h"

/* Intervals and delays are stored as given (the API echoes them) but
 * counted with at most RSS_MAX_WAIT_S, so that no sum overflows. */
#define RSS_MAX_WAIT_S (10LL * 365 * 86400)

static int64_t clamp_s(int64_t s) { return s < 0 ? 0 : s > RSS_MAX_WAIT_S ? RSS_MAX_WAIT_S : s; }

int64_t rss_interval_ms(const struct rss_feeds *f, const struct rss_node *n)
{
    if (n->refresh_s > 0)
        return clamp_s(n->refresh_s) * 1000;
    int64_t m = f->cfg.refresh_interval_min < 1 ? 1 : f->cfg.refresh_interval_min;
    return clamp_s(m > RSS_MAX_WAIT_S / 60 ? RSS_MAX_WAIT_S : m * 60) * 1000;
}

/* "scheme://host:port" of a URL (the port made explicit), qBittorrent's
 * ServiceID. */
static char *host_key(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return strdup(url);
    size_t scheme = (size_t)(p - url);
    p += 3;
    const char *at = NULL;
    size_t auth = strcspn(p, "/?#");
    for (size_t i = 0; i < auth; i++)
        if (p[i] == '@')
            at = p + i;
    if (at) {
        auth -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    const char *colon = NULL;
    for (size_t i = 0; i < auth; i++)
        if (p[i] == ':' && !memchr(p + i, ']', auth - i))
            colon = p + i;
    size_t len = scheme + 3 + auth + 8;
    char *k = malloc(len);
    if (!k)
        return NULL;
    if (colon)
        snprintf(k, len, "%.*s://%.*s", (int)scheme, url, (int)auth, p);
    else
        snprintf(k, len, "%.*s://%.*s:%d", (int)scheme, url, (int)auth, p,
                 scheme == 5 && !strncasecmp(url, "https", 5) ? 443 : 80);
    return k;
}

static struct rss_host *host_get(struct rss_feeds *f, const char *key)
{
    for (size_t i = 0; i < f->nhosts; i++)
        if (!strcmp(f->hosts[i].key, key))
            return &f->hosts[i];
    struct rss_host *h = realloc(f->hosts, (f->nhosts + 1) * sizeof *h);
    if (!h)
        return NULL;
    f->hosts = h;
    h = &f->hosts[f->nhosts];
    *h = (struct rss_host){.key = strdup(key)};
    if (!h->key)
        return NULL;
    f->nhosts++;
    return h;
}

static void host_release(struct rss_feeds *f, struct rss_node *n)
{
    if (!n->req_host)
        return;
    struct rss_host *h = host_get(f, n->req_host);
    if (h) {
        h->busy = false;
        h->ready_ms = rss_now_ms() + clamp_s(f->cfg.fetch_delay_s) * 1000;
    }
    free(n->req_host);
    n->req_host = NULL;
}

static void dequeue(struct rss_feeds *f, struct rss_node *n)
{
    struct rss_node **pp = &f->q_head, *prev = NULL;
    while (*pp && *pp != n) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (!*pp)
        return;
    *pp = n->qnext;
    if (f->q_tail == n)
        f->q_tail = prev;
    n->qnext = NULL;
    n->queued = false;
}

void rss_fetch_stop(struct rss_feeds *f, struct rss_node *n)
{
    if (n->queued)
        dequeue(f, n);
    if (n->req) {
        fetch_cancel(n->req);
        n->req = NULL;
    }
    host_release(f, n);
    n->loading = false;
}

static void dispatch(struct rss_feeds *f);

static void on_dispatch_timer(uv_timer_t *t) { dispatch(t->data); }

/* ---- one fetch's result ---- */

static const char *reason_phrase(long status)
{
    switch (status) {
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 410: return "Gone";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

static void fetch_reason(int rc, long status, const char *url, const char *errmsg, char *out, size_t len)
{
    switch (rc) {
    case 0:
        /* Qt's QNetworkReply wording */
        snprintf(out, len, "Error transferring %s - server replied: %s", url, reason_phrase(status));
        break;
    case -ETIMEDOUT: snprintf(out, len, "Operation timed out"); break;
    case -E2BIG:
        snprintf(out, len, "The file size exceeds the download limit (%u MiB)", FEEDPARSE_MAX_DOC >> 20);
        break;
    case -ECONNREFUSED: snprintf(out, len, "Connection refused"); break;
    case -EHOSTUNREACH: snprintf(out, len, "Host %s not found", url); break;
    case -ELOOP: snprintf(out, len, "Too many redirects"); break;
    case -EXDEV: snprintf(out, len, "Redirected to a non-HTTP URL: %s", errmsg); break;
    case -EPROTONOSUPPORT: snprintf(out, len, "Protocol \"%s\" is unknown", url); break;
    default: snprintf(out, len, "%s", errmsg && *errmsg ? errmsg : "Unknown error"); break;
    }
}

struct new_batch {
    struct rss_feeds *f;
    char *uid;
    char **ids;
    size_t n;
};

static void announce_new(void *ud, int rc)
{
    struct new_batch *b = ud;
    struct rss_feeds *f = b->f;
    struct rss_node *n = rc == 0 && f->new_fn && !f->stopping ? rss_find_uid(f->root, b->uid) : NULL;
    for (size_t i = 0; i < b->n; i++) {
        if (n && f->new_fn) {
            struct rss_art *a = rss_art_find(n, b->ids[i]);
            if (a) {
                const char *title = json_string_value(json_object_get(a->data, "title"));
                const char *tu = json_string_value(json_object_get(a->data, "torrentURL"));
                const char *link = json_string_value(json_object_get(a->data, "link"));
                struct rss_feed_ref ref = {.url = n->url, .name = n->name};
                struct rss_article art = {.id = a->id,
                                          .title = title ? title : "",
                                          .torrent_url = tu ? tu : "",
                                          .link = link ? link : "",
                                          .date = a->date_ms / 1000,
                                          .is_read = a->is_read};
                f->new_fn(f->new_ud, &ref, &art);
                /* the subscriber may have removed the feed */
                n = rss_find_uid(f->root, b->uid);
            }
        }
        free(b->ids[i]);
    }
    free(b->ids);
    free(b->uid);
    free(b);
}

void rss_apply_document(struct rss_feeds *f, struct rss_node *n, const uint8_t *body, size_t len)
{
    int64_t now = rss_now_ms();
    struct feedparse_result r;
    int rc = feedparse_parse((const char *)body, len, n->last_build_date, now, &r);
    if (rc) {
        snprintf(r.error, sizeof r.error, "%s", rc == -ENOMEM ? "Out of memory" : "Invalid RSS feed.");
    }
    struct rss_op *o = rss_op_new(f, NULL, NULL);
    bool dirty = false;
    n->has_error = r.error[0] != '\0';
    bool retitle = false;
    if (r.title && *r.title && (!n->title || strcmp(n->title, r.title) != 0)) {
        free(n->title);
        n->title = strdup(r.title);
        dirty = true;
        retitle = n->title && strcmp(n->name, n->url) == 0;
    }
    if (r.last_build_date && *r.last_build_date &&
        (!n->last_build_date || strcmp(n->last_build_date, r.last_build_date) != 0)) {
        free(n->last_build_date);
        n->last_build_date = strdup(r.last_build_date);
        dirty = true;
    }
    char **added = NULL;
    size_t nnew = rss_merge(f, n, &r, now, &added);
    if (nnew)
        dirty = true;
    if (retitle && strchr(n->title, '\\') == NULL) {
        /* named by its URL so far: take the title (Session::handleFeedTitleChanged) */
        char *parent = rss_path(n->parent);
        size_t l = parent ? strlen(parent) + strlen(n->title) + 2 : 0;
        char *dest = parent ? malloc(l) : NULL;
        if (dest) {
            snprintf(dest, l, "%s%s%s", parent, *parent ? "\\" : "", n->title);
            if (rss_move(f, n, dest, NULL, 0) == 0 && o)
                rss_op_put_tree(o);
        }
        free(dest);
        free(parent);
    }
    if (o) {
        if (dirty)
            rss_op_put_feed(o, n);
        struct new_batch *b = nnew ? calloc(1, sizeof *b) : NULL;
        if (b) {
            b->f = f;
            b->uid = strdup(n->uid);
            b->ids = added;
            b->n = nnew;
            added = NULL;
            rss_op_after(o, announce_new, b);
        }
        if (rss_op_finish(o) != 0 && b)
            announce_new(b, -EIO);
    }
    if (added) {
        for (size_t i = 0; i < nnew; i++)
            free(added[i]);
        free(added);
    }
    if (n->has_error)
        log_msg(LOG_WARNING, "Failed to parse RSS feed at '%s'. Reason: %s", n->url, r.error);
    log_msg(LOG_NORMAL, "RSS feed at '%s' updated. Added %zu new articles.", n->url, nnew);
    n->loading = false;
    feedparse_result_free(&r);
}

static void on_fetched(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg)
{
    struct rss_node *n = ud;
    struct rss_feeds *f = n->owner;
    n->req = NULL;
    host_release(f, n);
    if (rc == 0 && status >= 200 && status < 300) {
        log_msg(LOG_NORMAL, "RSS feed at '%s' is successfully downloaded. Starting to parse it.", n->url);
        rss_apply_document(f, n, body, len);
    } else {
        char reason[512];
        fetch_reason(rc, status, n->url, errmsg, reason, sizeof reason);
        n->loading = false;
        n->has_error = true;
        log_msg(LOG_WARNING, "Failed to download RSS feed at '%s'. Reason: %s", n->url, reason);
    }
    dispatch(f);
}

static void start_fetch(struct rss_feeds *f, struct rss_node *n, const char *key)
{
    struct fetch_opts o = {
        .timeout_ms = RSS_FEEDS_TIMEOUT_MS,
        .idle_timeout_ms = RSS_FEEDS_TIMEOUT_MS / 2,
        .max_body = FEEDPARSE_MAX_DOC,
        .follow_redirects = 1,
    };
    char proxy[1024];
    proxy_url(f->s, PROXY_USE_RSS, proxy, sizeof proxy);   /* proxy_rss */
    o.proxy = proxy;
    char **lines = NULL;
    size_t nl = f->s->cookies ? cookiejar_lines(f->s, &lines) : 0;
    o.cookies = (const char *const *)lines;
    o.num_cookies = nl;
    int rc = f->s->fetch ? fetch_get(f->s->fetch, n->url, &o, on_fetched, n, &n->req) : -EIO;
    for (size_t i = 0; i < nl; i++)
        free(lines[i]);
    free(lines);
    if (rc == 0) {
        n->req_host = strdup(key);
        struct rss_host *h = host_get(f, key);
        if (h)
            h->busy = true;
        return;
    }
    n->req = NULL;
    char reason[512];
    fetch_reason(rc, 0, n->url, rc == -ENOMEM ? "Out of memory" : "Unknown error", reason, sizeof reason);
    n->loading = false;
    n->has_error = true;
    log_msg(LOG_WARNING, "Failed to download RSS feed at '%s'. Reason: %s", n->url, reason);
}

static void dispatch(struct rss_feeds *f)
{
    if (f->stopping)
        return;
    int64_t now = rss_now_ms(), wake = 0;
    for (struct rss_node *n = f->q_head, *next; n; n = next) {
        next = n->qnext;
        char *key = host_key(n->url);
        struct rss_host *h = key ? host_get(f, key) : NULL;
        if (!h) {
            free(key);
            continue;
        }
        if (h->busy) {
            free(key);
            continue;
        }
        if (h->ready_ms > now) {
            if (!wake || h->ready_ms < wake)
                wake = h->ready_ms;
            free(key);
            continue;
        }
        dequeue(f, n);
        start_fetch(f, n, key);
        free(key);
    }
    if (wake)
        uv_timer_start(&f->dispatch_timer, on_dispatch_timer, (uint64_t)(wake - now), 0);
}

static void refresh_feed(struct rss_feeds *f, struct rss_node *n)
{
    if (f->stopping)
        return;
    if (n->req) {
        /* a new refresh replaces the one in flight (Feed::refresh) */
        fetch_cancel(n->req);
        n->req = NULL;
        host_release(f, n);
    }
    n->loading = true;
    if (n->queued)
        return;
    n->queued = true;
    n->qnext = NULL;
    if (f->q_tail)
        f->q_tail->qnext = n;
    else
        f->q_head = n;
    f->q_tail = n;
}

static void refresh_tree(struct rss_feeds *f, struct rss_node *n)
{
    if (n->is_feed) {
        refresh_feed(f, n);
        return;
    }
    for (size_t i = 0; i < n->nkids; i++)
        refresh_tree(f, n->kids[i]);
}

void rss_refresh_node(struct rss_feeds *f, struct rss_node *n)
{
    refresh_tree(f, n);
    dispatch(f);
}

static void on_refresh_timer(uv_timer_t *t) { rss_refresh_due(t->data); }

static void due_walk(struct rss_feeds *f, struct rss_node *n, int64_t now, int64_t *next)
{
    if (!n->is_feed) {
        for (size_t i = 0; i < n->nkids; i++)
            due_walk(f, n->kids[i], now, next);
        return;
    }
    /* a second of slack, as qBittorrent, so a timer that fires a little
     * early does not end up with a zero interval */
    if (now > n->next_refresh_ms - 1000) {
        refresh_feed(f, n);
        n->next_refresh_ms = now + rss_interval_ms(f, n);
    }
    int64_t iv = n->next_refresh_ms - now;
    if (!*next || iv < *next)
        *next = iv;
}

void rss_refresh_due(struct rss_feeds *f)
{
    if (f->stopping || !f->cfg.processing)
        return;
    int64_t next = 0;
    due_walk(f, f->root, rss_now_ms(), &next);
    dispatch(f);
    if (next > 0)
        uv_timer_start(&f->refresh_timer, on_refresh_timer, (uint64_t)next, 0);
}

/* ---- merging ---- */

static size_t cap_of(const struct rss_feeds *f)
{
    return f->cfg.max_articles < 1 ? 1 : (size_t)f->cfg.max_articles;
}

void rss_trim(struct rss_feeds *f, struct rss_node *n)
{
    size_t cap = cap_of(f);
    while (n->narts > cap)
        rss_art_clear(&n->arts[--n->narts]);
}

struct cand {
    struct rss_art a;
    bool is_new;
    size_t order;
};

static int cand_cmp(const void *x, const void *y)
{
    const struct cand *a = x, *b = y;
    if (a->a.date_ms != b->a.date_ms)
        return a->a.date_ms < b->a.date_ms ? 1 : -1;
    /* equal dates: a new article goes before the existing ones, as
     * qBittorrent's lower_bound insertion puts it */
    if (a->is_new != b->is_new)
        return a->is_new ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

size_t rss_merge(struct rss_feeds *f, struct rss_node *n, struct feedparse_result *r, int64_t now_ms,
                 char ***added)
{
    *added = NULL;
    if (!r->n)
        return 0;
    struct cand *c = calloc(r->n + n->narts, sizeof *c);
    if (!c)
        return 0;
    size_t nc = 0;
    int64_t dummy = now_ms;
    /* qBittorrent's parser hands the articles over last first */
    for (size_t k = r->n; k-- > 0;) {
        struct feedparse_article *pa = &r->articles[k];
        const char *id = json_string_value(json_object_get(pa->data, "id"));
        struct rss_art *ex = rss_art_find(n, id);
        if (ex) {
            /* dateless articles must not be dated before known ones */
            dummy = ex->date_ms - 1;
            continue;
        }
        c[nc] = (struct cand){.a = {.id = strdup(id), .data = pa->data, .date_ms = pa->has_date ? pa->date_ms : dummy,
                                    .date_offset_s = pa->has_date ? pa->date_offset_s : 0},
                              .is_new = true,
                              .order = nc};
        if (!c[nc].a.id)
            continue;
        pa->data = NULL;   /* taken */
        nc++;
    }
    size_t nnew = nc;
    if (!nnew) {
        free(c);
        return 0;
    }
    for (size_t i = 0; i < n->narts; i++)
        c[nc++] = (struct cand){.a = n->arts[i], .order = i};
    qsort(c, nc, sizeof *c, cand_cmp);
    size_t keep = nc < cap_of(f) ? nc : cap_of(f);
    struct rss_art *arts = calloc(keep ? keep : 1, sizeof *arts);
    char **ids = calloc(nnew, sizeof *ids);
    if (!arts || !ids) {
        free(arts);
        free(ids);
        /* put back what was there; drop the new ones */
        for (size_t i = 0; i < nc; i++)
            if (c[i].is_new)
                rss_art_clear(&c[i].a);
        size_t j = 0;
        for (size_t i = 0; i < nc; i++)
            if (!c[i].is_new)
                n->arts[j++] = c[i].a;
        free(c);
        return 0;
    }
    size_t added_n = 0;
    for (size_t i = 0; i < nc; i++) {
        if (i < keep) {
            arts[i] = c[i].a;
            if (c[i].is_new)
                ids[added_n++] = strdup(c[i].a.id);
        } else {
            rss_art_clear(&c[i].a);
        }
    }
    /* oldest first, as qBittorrent adds them */
    for (size_t i = 0; i < added_n / 2; i++) {
        char *t = ids[i];
        ids[i] = ids[added_n - 1 - i];
        ids[added_n - 1 - i] = t;
    }
    free(n->arts);
    n->arts = arts;
    n->narts = keep;
    free(c);
    *added = ids;
    return added_n;
}
