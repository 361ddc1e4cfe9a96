/* torrent — files: file priorities and the wanted pieces they make, the
 * content layout and root folder, moving the data (set location, the
 * incomplete folder) and renaming files and folders.
 */
#include "core/torrent.h"
#include "core/torrent_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bt/metainfo.h"
#include "bt/picker.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/settings.h"
#include "disk/storage.h"
#include "store/record.h"
#include "store/store.h"
#include "util/log.h"
#include "util/path.h"
#include "util/strv.h"

/* Recomputes the per-piece wanted set and picker priorities from file
 * priorities: a piece takes the highest priority of the files it touches. */
void torrent_apply_file_priorities(struct torrent *t)
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
    torrent_preallocate(t);   /* files wanted now get their space */
}

/* contentLayout: Subfolder puts a single file into a folder named after it
 * (without extension); NoSubfolder drops the root folder of a multi-file
 * torrent.  Done before any storage exists; remembered as renames. */
void torrent_apply_layout(struct torrent *t, struct bt_metainfo *mi, enum torrent_layout layout)
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
        torrent_set_renamed(t, 0, np);
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
            torrent_set_renamed(t, i, np);
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

/* Whether a component of rel (its file name, then each parent folder)
 * matches a pattern: qBittorrent's applyFilenameFilter, whose patterns are
 * wildcards (Qt's wildcardToRegularExpression, case-insensitive, one path
 * component at a time), here fnmatch(3). */
static bool name_excluded(const char *rel, const struct strv *pats)
{
    char *p = strdup(rel);
    bool hit = false;
    while (p && *p && !hit) {
        char *slash = strrchr(p, '/');
        const char *comp = slash ? slash + 1 : p;
        for (size_t k = 0; k < pats->n && !hit; k++)
            hit = fnmatch(pats->v[k], comp, FNM_CASEFOLD) == 0;
        if (!slash)
            break;
        *slash = '\0';
    }
    free(p);
    return hit;
}

int torrent_apply_excluded_names(struct torrent *t)
{
    const struct settings *st = &t->s->settings;
    if (!t->mi || !settings_bool(st, SET_EXCLUDED_FILE_NAMES_ENABLED))
        return 0;
    struct strv pats = {0};
    const char *list = settings_str(st, SET_EXCLUDED_FILE_NAMES);
    int rc = 0;
    for (const char *p = list; *p && rc == 0; ) {   /* one pattern a line, as the preference is sent */
        size_t n = strcspn(p, "\n");
        while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        while (n > 0 && (*p == ' ' || *p == '\t'))
            p++, n--;
        if (n > 0) {
            char *one = strndup(p, n);
            rc = one ? strv_push(&pats, one) : -ENOMEM;
            free(one);
        }
        p += strcspn(p, "\n");
        if (*p)
            p++;
    }
    size_t excluded = 0;
    for (size_t i = 0; rc == 0 && i < t->mi->num_files; i++) {
        if (t->mi->files[i].pad || t->file_prios[i] == 0 || !name_excluded(t->mi->files[i].path, &pats))
            continue;
        t->file_prios[i] = 0;
        excluded++;
    }
    strv_clear(&pats);
    if (excluded) {
        torrent_apply_file_priorities(t);
        log_debug("'%s': %zu files excluded by excluded_file_names", torrent_name(t), excluded);
    }
    return rc;
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
    torrent_apply_file_priorities(t);
    torrent_touch(t);
    for (struct peer *p = t->peers; p; p = p->next)
        if (p->state == PEER_ACTIVE)
            torrent_peer_interest(t, p);
    if (!was_finished && torrent_is_finished(t) && t->active)
        torrent_on_finished(t);
    return torrent_save_settings(t, NULL, NULL);
}

struct move_ctx {
    struct torrent *t;
    char *path;
    enum move_kind kind;
    void (*cb)(void *ud, int rc);
    void *ud;
    enum torrent_phase before;
};

/* The move's intent row is deleted once the move ended, after the settings
 * that record where the data now is (jobs commit in order). */
void torrent_forget_move(struct torrent *t)
{
    store_kv_put(t->s->store, TORRENT_NS_MOVING, t->hex, NULL, NULL, NULL);
}

static void on_moved(void *ud, int rc)
{
    struct move_ctx *m = ud;
    struct torrent *t = m->t;
    t->move_dest = NULL;
    if (!t->closing && session_find(t->s, t->info_hash) != t) {   /* removed while moving */
        if (m->cb)
            m->cb(m->ud, rc);
        free(m->path);
        free(m);
        torrent_maybe_finish_removal(t);
        return;
    }
    if (t->phase == TP_MOVING)
        t->phase = TP_READY;
    bool restoring = t->restore_pending;
    if (rc == 0) {
        if (m->kind == MOVE_SAVE_PATH) {
            free(t->save_path);
            t->save_path = m->path;
            m->path = NULL;
        }
        t->data_in_download = m->kind == MOVE_TO_DOWNLOAD;
        torrent_save_settings(t, NULL, NULL);
        if (!restoring)
            torrent_save_resume(t);   /* the files' mtimes are those of the new place */
        log_msg(LOG_INFO, "'%s': data moved to %s", torrent_name(t), storage_save_path(t->st));
    } else {
        log_msg(LOG_WARNING, "'%s': could not move to %s: %s", torrent_name(t), m->path, strerror(-rc));
    }
    torrent_forget_move(t);
    torrent_touch(t);
    if (restoring)
        torrent_finish_restore(t);   /* judges the saved resume data where the files are now */
    else if (!t->stopped && !t->removing)
        torrent_activate(t);
    if (m->cb)
        m->cb(m->ud, rc);
    free(m->path);
    free(m);
    torrent_apply_pending_location(t);
}

/* The intent row is durable: only now may the first file move, so that a
 * crash mid-move finds the row and finishes the move at the next start. */
static void on_move_intent(void *ud, int rc)
{
    struct move_ctx *m = ud;
    struct torrent *t = m->t;
    t->move_intent_pending = false;
    if (rc == 0 && t->removing)
        rc = -ECANCELED;   /* removed or shutting down meanwhile: the row finishes it at the next start */
    if (rc == 0 && (rc = storage_move(t->st, m->path, on_moved, m)) == 0)
        t->move_dest = m->path;
    if (rc != 0) {
        if (rc != -ECANCELED)
            log_msg(LOG_WARNING, "'%s': cannot move to %s: %s", torrent_name(t), m->path, strerror(-rc));
        if (t->phase == TP_MOVING)
            t->phase = m->before;
        if (m->cb)
            m->cb(m->ud, rc);
        free(m->path);
        free(m);
        if (t->removing)
            torrent_maybe_finish_removal(t);
        else if (t->restore_pending)
            torrent_finish_restore(t);
        else if (!t->stopped)
            torrent_activate(t);
    }
}

/* ---- crash-safe deletion (torrent_int.h) ---- */

static void on_delete_intent(void *ud, int rc)
{
    struct torrent *t = ud;
    t->delete_intent_pending = false;
    if (rc != 0)   /* the removal's own commit failed with it and reports that */
        log_msg(LOG_WARNING, "'%s': deletion intent not saved: %s", torrent_name(t), strerror(-rc));
    torrent_maybe_finish_removal(t);
}

int torrent_queue_delete_intent(struct torrent *t)
{
    const struct bt_metainfo *mi = t->mi;
    if (!t->st || !mi)
        return 0;   /* a magnet without metadata has no files */
    /* storage_move runs: its target is cleaned too, and the intent carries
     * it, because the move's own row goes with the removal (a torrent added
     * again must not inherit the removed one's move). */
    const char *target = t->phase == TP_MOVING && !t->move_intent_pending ? t->move_dest : NULL;
    const char *base = storage_save_path(t->st);
    size_t len = 64 + strlen(base) + (target ? strlen(target) : 0), n = 0;
    for (size_t i = 0; i < mi->num_files; i++)
        if (!mi->files[i].pad) {
            len += strlen(mi->files[i].path) + 1;
            n++;
        }
    char *v = malloc(len);
    char key[64];
    snprintf(key, sizeof key, "%s.%" PRIu64, t->hex, uv_hrtime());
    t->delete_key = v ? strdup(key) : NULL;
    if (!t->delete_key) {
        free(v);
        return -ENOMEM;
    }
    char *p = target ? v + sprintf(v, "%zu 2 %zu\n", n, strlen(target)) : v + sprintf(v, "%zu 0\n", n);
    for (size_t i = 0; i < mi->num_files; i++)
        if (!mi->files[i].pad)
            p += sprintf(p, "%s\n", mi->files[i].path);
    if (target)
        p += sprintf(p, "%s\n", target);
    strcpy(p, base);
    int rc = store_kv_put(t->s->store, TORRENT_NS_DELETING, key, v, on_delete_intent, t);
    free(v);
    if (rc != 0) {
        free(t->delete_key);
        t->delete_key = NULL;
        return rc;
    }
    t->delete_intent_pending = true;
    return 0;
}

void torrent_forget_delete_intent(struct torrent *t)
{
    if (!t->delete_key)
        return;
    store_kv_put(t->s->store, TORRENT_NS_DELETING, t->delete_key, NULL, NULL, NULL);
    free(t->delete_key);
    t->delete_key = NULL;
}

struct finish_ctx {
    struct session *s;
    const char *(*move_target)(void *ud, const char *hash);
    void *ud;
};

/* Whether the torrent `hash` was added again, at `base`, after the removal
 * whose deletion a crash interrupted: its row was committed after the
 * intent (the removal deleted the old row in the intent's transaction), so
 * the files at that place are the new torrent's now and stay. */
static bool readded_at(struct session *s, const char *hash, const char *base)
{
    char *text = NULL;
    if (store_load_torrent_settings(s->store, hash, &text) != 0 || !text)
        return false;
    struct record_torrent_settings ts;
    bool same = false;
    if (record_torrent_settings_decode(text, &ts) == 0) {
        same = (ts.save_path && strcmp(ts.save_path, base) == 0) ||
               (ts.download_path && strcmp(ts.download_path, base) == 0);
        record_torrent_settings_clear(&ts);
    }
    free(text);
    return same;
}

static int delete_unless_readded(struct session *s, const char *hash, const char *base, const char *const *rel,
                                 size_t n)
{
    if (readded_at(s, hash, base)) {
        log_msg(LOG_INFO, "removed torrent %s: added again at \"%s\" since; its files there are kept", hash, base);
        return 0;
    }
    return storage_delete_paths(base, rel, n);
}

static int finish_deletion(void *ud, const char *key, const char *value)
{
    struct finish_ctx *c = ud;
    char hash[65];
    snprintf(hash, sizeof hash, "%.*s", (int)strcspn(key, "."), key);
    size_t n = 0;
    int moving = 0;
    char *copy = strdup(value);
    char **rel = NULL;
    bool ok = copy && sscanf(copy, "%zu %d", &n, &moving) == 2 && n < (1u << 24) &&
              (rel = calloc(n ? n : 1, sizeof *rel)) != NULL;
    char *p = ok ? strchr(copy, '\n') : NULL;
    for (size_t i = 0; ok && i < n; i++) {
        if (!p) {
            ok = false;
            break;
        }
        rel[i] = p + 1;
        if ((p = strchr(p + 1, '\n')) != NULL)
            *p = '\0';
    }
    /* moving 2: "<n> 2 <len>" and the move's target (len bytes) on the line
     * before the save path; moving 1 (older rows): the target is in the
     * torrent's move row. */
    const char *target = NULL;
    size_t tlen = 0;
    if (ok && p && moving == 2) {
        ok = sscanf(copy, "%zu %d %zu", &n, &moving, &tlen) == 3 && tlen < strlen(p + 1) && p[1 + tlen] == '\n';
        if (ok) {
            target = p + 1;
            p += 1 + tlen;
            *p = '\0';
        }
    } else if (ok && moving == 1) {
        target = c->move_target(c->ud, hash);
    }
    const char *base = p ? p + 1 : NULL;
    if (ok && base && *base) {
        int rc = delete_unless_readded(c->s, hash, base, (const char *const *)rel, n);
        if (target && strcmp(target, base) != 0) {
            int rc2 = delete_unless_readded(c->s, hash, target, (const char *const *)rel, n);
            if (rc == 0)
                rc = rc2;
        }
        if (rc != 0)
            log_msg(LOG_WARNING, "removed torrent %s: could not delete all files: %s", hash, strerror(-rc));
        else
            log_msg(LOG_INFO, "removed torrent %s: deletion of its files finished after a restart", hash);
    } else {
        log_msg(LOG_WARNING, "removed torrent %s: unreadable deletion intent dropped", hash);
    }
    free(rel);
    free(copy);
    /* Dropped whatever the outcome: retrying a failure at every start would
     * not make it succeed, as for a removal that did not crash. */
    store_kv_put(c->s->store, TORRENT_NS_DELETING, key, NULL, NULL, NULL);
    return 0;
}

void torrent_finish_deletions(struct session *s, const char *(*move_target)(void *ud, const char *hash), void *ud)
{
    struct finish_ctx c = {s, move_target, ud};
    store_load_kv(s->store, TORRENT_NS_DELETING, finish_deletion, &c);
}

/* Moves the data directory on a worker (state "moving"). */
int torrent_move_data(struct torrent *t, const char *path, enum move_kind kind, void (*cb)(void *ud, int rc),
                      void *ud)
{
    int rc = path_mkdirs(path);
    if (rc != 0)
        return rc;
    struct move_ctx *m = calloc(1, sizeof *m);
    char intent[16];
    snprintf(intent, sizeof intent, "%d\n", (int)kind);
    char *value = m ? malloc(strlen(intent) + strlen(path) + 1) : NULL;
    if (!value) {
        free(m);
        return -ENOMEM;
    }
    strcpy(value, intent);
    strcat(value, path);
    *m = (struct move_ctx){t, strdup(path), kind, cb, ud, t->phase};
    rc = m->path ? store_kv_put(t->s->store, TORRENT_NS_MOVING, t->hex, value, on_move_intent, m) : -ENOMEM;
    free(value);
    if (rc != 0) {
        free(m->path);
        free(m);
        return rc;
    }
    /* Peers read from the files being moved: pause them for the move. */
    torrent_deactivate(t, false);
    t->phase = TP_MOVING;
    t->move_intent_pending = true;
    torrent_touch(t);
    return 0;
}

int torrent_set_location(struct torrent *t, const char *path, void (*cb)(void *ud, int rc), void *ud)
{
    session_assert_loop_thread(t->s);
    if (t->removing)
        return -EBUSY;
    if (t->phase == TP_MOVING || t->phase == TP_CHECKING || t->move_intent_pending) {
        char *p = strdup(path);
        if (!p)
            return -ENOMEM;
        free(t->pending_location);
        t->pending_location = p;
        if (cb)
            cb(ud, 0);
        return 0;
    }
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
    return torrent_move_data(t, path, MOVE_SAVE_PATH, cb, ud);
}

void torrent_apply_pending_location(struct torrent *t)
{
    char *p = t->pending_location;
    if (!p || t->removing || t->phase == TP_MOVING || t->phase == TP_CHECKING)
        return;
    t->pending_location = NULL;
    int rc = torrent_set_location(t, p, NULL, NULL);
    if (rc != 0)
        log_msg(LOG_WARNING, "'%s': cannot move to %s: %s", torrent_name(t), p, strerror(-rc));
    free(p);
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
    return torrent_move_data(t, want, t->download_path ? MOVE_TO_DOWNLOAD : MOVE_TO_SAVE, NULL, NULL);
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
        for (size_t k = 0; k < c->n; k++)
            torrent_set_renamed(t, c->idx[k], t->mi->files[c->idx[k]].path);
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
        torrent_maybe_finish_removal(t);
}

/* Turns a user-given relative path into sanitized components; NULL when it
 * is empty, absolute or would change under sanitizing. */
char *torrent_clean_rel_path(const char *p)
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
    char *np = torrent_clean_rel_path(new_path);
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

int torrent_set_renamed(struct torrent *t, size_t index, const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -ENOMEM;
    for (size_t i = 0; i < t->num_renamed; i++) {
        if (t->renamed[i].index == index) {
            free(t->renamed[i].path);
            t->renamed[i].path = p;
            return 0;
        }
    }
    struct torrent_rename *v = realloc(t->renamed, (t->num_renamed + 1) * sizeof *v);
    if (!v) {
        free(p);
        return -ENOMEM;
    }
    t->renamed = v;
    t->renamed[t->num_renamed++] = (struct torrent_rename){index, p};
    return 0;
}

void torrent_clear_renamed(struct torrent *t)
{
    for (size_t i = 0; i < t->num_renamed; i++)
        free(t->renamed[i].path);
    free(t->renamed);
    t->renamed = NULL;
    t->num_renamed = 0;
}
