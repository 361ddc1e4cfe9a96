#include "core/ipfilter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "bt/tracker/tracker.h"
#include "core/banlist.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/torrent.h"
#include "util/iprange.h"
#include "util/log.h"

#define IPFILTER_READ_CHUNK (1u << 20)
#define IPFILTER_POLL_MS 1000   /* how soon an edited file is read again */

struct ipfilter_job;

struct ipfilter {
    struct session *s;
    struct iprange_set set;        /* the live filter (empty when off) */
    bool have_set;
    struct ipfilter_job *job;      /* the load on a worker, NULL when none */
    bool again;                    /* asked to load again while one ran */
    uv_fs_poll_t *poll;            /* watches the file; heap: closes after we go */
    char *polled_path;
    unsigned loads;
};

struct ipfilter_job {
    uv_work_t work;
    struct ipfilter *f;            /* NULL once ipfilter_stop let it go */
    char *path;
    enum iprange_format fmt;
    int rc;                        /* opening or reading the file; -ENOMEM */
    bool bad_p2b;
    size_t rules, errors, first_error_line;
    struct iprange_set set;
};

static void job_free(struct ipfilter_job *j)
{
    iprange_set_free(&j->set);
    free(j->path);
    free(j);
}

/* ---- the worker ---- */

static void load_work(uv_work_t *w)
{
    struct ipfilter_job *j = w->data;
    struct iprange_parser *p = NULL;
    if (j->fmt == IPRANGE_NONE)
        return;   /* qBittorrent reads only .dat, .p2p, .p2b: no rules */
    int fd = open(j->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        j->rc = -errno;
        return;
    }
    uint8_t *buf = malloc(IPFILTER_READ_CHUNK);
    int rc = buf ? iprange_parser_new(j->fmt, &p) : -ENOMEM;
    while (rc == 0) {
        ssize_t n = read(fd, buf, IPFILTER_READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        rc = iprange_parser_feed(p, buf, (size_t)n);
    }
    close(fd);
    free(buf);
    if (p && rc == 0) {
        struct iprange_stats st;
        rc = iprange_parser_finish(p, &j->set, &st);   /* frees p */
        j->rules = st.rules;
        j->errors = st.errors;
        j->first_error_line = st.first_error_line;
        j->bad_p2b = st.bad;
    } else {
        iprange_parser_free(p);
    }
    j->rc = rc;
}

/* ---- on the loop ---- */

static bool enabled(const struct session *s)
{
    return settings_bool(&s->settings, SET_IP_FILTER_ENABLED);
}

static bool peer_blocked(const struct ipfilter *f, const struct peer *p)
{
    return iprange_has_addr(&f->set, (const struct sockaddr *)&p->addr);
}

/* libtorrent's set_ip_filter: connections from addresses the new filter
 * holds are closed (bans do the same in banlist.c). */
static void disconnect_blocked(struct ipfilter *f)
{
    struct session *s = f->s;
    struct peer *next;
    for (struct peer *p = s->handshaking; p; p = next) {
        next = p->next;
        if (peer_blocked(f, p)) {
            banlist_log(s, p->ip, true, "IP filter");
            peer_close(p, "IP filter");
        }
    }
    for (size_t i = 0; i < s->num_torrents; i++)
        for (struct peer *p = s->torrents[i]->peers; p; p = next) {
            next = p->next;
            if (peer_blocked(f, p)) {
                banlist_log(s, p->ip, true, "IP filter");
                peer_close(p, "IP filter");
            }
        }
}

static void start_load(struct ipfilter *f);

static void load_done(uv_work_t *w, int status)
{
    struct ipfilter_job *j = w->data;
    struct ipfilter *f = j->f;
    if (!f || status != 0) {
        if (f)
            f->job = NULL;
        job_free(j);
        return;
    }
    f->job = NULL;
    if (f->again || !enabled(f->s)) {
        /* The settings moved on while this one read: its result is stale. */
        job_free(j);
        f->again = false;
        if (enabled(f->s))
            start_load(f);
        return;
    }
    if (j->rc < 0 && j->rc != -ENOENT) {
        log_msg(LOG_CRITICAL, "IP filter: cannot read %s: %s", j->path, strerror(-j->rc));
    } else {
        if (j->bad_p2b)
            log_msg(LOG_CRITICAL, "IP filter: %s is not a valid PeerGuardian P2B file", j->path);
        if (j->errors)
            log_msg(LOG_CRITICAL, "IP filter: %zu malformed lines in %s (the first is line %zu)", j->errors,
                    j->path, j->first_error_line);
    }
    /* As qBittorrent: a missing or unreadable file is a filter of 0 rules. */
    iprange_set_free(&f->set);
    f->set = j->set;
    memset(&j->set, 0, sizeof j->set);
    f->have_set = true;
    f->loads++;
    log_msg(LOG_INFO, "Successfully parsed the IP filter file. Number of rules applied: %zu", j->rc < 0 ? 0 : j->rules);
    log_debug("IP filter: %zu IPv4 and %zu IPv6 ranges after merging, %zu bytes", f->set.n4, f->set.n6,
              iprange_set_bytes(&f->set));
    job_free(j);
    disconnect_blocked(f);
}

static void start_load(struct ipfilter *f)
{
    if (f->job) {
        f->again = true;
        return;
    }
    struct ipfilter_job *j = calloc(1, sizeof *j);
    const char *path = settings_str(&f->s->settings, SET_IP_FILTER_PATH);
    if (j)
        j->path = strdup(path ? path : "");
    if (!j || !j->path) {
        free(j);
        log_msg(LOG_CRITICAL, "IP filter: out of memory");
        return;
    }
    j->f = f;
    j->fmt = iprange_format_of(j->path);
    j->work.data = j;
    if (uv_queue_work(f->s->loop, &j->work, load_work, load_done) != 0) {
        job_free(j);
        return;
    }
    f->job = j;
}

static void free_handle(uv_handle_t *h) { free(h); }

static void close_poll(struct ipfilter *f)
{
    if (f->poll) {
        uv_fs_poll_stop(f->poll);
        uv_close((uv_handle_t *)f->poll, free_handle);
        f->poll = NULL;
    }
    free(f->polled_path);
    f->polled_path = NULL;
}

static void on_file_changed(uv_fs_poll_t *h, int status, const uv_stat_t *prev, const uv_stat_t *curr)
{
    (void)prev;
    (void)curr;
    struct ipfilter *f = h->data;
    /* status < 0: the file went away (or is not there yet); a filter of 0
     * rules then, as when qBittorrent reads a missing file. */
    (void)status;
    if (enabled(f->s))
        start_load(f);
}

static void watch(struct ipfilter *f)
{
    const char *path = settings_str(&f->s->settings, SET_IP_FILTER_PATH);
    bool want = enabled(f->s) && path && *path;
    if (want && f->polled_path && strcmp(f->polled_path, path) == 0)
        return;
    close_poll(f);
    if (!want)
        return;
    f->poll = malloc(sizeof *f->poll);
    f->polled_path = strdup(path);
    if (!f->poll || !f->polled_path || uv_fs_poll_init(f->s->loop, f->poll) != 0) {
        free(f->poll);
        f->poll = NULL;
        return;
    }
    f->poll->data = f;
    if (uv_fs_poll_start(f->poll, on_file_changed, path, IPFILTER_POLL_MS) != 0)
        close_poll(f);
}

static void apply(struct ipfilter *f)
{
    watch(f);
    if (enabled(f->s)) {
        start_load(f);
        return;
    }
    if (f->job)
        f->again = true;   /* its result is dropped when it lands */
    iprange_set_free(&f->set);
    f->have_set = false;
}

static void on_settings(void *ud, const struct settings_mask *changed)
{
    struct ipfilter *f = ud;
    /* ip_filter_trackers alone is read at each tracker connection. */
    if (settings_mask_has(changed, SET_IP_FILTER_ENABLED) || settings_mask_has(changed, SET_IP_FILTER_PATH))
        apply(f);
}

/* The tracker client's refusal test (libtorrent's apply_ip_filter_to_trackers). */
static bool tracker_refused(void *ud, const struct sockaddr *sa)
{
    struct session *s = ud;
    return settings_bool(&s->settings, SET_IP_FILTER_TRACKERS) && ipfilter_blocks_addr(s, sa);
}

int ipfilter_start(struct session *s)
{
    struct ipfilter *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->s = s;
    int rc = settings_add_hook(&s->settings, SG_IPFILTER, on_settings, f);
    if (rc != 0) {
        free(f);
        return rc;
    }
    s->ipfilter = f;
    if (s->trackers)
        tracker_client_set_refuse(s->trackers, tracker_refused, s);
    if (enabled(s))
        apply(f);
    return 0;
}

void ipfilter_stop(struct session *s)
{
    struct ipfilter *f = s->ipfilter;
    if (!f)
        return;
    settings_remove_hook(&s->settings, on_settings, f);
    if (s->trackers)
        tracker_client_set_refuse(s->trackers, NULL, NULL);
    close_poll(f);
    if (f->job)
        f->job->f = NULL;   /* freed when it lands */
    iprange_set_free(&f->set);
    free(f);
    s->ipfilter = NULL;
}

bool ipfilter_blocks_text(const struct session *s, const char *ip)
{
    const struct ipfilter *f = s->ipfilter;
    return f && f->have_set && iprange_has_text(&f->set, ip);
}

bool ipfilter_blocks_addr(const struct session *s, const struct sockaddr *sa)
{
    const struct ipfilter *f = s->ipfilter;
    return f && f->have_set && iprange_has_addr(&f->set, sa);
}

size_t ipfilter_ranges(const struct session *s)
{
    const struct ipfilter *f = s->ipfilter;
    return f ? f->set.n4 + f->set.n6 : 0;
}

unsigned ipfilter_loads(const struct session *s)
{
    const struct ipfilter *f = s->ipfilter;
    return f ? f->loads : 0;
}
