/* rss/rule — one RSS auto-download rule as qBittorrent keeps it: its JSON
 * (rss/setRule's ruleDef, rss/rules' objects, the store row) and the pure
 * matcher that decides whether an article title is for it.
 *
 * The behaviour is qBittorrent's rss_autodownloadrule.cpp
 * (../shared/docs/clients-wave2.md §3.2–§3.3, outside the repository),
 * the JSON as 5.1.4 writes it (torrentd speaks WebAPI 2.11.4: torrentParams
 * has skip_checking, not master's seed_mode and share_limits_mode), the
 * smart filter as 5.2+ (an unrecognised episode is not accepted; 5.1
 * accepted it):
 *  - parsing is lenient as Qt's QJsonValue getters are: a key of the wrong
 *    type is its default; enabled defaults to true; affectedFeeds and
 *    previouslyMatchedEpisodes may be a string or an array; torrentParams,
 *    when present, wins over the 4.5 keys savePath, assignedCategory,
 *    addPaused, torrentContentLayout and createSubfolder;
 *  - serializing gives toJsonObject's key set, with null for an unset
 *    addPaused/torrentContentLayout and the enum names (the web layer sorts
 *    keys, as QJsonObject does);
 *  - matching runs ignoreDays, mustContain, mustNotContain, episodeFilter,
 *    smartFilter in that order; mustContain/mustNotContain are one PCRE2
 *    regex (useRegex) or '|'-separated alternatives of whitespace-separated
 *    wildcard tokens, all case-insensitive and unanchored.
 *
 * Regexes are compiled once per rule and kept in a bounded cache (dropped
 * whenever the rule's expressions change: the rule is replaced as a whole),
 * and every match runs under a PCRE2 match limit, so a hostile pattern or
 * title costs bounded time.  Not thread-safe (the loop thread owns rules).
 */
#ifndef TD_RSS_RULE_H
#define TD_RSS_RULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/strv.h"

/* A tri-state of qBittorrent's std::optional<bool>. */
enum rss_opt { RSS_OPT_UNSET = -1, RSS_OPT_FALSE = 0, RSS_OPT_TRUE = 1 };

/* qBittorrent's enums by their values; names in rule.c. */
enum rss_layout { RSS_LAYOUT_UNSET = -1, RSS_LAYOUT_ORIGINAL, RSS_LAYOUT_SUBFOLDER, RSS_LAYOUT_NOSUBFOLDER };
enum rss_stop_cond { RSS_STOP_UNSET = -1, RSS_STOP_NONE, RSS_STOP_METADATA, RSS_STOP_CHECKED };
enum rss_share_action {
    RSS_SHARE_DEFAULT = -1, RSS_SHARE_STOP = 0, RSS_SHARE_REMOVE = 1, RSS_SHARE_SUPER_SEED = 2,
    RSS_SHARE_REMOVE_WITH_CONTENT = 3,
};

/* The rule's torrentParams (qBittorrent's AddTorrentParams as a rule keeps
 * them).  Strings are owned and never NULL. */
struct rss_rule_params {
    char *category;
    struct strv tags;              /* trimmed, no empty ones, natural order, no duplicates */
    char *save_path, *download_path;
    bool forced;                   /* operating_mode "Forced" (else "AutoManaged") */
    bool skip_checking;            /* skip_checking (master's seed_mode read too) */
    enum rss_opt add_to_top, stopped, use_auto_tmm, use_download_path;
    enum rss_stop_cond stop_condition;
    enum rss_layout layout;
    int upload_limit, download_limit;          /* B/s, -1 = none */
    double ratio_limit;                        /* -2 = global */
    int seeding_time_limit, inactive_seeding_time_limit;   /* minutes, -2 = global */
    enum rss_share_action share_action;
    char *ssl_certificate, *ssl_private_key, *ssl_dh_params;
};

struct rss_rule_cache;

struct rss_rule {
    char *name;
    bool enabled;
    int priority;
    bool use_regex;
    char *must_contain, *must_not_contain;   /* as qBittorrent gives them back ("" = none) */
    char *episode_filter;
    struct strv feeds;                       /* affectedFeeds: feed URLs */
    bool has_last_match;
    int64_t last_match;                      /* Unix seconds, when has_last_match */
    int ignore_days;
    bool smart_filter;
    struct strv episodes;                    /* previouslyMatchedEpisodes */
    struct rss_rule_params tp;
    struct rss_rule_cache *cache;            /* private: compiled regexes */
};

/* The smart episode filter regex, built from the preference
 * rss_smart_episode_filters (newline-separated patterns, empty lines
 * skipped) as (?:_|\b)(?:F1|F2|...)(?:_|\b), case-insensitive, extended
 * syntax, Unicode properties.  -ENOMEM; a pattern that does not compile
 * gives a filter that matches nothing (qBittorrent's invalid regex). */
struct rss_smart_filter;
int rss_smart_filter_new(const char *filters, struct rss_smart_filter **out);
void rss_smart_filter_free(struct rss_smart_filter *f);
/* The episode key of a title ("1x5", "2017.01.01"): the non-empty captures,
 * integers normalised ("05" → "5"), joined with 'x'.  A malloc'd string,
 * "" when the title has none; NULL on -ENOMEM. */
char *rss_smart_filter_episode(const struct rss_smart_filter *f, const char *title);

/* What a match needs besides the rule: the daemon's preferences. */
struct rss_match_env {
    const struct rss_smart_filter *smart;   /* NULL = no smart filter compiled: smartFilter rules match nothing */
    bool download_repacks;                  /* rss_download_repack_proper_episodes */
};

/* A rule with qBittorrent's defaults (enabled, everything else empty or
 * "global").  NULL on -ENOMEM. */
struct rss_rule *rss_rule_new(const char *name);
void rss_rule_free(struct rss_rule *r);
/* A deep copy (the regex cache is not shared); NULL on -ENOMEM. */
struct rss_rule *rss_rule_dup(const struct rss_rule *r);

/* fromJsonObject: a rule from v (any JSON value: a non-object is read as
 * {}), named `name`, or v's "name" when name is NULL or "".  0 or -ENOMEM. */
int rss_rule_from_json(const json_t *v, const char *name, struct rss_rule **out);
/* toJsonObject: a new object (NULL on -ENOMEM).  The name is not in it. */
json_t *rss_rule_to_json(const struct rss_rule *r);
/* qBittorrent's rule equality: everything but previouslyMatchedEpisodes
 * (setRule with only that changed is no change). */
bool rss_rule_same(const struct rss_rule *a, const struct rss_rule *b);

/* RFC 2822 date text as Qt writes it ("07 Dec 2026 19:32:18 +0000": no
 * day name; qbittorrent-nox 4.5.2 answers lastMatch so),
 * UTC; buf of at least 32 bytes.  And the lenient reverse: false when s is
 * no date. */
void rss_rule_format_date(int64_t t, char *buf, size_t len);
bool rss_rule_parse_date(const char *s, int64_t *out);

/* matches(): whether the article (title, date in Unix seconds) is for the
 * rule, without side effects on what the rule says (matchingArticles).
 * When episodes is not NULL it receives the episode keys accept() would
 * record (cleared first).  -ENOMEM is reported as no match. */
bool rss_rule_matches(struct rss_rule *r, const struct rss_match_env *env, const char *title, int64_t date,
                      struct strv *episodes);
/* accepts(): matches(), and on a match sets lastMatch to date and appends
 * the episode keys to previouslyMatchedEpisodes.  1 accepted, 0 not,
 * -ENOMEM (the rule unchanged). */
int rss_rule_accept(struct rss_rule *r, const struct rss_match_env *env, const char *title, int64_t date);

#endif
