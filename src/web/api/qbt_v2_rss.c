/* web/api/qbt_v2_rss — the rss/ feed endpoints of qBittorrent 5.1
 * (rsscontroller.cpp; ../shared/docs/clients-wave2.md §3.1, outside the
 * repository) over rss/feeds.h.  Changes answer 200 once committed; the
 * RSS session's refusals answer 409 with its message.  The rule endpoints
 * (setRule, rules, matchingArticles ...) are the auto-downloader's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rss/feeds.h"
#include "rss/rss.h"
#include "web/api/qbt_v2.h"
#include "web/server.h"

static void on_done(void *ud, int rc)
{
    struct web_req *r = ud;
    if (rc == 0)
        web_reply_ok(r);
    else
        web_reply_error(r, 500, NULL);
}

/* 0 from a change: the reply follows the commit; else 409 with the RSS
 * session's message (500 when there is none: memory, a stuck store). */
static void answer(struct web_req *r, int rc, const char *err)
{
    if (rc == 0)
        return;
    web_reply_error(r, err[0] ? 409 : 500, err[0] ? err : NULL);
}

static bool need(struct web_req *r, const char *a, const char *b)
{
    if (web_req_param(r, a) && (!b || web_req_param(r, b)))
        return true;
    web_reply_error(r, 400, NULL);
    return false;
}

/* Qt's toLongLong: optional sign, digits, surrounding spaces; else !ok. */
static bool to_int(const char *s, long long *out)
{
    if (!s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    while (*end == ' ')
        end++;
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

static void h_add_folder(struct web_req *r, void *ud)
{
    if (!need(r, "path", NULL))
        return;
    char err[1024] = "";
    answer(r, rss_feeds_add_folder(rss_feeds(ud), web_req_param(r, "path"), err, sizeof err, on_done, r), err);
}

static void h_add_feed(struct web_req *r, void *ud)
{
    if (!need(r, "url", "path"))
        return;
    long long iv = 0;
    if (!to_int(web_req_param(r, "refreshInterval"), &iv) || iv < 0)
        iv = 0;
    char err[1024] = "";
    answer(r, rss_feeds_add_feed(rss_feeds(ud), web_req_param(r, "url"), web_req_param(r, "path"), iv, err,
                                 sizeof err, on_done, r),
           err);
}

static void h_set_feed_url(struct web_req *r, void *ud)
{
    if (!need(r, "path", "url"))
        return;
    char err[1024] = "";
    answer(r, rss_feeds_set_url(rss_feeds(ud), web_req_param(r, "path"), web_req_param(r, "url"), err, sizeof err,
                                on_done, r),
           err);
}

static void h_set_refresh_interval(struct web_req *r, void *ud)
{
    if (!need(r, "path", "refreshInterval"))
        return;
    long long iv;
    if (!to_int(web_req_param(r, "refreshInterval"), &iv) || iv < 0) {
        web_reply_error(r, 400, "Invalid 'refreshInterval' value");
        return;
    }
    char err[1024] = "";
    answer(r, rss_feeds_set_refresh_interval(rss_feeds(ud), web_req_param(r, "path"), iv, err, sizeof err, on_done,
                                             r),
           err);
}

static void h_remove_item(struct web_req *r, void *ud)
{
    if (!need(r, "path", NULL))
        return;
    char err[1024] = "";
    answer(r, rss_feeds_remove(rss_feeds(ud), web_req_param(r, "path"), err, sizeof err, on_done, r), err);
}

static void h_move_item(struct web_req *r, void *ud)
{
    if (!need(r, "itemPath", "destPath"))
        return;
    char err[1024] = "";
    answer(r, rss_feeds_move(rss_feeds(ud), web_req_param(r, "itemPath"), web_req_param(r, "destPath"), err,
                             sizeof err, on_done, r),
           err);
}

static void h_items(struct web_req *r, void *ud)
{
    web_reply_json(r, rss_feeds_json(rss_feeds(ud), web_req_bool(r, "withData", false)));
}

static void h_mark_as_read(struct web_req *r, void *ud)
{
    if (!need(r, "itemPath", NULL))
        return;
    char err[1] = "";
    answer(r, rss_feeds_mark_item_read(rss_feeds(ud), web_req_param(r, "itemPath"), web_req_param(r, "articleId"),
                                       on_done, r),
           err);
}

static void h_refresh_item(struct web_req *r, void *ud)
{
    if (!need(r, "itemPath", NULL))
        return;
    rss_feeds_refresh_item(rss_feeds(ud), web_req_param(r, "itemPath"));   /* unknown: ignored, as qBittorrent */
    web_reply_ok(r);
}

int qbt_v2_rss_register(struct web_server *ws, struct rss *rss)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/rss/addFolder", WEB_POST, h_add_folder, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/addFeed", WEB_POST, h_add_feed, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/setFeedURL", WEB_POST, h_set_feed_url, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/setFeedRefreshInterval", WEB_POST, h_set_refresh_interval, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/removeItem", WEB_POST, h_remove_item, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/moveItem", WEB_POST, h_move_item, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/items", WEB_GETPOST, h_items, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/markAsRead", WEB_POST, h_mark_as_read, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/refreshItem", WEB_POST, h_refresh_item, WEB_AUTH_QBT_SESSION, NULL},
    };
    if (!rss)
        return -EINVAL;
    return web_routes_add(ws, routes, sizeof routes / sizeof routes[0], rss);
}
