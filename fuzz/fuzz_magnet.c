/* Magnet links come from RSS feeds, *arr apps and pasted text.  The input
 * is the URI (NUL-terminated copy); a bare-hash parse and a build -> parse
 * round trip of whatever parsed run too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt/magnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > BT_MAGNET_MAX_URI + 16)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct bt_magnet *m;
    char err[128];
    if (bt_magnet_parse(s, &m, err, sizeof err) == 0) {
        char *b = bt_magnet_build(m->info_hash, m->name, (const char *const *)m->trackers, m->num_trackers);
        struct bt_magnet *m2;
        /* Escaping can triple the length past the parse limit. */
        if (b && strlen(b) > BT_MAGNET_MAX_URI) {
            /* nothing to compare */
        } else if (b && bt_magnet_parse(b, &m2, err, sizeof err) == 0) {
            if (memcmp(m->info_hash, m2->info_hash, 20) != 0 || m2->num_trackers != m->num_trackers)
                abort();
            bt_magnet_free(m2);
        } else if (b) {
            abort();   /* what we build must parse */
        }
        free(b);
        bt_magnet_free(m);
    }
    if (bt_magnet_from_hash(s, &m) == 0)
        bt_magnet_free(m);
    free(s);
    return 0;
}
