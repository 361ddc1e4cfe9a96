/* dht/krpc — KRPC codec.  See krpc.h. */
#include "bt/dht/krpc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bt/bencode.h"

static const char *const method_names[] = {
    [DHT_M_PING] = "ping",
    [DHT_M_FIND_NODE] = "find_node",
    [DHT_M_GET_PEERS] = "get_peers",
    [DHT_M_ANNOUNCE_PEER] = "announce_peer",
};

void dht_msg_init(struct dht_msg *m)
{
    memset(m, 0, sizeof *m);
    m->port = -1;
}

static int fail(struct dht_msg *m, int code, const char *msg)
{
    m->error_code = code;
    snprintf(m->error_msg, sizeof m->error_msg, "%s", msg);
    return -EPROTO;
}

/* A 20-byte id from dict[key]; false when missing or of another length. */
static bool get_id(const struct benc *d, const char *key, uint8_t out[DHT_ID_LEN])
{
    size_t len;
    const uint8_t *s = benc_dict_str(d, key, &len);
    if (!s || len != DHT_ID_LEN)
        return false;
    memcpy(out, s, DHT_ID_LEN);
    return true;
}

static int parse_query(const struct benc *root, struct dht_msg *m)
{
    const struct benc *q = benc_dict_get_type(root, "q", BENC_STR);
    if (!q)
        return fail(m, DHT_ERR_PROTOCOL, "missing q");
    for (int i = DHT_M_PING; i <= DHT_M_ANNOUNCE_PEER; i++)
        if (benc_str_eq(q, method_names[i]))
            m->method = i;
    const struct benc *a = benc_dict_get_type(root, "a", BENC_DICT);
    if (!a)
        return fail(m, DHT_ERR_PROTOCOL, "missing a");
    if (!get_id(a, "id", m->id))
        return fail(m, DHT_ERR_PROTOCOL, "bad id");
    m->has_id = true;
    int64_t v;
    if (benc_dict_int(root, "ro", &v) && v == 1)
        m->read_only = true;
    const struct benc *want = benc_dict_get_type(a, "want", BENC_LIST);
    for (size_t i = 0; want && i < want->n && i < 8; i++) {
        if (benc_str_eq(&want->items[i], "n4"))
            m->want |= DHT_WANT_N4;
        else if (benc_str_eq(&want->items[i], "n6"))
            m->want |= DHT_WANT_N6;
    }
    switch (m->method) {
    case DHT_M_PING:
        return 0;
    case DHT_M_FIND_NODE:
        if (!get_id(a, "target", m->target))
            return fail(m, DHT_ERR_PROTOCOL, "bad target");
        m->has_target = true;
        return 0;
    case DHT_M_GET_PEERS:
    case DHT_M_ANNOUNCE_PEER:
        if (!get_id(a, "info_hash", m->target))
            return fail(m, DHT_ERR_PROTOCOL, "bad info_hash");
        m->has_target = true;
        break;
    default:
        return fail(m, DHT_ERR_METHOD, "Method Unknown");
    }
    if (m->method == DHT_M_GET_PEERS)
        return 0;
    if (benc_dict_int(a, "implied_port", &v) && v != 0)
        m->implied_port = true;
    if (benc_dict_int(a, "port", &v)) {
        if (v < 1 || v > 65535)
            return fail(m, DHT_ERR_PROTOCOL, "bad port");
        m->port = (int)v;
    }
    if (m->port < 0 && !m->implied_port)
        return fail(m, DHT_ERR_PROTOCOL, "missing port");
    size_t len;
    const uint8_t *tok = benc_dict_str(a, "token", &len);
    if (!tok || len == 0 || len > DHT_TOKEN_MAX)
        return fail(m, DHT_ERR_PROTOCOL, "bad token");
    memcpy(m->token, tok, len);
    m->token_len = len;
    return 0;
}

static int parse_response(const struct benc *root, struct dht_msg *m)
{
    const struct benc *r = benc_dict_get_type(root, "r", BENC_DICT);
    if (!r)
        return fail(m, DHT_ERR_PROTOCOL, "missing r");
    if (!get_id(r, "id", m->id))
        return fail(m, DHT_ERR_PROTOCOL, "bad id");
    m->has_id = true;
    size_t len;
    const uint8_t *s = benc_dict_str(r, "nodes", &len);
    if (s) {
        if (len % DHT_NODE4_LEN)
            return fail(m, DHT_ERR_PROTOCOL, "bad nodes length");
        m->nodes = s;
        m->nodes_len = len;
    }
    s = benc_dict_str(r, "nodes6", &len);
    if (s) {
        if (len % DHT_NODE6_LEN)
            return fail(m, DHT_ERR_PROTOCOL, "bad nodes6 length");
        m->nodes6 = s;
        m->nodes6_len = len;
    }
    s = benc_dict_str(r, "token", &len);
    if (s) {
        if (len == 0 || len > DHT_TOKEN_MAX)
            return fail(m, DHT_ERR_PROTOCOL, "bad token");
        memcpy(m->token, s, len);
        m->token_len = len;
    }
    const struct benc *values = benc_dict_get(r, "values");
    if (values) {
        if (values->type != BENC_LIST)
            return fail(m, DHT_ERR_PROTOCOL, "bad values");
        for (size_t i = 0; i < values->n; i++) {
            const struct benc *v = &values->items[i];
            if (v->type != BENC_STR || (v->slen != 6 && v->slen != 18))
                return fail(m, DHT_ERR_PROTOCOL, "bad compact peer");
            if (m->n_values < DHT_VALUES_MAX) {
                m->values[m->n_values].len = (uint8_t)v->slen;
                memcpy(m->values[m->n_values].b, v->s, v->slen);
                m->n_values++;
            }
        }
    }
    return 0;
}

static int parse_error(const struct benc *root, struct dht_msg *m)
{
    const struct benc *e = benc_dict_get_type(root, "e", BENC_LIST);
    if (!e || e->n < 2 || e->items[0].type != BENC_INT || e->items[1].type != BENC_STR)
        return fail(m, DHT_ERR_PROTOCOL, "bad e");
    int64_t code = e->items[0].i;
    m->error_code = code < 0 || code > 999 ? 0 : (int)code;
    size_t len = e->items[1].slen < DHT_ERRMSG_MAX - 1 ? e->items[1].slen : DHT_ERRMSG_MAX - 1;
    for (size_t i = 0; i < len; i++) {   /* a log line, never raw bytes */
        uint8_t c = e->items[1].s[i];
        m->error_msg[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    m->error_msg[len] = '\0';
    return 0;
}

int dht_krpc_parse(const uint8_t *p, size_t n, struct dht_msg *m)
{
    dht_msg_init(m);
    if (n == 0 || n > DHT_MAX_PACKET || p[0] != 'd')
        return fail(m, DHT_ERR_PROTOCOL, "not a dictionary");
    struct benc_limits lim = {.max_depth = 8, .max_tokens = 2048};
    struct benc_doc *doc;
    char err[96];
    if (benc_parse(p, n, &lim, 0, &doc, NULL, err, sizeof err) < 0)
        return fail(m, DHT_ERR_PROTOCOL, "malformed bencoding");
    const struct benc *root = benc_root(doc);
    int rc;
    size_t len;
    const uint8_t *t = benc_dict_str(root, "t", &len);
    const struct benc *y = benc_dict_get_type(root, "y", BENC_STR);
    if (y && benc_str_eq(y, "q"))
        m->type = DHT_MSG_QUERY;
    else if (y && benc_str_eq(y, "r"))
        m->type = DHT_MSG_RESPONSE;
    else if (y && benc_str_eq(y, "e"))
        m->type = DHT_MSG_ERROR;
    if (t && len <= DHT_TID_MAX) {
        memcpy(m->tid, t, len);
        m->tid_len = len;
        m->has_tid = true;
    }
    if (!t || len == 0 || len > DHT_TID_MAX)
        rc = fail(m, DHT_ERR_PROTOCOL, "bad t");
    else if (!m->type)
        rc = fail(m, DHT_ERR_PROTOCOL, "bad y");
    else if (m->type == DHT_MSG_QUERY)
        rc = parse_query(root, m);
    else if (m->type == DHT_MSG_RESPONSE)
        rc = parse_response(root, m);
    else
        rc = parse_error(root, m);
    if (rc == 0) {
        const uint8_t *ip = benc_dict_str(root, "ip", &len);
        if (ip && (len == 6 || len == 18)) {
            memcpy(m->ip, ip, len);
            m->ip_len = len;
        }
    }
    /* nodes/nodes6 point into p, not into the doc, so freeing it is safe. */
    benc_doc_free(doc);
    return rc;
}

/* ---- encoder ---- */

static int put_key_str(struct buf *b, const char *key, const void *p, size_t n)
{
    int rc = benc_put_cstr(b, key);
    return rc ? rc : benc_put_str(b, p, n);
}

static int put_key_int(struct buf *b, const char *key, int64_t v)
{
    int rc = benc_put_cstr(b, key);
    return rc ? rc : benc_put_int(b, v);
}

static int encode_args(struct buf *b, const struct dht_msg *m)
{
    bool ann = m->method == DHT_M_ANNOUNCE_PEER;
    bool ih = m->method == DHT_M_GET_PEERS || ann;
    int rc = benc_put_dict(b);
    if (!rc)
        rc = put_key_str(b, "id", m->id, DHT_ID_LEN);
    if (!rc && ann && m->implied_port)
        rc = put_key_int(b, "implied_port", 1);
    if (!rc && ih)
        rc = put_key_str(b, "info_hash", m->target, DHT_ID_LEN);
    if (!rc && ann && m->port > 0)
        rc = put_key_int(b, "port", m->port);
    if (!rc && m->method == DHT_M_FIND_NODE)
        rc = put_key_str(b, "target", m->target, DHT_ID_LEN);
    if (!rc && ann)
        rc = put_key_str(b, "token", m->token, m->token_len);
    if (!rc && m->want) {
        rc = benc_put_cstr(b, "want");
        if (!rc)
            rc = benc_put_list(b);
        if (!rc && (m->want & DHT_WANT_N4))
            rc = benc_put_cstr(b, "n4");
        if (!rc && (m->want & DHT_WANT_N6))
            rc = benc_put_cstr(b, "n6");
        if (!rc)
            rc = benc_put_end(b);
    }
    return rc ? rc : benc_put_end(b);
}

static int encode_reply(struct buf *b, const struct dht_msg *m)
{
    int rc = benc_put_dict(b);
    if (!rc)
        rc = put_key_str(b, "id", m->id, DHT_ID_LEN);
    if (!rc && m->nodes_len)
        rc = put_key_str(b, "nodes", m->nodes, m->nodes_len);
    if (!rc && m->nodes6_len)
        rc = put_key_str(b, "nodes6", m->nodes6, m->nodes6_len);
    if (!rc && m->token_len)
        rc = put_key_str(b, "token", m->token, m->token_len);
    if (!rc && m->n_values) {
        rc = benc_put_cstr(b, "values");
        if (!rc)
            rc = benc_put_list(b);
        for (size_t i = 0; !rc && i < m->n_values; i++)
            rc = benc_put_str(b, m->values[i].b, m->values[i].len);
        if (!rc)
            rc = benc_put_end(b);
    }
    return rc ? rc : benc_put_end(b);
}

int dht_krpc_encode(struct buf *b, const struct dht_msg *m)
{
    /* An error may answer a query whose t was unreadable: empty t. */
    if ((m->tid_len == 0 && m->type != DHT_MSG_ERROR) || m->tid_len > DHT_TID_MAX || m->token_len > DHT_TOKEN_MAX ||
        m->n_values > DHT_VALUES_MAX || m->nodes_len % DHT_NODE4_LEN ||
        m->nodes6_len % DHT_NODE6_LEN || (m->ip_len != 0 && m->ip_len != 6 && m->ip_len != 18))
        return -EINVAL;
    for (size_t i = 0; i < m->n_values; i++)
        if (m->values[i].len != 6 && m->values[i].len != 18)
            return -EINVAL;
    if (m->type == DHT_MSG_QUERY &&
        (m->method < DHT_M_PING || m->method > DHT_M_ANNOUNCE_PEER ||
         (m->method == DHT_M_ANNOUNCE_PEER && (m->token_len == 0 || (m->port <= 0 && !m->implied_port)))))
        return -EINVAL;
    if (m->type < DHT_MSG_QUERY || m->type > DHT_MSG_ERROR)
        return -EINVAL;
    int rc = benc_put_dict(b);
    if (!rc && m->type == DHT_MSG_QUERY)
        rc = benc_put_cstr(b, "a");
    if (!rc && m->type == DHT_MSG_QUERY)
        rc = encode_args(b, m);
    if (!rc && m->type == DHT_MSG_ERROR) {
        rc = benc_put_cstr(b, "e");
        if (!rc)
            rc = benc_put_list(b);
        if (!rc)
            rc = benc_put_int(b, m->error_code);
        if (!rc)
            rc = benc_put_cstr(b, m->error_msg);
        if (!rc)
            rc = benc_put_end(b);
    }
    if (!rc && m->ip_len && m->type != DHT_MSG_QUERY)
        rc = put_key_str(b, "ip", m->ip, m->ip_len);
    if (!rc && m->type == DHT_MSG_QUERY)
        rc = put_key_str(b, "q", method_names[m->method], strlen(method_names[m->method]));
    if (!rc && m->type == DHT_MSG_RESPONSE)
        rc = benc_put_cstr(b, "r");
    if (!rc && m->type == DHT_MSG_RESPONSE)
        rc = encode_reply(b, m);
    if (!rc && m->type == DHT_MSG_QUERY && m->read_only)
        rc = put_key_int(b, "ro", 1);
    if (!rc)
        rc = put_key_str(b, "t", m->tid, m->tid_len);
    if (!rc)
        rc = put_key_str(b, "v", "TD01", 4);
    if (!rc)
        rc = put_key_str(b, "y", m->type == DHT_MSG_QUERY ? "q" : m->type == DHT_MSG_RESPONSE ? "r" : "e", 1);
    return rc ? rc : benc_put_end(b);
}
