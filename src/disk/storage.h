/* storage — one torrent's data on disk: file layout, piece I/O, hash check,
 * delete and move.
 *
 * The engine owns torrent state on the loop thread and must never block on
 * the disk, so every operation here that touches the file system (open,
 * pread, pwrite, SHA-1, unlink, rename) runs on libuv's threadpool, and its
 * callback runs back on the loop thread.  The only exception is
 * storage_stat_files(), which is stat() only.
 *
 * The torrent's bytes are the concatenation of its files (struct bt_file
 * offsets).  Pad files (BEP47) are never created and read as zeros.  Files
 * are created sparse: ftruncate()d to their full length when first created;
 * storage_preallocate() allocates their blocks up front instead.
 *
 * Safety: a torrent must never write outside its save path.  Paths come
 * from path_join(save_path, file->path) and are refused with -EPERM unless
 * they are strictly below save_path.  Writes open every component below
 * save_path with O_NOFOLLOW, so a symlink inside the save path (planted or
 * not) can never redirect a write elsewhere.  Reads follow symlinks, so data
 * linked in by the user (cross-seeding) can be checked and seeded.
 */
#ifndef TD_DISK_STORAGE_H
#define TD_DISK_STORAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "bt/metainfo.h"

struct storage;
struct storage_check;

/* Validates the layout (contiguous offsets, piece count) and remembers the
 * save path; no I/O yet.  mi must outlive the storage.  0, -EINVAL or
 * -ENOMEM. */
int storage_open(uv_loop_t *loop, const struct bt_metainfo *mi, const char *save_path,
                 struct storage **out);

/* Cancels running checks (their done callback is not called), waits for
 * every other job in flight (their callbacks still run), closes cached file
 * descriptors and frees the storage; then calls done(ud) on the loop
 * thread.  No other call on st is allowed after this. */
void storage_close(struct storage *st, void (*done)(void *ud), void *ud);

/* One byte per file, as qBittorrent's priorities (0 = do not download).
 * A file with priority 0 is never created by a piece that lies only in
 * unwanted files; a wanted piece that also overlaps an unwanted file writes
 * its bytes there too (creating it), as qBittorrent does.  Takes effect for
 * writes queued afterwards.  0 or -ENOMEM. */
int storage_set_file_priorities(struct storage *st, const uint8_t *prios);

/* Writes from now on are synchronous (O_DSYNC on the files opened for
 * writing, µTorrent's all_writes_sync): a piece's write job completes once
 * its data is on the device.  Cached writable descriptors opened the other
 * way are not reused for writes (they close when idle). */
void storage_set_sync_writes(struct storage *st, bool on);

/* Allocates the blocks of every wanted (priority > 0), non-pad, non-empty
 * file to its full length with posix_fallocate() on a worker, creating the
 * file as a write would (qBittorrent's preallocate_all, µTorrent's
 * prealloc_space).  Piece writes submitted while it runs wait for it, so no
 * piece is written into a file before its space is reserved.  done's rc is
 * 0 or the first -errno (-ENOSPC, -EFBIG, -EPERM for an unsafe path...);
 * files allocated before a failure stay.  Returns 0 if queued (done will be
 * called), -EINVAL (no done), -EBUSY, -ESHUTDOWN or -ENOMEM. */
int storage_preallocate(struct storage *st, void (*done)(void *ud, int rc), void *ud);

/* rc: 0 written; -EILSEQ the SHA-1 did not match (nothing written);
 * -ENOENT the piece lies only in unwanted files that do not exist (nothing
 * written, so it must not be counted as had); -EPERM unsafe path; or
 * another -errno from the file system (-ENOSPC, -EACCES, -EFBIG, ...). */
typedef void (*storage_write_cb)(void *ud, uint32_t piece, int rc);

/* Takes ownership of data in every case (freed on error too); it must be
 * exactly the piece's size.  Verifies the hash, then writes the piece across
 * the files it spans.  Returns 0 if queued (cb will be called), -EINVAL for a
 * bad piece index or NULL data, -EBUSY during a move or delete, -ESHUTDOWN
 * after storage_close, -ENOMEM. */
int storage_write_piece(struct storage *st, uint32_t piece, uint8_t *data,
                        storage_write_cb cb, void *ud);

/* The same, and in the worker, the SHA-1 of each STORAGE_HASH_BLOCK-sized
 * block of the data (the last one shorter) into block_sha1 (one entry per
 * block, owned by the caller, untouched until cb) when the piece fails its
 * hash, or always when `always`: smart-ban compares the blocks of a failed
 * piece with those of its good copy, at no cost for pieces that pass. */
#define STORAGE_HASH_BLOCK 16384
int storage_write_piece_hashed(struct storage *st, uint32_t piece, uint8_t *data, uint8_t (*block_sha1)[20],
                               bool always, storage_write_cb cb, void *ud);

/* Durability: fdatasync()s, on a worker, every file written since the last
 * sync (and fsyncs the directory of each file created since), so that once
 * cb(ud, 0) runs, every piece whose write callback ran before this call is
 * on stable storage.  Resume data claiming a piece must be committed only
 * after that (core/torrent_persist.c).  cb gets 0 or the first -errno
 * (-EIO, -ENOSPC, ...; the files that failed stay due for the next sync).
 * Returns 0 if queued, 1 when nothing was written since the last sync (cb
 * is not called: there is nothing to wait for), -EBUSY during a move or
 * delete, -ESHUTDOWN, -EINVAL (no cb) or -ENOMEM. */
int storage_sync(struct storage *st, void (*cb)(void *ud, int rc), void *ud);
/* Forgets what is due for the next sync: the caller no longer claims any
 * piece written since the last sync that succeeded (it demoted them after
 * the disk failed), and syncing files that died with the disk (a file the
 * cut took back is gone: ENOENT) would only fail again. */
void storage_forget_unsynced(struct storage *st);

/* The path (relative to the save path) of the file that the job whose
 * callback is running failed in -- valid only inside a write, read or sync
 * callback with rc < 0 --, or NULL when no file is to blame. */
const char *storage_error_file(const struct storage *st);

/* As libtorrent releases a paused torrent's files: closes the file
 * descriptors no job is using and, until storage_hold_files(), caches none
 * -- a job still running or queued at the stop closes its descriptor when
 * it ends --, so a stopped torrent keeps nothing open (its volume can be
 * unmounted) once its jobs are done. */
void storage_release_files(struct storage *st);
/* Ends storage_release_files(): descriptors are cached again (a started
 * torrent). */
void storage_hold_files(struct storage *st);

/* µTorrent Server's write_coalesce_max_size: a verified piece goes to disk
 * in pwrite()s of at most `bytes` each (contiguous data of one file; a piece
 * spanning files takes one or more per file).  0 (the default) writes each
 * file's run of the piece at once.  Blocks are never written before their
 * piece is whole and verified, so what is coalesced is at most one piece;
 * STORAGE_HASH_BLOCK writes every 16 KiB block on its own, as an uncached
 * client writes blocks as they arrive.  Takes effect for writes queued
 * afterwards. */
void storage_set_write_chunk(struct storage *st, size_t bytes);

/* µTorrent Server's minimize_kernel_caching: files opened for writing
 * afterwards that lie on a vfat file system (statfs f_type
 * MSDOS_SUPER_MAGIC, a USB stick) are opened O_SYNC, so the kernel's
 * cache of dirty pages for the slow device cannot grow until it stalls the
 * machine; other file systems are unchanged.  Files already open keep
 * their mode until the idle fd cache closes them.  (µTorrent also switched
 * such torrents to compact allocation, which torrentd does not have: its
 * files are sparse.) */
void storage_set_minimize_kernel_caching(struct storage *st, bool on);
/* The decision, for a file system of type f_type: O_SYNC or 0. */
int storage_sync_flags(long f_type, bool minimize_kernel_caching);

/* rc 0: data is a malloc'd block of len bytes which the callback owns and
 * must free.  rc < 0: data is NULL; -ENOENT a file is missing, -EIO a file is
 * shorter than the torrent says, or another -errno. */
typedef void (*storage_read_cb)(void *ud, int rc, uint8_t *data, uint32_t len);

/* Reads [begin, begin+len) of a piece; pad-file ranges read as zeros.
 * Returns 0 if queued, -EINVAL if the range is empty or leaves the piece,
 * -EBUSY, -ESHUTDOWN or -ENOMEM. */
int storage_read(struct storage *st, uint32_t piece, uint32_t begin, uint32_t len,
                 storage_read_cb cb, void *ud);

/* done <= total, both in pieces.  Called at most ~10 times a second. */
typedef void (*storage_check_progress_cb)(void *ud, uint32_t done, uint32_t total);

/* have_bits: ceil(num_pieces/8) bytes in BEP3 order (bit 0 = high bit of
 * byte 0, spare bits zero), valid only during the call.  rc is 0 unless the
 * check itself could not run (-ENOMEM); unreadable pieces are just absent. */
typedef void (*storage_check_done_cb)(void *ud, int rc, const uint8_t *have_bits,
                                      uint32_t num_pieces);

/* Hashes every piece whose files are on disk; pieces in missing or too short
 * files are absent without being read.  The piece range is split into
 * chunks hashed by at most 2 parallel threadpool jobs, so a check uses two
 * cores without starving other torrents' writes.  prog may be NULL.
 * *handle (handle may be NULL) stays valid until done is called or the
 * check is cancelled.
 * Returns 0, -EBUSY (a move or delete is running), -ESHUTDOWN or -ENOMEM. */
int storage_check(struct storage *st, storage_check_progress_cb prog,
                  storage_check_done_cb done, void *ud, struct storage_check **handle);

/* Stops a check; its done callback will not be called.  Must not be called
 * after done ran.  Safe to call from the progress callback. */
void storage_check_cancel(struct storage_check *c);

/* Synchronous stat() of each file, for resume data: sizes[i] in bytes and
 * mtimes[i] in epoch seconds, -1 when the file is missing (pad files are
 * always -1).  Either array may be NULL.  Returns 0. */
int storage_stat_files(struct storage *st, int64_t *sizes, int64_t *mtimes);

/* Unlinks the torrent's files, then removes the directories named by its
 * paths that became empty (never save_path itself, never anything else).
 * Waits for jobs in flight; reads and writes are refused with -EBUSY until it
 * is done.  done's rc is 0 or the first -errno other than -ENOENT.  Returns
 * 0 if queued, -EINVAL (no done), -EBUSY if a check, move or delete is running, -ESHUTDOWN,
 * -ENOMEM. */
int storage_delete_files(struct storage *st, void (*done)(void *ud, int rc), void *ud);

/* The same without a storage, synchronously on the calling thread (startup
 * finishing a deletion a crash interrupted): unlinks save_path/rel[i] for
 * each relative path (one that is unsafe or would leave save_path is
 * refused), then removes the folders of those paths that became empty.
 * Returns 0 or the first -errno other than -ENOENT; -EINVAL for an empty
 * save_path. */
int storage_delete_paths(const char *save_path, const char *const *rel, size_t n);

/* Moves the files that exist to new_save_path (rename when on the same file
 * system, else copy + fsync + unlink), removes the emptied directories under
 * the old path, and from then on uses the new path.  Same concurrency rules
 * as storage_delete_files().  If any file fails, the storage keeps the old
 * path and done gets the -errno (files already moved stay moved).  Returns
 * 0 if queued, -EINVAL for an empty path, -EBUSY, -ESHUTDOWN, -ENOMEM. */
int storage_move(struct storage *st, const char *new_save_path,
                 void (*done)(void *ud, int rc), void *ud);

/* The current save path (changes after a successful move). */
const char *storage_save_path(const struct storage *st);

/* Renames files idx[k] to new_rel[k] (relative, already sanitized) on a
 * worker while nothing else of this storage runs; files not created yet are
 * skipped.  idx and new_rel must stay valid until done, which runs on the
 * loop thread before any other job of this storage starts: that is where
 * the caller swaps the paths in its metainfo. */
int storage_rename_files(struct storage *st, const size_t *idx, char *const *new_rel, size_t n,
                         void (*done)(void *ud, int rc), void *ud);

#endif
