/* Unit tests for core/creator: real files in a temp dir, hashed on libuv's
 * threadpool, the result parsed back with bt_metainfo_parse and every piece
 * hash recomputed from the data. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <uv.h>

#include "bt/bencode.h"
#include "bt/metainfo.h"
#include "core/creator.h"
#include "util/log.h"

#include "merkle_ref.h"

static char g_root[256];

static void write_file(const char *rel, size_t size, unsigned seed)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", g_root, rel);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < size; i++) {
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 16) & 0xff, f);
    }
    fclose(f);
}

static void mkdir_rel(const char *rel)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", g_root, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static int setup(void **state)
{
    (void)state;
    log_set_quiet(1);
    snprintf(g_root, sizeof(g_root), "/tmp/td_creator_XXXXXX");
    assert_non_null(mkdtemp(g_root));
    /* src/ with nested dirs, empty files, natural-order names, a dot file and links */
    mkdir_rel("src");
    mkdir_rel("src/sub");
    mkdir_rel("src/sub/deep");
    mkdir_rel("src/Sub2");
    mkdir_rel("src/emptydir");
    write_file("src/b.txt", 100000, 1);
    write_file("src/a10.bin", 40000, 2);
    write_file("src/a9.bin", 33333, 3);
    write_file("src/empty1", 0, 0);
    write_file("src/.hidden", 50, 4);
    write_file("src/sub/deep/x.dat", 300001, 5);
    write_file("src/sub/empty2", 0, 0);
    write_file("src/Sub2/y", 17, 6);
    write_file("outside.bin", 1234, 7);
    char p[512], t[512];
    snprintf(p, sizeof(p), "%s/src/link_in", g_root);
    assert_int_equal(symlink("b.txt", p), 0);
    snprintf(p, sizeof(p), "%s/src/link_out", g_root);
    snprintf(t, sizeof(t), "%s/outside.bin", g_root);
    assert_int_equal(symlink(t, p), 0);
    snprintf(p, sizeof(p), "%s/src/link_dir", g_root);
    assert_int_equal(symlink("sub", p), 0);
    snprintf(p, sizeof(p), "%s/src/dangling", g_root);
    assert_int_equal(symlink("nowhere", p), 0);
    /* single file, empty dir, all-empty dir */
    write_file("single.iso", 1000003, 8);
    mkdir_rel("nothing");
    mkdir_rel("zeros");
    write_file("zeros/z1", 0, 0);
    write_file("zeros/z2", 0, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_root);
    assert_int_equal(system(cmd), 0);
    log_shutdown();
    return 0;
}

struct run {
    uv_loop_t loop;
    struct creator *c;
    int done;
};

static void on_done(struct creator_task *t, void *ud)
{
    (void)t;
    ((struct run *)ud)->done++;
}

static void run_init(struct run *r)
{
    memset(r, 0, sizeof(*r));
    assert_int_equal(uv_loop_init(&r->loop), 0);
    assert_int_equal(creator_new(&r->loop, NULL, &r->c), 0);
    creator_set_done_cb(r->c, on_done, r);
}

static void run_close(struct run *r)
{
    creator_free(r->c);
    uv_run(&r->loop, UV_RUN_DEFAULT);   /* abandoned jobs return and free themselves */
    assert_int_equal(uv_loop_close(&r->loop), 0);
}

static struct creator_task *create(struct run *r, const struct creator_params *p)
{
    struct creator_task *t = NULL;
    assert_int_equal(creator_add(r->c, p, &t), 0);
    assert_non_null(t);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_int_equal(t->status, CREATOR_FINISHED);
    return t;
}

static char *path_of(const char *rel)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", g_root, rel) > 0);
    return p;
}

/* Recomputes every piece hash over the files as the metainfo lays them out. */
static void verify_pieces(const struct bt_metainfo *mi, const char *base)
{
    uint8_t *all = malloc((size_t)mi->total_size);
    assert_non_null(all);
    size_t off = 0;
    for (size_t i = 0; i < mi->num_files; i++) {
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", base, mi->files[i].path);
        if (mi->files[i].pad) {          /* BEP47: zeros, never on disk */
            memset(all + off, 0, (size_t)mi->files[i].length);
            off += (size_t)mi->files[i].length;
            continue;
        }
        size_t n;
        uint8_t *d = read_all(p, &n);
        assert_int_equal(n, (size_t)mi->files[i].length);
        memcpy(all + off, d, n);
        off += n;
        free(d);
    }
    assert_int_equal(off, (size_t)mi->total_size);
    for (uint32_t i = 0; i < mi->num_pieces; i++) {
        uint8_t h[20];
        unsigned hl;
        int64_t ps = bt_metainfo_piece_size(mi, i);
        EVP_Digest(all + (size_t)i * (size_t)mi->piece_length, (size_t)ps, h, &hl, EVP_sha1(), NULL);
        assert_memory_equal(h, mi->piece_hashes + (size_t)i * 20, 20);
    }
    free(all);
}

static void test_directory(void **state)
{
    (void)state;
    struct run r;
    run_init(&r);
    char *src = path_of("src/");
    struct creator_params p = {.source_path = src, .piece_size = 16384, .format = CREATOR_V1,
                               .trackers = "", .url_seeds = ""};
    struct creator_task *t = create(&r, &p);
    assert_null(t->error);
    assert_int_equal(t->progress, 100);
    assert_int_equal(t->result_piece_size, 16384);
    assert_true(t->time_started >= t->time_added && t->time_finished >= t->time_started);
    /* "" splits into one empty element, as qBittorrent reports it */
    assert_int_equal(t->num_trackers, 1);
    assert_string_equal(t->trackers[0], "");

    struct bt_metainfo *mi;
    char err[256];
    assert_int_equal(bt_metainfo_parse(t->torrent, t->torrent_len, &mi, err, sizeof(err)), 0);
    assert_string_equal(mi->info_hash_hex, t->info_hash_hex);
    assert_true(mi->multi_file);
    assert_string_equal(mi->name, "src");
    assert_int_equal(mi->piece_length, 16384);
    static const char *want[] = {
        "src/.hidden", "src/a9.bin", "src/a10.bin", "src/b.txt", "src/empty1", "src/link_in",
        "src/sub/empty2", "src/sub/deep/x.dat", "src/Sub2/y",
    };
    /* directories in natural, case-insensitive order: "" < "sub" < "sub/deep" < "Sub2" */
    assert_int_equal(mi->num_files, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < mi->num_files; i++)
        assert_string_equal(mi->files[i].path, want[i]);
    assert_int_equal(mi->files[4].length, 0);
    assert_int_equal(mi->files[5].length, 100000);   /* the link inside the tree */
    assert_int_equal(mi->total_size, 50 + 33333 + 40000 + 100000 + 100000 + 17 + 300001);
    assert_int_equal(mi->num_tiers, 0);
    assert_int_equal(mi->num_web_seeds, 0);
    assert_false(mi->is_private);
    assert_string_equal(mi->created_by, "torrentd/" TD_VERSION);
    assert_true(mi->creation_date > 0);
    verify_pieces(mi, g_root);
    bt_metainfo_free(mi);
    free(src);
    run_close(&r);
}

static void test_single_file_and_output(void **state)
{
    (void)state;
    struct run r;
    run_init(&r);
    char *src = path_of("single.iso"), *out = path_of("single.torrent");
    struct creator_params p = {.source_path = src, .torrent_file_path = out, .format = CREATOR_V1};
    struct creator_task *t = create(&r, &p);
    assert_null(t->error);
    struct bt_metainfo *mi;
    char err[256];
    assert_int_equal(bt_metainfo_parse(t->torrent, t->torrent_len, &mi, err, sizeof(err)), 0);
    assert_false(mi->multi_file);
    assert_string_equal(mi->name, "single.iso");
    assert_int_equal(mi->num_files, 1);
    assert_int_equal(mi->total_size, 1000003);
    assert_int_equal(mi->piece_length, 16384);    /* auto for ~1 MB */
    assert_int_equal(t->result_piece_size, 16384);
    assert_int_equal(t->piece_size, 0);
    verify_pieces(mi, g_root);
    bt_metainfo_free(mi);
    /* the file on disk holds the same bytes */
    size_t n;
    uint8_t *d = read_all(out, &n);
    assert_int_equal(n, t->torrent_len);
    assert_memory_equal(d, t->torrent, n);
    free(d);
    free(src);
    free(out);
    run_close(&r);
}

static const struct benc *dget(const struct benc *d, const char *k);

static void naive_root(const uint8_t *d, size_t len, size_t min_leaves, uint8_t out[32])
{
    assert_int_equal(merkle_ref_root(d, len, min_leaves, out), 0);
}

/* Every pieces root and piece-layer node recomputed from the files. */
static void verify_v2(const struct bt_metainfo *mi, const char *base)
{
    assert_non_null(mi->piece_layers);
    size_t pl = (size_t)mi->piece_length;
    for (size_t i = 0; i < mi->num_files; i++) {
        const struct bt_file *f = &mi->files[i];
        if (f->pad || f->length == 0)
            continue;
        assert_int_equal(f->offset % mi->piece_length, 0);
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", base, f->path);
        size_t n;
        uint8_t *d = read_all(p, &n), root[32];
        naive_root(d, n, 1, root);
        assert_memory_equal(f->pieces_root, root, 32);
        for (size_t off = 0; off < n; off += pl) {
            if (n <= pl)
                memcpy(root, f->pieces_root, 32);
            else
                naive_root(d + off, n - off < pl ? n - off : pl, pl / 16384, root);
            assert_memory_equal(mi->piece_layers + ((size_t)f->offset + off) / pl * 32, root, 32);
        }
        free(d);
    }
}

static void test_v2_and_hybrid(void **state)
{
    (void)state;
    struct run r;
    run_init(&r);
    char *src = path_of("src"), *single = path_of("single.iso");
    struct creator_params p = {.source_path = src, .piece_size = 32768, .format = CREATOR_HYBRID};
    struct creator_task *t = create(&r, &p);
    assert_null(t->error);
    struct bt_metainfo *mi;
    char err[256];
    if (bt_metainfo_parse(t->torrent, t->torrent_len, &mi, err, sizeof(err)) != 0)
        fail_msg("hybrid: %s", err);
    assert_true(mi->hybrid);
    assert_string_equal(mi->info_hash_hex, t->info_hash_hex);
    uint8_t h[32];
    EVP_Digest(mi->info_raw, mi->info_len, h, NULL, EVP_sha256(), NULL);
    assert_memory_equal(mi->info_hash_v2, h, 32);
    /* file tree order (byte-wise by component), a pad after each unaligned file but the last */
    static const char *want[] = {
        "src/.hidden", "P", "src/Sub2/y", "P", "src/a10.bin", "P", "src/a9.bin", "P", "src/b.txt", "P",
        "src/empty1", "src/link_in", "P", "src/sub/deep/x.dat", "P", "src/sub/empty2",
    };
    assert_int_equal(mi->num_files, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < mi->num_files; i++) {
        assert_int_equal(mi->files[i].pad, want[i][0] == 'P');
        if (!mi->files[i].pad)
            assert_string_equal(mi->files[i].path, want[i]);
    }
    verify_pieces(mi, g_root);
    verify_v2(mi, g_root);

    /* v2-only from the same source: the same file tree and piece layers */
    p.format = CREATOR_V2;
    struct creator_task *t2 = create(&r, &p);
    assert_null(t2->error);
    struct benc_doc *d1, *d2;
    assert_int_equal(benc_parse(t->torrent, t->torrent_len, NULL, 0, &d1, NULL, err, sizeof(err)), 0);
    assert_int_equal(benc_parse(t2->torrent, t2->torrent_len, NULL, 0, &d2, NULL, err, sizeof(err)), 0);
    assert_false(benc_doc_unsorted(d2));
    const struct benc *i1 = dget(benc_root(d1), "info"), *i2 = dget(benc_root(d2), "info");
    const struct benc *ft1 = dget(i1, "file tree"), *ft2 = dget(i2, "file tree");
    assert_int_equal(ft1->raw_len, ft2->raw_len);
    assert_memory_equal(ft1->raw, ft2->raw, ft1->raw_len);
    const struct benc *pl1 = dget(benc_root(d1), "piece layers"), *pl2 = dget(benc_root(d2), "piece layers");
    assert_int_equal(pl1->n, 2 * 4);   /* a10, a9, b.txt = link_in (once), x.dat */
    assert_int_equal(pl1->raw_len, pl2->raw_len);
    assert_memory_equal(pl1->raw, pl2->raw, pl1->raw_len);
    assert_null(benc_dict_get(i2, "pieces"));
    assert_null(benc_dict_get(i2, "files"));
    assert_int_equal(dget(i2, "meta version")->i, 2);
    EVP_Digest(i2->raw, i2->raw_len, h, NULL, EVP_sha256(), NULL);
    char hex[41];
    for (int k = 0; k < 20; k++)
        snprintf(hex + 2 * k, 3, "%02x", h[k]);
    assert_string_equal(t2->info_hash_hex, hex);
    benc_doc_free(d1);
    benc_doc_free(d2);
    bt_metainfo_free(mi);
    /* and it loads: the same files, piece-aligned, every root and layer node right */
    if (bt_metainfo_parse(t2->torrent, t2->torrent_len, &mi, err, sizeof(err)) != 0)
        fail_msg("v2: %s", err);
    assert_true(mi->v2 && !mi->hybrid);
    assert_string_equal(mi->info_hash_hex, t2->info_hash_hex);
    assert_int_equal(mi->num_files, sizeof(want) / sizeof(want[0]));
    verify_v2(mi, g_root);
    bt_metainfo_free(mi);

    /* one file of many pieces, automatic piece size */
    p.source_path = single;
    p.piece_size = 0;
    p.format = CREATOR_HYBRID;
    t = create(&r, &p);
    assert_null(t->error);
    assert_int_equal(bt_metainfo_parse(t->torrent, t->torrent_len, &mi, err, sizeof(err)), 0);
    assert_false(mi->multi_file);
    assert_int_equal(mi->num_pieces, 62);
    verify_pieces(mi, g_root);
    verify_v2(mi, g_root);
    bt_metainfo_free(mi);
    free(src);
    free(single);
    run_close(&r);
}

static const struct benc *dget(const struct benc *d, const char *k)
{
    const struct benc *v = benc_dict_get(d, k);
    assert_non_null(v);
    return v;
}

static void test_fields(void **state)
{
    (void)state;
    struct run r;
    run_init(&r);
    char *src = path_of("src");
    struct creator_params p = {
        .source_path = src, .format = CREATOR_V1, .is_private = true,
        .comment = "a comment", .source = "MYSRC",
        .trackers = "http://a.example/ann| http://b.example/ann ||udp://c.example:80",
        .url_seeds = "http://ws1.example/| |http://ws2.example/",
    };
    struct creator_task *t = create(&r, &p);
    assert_null(t->error);
    assert_int_equal(t->num_trackers, 4);
    assert_int_equal(t->num_url_seeds, 3);

    struct benc_doc *doc;
    char err[256];
    assert_int_equal(benc_parse(t->torrent, t->torrent_len, NULL, 0, &doc, NULL, err, sizeof(err)), 0);
    assert_false(benc_doc_unsorted(doc));
    const struct benc *root = benc_root(doc), *info = dget(root, "info");
    assert_true(benc_str_eq(dget(root, "announce"), "http://a.example/ann"));
    const struct benc *al = dget(root, "announce-list");
    assert_int_equal(al->n, 2);
    assert_int_equal(al->items[0].n, 2);
    assert_true(benc_str_eq(&al->items[0].items[1], "http://b.example/ann"));
    assert_int_equal(al->items[1].n, 1);
    assert_true(benc_str_eq(&al->items[1].items[0], "udp://c.example:80"));
    const struct benc *ul = dget(root, "url-list");
    assert_int_equal(ul->type, BENC_LIST);
    assert_int_equal(ul->n, 2);
    assert_true(benc_str_eq(dget(root, "comment"), "a comment"));
    assert_true(benc_str_eq(dget(info, "source"), "MYSRC"));
    assert_int_equal(dget(info, "private")->i, 1);
    benc_doc_free(doc);

    struct bt_metainfo *mi;
    assert_int_equal(bt_metainfo_parse(t->torrent, t->torrent_len, &mi, err, sizeof(err)), 0);
    assert_true(mi->is_private);
    assert_int_equal(mi->num_tiers, 2);
    assert_int_equal(mi->num_web_seeds, 2);
    assert_string_equal(mi->comment, "a comment");
    bt_metainfo_free(mi);

    /* one tracker: announce only; one web seed: a plain string */
    p.is_private = false;
    p.trackers = "http://only.example/ann";
    p.url_seeds = "http://ws.example/";
    p.comment = p.source = NULL;
    t = create(&r, &p);
    assert_null(t->error);
    assert_int_equal(benc_parse(t->torrent, t->torrent_len, NULL, 0, &doc, NULL, err, sizeof(err)), 0);
    root = benc_root(doc);
    info = dget(root, "info");
    assert_null(benc_dict_get(root, "announce-list"));
    assert_null(benc_dict_get(root, "comment"));
    assert_null(benc_dict_get(info, "private"));
    assert_null(benc_dict_get(info, "source"));
    assert_int_equal(dget(root, "url-list")->type, BENC_STR);
    benc_doc_free(doc);
    free(src);
    run_close(&r);
}

static void expect_failure(struct run *r, const struct creator_params *p, const char *needle)
{
    struct creator_task *t = create(r, p);
    assert_non_null(t->error);
    if (!strstr(t->error, needle))
        fail_msg("error \"%s\" lacks \"%s\"", t->error, needle);
    assert_true(strncmp(t->error, "Create new torrent file failed. Reason: ", 40) == 0);
    assert_null(t->torrent);
    assert_true(t->time_finished >= 0);
}

static void test_failures(void **state)
{
    (void)state;
    struct run r;
    run_init(&r);
    char *src = path_of("src"), *missing = path_of("missing"), *nothing = path_of("nothing"),
         *zeros = path_of("zeros"), *badout = path_of("no/such/dir/x.torrent");
    struct creator_params p = {.source_path = src, .format = CREATOR_HYBRID, .piece_size = 49152};
    expect_failure(&r, &p, "power of two");
    p.format = CREATOR_V2;
    expect_failure(&r, &p, "power of two");
    p.format = CREATOR_V1;
    p.piece_size = 0;
    p.source_path = missing;
    expect_failure(&r, &p, "No such file");
    p.source_path = "relative/path";
    expect_failure(&r, &p, "absolute");
    p.source_path = "";
    expect_failure(&r, &p, "absolute");
    p.source_path = "/";
    expect_failure(&r, &p, "no name");
    p.source_path = nothing;
    expect_failure(&r, &p, "no files");
    p.source_path = zeros;
    expect_failure(&r, &p, "no data");
    p.source_path = src;
    p.piece_size = 1000;
    expect_failure(&r, &p, "invalid piece size");
    p.piece_size = -16384;
    expect_failure(&r, &p, "invalid piece size");
    p.piece_size = 512LL * 1024 * 1024;
    expect_failure(&r, &p, "invalid piece size");
    p.piece_size = 0;
    p.torrent_file_path = badout;
    expect_failure(&r, &p, "cannot write");
    p.torrent_file_path = "rel.torrent";
    expect_failure(&r, &p, "absolute");
    p.source_path = "/dev/null";
    p.torrent_file_path = NULL;
    expect_failure(&r, &p, "neither a file nor a folder");
    assert_int_equal(r.done, 14);
    free(src);
    free(missing);
    free(nothing);
    free(zeros);
    free(badout);
    run_close(&r);
}

struct collect {
    const struct creator_task *v[64];
    size_t n;
};

static void collect_fn(const struct creator_task *t, void *ud)
{
    struct collect *c = ud;
    c->v[c->n++] = t;
}

static void test_queue_limits_delete(void **state)
{
    (void)state;
    struct run r;
    run_init(&r);
    char *src = path_of("src");
    struct creator_params p = {.source_path = src, .format = CREATOR_V1};
    struct creator_task *ts[CREATOR_MAX_TASKS];
    for (int i = 0; i < CREATOR_MAX_TASKS; i++)
        assert_int_equal(creator_add(r.c, &p, &ts[i]), 0);
    struct creator_task *x;
    assert_int_equal(creator_add(r.c, &p, &x), -EBUSY);
    /* one runs, the rest wait */
    assert_int_equal(ts[0]->status, CREATOR_RUNNING);
    for (int i = 1; i < CREATOR_MAX_TASKS; i++)
        assert_int_equal(ts[i]->status, CREATOR_QUEUED);
    /* ids are distinct UUIDs */
    for (int i = 0; i < CREATOR_MAX_TASKS; i++) {
        assert_int_equal(strlen(ts[i]->id), 36);
        assert_int_equal(ts[i]->id[14], '4');
        assert_ptr_equal(creator_find(r.c, ts[i]->id), ts[i]);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(ts[i]->id, ts[k]->id);
    }
    assert_null(creator_find(r.c, "nope"));
    assert_null(creator_find(r.c, NULL));
    /* delete the running one and a queued one */
    char id0[37], id5[37];
    strcpy(id0, ts[0]->id);
    strcpy(id5, ts[5]->id);
    assert_int_equal(creator_delete(r.c, id0), 0);
    assert_int_equal(creator_delete(r.c, id5), 0);
    assert_int_equal(creator_delete(r.c, id5), -ENOENT);
    assert_null(creator_find(r.c, id0));
    /* nothing else starts while the deleted job is still out */
    assert_int_equal(ts[1]->status, CREATOR_QUEUED);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    assert_int_equal(r.done, CREATOR_MAX_TASKS - 2);
    for (int i = 1; i < CREATOR_MAX_TASKS; i++)
        if (i != 5) {
            assert_int_equal(ts[i]->status, CREATOR_FINISHED);
            assert_null(ts[i]->error);
        }
    /* identical input, identical info-hash */
    assert_string_equal(ts[1]->info_hash_hex, ts[2]->info_hash_hex);

    /* 14 finished: the third add makes room by forgetting the oldest finished one */
    assert_int_equal(creator_add(r.c, &p, &x), 0);
    assert_int_equal(creator_add(r.c, &p, &x), 0);
    assert_int_equal(creator_add(r.c, &p, &x), 0);
    struct collect c = {0};
    assert_int_equal(creator_list(r.c, collect_fn, &c), CREATOR_MAX_TASKS);
    /* unfinished first */
    assert_int_equal(c.v[0]->status, CREATOR_RUNNING);
    assert_int_equal(c.v[1]->status, CREATOR_QUEUED);
    assert_int_equal(c.v[2]->status, CREATOR_QUEUED);
    assert_ptr_equal(c.v[2], x);
    assert_int_equal(c.v[3]->status, CREATOR_FINISHED);
    free(src);
    run_close(&r);   /* frees a running task mid-flight */
}

static void test_auto_piece_size(void **state)
{
    (void)state;
    assert_int_equal(creator_auto_piece_size(0), 16384);
    assert_int_equal(creator_auto_piece_size(1), 16384);
    assert_int_equal(creator_auto_piece_size(2048LL * 16384), 16384);
    assert_int_equal(creator_auto_piece_size(2048LL * 16384 + 2048), 32768);
    assert_int_equal(creator_auto_piece_size(100LL << 20), 64 * 1024);
    assert_int_equal(creator_auto_piece_size(4LL << 30), 2 << 20);
    assert_int_equal(creator_auto_piece_size(1LL << 40), 16 << 20);
    for (int64_t sz = 1; sz < (1LL << 42); sz = sz * 3 + 7) {
        int64_t p = creator_auto_piece_size(sz);
        assert_true(p >= 16384 && p <= (16 << 20) && (p & (p - 1)) == 0);
        int64_t np = (sz + p - 1) / p;
        assert_true(np <= 2048 || p == (16 << 20));
        assert_true(p == 16384 || np > 1024);
    }
}

static void test_natural_cmp(void **state)
{
    (void)state;
    assert_true(creator_natural_cmp("a9", "a10") < 0);
    assert_true(creator_natural_cmp("a10", "a9") > 0);
    assert_true(creator_natural_cmp("file2.txt", "file010.txt") < 0);
    assert_true(creator_natural_cmp("B", "a") > 0);
    assert_true(creator_natural_cmp("a", "B") < 0);
    assert_true(creator_natural_cmp("abc", "ABC") != 0);     /* total order */
    assert_int_equal(creator_natural_cmp("x", "x"), 0);
    assert_true(creator_natural_cmp("", "a") < 0);
    assert_true(creator_natural_cmp("a", "a0") < 0);
    assert_true(creator_natural_cmp("00", "0") != 0);
    assert_true(creator_natural_cmp("99999999999999999999999", "100000000000000000000000") < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_single_file_and_output),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_v2_and_hybrid),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_queue_limits_delete),
        cmocka_unit_test(test_auto_piece_size),
        cmocka_unit_test(test_natural_cmp),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
