/* hex — binary-to-text encodings for hashes and tokens.
 *
 * Info-hashes travel as 40 hex digits (APIs, magnets) or 32 base32
 * characters (older magnets); base64 (OpenSSL's EVP_EncodeBlock/DecodeBlock,
 * with the padding bytes DecodeBlock counts taken off again) is the one copy
 * for session ids, stored password hashes and the saved DHT nodes.
 * Decoders take untrusted text: they check every character and never write
 * past outlen.
 */
#ifndef TD_UTIL_HEX_H
#define TD_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2n lower-case hex digits and a NUL to out (2n+1 bytes).  Returns 0. */
int hex_encode(const uint8_t *p, size_t n, char *out);

/* Decodes exactly slen hex digits (either case, slen even) into out.
 * Returns the number of bytes written, or -EINVAL (odd length, a non-hex
 * character, or more than outlen bytes of output). */
int hex_decode(const char *s, size_t slen, uint8_t *out, size_t outlen);

/* RFC 4648 base32 (A-Z 2-7, either case); trailing '=' padding is optional.
 * Returns bytes written or -EINVAL (bad character, impossible length,
 * non-zero leftover bits, or output longer than outlen). */
int base32_decode(const char *s, size_t slen, uint8_t *out, size_t outlen);

/* Standard base64 with padding and a NUL; needs outlen >= 4*ceil(n/3)+1.
 * Returns the number of characters (without NUL) or -EINVAL. */
int base64_encode(const uint8_t *p, size_t n, char *out, size_t outlen);

/* Standard base64 (padding required, no whitespace).  Returns bytes written
 * or -EINVAL. */
int base64_decode(const char *s, size_t slen, uint8_t *out, size_t outlen);

#endif
