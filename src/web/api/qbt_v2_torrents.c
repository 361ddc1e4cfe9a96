/* web/api/qbt_v2_torrents — torrents/… (queries, actions, add). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/peer.h"
#include "core/service.h"
#include "core/view.h"
#include "util/log.h"
#include "web/api/qbt_v2_int.h"

#define MAX_PEERS_PARAM 1000
#define MAX_INDEXES 100000

/* ---- parameter rules ---- */

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

static int list_push(struct qbt_v2_list *l, struct torrent *t)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        struct torrent **v = realloc(l->v, nc * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = nc;
    }
    l->v[l->n++] = t;
    return 0;
}

void qbt_v2_list_free(struct qbt_v2_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static bool list_has(const struct qbt_v2_list *l, const struct torrent *t)
{
    return l->n && bsearch(&t, l->v, l->n, sizeof(*l->v), cmp_ptr) != NULL;
}

int qbt_v2_parse_hashes(struct session *s, const char *hashes, bool allow_all, struct qbt_v2_list *out)
{
    memset(out, 0, sizeof(*out));
    if (!hashes)
        return 0;
    if (allow_all && strcmp(hashes, "all") == 0) {
        for (size_t i = 0; i < s->num_torrents; i++)
            if (!s->torrents[i]->removing && list_push(out, s->torrents[i]) != 0)
                return -ENOMEM;
        return 0;
    }
    const char *p = hashes;
    for (size_t k = 0; k < QBT_V2_MAX_HASHES; k++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == 40) {
            char hex[41];
            memcpy(hex, p, 40);
            hex[40] = 0;
            struct torrent *t = session_find_hex(s, hex);
            if (t && !t->removing && list_push(out, t) != 0)
                return -ENOMEM;
        }
        if (!bar)
            break;
        p = bar + 1;
    }
    if (out->n > 1) {
        qsort(out->v, out->n, sizeof(*out->v), cmp_ptr);
        size_t w = 1;
        for (size_t i = 1; i < out->n; i++)
            if (out->v[i] != out->v[w - 1])
                out->v[w++] = out->v[i];
        out->n = w;
    }
    return 0;
}

struct sort_item {
    json_t *v;
    const json_t *key;
    size_t idx;
    bool reverse;
};

static int cmp_items(const void *a, const void *b)
{
    const struct sort_item *x = a, *y = b;
    int c = qbt_v2_json_cmp(x->key, y->key);
    if (x->reverse)
        c = -c;
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int qbt_v2_sort(json_t *arr, const char *key, bool reverse)
{
    size_t n = json_array_size(arr);
    if (n == 0)
        return 0;
    if (!json_object_get(json_array_get(arr, 0), key))
        return -EINVAL;
    struct sort_item *v = malloc(n * sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        v[i] = (struct sort_item){json_incref(o), json_object_get(o, key), i, reverse};
    }
    qsort(v, n, sizeof(*v), cmp_items);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, v[i].v);
    free(v);
    return 0;
}

/* §6.2 paging: negative offset counts from the end, out of range → 0,
 * limit <= 0 = everything. */
static void page_range(int64_t size, int64_t limit, int64_t offset, int64_t *start, int64_t *end)
{
    if (offset < 0)
        offset += size;
    if (offset < 0 || offset >= size)
        offset = 0;
    *start = offset;
    *end = limit > 0 && limit < size - offset ? offset + limit : size;
}

void qbt_v2_page(json_t *arr, int64_t limit, int64_t offset)
{
    int64_t start, end, size = (int64_t)json_array_size(arr);
    page_range(size, limit, offset, &start, &end);
    if (start == 0 && end == size)
        return;
    /* Rebuild instead of removing from the front one by one (quadratic). */
    json_t *page = json_array();
    for (int64_t i = start; page && i < end; i++)
        json_array_append(page, json_array_get(arr, (size_t)i));
    json_array_clear(arr);
    json_array_extend(arr, page);
    json_decref(page);
}

int qbt_v2_parse_peer_addr(const char *s, struct sockaddr_storage *out)
{
    char ip[64];
    const char *port;
    memset(out, 0, sizeof(*out));
    if (s[0] == '[' && strstr(s, "]:")) {
        const char *end = strstr(s, "]:");
        size_t n = (size_t)(end - s - 1);
        if (n >= sizeof(ip))
            return -EINVAL;
        memcpy(ip, s + 1, n);
        ip[n] = 0;
        port = end + 2;
    } else {
        const char *colon = strchr(s, ':');
        if (!colon || strchr(colon + 1, ':') || (size_t)(colon - s) >= sizeof(ip))
            return -EINVAL;
        memcpy(ip, s, (size_t)(colon - s));
        ip[colon - s] = 0;
        port = colon + 1;
    }
    char *e;
    if (!isdigit((unsigned char)*port))
        return -EINVAL;
    unsigned long pn = strtoul(port, &e, 10);
    if (*e || pn == 0 || pn > 65535)
        return -EINVAL;
    struct sockaddr_in *a4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)pn);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)pn);
        return 0;
    }
    memset(out, 0, sizeof(*out));
    return -EINVAL;
}

/* ---- request helpers ---- */

/* Qt's toInt: the whole string must be an integer, else dflt. */
static int64_t param_int(struct web_req *r, const char *name, int64_t dflt)
{
    const char *v = web_req_param(r, name);
    if (!v || !*v)
        return dflt;
    char *e;
    errno = 0;
    long long x = strtoll(v, &e, 10);
    return (*e || errno) ? dflt : (int64_t)x;
}

static double param_real(struct web_req *r, const char *name, double dflt)
{
    const char *v = web_req_param(r, name);
    if (!v || !*v)
        return dflt;
    char *e;
    double x = strtod(v, &e);
    return *e ? dflt : x;
}

/* true/false (any case) or "absent" (-1). */
static int param_tristate(struct web_req *r, const char *name)
{
    const char *v = web_req_param(r, name);
    if (v && strcasecmp(v, "true") == 0)
        return 1;
    if (v && strcasecmp(v, "false") == 0)
        return 0;
    return -1;
}

static void reply_json(struct web_req *r, json_t *j)
{
    web_reply_json(r, j);   /* NULL = 500 */
}

/* ---- commit-then-reply batches ---- */


/* ---- queries ---- */

static void h_count(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    size_t n = 0;
    for (size_t i = 0; i < q->s->num_torrents; i++)
        n += !q->s->torrents[i]->removing;
    char buf[32];
    snprintf(buf, sizeof(buf), "%zu", n);
    web_reply_text(r, 200, buf);
}

static bool has_tag(const struct torrent *t, const char *tag)
{
    return strv_find(&t->tags, tag, false) >= 0;
}

static bool info_match(struct web_req *r, const struct torrent *t, enum qbt_v2_filter f,
                       const struct qbt_v2_list *ids, bool use_ids)
{
    if (t->removing || (use_ids && !list_has(ids, t)))
        return false;
    const char *cat = web_req_param(r, "category");
    if (cat && strcmp(cat, t->category ? t->category : "") != 0)
        return false;
    const char *tag = web_req_param(r, "tag");
    if (tag && (*tag ? !has_tag(t, tag) : t->tags.n != 0))
        return false;
    int priv = param_tristate(r, "private");
    struct view_meta m;
    view_meta(t, &m);
    if (priv >= 0 && m.is_private != (priv == 1))
        return false;
    if (f == QBT_F_ALL)
        return true;
    struct torrent_status st;
    torrent_status_now(t, &st);
    return qbt_v2_filter_match(f, t, &st);
}

static void h_info(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    enum qbt_v2_filter f = qbt_v2_filter_parse(web_req_param(r, "filter"));
    const char *hashes = web_req_param(r, "hashes");
    struct qbt_v2_list ids;
    if (qbt_v2_parse_hashes(q->s, hashes, false, &ids) != 0) {
        qbt_v2_list_free(&ids);
        web_reply_error(r, 500, NULL);
        return;
    }
    bool with_trackers = web_req_bool(r, "includeTrackers", false);
    const char *sort = web_req_param(r, "sort");
    bool sorting = sort && *sort;
    int64_t limit = param_int(r, "limit", 0), offset = param_int(r, "offset", 0);

    /* Filter first on the structs; serialize only what is returned (all
     * matches when sorting, since the sort key lives in the JSON). */
    struct match { const struct torrent *t; int64_t prio; } *m = malloc((q->s->num_torrents + 1) * sizeof *m);
    size_t nm = 0;
    int64_t pos = 0;
    for (size_t i = 0; m && i < q->s->num_torrents; i++) {
        const struct torrent *t = q->s->torrents[i];
        int64_t prio = qbt_v2_queue_step(t, &pos);
        if (info_match(r, t, f, &ids, hashes != NULL))
            m[nm++] = (struct match){t, prio};
    }
    qbt_v2_list_free(&ids);
    int64_t start = 0, end = (int64_t)nm;
    if (!sorting)
        page_range((int64_t)nm, limit, offset, &start, &end);
    json_t *arr = m ? json_array() : NULL;
    for (int64_t i = start; arr && i < end; i++) {
        json_t *o = qbt_v2_torrent_json_at(m[i].t, true, m[i].prio);
        if (o && with_trackers)
            json_object_set_new(o, "trackers", qbt_v2_trackers_json(m[i].t, false));
        json_array_append_new(arr, o);
    }
    free(m);
    if (arr && sorting) {
        if (qbt_v2_sort(arr, sort, web_req_bool(r, "reverse", false)) != 0) {
            json_decref(arr);
            web_reply_error(r, 400, "'sort' parameter is invalid");
            return;
        }
        qbt_v2_page(arr, limit, offset);
    }
    reply_json(r, arr);
}

static void h_properties(struct web_req *r, void *ud)
{
    struct torrent *t = qbt_v2_single(r, ud);
    if (t)
        reply_json(r, qbt_v2_properties_json(t));
}

static void h_trackers(struct web_req *r, void *ud)
{
    struct torrent *t = qbt_v2_single(r, ud);
    if (t)
        reply_json(r, qbt_v2_trackers_json(t, true));
}

static void h_webseeds(struct web_req *r, void *ud)
{
    struct torrent *t = qbt_v2_single(r, ud);
    if (t)
        reply_json(r, qbt_v2_webseeds_json(t));
}

static void h_piece_states(struct web_req *r, void *ud)
{
    struct torrent *t = qbt_v2_single(r, ud);
    if (t)
        reply_json(r, qbt_v2_piece_states_json(t));
}

static void h_piece_hashes(struct web_req *r, void *ud)
{
    struct torrent *t = qbt_v2_single(r, ud);
    if (t)
        reply_json(r, qbt_v2_piece_hashes_json(t));
}

static void h_files(struct web_req *r, void *ud)
{
    struct torrent *t = qbt_v2_single(r, ud);
    if (!t)
        return;
    const char *indexes = web_req_param(r, "indexes");
    struct view_meta m;
    view_meta(t, &m);
    if (!indexes || !m.has_metadata) {
        reply_json(r, qbt_v2_files_json(t, NULL, 0));
        return;
    }
    size_t count = qbt_v2_file_count(t), n = 0, cap = 16;
    size_t *idx = malloc(cap * sizeof(*idx));
    const char *p = indexes;
    char msg[160];
    while (idx) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        char part[64];
        snprintf(part, sizeof(part), "%.*s", (int)(len < 63 ? len : 63), p);
        char *e;
        errno = 0;
        long long v = len && len < 63 ? strtoll(part, &e, 10) : -1;
        if (len == 0 || len >= 63 || *e || errno || v < 0 || v > INT_MAX) {
            snprintf(msg, sizeof(msg), "\"%s\" is not a valid file index.", part);
            free(idx);
            web_reply_error(r, 409, msg);
            return;
        }
        if ((size_t)v >= count) {
            snprintf(msg, sizeof(msg), "Index %s is out of bounds.", part);
            free(idx);
            web_reply_error(r, 409, msg);
            return;
        }
        if (n == cap) {
            size_t *ni = n < MAX_INDEXES ? realloc(idx, cap * 2 * sizeof(*idx)) : NULL;
            if (!ni) {
                free(idx);
                idx = NULL;
                break;
            }
            idx = ni;
            cap *= 2;
        }
        idx[n++] = (size_t)v;
        if (!bar)
            break;
        p = bar + 1;
    }
    if (!idx) {
        web_reply_error(r, 500, NULL);
        return;
    }
    reply_json(r, qbt_v2_files_json(t, idx, n));
    free(idx);
}

/* ---- actions ---- */

static void h_stop(struct web_req *r, void *ud)
{
    struct qbt_v2_list l;
    if (!qbt_v2_targets(r, ud, "hashes", &l))
        return;
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l.n; i++) {
        b->pending++;
        qbt_v2_batch_check(b, service_stop(l.v[i]->s, l.v[i], qbt_v2_batch_done, b));
    }
    qbt_v2_list_free(&l);
    if (b)
        qbt_v2_batch_done(b, 0);
}

static void h_start(struct web_req *r, void *ud)
{
    struct qbt_v2_list l;
    if (!qbt_v2_targets(r, ud, "hashes", &l))
        return;
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l.n; i++) {
        b->pending++;
        qbt_v2_batch_check(b, service_start(l.v[i]->s, l.v[i], qbt_v2_batch_done, b));
    }
    qbt_v2_list_free(&l);
    if (b)
        qbt_v2_batch_done(b, 0);
}

static void h_force_start(struct web_req *r, void *ud)
{
    if (!web_req_param(r, "value") || !web_req_param(r, "hashes")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    bool value = web_req_bool(r, "value", false);
    struct qbt_v2_list l;
    if (!qbt_v2_targets(r, ud, "hashes", &l))
        return;
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l.n; i++) {
        b->pending++;
        qbt_v2_batch_check(b, service_set_forced(l.v[i]->s, l.v[i], value, qbt_v2_batch_done, b));
    }
    qbt_v2_list_free(&l);
    if (b)
        qbt_v2_batch_done(b, 0);
}

static void h_delete(struct web_req *r, void *ud)
{
    struct qbt_v2_list l;
    if (!qbt_v2_targets(r, ud, "hashes", &l))
        return;
    /* Sonarr omits deleteFiles when keeping the data: default false. */
    bool del = web_req_bool(r, "deleteFiles", false);
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l.n; i++) {
        b->pending++;
        torrent_remove(l.v[i], del, qbt_v2_batch_done, b);
    }
    qbt_v2_list_free(&l);
    if (b)
        qbt_v2_batch_done(b, 0);
}

static void h_recheck(struct web_req *r, void *ud)
{
    struct qbt_v2_list l;
    if (!qbt_v2_targets(r, ud, "hashes", &l))
        return;
    for (size_t i = 0; i < l.n; i++)
        torrent_recheck(l.v[i]);
    qbt_v2_list_free(&l);
    web_reply_ok(r);
}

static void h_reannounce(struct web_req *r, void *ud)
{
    struct qbt_v2_list l;
    if (!qbt_v2_targets(r, ud, "hashes", &l))
        return;
    for (size_t i = 0; i < l.n; i++)
        torrent_reannounce(l.v[i]);
    qbt_v2_list_free(&l);
    web_reply_ok(r);
}

static void h_add_peers(struct web_req *r, void *ud)
{
    const char *peers = web_req_param(r, "peers");
    if (!peers || !web_req_param(r, "hashes")) {
        web_reply_error(r, 400, NULL);
        return;
    }
    struct sockaddr_storage *addrs = malloc(MAX_PEERS_PARAM * sizeof(*addrs));
    if (!addrs) {
        web_reply_error(r, 500, NULL);
        return;
    }
    size_t total = 0, valid = 0;
    for (const char *p = peers; total < MAX_PEERS_PARAM;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        total++;
        while (len && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        char one[128];
        if (len < sizeof(one)) {
            memcpy(one, p, len);
            one[len] = 0;
            if (qbt_v2_parse_peer_addr(one, &addrs[valid]) == 0)
                valid++;
        }
        if (!bar)
            break;
        p = bar + 1;
    }
    struct qbt_v2_list l;
    if (valid == 0) {
        free(addrs);
        web_reply_error(r, 400, "No valid peers were specified");
        return;
    }
    if (!qbt_v2_targets(r, ud, "hashes", &l)) {
        free(addrs);
        return;
    }
    json_t *res = json_object();
    for (size_t i = 0; res && i < l.n; i++) {
        int64_t added = 0;
        for (size_t k = 0; k < valid; k++)
            added += torrent_add_peer_addr(l.v[i], (const struct sockaddr *)&addrs[k], true, PEER_SRC_API) == 0;
        json_object_set_new(res, l.v[i]->hex,
                            json_pack("{s:I, s:I}", "added", (json_int_t)added, "failed",
                                      (json_int_t)((int64_t)total - added)));
    }
    qbt_v2_list_free(&l);
    free(addrs);
    reply_json(r, res);
}

/* ---- torrents/add ---- */

static const char *const ssl_params[3] = {"ssl_certificate", "ssl_private_key", "ssl_dh_params"};

struct add_req {
    struct web_req *r;
    size_t pending;       /* adds in flight + 1 while processing */
    size_t ok;
    char *error;          /* 415 message */
};

static char *trimmed_dup(const char *s)
{
    if (!s)
        return NULL;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return strndup(s, n);
}

/* The parameters of torrents/add in the service's terms: the service's
 * defaults (service_add_opts_defaults: the preferences) with what the
 * request gives on top, resolved by the service (categories, tags, ATM
 * path).  A parameter that is absent, or not one of its values
 * (contentLayout, stopCondition), keeps the default, as in qBittorrent.
 * label: API v1's old `label` names the category when `category` is absent. */
static int opts_from_req(struct web_req *r, struct session *s, struct service_add_opts *o, bool label)
{
    if (service_add_opts_defaults(s, o) != 0)
        return -ENOMEM;
    o->save_path = trimmed_dup(web_req_param(r, "savepath"));
    const char *cat = web_req_param(r, "category");
    if (!cat && label)
        cat = web_req_param(r, "label");
    o->category = cat ? strdup(cat) : NULL;
    const char *ren = web_req_param(r, "rename");
    o->rename = ren ? strdup(ren) : NULL;
    const char *tags = web_req_param(r, "tags");
    o->tags = tags ? strdup(tags) : NULL;
    int stopped = param_tristate(r, "stopped");
    if (stopped < 0)
        stopped = param_tristate(r, "paused");
    if (stopped >= 0)
        o->p.stopped = stopped == 1;
    int tmm = param_tristate(r, "autoTMM");
    if (tmm >= 0)
        o->p.auto_tmm = tmm == 1;
    int top = param_tristate(r, "addToTopOfQueue");
    if (top >= 0)
        o->p.top_of_queue = top == 1;
    o->p.skip_checking = web_req_bool(r, "skip_checking", false);
    o->p.sequential = web_req_bool(r, "sequentialDownload", false);
    o->p.first_last_piece = web_req_bool(r, "firstLastPiecePrio", false);
    o->p.forced = web_req_bool(r, "forced", false);
    o->p.up_limit = param_int(r, "upLimit", o->p.up_limit);
    o->p.dl_limit = param_int(r, "dlLimit", o->p.dl_limit);
    o->p.ratio_limit = param_real(r, "ratioLimit", o->p.ratio_limit);
    o->p.seeding_time_limit = param_int(r, "seedingTimeLimit", o->p.seeding_time_limit);
    o->p.inactive_seeding_time_limit = param_int(r, "inactiveSeedingTimeLimit", o->p.inactive_seeding_time_limit);
    o->p.share_limit_action = qbt_v2_share_action_parse(web_req_param(r, "shareLimitAction"));
    /* Incomplete folder: a downloadPath implies useDownloadPath; false
     * means none whatever the preference; true without a path is the
     * temp_path preference even when temp_path_enabled is off. */
    int use_dl = param_tristate(r, "useDownloadPath");
    const char *dlp = web_req_param(r, "downloadPath");
    bool has_dlp = dlp && *dlp;
    if (use_dl >= 0 || has_dlp) {
        free(o->download_path);
        o->download_path = NULL;
        const char *path = has_dlp ? dlp : settings_str(&s->settings, SET_TEMP_PATH);
        if (use_dl != 0 && *path && !(o->download_path = trimmed_dup(path)))
            goto nomem;
    }
    /* Added with its data (skip_checking) it is complete: no detour. */
    o->p.data_in_download_path = o->download_path && !o->p.skip_checking;
    const char *ck = web_req_param(r, "cookie");
    o->cookie = ck && *ck ? strdup(ck) : NULL;
    for (int i = 0; i < 3; i++) {
        const char *v = web_req_param(r, ssl_params[i]);
        o->ssl[i] = v && *v ? strdup(v) : NULL;
    }
    (void)service_layout_parse(web_req_param(r, "contentLayout"), &o->p.layout);
    (void)service_stop_condition_parse(web_req_param(r, "stopCondition"), &o->p.stop_condition);
    if ((web_req_param(r, "savepath") && !o->save_path) || (cat && !o->category) || (ren && !o->rename) ||
        (tags && !o->tags) || (ck && *ck && !o->cookie))
        goto nomem;
    for (int i = 0; i < 3; i++) {
        const char *v = web_req_param(r, ssl_params[i]);
        if (v && *v && !o->ssl[i])
            goto nomem;
    }
    if (service_add_opts_resolve(s, o) != 0)
        goto nomem;
    return 0;
nomem:
    service_add_opts_free(o);
    return -ENOMEM;
}

static void add_req_release(struct add_req *a)
{
    if (--a->pending)
        return;
    if (a->error)
        web_reply_error(a->r, 415, a->error);
    else
        web_reply_text(a->r, 200, a->ok ? "Ok." : "Fails.");
    free(a->error);
    free(a);
}

/* A file or magnet is answered after its commit. */
static void on_added(void *ud, int rc, struct torrent *t)
{
    struct add_req *a = ud;
    (void)t;
    if (rc == 0)
        a->ok++;
    add_req_release(a);
}

static void add_counted(struct add_req *a, int rc)
{
    if (rc != 0)
        a->pending--;
}

static bool is_http(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

static void h_add(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    qbt_v2_add(r, q->s, false);
}

/* The options a client may send to torrents/add that must parse whole,
 * and the longest text each may be.  qBittorrent falls back to the default
 * for a number it cannot parse and passes a NUL-cut or 1 MB string on to
 * libtorrent, which fails later or never; here a broken value refuses the
 * request, naming the parameter, before anything is added. */
enum add_kind { ADD_TEXT, ADD_INT, ADD_REAL };
static const struct {
    const char *name;
    enum add_kind kind;
    size_t max;
} add_params[] = {
    {"savepath", ADD_TEXT, PATH_MAX},    {"downloadPath", ADD_TEXT, PATH_MAX},
    {"category", ADD_TEXT, PATH_MAX},    {"label", ADD_TEXT, PATH_MAX},
    {"rename", ADD_TEXT, PATH_MAX},      {"tags", ADD_TEXT, 65536},
    {"cookie", ADD_TEXT, 65536},         {"upLimit", ADD_INT, 32},
    {"dlLimit", ADD_INT, 32},            {"seedingTimeLimit", ADD_INT, 32},
    {"inactiveSeedingTimeLimit", ADD_INT, 32}, {"ratioLimit", ADD_REAL, 64},
};

static bool add_value_ok(enum add_kind kind, const char *v)
{
    char *e;
    errno = 0;
    if (kind == ADD_INT) {
        (void)strtoll(v, &e, 10);
        return e != v && !*e && !errno;
    }
    double x;
    return kind == ADD_REAL ? qbt_v2_parse_ratio(v, &x) : true;
}

/* 0, or -EINVAL with the reply's text in err. */
static int add_params_check(struct web_req *r, char *err, size_t errlen)
{
    const char *nul = web_req_nul_param(r);
    if (nul) {
        snprintf(err, errlen, "Parameter '%.64s' holds a NUL byte", nul);
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof add_params / sizeof add_params[0]; i++) {
        const char *v = web_req_param(r, add_params[i].name);
        if (!v || !*v)
            continue;   /* absent or empty: the default, as qBittorrent */
        if (strlen(v) > add_params[i].max) {
            snprintf(err, errlen, "Parameter '%s' is too long (limit %zu bytes)", add_params[i].name,
                     add_params[i].max);
            return -EINVAL;
        }
        if (!add_value_ok(add_params[i].kind, v)) {
            snprintf(err, errlen, "Invalid value for parameter '%s'", add_params[i].name);
            return -EINVAL;
        }
    }
    return 0;
}

void qbt_v2_add(struct web_req *r, struct session *s, bool label)
{
    struct service_add_opts o;
    char err[128];
    if (add_params_check(r, err, sizeof err) != 0) {
        web_reply_error(r, 400, err);
        return;
    }
    struct add_req *a = calloc(1, sizeof(*a));
    if (!a || opts_from_req(r, s, &o, label) != 0) {
        free(a);
        web_reply_error(r, 500, NULL);
        return;
    }
    a->r = r;
    a->pending = 1;
    /* URLs first, then files, like qBittorrent. */
    const char *urls = web_req_param(r, "urls");
    size_t nurls = 0;
    for (const char *p = urls; p && nurls < QBT_V2_MAX_URLS;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *u = strndup(p, len), *t = u ? trimmed_dup(u) : NULL;
        free(u);
        if (t && *t) {
            nurls++;
            /* A magnet is answered after its commit (counted in on_added);
             * a .torrent URL only when its download started. */
            if (is_http(t)) {
                a->ok += service_add_url(s, t, &o, NULL, NULL) == 0;
            } else {
                a->pending++;
                add_counted(a, service_add_uri(s, t, &o, on_added, a));
            }
        }
        free(t);
        if (!nl)
            break;
        p = nl + 1;
    }
    size_t nfiles = web_req_file_count(r);
    for (size_t i = 0; i < nfiles; i++) {
        const struct web_file *f = web_req_file(r, i);
        char err[256] = "";
        int rc = -EBADMSG;
        if (f) {
            a->pending++;
            rc = service_add_torrent(s, f->data, f->len, &o, on_added, a, err, sizeof err);
            add_counted(a, rc);
        }
        if (rc == -EBADMSG) {
            const char *name = f && f->filename ? f->filename : "";
            size_t n = strlen(name) + 64;
            a->error = malloc(n);
            if (a->error)
                snprintf(a->error, n, "Error: '%s' is not a valid torrent file.", name);
            log_msg(LOG_WARNING, "WebAPI: '%s' is not a valid torrent file: %s", name, err);
            break;
        }
    }
    service_add_opts_free(&o);
    add_req_release(a);
}

void qbt_v2_torrents_close(struct qbt_v2 *q)
{
    if (q->s)
        service_close(q->s);
}

int qbt_v2_register_torrents(struct qbt_v2 *q)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/torrents/count", WEB_GETPOST, h_count, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/info", WEB_GETPOST, h_info, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/properties", WEB_GETPOST, h_properties, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/trackers", WEB_GETPOST, h_trackers, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/webseeds", WEB_GETPOST, h_webseeds, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/files", WEB_GETPOST, h_files, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/pieceStates", WEB_GETPOST, h_piece_states, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/pieceHashes", WEB_GETPOST, h_piece_hashes, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/stop", WEB_POST, h_stop, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/pause", WEB_POST, h_stop, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/start", WEB_POST, h_start, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/resume", WEB_POST, h_start, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/delete", WEB_POST, h_delete, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/recheck", WEB_POST, h_recheck, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/reannounce", WEB_POST, h_reannounce, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/setForceStart", WEB_POST, h_force_start, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/addPeers", WEB_POST, h_add_peers, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/torrents/add", WEB_POST, h_add, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
}
