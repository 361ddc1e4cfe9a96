/* web/api/ut_gui_props — getfiles, getpeers, getprops, setprops (seed 004
 * "Files List", "Torrent Job Properties"; api-surface.md §12.2;
 * clients-wave2.md §1.3).
 *
 * Several hashes in one call: µTorrent writes one "files" (or "peers")
 * key per hash, i.e. duplicate JSON keys, which every JSON library but a
 * streaming one collapses to the last.  Here the one "files" array holds
 * the pairs in order, [H1, [rows…], H2, [rows…]]: a client that sends one
 * hash (all of them do) reads [0] and [1] exactly as from µTorrent, and
 * none is lost for a client that sends several.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/catalog.h"
#include "core/service.h"
#include "core/session.h"
#include "core/settings.h"
#include "core/view.h"
#include "util/log.h"
#include "web/api/qbt_v2_int.h"
#include "web/api/ut_gui_int.h"

static void upper(char out[41], const char *hex)
{
    for (size_t i = 0; i < 40; i++)
        out[i] = (hex[i] >= 'a' && hex[i] <= 'f') ? (char)(hex[i] - 'a' + 'A') : hex[i];
    out[40] = 0;
}

/* The core's file priority (0, 1, 6, 7) in µTorrent's (0 skip, 2 normal,
 * 3 high); see prio_to_core in ut_gui_actions.c. */
static int prio_from_core(int p)
{
    return p <= 0 ? 0 : p >= 6 ? 3 : 2;
}

/* File names relative to the torrent's folder, as µTorrent shows them
 * (its job directory is the save path plus that folder). */
static json_t *files_of(struct torrent *t)
{
    json_t *a = json_array();
    const char *root = torrent_root_folder(t);
    size_t rl = root ? strlen(root) : 0;
    size_t n = view_file_count(t);
    for (size_t i = 0; a && i < n; i++) {
        struct view_file f;
        if (view_file(t, i, &f) != 0)
            continue;
        int64_t done = 0;
        unsigned avail = 0;
        view_file_pieces(t, &f, &done, &avail);
        int64_t np = f.last_piece >= f.first_piece ? f.last_piece - f.first_piece + 1 : 0;
        /* name, size, downloaded, priority, first piece, num pieces, then
         * the streaming columns (streamable, encoded rate, duration,
         * width, height, stream eta, streamability): nothing to stream */
        const char *name = rl && strncmp(f.path, root, rl) == 0 && f.path[rl] == '/' ? f.path + rl + 1 : f.path;
        if (json_array_append_new(a, json_pack("[s,I,I,i,I,I,b,i,i,i,i,i,i]", name, (json_int_t)f.size,
                                               (json_int_t)done, prio_from_core(f.priority),
                                               (json_int_t)(f.first_piece < 0 ? 0 : f.first_piece),
                                               (json_int_t)np, 0, 0, 0, 0, 0, 0, 0)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* relevance and progress as per mil, the rest as µTorrent's 22 peer
 * columns (the official WebUI's PEER_COUNTRY … PEER_RELEVANCE). */
static json_t *peer_row(const char *key, json_t *p)
{
    (void)key;
    double prog = json_number_value(json_object_get(p, "progress"));
    double rel = json_number_value(json_object_get(p, "relevance"));
    const char *flags = json_string_value(json_object_get(p, "flags"));
    const char *client = json_string_value(json_object_get(p, "client"));
    const char *ip = json_string_value(json_object_get(p, "ip"));
    return json_pack("[s,s,s,i,I,s,s,i,I,I,i,i,i,I,I,i,i,i,i,i,i,i]",
                     "",                                                    /* country */
                     ip ? ip : "", "",                                       /* ip, reverse dns */
                     0,                                                     /* uTP: torrentd speaks TCP */
                     json_integer_value(json_object_get(p, "port")),
                     client ? client : "", flags ? flags : "",
                     (int)(prog * 1000.0),                                 /* progress per mil */
                     json_integer_value(json_object_get(p, "dl_speed")),
                     json_integer_value(json_object_get(p, "up_speed")),
                     0, 0, 0,                                               /* reqs out, reqs in, waited */
                     json_integer_value(json_object_get(p, "uploaded")),
                     json_integer_value(json_object_get(p, "downloaded")),
                     0, 0, 0, 0, 0, 0,                                      /* hash errors, peer dl, max up/down, queued, inactive */
                     (int)(rel * 1000.0));
}

static json_t *peers_of(struct torrent *t)
{
    json_t *src = qbt_v2_peers_json(t), *a = json_array();
    const char *k;
    json_t *p;
    json_object_foreach(src, k, p)
    {
        if (!a || json_array_append_new(a, peer_row(k, p)) != 0) {
            json_decref(a);
            a = NULL;
            break;
        }
    }
    if (!src) {
        json_decref(a);
        a = NULL;
    }
    json_decref(src);
    return a;
}

/* {"build", key: [H1, rows1, H2, rows2, …]} over the hash= of c. */
static void per_hash(struct ut_call *c, const char *key, json_t *(*rows)(struct torrent *t))
{
    struct torrent **ts;
    size_t n;
    if (ut_call_hashes(c, &ts, &n) != 0) {
        ut_reply(c, NULL);
        return;
    }
    json_t *o = ut_reply_obj(), *a = json_array();
    bool ok = o && a;
    for (size_t i = 0; ok && i < n; i++) {
        char h[41];
        upper(h, ts[i]->hex);
        ok = json_array_append_new(a, json_string(h)) == 0 && json_array_append_new(a, rows(ts[i])) == 0;
    }
    free(ts);
    if (!ok || json_object_set_new(o, key, a) != 0) {
        json_decref(o);
        ut_reply(c, NULL);
        return;
    }
    ut_reply(c, o);
}

void ut_gui_getfiles(struct ut_call *c) { per_hash(c, "files", files_of); }
void ut_gui_getpeers(struct ut_call *c) { per_hash(c, "peers", peers_of); }

/* ---- getprops ---- */

/* Tracker URLs, "\r\n" between them and an empty line between tiers (the
 * µTorrent properties dialog's format, seed 004 "TRACKERS"). */
static char *trackers_text(const struct torrent *t)
{
    size_t n = view_tracker_count(t), len = 1;
    struct view_tracker v;
    for (size_t i = 0; i < n; i++)
        if (view_tracker(t, i, &v))
            len += strlen(v.url) + 4;
    char *out = malloc(len), *p = out;
    if (!out)
        return NULL;
    int tier = 0;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!view_tracker(t, i, &v))
            continue;
        if (!first)
            p += sprintf(p, v.tier != tier ? "\r\n\r\n" : "\r\n");
        p += sprintf(p, "%s", v.url);
        tier = v.tier;
        first = false;
    }
    *p = 0;
    return out;
}

/* The share limits µTorrent shows: seed_override 1 when the torrent has
 * its own (not the global -2); ratio per mil and time in seconds, 0 for
 * none (µTorrent's "0 = no minimum"). */
static bool overrides(const struct torrent *t)
{
    return t->ratio_limit != -2 || t->seeding_time_limit != -2;
}

static int64_t seed_ratio_permil(const struct torrent *t)
{
    return t->ratio_limit >= 0 ? (int64_t)llround(t->ratio_limit * 1000.0) : 0;
}

static int64_t seed_time_s(const struct torrent *t)
{
    return t->seeding_time_limit >= 0 ? t->seeding_time_limit * 60 : 0;
}

/* dht and pex: on for the session's torrents unless private (-1, "not
 * allowed"), per seed 004's tri-state; the switch is global in torrentd. */
static int dht_pex(const struct torrent *t, enum setting_id id)
{
    struct view_meta m;
    view_meta(t, &m);
    if (m.is_private)
        return -1;
    return settings_bool(&t->s->settings, id) ? 1 : 0;
}

static json_t *props_of(const struct torrent *t)
{
    char h[41];
    upper(h, t->hex);
    char *tr = trackers_text(t);
    json_t *o = tr ? json_pack("{s:s,s:s,s:I,s:I,s:i,s:i,s:i,s:i,s:I,s:I,s:i}", "hash", h, "trackers", tr,
                               "ulrate", (json_int_t)(t->up_limit > 0 ? t->up_limit : 0), "dlrate",
                               (json_int_t)(t->dl_limit > 0 ? t->dl_limit : 0), "superseed",
                               t->super_seeding ? 1 : 0, "dht", dht_pex(t, SET_DHT), "pex", dht_pex(t, SET_PEX),
                               "seed_override", overrides(t) ? 1 : 0, "seed_ratio",
                               (json_int_t)seed_ratio_permil(t), "seed_time", (json_int_t)seed_time_s(t),
                               "ulslots", 0)
                   : NULL;
    free(tr);
    return o;
}

void ut_gui_getprops(struct ut_call *c)
{
    struct torrent **ts;
    size_t n;
    if (ut_call_hashes(c, &ts, &n) != 0) {
        ut_reply(c, NULL);
        return;
    }
    json_t *o = ut_reply_obj(), *a = json_array();
    bool ok = o && a;
    for (size_t i = 0; ok && i < n; i++)
        ok = json_array_append_new(a, props_of(ts[i])) == 0;
    free(ts);
    if (!ok || json_object_set_new(o, "props", a) != 0) {
        json_decref(o);
        ut_reply(c, NULL);
        return;
    }
    ut_reply(c, o);
}

/* ---- setprops ---- */

/* seed 004: booleans are sent as 0/1 ("rather than a string"); the words
 * are accepted too. */
static bool parse_bool(const char *v, bool *out)
{
    if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0)
        return *out = true;
    if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0)
        return !(*out = false);
    return false;
}

static int set_label(struct ut_wait *b, struct torrent *t, const char *v)
{
    struct session *s = b->c->s;
    if (*v) {
        /* µTorrent's labels are free text: a new one is a new category,
         * made as qBittorrent's createCategory makes it. */
        ut_wait_hold(b);
        int rc = service_category_create(s, v, &(struct catalog_category_opts){0}, ut_wait_done, b);
        ut_wait_started(b, rc);
        if (rc != 0 && rc != -EEXIST)
            return rc;
    }
    ut_wait_hold(b);
    int rc = service_set_category(s, t, v, ut_wait_done, b);
    ut_wait_started(b, rc);
    return rc;
}

static int set_limits(struct ut_wait *b, struct torrent *t, double ratio, int64_t minutes)
{
    struct service_share_limits l = {ratio, minutes, t->inactive_seeding_time_limit, false, TORRENT_SHARE_DEFAULT};
    ut_wait_hold(b);
    int rc = service_set_share_limits(b->c->s, t, &l, ut_wait_done, b);
    ut_wait_started(b, rc);
    return rc;
}

/* Replaces the trackers with the text's (tiers separated by empty lines). */
static int set_trackers(struct torrent *t, const char *v)
{
    struct session *s = t->s;
    char *dup = strdup(v);
    if (!dup)
        return -ENOMEM;
    struct service_tracker *want = NULL;
    size_t nw = 0;
    int tier = 0;
    bool blank = false;
    for (char *save = NULL, *line = strtok_r(dup, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = 0;
        if (!len) {
            blank = true;
            continue;
        }
        if (blank && nw)
            tier++;
        blank = false;
        struct service_tracker *nv = realloc(want, (nw + 1) * sizeof *nv);
        if (!nv) {
            free(want);
            free(dup);
            return -ENOMEM;
        }
        want = nv;
        want[nw++] = (struct service_tracker){line, tier};
    }
    /* strtok_r folds "\n\n": a tier break shows as "\r\n\r\n" whose middle
     * line is "\r", caught above as empty */
    size_t nh = view_tracker_count(t), nr = 0;
    const char **gone = calloc(nh ? nh : 1, sizeof *gone);
    if (!gone) {
        free(want);
        free(dup);
        return -ENOMEM;
    }
    struct view_tracker vt;
    for (size_t i = 0; i < nh; i++) {
        if (!view_tracker(t, i, &vt))
            continue;
        bool keep = false;
        for (size_t k = 0; k < nw && !keep; k++)
            keep = strcmp(want[k].url, vt.url) == 0;
        /* copied: the removal frees the tracker set's strings */
        if (!keep && (gone[nr] = strdup(vt.url)) != NULL)
            nr++;
    }
    if (nr)
        service_remove_trackers(s, t, gone, nr);
    if (nw)
        service_add_trackers(s, t, want, nw);
    for (size_t i = 0; i < nr; i++)
        free((char *)gone[i]);
    free(gone);
    free(want);
    free(dup);
    return 0;
}

/* One s/v pair on t; NULL or why it was refused (nothing of it applied). */
static const char *apply_pair(struct ut_wait *b, struct torrent *t, const char *k, const struct ut_param *pv)
{
    const char *v = pv->val;
    int64_t x;
    bool on;
    if (ut_param_has_nul(pv))
        return "a value must not contain a NUL byte";
    if (strcmp(k, "label") == 0) {
        int rc = set_label(b, t, v);
        return rc == -EINVAL || rc == -ENOENT ? "label is not a valid label name" : NULL;
    }
    if (strcmp(k, "seed_override") == 0) {
        if (!parse_bool(v, &on))
            return "seed_override must be 0 or 1";
        /* off: the global limits again; on: the torrent's own, none until
         * seed_ratio / seed_time give them */
        if (on && overrides(t))
            return NULL;
        set_limits(b, t, on ? -1 : -2, on ? -1 : -2);
        return NULL;
    }
    if (strcmp(k, "seed_ratio") == 0) {
        if (!ut_parse_int(v, 0, INT32_MAX, &x))
            return "seed_ratio must be a ratio in per mil (0 or more)";
        set_limits(b, t, x ? (double)x / 1000.0 : -1, t->seeding_time_limit == -2 ? -1 : t->seeding_time_limit);
        return NULL;
    }
    if (strcmp(k, "seed_time") == 0) {
        if (!ut_parse_int(v, 0, INT32_MAX, &x))
            return "seed_time must be seconds (0 or more)";
        set_limits(b, t, t->ratio_limit == -2 ? -1 : t->ratio_limit, x ? (x + 59) / 60 : -1);
        return NULL;
    }
    if (strcmp(k, "ulrate") == 0 || strcmp(k, "dlrate") == 0) {
        if (!ut_parse_int(v, 0, INT64_MAX / 2, &x))
            return "ulrate and dlrate must be bytes per second (0 = unlimited)";
        ut_wait_hold(b);
        ut_wait_started(b, service_set_rate_limit(b->c->s, t, k[0] == 'u', x, ut_wait_done, b));
        return NULL;
    }
    if (strcmp(k, "superseed") == 0) {
        if (!parse_bool(v, &on))
            return "superseed must be 0 or 1";
        ut_wait_hold(b);
        ut_wait_started(b, service_set_flag(b->c->s, t, SERVICE_FLAG_SUPER_SEEDING, on ? 1 : 0, ut_wait_done, b));
        return NULL;
    }
    if (strcmp(k, "dht") == 0 || strcmp(k, "pex") == 0) {
        /* global switches in torrentd: only the value getprops shows */
        int cur = dht_pex(t, k[0] == 'd' ? SET_DHT : SET_PEX);
        if (!ut_parse_int(v, -1, 1, &x) || x != cur)
            return k[0] == 'd' ? "dht cannot be set per torrent (it is a global setting)"
                               : "pex cannot be set per torrent (it is a global setting)";
        return NULL;
    }
    if (strcmp(k, "ulslots") == 0) {
        if (!ut_parse_int(v, 0, 0, &x))
            return "ulslots cannot be set per torrent";
        return NULL;
    }
    if (strcmp(k, "trackers") == 0)
        return set_trackers(t, v) == 0 ? NULL : "out of memory";
    return "unknown property";
}

/* The live torrent a hash= names, or NULL. */
static struct torrent *find(struct ut_call *c, const struct ut_param *p)
{
    struct torrent *t = ut_param_has_nul(p) ? NULL : session_find_hex(c->s, p->val);
    return t && !t->removing ? t : NULL;
}

/* seed 004: "Any following s= and v= pairs will modify the properties of
 * the last specified hash"; pairs apply in order, so of two pairs with
 * one key the last wins (Sonarr clears a label with s=label&v=<old>&
 * s=label&v=).  Pairs before the first hash belong to that hash:
 * @ctrl/utorrent sends s=label&v=X&hash=H (its URLSearchParams order), and
 * the package's own tests pass against µTorrent Server.  A pair after an
 * unknown hash, or with no hash at all, changes nothing.  A refused pair is
 * reported (the first, by key) and skipped; the others still apply. */
void ut_gui_setprops(struct ut_call *c)
{
    struct ut_wait *b = ut_wait_new(c);
    if (!b)
        return;
    struct torrent *t = NULL;
    for (size_t i = 0; i < c->q.n; i++) {
        if (strcmp(c->q.v[i].key, "hash") == 0) {
            t = find(c, &c->q.v[i]);   /* the first hash: pairs before it are its own */
            break;
        }
    }
    const char *key = NULL;
    for (size_t i = 0; i < c->q.n; i++) {
        const struct ut_param *p = &c->q.v[i];
        if (strcmp(p->key, "hash") == 0) {
            t = find(c, p);
            key = NULL;
        } else if (strcmp(p->key, "s") == 0) {
            key = p->val;
        } else if (strcmp(p->key, "v") == 0 && key) {
            const char *err = t ? apply_pair(b, t, key, p) : NULL;
            if (err) {
                char msg[256];
                snprintf(msg, sizeof msg, "%.64s: %s", key, err);
                ut_wait_fail(b, msg);
            }
            key = NULL;
        }
    }
    ut_wait_done(b, 0);
}
