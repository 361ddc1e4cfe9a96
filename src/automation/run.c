/* automation's runs: the FIFO, one run at a time, the phases of one
 * config (loop commands → threadpool disk scans → share_limits → the
 * service commits), the schedule and the torrent hooks. */
#include "automation/automation.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "automation/am_int.h"
#include "automation/cron.h"
#include "core/notify.h"
#include "core/session.h"
#include "core/settings.h"
#include "core/torrent.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/path.h"

#define AM_STUCK_S 3600   /* qbit_manage resets a run flagged running this long */

static const char *const cmd_names[AM_NUM_CMDS] = {"cat_update",        "tag_update",   "rem_unregistered",
                                                   "tag_tracker_error", "recheck",      "rem_orphaned",
                                                   "tag_nohardlinks",   "share_limits"};

unsigned automation_cmd_parse(const char *name)
{
    for (unsigned i = 0; i < AM_NUM_CMDS; i++)
        if (strcmp(name, cmd_names[i]) == 0)
            return 1u << i;
    return 0;
}

const char *automation_cmd_name(unsigned i)
{
    return i < AM_NUM_CMDS ? cmd_names[i] : "";
}

struct am_req {
    struct am_req *next;
    unsigned cmds;
    char *config_file;
    char **hashes;
    size_t num_hashes;
    bool dry_run, skip_cleanup, quiet;
    char origin[32];
    automation_done_cb cb;
    void *ud;
};

struct am_run {
    struct automation *a;
    struct am_req *req;
    char **files;
    struct autocfg **cfgs;
    struct automation_stats *stats;
    size_t n, idx;
    struct am_ctx ctx;
    uv_work_t work;
    struct am_orphan_job job;
    bool job_busy;
    bool detached;             /* the automation stops: end at the next step, silently */
    int rc;
    char msg[1024];
    time_t started;
};

struct automation {
    struct session *s;
    struct am_req *head, *tail;
    size_t queued;
    struct am_run *cur;
    uv_timer_t kick, sched;
    bool kick_open, sched_open;
    char schedule[128];
    int64_t next_run;
    unsigned on_add, on_finish;
    int64_t runs, failed;
    struct notify_observer obs;
    bool stopping;
    unsigned live;             /* runs not finished (a detached one included) */
};

static void req_free(struct am_req *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->num_hashes; i++)
        free(r->hashes[i]);
    free(r->hashes);
    free(r->config_file);
    free(r);
}

static struct am_req *req_copy(const struct automation_request *q, automation_done_cb cb, void *ud)
{
    struct am_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->cmds = q->cmds;
    r->dry_run = q->dry_run;
    r->skip_cleanup = q->skip_cleanup;
    r->quiet = q->quiet;
    r->cb = cb;
    r->ud = ud;
    snprintf(r->origin, sizeof r->origin, "%s", q->origin ? q->origin : "api");
    if (q->config_file && !(r->config_file = strdup(q->config_file)))
        goto fail;
    if (q->num_hashes) {
        if (!(r->hashes = calloc(q->num_hashes, sizeof *r->hashes)))
            goto fail;
        for (size_t i = 0; i < q->num_hashes; i++, r->num_hashes++)
            if (!(r->hashes[i] = strdup(q->hashes[i])))
                goto fail;
    }
    return r;
fail:
    req_free(r);
    return NULL;
}

/* ---- config files ---- */

/* The glob under the profile (or absolute), sorted; *err on none. */
static int find_configs(struct automation *a, const char *pattern, char ***out, size_t *n, char *err, size_t errlen)
{
    /* The user's own pattern ("./config.yml", "configs/x*.yml"): not a
     * torrent's path, so no path_join sanitising. */
    size_t len = strlen(a->s->profile_dir) + strlen(pattern) + 2;
    char *full = malloc(len);
    if (!full)
        return -ENOMEM;
    if (pattern[0] == '/')
        snprintf(full, len, "%s", pattern);
    else
        snprintf(full, len, "%s/%s", a->s->profile_dir, pattern);
    glob_t g;
    int rc = glob(full, 0, NULL, &g);
    if (rc != 0) {
        snprintf(err, errlen, "No config files found matching %s", pattern);
        free(full);
        if (rc != GLOB_NOMATCH)
            globfree(&g);
        return -ENOENT;
    }
    free(full);
    char **v = calloc(g.gl_pathc, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; v && i < g.gl_pathc; i++)
        if (!(v[k] = strdup(g.gl_pathv[i])))
            break;
        else
            k++;
    globfree(&g);
    if (!v || k == 0) {
        free(v);
        return -ENOMEM;
    }
    *out = v;
    *n = k;
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* ---- the schedule and the hooks (from the first config) ---- */

static void arm_schedule(struct automation *a);

static unsigned cmds_of_list(const struct autocfg_node *l)
{
    unsigned bits = 0;
    for (size_t i = 0; i < autocfg_list_len(l); i++)
        if (autocfg_list_at(l, i))
            bits |= automation_cmd_parse(autocfg_list_at(l, i));
    return bits;
}

static void reload_hooks(struct automation *a)
{
    char **files = NULL, err[512];
    size_t n = 0;
    a->schedule[0] = '\0';
    a->on_add = a->on_finish = 0;
    const char *pat = settings_str(&a->s->settings, SET_AUTOMATION_CONFIG_FILE);
    if (find_configs(a, *pat ? pat : "config.yml", &files, &n, err, sizeof err) != 0) {
        log_msg(LOG_INFO, "automation: %s", err);
        return;
    }
    struct autocfg *c = NULL;
    if (autocfg_load(files[0], &c, err, sizeof err) == 0) {
        snprintf(a->schedule, sizeof a->schedule, "%s", autocfg_str(autocfg_at(c, "automation", "schedule"), ""));
        a->on_add = cmds_of_list(autocfg_at(c, "automation", "on_add"));
        a->on_finish = cmds_of_list(autocfg_at(c, "automation", "on_finish"));
        autocfg_free(c);
    } else {
        log_msg(LOG_WARNING, "automation: %s", err);
    }
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
}

static void on_sched(uv_timer_t *h)
{
    struct automation *a = h->data;
    a->next_run = -1;
    struct automation_request r = {.origin = "schedule"};
    if (automation_submit(a, &r, NULL, NULL) < 0)
        log_msg(LOG_WARNING, "automation: the scheduled run could not start");
    if (a->queued)
        arm_schedule(a);   /* the run was queued: the next one is counted from now */
}

static void arm_schedule(struct automation *a)
{
    if (!a->sched_open || a->stopping)
        return;
    uv_timer_stop(&a->sched);
    a->next_run = -1;
    if (!a->schedule[0])
        return;
    time_t now = time(NULL);
    int64_t at = -1;
    struct cron cr;
    double minutes;
    if (strchr(a->schedule, ' ') && cron_parse(a->schedule, &cr) == 0)
        at = cron_next(&cr, now);
    else if (autocfg_duration_parse(a->schedule, &minutes) == 0 && minutes > 0)
        at = -2;
    else {
        log_msg(LOG_WARNING, "automation: schedule \"%s\" is neither a duration nor a cron expression", a->schedule);
        return;
    }
    uint64_t ms;
    if (at == -2) {
        ms = (uint64_t)(minutes * 60000.0);
        a->next_run = (int64_t)now + (int64_t)(ms / 1000);
    } else if (at > 0) {
        ms = (uint64_t)(at - now) * 1000;
        a->next_run = at;
    } else {
        return;
    }
    uv_timer_start(&a->sched, on_sched, ms ? ms : 1, 0);
    log_msg(LOG_INFO, "automation: next scheduled run in %llu s (schedule \"%s\")", (unsigned long long)(ms / 1000),
            a->schedule);
}

static void on_settings(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    struct automation *a = ud;
    reload_hooks(a);
    arm_schedule(a);
}

static void hook_submit(struct automation *a, struct torrent *t, unsigned cmds, const char *origin)
{
    if (!cmds || a->stopping)
        return;
    const char *h = t->hex;
    struct automation_request r = {.cmds = cmds, .hashes = &h, .num_hashes = 1, .origin = origin};
    automation_submit(a, &r, NULL, NULL);
}

static void on_added(void *ud, struct torrent *t)
{
    struct automation *a = ud;
    hook_submit(a, t, a->on_add, "on_add");
}

static void on_finished(void *ud, struct torrent *t)
{
    struct automation *a = ud;
    hook_submit(a, t, a->on_finish, "on_finish");
}

/* ---- one run ---- */

static void run_next_config(struct am_run *r);
static void start_next(struct automation *a);

static void ctx_release(struct am_ctx *c)
{
    void am_ctx_names_free(struct am_ctx *c);
    am_ctx_names_free(c);
    hmap_free(&c->hashes);
    for (size_t i = 0; i < c->num_hash_keys; i++)
        free(c->hash_keys[i]);
    free(c->hash_keys);
    c->hash_keys = NULL;
    c->num_hash_keys = 0;
    strv_clear(&c->deleted_paths);
    if (c->errors_sent)
        strv_clear(c->errors_sent);
    free(c->errors_sent);
    c->errors_sent = NULL;
    free(c->root_dir), free(c->remote_dir), free(c->orphaned_dir), free(c->recycle_dir), free(c->torrents_dir);
    c->root_dir = c->remote_dir = c->orphaned_dir = c->recycle_dir = c->torrents_dir = NULL;
}

static void job_release(struct am_orphan_job *j)
{
    free(j->root_dir), free(j->orphaned_dir), free(j->recycle_dir);
    strv_clear(&j->torrent_files);
    strv_clear(&j->excludes);
    strv_clear(&j->orphans);
    strv_clear(&j->log);
    for (size_t i = 0; i < j->num_nohl; i++)
        free(j->nohl[i].content_path);
    free(j->nohl);
    memset(j, 0, sizeof *j);
}

static void run_free(struct am_run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->files[i]);
        autocfg_free(r->cfgs ? r->cfgs[i] : NULL);
    }
    free(r->files);
    free(r->cfgs);
    free(r->stats);
    ctx_release(&r->ctx);
    job_release(&r->job);
    req_free(r->req);
    free(r);
}

static void run_finish(struct am_run *r)
{
    struct automation *a = r->a;
    bool mine = a->cur == r;
    if (mine)
        a->cur = NULL;
    am_log_quiet = false;
    a->runs++;
    if (r->rc)
        a->failed++;
    if (r->rc)
        log_msg(LOG_WARNING, "automation: %s run failed: %s", r->req->origin, r->msg);
    else
        log_msg(LOG_INFO, "automation: %s run done (%zu config%s)", r->req->origin, r->n, r->n == 1 ? "" : "s");
    if (r->req->cb && !a->stopping) {
        const char **names = calloc(r->n ? r->n : 1, sizeof *names);
        for (size_t i = 0; names && i < r->n; i++)
            names[i] = base_name(r->files[i]);
        struct automation_result res = {.rc = names ? r->rc : -ENOMEM,
                                        .msg = r->msg,
                                        .n = r->n,
                                        .config_files = names,
                                        .stats = r->stats};
        r->req->cb(r->req->ud, &res);
        free(names);
    }
    bool sched = strcmp(r->req->origin, "schedule") == 0;
    run_free(r);
    a->live--;
    if (a->stopping) {
        if (!a->live && !a->kick_open && !a->sched_open)
            free(a);
        return;
    }
    {
        reload_hooks(a);
        if (sched || a->next_run < 0)
            arm_schedule(a);
        start_next(a);
    }
}

/* Waits for the service calls in flight, then fn. */
static void after_commits(struct am_run *r, void (*fn)(struct am_ctx *c))
{
    if (r->ctx.pending == 0) {
        fn(&r->ctx);
        return;
    }
    r->ctx.resume = fn;
}

static struct am_run *run_of(struct am_ctx *c)
{
    return (struct am_run *)((char *)c - offsetof(struct am_run, ctx));
}

static void config_done(struct am_ctx *c)
{
    struct am_run *r = run_of(c);
    const char *name = base_name(r->files[r->idx]);
    struct automation_stats *st = &r->stats[r->idx];
    am_webhook_end(c, c->started, time(NULL), r->a->next_run);
    if (!am_log_quiet)   /* (run-command's log_level) */
        log_msg(LOG_INFO,
                "qbit_manage: Finished run for %s: categorized %lld, tagged %lld, rem_unreg %lld, deleted %lld, "
                "deleted_contents %lld, orphaned %lld, tagged_noHL %lld, updated_share_limits %lld",
                name, (long long)st->categorized, (long long)st->tagged, (long long)st->rem_unreg,
                (long long)st->deleted, (long long)st->deleted_contents, (long long)st->orphaned,
                (long long)st->tagged_noHL, (long long)st->updated_share_limits);
    ctx_release(&r->ctx);
    r->idx++;
    run_next_config(r);
}

static void phase_share(struct am_ctx *c)
{
    struct am_run *r = run_of(c);
    if (r->detached || r->a->stopping) {
        run_finish(r);
        return;
    }
    if (c->cmds & AM_SHARE_LIMITS) {
        am_share_limits(c);
        c->st->executed |= AM_SHARE_LIMITS;
    }
    after_commits(r, config_done);
}

static void disk_work(uv_work_t *w)
{
    struct am_run *r = w->data;
    am_disk_work(&r->job);
}

/* remove_orphaned.py's attr: the sorted files, then what happens to them. */
static void notify_orphans(struct am_ctx *c, const struct am_orphan_job *j)
{
    size_t n = j->orphans.n;
    if (n == 0)
        return;
    struct buf body = {0};
    json_t *files = json_array();
    for (size_t i = 0; i < n; i++) {
        buf_appendf(&body, "%s%s", i ? "\n" : "", j->orphans.v[i]);
        json_array_append_new(files, json_string(j->orphans.v[i]));
    }
    if (j->empty_after_days == 0)
        buf_appendf(&body, "\n%s %zu Orphaned files", c->dry ? "Not Deleting" : "Deleting", n);
    else
        buf_appendf(&body, "\n%s %zu Orphaned files to %s", c->dry ? "Not moving" : "Moving", n, j->orphaned_dir);
    buf_append_u8(&body, 0);
    char title[64];
    snprintf(title, sizeof title, "Removing %zu Orphaned Files", n);
    json_t *a = body.err ? NULL
                         : json_pack("{s:s,s:s,s:s,s:O,s:s,s:I}", "function", "rem_orphaned", "title", title, "body",
                                     (const char *)buf_head(&body), "orphaned_files", files, "orphaned_directory",
                                     j->orphaned_dir, "total_orphaned_files", (json_int_t)n);
    if (a)
        am_send_notification(c, a);
    json_decref(a);
    json_decref(files);
    buf_free(&body);
}

static void disk_done(uv_work_t *w, int status)
{
    struct am_run *r = w->data;
    struct am_ctx *c = &r->ctx;
    r->job_busy = false;
    if (status == UV_ECANCELED || r->a->stopping) {
        run_finish(r);
        return;
    }
    for (size_t i = 0; i < r->job.log.n; i++) {
        const char *line = r->job.log.v[i];
        if (line[0] == 'W')
            log_msg(LOG_WARNING, "qbit_manage: %s", line + 2);
        else if (line[0] == 'S')
            am_separator("%s", line + 2);
        else
            am_log("%s", line + 2);
    }
    c->st->recycle_emptied += r->job.recycle_emptied;
    c->st->orphaned_emptied += r->job.orphaned_emptied;
    if (c->cmds & AM_REM_ORPHANED) {
        c->st->orphaned += r->job.moved;
        c->st->executed |= AM_REM_ORPHANED;
        notify_orphans(c, &r->job);
    }
    if (c->cmds & AM_TAG_NOHARDLINKS) {
        am_nohl_apply(c, r->job.nohl, r->job.num_nohl);
        c->st->executed |= AM_TAG_NOHARDLINKS;
    }
    job_release(&r->job);
    phase_share(c);
}

static char *dup_dir(const char *s)
{
    char *d = strdup(s ? s : "");
    size_t l = d ? strlen(d) : 0;
    while (l > 1 && d[l - 1] == '/')
        d[--l] = '\0';
    return d;
}

static void add_file_paths(struct strv *out, const struct torrent *t);

/* The disk phase's inputs, copied on the loop. */
static bool phase_disk_prepare(struct am_run *r)
{
    struct am_ctx *c = &r->ctx;
    struct am_orphan_job *j = &r->job;
    memset(j, 0, sizeof *j);
    j->dry = c->dry;
    j->run_orphans = c->cmds & AM_REM_ORPHANED;
    j->root_dir = dup_dir(c->root_dir);
    j->orphaned_dir = dup_dir(c->orphaned_dir);
    j->recycle_dir = dup_dir(c->recycle_enabled ? c->recycle_dir : "");
    if (!j->root_dir || !j->orphaned_dir || !j->recycle_dir)
        return false;
    const struct autocfg_node *o = autocfg_at(c->cfg, "orphaned", NULL);
    j->min_age_minutes = autocfg_int(autocfg_get(o, "min_file_age_minutes"), 0);
    j->max_files = autocfg_int(autocfg_get(o, "max_orphaned_files_to_delete"), 50);
    j->empty_after_days = autocfg_int(autocfg_get(o, "empty_after_x_days"), -1);
    j->recycle_days = j->orphan_days = -1;
    if (!r->req->skip_cleanup) {
        if (c->recycle_enabled)
            j->recycle_days = autocfg_int(autocfg_at(c->cfg, "recyclebin", "empty_after_x_days"), -1);
        if (j->run_orphans)
            j->orphan_days = j->empty_after_days;
    }
    if (j->run_orphans) {
        if (!*j->root_dir)
            log_msg(LOG_WARNING, "qbit_manage: rem_orphaned needs directory.root_dir: skipped");
        const struct autocfg_node *ex = autocfg_get(o, "exclude_patterns");
        for (size_t i = 0; i < autocfg_list_len(ex); i++)
            if (autocfg_list_at(ex, i))
                strv_push(&j->excludes, autocfg_list_at(ex, i));
        char pat[4200];
        snprintf(pat, sizeof pat, "**/%s/*", base_name(j->orphaned_dir));
        strv_push(&j->excludes, pat);
        if (*j->recycle_dir) {
            snprintf(pat, sizeof pat, "**/%s/*", base_name(j->recycle_dir));
            strv_push(&j->excludes, pat);
        }
        size_t n;
        struct torrent **v = am_list(c, false, &n);
        for (size_t i = 0; v && i < n; i++)
            add_file_paths(&j->torrent_files, v[i]);
        free(v);
        for (size_t i = 0; i < c->deleted_paths.n; i++)
            strv_push(&j->torrent_files, c->deleted_paths.v[i]);
    }
    if (c->cmds & AM_TAG_NOHARDLINKS)
        j->nohl = am_nohl_collect(c, &j->num_nohl);
    return true;
}

#include "core/view.h"
static void add_file_paths(struct strv *out, const struct torrent *t)
{
    /* Incomplete torrents with a download path have their files there. */
    const char *base = !am_is_complete(t) && t->download_path && *t->download_path ? t->download_path : t->save_path;
    size_t nf = view_file_count(t);
    for (size_t i = 0; i < nf; i++) {
        struct view_file f;
        if (view_file(t, i, &f) != 0)
            continue;
        char *p = path_join(base, f.path);
        if (p) {
            strv_push(out, p);
            free(p);
        }
    }
}

static void phase_disk(struct am_ctx *c)
{
    struct am_run *r = run_of(c);
    if (r->detached || r->a->stopping) {
        run_finish(r);
        return;
    }
    bool cleanup = !r->req->skip_cleanup &&
                   ((c->recycle_enabled && *c->recycle_dir &&
                     autocfg_int(autocfg_at(c->cfg, "recyclebin", "empty_after_x_days"), -1) >= 0) ||
                    ((c->cmds & AM_REM_ORPHANED) &&
                     autocfg_int(autocfg_at(c->cfg, "orphaned", "empty_after_x_days"), -1) >= 0));
    if (!(c->cmds & (AM_REM_ORPHANED | AM_TAG_NOHARDLINKS)) && !cleanup) {
        phase_share(c);
        return;
    }
    if (!phase_disk_prepare(r)) {
        job_release(&r->job);
        phase_share(c);
        return;
    }
    r->work.data = r;
    if (uv_queue_work(r->a->s->loop, &r->work, disk_work, disk_done) != 0) {
        job_release(&r->job);
        phase_share(c);
        return;
    }
    r->job_busy = true;
}

/* Turns off qBittorrent's own share limits (disable_qbt_default_share_limits). */
static void disable_default_limits(struct am_ctx *c)
{
    struct settings *p = &c->s->settings;
    if (settings_int(p, SET_MAX_RATIO_ACT) == 0 && !settings_bool(p, SET_MAX_RATIO_ENABLED) &&
        !settings_bool(p, SET_MAX_SEEDING_TIME_ENABLED) && !settings_bool(p, SET_MAX_INACTIVE_SEEDING_TIME_ENABLED))
        return;
    am_log("Disabling qBittorrent default share limits to allow qbm to manage share limits.");
    struct settings_mask changed = {0};
    settings_set_int(p, SET_MAX_RATIO_ACT, 0, &changed);
    settings_set_bool(p, SET_MAX_SEEDING_TIME_ENABLED, false, &changed);
    settings_set_bool(p, SET_MAX_RATIO_ENABLED, false, &changed);
    settings_set_bool(p, SET_MAX_INACTIVE_SEEDING_TIME_ENABLED, false, &changed);
    am_track(c, session_settings_changed(c->s, &changed, am_service_done, c));
}

static void run_config(struct am_run *r)
{
    struct am_ctx *c = &r->ctx;
    const struct autocfg *cfg = r->cfgs[r->idx];
    const struct autocfg_node *cmds = autocfg_at(cfg, "commands", NULL);
    memset(c, 0, sizeof *c);
    c->s = r->a->s;
    c->cfg = cfg;
    c->st = &r->stats[r->idx];
    c->cmds = r->req->cmds;
    c->dry = r->req->dry_run;
    am_log_quiet = r->req->quiet;
    if (!c->cmds) {   /* a scheduled run: the config's commands and flags */
        for (unsigned i = 0; i < AM_NUM_CMDS; i++)
            if (autocfg_bool(autocfg_get(cmds, cmd_names[i]), false))
                c->cmds |= 1u << i;
        c->dry = c->dry || autocfg_bool(autocfg_get(cmds, "dry_run"), false);
        r->req->skip_cleanup = r->req->skip_cleanup || autocfg_bool(autocfg_get(cmds, "skip_cleanup"), false);
    }
    if (r->req->num_hashes) {
        c->has_hashes = true;
        c->hash_keys = calloc(r->req->num_hashes, sizeof *c->hash_keys);
        for (size_t i = 0; c->hash_keys && i < r->req->num_hashes; i++) {
            char *h = strdup(r->req->hashes[i]);
            if (!h)
                break;
            for (char *p = h; *p; p++)
                *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
            c->hash_keys[c->num_hash_keys++] = h;
            hmap_put(&c->hashes, h, strlen(h), (void *)1, NULL);
        }
    }
    const struct autocfg_node *dir = autocfg_at(cfg, "directory", NULL);
    c->root_dir = dup_dir(autocfg_str(autocfg_get(dir, "root_dir"), ""));
    c->remote_dir = dup_dir(autocfg_str(autocfg_get(dir, "remote_dir"), ""));
    c->torrents_dir = dup_dir(autocfg_str(autocfg_get(dir, "torrents_dir"), ""));
    c->recycle_enabled = autocfg_bool(autocfg_at(cfg, "recyclebin", "enabled"), true);
    const char *rb = autocfg_str(autocfg_get(dir, "recycle_bin"), NULL);
    const char *od = autocfg_str(autocfg_get(dir, "orphaned_dir"), NULL);
    char buf[4200];
    snprintf(buf, sizeof buf, "%s/.RecycleBin", c->root_dir ? c->root_dir : "");
    c->recycle_dir = dup_dir(rb ? rb : c->root_dir && *c->root_dir ? buf : "");
    snprintf(buf, sizeof buf, "%s/orphaned_data", c->root_dir ? c->root_dir : "");
    c->orphaned_dir = dup_dir(od ? od : c->root_dir && *c->root_dir ? buf : "");
    if (!c->root_dir || !c->remote_dir || !c->torrents_dir || !c->recycle_dir || !c->orphaned_dir) {
        r->rc = -ENOMEM;
        snprintf(r->msg, sizeof r->msg, "out of memory");
        run_finish(r);
        return;
    }

    if (!am_log_quiet)
        log_msg(LOG_INFO, "qbit_manage: Run start: %s, commands 0x%02x%s, %s", base_name(r->files[r->idx]),
                c->cmds, c->dry ? " (dry run)" : "", r->req->origin);
    c->started = time(NULL);
    c->errors_sent = calloc(1, sizeof *c->errors_sent);   /* NULL: errors are not deduplicated */
    am_webhook_start(c, strcmp(r->req->origin, "api") == 0, r->req->skip_cleanup, c->started);
    if ((c->cmds & AM_SHARE_LIMITS) && !c->dry &&
        autocfg_bool(autocfg_at(cfg, "settings", "disable_qbt_default_share_limits"), true))
        disable_default_limits(c);
    if (c->cmds & (AM_RECHECK | AM_REM_UNREGISTERED | AM_TAG_TRACKER_ERROR | AM_TAG_NOHARDLINKS | AM_SHARE_LIMITS) ||
        autocfg_bool(autocfg_at(cfg, "settings", "force_auto_tmm"), false))
        am_build_torrentinfo(c);
    if (c->cmds & AM_CAT_UPDATE) {
        am_cat_update(c);
        c->st->executed |= AM_CAT_UPDATE;
    }
    if (c->cmds & AM_TAG_UPDATE) {
        am_tag_update(c);
        c->st->executed |= AM_TAG_UPDATE;
    }
    if (c->cmds & (AM_REM_UNREGISTERED | AM_TAG_TRACKER_ERROR)) {
        am_rem_unregistered(c);
        c->st->executed |= c->cmds & (AM_REM_UNREGISTERED | AM_TAG_TRACKER_ERROR);
    }
    if (c->cmds & AM_RECHECK) {
        am_recheck(c);
        c->st->executed |= AM_RECHECK;
    }
    after_commits(r, phase_disk);
}

static void run_next_config(struct am_run *r)
{
    if (r->detached || r->a->stopping || r->idx >= r->n) {
        run_finish(r);
        return;
    }
    run_config(r);
}

static void run_start(struct automation *a, struct am_req *q)
{
    struct am_run *r = calloc(1, sizeof *r);
    if (!r) {
        req_free(q);
        return;
    }
    r->a = a;
    r->req = q;
    r->started = time(NULL);
    a->live++;
    a->cur = r;
    const char *pat = q->config_file && *q->config_file ? q->config_file
                                                        : settings_str(&a->s->settings, SET_AUTOMATION_CONFIG_FILE);
    r->rc = find_configs(a, *pat ? pat : "config.yml", &r->files, &r->n, r->msg, sizeof r->msg);
    if (r->rc == 0) {
        r->cfgs = calloc(r->n, sizeof *r->cfgs);
        r->stats = calloc(r->n, sizeof *r->stats);
        if (!r->cfgs || !r->stats) {
            r->rc = -ENOMEM;
            snprintf(r->msg, sizeof r->msg, "out of memory");
        }
    }
    /* Every file is checked before anything runs: one bad file changes nothing. */
    for (size_t i = 0; r->rc == 0 && i < r->n; i++)
        r->rc = autocfg_load(r->files[i], &r->cfgs[i], r->msg, sizeof r->msg);
    if (r->rc) {
        run_finish(r);
        return;
    }
    run_next_config(r);
}

static void on_kick(uv_timer_t *h)
{
    struct automation *a = h->data;
    if (a->cur || !a->head || a->stopping)
        return;
    struct am_req *q = a->head;
    a->head = q->next;
    if (!a->head)
        a->tail = NULL;
    a->queued--;
    log_msg(LOG_INFO, "automation: running the queued %s request", q->origin);
    run_start(a, q);
}

/* The next queued request, from the loop (not inside a callback chain). */
static void start_next(struct automation *a)
{
    if (a->head && a->kick_open && !a->stopping)
        uv_timer_start(&a->kick, on_kick, 0, 0);
}

int automation_submit(struct automation *a, const struct automation_request *req, automation_done_cb cb, void *ud)
{
    if (a->stopping)
        return -ECANCELED;
    if (a->cur && time(NULL) - a->cur->started > AM_STUCK_S) {
        log_msg(LOG_WARNING, "automation: a run has been in progress for over %d s: considered stuck, reset",
                AM_STUCK_S);
        automation_force_reset(a);
    }
    bool busy = a->cur || a->head;
    struct am_req *q = req_copy(req, busy ? NULL : cb, busy ? NULL : ud);
    if (!q)
        return -ENOMEM;
    if (busy) {
        if (a->tail)
            a->tail->next = q;
        else
            a->head = q;
        a->tail = q;
        a->queued++;
        log_msg(LOG_INFO, "automation: %s request queued behind the run in progress (%zu waiting)", q->origin,
                a->queued);
        start_next(a);
        return 1;
    }
    run_start(a, q);
    return 0;
}

bool automation_force_reset(struct automation *a)
{
    struct am_run *r = a->cur;
    if (!r)
        return false;
    /* As qbit_manage's: only the flag is reset.  The run goes on and
     * answers its requester; run_finish sees it is no longer a->cur. */
    a->cur = NULL;
    log_msg(LOG_WARNING, "automation: force reset: the run in progress is no longer waited for");
    start_next(a);
    return true;
}

void automation_state(const struct automation *a, struct automation_state *out)
{
    out->running = a->cur != NULL;
    out->queued = a->queued;
    out->next_run = a->next_run;
    out->runs = a->runs;
    out->failed_runs = a->failed;
    out->schedule = a->schedule;
}

int automation_start(struct session *s, struct automation **out)
{
    struct automation *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    a->s = s;
    a->next_run = -1;
    uv_timer_init(s->loop, &a->kick);
    uv_timer_init(s->loop, &a->sched);
    a->kick.data = a->sched.data = a;
    a->kick_open = a->sched_open = true;
    a->obs = (struct notify_observer){.added = on_added, .finished = on_finished, .ud = a};
    notify_set_observer(s, &a->obs);
    int rc = settings_add_hook(&s->settings, SG_AUTOMATION, on_settings, a);
    if (rc) {
        notify_set_observer(s, NULL);
        uv_close((uv_handle_t *)&a->kick, NULL);
        uv_close((uv_handle_t *)&a->sched, NULL);
        return rc;   /* the handles close on the loop; a leaks only in this unlikely case */
    }
    reload_hooks(a);
    arm_schedule(a);
    *out = a;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    struct automation *a = h->data;
    if (h == (uv_handle_t *)&a->kick)
        a->kick_open = false;
    else
        a->sched_open = false;
    if (!a->kick_open && !a->sched_open && !a->live)
        free(a);
}

void automation_stop(struct automation *a)
{
    if (!a)
        return;
    a->stopping = true;
    notify_set_observer(a->s, NULL);
    while (a->head) {
        struct am_req *q = a->head;
        a->head = q->next;
        req_free(q);
    }
    a->tail = NULL;
    a->queued = 0;
    /* A run in progress ends at its next step (a disk scan finishes first;
     * service commits complete as the store closes) and frees a if last. */
    if (a->cur) {
        a->cur->detached = true;
        a->cur->req->cb = NULL;
    }
    uv_close((uv_handle_t *)&a->kick, on_closed);
    uv_close((uv_handle_t *)&a->sched, on_closed);
}
