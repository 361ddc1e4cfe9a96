#include "util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* qBittorrent keeps 20 000 messages; so do we. */
#define LOG_RING_SIZE 20000

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_entry ring[LOG_RING_SIZE];
static int64_t next_id;
static int quiet;
static int debug_on = -1;

_Atomic unsigned log_src_mask;

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
    pthread_mutex_lock(&log_lock);
    for (size_t i = 0; i < LOG_RING_SIZE; i++) {
        free(ring[i].message);
        ring[i].message = NULL;
    }
    pthread_mutex_unlock(&log_lock);
}
