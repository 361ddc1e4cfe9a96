/* webseed — downloading pieces over HTTP from a torrent's web seeds
 * (BEP19, "url-list"): a web seed is a server holding the files, asked for
 * byte ranges with libcurl on the loop (util/fetch).
 *
 * Each web seed fetches one run of blocks of one piece at a time, chosen by
 * the same picker as peers (it counts as a peer that has everything).  A
 * seed that answers wrongly or fails is retried later and later.  Seeds of
 * other schemes (ftp://) are listed but never used, as with libtorrent.
 */
#ifndef TD_CORE_WEBSEED_H
#define TD_CORE_WEBSEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct torrent;
struct webseed;

/* A torrent's web seeds (torrent.webseeds); only webseed.c writes it. */
struct webseed_set {
    struct webseed **seeds;      /* only while the torrent is active */
    size_t num;
    char **warned;               /* unusable seed URLs already logged (for the run) */
    size_t num_warned;
};

/* Whether mi->web_seeds no longer matches the running list. */
bool webseed_changed(const struct torrent *t);
/* (Re)builds the torrent's web seed list from mi->web_seeds. */
void webseed_sync(struct torrent *t);
/* Once per second for active, unfinished torrents with metadata: starts
 * idle seeds; logs a WARNING, once per torrent and URL for the daemon's
 * run, for each seed it cannot use (not http/https), as qBittorrent does. */
void webseed_tick(struct torrent *t, uint64_t now_ms);
/* Frees what outlives stop/start (the URLs already warned about). */
void webseed_forget(struct torrent *t);
/* Cancels transfers and frees the list (stop, removal). */
void webseed_free_all(struct torrent *t);
/* Whether tag, a requester the picker handed back, is one of t's web seeds
 * (and not a peer). */
bool webseed_is_tag(const struct torrent *t, const void *tag);

#endif
