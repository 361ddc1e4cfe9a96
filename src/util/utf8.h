/* utf8 — validating UTF-8 from untrusted bytes (names in .torrent files,
 * peer client strings). */
#ifndef TD_UTIL_UTF8_H
#define TD_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
size_t utf8_seq(const uint8_t *p, size_t n);

#endif
