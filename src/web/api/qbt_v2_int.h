/* web/api/qbt_v2 internals shared by qbt_v2_*.c and their unit test.
 *
 * qbt_v2_json.c turns engine structs into qBittorrent 5.1's JSON shapes
 * (../shared/docs/api-surface.md §5, outside the repository) and knows
 * nothing about HTTP; qbt_v2_torrents.c holds the request-parameter rules
 * (hashes, filter, sort, paging: the same file's §6.2 and §9) as
 * plain functions so they can be tested without a server.
 */
#ifndef TD_WEB_API_QBT_V2_INT_H
#define TD_WEB_API_QBT_V2_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/queue.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/torrent_status.h"
#include "web/server.h"

struct peer;

#define QBT_V2_ETA_INFINITE 8640000     /* qBittorrent's MAX_ETA (100 days): unknown or never */
#define QBT_V2_MAX_RATIO 9999.0
#define QBT_V2_MAX_HASHES 100000      /* ids parsed from one `hashes` value */
#define QBT_V2_MAX_URLS 1000          /* urls in one torrents/add */

/* The one API instance (one session per process). */
struct qbt_v2 {
    struct web_server *ws;
    struct session *s;
    void (*shutdown)(void);
    uv_timer_t shutdown_timer;
    bool shutdown_armed;
};

/* sync/maindata state of one login (../shared/docs/api-surface.md §7.2,
 * outside the repository: qBittorrent 5.x's per-session rid).  `snapshot` is
 * what the client has once it accepts the last reply; the buffer holds
 * what changed since the accepted reply (so a retry with that rid gets it
 * all again).  Sets are JSON objects whose keys are the members. */
struct qbt_v2_sync_main {
    bool valid;                  /* snapshot built */
    bool rebuilding;             /* building it: a full reply follows, nothing is buffered */
    int last_sent, accepted;     /* rids; accepted 0 = none */
    uint64_t seq;                /* session change_seq folded in */
    uint64_t catalog_seq;        /* catalog seq folded in */
    bool catalog_synced;         /* catalog_seq is meaningful */
    /* s->torrents as of the last fold (compared, never dereferenced): a
     * queue move shifts priorities of torrents nobody touched */
    const struct torrent **order;
    size_t order_n;
    /* snapshot */
    json_t *torrents;            /* hash -> torrent object (no "hash") */
    json_t *aux;                 /* hash -> [tracker url, ...] of that torrent */
    json_t *categories;          /* name -> category object */
    json_t *tags;                /* set */
    json_t *trackers;            /* url -> set of hashes */
    json_t *server_state;
    /* buffer: changes since `accepted` */
    json_t *b_torrents;          /* hash -> changed fields */
    json_t *b_torrents_removed, *b_categories, *b_categories_removed, *b_tags, *b_tags_removed,
        *b_trackers, *b_trackers_removed;   /* sets, but b_categories: name -> changed fields */
    json_t *b_server_state;      /* changed fields */
};

/* sync/torrentPeers state of one login: the older snapshot-diff scheme
 * (§7.3), one state for all hashes as in qBittorrent. */
struct qbt_v2_sync_peers {
    json_t *last;                /* data of the last reply, with its "rid" */
    json_t *accepted;            /* data the client confirmed having */
};

/* Per-login state kept in the web session slot. */
struct qbt_v2_client {
    struct qbt_v2_sync_main main;
    struct qbt_v2_sync_peers peers;
};

/* ---- sync (qbt_v2_sync.c) ---- */

/* The sync/maindata reply to `rid` (§7.2): a partial update when rid is the
 * last rid sent (accepted) or the accepted one (resend of every change since
 * then), else a full update.  The cost of a partial reply follows the number
 * of changes, not of torrents.  0 or -ENOMEM (the state is then reset, so
 * the next call answers with a full update).  shared: a full reply's
 * "torrents" is the snapshot itself, not a copy (a tenth of the objects
 * to make and free at 10,000 torrents); the caller must only serialise the
 * reply, and before the next call on c (the snapshot changes in place). */
int qbt_v2_sync_maindata(struct qbt_v2_client *c, struct session *s, int rid, bool shared, json_t **out);
/* The sync/torrentPeers reply for t (§7.3).  0 or -ENOMEM. */
int qbt_v2_sync_peers(struct qbt_v2_client *c, const struct torrent *t, int rid, json_t **out);
/* Frees what c holds and zeroes it (c itself is the caller's). */
void qbt_v2_client_clear(struct qbt_v2_client *c);
/* qBittorrent's `rid` parameter: a decimal int, anything else 0. */
int qbt_v2_parse_rid(const char *s);

/* Commit-then-reply for actions over several torrents: the reply (200
 * empty) goes out when the last commit is done.  new() replies 500 itself
 * when out of memory; pending may be raised for other jobs whose callback
 * is qbt_v2_batch_done; finish filling with qbt_v2_batch_done(b, 0). */
struct qbt_v2_list;
struct qbt_v2_batch {
    struct web_req *r;
    size_t pending;   /* commits in flight + 1 while being filled */
};
struct qbt_v2_batch *qbt_v2_batch_new(struct web_req *r);
/* Commits t's settings (core/service.h service_save) within the batch. */
void qbt_v2_batch_save(struct qbt_v2_batch *b, struct torrent *t);
/* After b->pending++ and a core/service.h call with qbt_v2_batch_done, b:
 * the call's return value (nonzero: the callback will not run). */
void qbt_v2_batch_check(struct qbt_v2_batch *b, int rc);
void qbt_v2_batch_done(void *ud, int rc);
/* The torrents named by parameter `name` (§9, "all" allowed); replies
 * 400 (missing) or 500 itself and returns false. */
bool qbt_v2_targets(struct web_req *r, struct qbt_v2 *q, const char *name, struct qbt_v2_list *l);
/* The torrent named by `hash`; replies 400 (missing) or 404 itself on NULL. */
struct torrent *qbt_v2_single(struct web_req *r, struct qbt_v2 *q);

/* Actions over a list of torrents that every qBittorrent dialect (v2, v1)
 * shares once its own parameters are read.  Each frees l and replies: 200
 * once every change is committed, or the error. */
/* 409 "Incorrect category name" for an unknown non-empty category when l
 * is not empty (Torrent::setCategory refuses per torrent: no torrent, no
 * 409). */
void qbt_v2_apply_category(struct web_req *r, struct session *s, struct qbt_v2_list *l, const char *cat);
/* Per-torrent rate limit in bytes/s; <= 0 = unlimited. */
void qbt_v2_apply_rate_limit(struct web_req *r, struct session *s, struct qbt_v2_list *l, bool up, int64_t v);
/* createCategory after the dialect's own parameter checks (qbt_v2_categories.c):
 * 409 "Incorrect category name" / "Unable to create category". */
struct catalog_category_opts;
void qbt_v2_apply_create_category(struct web_req *r, struct session *s, const char *name,
                                  const struct catalog_category_opts *o);
/* Queue moves (qbt_v2_queue.c): 409 "Torrent queueing must be enabled". */
void qbt_v2_apply_queue_move(struct web_req *r, struct session *s, struct qbt_v2_list *l, enum queue_move how);

int qbt_v2_register_app(struct qbt_v2 *q);
int qbt_v2_register_transfer(struct qbt_v2 *q);
int qbt_v2_register_sync(struct qbt_v2 *q);
int qbt_v2_register_torrents(struct qbt_v2 *q);
int qbt_v2_register_creator(struct qbt_v2 *q);
int qbt_v2_register_log(struct qbt_v2 *q);
int qbt_v2_register_catalog(struct qbt_v2 *q);   /* categories, tags, per-torrent edits */
int qbt_v2_register_queue(struct qbt_v2 *q);
int qbt_v2_register_rename(struct qbt_v2 *q);
int qbt_v2_register_misc(struct qbt_v2 *q);     /* interfaces, dirs, cookies, SSL, test mail */
void qbt_v2_torrents_close(struct qbt_v2 *q);

/* The web session's client state, created on first use; NULL without a
 * session or memory. */
struct qbt_v2_client *qbt_v2_client_get(struct web_req *r);
void qbt_v2_client_free(void *slot);
/* torrents/add (also API v1's command/download and command/upload: the
 * same parameters and answers in 4.1): "Ok." when something was added,
 * "Fails." otherwise, 415 for a file that is no torrent.  label: accept
 * v1's `label` for the category. */
void qbt_v2_add(struct web_req *r, struct session *s, bool label);
/* The one v2 instance, for the v1 dialect's routes that share a v2
 * handler whole (app/setPreferences, app/shutdown). */
struct qbt_v2 *qbt_v2_instance(void);
void qbt_v2_h_set_preferences(struct web_req *r, void *ud);
void qbt_v2_h_shutdown(struct web_req *r, void *ud);
void qbt_v2_h_log_main(struct web_req *r, void *ud);
void qbt_v2_h_log_peers(struct web_req *r, void *ud);

/* auth/login and auth/logout handlers (qbt_v2_auth.c), shared with the v1
 * dialect's /login and /logout: the same answers, session, ban. */
void qbt_v2_h_login(struct web_req *r, void *ud);
void qbt_v2_h_logout(struct web_req *r, void *ud);

/* This dialect's session slot id (web_dialect_register), set by qbt_v2_register. */
extern int qbt_v2_dialect;

/* ---- serialization (qbt_v2_json.c) ----
 * Every builder returns a new reference or NULL (out of memory only). */

/* §5.1; with_hash false for sync/maindata values. */
json_t *qbt_v2_torrent_json(const struct torrent *t, bool with_hash);
/* The same with the queue priority precomputed: listing many torrents walks
 * the queue once, calling qbt_v2_queue_step for every torrent in session
 * order (pos starts at 0); it returns that torrent's `priority`. */
json_t *qbt_v2_torrent_json_at(const struct torrent *t, bool with_hash, int64_t priority);
int64_t qbt_v2_queue_step(const struct torrent *t, int64_t *pos);
/* The v1 flavour (qBittorrent 4.1, API v1): the same facts, with hash,
 * without the keys added after 4.1, 4.x state names (pausedUP/pausedDL). */
json_t *qbt_v2_torrent_json_v1(const struct torrent *t, int64_t priority);
/* Turns a torrent object, whole or a sync/maindata change set, into the v1
 * flavour in place. */
void qbt_v2_torrent_to_v1(json_t *o);
json_t *qbt_v2_properties_json(const struct torrent *t);          /* §5.2 */
/* §5.3 for the files at idx[0..n) (visible indexes, pad files hidden);
 * idx NULL = all files. is_seed only on the first element. */
json_t *qbt_v2_files_json(const struct torrent *t, const size_t *idx, size_t n);
size_t qbt_v2_file_count(const struct torrent *t);
json_t *qbt_v2_trackers_json(const struct torrent *t, bool pseudo);  /* §5.4 */
json_t *qbt_v2_peers_json(const struct torrent *t);                   /* {"ip:port": §5.5} */
json_t *qbt_v2_peer_json(const struct torrent *t, const struct peer *p);
/* "1.2.3.4:80" or "[::1]:80"; -EINVAL for a peer without address. */
int qbt_v2_peer_key(const struct peer *p, char *out, size_t outlen);
json_t *qbt_v2_server_state_json(struct session *s);                  /* §5.6 */
json_t *qbt_v2_transfer_info_json(struct session *s);
/* A banned_IPs value as qBittorrent keeps it: "\n"-separated addresses in
 * QHostAddress form, invalid ones dropped (logged), sorted, unique.  malloc'd. */
char *qbt_v2_ban_list(const char *list);
json_t *qbt_v2_piece_states_json(const struct torrent *t);
json_t *qbt_v2_piece_hashes_json(const struct torrent *t);
json_t *qbt_v2_webseeds_json(const struct torrent *t);
/* Full sync/maindata body with the given rid (§7.1). */
json_t *qbt_v2_maindata_json(struct session *s, int rid);

/* ---- core enums and figures in qBittorrent's words (qbt_v2_state.c) ---- */

/* The state string: 5.x names, or 4.x's (pausedDL/pausedUP for stopped). */
const char *qbt_v2_state_name(enum torrent_state s, bool v4);
/* The 4.x name of a 5.x state name (stoppedDL -> pausedDL); others as given. */
const char *qbt_v2_state_v4(const char *v5);
/* eta: seconds, 8640000 when unknown or at least that. */
int64_t qbt_v2_eta(const struct torrent_status *st);
/* ratio / share_ratio from core's ratio: -1 = infinite, at most 9999. */
double qbt_v2_ratio_value(double ratio);
/* The same for t (torrent_status_ratio). */
double qbt_v2_ratio(const struct torrent *t);
/* shareLimitAction ("Default", "Stop", "Remove", "RemoveWithContent",
 * "EnableSuperSeeding"); unknown or NULL = TORRENT_SHARE_DEFAULT. */
enum torrent_share_action qbt_v2_share_action_parse(const char *s);
/* A ratio limit as a client sends it: a finite decimal number (no NaN,
 * infinity, hex or trailing junk, which strtod would take).  False when not. */
bool qbt_v2_parse_ratio(const char *v, double *out);
/* tags joined with ", " in natural, case-insensitive order (malloc'd). */
char *qbt_v2_tags_string(const struct strv *tags);
/* QCollator-like natural order: digit runs compare by value, letters
 * case-insensitively. */
/* magnet:?xt=urn:btih:<hex>&dn=<name>&tr=<tracker>… (malloc'd). */
char *qbt_v2_magnet_uri(const struct torrent *t);
/* Order used by torrents/info sort: null < bool < numbers < strings; numbers
 * by value, strings by bytes, false < true. */
int qbt_v2_json_cmp(const json_t *a, const json_t *b);

/* ---- request parameters (qbt_v2_torrents.c) ---- */

struct qbt_v2_list {
    struct torrent **v;
    size_t n, cap;
};

/* §9: '|'-separated ids, or exactly "all" (when allow_all) for every
 * torrent.  Unknown or malformed ids are skipped, duplicates dropped,
 * torrents being removed left out.  0 or -ENOMEM. */
int qbt_v2_parse_hashes(struct session *s, const char *hashes, bool allow_all, struct qbt_v2_list *out);
void qbt_v2_list_free(struct qbt_v2_list *l);

enum qbt_v2_filter {
    QBT_F_ALL, QBT_F_DOWNLOADING, QBT_F_SEEDING, QBT_F_COMPLETED, QBT_F_STOPPED, QBT_F_RUNNING,
    QBT_F_ACTIVE, QBT_F_INACTIVE, QBT_F_STALLED, QBT_F_STALLED_UP, QBT_F_STALLED_DL,
    QBT_F_CHECKING, QBT_F_MOVING, QBT_F_ERRORED,
};
/* qbt_v2_state.c.  Unknown or NULL = all; 4.x paused/resumed are aliases of
 * stopped/running. */
enum qbt_v2_filter qbt_v2_filter_parse(const char *s);
/* st: t's status (torrent_status_get), passed in so tests can try every state. */
bool qbt_v2_filter_match(enum qbt_v2_filter f, const struct torrent *t, const struct torrent_status *st);

/* Sorts an array of torrent objects by key (stable).  -EINVAL when the
 * array is not empty and its first object lacks key. */
int qbt_v2_sort(json_t *arr, const char *key, bool reverse);
/* Keeps [offset, offset+limit) as torrents/info 5.1 does: negative offset
 * counts from the end, out of range = 0, limit <= 0 = no limit. */
void qbt_v2_page(json_t *arr, int64_t limit, int64_t offset);

/* qBittorrent's PeerAddress::parse: "1.2.3.4:80" or "[v6]:80", port 1..65535.
 * 0 or -EINVAL. */
int qbt_v2_parse_peer_addr(const char *s, struct sockaddr_storage *out);

#endif
