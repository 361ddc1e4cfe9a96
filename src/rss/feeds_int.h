/* rss/feeds internals shared by feeds.c (tree, API, storage) and
 * feeds_fetch.c (refresh scheduling, fetching, merging articles). */
#ifndef TD_RSS_FEEDS_INT_H
#define TD_RSS_FEEDS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "rss/feedparse.h"
#include "rss/feeds.h"

struct fetch_req;

struct rss_art {
    char *id;
    json_t *data;        /* the stored keys without "date"; "isRead": true once read */
    int64_t date_ms;
    int date_offset_s;   /* zone the date is shown in (feedparse.h) */
    bool is_read;
};

struct rss_node {
    char *name;
    struct rss_node *parent;
    bool is_feed;
    /* folder: children sorted by name */
    struct rss_node **kids;
    size_t nkids;
    /* feed */
    char *uid, *url;
    int64_t refresh_s;           /* 0 = the session's interval */
    char *title, *last_build_date;
    struct rss_art *arts;        /* newest first */
    size_t narts;
    bool loading, has_error;
    int64_t next_refresh_ms;     /* 0 = due */
    bool queued;                 /* waiting in f->queue for its host */
    struct rss_node *qnext;
    struct fetch_req *req;       /* in flight */
    char *req_host;              /* host:port slot the fetch holds */
    struct rss_feeds *owner;
};

struct rss_host {
    char *key;                   /* scheme://host:port */
    bool busy;
    int64_t ready_ms;            /* no fetch before (fetch delay) */
};

struct rss_feeds {
    struct session *s;
    struct rss_feeds_config cfg;
    struct rss_node *root;
    uv_timer_t refresh_timer, dispatch_timer;
    int open_handles;
    size_t store_jobs;
    bool stopping;
    struct rss_host *hosts;
    size_t nhosts;
    struct rss_node *q_head, *q_tail;
    rss_feeds_new_fn new_fn;
    void *new_ud;
    rss_feeds_url_fn url_fn;
    void *url_ud;
};

/* A change's commit tracking: the rows it queued; done(ud, rc) after the
 * last one (or a store barrier when it queued none). */
struct rss_op;
struct rss_op *rss_op_new(struct rss_feeds *f, rss_feeds_done_fn done, void *ud);
void rss_op_put(struct rss_op *o, const char *ns, const char *key, const char *value);
/* Queues the feed's articles row / the tree row. */
void rss_op_put_feed(struct rss_op *o, struct rss_node *feed);
void rss_op_put_tree(struct rss_op *o);
/* After the puts: 0 (done will run) or the enqueue error (it will not). */
int rss_op_finish(struct rss_op *o);
/* Runs fn(ud) after the op's commit, before done (new-article events). */
void rss_op_after(struct rss_op *o, void (*fn)(void *ud, int rc), void *ud);

int64_t rss_now_ms(void);
struct rss_node *rss_find(struct rss_feeds *f, const char *path);
struct rss_node *rss_find_uid(struct rss_node *n, const char *uid);
/* path of n (malloc'd; "" for the root). */
char *rss_path(const struct rss_node *n);
/* Renames/moves: the same as rss/moveItem. */
int rss_move(struct rss_feeds *f, struct rss_node *n, const char *dest, char *err, size_t errlen);
struct rss_art *rss_art_find(struct rss_node *feed, const char *id);
void rss_art_clear(struct rss_art *a);
void rss_feeds_maybe_release(struct rss_feeds *f);

/* feeds_fetch.c */
/* The feed's effective refresh interval in ms (its own, else the session's). */
int64_t rss_interval_ms(const struct rss_feeds *f, const struct rss_node *n);
/* Queues a refresh of every feed at or below n. */
void rss_refresh_node(struct rss_feeds *f, struct rss_node *n);
/* qBittorrent's Session::refresh: every due feed, then the timer. */
void rss_refresh_due(struct rss_feeds *f);
/* Stops n's fetch (removal, URL change). */
void rss_fetch_stop(struct rss_feeds *f, struct rss_node *n);
/* Merges a parse result into the feed (qBittorrent's updateArticles);
 * returns the number added and sets *added to their ids (oldest first). */
size_t rss_merge(struct rss_feeds *f, struct rss_node *feed, struct feedparse_result *r, int64_t now_ms,
                 char ***added);
/* A fetched document: parse, merge, rename by title, store, log, and
 * announce the new articles after the commit (also the unit tests' way in). */
void rss_apply_document(struct rss_feeds *f, struct rss_node *n, const uint8_t *body, size_t len);
/* Drops articles over the cap. */
void rss_trim(struct rss_feeds *f, struct rss_node *feed);

#endif
