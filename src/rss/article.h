/* rss/article — one feed item as the RSS module keeps it, and the seam
 * between the feeds (which fetch, parse, store and hand out articles) and
 * the auto-downloader (which matches them against rules and adds torrents).
 *
 * The fields are the ones qBittorrent's rules and WebUI read
 * (../shared/docs/clients-wave2.md §3.1 and §3.3, outside the repository);
 * every other element of an item is kept by the feeds module as extra JSON
 * and never reaches the rules.  Strings are NUL-terminated UTF-8 and owned
 * by the feeds module: valid only during the call that hands the article out.
 */
#ifndef TD_RSS_ARTICLE_H
#define TD_RSS_ARTICLE_H

#include <stdbool.h>
#include <stdint.h>

struct rss_article {
    const char *id;           /* guid, else torrent_url, else title; unique in its feed */
    const char *title;        /* "" when the item has none */
    const char *torrent_url;  /* typed enclosure, magnet <link>, untyped enclosure, else link; "" = none */
    const char *link;         /* "" when none */
    int64_t date;             /* Unix seconds; 0 = unknown (qBittorrent then uses the fetch time) */
    bool is_read;
};

/* A feed as the rules see it: affectedFeeds names feeds by URL, and
 * matchingArticles answers by the feed's display name (its item name). */
struct rss_feed_ref {
    const char *url;
    const char *name;
};

/* Called once per article.  Return 0 to go on, anything else to stop
 * (the walk then returns that value). */
typedef int (*rss_article_fn)(void *ud, const struct rss_feed_ref *feed,
                              const struct rss_article *a);

/* The id qBittorrent gives an item (rss_parser.cpp): its guid, else its
 * torrent URL, else its title; an empty string counts as absent.  Returns
 * "" when the item has none of the three (qBittorrent drops such items).
 * Any argument may be NULL. */
const char *rss_article_pick_id(const char *guid, const char *torrent_url, const char *title);

#endif
