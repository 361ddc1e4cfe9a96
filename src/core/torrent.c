#include "core/torrent.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt/bencode.h"
#include "bt/layers.h"
#include "bt/magnet.h"
#include "bt/metadata.h"
#include "bt/metainfo.h"
#include "bt/pex.h"
#include "bt/picker.h"
#include "bt/tracker/tracker.h"
#include "bt/wire.h"
#include "core/discovery.h"
#include "core/limits.h"
#include "core/peer.h"
#include "core/notify.h"
#include "core/queue.h"
#include "core/banlist.h"
#include "core/ssltorrent.h"
#include "core/webseed.h"
#include "core/session.h"
#include "core/torrent_status.h"
#include "disk/storage.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/path.h"

#define TORRENT_MAX_CANDIDATES 2000
#define TORRENT_CHOKE_INTERVAL_MS 10000
#define TORRENT_RESUME_INTERVAL_MS 3000

static void activate(struct torrent *t);
static void deactivate(struct torrent *t, bool announce_stop);
static void start_check(struct torrent *t);
static void defer_check(struct torrent *t);
/* MOVE_SAVE_PATH changes the save path; the others move the data between
 * the incomplete folder and the save path. */
enum move_kind { MOVE_SAVE_PATH, MOVE_TO_SAVE, MOVE_TO_DOWNLOAD };
static int move_data(struct torrent *t, const char *path, enum move_kind kind, void (*cb)(void *ud, int rc),
                     void *ud);
static void maybe_finish_removal(struct torrent *t);
static void on_finished(struct torrent *t);

static int64_t now_s(void) { return (int64_t)time(NULL); }

const char *torrent_name(const struct torrent *t)
{
    if (t->name)
        return t->name;
    if (t->mi)
        return t->mi->name;
    return t->magnet_name ? t->magnet_name : t->hex;
}

int64_t torrent_piece_size(const struct torrent *t, uint32_t piece)
{
    return bt_metainfo_piece_size(t->mi, piece);
}

bool torrent_is_finished(const struct torrent *t)
{
    return t->mi && t->phase == TP_READY && t->wanted_done >= t->wanted_size;
}

static bool piece_wanted(const struct torrent *t, uint32_t piece)
{
    assert(t->mi && piece < t->mi->num_pieces);
    return bitfield_get(&t->wanted, piece);
}

/* Recomputes the per-piece wanted set and picker priorities from file
 * priorities: a piece takes the highest priority of the files it touches. */
static void apply_file_priorities(struct torrent *t)
{
    const struct bt_metainfo *mi = t->mi;
    if (!mi)
        return;
    uint8_t *pp = calloc(mi->num_pieces, 1);
    if (!pp)
        return;
    for (size_t i = 0; i < mi->num_files; i++) {
        const struct bt_file *f = &mi->files[i];
        if (f->pad || f->length == 0)
            continue;
        uint32_t first = (uint32_t)(f->offset / mi->piece_length);
        uint32_t last = (uint32_t)((f->offset + f->length - 1) / mi->piece_length);
        for (uint32_t p = first; p <= last && p < mi->num_pieces; p++)
            if (t->file_prios[i] > pp[p])
                pp[p] = t->file_prios[i];
    }
    t->wanted_size = t->wanted_done = 0;
    for (uint32_t p = 0; p < mi->num_pieces; p++) {
        bt_picker_set_piece_priority(t->picker, p, pp[p]);
        if (pp[p]) {
            bitfield_set(&t->wanted, p);
            int64_t sz = torrent_piece_size(t, p);
            t->wanted_size += sz;
            if (bitfield_get(&t->have, p))
                t->wanted_done += sz;
        } else {
            bitfield_clear(&t->wanted, p);
        }
    }
    free(pp);
    storage_set_file_priorities(t->st, t->file_prios);
}

static void on_tracker_stats(void *ud, int64_t *up, int64_t *down, int64_t *left)
{
    struct torrent *t = ud;
    *up = t->ul_session;
    *down = t->dl_session;
    *left = t->wanted_size - t->wanted_done;
}

/* SSL torrents announce the SSL listen port. */
static uint16_t on_tracker_port(void *ud)
{
    return ssltorrent_announce_port(ud);
}

static void connect_candidates(struct torrent *t, uint64_t now);

static void on_tracker_peers(void *ud, const struct tracker_peer *peers, size_t n)
{
    struct torrent *t = ud;
    for (size_t i = 0; i < n; i++)
        torrent_add_peer_addr(t, (const struct sockaddr *)&peers[i].addr, false, PEER_SRC_TRACKER);
    /* Don't let fresh peers wait for the next tick. */
    if (t->active)
        connect_candidates(t, uv_now(t->s->loop));
}

/* The swarm as the trackers report it (libtorrent's num_complete and
 * num_incomplete, which qBittorrent shows): the largest count any tracker
 * gave, -1 while none did.  A stopped torrent's counts come from the
 * event=stopped reply, and no tick sees it: touch it for sync/maindata. */
static void on_tracker_changed(void *ud)
{
    struct torrent *t = ud;
    int64_t seeds = -1, leechers = -1;
    const struct tracker_entry *e;
    for (size_t i = 0; t->trk && (e = tracker_set_entry(t->trk, i)); i++) {
        if (e->swarm_seeds > seeds)
            seeds = e->swarm_seeds;
        if (e->swarm_leeches > leechers)
            leechers = e->swarm_leeches;
    }
    bool moved = seeds != t->num_complete || leechers != t->num_incomplete;
    t->num_complete = seeds;
    t->num_incomplete = leechers;
    if (moved && !t->active)
        torrent_touch(t);
}

/* Fields every torrent has, with or without metadata. */
static struct torrent *torrent_alloc(struct session *s, const uint8_t info_hash[20],
                                     const struct torrent_add_params *p, int64_t added_on)
{
    struct torrent *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->s = s;
    memcpy(t->info_hash, info_hash, 20);
    hex_encode(info_hash, 20, t->hex);
    const char *sp = p && p->save_path && *p->save_path ? p->save_path : session_default_save_path(s);
    t->save_path = strdup(sp);
    t->category = strdup(p && p->category ? p->category : "");
    t->name = p && p->rename && *p->rename ? strdup(p->rename) : NULL;
    if (p && p->download_path && *p->download_path) {
        t->download_path = strdup(p->download_path);
        t->data_in_download = p->data_in_download_path;
    }
    t->tags = json_array();
    t->renamed = json_object();
    if (p && p->tags && *p->tags) {
        char *dup = strdup(p->tags), *save = NULL;
        for (char *tok = dup ? strtok_r(dup, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ')
                tok++;
            if (*tok)
                json_array_append_new(t->tags, json_string(tok));
        }
        free(dup);
    }
    t->stopped = p && p->stopped;
    t->sequential = p && p->sequential;
    t->first_last_piece = p && p->first_last_piece;
    t->forced = p && p->forced;
    t->auto_tmm = p && p->auto_tmm;
    t->up_limit = p && p->up_limit > 0 ? p->up_limit : 0;
    t->dl_limit = p && p->dl_limit > 0 ? p->dl_limit : 0;
    t->ratio_limit = p ? p->ratio_limit : -2;
    t->seeding_time_limit = p ? p->seeding_time_limit : -2;
    t->inactive_seeding_time_limit = p ? p->inactive_seeding_time_limit : -2;
    t->stop_condition = p ? p->stop_condition : TORRENT_STOP_NONE;
    t->share_limit_action = p ? p->share_limit_action : TORRENT_SHARE_DEFAULT;
    t->added_on = added_on;
    t->completion_on = t->seen_complete = -1;
    t->last_activity = -1;
    t->num_complete = t->num_incomplete = -1;
    t->phase = TP_LOADING;
    rate_init(&t->dl_rate);
    rate_init(&t->ul_rate);
    ratelimit_init(&t->dl_limit_rl);
    ratelimit_init(&t->ul_limit_rl);
    limits_apply_torrent(t);
    bool lost = (p && p->rename && *p->rename && !t->name) ||
                (p && p->download_path && *p->download_path && !t->download_path);
    if (lost || !t->save_path || !t->category || !t->tags || !t->renamed) {
        free(t->save_path);
        free(t->category);
        free(t->name);
        free(t->download_path);
        json_decref(t->tags);
        json_decref(t->renamed);
        free(t);
        return NULL;
    }
    return t;
}

/* Gives the torrent its metadata: pieces, files, storage.  Takes mi; on
 * failure mi is freed and the torrent stays without metadata. */
static int attach_metainfo(struct torrent *t, struct bt_metainfo *mi)
{
    size_t nf = mi->num_files ? mi->num_files : 1;
    t->file_prios = malloc(nf);
    if (t->file_prios)
        memset(t->file_prios, 1, nf);
    t->picker = bt_picker_new(mi->num_pieces, mi->piece_length, mi->total_size);
    if (!t->file_prios || !t->picker || bitfield_init(&t->have, mi->num_pieces) != 0 ||
        bitfield_init(&t->wanted, mi->num_pieces) != 0 ||
        storage_open(t->s->loop, mi, t->data_in_download && t->download_path ? t->download_path : t->save_path,
                     &t->st) != 0) {
        log_msg(LOG_WARNING, "cannot set up torrent %s", t->hex);
        bt_picker_free(t->picker);
        t->picker = NULL;
        bitfield_free(&t->have);
        bitfield_free(&t->wanted);
        free(t->file_prios);
        t->file_prios = NULL;
        t->st = NULL;
        bt_metainfo_free(mi);
        return -ENOMEM;
    }
    t->mi = mi;
    t->root_known = false;
    if (mi->hybrid) {
        /* BEP52: peers may reach a hybrid by either hash */
        bool by_v1 = memcmp(t->info_hash, mi->info_hash, 20) == 0;
        memcpy(t->alt_hash, by_v1 ? mi->info_hash_v2 : mi->info_hash, 20);
        t->has_alt = true;
    }
    ssltorrent_metadata(t);
    bt_picker_set_sequential(t->picker, t->sequential);
    apply_file_priorities(t);
    return 0;
}

static void free_common(struct torrent *t)
{
    webseed_forget(t);
    ssltorrent_free(t);
    free(t->save_path);
    free(t->category);
    free(t->name);
    free(t->magnet_name);
    free(t->download_path);
    free(t->root_cache);
    json_decref(t->magnet_extra);
    json_decref(t->tags);
    json_decref(t->renamed);
    free(t);
}

static int finish_create(struct torrent *t, const struct bt_tier *tiers, size_t num_tiers,
                         const struct torrent_add_params *p, struct torrent **out)
{
    struct tracker_callbacks cb = {on_tracker_stats, on_tracker_peers, on_tracker_changed};
    t->trk = tracker_set_new(t->s->trackers, t->info_hash, tiers, num_tiers, &cb, t);
    if (t->trk)
        tracker_set_port_fn(t->trk, on_tracker_port);
    int rc = session_index_add(t->s, t);
    if (rc != 0) {
        t->removing = true;
        maybe_finish_removal(t);
        return rc;
    }
    if (p && p->top_of_queue)
        queue_move_to_top(t->s, t);
    *out = t;
    return 0;
}

/* contentLayout: Subfolder puts a single file into a folder named after it
 * (without extension); NoSubfolder drops the root folder of a multi-file
 * torrent.  Done before any storage exists; remembered as renames. */
static void apply_layout(struct torrent *t, struct bt_metainfo *mi, enum torrent_layout layout)
{
    if (layout == TORRENT_LAYOUT_SUBFOLDER && !mi->multi_file && mi->num_files == 1) {
        const char *name = mi->files[0].path;
        const char *dot = strrchr(name, '.');
        size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
        size_t need = stem + 1 + strlen(name) + 1;
        char *np = malloc(need);
        if (!np)
            return;
        snprintf(np, need, "%.*s/%s", (int)stem, name, name);
        free(mi->files[0].path);
        mi->files[0].path = np;
        json_object_set_new(t->renamed, "0", json_string(np));
    } else if (layout == TORRENT_LAYOUT_NOSUBFOLDER && mi->multi_file) {
        for (size_t i = 0; i < mi->num_files; i++) {
            const char *slash = strchr(mi->files[i].path, '/');
            if (!slash || !slash[1])
                continue;
            char *np = strdup(slash + 1);
            if (!np)
                continue;
            free(mi->files[i].path);
            mi->files[i].path = np;
            char key[24];
            snprintf(key, sizeof key, "%zu", i);
            json_object_set_new(t->renamed, key, json_string(np));
        }
    }
}

const char *torrent_root_folder(struct torrent *t)
{
    if (t->root_known)
        return t->root_cache;
    free(t->root_cache);
    t->root_cache = NULL;
    t->root_known = true;
    if (!t->mi)
        return NULL;
    size_t len = 0;
    const char *first = NULL;
    for (size_t i = 0; i < t->mi->num_files; i++) {
        const char *p = t->mi->files[i].path;
        const char *slash = strchr(p, '/');
        if (!slash)
            return NULL;   /* a file directly in the save path: no root */
        if (!first) {
            first = p;
            len = (size_t)(slash - p);
        } else if ((size_t)(slash - p) != len || strncmp(p, first, len) != 0) {
            return NULL;
        }
    }
    if (first)
        t->root_cache = strndup(first, len);
    return t->root_cache;
}

int torrent_create(struct session *s, struct bt_metainfo *mi, const struct torrent_add_params *p,
                   int64_t added_on, struct torrent **out)
{
    session_assert_loop_thread(s);
    struct torrent *t = torrent_alloc(s, p && p->key ? p->key : mi->info_hash, p, added_on);
    if (!t) {
        bt_metainfo_free(mi);
        return -ENOMEM;
    }
    if (p && p->layout != TORRENT_LAYOUT_ORIGINAL)
        apply_layout(t, mi, p->layout);
    if (attach_metainfo(t, mi) != 0) {
        free_common(t);
        return -ENOMEM;
    }
    return finish_create(t, mi->tiers, mi->num_tiers, p, out);
}

int torrent_create_magnet(struct session *s, const struct bt_magnet *m, const struct torrent_add_params *p,
                          int64_t added_on, struct torrent **out)
{
    session_assert_loop_thread(s);
    struct torrent *t = torrent_alloc(s, m->info_hash, p, added_on);
    if (!t)
        return -ENOMEM;
    t->magnet_name = m->name ? strdup(m->name) : NULL;
    if (m->has_v2) {
        t->has_v2 = true;
        t->no_v1 = !m->has_v1;
        memcpy(t->info_hash_v2, m->info_hash_v2, 32);
        hex_encode(t->info_hash_v2, 32, t->hex_v2);
    }
    if (m->num_select_only || m->num_web_seeds) {
        json_t *so = json_array(), *ws = json_array();
        for (size_t i = 0; i < m->num_select_only; i++)
            json_array_append_new(so, json_integer(m->select_only[i]));
        for (size_t i = 0; i < m->num_web_seeds; i++)
            json_array_append_new(ws, json_string(m->web_seeds[i]));
        t->magnet_extra = json_pack("{s:o, s:o}", "so", so, "ws", ws);
    }
    /* One tier per tracker, in the link's order. */
    struct bt_tier *tiers = calloc(m->num_trackers ? m->num_trackers : 1, sizeof *tiers);
    if (!tiers) {
        free_common(t);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m->num_trackers; i++) {
        tiers[i].urls = &m->trackers[i];
        tiers[i].num_urls = 1;
    }
    int rc = finish_create(t, tiers, m->num_trackers, p, out);
    free(tiers);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < m->num_peers; i++)
        torrent_add_peer_addr(t, (const struct sockaddr *)&m->peers[i], false, PEER_SRC_API);
    return 0;
}

/* ---- persistence ---- */

static char *settings_json(const struct torrent *t)
{
    json_t *prios = json_array();
    for (size_t i = 0; t->mi && i < t->mi->num_files; i++)
        json_array_append_new(prios, json_integer(t->file_prios[i]));
    json_t *o = json_pack("{s:s, s:s, s:s?, s:O, s:b, s:b, s:b, s:b, s:b, s:b, s:I, s:I, s:f, s:I, s:I, s:o}",
                          "save_path", t->save_path, "category", t->category, "name", t->name,
                          "tags", t->tags, "stopped", t->stopped, "sequential", t->sequential,
                          "first_last_piece", t->first_last_piece, "forced", t->forced,
                          "super_seeding", t->super_seeding, "auto_tmm", t->auto_tmm,
                          "up_limit", (json_int_t)t->up_limit, "dl_limit", (json_int_t)t->dl_limit,
                          "ratio_limit", t->ratio_limit,
                          "seeding_time_limit", (json_int_t)t->seeding_time_limit,
                          "inactive_seeding_time_limit", (json_int_t)t->inactive_seeding_time_limit,
                          "file_prios", prios);
    json_object_set_new(o, "queue_pos", json_integer((json_int_t)t->queue_pos));
    json_object_set_new(o, "share_limit_action", json_integer(t->share_limit_action));
    if (t->download_path) {
        json_object_set_new(o, "download_path", json_string(t->download_path));
        json_object_set_new(o, "data_in_download", json_boolean(t->data_in_download));
    }
    if (t->stop_condition != TORRENT_STOP_NONE)
        json_object_set_new(o, "stop_condition", json_integer(t->stop_condition));
    if (t->renamed && json_object_size(t->renamed))
        json_object_set(o, "renamed", t->renamed);
    if (!t->mi && t->magnet_extra)
        json_object_set(o, "magnet_extra", t->magnet_extra);
    /* Trackers and web seeds as edited through the API (the metainfo keeps
     * the originals). */
    if (t->trk) {
        json_t *trs = json_array();
        for (size_t i = 0; i < tracker_set_count(t->trk); i++) {
            const struct tracker_entry *e = tracker_set_entry(t->trk, i);
            json_array_append_new(trs, json_pack("{s:s, s:i}", "url", e->url, "tier", e->tier));
        }
        json_object_set_new(o, "trackers", trs);
    }
    if (t->mi) {
        json_t *ws = json_array();
        for (size_t i = 0; i < t->mi->num_web_seeds; i++)
            json_array_append_new(ws, json_string(t->mi->web_seeds[i]));
        json_object_set_new(o, "web_seeds", ws);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* The magnet a metadata-less torrent is stored as: its trackers included. */
static char *magnet_of(const struct torrent *t)
{
    size_t n = t->trk ? tracker_set_count(t->trk) : 0;
    const char **urls = calloc(n ? n : 1, sizeof *urls);
    if (!urls)
        return NULL;
    for (size_t i = 0; i < n; i++)
        urls[i] = tracker_set_entry(t->trk, i)->url;
    char *m = bt_magnet_build2(t->no_v1 ? NULL : t->info_hash, t->has_v2 ? t->info_hash_v2 : NULL,
                               t->magnet_name, urls, n);
    free(urls);
    return m;
}

int torrent_persist(struct torrent *t, void (*cb)(void *ud, int rc), void *ud)
{
    char *settings = settings_json(t);
    char *magnet = t->mi ? NULL : magnet_of(t);
    if (!settings || (!t->mi && !magnet)) {
        free(settings);
        free(magnet);
        return -ENOMEM;
    }
    int rc = store_torrent_put(t->s->store, t->hex, t->mi ? t->mi->torrent_raw : NULL,
                               t->mi ? t->mi->torrent_len : 0, magnet, t->added_on, settings, cb, ud);
    free(settings);
    free(magnet);
    return rc;
}

int torrent_save_settings(struct torrent *t, void (*cb)(void *ud, int rc), void *ud)
{
    char *settings = settings_json(t);
    if (!settings)
        return -ENOMEM;
    int rc = store_torrent_settings(t->s->store, t->hex, settings, cb, ud);
    free(settings);
    return rc;
}

void torrent_save_resume(struct torrent *t)
{
    /* Mid-check bits are not worth keeping, and an unchecked torrent's empty
     * bitfield must never be saved as if it had been verified. */
    if (!t->mi || (t->phase != TP_READY && t->phase != TP_ERROR) || t->needs_check)
        return;
    size_t nf = t->mi->num_files;
    int64_t *files = malloc(2 * nf * sizeof(int64_t) + 1);
    if (!files)
        return;
    storage_stat_files(t->st, files, files + nf);
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                          "downloaded", (json_int_t)t->downloaded, "uploaded", (json_int_t)t->uploaded,
                          "wasted", (json_int_t)t->wasted, "active_time", (json_int_t)t->active_time,
                          "seeding_time", (json_int_t)t->seeding_time,
                          "completion_on", (json_int_t)t->completion_on,
                          "seen_complete", (json_int_t)t->seen_complete,
                          "last_activity", (json_int_t)t->last_activity);
    char *stats = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    store_resume_put(t->s->store, t->hex, t->have.bits, bitfield_bytes(&t->have), (uint8_t *)files,
                     2 * nf * sizeof(int64_t), stats);
    free(stats);
    free(files);
    t->resume_dirty = false;
    t->resume_saved_ms = t->s->now_ms;
}

static char *clean_rel_path(const char *p);

/* Rebuilds the tracker set from the saved list (url + tier), which reflects
 * edits made through the API. */
static void restore_trackers(struct torrent *t, json_t *trs)
{
    size_t n = json_array_size(trs);
    if (!t->trk)
        return;
    /* Drop what the metainfo/magnet gave, then add the saved list in order. */
    while (tracker_set_count(t->trk) > 0) {
        char *url = strdup(tracker_set_entry(t->trk, 0)->url);
        int rc = url ? tracker_set_remove(t->trk, url) : -ENOMEM;
        free(url);
        if (rc != 0)
            break;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(trs, i);
        const char *url = json_string_value(json_object_get(e, "url"));
        if (url)
            tracker_set_add(t->trk, url, (int)json_integer_value(json_object_get(e, "tier")));
    }
}

static void apply_settings(struct torrent *t, const char *settings)
{
    json_error_t e;
    json_t *o = json_loads(settings ? settings : "{}", 0, &e);
    if (!o)
        return;
    const char *v;
    if ((v = json_string_value(json_object_get(o, "category")))) {
        free(t->category);
        t->category = strdup(v);
    }
    if ((v = json_string_value(json_object_get(o, "name")))) {
        free(t->name);
        t->name = strdup(v);
    }
    json_t *tags = json_object_get(o, "tags");
    if (json_is_array(tags)) {
        json_decref(t->tags);
        t->tags = json_incref(tags);
    }
    t->stopped = json_is_true(json_object_get(o, "stopped"));
    t->sequential = json_is_true(json_object_get(o, "sequential"));
    t->first_last_piece = json_is_true(json_object_get(o, "first_last_piece"));
    t->forced = json_is_true(json_object_get(o, "forced"));
    t->super_seeding = json_is_true(json_object_get(o, "super_seeding"));
    t->auto_tmm = json_is_true(json_object_get(o, "auto_tmm"));
    t->up_limit = json_integer_value(json_object_get(o, "up_limit"));
    t->dl_limit = json_integer_value(json_object_get(o, "dl_limit"));
    json_t *rl = json_object_get(o, "ratio_limit");
    if (rl)
        t->ratio_limit = json_number_value(rl);
    if (json_object_get(o, "seeding_time_limit"))
        t->seeding_time_limit = json_integer_value(json_object_get(o, "seeding_time_limit"));
    if (json_object_get(o, "inactive_seeding_time_limit"))
        t->inactive_seeding_time_limit = json_integer_value(json_object_get(o, "inactive_seeding_time_limit"));
    json_t *trs = json_object_get(o, "trackers");
    if (json_is_array(trs))
        restore_trackers(t, trs);
    json_t *extra = json_object_get(o, "magnet_extra");
    if (!t->mi && json_is_object(extra)) {
        json_decref(t->magnet_extra);
        t->magnet_extra = json_incref(extra);
    }
    json_t *ws = json_object_get(o, "web_seeds");
    if (t->mi && json_is_array(ws)) {
        for (size_t i = 0; i < t->mi->num_web_seeds; i++)
            free(t->mi->web_seeds[i]);
        free(t->mi->web_seeds);
        t->mi->num_web_seeds = 0;
        t->mi->web_seeds = calloc(json_array_size(ws) + 1, sizeof *t->mi->web_seeds);
        for (size_t i = 0; t->mi->web_seeds && i < json_array_size(ws); i++) {
            char *u = json_is_string(json_array_get(ws, i)) ? strdup(json_string_value(json_array_get(ws, i))) : NULL;
            if (u)   /* a NULL entry would be dereferenced by every reader */
                t->mi->web_seeds[t->mi->num_web_seeds++] = u;
        }
    }
    /* Renamed files: applied before any storage job ran (restore time). */
    json_t *ren = json_object_get(o, "renamed");
    if (t->mi && json_is_object(ren)) {
        const char *k;
        json_t *v;
        json_object_foreach(ren, k, v) {
            char *end;
            unsigned long i = strtoul(k, &end, 10);
            char *p = *end ? NULL : clean_rel_path(json_string_value(v));
            if (p && i < t->mi->num_files) {
                free(t->mi->files[i].path);
                t->mi->files[i].path = p;
                json_object_set(t->renamed, k, v);
                t->root_known = false;
            } else {
                free(p);
            }
        }
    }
    if (json_is_integer(json_object_get(o, "share_limit_action")))
        t->share_limit_action = (enum torrent_share_action)json_integer_value(json_object_get(o, "share_limit_action"));
    if (json_is_integer(json_object_get(o, "stop_condition")))
        t->stop_condition = (enum torrent_stop_condition)json_integer_value(json_object_get(o, "stop_condition"));
    if (json_is_integer(json_object_get(o, "queue_pos")))
        t->queue_pos = json_integer_value(json_object_get(o, "queue_pos"));
    json_t *prios = json_object_get(o, "file_prios");
    if (t->mi && json_is_array(prios) && json_array_size(prios) == t->mi->num_files)
        for (size_t i = 0; i < t->mi->num_files; i++)
            t->file_prios[i] = (uint8_t)json_integer_value(json_array_get(prios, i));
    json_decref(o);
    if (t->picker)
        bt_picker_set_sequential(t->picker, t->sequential);
}

static void apply_stats(struct torrent *t, const char *stats)
{
    json_error_t e;
    json_t *o = stats ? json_loads(stats, 0, &e) : NULL;
    if (!o)
        return;
#define GET(k) json_integer_value(json_object_get(o, #k))
    t->downloaded = GET(downloaded);
    t->uploaded = GET(uploaded);
    t->wasted = GET(wasted);
    t->active_time = GET(active_time);
    t->seeding_time = GET(seeding_time);
    if (json_object_get(o, "completion_on"))
        t->completion_on = GET(completion_on);
    if (json_object_get(o, "seen_complete"))
        t->seen_complete = GET(seen_complete);
    if (json_object_get(o, "last_activity"))
        t->last_activity = GET(last_activity);
#undef GET
    json_decref(o);
}

static void set_have_from_bits(struct torrent *t, const uint8_t *bits)
{
    uint32_t n = t->mi->num_pieces;
    for (uint32_t i = 0; i < n; i++) {
        if (bits[i >> 3] & (0x80 >> (i & 7))) {
            bitfield_set(&t->have, i);
            bt_picker_we_have(t->picker, i);
        }
    }
    apply_file_priorities(t);
    if (torrent_is_finished(t) || t->have.count == n)
        t->had_metadata_complete = true;
}

/* Resume data is trusted only when every file looks exactly as it did when
 * the data was saved; anything else (a crash after more writes, a user
 * editing files) costs a recheck, never a wrong "have". */
static bool files_match(struct torrent *t, const uint8_t *files, size_t files_len)
{
    size_t nf = t->mi->num_files;
    if (files_len != 2 * nf * sizeof(int64_t))
        return false;
    int64_t *now = malloc(2 * nf * sizeof(int64_t) + 1);
    if (!now)
        return false;
    storage_stat_files(t->st, now, now + nf);
    bool same = memcmp(now, files, files_len) == 0;
    free(now);
    return same;
}

int torrent_restore(struct torrent *t, const char *settings, const uint8_t *have, size_t have_len,
                    const uint8_t *files, size_t files_len, const char *stats)
{
    apply_settings(t, settings);
    apply_stats(t, stats);
    apply_file_priorities(t);
    limits_apply_torrent(t);
    if (!t->mi) {
        /* A magnet still waiting for its metadata. */
        t->phase = TP_READY;
        if (!t->stopped)
            activate(t);
        return 0;
    }
    if (have && have_len == bitfield_bytes(&t->have) && files_match(t, files, files_len)) {
        set_have_from_bits(t, have);
        t->phase = TP_READY;
        if (!t->stopped)
            activate(t);
        return 0;
    }
    if (have)
        log_msg(LOG_INFO, "'%s': files changed since the last save, rechecking", torrent_name(t));
    if (t->stopped)
        defer_check(t);
    else
        start_check(t);
    return 0;
}

/* ---- checking ---- */

static void on_check_progress(void *ud, uint32_t done, uint32_t total)
{
    struct torrent *t = ud;
    (void)total;
    t->check_progress = done;
    torrent_touch(t);
}

static void on_check_done(void *ud, int rc, const uint8_t *have_bits, uint32_t num_pieces)
{
    struct torrent *t = ud;
    t->check = NULL;
    torrent_touch(t);
    if (rc != 0 || num_pieces != t->mi->num_pieces) {
        t->phase = TP_ERROR;
        free(t->error);
        t->error = strdup(strerror(rc < 0 ? -rc : EIO));
        log_msg(LOG_CRITICAL, "'%s': checking failed: %s", torrent_name(t), t->error);
        return;
    }
    set_have_from_bits(t, have_bits);
    t->phase = TP_READY;
    if (torrent_is_finished(t) && t->completion_on < 0 && t->wanted_size > 0)
        t->completion_on = now_s();
    log_msg(LOG_INFO, "'%s': checked, %u of %u pieces present", torrent_name(t), t->have.count, num_pieces);
    torrent_save_resume(t);
    if (t->stop_condition != TORRENT_STOP_NONE) {
        /* MetadataReceived is met too once a torrent has been checked. */
        t->stop_condition = TORRENT_STOP_NONE;
        t->stopped = true;
        torrent_save_settings(t, NULL, NULL);
    }
    if (!t->stopped)
        activate(t);
}

/* Smart-ban compares blocks as the wire carries them. */
_Static_assert(STORAGE_HASH_BLOCK == BT_PICKER_BLOCK, "storage hashes wire blocks");

static uint32_t piece_blocks(const struct torrent *t, uint32_t piece)
{
    return (uint32_t)((torrent_piece_size(t, piece) + BT_PICKER_BLOCK - 1) / BT_PICKER_BLOCK);
}

static void free_partial(struct piece_buf *pb)
{
    free(pb->data);
    free(pb->senders);
    free(pb);
}

static void reset_pieces(struct torrent *t)
{
    bt_picker_free(t->picker);
    t->picker = bt_picker_new(t->mi->num_pieces, t->mi->piece_length, t->mi->total_size);
    bt_picker_set_sequential(t->picker, t->sequential);
    for (uint32_t i = 0; i < t->mi->num_pieces; i++)
        bitfield_clear(&t->have, i);
    for (size_t i = 0; i < t->num_partials; i++)
        free_partial(t->partials[i]);
    t->num_partials = 0;
    apply_file_priorities(t);
}

static void start_check(struct torrent *t)
{
    torrent_touch(t);
    t->phase = TP_CHECKING;
    t->check_progress = 0;
    int rc = storage_check(t->st, on_check_progress, on_check_done, t, &t->check);
    if (rc != 0) {
        t->phase = TP_ERROR;
        t->error = strdup("cannot start checking");
    }
}

/* A stopped torrent is not checked until it is started, as in qBittorrent:
 * it shows as stopped with what it knows (nothing) until then. */
static void defer_check(struct torrent *t)
{
    t->needs_check = true;
    t->phase = TP_READY;
}

void torrent_begin(struct torrent *t, bool skip_checking)
{
    if (!t->mi) {
        t->phase = TP_READY;
        if (!t->stopped)
            activate(t);
        return;
    }
    if (skip_checking) {
        uint32_t n = t->mi->num_pieces;
        uint8_t *all = malloc(n / 8 + 1);
        if (all) {
            memset(all, 0xff, n / 8 + 1);
            set_have_from_bits(t, all);
            free(all);
        }
        t->phase = TP_READY;
        t->completion_on = now_s();
        torrent_save_resume(t);
        if (!t->stopped)
            activate(t);
        return;
    }
    if (t->stopped)
        defer_check(t);
    else
        start_check(t);
}

void torrent_recheck(struct torrent *t)
{
    session_assert_loop_thread(t->s);
    if (t->removing || !t->mi)
        return;
    if (t->check) {
        storage_check_cancel(t->check);
        t->check = NULL;
    }
    if (t->active)
        deactivate(t, false);
    if (t->writes_in_flight > 0) {
        /* Pieces still being written would land in the old picker; the
         * check that follows sees them on disk anyway. */
        log_debug("%s: recheck with %u writes in flight", t->hex, t->writes_in_flight);
    }
    t->needs_check = false;
    reset_pieces(t);
    start_check(t);
}

/* ---- activity ---- */

static void activate(struct torrent *t)
{
    if (t->active || t->removing || t->phase != TP_READY || t->stopped || t->queued)
        return;
    torrent_touch(t);
    t->active = true;
    session_set_active(t->s, t, true);
    tracker_set_start(t->trk);
    /* Announce now rather than on the next tick: a second less to first byte. */
    tracker_set_tick(t->trk, uv_now(t->s->loop));
    if (torrent_is_finished(t) && t->completion_on < 0)
        t->completion_on = now_s();
    webseed_sync(t);
    /* Reconnect right away to peers we knew. */
    for (size_t i = 0; i < t->num_cands; i++)
        t->cands[i].next_try_ms = 0;
}

static void deactivate(struct torrent *t, bool announce_stop)
{
    if (!t->active)
        return;
    torrent_touch(t);
    discovery_torrent_gone(t);
    webseed_free_all(t);
    t->active = false;
    for (int i = 0; i < TORRENT_READ_CACHE; i++) {
        if (t->rcache[i].data) {
            free(t->rcache[i].data);
            t->rcache[i].data = NULL;
            t->rcache[i].piece = UINT32_MAX;
        }
    }
    session_set_active(t->s, t, false);
    if (announce_stop)
        tracker_set_stop(t->trk);
    while (t->peers)
        peer_close(t->peers, "torrent stopped");
    rate_init(&t->dl_rate);
    rate_init(&t->ul_rate);
}

void torrent_start(struct torrent *t)
{
    session_assert_loop_thread(t->s);
    if (t->removing)
        return;
    torrent_touch(t);
    bool changed = t->stopped;
    t->stopped = false;
    if (t->phase == TP_ERROR) {
        free(t->error);
        t->error = NULL;
        t->phase = TP_READY;
    }
    if (t->needs_check && t->phase == TP_READY && t->mi) {
        t->needs_check = false;
        start_check(t);   /* activates when done */
    } else {
        activate(t);
    }
    if (changed)
        torrent_save_settings(t, NULL, NULL);
}

void torrent_stop(struct torrent *t)
{
    session_assert_loop_thread(t->s);
    if (t->removing)
        return;
    torrent_touch(t);
    bool changed = !t->stopped;
    t->stopped = true;
    t->forced = false;
    deactivate(t, true);
    if (changed) {
        torrent_save_settings(t, NULL, NULL);
        torrent_save_resume(t);
    }
}

void torrent_set_queued(struct torrent *t, bool queued)
{
    if (t->queued == queued)
        return;
    t->queued = queued;
    torrent_touch(t);
    if (queued)
        deactivate(t, true);
    else
        activate(t);
}

void torrent_set_forced(struct torrent *t, bool forced)
{
    t->forced = forced;
    torrent_start(t);
}

void torrent_reannounce(struct torrent *t)
{
    session_assert_loop_thread(t->s);
    if (t->active)
        tracker_set_reannounce(t->trk);
}

/* ---- peers ---- */

static struct peer_candidate *find_cand(struct torrent *t, const struct sockaddr *sa)
{
    size_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    for (size_t i = 0; i < t->num_cands; i++)
        if (t->cands[i].addr.ss_family == sa->sa_family && memcmp(&t->cands[i].addr, sa, len) == 0)
            return &t->cands[i];
    return NULL;
}

int torrent_add_peer_addr(struct torrent *t, const struct sockaddr *sa, bool connect_now, uint8_t source)
{
    if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
        return -EAFNOSUPPORT;
    struct peer_candidate *c = find_cand(t, sa);
    if (!c) {
        if (t->num_cands >= TORRENT_MAX_CANDIDATES)
            return -ENOSPC;
        if (t->num_cands == t->cap_cands) {
            size_t cap = t->cap_cands ? t->cap_cands * 2 : 16;
            struct peer_candidate *n = realloc(t->cands, cap * sizeof *n);
            if (!n)
                return -ENOMEM;
            t->cands = n;
            t->cap_cands = cap;
        }
        c = &t->cands[t->num_cands++];
        memset(c, 0, sizeof *c);
        memcpy(&c->addr, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    }
    c->source |= source;
    if (connect_now) {
        c->next_try_ms = 0;
        c->fails = 0;
        if (t->active && !c->connected) {
            c->connected = true;
            if (session_connect_peer(t->s, t, sa, c->source) != 0)
                c->connected = false;
        }
    }
    return 0;
}

static void connect_candidates(struct torrent *t, uint64_t now)
{
    unsigned max_peers = (unsigned)settings_int(&t->s->settings, SET_MAX_CONNEC_PER_TORRENT);
    if (max_peers == 0 || max_peers > 1000)
        max_peers = 100;
    if (torrent_is_finished(t))
        return;  /* seeds wait for leechers to come to them */
    int budget = 10;
    for (size_t i = 0; i < t->num_cands && budget > 0 && t->num_peers < max_peers; i++) {
        struct peer_candidate *c = &t->cands[i];
        if (c->connected || c->next_try_ms > now)
            continue;
        c->connected = true;
        budget--;
        if (session_connect_peer(t->s, t, (struct sockaddr *)&c->addr, c->source) != 0) {
            c->connected = false;
            c->fails++;
            c->next_try_ms = now + 30000ull * c->fails;
        }
    }
}

void torrent_peer_attach(struct torrent *t, struct peer *p)
{
    peer_list_push(&t->peers, p);
    t->num_peers++;
    if (!p->incoming) {
        struct peer_candidate *c = find_cand(t, (struct sockaddr *)&p->addr);
        if (c)
            c->connected = true;
    }
}

void torrent_peer_detach(struct torrent *t, struct peer *p)
{
    peer_list_unlink(&t->peers, p);
    t->num_peers--;
    t->closing_peers++;
    if (t->picker) {
        bt_picker_peer_cancel_all(t->picker, p);
        if (p->bitfield_seen && p->have.bits)
            bt_picker_peer_gone(t->picker, &p->have, p->have_all);
    }
    p->num_reqs = 0;
    if (t->meta_asm)
        bt_metadata_asm_peer_gone(t->meta_asm, p);
    if (t->layers)
        bt_layers_peer_gone(t->layers, p);
    bt_pex_state_free(p->pex);
    p->pex = NULL;
    if (!p->incoming) {
        struct peer_candidate *c = find_cand(t, (struct sockaddr *)&p->addr);
        if (c) {
            c->connected = false;
            /* A peer that never got to exchange data is retried later and later. */
            if (p->downloaded == 0 && p->uploaded == 0)
                c->fails++;
            c->next_try_ms = t->s->now_ms + 5000ull + 30000ull * c->fails;
            if (c->fails > 10)
                c->next_try_ms = UINT64_MAX;
        }
    }
    if (!p->am_choking)
        t->next_choke_ms = 0;
}

void torrent_peer_closed(struct torrent *t)
{
    t->closing_peers--;
    maybe_finish_removal(t);
}

static bool peer_has_wanted(struct torrent *t, struct peer *p)
{
    if (!t->mi || torrent_is_finished(t) || !p->have.bits)
        return !t->mi ? false : p->have_all && !torrent_is_finished(t);
    if (p->have_all)
        return true;
    uint32_t n = t->mi->num_pieces;
    size_t nbytes = bitfield_bytes(&t->have);
    for (size_t i = 0; i < nbytes; i++) {
        uint8_t cand = p->have.bits[i] & ~t->have.bits[i] & t->wanted.bits[i];
        if (cand)
            return true;
    }
    (void)n;
    return false;
}

void torrent_peer_interest(struct torrent *t, struct peer *p)
{
    bool want = peer_has_wanted(t, p);
    if (want != p->am_interested) {
        peer_set_interested(p, want);
        if (want && !p->peer_choking)
            torrent_fill_requests(t, p);
    }
}

/* Pieces waiting for hashing and writing hold their whole buffer; past this
 * the network is faster than the disk and asking for more only costs memory. */
#define TORRENT_MAX_WRITE_BACKLOG (64ll << 20)

static bool write_backlog_full(const struct torrent *t)
{
    return (int64_t)t->writes_in_flight * t->mi->piece_length > TORRENT_MAX_WRITE_BACKLOG;
}

void torrent_fill_requests(struct torrent *t, struct peer *p)
{
    if (!t->mi || p->state != PEER_ACTIVE || p->peer_choking || !p->am_interested || t->phase != TP_READY)
        return;
    if (write_backlog_full(t)) {
        t->fill_deferred = true;
        return;
    }
    int want = peer_pipeline_target(p, t->s->now_ms) - p->num_reqs;
    if (want <= 0)
        return;
    struct bt_block blocks[64];
    while (want > 0) {
        int n = bt_picker_pick(t->picker, &p->have, p->have_all, p, blocks, want < 64 ? want : 64);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++)
            peer_send_request(p, blocks[i].piece, blocks[i].begin, blocks[i].length);
        want -= n;
        if (n < 64)
            break;
    }
    peer_flush(p);
}

static void run_choker(struct torrent *t)
{
    struct bt_choker_peer cp[256];
    size_t n = 0;
    for (struct peer *p = t->peers; p && n < 256; p = p->next) {
        if (p->state != PEER_ACTIVE)
            continue;
        cp[n++] = (struct bt_choker_peer){
            .peer = p,
            .interested = p->peer_interested,
            .choked = p->am_choking,
            .down_rate = rate_get(&p->down, t->s->now_ms),
            .up_rate = rate_get(&p->up, t->s->now_ms),
            .snubbed = p->snubbed,
            .optimistic = p->optimistic,
            .unchoked_since_ms = p->unchoked_since_ms,
        };
    }
    int slots = (int)settings_int(&t->s->settings, SET_MAX_UPLOADS_PER_TORRENT);
    if (slots == 0)
        slots = 4;
    bt_choker_run(&t->choker, cp, n, slots, torrent_is_finished(t), t->s->now_ms);
    for (size_t i = 0; i < n; i++) {
        struct peer *p = cp[i].peer;
        p->optimistic = cp[i].optimistic;
        peer_set_choke(p, cp[i].choked);
    }
    t->next_choke_ms = t->s->now_ms + TORRENT_CHOKE_INTERVAL_MS;
}

void torrent_unchoke_check(struct torrent *t)
{
    /* An interested peer should not wait up to 10 s for a free slot. */
    t->next_choke_ms = 0;
    run_choker(t);
}

/* ---- blocks and pieces ---- */

static struct piece_buf *find_partial(struct torrent *t, uint32_t piece, size_t *idx)
{
    for (size_t i = 0; i < t->num_partials; i++) {
        if (t->partials[i]->piece == piece) {
            if (idx)
                *idx = i;
            return t->partials[i];
        }
    }
    return NULL;
}

static struct piece_buf *new_partial(struct torrent *t, uint32_t piece)
{
    assert(piece < t->mi->num_pieces);   /* blocks are matched to our requests first */
    if (t->num_partials == t->cap_partials) {
        size_t cap = t->cap_partials ? t->cap_partials * 2 : 16;
        struct piece_buf **n = realloc(t->partials, cap * sizeof *n);
        if (!n)
            return NULL;
        t->partials = n;
        t->cap_partials = cap;
    }
    struct piece_buf *pb = calloc(1, sizeof *pb);
    if (!pb)
        return NULL;
    pb->piece = piece;
    pb->data = malloc((size_t)torrent_piece_size(t, piece));
    pb->senders = calloc(piece_blocks(t, piece), sizeof *pb->senders);
    if (!pb->data || !pb->senders) {
        free_partial(pb);
        return NULL;
    }
    t->partials[t->num_partials++] = pb;
    return pb;
}

struct write_ctx {
    struct torrent *t;
    uint32_t piece;
    uint32_t nblocks;
    struct smartban_ip *senders;   /* from the piece_buf */
    uint8_t (*sha1)[20];           /* block hashes, filled by storage */
    bool verify;                   /* the piece failed before: sha1 is filled when it passes */
};

static void on_finished(struct torrent *t)
{
    t->completion_on = now_s();
    t->had_metadata_complete = true;
    log_msg(LOG_INFO, "'%s': download finished", torrent_name(t));
    notify_torrent_finished(t);
    tracker_set_completed(t->trk);
    struct peer *next;
    for (struct peer *p = t->peers; p; p = next) {
        next = p->next;
        if (p->state != PEER_ACTIVE)
            continue;
        peer_set_interested(p, false);
        /* Two seeds have nothing to say to each other. */
        if (p->have_all || (p->have.bits && p->have.count == t->mi->num_pieces))
            peer_close(p, "both seeding");
    }
    torrent_save_resume(t);
    t->next_choke_ms = 0;
    /* Complete: from the incomplete folder to the save path. */
    if (t->data_in_download && t->st && strcmp(storage_save_path(t->st), t->save_path) != 0)
        move_data(t, t->save_path, MOVE_TO_SAVE, NULL, NULL);
}

static void ban_senders(struct torrent *t, const struct smartban_ip *ban, int n)
{
    for (int i = 0; i < n; i++) {
        char ip[64];
        smartban_ip_str(&ban[i], ip, sizeof ip);
        if (banlist_is_banned(t->s, ip))
            continue;   /* named again by another of the pieces it spoiled */
        log_msg(LOG_WARNING, "'%s': %s sent corrupt data", torrent_name(t), ip);
        banlist_ban_peer(t->s, ip, "sent corrupt data (smart ban)");
    }
}

/* A failed piece: remember who sent which block, ban who is already known
 * guilty (core/smartban.h). */
static void blame_failed(struct torrent *t, struct write_ctx *w)
{
    if (!t->smartban && !(t->smartban = smartban_new()))
        return;
    struct smartban_ip ban[8];
    int n = smartban_piece_failed(t->smartban, w->piece, w->nblocks, w->senders,
                                  (const uint8_t(*)[20])w->sha1, ban, 8);
    ban_senders(t, ban, n);
}

/* A piece that failed before has passed: whoever sent a block that differs
 * from the good one lied. */
static void blame_passed(struct torrent *t, struct write_ctx *w)
{
    struct smartban_ip ban[8];
    int n = smartban_piece_passed(t->smartban, w->piece, w->nblocks, (const uint8_t(*)[20])w->sha1, ban, 8);
    ban_senders(t, ban, n);
}

static void write_ctx_free(struct write_ctx *w)
{
    free(w->senders);
    free(w->sha1);
    free(w);
}

/* A piece written while the torrent closes for shutdown is kept when it
 * verified and does not finish the torrent: finishing runs work (moving out
 * of the incomplete folder, notifications) that has no place in a shutdown,
 * so that last piece is simply fetched again after the restart. */
static bool piece_worth_keeping(const struct torrent *t, uint32_t piece, int rc)
{
    if (rc != 0 || bitfield_get(&t->have, piece))
        return false;
    int64_t done = t->wanted_done + (piece_wanted(t, piece) ? torrent_piece_size(t, piece) : 0);
    return done < t->wanted_size;
}

static void on_piece_written(void *ud, uint32_t piece, int rc)
{
    struct write_ctx *w = ud;
    struct torrent *t = w->t;
    t->writes_in_flight--;
    if (t->fill_deferred && !t->removing && !write_backlog_full(t)) {
        t->fill_deferred = false;
        for (struct peer *p = t->peers; p; p = p->next)
            torrent_fill_requests(t, p);
    }
    if (t->removing && (!t->closing || !piece_worth_keeping(t, piece, rc))) {
        write_ctx_free(w);
        maybe_finish_removal(t);
        return;
    }
    if (t->closing) {
        /* Shutdown: the piece is on disk and verified, so the final save
         * (which waits for this write) includes it. */
        bitfield_set(&t->have, piece);
        bt_picker_piece_passed(t->picker, piece);
        if (piece_wanted(t, piece))
            t->wanted_done += torrent_piece_size(t, piece);
        t->resume_dirty = true;
        write_ctx_free(w);
        maybe_finish_removal(t);
        return;
    }
    if (rc == 0) {
        if (w->verify)
            blame_passed(t, w);
        if (!bitfield_get(&t->have, piece)) {
            bt_picker_piece_passed(t->picker, piece);
            bitfield_set(&t->have, piece);
            if (piece_wanted(t, piece))
                t->wanted_done += torrent_piece_size(t, piece);
            t->resume_dirty = true;
            for (struct peer *p = t->peers; p; p = p->next) {
                peer_send_have(p, piece);
                peer_flush(p);
            }
            if (t->wanted_done >= t->wanted_size)
                on_finished(t);
        }
    } else if (rc == -EILSEQ) {
        int64_t sz = torrent_piece_size(t, piece);
        bt_picker_piece_failed(t->picker, piece);
        t->wasted += sz;
        t->s->wasted_session += sz;
        log_msg(LOG_WARNING, "'%s': piece %u failed the hash check", torrent_name(t), piece);
        blame_failed(t, w);
        for (struct peer *p = t->peers; p; p = p->next)
            torrent_fill_requests(t, p);
    } else if (rc == -ENOENT) {
        /* Only unwanted, never-created files: the priority changed while the
         * piece was in flight.  Not an error, just not had. */
        bt_picker_piece_failed(t->picker, piece);
    } else {
        bt_picker_piece_failed(t->picker, piece);
        free(t->error);
        t->error = strdup(strerror(-rc));
        log_msg(LOG_CRITICAL, "'%s': cannot write piece %u: %s; torrent stopped", torrent_name(t), piece,
                t->error);
        t->phase = TP_ERROR;
        deactivate(t, true);
        torrent_touch(t);
    }
    write_ctx_free(w);
}

/* Requesters handed back by the picker may be web seeds, not peers. */
static bool is_webseed_tag(const struct torrent *t, const void *tag)
{
    for (size_t i = 0; i < t->num_webseeds; i++)
        if ((const void *)t->webseeds[i] == tag)
            return true;
    return false;
}

void torrent_on_block(struct torrent *t, struct peer *p, uint32_t piece, uint32_t begin,
                      const uint8_t *data, uint32_t len)
{
    torrent_on_block_from(t, p, p, piece, begin, data, len);
}

void torrent_on_block_from(struct torrent *t, struct peer *p, void *tag, uint32_t piece, uint32_t begin,
                           const uint8_t *data, uint32_t len)
{
    uint64_t now = t->s->now_ms;
    if (bitfield_get(&t->have, piece)) {
        t->wasted += len;
        t->s->wasted_session += len;
        return;
    }
    /* End-game: the same block may be on its way from others; cancel them. */
    void *others[16];
    int no = bt_picker_block_requesters(t->picker, piece, begin, others, 16);
    for (int i = 0; i < no; i++) {
        struct peer *q = others[i];
        if ((void *)q != tag && !is_webseed_tag(t, q) && q->state == PEER_ACTIVE) {
            peer_send_cancel(q, piece, begin, len);
            peer_flush(q);
        }
    }
    size_t idx = 0;
    struct piece_buf *pb = find_partial(t, piece, &idx);
    if (!pb)
        pb = new_partial(t, piece);
    if (!pb) {
        bt_picker_block_cancel(t->picker, piece, begin, tag);
        return;
    }
    int rc = bt_picker_block_received(t->picker, piece, begin, tag);
    if (rc < 0) {
        t->wasted += len;
        t->s->wasted_session += len;
        return;
    }
    memcpy(pb->data + begin, data, len);
    /* Web seeds (p NULL) stay nobody's: smart-ban blames addresses. */
    if (p)
        pb->senders[begin / BT_PICKER_BLOCK] = smartban_ip_of((const struct sockaddr *)&p->addr);
    else
        memset(&pb->senders[begin / BT_PICKER_BLOCK], 0, sizeof pb->senders[0]);

    t->downloaded += len;
    t->dl_session += len;
    t->s->dl_session += len;
    rate_add(&t->dl_rate, len, now);
    rate_add(&t->s->dl_rate, len, now);
    t->last_activity = now_s();
    t->resume_dirty = true;

    if (rc == 1) {
        find_partial(t, piece, &idx);
        t->partials[idx] = t->partials[--t->num_partials];
        struct write_ctx *w = calloc(1, sizeof *w);
        uint32_t nblocks = piece_blocks(t, piece);
        uint8_t(*sha1)[20] = w ? malloc(nblocks * sizeof *sha1) : NULL;
        if (!sha1) {
            bt_picker_piece_failed(t->picker, piece);
            free(w);
            free_partial(pb);
            return;
        }
        w->t = t;
        w->piece = piece;
        w->nblocks = nblocks;
        w->senders = pb->senders;
        w->sha1 = sha1;
        w->verify = smartban_tracked(t->smartban, piece);
        t->writes_in_flight++;
        if (storage_write_piece_hashed(t->st, piece, pb->data, w->sha1, w->verify, on_piece_written, w) != 0) {
            t->writes_in_flight--;
            bt_picker_piece_failed(t->picker, piece);
            write_ctx_free(w);
        }
        free(pb);
    }
}

/* ---- extensions: ut_metadata (BEP9) and ut_pex (BEP11) ---- */

static void send_ext(struct peer *p, uint8_t id, struct buf *payload)
{
    bt_wire_put_extended(&p->out, id, buf_head(payload), buf_size(payload));
    peer_flush(p);
}

static void request_layers(struct torrent *t, struct peer *p);

static void request_metadata(struct torrent *t, struct peer *p)
{
    if (t->mi || !t->meta_asm || !p->rext.ut_metadata || p->state != PEER_ACTIVE)
        return;
    int piece;
    int sent = 0;
    while (sent < 16 && (piece = bt_metadata_asm_next(t->meta_asm, p, uv_now(t->s->loop))) >= 0) {
        struct buf b = BUF_INIT;
        if (bt_metadata_put_request(&b, (uint32_t)piece) == 0)
            send_ext(p, (uint8_t)p->rext.ut_metadata, &b);
        buf_free(&b);
        sent++;
    }
}

void torrent_on_ext_handshake(struct torrent *t, struct peer *p)
{
    if (t->mi || !p->rext.ut_metadata || p->rext.metadata_size <= 0)
        return;
    if (t->layers) {
        request_layers(t, p);
        return;
    }
    if (!t->meta_asm && (t->no_v1 ? bt_metadata_asm_new_v2(t->info_hash_v2, p->rext.metadata_size, &t->meta_asm)
                                  : bt_metadata_asm_new(t->info_hash, p->rext.metadata_size, &t->meta_asm)) != 0) {
        log_msg(LOG_WARNING, "'%s': peer %s announced unusable metadata size %lld", torrent_name(t), p->ip,
                (long long)p->rext.metadata_size);
        return;
    }
    request_metadata(t, p);
}

/* BEP53 so= picks the files to download; ws= adds web seeds. */
static void apply_magnet_extra(struct torrent *t)
{
    json_t *so = json_object_get(t->magnet_extra, "so");
    if (json_array_size(so) > 0) {
        for (size_t i = 0; i < t->mi->num_files; i++)
            t->file_prios[i] = 0;
        size_t k;
        json_t *v;
        json_array_foreach(so, k, v) {
            json_int_t i = json_integer_value(v);
            if (i >= 0 && (size_t)i < t->mi->num_files)
                t->file_prios[i] = 1;
        }
        apply_file_priorities(t);
    }
    json_t *ws = json_object_get(t->magnet_extra, "ws");
    size_t add = json_array_size(ws);
    if (add > 0) {
        char **v = realloc(t->mi->web_seeds, (t->mi->num_web_seeds + add) * sizeof *v);
        if (v) {
            t->mi->web_seeds = v;
            for (size_t i = 0; i < add; i++) {
                char *u = json_is_string(json_array_get(ws, i)) ? strdup(json_string_value(json_array_get(ws, i))) : NULL;
                if (u)
                    v[t->mi->num_web_seeds++] = u;
            }
        }
    }
    json_decref(t->magnet_extra);
    t->magnet_extra = NULL;
}

static void metadata_failed(struct torrent *t, const char *why)
{
    free(t->error);
    t->error = strdup(why);
    t->phase = TP_ERROR;
    deactivate(t, true);
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
    deactivate(t, false);   /* peers re-handshake and send their bitfields */
    if (attach_metainfo(t, mi) != 0) {
        t->phase = TP_ERROR;
        t->error = strdup("out of memory");
        return;
    }
    log_msg(LOG_INFO, "'%s': metadata received (%zu bytes, %u pieces)", torrent_name(t), t->mi->info_len,
            t->mi->num_pieces);
    if (t->has_alt)
        session_index_alias(t->s, t);
    apply_magnet_extra(t);
    store_torrent_metainfo(t->s->store, t->hex, t->mi->torrent_raw, t->mi->torrent_len, NULL, NULL);
    torrent_save_settings(t, NULL, NULL);
    torrent_touch(t);
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
        defer_check(t);
    else
        start_check(t);
}

/* BEP52 hash requests for the piece layers of a v2 info dict. */
static void request_layers(struct torrent *t, struct peer *p)
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
            request_layers(t, p);
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
        request_layers(t, p);
    return 0;   /* -EPROTO: an answer to nothing we asked; ignored, as libtorrent does */
}

void torrent_on_hash_reject(struct torrent *t, struct peer *p, const uint8_t *req)
{
    if (!t->layers)
        return;
    bt_layers_reject(t->layers, p, req);
    request_layers(t, p);
}

void torrent_on_metadata_msg(struct torrent *t, struct peer *p, const uint8_t *payload, size_t len)
{
    struct bt_metadata_msg m;
    if (bt_metadata_parse(payload, len, &m) != 0)
        return;
    if (m.type == BT_METADATA_REQUEST) {
        if (!p->rext.ut_metadata)
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
        send_ext(p, (uint8_t)p->rext.ut_metadata, &b);
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
        request_metadata(t, p);
    } else if (rc == -EILSEQ) {
        log_msg(LOG_WARNING, "'%s': metadata from the swarm did not match the info-hash", torrent_name(t));
    }
}

static bool pex_allowed(const struct torrent *t)
{
    return settings_bool(&t->s->settings, SET_PEX) && !(t->mi && t->mi->is_private);
}

void torrent_on_pex_msg(struct torrent *t, struct peer *p, const uint8_t *payload, size_t len)
{
    (void)p;
    if (!pex_allowed(t))
        return;
    struct bt_pex_msg m;
    if (bt_pex_parse(payload, len, &m) != 0)
        return;
    for (size_t i = 0; i < m.num_added; i++)
        torrent_add_peer_addr(t, (const struct sockaddr *)&m.added[i].addr, false, PEER_SRC_PEX);
    bt_pex_msg_free(&m);
    if (t->active)
        connect_candidates(t, uv_now(t->s->loop));
}

/* Once a minute (the diff state rate-limits), tell each peer about the
 * others we are connected to, by the address they can be dialled at. */
static void send_pex(struct torrent *t, uint64_t now)
{
    if (!pex_allowed(t))
        return;
    struct bt_pex_peer cur[200];
    size_t n = 0;
    for (struct peer *q = t->peers; q && n < 200; q = q->next) {
        if (q->state != PEER_ACTIVE)
            continue;
        struct bt_pex_peer *e = &cur[n];
        memset(e, 0, sizeof *e);
        e->addr = q->addr;
        if (q->incoming) {
            if (!q->rext.listen_port)
                continue;
            if (e->addr.ss_family == AF_INET)
                ((struct sockaddr_in *)&e->addr)->sin_port = htons(q->rext.listen_port);
            else
                ((struct sockaddr_in6 *)&e->addr)->sin6_port = htons(q->rext.listen_port);
        }
        if (q->have_all || (q->have.bits && t->mi && q->have.count == t->mi->num_pieces))
            e->flags |= 0x02;
        n++;
    }
    for (struct peer *p = t->peers; p; p = p->next) {
        if (p->state != PEER_ACTIVE || !p->rext.ut_pex)
            continue;
        if (!p->pex && bt_pex_state_new(&p->pex) != 0)
            continue;
        struct buf b = BUF_INIT;
        if (bt_pex_state_diff(p->pex, cur, n, now, &b) == 1)
            send_ext(p, (uint8_t)p->rext.ut_pex, &b);
        buf_free(&b);
    }
}

/* ---- read cache for uploads ---- */

#define READ_CACHE_IDLE_MS 10000

struct cache_load {
    struct torrent *t;
    int slot;
};

static void wake_uploaders(struct torrent *t)
{
    for (struct peer *p = t->peers; p; p = p->next)
        if (p->state == PEER_ACTIVE && p->up_count > 0)
            peer_resume_uploads(p);
}

static void on_piece_loaded(void *ud, int rc, uint8_t *data, uint32_t len)
{
    struct cache_load *l = ud;
    struct torrent *t = l->t;
    struct cached_piece *c = &t->rcache[l->slot];
    free(l);
    t->reads_in_flight--;
    c->loading = false;
    if (t->removing) {
        free(data);
        maybe_finish_removal(t);
        return;
    }
    if (rc != 0) {
        log_msg(LOG_WARNING, "'%s': cannot read piece %u for uploading: %s", torrent_name(t), c->piece,
                strerror(-rc));
        free(data);
        /* Requests for it are dropped rather than waiting forever. */
        for (struct peer *p = t->peers; p; p = p->next)
            for (int i = 0; i < p->up_count; i++) {
                struct peer_upreq *q = &p->upreqs[(p->up_head + i) % PEER_MAX_UPREQS];
                if (q->piece == c->piece)
                    q->length = 0;
            }
        c->piece = UINT32_MAX;
    } else {
        c->data = data;
        c->len = len;
        c->used_ms = t->s->now_ms;
    }
    wake_uploaders(t);
}

const uint8_t *torrent_cached_piece(struct torrent *t, uint32_t piece)
{
    assert(piece < t->mi->num_pieces);   /* peer.c queues only requests for pieces we have */
    int victim = -1;
    for (int i = 0; i < TORRENT_READ_CACHE; i++) {
        struct cached_piece *c = &t->rcache[i];
        if ((c->data || c->loading) && c->piece == piece) {
            if (!c->data)
                return NULL;
            c->used_ms = t->s->now_ms;
            return c->data;
        }
        if (!c->loading && (victim < 0 || !c->data ||
                            (t->rcache[victim].data && c->used_ms < t->rcache[victim].used_ms)))
            victim = i;
    }
    if (victim < 0 || t->removing)
        return NULL;   /* every slot is loading: wait for one */
    struct cached_piece *c = &t->rcache[victim];
    free(c->data);
    c->data = NULL;
    c->piece = piece;
    c->loading = true;
    struct cache_load *l = malloc(sizeof *l);
    if (!l) {
        c->loading = false;
        return NULL;
    }
    *l = (struct cache_load){t, victim};
    t->reads_in_flight++;
    if (storage_read(t->st, piece, 0, (uint32_t)torrent_piece_size(t, piece), on_piece_loaded, l) != 0) {
        t->reads_in_flight--;
        c->loading = false;
        c->piece = UINT32_MAX;
        free(l);
    }
    return NULL;
}

/* Pieces nobody asked for lately give their memory back. */
static void trim_read_cache(struct torrent *t, uint64_t now)
{
    for (int i = 0; i < TORRENT_READ_CACHE; i++) {
        struct cached_piece *c = &t->rcache[i];
        if (c->data && now - c->used_ms > READ_CACHE_IDLE_MS) {
            free(c->data);
            c->data = NULL;
            c->piece = UINT32_MAX;
        }
    }
}

/* ---- share limits ---- */

/* The global action setting (max_ratio_act) keeps qBittorrent's numbering,
 * 0 stop, 1 remove, 2 super-seeding, 3 remove with the files: the enum's
 * value minus one.  Anything else stops, as before. */
static enum torrent_share_action share_action_from_setting(int64_t v)
{
    return v >= 0 && v <= 3 ? (enum torrent_share_action)(v + 1) : TORRENT_SHARE_STOP;
}

static void check_share_limits(struct torrent *t)
{
    const struct settings *p = &t->s->settings;
    double ratio_limit;
    int64_t seed_limit, idle_limit;
    torrent_status_limits(t, &ratio_limit, &seed_limit, &idle_limit);

    double ratio = torrent_status_ratio(t);   /* INFINITY (uploaded, nothing downloaded) reaches any limit */
    int64_t idle = t->last_activity > 0 ? now_s() - t->last_activity : t->seeding_time;
    const char *why = NULL;
    if (ratio_limit >= 0 && ratio >= ratio_limit)
        why = "ratio";
    else if (seed_limit >= 0 && t->seeding_time >= seed_limit * 60)
        why = "seeding time";
    else if (idle_limit >= 0 && idle >= idle_limit * 60)
        why = "inactive seeding time";
    if (!why)
        return;
    enum torrent_share_action act = t->share_limit_action;
    if (act == TORRENT_SHARE_DEFAULT)
        act = share_action_from_setting(settings_int(p, SET_MAX_RATIO_ACT));
    log_msg(LOG_INFO, "'%s' reached its %s limit", torrent_name(t), why);
    switch (act) {
    case TORRENT_SHARE_REMOVE:
    case TORRENT_SHARE_REMOVE_WITH_CONTENT:
        torrent_remove(t, act == TORRENT_SHARE_REMOVE_WITH_CONTENT, NULL, NULL);
        break;
    case TORRENT_SHARE_SUPER_SEED:
        if (!t->super_seeding) {
            t->super_seeding = true;
            torrent_settings_changed(t, NULL, NULL);
        }
        break;
    default:
        torrent_stop(t);
        break;
    }
}

/* ---- tick ---- */

/* What a client would see change: only then is the torrent "changed" for
 * sync/maindata.  Pure clock fields (time_active, seeding_time) ride along
 * with the next real change, as with libtorrent's state updates. */
static uint64_t activity_signature(struct torrent *t)
{
    uint64_t h = 1469598103934665603ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ull)
    MIX(t->dl_session);
    MIX(t->ul_session);
    MIX(t->num_peers);
    MIX(t->phase);
    MIX(t->wanted_done);
    MIX(t->num_complete);
    MIX(t->num_incomplete);
    MIX(t->wasted);
    MIX(torrent_status_state(t, t->s->now_ms));
    MIX(rate_get(&t->dl_rate, t->s->now_ms));   /* speeds decay to 0 after the last byte */
    MIX(rate_get(&t->ul_rate, t->s->now_ms));
#undef MIX
    return h;
}

void torrent_tick(struct torrent *t, uint64_t now_ms)
{
    session_assert_loop_thread(t->s);
    uint64_t sig = activity_signature(t);
    if (sig != t->activity_sig) {
        t->activity_sig = sig;
        torrent_touch(t);
    }
    t->active_time++;
    bool finished = torrent_is_finished(t);
    if (finished)
        t->seeding_time++;
    if (t->trk)
        tracker_set_tick(t->trk, now_ms);
    struct peer *next;
    uint32_t np = t->mi ? t->mi->num_pieces : 0;
    for (struct peer *p = t->peers; p; p = next) {
        next = p->next;
        peer_tick(p, now_ms);
        /* libtorrent's last_seen_complete: a connected seed is a complete copy */
        if (p->state == PEER_ACTIVE && (p->have_all || (np && p->have.bits && p->have.count == np)))
            t->seen_complete = (int64_t)time(NULL);
        if (p->state == PEER_ACTIVE && !finished)
            torrent_fill_requests(t, p);
    }
    if (!t->active)
        return;
    connect_candidates(t, now_ms);
    if (t->mi && !finished)
        webseed_tick(t, now_ms);
    send_pex(t, now_ms);
    trim_read_cache(t, now_ms);
    if (!t->mi && t->meta_asm)
        for (struct peer *p = t->peers; p; p = p->next)
            request_metadata(t, p);   /* hands out blocks whose requests timed out */
    if (t->layers)
        for (struct peer *p = t->peers; p; p = p->next)
            request_layers(t, p);     /* the same for hash requests */
    if (now_ms >= t->next_choke_ms)
        run_choker(t);
    if (t->resume_dirty && now_ms - t->resume_saved_ms >= TORRENT_RESUME_INTERVAL_MS)
        torrent_save_resume(t);
    /* Last: it may stop or remove the torrent. */
    if (finished && !t->super_seeding)
        check_share_limits(t);
}

/* ---- removal ---- */

static void free_torrent(struct torrent *t)
{
    for (size_t i = 0; i < t->num_partials; i++)
        free_partial(t->partials[i]);
    free(t->partials);
    smartban_free(t->smartban);
    free(t->cands);
    bt_picker_free(t->picker);
    bitfield_free(&t->have);
    bitfield_free(&t->wanted);
    free(t->file_prios);
    free(t->error);
    for (int i = 0; i < TORRENT_READ_CACHE; i++)
        free(t->rcache[i].data);
    bt_metadata_asm_free(t->meta_asm);
    bt_layers_free(t->layers);
    bt_metainfo_free(t->layers_mi);
    bt_metainfo_free(t->mi);
    free_common(t);
}

static void on_storage_closed(void *ud)
{
    struct torrent *t = ud;
    void (*done)(void *) = t->closed_cb;
    void *done_ud = t->closed_ud;
    free_torrent(t);
    if (done)
        done(done_ud);
}

static void on_files_deleted(void *ud, int rc)
{
    struct torrent *t = ud;
    if (rc != 0)
        log_msg(LOG_WARNING, "'%s': could not delete all files: %s", torrent_name(t), strerror(-rc));
    storage_close(t->st, on_storage_closed, t);
}

static void maybe_finish_removal(struct torrent *t)
{
    if (!t->removing || t->closing_peers > 0 || t->writes_in_flight > 0 || t->reads_in_flight > 0 || t->peers)
        return;
    if (t->trk) {
        tracker_set_free(t->trk);
        t->trk = NULL;
    }
    t->removing = false;  /* run once */
    if (t->closing && t->phase == TP_READY)
        torrent_save_resume(t);
    t->phase = TP_ERROR;
    if (!t->st) {
        on_storage_closed(t);
        return;
    }
    if (!t->delete_files) {
        storage_close(t->st, on_storage_closed, t);
        return;
    }
    int rc = storage_delete_files(t->st, on_files_deleted, t);
    if (rc == -EBUSY)
        t->removing = true;   /* a move or rename runs: its completion calls us again */
    else if (rc != 0)
        on_files_deleted(t, rc);
}

void torrent_remove(struct torrent *t, bool delete_files, void (*cb)(void *ud, int rc), void *ud)
{
    session_assert_loop_thread(t->s);
    if (t->removing) {
        if (cb)
            cb(ud, 0);
        return;
    }
    if (t->check) {
        storage_check_cancel(t->check);
        t->check = NULL;
    }
    deactivate(t, true);
    t->removing = true;
    t->delete_files = delete_files;
    session_index_remove(t->s, t);
    store_torrent_delete(t->s->store, t->hex, cb, ud);
    log_msg(LOG_INFO, "removed torrent '%s'%s", torrent_name(t), delete_files ? " and its files" : "");
    maybe_finish_removal(t);
}

void torrent_close(struct torrent *t, void (*done)(void *ud), void *ud)
{
    if (t->check) {
        storage_check_cancel(t->check);
        t->check = NULL;
        t->phase = TP_LOADING;  /* nothing worth saving */
    }
    deactivate(t, true);
    t->removing = true;
    t->closing = true;
    t->closed_cb = done;
    t->closed_ud = ud;
    session_index_remove(t->s, t);
    maybe_finish_removal(t);
}

/* ---- settings from the API ---- */

int torrent_settings_changed(struct torrent *t, void (*cb)(void *ud, int rc), void *ud)
{
    session_assert_loop_thread(t->s);
    torrent_touch(t);
    if (t->picker)   /* magnets have none until their metadata arrives */
        bt_picker_set_sequential(t->picker, t->sequential);
    if (t->active && t->mi && webseed_changed(t))
        webseed_sync(t);
    limits_apply_torrent(t);
    return torrent_save_settings(t, cb, ud);
}

int torrent_set_file_priorities(struct torrent *t, const size_t *idx, size_t n, int prio)
{
    session_assert_loop_thread(t->s);
    if (!t->mi)
        return -EAGAIN;
    if (prio != 0 && prio != 1 && prio != 6 && prio != 7)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= t->mi->num_files)
            return -EINVAL;
    for (size_t i = 0; i < n; i++)
        t->file_prios[idx[i]] = (uint8_t)prio;
    bool was_finished = torrent_is_finished(t);
    apply_file_priorities(t);
    torrent_touch(t);
    for (struct peer *p = t->peers; p; p = p->next)
        if (p->state == PEER_ACTIVE)
            torrent_peer_interest(t, p);
    if (!was_finished && torrent_is_finished(t) && t->active)
        on_finished(t);
    return torrent_save_settings(t, NULL, NULL);
}

struct move_ctx {
    struct torrent *t;
    char *path;
    enum move_kind kind;
    void (*cb)(void *ud, int rc);
    void *ud;
};

static void on_moved(void *ud, int rc)
{
    struct move_ctx *m = ud;
    struct torrent *t = m->t;
    if (!t->closing && session_find(t->s, t->info_hash) != t) {   /* removed while moving */
        if (m->cb)
            m->cb(m->ud, rc);
        free(m->path);
        free(m);
        maybe_finish_removal(t);
        return;
    }
    if (t->phase == TP_MOVING)
        t->phase = TP_READY;
    if (rc == 0) {
        if (m->kind == MOVE_SAVE_PATH) {
            free(t->save_path);
            t->save_path = m->path;
            m->path = NULL;
        }
        t->data_in_download = m->kind == MOVE_TO_DOWNLOAD;
        torrent_save_settings(t, NULL, NULL);
        torrent_save_resume(t);   /* the files' mtimes are those of the new place */
        log_msg(LOG_INFO, "'%s': data moved to %s", torrent_name(t), storage_save_path(t->st));
    } else {
        log_msg(LOG_WARNING, "'%s': could not move to %s: %s", torrent_name(t), m->path, strerror(-rc));
    }
    torrent_touch(t);
    if (!t->stopped && !t->removing)
        activate(t);
    if (m->cb)
        m->cb(m->ud, rc);
    free(m->path);
    free(m);
}

/* Moves the data directory on a worker (state "moving"). */
static int move_data(struct torrent *t, const char *path, enum move_kind kind, void (*cb)(void *ud, int rc),
                     void *ud)
{
    int rc = path_mkdirs(path);
    if (rc != 0)
        return rc;
    struct move_ctx *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    *m = (struct move_ctx){t, strdup(path), kind, cb, ud};
    /* Peers read from the files being moved: pause them for the move. */
    deactivate(t, false);
    enum torrent_phase before = t->phase;
    t->phase = TP_MOVING;
    torrent_touch(t);
    rc = storage_move(t->st, path, on_moved, m);
    if (rc != 0) {
        t->phase = before;
        free(m->path);
        free(m);
        if (!t->stopped)
            activate(t);
    }
    return rc;
}

int torrent_set_location(struct torrent *t, const char *path, void (*cb)(void *ud, int rc), void *ud)
{
    session_assert_loop_thread(t->s);
    if (t->removing || t->phase == TP_MOVING || t->phase == TP_CHECKING)
        return -EBUSY;
    /* Data waiting in the incomplete folder stays there: only where it will
     * go changes.  So does a torrent without storage yet (magnet). */
    if (strcmp(path, t->save_path) == 0 || !t->st || t->data_in_download) {
        if (strcmp(path, t->save_path) != 0) {
            free(t->save_path);
            t->save_path = strdup(path);
            torrent_save_settings(t, NULL, NULL);
            torrent_touch(t);
        }
        if (cb)
            cb(ud, 0);
        return 0;
    }
    return move_data(t, path, MOVE_SAVE_PATH, cb, ud);
}

int torrent_set_download_path(struct torrent *t, const char *path)
{
    if (t->removing || t->phase == TP_MOVING || t->phase == TP_CHECKING)
        return -EBUSY;
    free(t->download_path);
    t->download_path = path && *path ? strdup(path) : NULL;
    torrent_settings_changed(t, NULL, NULL);
    if (!t->st || torrent_is_finished(t))
        return 0;
    /* An unfinished torrent follows its incomplete folder. */
    const char *want = t->download_path ? t->download_path : t->save_path;
    if (strcmp(want, storage_save_path(t->st)) == 0)
        return 0;
    return move_data(t, want, t->download_path ? MOVE_TO_DOWNLOAD : MOVE_TO_SAVE, NULL, NULL);
}

/* ---- renaming files ---- */

struct rename_ctx {
    struct torrent *t;
    size_t *idx;
    char **paths;
    size_t n;
    void (*cb)(void *ud, int rc);
    void *ud;
};

static void on_renamed(void *ud, int rc)
{
    struct rename_ctx *c = ud;
    struct torrent *t = c->t;
    if (rc == 0) {
        /* No storage job runs now: safe to swap the paths workers read. */
        for (size_t k = 0; k < c->n; k++) {
            free(t->mi->files[c->idx[k]].path);
            t->mi->files[c->idx[k]].path = c->paths[k];
            c->paths[k] = NULL;
        }
        for (size_t k = 0; k < c->n; k++) {
            char key[24];
            snprintf(key, sizeof key, "%zu", c->idx[k]);
            json_object_set_new(t->renamed, key, json_string(t->mi->files[c->idx[k]].path));
        }
        t->root_known = false;
        torrent_save_settings(t, NULL, NULL);
        torrent_touch(t);
    }
    for (size_t k = 0; k < c->n; k++)
        free(c->paths[k]);
    free(c->paths);
    free(c->idx);
    if (c->cb)
        c->cb(c->ud, rc);
    free(c);
    if (!t->closing && session_find(t->s, t->info_hash) != t)   /* removed while renaming */
        maybe_finish_removal(t);
}

/* Turns a user-given relative path into sanitized components; NULL when it
 * is empty, absolute or would change under sanitizing. */
static char *clean_rel_path(const char *p)
{
    if (!p || !*p || p[0] == '/')
        return NULL;
    char *dup = strdup(p), *save = NULL;
    struct buf out = BUF_INIT;
    bool ok = dup != NULL;
    for (char *tok = dup ? strtok_r(dup, "/", &save) : NULL; ok && tok; tok = strtok_r(NULL, "/", &save)) {
        int dropped = 0;
        char *c = path_sanitize_component(tok, strlen(tok), &dropped);
        ok = c && strcmp(c, tok) == 0;
        if (ok) {
            if (buf_size(&out))
                buf_append_u8(&out, '/');
            buf_append_str(&out, c);
        }
        free(c);
    }
    free(dup);
    if (!ok || buf_size(&out) == 0) {
        buf_free(&out);
        return NULL;
    }
    char *r = (char *)buf_steal(&out, NULL);
    buf_free(&out);
    return r;
}

static bool path_taken(const struct torrent *t, const char *p, const bool *moving)
{
    size_t n = strlen(p);
    for (size_t i = 0; i < t->mi->num_files; i++) {
        if (moving && moving[i])
            continue;
        const char *q = t->mi->files[i].path;
        /* the same path, or a file whose folder the new path would be */
        if (strcmp(q, p) == 0 || (strncmp(q, p, n) == 0 && q[n] == '/'))
            return true;
    }
    return false;
}

int torrent_rename_path(struct torrent *t, const char *old_path, const char *new_path, bool folder,
                        char *err, size_t errlen, void (*cb)(void *ud, int rc), void *ud)
{
    session_assert_loop_thread(t->s);
    if (!t->mi || !t->st) {
        snprintf(err, errlen, "Torrent's metadata has not yet downloaded");
        return -EAGAIN;
    }
    char *np = clean_rel_path(new_path);
    if (!np) {
        snprintf(err, errlen, "The path \"%s\" is not valid", new_path ? new_path : "");
        return -EINVAL;
    }
    size_t nf = t->mi->num_files, olen = strlen(old_path);
    bool *moving = calloc(nf, sizeof *moving);
    struct rename_ctx *c = calloc(1, sizeof *c);
    if (c) {
        c->idx = calloc(nf, sizeof *c->idx);
        c->paths = calloc(nf, sizeof *c->paths);
    }
    if (!moving || !c || !c->idx || !c->paths) {
        free(np);
        free(moving);
        if (c) {
            free(c->idx);
            free(c->paths);
        }
        free(c);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nf; i++) {
        const char *q = t->mi->files[i].path;
        if (folder ? strncmp(q, old_path, olen) == 0 && q[olen] == '/' : strcmp(q, old_path) == 0) {
            moving[i] = true;
            c->idx[c->n] = i;
            c->paths[c->n] = folder ? NULL : strdup(np);
            if (folder) {
                size_t need = strlen(np) + strlen(q + olen) + 1;
                c->paths[c->n] = malloc(need);
                if (c->paths[c->n])
                    snprintf(c->paths[c->n], need, "%s%s", np, q + olen);
            }
            c->n++;
        }
    }
    int rc = 0;
    if (c->n == 0) {
        snprintf(err, errlen, folder ? "No such folder: '%s'." : "No such file: '%s'.", old_path);
        rc = -ENOENT;
    } else if (strcmp(np, old_path) != 0 && path_taken(t, np, moving)) {
        snprintf(err, errlen, "The file already exists: '%s'.", np);
        rc = -EEXIST;
    }
    free(np);
    free(moving);
    for (size_t k = 0; rc == 0 && k < c->n; k++)
        if (!c->paths[k])
            rc = -ENOMEM;
    if (rc == 0) {
        c->t = t;
        c->cb = cb;
        c->ud = ud;
        rc = storage_rename_files(t->st, c->idx, c->paths, c->n, on_renamed, c);
        if (rc == -EBUSY)
            snprintf(err, errlen, "The torrent is busy (moving or checking)");
        if (rc == 0)
            return 0;
    }
    for (size_t k = 0; k < c->n; k++)
        free(c->paths[k]);
    free(c->paths);
    free(c->idx);
    free(c);
    return rc;
}

/* ---- reporting ---- */

void torrent_touch(struct torrent *t)
{
    /* Not once removed: a storage job that completes while the files are
     * closed or deleted must not put a torrent about to be freed back on the
     * change list (removing is cleared when the close starts). */
    if (!t->removing && session_find(t->s, t->info_hash) == t)
        session_touch(t->s, t);
}
