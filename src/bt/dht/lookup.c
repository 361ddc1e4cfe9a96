/* dht/lookup — iterative get_peers / find_node lookups.
 *
 * One search per address family, each a list of the closest candidates
 * seen so far.  At most DHT_ALPHA queries are in flight per family; the
 * search has converged when the K closest candidates that did not fail have
 * all answered.  Each search is bounded in candidates, queries and time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/dht/dht_int.h"
#include "util/log.h"

struct dht_lookup *dht_lookup_start(struct dht *d, const uint8_t target[DHT_ID_LEN], bool get_peers,
                                    bool internal)
{
    struct dht_lookup *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->d = d;
    memcpy(l->target, target, DHT_ID_LEN);
    l->get_peers = get_peers;
    l->internal = internal;
    l->started_ms = d->now;
    for (int f = 0; f < 2; f++)
        l->s[f].active = d->sock[f] != NULL;
    l->next = d->lookups;
    d->lookups = l;
    if (internal)
        d->n_internal++;
    return l;
}

static void lookup_free(struct dht_lookup *l)
{
    struct dht *d = l->d;
    for (struct dht_lookup **pp = &d->lookups; *pp; pp = &(*pp)->next)
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    for (size_t i = 0; i < d->n_pend; i++)
        if (d->pend[i].l == l)
            d->pend[i].l = NULL;
    if (l->internal)
        d->n_internal--;
    free(l);
}

void dht_lookup_free_all(struct dht *d)
{
    while (d->lookups)
        lookup_free(d->lookups);
}

void dht_lookup_cancel(struct dht_lookup *l)
{
    if (!l)
        return;
    if (l->in_cb)
        l->cancelled = true;
    else
        lookup_free(l);
}

/* Calls the user back; returns false when l is gone afterwards. */
static bool call(struct dht_lookup *l, const struct sockaddr_storage *peers, size_t n, bool done)
{
    if (!l->internal && l->cb) {
        l->in_cb = true;
        l->cb(l->ud, peers, n, done);
        l->in_cb = false;
    }
    if (l->cancelled || done) {
        lookup_free(l);
        return false;
    }
    return true;
}

void dht_lookup_add(struct dht_lookup *l, const uint8_t id[DHT_ID_LEN], const union dht_addr *a)
{
    struct dht *d = l->d;
    struct dht_search *s = &l->s[dht_fam(a)];
    if (!s->active || s->done || memcmp(id, d->id, DHT_ID_LEN) == 0 || !dht_addr_usable(a, d->allow_local))
        return;
    size_t pos = s->n;
    for (size_t i = 0; i < s->n; i++) {
        if (memcmp(s->c[i].id, id, DHT_ID_LEN) == 0 || dht_addr_eq(&s->c[i].addr, a))
            return;
        if (pos == s->n && dht_id_closer(l->target, id, s->c[i].id) < 0)
            pos = i;
    }
    if (pos >= DHT_LOOKUP_CANDS)
        return;
    if (s->n == DHT_LOOKUP_CANDS) {
        /* the farthest drops out, unless a query to it is still in flight */
        if (s->c[s->n - 1].state == DHT_CAND_INFLIGHT)
            return;
        s->n--;
    }
    memmove(&s->c[pos + 1], &s->c[pos], (s->n - pos) * sizeof s->c[0]);
    s->n++;
    struct dht_cand *c = &s->c[pos];
    memset(c, 0, sizeof *c);
    memcpy(c->id, id, DHT_ID_LEN);
    c->addr = *a;
    c->state = DHT_CAND_NEW;
}

void dht_lookup_add_nodes(struct dht_lookup *l, const uint8_t *nodes, size_t len, const uint8_t *nodes6,
                          size_t len6)
{
    union dht_addr a;
    for (size_t i = 0; nodes && i + DHT_NODE4_LEN <= len; i += DHT_NODE4_LEN)
        if (dht_addr_from_compact(&a, nodes + i + DHT_ID_LEN, 6) == 0)
            dht_lookup_add(l, nodes + i, &a);
    for (size_t i = 0; nodes6 && i + DHT_NODE6_LEN <= len6; i += DHT_NODE6_LEN)
        if (dht_addr_from_compact(&a, nodes6 + i + DHT_ID_LEN, 18) == 0)
            dht_lookup_add(l, nodes6 + i, &a);
}

static void seed(struct dht_lookup *l, int f)
{
    struct dht_rt_node near[2 * DHT_K];
    size_t n = dht_rt_closest(&l->d->rt[f], l->target, near, 2 * DHT_K);
    for (size_t i = 0; i < n; i++)
        dht_lookup_add(l, near[i].id, &near[i].addr);
}

/* Reports values not reported before.  Returns false when l is gone. */
static bool report_values(struct dht_lookup *l, const struct dht_msg *m)
{
    struct sockaddr_storage out[DHT_VALUES_MAX];
    size_t n = 0;
    for (size_t i = 0; i < m->n_values; i++) {
        const struct dht_peer *p = &m->values[i];
        bool dup = false;
        for (size_t k = 0; k < l->n_seen && !dup; k++)
            dup = l->seen[k].len == p->len && memcmp(l->seen[k].b, p->b, p->len) == 0;
        union dht_addr a;
        if (dup || dht_addr_from_compact(&a, p->b, p->len) || !dht_addr_usable(&a, l->d->allow_local))
            continue;
        if (l->n_seen < DHT_LOOKUP_SEEN)
            l->seen[l->n_seen++] = *p;
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n], &a, a.sa.sa_family == AF_INET ? sizeof a.in : sizeof a.in6);
        n++;
    }
    return n == 0 || call(l, out, n, false);
}

void dht_lookup_reply(struct dht_lookup *l, const union dht_addr *from, const struct dht_msg *m)
{
    struct dht_search *s = &l->s[dht_fam(from)];
    for (size_t i = 0; i < s->n; i++) {
        struct dht_cand *c = &s->c[i];
        if (c->state != DHT_CAND_INFLIGHT || !dht_addr_eq(&c->addr, from))
            continue;
        s->inflight--;
        if (!m || m->type != DHT_MSG_RESPONSE) {
            c->state = DHT_CAND_FAILED;
            break;
        }
        c->state = DHT_CAND_REPLIED;
        memcpy(c->token, m->token, m->token_len);
        c->token_len = m->token_len;
        break;
    }
    if (m && m->type == DHT_MSG_RESPONSE) {
        dht_lookup_add_nodes(l, m->nodes, m->nodes_len, m->nodes6, m->nodes6_len);
        if (l->get_peers && !report_values(l, m))
            return;
    }
    dht_lookup_step(l);
}

static void announce(struct dht_lookup *l)
{
    for (int f = 0; f < 2; f++) {
        struct dht_search *s = &l->s[f];
        int sent = 0;
        for (size_t i = 0; i < s->n && sent < DHT_K; i++) {
            struct dht_cand *c = &s->c[i];
            if (c->state != DHT_CAND_REPLIED || c->token_len == 0)
                continue;
            if (dht_send_query(l->d, &c->addr, DHT_M_ANNOUNCE_PEER, l->target, NULL, false, c->token,
                               c->token_len, l->port) == 0)
                sent++;
        }
        if (s->active)
            log_debug("dht: announced to %d nodes (family %d)", sent, f);
    }
}

/* Sends up to alpha queries; returns true when the search has converged. */
static bool search_step(struct dht_lookup *l, int f)
{
    struct dht_search *s = &l->s[f];
    if (!s->active || s->done)
        return true;
    if (s->n == 0 && s->inflight == 0)
        seed(l, f);
    int live = 0;
    bool pending_new = false;
    for (size_t i = 0; i < s->n && live < DHT_K; i++) {
        struct dht_cand *c = &s->c[i];
        if (c->state == DHT_CAND_FAILED)
            continue;
        live++;
        if (c->state != DHT_CAND_NEW)
            continue;
        if (s->inflight >= DHT_ALPHA || s->queries >= DHT_LOOKUP_MAX_QUERIES) {
            pending_new = s->queries < DHT_LOOKUP_MAX_QUERIES;
            continue;
        }
        int method = l->get_peers ? DHT_M_GET_PEERS : DHT_M_FIND_NODE;
        if (dht_send_query(l->d, &c->addr, method, l->target, l, false, NULL, 0, 0) != 0) {
            pending_new = true;   /* retried on the next step */
            continue;
        }
        c->state = DHT_CAND_INFLIGHT;
        s->inflight++;
        s->queries++;
    }
    if (s->inflight > 0 || pending_new)
        return false;
    if (s->n == 0) {
        /* No node of this family yet: wait a little for the table to fill,
         * unless the other family has already found its answer. */
        const struct dht_search *o = &l->s[!f];
        bool other_found = o->active && o->done && o->n > 0;
        if (!other_found && l->d->now < l->started_ms + DHT_LOOKUP_EMPTY_MS)
            return false;
    }
    s->done = true;
    return true;
}

void dht_lookup_step(struct dht_lookup *l)
{
    if (l->get_peers && !l->local_done) {
        /* peers announced to this very node count too (small swarms, or we
         * are among the closest nodes to the hash ourselves) */
        l->local_done = true;
        struct dht_msg m;
        dht_msg_init(&m);
        m.n_values = dht_store_get(&l->d->store, l->target, 6, l->d->now, m.values, DHT_VALUES_MAX / 2);
        m.n_values += dht_store_get(&l->d->store, l->target, 18, l->d->now, m.values + m.n_values,
                                    DHT_VALUES_MAX / 2);
        if (!report_values(l, &m))
            return;
    }
    bool a = search_step(l, 0);
    bool b = search_step(l, 1);
    if (!(a && b) && l->d->now < l->started_ms + DHT_LOOKUP_TIMEOUT_MS)
        return;
    if (l->announce)
        announce(l);
    call(l, NULL, 0, true);
}

void dht_lookup_tick_all(struct dht *d)
{
    /* Callbacks may start or cancel lookups, so restart the walk after each
     * one instead of holding a pointer across it. */
    for (struct dht_lookup *l = d->lookups; l; l = l->next)
        l->ticked = false;
    for (;;) {
        struct dht_lookup *l = d->lookups;
        while (l && l->ticked)
            l = l->next;
        if (!l)
            break;
        l->ticked = true;
        dht_lookup_step(l);
    }
}
