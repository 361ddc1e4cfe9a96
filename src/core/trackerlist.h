/* trackerlist — qBittorrent's "automatically add these trackers from a URL"
 * (add_trackers_from_url_enabled, add_trackers_url): the list is fetched
 * when the feature is switched on, when the URL changes and every 24 hours
 * (SessionImpl::updateTrackersFromURL), kept in the read-only preference
 * add_trackers_url_list, and appended to every new torrent but a private
 * one after add_trackers' entries (core/service.c), an empty line starting
 * the next tier.  Logs qBittorrent's "Tracker list updated" and "Failed to
 * update tracker list. Reason: \"%1\"".  Switched off, the list is
 * emptied.  Loop thread only.
 */
#ifndef TD_CORE_TRACKERLIST_H
#define TD_CORE_TRACKERLIST_H

struct session;

#define TRACKERLIST_REFRESH_MS (24ull * 3600 * 1000)
#define TRACKERLIST_MAX_BYTES (1u << 20)

/* 0 or -ENOMEM.  Fetches at once when the feature is on. */
int trackerlist_start(struct session *s);
/* Cancels a fetch in flight and closes the timer (the loop finishes it). */
void trackerlist_close(struct session *s);

#endif
