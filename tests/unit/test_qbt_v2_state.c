/* web/api/qbt_v2_state: core's torrent states and figures in qBittorrent's
 * words (state strings of 4.x and 5.x, torrents/info filters, eta, ratio,
 * shareLimitAction). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/torrent.h"
#include "core/torrent_status.h"
#include "web/api/qbt_v2_int.h"

/* qBittorrent's torrentStateToString, 5.1.4 and 4.5.2. */
static const struct {
    enum torrent_state s;
    const char *v5, *v4;
} names[] = {
    {TORRENT_STATE_ERROR, "error", "error"},
    {TORRENT_STATE_MISSING_FILES, "missingFiles", "missingFiles"},
    {TORRENT_STATE_CHECKING_RESUME, "checkingResumeData", "checkingResumeData"},
    {TORRENT_STATE_MOVING, "moving", "moving"},
    {TORRENT_STATE_STOPPED_DL, "stoppedDL", "pausedDL"},
    {TORRENT_STATE_QUEUED_DL, "queuedDL", "queuedDL"},
    {TORRENT_STATE_METADATA, "metaDL", "metaDL"},
    {TORRENT_STATE_METADATA_FORCED, "forcedMetaDL", "forcedMetaDL"},
    {TORRENT_STATE_CHECKING_DL, "checkingDL", "checkingDL"},
    {TORRENT_STATE_CHECKING_UP, "checkingUP", "checkingUP"},
    {TORRENT_STATE_DOWNLOADING, "downloading", "downloading"},
    {TORRENT_STATE_DOWNLOADING_FORCED, "forcedDL", "forcedDL"},
    {TORRENT_STATE_STALLED_DL, "stalledDL", "stalledDL"},
    {TORRENT_STATE_STOPPED_UP, "stoppedUP", "pausedUP"},
    {TORRENT_STATE_QUEUED_UP, "queuedUP", "queuedUP"},
    {TORRENT_STATE_UPLOADING, "uploading", "uploading"},
    {TORRENT_STATE_UPLOADING_FORCED, "forcedUP", "forcedUP"},
    {TORRENT_STATE_STALLED_UP, "stalledUP", "stalledUP"},
};
#define N_NAMES (sizeof names / sizeof names[0])

static void state_strings(void **state)
{
    (void)state;
    assert_int_equal(N_NAMES, TORRENT_STATE_COUNT);   /* every state has its row */
    for (size_t i = 0; i < N_NAMES; i++) {
        assert_string_equal(qbt_v2_state_name(names[i].s, false), names[i].v5);
        assert_string_equal(qbt_v2_state_name(names[i].s, true), names[i].v4);
        for (size_t j = 0; j < i; j++)   /* a client can tell every state apart */
            assert_string_not_equal(qbt_v2_state_name(names[i].s, false), qbt_v2_state_name(names[j].s, false));
    }
    assert_string_equal(qbt_v2_state_name(TORRENT_STATE_COUNT, false), "unknown");
    assert_string_equal(qbt_v2_state_name((enum torrent_state)-1, true), "unknown");
}

/* qBittorrent's TorrentFilter: which 5.x states each filter lets through
 * (stopped/running look at the stopped flag, not the state). */
static void filter_predicates(void **state)
{
    (void)state;
    static const struct {
        enum qbt_v2_filter f;
        const char *const in[10];
    } sets[] = {
        {QBT_F_DOWNLOADING, {"downloading", "metaDL", "forcedMetaDL", "stalledDL", "checkingDL", "stoppedDL",
                             "queuedDL", "forcedDL"}},
        {QBT_F_SEEDING, {"uploading", "stalledUP", "checkingUP", "queuedUP", "forcedUP"}},
        {QBT_F_COMPLETED, {"uploading", "stalledUP", "checkingUP", "queuedUP", "forcedUP", "stoppedUP"}},
        {QBT_F_ACTIVE, {"metaDL", "forcedMetaDL", "downloading", "forcedDL", "uploading", "forcedUP", "moving"}},
        {QBT_F_STALLED, {"stalledUP", "stalledDL"}},
        {QBT_F_STALLED_UP, {"stalledUP"}},
        {QBT_F_STALLED_DL, {"stalledDL"}},
        {QBT_F_CHECKING, {"checkingUP", "checkingDL", "checkingResumeData"}},
        {QBT_F_MOVING, {"moving"}},
        {QBT_F_ERRORED, {"error", "missingFiles"}},
    };
    struct torrent t = {0};
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        for (size_t i = 0; i < N_NAMES; i++) {
            struct torrent_status st = {.state = names[i].s};
            bool want = false;
            for (size_t j = 0; sets[k].in[j]; j++)
                want = want || strcmp(sets[k].in[j], names[i].v5) == 0;
            if (qbt_v2_filter_match(sets[k].f, &t, &st) != want)
                fail_msg("filter %d, state %s: expected %d", (int)sets[k].f, names[i].v5, want);
            /* inactive is the complement of active */
            if (sets[k].f == QBT_F_ACTIVE)
                assert_true(qbt_v2_filter_match(QBT_F_INACTIVE, &t, &st) == !want);
            assert_true(qbt_v2_filter_match(QBT_F_ALL, &t, &st));
        }
    }
    /* stalledDL counts as active while it uploads */
    struct torrent_status st = {.state = TORRENT_STATE_STALLED_DL, .up_rate = 1};
    assert_true(qbt_v2_filter_match(QBT_F_ACTIVE, &t, &st));
    st.state = TORRENT_STATE_STALLED_UP;
    assert_false(qbt_v2_filter_match(QBT_F_ACTIVE, &t, &st));
    /* stopped/running: the flag, in any state (an errored torrent the user stopped) */
    t.stopped = true;
    st.state = TORRENT_STATE_ERROR;
    assert_true(qbt_v2_filter_match(QBT_F_STOPPED, &t, &st));
    assert_false(qbt_v2_filter_match(QBT_F_RUNNING, &t, &st));
    t.stopped = false;
    assert_false(qbt_v2_filter_match(QBT_F_STOPPED, &t, &st));
    assert_true(qbt_v2_filter_match(QBT_F_RUNNING, &t, &st));
}

static void eta_and_ratio(void **state)
{
    (void)state;
    struct torrent_status st = {.eta_infinite = true, .eta = 5};
    assert_int_equal(qbt_v2_eta(&st), 8640000);
    st.eta_infinite = false;
    assert_int_equal(qbt_v2_eta(&st), 5);
    st.eta = 8640000 + 1;
    assert_int_equal(qbt_v2_eta(&st), 8640000);   /* MAX_ETA: 100 days */
    st.eta = 0;
    assert_int_equal(qbt_v2_eta(&st), 0);

    assert_true(qbt_v2_ratio_value(0.0) == 0.0);
    assert_true(qbt_v2_ratio_value(1.25) == 1.25);
    assert_true(qbt_v2_ratio_value(INFINITY) == -1.0);
    assert_true(qbt_v2_ratio_value(9999.0) == 9999.0);
    assert_true(qbt_v2_ratio_value(123456.0) == 9999.0);
}

static void share_actions(void **state)
{
    (void)state;
    assert_int_equal(qbt_v2_share_action_parse("Stop"), TORRENT_SHARE_STOP);
    assert_int_equal(qbt_v2_share_action_parse("Remove"), TORRENT_SHARE_REMOVE);
    assert_int_equal(qbt_v2_share_action_parse("RemoveWithContent"), TORRENT_SHARE_REMOVE_WITH_CONTENT);
    assert_int_equal(qbt_v2_share_action_parse("EnableSuperSeeding"), TORRENT_SHARE_SUPER_SEED);
    assert_int_equal(qbt_v2_share_action_parse("Default"), TORRENT_SHARE_DEFAULT);
    assert_int_equal(qbt_v2_share_action_parse("stop"), TORRENT_SHARE_DEFAULT);   /* case matters */
    assert_int_equal(qbt_v2_share_action_parse(NULL), TORRENT_SHARE_DEFAULT);
    /* The persisted values (settings JSON share_limit_action) never move. */
    assert_int_equal(TORRENT_SHARE_DEFAULT, 0);
    assert_int_equal(TORRENT_SHARE_STOP, 1);
    assert_int_equal(TORRENT_SHARE_REMOVE, 2);
    assert_int_equal(TORRENT_SHARE_SUPER_SEED, 3);
    assert_int_equal(TORRENT_SHARE_REMOVE_WITH_CONTENT, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_strings),
        cmocka_unit_test(filter_predicates),
        cmocka_unit_test(eta_and_ratio),
        cmocka_unit_test(share_actions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
