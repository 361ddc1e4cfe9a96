#include "bt/pex.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bt/bencode.h"
#include "util/log.h"

/* ---- messages ---------------------------------------------------------- */

/* Appends the entries of one compact list (6 or 18 bytes each) to *list. */
static int take_compact(const struct benc *d, const char *key, const char *fkey, size_t width,
                        struct bt_pex_peer **list, size_t *num)
{
    const struct benc *s = benc_dict_get_type(d, key, BENC_STR);
    if (!s || s->slen == 0)
        return 0;
    if (s->slen % width != 0 || s->slen / width > BT_PEX_MAX_PEERS) {
        log_debug("pex: bad %s length %zu", key, s->slen);
        return -EPROTO;
    }
    size_t cnt = s->slen / width;
    size_t flen = 0;
    const uint8_t *f = fkey ? benc_dict_str(d, fkey, &flen) : NULL;
    struct bt_pex_peer *nl = realloc(*list, (*num + cnt) * sizeof *nl);
    if (!nl)
        return -ENOMEM;
    *list = nl;
    for (size_t i = 0; i < cnt; i++) {
        const uint8_t *e = s->s + i * width;
        uint16_t port = rd_be16(e + width - 2);
        if (port == 0)
            continue;
        struct bt_pex_peer *pp = &nl[(*num)++];
        memset(pp, 0, sizeof *pp);
        pp->flags = f && i < flen ? f[i] : 0;
        if (width == 6) {
            struct sockaddr_in *a = (struct sockaddr_in *)&pp->addr;
            a->sin_family = AF_INET;
            memcpy(&a->sin_addr, e, 4);
            a->sin_port = htons(port);
        } else {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&pp->addr;
            a->sin6_family = AF_INET6;
            memcpy(&a->sin6_addr, e, 16);
            a->sin6_port = htons(port);
        }
    }
    return 0;
}

int bt_pex_parse(const uint8_t *p, size_t n, struct bt_pex_msg *out)
{
    memset(out, 0, sizeof *out);
    /* Four lists of 200 IPv6 peers plus flags and slack. */
    if (n > 4 * BT_PEX_MAX_PEERS * 19 + 1024) {
        log_debug("pex: message of %zu bytes refused", n);
        return -EPROTO;
    }
    struct benc_limits lim = {.max_depth = 4, .max_tokens = 256};
    struct benc_doc *doc;
    char err[160];
    int rc = benc_parse(p, n, &lim, 0, &doc, NULL, err, sizeof err);
    if (rc) {
        log_debug("pex: bad message: %s", err);
        return rc == -ENOMEM ? rc : -EPROTO;
    }
    const struct benc *d = benc_root(doc);
    if (d->type != BENC_DICT)
        rc = -EPROTO;
    rc = rc ? rc : take_compact(d, "added", "added.f", 6, &out->added, &out->num_added);
    rc = rc ? rc : take_compact(d, "added6", "added6.f", 18, &out->added, &out->num_added);
    rc = rc ? rc : take_compact(d, "dropped", NULL, 6, &out->dropped, &out->num_dropped);
    rc = rc ? rc : take_compact(d, "dropped6", NULL, 18, &out->dropped, &out->num_dropped);
    benc_doc_free(doc);
    if (rc)
        bt_pex_msg_free(out);
    return rc;
}

void bt_pex_msg_free(struct bt_pex_msg *m)
{
    free(m->added);
    free(m->dropped);
    memset(m, 0, sizeof *m);
}

struct compact {
    uint8_t v4[BT_PEX_MAX_PEERS * 6], f4[BT_PEX_MAX_PEERS];
    uint8_t v6[BT_PEX_MAX_PEERS * 18], f6[BT_PEX_MAX_PEERS];
    size_t n4, n6;
};

static void compact_fill(struct compact *c, const struct bt_pex_peer *l, size_t n)
{
    c->n4 = c->n6 = 0;
    for (size_t i = 0; i < n; i++) {
        if (l[i].addr.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&l[i].addr;
            memcpy(c->v4 + c->n4 * 6, &a->sin_addr, 4);
            memcpy(c->v4 + c->n4 * 6 + 4, &a->sin_port, 2);
            c->f4[c->n4++] = l[i].flags;
        } else if (l[i].addr.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&l[i].addr;
            memcpy(c->v6 + c->n6 * 18, &a->sin6_addr, 16);
            memcpy(c->v6 + c->n6 * 18 + 16, &a->sin6_port, 2);
            c->f6[c->n6++] = l[i].flags;
        }
    }
}

static int put_kv(struct buf *b, const char *k, const uint8_t *v, size_t n)
{
    int rc = benc_put_cstr(b, k);
    return rc ? rc : benc_put_str(b, v, n);
}

int bt_pex_build(struct buf *b, const struct bt_pex_peer *added, size_t na,
                 const struct bt_pex_peer *dropped, size_t nd)
{
    if (na > BT_PEX_MAX_PEERS || nd > BT_PEX_MAX_PEERS)
        return -EINVAL;
    struct compact *c = malloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    /* Keys sorted: added, added.f, added6, added6.f, dropped, dropped6. */
    compact_fill(c, added, na);
    int rc = benc_put_dict(b);
    rc = rc ? rc : put_kv(b, "added", c->v4, c->n4 * 6);
    rc = rc ? rc : put_kv(b, "added.f", c->f4, c->n4);
    rc = rc ? rc : put_kv(b, "added6", c->v6, c->n6 * 18);
    rc = rc ? rc : put_kv(b, "added6.f", c->f6, c->n6);
    compact_fill(c, dropped, nd);
    rc = rc ? rc : put_kv(b, "dropped", c->v4, c->n4 * 6);
    rc = rc ? rc : put_kv(b, "dropped6", c->v6, c->n6 * 18);
    rc = rc ? rc : benc_put_end(b);
    free(c);
    return rc;
}

/* ---- per-connection diff ----------------------------------------------- */

/* A peer as a comparable key; flags ride along but are not compared. */
struct pkey {
    uint8_t fam;        /* 4 or 6 */
    uint8_t ip[16];
    uint8_t port[2];    /* network order */
    uint8_t flags;
};

struct bt_pex_state {
    struct pkey *told;  /* sorted, unique: what the peer believes we have */
    size_t num_told;
    bool sent;
    uint64_t last_ms;
};

static int key_cmp(const void *x, const void *y)
{
    const struct pkey *a = x, *b = y;
    if (a->fam != b->fam)
        return a->fam < b->fam ? -1 : 1;
    int c = memcmp(a->ip, b->ip, sizeof a->ip);
    return c ? c : memcmp(a->port, b->port, sizeof a->port);
}

static bool to_key(const struct bt_pex_peer *p, struct pkey *k)
{
    memset(k, 0, sizeof *k);
    k->flags = p->flags;
    if (p->addr.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&p->addr;
        k->fam = 4;
        memcpy(k->ip, &a->sin_addr, 4);
        memcpy(k->port, &a->sin_port, 2);
        return true;
    }
    if (p->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&p->addr;
        k->fam = 6;
        memcpy(k->ip, &a->sin6_addr, 16);
        memcpy(k->port, &a->sin6_port, 2);
        return true;
    }
    return false;
}

static void from_key(const struct pkey *k, struct bt_pex_peer *p)
{
    memset(p, 0, sizeof *p);
    p->flags = k->flags;
    if (k->fam == 4) {
        struct sockaddr_in *a = (struct sockaddr_in *)&p->addr;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, k->ip, 4);
        memcpy(&a->sin_port, k->port, 2);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&p->addr;
        a->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, k->ip, 16);
        memcpy(&a->sin6_port, k->port, 2);
    }
}

int bt_pex_state_new(struct bt_pex_state **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void bt_pex_state_free(struct bt_pex_state *s)
{
    if (!s)
        return;
    free(s->told);
    free(s);
}

/* Sorted, unique keys of the current peers; *n is updated. */
static struct pkey *current_keys(const struct bt_pex_peer *cur, size_t *n)
{
    struct pkey *k = malloc((*n ? *n : 1) * sizeof *k);
    if (!k)
        return NULL;
    size_t m = 0;
    for (size_t i = 0; i < *n; i++)
        if (to_key(&cur[i], &k[m]))
            m++;
    qsort(k, m, sizeof *k, key_cmp);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || key_cmp(&k[u - 1], &k[i]) != 0)
            k[u++] = k[i];
    *n = u;
    return k;
}

int bt_pex_state_diff(struct bt_pex_state *s, const struct bt_pex_peer *current, size_t n,
                      uint64_t now_ms, struct buf *out)
{
    if (s->sent && now_ms < s->last_ms + BT_PEX_INTERVAL_MS)
        return 0;
    size_t nc = n;
    struct pkey *cur = current_keys(current, &nc);
    struct bt_pex_peer *add = malloc(BT_PEX_SEND_MAX * sizeof *add);
    struct bt_pex_peer *drop = malloc(BT_PEX_SEND_MAX * sizeof *drop);
    struct pkey *next = malloc((s->num_told + BT_PEX_SEND_MAX + 1) * sizeof *next);
    if (!cur || !add || !drop || !next) {
        free(cur), free(add), free(drop), free(next);
        return -ENOMEM;
    }
    /* Merge walk of two sorted sets; next = told - dropped + added. */
    size_t i = 0, j = 0, na = 0, nd = 0, nn = 0;
    while (i < nc || j < s->num_told) {
        int c = i == nc ? 1 : j == s->num_told ? -1 : key_cmp(&cur[i], &s->told[j]);
        if (c == 0) {
            next[nn++] = s->told[j];
            i++, j++;
        } else if (c < 0) {
            if (na < BT_PEX_SEND_MAX) {
                from_key(&cur[i], &add[na++]);
                next[nn++] = cur[i];
            }
            i++;
        } else {
            if (nd < BT_PEX_SEND_MAX) {
                from_key(&s->told[j], &drop[nd]);
                drop[nd++].flags = 0;
            } else {
                next[nn++] = s->told[j];
            }
            j++;
        }
    }
    int rc = 0;
    if (na || nd) {
        size_t mark = out->len;
        rc = bt_pex_build(out, add, na, drop, nd);
        if (rc == 0) {
            free(s->told);
            s->told = next;
            s->num_told = nn;
            next = NULL;
            s->sent = true;
            s->last_ms = now_ms;
            rc = 1;
        } else {
            out->len = mark;
        }
    }
    free(cur), free(add), free(drop), free(next);
    return rc;
}
