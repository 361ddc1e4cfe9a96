/* RSS and Atom documents come from any server a user subscribes to.  The
 * input is the document; checked on every input: every article has a
 * non-empty string id, unique in the document, and a torrentURL that is a
 * string or null; a date, when there is one, formats; and a second parse
 * with the first one's lastBuildDate either stops early or gives the same
 * articles. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rss/feedparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 20)
        return 0;
    struct feedparse_result r;
    if (feedparse_parse((const char *)data, size, NULL, 1700000000000LL, &r) != 0) {
        feedparse_result_free(&r);
        return 0;
    }
    json_t *ids = json_object();
    for (size_t i = 0; i < r.n; i++) {
        const char *id = json_string_value(json_object_get(r.articles[i].data, "id"));
        json_t *tu = json_object_get(r.articles[i].data, "torrentURL");
        if (!id || !*id || json_object_get(ids, id) || !(json_is_string(tu) || json_is_null(tu)))
            abort();
        json_object_set_new(ids, id, json_true());
        char d[32];
        if (r.articles[i].has_date)
            feedparse_date_format(r.articles[i].date_ms, r.articles[i].date_offset_s, d);
    }
    json_decref(ids);
    if (r.last_build_date) {
        struct feedparse_result r2;
        if (feedparse_parse((const char *)data, size, r.last_build_date, 1700000000000LL, &r2) == 0 && !r2.unchanged &&
            !r2.error[0] && !r.error[0] && r2.n != r.n)
            abort();
        feedparse_result_free(&r2);
    }
    feedparse_result_free(&r);
    return 0;
}
