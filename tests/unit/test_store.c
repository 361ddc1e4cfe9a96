/* Tests for store/: real SQLite files in a temp directory, a real uv loop,
 * the real writer thread.  Crash safety is tested by killing a child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "store/store.h"
#include "util/log.h"

/* ------------------------------------------------------------- fixtures */

struct fx {
    char dir[64];
    char path[96];
    uv_loop_t loop;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/td_store_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/torrentd.db", f->dir);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    uv_run(&f->loop, UV_RUN_DEFAULT);   /* frees the closed async handles */
    assert_int_equal(uv_loop_close(&f->loop), 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Callback bookkeeping: records rc and the order in which callbacks ran. */
struct rec {
    int calls;
    int rc;
    int seq;
};
static int g_seq;

static void on_done(void *ud, int rc)
{
    struct rec *r = ud;
    r->calls++;
    r->rc = rc;
    r->seq = g_seq++;
}

static void wait_rec(uv_loop_t *loop, struct rec *r)
{
    while (!r->calls)
        uv_run(loop, UV_RUN_ONCE);   /* the store keeps the loop alive while a job is due */
}

static struct store *open_ok(struct fx *f)
{
    struct store *s = NULL;
    assert_int_equal(store_open(&f->loop, f->path, &s), 0);
    assert_non_null(s);
    return s;
}

static void put_wait(struct fx *f, struct store *s, const char *hash, const char *settings)
{
    struct rec r = {0};
    assert_int_equal(store_torrent_put(s, hash, (const uint8_t *)"d4:infod", 8, NULL, 1,
                                       settings, on_done, &r), 0);
    wait_rec(&f->loop, &r);
    assert_int_equal(r.rc, 0);
}

static void flush_wait(struct fx *f, struct store *s)
{
    struct rec r = {0};
    assert_int_equal(store_flush(s, on_done, &r), 0);
    wait_rec(&f->loop, &r);
    assert_int_equal(r.rc, 0);
}

/* An independent connection, to see what is really committed. */
static long long raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static char *raw_text(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    char *v = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void hashname(char out[41], int i)
{
    snprintf(out, 41, "%040x", i);
}

/* Collects load_torrents rows. */
#define MAXROWS 64
struct trow {
    char hash[STORE_MAX_HASH + 1];
    uint8_t meta[64];
    size_t meta_len;
    int meta_null;
    char magnet[128];
    int magnet_null;
    int64_t added_on;
    char settings[128];
    uint8_t have[64];
    size_t have_len;
    int have_null;
    char stats[128];
    int stats_null;
};
struct tload {
    int n;
    struct trow r[MAXROWS];
};

static int collect_torrent(void *ud, const struct store_torrent_row *row)
{
    struct tload *l = ud;
    assert_true(l->n < MAXROWS);
    struct trow *t = &l->r[l->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->hash, sizeof t->hash, "%s", row->hash);
    t->meta_null = row->metainfo == NULL;
    t->meta_len = row->metainfo_len;
    if (row->metainfo && row->metainfo_len <= sizeof t->meta)
        memcpy(t->meta, row->metainfo, row->metainfo_len);
    t->magnet_null = row->magnet == NULL;
    if (row->magnet)
        snprintf(t->magnet, sizeof t->magnet, "%s", row->magnet);
    t->added_on = row->added_on;
    snprintf(t->settings, sizeof t->settings, "%s", row->settings);
    t->have_null = row->have == NULL;
    t->have_len = row->have_len;
    if (row->have && row->have_len <= sizeof t->have)
        memcpy(t->have, row->have, row->have_len);
    t->stats_null = row->stats == NULL;
    if (row->stats)
        snprintf(t->stats, sizeof t->stats, "%s", row->stats);
    return 0;
}

struct kvload {
    int n;
    char k[MAXROWS][64];
    char v[MAXROWS][64];
};

static int collect_pair(void *ud, const char *key, const char *value)
{
    struct kvload *l = ud;
    assert_true(l->n < MAXROWS);
    snprintf(l->k[l->n], 64, "%s", key);
    snprintf(l->v[l->n], 64, "%s", value);
    l->n++;
    return 0;
}

static int stop_at_first(void *ud, const char *key, const char *value)
{
    (void)ud; (void)key; (void)value;
    return 7;
}

/* ---------------------------------------------------------------- tests */

static void open_migrate_reopen(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    char *mode = raw_text(f->path, "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    free(mode);
    put_wait(f, s, "aaaa", "{\"cat\":\"x\"}");
    store_close(s);

    /* Reopening an existing database neither re-migrates nor loses rows. */
    s = open_ok(f);
    struct tload l = {0};
    assert_int_equal(store_load_torrents(s, collect_torrent, &l), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.r[0].hash, "aaaa");
    assert_string_equal(l.r[0].settings, "{\"cat\":\"x\"}");
    store_close(s);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

static void put_durable_and_loaded(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    const uint8_t meta[] = {'d', 0, 1, 2, 0, 'e'};   /* embedded NULs survive */
    struct rec r1 = {0}, r2 = {0};
    assert_int_equal(store_torrent_put(s, "bbbb", meta, sizeof meta, "magnet:?xt=b", 200,
                                       "{\"b\":1}", on_done, &r1), 0);
    assert_int_equal(store_torrent_put(s, "aaaa", NULL, 0, "magnet:?xt=a", 100,
                                       "{\"a\":1}", on_done, &r2), 0);
    wait_rec(&f->loop, &r1);
    wait_rec(&f->loop, &r2);
    assert_int_equal(r1.rc, 0);
    assert_int_equal(r2.rc, 0);
    assert_true(r1.seq < r2.seq);
    /* Committed means visible to another connection before close. */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM torrents"), 2);
    assert_int_equal(raw_int(f->path, "SELECT length(metainfo) FROM torrents WHERE hash='bbbb'"), 6);
    store_close(s);

    s = open_ok(f);
    struct tload l = {0};
    assert_int_equal(store_load_torrents(s, collect_torrent, &l), 0);
    assert_int_equal(l.n, 2);
    /* ordered by added_on */
    assert_string_equal(l.r[0].hash, "aaaa");
    assert_true(l.r[0].meta_null);
    assert_string_equal(l.r[0].magnet, "magnet:?xt=a");
    assert_int_equal(l.r[0].added_on, 100);
    assert_true(l.r[0].have_null);
    assert_true(l.r[0].stats_null);
    assert_string_equal(l.r[1].hash, "bbbb");
    assert_int_equal(l.r[1].meta_len, sizeof meta);
    assert_memory_equal(l.r[1].meta, meta, sizeof meta);
    assert_int_equal(l.r[1].added_on, 200);
    store_close(s);
}

static void settings_and_metainfo_update(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    struct rec r = {0}, rm = {0}, rmiss = {0}, rmiss2 = {0};
    assert_int_equal(store_torrent_put(s, "cccc", NULL, 0, "magnet:?xt=c", 5, "{}", NULL, NULL), 0);
    assert_int_equal(store_torrent_settings(s, "cccc", "{\"paused\":true}", on_done, &r), 0);
    assert_int_equal(store_torrent_metainfo(s, "cccc", (const uint8_t *)"d1:xe", 5, on_done, &rm), 0);
    assert_int_equal(store_torrent_settings(s, "nope", "{}", on_done, &rmiss), 0);
    assert_int_equal(store_torrent_metainfo(s, "nope", (const uint8_t *)"de", 2, on_done, &rmiss2), 0);
    wait_rec(&f->loop, &rmiss2);
    assert_int_equal(r.rc, 0);
    assert_int_equal(rm.rc, 0);
    assert_int_equal(rmiss.rc, -ENOENT);
    assert_int_equal(rmiss2.rc, -ENOENT);
    store_close(s);

    s = open_ok(f);
    struct tload l = {0};
    assert_int_equal(store_load_torrents(s, collect_torrent, &l), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.r[0].settings, "{\"paused\":true}");
    assert_int_equal(l.r[0].meta_len, 5);
    assert_memory_equal(l.r[0].meta, "d1:xe", 5);
    assert_string_equal(l.r[0].magnet, "magnet:?xt=c");   /* untouched */
    /* One row's settings by hash (a crash-interrupted deletion asks whether
     * the torrent was added again). */
    char *one = (char *)"x";
    assert_int_equal(store_load_torrent_settings(s, "cccc", &one), 0);
    assert_non_null(one);
    assert_string_equal(one, "{\"paused\":true}");
    free(one);
    assert_int_equal(store_load_torrent_settings(s, "nope", &one), 0);
    assert_null(one);
    assert_int_equal(store_load_torrent_settings(s, "", &one), -EINVAL);
    store_close(s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM torrents WHERE hash='nope'"), 0);
}

static void delete_removes_resume(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    put_wait(f, s, "dddd", "{}");
    put_wait(f, s, "eeee", "{}");
    assert_int_equal(store_resume_put(s, "dddd", (const uint8_t *)"\xff\x80", 2, NULL, 0,
                                      "{\"up\":1}"), 0);
    assert_int_equal(store_resume_put(s, "eeee", (const uint8_t *)"\x01", 1, NULL, 0, NULL), 0);
    flush_wait(f, s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resume"), 2);

    struct tload l = {0};
    assert_int_equal(store_load_torrents(s, collect_torrent, &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.r[0].have_len, 2);
    assert_memory_equal(l.r[0].have, "\xff\x80", 2);
    assert_string_equal(l.r[0].stats, "{\"up\":1}");

    struct rec r = {0}, r2 = {0};
    assert_int_equal(store_torrent_delete(s, "dddd", on_done, &r), 0);
    assert_int_equal(store_torrent_delete(s, "never", on_done, &r2), 0);   /* idempotent */
    wait_rec(&f->loop, &r2);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r2.rc, 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resume"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resume WHERE hash='dddd'"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM torrents"), 1);
    store_close(s);
}

static void resume_batching_coalesces(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    store_set_checkpoint_interval(s, 60000);   /* only the flush may commit */
    char h[41];
    for (int i = 0; i < 10; i++) {
        hashname(h, i);
        put_wait(f, s, h, "{}");
    }
    for (int i = 0; i < 1000; i++) {
        uint8_t have[4];
        char stats[32];
        have[0] = (uint8_t)(i >> 8); have[1] = (uint8_t)i; have[2] = 0; have[3] = 0xAA;
        snprintf(stats, sizeof stats, "{\"i\":%d}", i);
        hashname(h, i % 10);
        assert_int_equal(store_resume_put(s, h, have, sizeof have, (const uint8_t *)"F", 1, stats), 0);
    }
    usleep(100 * 1000);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resume"), 0);   /* batched, not yet due */
    flush_wait(f, s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resume"), 10);

    struct tload l = {0};
    assert_int_equal(store_load_torrents(s, collect_torrent, &l), 0);
    assert_int_equal(l.n, 10);
    for (int k = 0; k < 10; k++) {
        int last = 990 + k;
        hashname(h, k);
        int found = 0;
        for (int j = 0; j < l.n; j++) {
            if (strcmp(l.r[j].hash, h) != 0)
                continue;
            found = 1;
            char stats[32];
            snprintf(stats, sizeof stats, "{\"i\":%d}", last);
            assert_string_equal(l.r[j].stats, stats);
            assert_int_equal(l.r[j].have_len, 4);
            assert_int_equal(l.r[j].have[0], (uint8_t)(last >> 8));
            assert_int_equal(l.r[j].have[1], (uint8_t)last);
            assert_int_equal(l.r[j].have[3], 0xAA);
        }
        assert_true(found);
    }
    store_close(s);
}

static void resume_interval_commits(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    store_set_checkpoint_interval(s, 50);
    put_wait(f, s, "ffff", "{}");
    assert_int_equal(store_resume_put(s, "ffff", (const uint8_t *)"\x0f", 1, NULL, 0, "{}"), 0);
    long long n = 0;
    for (int i = 0; i < 200 && n != 1; i++) {   /* up to 4 s */
        usleep(20 * 1000);
        n = raw_int(f->path, "SELECT count(*) FROM resume");
    }
    assert_int_equal(n, 1);
    store_close(s);
}

static void resume_close_commits(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    store_set_checkpoint_interval(s, 60000);
    put_wait(f, s, "abcd", "{}");
    assert_int_equal(store_resume_put(s, "abcd", (const uint8_t *)"\x03", 1, NULL, 0, "{}"), 0);
    store_close(s);   /* must commit what is pending */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resume WHERE hash='abcd'"), 1);
}

static void resume_never_resurrects(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    store_set_checkpoint_interval(s, 60000);
    /* (a) unknown hash */
    assert_int_equal(store_resume_put(s, "ghost", (const uint8_t *)"\x01", 1, NULL, 0, "{}"), 0);
    /* (b) pending checkpoint, then delete */
    put_wait(f, s, "1111", "{}");
    assert_int_equal(store_resume_put(s, "1111", (const uint8_t *)"\x01", 1, NULL, 0, "{}"), 0);
    assert_int_equal(store_torrent_delete(s, "1111", NULL, NULL), 0);
    /* (c) delete queued, then a late checkpoint */
    put_wait(f, s, "2222", "{}");
    assert_int_equal(store_torrent_delete(s, "2222", NULL, NULL), 0);
    assert_int_equal(store_resume_put(s, "2222", (const uint8_t *)"\x01", 1, NULL, 0, "{}"), 0);
    flush_wait(f, s);
    /* (d) re-added after delete: its new checkpoint does land */
    put_wait(f, s, "1111", "{}");
    assert_int_equal(store_resume_put(s, "1111", (const uint8_t *)"\x02", 1, NULL, 0, "{}"), 0);
    flush_wait(f, s);
    /* (e) checkpoint, delete, re-add, all before the batch commits: the old
     * torrent's checkpoint must not land on the new one */
    put_wait(f, s, "3333", "{}");
    assert_int_equal(store_resume_put(s, "3333", (const uint8_t *)"\x09", 1, NULL, 0, "{}"), 0);
    assert_int_equal(store_torrent_delete(s, "3333", NULL, NULL), 0);
    assert_int_equal(store_torrent_put(s, "3333", NULL, 0, "m", 9, "{}", NULL, NULL), 0);
    flush_wait(f, s);
    store_close(s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM torrents"), 2);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resume WHERE hash='3333'"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resume"), 1);
    assert_int_equal(raw_int(f->path, "SELECT hex(have) = '02' FROM resume WHERE hash='1111'"), 1);
}

static void prefs_and_kv_roundtrip(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    const char *keys[] = {"listen_port", "dht", "save_path"};
    const char *vals[] = {"6881", "true", "\"/srv\""};
    struct rec r[8] = {{0}};
    assert_int_equal(store_prefs_put(s, keys, vals, 3, on_done, &r[0]), 0);
    assert_int_equal(store_pref_put(s, "dht", "false", on_done, &r[1]), 0);
    assert_int_equal(store_prefs_put(s, NULL, NULL, 0, on_done, &r[2]), 0);
    assert_int_equal(store_kv_put(s, "category", "movies", "{\"savePath\":\"/m\"}", on_done, &r[3]), 0);
    assert_int_equal(store_kv_put(s, "category", "tv", "{}", on_done, &r[4]), 0);
    assert_int_equal(store_kv_put(s, "tag", "movies", "{}", on_done, &r[5]), 0);
    assert_int_equal(store_kv_put(s, "category", "tv", NULL, on_done, &r[6]), 0);
    assert_int_equal(store_kv_put(s, "category", "absent", NULL, on_done, &r[7]), 0);
    wait_rec(&f->loop, &r[7]);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].rc, 0);
    }
    store_close(s);

    s = open_ok(f);
    struct kvload p = {0};
    assert_int_equal(store_load_prefs(s, collect_pair, &p), 0);
    assert_int_equal(p.n, 3);   /* ordered by key */
    assert_string_equal(p.k[0], "dht");
    assert_string_equal(p.v[0], "false");
    assert_string_equal(p.k[1], "listen_port");
    assert_string_equal(p.v[1], "6881");
    assert_string_equal(p.k[2], "save_path");
    assert_string_equal(p.v[2], "\"/srv\"");

    struct kvload c = {0}, t = {0}, none = {0};
    assert_int_equal(store_load_kv(s, "category", collect_pair, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.k[0], "movies");
    assert_string_equal(c.v[0], "{\"savePath\":\"/m\"}");
    assert_int_equal(store_load_kv(s, "tag", collect_pair, &t), 0);
    assert_int_equal(t.n, 1);
    assert_int_equal(store_load_kv(s, "rss", collect_pair, &none), 0);
    assert_int_equal(none.n, 0);
    /* A callback can stop the scan; its value comes back. */
    assert_int_equal(store_load_prefs(s, stop_at_first, NULL), 7);
    store_close(s);
}

static void mixed_jobs_keep_order(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    struct rec r[10] = {{0}};
    int i = 0;
    /* All queued before the loop runs once: the writer may group them. */
    assert_int_equal(store_torrent_put(s, "A", NULL, 0, "m", 1, "s1", on_done, &r[i++]), 0);
    assert_int_equal(store_torrent_settings(s, "A", "s2", on_done, &r[i++]), 0);
    assert_int_equal(store_torrent_delete(s, "A", on_done, &r[i++]), 0);
    assert_int_equal(store_torrent_settings(s, "A", "lost", on_done, &r[i++]), 0);   /* -ENOENT */
    assert_int_equal(store_torrent_put(s, "A", NULL, 0, "m", 2, "s3", on_done, &r[i++]), 0);
    assert_int_equal(store_torrent_settings(s, "A", "s4", on_done, &r[i++]), 0);
    assert_int_equal(store_kv_put(s, "n", "x", "1", on_done, &r[i++]), 0);
    assert_int_equal(store_kv_put(s, "n", "x", NULL, on_done, &r[i++]), 0);
    assert_int_equal(store_kv_put(s, "n", "x", "2", on_done, &r[i++]), 0);
    assert_int_equal(store_torrent_put(s, "B", NULL, 0, "m", 3, "b", on_done, &r[i++]), 0);
    wait_rec(&f->loop, &r[9]);
    for (int k = 0; k < 10; k++) {
        assert_int_equal(r[k].calls, 1);
        assert_int_equal(r[k].rc, k == 3 ? -ENOENT : 0);
        if (k)
            assert_true(r[k].seq > r[k - 1].seq);   /* callbacks in enqueue order */
    }
    store_close(s);
    char *v = raw_text(f->path, "SELECT settings FROM torrents WHERE hash='A'");
    assert_string_equal(v, "s4");
    free(v);
    v = raw_text(f->path, "SELECT value FROM kv WHERE ns='n' AND key='x'");
    assert_string_equal(v, "2");
    free(v);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM torrents"), 2);
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* A job failing half-way leaves nothing behind and does not take the jobs
 * committed with it down. */
static void failed_job_is_atomic(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    raw_exec(f->path, "CREATE TRIGGER no_bad BEFORE INSERT ON prefs WHEN NEW.key = 'bad'"
                      " BEGIN SELECT RAISE(ABORT, 'refused'); END");
    const char *keys[] = {"good1", "good2", "bad", "good3"};
    const char *vals[] = {"1", "2", "3", "4"};
    struct rec r0 = {0}, r1 = {0}, r2 = {0};
    assert_int_equal(store_kv_put(s, "n", "before", "1", on_done, &r0), 0);
    assert_int_equal(store_prefs_put(s, keys, vals, 4, on_done, &r1), 0);
    assert_int_equal(store_kv_put(s, "n", "after", "1", on_done, &r2), 0);
    wait_rec(&f->loop, &r2);
    assert_int_equal(r0.rc, 0);
    assert_int_equal(r1.rc, -EINVAL);
    assert_int_equal(r2.rc, 0);
    store_close(s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM prefs"), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM kv"), 2);
}

struct reenter {
    struct store *s;
    int calls;
    int rc_inner;
};

static void on_done_reenter(void *ud, int rc)
{
    struct reenter *r = ud;
    assert_int_equal(rc, 0);
    r->calls++;
    r->rc_inner = store_pref_put(r->s, "late", "1", NULL, NULL);
}

static void close_delivers_callbacks(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    struct rec r[50] = {{0}};
    char h[41];
    for (int i = 0; i < 50; i++) {
        hashname(h, i);
        assert_int_equal(store_torrent_put(s, h, NULL, 0, "m", i, "{}", on_done, &r[i]), 0);
    }
    struct reenter re = {.s = s};
    assert_int_equal(store_pref_put(s, "k", "v", on_done_reenter, &re), 0);
    store_close(s);   /* the loop never ran: close itself must deliver */
    for (int i = 0; i < 50; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].rc, 0);
    }
    assert_int_equal(re.calls, 1);
    assert_int_equal(re.rc_inner, -ESHUTDOWN);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM torrents"), 50);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM prefs WHERE key='late'"), 0);
}

static void invalid_arguments(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    struct rec r = {0};
    char longhash[STORE_MAX_HASH + 2];
    memset(longhash, 'a', sizeof longhash - 1);
    longhash[sizeof longhash - 1] = 0;
    char longkey[STORE_MAX_KEY + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = 0;

    assert_int_equal(store_torrent_put(s, NULL, NULL, 0, NULL, 0, "{}", on_done, &r), -EINVAL);
    assert_int_equal(store_torrent_put(s, "", NULL, 0, NULL, 0, "{}", on_done, &r), -EINVAL);
    assert_int_equal(store_torrent_put(s, longhash, NULL, 0, NULL, 0, "{}", on_done, &r), -EINVAL);
    assert_int_equal(store_torrent_put(s, "h", NULL, 0, NULL, 0, NULL, on_done, &r), -EINVAL);
    assert_int_equal(store_torrent_put(s, "h", (const uint8_t *)"x", (size_t)STORE_MAX_BLOB + 1,
                                       NULL, 0, "{}", on_done, &r), -EINVAL);
    assert_int_equal(store_torrent_settings(s, "h", NULL, on_done, &r), -EINVAL);
    assert_int_equal(store_torrent_metainfo(s, "h", NULL, 0, on_done, &r), -EINVAL);
    assert_int_equal(store_torrent_delete(s, NULL, on_done, &r), -EINVAL);
    assert_int_equal(store_pref_put(s, "k", NULL, on_done, &r), -EINVAL);
    assert_int_equal(store_pref_put(s, longkey, "1", on_done, &r), -EINVAL);
    assert_int_equal(store_prefs_put(s, NULL, NULL, 2, on_done, &r), -EINVAL);
    assert_int_equal(store_prefs_put(s, NULL, NULL, STORE_MAX_BATCH + 1, on_done, &r), -EINVAL);
    assert_int_equal(store_kv_put(s, NULL, "k", "v", on_done, &r), -EINVAL);
    assert_int_equal(store_kv_put(s, "ns", longkey, "v", on_done, &r), -EINVAL);
    assert_int_equal(store_resume_put(s, longhash, NULL, 0, NULL, 0, NULL), -EINVAL);
    assert_int_equal(store_load_kv(s, NULL, collect_pair, NULL), -EINVAL);
    assert_int_equal(store_load_torrents(s, NULL, NULL), -EINVAL);
    assert_int_equal(store_flush(NULL, NULL, NULL), -EINVAL);
    struct store *s2 = (struct store *)0x1;
    assert_int_equal(store_open(&f->loop, NULL, &s2), -EINVAL);
    assert_null(s2);
    /* Strings with SQL in them are data. */
    struct rec ok = {0};
    assert_int_equal(store_kv_put(s, "ns'); DROP TABLE kv;--", "k", "v", on_done, &ok), 0);
    wait_rec(&f->loop, &ok);
    assert_int_equal(ok.rc, 0);
    store_close(s);
    assert_int_equal(r.calls, 0);   /* rejected jobs never call back */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM kv"), 1);
}

/* Child: opens, commits one torrent, tells the parent, then keeps queuing
 * work until killed (or _exits with work in flight). */
static void crash_child(const char *path, int wfd, int self_exit)
{
    uv_loop_t loop;
    struct store *s;
    log_set_quiet(1);
    if (uv_loop_init(&loop) || store_open(&loop, path, &s))
        _exit(10);
    struct rec r = {0};
    static const uint8_t meta[] = "d8:announce3:url4:infod4:name1:xee";
    if (store_torrent_put(s, "committed", meta, sizeof meta - 1, NULL, 42, "{\"k\":1}",
                          on_done, &r))
        _exit(11);
    while (!r.calls)
        uv_run(&loop, UV_RUN_ONCE);
    if (r.rc)
        _exit(12);
    store_set_checkpoint_interval(s, 0);
    if (write(wfd, "x", 1) != 1)
        _exit(13);
    char h[41];
    uint8_t big[256];
    memset(big, 0x5a, sizeof big);
    for (unsigned i = 0;; i++) {
        hashname(h, (int)(i % 5000));
        store_torrent_put(s, h, big, sizeof big, NULL, i, "{}", NULL, NULL);
        store_resume_put(s, h, big, sizeof big, NULL, 0, "{}");
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(50);   /* bounded queue growth: the writer fsyncs */
        if (self_exit && i == 3000)
            _exit(0);
    }
}

static void crash_run(struct fx *f, int self_exit)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        crash_child(f->path, p[1], self_exit);
    }
    close(p[1]);
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    close(p[0]);
    if (!self_exit) {
        usleep(150 * 1000);   /* let it be mid-transaction */
        kill(pid, SIGKILL);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (self_exit)
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    else
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    struct store *s = open_ok(f);
    char *ic = raw_text(f->path, "PRAGMA integrity_check");
    assert_string_equal(ic, "ok");
    free(ic);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM torrents WHERE hash='committed'"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resume r WHERE NOT EXISTS"
                                      " (SELECT 1 FROM torrents t WHERE t.hash = r.hash)"), 0);
    char *v = raw_text(f->path, "SELECT settings FROM torrents WHERE hash='committed'");
    assert_string_equal(v, "{\"k\":1}");
    free(v);
    assert_int_equal(raw_int(f->path, "SELECT length(metainfo) FROM torrents WHERE hash='committed'"),
                     34);
    /* and the store keeps writing */
    put_wait(f, s, "after", "{}");
    store_close(s);
}

static void crash_kill9(void **state)
{
    crash_run(*state, 0);
}

static void crash_exit_with_work_queued(void **state)
{
    crash_run(*state, 1);
}

static void open_failures(void **state)
{
    struct fx *f = *state;
    struct store *s = (struct store *)0x1;
    char p[160];

    snprintf(p, sizeof p, "%s/no/such/dir/x.db", f->dir);
    assert_true(store_open(&f->loop, p, &s) < 0);
    assert_null(s);

    /* parent is a regular file */
    snprintf(p, sizeof p, "%s/file", f->dir);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs("plain", fp);
    fclose(fp);
    snprintf(p, sizeof p, "%s/file/x.db", f->dir);
    assert_true(store_open(&f->loop, p, &s) < 0);

    /* garbage where the database should be */
    snprintf(p, sizeof p, "%s/garbage.db", f->dir);
    fp = fopen(p, "w");
    assert_non_null(fp);
    for (int i = 0; i < 8192; i++)
        fputc((i * 7919) & 0xff, fp);
    fclose(fp);
    assert_int_equal(store_open(&f->loop, p, &s), -EPROTO);

    /* a schema from the future is refused, not touched */
    snprintf(p, sizeof p, "%s/future.db", f->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(&f->loop, p, &s), -EPROTO);
    assert_int_equal(raw_int(p, "PRAGMA user_version"), 99);

    /* a directory path */
    assert_true(store_open(&f->loop, f->dir, &s) < 0);
}

/* Runs fn in a child and returns its exit status (so rlimits and uid
 * changes do not leak into the test process). */
static int in_child(int (*fn)(const char *dir), const char *dir)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        log_set_quiet(1);
        _exit(fn(dir));
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static int child_readonly_dir(const char *dir)
{
    char ro[160], p[200];
    snprintf(ro, sizeof ro, "%s/ro", dir);
    if (mkdir(ro, 0555) != 0 || chmod(dir, 0755) != 0)
        return 20;
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        return 21;   /* root ignores permissions: become nobody */
    snprintf(p, sizeof p, "%s/x.db", ro);
    uv_loop_t loop;
    struct store *s = NULL;
    uv_loop_init(&loop);
    int rc = store_open(&loop, p, &s);
    return rc < 0 && !s ? 0 : 22;
}

static int child_full_at_open(const char *dir)
{
    char p[200];
    snprintf(p, sizeof p, "%s/full.db", dir);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {0, 0};
    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = 0;   /* every write fails: a full disk */
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 30;
    uv_loop_t loop;
    struct store *s = NULL;
    uv_loop_init(&loop);
    int rc = store_open(&loop, p, &s);
    return rc < 0 && !s ? 0 : 31;
}

static void wait_child_rec(uv_loop_t *loop, struct rec *r)
{
    while (!r->calls)
        uv_run(loop, UV_RUN_ONCE);
}

static off_t fsize(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : 0;
}

static int child_full_at_runtime(const char *dir)
{
    char p[200], wal[210];
    snprintf(p, sizeof p, "%s/run.db", dir);
    snprintf(wal, sizeof wal, "%s-wal", p);
    signal(SIGXFSZ, SIG_IGN);
    uv_loop_t loop;
    struct store *s = NULL;
    uv_loop_init(&loop);
    if (store_open(&loop, p, &s))
        return 40;
    store_set_checkpoint_interval(s, 60000);
    struct rec r = {0};
    store_torrent_put(s, "small", NULL, 0, "m", 1, "{}", on_done, &r);
    wait_child_rec(&loop, &r);
    if (r.rc)
        return 41;

    struct rlimit rl, saved;
    getrlimit(RLIMIT_FSIZE, &saved);
    rl = saved;
    off_t lim = fsize(p) > fsize(wal) ? fsize(p) : fsize(wal);
    rl.rlim_cur = (rlim_t)lim + 8192;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 42;

    static uint8_t big[1 << 20];
    memset(big, 0x77, sizeof big);
    struct rec rb = {0};
    store_torrent_put(s, "big", big, sizeof big, "m", 2, "{}", on_done, &rb);
    wait_child_rec(&loop, &rb);
    if (rb.rc >= 0)
        return 43;   /* the commit cannot have succeeded */
    store_resume_put(s, "small", big, sizeof big, NULL, 0, "{}");
    struct rec rf = {0};
    store_flush(s, on_done, &rf);
    wait_child_rec(&loop, &rf);
    if (rf.rc >= 0)
        return 44;

    /* Space is back: the daemon kept running and the checkpoint is retried. */
    if (setrlimit(RLIMIT_FSIZE, &saved) != 0)
        return 45;
    struct rec r2 = {0}, rf2 = {0};
    store_torrent_put(s, "later", NULL, 0, "m", 3, "{}", on_done, &r2);
    store_flush(s, on_done, &rf2);
    wait_child_rec(&loop, &rf2);
    if (r2.rc || rf2.rc)
        return 46;
    store_close(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open(p, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM torrents),"
                               " (SELECT length(have) FROM resume WHERE hash='small')",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        return 47;
    int ok = sqlite3_column_int(st, 0) == 2 && sqlite3_column_int(st, 1) == (int)sizeof big;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok ? 0 : 48;
}

static void readonly_and_full_disk(void **state)
{
    struct fx *f = *state;
    assert_int_equal(in_child(child_readonly_dir, f->dir), 0);
    assert_int_equal(in_child(child_full_at_open, f->dir), 0);
    assert_int_equal(in_child(child_full_at_runtime, f->dir), 0);
}

static double now_s(void)
{
    return (double)uv_hrtime() / 1e9;
}

static void measure_throughput(void **state)
{
    struct fx *f = *state;
    struct store *s = open_ok(f);
    char h[41];
    enum { N_USER = 200, N_TORRENTS = 2000, N_RESUME = 20000 };

    double t0 = now_s();
    for (int i = 0; i < N_USER; i++) {
        hashname(h, i);
        put_wait(f, s, h, "{}");   /* one durable commit each */
    }
    double t_user = now_s() - t0;

    struct rec last = {0};
    t0 = now_s();
    for (int i = 0; i < N_TORRENTS; i++) {
        hashname(h, i);
        assert_int_equal(store_torrent_put(s, h, NULL, 0, "m", i, "{}",
                                           i == N_TORRENTS - 1 ? on_done : NULL, &last), 0);
    }
    wait_rec(&f->loop, &last);
    double t_burst = now_s() - t0;

    store_set_checkpoint_interval(s, 60000);
    uint8_t have[512];
    memset(have, 0xff, sizeof have);
    t0 = now_s();
    for (int i = 0; i < N_RESUME; i++) {
        hashname(h, i % N_TORRENTS);
        have[0] = (uint8_t)i;
        assert_int_equal(store_resume_put(s, h, have, sizeof have, NULL, 0, "{\"t\":1}"), 0);
    }
    double t_enq = now_s() - t0;
    t0 = now_s();
    flush_wait(f, s);
    double t_flush = now_s() - t0;
    store_close(s);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resume"), N_TORRENTS);

    printf("store: %.0f individual durable commits/s (%d puts, waiting for each)\n",
           N_USER / t_user, N_USER);
    printf("store: %.0f puts/s when queued together (%d puts, grouped commits)\n",
           N_TORRENTS / t_burst, N_TORRENTS);
    printf("store: %.0f resume_put/s enqueue (%d calls), %.0f resume rows/s committed"
           " (%d rows in one flush)\n",
           N_RESUME / t_enq, N_RESUME, N_TORRENTS / t_flush, N_TORRENTS);
}

int main(void)
{
    log_set_quiet(1);
    alarm(110);   /* a hang fails instead of blocking ctest */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_migrate_reopen, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(put_durable_and_loaded, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(settings_and_metainfo_update, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(delete_removes_resume, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(resume_batching_coalesces, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(resume_interval_commits, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(resume_close_commits, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(resume_never_resurrects, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(prefs_and_kv_roundtrip, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(mixed_jobs_keep_order, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(failed_job_is_atomic, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(close_delivers_callbacks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(invalid_arguments, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(crash_kill9, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(crash_exit_with_work_queued, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(open_failures, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(readonly_and_full_disk, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(measure_throughput, fx_setup, fx_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
