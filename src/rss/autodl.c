/* rss/autodl — see autodl.h.  Behaviour from qBittorrent's
 * rss_autodownloader.cpp, rewritten in C. */
#include "rss/autodl.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/service.h"
#include "core/session.h"
#include "core/settings.h"
#include "store/store.h"
#include "util/log.h"

#define RULES_NS "rss_rules"

/* An article waiting in the processing queue: a copy, as qBittorrent
 * copies the article's data, so the feeds may drop it meanwhile. */
struct job {
    struct job *next;
    char *feed_url, *id, *title, *torrent_url;
    int64_t date;
};

/* An accepted article whose torrent is being added. */
struct waiting {
    struct waiting *next, *prev;
    struct rss_autodl *a;        /* NULL once the auto-downloader is gone */
    char *feed_url, *id, *torrent_url;
    bool descriptor;             /* a magnet or info-hash: marked read at once */
};

struct rss_autodl {
    uv_loop_t *loop;
    struct store *store;
    struct settings *settings;
    struct rss_autodl_feeds feeds;
    rss_autodl_add_fn add;
    void *add_ud;
    struct rss_rule **rules;     /* priority order */
    size_t n, cap;
    struct job *head, *tail;
    struct waiting *waiting;
    uv_timer_t timer;
    struct rss_smart_filter *smart;
    bool enabled;                /* rss_auto_downloading_enabled as last seen */
};

/* Adds still in flight when their auto-downloader went away: kept
 * reachable here until their callback frees them. */
static struct waiting *orphans;

/* ---- jobs ---- */

static void job_free(struct job *j)
{
    free(j->feed_url);
    free(j->id);
    free(j->title);
    free(j->torrent_url);
    free(j);
}

static void queue_clear(struct rss_autodl *a)
{
    while (a->head) {
        struct job *j = a->head;
        a->head = j->next;
        job_free(j);
    }
    a->tail = NULL;
}

static bool is_waiting(const struct rss_autodl *a, const char *url)
{
    for (const struct waiting *w = a->waiting; w; w = w->next)
        if (strcmp(w->torrent_url, url) == 0)
            return true;
    return false;
}

static void on_timer(uv_timer_t *t)
{
    rss_autodl_process(t->data);
}

/* addJobForArticle: unread articles with a torrent URL whose torrent is not
 * being added already. */
static void enqueue(struct rss_autodl *a, const struct rss_feed_ref *feed, const struct rss_article *art)
{
    if (art->is_read || !art->torrent_url || !*art->torrent_url || is_waiting(a, art->torrent_url))
        return;
    struct job *j = calloc(1, sizeof *j);
    if (!j || !(j->feed_url = strdup(feed->url ? feed->url : "")) || !(j->id = strdup(art->id ? art->id : "")) ||
        !(j->title = strdup(art->title ? art->title : "")) || !(j->torrent_url = strdup(art->torrent_url))) {
        if (j)
            job_free(j);
        log_msg(LOG_WARNING, "RSS auto-downloader: out of memory, article '%s' skipped",
                art->title ? art->title : "");
        return;
    }
    j->date = art->date;
    if (a->tail)
        a->tail->next = j;
    else
        a->head = j;
    a->tail = j;
    if (!uv_is_active((uv_handle_t *)&a->timer))
        uv_timer_start(&a->timer, on_timer, 0, 0);
}

static int enqueue_cb(void *ud, const struct rss_feed_ref *feed, const struct rss_article *art)
{
    enqueue(ud, feed, art);
    return 0;
}

/* resetProcessingQueue: everything unread again, when processing is on. */
static void reset_queue(struct rss_autodl *a)
{
    queue_clear(a);
    if (!a->enabled || !a->feeds.walk)
        return;
    a->feeds.walk(a->feeds.ud, enqueue_cb, a);
}

void rss_autodl_on_new_article(void *autodl, const struct rss_feed_ref *feed, const struct rss_article *art)
{
    struct rss_autodl *a = autodl;
    if (a->enabled)
        enqueue(a, feed, art);
}

/* ---- persistence ---- */

struct pending {
    rss_autodl_done_fn done;
    void *ud;
    int left, rc;
};

static void pending_step(void *ud, int rc)
{
    struct pending *p = ud;
    if (rc != 0 && p->rc == 0)
        p->rc = rc;
    if (--p->left > 0)
        return;
    if (p->done)
        p->done(p->ud, p->rc);
    free(p);
}

static struct pending *pending_new(rss_autodl_done_fn done, void *ud)
{
    struct pending *p = calloc(1, sizeof *p);
    if (p) {
        p->done = done;
        p->ud = ud;
        p->left = 1;   /* the caller's own reference, dropped by pending_step(p, 0) */
    }
    return p;
}

/* Writes (or, with r NULL, deletes) the row of `name`; p (may be NULL)
 * counts it. */
static void store_rule(struct rss_autodl *a, const char *name, const struct rss_rule *r, struct pending *p)
{
    if (!a->store)
        return;
    char *text = NULL;
    if (r) {
        json_t *j = rss_rule_to_json(r);
        text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!text) {
            if (p && p->rc == 0)
                p->rc = -ENOMEM;
            return;
        }
    }
    if (p)
        p->left++;
    int rc = store_kv_put(a->store, RULES_NS, name, text, p ? pending_step : NULL, p);
    free(text);
    if (rc != 0) {
        log_msg(LOG_CRITICAL, "Couldn't save RSS AutoDownloader data in %s. Error: %s", RULES_NS, strerror(-rc));
        if (p)
            pending_step(p, rc);
    }
}

/* ---- the rule set ---- */

static void replace_str(char **s, const char *old_url, const char *new_url)
{
    char *n;
    if (strcmp(*s, old_url) == 0 && (n = strdup(new_url))) {
        free(*s);
        *s = n;
    }
}

void rss_autodl_feed_url_changed(struct rss_autodl *a, const char *old_url, const char *new_url)
{
    for (size_t i = 0; i < a->n; i++) {
        struct rss_rule *r = a->rules[i];
        ssize_t k = strv_find(&r->feeds, old_url, false);
        if (k < 0)
            continue;
        replace_str(&r->feeds.v[k], old_url, new_url);
        store_rule(a, r->name, r, NULL);
    }
    for (struct job *j = a->head; j; j = j->next)
        replace_str(&j->feed_url, old_url, new_url);
    for (struct waiting *w = a->waiting; w; w = w->next)
        replace_str(&w->feed_url, old_url, new_url);
}

/* sortRules, stable: equal priorities keep their order. */
static void sort_rules(struct rss_autodl *a)
{
    for (size_t i = 1; i < a->n; i++) {
        struct rss_rule *r = a->rules[i];
        size_t j = i;
        for (; j > 0 && a->rules[j - 1]->priority > r->priority; j--)
            a->rules[j] = a->rules[j - 1];
        a->rules[j] = r;
    }
}

static ssize_t index_of(const struct rss_autodl *a, const char *name)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->rules[i]->name, name) == 0)
            return (ssize_t)i;
    return -1;
}

static int append_rule(struct rss_autodl *a, struct rss_rule *r)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        struct rss_rule **v = realloc(a->rules, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        a->rules = v;
        a->cap = cap;
    }
    a->rules[a->n++] = r;
    return 0;
}

size_t rss_autodl_count(const struct rss_autodl *a)
{
    return a->n;
}

struct rss_rule *rss_autodl_rule_at(const struct rss_autodl *a, size_t i)
{
    return i < a->n ? a->rules[i] : NULL;
}

struct rss_rule *rss_autodl_find(const struct rss_autodl *a, const char *name)
{
    ssize_t i = index_of(a, name);
    return i < 0 ? NULL : a->rules[i];
}

int rss_autodl_set_rule(struct rss_autodl *a, struct rss_rule *r, rss_autodl_done_fn done, void *ud)
{
    if (a->store && strlen(r->name) >= STORE_MAX_KEY) {
        rss_rule_free(r);
        return -EINVAL;
    }
    ssize_t i = index_of(a, r->name);
    if (i >= 0 && rss_rule_same(a->rules[i], r)) {
        rss_rule_free(r);
        if (done)
            done(ud, 0);
        return 0;
    }
    struct pending *p = pending_new(done, ud);
    if (!p || (i < 0 && append_rule(a, r) != 0)) {
        free(p);
        rss_rule_free(r);
        return -ENOMEM;
    }
    if (i >= 0) {
        rss_rule_free(a->rules[i]);
        a->rules[i] = r;
    }
    sort_rules(a);
    store_rule(a, r->name, r, p);
    reset_queue(a);
    pending_step(p, 0);
    return 0;
}

int rss_autodl_rename_rule(struct rss_autodl *a, const char *name, const char *new_name, rss_autodl_done_fn done,
                           void *ud)
{
    ssize_t i = index_of(a, name);
    if (i < 0)
        return -ENOENT;
    if (index_of(a, new_name) >= 0)
        return -EEXIST;
    if (a->store && strlen(new_name) >= STORE_MAX_KEY)
        return -EINVAL;
    char *nn = strdup(new_name), *old = strdup(name);
    struct pending *p = pending_new(done, ud);
    if (!nn || !old || !p) {
        free(nn);
        free(old);
        free(p);
        return -ENOMEM;
    }
    struct rss_rule *r = a->rules[i];
    free(r->name);
    r->name = nn;
    store_rule(a, old, NULL, p);
    store_rule(a, nn, r, p);
    free(old);
    pending_step(p, 0);
    return 0;
}

int rss_autodl_clone_rule(struct rss_autodl *a, const char *name, const char *clone_name, rss_autodl_done_fn done,
                          void *ud)
{
    ssize_t i = index_of(a, name);
    if (i < 0)
        return -ENOENT;
    if (index_of(a, clone_name) >= 0)
        return -EEXIST;
    struct rss_rule *c = rss_rule_dup(a->rules[i]);
    char *nn = strdup(clone_name);
    if (!c || !nn) {
        rss_rule_free(c);
        free(nn);
        return -ENOMEM;
    }
    free(c->name);
    c->name = nn;
    /* Disabled, to prevent accidental downloads, and with a clean history
     * so that it may match everything the source already had. */
    c->enabled = false;
    strv_clear(&c->episodes);
    c->has_last_match = false;
    c->last_match = 0;
    return rss_autodl_set_rule(a, c, done, ud);
}

int rss_autodl_remove_rule(struct rss_autodl *a, const char *name, rss_autodl_done_fn done, void *ud)
{
    ssize_t i = index_of(a, name);
    if (i < 0)
        return -ENOENT;
    struct pending *p = pending_new(done, ud);
    if (!p)
        return -ENOMEM;
    struct rss_rule *r = a->rules[i];
    memmove(&a->rules[i], &a->rules[i + 1], (a->n - (size_t)i - 1) * sizeof *a->rules);
    a->n--;
    store_rule(a, r->name, NULL, p);
    rss_rule_free(r);
    pending_step(p, 0);
    return 0;
}

json_t *rss_autodl_rules_json(const struct rss_autodl *a)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < a->n; i++) {
        json_t *j = rss_rule_to_json(a->rules[i]);
        if (!j || json_object_set_new(o, a->rules[i]->name, j) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static struct rss_match_env env_of(const struct rss_autodl *a)
{
    return (struct rss_match_env){a->smart, settings_bool(a->settings, SET_RSS_DOWNLOAD_REPACK_PROPER_EPISODES)};
}

struct matching {
    struct rss_autodl *a;
    struct rss_rule *r;
    json_t *by_url;   /* url -> [name, [titles]] */
    bool oom;
};

static int matching_cb(void *ud, const struct rss_feed_ref *feed, const struct rss_article *art)
{
    struct matching *m = ud;
    if (!feed->url || strv_find(&m->r->feeds, feed->url, false) < 0)
        return 0;
    struct rss_match_env env = env_of(m->a);
    if (!rss_rule_matches(m->r, &env, art->title, art->date, NULL))
        return 0;
    json_t *e = json_object_get(m->by_url, feed->url);
    if (!e) {
        e = json_pack("[s[]]", feed->name ? feed->name : "");
        if (!e || json_object_set_new(m->by_url, feed->url, e) != 0) {
            m->oom = true;
            return -ENOMEM;
        }
    }
    if (json_array_append_new(json_array_get(e, 1), json_string(art->title ? art->title : "")) != 0) {
        m->oom = true;
        return -ENOMEM;
    }
    return 0;
}

json_t *rss_autodl_matching_articles(struct rss_autodl *a, const char *name)
{
    json_t *out = json_object();
    struct rss_rule *r = rss_autodl_find(a, name);
    if (!out || !r || !a->feeds.walk)
        return out;
    struct matching m = {a, r, json_object(), false};
    if (!m.by_url) {
        json_decref(out);
        return NULL;
    }
    a->feeds.walk(a->feeds.ud, matching_cb, &m);
    /* In affectedFeeds order: a later feed of the same name wins, as a
     * QJsonObject insert does. */
    for (size_t i = 0; !m.oom && i < r->feeds.n; i++) {
        json_t *e = json_object_get(m.by_url, r->feeds.v[i]);
        if (e && json_object_set(out, json_string_value(json_array_get(e, 0)), json_array_get(e, 1)) != 0)
            m.oom = true;
    }
    json_decref(m.by_url);
    if (m.oom) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- processing ---- */

static void waiting_unlink(struct waiting *w)
{
    struct waiting **head = w->a ? &w->a->waiting : &orphans;
    if (w->prev)
        w->prev->next = w->next;
    else
        *head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->next = w->prev = NULL;
}

static void waiting_free(struct waiting *w)
{
    free(w->feed_url);
    free(w->id);
    free(w->torrent_url);
    free(w);
}

static void mark_read(struct rss_autodl *a, const char *feed_url, const char *id)
{
    if (a->feeds.mark_read)
        a->feeds.mark_read(a->feeds.ud, feed_url, id);
}

/* handleTorrentAdded (also for a duplicate) / handleAddTorrentFailed. */
static void on_added(void *ud, int rc)
{
    struct waiting *w = ud;
    waiting_unlink(w);
    if (w->a && !w->descriptor && (rc == 0 || rc == -EEXIST))
        mark_read(w->a, w->feed_url, w->id);
    waiting_free(w);
}

/* TorrentDescriptor::parse: a magnet, or a bare v1 info-hash. */
static bool is_descriptor(const char *url)
{
    if (strncasecmp(url, "magnet:", 7) == 0)
        return true;
    size_t n = strlen(url);
    if (n != 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)url[i]))
            return false;
    return true;
}

static void add_for(struct rss_autodl *a, struct rss_rule *r, const struct job *j)
{
    log_msg(LOG_NORMAL, "RSS article '%s' is accepted by rule '%s'. Trying to add torrent...", j->title, r->name);
    if (!a->add)
        return;
    struct waiting *w = calloc(1, sizeof *w);
    if (!w || !(w->feed_url = strdup(j->feed_url)) || !(w->id = strdup(j->id)) ||
        !(w->torrent_url = strdup(j->torrent_url))) {
        if (w)
            waiting_free(w);
        return;
    }
    w->a = a;
    w->descriptor = is_descriptor(j->torrent_url);
    w->next = a->waiting;
    if (a->waiting)
        a->waiting->prev = w;
    a->waiting = w;
    bool descriptor = w->descriptor;
    int rc = a->add(a->add_ud, j->torrent_url, &r->tp, on_added, w);
    if (rc != 0) {
        waiting_unlink(w);
        if (rc == -EEXIST && !descriptor)
            mark_read(a, j->feed_url, j->id);
        else if (rc != -EEXIST)
            log_msg(LOG_WARNING, "RSS auto-downloader: could not add '%s': %s", j->torrent_url, strerror(-rc));
        waiting_free(w);
    }
    /* A magnet is read as soon as it is handed over (qBittorrent's
     * TorrentDescriptor case), whatever comes of the add. */
    if (descriptor)
        mark_read(a, j->feed_url, j->id);
}

/* processJob. */
static void process_job(struct rss_autodl *a, const struct job *j)
{
    struct rss_match_env env = env_of(a);
    for (size_t i = 0; i < a->n; i++) {
        struct rss_rule *r = a->rules[i];
        if (!r->enabled || strv_find(&r->feeds, j->feed_url, false) < 0)
            continue;
        if (rss_rule_accept(r, &env, j->title, j->date) != 1)
            continue;
        store_rule(a, r->name, r, NULL);
        add_for(a, r, j);
        return;
    }
}

void rss_autodl_process(struct rss_autodl *a)
{
    /* Off: the queue was dropped when it was switched off; jobs queued
     * before are not run. */
    while (a->enabled && a->head) {
        struct job *j = a->head;
        a->head = j->next;
        if (!a->head)
            a->tail = NULL;
        process_job(a, j);
        job_free(j);
    }
    queue_clear(a);
}

/* ---- settings ---- */

static void rebuild_smart(struct rss_autodl *a)
{
    struct rss_smart_filter *f;
    if (rss_smart_filter_new(settings_str(a->settings, SET_RSS_SMART_EPISODE_FILTERS), &f) != 0) {
        log_msg(LOG_WARNING, "RSS auto-downloader: out of memory compiling the smart episode filters");
        return;
    }
    rss_smart_filter_free(a->smart);
    a->smart = f;
}

static void on_settings(void *ud, const struct settings_mask *changed)
{
    struct rss_autodl *a = ud;
    if (settings_mask_has(changed, SET_RSS_SMART_EPISODE_FILTERS))
        rebuild_smart(a);
    bool on = settings_bool(a->settings, SET_RSS_AUTO_DOWNLOADING_ENABLED);
    if (on == a->enabled)
        return;
    a->enabled = on;
    /* setProcessingEnabled: on = startProcessing (every unread article),
     * off = the queue dropped and new articles ignored. */
    reset_queue(a);
}

/* ---- life ---- */

struct load_ctx {
    struct rss_autodl *a;
    int rc;
};

static int load_row(void *ud, const char *key, const char *value)
{
    struct load_ctx *l = ud;
    json_error_t e;
    json_t *j = json_loads(value, 0, &e);
    if (!json_is_object(j)) {
        log_msg(LOG_CRITICAL, "Couldn't load RSS AutoDownloader rules. Reason: %s",
                j ? "Invalid data format." : e.text);
        json_decref(j);
        return 0;
    }
    struct rss_rule *r;
    int rc = rss_rule_from_json(j, key, &r);
    json_decref(j);
    if (rc == 0 && (rc = append_rule(l->a, r)) != 0)
        rss_rule_free(r);
    if (rc != 0)
        l->rc = rc;
    return rc;
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void free_rules(struct rss_autodl *a)
{
    for (size_t i = 0; i < a->n; i++)
        rss_rule_free(a->rules[i]);
    free(a->rules);
    a->rules = NULL;
    a->n = a->cap = 0;
}

int rss_autodl_new(const struct rss_autodl_config *c, struct rss_autodl **out)
{
    *out = NULL;
    struct rss_autodl *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    a->loop = c->loop;
    a->store = c->store;
    a->settings = c->settings;
    a->feeds = c->feeds;
    a->add = c->add;
    a->add_ud = c->add_ud;
    a->enabled = settings_bool(a->settings, SET_RSS_AUTO_DOWNLOADING_ENABLED);
    int rc = rss_smart_filter_new(settings_str(a->settings, SET_RSS_SMART_EPISODE_FILTERS), &a->smart);
    if (rc == 0 && a->store) {
        struct load_ctx l = {a, 0};
        store_load_kv(a->store, RULES_NS, load_row, &l);
        rc = l.rc;
    }
    if (rc == 0)
        rc = settings_add_hook(a->settings, SG_RSS_AUTODL, on_settings, a);
    if (rc != 0) {
        free_rules(a);
        rss_smart_filter_free(a->smart);
        free(a);
        return rc;
    }
    sort_rules(a);
    uv_timer_init(a->loop, &a->timer);
    a->timer.data = a;
    reset_queue(a);
    *out = a;
    return 0;
}

void rss_autodl_free(struct rss_autodl *a)
{
    if (!a)
        return;
    settings_remove_hook(a->settings, on_settings, a);
    queue_clear(a);
    /* Adds in flight report to nobody now; their records wait among the
     * orphans for their callback. */
    while (a->waiting) {
        struct waiting *w = a->waiting;
        waiting_unlink(w);
        w->a = NULL;
        w->next = orphans;
        if (orphans)
            orphans->prev = w;
        orphans = w;
    }
    free_rules(a);
    rss_smart_filter_free(a->smart);
    a->smart = NULL;
    uv_timer_stop(&a->timer);
    uv_close((uv_handle_t *)&a->timer, on_closed);
}

/* ---- the core's add path ---- */

static enum torrent_share_action share_action(enum rss_share_action x)
{
    switch (x) {
    case RSS_SHARE_STOP:
        return TORRENT_SHARE_STOP;
    case RSS_SHARE_REMOVE:
        return TORRENT_SHARE_REMOVE;
    case RSS_SHARE_REMOVE_WITH_CONTENT:
        return TORRENT_SHARE_REMOVE_WITH_CONTENT;
    case RSS_SHARE_SUPER_SEED:
        return TORRENT_SHARE_SUPER_SEED;
    default:
        return TORRENT_SHARE_DEFAULT;
    }
}

static char *join_tags(const struct strv *tags)
{
    size_t len = 1;
    for (size_t i = 0; i < tags->n; i++)
        len += strlen(tags->v[i]) + 1;
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    *p = '\0';
    for (size_t i = 0; i < tags->n; i++) {
        if (!*tags->v[i])
            continue;
        if (p != s)
            *p++ = ',';
        size_t n = strlen(tags->v[i]);
        memcpy(p, tags->v[i], n + 1);
        p += n;
    }
    return s;
}

/* The rule's torrentParams over the preferences' defaults, as torrents/add
 * lays its parameters over them (web/api/qbt_v2_torrents.c). */
static int opts_from_params(struct session *s, const struct rss_rule_params *tp, struct service_add_opts *o)
{
    if (service_add_opts_defaults(s, o) != 0)
        return -ENOMEM;
    bool nomem = false;
    if (*tp->save_path)
        nomem |= !(o->save_path = strdup(tp->save_path));
    if (*tp->category)
        nomem |= !(o->category = strdup(tp->category));
    if (tp->tags.n)
        nomem |= !(o->tags = join_tags(&tp->tags));
    if (tp->stopped != RSS_OPT_UNSET)
        o->p.stopped = tp->stopped == RSS_OPT_TRUE;
    if (tp->use_auto_tmm != RSS_OPT_UNSET)
        o->p.auto_tmm = tp->use_auto_tmm == RSS_OPT_TRUE;
    if (tp->add_to_top != RSS_OPT_UNSET)
        o->p.top_of_queue = tp->add_to_top == RSS_OPT_TRUE;
    if (tp->stop_condition != RSS_STOP_UNSET)
        o->p.stop_condition = (enum torrent_stop_condition)tp->stop_condition;
    if (tp->layout != RSS_LAYOUT_UNSET)
        o->p.layout = (enum torrent_layout)tp->layout;
    o->p.forced = tp->forced;
    o->p.skip_checking = tp->skip_checking;
    o->p.up_limit = tp->upload_limit;
    o->p.dl_limit = tp->download_limit;
    o->p.ratio_limit = tp->ratio_limit;
    o->p.seeding_time_limit = tp->seeding_time_limit;
    o->p.inactive_seeding_time_limit = tp->inactive_seeding_time_limit;
    o->p.share_limit_action = share_action(tp->share_action);
    /* The incomplete folder: a download path implies use_download_path;
     * false means none; true without a path is the temp_path preference. */
    if (tp->use_download_path != RSS_OPT_UNSET || *tp->download_path) {
        free(o->download_path);
        o->download_path = NULL;
        const char *path = *tp->download_path ? tp->download_path : settings_str(&s->settings, SET_TEMP_PATH);
        if (tp->use_download_path != RSS_OPT_FALSE && *path)
            nomem |= !(o->download_path = strdup(path));
    }
    o->p.data_in_download_path = o->download_path && !o->p.skip_checking;
    if (*tp->ssl_certificate && *tp->ssl_private_key && *tp->ssl_dh_params) {
        nomem |= !(o->ssl[0] = strdup(tp->ssl_certificate));
        nomem |= !(o->ssl[1] = strdup(tp->ssl_private_key));
        nomem |= !(o->ssl[2] = strdup(tp->ssl_dh_params));
    }
    if (nomem || service_add_opts_resolve(s, o) != 0) {
        service_add_opts_free(o);
        return -ENOMEM;
    }
    return 0;
}

struct core_add {
    rss_autodl_added_fn done;
    void *ud;
};

static void core_added(void *ud, int rc, struct torrent *t)
{
    (void)t;
    struct core_add *c = ud;
    c->done(c->ud, rc);
    free(c);
}

int rss_autodl_add_core(void *session, const char *torrent_url, const struct rss_rule_params *tp,
                        rss_autodl_added_fn done, void *done_ud)
{
    struct session *s = session;
    bool http = strncasecmp(torrent_url, "http://", 7) == 0 || strncasecmp(torrent_url, "https://", 8) == 0;
    if (!http && !is_descriptor(torrent_url) && strlen(torrent_url) != 32)
        return -EINVAL;
    struct service_add_opts o;
    if (opts_from_params(s, tp, &o) != 0)
        return -ENOMEM;
    struct core_add *c = malloc(sizeof *c);
    if (!c) {
        service_add_opts_free(&o);
        return -ENOMEM;
    }
    c->done = done;
    c->ud = done_ud;
    int rc = http ? service_add_url(s, torrent_url, &o, core_added, c) : service_add_uri(s, torrent_url, &o, core_added, c);
    service_add_opts_free(&o);
    if (rc != 0)
        free(c);
    return rc;
}
