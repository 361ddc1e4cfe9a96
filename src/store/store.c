/* store — see store.h for the contract.
 *
 * Layout of this file: error mapping and schema; the pending-checkpoint map;
 * jobs and the writer thread; open/close; the public enqueue functions; the
 * startup reads.
 *
 * Shared between the loop thread and the writer thread, all under s->mu:
 * the job FIFO, the done FIFO, the pending checkpoint map and the flags.
 * The write connection and its statements belong to the writer thread once
 * it started; the read connection belongs to the loop thread.
 */
#include "store/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/hmap.h"
#include "util/log.h"

#define GROUP_MAX     256u                       /* jobs per transaction */
#define RETRY_MIN_NS  (1000ull * 1000 * 1000)    /* back-off after a failed checkpoint */
#define BUSY_TIMEOUT_MS 5000

/* ------------------------------------------------------------------ errors */

static int sql_err(sqlite3 *db, int rc)
{
    int sys = db ? sqlite3_system_errno(db) : 0;
    switch (rc & 0xff) {
    case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE: return 0;
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_READONLY: return -EROFS;
    case SQLITE_PERM: case SQLITE_AUTH: return -EACCES;
    case SQLITE_NOTADB: case SQLITE_CORRUPT: return -EPROTO;
    case SQLITE_CONSTRAINT: case SQLITE_MISMATCH: case SQLITE_TOOBIG: case SQLITE_RANGE:
        return -EINVAL;
    case SQLITE_CANTOPEN: return sys > 0 ? -sys : -ENOENT;
    case SQLITE_IOERR: return sys > 0 ? -sys : -EIO;
    default: return -EIO;
    }
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        int e = sql_err(db, rc);
        log_msg(LOG_WARNING, "store: \"%.40s\" failed: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return e;
    }
    return 0;
}

/* ------------------------------------------------------------------ schema */

/* migrations[v] brings user_version v to v + 1.  Append only; never edit a
 * released step. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    "CREATE TABLE torrents(hash TEXT PRIMARY KEY, metainfo BLOB, magnet TEXT,"
    " added_on INTEGER NOT NULL, settings TEXT NOT NULL);"
    "CREATE TABLE resume(hash TEXT PRIMARY KEY, have BLOB, files BLOB, stats TEXT,"
    " updated INTEGER);"
    "CREATE TABLE prefs(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE kv(ns TEXT, key TEXT, value TEXT, PRIMARY KEY(ns, key));",
};

static int user_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_err(db, rc);
    rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    int e = rc == SQLITE_ROW ? 0 : sql_err(db, rc);
    sqlite3_finalize(st);
    return e;
}

static int migrate(sqlite3 *db, const char *path)
{
    int rc = exec(db, "BEGIN IMMEDIATE");
    if (rc)
        return rc;
    int v = 0;
    rc = user_version(db, &v);
    if (!rc && (v < 0 || v > STORE_SCHEMA_VERSION)) {
        log_msg(LOG_CRITICAL, "store: %s has schema version %d, this build knows up to %d",
                path, v, STORE_SCHEMA_VERSION);
        rc = -EPROTO;
    }
    for (int from = v; !rc && from < STORE_SCHEMA_VERSION; from++) {
        char sql[64];
        rc = exec(db, migrations[from]);
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", from + 1);
        if (!rc)
            rc = exec(db, sql);
        if (!rc)
            log_msg(LOG_INFO, "store: %s migrated to schema version %d", path, from + 1);
    }
    if (!rc)
        rc = exec(db, "COMMIT");
    if (rc && !sqlite3_get_autocommit(db))
        exec(db, "ROLLBACK");
    return rc;
}

/* ------------------------------------------------- pending checkpoint map */

struct rentry {
    char *hash;
    uint8_t *have;
    size_t have_len;
    uint8_t *files;
    size_t files_len;
    char *stats;
    int64_t updated;
    /* hash, have, files, stats follow in the same allocation */
};

/* util/hmap keyed by e->hash (the entry's own string), valued by e. */

/* Inserts e, returning the entry it replaced (or NULL), or e itself when
 * there is no memory for the table (the caller frees what is returned). */
static struct rentry *rmap_put(struct hmap *m, struct rentry *e)
{
    void *old;
    if (hmap_put(m, e->hash, strlen(e->hash), e, &old) != 0)
        return e;
    return old;
}

static struct rentry *rmap_remove(struct hmap *m, const char *hash)
{
    return hmap_del(m, hash, strlen(hash));
}

/* Frees the entries and the table. */
static void rmap_free(struct hmap *m)
{
    size_t it = 0;
    for (struct hmap_ent *e; (e = hmap_next(m, &it));)
        free(e->val);
    hmap_free(m);
}

/* ------------------------------------------------------------------- jobs */

enum job_kind { J_TORRENT_PUT, J_SETTINGS, J_METAINFO, J_DELETE, J_PREFS, J_KV, J_FLUSH };

struct job {
    struct job *next;
    enum job_kind kind;
    store_done_cb cb;
    void *ud;
    int rc;
    char *a;          /* hash, or kv namespace */
    char *b;          /* magnet / settings / kv key */
    char *c;          /* settings (put) / kv value (NULL = delete) */
    uint8_t *blob;    /* metainfo, NULL = SQL NULL */
    size_t blob_len;
    int64_t num;      /* added_on */
    size_t n;         /* prefs */
    char **keys, **vals;
};

enum { ST_TORRENT_PUT, ST_SETTINGS, ST_METAINFO, ST_DEL_RESUME, ST_DEL_TORRENT,
       ST_PREF_PUT, ST_KV_PUT, ST_KV_DEL, ST_RESUME_PUT, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {
    [ST_TORRENT_PUT] = "INSERT INTO torrents(hash, metainfo, magnet, added_on, settings)"
                       " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(hash) DO UPDATE SET"
                       " metainfo = excluded.metainfo, magnet = excluded.magnet,"
                       " added_on = excluded.added_on, settings = excluded.settings",
    [ST_SETTINGS] = "UPDATE torrents SET settings = ?2 WHERE hash = ?1",
    [ST_METAINFO] = "UPDATE torrents SET metainfo = ?2 WHERE hash = ?1",
    [ST_DEL_RESUME] = "DELETE FROM resume WHERE hash = ?1",
    [ST_DEL_TORRENT] = "DELETE FROM torrents WHERE hash = ?1",
    [ST_PREF_PUT] = "INSERT OR REPLACE INTO prefs(key, value) VALUES(?1, ?2)",
    [ST_KV_PUT] = "INSERT OR REPLACE INTO kv(ns, key, value) VALUES(?1, ?2, ?3)",
    [ST_KV_DEL] = "DELETE FROM kv WHERE ns = ?1 AND key = ?2",
    /* Only for torrents that exist: a late checkpoint never resurrects a row. */
    [ST_RESUME_PUT] = "INSERT OR REPLACE INTO resume(hash, have, files, stats, updated)"
                      " SELECT ?1, ?2, ?3, ?4, ?5"
                      " WHERE EXISTS(SELECT 1 FROM torrents WHERE hash = ?1)",
};

struct store {
    uv_loop_t *loop;
    uv_async_t *async;          /* own allocation: outlives store_close until the loop frees it */
    char *path;
    sqlite3 *wdb, *rdb;
    sqlite3_stmt *st[ST_COUNT];
    uv_thread_t thread;
    size_t outstanding;         /* loop thread only: jobs whose callback is due */

    uv_mutex_t mu;
    uv_cond_t cv;
    struct job *head, *tail;    /* queued for the writer */
    size_t nqueued;
    struct job *done_head, *done_tail;
    struct hmap pending;        /* hash -> struct rentry: checkpoints not yet taken by the writer */
    uint64_t pending_since;     /* uv_hrtime() when pending became non-empty */
    uint64_t retry_at;          /* no checkpoint commit before this (after a failure) */
    uint64_t interval_ns;
    int closing;
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->a);
    free(j->b);
    free(j->c);
    free(j->blob);
    for (size_t i = 0; i < j->n; i++) {
        if (j->keys)
            free(j->keys[i]);
        if (j->vals)
            free(j->vals[i]);
    }
    free(j->keys);
    free(j->vals);
    free(j);
}

static int bind_blob(sqlite3_stmt *st, int i, const uint8_t *p, size_t n)
{
    return p ? sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int bind_text(sqlite3_stmt *st, int i, const char *p)
{
    return p ? sqlite3_bind_text(st, i, p, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Steps a bound write statement to completion and resets it.  *changes gets
 * the number of rows it touched when non-NULL. */
static int step(struct store *s, sqlite3_stmt *st, int brc, int *changes)
{
    int rc = brc == SQLITE_OK ? sqlite3_step(st) : brc;
    int e = 0;
    if (rc != SQLITE_DONE) {
        e = sql_err(s->wdb, rc);
        log_msg(LOG_WARNING, "store: write failed: %s", sqlite3_errmsg(s->wdb));
    } else if (changes) {
        *changes = sqlite3_changes(s->wdb);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

static int run_job(struct store *s, struct job *j)
{
    sqlite3_stmt *st;
    int brc, changes = 0, rc;
    switch (j->kind) {
    case J_TORRENT_PUT:
        st = s->st[ST_TORRENT_PUT];
        brc = bind_text(st, 1, j->a);
        brc |= bind_blob(st, 2, j->blob, j->blob_len);
        brc |= bind_text(st, 3, j->b);
        brc |= sqlite3_bind_int64(st, 4, j->num);
        brc |= bind_text(st, 5, j->c);
        return step(s, st, brc, NULL);
    case J_SETTINGS:
    case J_METAINFO:
        st = s->st[j->kind == J_SETTINGS ? ST_SETTINGS : ST_METAINFO];
        brc = bind_text(st, 1, j->a);
        brc |= j->kind == J_SETTINGS ? bind_text(st, 2, j->b)
                                     : bind_blob(st, 2, j->blob, j->blob_len);
        rc = step(s, st, brc, &changes);
        return rc ? rc : changes ? 0 : -ENOENT;
    case J_DELETE:
        st = s->st[ST_DEL_RESUME];
        rc = step(s, st, bind_text(st, 1, j->a), NULL);
        if (rc)
            return rc;
        st = s->st[ST_DEL_TORRENT];
        return step(s, st, bind_text(st, 1, j->a), NULL);
    case J_PREFS:
        st = s->st[ST_PREF_PUT];
        for (size_t i = 0; i < j->n; i++) {
            brc = bind_text(st, 1, j->keys[i]);
            brc |= bind_text(st, 2, j->vals[i]);
            if ((rc = step(s, st, brc, NULL)))
                return rc;
        }
        return 0;
    case J_KV:
        st = s->st[j->c ? ST_KV_PUT : ST_KV_DEL];
        brc = bind_text(st, 1, j->a);
        brc |= bind_text(st, 2, j->b);
        if (j->c)
            brc |= bind_text(st, 3, j->c);
        return step(s, st, brc, NULL);
    case J_FLUSH:
        return 0;
    }
    return -EINVAL;
}

/* One transaction; each job in its own savepoint. */
static int run_group(struct store *s, struct job **g, size_t n)
{
    int rc = exec(s->wdb, "BEGIN IMMEDIATE");
    for (size_t i = 0; i < n && !rc; i++) {
        rc = exec(s->wdb, "SAVEPOINT job");
        if (rc)
            break;
        g[i]->rc = run_job(s, g[i]);
        if (g[i]->rc && sqlite3_get_autocommit(s->wdb)) {
            rc = g[i]->rc;   /* SQLite rolled the whole transaction back (I/O, full) */
            break;
        }
        if (g[i]->rc)
            exec(s->wdb, "ROLLBACK TO job");
        rc = exec(s->wdb, "RELEASE job");
    }
    if (!rc)
        rc = exec(s->wdb, "COMMIT");
    if (rc) {
        log_msg(LOG_CRITICAL, "store: commit of %zu change(s) failed: %s", n, strerror(-rc));
        if (!sqlite3_get_autocommit(s->wdb))
            exec(s->wdb, "ROLLBACK");
        for (size_t i = 0; i < n; i++)
            if (!g[i]->rc)
                g[i]->rc = rc;
    }
    return rc;
}

/* Takes every pending checkpoint and commits them in one transaction.  On
 * failure the entries go back unless newer ones arrived meanwhile (or this is
 * the final attempt at close). */
static int write_checkpoints(struct store *s, int final)
{
    uv_mutex_lock(&s->mu);
    struct hmap batch = s->pending;
    memset(&s->pending, 0, sizeof s->pending);
    uv_mutex_unlock(&s->mu);
    if (!batch.n) {
        rmap_free(&batch);
        return 0;
    }
    sqlite3_stmt *st = s->st[ST_RESUME_PUT];
    int rc = exec(s->wdb, "BEGIN IMMEDIATE");
    size_t it = 0;
    for (struct hmap_ent *he; !rc && (he = hmap_next(&batch, &it));) {
        struct rentry *e = he->val;
        int brc = bind_text(st, 1, e->hash);
        brc |= bind_blob(st, 2, e->have, e->have_len);
        brc |= bind_blob(st, 3, e->files, e->files_len);
        brc |= bind_text(st, 4, e->stats);
        brc |= sqlite3_bind_int64(st, 5, e->updated);
        rc = step(s, st, brc, NULL);
    }
    if (!rc)
        rc = exec(s->wdb, "COMMIT");
    if (!rc) {
        log_debug("store: checkpointed %zu torrent(s)", batch.n);
        uv_mutex_lock(&s->mu);
        s->retry_at = 0;
        uv_mutex_unlock(&s->mu);
        rmap_free(&batch);
        return 0;
    }
    if (!sqlite3_get_autocommit(s->wdb))
        exec(s->wdb, "ROLLBACK");
    log_msg(LOG_CRITICAL, "store: checkpoint of %zu torrent(s) failed: %s%s", batch.n,
            strerror(-rc), final ? " (dropped at close)" : " (will retry)");
    if (!final) {
        uint64_t now = uv_hrtime();
        uv_mutex_lock(&s->mu);
        size_t it2 = 0;
        for (struct hmap_ent *he; (he = hmap_next(&batch, &it2));) {
            struct rentry *e = he->val;
            if (hmap_get(&s->pending, e->hash, strlen(e->hash))) {
                free(e);   /* newer data arrived meanwhile and wins */
                continue;
            }
            if (!s->pending.n)
                s->pending_since = now;
            if (rmap_put(&s->pending, e) == e)
                free(e);   /* no memory for the table: this checkpoint is lost */
        }
        hmap_free(&batch);   /* the entries went back or were freed */
        s->retry_at = now + (s->interval_ns > RETRY_MIN_NS ? s->interval_ns : RETRY_MIN_NS);
        uv_mutex_unlock(&s->mu);
    }
    rmap_free(&batch);
    return rc;
}

static void push_done(struct store *s, struct job *j)
{
    j->next = NULL;
    if (s->done_tail)
        s->done_tail->next = j;
    else
        s->done_head = j;
    s->done_tail = j;
}

static void writer_main(void *arg)
{
    struct store *s = arg;
    struct job *g[GROUP_MAX];
    uv_mutex_lock(&s->mu);
    for (;;) {
        if (s->head) {
            size_t n = 0;
            struct job *flush = NULL;
            while (s->head && n < GROUP_MAX) {
                struct job *j = s->head;
                s->head = j->next;
                if (!s->head)
                    s->tail = NULL;
                s->nqueued--;
                if (j->kind == J_FLUSH) {
                    flush = j;
                    break;
                }
                g[n++] = j;
            }
            uv_mutex_unlock(&s->mu);
            int grc = n ? run_group(s, g, n) : 0;
            int frc = flush ? write_checkpoints(s, 0) : 0;
            uv_mutex_lock(&s->mu);
            for (size_t i = 0; i < n; i++)
                push_done(s, g[i]);
            if (flush) {
                flush->rc = grc ? grc : frc;
                push_done(s, flush);
            }
            uv_async_send(s->async);
            continue;
        }
        if (s->pending.n) {
            uint64_t now = uv_hrtime();
            uint64_t due = s->pending_since + s->interval_ns;
            if (due < s->retry_at)
                due = s->retry_at;
            if (s->closing || now >= due) {
                int final = s->closing;
                uv_mutex_unlock(&s->mu);
                write_checkpoints(s, final);
                uv_mutex_lock(&s->mu);
                continue;
            }
            uv_cond_timedwait(&s->cv, &s->mu, due - now);
            continue;
        }
        if (s->closing)
            break;
        uv_cond_wait(&s->cv, &s->mu);
    }
    uv_mutex_unlock(&s->mu);
}

/* Loop thread: runs the callbacks of finished jobs in order. */
static void deliver(struct store *s)
{
    uv_mutex_lock(&s->mu);
    struct job *list = s->done_head;
    s->done_head = s->done_tail = NULL;
    uv_mutex_unlock(&s->mu);
    while (list) {
        struct job *j = list;
        list = j->next;
        if (j->cb)
            j->cb(j->ud, j->rc);
        job_free(j);
        if (--s->outstanding == 0)
            uv_unref((uv_handle_t *)s->async);
    }
}

static void on_async(uv_async_t *a)
{
    deliver(a->data);
}

static void on_async_closed(uv_handle_t *h)
{
    free(h);
}

/* -------------------------------------------------------------- open/close */

static int open_conn(const char *path, int flags, sqlite3 **out)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        int e = sql_err(db, rc);
        log_msg(LOG_CRITICAL, "store: cannot open %s: %s", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return e;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    *out = db;
    return 0;
}

/* WAL + FULL on the write connection (why: store.h, "Durability policy");
 * wal_autocheckpoint stays at SQLite's default.  The first statements that
 * touch the file, so this is also where "not a database" and I/O errors
 * show up. */
static int setup_writer(sqlite3 *db, const char *path)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int e = 0;
    if (rc != SQLITE_ROW) {
        e = sql_err(db, rc);
        log_msg(LOG_CRITICAL, "store: %s: %s", path, sqlite3_errmsg(db));
    } else if (strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
        log_msg(LOG_CRITICAL, "store: %s: WAL mode unavailable", path);
        e = -EIO;
    }
    sqlite3_finalize(st);
    if (!e)
        e = exec(db, "PRAGMA synchronous=FULL");
    if (!e)
        e = migrate(db, path);
    return e;
}

static void store_free(struct store *s)
{
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    if (s->rdb && sqlite3_close(s->rdb) != SQLITE_OK)
        log_msg(LOG_WARNING, "store: closing the read connection: %s", sqlite3_errmsg(s->rdb));
    /* The last connection to close checkpoints the WAL into the database. */
    if (s->wdb && sqlite3_close(s->wdb) != SQLITE_OK)
        log_msg(LOG_WARNING, "store: closing %s: %s", s->path, sqlite3_errmsg(s->wdb));
    rmap_free(&s->pending);
    free(s->path);
    free(s);
}

int store_open(uv_loop_t *loop, const char *db_path, struct store **out)
{
    if (out)
        *out = NULL;
    if (!loop || !db_path || !*db_path || !out)
        return -EINVAL;
    if (!sqlite3_threadsafe())
        return -ENOTSUP;
    struct store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(db_path))) {
        free(s);
        return -ENOMEM;
    }
    s->loop = loop;
    s->interval_ns = STORE_DEFAULT_CHECKPOINT_MS * 1000000ull;
    int rc = open_conn(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->wdb);
    if (!rc)
        rc = setup_writer(s->wdb, db_path);
    for (int i = 0; i < ST_COUNT && !rc; i++) {
        int prc = sqlite3_prepare_v3(s->wdb, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                     &s->st[i], NULL);
        if (prc != SQLITE_OK) {
            log_msg(LOG_CRITICAL, "store: prepare: %s", sqlite3_errmsg(s->wdb));
            rc = sql_err(s->wdb, prc);
        }
    }
    if (!rc)
        rc = open_conn(db_path, SQLITE_OPEN_READONLY, &s->rdb);
    if (rc) {
        store_free(s);
        return rc;
    }
    if (uv_mutex_init(&s->mu) != 0) {
        store_free(s);
        return -ENOMEM;
    }
    if (uv_cond_init(&s->cv) != 0) {
        uv_mutex_destroy(&s->mu);
        store_free(s);
        return -ENOMEM;
    }
    s->async = malloc(sizeof *s->async);
    if (!s->async || uv_async_init(loop, s->async, on_async) != 0) {
        free(s->async);
        uv_cond_destroy(&s->cv);
        uv_mutex_destroy(&s->mu);
        store_free(s);
        return -ENOMEM;
    }
    s->async->data = s;
    uv_unref((uv_handle_t *)s->async);   /* keeps the loop alive only while jobs are due */
    rc = uv_thread_create(&s->thread, writer_main, s);
    if (rc != 0) {
        log_msg(LOG_CRITICAL, "store: cannot start the writer thread: %s", uv_strerror(rc));
        uv_close((uv_handle_t *)s->async, on_async_closed);
        uv_cond_destroy(&s->cv);
        uv_mutex_destroy(&s->mu);
        store_free(s);
        return rc;
    }
    log_debug("store: opened %s", db_path);
    *out = s;
    return 0;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    uv_mutex_lock(&s->mu);
    s->closing = 1;
    uv_cond_signal(&s->cv);
    uv_mutex_unlock(&s->mu);
    uv_thread_join(&s->thread);
    deliver(s);
    uv_close((uv_handle_t *)s->async, on_async_closed);
    uv_cond_destroy(&s->cv);
    uv_mutex_destroy(&s->mu);
    store_free(s);
}

/* ----------------------------------------------------------- enqueueing */

static int text_ok(const char *p, size_t max)
{
    return p && strnlen(p, max + 1) <= max;
}

static int hash_ok(const char *h)
{
    return text_ok(h, STORE_MAX_HASH) && *h;
}

/* NULL stays NULL; a zero-length block stays a (non-NULL) empty blob. */
static int dup_blob(const uint8_t *p, size_t n, uint8_t **out)
{
    *out = NULL;
    if (!p)
        return 0;
    if (!(*out = malloc(n ? n : 1)))
        return -ENOMEM;
    memcpy(*out, p, n);
    return 0;
}

static int dup_str(const char *p, char **out)
{
    *out = NULL;
    return p && !(*out = strdup(p)) ? -ENOMEM : 0;
}

static struct job *job_new(enum job_kind kind, store_done_cb cb, void *ud)
{
    struct job *j = calloc(1, sizeof *j);
    if (j) {
        j->kind = kind;
        j->cb = cb;
        j->ud = ud;
    }
    return j;
}

/* Takes ownership of j (frees it on failure). */
static int enqueue(struct store *s, struct job *j, int copy_rc)
{
    if (!j)
        return -ENOMEM;
    int rc = copy_rc;
    if (!rc) {
        uv_mutex_lock(&s->mu);
        if (s->closing) {
            rc = -ESHUTDOWN;
        } else if (s->nqueued >= STORE_MAX_QUEUED) {
            rc = -EAGAIN;
        } else {
            j->next = NULL;
            if (s->tail)
                s->tail->next = j;
            else
                s->head = j;
            s->tail = j;
            s->nqueued++;
            uv_cond_signal(&s->cv);
        }
        uv_mutex_unlock(&s->mu);
    }
    if (rc) {
        if (rc == -EAGAIN)
            log_msg(LOG_CRITICAL, "store: %u changes waiting for the disk; refusing more",
                    STORE_MAX_QUEUED);
        job_free(j);
        return rc;
    }
    if (s->outstanding++ == 0)
        uv_ref((uv_handle_t *)s->async);
    return 0;
}

int store_torrent_put(struct store *s, const char *hash, const uint8_t *metainfo, size_t len,
                      const char *magnet, int64_t added_on, const char *settings,
                      store_done_cb cb, void *ud)
{
    if (!s || !hash_ok(hash) || !text_ok(settings, STORE_MAX_TEXT) ||
        (magnet && !text_ok(magnet, STORE_MAX_TEXT)) || (metainfo && len > STORE_MAX_BLOB))
        return -EINVAL;
    struct job *j = job_new(J_TORRENT_PUT, cb, ud);
    int rc = 0;
    if (j) {
        rc |= dup_str(hash, &j->a);
        rc |= dup_str(magnet, &j->b);
        rc |= dup_str(settings, &j->c);
        rc |= dup_blob(metainfo, len, &j->blob);
        j->blob_len = len;
        j->num = added_on;
    }
    return enqueue(s, j, rc ? -ENOMEM : 0);
}

int store_torrent_settings(struct store *s, const char *hash, const char *settings,
                           store_done_cb cb, void *ud)
{
    if (!s || !hash_ok(hash) || !text_ok(settings, STORE_MAX_TEXT))
        return -EINVAL;
    struct job *j = job_new(J_SETTINGS, cb, ud);
    int rc = j ? dup_str(hash, &j->a) | dup_str(settings, &j->b) : 0;
    return enqueue(s, j, rc ? -ENOMEM : 0);
}

int store_torrent_metainfo(struct store *s, const char *hash, const uint8_t *metainfo,
                           size_t len, store_done_cb cb, void *ud)
{
    if (!s || !hash_ok(hash) || !metainfo || len > STORE_MAX_BLOB)
        return -EINVAL;
    struct job *j = job_new(J_METAINFO, cb, ud);
    int rc = 0;
    if (j) {
        rc = dup_str(hash, &j->a) | dup_blob(metainfo, len, &j->blob);
        j->blob_len = len;
    }
    return enqueue(s, j, rc ? -ENOMEM : 0);
}

int store_torrent_delete(struct store *s, const char *hash, store_done_cb cb, void *ud)
{
    if (!s || !hash_ok(hash))
        return -EINVAL;
    struct job *j = job_new(J_DELETE, cb, ud);
    int rc = j ? dup_str(hash, &j->a) : 0;
    rc = enqueue(s, j, rc ? -ENOMEM : 0);
    if (rc)
        return rc;
    /* A checkpoint not yet taken by the writer must not outlive the delete. */
    uv_mutex_lock(&s->mu);
    struct rentry *e = rmap_remove(&s->pending, hash);
    uv_mutex_unlock(&s->mu);
    free(e);
    return 0;
}

int store_prefs_put(struct store *s, const char *const *keys, const char *const *values,
                    size_t n, store_done_cb cb, void *ud)
{
    if (!s || n > STORE_MAX_BATCH || (n && (!keys || !values)))
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!text_ok(keys[i], STORE_MAX_KEY) || !text_ok(values[i], STORE_MAX_TEXT))
            return -EINVAL;
    struct job *j = job_new(J_PREFS, cb, ud);
    int rc = 0;
    if (j && n) {
        j->keys = calloc(n, sizeof *j->keys);
        j->vals = calloc(n, sizeof *j->vals);
        j->n = n;
        rc = !j->keys || !j->vals;
        for (size_t i = 0; i < n && !rc; i++)
            rc = dup_str(keys[i], &j->keys[i]) | dup_str(values[i], &j->vals[i]);
    }
    return enqueue(s, j, rc ? -ENOMEM : 0);
}

int store_pref_put(struct store *s, const char *key, const char *value,
                   store_done_cb cb, void *ud)
{
    if (!key || !value)
        return -EINVAL;
    return store_prefs_put(s, &key, &value, 1, cb, ud);
}

int store_kv_put(struct store *s, const char *ns, const char *key, const char *value,
                 store_done_cb cb, void *ud)
{
    if (!s || !text_ok(ns, STORE_MAX_KEY) || !text_ok(key, STORE_MAX_KEY) ||
        (value && !text_ok(value, STORE_MAX_TEXT)))
        return -EINVAL;
    struct job *j = job_new(J_KV, cb, ud);
    int rc = j ? dup_str(ns, &j->a) | dup_str(key, &j->b) | dup_str(value, &j->c) : 0;
    return enqueue(s, j, rc ? -ENOMEM : 0);
}

int store_flush(struct store *s, store_done_cb cb, void *ud)
{
    if (!s)
        return -EINVAL;
    return enqueue(s, job_new(J_FLUSH, cb, ud), 0);
}

int store_resume_put(struct store *s, const char *hash, const uint8_t *have, size_t have_len,
                     const uint8_t *files, size_t files_len, const char *stats)
{
    if (!s || !hash_ok(hash) || (have && have_len > STORE_MAX_BLOB) ||
        (files && files_len > STORE_MAX_BLOB) || (stats && !text_ok(stats, STORE_MAX_TEXT)))
        return -EINVAL;
    size_t hl = strlen(hash) + 1, sl = stats ? strlen(stats) + 1 : 0;
    size_t al = have ? have_len : 0, fl = files ? files_len : 0;
    struct rentry *e = malloc(sizeof *e + hl + al + fl + sl);
    if (!e)
        return -ENOMEM;
    uint8_t *p = (uint8_t *)(e + 1);
    e->hash = memcpy(p, hash, hl);
    p += hl;
    e->have = have ? memcpy(p, have, al) : NULL;
    e->have_len = al;
    p += al;
    e->files = files ? memcpy(p, files, fl) : NULL;
    e->files_len = fl;
    p += fl;
    e->stats = stats ? memcpy(p, stats, sl) : NULL;
    e->updated = (int64_t)time(NULL);
    uint64_t now = uv_hrtime();

    uv_mutex_lock(&s->mu);
    struct rentry *old = NULL;
    int rc = 0;
    if (s->closing) {
        rc = -ESHUTDOWN;
        old = e;
    } else {
        if (!s->pending.n)
            s->pending_since = now;
        old = rmap_put(&s->pending, e);
        if (old == e)
            rc = -ENOMEM;
        if (s->pending.n == 1 || !s->interval_ns)
            uv_cond_signal(&s->cv);
    }
    uv_mutex_unlock(&s->mu);
    free(old);
    return rc;
}

void store_set_checkpoint_interval(struct store *s, unsigned ms)
{
    if (!s)
        return;
    uv_mutex_lock(&s->mu);
    s->interval_ns = (uint64_t)ms * 1000000ull;
    uv_cond_signal(&s->cv);
    uv_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------ startup reads */

static int read_begin(struct store *s, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(s->rdb, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        log_msg(LOG_CRITICAL, "store: read: %s", sqlite3_errmsg(s->rdb));
        return sql_err(s->rdb, rc);
    }
    return 0;
}

/* Steps st until done or fn stops it; returns 0, fn's value or an error. */
static int read_end(struct store *s, sqlite3_stmt *st, int rc)
{
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        log_msg(LOG_CRITICAL, "store: read: %s", sqlite3_errmsg(s->rdb));
        rc = sql_err(s->rdb, rc);
    } else {
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static const uint8_t *col_blob(sqlite3_stmt *st, int i, size_t *len)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        *len = 0;
        return NULL;
    }
    const uint8_t *p = sqlite3_column_blob(st, i);
    *len = (size_t)sqlite3_column_bytes(st, i);
    return p ? p : (const uint8_t *)"";   /* empty blob: not NULL */
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

int store_load_torrents(struct store *s,
                        int (*fn)(void *ud, const struct store_torrent_row *row), void *ud)
{
    if (!s || !fn)
        return -EINVAL;
    sqlite3_stmt *st;
    int rc = read_begin(s,
        "SELECT t.hash, t.metainfo, t.magnet, t.added_on, t.settings,"
        " r.have, r.files, r.stats, r.updated"
        " FROM torrents t LEFT JOIN resume r ON r.hash = t.hash"
        " ORDER BY t.added_on, t.hash", &st);
    if (rc)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_torrent_row row;
        row.hash = col_text(st, 0);
        row.metainfo = col_blob(st, 1, &row.metainfo_len);
        row.magnet = col_text(st, 2);
        row.added_on = sqlite3_column_int64(st, 3);
        row.settings = col_text(st, 4);
        row.have = col_blob(st, 5, &row.have_len);
        row.files = col_blob(st, 6, &row.files_len);
        row.stats = col_text(st, 7);
        row.resume_updated = sqlite3_column_int64(st, 8);
        if (!row.hash || !row.settings)
            continue;   /* NULL where the schema forbids it: a hand-edited row */
        int u = fn(ud, &row);
        if (u) {
            sqlite3_finalize(st);
            return u;
        }
    }
    return read_end(s, st, rc);
}

static int load_pairs(struct store *s, sqlite3_stmt *st,
                      int (*fn)(void *ud, const char *key, const char *value), void *ud)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = col_text(st, 0), *v = col_text(st, 1);
        if (!k || !v)
            continue;
        int u = fn(ud, k, v);
        if (u) {
            sqlite3_finalize(st);
            return u;
        }
    }
    return read_end(s, st, rc);
}

int store_load_prefs(struct store *s,
                     int (*fn)(void *ud, const char *key, const char *value), void *ud)
{
    if (!s || !fn)
        return -EINVAL;
    sqlite3_stmt *st;
    int rc = read_begin(s, "SELECT key, value FROM prefs ORDER BY key", &st);
    return rc ? rc : load_pairs(s, st, fn, ud);
}

int store_load_torrent_settings(struct store *s, const char *hash, char **out)
{
    if (!s || !out || !hash_ok(hash))
        return -EINVAL;
    *out = NULL;
    sqlite3_stmt *st;
    int rc = read_begin(s, "SELECT settings FROM torrents WHERE hash = ?1", &st);
    if (rc)
        return rc;
    if ((rc = sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC)) != SQLITE_OK) {
        sqlite3_finalize(st);
        return sql_err(s->rdb, rc);
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
        !(*out = strdup((const char *)sqlite3_column_text(st, 0)))) {
        sqlite3_finalize(st);
        return -ENOMEM;
    }
    return read_end(s, st, rc);
}

int store_load_kv(struct store *s, const char *ns,
                  int (*fn)(void *ud, const char *key, const char *value), void *ud)
{
    if (!s || !fn || !text_ok(ns, STORE_MAX_KEY))
        return -EINVAL;
    sqlite3_stmt *st;
    int rc = read_begin(s, "SELECT key, value FROM kv WHERE ns = ?1 ORDER BY key", &st);
    if (rc)
        return rc;
    if ((rc = sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC)) != SQLITE_OK) {
        sqlite3_finalize(st);
        return sql_err(s->rdb, rc);
    }
    return load_pairs(s, st, fn, ud);
}
