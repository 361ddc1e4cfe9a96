/* torrent — one torrent's lifecycle: checking, downloading, seeding,
 * stopping; its pieces in flight, its peers, its trackers and statistics.
 *
 * The torrent owns its storage, picker, tracker set and peer list.  It is
 * driven by peer callbacks (core/peer.c), storage completions and the
 * session tick; none of these run concurrently.
 *
 * Implemented by concern in torrent.c (lifecycle), torrent_persist.c,
 * torrent_pieces.c, torrent_meta.c, torrent_swarm.c and torrent_files.c
 * (core/torrent_int.h lists what they share); the derived figures are in
 * torrent_status.c.
 */
#ifndef TD_CORE_TORRENT_H
#define TD_CORE_TORRENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/discovery.h"
#include "core/limits.h"
#include "core/smartban.h"
#include "core/webseed.h"
#include "util/bitfield.h"
#include "util/rate.h"
#include "util/strv.h"

struct session;
struct peer;
struct bt_choker;
struct bt_metainfo;
struct storage;
struct storage_check;
struct bt_picker;
struct tracker_set;
struct bt_magnet;
struct webseed;
struct bt_metadata_asm;
struct bt_layers;
struct ssltorrent;

enum torrent_phase {
    TP_LOADING,     /* resume data being validated */
    TP_CHECKING,    /* hashing existing data */
    TP_READY,       /* downloading or seeding (or stopped) */
    TP_ERROR,       /* disk error: stopped until the user starts it again */
    TP_MOVING,      /* setLocation: files being moved on a worker */
};

/* A piece whose blocks are arriving; the buffer goes to storage when full. */
struct piece_buf {
    uint32_t piece;
    uint8_t *data;
    struct smartban_ip *senders;   /* per block: who sent it (core/smartban.h) */
};

/* A piece read whole for uploading: peers ask for it 16 KiB at a time.
 * How many a torrent keeps is core/tuning.h's read cache. */
struct cached_piece {
    uint32_t piece;
    uint32_t len;
    uint8_t *data;          /* NULL while loading or empty */
    bool loading;
    uint64_t used_ms;
};

/* A peer address we may connect to. */
struct peer_candidate {
    struct sockaddr_storage addr;
    uint64_t next_try_ms;
    uint8_t fails;
    uint8_t source;         /* PEER_SRC_* bits */
    bool connected;
};

enum torrent_stop_condition { TORRENT_STOP_NONE, TORRENT_STOP_METADATA, TORRENT_STOP_CHECKED };
/* What to do when a share limit is reached.  The values are persisted in
 * the settings JSON: do not renumber. */
enum torrent_share_action {
    TORRENT_SHARE_DEFAULT,            /* the global setting's action */
    TORRENT_SHARE_STOP,
    TORRENT_SHARE_REMOVE,
    TORRENT_SHARE_SUPER_SEED,
    TORRENT_SHARE_REMOVE_WITH_CONTENT,
};
enum torrent_layout { TORRENT_LAYOUT_ORIGINAL, TORRENT_LAYOUT_SUBFOLDER, TORRENT_LAYOUT_NOSUBFOLDER };

struct torrent_add_params {
    const uint8_t *key;          /* torrent_create: the info-hash it is known by, NULL = mi->info_hash
                                    (a hybrid added by its v2 magnet keeps the v2 hash cut to 20 bytes) */
    const char *save_path;       /* NULL = category path or default */
    const char *category;
    const char *rename;
    const char *tags;            /* ","-separated */
    bool stopped;
    bool skip_checking;
    bool sequential;
    bool first_last_piece;
    bool forced;
    bool auto_tmm;
    int64_t up_limit, dl_limit;  /* B/s, -1 or 0 = unlimited */
    double ratio_limit;          /* -2 global */
    enum torrent_share_action share_limit_action;   /* zero-init: the global action */
    int64_t seeding_time_limit, inactive_seeding_time_limit;  /* minutes, -2 global */
    bool top_of_queue;
    enum torrent_stop_condition stop_condition;
    enum torrent_layout layout;   /* contentLayout: applied to the file paths at add time */
    const char *download_path;    /* incomplete folder (NULL/"" = none) */
    bool data_in_download_path;   /* the data is (to be) in download_path: new downloads, or restored ones not yet moved */
};

struct torrent_rename {
    size_t index;                /* file index */
    char *path;                  /* its relative path now */
};

/* The fields come in three groups, as libuv's uv.h marks its handles':
 * who may write a field decides where it is.  Everything is touched on the
 * loop thread only (session.h). */
struct torrent {
    /* public: set by the owner, read by anyone.  The owner is the service
     * API (core/service_edit.c) acting for a dialect; after writing it calls
     * torrent_settings_changed, which applies and persists them (the store's
     * settings JSON). */
    char *name;                  /* user rename, or NULL for the metainfo name */
    char *category;
    struct strv tags;            /* in the order they were added */
    bool sequential, first_last_piece, super_seeding, auto_tmm;
    int64_t up_limit, dl_limit;
    double ratio_limit;
    int64_t seeding_time_limit, inactive_seeding_time_limit;
    enum torrent_share_action share_limit_action;

    /* read-only: maintained by the engine (the torrent_* functions, and the
     * core module named), read by anyone. */
    struct session *s;
    struct bt_metainfo *mi;      /* NULL for a magnet until its metadata arrives */
    char *magnet_name;           /* dn of the magnet, shown until then */
    bool has_v2;                 /* the magnet gave a BEP52 hash (urn:btmh) */
    bool no_v1;                  /* ... and no btih: info_hash is the v2 hash cut to 20 bytes */
    uint8_t info_hash_v2[32];
    char hex_v2[65];
    uint8_t alt_hash[20];        /* a hybrid's other swarm key (session index, handshakes) */
    bool has_alt;
    struct ssltorrent *ssl;      /* core/ssltorrent.c: SSL torrent state and identity, or NULL */
    uint8_t info_hash[20];
    char hex[41];
    /* settings changed through torrent_* calls (persisted as the above) */
    char *save_path;             /* where the data ends up: torrent_set_location */
    char *download_path;         /* incomplete folder while downloading, or NULL: torrent_set_download_path */
    bool data_in_download;       /* the files are in download_path now */
    struct torrent_rename *renamed;   /* files renamed (torrent_rename_path, content layout) */
    size_t num_renamed;
    bool stopped, forced;        /* torrent_start/stop/set_forced */
    uint8_t *file_prios;         /* per file: 0, 1, 6, 7: torrent_set_file_priorities */
    enum torrent_stop_condition stop_condition;   /* one-shot: stop after metadata / the check */
    int64_t queue_pos;           /* index in s->torrents (core/queue.c); persisted */
    /* engine state */
    enum torrent_phase phase;
    char *error;                 /* when TP_ERROR */
    bool missing_files;          /* TP_ERROR because data we had is gone (qBittorrent's missingFiles) */
    uint8_t *missing_resume;     /* while missing_files at load: the saved file sizes/mtimes, to look again */
    size_t missing_resume_len;
    /* A crash interrupted a move: the saved resume data waits for its end
     * (core/torrent_files.c's intent rows). */
    bool restore_pending;
    uint8_t *restore_have, *restore_files;
    size_t restore_have_len, restore_files_len;
    bool move_intent_pending;    /* a move waits for its intent row's commit */
    const char *move_dest;       /* the running storage_move's target (its move ctx owns the string), else NULL */
    char *pending_location;      /* set_location asked while checking or moving: applied after */
    bool had_metadata_complete;  /* finished before (checking "up" vs "down") */
    bool queued;                 /* held back by the queue */
    uint64_t slow_since_ms;      /* core/queue.c: running under the slow thresholds since (0 = not slow) */
    struct storage *st;
    struct bt_picker *picker;
    struct bitfield have;
    struct bitfield wanted;      /* pieces touching a file with priority > 0 */
    uint32_t check_progress;
    struct tracker_set *trk;
    struct peer *peers;          /* connected or connecting */
    unsigned num_peers;
    unsigned writes_in_flight;
    bool active;                 /* in the session's tick walk */
    bool removing;
    /* statistics */
    int64_t downloaded, uploaded;          /* all-time payload */
    int64_t dl_session, ul_session;
    int64_t wasted;
    struct rate dl_rate, ul_rate;
    int64_t added_on, completion_on, seen_complete, last_activity;  /* epoch s, -1 never */
    int64_t active_time, seeding_time;     /* seconds */
    int64_t wanted_size, wanted_done;      /* bytes of selected files */
    int64_t num_complete, num_incomplete;  /* from trackers, -1 unknown */
    uint64_t change_seq;         /* core/session.c: change tracking for sync/maindata */

    /* private: the engine's own.  Only torrent*.c and the core module named
     * touch these. */
    /* The magnet's so= (file selection) and ws= (web seeds), applied with the metadata. */
    bool has_magnet_extra;
    int64_t *magnet_so;
    size_t num_magnet_so;
    struct strv magnet_ws;
    struct bt_metadata_asm *meta_asm;
    struct bt_metainfo *layers_mi;   /* a v2 info dict waiting for its piece layers (bt/layers) */
    struct bt_layers *layers;
    char *root_cache;            /* torrent_root_folder(), recomputed when root_known is false */
    bool root_known;
    bool needs_check;            /* added or restored while stopped: check on start */
    struct storage_check *check;
    struct piece_buf **partials;
    size_t num_partials, cap_partials;
    struct smartban *smartban;   /* blocks of failed pieces; NULL until one fails */
    struct cached_piece *rcache; /* TUNING_RCACHE_SLOTS_MAX slots; NULL until the first upload */
    unsigned reads_in_flight;    /* piece loads for the read cache */
    /* Bumped at every deactivation (stop, error, queueing): a read-cache load
     * started under an older epoch served peers that are gone, so its
     * failure must not fault the torrent as it runs now (a read that hit a
     * dead disk before a stop would otherwise put the restarted torrent
     * straight back into error). */
    uint32_t active_epoch;
    /* recheck_completed_torrents (qBittorrent's m_unchecked): a piece was
     * downloaded since the last check, so finishing rechecks first, and the
     * check that follows finishes it (finish_after_check). */
    bool forget_unsynced_at_start;   /* an I/O error demoted the unsynced pieces (torrent_fail_io) */
    bool downloaded_since_check;
    bool finish_after_check;
    bool fill_deferred;          /* requests held back while the write backlog is full */
    bool allocating;             /* storage_preallocate in flight (core/tuning.h: preallocate_all) */
    unsigned closing_peers;      /* peers whose handles are still closing */
    struct peer_candidate *cands;
    size_t num_cands, cap_cands;
    struct bt_choker *choker;    /* allocated with the torrent, behind a pointer so core/torrent.h
                                    needs no bt/ header */
    uint64_t next_choke_ms;
    bool closing;                /* session shutdown: keep it in the store */
    void (*closed_cb)(void *ud);
    void *closed_ud;
    bool delete_files;
    bool removal_counted;        /* torrent_remove: counted in session removals_in_flight */
    bool delete_intent_pending;  /* the unlinks wait for the deletion intent's commit */
    char *delete_key;            /* its row in TORRENT_NS_DELETING, NULL if none */
    uint64_t activity_sig;       /* last tick's view of what clients see change */
    bool resume_dirty;
    uint64_t resume_saved_ms;
    /* Resume saves wait for storage_sync; each takes a number, and one
     * whose number is not above resume_put_seq is dropped when its sync
     * ends (a newer save was put, or a check/removal made it stale). */
    uint64_t resume_seq, resume_put_seq;
    /* The have bits the last storage_sync that succeeded covered (also
     * what a check or trusted resume data found), bitfield_bytes(&have)
     * long.  After an I/O error the pieces had but not in here may never
     * have reached the disk: torrent_fail_io demotes them. */
    uint8_t *synced_bits;
    /* Other core modules' per-torrent state: only their functions write it
     * (their headers define the structs). */
    struct limits_torrent limits;        /* core/limits.c: the torrent's rate buckets */
    struct discovery_torrent disc;       /* core/discovery.c: DHT lookup, LSD announce times */
    struct webseed_set webseeds;         /* core/webseed.c: HTTP seeds */
    struct stream *streams;              /* core/stream.c: files being read by range (µTorrent /proxy) */
    struct torrent *chg_prev, *chg_next; /* core/session.c: the change list */
    struct torrent *checkq_next;         /* core/torrent.c: waiting for a check slot */
    bool check_queued;                   /* phase TP_CHECKING, in the session's check queue */
    uint8_t runprog_state;               /* core/runprog.c: µTorrent state last seen for state_cmd, 0 none */
};

/* Creates a torrent around mi (ownership taken, also on failure) and
 * registers it in the session.  Does not persist; see torrent_persist. */
int torrent_create(struct session *s, struct bt_metainfo *mi, const struct torrent_add_params *p,
                   int64_t added_on, struct torrent **out);

/* Creates a torrent from a magnet (no metadata yet).  The
 * magnet stays the caller's. */
int torrent_create_magnet(struct session *s, const struct bt_magnet *m, const struct torrent_add_params *p,
                          int64_t added_on, struct torrent **out);

/* Peer hooks for BEP10 extensions (ut_metadata, ut_pex). */
void torrent_on_ext_handshake(struct torrent *t, struct peer *p);
void torrent_on_metadata_msg(struct torrent *t, struct peer *p, const uint8_t *payload, size_t len);
/* BEP52 `hashes` / `hash reject` for the piece layers of a v2 magnet's info
 * dict.  on_hashes returns -EILSEQ when the hashes do not verify: the
 * caller drops the peer. */
int torrent_on_hashes(struct torrent *t, struct peer *p, const uint8_t *payload, size_t len);
void torrent_on_hash_reject(struct torrent *t, struct peer *p, const uint8_t *req);
void torrent_on_pex_msg(struct torrent *t, struct peer *p, const uint8_t *payload, size_t len);

/* Persists settings + metainfo; cb runs after the commit. */
int torrent_persist(struct torrent *t, void (*cb)(void *ud, int rc), void *ud);
int torrent_save_settings(struct torrent *t, void (*cb)(void *ud, int rc), void *ud);
/* Checkpoints the have bits: they are committed to the store only after
 * storage_sync has put the pieces they claim on stable storage. */
void torrent_save_resume(struct torrent *t);

/* Applies the stored settings and resume data (decoded by store/record; NULL
 * when the row had none or could not be read), then begins either from the
 * resume data (if the files still match), as missingFiles, or with a check.
 * move_intent: the torrent's row in TORRENT_NS_MOVING (a move a crash
 * interrupted), or NULL; the move is finished first. */
#define TORRENT_NS_MOVING "moving"   /* store namespace of the move intent rows */
struct record_torrent_settings;
struct record_torrent_stats;
int torrent_restore(struct torrent *t, const struct record_torrent_settings *settings, const uint8_t *have,
                    size_t have_len, const uint8_t *files, size_t files_len, const struct record_torrent_stats *stats,
                    const char *move_intent);

/* Finishes the deletions with files that a crash interrupted (intent rows
 * in TORRENT_NS_DELETING, core/torrent_int.h), at start before any torrent
 * loads; move_target(ud, hash) gives the target path of the torrent's move
 * intent row, or NULL. */
#define TORRENT_NS_DELETING "deleting"   /* store namespace of the deletion intent rows */
void torrent_finish_deletions(struct session *s, const char *(*move_target)(void *ud, const char *hash), void *ud);

/* Starts the first check (or trusts skip_checking) for a freshly added torrent. */
void torrent_begin(struct torrent *t, bool skip_checking);

void torrent_start(struct torrent *t);
void torrent_stop(struct torrent *t);
void torrent_recheck(struct torrent *t);
void torrent_reannounce(struct torrent *t);
void torrent_set_forced(struct torrent *t, bool forced);
/* source: PEER_SRC_* (where the address came from; shown as peer flags). */
int torrent_add_peer_addr(struct torrent *t, const struct sockaddr *addr, bool connect_now, uint8_t source);

/* Removes the torrent (and its data if asked); the struct is freed after cb. */
void torrent_remove(struct torrent *t, bool delete_files, void (*cb)(void *ud, int rc), void *ud);

/* Session shutdown: saves resume data once pending writes are done, frees
 * the torrent, then calls done. */
void torrent_close(struct torrent *t, void (*done)(void *ud), void *ud);

/* Called once per second by the session for active torrents. */
/* Starts queued checks while max_active_checking_torrents leaves room
 * (called every session tick, so raising the limit acts). */
void torrent_pump_checks(struct session *s);
void torrent_tick(struct torrent *t, uint64_t now_ms);

/* Sets the priority (0, 1, 6, 7) of files idx[0..n); -EINVAL for a bad
 * index or priority (nothing changed then).  Persists and re-evaluates
 * interest in peers. */
int torrent_set_file_priorities(struct torrent *t, const size_t *idx, size_t n, int prio);

/* Moves the data to a new save path on a worker thread (state moving);
 * cb runs when done (rc 0 or negative).  Creates the directory.  Asked
 * while the torrent is checking or moving, the move waits for that to end
 * (as libtorrent queues move_storage behind a check; the last request
 * wins) and cb runs at once with 0. */
int torrent_set_location(struct torrent *t, const char *path, void (*cb)(void *ud, int rc), void *ud);
/* Starts the move torrent_set_location deferred, if any (a check or move
 * just ended). */
void torrent_apply_pending_location(struct torrent *t);

/* torrents/renameFile (folder false) and renameFolder (true): renames on
 * disk on a worker, then in the metadata, persisted.  On failure returns a
 * negative code and a qBittorrent-style message in err: -ENOENT no such
 * file/folder, -EEXIST target taken, -EINVAL bad path, -EAGAIN no metadata,
 * -EBUSY moving/checking.  cb runs when the rename is done. */
int torrent_rename_path(struct torrent *t, const char *old_path, const char *new_path, bool folder,
                        char *err, size_t errlen, void (*cb)(void *ud, int rc), void *ud);

/* setDownloadPath: "" or NULL switches the incomplete folder off.  An
 * unfinished torrent's data moves to the new place (worker thread). */
int torrent_set_download_path(struct torrent *t, const char *path);

/* After the API changed plain settings fields (name, limits, flags): persist
 * them (cb after the commit) and mark the torrent changed. */
int torrent_settings_changed(struct torrent *t, void (*cb)(void *ud, int rc), void *ud);

/* The queue (core/queue.c) holds a torrent back or lets it run. */
void torrent_set_queued(struct torrent *t, bool queued);

/* Marks the torrent changed for sync/maindata. */
void torrent_touch(struct torrent *t);

/* The folder every file lies in (relative), or NULL: content_path/root_path. */
const char *torrent_root_folder(struct torrent *t);

/* State, progress, ratio, ETA and the other derived figures: core/torrent_status.h. */
const char *torrent_name(const struct torrent *t);
bool torrent_is_finished(const struct torrent *t);   /* all wanted pieces */
int64_t torrent_piece_size(const struct torrent *t, uint32_t piece);

/* Upload side: the whole piece from the read cache, or NULL while it is
 * being loaded (the peer is woken when it arrives). */
const uint8_t *torrent_cached_piece(struct torrent *t, uint32_t piece);

/* Peer hooks (core/peer.c). */
void torrent_peer_attach(struct torrent *t, struct peer *p);
void torrent_peer_detach(struct torrent *t, struct peer *p);
/* The candidate at sa is dialled again at the next tick, its last failure
 * forgiven (core/mseconn.c: a plaintext retry after a refused MSE). */
void torrent_retry_peer_soon(struct torrent *t, const struct sockaddr *sa);
void torrent_peer_closed(struct torrent *t);
void torrent_on_block(struct torrent *t, struct peer *p, uint32_t piece, uint32_t begin,
                      const uint8_t *data, uint32_t len);
/* The same for any source: tag is what the picker knows the requester by
 * (the peer, or a web seed); p may be NULL. */
void torrent_on_block_from(struct torrent *t, struct peer *p, void *tag, uint32_t piece, uint32_t begin,
                           const uint8_t *data, uint32_t len);
void torrent_fill_requests(struct torrent *t, struct peer *p);
void torrent_peer_interest(struct torrent *t, struct peer *p);   /* peer's have set changed */
void torrent_unchoke_check(struct torrent *t);                   /* a peer became interested */

#endif
