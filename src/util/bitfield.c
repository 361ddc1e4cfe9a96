#include "util/bitfield.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bitfield_init(struct bitfield *bf, uint32_t nbits)
{
    bf->bits = NULL;
    bf->nbits = nbits;
    bf->count = 0;
    if (nbits == 0)
        return 0;
    bf->bits = calloc(1, bitfield_bytes(bf));
    if (!bf->bits) {
        bf->nbits = 0;
        return -ENOMEM;
    }
    return 0;
}

void bitfield_free(struct bitfield *bf)
{
    free(bf->bits);
    bf->bits = NULL;
    bf->nbits = 0;
    bf->count = 0;
}

void bitfield_set(struct bitfield *bf, uint32_t i)
{
    if (i >= bf->nbits)
        return;
    uint8_t m = (uint8_t)(0x80u >> (i & 7));
    if (!(bf->bits[i >> 3] & m)) {
        bf->bits[i >> 3] |= m;
        bf->count++;
    }
}

void bitfield_clear(struct bitfield *bf, uint32_t i)
{
    if (i >= bf->nbits)
        return;
    uint8_t m = (uint8_t)(0x80u >> (i & 7));
    if (bf->bits[i >> 3] & m) {
        bf->bits[i >> 3] &= (uint8_t)~m;
        bf->count--;
    }
}

void bitfield_set_all(struct bitfield *bf)
{
    size_t n = bitfield_bytes(bf);
    if (n == 0)
        return;
    memset(bf->bits, 0xff, n);
    unsigned spare = (unsigned)(n * 8 - bf->nbits);
    bf->bits[n - 1] = (uint8_t)(0xffu << spare);
    bf->count = bf->nbits;
}

void bitfield_clear_all(struct bitfield *bf)
{
    if (bf->bits)
        memset(bf->bits, 0, bitfield_bytes(bf));
    bf->count = 0;
}

bool bitfield_all(const struct bitfield *bf)
{
    return bf->count == bf->nbits;
}

int bitfield_from_bytes(struct bitfield *bf, const uint8_t *p, size_t nbytes)
{
    size_t n = bitfield_bytes(bf);
    if (nbytes != n)
        return -EPROTO;
    if (n == 0)
        return 0;
    unsigned spare = (unsigned)(n * 8 - bf->nbits);
    uint8_t spare_mask = (uint8_t)((1u << spare) - 1);
    if (p[n - 1] & spare_mask)
        return -EPROTO;
    memcpy(bf->bits, p, n);
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (uint32_t)__builtin_popcount(bf->bits[i]);
    bf->count = c;
    return 0;
}
