#include "automation/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* ---- the tree ---- */

static void node_free(struct autocfg_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        node_free(n->items[i]);
        if (n->keys)
            free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->str);
    free(n);
}

void autocfg_free(struct autocfg *c)
{
    if (!c)
        return;
    node_free(c->root);
    free(c->path);
    free(c);
}

struct parse {
    yaml_parser_t p;
    const char *name;
    char *err;
    size_t errlen;
    size_t nodes;
};

static int fail(struct parse *ps, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct parse *ps, int line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->name, line, msg);
    return -EINVAL;
}

static int next_event(struct parse *ps, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&ps->p, ev))
        return fail(ps, (int)ps->p.problem_mark.line + 1, "invalid YAML: %s",
                    ps->p.problem ? ps->p.problem : "parse error");
    return 0;
}

static int push(struct autocfg_node *n, char *key, struct autocfg_node *v)
{
    struct autocfg_node **items = realloc(n->items, (n->n + 1) * sizeof *items);
    if (!items)
        return -ENOMEM;
    n->items = items;
    if (n->kind == AUTOCFG_MAP) {
        char **keys = realloc(n->keys, (n->n + 1) * sizeof *keys);
        if (!keys)
            return -ENOMEM;
        n->keys = keys;
        keys[n->n] = key;
    }
    items[n->n++] = v;
    return 0;
}

static int parse_node(struct parse *ps, yaml_event_t *ev, int depth, struct autocfg_node **out);

/* Reads a collection's items up to its end event. */
static int parse_items(struct parse *ps, struct autocfg_node *n, int depth)
{
    for (;;) {
        yaml_event_t ev;
        int rc = next_event(ps, &ev);
        if (rc)
            return rc;
        if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        char *key = NULL;
        if (n->kind == AUTOCFG_MAP) {
            int line = (int)ev.start_mark.line + 1;
            if (ev.type != YAML_SCALAR_EVENT) {
                yaml_event_delete(&ev);
                return fail(ps, line, "mapping keys must be plain text");
            }
            key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            yaml_event_delete(&ev);
            if (!key)
                return -ENOMEM;
            for (size_t i = 0; i < n->n; i++)
                if (strcmp(n->keys[i], key) == 0) {
                    rc = fail(ps, line, "%s: duplicate key", key);
                    free(key);
                    return rc;
                }
            rc = next_event(ps, &ev);
            if (rc) {
                free(key);
                return rc;
            }
        }
        struct autocfg_node *v = NULL;
        rc = parse_node(ps, &ev, depth + 1, &v);
        yaml_event_delete(&ev);
        if (rc == 0)
            rc = push(n, key, v);
        if (rc) {
            free(key);
            node_free(v);
            return rc;
        }
    }
}

static int parse_node(struct parse *ps, yaml_event_t *ev, int depth, struct autocfg_node **out)
{
    int line = (int)ev->start_mark.line + 1;
    if (++ps->nodes > AUTOCFG_MAX_NODES)
        return fail(ps, line, "too many nodes (over %d)", AUTOCFG_MAX_NODES);
    if (depth > AUTOCFG_MAX_DEPTH)
        return fail(ps, line, "nested deeper than %d", AUTOCFG_MAX_DEPTH);
    struct autocfg_node *n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    n->line = line;
    int rc = 0;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        rc = fail(ps, line, "aliases are not supported");
        break;
    case YAML_SCALAR_EVENT: {
        const char *v = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        const char *tag = (const char *)ev->data.scalar.tag;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (tag && strcmp(tag, "!ENV") == 0) {
            /* qbit_manage's !ENV: the variable's value, null when unset. */
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(len < 255 ? len : 255), v);
            const char *e = getenv(name);
            if (e && !(n->str = strdup(e)))
                rc = -ENOMEM;
            n->kind = e ? AUTOCFG_SCALAR : AUTOCFG_NULL;
            n->plain = false;
            break;
        }
        if (n->plain && (len == 0 || (len == 1 && v[0] == '~') || (len == 4 && strncasecmp(v, "null", 4) == 0))) {
            n->kind = AUTOCFG_NULL;
            break;
        }
        if (memchr(v, '\0', len)) {
            rc = fail(ps, line, "NUL byte in a value");
            break;
        }
        n->kind = AUTOCFG_SCALAR;
        if (!(n->str = strndup(v, len)))
            rc = -ENOMEM;
        break;
    }
    case YAML_SEQUENCE_START_EVENT:
        n->kind = AUTOCFG_SEQ;
        rc = parse_items(ps, n, depth);
        break;
    case YAML_MAPPING_START_EVENT:
        n->kind = AUTOCFG_MAP;
        rc = parse_items(ps, n, depth);
        break;
    default:
        rc = fail(ps, line, "unexpected YAML event");
    }
    if (rc) {
        node_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

/* ---- typed scalars ---- */

static bool scalar_bool(const char *s, bool *out)
{
    static const char *const t[] = {"true", "yes", "on"}, *const f[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, t[i]) == 0)
            return *out = true, true;
        if (strcasecmp(s, f[i]) == 0)
            return *out = false, true;
    }
    return false;
}

static bool scalar_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

static bool scalar_real(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

int autocfg_duration_parse(const char *s, double *minutes)
{
    double v;
    if (scalar_real(s, &v)) {
        *minutes = v;
        return 0;
    }
    /* pytimeparse-style: one or more <number><unit> groups. */
    double total = 0;
    const char *p = s;
    bool any = false;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *end;
        double num = strtod(p, &end);
        if (end == p || !isfinite(num) || num < 0)
            return -EINVAL;
        p = end;
        while (*p == ' ')
            p++;
        const char *u = p;
        while (isalpha((unsigned char)*p))
            p++;
        size_t ul = (size_t)(p - u);
        double mul;
        if (ul == 0)
            return -EINVAL;
        switch (tolower((unsigned char)u[0])) {
        case 's': mul = 1.0 / 60; break;
        case 'm': mul = (ul >= 2 && tolower((unsigned char)u[1]) == 'o') ? 43200 : 1; break;  /* "mo" = 30 d */
        case 'h': mul = 60; break;
        case 'd': mul = 1440; break;
        case 'w': mul = 10080; break;
        default: return -EINVAL;
        }
        total += num * mul;
        any = true;
    }
    if (!any)
        return -EINVAL;
    *minutes = total;
    return 0;
}

/* ---- the schema ---- */

enum ty { T_ANY, T_BOOL, T_INT, T_NUM, T_STR, T_STRLIST, T_DUR, T_SCHED, T_WEBHOOK_FN };

struct key_def {
    const char *key;
    enum ty ty;
};

static const struct key_def commands_keys[] = {
    {"dry_run", T_BOOL}, {"recheck", T_BOOL}, {"cat_update", T_BOOL}, {"tag_update", T_BOOL},
    {"rem_unregistered", T_BOOL}, {"tag_tracker_error", T_BOOL}, {"rem_orphaned", T_BOOL},
    {"tag_nohardlinks", T_BOOL}, {"share_limits", T_BOOL}, {"skip_qb_version_check", T_BOOL},
    {"skip_cleanup", T_BOOL}, {NULL, 0}};
static const struct key_def settings_keys[] = {
    {"force_auto_tmm", T_BOOL}, {"force_auto_tmm_ignore_tags", T_STRLIST}, {"tracker_error_tag", T_STR},
    {"nohardlinks_tag", T_STR}, {"stalled_tag", T_STR}, {"private_tag", T_STR}, {"share_limits_tag", T_STR},
    {"share_limits_min_seeding_time_tag", T_STR}, {"share_limits_min_num_seeds_tag", T_STR},
    {"share_limits_last_active_tag", T_STR}, {"cat_filter_completed", T_BOOL},
    {"share_limits_filter_completed", T_BOOL}, {"tag_nohardlinks_filter_completed", T_BOOL},
    {"rem_unregistered_filter_completed", T_BOOL}, {"cat_update_all", T_BOOL},
    {"disable_qbt_default_share_limits", T_BOOL}, {"tag_stalled_torrents", T_BOOL},
    {"rem_unregistered_ignore_list", T_STRLIST}, {"rem_unregistered_grace_minutes", T_INT},
    {"rem_unregistered_max_torrents", T_INT}, {NULL, 0}};
static const struct key_def directory_keys[] = {
    {"root_dir", T_STR}, {"remote_dir", T_STR}, {"recycle_bin", T_STR}, {"torrents_dir", T_STR},
    {"orphaned_dir", T_STR}, {NULL, 0}};
static const struct key_def recyclebin_keys[] = {
    {"enabled", T_BOOL}, {"empty_after_x_days", T_INT}, {"save_torrents", T_BOOL}, {"split_by_category", T_BOOL},
    {NULL, 0}};
static const struct key_def orphaned_keys[] = {
    {"empty_after_x_days", T_INT}, {"min_file_age_minutes", T_INT}, {"exclude_patterns", T_STRLIST},
    {"max_orphaned_files_to_delete", T_INT}, {NULL, 0}};
static const struct key_def apprise_keys[] = {{"api_url", T_STR}, {"notify_url", T_STRLIST}, {NULL, 0}};
/* base_url is torrentd's: Notifiarr's API root (https://notifiarr.com/api), so a test can use loopback */
static const struct key_def notifiarr_keys[] = {
    {"apikey", T_STR}, {"instance", T_STR}, {"base_url", T_STR}, {NULL, 0}};
static const struct key_def webhooks_keys[] = {
    {"error", T_STRLIST}, {"run_start", T_STRLIST}, {"run_end", T_STRLIST}, {"function", T_WEBHOOK_FN}, {NULL, 0}};
static const struct key_def webhook_fn_keys[] = {
    {"recheck", T_STR}, {"cat_update", T_STR}, {"tag_update", T_STR}, {"rem_unregistered", T_STR},
    {"tag_tracker_error", T_STR}, {"rem_orphaned", T_STR}, {"tag_nohardlinks", T_STR}, {"share_limits", T_STR},
    {"cleanup_dirs", T_STR}, {NULL, 0}};
static const struct key_def automation_keys[] = {
    {"schedule", T_SCHED}, {"on_add", T_STRLIST}, {"on_finish", T_STRLIST}, {NULL, 0}};
static const struct key_def tracker_entry_keys[] = {
    {"tag", T_STRLIST}, {"cat", T_STR}, {"notifiarr", T_STR}, {NULL, 0}};
static const struct key_def nohl_entry_keys[] = {{"exclude_tags", T_STRLIST}, {"ignore_root_dir", T_BOOL}, {NULL, 0}};
static const struct key_def share_group_keys[] = {
    {"priority", T_NUM}, {"include_all_tags", T_STRLIST}, {"include_any_tags", T_STRLIST},
    {"exclude_all_tags", T_STRLIST}, {"exclude_any_tags", T_STRLIST}, {"categories", T_STRLIST},
    {"min_torrent_size", T_STR}, {"max_torrent_size", T_STR}, {"max_ratio", T_NUM}, {"max_seeding_time", T_DUR},
    {"max_last_active", T_DUR}, {"min_seeding_time", T_DUR}, {"min_last_active", T_DUR}, {"min_num_seeds", T_INT},
    {"limit_upload_speed", T_INT}, {"upload_speed_on_limit_reached", T_INT}, {"enable_group_upload_speed", T_BOOL},
    {"reset_upload_speed_on_unmet_minimums", T_BOOL}, {"cleanup", T_BOOL}, {"resume_torrent_after_change", T_BOOL},
    {"add_group_to_tag", T_BOOL}, {"custom_tag", T_STR}, {"share_limit_action", T_STR}, {NULL, 0}};

struct check {
    struct parse *ps;
    char path[256];
};

static int check_type(struct check *ck, const struct autocfg_node *v, enum ty ty, const char *key);
static int check_map(struct check *ck, const struct autocfg_node *m, const struct key_def *defs);

static int bad(struct check *ck, const struct autocfg_node *v, const char *key, const char *why)
{
    return fail(ck->ps, v->line, "%s%s%s: %s", ck->path, *ck->path ? "." : "", key, why);
}

static int check_type(struct check *ck, const struct autocfg_node *v, enum ty ty, const char *key)
{
    if (v->kind == AUTOCFG_NULL || ty == T_ANY)
        return 0;
    bool b;
    int64_t i;
    double r;
    switch (ty) {
    case T_BOOL:
        return v->kind == AUTOCFG_SCALAR && scalar_bool(v->str, &b) ? 0 : bad(ck, v, key, "not a boolean");
    case T_INT:
        return v->kind == AUTOCFG_SCALAR && scalar_int(v->str, &i) ? 0 : bad(ck, v, key, "not an integer");
    case T_NUM:
        return v->kind == AUTOCFG_SCALAR && scalar_real(v->str, &r) ? 0 : bad(ck, v, key, "not a number");
    case T_STR:
        return v->kind == AUTOCFG_SCALAR ? 0 : bad(ck, v, key, "not a text value");
    case T_DUR:
    case T_SCHED:
        if (v->kind != AUTOCFG_SCALAR)
            return bad(ck, v, key, "not a duration");
        if (ty == T_SCHED && strchr(v->str, ' ') && strchr(v->str, '*'))
            return 0;   /* a cron expression: automation/cron checks it */
        return autocfg_duration_parse(v->str, &r) == 0 ? 0 : bad(ck, v, key, "not a duration");
    case T_STRLIST:
        if (v->kind == AUTOCFG_SCALAR)
            return 0;
        if (v->kind != AUTOCFG_SEQ)
            return bad(ck, v, key, "not a list of text values");
        for (size_t k = 0; k < v->n; k++)
            if (v->items[k]->kind == AUTOCFG_SEQ || v->items[k]->kind == AUTOCFG_MAP)
                return bad(ck, v->items[k], key, "not a list of text values");
        return 0;
    case T_WEBHOOK_FN: {
        if (v->kind != AUTOCFG_MAP)
            return bad(ck, v, key, "not a mapping");
        size_t len = strlen(ck->path);
        snprintf(ck->path + len, sizeof ck->path - len, "%s%s", len ? "." : "", key);
        int rc = check_map(ck, v, webhook_fn_keys);
        ck->path[len] = '\0';
        return rc;
    }
    default:
        return 0;
    }
}

static int check_map(struct check *ck, const struct autocfg_node *m, const struct key_def *defs)
{
    if (m->kind == AUTOCFG_NULL)
        return 0;
    if (m->kind != AUTOCFG_MAP)
        return fail(ck->ps, m->line, "%s: not a mapping", ck->path);
    for (size_t i = 0; i < m->n; i++) {
        const struct key_def *d = defs;
        while (d->key && strcmp(d->key, m->keys[i]) != 0)
            d++;
        if (!d->key)
            return bad(ck, m->items[i], m->keys[i], "unknown key");
        int rc = check_type(ck, m->items[i], d->ty, m->keys[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* A section whose keys are the user's (cat, tracker, share_limits, ...):
 * each value checked with fn, or as `entry` mappings. */
static int check_dynamic(struct check *ck, const struct autocfg_node *m, const char *section, enum ty scalar_ty,
                         const struct key_def *entry)
{
    if (m->kind == AUTOCFG_NULL)
        return 0;
    snprintf(ck->path, sizeof ck->path, "%s", section);
    if (m->kind != AUTOCFG_MAP) {
        /* nohardlinks may also be a list of category names. */
        if (entry == nohl_entry_keys && m->kind == AUTOCFG_SEQ)
            return check_type(ck, m, T_STRLIST, "") == 0 ? 0 : -EINVAL;
        return fail(ck->ps, m->line, "%s: not a mapping", section);
    }
    for (size_t i = 0; i < m->n; i++) {
        const struct autocfg_node *v = m->items[i];
        int rc;
        if (entry && v->kind == AUTOCFG_MAP) {
            snprintf(ck->path, sizeof ck->path, "%s.%s", section, m->keys[i]);
            rc = check_map(ck, v, entry);
            snprintf(ck->path, sizeof ck->path, "%s", section);
        } else if (entry && v->kind != AUTOCFG_NULL && scalar_ty == T_ANY) {
            rc = bad(ck, v, m->keys[i], "not a mapping");
        } else {
            rc = check_type(ck, v, scalar_ty == T_ANY ? T_STR : scalar_ty, m->keys[i]);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int check_root(struct parse *ps, const struct autocfg_node *root)
{
    struct check ck = {.ps = ps};
    static const struct {
        const char *name;
        const struct key_def *keys;
    } fixed[] = {{"commands", commands_keys},   {"settings", settings_keys}, {"directory", directory_keys},
                 {"recyclebin", recyclebin_keys}, {"orphaned", orphaned_keys}, {"apprise", apprise_keys},
                 {"notifiarr", notifiarr_keys}, {"webhooks", webhooks_keys}, {"automation", automation_keys}};
    for (size_t i = 0; i < root->n; i++) {
        const char *k = root->keys[i];
        const struct autocfg_node *v = root->items[i];
        int rc = -1;
        if (strcmp(k, "qbt") == 0)
            continue;   /* torrentd is the client: host, user, pass do not apply */
        for (size_t f = 0; f < sizeof fixed / sizeof *fixed; f++)
            if (strcmp(k, fixed[f].name) == 0) {
                snprintf(ck.path, sizeof ck.path, "%s", k);
                rc = check_map(&ck, v, fixed[f].keys);
                goto done;
            }
        if (strcmp(k, "cat") == 0)
            rc = check_dynamic(&ck, v, k, T_STRLIST, NULL);
        else if (strcmp(k, "cat_change") == 0)
            rc = check_dynamic(&ck, v, k, T_STR, NULL);
        else if (strcmp(k, "tracker") == 0)
            rc = check_dynamic(&ck, v, k, T_ANY, tracker_entry_keys);
        else if (strcmp(k, "nohardlinks") == 0)
            rc = check_dynamic(&ck, v, k, T_ANY, nohl_entry_keys);
        else if (strcmp(k, "share_limits") == 0)
            rc = check_dynamic(&ck, v, k, T_ANY, share_group_keys);
        else
            return fail(ps, v->line, "%s: unknown section", k);
    done:
        if (rc)
            return rc;
    }
    return 0;
}

int autocfg_parse(const char *name, const char *data, size_t len, struct autocfg **out, char *err, size_t errlen)
{
    if (len > AUTOCFG_MAX_BYTES) {
        snprintf(err, errlen, "%s: larger than %u bytes", name, AUTOCFG_MAX_BYTES);
        return -E2BIG;
    }
    struct parse ps = {.name = name, .err = err, .errlen = errlen};
    if (!yaml_parser_initialize(&ps.p))
        return -ENOMEM;
    yaml_parser_set_input_string(&ps.p, (const unsigned char *)data, len);
    struct autocfg_node *root = NULL;
    int rc = 0;
    yaml_event_t ev;
    bool in_doc = false;
    for (;;) {
        if ((rc = next_event(&ps, &ev)))
            break;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT) {
            if (root) {
                rc = fail(&ps, (int)ev.start_mark.line + 1, "more than one YAML document");
                yaml_event_delete(&ev);
                break;
            }
            in_doc = true;
        } else if (t == YAML_DOCUMENT_END_EVENT) {
            in_doc = false;
        } else if (in_doc && !root && t != YAML_STREAM_START_EVENT) {
            rc = parse_node(&ps, &ev, 0, &root);
        }
        yaml_event_delete(&ev);
        if (rc)
            break;
    }
    yaml_parser_delete(&ps.p);
    if (rc == 0 && root && root->kind == AUTOCFG_NULL) {
        node_free(root);
        root = NULL;
    }
    if (rc == 0 && root && root->kind != AUTOCFG_MAP)
        rc = fail(&ps, root->line, "the file is not a mapping of sections");
    if (rc == 0 && !root && !(root = calloc(1, sizeof *root)))
        rc = -ENOMEM;
    if (rc == 0) {
        root->kind = AUTOCFG_MAP;
        if (root->line == 0)
            root->line = 1;
        rc = check_root(&ps, root);
    }
    struct autocfg *c = NULL;
    if (rc == 0 && (!(c = calloc(1, sizeof *c)) || !(c->path = strdup(name)))) {
        free(c);
        c = NULL;
        rc = -ENOMEM;
    }
    if (rc) {
        node_free(root);
        return rc;
    }
    c->root = root;
    *out = c;
    return 0;
}

int autocfg_load(const char *path, struct autocfg **out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)AUTOCFG_MAX_BYTES) {
        close(fd);
        snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path, AUTOCFG_MAX_BYTES);
        return -EINVAL;
    }
    size_t len = (size_t)st.st_size, got = 0;
    char *buf = malloc(len + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    int rc = autocfg_parse(path, buf, got, out, err, errlen);
    free(buf);
    return rc;
}

/* ---- accessors ---- */

const struct autocfg_node *autocfg_get(const struct autocfg_node *map, const char *key)
{
    if (!map || map->kind != AUTOCFG_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0)
            return map->items[i];
    return NULL;
}

const struct autocfg_node *autocfg_at(const struct autocfg *c, const char *section, const char *key)
{
    const struct autocfg_node *s = autocfg_get(c ? c->root : NULL, section);
    return key ? autocfg_get(s, key) : s;
}

bool autocfg_bool(const struct autocfg_node *n, bool dflt)
{
    bool b;
    return n && n->kind == AUTOCFG_SCALAR && scalar_bool(n->str, &b) ? b : dflt;
}

int64_t autocfg_int(const struct autocfg_node *n, int64_t dflt)
{
    int64_t v;
    double r;
    if (n && n->kind == AUTOCFG_SCALAR && scalar_int(n->str, &v))
        return v;
    /* A real is truncated; one outside int64_t (1e26, inf, nan) is no
     * integer at all: converting it would be undefined (fuzz_automation_config). */
    if (n && n->kind == AUTOCFG_SCALAR && scalar_real(n->str, &r) && r > -9.2e18 && r < 9.2e18)
        return (int64_t)r;
    return dflt;
}

double autocfg_real(const struct autocfg_node *n, double dflt)
{
    double r;
    return n && n->kind == AUTOCFG_SCALAR && scalar_real(n->str, &r) ? r : dflt;
}

const char *autocfg_str(const struct autocfg_node *n, const char *dflt)
{
    return n && n->kind == AUTOCFG_SCALAR ? n->str : dflt;
}

size_t autocfg_list_len(const struct autocfg_node *n)
{
    if (!n)
        return 0;
    if (n->kind == AUTOCFG_SCALAR)
        return 1;
    return n->kind == AUTOCFG_SEQ ? n->n : 0;
}

const char *autocfg_list_at(const struct autocfg_node *n, size_t i)
{
    if (!n)
        return NULL;
    if (n->kind == AUTOCFG_SCALAR)
        return i == 0 ? n->str : NULL;
    if (n->kind != AUTOCFG_SEQ || i >= n->n || n->items[i]->kind != AUTOCFG_SCALAR)
        return NULL;
    return n->items[i]->str;
}

bool autocfg_list_has(const struct autocfg_node *n, const char *s)
{
    size_t len = autocfg_list_len(n);
    for (size_t i = 0; i < len; i++) {
        const char *v = autocfg_list_at(n, i);
        if (v && strcmp(v, s) == 0)
            return true;
    }
    return false;
}

double autocfg_duration(const struct autocfg_node *n, double dflt)
{
    double m;
    if (!n || n->kind != AUTOCFG_SCALAR || autocfg_duration_parse(n->str, &m) != 0)
        return dflt;
    return m;
}
