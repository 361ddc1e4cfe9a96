#include "bt/metainfo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "bt/bencode.h"
#include "bt/merkle.h"
#include "util/buf.h"
#include "util/hex.h"
#include "util/hmap.h"
#include "util/log.h"
#include "util/path.h"

#define MI_PIECE_LENGTH_MAX (256LL << 20)
#define MI_PATH_MAX 4000        /* leaves room for a save path and " (n)" */
#define MI_URL_MAX 4096
#define MI_URLS_MAX 1000        /* trackers, and separately web seeds */
#define MI_URLS_EXAMINED 10000  /* entries looked at, so duplicates cannot cost O(n^2) */
#define MI_COMMENT_MAX 65536
#define MI_CREATED_BY_MAX 1024
#define MI_EXT_MAX 32           /* longest suffix treated as an extension */
#define MI_TREE_DEPTH 64        /* directory nesting in a v2 file tree */

struct mi_err {
    char *buf;
    size_t len;
};

static int mi_fail(struct mi_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int mi_fail(struct mi_err *e, int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (e->buf && e->len)
        snprintf(e->buf, e->len, "%s", msg);
    log_debug("metainfo: %s", msg);
    return code;
}

/* ---- the set of paths for resolving duplicates -------------------------- */

/* util/hmap keyed by path (the paths come from the untrusted .torrent, so
 * its keyed hash matters here).  The value is a tag, never NULL:
 * next " (n)" to try for this name << 1 | whether the set owns the key. */
#define PSET_TAG(next, owned) ((void *)(uintptr_t)((uintptr_t)(next) << 1 | (owned)))
#define PSET_NEXT(v) ((uint32_t)((uintptr_t)(v) >> 1))

static int pset_add(struct hmap *ps, const char *key, bool owned)
{
    int rc = hmap_put(ps, key, strlen(key), PSET_TAG(1, owned), NULL);
    if (rc && owned)
        free((char *)key);
    return rc;
}

static void pset_free(struct hmap *ps)
{
    size_t it = 0;
    for (struct hmap_ent *e; (e = hmap_next(ps, &it));)
        if ((uintptr_t)e->val & 1)
            free((char *)e->key);
    hmap_free(ps);
}

/* "dir/name.ext" -> "dir/name (k).ext", keeping the last component <= 255 bytes. */
static char *dup_name(const char *path, uint32_t k)
{
    const char *slash = strrchr(path, '/');
    size_t comp = slash ? (size_t)(slash + 1 - path) : 0;
    size_t len = strlen(path);
    const char *dot = strrchr(path + comp, '.');
    size_t ext = dot && dot != path + comp && len - (size_t)(dot - path) <= MI_EXT_MAX
                     ? len - (size_t)(dot - path) : 0;
    char suffix[24];
    int sl = snprintf(suffix, sizeof suffix, " (%" PRIu32 ")", k);
    size_t stem = len - ext - comp;
    if (stem + (size_t)sl + ext > 255) {
        stem = 255 - (size_t)sl - ext;
        while (stem > 0 && ((uint8_t)path[comp + stem] & 0xc0) == 0x80)
            stem--;
    }
    char *o = malloc(comp + stem + (size_t)sl + ext + 1);
    if (!o)
        return NULL;
    memcpy(o, path, comp + stem);
    memcpy(o + comp + stem, suffix, (size_t)sl);
    memcpy(o + comp + stem + sl, path + len - ext, ext);
    o[comp + stem + sl + ext] = 0;
    return o;
}

/* Renames files whose path equals an earlier file's path or any directory
 * of the torrent, so every file can be created. */
static int resolve_duplicates(struct bt_metainfo *mi, struct mi_err *err)
{
    struct hmap ps = HMAP_INIT;
    int rc = 0;
    for (size_t i = 0; i < mi->num_files && rc == 0; i++) {
        const char *p = mi->files[i].path;
        for (const char *s = strchr(p, '/'); s && rc == 0; s = strchr(s + 1, '/')) {
            size_t l = (size_t)(s - p);
            if (hmap_get(&ps, p, l))
                continue;
            char *d = strndup(p, l);
            rc = d ? pset_add(&ps, d, true) : -ENOMEM;
        }
    }
    for (size_t i = 0; i < mi->num_files && rc == 0; i++) {
        struct bt_file *f = &mi->files[i];
        void **e = hmap_find(&ps, f->path, strlen(f->path));
        if (!e) {
            rc = pset_add(&ps, f->path, false);
            continue;
        }
        /* Each candidate tried is either taken (bounded by the set size) or
         * accepted, so this ends; `next` makes many equal names linear. */
        for (uint32_t k = PSET_NEXT(*e);; k++) {
            char *cand = dup_name(f->path, k);
            if (!cand) {
                rc = -ENOMEM;
                break;
            }
            if (hmap_get(&ps, cand, strlen(cand))) {
                free(cand);
                continue;
            }
            *e = PSET_TAG(k + 1, (uintptr_t)*e & 1);
            log_debug("metainfo: duplicate path '%s' renamed to '%s'", f->path, cand);
            free(f->path);
            f->path = cand;
            rc = pset_add(&ps, cand, false);   /* may move e: not used after */
            break;
        }
    }
    pset_free(&ps);
    return rc == -ENOMEM ? mi_fail(err, rc, "out of memory") : rc;
}

/* ---- info dict ---------------------------------------------------------- */

/* Appends one sanitized component ("/" first unless it is the first one).
 * Returns 1 if appended, 0 if dropped, or -ENOMEM. */
static int append_component(struct buf *b, const uint8_t *s, size_t len)
{
    int dropped;
    char *c = path_sanitize_component((const char *)s, len, &dropped);
    if (!c)
        return dropped ? 0 : -ENOMEM;
    int rc = 0;
    if (buf_size(b))
        rc = buf_append_u8(b, '/');
    if (rc == 0)
        rc = buf_append_str(b, c);
    free(c);
    return rc ? rc : 1;
}

static bool is_str_list(const struct benc *l)
{
    if (!l || l->type != BENC_LIST)
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].type != BENC_STR)
            return false;
    return true;
}

static int parse_file(struct bt_metainfo *mi, const struct benc *fd, size_t idx, struct mi_err *err)
{
    struct bt_file *f = &mi->files[idx];
    if (fd->type != BENC_DICT)
        return mi_fail(err, -EPROTO, "file %zu is not a dictionary", idx);
    int64_t length;
    if (!benc_dict_int(fd, "length", &length))
        return mi_fail(err, -EPROTO, "file %zu has no length", idx);
    if (length < 0)
        return mi_fail(err, -EPROTO, "file %zu has negative length %" PRId64, idx, length);
    if (length > INT64_MAX - mi->total_size)
        return mi_fail(err, -EPROTO, "total size overflows");
    f->offset = mi->total_size;
    f->length = length;
    mi->total_size += length;

    const struct benc *path = benc_dict_get(fd, "path.utf-8");
    if (!is_str_list(path) || path->n == 0)
        path = benc_dict_get(fd, "path");
    if (!path || path->type != BENC_LIST)
        return mi_fail(err, -EPROTO, "file %zu has no path list", idx);
    if (!is_str_list(path))
        return mi_fail(err, -EPROTO, "file %zu has a non-string path component", idx);

    size_t alen;
    const uint8_t *attr = benc_dict_str(fd, "attr", &alen);
    if (attr) {
        f->pad = memchr(attr, 'p', alen) != NULL;
        f->executable = memchr(attr, 'x', alen) != NULL;
    }
    /* Older creators mark padding by name only: ".pad/N" and BitComet's
     * "_____padding_file_N_..." */
    if (path->n >= 1 && benc_str_eq(&path->items[0], ".pad"))
        f->pad = true;
    if (path->n >= 1) {
        const struct benc *last = &path->items[path->n - 1];
        static const char bc[] = "_____padding_file_";
        if (last->slen >= sizeof bc - 1 && memcmp(last->s, bc, sizeof bc - 1) == 0)
            f->pad = true;
    }

    struct buf b = BUF_INIT;
    int rc = buf_append_str(&b, mi->name);
    int kept = 0;
    for (size_t i = 0; i < path->n && rc >= 0; i++) {
        rc = append_component(&b, path->items[i].s, path->items[i].slen);
        kept += rc > 0;
    }
    if (rc >= 0 && kept == 0)
        rc = buf_append_str(&b, "/_");
    if (rc < 0) {
        buf_free(&b);
        return mi_fail(err, -ENOMEM, "out of memory");
    }
    if (buf_size(&b) > MI_PATH_MAX) {
        buf_free(&b);
        return mi_fail(err, -EPROTO, "file %zu: path longer than %d bytes", idx, MI_PATH_MAX);
    }
    size_t n;
    f->path = (char *)buf_steal(&b, &n);
    buf_free(&b);
    return f->path ? 0 : mi_fail(err, -ENOMEM, "out of memory");
}

static int parse_name(struct bt_metainfo *mi, const struct benc *info)
{
    size_t len;
    const uint8_t *s = benc_dict_str(info, "name.utf-8", &len);
    if (!s || len == 0)
        s = benc_dict_str(info, "name", &len);
    int dropped = 1;
    if (s)
        mi->name = path_sanitize_component((const char *)s, len, &dropped);
    if (!mi->name && dropped)
        mi->name = strdup(mi->info_hash_hex);
    return mi->name ? 0 : -ENOMEM;
}

static int parse_v2(struct bt_metainfo *mi, const struct benc *info, const struct benc *layers,
                    bool whole, struct mi_err *err);

static int parse_v1_files(struct bt_metainfo *mi, const struct benc *info,
                          const struct benc *pieces, struct mi_err *err)
{
    int rc;
    const struct benc *files = benc_dict_get(info, "files");
    if (files) {
        if (files->type != BENC_LIST)
            return mi_fail(err, -EPROTO, "files is not a list");
        if (files->n == 0)
            return mi_fail(err, -EPROTO, "empty file list");
        mi->multi_file = true;
        mi->files = calloc(files->n, sizeof *mi->files);
        if (!mi->files)
            return mi_fail(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < files->n; i++) {
            mi->num_files = i + 1;   /* so free() sees a partly filled entry */
            rc = parse_file(mi, &files->items[i], i, err);
            if (rc)
                return rc;
        }
    } else {
        int64_t length;
        if (!benc_dict_int(info, "length", &length))
            return mi_fail(err, -EPROTO, "neither length nor files in info");
        if (length < 0)
            return mi_fail(err, -EPROTO, "negative length %" PRId64, length);
        mi->files = calloc(1, sizeof *mi->files);
        if (!mi->files || !(mi->files[0].path = strdup(mi->name)))
            return mi_fail(err, -ENOMEM, "out of memory");
        mi->num_files = 1;
        mi->files[0].length = length;
        mi->total_size = length;
    }

    if (mi->total_size == 0)
        return mi_fail(err, -EPROTO, "torrent has no data");
    int64_t pl = mi->piece_length;
    int64_t np = mi->total_size / pl + (mi->total_size % pl != 0);
    if ((size_t)np != pieces->slen / 20 || np > (int64_t)UINT32_MAX)
        return mi_fail(err, -EPROTO, "%zu piece hashes for %" PRId64 " pieces",
                       pieces->slen / 20, np);
    mi->num_pieces = (uint32_t)np;
    mi->piece_hashes = malloc(pieces->slen);
    if (!mi->piece_hashes)
        return mi_fail(err, -ENOMEM, "out of memory");
    memcpy(mi->piece_hashes, pieces->s, pieces->slen);
    return 0;
}

/* `layers` is the outer dict's `piece layers` (NULL for a bare info dict). */
static int parse_info_node(struct bt_metainfo *mi, const struct benc *info,
                           const struct benc *layers, bool whole, struct mi_err *err)
{
    if (!info || info->type != BENC_DICT)
        return mi_fail(err, -EPROTO, "info is not a dictionary");
    mi->info_raw = malloc(info->raw_len);
    if (!mi->info_raw)
        return mi_fail(err, -ENOMEM, "out of memory");
    memcpy(mi->info_raw, info->raw, info->raw_len);
    mi->info_len = info->raw_len;
    SHA1(info->raw, info->raw_len, mi->info_hash);
    hex_encode(mi->info_hash, 20, mi->info_hash_hex);

    int64_t ver = 1;
    bool has_ver = benc_dict_int(info, "meta version", &ver);
    const struct benc *pieces = benc_dict_get_type(info, "pieces", BENC_STR);
    if (has_ver && ver != 1 && ver != 2)
        return mi_fail(err, -ENOTSUP, "unknown meta version %" PRId64, ver);
    mi->v2 = has_ver && ver == 2;
    mi->hybrid = mi->v2 && pieces;
    if (mi->v2) {
        if (EVP_Digest(info->raw, info->raw_len, mi->info_hash_v2, NULL, EVP_sha256(), NULL) != 1)
            return mi_fail(err, -EIO, "SHA-256 unavailable");
        hex_encode(mi->info_hash_v2, 32, mi->info_hash_v2_hex);
    }
    if (mi->v2 && !mi->hybrid) {
        /* BEP52: v2 peers and trackers use the v2 hash cut to 20 bytes. */
        memcpy(mi->info_hash, mi->info_hash_v2, 20);
        hex_encode(mi->info_hash, 20, mi->info_hash_hex);
    }

    int64_t pl;
    if (!benc_dict_int(info, "piece length", &pl))
        return mi_fail(err, -EPROTO, "missing piece length");
    if (pl <= 0 || pl > MI_PIECE_LENGTH_MAX)
        return mi_fail(err, -EPROTO, "invalid piece length %" PRId64, pl);
    mi->piece_length = pl;
    if (!pieces && !mi->v2)
        return mi_fail(err, -EPROTO, "missing pieces");
    if (pieces && pieces->slen % 20)
        return mi_fail(err, -EPROTO, "pieces length %zu is not a multiple of 20", pieces->slen);

    int64_t priv;
    mi->is_private = benc_dict_int(info, "private", &priv) && priv == 1;
    if (benc_dict_get_type(info, "ssl-cert", BENC_STR) && !(mi->ssl_cert = benc_dict_strdup(info, "ssl-cert")))
        return mi_fail(err, -ENOMEM, "out of memory");

    int rc = parse_name(mi, info);
    if (rc)
        return mi_fail(err, rc, "out of memory");
    if (pieces && (rc = parse_v1_files(mi, info, pieces, err)) != 0)
        return rc;
    if (mi->v2 && (rc = parse_v2(mi, info, layers, whole, err)) != 0)
        return rc;
    return mi->multi_file ? resolve_duplicates(mi, err) : 0;
}

/* ---- BitTorrent v2 (BEP52) ---------------------------------------------- */

struct v2_file {
    char *rel;          /* sanitized components joined by '/', without the torrent name */
    int64_t length;
    uint8_t root[32];
    bool executable;
};

struct v2_tree {
    struct v2_file *v;
    size_t n, cap;
    int64_t total;
    bool top_file;      /* the tree is one file at its top level: a single-file torrent */
};

static void v2_tree_free(struct v2_tree *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].rel);
    free(t->v);
}

/* A key that escapes its directory is an attack, not a name to repair. */
static int tree_key(const struct benc *k, char **out, struct mi_err *err)
{
    const uint8_t *s = k->s;
    size_t n = k->slen;
    if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') ||
        memchr(s, '/', n) || memchr(s, '\\', n) || memchr(s, 0, n))
        return mi_fail(err, -EPROTO, "file tree: invalid name '%.*s'", (int)(n > 64 ? 64 : n),
                       (const char *)s);
    int dropped;
    *out = path_sanitize_component((const char *)s, n, &dropped);
    if (*out)
        return 0;
    return dropped ? mi_fail(err, -EPROTO, "file tree: unusable name")
                   : mi_fail(err, -ENOMEM, "out of memory");
}

/* Takes rel. */
static int tree_file(struct v2_tree *t, const struct benc *leaf, char *rel, struct mi_err *err)
{
    int64_t length;
    if (!benc_dict_int(leaf, "length", &length) || length < 0) {
        free(rel);
        return mi_fail(err, -EPROTO, "file tree: file without a valid length");
    }
    size_t rlen = 0;
    const uint8_t *root = benc_dict_str(leaf, "pieces root", &rlen);
    if (length > 0 && (!root || rlen != 32)) {
        free(rel);
        return mi_fail(err, -EPROTO, "file tree: pieces root of %zu bytes (want 32)",
                       root ? rlen : 0);
    }
    if (length > INT64_MAX - t->total) {
        free(rel);
        return mi_fail(err, -EPROTO, "total size overflows");
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct v2_file *v = realloc(t->v, cap * sizeof *v);
        if (!v) {
            free(rel);
            return mi_fail(err, -ENOMEM, "out of memory");
        }
        t->v = v;
        t->cap = cap;
    }
    struct v2_file *f = &t->v[t->n++];
    *f = (struct v2_file){.rel = rel, .length = length};
    if (length > 0)
        memcpy(f->root, root, 32);
    size_t alen;
    const uint8_t *attr = benc_dict_str(leaf, "attr", &alen);
    f->executable = attr && memchr(attr, 'x', alen);
    t->total += length;
    return 0;
}

/* Depth first in key order: the file order BEP52 defines. */
static int walk_tree(struct v2_tree *t, const struct benc *node, const char *prefix, int depth,
                     struct mi_err *err)
{
    if (depth >= MI_TREE_DEPTH)
        return mi_fail(err, -EPROTO, "file tree nested deeper than %d levels", MI_TREE_DEPTH);
    for (size_t i = 0; i + 1 < node->n; i += 2) {
        const struct benc *v = &node->items[i + 1];
        if (v->type != BENC_DICT)
            return mi_fail(err, -EPROTO, "file tree: an entry is not a dictionary");
        char *c;
        int rc = tree_key(&node->items[i], &c, err);
        if (rc)
            return rc;
        char *rel = NULL;
        if (asprintf(&rel, "%s%s%s", prefix, *prefix ? "/" : "", c) < 0)
            rel = NULL;
        free(c);
        if (!rel)
            return mi_fail(err, -ENOMEM, "out of memory");
        if (strlen(rel) > MI_PATH_MAX) {
            free(rel);
            return mi_fail(err, -EPROTO, "file tree: path longer than %d bytes", MI_PATH_MAX);
        }
        const struct benc *leaf = benc_dict_get(v, "");
        if (leaf) {
            if (v->n != 2 || leaf->type != BENC_DICT) {
                free(rel);
                return mi_fail(err, -EPROTO, "file tree: a file entry with other keys");
            }
            t->top_file = depth == 0 && node->n == 2;
            rc = tree_file(t, leaf, rel, err);
        } else {
            rc = walk_tree(t, v, rel, depth + 1, err);
            free(rel);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static char *v2_path(const struct bt_metainfo *mi, const struct v2_file *f)
{
    char *p = NULL;
    if (!mi->multi_file)
        return strdup(f->rel);
    return asprintf(&p, "%s/%s", mi->name, f->rel) < 0 ? NULL : p;
}

/* A hybrid: the v1 list, pad files aside, must be the file tree. */
static int check_hybrid(struct bt_metainfo *mi, const struct v2_tree *t, struct mi_err *err)
{
    if (!mi->multi_file && !t->top_file)
        return mi_fail(err, -EPROTO, "hybrid: v1 is single-file, the file tree is not");
    size_t k = 0;
    for (size_t i = 0; i < mi->num_files; i++) {
        struct bt_file *f = &mi->files[i];
        if (f->pad)
            continue;
        if (k >= t->n)
            return mi_fail(err, -EPROTO, "hybrid: v1 has more files than the file tree");
        const struct v2_file *g = &t->v[k++];
        char *want = mi->multi_file ? v2_path(mi, g) : strdup(f->path);
        if (!want)
            return mi_fail(err, -ENOMEM, "out of memory");
        bool same = strcmp(want, f->path) == 0 && g->length == f->length;
        free(want);
        if (!same)
            return mi_fail(err, -EPROTO, "hybrid: v1 file %zu differs from the file tree", i);
        if (f->length > 0 && f->offset % mi->piece_length)
            return mi_fail(err, -EPROTO, "hybrid: file %zu does not start on a piece boundary", i);
        memcpy(f->pieces_root, g->root, 32);
    }
    if (k != t->n)
        return mi_fail(err, -EPROTO, "hybrid: the file tree has more files than v1");
    return 0;
}

/* v2-only: the tree's files, each followed by a pad up to the next piece
 * boundary except the last, so pieces map to files as in a hybrid. */
static int layout_v2(struct bt_metainfo *mi, const struct v2_tree *t, struct mi_err *err)
{
    mi->multi_file = !(t->top_file && t->n == 1);
    mi->files = calloc(2 * t->n, sizeof *mi->files);
    if (!mi->files)
        return mi_fail(err, -ENOMEM, "out of memory");
    int64_t pl = mi->piece_length;
    for (size_t k = 0; k < t->n; k++) {
        struct bt_file *f = &mi->files[mi->num_files++];
        const struct v2_file *g = &t->v[k];
        if (!(f->path = v2_path(mi, g)))
            return mi_fail(err, -ENOMEM, "out of memory");
        f->length = g->length;
        f->offset = mi->total_size;
        f->executable = g->executable;
        memcpy(f->pieces_root, g->root, 32);
        mi->total_size += g->length;
        int64_t tail = g->length % pl;
        if (k + 1 == t->n || tail == 0)
            continue;
        if (pl - tail > INT64_MAX - mi->total_size)
            return mi_fail(err, -EPROTO, "total size overflows");
        struct bt_file *pad = &mi->files[mi->num_files++];
        if (asprintf(&pad->path, "%s/.pad/%" PRId64, mi->name, pl - tail) < 0) {
            pad->path = NULL;
            return mi_fail(err, -ENOMEM, "out of memory");
        }
        pad->length = pl - tail;
        pad->offset = mi->total_size;
        pad->pad = true;
        mi->total_size += pad->length;
    }
    if (mi->total_size == 0)
        return mi_fail(err, -EPROTO, "torrent has no data");
    int64_t np = mi->total_size / pl + (mi->total_size % pl != 0);
    if (np > (int64_t)UINT32_MAX)
        return mi_fail(err, -EPROTO, "too many pieces");
    mi->num_pieces = (uint32_t)np;
    return 0;
}

static int cmp_layer_key(const void *a, const void *b)
{
    const struct benc *x = *(const struct benc *const *)a, *y = *(const struct benc *const *)b;
    return memcmp(x->s, y->s, 32);
}

/* Fills mi->piece_layers from the outer `piece layers` dict, checking each
 * layer against its file's pieces root.  Files of one piece need none. */
static int attach_layers(struct bt_metainfo *mi, const struct benc *layers, struct mi_err *err)
{
    int64_t pl = mi->piece_length;
    const struct benc **keys = NULL;
    size_t nkeys = 0;
    if (layers && layers->type == BENC_DICT && layers->n) {
        keys = calloc(layers->n / 2, sizeof *keys);
        if (!keys)
            return mi_fail(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i + 1 < layers->n; i += 2)
            if (layers->items[i].slen == 32 && layers->items[i + 1].type == BENC_STR)
                keys[nkeys++] = &layers->items[i];
        qsort(keys, nkeys, sizeof *keys, cmp_layer_key);
    }
    mi->piece_layers = calloc(mi->num_pieces, 32);
    int rc = mi->piece_layers ? 0 : mi_fail(err, -ENOMEM, "out of memory");
    bool missing = false;
    for (size_t i = 0; rc == 0 && !missing && i < mi->num_files; i++) {
        const struct bt_file *f = &mi->files[i];
        if (f->pad || f->length == 0)
            continue;
        uint8_t *dst = mi->piece_layers + (size_t)(f->offset / pl) * 32;
        int64_t n = f->length / pl + (f->length % pl != 0);
        if (n == 1) {
            memcpy(dst, f->pieces_root, 32);
            continue;
        }
        struct benc key = {.s = f->pieces_root, .slen = 32};
        const struct benc *kp = &key;
        const struct benc **hit = nkeys ? bsearch(&kp, keys, nkeys, sizeof *keys, cmp_layer_key) : NULL;
        if (!hit) {
            missing = true;
            break;
        }
        const struct benc *layer = *hit + 1;   /* the value follows its key */
        uint8_t root[32];
        if (layer->slen != (size_t)n * 32)
            rc = mi_fail(err, -EPROTO, "piece layer of file %zu has %zu bytes (want %" PRId64 ")",
                         i, layer->slen, n * 32);
        else if ((rc = merkle_file_root(layer->s, (size_t)n, pl, root)) != 0)
            rc = mi_fail(err, rc == -ENOMEM ? rc : -EPROTO, "cannot hash a piece layer");
        else if (memcmp(root, f->pieces_root, 32) != 0)
            rc = mi_fail(err, -EPROTO, "piece layer of file %zu does not match its pieces root", i);
        else
            memcpy(dst, layer->s, layer->slen);
    }
    free(keys);
    if (rc == 0 && missing) {
        free(mi->piece_layers);
        mi->piece_layers = NULL;
        if (!mi->hybrid)
            rc = mi_fail(err, -EPROTO, "missing piece layers");
        else
            log_debug("metainfo: hybrid without piece layers: used as v1 only");
    }
    return rc;
}

/* The v2 half of an info dict (meta version 2).  `layers` is the outer
 * dict's `piece layers` (NULL for a bare info dict). */
static int parse_v2(struct bt_metainfo *mi, const struct benc *info, const struct benc *layers,
                    bool whole, struct mi_err *err)
{
    const struct benc *ft = benc_dict_get_type(info, "file tree", BENC_DICT);
    if (!ft)
        return mi_fail(err, -EPROTO, "meta version 2 without a file tree");
    int64_t pl = mi->piece_length;
    if (pl < MERKLE_BLOCK || (pl & (pl - 1)))
        return mi_fail(err, -EPROTO, "v2 piece length %" PRId64 " is not a power of two >= 16 KiB", pl);
    struct v2_tree t = {0};
    int rc = walk_tree(&t, ft, "", 0, err);
    if (rc == 0 && t.n == 0)
        rc = mi_fail(err, -EPROTO, "empty file tree");
    if (rc == 0)
        rc = mi->hybrid ? check_hybrid(mi, &t, err) : layout_v2(mi, &t, err);
    v2_tree_free(&t);
    if (rc)
        return rc;
    if (!whole)
        return 0;   /* layers come later, from a .torrent or peers (bt/layers) */
    return attach_layers(mi, layers, err);
}

/* ---- trackers, web seeds, descriptive fields ---------------------------- */

/* A trimmed copy of a URL string, or NULL if it is empty, too long or has
 * control characters.  Sets *oom on allocation failure. */
static char *clean_url(const struct benc *s, bool *oom)
{
    if (!s || s->type != BENC_STR)
        return NULL;
    const uint8_t *p = s->s;
    size_t n = s->slen;
    while (n && (p[0] == ' ' || p[0] == '\t')) { p++; n--; }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if (n == 0 || n > MI_URL_MAX)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return NULL;
    char *u = strndup((const char *)p, n);
    if (!u)
        *oom = true;
    return u;
}

static bool url_seen(const struct bt_metainfo *mi, const char *u)
{
    for (size_t t = 0; t < mi->num_tiers; t++)
        for (size_t i = 0; i < mi->tiers[t].num_urls; i++)
            if (strcmp(mi->tiers[t].urls[i], u) == 0)
                return true;
    return false;
}

static size_t count_urls(const struct bt_metainfo *mi)
{
    size_t n = 0;
    for (size_t t = 0; t < mi->num_tiers; t++)
        n += mi->tiers[t].num_urls;
    return n;
}

/* Adds a tier from a list of URL strings (or a single string node).
 * Empty tiers are not kept.  Returns 0 or -ENOMEM. */
static int add_tier(struct bt_metainfo *mi, const struct benc *const *urls, size_t n,
                    size_t *budget)
{
    struct bt_tier *tiers = realloc(mi->tiers, (mi->num_tiers + 1) * sizeof *tiers);
    if (!tiers)
        return -ENOMEM;
    mi->tiers = tiers;
    struct bt_tier *t = &tiers[mi->num_tiers];
    *t = (struct bt_tier){0};
    t->urls = calloc(n ? n : 1, sizeof *t->urls);
    if (!t->urls)
        return -ENOMEM;
    mi->num_tiers++;   /* visible to url_seen() and free() while filling */
    size_t total = count_urls(mi);
    for (size_t i = 0; i < n && total < MI_URLS_MAX && *budget > 0; i++) {
        (*budget)--;
        bool oom = false;
        char *u = clean_url(urls[i], &oom);
        if (oom)
            return -ENOMEM;
        if (!u)
            continue;
        if (url_seen(mi, u)) {
            free(u);
            continue;
        }
        t->urls[t->num_urls++] = u;
        total++;
    }
    if (t->num_urls == 0) {
        free(t->urls);
        mi->num_tiers--;
    }
    return 0;
}

static int parse_trackers(struct bt_metainfo *mi, const struct benc *root)
{
    const struct benc *al = benc_dict_get_type(root, "announce-list", BENC_LIST);
    size_t budget = MI_URLS_EXAMINED;
    for (size_t t = 0; al && t < al->n && budget > 0; t++) {
        const struct benc *tier = &al->items[t];
        if (tier->type != BENC_LIST || tier->n == 0)
            continue;
        const struct benc **urls = calloc(tier->n, sizeof *urls);
        if (!urls)
            return -ENOMEM;
        for (size_t i = 0; i < tier->n; i++)
            urls[i] = &tier->items[i];
        int rc = add_tier(mi, urls, tier->n, &budget);
        free(urls);
        if (rc)
            return rc;
    }
    /* BEP12: announce is only used when there is no usable announce-list. */
    if (mi->num_tiers == 0) {
        const struct benc *a = benc_dict_get(root, "announce");
        budget = 1;
        if (a)
            return add_tier(mi, &a, 1, &budget);
    }
    return 0;
}

static int add_web_seed(struct bt_metainfo *mi, const struct benc *s)
{
    bool oom = false;
    char *u = clean_url(s, &oom);
    if (!u)
        return oom ? -ENOMEM : 0;
    for (size_t i = 0; i < mi->num_web_seeds; i++) {
        if (strcmp(mi->web_seeds[i], u) == 0) {
            free(u);
            return 0;
        }
    }
    char **ws = realloc(mi->web_seeds, (mi->num_web_seeds + 1) * sizeof *ws);
    if (!ws) {
        free(u);
        return -ENOMEM;
    }
    mi->web_seeds = ws;
    ws[mi->num_web_seeds++] = u;
    return 0;
}

static int parse_web_seeds(struct bt_metainfo *mi, const struct benc *root)
{
    const struct benc *ul = benc_dict_get(root, "url-list");
    if (!ul)
        return 0;
    if (ul->type == BENC_STR)
        return add_web_seed(mi, ul);
    for (size_t i = 0; ul->type == BENC_LIST && i < ul->n && i < MI_URLS_EXAMINED &&
                       mi->num_web_seeds < MI_URLS_MAX; i++) {
        int rc = add_web_seed(mi, &ul->items[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static char *text_field(const struct benc *root, const char *key, const char *key_utf8, size_t max)
{
    const struct benc *s = benc_dict_get_type(root, key_utf8, BENC_STR);
    if (!s)
        s = benc_dict_get_type(root, key, BENC_STR);
    if (!s)
        return strdup("");
    return benc_strdup_text(s->s, s->slen, max, false);
}

static int parse_outer(struct bt_metainfo *mi, const struct benc *root, struct mi_err *err)
{
    if (parse_trackers(mi, root) || parse_web_seeds(mi, root))
        return mi_fail(err, -ENOMEM, "out of memory");
    mi->comment = text_field(root, "comment", "comment.utf-8", MI_COMMENT_MAX);
    mi->created_by = text_field(root, "created by", "created by.utf-8", MI_CREATED_BY_MAX);
    if (!mi->comment || !mi->created_by)
        return mi_fail(err, -ENOMEM, "out of memory");
    int64_t cd;
    mi->creation_date = benc_dict_int(root, "creation date", &cd) && cd >= 0 ? cd : -1;
    return 0;
}

/* ---- public ------------------------------------------------------------- */

static int parse_common(const uint8_t *data, size_t len, bool whole, const struct benc_limits *lim,
                        struct bt_metainfo **out, char *errbuf, size_t errlen)
{
    struct mi_err err = {errbuf, errlen};
    *out = NULL;
    if (errbuf && errlen)
        errbuf[0] = 0;
    struct benc_doc *doc;
    int rc = benc_parse(data, len, lim, 0, &doc, NULL, errbuf, errlen);
    if (rc) {
        log_debug("metainfo: %s", errbuf ? errbuf : "bencode error");
        return rc;
    }
    if (benc_doc_unsorted(doc))
        log_debug("metainfo: dictionary keys are unsorted or duplicated");
    const struct benc *root = benc_root(doc);
    struct bt_metainfo *mi = calloc(1, sizeof *mi);
    if (!mi) {
        benc_doc_free(doc);
        return mi_fail(&err, -ENOMEM, "out of memory");
    }
    mi->creation_date = -1;
    if (root->type != BENC_DICT) {
        rc = mi_fail(&err, -EPROTO, "torrent is not a dictionary");
    } else if (whole) {
        const struct benc *info = benc_dict_get(root, "info");
        rc = info ? parse_info_node(mi, info, benc_dict_get(root, "piece layers"), true, &err)
                  : mi_fail(&err, -EPROTO, "missing info dictionary");
        if (rc == 0)
            rc = parse_outer(mi, root, &err);
        if (rc == 0) {
            mi->torrent_raw = malloc(len);
            if (!mi->torrent_raw)
                rc = mi_fail(&err, -ENOMEM, "out of memory");
            else
                memcpy(mi->torrent_raw, data, len);
            mi->torrent_len = len;
        }
    } else {
        rc = parse_info_node(mi, root, NULL, false, &err);
        if (rc == 0) {
            mi->comment = strdup("");
            mi->created_by = strdup("");
            if (!mi->comment || !mi->created_by)
                rc = mi_fail(&err, -ENOMEM, "out of memory");
        }
    }
    benc_doc_free(doc);
    if (rc) {
        bt_metainfo_free(mi);
        return rc;
    }
    *out = mi;
    return 0;
}

int bt_metainfo_parse(const uint8_t *data, size_t len, struct bt_metainfo **out,
                      char *err, size_t errlen)
{
    return parse_common(data, len, true, NULL, out, err, errlen);
}

int bt_metainfo_parse_limited(const uint8_t *data, size_t len, const struct benc_limits *lim,
                              struct bt_metainfo **out, char *err, size_t errlen)
{
    return parse_common(data, len, true, lim, out, err, errlen);
}

int bt_metainfo_parse_info(const uint8_t *info, size_t len, struct bt_metainfo **out,
                           char *err, size_t errlen)
{
    return parse_common(info, len, false, NULL, out, err, errlen);
}

void bt_metainfo_free(struct bt_metainfo *mi)
{
    if (!mi)
        return;
    free(mi->name);
    free(mi->piece_hashes);
    free(mi->piece_layers);
    for (size_t i = 0; i < mi->num_files; i++)
        free(mi->files[i].path);
    free(mi->files);
    for (size_t t = 0; t < mi->num_tiers; t++) {
        for (size_t i = 0; i < mi->tiers[t].num_urls; i++)
            free(mi->tiers[t].urls[i]);
        free(mi->tiers[t].urls);
    }
    free(mi->tiers);
    for (size_t i = 0; i < mi->num_web_seeds; i++)
        free(mi->web_seeds[i]);
    free(mi->web_seeds);
    free(mi->comment);
    free(mi->created_by);
    free(mi->ssl_cert);
    free(mi->info_raw);
    free(mi->torrent_raw);
    free(mi);
}

int64_t bt_metainfo_piece_size(const struct bt_metainfo *mi, uint32_t index)
{
    if (!mi || index >= mi->num_pieces)
        return 0;
    if (index + 1 < mi->num_pieces)
        return mi->piece_length;
    return mi->total_size - mi->piece_length * (int64_t)(mi->num_pieces - 1);
}

/* The file holding byte `off` (files are in offset order; empty ones hold
 * nothing). */
static const struct bt_file *file_at(const struct bt_metainfo *mi, int64_t off)
{
    size_t lo = 0, hi = mi->num_files;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct bt_file *f = &mi->files[mid];
        if (off < f->offset)
            hi = mid;
        else if (off >= f->offset + f->length)
            lo = mid + 1;
        else
            return f;
    }
    return NULL;
}

bool bt_metainfo_piece_ok(const struct bt_metainfo *mi, uint32_t index, const uint8_t *data,
                          size_t len)
{
    if (!mi || index >= mi->num_pieces || (int64_t)len != bt_metainfo_piece_size(mi, index))
        return false;
    if (mi->piece_hashes) {
        uint8_t md[SHA_DIGEST_LENGTH];
        SHA1(data, len, md);
        return memcmp(md, mi->piece_hashes + (size_t)index * 20, 20) == 0;
    }
    if (!mi->piece_layers)
        return false;
    int64_t start = (int64_t)index * mi->piece_length;
    const struct bt_file *f = file_at(mi, start);
    if (!f || f->pad)
        return false;
    /* the file's bytes only: the rest of the piece is a (virtual) pad file */
    int64_t n = f->offset + f->length - start;
    if (n > (int64_t)len)
        n = (int64_t)len;
    size_t width = f->length <= mi->piece_length ? merkle_width(merkle_blocks(f->length))
                                                  : (size_t)(mi->piece_length / MERKLE_BLOCK);
    uint8_t root[MERKLE_HASH];
    return merkle_piece(data, (size_t)n, width, root) == 0 &&
           memcmp(root, mi->piece_layers + (size_t)index * MERKLE_HASH, MERKLE_HASH) == 0;
}

int bt_metainfo_hash_request(const struct bt_metainfo *mi, const uint8_t *req, uint8_t *out,
                             size_t *n)
{
    *n = 0;
    if (!mi || !mi->v2 || !mi->piece_layers)
        return -ENOENT;
    int64_t pl = mi->piece_length;
    for (size_t i = 0; i < mi->num_files; i++) {
        const struct bt_file *f = &mi->files[i];
        if (f->pad || f->length <= pl || memcmp(f->pieces_root, req, 32) != 0)
            continue;
        size_t np = (size_t)(f->length / pl + (f->length % pl != 0));
        return merkle_hash_request(mi->piece_layers + (size_t)(f->offset / pl) * MERKLE_HASH, np, pl,
                                   rd_be32(req + 32), rd_be32(req + 36), rd_be32(req + 40),
                                   rd_be32(req + 44), out, n);
    }
    return -ENOENT;
}
