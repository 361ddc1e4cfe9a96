/* End-to-end engine test without HTTP or trackers: two sessions on one
 * loop, a seeder and a leecher on different loopback addresses, real
 * storage, real peer wire.  The leecher must end with identical files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "bt/bencode.h"
#include "bt/metainfo.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/torrent_int.h"
#include "core/torrent_status.h"
#include "core/settings.h"
#include "util/log.h"
#include "util/path.h"

#define PIECE_LEN (64 * 1024)

static const struct { const char *name; size_t size; } files[] = {
    {"a.bin", 1000003}, {"sub/b.bin", 2 * 1024 * 1024 + 17}, {"c.bin", 65536},
};

static char root[256];

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    assert_int_equal(path_mkdirs_for(path), 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)len + 1);
    *n = fread(p, 1, (size_t)len, f);
    fclose(f);
    return p;
}

/* Builds a multi-file torrent named "t" over the seed files. */
static struct buf make_torrent(uint8_t **all, size_t *total)
{
    size_t sum = 0;
    for (size_t i = 0; i < 3; i++)
        sum += files[i].size;
    uint8_t *data = malloc(sum);
    RAND_bytes(data, (int)sum);
    size_t off = 0;
    char path[512];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/seed/t/%s", root, files[i].name);
        write_file(path, data + off, files[i].size);
        off += files[i].size;
    }
    size_t np = (sum + PIECE_LEN - 1) / PIECE_LEN;
    uint8_t *hashes = malloc(np * 20);
    for (size_t p = 0; p < np; p++) {
        size_t len = p + 1 < np ? PIECE_LEN : sum - p * PIECE_LEN;
        SHA1(data + p * PIECE_LEN, len, hashes + p * 20);
    }
    struct buf b = BUF_INIT;
    benc_put_dict(&b);
    benc_put_cstr(&b, "info");
    benc_put_dict(&b);
    benc_put_cstr(&b, "files");
    benc_put_list(&b);
    for (size_t i = 0; i < 3; i++) {
        benc_put_dict(&b);
        benc_put_cstr(&b, "length");
        benc_put_int(&b, (int64_t)files[i].size);
        benc_put_cstr(&b, "path");
        benc_put_list(&b);
        char tmp[64];
        snprintf(tmp, sizeof tmp, "%s", files[i].name);
        char *slash = strchr(tmp, '/');
        if (slash) {
            *slash = 0;
            benc_put_cstr(&b, tmp);
            benc_put_cstr(&b, slash + 1);
        } else {
            benc_put_cstr(&b, tmp);
        }
        benc_put_end(&b);
        benc_put_end(&b);
    }
    benc_put_end(&b);
    benc_put_cstr(&b, "name");
    benc_put_cstr(&b, "t");
    benc_put_cstr(&b, "piece length");
    benc_put_int(&b, PIECE_LEN);
    benc_put_cstr(&b, "pieces");
    benc_put_str(&b, hashes, np * 20);
    benc_put_end(&b);
    benc_put_end(&b);
    free(hashes);
    *all = data;
    *total = sum;
    return b;
}

struct run {
    struct torrent *leech;
    uv_timer_t timer;
    int ticks;
    bool done;
};

static void on_timer(uv_timer_t *h)
{
    struct run *r = h->data;
    if (torrent_is_finished(r->leech) || ++r->ticks > 600) {
        r->done = true;
        uv_stop(h->loop);
    }
}

static void on_down(void *ud) { (*(int *)ud)++; }

static void seeder_to_leecher(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/td-engine-%d", (int)getpid());
    uint8_t *data;
    size_t total;
    struct buf tb = make_torrent(&data, &total);

    uv_loop_t loop;
    uv_loop_init(&loop);
    char pa[300], pb[300], sa[300], sb[300];
    snprintf(pa, sizeof pa, "%s/profA", root);
    snprintf(pb, sizeof pb, "%s/profB", root);
    snprintf(sa, sizeof sa, "%s/seed", root);
    snprintf(sb, sizeof sb, "%s/leech", root);
    int port_a = 20000 + getpid() % 20000, port_b = port_a + 1;
    struct session_config ca = {pa, sa, "127.0.0.1", port_a};
    struct session_config cb = {pb, sb, "127.0.0.1", port_b};
    struct session *A, *B;
    assert_int_equal(session_new(&loop, &ca, &A), 0);
    assert_int_equal(session_new(&loop, &cb, &B), 0);
    assert_int_equal(session_start(A), 0);
    assert_int_equal(session_start(B), 0);

    struct bt_metainfo *m1, *m2;
    char err[256];
    assert_int_equal(bt_metainfo_parse(buf_head(&tb), buf_size(&tb), &m1, err, sizeof err), 0);
    assert_int_equal(bt_metainfo_parse(buf_head(&tb), buf_size(&tb), &m2, err, sizeof err), 0);
    struct torrent_add_params p = {.ratio_limit = -2, .seeding_time_limit = -2, .inactive_seeding_time_limit = -2};
    struct torrent *ta, *tl;
    assert_int_equal(torrent_create(A, m1, &p, 1, &ta), 0);
    assert_int_equal(torrent_create(B, m2, &p, 1, &tl), 0);
    torrent_begin(ta, false);   /* a real check finds all pieces */
    torrent_begin(tl, false);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port_a, &addr);
    torrent_add_peer_addr(tl, (struct sockaddr *)&addr, false, PEER_SRC_API);

    struct run r = {.leech = tl};
    uv_timer_init(&loop, &r.timer);
    r.timer.data = &r;
    uv_timer_start(&r.timer, on_timer, 100, 100);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(torrent_is_finished(tl));
    /* The seeder sent everything: it is seeding, whether still sending or not. */
    enum torrent_state st = torrent_status_state(ta, A->now_ms);
    assert_true(st == TORRENT_STATE_UPLOADING || st == TORRENT_STATE_STALLED_UP);
    st = torrent_status_state(tl, B->now_ms);
    assert_true(st == TORRENT_STATE_UPLOADING || st == TORRENT_STATE_STALLED_UP);
    assert_true(tl->downloaded >= (int64_t)total);
    assert_true(ta->uploaded >= (int64_t)total);

    size_t off = 0;
    for (size_t i = 0; i < 3; i++) {
        char path[512];
        size_t n = 0;
        snprintf(path, sizeof path, "%s/leech/t/%s", root, files[i].name);
        uint8_t *got = read_file(path, &n);
        assert_non_null(got);
        assert_int_equal(n, files[i].size);
        assert_memory_equal(got, data + off, n);
        off += n;
        free(got);
    }

    uv_close((uv_handle_t *)&r.timer, NULL);
    int down = 0;
    session_shutdown(A, on_down, &down);
    session_shutdown(B, on_down, &down);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(down, 2);
    session_free(A);
    session_free(B);
    assert_int_equal(uv_loop_close(&loop), 0);
    buf_free(&tb);
    free(data);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
}

struct wait_reads {
    struct torrent *t;
    bool want_finished;   /* else: until no read-cache load is in flight */
    int ticks;
};

static void on_wait_reads(uv_timer_t *h)
{
    struct wait_reads *w = h->data;
    bool done = w->want_finished ? torrent_is_finished(w->t) : w->t->reads_in_flight == 0;
    if (done || ++w->ticks > 500)
        uv_stop(h->loop);
}

static void run_until(uv_loop_t *loop, struct wait_reads *w)
{
    uv_timer_t tm;
    uv_timer_init(loop, &tm);
    tm.data = w;
    w->ticks = 0;
    uv_timer_start(&tm, on_wait_reads, 10, 10);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&tm, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

/* A read for uploading that was started before a stop and fails after the
 * torrent was started again (the disk died, was mounted again, the user
 * pressed start) must not put the restarted torrent back into error: its
 * peers are gone and the files as they are now were never tried.  The
 * load's completion runs on the loop, so stopping and starting before the
 * loop runs again makes the order certain. */
static void stale_read_failure_after_restart(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/td-engine-stale-%d", (int)getpid());
    uint8_t *data;
    size_t total;
    struct buf tb = make_torrent(&data, &total);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char pa[300], sa[300];
    snprintf(pa, sizeof pa, "%s/profA", root);
    snprintf(sa, sizeof sa, "%s/seed", root);
    int port_a = 20000 + (getpid() + 7) % 20000;
    struct session_config ca = {pa, sa, "127.0.0.1", port_a};
    struct session *A;
    assert_int_equal(session_new(&loop, &ca, &A), 0);
    assert_int_equal(session_start(A), 0);
    struct bt_metainfo *m;
    char err[256];
    assert_int_equal(bt_metainfo_parse(buf_head(&tb), buf_size(&tb), &m, err, sizeof err), 0);
    struct torrent_add_params p = {.ratio_limit = -2, .seeding_time_limit = -2, .inactive_seeding_time_limit = -2};
    struct torrent *ta;
    assert_int_equal(torrent_create(A, m, &p, 1, &ta), 0);
    torrent_begin(ta, false);
    struct wait_reads w = {ta, true, 0};
    run_until(&loop, &w);
    assert_true(torrent_is_finished(ta));

    char path[512], away[520];
    snprintf(path, sizeof path, "%s/seed/t/a.bin", root);
    snprintf(away, sizeof away, "%s.away", path);
    assert_int_equal(rename(path, away), 0);
    assert_null(torrent_cached_piece(ta, 0));   /* the load starts; it will fail (ENOENT) */
    assert_int_equal(ta->reads_in_flight, 1);
    torrent_stop(ta);
    torrent_start(ta);
    w = (struct wait_reads){ta, false, 0};
    run_until(&loop, &w);
    assert_int_equal(ta->reads_in_flight, 0);
    enum torrent_state st = torrent_status_state(ta, A->now_ms);
    assert_int_not_equal(st, TORRENT_STATE_ERROR);
    assert_int_not_equal(st, TORRENT_STATE_MISSING_FILES);
    assert_true(st == TORRENT_STATE_UPLOADING || st == TORRENT_STATE_STALLED_UP);

    /* The same failure while the torrent runs is a real one: missingFiles. */
    assert_null(torrent_cached_piece(ta, 0));
    run_until(&loop, &w);
    assert_int_equal(torrent_status_state(ta, A->now_ms), TORRENT_STATE_MISSING_FILES);
    assert_int_equal(rename(away, path), 0);

    int down = 0;
    session_shutdown(A, on_down, &down);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(down, 1);
    session_free(A);
    assert_int_equal(uv_loop_close(&loop), 0);
    buf_free(&tb);
    free(data);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
}

/* A single-file torrent "name" of len random bytes written under dir. */
static struct bt_metainfo *single_file(const char *dir, const char *name, size_t len)
{
    uint8_t *data = malloc(len);
    RAND_bytes(data, (int)len);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_file(path, data, len);
    size_t np = (len + PIECE_LEN - 1) / PIECE_LEN;
    uint8_t *hashes = malloc(np * 20);
    for (size_t p = 0; p < np; p++)
        SHA1(data + p * PIECE_LEN, p + 1 < np ? PIECE_LEN : len - p * PIECE_LEN, hashes + p * 20);
    struct buf b = BUF_INIT;
    benc_put_dict(&b);
    benc_put_cstr(&b, "info");
    benc_put_dict(&b);
    benc_put_cstr(&b, "length");
    benc_put_int(&b, (int64_t)len);
    benc_put_cstr(&b, "name");
    benc_put_cstr(&b, name);
    benc_put_cstr(&b, "piece length");
    benc_put_int(&b, PIECE_LEN);
    benc_put_cstr(&b, "pieces");
    benc_put_str(&b, hashes, np * 20);
    benc_put_end(&b);
    benc_put_end(&b);
    struct bt_metainfo *mi;
    char err[256];
    assert_int_equal(bt_metainfo_parse(buf_head(&b), buf_size(&b), &mi, err, sizeof err), 0);
    buf_free(&b);
    free(hashes);
    free(data);
    return mi;
}

struct wait_checked {
    struct torrent **t;
    int n, ticks;
};

static void on_wait_checked(uv_timer_t *h)
{
    struct wait_checked *w = h->data;
    bool all = true;
    for (int i = 0; i < w->n; i++)
        all &= torrent_is_finished(w->t[i]) && w->t[i]->phase != TP_CHECKING;
    if (all || ++w->ticks > 1000)
        uv_stop(h->loop);
}

static void run_until_checked(uv_loop_t *loop, struct torrent **t, int n)
{
    struct wait_checked w = {t, n, 0};
    uv_timer_t tm;
    uv_timer_init(loop, &tm);
    tm.data = &w;
    uv_timer_start(&tm, on_wait_checked, 10, 10);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&tm, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

/* max_active_checking_torrents: with 1 (qBittorrent's default) one check
 * runs and the others wait in order, checking with nothing hashed; each
 * starts when the one before ends; 0 lets all run at once. */
static void check_queue(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/td-engine-chq-%d", (int)getpid());
    uv_loop_t loop;
    uv_loop_init(&loop);
    char pa[300], sa[300];
    snprintf(pa, sizeof pa, "%s/prof", root);
    snprintf(sa, sizeof sa, "%s/data", root);
    struct session_config ca = {pa, sa, "127.0.0.1", 0};
    struct session *A;
    assert_int_equal(session_new(&loop, &ca, &A), 0);
    assert_int_equal(session_start(A), 0);
    assert_int_equal(settings_int(&A->settings, SET_MAX_ACTIVE_CHECKING_TORRENTS), 1);
    struct torrent_add_params p = {.ratio_limit = -2, .seeding_time_limit = -2, .inactive_seeding_time_limit = -2};
    struct torrent *t[3];
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d.bin", i);
        assert_int_equal(torrent_create(A, single_file(sa, name, 3 * PIECE_LEN + 100 + (size_t)i), &p, 1, &t[i]), 0);
    }
    for (int i = 0; i < 3; i++)
        torrent_begin(t[i], false);
    assert_non_null(t[0]->check);
    assert_false(t[0]->check_queued);
    for (int i = 1; i < 3; i++) {
        assert_null(t[i]->check);
        assert_true(t[i]->check_queued);
        assert_int_equal(t[i]->phase, TP_CHECKING);
        assert_int_equal(torrent_status_state(t[i], A->now_ms), TORRENT_STATE_CHECKING_DL);
    }
    assert_int_equal(A->checks_running, 1);
    assert_ptr_equal(A->checkq_head, t[1]);
    run_until_checked(&loop, t, 3);
    for (int i = 0; i < 3; i++)
        assert_true(torrent_is_finished(t[i]));
    assert_int_equal(A->checks_running, 0);
    assert_null(A->checkq_head);

    /* A queued torrent that is removed leaves the queue; the next runs. */
    for (int i = 0; i < 3; i++)
        torrent_recheck(t[i]);
    assert_true(t[1]->check_queued && t[2]->check_queued);
    torrent_remove(t[1], false, NULL, NULL);
    assert_ptr_equal(A->checkq_head, t[2]);
    struct torrent *left[2] = {t[0], t[2]};
    run_until_checked(&loop, left, 2);
    assert_int_equal(A->checks_running, 0);

    /* No limit: every check at once. */
    struct settings_mask m = {0};
    assert_int_equal(settings_set_int(&A->settings, SET_MAX_ACTIVE_CHECKING_TORRENTS, 0, &m), 0);
    torrent_recheck(t[0]);
    torrent_recheck(t[2]);
    assert_non_null(t[0]->check);
    assert_non_null(t[2]->check);
    assert_int_equal(A->checks_running, 2);
    run_until_checked(&loop, left, 2);

    int down = 0;
    session_shutdown(A, on_down, &down);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(down, 1);
    session_free(A);
    assert_int_equal(uv_loop_close(&loop), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    log_set_quiet(getenv("TORRENTD_DEBUG") == NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seeder_to_leecher),
        cmocka_unit_test(stale_read_failure_after_restart),
        cmocka_unit_test(check_queue),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
