/* web/api/qbt_v2_rss_rules — see qbt_v2_rss_rules.h.  The answers are
 * qBittorrent 5.1's rsscontroller.cpp: a missing parameter is 400 with no
 * text (requireParams); setRule takes any ruleDef (text that is no JSON
 * object is read as {}, a rule with the defaults), and renameRule,
 * cloneRule and removeRule answer 200 whether or not the rule was there;
 * a change is answered once the store committed it. */
#include <errno.h>
#include <stdlib.h>

#include "rss/autodl.h"
#include "rss/rss.h"
#include "web/api/qbt_v2_rss_rules.h"

static struct rss_autodl *autodl_of(void *ud)
{
    return rss_autodl(ud);
}

/* The parameters, or a reply: 400 when one is missing (as Qt's
 * requireParams), 503 when the auto-downloader is not running. */
static struct rss_autodl *begin(struct web_req *r, void *ud, const char *p1, const char *p2)
{
    if ((p1 && !web_req_param(r, p1)) || (p2 && !web_req_param(r, p2))) {
        web_reply_error(r, 400, NULL);
        return NULL;
    }
    struct rss_autodl *a = autodl_of(ud);
    if (!a)
        web_reply_error(r, 503, NULL);
    return a;
}

static void on_committed(void *ud, int rc)
{
    struct web_req *r = ud;
    if (rc == 0)
        web_reply_ok(r);
    else
        web_reply_error(r, 500, NULL);
}

/* A change's return: 0 = on_committed will answer; a refusal of the rule
 * set (no such rule, name taken) is 200 as in qBittorrent. */
static void answer(struct web_req *r, int rc)
{
    if (rc == -ENOENT || rc == -EEXIST)
        web_reply_ok(r);
    else if (rc == -EINVAL)
        web_reply_error(r, 400, NULL);
    else if (rc != 0)
        web_reply_error(r, 500, NULL);
}

static void h_set_rule(struct web_req *r, void *ud)
{
    struct rss_autodl *a = begin(r, ud, "ruleName", "ruleDef");
    if (!a)
        return;
    json_t *def = json_loads(web_req_param(r, "ruleDef"), 0, NULL);
    struct rss_rule *rule;
    int rc = rss_rule_from_json(def, web_req_param(r, "ruleName"), &rule);
    json_decref(def);
    if (rc == 0)
        rc = rss_autodl_set_rule(a, rule, on_committed, r);
    answer(r, rc);
}

static void h_rename_rule(struct web_req *r, void *ud)
{
    struct rss_autodl *a = begin(r, ud, "ruleName", "newRuleName");
    if (a)
        answer(r, rss_autodl_rename_rule(a, web_req_param(r, "ruleName"), web_req_param(r, "newRuleName"),
                                         on_committed, r));
}

static void h_clone_rule(struct web_req *r, void *ud)
{
    struct rss_autodl *a = begin(r, ud, "sourceName", "cloneName");
    if (a)
        answer(r, rss_autodl_clone_rule(a, web_req_param(r, "sourceName"), web_req_param(r, "cloneName"),
                                        on_committed, r));
}

static void h_remove_rule(struct web_req *r, void *ud)
{
    struct rss_autodl *a = begin(r, ud, "ruleName", NULL);
    if (a)
        answer(r, rss_autodl_remove_rule(a, web_req_param(r, "ruleName"), on_committed, r));
}

static void h_rules(struct web_req *r, void *ud)
{
    struct rss_autodl *a = begin(r, ud, NULL, NULL);
    if (a)
        web_reply_json(r, rss_autodl_rules_json(a));
}

static void h_matching_articles(struct web_req *r, void *ud)
{
    struct rss_autodl *a = begin(r, ud, "ruleName", NULL);
    if (a)
        web_reply_json(r, rss_autodl_matching_articles(a, web_req_param(r, "ruleName")));
}

int qbt_v2_rss_rules_register(struct web_server *ws, struct rss *rss)
{
    /* qBittorrent's POST-only list (webapplication.h) has the four changes. */
    static const struct web_route_def routes[] = {
        {"/api/v2/rss/setRule", WEB_POST, h_set_rule, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/renameRule", WEB_POST, h_rename_rule, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/cloneRule", WEB_POST, h_clone_rule, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/removeRule", WEB_POST, h_remove_rule, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/rules", WEB_GETPOST, h_rules, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/rss/matchingArticles", WEB_GETPOST, h_matching_articles, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(ws, routes, sizeof routes / sizeof routes[0], rss);
}
