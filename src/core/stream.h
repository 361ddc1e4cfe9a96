/* stream — reading one file of a torrent by byte range while the torrent
 * may still be downloading it (µTorrent's /proxy, a media player seeking).
 *
 * A stream is opened on (torrent, visible file index: pad files hidden, as
 * core/view.h counts them) and reads at most one range at a time.  Bytes
 * come only from verified pieces, through the disk workers (disk/storage),
 * so a stream never blocks the loop and never shows data that failed its
 * hash.  The file index maps through the metainfo: no client-given path is
 * ever opened.
 *
 * Pieces a read needs that we do not have yet are made time-critical in the
 * picker (bt_picker_set_critical, libtorrent's set_piece_deadline): every
 * peer is asked for them before anything else, also in sequential mode.
 * The stream also marks a read-ahead window after the position it reads
 * (STREAM_READAHEAD_BYTES, at least 2 pieces, at most 16), so a player
 * reading front to back rarely waits; the marks go when the stream moves
 * on or closes.  A read that waits gives up after STREAM_WAIT_MS without
 * the piece (-ETIMEDOUT).  A piece that cannot come is an error at once
 * (-ENODATA): the torrent is stopped or in error, or the piece lies only in
 * files set to "do not download" (a stream never changes file priorities).
 *
 * Stream id (µTorrent's STREAM_ID, row [22], /proxy?sid=): the torrent's
 * info-hash in upper-case hex, stable for the torrent's life and across
 * restarts; any case is accepted back (session_find_hex).
 *
 * Loop thread only.  Callbacks run on the loop thread, never from inside
 * stream_read or stream_close.
 */
#ifndef TD_CORE_STREAM_H
#define TD_CORE_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct torrent;
struct stream;

#define STREAM_ID_LEN 41                    /* with the NUL */
#define STREAM_WAIT_MS 60000u               /* a missing piece may take this long */
#define STREAM_MAX_READ (256u * 1024)       /* bytes one read returns at most */
#define STREAM_READAHEAD_BYTES (4 << 20)

/* The stream id of t (see above) into out. */
void stream_id(const struct torrent *t, char out[STREAM_ID_LEN]);

/* Opens file `vis` (visible index) of t.  -EAGAIN: no metadata yet;
 * -ENOENT: no such file; -ENOMEM. */
int stream_open(struct torrent *t, size_t vis, struct stream **out);

/* The file's size in bytes and its path inside the torrent (as when the
 * stream was opened; renames later do not change it).  Borrowed until
 * stream_close. */
int64_t stream_size(const struct stream *st);
const char *stream_path(const struct stream *st);

/* rc 0: data[0..len) are the bytes at the offset asked for (len > 0, at
 * most what was asked), valid only during the call.  rc < 0: -ETIMEDOUT,
 * -ENODATA (see above), -ENOENT (the torrent was removed), or the disk's
 * -errno. */
typedef void (*stream_read_cb)(void *ud, int rc, const uint8_t *data, size_t len);

/* Reads up to len bytes at file offset off: fewer when the range crosses
 * a piece boundary or exceeds STREAM_MAX_READ.  Returns 0 when cb will be
 * called; -EINVAL (len 0, off outside the file), -EBUSY (a read is in
 * progress), -ENOENT (torrent removed), -ENODATA, -ENOMEM: cb will not be
 * called then. */
int stream_read(struct stream *st, int64_t off, size_t len, stream_read_cb cb, void *ud);

/* Cancels the read in progress (its cb is not called), drops the critical
 * marks and frees the stream (later, on the loop).  NULL is a no-op. */
void stream_close(struct stream *st);

/* ---- torrent hooks (core/torrent*.c) ---- */

/* A piece passed its hash and is on disk: wake the streams waiting for it. */
void stream_piece_had(struct torrent *t, uint32_t piece);
/* The picker was rebuilt (recheck): put the critical marks back. */
void stream_picker_reset(struct torrent *t);
/* The torrent is being removed or closed: every stream fails its read with
 * -ENOENT and reads nothing more. */
void stream_torrent_gone(struct torrent *t);

#endif
