/* web/api/ut_gui_list: the µTorrent torrent row (api-surface.md §12.3,
 * clients-wave2.md §1.3-§1.4) as a pure function of a torrent, its status
 * snapshot and its queue order: positions, JSON types (integers only,
 * int64 sizes, int32 counters), upper-case hash, status bits and messages,
 * per-mil progress and ratio, availability in 1/65536. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/torrent.h"
#include "core/torrent_status.h"
#include "web/api/ut_gui_int.h"

static const char HEX[] = "0123456789abcdef0123456789abcdef01234567";

static void base(struct torrent *t, struct torrent_status *st)
{
    memset(t, 0, sizeof *t);
    memset(st, 0, sizeof *st);
    memcpy(t->hex, HEX, 41);
    t->name = "Some Name";
    t->category = "tv";
    t->save_path = "/data/dl";
    st->state = TORRENT_STATE_DOWNLOADING;
    st->has_metadata = true;
    st->wanted_size = 3000;
    st->wanted_done = 1000;
    st->amount_left = 2000;
    st->ratio = 0;
    st->eta = 42;
    st->availability = -1;
    st->added_on = 1700000000;
    st->completion_on = -1;
}

static json_t *row(const struct torrent *t, const struct torrent_status *st, int64_t q)
{
    json_t *r = ut_gui_row(t, st, q);
    assert_non_null(r);
    assert_true(json_is_array(r));
    assert_int_equal(json_array_size(r), 29);
    return r;
}

static json_int_t ival(json_t *r, size_t i)
{
    json_t *v = json_array_get(r, i);
    assert_true(json_is_integer(v));   /* never a real */
    return json_integer_value(v);
}

static const char *sval(json_t *r, size_t i)
{
    json_t *v = json_array_get(r, i);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void shape_and_types(void **state)
{
    (void)state;
    struct torrent t;
    struct torrent_status st;
    base(&t, &st);
    json_t *r = row(&t, &st, 1);
    static const char kinds[] = "sisiiiiiiiisiiiiiiissssiisss";   /* s string, i integer, per index */
    assert_int_equal(strlen(kinds), 28);
    for (size_t i = 0; i < 28; i++)
        assert_true(kinds[i] == 's' ? json_is_string(json_array_get(r, i)) : json_is_integer(json_array_get(r, i)));
    assert_true(json_is_integer(json_array_get(r, 28)));
    assert_string_equal(sval(r, 0), "0123456789ABCDEF0123456789ABCDEF01234567");
    assert_string_equal(sval(r, 2), "Some Name");
    assert_int_equal(ival(r, 3), 3000);
    assert_int_equal(ival(r, 4), 333);
    assert_int_equal(ival(r, 10), 42);
    assert_string_equal(sval(r, 11), "tv");
    assert_int_equal(ival(r, 17), 1);
    assert_int_equal(ival(r, 18), 2000);
    assert_string_equal(sval(r, 21), "Downloading");
    assert_int_equal(ival(r, 23), 1700000000);
    assert_int_equal(ival(r, 24), 0);     /* not completed */
    assert_string_equal(sval(r, 26), "/data/dl");
    assert_string_equal(sval(r, 27), "");
    assert_int_equal(ival(r, 28), 0);
    json_decref(r);

    /* no category: "" label; sizes beyond 32 bits exact; rates clamped */
    t.category = NULL;
    st.wanted_size = 5000000000LL;
    st.amount_left = 4000000000LL;
    st.downloaded = 6000000000LL;
    st.dl_rate = 1ull << 40;
    r = row(&t, &st, -1);
    assert_string_equal(sval(r, 11), "");
    assert_int_equal(ival(r, 3), 5000000000LL);
    assert_int_equal(ival(r, 18), 4000000000LL);
    assert_int_equal(ival(r, 5), 6000000000LL);
    assert_int_equal(ival(r, 9), INT32_MAX);
    assert_int_equal(ival(r, 17), -1);
    json_decref(r);
}

static int bits(struct torrent *t, struct torrent_status *st, enum torrent_state s)
{
    st->state = s;
    return ut_gui_status_bits(t, st);
}

static void status_bits_and_messages(void **state)
{
    (void)state;
    struct torrent t;
    struct torrent_status st;
    base(&t, &st);
    char msg[256];
    /* seed 004: 201 loaded+queued+checked+started, 136 loaded+checked */
    assert_int_equal(bits(&t, &st, TORRENT_STATE_DOWNLOADING), 201);
    assert_int_equal(bits(&t, &st, TORRENT_STATE_STALLED_UP), 201);
    ut_gui_status_msg(&t, &st, msg, sizeof msg);
    assert_string_equal(msg, "Seeding");
    t.stopped = true;
    assert_int_equal(bits(&t, &st, TORRENT_STATE_STOPPED_DL), 136);
    ut_gui_status_msg(&t, &st, msg, sizeof msg);
    assert_string_equal(msg, "Stopped");
    assert_int_equal(bits(&t, &st, TORRENT_STATE_STOPPED_UP), 136);
    ut_gui_status_msg(&t, &st, msg, sizeof msg);
    assert_string_equal(msg, "Finished");
    /* checking: no start-after-check while stopped */
    assert_int_equal(bits(&t, &st, TORRENT_STATE_CHECKING_DL), 130);
    t.stopped = false;
    assert_int_equal(bits(&t, &st, TORRENT_STATE_CHECKING_DL), 134);
    st.progress = 0.25;
    ut_gui_status_msg(&t, &st, msg, sizeof msg);
    assert_string_equal(msg, "Checking 25.0 %");
    /* held back by the queue: queued, not started */
    assert_int_equal(bits(&t, &st, TORRENT_STATE_QUEUED_DL), 200);
    ut_gui_status_msg(&t, &st, msg, sizeof msg);
    assert_string_equal(msg, "Queued");
    /* forced: started outside the queue (the WebUI's [F]) */
    t.forced = true;
    assert_int_equal(bits(&t, &st, TORRENT_STATE_DOWNLOADING_FORCED), 137);
    ut_gui_status_msg(&t, &st, msg, sizeof msg);
    assert_string_equal(msg, "[F] Downloading");
    t.forced = false;
    /* error */
    t.error = "No space left on device";
    t.stopped = true;
    int b = bits(&t, &st, TORRENT_STATE_ERROR);
    assert_true(b & UT_ST_ERROR);
    assert_false(b & UT_ST_STARTED);
    ut_gui_status_msg(&t, &st, msg, sizeof msg);
    assert_string_equal(msg, "Error: No space left on device");
    /* never the PAUSED bit: torrentd's pause is a stop */
    for (int s = 0; s < TORRENT_STATE_COUNT; s++) {
        t.stopped = s == TORRENT_STATE_STOPPED_DL || s == TORRENT_STATE_STOPPED_UP;
        assert_false(bits(&t, &st, (enum torrent_state)s) & UT_ST_PAUSED);
        assert_true(bits(&t, &st, (enum torrent_state)s) & UT_ST_LOADED);
    }
}

static void figures(void **state)
{
    (void)state;
    struct torrent t;
    struct torrent_status st;
    base(&t, &st);
    json_t *r;
    /* per mil, 1000 only when every wanted byte is here (Sonarr) */
    st.wanted_done = 2999;
    r = row(&t, &st, 1);
    assert_int_equal(ival(r, 4), 999);
    json_decref(r);
    st.wanted_done = 3000;
    st.amount_left = 0;
    st.finished = true;
    st.eta_infinite = true;
    st.completion_on = 1700000500;
    r = row(&t, &st, -1);
    assert_int_equal(ival(r, 4), 1000);
    assert_int_equal(ival(r, 10), 0);   /* finished: nothing left to wait for */
    assert_int_equal(ival(r, 24), 1700000500);
    json_decref(r);
    /* magnet before metadata: its dn, progress 0 */
    st.has_metadata = false;
    st.finished = false;
    t.name = NULL;
    t.magnet_name = "Ubuntu 11 10 Alternate Amd64 Iso";
    r = row(&t, &st, 1);
    assert_string_equal(sval(r, 2), "Ubuntu 11 10 Alternate Amd64 Iso");
    assert_int_equal(ival(r, 4), 0);
    assert_int_equal(ival(r, 10), -1);  /* unknown: infinite */
    json_decref(r);
    st.has_metadata = true;
    /* ratio per mil: -1 infinite, capped at 9999 */
    st.ratio = 1.5;
    r = row(&t, &st, 1);
    assert_int_equal(ival(r, 7), 1500);
    json_decref(r);
    st.ratio = INFINITY;
    r = row(&t, &st, 1);
    assert_int_equal(ival(r, 7), -1);
    json_decref(r);
    st.ratio = 1e9;
    r = row(&t, &st, 1);
    assert_int_equal(ival(r, 7), 9999000);
    json_decref(r);
    /* availability in 1/65536 */
    st.availability = 1.5;
    st.seeds_connected = 2;
    st.leechers_connected = 3;
    st.seeds_swarm = 10;
    st.leechers_swarm = -1;
    r = row(&t, &st, 1);
    assert_int_equal(ival(r, 16), 98304);
    assert_int_equal(ival(r, 12), 3);
    assert_int_equal(ival(r, 13), 0);
    assert_int_equal(ival(r, 14), 2);
    assert_int_equal(ival(r, 15), 10);
    json_decref(r);
    /* the incomplete folder is where the data is while it is there */
    t.download_path = "/data/incomplete";
    t.data_in_download = true;
    r = row(&t, &st, 1);
    assert_string_equal(sval(r, 26), "/data/incomplete");
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shape_and_types),
        cmocka_unit_test(status_bits_and_messages),
        cmocka_unit_test(figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
