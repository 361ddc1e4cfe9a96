/* Change tracking and the info-hash index of the session, on hand-built
 * torrents (no network, no disk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/mse.h"
#include "core/mseconn.h"
#include "core/session.h"
#include "core/torrent.h"

static struct torrent *mk(int i)
{
    struct torrent *t = calloc(1, sizeof *t);
    memset(t->info_hash, 0, 20);
    t->info_hash[0] = (uint8_t)i;
    t->info_hash[19] = (uint8_t)(i >> 8);
    snprintf(t->hex, sizeof t->hex, "%040x", i);
    return t;
}

static void collect(struct torrent *t, void *ud)
{
    struct torrent ***out = ud;
    *(*out)++ = t;
}

static void count_removed(const char *hex, void *ud)
{
    (void)hex;
    (*(int *)ud)++;
}

static void changes_are_incremental(void **state)
{
    (void)state;
    struct session s;
    memset(&s, 0, sizeof s);
    s.removed = calloc(SESSION_REMOVED_RING, sizeof *s.removed);
    struct torrent *t[5];
    for (int i = 0; i < 5; i++) {
        t[i] = mk(i + 1);
        t[i]->s = &s;
        assert_int_equal(session_index_add(&s, t[i]), 0);
    }
    assert_int_equal(session_index_add(&s, t[2]), -EEXIST);
    uint64_t seq = s.change_seq;

    struct torrent *got[8], **p = got;
    assert_int_equal(session_changed_since(&s, seq, collect, &p), seq);
    assert_int_equal(p - got, 0);

    session_touch(&s, t[3]);
    session_touch(&s, t[1]);
    session_touch(&s, t[3]);   /* touched twice: reported once, newest first */
    p = got;
    session_changed_since(&s, seq, collect, &p);
    assert_int_equal(p - got, 2);
    assert_ptr_equal(got[0], t[3]);
    assert_ptr_equal(got[1], t[1]);

    /* Removal: reported through the removed ring, gone from the index. */
    uint64_t before = s.change_seq;
    session_index_remove(&s, t[1]);
    assert_null(session_find(&s, t[1]->info_hash));
    for (int i = 0; i < 5; i++)
        if (i != 1)
            assert_ptr_equal(session_find(&s, t[i]->info_hash), t[i]);
    int removed = 0;
    assert_int_equal(session_removed_since(&s, before, count_removed, &removed), 0);
    assert_int_equal(removed, 1);
    p = got;
    session_changed_since(&s, before, collect, &p);
    assert_int_equal(p - got, 0);

    /* Once the ring wraps, old positions ask for a full update. */
    struct torrent *extra[SESSION_REMOVED_RING + 1];
    for (int i = 0; i <= SESSION_REMOVED_RING; i++) {
        extra[i] = mk(1000 + i);
        extra[i]->s = &s;
        assert_int_equal(session_index_add(&s, extra[i]), 0);
        session_index_remove(&s, extra[i]);
    }
    removed = 0;
    assert_int_equal(session_removed_since(&s, before, count_removed, &removed), -ERANGE);
    for (int i = 0; i <= SESSION_REMOVED_RING; i++)
        free(extra[i]);
    for (int i = 0; i < 5; i++)
        free(t[i]);
    free(s.removed);
    free(s.torrents);
    hmap_free(&s.index);
}

static struct torrent *find_req2(struct session *s, const uint8_t hash[20])
{
    uint8_t k[20];
    mse_req2_hash(hash, k);
    return mseconn_index_find(s, k);
}

/* MSE's SKEY map: HASH('req2', hash) -> torrent for every hash the index
 * knows (a hybrid's second hash too, also when it comes with the metadata),
 * made at the first lookup and kept in step after. */
static void mse_skey_map(void **state)
{
    (void)state;
    struct session s;
    memset(&s, 0, sizeof s);
    s.removed = calloc(SESSION_REMOVED_RING, sizeof *s.removed);
    struct torrent *t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = mk(i + 1);
        t[i]->s = &s;
    }
    memset(t[1]->alt_hash, 0xa2, 20);   /* a hybrid: its v2 hash truncated */
    t[1]->has_alt = true;
    assert_int_equal(session_index_add(&s, t[0]), 0);
    assert_int_equal(session_index_add(&s, t[1]), 0);
    assert_null(s.mse);   /* nothing until an MSE handshake asks */
    assert_ptr_equal(find_req2(&s, t[0]->info_hash), t[0]);
    assert_ptr_equal(find_req2(&s, t[1]->info_hash), t[1]);
    assert_ptr_equal(find_req2(&s, t[1]->alt_hash), t[1]);
    assert_null(find_req2(&s, t[2]->info_hash));
    assert_null(mseconn_index_find(&s, t[0]->info_hash));   /* keyed by the hash of it, not by it */

    assert_int_equal(session_index_add(&s, t[2]), 0);   /* added after the map was made */
    assert_ptr_equal(find_req2(&s, t[2]->info_hash), t[2]);
    assert_int_equal(session_index_add(&s, t[3]), 0);
    memset(t[3]->alt_hash, 0xa4, 20);   /* a magnet's other hash, learnt with the metadata */
    t[3]->has_alt = true;
    assert_null(find_req2(&s, t[3]->alt_hash));
    assert_int_equal(session_index_alias(&s, t[3]), 0);
    assert_ptr_equal(find_req2(&s, t[3]->alt_hash), t[3]);

    session_index_remove(&s, t[1]);
    assert_null(find_req2(&s, t[1]->info_hash));
    assert_null(find_req2(&s, t[1]->alt_hash));
    assert_ptr_equal(find_req2(&s, t[0]->info_hash), t[0]);

    mseconn_session_free(&s);
    for (int i = 0; i < 4; i++)
        free(t[i]);
    free(s.removed);
    free(s.torrents);
    hmap_free(&s.index);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(changes_are_incremental),
        cmocka_unit_test(mse_skey_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
