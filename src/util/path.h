/* path — making untrusted names safe to put on disk.
 *
 * Torrent names and file paths come from strangers.  These functions turn
 * them into names that cannot escape a save path on Linux: no '/', no NUL or
 * control characters, never "." or "..", never empty, at most 255 bytes
 * (truncated on a UTF-8 boundary, keeping the extension).
 */
#ifndef TD_UTIL_PATH_H
#define TD_UTIL_PATH_H

#include <stddef.h>
#include <stdint.h>

/* Sanitizes one path component into a new malloc'd string.  Invalid bytes
 * ('/', '\\', NUL, control characters) become '_'; invalid UTF-8 becomes '_';
 * "." and ".." and "" return NULL with *dropped set to 1 so callers skip the
 * component (as libtorrent does).  Returns NULL with *dropped = 0 only on OOM. */
char *path_sanitize_component(const char *s, size_t len, int *dropped);

/* Joins base and a relative path that was built from sanitized components.
 * Returns a new string, or NULL if rel is absolute or contains a ".." or ""
 * component (defence in depth: callers should never pass such a path). */
char *path_join(const char *base, const char *rel);

/* mkdir -p of the directory part of `file` (not the file itself).
 * Returns 0 or a negative errno. */
int path_mkdirs_for(const char *file);

/* mkdir -p of dir.  Returns 0 or a negative errno. */
int path_mkdirs(const char *dir);

/* Bytes free for an unprivileged user (f_bavail) on the file system that
 * holds path, or would hold it: a path that does not exist yet is measured
 * at its nearest existing ancestor, as qBittorrent does.  NULL or "" is
 * "/".  -1 when nothing can be measured.  Blocks on the file system (a
 * statvfs per ancestor tried). */
int64_t path_free_bytes(const char *path);

#endif
