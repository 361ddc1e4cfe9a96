/* sync/maindata (§7.2) and sync/torrentPeers (§7.3) on hand-built sessions
 * and torrents: rid sequences, partial replies with only what changed, the
 * resend of the accepted rid, full updates for anything else, and the replay
 * invariant (applying every reply to a client-side copy gives exactly what a
 * fresh full update says). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/metainfo.h"
#include "bt/picker.h"
#include "bt/tracker/tracker.h"
#include "core/catalog.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/torrent.h"
#include "util/log.h"
#include "web/api/qbt_v2_int.h"

/* ---- fixtures ---- */

static struct bt_metainfo *load(const char *name)
{
    const char *dir = getenv("TD_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s (set TD_TEST_DATA)", path);
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    struct bt_metainfo *mi = NULL;
    char err[256];
    assert_int_equal(bt_metainfo_parse(buf, n, &mi, err, sizeof(err)), 0);
    return mi;
}

#define MAXT 8

struct world {
    struct session s;
    struct tracker_client *tc;
    struct torrent *t[MAXT];
    bool live[MAXT];
    size_t n;
    struct qbt_v2_client c;
    json_t *mirror;              /* what the client has, from applying replies */
    int rid;                     /* last rid the client got */
};

static const struct tracker_callbacks no_cb;

static struct torrent *mk_torrent(struct world *w, const char *fixture)
{
    assert_true(w->n < MAXT);
    struct torrent *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->s = &w->s;
    t->mi = load(fixture);
    memcpy(t->info_hash, t->mi->info_hash, 20);
    memcpy(t->hex, t->mi->info_hash_hex, 41);
    t->save_path = strdup("/data/dl/");
    t->category = strdup("");
    t->phase = TP_READY;
    t->ratio_limit = -2;
    t->seeding_time_limit = -2;
    t->inactive_seeding_time_limit = -2;
    t->added_on = 1700000000;
    t->completion_on = t->seen_complete = t->last_activity = -1;
    t->num_complete = t->num_incomplete = -1;
    rate_init(&t->dl_rate);
    rate_init(&t->ul_rate);
    t->file_prios = malloc(t->mi->num_files);
    memset(t->file_prios, 1, t->mi->num_files);
    assert_int_equal(bitfield_init(&t->have, t->mi->num_pieces), 0);
    assert_int_equal(bitfield_init(&t->wanted, t->mi->num_pieces), 0);
    bitfield_set_all(&t->wanted);
    t->picker = bt_picker_new(t->mi->num_pieces, t->mi->piece_length, t->mi->total_size);
    assert_non_null(t->picker);
    t->wanted_size = t->mi->total_size;
    t->trk = tracker_set_new(w->tc, t->info_hash, NULL, 0, &no_cb, t);
    assert_non_null(t->trk);
    assert_int_equal(session_index_add(&w->s, t), 0);
    w->live[w->n] = true;
    w->t[w->n++] = t;
    return t;
}

static void free_torrent(struct torrent *t)
{
    tracker_set_free(t->trk);
    bt_metainfo_free(t->mi);
    bt_picker_free(t->picker);
    bitfield_free(&t->have);
    bitfield_free(&t->wanted);
    free(t->file_prios);
    free(t->save_path);
    free(t->category);
    free(t->name);
    strv_clear(&t->tags);
    free(t->root_cache);   /* filled by torrent_root_folder() */
    for (struct peer *p = t->peers, *next; p; p = next) {
        next = p->next;
        bitfield_free(&p->have);
        free(p);
    }
    free(t);
}

static void rm_torrent(struct world *w, size_t i)
{
    assert_true(w->live[i]);
    session_index_remove(&w->s, w->t[i]);
    w->live[i] = false;
}

static void finish(struct torrent *t)
{
    bitfield_set_all(&t->have);
    for (uint32_t i = 0; i < t->mi->num_pieces; i++)
        bt_picker_we_have(t->picker, i);
    t->wanted_done = t->wanted_size;
    t->completion_on = 1700000500;
}

static int setup(void **state)
{
    log_set_quiet(1);
    struct world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    assert_int_equal(settings_init(&w->s.settings), 0);
    w->s.loop = uv_default_loop();
    w->s.profile_dir = strdup("/tmp");
    w->s.now_ms = 100000;
    w->s.removed = calloc(SESSION_REMOVED_RING, sizeof(*w->s.removed));
    rate_init(&w->s.dl_rate);
    rate_init(&w->s.ul_rate);
    assert_int_equal(catalog_new(NULL, &w->s.catalog), 0);
    uint8_t pid[20] = {0};
    assert_int_equal(tracker_client_new(w->s.loop, NULL, pid, 6881, &w->tc), 0);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    qbt_v2_client_clear(&w->c);
    json_decref(w->mirror);
    for (size_t i = 0; i < w->n; i++) {
        if (w->live[i])
            session_index_remove(&w->s, w->t[i]);
        free_torrent(w->t[i]);
    }
    tracker_client_free(w->tc);
    uv_run(w->s.loop, UV_RUN_NOWAIT);
    catalog_free(w->s.catalog);
    free(w->s.removed);
    free(w->s.torrents);
    hmap_free(&w->s.index);
    free(w->s.profile_dir);
    settings_free(&w->s.settings);
    free(w);
    return 0;
}

/* ---- the client side: apply replies to a mirror (as VueTorrent does) ---- */

static json_t *obj_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        v = json_object();
        json_object_set_new(o, key, v);
    }
    return v;
}

static void del_listed(json_t *o, const json_t *names)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) {
        assert_true(json_is_string(v));
        json_object_del(o, json_string_value(v));
    }
}

/* mirror: {torrents:{h:{}}, categories:{}, tags:{tag:true}, trackers:{url:{h:true}}, server_state:{}} */
static json_t *mirror_apply(json_t *mirror, const json_t *reply)
{
    if (json_is_true(json_object_get(reply, "full_update"))) {
        json_decref(mirror);
        mirror = json_object();
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(reply, "torrents"), k, v)
        json_object_update(obj_at(obj_at(mirror, "torrents"), k), v);
    del_listed(obj_at(mirror, "torrents"), json_object_get(reply, "torrents_removed"));
    json_object_foreach(json_object_get(reply, "categories"), k, v)
        json_object_update(obj_at(obj_at(mirror, "categories"), k), v);
    del_listed(obj_at(mirror, "categories"), json_object_get(reply, "categories_removed"));
    size_t i;
    json_array_foreach(json_object_get(reply, "tags"), i, v)
        json_object_set_new(obj_at(mirror, "tags"), json_string_value(v), json_true());
    del_listed(obj_at(mirror, "tags"), json_object_get(reply, "tags_removed"));
    json_object_foreach(json_object_get(reply, "trackers"), k, v) {
        json_t *set = json_object();
        size_t j;
        json_t *h;
        json_array_foreach(v, j, h)
            json_object_set_new(set, json_string_value(h), json_true());
        json_object_set_new(obj_at(mirror, "trackers"), k, set);
    }
    del_listed(obj_at(mirror, "trackers"), json_object_get(reply, "trackers_removed"));
    json_object_update(obj_at(mirror, "server_state"), json_object_get(reply, "server_state"));
    return mirror;
}

/* One request with rid; returns the reply (caller frees). */
static json_t *req(struct world *w, int rid)
{
    json_t *o = NULL;
    assert_int_equal(qbt_v2_sync_maindata(&w->c, &w->s, rid, false, &o), 0);
    assert_non_null(o);
    assert_true(json_is_integer(json_object_get(o, "rid")));
    return o;
}

/* A well-behaved client: sends its last rid and applies the reply. */
static json_t *sync_poll(struct world *w)
{
    json_t *o = req(w, w->rid);
    w->rid = (int)json_integer_value(json_object_get(o, "rid"));
    w->mirror = mirror_apply(w->mirror, o);
    return o;
}

/* What a brand-new client would get, in mirror form. */
static json_t *fresh_state(struct world *w)
{
    struct qbt_v2_client c = {0};
    json_t *o = NULL;
    assert_int_equal(qbt_v2_sync_maindata(&c, &w->s, 0, false, &o), 0);
    assert_true(json_is_true(json_object_get(o, "full_update")));
    json_t *m = mirror_apply(NULL, o);
    json_decref(o);
    qbt_v2_client_clear(&c);
    return m;
}

static void assert_json_eq(const json_t *a, const json_t *b)
{
    if (!json_equal(a, b)) {
        char *sa = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT), *sb = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
        print_error("mirror: %s\nfresh:  %s\n", sa, sb);
        free(sa);
        free(sb);
        fail();
    }
}

/* seen_complete of a finished torrent is "now" (qbt_v2_json.c), which no
 * touch tracks; everything else must match exactly. */
static json_t *comparable(const json_t *m)
{
    json_t *c = json_deep_copy(m);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(c, "torrents"), k, v)
        json_object_del(v, "seen_complete");
    return c;
}

static void assert_replay(struct world *w)
{
    json_t *f = fresh_state(w);
    json_t *a = comparable(w->mirror), *b = comparable(f);
    assert_json_eq(a, b);
    json_decref(a);
    json_decref(b);
    json_decref(f);
}

static size_t dump_size(const json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    size_t n = strlen(s);
    free(s);
    return n;
}

static const json_t *tor(const json_t *reply, const struct torrent *t)
{
    return json_object_get(json_object_get(reply, "torrents"), t->hex);
}

static bool has_str(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

/* ---- tests ---- */

static void test_full_then_tiny(void **state)
{
    struct world *w = *state;
    struct torrent *a = mk_torrent(w, "single.torrent");
    struct torrent *b = mk_torrent(w, "multi.torrent");
    json_t *o = sync_poll(w);
    assert_int_equal(json_integer_value(json_object_get(o, "rid")), 1);
    assert_true(json_is_true(json_object_get(o, "full_update")));
    assert_int_equal(json_object_size(json_object_get(o, "torrents")), 2);
    assert_true(json_object_size(tor(o, a)) >= 50);      /* every §5.1 field */
    assert_null(json_object_get(tor(o, a), "hash"));
    assert_int_equal(json_integer_value(json_object_get(tor(o, a), "priority")), 1);
    assert_int_equal(json_integer_value(json_object_get(tor(o, b), "priority")), 2);
    /* full updates always carry every collection, empty or not */
    assert_true(json_is_object(json_object_get(o, "categories")));
    assert_true(json_is_array(json_object_get(o, "tags")));
    assert_true(json_is_object(json_object_get(o, "trackers")));
    assert_true(json_object_size(json_object_get(o, "server_state")) >= 20);
    json_decref(o);

    /* nothing changed: {"rid":2}, nothing else */
    o = sync_poll(w);
    assert_int_equal(json_integer_value(json_object_get(o, "rid")), 2);
    assert_null(json_object_get(o, "full_update"));
    assert_int_equal(json_object_size(o), 1);
    assert_true(dump_size(o) <= 12);
    json_decref(o);
    o = sync_poll(w);
    assert_int_equal(json_integer_value(json_object_get(o, "rid")), 3);
    assert_int_equal(json_object_size(o), 1);
    json_decref(o);
    assert_replay(w);
}

/* A shared full reply (what the HTTP handler asks for) says what a copied
 * one says, and the snapshot it lent goes on folding changes. */
static void test_shared_full_reply(void **state)
{
    struct world *w = *state;
    struct torrent *a = mk_torrent(w, "single.torrent");
    mk_torrent(w, "multi.torrent");
    struct qbt_v2_client sc = {0}, cc = {0};
    json_t *shared = NULL, *copied = NULL;
    assert_int_equal(qbt_v2_sync_maindata(&sc, &w->s, 0, true, &shared), 0);
    assert_int_equal(qbt_v2_sync_maindata(&cc, &w->s, 0, false, &copied), 0);
    char *s1 = json_dumps(shared, JSON_COMPACT | JSON_SORT_KEYS), *s2 = json_dumps(copied, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(s1);
    assert_string_equal(s1, s2);
    assert_int_equal(json_object_size(json_object_get(shared, "torrents")), 2);
    free(s1);
    free(s2);
    json_decref(shared);
    json_decref(copied);

    /* after a rebuild nothing was buffered: the next reply to rid 1 is empty */
    json_t *o = NULL;
    assert_int_equal(qbt_v2_sync_maindata(&sc, &w->s, 1, true, &o), 0);
    assert_int_equal(json_object_size(o), 1);
    json_decref(o);
    a->uploaded = 4242;
    session_touch(&w->s, a);
    assert_int_equal(qbt_v2_sync_maindata(&sc, &w->s, 2, true, &o), 0);
    assert_null(json_object_get(o, "full_update"));
    assert_int_equal(json_integer_value(json_object_get(tor(o, a), "uploaded")), 4242);
    assert_true(json_object_size(tor(o, a)) <= 4);
    json_decref(o);
    qbt_v2_client_clear(&sc);
    qbt_v2_client_clear(&cc);
}

static void test_changed_fields_only(void **state)
{
    struct world *w = *state;
    struct torrent *a = mk_torrent(w, "single.torrent");
    struct torrent *b = mk_torrent(w, "multi.torrent");
    json_decref(sync_poll(w));

    a->uploaded = 123456;
    a->seeding_time = 77;
    session_touch(&w->s, a);
    /* b changes without being touched: must not be serialized or sent */
    b->downloaded = 999;
    json_t *o = sync_poll(w);
    assert_int_equal(json_object_size(json_object_get(o, "torrents")), 1);
    const json_t *d = tor(o, a);
    assert_non_null(d);
    assert_int_equal(json_integer_value(json_object_get(d, "uploaded")), 123456);
    assert_int_equal(json_integer_value(json_object_get(d, "seeding_time")), 77);
    assert_non_null(json_object_get(d, "ratio"));   /* uploaded without download: ratio -1 */
    assert_null(json_object_get(d, "name"));
    assert_null(json_object_get(d, "downloaded"));
    assert_true(json_object_size(d) <= 4);
    assert_null(tor(o, b));
    assert_null(json_object_get(o, "torrents_removed"));
    json_decref(o);

    /* touched but nothing changed: no torrents key at all */
    session_touch(&w->s, a);
    o = sync_poll(w);
    assert_null(json_object_get(o, "torrents"));
    json_decref(o);

    /* state change */
    a->stopped = true;
    session_touch(&w->s, a);
    o = sync_poll(w);
    assert_string_equal(json_string_value(json_object_get(tor(o, a), "state")), "stoppedDL");
    json_decref(o);
    b->downloaded = 0;
    assert_replay(w);
}

static void test_add_remove_priority(void **state)
{
    struct world *w = *state;
    struct torrent *a = mk_torrent(w, "single.torrent");
    struct torrent *b = mk_torrent(w, "multi.torrent");
    json_decref(sync_poll(w));

    struct torrent *c = mk_torrent(w, "private.torrent");
    json_t *o = sync_poll(w);
    assert_true(json_object_size(tor(o, c)) >= 50);   /* a new torrent comes whole */
    assert_int_equal(json_integer_value(json_object_get(tor(o, c), "priority")), 3);
    assert_null(tor(o, a));
    assert_null(tor(o, b));
    json_decref(o);
    assert_replay(w);

    /* removing the head of the queue moves the others up */
    rm_torrent(w, 0);
    o = sync_poll(w);
    const json_t *rem = json_object_get(o, "torrents_removed");
    assert_int_equal(json_array_size(rem), 1);
    assert_true(has_str(rem, a->hex));
    assert_null(tor(o, a));
    assert_int_equal(json_integer_value(json_object_get(tor(o, b), "priority")), 1);
    assert_int_equal(json_object_size(tor(o, b)), 1);
    assert_int_equal(json_integer_value(json_object_get(tor(o, c), "priority")), 2);
    json_decref(o);
    assert_replay(w);

    /* b finishes: it leaves the queue (priority 0) and c moves up */
    finish(b);
    session_touch(&w->s, b);
    o = sync_poll(w);
    assert_int_equal(json_integer_value(json_object_get(tor(o, b), "priority")), 0);
    assert_int_equal(json_integer_value(json_object_get(tor(o, c), "priority")), 1);
    json_decref(o);
    assert_replay(w);

    /* a queue move (order of s->torrents) touching only the moved torrent:
     * the one it jumped over moves down too */
    struct torrent *d = mk_torrent(w, "padded.torrent");
    json_decref(sync_poll(w));
    assert_ptr_equal(w->s.torrents[1], c);
    assert_ptr_equal(w->s.torrents[2], d);
    w->s.torrents[1] = d;
    w->s.torrents[2] = c;
    session_touch(&w->s, d);
    o = sync_poll(w);
    assert_int_equal(json_integer_value(json_object_get(tor(o, d), "priority")), 1);
    assert_int_equal(json_integer_value(json_object_get(tor(o, c), "priority")), 2);
    json_decref(o);
    assert_replay(w);
    rm_torrent(w, 3);
    json_decref(sync_poll(w));

    /* re-added after removal between two polls: whole again, not removed */
    rm_torrent(w, 2);
    json_decref(sync_poll(w));
    struct torrent *c2 = mk_torrent(w, "private.torrent");
    rm_torrent(w, 1);
    assert_true(w->live[4]);
    o = sync_poll(w);
    assert_true(json_object_size(tor(o, c2)) >= 50);
    assert_true(has_str(json_object_get(o, "torrents_removed"), b->hex));
    assert_false(has_str(json_object_get(o, "torrents_removed"), c2->hex));
    json_decref(o);
    assert_replay(w);
}

static void test_resend_accepted(void **state)
{
    struct world *w = *state;
    struct torrent *a = mk_torrent(w, "single.torrent");
    struct torrent *b = mk_torrent(w, "multi.torrent");
    json_decref(sync_poll(w));                        /* rid 1, full */
    int accepted = w->rid;

    a->uploaded = 10;
    session_touch(&w->s, a);
    json_t *o = req(w, accepted);                /* rid 2: the client loses it */
    assert_int_equal(json_integer_value(json_object_get(o, "rid")), 2);
    assert_int_equal(json_integer_value(json_object_get(tor(o, a), "uploaded")), 10);
    json_decref(o);

    b->downloaded = 20;
    session_touch(&w->s, b);
    a->seeding_time = 30;
    session_touch(&w->s, a);
    o = req(w, accepted);                        /* retry of rid 1: everything since 1 */
    assert_null(json_object_get(o, "full_update"));
    assert_int_equal(json_integer_value(json_object_get(o, "rid")), 3);
    assert_int_equal(json_integer_value(json_object_get(tor(o, a), "uploaded")), 10);
    assert_int_equal(json_integer_value(json_object_get(tor(o, a), "seeding_time")), 30);
    assert_int_equal(json_integer_value(json_object_get(tor(o, b), "downloaded")), 20);
    w->rid = 3;
    w->mirror = mirror_apply(w->mirror, o);
    json_decref(o);
    assert_replay(w);

    /* accepting 3 empties the buffer */
    o = sync_poll(w);
    assert_int_equal(json_object_size(o), 1);
    json_decref(o);

    /* the older accepted rid is no longer known: full update */
    o = req(w, accepted);
    assert_true(json_is_true(json_object_get(o, "full_update")));
    json_decref(o);
}

static void test_stale_rids(void **state)
{
    struct world *w = *state;
    mk_torrent(w, "single.torrent");
    json_decref(sync_poll(w));
    json_decref(sync_poll(w));
    static const int bad[] = {0, -1, 12345, 1000001, 1};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *o = req(w, bad[i]);
        assert_true(json_is_true(json_object_get(o, "full_update")));
        assert_int_equal(json_object_size(json_object_get(o, "torrents")), 1);
        json_decref(o);
    }
    /* after a full update, accepting it gives a partial one again */
    json_t *o = req(w, 0);
    int rid = (int)json_integer_value(json_object_get(o, "rid"));
    json_decref(o);
    o = req(w, rid);
    assert_null(json_object_get(o, "full_update"));
    json_decref(o);

    assert_int_equal(qbt_v2_parse_rid("17"), 17);
    assert_int_equal(qbt_v2_parse_rid(""), 0);
    assert_int_equal(qbt_v2_parse_rid(NULL), 0);
    assert_int_equal(qbt_v2_parse_rid("12abc"), 0);
    assert_int_equal(qbt_v2_parse_rid("99999999999999999999"), 0);
    assert_int_equal(qbt_v2_parse_rid("-3"), -3);
}

static void test_rid_wraps(void **state)
{
    struct world *w = *state;
    mk_torrent(w, "single.torrent");
    json_decref(sync_poll(w));
    w->c.main.last_sent = 1000000;               /* as if a million replies went by */
    w->rid = 1000000;
    json_t *o = sync_poll(w);
    assert_int_equal(json_integer_value(json_object_get(o, "rid")), 1);
    assert_null(json_object_get(o, "full_update"));
    json_decref(o);
    o = sync_poll(w);
    assert_int_equal(json_integer_value(json_object_get(o, "rid")), 2);
    assert_null(json_object_get(o, "full_update"));
    json_decref(o);
}

static void test_forgotten_removals(void **state)
{
    struct world *w = *state;
    mk_torrent(w, "single.torrent");
    mk_torrent(w, "multi.torrent");
    json_decref(sync_poll(w));
    rm_torrent(w, 0);
    /* the ring lost the removals this client has not seen */
    w->s.removed_floor = w->s.change_seq;
    json_t *o = sync_poll(w);
    assert_true(json_is_true(json_object_get(o, "full_update")));
    assert_int_equal(json_object_size(json_object_get(o, "torrents")), 1);
    json_decref(o);
    assert_replay(w);
    o = sync_poll(w);
    assert_int_equal(json_object_size(o), 1);
    json_decref(o);
}

static void test_trackers_categories_tags(void **state)
{
    struct world *w = *state;
    struct torrent *a = mk_torrent(w, "single.torrent");
    struct torrent *b = mk_torrent(w, "multi.torrent");
    assert_int_equal(tracker_set_add(a->trk, "http://t1.example/announce", 0), 0);
    assert_int_equal(tracker_set_add(b->trk, "http://t1.example/announce", 0), 0);
    assert_int_equal(catalog_category_add(w->s.catalog, "movies", NULL, false, NULL, NULL), 0);
    assert_int_equal(catalog_tag_add(w->s.catalog, "4k", NULL, NULL), 0);
    json_t *o = sync_poll(w);
    const json_t *urls = json_object_get(json_object_get(o, "trackers"), "http://t1.example/announce");
    assert_int_equal(json_array_size(urls), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(o, "categories"),
                                                                          "movies"), "name")), "movies");
    assert_true(has_str(json_object_get(o, "tags"), "4k"));
    json_decref(o);

    /* a gets a second tracker: t2 appears; t1's list unchanged so not sent */
    assert_int_equal(tracker_set_add(a->trk, "udp://t2.example:6969", 1), 0);
    session_touch(&w->s, a);
    o = sync_poll(w);
    json_t *trk = json_object_get(o, "trackers");
    assert_int_equal(json_object_size(trk), 1);
    assert_int_equal(json_array_size(json_object_get(trk, "udp://t2.example:6969")), 1);
    assert_int_equal(json_integer_value(json_object_get(tor(o, a), "trackers_count")), 2);
    json_decref(o);
    assert_replay(w);

    /* b drops t1: t1's full list (just a) is resent */
    assert_int_equal(tracker_set_remove(b->trk, "http://t1.example/announce"), 0);
    session_touch(&w->s, b);
    o = sync_poll(w);
    urls = json_object_get(json_object_get(o, "trackers"), "http://t1.example/announce");
    assert_int_equal(json_array_size(urls), 1);
    assert_true(has_str(urls, a->hex));
    assert_null(json_object_get(o, "trackers_removed"));
    json_decref(o);

    /* a is removed: t2 is gone, t1 too */
    rm_torrent(w, 0);
    o = sync_poll(w);
    assert_true(has_str(json_object_get(o, "trackers_removed"), "udp://t2.example:6969"));
    assert_true(has_str(json_object_get(o, "trackers_removed"), "http://t1.example/announce"));
    json_decref(o);
    assert_replay(w);

    /* categories and tags: changed fields, removals */
    struct catalog_category_opts opts = {.save_path = "/data/movies"};
    assert_int_equal(catalog_category_edit(w->s.catalog, "movies", &opts, NULL, NULL), 0);
    assert_int_equal(catalog_category_add(w->s.catalog, "tv", NULL, false, NULL, NULL), 0);
    assert_int_equal(catalog_tag_add(w->s.catalog, "hdr", NULL, NULL), 0);
    assert_int_equal(catalog_tag_remove(w->s.catalog, "4k", NULL, NULL), 0);
    o = sync_poll(w);
    json_t *cats = json_object_get(o, "categories");
    assert_int_equal(json_object_size(json_object_get(cats, "movies")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(cats, "movies"), "savePath")),
                        "/data/movies");
    assert_non_null(json_object_get(cats, "tv"));
    assert_true(has_str(json_object_get(o, "tags"), "hdr"));
    assert_true(has_str(json_object_get(o, "tags_removed"), "4k"));
    json_decref(o);
    assert_int_equal(catalog_category_remove(w->s.catalog, "tv", false, NULL, NULL), 0);
    o = sync_poll(w);
    assert_true(has_str(json_object_get(o, "categories_removed"), "tv"));
    assert_null(json_object_get(o, "categories"));
    json_decref(o);
    assert_replay(w);
    o = sync_poll(w);
    assert_int_equal(json_object_size(o), 1);
    json_decref(o);
}

/* Many steps of mixed changes, with retries of the accepted rid; after every
 * applied reply the mirror equals a fresh full update. */
static void test_replay_invariant(void **state)
{
    struct world *w = *state;
    static const char *const fx[] = {"single.torrent", "multi.torrent", "private.torrent", "padded.torrent"};
    char hex[4][41];
    for (size_t k = 0; k < 4; k++) {
        struct bt_metainfo *mi = load(fx[k]);
        memcpy(hex[k], mi->info_hash_hex, 41);
        bt_metainfo_free(mi);
    }
    mk_torrent(w, fx[0]);
    mk_torrent(w, fx[1]);
    json_decref(sync_poll(w));
    unsigned seed = 12345;
    for (int step = 0; step < 200; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = (seed >> 16) % 100;
        size_t i = (seed >> 8) % w->n;
        struct torrent *t = w->t[i];
        if (r < 40 && w->live[i]) {
            t->uploaded += 1000 + r;
            t->active_time += 1;
            session_touch(&w->s, t);
        } else if (r < 50 && w->live[i]) {
            t->stopped = !t->stopped;
            session_touch(&w->s, t);
        } else if (r < 55 && w->live[i]) {
            finish(t);
            session_touch(&w->s, t);
        } else if (r < 62 && w->live[i]) {
            char url[64];
            snprintf(url, sizeof(url), "http://t%u.example/a", r % 3);
            if (tracker_set_add(t->trk, url, 0) != 0)
                tracker_set_remove(t->trk, url);
            session_touch(&w->s, t);
        } else if (r < 67) {
            char name[16];
            snprintf(name, sizeof(name), "c%u", r % 3);
            if (catalog_category_add(w->s.catalog, name, NULL, false, NULL, NULL) == -EEXIST)
                catalog_category_remove(w->s.catalog, name, false, NULL, NULL);
        } else if (r < 72) {
            char name[16];
            snprintf(name, sizeof(name), "g%u", r % 3);
            if (catalog_tag_add(w->s.catalog, name, NULL, NULL) == -EEXIST)
                catalog_tag_remove(w->s.catalog, name, NULL, NULL);
        } else if (r < 77 && w->live[i]) {
            rm_torrent(w, i);
        } else if (r < 82) {
            /* (re-)add a fixture that is not live */
            for (size_t k = 0; k < 4; k++) {
                bool live = false;
                for (size_t j = 0; j < w->n; j++)
                    live |= w->live[j] && strcmp(w->t[j]->hex, hex[k]) == 0;
                if (!live && w->n < MAXT) {
                    mk_torrent(w, fx[k]);
                    break;
                }
            }
        } else if (r < 90) {
            /* an unaccepted reply: the next poll resends from the accepted rid */
            json_decref(req(w, w->rid));
        }
        json_decref(sync_poll(w));
        assert_replay(w);
    }
}

/* ---- sync/torrentPeers ---- */

static struct peer *add_peer(struct torrent *t, const char *ip, uint16_t port)
{
    struct peer *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    p->state = PEER_ACTIVE;
    snprintf(p->ip, sizeof(p->ip), "%s", ip);
    p->port = port;
    strcpy(p->client, "qBittorrent 4.5.2");
    assert_int_equal(bitfield_init(&p->have, t->mi->num_pieces), 0);
    rate_init(&p->down);
    rate_init(&p->up);
    p->next = t->peers;
    t->peers = p;
    return p;
}

static json_t *peers_req(struct world *w, struct torrent *t, int rid)
{
    json_t *o = NULL;
    assert_int_equal(qbt_v2_sync_peers(&w->c, t, rid, &o), 0);
    assert_non_null(o);
    return o;
}

static void test_peers(void **state)
{
    struct world *w = *state;
    struct torrent *t = mk_torrent(w, "multi.torrent");
    struct peer *p1 = add_peer(t, "10.0.0.1", 6881);
    add_peer(t, "10.0.0.2", 51413);

    json_t *o = peers_req(w, t, 0);
    assert_int_equal(json_integer_value(json_object_get(o, "rid")), 1);
    assert_true(json_is_true(json_object_get(o, "full_update")));
    assert_true(json_is_false(json_object_get(o, "show_flags")));
    assert_int_equal(json_object_size(json_object_get(o, "peers")), 2);
    assert_non_null(json_object_get(json_object_get(o, "peers"), "10.0.0.2:51413"));
    json_decref(o);

    o = peers_req(w, t, 1);                   /* nothing changed */
    assert_int_equal(json_integer_value(json_object_get(o, "rid")), 2);
    assert_int_equal(json_object_size(o), 1);
    json_decref(o);

    p1->downloaded = 4242;
    o = peers_req(w, t, 2);
    json_t *d = json_object_get(json_object_get(o, "peers"), "10.0.0.1:6881");
    assert_int_equal(json_object_size(json_object_get(o, "peers")), 1);
    assert_int_equal(json_integer_value(json_object_get(d, "downloaded")), 4242);
    assert_int_equal(json_object_size(d), 1);
    assert_null(json_object_get(o, "full_update"));
    json_decref(o);

    /* p1 goes away, p3 arrives */
    assert_ptr_equal(t->peers->next, p1);    /* add_peer prepends */
    t->peers->next = p1->next;
    bitfield_free(&p1->have);
    free(p1);
    add_peer(t, "10.0.0.3", 6881);
    o = peers_req(w, t, 3);
    assert_true(has_str(json_object_get(o, "peers_removed"), "10.0.0.1:6881"));
    assert_true(json_object_size(json_object_get(json_object_get(o, "peers"), "10.0.0.3:6881")) >= 10);
    json_decref(o);

    /* retrying the accepted rid 3 diffs against the same base */
    o = peers_req(w, t, 3);
    assert_true(has_str(json_object_get(o, "peers_removed"), "10.0.0.1:6881"));
    assert_int_equal(json_integer_value(json_object_get(o, "rid")), 5);
    json_decref(o);

    /* stale rid and rid 0: full update, rid restarts at 1 */
    o = peers_req(w, t, 77);
    assert_true(json_is_true(json_object_get(o, "full_update")));
    json_decref(o);
    o = peers_req(w, t, 0);
    assert_int_equal(json_integer_value(json_object_get(o, "rid")), 1);
    assert_true(json_is_true(json_object_get(o, "full_update")));
    json_decref(o);

    /* all peers gone: only peers_removed */
    while (t->peers) {
        struct peer *p = t->peers;
        t->peers = p->next;
        bitfield_free(&p->have);
        free(p);
    }
    o = peers_req(w, t, 1);
    assert_null(json_object_get(o, "peers"));
    assert_int_equal(json_array_size(json_object_get(o, "peers_removed")), 2);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_then_tiny, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_full_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_fields_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_remove_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_rids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rid_wraps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forgotten_removals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trackers_categories_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_invariant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
