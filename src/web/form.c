/* web/form — request parameters and uploaded files.
 *
 * MHD decodes query strings and form bodies (urlencoded: '+' → space and
 * %XX; multipart: parts) and streams values in chunks; this file
 * accumulates them.  The total is bounded by the body limit checked in
 * server.c (web_on_access), the number of fields by WEB_MAX_PARAMS / WEB_MAX_FILES.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "web/web_int.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static int buf_append_nul(struct buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n + 1) != 0)
        return -ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max)
{
    if (n < *cap)
        return 0;
    if (n >= max)
        return -E2BIG;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

static int add_file(struct web_req *r, const char *name, const char *filename,
                    const char *data, uint64_t off, size_t size)
{
    if (off == 0 || r->cur_part < 0 || !r->cur_is_file) {
        size_t i;
        for (i = 0; i < r->nfiles; i++)
            if (strcmp(r->files[i].filename, filename) == 0)
                break;
        if (i == r->nfiles) {
            int rc = grow((void **)&r->files, &r->capfiles, r->nfiles, sizeof(*r->files), WEB_MAX_FILES);
            if (rc)
                return rc;
            struct web_upload *u = &r->files[i];
            memset(u, 0, sizeof(*u));
            u->filename = strdup(filename);
            u->field = strdup(name ? name : "");
            r->nfiles++;
            if (!u->filename || !u->field)
                return -ENOMEM;
        } else {
            /* Same filename again: the later part replaces the earlier. */
            buf_reset(&r->files[i].data);
            char *f = strdup(name ? name : "");
            if (!f)
                return -ENOMEM;
            free(r->files[i].field);
            r->files[i].field = f;
        }
        r->cur_part = (int)i;
        r->cur_is_file = true;
    }
    return buf_append_nul(&r->files[r->cur_part].data, data, size);
}

int web_form_add(struct web_req *r, const char *name, const char *filename,
                 const char *data, uint64_t off, size_t size)
{
    /* A file part without a name is still an upload: qBittorrent reads
     * every file part of torrents/add as a torrent, named or not. */
    if (filename)
        return add_file(r, name, filename, data, off, size);
    if (!name)
        return 0;
    if (off == 0 || r->cur_part < 0 || r->cur_is_file) {
        int rc = grow((void **)&r->params, &r->capparams, r->nparams, sizeof(*r->params), WEB_MAX_PARAMS);
        if (rc)
            return rc;
        struct web_param *p = &r->params[r->nparams];
        memset(p, 0, sizeof(*p));
        p->name = strdup(name);
        if (!p->name)
            return -ENOMEM;
        r->nparams++;
        r->cur_part = (int)r->nparams - 1;
        r->cur_is_file = false;
    }
    if (size && memchr(data, 0, size))
        r->params[r->cur_part].has_nul = true;
    return buf_append_nul(&r->params[r->cur_part].val, data, size);
}

enum MHD_Result web_form_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *filename, const char *content_type,
                              const char *transfer_encoding, const char *data,
                              uint64_t off, size_t size)
{
    (void)kind, (void)content_type, (void)transfer_encoding;
    struct web_req *r = cls;
    int rc = web_form_add(r, key, filename, data, off, size);
    if (rc) {
        if (!r->form_error)
            r->form_error = rc == -E2BIG ? (filename ? "Too many files in the form (limit " STR(WEB_MAX_FILES) ")"
                                                     : "Too many form fields (limit " STR(WEB_MAX_PARAMS) ")")
                                         : "Out of memory reading the form";
        log_debug("web: form field dropped (%s): %s", key ? key : "?", strerror(-rc));
        return MHD_NO;
    }
    return MHD_YES;
}

static enum MHD_Result query_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct web_req *r = cls;
    r->cur_part = -1;
    return web_form_add(r, key, NULL, value ? value : "", 0, value ? strlen(value) : 0) ? MHD_NO : MHD_YES;
}

int web_form_collect_query(struct web_req *r)
{
    if (!r->conn)
        return -ENOTCONN;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_cb, r);
    r->cur_part = -1;
    return 0;
}

void web_form_free(struct web_req *r)
{
    for (size_t i = 0; i < r->nparams; i++) {
        free(r->params[i].name);
        buf_free(&r->params[i].val);
    }
    free(r->params);
    for (size_t i = 0; i < r->nfiles; i++) {
        free(r->files[i].field);
        free(r->files[i].filename);
        buf_free(&r->files[i].data);
    }
    free(r->files);
    r->params = NULL;
    r->files = NULL;
    r->nparams = r->nfiles = r->capparams = r->capfiles = 0;
}

/* ---- the end of a multipart body ----
 *
 * RFC 2046 §5.1.1 lets an epilogue follow the close delimiter and says to
 * ignore it; libmicrohttpd 0.9.75's post processor instead fails on any byte
 * after "--boundary--" but one CRLF.  npm's form-data-encoder (what
 * @ctrl/utorrent sends add-file with) ends its bodies with "--boundary--"
 * and two CRLFs, which torrentd then refused as "Malformed form body".  So
 * the body is handed to MHD up to the end of the close delimiter and the
 * rest is dropped.  The delimiter is found by a scan that carries its state
 * across chunks: restarting on a mismatch is exact because the delimiter's
 * first character, CR, cannot occur in a boundary (RFC 2046 bchars). */

/* The boundary parameter of a multipart/form-data Content-Type, as MHD
 * reads it: after "boundary=", up to ';' or the end, one pair of quotes
 * removed.  Without one (or an overlong one) nothing is cut: MHD refuses
 * the body on its own. */
void web_form_multipart_begin(struct web_mp_end *m, const char *content_type)
{
    memset(m, 0, sizeof *m);
    if (!content_type || strncasecmp(content_type, "multipart/form-data", 19) != 0)
        return;
    const char *b = NULL;
    for (const char *p = content_type; *p; p++) {
        if (strncasecmp(p, "boundary=", 9) == 0) {
            b = p + 9;
            break;
        }
    }
    if (!b)
        return;
    size_t n = strcspn(b, ";");
    if (n >= 2 && b[0] == '"' && b[n - 1] == '"') {
        b++;
        n -= 2;
    }
    if (n == 0 || n > 70)
        return;
    memcpy(m->delim, "\r\n--", 4);
    memcpy(m->delim + 4, b, n);
    memcpy(m->delim + 4 + n, "--", 2);
    m->len = n + 6;
    m->active = true;
}

/* How many of the n bytes at data to pass to the post processor: all of
 * them until the close delimiter has ended, none after. */
size_t web_form_multipart_feed(struct web_mp_end *m, const char *data, size_t n)
{
    if (!m->active)
        return n;
    if (m->done)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (data[i] == m->delim[m->matched])
            m->matched++;
        else
            m->matched = data[i] == m->delim[0] ? 1 : 0;
        if (m->matched == m->len) {
            m->done = true;
            return i + 1;
        }
    }
    return n;
}

/* ---- public accessors ---- */

const char *web_req_param(struct web_req *r, const char *name)
{
    if (!r || !name)
        return NULL;
    for (size_t i = r->nparams; i-- > 0;)
        if (strcmp(r->params[i].name, name) == 0)
            return r->params[i].val.data ? (const char *)r->params[i].val.data : "";
    return NULL;
}

bool web_req_param_has_nul(struct web_req *r, const char *name)
{
    if (!r || !name)
        return false;
    for (size_t i = r->nparams; i-- > 0;)
        if (strcmp(r->params[i].name, name) == 0)
            return r->params[i].has_nul;
    return false;
}

const char *web_req_nul_param(struct web_req *r)
{
    for (size_t i = 0; r && i < r->nparams; i++)
        if (r->params[i].has_nul)
            return r->params[i].name;
    return NULL;
}

bool web_req_bool(struct web_req *r, const char *name, bool dflt)
{
    const char *v = web_req_param(r, name);
    if (!v)
        return dflt;
    if (strcasecmp(v, "true") == 0)
        return true;
    if (strcasecmp(v, "false") == 0)
        return false;
    return dflt;
}

size_t web_req_file_count(struct web_req *r)
{
    return r ? r->nfiles : 0;
}

const struct web_file *web_req_file(struct web_req *r, size_t i)
{
    if (!r || i >= r->nfiles)
        return NULL;
    struct web_upload *u = &r->files[i];
    u->pub.field = u->field;
    u->pub.filename = u->filename;
    u->pub.data = u->data.data ? u->data.data : (const uint8_t *)"";
    u->pub.len = u->data.len;
    return &u->pub;
}

const char *web_req_body(struct web_req *r, size_t *len)
{
    if (!r || !r->has_raw) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = r->raw.len;
    return r->raw.data ? (const char *)r->raw.data : "";
}
