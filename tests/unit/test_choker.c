#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bt/choker.h"
#include "util/log.h"

static int ids[16];

static void init_peers(struct bt_choker_peer *p, size_t n)
{
    memset(p, 0, n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        p[i].peer = &ids[i];
        p[i].interested = true;
        p[i].choked = true;
    }
}

static int count_unchoked(const struct bt_choker_peer *p, size_t n, int *opt)
{
    int u = 0;
    *opt = -1;
    for (size_t i = 0; i < n; i++) {
        if (!p[i].choked)
            u++;
        if (p[i].optimistic) {
            assert_int_equal(*opt, -1);   /* at most one */
            assert_false(p[i].choked);
            *opt = (int)i;
        }
    }
    return u;
}

static void tit_for_tat(void **state)
{
    (void)state;
    struct bt_choker c;
    bt_choker_init(&c);
    struct bt_choker_peer p[7];
    init_peers(p, 7);
    const uint64_t down[7] = {100, 5000, 300, 9000, 7000, 50, 99999};
    for (int i = 0; i < 7; i++)
        p[i].down_rate = down[i];
    p[6].interested = false;   /* fastest, but does not want anything */
    p[4].snubbed = true;       /* fast on paper, stalled in practice */
    bt_choker_run(&c, p, 7, 4, false, 1000);
    int opt;
    assert_int_equal(count_unchoked(p, 7, &opt), 4);
    /* Regular slots: 3, 1, 2 (4 is snubbed, 6 not interested). */
    assert_false(p[3].choked);
    assert_false(p[1].choked);
    assert_false(p[2].choked);
    assert_true(p[6].choked);
    assert_false(p[3].optimistic || p[1].optimistic || p[2].optimistic);
    assert_true(opt == 0 || opt == 4 || opt == 5);
    assert_int_equal(p[3].unchoked_since_ms, 1000);

    /* Rates change: 0 overtakes 2. */
    p[0].down_rate = 8000;
    bt_choker_run(&c, p, 7, 4, false, 11000);
    assert_false(p[0].choked);
    assert_false(p[3].choked);
    assert_false(p[1].choked);
    assert_int_equal(count_unchoked(p, 7, &opt), 4);
    if (opt != 2) {
        assert_true(p[2].choked);
        assert_int_equal(p[2].choked_since_ms, 11000);
        assert_int_equal(p[2].unchoked_since_ms, 0);
    }
}

static void optimistic_rotation(void **state)
{
    (void)state;
    struct bt_choker c;
    bt_choker_init(&c);
    struct bt_choker_peer p[6];
    init_peers(p, 6);
    for (int i = 0; i < 6; i++)
        p[i].down_rate = (uint64_t)(6 - i) * 1000;   /* 0 and 1 are the best */
    int seen[6] = {0};
    int opt, first;
    bt_choker_run(&c, p, 6, 3, false, 0);
    assert_int_equal(count_unchoked(p, 6, &opt), 3);
    assert_true(opt >= 2);
    first = opt;
    seen[opt]++;
    /* Kept for the 30 s, across runs every 10 s. */
    bt_choker_run(&c, p, 6, 3, false, 10000);
    assert_true(p[first].optimistic);
    bt_choker_run(&c, p, 6, 3, false, 29999);
    assert_true(p[first].optimistic);
    bt_choker_run(&c, p, 6, 3, false, 30000);
    assert_int_equal(count_unchoked(p, 6, &opt), 3);
    assert_int_not_equal(opt, first);
    assert_true(p[first].choked);
    seen[opt]++;
    /* Rotation prefers peers never unchoked: all of 2..5 get a turn in 4 rotations. */
    for (int k = 2; k <= 3; k++) {
        bt_choker_run(&c, p, 6, 3, false, (uint64_t)k * 30000);
        count_unchoked(p, 6, &opt);
        seen[opt]++;
    }
    for (int i = 2; i < 6; i++)
        assert_int_equal(seen[i], 1);
    /* Then the longest-waiting choked peer. */
    bt_choker_run(&c, p, 6, 3, false, 4 * 30000);
    count_unchoked(p, 6, &opt);
    assert_int_equal(opt, first);

    /* The optimistic peer losing interest is replaced at once. */
    p[opt].interested = false;
    int gone = opt;
    bt_choker_run(&c, p, 6, 3, false, 4 * 30000 + 5000);
    count_unchoked(p, 6, &opt);
    assert_true(opt >= 2 && opt != gone);
    assert_true(p[gone].choked);
}

static void seeding_round_robin(void **state)
{
    (void)state;
    struct bt_choker c;
    bt_choker_init(&c);
    enum { N = 7 };
    struct bt_choker_peer p[N];
    init_peers(p, N);
    int turns[N] = {0};
    for (uint64_t t = 0; t <= 10 * 60 * 1000; t += 10000) {
        for (int i = 0; i < N; i++)
            p[i].up_rate = p[i].choked ? 0 : (uint64_t)(i + 1) * 1000;
        bt_choker_run(&c, p, N, 2, true, t);
        int opt;
        assert_int_equal(count_unchoked(p, N, &opt), 2);
        assert_int_equal(opt, -1);   /* no optimistic slot when seeding */
        for (int i = 0; i < N; i++)
            if (!p[i].choked && p[i].unchoked_since_ms == (t ? t : 1))
                turns[i]++;
    }
    for (int i = 0; i < N; i++)
        assert_true(turns[i] >= 2);

    /* Within their turn, faster uploads keep their slots. */
    bt_choker_init(&c);
    init_peers(p, 3);
    p[0].choked = p[1].choked = false;
    p[0].unchoked_since_ms = p[1].unchoked_since_ms = 1000;
    p[0].up_rate = 10;
    p[1].up_rate = 5000;
    bt_choker_run(&c, p, 3, 1, true, 20000);
    assert_true(p[0].choked);
    assert_false(p[1].choked);
    assert_true(p[2].choked);
}

static void unlimited_and_zero(void **state)
{
    (void)state;
    struct bt_choker c;
    bt_choker_init(&c);
    struct bt_choker_peer p[5];
    init_peers(p, 5);
    p[1].interested = false;
    p[1].choked = false;   /* was unchoked, no longer interested: choked */
    bt_choker_run(&c, p, 5, -1, false, 5000);
    int opt;
    assert_int_equal(count_unchoked(p, 5, &opt), 4);
    assert_true(p[1].choked);
    assert_int_equal(opt, -1);
    bt_choker_run(&c, p, 5, -1, true, 6000);
    assert_int_equal(count_unchoked(p, 5, &opt), 4);

    bt_choker_run(&c, p, 5, 0, false, 7000);
    assert_int_equal(count_unchoked(p, 5, &opt), 0);
    bt_choker_run(&c, p, 5, 0, true, 8000);
    assert_int_equal(count_unchoked(p, 5, &opt), 0);
    /* One slot when leeching is the optimistic one. */
    bt_choker_run(&c, p, 5, 1, false, 9000);
    assert_int_equal(count_unchoked(p, 5, &opt), 1);
    assert_true(opt >= 0);
    /* More slots than peers. */
    bt_choker_run(&c, p, 5, 50, false, 10000);
    assert_int_equal(count_unchoked(p, 5, &opt), 4);
    bt_choker_run(&c, NULL, 0, 4, false, 11000);
}

/* upload_choking_algorithm: fastest upload keeps the fastest peers however
 * long they had their slot; anti-leech prefers the peers nearest to nothing
 * or everything; round robin (the zeroed default) hands over after a turn. */
static void seed_algorithms(void **state)
{
    (void)state;
    struct bt_choker c;
    struct bt_choker_peer p[4];
    /* fastest upload: two slots held by the fast peers past their turn */
    bt_choker_init(&c);
    c.seed_algorithm = BT_CHOKER_SEED_FASTEST_UPLOAD;
    init_peers(p, 4);
    for (int i = 0; i < 4; i++)
        p[i].up_rate = 1000u * (unsigned)(i + 1);
    bt_choker_run(&c, p, 4, 2, true, 1000);
    assert_false(p[3].choked);
    assert_false(p[2].choked);
    assert_true(p[0].choked && p[1].choked);
    bt_choker_run(&c, p, 4, 2, true, 1000 + 10 * BT_CHOKER_SEED_TURN_MS);
    assert_false(p[3].choked);
    assert_false(p[2].choked);
    /* round robin: the same run hands the slots to the waiting peers */
    bt_choker_init(&c);
    init_peers(p, 4);
    for (int i = 0; i < 4; i++)
        p[i].up_rate = 1000u * (unsigned)(i + 1);
    bt_choker_run(&c, p, 4, 2, true, 1000);
    bool first[4];
    for (int i = 0; i < 4; i++)
        first[i] = p[i].choked;
    bt_choker_run(&c, p, 4, 2, true, 1000 + 10 * BT_CHOKER_SEED_TURN_MS);
    for (int i = 0; i < 4; i++)
        assert_true(p[i].choked != first[i]);   /* the waiting two got their turn */
    /* anti-leech: 0 % and 99 % before 40 % and 60 %, whatever the rates */
    bt_choker_init(&c);
    c.seed_algorithm = BT_CHOKER_SEED_ANTI_LEECH;
    init_peers(p, 4);
    p[0].progress_pm = 400;
    p[0].up_rate = 9000;
    p[1].progress_pm = 0;
    p[2].progress_pm = 600;
    p[2].up_rate = 9000;
    p[3].progress_pm = 990;
    bt_choker_run(&c, p, 4, 2, true, 1000);
    assert_false(p[1].choked);
    assert_false(p[3].choked);
    assert_true(p[0].choked && p[2].choked);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tit_for_tat),
        cmocka_unit_test(optimistic_rotation),
        cmocka_unit_test(seeding_round_robin),
        cmocka_unit_test(unlimited_and_zero),
        cmocka_unit_test(seed_algorithms),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return r;
}
