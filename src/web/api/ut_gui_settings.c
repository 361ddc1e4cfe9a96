/* web/api/ut_gui_settings — getsettings / setsetting (api-surface.md §12.2).
 *
 * Both speak core/ut_settings' table, the one utserver.conf uses, so a name
 * means the same over HTTP and in the file.
 *
 * getsettings: {"build":N,"settings":[[name, type, value, {"access":A}],...]}
 * with every row the table marks for /gui/, in table order; the type is
 * µTorrent's (0 int, 1 bool, 2 string) and the value is always a string
 * ("true"/"false" for booleans: Sonarr compares dir_*_flag and
 * dir_add_label with the string "true").
 *
 * setsetting: s=name&v=value pairs, applied in order (a name given twice:
 * the last wins), all or nothing: an unknown or read-only name, a value of
 * the wrong type or range, an s without its v refuse the whole call with
 * {"build":N,"error":"<name>: <reason>"} and change nothing.  The changes
 * then go through settings_apply and session_settings_changed (live hooks,
 * persisted) and the reply waits for the commit.
 *
 * The account: webui.username is the WebUI account's name, webui.password
 * reads as a placeholder and a new one is hashed (PBKDF2, on a worker) and
 * stored as the WebUI password's hash, as qBittorrent's web_ui_password is;
 * the new credentials are pushed to the web server (main's SG_WEBUI_AUTH
 * hook) before the reply.  The read-only guest's getsettings has no
 * account rows (ut_settings_is_account): neither the admin's name nor the
 * guest's own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/session.h"
#include "core/ut_settings.h"
#include "util/log.h"
#include "web/auth.h"
#include "web/api/ut_gui_int.h"

#define UT_SET_MAX_PAIRS 64

static json_t *setting_row(const struct settings *st, const struct ut_setting *u)
{
    char v[UT_VALUE_MAX * 2];
    if (ut_settings_format(st, u, v, sizeof v) != 0)
        return NULL;
    char acc[2] = {u->access, 0};
    return json_pack("[s i s {s s}]", u->name, (int)u->type, v, "access", acc);
}

void ut_gui_getsettings(struct ut_call *c)
{
    json_t *o = ut_reply_obj(), *list = json_array();
    int rc = o && list ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < ut_settings_count; i++) {
        const struct ut_setting *u = &ut_settings[i];
        if (!u->gui || (c->guest && ut_settings_is_account(u)))
            continue;
        json_t *row = setting_row(&c->s->settings, u);
        if (!row || json_array_append_new(list, row) != 0)
            rc = -ENOMEM;
    }
    if (rc == 0 && json_object_set_new(o, "settings", list) == 0)
        list = NULL;
    else {
        json_decref(o);
        o = NULL;
    }
    json_decref(list);
    ut_reply(c, o);
}

/* A setsetting in flight: its changes are applied in memory; a new
 * password is being hashed, then stored, then the settings committed. */
struct set_job {
    uv_work_t work;
    struct ut_call *c;
    struct settings_mask changed;
    char *password;                  /* plain, wiped after hashing */
    char hash[WEB_AUTH_HASH_MAX];
    int hash_rc;
};

static void set_job_free(struct set_job *j)
{
    if (j->password) {
        explicit_bzero(j->password, strlen(j->password));
        free(j->password);
    }
    explicit_bzero(j->hash, sizeof j->hash);
    free(j);
}

static void on_committed(void *ud, int rc)
{
    struct set_job *j = ud;
    struct ut_call *c = j->c;
    set_job_free(j);
    if (rc != 0) {
        log_msg(LOG_WARNING, "µTorrent WebUI: settings could not be saved (%d)", rc);
        ut_reply_error(c, "settings could not be saved");
        return;
    }
    ut_reply_build(c);
}

static void commit(struct set_job *j)
{
    int rc = session_settings_changed(j->c->s, &j->changed, on_committed, j);
    if (rc != 0)
        on_committed(j, rc);
}

static void on_hash_stored(void *ud, int rc)
{
    struct set_job *j = ud;
    if (rc != 0) {
        on_committed(j, rc);
        return;
    }
    /* The session holds the new hash: notifying the account's group pushes
     * it to the web server with the rest. */
    settings_mask_add(&j->changed, SET_WEB_UI_USERNAME);
    commit(j);
}

static void hash_work(uv_work_t *w)
{
    struct set_job *j = w->data;
    j->hash_rc = web_auth_hash_password(j->password, j->hash, sizeof j->hash);
}

static void hash_done(uv_work_t *w, int status)
{
    struct set_job *j = w->data;
    int rc = status ? status : j->hash_rc;
    if (rc == 0)
        rc = session_set_password_hash(j->c->s, j->hash, on_hash_stored, j);
    if (rc != 0)
        on_committed(j, rc);
}

void ut_gui_setsetting(struct ut_call *c)
{
    struct ut_batch b;
    char err[256] = "";
    if (ut_batch_init(&b, &c->s->settings, NULL) != 0) {
        ut_reply_error(c, "out of memory");
        return;
    }
    int rc = 0;
    size_t pairs = 0;
    const struct ut_param *pending = NULL;   /* an s= still waiting for its v= */
    for (size_t i = 0; rc == 0 && i < c->q.n; i++) {
        const struct ut_param *p = &c->q.v[i];
        if (strcmp(p->key, "s") == 0) {
            if (pending) {
                snprintf(err, sizeof err, "%s: no value (v=) given", pending->val);
                rc = -EINVAL;
            }
            pending = p;
            continue;
        }
        if (strcmp(p->key, "v") != 0)
            continue;   /* token, action */
        if (!pending) {
            snprintf(err, sizeof err, "v= without a setting name (s=) before it");
            rc = -EINVAL;
            break;
        }
        const struct ut_setting *u = ut_settings_find(pending->val);
        if (++pairs > UT_SET_MAX_PAIRS) {
            snprintf(err, sizeof err, "more than %d settings in one call", UT_SET_MAX_PAIRS);
            rc = -E2BIG;
        } else if (!u || !u->gui) {
            snprintf(err, sizeof err, "%.100s: unknown setting", pending->val);
            rc = -ENOENT;
        } else if (u->access == 'R') {
            snprintf(err, sizeof err, "%s: read-only (utserver.conf sets it)", u->name);
            rc = -EPERM;
        } else if (ut_param_has_nul(p)) {
            snprintf(err, sizeof err, "%s: NUL byte in the value", u->name);
            rc = -EINVAL;
        } else
            rc = ut_batch_set(&b, u, p->val, err, sizeof err);
        pending = NULL;
    }
    if (rc == 0 && pending) {
        snprintf(err, sizeof err, "%.100s: no value (v=) given", pending->val);
        rc = -EINVAL;
    }
    if (rc == 0 && pairs == 0) {
        snprintf(err, sizeof err, "no setting given (s=name&v=value)");
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = ut_batch_finish(&b, err, sizeof err);
    struct set_job *j = rc == 0 ? calloc(1, sizeof *j) : NULL;
    if (rc == 0 && !j)
        rc = -ENOMEM;
    if (rc == 0)
        rc = settings_apply(&c->s->settings, b.ch, b.n, &j->changed, err, sizeof err);
    if (rc == 0) {
        j->c = c;
        j->work.data = j;
        j->password = b.password;   /* taken: ut_batch_free must not wipe it */
        b.password = NULL;
    }
    ut_batch_free(&b);
    if (rc != 0) {
        free(j);
        ut_reply_error(c, *err ? err : strerror(-rc));
        return;
    }
    if (!j->password) {
        commit(j);
        return;
    }
    rc = uv_queue_work(c->s->loop, &j->work, hash_work, hash_done);
    if (rc != 0)
        on_committed(j, rc);
}
