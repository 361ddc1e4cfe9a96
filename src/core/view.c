/* core/view — read-only views of one torrent for API dialects (see view.h). */
#include "core/view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/magnet.h"
#include "bt/metainfo.h"
#include "bt/picker.h"
#include "bt/tracker/tracker.h"
#include "core/torrent.h"
#include "util/bitfield.h"

/* ---- metainfo facts ---- */

void view_meta(const struct torrent *t, struct view_meta *out)
{
    const struct bt_metainfo *mi = t->mi;
    memset(out, 0, sizeof(*out));
    out->comment = out->created_by = "";
    out->creation_date = -1;
    if (!mi)
        return;
    out->has_metadata = true;
    out->num_pieces = mi->num_pieces;
    out->piece_length = mi->piece_length;
    out->comment = mi->comment;
    out->created_by = mi->created_by;
    out->creation_date = mi->creation_date;
    out->is_private = mi->is_private;
    out->v2 = mi->v2;
    out->hybrid = mi->hybrid;
    out->piece_hashes = mi->piece_hashes;
    out->num_web_seeds = mi->num_web_seeds;
    out->web_seeds = mi->web_seeds;
    out->single_file = mi->num_files == 1 ? mi->files[0].path : NULL;
}

uint32_t view_num_pieces(const struct torrent *t)
{
    return t->mi ? t->mi->num_pieces : 0;
}

const char *view_info_hash_v1_hex(const struct torrent *t)
{
    if (t->mi)
        return t->mi->v2 && !t->mi->hybrid ? "" : t->mi->info_hash_hex;
    return t->no_v1 ? "" : t->hex;
}

const char *view_info_hash_v2_hex(const struct torrent *t)
{
    if (t->mi)
        return t->mi->v2 ? t->mi->info_hash_v2_hex : "";
    return t->has_v2 ? t->hex_v2 : "";
}

char *view_magnet_uri(const struct torrent *t)
{
    /* the same hashes view_info_hash_v1_hex/v2_hex show */
    const struct bt_metainfo *mi = t->mi;
    const uint8_t *v1, *v2;
    if (mi) {
        v1 = mi->v2 && !mi->hybrid ? NULL : mi->info_hash;
        v2 = mi->v2 ? mi->info_hash_v2 : NULL;
    } else {
        v1 = t->no_v1 ? NULL : t->info_hash;
        v2 = t->has_v2 ? t->info_hash_v2 : NULL;
    }
    size_t n = 0;
    for (size_t i = 0; mi && i < mi->num_tiers; i++)
        n += mi->tiers[i].num_urls;
    const char **urls = calloc(n ? n : 1, sizeof *urls);
    if (!urls)
        return NULL;
    n = 0;
    for (size_t i = 0; mi && i < mi->num_tiers; i++)
        for (size_t j = 0; j < mi->tiers[i].num_urls; j++)
            urls[n++] = mi->tiers[i].urls[j];
    char *out = bt_magnet_build_ex(v1, v2, torrent_name(t), urls, n, BT_MAGNET_EMPTY_DN);
    free(urls);
    return out;
}

int view_torrent_file(const struct torrent *t, uint8_t **out, size_t *len)
{
    const struct bt_metainfo *mi = t->mi;
    *out = NULL;
    *len = 0;
    if (mi && mi->torrent_raw) {
        if (!(*out = malloc(mi->torrent_len ? mi->torrent_len : 1)))
            return -ENOMEM;
        memcpy(*out, mi->torrent_raw, mi->torrent_len);
        *len = mi->torrent_len;
        return 0;
    }
    if (!mi || !mi->info_raw)
        return -ENOENT;
    /* Metadata from peers only: wrap the info dict. */
    size_t n = mi->info_len + 8;
    uint8_t *b = malloc(n);
    if (!b)
        return -ENOMEM;
    memcpy(b, "d4:info", 7);
    memcpy(b + 7, mi->info_raw, mi->info_len);
    b[n - 1] = 'e';
    *out = b;
    *len = n;
    return 0;
}

/* ---- trackers ---- */

size_t view_tracker_count(const struct torrent *t)
{
    return t->trk ? tracker_set_count(t->trk) : 0;
}

bool view_tracker(const struct torrent *t, size_t i, struct view_tracker *out)
{
    const struct tracker_entry *e = t->trk ? tracker_set_entry(t->trk, i) : NULL;
    if (!e)
        return false;
    *out = (struct view_tracker){
        .url = e->url,
        .tier = e->tier,
        .status = e->status,
        .msg = e->msg,
        .num_peers = e->num_peers,
        .num_seeds = e->num_seeds,
        .num_leeches = e->num_leeches,
        .num_downloaded = e->num_downloaded,
        .next_announce_ms = e->next_announce_ms,
    };
    return true;
}

const char *view_tracker_current(const struct torrent *t)
{
    return t->trk ? tracker_set_current(t->trk) : NULL;
}

/* ---- files ---- */

size_t view_file_count(const struct torrent *t)
{
    size_t n = 0;
    for (size_t i = 0; t->mi && i < t->mi->num_files; i++)
        n += !t->mi->files[i].pad;
    return n;
}

int view_file(const struct torrent *t, size_t vis, struct view_file *out)
{
    const struct bt_metainfo *mi = t->mi;
    for (size_t i = 0; mi && i < mi->num_files; i++) {
        const struct bt_file *f = &mi->files[i];
        if (f->pad || vis-- != 0)
            continue;
        *out = (struct view_file){
            .index = i,
            .path = f->path,
            .size = f->length,
            .offset = f->offset,
            .first_piece = 0,
            .last_piece = -1,
            .priority = t->file_prios ? t->file_prios[i] : 1,
        };
        if (f->length > 0) {
            out->first_piece = f->offset / mi->piece_length;
            out->last_piece = (f->offset + f->length - 1) / mi->piece_length;
        }
        return 0;
    }
    return -ENOENT;
}

void view_file_pieces(const struct torrent *t, const struct view_file *f, int64_t *bytes_done,
                      unsigned *pieces_available)
{
    const struct bt_metainfo *mi = t->mi;
    *bytes_done = 0;
    *pieces_available = 0;
    for (int64_t p = f->first_piece; mi && p <= f->last_piece && p < mi->num_pieces; p++) {
        if (t->picker && bt_picker_availability(t->picker, (uint32_t)p) > 0)
            (*pieces_available)++;
        if (!bitfield_get(&t->have, (uint32_t)p))
            continue;
        int64_t ps = p * mi->piece_length, pe = ps + bt_metainfo_piece_size(mi, (uint32_t)p);
        int64_t a = ps > f->offset ? ps : f->offset;
        int64_t b = pe < f->offset + f->size ? pe : f->offset + f->size;
        if (b > a)
            *bytes_done += b - a;
    }
}

bool view_piece_range(const struct torrent *t, uint32_t piece, int64_t *start, int64_t *end)
{
    const struct bt_metainfo *mi = t->mi;
    if (!mi || piece >= mi->num_pieces)
        return false;
    *start = (int64_t)piece * mi->piece_length;
    *end = *start + bt_metainfo_piece_size(mi, piece);
    return true;
}

/* ---- pieces ---- */

enum view_piece_state view_piece_state(const struct torrent *t, uint32_t piece)
{
    if (bitfield_get(&t->have, piece))
        return VIEW_PIECE_HAVE;
    if (t->picker && bt_picker_piece_state(t->picker, piece) == BT_PIECE_DOWNLOADING)
        return VIEW_PIECE_DOWNLOADING;
    return VIEW_PIECE_MISSING;
}
