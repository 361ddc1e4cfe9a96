/* libFuzzer target for the bencode decoder.
 *
 * Besides "never crash", checks two properties: every node's raw span lies
 * inside the input, and a document the decoder accepts with sorted keys
 * re-encodes to exactly the input bytes (the decoder is strict, so any
 * accepted canonical input has only one encoding).  The BEP10 handshake
 * parser rides along since it is bencode on the wire.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bencode.h"
#include "bt/ext.h"
#include "util/log.h"

static void check_span(const struct benc *v, const uint8_t *p, size_t n)
{
    if (v->raw < p || v->raw_len > n || (size_t)(v->raw - p) > n - v->raw_len)
        abort();
    if (v->type == BENC_STR && (v->s < v->raw || v->s + v->slen != v->raw + v->raw_len))
        abort();
}

static int encode(struct buf *b, const struct benc *v, const uint8_t *p, size_t n)
{
    check_span(v, p, n);
    switch (v->type) {
    case BENC_INT:
        return benc_put_int(b, v->i);
    case BENC_STR:
        return benc_put_str(b, v->s, v->slen);
    case BENC_LIST:
    case BENC_DICT:
        if (v->type == BENC_DICT && v->n % 2)
            abort();
        if ((v->type == BENC_DICT ? benc_put_dict(b) : benc_put_list(b)) != 0)
            return -1;
        for (size_t i = 0; i < v->n; i++) {
            if (v->type == BENC_DICT && i % 2 == 0 && v->items[i].type != BENC_STR)
                abort();
            if (encode(b, &v->items[i], p, n))
                return -1;
        }
        return benc_put_end(b);
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_quiet(1);
    struct benc_doc *doc;
    char err[256];
    size_t used = 0;
    if (benc_parse(data, size, NULL, 0, &doc, &used, err, sizeof err) == 0) {
        const struct benc *r = benc_root(doc);
        if (used != size || r->raw != data || r->raw_len != size)
            abort();
        struct buf b = BUF_INIT;
        if (encode(&b, r, data, size) == 0 && !benc_doc_unsorted(doc)) {
            if (buf_size(&b) != size || memcmp(buf_head(&b), data, size) != 0)
                abort();
        }
        buf_free(&b);
        /* Exercise the lookups on whatever came in. */
        int64_t i;
        size_t l;
        benc_dict_int(r, "a", &i);
        benc_dict_str(r, "info", &l);
        free(benc_dict_strdup(r, "name"));
        benc_doc_free(doc);
    }
    /* Trailing data allowed: consumed must be a prefix. */
    struct benc_limits lim = {.max_depth = 10, .max_tokens = 1000};
    if (benc_parse(data, size, &lim, BENC_ALLOW_TRAILING, &doc, &used, NULL, 0) == 0) {
        if (used == 0 || used > size)
            abort();
        benc_doc_free(doc);
    }
    struct bt_ext_handshake h;
    if (bt_ext_handshake_parse(data, size, &h) == 0) {
        if (strlen(h.client) >= sizeof h.client || h.ut_metadata < 0 || h.ut_metadata > 255 ||
            (h.yourip_len != 0 && h.yourip_len != 4 && h.yourip_len != 16))
            abort();
        struct buf b = BUF_INIT;
        bt_ext_handshake_build(&b, &h);
        buf_free(&b);
    }
    return 0;
}
