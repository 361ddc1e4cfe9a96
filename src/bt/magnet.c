#include "bt/magnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bt/bencode.h"
#include "util/buf.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/pct.h"

static int fail(char *err, size_t errlen, int rc, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    log_debug("magnet: %s", msg);
    return rc;
}

/* "tr.1", "x.pe.12" -> base name length without the ".<digits>" suffix. */
static size_t key_base(const char *k, size_t n)
{
    size_t i = n;
    while (i > 0 && k[i - 1] >= '0' && k[i - 1] <= '9')
        i--;
    if (i < n && i > 1 && k[i - 1] == '.')
        return i - 1;
    return n;
}

static bool key_is(const char *k, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(k, name, n) == 0;
}

/* A URL-ish value: printable ASCII only (no spaces, no control bytes). */
static bool url_ok(const char *v, size_t n)
{
    if (n == 0 || n > 4096)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
            return false;
    return true;
}

static int add_unique(char ***list, size_t *num, size_t max, const char *v, size_t n)
{
    if (!url_ok(v, n)) {
        log_debug("magnet: unusable URL skipped");
        return 0;
    }
    for (size_t i = 0; i < *num; i++)
        if (strcmp((*list)[i], v) == 0)
            return 0;
    if (*num >= max) {
        log_debug("magnet: more than %zu URLs, rest dropped", max);
        return 0;
    }
    char **nl = realloc(*list, (*num + 1) * sizeof *nl);
    if (!nl)
        return -ENOMEM;
    *list = nl;
    if (!(nl[*num] = strdup(v)))
        return -ENOMEM;
    (*num)++;
    return 0;
}

/* x.pe: "1.2.3.4:6881" or "[::1]:6881".  Returns 1 if parsed into ss. */
static int parse_peer(const char *v, size_t n, struct sockaddr_storage *ss)
{
    char host[64];
    const char *colon;
    size_t hl;
    if (n == 0 || n > 60)
        return 0;
    if (v[0] == '[') {
        const char *rb = memchr(v, ']', n);
        if (!rb || rb + 1 >= v + n || rb[1] != ':')
            return 0;
        hl = (size_t)(rb - v - 1);
        memcpy(host, v + 1, hl);
        colon = rb + 1;
    } else {
        colon = memrchr(v, ':', n);
        if (!colon)
            return 0;
        hl = (size_t)(colon - v);
        memcpy(host, v, hl);
    }
    host[hl] = '\0';
    const char *ps = colon + 1;
    size_t pl = (size_t)(v + n - ps);
    if (pl == 0 || pl > 5)
        return 0;
    unsigned port = 0;
    for (size_t i = 0; i < pl; i++) {
        if (ps[i] < '0' || ps[i] > '9')
            return 0;
        port = port * 10 + (unsigned)(ps[i] - '0');
    }
    if (port == 0 || port > 65535)
        return 0;
    memset(ss, 0, sizeof *ss);
    if (v[0] == '[') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return 0;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
            return 0;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
    }
    return 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static bool read_u32(const char **s, const char *end, uint32_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    if (p >= end || *p < '0' || *p > '9')
        return false;
    while (p < end && *p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return false;
        p++;
    }
    *s = p;
    *out = (uint32_t)v;
    return true;
}

/* so=0,2,4-6 (BEP53).  Appends to m->select_only; -EINVAL when malformed or
 * when the expansion exceeds BT_MAGNET_MAX_SELECT. */
static int parse_select(struct bt_magnet *m, const char *v, size_t n)
{
    const char *p = v, *end = v + n;
    while (p < end) {
        uint32_t a, b;
        if (!read_u32(&p, end, &a))
            return -EINVAL;
        b = a;
        if (p < end && *p == '-') {
            p++;
            if (!read_u32(&p, end, &b) || b < a)
                return -EINVAL;
        }
        if (p < end) {
            if (*p != ',' || p + 1 == end)
                return -EINVAL;
            p++;
        }
        if ((uint64_t)b - a + 1 > BT_MAGNET_MAX_SELECT - m->num_select_only)
            return -EINVAL;
        uint32_t *ns = realloc(m->select_only, (m->num_select_only + (b - a) + 1) * sizeof *ns);
        if (!ns)
            return -ENOMEM;
        m->select_only = ns;
        for (uint64_t i = a; i <= b; i++)
            ns[m->num_select_only++] = (uint32_t)i;
    }
    return 0;
}

static void select_normalize(struct bt_magnet *m)
{
    if (m->num_select_only < 2)
        return;
    qsort(m->select_only, m->num_select_only, sizeof *m->select_only, cmp_u32);
    size_t k = 1;
    for (size_t i = 1; i < m->num_select_only; i++)
        if (m->select_only[i] != m->select_only[k - 1])
            m->select_only[k++] = m->select_only[i];
    m->num_select_only = k;
}

/* 40 hex or 32 base32 digits into 20 bytes. */
static bool decode_btih(const char *s, size_t n, uint8_t out[20])
{
    if (n == 40)
        return hex_decode(s, n, out, 20) == 20;
    if (n == 32)
        return base32_decode(s, n, out, 20) == 20;
    return false;
}

/* One xt value.  Returns 0 (used or ignored) or -EINVAL for a broken btih/btmh. */
static int parse_xt(struct bt_magnet *m, const char *v, size_t n)
{
    if (n > 9 && strncasecmp(v, "urn:btih:", 9) == 0) {
        uint8_t ih[20];
        if (!decode_btih(v + 9, n - 9, ih))
            return -EINVAL;
        if (!m->has_v1) {
            memcpy(m->info_hash, ih, 20);
            m->has_v1 = true;
        } else if (memcmp(m->info_hash, ih, 20) != 0) {
            log_debug("magnet: second, different btih ignored");
        }
        return 0;
    }
    if (n > 9 && strncasecmp(v, "urn:btmh:", 9) == 0) {
        /* multihash: 0x12 (sha2-256), 0x20 (32 bytes), digest. */
        uint8_t mh[34];
        if (n - 9 != 68 || hex_decode(v + 9, 68, mh, sizeof mh) != 34 || mh[0] != 0x12 || mh[1] != 0x20)
            return -EINVAL;
        if (!m->has_v2) {
            memcpy(m->info_hash_v2, mh + 2, 32);
            m->has_v2 = true;
        }
        return 0;
    }
    log_debug("magnet: unknown xt ignored");
    return 0;
}

/* Handles one decoded key=value.  Returns 0, -EINVAL (with *why) or -ENOMEM. */
static int parse_param(struct bt_magnet *m, const char *k, size_t kl, const char *v, size_t vl,
                       const char **why)
{
    if (key_is(k, kl, "xt")) {
        if (memchr(v, '\0', vl) || parse_xt(m, v, vl)) {
            *why = "invalid info-hash in xt";
            return -EINVAL;
        }
        return 0;
    }
    if (key_is(k, kl, "dn")) {
        if (m->name || vl == 0)
            return 0;
        m->name = benc_strdup_text((const uint8_t *)v, vl, BT_MAGNET_MAX_NAME, true);
        return m->name ? 0 : -ENOMEM;
    }
    if (key_is(k, kl, "tr"))
        return add_unique(&m->trackers, &m->num_trackers, BT_MAGNET_MAX_TRACKERS, v, vl);
    if (key_is(k, kl, "ws"))
        return add_unique(&m->web_seeds, &m->num_web_seeds, BT_MAGNET_MAX_WEB_SEEDS, v, vl);
    if (key_is(k, kl, "x.pe")) {
        struct sockaddr_storage ss;
        if (m->num_peers >= BT_MAGNET_MAX_PEERS || !parse_peer(v, vl, &ss)) {
            log_debug("magnet: x.pe skipped");
            return 0;
        }
        if (!m->peers && !(m->peers = calloc(BT_MAGNET_MAX_PEERS, sizeof *m->peers)))
            return -ENOMEM;
        m->peers[m->num_peers++] = ss;
        return 0;
    }
    if (key_is(k, kl, "so")) {
        int rc = parse_select(m, v, vl);
        if (rc == -EINVAL)
            *why = "invalid file selection (so)";
        return rc;
    }
    return 0;   /* xl, as, xs, kt, mt and anything new: not needed */
}

int bt_magnet_parse(const char *uri, struct bt_magnet **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!uri)
        return fail(err, errlen, -EINVAL, "no magnet link");
    size_t len = strnlen(uri, BT_MAGNET_MAX_URI + 1);
    if (len > BT_MAGNET_MAX_URI)
        return fail(err, errlen, -EINVAL, "magnet link too long");
    if (len < 8 || strncasecmp(uri, "magnet:?", 8) != 0)
        return fail(err, errlen, -EINVAL, "not a magnet link");

    struct bt_magnet *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    int rc = 0;
    const char *why = "invalid magnet link";
    const char *p = uri + 8, *end = uri + len;
    while (p < end && rc == 0) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq && eq > p) {
            /* '+' is a space here too, as libtorrent's unescape_string() has it */
            size_t kl, vl;
            char *k = NULL, *v = NULL;
            rc = pct_decode(p, (size_t)(eq - p), PCT_FORM, &k, &kl);
            if (rc == 0)
                rc = pct_decode(eq + 1, (size_t)(pe - eq - 1), PCT_FORM, &v, &vl);
            if (rc) {
                why = "broken %-escape";
            } else {
                rc = parse_param(m, k, key_base(k, kl), v, vl, &why);
            }
            free(k);
            free(v);
        }
        p = pe + 1;
    }
    if (rc == 0 && !m->has_v1 && m->has_v2) {
        memcpy(m->info_hash, m->info_hash_v2, 20);   /* BEP52: the swarm key of a v2 torrent */
    } else if (rc == 0 && !m->has_v1) {
        rc = -EINVAL;
        why = "magnet link has no BitTorrent info-hash (xt=urn:btih: or urn:btmh:)";
    }
    if (rc) {
        bt_magnet_free(m);
        return fail(err, errlen, rc, rc == -ENOMEM ? "out of memory" : why);
    }
    select_normalize(m);
    *out = m;
    return 0;
}

void bt_magnet_free(struct bt_magnet *m)
{
    if (!m)
        return;
    free(m->name);
    for (size_t i = 0; i < m->num_trackers; i++)
        free(m->trackers[i]);
    free(m->trackers);
    for (size_t i = 0; i < m->num_web_seeds; i++)
        free(m->web_seeds[i]);
    free(m->web_seeds);
    free(m->peers);
    free(m->select_only);
    free(m);
}

int bt_magnet_from_hash(const char *s, struct bt_magnet **out)
{
    *out = NULL;
    if (!s)
        return -EINVAL;
    uint8_t ih[20];
    if (!decode_btih(s, strnlen(s, 41), ih))
        return -EINVAL;
    struct bt_magnet *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    memcpy(m->info_hash, ih, 20);
    m->has_v1 = true;
    *out = m;
    return 0;
}

char *bt_magnet_build(const uint8_t info_hash[20], const char *name,
                      const char *const *trackers, size_t n)
{
    return bt_magnet_build2(info_hash, NULL, name, trackers, n);
}

char *bt_magnet_build2(const uint8_t *v1, const uint8_t *v2, const char *name,
                       const char *const *trackers, size_t n)
{
    return bt_magnet_build_ex(v1, v2, name, trackers, n, 0);
}

char *bt_magnet_build_ex(const uint8_t *v1, const uint8_t *v2, const char *name,
                         const char *const *trackers, size_t n, unsigned flags)
{
    struct buf b = BUF_INIT;   /* appends are checked once, by buf_steal */
    char hex[65];
    const char *sep = "";      /* '&' between parameters, none after the '?' */
    buf_append_str(&b, "magnet:?");
    if (v1) {
        hex_encode(v1, 20, hex);
        buf_appendf(&b, "xt=urn:btih:%s", hex);
        sep = "&";
    }
    if (v2) {
        /* multihash: 0x12 sha2-256, 0x20 bytes */
        hex_encode(v2, 32, hex);
        buf_appendf(&b, "%sxt=urn:btmh:1220%s", sep, hex);
        sep = "&";
    }
    if ((name && *name) || (flags & BT_MAGNET_EMPTY_DN)) {
        buf_appendf(&b, "%sdn=", sep);
        if (name)
            pct_encode(&b, name, strlen(name), &pct_libtorrent);
    }
    for (size_t i = 0; i < n; i++) {
        if (!trackers[i])
            continue;
        buf_append_str(&b, "&tr=");
        pct_encode(&b, trackers[i], strlen(trackers[i]), &pct_libtorrent);
    }
    char *s = (char *)buf_steal(&b, NULL);
    buf_free(&b);
    return s;
}
