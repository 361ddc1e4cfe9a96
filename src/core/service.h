/* service — what an API dialect asks of the engine, in the engine's terms:
 * add a torrent (from .torrent bytes, a magnet or bare info-hash, or a URL
 * to download), and change a torrent's category, tags, management mode,
 * locations, limits, flags, name, file priorities and SSL parameters, or a
 * category under its torrents.
 *
 * The rules live here once: the duplicate check, create / commit / start or
 * roll back, automatic torrent management (an ATM torrent lives where its
 * category says; see service_set_auto_tmm, service_set_category,
 * service_category_edit), creating missing categories and tags on add.
 * Adapters (web/api/...) translate their parameters into these calls and
 * the results into their replies; they write no torrent fields and no store
 * rows themselves.
 *
 * Completion: every call that takes `cb` returns 0 when cb will run exactly
 * once, after the change has been committed to the store (possibly before
 * the call returns, when there was nothing to commit), or a negative errno
 * when cb will not run (refused: nothing changed; or the row could not be
 * queued: the change holds in memory).  Callers answering a user wait for
 * cb (docs/design-notes.md "Threads": the handler suspends).
 * Everything runs on the loop thread.
 */
#ifndef TD_CORE_SERVICE_H
#define TD_CORE_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"
#include "core/queue.h"
#include "core/torrent.h"

struct session;

typedef void (*service_done_cb)(void *ud, int rc);

/* ---- adding ---- */

/* Options of one add.  Every string is owned (service_add_opts_free); p's
 * string fields are ignored (the add takes them from these). */
struct service_add_opts {
    struct torrent_add_params p;   /* flags, limits, layout, stop condition, queue position, skip_checking */
    char *save_path;               /* NULL or "" = the category's or the default */
    char *download_path;           /* incomplete folder, NULL = none */
    char *category, *tags, *rename; /* tags ","-separated */
    char *cookie;                  /* URL downloads: "a=1; b=2" sent to the URL's host */
    char *ssl[3];                  /* certificate, private key, DH parameters (PEM); all or none */
};

/* The options of an add that says nothing but the torrent: qBittorrent's
 * defaults from the preferences (add_stopped_enabled, auto_tmm_enabled,
 * temp_path(_enabled), torrent_content_layout, add_to_top_of_queue,
 * torrent_stop_condition), limits "global"/unlimited.  For adds that come
 * from no request (watched folders).  Free with service_add_opts_free;
 * -ENOMEM. */
int service_add_opts_defaults(struct session *s, struct service_add_opts *o);

/* qBittorrent's names of the content layouts ("Original", "Subfolder",
 * "NoSubfolder") and of the stop conditions ("None", "MetadataReceived",
 * "FilesChecked"), as its preferences and torrents/add spell them: 0 with
 * *out set, -EINVAL for any other name (NULL included), *out untouched. */
int service_layout_parse(const char *name, enum torrent_layout *out);
int service_stop_condition_parse(const char *name, enum torrent_stop_condition *out);

/* Applies the engine's rules to the options, once per request: a missing
 * category or tag is created (an invalid category becomes none), tags take
 * their stored spelling, an automatically managed torrent's save path
 * is its category's whatever save_path said, ut_sequential_download
 * (utserver.conf) makes it sequential, a relative save path is made
 * absolute under the default save path and a relative download path under
 * the temp path (else the default save path).  The add calls do not do
 * this themselves (a request with several items resolves once).  0 or
 * -ENOMEM. */
int service_add_opts_resolve(struct session *s, struct service_add_opts *o);
int service_add_opts_copy(struct service_add_opts *dst, const struct service_add_opts *src);
void service_add_opts_free(struct service_add_opts *o);

/* The add callback: rc 0 when the torrent is committed to the store and
 * started (t is valid during the call), else the error (the torrent is
 * gone again, nothing of it in the store; -ECANCELED when it was removed
 * while its row was written). */
typedef void (*service_add_cb)(void *ud, int rc, struct torrent *t);

/* Adds the torrent described by .torrent bytes.  -EBADMSG (err says why)
 * when they are no valid torrent, -EEXIST when a torrent with this
 * info-hash is present (nothing changes: the present torrent keeps its
 * trackers and settings), -ENOMEM; otherwise 0 and cb runs once the row is
 * committed (on a failed commit the torrent is removed again).  o->ssl, when
 * all three are given, is stored after the torrent's row; parameters that
 * are not valid are logged and dropped (as qBittorrent does). */
int service_add_torrent(struct session *s, const uint8_t *data, size_t len, const struct service_add_opts *o,
                        service_add_cb cb, void *ud, char *err, size_t errlen);
/* The same from a magnet link or a bare info-hash (40 hex / 32 base32). */
int service_add_uri(struct session *s, const char *uri, const struct service_add_opts *o, service_add_cb cb,
                    void *ud);
/* Downloads a .torrent from an http(s) URL (with the cookie jar's cookies
 * and o->cookie), then adds it (a redirect to a magnet adds the magnet).
 * 0 = the download started; cb (may be NULL) runs with the outcome of the
 * add.  -EINVAL not http(s), -EAGAIN too many downloads in flight. */
int service_add_url(struct session *s, const char *url, const struct service_add_opts *o, service_add_cb cb,
                    void *ud);
/* Cancels the URL downloads in flight (their callbacks do not run).  Called
 * before the session shuts down. */
void service_close(struct session *s);

/* ---- per-torrent settings ---- */

/* Category ("" = none); -ENOENT when no such category.  An automatically
 * managed torrent follows the new category's path, or turns manual when
 * the preference torrent_changed_tmm_enabled is off. */
int service_set_category(struct session *s, struct torrent *t, const char *category, service_done_cb cb,
                         void *ud);
/* Tags: n names.  add creates unknown tags; remove with n == 0 removes all;
 * set makes the list exactly these (created when unknown). */
int service_add_tags(struct session *s, struct torrent *t, const char *const *tags, size_t n, service_done_cb cb,
                     void *ud);
int service_remove_tags(struct session *s, struct torrent *t, const char *const *tags, size_t n,
                        service_done_cb cb, void *ud);
int service_set_tags(struct session *s, struct torrent *t, const char *const *tags, size_t n, service_done_cb cb,
                     void *ud);
/* Automatic torrent management: enabling it moves the data to the
 * category's save path. */
/* The default save path changed (a settings hook): every automatically
 * managed torrent whose path came from it moves to the new one when
 * save_path_changed_tmm_enabled is on, else turns manual and stays
 * (qBittorrent's SessionImpl::setSavePath, whose default is the latter). */
void service_default_path_changed(struct session *s);
int service_set_auto_tmm(struct session *s, struct torrent *t, bool enable, service_done_cb cb, void *ud);
/* setLocation: the torrent turns manual and its data moves to path
 * (absolute).  The move runs on a worker; cb waits for the settings only. */
int service_set_location(struct session *s, struct torrent *t, const char *path, service_done_cb cb, void *ud);
/* setSavePath / setDownloadPath ("" = off): manual torrents only (-EPERM for
 * an automatically managed one).  Moves on a worker, not waited for. */
int service_set_save_path(struct session *s, struct torrent *t, const char *path);
int service_set_download_path(struct session *s, struct torrent *t, const char *path);
/* The name shown instead of the metainfo's; "" refused (-EINVAL). */
int service_set_name(struct session *s, struct torrent *t, const char *name, service_done_cb cb, void *ud);
/* B/s; 0 or negative = unlimited. */
int service_set_rate_limit(struct session *s, struct torrent *t, bool upload, int64_t limit, service_done_cb cb,
                           void *ud);

struct service_share_limits {
    double ratio_limit;                 /* -2 global, -1 none */
    int64_t seeding_time_limit;         /* minutes, -2 global, -1 none */
    int64_t inactive_seeding_time_limit;
    bool set_action;                    /* share_limit_action given */
    enum torrent_share_action share_limit_action;
};
int service_set_share_limits(struct session *s, struct torrent *t, const struct service_share_limits *l,
                             service_done_cb cb, void *ud);

enum service_flag { SERVICE_FLAG_SEQUENTIAL, SERVICE_FLAG_FIRST_LAST, SERVICE_FLAG_SUPER_SEEDING };
/* value: 1 on, 0 off, -1 toggle. */
int service_set_flag(struct session *s, struct torrent *t, enum service_flag f, int value, service_done_cb cb,
                     void *ud);
/* Persists the torrent's settings after an engine call changed them
 * (start, stop, forced); cb after the commit. */
int service_save(struct session *s, struct torrent *t, service_done_cb cb, void *ud);

/* Priority (0, 1, 6, 7) of metainfo files idx[0..n); -EINVAL bad index or
 * priority, -EAGAIN no metadata yet. */
int service_set_file_priorities(struct session *s, struct torrent *t, const size_t *idx, size_t n, int prio,
                                service_done_cb cb, void *ud);

/* SSL parameters (PEM): validated (a certificate, an RSA/EC/DSA key, DH
 * parameters; -EINVAL otherwise), stored in the kv namespace "ssl" and
 * given to the engine after the commit. */
int service_set_ssl_params(struct session *s, struct torrent *t, const char *cert, const char *key, const char *dh,
                           service_done_cb cb, void *ud);
/* The parameters set for t ("" when none). */
void service_ssl_params(const struct torrent *t, const char **cert, const char **key, const char **dh);

/* ---- trackers and web seeds (service_sources.c) ----
 * Persisted without a callback (qBittorrent answers these at once). */

struct service_tracker {
    const char *url;
    int tier;
};
/* Adds the trackers not there yet and announces; returns how many were added. */
int service_add_trackers(struct session *s, struct torrent *t, const struct service_tracker *v, size_t n);
/* -EEXIST url is there already, -ENOENT orig is not, -EINVAL url refused. */
int service_replace_tracker(struct session *s, struct torrent *t, const char *orig, const char *url);
/* Returns how many were removed. */
int service_remove_trackers(struct session *s, struct torrent *t, const char *const *urls, size_t n);
/* Adds or removes web seed URLs (checked by the caller); -EAGAIN no metadata. */
int service_change_web_seeds(struct session *s, struct torrent *t, bool add, const char *const *urls, size_t n);
/* -ENOENT orig is no web seed of t, -ENOSPC/-ENOMEM. */
int service_replace_web_seed(struct session *s, struct torrent *t, const char *orig, const char *url);

/* ---- running (service_sources.c) ---- */

/* Start, stop, forced (a forced torrent is started): the engine acts at
 * once; cb after the settings are committed. */
int service_start(struct session *s, struct torrent *t, service_done_cb cb, void *ud);
int service_stop(struct session *s, struct torrent *t, service_done_cb cb, void *ud);
int service_set_forced(struct session *s, struct torrent *t, bool forced, service_done_cb cb, void *ud);
/* Queue positions (core/queue.h): -EPERM when queueing is disabled; cb
 * after the new positions are committed. */
int service_queue_move(struct session *s, struct torrent **ts, size_t n, enum queue_move how, service_done_cb cb,
                       void *ud);

/* ---- categories and tags under their torrents ---- */

/* Creates a category with options o (with subcategories on, its missing
 * parents too, default options): the one way an API makes a category
 * (qBittorrent's createCategory, µTorrent's setprops with a new label).
 * -EEXIST when it exists (nothing changes; a caller that only needs it to
 * be there, such as a µTorrent label, takes that as done), -EINVAL
 * (invalid name or option too long), -ENOSPC, -ENOMEM; cb only on 0.
 * When the commit fails (a full or failing profile disk) the category is
 * dropped again before cb(ud, rc): what the API refuses is not kept in
 * memory either, so a restart shows nothing the client was not told. */
int service_category_create(struct session *s, const char *name, const struct catalog_category_opts *o,
                            service_done_cb cb, void *ud);
/* Edits a category; its automatically managed torrents move to the new
 * path, or turn manual when category_changed_tmm_enabled is off. */
int service_category_edit(struct session *s, const char *name, const struct catalog_category_opts *o,
                          service_done_cb cb, void *ud);
/* Removes a category (and its subcategories when they are on); its
 * torrents lose it.  -ENOENT when there is none. */
int service_category_remove(struct session *s, const char *name, service_done_cb cb, void *ud);
/* Deletes a tag from the set and from every torrent. -ENOENT unknown. */
int service_tag_delete(struct session *s, const char *tag, service_done_cb cb, void *ud);

#endif
