/* core/creator — see creator.h.
 *
 * A task's job walks, hashes and builds on the threadpool; the loop thread
 * touches the job only between its runs (after_work), so nothing is locked.
 * The worker reads the task's request fields, which never change; a task
 * deleted while its job runs is therefore freed only when the job returns.
 */
#include "core/creator.h"
#include "util/natcmp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bt/bencode.h"
#include "bt/merkle.h"
#include "bt/metainfo.h"
#include "core/service.h"
#include "core/session.h"
#include "core/torrent.h"
#include "util/buf.h"
#include "util/hex.h"
#include "util/log.h"

#ifndef TD_VERSION
#define TD_VERSION "0"
#endif

#define CR_READ_CHUNK (4 * 1024 * 1024)       /* one pread */
#define CR_BATCH_BYTES (64LL * 1024 * 1024)   /* hashed per job before reporting back */
#define CR_FAIL_PREFIX "Create new torrent file failed. Reason: "

struct creator {
    uv_loop_t *loop;
    struct session *s;
    struct creator_task *tasks, *tail;   /* insertion order */
    size_t num_tasks;
    uint64_t next_seq;
    struct creator_job *job;             /* the one job on the threadpool */
    void (*done_cb)(struct creator_task *t, void *ud);
    void *done_ud;
};

struct cr_file {
    char *path;      /* relative to the source directory, '/'-separated; "" for a file source */
    size_t base;     /* offset of the last component in path */
    char *abs;       /* what to open */
    int64_t size;
    uint32_t first_piece;    /* v2/hybrid: every file starts on a piece boundary */
    uint8_t root[32];        /* v2/hybrid: pieces root once hashed */
};

enum cr_phase { CR_WALK, CR_HASH, CR_DONE };

struct creator_job {
    uv_work_t req;
    atomic_bool cancel;
    struct creator *c;            /* NULL once the creator is freed */
    struct creator_task *task;    /* read-only request fields on the worker */
    enum cr_phase phase;
    int64_t now;                  /* creation date */

    char *root_real;              /* realpath of a directory source */
    char *name;
    bool multi;
    struct cr_file *files;
    size_t num_files, cap_files;
    int64_t total;
    int64_t piece_len;
    uint32_t num_pieces;
    uint8_t *hashes;              /* SHA-1 per piece (v1, hybrid) */
    uint8_t *layer;               /* v2/hybrid: 32 bytes per piece, the piece-layer node */
    uint8_t *leaves;              /* v2/hybrid: the current piece's leaf hashes */

    uint32_t next_piece;          /* hashing cursor */
    size_t cur_file;
    int64_t cur_off;
    int fd;
    uint8_t *rbuf;
    EVP_MD_CTX *md;

    int rc;
    char err[512];
    uint8_t *out;
    size_t out_len;
    char info_hash_hex[41];
};

/* ---- small helpers ------------------------------------------------------ */

static int64_t now_s(void) { return (int64_t)time(NULL); }

static int job_fail(struct creator_job *j, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int job_fail(struct creator_job *j, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->err, sizeof(j->err), fmt, ap);
    va_end(ap);
    j->rc = rc;
    return rc;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }


int creator_natural_cmp(const char *a, const char *b)
{
    int r = natcmp_n(a, strlen(a), b, strlen(b));
    if (r)
        return r;
    r = strcmp(a, b);
    return r < 0 ? -1 : r > 0;
}

/* qBittorrent's order: by directory (natural), then by name within it. */
static int file_cmp(const void *pa, const void *pb)
{
    const struct cr_file *a = pa, *b = pb;
    size_t da = a->base ? a->base - 1 : 0, db = b->base ? b->base - 1 : 0;
    int r = natcmp_n(a->path, da, b->path, db);
    if (r)
        return r;
    r = natcmp_n(a->path + a->base, strlen(a->path + a->base), b->path + b->base,
                 strlen(b->path + b->base));
    return r ? r : strcmp(a->path, b->path);
}

/* BEP52's order: a file tree's keys sorted byte-wise, level by level, which
 * is comparing paths component by component. */
static int tree_cmp(const void *pa, const void *pb)
{
    const char *a = ((const struct cr_file *)pa)->path, *b = ((const struct cr_file *)pb)->path;
    for (;;) {
        size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
        int r = memcmp(a, b, la < lb ? la : lb);
        if (r == 0 && la != lb)
            r = la < lb ? -1 : 1;
        if (r)
            return r;
        if (!a[la] || !b[lb])   /* no equal paths in one walk; a file and a folder cannot share a name */
            return a[la] ? 1 : b[lb] ? -1 : 0;
        a += la + 1;
        b += lb + 1;
    }
}

int64_t creator_auto_piece_size(int64_t total_size)
{
    int64_t want = total_size > 0 ? total_size / 2048 : 0;
    int64_t p = CREATOR_PIECE_MIN;
    while (p < CREATOR_PIECE_AUTO_MAX && p < want)
        p *= 2;
    return p;
}

/* Splits s on '|' (empty elements kept, at most CREATOR_MAX_URLS). */
static int split_bar(const char *s, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s)
        return 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == '|';
    if (cap > CREATOR_MAX_URLS)
        cap = CREATOR_MAX_URLS;
    char **v = calloc(cap, sizeof(*v));
    if (!v)
        return -ENOMEM;
    const char *p = s;
    while (*n < cap) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!(v[*n] = strndup(p, len))) {
            *out = v;
            return -ENOMEM;
        }
        (*n)++;
        if (!e)
            break;
        p = e + 1;
    }
    *out = v;
    return 0;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* A trimmed copy (QString::trimmed), or NULL when empty or on OOM. */
static char *trimmed(const char *s)
{
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
        n--;
    return n ? strndup(s, n) : NULL;
}

/* ---- walking the source (worker) ---------------------------------------- */

static int add_file(struct creator_job *j, const char *rel, const char *abs, int64_t size)
{
    if (j->num_files >= CREATOR_MAX_FILES)
        return job_fail(j, -E2BIG, "more than %d files", CREATOR_MAX_FILES);
    if (size > INT64_MAX - j->total)
        return job_fail(j, -E2BIG, "total size too large");
    if (j->num_files == j->cap_files) {
        size_t nc = j->cap_files ? j->cap_files * 2 : 16;
        struct cr_file *f = realloc(j->files, nc * sizeof(*f));
        if (!f)
            return job_fail(j, -ENOMEM, "out of memory");
        j->files = f;
        j->cap_files = nc;
    }
    struct cr_file *f = &j->files[j->num_files];
    f->path = strdup(rel);
    f->abs = strdup(abs);
    const char *slash = strrchr(rel, '/');
    f->base = slash ? (size_t)(slash - rel) + 1 : 0;
    f->size = size;
    if (!f->path || !f->abs) {
        free(f->path);
        free(f->abs);
        return job_fail(j, -ENOMEM, "out of memory");
    }
    j->num_files++;
    j->total += size;
    return 0;
}

/* A link is followed only to a regular file inside the source tree. */
static bool link_inside(const struct creator_job *j, const char *abs, struct stat *st)
{
    char *real = realpath(abs, NULL);
    bool ok = false;
    if (real && stat(real, st) == 0 && S_ISREG(st->st_mode)) {
        size_t n = strlen(j->root_real);
        ok = strncmp(real, j->root_real, n) == 0 && (real[n] == '/' || n == 1);
    }
    free(real);
    return ok;
}

static int walk_dir(struct creator_job *j, const char *abs_dir, const char *rel_dir, int depth)
{
    if (depth > CREATOR_MAX_DEPTH)
        return job_fail(j, -E2BIG, "folders nested deeper than %d levels", CREATOR_MAX_DEPTH);
    DIR *d = opendir(abs_dir);
    if (!d)
        return job_fail(j, -errno, "cannot read folder %s: %s", abs_dir, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (atomic_load(&j->cancel)) {
            rc = job_fail(j, -ECANCELED, "Operation aborted");
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *abs = NULL, *rel = NULL;
        if (asprintf(&abs, "%s/%s", abs_dir, de->d_name) < 0 ||
            asprintf(&rel, "%s%s%s", rel_dir, *rel_dir ? "/" : "", de->d_name) < 0) {
            free(abs);
            rc = job_fail(j, -ENOMEM, "out of memory");
            break;
        }
        struct stat st;
        if (lstat(abs, &st) != 0) {
            log_debug("creator: skipping %s: %s", abs, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(j, abs, rel, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            rc = add_file(j, rel, abs, st.st_size);
        } else if (S_ISLNK(st.st_mode) && link_inside(j, abs, &st)) {
            rc = add_file(j, rel, abs, st.st_size);
        } else {
            log_debug("creator: skipping %s (link out of the tree or special file)", abs);
        }
        free(abs);
        free(rel);
    }
    closedir(d);
    return rc;
}

static int walk(struct creator_job *j)
{
    const struct creator_task *t = j->task;
    const char *sp = t->source_path ? t->source_path : "";
    if (sp[0] != '/')
        return job_fail(j, -EINVAL, "the source path must be an absolute path");
    char *src = strdup(sp);
    if (!src)
        return job_fail(j, -ENOMEM, "out of memory");
    size_t n = strlen(src);
    while (n > 1 && src[n - 1] == '/')
        src[--n] = 0;
    const char *slash = strrchr(src, '/');
    j->name = strdup(slash + 1);
    int rc = 0;
    struct stat st;
    if (!j->name) {
        rc = job_fail(j, -ENOMEM, "out of memory");
    } else if (!*j->name) {
        rc = job_fail(j, -EINVAL, "the source path has no name");
    } else if (stat(src, &st) != 0) {
        rc = job_fail(j, -errno, "cannot access %s: %s", src, strerror(errno));
    } else if (S_ISREG(st.st_mode)) {
        rc = add_file(j, "", src, st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
        j->multi = true;
        j->root_real = realpath(src, NULL);
        rc = j->root_real ? walk_dir(j, src, "", 0)
                          : job_fail(j, -errno, "cannot resolve %s: %s", src, strerror(errno));
    } else {
        rc = job_fail(j, -EINVAL, "%s is neither a file nor a folder", src);
    }
    free(src);
    if (rc)
        return rc;
    if (j->multi && j->num_files == 0)
        return job_fail(j, -ENOENT, "the folder contains no files");
    if (j->total == 0)
        return job_fail(j, -EINVAL, "the source contains no data (all files are empty)");
    bool v2 = t->format != CREATOR_V1;
    qsort(j->files, j->num_files, sizeof(*j->files), v2 ? tree_cmp : file_cmp);

    int64_t pl = t->piece_size;
    if (pl == 0)
        pl = creator_auto_piece_size(j->total);
    if (pl < CREATOR_PIECE_MIN || pl > CREATOR_PIECE_MAX || pl % CREATOR_PIECE_MIN)
        return job_fail(j, -EINVAL, "invalid piece size %lld (a multiple of 16 KiB up to 256 MiB)",
                        (long long)pl);
    if (v2 && (pl & (pl - 1)))
        return job_fail(j, -EINVAL, "invalid piece size %lld (v2 needs a power of two)",
                        (long long)pl);
    int64_t np = j->total / pl + (j->total % pl != 0);
    if (v2) {   /* each file starts a new piece */
        np = 0;
        for (size_t i = 0; i < j->num_files; i++) {
            j->files[i].first_piece = (uint32_t)(np < UINT32_MAX ? np : UINT32_MAX);
            np += j->files[i].size / pl + (j->files[i].size % pl != 0);
        }
    }
    if (np > (int64_t)UINT32_MAX / 32)
        return job_fail(j, -E2BIG, "too many pieces");
    j->piece_len = pl;
    j->num_pieces = (uint32_t)np;
    j->hashes = t->format != CREATOR_V2 ? malloc((size_t)np * 20) : NULL;
    j->layer = v2 ? malloc((size_t)np * 32) : NULL;
    j->leaves = v2 ? malloc((size_t)(pl / MERKLE_BLOCK) * 32) : NULL;
    j->rbuf = malloc(CR_READ_CHUNK);
    j->md = EVP_MD_CTX_new();
    if ((t->format != CREATOR_V2 && !j->hashes) || (v2 && (!j->layer || !j->leaves)) ||
        !j->rbuf || !j->md)
        return job_fail(j, -ENOMEM, "out of memory");
    return 0;
}

/* ---- hashing (worker) ---------------------------------------------------- */

/* Reads exactly n bytes at off (a short read means the file shrank). */
static int read_exact(struct creator_job *j, const struct cr_file *f, size_t n, int64_t off)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = pread(j->fd, j->rbuf + got, n - got, off + (int64_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return job_fail(j, -errno, "cannot read %s: %s", f->abs, strerror(errno));
        if (r == 0)
            return job_fail(j, -EIO, "%s changed while hashing", f->abs);
        got += (size_t)r;
    }
    return 0;
}

/* The file under the cursor, open, past finished (and empty) files; NULL
 * (with j->err set) when the files shrank or cannot be opened. */
static struct cr_file *current_file(struct creator_job *j)
{
    while (j->cur_file < j->num_files && j->cur_off >= j->files[j->cur_file].size) {
        if (j->fd >= 0)
            close(j->fd);
        j->fd = -1;
        j->cur_file++;
        j->cur_off = 0;
    }
    if (j->cur_file >= j->num_files) {
        job_fail(j, -EIO, "files shrank while hashing");
        return NULL;
    }
    struct cr_file *f = &j->files[j->cur_file];
    if (j->fd < 0 && (j->fd = open(f->abs, O_RDONLY | O_CLOEXEC)) < 0) {
        job_fail(j, -errno, "cannot open %s: %s", f->abs, strerror(errno));
        return NULL;
    }
    return f;
}

static int hash_batch(struct creator_job *j)
{
    int64_t budget = CR_BATCH_BYTES;
    while (j->next_piece < j->num_pieces && budget > 0) {
        if (atomic_load(&j->cancel))
            return job_fail(j, -ECANCELED, "Operation aborted");
        uint32_t i = j->next_piece;
        int64_t left = i + 1 < j->num_pieces ? j->piece_len
                                             : j->total - j->piece_len * (int64_t)(j->num_pieces - 1);
        if (EVP_DigestInit_ex(j->md, EVP_sha1(), NULL) != 1)
            return job_fail(j, -EIO, "SHA-1 unavailable");
        while (left > 0) {
            struct cr_file *f = current_file(j);
            if (!f)
                return j->rc;
            int64_t want = left < f->size - j->cur_off ? left : f->size - j->cur_off;
            if (want > CR_READ_CHUNK)
                want = CR_READ_CHUNK;
            int rc = read_exact(j, f, (size_t)want, j->cur_off);
            if (rc)
                return rc;
            EVP_DigestUpdate(j->md, j->rbuf, (size_t)want);
            j->cur_off += want;
            left -= want;
            budget -= want;
        }
        EVP_DigestFinal_ex(j->md, j->hashes + (size_t)i * 20, NULL);
        j->next_piece++;
    }
    return 0;
}

/* A hybrid's v1 piece ends with the zeros of the pad file that follows every
 * file but the last (put_info writes the same pads). */
static bool pad_follows(const struct creator_job *j, size_t i)
{
    return i + 1 < j->num_files && j->files[i].size % j->piece_len != 0;
}

/* v2 and hybrid: pieces never span files, so each piece is read once and
 * feeds both its merkle leaves and (hybrid) its SHA-1.  Reads are whole
 * multiples of 16 KiB but for a file's tail, so leaves never straddle. */
static int hash_batch_v2(struct creator_job *j)
{
    static const uint8_t zero[MERKLE_BLOCK];
    static const uint8_t zhash[MERKLE_HASH];
    bool hybrid = j->task->format == CREATOR_HYBRID;
    int64_t pl = j->piece_len, budget = CR_BATCH_BYTES;
    while (j->next_piece < j->num_pieces && budget > 0) {
        if (atomic_load(&j->cancel))
            return job_fail(j, -ECANCELED, "Operation aborted");
        struct cr_file *f = current_file(j);
        if (!f)
            return j->rc;
        uint32_t i = j->next_piece;
        int64_t left = f->size - j->cur_off < pl ? f->size - j->cur_off : pl, in_piece = left;
        size_t nleaves = 0;
        if (hybrid && EVP_DigestInit_ex(j->md, EVP_sha1(), NULL) != 1)
            return job_fail(j, -EIO, "SHA-1 unavailable");
        while (left > 0) {
            size_t want = (size_t)(left < CR_READ_CHUNK ? left : CR_READ_CHUNK);
            int rc = read_exact(j, f, want, j->cur_off);
            if (rc)
                return rc;
            if (merkle_leaves(j->rbuf, want, j->leaves + nleaves * MERKLE_HASH) != 0)
                return job_fail(j, -EIO, "SHA-256 unavailable");
            nleaves += merkle_blocks((int64_t)want);
            if (hybrid)
                EVP_DigestUpdate(j->md, j->rbuf, want);
            j->cur_off += (int64_t)want;
            left -= (int64_t)want;
            budget -= (int64_t)want;
        }
        if (hybrid) {
            for (int64_t z = pad_follows(j, j->cur_file) ? pl - in_piece : 0; z > 0; z -= MERKLE_BLOCK)
                EVP_DigestUpdate(j->md, zero, (size_t)(z < MERKLE_BLOCK ? z : MERKLE_BLOCK));
            EVP_DigestFinal_ex(j->md, j->hashes + (size_t)i * 20, NULL);
        }
        /* a file of one piece: its tree is only as wide as its blocks */
        size_t width = f->size <= pl ? merkle_width(nleaves) : (size_t)(pl / MERKLE_BLOCK);
        uint8_t *node = j->layer + (size_t)i * MERKLE_HASH;
        if (merkle_root(j->leaves, nleaves, width, zhash, node) != 0)
            return job_fail(j, -ENOMEM, "out of memory");
        j->next_piece++;
        if (j->cur_off < f->size)
            continue;
        size_t n = j->next_piece - f->first_piece;
        if (merkle_file_root(j->layer + (size_t)f->first_piece * MERKLE_HASH, n, pl, f->root) != 0)
            return job_fail(j, -ENOMEM, "out of memory");
    }
    return 0;
}

/* ---- building and writing (worker) -------------------------------------- */

static int put_path(struct buf *b, const char *path)
{
    int rc = benc_put_list(b);
    for (const char *p = path; rc == 0;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        rc = benc_put_str(b, p, len);
        if (!e)
            break;
        p = e + 1;
    }
    return rc ? rc : benc_put_end(b);
}

static int put_trackers(struct buf *b, const struct creator_task *t)
{
    size_t nurls = 0;
    char *first = NULL;
    for (size_t i = 0; i < t->num_trackers; i++) {
        char *u = trimmed(t->trackers[i]);
        if (!u)
            continue;
        nurls++;
        if (!first)
            first = u;
        else
            free(u);
    }
    int rc = 0;
    if (first)
        rc = benc_put_cstr(b, "announce") || benc_put_cstr(b, first) ? -ENOMEM : 0;
    free(first);
    if (rc || nurls < 2)
        return rc;
    rc = benc_put_cstr(b, "announce-list") || benc_put_list(b) ? -ENOMEM : 0;
    bool open = false;
    for (size_t i = 0; rc == 0 && i < t->num_trackers; i++) {
        if (!*t->trackers[i]) {   /* an empty element starts a new tier */
            if (open)
                rc = benc_put_end(b);
            open = false;
            continue;
        }
        char *u = trimmed(t->trackers[i]);
        if (!u)
            continue;
        if (!open)
            rc = benc_put_list(b);
        open = true;
        if (rc == 0)
            rc = benc_put_cstr(b, u);
        free(u);
    }
    if (rc == 0 && open)
        rc = benc_put_end(b);
    return rc ? rc : benc_put_end(b);
}

static int put_url_seeds(struct buf *b, const struct creator_task *t)
{
    char *seeds[CREATOR_MAX_URLS];
    size_t n = 0;
    for (size_t i = 0; i < t->num_url_seeds && n < CREATOR_MAX_URLS; i++)
        if ((seeds[n] = trimmed(t->url_seeds[i])) != NULL)
            n++;
    int rc = 0;
    if (n == 1) {
        rc = benc_put_cstr(b, "url-list") || benc_put_cstr(b, seeds[0]) ? -ENOMEM : 0;
    } else if (n > 1) {
        rc = benc_put_cstr(b, "url-list") || benc_put_list(b) ? -ENOMEM : 0;
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = benc_put_cstr(b, seeds[i]);
        if (rc == 0)
            rc = benc_put_end(b);
    }
    for (size_t i = 0; i < n; i++)
        free(seeds[i]);
    return rc;
}

/* Component k of a '/'-separated path (its length in *len), or NULL (and
 * *len = 0). */
static const char *component(const char *path, size_t k, size_t *len)
{
    *len = 0;
    for (; k > 0; k--) {
        path = strchr(path, '/');
        if (!path)
            return NULL;
        path++;
    }
    *len = strcspn(path, "/");
    return path;
}

static int put_tree_file(struct buf *b, const struct cr_file *f)
{
    int rc = benc_put_dict(b) || benc_put_str(b, "", 0) || benc_put_dict(b) ||
             benc_put_cstr(b, "length") || benc_put_int(b, f->size);
    if (rc == 0 && f->size > 0)
        rc = benc_put_cstr(b, "pieces root") || benc_put_str(b, f->root, MERKLE_HASH);
    return rc || benc_put_end(b) || benc_put_end(b) ? -ENOMEM : 0;
}

/* The file tree of files[lo, hi), which share their first `depth`
 * components; sorted by tree_cmp, so every key's files are contiguous. */
static int put_tree(struct buf *b, const struct creator_job *j, size_t lo, size_t hi, size_t depth)
{
    int rc = benc_put_dict(b);
    for (size_t i = lo; rc == 0 && i < hi;) {
        size_t len = 0, len2 = 0;
        const char *key = component(j->files[i].path, depth, &len);
        if (!key)
            return -EINVAL;   /* cannot happen: deeper files of a group have more components */
        size_t e = i + 1;
        while (e < hi) {
            const char *k2 = component(j->files[e].path, depth, &len2);
            if (!k2 || len2 != len || memcmp(k2, key, len) != 0)
                break;
            e++;
        }
        rc = benc_put_str(b, key, len);
        if (rc == 0)
            rc = key[len] ? put_tree(b, j, i, e, depth + 1) : put_tree_file(b, &j->files[i]);
        i = e;
    }
    return rc ? rc : benc_put_end(b);
}

/* A hybrid's v1 list: the same files, each but the last followed by a pad
 * file up to the next piece boundary (BEP47). */
static int put_v1_files(struct buf *b, const struct creator_job *j)
{
    int rc = benc_put_cstr(b, "files") || benc_put_list(b) ? -ENOMEM : 0;
    bool hybrid = j->task->format == CREATOR_HYBRID;
    for (size_t i = 0; rc == 0 && i < j->num_files; i++) {
        rc = benc_put_dict(b) || benc_put_cstr(b, "length") || benc_put_int(b, j->files[i].size) ||
             benc_put_cstr(b, "path") ? -ENOMEM : 0;
        if (rc == 0)
            rc = put_path(b, j->files[i].path);
        if (rc == 0)
            rc = benc_put_end(b);
        if (rc == 0 && hybrid && pad_follows(j, i)) {
            int64_t pad = j->piece_len - j->files[i].size % j->piece_len;
            char n[24];
            snprintf(n, sizeof(n), "%lld", (long long)pad);
            rc = benc_put_dict(b) || benc_put_cstr(b, "attr") || benc_put_cstr(b, "p") ||
                 benc_put_cstr(b, "length") || benc_put_int(b, pad) || benc_put_cstr(b, "path") ||
                 benc_put_list(b) || benc_put_cstr(b, ".pad") || benc_put_cstr(b, n) ||
                 benc_put_end(b) || benc_put_end(b) ? -ENOMEM : 0;
        }
    }
    return rc ? rc : benc_put_end(b);
}

static int put_info(struct buf *b, const struct creator_job *j)
{
    const struct creator_task *t = j->task;
    bool v1 = t->format != CREATOR_V2, v2 = t->format != CREATOR_V1;
    int rc = benc_put_dict(b);
    if (rc == 0 && v2) {
        rc = benc_put_cstr(b, "file tree");
        if (rc == 0 && j->multi)
            rc = put_tree(b, j, 0, j->num_files, 0);
        else if (rc == 0)   /* one file: the tree is its name */
            rc = benc_put_dict(b) || benc_put_cstr(b, j->name) || put_tree_file(b, &j->files[0]) ||
                 benc_put_end(b) ? -ENOMEM : 0;
    }
    if (rc == 0 && v1 && j->multi) {
        rc = put_v1_files(b, j);
    } else if (rc == 0 && v1) {
        rc = benc_put_cstr(b, "length") || benc_put_int(b, j->total) ? -ENOMEM : 0;
    }
    if (rc == 0 && v2)
        rc = benc_put_cstr(b, "meta version") || benc_put_int(b, 2) ? -ENOMEM : 0;
    if (rc == 0)
        rc = benc_put_cstr(b, "name") || benc_put_cstr(b, j->name) ||
             benc_put_cstr(b, "piece length") || benc_put_int(b, j->piece_len) ? -ENOMEM : 0;
    if (rc == 0 && v1)
        rc = benc_put_cstr(b, "pieces") || benc_put_str(b, j->hashes, (size_t)j->num_pieces * 20)
             ? -ENOMEM : 0;
    if (rc == 0 && t->is_private)
        rc = benc_put_cstr(b, "private") || benc_put_int(b, 1) ? -ENOMEM : 0;
    if (rc == 0 && t->source && *t->source)
        rc = benc_put_cstr(b, "source") || benc_put_cstr(b, t->source) ? -ENOMEM : 0;
    return rc ? rc : benc_put_end(b);
}

static int cmp_root(const void *a, const void *b)
{
    return memcmp((*(const struct cr_file *const *)a)->root, (*(const struct cr_file *const *)b)->root,
                  MERKLE_HASH);
}

/* `piece layers`: keyed by pieces root (sorted, equal files once), only for
 * files of more than one piece. */
static int put_piece_layers(struct buf *b, const struct creator_job *j)
{
    const struct cr_file **v = malloc((j->num_files ? j->num_files : 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < j->num_files; i++)
        if (j->files[i].size > j->piece_len)
            v[n++] = &j->files[i];
    qsort(v, n, sizeof(*v), cmp_root);
    int rc = benc_put_cstr(b, "piece layers") || benc_put_dict(b) ? -ENOMEM : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i > 0 && memcmp(v[i]->root, v[i - 1]->root, MERKLE_HASH) == 0)
            continue;
        int64_t np = v[i]->size / j->piece_len + (v[i]->size % j->piece_len != 0);
        rc = benc_put_str(b, v[i]->root, MERKLE_HASH) ||
             benc_put_str(b, j->layer + (size_t)v[i]->first_piece * MERKLE_HASH,
                          (size_t)np * MERKLE_HASH) ? -ENOMEM : 0;
    }
    free(v);
    return rc ? rc : benc_put_end(b);
}

static int build(struct creator_job *j)
{
    const struct creator_task *t = j->task;
    struct buf b = BUF_INIT;
    int rc = benc_put_dict(&b);
    if (rc == 0)
        rc = put_trackers(&b, t);
    if (rc == 0 && t->comment && *t->comment)
        rc = benc_put_cstr(&b, "comment") || benc_put_cstr(&b, t->comment) ? -ENOMEM : 0;
    if (rc == 0)
        rc = benc_put_cstr(&b, "created by") || benc_put_cstr(&b, "torrentd/" TD_VERSION) ||
             benc_put_cstr(&b, "creation date") || benc_put_int(&b, j->now) ||
             benc_put_cstr(&b, "info") ? -ENOMEM : 0;
    size_t info_start = buf_size(&b);
    if (rc == 0)
        rc = put_info(&b, j);
    size_t info_end = buf_size(&b);
    if (rc == 0 && t->format != CREATOR_V1)
        rc = put_piece_layers(&b, j);
    if (rc == 0)
        rc = put_url_seeds(&b, t);
    if (rc == 0)
        rc = benc_put_end(&b);
    if (rc) {
        buf_free(&b);
        return job_fail(j, -ENOMEM, "out of memory");
    }
    /* a v2-only torrent is known by its SHA-256 cut to 20 bytes (BEP52) */
    uint8_t ih[32];
    EVP_Digest(buf_head(&b) + info_start, info_end - info_start, ih, NULL,
               t->format == CREATOR_V2 ? EVP_sha256() : EVP_sha1(), NULL);
    hex_encode(ih, 20, j->info_hash_hex);
    j->out = buf_steal(&b, &j->out_len);   /* a copy: b still owns its block */
    buf_free(&b);
    return j->out ? 0 : job_fail(j, -ENOMEM, "out of memory");
}

/* Atomically (temp file + rename) in the target's directory, which must exist. */
static int write_out(struct creator_job *j)
{
    const char *path = j->task->torrent_file_path;
    if (!path || !*path)
        return 0;
    if (path[0] != '/')
        return job_fail(j, -EINVAL, "the torrent file path must be an absolute path");
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
        return job_fail(j, -ENOMEM, "out of memory");
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return job_fail(j, -e, "cannot write %s: %s", path, strerror(e));
    }
    size_t off = 0;
    int e = 0;
    while (off < j->out_len) {
        ssize_t w = write(fd, j->out + off, j->out_len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        off += (size_t)w;
    }
    if (e == 0 && fchmod(fd, 0644) != 0)
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e == 0 && rename(tmp, path) != 0)
        e = errno;
    if (e)
        unlink(tmp);
    free(tmp);
    return e ? job_fail(j, -e, "cannot write %s: %s", path, strerror(e)) : 0;
}

static void job_work(uv_work_t *req)
{
    struct creator_job *j = req->data;
    if (j->phase == CR_WALK) {
        if (walk(j) == 0)
            j->phase = CR_HASH;
        return;
    }
    int rc = j->task->format == CREATOR_V1 ? hash_batch(j) : hash_batch_v2(j);
    if (rc != 0 || j->next_piece < j->num_pieces)
        return;
    if (j->fd >= 0) {
        close(j->fd);
        j->fd = -1;
    }
    if (build(j) == 0 && write_out(j) == 0)
        j->phase = CR_DONE;
}

/* ---- tasks (loop thread) ------------------------------------------------- */

static void job_free(struct creator_job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->num_files; i++) {
        free(j->files[i].path);
        free(j->files[i].abs);
    }
    if (j->fd >= 0)
        close(j->fd);
    free(j->files);
    free(j->root_real);
    free(j->name);
    free(j->hashes);
    free(j->layer);
    free(j->leaves);
    free(j->rbuf);
    EVP_MD_CTX_free(j->md);
    free(j->out);
    free(j);
}

static void task_free(struct creator_task *t)
{
    free(t->source_path);
    free(t->torrent_file_path);
    free(t->comment);
    free(t->source);
    free_list(t->trackers, t->num_trackers);
    free_list(t->url_seeds, t->num_url_seeds);
    free(t->error);
    free(t->torrent);
    free(t);
}

static void unlink_task(struct creator *c, struct creator_task *t)
{
    struct creator_task **pp = &c->tasks, *prev = NULL;
    while (*pp && *pp != t) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = t->next;
    if (c->tail == t)
        c->tail = prev;
    c->num_tasks--;
    t->next = NULL;
    t->owner = NULL;
}

static void task_finish(struct creator *c, struct creator_task *t, const char *error)
{
    t->status = CREATOR_FINISHED;
    t->time_finished = now_s();
    if (error) {
        free(t->error);
        size_t n = strlen(CR_FAIL_PREFIX) + strlen(error) + 2;
        if ((t->error = malloc(n)) != NULL)
            snprintf(t->error, n, "%s%s.", CR_FAIL_PREFIX, error);
        log_msg(LOG_WARNING, "Torrent creation from \"%s\" failed: %s", t->source_path, error);
    }
    if (c->done_cb)
        c->done_cb(t, c->done_ud);
}

/* qBittorrent adds the result with skip_checking, saved where the source is. */
static void start_seeding(struct creator *c, struct creator_task *t)
{
    struct service_add_opts o = {
        .p = {.skip_checking = true, .up_limit = -1, .dl_limit = -1, .ratio_limit = -2,
              .seeding_time_limit = -2, .inactive_seeding_time_limit = -2},
        .save_path = strdup(t->source_path),
    };
    char err[256] = "";
    int rc = -ENOMEM;
    if (o.save_path) {
        char *parent = o.save_path;
        size_t n = strlen(parent);
        while (n > 1 && parent[n - 1] == '/')
            parent[--n] = 0;
        char *slash = strrchr(parent, '/');
        slash[slash == parent ? 1 : 0] = 0;
        rc = service_add_torrent(c->s, t->torrent, t->torrent_len, &o, NULL, NULL, err, sizeof err);
    }
    service_add_opts_free(&o);
    if (rc == -EEXIST)
        return;   /* already present: logged, nothing to seed anew */
    if (rc == -EBADMSG)
        log_msg(LOG_WARNING, "Created torrent cannot be seeded: %s", err);
    else if (rc != 0)
        log_msg(LOG_WARNING, "Created torrent cannot be seeded (%d)", rc);
    if (rc != 0)
        t->error = strdup("Failed to start seeding.");
}

static void kick(struct creator *c);

/* Session shutdown: no new batches, no new tasks, nothing added to the session. */
static bool stopping(const struct creator *c) { return c->s && c->s->shutting_down; }

static void job_after(uv_work_t *req, int status)
{
    struct creator_job *j = req->data;
    struct creator *c = j->c;
    struct creator_task *t = j->task;
    if (!c || !t->owner) {            /* creator freed or task deleted meanwhile */
        if (c)
            c->job = NULL;
        task_free(t);
        job_free(j);
        if (c)
            kick(c);
        return;
    }
    if (status == 0 && j->rc == 0 && j->phase != CR_DONE && stopping(c))
        j->rc = job_fail(j, -ECANCELED, "Operation aborted");
    if (status == 0 && j->rc == 0 && j->phase != CR_DONE) {
        if (j->num_pieces)
            t->progress = (int)((uint64_t)j->next_piece * 100 / j->num_pieces);
        if (uv_queue_work(c->loop, &j->req, job_work, job_after) == 0)
            return;
        j->rc = job_fail(j, -EIO, "cannot queue work");
    }
    c->job = NULL;
    t->job = NULL;
    if (status != 0 || j->rc != 0) {
        task_finish(c, t, status != 0 ? "Operation aborted" : j->err);
    } else {
        t->torrent = j->out;
        t->torrent_len = j->out_len;
        j->out = NULL;
        t->result_piece_size = j->piece_len;
        memcpy(t->info_hash_hex, j->info_hash_hex, sizeof(t->info_hash_hex));
        t->progress = 100;
        log_msg(LOG_INFO, "Torrent created from \"%s\" (%s)", t->source_path, t->info_hash_hex);
        if (t->start_seeding && c->s && !stopping(c))
            start_seeding(c, t);
        task_finish(c, t, NULL);
    }
    job_free(j);
    kick(c);
}

static void task_start(struct creator *c, struct creator_task *t)
{
    t->status = CREATOR_RUNNING;
    t->time_started = now_s();
    t->progress = 0;
    struct creator_job *j = calloc(1, sizeof(*j));
    if (!j) {
        task_finish(c, t, "out of memory");
        return;
    }
    atomic_init(&j->cancel, false);
    j->c = c;
    j->task = t;
    j->fd = -1;
    j->now = now_s();
    j->req.data = j;
    if (uv_queue_work(c->loop, &j->req, job_work, job_after) != 0) {
        free(j);
        task_finish(c, t, "cannot queue work");
        return;
    }
    c->job = j;
    t->job = j;
}

/* Starts the oldest queued task when nothing runs. */
static void kick(struct creator *c)
{
    while (!c->job && !stopping(c)) {
        struct creator_task *t = c->tasks;
        while (t && t->status != CREATOR_QUEUED)
            t = t->next;
        if (!t)
            return;
        task_start(c, t);
    }
}

static void make_id(struct creator *c, char out[37])
{
    for (;;) {
        uint8_t u[16];
        if (RAND_bytes(u, sizeof(u)) != 1) {
            for (size_t i = 0; i < sizeof(u); i++)
                u[i] = (uint8_t)(rand() >> 7);
        }
        u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
        u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
        char h[33];
        hex_encode(u, 16, h);
        snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
        if (!creator_find(c, out))
            return;
    }
}

int creator_new(uv_loop_t *loop, struct session *s, struct creator **out)
{
    if (!loop || !out)
        return -EINVAL;
    struct creator *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    c->s = s;
    *out = c;
    return 0;
}

void creator_free(struct creator *c)
{
    if (!c)
        return;
    if (c->job) {
        atomic_store(&c->job->cancel, true);
        c->job->c = NULL;
    }
    while (c->tasks) {
        struct creator_task *t = c->tasks;
        unlink_task(c, t);
        if (!t->job)
            task_free(t);
    }
    free(c);
}

int creator_add(struct creator *c, const struct creator_params *p, struct creator_task **out)
{
    if (!c || !p)
        return -EINVAL;
    /* like qBittorrent: make room by forgetting the oldest finished tasks */
    for (struct creator_task *t = c->tasks; t && c->num_tasks >= CREATOR_MAX_TASKS;) {
        struct creator_task *next = t->next;
        if (t->status == CREATOR_FINISHED) {
            unlink_task(c, t);
            task_free(t);
        }
        t = next;
    }
    if (c->num_tasks >= CREATOR_MAX_TASKS)
        return -EBUSY;
    struct creator_task *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->source_path = strdup(p->source_path ? p->source_path : "");
    t->torrent_file_path = dup_or_null(p->torrent_file_path && *p->torrent_file_path ? p->torrent_file_path : NULL);
    t->comment = dup_or_null(p->comment);
    t->source = dup_or_null(p->source);
    int rc = split_bar(p->trackers, &t->trackers, &t->num_trackers);
    if (rc == 0)
        rc = split_bar(p->url_seeds, &t->url_seeds, &t->num_url_seeds);
    if (rc || !t->source_path || (p->torrent_file_path && *p->torrent_file_path && !t->torrent_file_path) ||
        (p->comment && !t->comment) || (p->source && !t->source)) {
        task_free(t);
        return -ENOMEM;
    }
    t->format = p->format;
    t->piece_size = p->piece_size;
    t->optimize_alignment = p->optimize_alignment;
    t->padded_file_size_limit = p->padded_file_size_limit;
    t->is_private = p->is_private;
    t->start_seeding = p->start_seeding;
    t->status = CREATOR_QUEUED;
    t->time_added = now_s();
    t->time_started = t->time_finished = -1;
    t->result_piece_size = p->piece_size;
    t->owner = c;
    t->seq = c->next_seq++;
    make_id(c, t->id);
    if (c->tail)
        c->tail->next = t;
    else
        c->tasks = t;
    c->tail = t;
    c->num_tasks++;
    if (out)
        *out = t;
    kick(c);
    return 0;
}

struct creator_task *creator_find(struct creator *c, const char *id)
{
    if (!c || !id)
        return NULL;
    for (struct creator_task *t = c->tasks; t; t = t->next)
        if (strcmp(t->id, id) == 0)
            return t;
    return NULL;
}

int creator_delete(struct creator *c, const char *id)
{
    struct creator_task *t = creator_find(c, id);
    if (!t)
        return -ENOENT;
    unlink_task(c, t);
    if (t->job)
        atomic_store(&t->job->cancel, true);   /* freed when the job returns */
    else
        task_free(t);
    return 0;
}

size_t creator_list(struct creator *c, void (*fn)(const struct creator_task *t, void *ud), void *ud)
{
    size_t n = 0;
    if (!c)
        return 0;
    for (int pass = 0; pass < 2; pass++)
        for (struct creator_task *t = c->tasks; t; t = t->next)
            if ((t->status == CREATOR_FINISHED) == (pass == 1)) {
                if (fn)
                    fn(t, ud);
                n++;
            }
    return n;
}

void creator_set_done_cb(struct creator *c, void (*cb)(struct creator_task *t, void *ud), void *ud)
{
    c->done_cb = cb;
    c->done_ud = ud;
}
