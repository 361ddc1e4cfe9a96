/* KRPC datagrams are attacker-controlled: every byte a DHT socket receives
 * goes through dht_krpc_parse().  A message that parses must encode again
 * and parse to the same thing (the codec is its own oracle). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt/dht/krpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dht_msg m, again;
    if (dht_krpc_parse(data, size, &m) != 0)
        return 0;
    struct buf b = BUF_INIT;
    int rc = dht_krpc_encode(&b, &m);
    if (rc == 0) {
        if (dht_krpc_parse(buf_head(&b), buf_size(&b), &again) != 0)
            abort();
        if (again.type != m.type || again.method != m.method || again.tid_len != m.tid_len ||
            memcmp(again.tid, m.tid, m.tid_len) != 0 || again.n_values != m.n_values ||
            again.nodes_len != m.nodes_len || again.nodes6_len != m.nodes6_len ||
            again.token_len != m.token_len || memcmp(again.token, m.token, m.token_len) != 0 ||
            (m.has_id && memcmp(again.id, m.id, sizeof m.id) != 0))
            abort();
    }
    buf_free(&b);
    return 0;
}
