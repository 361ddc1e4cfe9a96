/* web/api/ut_gui_rss — µTorrent's RSS calls (seed 004 "RSS Feed Actions",
 * "RSS Filter Actions", the rssfeeds and rssfilters rows of
 * "Torrent/labels/RSS/Filters List"; clients-wave2.md §1.1 and §1.3,
 * outside the repository) as a table over torrentd's one RSS model
 * (rss/feeds.h, rss/autodl.h).  Nothing here keeps feeds or rules or
 * writes rows: every change is a call of the RSS module, and a row is read
 * from it at each list=1.
 *
 * The mapping (µTorrent → the RSS model):
 *  - feed ID: a 31-bit FNV-1a hash of the feed's uid (never 0: the official
 *    WebUI reads 0 as "new"), so it survives restarts, renames, moves and
 *    URL changes; on a collision the feeds in uid order probe upwards, so
 *    the same set of feeds always gets the same ids.
 *  - "alias|url" [6]: the feed's path in the tree ('\' between folders) and
 *    its URL.  rss-update's alias moves the feed to that path
 *    (rss/moveItem); an empty alias means "the feed's title" (µTorrent's
 *    "use feed title"), so the feed is renamed to its title, or its URL
 *    before the first fetch.  USE_FEED_TITLE [2] is set while the feed's
 *    name is its title or its URL (qBittorrent names a feed added without a
 *    name so).
 *  - ENABLED [1] is always 1: qBittorrent's RSS has no per-feed switch
 *    (rss_processing_enabled stops them all), so enabled=0 is refused.
 *    USER_SELECTED [3] 1, PROGRAMMED [4] 0 (every feed is the user's).
 *  - DOWNLOAD_STATE [5]: 0 idle, 1 being fetched, 2 the last fetch failed
 *    (torrentd's numbering: no source gives µTorrent's).
 *  - NEXT_UPDATE [7]: Unix seconds of the next scheduled refresh, 0 when
 *    none (processing off).
 *  - items [8], newest first: NAME and NAME_FULL the article's title, URL
 *    its torrent URL (else its link), QUALITY and CODEC from the title's
 *    tags (constants.js's RSSITEMQUALITY/RSSITEMCODEC values; 0 when none),
 *    TIMESTAMP its date (Unix seconds), SEASON/EPISODE from the key
 *    qBittorrent's smart episode filter reads (rss_smart_episode_filters;
 *    0 when none or a date), EPISODE_TO 0, FEED_ID, REPACK when the title
 *    says REPACK or PROPER (the smart filter's test), IN_HISTORY when read.
 *  - rss-update: feed-id -1 or absent adds the feed (url; alias as its
 *    path) and answers "rss_ident"; an existing id: url → setFeedURL, alias
 *    → moveItem, update=1 → refreshItem, in that order.  @ctrl/utorrent's
 *    "feedid" is read as "feed-id".  subscribe=1 (µTorrent's "download
 *    every item") is refused: a filter (a rule) does that.
 *  - rss-remove: removeItem of each named feed; unknown ids are ignored, as
 *    unknown hashes are.
 *
 * Filters are the auto-downloader's rules (rss/autodl.h, rss/rule.h):
 *  - filter ID: the same hash over the rule's name, its only key (a rename
 *    changes the id: the old one in rssfilterm, the new in rssfilterp).
 *  - name → the rule's name; filter → mustContain; not-filter →
 *    mustNotContain (wildcard mode, as µTorrent's '*' and '|' filters);
 *    save-in → torrentParams.save_path; label → category; episode →
 *    episodeFilter (qBittorrent's syntax), episode-filter=0 clearing it
 *    (a rule filters by episode whenever the string is set);
 *    smart-ep-filter → smartFilter; add-stopped → stopped (0: the
 *    preferences' default); prio → add_to_top_of_queue; enabled →
 *    enabled; feed-id → affectedFeeds (one feed's URL; -1 every feed's
 *    URL now: feeds added later are not included, as in qBittorrent).
 *  - the row: FLAGS 1 enabled, 4 prio, 8 smart, 16 add-stopped (2,
 *    orig-name, never); FEED the one feed the rule names, else -1; QUALITY
 *    -1 (all); POSTPONE_MODE 0; LAST_MATCH lastMatch (Unix s, 0 never);
 *    SMART_EP_FILTER 0/1; REPACK_EP_FILTER the global
 *    rss_download_repack_proper_episodes; EPISODE_FILTER_STR the
 *    episodeFilter, EPISODE_FILTER whether it is set; RESOLVING_CANDIDATE
 *    false.
 *  - refused, as no rule can say them: origname=1, a quality mask other
 *    than -1/0, postpone-mode other than 0.  A new filter without an
 *    expression starts disabled (an empty mustContain matches every
 *    article; the official WebUI's "add filter" sends only filter-id=-1).
 *  - filter_ident answers a new filter; filter-remove removes each named
 *    rule, ignoring unknown ids.
 *
 * Cache ids: the list keeps, per kind, each row's fingerprint (a hash of
 * its JSON) and the version at which it last changed; a removed row leaves
 * a tombstone in a bounded ring.  A cid remembers the version it was issued
 * at (ut_gui_cid.rss_ver): rssfeedp/rssfilterp hold the rows changed since,
 * rssfeedm/rssfilterm the ids removed since.  A cid older than the oldest
 * tombstone the ring has dropped gets that list's full form (the official
 * WebUI reads each list's form on its own).  Fingerprinting costs one pass
 * over the rows per poll, no serialization.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/cookiejar.h"
#include "core/proxy.h"
#include "core/session.h"
#include "core/settings.h"
#include "rss/autodl.h"
#include "rss/feedparse.h"
#include "rss/feeds.h"
#include "rss/rss.h"
#include "rss/rule.h"
#include "util/fetch.h"
#include "util/log.h"
#include "web/api/ut_gui_int.h"

#define TOMBS 256

/* ---- change tracking for the cid deltas ---- */

struct seen {
    uint32_t id;
    uint64_t fp, ver;
};

struct track {
    struct seen *v;
    size_t n;
    struct {
        uint32_t id;
        uint64_t ver;
    } gone[TOMBS];
    size_t ngone, head;
    uint64_t floor;     /* a delta since a version below this may miss a removal */
};

struct ut_gui_rss {
    struct rss *rss;
    struct session *s;
    struct track feeds, filters;
    uint64_t ver;
    /* the smart episode filter for SEASON/EPISODE, compiled from
     * rss_smart_episode_filters (again when the setting changes) */
    char *smart_src;
    struct rss_smart_filter *smart;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* A hash of a row: arrays, strings, integers, booleans (what rows hold). */
static uint64_t json_fp(uint64_t h, const json_t *v)
{
    unsigned char t = (unsigned char)json_typeof(v);
    h = fnv(h, &t, 1);
    switch (json_typeof(v)) {
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        h = fnv(h, &n, sizeof n);
        for (size_t i = 0; i < n; i++)
            h = json_fp(h, json_array_get(v, i));
        return h;
    }
    case JSON_STRING:
        return fnv(h, json_string_value(v), json_string_length(v) + 1);
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        return fnv(h, &i, sizeof i);
    }
    default:
        return h;
    }
}

static int seen_cmp(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static struct seen *seen_find(const struct track *t, uint32_t id)
{
    struct seen k = {.id = id};
    return t->n ? bsearch(&k, t->v, t->n, sizeof *t->v, seen_cmp) : NULL;
}

static uint32_t row_id(const json_t *row) { return (uint32_t)json_integer_value(json_array_get(row, 0)); }

/* Records the rows now (each [id, ...]); a change bumps r->ver once. */
static int track_update(struct ut_gui_rss *r, struct track *t, const json_t *rows)
{
    size_t n = json_array_size(rows);
    struct seen *nv = malloc((n ? n : 1) * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    uint64_t now = 0;   /* the version of this poll's changes, once there is one */
    for (size_t i = 0; i < n; i++) {
        const json_t *row = json_array_get(rows, i);
        nv[i].id = row_id(row);
        nv[i].fp = json_fp(1469598103934665603ull, row);
        const struct seen *o = seen_find(t, nv[i].id);
        if (o && o->fp == nv[i].fp) {
            nv[i].ver = o->ver;
        } else {
            if (!now)
                now = ++r->ver;
            nv[i].ver = now;
        }
    }
    qsort(nv, n, sizeof *nv, seen_cmp);
    for (size_t i = 0; i < t->n; i++) {
        struct seen k = {.id = t->v[i].id};
        if (n && bsearch(&k, nv, n, sizeof *nv, seen_cmp))
            continue;
        if (!now)
            now = ++r->ver;
        size_t slot = (t->head + t->ngone) % TOMBS;
        if (t->ngone == TOMBS) {
            /* the oldest removal is forgotten: older cids get the full list */
            if (t->gone[t->head].ver > t->floor)
                t->floor = t->gone[t->head].ver;
            slot = t->head;
            t->head = (t->head + 1) % TOMBS;
        } else {
            t->ngone++;
        }
        t->gone[slot].id = t->v[i].id;
        t->gone[slot].ver = now;
    }
    free(t->v);
    t->v = nv;
    t->n = n;
    return 0;
}

/* The delta since version `since` into o[pkey] (changed rows) and o[mkey]
 * (removed ids), or the full rows into o[fullkey] when since is NULL or
 * too old.  rows is stolen. */
static bool track_put(const struct track *t, json_t *o, json_t *rows, const uint64_t *since, const char *fullkey,
                      const char *pkey, const char *mkey)
{
    if (!rows)
        return false;
    if (!since || *since < t->floor)
        return json_object_set_new(o, fullkey, rows) == 0;
    json_t *p = json_array(), *m = json_array();
    bool ok = p && m;
    for (size_t i = 0; ok && i < json_array_size(rows); i++) {
        json_t *row = json_array_get(rows, i);
        const struct seen *s = seen_find(t, row_id(row));
        if (s && s->ver > *since)
            ok = json_array_append(p, row) == 0;
    }
    for (size_t k = 0; ok && k < t->ngone; k++) {
        size_t slot = (t->head + k) % TOMBS;
        if (t->gone[slot].ver > *since && !seen_find(t, t->gone[slot].id))
            ok = json_array_append_new(m, json_integer(t->gone[slot].id)) == 0;
    }
    json_decref(rows);
    if (!ok) {
        json_decref(p);
        json_decref(m);
        return false;
    }
    return json_object_set_new(o, pkey, p) == 0 && json_object_set_new(o, mkey, m) == 0;
}

/* ---- the feeds as µTorrent numbers them ---- */

struct feed {
    char *path;           /* '\'-separated */
    const char *name;     /* last component of path */
    const char *uid, *url;   /* in the tree JSON */
    uint32_t id;
    json_t *items;        /* the row's item tuples (list only) */
};

struct feeds {
    json_t *tree;         /* rss_feeds_json(f, false) */
    struct feed *v;
    size_t n, cap;
    bool oom;
};

static uint32_t id_of_uid(const char *uid)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)uid; *p; p++)
        h = (h ^ *p) * 16777619u;
    h &= 0x7fffffff;
    return h ? h : 1;
}

/* id, or the next one up (wrapping past 0x7fffffff to 1) not in
 * taken[0..n): collisions probe upwards in key order, so every restart
 * gives the same ids.  A handful of feeds or rules: the quadratic check
 * costs nothing. */
static uint32_t unique_id(uint32_t id, const uint32_t *taken, size_t n)
{
    for (size_t k = 0; k < n;) {
        if (taken[k] == id) {
            id = id == 0x7fffffff ? 1 : id + 1;
            k = 0;
        } else {
            k++;
        }
    }
    return id;
}

static void collect(struct feeds *fs, json_t *dir, const char *prefix)
{
    const char *key;
    json_t *v;
    json_object_foreach(dir, key, v) {
        if (fs->oom || !json_is_object(v))
            continue;
        char *path = NULL;
        if (asprintf(&path, "%s%s%s", prefix, *prefix ? "\\" : "", key) < 0) {
            fs->oom = true;
            return;
        }
        json_t *uid = json_object_get(v, "uid"), *url = json_object_get(v, "url");
        if (!json_is_string(uid) || !json_is_string(url)) {   /* a folder */
            collect(fs, v, path);
            free(path);
            continue;
        }
        if (fs->n == fs->cap) {
            size_t cap = fs->cap ? fs->cap * 2 : 16;
            struct feed *nv = realloc(fs->v, cap * sizeof *nv);
            if (!nv) {
                free(path);
                fs->oom = true;
                return;
            }
            fs->v = nv;
            fs->cap = cap;
        }
        fs->v[fs->n++] = (struct feed){.path = path, .name = path + strlen(prefix) + (*prefix ? 1 : 0),
                                       .uid = json_string_value(uid), .url = json_string_value(url)};
    }
}

static int by_uid(const void *a, const void *b)
{
    const struct feed *const *x = a, *const *y = b;
    return strcmp((*x)->uid, (*y)->uid);
}

static void feeds_free(struct feeds *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->v[i].path);
        json_decref(fs->v[i].items);
    }
    free(fs->v);
    json_decref(fs->tree);
    memset(fs, 0, sizeof *fs);
}

/* Every feed in tree order with its id.  0 or -ENOMEM (fs freed). */
static int feeds_load(struct rss *rss, struct feeds *fs)
{
    memset(fs, 0, sizeof *fs);
    fs->tree = rss_feeds_json(rss_feeds(rss), false);
    if (!fs->tree)
        return -ENOMEM;
    collect(fs, fs->tree, "");
    struct feed **order = malloc((fs->n ? fs->n : 1) * sizeof *order);
    uint32_t *ids = malloc((fs->n ? fs->n : 1) * sizeof *ids);
    if (fs->oom || !order || !ids) {
        free(order);
        free(ids);
        feeds_free(fs);
        return -ENOMEM;
    }
    for (size_t i = 0; i < fs->n; i++)
        order[i] = &fs->v[i];
    qsort(order, fs->n, sizeof *order, by_uid);
    for (size_t i = 0; i < fs->n; i++)
        order[i]->id = ids[i] = unique_id(id_of_uid(order[i]->uid), ids, i);
    free(ids);
    free(order);
    return 0;
}

static struct feed *feed_by_id(struct feeds *fs, int64_t id)
{
    for (size_t i = 0; i < fs->n; i++)
        if (fs->v[i].id == id)
            return &fs->v[i];
    return NULL;
}

static struct feed *feed_by_url(struct feeds *fs, const char *url)
{
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->v[i].url, url) == 0)
            return &fs->v[i];
    return NULL;
}

static struct feed *feed_by_uid(struct feeds *fs, const char *uid)
{
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->v[i].uid, uid) == 0)
            return &fs->v[i];
    return NULL;
}

/* ---- item tuples ---- */

/* constants.js RSSITEMQUALITY_* by the tag a release title carries. */
static const struct {
    const char *tag;
    int bit;
} QUALITY[] = {
    {"hdtv", 1},     {"tvrip", 2},  {"dvdrip", 4},   {"svcd", 8},      {"dsrip", 16},    {"dvbrip", 32},
    {"pdtv", 64},    {"dvdr", 512}, {"dvdscr", 1024}, {"720p", 2048},  {"1080i", 4096},  {"1080p", 8192},
    {"webrip", 16384}, {"satrip", 32768},
};

/* constants.js RSSITEMCODEC_*. */
static const struct {
    const char *tag;
    int code;
} CODEC[] = {
    {"mpeg", 1}, {"mpeg2", 2}, {"mpeg4", 3}, {"real", 4}, {"wmv", 5}, {"xvid", 6},
    {"divx", 7}, {"x264", 8},  {"h264", 9},  {"wmvhd", 10}, {"vc1", 11},
};

/* The title's tags (split at anything not a letter or digit): one quality,
 * the resolution when named (720p, 1080i, 1080p), else the highest source
 * bit named (HR.HDTV 128, HR.PDTV 256); the last codec named. */
static void tags_of(const char *title, int *quality, int *codec)
{
    *quality = 0;
    *codec = 0;
    char prev[16] = "";
    for (const char *p = title; *p;) {
        size_t n = 0;
        char tok[16];
        while (*p && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            p++;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')) {
            if (n < sizeof tok - 1)
                tok[n++] = *p;
            p++;
        }
        tok[n] = 0;
        if (!n)
            break;
        int q = 0;
        for (size_t i = 0; i < sizeof QUALITY / sizeof QUALITY[0]; i++)
            if (strcasecmp(tok, QUALITY[i].tag) == 0)
                q = QUALITY[i].bit;
        if (strcasecmp(prev, "hr") == 0 && (q == 1 || q == 64))
            q = q == 1 ? 128 : 256;
        bool res = q >= 2048 && q <= 8192, had_res = *quality >= 2048 && *quality <= 8192;
        if ((res && (!had_res || q > *quality)) || (!res && !had_res && q > *quality))
            *quality = q;
        for (size_t i = 0; i < sizeof CODEC / sizeof CODEC[0]; i++)
            if (strcasecmp(tok, CODEC[i].tag) == 0)
                *codec = CODEC[i].code;
        snprintf(prev, sizeof prev, "%s", tok);
    }
}

/* qBittorrent's smart filter's REPACK/PROPER test: either word, any case. */
static bool is_repack(const char *title) { return strcasestr(title, "repack") || strcasestr(title, "proper"); }

static const struct rss_smart_filter *smart_filter(struct ut_gui_rss *r)
{
    const char *src = settings_str(&r->s->settings, SET_RSS_SMART_EPISODE_FILTERS);
    if (r->smart_src && strcmp(r->smart_src, src) == 0)
        return r->smart;
    struct rss_smart_filter *f = NULL;
    char *dup = strdup(src);
    if (!dup || rss_smart_filter_new(src, &f) != 0) {
        free(dup);
        return NULL;   /* out of memory: no episodes this time */
    }
    rss_smart_filter_free(r->smart);
    free(r->smart_src);
    r->smart = f;
    r->smart_src = dup;
    return f;
}

/* SEASON and EPISODE from the smart filter's episode key "SxE" ("1x5");
 * 0 when the title has none or it is a date ("2017.01.01"). */
static void episode_of(struct ut_gui_rss *r, const char *title, int *season, int *episode)
{
    *season = 0;
    *episode = 0;
    const struct rss_smart_filter *f = smart_filter(r);
    char *key = f ? rss_smart_filter_episode(f, title) : NULL;
    int se, ep, used = 0;
    if (key && sscanf(key, "%9dx%9d%n", &se, &ep, &used) == 2 && key[used] == 0 && se >= 0 && ep >= 0) {
        *season = se;
        *episode = ep;
    }
    free(key);
}

struct items_walk {
    struct ut_gui_rss *r;
    struct feeds *fs;
    struct feed *last;
    bool oom;
};

static int on_article(void *ud, const struct rss_feed_ref *ref, const struct rss_article *a)
{
    struct items_walk *w = ud;
    if (!w->last || strcmp(w->last->url, ref->url) != 0)
        w->last = feed_by_url(w->fs, ref->url);
    struct feed *f = w->last;
    if (!f)
        return 0;
    int quality, codec, season, episode;
    tags_of(a->title, &quality, &codec);
    episode_of(w->r, a->title, &season, &episode);
    json_t *item = json_pack("[s,s,s,i,i,I,i,i,i,I,b,b]", a->title, a->title,
                             *a->torrent_url ? a->torrent_url : a->link, quality, codec, (json_int_t)a->date,
                             season, episode, 0, (json_int_t)f->id, is_repack(a->title), a->is_read);
    if (!f->items)
        f->items = json_array();
    if (!item || !f->items || json_array_append_new(f->items, item) != 0) {
        w->oom = true;
        return -ENOMEM;
    }
    return 0;
}

static json_t *feed_row(struct rss *rss, const struct feed *f)
{
    struct rss_feed_state st = {.title = ""};
    if (rss_feeds_feed_state(rss_feeds(rss), f->url, &st) != 0)
        return NULL;
    bool use_title = strcmp(f->name, f->url) == 0 || (*st.title && strcmp(f->name, st.title) == 0);
    int state = st.loading ? 1 : st.has_error ? 2 : 0;
    char *alias_url = NULL;
    if (asprintf(&alias_url, "%s|%s", f->path, f->url) < 0)
        return NULL;
    json_t *items = f->items ? json_incref(f->items) : json_array();
    json_t *row = json_pack("[I,b,b,b,b,i,s,I,o]", (json_int_t)f->id, 1, use_title, 1, 0, state, alias_url,
                            (json_int_t)st.next_refresh, items);
    free(alias_url);
    return row;
}

static json_t *feed_rows(struct ut_gui_rss *r)
{
    struct feeds fs;
    if (feeds_load(r->rss, &fs) != 0)
        return NULL;
    struct items_walk w = {r, &fs, NULL, false};
    rss_feeds_walk(rss_feeds(r->rss), on_article, &w);
    json_t *rows = w.oom ? NULL : json_array();
    for (size_t i = 0; rows && i < fs.n; i++) {
        if (json_array_append_new(rows, feed_row(r->rss, &fs.v[i])) != 0) {
            json_decref(rows);
            rows = NULL;
        }
    }
    feeds_free(&fs);
    return rows;
}

/* ---- filters: the auto-downloader's rules as µTorrent numbers them ---- */

struct filter {
    struct rss_rule *r;   /* the autodl's own: valid until its next change */
    uint32_t id;
};

struct filters {
    struct filter *v;     /* priority order */
    size_t n;
};

static int by_name(const void *a, const void *b)
{
    const struct filter *const *x = a, *const *y = b;
    return strcmp((*x)->r->name, (*y)->r->name);
}

/* Every rule with its id: the uid hash over the name (a rule's only key),
 * collisions probing upwards in name order.  0, -ENOMEM. */
static int filters_load(struct rss_autodl *a, struct filters *fl)
{
    fl->n = rss_autodl_count(a);
    fl->v = calloc(fl->n ? fl->n : 1, sizeof *fl->v);
    struct filter **order = malloc((fl->n ? fl->n : 1) * sizeof *order);
    uint32_t *ids = malloc((fl->n ? fl->n : 1) * sizeof *ids);
    if (!fl->v || !order || !ids) {
        free(fl->v);
        free(order);
        free(ids);
        fl->v = NULL;
        fl->n = 0;
        return -ENOMEM;
    }
    for (size_t i = 0; i < fl->n; i++) {
        fl->v[i].r = rss_autodl_rule_at(a, i);
        order[i] = &fl->v[i];
    }
    qsort(order, fl->n, sizeof *order, by_name);
    for (size_t i = 0; i < fl->n; i++)
        order[i]->id = ids[i] = unique_id(id_of_uid(order[i]->r->name), ids, i);
    free(ids);
    free(order);
    return 0;
}

static struct filter *filter_by_id(struct filters *fl, int64_t id)
{
    for (size_t i = 0; i < fl->n; i++)
        if (fl->v[i].id == id)
            return &fl->v[i];
    return NULL;
}

enum {
    FLAG_ENABLE = 1, FLAG_ORIG_NAME = 2, FLAG_HIGH_PRIO = 4, FLAG_SMART_EP = 8, FLAG_ADD_STOPPED = 16,
};

static int flags_of(const struct rss_rule *r)
{
    return (r->enabled ? FLAG_ENABLE : 0) | (r->tp.add_to_top == RSS_OPT_TRUE ? FLAG_HIGH_PRIO : 0) |
           (r->smart_filter ? FLAG_SMART_EP : 0) | (r->tp.stopped == RSS_OPT_TRUE ? FLAG_ADD_STOPPED : 0);
}

/* FEED: the one feed the rule names, else -1 (several, every one, or a
 * URL no feed has). */
static int64_t filter_feed(const struct rss_rule *r, struct feeds *fs)
{
    if (r->feeds.n != 1)
        return -1;
    struct feed *f = feed_by_url(fs, r->feeds.v[0]);
    return f ? (int64_t)f->id : -1;
}

static json_t *filter_row(struct ut_gui_rss *r, const struct filter *f, struct feeds *fs)
{
    const struct rss_rule *x = f->r;
    bool repacks = settings_bool(&r->s->settings, SET_RSS_DOWNLOAD_REPACK_PROPER_EPISODES);
    return json_pack("[I,i,s,s,s,s,I,i,s,i,I,i,i,s,b,b]", (json_int_t)f->id, flags_of(x), x->name,
                     x->must_contain, x->must_not_contain, x->tp.save_path, (json_int_t)filter_feed(x, fs),
                     -1,                                  /* QUALITY: every quality */
                     x->tp.category, 0,                   /* POSTPONE_MODE: none */
                     (json_int_t)(x->has_last_match ? x->last_match : 0), x->smart_filter ? 1 : 0, repacks ? 1 : 0,
                     x->episode_filter, *x->episode_filter != 0, 0);
}

static json_t *filter_rows(struct ut_gui_rss *r)
{
    struct rss_autodl *a = rss_autodl(r->rss);
    if (!a)
        return json_array();
    struct feeds fs;
    struct filters fl;
    if (feeds_load(r->rss, &fs) != 0)
        return NULL;
    if (filters_load(a, &fl) != 0) {
        feeds_free(&fs);
        return NULL;
    }
    json_t *rows = json_array();
    for (size_t i = 0; rows && i < fl.n; i++) {
        if (json_array_append_new(rows, filter_row(r, &fl.v[i], &fs)) != 0) {
            json_decref(rows);
            rows = NULL;
        }
    }
    free(fl.v);
    feeds_free(&fs);
    return rows;
}

/* ---- list=1 ---- */

int ut_gui_rss_attach(struct ut_gui *g, struct rss *rss)
{
    if (!rss)
        return 0;
    struct ut_gui_rss *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->rss = rss;
    r->s = g->s;
    g->rss = r;
    return 0;
}

bool ut_gui_rss_list(struct ut_gui *g, json_t *o, const uint64_t *since, uint64_t *ver)
{
    struct ut_gui_rss *r = g->rss;
    if (!r) {
        *ver = 0;
        if (since)
            return json_object_set_new(o, "rssfeedp", json_array()) == 0 &&
                   json_object_set_new(o, "rssfeedm", json_array()) == 0 &&
                   json_object_set_new(o, "rssfilterp", json_array()) == 0 &&
                   json_object_set_new(o, "rssfilterm", json_array()) == 0;
        return json_object_set_new(o, "rssfeeds", json_array()) == 0 &&
               json_object_set_new(o, "rssfilters", json_array()) == 0;
    }
    json_t *feeds = feed_rows(r), *filters = filter_rows(r);
    if (!feeds || !filters || track_update(r, &r->feeds, feeds) != 0 ||
        track_update(r, &r->filters, filters) != 0) {
        json_decref(feeds);
        json_decref(filters);
        return false;
    }
    *ver = r->ver;
    if (!track_put(&r->feeds, o, feeds, since, "rssfeeds", "rssfeedp", "rssfeedm")) {
        json_decref(filters);
        return false;
    }
    return track_put(&r->filters, o, filters, since, "rssfilters", "rssfilterp", "rssfilterm");
}

/* ---- rss-update, rss-remove ---- */

/* The id a call names in feed-id (or @ctrl/utorrent's feedid): -1 when
 * absent; false when it is no id. */
static bool param_id(struct ut_call *c, const char *key, const char *alt, int64_t *id)
{
    const char *v = ut_query_get(&c->q, key);
    if (!v && alt)
        v = ut_query_get(&c->q, alt);
    *id = -1;
    return !v || !*v || ut_parse_int(v, -1, 0x7fffffff, id);
}

/* A string parameter without NUL bytes, or NULL. */
static const char *param_str(struct ut_call *c, const char *key, bool *bad)
{
    for (size_t i = 0; i < c->q.n; i++)
        if (strcmp(c->q.v[i].key, key) == 0) {
            if (ut_param_has_nul(&c->q.v[i]))
                *bad = true;
            return c->q.v[i].val;
        }
    return NULL;
}

/* µTorrent's booleans: 1/0 (the WebUI), true/false (@ctrl/utorrent sends
 * enabled JSON-stringified).  dflt when absent or empty. */
static bool param_bool(struct ut_call *c, const char *key, bool dflt)
{
    const char *v = ut_query_get(&c->q, key);
    if (!v || !*v)
        return dflt;
    return strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0;
}

static struct rss *rss_of(struct ut_call *c)
{
    return c->g->rss ? c->g->rss->rss : NULL;
}

/* A new feed's reply: {"build", "rss_ident"} once the tree is committed. */
struct added {
    struct ut_call *c;
    char *url;
    bool refresh;
};

static void reply_ident(struct ut_call *c, const char *key, int64_t id)
{
    json_t *o = ut_reply_obj();
    if (o && id > 0 && json_object_set_new(o, key, json_integer(id)) != 0) {
        json_decref(o);
        o = NULL;
    }
    ut_reply(c, o);
}

static void on_feed_added(void *ud, int rc)
{
    struct added *a = ud;
    struct rss *rss = rss_of(a->c);
    int64_t id = -1;
    struct feeds fs;
    if (rc != 0) {
        log_msg(LOG_WARNING, "µTorrent WebUI: a change could not be saved (%d)", rc);
        ut_reply(a->c, NULL);
    } else if (feeds_load(rss, &fs) != 0) {
        ut_reply(a->c, NULL);
    } else {
        struct feed *f = feed_by_url(&fs, a->url);
        if (f) {
            id = f->id;
            if (a->refresh)
                rss_feeds_refresh_item(rss_feeds(rss), f->path);
        }
        feeds_free(&fs);
        reply_ident(a->c, "rss_ident", id);
    }
    free(a->url);
    free(a);
}

/* Adds the feed at url named path ("" = by its URL, renamed to its title
 * once fetched); replies {"build","rss_ident"}, or {"build"} when it is
 * there already and exists_ok. */
static void add_feed(struct ut_call *c, const char *url, const char *path, bool refresh, bool exists_ok)
{
    struct rss *rss = rss_of(c);
    struct added *a = calloc(1, sizeof *a);
    if (a)
        a->url = strdup(url);
    if (!a || !a->url) {
        free(a);
        ut_reply(c, NULL);
        return;
    }
    a->c = c;
    a->refresh = refresh;
    char err[1024] = "";
    int rc = rss_feeds_add_feed(rss_feeds(rss), url, path, 0, err, sizeof err, on_feed_added, a);
    if (rc == 0)
        return;
    free(a->url);
    free(a);
    if (rc == -EEXIST && exists_ok)
        ut_reply_build(c);
    else if (err[0])
        ut_reply_error(c, err);
    else
        ut_reply(c, NULL);
}

/* One change of an rss-update on an existing feed, counted in w. */
static void change(struct ut_wait *w, int rc, const char *err)
{
    ut_wait_started(w, rc);
    if (rc != 0)
        ut_wait_fail(w, err[0] ? err : "the feed could not be changed");
}

void ut_gui_rss_update(struct ut_call *c)
{
    struct rss *rss = rss_of(c);
    int64_t id;
    bool bad = false;
    const char *url = param_str(c, "url", &bad), *alias = param_str(c, "alias", &bad);
    if (!rss) {
        ut_reply_error(c, "RSS is not available");
        return;
    }
    if (!param_id(c, "feed-id", "feedid", &id)) {
        ut_reply_error(c, "feed-id must be a feed id of list=1, or -1 for a new feed");
        return;
    }
    if (bad) {
        ut_reply_error(c, "url and alias must not contain a NUL byte");
        return;
    }
    if (!param_bool(c, "enabled", true)) {
        ut_reply_error(c, "a feed cannot be disabled: torrentd refreshes every feed while RSS processing is on");
        return;
    }
    if (param_bool(c, "subscribe", false)) {
        ut_reply_error(c, "subscribing to a whole feed is not supported: add a filter for it");
        return;
    }
    bool refresh = param_bool(c, "update", false);
    if (id <= 0) {
        if (!url || !*url) {
            ut_reply_error(c, "a new feed needs a url");
            return;
        }
        add_feed(c, url, alias ? alias : "", refresh, false);
        return;
    }
    struct feeds fs;
    if (feeds_load(rss, &fs) != 0) {
        ut_reply(c, NULL);
        return;
    }
    struct feed *f = feed_by_id(&fs, id);
    if (!f) {
        feeds_free(&fs);
        ut_reply_error(c, "no feed has that feed-id");
        return;
    }
    char *uid = strdup(f->uid);
    struct ut_wait *w = uid ? ut_wait_new(c) : NULL;
    if (!w) {
        if (!uid)
            ut_reply(c, NULL);
        feeds_free(&fs);
        free(uid);
        return;
    }
    struct rss_feeds *rf = rss_feeds(rss);
    char err[1024] = "";
    if (url && *url && strcmp(url, f->url) != 0) {
        ut_wait_hold(w);
        change(w, rss_feeds_set_url(rf, f->path, url, err, sizeof err, ut_wait_done, w), err);
        /* a feed named by its URL was renamed: read the tree again */
        feeds_free(&fs);
        f = feeds_load(rss, &fs) == 0 ? feed_by_uid(&fs, uid) : NULL;
    }
    if (f && alias && !w->error) {
        const char *to = alias;
        struct rss_feed_state st = {.title = ""};
        if (!*to)   /* "use feed title" */
            to = rss_feeds_feed_state(rf, f->url, &st) == 0 && *st.title ? st.title : f->url;
        if (strcmp(to, f->path) != 0) {
            ut_wait_hold(w);
            change(w, rss_feeds_move(rf, f->path, to, err, sizeof err, ut_wait_done, w), err);
            feeds_free(&fs);
            f = feeds_load(rss, &fs) == 0 ? feed_by_uid(&fs, uid) : NULL;
        }
    }
    if (f && refresh && !w->error)
        rss_feeds_refresh_item(rf, f->path);
    feeds_free(&fs);
    free(uid);
    ut_wait_done(w, 0);
}

void ut_gui_rss_remove(struct ut_call *c)
{
    struct rss *rss = rss_of(c);
    if (!rss) {
        ut_reply_error(c, "RSS is not available");
        return;
    }
    struct feeds fs;
    if (feeds_load(rss, &fs) != 0) {
        ut_reply(c, NULL);
        return;
    }
    struct ut_wait *w = ut_wait_new(c);
    for (size_t i = 0; w && i < c->q.n; i++) {
        int64_t id;
        if ((strcmp(c->q.v[i].key, "feed-id") != 0 && strcmp(c->q.v[i].key, "feedid") != 0) ||
            !ut_parse_int(c->q.v[i].val, 1, 0x7fffffff, &id))
            continue;
        struct feed *f = feed_by_id(&fs, id);
        if (!f)
            continue;   /* unknown or already removed: nothing to do */
        char err[1024] = "";
        ut_wait_hold(w);
        change(w, rss_feeds_remove(rss_feeds(rss), f->path, err, sizeof err, ut_wait_done, w), err);
    }
    feeds_free(&fs);
    if (w)
        ut_wait_done(w, 0);
}

/* ---- filter-update, filter-remove ---- */

static struct rss_autodl *autodl_of(struct ut_call *c)
{
    struct rss *rss = rss_of(c);
    return rss ? rss_autodl(rss) : NULL;
}

static int set_str(char **dst, const char *v)
{
    char *d = strdup(v);
    if (!d)
        return -ENOMEM;
    free(*dst);
    *dst = d;
    return 0;
}

/* An integer parameter: dflt when absent or empty; false when junk. */
static bool param_int(struct ut_call *c, const char *key, int64_t dflt, int64_t *out)
{
    const char *v = ut_query_get(&c->q, key);
    *out = dflt;
    return !v || !*v || ut_parse_int(v, INT32_MIN, INT32_MAX, out);
}

/* The filter-update parameters on rule x (seed 004's list, the official
 * WebUI's names).  NULL, or the error to reply. */
static const char *apply_filter(struct ut_call *c, struct rss_rule *x, bool is_new)
{
    bool bad = false;
    const char *filter = param_str(c, "filter", &bad), *not = param_str(c, "not-filter", &bad);
    const char *save = param_str(c, "save-in", &bad), *label = param_str(c, "label", &bad);
    const char *episode = param_str(c, "episode", &bad);
    int64_t quality, postpone, feed;
    if (bad)
        return "filter parameters must not contain a NUL byte";
    if (!param_int(c, "quality", -1, &quality) || !param_int(c, "postpone-mode", 0, &postpone) ||
        !param_int(c, "feed-id", -1, &feed))
        return "quality, postpone-mode and feed-id must be integers";
    /* what qBittorrent's rules cannot say is refused, not dropped */
    if (param_bool(c, "origname", false))
        return "matching the original name is not supported: rules match the article title";
    if (quality != -1 && quality != 0)
        return "a quality filter is not supported: rules match the title (put the quality in filter)";
    if (postpone != 0)
        return "postpone mode is not supported";
    if ((filter && set_str(&x->must_contain, filter) != 0) || (not && set_str(&x->must_not_contain, not) != 0) ||
        (save && set_str(&x->tp.save_path, save) != 0) || (label && set_str(&x->tp.category, label) != 0))
        return "out of memory";
    /* qBittorrent filters by episode whenever the filter is not empty */
    const char *ef = ut_query_get(&c->q, "episode-filter");
    if (ef && *ef && !param_bool(c, "episode-filter", false)) {
        if (set_str(&x->episode_filter, "") != 0)
            return "out of memory";
    } else if (episode && set_str(&x->episode_filter, episode) != 0) {
        return "out of memory";
    }
    /* a new filter without an expression would match every article
     * (qBittorrent's empty mustContain): it starts disabled (the official
     * WebUI's "add filter" sends nothing else) */
    x->enabled = param_bool(c, "enabled", is_new ? filter && *filter : x->enabled);
    x->smart_filter = param_bool(c, "smart-ep-filter", x->smart_filter);
    if (ut_query_get(&c->q, "add-stopped"))
        x->tp.stopped = param_bool(c, "add-stopped", false) ? RSS_OPT_TRUE : RSS_OPT_UNSET;
    if (ut_query_get(&c->q, "prio"))
        x->tp.add_to_top = param_bool(c, "prio", false) ? RSS_OPT_TRUE : RSS_OPT_UNSET;
    if (!ut_query_get(&c->q, "feed-id") && !is_new)
        return NULL;
    /* feed-id: one feed's URL; -1 (or none for a new filter) every feed's */
    struct feeds fs;
    if (feeds_load(rss_of(c), &fs) != 0)
        return "out of memory";
    struct feed *f = feed > 0 ? feed_by_id(&fs, feed) : NULL;
    const char *err = NULL;
    if (feed > 0 && !f) {
        err = "feed-id must be a feed id of list=1, or -1 for every feed";
    } else {
        strv_clear(&x->feeds);
        for (size_t i = 0; i < fs.n && !err; i++)
            if ((!f || &fs.v[i] == f) && strv_push(&x->feeds, fs.v[i].url) != 0)
                err = "out of memory";
    }
    feeds_free(&fs);
    return err;
}

/* A name no rule has: the given one, else "New filter", "New filter 2" ... */
static char *new_name(struct rss_autodl *a, const char *given)
{
    if (given && *given)
        return strdup(given);
    for (int i = 1;; i++) {
        char *n = NULL;
        if ((i == 1 ? asprintf(&n, "New filter") : asprintf(&n, "New filter %d", i)) < 0)
            return NULL;
        if (!rss_autodl_find(a, n))
            return n;
        free(n);
    }
}

struct rule_added {
    struct ut_call *c;
    char *name;
};

static void on_rule_added(void *ud, int rc)
{
    struct rule_added *ra = ud;
    struct rss_autodl *a = autodl_of(ra->c);
    struct filters fl = {0};
    if (rc != 0) {
        log_msg(LOG_WARNING, "µTorrent WebUI: a change could not be saved (%d)", rc);
        ut_reply(ra->c, NULL);
    } else if (!a || filters_load(a, &fl) != 0) {
        ut_reply(ra->c, NULL);
    } else {
        int64_t id = -1;
        for (size_t i = 0; i < fl.n; i++)
            if (strcmp(fl.v[i].r->name, ra->name) == 0)
                id = fl.v[i].id;
        free(fl.v);
        reply_ident(ra->c, "filter_ident", id);
    }
    free(ra->name);
    free(ra);
}

void ut_gui_filter_update(struct ut_call *c)
{
    struct rss_autodl *a = autodl_of(c);
    int64_t id;
    bool bad = false;
    const char *name = param_str(c, "name", &bad);
    if (!a) {
        ut_reply_error(c, "RSS filters are not available");
        return;
    }
    if (!param_id(c, "filter-id", NULL, &id) || bad) {
        ut_reply_error(c, "filter-id must be a filter id of list=1, or -1 for a new filter");
        return;
    }
    struct filters fl;
    if (filters_load(a, &fl) != 0) {
        ut_reply(c, NULL);
        return;
    }
    struct filter *f = id > 0 ? filter_by_id(&fl, id) : NULL;
    char *nn = NULL;
    if (id <= 0)
        nn = new_name(a, name);
    else if (f)
        nn = strdup(name && *name ? name : f->r->name);
    struct rss_rule *x = !nn ? NULL : f ? rss_rule_dup(f->r) : rss_rule_new(nn);
    const char *err = id > 0 && !f ? "no filter has that filter-id" : !x ? "out of memory" : NULL;
    if (!err && (id <= 0 || strcmp(nn, f->r->name) != 0) && rss_autodl_find(a, nn))
        err = "a filter with that name exists";
    if (!err)
        err = apply_filter(c, x, id <= 0);
    if (err) {
        free(fl.v);
        free(nn);
        rss_rule_free(x);
        ut_reply_error(c, err);
        return;
    }
    if (id <= 0) {
        free(fl.v);
        struct rule_added *ra = calloc(1, sizeof *ra);
        if (!ra) {
            free(nn);
            rss_rule_free(x);
            ut_reply(c, NULL);
            return;
        }
        ra->c = c;
        ra->name = nn;
        if (rss_autodl_set_rule(a, x, on_rule_added, ra) != 0) {
            free(nn);
            free(ra);
            ut_reply_error(c, "the filter could not be added");
        }
        return;
    }
    /* an existing rule: renamed first (qBittorrent's renameRule), then
     * replaced under its name; one reply once both are committed */
    struct ut_wait *w = ut_wait_new(c);
    if (!w) {
        free(fl.v);
        free(nn);
        rss_rule_free(x);
        return;
    }
    if (strcmp(nn, f->r->name) != 0) {
        ut_wait_hold(w);
        int rc = rss_autodl_rename_rule(a, f->r->name, nn, ut_wait_done, w);
        ut_wait_started(w, rc);
        if (rc != 0)
            ut_wait_fail(w, "the filter could not be renamed");
    }
    free(fl.v);   /* f is gone with it; the rule may be renamed */
    if (!w->error && set_str(&x->name, nn) == 0) {
        ut_wait_hold(w);
        int rc = rss_autodl_set_rule(a, x, ut_wait_done, w);
        ut_wait_started(w, rc);
        if (rc != 0)
            ut_wait_fail(w, "the filter could not be changed");
    } else {
        rss_rule_free(x);
        ut_wait_fail(w, "the filter could not be changed");
    }
    free(nn);
    ut_wait_done(w, 0);
}

void ut_gui_filter_remove(struct ut_call *c)
{
    struct rss_autodl *a = autodl_of(c);
    if (!a) {
        ut_reply_error(c, "RSS filters are not available");
        return;
    }
    struct ut_wait *w = ut_wait_new(c);
    for (size_t i = 0; w && i < c->q.n; i++) {
        int64_t id;
        struct filters fl;
        if (strcmp(c->q.v[i].key, "filter-id") != 0 || !ut_parse_int(c->q.v[i].val, 1, 0x7fffffff, &id))
            continue;
        if (filters_load(a, &fl) != 0) {
            ut_wait_fail(w, "out of memory");
            break;
        }
        struct filter *f = filter_by_id(&fl, id);
        if (f) {   /* unknown ids are ignored, as unknown hashes */
            ut_wait_hold(w);
            int rc = rss_autodl_remove_rule(a, f->r->name, ut_wait_done, w);
            ut_wait_started(w, rc);
            if (rc != 0)
                ut_wait_fail(w, "the filter could not be removed");
        }
        free(fl.v);
    }
    if (w)
        ut_wait_done(w, 0);
}

/* ---- add-unknown-url: a feed ---- */

struct probe {
    struct ut_call *c;
    char *url;
};

static void on_probed(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg)
{
    (void)errmsg;
    struct probe *p = ud;
    bool feed = false;
    if (rc == 0 && status >= 200 && status < 300) {
        struct feedparse_result r;
        feed = feedparse_parse((const char *)body, len, NULL, (int64_t)time(NULL) * 1000, &r) == 0 && !r.error[0];
        feedparse_result_free(&r);
    }
    if (feed)
        add_feed(p->c, p->url, "", false, true);
    else
        ut_reply_error(p->c, "the URL is neither a torrent nor an RSS feed");
    free(p->url);
    free(p);
}

void ut_gui_rss_add_unknown(struct ut_call *c, const char *url)
{
    if (!rss_of(c) || !c->s->fetch) {
        ut_reply_error(c, "the URL is no torrent (and RSS is not available)");
        return;
    }
    struct probe *p = calloc(1, sizeof *p);
    if (p)
        p->url = strdup(url);
    if (!p || !p->url) {
        free(p);
        ut_reply(c, NULL);
        return;
    }
    p->c = c;
    /* as the feeds fetch (rss/feeds.h): the session's cookies, redirects,
     * the parser's size cap and the RSS timeout */
    char proxy[2048];   /* a feed: proxy_rss, as the feeds' own fetches */
    proxy_url(c->s, PROXY_USE_RSS, proxy, sizeof proxy);
    struct fetch_opts o = {
        .timeout_ms = RSS_FEEDS_TIMEOUT_MS,
        .idle_timeout_ms = RSS_FEEDS_TIMEOUT_MS / 2,
        .max_body = FEEDPARSE_MAX_DOC,
        .follow_redirects = 1,
        .proxy = proxy,
    };
    char **lines = NULL;
    size_t nl = c->s->cookies ? cookiejar_lines(c->s, &lines) : 0;
    o.cookies = (const char *const *)lines;
    o.num_cookies = nl;
    int rc = fetch_get(c->s->fetch, url, &o, on_probed, p, NULL);
    for (size_t i = 0; i < nl; i++)
        free(lines[i]);
    free(lines);
    if (rc != 0) {
        free(p->url);
        free(p);
        ut_reply_error(c, "cannot download the URL");
    }
}
