/* notify — e-mail notifications as qBittorrent sends them: when a torrent
 * finishes (if mail_notification_enabled) and on app/sendTestEmail.  Sent
 * over SMTP by util/fetch on the loop; failures are logged, never fatal. */
#ifndef TD_CORE_NOTIFY_H
#define TD_CORE_NOTIFY_H

struct session;
struct torrent;

void notify_torrent_finished(struct torrent *t);
/* Sends the test e-mail whatever mail_notification_enabled says. */
int notify_test_mail(struct session *s);

#endif
