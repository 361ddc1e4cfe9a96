#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/path.h"

/* qBittorrent keeps 20 000 messages; so do we. */
#define LOG_RING_SIZE 20000

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_entry ring[LOG_RING_SIZE];
static int64_t next_id;
static int quiet;
static int debug_on = -1;

_Atomic unsigned log_src_mask;

static void file_append(int level, int64_t timestamp, const char *text);

void log_set_quiet(int q) { quiet = q; }

void log_set_sources(unsigned mask)
{
    atomic_store_explicit(&log_src_mask, mask, memory_order_relaxed);
}

void log_vmsg(int level, const char *fmt, va_list ap)
{
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    time_t now = time(NULL);

    pthread_mutex_lock(&log_lock);
    struct log_entry *e = &ring[next_id % LOG_RING_SIZE];
    free(e->message);
    e->id = next_id++;
    e->timestamp = (int64_t)now;
    e->type = level;
    e->message = strdup(text);
    pthread_mutex_unlock(&log_lock);
    file_append(level, (int64_t)now, text);

    if (!quiet) {
        static const char *names[] = {"", "N", "I", "", "W", "", "", "", "C"};
        struct tm tm;
        localtime_r(&now, &tm);
        fprintf(stderr, "%02d:%02d:%02d %s %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
                level >= 1 && level <= 8 ? names[level] : "?", text);
    }
}

void log_msg(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    if (debug_on < 0)
        debug_on = getenv("TORRENTD_DEBUG") != NULL;
    if (!debug_on)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("D ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int log_entries(int64_t after_id, int mask,
                void (*fn)(const struct log_entry *e, void *ud), void *ud)
{
    int n = 0;
    pthread_mutex_lock(&log_lock);
    int64_t first = next_id > LOG_RING_SIZE ? next_id - LOG_RING_SIZE : 0;
    if (after_id + 1 > first)
        first = after_id + 1;
    for (int64_t id = first; id < next_id; id++) {
        struct log_entry *e = &ring[id % LOG_RING_SIZE];
        if (e->type & mask) {
            fn(e, ud);
            n++;
        }
    }
    pthread_mutex_unlock(&log_lock);
    return n;
}

void log_shutdown(void)
{
    log_file_set(NULL);
    pthread_mutex_lock(&log_lock);
    for (size_t i = 0; i < LOG_RING_SIZE; i++) {
        free(ring[i].message);
        ring[i].message = NULL;
    }
    pthread_mutex_unlock(&log_lock);
}

/* ---- the log file ----
 *
 * file_lock guards lf.  Lock order: file_lock, then log_lock (the replay
 * reads the ring while holding file_lock); log_vmsg never holds both.
 * Nothing here may call log_msg while holding file_lock (log_vmsg takes
 * it): failures are reported after unlocking. */

static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int fd;                      /* -1: not open */
    char *dir, *path;            /* NULL: no file configured */
    bool backup;
    int64_t max_bytes;
    int64_t size;                /* bytes in the file, as far as we know */
    int err;                     /* a failure not reported yet (negative errno) */
} lf = {.fd = -1};

static const char LOG_FILE_NAME[] = "qbittorrent.log";

static int file_open_locked(void)
{
    int fd = open(lf.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    /* qBittorrent makes its log owner-only whatever the umask. */
    struct stat st;
    if (fchmod(fd, 0600) != 0 || fstat(fd, &st) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    lf.fd = fd;
    lf.size = st.st_size;
    return 0;
}

static void file_close_locked(void)
{
    if (lf.fd >= 0)
        close(lf.fd);
    lf.fd = -1;
}

/* qBittorrent renames the full file to .bak, or .bak1, .bak2, ... (the first
 * name not taken) and starts a new one. */
static void rotate_locked(void)
{
    file_close_locked();
    char bak[PATH_MAX + 32];
    snprintf(bak, sizeof bak, "%s.bak", lf.path);
    struct stat st;
    for (int i = 1; lstat(bak, &st) == 0 && i < INT_MAX; i++)
        snprintf(bak, sizeof bak, "%s.bak%d", lf.path, i);
    if (rename(lf.path, bak) != 0)
        lf.err = -errno;
    int rc = file_open_locked();
    if (rc != 0)
        lf.err = rc;
}

/* The replay of the ring (up to 20 000 lines) goes out in 64 KiB writes,
 * not one write per line. */
static struct log_batch {
    size_t len;
    char data[65536];
} *batch;

static void flush_locked(void)
{
    if (batch && batch->len && lf.fd >= 0) {
        ssize_t w = write(lf.fd, batch->data, batch->len);
        (void)w;   /* counted in lf.size when batched; a short write loses the tail, as a full disk would */
    }
    if (batch)
        batch->len = 0;
}

static void write_locked(int level, int64_t timestamp, const char *text)
{
    if (lf.fd < 0)
        return;
    char type = level == LOG_INFO ? 'I' : level == LOG_WARNING ? 'W' : level == LOG_CRITICAL ? 'C' : 'N';
    time_t t = (time_t)timestamp;
    struct tm tm;
    localtime_r(&t, &tm);
    char line[1200];
    int n = snprintf(line, sizeof line, "(%c) %04d-%02d-%02dT%02d:%02d:%02d - %s\n", type, tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, text);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    if (batch) {
        if (batch->len + (size_t)n > sizeof batch->data)
            flush_locked();
        memcpy(batch->data + batch->len, line, (size_t)n);
        batch->len += (size_t)n;
        lf.size += n;
    } else {
        ssize_t w = write(lf.fd, line, (size_t)n);
        if (w > 0)
            lf.size += w;
    }
    if (lf.backup && lf.size >= lf.max_bytes) {
        flush_locked();
        rotate_locked();
    }
}

static void report_failure(void)
{
    pthread_mutex_lock(&file_lock);
    int err = lf.err;
    lf.err = 0;
    bool open = lf.fd >= 0;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", lf.path ? lf.path : "");
    pthread_mutex_unlock(&file_lock);
    if (err)
        log_msg(LOG_CRITICAL, "log file %s: %s%s", path, strerror(-err),
                open ? "" : "; logging to file is disabled");
}

static void file_append(int level, int64_t timestamp, const char *text)
{
    pthread_mutex_lock(&file_lock);
    write_locked(level, timestamp, text);
    bool failed = lf.err != 0;
    pthread_mutex_unlock(&file_lock);
    if (failed)
        report_failure();
}

static int days_in_month(int year, int mon)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return mon == 1 && leap ? 29 : dim[mon];
}

/* t plus `age` days, months or years in local time; a month or year later
 * than Jan 31 is the last day of February (as QDateTime::addMonths). */
static time_t add_age(time_t t, int age, enum log_file_age_unit unit)
{
    struct tm tm;
    localtime_r(&t, &tm);
    if (unit == LOG_AGE_DAYS) {
        tm.tm_mday += age;
    } else {
        int m = tm.tm_mon + (unit == LOG_AGE_MONTHS ? age : 12 * age);
        tm.tm_year += m / 12;
        tm.tm_mon = m % 12;
        int dim = days_in_month(tm.tm_year + 1900, tm.tm_mon);
        if (tm.tm_mday > dim)
            tm.tm_mday = dim;
    }
    tm.tm_isdst = -1;
    return mktime(&tm);
}

static void delete_old_locked(int age, enum log_file_age_unit unit)
{
    DIR *d = opendir(lf.dir);
    if (!d)
        return;
    time_t now = time(NULL);
    char prefix[sizeof LOG_FILE_NAME + 4];
    snprintf(prefix, sizeof prefix, "%s.bak", LOG_FILE_NAME);
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (add_age(st.st_mtime, age, unit) <= now)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static void replay_entry(const struct log_entry *e, void *ud)
{
    (void)ud;
    write_locked(e->type, e->timestamp, e->message);
}

int log_file_set(const struct log_file_config *c)
{
    if (!c) {
        pthread_mutex_lock(&file_lock);
        file_close_locked();
        free(lf.dir);
        free(lf.path);
        lf.dir = lf.path = NULL;
        lf.err = 0;
        pthread_mutex_unlock(&file_lock);
        return 0;
    }
    size_t plen = strlen(c->dir) + sizeof LOG_FILE_NAME + 1;
    char *dir = strdup(c->dir);
    char *path = malloc(plen);
    if (!dir || !path) {
        free(dir);
        free(path);
        return -ENOMEM;
    }
    snprintf(path, plen, "%s/%s", c->dir, LOG_FILE_NAME);
    int rc = path_mkdirs(dir);   /* before the lock: it may log */

    pthread_mutex_lock(&file_lock);
    lf.backup = c->backup;
    lf.max_bytes = c->max_bytes;
    bool was_off = !lf.path;
    if (!was_off && lf.fd >= 0 && strcmp(lf.dir, dir) == 0) {
        pthread_mutex_unlock(&file_lock);
        free(dir);
        free(path);
        return 0;
    }
    file_close_locked();
    free(lf.dir);
    free(lf.path);
    lf.dir = dir;
    lf.path = path;
    if (rc == 0)
        rc = file_open_locked();
    if (rc == 0 && was_off) {
        if (c->delete_old)
            delete_old_locked(c->age, c->age_unit);
        batch = malloc(sizeof *batch);   /* NULL: line by line */
        if (batch)
            batch->len = 0;
        log_entries(-1, LOG_NORMAL | LOG_INFO | LOG_WARNING | LOG_CRITICAL, replay_entry, NULL);
        flush_locked();
        free(batch);
        batch = NULL;
    }
    if (rc != 0)
        lf.err = rc;
    pthread_mutex_unlock(&file_lock);
    report_failure();
    return rc;
}

int log_file_reopen(void)
{
    pthread_mutex_lock(&file_lock);
    int rc = -ENOENT;
    if (lf.path) {
        file_close_locked();
        rc = file_open_locked();
        if (rc != 0)
            lf.err = rc;
    }
    pthread_mutex_unlock(&file_lock);
    if (rc != -ENOENT)
        report_failure();
    return rc;
}

void log_file_path(char *buf, size_t len)
{
    pthread_mutex_lock(&file_lock);
    snprintf(buf, len, "%s", lf.fd >= 0 && lf.path ? lf.path : "");
    pthread_mutex_unlock(&file_lock);
}
