#include "core/peerpolicy.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bt/choker.h"
#include "bt/tracker/tracker.h"
#include "core/ipfilter.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/torrent.h"
#include "util/log.h"

#ifndef TD_VERSION_MAJOR
#define TD_VERSION_MAJOR 0
#define TD_VERSION_MINOR 0
#define TD_VERSION_PATCH 0
#endif

#define RATE_SLOT_STEP 1024   /* B/s: the rate-based choker's threshold step */
#define MAX_TURNOVER_PEERS 256

struct peerpolicy {
    char external_ip[2][64];       /* the last IPv4 and IPv6 one a tracker reported, "" = none yet */
    uint64_t last_reannounce_ms;   /* reannounce_when_address_changed's, for its pace */
    double dial_tokens;
    uint64_t dial_refill_ms;
    uint64_t next_turnover_ms;
};

static const struct settings *st(const struct session *s) { return &s->settings; }

bool peerpolicy_anonymous(const struct session *s)
{
    return settings_bool(st(s), SET_ANONYMOUS_MODE);
}

void peerpolicy_make_peer_id(struct session *s)
{
    static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint8_t rnd[20];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        for (size_t i = 0; i < sizeof rnd; i++)
            rnd[i] = (uint8_t)rand();
    size_t start = 0;
    if (!peerpolicy_anonymous(s)) {
        /* Azureus-style id: -TD0100- then 12 random bytes from the same alphabet. */
        char prefix[9];
        snprintf(prefix, sizeof prefix, "-TD%d%d%d0-", TD_VERSION_MAJOR % 10, TD_VERSION_MINOR % 10,
                 TD_VERSION_PATCH % 10);
        memcpy(s->peer_id, prefix, 8);
        start = 8;
    }
    /* anonymous_mode: all 20 random, as libtorrent's (no fingerprint) */
    for (size_t i = start; i < 20; i++)
        s->peer_id[i] = (uint8_t)alnum[rnd[i] % (sizeof alnum - 1)];
}

/* The tracker client's copy of what anonymity changes. */
static void tell_trackers(struct session *s)
{
    if (!s->trackers)
        return;
    tracker_client_set_peer_id(s->trackers, s->peer_id);
    tracker_client_set_user_agent(s->trackers, peerpolicy_anonymous(s) ? "" : NULL);
    tracker_client_set_ssrf_mitigation(s->trackers, settings_bool(st(s), SET_SSRF_MITIGATION));
}

static void on_settings(void *ud, const struct settings_mask *changed)
{
    struct session *s = ud;
    if (settings_mask_has(changed, SET_ANONYMOUS_MODE))
        peerpolicy_make_peer_id(s);
    if (settings_mask_has(changed, SET_ANONYMOUS_MODE) || settings_mask_has(changed, SET_SSRF_MITIGATION))
        tell_trackers(s);
    if (settings_mask_has(changed, SET_ANNOUNCE_TO_ALL_TIERS) || settings_mask_has(changed, SET_ANNOUNCE_TO_ALL_TRACKERS))
        for (size_t i = 0; i < s->num_torrents; i++)
            peerpolicy_tracker_set(s->torrents[i]);
    if (settings_mask_has(changed, SET_PEER_TURNOVER_INTERVAL))
        s->policy->next_turnover_ms = 0;
    if (settings_mask_has(changed, SET_MAX_UPLOADS) || settings_mask_has(changed, SET_MAX_UPLOADS_PER_TORRENT) ||
        settings_mask_has(changed, SET_UPLOAD_SLOTS_BEHAVIOR) ||
        settings_mask_has(changed, SET_UPLOAD_CHOKING_ALGORITHM)) {
        /* Fewer slots: the ones over the limit choke now, not at the next
         * 10-s round.  Chokes first, so unchokes elsewhere find room. */
        for (size_t i = 0; i < s->num_active; i++)
            torrent_unchoke_check(s->active[i]);
        for (size_t i = 0; i < s->num_active; i++)
            torrent_unchoke_check(s->active[i]);
    }
}

/* qBittorrent's reannounce_when_address_changed: when the address the
 * outside sees us at changes (here: a tracker's BEP24 "external ip"
 * differs from the one before, IPv4 and IPv6 apart), every torrent
 * announces again so that trackers hand out the new address.  The first
 * address is no change.  Trackers that disagree must not make a storm:
 * at most one such round per REANNOUNCE_PACE_MS. */
#define REANNOUNCE_PACE_MS 30000

static void on_external_ip(void *ud, const char *ip)
{
    struct session *s = ud;
    struct peerpolicy *p = s->policy;
    if (!p)
        return;
    char *last = p->external_ip[strchr(ip, ':') ? 1 : 0];
    if (strcmp(last, ip) == 0)
        return;
    bool changed = last[0] != 0;
    snprintf(last, sizeof p->external_ip[0], "%s", ip);
    log_msg(LOG_INFO, "Detected external IP. IP: \"%s\"", ip);
    uint64_t now = uv_now(s->loop);
    if (!changed || !settings_bool(st(s), SET_REANNOUNCE_WHEN_ADDRESS_CHANGED) ||
        (p->last_reannounce_ms && now - p->last_reannounce_ms < REANNOUNCE_PACE_MS))
        return;
    p->last_reannounce_ms = now ? now : 1;
    for (size_t i = 0; i < s->num_active; i++)
        torrent_reannounce(s->active[i]);
}

int peerpolicy_start(struct session *s)
{
    struct peerpolicy *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    int rc = settings_add_hook(&s->settings, SG_PEER_POLICY, on_settings, s);
    if (rc != 0) {
        free(p);
        return rc;
    }
    s->policy = p;
    tell_trackers(s);
    if (s->trackers)
        tracker_client_set_external_ip_fn(s->trackers, on_external_ip, s);
    return 0;
}

void peerpolicy_stop(struct session *s)
{
    if (!s->policy)
        return;
    settings_remove_hook(&s->settings, on_settings, s);
    if (s->trackers)
        tracker_client_set_external_ip_fn(s->trackers, NULL, NULL);
    free(s->policy);
    s->policy = NULL;
}

void peerpolicy_tracker_set(struct torrent *t)
{
    tracker_set_announce_all(t->trk, settings_bool(st(t->s), SET_ANNOUNCE_TO_ALL_TRACKERS));
    tracker_set_announce_tiers(t->trk, settings_bool(st(t->s), SET_ANNOUNCE_TO_ALL_TIERS));
}

/* ---- unchoke slots ---- */

static int cmp_rate_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x > y ? -1 : x < y;
}

/* libtorrent's rate_based_choker: a slot for each peer we upload to faster
 * than a threshold that starts at 1 KiB/s and rises 1 KiB/s a slot, and
 * one more to find out whether another peer would be as fast. */
static int rate_based_slots(const struct bt_choker_peer *cp, size_t n)
{
    uint64_t rates[256];
    size_t m = 0;
    for (size_t i = 0; i < n && m < 256; i++)
        if (!cp[i].choked)
            rates[m++] = cp[i].up_rate;
    qsort(rates, m, sizeof rates[0], cmp_rate_desc);
    int slots = 0;
    uint64_t threshold = RATE_SLOT_STEP;
    for (size_t i = 0; i < m && rates[i] >= threshold; i++) {
        slots++;
        threshold += RATE_SLOT_STEP;
    }
    return slots + 1;
}

static unsigned unchoked_in(const struct torrent *t)
{
    unsigned k = 0;
    for (const struct peer *p = t->peers; p; p = p->next)
        k += p->state == PEER_ACTIVE && !p->am_choking;
    return k;
}

int peerpolicy_unchoke_slots(struct torrent *t, const struct bt_choker_peer *cp, size_t n)
{
    struct session *s = t->s;
    int64_t per = settings_int(st(s), SET_MAX_UPLOADS_PER_TORRENT);
    int slots = per < 0 ? -1 : per == 0 ? 4 : per > 10000 ? 10000 : (int)per;
    if (settings_int(st(s), SET_UPLOAD_SLOTS_BEHAVIOR) == 1) {
        int r = rate_based_slots(cp, n);
        if (slots < 0 || r < slots)
            slots = r;
        return slots;   /* libtorrent: the rate decides, the global limit is not used */
    }
    int64_t global = settings_int(st(s), SET_MAX_UPLOADS);
    if (global <= 0)
        return slots;
    /* What the other torrents hold now; this torrent may use the rest. */
    int64_t others = 0;
    for (size_t i = 0; i < s->num_active; i++)
        if (s->active[i] != t)
            others += unchoked_in(s->active[i]);
    int64_t room = global - others;
    if (room < 0)
        room = 0;
    if (slots < 0 || room < slots)
        slots = (int)room;
    return slots;
}

int peerpolicy_seed_algorithm(const struct session *s)
{
    switch (settings_int(st(s), SET_UPLOAD_CHOKING_ALGORITHM)) {
    case 0: return BT_CHOKER_SEED_ROUND_ROBIN;
    case 2: return BT_CHOKER_SEED_ANTI_LEECH;
    default: return BT_CHOKER_SEED_FASTEST_UPLOAD;
    }
}

/* ---- web seeds ---- */

bool peerpolicy_webseed_refused(void *ud, const char *url, const struct sockaddr *sa)
{
    struct session *s = ud;
    if (ipfilter_blocks_addr(s, sa))
        return true;
    if (!settings_bool(st(s), SET_SSRF_MITIGATION) || !strchr(url, '?'))
        return false;
    /* libtorrent's ssrf_mitigation: a web seed on a loopback address may
     * not carry a query string (no GET to a local service's API). */
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return sa->sa_family == AF_INET6 &&
           (IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127));
}

/* ---- connection_speed ---- */

bool peerpolicy_take_dial(struct session *s)
{
    struct peerpolicy *p = s->policy;
    if (!p)
        return true;
    int64_t speed = settings_int(st(s), SET_CONNECTION_SPEED);
    if (speed < 0)
        speed = 200;   /* libtorrent's reading of a negative value */
    if (speed == 0)
        return false;
    uint64_t now = uv_now(s->loop);
    if (p->dial_refill_ms == 0) {
        p->dial_tokens = (double)speed;
    } else if (now > p->dial_refill_ms) {
        p->dial_tokens += (double)speed * (double)(now - p->dial_refill_ms) / 1000.0;
    }
    if (p->dial_tokens > (double)speed)
        p->dial_tokens = (double)speed;   /* a burst of at most one second's worth */
    p->dial_refill_ms = now ? now : 1;
    if (p->dial_tokens < 1.0)
        return false;
    p->dial_tokens -= 1.0;
    return true;
}

/* ---- peer_tos ---- */

void peerpolicy_socket(struct session *s, uv_tcp_t *h, int family)
{
    int64_t tos = settings_int(st(s), SET_PEER_TOS);
    if (tos < 0 || tos > 255)
        return;
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)h, &fd) != 0)
        return;
    int v = (int)tos;
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v);
        setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof v);   /* a v4-mapped peer */
    } else {
        setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof v);
    }
}

/* ---- peer turnover ---- */

struct slow {
    struct peer *p;
    uint64_t rate;
};

static int cmp_slow(const void *a, const void *b)
{
    const struct slow *x = a, *y = b;
    return x->rate < y->rate ? -1 : x->rate > y->rate;
}

/* Someone new to connect to: dropping a peer makes sense only then. */
static bool has_waiting_candidate(const struct torrent *t)
{
    for (size_t i = 0; i < t->num_cands; i++)
        if (!t->cands[i].connected && t->cands[i].next_try_ms != UINT64_MAX)
            return true;
    return false;
}

static void turnover(struct torrent *t, int64_t pct, int64_t cutoff)
{
    struct session *s = t->s;
    int64_t max = settings_int(st(s), SET_MAX_CONNEC_PER_TORRENT);
    if (max <= 0 || max > 1000)
        max = 100;
    if (torrent_is_finished(t) || (int64_t)t->num_peers * 100 < max * cutoff || !has_waiting_candidate(t))
        return;
    struct slow v[MAX_TURNOVER_PEERS];
    size_t n = 0;
    for (struct peer *p = t->peers; p && n < MAX_TURNOVER_PEERS; p = p->next)
        if (p->state == PEER_ACTIVE || p->state == PEER_HANDSHAKE)
            v[n++] = (struct slow){p, rate_get(&p->down, s->now_ms)};
    size_t drop = (size_t)((int64_t)t->num_peers * pct / 100);
    if (drop == 0)
        drop = 1;
    if (drop > n)
        drop = n;
    qsort(v, n, sizeof v[0], cmp_slow);
    for (size_t i = 0; i < drop; i++)
        peer_close(v[i].p, "peer turnover");
}

void peerpolicy_tick(struct session *s, uint64_t now_ms)
{
    struct peerpolicy *p = s->policy;
    int64_t pct = settings_int(st(s), SET_PEER_TURNOVER);
    int64_t interval = settings_int(st(s), SET_PEER_TURNOVER_INTERVAL);
    if (!p || pct <= 0 || interval <= 0)
        return;
    if (p->next_turnover_ms == 0)
        p->next_turnover_ms = now_ms + (uint64_t)interval * 1000;
    if (now_ms < p->next_turnover_ms)
        return;
    p->next_turnover_ms = now_ms + (uint64_t)interval * 1000;
    int64_t cutoff = settings_int(st(s), SET_PEER_TURNOVER_CUTOFF);
    if (pct > 100)
        pct = 100;
    for (size_t i = 0; i < s->num_active; i++)
        turnover(s->active[i], pct, cutoff);
}
