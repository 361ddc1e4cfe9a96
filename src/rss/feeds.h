/* rss/feeds — qBittorrent's RSS session without the rules: the tree of
 * folders and feeds, their articles, and the refreshes that fetch them
 * (../shared/docs/clients-wave2.md §3.1 and §3.4, outside the repository;
 * qBittorrent's rss_session.cpp, rss_feed.cpp, rss_folder.cpp).
 *
 * The tree: items named by paths whose separator is '\' ("Linux\Debian");
 * the root is "".  A folder holds items; a feed has a uid
 * ("{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}"), a URL (unique), a refresh
 * interval in seconds (0 = rss_refresh_interval's minutes), a title and
 * lastBuildDate from its last fetch, and its articles, newest first, at
 * most rss_max_articles_per_feed, deduplicated by their id
 * (rss/article.h), each read or not.  A feed added without a name is named
 * by its URL and renamed to its title once fetched (qBittorrent's rule).
 *
 * Refreshing: with rss_processing_enabled, a timer refreshes every feed
 * whose interval has passed; refreshItem refreshes at once (also when
 * processing is off, as qBittorrent does).  Fetches go through the
 * session's util/fetch on the loop with its cookie jar, follow redirects,
 * stop at FEEDPARSE_MAX_DOC bytes and RSS_FEEDS_TIMEOUT_MS, and are
 * sequential per host:port with rss_fetch_delay seconds between two
 * (qBittorrent's sequential download service).  Each refresh logs
 * qBittorrent's lines: "RSS feed at '%1' updated. Added %2 new articles."
 * (normal) or "Failed to download RSS feed at '%1'. Reason: %2" (warning).
 *
 * Storage (SQLite through store/store.h, never JSON files): the tree is one
 * row, kv namespace "rss" key "feeds", in qBittorrent's feeds.json shape;
 * each feed's title, lastBuildDate and articles are one row of namespace
 * "rss_articles" keyed by the feed's uid.  Every change made through this
 * API is in memory at once and its `done` callback runs after the rows it
 * touched are committed, so an API reply sent from `done` survives kill -9.
 *
 * Errors: the changing calls return 0 (done will run exactly once) or a
 * negative errno with qBittorrent's message for the 409 in err (done will
 * not run): -EINVAL (bad path, negative interval), -EEXIST (the path or URL
 * exists), -ENOENT (no such item, no parent folder), -ELOOP (a folder into
 * itself), -EPERM (the root), -ENOMEM, or the store's enqueue error.
 *
 * Loop thread only.
 */
#ifndef TD_RSS_FEEDS_H
#define TD_RSS_FEEDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rss/article.h"

struct session;
struct rss_feeds;

#define RSS_FEEDS_TIMEOUT_MS 60000

struct rss_feeds_config {
    int64_t refresh_interval_min;   /* rss_refresh_interval; < 1 counts as 1 */
    int64_t fetch_delay_s;          /* rss_fetch_delay; < 0 counts as 0 */
    int64_t max_articles;           /* rss_max_articles_per_feed; < 1 counts as 1 */
    bool processing;                /* rss_processing_enabled */
};

/* Loads the tree and articles from s->store and, with processing on,
 * starts refreshing.  0, -ENOMEM.  A row that does not load is logged and
 * skipped, as qBittorrent skips a bad feeds.json entry. */
int rss_feeds_new(struct session *s, const struct rss_feeds_config *c, struct rss_feeds **out);
/* Cancels the fetches and timers; the memory goes once the loop has closed
 * the timers and the store has answered every job queued for it (so call it
 * before the session closes its store).  NULL is a no-op. */
void rss_feeds_free(struct rss_feeds *f);
/* New settings: a shorter interval or processing switched on refreshes
 * what is due; processing off stops the timer (fetches in flight finish);
 * fewer max articles drops the oldest (stored at the next change). */
void rss_feeds_configure(struct rss_feeds *f, const struct rss_feeds_config *c);

typedef void (*rss_feeds_done_fn)(void *ud, int rc);

int rss_feeds_add_folder(struct rss_feeds *f, const char *path, char *err, size_t errlen, rss_feeds_done_fn done,
                         void *ud);
/* path "" = the URL (qBittorrent's addFeed with an empty path);
 * refresh_s < 0 counts as 0. */
int rss_feeds_add_feed(struct rss_feeds *f, const char *url, const char *path, int64_t refresh_s, char *err,
                       size_t errlen, rss_feeds_done_fn done, void *ud);
/* A feed still named by its old URL is renamed to the new one. */
int rss_feeds_set_url(struct rss_feeds *f, const char *path, const char *url, char *err, size_t errlen,
                      rss_feeds_done_fn done, void *ud);
int rss_feeds_set_refresh_interval(struct rss_feeds *f, const char *path, int64_t refresh_s, char *err,
                                   size_t errlen, rss_feeds_done_fn done, void *ud);
int rss_feeds_remove(struct rss_feeds *f, const char *path, char *err, size_t errlen, rss_feeds_done_fn done,
                     void *ud);
int rss_feeds_move(struct rss_feeds *f, const char *item_path, const char *dest_path, char *err, size_t errlen,
                   rss_feeds_done_fn done, void *ud);
/* markAsRead: article_id NULL marks every article of the item (a folder:
 * of every feed below it).  An unknown item or article changes nothing and
 * is no error (qBittorrent answers 200). */
int rss_feeds_mark_item_read(struct rss_feeds *f, const char *item_path, const char *article_id,
                             rss_feeds_done_fn done, void *ud);
/* refreshItem: the feed, or every feed below a folder ("" = all), now.
 * 0, or -ENOENT for an unknown path (qBittorrent ignores it: 200). */
int rss_feeds_refresh_item(struct rss_feeds *f, const char *item_path);

/* rss/items: {name: folder object | feed object}, feeds as
 * {"uid","url"[,"refreshInterval"]} and with_data adding "title",
 * "lastBuildDate", "isLoading", "hasError" and "articles" (newest first;
 * each its stored keys, "date" as RFC 2822, "isRead" only once read).
 * A new reference, NULL on ENOMEM. */
json_t *rss_feeds_json(struct rss_feeds *f, bool with_data);

/* ---- for the auto-downloader (rss/autodl) ---- */

/* Every article of every feed, feeds in tree order (each folder's items by
 * name, depth first), articles newest first.  0 or fn's nonzero value. */
int rss_feeds_walk(struct rss_feeds *f, rss_article_fn fn, void *ud);
/* Marks one article read and stores it (no callback).  0, -ENOENT. */
int rss_feeds_mark_read(struct rss_feeds *f, const char *feed_url, const char *article_id);
typedef void (*rss_feeds_new_fn)(void *ud, const struct rss_feed_ref *feed, const struct rss_article *a);
/* One subscriber (a second call replaces it; fn NULL removes it): called
 * for each article a refresh added, once the refresh's rows are committed,
 * oldest first. */
void rss_feeds_on_new_article(struct rss_feeds *f, rss_feeds_new_fn fn, void *ud);

/* One subscriber (as above): called when setFeedURL changed a feed's URL,
 * at once (qBittorrent's feedURLChanged: rules follow the feed). */
typedef void (*rss_feeds_url_fn)(void *ud, const char *old_url, const char *new_url);
void rss_feeds_on_url_changed(struct rss_feeds *f, rss_feeds_url_fn fn, void *ud);

/* ---- for the µTorrent dialect (web/api/ut_gui_rss.c) ---- */

/* What µTorrent's feed row shows besides the tree and the articles: the
 * feed's refresh state without copying its articles (rss_feeds_json with
 * data would copy every article on each list=1 poll). */
struct rss_feed_state {
    const char *title;       /* "" before the first fetch; valid until the next change */
    int64_t next_refresh;    /* Unix seconds of the next scheduled refresh; 0 = none scheduled
                              * (processing off) or due now */
    bool loading, has_error;
};
/* The state of the feed with that URL.  0, -ENOENT. */
int rss_feeds_feed_state(struct rss_feeds *f, const char *feed_url, struct rss_feed_state *out);

#endif
