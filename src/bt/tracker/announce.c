#include "bt/tracker/announce.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bencode.h"
#include "util/pct.h"

#define TRACKER_MAX_URL 4096
#define TRACKER_UDP_MAX_URLDATA 1024
/* Every bencoded value costs the parser a 72-byte node, whatever its size
 * in the body: a 2 MB reply of empty lists is a million nodes, 72 MB, per
 * torrent that announces to that tracker.  A dict-style peer costs 5 to 7
 * values (ip, port, peer id), so 100,000 values still hold the
 * TRACKER_MAX_PEERS we keep; parsing costs at most ~7 MB. */
#define TRACKER_MAX_VALUES 100000
static const struct benc_limits tracker_benc_limits = {32, TRACKER_MAX_VALUES};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Tracker text is shown in the UI: bounded, no control characters. */
static char *dup_text(const uint8_t *s, size_t n)
{
    if (n > TRACKER_MAX_MSG)
        n = TRACKER_MAX_MSG;
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : (char)s[i];
    d[n] = 0;
    return d;
}

void tracker_announce_resp_init(struct tracker_announce_resp *r)
{
    memset(r, 0, sizeof *r);
    r->interval = r->min_interval = -1;
    r->complete = r->incomplete = r->downloaded = -1;
}

void tracker_announce_resp_free(struct tracker_announce_resp *r)
{
    if (!r)
        return;
    free(r->trackerid);
    free(r->failure);
    free(r->warning);
    free(r->peers);
    free(r->external_ip);
    tracker_announce_resp_init(r);
}

/* ---- URL building ---- */

/* Query values escaped as curl_easy_escape() does (RFC 3986 unreserved,
 * upper-case hex): binary info-hashes and peer ids go through as %XX. */
static int append_escaped(struct buf *b, const uint8_t *p, size_t n)
{
    return pct_encode(b, p, n, &pct_rfc3986);
}

/* Length of the URL without its fragment; -1 when it is not a sane URL. */
static long url_base_len(const char *url)
{
    size_t n = strnlen(url, TRACKER_MAX_URL + 1);
    if (n == 0 || n > TRACKER_MAX_URL)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)url[i] <= 0x20 || url[i] == 0x7f)
            return -1;
    const char *h = memchr(url, '#', n);
    return h ? (long)(h - url) : (long)n;
}

static int append_query_sep(struct buf *b, const char *url, size_t base)
{
    if (!memchr(url, '?', base))
        return buf_append_u8(b, '?');
    char last = url[base - 1];
    if (last == '?' || last == '&')
        return 0;
    return buf_append_u8(b, '&');
}

static int64_t nonneg(int64_t v) { return v < 0 ? 0 : v; }

int tracker_http_url(struct buf *out, const char *announce_url, const struct tracker_announce_req *r)
{
    if (!out || !announce_url || !r)
        return -EINVAL;
    long base = url_base_len(announce_url);
    if (base < 0)
        return -EINVAL;
    static const char *const events[] = {NULL, "completed", "started", "stopped"};
    buf_append(out, announce_url, (size_t)base);
    append_query_sep(out, announce_url, (size_t)base);
    buf_append_str(out, "info_hash=");
    append_escaped(out, r->info_hash, 20);
    buf_append_str(out, "&peer_id=");
    append_escaped(out, r->peer_id, 20);
    buf_appendf(out, "&port=%u&uploaded=%" PRId64 "&downloaded=%" PRId64 "&left=%" PRId64
                "&corrupt=%" PRId64 "&key=%08" PRIX32,
                (unsigned)r->port, nonneg(r->uploaded), nonneg(r->downloaded),
                r->left < 0 ? (int64_t)16384 : r->left, nonneg(r->corrupt), r->key);
    if (r->event > 0 && r->event <= 3)
        buf_appendf(out, "&event=%s", events[r->event]);
    if (r->numwant >= 0)
        buf_appendf(out, "&numwant=%d", r->numwant);
    buf_append_str(out, "&compact=1&no_peer_id=1");
    if (r->trackerid && *r->trackerid) {
        buf_append_str(out, "&trackerid=");
        append_escaped(out, (const uint8_t *)r->trackerid, strnlen(r->trackerid, TRACKER_MAX_MSG));
    }
    if (r->ip && *r->ip) {
        buf_append_str(out, "&ip=");
        append_escaped(out, (const uint8_t *)r->ip, strnlen(r->ip, 255));
    }
    if (r->ipv6 && *r->ipv6) {
        buf_append_str(out, "&ipv6=");
        append_escaped(out, (const uint8_t *)r->ipv6, strnlen(r->ipv6, 63));
    }
    return buf_error(out);   /* every append above, checked once */
}

int tracker_scrape_url(struct buf *out, const char *announce_url, const uint8_t info_hash[20])
{
    if (!out || !announce_url || !info_hash)
        return -EINVAL;
    long base = url_base_len(announce_url);
    if (base < 0)
        return -EINVAL;
    const char *u = announce_url;
    const char *host = strstr(u, "://");
    if (!host || host - u >= base)
        return -EINVAL;
    host += 3;
    /* The path starts at the first '/' after the host, before any query. */
    const char *end = u + base;
    const char *q = memchr(host, '?', (size_t)(end - host));
    const char *path_end = q ? q : end;
    const char *path = memchr(host, '/', (size_t)(path_end - host));
    if (!path)
        return -ENOTSUP;
    const char *last = path;
    for (const char *p = path; p < path_end; p++)
        if (*p == '/')
            last = p;
    const char *comp = last + 1;
    if (path_end - comp < 8 || memcmp(comp, "announce", 8) != 0)
        return -ENOTSUP;
    buf_append(out, u, (size_t)(comp - u));
    buf_append_str(out, "scrape");
    buf_append(out, comp + 8, (size_t)(end - (comp + 8)));
    append_query_sep(out, u, (size_t)base);
    buf_append_str(out, "info_hash=");
    append_escaped(out, info_hash, 20);
    return buf_error(out);   /* every append above, checked once */
}

/* ---- HTTP response parsing ---- */

static int64_t count_or_unknown(const struct benc *d, const char *key)
{
    int64_t v;
    if (!benc_dict_int(d, key, &v) || v < 0)
        return -1;
    return v;
}

static bool add_peer4(struct tracker_announce_resp *o, const uint8_t *ip, uint16_t port)
{
    if (port == 0 || o->num_peers >= TRACKER_MAX_PEERS)
        return false;
    struct sockaddr_in *a = (struct sockaddr_in *)&o->peers[o->num_peers].addr;
    a->sin_family = AF_INET;
    memcpy(&a->sin_addr, ip, 4);
    a->sin_port = htons(port);
    o->num_peers++;
    return true;
}

static bool add_peer6(struct tracker_announce_resp *o, const uint8_t *ip, uint16_t port)
{
    if (port == 0 || o->num_peers >= TRACKER_MAX_PEERS)
        return false;
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&o->peers[o->num_peers].addr;
    a->sin6_family = AF_INET6;
    memcpy(&a->sin6_addr, ip, 16);
    a->sin6_port = htons(port);
    o->num_peers++;
    return true;
}

static void add_dict_peer(struct tracker_announce_resp *o, const struct benc *d)
{
    if (d->type != BENC_DICT)
        return;
    size_t iplen;
    const uint8_t *ip = benc_dict_str(d, "ip", &iplen);
    int64_t port;
    if (!ip || iplen == 0 || iplen >= INET6_ADDRSTRLEN || !benc_dict_int(d, "port", &port) ||
        port <= 0 || port > 65535)
        return;
    char s[INET6_ADDRSTRLEN];
    memcpy(s, ip, iplen);
    s[iplen] = 0;
    uint8_t bin[16];
    if (inet_pton(AF_INET, s, bin) == 1)
        add_peer4(o, bin, (uint16_t)port);
    else if (inet_pton(AF_INET6, s, bin) == 1)
        add_peer6(o, bin, (uint16_t)port);
    /* Host names are skipped: resolving them is not worth a tracker's say-so. */
}

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

static int parse_peers(const struct benc *root, struct tracker_announce_resp *o, char *err, size_t errlen)
{
    const struct benc *p4 = benc_dict_get(root, "peers");
    const struct benc *p6 = benc_dict_get(root, "peers6");
    if (p4 && p4->type != BENC_STR && p4->type != BENC_LIST) {
        set_err(err, errlen, "invalid tracker response: 'peers' is neither a string nor a list");
        return -EPROTO;
    }
    if (p6 && p6->type != BENC_STR) {
        set_err(err, errlen, "invalid tracker response: 'peers6' is not a string");
        return -EPROTO;
    }
    size_t want = 0;
    if (p4)
        want += p4->type == BENC_STR ? p4->slen / 6 : p4->n;
    if (p6)
        want += p6->slen / 18;
    want = min_sz(want, TRACKER_MAX_PEERS);
    if (want == 0)
        return 0;
    o->peers = calloc(want, sizeof *o->peers);
    if (!o->peers)
        return -ENOMEM;
    if (p4 && p4->type == BENC_STR) {
        for (size_t i = 0; i + 6 <= p4->slen && o->num_peers < want; i += 6)
            add_peer4(o, p4->s + i, rd_be16(p4->s + i + 4));
    } else if (p4) {
        for (size_t i = 0; i < p4->n && o->num_peers < want; i++)
            add_dict_peer(o, &p4->items[i]);
    }
    if (p6)
        for (size_t i = 0; i + 18 <= p6->slen && o->num_peers < want; i += 18)
            add_peer6(o, p6->s + i, rd_be16(p6->s + i + 16));
    return 0;
}

static int parse_root(const uint8_t *body, size_t len, struct benc_doc **doc, char *err, size_t errlen)
{
    char e[128] = "";
    int rc = benc_parse(body, len, &tracker_benc_limits, 0, doc, NULL, e, sizeof e);
    if (rc == -ENOMEM)
        return rc;
    if (rc < 0) {
        /* libtorrent's errors::invalid_tracker_response, and why */
        set_err(err, errlen, "invalid tracker response: %s", e);
        return -EPROTO;
    }
    if (benc_root(*doc)->type != BENC_DICT) {
        benc_doc_free(*doc);
        *doc = NULL;
        set_err(err, errlen, "invalid tracker response: not a dictionary");
        return -EPROTO;
    }
    return 0;
}

static int dup_field(const struct benc *d, const char *key, char **out)
{
    size_t n;
    const uint8_t *s = benc_dict_str(d, key, &n);
    if (!s)
        return 0;
    *out = dup_text(s, n);
    return *out ? 0 : -ENOMEM;
}

int tracker_http_parse(const uint8_t *body, size_t len, struct tracker_announce_resp *out,
                       char *err, size_t errlen)
{
    tracker_announce_resp_init(out);
    if (err && errlen)
        err[0] = 0;
    struct benc_doc *doc = NULL;
    int rc = parse_root(body, len, &doc, err, errlen);
    if (rc)
        return rc;
    const struct benc *root = benc_root(doc);
    if (benc_dict_get(root, "failure reason")) {
        size_t n;
        const uint8_t *s = benc_dict_str(root, "failure reason", &n);
        out->failure = s ? dup_text(s, n) : strdup("(unreadable failure reason)");
        rc = out->failure ? 0 : -ENOMEM;
        goto done;
    }
    int64_t v;
    if (benc_dict_int(root, "interval", &v))
        out->interval = v < 0 ? -1 : v;
    if (benc_dict_int(root, "min interval", &v))
        out->min_interval = v < 0 ? -1 : v;
    out->complete = count_or_unknown(root, "complete");
    out->incomplete = count_or_unknown(root, "incomplete");
    out->downloaded = count_or_unknown(root, "downloaded");
    if ((rc = dup_field(root, "warning message", &out->warning)) ||
        (rc = dup_field(root, "tracker id", &out->trackerid)))
        goto done;
    size_t n;
    const uint8_t *ip = benc_dict_str(root, "external ip", &n);
    if (ip && (n == 4 || n == 16)) {
        char s[INET6_ADDRSTRLEN];
        if (inet_ntop(n == 4 ? AF_INET : AF_INET6, ip, s, sizeof s) && !(out->external_ip = strdup(s))) {
            rc = -ENOMEM;
            goto done;
        }
    }
    rc = parse_peers(root, out, err, errlen);
done:
    benc_doc_free(doc);
    return rc;
}

int tracker_scrape_parse(const uint8_t *body, size_t len, const uint8_t info_hash[20],
                         int64_t *complete, int64_t *incomplete, int64_t *downloaded)
{
    struct benc_doc *doc = NULL;
    int rc = parse_root(body, len, &doc, NULL, 0);
    if (rc)
        return rc;
    const struct benc *root = benc_root(doc);
    const struct benc *files = benc_dict_get_type(root, "files", BENC_DICT);
    rc = -ENOENT;
    if (benc_dict_get(root, "failure reason"))
        rc = -EREMOTEIO;
    else if (!files)
        rc = benc_dict_get(root, "files") ? -EPROTO : -ENOENT;
    for (size_t i = 0; files && i + 1 < files->n; i += 2) {
        const struct benc *k = &files->items[i], *val = &files->items[i + 1];
        if (k->slen != 20 || memcmp(k->s, info_hash, 20) != 0)
            continue;
        if (val->type != BENC_DICT) {
            rc = -EPROTO;
            break;
        }
        *complete = count_or_unknown(val, "complete");
        *incomplete = count_or_unknown(val, "incomplete");
        *downloaded = count_or_unknown(val, "downloaded");
        rc = 0;
        break;
    }
    benc_doc_free(doc);
    return rc;
}

/* ---- UDP (BEP15) ---- */

int tracker_udp_connect_req(struct buf *out, uint32_t txid)
{
    int rc = buf_append_be64(out, TRACKER_UDP_MAGIC);
    rc |= buf_append_be32(out, TRACKER_UDP_CONNECT);
    rc |= buf_append_be32(out, txid);
    return rc ? -ENOMEM : 0;
}

int tracker_udp_announce_req(struct buf *out, uint64_t conn_id, uint32_t txid,
                             const struct tracker_announce_req *r, const char *url_data)
{
    if (!r || r->event < 0 || r->event > 3)
        return -EINVAL;
    int rc = buf_append_be64(out, conn_id);
    rc |= buf_append_be32(out, TRACKER_UDP_ANNOUNCE);
    rc |= buf_append_be32(out, txid);
    rc |= buf_append(out, r->info_hash, 20);
    rc |= buf_append(out, r->peer_id, 20);
    rc |= buf_append_be64(out, (uint64_t)nonneg(r->downloaded));
    rc |= buf_append_be64(out, (uint64_t)(r->left < 0 ? 16384 : r->left));
    rc |= buf_append_be64(out, (uint64_t)nonneg(r->uploaded));
    rc |= buf_append_be32(out, (uint32_t)r->event);
    struct in_addr ip4 = {0};                         /* 0: the sender's */
    if (r->ip && *r->ip && inet_pton(AF_INET, r->ip, &ip4) != 1)
        ip4.s_addr = 0;
    rc |= buf_append(out, (const uint8_t *)&ip4.s_addr, 4);   /* already in network order */
    rc |= buf_append_be32(out, r->key);
    rc |= buf_append_be32(out, (uint32_t)(r->numwant < 0 ? -1 : r->numwant));
    rc |= buf_append_be16(out, r->port);
    /* BEP41: the URL's path and query, in chunks of at most 255 bytes. */
    size_t n = url_data ? strnlen(url_data, TRACKER_UDP_MAX_URLDATA) : 0;
    for (size_t off = 0; off < n;) {
        size_t k = min_sz(n - off, 255);
        rc |= buf_append_u8(out, 2);
        rc |= buf_append_u8(out, (uint8_t)k);
        rc |= buf_append(out, url_data + off, k);
        off += k;
    }
    return rc ? -ENOMEM : 0;
}

int tracker_udp_scrape_req(struct buf *out, uint64_t conn_id, uint32_t txid, const uint8_t info_hash[20])
{
    int rc = buf_append_be64(out, conn_id);
    rc |= buf_append_be32(out, TRACKER_UDP_SCRAPE);
    rc |= buf_append_be32(out, txid);
    rc |= buf_append(out, info_hash, 20);
    return rc ? -ENOMEM : 0;
}

int tracker_udp_txid(const uint8_t *p, size_t n, uint32_t *txid)
{
    if (!p || n < 8)
        return -EPROTO;
    *txid = rd_be32(p + 4);
    return 0;
}

/* Common header checks; returns 0 when p is a well-formed `action` reply. */
static int udp_check(const uint8_t *p, size_t n, uint32_t txid, uint32_t action, size_t min_len,
                     char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    if (!p || n < 8) {
        set_err(err, errlen, "UDP tracker reply too short (%zu bytes)", n);
        return -EPROTO;
    }
    if (rd_be32(p + 4) != txid) {
        set_err(err, errlen, "UDP tracker reply for another transaction");
        return -ESRCH;
    }
    uint32_t a = rd_be32(p);
    if (a == TRACKER_UDP_ERROR) {
        char *m = dup_text(p + 8, n - 8);
        set_err(err, errlen, "%s", m && *m ? m : "tracker error");
        free(m);
        return -EREMOTEIO;
    }
    if (a != action) {
        set_err(err, errlen, "UDP tracker reply has action %" PRIu32 ", expected %" PRIu32, a, action);
        return -EPROTO;
    }
    if (n < min_len) {
        set_err(err, errlen, "UDP tracker reply too short (%zu bytes)", n);
        return -EPROTO;
    }
    return 0;
}

int tracker_udp_connect_parse(const uint8_t *p, size_t n, uint32_t txid, uint64_t *conn_id,
                              char *err, size_t errlen)
{
    int rc = udp_check(p, n, txid, TRACKER_UDP_CONNECT, 16, err, errlen);
    if (rc == 0)
        *conn_id = rd_be64(p + 8);
    return rc;
}

int tracker_udp_announce_parse(const uint8_t *p, size_t n, uint32_t txid, int ipv6,
                               struct tracker_announce_resp *out, char *err, size_t errlen)
{
    tracker_announce_resp_init(out);
    int rc = udp_check(p, n, txid, TRACKER_UDP_ANNOUNCE, 20, err, errlen);
    if (rc)
        return rc;
    out->interval = rd_be32(p + 8);
    out->incomplete = rd_be32(p + 12);
    out->complete = rd_be32(p + 16);
    size_t step = ipv6 ? 18 : 6;
    size_t want = min_sz((n - 20) / step, TRACKER_MAX_PEERS);
    if (want == 0)
        return 0;
    out->peers = calloc(want, sizeof *out->peers);
    if (!out->peers)
        return -ENOMEM;
    for (size_t off = 20; off + step <= n && out->num_peers < want; off += step) {
        if (ipv6)
            add_peer6(out, p + off, rd_be16(p + off + 16));
        else
            add_peer4(out, p + off, rd_be16(p + off + 4));
    }
    return 0;
}

int tracker_udp_scrape_parse(const uint8_t *p, size_t n, uint32_t txid, int64_t *complete,
                             int64_t *incomplete, int64_t *downloaded, char *err, size_t errlen)
{
    int rc = udp_check(p, n, txid, TRACKER_UDP_SCRAPE, 20, err, errlen);
    if (rc)
        return rc;
    *complete = rd_be32(p + 8);
    *downloaded = rd_be32(p + 12);
    *incomplete = rd_be32(p + 16);
    return 0;
}
