/* web/api/ut_gui internals: the contract between the ut_gui_*.c files
 * (and the helpers' ut_gui_settings.c, ut_gui_xfer.c) of the µTorrent
 * Server /gui/ dialect.
 *
 * One request is one `struct ut_call`: the parsed query (in order, repeats
 * kept), the action's name, whether the caller is the read-only guest.  An
 * action handler answers exactly once with one of the ut_reply* functions,
 * now or later (after a commit); the reply frees the call.  Every reply is
 * a JSON object holding "build" (seed 004 "µTorrent API"; api-surface.md
 * §12.2).
 *
 * Stable: the conf and stream helpers code against this header.  Additions
 * only.
 */
#ifndef TD_WEB_API_UT_GUI_INT_H
#define TD_WEB_API_UT_GUI_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/torrent.h"
#include "core/torrent_status.h"
#include "web/server.h"

struct session;

/* The "build" of every reply.  Sonarr refuses builds under 25406 ("Old
 * uTorrent client with unsupported API, need 3.0 or higher",
 * clients-wave2.md §1.4); the other clients only test that the key is
 * there.  46207 is a µTorrent 3.x-era number comfortably above that floor
 * (our research records no exact utserver 3.3 build, so none is claimed);
 * it never changes, so clients caching it see one server. */
#define UT_GUI_BUILD 46207

/* ---- the ordered query (ut_gui_query.c) ----
 * µTorrent's parameters are a sequence, not a map: hash=A&s=k&v=x&hash=B
 * (setprops), repeated hash= and f=, s/v pairs (setsetting).  Bounded:
 * a longer query or more parameters is refused whole. */
#define UT_QUERY_MAX_LEN (64 * 1024)
#define UT_QUERY_MAX_PARAMS 2048

struct ut_param {
    char *key;           /* percent- and '+'-decoded, NUL-terminated */
    char *val;           /* the same; may contain NUL bytes (val_len says) */
    size_t val_len;
};

struct ut_query {
    struct ut_param *v;
    size_t n;
};

/* Parses s[0..len) ("a=1&b=&c&a=2"): '&'-separated, the first '=' splits
 * key and value, '+' is a space, a '%' without two hex digits stays as it
 * is (lenient, like µTorrent), empty segments are skipped.  0, -E2BIG
 * (over the bounds above: out is empty), -ENOMEM. */
int ut_query_parse(const char *s, size_t len, struct ut_query *out);
void ut_query_free(struct ut_query *q);
/* The first value of key, or NULL. */
const char *ut_query_get(const struct ut_query *q, const char *key);
/* True when some parameter key has exactly the value val (the token). */
bool ut_query_has(const struct ut_query *q, const char *key, const char *val);
/* True when p's value holds a NUL byte (refuse it as a path or name). */
bool ut_param_has_nul(const struct ut_param *p);
/* v as a whole decimal integer in [lo, hi]: false for NULL, "", junk,
 * overflow or out of range. */
bool ut_parse_int(const char *v, int64_t lo, int64_t hi, int64_t *out);

/* ---- the dialect instance and a call ---- */

#define UT_GUI_MAX_SESSIONS 256
#define UT_GUI_TOKEN_LEN 64      /* URL-safe characters (TokenSystem: ~60) */
#define UT_GUI_GUID_LEN 20
#define UT_GUI_CID_RING 1024

/* One token.html visit (µTorrent's HTTP session, get-sessions/logout). */
struct ut_gui_sess {
    char guid[UT_GUI_GUID_LEN + 1];
    char token[UT_GUI_TOKEN_LEN + 1];
    int64_t created, updated;    /* epoch s */
    char peer_ip[64];
    char user_agent[128];
    bool used;
};

/* A cache id handed out in torrentc: what the client had then. */
struct ut_gui_cid {
    uint32_t n;                  /* its number (0 = free slot) */
    uint64_t change_seq;         /* the session's change_seq */
    uint64_t queue_ver;          /* ut_gui.queue_ver */
    uint64_t rss_ver;            /* the RSS rows' version (ut_gui_rss.c) */
};

struct ut_gui {
    struct web_server *ws;
    struct session *s;
    struct ut_gui_sess sess[UT_GUI_MAX_SESSIONS];
    /* cids: epoch (random per process, so a restart never aliases) in the
     * high bits, a counter in the low 32 (ut_gui_list.c) */
    uint32_t epoch;
    uint32_t cid_next;
    struct ut_gui_cid cids[UT_GUI_CID_RING];
    uint64_t queue_fp, queue_ver;   /* fingerprint of the queue order and its version */
    struct ut_gui_rss *rss;         /* the RSS view (ut_gui_rss.c); NULL without RSS */
};

struct ut_call {
    struct web_req *r;
    struct ut_gui *g;
    struct session *s;
    struct ut_query q;
    const char *action;          /* in q; NULL for list=1 */
    bool guest;                  /* read-only account: acting calls refused */
};

typedef void (*ut_action_fn)(struct ut_call *c);

/* ---- replies (ut_gui.c); each frees c ---- */

/* A new {"build": N}; NULL only on ENOMEM. */
json_t *ut_reply_obj(void);
/* Sends o (stolen; NULL = 500) as the reply. */
void ut_reply(struct ut_call *c, json_t *o);
/* {"build": N}: the success of an action; with list=1 in the query, the
 * list=1 reply instead (the action's result plus the list). */
void ut_reply_build(struct ut_call *c);
/* {"build": N, "error": msg} with HTTP 200: a call µTorrent understood but
 * could not do (bad add-url path, bad setprops value, RSS not available).
 * µTorrent answers its refusals in the body; clients that check success
 * look for "build" first, then "error". */
void ut_reply_error(struct ut_call *c, const char *msg);
/* HTTP 400 "invalid request": what µTorrent answers to a request it does
 * not understand (unknown action, malformed query) or refuses outright
 * (bad token, a guest's acting call). */
void ut_reply_invalid(struct ut_call *c);

/* The torrents named by every hash= of c, in order, upper or lower case;
 * unknown, malformed and duplicate hashes are skipped (µTorrent ignores
 * them), torrents being removed left out.  *out malloc'd (NULL when n 0);
 * -ENOMEM. */
int ut_call_hashes(struct ut_call *c, struct torrent ***out, size_t *n);

/* ---- one reply after several committed changes (ut_gui.c) ----
 * A call that starts several core changes (one per hash, one per setprops
 * pair) answers once each has been committed -- each change's
 * service_done_cb is ut_wait_done -- with {"build":N}, or with the first
 * error noted by ut_wait_fail.  The creator holds one reference while it
 * starts the changes and gives it back with ut_wait_done(w, 0).  Usage:
 *     ut_wait_hold(w);
 *     ut_wait_started(w, service_x(..., ut_wait_done, w));
 * (held first: a change may call back before its starter returns). */
struct ut_wait {
    struct ut_call *c;
    size_t pending;      /* changes in flight + 1 while being filled */
    char *error;         /* reply this instead of {"build":N} */
};
/* NULL after replying 500 (ENOMEM). */
struct ut_wait *ut_wait_new(struct ut_call *c);
void ut_wait_hold(struct ut_wait *w);
/* rc: what the change's starter returned (nonzero: no callback comes). */
void ut_wait_started(struct ut_wait *w, int rc);
/* A service_done_cb; rc != 0 (the commit failed) is logged. */
void ut_wait_done(void *ud, int rc);
/* Notes msg as the reply's error unless one is noted already. */
void ut_wait_fail(struct ut_wait *w, const char *msg);

/* ---- list (ut_gui_list.c) ---- */

/* µTorrent's status bits (seed 004 "STATUS"). */
enum {
    UT_ST_STARTED = 1, UT_ST_CHECKING = 2, UT_ST_START_AFTER_CHECK = 4, UT_ST_CHECKED = 8,
    UT_ST_ERROR = 16, UT_ST_PAUSED = 32, UT_ST_QUEUED = 64, UT_ST_LOADED = 128,
};
/* The row of t (api-surface.md §12.3): a pure function of the torrent, its
 * status snapshot and its queue order (1-based, -1 when not in the
 * download queue: finished or being removed).  NULL on ENOMEM. */
json_t *ut_gui_row(const struct torrent *t, const struct torrent_status *st, int64_t queue_order);
int ut_gui_status_bits(const struct torrent *t, const struct torrent_status *st);
/* The status message [21] into out. */
void ut_gui_status_msg(const struct torrent *t, const struct torrent_status *st, char *out, size_t outlen);
/* list=1[&cid=X]. */
void ut_gui_list(struct ut_call *c);

/* ---- actions (ut_gui_actions.c) ---- */
void ut_gui_start(struct ut_call *c);
void ut_gui_stop(struct ut_call *c);
void ut_gui_pause(struct ut_call *c);
void ut_gui_unpause(struct ut_call *c);
void ut_gui_forcestart(struct ut_call *c);
void ut_gui_recheck(struct ut_call *c);
void ut_gui_remove(struct ut_call *c);
void ut_gui_removedata(struct ut_call *c);
void ut_gui_removetorrent(struct ut_call *c);
void ut_gui_removedatatorrent(struct ut_call *c);
void ut_gui_queuetop(struct ut_call *c);
void ut_gui_queueup(struct ut_call *c);
void ut_gui_queuedown(struct ut_call *c);
void ut_gui_queuebottom(struct ut_call *c);
void ut_gui_setprio(struct ut_call *c);
void ut_gui_add_url(struct ut_call *c);
void ut_gui_add_unknown_url(struct ut_call *c);
void ut_gui_add_file(struct ut_call *c);
void ut_gui_list_dirs(struct ut_call *c);
void ut_gui_getversion(struct ut_call *c);
void ut_gui_get_sessions(struct ut_call *c);
void ut_gui_logout(struct ut_call *c);
/* ---- RSS (ut_gui_rss.c): feeds and filters over rss/rss.h ---- */
struct rss;
struct ut_gui_rss;
/* Gives g its RSS view (rss NULL: none; the calls then answer an error
 * and list=1 empty RSS lists).  0, -ENOMEM. */
int ut_gui_rss_attach(struct ut_gui *g, struct rss *rss);
/* list=1's RSS keys into o: "rssfeeds"/"rssfilters" when since is NULL (no
 * or an unknown cid), else the deltas since the RSS version *since (a list
 * whose removals are forgotten: its full key instead).  *ver: the version
 * now, for the cid issued with this list.  false on ENOMEM. */
bool ut_gui_rss_list(struct ut_gui *g, json_t *o, const uint64_t *since, uint64_t *ver);
void ut_gui_rss_update(struct ut_call *c);
void ut_gui_rss_remove(struct ut_call *c);
void ut_gui_filter_update(struct ut_call *c);
void ut_gui_filter_remove(struct ut_call *c);
/* add-unknown-url's second half: url was no torrent; when it reads as an
 * RSS or Atom feed, the feed is added, else an error is the reply. */
void ut_gui_rss_add_unknown(struct ut_call *c, const char *url);

/* ---- torrent properties (ut_gui_props.c) ---- */
void ut_gui_getfiles(struct ut_call *c);
void ut_gui_getpeers(struct ut_call *c);
void ut_gui_getprops(struct ut_call *c);
void ut_gui_setprops(struct ut_call *c);

/* ---- settings (ut_gui_settings.c: the conf helper's) ---- */
void ut_gui_getsettings(struct ut_call *c);
void ut_gui_setsetting(struct ut_call *c);

/* ---- transfer history and streaming (ut_gui_xfer.c: the stream helper's) ---- */
void ut_gui_getxferhist(struct ut_call *c);
void ut_gui_resetxferhist(struct ut_call *c);
/* The /proxy route's handler (registered by ut_gui.c with the /gui/ routes'
 * auth policy and token hook). */
void ut_gui_proxy(struct web_req *r, void *ud);

/* ---- sessions (ut_gui.c) ---- */
/* The µTorrent session whose GUID cookie the request carries, or NULL. */
struct ut_gui_sess *ut_gui_sess_of(struct ut_gui *g, struct web_req *r);
void ut_gui_sess_end(struct ut_gui *g, struct ut_gui_sess *u);

#endif
