/* rss — the RSS module of one session: the feeds (rss/feeds.h) and the
 * auto-downloader (rss/autodl.h, written separately), started after the
 * session and stopped before it closes (main.c).  It follows the rss_*
 * settings: rss_processing_enabled, rss_refresh_interval, rss_fetch_delay
 * and rss_max_articles_per_feed act at once (a settings hook, group
 * SG_RSS).
 */
#ifndef TD_RSS_RSS_H
#define TD_RSS_RSS_H

struct session;
struct rss;
struct rss_feeds;
struct rss_autodl;

/* Loads the feeds from the session's store and starts refreshing them when
 * rss_processing_enabled.  Call after session_new (the store is open) and
 * before session_start or after it.  0 or a negative errno. */
int rss_start(struct session *s, struct rss **out);
/* Cancels the fetches and timers; what is left is freed once the store has
 * answered the jobs queued for it, so call it before session_shutdown.
 * NULL is a no-op. */
void rss_stop(struct rss *r);

struct rss_feeds *rss_feeds(struct rss *r);
/* The auto-downloader (rss/autodl.h), fed by the feeds' new articles. */
struct rss_autodl *rss_autodl(struct rss *r);
struct session *rss_session(struct rss *r);

#endif
