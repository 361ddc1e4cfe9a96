/* core/service on real sessions (store, loop, no peers): adding with its
 * duplicate and rollback rules, automatic torrent management moves, and
 * setters that survive a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "bt/bencode.h"
#include "bt/tracker/tracker.h"
#include "core/catalog.h"
#include "core/service.h"
#include "core/session.h"
#include "core/torrent.h"
#include "util/buf.h"
#include "util/log.h"

struct fx {
    char root[128], profile[192], save[192];
    uv_loop_t loop;
    struct session *s;
    int port;
};

static int next_port;

static void open_session(struct fx *f)
{
    struct session_config c = {f->profile, f->save, "127.0.0.1", f->port};
    assert_int_equal(session_new(&f->loop, &c, &f->s), 0);
    settings_set_bool(&f->s->settings, SET_DHT, false, NULL);
    settings_set_bool(&f->s->settings, SET_LSD, false, NULL);
    settings_set_bool(&f->s->settings, SET_UPNP, false, NULL);
    assert_int_equal(session_start(f->s), 0);
}

static void on_down(void *ud) { *(bool *)ud = true; }

static void close_session(struct fx *f)
{
    bool down = false;
    session_shutdown(f->s, on_down, &down);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(down);
    session_free(f->s);
    f->s = NULL;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/td-service-%d-%d", (int)getpid(), next_port);
    snprintf(f->profile, sizeof f->profile, "%s/profile", f->root);
    snprintf(f->save, sizeof f->save, "%s/save", f->root);
    f->port = 21000 + (int)(getpid() % 15000) + next_port++;
    uv_loop_init(&f->loop);
    open_session(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->s)
        close_session(f);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->root);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Runs the loop until *flag (bounded: the session tick wakes it each second). */
static void wait_for(struct fx *f, const bool *flag)
{
    uint64_t end = uv_now(&f->loop) + 10000;
    while (!*flag && uv_now(&f->loop) < end) {
        uv_run(&f->loop, UV_RUN_ONCE);
        uv_update_time(&f->loop);
    }
    assert_true(*flag);
}

/* A one-file torrent named name (its data absent). */
static struct buf make_torrent(const char *name)
{
    uint8_t hash[20];
    SHA1((const uint8_t *)name, strlen(name), hash);
    struct buf b = BUF_INIT;
    benc_put_dict(&b);
    benc_put_cstr(&b, "info");
    benc_put_dict(&b);
    benc_put_cstr(&b, "length");
    benc_put_int(&b, 16384);
    benc_put_cstr(&b, "name");
    benc_put_cstr(&b, name);
    benc_put_cstr(&b, "piece length");
    benc_put_int(&b, 16384);
    benc_put_cstr(&b, "pieces");
    benc_put_str(&b, hash, 20);
    benc_put_end(&b);
    benc_put_end(&b);
    return b;
}

struct added {
    bool done;
    int rc;
    struct torrent *t;
};

static void on_added(void *ud, int rc, struct torrent *t)
{
    struct added *a = ud;
    a->done = true;
    a->rc = rc;
    a->t = t;
}

struct done {
    bool done;
    int rc;
};

static void on_done(void *ud, int rc)
{
    struct done *d = ud;
    d->done = true;
    d->rc = rc;
}

static struct torrent *add_ok(struct fx *f, const char *name, struct service_add_opts *o)
{
    struct buf tb = make_torrent(name);
    struct added a = {0};
    char err[128] = "";
    assert_int_equal(service_add_opts_resolve(f->s, o), 0);
    assert_int_equal(service_add_torrent(f->s, buf_head(&tb), buf_size(&tb), o, on_added, &a, err, sizeof err), 0);
    wait_for(f, &a.done);
    assert_int_equal(a.rc, 0);
    assert_non_null(a.t);
    buf_free(&tb);
    return a.t;
}

static size_t live_torrents(struct session *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->num_torrents; i++)
        n += !s->torrents[i]->removing;
    return n;
}

static void add_category(struct fx *f, const char *name, const char *path)
{
    struct catalog_category_opts co = {.save_path = path};
    struct done d = {0};
    assert_int_equal(catalog_category_add(f->s->catalog, name, &co, false, on_done, &d), 0);
    wait_for(f, &d.done);
    assert_int_equal(d.rc, 0);
}

/* Added, committed before the callback; a duplicate is -EEXIST and
 * invalid data -EBADMSG, neither leaving anything behind. */
static void add_and_duplicate(void **state)
{
    struct fx *f = *state;
    struct service_add_opts o = {.p = {.ratio_limit = -2, .seeding_time_limit = -2,
                                       .inactive_seeding_time_limit = -2, .up_limit = -1, .dl_limit = -1},
                                 .tags = strdup("b,a")};
    struct torrent *t = add_ok(f, "one", &o);
    uint8_t ih[20];
    memcpy(ih, t->info_hash, 20);
    assert_int_equal(t->tags.n, 2);
    /* Tags named on add are created in the catalog. */
    assert_non_null(catalog_tag_find(f->s->catalog, "a"));

    struct buf tb = make_torrent("one");
    char err[128] = "";
    struct added a = {0};
    assert_int_equal(service_add_torrent(f->s, buf_head(&tb), buf_size(&tb), &o, on_added, &a, err, sizeof err),
                     -EEXIST);
    assert_int_equal(service_add_torrent(f->s, (const uint8_t *)"d4:infoi1ee", 11, &o, on_added, &a, err,
                                         sizeof err),
                     -EBADMSG);
    assert_true(service_add_uri(f->s, "magnet:?xt=urn:btih:nonsense", &o, on_added, &a) < 0);
    assert_false(a.done);
    assert_int_equal(live_torrents(f->s), 1);
    buf_free(&tb);
    service_add_opts_free(&o);

    /* The row was committed: a restarted session has the torrent. */
    close_session(f);
    open_session(f);
    assert_int_equal(live_torrents(f->s), 1);
    assert_non_null(session_find(f->s, ih));
}

/* A failed commit removes the torrent again: nothing in memory, nothing
 * in the store. */
static void add_rolls_back_on_store_failure(void **state)
{
    struct fx *f = *state;
    char db[256];
    snprintf(db, sizeof db, "%s/torrentd.db", f->profile);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    assert_int_equal(sqlite3_exec(h, "CREATE TRIGGER no_add BEFORE INSERT ON torrents"
                                     " BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct service_add_opts o = {.p = {.ratio_limit = -2, .seeding_time_limit = -2,
                                       .inactive_seeding_time_limit = -2}};
    struct buf tb = make_torrent("two");
    struct added a = {0};
    char err[128] = "";
    assert_int_equal(service_add_torrent(f->s, buf_head(&tb), buf_size(&tb), &o, on_added, &a, err, sizeof err), 0);
    wait_for(f, &a.done);
    assert_int_not_equal(a.rc, 0);
    assert_null(a.t);
    assert_int_equal(live_torrents(f->s), 0);
    buf_free(&tb);

    close_session(f);
    assert_int_equal(sqlite3_exec(h, "DROP TRIGGER no_add", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    open_session(f);
    assert_int_equal(live_torrents(f->s), 0);
}

static struct torrent *add_magnet(struct fx *f, const char *hex, const char *category, bool atm)
{
    struct service_add_opts o = {.p = {.ratio_limit = -2, .seeding_time_limit = -2,
                                       .inactive_seeding_time_limit = -2, .auto_tmm = atm, .stopped = true},
                                 .category = strdup(category)};
    assert_int_equal(service_add_opts_resolve(f->s, &o), 0);
    struct added a = {0};
    assert_int_equal(service_add_uri(f->s, hex, &o, on_added, &a), 0);
    wait_for(f, &a.done);
    assert_int_equal(a.rc, 0);
    service_add_opts_free(&o);
    return a.t;
}

static void set_pref(struct fx *f, enum setting_id id, bool v)
{
    assert_int_equal(settings_set_bool(&f->s->settings, id, v, NULL), 0);
}

/* Automatic management: enabling it, a category's new path and a new
 * category move an ATM torrent; a manual one stays. */
static void atm_moves(void **state)
{
    struct fx *f = *state;
    char pc[256], pc2[256], pd[256];
    snprintf(pc, sizeof pc, "%s/cat-c", f->root);
    snprintf(pc2, sizeof pc2, "%s/cat-c-new", f->root);
    snprintf(pd, sizeof pd, "%s/cat-d", f->root);
    add_category(f, "c", pc);
    add_category(f, "d", pd);

    struct torrent *atm = add_magnet(f, "1111111111111111111111111111111111111111", "c", true);
    struct torrent *man = add_magnet(f, "2222222222222222222222222222222222222222", "c", false);
    assert_string_equal(atm->save_path, pc);          /* added under its category */
    assert_string_equal(man->save_path, f->save);
    uint8_t ih_atm[20], ih_man[20];
    memcpy(ih_atm, atm->info_hash, 20);
    memcpy(ih_man, man->info_hash, 20);

    /* Enabling ATM moves the manual one to the category path. */
    struct done d = {0};
    assert_int_equal(service_set_auto_tmm(f->s, man, true, on_done, &d), 0);
    wait_for(f, &d.done);
    assert_string_equal(man->save_path, pc);
    d = (struct done){0};
    assert_int_equal(service_set_auto_tmm(f->s, man, false, on_done, &d), 0);
    wait_for(f, &d.done);

    /* The category's path changes: ATM torrents follow, manual ones stay. */
    set_pref(f, SET_CATEGORY_CHANGED_TMM_ENABLED, true);
    struct catalog_category_opts co = {.save_path = pc2};
    d = (struct done){0};
    assert_int_equal(service_category_edit(f->s, "c", &co, on_done, &d), 0);
    wait_for(f, &d.done);
    assert_int_equal(d.rc, 0);
    assert_string_equal(atm->save_path, pc2);
    assert_string_equal(man->save_path, pc);
    assert_true(atm->auto_tmm);

    /* A new category for an ATM torrent: it moves there. */
    d = (struct done){0};
    assert_int_equal(service_set_category(f->s, atm, "d", on_done, &d), 0);
    wait_for(f, &d.done);
    assert_string_equal(atm->save_path, pd);
    assert_int_equal(service_set_category(f->s, atm, "nope", on_done, &d), -ENOENT);

    /* With category_changed_tmm_enabled off (the default), an edited
     * category turns its ATM torrents manual and they stay put. */
    set_pref(f, SET_CATEGORY_CHANGED_TMM_ENABLED, false);
    co.save_path = pc;
    d = (struct done){0};
    assert_int_equal(service_category_edit(f->s, "d", &co, on_done, &d), 0);
    wait_for(f, &d.done);
    assert_false(atm->auto_tmm);
    assert_string_equal(atm->save_path, pd);

    /* What the API answered after is what a restart finds. */
    close_session(f);
    open_session(f);
    atm = session_find(f->s, ih_atm);
    man = session_find(f->s, ih_man);
    assert_non_null(atm);
    assert_non_null(man);
    assert_false(atm->auto_tmm);
    assert_string_equal(atm->save_path, pd);
    assert_string_equal(atm->category, "d");
    assert_string_equal(man->save_path, pc);
}

/* Each setter's value is in the store when its callback runs. */
static void setters_persist(void **state)
{
    struct fx *f = *state;
    struct torrent *t = add_magnet(f, "3333333333333333333333333333333333333333", "", false);
    uint8_t ih[20];
    memcpy(ih, t->info_hash, 20);
    struct done d[8] = {0};
    assert_int_equal(service_set_name(f->s, t, "renamed", on_done, &d[0]), 0);
    assert_int_equal(service_set_name(f->s, t, "", on_done, &d[7]), -EINVAL);
    assert_int_equal(service_set_rate_limit(f->s, t, true, 12345, on_done, &d[1]), 0);
    assert_int_equal(service_set_rate_limit(f->s, t, false, -1, on_done, &d[2]), 0);
    struct service_share_limits sl = {1.5, 60, 30, true, TORRENT_SHARE_STOP};
    assert_int_equal(service_set_share_limits(f->s, t, &sl, on_done, &d[3]), 0);
    assert_int_equal(service_set_flag(f->s, t, SERVICE_FLAG_SEQUENTIAL, -1, on_done, &d[4]), 0);
    const char *tags[] = {"x", "y"}, *rm[] = {"x"};
    assert_int_equal(service_set_tags(f->s, t, tags, 2, on_done, &d[5]), 0);
    assert_int_equal(service_remove_tags(f->s, t, rm, 1, on_done, &d[6]), 0);
    struct done pw = {0};
    assert_int_equal(session_set_password_hash(f->s, "@ByteArray(c2FsdA==:aGFzaA==)", on_done, &pw), 0);
    for (int i = 0; i < 7; i++) {
        wait_for(f, &d[i].done);
        assert_int_equal(d[i].rc, 0);
    }
    wait_for(f, &pw.done);
    assert_string_equal(f->s->settings.password_hash, "@ByteArray(c2FsdA==:aGFzaA==)");
    close_session(f);
    open_session(f);
    t = session_find(f->s, ih);
    assert_non_null(t);
    assert_string_equal(t->name, "renamed");
    assert_int_equal(t->up_limit, 12345);
    assert_int_equal(t->dl_limit, 0);
    assert_true(t->ratio_limit > 1.49 && t->ratio_limit < 1.51);
    assert_int_equal(t->seeding_time_limit, 60);
    assert_int_equal(t->inactive_seeding_time_limit, 30);
    assert_int_equal(t->share_limit_action, TORRENT_SHARE_STOP);
    assert_true(t->sequential);
    assert_int_equal(t->tags.n, 1);
    assert_string_equal(t->tags.v[0], "y");
    /* The password hash row is readable by the next start. */
    assert_non_null(f->s->settings.password_hash);
    assert_string_equal(f->s->settings.password_hash, "@ByteArray(c2FsdA==:aGFzaA==)");
}

/* Trackers, web seeds and queue moves through the service; a magnet has no
 * web seed list until its metadata arrives. */
static void sources_and_queue(void **state)
{
    struct fx *f = *state;
    struct torrent *a = add_magnet(f, "4444444444444444444444444444444444444444", "", false);
    struct torrent *b = add_magnet(f, "5555555555555555555555555555555555555555", "", false);
    uint8_t ih_a[20], ih_b[20];
    memcpy(ih_a, a->info_hash, 20);
    memcpy(ih_b, b->info_hash, 20);

    const char *ws[] = {"http://127.0.0.1:1/seed"};
    assert_int_equal(service_change_web_seeds(f->s, a, true, ws, 1), -EAGAIN);
    assert_int_equal(service_replace_web_seed(f->s, a, ws[0], "http://127.0.0.1:1/other"), -EAGAIN);

    struct service_tracker trk[] = {{"http://127.0.0.1:1/announce", 0}, {"http://127.0.0.1:2/announce", 1}};
    assert_int_equal(service_add_trackers(f->s, a, trk, 2), 2);
    assert_int_equal(service_add_trackers(f->s, a, trk, 1), 0);
    assert_int_equal(service_replace_tracker(f->s, a, trk[0].url, trk[1].url), -EEXIST);
    assert_int_equal(service_replace_tracker(f->s, a, "http://127.0.0.1:9/none", "http://127.0.0.1:3/a"), -ENOENT);
    assert_int_equal(service_replace_tracker(f->s, a, trk[0].url, "http://127.0.0.1:3/announce"), 0);
    const char *rm[] = {"http://127.0.0.1:2/announce"};
    assert_int_equal(service_remove_trackers(f->s, a, rm, 1), 1);

    /* Queue moves: refused while queueing is off, committed when on. */
    struct done d = {0};
    struct torrent *v[] = {b};
    assert_int_equal(service_queue_move(f->s, v, 1, QUEUE_TOP, on_done, &d), -EPERM);
    set_pref(f, SET_QUEUEING_ENABLED, true);
    assert_int_equal(service_queue_move(f->s, v, 1, QUEUE_TOP, on_done, &d), 0);
    wait_for(f, &d.done);
    assert_ptr_equal(f->s->torrents[0], b);

    close_session(f);
    open_session(f);
    a = session_find(f->s, ih_a);
    assert_non_null(a);
    assert_int_equal(tracker_set_count(a->trk), 1);
    assert_string_equal(tracker_set_entry(a->trk, 0)->url, "http://127.0.0.1:3/announce");
    assert_ptr_equal(f->s->torrents[0], session_find(f->s, ih_b));
}

int main(void)
{
    log_set_quiet(getenv("TORRENTD_DEBUG") == NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(add_and_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(add_rolls_back_on_store_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(atm_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(setters_persist, setup, teardown),
        cmocka_unit_test_setup_teardown(sources_and_queue, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
