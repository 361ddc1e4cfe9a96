#include "bt/metadata.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bt/bencode.h"
#include "util/log.h"

#define MAX_PIECES (BT_METADATA_MAX / BT_METADATA_BLOCK)

int bt_metadata_parse(const uint8_t *p, size_t n, struct bt_metadata_msg *out)
{
    memset(out, 0, sizeof *out);
    out->total_size = -1;
    /* The dict is flat and small; the data block follows it. */
    struct benc_limits lim = {.max_depth = 4, .max_tokens = 64};
    struct benc_doc *doc;
    size_t used = 0;
    char err[160];
    if (n > BT_METADATA_BLOCK + 1024)
        return -EPROTO;
    int rc = benc_parse(p, n, &lim, BENC_ALLOW_TRAILING, &doc, &used, err, sizeof err);
    if (rc) {
        log_debug("metadata: bad message: %s", err);
        return -EPROTO;
    }
    const struct benc *d = benc_root(doc);
    int64_t type, piece, total = -1;
    rc = 0;
    if (d->type != BENC_DICT || !benc_dict_int(d, "msg_type", &type) ||
        !benc_dict_int(d, "piece", &piece) || piece < 0 || piece >= MAX_PIECES)
        rc = -EPROTO;
    else if (type != BT_METADATA_REQUEST && type != BT_METADATA_DATA && type != BT_METADATA_REJECT)
        rc = -ENOTSUP;
    else if (type == BT_METADATA_DATA &&
             (!benc_dict_int(d, "total_size", &total) || total <= 0 || total > BT_METADATA_MAX ||
              n - used > BT_METADATA_BLOCK))
        rc = -EPROTO;
    else if (type != BT_METADATA_DATA && used != n)
        rc = -EPROTO;   /* only data messages carry bytes after the dict */
    benc_doc_free(doc);
    if (rc) {
        log_debug("metadata: %s message", rc == -ENOTSUP ? "unknown" : "malformed");
        return rc;
    }
    out->type = (int)type;
    out->piece = (uint32_t)piece;
    if (type == BT_METADATA_DATA) {
        out->total_size = total;
        out->data = p + used;
        out->data_len = n - used;
    }
    return 0;
}

static int put_head(struct buf *b, int type, uint32_t piece, int64_t total_size)
{
    /* Keys sorted: msg_type, piece, total_size. */
    int rc = benc_put_dict(b);
    rc = rc ? rc : benc_put_cstr(b, "msg_type");
    rc = rc ? rc : benc_put_int(b, type);
    rc = rc ? rc : benc_put_cstr(b, "piece");
    rc = rc ? rc : benc_put_int(b, piece);
    if (total_size >= 0) {
        rc = rc ? rc : benc_put_cstr(b, "total_size");
        rc = rc ? rc : benc_put_int(b, total_size);
    }
    return rc ? rc : benc_put_end(b);
}

int bt_metadata_put_request(struct buf *b, uint32_t piece)
{
    return put_head(b, BT_METADATA_REQUEST, piece, -1);
}

int bt_metadata_put_reject(struct buf *b, uint32_t piece)
{
    return put_head(b, BT_METADATA_REJECT, piece, -1);
}

int bt_metadata_put_data(struct buf *b, uint32_t piece, int64_t total_size, const uint8_t *data, size_t len)
{
    if (len > BT_METADATA_BLOCK || total_size < 0)
        return -EINVAL;
    int rc = put_head(b, BT_METADATA_DATA, piece, total_size);
    return rc ? rc : buf_append(b, data, len);
}

struct block {
    bool have;
    bool asked;             /* in flight */
    void *peer;             /* who we asked */
    uint64_t asked_ms;
};

struct bt_metadata_asm {
    uint8_t info_hash[20];
    uint8_t info_hash_v2[32];
    bool v2;                /* checked by SHA-256 against info_hash_v2 */
    size_t size;
    uint32_t nblocks, nhave;
    bool complete;
    uint8_t *data;
    struct block *blocks;
};

int bt_metadata_asm_new(const uint8_t info_hash[20], int64_t size, struct bt_metadata_asm **out)
{
    *out = NULL;
    if (size <= 0 || size > BT_METADATA_MAX)
        return -EINVAL;
    struct bt_metadata_asm *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    memcpy(a->info_hash, info_hash, 20);
    a->size = (size_t)size;
    a->nblocks = (uint32_t)((a->size + BT_METADATA_BLOCK - 1) / BT_METADATA_BLOCK);
    a->data = malloc(a->size);
    a->blocks = calloc(a->nblocks, sizeof *a->blocks);
    if (!a->data || !a->blocks) {
        bt_metadata_asm_free(a);
        return -ENOMEM;
    }
    *out = a;
    return 0;
}

int bt_metadata_asm_new_v2(const uint8_t info_hash_v2[32], int64_t size, struct bt_metadata_asm **out)
{
    int rc = bt_metadata_asm_new(info_hash_v2, size, out);
    if (rc == 0) {
        memcpy((*out)->info_hash_v2, info_hash_v2, 32);
        (*out)->v2 = true;
    }
    return rc;
}

int bt_metadata_asm_next(struct bt_metadata_asm *a, void *peer, uint64_t now_ms)
{
    if (a->complete)
        return -1;
    int stale = -1;
    for (uint32_t i = 0; i < a->nblocks; i++) {
        struct block *k = &a->blocks[i];
        if (k->have)
            continue;
        if (!k->asked) {
            k->asked = true;
            k->peer = peer;
            k->asked_ms = now_ms;
            return (int)i;
        }
        if (stale < 0 && now_ms >= k->asked_ms + BT_METADATA_TIMEOUT_MS)
            stale = (int)i;
    }
    if (stale >= 0) {
        log_debug("metadata: block %d timed out, asking again", stale);
        a->blocks[stale].peer = peer;
        a->blocks[stale].asked_ms = now_ms;
    }
    return stale;
}

static void asm_reset(struct bt_metadata_asm *a)
{
    memset(a->blocks, 0, a->nblocks * sizeof *a->blocks);
    a->nhave = 0;
}

int bt_metadata_asm_add(struct bt_metadata_asm *a, uint32_t piece, const uint8_t *data, size_t len)
{
    if (piece >= a->nblocks)
        return -EINVAL;
    size_t off = (size_t)piece * BT_METADATA_BLOCK;
    size_t want = a->size - off < BT_METADATA_BLOCK ? a->size - off : BT_METADATA_BLOCK;
    if (len != want)
        return -EINVAL;
    struct block *k = &a->blocks[piece];
    if (a->complete || k->have)
        return 0;
    memcpy(a->data + off, data, len);
    k->have = true;
    k->asked = false;
    if (++a->nhave < a->nblocks)
        return 0;
    uint8_t h[SHA256_DIGEST_LENGTH];
    bool ok;
    if (a->v2) {
        SHA256(a->data, a->size, h);
        ok = memcmp(h, a->info_hash_v2, 32) == 0;
    } else {
        SHA1(a->data, a->size, h);
        ok = memcmp(h, a->info_hash, 20) == 0;
    }
    if (!ok) {
        log_debug("metadata: %zu bytes assembled but the hash does not match, starting over", a->size);
        asm_reset(a);
        return -EILSEQ;
    }
    a->complete = true;
    return 1;
}

const uint8_t *bt_metadata_asm_data(const struct bt_metadata_asm *a, size_t *len)
{
    if (!a->complete)
        return NULL;
    if (len)
        *len = a->size;
    return a->data;
}

void bt_metadata_asm_peer_gone(struct bt_metadata_asm *a, void *peer)
{
    for (uint32_t i = 0; i < a->nblocks; i++)
        if (a->blocks[i].asked && a->blocks[i].peer == peer)
            a->blocks[i].asked = false;
}

void bt_metadata_asm_free(struct bt_metadata_asm *a)
{
    if (!a)
        return;
    free(a->data);
    free(a->blocks);
    free(a);
}
