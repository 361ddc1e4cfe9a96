/* rss/autodl — the RSS auto-downloader: the rule set in priority order,
 * persisted in the store, and qBittorrent's processing of articles
 * (rss_autodownloader.cpp, master 0402289; ../shared/docs/clients-wave2.md
 * §3.2–§3.3, outside the repository):
 *  - an unread article with a torrent URL is queued when it arrives
 *    (rss_autodl_on_new_article, the feeds' new-article hook), and every
 *    unread article is queued again when a rule is added or changed, or
 *    when rss_auto_downloading_enabled is switched on; with it off nothing
 *    is queued and the queue is dropped;
 *  - a queued article (processed from a 0 ms timer, never inside the
 *    feeds' own call) goes to the first enabled rule, in priority order,
 *    whose affectedFeeds hold the feed's URL and which accepts it
 *    (rss/rule.h: lastMatch and previouslyMatchedEpisodes change and are
 *    stored); the torrent is added with the rule's torrentParams through
 *    the add function (the core's one add path in the daemon), and the
 *    article is marked read once the torrent is added or found already
 *    there (a magnet at once), as qBittorrent does;
 *  - it logs "RSS article '%1' is accepted by rule '%2'. Trying to add
 *    torrent..." (normal level), qBittorrent 5.1's line.
 *
 * The feeds module is reached only through struct rss_autodl_feeds (its
 * walk and mark-read functions), so tests drive this with a fake feed list.
 * Loop thread only.
 */
#ifndef TD_RSS_AUTODL_H
#define TD_RSS_AUTODL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "rss/article.h"
#include "rss/rule.h"

struct settings;
struct store;
struct session;

/* The feeds as the auto-downloader sees them (feeds.h's rss_feeds_walk and
 * rss_feeds_mark_read with their struct rss_feeds as ud). */
struct rss_autodl_feeds {
    int (*walk)(void *ud, rss_article_fn fn, void *fn_ud);   /* every article, feeds in tree order, newest first */
    int (*mark_read)(void *ud, const char *feed_url, const char *article_id);
    void *ud;
};

/* Adds the torrent behind an accepted article with the rule's parameters.
 * 0 = started: done(done_ud, rc) then runs exactly once, now or later, rc 0
 * added, -EEXIST already there, else failed.  A negative return: nothing
 * started, done does not run (-EEXIST: already there). */
typedef void (*rss_autodl_added_fn)(void *done_ud, int rc);
typedef int (*rss_autodl_add_fn)(void *ud, const char *torrent_url, const struct rss_rule_params *tp,
                                 rss_autodl_added_fn done, void *done_ud);

/* The core's add path as an rss_autodl_add_fn (ud: the struct session):
 * the preferences' defaults (service_add_opts_defaults) with the rule's
 * torrentParams on top, resolved by the service; a magnet or bare info-hash
 * through service_add_uri, an http(s) URL through service_add_url; anything
 * else -EINVAL. */
int rss_autodl_add_core(void *session, const char *torrent_url, const struct rss_rule_params *tp,
                        rss_autodl_added_fn done, void *done_ud);

struct rss_autodl_config {
    uv_loop_t *loop;
    struct store *store;          /* rule rows (namespace "rss_rules", key = name); NULL = none kept */
    struct settings *settings;    /* rss_auto_downloading_enabled & co., read live; a hook is registered */
    struct rss_autodl_feeds feeds;
    rss_autodl_add_fn add;
    void *add_ud;
};

struct rss_autodl;

/* Loads the stored rules (a row that is no JSON object is logged and
 * skipped) and, when auto-downloading is on, queues the unread articles.
 * 0, -ENOMEM or -ENOSPC (no settings hook slot left). */
int rss_autodl_new(const struct rss_autodl_config *c, struct rss_autodl **out);
/* Stops processing and closes the timer; the memory goes when the loop has
 * run the close callback.  Adds still in flight finish without touching it
 * (their articles stay unread, as after a restart). */
void rss_autodl_free(struct rss_autodl *a);

/* The feeds' new-article hook (feeds.h rss_feeds_new_fn; ud: the autodl). */
void rss_autodl_on_new_article(void *autodl, const struct rss_feed_ref *feed, const struct rss_article *art);

/* A feed's URL changed (rss/setFeedURL): the rules that named the old URL
 * name the new one (stored), and so do queued articles and adds in flight,
 * as qBittorrent's handleFeedURLChanged does. */
void rss_autodl_feed_url_changed(struct rss_autodl *a, const char *old_url, const char *new_url);

/* ---- the rule set ---- */

/* Completion of a change: rc 0 once the store committed it (at once
 * without a store), else the store's error. */
typedef void (*rss_autodl_done_fn)(void *ud, int rc);

size_t rss_autodl_count(const struct rss_autodl *a);
/* The i-th rule in priority order (ascending; equal priorities keep the
 * order in which they came), or NULL. */
struct rss_rule *rss_autodl_rule_at(const struct rss_autodl *a, size_t i);
struct rss_rule *rss_autodl_find(const struct rss_autodl *a, const char *name);

/* setRule: adds r, or replaces the rule of that name (takes r in any case).
 * A new or changed rule re-queues the unread articles; a rule equal to the
 * present one but for previouslyMatchedEpisodes changes nothing (done(0)
 * at once).  0 (done will run) or -ENOMEM/-EINVAL (done will not). */
int rss_autodl_set_rule(struct rss_autodl *a, struct rss_rule *r, rss_autodl_done_fn done, void *ud);
/* renameRule / cloneRule (the clone disabled, with no previously matched
 * episodes and no lastMatch) / removeRule.  -ENOENT no such rule, -EEXIST
 * the new name is taken: nothing changes, done does not run (qBittorrent's
 * WebUI answers these 200 all the same). */
int rss_autodl_rename_rule(struct rss_autodl *a, const char *name, const char *new_name, rss_autodl_done_fn done,
                           void *ud);
int rss_autodl_clone_rule(struct rss_autodl *a, const char *name, const char *clone_name, rss_autodl_done_fn done,
                          void *ud);
int rss_autodl_remove_rule(struct rss_autodl *a, const char *name, rss_autodl_done_fn done, void *ud);

/* rss/rules: {name: toJsonObject}; NULL on -ENOMEM. */
json_t *rss_autodl_rules_json(const struct rss_autodl *a);
/* rss/matchingArticles: {"<feed name>": [titles, newest first]} for the
 * feeds of the rule's affectedFeeds that have a match (matches() only, no
 * side effects); {} for an unknown rule.  NULL on -ENOMEM. */
json_t *rss_autodl_matching_articles(struct rss_autodl *a, const char *name);

/* Runs the queued articles now (tests; the timer does it otherwise). */
void rss_autodl_process(struct rss_autodl *a);

#endif
