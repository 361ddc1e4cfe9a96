/* session — everything the daemon owns: torrents, peers' listeners, the
 * tracker client, the store, preferences and global statistics.
 *
 * One session per process, living on the loop thread.  Nothing here is
 * locked: web handlers, peer callbacks and worker completions all run on
 * that thread.  One 1-second tick walks only the active torrents (idle ones
 * cost nothing).
 */
#ifndef TD_CORE_SESSION_H
#define TD_CORE_SESSION_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/discovery.h"
#include "core/tuning.h"
#include "core/limits.h"
#include "core/queue.h"
#include "core/settings.h"
#include "core/xferhist.h"
#include "util/hmap.h"
#include "util/rate.h"

struct torrent;
struct peer;
struct store;
struct fetch;
struct tracker_client;
struct proxy_host;
struct service_fetch;
struct cookiejar;
struct runprog;
struct watchdir;
struct portmap;
struct etracker;
struct notify_observer;

#define SESSION_REMOVED_RING 4096

struct session_removed {
    uint64_t seq;
    char hex[41];
};

struct session_config {
    const char *profile_dir;     /* holds torrentd.db */
    const char *save_path;       /* default save path; NULL = <profile>/downloads */
    const char *listen_address;  /* NULL or "" = all addresses */
    int listen_port;             /* -1 = from prefs */
};

struct session {
    uv_loop_t *loop;
    struct settings settings;    /* core/settings.h */
    struct store *store;
    struct catalog *catalog;     /* categories and tags */
    struct fetch *fetch;
    struct tracker_client *trackers;
    uint8_t peer_id[20];
    char *profile_dir;
    char *default_save_path;     /* <profile>/downloads or --save-path */
    char *listen_address;        /* NULL = any */
    uint16_t listen_port;        /* the bound port (the pref may say 0 = any) */
    struct move_intent *move_intents;   /* session.c, only while loading: moves a crash interrupted */
    size_t num_move_intents;

    /* Heap handles: a new port opens new ones while the old close. */
    uv_tcp_t *listener4, *listener6;
    bool have_listener4, have_listener6;
    struct ssltorrent_listener *ssl; /* core/ssltorrent.c; NULL when not listening for SSL peers */
    bool had_incoming;           /* for connection_status */
    uv_timer_t tick;
    uint64_t now_ms;             /* uv_now at the last tick */
    uint64_t tick_count;

    uv_thread_t loop_thread;     /* the thread that owns all of this (recorded by session_new) */
    bool loop_thread_known;      /* false in sessions that tests build by hand */
    struct torrent **torrents;   /* in insertion order (= queue order) */
    size_t num_torrents, cap_torrents;
    struct hmap index;           /* info-hash -> torrent (a hybrid has two keys) */
    struct torrent **active;     /* the only torrents the tick visits */
    size_t num_active, cap_active;

    /* Change tracking for sync/maindata: every change to a torrent bumps
     * change_seq and moves the torrent to the tail of this list, so "what
     * changed since N" costs O(changes), not O(torrents). */
    uint64_t change_seq;
    struct torrent *chg_head, *chg_tail;
    struct session_removed *removed;   /* ring of the last SESSION_REMOVED_RING removals */
    size_t removed_next;
    uint64_t removed_floor;            /* removals at or below this seq are forgotten */

    struct peer *handshaking;    /* incoming connections not yet bound to a torrent */
    unsigned num_peers;          /* all connections */

    /* The modules' own state: their headers define it and only their
     * functions write it (others read it through those functions). */
    struct banlist *bans;            /* core/banlist.c: banned addresses, peer log */
    struct ipfilter *ipfilter;       /* core/ipfilter.c: the IP filter file's ranges */
    struct peerpolicy *policy;       /* core/peerpolicy.c: dial pacing, peer turnover */
    struct discovery disc;           /* core/discovery.c: DHT and LSD */
    struct limits limits;            /* core/limits.c: rate limits */
    struct queue queue;              /* core/queue.c */
    struct tuning tune;              /* core/tuning.c: storage options, read cache, low_cpu, log sources */
    struct scheduler *sched;         /* core/scheduler.c: alternative-speed scheduler */
    struct trackerlist *trackerlist; /* core/trackerlist.c: trackers from a URL */
    struct proxy_host *proxy_host;   /* core/proxy.c: the proxy's address when proxy_ip is a name */
    struct mseconn_state *mse;       /* core/mseconn.c: MSE's SKEY map (HASH('req2', hash) -> torrent) */
    struct utpsock *utp;             /* core/utpsock.c: uTP on the UDP port; NULL before the start */

    struct service_fetch *url_adds;  /* core/service.c: .torrent downloads for adds in flight */
    size_t num_url_adds;
    struct cookiejar *cookies;       /* core/cookiejar.c: cookies sent with those downloads */
    struct runprog *runprog;         /* core/runprog.c: external programs for torrent events */
    struct watchdir *watchdir;       /* core/watchdir.c: watched folders */
    struct portmap *portmap;         /* core/portmap.c: UPnP/NAT-PMP port mappings */
    struct etracker *etracker;       /* core/etracker.c: the embedded tracker, NULL when off */
    const struct notify_observer *observer; /* core/notify.c: a layer above hearing of adds and finishes */

    /* global statistics */
    struct rate dl_rate, ul_rate;
    int64_t dl_session, ul_session;      /* payload this session */
    int64_t wasted_session;
    int64_t alltime_dl, alltime_ul;      /* earlier runs' payload (kv); add *_session for all-time */
    int64_t alltime_saved;               /* dl + ul all-time sum last written to the store */
    int64_t dl_local_session, ul_local_session;   /* the part with peers on the local network */
    /* Every byte on peer connections, protocol and payload (core/peer.c),
     * and pieces that failed their hash check: what /metrics reports. */
    int64_t wire_dl_session, wire_ul_session;
    uint64_t hash_failures;
    /* core/xferhist.c: the daily transfer history and what of the counters
     * above it has already counted */
    struct session_xfer {
        struct xferhist hist;
        int64_t seen_dl, seen_ul, seen_dl_local, seen_ul_local;
        uint64_t saved_gen;              /* hist.gen last written to the store */
    } xfer;

    /* max_active_checking_torrents: checks running, and the torrents waiting
     * for one (FIFO through torrent.checkq_next; core/torrent.c). */
    size_t checks_running;
    struct torrent *checkq_head, *checkq_tail;

    bool shutting_down;
    size_t closing_torrents;
    size_t removals_in_flight;           /* removed torrents not freed yet: the shutdown waits for them */
    size_t removals_awaited;             /* of those, the ones in flight when the shutdown began */
    uint64_t stop_deadline_ms;           /* loop time; stopped announces awaited until then */
    void (*on_shutdown)(void *ud);
    void *shutdown_ud;
};

int session_new(uv_loop_t *loop, const struct session_config *cfg, struct session **out);

/* One loop thread owns the session and its torrents; work threads (store
 * writer, hashing, storage) hand results back through the loop.  Debug builds
 * abort when a public entry point runs on another thread; release builds
 * (NDEBUG) check nothing. */
static inline void session_assert_loop_thread(const struct session *s)
{
#ifdef NDEBUG
    (void)s;
#else
    uv_thread_t self = uv_thread_self();
    assert(!s->loop_thread_known || uv_thread_equal(&s->loop_thread, &self));
#endif
}

/* Loads torrents from the store and starts listening and ticking. */
int session_start(struct session *s);

/* Saves everything, says goodbye to trackers, closes peers and the store,
 * then calls done (the loop may still have closing handles).  Free the
 * session with session_free once uv_run has returned. */
void session_shutdown(struct session *s, void (*done)(void *ud), void *ud);
void session_free(struct session *s);

struct torrent *session_find(struct session *s, const uint8_t info_hash[20]);
/* hex may be any case; NULL if not a 40-hex string or unknown. */
struct torrent *session_find_hex(struct session *s, const char *hex);

/* Stores the WebUI password hash (PBKDF2 string) and, once committed, makes
 * it the live one; done(ud, rc) then.  0 or a negative errno (done will not
 * run). */
int session_set_password_hash(struct session *s, const char *hash, void (*done)(void *ud, int rc), void *ud);

/* After settings_apply: completes the port pair (random_port true means
 * listen_port 0; random_port reads back as listen_port == 0, both added to
 * *changed), runs the live-apply hooks of the changed settings
 * (settings_notify: the session's own for the listener, limits, bans, SSL
 * and discovery, and whatever the web layer registered), then persists the
 * changed settings; done(ud, rc) once they are committed.  Nothing changed:
 * done(ud, 0) at once. */
int session_settings_changed(struct session *s, struct settings_mask *changed, void (*done)(void *ud, int rc),
                             void *ud);
/* The same without the hooks, for settings applied before session_start
 * (utserver.conf at start): session_start reads them as it starts. */
int session_settings_store(struct session *s, struct settings_mask *changed, void (*done)(void *ud, int rc),
                           void *ud);

/* Called by torrent.c. */
int session_index_add(struct session *s, struct torrent *t);
/* Adds a hybrid's second key (t->alt_hash) once its metadata is known;
 * -EEXIST when another torrent has it. */
int session_index_alias(struct session *s, struct torrent *t);
void session_index_remove(struct session *s, struct torrent *t);
/* A removed torrent (torrent_remove) was freed, its files deleted if asked:
 * a shutdown that started meanwhile waited for it, as for the torrents it
 * closes, so that the unlinks and their intent row's deletion end before
 * the store closes. */
void session_removal_done(struct session *s);
void session_set_active(struct session *s, struct torrent *t, bool active);
const char *session_default_save_path(struct session *s);

/* Calls fn for every torrent changed after `seq`, newest first; returns the
 * current change_seq. */
uint64_t session_changed_since(struct session *s, uint64_t seq,
                               void (*fn)(struct torrent *t, void *ud), void *ud);
/* Calls fn with the hex hash of every torrent removed after `seq`.  Returns
 * -ERANGE when removals that old are no longer known (send a full update). */
int session_removed_since(struct session *s, uint64_t seq, void (*fn)(const char *hex, void *ud), void *ud);
/* Marks t changed (torrent.c calls it; API code too after editing a torrent). */
void session_touch(struct session *s, struct torrent *t);

/* Binds and listens for peers on h (accepted ones go to peer_accept).
 * h is initialised either way; the caller closes it. */
int session_listen(struct session *s, uv_tcp_t *h, const struct sockaddr *sa, unsigned flags);

/* Connects out to addr for torrent t (respecting limits).  Returns 0 or a
 * negative error (-EBUSY: connection_speed allows no more attempts this
 * second; try again later without counting a failure); the peer shows up
 * in the torrent when connected. */
int session_connect_peer(struct session *s, struct torrent *t, const struct sockaddr *addr, uint8_t source);

#endif
