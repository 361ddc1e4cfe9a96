#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "bt/bencode.h"
#include "bt/metainfo.h"
#include "util/buf.h"
#include "util/log.h"

static uint8_t *load(const char *name, size_t *len)
{
    const char *dir = getenv("TD_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s (set TD_TEST_DATA)", path);
    uint8_t *p = malloc(1 << 20);
    *len = fread(p, 1, 1 << 20, f);
    fclose(f);
    return p;
}

static struct bt_metainfo *load_ok(const char *name)
{
    size_t len;
    uint8_t *p = load(name, &len);
    struct bt_metainfo *mi = NULL;
    char err[256] = "";
    int rc = bt_metainfo_parse(p, len, &mi, err, sizeof err);
    if (rc)
        fail_msg("%s: %d %s", name, rc, err);
    assert_non_null(mi->torrent_raw);
    assert_int_equal(mi->torrent_len, len);
    assert_memory_equal(mi->torrent_raw, p, len);
    free(p);
    return mi;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Invariants of every parsed torrent, hostile or not. */
static void check_paths(const struct bt_metainfo *mi)
{
    char **sorted = malloc(mi->num_files * sizeof *sorted);
    for (size_t i = 0; i < mi->num_files; i++)
        sorted[i] = mi->files[i].path;
    qsort(sorted, mi->num_files, sizeof *sorted, cmp_str);
    for (size_t i = 1; i < mi->num_files; i++)
        assert_string_not_equal(sorted[i - 1], sorted[i]);
    free(sorted);

    for (size_t i = 0; i < mi->num_files; i++) {
        const char *p = mi->files[i].path;
        assert_true(p[0] && p[0] != '/');
        const char *c = p;
        for (;;) {
            const char *e = strchr(c, '/');
            size_t l = e ? (size_t)(e - c) : strlen(c);
            assert_true(l > 0 && l <= 255);
            assert_false(l == 1 && c[0] == '.');
            assert_false(l == 2 && c[0] == '.' && c[1] == '.');
            if (!e)
                break;
            c = e + 1;
        }
        for (const char *q = p; *q; q++)
            assert_true((unsigned char)*q >= 0x20 && *q != '\\' && *q != 0x7f);
        if (mi->multi_file) {
            size_t nl = strlen(mi->name);
            assert_true(strncmp(p, mi->name, nl) == 0 && p[nl] == '/');
        }
        for (size_t j = 0; j < i && mi->num_files <= 2000; j++) {
            /* No file is a directory of another. */
            size_t l = strlen(mi->files[j].path);
            assert_false(strncmp(p, mi->files[j].path, l) == 0 && p[l] == '/');
            l = strlen(p);
            assert_false(strncmp(mi->files[j].path, p, l) == 0 && mi->files[j].path[l] == '/');
        }
    }
    int64_t off = 0;
    for (size_t i = 0; i < mi->num_files; i++) {
        assert_true(mi->files[i].offset == off);
        off += mi->files[i].length;
    }
    assert_true(off == mi->total_size);
    uint8_t h[32];
    if (mi->v2 && !mi->hybrid)       /* BEP52: the v2 hash cut to 20 bytes */
        SHA256(mi->info_raw, mi->info_len, h);
    else
        SHA1(mi->info_raw, mi->info_len, h);
    assert_memory_equal(h, mi->info_hash, 20);
}

static void single_file(void **state)
{
    (void)state;
    struct bt_metainfo *mi = load_ok("single.torrent");
    check_paths(mi);
    assert_string_equal(mi->info_hash_hex, "d9ba5827fbebdbdc1d3e8674f5506acfb6cb7894");
    assert_string_equal(mi->name, "hello.txt");
    assert_false(mi->multi_file);
    assert_false(mi->is_private);
    assert_false(mi->hybrid);
    assert_int_equal(mi->num_files, 1);
    assert_string_equal(mi->files[0].path, "hello.txt");
    assert_int_equal(mi->total_size, 40000);
    assert_int_equal(mi->piece_length, 16384);
    assert_int_equal(mi->num_pieces, 3);
    assert_int_equal(bt_metainfo_piece_size(mi, 0), 16384);
    assert_int_equal(bt_metainfo_piece_size(mi, 2), 40000 - 2 * 16384);
    assert_int_equal(bt_metainfo_piece_size(mi, 3), 0);
    assert_string_equal(mi->comment, "single-file fixture");
    assert_string_equal(mi->created_by, "make_fixtures.py");
    assert_int_equal(mi->creation_date, 1700000000);
    assert_int_equal(mi->num_tiers, 1);
    assert_int_equal(mi->tiers[0].num_urls, 1);
    assert_string_equal(mi->tiers[0].urls[0], "http://127.0.0.1:6969/announce");
    assert_int_equal(mi->num_web_seeds, 1);
    assert_string_equal(mi->web_seeds[0], "http://127.0.0.1:8080/seed/");

    /* The bare info dict (as ut_metadata delivers it) gives the same torrent. */
    struct bt_metainfo *mi2;
    char err[256];
    assert_int_equal(bt_metainfo_parse_info(mi->info_raw, mi->info_len, &mi2, err, sizeof err), 0);
    assert_memory_equal(mi2->info_hash, mi->info_hash, 20);
    assert_null(mi2->torrent_raw);
    assert_string_equal(mi2->comment, "");
    assert_int_equal(mi2->creation_date, -1);
    assert_int_equal(mi2->num_pieces, 3);
    assert_memory_equal(mi2->piece_hashes, mi->piece_hashes, 60);
    bt_metainfo_free(mi2);
    bt_metainfo_free(mi);
}

static void multi_file(void **state)
{
    (void)state;
    struct bt_metainfo *mi = load_ok("multi.torrent");
    check_paths(mi);
    assert_string_equal(mi->info_hash_hex, "093040c7c46eed1d7e8d75a7a87856efd89c1b3b");
    assert_true(mi->multi_file);
    assert_string_equal(mi->name, "multi");
    assert_int_equal(mi->num_files, 4);
    assert_string_equal(mi->files[0].path, "multi/a.txt");
    assert_string_equal(mi->files[1].path, "multi/sub/b.bin");
    assert_string_equal(mi->files[2].path, "multi/sub/deeper/c.dat");
    assert_string_equal(mi->files[3].path, "multi/run.sh");
    assert_int_equal(mi->files[1].offset, 1000);
    assert_int_equal(mi->files[2].length, 0);
    assert_int_equal(mi->files[3].offset, 21000);
    assert_true(mi->files[3].executable);
    assert_false(mi->files[0].executable);
    assert_int_equal(mi->total_size, 21300);
    assert_int_equal(mi->num_pieces, 2);
    /* BEP12: announce ignored; empty URLs, empty tiers and duplicates dropped. */
    assert_int_equal(mi->num_tiers, 2);
    assert_int_equal(mi->tiers[0].num_urls, 2);
    assert_string_equal(mi->tiers[0].urls[0], "http://127.0.0.1:6969/announce");
    assert_string_equal(mi->tiers[0].urls[1], "udp://127.0.0.1:6969");
    assert_int_equal(mi->tiers[1].num_urls, 1);
    assert_string_equal(mi->tiers[1].urls[0], "http://127.0.0.1:7070/announce");
    assert_int_equal(mi->num_web_seeds, 2);
    assert_string_equal(mi->web_seeds[1], "http://127.0.0.1:8080/b/");
    assert_string_equal(mi->comment, "");
    assert_int_equal(mi->creation_date, -1);
    bt_metainfo_free(mi);
}

static void private_flag(void **state)
{
    (void)state;
    struct bt_metainfo *mi = load_ok("private.torrent");
    assert_true(mi->is_private);
    assert_string_equal(mi->info_hash_hex, "7290fadf4f8f8c0775af03d40f3d373bbbcd04ef");
    bt_metainfo_free(mi);
}

static void pad_files(void **state)
{
    (void)state;
    struct bt_metainfo *mi = load_ok("padded.torrent");
    check_paths(mi);
    assert_int_equal(mi->num_files, 5);
    bool want[5] = {false, true, false, true, false};
    for (int i = 0; i < 5; i++)
        assert_int_equal(mi->files[i].pad, want[i]);
    assert_int_equal(mi->files[2].offset, 16384);
    assert_int_equal(mi->files[4].offset, 32768);
    assert_int_equal(mi->total_size, 32773);
    assert_int_equal(mi->num_pieces, 3);
    bt_metainfo_free(mi);
}

static void hybrid_and_v2(void **state)
{
    (void)state;
    /* values from python3-libtorrent's info_hashes() for the fixture */
    struct bt_metainfo *mi = load_ok("hybrid.torrent");
    assert_true(mi->hybrid);
    assert_true(mi->v2);
    assert_string_equal(mi->info_hash_hex, "8ac149ba6dc0a5c23f72ec58b95adefb4b08d34f");
    assert_string_equal(mi->info_hash_v2_hex,
                        "a20ac463f0dce198567851c1a71f5bfbfb8695a82860fc0ca794286e94b17f82");
    uint8_t want[32];
    SHA256(mi->info_raw, mi->info_len, want);
    assert_memory_equal(mi->info_hash_v2, want, 32);
    assert_int_equal(mi->num_pieces, 3);
    assert_int_equal(mi->num_files, 4);
    assert_string_equal(mi->files[0].path, "hybrid/a.bin");
    assert_true(mi->files[1].pad);
    assert_string_equal(mi->files[2].path, "hybrid/b/c.txt");
    assert_int_equal(mi->files[2].offset, 32768);
    /* c.txt fits in one block: its pieces root is the SHA-256 of its data, and
     * it stands for piece 2 in the piece layers */
    uint8_t c[5];
    for (int i = 0; i < 5; i++)
        c[i] = (uint8_t)(i * 7 + 4);
    SHA256(c, 5, want);
    assert_memory_equal(mi->files[2].pieces_root, want, 32);
    assert_non_null(mi->piece_layers);
    assert_memory_equal(mi->piece_layers + 2 * 32, want, 32);
    /* a.bin's two layer entries hash to its root (20000 bytes: 2 pieces) */
    uint8_t pair[64], root[32];
    memcpy(pair, mi->piece_layers, 64);
    SHA256(pair, 64, root);
    assert_memory_equal(root, mi->files[0].pieces_root, 32);
    bt_metainfo_free(mi);

    /* v2-only: the same files, pads added after every file but the last */
    mi = load_ok("v2only.torrent");
    assert_true(mi->v2);
    assert_false(mi->hybrid);
    assert_null(mi->piece_hashes);
    assert_string_equal(mi->info_hash_v2_hex,
                        "201bf9303b9d2d2d44dde05b0db3987cf7dd29a0af91bf43b8d8259af50ab393");
    assert_string_equal(mi->info_hash_hex, "201bf9303b9d2d2d44dde05b0db3987cf7dd29a0");
    const char *paths[] = {"v2/a.bin", "v2/.pad/12768", "v2/b/c.txt", "v2/.pad/16379", "v2/b/empty"};
    assert_int_equal(mi->num_files, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(mi->files[i].path, paths[i]);
        assert_int_equal(mi->files[i].pad, i == 1 || i == 3);
    }
    assert_int_equal(mi->total_size, 3 * 16384);
    assert_int_equal(mi->num_pieces, 3);
    /* pieces are checked against the piece layer with the pad bytes left out */
    uint8_t piece[16384] = {0};
    for (int k = 0; k < 3; k++) {
        memset(piece, 0, sizeof piece);
        size_t n = k == 0 ? 16384 : k == 1 ? 20000 - 16384 : 5;
        for (size_t i = 0; i < n; i++)
            piece[i] = (uint8_t)(((k < 2 ? (size_t)k * 16384 : 0) + i) * 7 + (k < 2 ? 3 : 4));
        assert_true(bt_metainfo_piece_ok(mi, (uint32_t)k, piece, sizeof piece));
        piece[n - 1] ^= 1;
        assert_false(bt_metainfo_piece_ok(mi, (uint32_t)k, piece, sizeof piece));
    }
    assert_false(bt_metainfo_piece_ok(mi, 3, piece, sizeof piece));
    assert_false(bt_metainfo_piece_ok(mi, 0, piece, 100));
    bt_metainfo_free(mi);

    size_t len;
    uint8_t *p = load("v2only.torrent", &len);
    char err[256] = "";
    /* a v2-only info dict alone (ut_metadata) parses, without piece layers
     * (they are fetched from peers), and no piece checks without them */
    struct benc_doc *doc;
    assert_int_equal(benc_parse(p, len, NULL, 0, &doc, NULL, err, sizeof err), 0);
    const struct benc *info = benc_dict_get(benc_root(doc), "info");
    assert_int_equal(bt_metainfo_parse_info(info->raw, info->raw_len, &mi, err, sizeof err), 0);
    assert_true(mi->v2 && !mi->hybrid);
    assert_null(mi->piece_layers);
    assert_null(mi->piece_hashes);
    assert_false(bt_metainfo_piece_ok(mi, 0, piece, sizeof piece));
    bt_metainfo_free(mi);
    benc_doc_free(doc);

    /* a piece layer that does not hash to its root */
    const char *pl = memmem(p, len, "12:piece layers", 15);
    assert_non_null(pl);
    const char *layer = memmem(pl, len - (size_t)((const uint8_t *)pl - p), "64:", 3);
    assert_non_null(layer);
    p[(const uint8_t *)layer - p + 3 + 40] ^= 1;
    assert_int_equal(bt_metainfo_parse(p, len, &mi, err, sizeof err), -EPROTO);
    assert_non_null(strstr(err, "piece layer"));
    free(p);
}

static void hostile_paths(void **state)
{
    (void)state;
    struct bt_metainfo *mi = load_ok("hostile.torrent");
    check_paths(mi);
    assert_string_equal(mi->name, ".._.._evil");
    const char *want[] = {
        ".._.._evil/x (1)", ".._.._evil/_etc_x", ".._.._evil/etc/x", ".._.._evil/a/b",
        ".._.._evil/a/b (1)", ".._.._evil/nul_name", NULL, ".._.._evil/dup.txt",
        ".._.._evil/dup (1).txt", ".._.._evil/_", ".._.._evil/x/y", ".._.._evil/bad__utf8",
        ".._.._evil/back_slash",
    };
    assert_int_equal(mi->num_files, 13);
    for (size_t i = 0; i < 13; i++)
        if (want[i])
            assert_string_equal(mi->files[i].path, want[i]);
    const char *lng = mi->files[6].path + strlen(".._.._evil/");
    assert_int_equal(strlen(lng), 255);
    assert_string_equal(lng + 251, ".txt");
    bt_metainfo_free(mi);

    mi = load_ok("dotdot_name.torrent");
    check_paths(mi);
    assert_string_equal(mi->name, mi->info_hash_hex);
    assert_string_equal(mi->files[0].path, mi->info_hash_hex);
    bt_metainfo_free(mi);
}

/* ---- inline torrents ---------------------------------------------------- */

/* d [outer] 4:info d [info] 6:pieces <20*np zeros> e e ; np < 0 omits pieces. */
static int parse_raw(const char *outer, const char *info, long np, struct bt_metainfo **mi,
                     char *err, size_t errlen)
{
    struct buf b = BUF_INIT;
    buf_appendf(&b, "d%s4:infod%s", outer, info);
    if (np >= 0) {
        buf_appendf(&b, "6:pieces%ld:", np * 20);
        for (long i = 0; i < np * 20; i++)
            buf_append_u8(&b, 0);
    }
    buf_append_str(&b, "ee");
    *mi = NULL;
    int rc = bt_metainfo_parse(buf_head(&b), buf_size(&b), mi, err, errlen);
    buf_free(&b);
    if (rc == 0)
        check_paths(*mi);
    return rc;
}

#define PL16K "12:piece lengthi16384e"

static void expect_bad(const char *outer, const char *info, long np, int code)
{
    struct bt_metainfo *mi;
    char err[256] = "";
    int rc = parse_raw(outer, info, np, &mi, err, sizeof err);
    if (rc != code)
        fail_msg("info '%s' np=%ld: expected %d got %d (%s)", info, np, code, rc, err);
    assert_null(mi);
    assert_true(strlen(err) > 0);
}

static void malformed(void **state)
{
    (void)state;
    const char *single = "4:name1:x6:lengthi40000e" PL16K;
    struct bt_metainfo *mi;
    char err[256];
    assert_int_equal(parse_raw("", single, 3, &mi, err, sizeof err), 0);
    bt_metainfo_free(mi);

    expect_bad("", single, -1, -EPROTO);                        /* missing pieces */
    expect_bad("", single, 2, -EPROTO);                         /* too few hashes */
    expect_bad("", single, 4, -EPROTO);                         /* too many */
    expect_bad("", "4:name1:x6:lengthi40000e" PL16K "6:pieces59:", -1, -EPROTO); /* truncated */
    expect_bad("", "4:name1:x6:lengthi-1e" PL16K, 0, -EPROTO);  /* negative length */
    expect_bad("", "4:name1:x6:lengthi0e" PL16K, 0, -EPROTO);   /* no data */
    expect_bad("", "4:name1:x" PL16K, 1, -EPROTO);              /* no length, no files */
    expect_bad("", "4:name1:x6:lengthi1e", 1, -EPROTO);         /* no piece length */
    expect_bad("", "4:name1:x6:lengthi1e12:piece lengthi0e", 1, -EPROTO);
    expect_bad("", "4:name1:x6:lengthi1e12:piece lengthi-16384e", 1, -EPROTO);
    expect_bad("", "4:name1:x6:lengthi1e12:piece lengthi268435457e", 1, -EPROTO);
    expect_bad("", "4:name1:x6:lengthi1e12:piece length5:16384", 1, -EPROTO);
    expect_bad("", "4:name1:x6:pieces3:abc6:lengthi1e" PL16K, -1, -EPROTO);
    expect_bad("", "4:name1:x5:filesle" PL16K, 0, -EPROTO);     /* empty file list */
    expect_bad("", "4:name1:x5:files3:abc" PL16K, 1, -EPROTO);
    expect_bad("", "4:name1:x5:filesli1ee" PL16K, 1, -EPROTO);
    expect_bad("", "4:name1:x5:filesld6:lengthi1eee" PL16K, 1, -EPROTO);          /* no path */
    expect_bad("", "4:name1:x5:filesld6:lengthi1e4:path1:aee" PL16K, 1, -EPROTO); /* path not a list */
    expect_bad("", "4:name1:x5:filesld6:lengthi1e4:pathli1eeee" PL16K, 1, -EPROTO);
    expect_bad("", "4:name1:x5:filesld4:pathl1:aeee" PL16K, 1, -EPROTO);          /* no length */
    expect_bad("", "4:name1:x5:filesld6:lengthi-5e4:pathl1:aeee" PL16K, 1, -EPROTO);
    /* Sum of file lengths overflows int64. */
    expect_bad("", "4:name1:x5:filesld6:lengthi9223372036854775807e4:pathl1:aeed"
                   "6:lengthi9223372036854775807e4:pathl1:beee" PL16K, 1, -EPROTO);
    /* Huge sizes: the piece count check refuses them. */
    expect_bad("", "4:name1:x6:lengthi9223372036854775807e" PL16K, 1, -EPROTO);
    /* Future meta versions. */
    expect_bad("", "12:meta versioni3e4:name1:x6:lengthi1e" PL16K, 1, -ENOTSUP);
    /* v2 without files; a file tree without meta version 2 is not v2 (no pieces) */
    expect_bad("", "12:meta versioni2e4:name1:x" PL16K "9:file treede", -1, -EPROTO);
    expect_bad("", "4:name1:x9:file treede" PL16K, -1, -EPROTO);

    /* Not torrents at all. */
    const char *junk[] = {"", "le", "i1e", "d4:infoi1ee", "d8:announce3:urle", "d4:infod", "garbage"};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        mi = (struct bt_metainfo *)1;
        int rc = bt_metainfo_parse((const uint8_t *)junk[i], strlen(junk[i]), &mi, err, sizeof err);
        assert_int_equal(rc, -EPROTO);
        assert_null(mi);
    }
}

#define ROOT "11:pieces root32:RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR"
#define FILE5 "d0:d6:lengthi5e" ROOT "ee"
#define V2 "12:meta versioni2e4:name1:x" PL16K

static void v2_file_trees(void **state)
{
    (void)state;
    /* well formed */
    struct bt_metainfo *mi;
    char err[256] = "";
    assert_int_equal(parse_raw("", V2 "9:file treed1:a" FILE5 "1:bd1:c" FILE5 "ee", -1, &mi, err,
                               sizeof err), 0);
    assert_int_equal(mi->num_files, 3);   /* a, pad, b/c */
    assert_string_equal(mi->files[2].path, "x/b/c");
    assert_int_equal(mi->num_pieces, 2);
    bt_metainfo_free(mi);
    /* bad pieces roots, lengths and entries */
    expect_bad("", V2 "9:file treed1:ad0:d6:lengthi5e11:pieces root31:RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRee", -1, -EPROTO);
    expect_bad("", V2 "9:file treed1:ad0:d6:lengthi5eee", -1, -EPROTO);
    expect_bad("", V2 "9:file treed1:ad0:d6:lengthi-5e" ROOT "eee", -1, -EPROTO);
    expect_bad("", V2 "9:file treed1:ad0:d" ROOT "eee", -1, -EPROTO);
    expect_bad("", V2 "9:file treed1:ad0:d6:lengthi5e" ROOT "e1:xi1eee", -1, -EPROTO);
    expect_bad("", V2 "9:file treed1:ai1ee", -1, -EPROTO);
    expect_bad("", V2 "9:file treedde", -1, -EPROTO);
    /* path traversal and separators in keys */
    expect_bad("", V2 "9:file treed2:.." FILE5 "e", -1, -EPROTO);
    expect_bad("", V2 "9:file treed2:..d1:a" FILE5 "ee", -1, -EPROTO);
    expect_bad("", V2 "9:file treed1:." FILE5 "e", -1, -EPROTO);
    expect_bad("", V2 "9:file treed3:a/b" FILE5 "e", -1, -EPROTO);
    expect_bad("", V2 "9:file treed3:a\\b" FILE5 "e", -1, -EPROTO);
    expect_bad("", V2 "9:file treed0:" FILE5 "e", -1, -EPROTO);
    /* piece length not a power of two */
    expect_bad("", "12:meta versioni2e4:name1:x12:piece lengthi49152e9:file treed1:a" FILE5 "e", -1, -EPROTO);
    /* a file of 3 pieces needs its piece layer */
    expect_bad("", V2 "9:file treed1:ad0:d6:lengthi40000e" ROOT "eee", -1, -EPROTO);

    /* nesting: 60 levels are fine, 70 are refused */
    for (int depth = 60; depth <= 70; depth += 10) {
        struct buf b = BUF_INIT;
        buf_append_str(&b, V2 "9:file tree");
        for (int i = 0; i < depth; i++)
            buf_append_str(&b, "d1:d");
        buf_append_str(&b, "d1:f" FILE5 "e");
        for (int i = 0; i < depth; i++)
            buf_append_str(&b, "e");
        char *info = strndup((const char *)buf_head(&b), buf_size(&b));
        if (depth == 60) {
            assert_int_equal(parse_raw("", info, -1, &mi, err, sizeof err), 0);
            bt_metainfo_free(mi);
        } else {
            expect_bad("", info, -1, -EPROTO);
        }
        free(info);
        buf_free(&b);
    }

    /* hybrid: v1 and v2 must agree */
    const char *hyb = V2 "6:lengthi40000e9:file treed1:xd0:d6:lengthi40000e" ROOT "eee";
    assert_int_equal(parse_raw("", hyb, 3, &mi, err, sizeof err), 0);
    assert_true(mi->hybrid && mi->v2);
    assert_null(mi->piece_layers);           /* no piece layers: still usable as v1 */
    assert_int_equal(strlen(mi->info_hash_v2_hex), 64);
    bt_metainfo_free(mi);
    expect_bad("", V2 "6:lengthi40000e9:file treed1:xd0:d6:lengthi40001e" ROOT "eee", 3, -EPROTO);
    expect_bad("", V2 "6:lengthi40000e9:file treed1:x" FILE5 "1:y" FILE5 "e", 3, -EPROTO);
    /* multi-file hybrid without the pad file: b does not start on a piece boundary */
    expect_bad("", V2 "5:filesld6:lengthi5e4:pathl1:aeed6:lengthi5e4:pathl1:beee"
                   "9:file treed1:a" FILE5 "1:b" FILE5 "e", 1, -EPROTO);
    /* with it, fine */
    assert_int_equal(parse_raw("", V2 "5:filesld6:lengthi5e4:pathl1:aeed6:lengthi16379e4:attr1:p"
                                   "4:pathl4:.pad5:16379eed6:lengthi5e4:pathl1:beee"
                                   "9:file treed1:a" FILE5 "1:b" FILE5 "e", 2, &mi, err, sizeof err), 0);
    assert_memory_equal(mi->piece_layers + 32, "RRRR", 4);
    bt_metainfo_free(mi);
    /* different names */
    expect_bad("", V2 "5:filesld6:lengthi5e4:pathl1:aeed6:lengthi16379e4:attr1:p"
                   "4:pathl4:.pad5:16379eed6:lengthi5e4:pathl1:beee"
                   "9:file treed1:a" FILE5 "1:c" FILE5 "e", 2, -EPROTO);
}

static void trackers_and_text(void **state)
{
    (void)state;
    struct bt_metainfo *mi;
    char err[256];
    const char *single = "4:name1:x6:lengthi1e" PL16K;
    /* announce-list with nothing usable falls back to announce. */
    assert_int_equal(parse_raw("8:announce9:http://a/13:announce-listll0:el3:   ee", single, 1,
                               &mi, err, sizeof err), 0);
    assert_int_equal(mi->num_tiers, 1);
    assert_string_equal(mi->tiers[0].urls[0], "http://a/");
    assert_int_equal(mi->num_web_seeds, 0);
    bt_metainfo_free(mi);
    /* Whitespace trimmed, control characters refused, order kept, non-lists skipped. */
    assert_int_equal(parse_raw("13:announce-listll11: http://b/ 9:http://a/7:http\x01x/e3:abcl9:http://a/ee",
                               single, 1, &mi, err, sizeof err), 0);
    assert_int_equal(mi->num_tiers, 1);
    assert_int_equal(mi->tiers[0].num_urls, 2);
    assert_string_equal(mi->tiers[0].urls[0], "http://b/");
    assert_string_equal(mi->tiers[0].urls[1], "http://a/");
    bt_metainfo_free(mi);
    /* No trackers at all is fine (DHT/magnet style). */
    assert_int_equal(parse_raw("8:announcei1e", single, 1, &mi, err, sizeof err), 0);
    assert_int_equal(mi->num_tiers, 0);
    bt_metainfo_free(mi);
    /* *.utf-8 variants are preferred; invalid UTF-8 in comments is replaced. */
    assert_int_equal(parse_raw("7:comment2:\xff\xfe" "13:comment.utf-83:\xc3\xa9!13:creation datei-5e",
                               "4:name3:old10:name.utf-83:new6:lengthi1e" PL16K, 1, &mi, err,
                               sizeof err), 0);
    assert_string_equal(mi->comment, "\xc3\xa9!");
    assert_string_equal(mi->name, "new");
    assert_int_equal(mi->creation_date, -1);
    bt_metainfo_free(mi);
    assert_int_equal(parse_raw("7:comment2:\xff\x80", single, 1, &mi, err, sizeof err), 0);
    assert_string_equal(mi->comment, "??");
    bt_metainfo_free(mi);
    /* path.utf-8 preferred over path; a missing name becomes the info-hash. */
    assert_int_equal(parse_raw("", "5:filesld6:lengthi1e4:pathl3:olde10:path.utf-8l3:neweed"
                                   "6:lengthi1e4:pathl1:z1:.eee" PL16K, 1, &mi, err, sizeof err), 0);
    assert_int_equal(strlen(mi->name), 40);
    assert_string_equal(mi->name, mi->info_hash_hex);
    char want[64];
    snprintf(want, sizeof want, "%s/new", mi->info_hash_hex);
    assert_string_equal(mi->files[0].path, want);
    snprintf(want, sizeof want, "%s/z", mi->info_hash_hex);
    assert_string_equal(mi->files[1].path, want);
    bt_metainfo_free(mi);
}

static void many_duplicates(void **state)
{
    (void)state;
    /* 5000 identical names must resolve quickly and uniquely. */
    struct buf info = BUF_INIT;
    buf_append_str(&info, "4:name1:r5:filesl");
    for (int i = 0; i < 5000; i++)
        buf_append_str(&info, "d6:lengthi1e4:pathl5:a.txteed4:attr1:p6:lengthi1e4:pathl4:.pad1:1ee");
    buf_append_str(&info, "e" PL16K);
    buf_append_u8(&info, 0);
    struct bt_metainfo *mi;
    char err[256];
    assert_int_equal(parse_raw("", (const char *)buf_head(&info), 1, &mi, err, sizeof err), 0);
    assert_int_equal(mi->num_files, 10000);
    assert_string_equal(mi->files[0].path, "r/a.txt");
    assert_string_equal(mi->files[2].path, "r/a (1).txt");
    assert_string_equal(mi->files[9998].path, "r/a (4999).txt");
    assert_string_equal(mi->files[9999].path, "r/.pad/1 (4999)");
    assert_true(mi->files[9999].pad);
    bt_metainfo_free(mi);
    buf_free(&info);
}

static void many_trackers(void **state)
{
    (void)state;
    /* 1000 distinct URLs then 200,000 duplicates: capped, and fast. */
    struct buf outer = BUF_INIT;
    buf_append_str(&outer, "13:announce-listl");
    for (int i = 0; i < 1100; i++)
        buf_appendf(&outer, "l13:http://t/%04de", i);
    buf_append_str(&outer, "l");
    for (int i = 0; i < 200000; i++)
        buf_append_str(&outer, "13:http://t/0001");
    buf_append_str(&outer, "ee8:url-listl");
    for (int i = 0; i < 200000; i++)
        buf_append_str(&outer, "4:ws:1");
    buf_append_str(&outer, "e");
    buf_append_u8(&outer, 0);
    struct bt_metainfo *mi;
    char err[256];
    assert_int_equal(parse_raw((const char *)buf_head(&outer), "4:name1:x6:lengthi1e" PL16K, 1,
                               &mi, err, sizeof err), 0);
    size_t total = 0;
    for (size_t t = 0; t < mi->num_tiers; t++)
        total += mi->tiers[t].num_urls;
    assert_int_equal(total, 1000);
    assert_string_equal(mi->tiers[999].urls[0], "http://t/0999");
    assert_int_equal(mi->num_web_seeds, 1);
    bt_metainfo_free(mi);
    buf_free(&outer);
}

static void bitcomet_padding_and_all_dropped(void **state)
{
    (void)state;
    struct bt_metainfo *mi;
    char err[256];
    assert_int_equal(parse_raw("", "4:name1:r5:filesld6:lengthi1e4:pathl1:aeed6:lengthi1e4:pathl"
                                   "20:_____padding_file_0_eed6:lengthi1e4:pathl2:..1:.0:eee" PL16K,
                               1, &mi, err, sizeof err), 0);
    assert_false(mi->files[0].pad);
    assert_true(mi->files[1].pad);
    assert_string_equal(mi->files[2].path, "r/_");
    bt_metainfo_free(mi);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_file),
        cmocka_unit_test(multi_file),
        cmocka_unit_test(private_flag),
        cmocka_unit_test(pad_files),
        cmocka_unit_test(hybrid_and_v2),
        cmocka_unit_test(v2_file_trees),
        cmocka_unit_test(hostile_paths),
        cmocka_unit_test(malformed),
        cmocka_unit_test(trackers_and_text),
        cmocka_unit_test(many_duplicates),
        cmocka_unit_test(many_trackers),
        cmocka_unit_test(bitcomet_padding_and_all_dropped),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
