/* core/view — read-only views of one torrent for API dialects.
 *
 * A dialect (web/api/…) shows what bt/ knows about a torrent -- its
 * metainfo, tracker rows, files, piece states -- without including bt/
 * headers: it reads these views, which copy plain figures and borrow
 * strings from the torrent.  Nothing here changes state; borrowed strings
 * stay valid until the loop next runs (the torrent, its metainfo or its
 * tracker set may change then).  Every function takes a torrent with or
 * without metadata (a magnet before its info dict arrives shows none).
 *
 * Words and numbers are the engine's; mapping them to a dialect's
 * vocabulary (qBittorrent's tracker status 4, its piece state numbers) is
 * the dialect's job. */
#ifndef TD_CORE_VIEW_H
#define TD_CORE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct torrent;

/* ---- metainfo facts ---- */

struct view_meta {
    bool has_metadata;            /* false: every other field is zero/""/NULL */
    uint32_t num_pieces;
    int64_t piece_length;
    const char *comment;          /* "" when absent */
    const char *created_by;       /* "" when absent */
    int64_t creation_date;        /* -1 without metadata */
    bool is_private;
    bool v2, hybrid;              /* BEP 52: v2 info dict; v2 and v1 both */
    const uint8_t *piece_hashes;  /* v1 SHA-1s, 20 bytes a piece; NULL when none */
    size_t num_web_seeds;
    char *const *web_seeds;
    const char *single_file;      /* the path of the only file, NULL unless exactly one */
};
void view_meta(const struct torrent *t, struct view_meta *out);
uint32_t view_num_pieces(const struct torrent *t);   /* 0 without metadata */

/* The info-hashes the torrent has, in hex ("" for the one it has not): a
 * v2-only torrent has no v1 hash, a v1 torrent no v2; before its metadata a
 * magnet shows the hashes it was given. */
const char *view_info_hash_v1_hex(const struct torrent *t);
const char *view_info_hash_v2_hex(const struct torrent *t);

/* magnet:?xt=… for t, as libtorrent's make_magnet_uri writes it: btih for a
 * v1 hash, btmh for a v2 one, dn always (empty when unnamed), every tracker
 * of the metainfo in tier order.  malloc'd; NULL on ENOMEM. */
char *view_magnet_uri(const struct torrent *t);

/* The .torrent file's bytes: as added, or the info dict from peers wrapped
 * in "d4:info…e".  *out is malloc'd.  Returns 0, -ENOENT (no metadata),
 * -ENOMEM. */
int view_torrent_file(const struct torrent *t, uint8_t **out, size_t *len);

/* ---- trackers ---- */

struct view_tracker {
    const char *url;
    int tier;
    int status;                   /* bt/tracker's enum tracker_status, as a number */
    const char *msg;              /* "" when none */
    int64_t num_peers, num_seeds, num_leeches, num_downloaded;   /* -1 unknown */
    uint64_t next_announce_ms;    /* session clock; 0 = none */
};
size_t view_tracker_count(const struct torrent *t);   /* 0 without a tracker set */
/* Row i (0-based, tier order).  Returns false past the end. */
bool view_tracker(const struct torrent *t, size_t i, struct view_tracker *out);
/* URL of the tracker that last answered, or NULL. */
const char *view_tracker_current(const struct torrent *t);

/* ---- files (pad files hidden: indices count visible files) ---- */

struct view_file {
    size_t index;                 /* the metainfo's index (file_prios[index]) */
    const char *path;
    int64_t size, offset;         /* offset in the torrent's byte stream */
    int64_t first_piece, last_piece;   /* last < first for an empty file */
    int priority;
};
size_t view_file_count(const struct torrent *t);
/* Visible file vis.  Returns 0, or -ENOENT (no metadata, out of range). */
int view_file(const struct torrent *t, size_t vis, struct view_file *out);
/* Bytes of f we have, and how many of its pieces some connected peer has. */
void view_file_pieces(const struct torrent *t, const struct view_file *f, int64_t *bytes_done,
                      unsigned *pieces_available);
/* Byte range [*start, *end) of a piece; false when out of range. */
bool view_piece_range(const struct torrent *t, uint32_t piece, int64_t *start, int64_t *end);

/* ---- pieces ---- */

enum view_piece_state { VIEW_PIECE_MISSING, VIEW_PIECE_DOWNLOADING, VIEW_PIECE_HAVE };
enum view_piece_state view_piece_state(const struct torrent *t, uint32_t piece);

#endif
