#include "bt/layers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bencode.h"
#include "bt/merkle.h"
#include "bt/wire.h"
#include "util/log.h"

struct lfile {
    uint8_t root[MERKLE_HASH];
    size_t n;              /* piece-layer nodes (pieces of the file) */
    size_t width;          /* merkle_width(n): nodes of the layer in the tree */
    uint8_t *layer;        /* n * 32, filled part by part */
};

/* Peers remembered as not to be asked: a small ring, oldest forgotten. */
struct peerset {
    void *p[BT_LAYERS_MAX_BAD];
    unsigned n, next;
};

struct part {
    uint32_t file;
    uint32_t index;        /* first node, a multiple of the part's count */
    bool have, asked;
    void *peer;
    uint64_t asked_ms;
    struct peerset skip;   /* rejected or timed out on this part */
};

struct bt_layers {
    uint32_t base;         /* the piece layer: log2(piece_length / 16 KiB) */
    size_t bpp;            /* leaves per piece */
    struct lfile *files;
    size_t num_files;
    struct part *parts;
    size_t num_parts, num_have;
    struct peerset distrusted;   /* sent hashes that did not verify */
};

static unsigned log2u(size_t w)
{
    unsigned k = 0;
    while (((size_t)1 << k) < w)
        k++;
    return k;
}

static bool set_has(const struct peerset *s, const void *p)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->p[i] == p)
            return true;
    return false;
}

static void set_add(struct peerset *s, void *p)
{
    if (set_has(s, p))
        return;
    s->p[s->next] = p;
    s->next = (s->next + 1) % BT_LAYERS_MAX_BAD;
    if (s->n < BT_LAYERS_MAX_BAD)
        s->n++;
}

static void set_del(struct peerset *s, const void *p)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->p[i] == p)
            s->p[i] = NULL;   /* NULL is never a peer key */
}

static size_t chunk_of(const struct lfile *f)
{
    return f->width < BT_LAYERS_CHUNK ? f->width : BT_LAYERS_CHUNK;
}

/* proof layers: enough to reach the root from a part (none for the whole layer) */
static uint32_t proof_of(const struct lfile *f)
{
    return chunk_of(f) == f->width ? 0 : log2u(f->width) - 1;
}

static bool known_root(const struct bt_layers *l, const uint8_t *root)
{
    for (size_t i = 0; i < l->num_files; i++)
        if (memcmp(l->files[i].root, root, MERKLE_HASH) == 0)
            return true;
    return false;
}

static int by_root(const void *a, const void *b)
{
    return memcmp(((const struct lfile *)a)->root, ((const struct lfile *)b)->root, MERKLE_HASH);
}

int bt_layers_new(const struct bt_metainfo *mi, struct bt_layers **out)
{
    *out = NULL;
    if (!mi->v2 || mi->piece_length < MERKLE_BLOCK)
        return -EINVAL;
    struct bt_layers *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->bpp = (size_t)(mi->piece_length / MERKLE_BLOCK);
    l->base = log2u(l->bpp);
    l->files = calloc(mi->num_files ? mi->num_files : 1, sizeof *l->files);
    if (!l->files)
        goto oom;
    size_t nparts = 0;
    for (size_t i = 0; i < mi->num_files; i++) {
        const struct bt_file *bf = &mi->files[i];
        if (bf->pad || bf->length <= mi->piece_length || known_root(l, bf->pieces_root))
            continue;   /* a file of one piece is its own layer; identical files share one */
        struct lfile *f = &l->files[l->num_files];
        memcpy(f->root, bf->pieces_root, MERKLE_HASH);
        f->n = (size_t)((bf->length + mi->piece_length - 1) / mi->piece_length);
        f->width = merkle_width(f->n);
        f->layer = calloc(f->n, MERKLE_HASH);
        if (!f->layer)
            goto oom;
        l->num_files++;
        nparts += (f->n + chunk_of(f) - 1) / chunk_of(f);
    }
    /* bencoded dict keys go in byte order */
    qsort(l->files, l->num_files, sizeof *l->files, by_root);
    l->parts = calloc(nparts ? nparts : 1, sizeof *l->parts);
    if (!l->parts)
        goto oom;
    for (size_t i = 0; i < l->num_files; i++) {
        size_t c = chunk_of(&l->files[i]);
        for (size_t idx = 0; idx < l->files[i].n; idx += c) {
            l->parts[l->num_parts].file = (uint32_t)i;
            l->parts[l->num_parts].index = (uint32_t)idx;
            l->num_parts++;
        }
    }
    *out = l;
    return 0;
oom:
    bt_layers_free(l);
    return -ENOMEM;
}

void bt_layers_free(struct bt_layers *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->num_files; i++)
        free(l->files[i].layer);
    free(l->files);
    free(l->parts);
    free(l);
}

bool bt_layers_done(const struct bt_layers *l)
{
    return l->num_have == l->num_parts;
}

static void put_req(const struct bt_layers *l, const struct part *pt, uint8_t *req)
{
    const struct lfile *f = &l->files[pt->file];
    memcpy(req, f->root, MERKLE_HASH);
    wr_be32(req + 32, l->base);
    wr_be32(req + 36, pt->index);
    wr_be32(req + 40, (uint32_t)chunk_of(f));
    wr_be32(req + 44, proof_of(f));
}

int bt_layers_next(struct bt_layers *l, void *peer, uint64_t now_ms, uint8_t *req)
{
    if (set_has(&l->distrusted, peer))
        return 0;
    unsigned inflight = 0;
    for (size_t i = 0; i < l->num_parts; i++)
        if (l->parts[i].asked && l->parts[i].peer == peer)
            inflight++;
    if (inflight >= BT_LAYERS_PER_PEER)
        return 0;
    struct part *stale = NULL;
    for (size_t i = 0; i < l->num_parts; i++) {
        struct part *pt = &l->parts[i];
        if (pt->have || set_has(&pt->skip, peer))
            continue;
        if (!pt->asked) {
            stale = pt;
            break;
        }
        if (!stale && pt->peer != peer && now_ms >= pt->asked_ms + BT_LAYERS_TIMEOUT_MS)
            stale = pt;
    }
    if (!stale)
        return 0;
    if (stale->asked) {
        log_debug("layers: hash request for node %u timed out, asking another peer", stale->index);
        set_add(&stale->skip, stale->peer);
    }
    stale->asked = true;
    stale->peer = peer;
    stale->asked_ms = now_ms;
    put_req(l, stale, req);
    return 1;
}

static struct part *find_part(struct bt_layers *l, const uint8_t *req)
{
    for (size_t i = 0; i < l->num_parts; i++) {
        uint8_t mine[BT_WIRE_HASH_REQ_LEN];
        put_req(l, &l->parts[i], mine);
        if (memcmp(mine, req, BT_WIRE_HASH_REQ_LEN) == 0)
            return &l->parts[i];
    }
    return NULL;
}

static int hash2(const uint8_t *left, const uint8_t *right, uint8_t out[MERKLE_HASH])
{
    uint8_t two[2 * MERKLE_HASH];
    memcpy(two, left, MERKLE_HASH);
    memcpy(two + MERKLE_HASH, right, MERKLE_HASH);
    return merkle_root(two, 2, 2, two, out);
}

/* The nodes, then the uncles from the part's subtree up to the root. */
static bool verifies(const struct lfile *f, const struct part *pt, const uint8_t *h, size_t nuncles)
{
    size_t c = chunk_of(f);
    uint8_t node[MERKLE_HASH];
    if (merkle_root(h, c, c, h, node) != 0)
        return false;
    size_t pos = pt->index / c;
    for (size_t i = 0; i < nuncles; i++, pos >>= 1) {
        const uint8_t *u = h + (c + i) * MERKLE_HASH;
        if ((pos & 1 ? hash2(u, node, node) : hash2(node, u, node)) != 0)
            return false;
    }
    return memcmp(node, f->root, MERKLE_HASH) == 0;
}

int bt_layers_add(struct bt_layers *l, void *peer, const uint8_t *payload, size_t len)
{
    if (len < BT_WIRE_HASH_REQ_LEN)
        return -EPROTO;
    struct part *pt = find_part(l, payload);
    if (!pt)
        return -EPROTO;
    if (pt->have)
        return 0;
    if (!pt->asked || pt->peer != peer)
        if (!set_has(&pt->skip, peer))   /* a late answer after a timeout is still welcome */
            return -EPROTO;
    const struct lfile *f = &l->files[pt->file];
    size_t c = chunk_of(f), nuncles = log2u(f->width) - log2u(c);
    if (len != BT_WIRE_HASH_REQ_LEN + (c + nuncles) * MERKLE_HASH)
        return -EPROTO;
    const uint8_t *h = payload + BT_WIRE_HASH_REQ_LEN;
    if (!verifies(f, pt, h, nuncles)) {
        set_add(&l->distrusted, peer);
        if (pt->peer == peer)
            pt->asked = false;
        return -EILSEQ;
    }
    size_t keep = f->n - pt->index < c ? f->n - pt->index : c;
    memcpy(f->layer + (size_t)pt->index * MERKLE_HASH, h, keep * MERKLE_HASH);
    pt->have = true;
    pt->asked = false;
    return ++l->num_have == l->num_parts ? 1 : 0;
}

void bt_layers_reject(struct bt_layers *l, void *peer, const uint8_t *req)
{
    struct part *pt = find_part(l, req);
    if (!pt || pt->have || !pt->asked || pt->peer != peer)
        return;
    set_add(&pt->skip, peer);
    pt->asked = false;
}

void bt_layers_peer_gone(struct bt_layers *l, void *peer)
{
    /* the key may be reused by a new connection, which starts trusted */
    set_del(&l->distrusted, peer);
    for (size_t i = 0; i < l->num_parts; i++) {
        struct part *pt = &l->parts[i];
        set_del(&pt->skip, peer);
        if (pt->asked && pt->peer == peer)
            pt->asked = false;
    }
}

int bt_layers_put(const struct bt_layers *l, struct buf *b)
{
    if (!bt_layers_done(l))
        return -EAGAIN;
    int rc = benc_put_dict(b);
    for (size_t i = 0; rc == 0 && i < l->num_files; i++) {   /* sorted by bt_layers_new */
        rc = benc_put_str(b, l->files[i].root, MERKLE_HASH);
        rc = rc ? rc : benc_put_str(b, l->files[i].layer, l->files[i].n * MERKLE_HASH);
    }
    return rc ? rc : benc_put_end(b);
}
