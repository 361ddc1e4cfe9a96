/* torrent — metadata: a magnet's info dict from peers (ut_metadata, BEP9),
 * a v2 torrent's piece layers (BEP52 hash requests), the magnet's so=/ws=
 * extras, and the switch to an ordinary torrent once all of it is there.
 */
#include "core/torrent.h"
#include "core/torrent_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bencode.h"
#include "bt/ext.h"
#include "bt/layers.h"
#include "bt/metadata.h"
#include "bt/metainfo.h"
#include "bt/tracker/tracker.h"
#include "bt/wire.h"
#include "core/notify.h"
#include "core/peer.h"
#include "core/session.h"
#include "store/store.h"
#include "util/log.h"

/* ---- ut_metadata (BEP9) ---- */

void torrent_send_ext(struct peer *p, uint8_t id, struct buf *payload)
{
    bt_wire_put_extended(&p->out, id, buf_head(payload), buf_size(payload));
    peer_flush(p);
}

void torrent_request_metadata(struct torrent *t, struct peer *p)
{
    if (t->mi || !t->meta_asm || !p->rext->ut_metadata || p->state != PEER_ACTIVE)
        return;
    int piece;
    int sent = 0;
    while (sent < 16 && (piece = bt_metadata_asm_next(t->meta_asm, p, uv_now(t->s->loop))) >= 0) {
        struct buf b = BUF_INIT;
        if (bt_metadata_put_request(&b, (uint32_t)piece) == 0)
            torrent_send_ext(p, (uint8_t)p->rext->ut_metadata, &b);
        buf_free(&b);
        sent++;
    }
}

void torrent_on_ext_handshake(struct torrent *t, struct peer *p)
{
    if (t->mi || !p->rext->ut_metadata || p->rext->metadata_size <= 0)
        return;
    if (t->layers) {
        torrent_request_layers(t, p);
        return;
    }
    if (!t->meta_asm && (t->no_v1 ? bt_metadata_asm_new_v2(t->info_hash_v2, p->rext->metadata_size, &t->meta_asm)
                                  : bt_metadata_asm_new(t->info_hash, p->rext->metadata_size, &t->meta_asm)) != 0) {
        log_msg(LOG_WARNING, "'%s': peer %s announced unusable metadata size %lld", torrent_name(t), p->ip,
                (long long)p->rext->metadata_size);
        return;
    }
    torrent_request_metadata(t, p);
}

void torrent_clear_magnet_extra(struct torrent *t)
{
    free(t->magnet_so);
    t->magnet_so = NULL;
    t->num_magnet_so = 0;
    strv_clear(&t->magnet_ws);
    t->has_magnet_extra = false;
}

/* BEP53 so= picks the files to download; ws= adds web seeds. */
static void apply_magnet_extra(struct torrent *t)
{
    if (t->num_magnet_so > 0) {
        for (size_t i = 0; i < t->mi->num_files; i++)
            t->file_prios[i] = 0;
        for (size_t k = 0; k < t->num_magnet_so; k++) {
            int64_t i = t->magnet_so[k];
            if (i >= 0 && (uint64_t)i < t->mi->num_files)
                t->file_prios[i] = 1;
        }
        torrent_apply_file_priorities(t);
    }
    size_t add = t->magnet_ws.n;
    if (add > 0) {
        char **v = realloc(t->mi->web_seeds, (t->mi->num_web_seeds + add) * sizeof *v);
        if (v) {
            t->mi->web_seeds = v;
            for (size_t i = 0; i < add; i++) {
                char *u = strdup(t->magnet_ws.v[i]);
                if (u)
                    v[t->mi->num_web_seeds++] = u;
            }
        }
    }
    torrent_clear_magnet_extra(t);
}

static void metadata_failed(struct torrent *t, const char *why)
{
    free(t->error);
    t->error = strdup(why);
    t->phase = TP_ERROR;
    torrent_deactivate(t, true);
    log_msg(LOG_CRITICAL, "'%s': unusable metadata: %s", torrent_name(t), why);
}

/* A whole .torrent (its trackers included) for the store and export;
 * `layers` is a v2 torrent's piece layers, or NULL. */
static int build_torrent(const struct torrent *t, const uint8_t *info, size_t len, const struct bt_layers *layers,
                         struct buf *tb)
{
    int rc = benc_put_dict(tb);
    size_t nt = t->trk ? tracker_set_count(t->trk) : 0;
    if (rc == 0 && nt > 0) {
        benc_put_cstr(tb, "announce-list");
        benc_put_list(tb);
        for (size_t i = 0; i < nt; i++) {
            benc_put_list(tb);
            benc_put_cstr(tb, tracker_set_entry(t->trk, i)->url);
            benc_put_end(tb);
        }
        rc = benc_put_end(tb);
    }
    rc = rc ? rc : benc_put_cstr(tb, "info");
    rc = rc ? rc : buf_append(tb, info, len);
    if (rc == 0 && layers) {
        rc = benc_put_cstr(tb, "piece layers");
        rc = rc ? rc : bt_layers_put(layers, tb);
    }
    return rc ? rc : benc_put_end(tb);
}

/* From here on this is an ordinary torrent. */
static void metadata_complete(struct torrent *t, struct bt_metainfo *mi)
{
    torrent_deactivate(t, false);   /* peers re-handshake and send their bitfields */
    if (torrent_attach_metainfo(t, mi) != 0) {
        t->phase = TP_ERROR;
        t->error = strdup("out of memory");
        return;
    }
    log_msg(LOG_INFO, "'%s': metadata received (%zu bytes, %u pieces)", torrent_name(t), t->mi->info_len,
            t->mi->num_pieces);
    if (t->has_alt)
        session_index_alias(t->s, t);
    bool chose_files = t->num_magnet_so > 0;
    apply_magnet_extra(t);
    if (!chose_files)   /* qBittorrent filters only when no priorities were given */
        torrent_apply_excluded_names(t);
    store_torrent_metainfo(t->s->store, t->hex, t->mi->torrent_raw, t->mi->torrent_len, NULL, NULL);
    torrent_save_settings(t, NULL, NULL);
    torrent_touch(t);
    notify_metadata_received(t);
    for (size_t i = 0; i < t->num_cands; i++) {
        t->cands[i].next_try_ms = 0;
        t->cands[i].fails = 0;
    }
    if (t->stop_condition == TORRENT_STOP_METADATA) {
        t->stop_condition = TORRENT_STOP_NONE;
        t->stopped = true;
        torrent_save_settings(t, NULL, NULL);
    }
    if (t->stopped)
        torrent_defer_check(t);
    else
        torrent_start_check(t);
}

/* BEP52 hash requests for the piece layers of a v2 info dict. */
void torrent_request_layers(struct torrent *t, struct peer *p)
{
    if (!t->layers || p->state != PEER_ACTIVE)
        return;
    uint8_t req[BT_WIRE_HASH_REQ_LEN];
    bool sent = false;
    while (bt_layers_next(t->layers, p, uv_now(t->s->loop), req) == 1) {
        bt_wire_put_hash_request(&p->out, req);
        sent = true;
    }
    if (sent)
        peer_flush(p);
}

/* Every piece layer has arrived and verified: the .torrent is complete,
 * and parsing it checks the layers against the roots once more. */
static void layers_complete(struct torrent *t)
{
    struct bt_metainfo *info_only = t->layers_mi, *mi = NULL;
    struct buf tb = BUF_INIT;
    char err[256] = "out of memory";
    int rc = build_torrent(t, info_only->info_raw, info_only->info_len, t->layers, &tb);
    if (rc == 0)
        rc = bt_metainfo_parse(buf_head(&tb), buf_size(&tb), &mi, err, sizeof err);
    buf_free(&tb);
    bt_layers_free(t->layers);
    t->layers = NULL;
    bt_metainfo_free(info_only);
    t->layers_mi = NULL;
    if (rc != 0) {
        metadata_failed(t, err);
        return;
    }
    log_msg(LOG_INFO, "'%s': piece layers received", torrent_name(t));
    metadata_complete(t, mi);
}

/* The info dict became known (its hash checked). */
static void got_metadata(struct torrent *t, const uint8_t *info, size_t len)
{
    struct bt_metainfo *mi;
    char err[256];
    int rc = bt_metainfo_parse_info(info, len, &mi, err, sizeof err);
    bt_metadata_asm_free(t->meta_asm);
    t->meta_asm = NULL;
    if (rc == 0 && t->has_v2 && (!mi->v2 || memcmp(mi->info_hash_v2, t->info_hash_v2, 32) != 0)) {
        bt_metainfo_free(mi);
        snprintf(err, sizeof err, "the info dict does not have the magnet's v2 info-hash");
        rc = -EPROTO;
    }
    if (rc != 0) {
        metadata_failed(t, err);
        return;
    }
    if (mi->v2 && !mi->hybrid) {
        /* Only pieces roots: the piece layers come from peers first. */
        rc = bt_layers_new(mi, &t->layers);
        if (rc != 0) {
            bt_metainfo_free(mi);
            metadata_failed(t, "out of memory");
            return;
        }
        t->layers_mi = mi;
        if (bt_layers_done(t->layers)) {
            layers_complete(t);
            return;
        }
        log_msg(LOG_INFO, "'%s': metadata received (%zu bytes), asking peers for its piece layers",
                torrent_name(t), len);
        for (struct peer *p = t->peers; p; p = p->next)
            torrent_request_layers(t, p);
        return;
    }
    struct buf tb = BUF_INIT;
    if (build_torrent(t, info, len, NULL, &tb) != 0) {
        buf_free(&tb);
        bt_metainfo_free(mi);
        metadata_failed(t, "out of memory");
        return;
    }
    mi->torrent_raw = buf_steal(&tb, &mi->torrent_len);
    buf_free(&tb);
    metadata_complete(t, mi);
}

int torrent_on_hashes(struct torrent *t, struct peer *p, const uint8_t *payload, size_t len)
{
    if (!t->layers)
        return 0;   /* an answer that came after the layers were complete */
    int rc = bt_layers_add(t->layers, p, payload, len);
    if (rc == -EILSEQ) {
        log_msg(LOG_WARNING, "'%s': peer %s sent piece-layer hashes that do not match the pieces root",
                torrent_name(t), p->ip);
        return rc;
    }
    if (rc == 1)
        layers_complete(t);
    else
        torrent_request_layers(t, p);
    return 0;   /* -EPROTO: an answer to nothing we asked; ignored, as libtorrent does */
}

void torrent_on_hash_reject(struct torrent *t, struct peer *p, const uint8_t *req)
{
    if (!t->layers)
        return;
    bt_layers_reject(t->layers, p, req);
    torrent_request_layers(t, p);
}

void torrent_on_metadata_msg(struct torrent *t, struct peer *p, const uint8_t *payload, size_t len)
{
    struct bt_metadata_msg m;
    if (bt_metadata_parse(payload, len, &m) != 0)
        return;
    if (m.type == BT_METADATA_REQUEST) {
        if (!p->rext->ut_metadata)
            return;
        struct buf b = BUF_INIT;
        bool serve = t->mi && !t->mi->is_private &&
                     (uint64_t)m.piece * BT_METADATA_BLOCK < t->mi->info_len;
        if (serve) {
            size_t off = (size_t)m.piece * BT_METADATA_BLOCK;
            size_t n = t->mi->info_len - off < BT_METADATA_BLOCK ? t->mi->info_len - off : BT_METADATA_BLOCK;
            bt_metadata_put_data(&b, m.piece, (int64_t)t->mi->info_len, t->mi->info_raw + off, n);
        } else {
            bt_metadata_put_reject(&b, m.piece);
        }
        torrent_send_ext(p, (uint8_t)p->rext->ut_metadata, &b);
        buf_free(&b);
        return;
    }
    if (t->mi || !t->meta_asm)
        return;
    if (m.type == BT_METADATA_REJECT) {
        bt_metadata_asm_peer_gone(t->meta_asm, p);
        return;
    }
    int rc = bt_metadata_asm_add(t->meta_asm, m.piece, m.data, m.data_len);
    if (rc == 1) {
        size_t n;
        const uint8_t *info = bt_metadata_asm_data(t->meta_asm, &n);
        uint8_t *copy = malloc(n);
        if (!copy)
            return;
        memcpy(copy, info, n);
        got_metadata(t, copy, n);
        free(copy);
    } else if (rc == 0) {
        torrent_request_metadata(t, p);
    } else if (rc == -EILSEQ) {
        log_msg(LOG_WARNING, "'%s': metadata from the swarm did not match the info-hash", torrent_name(t));
    }
}
