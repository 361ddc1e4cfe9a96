/* service — where a torrent finds peers and data besides its swarm: its
 * trackers and web seeds (service.h), and running it: start, stop, forced,
 * queue position.  Tracker and web seed lists are kept in the torrent's
 * settings row. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "bt/metainfo.h"
#include "bt/tracker/tracker.h"
#include "core/queue.h"
#include "core/service.h"
#include "core/session.h"
#include "core/torrent.h"
#include "store/store.h"
#include "util/log.h"

#define MAX_WEB_SEEDS 1000       /* per torrent */

/* A changed list is persisted (not waited for, as qBittorrent answers at
 * once) and announced to at once. */
static void trackers_changed(struct torrent *t)
{
    torrent_settings_changed(t, NULL, NULL);
    if (!t->stopped)
        torrent_reannounce(t);
}

int service_add_trackers(struct session *s, struct torrent *t, const struct service_tracker *v, size_t n)
{
    (void)s;
    size_t added = 0;
    for (size_t i = 0; t->trk && i < n; i++) {
        int rc = tracker_set_add(t->trk, v[i].url, v[i].tier);
        if (rc == 0)
            added++;
        else if (rc != -EEXIST)
            log_debug("addTrackers: %s refused (%d)", v[i].url, rc);
    }
    if (added)
        trackers_changed(t);
    return (int)added;
}

int service_replace_tracker(struct session *s, struct torrent *t, const char *orig, const char *url)
{
    (void)s;
    if (!t->trk)
        return -EINVAL;
    bool found = false;
    for (size_t i = 0; i < tracker_set_count(t->trk); i++) {
        const struct tracker_entry *e = tracker_set_entry(t->trk, i);
        if (strcmp(e->url, url) == 0)
            return -EEXIST;
        found |= strcmp(e->url, orig) == 0;
    }
    if (!found)
        return -ENOENT;
    int rc = tracker_set_replace(t->trk, orig, url);
    if (rc == 0)
        trackers_changed(t);
    return rc;
}

int service_remove_trackers(struct session *s, struct torrent *t, const char *const *urls, size_t n)
{
    (void)s;
    size_t removed = 0;
    for (size_t i = 0; t->trk && i < n; i++)
        removed += tracker_set_remove(t->trk, urls[i]) == 0;
    if (removed)
        torrent_settings_changed(t, NULL, NULL);
    return (int)removed;
}

/* ---- web seeds (kept in the metainfo's list) ---- */

static ssize_t web_seed_index(const struct bt_metainfo *mi, const char *u)
{
    for (size_t i = 0; i < mi->num_web_seeds; i++)
        if (strcmp(mi->web_seeds[i], u) == 0)
            return (ssize_t)i;
    return -1;
}

/* 1 added, 0 already there, negative errno. */
static int web_seed_add(struct bt_metainfo *mi, const char *u)
{
    if (web_seed_index(mi, u) >= 0)
        return 0;
    if (mi->num_web_seeds >= MAX_WEB_SEEDS)
        return -ENOSPC;
    char *dup = strdup(u);
    char **v = dup ? realloc(mi->web_seeds, (mi->num_web_seeds + 1) * sizeof(*v)) : NULL;
    if (!v) {
        free(dup);
        return -ENOMEM;
    }
    mi->web_seeds = v;
    v[mi->num_web_seeds++] = dup;
    return 1;
}

static bool web_seed_remove(struct bt_metainfo *mi, const char *u)
{
    ssize_t i = web_seed_index(mi, u);
    if (i < 0)
        return false;
    free(mi->web_seeds[i]);
    memmove(&mi->web_seeds[i], &mi->web_seeds[i + 1], (mi->num_web_seeds - (size_t)i - 1) * sizeof(char *));
    mi->num_web_seeds--;
    return true;
}

int service_change_web_seeds(struct session *s, struct torrent *t, bool add, const char *const *urls, size_t n)
{
    (void)s;
    if (!t->mi)
        return -EAGAIN;
    bool changed = false;
    for (size_t i = 0; i < n; i++)
        changed |= add ? web_seed_add(t->mi, urls[i]) > 0 : web_seed_remove(t->mi, urls[i]);
    if (changed)
        torrent_settings_changed(t, NULL, NULL);   /* web seeds are kept in the settings */
    return 0;
}

int service_replace_web_seed(struct session *s, struct torrent *t, const char *orig, const char *url)
{
    (void)s;
    if (!t->mi)
        return -EAGAIN;
    if (web_seed_index(t->mi, orig) < 0)
        return -ENOENT;
    if (strcmp(orig, url) == 0)
        return 0;
    web_seed_remove(t->mi, orig);
    int rc = web_seed_add(t->mi, url);
    if (rc < 0)
        return rc;
    torrent_settings_changed(t, NULL, NULL);
    return 0;
}

/* ---- running ---- */

int service_start(struct session *s, struct torrent *t, service_done_cb cb, void *ud)
{
    (void)s;
    torrent_start(t);
    return torrent_settings_changed(t, cb, ud);
}

int service_stop(struct session *s, struct torrent *t, service_done_cb cb, void *ud)
{
    (void)s;
    torrent_stop(t);
    return torrent_settings_changed(t, cb, ud);
}

int service_set_forced(struct session *s, struct torrent *t, bool forced, service_done_cb cb, void *ud)
{
    (void)s;
    /* Forced or auto-managed: either way the torrent runs. */
    torrent_set_forced(t, forced);
    if (t->stopped)
        torrent_start(t);
    return torrent_settings_changed(t, cb, ud);
}

int service_queue_move(struct session *s, struct torrent **ts, size_t n, enum queue_move how, service_done_cb cb,
                       void *ud)
{
    int rc = queue_move(s, ts, n, how);
    if (rc != 0)
        return rc;
    /* queue_move queued the positions: report once they are committed. */
    if (s->store && store_flush(s->store, cb, ud) == 0)
        return 0;
    if (cb)
        cb(ud, 0);   /* moved in memory; the rows follow with the next checkpoint */
    return 0;
}
