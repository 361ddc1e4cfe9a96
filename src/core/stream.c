/* stream — byte ranges of a torrent's file, also while it downloads.
 * See stream.h for the contract; the picker's side is bt_picker_set_critical.
 */
#include "core/stream.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bt/metainfo.h"
#include "bt/picker.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/view.h"
#include "disk/storage.h"
#include "util/log.h"

#define STREAM_POLL_MS 250   /* while waiting: a piece may also appear by a check, a move may end */
#define READAHEAD_MIN 2u
#define READAHEAD_MAX 16u

struct stream_io;

struct stream {
    struct torrent *t;            /* NULL once the torrent is gone */
    uv_loop_t *loop;
    struct stream *prev, *next;   /* t->streams */
    int64_t base, size;           /* the file's offset in the torrent's bytes, its length */
    char *path;
    uint32_t win_first, win_n;    /* pieces this stream has marked critical */
    /* the read in progress */
    bool busy, waiting, failed;
    int fail_rc;
    int64_t off;
    size_t len;
    uint64_t deadline_ms;
    stream_read_cb cb;
    void *ud;
    struct stream_io *io;         /* storage read in flight, or NULL */
    uv_timer_t timer;             /* polls while waiting; delivers deferred failures */
};

/* A storage read; outlives the stream when it is closed meanwhile. */
struct stream_io {
    struct stream *st;            /* NULL: nobody wants the bytes any more */
};

void stream_id(const struct torrent *t, char out[STREAM_ID_LEN])
{
    for (int i = 0; i < 40; i++)
        out[i] = (char)toupper((unsigned char)t->hex[i]);
    out[40] = 0;
}

int64_t stream_size(const struct stream *st) { return st->size; }
const char *stream_path(const struct stream *st) { return st->path; }

/* ---- critical marks ---- */

static void unmark(struct stream *st)
{
    if (st->t && st->t->picker)
        for (uint32_t i = 0; i < st->win_n; i++)
            bt_picker_set_critical(st->t->picker, st->win_first + i, false);
    st->win_n = 0;
}

static void mark(struct stream *st)
{
    struct torrent *t = st->t;
    bool missing = false;
    for (uint32_t i = 0; i < st->win_n; i++) {
        uint32_t p = st->win_first + i;
        if (bt_picker_set_critical(t->picker, p, true) != 0) {
            st->win_n = i;   /* out of memory: keep what is marked */
            break;
        }
        missing |= !bitfield_get(&t->have, p);
    }
    if (missing)
        for (struct peer *p = t->peers; p; p = p->next)
            torrent_fill_requests(t, p);
}

/* The pieces from the one holding `off` to the read-ahead's end, within
 * the file. */
static void move_window(struct stream *st, int64_t off)
{
    struct torrent *t = st->t;
    int64_t plen = t->mi->piece_length;
    uint32_t first = (uint32_t)((st->base + off) / plen);
    uint32_t last = (uint32_t)((st->base + st->size - 1) / plen);
    uint32_t n = (uint32_t)(STREAM_READAHEAD_BYTES / plen) + 1;
    n = n < READAHEAD_MIN ? READAHEAD_MIN : n > READAHEAD_MAX ? READAHEAD_MAX : n;
    if (n > last - first + 1)
        n = last - first + 1;
    if (first == st->win_first && n == st->win_n)
        return;
    unmark(st);
    st->win_first = first;
    st->win_n = n;
    mark(st);
}

/* ---- reading ---- */

static void finish(struct stream *st, int rc, const uint8_t *data, size_t len)
{
    stream_read_cb cb = st->cb;
    void *ud = st->ud;
    st->busy = st->waiting = st->failed = false;
    st->cb = NULL;
    uv_timer_stop(&st->timer);
    cb(ud, rc, data, len);
}

static void on_read(void *ud, int rc, uint8_t *data, uint32_t len)
{
    struct stream_io *io = ud;
    struct stream *st = io->st;
    free(io);
    if (st) {
        st->io = NULL;
        if (rc == 0)
            finish(st, 0, data, len);
        else
            finish(st, rc, NULL, 0);
    }
    free(data);
}

static void on_timer(uv_timer_t *h);

/* The read's next step: the bytes if the piece is had, else wait for it.
 * 0: under way (cb will run); < 0: the read failed (cb not called). */
static int step(struct stream *st)
{
    struct torrent *t = st->t;
    if (!t)
        return -ENOENT;
    int64_t plen = t->mi->piece_length;
    int64_t abs = st->base + st->off;
    uint32_t piece = (uint32_t)(abs / plen);
    move_window(st, st->off);
    if (!bitfield_get(&t->have, piece)) {
        if (t->stopped || t->phase == TP_ERROR || !bitfield_get(&t->wanted, piece))
            return -ENODATA;
        if (!st->waiting) {
            st->waiting = true;
            st->deadline_ms = uv_now(st->loop) + STREAM_WAIT_MS;
        }
        uv_timer_start(&st->timer, on_timer, STREAM_POLL_MS, 0);
        return 0;
    }
    st->waiting = false;
    uint32_t begin = (uint32_t)(abs - (int64_t)piece * plen);
    uint32_t n = (uint32_t)torrent_piece_size(t, piece) - begin;
    if (st->len < n)
        n = (uint32_t)st->len;
    struct stream_io *io = malloc(sizeof *io);
    if (!io)
        return -ENOMEM;
    io->st = st;
    int rc = storage_read(t->st, piece, begin, n, on_read, io);
    if (rc == -EBUSY) {
        /* A move or delete holds the files: try again shortly. */
        free(io);
        if (!st->waiting) {
            st->waiting = true;
            st->deadline_ms = uv_now(st->loop) + STREAM_WAIT_MS;
        }
        uv_timer_start(&st->timer, on_timer, STREAM_POLL_MS, 0);
        return 0;
    }
    if (rc != 0) {
        free(io);
        return rc;
    }
    st->io = io;
    return 0;
}

/* Asynchronous steps: a failure goes to the callback. */
static void step_async(struct stream *st)
{
    int rc = step(st);
    if (rc < 0)
        finish(st, rc, NULL, 0);
}

static void on_timer(uv_timer_t *h)
{
    struct stream *st = h->data;
    if (!st->busy || st->io)
        return;
    if (st->failed) {
        finish(st, st->fail_rc, NULL, 0);
        return;
    }
    if (st->waiting && uv_now(st->loop) >= st->deadline_ms && !(st->t && bitfield_get(&st->t->have,
                       (uint32_t)((st->base + st->off) / st->t->mi->piece_length)))) {
        finish(st, -ETIMEDOUT, NULL, 0);
        return;
    }
    step_async(st);
}

int stream_read(struct stream *st, int64_t off, size_t len, stream_read_cb cb, void *ud)
{
    if (!cb || len == 0 || off < 0 || off >= st->size)
        return -EINVAL;
    if (st->busy)
        return -EBUSY;
    if (!st->t)
        return -ENOENT;
    if ((int64_t)len > st->size - off)
        len = (size_t)(st->size - off);
    if (len > STREAM_MAX_READ)
        len = STREAM_MAX_READ;
    st->busy = true;
    st->waiting = st->failed = false;
    st->off = off;
    st->len = len;
    st->cb = cb;
    st->ud = ud;
    int rc = step(st);
    if (rc < 0) {
        st->busy = false;
        st->cb = NULL;
    }
    return rc;
}

/* ---- open, close ---- */

int stream_open(struct torrent *t, size_t vis, struct stream **out)
{
    session_assert_loop_thread(t->s);
    if (!t->mi || !t->picker || !t->st)
        return -EAGAIN;
    struct view_file f;
    if (view_file(t, vis, &f) != 0)
        return -ENOENT;
    struct stream *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(f.path))) {
        free(st);
        return -ENOMEM;
    }
    st->t = t;
    st->loop = t->s->loop;
    st->base = f.offset;
    st->size = f.size;
    uv_timer_init(st->loop, &st->timer);
    st->timer.data = st;
    st->next = t->streams;
    if (t->streams)
        t->streams->prev = st;
    t->streams = st;
    *out = st;
    return 0;
}

static void unlink_stream(struct stream *st)
{
    struct torrent *t = st->t;
    if (!t)
        return;
    if (st->prev)
        st->prev->next = st->next;
    else
        t->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    st->prev = st->next = NULL;
}

static void on_closed(uv_handle_t *h)
{
    struct stream *st = h->data;
    free(st->path);
    free(st);
}

void stream_close(struct stream *st)
{
    if (!st)
        return;
    unmark(st);
    unlink_stream(st);
    st->t = NULL;
    if (st->io)
        st->io->st = NULL;   /* its completion frees the bytes */
    uv_close((uv_handle_t *)&st->timer, on_closed);
}

/* ---- torrent hooks ---- */

void stream_piece_had(struct torrent *t, uint32_t piece)
{
    struct stream *next;
    for (struct stream *st = t->streams; st; st = next) {
        next = st->next;   /* a callback may close its own stream */
        if (!st->busy || !st->waiting || st->io || st->failed ||
            (uint32_t)((st->base + st->off) / t->mi->piece_length) != piece)
            continue;
        step_async(st);
    }
}

void stream_picker_reset(struct torrent *t)
{
    for (struct stream *st = t->streams; st; st = st->next)
        mark(st);
}

void stream_torrent_gone(struct torrent *t)
{
    while (t->streams) {
        struct stream *st = t->streams;
        unmark(st);
        unlink_stream(st);
        st->t = NULL;
        if (st->busy && !st->io) {
            /* Not from inside the removal: the timer delivers it. */
            st->failed = true;
            st->fail_rc = -ENOENT;
            uv_timer_start(&st->timer, on_timer, 0, 0);
        }
    }
}
