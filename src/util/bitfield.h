/* bitfield — a fixed-size set of piece numbers in BEP3 wire order.
 *
 * Bit 0 is the high bit of byte 0, so `bits` can be sent as the payload of a
 * bitfield message as is.  Spare bits after nbits are always zero: the wire
 * format demands it and bitfield_from_bytes() rejects peers that set them.
 * count is maintained on every change so "how many pieces" is O(1).
 */
#ifndef TD_UTIL_BITFIELD_H
#define TD_UTIL_BITFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bitfield {
    uint8_t *bits;
    uint32_t nbits;
    uint32_t count;   /* bits set */
};

#define BITFIELD_INIT {NULL, 0, 0}

/* All bits clear.  nbits may be 0 (no allocation).  0 or -ENOMEM. */
int bitfield_init(struct bitfield *bf, uint32_t nbits);
void bitfield_free(struct bitfield *bf);

static inline size_t bitfield_bytes(const struct bitfield *bf) { return ((size_t)bf->nbits + 7) / 8; }
static inline uint32_t bitfield_count(const struct bitfield *bf) { return bf->count; }

/* Out-of-range indices read as false and are ignored by set/clear, so a
 * hostile `have` can never write outside the array (callers still validate
 * to be able to drop the peer). */
static inline bool bitfield_get(const struct bitfield *bf, uint32_t i)
{
    return i < bf->nbits && (bf->bits[i >> 3] & (0x80u >> (i & 7)));
}
void bitfield_set(struct bitfield *bf, uint32_t i);
void bitfield_clear(struct bitfield *bf, uint32_t i);
void bitfield_set_all(struct bitfield *bf);
void bitfield_clear_all(struct bitfield *bf);
bool bitfield_all(const struct bitfield *bf);   /* every bit set (true for nbits 0) */

/* Replaces the contents with a peer's bitfield payload.  nbytes must be
 * exactly bitfield_bytes(bf) and spare trailing bits must be zero, else
 * -EPROTO and bf is unchanged. */
int bitfield_from_bytes(struct bitfield *bf, const uint8_t *p, size_t nbytes);

#endif
