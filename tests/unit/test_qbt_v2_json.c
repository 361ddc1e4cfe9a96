/* qBittorrent WebUI API v2 serialization and parameter rules, on
 * hand-built sessions and torrents (no network, no server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/natcmp.h"
#include "bt/metainfo.h"
#include "bt/picker.h"
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

struct world {
    struct session s;
    struct torrent *t[4];
    size_t n;
};

static struct torrent *mk_torrent(struct world *w, const char *fixture)
{
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
    size_t before = w->s.num_torrents;
    assert_int_equal(session_index_add(&w->s, t), 0);
    if (w->s.num_torrents == before) {   /* the index alone: keep the order list ourselves */
        if (w->s.num_torrents == w->s.cap_torrents) {
            w->s.cap_torrents = w->s.cap_torrents ? w->s.cap_torrents * 2 : 8;
            w->s.torrents = realloc(w->s.torrents, w->s.cap_torrents * sizeof(*w->s.torrents));
        }
        w->s.torrents[w->s.num_torrents++] = t;
    }
    w->t[w->n++] = t;
    return t;
}

static void have_all(struct torrent *t)
{
    bitfield_set_all(&t->have);
    for (uint32_t i = 0; i < t->mi->num_pieces; i++)
        bt_picker_we_have(t->picker, i);
    t->wanted_done = t->wanted_size;
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
    rate_init(&w->s.dl_rate);
    rate_init(&w->s.ul_rate);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    for (size_t i = 0; i < w->n; i++) {
        struct torrent *t = w->t[i];
        session_index_remove(&w->s, t);
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
        free(t);
    }
    free(w->s.torrents);
    hmap_free(&w->s.index);
    free(w->s.profile_dir);
    settings_free(&w->s.settings);
    free(w);
    return 0;
}

/* ---- key sets ---- */

enum jt { I, R, S, B, BN /* bool or null */, A };

struct key { const char *k; enum jt t; };

static void check_keys(const json_t *o, const struct key *keys, size_t n)
{
    assert_true(json_is_object(o));
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(o, keys[i].k);
        if (!v)
            fail_msg("missing key %s", keys[i].k);
        bool ok = false;
        switch (keys[i].t) {
        case I: ok = json_is_integer(v); break;
        case R: ok = json_is_real(v); break;
        case S: ok = json_is_string(v); break;
        case B: ok = json_is_boolean(v); break;
        case BN: ok = json_is_boolean(v) || json_is_null(v); break;
        case A: ok = json_is_array(v); break;
        }
        if (!ok)
            fail_msg("key %s has the wrong JSON type", keys[i].k);
    }
    if (json_object_size(o) != n) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)o, k, v) {
            bool known = false;
            for (size_t i = 0; i < n; i++)
                known = known || strcmp(k, keys[i].k) == 0;
            if (!known)
                fail_msg("unexpected key %s", k);
        }
    }
}

static const struct key torrent_keys[] = {
    {"hash", S}, {"infohash_v1", S}, {"infohash_v2", S}, {"name", S}, {"magnet_uri", S},
    {"size", I}, {"total_size", I}, {"progress", R}, {"dlspeed", I}, {"upspeed", I},
    {"priority", I}, {"num_seeds", I}, {"num_leechs", I}, {"num_complete", I},
    {"num_incomplete", I}, {"ratio", R}, {"popularity", R}, {"eta", I}, {"state", S},
    {"seq_dl", B}, {"f_l_piece_prio", B}, {"super_seeding", B}, {"force_start", B},
    {"auto_tmm", B}, {"category", S}, {"tags", S}, {"save_path", S}, {"download_path", S},
    {"content_path", S}, {"root_path", S}, {"added_on", I}, {"completion_on", I},
    {"seen_complete", I}, {"last_activity", I}, {"tracker", S}, {"trackers_count", I},
    {"dl_limit", I}, {"up_limit", I}, {"downloaded", I}, {"uploaded", I},
    {"downloaded_session", I}, {"uploaded_session", I}, {"amount_left", I}, {"completed", I},
    {"ratio_limit", R}, {"seeding_time_limit", I}, {"inactive_seeding_time_limit", I},
    {"max_ratio", R}, {"max_seeding_time", I}, {"max_inactive_seeding_time", I},
    {"time_active", I}, {"seeding_time", I}, {"availability", R}, {"reannounce", I},
    {"comment", S}, {"private", BN}, {"has_metadata", B},
};
#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

static const char *sget(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static json_int_t iget(const json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static double rget(const json_t *o, const char *k) { return json_real_value(json_object_get(o, k)); }

/* ---- §5.1 ---- */

static void test_torrent_keys_and_types(void **state)
{
    struct world *w = *state;
    struct torrent *t = mk_torrent(w, "multi.torrent");
    strv_push(&t->tags, "movie");
    strv_push(&t->tags, "4k");
    strv_push(&t->tags, "Season 10");
    strv_push(&t->tags, "season 9");
    t->dl_limit = -1;
    t->up_limit = 5000;
    t->stopped = true;
    t->forced = true;

    json_t *o = qbt_v2_torrent_json(t, true);
    check_keys(o, torrent_keys, NKEYS(torrent_keys));
    assert_string_equal(sget(o, "hash"), t->hex);
    assert_string_equal(sget(o, "infohash_v1"), t->hex);
    assert_string_equal(sget(o, "infohash_v2"), "");
    assert_string_equal(sget(o, "name"), "multi");
    assert_string_equal(sget(o, "state"), "stoppedDL");
    assert_int_equal(iget(o, "eta"), 8640000);
    assert_false(json_is_true(json_object_get(o, "force_start")));   /* forced but stopped */
    assert_int_equal(iget(o, "dl_limit"), 0);                          /* 0 = unlimited here */
    assert_int_equal(iget(o, "up_limit"), 5000);
    assert_string_equal(sget(o, "tags"), "4k, movie, season 9, Season 10");
    assert_string_equal(sget(o, "content_path"), "/data/dl/multi");
    assert_string_equal(sget(o, "root_path"), "/data/dl/multi");
    assert_int_equal(iget(o, "last_activity"), 1700000000);            /* never active = added_on */
    assert_int_equal(iget(o, "completion_on"), -1);
    assert_int_equal(iget(o, "total_size"), 21300);
    assert_int_equal(iget(o, "priority"), 1);                          /* unfinished: queue position */
    assert_true(rget(o, "ratio") == 0.0);
    assert_true(rget(o, "ratio_limit") == -2.0);
    assert_true(rget(o, "max_ratio") == -1.0);                         /* global limit disabled */
    assert_int_equal(iget(o, "max_seeding_time"), -1);
    assert_true(json_is_false(json_object_get(o, "private")));
    assert_true(json_is_true(json_object_get(o, "has_metadata")));
    assert_int_equal(iget(o, "num_complete"), 0);                     /* unknown: connected count */
    const char *m = sget(o, "magnet_uri");
    assert_true(strncmp(m, "magnet:?xt=urn:btih:", 20) == 0);
    /* libtorrent escaping: lowercase hex */
    assert_non_null(strstr(m, "&dn=multi&tr=http%3a%2f%2f127.0.0.1%3a6969%2fannounce"));
    json_decref(o);

    o = qbt_v2_torrent_json(t, false);
    assert_null(json_object_get(o, "hash"));
    assert_int_equal(json_object_size(o), NKEYS(torrent_keys) - 1);
    json_decref(o);

    /* Finished: priority 0, progress 1.0 as a real. */
    t->stopped = false;
    have_all(t);
    o = qbt_v2_torrent_json(t, true);
    assert_int_equal(iget(o, "priority"), 0);
    assert_true(json_is_real(json_object_get(o, "progress")));
    assert_true(rget(o, "progress") == 1.0);
    assert_int_equal(iget(o, "amount_left"), 0);
    assert_string_equal(sget(o, "state"), "forcedUP");
    assert_true(json_is_true(json_object_get(o, "force_start")));
    json_decref(o);

    /* Global share limits substitute -2. */
    assert_int_equal(settings_set_bool(&w->s.settings, SET_MAX_RATIO_ENABLED, true, NULL), 0);
    assert_int_equal(settings_set_real(&w->s.settings, SET_MAX_RATIO, 1.5, NULL), 0);
    assert_int_equal(settings_set_bool(&w->s.settings, SET_MAX_SEEDING_TIME_ENABLED, true, NULL), 0);
    assert_int_equal(settings_set_int(&w->s.settings, SET_MAX_SEEDING_TIME, 60, NULL), 0);
    t->inactive_seeding_time_limit = 7;
    o = qbt_v2_torrent_json(t, true);
    assert_true(rget(o, "max_ratio") == 1.5);
    assert_int_equal(iget(o, "max_seeding_time"), 60);
    assert_int_equal(iget(o, "max_inactive_seeding_time"), 7);
    json_decref(o);
}

static void test_single_file_paths(void **state)
{
    struct world *w = *state;
    struct torrent *t = mk_torrent(w, "single.torrent");
    free(t->save_path);
    t->save_path = strdup("/srv");
    t->name = strdup("renamed");
    json_t *o = qbt_v2_torrent_json(t, true);
    assert_string_equal(sget(o, "content_path"), "/srv/hello.txt");
    assert_string_equal(sget(o, "root_path"), "");
    assert_string_equal(sget(o, "name"), "renamed");
    assert_string_equal(sget(o, "comment"), "single-file fixture");
    json_decref(o);
}

static void test_ratio_rules(void **state)
{
    struct world *w = *state;
    struct torrent *t = mk_torrent(w, "single.torrent");
    assert_true(qbt_v2_ratio(t) == 0.0);
    t->uploaded = 100;
    assert_true(qbt_v2_ratio(t) == -1.0);          /* infinite */
    t->downloaded = 50;
    assert_true(qbt_v2_ratio(t) == 2.0);
    /* A seeder that lost its stats: the data it has counts as downloaded. */
    have_all(t);
    t->downloaded = 10;
    t->uploaded = 40000;
    assert_true(qbt_v2_ratio(t) == 1.0);
    t->downloaded = 1;
    t->uploaded = INT64_MAX / 2;
    t->have.count = 0;
    bitfield_clear_all(&t->have);
    assert_true(qbt_v2_ratio(t) == QBT_V2_MAX_RATIO);
    json_t *o = qbt_v2_torrent_json(t, true);
    assert_true(json_is_real(json_object_get(o, "popularity")));
    json_decref(o);
}

/* The 5.x state string of t now. */
static const char *state_of(const struct torrent *t)
{
    return qbt_v2_state_name(torrent_status_state(t, t->s->now_ms), false);
}

static void test_states(void **state)
{
    struct world *w = *state;
    struct torrent *t = mk_torrent(w, "single.torrent");
    t->phase = TP_LOADING;
    assert_string_equal(state_of(t), "checkingResumeData");
    t->phase = TP_ERROR;
    assert_string_equal(state_of(t), "error");
    t->phase = TP_CHECKING;
    assert_string_equal(state_of(t), "checkingDL");
    t->had_metadata_complete = true;
    assert_string_equal(state_of(t), "checkingUP");
    t->phase = TP_READY;
    assert_string_equal(state_of(t), "stalledDL");
    t->stopped = true;
    assert_string_equal(state_of(t), "stoppedDL");
    t->stopped = false;
    t->forced = true;
    assert_string_equal(state_of(t), "forcedDL");
    t->forced = false;
    have_all(t);
    assert_string_equal(state_of(t), "stalledUP");
    t->stopped = true;
    assert_string_equal(state_of(t), "stoppedUP");
    json_t *o = qbt_v2_torrent_json(t, true);
    assert_string_equal(sget(o, "state"), "stoppedUP");
    json_decref(o);
}

/* ---- §5.2, §5.3, §5.4 ---- */

static const struct key prop_keys[] = {
    {"hash", S}, {"name", S}, {"infohash_v1", S}, {"infohash_v2", S}, {"time_elapsed", I},
    {"seeding_time", I}, {"eta", I}, {"nb_connections", I}, {"nb_connections_limit", I},
    {"total_downloaded", I}, {"total_downloaded_session", I}, {"total_uploaded", I},
    {"total_uploaded_session", I}, {"dl_speed", I}, {"dl_speed_avg", I}, {"up_speed", I},
    {"up_speed_avg", I}, {"dl_limit", I}, {"up_limit", I}, {"total_wasted", I}, {"seeds", I},
    {"seeds_total", I}, {"peers", I}, {"peers_total", I}, {"share_ratio", R}, {"popularity", R},
    {"reannounce", I}, {"total_size", I}, {"pieces_num", I}, {"piece_size", I}, {"pieces_have", I},
    {"created_by", S}, {"comment", S}, {"save_path", S}, {"download_path", S}, {"is_private", B},
    {"private", BN}, {"addition_date", I}, {"last_seen", I}, {"completion_date", I},
    {"creation_date", I}, {"has_metadata", B}, {"progress", R},
};

static void test_properties(void **state)
{
    struct world *w = *state;
    struct torrent *t = mk_torrent(w, "private.torrent");
    t->active_time = 100;
    t->seeding_time = 40;
    t->downloaded = 6000;
    t->uploaded = 500;
    json_t *o = qbt_v2_properties_json(t);
    check_keys(o, prop_keys, NKEYS(prop_keys));
    assert_int_equal(iget(o, "dl_limit"), -1);          /* -1 = unlimited here */
    assert_int_equal(iget(o, "dl_speed_avg"), 100);     /* 6000 / (100 - 40) */
    assert_int_equal(iget(o, "up_speed_avg"), 5);
    assert_int_equal(iget(o, "creation_date"), -1);
    assert_int_equal(iget(o, "pieces_num"), 1);
    assert_int_equal(iget(o, "piece_size"), 16384);
    assert_true(json_is_true(json_object_get(o, "private")));
    assert_true(json_is_true(json_object_get(o, "is_private")));
    json_decref(o);
}

static void test_files(void **state)
{
    struct world *w = *state;
    struct torrent *t = mk_torrent(w, "multi.torrent");
    bitfield_set(&t->have, 0);
    t->file_prios[3] = 0;
    json_t *a = qbt_v2_files_json(t, NULL, 0);
    assert_int_equal(json_array_size(a), 4);
    json_t *f0 = json_array_get(a, 0), *f1 = json_array_get(a, 1), *f2 = json_array_get(a, 2),
           *f3 = json_array_get(a, 3);
    assert_true(json_is_false(json_object_get(f0, "is_seed")));
    assert_null(json_object_get(f1, "is_seed"));        /* only on the first element */
    assert_string_equal(sget(f0, "name"), "multi/a.txt");
    assert_int_equal(iget(f0, "index"), 0);
    assert_int_equal(iget(f0, "size"), 1000);
    assert_true(rget(f0, "progress") == 1.0);
    assert_true(json_is_real(json_object_get(f0, "availability")));
    assert_int_equal(json_integer_value(json_array_get(json_object_get(f1, "piece_range"), 0)), 0);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(f1, "piece_range"), 1)), 1);
    assert_true(rget(f1, "progress") > 0.7 && rget(f1, "progress") < 0.8);   /* 15384 of 20000 */
    assert_int_equal(json_integer_value(json_array_get(json_object_get(f2, "piece_range"), 1)), -1);
    assert_int_equal(iget(f3, "priority"), 0);
    json_decref(a);

    size_t idx[] = {3, 0};
    a = qbt_v2_files_json(t, idx, 2);
    assert_int_equal(json_array_size(a), 2);
    assert_int_equal(iget(json_array_get(a, 0), "index"), 3);
    assert_non_null(json_object_get(json_array_get(a, 0), "is_seed"));
    json_decref(a);

    /* Padding files are hidden and indexes skip them. */
    struct torrent *p = mk_torrent(w, "padded.torrent");
    assert_int_equal(qbt_v2_file_count(p), 3);
    a = qbt_v2_files_json(p, NULL, 0);
    assert_int_equal(json_array_size(a), 3);
    assert_string_equal(sget(json_array_get(a, 1), "name"), "padded/two.bin");
    assert_int_equal(iget(json_array_get(a, 1), "index"), 1);
    json_decref(a);
    size_t bad[] = {7};
    a = qbt_v2_files_json(p, bad, 1);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
}

static void test_trackers_pseudo_rows(void **state)
{
    struct world *w = *state;
    struct torrent *pub = mk_torrent(w, "single.torrent");
    struct torrent *priv = mk_torrent(w, "private.torrent");
    json_t *a = qbt_v2_trackers_json(pub, true);
    assert_int_equal(json_array_size(a), 3);
    assert_string_equal(sget(json_array_get(a, 0), "url"), "** [DHT] **");
    assert_string_equal(sget(json_array_get(a, 1), "url"), "** [PeX] **");
    assert_string_equal(sget(json_array_get(a, 2), "url"), "** [LSD] **");
    assert_int_equal(iget(json_array_get(a, 0), "tier"), -1);
    assert_int_equal(iget(json_array_get(a, 0), "status"), 2);   /* dht on by default */
    assert_string_equal(sget(json_array_get(a, 0), "msg"), "");
    json_decref(a);
    a = qbt_v2_trackers_json(priv, true);
    assert_int_equal(iget(json_array_get(a, 0), "status"), 0);
    assert_string_equal(sget(json_array_get(a, 1), "msg"), "This torrent is private");
    json_decref(a);
    a = qbt_v2_trackers_json(pub, false);
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
}

/* ---- §5.5 peers ---- */

static void test_peer(void **state)
{
    struct world *w = *state;
    struct torrent *t = mk_torrent(w, "multi.torrent");
    struct peer *p = calloc(1, sizeof(*p));
    p->state = PEER_ACTIVE;
    strcpy(p->ip, "10.1.2.3");
    p->port = 6881;
    strcpy(p->client, "qBittorrent 4.5.2");
    memcpy(p->peer_id, "-qB4520-abcdefghijkl", 20);
    p->am_interested = true;
    p->peer_choking = false;
    p->peer_interested = true;
    p->am_choking = true;
    p->optimistic = true;
    p->incoming = true;
    p->source = PEER_SRC_PEX;
    assert_int_equal(bitfield_init(&p->have, t->mi->num_pieces), 0);
    bitfield_set(&p->have, 1);
    rate_init(&p->down);
    rate_init(&p->up);
    t->peers = p;

    json_t *o = qbt_v2_peer_json(t, p);
    static const struct key peer_keys[] = {
        {"ip", S}, {"port", I}, {"client", S}, {"peer_id_client", S}, {"progress", R},
        {"dl_speed", I}, {"up_speed", I}, {"downloaded", I}, {"uploaded", I}, {"connection", S},
        {"flags", S}, {"flags_desc", S}, {"relevance", R}, {"files", S},
    };
    check_keys(o, peer_keys, NKEYS(peer_keys));
    assert_string_equal(sget(o, "flags"), "D u O I X");
    assert_string_equal(sget(o, "flags_desc"),
                        "D = Interested (local) and unchoked (peer)\nu = Interested (peer) and choked (local)\n"
                        "O = Optimistic unchoke\nI = Incoming connection\nX = Peer from PEX");
    assert_string_equal(sget(o, "peer_id_client"), "-qB4520-");
    assert_string_equal(sget(o, "connection"), "BT");
    assert_true(rget(o, "progress") == 0.5);
    assert_true(rget(o, "relevance") == 0.5);   /* has 1 of our 2 missing pieces */
    json_decref(o);

    json_t *peers = qbt_v2_peers_json(t);
    assert_non_null(json_object_get(peers, "10.1.2.3:6881"));
    json_decref(peers);

    char key[96];
    strcpy(p->ip, "2001:db8::1");
    assert_int_equal(qbt_v2_peer_key(p, key, sizeof(key)), 0);
    assert_string_equal(key, "[2001:db8::1]:6881");
    strcpy(p->ip, "0.0.0.0");
    assert_int_equal(qbt_v2_peer_key(p, key, sizeof(key)), -EINVAL);
    peers = qbt_v2_peers_json(t);
    assert_int_equal(json_object_size(peers), 0);       /* null address skipped */
    json_decref(peers);

    /* peer id: unknown when not printable, empty when all zero; flags when idle. */
    p->peer_id[3] = 0x01;
    p->am_interested = p->peer_interested = p->optimistic = p->incoming = false;
    p->am_choking = false;
    p->peer_choking = true;
    p->source = 0;
    o = qbt_v2_peer_json(t, p);
    assert_string_equal(sget(o, "peer_id_client"), "Unknown");
    assert_string_equal(sget(o, "flags"), "?");
    json_decref(o);
    memset(p->peer_id, 0, 20);
    o = qbt_v2_peer_json(t, p);
    assert_string_equal(sget(o, "peer_id_client"), "");
    json_decref(o);

    t->peers = NULL;
    bitfield_free(&p->have);
    free(p);
}

/* ---- §5.6 ---- */

static void test_server_state(void **state)
{
    struct world *w = *state;
    w->s.alltime_dl = 300;
    w->s.alltime_ul = 1000;
    w->s.have_listener4 = true;
    json_t *o = qbt_v2_server_state_json(&w->s);
    static const struct key ss_keys[] = {
        {"dl_info_speed", I}, {"dl_info_data", I}, {"up_info_speed", I}, {"up_info_data", I},
        {"dl_rate_limit", I}, {"up_rate_limit", I}, {"dht_nodes", I}, {"connection_status", S},
        {"last_external_address_v4", S}, {"last_external_address_v6", S}, {"alltime_dl", I},
        {"alltime_ul", I}, {"total_wasted_session", I}, {"total_peer_connections", I},
        {"total_buffers_size", I}, {"queued_io_jobs", I}, {"average_time_queue", I},
        {"total_queued_size", I}, {"free_space_on_disk", I}, {"refresh_interval", I},
        {"global_ratio", S}, {"read_cache_hits", S}, {"read_cache_overload", S},
        {"write_cache_overload", S}, {"queueing", B}, {"use_alt_speed_limits", B},
        {"use_subcategories", B},
    };
    check_keys(o, ss_keys, NKEYS(ss_keys));
    assert_string_equal(sget(o, "global_ratio"), "3.33");   /* truncated, not rounded */
    assert_string_equal(sget(o, "connection_status"), "firewalled");
    assert_int_equal(iget(o, "refresh_interval"), 1500);
    json_decref(o);

    w->s.had_incoming = true;
    w->s.alltime_dl = 0;
    o = qbt_v2_transfer_info_json(&w->s);
    assert_int_equal(json_object_size(o), 10);
    assert_string_equal(sget(o, "connection_status"), "connected");
    json_decref(o);
    o = qbt_v2_server_state_json(&w->s);
    assert_string_equal(sget(o, "global_ratio"), "-");
    json_decref(o);
}

static void test_maindata(void **state)
{
    struct world *w = *state;
    struct torrent *t = mk_torrent(w, "single.torrent");
    free(t->category);
    t->category = strdup("tv");
    strv_push(&t->tags, "x");
    json_t *o = qbt_v2_maindata_json(&w->s, 7);
    assert_int_equal(iget(o, "rid"), 7);
    assert_true(json_is_true(json_object_get(o, "full_update")));
    json_t *tor = json_object_get(json_object_get(o, "torrents"), t->hex);
    assert_non_null(tor);
    assert_null(json_object_get(tor, "hash"));
    assert_string_equal(sget(tor, "category"), "tv");
    assert_non_null(json_object_get(json_object_get(o, "categories"), "tv"));
    assert_int_equal(json_array_size(json_object_get(o, "tags")), 1);
    assert_true(json_is_object(json_object_get(o, "trackers")));
    assert_true(json_is_object(json_object_get(o, "server_state")));
    json_decref(o);
}

static void test_pieces_and_webseeds(void **state)
{
    struct world *w = *state;
    struct torrent *t = mk_torrent(w, "single.torrent");   /* 3 pieces */
    bitfield_set(&t->have, 2);
    json_t *a = qbt_v2_piece_states_json(t);
    assert_int_equal(json_array_size(a), 3);
    assert_int_equal(json_integer_value(json_array_get(a, 0)), 0);
    assert_int_equal(json_integer_value(json_array_get(a, 2)), 2);
    json_decref(a);
    a = qbt_v2_piece_hashes_json(t);
    assert_int_equal(json_array_size(a), 3);
    assert_int_equal(strlen(json_string_value(json_array_get(a, 0))), 40);
    json_decref(a);
    a = qbt_v2_webseeds_json(t);
    assert_int_equal(json_array_size(a), 1);
    assert_string_equal(sget(json_array_get(a, 0), "url"), "http://127.0.0.1:8080/seed/");
    json_decref(a);
}

static void test_queue_priority(void **state)
{
    struct world *w = *state;
    struct torrent *a = mk_torrent(w, "single.torrent");
    struct torrent *b = mk_torrent(w, "multi.torrent");
    struct torrent *c = mk_torrent(w, "private.torrent");
    have_all(a);                                   /* seeding: not in the download queue */
    int64_t pos = 0;
    assert_int_equal(qbt_v2_queue_step(a, &pos), 0);
    assert_int_equal(qbt_v2_queue_step(b, &pos), 1);
    assert_int_equal(qbt_v2_queue_step(c, &pos), 2);
    json_t *o = qbt_v2_torrent_json(c, true);      /* the slow path agrees */
    assert_int_equal(iget(o, "priority"), 2);
    json_decref(o);
    o = qbt_v2_torrent_json(a, true);
    assert_int_equal(iget(o, "priority"), 0);
    json_decref(o);
    json_t *md = qbt_v2_maindata_json(&w->s, 1);
    assert_int_equal(iget(json_object_get(json_object_get(md, "torrents"), b->hex), "priority"), 1);
    json_decref(md);
}

/* ---- parameter rules ---- */

static void test_hashes(void **state)
{
    struct world *w = *state;
    struct torrent *a = mk_torrent(w, "single.torrent");
    struct torrent *b = mk_torrent(w, "multi.torrent");
    struct qbt_v2_list l;

    assert_int_equal(qbt_v2_parse_hashes(&w->s, "all", true, &l), 0);
    assert_int_equal(l.n, 2);
    qbt_v2_list_free(&l);
    assert_int_equal(qbt_v2_parse_hashes(&w->s, "all", false, &l), 0);
    assert_int_equal(l.n, 0);                               /* info: a filter, not a keyword */
    qbt_v2_list_free(&l);
    assert_int_equal(qbt_v2_parse_hashes(&w->s, "ALL", true, &l), 0);
    assert_int_equal(l.n, 0);
    qbt_v2_list_free(&l);

    char upper[41];
    for (int i = 0; i < 41; i++)
        upper[i] = (char)(a->hex[i] >= 'a' && a->hex[i] <= 'f' ? a->hex[i] - 32 : a->hex[i]);
    char buf[512];
    snprintf(buf, sizeof(buf), "%s|nothex|%s|%s|0000000000000000000000000000000000000000||%s0|%s",
             upper, b->hex, a->hex, b->hex, b->hex);
    assert_int_equal(qbt_v2_parse_hashes(&w->s, buf, true, &l), 0);
    assert_int_equal(l.n, 2);                               /* unknown skipped, duplicates dropped */
    assert_true((l.v[0] == a && l.v[1] == b) || (l.v[0] == b && l.v[1] == a));
    qbt_v2_list_free(&l);

    assert_int_equal(qbt_v2_parse_hashes(&w->s, "", true, &l), 0);
    assert_int_equal(l.n, 0);
    qbt_v2_list_free(&l);
    assert_int_equal(qbt_v2_parse_hashes(&w->s, NULL, true, &l), 0);
    assert_int_equal(l.n, 0);
    qbt_v2_list_free(&l);

    /* Hostile: a huge list of separators is bounded. */
    size_t n = 1u << 20;
    char *big = malloc(n + 1);
    memset(big, '|', n);
    big[n] = 0;
    assert_int_equal(qbt_v2_parse_hashes(&w->s, big, true, &l), 0);
    assert_int_equal(l.n, 0);
    qbt_v2_list_free(&l);
    free(big);

    b->removing = true;                                      /* on its way out: invisible */
    assert_int_equal(qbt_v2_parse_hashes(&w->s, "all", true, &l), 0);
    assert_int_equal(l.n, 1);
    qbt_v2_list_free(&l);
    b->removing = false;
}

/* qbt_v2_filter_match for t as if its state were the one qBittorrent 5.x
 * calls `name`. */
static bool filter_as(enum qbt_v2_filter f, const struct torrent *t, const char *name)
{
    struct torrent_status st;
    torrent_status_get(t, t->s->now_ms, 1700000000, &st);
    for (st.state = 0; st.state < TORRENT_STATE_COUNT; st.state++)
        if (strcmp(qbt_v2_state_name(st.state, false), name) == 0)
            return qbt_v2_filter_match(f, t, &st);
    fail_msg("no state is called %s", name);
    return false;
}

static void test_filters(void **state)
{
    struct world *w = *state;
    struct torrent *t = mk_torrent(w, "single.torrent");
    assert_int_equal(qbt_v2_filter_parse(NULL), QBT_F_ALL);
    assert_int_equal(qbt_v2_filter_parse("bogus"), QBT_F_ALL);
    assert_int_equal(qbt_v2_filter_parse("paused"), QBT_F_STOPPED);
    assert_int_equal(qbt_v2_filter_parse("resumed"), QBT_F_RUNNING);
    assert_int_equal(qbt_v2_filter_parse("stalled_downloading"), QBT_F_STALLED_DL);

    assert_true(filter_as(QBT_F_DOWNLOADING, t, "stoppedDL"));
    assert_false(filter_as(QBT_F_DOWNLOADING, t, "stoppedUP"));
    assert_true(filter_as(QBT_F_COMPLETED, t, "stoppedUP"));
    assert_false(filter_as(QBT_F_SEEDING, t, "stoppedUP"));
    assert_true(filter_as(QBT_F_SEEDING, t, "forcedUP"));
    assert_true(filter_as(QBT_F_CHECKING, t, "checkingResumeData"));
    assert_true(filter_as(QBT_F_ERRORED, t, "missingFiles"));
    assert_true(filter_as(QBT_F_STALLED, t, "stalledUP"));
    assert_false(filter_as(QBT_F_STALLED_UP, t, "stalledDL"));
    assert_true(filter_as(QBT_F_ACTIVE, t, "downloading"));
    assert_false(filter_as(QBT_F_ACTIVE, t, "stalledDL"));   /* no upload */
    assert_true(filter_as(QBT_F_INACTIVE, t, "stalledDL"));
    rate_add(&t->ul_rate, 100000, w->s.now_ms);
    assert_true(filter_as(QBT_F_ACTIVE, t, "stalledDL"));    /* uploading while stalled */
    t->stopped = true;
    assert_true(filter_as(QBT_F_STOPPED, t, "stoppedDL"));
    assert_false(filter_as(QBT_F_RUNNING, t, "stoppedDL"));
}

static json_t *obj(const char *name, json_int_t size, double ratio, bool b)
{
    return json_pack("{s:s, s:I, s:f, s:b}", "name", name, "size", size, "ratio", ratio, "seq_dl", b);
}

static const char *name_at(json_t *a, size_t i) { return sget(json_array_get(a, i), "name"); }

static void test_sort_and_page(void **state)
{
    (void)state;
    json_t *a = json_array();
    json_array_append_new(a, obj("b", 10, 0.5, true));
    json_array_append_new(a, obj("a", 2, 2.0, false));
    json_array_append_new(a, obj("c", 10, -1.0, false));
    json_array_append_new(a, obj("B", 300, 1.0, true));

    assert_int_equal(qbt_v2_sort(a, "size", false), 0);   /* numeric, stable on ties */
    assert_string_equal(name_at(a, 0), "a");
    assert_string_equal(name_at(a, 1), "b");
    assert_string_equal(name_at(a, 2), "c");
    assert_string_equal(name_at(a, 3), "B");
    assert_int_equal(qbt_v2_sort(a, "name", false), 0);   /* code-unit order: upper case first */
    assert_string_equal(name_at(a, 0), "B");
    assert_string_equal(name_at(a, 3), "c");
    assert_int_equal(qbt_v2_sort(a, "ratio", true), 0);
    assert_string_equal(name_at(a, 0), "a");
    assert_string_equal(name_at(a, 3), "c");
    assert_int_equal(qbt_v2_sort(a, "seq_dl", false), 0);
    assert_false(json_is_true(json_object_get(json_array_get(a, 0), "seq_dl")));
    assert_true(json_is_true(json_object_get(json_array_get(a, 3), "seq_dl")));
    assert_int_equal(qbt_v2_sort(a, "nope", false), -EINVAL);
    assert_int_equal(json_array_size(a), 4);

    json_t *empty = json_array();
    assert_int_equal(qbt_v2_sort(empty, "nope", false), 0);
    json_decref(empty);

    /* order now by seq_dl: a c b B (ties keep the ratio order) */
    json_t *c = json_deep_copy(a);
    qbt_v2_page(c, 2, 1);
    assert_int_equal(json_array_size(c), 2);
    assert_string_equal(name_at(c, 0), name_at(a, 1));
    json_decref(c);
    c = json_deep_copy(a);
    qbt_v2_page(c, 0, -1);                                  /* from the end */
    assert_int_equal(json_array_size(c), 1);
    assert_string_equal(name_at(c, 0), name_at(a, 3));
    json_decref(c);
    c = json_deep_copy(a);
    qbt_v2_page(c, -5, 99);                                 /* out of range: offset 0, no limit */
    assert_int_equal(json_array_size(c), 4);
    json_decref(c);
    c = json_deep_copy(a);
    qbt_v2_page(c, 1, -99);
    assert_int_equal(json_array_size(c), 1);
    assert_string_equal(name_at(c, 0), name_at(a, 0));
    json_decref(c);
    json_decref(a);
}

static void test_peer_addr(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    assert_int_equal(qbt_v2_parse_peer_addr("1.2.3.4:6881", &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 6881);
    assert_int_equal(qbt_v2_parse_peer_addr("[::1]:80", &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 80);
    const char *bad[] = {"1.2.3.4", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:x",
                         "host.example:80", "[::1]80", "::1:80", "1.2.3.4:80:90", "", ":80",
                         "1.2.3.4: 80", "[1.2.3.4]:80x", "999.1.1.1:80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (qbt_v2_parse_peer_addr(bad[i], &ss) == 0)
            fail_msg("accepted %s", bad[i]);
}

static void test_natural_and_tags(void **state)
{
    (void)state;
    assert_true(natcmp("a2", "a10") < 0);
    assert_true(natcmp("A", "a") == 0);
    assert_true(natcmp("x007", "x7") == 0);
    assert_true(natcmp("abc", "ab") > 0);
    assert_true(natcmp("99999999999999999999999", "100000000000000000000000") < 0);
    struct strv tags = {0};
    const char *v[] = {"b", "A", "", "a10"};
    assert_int_equal(strv_assign(&tags, v, 4), 0);
    char *s = qbt_v2_tags_string(&tags);
    assert_string_equal(s, "A, a10, b");                    /* empty names ignored */
    free(s);
    strv_clear(&tags);
    s = qbt_v2_tags_string(NULL);
    assert_string_equal(s, "");
    free(s);
}

static void test_json_cmp(void **state)
{
    (void)state;
    json_t *n = json_null(), *f = json_false(), *t = json_true(), *i = json_integer(3),
           *r = json_real(2.5), *s = json_string("x");
    assert_true(qbt_v2_json_cmp(n, f) < 0);
    assert_true(qbt_v2_json_cmp(f, t) < 0);
    assert_true(qbt_v2_json_cmp(r, i) < 0);                 /* mixed int/real by value */
    assert_true(qbt_v2_json_cmp(i, s) < 0);
    assert_true(qbt_v2_json_cmp(NULL, n) == 0);
    json_decref(i);
    json_decref(r);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_torrent_keys_and_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_file_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratio_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trackers_pseudo_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maindata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pieces_and_webseeds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hashes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sort_and_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_addr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_natural_and_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_cmp, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
