/* core/torrent_status: the state and figures of real torrents in a real
 * session (storage on disk, checks on the worker pool), driven through the
 * engine's own calls; no network, no web layer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "bt/bencode.h"
#include "bt/magnet.h"
#include "bt/metainfo.h"
#include "bt/picker.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/torrent_status.h"
#include "util/log.h"
#include "util/path.h"

#define PIECE_LEN 16384
#define DATA_LEN (3 * PIECE_LEN + 1000)   /* 4 pieces, the last one short */
#define NOW_S 1700000000

struct world {
    char root[256];
    uv_loop_t loop;
    struct session *s;
    uint8_t data[DATA_LEN];
};

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    snprintf(w->root, sizeof w->root, "/tmp/td-status-%d", (int)getpid());
    assert_int_equal(uv_loop_init(&w->loop), 0);
    char prof[300], save[300];
    snprintf(prof, sizeof prof, "%s/prof", w->root);
    snprintf(save, sizeof save, "%s/dl", w->root);
    assert_int_equal(path_mkdirs(prof), 0);
    struct session_config c = {prof, save, "127.0.0.1", 0};
    assert_int_equal(session_new(&w->loop, &c, &w->s), 0);
    static const enum setting_id off[] = {SET_DHT, SET_LSD, SET_PEX, SET_UPNP};   /* loopback only, no peers */
    for (size_t i = 0; i < sizeof off / sizeof off[0]; i++)
        assert_int_equal(settings_set_bool(&w->s->settings, off[i], false, NULL), 0);
    assert_int_equal(session_start(w->s), 0);

    RAND_bytes(w->data, DATA_LEN);
    *state = w;
    return 0;
}

static void on_down(void *ud) { *(bool *)ud = true; }

static int teardown(void **state)
{
    struct world *w = *state;
    bool down = false;
    session_shutdown(w->s, on_down, &down);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_true(down);
    session_free(w->s);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", w->root);
    assert_int_equal(system(cmd), 0);
    free(w);
    return 0;
}

/* A single-file torrent over w->data named `name` (so each has its own
 * info-hash). */
static struct bt_metainfo *metainfo(struct world *w, const char *name)
{
    uint8_t hashes[4 * 20];
    for (size_t p = 0; p < 4; p++) {
        size_t len = p < 3 ? PIECE_LEN : DATA_LEN - 3 * PIECE_LEN;
        SHA1(w->data + p * PIECE_LEN, len, hashes + p * 20);
    }
    struct buf b = BUF_INIT;
    benc_put_dict(&b);
    benc_put_cstr(&b, "info");
    benc_put_dict(&b);
    benc_put_cstr(&b, "length");
    benc_put_int(&b, DATA_LEN);
    benc_put_cstr(&b, "name");
    benc_put_cstr(&b, name);
    benc_put_cstr(&b, "piece length");
    benc_put_int(&b, PIECE_LEN);
    benc_put_cstr(&b, "pieces");
    benc_put_str(&b, hashes, sizeof hashes);
    benc_put_end(&b);
    benc_put_end(&b);
    struct bt_metainfo *mi;
    char err[256];
    assert_int_equal(bt_metainfo_parse(buf_head(&b), buf_size(&b), &mi, err, sizeof err), 0);
    buf_free(&b);
    return mi;
}

/* The torrent `name` (its file root/name/name) with the data on disk when
 * with_data. */
static struct torrent *add(struct world *w, const char *name, bool with_data)
{
    char save[300], file[400];
    snprintf(save, sizeof save, "%s/%s", w->root, name);
    assert_int_equal(path_mkdirs(save), 0);
    if (with_data) {
        snprintf(file, sizeof file, "%s/%s", save, name);
        FILE *f = fopen(file, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(w->data, 1, DATA_LEN, f), DATA_LEN);
        fclose(f);
    }
    struct bt_metainfo *mi = metainfo(w, name);
    struct torrent_add_params p = {.save_path = save, .ratio_limit = -2, .seeding_time_limit = -2,
                                   .inactive_seeding_time_limit = -2};
    struct torrent *t;
    assert_int_equal(torrent_create(w->s, mi, &p, NOW_S - 100, &t), 0);
    return t;
}

/* Runs the loop until the check (or move) on the worker pool is over. */
static void settle(struct world *w, struct torrent *t)
{
    for (int i = 0; i < 10000 && (t->phase == TP_CHECKING || t->phase == TP_MOVING); i++)
        uv_run(&w->loop, UV_RUN_ONCE);
    assert_true(t->phase != TP_CHECKING && t->phase != TP_MOVING);
    w->s->now_ms = uv_now(&w->loop);
}

static struct torrent_status status(struct world *w, const struct torrent *t)
{
    struct torrent_status st;
    torrent_status_get(t, w->s->now_ms, NOW_S, &st);
    /* the per-tick accessors agree with the snapshot */
    assert_int_equal(torrent_status_state(t, w->s->now_ms), st.state);
    assert_true(torrent_status_ratio(t) == st.ratio);
    return st;
}

static void downloading_states(void **state)
{
    struct world *w = *state;
    struct torrent *t = add(w, "empty", false);
    struct torrent_status st = status(w, t);
    assert_int_equal(st.state, TORRENT_STATE_CHECKING_RESUME);
    assert_true(st.has_metadata);
    assert_true(st.eta_infinite);
    assert_int_equal(st.total_size, DATA_LEN);
    assert_int_equal(st.added_on, NOW_S - 100);
    assert_int_equal(st.completion_on, -1);
    assert_int_equal(st.last_activity, -1);

    torrent_begin(t, false);
    assert_int_equal(status(w, t).state, TORRENT_STATE_CHECKING_DL);
    settle(w, t);
    st = status(w, t);
    assert_int_equal(st.state, TORRENT_STATE_STALLED_DL);   /* nothing on disk, nobody sending */
    assert_false(st.finished);
    assert_true(st.progress == 0.0);
    assert_int_equal(st.wanted_size, DATA_LEN);
    assert_int_equal(st.amount_left, DATA_LEN);
    assert_int_equal(st.total_done, 0);
    assert_true(st.eta_infinite);                             /* no rate */
    assert_true(st.availability == 0.0);                      /* a picker, no peers */
    assert_int_equal(st.seeds_connected + st.leechers_connected, 0);
    assert_int_equal(st.seeds_swarm, 0);                      /* no tracker figure: the connected count */
    assert_int_equal(st.seen_complete, -1);

    /* Payload arriving: downloading, with an ETA from the rate. */
    rate_add(&t->dl_rate, 4 * PIECE_LEN, w->s->now_ms);
    st = status(w, t);
    assert_int_equal(st.state, TORRENT_STATE_DOWNLOADING);
    assert_true(st.dl_rate > 0);
    assert_false(st.eta_infinite);
    assert_int_equal(st.eta, DATA_LEN / (int64_t)st.dl_rate);

    t->num_complete = 7;
    t->num_incomplete = 3;
    st = status(w, t);
    assert_int_equal(st.seeds_swarm, 7);
    assert_int_equal(st.leechers_swarm, 3);

    torrent_set_forced(t, true);
    assert_int_equal(status(w, t).state, TORRENT_STATE_DOWNLOADING_FORCED);
    torrent_set_forced(t, false);
    torrent_set_queued(t, true);
    st = status(w, t);
    assert_int_equal(st.state, TORRENT_STATE_QUEUED_DL);
    assert_true(st.eta_infinite);
    torrent_set_queued(t, false);
    rate_add(&t->dl_rate, 4 * PIECE_LEN, w->s->now_ms);
    torrent_stop(t);
    st = status(w, t);
    assert_int_equal(st.state, TORRENT_STATE_STOPPED_DL);
    assert_int_equal(st.dl_rate, 0);
    assert_true(st.eta_infinite);

    /* setLocation: moving while the worker moves the files. */
    torrent_start(t);
    char dst[300];
    snprintf(dst, sizeof dst, "%s/moved", w->root);
    assert_int_equal(torrent_set_location(t, dst, NULL, NULL), 0);
    assert_int_equal(status(w, t).state, TORRENT_STATE_MOVING);
    settle(w, t);
    assert_int_equal(status(w, t).state, TORRENT_STATE_STALLED_DL);
}

static void seeding_states(void **state)
{
    struct world *w = *state;
    struct torrent *t = add(w, "full", true);
    torrent_begin(t, false);
    settle(w, t);
    struct torrent_status st = status(w, t);
    assert_int_equal(st.state, TORRENT_STATE_STALLED_UP);
    assert_true(st.finished);
    assert_true(st.progress == 1.0);
    assert_int_equal(st.amount_left, 0);
    assert_int_equal(st.wanted_done, DATA_LEN);
    assert_int_equal(st.total_done, DATA_LEN);                /* the short last piece counted as it is */
    assert_true(st.eta_infinite);
    assert_true(st.availability == -1.0);                     /* a seed has no distributed copies */
    assert_int_equal(st.seen_complete, NOW_S);                /* we are a complete copy */
    assert_true(st.completion_on > 0);
    assert_true(st.ratio == 0.0);

    rate_add(&t->ul_rate, 5000, w->s->now_ms);
    st = status(w, t);
    assert_int_equal(st.state, TORRENT_STATE_UPLOADING);
    assert_true(st.up_rate > 0);
    torrent_set_forced(t, true);
    assert_int_equal(status(w, t).state, TORRENT_STATE_UPLOADING_FORCED);
    torrent_set_forced(t, false);
    torrent_set_queued(t, true);
    assert_int_equal(status(w, t).state, TORRENT_STATE_QUEUED_UP);
    torrent_set_queued(t, false);
    torrent_stop(t);
    st = status(w, t);
    assert_int_equal(st.state, TORRENT_STATE_STOPPED_UP);
    assert_int_equal(st.up_rate, 0);

    torrent_start(t);
    torrent_recheck(t);
    assert_int_equal(status(w, t).state, TORRENT_STATE_CHECKING_UP);   /* it had finished before */
    settle(w, t);
    assert_int_equal(status(w, t).state, TORRENT_STATE_STALLED_UP);
}

static void magnet_and_error_states(void **state)
{
    struct world *w = *state;
    struct bt_magnet *m;
    char err[256];
    assert_int_equal(bt_magnet_parse("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=m", &m, err,
                                     sizeof err), 0);
    struct torrent_add_params p = {.ratio_limit = -2, .seeding_time_limit = -2, .inactive_seeding_time_limit = -2};
    struct torrent *t;
    assert_int_equal(torrent_create_magnet(w->s, m, &p, NOW_S, &t), 0);
    bt_magnet_free(m);
    torrent_begin(t, false);
    struct torrent_status st = status(w, t);
    assert_int_equal(st.state, TORRENT_STATE_METADATA);
    assert_false(st.has_metadata);
    assert_false(st.finished);
    assert_true(st.progress == 0.0);
    assert_int_equal(st.total_size, 0);
    assert_true(st.availability == -1.0);
    torrent_set_forced(t, true);
    assert_int_equal(status(w, t).state, TORRENT_STATE_METADATA_FORCED);
    torrent_set_forced(t, false);
    torrent_set_queued(t, true);
    assert_int_equal(status(w, t).state, TORRENT_STATE_QUEUED_DL);
    torrent_set_queued(t, false);
    torrent_stop(t);
    assert_int_equal(status(w, t).state, TORRENT_STATE_STOPPED_DL);

    /* A disk error: the data file is a directory, so the first verified
     * piece cannot be written and the torrent stops in error. */
    struct torrent *e = add(w, "bad", false);
    torrent_begin(e, false);
    settle(w, e);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/bad/bad", w->root);
    assert_int_equal(path_mkdirs(dir), 0);
    struct bt_block blk[64];
    int tag;
    int n = bt_picker_pick(e->picker, NULL, true, &tag, blk, 64);
    assert_true(n > 0);
    for (int i = 0; i < n; i++)
        torrent_on_block_from(e, NULL, &tag, blk[i].piece, blk[i].begin,
                              w->data + (size_t)blk[i].piece * PIECE_LEN + blk[i].begin, blk[i].length);
    /* Every write back before the teardown: a session shutdown with writes
     * in flight and no peers never completes today (on_piece_written does
     * not finish a closing torrent; reported, core shutdown is another
     * change's). */
    for (int i = 0; i < 10000 && (e->phase != TP_ERROR || e->writes_in_flight > 0); i++)
        uv_run(&w->loop, UV_RUN_ONCE);
    st = status(w, e);
    assert_int_equal(st.state, TORRENT_STATE_ERROR);
    assert_true(st.eta_infinite);
    assert_true(st.downloaded > 0);
}

/* qBittorrent's realRatio: upload / all-time download, the bytes we have
 * standing in for a download under 1 % of them. */
static void ratio_definition(void **state)
{
    struct world *w = *state;
    struct torrent *t = add(w, "ratio", true);
    torrent_begin(t, false);
    settle(w, t);
    assert_int_equal(torrent_status_total_done(t), DATA_LEN);

    assert_true(torrent_status_ratio(t) == 0.0);              /* nothing either way */
    t->uploaded = DATA_LEN;
    assert_true(torrent_status_ratio(t) == 1.0);              /* nothing downloaded: what we have counts */
    t->downloaded = DATA_LEN / 100;                           /* 501 < 1 % of 50152... */
    assert_true(torrent_status_ratio(t) == 1.0);
    t->downloaded = DATA_LEN / 100 + 1;                       /* ...502 is not (1 % as a real, not 501) */
    assert_true(torrent_status_ratio(t) == (double)DATA_LEN / (double)(DATA_LEN / 100 + 1));
    t->downloaded = DATA_LEN * 2;
    assert_true(torrent_status_ratio(t) == 0.5);
    t->downloaded = 1000;
    t->uploaded = 1000LL * 20000;
    assert_true(torrent_status_ratio(t) == 20000.0);          /* no cap in core */

    /* Nothing had and nothing downloaded: 0, or infinite once uploading. */
    struct torrent *e = add(w, "ratio-empty", false);
    torrent_begin(e, false);
    settle(w, e);
    assert_true(torrent_status_ratio(e) == 0.0);
    e->uploaded = 1;
    assert_true(isinf(torrent_status_ratio(e)) && torrent_status_ratio(e) > 0);
    assert_true(isinf(status(w, e).ratio));
}

/* One definition for the share limits too: an infinite ratio reaches any
 * ratio limit (qBittorrent: realRatio() >= ratioLimit), where torrent.c's
 * own formula said -1 and never stopped the torrent. */
static void infinite_ratio_reaches_limit(void **state)
{
    struct world *w = *state;
    struct torrent *t = add(w, "limit", false);
    torrent_begin(t, false);
    settle(w, t);
    size_t idx = 0;
    assert_int_equal(torrent_set_file_priorities(t, &idx, 1, 0), 0);   /* nothing wanted: finished */
    assert_int_equal(status(w, t).state, TORRENT_STATE_STALLED_UP);
    t->uploaded = 1000;
    t->ratio_limit = 1.0;
    assert_true(t->active);
    torrent_tick(t, w->s->now_ms);
    assert_true(t->stopped);
    assert_int_equal(status(w, t).state, TORRENT_STATE_STOPPED_UP);
}

/* The limits in force, one rule for the check and the snapshot: only -2
 * means the global setting (qBittorrent's effectiveRatioLimit); any other
 * negative value is no limit, where torrent.c once took every value <= -2
 * for the global one. */
static void limits_in_force(void **state)
{
    struct world *w = *state;
    struct torrent *t = add(w, "limits", true);
    torrent_begin(t, false);
    settle(w, t);
    t->uploaded = DATA_LEN;                                   /* ratio 1 */
    assert_int_equal(settings_set_bool(&w->s->settings, SET_MAX_RATIO_ENABLED, true, NULL), 0);
    assert_int_equal(settings_set_real(&w->s->settings, SET_MAX_RATIO, 0.5, NULL), 0);
    assert_int_equal(settings_set_int(&w->s->settings, SET_MAX_SEEDING_TIME, 30, NULL), 0);   /* not enabled */

    t->ratio_limit = -3;
    struct torrent_status st = status(w, t);
    assert_true(st.ratio_limit == -3.0);
    assert_int_equal(st.seeding_time_limit, -1);             /* global, switched off */
    torrent_tick(t, w->s->now_ms);
    assert_false(t->stopped);

    t->seeding_time_limit = 10;
    t->inactive_seeding_time_limit = -1;
    st = status(w, t);
    assert_int_equal(st.seeding_time_limit, 10);
    assert_int_equal(st.inactive_seeding_time_limit, -1);

    t->ratio_limit = -2;
    assert_true(status(w, t).ratio_limit == 0.5);
    torrent_tick(t, w->s->now_ms);
    assert_true(t->stopped);
}

int main(void)
{
    log_set_quiet(getenv("TORRENTD_DEBUG") == NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(downloading_states, setup, teardown),
        cmocka_unit_test_setup_teardown(seeding_states, setup, teardown),
        cmocka_unit_test_setup_teardown(magnet_and_error_states, setup, teardown),
        cmocka_unit_test_setup_teardown(ratio_definition, setup, teardown),
        cmocka_unit_test_setup_teardown(infinite_ratio_reaches_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(limits_in_force, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
