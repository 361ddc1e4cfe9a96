/* core/view: what a dialect reads about a torrent, from real metainfo
 * fixtures (tests/data, see make_fixtures.py) in hand-built torrents. */
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
#include "core/torrent.h"
#include "core/view.h"
#include "util/bitfield.h"
#include "util/log.h"

#define PL 16384

static uint8_t g_raw[1 << 16];
static size_t g_raw_len;

static struct bt_metainfo *load(const char *name)
{
    const char *dir = getenv("TD_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s (set TD_TEST_DATA)", path);
    g_raw_len = fread(g_raw, 1, sizeof(g_raw), f);
    fclose(f);
    struct bt_metainfo *mi = NULL;
    char err[256];
    assert_int_equal(bt_metainfo_parse(g_raw, g_raw_len, &mi, err, sizeof(err)), 0);
    return mi;
}

static struct torrent *mk(const char *fixture)
{
    struct torrent *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->mi = load(fixture);
    memcpy(t->info_hash, t->mi->info_hash, 20);
    memcpy(t->hex, t->mi->info_hash_hex, 41);
    t->file_prios = malloc(t->mi->num_files);
    memset(t->file_prios, 1, t->mi->num_files);
    assert_int_equal(bitfield_init(&t->have, t->mi->num_pieces), 0);
    t->picker = bt_picker_new(t->mi->num_pieces, t->mi->piece_length, t->mi->total_size);
    assert_non_null(t->picker);
    return t;
}

static void drop(struct torrent *t)
{
    bt_metainfo_free(t->mi);
    bt_picker_free(t->picker);
    bitfield_free(&t->have);
    free(t->file_prios);
    free(t);
}

static void meta_with_and_without_metadata(void **state)
{
    (void)state;
    struct torrent *t = mk("single.torrent");
    struct view_meta m;
    view_meta(t, &m);
    assert_true(m.has_metadata);
    assert_int_equal(m.num_pieces, t->mi->num_pieces);
    assert_int_equal(m.piece_length, PL);
    assert_int_equal(m.creation_date, 1700000000);
    assert_false(m.is_private);
    assert_false(m.v2);
    assert_int_equal(m.num_web_seeds, 1);
    assert_string_equal(m.web_seeds[0], "http://127.0.0.1:8080/seed/");
    assert_string_equal(m.single_file, "hello.txt");
    assert_non_null(m.piece_hashes);
    assert_int_equal(view_num_pieces(t), m.num_pieces);
    assert_string_equal(view_info_hash_v1_hex(t), "d9ba5827fbebdbdc1d3e8674f5506acfb6cb7894");
    assert_string_equal(view_info_hash_v2_hex(t), "");
    drop(t);

    t = mk("private.torrent");
    view_meta(t, &m);
    assert_true(m.is_private);
    drop(t);

    /* a magnet before its metadata: nothing known but the hashes it gave */
    t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->has_v2 = t->no_v1 = true;
    memset(t->info_hash_v2, 0xab, 32);
    memset(t->hex_v2, 'a', 64);
    view_meta(t, &m);
    assert_false(m.has_metadata);
    assert_string_equal(m.comment, "");
    assert_string_equal(m.created_by, "");
    assert_int_equal(m.creation_date, -1);
    assert_null(m.single_file);
    assert_int_equal(view_num_pieces(t), 0);
    assert_int_equal(view_file_count(t), 0);
    assert_int_equal(view_tracker_count(t), 0);
    assert_null(view_tracker_current(t));
    struct view_tracker tr;
    assert_false(view_tracker(t, 0, &tr));
    assert_string_equal(view_info_hash_v1_hex(t), "");
    assert_string_equal(view_info_hash_v2_hex(t), t->hex_v2);
    uint8_t *bytes;
    size_t len;
    assert_int_equal(view_torrent_file(t, &bytes, &len), -ENOENT);
    char *uri = view_magnet_uri(t);
    assert_non_null(uri);
    assert_non_null(strstr(uri, "xt=urn:btmh:1220abababab"));
    assert_null(strstr(uri, "btih"));
    free(uri);
    free(t);
}

static void v2_hashes(void **state)
{
    (void)state;
    struct torrent *t = mk("v2only.torrent");
    struct view_meta m;
    view_meta(t, &m);
    assert_true(m.v2);
    assert_false(m.hybrid);
    assert_string_equal(view_info_hash_v1_hex(t), "");
    assert_string_equal(view_info_hash_v2_hex(t), t->mi->info_hash_v2_hex);
    drop(t);

    t = mk("hybrid.torrent");
    assert_string_equal(view_info_hash_v1_hex(t), t->mi->info_hash_hex);
    assert_string_equal(view_info_hash_v2_hex(t), t->mi->info_hash_v2_hex);
    char *uri = view_magnet_uri(t);
    assert_non_null(strstr(uri, "xt=urn:btih:"));
    assert_non_null(strstr(uri, "xt=urn:btmh:1220"));
    free(uri);
    drop(t);
}

static void files_hide_pads(void **state)
{
    (void)state;
    struct torrent *t = mk("padded.torrent");
    assert_int_equal(view_file_count(t), 3);
    struct view_file f;
    assert_int_equal(view_file(t, 1, &f), 0);
    assert_int_equal(f.index, 2);   /* one.bin, .pad, two.bin */
    assert_string_equal(f.path, "padded/two.bin");
    assert_int_equal(f.offset, PL);
    assert_int_equal(f.size, 100);
    assert_int_equal(f.first_piece, 1);
    assert_int_equal(f.last_piece, 1);
    t->file_prios[4] = 7;
    assert_int_equal(view_file(t, 2, &f), 0);
    assert_int_equal(f.index, 4);
    assert_int_equal(f.priority, 7);
    assert_int_equal(view_file(t, 3, &f), -ENOENT);

    /* bytes done count only the file's part of a piece we have */
    int64_t done;
    unsigned avail;
    assert_int_equal(view_file(t, 0, &f), 0);
    view_file_pieces(t, &f, &done, &avail);
    assert_int_equal(done, 0);
    assert_int_equal(avail, 0);
    bitfield_set(&t->have, 0);
    view_file_pieces(t, &f, &done, &avail);
    assert_int_equal(done, 10000);

    int64_t s, e;
    assert_true(view_piece_range(t, 1, &s, &e));
    assert_int_equal(s, PL);
    assert_int_equal(e, 2 * PL);
    assert_false(view_piece_range(t, view_num_pieces(t), &s, &e));
    drop(t);

    t = mk("multi.torrent");
    assert_int_equal(view_file(t, 2, &f), 0);   /* sub/deeper/c.dat: empty */
    assert_int_equal(f.size, 0);
    assert_true(f.last_piece < f.first_piece);
    drop(t);
}

static void piece_states(void **state)
{
    (void)state;
    struct torrent *t = mk("multi.torrent");
    assert_true(view_num_pieces(t) >= 2);
    bitfield_set(&t->have, 1);
    assert_int_equal(view_piece_state(t, 0), VIEW_PIECE_MISSING);
    assert_int_equal(view_piece_state(t, 1), VIEW_PIECE_HAVE);
    drop(t);
}

static void torrent_file_bytes(void **state)
{
    (void)state;
    struct torrent *t = mk("multi.torrent");
    uint8_t *bytes;
    size_t len;
    assert_int_equal(view_torrent_file(t, &bytes, &len), 0);
    assert_int_equal(len, g_raw_len);
    assert_memory_equal(bytes, g_raw, len);
    free(bytes);

    /* metadata from peers: the info dict wrapped, which parses to the same hash */
    uint8_t *raw = t->mi->torrent_raw;
    t->mi->torrent_raw = NULL;
    assert_int_equal(view_torrent_file(t, &bytes, &len), 0);
    t->mi->torrent_raw = raw;
    struct bt_metainfo *mi = NULL;
    char err[256];
    assert_int_equal(bt_metainfo_parse(bytes, len, &mi, err, sizeof(err)), 0);
    assert_memory_equal(mi->info_hash, t->mi->info_hash, 20);
    bt_metainfo_free(mi);
    free(bytes);

    char *uri = view_magnet_uri(t);
    assert_non_null(uri);
    assert_non_null(strstr(uri, "xt=urn:btih:093040c7c46eed1d7e8d75a7a87856efd89c1b3b"));
    assert_non_null(strstr(uri, "&tr=http%3a%2f%2f127.0.0.1%3a6969%2fannounce"));
    free(uri);
    drop(t);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(meta_with_and_without_metadata),
        cmocka_unit_test(v2_hashes),
        cmocka_unit_test(files_hide_pads),
        cmocka_unit_test(piece_states),
        cmocka_unit_test(torrent_file_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
