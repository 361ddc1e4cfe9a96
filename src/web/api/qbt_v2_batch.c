/* web/api/qbt_v2_batch — helpers shared by the action endpoints: the
 * torrents an action names, and answering only after every torrent it
 * changed has been committed (DESIGN.md: "nothing is lost"). */
#include <stdlib.h>

#include "core/catalog.h"
#include "core/service.h"
#include "util/log.h"
#include "web/api/qbt_v2_int.h"

struct qbt_v2_batch *qbt_v2_batch_new(struct web_req *r)
{
    struct qbt_v2_batch *b = calloc(1, sizeof(*b));
    if (!b) {
        web_reply_error(r, 500, NULL);
        return NULL;
    }
    b->r = r;
    b->pending = 1;
    return b;
}

void qbt_v2_batch_done(void *ud, int rc)
{
    struct qbt_v2_batch *b = ud;
    if (rc != 0)
        log_msg(LOG_WARNING, "WebAPI: a change could not be saved (%d)", rc);
    if (--b->pending == 0) {
        web_reply_ok(b->r);
        free(b);
    }
}

void qbt_v2_batch_check(struct qbt_v2_batch *b, int rc)
{
    if (rc != 0)
        b->pending--;   /* the call will not report: no commit to wait for */
}

void qbt_v2_batch_save(struct qbt_v2_batch *b, struct torrent *t)
{
    b->pending++;
    qbt_v2_batch_check(b, service_save(t->s, t, qbt_v2_batch_done, b));
}

bool qbt_v2_targets(struct web_req *r, struct qbt_v2 *q, const char *name, struct qbt_v2_list *l)
{
    const char *h = web_req_param(r, name);
    if (!h) {
        web_reply_error(r, 400, NULL);
        return false;
    }
    if (qbt_v2_parse_hashes(q->s, h, true, l) != 0) {
        qbt_v2_list_free(l);
        web_reply_error(r, 500, NULL);
        return false;
    }
    return true;
}

struct torrent *qbt_v2_single(struct web_req *r, struct qbt_v2 *q)
{
    const char *h = web_req_param(r, "hash");
    if (!h) {
        web_reply_error(r, 400, NULL);
        return NULL;
    }
    struct torrent *t = session_find_hex(q->s, h);
    if (!t || t->removing) {
        web_reply_error(r, 404, NULL);
        return NULL;
    }
    return t;
}

void qbt_v2_apply_category(struct web_req *r, struct session *s, struct qbt_v2_list *l, const char *cat)
{
    if (l->n && *cat && !catalog_category_find(s->catalog, cat)) {
        qbt_v2_list_free(l);
        web_reply_error(r, 409, "Incorrect category name");
        return;
    }
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l->n; i++) {
        b->pending++;
        qbt_v2_batch_check(b, service_set_category(s, l->v[i], cat, qbt_v2_batch_done, b));
    }
    qbt_v2_list_free(l);
    if (b)
        qbt_v2_batch_done(b, 0);
}

void qbt_v2_apply_rate_limit(struct web_req *r, struct session *s, struct qbt_v2_list *l, bool up, int64_t v)
{
    struct qbt_v2_batch *b = qbt_v2_batch_new(r);
    for (size_t i = 0; b && i < l->n; i++) {
        b->pending++;
        qbt_v2_batch_check(b, service_set_rate_limit(s, l->v[i], up, v, qbt_v2_batch_done, b));
    }
    qbt_v2_list_free(l);
    if (b)
        qbt_v2_batch_done(b, 0);
}
