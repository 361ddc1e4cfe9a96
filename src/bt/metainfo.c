#include "bt/metainfo.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bt/bencode.h"
#include "util/buf.h"
#include "util/hex.h"
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

/* ---- a small string set for resolving duplicate paths ------------------ */

struct pset_ent {
    const char *key;     /* NULL = empty slot */
    size_t len;
    uint64_t hash;
    uint32_t next;       /* next " (n)" to try for this name */
    bool owned;
};

struct pset {
    struct pset_ent *e;
    size_t cap, n;
};

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
    return h;
}

static struct pset_ent *pset_slot(const struct pset *ps, const char *s, size_t len, uint64_t h)
{
    size_t i = h & (ps->cap - 1);
    for (;;) {   /* terminates: the table is never more than half full */
        struct pset_ent *e = &ps->e[i];
        if (!e->key || (e->hash == h && e->len == len && memcmp(e->key, s, len) == 0))
            return e;
        i = (i + 1) & (ps->cap - 1);
    }
}

static struct pset_ent *pset_get(const struct pset *ps, const char *s, size_t len)
{
    if (!ps->cap)
        return NULL;
    struct pset_ent *e = pset_slot(ps, s, len, fnv1a(s, len));
    return e->key ? e : NULL;
}

/* Adds key (taking ownership if owned; freeing it on failure).  The key must
 * not be present. */
static int pset_add(struct pset *ps, const char *key, size_t len, bool owned)
{
    if ((ps->n + 1) * 2 > ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 64;
        struct pset_ent *ne = calloc(cap, sizeof *ne);
        if (!ne) {
            if (owned)
                free((char *)key);
            return -ENOMEM;
        }
        struct pset old = *ps;
        ps->e = ne;
        ps->cap = cap;
        for (size_t i = 0; i < old.cap; i++)
            if (old.e[i].key)
                *pset_slot(ps, old.e[i].key, old.e[i].len, old.e[i].hash) = old.e[i];
        free(old.e);
    }
    uint64_t h = fnv1a(key, len);
    struct pset_ent *e = pset_slot(ps, key, len, h);
    *e = (struct pset_ent){key, len, h, 1, owned};
    ps->n++;
    return 0;
}

static void pset_free(struct pset *ps)
{
    for (size_t i = 0; i < ps->cap; i++)
        if (ps->e[i].owned)
            free((char *)ps->e[i].key);
    free(ps->e);
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
    struct pset ps = {0};
    int rc = 0;
    for (size_t i = 0; i < mi->num_files && rc == 0; i++) {
        const char *p = mi->files[i].path;
        for (const char *s = strchr(p, '/'); s && rc == 0; s = strchr(s + 1, '/')) {
            size_t l = (size_t)(s - p);
            if (pset_get(&ps, p, l))
                continue;
            char *d = strndup(p, l);
            rc = d ? pset_add(&ps, d, l, true) : -ENOMEM;
        }
    }
    for (size_t i = 0; i < mi->num_files && rc == 0; i++) {
        struct bt_file *f = &mi->files[i];
        struct pset_ent *e = pset_get(&ps, f->path, strlen(f->path));
        if (!e) {
            rc = pset_add(&ps, f->path, strlen(f->path), false);
            continue;
        }
        /* Each candidate tried is either taken (bounded by the set size) or
         * accepted, so this ends; `next` makes many equal names linear. */
        for (uint32_t k = e->next;; k++) {
            char *cand = dup_name(f->path, k);
            if (!cand) {
                rc = -ENOMEM;
                break;
            }
            if (pset_get(&ps, cand, strlen(cand))) {
                free(cand);
                continue;
            }
            e->next = k + 1;
            log_debug("metainfo: duplicate path '%s' renamed to '%s'", f->path, cand);
            free(f->path);
            f->path = cand;
            rc = pset_add(&ps, cand, strlen(cand), false);   /* may move e: not used after */
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

static int parse_info_node(struct bt_metainfo *mi, const struct benc *info, struct mi_err *err)
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
    bool v2 = (has_ver && ver == 2) || benc_dict_get_type(info, "file tree", BENC_DICT);
    if (has_ver && ver != 1 && ver != 2)
        return mi_fail(err, -ENOTSUP, "unknown meta version %" PRId64, ver);
    if (v2 && !pieces)
        return mi_fail(err, -ENOTSUP, "BitTorrent v2 torrents are not supported yet");
    mi->hybrid = v2;

    int64_t pl;
    if (!benc_dict_int(info, "piece length", &pl))
        return mi_fail(err, -EPROTO, "missing piece length");
    if (pl <= 0 || pl > MI_PIECE_LENGTH_MAX)
        return mi_fail(err, -EPROTO, "invalid piece length %" PRId64, pl);
    mi->piece_length = pl;
    if (!pieces)
        return mi_fail(err, -EPROTO, "missing pieces");
    if (pieces->slen % 20)
        return mi_fail(err, -EPROTO, "pieces length %zu is not a multiple of 20", pieces->slen);

    int64_t priv;
    mi->is_private = benc_dict_int(info, "private", &priv) && priv == 1;

    int rc = parse_name(mi, info);
    if (rc)
        return mi_fail(err, rc, "out of memory");

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
        rc = resolve_duplicates(mi, err);
        if (rc)
            return rc;
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

static int parse_common(const uint8_t *data, size_t len, bool whole, struct bt_metainfo **out,
                        char *errbuf, size_t errlen)
{
    struct mi_err err = {errbuf, errlen};
    *out = NULL;
    if (errbuf && errlen)
        errbuf[0] = 0;
    struct benc_doc *doc;
    int rc = benc_parse(data, len, NULL, 0, &doc, NULL, errbuf, errlen);
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
        rc = info ? parse_info_node(mi, info, &err)
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
        rc = parse_info_node(mi, root, &err);
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
    return parse_common(data, len, true, out, err, errlen);
}

int bt_metainfo_parse_info(const uint8_t *info, size_t len, struct bt_metainfo **out,
                           char *err, size_t errlen)
{
    return parse_common(info, len, false, out, err, errlen);
}

void bt_metainfo_free(struct bt_metainfo *mi)
{
    if (!mi)
        return;
    free(mi->name);
    free(mi->piece_hashes);
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
