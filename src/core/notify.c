#include "core/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/export.h"
#include "core/runprog.h"
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
    const struct settings *p = &s->settings;
    bool auth = settings_bool(p, SET_MAIL_NOTIFICATION_AUTH_ENABLED);
    struct fetch_mail m = {
        .server = settings_str(p, SET_MAIL_NOTIFICATION_SMTP),
        .tls = settings_bool(p, SET_MAIL_NOTIFICATION_SSL_ENABLED),
        .username = auth ? settings_str(p, SET_MAIL_NOTIFICATION_USERNAME) : NULL,
        .password = auth ? settings_str(p, SET_MAIL_NOTIFICATION_PASSWORD) : NULL,
        .from = settings_str(p, SET_MAIL_NOTIFICATION_SENDER),
        .to = settings_str(p, SET_MAIL_NOTIFICATION_EMAIL),
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

void notify_set_observer(struct session *s, const struct notify_observer *o)
{
    s->observer = o;
}

void notify_torrent_added(struct torrent *t)
{
    runprog_torrent_added(t->s, t);
    if (t->mi)
        export_torrent(t, settings_str(&t->s->settings, SET_EXPORT_DIR));
    if (t->s->observer && t->s->observer->added)
        t->s->observer->added(t->s->observer->ud, t);
}

void notify_metadata_received(struct torrent *t)
{
    export_torrent(t, settings_str(&t->s->settings, SET_EXPORT_DIR));
}

static void send_finished_mail(struct torrent *t)
{
    char subject[512], body[4096];
    snprintf(subject, sizeof subject, "[torrentd] '%s' has finished downloading.", torrent_name(t));
    snprintf(body, sizeof body,
             "Torrent name: %s\nTorrent size: %lld bytes\nSave path: %s\n\n"
             "The torrent was downloaded in %lld seconds.\n\nThank you for using torrentd.\n",
             torrent_name(t), (long long)t->wanted_size, t->save_path, (long long)t->active_time);
    send_mail(t->s, subject, body);
}

void notify_torrent_finished(struct torrent *t)
{
    runprog_torrent_finished(t->s, t);
    export_torrent(t, settings_str(&t->s->settings, SET_EXPORT_DIR_FIN));
    if (settings_bool(&t->s->settings, SET_MAIL_NOTIFICATION_ENABLED))
        send_finished_mail(t);
    if (t->s->observer && t->s->observer->finished)
        t->s->observer->finished(t->s->observer->ud, t);
}
