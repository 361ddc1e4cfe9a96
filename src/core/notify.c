#include "core/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/session.h"
#include "core/torrent.h"
#include "util/fetch.h"
#include "util/log.h"

static void on_sent(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *err)
{
    (void)ud;
    (void)body;
    (void)len;
    if (rc == 0 && status >= 200 && status < 300)
        log_msg(LOG_INFO, "notification e-mail sent");
    else
        log_msg(LOG_WARNING, "notification e-mail failed: %s", rc != 0 ? err : "refused by the server");
}

static int send_mail(struct session *s, const char *subject, const char *body)
{
    const struct prefs *p = &s->prefs;
    bool auth = prefs_bool(p, "mail_notification_auth_enabled");
    struct fetch_mail m = {
        .server = prefs_str(p, "mail_notification_smtp"),
        .tls = prefs_bool(p, "mail_notification_ssl_enabled"),
        .username = auth ? prefs_str(p, "mail_notification_username") : NULL,
        .password = auth ? prefs_str(p, "mail_notification_password") : NULL,
        .from = prefs_str(p, "mail_notification_sender"),
        .to = prefs_str(p, "mail_notification_email"),
        .subject = subject,
        .body = body,
    };
    int rc = s->fetch ? fetch_mail(s->fetch, &m, on_sent, NULL, NULL) : -ENOTCONN;
    if (rc != 0)
        log_msg(LOG_WARNING, "notification e-mail not sent: %s", rc == -EINVAL ? "incomplete mail settings"
                                                                              : "cannot start");
    return rc;
}

int notify_test_mail(struct session *s)
{
    return send_mail(s, "[torrentd] Test email", "Test email");
}

void notify_torrent_finished(struct torrent *t)
{
    if (!prefs_bool(&t->s->prefs, "mail_notification_enabled"))
        return;
    char subject[512], body[4096];
    snprintf(subject, sizeof subject, "[torrentd] '%s' has finished downloading.", torrent_name(t));
    snprintf(body, sizeof body,
             "Torrent name: %s\nTorrent size: %lld bytes\nSave path: %s\n\n"
             "The torrent was downloaded in %lld seconds.\n\nThank you for using torrentd.\n",
             torrent_name(t), (long long)t->wanted_size, t->save_path, (long long)t->active_time);
    send_mail(t->s, subject, body);
}
