/* web/api/ut_gui — the /gui/ routes, token.html and the token check, the
 * action dispatch table, replies, and µTorrent's HTTP sessions.
 *
 * Token (api-surface.md §12.1; the bittorrent/webui wiki "TokenSystem"):
 * token.html starts a session (a GUID cookie and a random URL-safe token of
 * UT_GUI_TOKEN_LEN characters).  A token is valid until its session ends
 * (logout, 30 minutes unused, evicted as the oldest of
 * UT_GUI_MAX_SESSIONS, or a restart: sessions live in memory only).  The
 * request may carry it anywhere in the query: seed 004 says "before or
 * immediately following the action or list parameters", Sonarr and the
 * official WebUI put it first, @ctrl/utorrent after its other parameters,
 * and accepting every position refuses no client.  The token alone is the
 * credential (the GUID cookie is not required: FlexGet and Medusa clients
 * may drop it); a bad or missing one is HTTP 400 "invalid request", which
 * Sonarr answers by fetching a new token (clients-wave2.md §1.4).
 *
 * Errors (decided here, for every action): a request µTorrent would not
 * understand -- unknown action, malformed or oversized query, a guest's
 * acting call -- is 400 "invalid request", µTorrent's one refusal answer;
 * a call understood but impossible (bad add-url path, bad setprops value)
 * is HTTP 200 {"build":N,"error":"..."}, as µTorrent reports failed adds.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/session.h"
#include "core/settings.h"
#include "util/log.h"
#include "web/api/ut_gui.h"
#include "web/api/ut_gui_int.h"
#include "web/api/ut_serve.h"

#define SESSION_IDLE_S (30 * 60)   /* TokenSystem: a token unused for 30 minutes expires */

static const char URLSAFE[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* n random URL-safe characters (64 symbols: 6 bits each, no modulo bias). */
static int random_urlsafe(char *out, size_t n)
{
    unsigned char b[UT_GUI_TOKEN_LEN];
    if (n > sizeof b || RAND_bytes(b, (int)n) != 1)
        return -EIO;
    for (size_t i = 0; i < n; i++)
        out[i] = URLSAFE[b[i] & 63];
    out[n] = 0;
    OPENSSL_cleanse(b, sizeof b);
    return 0;
}

/* ---- replies ---- */

json_t *ut_reply_obj(void) { return json_pack("{s:i}", "build", UT_GUI_BUILD); }

static void call_free(struct ut_call *c)
{
    ut_query_free(&c->q);
    free(c);
}

void ut_reply(struct ut_call *c, json_t *o)
{
    if (o)
        web_reply_json(c->r, o);
    else
        web_reply_error(c->r, 500, NULL);
    call_free(c);
}

/* An action that also asks for list=1 (the old WebUI's "action=start&
 * hash=…&list=1&cid=…") gets the list in the same reply, taken after the
 * action's changes are committed. */
void ut_reply_build(struct ut_call *c)
{
    const char *list = c->action ? ut_query_get(&c->q, "list") : NULL;
    if (list && strcmp(list, "1") == 0) {
        c->action = NULL;
        ut_gui_list(c);
        return;
    }
    ut_reply(c, ut_reply_obj());
}

void ut_reply_error(struct ut_call *c, const char *msg)
{
    json_t *o = ut_reply_obj();
    if (o && json_object_set_new(o, "error", json_string(msg ? msg : "")) != 0) {
        json_decref(o);
        o = NULL;
    }
    ut_reply(c, o);
}

void ut_reply_invalid(struct ut_call *c)
{
    web_reply_error(c->r, 400, "invalid request");
    call_free(c);
}

int ut_call_hashes(struct ut_call *c, struct torrent ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    for (size_t i = 0; i < c->q.n; i++) {
        if (strcmp(c->q.v[i].key, "hash") != 0)
            continue;
        struct torrent *t = ut_param_has_nul(&c->q.v[i]) ? NULL : session_find_hex(c->s, c->q.v[i].val);
        if (!t || t->removing)
            continue;
        bool dup = false;
        for (size_t k = 0; k < *n && !dup; k++)
            dup = (*out)[k] == t;
        if (dup)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            struct torrent **nv = realloc(*out, cap * sizeof *nv);
            if (!nv) {
                free(*out);
                *out = NULL;
                *n = 0;
                return -ENOMEM;
            }
            *out = nv;
        }
        (*out)[(*n)++] = t;
    }
    return 0;
}

/* ---- sessions ---- */

static void sess_expire(struct ut_gui *g, int64_t now)
{
    for (size_t i = 0; i < UT_GUI_MAX_SESSIONS; i++)
        if (g->sess[i].used && now - g->sess[i].updated > SESSION_IDLE_S)
            ut_gui_sess_end(g, &g->sess[i]);
}

void ut_gui_sess_end(struct ut_gui *g, struct ut_gui_sess *u)
{
    (void)g;
    OPENSSL_cleanse(u, sizeof *u);
    memset(u, 0, sizeof *u);
}

static void sess_touch(struct ut_gui_sess *u, struct web_req *r, int64_t now)
{
    u->updated = now;
    snprintf(u->peer_ip, sizeof u->peer_ip, "%s", web_req_client_ip(r));
    const char *ua = web_req_header(r, "User-Agent");
    snprintf(u->user_agent, sizeof u->user_agent, "%s", ua ? ua : "");
}

/* A new session in a free slot, or in the least recently used one. */
static struct ut_gui_sess *sess_new(struct ut_gui *g, struct web_req *r)
{
    int64_t now = time(NULL);
    sess_expire(g, now);
    struct ut_gui_sess *u = NULL;
    for (size_t i = 0; i < UT_GUI_MAX_SESSIONS && !u; i++)
        if (!g->sess[i].used)
            u = &g->sess[i];
    if (!u) {
        u = &g->sess[0];
        for (size_t i = 1; i < UT_GUI_MAX_SESSIONS; i++)
            if (g->sess[i].updated < u->updated)
                u = &g->sess[i];
    }
    ut_gui_sess_end(g, u);
    if (random_urlsafe(u->guid, UT_GUI_GUID_LEN) != 0 || random_urlsafe(u->token, UT_GUI_TOKEN_LEN) != 0) {
        ut_gui_sess_end(g, u);
        return NULL;
    }
    u->used = true;
    u->created = now;
    sess_touch(u, r, now);
    return u;
}

/* The GUID cookie's value in the Cookie header, into out. */
static bool cookie_guid(struct web_req *r, char *out, size_t outlen)
{
    const char *h = web_req_header(r, "Cookie");
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        const char *end = strchr(h, ';');
        size_t n = end ? (size_t)(end - h) : strlen(h);
        if (n > 5 && strncmp(h, "GUID=", 5) == 0 && n - 5 < outlen) {
            memcpy(out, h + 5, n - 5);
            out[n - 5] = 0;
            return true;
        }
        h = end;
    }
    return false;
}

struct ut_gui_sess *ut_gui_sess_of(struct ut_gui *g, struct web_req *r)
{
    char guid[UT_GUI_GUID_LEN + 8];
    if (!cookie_guid(r, guid, sizeof guid))
        return NULL;
    for (size_t i = 0; i < UT_GUI_MAX_SESSIONS; i++)
        if (g->sess[i].used && strcmp(g->sess[i].guid, guid) == 0)
            return &g->sess[i];
    return NULL;
}

/* ---- token.html and the token check ---- */

static void h_token(struct web_req *r, void *ud)
{
    struct ut_gui *g = ud;
    /* A client that comes back with its GUID keeps its session (the
     * official WebUI reloads token.html on every page load). */
    struct ut_gui_sess *u = ut_gui_sess_of(g, r);
    if (u)
        sess_touch(u, r, time(NULL));
    else
        u = sess_new(g, r);
    if (!u) {
        web_reply_error(r, 500, NULL);
        return;
    }
    char cookie[64];
    snprintf(cookie, sizeof cookie, "GUID=%s; path=/", u->guid);
    web_req_add_header(r, "Set-Cookie", cookie);
    web_req_add_header(r, "Cache-Control", "no-cache");
    /* Exactly this: Sonarr loads it with XmlDocument.LoadXml and reads
     * FirstChild.FirstChild.InnerText (no doctype, <html> first, the div
     * its first child); the others use a regex on the div. */
    char body[160];
    int n = snprintf(body, sizeof body, "<html><div id='token' style='display:none;'>%s</div></html>", u->token);
    web_reply(r, 200, "text/html", body, (size_t)n);
}

static bool token_required(struct ut_gui *g, struct web_req *r)
{
    const struct settings *st = &g->s->settings;
    if (!settings_bool(st, SET_UT_TOKEN_AUTH_ENABLE))
        return false;
    /* token_auth_filter "remote": loopback clients need none */
    if (strcasecmp(settings_str(st, SET_UT_TOKEN_AUTH_FILTER), "remote") == 0 &&
        web_auth_is_loopback(web_req_client_ip(r)))
        return false;
    return true;
}

/* GET /gui/ with no query at all: the web UI's page (ut_webui.c), which a
 * browser asks for before it can have a token; /gui sends it there (the
 * page's ./main.js must resolve under /gui/). */
static bool is_index(struct web_req *r)
{
    const char *p = web_req_path(r);
    return web_req_method(r) != WEB_POST && !*web_req_query(r) && (strcmp(p, "/gui/") == 0 || strcmp(p, "/gui") == 0);
}

static bool token_ok(struct web_req *r, void *ud)
{
    struct ut_gui *g = ud;
    if (!token_required(g, r) || is_index(r))
        return true;
    const char *raw = web_req_query(r);
    struct ut_query q;
    if (ut_query_parse(raw, strlen(raw), &q) != 0)
        return false;
    int64_t now = time(NULL);
    sess_expire(g, now);
    bool ok = false;
    for (size_t i = 0; i < q.n && !ok; i++) {
        if (strcmp(q.v[i].key, "token") != 0 || q.v[i].val_len != UT_GUI_TOKEN_LEN)
            continue;
        for (size_t k = 0; k < UT_GUI_MAX_SESSIONS; k++) {
            struct ut_gui_sess *u = &g->sess[k];
            if (u->used && CRYPTO_memcmp(u->token, q.v[i].val, UT_GUI_TOKEN_LEN) == 0) {
                sess_touch(u, r, now);
                ok = true;
                break;
            }
        }
    }
    ut_query_free(&q);
    return ok;
}

/* ---- dispatch ---- */

enum { UT_ACTS = 1 };   /* changes something: refused to the guest */

struct ut_action {
    const char *name;
    ut_action_fn fn;
    unsigned flags;
};

/* seed 004 "Actions" and the server extras (api-surface.md §12.2).  The
 * guest may read (seed 004: "Action calls that modify torrent state and
 * application and torrent settings are disallowed"). */
static const struct ut_action ACTIONS[] = {
    {"getfiles", ut_gui_getfiles, 0},
    {"getpeers", ut_gui_getpeers, 0},
    {"getprops", ut_gui_getprops, 0},
    {"getsettings", ut_gui_getsettings, 0},
    {"getversion", ut_gui_getversion, 0},
    {"list-dirs", ut_gui_list_dirs, 0},
    {"getxferhist", ut_gui_getxferhist, 0},
    {"logout", ut_gui_logout, 0},
    {"get-sessions", ut_gui_get_sessions, UT_ACTS},   /* other users' addresses: the admin's */
    {"setprops", ut_gui_setprops, UT_ACTS},
    {"setsetting", ut_gui_setsetting, UT_ACTS},
    {"start", ut_gui_start, UT_ACTS},
    {"stop", ut_gui_stop, UT_ACTS},
    {"pause", ut_gui_pause, UT_ACTS},
    {"unpause", ut_gui_unpause, UT_ACTS},
    {"forcestart", ut_gui_forcestart, UT_ACTS},
    {"recheck", ut_gui_recheck, UT_ACTS},
    {"remove", ut_gui_remove, UT_ACTS},
    {"removedata", ut_gui_removedata, UT_ACTS},
    {"removetorrent", ut_gui_removetorrent, UT_ACTS},
    {"removedatatorrent", ut_gui_removedatatorrent, UT_ACTS},
    {"queuetop", ut_gui_queuetop, UT_ACTS},
    {"queueup", ut_gui_queueup, UT_ACTS},
    {"queuedown", ut_gui_queuedown, UT_ACTS},
    {"queuebottom", ut_gui_queuebottom, UT_ACTS},
    {"setprio", ut_gui_setprio, UT_ACTS},
    {"add-url", ut_gui_add_url, UT_ACTS},
    {"add-unknown-url", ut_gui_add_unknown_url, UT_ACTS},
    {"add-file", ut_gui_add_file, UT_ACTS},
    {"resetxferhist", ut_gui_resetxferhist, UT_ACTS},
    {"rss-update", ut_gui_rss_update, UT_ACTS},
    {"rss-remove", ut_gui_rss_remove, UT_ACTS},
    {"filter-update", ut_gui_filter_update, UT_ACTS},
    {"filter-remove", ut_gui_filter_remove, UT_ACTS},
};

static void h_gui(struct web_req *r, void *ud)
{
    struct ut_gui *g = ud;
    if (is_index(r)) {
        if (strcmp(web_req_path(r), "/gui") == 0) {
            web_req_add_header(r, "Location", "/gui/");
            web_reply_text(r, 302, "");
        } else {
            ut_webui_serve(r, g->s, "index.html");
        }
        return;
    }
    struct ut_call *c = calloc(1, sizeof *c);
    if (!c) {
        web_reply_error(r, 500, NULL);
        return;
    }
    c->r = r;
    c->g = g;
    c->s = g->s;
    c->guest = web_req_is_guest(r);
    const char *raw = web_req_query(r);
    int rc = ut_query_parse(raw, strlen(raw), &c->q);
    if (rc == -ENOMEM) {
        web_reply_error(r, 500, NULL);
        call_free(c);
        return;
    }
    if (rc != 0) {
        ut_reply_invalid(c);
        return;
    }
    c->action = ut_query_get(&c->q, "action");
    if (c->action) {
        for (size_t i = 0; i < sizeof ACTIONS / sizeof ACTIONS[0]; i++) {
            if (strcmp(ACTIONS[i].name, c->action) != 0)
                continue;
            if ((ACTIONS[i].flags & UT_ACTS) && c->guest) {
                ut_reply_invalid(c);
                return;
            }
            /* add-file is the one POST (multipart torrent_file); the rest GET */
            ACTIONS[i].fn(c);
            return;
        }
        ut_reply_invalid(c);
        return;
    }
    const char *list = ut_query_get(&c->q, "list");
    if (list && strcmp(list, "1") == 0) {
        ut_gui_list(c);
        return;
    }
    ut_reply_build(c);   /* no call: µTorrent answers its build */
}

/* The guest account follows the typed settings (SG_WEBUI_AUTH). */
static void apply_guest(struct ut_gui *g)
{
    const struct settings *st = &g->s->settings;
    bool on = settings_bool(st, SET_UT_WEBUI_GUEST_ENABLED);
    if (web_server_set_basic_guest(g->ws, on ? settings_str(st, SET_UT_WEBUI_GUEST_NAME) : NULL) != 0)
        log_msg(LOG_WARNING, "µTorrent WebUI: cannot set the guest account (out of memory)");
}

static void on_auth_changed(void *ud, const struct settings_mask *changed)
{
    if (settings_mask_has(changed, SET_UT_WEBUI_GUEST_ENABLED) ||
        settings_mask_has(changed, SET_UT_WEBUI_GUEST_NAME))
        apply_guest(ud);
}

int ut_gui_register(struct web_server *ws, struct session *s, struct rss *rss)
{
    static struct ut_gui g;
    memset(&g, 0, sizeof g);
    g.ws = ws;
    g.s = s;
    /* 20 random bits, never 0: cids of another run never match (ut_gui_list.c) */
    unsigned char e[4];
    if (RAND_bytes(e, sizeof e) != 1)
        return -EIO;
    g.epoch = (((uint32_t)e[0] << 16 | (uint32_t)e[1] << 8 | e[2]) & 0xFFFFF) | 1;
    g.cid_next = 1;
    if (ut_gui_rss_attach(&g, rss) != 0)
        return -ENOMEM;
    static const struct web_route_def routes[] = {
        {"/gui/", WEB_GETPOST, h_gui, WEB_AUTH_BASIC_TOKEN, token_ok},
        {"/gui", WEB_GETPOST, h_gui, WEB_AUTH_BASIC_TOKEN, token_ok},
        {"/gui/.", WEB_GETPOST, h_gui, WEB_AUTH_BASIC_TOKEN, token_ok},   /* Electorrent: {url}/.?… */
        {"/gui/token.html", WEB_GET, h_token, WEB_AUTH_BASIC_TOKEN, NULL},
        /* streaming: the stream helper's handler decides on the token */
        {"/proxy", WEB_GET, ut_gui_proxy, WEB_AUTH_BASIC_TOKEN, NULL},
    };
    int rc = web_routes_add(ws, routes, sizeof routes / sizeof routes[0], &g);
    if (rc == 0)
        rc = settings_add_hook(&s->settings, SG_WEBUI_AUTH, on_auth_changed, &g);
    if (rc != 0) {
        log_msg(LOG_CRITICAL, "µTorrent WebUI: cannot register routes (%d)", rc);
        return rc;
    }
    apply_guest(&g);
    return 0;
}

/* ---- one reply after several committed changes ---- */

struct ut_wait *ut_wait_new(struct ut_call *c)
{
    struct ut_wait *w = calloc(1, sizeof *w);
    if (!w) {
        ut_reply(c, NULL);
        return NULL;
    }
    w->c = c;
    w->pending = 1;
    return w;
}

void ut_wait_hold(struct ut_wait *w)
{
    w->pending++;
}

void ut_wait_started(struct ut_wait *w, int rc)
{
    if (rc != 0)
        w->pending--;
}

void ut_wait_done(void *ud, int rc)
{
    struct ut_wait *w = ud;
    if (rc != 0)
        log_msg(LOG_WARNING, "µTorrent WebUI: a change could not be saved (%d)", rc);
    if (--w->pending)
        return;
    if (w->error)
        ut_reply_error(w->c, w->error);
    else
        ut_reply_build(w->c);
    free(w->error);
    free(w);
}

void ut_wait_fail(struct ut_wait *w, const char *msg)
{
    if (!w->error)
        w->error = strdup(msg);
}
