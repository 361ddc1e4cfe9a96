/* limits — global and per-torrent transfer rate limits.
 *
 * Token buckets (util/rate.h) for the session (normal or alternative
 * limits, from preferences) and for each torrent.  Uploads take tokens
 * before a block is read from disk; downloads are charged after the bytes
 * arrived and a peer whose charge could not be paid stops reading until the
 * bucket refills (TCP flow control then slows the sender).  A 100 ms quota
 * timer wakes throttled peers; it does nothing while nobody is throttled.
 */
#ifndef TD_CORE_LIMITS_H
#define TD_CORE_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

struct session;
struct torrent;
struct peer;

void limits_init(struct session *s);
void limits_close(struct session *s);

/* Re-reads dl_limit/up_limit or alt_dl_limit/alt_up_limit from prefs. */
void limits_apply(struct session *s);
/* Switches normal/alternative limits and persists the mode (cb after commit). */
int limits_set_alt(struct session *s, bool alt, void (*cb)(void *ud, int rc), void *ud);
/* Re-reads the torrent's own dl_limit/up_limit. */
void limits_apply_torrent(struct torrent *t);

/* true: len bytes may be uploaded now (tokens taken). */
bool limits_take_upload(struct peer *p, uint32_t len);
/* Charges n received bytes; false when the peer must pause reading. */
bool limits_charge_download(struct peer *p, uint64_t n);

#endif
