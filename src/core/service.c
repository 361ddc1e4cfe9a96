/* service — adding torrents (service.h).  The setters are in
 * service_edit.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bt/bencode.h"
#include "bt/magnet.h"
#include "bt/metainfo.h"
#include "bt/tracker/tracker.h"
#include "core/catalog.h"
#include "core/cookiejar.h"
#include "core/notify.h"
#include "core/proxy.h"
#include "core/service.h"
#include "core/session.h"
#include "core/ssltorrent.h"
#include "core/torrent_int.h"
#include "util/fetch.h"
#include "util/log.h"

#define SERVICE_MAX_FETCHES 256   /* .torrent downloads in flight */

/* ---- options ---- */

/* o->p with its strings taken from o's own. */
static struct torrent_add_params params_of(const struct service_add_opts *o)
{
    struct torrent_add_params p = o->p;
    p.save_path = o->save_path && *o->save_path ? o->save_path : NULL;
    p.download_path = o->download_path;
    p.category = o->category;
    p.rename = o->rename;
    p.tags = o->tags;
    return p;
}

void service_add_opts_free(struct service_add_opts *o)
{
    free(o->save_path);
    free(o->category);
    free(o->rename);
    free(o->tags);
    free(o->download_path);
    free(o->cookie);
    for (int i = 0; i < 3; i++)
        free(o->ssl[i]);
    memset(o, 0, sizeof *o);
}

static bool dup_field(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return !src || *dst;
}

int service_add_opts_copy(struct service_add_opts *dst, const struct service_add_opts *src)
{
    *dst = *src;
    bool ok = dup_field(&dst->save_path, src->save_path);
    ok &= dup_field(&dst->category, src->category);
    ok &= dup_field(&dst->rename, src->rename);
    ok &= dup_field(&dst->tags, src->tags);
    ok &= dup_field(&dst->download_path, src->download_path);
    ok &= dup_field(&dst->cookie, src->cookie);
    for (int i = 0; i < 3; i++)
        ok &= dup_field(&dst->ssl[i], src->ssl[i]);
    if (!ok) {
        service_add_opts_free(dst);
        return -ENOMEM;
    }
    return 0;
}

/* qBittorrent's names, indexed by the engine's values. */
static const char *const layout_names[] = {
    [TORRENT_LAYOUT_ORIGINAL] = "Original",
    [TORRENT_LAYOUT_SUBFOLDER] = "Subfolder",
    [TORRENT_LAYOUT_NOSUBFOLDER] = "NoSubfolder",
};
static const char *const stop_names[] = {
    [TORRENT_STOP_NONE] = "None",
    [TORRENT_STOP_METADATA] = "MetadataReceived",
    [TORRENT_STOP_CHECKED] = "FilesChecked",
};

/* The index of name in names[n], or -EINVAL. */
static int name_index(const char *name, const char *const *names, int n)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -EINVAL;
}

int service_layout_parse(const char *name, enum torrent_layout *out)
{
    int i = name_index(name, layout_names, (int)(sizeof layout_names / sizeof layout_names[0]));
    return i < 0 ? i : (*out = (enum torrent_layout)i, 0);
}

int service_stop_condition_parse(const char *name, enum torrent_stop_condition *out)
{
    int i = name_index(name, stop_names, (int)(sizeof stop_names / sizeof stop_names[0]));
    return i < 0 ? i : (*out = (enum torrent_stop_condition)i, 0);
}

int service_add_opts_defaults(struct session *s, struct service_add_opts *o)
{
    const struct settings *p = &s->settings;
    memset(o, 0, sizeof *o);
    o->p.stopped = settings_bool(p, SET_ADD_STOPPED_ENABLED);
    o->p.auto_tmm = settings_bool(p, SET_AUTO_TMM_ENABLED);
    o->p.up_limit = o->p.dl_limit = -1;
    o->p.ratio_limit = -2;
    o->p.seeding_time_limit = o->p.inactive_seeding_time_limit = -2;
    o->p.top_of_queue = settings_bool(p, SET_ADD_TO_TOP_OF_QUEUE);
    /* An unknown name leaves Original / None (0). */
    (void)service_layout_parse(settings_str(p, SET_TORRENT_CONTENT_LAYOUT), &o->p.layout);
    (void)service_stop_condition_parse(settings_str(p, SET_TORRENT_STOP_CONDITION), &o->p.stop_condition);
    const char *tmp = settings_str(p, SET_TEMP_PATH);
    if (settings_bool(p, SET_TEMP_PATH_ENABLED) && *tmp) {
        if (!(o->download_path = strdup(tmp)))
            return -ENOMEM;
        o->p.data_in_download_path = true;
    }
    return 0;
}

/* A relative path made absolute under base (*path replaced, freed).
 * Left alone when absolute, empty or NULL; -ENOMEM. */
static int make_absolute(char **path, const char *base)
{
    char *p = *path, *abs;
    if (!p || !*p || p[0] == '/')
        return 0;
    if (asprintf(&abs, "%s/%s", base, p) < 0)
        return -ENOMEM;
    free(p);
    *path = abs;
    return 0;
}

int service_add_opts_resolve(struct session *s, struct service_add_opts *o)
{
    bool subcats = settings_bool(&s->settings, SET_USE_SUBCATEGORIES);
    /* µTorrent Server's sequential_download: every new torrent in order,
     * unless progressive_piece_span -1 switched the progressive picker off. */
    if (settings_bool(&s->settings, SET_UT_SEQUENTIAL_DOWNLOAD) &&
        settings_int(&s->settings, SET_UT_PROGRESSIVE_PIECE_SPAN) >= 0)
        o->p.sequential = true;
    bool prepared = catalog_prepare_add(s->catalog, &o->category, &o->tags, subcats) == 0;
    if (prepared && o->p.auto_tmm) {
        free(o->save_path);
        o->save_path = catalog_category_save_path(s->catalog, o->category, session_default_save_path(s), subcats);
    }
    /* A relative or missing save path is under the default one and a
     * relative download path under the temp path (qBittorrent's
     * addTorrent), never under the daemon's working directory, which is
     * nobody's choice.  With use_category_paths_in_manual_mode a manual
     * torrent in a category takes the category's path instead of the
     * default (qBittorrent's suggestedSavePath). */
    const char *dflt = session_default_save_path(s);
    char *cat_path = NULL;
    if (prepared && !o->p.auto_tmm && o->category && *o->category &&
        settings_bool(&s->settings, SET_USE_CATEGORY_PATHS_IN_MANUAL_MODE)) {
        if (!(cat_path = catalog_category_save_path(s->catalog, o->category, dflt, subcats)))
            return -ENOMEM;
        if (!o->save_path || !*o->save_path) {
            free(o->save_path);
            if (!(o->save_path = strdup(cat_path))) {
                free(cat_path);
                return -ENOMEM;
            }
        }
        dflt = cat_path;
    }
    const char *temp = settings_str(&s->settings, SET_TEMP_PATH);
    int rc = make_absolute(&o->save_path, dflt) != 0 ||
                     make_absolute(&o->download_path, temp[0] == '/' ? temp : session_default_save_path(s)) != 0
                 ? -ENOMEM
                 : 0;
    free(cat_path);
    return rc;
}

/* ---- create, commit, start or roll back ---- */

struct add_item {
    struct session *s;
    uint8_t ih[20];
    bool skip_checking;
    service_add_cb cb;
    void *ud;
};

/* The row is committed: start the torrent, or roll it back. */
static void on_committed(void *ud, int rc)
{
    struct add_item *it = ud;
    struct torrent *t = session_find(it->s, it->ih);
    if (t && t->removing)
        t = NULL;
    if (rc == 0 && t) {
        torrent_begin(t, it->skip_checking);
        notify_torrent_added(t);
    } else {
        log_msg(LOG_WARNING, "Failed to save the new torrent (%d); it was not added", rc);
        if (t)
            torrent_remove(t, false, NULL, NULL);
        t = NULL;
        if (rc == 0)
            rc = -ECANCELED;   /* removed by the user while its row was written */
    }
    if (it->cb)
        it->cb(it->ud, rc, t);
    free(it);
}

/* t was just created: commit it.  On failure t is removed again. */
static int add_created(struct session *s, struct torrent *t, const struct service_add_opts *o, service_add_cb cb,
                       void *ud)
{
    struct add_item *it = calloc(1, sizeof *it);
    if (!it) {
        torrent_remove(t, false, NULL, NULL);
        return -ENOMEM;
    }
    *it = (struct add_item){s, {0}, o->p.skip_checking, cb, ud};
    memcpy(it->ih, t->info_hash, 20);
    int rc = s->store ? torrent_persist(t, on_committed, it) : -EIO;
    if (rc != 0) {
        free(it);
        torrent_remove(t, false, NULL, NULL);
        return rc;
    }
    if (o->ssl[0] && o->ssl[1] && o->ssl[2] &&
        service_set_ssl_params(s, t, o->ssl[0], o->ssl[1], o->ssl[2], NULL, NULL) == -EINVAL)
        log_msg(LOG_INFO, "WebAPI: the SSL parameters given with %s are not valid; not used", t->hex);
    return 0;
}

/* add_trackers(_enabled): qBittorrent appends its "additional trackers" to
 * every new torrent but a private one, one URL a line, an empty line
 * starting the next tier, the first tier after the torrent's own last
 * (parseTrackerEntries, SessionImpl::addTorrent_impl). */
static void append_tracker_lines(struct torrent *t, const char *lines)
{
    int base = 0;
    for (size_t i = 0; i < tracker_set_count(t->trk); i++) {
        int tier = tracker_set_entry(t->trk, i)->tier;
        if (tier + 1 > base)
            base = tier + 1;
    }
    int tier = 0;
    for (const char *p = lines; ; ) {
        size_t n = strcspn(p, "\n");
        const char *b = p, *e = p + n;
        while (b < e && (*b == ' ' || *b == '\t' || *b == '\r'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (b == e) {
            tier++;
        } else {
            char *url = strndup(b, (size_t)(e - b));
            int rc = url ? tracker_set_add(t->trk, url, base + tier) : -ENOMEM;
            if (rc != 0 && rc != -EEXIST)
                log_debug("add_trackers: \"%s\" refused (%d)", url ? url : "", rc);
            free(url);
        }
        if (!p[n])
            break;
        p += n + 1;
    }
}

/* A duplicate add: with merge_trackers (and neither side private) the new
 * source's trackers and web seeds join the torrent (qBittorrent's
 * "Trackers are merged from new source"), each logged with qBittorrent's
 * line.  The add itself still fails (-EEXIST). */
static void merge_duplicate(struct session *s, struct torrent *t, const char *const *trackers, size_t num_trackers,
                            const int *tiers, const char *const *web_seeds, size_t num_web_seeds, bool new_private)
{
    const char *result;
    if (!settings_bool(&s->settings, SET_MERGE_TRACKERS)) {
        result = "Merging of trackers is disabled";
    } else if ((t->mi && t->mi->is_private) || new_private) {
        result = "Trackers cannot be merged because it is a private torrent";
    } else {
        result = "Trackers are merged from new source";
        struct service_tracker *v = num_trackers ? calloc(num_trackers, sizeof *v) : NULL;
        for (size_t i = 0; v && i < num_trackers; i++)
            v[i] = (struct service_tracker){trackers[i], tiers ? tiers[i] : (int)i};
        if (v)
            service_add_trackers(s, t, v, num_trackers);
        free(v);
        if (num_web_seeds && t->mi)
            service_change_web_seeds(s, t, true, web_seeds, num_web_seeds);
    }
    log_msg(LOG_INFO, "Detected an attempt to add a duplicate torrent. Existing torrent: \"%s\". Torrent infohash: %s. Result: %s",
            torrent_name(t), t->hex, result);
}

static void merge_duplicate_metainfo(struct session *s, struct torrent *t, const struct bt_metainfo *mi)
{
    size_t n = 0;
    for (size_t i = 0; i < mi->num_tiers; i++)
        n += mi->tiers[i].num_urls;
    const char **urls = n ? calloc(n, sizeof *urls) : NULL;
    int *tiers = n ? calloc(n, sizeof *tiers) : NULL;
    if (n && (!urls || !tiers)) {
        free(urls);
        free(tiers);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < mi->num_tiers; i++)
        for (size_t j = 0; j < mi->tiers[i].num_urls; j++) {
            urls[k] = mi->tiers[i].urls[j];
            tiers[k++] = (int)i;
        }
    merge_duplicate(s, t, urls, n, tiers, (const char *const *)mi->web_seeds, mi->num_web_seeds, mi->is_private);
    free(urls);
    free(tiers);
}

static void add_extra_trackers(struct session *s, struct torrent *t)
{
    const struct settings *st = &s->settings;
    if (!t->trk || (t->mi && t->mi->is_private))
        return;
    if (settings_bool(st, SET_ADD_TRACKERS_ENABLED))
        append_tracker_lines(t, settings_str(st, SET_ADD_TRACKERS));
    /* then the list fetched from add_trackers_url (core/trackerlist.h) */
    if (settings_bool(st, SET_ADD_TRACKERS_FROM_URL_ENABLED))
        append_tracker_lines(t, settings_str(st, SET_ADD_TRACKERS_URL_LIST));
}

/* The preferences every new torrent gets before its first commit. */
static void apply_add_prefs(struct session *s, struct torrent *t)
{
    add_extra_trackers(s, t);
    torrent_apply_excluded_names(t);   /* no add call gives file priorities */
}

/* Takes mi. */
static int add_metainfo(struct session *s, struct bt_metainfo *mi, const struct service_add_opts *o,
                        service_add_cb cb, void *ud)
{
    struct torrent *dup = session_find(s, mi->info_hash);
    if (dup) {
        log_msg(LOG_INFO, "Torrent is already present: %s", mi->name);
        merge_duplicate_metainfo(s, dup, mi);
        bt_metainfo_free(mi);
        return -EEXIST;
    }
    struct torrent *t;
    struct torrent_add_params p = params_of(o);
    int rc = torrent_create(s, mi, &p, (int64_t)time(NULL), &t);
    if (rc != 0)
        return rc;
    apply_add_prefs(s, t);
    return add_created(s, t, o, cb, ud);
}

int service_add_torrent(struct session *s, const uint8_t *data, size_t len, const struct service_add_opts *o,
                        service_add_cb cb, void *ud, char *err, size_t errlen)
{
    /* qBittorrent's bdecode_depth_limit / bdecode_token_limit (libtorrent's
     * load_torrent_limits) for the files users add; values below 1 are the
     * defaults. */
    int64_t depth = settings_int(&s->settings, SET_BDECODE_DEPTH_LIMIT);
    int64_t tokens = settings_int(&s->settings, SET_BDECODE_TOKEN_LIMIT);
    struct benc_limits lim = {depth < 1 ? 100 : depth > INT32_MAX ? INT32_MAX : (int)depth,
                              tokens < 1 ? 10000000 : (size_t)tokens};
    struct bt_metainfo *mi;
    if (bt_metainfo_parse_limited(data, len, &lim, &mi, err, errlen) != 0)
        return -EBADMSG;
    return add_metainfo(s, mi, o, cb, ud);
}

int service_add_uri(struct session *s, const char *uri, const struct service_add_opts *o, service_add_cb cb,
                    void *ud)
{
    struct bt_magnet *m = NULL;
    char err[256] = "";
    int rc = strncasecmp(uri, "magnet:", 7) == 0 ? bt_magnet_parse(uri, &m, err, sizeof err)
                                                  : bt_magnet_from_hash(uri, &m);
    if (rc != 0) {
        log_msg(LOG_WARNING, "Adding \"%s\" failed: %s", uri, *err ? err : "not a magnet link or info-hash");
        return rc;
    }
    struct torrent *dup = session_find(s, m->info_hash);
    if (dup) {
        log_msg(LOG_INFO, "Torrent is already present: %s", uri);
        merge_duplicate(s, dup, (const char *const *)m->trackers, m->num_trackers, NULL,
                        (const char *const *)m->web_seeds, m->num_web_seeds, false);
        bt_magnet_free(m);
        return -EEXIST;
    }
    struct torrent *t;
    struct torrent_add_params p = params_of(o);
    rc = torrent_create_magnet(s, m, &p, (int64_t)time(NULL), &t);
    bt_magnet_free(m);
    if (rc != 0)
        return rc;
    apply_add_prefs(s, t);
    return add_created(s, t, o, cb, ud);
}

/* ---- URL downloads ---- */

struct service_fetch {
    struct service_fetch *next, *prev;
    struct session *s;
    struct fetch_req *h;
    char *url;
    struct service_add_opts o;
    service_add_cb cb;
    void *ud;
};

static void fetch_unlink(struct service_fetch *f)
{
    struct session *s = f->s;
    if (f->prev)
        f->prev->next = f->next;
    else
        s->url_adds = f->next;
    if (f->next)
        f->next->prev = f->prev;
    s->num_url_adds--;
}

static void fetch_free_one(struct service_fetch *f)
{
    service_add_opts_free(&f->o);
    free(f->url);
    free(f);
}

static void on_fetched(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg)
{
    struct service_fetch *f = ud;
    fetch_unlink(f);
    if (rc == 0 && status >= 200 && status < 300) {
        char err[256] = "";
        rc = service_add_torrent(f->s, body, len, &f->o, f->cb, f->ud, err, sizeof err);
        if (rc == -EBADMSG)
            log_msg(LOG_WARNING, "Downloaded file is not a valid torrent: %s (%s)", f->url, err);
    } else if (rc == -EXDEV && errmsg && strncasecmp(errmsg, "magnet:", 7) == 0) {
        rc = service_add_uri(f->s, errmsg, &f->o, f->cb, f->ud);
    } else {
        log_msg(LOG_WARNING, "Failed to download torrent from %s: %s", f->url,
                rc == 0 ? "unexpected HTTP status" : errmsg);
        rc = rc == 0 ? -EIO : rc;
    }
    if (rc != 0 && f->cb)
        f->cb(f->ud, rc, NULL);
    fetch_free_one(f);
}

static bool is_http(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

/* The jar's cookie lines plus o->cookie ("a=1; b=2") for the URL's host. */
static size_t cookie_lines(struct session *s, const char *url, const char *cookie, char ***out)
{
    char **lines = NULL;
    size_t n = cookiejar_lines(s, &lines);
    if (cookie && *cookie) {
        char host[256] = "";
        const char *h = strstr(url, "://");
        if (h) {
            h += 3;
            size_t len = strcspn(h, ":/?#");
            snprintf(host, sizeof host, "%.*s", (int)len, h);
        }
        char *dup = strdup(cookie), *save = NULL;
        for (char *tok = dup ? strtok_r(dup, ";", &save) : NULL; tok && *host; tok = strtok_r(NULL, ";", &save)) {
            while (*tok == ' ')
                tok++;
            char *eq = strchr(tok, '=');
            char **nl = eq ? realloc(lines, (n + 1) * sizeof *nl) : NULL;
            if (!nl)
                continue;
            lines = nl;
            *eq = 0;
            if (asprintf(&lines[n], "%s\tFALSE\t/\tFALSE\t0\t%s\t%s", host, tok, eq + 1) >= 0)
                n++;
        }
        free(dup);
    }
    *out = lines;
    return n;
}

int service_add_url(struct session *s, const char *url, const struct service_add_opts *o, service_add_cb cb,
                    void *ud)
{
    if (!is_http(url))
        return -EINVAL;
    if (s->num_url_adds >= SERVICE_MAX_FETCHES || !s->fetch) {
        log_msg(LOG_WARNING, "Adding \"%s\" failed: too many downloads in progress", url);
        return -EAGAIN;
    }
    struct service_fetch *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->s = s;
    f->cb = cb;
    f->ud = ud;
    f->url = strdup(url);
    if (!f->url || service_add_opts_copy(&f->o, o) != 0) {
        free(f->url);
        free(f);
        return -ENOMEM;
    }
    int64_t limit = settings_int(&s->settings, SET_TORRENT_FILE_SIZE_LIMIT);
    char proxy[2048];   /* a .torrent download is "general purpose": proxy_misc */
    if (proxy_url(s, PROXY_USE_MISC, proxy, sizeof proxy) != 0) {
        service_add_opts_free(&f->o);
        free(f->url);
        free(f);
        return -ENAMETOOLONG;
    }
    struct fetch_opts fo = {.max_body = limit > 0 ? (size_t)limit : 0, .follow_redirects = 1, .proxy = proxy};
    char **lines = NULL;
    size_t n = cookie_lines(s, url, o->cookie, &lines);
    fo.cookies = (const char *const *)lines;
    fo.num_cookies = n;
    int rc = fetch_get(s->fetch, url, &fo, on_fetched, f, &f->h);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    if (rc != 0) {
        log_msg(LOG_WARNING, "Adding \"%s\" failed: cannot start the download", url);
        fetch_free_one(f);
        return rc;
    }
    f->next = s->url_adds;
    if (s->url_adds)
        s->url_adds->prev = f;
    s->url_adds = f;
    s->num_url_adds++;
    return 0;
}

void service_close(struct session *s)
{
    while (s && s->url_adds) {
        struct service_fetch *f = s->url_adds;
        fetch_unlink(f);
        fetch_cancel(f->h);
        fetch_free_one(f);
    }
}
