/* store — the daemon's SQLite database: torrents, resume data, preferences
 * and generic namespaced rows (categories, tags, DHT nodes, RSS ...).
 * Rows whose value is JSON text are made and read by store/record.h; this
 * module stores the text as given.
 *
 * Durability policy ("Nothing is lost"), and why:
 *  - journal_mode=WAL: a commit appends to the -wal file and needs one fsync
 *    (no rollback journal plus database fsyncs), and the loop thread's reads
 *    never wait for the writer thread.
 *  - synchronous=FULL: the WAL is fsynced at every COMMIT, so a user change
 *    is reported done (callback rc 0) only once it is on stable storage and
 *    survives kill -9 and power loss.  NORMAL would fsync only at WAL
 *    checkpoints: still never corrupt, but a power cut could take back the
 *    last commits, i.e. changes the API had already answered.  The cost, one
 *    fsync per transaction, is kept small by grouping: jobs queued together
 *    share one transaction, and piece-completion checkpoints are batched.
 *  - WAL checkpoints: SQLite's default wal_autocheckpoint (1000 pages) is
 *    kept, run passively by the writer's commit that crosses it, and the
 *    last connection to close checkpoints and removes the WAL.  SQLite
 *    fsyncs the WAL before copying it back and the database before the WAL
 *    is reused, so a crash or power cut mid-checkpoint is redone from the
 *    WAL on the next open.
 *  - Piece-completion checkpoints (store_resume_put) are cheap to call
 *    often: they are coalesced in memory (latest per hash wins) and
 *    committed together at most every checkpoint interval (2 s), on
 *    store_flush and on store_close.  After a crash at most one interval of
 *    checkpoints is lost, which costs re-downloading what arrived since,
 *    never trust in unverified data: a have bit is set only after its piece
 *    was verified and written, and core hands the bits to the store only
 *    after storage_sync() put those pieces' bytes on stable storage, so
 *    after a power cut too the committed bits never claim lost bytes.  On
 *    load core trusts the bits without a recheck unless a file changed that
 *    the daemon could not have written since (core/torrent_persist.c).
 *  Tested by tests/integration/test_crash_resume.py (kill -9) and
 *  test_power_cut.py (snapshots of a frozen daemon's profile and data, and
 *  real cuts: an ext4 image shut down without flushing anything).
 *
 * Threads: one dedicated writer thread owns the write connection and runs
 * every INSERT/UPDATE/DELETE.  The loop thread only copies the inputs into a
 * job, enqueues it, and gets the result through a uv_async_t: every
 * store_done_cb runs on the loop thread.  Jobs run in the order they were
 * enqueued; jobs that are queued together are committed in one transaction
 * (each inside its own SAVEPOINT, so one job's failure does not undo the
 * others; a failed COMMIT fails them all).
 *
 * Reads: store_load_* run synchronously on the loop thread through a second,
 * read-only connection.  With WAL a reader never blocks the writer and sees
 * the last committed state, so loading needs no handshake with the writer
 * thread and can also be used after startup (e.g. rss loading its rows
 * lazily) — at the price of blocking the loop while it scans, which is what
 * startup wants anyway (one scan, no per-torrent round trips).
 *
 * Errors: functions return 0 or a negative errno code.  SQLite failures map
 * to -ENOSPC (disk full), -EIO, -EACCES/-EROFS/-ENOENT (from the OS error
 * when opening), -EBUSY, -ENOMEM, -EPROTO (not a database, or a schema newer
 * than this build knows).  Enqueueing validates and copies: -EINVAL for
 * NULL/oversized arguments, -ENOMEM, -EAGAIN when STORE_MAX_QUEUED jobs are
 * already waiting (the disk is stuck), -ESHUTDOWN once store_close began.
 * A failed commit is logged and reported through the callback; the store
 * stays usable.  A failed checkpoint batch is kept in memory and retried at
 * the next interval (unless newer data for the hash arrived meanwhile).
 */
#ifndef TD_STORE_STORE_H
#define TD_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Input limits; larger inputs are rejected with -EINVAL. */
#define STORE_MAX_HASH      128u          /* info-hash as text (v1 hex 40, v2 64) */
#define STORE_MAX_KEY       1024u         /* pref key, kv namespace and key */
#define STORE_MAX_TEXT      (16u << 20)   /* settings, stats, magnet, JSON values */
#define STORE_MAX_BLOB      (256u << 20)  /* metainfo, have bitfield, files blob */
#define STORE_MAX_BATCH     4096u         /* entries in one store_prefs_put */
#define STORE_MAX_QUEUED    65536u        /* user jobs waiting for the writer */

#define STORE_SCHEMA_VERSION 1
#define STORE_DEFAULT_CHECKPOINT_MS 2000u

struct store;

/* Runs on the loop thread after the job's COMMIT (rc 0) or its failure
 * (negative errno).  It may enqueue further jobs, but must not call
 * store_close. */
typedef void (*store_done_cb)(void *ud, int rc);

/* Opens (creating and migrating as needed) the database at db_path, switches
 * it to WAL, synchronous=FULL, busy_timeout, and starts the writer thread.
 * The parent directory must exist.  A database with a user_version newer than
 * STORE_SCHEMA_VERSION is refused (-EPROTO) rather than risked. */
int store_open(uv_loop_t *loop, const char *db_path, struct store **out);

/* Loop thread.  Runs every queued job, commits pending checkpoints, delivers
 * the callbacks of all jobs queued before the call (before returning), joins
 * the writer thread and closes the connections.  Jobs enqueued from those
 * callbacks fail with -ESHUTDOWN.  The internal uv_async_t is released by the
 * loop's next iteration, so run the loop once more (uv_run UV_RUN_NOWAIT or
 * DEFAULT) before uv_loop_close().  NULL is a no-op. */
void store_close(struct store *s);

/* ---- startup reads (loop thread, synchronous) ----
 * Callbacks return 0 to continue; any other value stops the scan and is
 * returned.  Pointers are valid only during the callback.  NULL columns are
 * NULL pointers (and 0 lengths). */

struct store_torrent_row {
    const char *hash;
    const uint8_t *metainfo;   /* the .torrent bytes; NULL for a bare magnet */
    size_t metainfo_len;
    const char *magnet;
    int64_t added_on;
    const char *settings;      /* JSON text: store/record.h record_torrent_settings */
    const uint8_t *have;       /* resume: piece bitfield, NULL if never checkpointed */
    size_t have_len;
    const uint8_t *files;      /* resume: file sizes/mtimes blob */
    size_t files_len;
    const char *stats;         /* resume: JSON text, record_torrent_stats */
    int64_t resume_updated;    /* epoch seconds of the checkpoint, 0 if none */
};

/* torrents LEFT JOIN resume in one scan, ordered by added_on (then hash). */
int store_load_torrents(struct store *s,
                        int (*fn)(void *ud, const struct store_torrent_row *row), void *ud);
int store_load_prefs(struct store *s,
                     int (*fn)(void *ud, const char *key, const char *value), void *ud);
/* The settings JSON of one torrent row: *out is a malloc'd copy, or NULL
 * when there is no such torrent (or its settings are NULL).  0 or a
 * negative errno. */
int store_load_torrent_settings(struct store *s, const char *hash, char **out);
/* Rows of one namespace, ordered by key. */
int store_load_kv(struct store *s, const char *ns,
                  int (*fn)(void *ud, const char *key, const char *value), void *ud);

/* ---- user changes: durable before cb(ud, 0); cb may be NULL ----
 * A return of 0 means queued: cb will be called exactly once (unless NULL).
 * A negative return means not queued and cb will not be called. */

/* Inserts or replaces the torrent row; an existing resume row is kept.
 * metainfo may be NULL (magnet without metadata); settings must not be NULL. */
int store_torrent_put(struct store *s, const char *hash, const uint8_t *metainfo, size_t len,
                      const char *magnet, int64_t added_on, const char *settings,
                      store_done_cb cb, void *ud);
/* -ENOENT through cb when the torrent does not exist. */
int store_torrent_settings(struct store *s, const char *hash, const char *settings,
                           store_done_cb cb, void *ud);
/* Metadata arrived for a magnet.  -ENOENT through cb when the torrent does
 * not exist. */
int store_torrent_metainfo(struct store *s, const char *hash, const uint8_t *metainfo,
                           size_t len, store_done_cb cb, void *ud);
/* Deletes the torrent and its resume row, and drops its not yet committed
 * checkpoint.  Deleting an unknown hash succeeds (idempotent). */
int store_torrent_delete(struct store *s, const char *hash, store_done_cb cb, void *ud);
/* value must not be NULL. */
int store_pref_put(struct store *s, const char *key, const char *value,
                   store_done_cb cb, void *ud);
/* All n pairs in one transaction: all or none.  n may be 0. */
int store_prefs_put(struct store *s, const char *const *keys, const char *const *values,
                    size_t n, store_done_cb cb, void *ud);
/* value NULL deletes the row (deleting a missing row succeeds). */
int store_kv_put(struct store *s, const char *ns, const char *key, const char *value,
                 store_done_cb cb, void *ud);

/* ---- checkpoints: coalesced, no callback ----
 * Latest per hash wins.  A checkpoint for a torrent that does not exist (or
 * was deleted) when the batch commits is dropped, never resurrects a row.
 * have, files and stats may be NULL. */
int store_resume_put(struct store *s, const char *hash, const uint8_t *have, size_t have_len,
                     const uint8_t *files, size_t files_len, const char *stats);
/* Commits every checkpoint and job queued before it; cb(ud, rc) after. */
int store_flush(struct store *s, store_done_cb cb, void *ud);
/* 0 = commit checkpoints as soon as the writer is free. */
void store_set_checkpoint_interval(struct store *s, unsigned ms);

#endif
