/* torrent — swarm: peer candidates and connecting to them, attaching and
 * detaching peers, interest and block requests, the choker, and peer
 * exchange (ut_pex, BEP11).
 */
#include "core/torrent.h"
#include "core/torrent_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/choker.h"
#include "bt/ext.h"
#include "bt/layers.h"
#include "bt/metadata.h"
#include "bt/metainfo.h"
#include "bt/pex.h"
#include "bt/picker.h"
#include "core/banlist.h"
#include "core/peer.h"
#include "core/peerpolicy.h"
#include "core/session.h"
#include "util/log.h"

#define TORRENT_MAX_CANDIDATES 2000
#define TORRENT_CHOKE_INTERVAL_MS 10000

/* ---- peers ---- */

static struct peer_candidate *find_cand(struct torrent *t, const struct sockaddr *sa)
{
    size_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    for (size_t i = 0; i < t->num_cands; i++)
        if (t->cands[i].addr.ss_family == sa->sa_family && memcmp(&t->cands[i].addr, sa, len) == 0)
            return &t->cands[i];
    return NULL;
}

int torrent_add_peer_addr(struct torrent *t, const struct sockaddr *sa, bool connect_now, uint8_t source)
{
    if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
        return -EAFNOSUPPORT;
    /* libtorrent's no_connect_privileged_ports (qBittorrent's
     * block_peers_on_privileged_ports): a peer list from a tracker, the DHT
     * or PEX cannot make us dial a service on a port below 1024. */
    uint16_t port = ntohs(sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
                                                   : ((const struct sockaddr_in6 *)sa)->sin6_port);
    if (port < 1024 && settings_bool(&t->s->settings, SET_BLOCK_PEERS_ON_PRIVILEGED_PORTS))
        return -EPERM;
    /* Banned and filtered addresses are not kept as candidates, whichever
     * source (tracker, DHT, PEX, LSD, the API) named them. */
    char ip[INET6_ADDRSTRLEN];
    if (inet_ntop(sa->sa_family,
                  sa->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                                           : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr,
                  ip, sizeof ip) && banlist_refusal(t->s, ip))
        return -EPERM;
    struct peer_candidate *c = find_cand(t, sa);
    if (!c) {
        if (t->num_cands >= TORRENT_MAX_CANDIDATES)
            return -ENOSPC;
        if (t->num_cands == t->cap_cands) {
            size_t cap = t->cap_cands ? t->cap_cands * 2 : 16;
            struct peer_candidate *n = realloc(t->cands, cap * sizeof *n);
            if (!n)
                return -ENOMEM;
            t->cands = n;
            t->cap_cands = cap;
        }
        c = &t->cands[t->num_cands++];
        memset(c, 0, sizeof *c);
        memcpy(&c->addr, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    }
    c->source |= source;
    if (connect_now) {
        c->next_try_ms = 0;
        c->fails = 0;
        if (t->active && !c->connected) {
            c->connected = true;
            if (session_connect_peer(t->s, t, sa, c->source) != 0)
                c->connected = false;
        }
    }
    return 0;
}

void torrent_connect_candidates(struct torrent *t, uint64_t now)
{
    unsigned max_peers = (unsigned)settings_int(&t->s->settings, SET_MAX_CONNEC_PER_TORRENT);
    if (max_peers == 0 || max_peers > 1000)
        max_peers = 100;
    if (torrent_is_finished(t))
        return;  /* seeds wait for leechers to come to them */
    int budget = 10;
    for (size_t i = 0; i < t->num_cands && budget > 0 && t->num_peers < max_peers; i++) {
        struct peer_candidate *c = &t->cands[i];
        if (c->connected || c->next_try_ms > now)
            continue;
        c->connected = true;
        budget--;
        int rc = session_connect_peer(t->s, t, (struct sockaddr *)&c->addr, c->source);
        if (rc == -EBUSY) {
            c->connected = false;   /* paced (connection_speed): the next tick */
            break;
        }
        if (rc == -EINPROGRESS) {
            c->connected = false;   /* not the peer's fault (the proxy's name is being looked up) */
            c->next_try_ms = now + 1000;
        } else if (rc != 0) {
            c->connected = false;
            c->fails++;
            c->next_try_ms = now + 30000ull * c->fails;
        }
    }
}

void torrent_peer_attach(struct torrent *t, struct peer *p)
{
    peer_list_push(&t->peers, p);
    t->num_peers++;
    if (!p->incoming) {
        struct peer_candidate *c = find_cand(t, (struct sockaddr *)&p->addr);
        if (c)
            c->connected = true;
    }
}

void torrent_peer_detach(struct torrent *t, struct peer *p)
{
    peer_list_unlink(&t->peers, p);
    t->num_peers--;
    t->closing_peers++;
    if (t->picker) {
        bt_picker_peer_cancel_all(t->picker, p);
        if (p->bitfield_seen && p->have.bits)
            bt_picker_peer_gone(t->picker, &p->have, p->have_all);
    }
    p->num_reqs = 0;
    if (t->meta_asm)
        bt_metadata_asm_peer_gone(t->meta_asm, p);
    if (t->layers)
        bt_layers_peer_gone(t->layers, p);
    bt_pex_state_free(p->pex);
    p->pex = NULL;
    if (!p->incoming) {
        struct peer_candidate *c = find_cand(t, (struct sockaddr *)&p->addr);
        if (c) {
            c->connected = false;
            /* A peer that never got to exchange data is retried later and later. */
            if (p->downloaded == 0 && p->uploaded == 0)
                c->fails++;
            c->next_try_ms = t->s->now_ms + 5000ull + 30000ull * c->fails;
            if (c->fails > 10)
                c->next_try_ms = UINT64_MAX;
        }
    }
    if (!p->am_choking)
        t->next_choke_ms = 0;
}

void torrent_retry_peer_soon(struct torrent *t, const struct sockaddr *sa)
{
    struct peer_candidate *c = find_cand(t, sa);
    if (!c)
        return;
    if (c->fails > 0)
        c->fails--;
    c->next_try_ms = 0;
}

void torrent_peer_closed(struct torrent *t)
{
    t->closing_peers--;
    torrent_maybe_finish_removal(t);
}

static bool peer_has_wanted(struct torrent *t, struct peer *p)
{
    if (!t->mi || torrent_is_finished(t) || !p->have.bits)
        return !t->mi ? false : p->have_all && !torrent_is_finished(t);
    if (p->have_all)
        return true;
    uint32_t n = t->mi->num_pieces;
    size_t nbytes = bitfield_bytes(&t->have);
    for (size_t i = 0; i < nbytes; i++) {
        uint8_t cand = p->have.bits[i] & ~t->have.bits[i] & t->wanted.bits[i];
        if (cand)
            return true;
    }
    (void)n;
    return false;
}

void torrent_peer_interest(struct torrent *t, struct peer *p)
{
    bool want = peer_has_wanted(t, p);
    if (want != p->am_interested) {
        peer_set_interested(p, want);
        if (want && !p->peer_choking)
            torrent_fill_requests(t, p);
    }
}

void torrent_fill_requests(struct torrent *t, struct peer *p)
{
    if (!t->mi || p->state != PEER_ACTIVE || p->peer_choking || !p->am_interested || t->phase != TP_READY)
        return;
    if (torrent_write_backlog_full(t)) {
        t->fill_deferred = true;
        return;
    }
    int want = peer_pipeline_target(p, t->s->now_ms) - p->num_reqs;
    if (want <= 0)
        return;
    struct bt_block blocks[64];
    torrent_apply_sequential(t);
    while (want > 0) {
        int n = bt_picker_pick(t->picker, &p->have, p->have_all, p, blocks, want < 64 ? want : 64);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++)
            peer_send_request(p, blocks[i].piece, blocks[i].begin, blocks[i].length);
        want -= n;
        if (n < 64)
            break;
    }
    peer_flush(p);
}

/* How much of the torrent a peer has, in thousandths (anti-leech). */
static uint16_t peer_progress_pm(const struct torrent *t, const struct peer *p)
{
    if (p->have_all)
        return 1000;
    if (!t->mi || !t->mi->num_pieces || !p->have.bits)
        return 0;
    return (uint16_t)((uint64_t)p->have.count * 1000 / t->mi->num_pieces);
}

void torrent_run_choker(struct torrent *t)
{
    struct bt_choker_peer cp[256];
    cp[0] = (struct bt_choker_peer){0};   /* read by nobody when n stays 0; quiets -Wmaybe-uninitialized */
    size_t n = 0;
    for (struct peer *p = t->peers; p && n < 256; p = p->next) {
        if (p->state != PEER_ACTIVE)
            continue;
        cp[n++] = (struct bt_choker_peer){
            .peer = p,
            .interested = p->peer_interested,
            .choked = p->am_choking,
            .down_rate = rate_get(&p->down, t->s->now_ms),
            .up_rate = rate_get(&p->up, t->s->now_ms),
            .snubbed = p->snubbed,
            .optimistic = p->optimistic,
            .unchoked_since_ms = p->unchoked_since_ms,
            .progress_pm = peer_progress_pm(t, p),
        };
    }
    int slots = peerpolicy_unchoke_slots(t, cp, n);
    t->choker->seed_algorithm = peerpolicy_seed_algorithm(t->s);
    bt_choker_run(t->choker, cp, n, slots, torrent_is_finished(t), t->s->now_ms);
    for (size_t i = 0; i < n; i++) {
        struct peer *p = cp[i].peer;
        p->optimistic = cp[i].optimistic;
        peer_set_choke(p, cp[i].choked);
    }
    t->next_choke_ms = t->s->now_ms + TORRENT_CHOKE_INTERVAL_MS;
}

void torrent_unchoke_check(struct torrent *t)
{
    /* An interested peer should not wait up to 10 s for a free slot. */
    t->next_choke_ms = 0;
    torrent_run_choker(t);
}

/* ---- ut_pex (BEP11) ---- */

static bool pex_allowed(const struct torrent *t)
{
    return settings_bool(&t->s->settings, SET_PEX) && !(t->mi && t->mi->is_private);
}

void torrent_on_pex_msg(struct torrent *t, struct peer *p, const uint8_t *payload, size_t len)
{
    if (!pex_allowed(t))
        return;
    struct bt_pex_msg m;
    if (bt_pex_parse(payload, len, &m) != 0)
        return;
    log_src(LOG_SRC_PEX, "'%s': pex from %s:%u: %zu added, %zu dropped", torrent_name(t), p->ip, p->port,
            m.num_added, m.num_dropped);
    for (size_t i = 0; i < m.num_added; i++)
        torrent_add_peer_addr(t, (const struct sockaddr *)&m.added[i].addr, false, PEER_SRC_PEX);
    bt_pex_msg_free(&m);
    if (t->active)
        torrent_connect_candidates(t, uv_now(t->s->loop));
}

/* Once a minute (the diff state rate-limits), tell each peer about the
 * others we are connected to, by the address they can be dialled at. */
void torrent_send_pex(struct torrent *t, uint64_t now)
{
    if (!pex_allowed(t))
        return;
    struct bt_pex_peer cur[200];
    size_t n = 0;
    for (struct peer *q = t->peers; q && n < 200; q = q->next) {
        if (q->state != PEER_ACTIVE)
            continue;
        struct bt_pex_peer *e = &cur[n];
        memset(e, 0, sizeof *e);
        e->addr = q->addr;
        if (q->incoming) {
            if (!q->rext->listen_port)
                continue;
            if (e->addr.ss_family == AF_INET)
                ((struct sockaddr_in *)&e->addr)->sin_port = htons(q->rext->listen_port);
            else
                ((struct sockaddr_in6 *)&e->addr)->sin6_port = htons(q->rext->listen_port);
        }
        if (q->have_all || (q->have.bits && t->mi && q->have.count == t->mi->num_pieces))
            e->flags |= 0x02;
        n++;
    }
    for (struct peer *p = t->peers; p; p = p->next) {
        if (p->state != PEER_ACTIVE || !p->rext->ut_pex)
            continue;
        if (!p->pex && bt_pex_state_new(&p->pex) != 0)
            continue;
        struct buf b = BUF_INIT;
        if (bt_pex_state_diff(p->pex, cur, n, now, &b) == 1)
            torrent_send_ext(p, (uint8_t)p->rext->ut_pex, &b);
        buf_free(&b);
    }
}
