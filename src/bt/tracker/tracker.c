#include "bt/tracker/tracker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/log.h"

#define DEFAULT_INTERVAL_S 1800
#define MIN_INTERVAL_S 300            /* libtorrent's min_announce_interval */
#define MAX_INTERVAL_S (2 * 86400)
#define BACKOFF_BASE_S 60
#define BACKOFF_MAX_S 3600
#define UDP_CONN_TTL_MS 60000         /* BEP15 */
#define UDP_MAX_BACKOFF 8             /* BEP15: 15 * 2^n s, n up to 8 */
#define DEFAULT_STOP_MS 5000         /* libtorrent's (and qBittorrent's) stop_tracker_timeout */
#define DEFAULT_RECEIVE_MS 10000      /* libtorrent's tracker_receive_timeout */
#define DEFAULT_COMPLETION_MS 30000   /* libtorrent's tracker_completion_timeout */
/* HTTP announces and scrapes in flight, all torrents together
 * (qBittorrent's max_concurrent_http_announces, default 50): each may buffer
 * a body of up to HTTP_MAX_BODY, so this bounds what hostile trackers can
 * make us hold at once to N x 4 MiB, however many torrents they serve.  Due
 * announces over the limit wait for a later tick; scrapes are skipped. */
#define HTTP_DEFAULT_MAX_INFLIGHT 50
#define HTTP_MAX_BODY ((size_t)4 << 20)   /* libtorrent's max_http_recv_buffer_size */
#define MAX_URL 4096
#define MAX_TIER 1000

enum scheme { SCH_OTHER, SCH_HTTP, SCH_UDP };
enum tx_state { TX_RESOLVE, TX_CONNECT, TX_REQUEST };

struct tent {
    struct tracker_entry pub;     /* first: handed out as is */
    struct tracker_set *ts;
    int scheme;
    int fails;
    bool started_sent;            /* the tracker has our event=started */
    bool send_completed;
    int event;                    /* of the announce in flight */
    bool again;                   /* announce again as soon as the one in flight ends */
    char *trackerid;
    struct fetch_req *http, *scrape;
    struct udp_txn *udp;
    struct stop_req *stop_http;   /* event=stopped in flight; outlives the entry */
    struct udp_txn *stop_udp;
};

/* An HTTP event=stopped announce: the client owns it, so it goes out even
 * when its torrent is removed at once; e is NULL then. */
struct stop_req {
    struct tracker_client *tc;
    struct tent *e;
    struct fetch_req *req;
    struct stop_req *prev, *next;
};

struct tracker_set {
    struct tracker_client *tc;
    uint8_t info_hash[20];
    struct tent **e;
    size_t n, cap;
    struct tracker_callbacks cb;
    void *ud;
    uint16_t (*port_fn)(void *ud);
    bool active, all_trackers;
    bool one_tier;              /* !announce_to_all_tiers: BEP12, the first tier that works */
    char *stopped_current;        /* the working tracker when the set stopped */
    uint64_t now;                 /* session clock at the last tick */
    int cb_depth;
    bool dead;
};

struct udp_conn {                 /* BEP15 connection id cache */
    char key[300];                /* host:port */
    struct sockaddr_storage addr;
    uint64_t conn_id, expiry;     /* expiry in uv_now() ms */
    struct udp_conn *next;
};

struct udp_txn {
    struct tracker_client *tc;
    struct tent *e;               /* NULL: the entry is gone (event=stopped) */
    bool stop;                    /* event=stopped: e->stop_udp, else e->udp */
    struct tracker_announce_req req;
    char key[300], host[256], port[8];
    char *url_data;
    struct sockaddr_storage addr;
    uint64_t conn_id;
    int state, attempt;
    uint32_t txid;
    uint64_t deadline;            /* uv_now() ms: retransmit (BEP15 schedule) */
    uint64_t expires;             /* uv_now() ms: give up ("timed out") */
    uv_getaddrinfo_t gai;
    bool dead;                    /* cancelled while resolving: the resolver callback frees */
    struct udp_txn *prev, *next;
};

struct tracker_client {
    uv_loop_t *loop;
    struct fetch *fetch;
    uint8_t peer_id[20];
    uint16_t port;
    uint32_t key;
    int numwant;
    uint32_t receive_ms, completion_ms;
    uint32_t stop_ms;           /* an event=stopped announce's completion timeout; 0: none sent */
    bool insecure;              /* https trackers' certificates not checked */
    char announce_ip[64];       /* libtorrent's announce_ip, "" = none */
    char ipv6[INET6_ADDRSTRLEN];  /* BEP7 &ipv6=, "" = none */
    uint16_t announce_port;     /* libtorrent's announce_port, 0 = the listen port */
    size_t http_inflight;       /* e->http and e->scrape requests of every set */
    size_t http_max;            /* max_concurrent_http_announces */
    char bind_ip[INET6_ADDRSTRLEN];
    bool (*refuse)(void *ud, const struct sockaddr *sa);   /* tracker_client_set_refuse */
    char *user_agent;           /* tracker_client_set_user_agent; NULL = fetch's default */
    bool ssrf;                  /* tracker_client_set_ssrf_mitigation */
    void (*on_external_ip)(void *ud, const char *ip);   /* tracker_client_set_external_ip_fn */
    void *external_ud;
    void *refuse_ud;
    char proxy[1024];           /* libcurl proxy URL for HTTP trackers, "" = none */
    bool proxy_required;        /* a proxy is set: no UDP, no HTTP without the URL */
    uv_udp_t *udp4, *udp6;
    uv_timer_t *timer;
    struct udp_txn *txns;
    struct stop_req *stops;
    struct udp_conn *conns;
    uint8_t rbuf[65536];
};

static void free_on_close(uv_handle_t *h) { free(h); }

static uint32_t rand32(void)
{
    uint32_t v;
    if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
        v = (uint32_t)rand();
    return v;
}

static int scheme_of(const char *u)
{
    if (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0)
        return SCH_HTTP;
    if (strncasecmp(u, "udp://", 6) == 0)
        return SCH_UDP;
    return SCH_OTHER;
}

static bool url_ok(const char *u)
{
    size_t n = u ? strnlen(u, MAX_URL + 1) : 0;
    if (n == 0 || n > MAX_URL)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
            return false;
    return true;
}

static void set_msg(struct tent *e, const char *m)
{
    snprintf(e->pub.msg, sizeof e->pub.msg, "%s", m ? m : "");
}

/* Runs the user's callbacks; false when the set was freed inside them. */
static bool emit(struct tracker_set *ts, const struct tracker_peer *p, size_t n, bool changed);
static void set_destroy(struct tracker_set *ts);

/* ================= UDP transport ================= */

static void txn_unlink(struct udp_txn *t)
{
    struct tracker_client *tc = t->tc;
    if (t->prev)
        t->prev->next = t->next;
    else if (tc->txns == t)
        tc->txns = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

static void txn_free(struct udp_txn *t)
{
    free(t->url_data);
    free(t);
}

static void txn_release_entry(struct udp_txn *t)
{
    if (t->e && t->stop)
        t->e->stop_udp = NULL;
    else if (t->e)
        t->e->udp = NULL;
}

/* Removes a transaction without reporting anything. */
static void txn_cancel(struct udp_txn *t)
{
    txn_unlink(t);
    txn_release_entry(t);
    t->e = NULL;
    if (t->state == TX_RESOLVE)
        t->dead = true;   /* on_resolved frees it */
    else
        txn_free(t);
}

static struct udp_conn *conn_lookup(struct tracker_client *tc, const char *key)
{
    uint64_t now = uv_now(tc->loop);
    struct udp_conn **pp = &tc->conns;
    while (*pp) {
        struct udp_conn *c = *pp;
        if (c->expiry <= now) {          /* prune as we go: the list stays small */
            *pp = c->next;
            free(c);
            continue;
        }
        if (strcmp(c->key, key) == 0)
            return c;
        pp = &c->next;
    }
    return NULL;
}

static void conn_store(struct tracker_client *tc, const struct udp_txn *t, uint64_t conn_id)
{
    struct udp_conn *c = conn_lookup(tc, t->key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return;
        snprintf(c->key, sizeof c->key, "%s", t->key);
        c->next = tc->conns;
        tc->conns = c;
    }
    c->addr = t->addr;
    c->conn_id = conn_id;
    c->expiry = uv_now(tc->loop) + UDP_CONN_TTL_MS;
}

static void conn_forget(struct tracker_client *tc, const char *key)
{
    struct udp_conn *c = conn_lookup(tc, key);
    if (c)
        c->expiry = 0;
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *b, const struct sockaddr *addr, unsigned flags);

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)sz;
    struct tracker_client *tc = h->data;
    b->base = (char *)tc->rbuf;
    b->len = sizeof tc->rbuf;
}

static uv_udp_t *udp_socket(struct tracker_client *tc, int family)
{
    uv_udp_t **slot = family == AF_INET ? &tc->udp4 : &tc->udp6;
    if (*slot)
        return *slot;
    uv_udp_t *u = malloc(sizeof *u);
    if (!u)
        return NULL;
    uv_udp_init(tc->loop, u);
    u->data = tc;
    struct sockaddr_storage a;
    memset(&a, 0, sizeof a);
    int rc;
    if (family == AF_INET)
        rc = uv_ip4_addr(tc->bind_ip[0] && !strchr(tc->bind_ip, ':') ? tc->bind_ip : "0.0.0.0", 0,
                         (struct sockaddr_in *)&a);
    else
        rc = uv_ip6_addr(tc->bind_ip[0] && strchr(tc->bind_ip, ':') ? tc->bind_ip : "::", 0,
                         (struct sockaddr_in6 *)&a);
    if (rc == 0)
        rc = uv_udp_bind(u, (struct sockaddr *)&a, family == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
    if (rc == 0)
        rc = uv_udp_recv_start(u, on_alloc, on_udp_recv);
    if (rc != 0) {
        log_msg(LOG_WARNING, "tracker: cannot open UDP socket: %s", uv_strerror(rc));
        uv_close((uv_handle_t *)u, free_on_close);
        return NULL;
    }
    *slot = u;
    return u;
}

static void udp_close_sockets(struct tracker_client *tc)
{
    if (tc->udp4)
        uv_close((uv_handle_t *)tc->udp4, free_on_close);
    if (tc->udp6)
        uv_close((uv_handle_t *)tc->udp6, free_on_close);
    tc->udp4 = tc->udp6 = NULL;
}

/* BEP15's schedule, 15 * 2^n s, with the receive timeout for the 15 s:
 * the wait after the n-th send of one request.  The whole transaction
 * (connect and announce, every retransmit) still ends at the completion
 * timeout (t->expires), as libtorrent caps every tracker request: with the
 * defaults (10 s, 30 s) a tracker that never answers, or answers only
 * garbage, gets datagrams at 0 and 10 s and is "timed out" at 30 s (BEP15
 * alone would keep trying for an hour). */
static uint64_t udp_timeout(const struct tracker_client *tc, int attempt)
{
    return (uint64_t)tc->receive_ms << (attempt > UDP_MAX_BACKOFF ? UDP_MAX_BACKOFF : attempt);
}

static void on_udp_timer(uv_timer_t *timer);

/* The timer fires at the earliest retransmit or expiry: never a poll. */
static void udp_timer_arm(struct tracker_client *tc, uint64_t due)
{
    uint64_t now = uv_now(tc->loop);
    uint64_t in = due > now ? due - now : 0;
    if (!uv_is_active((uv_handle_t *)tc->timer) || in < uv_timer_get_due_in(tc->timer))
        uv_timer_start(tc->timer, on_udp_timer, in, 0);
}

static uint64_t txn_due(const struct udp_txn *t)
{
    return t->deadline < t->expires ? t->deadline : t->expires;
}

/* Sends the datagram for the current state; losses are left to the retry timer. */
static void txn_send(struct udp_txn *t)
{
    struct tracker_client *tc = t->tc;
    struct buf b = BUF_INIT;
    t->txid = rand32();
    int rc;
    if (t->state == TX_CONNECT)
        rc = tracker_udp_connect_req(&b, t->txid);
    else
        rc = tracker_udp_announce_req(&b, t->conn_id, t->txid, &t->req, t->url_data);
    t->deadline = uv_now(tc->loop) + udp_timeout(tc, t->attempt);
    udp_timer_arm(tc, txn_due(t));
    /* A proxy set since this announce began: not a datagram more around it
     * (the transaction runs out its timeout). */
    uv_udp_t *u = tc->proxy_required ? NULL : udp_socket(tc, t->addr.ss_family);
    if (rc == 0 && u) {
        uv_buf_t ub = uv_buf_init((char *)buf_head(&b), (unsigned)buf_size(&b));
        int s = uv_udp_try_send(u, &ub, 1, (const struct sockaddr *)&t->addr);
        if (s < 0)
            log_debug("tracker: UDP send to %s failed: %s", t->key, uv_strerror(s));
    }
    buf_free(&b);
}

static void txn_link(struct tracker_client *tc, struct udp_txn *t)
{
    t->next = tc->txns;
    if (tc->txns)
        tc->txns->prev = t;
    tc->txns = t;
}

static void udp_announce_done(struct tent *e, int rc, struct tracker_announce_resp *r, const char *err);
static void stop_done(struct tent *e, const struct tracker_announce_resp *r);

/* Ends a transaction and reports to its entry (if any). */
static void txn_finish(struct udp_txn *t, int rc, struct tracker_announce_resp *r, const char *err)
{
    struct tent *e = t->e;
    bool stop = t->stop;
    txn_unlink(t);
    txn_release_entry(t);
    if (rc == -EREMOTEIO || rc == -ETIMEDOUT)
        conn_forget(t->tc, t->key);
    txn_free(t);
    if (e && stop)
        stop_done(e, rc == 0 ? r : NULL);
    else if (e)
        udp_announce_done(e, rc, r, err);
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
    struct udp_txn *t = g->data;
    if (t->dead) {
        uv_freeaddrinfo(res);
        txn_free(t);
        return;
    }
    const struct addrinfo *pick = NULL;
    bool refused = false;
    for (const struct addrinfo *a = res; status == 0 && a; a = a->ai_next) {
        if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) && t->tc->refuse &&
            t->tc->refuse(t->tc->refuse_ud, a->ai_addr)) {
            refused = true;
            continue;
        }
        if (a->ai_family == AF_INET && (!pick || pick->ai_family != AF_INET))
            pick = a;
        else if (a->ai_family == AF_INET6 && !pick)
            pick = a;
    }
    if (!pick) {
        uv_freeaddrinfo(res);
        char m[128];
        if (refused) {
            snprintf(m, sizeof m, "%.64s: address blocked by the IP filter", t->host);
            txn_finish(t, -EPERM, NULL, m);
            return;
        }
        snprintf(m, sizeof m, "cannot resolve %.64s: %s", t->host, status ? uv_strerror(status) : "no address");
        txn_finish(t, -EHOSTUNREACH, NULL, m);
        return;
    }
    memcpy(&t->addr, pick->ai_addr, pick->ai_addrlen);
    uv_freeaddrinfo(res);
    t->state = TX_CONNECT;
    t->attempt = 0;
    txn_send(t);
}

/* Splits udp://host:port/path?query.  Returns 0 or -EINVAL. */
static int udp_url_split(const char *url, char *host, size_t hl, char *port, size_t pl, const char **rest)
{
    const char *h = url + 6, *end;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end || end[1] != ':')
            return -EINVAL;
        h++;
    } else {
        end = h + strcspn(h, ":/?#");
        if (*end != ':')
            return -EINVAL;
    }
    size_t n = (size_t)(end - h);
    if (n == 0 || n >= hl)
        return -EINVAL;
    memcpy(host, h, n);
    host[n] = 0;
    const char *p = end + (*end == ']' ? 2 : 1);
    size_t pn = strspn(p, "0123456789");
    if (pn == 0 || pn >= pl)
        return -EINVAL;
    memcpy(port, p, pn);
    port[pn] = 0;
    long v = strtol(port, NULL, 10);
    if (v <= 0 || v > 65535)
        return -EINVAL;
    *rest = p + pn;
    return 0;
}

/* Starts a UDP announce for e.  Returns 0 or negative. */
static int udp_start(struct tracker_client *tc, struct tent *e, const char *url,
                     const struct tracker_announce_req *req, bool stop)
{
    struct udp_txn *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->tc = tc;
    t->e = e;
    t->stop = stop;
    /* The completion timeout runs from the start, name lookup included
     * (an event=stopped one has stop_tracker_timeout instead, as over HTTP). */
    t->expires = uv_now(tc->loop) + (stop ? tc->stop_ms : tc->completion_ms);
    t->deadline = t->expires;
    t->req = *req;
    t->req.trackerid = NULL;
    const char *rest;
    if (udp_url_split(url, t->host, sizeof t->host, t->port, sizeof t->port, &rest) != 0) {
        free(t);
        return -EINVAL;
    }
    rest = rest[0] == '#' ? "" : rest;
    if (rest[0] && strcmp(rest, "/") != 0 && !(t->url_data = strndup(rest, strcspn(rest, "#")))) {
        free(t);
        return -ENOMEM;
    }
    snprintf(t->key, sizeof t->key, "%s:%s", t->host, t->port);
    struct udp_conn *c = conn_lookup(tc, t->key);
    /* A cached address the filter now refuses is looked up again (and
     * refused there, with the reason). */
    if (c && tc->refuse && tc->refuse(tc->refuse_ud, (const struct sockaddr *)&c->addr))
        c = NULL;
    if (c) {
        t->addr = c->addr;
        t->conn_id = c->conn_id;
        t->state = TX_REQUEST;
        txn_send(t);
    } else {
        struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_family = AF_UNSPEC};
        t->state = TX_RESOLVE;
        t->gai.data = t;
        int rc = uv_getaddrinfo(tc->loop, &t->gai, on_resolved, t->host, t->port, &hints);
        if (rc != 0) {
            txn_free(t);
            return -EHOSTUNREACH;
        }
    }
    txn_link(tc, t);
    if (stop)
        e->stop_udp = t;
    else
        e->udp = t;
    return 0;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return false;
    if (b->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *b, const struct sockaddr *addr, unsigned flags)
{
    (void)flags;
    struct tracker_client *tc = h->data;
    uint32_t txid;
    if (nread <= 0 || !addr || tracker_udp_txid((const uint8_t *)b->base, (size_t)nread, &txid) != 0)
        return;
    struct udp_txn *t = tc->txns;
    for (; t; t = t->next)
        if (t->state != TX_RESOLVE && t->txid == txid && same_addr(&t->addr, addr))
            break;
    if (!t)
        return;   /* stray, late or spoofed */
    const uint8_t *p = (const uint8_t *)b->base;
    size_t n = (size_t)nread;
    char err[256];
    if (t->state == TX_CONNECT) {
        uint64_t cid;
        int rc = tracker_udp_connect_parse(p, n, txid, &cid, err, sizeof err);
        if (rc == -EPROTO)
            return;   /* ignore garbage; the retry timer keeps going */
        if (rc < 0) {
            txn_finish(t, rc, NULL, err);
            return;
        }
        conn_store(tc, t, cid);
        t->conn_id = cid;
        t->state = TX_REQUEST;
        t->attempt = 0;
        txn_send(t);
        return;
    }
    struct tracker_announce_resp r;
    int rc = tracker_udp_announce_parse(p, n, txid, t->addr.ss_family == AF_INET6, &r, err, sizeof err);
    if (rc == -EPROTO) {
        tracker_announce_resp_free(&r);
        return;
    }
    txn_finish(t, rc, &r, err);
    tracker_announce_resp_free(&r);
}

static void on_udp_timer(uv_timer_t *timer)
{
    struct tracker_client *tc = timer->data;
    uint64_t now = uv_now(tc->loop);
    /* Finishing one transaction runs user callbacks that may cancel others:
     * restart the walk after each one.  Every pass retires or reschedules
     * one transaction into the future, so the walk ends. */
    for (;;) {
        struct udp_txn *t = tc->txns;
        while (t && (t->state == TX_RESOLVE || txn_due(t) > now))
            t = t->next;
        if (!t)
            break;
        if (t->expires <= now) {
            txn_finish(t, -ETIMEDOUT, NULL, "timed out");
            continue;
        }
        t->attempt++;
        if (t->state == TX_REQUEST && !conn_lookup(tc, t->key))
            t->state = TX_CONNECT;   /* connection id expired meanwhile */
        txn_send(t);
    }
    /* Rearm for the earliest one left; one still resolving is looked at
     * again when its lookup ends (txn_send arms the timer then). */
    uv_timer_stop(timer);
    for (struct udp_txn *t = tc->txns; t; t = t->next)
        if (t->state != TX_RESOLVE)
            udp_timer_arm(tc, txn_due(t));
}

/* ================= announce logic ================= */

static void build_req(struct tent *e, int event, struct tracker_announce_req *r)
{
    struct tracker_set *ts = e->ts;
    struct tracker_client *tc = ts->tc;
    memset(r, 0, sizeof *r);
    memcpy(r->info_hash, ts->info_hash, 20);
    memcpy(r->peer_id, tc->peer_id, 20);
    r->port = tc->announce_port ? tc->announce_port : ts->port_fn ? ts->port_fn(ts->ud) : tc->port;
    r->ip = tc->announce_ip;
    r->ipv6 = tc->proxy_required ? NULL : tc->ipv6;
    r->left = -1;
    if (ts->cb.get_stats)
        ts->cb.get_stats(ts->ud, &r->uploaded, &r->downloaded, &r->left);
    r->event = event;
    r->numwant = event == TRACKER_EVENT_STOPPED ? 0 : tc->numwant;
    r->key = tc->key;
    r->trackerid = e->trackerid;
}

/* libtorrent's ssrf_mitigation for HTTP trackers: one on a loopback
 * address must be an announce URL (its path ends in /announce), so that a
 * torrent cannot make us send requests to a local web service. */
static bool ssrf_refused(const char *url, const struct sockaddr *sa)
{
    bool loopback = false;
    if (sa->sa_family == AF_INET) {
        loopback = (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        loopback = IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    if (!loopback)
        return false;
    const char *path = strstr(url, "://");
    path = path ? strchr(path + 3, '/') : NULL;
    if (!path)
        return true;
    size_t n = strcspn(path, "?#");
    static const char suffix[] = "/announce";
    return n < sizeof suffix - 1 || memcmp(path + n - (sizeof suffix - 1), suffix, sizeof suffix - 1) != 0;
}

static bool http_refused(void *ud, const char *url, const struct sockaddr *sa)
{
    const struct tracker_client *tc = ud;
    if (tc->ssrf && ssrf_refused(url, sa)) {
        log_msg(LOG_WARNING, "tracker %s refused: a loopback address outside /announce (ssrf_mitigation)", url);
        return true;
    }
    return tc->refuse && tc->refuse(tc->refuse_ud, sa);
}

static void fetch_opts_for(const struct tracker_client *tc, struct fetch_opts *o, long timeout)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = timeout;
    o->idle_timeout_ms = tc->receive_ms;
    o->max_body = HTTP_MAX_BODY;
    o->bind_address = tc->bind_ip[0] ? tc->bind_ip : NULL;
    o->follow_redirects = 1;
    o->insecure = tc->insecure;
    o->user_agent = tc->user_agent;
    o->refuse_addr = http_refused;
    o->refuse_ud = (void *)tc;
    o->proxy = tc->proxy;
}

static void on_http_announce(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg);

static void stop_req_free(struct stop_req *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        q->tc->stops = q->next;
    if (q->next)
        q->next->prev = q->prev;
    if (q->e)
        q->e->stop_http = NULL;
    free(q);
}

static void on_stopped(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg)
{
    struct stop_req *q = ud;
    struct tent *e = q->e;
    log_debug("tracker: stopped event: rc %d status %ld %s", rc, status, errmsg);
    stop_req_free(q);
    struct tracker_announce_resp r;
    tracker_announce_resp_init(&r);
    char err[256];
    bool ok = rc >= 0 && status == 200 && tracker_http_parse(body, len, &r, err, sizeof err) == 0;
    if (e)
        stop_done(e, ok ? &r : NULL);
    tracker_announce_resp_free(&r);
}

static int http_stop(struct tent *e, const char *url, const struct fetch_opts *o)
{
    struct tracker_client *tc = e->ts->tc;
    struct stop_req *q = calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    int rc = fetch_get(tc->fetch, url, o, on_stopped, q, &q->req);
    if (rc < 0) {
        free(q);
        return rc;
    }
    q->tc = tc;
    q->e = e;
    q->next = tc->stops;
    if (tc->stops)
        tc->stops->prev = q;
    tc->stops = q;
    e->stop_http = q;
    return 0;
}

/* Sends one announce; event=stopped goes out on its own, the entry may go
 * before its reply comes.  Returns 0 or negative (nothing in flight then). */
static int announce(struct tent *e, int event)
{
    struct tracker_client *tc = e->ts->tc;
    bool stop = event == TRACKER_EVENT_STOPPED;
    struct tracker_announce_req r;
    build_req(e, event, &r);
    if (tc->proxy_required && (e->scheme == SCH_UDP || !tc->proxy[0]))
        return -ENETUNREACH;   /* never around the proxy (tracker_client_set_proxy) */
    if (e->scheme == SCH_UDP)
        return udp_start(tc, e, e->pub.url, &r, stop);
    struct buf url = BUF_INIT;
    int rc = tracker_http_url(&url, e->pub.url, &r);
    if (rc == 0)
        rc = buf_append_u8(&url, 0);
    if (rc == 0) {
        struct fetch_opts o;
        fetch_opts_for(tc, &o, (long)(stop ? tc->stop_ms : tc->completion_ms));
        if (stop)
            rc = http_stop(e, (const char *)buf_head(&url), &o);
        else
            rc = fetch_get(tc->fetch, (const char *)buf_head(&url), &o, on_http_announce, e, &e->http);
        if (rc == 0 && !stop)
            tc->http_inflight++;
    }
    buf_free(&url);
    return rc;
}

static size_t tier_start(const struct tracker_set *ts, size_t i)
{
    while (i > 0 && ts->e[i - 1]->pub.tier == ts->e[i]->pub.tier)
        i--;
    return i;
}

static size_t index_of(const struct tracker_set *ts, const struct tent *e)
{
    for (size_t i = 0; i < ts->n; i++)
        if (ts->e[i] == e)
            return i;
    return ts->n;
}

/* BEP12: a tracker that answers moves to the front of its tier. */
static void move_to_front(struct tracker_set *ts, struct tent *e)
{
    size_t i = index_of(ts, e);
    if (i >= ts->n)
        return;
    size_t s = tier_start(ts, i);
    memmove(&ts->e[s + 1], &ts->e[s], (i - s) * sizeof ts->e[0]);
    ts->e[s] = e;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* A reannounce asked for while an announce was in flight (the listen port
 * moved, say) must not be undone by that announce's reply setting the next
 * one an interval away: the tracker would keep the old port for 30 minutes. */
static void announce_again_if_asked(struct tent *e)
{
    if (e->again)
        e->pub.next_announce_ms = e->pub.min_announce_ms = 0;
    e->again = false;
}

static void entry_fail(struct tent *e, const char *msg)
{
    struct tracker_set *ts = e->ts;
    e->fails++;
    uint64_t backoff = (uint64_t)BACKOFF_BASE_S << (e->fails > 6 ? 6 : e->fails - 1);
    if (backoff > BACKOFF_MAX_S)
        backoff = BACKOFF_MAX_S;
    backoff = backoff * 1000 + rand32() % (backoff * 125 + 1);   /* up to +12.5 % jitter */
    e->pub.status = TRACKER_NOT_WORKING;
    set_msg(e, msg && *msg ? msg : "error");
    e->pub.next_announce_ms = ts->now + backoff;
    e->pub.min_announce_ms = e->pub.next_announce_ms;
    announce_again_if_asked(e);
    log_debug("tracker %s: %s (retry in %llu s)", e->pub.url, e->pub.msg, (unsigned long long)(backoff / 1000));
}

static void start_scrape(struct tent *e);

static void entry_ok(struct tent *e, struct tracker_announce_resp *r)
{
    struct tracker_set *ts = e->ts;
    if (r->failure) {
        entry_fail(e, r->failure);
        return;
    }
    e->fails = 0;
    if (e->event == TRACKER_EVENT_STARTED) {
        e->started_sent = true;
        e->send_completed = false;
    } else if (e->event == TRACKER_EVENT_COMPLETED) {
        e->send_completed = false;
    }
    int64_t iv = clamp64(r->interval < 0 ? DEFAULT_INTERVAL_S : r->interval, MIN_INTERVAL_S, MAX_INTERVAL_S);
    int64_t miv = r->min_interval < 0 ? 0 : clamp64(r->min_interval, 0, iv);
    e->pub.next_announce_ms = ts->now + (uint64_t)iv * 1000;
    e->pub.min_announce_ms = ts->now + (uint64_t)miv * 1000;
    announce_again_if_asked(e);
    e->pub.status = TRACKER_WORKING;
    set_msg(e, r->warning);
    e->pub.num_peers = (int64_t)r->num_peers;
    if (r->complete >= 0)
        e->pub.num_seeds = e->pub.swarm_seeds = r->complete;
    if (r->incomplete >= 0)
        e->pub.num_leeches = e->pub.swarm_leeches = r->incomplete;
    if (r->downloaded >= 0)
        e->pub.num_downloaded = r->downloaded;
    if (r->trackerid && *r->trackerid) {
        char *id = strdup(r->trackerid);
        if (id) {
            free(e->trackerid);
            e->trackerid = id;
        }
    }
    move_to_front(ts, e);
    if (r->complete < 0 && r->incomplete < 0)
        start_scrape(e);
    /* Last: the listener may ask every set (this one too) to reannounce. */
    if (r->external_ip && ts->tc->on_external_ip)
        ts->tc->on_external_ip(ts->tc->external_ud, r->external_ip);
}

/* The row's message for a failed HTTP request, in libtorrent's words where
 * it has them (qBittorrent shows libtorrent's error_code message): curl's
 * own texts name addresses, byte counts and elapsed times, and differ for
 * one cause (a body over the cap with or without Content-Length). */
static const char *http_error_msg(int rc, const char *errmsg)
{
    switch (rc) {
    case -ECONNREFUSED: return strerror(ECONNREFUSED);
    case -ETIMEDOUT: return "timed out";
    case -E2BIG: return "response body too large";
    case -ELOOP: return "too many redirects";
    default: return errmsg;
    }
}

static void on_http_announce(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg)
{
    struct tent *e = ud;
    struct tracker_set *ts = e->ts;
    e->http = NULL;
    ts->tc->http_inflight--;
    struct tracker_announce_resp r;
    tracker_announce_resp_init(&r);
    size_t np = 0;
    if (rc < 0) {
        entry_fail(e, http_error_msg(rc, errmsg));
    } else {
        char err[256];
        int prc = tracker_http_parse(body, len, &r, err, sizeof err);
        if (prc == 0 && (status == 200 || r.failure)) {
            entry_ok(e, &r);
            np = r.failure ? 0 : r.num_peers;
        } else if (status != 200) {
            snprintf(err, sizeof err, "HTTP error %ld", status);
            entry_fail(e, err);
        } else {
            entry_fail(e, err);
        }
    }
    emit(ts, r.peers, np, true);
    tracker_announce_resp_free(&r);
}

static void udp_announce_done(struct tent *e, int rc, struct tracker_announce_resp *r, const char *err)
{
    struct tracker_set *ts = e->ts;
    bool ok = rc == 0 && !r->failure;
    if (rc == 0)
        entry_ok(e, r);
    else
        entry_fail(e, err);
    emit(ts, ok ? r->peers : NULL, ok ? r->num_peers : 0, true);
}

static void on_http_scrape(void *ud, int rc, long status, const uint8_t *body, size_t len, const char *errmsg)
{
    (void)errmsg;
    struct tent *e = ud;
    e->scrape = NULL;
    e->ts->tc->http_inflight--;
    int64_t c, i, d;
    if (rc < 0 || status != 200 || tracker_scrape_parse(body, len, e->ts->info_hash, &c, &i, &d) != 0)
        return;   /* scrape is best effort; the announce status stays as is */
    e->pub.num_seeds = e->pub.swarm_seeds = c;
    e->pub.num_leeches = e->pub.swarm_leeches = i;
    e->pub.num_downloaded = d;
    emit(e->ts, NULL, 0, true);
}

/* The event=stopped reply (NULL: none or an error).  libtorrent takes the
 * swarm counts from it (qbittorrent-nox then shows num_incomplete without
 * itself); the row stays as it was.  Late replies after a restart are
 * ignored: the running announces count again. */
static void stop_done(struct tent *e, const struct tracker_announce_resp *r)
{
    if (!r || r->failure || e->ts->active || (r->complete < 0 && r->incomplete < 0))
        return;
    if (r->complete >= 0)
        e->pub.swarm_seeds = r->complete;
    if (r->incomplete >= 0)
        e->pub.swarm_leeches = r->incomplete;
    emit(e->ts, NULL, 0, true);
}

static void start_scrape(struct tent *e)
{
    struct tracker_client *tc = e->ts->tc;
    if (e->scheme != SCH_HTTP || e->scrape || tc->http_inflight >= tc->http_max || (tc->proxy_required && !tc->proxy[0]))
        return;
    struct buf url = BUF_INIT;
    if (tracker_scrape_url(&url, e->pub.url, e->ts->info_hash) == 0 && buf_append_u8(&url, 0) == 0) {
        struct fetch_opts o;
        fetch_opts_for(tc, &o, (long)tc->completion_ms);
        if (fetch_get(tc->fetch, (const char *)buf_head(&url), &o, on_http_scrape, e, &e->scrape) == 0)
            tc->http_inflight++;
    }
    buf_free(&url);
}

static bool busy(const struct tent *e) { return e->http || e->udp; }

/* Cancels what is in flight; an event=stopped announce still goes out,
 * its reply no longer reaches e. */
static void cancel_entry(struct tent *e)
{
    if (e->stop_http)
        e->stop_http->e = NULL;
    if (e->stop_udp)
        e->stop_udp->e = NULL;
    e->stop_http = NULL;
    e->stop_udp = NULL;
    if (e->http) {
        fetch_cancel(e->http);
        e->ts->tc->http_inflight--;
    }
    if (e->scrape) {
        fetch_cancel(e->scrape);
        e->ts->tc->http_inflight--;
    }
    if (e->udp)
        txn_cancel(e->udp);
    e->http = e->scrape = NULL;
    e->udp = NULL;
    e->again = false;
}

/* Starts the due announce of e; true when its state changed, false when
 * it has to wait for a free HTTP slot (it stays due). */
static bool announce_due(struct tent *e)
{
    if (e->scheme == SCH_HTTP && e->ts->tc->http_inflight >= e->ts->tc->http_max)
        return false;
    int ev = !e->started_sent ? TRACKER_EVENT_STARTED
           : e->send_completed ? TRACKER_EVENT_COMPLETED : TRACKER_EVENT_NONE;
    e->event = ev;
    int rc = announce(e, ev);
    if (rc == -ENETUNREACH && e->ts->tc->proxy_required) {
        entry_fail(e, e->scheme == SCH_UDP ? "UDP trackers are not contacted through a proxy (no UDP support)"
                                           : "proxy settings unusable: not contacted");
    } else if (rc < 0) {
        char m[64];
        snprintf(m, sizeof m, "cannot announce: %s", strerror(-rc));
        entry_fail(e, m);
    } else {
        e->pub.status = TRACKER_UPDATING;
    }
    return true;
}

/* A tier some tracker of which has not failed (working, in flight or not
 * tried yet). */
static bool tier_may_work(const struct tracker_set *ts, size_t from, size_t end)
{
    for (size_t i = from; i < end; i++) {
        const struct tent *e = ts->e[i];
        if (e->scheme != SCH_OTHER && e->pub.status != TRACKER_DISABLED && e->fails == 0)
            return true;
    }
    return false;
}

void tracker_set_tick(struct tracker_set *ts, uint64_t now_ms)
{
    if (!ts || ts->dead)
        return;
    ts->now = now_ms;
    if (!ts->active)
        return;
    bool changed = false;
    for (size_t s = 0; s < ts->n;) {
        size_t end = s;
        while (end < ts->n && ts->e[end]->pub.tier == ts->e[s]->pub.tier)
            end++;
        for (size_t i = s; i < end; i++) {
            struct tent *e = ts->e[i];
            if (e->scheme == SCH_OTHER || e->pub.status == TRACKER_DISABLED)
                continue;
            if (busy(e)) {
                if (ts->all_trackers)
                    continue;
                break;
            }
            if (e->fails > 0 && now_ms < e->pub.next_announce_ms)
                continue;   /* backing off: fail over to the next one in the tier */
            if (now_ms >= e->pub.next_announce_ms)
                changed |= announce_due(e);
            if (!ts->all_trackers)
                break;
        }
        if (ts->one_tier && tier_may_work(ts, s, end))
            break;   /* later tiers are for when every tracker of this one failed */
        s = end;
    }
    if (changed)
        emit(ts, NULL, 0, true);
}

/* ================= set management ================= */

static struct tent *tent_new(struct tracker_set *ts, const char *url, int tier)
{
    struct tent *e = calloc(1, sizeof *e);
    if (!e || !(e->pub.url = strdup(url))) {
        free(e);
        return NULL;
    }
    e->ts = ts;
    e->pub.tier = tier;
    e->scheme = scheme_of(url);
    e->pub.num_peers = e->pub.num_seeds = e->pub.num_leeches = e->pub.num_downloaded = -1;
    e->pub.swarm_seeds = e->pub.swarm_leeches = -1;
    e->pub.status = e->scheme == SCH_OTHER ? TRACKER_NOT_WORKING : TRACKER_NOT_CONTACTED;
    if (e->scheme == SCH_OTHER)
        set_msg(e, "unsupported scheme");
    return e;
}

static void tent_free(struct tent *e)
{
    cancel_entry(e);
    free(e->pub.url);
    free(e->trackerid);
    free(e);
}

static struct tent *find(const struct tracker_set *ts, const char *url, size_t *idx)
{
    for (size_t i = 0; i < ts->n; i++)
        if (strcmp(ts->e[i]->pub.url, url) == 0) {
            if (idx)
                *idx = i;
            return ts->e[i];
        }
    return NULL;
}

/* Inserts at the end of its tier, keeping the array sorted by tier. */
static int insert(struct tracker_set *ts, struct tent *e)
{
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 8;
        struct tent **p = realloc(ts->e, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        ts->e = p;
        ts->cap = cap;
    }
    size_t at = ts->n;
    while (at > 0 && ts->e[at - 1]->pub.tier > e->pub.tier)
        at--;
    memmove(&ts->e[at + 1], &ts->e[at], (ts->n - at) * sizeof ts->e[0]);
    ts->e[at] = e;
    ts->n++;
    return 0;
}

int tracker_set_add(struct tracker_set *ts, const char *url, int tier)
{
    if (!ts || !url_ok(url) || tier < 0 || tier > MAX_TIER)
        return -EINVAL;
    if (find(ts, url, NULL))
        return -EEXIST;
    struct tent *e = tent_new(ts, url, tier);
    if (!e)
        return -ENOMEM;
    if (insert(ts, e) != 0) {
        tent_free(e);
        return -ENOMEM;
    }
    return 0;
}

int tracker_set_remove(struct tracker_set *ts, const char *url)
{
    size_t i;
    struct tent *e = ts && url ? find(ts, url, &i) : NULL;
    if (!e)
        return -ENOENT;
    memmove(&ts->e[i], &ts->e[i + 1], (ts->n - i - 1) * sizeof ts->e[0]);
    ts->n--;
    tent_free(e);
    return 0;
}

int tracker_set_replace(struct tracker_set *ts, const char *old_url, const char *new_url)
{
    if (!ts || !old_url || !url_ok(new_url))
        return -EINVAL;
    struct tent *e = find(ts, old_url, NULL);
    if (!e)
        return -ENOENT;
    if (strcmp(old_url, new_url) == 0)
        return 0;
    if (find(ts, new_url, NULL))
        return -EEXIST;
    struct tent *n = tent_new(ts, new_url, e->pub.tier);
    if (!n)
        return -ENOMEM;
    size_t i = index_of(ts, e);
    ts->e[i] = n;
    tent_free(e);
    return 0;
}

static void shuffle(char **v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rand32() % i;
        char *t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

struct tracker_set *tracker_set_new(struct tracker_client *tc, const uint8_t info_hash[20],
                                    const struct bt_tier *tiers, size_t num_tiers,
                                    const struct tracker_callbacks *cb, void *ud)
{
    struct tracker_set *ts = calloc(1, sizeof *ts);
    if (!ts)
        return NULL;
    ts->tc = tc;
    memcpy(ts->info_hash, info_hash, 20);
    if (cb)
        ts->cb = *cb;
    ts->ud = ud;
    for (size_t t = 0; t < num_tiers && t <= MAX_TIER; t++) {
        size_t n = tiers[t].num_urls;
        if (n == 0)
            continue;
        char **v = malloc(n * sizeof *v);
        if (!v)
            goto fail;
        memcpy(v, tiers[t].urls, n * sizeof *v);
        shuffle(v, n);
        int rc = 0;
        for (size_t i = 0; i < n && rc != -ENOMEM; i++)
            rc = tracker_set_add(ts, v[i], (int)t);   /* duplicates and junk are skipped */
        free(v);
        if (rc == -ENOMEM)
            goto fail;
    }
    return ts;
fail:
    set_destroy(ts);
    return NULL;
}

static void set_destroy(struct tracker_set *ts)
{
    free(ts->stopped_current);
    for (size_t i = 0; i < ts->n; i++)
        tent_free(ts->e[i]);
    free(ts->e);
    free(ts);
}

void tracker_set_free(struct tracker_set *ts)
{
    if (!ts || ts->dead)
        return;
    for (size_t i = 0; i < ts->n; i++)
        cancel_entry(ts->e[i]);
    if (ts->cb_depth > 0) {
        ts->dead = true;
        return;
    }
    set_destroy(ts);
}

static bool emit(struct tracker_set *ts, const struct tracker_peer *p, size_t n, bool changed)
{
    ts->cb_depth++;
    if (n && ts->cb.on_peers && !ts->dead)
        ts->cb.on_peers(ts->ud, p, n);
    if (changed && ts->cb.on_changed && !ts->dead)
        ts->cb.on_changed(ts->ud);
    ts->cb_depth--;
    if (ts->dead) {
        if (ts->cb_depth == 0)
            set_destroy(ts);
        return false;
    }
    return true;
}

void tracker_set_start(struct tracker_set *ts)
{
    if (!ts || ts->dead)
        return;
    ts->active = true;
    free(ts->stopped_current);
    ts->stopped_current = NULL;
}

void tracker_set_stop(struct tracker_set *ts)
{
    if (!ts || ts->dead || !ts->active)
        return;
    /* libtorrent keeps current_tracker through a pause: qBittorrent shows it */
    const char *cur = tracker_set_current(ts);
    free(ts->stopped_current);
    ts->stopped_current = cur ? strdup(cur) : NULL;
    ts->active = false;
    for (size_t i = 0; i < ts->n; i++) {
        struct tent *e = ts->e[i];
        /* An announce in flight may have reached the tracker: tell it too. */
        bool contacted = e->started_sent || busy(e);
        cancel_entry(e);
        if (contacted && e->scheme != SCH_OTHER && ts->tc->stop_ms > 0)   /* 0: libtorrent sends none */
            announce(e, TRACKER_EVENT_STOPPED);
        if (e->pub.status == TRACKER_UPDATING)   /* its reply will not come */
            e->pub.status = e->started_sent ? TRACKER_WORKING : TRACKER_NOT_CONTACTED;
        e->started_sent = e->send_completed = false;
        e->fails = 0;
        e->pub.next_announce_ms = e->pub.min_announce_ms = 0;
    }
    emit(ts, NULL, 0, true);
}

void tracker_set_completed(struct tracker_set *ts)
{
    if (!ts || ts->dead)
        return;
    for (size_t i = 0; i < ts->n; i++) {
        struct tent *e = ts->e[i];
        if (e->started_sent) {
            e->send_completed = true;
            e->pub.next_announce_ms = 0;
        }
    }
}

void tracker_set_reannounce(struct tracker_set *ts)
{
    if (!ts || ts->dead)
        return;
    for (size_t i = 0; i < ts->n; i++) {
        struct tent *e = ts->e[i];
        e->pub.next_announce_ms = e->pub.min_announce_ms = 0;
        e->again = busy(e);   /* the reply in flight would set them again */
    }
}

void tracker_set_announce_all(struct tracker_set *ts, bool all_trackers)
{
    if (ts)
        ts->all_trackers = all_trackers;
}

void tracker_set_announce_tiers(struct tracker_set *ts, bool all_tiers)
{
    if (ts)
        ts->one_tier = !all_tiers;
}

void tracker_set_port_fn(struct tracker_set *ts, uint16_t (*port_fn)(void *ud))
{
    if (ts)
        ts->port_fn = port_fn;
}

size_t tracker_set_count(const struct tracker_set *ts) { return ts ? ts->n : 0; }

const struct tracker_entry *tracker_set_entry(const struct tracker_set *ts, size_t i)
{
    return ts && i < ts->n ? &ts->e[i]->pub : NULL;
}

const char *tracker_set_current(const struct tracker_set *ts)
{
    for (size_t i = 0; ts && i < ts->n; i++)
        if (ts->e[i]->pub.status == TRACKER_WORKING)
            return ts->e[i]->pub.url;
    for (size_t i = 0; ts && ts->stopped_current && i < ts->n; i++)
        if (strcmp(ts->e[i]->pub.url, ts->stopped_current) == 0)
            return ts->e[i]->pub.url;
    return NULL;
}

/* ================= client ================= */

int tracker_client_new(uv_loop_t *loop, struct fetch *f, const uint8_t peer_id[20],
                       uint16_t listen_port, struct tracker_client **out)
{
    *out = NULL;
    struct tracker_client *tc = calloc(1, sizeof *tc);
    if (!tc)
        return -ENOMEM;
    tc->timer = malloc(sizeof *tc->timer);
    if (!tc->timer) {
        free(tc);
        return -ENOMEM;
    }
    uv_timer_init(loop, tc->timer);
    tc->timer->data = tc;
    tc->loop = loop;
    tc->fetch = f;
    memcpy(tc->peer_id, peer_id, 20);
    tc->port = listen_port;
    tc->key = rand32();
    tc->numwant = 200;
    tc->receive_ms = DEFAULT_RECEIVE_MS;
    tc->completion_ms = DEFAULT_COMPLETION_MS;
    tc->stop_ms = DEFAULT_STOP_MS;
    tc->http_max = HTTP_DEFAULT_MAX_INFLIGHT;
    *out = tc;
    return 0;
}

void tracker_client_free(struct tracker_client *tc)
{
    if (!tc)
        return;
    while (tc->txns)
        txn_cancel(tc->txns);
    free(tc->user_agent);
    tc->user_agent = NULL;
    while (tc->stops) {
        fetch_cancel(tc->stops->req);
        stop_req_free(tc->stops);
    }
    while (tc->conns) {
        struct udp_conn *c = tc->conns;
        tc->conns = c->next;
        free(c);
    }
    udp_close_sockets(tc);
    uv_close((uv_handle_t *)tc->timer, free_on_close);
    free(tc);
}

bool tracker_client_idle(const struct tracker_client *tc)
{
    return !tc || (!tc->stops && !tc->txns);
}

void tracker_client_set_port(struct tracker_client *tc, uint16_t port) { tc->port = port; }
void tracker_client_set_numwant(struct tracker_client *tc, int numwant) { tc->numwant = numwant; }
void tracker_client_set_timeouts(struct tracker_client *tc, uint32_t receive_ms, uint32_t completion_ms)
{
    tc->receive_ms = receive_ms ? receive_ms : DEFAULT_RECEIVE_MS;
    tc->completion_ms = completion_ms ? completion_ms : DEFAULT_COMPLETION_MS;
}

void tracker_client_set_stop_timeout(struct tracker_client *tc, uint32_t stop_ms) { tc->stop_ms = stop_ms; }

void tracker_client_set_max_http(struct tracker_client *tc, size_t n) { tc->http_max = n ? n : 1; }
void tracker_client_set_peer_id(struct tracker_client *tc, const uint8_t peer_id[20])
{
    memcpy(tc->peer_id, peer_id, 20);
}

void tracker_client_set_user_agent(struct tracker_client *tc, const char *ua)
{
    free(tc->user_agent);
    tc->user_agent = ua ? strdup(ua) : NULL;
}

void tracker_client_set_external_ip_fn(struct tracker_client *tc, void (*fn)(void *ud, const char *ip), void *ud)
{
    tc->on_external_ip = fn;
    tc->external_ud = ud;
}

void tracker_client_set_ssrf_mitigation(struct tracker_client *tc, bool on)
{
    tc->ssrf = on;
}

void tracker_client_set_refuse(struct tracker_client *tc, bool (*refuse)(void *ud, const struct sockaddr *sa),
                               void *ud)
{
    tc->refuse = refuse;
    tc->refuse_ud = ud;
}

void tracker_client_set_validate_https(struct tracker_client *tc, bool on) { tc->insecure = !on; }

void tracker_client_set_announce(struct tracker_client *tc, const char *ip, uint16_t port)
{
    snprintf(tc->announce_ip, sizeof tc->announce_ip, "%s", ip ? ip : "");
    tc->announce_port = port;
}

void tracker_client_set_ipv6(struct tracker_client *tc, const char *ip6)
{
    snprintf(tc->ipv6, sizeof tc->ipv6, "%s", ip6 ? ip6 : "");
}

void tracker_client_set_proxy(struct tracker_client *tc, const char *url, bool required)
{
    if (!url || snprintf(tc->proxy, sizeof tc->proxy, "%s", url) >= (int)sizeof tc->proxy)
        tc->proxy[0] = '\0';   /* too long: with required, nothing goes out at all */
    tc->proxy_required = required;
}

int tracker_client_set_bind(struct tracker_client *tc, const char *ip)
{
    unsigned char tmp[16];
    if (ip && *ip && inet_pton(AF_INET, ip, tmp) != 1 && inet_pton(AF_INET6, ip, tmp) != 1)
        return -EINVAL;
    snprintf(tc->bind_ip, sizeof tc->bind_ip, "%s", ip ? ip : "");
    /* Reopened lazily on the new address; pending transactions retry there. */
    udp_close_sockets(tc);
    return 0;
}
