/* The MSE handshake parser (bt/mse.c) on hostile bytes.  The first byte
 * picks what the rest is:
 *   0  what a responder reads from a stranger (key, pad, req1 search...);
 *   1  what an initiator reads back after sending its key;
 *   2  a real handshake whose initiator-to-responder bytes are XORed with
 *      the input (so the encrypted VC, crypto_provide, pad and IA lengths
 *      decrypt to hostile values), fed in chunks of the input's size;
 *   3  the same the other way (crypto_select, PadD).
 * Nothing may crash, leak, read out of bounds or buffer without bound. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bt/mse.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t HASH[20] = "fuzzfuzzfuzzfuzzfuzz";

static int lookup(void *ud, const uint8_t req2[20], uint8_t skey[20])
{
    (void)ud;
    uint8_t h[20];
    mse_req2_hash(HASH, h);
    if (memcmp(h, req2, 20) != 0)
        return -1;
    memcpy(skey, HASH, 20);
    return 0;
}

static void check(struct mse *m, struct buf *plain)
{
    if (buf_size(plain) > 65535 + 4096)   /* IA, then at most what was fed */
        __builtin_trap();
    if (mse_established(m) && mse_selected(m) != MSE_CRYPTO_RC4 && mse_selected(m) != MSE_CRYPTO_PLAIN)
        __builtin_trap();
}

/* Moves from's output to to, XORed with mask (cycled), chunk bytes a feed. */
static void move(struct mse *from, struct buf *from_out, struct mse *to, struct buf *to_in, const uint8_t *mask,
                 size_t mlen, size_t chunk)
{
    struct buf w = BUF_INIT;
    if (mse_seal(from, from_out, &w) != 0 || buf_size(&w) == 0) {
        buf_free(&w);
        return;
    }
    uint8_t *p = (uint8_t *)buf_head(&w);
    for (size_t i = 0; mlen && i < buf_size(&w); i++)
        p[i] ^= mask[i % mlen];
    for (size_t at = 0; at < buf_size(&w);) {
        size_t k = buf_size(&w) - at < chunk ? buf_size(&w) - at : chunk;
        if (mse_feed(to, p + at, k, to_in) != 0)
            break;
        at += k;
    }
    check(to, to_in);
    buf_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] & 3;
    data++;
    size--;
    mse_detect(data, size);
    struct mse_opts o;
    mse_opts_default(&o);
    struct mse *a = NULL, *b = NULL;
    struct buf ain = BUF_INIT, aout = BUF_INIT, bin = BUF_INIT, bout = BUF_INIT, w = BUF_INIT;
    if (mode == 0 || mode == 1) {
        if (mode == 0 ? mse_responder_new(lookup, NULL, &o, &b) : mse_initiator_new(HASH, &o, &a))
            return 0;
        struct mse *m = a ? a : b;
        mse_seal(m, &aout, &w);
        mse_feed(m, data, size, &ain);
        check(m, &ain);
        mse_seal(m, &aout, &w);
    } else if (mse_initiator_new(HASH, &o, &a) == 0 && mse_responder_new(lookup, NULL, &o, &b) == 0) {
        size_t chunk = size % 97 + 1;
        buf_append_str(&aout, "initial payload");
        for (int round = 0; round < 4; round++) {
            move(a, &aout, b, &bin, mode == 2 ? data : NULL, mode == 2 ? size : 0, chunk);
            move(b, &bout, a, &ain, mode == 3 ? data : NULL, mode == 3 ? size : 0, chunk);
        }
    }
    mse_free(a);
    mse_free(b);
    buf_free(&ain);
    buf_free(&aout);
    buf_free(&bin);
    buf_free(&bout);
    buf_free(&w);
    return 0;
}
