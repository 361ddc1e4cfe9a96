/* µTorrent /proxy's Range header parser (web/api/ut_proxy.c): whatever a
 * client sends, against a few body sizes.  A range it accepts lies inside
 * the body and is not empty. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/api/ut_serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size + 1);
    if (!h)
        return 0;
    memcpy(h, data, size);
    h[size] = 0;
    static const uint64_t sizes[] = {0, 1, 100, 1u << 20, UINT64_MAX / 2, UINT64_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t start = 0, len = 0;
        enum ut_range k = ut_range_parse(h, sizes[i], &start, &len);
        if (k == UT_RANGE_ONE && (len == 0 || start >= sizes[i] || len > sizes[i] - start))
            abort();
    }
    free(h);
    return 0;
}
