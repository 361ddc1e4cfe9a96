/* log — the daemon's one log.
 *
 * Every message goes to stderr and into an in-memory ring that
 * `GET /api/v2/log/main` reads.  Levels are qBittorrent's log type bits so
 * the API can filter without translating.  Only the loop thread may call
 * log_entries(); log_msg() is safe from any thread.
 *
 * There is no log file: stderr belongs to whoever started the daemon (the
 * service manager, a shell redirect), so SIGHUP has nothing to reopen and
 * main only acknowledges it.
 */
#ifndef TD_UTIL_LOG_H
#define TD_UTIL_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
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

/* Frees the ring at exit so sanitizers see no leaks. */
void log_shutdown(void);

#endif
