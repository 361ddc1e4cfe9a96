/* metainfo — a parsed .torrent (BEP3 v1, multi-tracker BEP12, private
 * BEP27, padding files BEP47, web seeds BEP19).
 *
 * Everything the engine needs is copied out of the bencoded input, so the
 * input can be freed after parsing.  File paths are already sanitized: each
 * is relative, '/'-separated, has no empty, "." or ".." component, no NUL or
 * control characters, no component longer than 255 bytes, and no two files
 * share a path.  Joining one onto a save path can never leave it.
 */
#ifndef TD_BT_METAINFO_H
#define TD_BT_METAINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_file {
    char *path;         /* sanitized relative path, includes the torrent's root folder for multi-file */
    int64_t length;
    int64_t offset;     /* byte offset of the file in the torrent's concatenated data */
    bool pad;           /* BEP47 padding file: never created on disk, always zeros */
    bool executable;    /* attr 'x' */
};

struct bt_tier {
    char **urls;
    size_t num_urls;
};

struct bt_metainfo {
    uint8_t info_hash[20];       /* SHA-1 of the info dict's exact bytes */
    char info_hash_hex[41];      /* lower-case */
    char *name;                  /* sanitized torrent name (root folder or single file name) */
    int64_t piece_length;
    uint32_t num_pieces;
    uint8_t *piece_hashes;       /* 20 * num_pieces bytes */
    struct bt_file *files;
    size_t num_files;
    int64_t total_size;          /* including padding files */
    bool multi_file;             /* info had 'files' (root folder exists) */
    bool is_private;
    bool hybrid;                 /* also carried a v2 file tree; used as v1 only */
    struct bt_tier *tiers;       /* announce-list, or the single announce as one tier */
    size_t num_tiers;
    char **web_seeds;            /* url-list */
    size_t num_web_seeds;
    char *comment;               /* "" when absent */
    char *created_by;            /* "" when absent */
    int64_t creation_date;       /* epoch seconds, -1 when absent */
    uint8_t *info_raw;           /* exact info dict bytes (served for ut_metadata, export) */
    size_t info_len;
    uint8_t *torrent_raw;        /* whole .torrent as given (export); may be NULL when built from info only */
    size_t torrent_len;
};

/* Parses a whole .torrent.  Returns 0, -EPROTO (malformed or inconsistent:
 * piece count vs size, bad piece length, missing fields), -ENOTSUP (a v2-only
 * torrent: "BitTorrent v2 torrents are not supported yet"), -E2BIG or
 * -ENOMEM, with a message in err. */
int bt_metainfo_parse(const uint8_t *data, size_t len, struct bt_metainfo **out,
                      char *err, size_t errlen);

/* Parses a bare info dict (from ut_metadata); the caller has checked its
 * hash.  torrent_raw is left NULL. */
int bt_metainfo_parse_info(const uint8_t *info, size_t len, struct bt_metainfo **out,
                           char *err, size_t errlen);

void bt_metainfo_free(struct bt_metainfo *mi);

/* Size of piece `index` (the last one is usually shorter). */
int64_t bt_metainfo_piece_size(const struct bt_metainfo *mi, uint32_t index);

#endif
