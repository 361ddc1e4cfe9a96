#include "core/mseconn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bt/mse.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/torrent.h"
#include "util/hmap.h"
#include "util/log.h"

/* Addresses that hung up on our MSE handshake, dialled in plaintext from
 * then on under `prefer` (libtorrent's per-peer pe_support flag).  A ring:
 * the oldest is forgotten, and with it one slow retry at worst. */
#define MSECONN_PLAIN_RING 256

struct mseconn_entry {
    uint8_t key[20];    /* HASH('req2', hash): the map's key */
    uint8_t hash[20];   /* the info-hash (a v2 one truncated to 20 bytes) */
    struct torrent *t;
};

struct mseconn_state {
    struct hmap index;   /* key -> struct mseconn_entry */
    bool indexed;        /* index holds every torrent (see indexed()) */
    struct sockaddr_storage plain[MSECONN_PLAIN_RING];
    size_t plain_next, plain_n;
};

struct mseconn {
    struct mse *m;    /* NULL while an incoming connection's first bytes are unseen */
    bool detecting;
    bool outgoing;
    bool sent;        /* our first handshake bytes went out */
    const char *why;
};

int mseconn_policy(struct session *s)
{
    /* As qBittorrent's switch: any value but 0 and 1 disables. */
    int64_t v = settings_int(&s->settings, SET_ENCRYPTION);
    return v == MSECONN_PREFER || v == MSECONN_REQUIRE ? (int)v : MSECONN_DISABLE;
}

static struct mseconn_state *state(struct session *s, bool create)
{
    if (!s->mse && create)
        s->mse = calloc(1, sizeof *s->mse);
    return s->mse;
}

static size_t addr_len(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static bool plain_known(struct session *s, const struct sockaddr_storage *a)
{
    struct mseconn_state *st = state(s, false);
    for (size_t i = 0; st && i < st->plain_n; i++)
        if (st->plain[i].ss_family == a->ss_family && memcmp(&st->plain[i], a, addr_len(a)) == 0)
            return true;
    return false;
}

static void plain_remember(struct session *s, const struct sockaddr_storage *a)
{
    struct mseconn_state *st = state(s, true);
    if (!st || plain_known(s, a))
        return;
    memset(&st->plain[st->plain_next], 0, sizeof st->plain[0]);
    memcpy(&st->plain[st->plain_next], a, addr_len(a));
    st->plain_next = (st->plain_next + 1) % MSECONN_PLAIN_RING;
    if (st->plain_n < MSECONN_PLAIN_RING)
        st->plain_n++;
}

/* ---- the SKEY map ---- */

/* The map is made at the first MSE handshake that needs it (from every
 * torrent then in the index) and kept in step from then on: a session that
 * never sees an encrypted peer keeps no second index. */
static int index_put(struct mseconn_state *st, const uint8_t hash[20], struct torrent *t)
{
    struct mseconn_entry *e = malloc(sizeof *e);
    if (!e)
        return -ENOMEM;
    mse_req2_hash(hash, e->key);
    memcpy(e->hash, hash, 20);
    e->t = t;
    if (hmap_get(&st->index, e->key, 20)) {
        free(e);
        return 0;
    }
    int rc = hmap_put(&st->index, e->key, 20, e, NULL);
    if (rc)
        free(e);
    return rc;
}

int mseconn_index_add(struct session *s, const uint8_t hash[20], struct torrent *t)
{
    struct mseconn_state *st = state(s, false);
    return st && st->indexed ? index_put(st, hash, t) : 0;
}

static struct mseconn_state *indexed(struct session *s)
{
    struct mseconn_state *st = state(s, true);
    if (!st || st->indexed)
        return st;
    st->indexed = true;
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        int rc = index_put(st, t->info_hash, t);
        if (rc == 0 && t->has_alt && session_find(s, t->alt_hash) == t)
            rc = index_put(st, t->alt_hash, t);
        if (rc) {   /* out of memory: try again at the next handshake */
            struct hmap_ent *e;
            for (size_t k = 0; (e = hmap_next(&st->index, &k));)
                free(e->val);
            hmap_free(&st->index);
            st->indexed = false;
            return NULL;
        }
    }
    return st;
}

void mseconn_index_del(struct session *s, const uint8_t hash[20], const struct torrent *t)
{
    struct mseconn_state *st = state(s, false);
    if (!st)
        return;
    uint8_t key[20];
    mse_req2_hash(hash, key);
    struct mseconn_entry *e = hmap_get(&st->index, key, 20);
    if (e && e->t == t) {
        hmap_del(&st->index, key, 20);
        free(e);
    }
}

struct torrent *mseconn_index_find(struct session *s, const uint8_t req2[20])
{
    struct mseconn_state *st = indexed(s);
    struct mseconn_entry *e = st ? hmap_get(&st->index, req2, 20) : NULL;
    return e ? e->t : NULL;
}

void mseconn_session_free(struct session *s)
{
    struct mseconn_state *st = s->mse;
    if (!st)
        return;
    struct hmap_ent *e;
    for (size_t i = 0; (e = hmap_next(&st->index, &i));)
        free(e->val);
    hmap_free(&st->index);
    free(st);
    s->mse = NULL;
}

static int lookup(void *ud, const uint8_t req2[20], uint8_t skey[20])
{
    struct mseconn_state *st = indexed(ud);
    struct mseconn_entry *e = st ? hmap_get(&st->index, req2, 20) : NULL;
    if (!e)
        return -ENOENT;
    memcpy(skey, e->hash, 20);
    return 0;
}

/* ---- connections ---- */

int mseconn_outgoing(struct peer *p)
{
    int pol = mseconn_policy(p->s);
    if (p->tls || pol == MSECONN_DISABLE || (pol == MSECONN_PREFER && plain_known(p->s, &p->addr)))
        return 0;
    struct mseconn *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    struct mse_opts o;
    mse_opts_default(&o);
    o.crypto = pol == MSECONN_REQUIRE ? MSE_CRYPTO_RC4 : MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN;
    int rc = mse_initiator_new(p->hs_hash, &o, &c->m);
    if (rc) {
        free(c);
        return rc;
    }
    c->outgoing = true;
    p->mse = c;
    return 0;
}

int mseconn_incoming(struct peer *p)
{
    if (p->tls || mseconn_policy(p->s) == MSECONN_DISABLE)
        return 0;   /* an MSE key then fails the handshake parse: refused */
    struct mseconn *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->detecting = true;
    p->mse = c;
    return 0;
}

/* Feeds data (not inside p->in's live bytes) and appends what it carries. */
static ssize_t feed(struct peer *p, const uint8_t *data, size_t len)
{
    struct mseconn *c = p->mse;
    struct buf plain = BUF_INIT;
    int rc = mse_feed(c->m, data, len, &plain);
    if (rc == 0 && buf_size(&plain) && buf_append(&p->in, buf_head(&plain), buf_size(&plain)) != 0)
        rc = -ENOMEM;
    ssize_t n = (ssize_t)buf_size(&plain);
    buf_free(&plain);
    if (rc) {
        c->why = rc == -ENOMEM ? "out of memory" : mse_error(c->m);
        return rc;
    }
    uint32_t sel = mse_selected(c->m);
    if (sel)
        p->crypto = sel == MSE_CRYPTO_RC4 ? PEER_CRYPTO_RC4 : PEER_CRYPTO_HANDSHAKE;
    return n;
}

ssize_t mseconn_on_read(struct peer *p, size_t nread)
{
    struct mseconn *c = p->mse;
    uint8_t *at = p->in.data + p->in.len;
    if (c->m && mse_established(c->m)) {
        mse_decrypt(c->m, at, nread);   /* the hot path: in place, no copy */
        p->in.len += nread;
        return (ssize_t)nread;
    }
    if (!c->detecting)
        return feed(p, at, nread);   /* feed's appends start where `at` is: it copies first */
    p->in.len += nread;
    enum mse_detect d = mse_detect(buf_head(&p->in), buf_size(&p->in));
    if (d == MSE_DETECT_MORE)
        return 0;
    if (d == MSE_DETECT_PLAIN) {
        if (mseconn_policy(p->s) == MSECONN_REQUIRE) {
            c->why = "plaintext handshake refused: encryption is required";
            return -EACCES;
        }
        mseconn_free(c);
        p->mse = NULL;
        return (ssize_t)buf_size(&p->in);
    }
    struct mse_opts o;
    mse_opts_default(&o);
    o.crypto = mseconn_policy(p->s) == MSECONN_REQUIRE ? MSE_CRYPTO_RC4 : MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN;
    int rc = mse_responder_new(lookup, p->s, &o, &c->m);
    if (rc) {
        c->why = "out of memory";
        return rc;
    }
    c->detecting = false;
    struct buf first = p->in;   /* the key's first bytes move into the handshake */
    p->in = (struct buf)BUF_INIT;
    ssize_t n = feed(p, buf_head(&first), buf_size(&first));
    buf_free(&first);
    return n;
}

int mseconn_take_output(struct peer *p, size_t *len)
{
    struct mseconn *c = p->mse;
    *len = 0;
    if (!c->m || c->detecting) {
        if (buf_size(&p->out) == 0)
            return 0;
        p->wdata = buf_steal(&p->out, len);
        return p->wdata ? 0 : -ENOMEM;
    }
    if (mse_established(c->m)) {
        /* The hot path: encrypted straight into the write buffer, no
         * second pass over the bytes. */
        size_t n = buf_size(&p->out);
        if (n == 0)
            return 0;
        p->wdata = malloc(n);
        if (!p->wdata)
            return -ENOMEM;
        mse_encrypt(c->m, buf_head(&p->out), p->wdata, n);
        buf_consume(&p->out, n);
        *len = n;
        return 0;
    }
    struct buf cipher = BUF_INIT;
    int rc = mse_seal(c->m, &p->out, &cipher);
    if (rc == 0 && buf_size(&cipher) > 0) {
        p->wdata = cipher.data;   /* fresh buffer: nothing consumed, data starts at 0 */
        *len = cipher.len;
        c->sent = true;
        return 0;
    }
    buf_free(&cipher);
    if (rc)
        c->why = rc == -ENOMEM ? "out of memory" : mse_error(c->m);
    return rc;
}

bool mseconn_hash_ok(const struct peer *p, const uint8_t info_hash[20])
{
    const struct mseconn *c = p->mse;
    return !c || !c->m || c->outgoing || memcmp(mse_skey(c->m), info_hash, 20) == 0;
}

void mseconn_closed(struct peer *p)
{
    struct mseconn *c = p->mse;
    if (!c || !c->outgoing || !c->sent || mse_selected(c->m) || mseconn_policy(p->s) != MSECONN_PREFER)
        return;
    /* It hung up on (or never answered) the handshake: a plaintext-only
     * peer, most likely.  Plaintext next time, and no long wait for it. */
    log_debug("peer %s:%u: no MSE (%s): plaintext from now on", p->ip, p->port, c->why ? c->why : "closed");
    plain_remember(p->s, &p->addr);
    if (p->t)
        torrent_retry_peer_soon(p->t, (const struct sockaddr *)&p->addr);
}

const char *mseconn_error(const struct peer *p)
{
    const struct mseconn *c = p->mse;
    return c && c->why ? c->why : "encryption handshake failed";
}

void mseconn_free(struct mseconn *c)
{
    if (!c)
        return;
    mse_free(c->m);
    free(c);
}

/* A change closes what the new value refuses: plaintext peers under
 * require, encrypted ones under disable. */
void mseconn_on_settings(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    struct session *s = ud;
    int pol = mseconn_policy(s);
    if (pol == MSECONN_PREFER)
        return;
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct peer *next;
        for (struct peer *p = s->torrents[i]->peers; p; p = next) {
            next = p->next;
            if (p->state != PEER_ACTIVE || p->tls)
                continue;
            if (pol == MSECONN_REQUIRE && p->crypto != PEER_CRYPTO_RC4)
                peer_close(p, "encryption is required");
            else if (pol == MSECONN_DISABLE && p->crypto != PEER_CRYPTO_NONE)
                peer_close(p, "encryption is disabled");
        }
    }
}
