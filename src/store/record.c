/* record — see record.h.  Every JSON text is made or read by SQLite: objects
 * of a fixed shape by json_object(), objects with optional keys and arrays
 * of any length by json_group_object()/json_group_array() over a scratch
 * table (one row per member, in rowid order), and reading by json_each(). */
#include "store/record.h"

#include <errno.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scratch tables: k = key (objects), v = value, j = how v becomes JSON. */
enum { J_VALUE = 0, J_JSON = 1, J_BOOL = 2 };
#define AS_JSON(col)                                                                   \
    "CASE j WHEN 1 THEN json(" col ") WHEN 2 THEN json(iif(" col ", 'true', 'false')) " \
    "ELSE " col " END"

enum stmt_id {
    S_QUOTE, S_BOOL, S_SCALAR, S_TYPE, S_MINIFY, S_CANON,
    S_O_CLEAR, S_O_ADD, S_O_DUMP,
    S_A_CLEAR, S_A_ADD, S_A_ARRAY, S_A_OBJECT,
    S_ALLTIME, S_STATS, S_SSL, S_TRACKER, S_MAGNET_EXTRA, S_COOKIE, S_COOKIES,
    S_EACH1, S_EACH2, S_TRACKERS,
    S__COUNT
};

static const char *const sql[S__COUNT] = {
    [S_QUOTE] = "SELECT json_quote(?1)",
    [S_BOOL] = "SELECT json(iif(?1, 'true', 'false'))",
    [S_SCALAR] = "SELECT json_type(?1), json_extract(?1, '$') WHERE json_valid(?1)",
    [S_TYPE] = "SELECT json_type(?1) WHERE json_valid(?1)",
    [S_MINIFY] = "SELECT json(?1)",
    /* true/false: json_each gives 1/0, the type's name is the JSON text. */
    [S_CANON] = "SELECT json_group_object(key, CASE WHEN type IN ('object', 'array') THEN json(value) "
                "WHEN type IN ('true', 'false') THEN json(type) ELSE value END) "
                "FROM (SELECT key, type, value FROM json_each(?1) ORDER BY key)",
    [S_O_CLEAR] = "DELETE FROM o",
    [S_O_ADD] = "INSERT INTO o(k, v, j) VALUES (?1, ?2, ?3)",
    [S_O_DUMP] = "SELECT json_group_object(k, " AS_JSON("v") ") FROM (SELECT k, v, j FROM o ORDER BY rowid)",
    [S_A_CLEAR] = "DELETE FROM a",
    [S_A_ADD] = "INSERT INTO a(k, v, j) VALUES (?1, ?2, ?3)",
    [S_A_ARRAY] = "SELECT json_group_array(" AS_JSON("v") ") FROM (SELECT v, j FROM a ORDER BY rowid)",
    [S_A_OBJECT] = "SELECT json_group_object(k, " AS_JSON("v") ") FROM (SELECT k, v, j FROM a ORDER BY rowid)",
    [S_ALLTIME] = "SELECT json_object('dl', ?1, 'ul', ?2)",
    [S_STATS] = "SELECT json_object('downloaded', ?1, 'uploaded', ?2, 'wasted', ?3, 'active_time', ?4, "
                "'seeding_time', ?5, 'completion_on', ?6, 'seen_complete', ?7, 'last_activity', ?8)",
    [S_SSL] = "SELECT json_object('ssl_certificate', ?1, 'ssl_private_key', ?2, 'ssl_dh_params', ?3, "
              "'added_on', ?4)",
    [S_TRACKER] = "SELECT json_object('url', ?1, 'tier', ?2)",
    [S_MAGNET_EXTRA] = "SELECT json_object('so', json(?1), 'ws', json(?2))",
    /* Members of the array or object at path ?2; none when it is missing or
     * a scalar (json_each would give the scalar itself). */
    [S_COOKIE] = "SELECT json_object('name', ?1, 'domain', ?2, 'path', ?3, 'value', ?4, 'expirationDate', ?5)",
#define COOKIE_STR(k) "CASE WHEN json_type(value, '$." k "') = 'text' THEN json_extract(value, '$." k "') END, "
    [S_COOKIES] = "SELECT " COOKIE_STR("name") COOKIE_STR("domain") COOKIE_STR("path") COOKIE_STR("value")
                  "json_type(value, '$.expirationDate'), json_extract(value, '$.expirationDate') "
                  "FROM json_each(?1) WHERE type = 'object'",
#undef COOKIE_STR
    [S_EACH1] = "SELECT key, type, value FROM json_each(?1, ?2) WHERE json_type(?1, ?2) IN ('array', 'object')",
    [S_EACH2] = "SELECT key, type, value FROM json_each(?1, ?2) WHERE json_type(?1, ?2) IN ('array', 'object')",
    [S_TRACKERS] = "SELECT json_type(value, '$.url'), json_extract(value, '$.url'), "
                   "json_type(value, '$.tier'), json_extract(value, '$.tier') "
                   "FROM json_each(?1) WHERE type = 'object'",
};

struct ctx {
    sqlite3 *db;
    sqlite3_stmt *st[S__COUNT];
};

static _Thread_local struct ctx *tls;

void record_thread_done(void)
{
    if (!tls)
        return;
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(tls->st[i]);
    sqlite3_close(tls->db);
    free(tls);
    tls = NULL;
}

static int ctx_open(void)
{
    if (tls)
        return 0;
    struct ctx *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    int rc = sqlite3_open_v2(":memory:", &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, "CREATE TABLE o(k TEXT, v, j INTEGER); CREATE TABLE a(k TEXT, v, j INTEGER);",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
    }
    tls = c;
    return 0;
}

/* The statement, reset and unbound, or NULL. */
static sqlite3_stmt *stmt(enum stmt_id id)
{
    if (ctx_open() != 0)
        return NULL;
    sqlite3_stmt **st = &tls->st[id];
    if (!*st && sqlite3_prepare_v2(tls->db, sql[id], -1, st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_reset(*st);
    sqlite3_clear_bindings(*st);
    return *st;
}

static int sql_err(void)
{
    return tls && sqlite3_errcode(tls->db) == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

/* Runs a one-row SELECT whose first column is the text wanted. */
static int text_result(sqlite3_stmt *st, char **out)
{
    *out = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = dup_col(st, 0);
        rc = *out ? 0 : -ENOMEM;
    } else {
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? -EINVAL : sql_err();
    }
    sqlite3_reset(st);
    return rc;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* ---- builders over the scratch tables ---- */

static int exec_clear(enum stmt_id id)
{
    sqlite3_stmt *st = stmt(id);
    if (!st)
        return sql_err();
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sql_err();
    sqlite3_reset(st);
    return rc;
}

/* One member: add_id is S_O_ADD or S_A_ADD; key NULL for array elements. */
static int add_row(enum stmt_id add_id, const char *key, int j, int type, const char *s, int64_t i, double r)
{
    sqlite3_stmt *st = stmt(add_id);
    if (!st)
        return sql_err();
    bind_text(st, 1, key);
    if (type == SQLITE_TEXT)
        bind_text(st, 2, s);
    else if (type == SQLITE_FLOAT)
        sqlite3_bind_double(st, 2, r);
    else
        sqlite3_bind_int64(st, 2, i);
    sqlite3_bind_int(st, 3, j);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sql_err();
    sqlite3_reset(st);
    return rc;
}

struct obj {
    enum stmt_id add;
    int rc;                   /* first failure; later adds are skipped */
};

static void put_text(struct obj *o, const char *key, const char *s)
{
    if (o->rc == 0)
        o->rc = add_row(o->add, key, J_VALUE, SQLITE_TEXT, s, 0, 0);
}
static void put_int(struct obj *o, const char *key, int64_t v)
{
    if (o->rc == 0)
        o->rc = add_row(o->add, key, J_VALUE, SQLITE_INTEGER, NULL, v, 0);
}
static void put_real(struct obj *o, const char *key, double v)
{
    if (o->rc == 0)
        o->rc = add_row(o->add, key, J_VALUE, SQLITE_FLOAT, NULL, 0, v);
}
static void put_bool(struct obj *o, const char *key, bool v)
{
    if (o->rc == 0)
        o->rc = add_row(o->add, key, J_BOOL, SQLITE_INTEGER, NULL, v, 0);
}
/* json: text made by this module; taken (freed) here. */
static void put_json(struct obj *o, const char *key, char *json)
{
    if (o->rc == 0)
        o->rc = json ? add_row(o->add, key, J_JSON, SQLITE_TEXT, json, 0, 0) : -ENOMEM;
    free(json);
}

static int dump(enum stmt_id id, char **out)
{
    sqlite3_stmt *st = stmt(id);
    return st ? text_result(st, out) : sql_err();
}

/* Arrays are built in table a, one at a time, before being put into the
 * object being built in table o. */
static char *texts_array(const char *const *v, size_t n, int *rc)
{
    struct obj a = {S_A_ADD, exec_clear(S_A_CLEAR)};
    for (size_t i = 0; i < n; i++)
        put_text(&a, NULL, v[i]);
    char *out = NULL;
    if (a.rc == 0)
        a.rc = dump(S_A_ARRAY, &out);
    *rc = a.rc;
    return out;
}

static char *ints_array(const int64_t *v, size_t n, int *rc)
{
    struct obj a = {S_A_ADD, exec_clear(S_A_CLEAR)};
    for (size_t i = 0; i < n; i++)
        put_int(&a, NULL, v[i]);
    char *out = NULL;
    if (a.rc == 0)
        a.rc = dump(S_A_ARRAY, &out);
    *rc = a.rc;
    return out;
}

/* ---- decoding helpers ---- */

/* The JSON type of text ("object", "integer" ...) or NULL if not JSON. */
static int type_of(const char *text, char *type, size_t len)
{
    sqlite3_stmt *st = stmt(S_TYPE);
    if (!st)
        return sql_err();
    bind_text(st, 1, text);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(type, len, "%s", t ? (const char *)t : "");
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? -EINVAL : sql_err();
    }
    sqlite3_reset(st);
    return rc;
}

static int expect_object(const char *text)
{
    char type[16];
    if (!text)
        return -EINVAL;
    int rc = type_of(text, type, sizeof type);
    return rc != 0 ? rc : strcmp(type, "object") == 0 ? 0 : -EINVAL;
}

/* Calls fn for each member of the array or object at path in text. */
static int each(enum stmt_id id, const char *text, const char *path,
                int (*fn)(void *ud, const char *key, const char *type, sqlite3_stmt *st), void *ud)
{
    sqlite3_stmt *st = stmt(id);
    if (!st)
        return sql_err();
    bind_text(st, 1, text);
    bind_text(st, 2, path);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        int r = fn(ud, key, type ? type : "", st);
        if (r != 0) {
            sqlite3_reset(st);
            return r;
        }
    }
    int out = rc == SQLITE_DONE ? 0 : sqlite3_errcode(tls->db) == SQLITE_NOMEM ? -ENOMEM : -EINVAL;
    sqlite3_reset(st);
    return out;
}

static bool is_int(const char *type) { return strcmp(type, "integer") == 0; }
static bool is_num(const char *type) { return is_int(type) || strcmp(type, "real") == 0; }
static bool is_text(const char *type) { return strcmp(type, "text") == 0; }
static bool is_true(const char *type) { return strcmp(type, "true") == 0; }

/* Replaces *dst with a copy of the value column's text. */
static int take_text(const char **dst, sqlite3_stmt *st)
{
    char *s = dup_col(st, 2);
    if (!s)
        return -ENOMEM;
    free((void *)*dst);
    *dst = s;
    return 0;
}

struct strv {
    const char **v;
    size_t n;
};

static int strv_add(void *ud, const char *key, const char *type, sqlite3_stmt *st)
{
    (void)key;
    struct strv *a = ud;
    if (!is_text(type))
        return 0;   /* the old readers skipped non-strings too */
    const char **v = realloc(a->v, (a->n + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    a->v = v;
    a->v[a->n] = NULL;
    if (take_text(&a->v[a->n], st) != 0)
        return -ENOMEM;
    a->n++;
    return 0;
}

static void strv_free(const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((void *)v[i]);
    free((void *)v);
}

/* The array at path in text, its strings only. */
static int read_texts(const char *text, const char *path, const char *const **out, size_t *n)
{
    struct strv a = {0};
    int rc = each(S_EACH2, text, path, strv_add, &a);
    if (rc != 0) {
        strv_free(a.v, a.n);
        return rc;
    }
    *out = a.v;
    *n = a.n;
    return 0;
}

struct intv {
    int64_t *v;
    size_t n;
};

static int intv_add(void *ud, const char *key, const char *type, sqlite3_stmt *st)
{
    (void)key;
    struct intv *a = ud;
    int64_t *v = realloc(a->v, (a->n + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    a->v = v;
    /* json_integer_value() of a non-integer was 0. */
    a->v[a->n++] = is_int(type) ? sqlite3_column_int64(st, 2) : 0;
    return 0;
}

static int read_ints(const char *text, const char *path, int64_t **out, size_t *n)
{
    struct intv a = {0};
    int rc = each(S_EACH2, text, path, intv_add, &a);
    if (rc != 0) {
        free(a.v);
        return rc;
    }
    *out = a.v;
    *n = a.n;
    return 0;
}

/* ---- scalars ---- */

int record_value_encode(const struct record_value *v, char **out)
{
    sqlite3_stmt *st = stmt(v->type == RECORD_BOOL ? S_BOOL : S_QUOTE);
    if (!st)
        return sql_err();
    switch (v->type) {
    case RECORD_BOOL: sqlite3_bind_int(st, 1, v->b); break;
    case RECORD_INT: sqlite3_bind_int64(st, 1, v->i); break;
    case RECORD_REAL: sqlite3_bind_double(st, 1, v->r); break;
    case RECORD_TEXT: bind_text(st, 1, v->s ? v->s : ""); break;
    case RECORD_NULL: sqlite3_bind_null(st, 1); break;
    default: return -EINVAL;
    }
    return text_result(st, out);
}

int record_value_decode(const char *text, struct record_value *v)
{
    memset(v, 0, sizeof *v);
    sqlite3_stmt *st = stmt(S_SCALAR);
    if (!st)
        return sql_err();
    bind_text(st, 1, text);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? -EINVAL : sql_err();
        sqlite3_reset(st);
        return rc;
    }
    const char *type = (const char *)sqlite3_column_text(st, 0);
    rc = 0;
    if (!type || strcmp(type, "null") == 0) {
        v->type = RECORD_NULL;
    } else if (is_true(type) || strcmp(type, "false") == 0) {
        v->type = RECORD_BOOL;
        v->b = is_true(type);
    } else if (is_int(type)) {
        v->type = RECORD_INT;
        v->i = sqlite3_column_int64(st, 1);
        v->r = (double)v->i;
    } else if (strcmp(type, "real") == 0) {
        v->type = RECORD_REAL;
        v->r = sqlite3_column_double(st, 1);
    } else if (is_text(type)) {
        v->type = RECORD_TEXT;
        v->s = dup_col(st, 1);
        rc = v->s ? 0 : -ENOMEM;
    } else {
        v->type = RECORD_OTHER;
    }
    sqlite3_reset(st);
    return rc;
}

void record_value_clear(struct record_value *v)
{
    free((void *)v->s);
    memset(v, 0, sizeof *v);
}

int record_json_canonical(const char *text, char **out)
{
    char type[16];
    *out = NULL;
    int rc = text ? type_of(text, type, sizeof type) : -EINVAL;
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = stmt(strcmp(type, "object") == 0 ? S_CANON : S_MINIFY);
    if (!st)
        return sql_err();
    bind_text(st, 1, text);
    return text_result(st, out);
}

/* ---- alltime ---- */

int record_alltime_encode(const struct record_alltime *a, char **out)
{
    sqlite3_stmt *st = stmt(S_ALLTIME);
    if (!st)
        return sql_err();
    sqlite3_bind_int64(st, 1, a->dl);
    sqlite3_bind_int64(st, 2, a->ul);
    return text_result(st, out);
}

static int alltime_member(void *ud, const char *key, const char *type, sqlite3_stmt *st)
{
    struct record_alltime *a = ud;
    if (is_int(type) && strcmp(key, "dl") == 0)
        a->dl = sqlite3_column_int64(st, 2);
    else if (is_int(type) && strcmp(key, "ul") == 0)
        a->ul = sqlite3_column_int64(st, 2);
    return 0;
}

int record_alltime_decode(const char *text, struct record_alltime *a)
{
    memset(a, 0, sizeof *a);
    int rc = expect_object(text);
    return rc != 0 ? rc : each(S_EACH1, text, "$", alltime_member, a);
}

/* ---- xferhist ---- */

int record_xferhist_encode(const struct record_xferhist *x, char **out)
{
    *out = NULL;
    int rc = 0;
    char *dl = ints_array(x->dl, RECORD_XFERHIST_DAYS, &rc);
    char *ul = rc == 0 ? ints_array(x->ul, RECORD_XFERHIST_DAYS, &rc) : NULL;
    char *dll = rc == 0 ? ints_array(x->dl_local, RECORD_XFERHIST_DAYS, &rc) : NULL;
    char *ull = rc == 0 ? ints_array(x->ul_local, RECORD_XFERHIST_DAYS, &rc) : NULL;
    if (rc != 0) {
        free(dl);
        free(ul);
        free(dll);
        free(ull);
        return rc;
    }
    struct obj o = {S_O_ADD, exec_clear(S_O_CLEAR)};
    put_int(&o, "day", x->day);
    put_int(&o, "start", x->start);
    put_json(&o, "dl", dl);
    put_json(&o, "ul", ul);
    put_json(&o, "dl_local", dll);
    put_json(&o, "ul_local", ull);
    return o.rc != 0 ? o.rc : dump(S_O_DUMP, out);
}

static int xferhist_member(void *ud, const char *key, const char *type, sqlite3_stmt *st)
{
    struct record_xferhist *x = ud;
    if (is_int(type) && strcmp(key, "day") == 0)
        x->day = sqlite3_column_int64(st, 2);
    else if (is_int(type) && strcmp(key, "start") == 0)
        x->start = sqlite3_column_int64(st, 2);
    return 0;
}

static int xferhist_days(const char *text, const char *path, int64_t *dst)
{
    int64_t *v = NULL;
    size_t n = 0;
    int rc = read_ints(text, path, &v, &n);
    if (rc == 0 && n)
        memcpy(dst, v, (n < RECORD_XFERHIST_DAYS ? n : RECORD_XFERHIST_DAYS) * sizeof *dst);
    free(v);
    return rc;
}

int record_xferhist_decode(const char *text, struct record_xferhist *x)
{
    memset(x, 0, sizeof *x);
    int rc = expect_object(text);
    if (rc == 0)
        rc = each(S_EACH1, text, "$", xferhist_member, x);
    if (rc == 0)
        rc = xferhist_days(text, "$.dl", x->dl);
    if (rc == 0)
        rc = xferhist_days(text, "$.ul", x->ul);
    if (rc == 0)
        rc = xferhist_days(text, "$.dl_local", x->dl_local);
    if (rc == 0)
        rc = xferhist_days(text, "$.ul_local", x->ul_local);
    return rc;
}

/* ---- category ---- */

int record_category_encode(const struct record_category *c, char **out)
{
    *out = NULL;
    struct obj o = {S_O_ADD, exec_clear(S_O_CLEAR)};
    put_text(&o, "save_path", c->save_path ? c->save_path : "");
    if (c->dl_mode == RECORD_DL_ON)
        put_text(&o, "download_path", c->download_path ? c->download_path : "");
    else if (c->dl_mode == RECORD_DL_OFF)
        put_bool(&o, "download_path", false);
    return o.rc != 0 ? o.rc : dump(S_O_DUMP, out);
}

static int category_member(void *ud, const char *key, const char *type, sqlite3_stmt *st)
{
    struct record_category *c = ud;
    if (strcmp(key, "save_path") == 0 && is_text(type))
        return take_text(&c->save_path, st);
    if (strcmp(key, "download_path") == 0) {
        if (is_text(type)) {
            c->dl_mode = RECORD_DL_ON;
            return take_text(&c->download_path, st);
        }
        free((void *)c->download_path);
        c->download_path = NULL;
        c->dl_mode = strcmp(type, "false") == 0 ? RECORD_DL_OFF : RECORD_DL_DEFAULT;
    }
    return 0;
}

int record_category_decode(const char *text, struct record_category *c)
{
    memset(c, 0, sizeof *c);
    int rc = expect_object(text);
    if (rc == 0)
        rc = each(S_EACH1, text, "$", category_member, c);
    if (rc != 0)
        record_category_clear(c);
    return rc;
}

void record_category_clear(struct record_category *c)
{
    free((void *)c->save_path);
    free((void *)c->download_path);
    memset(c, 0, sizeof *c);
}

/* ---- SSL parameters ---- */

int record_ssl_encode(const struct record_ssl *p, char **out)
{
    sqlite3_stmt *st = stmt(S_SSL);
    if (!st)
        return sql_err();
    bind_text(st, 1, p->certificate ? p->certificate : "");
    bind_text(st, 2, p->private_key ? p->private_key : "");
    bind_text(st, 3, p->dh_params ? p->dh_params : "");
    sqlite3_bind_int64(st, 4, p->added_on);
    return text_result(st, out);
}

static int ssl_member(void *ud, const char *key, const char *type, sqlite3_stmt *st)
{
    struct record_ssl *p = ud;
    if (is_text(type) && strcmp(key, "ssl_certificate") == 0)
        return take_text(&p->certificate, st);
    if (is_text(type) && strcmp(key, "ssl_private_key") == 0)
        return take_text(&p->private_key, st);
    if (is_text(type) && strcmp(key, "ssl_dh_params") == 0)
        return take_text(&p->dh_params, st);
    if (is_int(type) && strcmp(key, "added_on") == 0) {
        p->has_added_on = true;
        p->added_on = sqlite3_column_int64(st, 2);
    }
    return 0;
}

int record_ssl_decode(const char *text, struct record_ssl *p)
{
    memset(p, 0, sizeof *p);
    int rc = expect_object(text);
    if (rc == 0)
        rc = each(S_EACH1, text, "$", ssl_member, p);
    if (rc != 0)
        record_ssl_clear(p);
    return rc;
}

void record_ssl_clear(struct record_ssl *p)
{
    free((void *)p->certificate);
    free((void *)p->private_key);
    free((void *)p->dh_params);
    memset(p, 0, sizeof *p);
}

/* ---- cookies ---- */

int record_cookies_encode(const struct record_cookie *v, size_t n, char **out)
{
    *out = NULL;
    struct obj a = {S_A_ADD, exec_clear(S_A_CLEAR)};
    for (size_t i = 0; i < n && a.rc == 0; i++) {
        sqlite3_stmt *st = stmt(S_COOKIE);
        char *entry = NULL;
        if (!st) {
            a.rc = sql_err();
            break;
        }
        const char *f[] = {v[i].name, v[i].domain, v[i].path, v[i].value};
        for (int k = 0; k < 4; k++)
            bind_text(st, k + 1, f[k] ? f[k] : "");
        sqlite3_bind_int64(st, 5, v[i].expires);
        a.rc = text_result(st, &entry);
        if (a.rc == 0)
            put_json(&a, NULL, entry);
    }
    return a.rc != 0 ? a.rc : dump(S_A_ARRAY, out);
}

int record_cookies_decode(const char *text, struct record_cookie **out, size_t *num)
{
    *out = NULL;
    *num = 0;
    char type[16];
    int rc = text ? type_of(text, type, sizeof type) : -EINVAL;
    if (rc == 0 && strcmp(type, "array") != 0)
        rc = -EINVAL;
    sqlite3_stmt *st = rc == 0 ? stmt(S_COOKIES) : NULL;
    if (rc == 0 && !st)
        rc = sql_err();
    if (rc != 0)
        return rc;
    bind_text(st, 1, text);
    struct record_cookie *v = NULL;
    size_t n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct record_cookie *nv = realloc(v, (n + 1) * sizeof *v);
        if (!nv) {
            rc = SQLITE_NOMEM;
            break;
        }
        v = nv;
        struct record_cookie *c = &v[n++];
        const char **f[] = {&c->name, &c->domain, &c->path, &c->value};
        memset(c, 0, sizeof *c);
        for (int k = 0; k < 4; k++) {
            const unsigned char *t = sqlite3_column_text(st, k);
            *f[k] = strdup(t ? (const char *)t : "");
            if (!*f[k])
                rc = SQLITE_NOMEM;
        }
        const char *et = (const char *)sqlite3_column_text(st, 4);
        c->has_expires = et && is_int(et);
        c->expires = c->has_expires ? sqlite3_column_int64(st, 5) : -1;
        if (rc == SQLITE_NOMEM)
            break;
    }
    int out_rc = rc == SQLITE_DONE ? 0 : rc == SQLITE_NOMEM ? -ENOMEM : sql_err();
    sqlite3_reset(st);
    if (out_rc != 0) {
        record_cookies_free(v, n);
        return out_rc;
    }
    *out = v;
    *num = n;
    return 0;
}

void record_cookie_clear(struct record_cookie *c)
{
    free((void *)c->name);
    free((void *)c->domain);
    free((void *)c->path);
    free((void *)c->value);
    memset(c, 0, sizeof *c);
}

void record_cookies_free(struct record_cookie *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        record_cookie_clear(&v[i]);
    free(v);
}

/* ---- scan_dirs ---- */

struct scan_dirs {
    struct record_scan_dir *v;
    size_t n;
};

static bool int_text(const char *s, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long x = *s ? strtoll(s, &end, 10) : 0;
    if (!*s || *end || errno)
        return false;
    *out = x;
    return true;
}

static int scan_dir_member(void *ud, const char *key, const char *type, sqlite3_stmt *st)
{
    struct scan_dirs *a = ud;
    struct record_scan_dir *nv = realloc(a->v, (a->n + 1) * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    a->v = nv;
    struct record_scan_dir *d = &nv[a->n];
    memset(d, 0, sizeof *d);
    if (!(d->folder = strdup(key ? key : "")))
        return -ENOMEM;
    a->n++;
    long long x = 1;
    const char *text = (const char *)sqlite3_column_text(st, 2);
    if (is_num(type))
        x = sqlite3_column_double(st, 2) != 0;
    else if (strcmp(type, "false") == 0)
        x = 0;
    else if (is_text(type) && text && !int_text(text, &x) && *text) {
        d->mode = RECORD_SCAN_PATH;
        return (d->path = strdup(text)) ? 0 : -ENOMEM;
    }
    d->mode = x == 0 ? RECORD_SCAN_FOLDER : RECORD_SCAN_DEFAULT;
    return 0;
}

int record_scan_dirs_decode(const char *text, struct record_scan_dir **v, size_t *n)
{
    struct scan_dirs a = {0};
    int rc = expect_object(text);
    if (rc == 0)
        rc = each(S_EACH1, text, "$", scan_dir_member, &a);
    if (rc != 0) {
        record_scan_dirs_free(a.v, a.n);
        a.v = NULL;
        a.n = 0;
    }
    *v = a.v;
    *n = a.n;
    return rc;
}

void record_scan_dirs_free(struct record_scan_dir *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((void *)v[i].folder);
        free((void *)v[i].path);
    }
    free(v);
}

/* ---- torrent statistics ---- */

int record_torrent_stats_encode(const struct record_torrent_stats *s, char **out)
{
    sqlite3_stmt *st = stmt(S_STATS);
    if (!st)
        return sql_err();
    const int64_t v[] = {s->downloaded, s->uploaded, s->wasted, s->active_time, s->seeding_time,
                         s->completion_on, s->seen_complete, s->last_activity};
    for (int i = 0; i < 8; i++)
        sqlite3_bind_int64(st, i + 1, v[i]);
    return text_result(st, out);
}

static int stats_member(void *ud, const char *key, const char *type, sqlite3_stmt *st)
{
    struct record_torrent_stats *s = ud;
    static const struct {
        const char *key;
        size_t off, has;
    } f[] = {
#define F(k) {#k, offsetof(struct record_torrent_stats, k), 0}
#define FH(k) {#k, offsetof(struct record_torrent_stats, k), offsetof(struct record_torrent_stats, has_##k)}
        F(downloaded), F(uploaded), F(wasted), F(active_time), F(seeding_time),
        FH(completion_on), FH(seen_complete), FH(last_activity),
#undef F
#undef FH
    };
    if (!is_int(type))
        return 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (strcmp(key, f[i].key) == 0) {
            *(int64_t *)((char *)s + f[i].off) = sqlite3_column_int64(st, 2);
            if (f[i].has)
                *(bool *)((char *)s + f[i].has) = true;
        }
    }
    return 0;
}

int record_torrent_stats_decode(const char *text, struct record_torrent_stats *s)
{
    memset(s, 0, sizeof *s);
    int rc = expect_object(text);
    return rc != 0 ? rc : each(S_EACH1, text, "$", stats_member, s);
}

/* ---- torrent settings ---- */

static char *renamed_object(const struct record_rename *v, size_t n, int *rc)
{
    struct obj a = {S_A_ADD, exec_clear(S_A_CLEAR)};
    for (size_t i = 0; i < n; i++) {
        char key[24];
        snprintf(key, sizeof key, "%u", (unsigned)v[i].index);
        put_text(&a, key, v[i].path);
    }
    char *out = NULL;
    if (a.rc == 0)
        a.rc = dump(S_A_OBJECT, &out);
    *rc = a.rc;
    return out;
}

static char *trackers_array(const struct record_tracker *v, size_t n, int *rc)
{
    struct obj a = {S_A_ADD, exec_clear(S_A_CLEAR)};
    for (size_t i = 0; i < n && a.rc == 0; i++) {
        sqlite3_stmt *st = stmt(S_TRACKER);
        char *entry = NULL;
        if (!st) {
            a.rc = sql_err();
            break;
        }
        bind_text(st, 1, v[i].url ? v[i].url : "");
        sqlite3_bind_int64(st, 2, v[i].tier);
        a.rc = text_result(st, &entry);
        if (a.rc == 0)
            put_json(&a, NULL, entry);
    }
    char *out = NULL;
    if (a.rc == 0)
        a.rc = dump(S_A_ARRAY, &out);
    *rc = a.rc;
    return out;
}

static char *magnet_extra(const struct record_torrent_settings *ts, int *rc)
{
    char *so = ints_array(ts->select_only, ts->num_select_only, rc);
    char *ws = *rc == 0 ? texts_array(ts->magnet_web_seeds, ts->num_magnet_web_seeds, rc) : NULL;
    char *out = NULL;
    sqlite3_stmt *st = *rc == 0 ? stmt(S_MAGNET_EXTRA) : NULL;
    if (st) {
        bind_text(st, 1, so);
        bind_text(st, 2, ws);
        *rc = text_result(st, &out);
    } else if (*rc == 0) {
        *rc = sql_err();
    }
    free(so);
    free(ws);
    return out;
}

/* Arrays and nested objects are made before the object is started: both
 * use the scratch tables. */
int record_torrent_settings_encode(const struct record_torrent_settings *ts, char **out)
{
    *out = NULL;
    int rc = 0;
    int64_t *prios = NULL;
    char *tags = texts_array(ts->tags, ts->num_tags, &rc);
    char *fp = NULL, *ren = NULL, *extra = NULL, *trs = NULL, *ws = NULL;
    if (rc == 0 && ts->has_file_prios) {
        prios = malloc((ts->num_file_prios + 1) * sizeof *prios);
        for (size_t i = 0; prios && i < ts->num_file_prios; i++)
            prios[i] = ts->file_prios[i];
        fp = prios ? ints_array(prios, ts->num_file_prios, &rc) : NULL;
        rc = rc == 0 && !prios ? -ENOMEM : rc;
    }
    if (rc == 0 && ts->num_renamed)
        ren = renamed_object(ts->renamed, ts->num_renamed, &rc);
    if (rc == 0 && ts->has_magnet_extra)
        extra = magnet_extra(ts, &rc);
    if (rc == 0 && ts->has_trackers)
        trs = trackers_array(ts->trackers, ts->num_trackers, &rc);
    if (rc == 0 && ts->has_web_seeds)
        ws = texts_array(ts->web_seeds, ts->num_web_seeds, &rc);
    free(prios);
    if (rc != 0) {
        free(tags);
        free(fp);
        free(ren);
        free(extra);
        free(trs);
        free(ws);
        return rc;
    }
    /* The order the jansson code wrote them in. */
    struct obj o = {S_O_ADD, exec_clear(S_O_CLEAR)};
    put_text(&o, "save_path", ts->save_path ? ts->save_path : "");
    put_text(&o, "category", ts->category ? ts->category : "");
    put_text(&o, "name", ts->name);
    put_json(&o, "tags", tags);
    put_bool(&o, "stopped", ts->stopped);
    put_bool(&o, "sequential", ts->sequential);
    put_bool(&o, "first_last_piece", ts->first_last_piece);
    put_bool(&o, "forced", ts->forced);
    put_bool(&o, "super_seeding", ts->super_seeding);
    put_bool(&o, "auto_tmm", ts->auto_tmm);
    put_int(&o, "up_limit", ts->up_limit);
    put_int(&o, "dl_limit", ts->dl_limit);
    if (ts->has_ratio_limit)
        put_real(&o, "ratio_limit", ts->ratio_limit);
    if (ts->has_seeding_time_limit)
        put_int(&o, "seeding_time_limit", ts->seeding_time_limit);
    if (ts->has_inactive_seeding_time_limit)
        put_int(&o, "inactive_seeding_time_limit", ts->inactive_seeding_time_limit);
    if (fp)
        put_json(&o, "file_prios", fp);
    if (ts->has_queue_pos)
        put_int(&o, "queue_pos", ts->queue_pos);
    if (ts->has_share_limit_action)
        put_int(&o, "share_limit_action", ts->share_limit_action);
    if (ts->download_path) {
        put_text(&o, "download_path", ts->download_path);
        put_bool(&o, "data_in_download", ts->data_in_download);
    }
    if (ts->has_stop_condition)
        put_int(&o, "stop_condition", ts->stop_condition);
    if (ren)
        put_json(&o, "renamed", ren);
    if (extra)
        put_json(&o, "magnet_extra", extra);
    if (trs)
        put_json(&o, "trackers", trs);
    if (ws)
        put_json(&o, "web_seeds", ws);
    return o.rc != 0 ? o.rc : dump(S_O_DUMP, out);
}

struct renv {
    struct record_rename *v;
    size_t n;
};

static int rename_add(void *ud, const char *key, const char *type, sqlite3_stmt *st)
{
    struct renv *a = ud;
    char *end;
    unsigned long i = key ? strtoul(key, &end, 10) : 0;
    if (!key || !*key || *end || i > UINT32_MAX || !is_text(type))
        return 0;   /* not a file index: skipped, as before */
    struct record_rename *v = realloc(a->v, (a->n + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    a->v = v;
    a->v[a->n] = (struct record_rename){(uint32_t)i, NULL};
    if (take_text(&a->v[a->n].path, st) != 0)
        return -ENOMEM;
    a->n++;
    return 0;
}

struct trkv {
    struct record_tracker *v;
    size_t n;
};

static int read_trackers(const char *text, struct record_torrent_settings *ts)
{
    sqlite3_stmt *st = stmt(S_TRACKERS);
    if (!st)
        return sql_err();
    bind_text(st, 1, text);
    struct trkv a = {0};
    int rc, out = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ut = (const char *)sqlite3_column_text(st, 0);
        if (!ut || !is_text(ut))
            continue;   /* an entry without a url was skipped */
        struct record_tracker *v = realloc(a.v, (a.n + 1) * sizeof *v);
        char *url = dup_col(st, 1);
        if (v)
            a.v = v;
        if (!v || !url) {
            free(url);
            out = -ENOMEM;
            break;
        }
        const char *tt = (const char *)sqlite3_column_text(st, 2);
        a.v[a.n++] = (struct record_tracker){url, tt && is_int(tt) ? sqlite3_column_int64(st, 3) : 0};
    }
    if (out == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        out = sql_err();
    sqlite3_reset(st);
    ts->trackers = a.v;
    ts->num_trackers = a.n;
    ts->has_trackers = true;
    return out;
}

static int settings_member(void *ud, const char *key, const char *type, sqlite3_stmt *st)
{
    struct record_torrent_settings *ts = ud;
    const char *json = (const char *)sqlite3_column_text(st, 2);
    bool arr = strcmp(type, "array") == 0, obj = strcmp(type, "object") == 0;
    int rc = 0;
    static const struct {
        const char *key;
        size_t off;
    } flags[] = {
#define B(k) {#k, offsetof(struct record_torrent_settings, k)}
        B(stopped), B(sequential), B(first_last_piece), B(forced), B(super_seeding), B(auto_tmm),
#undef B
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (strcmp(key, flags[i].key) == 0) {
            *(bool *)((char *)ts + flags[i].off) = is_true(type);
            return 0;
        }
    }
#define INT_KEY(k)                                         \
    if (strcmp(key, #k) == 0) {                            \
        ts->k = is_int(type) ? sqlite3_column_int64(st, 2) : 0; \
        return 0;                                          \
    }
#define OPT_INT_KEY(k)                                     \
    if (strcmp(key, #k) == 0) {                            \
        if (is_int(type)) {                                \
            ts->has_##k = true;                            \
            ts->k = sqlite3_column_int64(st, 2);           \
        }                                                  \
        return 0;                                          \
    }
    INT_KEY(up_limit)
    INT_KEY(dl_limit)
    OPT_INT_KEY(seeding_time_limit)
    OPT_INT_KEY(inactive_seeding_time_limit)
    OPT_INT_KEY(queue_pos)
    OPT_INT_KEY(share_limit_action)
    OPT_INT_KEY(stop_condition)
#undef INT_KEY
#undef OPT_INT_KEY
    if (strcmp(key, "ratio_limit") == 0) {
        if (is_num(type)) {
            ts->has_ratio_limit = true;
            ts->ratio_limit = sqlite3_column_double(st, 2);
        }
    } else if (strcmp(key, "save_path") == 0 && is_text(type)) {
        rc = take_text(&ts->save_path, st);
    } else if (strcmp(key, "category") == 0 && is_text(type)) {
        rc = take_text(&ts->category, st);
    } else if (strcmp(key, "name") == 0 && is_text(type)) {
        rc = take_text(&ts->name, st);
    } else if (strcmp(key, "download_path") == 0 && is_text(type)) {
        rc = take_text(&ts->download_path, st);
    } else if (strcmp(key, "data_in_download") == 0) {
        ts->data_in_download = is_true(type);
    } else if (strcmp(key, "tags") == 0 && arr && !ts->tags) {
        rc = read_texts(json, "$", &ts->tags, &ts->num_tags);
    } else if (strcmp(key, "web_seeds") == 0 && arr && !ts->has_web_seeds) {
        rc = read_texts(json, "$", &ts->web_seeds, &ts->num_web_seeds);
        ts->has_web_seeds = true;
    } else if (strcmp(key, "trackers") == 0 && arr && !ts->has_trackers) {
        rc = read_trackers(json, ts);
    } else if (strcmp(key, "file_prios") == 0 && arr && !ts->has_file_prios) {
        int64_t *v = NULL;
        size_t n = 0;
        rc = read_ints(json, "$", &v, &n);
        uint8_t *p = rc == 0 ? malloc(n + 1) : NULL;
        for (size_t i = 0; p && i < n; i++)
            p[i] = (uint8_t)v[i];
        free(v);
        if (rc == 0 && !p)
            rc = -ENOMEM;
        ts->file_prios = p;
        ts->num_file_prios = n;
        ts->has_file_prios = p != NULL;
    } else if (strcmp(key, "renamed") == 0 && obj && !ts->renamed) {
        struct renv a = {0};
        rc = each(S_EACH2, json, "$", rename_add, &a);
        ts->renamed = a.v;
        ts->num_renamed = a.n;
    } else if (strcmp(key, "magnet_extra") == 0 && obj && !ts->has_magnet_extra) {
        ts->has_magnet_extra = true;
        /* Either list may be missing (or not a list): then it is empty. */
        int64_t *so = NULL;
        size_t nso = 0;
        rc = read_ints(json, "$.so", &so, &nso);
        ts->select_only = so;
        ts->num_select_only = nso;
        if (rc == 0)
            rc = read_texts(json, "$.ws", &ts->magnet_web_seeds, &ts->num_magnet_web_seeds);
    }
    return rc;
}

int record_torrent_settings_decode(const char *text, struct record_torrent_settings *ts)
{
    memset(ts, 0, sizeof *ts);
    int rc = expect_object(text);
    if (rc == 0)
        rc = each(S_EACH1, text, "$", settings_member, ts);
    if (rc != 0)
        record_torrent_settings_clear(ts);
    return rc;
}

void record_torrent_settings_clear(struct record_torrent_settings *ts)
{
    free((void *)ts->save_path);
    free((void *)ts->category);
    free((void *)ts->name);
    strv_free(ts->tags, ts->num_tags);
    free((void *)ts->file_prios);
    free((void *)ts->download_path);
    for (size_t i = 0; i < ts->num_renamed; i++)
        free((void *)ts->renamed[i].path);
    free((void *)ts->renamed);
    free((void *)ts->select_only);
    strv_free(ts->magnet_web_seeds, ts->num_magnet_web_seeds);
    for (size_t i = 0; i < ts->num_trackers; i++)
        free((void *)ts->trackers[i].url);
    free((void *)ts->trackers);
    strv_free(ts->web_seeds, ts->num_web_seeds);
    memset(ts, 0, sizeof *ts);
}
