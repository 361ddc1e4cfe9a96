/* µTorrent /gui/ query parser (web/api/ut_gui_query.c): whatever a client
 * puts after '?'.  After a parse every accessor runs over the result, and
 * the invariants hold: keys are NUL-terminated strings, val_len bytes of
 * each value are readable and followed by a NUL, the count is bounded, and
 * a parse that fails leaves nothing behind. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/api/ut_gui_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ut_query q;
    int rc = ut_query_parse((const char *)data, size, &q);
    if (rc != 0) {
        if (q.n != 0 || q.v != NULL)
            abort();
        return 0;
    }
    if (q.n > UT_QUERY_MAX_PARAMS)
        abort();
    for (size_t i = 0; i < q.n; i++) {
        const struct ut_param *p = &q.v[i];
        if (p->val[p->val_len] != 0)
            abort();
        (void)strlen(p->key);
        (void)ut_param_has_nul(p);
        if (ut_query_get(&q, p->key) == NULL)
            abort();
        if (!ut_param_has_nul(p) && !ut_query_has(&q, p->key, p->val))
            abort();
    }
    (void)ut_query_get(&q, "hash");
    ut_query_free(&q);
    return 0;
}
