/* The disk side of rem_orphaned and tag_nohardlinks (qbit_manage 4.8.1's
 * remove_orphaned.py and util.CheckHardLinks).  am_disk_work runs on
 * libuv's threadpool with its own copies of every path: it touches no
 * session state; the loop logs its lines and applies the tags after. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "automation/am_int.h"
#include "core/service.h"
#include "core/session.h"
#include "core/torrent.h"
#include "util/log.h"
#include "util/path.h"

#define WALK_MAX_FILES 5000000   /* a bound on one scan's memory */
#define WALK_MAX_DEPTH 64

static void jlog(struct am_orphan_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jlog(struct am_orphan_job *j, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    strv_push(&j->log, buf);
}

/* Every non-directory under dir (os.walk's files), skipping `skip`. */
static void walk(const char *dir, const char *skip, struct strv *out, int depth)
{
    if (depth > WALK_MAX_DEPTH || out->n >= WALK_MAX_FILES || (skip && *skip && strcmp(dir, skip) == 0))
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && out->n < WALK_MAX_FILES) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = path_join(dir, e->d_name);
        if (!p)
            continue;
        struct stat st;
        bool is_dir = e->d_type == DT_DIR || (e->d_type == DT_UNKNOWN && lstat(p, &st) == 0 && S_ISDIR(st.st_mode));
        if (is_dir)
            walk(p, skip, out, depth + 1);
        else
            strv_push(out, p);
        free(p);
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- hardlinks ---- */

struct inode {
    dev_t dev;
    ino_t ino;
    int64_t count;
};

struct links {
    struct inode *v;
    size_t n;
    struct hmap map;   /* (dev, ino) bytes → struct inode */
};

static void links_build(struct links *l, const struct strv *files)
{
    l->v = calloc(files->n ? files->n : 1, sizeof *l->v);
    if (!l->v)
        return;
    for (size_t i = 0; i < files->n; i++) {
        struct stat st;
        if (lstat(files->v[i], &st) != 0 || S_ISLNK(st.st_mode))
            continue;
        struct inode key = {.dev = st.st_dev, .ino = st.st_ino};
        struct inode *hit = hmap_get(&l->map, &key, offsetof(struct inode, count));
        if (hit) {
            hit->count++;
            continue;
        }
        struct inode *slot = &l->v[l->n++];
        *slot = key;
        slot->count = 1;
        if (hmap_put(&l->map, slot, offsetof(struct inode, count), slot, NULL) != 0)
            l->n--;
    }
}

static bool has_hardlinks(const struct links *l, const struct stat *st, bool ignore_root_dir)
{
    if (!ignore_root_dir)
        return st->st_nlink > 1;
    struct inode key = {.dev = st->st_dev, .ino = st->st_ino};
    const struct inode *hit = hmap_get(&l->map, &key, offsetof(struct inode, count));
    return (int64_t)st->st_nlink - (hit ? hit->count : 1) > 0;
}

struct sized {
    char *path;
    off_t size;
};

static int cmp_sized(const void *a, const void *b)
{
    const struct sized *x = a, *y = b;
    return x->size > y->size ? -1 : x->size < y->size;
}

/* CheckHardLinks.nohardlink: true when nothing that matters has a link. */
static bool nohardlink(struct am_orphan_job *j, const struct links *l, const char *path, bool ignore_root_dir)
{
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
        if (S_ISLNK(st.st_mode)) {
            jlog(j, "W:Symlink found in %s, unable to determine hardlinks. Skipping...", path);
            return false;
        }
        return !has_hardlinks(l, &st, ignore_root_dir);
    }
    struct strv files = {0};
    walk(path, NULL, &files, 0);
    if (files.n == 0) {
        jlog(j, "W:Nohardlink Error: Unable to open the folder %s. Please make sure folder exists and qbit_manage has "
                "access to this directory.",
             path);
        return true;
    }
    struct sized *v = calloc(files.n, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; v && i < files.n; i++) {
        struct stat fs;
        if (stat(files.v[i], &fs) == 0) {
            v[n].path = files.v[i];
            v[n++].size = fs.st_size;
        }
    }
    bool result = true;
    if (v && n) {
        qsort(v, n, sizeof *v, cmp_sized);
        double threshold = (double)v[0].size * 0.1;
        for (size_t i = 0; i < n; i++) {
            struct stat fs;
            if (lstat(v[i].path, &fs) != 0)
                continue;
            if (S_ISLNK(fs.st_mode)) {
                jlog(j, "W:Symlink found in %s, unable to determine hardlinks. Skipping...", v[i].path);
                continue;
            }
            if (has_hardlinks(l, &fs, ignore_root_dir) && (double)fs.st_size >= threshold) {
                result = false;
                break;
            }
        }
    }
    free(v);
    strv_clear(&files);
    return result;
}

/* ---- orphans ---- */

static bool excluded(const struct am_orphan_job *j, const char *file)
{
    for (size_t i = 0; i < j->excludes.n; i++)
        if (fnmatch(j->excludes.v[i], file, 0) == 0)
            return true;
    return false;
}

static void remove_empty_parents(const char *file, const char *root)
{
    char *d = strdup(file);
    size_t rl = strlen(root);
    while (d) {
        char *slash = strrchr(d, '/');
        if (!slash || slash == d)
            break;
        *slash = '\0';
        if (strlen(d) <= rl || rmdir(d) != 0)
            break;
    }
    free(d);
}

static void orphans(struct am_orphan_job *j, const struct strv *root_files)
{
    jlog(j, "S:Checking for Orphaned Files");
    jlog(j, "I:Locating orphan files");
    struct hmap known = HMAP_INIT;
    for (size_t i = 0; i < j->torrent_files.n; i++)
        hmap_put(&known, j->torrent_files.v[i], strlen(j->torrent_files.v[i]), (void *)1, NULL);
    struct strv cand = {0};
    for (size_t i = 0; i < root_files->n; i++)
        if (!hmap_get(&known, root_files->v[i], strlen(root_files->v[i])))
            strv_push(&cand, root_files->v[i]);
    hmap_free(&known);
    if (j->excludes.n)
        jlog(j, "I:Processing orphan exclude patterns");
    struct strv left = {0};
    time_t now = time(NULL);
    size_t protected = 0;
    for (size_t i = 0; i < cand.n; i++) {
        const char *f = cand.v[i];
        if (excluded(j, f))
            continue;
        if (j->min_age_minutes > 0) {
            struct stat st;
            if (stat(f, &st) == 0) {
                double age = (double)(now - st.st_mtime) / 60.0;
                if (age < (double)j->min_age_minutes) {
                    const char *base = strrchr(f, '/');
                    jlog(j, "I:Skipping orphaned file (too new): %s (age %.1f mins < %lld mins)", base ? base + 1 : f,
                         age, (long long)j->min_age_minutes);
                    protected++;
                    continue;
                }
            }
        }
        strv_push(&left, f);
    }
    strv_clear(&cand);
    if (protected)
        jlog(j, "I:Protected %zu orphaned files from deletion due to age filter (min_file_age_minutes=%lld)", protected,
             (long long)j->min_age_minutes);
    if (left.n == 0) {
        jlog(j, "I:No Orphaned Files found.");
        return;
    }
    if (j->max_files != -1 && (int64_t)left.n > j->max_files) {
        jlog(j,
             "W:Too many orphaned files detected (%zu). Max Threshold for deletion is set to %lld. Aborting deletion "
             "to avoid accidental data loss.",
             left.n, (long long)j->max_files);
        strv_clear(&left);
        return;
    }
    qsort(left.v, left.n, sizeof *left.v, cmp_str);
    j->moved = (int64_t)left.n;
    jlog(j, "I:%zu Orphaned files found", left.n);
    for (size_t i = 0; i < left.n; i++)
        jlog(j, "I:%s", left.v[i]);
    bool del = j->empty_after_days == 0;
    if (del)
        jlog(j, "I:%s %zu Orphaned files", j->dry ? "Not Deleting" : "Deleting", left.n);
    else
        jlog(j, "I:%s %zu Orphaned files to %s", j->dry ? "Not moving" : "Moving", left.n, j->orphaned_dir);
    if (!j->dry) {
        if (!del)
            path_mkdirs(j->orphaned_dir);
        size_t rl = strlen(j->root_dir);
        for (size_t i = 0; i < left.n; i++) {
            const char *src = left.v[i];
            int rc = 0;
            if (del) {
                rc = unlink(src) == 0 ? 0 : -errno;
            } else {
                const char *rel = strncmp(src, j->root_dir, rl) == 0 ? src + rl : src;
                while (*rel == '/')
                    rel++;
                char *dst = path_join(j->orphaned_dir, rel);
                rc = !dst ? -ENOMEM : path_mkdirs_for(dst) != 0 ? -errno : rename(src, dst) == 0 ? 0 : -errno;
                /* Its date becomes the move's: empty_after_x_days counts from it. */
                if (rc == 0)
                    utimensat(AT_FDCWD, dst, NULL, 0);
                free(dst);
            }
            if (rc != 0)
                jlog(j, "W:Error processing orphaned file %s: %s", src, strerror(-rc));
        }
        jlog(j, "I:Removing newly empty directories");
        for (size_t i = 0; i < left.n; i++)
            remove_empty_parents(left.v[i], j->root_dir);
    }
    j->orphans = left;
}

/* qbit_manage names the folder of each file as re.search(".*<basename of
 * dir>", file): the file's path up to the last occurrence of that name. */
static size_t folder_len(const char *file, const char *base)
{
    size_t bl = strlen(base), end = 0;
    for (const char *p = file; bl && (p = strstr(p, base)); p++)
        end = (size_t)(p - file) + bl;
    return end;
}

/* cleanup_dirs (qbit_manage's Config.cleanup_dirs): files in dir last
 * modified more than `days` ago, with its log lines: the "Emptying" and
 * "Searching" separators, one line per file and the total. */
static int64_t empty_dir(struct am_orphan_job *j, const char *dir, int64_t days, const char *label)
{
    if (days < 0 || !*dir)
        return 0;
    struct strv files = {0};
    walk(dir, NULL, &files, 0);
    if (files.n == 0)
        return 0;
    qsort(files.v, files.n, sizeof *files.v, cmp_str);
    jlog(j, "S:Emptying %s (Files > %lld days)", label, (long long)days);
    const char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : dir;
    time_t now = time(NULL);
    int64_t n = 0;
    double bytes = 0;
    const char *prev = NULL;
    size_t prevlen = 0;
    for (size_t i = 0; i < files.n; i++) {
        size_t fl = folder_len(files.v[i], base);
        if (!prev || fl != prevlen || strncmp(prev, files.v[i], fl) != 0)
            jlog(j, "S:Searching: %.*s", (int)fl, files.v[i]);
        prev = files.v[i];
        prevlen = fl;
        struct stat st;
        if (lstat(files.v[i], &st) != 0)
            continue;
        double age = (double)(now - st.st_mtime) / 86400.0;
        if (age < (double)days)
            continue;
        const char *name = strrchr(files.v[i], '/');
        jlog(j, "I:%s %s from %.*s (Last modified %.0f days ago).", j->dry ? "Did not delete" : "Deleted",
             name ? name + 1 : files.v[i], (int)fl, files.v[i], nearbyint(age));
        n++;
        bytes += (double)st.st_size;
        if (!j->dry && unlink(files.v[i]) == 0)
            remove_empty_parents(files.v[i], dir);
    }
    if (n) {
        /* util.human_readable_size */
        static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        size_t u = 0;
        while (bytes >= 1024.0 && u + 1 < sizeof unit / sizeof *unit)
            bytes /= 1024.0, u++;
        jlog(j, "I:%s %lld files (%.3f%s) from the %s.", j->dry ? "Did not delete" : "Deleted", (long long)n, bytes,
             unit[u], label);
    }
    strv_clear(&files);
    return n;
}

void am_disk_work(struct am_orphan_job *j)
{
    struct strv root = {0};
    if (*j->root_dir)
        walk(j->root_dir, j->orphaned_dir, &root, 0);
    if (j->run_orphans && *j->root_dir)
        orphans(j, &root);
    if (j->num_nohl) {
        /* The links inside root_dir, the orphaned dir and the recycle bin. */
        struct strv more = {0};
        bool need = false;
        for (size_t i = 0; i < j->num_nohl; i++)
            need = need || j->nohl[i].ignore_root_dir;
        struct links l = {0};
        if (need) {
            for (size_t i = 0; i < root.n; i++)
                strv_push(&more, root.v[i]);
            if (*j->orphaned_dir)
                walk(j->orphaned_dir, NULL, &more, 0);
            if (*j->recycle_dir && strncmp(j->recycle_dir, j->root_dir, strlen(j->root_dir)) != 0)
                walk(j->recycle_dir, NULL, &more, 0);
            links_build(&l, &more);
        }
        for (size_t i = 0; i < j->num_nohl; i++) {
            j->nohl[i].has_nohl = nohardlink(j, &l, j->nohl[i].content_path, j->nohl[i].ignore_root_dir);
            j->nohl[i].checked = true;
        }
        hmap_free(&l.map);
        free(l.v);
        strv_clear(&more);
    }
    strv_clear(&root);
    /* After the commands, as qbit_manage's run: what rem_orphaned just moved
     * into the orphaned dir is listed (and kept: its mtime is now). */
    j->recycle_emptied = empty_dir(j, j->recycle_dir, j->recycle_days, "Recycle Bin");
    j->orphaned_emptied = empty_dir(j, j->orphaned_dir, j->orphan_days, "Orphaned Data");
}

/* ---- tag_nohardlinks on the loop ---- */

static bool push_item(struct am_nohl_item **v, size_t *n, size_t *cap, struct torrent *t,
                      const struct autocfg_node *entry)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct am_nohl_item *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return false;
        *v = nv;
        *cap = nc;
    }
    struct am_nohl_item *it = &(*v)[*n];
    memset(it, 0, sizeof *it);
    memcpy(it->hex, t->hex, 41);
    it->content_path = am_content_path(t);
    if (!it->content_path)
        return false;
    it->ignore_root_dir = autocfg_bool(autocfg_get(entry, "ignore_root_dir"), true);
    it->exclude_tags = autocfg_get(entry, "exclude_tags");
    (*n)++;
    return true;
}

struct am_nohl_item *am_nohl_collect(struct am_ctx *c, size_t *n)
{
    const struct autocfg_node *nh = autocfg_at(c->cfg, "nohardlinks", NULL);
    bool completed = autocfg_bool(autocfg_at(c->cfg, "settings", "tag_nohardlinks_filter_completed"), true);
    struct am_nohl_item *v = NULL;
    size_t cap = 0, nt;
    *n = 0;
    am_separator("Tagging Torrents with No Hardlinks");
    struct torrent **list = am_list(c, true, &nt);
    if (!list)
        return NULL;
    if (c->has_hashes) {
        for (size_t i = 0; i < nt; i++) {
            struct torrent *t = list[i];
            if (completed && !am_is_complete(t))
                continue;
            push_item(&v, n, &cap, t, autocfg_get(nh, t->category ? t->category : ""));
        }
    } else if (nh) {
        size_t ncat = nh->kind == AUTOCFG_MAP ? nh->n : autocfg_list_len(nh);
        for (size_t k = 0; k < ncat; k++) {
            const char *cat = nh->kind == AUTOCFG_MAP ? nh->keys[k] : autocfg_list_at(nh, k);
            const struct autocfg_node *entry = nh->kind == AUTOCFG_MAP ? nh->items[k] : NULL;
            if (!cat)
                continue;
            size_t found = 0;
            for (size_t i = 0; i < nt; i++) {
                struct torrent *t = list[i];
                if (strcmp(t->category ? t->category : "", cat) != 0 || (completed && !am_is_complete(t)))
                    continue;
                found++;
                push_item(&v, n, &cap, t, entry);
            }
            if (!found)
                log_msg(LOG_WARNING,
                        "qbit_manage: No torrents found in the category (%s) defined under nohardlinks attribute in the "
                        "config. Please check if this matches with any category in qbittorrent and has 1 or more "
                        "torrents.",
                        cat);
        }
    }
    free(list);
    return v;
}

void am_nohl_apply(struct am_ctx *c, struct am_nohl_item *v, size_t n)
{
    const char *tag = autocfg_str(autocfg_at(c->cfg, "settings", "nohardlinks_tag"), "noHL");
    int64_t tagged = 0, untagged = 0;
    json_t *tagged_attrs = json_array(), *untagged_attrs = json_array();
    for (size_t i = 0; i < n; i++) {
        struct torrent *t = session_find_hex(c->s, v[i].hex);
        if (!t || t->removing || !v[i].checked)
            continue;
        bool excl = false;
        for (size_t k = 0; k < autocfg_list_len(v[i].exclude_tags) && !excl; k++)
            excl = am_has_tag(t, autocfg_list_at(v[i].exclude_tags, k));
        if (excl)
            continue;
        struct am_tracker tr;
        am_tracker_of(c, t, &tr);
        if (v[i].has_nohl && !am_has_tag(t, tag)) {
            am_log("Torrent Name: %s", torrent_name(t));
            am_log("Added Tag: %s", tag);
            am_log("Tracker: %s", tr.url);
            tagged++;
            char body[2048];
            snprintf(body, sizeof body, "   Torrent Name: %s\n      Added Tag: %s\n        Tracker: %s",
                     torrent_name(t), tag, tr.url);
            json_t *a = am_torrent_attr("tag_nohardlinks", "Tagging Torrents with No Hardlinks", body, torrent_name(t),
                                        t->category ? t->category : "", tag, &tr);
            if (a)
                json_array_append_new(tagged_attrs, a);
            if (!c->dry)
                am_track(c, service_add_tags(c->s, t, &tag, 1, am_service_done, c));
        } else if (!v[i].has_nohl && am_has_tag(t, tag)) {
            untagged++;
            char body[2048];
            snprintf(body, sizeof body,
                     "Previous Tagged %s Torrent Name: %s has hardlinks found now.\n      Removed Tag: %s\n        "
                     "Tracker: %s",
                     tag, torrent_name(t), tag, tr.url);
            json_t *a = am_torrent_attr("untag_nohardlinks", "Untagging Previous Torrents that now have hardlinks",
                                        body, torrent_name(t), t->category ? t->category : "", tag, &tr);
            if (a)
                json_array_append_new(untagged_attrs, a);
            am_log("Previous Tagged %s Torrent Name: %s has hardlinks found now.", tag, torrent_name(t));
            am_log("Removed Tag: %s", tag);
            am_log("Tracker: %s", tr.url);
            if (!c->dry)
                am_track(c, service_remove_tags(c->s, t, &tag, 1, am_service_done, c));
        }
    }
    am_notify(c, tagged_attrs, "tag");
    am_notify(c, untagged_attrs, "tag");
    if (tagged >= 1)
        am_log("%s for %lld .torrent%s", c->dry ? "Did not Tag" : "Added Tag", (long long)tagged,
               tagged > 1 ? "s." : ".");
    else
        am_log("No torrents to tag with no hardlinks.");
    if (untagged >= 1)
        am_log("%s %s tags for %lld .torrent%s", c->dry ? "Did not delete" : "Deleted", tag, (long long)untagged,
               untagged > 1 ? "s." : ".");
    c->st->tagged_noHL += tagged;
    c->st->untagged_noHL += untagged;
    c->st->tagged += tagged;
}
