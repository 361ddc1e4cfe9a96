/* ops/arr — Sonarr/Radarr/Lidarr connections: the import trigger qBitrr
 * sends when a torrent of the Arr's category completes, and the probe of
 * GET /api/arr.
 *
 * ops_arr (JSON array) holds {"Name","Type","URI","APIKey","Category"} per
 * connection, qBitrr's key names.  The import is the Arr's command API,
 * once per torrent (tag "imported" on a 2xx answer; a torrent already
 * tagged is never sent again, also after a restart):
 *   Sonarr  POST <URI>/api/v3/command {"name":"DownloadedEpisodesScan", ...}
 *   Radarr  POST <URI>/api/v3/command {"name":"DownloadedMoviesScan", ...}
 *   Lidarr  POST <URI>/api/v1/command {"name":"DownloadedAlbumsScan", ...}
 * with "path" (the torrent's content path), "downloadClientId" (the
 * info-hash in upper case, as the Arrs key qBittorrent downloads) and
 * "importMode":"Auto", header X-Api-Key.  HTTP through util/fetch on the
 * loop (the misc proxy preference applies, core/proxy.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/proxy.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/view.h"
#include "ops/ops_int.h"
#include "util/fetch.h"
#include "util/log.h"
#include "util/path.h"

struct ops_arr {
    char *name, *type, *url, *key, *category;
    const char *command;         /* DownloadedEpisodesScan, ... */
    const char *api;             /* "v3" or "v1" */
    int alive;
    char version[64];
    uint64_t imports;
};

struct arr_call {
    struct ops *o;
    struct fetch_req *req;
    char hex[41];
    char arr_name[64];
    struct arr_call *next;
};

/* A probe of one connection, part of one ops_arr_probe. */
struct ops_probe {
    struct ops *o;
    struct fetch_req *req;
    size_t arr;                  /* index in o->arrs at the time */
    struct probe_group *g;
    struct ops_probe *next;
};

struct probe_group {
    size_t left;
    void (*done)(void *ud);
    void *ud;
};

static struct arr_call *calls;   /* imports in flight (one loop: one list) */

static const char *kind_command(const char *type, const char **api)
{
    *api = "v3";
    if (strcasecmp(type, "sonarr") == 0)
        return "DownloadedEpisodesScan";
    if (strcasecmp(type, "radarr") == 0)
        return "DownloadedMoviesScan";
    if (strcasecmp(type, "lidarr") == 0) {
        *api = "v1";
        return "DownloadedAlbumsScan";
    }
    return NULL;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *ops_arr_validate(const char *text)
{
    json_t *a = json_loads(text, 0, NULL);
    const char *why = NULL;
    if (!json_is_array(a)) {
        why = "must be a JSON array of connections";
        goto out;
    }
    size_t i;
    json_t *c;
    json_array_foreach(a, i, c)
    {
        const char *api;
        if (!json_is_object(c) || !jstr(c, "Name") || !jstr(c, "Type") || !jstr(c, "URI") || !jstr(c, "APIKey") ||
            !jstr(c, "Category")) {
            why = "each connection is an object with the strings Name, Type, URI, APIKey and Category";
            goto out;
        }
        if (!kind_command(jstr(c, "Type"), &api)) {
            why = "Type is sonarr, radarr or lidarr";
            goto out;
        }
        const char *u = jstr(c, "URI");
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
            why = "URI must be an http:// or https:// URL";
            goto out;
        }
    }
out:
    json_decref(a);
    return why;
}

static void arr_clear(struct ops *o)
{
    for (size_t i = 0; i < o->narrs; i++) {
        struct ops_arr *a = &o->arrs[i];
        free(a->name);
        free(a->type);
        free(a->url);
        if (a->key)
            explicit_bzero(a->key, strlen(a->key));
        free(a->key);
        free(a->category);
    }
    free(o->arrs);
    o->arrs = NULL;
    o->narrs = 0;
}

int ops_arr_configure(struct ops *o)
{
    const char *text = settings_str(&o->s->settings, SET_OPS_ARR);
    json_t *a = json_loads(text, 0, NULL);
    arr_clear(o);
    if (!json_is_array(a) || ops_arr_validate(text)) {
        json_decref(a);
        return -EINVAL;
    }
    size_t n = json_array_size(a);
    o->arrs = n ? calloc(n, sizeof *o->arrs) : NULL;
    if (n && !o->arrs) {
        json_decref(a);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(a, i);
        struct ops_arr *x = &o->arrs[o->narrs++];
        x->name = strdup(jstr(c, "Name"));
        x->type = strdup(jstr(c, "Type"));
        for (char *p = x->type; p && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        /* No trailing slash: the API path is appended. */
        x->url = strdup(jstr(c, "URI"));
        size_t ul = x->url ? strlen(x->url) : 0;
        while (ul > 0 && x->url[ul - 1] == '/')
            x->url[--ul] = 0;
        x->key = strdup(jstr(c, "APIKey"));
        x->category = strdup(jstr(c, "Category"));
        x->command = kind_command(jstr(c, "Type"), &x->api);
        x->alive = -1;
    }
    json_decref(a);
    return 0;
}

void ops_arr_free(struct ops *o)
{
    for (struct arr_call *c = calls, *n; c; c = n) {
        n = c->next;
        if (c->o == o) {
            fetch_cancel(c->req);
            c->o = NULL;
        }
    }
    struct arr_call **pp = &calls;
    while (*pp) {
        if (!(*pp)->o) {
            struct arr_call *d = *pp;
            *pp = d->next;
            free(d);
        } else {
            pp = &(*pp)->next;
        }
    }
    for (struct ops_probe *p = o->probes, *n; p; p = n) {
        n = p->next;
        fetch_cancel(p->req);
        struct probe_group *g = p->g;
        p->arr = SIZE_MAX;   /* unanswered */
        free(p);
        if (--g->left == 0) {
            g->done(g->ud);   /* its request is answered (the server drops it when stopped) */
            free(g);
        }
    }
    o->probes = NULL;
    arr_clear(o);
}

static struct ops_arr *arr_of(struct ops *o, const char *name)
{
    for (size_t i = 0; i < o->narrs; i++)
        if (strcmp(o->arrs[i].name, name) == 0)
            return &o->arrs[i];
    return NULL;
}

static char *content_path(const struct torrent *t)
{
    struct view_meta m;
    view_meta(t, &m);
    const char *sp = t->save_path ? t->save_path : "";
    if (m.single_file)
        return path_join(sp, m.single_file);
    const char *root = torrent_root_folder((struct torrent *)t);
    return root ? path_join(sp, root) : strdup(sp);
}

static void unlink_call(struct arr_call *c)
{
    for (struct arr_call **pp = &calls; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            return;
        }
}

static void on_import(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg)
{
    (void)body;
    (void)len;
    struct arr_call *c = ud;
    unlink_call(c);
    struct ops *o = c->o;
    struct torrent *t = session_find_hex(o->s, c->hex);
    struct ops_arr *a = arr_of(o, c->arr_name);
    if (rc == 0 && status >= 200 && status < 300) {
        if (a)
            a->imports++;
        if (t && !t->removing) {
            log_msg(LOG_INFO, "Ops: %s accepted the import of '%s': tagged %s", c->arr_name, torrent_name(t),
                    OPS_TAG_IMPORTED);
            ops_tag(o, t, OPS_TAG_IMPORTED, true);
        }
    } else {
        o->c.arr_failed++;
        log_msg(LOG_WARNING, "Ops: %s did not accept the import of %s: %s", c->arr_name, c->hex,
                rc ? errmsg : "HTTP error");
        if (rc == 0 && a)
            a->alive = 1;
        log_debug("arr import status %ld", status);
    }
    free(c);
}

void ops_arr_finished(struct ops *o, struct ops_rec *r)
{
    struct torrent *t = r->t;
    if (o->narrs == 0)
        return;
    const char *cat = t->category ? t->category : "";
    struct ops_arr *a = NULL;
    for (size_t i = 0; i < o->narrs && !a; i++)
        if (o->arrs[i].category && strcmp(o->arrs[i].category, cat) == 0)
            a = &o->arrs[i];
    if (!a || !a->command)
        return;
    r->arr_sent = true;   /* once, whatever the answer */
    char hash[41];
    for (int i = 0; i < 40; i++)
        hash[i] = (char)toupper((unsigned char)t->hex[i]);
    hash[40] = 0;
    char *path = content_path(t);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "name", a->command, "path", path ? path : "",
                          "downloadClientId", hash, "importMode", "Auto");
    free(path);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char url[1024], keyh[512], proxy[1024] = "";
    snprintf(url, sizeof url, "%s/api/%s/command", a->url, a->api);
    snprintf(keyh, sizeof keyh, "X-Api-Key: %s", a->key);
    proxy_url(o->s, PROXY_USE_MISC, proxy, sizeof proxy);
    const char *hdrs[] = {keyh, "Content-Type: application/json", "Accept: application/json"};
    struct fetch_opts fo = {.timeout_ms = 30000, .max_body = 1 << 20, .proxy = proxy,
                            .post_body = body, .post_len = body ? strlen(body) : 0,
                            .headers = hdrs, .num_headers = 3};
    struct arr_call *c = calloc(1, sizeof *c);
    int rc = !body || !c ? -ENOMEM : 0;
    if (rc == 0) {
        c->o = o;
        memcpy(c->hex, t->hex, 41);
        snprintf(c->arr_name, sizeof c->arr_name, "%s", a->name);
        rc = fetch_get(o->s->fetch, url, &fo, on_import, c, &c->req);
    }
    explicit_bzero(keyh, sizeof keyh);
    free(body);
    if (rc != 0) {
        free(c);
        o->c.arr_failed++;
        log_msg(LOG_WARNING, "Ops: cannot send the import of '%s' to %s: %s", torrent_name(t), a->name,
                strerror(-rc));
        return;
    }
    c->next = calls;
    calls = c;
    o->c.arr_triggered++;
    log_msg(LOG_INFO, "Ops: '%s' completed in category '%s': %s sent to %s", torrent_name(t), cat, a->command,
            a->name);
}

/* ---- probes ---- */

static void probe_unlink(struct ops *o, struct ops_probe *p)
{
    for (struct ops_probe **pp = &o->probes; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            return;
        }
}

static void on_probe(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg)
{
    (void)errmsg;
    struct ops_probe *p = ud;
    struct ops *o = p->o;
    probe_unlink(o, p);
    if (p->arr < o->narrs) {
        struct ops_arr *a = &o->arrs[p->arr];
        a->alive = rc == 0 && status == 200;
        a->version[0] = 0;
        if (a->alive) {
            json_t *j = json_loadb((const char *)body, len, 0, NULL);
            const char *v = jstr(j, "version");
            snprintf(a->version, sizeof a->version, "%s", v ? v : "");
            json_decref(j);
        }
    }
    struct probe_group *g = p->g;
    free(p);
    if (--g->left == 0) {
        g->done(g->ud);
        free(g);
    }
}

int ops_arr_probe(struct ops *o, void (*done)(void *ud), void *ud)
{
    struct probe_group *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->done = done;
    g->ud = ud;
    g->left = 1;   /* held until every probe is started */
    char proxy[1024] = "";
    proxy_url(o->s, PROXY_USE_MISC, proxy, sizeof proxy);
    for (size_t i = 0; i < o->narrs; i++) {
        struct ops_arr *a = &o->arrs[i];
        char url[1024], keyh[512];
        snprintf(url, sizeof url, "%s/api/%s/system/status", a->url, a->api);
        snprintf(keyh, sizeof keyh, "X-Api-Key: %s", a->key);
        const char *hdrs[] = {keyh, "Accept: application/json"};
        struct fetch_opts fo = {.timeout_ms = 5000, .max_body = 1 << 20, .proxy = proxy, .headers = hdrs,
                                .num_headers = 2};
        struct ops_probe *p = calloc(1, sizeof *p);
        if (!p)
            break;
        p->o = o;
        p->arr = i;
        p->g = g;
        g->left++;
        int rc = fetch_get(o->s->fetch, url, &fo, on_probe, p, &p->req);
        explicit_bzero(keyh, sizeof keyh);
        if (rc != 0) {
            a->alive = 0;
            g->left--;
            free(p);
            continue;
        }
        p->next = o->probes;
        o->probes = p;
    }
    if (--g->left == 0) {
        done(ud);
        free(g);
    }
    return 0;
}

size_t ops_arr_list(struct ops *o, struct ops_arr_info *out, size_t max)
{
    for (size_t i = 0; i < o->narrs && i < max; i++) {
        struct ops_arr *a = &o->arrs[i];
        out[i] = (struct ops_arr_info){a->name, a->type, a->url, a->category, a->alive, "", a->imports};
        snprintf(out[i].version, sizeof out[i].version, "%s", a->version);
    }
    return o->narrs;
}
