/* rss/feedparse — one fetched RSS 2.0 or Atom document to articles, read
 * the way qBittorrent's RSS parser reads it (rss_parser.cpp; the facts are
 * in ../shared/docs/clients-wave2.md §3.4, outside the repository), with
 * expat instead of Qt's stream reader.
 *
 * What it keeps of an item: id (guid / Atom id, else the torrent URL, else
 * the title; items with none of the three and repeated ids are dropped),
 * title, author, description, link, torrentURL (a typed
 * application/x-bittorrent enclosure or a magnet <link>, else an untyped
 * enclosure, else the link) and every other child element by its local name
 * with its text (child markup dropped, as Qt's IncludeChildElements does).
 * HTML entities (&nbsp; ...) are resolved, as qBittorrent's resolver does.
 * Atom links relative to the root's xml:base are made absolute (qBittorrent
 * prepends xml:base to every link, absolute ones too; we only to relative
 * ones).
 *
 * Bounded: the caller caps the document size (FEEDPARSE_MAX_DOC); nesting
 * deeper than FEEDPARSE_MAX_DEPTH, more than FEEDPARSE_MAX_ELEMENTS
 * elements or one element's text over FEEDPARSE_MAX_TEXT end the parse with
 * an error (the articles completed before it are kept, as qBittorrent keeps
 * what it read before an XML error).  Pure: no I/O, no loop, any thread.
 */
#ifndef TD_RSS_FEEDPARSE_H
#define TD_RSS_FEEDPARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FEEDPARSE_MAX_DOC (16u << 20)
#define FEEDPARSE_MAX_DEPTH 256
#define FEEDPARSE_MAX_ELEMENTS 1000000u
#define FEEDPARSE_MAX_TEXT (4u << 20)

struct feedparse_article {
    /* Every key of the article but "date": "id" and "torrentURL" always
     * (torrentURL is null when the item has neither a torrent URL nor a
     * link, as in qBittorrent), the others when the item had them. */
    json_t *data;
    /* The item's date: has_date false when it had none (or one qBittorrent
     * finds invalid): the feed then dates it (rss/feeds.c).  An unreadable
     * pubDate counts as the parse time, as in qBittorrent. */
    bool has_date;
    int64_t date_ms;   /* Unix milliseconds */
    /* The zone an Atom date was written in, shown back as such (qBittorrent
     * keeps an ISO date's offset; RFC 822 dates become UTC). */
    int date_offset_s;
};

struct feedparse_result {
    char *title;             /* the channel's title; NULL when none */
    char *last_build_date;   /* RSS lastBuildDate / Atom updated, raw; NULL when none */
    /* lastBuildDate equals prev_build_date: the document was not read
     * further (no articles), qBittorrent's shortcut. */
    bool unchanged;
    char error[256];         /* "" = fine; else qBittorrent's kind of message */
    struct feedparse_article *articles;   /* document order */
    size_t n;
};

/* Parses doc[0..len).  prev_build_date: the feed's last known build date
 * (NULL = none); now_ms: the parse time.  0 (the result says how it went,
 * error included) or -ENOMEM / -EINVAL (len over FEEDPARSE_MAX_DOC); *out
 * is always initialised and must be freed with feedparse_result_free. */
int feedparse_parse(const char *doc, size_t len, const char *prev_build_date, int64_t now_ms,
                    struct feedparse_result *out);
void feedparse_result_free(struct feedparse_result *r);

/* qBittorrent's lenient RFC 822/2822 date reader (rss_parser.cpp parseDate,
 * itself from KDE): "Tue, 10 Jun 2003 04:00:00 GMT", "10-Jun-03 04:00 +0200",
 * "Tue Jun 10 04:00:00 2003", named US zones.  0 with *ms set; -EINVAL when
 * the string is not such a date (qBittorrent then uses the parse time);
 * -ERANGE when it looks like one but its zone or offset is bad (qBittorrent
 * then has no date). */
int feedparse_date_rfc822(const char *s, int64_t *ms);
/* ISO 8601 as Qt::ISODate reads it: "2003-12-13T18:30:02Z",
 * "2003-12-13T18:30:02.25+01:00", "2003-12-13" (no zone = UTC).  0 or
 * -EINVAL; *offset_s (may be NULL) gets the written zone offset. */
int feedparse_date_iso8601(const char *s, int64_t *ms, int *offset_s);
/* "07 Dec 2026 19:32:18 +0000": Qt's RFC2822Date output (no weekday, in
 * Qt 5 and 6 alike; qbittorrent-nox 4.5.2 answers so) at the given zone
 * offset; out holds 32. */
void feedparse_date_format(int64_t ms, int offset_s, char out[32]);

#endif
