/* export — copies of .torrent files in a folder, as qBittorrent makes them:
 * to export_dir when a torrent is added (or when a magnet's metadata
 * arrives) and to export_dir_fin when it finishes (core/notify.c calls it).
 *
 * Names are qBittorrent's (SessionImpl::exportTorrentFile): the torrent's
 * name made a valid file name (trimmed, each run of \ / : ? " * < > | one
 * space), then ".torrent"; when that file exists, "<name> (1).torrent",
 * "<name> (2).torrent" … .  On top of qBittorrent, the name is a safe path
 * component whatever the torrent says (util/path: control characters '_',
 * at most 255 bytes cut on a UTF-8 boundary), so a copy never lands outside
 * the folder.
 *
 * The copy is written on libuv's threadpool (the folder may be slow or
 * full): the folder is created if missing, the bytes go to a temporary file
 * in it, are fsynced, and the file is renamed to its name without replacing
 * anything (renameat2 RENAME_NOREPLACE, link() where that is unsupported),
 * so the folder never shows a partial copy and an existing file is never
 * overwritten.  A failure (no space, no permission) is logged with
 * qBittorrent's message and the temporary file removed; nothing else
 * happens.  The bytes are the torrent's .torrent as torrents/export gives
 * them (core/view.h).
 */
#ifndef TD_CORE_EXPORT_H
#define TD_CORE_EXPORT_H

struct torrent;

/* Queues a copy of t's .torrent to dir; "" (or no metadata yet) does
 * nothing.  Loop thread. */
void export_torrent(struct torrent *t, const char *dir);

/* The file name of the n-th try (n = 0: no counter): malloc'd, NULL on
 * ENOMEM.  Pure (tests/unit/test_runprog.c). */
char *export_file_name(const char *torrent_name, unsigned n);

#endif
