/* log — the daemon's one log.
 *
 * Every message goes to stderr and into an in-memory ring that
 * `GET /api/v2/log/main` reads.  Levels are qBittorrent's log type bits so
 * the API can filter without translating.  Only the loop thread may call
 * log_entries(); log_msg() is safe from any thread.
 *
 * Optionally every message is also appended to a log file in qBittorrent's
 * format (log_file_set; core/logfile.c maps qBittorrent's file_log_*
 * preferences onto it).  stderr itself belongs to whoever started the daemon
 * (the service manager, a shell redirect) and is never reopened.
 */
#ifndef TD_UTIL_LOG_H
#define TD_UTIL_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
    LOG_NORMAL = 1,
    LOG_INFO = 2,
    LOG_WARNING = 4,
    LOG_CRITICAL = 8,
};

struct log_entry {
    int64_t id;          /* 0, 1, 2, ... in order of logging */
    int64_t timestamp;   /* epoch seconds */
    int type;            /* enum log_level */
    char *message;
};

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *fmt, va_list ap);

/* Log sources: optional categories of chatter about one subsystem, all
 * off by default and switched on as a set (µTorrent's utserver.conf
 * logmask, translated by core/ut_settings).  A source's message is logged
 * like log_msg(LOG_INFO, ...): into the ring and to stderr.  When the
 * source is off, log_src() costs one relaxed atomic load and a test; its
 * arguments are not evaluated. */
enum log_source {
    LOG_SRC_PEER_OUT = 1u << 0,     /* an outgoing peer connection completed its handshake */
    LOG_SRC_PEER_IN = 1u << 1,      /* an incoming peer connection completed its handshake */
    LOG_SRC_DISCONNECT = 1u << 2,   /* a peer connection closed, and why */
    LOG_SRC_BLOCKED = 1u << 3,      /* an incoming connection refused: banned address */
    LOG_SRC_PEX = 1u << 4,          /* a peer exchange message received */
    LOG_SRC_WEBUI = 1u << 5,        /* a WebUI request answered */
    LOG_SRC_HAVE = 1u << 6,         /* a have message sent */
};

extern _Atomic unsigned log_src_mask;
#define LOG_SRC_ON(src) ((atomic_load_explicit(&log_src_mask, memory_order_relaxed) & (unsigned)(src)) != 0)
#define log_src(src, ...)                  \
    do {                                   \
        if (LOG_SRC_ON(src))               \
            log_msg(LOG_INFO, __VA_ARGS__); \
    } while (0)

/* Sets the enabled sources (enum log_source bits); any thread. */
void log_set_sources(unsigned mask);

/* Debug chatter: printed to stderr only when TORRENTD_DEBUG is set, never kept. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Calls fn for each kept entry with id > after_id (oldest first) whose type
 * bit is in mask.  Returns the number of entries visited. */
int log_entries(int64_t after_id, int mask,
                void (*fn)(const struct log_entry *e, void *ud), void *ud);

/* Silences stderr output (tests); the ring still records. */
void log_set_quiet(int quiet);

/* ---- the log file (qBittorrent's FileLogger) ----
 *
 * The file is <dir>/qbittorrent.log; each message is one line
 *   "(N) 2026-12-07T12:34:56 - message"
 * with N, I, W or C for the level and the local time of the message.  A line
 * is appended with one write(2) as it is logged (at most ~1 KiB: messages
 * are cut at 1023 bytes), not buffered: an append to a local file costs a
 * copy into the page cache, and a line logged just before a crash is not
 * lost.  Safe from any thread, like log_msg. */
enum log_file_age_unit { LOG_AGE_DAYS = 0, LOG_AGE_MONTHS = 1, LOG_AGE_YEARS = 2 };

struct log_file_config {
    const char *dir;             /* created if missing */
    bool backup;                 /* rotate: when the file reaches max_bytes it is renamed to
                                  * qbittorrent.log.bak (then .bak1, .bak2, ...: the first free
                                  * name) and a new file begun; without backup it just grows */
    int64_t max_bytes;
    bool delete_old;             /* when the file is first opened: remove qbittorrent.log.bak*
                                  * files last modified more than `age` units ago */
    int age;
    enum log_file_age_unit age_unit;
};

/* c NULL closes the file.  Otherwise: not open yet -> open it, delete old
 * backups (delete_old) and write the messages the ring holds so far (as
 * qBittorrent does when its file log is enabled); open in another directory
 * -> close it and open the new one; always -> take backup/max_bytes.  0, or a
 * negative errno (the file is then closed; a CRITICAL message says so). */
int log_file_set(const struct log_file_config *c);
/* Closes and reopens the file by its name (after logrotate moved it): 0,
 * -ENOENT when no file is set, or a negative errno. */
int log_file_reopen(void);
/* The file's path, or "" when none is open (copied into buf). */
void log_file_path(char *buf, size_t len);

/* Frees the ring and closes the log file at exit so sanitizers see no leaks. */
void log_shutdown(void);

#endif
