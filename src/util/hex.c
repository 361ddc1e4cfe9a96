#include "util/hex.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

int hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
    return 0;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *s, size_t slen, uint8_t *out, size_t outlen)
{
    if (slen % 2 || slen / 2 > outlen || slen / 2 > INT_MAX)
        return -EINVAL;
    for (size_t i = 0; i < slen / 2; i++) {
        int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(slen / 2);
}

static int b32_val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

int base32_decode(const char *s, size_t slen, uint8_t *out, size_t outlen)
{
    while (slen > 0 && s[slen - 1] == '=')
        slen--;
    /* Valid unpadded lengths leave 0, 2, 4, 5 or 7 characters in the last group. */
    size_t rem = slen % 8;
    if (rem == 1 || rem == 3 || rem == 6)
        return -EINVAL;
    size_t nbytes = slen * 5 / 8;
    if (nbytes > outlen || nbytes > INT_MAX)
        return -EINVAL;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < slen; i++) {
        int v = b32_val(s[i]);
        if (v < 0)
            return -EINVAL;
        acc = (acc << 5 | (uint32_t)v) & 0xffff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (acc & ((1u << bits) - 1))
        return -EINVAL;   /* non-canonical: leftover bits must be zero */
    return (int)o;
}

int base64_encode(const uint8_t *p, size_t n, char *out, size_t outlen)
{
    if (n > (size_t)INT_MAX / 4 * 3 - 3 || outlen < (n + 2) / 3 * 4 + 1)
        return -EINVAL;
    return EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

int base64_decode(const char *s, size_t slen, uint8_t *out, size_t outlen)
{
    if (slen % 4 || slen > INT_MAX || slen / 4 * 3 > outlen)
        return -EINVAL;
    if (slen == 0)
        return 0;
    for (size_t i = 0; i < slen; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/' || (c == '=' && i >= slen - 2);
        if (!ok || (s[slen - 2] == '=' && s[slen - 1] != '='))
            return -EINVAL;
    }
    int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)slen);
    if (n < 0)
        return -EINVAL;
    /* EVP_DecodeBlock counts padding as zero bytes. */
    if (s[slen - 1] == '=') n--;
    if (s[slen - 2] == '=') n--;
    return n;
}
