/* logfile — qBittorrent's file_log_* preferences acting on util/log's file.
 *
 * file_log_enabled writes the log to <file_log_path>/qbittorrent.log (an
 * empty path means <profile>/logs, set by session_new as qBittorrent's
 * default <data dir>/logs); file_log_backup_enabled with file_log_max_size
 * (KiB, 1 KiB..1000 MiB as qBittorrent clamps it) rotates it into
 * qbittorrent.log.bak, .bak1, ...; file_log_delete_old removes backups
 * older than file_log_age (1..365) days/months/years (file_log_age_type
 * 0/1/2; anything else is months) when the file log is enabled.  Changes
 * apply live through the SG_FILE_LOG hook, as qBittorrent's
 * Application::setFileLogger* do.
 */
#ifndef TD_CORE_LOGFILE_H
#define TD_CORE_LOGFILE_H

struct session;

/* Registers the hook and applies the settings now: 0 or a negative errno
 * (the hook could not be registered; a file that cannot be opened is
 * logged, not an error). */
int logfile_start(struct session *s);

#endif
