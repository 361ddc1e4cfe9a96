/* metainfo — a parsed .torrent (BEP3 v1, multi-tracker BEP12, private
 * BEP27, padding files BEP47, web seeds BEP19, BitTorrent v2 and hybrid
 * BEP52).
 *
 * Everything the engine needs is copied out of the bencoded input, so the
 * input can be freed after parsing.  File paths are already sanitized: each
 * is relative, '/'-separated, has no empty, "." or ".." component, no NUL or
 * control characters, no component longer than 255 bytes, and no two files
 * share a path.  Joining one onto a save path can never leave it.
 *
 * v2 (BEP52): the `file tree` is walked with its nesting bounded; a key that
 * is empty, "." or "..", or holds '/', '\\' or NUL is refused (not repaired:
 * no honest creator writes one).  A hybrid's v1 file list must name the
 * same files with the same sizes in the same order as its file tree, each
 * non-empty file starting on a piece boundary (BEP47 pad files between).
 * Piece layers of a whole .torrent are checked against each file's pieces
 * root; a hybrid without them is still usable as v1.  A v2-only torrent is
 * laid out as if pad files followed every file but the last, so its files
 * are piece-aligned like a hybrid's and every piece lies in one file; its
 * info_hash is the v2 hash cut to 20 bytes (handshakes, trackers, DHT), and
 * piece_hashes is NULL.
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
    uint8_t pieces_root[32];   /* v2: merkle root of the file; zeros for empty and pad files */
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
    bool hybrid;                 /* v1 and v2 (meta version 2 with v1 pieces) */
    bool v2;                     /* has a v2 view: hybrid or v2-only */
    char *ssl_cert;              /* info's ssl-cert (PEM root CA): an SSL torrent; NULL when absent */
    uint8_t info_hash_v2[32];    /* v2: SHA-256 of the info dict's exact bytes */
    char info_hash_v2_hex[65];   /* "" without a v2 view */
    uint8_t *piece_layers;       /* v2: 32 bytes per piece: the piece-layer node covering it,
                                    or the pieces root of a file of one piece; NULL when the
                                    layers are unknown (info dict only, or absent in a hybrid) */
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
 * piece count vs size, bad piece length, missing fields, a bad file tree,
 * v1/v2 views that disagree, piece layers that do not match or are missing
 * from a v2-only torrent), -ENOTSUP (unknown meta version), -E2BIG or
 * -ENOMEM, with a message in err. */
int bt_metainfo_parse(const uint8_t *data, size_t len, struct bt_metainfo **out,
                      char *err, size_t errlen);
/* The same with the bencode limits given (NULL: the defaults):
 * qBittorrent's bdecode_depth_limit and bdecode_token_limit for a .torrent
 * a user adds.  A file over them: -E2BIG (err says which). */
struct benc_limits;
int bt_metainfo_parse_limited(const uint8_t *data, size_t len, const struct benc_limits *lim,
                              struct bt_metainfo **out, char *err, size_t errlen);

/* Parses a bare info dict (from ut_metadata); the caller has checked its
 * hash.  torrent_raw is left NULL, and so is piece_layers: a v2-only dict
 * can check no piece until its layers arrive (bt/layers.h fetches them
 * from peers; parse the .torrent with them then). */
int bt_metainfo_parse_info(const uint8_t *info, size_t len, struct bt_metainfo **out,
                           char *err, size_t errlen);

void bt_metainfo_free(struct bt_metainfo *mi);

/* Size of piece `index` (the last one is usually shorter). */
int64_t bt_metainfo_piece_size(const struct bt_metainfo *mi, uint32_t index);

/* Whether data[0..len) (all of piece `index`, pad bytes included) is that
 * piece: SHA-1 against `pieces` for v1 and hybrids; for v2-only torrents the
 * merkle root of the file's bytes in the piece against its piece-layer node
 * (BEP52).  Reads mi only: safe on worker threads. */
bool bt_metainfo_piece_ok(const struct bt_metainfo *mi, uint32_t index, const uint8_t *data,
                          size_t len);

/* BEP52 hash request (the 48 bytes as received) answered from the piece
 * layers: hashes into out (room for MERKLE_REQ_MAX_COUNT + 64 hashes), their
 * count in *n.  -ENOENT (no such file, or its layer is unknown), or
 * merkle_hash_request's errors; the caller then sends a hash reject. */
int bt_metainfo_hash_request(const struct bt_metainfo *mi, const uint8_t *req, uint8_t *out,
                             size_t *n);

#endif
