/* notify — what happens when a torrent event occurs, in one place: the
 * engine calls these and they fan out to the modules that act on the
 * preferences.
 *   added              external program (core/runprog), .torrent export to
 *                      export_dir (core/export) when the metadata is known
 *   metadata received  export to export_dir (a magnet's .torrent)
 *   finished           e-mail (mail_notification_enabled, sent over SMTP by
 *                      util/fetch; failures logged, never fatal), external
 *                      programs (autorun, µTorrent's finish_cmd), export to
 *                      export_dir_fin
 * "Finished" is qBittorrent's: after the data has moved out of the
 * incomplete folder, when it had to (torrent_pieces.c).  State changes for
 * µTorrent's state_cmd are found by core/runprog itself. */
#ifndef TD_CORE_NOTIFY_H
#define TD_CORE_NOTIFY_H

struct session;
struct torrent;

/* Once the new torrent's row is committed and the torrent started (service.c). */
void notify_torrent_added(struct torrent *t);
/* A magnet's info dict has arrived and was stored (torrent_meta.c). */
void notify_metadata_received(struct torrent *t);
void notify_torrent_finished(struct torrent *t);
/* Sends the test e-mail whatever mail_notification_enabled says. */
int notify_test_mail(struct session *s);

/* A layer above core (automation's on_add / on_finish) hears of added and
 * finished torrents through one observer per session, called after the
 * modules above.  o must outlive the session's use of it; NULL removes it. */
struct notify_observer {
    void (*added)(void *ud, struct torrent *t);
    void (*finished)(void *ud, struct torrent *t);
    void *ud;
};
void notify_set_observer(struct session *s, const struct notify_observer *o);

#endif
