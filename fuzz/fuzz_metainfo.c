/* libFuzzer target for .torrent parsing.
 *
 * Whatever the input, an accepted torrent must keep the promises of
 * metainfo.h: safe, unique relative paths, consistent sizes and piece count,
 * and an info-hash over the exact info bytes (SHA-1, or for v2-only
 * torrents SHA-256 cut to 20 bytes), with piece hashes or v2 piece layers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bt/metainfo.h"
#include "util/log.h"

static void check_path(const char *p)
{
    if (!p || !p[0] || p[0] == '/')
        abort();
    for (const char *c = p;;) {
        const char *e = strchr(c, '/');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        if (l == 0 || l > 255 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
            abort();
        if (!e)
            break;
        c = e + 1;
    }
    for (const char *q = p; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f || *q == '\\')
            abort();
}

static void check(const struct bt_metainfo *mi)
{
    uint8_t h[32], h2[32];
    SHA1(mi->info_raw, mi->info_len, h);
    SHA256(mi->info_raw, mi->info_len, h2);
    /* v2-only: the SHA-256 cut to 20 bytes (BEP52) */
    if (memcmp(mi->v2 && !mi->hybrid ? h2 : h, mi->info_hash, 20) || strlen(mi->info_hash_hex) != 40)
        abort();
    if (mi->v2 && (memcmp(h2, mi->info_hash_v2, 32) || strlen(mi->info_hash_v2_hex) != 64))
        abort();
    if (!mi->piece_hashes && !mi->piece_layers)   /* no way to verify a piece */
        abort();
    if (mi->hybrid != (mi->v2 && mi->piece_hashes != NULL))
        abort();
    if (mi->piece_length <= 0 || mi->total_size <= 0 || mi->num_files == 0)
        abort();
    int64_t np = (mi->total_size + mi->piece_length - 1) / mi->piece_length;
    if (np != (int64_t)mi->num_pieces)
        abort();
    if (strchr(mi->name, '/') || !mi->name[0])
        abort();
    int64_t off = 0;
    for (size_t i = 0; i < mi->num_files; i++) {
        const struct bt_file *f = &mi->files[i];
        check_path(f->path);
        if (f->offset != off || f->length < 0)
            abort();
        off += f->length;
        /* Quadratic, but fuzz inputs are small. */
        for (size_t j = 0; j < i && j < 2000; j++)
            if (strcmp(f->path, mi->files[j].path) == 0)
                abort();
    }
    if (off != mi->total_size)
        abort();
    for (size_t t = 0; t < mi->num_tiers; t++)
        if (mi->tiers[t].num_urls == 0)
            abort();
    int64_t sum = 0;
    for (uint32_t i = 0; i < mi->num_pieces; i++)
        sum += bt_metainfo_piece_size(mi, i);
    if (sum != mi->total_size)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_quiet(1);
    struct bt_metainfo *mi;
    char err[256];
    if (bt_metainfo_parse(data, size, &mi, err, sizeof err) == 0) {
        check(mi);
        bt_metainfo_free(mi);
    }
    if (bt_metainfo_parse_info(data, size, &mi, err, sizeof err) == 0) {
        check(mi);
        bt_metainfo_free(mi);
    }
    return 0;
}
