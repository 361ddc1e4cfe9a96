/* web/session — SID cookie sessions, failed-login bans and the account
 * check, as frame services for every dialect: the qBittorrent adapter's
 * auth/login and auth/logout (web/api/qbt_v2_auth.c) are built on them with
 * qBittorrent 5.1's exact answers (../shared/docs/api-surface.md §2.4, §2.5,
 * outside the repository), and the
 * Basic and API-token policies of web/router.c share the same ban.
 *
 * Sessions live in a small hash table plus an LRU list (most recently used
 * first): lookup is O(1), expiry and the WEB_MAX_SESSIONS cap walk from the
 * tail.  A request holds a reference on its session, so a logout or expiry
 * in between never leaves a deferred handler with a dangling slot.
 * The PBKDF2 check (~100k SHA-512 rounds) runs on a libuv worker thread.
 */
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/hex.h"
#include "util/log.h"
#include "web/web_int.h"

static void lru_unlink(struct web_server *ws, struct web_session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        ws->lru_head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        ws->lru_tail = s->prev;
    s->prev = s->next = NULL;
}

static void lru_push_front(struct web_server *ws, struct web_session *s)
{
    s->prev = NULL;
    s->next = ws->lru_head;
    if (ws->lru_head)
        ws->lru_head->prev = s;
    ws->lru_head = s;
    if (!ws->lru_tail)
        ws->lru_tail = s;
}

static void session_free(struct web_server *ws, struct web_session *s)
{
    for (int i = 0; i < WEB_MAX_DIALECTS; i++)
        if (s->slots[i] && ws->slot_free[i])
            ws->slot_free[i](s->slots[i]);
    free(s);
}

void web_session_end(struct web_server *ws, struct web_session *s)
{
    if (!s || s->dead)
        return;
    hmap_del(&ws->sessions, s->sid, WEB_SID_LEN);
    lru_unlink(ws, s);
    ws->nsessions--;
    s->dead = true;
    if (s->refs == 0)
        session_free(ws, s);
}

void web_session_unref(struct web_server *ws, struct web_session *s)
{
    if (!s)
        return;
    if (--s->refs == 0 && s->dead)
        session_free(ws, s);
}

static bool expired(struct web_server *ws, struct web_session *s, uint64_t now)
{
    int t = ws->auth.session_timeout_s;
    return t > 0 && now - s->last_ms > (uint64_t)t * 1000;
}

struct web_session *web_session_find(struct web_server *ws, const char *sid)
{
    if (!sid || strlen(sid) != WEB_SID_LEN)
        return NULL;
    uint64_t now = uv_now(ws->loop);
    struct web_session *s = hmap_get(&ws->sessions, sid, WEB_SID_LEN);
    if (!s)
        return NULL;
    if (expired(ws, s, now)) {
        web_session_end(ws, s);
        return NULL;
    }
    s->last_ms = now;
    lru_unlink(ws, s);
    lru_push_front(ws, s);
    return s;
}

struct web_session *web_session_start(struct web_server *ws)
{
    uint64_t now = uv_now(ws->loop);
    /* Drop outdated sessions (as qBittorrent does on every start) and keep
     * the table bounded: both walk from the least recently used end. */
    while (ws->lru_tail && (expired(ws, ws->lru_tail, now) || ws->nsessions >= WEB_MAX_SESSIONS))
        web_session_end(ws, ws->lru_tail);

    struct web_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    for (int tries = 0;; tries++) {
        uint8_t rnd[24];
        if (RAND_bytes(rnd, sizeof(rnd)) != 1 || tries > 8) {
            free(s);
            return NULL;
        }
        base64_encode(rnd, sizeof(rnd), s->sid, sizeof(s->sid));   /* 24 bytes: 32 characters, no padding */
        if (!hmap_get(&ws->sessions, s->sid, WEB_SID_LEN))
            break;
    }
    if (hmap_put(&ws->sessions, s->sid, WEB_SID_LEN, s, NULL) != 0) {
        free(s);
        return NULL;
    }
    s->last_ms = now;
    lru_push_front(ws, s);
    ws->nsessions++;
    return s;
}

void web_sessions_free(struct web_server *ws)
{
    while (ws->lru_head)
        web_session_end(ws, ws->lru_head);
    hmap_free(&ws->sessions);
}

void web_session_set_cookie(struct web_req *r, struct web_session *s)
{
    const struct web_auth_config *a = &r->ws->auth;
    bool secure = a->secure_cookie && r->https;
    char v[160];
    snprintf(v, sizeof(v), "SID=%s;%s HttpOnly;%s path=/", s->sid, secure ? " secure;" : "",
             a->csrf_protection ? " SameSite=Strict;" : secure ? " SameSite=None;" : "");
    web_req_add_header(r, "Set-Cookie", v);
}

/* ---- bans ---- */

static struct web_ban *ban_find(struct web_server *ws, const char *ip, bool create)
{
    for (size_t i = 0; i < ws->nbans; i++)
        if (strcmp(ws->bans[i].ip, ip) == 0)
            return &ws->bans[i];
    if (!create)
        return NULL;
    if (!ws->bans) {
        ws->bans = calloc(WEB_MAX_BANS, sizeof(*ws->bans));
        if (!ws->bans)
            return NULL;
    }
    size_t i = ws->nbans;
    if (i == WEB_MAX_BANS) {
        /* Full: reuse the least recently failing record, one with no
         * login in flight if there is one. */
        i = 0;
        for (size_t j = 1; j < ws->nbans; j++)
            if ((ws->bans[j].pending == 0 && ws->bans[i].pending > 0) ||
                ((ws->bans[j].pending == 0) == (ws->bans[i].pending == 0) && ws->bans[j].last_ms < ws->bans[i].last_ms))
                i = j;
    } else {
        ws->nbans++;
    }
    memset(&ws->bans[i], 0, sizeof(ws->bans[i]));
    snprintf(ws->bans[i].ip, sizeof(ws->bans[i].ip), "%s", ip);
    return &ws->bans[i];
}

static void ban_remove(struct web_server *ws, struct web_ban *b)
{
    *b = ws->bans[--ws->nbans];
}

void web_server_clear_bans(struct web_server *ws)
{
    /* Records with a login still being checked stay (its outcome will look
     * for them), but forgiven. */
    for (size_t i = 0; i < ws->nbans;) {
        if (ws->bans[i].pending > 0) {
            ws->bans[i].fails = 0;
            ws->bans[i].banned_until_ms = 0;
            i++;
        } else
            ban_remove(ws, &ws->bans[i]);
    }
}

bool web_ban_is_banned(struct web_server *ws, const char *ip)
{
    struct web_ban *b = ban_find(ws, ip, false);
    if (!b || !b->banned_until_ms)
        return false;
    if (uv_now(ws->loop) >= b->banned_until_ms) {
        ban_remove(ws, b);   /* a ban expires lazily, counter and all */
        return false;
    }
    return true;
}

int web_ban_fail(struct web_server *ws, const char *ip)
{
    struct web_ban *b = ban_find(ws, ip, true);
    if (!b)
        return 0;
    b->last_ms = uv_now(ws->loop);
    b->fails++;
    if (b->fails >= ws->auth.max_auth_fail_count) {
        b->banned_until_ms = b->last_ms + (uint64_t)ws->auth.ban_duration_s * 1000;
        log_msg(LOG_WARNING, "WebAPI login failure. Reason: IP has been banned, IP: %s", ip);
    }
    return b->fails;
}

/* An attempt counts against the IP when it arrives, not when its slow
 * check ends: else a burst of guesses sent at once is all evaluated before
 * the first failure is counted.  Failed plus pending attempts reaching the
 * limit get the ban reply. */
bool web_ban_begin(struct web_req *r)
{
    struct web_server *ws = r->ws;
    if (web_ban_is_banned(ws, r->client_ip))
        return true;
    if (ws->auth.max_auth_fail_count <= 0 || r->ban_counted)
        return false;
    struct web_ban *b = ban_find(ws, r->client_ip, true);
    if (!b)
        return false;
    if (b->fails + b->pending >= ws->auth.max_auth_fail_count)
        return true;
    b->pending++;
    b->last_ms = uv_now(ws->loop);
    r->ban_counted = true;
    return false;
}

int web_ban_end(struct web_req *r, int ok)
{
    struct web_server *ws = r->ws;
    struct web_ban *b = ban_find(ws, r->client_ip, false);
    if (b && r->ban_counted && b->pending > 0)
        b->pending--;
    r->ban_counted = false;
    if (ok < 0)
        return 0;
    if (ok) {
        /* A success clears the IP's record, as qBittorrent does; it stays
         * (cleared) while other attempts are still being checked. */
        if (b && b->pending == 0) {
            ban_remove(ws, b);
        } else if (b) {
            b->fails = 0;
            b->banned_until_ms = 0;
        }
        return 0;
    }
    return ws->auth.max_auth_fail_count > 0 ? web_ban_fail(ws, r->client_ip) : 0;
}

/* ---- sessions for dialects ---- */

int web_req_session_begin(struct web_req *r)
{
    if (r->session)
        return 0;
    struct web_session *s = web_session_start(r->ws);
    if (!s)
        return -ENOMEM;
    s->refs++;
    r->session = s;
    r->authed = true;
    web_session_set_cookie(r, s);
    return 0;
}

void web_req_session_end(struct web_req *r)
{
    web_session_end(r->ws, r->session);
    time_t t = time(NULL) - 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[64], v[128];
    strftime(date, sizeof(date), "%a, %d-%b-%Y %H:%M:%S GMT", &tm);
    snprintf(v, sizeof(v), "SID=; expires=%s; path=/", date);
    web_req_add_header(r, "Set-Cookie", v);
}

bool web_req_has_session(struct web_req *r)
{
    return r && r->session;
}

/* ---- the account check (PBKDF2 on a worker) ---- */

struct account_job {
    uv_work_t work;
    struct web_req *req;
    struct web_server *ws;
    char *user_given, *user_want, *pass, *hash;
    bool ok;
    void (*done)(struct web_req *r, int ok, void *ud);
    void *ud;
};

static void job_free(struct account_job *j)
{
    if (j->pass)
        OPENSSL_cleanse(j->pass, strlen(j->pass));
    free(j->user_given);
    free(j->user_want);
    free(j->pass);
    free(j->hash);
    free(j);
}

static void account_work(uv_work_t *w)
{
    struct account_job *j = w->data;
    bool user_ok = web_auth_equal(j->user_given, j->user_want);
    bool pass_ok = web_auth_check_password(j->pass, j->hash);
    j->ok = user_ok && pass_ok;
}

static void account_done(uv_work_t *w, int status)
{
    struct account_job *j = w->data;
    struct web_server *ws = j->ws;
    j->done(j->req, status != 0 || ws->stopping ? -1 : j->ok, j->ud);
    job_free(j);
    web_server_job_done(ws);
}

int web_req_check_account(struct web_req *r, const char *user, const char *pass,
                          void (*done)(struct web_req *r, int ok, void *ud), void *ud)
{
    struct web_server *ws = r->ws;
    struct account_job *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->user_given = strdup(user ? user : "");
    j->user_want = strdup(ws->auth.username ? ws->auth.username : "");
    j->pass = strdup(pass ? pass : "");
    j->hash = strdup(ws->auth.password_hash ? ws->auth.password_hash : "");
    if (!j->user_given || !j->user_want || !j->pass || !j->hash) {
        job_free(j);
        return -ENOMEM;
    }
    j->req = r;
    j->ws = ws;
    j->done = done;
    j->ud = ud;
    j->work.data = j;
    if (uv_queue_work(ws->loop, &j->work, account_work, account_done) != 0) {
        job_free(j);
        return -EIO;
    }
    ws->jobs++;
    return 0;
}
