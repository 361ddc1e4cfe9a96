/* The loop-side commands: cat_update, tag_update, rem_unregistered with
 * tag_tracker_error, recheck; and what they share (the torrent list, the
 * tracker verdict, torrentinfo by name, deletion through the recycle bin).
 * Each follows qbit_manage 4.8.1's modules/core/<command>.py: the same
 * filters, decisions, counters and log lines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "automation/am_int.h"
#include "core/catalog.h"
#include "core/service.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/torrent_status.h"
#include "core/view.h"
#include "util/log.h"
#include "util/path.h"

bool am_log_quiet;

void am_log(const char *fmt, ...)
{
    if (am_log_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_msg(LOG_INFO, "qbit_manage: %s", buf);
}

void am_separator(const char *fmt, ...)
{
    if (am_log_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_msg(LOG_NORMAL, "qbit_manage: | %s |", buf);
}

/* ---- the torrent list ---- */

bool am_hash_wanted(const struct am_ctx *c, const struct torrent *t)
{
    return !c->has_hashes || hmap_get(&c->hashes, t->hex, 40);
}

static int cmp_added(const void *a, const void *b)
{
    const struct torrent *x = *(struct torrent *const *)a, *y = *(struct torrent *const *)b;
    if (x->added_on != y->added_on)
        return x->added_on < y->added_on ? -1 : 1;
    return x->queue_pos < y->queue_pos ? -1 : x->queue_pos > y->queue_pos;
}

struct torrent **am_list(struct am_ctx *c, bool filtered, size_t *n)
{
    struct session *s = c->s;
    struct torrent **v = malloc((s->num_torrents ? s->num_torrents : 1) * sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        if (t->removing || (filtered && !am_hash_wanted(c, t)))
            continue;
        v[(*n)++] = t;
    }
    qsort(v, *n, sizeof *v, cmp_added);
    return v;
}

void am_service_done(void *ud, int rc)
{
    struct am_ctx *c = ud;
    (void)rc;
    if (c->pending > 0 && --c->pending == 0 && c->resume) {
        void (*fn)(struct am_ctx *) = c->resume;
        c->resume = NULL;
        fn(c);
    }
}

void am_track(struct am_ctx *c, int rc)
{
    if (rc >= 0)
        c->pending++;
}

/* ---- torrent facts as qbit_manage reads them ---- */

bool am_is_complete(const struct torrent *t)
{
    switch (torrent_status_state(t, t->s->now_ms)) {
    case TORRENT_STATE_CHECKING_UP:
    case TORRENT_STATE_STOPPED_UP:
    case TORRENT_STATE_QUEUED_UP:
    case TORRENT_STATE_UPLOADING:
    case TORRENT_STATE_UPLOADING_FORCED:
    case TORRENT_STATE_STALLED_UP:
        return true;
    default:
        return false;
    }
}

bool am_has_tag(const struct torrent *t, const char *tag)
{
    return tag && *tag && strv_find(&t->tags, tag, false) >= 0;
}

size_t am_tags_containing(const struct torrent *t, const char *sub, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->tags.n && n < max; i++)
        if (strstr(t->tags.v[i], sub))
            out[n++] = t->tags.v[i];
    return n;
}

static bool tracker_scheme_ok(const char *url)
{
    static const char *const s[] = {"http:", "https:", "udp:", "ws:", "wss:"};
    for (size_t i = 0; i < 5; i++)
        if (strncmp(url, s[i], strlen(s[i])) == 0)
            return true;
    return false;
}

/* trunc_val(url, "/"): the first three '/'-separated parts. */
static void trunc_url(const char *url, char *out, size_t len)
{
    const char *p = url;
    for (int k = 0; k < 3 && p; k++) {
        p = strchr(p, '/');
        if (p && k < 2)
            p++;
    }
    size_t n = p ? (size_t)(p - url) : strlen(url);
    snprintf(out, len, "%.*s", (int)n, url);
}

/* Whether a tracker key ("a|b") matches url (substring of any part). */
static bool key_matches(const char *key, const char *url)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", key);
    char *save = NULL;
    for (char *part = strtok_r(buf, "|", &save); part; part = strtok_r(NULL, "|", &save))
        if (*part && strstr(url, part))
            return true;
    return false;
}

static void tracker_of_urls(const struct am_ctx *c, const char *const *urls, size_t n, struct am_tracker *out)
{
    memset(out, 0, sizeof *out);
    const struct autocfg_node *trk = autocfg_at(c->cfg, "tracker", NULL);
    const struct autocfg_node *other = autocfg_get(autocfg_get(trk, "other"), "tag");
    if (n == 0)
        snprintf(out->url, sizeof out->url, "No http URL found");
    else
        trunc_url(urls[0], out->url, sizeof out->url);
    if (trk && trk->kind == AUTOCFG_MAP) {
        for (size_t k = 0; k < trk->n; k++)
            for (size_t i = 0; i < n; i++)
                if (key_matches(trk->keys[k], urls[i])) {
                    trunc_url(urls[i], out->url, sizeof out->url);
                    const struct autocfg_node *e = trk->items[k];
                    out->tag = autocfg_get(e, "tag");
                    if (autocfg_list_len(out->tag) == 0) {
                        out->tag = NULL;
                        out->fallback = trk->keys[k];   /* the key is the tag by default */
                    }
                    out->cat = autocfg_str(autocfg_get(e, "cat"), NULL);
                    out->notifiarr = autocfg_str(autocfg_get(e, "notifiarr"), NULL);
                    return;
                }
        if (autocfg_list_len(other) || n == 0) {
            out->tag = autocfg_list_len(other) ? other : NULL;
            out->fallback = out->tag ? NULL : "other";
            out->cat = autocfg_str(autocfg_get(autocfg_get(trk, "other"), "cat"), NULL);
            out->notifiarr = autocfg_str(autocfg_get(autocfg_get(trk, "other"), "notifiarr"), NULL);
            return;
        }
    }
    if (autocfg_list_len(other)) {
        out->tag = other;
        return;
    }
    if (n == 0) {
        out->fallback = "other";
        return;
    }
    /* No match: the tracker's host becomes the tag (qbit_manage writes it
     * back into its config and warns). */
    const char *h = strstr(out->url, "//");
    snprintf(out->host, sizeof out->host, "%s", h ? h + 2 : out->url);
    char *colon = strchr(out->host, ':');
    if (colon)
        *colon = '\0';
    out->fallback = out->host;
    log_msg(LOG_WARNING, "qbit_manage: No tags matched for %s. Please check your config.yml file. Setting tag to %s",
            out->url, out->host);
    char e[700];
    snprintf(e, sizeof e, "No tags matched for %s. Please check your config.yml file. Setting tag to %s", out->url,
             out->host);
    am_notify_error(c, e, "Tag", false);
}

void am_tracker_of(const struct am_ctx *c, const struct torrent *t, struct am_tracker *out)
{
    const char *urls[64];
    size_t n = 0;
    struct view_tracker e;
    for (size_t i = 0; n < 64 && view_tracker(t, i, &e); i++)
        if (strncmp(e.url, "http", 4) == 0 || strncmp(e.url, "udp", 3) == 0 || strncmp(e.url, "ws", 2) == 0)
            urls[n++] = e.url;
    tracker_of_urls(c, urls, n, out);
}

size_t am_tracker_tags(const struct am_tracker *tr, const char **out, size_t max)
{
    if (tr->tag) {
        size_t n = autocfg_list_len(tr->tag), k = 0;
        for (size_t i = 0; i < n && k < max; i++)
            if (autocfg_list_at(tr->tag, i))
                out[k++] = autocfg_list_at(tr->tag, i);
        return k;
    }
    if (tr->fallback && max > 0) {
        out[0] = tr->fallback;
        return 1;
    }
    return 0;
}

/* Python's repr of the tag list, as qbit_manage prints it ("['a', 'b']"). */
static void tags_repr(const struct am_tracker *tr, char *buf, size_t len)
{
    const char *v[16];
    size_t n = am_tracker_tags(tr, v, 16), off = 0;
    off += (size_t)snprintf(buf + off, len - off, "[");
    for (size_t i = 0; i < n && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s'%s'", i ? ", " : "", v[i]);
    if (off < len)
        snprintf(buf + off, len - off, "]");
}

/* ", ".join(tracker["tag"]) */
static void tags_joined(const struct am_tracker *tr, char *buf, size_t len)
{
    const char *v[16];
    size_t n = am_tracker_tags(tr, v, 16), off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", v[i]);
}

json_t *am_torrent_attr(const char *function, const char *title, const char *body, const char *name, const char *cat,
                        const char *tag, const struct am_tracker *tr)
{
    return json_pack("{s:s,s:s,s:s,s:[s],s:s?,s:s?,s:s,s:s?}", "function", function, "title", title, "body", body,
                     "torrents", name, "torrent_category", cat, "torrent_tag", tag, "torrent_tracker", tr->url,
                     "notifiarr_indexer", tr->notifiarr);
}

static void attr_add(json_t *attrs, json_t *a)
{
    if (a)
        json_array_append_new(attrs, a);
}

char *am_content_path(const struct torrent *t)
{
    struct view_meta m;
    view_meta(t, &m);
    const char *base = t->data_in_download && t->download_path ? t->download_path : t->save_path;
    if (m.single_file)
        return path_join(base, m.single_file);
    const char *root = torrent_root_folder((struct torrent *)t);
    if (root && *root)
        return path_join(base, root);
    return strdup(base ? base : "");
}

static bool torrent_private(const struct torrent *t)
{
    struct view_meta m;
    view_meta(t, &m);
    if (m.has_metadata)
        return m.is_private;
    struct view_tracker e;
    for (size_t i = 0; view_tracker(t, i, &e); i++)
        if (strcasestr(e.msg, "private") || strcasestr(e.url, "private"))
            return true;
    return false;
}

/* ---- torrentinfo (get_torrent_info) ---- */

static bool list_in_text(const char *text, const char *const *list)
{
    for (; *list; list++)
        if (strstr(text, *list))
            return true;
    return false;
}

static const char *const EXCEPTIONS_MSGS[] = {"DOWN", "DOWN.", "IT MAY BE DOWN,", "UNREACHABLE", "(UNREACHABLE)",
                                              "BAD GATEWAY", "TRACKER UNAVAILABLE", NULL};
static const char *const UNREGISTERED_MSGS[] = {
    "UNREGISTERED", "TORRENT NOT FOUND", "TORRENT IS NOT FOUND", "NOT REGISTERED", "NOT EXIST", "UNKNOWN TORRENT",
    "TRUMP", "RETITLED", "TRUNCATED", "TORRENT IS NOT AUTHORIZED FOR USE ON THIS TRACKER", "INFOHASH NOT FOUND.",
    "TORRENT HAS BEEN DELETED.", "TRACKER NICHT REGISTRIERT.", "TORRENT EXISTIERT NICHT", "TORRENT NICHT GEFUNDEN",
    "TORRENT DELETED", "TORRENT BANNED", NULL};
static const char *const UNREGISTERED_MSGS_BHD[] = {
    "DEAD", "DUPE", "COMPLETE SEASON UPLOADED", "COMPLETE SEASON UPLOADED:", "PROBLEM WITH DESCRIPTION",
    "PROBLEM WITH FILE", "PROBLEM WITH PACK", "SPECIFICALLY BANNED", "TRUMPED", "OTHER", "TORRENT HAS BEEN DELETED",
    "NUKED", "SEASON PACK", "SEASON PACK OUT", "SEASON PACK UPLOADED", NULL};
static const char *const IGNORE_MSGS[] = {"YOU HAVE REACHED THE CLIENT LIMIT FOR THIS TORRENT",
                                          "PASSKEY",
                                          "MISSING INFO_HASH",
                                          "EXPECTED VALUE (LIST, DICT, INT OR STRING) IN BENCODED STRING",
                                          "COULD NOT PARSE BENCODED DATA",
                                          "STREAM TRUNCATED",
                                          "GATEWAY TIMEOUT",
                                          "ANNOUNCE IS CURRENTLY UNAVAILABLE",
                                          "TORRENT HAS BEEN POSTPONED",
                                          "520 (UNKNOWN HTTP ERROR)",
                                          NULL};

static void upper(const char *s, char *out, size_t len)
{
    size_t i = 0;
    for (; s[i] && i + 1 < len; i++)
        out[i] = (char)((s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i]);
    out[i] = '\0';
}

/* The per-torrent verdict of get_torrent_info: 1 valid (a working tracker),
 * 2 issue, 0 neither; *status / msg as it records them (-1 = None). */
static int tracker_verdict(const struct torrent *t, int *status, char *msg, size_t len)
{
    struct view_tracker e;
    bool issue = false;
    int issue_status = -1;
    char issue_msg[256] = "";
    *status = -1;
    msg[0] = '\0';
    bool have_msg = false;
    for (size_t i = 0; view_tracker(t, i, &e); i++) {
        if (!tracker_scheme_ok(e.url))
            continue;
        *status = e.status;
        upper(e.msg, msg, len);
        have_msg = true;
        if (e.status == 2) {
            *status = 2;
            msg[0] = '\0';
            return 1;
        }
        if (e.status >= 4 && e.status <= 6 && !list_in_text(msg, EXCEPTIONS_MSGS)) {
            issue = true;
            issue_status = e.status;
            snprintf(issue_msg, sizeof issue_msg, "%s", msg);
        }
    }
    if (issue) {
        *status = issue_status;
        snprintf(msg, len, "%s", issue_msg);
        return 2;
    }
    if (!have_msg)
        msg[0] = '\1';   /* None: no message recorded */
    return 0;
}

static void name_free(struct am_ctx *c)
{
    struct hmap_ent *e;
    for (size_t i = 0; (e = hmap_next(&c->names, &i));) {
        struct am_name *nm = e->val;
        free((char *)nm->name);
        free(nm->category);
        free(nm);
    }
    hmap_free(&c->names);
}

/* Paths → how many torrents have a file there (cross-seed detection). */
static void files_free(struct am_ctx *c)
{
    for (size_t i = 0; i < c->num_file_keys; i++)
        free(c->file_keys[i]);
    free(c->file_keys);
    c->file_keys = NULL;
    c->num_file_keys = 0;
    hmap_free(&c->files);
}

static void files_add(struct am_ctx *c, const struct torrent *t, int delta)
{
    size_t nf = view_file_count(t);
    for (size_t i = 0; i < nf; i++) {
        struct view_file f;
        if (view_file(t, i, &f) != 0)
            continue;
        char *p = path_join(t->save_path, f.path);
        if (!p)
            continue;
        void **slot = hmap_find(&c->files, p, strlen(p));
        if (slot) {
            *slot = (void *)((intptr_t)*slot + delta);
            free(p);
            continue;
        }
        if (delta <= 0) {
            free(p);
            continue;
        }
        char **k = realloc(c->file_keys, (c->num_file_keys + 1) * sizeof *k);
        if (!k || hmap_put(&c->files, p, strlen(p), (void *)(intptr_t)1, NULL) != 0) {
            if (k)
                c->file_keys = k;
            free(p);
            continue;
        }
        c->file_keys = k;
        c->file_keys[c->num_file_keys++] = p;
    }
}

bool am_has_cross_seed(const struct am_ctx *c, const struct torrent *t)
{
    size_t nf = view_file_count(t);
    for (size_t i = 0; i < nf; i++) {
        struct view_file f;
        if (view_file(t, i, &f) != 0)
            continue;
        char *p = path_join(t->save_path, f.path);
        if (!p)
            continue;
        intptr_t owners = (intptr_t)hmap_get(&c->files, p, strlen(p));
        free(p);
        if (owners > 1)
            return true;
    }
    return false;
}

void am_build_torrentinfo(struct am_ctx *c)
{
    if (c->have_names) {
        name_free(c);
        files_free(c);
    }
    c->have_names = true;
    const struct autocfg_node *set = autocfg_at(c->cfg, "settings", NULL);
    bool force_tmm = autocfg_bool(autocfg_get(set, "force_auto_tmm"), false);
    const struct autocfg_node *ignore = autocfg_get(set, "force_auto_tmm_ignore_tags");
    am_separator("Checking Settings");
    if (force_tmm)
        am_log("force_auto_tmm set to True. Will force Auto Torrent Management for all torrents without matching "
               "force_auto_tmm_ignore_tags.");
    am_separator("Gathering Torrent Information");
    size_t n;
    struct torrent **v = am_list(c, false, &n);
    for (size_t i = 0; i < n; i++) {
        struct torrent *t = v[i];
        if (!t->auto_tmm && force_tmm && t->category && *t->category && !c->dry) {
            bool skip = false;
            for (size_t k = 0; k < autocfg_list_len(ignore) && !skip; k++)
                skip = am_has_tag(t, autocfg_list_at(ignore, k));
            if (!skip)
                am_track(c, service_set_auto_tmm(c->s, t, true, am_service_done, c));
        }
        files_add(c, t, 1);
        const char *name = torrent_name(t);
        struct am_name *nm = hmap_get(&c->names, name, strlen(name));
        if (!nm) {
            nm = calloc(1, sizeof *nm);
            if (!nm || !(nm->name = strdup(name)) || hmap_put(&c->names, nm->name, strlen(nm->name), nm, NULL)) {
                if (nm)
                    free((char *)nm->name);
                free(nm);
                continue;
            }
        }
        nm->is_complete = nm->is_complete || am_is_complete(t);
        free(nm->category);
        nm->category = strdup(t->category ? t->category : "");
        int status;
        char msg[256];
        tracker_verdict(t, &status, msg, sizeof msg);
        if (msg[0] == '\0' && status != -1)
            nm->msg_empty = true;
        if (status == 2)
            nm->status_working = true;
    }
    free(v);
}

void am_ctx_names_free(struct am_ctx *c);
void am_ctx_names_free(struct am_ctx *c)
{
    if (c->have_names) {
        name_free(c);
        files_free(c);
        c->have_names = false;
    }
}

const struct am_name *am_name_info(const struct am_ctx *c, const struct torrent *t)
{
    const char *name = torrent_name(t);
    return hmap_get(&c->names, name, strlen(name));
}

/* ---- deletion (tor_delete_recycle) ---- */

static int move_file(const char *src, const char *dst)
{
    if (path_mkdirs_for(dst) != 0)
        return -errno;
    if (rename(src, dst) != 0)
        return -errno;
    /* Dated now, as qbit_manage's move: empty_after_x_days counts from the
     * deletion, not from the file's own age. */
    utimensat(AT_FDCWD, dst, NULL, 0);
    return 0;
}

static void remove_empty_dirs(const char *dir, const char *stop)
{
    char *d = strdup(dir);
    while (d && *d && strcmp(d, "/") != 0 && (!stop || strcmp(d, stop) != 0)) {
        if (rmdir(d) != 0)
            break;
        char *slash = strrchr(d, '/');
        if (!slash || slash == d)
            break;
        *slash = '\0';
    }
    free(d);
}

/* shutil.copyfile */
static int copy_file(const char *src, const char *dst)
{
    if (path_mkdirs_for(dst) != 0)
        return -errno;
    FILE *in = fopen(src, "rb");
    if (!in)
        return -errno;
    FILE *out = fopen(dst, "wb");
    if (!out) {
        int e = -errno;
        fclose(in);
        return e;
    }
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            rc = -EIO;
            break;
        }
    if (ferror(in))
        rc = -EIO;
    fclose(in);
    if (fclose(out) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* qbit_manage's backward-compatible export: every file in torrents_dir
 * (qBittorrent's BT_backup) whose name starts with the info-hash is copied to
 * <recycle>/torrents/, and named in the "Backing up" line without the hash. */
static void copy_backups(struct am_ctx *c, struct torrent *t, const char *recycle, char *line, size_t cap)
{
    if (!c->torrents_dir || !*c->torrents_dir)
        return;
    DIR *d = opendir(c->torrents_dir);
    if (!d)
        return;
    struct strv names = {0};
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, t->hex, 40) == 0)
            strv_push(&names, e->d_name);
    closedir(d);
    qsort(names.v, names.n, sizeof *names.v, cmp_name);
    for (size_t i = 0; i < names.n; i++) {
        char src[4096], dst[4096];
        snprintf(src, sizeof src, "%s/%s", c->torrents_dir, names.v[i]);
        snprintf(dst, sizeof dst, "%s/torrents/%s", recycle, names.v[i]);
        int rc = copy_file(src, dst);
        if (rc != 0)
            log_msg(LOG_WARNING, "qbit_manage: RecycleBin Warning: %s: %s", src, strerror(-rc));
        size_t l = strlen(line);
        snprintf(line + l, cap - l, "%s%s", *line ? " and " : "", names.v[i] + 40);
    }
    strv_clear(&names);
}

static void write_export(struct am_ctx *c, struct torrent *t, const char *recycle, bool deleted_contents,
                         const char *tracker_url)
{
    uint8_t *data;
    size_t len;
    const char *name = torrent_name(t);
    /* The name is the torrent's, not ours: one safe path component. */
    int dropped = 0;
    char *safe = path_sanitize_component(name, strlen(name), &dropped);
    if (!safe)
        return;
    if (strlen(safe) > 200)
        safe[200] = '\0';
    char path[4096], json[4096], backed[2048] = "";
    /* The JSON manifest qbit_manage keeps beside it (restore scripts read it). */
    int jn = snprintf(json, sizeof json, "%s/torrents_json/%s.json", recycle, safe);
    bool json_ok = jn > 0 && (size_t)jn < sizeof json;
    if (json_ok) {
        if (access(json, F_OK) == 0)
            am_log("Adding %s to existing %s.json", tracker_url, safe);
        else
            am_log("Saving Torrent JSON file to %s", json);
    }
    if (view_torrent_file(t, &data, &len) == 0) {
        int n = snprintf(path, sizeof path, "%s/torrents_export/%s [%s].torrent", recycle, safe, t->hex + 32);
        if (n > 0 && (size_t)n < sizeof path && path_mkdirs_for(path) == 0) {
            FILE *f = fopen(path, "wb");
            if (f) {
                fwrite(data, 1, len, f);
                fclose(f);
                snprintf(backed, sizeof backed, "%s [%s].torrent", safe, t->hex + 32);
            }
        }
        free(data);
    }
    copy_backups(c, t, recycle, backed, sizeof backed);
    if (*backed)
        am_log("Backing up %s to %s/torrents_export", backed, recycle);
    if (json_ok && path_mkdirs_for(json) == 0) {
        FILE *f = fopen(json, "w");
        if (f) {
            fprintf(f, "{\"torrent_name\": \"");
            for (const char *p = name; *p; p++)
                fprintf(f, (*p == '"' || *p == '\\') ? "\\%c" : ((unsigned char)*p < 0x20 ? "?" : "%c"), *p);
            fprintf(f, "\", \"category\": \"%s\", \"tracker\": \"%s\", \"deleted_contents\": %s}\n",
                    t->category ? t->category : "", tracker_url, deleted_contents ? "true" : "false");
            fclose(f);
        }
    }
    free(safe);
}

void am_delete(struct am_ctx *c, struct torrent *t, bool with_files)
{
    files_add(c, t, -1);
    /* Its files leave the orphan scan's view either way. */
    size_t nf = view_file_count(t);
    for (size_t i = 0; i < nf; i++) {
        struct view_file f;
        if (view_file(t, i, &f) == 0) {
            char *p = path_join(t->save_path, f.path);
            if (p) {
                strv_push(&c->deleted_paths, p);
                free(p);
            }
        }
    }
    if (c->dry)
        return;
    bool delete_files = with_files;
    if (c->recycle_enabled && *c->recycle_dir) {
        char recycle[4096];
        if (autocfg_bool(autocfg_at(c->cfg, "recyclebin", "split_by_category"), false)) {
            const char *base = strrchr(c->recycle_dir, '/');
            snprintf(recycle, sizeof recycle, "%s/%s", t->save_path, base ? base + 1 : c->recycle_dir);
        } else {
            snprintf(recycle, sizeof recycle, "%s", c->recycle_dir);
        }
        struct am_tracker tr;
        am_tracker_of(c, t, &tr);
        if (autocfg_bool(autocfg_at(c->cfg, "recyclebin", "save_torrents"), false))
            write_export(c, t, recycle, with_files, tr.url);
        if (with_files) {
            size_t moved = 0;
            for (size_t i = 0; i < nf; i++) {
                struct view_file f;
                if (view_file(t, i, &f) != 0)
                    continue;
                char *src = path_join(t->save_path, f.path);
                if (!src)
                    continue;
                const char *rel = src;
                size_t rl = strlen(c->root_dir);
                if (rl && strncmp(src, c->root_dir, rl) == 0)
                    rel = src + rl;
                while (*rel == '/')
                    rel++;
                char *dst = path_join(recycle, rel);
                int rc = dst ? move_file(src, dst) : -ENOMEM;
                if (rc == 0)
                    moved++;
                else if (rc == -ENOENT)
                    log_msg(LOG_WARNING, "qbit_manage: RecycleBin Warning - FileNotFound: No such file or directory: %s",
                            src);
                else
                    log_msg(LOG_WARNING, "qbit_manage: RecycleBin Warning: %s: %s", src, strerror(-rc));
                free(dst);
                free(src);
            }
            /* qbit_manage logs "Moved N files to" at DEBUG only: not here */
            /* What could not be moved is deleted with the torrent. */
            delete_files = moved < nf;
            char *root = NULL;
            const char *r = torrent_root_folder(t);
            if (r && *r && (root = path_join(t->save_path, r)))
                remove_empty_dirs(root, t->save_path);
            free(root);
        }
    }
    am_track(c, 0);
    torrent_remove(t, delete_files, am_service_done, c);
}

/* ---- cat_update ---- */

static bool fnmatch_or_equal(const char *path_slash, const char *pat)
{
    char buf[4096];
    size_t l = strlen(pat);
    snprintf(buf, sizeof buf, "%s%s", pat, l && pat[l - 1] == '/' ? "" : "/");
    return strcmp(buf, path_slash) == 0 || fnmatch(pat, path_slash, 0) == 0;
}

/* get_category: the categories whose path matches save_path, else its last
 * component.  Writes up to max names into out (pointers into the config or
 * into buf). */
static size_t category_of_path(const struct am_ctx *c, const char *save_path, const char **out, size_t max,
                               char *buf, size_t len)
{
    char path[4096];
    size_t l = strlen(save_path);
    snprintf(path, sizeof path, "%s%s", save_path, l && save_path[l - 1] == '/' ? "" : "/");
    const struct autocfg_node *cat = autocfg_at(c->cfg, "cat", NULL);
    size_t n = 0;
    for (size_t i = 0; cat && cat->kind == AUTOCFG_MAP && i < cat->n && n < max; i++) {
        const struct autocfg_node *v = cat->items[i];
        for (size_t k = 0; k < autocfg_list_len(v); k++)
            if (autocfg_list_at(v, k) && fnmatch_or_equal(path, autocfg_list_at(v, k))) {
                out[n++] = cat->keys[i];
                break;
            }
    }
    if (n)
        return n;
    /* path.split("/")[-2] */
    path[strlen(path) - 1] = '\0';
    const char *last = strrchr(path, '/');
    snprintf(buf, len, "%s", last ? last + 1 : path);
    out[0] = buf;
    log_msg(LOG_WARNING,
            "qbit_manage: No categories matched for the save path %s/. Check your config.yml file. - Setting category "
            "to %s",
            path, buf);
    char e[4700];
    snprintf(e, sizeof e,
             "No categories matched for the save path %s/. Check your config.yml file. - Setting category to %s", path,
             buf);
    am_notify_error(c, e, "Category", false);
    return 1;
}

static void update_cat(struct am_ctx *c, struct torrent *t, const char *new_cat, bool cat_change, json_t *attrs)
{
    struct am_tracker tr;
    am_tracker_of(c, t, &tr);
    char old_cat[256];
    snprintf(old_cat, sizeof old_cat, "%s", t->category ? t->category : "");
    if (!c->dry) {
        if (!catalog_category_find(c->s->catalog, new_cat)) {
            am_log("Existing category \"%s\" not found for save path %s, category will be created.", new_cat,
                   t->save_path);
            struct catalog_category_opts o = {.save_path = t->save_path};
            am_track(c, service_category_create(c->s, new_cat, &o, am_service_done, c));
        }
        am_track(c, service_set_category(c->s, t, new_cat, am_service_done, c));
        const struct autocfg_node *set = autocfg_at(c->cfg, "settings", NULL);
        if (!t->auto_tmm && autocfg_bool(autocfg_get(set, "force_auto_tmm"), false)) {
            const struct autocfg_node *ig = autocfg_get(set, "force_auto_tmm_ignore_tags");
            bool skip = false;
            for (size_t k = 0; k < autocfg_list_len(ig) && !skip; k++)
                skip = am_has_tag(t, autocfg_list_at(ig, k));
            if (!skip)
                am_track(c, service_set_auto_tmm(c->s, t, true, am_service_done, c));
        }
    }
    am_log("Torrent Name: %s", torrent_name(t));
    if (cat_change)
        am_log("Old Category: %s", old_cat);
    am_log("New Category: %s", new_cat);
    am_log("Tracker: %s", tr.url);
    c->st->categorized++;
    char body[2048], tags[1024];
    snprintf(body, sizeof body, "   Torrent Name: %s\n%s%s%s   New Category: %s\n        Tracker: %s", torrent_name(t),
             cat_change ? "   Old Category: " : "", cat_change ? old_cat : "", cat_change ? "\n" : "", new_cat, tr.url);
    tags_joined(&tr, tags, sizeof tags);
    attr_add(attrs, am_torrent_attr("cat_update", cat_change ? "Moving Categories" : "Updating Categories", body,
                                 torrent_name(t), new_cat, tags, &tr));
}

void am_cat_update(struct am_ctx *c)
{
    const struct autocfg_node *set = autocfg_at(c->cfg, "settings", NULL);
    bool completed = autocfg_bool(autocfg_get(set, "cat_filter_completed"), true);
    bool all = autocfg_bool(autocfg_get(set, "cat_update_all"), true);
    int64_t before = c->st->categorized;
    json_t *attrs = json_array();
    am_separator("Updating Categories");
    size_t n;
    struct torrent **v = am_list(c, true, &n);
    for (size_t i = 0; i < n; i++) {
        struct torrent *t = v[i];
        const char *cat = t->category ? t->category : "";
        if ((completed && !am_is_complete(t)) || (!all && !c->has_hashes && *cat))
            continue;
        if (!t->auto_tmm && *cat)
            continue;   /* manual and categorised: left alone */
        struct am_tracker tr;
        am_tracker_of(c, t, &tr);
        const char *cands[32];
        char buf[256];
        size_t nc;
        if (tr.cat) {
            cands[0] = tr.cat;
            nc = 1;
        } else {
            nc = category_of_path(c, t->save_path, cands, 32, buf, sizeof buf);
        }
        if (strcmp(cands[0], "Uncategorized") == 0)
            continue;
        bool have = false;
        for (size_t k = 0; k < nc; k++)
            have = have || strcmp(cands[k], cat) == 0;
        if (!have)
            update_cat(c, t, cands[0], false, attrs);
    }
    free(v);
    int64_t did = c->st->categorized - before;
    if (did >= 1)
        am_log("%s %lld new categories.", c->dry ? "Did not update" : "Updated", (long long)did);
    else
        am_log("No new torrents to categorize.");

    const struct autocfg_node *chg = autocfg_at(c->cfg, "cat_change", NULL);
    if (!chg || chg->kind != AUTOCFG_MAP || chg->n == 0) {
        am_notify(c, attrs, "category");
        return;
    }
    am_separator("Changing Categories");
    for (size_t k = 0; k < chg->n; k++) {
        const char *to = autocfg_str(chg->items[k], NULL);
        if (!to)
            continue;
        v = am_list(c, true, &n);
        for (size_t i = 0; i < n; i++) {
            struct torrent *t = v[i];
            if ((completed && !am_is_complete(t)) || strcmp(t->category ? t->category : "", chg->keys[k]) != 0)
                continue;
            update_cat(c, t, to, true, attrs);
        }
        free(v);
    }
    am_notify(c, attrs, "category");
}

/* ---- tag_update ---- */

void am_tag_update(struct am_ctx *c)
{
    const struct autocfg_node *set = autocfg_at(c->cfg, "settings", NULL);
    const char *stalled_tag = autocfg_str(autocfg_get(set, "stalled_tag"), "stalledDL");
    const char *private_tag = autocfg_str(autocfg_get(set, "private_tag"), NULL);
    bool tag_stalled = autocfg_bool(autocfg_get(set, "tag_stalled_torrents"), true);
    int64_t stats = 0;
    json_t *attrs = json_array();
    am_separator("Updating Tags");
    size_t n;
    struct torrent **v = am_list(c, true, &n);
    for (size_t i = 0; i < n; i++) {
        struct torrent *t = v[i];
        struct am_tracker tr;
        am_tracker_of(c, t, &tr);
        bool stalled = torrent_status_state(t, c->s->now_ms) == TORRENT_STATE_STALLED_DL;
        if (tag_stalled && am_has_tag(t, stalled_tag) && !stalled) {
            am_log("Torrent Name: %s", torrent_name(t));
            am_log("Removing Tag: %s", stalled_tag);
            am_log("Tracker: %s", tr.url);
            if (!c->dry)
                am_track(c, service_remove_tags(c->s, t, &stalled_tag, 1, am_service_done, c));
        }
        const char *add[20];
        size_t na = am_tracker_tags(&tr, add, 16);
        bool all_in = true;
        for (size_t k = 0; k < na; k++)
            all_in = all_in && am_has_tag(t, add[k]);
        bool priv = private_tag && *private_tag && torrent_private(t);
        if (t->tags.n == 0 || !all_in || (tag_stalled && stalled && !am_has_tag(t, stalled_tag)) ||
            (priv && !am_has_tag(t, private_tag))) {
            if (tag_stalled && stalled)
                add[na++] = stalled_tag;
            if (priv)
                add[na++] = private_tag;
            if (na == 0)
                continue;
            stats += (int64_t)na;
            char joined[1024];
            size_t off = 0;
            joined[0] = '\0';
            for (size_t k = 0; k < na && off < sizeof joined; k++)
                off += (size_t)snprintf(joined + off, sizeof joined - off, "%s%s", k ? ", " : "", add[k]);
            am_log("Torrent Name: %s", torrent_name(t));
            am_log("New Tag%s: %s", na > 1 ? "s" : "", joined);
            am_log("Tracker: %s", tr.url);
            if (!c->dry)
                am_track(c, service_add_tags(c->s, t, add, na, am_service_done, c));
            char body[2048], cbuf[256];
            snprintf(body, sizeof body, "   Torrent Name: %s\n        New Tag%s: %s\n        Tracker: %s",
                     torrent_name(t), na > 1 ? "s" : "", joined, tr.url);
            /* an uncategorised torrent reports the category its save path maps to */
            const char *tcat = t->category ? t->category : "";
            const char *cands[32];
            if (!*tcat && category_of_path(c, t->save_path, cands, 32, cbuf, sizeof cbuf))
                tcat = cands[0];
            attr_add(attrs, am_torrent_attr("tag_update", "Updating Tags", body, torrent_name(t), tcat, joined, &tr));
        }
    }
    free(v);
    am_notify(c, attrs, "tag");
    c->st->tagged += stats;
    if (stats >= 1)
        am_log("%s %lld new tags.", c->dry ? "Did not update" : "Updated", (long long)stats);
    else
        am_log("No new torrents to tag.");
}

/* ---- rem_unregistered / tag_tracker_error ---- */

void am_rem_unregistered(struct am_ctx *c)
{
    const struct autocfg_node *set = autocfg_at(c->cfg, "settings", NULL);
    const char *tag_error = autocfg_str(autocfg_get(set, "tracker_error_tag"), "issue");
    bool cfg_rem = c->cmds & AM_REM_UNREGISTERED, cfg_tag = c->cmds & AM_TAG_TRACKER_ERROR;
    const struct autocfg_node *ignore_list = autocfg_get(set, "rem_unregistered_ignore_list");
    bool filter_completed = autocfg_bool(autocfg_get(set, "rem_unregistered_filter_completed"), false);
    int64_t grace = autocfg_int(autocfg_get(set, "rem_unregistered_grace_minutes"), 10);
    int64_t max_del = autocfg_int(autocfg_get(set, "rem_unregistered_max_torrents"), 10);
    int64_t deleted = 0, deleted_contents = 0, tagged = 0, untagged = 0;

    if (cfg_tag && cfg_rem)
        am_separator("Tagging Torrents with Tracker Errors and Removing Unregistered Torrents");
    else if (cfg_tag)
        am_separator("Tagging Torrents with Tracker Errors");
    else
        am_separator("Removing Unregistered Torrents");

    size_t n;
    struct torrent **v = am_list(c, true, &n);
    /* The verdicts first: removals below change the list. */
    int *verdict = calloc(n ? n : 1, sizeof *verdict);
    json_t *untag_attrs = json_array(), *issue_attrs = json_array(), *unreg_attrs = json_array();
    for (size_t i = 0; verdict && i < n; i++) {
        int status;
        char msg[256];
        verdict[i] = tracker_verdict(v[i], &status, msg, sizeof msg);
    }
    /* remove_previous_errors */
    for (size_t i = 0; verdict && i < n; i++) {
        struct torrent *t = v[i];
        if (verdict[i] != 1 || !am_has_tag(t, tag_error))
            continue;
        struct am_tracker tr;
        am_tracker_of(c, t, &tr);
        untagged++;
        am_log("Previous Tagged %s torrent currently has a working tracker.", tag_error);
        am_log("Torrent Name: %s", torrent_name(t));
        am_log("Removed Tag: %s", tag_error);
        am_log("Tracker: %s", tr.url);
        if (!c->dry)
            am_track(c, service_remove_tags(c->s, t, &tag_error, 1, am_service_done, c));
        char body[2048];
        snprintf(body, sizeof body,
                 "Previous Tagged %s torrent currently has a working tracker.\n   Torrent Name: %s\n    Removed Tag: "
                 "%s\n        Tracker: %s",
                 tag_error, torrent_name(t), tag_error, tr.url);
        attr_add(untag_attrs, am_torrent_attr("untag_tracker_error", "Untagging Tracker Error Torrent", body,
                                           torrent_name(t), t->category ? t->category : "", tag_error, &tr));
    }
    am_notify(c, untag_attrs, "tag");
    /* process_torrent_issues */
    struct {
        char url[256];
        int64_t n;
    } *counts = calloc(n ? n : 1, sizeof *counts);
    size_t ncounts = 0;
    char summary[8192];
    size_t soff = 0;
    summary[0] = '\0';
    for (size_t i = 0; verdict && counts && i < n; i++) {
        struct torrent *t = v[i];
        if (verdict[i] != 2)
            continue;
        if (filter_completed && !am_is_complete(t))
            continue;
        /* The last tracker row, as qbit_manage's loop variable ends on it. */
        struct view_tracker e, last = {0};
        bool any = false, working = false;
        for (size_t k = 0; view_tracker(t, k, &e); k++) {
            last = e;
            any = true;
            if (tracker_scheme_ok(e.url) && e.status == 2)
                working = true;
        }
        if (!any || working)
            continue;
        struct am_tracker tr;
        const char *u = last.url;
        tracker_of_urls(c, &u, tracker_scheme_ok(u) || strncmp(u, "ws", 2) == 0 ? 1 : 0, &tr);
        /* Copies: removing the torrent frees its tracker rows. */
        char last_msg[256];
        snprintf(last_msg, sizeof last_msg, "%s", last.msg);
        int last_status = last.status;
        char msg_up[256];
        upper(last_msg, msg_up, sizeof msg_up);
        char t_name[512], t_cat[256];
        snprintf(t_name, sizeof t_name, "%s", torrent_name(t));
        snprintf(t_cat, sizeof t_cat, "%s", t->category ? t->category : "");
        bool has_err_tag = am_has_tag(t, tag_error);
        if (last_status < 4 || last_status > 6)
            continue;
        bool removed = false;
        if (cfg_rem) {
            bool unreg = list_in_text(msg_up, UNREGISTERED_MSGS) && !list_in_text(msg_up, IGNORE_MSGS);
            if (!unreg && strstr(tr.url, "tracker.beyond-hd.me")) {
                char filtered[256];
                snprintf(filtered, sizeof filtered, "%s", msg_up);
                char *colon = strchr(filtered, ':');
                if (colon)
                    *colon = '\0';
                unreg = list_in_text(filtered, UNREGISTERED_MSGS_BHD);
            }
            bool user_ignored = false;
            for (size_t k = 0; unreg && k < autocfg_list_len(ignore_list); k++) {
                char up[256];
                upper(autocfg_list_at(ignore_list, k) ? autocfg_list_at(ignore_list, k) : "", up, sizeof up);
                user_ignored = user_ignored || (*up && strstr(msg_up, up));
            }
            if (unreg && user_ignored) {
                am_log("Ignoring unregistered torrent %s due to matching phrase found in ignore list.", t_name);
            } else if (unreg) {
                double age = t->added_on > 0 ? (double)(time(NULL) - t->added_on) / 60.0 : 0;
                if (age < 0)
                    age = 0;
                if (grace > 0 && t->added_on > 0 && age < (double)grace) {
                    am_log("Skipping removal (within grace %lld min, age %.1f min): %s", (long long)grace, age, t_name);
                } else {
                    size_t ci = 0;
                    while (ci < ncounts && strcmp(counts[ci].url, tr.url) != 0)
                        ci++;
                    if (ci == ncounts) {
                        snprintf(counts[ci].url, sizeof counts[ci].url, "%s", tr.url);
                        counts[ci].n = 0;
                        ncounts++;
                    }
                    if (max_del > 0 && counts[ci].n >= max_del) {
                        am_log("Skipping removal (max limit of %lld reached for tracker %s): %s", (long long)max_del,
                               tr.url, t_name);
                    } else {
                        counts[ci].n++;
                        am_log("Torrent Name: %s", t_name);
                        am_log("Status: %s", last_msg);
                        am_log("Tracker: %s", tr.url);
                        const struct am_name *nm = am_name_info(c, t);
                        bool keep = am_has_cross_seed(c, t) && nm && (nm->msg_empty || nm->status_working);
                        if (keep) {
                            am_log("Deleted .torrent but NOT content files.");
                            deleted++;
                        } else {
                            am_log("Deleted .torrent AND content files.");
                            deleted_contents++;
                        }
                        char body[2048], tags[1024];
                        snprintf(body, sizeof body,
                                 "   Torrent Name: %s\n         Status: %s\n        Tracker: %s\n        Deleted "
                                 ".torrent %s content files.",
                                 t_name, last_msg, tr.url, keep ? "but NOT" : "AND");
                        tags_joined(&tr, tags, sizeof tags);
                        json_t *a = am_torrent_attr("rem_unregistered", "Removing Unregistered Torrents", body, t_name,
                                                 t_cat, tags, &tr);
                        if (a) {
                            json_object_set_new(a, "torrent_status", json_string(last_msg));
                            json_object_set_new(a, "torrents_deleted_and_contents", json_boolean(!keep));
                        }
                        attr_add(unreg_attrs, a);
                        am_delete(c, t, !keep);
                        removed = true;
                    }
                }
            }
        }
        if (cfg_tag && !has_err_tag) {
            soff += (size_t)snprintf(summary + soff, soff < sizeof summary ? sizeof summary - soff : 0,
                                     "Torrent Name: %s\nStatus: %s\nTracker: %s\nAdded Tag: %s\n", t_name, last_msg,
                                     tr.url, tag_error);
            if (soff > sizeof summary)
                soff = sizeof summary;
            tagged++;
            char body[2048];
            snprintf(body, sizeof body,
                     "   Torrent Name: %s\n         Status: %s\n        Tracker: %s\n      Added Tag: %s\n", t_name,
                     last_msg, tr.url, tag_error);
            json_t *a = am_torrent_attr("tag_tracker_error", "Tag Tracker Error Torrents", body, t_name, t_cat,
                                     tag_error, &tr);
            if (a)
                json_object_set_new(a, "torrent_status", json_string(last_msg));
            attr_add(issue_attrs, a);
            if (!c->dry && !removed)
                am_track(c, service_add_tags(c->s, t, &tag_error, 1, am_service_done, c));
        }
    }
    free(counts);
    free(verdict);
    free(v);
    am_notify(c, issue_attrs, "status");
    am_notify(c, unreg_attrs, "status");
    if (cfg_rem) {
        if (deleted >= 1 || deleted_contents >= 1) {
            if (deleted >= 1)
                am_log("%s %lld .torrent%s but not content files.", c->dry ? "Did not delete" : "Deleted",
                       (long long)deleted, deleted > 1 ? "s" : "");
            if (deleted_contents >= 1)
                am_log("%s %lld .torrent%s AND content files.", c->dry ? "Did not delete" : "Deleted",
                       (long long)deleted_contents, deleted_contents > 1 ? "s" : "");
        } else {
            am_log("No unregistered torrents found.");
        }
    }
    if (untagged >= 1)
        am_log("%s %s tags for %lld .torrent%s", c->dry ? "Did not delete" : "Deleted", tag_error, (long long)untagged,
               untagged > 1 ? "s." : ".");
    if (tagged >= 1) {
        am_separator("%lld Torrents with tracker errors found", (long long)tagged);
        char *save = NULL;
        for (char *line = strtok_r(summary, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            am_log("%s", line);
    }
    c->st->rem_unreg += deleted + deleted_contents;
    c->st->deleted += deleted;
    c->st->deleted_contents += deleted_contents;
    c->st->tagged_tracker_error += tagged;
    c->st->untagged_tracker_error += untagged;
    c->st->tagged += tagged;
}

/* ---- recheck ---- */

static int cmp_size(const void *a, const void *b)
{
    const struct torrent *x = *(struct torrent *const *)a, *y = *(struct torrent *const *)b;
    struct torrent_status sx, sy;
    torrent_status_now(x, &sx);
    torrent_status_now(y, &sy);
    return sx.wanted_size < sy.wanted_size ? -1 : sx.wanted_size > sy.wanted_size;
}

/* recheck.py's attr: its body is print_line's list of one line. */
static void recheck_attr(json_t *attrs, const char *title, const char *verb, const char *tags_py,
                         const struct torrent *t, const struct am_tracker *tr)
{
    char line[2048], tags[1024];
    snprintf(line, sizeof line, "%s [%s] - %s", verb, tags_py, torrent_name(t));
    tags_joined(tr, tags, sizeof tags);
    json_t *a = am_torrent_attr("recheck", title, line, torrent_name(t), t->category ? t->category : "", tags, tr);
    if (a)
        json_object_set_new(a, "body", json_pack("[s]", line));
    attr_add(attrs, a);
}

void am_recheck(struct am_ctx *c)
{
    am_separator("Rechecking Paused Torrents");
    size_t n, m = 0;
    struct torrent **v = am_list(c, true, &n);
    for (size_t i = 0; i < n; i++)
        if (v[i]->stopped)
            v[m++] = v[i];
    qsort(v, m, sizeof *v, cmp_size);
    json_t *resumed = json_array(), *rechecked = json_array();
    for (size_t i = 0; i < m; i++) {
        struct torrent *t = v[i];
        struct torrent_status st;
        torrent_status_now(t, &st);
        struct am_tracker tr;
        am_tracker_of(c, t, &tr);
        char tags[512];
        tags_repr(&tr, tags, sizeof tags);
        double rl = t->ratio_limit;
        int64_t sl = t->seeding_time_limit;
        bool finished = st.has_metadata && st.progress >= 1.0;
        if (finished) {
            bool resume = (rl < 0 && sl < 0) || (rl >= 0 && st.ratio < rl && sl < 0) ||
                          (sl >= 0 && st.seeding_time < sl * 60 && rl < 0) ||
                          (rl >= 0 && sl >= 0 && st.ratio < rl && st.seeding_time < sl * 60);
            if (resume) {
                c->st->resumed++;
                am_log("%s [%s] - %s", c->dry ? "Not Resuming" : "Resuming", tags, torrent_name(t));
                recheck_attr(resumed, "Resuming Torrent", c->dry ? "Not Resuming" : "Resuming", tags, t, &tr);
                if (!c->dry)
                    am_track(c, service_start(c->s, t, am_service_done, c));
            }
        } else if (st.has_metadata && st.progress <= 0.0) {
            const struct am_name *nm = am_name_info(c, t);
            enum torrent_state s = st.state;
            bool checking = s == TORRENT_STATE_CHECKING_DL || s == TORRENT_STATE_CHECKING_UP ||
                            s == TORRENT_STATE_CHECKING_RESUME;
            if (nm && nm->is_complete && !checking) {
                c->st->rechecked++;
                am_log("%s [%s] - %s", c->dry ? "Not Rechecking" : "Rechecking", tags, torrent_name(t));
                recheck_attr(rechecked, "Rechecking Torrent", c->dry ? "Not Rechecking" : "Rechecking", tags, t, &tr);
                if (!c->dry)
                    torrent_recheck(t);
            }
        }
    }
    free(v);
    am_notify(c, resumed, "tag");
    am_notify(c, rechecked, "tag");
}
