/* tuning — the settings that tune the engine's machinery rather than a
 * feature: storage options, the read cache's size, low_cpu and the log
 * sources.  It turns the typed settings (live, through the SG_DISK, SG_LOG
 * and SG_LOW_CPU hooks) into the values the torrents, the storage and
 * util/log read, and logs what it applied.
 *
 *   preallocate_all (µTorrent prealloc_space): a torrent's wanted files are
 *       allocated when it starts (core/torrent.c, storage_preallocate).
 *   ut_all_writes_sync (all_writes_sync): piece writes use O_DSYNC
 *       (storage_set_sync_writes), on every open storage at once.
 *   read cache: uploads are served from whole pieces read into memory
 *       (core/torrent_pieces.c).  ut_disk_cache_max_size (MB, 1..512) when
 *       set, else qBittorrent's disk_cache (MiB; -1 = auto, 0 = off):
 *         N > 0   at most N MiB for all torrents together, up to
 *                 TUNING_RCACHE_SLOTS_MAX pieces per torrent;
 *         auto    no global budget, TUNING_RCACHE_SLOTS_AUTO pieces per
 *                 torrent (torrentd's behaviour before the setting acted);
 *         0       one piece per torrent: the least that serves uploads.
 *       A torrent that holds nothing may always load one piece, so the
 *       budget can be passed by at most one piece per uploading torrent.
 *       The bytes held are sync/maindata's total_buffers_size.
 *   ut_low_cpu (low_cpu): seed 004's "a short sleep occurs during the
 *       process of handling network traffic".  After a loop iteration that
 *       read peer data, the loop sleeps TUNING_LOW_CPU_SLEEP_MS: more bytes
 *       wait in the socket buffers at the next wakeup, so they are handled
 *       in fewer, larger reads (fewer wakeups and system calls per byte),
 *       at the price of that much latency.  Nothing else is slowed.
 *   ut_logmask (logmask): the µTorrent bits become util/log sources
 *       (ut_settings_log_sources).
 *   socket_send_buffer_size, socket_receive_buffer_size (bytes, 0 = the
 *       system's default): SO_SNDBUF / SO_RCVBUF of every new peer
 *       connection, as libtorrent applies them (open connections keep
 *       theirs).  Linux doubles the value it is given (socket(7)).
 *   request_queue_size (libtorrent's max_out_request_queue): at most that
 *       many of our requests outstanding at one peer, whatever its reqq.
 */
#ifndef TD_CORE_TUNING_H
#define TD_CORE_TUNING_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define TUNING_RCACHE_SLOTS_AUTO 4
#define TUNING_RCACHE_SLOTS_MAX 64
#define TUNING_LOW_CPU_SLEEP_MS 2

struct session;
struct torrent;

/* The session's tuning state (session.tune).  Only tuning.c writes the
 * options; torrent_pieces.c keeps rcache_bytes. */
struct tuning {
    bool preallocate;
    bool sync_writes;
    uint64_t rcache_budget;   /* bytes for all torrents; 0 = no global budget */
    unsigned rcache_slots;    /* pieces one torrent may hold */
    uint64_t rcache_bytes;    /* held or loading, all torrents */
    uint64_t rcache_hits, rcache_misses;   /* requests served from a held piece / that loaded one */
    bool low_cpu;
    bool net_round;           /* peer data was read in this loop iteration */
    bool check_open;
    uv_check_t low_cpu_check;
};

/* Applies the socket buffer sizes to a new peer connection's socket. */
void tuning_peer_socket(struct session *s, uv_tcp_t *tcp);
/* request_queue_size, at least 1. */
int tuning_request_queue(const struct session *s);

/* Reads the settings, applies them and registers the hooks.  0 or -ENOMEM. */
int tuning_init(struct session *s);
void tuning_close(struct session *s);

/* A torrent's storage was opened: gives it the storage options. */
void tuning_storage_opened(struct session *s, struct torrent *t);

/* Peer data arrived (the low_cpu pause follows this iteration). */
static inline void tuning_net_activity(struct tuning *e) { e->net_round = true; }

#endif
