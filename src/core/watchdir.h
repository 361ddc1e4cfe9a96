/* watchdir — watched folders: a .torrent or .magnet file dropped in one
 * becomes a torrent.
 *
 * Folders come from two vocabularies over one mechanism:
 *   qBittorrent  scan_dirs, {"/folder": 0 | 1 | "/save/path"} (store/record
 *                reads it as 5.1's setPreferences does): 0 downloads into
 *                the watched folder itself, 1 to the default save path (and
 *                automatic management as auto_tmm_enabled says), a string to
 *                that path.  Relative folders are refused, as in qBittorrent.
 *                A processed file is deleted (TorrentFilesWatcher; the
 *                auto_delete_mode preference is about .torrent files opened
 *                in the GUI, not watched folders, in 5.1 too).
 *   µTorrent     ut_dir_autoload (one folder, relative = to the working
 *                directory) with ut_dir_autoload_delete: delete the file
 *                after loading, else rename it "<name>.loaded".
 * Every add goes through service_add_torrent / service_add_uri with the
 * preferences' defaults (service_add_opts_defaults).  Changing the settings
 * takes effect at once (SG_WATCHDIR hook): new folders are scanned, removed
 * ones forgotten.
 *
 * Finding files: a uv_fs_event on each folder (a change schedules a scan
 * WATCHDIR_EVENT_DELAY_MS later, so a burst of events is one scan) and a
 * rescan of every folder each WATCHDIR_RESCAN_MS whatever happened, for
 * network filesystems and missed events.  Folders are not recursed into
 * (qBittorrent's `recursive` is an option of its watched_folders.json that
 * scan_dirs cannot set), so symlinked directories and loops are never
 * followed; a symlink to a regular file counts as that file.  Names are
 * matched case-insensitively ("*.torrent", "*.magnet"); hidden files (a
 * leading '.') are skipped, as qBittorrent's directory iterator does.
 *
 * A scan runs on libuv's threadpool (listing, stat, reading at most
 * WATCHDIR_BATCH_FILES files or WATCHDIR_BATCH_BYTES per job) and the loop
 * adds what it read WATCHDIR_ADDS_PER_TURN at a time, so a flood of files
 * never holds the loop; a full batch queues the next job at once.  The
 * file's deletion or renaming is done by the folder's next job, before it
 * lists again, so no file is added twice.
 *
 * Half-written files: a .torrent is taken when it parses (bencoding is
 * self-delimiting: a truncated one never parses); a .magnet (one URI a
 * line, as qBittorrent reads it) once its mtime is WATCHDIR_MAGNET_SETTLE_S
 * old.  A .torrent that does not parse is read again only when its size or
 * mtime changes; once it has stayed unchanged for WATCHDIR_REJECT_S it is
 * renamed "<name>.qbt_rejected" with a log line (qBittorrent's name; its
 * watcher retries 5 times 10 s apart), and never looked at again.  Files
 * above torrent_file_size_limit (100 MiB for .magnet, as qBittorrent) are
 * rejected at once.  A file that cannot be deleted or renamed after its add
 * is remembered by size and mtime and not added again.
 *
 * Loop thread only.
 */
#ifndef TD_CORE_WATCHDIR_H
#define TD_CORE_WATCHDIR_H

#include <stddef.h>

struct session;

#define WATCHDIR_RESCAN_MS 5000
#define WATCHDIR_EVENT_DELAY_MS 200
#define WATCHDIR_BATCH_FILES 64
#define WATCHDIR_BATCH_BYTES (32u << 20)
#define WATCHDIR_ADDS_PER_TURN 16
#define WATCHDIR_MAGNET_SETTLE_S 1
#define WATCHDIR_REJECT_S 5
#define WATCHDIR_MAGNET_MAX (100u << 20)

/* Started by session_start (reads the settings, registers its hook);
 * closed at shutdown (jobs in flight finish and are discarded). */
int watchdir_start(struct session *s);
void watchdir_close(struct session *s);

/* Folders being watched (tests, logs). */
size_t watchdir_count(const struct session *s);

#endif
