/* share_limits: qbit_manage 4.8.1's modules/core/share_limits.py on the
 * live torrents.  Groups are taken in priority order; a torrent belongs to
 * the first whose tag, category and size rules it meets. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "automation/am_int.h"
#include "core/catalog.h"
#include "core/service.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/torrent_status.h"
#include "util/log.h"

struct group {
    const char *name;
    const char *priority_text;
    double priority;
    const struct autocfg_node *inc_all, *inc_any, *exc_all, *exc_any, *cats;
    bool has_min_size, has_max_size;
    int64_t min_size, max_size;
    double max_ratio;
    int64_t max_seeding_time, max_last_active, min_seeding_time, min_last_active, min_num_seeds;
    int64_t limit_upload_speed, upload_speed_on_limit_reached;
    bool group_upload, reset_on_unmet, cleanup, resume, add_group_to_tag;
    const char *custom_tag;
    const char *action;
    struct torrent **tors;
    size_t n;
};

/* "10GB", "500 MiB", "1048576": bytes (binary multiples for either spelling). */
static bool parse_size(const char *s, int64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v) || v < 0)
        return false;
    while (*end == ' ')
        end++;
    double mul = 1;
    switch (toupper((unsigned char)*end)) {
    case '\0': break;
    case 'B': break;
    case 'K': mul = 1024.0; break;
    case 'M': mul = 1024.0 * 1024; break;
    case 'G': mul = 1024.0 * 1024 * 1024; break;
    case 'T': mul = 1024.0 * 1024 * 1024 * 1024; break;
    default: return false;
    }
    *out = (int64_t)(v * mul);
    return true;
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    return x->priority < y->priority ? -1 : x->priority > y->priority;
}

static bool set_has(const struct torrent *t, const struct autocfg_node *l, bool all)
{
    size_t n = autocfg_list_len(l);
    for (size_t i = 0; i < n; i++) {
        bool has = am_has_tag(t, autocfg_list_at(l, i));
        if (all && !has)
            return false;
        if (!all && has)
            return true;
    }
    return all;
}

static bool group_matches(const struct group *g, const struct torrent *t)
{
    if (autocfg_list_len(g->inc_all) && !set_has(t, g->inc_all, true))
        return false;
    if (autocfg_list_len(g->inc_any) && !set_has(t, g->inc_any, false))
        return false;
    if (autocfg_list_len(g->exc_all) && set_has(t, g->exc_all, true))
        return false;
    if (autocfg_list_len(g->exc_any) && set_has(t, g->exc_any, false))
        return false;
    if (autocfg_list_len(g->cats) && !autocfg_list_has(g->cats, t->category ? t->category : ""))
        return false;
    if (g->has_min_size || g->has_max_size) {
        struct torrent_status st;
        torrent_status_now(t, &st);
        if ((g->has_min_size && st.total_size < g->min_size) || (g->has_max_size && st.total_size > g->max_size))
            return false;
    }
    return true;
}

static enum torrent_share_action action_of(const char *s)
{
    if (!s || strcasecmp(s, "Default") == 0)
        return TORRENT_SHARE_DEFAULT;
    if (strcasecmp(s, "Stop") == 0 || strcasecmp(s, "Pause") == 0)
        return TORRENT_SHARE_STOP;
    if (strcasecmp(s, "Remove") == 0)
        return TORRENT_SHARE_REMOVE;
    if (strcasecmp(s, "RemoveWithContent") == 0 || strcasecmp(s, "DeleteFiles") == 0)
        return TORRENT_SHARE_REMOVE_WITH_CONTENT;
    if (strcasecmp(s, "EnableSuperSeeding") == 0 || strcasecmp(s, "SuperSeeding") == 0)
        return TORRENT_SHARE_SUPER_SEED;
    return TORRENT_SHARE_DEFAULT;
}

/* str(timedelta(...)) as Python prints it ("1 day, 2:03:04", "0:30:00"). */
static void timedelta(int64_t seconds, char *out, size_t len)
{
    int64_t d = seconds / 86400, r = seconds % 86400;
    if (d)
        snprintf(out, len, "%lld day%s, %lld:%02lld:%02lld", (long long)d, d == 1 || d == -1 ? "" : "s",
                 (long long)(r / 3600), (long long)(r % 3600 / 60), (long long)(r % 60));
    else
        snprintf(out, len, "%lld:%02lld:%02lld", (long long)(r / 3600), (long long)(r % 3600 / 60),
                 (long long)(r % 60));
}

struct tagnames {
    const char *prefix, *min_seed, *min_seeds, *last_active;
};

struct eval {
    struct am_ctx *c;
    struct torrent *t;
    const struct group *g;
    const struct tagnames *tn;
    const char *tracker;
    bool excl_added;
    char body[512];
};

static void remove_tag(struct eval *e, const char *tag)
{
    if (am_has_tag(e->t, tag) && !e->c->dry)
        am_track(e->c, service_remove_tags(e->c->s, e->t, &tag, 1, am_service_done, e->c));
}

static void add_tag_and_reset(struct eval *e, const char *tag, const char *reason)
{
    if (am_has_tag(e->t, tag))
        return;
    struct am_ctx *c = e->c;
    e->excl_added = true;
    am_log("Torrent Name: %s", torrent_name(e->t));
    am_log("Tracker: %s", e->tracker);
    am_log("%s", reason);
    am_log("Adding Tag: %s", tag);
    if (c->dry)
        return;
    am_track(c, service_add_tags(c->s, e->t, &tag, 1, am_service_done, c));
    struct service_share_limits l = {-1, -1, -1, true, TORRENT_SHARE_DEFAULT};
    am_track(c, service_set_share_limits(c->s, e->t, &l, am_service_done, c));
    if (e->g->reset_on_unmet)
        am_track(c, service_set_rate_limit(c->s, e->t, true, -1, am_service_done, c));
    if (e->g->resume && e->t->stopped)
        am_track(c, service_start(c->s, e->t, am_service_done, c));
}

static bool min_seeding_reached(struct eval *e, const struct torrent_status *st)
{
    if (st->seeding_time >= e->g->min_seeding_time * 60) {
        remove_tag(e, e->tn->min_seed);
        return true;
    }
    char a[64], b[64], reason[300];
    timedelta(st->seeding_time, a, sizeof a);
    timedelta(e->g->min_seeding_time * 60, b, sizeof b);
    snprintf(reason, sizeof reason,
             "Min seed time not met: %s <= %s. Removing Share Limits so qBittorrent can continue seeding.", a, b);
    add_tag_and_reset(e, e->tn->min_seed, reason);
    return false;
}

static int64_t inactive_minutes(const struct torrent *t)
{
    int64_t now = (int64_t)time(NULL);
    return (int64_t)llround((double)(now - (t->last_activity > 0 ? t->last_activity : 0)) / 60.0);
}

static bool min_last_active_reached(struct eval *e)
{
    int64_t im = inactive_minutes(e->t);
    if (im >= e->g->min_last_active) {
        remove_tag(e, e->tn->last_active);
        return true;
    }
    char a[64], b[64], reason[300];
    timedelta(im * 60, a, sizeof a);
    timedelta(e->g->min_last_active * 60, b, sizeof b);
    snprintf(reason, sizeof reason,
             "Min inactive time not met: %s <= %s. Removing Share Limits so qBittorrent can continue seeding.", a, b);
    add_tag_and_reset(e, e->tn->last_active, reason);
    return false;
}

/* has_reached_seed_limit: true with e->body saying why. */
static bool reached(struct eval *e)
{
    const struct group *g = e->g;
    struct torrent_status st;
    torrent_status_now(e->t, &st);
    const struct settings *p = &e->c->s->settings;
    /* min_num_seeds: qbit_manage reads the API's num_complete, the
     * trackers' count or, before any answered, the connected seeds */
    if (g->min_num_seeds == 0 || st.seeds_swarm >= g->min_num_seeds) {
        remove_tag(e, e->tn->min_seeds);
    } else {
        char reason[300];
        snprintf(reason, sizeof reason,
                 "Min number of seeds not met: Total Seeds (%lld) < min_num_seeds(%lld). Removing Share Limits so "
                 "qBittorrent can continue seeding.",
                 (long long)st.seeds_swarm, (long long)g->min_num_seeds);
        add_tag_and_reset(e, e->tn->min_seeds, reason);
        return false;
    }
    if (!min_last_active_reached(e))
        return false;
    if (g->max_ratio != -1) {
        if (g->max_ratio >= 0) {
            if (st.ratio >= g->max_ratio && min_seeding_reached(e, &st)) {
                snprintf(e->body, sizeof e->body, "Ratio vs Max Ratio: %.2f >= %.2f", st.ratio, g->max_ratio);
                return true;
            }
        } else if (g->max_ratio == -2 && settings_bool(p, SET_MAX_RATIO_ENABLED) && min_seeding_reached(e, &st)) {
            double gr = settings_real(p, SET_MAX_RATIO);
            if (st.ratio >= gr) {
                snprintf(e->body, sizeof e->body, "Ratio vs Global Max Ratio: %.2f >= %.2f", st.ratio, gr);
                return true;
            }
        }
    }
    if (g->max_seeding_time != -1) {
        int64_t lim = -1;
        if (g->max_seeding_time >= 0)
            lim = g->max_seeding_time;
        else if (g->max_seeding_time == -2 && settings_bool(p, SET_MAX_SEEDING_TIME_ENABLED))
            lim = settings_int(p, SET_MAX_SEEDING_TIME);
        else
            remove_tag(e, e->tn->min_seed);
        if (lim >= 0 && st.seeding_time >= lim * 60 && min_seeding_reached(e, &st)) {
            char a[64], b[64];
            timedelta(st.seeding_time, a, sizeof a);
            timedelta(lim * 60, b, sizeof b);
            snprintf(e->body, sizeof e->body, "Seeding Time vs Max Seed Time: %s >= %s", a, b);
            return true;
        }
    }
    if (g->max_last_active != -1) {
        int64_t im = inactive_minutes(e->t);
        if (im >= g->max_last_active && min_last_active_reached(e)) {
            char a[64], b[64];
            timedelta(im * 60, a, sizeof a);
            timedelta(g->max_last_active * 60, b, sizeof b);
            snprintf(e->body, sizeof e->body, "Inactive Time vs Max Last Active Time: %s >= %s", a, b);
            return true;
        }
    }
    return false;
}

static int64_t upload_kib(const struct torrent *t)
{
    int64_t k = t->up_limit > 0 ? (int64_t)llround((double)t->up_limit / 1024.0) : 0;
    return k == 0 ? -1 : k;
}

/* A float as Python's str() prints it (qbit_manage reads max_ratio as a
 * float: 2 in config.yml logs as "2.0"): integral values with ".0", else
 * the shortest form that reads back the same. */
static const char *pyfloat(double v, char *buf, size_t n)
{
    if (v == nearbyint(v) && fabs(v) < 1e16) {
        snprintf(buf, n, "%.1f", v);
        return buf;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

static void set_limits(struct am_ctx *c, struct torrent *t, const struct group *g, const struct tagnames *tn,
                       int64_t limit_kib)
{
    if (limit_kib != -1)
        am_log("Limit UL Speed: %lld kB/s", (long long)limit_kib);
    char a[64], r[32];
    if (g->max_ratio == -2 && g->max_seeding_time == -2) {
        am_log("Share Limit: Use Global Share Limit");
    } else if (g->max_ratio == -1 && g->max_seeding_time == -1) {
        am_log("Share Limit: Set No Share Limit");
    } else if (g->max_ratio != t->ratio_limit && g->max_seeding_time < 0) {
        am_log("Share Limit: Max Ratio = %s", pyfloat(g->max_ratio, r, sizeof r));
    } else if (g->max_seeding_time != t->seeding_time_limit && g->max_ratio < 0) {
        timedelta(g->max_seeding_time * 60, a, sizeof a);
        am_log("Share Limit: Max Seed Time = %s", a);
    } else if (g->max_ratio != t->ratio_limit || g->max_seeding_time != t->seeding_time_limit) {
        timedelta(g->max_seeding_time * 60, a, sizeof a);
        am_log("Share Limit: Max Ratio = %s, Max Seed Time = %s", pyfloat(g->max_ratio, r, sizeof r), a);
    }
    if (c->dry || am_has_tag(t, tn->min_seed) || am_has_tag(t, tn->min_seeds) || am_has_tag(t, tn->last_active))
        return;
    if (limit_kib != upload_kib(t))
        am_track(c, service_set_rate_limit(c->s, t, true, limit_kib == -1 ? -1 : limit_kib * 1024, am_service_done, c));
    struct service_share_limits l = {g->max_ratio, g->max_seeding_time, -2, true, action_of(g->action)};
    am_track(c, service_set_share_limits(c->s, t, &l, am_service_done, c));
}

static bool load_groups(struct am_ctx *c, struct group **out, size_t *n)
{
    const struct autocfg_node *sl = autocfg_at(c->cfg, "share_limits", NULL);
    *out = NULL;
    *n = 0;
    if (!sl || sl->kind != AUTOCFG_MAP || sl->n == 0)
        return true;
    struct group *g = calloc(sl->n, sizeof *g);
    if (!g)
        return false;
    for (size_t i = 0; i < sl->n; i++) {
        const struct autocfg_node *e = sl->items[i];
        struct group *x = &g[i];
        x->name = sl->keys[i];
        const struct autocfg_node *pr = autocfg_get(e, "priority");
        x->priority_text = autocfg_str(pr, "999");
        x->priority = autocfg_real(pr, 999);
        x->inc_all = autocfg_get(e, "include_all_tags");
        x->inc_any = autocfg_get(e, "include_any_tags");
        x->exc_all = autocfg_get(e, "exclude_all_tags");
        x->exc_any = autocfg_get(e, "exclude_any_tags");
        x->cats = autocfg_get(e, "categories");
        const char *s = autocfg_str(autocfg_get(e, "min_torrent_size"), NULL);
        x->has_min_size = s && parse_size(s, &x->min_size);
        s = autocfg_str(autocfg_get(e, "max_torrent_size"), NULL);
        x->has_max_size = s && parse_size(s, &x->max_size);
        x->max_ratio = autocfg_real(autocfg_get(e, "max_ratio"), -1);
        x->max_seeding_time = (int64_t)autocfg_duration(autocfg_get(e, "max_seeding_time"), -1);
        x->max_last_active = (int64_t)autocfg_duration(autocfg_get(e, "max_last_active"), -1);
        x->min_seeding_time = (int64_t)autocfg_duration(autocfg_get(e, "min_seeding_time"), 0);
        x->min_last_active = (int64_t)autocfg_duration(autocfg_get(e, "min_last_active"), 0);
        x->min_num_seeds = autocfg_int(autocfg_get(e, "min_num_seeds"), 0);
        x->limit_upload_speed = autocfg_int(autocfg_get(e, "limit_upload_speed"), -1);
        x->upload_speed_on_limit_reached = autocfg_int(autocfg_get(e, "upload_speed_on_limit_reached"), 0);
        x->group_upload = autocfg_bool(autocfg_get(e, "enable_group_upload_speed"), false);
        x->reset_on_unmet = autocfg_bool(autocfg_get(e, "reset_upload_speed_on_unmet_minimums"), true);
        x->cleanup = autocfg_bool(autocfg_get(e, "cleanup"), false);
        x->resume = autocfg_bool(autocfg_get(e, "resume_torrent_after_change"), true);
        x->add_group_to_tag = autocfg_bool(autocfg_get(e, "add_group_to_tag"), true);
        x->custom_tag = autocfg_str(autocfg_get(e, "custom_tag"), NULL);
        x->action = autocfg_str(autocfg_get(e, "share_limit_action"), "Default");
    }
    /* qsort is not stable: equal priorities keep the file's order by index. */
    for (size_t i = 0; i < sl->n; i++)
        g[i].priority += (double)i * 1e-9;
    qsort(g, sl->n, sizeof *g, cmp_group);
    *out = g;
    *n = sl->n;
    return true;
}

/* cleanup_torrents_for_group's notifications: one per torrent, or two
 * summaries (kept / deleted contents) over GROUP_NOTIFICATION_LIMIT. */
static void cleanup_summary(struct am_ctx *c, const struct group *g, json_t *names, bool contents, int64_t count)
{
    if (json_array_size(names) == 0)
        return;
    char title[128], body[128];
    const char *how = contents ? "AND" : "but NOT";
    snprintf(title, sizeof title, "Share limit removal - Deleted .torrent %s content files.", how);
    snprintf(body, sizeof body, "Deleted %lld .torrents %s content files.", (long long)count, how);
    json_t *a = json_pack("{s:s,s:s,s:s,s:s,s:O,s:n,s:b,s:n,s:n,s:b}", "function", "cleanup_share_limits", "title",
                          title, "body", body, "grouping", g->name, "torrents", names, "torrent_category", "cleanup",
                          true, "torrent_tracker", "notifiarr_indexer", "torrents_deleted_and_contents", contents);
    if (a)
        am_send_notification(c, a);
    json_decref(a);
}

static void cleanup_group(struct am_ctx *c, const struct group *g, struct torrent **del, char (*why)[512], size_t nd,
                          int64_t *n_kept, int64_t *n_contents)
{
    bool grouped = nd > 10;   /* GROUP_NOTIFICATION_LIMIT */
    json_t *kept = json_array(), *gone = json_array();
    am_separator("Cleaning up torrents that have reached ratio/seed limit for %s. Priority %s", g->name,
                 g->priority_text);
    for (size_t i = 0; i < nd; i++) {
        struct torrent *t = del[i];
        if (t->removing)
            continue;
        struct am_tracker tr;
        am_tracker_of(c, t, &tr);
        am_log("Torrent Name: %s", torrent_name(t));
        am_log("Tracker: %s", tr.url);
        am_log("%s", why[i]);
        am_log("Cleanup: True [Meets Share Limits]");
        char *cp = am_content_path(t);
        struct stat sb;
        const struct am_name *nm = am_name_info(c, t);
        /* the attr before the removal frees the torrent's strings */
        char body[4096], last[1024];
        bool contents = false;
        json_t *a = json_pack("{s:s,s:s,s:s,s:[s],s:s,s:b,s:s,s:s?}", "function", "cleanup_share_limits", "title",
                              "Share limit removal", "grouping", g->name, "torrents", torrent_name(t),
                              "torrent_category", t->category ? t->category : "", "cleanup", true, "torrent_tracker",
                              tr.url, "notifiarr_indexer", tr.notifiarr);
        json_t *name = json_string(torrent_name(t));
        if (cp && stat(cp, &sb) == 0) {
            if (am_has_cross_seed(c, t) && nm && (nm->msg_empty || nm->status_working)) {
                c->st->deleted++;
                c->st->cleaned_share_limits++;
                am_delete(c, t, false);
                am_log("Deleted .torrent but NOT content files. Reason: is cross-seed");
                snprintf(last, sizeof last, "Deleted .torrent but NOT content files. Reason: is cross-seed");
            } else {
                c->st->deleted_contents++;
                c->st->cleaned_share_limits++;
                am_delete(c, t, true);
                am_log("Deleted .torrent AND content files.");
                snprintf(last, sizeof last, "Deleted .torrent AND content files.");
                contents = true;
            }
        } else {
            c->st->deleted++;
            c->st->cleaned_share_limits++;
            am_delete(c, t, false);
            am_log("Deleted .torrent but NOT content files. Reason: path does not exist [path=%s].", cp ? cp : "");
            snprintf(last, sizeof last,
                     "Deleted .torrent but NOT content files. Reason: path does not exist [path=%s].", cp ? cp : "");
        }
        ++*(contents ? n_contents : n_kept);
        if (name)
            json_array_append_new(contents ? gone : kept, name);   /* a set in qbit_manage: names once */
        snprintf(body, sizeof body,
                 "   Torrent Name: %s\n        Tracker: %s\n%s\n        Cleanup: True [Meets Share Limits]\n        %s",
                 json_string_value(name), tr.url, why[i], last);
        if (a) {
            json_object_set_new(a, "torrents_deleted_and_contents", json_boolean(contents));
            json_object_set_new(a, "body", json_string(body));
            if (!grouped)
                am_send_notification(c, a);
        }
        json_decref(a);
        free(cp);
    }
    if (grouped) {
        cleanup_summary(c, g, kept, false, *n_kept);
        cleanup_summary(c, g, gone, true, *n_contents);
    }
    json_decref(kept);
    json_decref(gone);
}

void am_share_limits(struct am_ctx *c)
{
    int64_t n_kept = 0, n_contents = 0;   /* qbit_manage's stats_deleted(_contents): the summaries' counts */
    const struct autocfg_node *set = autocfg_at(c->cfg, "settings", NULL);
    struct tagnames tn = {
        .prefix = autocfg_str(autocfg_get(set, "share_limits_tag"), "~share_limit"),
        .min_seed = autocfg_str(autocfg_get(set, "share_limits_min_seeding_time_tag"), "MinSeedTimeNotReached"),
        .min_seeds = autocfg_str(autocfg_get(set, "share_limits_min_num_seeds_tag"), "MinSeedsNotMet"),
        .last_active = autocfg_str(autocfg_get(set, "share_limits_last_active_tag"), "LastActiveLimitNotReached"),
    };
    bool completed = autocfg_bool(autocfg_get(set, "share_limits_filter_completed"), true);
    am_separator("Updating Share Limits based on priority");
    if (c->dry)
        log_msg(LOG_WARNING, "qbit_manage: Share Limits will not be applied with dry_run and could be inaccurate "
                             "unless manually adding tags.");
    struct group *g;
    size_t ng;
    if (!load_groups(c, &g, &ng))
        return;
    size_t n;
    struct torrent **v = am_list(c, true, &n);
    struct torrent **slots = calloc(n ? n : 1, sizeof *slots);
    size_t *gi = calloc(n ? n : 1, sizeof *gi);
    if (!v || !slots || !gi) {
        free(v), free(slots), free(gi), free(g);
        return;
    }
    am_log("Assigning torrents to share limit groups...");
    /* Group membership; the torrents of group k are the slots [start_k, end_k). */
    size_t *count = calloc(ng + 1, sizeof *count);
    for (size_t i = 0; count && i < n; i++) {
        gi[i] = ng;
        if (completed && !am_is_complete(v[i]))
            continue;
        for (size_t k = 0; k < ng; k++)
            if (group_matches(&g[k], v[i])) {
                gi[i] = k;
                count[k]++;
                break;
            }
    }
    size_t off = 0;
    for (size_t k = 0; count && k < ng; k++) {
        g[k].tors = slots + off;
        for (size_t i = 0; i < n; i++)
            if (gi[i] == k)
                g[k].tors[g[k].n++] = v[i];
        off += g[k].n;
    }
    free(count);
    /* Custom tags of every group: a torrent keeps only its own group's. */
    const char *customs[64];
    size_t ncustom = 0;
    for (size_t k = 0; k < ng && ncustom < 64; k++)
        if (g[k].custom_tag)
            customs[ncustom++] = g[k].custom_tag;

    for (size_t k = 0; k < ng; k++) {
        struct group *gr = &g[k];
        am_separator("Updating Share Limits for [Group %s] [Priority %s] [Torrents (%zu)]", gr->name,
                     gr->priority_text, gr->n);
        struct torrent **del = calloc(gr->n ? gr->n : 1, sizeof *del);
        json_t *updated = json_array();
        char(*why)[512] = calloc(gr->n ? gr->n : 1, sizeof *why);
        size_t nd = 0;
        for (size_t i = 0; del && why && i < gr->n; i++) {
            struct torrent *t = gr->tors[i];
            if (t->removing)
                continue;
            char group_tag[512];
            const char *gtag = NULL;
            if (gr->add_group_to_tag) {
                if (gr->custom_tag)
                    snprintf(group_tag, sizeof group_tag, "%s", gr->custom_tag);
                else
                    snprintf(group_tag, sizeof group_tag, "%s_%s.%s", tn.prefix, gr->priority_text, gr->name);
                gtag = group_tag;
            }
            struct am_tracker tr;
            am_tracker_of(c, t, &tr);
            bool check_ratio = gr->max_ratio != t->ratio_limit;
            bool check_seed = gr->max_seeding_time != t->seeding_time_limit;
            int64_t tor_ul = upload_kib(t);
            int64_t limit = gr->limit_upload_speed <= 0 ? -1 : gr->limit_upload_speed;
            if (limit > 0 && gr->group_upload)
                limit = (int64_t)llround((double)gr->limit_upload_speed / (double)gr->n);
            bool check_ul = limit != tor_ul;
            bool not_tagged = false, multiple = false;
            const char *with_prefix[32];
            size_t nprefix = am_tags_containing(t, tn.prefix, with_prefix, 32);
            if (gtag) {
                if (gr->custom_tag)
                    not_tagged = !am_has_tag(t, gtag);
                else {
                    const char *tmp[1];
                    not_tagged = am_tags_containing(t, gtag, tmp, 1) == 0;
                }
                for (size_t q = 0; q < ncustom; q++)
                    if (strcmp(customs[q], gtag) != 0 && am_has_tag(t, customs[q]))
                        multiple = true;
                if (gr->custom_tag ? nprefix > 0 : nprefix > 1)
                    multiple = true;
            }
            struct eval e = {.c = c, .t = t, .g = gr, .tn = &tn, .tracker = tr.url};
            bool hit = reached(&e);
            /* update_share_limits_tag_for_torrent: the other share-limit
             * tags go, the group's comes.  qbit_manage removes and re-adds
             * its own tag on every run; the end state is the same without
             * the two commits when the torrent already has it. */
            if (!c->dry) {
                char *copies[32];
                size_t nc = 0;
                for (size_t q = 0; q < nprefix; q++)
                    if ((!gtag || strcmp(with_prefix[q], gtag) != 0) && (copies[nc] = strdup(with_prefix[q])))
                        nc++;
                for (size_t q = 0; q < ncustom && nc < 32; q++)
                    if ((!gtag || strcmp(customs[q], gtag) != 0) && am_has_tag(t, customs[q]) &&
                        (copies[nc] = strdup(customs[q])))
                        nc++;
                /* Copies: the removal frees the torrent's own strings. */
                if (nc)
                    am_track(c, service_remove_tags(c->s, t, (const char *const *)copies, nc, am_service_done, c));
                for (size_t q = 0; q < nc; q++)
                    free(copies[q]);
                if (gtag && !am_has_tag(t, gtag))
                    am_track(c, service_add_tags(c->s, t, &gtag, 1, am_service_done, c));
            }
            /* _should_update_torrent */
            bool act = hit && (gr->cleanup || gr->upload_speed_on_limit_reached != 0);
            bool update = !e.excl_added && (check_ratio || check_seed || check_ul || not_tagged || multiple || act);
            if (update) {
                bool no_excl = !am_has_tag(t, tn.min_seed) && !am_has_tag(t, tn.min_seeds) &&
                               !am_has_tag(t, tn.last_active);
                update = no_excl || not_tagged || multiple || act;
            }
            if (!update)
                continue;
            am_log("Torrent Name: %s", torrent_name(t));
            am_log("Tracker: %s", tr.url);
            if (gtag)
                am_log("Added Tag: %s", gtag);
            json_array_append_new(updated, json_string(torrent_name(t)));
            /* process_share_limits_for_torrent */
            if (hit && gr->cleanup) {
                del[nd] = t;
                snprintf(why[nd], sizeof why[nd], "%s", e.body);
                nd++;
            } else if (hit && gr->upload_speed_on_limit_reached != 0) {
                int64_t th = gr->upload_speed_on_limit_reached;
                if (th < -1) {
                    log_msg(LOG_WARNING,
                            "qbit_manage: Invalid upload_speed_on_limit_reached value: %lld. Must be >= -1. Skipping "
                            "throttle for %s",
                            (long long)th, torrent_name(t));
                } else if (th != tor_ul) {
                    am_log("Cleanup: False [Meets Share Limits]");
                    if (th == -1)
                        am_log("Applied upload throttle after limits reached: unlimited");
                    else
                        am_log("Applied upload throttle after limits reached: %lld kB/s", (long long)th);
                    if (!c->dry) {
                        struct service_share_limits l = {-1, -1, -1, true, TORRENT_SHARE_DEFAULT};
                        am_track(c, service_set_share_limits(c->s, t, &l, am_service_done, c));
                        am_track(c, service_set_rate_limit(c->s, t, true, th == -1 ? -1 : th * 1024,
                                                           am_service_done, c));
                    }
                }
            } else {
                set_limits(c, t, gr, &tn, limit);
            }
            if (!(hit && gr->cleanup) && am_is_complete(t) && gr->resume && !c->dry && t->stopped)
                am_track(c, service_start(c->s, t, am_service_done, c));
            c->st->updated_share_limits++;
            c->st->tagged++;
        }
        if (json_array_size(updated) > 0) {
            char title[512], body[64], tag[512];
            snprintf(title, sizeof title, "Updating Share Limits for %s. Priority %s", gr->name, gr->priority_text);
            snprintf(body, sizeof body, "Updated %zu torrents.", json_array_size(updated));
            if (gr->add_group_to_tag && !gr->custom_tag)
                snprintf(tag, sizeof tag, "%s_%s.%s", tn.prefix, gr->priority_text, gr->name);
            const char *gtag = !gr->add_group_to_tag ? NULL : gr->custom_tag ? gr->custom_tag : tag;
            json_t *a = json_pack("{s:s,s:s,s:s,s:s,s:O,s:s?,s:f,s:I,s:I,s:I,s:I,s:I,s:I}", "function", "share_limits",
                                  "title", title, "body", body, "grouping", gr->name, "torrents", updated,
                                  "torrent_tag", gtag, "torrent_max_ratio", gr->max_ratio, "torrent_max_seeding_time",
                                  (json_int_t)gr->max_seeding_time, "torrent_max_last_active",
                                  (json_int_t)gr->max_last_active, "torrent_min_seeding_time",
                                  (json_int_t)gr->min_seeding_time, "torrent_min_num_seeds",
                                  (json_int_t)gr->min_num_seeds, "torrent_limit_upload_speed",
                                  (json_int_t)gr->limit_upload_speed, "torrent_min_last_active",
                                  (json_int_t)gr->min_last_active);
            if (a)
                am_send_notification(c, a);
            json_decref(a);
        }
        json_decref(updated);
        if (gr->cleanup && nd > 0)
            cleanup_group(c, gr, del, why, nd, &n_kept, &n_contents);
        free(del);
        free(why);
    }
    /* delete_share_limits_suffix_tag: tags of qbit_manage 4.0's scheme. */
    const char *old = tn.prefix[0] == '~' ? tn.prefix + 1 : tn.prefix;
    char suffix[256];
    snprintf(suffix, sizeof suffix, ".%s", old);
    size_t sl = strlen(suffix);
    for (size_t i = c->s->catalog->num_tags; !c->dry && i-- > 0;) {
        const char *name = c->s->catalog->tags[i].name;
        size_t l = strlen(name);
        if (l >= sl && strcmp(name + l - sl, suffix) == 0)
            am_track(c, service_tag_delete(c->s, name, am_service_done, c));
    }
    free(gi);
    free(slots);
    free(v);
    free(g);
}
