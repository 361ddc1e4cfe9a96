/* web/api/ut_gui_list — list=1: the torrent rows, the labels and the cache
 * id deltas (seed 004 "Torrent/labels/RSS/Filters List"; api-surface.md
 * §12.2-§12.3; clients-wave2.md §1.3-§1.4).
 *
 * The row is a pure function of (torrent, status snapshot, queue order):
 * positional, integers only (Sonarr reads sizes as Int64 and every other
 * number with ReadAsInt32, so those are clamped to int32).
 *
 * Cache ids: torrentc is a decimal string, epoch * 2^32 + n, where epoch is
 * 20 random bits drawn at start (a cid from another run, or from anything
 * else, never matches) and n numbers the cids handed out; a ring of the last
 * UT_GUI_CID_RING remembers for each the session's change_seq and the queue
 * version at that moment.  A delta is what the core's change tracking
 * reports since then (session_changed_since / session_removed_since, as
 * qbt_v2_sync.c uses them): O(changes) rows serialized.  Two things the
 * change list does not see are handled in the one O(n) pointer walk every
 * list makes anyway (no serialization): label counts, and queue order
 * (moving one torrent renumbers others nobody touched) -- when the queue
 * fingerprint differs from the cid's, every row is resent in torrentp.
 * Unknown, evicted or malformed cid: the full form.  At most 2^52, so a
 * JavaScript client that reads it as a number keeps it exact.  The RSS
 * lists' deltas ride on the same cid (its rss_ver; ut_gui_rss.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/session.h"
#include "web/api/ut_gui_int.h"

static int clamp32(int64_t v)
{
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int)v;
}

static bool is_checking(enum torrent_state s)
{
    return s == TORRENT_STATE_CHECKING_RESUME || s == TORRENT_STATE_CHECKING_DL || s == TORRENT_STATE_CHECKING_UP;
}

/* seed 004's examples: 201 = loaded+queued+checked+started (running under
 * the queue), 136 = loaded+checked (stopped).  A torrent held back by the
 * queue is 200 (queued, not started); a forced one runs outside the queue:
 * started without queued (137, the official WebUI's "[F]").  torrentd has
 * no pause distinct from stop (pause stops), so PAUSED is never set. */
int ut_gui_status_bits(const struct torrent *t, const struct torrent_status *st)
{
    int b = UT_ST_LOADED;
    switch (st->state) {
    case TORRENT_STATE_ERROR:
    case TORRENT_STATE_MISSING_FILES:
        return b | UT_ST_ERROR | UT_ST_CHECKED;
    case TORRENT_STATE_CHECKING_RESUME:
    case TORRENT_STATE_CHECKING_DL:
    case TORRENT_STATE_CHECKING_UP:
        return b | UT_ST_CHECKING | (t->stopped ? 0 : UT_ST_START_AFTER_CHECK);
    case TORRENT_STATE_STOPPED_DL:
    case TORRENT_STATE_STOPPED_UP:
        return b | UT_ST_CHECKED;
    case TORRENT_STATE_QUEUED_DL:
    case TORRENT_STATE_QUEUED_UP:
        return b | UT_ST_CHECKED | UT_ST_QUEUED;
    default:
        break;
    }
    if (t->stopped)   /* moving while stopped */
        return b | UT_ST_CHECKED;
    return b | UT_ST_CHECKED | UT_ST_STARTED | (t->forced ? 0 : UT_ST_QUEUED);
}

void ut_gui_status_msg(const struct torrent *t, const struct torrent_status *st, char *out, size_t outlen)
{
    const char *f = t->forced && !t->stopped ? "[F] " : "";
    switch (st->state) {
    case TORRENT_STATE_ERROR:
        snprintf(out, outlen, "Error: %s", t->error && *t->error ? t->error : "unknown error");
        return;
    case TORRENT_STATE_MISSING_FILES:
        snprintf(out, outlen, "Error: files missing");
        return;
    case TORRENT_STATE_CHECKING_RESUME:
    case TORRENT_STATE_CHECKING_DL:
    case TORRENT_STATE_CHECKING_UP:
        snprintf(out, outlen, "Checking %.1f %%", st->progress * 100.0);
        return;
    case TORRENT_STATE_MOVING: snprintf(out, outlen, "Moving"); return;
    case TORRENT_STATE_STOPPED_DL: snprintf(out, outlen, "Stopped"); return;
    case TORRENT_STATE_STOPPED_UP: snprintf(out, outlen, "Finished"); return;
    case TORRENT_STATE_QUEUED_DL: snprintf(out, outlen, "Queued"); return;
    case TORRENT_STATE_QUEUED_UP: snprintf(out, outlen, "Queued Seed"); return;
    case TORRENT_STATE_METADATA:
    case TORRENT_STATE_METADATA_FORCED: snprintf(out, outlen, "%sDownloading metadata", f); return;
    case TORRENT_STATE_UPLOADING:
    case TORRENT_STATE_UPLOADING_FORCED:
    case TORRENT_STATE_STALLED_UP: snprintf(out, outlen, "%sSeeding", f); return;
    default: snprintf(out, outlen, "%sDownloading", f); return;
    }
}

/* Per mil of the wanted bytes, 1000 only when every wanted byte is here
 * (Sonarr's "completed" needs exactly 1000); while checking, of the pieces
 * hashed. */
static int progress_permil(const struct torrent_status *st)
{
    if (is_checking(st->state)) {
        double p = st->progress * 1000.0;
        return p < 0 ? 0 : p > 1000 ? 1000 : (int)p;
    }
    if (!st->has_metadata)
        return 0;
    if (st->wanted_size <= 0)
        return 1000;
    return (int)(st->wanted_done * 1000 / st->wanted_size);
}

/* Per mil; -1 for infinite (uploaded, never downloaded: the official WebUI
 * shows -1 as ∞), capped at qBittorrent's 9999 so v2 and /gui/ agree. */
static int ratio_permil(double r)
{
    if (isinf(r))
        return -1;
    if (isnan(r) || r <= 0)
        return 0;
    if (r > 9999.0)
        r = 9999.0;
    return (int)(r * 1000.0);
}

json_t *ut_gui_row(const struct torrent *t, const struct torrent_status *st, int64_t queue_order)
{
    char hash[41];
    for (size_t i = 0; i < 40; i++) {
        char ch = t->hex[i];
        hash[i] = (ch >= 'a' && ch <= 'f') ? (char)(ch - 'a' + 'A') : ch;
    }
    hash[40] = 0;
    char msg[512];
    ut_gui_status_msg(t, st, msg, sizeof msg);
    int64_t eta = st->finished ? 0 : st->eta_infinite ? -1 : st->eta;
    int avail = st->availability < 0 ? 0 : clamp32((int64_t)(st->availability * 65536.0));
    const char *path = t->data_in_download && t->download_path && *t->download_path ? t->download_path
                       : t->save_path                                                ? t->save_path
                                                                                     : "";
    int64_t completed = st->completion_on > 0 ? st->completion_on : 0;
    int64_t added = st->added_on > 0 ? st->added_on : 0;
    return json_pack("[s,i,s,I,i,I,I,i,i,i,i,s,i,i,i,i,i,i,I,s,s,s,s,I,I,s,s,s,i]",
                     hash,                                        /* 0 hash, upper case */
                     ut_gui_status_bits(t, st),                   /* 1 status */
                     torrent_name(t),                             /* 2 name: the magnet's dn before metadata */
                     (json_int_t)st->wanted_size,                 /* 3 size (selected files) */
                     progress_permil(st),                         /* 4 per mil */
                     (json_int_t)st->downloaded,                  /* 5 downloaded */
                     (json_int_t)st->uploaded,                    /* 6 uploaded */
                     ratio_permil(st->ratio),                     /* 7 ratio per mil */
                     clamp32((int64_t)st->up_rate),               /* 8 upload speed */
                     clamp32((int64_t)st->dl_rate),               /* 9 download speed */
                     clamp32(eta),                                /* 10 eta s, -1 = infinite */
                     t->category ? t->category : "",              /* 11 label = category */
                     clamp32(st->leechers_connected),             /* 12 peers connected */
                     clamp32(st->leechers_swarm < 0 ? 0 : st->leechers_swarm),   /* 13 peers in swarm */
                     clamp32(st->seeds_connected),                /* 14 seeds connected */
                     clamp32(st->seeds_swarm < 0 ? 0 : st->seeds_swarm),         /* 15 seeds in swarm */
                     avail,                                       /* 16 availability, 1/65536 */
                     clamp32(queue_order),                        /* 17 queue order */
                     (json_int_t)st->amount_left,                 /* 18 remaining */
                     "",                                          /* 19 download url */
                     "",                                          /* 20 rss feed url */
                     msg,                                         /* 21 status message */
                     hash,                                        /* 22 stream id: the hash (core/stream.h), /proxy?sid= */
                     (json_int_t)added,                           /* 23 added on */
                     (json_int_t)completed,                       /* 24 completed on, 0 = not yet */
                     "",                                          /* 25 app update url */
                     path,                                        /* 26 save path */
                     "",                                          /* 27 unknown (newer builds) */
                     0);                                          /* 28 unknown: Sonarr reads, ignores */
}

/* ---- the list ---- */

/* One walk over the session: queue orders (by index in s->torrents), label
 * counts, the queue fingerprint. */
struct walk {
    int64_t *order;    /* [num_torrents]: 1-based download queue order, -1 none */
    json_t *counts;    /* category -> count */
    uint64_t fp;
};

static bool walk_session(struct session *s, struct walk *w)
{
    w->order = malloc((s->num_torrents ? s->num_torrents : 1) * sizeof *w->order);
    w->counts = json_object();
    if (!w->order || !w->counts)
        return false;
    uint64_t fp = 1469598103934665603ull;   /* FNV-1a over (torrent, order) */
    int64_t pos = 0;
    for (size_t i = 0; i < s->num_torrents; i++) {
        const struct torrent *t = s->torrents[i];
        w->order[i] = (t->removing || torrent_is_finished(t)) ? -1 : ++pos;
        uintptr_t key[2] = {(uintptr_t)t, (uintptr_t)w->order[i]};
        const unsigned char *b = (const unsigned char *)key;
        for (size_t k = 0; k < sizeof key; k++)
            fp = (fp ^ b[k]) * 1099511628211ull;
        if (t->removing || !t->category || !*t->category)
            continue;
        json_t *n = json_object_get(w->counts, t->category);
        if (json_object_set_new(w->counts, t->category, json_integer(n ? json_integer_value(n) + 1 : 1)) != 0)
            return false;
    }
    w->fp = fp;
    return true;
}

static int64_t order_of(struct session *s, const struct walk *w, const struct torrent *t)
{
    if (t->queue_pos >= 0 && (size_t)t->queue_pos < s->num_torrents && s->torrents[t->queue_pos] == t)
        return w->order[t->queue_pos];
    for (size_t i = 0; i < s->num_torrents; i++)
        if (s->torrents[i] == t)
            return w->order[i];
    return -1;
}

/* [[name, count], …]: every category (labels are categories), in the
 * catalog's order, with the torrents in it. */
static json_t *labels_json(struct session *s, const struct walk *w)
{
    json_t *a = json_array();
    const struct catalog *cat = s->catalog;
    for (size_t i = 0; a && cat && i < cat->num_cats; i++) {
        json_t *n = json_object_get(w->counts, cat->cats[i].name);
        if (json_array_append_new(a, json_pack("[s,I]", cat->cats[i].name, n ? json_integer_value(n) : 0)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *row_of(struct session *s, const struct walk *w, const struct torrent *t)
{
    struct torrent_status st;
    torrent_status_now(t, &st);
    return ut_gui_row(t, &st, order_of(s, w, t));
}

struct delta {
    struct session *s;
    const struct walk *w;
    json_t *rows, *removed;
    bool oom;
};

static void on_changed(struct torrent *t, void *ud)
{
    struct delta *d = ud;
    if (t->removing || d->oom)
        return;
    if (json_array_append_new(d->rows, row_of(d->s, d->w, t)) != 0)
        d->oom = true;
}

static void on_removed(const char *hex, void *ud)
{
    struct delta *d = ud;
    /* removed and added again since: it is in torrentp, not gone */
    const struct torrent *t = session_find_hex(d->s, hex);
    if (d->oom || (t && !t->removing))
        return;
    char up[41];
    snprintf(up, sizeof up, "%s", hex);
    for (char *p = up; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    if (json_array_append_new(d->removed, json_string(up)) != 0)
        d->oom = true;
}

/* The ring entry a cid names, or NULL. */
static const struct ut_gui_cid *cid_find(struct ut_gui *g, const char *cid)
{
    if (!cid || !*cid)
        return NULL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(cid, &end, 10);
    if (*end || errno || cid[0] == '-' || (v >> 32) != g->epoch)
        return NULL;
    uint32_t n = (uint32_t)v;
    const struct ut_gui_cid *e = &g->cids[n % UT_GUI_CID_RING];
    return n != 0 && e->n == n ? e : NULL;
}

/* The cid for the state now: the last one again when nothing changed
 * (an idle poller does not churn the ring). */
static uint64_t cid_issue(struct ut_gui *g, uint64_t seq, uint64_t rss_ver)
{
    uint32_t last = g->cid_next - 1;
    struct ut_gui_cid *e = &g->cids[last % UT_GUI_CID_RING];
    if (!(last != 0 && e->n == last && e->change_seq == seq && e->queue_ver == g->queue_ver &&
          e->rss_ver == rss_ver)) {
        last = g->cid_next++;
        if (g->cid_next == 0)
            g->cid_next = 1;   /* 0 marks a free slot */
        e = &g->cids[last % UT_GUI_CID_RING];
        *e = (struct ut_gui_cid){last, seq, g->queue_ver, rss_ver};
    }
    return (uint64_t)g->epoch << 32 | last;
}

static bool put(json_t *o, const char *k, json_t *v)
{
    return v && json_object_set_new(o, k, v) == 0;
}

void ut_gui_list(struct ut_call *c)
{
    struct ut_gui *g = c->g;
    struct session *s = c->s;
    struct walk w = {0};
    json_t *o = ut_reply_obj();
    struct delta d = {s, &w, NULL, NULL, false};
    if (!o || !walk_session(s, &w))
        goto oom;
    if (w.fp != g->queue_fp) {
        g->queue_fp = w.fp;
        g->queue_ver++;
    }
    uint64_t seq = s->change_seq;
    const struct ut_gui_cid *e = cid_find(g, ut_query_get(&c->q, "cid"));
    d.rows = json_array();
    d.removed = json_array();
    if (!d.rows || !d.removed || !put(o, "label", labels_json(s, &w)))
        goto oom;
    bool delta = e && session_removed_since(s, e->change_seq, on_removed, &d) == 0;
    if (delta && e->queue_ver == g->queue_ver) {
        session_changed_since(s, e->change_seq, on_changed, &d);
    } else {
        /* a full list; in delta form (all rows in torrentp) when only the
         * queue order moved under a known cid */
        json_array_clear(d.rows);
        for (size_t i = 0; i < s->num_torrents && !d.oom; i++) {
            const struct torrent *t = s->torrents[i];
            if (!t->removing && json_array_append_new(d.rows, row_of(s, &w, t)) != 0)
                d.oom = true;
        }
    }
    if (d.oom)
        goto oom;
    bool ok;
    if (delta)
        ok = put(o, "torrentp", json_incref(d.rows)) && put(o, "torrentm", json_incref(d.removed));
    else
        ok = put(o, "torrents", json_incref(d.rows));
    /* the feeds and filters (ut_gui_rss.c): deltas under the same cid */
    uint64_t rss_ver = 0;
    ok = ok && ut_gui_rss_list(g, o, delta ? &e->rss_ver : NULL, &rss_ver);
    char cid[24];
    snprintf(cid, sizeof cid, "%" PRIu64, cid_issue(g, seq, rss_ver));
    if (!ok || !put(o, "torrentc", json_string(cid)))
        goto oom;
    json_decref(d.rows);
    json_decref(d.removed);
    free(w.order);
    json_decref(w.counts);
    ut_reply(c, o);
    return;
oom:
    json_decref(d.rows);
    json_decref(d.removed);
    free(w.order);
    json_decref(w.counts);
    json_decref(o);
    ut_reply(c, NULL);
}
