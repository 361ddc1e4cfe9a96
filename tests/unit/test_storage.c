/* Tests for disk/storage: everything runs through a real uv loop and the
 * libuv threadpool, on a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/magic.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "bt/metainfo.h"
#include "disk/storage.h"
#include "util/log.h"

/* ---- fixtures ---- */

struct env {
    uv_loop_t loop;
    char tmp[64];
    char save[128];
    char out[128];   /* a sibling of save that nothing may touch */
};

struct fspec {
    const char *path;
    int64_t length;
    bool pad;
};

struct torrent {
    struct bt_metainfo mi;
    uint8_t *data;   /* the whole torrent's bytes; pad ranges are zeros */
};

static uint64_t rng_state = 88172645463325252ull;
static uint8_t rnd8(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint8_t)(rng_state >> 24);
}

static void fill_random(uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        memcpy(p + i, &rng_state, 8);
    }
    for (; i < n; i++)
        p[i] = rnd8();
}

static void hash_pieces(struct torrent *t)
{
    struct bt_metainfo *mi = &t->mi;
    for (uint32_t p = 0; p < mi->num_pieces; p++) {
        int64_t off = (int64_t)p * mi->piece_length;
        int64_t len = mi->total_size - off < mi->piece_length ? mi->total_size - off : mi->piece_length;
        SHA1(t->data + off, (size_t)len, mi->piece_hashes + 20 * (size_t)p);
    }
}

/* Builds a metainfo by hand, bypassing the parser (and its sanitizer). */
static struct torrent *make_torrent(const struct fspec *fs, size_t n, int64_t plen)
{
    struct torrent *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    struct bt_metainfo *mi = &t->mi;
    mi->files = calloc(n, sizeof(*mi->files));
    assert_non_null(mi->files);
    mi->num_files = n;
    mi->multi_file = n > 1;
    int64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        mi->files[i].path = strdup(fs[i].path);
        mi->files[i].length = fs[i].length;
        mi->files[i].offset = off;
        mi->files[i].pad = fs[i].pad;
        off += fs[i].length;
    }
    mi->total_size = off;
    mi->piece_length = plen;
    mi->num_pieces = (uint32_t)((off + plen - 1) / plen);
    mi->piece_hashes = malloc(20 * (size_t)mi->num_pieces);
    t->data = malloc((size_t)off);
    assert_non_null(mi->piece_hashes);
    assert_non_null(t->data);
    fill_random(t->data, (size_t)off);
    for (size_t i = 0; i < n; i++)
        if (fs[i].pad)
            memset(t->data + mi->files[i].offset, 0, (size_t)fs[i].length);
    hash_pieces(t);
    return t;
}

static void free_torrent(struct torrent *t)
{
    for (size_t i = 0; i < t->mi.num_files; i++)
        free(t->mi.files[i].path);
    free(t->mi.files);
    free(t->mi.piece_hashes);
    free(t->data);
    free(t);
}

static int64_t piece_size(const struct torrent *t, uint32_t p)
{
    int64_t off = (int64_t)p * t->mi.piece_length;
    int64_t rest = t->mi.total_size - off;
    return rest < t->mi.piece_length ? rest : t->mi.piece_length;
}

static uint8_t *piece_copy(const struct torrent *t, uint32_t p)
{
    int64_t sz = piece_size(t, p);
    uint8_t *d = malloc((size_t)sz);
    assert_non_null(d);
    memcpy(d, t->data + (int64_t)p * t->mi.piece_length, (size_t)sz);
    return d;
}

/* ---- synchronous wrappers: queue, then run the loop until idle ---- */

struct result {
    int calls;
    int rc;
    uint32_t piece;
    uint8_t *data;
    uint32_t len;
    uint8_t have[4096];
    uint32_t num;
    uint32_t prog_calls, prog_done, prog_total;
    int order;       /* for ordering checks */
};

static int order_counter;

static void on_write(void *ud, uint32_t piece, int rc)
{
    struct result *r = ud;
    r->calls++;
    r->rc = rc;
    r->piece = piece;
    r->order = ++order_counter;
}

static int write_sync(struct env *e, struct storage *st, const struct torrent *t, uint32_t p)
{
    struct result r = {0};
    int rc = storage_write_piece(st, p, piece_copy(t, p), on_write, &r);
    if (rc < 0)
        return rc;
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.piece, p);
    return r.rc;
}

static void on_read(void *ud, int rc, uint8_t *data, uint32_t len)
{
    struct result *r = ud;
    r->calls++;
    r->rc = rc;
    r->data = data;
    r->len = len;
    r->order = ++order_counter;
}

static int read_sync(struct env *e, struct storage *st, uint32_t p, uint32_t begin, uint32_t len,
                     uint8_t **out)
{
    struct result r = {0};
    int rc = storage_read(st, p, begin, len, on_read, &r);
    if (rc < 0)
        return rc;
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(r.calls, 1);
    if (r.rc == 0) {
        assert_non_null(r.data);
        assert_int_equal(r.len, len);
    } else {
        assert_null(r.data);
    }
    *out = r.data;
    return r.rc;
}

static void on_progress(void *ud, uint32_t done, uint32_t total)
{
    struct result *r = ud;
    assert_true(done <= total);
    assert_true(done >= r->prog_done);
    r->prog_calls++;
    r->prog_done = done;
    r->prog_total = total;
}

static void on_check(void *ud, int rc, const uint8_t *have, uint32_t n)
{
    struct result *r = ud;
    r->calls++;
    r->rc = rc;
    r->num = n;
    assert_true((n + 7) / 8 <= sizeof(r->have));
    memcpy(r->have, have, (n + 7) / 8);
}

static int check_sync(struct env *e, struct storage *st, struct result *r)
{
    memset(r, 0, sizeof(*r));
    struct storage_check *c;
    int rc = storage_check(st, on_progress, on_check, r, &c);
    if (rc < 0)
        return rc;
    assert_non_null(c);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(r->calls, 1);
    return r->rc;
}

static bool have_bit(const struct result *r, uint32_t p)
{
    return r->have[p >> 3] & (0x80u >> (p & 7));
}

/* Asserts that exactly the pieces in `expect` (terminated by -1) are had. */
static void assert_have(const struct result *r, uint32_t n, const int *expect)
{
    assert_int_equal(r->num, n);
    for (uint32_t p = 0; p < n; p++) {
        bool want = false;
        for (const int *x = expect; *x >= 0; x++)
            want |= (uint32_t)*x == p;
        if (have_bit(r, p) != want)
            fail_msg("piece %u: have=%d expected=%d", p, have_bit(r, p), want);
    }
    for (uint32_t p = n; p < (n + 7) / 8 * 8; p++)
        assert_false(have_bit(r, p));   /* spare bits zero */
}

static void on_fs_done(void *ud, int rc)
{
    struct result *r = ud;
    r->calls++;
    r->rc = rc;
}

static int delete_sync(struct env *e, struct storage *st)
{
    struct result r = {0};
    int rc = storage_delete_files(st, on_fs_done, &r);
    if (rc < 0)
        return rc;
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(r.calls, 1);
    return r.rc;
}

static int move_sync(struct env *e, struct storage *st, const char *to)
{
    struct result r = {0};
    int rc = storage_move(st, to, on_fs_done, &r);
    if (rc < 0)
        return rc;
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(r.calls, 1);
    return r.rc;
}

static void on_closed(void *ud)
{
    struct result *r = ud;
    r->calls++;
    r->order = ++order_counter;
}

static void close_sync(struct env *e, struct storage *st)
{
    struct result r = {0};
    storage_close(st, on_closed, &r);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(r.calls, 1);
}

static struct storage *open_st(struct env *e, const struct torrent *t)
{
    struct storage *st = NULL;
    assert_int_equal(storage_open(&e->loop, &t->mi, e->save, &st), 0);
    assert_non_null(st);
    return st;
}

/* ---- file helpers ---- */

static char *pjoin(const char *a, const char *b)
{
    char *p;
    assert_true(asprintf(&p, "%s/%s", a, b) > 0);
    return p;
}

static bool exists(const char *dir, const char *rel)
{
    char *p = pjoin(dir, rel);
    struct stat sb;
    bool ok = lstat(p, &sb) == 0;
    free(p);
    return ok;
}

static int64_t fsize(const char *dir, const char *rel)
{
    char *p = pjoin(dir, rel);
    struct stat sb;
    int64_t n = stat(p, &sb) == 0 ? sb.st_size : -1;
    free(p);
    return n;
}

/* Asserts the file holds exactly the torrent bytes of file i. */
static void assert_file_content(const char *dir, const struct torrent *t, size_t i)
{
    const struct bt_file *f = &t->mi.files[i];
    char *p = pjoin(dir, f->path);
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        fail_msg("cannot open %s", p);
    uint8_t *buf = malloc((size_t)f->length + 1);
    ssize_t n = read(fd, buf, (size_t)f->length + 1);
    close(fd);
    assert_int_equal(n, f->length);
    assert_memory_equal(buf, t->data + f->offset, (size_t)f->length);
    free(buf);
    free(p);
}

static void write_raw(const char *dir, const char *rel, int64_t off, const void *p, size_t n)
{
    char *path = pjoin(dir, rel);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, p, n, off), (ssize_t)n);
    close(fd);
    free(path);
}

static void touch(const char *dir, const char *rel, const char *content)
{
    char *path = pjoin(dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    free(path);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    strcpy(e->tmp, "/tmp/td_storage_XXXXXX");
    assert_non_null(mkdtemp(e->tmp));
    chmod(e->tmp, 0755);
    snprintf(e->save, sizeof(e->save), "%s/save", e->tmp);
    snprintf(e->out, sizeof(e->out), "%s/outside", e->tmp);
    assert_int_equal(mkdir(e->out, 0755), 0);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    rm_rf(e->tmp);
    free(e);
    return 0;
}

/* ---- tests ---- */

/* storage_delete_paths: what a restart uses to finish a deletion a crash
 * interrupted.  Only the listed files go, and the folders they emptied;
 * an unsafe path or one leading out of the save path is refused and
 * touches nothing. */
static void delete_paths_only_the_listed(void **state)
{
    struct env *e = *state;
    assert_int_equal(mkdir(e->save, 0755), 0);
    char d[256];
    snprintf(d, sizeof d, "%s/t", e->save);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(d, sizeof d, "%s/t/sub", e->save);
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(d, sizeof d, "%s/t/keep", e->save);
    assert_int_equal(mkdir(d, 0755), 0);
    touch(e->save, "t/a.bin", "a");
    touch(e->save, "t/sub/b.bin", "b");
    touch(e->save, "t/keep/c.bin", "c");
    touch(e->save, "t/keep/mine.txt", "not the torrent's");
    touch(e->out, "x", "outside");
    const char *rel[] = {"t/a.bin", "t/sub/b.bin", "t/keep/c.bin", "t/missing.bin"};
    assert_int_equal(storage_delete_paths(e->save, rel, 4), 0);   /* a missing file is no error */
    assert_false(exists(e->save, "t/a.bin"));
    assert_false(exists(e->save, "t/sub"));
    assert_false(exists(e->save, "t/keep/c.bin"));
    assert_true(exists(e->save, "t/keep/mine.txt"));
    assert_true(exists(e->save, "t"));   /* not empty: kept */

    const char *bad[] = {"../outside/x", "/etc/passwd", "t/../../outside/x", ""};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(storage_delete_paths(e->save, &bad[i], 1), -EPERM);
    assert_true(exists(e->out, "x"));
    assert_int_equal(storage_delete_paths("", rel, 1), -EINVAL);
}


static void single_file_roundtrip(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"file.bin", 3 * 32768 + 1000, false}};
    struct torrent *t = make_torrent(fs, 1, 32768);
    assert_int_equal(t->mi.num_pieces, 4);
    struct storage *st = open_st(e, t);

    /* Out of order; the file is created sparse at its full length at once. */
    assert_int_equal(write_sync(e, st, t, 3), 0);
    assert_int_equal(fsize(e->save, "file.bin"), t->mi.total_size);
    assert_int_equal(write_sync(e, st, t, 0), 0);
    assert_int_equal(write_sync(e, st, t, 2), 0);
    assert_int_equal(write_sync(e, st, t, 1), 0);
    assert_file_content(e->save, t, 0);

    for (uint32_t p = 0; p < 4; p++) {
        uint8_t *d;
        assert_int_equal(read_sync(e, st, p, 0, (uint32_t)piece_size(t, p), &d), 0);
        assert_memory_equal(d, t->data + p * 32768, (size_t)piece_size(t, p));
        free(d);
    }
    uint8_t *d;
    assert_int_equal(read_sync(e, st, 1, 100, 5000, &d), 0);
    assert_memory_equal(d, t->data + 32768 + 100, 5000);
    free(d);
    assert_int_equal(read_sync(e, st, 3, 999, 1, &d), 0);   /* last byte of the torrent */
    assert_int_equal(d[0], t->data[t->mi.total_size - 1]);
    free(d);

    /* Ranges outside a piece or the torrent are refused up front. */
    assert_int_equal(storage_read(st, 3, 0, 1001, on_read, NULL), -EINVAL);
    assert_int_equal(storage_read(st, 1, 32768, 1, on_read, NULL), -EINVAL);
    assert_int_equal(storage_read(st, 1, 0xffffffffu, 2, on_read, NULL), -EINVAL);
    assert_int_equal(storage_read(st, 1, 0, 0, on_read, NULL), -EINVAL);
    assert_int_equal(storage_read(st, 4, 0, 1, on_read, NULL), -EINVAL);
    assert_int_equal(storage_write_piece(st, 4, malloc(10), on_write, NULL), -EINVAL);
    assert_int_equal(storage_write_piece(st, 0, NULL, on_write, NULL), -EINVAL);
    close_sync(e, st);
    free_torrent(t);
}

/* write(2)-family calls this process made so far (threadpool included). */
static long syscw(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    assert_non_null(f);
    char line[128];
    long n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "syscw: %ld", &n) == 1)
            break;
    fclose(f);
    assert_true(n >= 0);
    return n;
}

/* storage_set_write_chunk (µTorrent's write_coalesce_max_size): a 1 MiB
 * piece goes out in one pwrite by default, in 64 with 16 KiB chunks (no
 * write caching), in 2 with 512 KiB ones; the bytes are the same. */
static void write_chunk_sizes(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"big.bin", 3 << 20, false}};
    struct torrent *t = make_torrent(fs, 1, 1 << 20);
    struct storage *st = open_st(e, t);
    assert_int_equal(write_sync(e, st, t, 2), 0);   /* creates and sizes the file */
    long w0 = syscw();
    assert_int_equal(write_sync(e, st, t, 0), 0);
    long whole = syscw() - w0;
    storage_set_write_chunk(st, STORAGE_HASH_BLOCK);
    w0 = syscw();
    assert_int_equal(write_sync(e, st, t, 1), 0);
    long blocks = syscw() - w0;
    assert_true(whole < 8);        /* one pwrite plus the loop's wake-ups */
    assert_true(blocks >= 64);
    assert_true(blocks < 64 + 8);
    storage_set_write_chunk(st, 512 << 10);
    w0 = syscw();
    assert_int_equal(write_sync(e, st, t, 0), 0);
    long halves = syscw() - w0;
    assert_true(halves >= 2 && halves < 8);
    assert_file_content(e->save, t, 0);
    close_sync(e, st);
    free_torrent(t);
}

/* The open flags of this process's fd on path (-1: none open). */
static long fd_flags_of(const char *path)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    long flags = -1;
    struct dirent *e;
    while (flags < 0 && (e = readdir(d))) {
        char link[300], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        if (strcmp(target, path) != 0)
            continue;
        snprintf(link, sizeof link, "/proc/self/fdinfo/%s", e->d_name);
        FILE *f = fopen(link, "r");
        char line[128];
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "flags: %lo", &flags) == 1)
                break;
        if (f)
            fclose(f);
    }
    closedir(d);
    return flags;
}

/* minimize_kernel_caching: O_SYNC only for vfat (MSDOS_SUPER_MAGIC).  This
 * machine's kernel has no vfat, so the files here (tmpfs/ext4/overlay) show
 * the other half: switched on, they are still opened without O_SYNC. */
static void minimize_kernel_caching_only_vfat(void **state)
{
    assert_int_equal(storage_sync_flags(MSDOS_SUPER_MAGIC, true), O_SYNC);
    assert_int_equal(storage_sync_flags(MSDOS_SUPER_MAGIC, false), 0);
    assert_int_equal(storage_sync_flags(EXT4_SUPER_MAGIC, true), 0);
    assert_int_equal(storage_sync_flags(TMPFS_MAGIC, true), 0);
    struct env *e = *state;
    const struct fspec fs[] = {{"f.bin", 2 * 32768, false}};
    struct torrent *t = make_torrent(fs, 1, 32768);
    struct storage *st = open_st(e, t);
    storage_set_minimize_kernel_caching(st, true);
    assert_int_equal(write_sync(e, st, t, 0), 0);
    char path[PATH_MAX], real[PATH_MAX];
    snprintf(path, sizeof path, "%s/f.bin", e->save);
    assert_non_null(realpath(path, real));
    long flags = fd_flags_of(real);
    assert_true(flags >= 0);   /* the write fd is cached */
    struct statfs sf;
    assert_int_equal(statfs(e->save, &sf), 0);
    assert_true(sf.f_type != MSDOS_SUPER_MAGIC);
    assert_int_equal(flags & O_SYNC, 0);
    close_sync(e, st);
    free_torrent(t);
}

static const struct fspec multi_fs[] = {
    {"t/a.txt", 10000, false},
    {"t/.pad/6384", 6384, true},      /* aligns b.bin to piece 1 */
    {"t/sub/b.bin", 40000, false},
    {"t/c", 1, false},
    {"t/empty", 0, false},
    {"t/d/e.bin", 5000, false},
    {"t/end-empty", 0, false},
};

static void multi_file_pad_roundtrip(void **state)
{
    struct env *e = *state;
    struct torrent *t = make_torrent(multi_fs, 7, 16384);
    assert_int_equal(t->mi.num_pieces, 4);   /* 61385 bytes */
    struct storage *st = open_st(e, t);
    for (uint32_t p = 0; p < t->mi.num_pieces; p++)
        assert_int_equal(write_sync(e, st, t, p), 0);
    assert_file_content(e->save, t, 0);
    assert_file_content(e->save, t, 2);
    assert_file_content(e->save, t, 3);
    assert_file_content(e->save, t, 5);
    assert_false(exists(e->save, "t/.pad"));   /* pad files are never created */
    assert_int_equal(fsize(e->save, "t/empty"), 0);
    assert_int_equal(fsize(e->save, "t/end-empty"), 0);

    /* Piece 0 is a.txt + pad: the pad part reads as zeros. */
    uint8_t *d;
    assert_int_equal(read_sync(e, st, 0, 0, 16384, &d), 0);
    assert_memory_equal(d, t->data, 16384);
    for (int i = 10000; i < 16384; i++)
        assert_int_equal(d[i], 0);
    free(d);
    /* A range spanning b.bin, c, empty and e.bin (piece 3 = 49152..61385). */
    assert_int_equal(read_sync(e, st, 3, 0, (uint32_t)piece_size(t, 3), &d), 0);
    assert_memory_equal(d, t->data + 49152, (size_t)piece_size(t, 3));
    free(d);

    /* A missing file reads as -ENOENT. */
    char *c = pjoin(e->save, "t/d/e.bin");
    assert_int_equal(unlink(c), 0);
    free(c);
    close_sync(e, st);   /* drop cached fds */
    st = open_st(e, t);
    assert_int_equal(read_sync(e, st, 3, 0, 100, &d), 0);   /* b.bin part still fine */
    free(d);
    assert_int_equal(read_sync(e, st, 3, 0, (uint32_t)piece_size(t, 3), &d), -ENOENT);
    close_sync(e, st);
    free_torrent(t);
}

/* Smart-ban's block hashes: filled for a piece that fails, for a passing
 * one only when asked, one SHA-1 per 16 KiB block (the last one shorter). */
static void block_hashes_of_failed_pieces(void **state)
{
    struct env *e = *state;
    struct torrent *t = make_torrent(multi_fs, 7, 3 * STORAGE_HASH_BLOCK);
    struct storage *st = open_st(e, t);
    struct result r = {0};
    uint8_t got[3][20], want[3][20], orig[3 * STORAGE_HASH_BLOCK];
    assert_int_equal(t->mi.num_pieces, 2);   /* the last one is a single short block */
    uint8_t *d = piece_copy(t, 0);
    d[STORAGE_HASH_BLOCK + 5] ^= 1;   /* block 1 is corrupt */
    memcpy(orig, d, sizeof orig);
    for (int b = 0; b < 3; b++)
        SHA1(orig + b * STORAGE_HASH_BLOCK, STORAGE_HASH_BLOCK, want[b]);
    memset(got, 0, sizeof got);
    assert_int_equal(storage_write_piece_hashed(st, 0, d, got, false, on_write, &r), 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(r.rc, -EILSEQ);
    assert_memory_equal(got, want, sizeof want);

    /* A good piece: untouched unless asked for. */
    memset(got, 0, sizeof got);
    memcpy(want, got, sizeof want);
    assert_int_equal(storage_write_piece_hashed(st, 0, piece_copy(t, 0), got, false, on_write, &r), 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(r.rc, 0);
    assert_memory_equal(got, want, sizeof want);
    int64_t last = piece_size(t, t->mi.num_pieces - 1);
    uint32_t nb = (uint32_t)((last + STORAGE_HASH_BLOCK - 1) / STORAGE_HASH_BLOCK);
    assert_int_equal(nb, 1);
    const uint8_t *ld = t->data + (int64_t)(t->mi.num_pieces - 1) * t->mi.piece_length;
    for (uint32_t b = 0; b < nb; b++) {
        int64_t n = last - (int64_t)b * STORAGE_HASH_BLOCK;
        SHA1(ld + b * STORAGE_HASH_BLOCK, (size_t)(n < STORAGE_HASH_BLOCK ? n : STORAGE_HASH_BLOCK), want[b]);
    }
    assert_int_equal(storage_write_piece_hashed(st, t->mi.num_pieces - 1, piece_copy(t, t->mi.num_pieces - 1),
                                                got, true, on_write, &r), 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(r.rc, 0);
    assert_memory_equal(got, want, nb * 20);
    close_sync(e, st);
    free_torrent(t);
}

static void hash_mismatch_writes_nothing(void **state)
{
    struct env *e = *state;
    struct torrent *t = make_torrent(multi_fs, 7, 16384);
    struct storage *st = open_st(e, t);
    struct result r = {0};
    uint8_t *d = piece_copy(t, 2);
    d[77] ^= 1;
    assert_int_equal(storage_write_piece(st, 2, d, on_write, &r), 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.rc, -EILSEQ);
    assert_false(exists(e->save, "t"));
    /* Then the right data goes in, and a bad copy cannot overwrite it. */
    assert_int_equal(write_sync(e, st, t, 2), 0);
    d = piece_copy(t, 2);
    memset(d, 0, 100);
    assert_int_equal(storage_write_piece(st, 2, d, on_write, &r), 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(r.rc, -EILSEQ);
    uint8_t *back;
    assert_int_equal(read_sync(e, st, 2, 0, 16384, &back), 0);
    assert_memory_equal(back, t->data + 2 * 16384, 16384);
    free(back);
    close_sync(e, st);
    free_torrent(t);
}

static const struct fspec check_fs[] = {
    {"t/a", 40000, false},   /* pieces 0-4 */
    {"t/b", 30000, false},   /* pieces 4-8 */
    {"t/c", 40000, false},   /* pieces 8-13 */
};

static void check_finds_present_pieces(void **state)
{
    struct env *e = *state;
    struct torrent *t = make_torrent(check_fs, 3, 8192);
    assert_int_equal(t->mi.num_pieces, 14);
    struct storage *st = open_st(e, t);
    struct result r;

    /* Nothing on disk: all absent, and save_path is not created. */
    assert_int_equal(check_sync(e, st, &r), 0);
    assert_have(&r, 14, (const int[]){-1});
    assert_false(exists(e->tmp, "save"));

    for (uint32_t p = 0; p < 14; p++)
        if (p != 1)
            assert_int_equal(write_sync(e, st, t, p), 0);
    assert_int_equal(check_sync(e, st, &r), 0);
    assert_have(&r, 14, (const int[]){0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, -1});
    assert_int_equal(r.prog_done, 14);
    assert_int_equal(r.prog_total, 14);

    /* Corrupt one byte of piece 6 (in b), delete c. */
    uint8_t x = (uint8_t)~t->data[6 * 8192 + 5];
    write_raw(e->save, "t/b", 6 * 8192 + 5 - 40000, &x, 1);
    char *c = pjoin(e->save, "t/c");
    assert_int_equal(unlink(c), 0);
    free(c);
    assert_int_equal(check_sync(e, st, &r), 0);
    assert_have(&r, 14, (const int[]){0, 2, 3, 4, 5, 7, -1});

    /* A truncated file: pieces beyond its end are absent. */
    c = pjoin(e->save, "t/a");
    assert_int_equal(truncate(c, 20000), 0);
    free(c);
    assert_int_equal(check_sync(e, st, &r), 0);
    assert_have(&r, 14, (const int[]){0, 5, 7, -1});
    close_sync(e, st);
    free_torrent(t);
}

static void check_single_piece_torrent_and_pads(void **state)
{
    struct env *e = *state;
    struct torrent *t = make_torrent(multi_fs, 7, 16384);
    struct storage *st = open_st(e, t);
    for (uint32_t p = 0; p < t->mi.num_pieces; p++)
        assert_int_equal(write_sync(e, st, t, p), 0);
    struct result r;
    assert_int_equal(check_sync(e, st, &r), 0);
    assert_have(&r, 4, (const int[]){0, 1, 2, 3, -1});
    close_sync(e, st);
    free_torrent(t);

    const struct fspec one[] = {{"x", 5, false}};
    t = make_torrent(one, 1, 16384);
    st = open_st(e, t);
    assert_int_equal(write_sync(e, st, t, 0), 0);
    assert_int_equal(check_sync(e, st, &r), 0);
    assert_have(&r, 1, (const int[]){0, -1});
    close_sync(e, st);
    free_torrent(t);
}

static void on_check_never(void *ud, int rc, const uint8_t *have, uint32_t n)
{
    (void)ud, (void)rc, (void)have, (void)n;
    fail_msg("done called after cancel");
}

static void check_cancel(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"big", 8 << 20, false}};
    struct torrent *t = make_torrent(fs, 1, 16384);
    struct storage *st = open_st(e, t);
    assert_int_equal(write_sync(e, st, t, 0), 0);
    char *p = pjoin(e->save, "big");
    int fd = open(p, O_WRONLY);
    assert_int_equal(pwrite(fd, t->data, 8 << 20, 0), 8 << 20);
    close(fd);
    free(p);

    struct storage_check *c;
    assert_int_equal(storage_check(st, NULL, on_check_never, NULL, &c), 0);
    storage_check_cancel(c);
    uv_run(&e->loop, UV_RUN_DEFAULT);

    /* Cancel after the stat phase, with chunks in flight. */
    assert_int_equal(storage_check(st, NULL, on_check_never, NULL, &c), 0);
    uv_run(&e->loop, UV_RUN_ONCE);
    storage_check_cancel(c);
    uv_run(&e->loop, UV_RUN_DEFAULT);

    /* storage_close cancels a running check. */
    assert_int_equal(storage_check(st, NULL, on_check_never, NULL, &c), 0);
    close_sync(e, st);
    free_torrent(t);
}

static void delete_removes_only_ours(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {
        {"t/a", 1000, false},
        {"t/sub/b", 2000, false},
        {"t/sub/deep/c", 3000, false},
        {"t/other/d", 100, false},
        {"t/.pad/x", 96, true},
    };
    struct torrent *t = make_torrent(fs, 5, 16384);
    struct storage *st = open_st(e, t);
    assert_int_equal(write_sync(e, st, t, 0), 0);
    assert_true(exists(e->save, "t/sub/deep/c"));
    touch(e->save, "t/sub/foreign.txt", "keep me");
    touch(e->save, "unrelated.txt", "keep me too");
    assert_int_equal(delete_sync(e, st), 0);
    assert_false(exists(e->save, "t/a"));
    assert_false(exists(e->save, "t/sub/b"));
    assert_false(exists(e->save, "t/sub/deep"));
    assert_false(exists(e->save, "t/other"));
    assert_true(exists(e->save, "t/sub/foreign.txt"));
    assert_true(exists(e->save, "t"));
    assert_true(exists(e->save, "unrelated.txt"));
    /* Without foreign files the whole tree goes, save_path stays. */
    char *f = pjoin(e->save, "t/sub/foreign.txt");
    unlink(f);
    free(f);
    assert_int_equal(write_sync(e, st, t, 0), 0);
    assert_int_equal(delete_sync(e, st), 0);
    assert_false(exists(e->save, "t"));
    assert_true(exists(e->tmp, "save"));
    /* Deleting again (nothing there) is fine. */
    assert_int_equal(delete_sync(e, st), 0);
    assert_true(exists(e->tmp, "save"));
    close_sync(e, st);
    free_torrent(t);
}

static void hostile_paths_refused(void **state)
{
    struct env *e = *state;
    char abs[256];
    snprintf(abs, sizeof(abs), "%s/abs_evil", e->out);
    const char *bad[] = {"../evil", "t/../../evil2", abs, "t//x", "./x", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct fspec fs[] = {{"ok", 100, false}, {bad[i], 1000, false}};
        struct torrent *t = make_torrent(fs, 2, 16384);
        struct storage *st = open_st(e, t);
        assert_int_equal(write_sync(e, st, t, 0), -EPERM);
        uint8_t *d;
        assert_int_equal(read_sync(e, st, 0, 200, 10, &d), -EPERM);
        int64_t sizes[2];
        storage_stat_files(st, sizes, NULL);
        assert_int_equal(sizes[1], -1);
        close_sync(e, st);
        free_torrent(t);
    }
    assert_false(exists(e->tmp, "evil"));
    assert_false(exists(e->tmp, "evil2"));
    assert_false(exists(e->out, "abs_evil"));

    /* A file outside must survive a delete by a hostile torrent. */
    touch(e->tmp, "evil", "precious");
    const struct fspec fs[] = {{"../evil", 1000, false}};
    struct torrent *t = make_torrent(fs, 1, 16384);
    struct storage *st = open_st(e, t);
    assert_int_equal(delete_sync(e, st), -EPERM);
    assert_true(exists(e->tmp, "evil"));
    close_sync(e, st);
    free_torrent(t);
}

static void symlinks_do_not_redirect_writes(void **state)
{
    struct env *e = *state;
    assert_int_equal(mkdir(e->save, 0755), 0);
    char *link = pjoin(e->save, "t");
    assert_int_equal(symlink(e->out, link), 0);   /* save/t -> outside */
    free(link);
    const struct fspec fs[] = {{"t/x", 1000, false}};
    struct torrent *t = make_torrent(fs, 1, 16384);
    struct storage *st = open_st(e, t);
    assert_int_equal(write_sync(e, st, t, 0), -EPERM);
    assert_false(exists(e->out, "x"));
    close_sync(e, st);
    free_torrent(t);

    /* Final component a symlink to a file outside. */
    touch(e->out, "target", "untouched");
    char *target = pjoin(e->out, "target");
    link = pjoin(e->save, "f");
    assert_int_equal(symlink(target, link), 0);
    free(link);
    const struct fspec fs2[] = {{"f", 9, false}};
    t = make_torrent(fs2, 1, 16384);
    st = open_st(e, t);
    assert_int_equal(write_sync(e, st, t, 0), -EPERM);
    assert_int_equal(fsize(e->out, "target"), 9);
    FILE *fp = fopen(target, "r");
    char buf[16] = {0};
    assert_non_null(fgets(buf, sizeof(buf), fp));
    fclose(fp);
    assert_string_equal(buf, "untouched");
    free(target);
    close_sync(e, st);
    free_torrent(t);
}

static void write_errors_surface(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"t/a", 100000, false}};
    struct torrent *t = make_torrent(fs, 1, 16384);

    /* Read-only save path: -EACCES (as an unprivileged user even when root). */
    assert_int_equal(mkdir(e->save, 0555), 0);
    struct storage *st = open_st(e, t);
    bool root = geteuid() == 0;
    if (root)
        assert_int_equal(seteuid(65534), 0);
    int rc = write_sync(e, st, t, 0);
    if (root)
        assert_int_equal(seteuid(0), 0);
    assert_int_equal(rc, -EACCES);
    assert_false(exists(e->save, "t"));
    close_sync(e, st);
    chmod(e->save, 0755);

    /* A file size limit stands in for a full disk: -EFBIG, no file left. */
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 50000;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    st = open_st(e, t);
    rc = write_sync(e, st, t, 0);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(rc, -EFBIG);
    assert_false(exists(e->save, "t/a"));
    /* A directory where a file should be. */
    char *p = pjoin(e->save, "t/a");
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
    assert_true(write_sync(e, st, t, 0) < 0);
    close_sync(e, st);
    free_torrent(t);
}

static void unwanted_files_not_created(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"t/A", 32768, false}, {"t/B", 65536, false}, {"t/C", 20000, false}};
    struct torrent *t = make_torrent(fs, 3, 16384);
    assert_int_equal(t->mi.num_pieces, 8);
    struct storage *st = open_st(e, t);
    assert_int_equal(storage_set_file_priorities(st, (const uint8_t[]){1, 0, 1}), 0);
    for (uint32_t p = 0; p < 8; p++)
        if (p < 2 || p > 5)
            assert_int_equal(write_sync(e, st, t, p), 0);
    assert_false(exists(e->save, "t/B"));
    assert_file_content(e->save, t, 0);
    assert_file_content(e->save, t, 2);
    /* A piece only in the unwanted, missing file is not written. */
    assert_int_equal(write_sync(e, st, t, 3), -ENOENT);
    assert_false(exists(e->save, "t/B"));
    /* Wanted again: it is created. */
    assert_int_equal(storage_set_file_priorities(st, (const uint8_t[]){1, 1, 1}), 0);
    assert_int_equal(write_sync(e, st, t, 3), 0);
    assert_int_equal(fsize(e->save, "t/B"), 65536);
    close_sync(e, st);
    free_torrent(t);
    rm_rf(e->save);

    /* A wanted piece straddling into an unwanted file writes there too. */
    const struct fspec fs2[] = {{"t/A", 20000, false}, {"t/B", 65536, false}, {"t/C", 20000, false}};
    t = make_torrent(fs2, 3, 16384);
    st = open_st(e, t);
    assert_int_equal(storage_set_file_priorities(st, (const uint8_t[]){1, 0, 0}), 0);
    assert_int_equal(write_sync(e, st, t, 0), 0);
    assert_false(exists(e->save, "t/B"));
    assert_int_equal(write_sync(e, st, t, 1), 0);
    assert_int_equal(fsize(e->save, "t/B"), 65536);
    assert_false(exists(e->save, "t/C"));
    assert_int_equal(write_sync(e, st, t, 2), 0);   /* B exists now */
    assert_int_equal(write_sync(e, st, t, 6), -ENOENT);   /* only in C */
    assert_false(exists(e->save, "t/C"));
    close_sync(e, st);
    free_torrent(t);
}

static void stat_files_reports(void **state)
{
    struct env *e = *state;
    struct torrent *t = make_torrent(multi_fs, 7, 16384);
    struct storage *st = open_st(e, t);
    int64_t sizes[7], mtimes[7];
    assert_int_equal(storage_stat_files(st, sizes, mtimes), 0);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(sizes[i], -1);
        assert_int_equal(mtimes[i], -1);
    }
    assert_int_equal(write_sync(e, st, t, 0), 0);   /* a.txt only */
    time_t now = time(NULL);
    assert_int_equal(storage_stat_files(st, sizes, mtimes), 0);
    assert_int_equal(sizes[0], 10000);
    assert_true(mtimes[0] >= now - 60 && mtimes[0] <= now + 1);
    assert_int_equal(sizes[1], -1);   /* pad */
    assert_int_equal(sizes[2], -1);
    assert_int_equal(sizes[5], -1);
    close_sync(e, st);
    free_torrent(t);
}

static int sync_sync(struct env *e, struct storage *st, struct result *r)
{
    int rc = storage_sync(st, on_fs_done, r);
    if (rc == 0)
        uv_run(&e->loop, UV_RUN_DEFAULT);
    return rc;
}

/* storage_sync: nothing to do before any write or after a failed hash;
 * after a write it runs (and reports 0) once, then there is nothing to do
 * again; after a move the files are synced at their new place. */
static void sync_after_writes(void **state)
{
    struct env *e = *state;
    struct torrent *t = make_torrent(multi_fs, 7, 16384);
    struct storage *st = open_st(e, t);
    struct result r = {0};
    assert_int_equal(storage_sync(st, on_fs_done, &r), 1);
    assert_int_equal(storage_sync(st, NULL, NULL), -EINVAL);
    uint8_t *bad = piece_copy(t, 0);
    bad[0] ^= 1;
    struct result w = {0};
    assert_int_equal(storage_write_piece(st, 0, bad, on_write, &w), 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(w.rc, -EILSEQ);
    assert_int_equal(storage_sync(st, on_fs_done, &r), 1);
    assert_int_equal(write_sync(e, st, t, 0), 0);
    assert_int_equal(write_sync(e, st, t, 2), 0);
    assert_int_equal(sync_sync(e, st, &r), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.rc, 0);
    assert_int_equal(storage_sync(st, on_fs_done, &r), 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(write_sync(e, st, t, 3), 0);
    char *to = pjoin(e->tmp, "moved");
    assert_int_equal(move_sync(e, st, to), 0);
    assert_int_equal(sync_sync(e, st, &r), 0);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.rc, 0);
    free(to);
    close_sync(e, st);
    free_torrent(t);
}

/* A file written, then gone before its sync (a disk cut took back its
 * creation): the sync fails with ENOENT and keeps it due, every time, until
 * the caller forgets what is unsynced (it demoted those pieces); then there
 * is nothing to sync, and a new write is due again. */
static void forget_unsynced(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"g/a", 16384, false}, {"g/b", 16384, false}};
    struct torrent *t = make_torrent(fs, 2, 16384);
    struct storage *st = open_st(e, t);
    assert_int_equal(write_sync(e, st, t, 1), 0);
    storage_release_files(st);   /* no cached descriptor keeps the unlinked file alive */
    char *p = pjoin(e->save, "g/b");
    assert_int_equal(unlink(p), 0);
    struct result r = {0};
    assert_int_equal(sync_sync(e, st, &r), 0);
    assert_int_equal(r.rc, -ENOENT);
    assert_int_equal(sync_sync(e, st, &r), 0);
    assert_int_equal(r.rc, -ENOENT);             /* still due */
    storage_forget_unsynced(st);
    assert_int_equal(storage_sync(st, on_fs_done, &r), 1);
    storage_hold_files(st);
    assert_int_equal(write_sync(e, st, t, 0), 0);
    assert_int_equal(sync_sync(e, st, &r), 0);
    assert_int_equal(r.rc, 0);
    free(p);
    close_sync(e, st);
    free_torrent(t);
}

static void move_storage(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"t/a", 30000, false}, {"t/sub/b", 35536, false}, {"t/c", 5000, false}};
    struct torrent *t = make_torrent(fs, 3, 16384);
    struct storage *st = open_st(e, t);
    for (uint32_t p = 0; p < t->mi.num_pieces - 1; p++)   /* t/c never written */
        assert_int_equal(write_sync(e, st, t, p), 0);
    touch(e->save, "t/sub/foreign", "x");
    char *dest = pjoin(e->tmp, "moved/");
    assert_int_equal(move_sync(e, st, dest), 0);
    dest[strlen(dest) - 1] = '\0';
    assert_string_equal(storage_save_path(st), dest);
    assert_file_content(dest, t, 0);
    assert_file_content(dest, t, 1);
    assert_false(exists(e->save, "t/a"));
    assert_true(exists(e->save, "t/sub/foreign"));   /* not ours: stays */
    uint8_t *d;
    assert_int_equal(read_sync(e, st, 0, 0, 16384, &d), 0);
    assert_memory_equal(d, t->data, 16384);
    free(d);
    /* New writes go to the new place. */
    assert_int_equal(write_sync(e, st, t, t->mi.num_pieces - 1), 0);
    assert_file_content(dest, t, 2);
    assert_false(exists(e->save, "t/c"));

    /* Across file systems (tmpfs), if there is one: copy + unlink. */
    struct stat a, b;
    if (stat("/dev/shm", &b) == 0 && stat(e->tmp, &a) == 0 && a.st_dev != b.st_dev) {
        char shm[] = "/dev/shm/td_storage_XXXXXX";
        assert_non_null(mkdtemp(shm));
        assert_int_equal(move_sync(e, st, shm), 0);
        assert_string_equal(storage_save_path(st), shm);
        for (size_t i = 0; i < 3; i++)
            assert_file_content(shm, t, i);
        assert_false(exists(dest, "t"));
        struct result r;
        assert_int_equal(check_sync(e, st, &r), 0);
        assert_int_equal(r.have[0], 0xf8);   /* all 5 pieces */
        rm_rf(shm);
    }
    free(dest);
    close_sync(e, st);
    free_torrent(t);
}

/* Open descriptors of this process on files under dir (/proc/self/fd). */
static size_t fds_under(const char *dir)
{
    size_t n = 0, len = strlen(dir);
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        char link[300], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
        ssize_t k = readlink(link, target, sizeof target - 1);
        if (k > 0) {
            target[k] = 0;
            if (strncmp(target, dir, len) == 0 && target[len] == '/')
                n++;
        }
    }
    closedir(d);
    return n;
}

/* A stopped torrent's files are released even when reads were running or
 * queued at the stop (a seeder serving peers): each closes its descriptor
 * when it ends, and nothing is cached until storage_hold_files. */
static void release_files_with_jobs_in_flight(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"r/a", 100000, false}, {"r/b", 70000, false}};
    struct torrent *t = make_torrent(fs, 2, 16384);
    struct storage *st = open_st(e, t);
    struct result w[11] = {{0}};
    for (uint32_t p = 0; p < 11; p++)
        assert_int_equal(storage_write_piece(st, p, piece_copy(t, p), on_write, &w[p]), 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    struct result rd[11] = {{0}};
    for (uint32_t p = 0; p < 11; p++)
        assert_int_equal(storage_read(st, p, 0, 1000, on_read, &rd[p]), 0);
    storage_release_files(st);   /* the reads are queued or running */
    uv_run(&e->loop, UV_RUN_DEFAULT);
    for (int p = 0; p < 11; p++) {
        assert_int_equal(rd[p].calls, 1);
        assert_int_equal(rd[p].rc, 0);
        free(rd[p].data);
    }
    assert_int_equal(fds_under(e->save), 0);
    /* still released: a read now leaves nothing open either */
    uint8_t *d;
    assert_int_equal(read_sync(e, st, 0, 0, 10, &d), 0);
    free(d);
    assert_int_equal(fds_under(e->save), 0);
    storage_hold_files(st);
    assert_int_equal(read_sync(e, st, 0, 0, 10, &d), 0);
    free(d);
    assert_true(fds_under(e->save) > 0);
    close_sync(e, st);
    free_torrent(t);
}

static void close_waits_for_jobs(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"t/a", 200000, false}};
    struct torrent *t = make_torrent(fs, 1, 16384);
    struct storage *st = open_st(e, t);
    struct result w[13] = {{0}}, rd = {0}, cl = {0};
    order_counter = 0;
    for (uint32_t p = 0; p < 13; p++)
        assert_int_equal(storage_write_piece(st, p, piece_copy(t, p), on_write, &w[p]), 0);
    assert_int_equal(storage_read(st, 0, 0, 100, on_read, &rd), 0);
    /* A delete waits for the writes; meanwhile new work is refused. */
    struct result del = {0};
    assert_int_equal(storage_delete_files(st, on_fs_done, &del), 0);
    assert_int_equal(storage_write_piece(st, 0, piece_copy(t, 0), on_write, NULL), -EBUSY);
    assert_int_equal(storage_read(st, 0, 0, 1, on_read, NULL), -EBUSY);
    struct storage_check *c;
    assert_int_equal(storage_check(st, NULL, on_check, NULL, &c), -EBUSY);
    assert_int_equal(storage_delete_files(st, on_fs_done, &del), -EBUSY);
    storage_close(st, on_closed, &cl);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    for (int p = 0; p < 13; p++) {
        assert_int_equal(w[p].calls, 1);
        assert_int_equal(w[p].rc, 0);
        assert_true(w[p].order < cl.order);
    }
    assert_int_equal(rd.calls, 1);
    free(rd.data);   /* it raced the writes: any outcome is fine, but it ran */
    assert_int_equal(del.calls, 1);
    assert_int_equal(del.rc, 0);
    assert_false(exists(e->save, "t"));
    assert_int_equal(cl.calls, 1);
    free_torrent(t);
}

/* Many small files (more than the fd cache holds), all pieces written and
 * read concurrently on the threadpool, then checked. */
static void many_files_parallel(void **state)
{
    struct env *e = *state;
    enum { NF = 40 };
    struct fspec fs[NF];
    char names[NF][32];
    for (int i = 0; i < NF; i++) {
        snprintf(names[i], sizeof(names[i]), "m/d%d/f%02d", i % 5, i);
        fs[i] = (struct fspec){names[i], i % 7 == 3 ? 0 : 1000 + (rnd8() << 6), false};
    }
    struct torrent *t = make_torrent(fs, NF, 8192);
    struct storage *st = open_st(e, t);
    uint32_t n = t->mi.num_pieces;
    struct result *w = calloc(n, sizeof(*w));
    for (uint32_t p = n; p-- > 0; )
        assert_int_equal(storage_write_piece(st, p, piece_copy(t, p), on_write, &w[p]), 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    for (uint32_t p = 0; p < n; p++) {
        assert_int_equal(w[p].calls, 1);
        assert_int_equal(w[p].rc, 0);
    }
    for (int i = 0; i < NF; i++)
        assert_file_content(e->save, t, (size_t)i);
    memset(w, 0, n * sizeof(*w));
    for (uint32_t p = 0; p < n; p++)
        assert_int_equal(storage_read(st, p, 0, (uint32_t)piece_size(t, p), on_read, &w[p]), 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    for (uint32_t p = 0; p < n; p++) {
        assert_int_equal(w[p].rc, 0);
        assert_memory_equal(w[p].data, t->data + (int64_t)p * 8192, (size_t)piece_size(t, p));
        free(w[p].data);
    }
    free(w);
    struct result r;
    assert_int_equal(check_sync(e, st, &r), 0);
    for (uint32_t p = 0; p < n; p++)
        assert_true(have_bit(&r, p));
    close_sync(e, st);
    free_torrent(t);
}

static void bad_layouts_refused(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"a", 1000, false}, {"b", 1000, false}};
    struct torrent *t = make_torrent(fs, 2, 16384);
    struct storage *st = NULL;
    t->mi.files[1].offset = 999;   /* overlapping */
    assert_int_equal(storage_open(&e->loop, &t->mi, e->save, &st), -EINVAL);
    t->mi.files[1].offset = 1000;
    t->mi.num_pieces = 2;          /* inconsistent count */
    assert_int_equal(storage_open(&e->loop, &t->mi, e->save, &st), -EINVAL);
    t->mi.num_pieces = 1;
    t->mi.piece_length = 0;
    assert_int_equal(storage_open(&e->loop, &t->mi, e->save, &st), -EINVAL);
    t->mi.piece_length = 16384;
    assert_int_equal(storage_open(&e->loop, &t->mi, "", &st), -EINVAL);
    assert_null(st);
    free_torrent(t);
}

static void check_speed_256mib(void **state)
{
    struct env *e = *state;
    /* TD_STORAGE_BENCH_MIB overrides the size for manual measurements. */
    const char *env = getenv("TD_STORAGE_BENCH_MIB");
    const int64_t size = (env && atoi(env) > 0 ? atoi(env) : 256LL) << 20;
    const struct fspec fs[] = {{"big/data.bin", size, false}};
    uint64_t t0 = uv_hrtime();
    struct torrent *t = make_torrent(fs, 1, 1 << 20);
    uint64_t t1 = uv_hrtime();
    assert_int_equal(mkdir(e->save, 0755), 0);
    char *dir = pjoin(e->save, "big");
    assert_int_equal(mkdir(dir, 0755), 0);
    free(dir);
    char *p = pjoin(e->save, "big/data.bin");
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    for (int64_t off = 0; off < size; off += 16 << 20)
        assert_int_equal(pwrite(fd, t->data + off, 16 << 20, off), 16 << 20);
    fsync(fd);
    close(fd);
    free(p);
    struct storage *st = open_st(e, t);
    struct result r;
    uint64_t t2 = uv_hrtime();
    assert_int_equal(check_sync(e, st, &r), 0);
    uint64_t t3 = uv_hrtime();
    for (uint32_t i = 0; i < t->mi.num_pieces; i++)
        assert_true(have_bit(&r, i));
    print_message("storage check: %lld MiB in %.3f s = %.0f MB/s (2 jobs); "
                  "generate+hash in test (1 core) %.3f s; progress callbacks %u\n",
                  (long long)(size >> 20), (double)(t3 - t2) / 1e9, (double)size / 1e6 / ((double)(t3 - t2) / 1e9),
                  (double)(t1 - t0) / 1e9, r.prog_calls);
    assert_true(r.prog_calls <= 2 + (t3 - t2) / 100000000);   /* ~10/s at most */
    close_sync(e, st);
    free_torrent(t);
}

/* ---- preallocation and synchronous writes ---- */

struct alloc_result {
    int calls, rc, order;
};

static void on_alloc(void *ud, int rc)
{
    struct alloc_result *r = ud;
    r->calls++;
    r->rc = rc;
    r->order = ++order_counter;
}

static int64_t allocated(const char *dir, const char *rel)
{
    char *p = pjoin(dir, rel);
    struct stat sb;
    int64_t n = stat(p, &sb) == 0 ? (int64_t)sb.st_blocks * 512 : -1;
    free(p);
    return n;
}

static void preallocate_wanted_files_before_writes(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"t/A", 300000, false}, {"t/pad", 7680, true}, {"t/B", 200000, false},
                               {"t/C", 100000, false}, {"t/empty", 0, false}};
    struct torrent *t = make_torrent(fs, 5, 16384);
    struct storage *st = open_st(e, t);
    assert_int_equal(storage_set_file_priorities(st, (const uint8_t[]){1, 1, 0, 1, 1}), 0);
    struct alloc_result a = {0};
    struct result w = {0};
    assert_int_equal(storage_preallocate(st, on_alloc, &a), 0);
    /* Queued after the preallocation: held until it is done. */
    assert_int_equal(storage_write_piece(st, 0, piece_copy(t, 0), on_write, &w), 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.rc, 0);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.rc, 0);
    assert_true(a.order < w.order);
    /* Wanted files: every block allocated; unwanted and pad files: none. */
    assert_int_equal(fsize(e->save, "t/A"), 300000);
    assert_true(allocated(e->save, "t/A") >= 300000);
    assert_true(allocated(e->save, "t/C") >= 100000);
    assert_false(exists(e->save, "t/B"));
    assert_false(exists(e->save, "t/pad"));
    /* The written piece is intact, the rest reads as zeros. */
    uint8_t *d = NULL;
    assert_int_equal(read_sync(e, st, 0, 0, 16384, &d), 0);
    assert_memory_equal(d, t->data, 16384);
    free(d);

    /* A failure (a file size limit stands in for a full disk) is reported. */
    close_sync(e, st);
    const struct fspec big[] = {{"u/big", 80000, false}};
    struct torrent *t2 = make_torrent(big, 1, 16384);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 50000;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    st = open_st(e, t2);
    memset(&a, 0, sizeof a);
    assert_int_equal(storage_preallocate(st, on_alloc, &a), 0);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.rc, -EFBIG);
    assert_int_equal(storage_preallocate(st, NULL, NULL), -EINVAL);
    close_sync(e, st);
    free_torrent(t2);
    free_torrent(t);
}

/* The flags of this process's open descriptors of path, OR'ed together per
 * kind: with O_DSYNC, without it. */
static void dsync_fds(const char *path, int *with, int *without)
{
    *with = *without = 0;
    char want[PATH_MAX];
    assert_non_null(realpath(path, want));
    for (int fd = 0; fd < 1024; fd++) {
        char link[64], target[PATH_MAX], info[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n < 0)
            continue;
        target[n] = 0;
        if (strcmp(target, want) != 0)
            continue;
        snprintf(info, sizeof info, "/proc/self/fdinfo/%d", fd);
        FILE *f = fopen(info, "r");
        assert_non_null(f);
        char line[128];
        unsigned long flags = 0;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "flags: %lo", &flags) == 1)
                break;
        fclose(f);
        if ((flags & O_ACCMODE) == O_RDONLY)
            continue;
        if (flags & O_DSYNC)
            (*with)++;
        else
            (*without)++;
    }
}

static void sync_writes_use_o_dsync(void **state)
{
    struct env *e = *state;
    const struct fspec fs[] = {{"s/data", 65536, false}};
    struct torrent *t = make_torrent(fs, 1, 16384);
    struct storage *st = open_st(e, t);
    storage_set_sync_writes(st, true);
    assert_int_equal(write_sync(e, st, t, 0), 0);
    char *p = pjoin(e->save, "s/data");
    int with, without;
    dsync_fds(p, &with, &without);   /* the fd cache keeps it open */
    assert_int_equal(with, 1);
    assert_int_equal(without, 0);
    /* Off again: the next write opens the file without O_DSYNC. */
    storage_set_sync_writes(st, false);
    assert_int_equal(write_sync(e, st, t, 1), 0);
    dsync_fds(p, &with, &without);
    assert_int_equal(without, 1);
    close_sync(e, st);
    dsync_fds(p, &with, &without);
    assert_int_equal(with + without, 0);
    free(p);
    for (uint32_t q = 2; q < 4; q++) {   /* nothing else changed: the data is right */
        st = open_st(e, t);
        assert_int_equal(write_sync(e, st, t, q), 0);
        close_sync(e, st);
    }
    assert_file_content(e->save, t, 0);
    free_torrent(t);
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(single_file_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(write_chunk_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(minimize_kernel_caching_only_vfat, setup, teardown),
        cmocka_unit_test_setup_teardown(multi_file_pad_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(hash_mismatch_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(block_hashes_of_failed_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(check_finds_present_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(check_single_piece_torrent_and_pads, setup, teardown),
        cmocka_unit_test_setup_teardown(check_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_removes_only_ours, setup, teardown),
        cmocka_unit_test_setup_teardown(hostile_paths_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(symlinks_do_not_redirect_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(write_errors_surface, setup, teardown),
        cmocka_unit_test_setup_teardown(unwanted_files_not_created, setup, teardown),
        cmocka_unit_test_setup_teardown(stat_files_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(forget_unsynced, setup, teardown),
        cmocka_unit_test_setup_teardown(sync_after_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(move_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(close_waits_for_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(release_files_with_jobs_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(many_files_parallel, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_layouts_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(preallocate_wanted_files_before_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(sync_writes_use_o_dsync, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_paths_only_the_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(check_speed_256mib, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
