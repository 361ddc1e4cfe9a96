/* trackerlist — see trackerlist.h. */
#include "core/trackerlist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/proxy.h"
#include "core/session.h"
#include "util/fetch.h"
#include "util/log.h"

struct trackerlist {
    struct session *s;
    uv_timer_t timer;
    struct fetch_req *req;
    bool enabled;              /* as last applied */
    char *url;                 /* as last applied */
};

static void set_list(struct session *s, const char *text)
{
    if (strcmp(settings_str(&s->settings, SET_ADD_TRACKERS_URL_LIST), text) == 0)
        return;
    struct settings_mask m = {0};
    if (settings_set_str(&s->settings, SET_ADD_TRACKERS_URL_LIST, text, &m) == 0)
        session_settings_changed(s, &m, NULL, NULL);
}

static void on_fetched(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg)
{
    struct trackerlist *tl = ud;
    tl->req = NULL;
    if (rc == 0 && status >= 200 && status < 300) {
        (void)len;
        set_list(tl->s, (const char *)body);   /* NUL-terminated by fetch */
        log_msg(LOG_INFO, "Tracker list updated");
        return;
    }
    char why[300];
    if (rc == 0)
        snprintf(why, sizeof why, "HTTP %ld", status);
    else
        snprintf(why, sizeof why, "%s", errmsg && *errmsg ? errmsg : strerror(-rc));
    log_msg(LOG_WARNING, "Failed to update tracker list. Reason: \"%s\"", why);
}

static void update(struct trackerlist *tl)
{
    struct session *s = tl->s;
    if (tl->req) {
        fetch_cancel(tl->req);
        tl->req = NULL;
    }
    const char *url = settings_str(&s->settings, SET_ADD_TRACKERS_URL);
    if (!*url) {
        set_list(s, "");
        return;
    }
    char proxy[2048];   /* general purpose: proxy_misc */
    int rc = proxy_url(s, PROXY_USE_MISC, proxy, sizeof proxy);
    struct fetch_opts o = {.follow_redirects = 1, .max_body = TRACKERLIST_MAX_BYTES, .proxy = proxy};
    if (rc == 0)
        rc = fetch_get(s->fetch, url, &o, on_fetched, tl, &tl->req);
    if (rc != 0) {
        tl->req = NULL;
        log_msg(LOG_WARNING, "Failed to update tracker list. Reason: \"%s\"", strerror(-rc));
    }
}

static void on_timer(uv_timer_t *h)
{
    update(h->data);
}

/* Switched on: fetch and refresh daily; the URL changed: fetch again;
 * switched off: stop and empty the list (qBittorrent's setters). */
static void apply(struct trackerlist *tl)
{
    struct session *s = tl->s;
    bool on = settings_bool(&s->settings, SET_ADD_TRACKERS_FROM_URL_ENABLED);
    const char *url = settings_str(&s->settings, SET_ADD_TRACKERS_URL);
    bool url_changed = !tl->url || strcmp(tl->url, url) != 0;
    if (url_changed) {
        free(tl->url);
        tl->url = strdup(url);
    }
    if (on && (!tl->enabled || url_changed)) {
        update(tl);
        uv_timer_start(&tl->timer, on_timer, TRACKERLIST_REFRESH_MS, TRACKERLIST_REFRESH_MS);
    } else if (!on && tl->enabled) {
        uv_timer_stop(&tl->timer);
        if (tl->req) {
            fetch_cancel(tl->req);
            tl->req = NULL;
        }
        set_list(s, "");
    }
    tl->enabled = on;
}

static void on_settings(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    apply(ud);
}

int trackerlist_start(struct session *s)
{
    struct trackerlist *tl = calloc(1, sizeof *tl);
    if (!tl)
        return -ENOMEM;
    tl->s = s;
    uv_timer_init(s->loop, &tl->timer);
    tl->timer.data = tl;
    s->trackerlist = tl;
    int rc = settings_add_hook(&s->settings, SG_TRACKER_LIST, on_settings, tl);
    if (rc != 0)
        return rc;
    apply(tl);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    struct trackerlist *tl = h->data;
    free(tl->url);
    free(tl);
}

void trackerlist_close(struct session *s)
{
    struct trackerlist *tl = s->trackerlist;
    if (!tl)
        return;
    s->trackerlist = NULL;
    settings_remove_hook(&s->settings, on_settings, tl);
    if (tl->req)
        fetch_cancel(tl->req);
    uv_close((uv_handle_t *)&tl->timer, on_closed);
}
