#include "core/peerpolicy.h"
#include "core/webseed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/metainfo.h"
#include "bt/picker.h"
#include "core/proxy.h"
#include "core/session.h"
#include "core/torrent.h"
#include "util/buf.h"
#include "util/fetch.h"
#include "util/log.h"
#include "util/pct.h"

#define WEBSEED_MAX_BLOCKS 64           /* at most 1 MiB a request */
#define WEBSEED_RETRY_MS 30000

struct webseed {
    struct torrent *t;
    char *url;
    struct fetch_req *req;
    bool busy;
    uint32_t piece, begin, len;         /* the run being fetched */
    uint8_t *data;
    uint32_t got;                       /* bytes of the run filled so far */
    unsigned fails;
    uint64_t retry_ms;
};

static void finish(struct webseed *w, bool ok);
static void fetch_next_segment(struct webseed *w);

static void release_blocks(struct webseed *w)
{
    for (uint32_t off = w->begin; off < w->begin + w->len; off += 16384)
        bt_picker_block_cancel(w->t->picker, w->piece, off, w);
}

void webseed_free_all(struct torrent *t)
{
    for (size_t i = 0; i < t->webseeds.num; i++) {
        struct webseed *w = t->webseeds.seeds[i];
        if (w->req)
            fetch_cancel(w->req);
        if (w->busy && t->picker)
            release_blocks(w);
        free(w->data);
        free(w->url);
        free(w);
    }
    free(t->webseeds.seeds);
    t->webseeds.seeds = NULL;
    t->webseeds.num = 0;
}

bool webseed_is_tag(const struct torrent *t, const void *tag)
{
    for (size_t i = 0; i < t->webseeds.num; i++)
        if ((const void *)t->webseeds.seeds[i] == tag)
            return true;
    return false;
}

/* libtorrent (under qBittorrent) fetches web seeds over http(s) only;
 * ftp:// seeds are accepted by the API, listed, and never used. */
static bool is_http(const char *url)
{
    return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

void webseed_forget(struct torrent *t)
{
    for (size_t i = 0; i < t->webseeds.num_warned; i++)
        free(t->webseeds.warned[i]);
    free(t->webseeds.warned);
    t->webseeds.warned = NULL;
    t->webseeds.num_warned = 0;
}

/* The one trace qBittorrent leaves of an unusable seed: libtorrent's
 * url_seed_alert "unsupported URL protocol" the first time the seed would
 * be connected, after which the seed stays disabled for the session. */
static void warn_unsupported(struct torrent *t)
{
    for (size_t i = 0; i < t->mi->num_web_seeds; i++) {
        const char *u = t->mi->web_seeds[i];
        if (is_http(u))
            continue;
        bool seen = false;
        for (size_t k = 0; k < t->webseeds.num_warned && !seen; k++)
            seen = strcmp(t->webseeds.warned[k], u) == 0;
        if (seen)
            continue;
        char **v = realloc(t->webseeds.warned, (t->webseeds.num_warned + 1) * sizeof *v);
        char *dup = strdup(u);
        if (v)
            t->webseeds.warned = v;
        if (!v || !dup) {
            free(dup);
            return;
        }
        v[t->webseeds.num_warned++] = dup;
        const char *name = torrent_name(t);
        log_msg(LOG_WARNING,
                "URL seed connection failed. Torrent: \"%s\". URL: \"%s\". Error: \"%s url seed (%s) failed: "
                "unsupported URL protocol\"",
                name, u, name, u);
    }
}

bool webseed_changed(const struct torrent *t)
{
    size_t k = 0;
    for (size_t i = 0; t->mi && i < t->mi->num_web_seeds; i++) {
        const char *u = t->mi->web_seeds[i];
        if (!is_http(u))
            continue;
        if (k >= t->webseeds.num || strcmp(t->webseeds.seeds[k]->url, u) != 0)
            return true;
        k++;
    }
    return k != t->webseeds.num;
}

void webseed_sync(struct torrent *t)
{
    webseed_free_all(t);
    if (!t->mi || t->mi->num_web_seeds == 0)
        return;
    t->webseeds.seeds = calloc(t->mi->num_web_seeds, sizeof *t->webseeds.seeds);
    for (size_t i = 0; t->webseeds.seeds && i < t->mi->num_web_seeds; i++) {
        const char *u = t->mi->web_seeds[i];
        if (!is_http(u))
            continue;   /* listed only; warn_unsupported() logs it */
        struct webseed *w = calloc(1, sizeof *w);
        if (!w)
            break;
        w->t = t;
        w->url = strdup(u);
        if (!w->url) {
            free(w);
            break;
        }
        t->webseeds.seeds[t->webseeds.num++] = w;
    }
}

/* BEP19: a multi-file torrent's files live under <url>/<name>/<path>; a
 * single file is the URL itself, or <url><name> when the URL ends in '/'. */
static char *file_url(const struct webseed *w, size_t file)
{
    const struct bt_metainfo *mi = w->t->mi;
    struct buf b = BUF_INIT;   /* appends are checked once, by buf_steal */
    buf_append_str(&b, w->url);
    size_t ulen = strlen(w->url);
    bool slash = ulen > 0 && w->url[ulen - 1] == '/';
    if (mi->multi_file || slash) {
        const char *path = mi->files[file].path;
        if (!slash)
            buf_append_u8(&b, '/');
        pct_encode(&b, path, strlen(path), &pct_rfc3986_path);
    }
    char *s = (char *)buf_steal(&b, NULL);
    buf_free(&b);
    return s;
}

/* The file holding torrent byte `off` (files are in offset order). */
static size_t file_at(const struct bt_metainfo *mi, int64_t off)
{
    size_t lo = 0, hi = mi->num_files;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (mi->files[mid].offset <= off)
            lo = mid;
        else
            hi = mid;
    }
    while (lo + 1 < mi->num_files && mi->files[lo].length == 0)
        lo++;
    return lo;
}

static void on_segment(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *err)
{
    struct webseed *w = ud;
    w->req = NULL;
    const struct bt_metainfo *mi = w->t->mi;
    int64_t off = (int64_t)w->piece * mi->piece_length + w->begin + w->got;
    size_t f = file_at(mi, off);
    int64_t in_file = off - mi->files[f].offset;
    uint32_t want = (uint32_t)(mi->files[f].length - in_file < w->len - w->got ? mi->files[f].length - in_file
                                                                                 : w->len - w->got);
    const uint8_t *src = NULL;
    if (rc == 0 && status == 206 && len == want)
        src = body;
    else if (rc == 0 && status == 200 && (int64_t)len >= in_file + want)
        src = body + in_file;   /* the server ignored the range: slice the whole file */
    if (!src) {
        log_msg(LOG_WARNING, "web seed %s: %s", w->url,
                rc != 0 ? err : status >= 400 ? "HTTP error" : "unexpected reply length");
        finish(w, false);
        return;
    }
    memcpy(w->data + w->got, src, want);
    w->got += want;
    fetch_next_segment(w);
}

static void fetch_next_segment(struct webseed *w)
{
    const struct bt_metainfo *mi = w->t->mi;
    while (w->got < w->len) {
        int64_t off = (int64_t)w->piece * mi->piece_length + w->begin + w->got;
        size_t f = file_at(mi, off);
        int64_t in_file = off - mi->files[f].offset;
        int64_t left = mi->files[f].length - in_file;
        uint32_t n = (uint32_t)(left < w->len - w->got ? left : w->len - w->got);
        if (mi->files[f].pad) {   /* BEP47 padding is zeros, never fetched */
            memset(w->data + w->got, 0, n);
            w->got += n;
            continue;
        }
        char *url = file_url(w, f);
        char range[64];
        snprintf(range, sizeof range, "%lld-%lld", (long long)in_file, (long long)(in_file + n - 1));
        /* A web seed is a peer connection (libtorrent's proxy_peer_connections). */
        char proxy[2048];
        int rc = proxy_url(w->t->s, PROXY_USE_PEER, proxy, sizeof proxy);
        struct fetch_opts o = {.follow_redirects = 1, .range = range, .max_body = 0, .proxy = proxy,
                               .refuse_addr = peerpolicy_webseed_refused, .refuse_ud = w->t->s};
        if (rc == 0)
            rc = url ? fetch_get(w->t->s->fetch, url, &o, on_segment, w, &w->req) : -ENOMEM;
        free(url);
        if (rc != 0)
            finish(w, false);
        return;
    }
    finish(w, true);
}

static void finish(struct webseed *w, bool ok)
{
    struct torrent *t = w->t;
    w->busy = false;
    if (!ok) {
        release_blocks(w);
        w->fails++;
        w->retry_ms = t->s->now_ms + WEBSEED_RETRY_MS * (w->fails < 10 ? w->fails : 10);
    } else {
        w->fails = 0;
        for (uint32_t off = 0; off < w->len; off += 16384) {
            uint32_t n = w->len - off < 16384 ? w->len - off : 16384;
            torrent_on_block_from(t, NULL, w, w->piece, w->begin + off, w->data + off, n);
        }
    }
    free(w->data);
    w->data = NULL;
}

static void start(struct webseed *w)
{
    struct torrent *t = w->t;
    struct bt_block b[WEBSEED_MAX_BLOCKS];
    int n = bt_picker_pick(t->picker, NULL, true, w, b, WEBSEED_MAX_BLOCKS);
    if (n <= 0)
        return;
    /* One contiguous run of one piece; the rest goes back to the picker. */
    int k = 1;
    while (k < n && b[k].piece == b[0].piece && b[k].begin == b[k - 1].begin + b[k - 1].length)
        k++;
    for (int i = k; i < n; i++)
        bt_picker_block_cancel(t->picker, b[i].piece, b[i].begin, w);
    w->piece = b[0].piece;
    w->begin = b[0].begin;
    w->len = b[k - 1].begin + b[k - 1].length - b[0].begin;
    w->got = 0;
    w->data = malloc(w->len);
    if (!w->data) {
        release_blocks(w);
        return;
    }
    w->busy = true;
    fetch_next_segment(w);
}

void webseed_tick(struct torrent *t, uint64_t now_ms)
{
    warn_unsupported(t);
    for (size_t i = 0; i < t->webseeds.num; i++) {
        struct webseed *w = t->webseeds.seeds[i];
        if (!w->busy && now_ms >= w->retry_ms && !torrent_is_finished(t))
            start(w);
    }
}
