#include "bt/ext.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bencode.h"
#include "util/log.h"

static void ext_unknown(struct bt_ext_handshake *h)
{
    memset(h, 0, sizeof *h);
    h->metadata_size = -1;
    h->reqq = -1;
}

static int msg_id(const struct benc *m, const char *name)
{
    int64_t v;
    if (!benc_dict_int(m, name, &v) || v < 1 || v > 255)
        return 0;
    return (int)v;
}

int bt_ext_handshake_parse(const uint8_t *p, size_t n, struct bt_ext_handshake *out)
{
    ext_unknown(out);
    if (n > BT_EXT_HANDSHAKE_MAX) {
        log_debug("ext: handshake of %zu bytes refused", n);
        return -E2BIG;
    }
    /* Real handshakes are a flat dict with one nested dict. */
    struct benc_limits lim = {.max_depth = 8, .max_tokens = 4096};
    struct benc_doc *doc;
    char err[200];
    int rc = benc_parse(p, n, &lim, 0, &doc, NULL, err, sizeof err);
    if (rc) {
        log_debug("ext: bad handshake: %s", err);
        return rc;
    }
    const struct benc *d = benc_root(doc);
    if (d->type != BENC_DICT) {
        benc_doc_free(doc);
        log_debug("ext: handshake is not a dictionary");
        return -EPROTO;
    }

    const struct benc *m = benc_dict_get_type(d, "m", BENC_DICT);
    out->ut_metadata = msg_id(m, "ut_metadata");
    out->ut_pex = msg_id(m, "ut_pex");

    int64_t v;
    if (benc_dict_int(d, "metadata_size", &v) && v >= 0)
        out->metadata_size = v;
    if (benc_dict_int(d, "reqq", &v) && v >= 1 && v <= INT_MAX)
        out->reqq = (int)v;
    if (benc_dict_int(d, "p", &v) && v >= 1 && v <= 65535)
        out->listen_port = (uint16_t)v;

    const struct benc *cv = benc_dict_get_type(d, "v", BENC_STR);
    if (cv) {
        char *s = benc_strdup_text(cv->s, cv->slen, sizeof out->client - 1, true);
        if (s) {
            memcpy(out->client, s, strlen(s) + 1);
            free(s);
        }
    }
    const struct benc *ip = benc_dict_get_type(d, "yourip", BENC_STR);
    if (ip && (ip->slen == 4 || ip->slen == 16)) {
        memcpy(out->yourip, ip->s, ip->slen);
        out->yourip_len = (int)ip->slen;
    }
    benc_doc_free(doc);
    return 0;
}

int bt_ext_handshake_build(struct buf *b, const struct bt_ext_handshake *ours)
{
    /* Keys in sorted order: m, metadata_size, p, reqq, v, yourip. */
    int rc = benc_put_dict(b);
    rc = rc ? rc : benc_put_cstr(b, "m");
    rc = rc ? rc : benc_put_dict(b);
    if (ours->ut_metadata > 0) {
        rc = rc ? rc : benc_put_cstr(b, "ut_metadata");
        rc = rc ? rc : benc_put_int(b, ours->ut_metadata);
    }
    if (ours->ut_pex > 0) {
        rc = rc ? rc : benc_put_cstr(b, "ut_pex");
        rc = rc ? rc : benc_put_int(b, ours->ut_pex);
    }
    rc = rc ? rc : benc_put_end(b);
    if (ours->metadata_size >= 0) {
        rc = rc ? rc : benc_put_cstr(b, "metadata_size");
        rc = rc ? rc : benc_put_int(b, ours->metadata_size);
    }
    if (ours->listen_port) {
        rc = rc ? rc : benc_put_cstr(b, "p");
        rc = rc ? rc : benc_put_int(b, ours->listen_port);
    }
    if (ours->reqq > 0) {
        rc = rc ? rc : benc_put_cstr(b, "reqq");
        rc = rc ? rc : benc_put_int(b, ours->reqq);
    }
    size_t vl = strnlen(ours->client, sizeof ours->client);
    if (vl) {
        rc = rc ? rc : benc_put_cstr(b, "v");
        rc = rc ? rc : benc_put_str(b, ours->client, vl);
    }
    if (ours->yourip_len == 4 || ours->yourip_len == 16) {
        rc = rc ? rc : benc_put_cstr(b, "yourip");
        rc = rc ? rc : benc_put_str(b, ours->yourip, (size_t)ours->yourip_len);
    }
    return rc ? rc : benc_put_end(b);
}
