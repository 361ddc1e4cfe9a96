/* web/api/qbt_v2_app — app/… (preferences, shutdown, paths) and the
 * module's registration. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "web/api/qbt_v2.h"
#include "web/api/qbt_v2_int.h"
#include "web/api/qbt_v2_prefs.h"
#include "web/api/qbt_v2_search.h"

#define SHUTDOWN_DELAY_MS 100
#define MAX_PASSWORD 1024

static struct qbt_v2 g_qbt;   /* one session per process */
int qbt_v2_dialect;   /* 0 (the default slot) until registered */

void qbt_v2_set_shutdown_hook(void (*shutdown)(void)) { g_qbt.shutdown = shutdown; }

void qbt_v2_close(void)
{
    qbt_v2_torrents_close(&g_qbt);
    qbt_v2_search_close();
}

/* The live WebUI security settings from the preferences. */
static void auth_from_prefs(const struct settings *p, struct web_auth_config *c)
{
    web_auth_config_defaults(c);
    c->username = settings_str(p, SET_WEB_UI_USERNAME);
    c->password_hash = p->password_hash;
    c->max_auth_fail_count = (int)settings_int(p, SET_WEB_UI_MAX_AUTH_FAIL_COUNT);
    c->ban_duration_s = (int)settings_int(p, SET_WEB_UI_BAN_DURATION);
    c->session_timeout_s = (int)settings_int(p, SET_WEB_UI_SESSION_TIMEOUT);
    c->csrf_protection = settings_bool(p, SET_WEB_UI_CSRF_PROTECTION_ENABLED);
    c->clickjacking_protection = settings_bool(p, SET_WEB_UI_CLICKJACKING_PROTECTION_ENABLED);
    c->host_header_validation = settings_bool(p, SET_WEB_UI_HOST_HEADER_VALIDATION_ENABLED);
    c->domain_list = settings_str(p, SET_WEB_UI_DOMAIN_LIST);
    c->bypass_local_auth = settings_bool(p, SET_BYPASS_LOCAL_AUTH);
    c->bypass_auth_subnet_whitelist_enabled = settings_bool(p, SET_BYPASS_AUTH_SUBNET_WHITELIST_ENABLED);
    c->bypass_auth_subnet_whitelist = settings_str(p, SET_BYPASS_AUTH_SUBNET_WHITELIST);
    c->secure_cookie = settings_bool(p, SET_WEB_UI_SECURE_COOKIE_ENABLED);
    c->custom_headers = settings_str(p, SET_WEB_UI_CUSTOM_HTTP_HEADERS);
    c->use_custom_headers = settings_bool(p, SET_WEB_UI_USE_CUSTOM_HTTP_HEADERS_ENABLED);
    c->reverse_proxy_enabled = settings_bool(p, SET_WEB_UI_REVERSE_PROXY_ENABLED);
    c->trusted_proxies = settings_str(p, SET_WEB_UI_REVERSE_PROXIES_LIST);
}

/* ---- app/preferences ---- */

static void h_preferences(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    json_t *o = qbt_v2_prefs_to_json(&q->s->settings);
    if (!o) {
        web_reply_error(r, 500, NULL);
        return;
    }
    web_reply_json(r, o);
}

/* setPreferences: apply in memory, hash a new password on a worker thread,
 * commit, then answer. */
struct set_prefs {
    uv_work_t work;
    struct qbt_v2 *q;
    struct web_req *r;
    struct settings_mask applied;
    char *password;               /* plain text, wiped after hashing */
    char hash[WEB_AUTH_HASH_MAX];
    int hash_rc;
};

static void set_prefs_free(struct set_prefs *sp)
{
    if (sp->password) {
        explicit_bzero(sp->password, strlen(sp->password));
        free(sp->password);
    }
    explicit_bzero(sp->hash, sizeof(sp->hash));
    free(sp);
}

static void on_prefs_committed(void *ud, int rc)
{
    struct set_prefs *sp = ud;
    struct qbt_v2 *q = sp->q;
    if (rc != 0) {
        log_msg(LOG_WARNING, "WebAPI: preferences could not be saved (%d)", rc);
        web_reply_error(sp->r, 500, "Failed to save preferences");
        set_prefs_free(sp);
        return;
    }
    /* Only with a known password hash: never lock everybody out. */
    if ((sp->password || settings_mask_in_groups(&sp->applied, SG_WEBUI_AUTH)) && q->s->settings.password_hash) {
        struct web_auth_config c;
        auth_from_prefs(&q->s->settings, &c);
        web_server_set_auth(q->ws, &c);
    }
    web_reply_ok(sp->r);
    set_prefs_free(sp);
}

static void commit_prefs(struct set_prefs *sp)
{
    int rc = session_settings_changed(sp->q->s, &sp->applied, on_prefs_committed, sp);
    if (rc != 0)
        on_prefs_committed(sp, rc);
}

static void on_hash_stored(void *ud, int rc)
{
    struct set_prefs *sp = ud;
    if (rc != 0)
        on_prefs_committed(sp, rc);
    else
        commit_prefs(sp);   /* the session made it the live hash */
}

static void hash_work(uv_work_t *w)
{
    struct set_prefs *sp = w->data;
    sp->hash_rc = web_auth_hash_password(sp->password, sp->hash, sizeof(sp->hash));
}

static void hash_done(uv_work_t *w, int status)
{
    struct set_prefs *sp = w->data;
    struct session *s = sp->q->s;
    if (status != 0 || sp->hash_rc != 0) {
        on_prefs_committed(sp, status ? status : sp->hash_rc);
        return;
    }
    int rc = session_set_password_hash(s, sp->hash, on_hash_stored, sp);
    if (rc != 0)
        on_prefs_committed(sp, rc);
}

void qbt_v2_h_set_preferences(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *text = web_req_param(r, "json");
    if (!text) {
        web_reply_error(r, 400, NULL);
        return;
    }
    json_error_t je;
    json_t *changes = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!changes && json_error_code(&je) == json_error_duplicate_key) {
        /* It parses, but which value is meant?  (jansson's text names the key.) */
        char m[200];
        snprintf(m, sizeof m, "Invalid preferences: %s", je.text);
        web_reply_error(r, 400, m);
        return;
    }
    if (!json_is_object(changes)) {
        /* qBittorrent 5.1 ignores a body it cannot parse. */
        json_decref(changes);
        web_reply_ok(r);
        return;
    }
    struct set_prefs *sp = calloc(1, sizeof(*sp));
    if (!sp) {
        json_decref(changes);
        web_reply_error(r, 500, NULL);
        return;
    }
    sp->q = q;
    sp->r = r;
    sp->work.data = sp;
    json_t *pw = json_object_get(changes, "web_ui_password");
    if (pw && (!json_is_string(pw) || json_string_length(pw) > MAX_PASSWORD)) {
        const char *m = json_is_string(pw) ? "Invalid value for preference 'web_ui_password'"
                                           : "Invalid type for preference 'web_ui_password'";
        json_decref(changes);
        free(sp);
        web_reply_error(r, 400, m);
        return;
    }
    if (pw)
        sp->password = strdup(json_string_value(pw));
    json_object_del(changes, "web_ui_password");
    json_object_del(changes, "web_ui_password_hash");
    const json_t *bans = json_object_get(changes, "banned_IPs");
    char *ban_list = json_is_string(bans) ? qbt_v2_ban_list(json_string_value(bans)) : NULL;
    if (ban_list)   /* SessionImpl::setBannedIPs normalizes, sorts, dedups */
        json_object_set_new(changes, "banned_IPs", json_string(ban_list));
    free(ban_list);
    char err[256] = "";
    int rc = qbt_v2_prefs_apply(&q->s->settings, changes, &sp->applied, err, sizeof(err));
    json_decref(changes);
    if (rc != 0) {
        web_reply_error(r, 400, err[0] ? err : NULL);
        set_prefs_free(sp);
        return;
    }
    if (!sp->password) {
        commit_prefs(sp);
        return;
    }
    rc = uv_queue_work(q->s->loop, &sp->work, hash_work, hash_done);
    if (rc != 0)
        on_prefs_committed(sp, rc);
}

/* ---- small app endpoints ---- */

static void h_default_save_path(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    const char *p = session_default_save_path(q->s);
    web_reply_text(r, 200, p ? p : "");
}

static void on_shutdown_closed(uv_handle_t *h)
{
    struct qbt_v2 *q = h->data;
    q->shutdown_armed = false;
    if (q->shutdown)
        q->shutdown();
}

static void on_shutdown_timer(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, on_shutdown_closed);
}

void qbt_v2_h_shutdown(struct web_req *r, void *ud)
{
    struct qbt_v2 *q = ud;
    web_reply_ok(r);
    if (q->shutdown_armed)
        return;
    log_msg(LOG_INFO, "WebAPI: shutdown requested by %s", web_req_client_ip(r));
    if (uv_timer_init(q->s->loop, &q->shutdown_timer) != 0)
        return;
    q->shutdown_timer.data = q;
    q->shutdown_armed = true;
    uv_timer_start(&q->shutdown_timer, on_shutdown_timer, SHUTDOWN_DELAY_MS, 0);
}

static int register_app(struct qbt_v2 *q)
{
    static const struct web_route_def routes[] = {
        {"/api/v2/app/preferences", WEB_GETPOST, h_preferences, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/app/setPreferences", WEB_POST, qbt_v2_h_set_preferences, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/app/defaultSavePath", WEB_GETPOST, h_default_save_path, WEB_AUTH_QBT_SESSION, NULL},
        {"/api/v2/app/shutdown", WEB_POST, qbt_v2_h_shutdown, WEB_AUTH_QBT_SESSION, NULL},
    };
    return web_routes_add(q->ws, routes, sizeof routes / sizeof routes[0], q);
}

int qbt_v2_register_app(struct qbt_v2 *q) { return register_app(q); }

struct qbt_v2 *qbt_v2_instance(void) { return &g_qbt; }

int qbt_v2_register(struct web_server *ws, struct session *s)
{
    if (!ws || !s)
        return -EINVAL;
    void (*hook)(void) = g_qbt.shutdown;
    memset(&g_qbt, 0, sizeof(g_qbt));
    g_qbt.ws = ws;
    g_qbt.s = s;
    g_qbt.shutdown = hook;
    qbt_v2_dialect = web_dialect_register(ws, "qbt_v2", qbt_v2_client_free);
    if (qbt_v2_dialect < 0)
        return qbt_v2_dialect;
    int rc = qbt_v2_auth_register(ws);
    if (rc != 0)
        return rc;
    /* One register function per endpoint group (qbt_v2_int.h). */
    int (*const groups[])(struct qbt_v2 *) = {
        qbt_v2_register_app,     qbt_v2_register_transfer, qbt_v2_register_sync,
        qbt_v2_register_torrents, qbt_v2_register_creator,  qbt_v2_register_log,
        qbt_v2_register_catalog,
        qbt_v2_register_queue,   qbt_v2_register_rename,
        qbt_v2_register_misc,
    };
    for (size_t i = 0; rc == 0 && i < sizeof groups / sizeof groups[0]; i++)
        rc = groups[i](&g_qbt);
    if (rc != 0)
        log_msg(LOG_CRITICAL, "WebAPI v2: cannot register routes (%d)", rc);
    return rc;
}
