/* torrent_int — what the files of core/torrent share, and nothing else
 * includes.
 *
 * torrent.c is split by concern: torrent.c (lifecycle, checking, tick,
 * share limits, removal), torrent_persist.c (settings, resume data,
 * restore), torrent_pieces.c (piece assembly, writes, smart-ban blame,
 * finishing, the read cache), torrent_meta.c (ut_metadata, BEP52 piece
 * layers), torrent_swarm.c (candidates, peers, requests, choker, PEX) and
 * torrent_files.c (priorities, layout, moving, renaming).  The functions
 * here were file-static before the split; they keep their behaviour and
 * are called on the loop thread only.
 */
#ifndef TD_CORE_TORRENT_INT_H
#define TD_CORE_TORRENT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/torrent.h"
#include "util/buf.h"

/* Wall-clock seconds, as the statistics and qBittorrent's times use. */
static inline int64_t now_s(void) { return (int64_t)time(NULL); }

/* torrent.c: lifecycle */
int torrent_attach_metainfo(struct torrent *t, struct bt_metainfo *mi);   /* takes mi, also on failure */
void torrent_activate(struct torrent *t);                      /* into the tick walk, if it may run */
void torrent_deactivate(struct torrent *t, bool announce_stop);
void torrent_start_check(struct torrent *t);                   /* now, or queued (max_active_checking_torrents) */
void torrent_defer_check(struct torrent *t);                   /* stopped: check when started */
void torrent_set_have_from_bits(struct torrent *t, const uint8_t *bits);
void torrent_maybe_finish_removal(struct torrent *t);          /* frees once nothing is in flight */
void torrent_drop_pending_resume(struct torrent *t);           /* saves whose sync is running are not committed */
/* A disk error (-rc) the torrent cannot go on with: qBittorrent's error
 * state with strerror's message and its "File error alert" log line (the
 * file from storage_error_file), deactivated until started again.  After
 * any error but a full disk (ENOSPC, EDQUOT), pieces written since the last
 * successful sync (not in t->synced_bits) are had no more: the disk that
 * failed may not hold them. */
enum torrent_io { TORRENT_IO_READ, TORRENT_IO_WRITE };
void torrent_fail_io(struct torrent *t, int rc, enum torrent_io op);
/* A storage_sync that covered have_bits (a snapshot of t->have) succeeded. */
void torrent_note_synced(struct torrent *t, const uint8_t *have_bits);
/* Data the torrent had is gone (files missing): qBittorrent's missingFiles,
 * deactivated until started (which looks again) or rechecked. */
void torrent_files_missing(struct torrent *t);
void torrent_clear_error(struct torrent *t);                   /* error, missingFiles and their data */
enum torrent_resume_verdict { TORRENT_RESUME_TRUSTED, TORRENT_RESUME_MISSING, TORRENT_RESUME_RECHECK };
enum torrent_resume_verdict torrent_resume_verdict(struct torrent *t, const uint8_t *have, const uint8_t *files,
                                                   size_t files_len);

/* torrent_pieces.c */
void torrent_free_partial(struct piece_buf *pb);
void torrent_reset_pieces(struct torrent *t);                  /* forget every piece: a recheck */
/* t->sequential and the session's ut_progressive_piece_span (MB; 0 = 80,
 * -1 = no progressive picker: never in order) onto the picker; cheap, so
 * also called before each pick, which is how a changed span takes effect. */
void torrent_apply_sequential(struct torrent *t);
bool torrent_write_backlog_full(const struct torrent *t);
void torrent_on_finished(struct torrent *t);
void torrent_trim_read_cache(struct torrent *t, uint64_t now);
/* preallocate_all: allocates the wanted files of an active, unfinished
 * torrent (again after its file priorities changed); a failure (ENOSPC)
 * puts it in the error state with the reason. */
void torrent_preallocate(struct torrent *t);
/* Frees the pieces held (not the ones loading). */
void torrent_drop_read_cache(struct torrent *t);

/* torrent_meta.c */
void torrent_clear_magnet_extra(struct torrent *t);
void torrent_send_ext(struct peer *p, uint8_t id, struct buf *payload);
void torrent_request_metadata(struct torrent *t, struct peer *p);
void torrent_request_layers(struct torrent *t, struct peer *p);

/* torrent_swarm.c */
void torrent_connect_candidates(struct torrent *t, uint64_t now);
void torrent_run_choker(struct torrent *t);
void torrent_send_pex(struct torrent *t, uint64_t now);

/* torrent_files.c */
void torrent_apply_file_priorities(struct torrent *t);         /* wanted pieces + picker priorities */
/* excluded_file_names(_enabled), qBittorrent's file name filter for a new
 * torrent's files (at add, or when a magnet's metadata arrives): a file
 * whose name or any parent folder's matches one of the wildcard patterns
 * (one a line, case-insensitive) gets priority 0 ("do not download").
 * Files already at 0 are left.  0 or -ENOMEM. */
int torrent_apply_excluded_names(struct torrent *t);
void torrent_apply_layout(struct torrent *t, struct bt_metainfo *mi, enum torrent_layout layout);
/* MOVE_SAVE_PATH changes the save path; the others move the data between
 * the incomplete folder and the save path. */
enum move_kind { MOVE_SAVE_PATH, MOVE_TO_SAVE, MOVE_TO_DOWNLOAD };
/* Moves are crash-safe: an intent row ("<kind>\n<path>" under the torrent's
 * hash in store namespace TORRENT_NS_MOVING) is committed before the first
 * file moves and deleted after the settings that record the end; at start
 * a surviving row makes torrent_restore finish the move.  Failures come
 * through cb (which may be NULL). */
int torrent_move_data(struct torrent *t, const char *path, enum move_kind kind, void (*cb)(void *ud, int rc),
                      void *ud);
void torrent_finish_restore(struct torrent *t);   /* after the move a restore waited for */
/* Queues the deletion of the torrent's move intent row (after whatever the
 * store has queued before it). */
void torrent_forget_move(struct torrent *t);
/* Removals with files are crash-safe too: a deletion intent row (under
 * "<hex>.<unique>" in TORRENT_NS_DELETING) is queued with the torrent row's
 * deletion, so both commit in one transaction; the unlinks wait for that
 * commit (delete_intent_pending) and the row is deleted after them.  At
 * start torrent_finish_deletions unlinks what a crash left, before any
 * torrent loads.  Value: "<n> <moving>\n<rel 1>\n...\n<rel n>\n<save path>"
 * (relative paths hold no control characters, util/path.h; the save path,
 * last, may hold anything).  When a move of the torrent runs, its target
 * is cleaned as well and is carried in the intent:
 * "<n> 2 <len>\n<rel 1>\n...\n<rel n>\n<target, len bytes>\n<save path>";
 * the move's TORRENT_NS_MOVING row is deleted with the removal, so a
 * torrent added again never inherits it (older rows say "<n> 1" and left
 * the target in that row).  Returns 0 (also when there is nothing to
 * record) or a negative errno. */
int torrent_queue_delete_intent(struct torrent *t);
void torrent_forget_delete_intent(struct torrent *t);
char *torrent_clean_rel_path(const char *p);   /* NULL: empty, absolute or not clean */
/* Remembers file `index`'s new path (replacing an earlier rename of it in
 * place, so the saved order is the order of first renames). */
int torrent_set_renamed(struct torrent *t, size_t index, const char *path);
void torrent_clear_renamed(struct torrent *t);

#endif
