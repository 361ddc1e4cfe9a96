/* rss — see rss.h. */
#include "rss/rss.h"

#include <errno.h>
#include <stdlib.h>

#include "core/session.h"
#include "core/settings.h"
#include "rss/autodl.h"
#include "rss/feeds.h"

struct rss {
    struct session *s;
    struct rss_feeds *feeds;
    struct rss_autodl *autodl;
};

static void read_config(const struct settings *st, struct rss_feeds_config *c)
{
    c->refresh_interval_min = settings_int(st, SET_RSS_REFRESH_INTERVAL);
    c->fetch_delay_s = settings_int(st, SET_RSS_FETCH_DELAY);
    c->max_articles = settings_int(st, SET_RSS_MAX_ARTICLES_PER_FEED);
    c->processing = settings_bool(st, SET_RSS_PROCESSING_ENABLED);
}

/* The running module the settings hook serves (one session per process):
 * the settings keep their hooks until they are freed, longer than r. */
static struct rss *live;

static void on_settings(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    (void)ud;
    struct rss *r = live;
    if (!r || !r->feeds)
        return;
    struct rss_feeds_config c;
    read_config(&r->s->settings, &c);
    rss_feeds_configure(r->feeds, &c);
}

/* The feeds as the auto-downloader reaches them (rss/autodl.h). */
static int feeds_walk(void *ud, rss_article_fn fn, void *fn_ud)
{
    return rss_feeds_walk(ud, fn, fn_ud);
}

static int feeds_mark_read(void *ud, const char *feed_url, const char *article_id)
{
    return rss_feeds_mark_read(ud, feed_url, article_id);
}

static void feed_url_changed(void *ud, const char *old_url, const char *new_url)
{
    rss_autodl_feed_url_changed(ud, old_url, new_url);
}

static int start_autodl(struct rss *r)
{
    struct session *s = r->s;
    struct rss_autodl_config c = {
        .loop = s->loop, .store = s->store, .settings = &s->settings,
        .feeds = {feeds_walk, feeds_mark_read, r->feeds},
        .add = rss_autodl_add_core, .add_ud = s,
    };
    int rc = rss_autodl_new(&c, &r->autodl);
    if (rc == 0) {
        rss_feeds_on_new_article(r->feeds, rss_autodl_on_new_article, r->autodl);
        rss_feeds_on_url_changed(r->feeds, feed_url_changed, r->autodl);
    }
    return rc;
}

int rss_start(struct session *s, struct rss **out)
{
    struct rss *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->s = s;
    struct rss_feeds_config c;
    read_config(&s->settings, &c);
    int rc = rss_feeds_new(s, &c, &r->feeds);
    if (rc == 0)
        rc = settings_add_hook(&s->settings, SG_RSS, on_settings, NULL);
    if (rc == 0)
        rc = start_autodl(r);
    if (rc) {
        rss_feeds_free(r->feeds);
        free(r);
        return rc;
    }
    live = r;
    *out = r;
    return 0;
}

void rss_stop(struct rss *r)
{
    if (!r)
        return;
    if (live == r)
        live = NULL;
    if (r->feeds) {
        rss_feeds_on_new_article(r->feeds, NULL, NULL);
        rss_feeds_on_url_changed(r->feeds, NULL, NULL);
    }
    rss_autodl_free(r->autodl);
    rss_feeds_free(r->feeds);
    free(r);
}

struct rss_feeds *rss_feeds(struct rss *r) { return r ? r->feeds : NULL; }
struct rss_autodl *rss_autodl(struct rss *r) { return r ? r->autodl : NULL; }
struct session *rss_session(struct rss *r) { return r ? r->s : NULL; }
