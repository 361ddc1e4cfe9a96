/* web/api/qbt_v2_json — engine structs to qBittorrent 5.1 JSON (§5). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/natcmp.h"
#include "core/mseconn.h"
#include "core/peer.h"
#include "core/portmap.h"
#include "util/buf.h"
#include "util/hex.h"
#include "util/path.h"
#include "core/discovery.h"
#include "core/view.h"
#include "web/api/qbt_v2_int.h"

#define MONTH_S 2629746.0        /* std::chrono::months */
#define FREE_SPACE_REFRESH_S 30

/* ---- small helpers ---- */

static json_t *jreal(double v)
{
    return json_real(isfinite(v) ? v : -1.0);
}

static json_t *jint(int64_t v) { return json_integer((json_int_t)v); }

static json_t *jstr(const char *s) { return json_string(s ? s : ""); }

static void set(json_t *o, const char *k, json_t *v)
{
    if (v)
        json_object_set_new(o, k, v);
}

static uint64_t rate_now(const struct rate *r, uint64_t now_ms)
{
    struct rate tmp = *r;
    return rate_get(&tmp, now_ms);
}

static uint64_t t_now_ms(const struct torrent *t) { return t->s ? t->s->now_ms : 0; }

/* a + "/" + b without doubling the separator. */
static char *join_display_path(const char *a, const char *b)
{
    size_t la = strlen(a);
    while (la > 1 && a[la - 1] == '/')
        la--;
    size_t lb = strlen(b);
    char *out = malloc(la + lb + 2);
    if (!out)
        return NULL;
    memcpy(out, a, la);
    size_t o = la;
    if (la == 0 || a[la - 1] != '/')
        out[o++] = '/';
    memcpy(out + o, b, lb + 1);
    return out;
}

/* ratio per month active (std::chrono::months); -1 with an infinite ratio */
static double popularity(double ratio, int64_t active_time)
{
    if (ratio < 0)
        return -1.0;
    double months = (double)active_time / MONTH_S;
    return months > 0 ? ratio / months : 0.0;
}

static int cmp_str_ptr(const void *x, const void *y)
{
    const char *a = *(const char *const *)x, *b = *(const char *const *)y;
    int c = natcmp(a, b);
    return c ? c : strcmp(a, b);
}

char *qbt_v2_tags_string(const struct strv *tags)
{
    size_t n = tags ? tags->n : 0;
    const char **v = calloc(n ? n : 1, sizeof(*v));
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = tags->v[i];
        if (s && *s)
            v[k++] = s;
    }
    qsort(v, k, sizeof(*v), cmp_str_ptr);
    struct buf b = BUF_INIT;
    int rc = buf_append_str(&b, "");
    for (size_t i = 0; i < k && rc == 0; i++)
        rc = buf_appendf(&b, "%s%s", i ? ", " : "", v[i]);
    free(v);
    if (rc) {
        buf_free(&b);
        return NULL;
    }
    size_t len;
    char *out = (char *)buf_steal(&b, &len);
    buf_free(&b);
    return out;
}

char *qbt_v2_magnet_uri(const struct torrent *t)
{
    return view_magnet_uri(t);
}

/* Root folder of a multi-file torrent: the first component of its paths. */
/* torrent_root_folder caches; the JSON side holds const torrents. */
static char *root_folder(const struct torrent *t)
{
    const char *r = torrent_root_folder((struct torrent *)t);
    return r ? strdup(r) : NULL;
}

/* qBittorrent's contentPath(): the file when there is one file (even inside
 * a root folder), else the root folder, else the save path.  *root_path gets
 * rootPath() (NULL without a root folder). */
static char *content_path(const struct torrent *t, char **root_path)
{
    struct view_meta m;
    view_meta(t, &m);
    const char *sp = t->save_path ? t->save_path : "";
    char *root = root_folder(t);
    *root_path = root ? join_display_path(sp, root) : NULL;
    free(root);
    if (m.single_file)
        return join_display_path(sp, m.single_file);
    return strdup(*root_path ? *root_path : sp);
}

static int64_t queue_priority(const struct torrent *t)
{
    if (torrent_is_finished(t) || !t->s)
        return 0;
    int64_t pos = 0;
    for (size_t i = 0; i < t->s->num_torrents; i++) {
        const struct torrent *o = t->s->torrents[i];
        if (o == t)
            return pos + 1;
        if (!o->removing && !torrent_is_finished(o))
            pos++;
    }
    return 0;
}

static int64_t reannounce_in(const struct torrent *t)
{
    if (t->stopped)
        return 0;
    uint64_t now = t_now_ms(t), best = 0;
    struct view_tracker e;
    for (size_t i = 0; view_tracker(t, i, &e); i++) {
        if (e.next_announce_ms > now && (best == 0 || e.next_announce_ms < best))
            best = e.next_announce_ms;
    }
    return best ? (int64_t)((best - now) / 1000) : 0;
}

/* ---- §5.4 trackers ---- */

static json_t *tracker_row(const char *url, int64_t tier, int status, const char *msg, int64_t peers,
                           int64_t seeds, int64_t leeches, int64_t downloaded)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    set(o, "url", jstr(url));
    set(o, "tier", jint(tier));
    set(o, "status", json_integer(status));
    set(o, "msg", jstr(msg));
    set(o, "num_peers", jint(peers));
    set(o, "num_seeds", jint(seeds));
    set(o, "num_leeches", jint(leeches));
    set(o, "num_downloaded", jint(downloaded));
    return o;
}

static void count_source(const struct torrent *t, unsigned src, int64_t *seeds, int64_t *leeches)
{
    *seeds = *leeches = 0;
    uint32_t np = view_num_pieces(t);
    for (const struct peer *p = t->peers; p; p = p->next) {
        if (p->state != PEER_ACTIVE || !(p->source & src))
            continue;
        if (p->have_all || (np && p->have.bits && p->have.count == np))
            (*seeds)++;
        else
            (*leeches)++;
    }
}

json_t *qbt_v2_trackers_json(const struct torrent *t, bool pseudo)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    if (pseudo) {
        struct view_meta m;
        view_meta(t, &m);
        bool priv = m.is_private;
        const char *msg = priv ? "This torrent is private" : "";
        const struct settings *p = t->s ? &t->s->settings : NULL;
        static const struct { const char *url; enum setting_id pref; unsigned src; } rows[] = {
            {"** [DHT] **", SET_DHT, PEER_SRC_DHT},
            {"** [PeX] **", SET_PEX, PEER_SRC_PEX},
            {"** [LSD] **", SET_LSD, PEER_SRC_LSD},
        };
        for (size_t i = 0; i < 3; i++) {
            int64_t s = 0, l = 0;
            if (rows[i].src)
                count_source(t, rows[i].src, &s, &l);
            bool on = p && settings_bool(p, rows[i].pref) && !priv;
            json_array_append_new(a, tracker_row(rows[i].url, -1, on ? 2 : 0, msg, 0, s, l, 0));
        }
    }
    struct view_tracker e;
    for (size_t i = 0; view_tracker(t, i, &e); i++) {
        if (!e.url)
            continue;
        int status = e.status > 4 ? 4 : e.status;   /* 5.1 folds error/unreachable into 4 */
        json_array_append_new(a, tracker_row(e.url, e.tier, status, e.msg, e.num_peers, e.num_seeds,
                                             e.num_leeches, e.num_downloaded));
    }
    return a;
}

/* ---- §5.1 torrent ---- */

json_t *qbt_v2_torrent_json(const struct torrent *t, bool with_hash)
{
    return qbt_v2_torrent_json_at(t, with_hash, queue_priority(t));
}

int64_t qbt_v2_queue_step(const struct torrent *t, int64_t *pos)
{
    if (t->removing || torrent_is_finished(t))
        return 0;
    return ++*pos;
}

/* Keys qBittorrent added to the torrent object after 4.1 (API v1's era):
 * the v1 flavour leaves them out. */
static const char *const AFTER_4_1[] = {
    "infohash_v1", "infohash_v2", "popularity", "download_path", "content_path", "root_path",
    "trackers_count", "inactive_seeding_time_limit", "max_inactive_seeding_time", "seeding_time",
    "availability", "reannounce", "comment", "private", "has_metadata",
};

void qbt_v2_torrent_to_v1(json_t *o)
{
    for (size_t i = 0; i < sizeof AFTER_4_1 / sizeof AFTER_4_1[0]; i++)
        json_object_del(o, AFTER_4_1[i]);
    const char *st = json_string_value(json_object_get(o, "state"));
    if (st)
        set(o, "state", jstr(qbt_v2_state_v4(st)));
}

json_t *qbt_v2_torrent_json_v1(const struct torrent *t, int64_t priority)
{
    json_t *o = qbt_v2_torrent_json_at(t, true, priority);
    if (o)
        qbt_v2_torrent_to_v1(o);
    return o;
}

json_t *qbt_v2_torrent_json_at(const struct torrent *t, bool with_hash, int64_t priority)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    struct view_meta m;
    view_meta(t, &m);
    struct torrent_status st;
    torrent_status_now(t, &st);
    double ratio = qbt_v2_ratio_value(st.ratio);

    if (with_hash)
        set(o, "hash", jstr(t->hex));
    set(o, "infohash_v1", jstr(view_info_hash_v1_hex(t)));
    set(o, "infohash_v2", jstr(view_info_hash_v2_hex(t)));
    set(o, "name", jstr(torrent_name(t)));
    char *magnet = qbt_v2_magnet_uri(t);
    set(o, "magnet_uri", jstr(magnet));
    free(magnet);
    set(o, "size", jint(st.wanted_size));
    set(o, "total_size", jint(st.total_size));
    set(o, "progress", jreal(st.progress));
    set(o, "dlspeed", jint((int64_t)st.dl_rate));
    set(o, "upspeed", jint((int64_t)st.up_rate));
    set(o, "priority", jint(priority));
    set(o, "num_seeds", jint(st.seeds_connected));
    set(o, "num_leechs", jint(st.leechers_connected));
    set(o, "num_complete", jint(st.seeds_swarm));
    set(o, "num_incomplete", jint(st.leechers_swarm));
    set(o, "ratio", jreal(ratio));
    set(o, "popularity", jreal(popularity(ratio, st.active_time)));
    set(o, "eta", jint(qbt_v2_eta(&st)));
    set(o, "state", jstr(qbt_v2_state_name(st.state, false)));
    set(o, "seq_dl", json_boolean(t->sequential));
    set(o, "f_l_piece_prio", json_boolean(t->first_last_piece));
    set(o, "super_seeding", json_boolean(t->super_seeding));
    set(o, "force_start", json_boolean(t->forced && !t->stopped));
    set(o, "auto_tmm", json_boolean(t->auto_tmm));
    set(o, "category", jstr(t->category));
    char *tags = qbt_v2_tags_string(&t->tags);
    set(o, "tags", jstr(tags));
    free(tags);
    set(o, "save_path", jstr(t->save_path));
    set(o, "download_path", jstr(t->download_path ? t->download_path : ""));
    char *rp;
    char *cp = content_path(t, &rp);
    set(o, "content_path", jstr(cp));
    set(o, "root_path", jstr(rp));
    free(cp);
    free(rp);
    set(o, "added_on", jint(st.added_on));
    set(o, "completion_on", jint(st.completion_on));
    set(o, "seen_complete", jint(st.seen_complete));
    set(o, "last_activity", jint(st.last_activity >= 0 ? st.last_activity : st.added_on));
    set(o, "tracker", jstr(view_tracker_current(t)));
    set(o, "trackers_count", jint((int64_t)view_tracker_count(t)));
    set(o, "dl_limit", jint(t->dl_limit > 0 ? t->dl_limit : 0));
    set(o, "up_limit", jint(t->up_limit > 0 ? t->up_limit : 0));
    set(o, "downloaded", jint(st.downloaded));
    set(o, "uploaded", jint(st.uploaded));
    set(o, "downloaded_session", jint(st.downloaded_session));
    set(o, "uploaded_session", jint(st.uploaded_session));
    set(o, "amount_left", jint(st.amount_left));
    set(o, "completed", jint(st.wanted_done));
    set(o, "ratio_limit", jreal(t->ratio_limit));
    set(o, "seeding_time_limit", jint(t->seeding_time_limit));
    set(o, "inactive_seeding_time_limit", jint(t->inactive_seeding_time_limit));
    set(o, "max_ratio", jreal(st.ratio_limit));
    set(o, "max_seeding_time", jint(st.seeding_time_limit));
    set(o, "max_inactive_seeding_time", jint(st.inactive_seeding_time_limit));
    set(o, "time_active", jint(st.active_time));
    set(o, "seeding_time", jint(st.seeding_time));
    set(o, "availability", jreal(st.availability));
    set(o, "reannounce", jint(reannounce_in(t)));
    set(o, "comment", jstr(m.comment));
    set(o, "private", m.has_metadata ? json_boolean(m.is_private) : json_null());
    set(o, "has_metadata", json_boolean(st.has_metadata));
    return o;
}

/* ---- §5.2 properties ---- */

json_t *qbt_v2_properties_json(const struct torrent *t)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    struct view_meta m;
    view_meta(t, &m);
    struct torrent_status st;
    torrent_status_now(t, &st);
    double ratio = qbt_v2_ratio_value(st.ratio);
    const struct settings *p = t->s ? &t->s->settings : NULL;
    /* qBittorrent divides integers, by -1 when the duration is 0. */
    int64_t dl_dur = st.active_time - st.seeding_time;
    int64_t up_dur = st.active_time;

    set(o, "hash", jstr(t->hex));
    set(o, "name", jstr(torrent_name(t)));
    set(o, "infohash_v1", jstr(view_info_hash_v1_hex(t)));
    set(o, "infohash_v2", jstr(view_info_hash_v2_hex(t)));
    set(o, "time_elapsed", jint(st.active_time));
    set(o, "seeding_time", jint(st.seeding_time));
    set(o, "eta", jint(qbt_v2_eta(&st)));
    set(o, "nb_connections", jint(st.seeds_connected + st.leechers_connected));
    set(o, "nb_connections_limit", jint(p ? settings_int(p, SET_MAX_CONNEC_PER_TORRENT) : 100));
    set(o, "total_downloaded", jint(st.downloaded));
    set(o, "total_downloaded_session", jint(st.downloaded_session));
    set(o, "total_uploaded", jint(st.uploaded));
    set(o, "total_uploaded_session", jint(st.uploaded_session));
    set(o, "dl_speed", jint((int64_t)st.dl_rate));
    set(o, "dl_speed_avg", jint(st.downloaded / (dl_dur == 0 ? -1 : dl_dur)));
    set(o, "up_speed", jint((int64_t)st.up_rate));
    set(o, "up_speed_avg", jint(st.uploaded / (up_dur == 0 ? -1 : up_dur)));
    set(o, "dl_limit", jint(t->dl_limit > 0 ? t->dl_limit : -1));
    set(o, "up_limit", jint(t->up_limit > 0 ? t->up_limit : -1));
    set(o, "total_wasted", jint(st.wasted));
    set(o, "seeds", jint(st.seeds_connected));
    set(o, "seeds_total", jint(st.seeds_swarm));
    set(o, "peers", jint(st.leechers_connected));
    set(o, "peers_total", jint(st.leechers_swarm));
    set(o, "share_ratio", jreal(ratio));
    set(o, "popularity", jreal(popularity(ratio, st.active_time)));
    set(o, "reannounce", jint(reannounce_in(t)));
    set(o, "total_size", jint(st.total_size));
    set(o, "pieces_num", jint(m.num_pieces));
    set(o, "piece_size", jint(m.piece_length));
    set(o, "pieces_have", jint(t->have.count));
    set(o, "created_by", jstr(m.created_by));
    set(o, "comment", jstr(m.comment));
    set(o, "save_path", jstr(t->save_path));
    set(o, "download_path", jstr(t->download_path ? t->download_path : ""));
    set(o, "is_private", json_boolean(m.is_private));
    set(o, "private", m.has_metadata ? json_boolean(m.is_private) : json_null());
    set(o, "addition_date", jint(st.added_on));
    set(o, "last_seen", jint(st.seen_complete));
    set(o, "completion_date", jint(st.completion_on));
    set(o, "creation_date", jint(m.creation_date));
    set(o, "has_metadata", json_boolean(st.has_metadata));
    set(o, "progress", jreal(st.progress));
    return o;
}

/* ---- §5.3 files ---- */

size_t qbt_v2_file_count(const struct torrent *t)
{
    return view_file_count(t);
}

static json_t *file_json(const struct torrent *t, size_t vis, const struct view_file *f, bool finished)
{
    int64_t done = 0;
    unsigned avail_pieces = 0;
    view_file_pieces(t, f, &done, &avail_pieces);
    int64_t npieces = f->last_piece - f->first_piece + 1;
    double avail = finished ? -1.0 : (npieces > 0 ? (double)avail_pieces / (double)npieces : 1.0);
    json_t *o = json_object();
    if (!o)
        return NULL;
    set(o, "index", jint((int64_t)vis));
    set(o, "name", jstr(f->path));
    set(o, "size", jint(f->size));
    set(o, "progress", jreal(f->size > 0 ? (double)done / (double)f->size : 1.0));
    set(o, "priority", json_integer(f->priority));
    set(o, "availability", jreal(avail));
    set(o, "piece_range", json_pack("[I,I]", (json_int_t)f->first_piece, (json_int_t)f->last_piece));
    return o;
}

json_t *qbt_v2_files_json(const struct torrent *t, const size_t *idx, size_t n)
{
    json_t *a = json_array();
    struct view_meta m;
    view_meta(t, &m);
    if (!a || !m.has_metadata)
        return a;
    bool finished = torrent_is_finished(t);
    size_t count = idx ? n : qbt_v2_file_count(t);
    for (size_t k = 0; k < count; k++) {
        size_t vis = idx ? idx[k] : k;
        struct view_file f;
        if (view_file(t, vis, &f) != 0)
            continue;
        json_t *o = file_json(t, vis, &f, finished);
        if (o && json_array_size(a) == 0)
            set(o, "is_seed", json_boolean(finished));
        json_array_append_new(a, o);
    }
    return a;
}

/* ---- §5.5 peers ---- */

int qbt_v2_peer_key(const struct peer *p, char *out, size_t outlen)
{
    if (!p->ip[0] || strcmp(p->ip, "0.0.0.0") == 0 || strcmp(p->ip, "::") == 0)
        return -EINVAL;
    bool v6 = strchr(p->ip, ':') != NULL;
    int n = snprintf(out, outlen, v6 ? "[%s]:%u" : "%s:%u", p->ip, (unsigned)p->port);
    return n > 0 && (size_t)n < outlen ? 0 : -EINVAL;
}

static void peer_id_client(const struct peer *p, char out[16])
{
    bool zero = true;
    for (int i = 0; i < 20; i++)
        zero = zero && p->peer_id[i] == 0;
    out[0] = 0;
    if (zero)
        return;
    for (int i = 0; i < 8; i++) {
        uint8_t c = p->peer_id[i];
        if (c < 32 || c > 126) {
            strcpy(out, "Unknown");
            return;
        }
        out[i] = (char)c;
    }
    out[8] = 0;
}

/* qBittorrent's C_UTP: Greek small mu (U+03BC), "TP". */
#define PEER_UTP_NAME "\xce\xbcTP"

static int add_flag(struct buf *f, struct buf *d, const char *flag, const char *desc)
{
    int rc = buf_appendf(f, "%s%s", buf_size(f) ? " " : "", flag);
    return rc ? rc : buf_appendf(d, "%s%s = %s", buf_size(d) ? "\n" : "", flag, desc);
}

static void peer_flags(const struct peer *p, struct buf *f, struct buf *d)
{
    if (p->am_interested)
        add_flag(f, d, p->peer_choking ? "d" : "D",
                 p->peer_choking ? "Interested (local) and choked (peer)" : "Interested (local) and unchoked (peer)");
    if (p->peer_interested)
        add_flag(f, d, p->am_choking ? "u" : "U",
                 p->am_choking ? "Interested (peer) and choked (local)" : "Interested (peer) and unchoked (local)");
    if (!p->am_interested && !p->peer_choking)
        add_flag(f, d, "K", "Not interested (local) and unchoked (peer)");
    if (!p->peer_interested && !p->am_choking)
        add_flag(f, d, "?", "Not interested (peer) and unchoked (local)");
    if (p->optimistic)
        add_flag(f, d, "O", "Optimistic unchoke");
    if (p->snubbed)
        add_flag(f, d, "S", "Peer snubbed");
    if (p->incoming)
        add_flag(f, d, "I", "Incoming connection");
    if (p->source & PEER_SRC_DHT)
        add_flag(f, d, "H", "Peer from DHT");
    if (p->source & PEER_SRC_PEX)
        add_flag(f, d, "X", "Peer from PEX");
    if (p->source & PEER_SRC_LSD)
        add_flag(f, d, "L", "Peer from LSD");
    if (p->crypto == PEER_CRYPTO_RC4)
        add_flag(f, d, "E", "Encrypted traffic");
    if (p->crypto == PEER_CRYPTO_HANDSHAKE)
        add_flag(f, d, "e", "Encrypted handshake");
    if (p->over_utp)
        add_flag(f, d, "P", PEER_UTP_NAME);
}

/* Paths of the files touching the piece the peer is downloading. */
static int downloading_files(const struct torrent *t, const struct peer *p, struct buf *out)
{
    int64_t ps, pe;
    if (p->num_reqs <= 0 || !p->reqs || !view_piece_range(t, p->reqs[0].piece, &ps, &pe))
        return 0;
    struct view_file f;
    for (size_t i = 0; view_file(t, i, &f) == 0; i++) {
        if (f.size == 0 || f.offset >= pe || f.offset + f.size <= ps)
            continue;
        int rc = buf_appendf(out, "%s%s", buf_size(out) ? "\n" : "", f.path);
        if (rc)
            return rc;
    }
    return 0;
}

static double relevance(const struct torrent *t, const struct peer *p)
{
    uint32_t np = view_num_pieces(t);
    if (np == 0 || t->have.count >= np)
        return 0.0;
    uint32_t missing = np - t->have.count, theirs = 0;
    for (uint32_t i = 0; i < np; i++)
        if (!bitfield_get(&t->have, i) && (p->have_all || bitfield_get(&p->have, i)))
            theirs++;
    return (double)theirs / (double)missing;
}

json_t *qbt_v2_peer_json(const struct torrent *t, const struct peer *p)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    uint64_t now_ms = t_now_ms(t);
    uint32_t np = view_num_pieces(t);
    char pid[16];
    peer_id_client(p, pid);
    struct buf f = BUF_INIT, d = BUF_INIT, files = BUF_INIT;
    peer_flags(p, &f, &d);
    downloading_files(t, p, &files);
    double progress = p->have_all ? 1.0 : (np ? (double)p->have.count / (double)np : 0.0);

    set(o, "ip", jstr(p->ip));
    set(o, "port", json_integer(p->port));
    set(o, "client", jstr(p->client));
    set(o, "peer_id_client", jstr(pid));
    set(o, "progress", jreal(progress));
    set(o, "dl_speed", jint((int64_t)rate_now(&p->down, now_ms)));
    set(o, "up_speed", jint((int64_t)rate_now(&p->up, now_ms)));
    set(o, "downloaded", jint(p->downloaded));
    set(o, "uploaded", jint(p->uploaded));
    set(o, "connection", jstr(p->over_utp ? PEER_UTP_NAME : "BT"));
    set(o, "flags", json_stringn(buf_size(&f) ? (const char *)buf_head(&f) : "", buf_size(&f)));
    set(o, "flags_desc", json_stringn(buf_size(&d) ? (const char *)buf_head(&d) : "", buf_size(&d)));
    set(o, "relevance", jreal(relevance(t, p)));
    set(o, "files", json_stringn(buf_size(&files) ? (const char *)buf_head(&files) : "", buf_size(&files)));
    buf_free(&f);
    buf_free(&d);
    buf_free(&files);
    return o;
}

json_t *qbt_v2_peers_json(const struct torrent *t)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (const struct peer *p = t->peers; p; p = p->next) {
        char key[96];
        if (p->state != PEER_ACTIVE || qbt_v2_peer_key(p, key, sizeof(key)) != 0)
            continue;
        set(o, key, qbt_v2_peer_json(t, p));
    }
    return o;
}

/* ---- §5.6 server state ---- */

static int64_t free_space(struct session *s)
{
    static int64_t cached = 0;
    static time_t at = 0;
    time_t now = time(NULL);
    if (at && now - at < FREE_SPACE_REFRESH_S && now >= at)
        return cached;
    int64_t b = path_free_bytes(session_default_save_path(s));   /* nearest existing ancestor */
    if (b >= 0)
        cached = b;
    at = now;
    return cached;
}

/* Utils::String::fromDouble(x, 2): truncated, not rounded. */
static void fmt_ratio(char *out, size_t n, double r)
{
    snprintf(out, n, "%.2f", floor(r * 100.0) / 100.0);
}

static const char *connection_status(const struct session *s)
{
    if (!s->have_listener4 && !s->have_listener6)
        return "disconnected";
    return s->had_incoming ? "connected" : "firewalled";
}

static void transfer_keys(struct session *s, json_t *o)
{
    set(o, "dl_info_speed", jint((int64_t)rate_get(&s->dl_rate, s->now_ms)));
    set(o, "dl_info_data", jint(s->dl_session));
    set(o, "up_info_speed", jint((int64_t)rate_get(&s->ul_rate, s->now_ms)));
    set(o, "up_info_data", jint(s->ul_session));
    /* The limits of the mode in effect (normal or alternative). */
    set(o, "dl_rate_limit", jint((int64_t)limits_rate(s, true)));
    set(o, "up_rate_limit", jint((int64_t)limits_rate(s, false)));
    set(o, "dht_nodes", jint((int64_t)discovery_dht_nodes(s)));
    set(o, "connection_status", jstr(connection_status(s)));
    /* what UPnP/NAT-PMP learnt from the router (core/portmap) */
    set(o, "last_external_address_v4", jstr(portmap_external_v4(s)));
    set(o, "last_external_address_v6", jstr(""));
}

json_t *qbt_v2_transfer_info_json(struct session *s)
{
    json_t *o = json_object();
    if (o)
        transfer_keys(s, o);
    return o;
}

json_t *qbt_v2_server_state_json(struct session *s)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    transfer_keys(s, o);
    const struct settings *p = &s->settings;
    /* alltime_* hold earlier runs' totals; qBittorrent's include this run */
    int64_t alltime_dl = s->alltime_dl + s->dl_session, alltime_ul = s->alltime_ul + s->ul_session;
    set(o, "alltime_dl", jint(alltime_dl));
    set(o, "alltime_ul", jint(alltime_ul));
    set(o, "total_wasted_session", jint(s->wasted_session));
    set(o, "total_peer_connections", jint(s->num_peers));
    set(o, "total_buffers_size", jint((int64_t)s->tune.rcache_bytes));   /* core/tuning.h: the read cache */
    set(o, "queued_io_jobs", jint(0));
    set(o, "average_time_queue", jint(0));
    set(o, "total_queued_size", jint(0));
    set(o, "free_space_on_disk", jint(free_space(s)));
    set(o, "refresh_interval", jint(settings_int(p, SET_REFRESH_INTERVAL)));
    char ratio[32] = "-";
    if (alltime_dl > 0 && alltime_ul > 0)
        fmt_ratio(ratio, sizeof(ratio), (double)alltime_ul / (double)alltime_dl);
    set(o, "global_ratio", jstr(ratio));
    set(o, "read_cache_hits", jstr("0"));
    set(o, "read_cache_overload", jstr("0"));
    set(o, "write_cache_overload", jstr("0"));
    set(o, "queueing", json_boolean(settings_bool(p, SET_QUEUEING_ENABLED)));
    set(o, "use_alt_speed_limits", json_boolean(limits_alt(s)));
    set(o, "use_subcategories", json_false());
    return o;
}

/* ---- pieces, web seeds ---- */

json_t *qbt_v2_piece_states_json(const struct torrent *t)
{
    /* qBittorrent: 0 not downloaded, 1 downloading, 2 downloaded */
    json_t *a = json_array();
    uint32_t np = view_num_pieces(t);
    for (uint32_t i = 0; a && i < np; i++) {
        enum view_piece_state ps = view_piece_state(t, i);
        json_array_append_new(a, json_integer(ps == VIEW_PIECE_HAVE ? 2 : ps == VIEW_PIECE_DOWNLOADING ? 1 : 0));
    }
    return a;
}

json_t *qbt_v2_piece_hashes_json(const struct torrent *t)
{
    json_t *a = json_array();
    struct view_meta m;
    view_meta(t, &m);
    uint32_t np = m.piece_hashes ? m.num_pieces : 0;
    for (uint32_t i = 0; a && i < np; i++) {
        char hex[41];
        hex_encode(m.piece_hashes + (size_t)i * 20, 20, hex);
        json_array_append_new(a, json_string(hex));
    }
    return a;
}

json_t *qbt_v2_webseeds_json(const struct torrent *t)
{
    json_t *a = json_array();
    struct view_meta m;
    view_meta(t, &m);
    for (size_t i = 0; a && i < m.num_web_seeds; i++)
        json_array_append_new(a, json_pack("{s:s}", "url", m.web_seeds[i]));
    return a;
}

/* ---- sync/maindata ---- */

static void add_tracker_hash(json_t *trackers, const char *url, const char *hex)
{
    json_t *list = json_object_get(trackers, url);
    if (!list) {
        list = json_array();
        if (!list || json_object_set_new(trackers, url, list) != 0)
            return;
    }
    json_array_append_new(list, json_string(hex));
}

json_t *qbt_v2_maindata_json(struct session *s, int rid)
{
    json_t *torrents = json_object(), *cats = json_object(), *tags = json_array(),
           *trackers = json_object(), *seen_tags = json_object();
    json_t *o = json_pack("{s:i, s:b, s:o, s:o, s:o, s:o, s:o*}", "rid", rid, "full_update", 1,
                          "torrents", torrents, "categories", cats, "tags", tags, "trackers", trackers,
                          "server_state", qbt_v2_server_state_json(s));
    if (!o || !seen_tags) {
        json_decref(o);
        json_decref(seen_tags);
        return NULL;
    }
    int64_t pos = 0;
    for (size_t i = 0; i < s->num_torrents; i++) {
        const struct torrent *t = s->torrents[i];
        int64_t prio = qbt_v2_queue_step(t, &pos);
        if (t->removing)
            continue;
        set(torrents, t->hex, qbt_v2_torrent_json_at(t, false, prio));
        /* Categories and tags are not managed yet: report those in use. */
        if (t->category && *t->category && !json_object_get(cats, t->category))
            set(cats, t->category, json_pack("{s:s, s:s}", "name", t->category, "savePath", ""));
        for (size_t k = 0; k < t->tags.n; k++) {
            const char *name = t->tags.v[k];
            if (*name && !json_object_get(seen_tags, name)) {
                json_object_set_new(seen_tags, name, json_true());
                json_array_append_new(tags, json_string(name));
            }
        }
        struct view_tracker e;
        for (size_t j = 0; view_tracker(t, j, &e); j++)
            if (e.url)
                add_tracker_hash(trackers, e.url, t->hex);
    }
    json_decref(seen_tags);
    return o;
}

/* ---- sort order ---- */

static int type_rank(const json_t *v)
{
    if (!v || json_is_null(v))
        return 0;
    if (json_is_boolean(v))
        return 1;
    if (json_is_number(v))
        return 2;
    if (json_is_string(v))
        return 3;
    return 4;
}

int qbt_v2_json_cmp(const json_t *a, const json_t *b)
{
    int ra = type_rank(a), rb = type_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 1:
        return (int)json_is_true(a) - (int)json_is_true(b);
    case 2:
        if (json_is_integer(a) && json_is_integer(b)) {
            json_int_t x = json_integer_value(a), y = json_integer_value(b);
            return x < y ? -1 : x > y;
        } else {
            double x = json_number_value(a), y = json_number_value(b);
            return x < y ? -1 : x > y;
        }
    case 3: {
        int c = strcmp(json_string_value(a), json_string_value(b));
        return c < 0 ? -1 : c > 0;
    }
    default:
        return 0;
    }
}
