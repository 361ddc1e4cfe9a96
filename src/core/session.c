#include "core/session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bt/magnet.h"
#include "bt/metainfo.h"
#include "bt/tracker/tracker.h"
#include "core/banlist.h"
#include "core/catalog.h"
#include "core/cookiejar.h"
#include "core/discovery.h"
#include "core/etracker.h"
#include "core/ipfilter.h"
#include "core/limits.h"
#include "core/logfile.h"
#include "core/mseconn.h"
#include "core/peer.h"
#include "core/peerpolicy.h"
#include "core/portmap.h"
#include "core/proxy.h"
#include "core/queue.h"
#include "core/runprog.h"
#include "core/scheduler.h"
#include "core/service.h"
#include "core/ssltorrent.h"
#include "core/torrent.h"
#include "core/trackerlist.h"
#include "core/utpsock.h"
#include "core/watchdir.h"
#include "store/record.h"
#include "store/store.h"
#include "util/fetch.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/path.h"

#define SESSION_TICK_MS 1000
#define SESSION_STOP_POLL_MS 50
/* All-time totals are written at most this often (and at shutdown): a
 * kill -9 loses at most one interval, as qBittorrent's periodic save does. */
#define SESSION_STATS_SAVE_TICKS 15

const char *session_default_save_path(struct session *s)
{
    const char *p = settings_str(&s->settings, SET_SAVE_PATH);
    return *p ? p : s->default_save_path;
}

/* ---- info-hash index: util/hmap keyed by t->info_hash / t->alt_hash ---- */

static void chg_unlink(struct session *s, struct torrent *t);
static int add_hooks(struct session *s);
static void note_removed(struct session *s, struct torrent *t);

/* Removes key only where it maps to t: a hybrid's second hash may belong to
 * another torrent when session_index_alias() refused it. */
static void index_del(struct session *s, const uint8_t key[20], const struct torrent *t)
{
    if (hmap_get(&s->index, key, 20) == t)
        hmap_del(&s->index, key, 20);
    mseconn_index_del(s, key, t);
}

struct torrent *session_find(struct session *s, const uint8_t info_hash[20])
{
    session_assert_loop_thread(s);
    return hmap_get(&s->index, info_hash, 20);
}

struct torrent *session_find_hex(struct session *s, const char *hex)
{
    uint8_t h[20];
    if (!hex || strlen(hex) != 40 || hex_decode(hex, 40, h, 20) != 20)
        return NULL;
    return session_find(s, h);
}

int session_index_alias(struct session *s, struct torrent *t)
{
    struct torrent *o = session_find(s, t->alt_hash);
    if (o)
        return o == t ? 0 : -EEXIST;
    int rc = hmap_put(&s->index, t->alt_hash, 20, t, NULL);
    return rc ? rc : mseconn_index_add(s, t->alt_hash, t);
}

int session_index_add(struct session *s, struct torrent *t)
{
    session_assert_loop_thread(s);
    if (session_find(s, t->info_hash) || (t->has_alt && session_find(s, t->alt_hash)))
        return -EEXIST;
    if (hmap_reserve(&s->index, 2) != 0)   /* the puts below cannot fail */
        return -ENOMEM;
    if (s->num_torrents == s->cap_torrents) {
        size_t cap = s->cap_torrents ? s->cap_torrents * 2 : 64;
        struct torrent **n = realloc(s->torrents, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        s->torrents = n;
        s->cap_torrents = cap;
    }
    hmap_put(&s->index, t->info_hash, 20, t, NULL);
    if (mseconn_index_add(s, t->info_hash, t) != 0)
        log_msg(LOG_WARNING, "'%s': out of memory: encrypted peers will not find it", torrent_name(t));
    if (t->has_alt)
        session_index_alias(s, t);
    s->torrents[s->num_torrents++] = t;
    queue_added(s, t);
    session_touch(s, t);
    return 0;
}

void session_index_remove(struct session *s, struct torrent *t)
{
    session_assert_loop_thread(s);
    for (size_t i = 0; i < s->num_torrents; i++) {
        if (s->torrents[i] == t) {
            if (s->shutting_down)
                chg_unlink(s, t);
            else
                note_removed(s, t);
            memmove(&s->torrents[i], &s->torrents[i + 1], (s->num_torrents - i - 1) * sizeof *s->torrents);
            s->num_torrents--;
            queue_removed(s, i);
            break;
        }
    }
    index_del(s, t->info_hash, t);
    if (t->has_alt)
        index_del(s, t->alt_hash, t);
}

static void chg_unlink(struct session *s, struct torrent *t)
{
    if (t->chg_prev)
        t->chg_prev->chg_next = t->chg_next;
    else if (s->chg_head == t)
        s->chg_head = t->chg_next;
    if (t->chg_next)
        t->chg_next->chg_prev = t->chg_prev;
    else if (s->chg_tail == t)
        s->chg_tail = t->chg_prev;
    t->chg_prev = t->chg_next = NULL;
}

void session_touch(struct session *s, struct torrent *t)
{
    session_assert_loop_thread(s);
    chg_unlink(s, t);
    t->change_seq = ++s->change_seq;
    t->chg_prev = s->chg_tail;
    if (s->chg_tail)
        s->chg_tail->chg_next = t;
    else
        s->chg_head = t;
    s->chg_tail = t;
}

uint64_t session_changed_since(struct session *s, uint64_t seq,
                               void (*fn)(struct torrent *t, void *ud), void *ud)
{
    for (struct torrent *t = s->chg_tail; t && t->change_seq > seq; t = t->chg_prev)
        fn(t, ud);
    return s->change_seq;
}

int session_removed_since(struct session *s, uint64_t seq, void (*fn)(const char *hex, void *ud), void *ud)
{
    if (seq < s->removed_floor)
        return -ERANGE;
    for (size_t i = 0; i < SESSION_REMOVED_RING; i++) {
        const struct session_removed *r = &s->removed[i];
        if (r->seq > seq)
            fn(r->hex, ud);
    }
    return 0;
}

static void note_removed(struct session *s, struct torrent *t)
{
    chg_unlink(s, t);
    if (!s->removed)
        return;
    struct session_removed *r = &s->removed[s->removed_next];
    if (r->seq > s->removed_floor)
        s->removed_floor = r->seq;  /* overwriting: older removals are forgotten */
    r->seq = ++s->change_seq;
    memcpy(r->hex, t->hex, sizeof r->hex);
    s->removed_next = (s->removed_next + 1) % SESSION_REMOVED_RING;
}

void session_set_active(struct session *s, struct torrent *t, bool active)
{
    session_assert_loop_thread(s);
    for (size_t i = 0; i < s->num_active; i++) {
        if (s->active[i] == t) {
            if (!active)
                s->active[i] = s->active[--s->num_active];
            return;
        }
    }
    if (!active)
        return;
    if (s->num_active == s->cap_active) {
        size_t cap = s->cap_active ? s->cap_active * 2 : 32;
        struct torrent **n = realloc(s->active, cap * sizeof *n);
        if (!n)
            return;
        s->active = n;
        s->cap_active = cap;
    }
    s->active[s->num_active++] = t;
}

/* ---- listening ---- */

static void free_handle(uv_handle_t *h) { free(h); }

static void on_incoming(uv_stream_t *server, int status)
{
    struct session *s = server->data;
    if (status != 0 || s->shutting_down)
        return;
    unsigned max = (unsigned)settings_int(&s->settings, SET_MAX_CONNEC);
    if (max > 0 && s->num_peers >= max) {
        /* Accept and drop: leaving it in the backlog would spin the loop. */
        uv_tcp_t *tmp = malloc(sizeof *tmp);
        if (!tmp)
            return;
        uv_tcp_init(s->loop, tmp);
        if (uv_accept(server, (uv_stream_t *)tmp) == 0)
            log_debug("connection limit reached, dropping incoming peer");
        uv_close((uv_handle_t *)tmp, free_handle);
        return;
    }
    peer_accept(s, server, ssltorrent_is_listener(s, server));
}

int session_listen(struct session *s, uv_tcp_t *h, const struct sockaddr *sa, unsigned flags)
{
    uv_tcp_init(s->loop, h);
    h->data = s;
    int rc = uv_tcp_bind(h, sa, flags);
    /* socket_backlog_size (libtorrent's listen_queue_size, qBittorrent's
     * default 30): connections the kernel holds before we accept them;
     * taken when a listener opens (the kernel caps it at somaxconn). */
    int64_t backlog = settings_int(&s->settings, SET_SOCKET_BACKLOG_SIZE);
    int n = backlog < 1 ? 1 : backlog > 65535 ? 65535 : (int)backlog;
    return rc == 0 ? uv_listen((uv_stream_t *)h, n, on_incoming) : rc;
}

/* A heap handle listening on sa, or NULL (*rc says why). */
static uv_tcp_t *listen_on(struct session *s, const struct sockaddr *sa, unsigned flags, int *rc)
{
    uv_tcp_t *h = malloc(sizeof *h);
    if (!h) {
        *rc = -ENOMEM;
        return NULL;
    }
    *rc = session_listen(s, h, sa, flags);
    if (*rc == 0)
        return h;
    uv_close((uv_handle_t *)h, free_handle);
    return NULL;
}

static uint16_t bound_port(uv_tcp_t *h)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(h, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

/* Listens on address a (NULL = IPv4 and IPv6 everywhere) and port (0 = one
 * the system picks, the same for both families).  IPv4 and maybe IPv6, or
 * an error; the old listeners are not touched. */
static int open_listeners(struct session *s, const char *a, int port, uv_tcp_t **h4, uv_tcp_t **h6,
                          uint16_t *bound)
{
    struct sockaddr_storage ss;
    bool v4 = a && uv_ip4_addr(a, port, (struct sockaddr_in *)&ss) == 0;
    bool v6 = !v4 && a && uv_ip6_addr(a, port, (struct sockaddr_in6 *)&ss) == 0;
    if (a && !v4 && !v6)
        return -EINVAL;
    if (!a) {
        v4 = v6 = true;
        uv_ip4_addr("0.0.0.0", port, (struct sockaddr_in *)&ss);
    }
    int rc = 0, rc6 = 0;
    *h4 = *h6 = NULL;
    if (v4) {
        *h4 = listen_on(s, (struct sockaddr *)&ss, 0, &rc);
        if (*h4 && port == 0)
            port = bound_port(*h4);
        if (v6)
            uv_ip6_addr("::", port, (struct sockaddr_in6 *)&ss);
    }
    if (v4 && !*h4)
        return rc;   /* IPv6 alone is not "everywhere" (it may be off; IPv4 is not) */
    if (v6)
        *h6 = listen_on(s, (struct sockaddr *)&ss, UV_TCP_IPV6ONLY, &rc6);
    if (!*h4 && !*h6)
        return rc6;
    *bound = bound_port(*h4 ? *h4 : *h6);
    return 0;
}

static void close_listeners(struct session *s)
{
    if (s->listener4)
        uv_close((uv_handle_t *)s->listener4, free_handle);
    if (s->listener6)
        uv_close((uv_handle_t *)s->listener6, free_handle);
    s->listener4 = s->listener6 = NULL;
    s->have_listener4 = s->have_listener6 = false;
}

static void adopt_listeners(struct session *s, uv_tcp_t *h4, uv_tcp_t *h6)
{
    close_listeners(s);
    s->listener4 = h4;
    s->listener6 = h6;
    s->have_listener4 = h4 != NULL;
    s->have_listener6 = h6 != NULL;
}

/* The address to listen on and connect from: current_interface_address
 * when set, else the first address (IPv4 before IPv6) of the interface named
 * by current_network_interface or, µTorrent Server's preferred_interface,
 * ut_preferred_interface (qBittorrent binds to an interface's addresses the
 * same way).  NULL = all addresses, also when the interface does not exist
 * or has no address (warned: the daemon stays reachable).  buf holds the
 * text of a looked-up address. */
static const char *wanted_address(struct session *s, char *buf, size_t buflen)
{
    const char *a = settings_str(&s->settings, SET_CURRENT_INTERFACE_ADDRESS);
    if (*a)
        return a;
    const char *name = settings_str(&s->settings, SET_CURRENT_NETWORK_INTERFACE);
    if (!*name)
        name = settings_str(&s->settings, SET_UT_PREFERRED_INTERFACE);
    if (!*name)
        return NULL;
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0) {
        log_msg(LOG_WARNING, "network interface \"%s\": cannot list interfaces (%s); listening on all addresses",
                name, strerror(errno));
        return NULL;
    }
    const char *found = NULL;
    for (int fam = AF_INET; !found && fam; fam = fam == AF_INET ? AF_INET6 : 0) {
        for (struct ifaddrs *i = ifa; !found && i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != fam || !i->ifa_name || strcmp(i->ifa_name, name) != 0)
                continue;
            const void *sa = i->ifa_addr;
            const void *in = fam == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                                            : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
            if (fam == AF_INET6 && IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)in))
                continue;   /* needs a scope id libuv's bind by text does not take */
            found = inet_ntop(fam, in, buf, (socklen_t)buflen);
        }
    }
    freeifaddrs(ifa);
    if (!found)
        log_msg(LOG_WARNING, "network interface \"%s\" not found or without an address; listening on all addresses",
                name);
    return found;
}

static bool same_address(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* open_listeners where the old listeners may hold the port (everywhere <->
 * one address, same port): then they go first, and come back on failure. */
static int replace_listeners(struct session *s, const char *a, int port, uv_tcp_t **h4, uv_tcp_t **h6,
                             uint16_t *bound)
{
    int rc = open_listeners(s, a, port, h4, h6, bound);
    if (rc != UV_EADDRINUSE || port != s->listen_port || !(s->listener4 || s->listener6))
        return rc;
    close_listeners(s);   /* closes the sockets now, frees the handles later */
    rc = open_listeners(s, a, port, h4, h6, bound);
    if (rc != 0) {
        uv_tcp_t *o4 = NULL, *o6 = NULL;
        uint16_t p;
        if (open_listeners(s, s->listen_address, s->listen_port, &o4, &o6, &p) == 0)
            adopt_listeners(s, o4, o6);
    }
    return rc;
}

/* BEP7: the IPv6 address trackers may hand to IPv6 peers, "" when we do
 * not listen on IPv6: the address listened on, or, listening everywhere,
 * the first IPv6 address of an interface that others can reach (not
 * loopback, not link-local: those need a scope). */
static void set_announce_ipv6(struct session *s, const char *a)
{
    char buf[INET6_ADDRSTRLEN] = "";
    unsigned char tmp[16];
    if (!s->have_listener6)
        ;
    else if (a && inet_pton(AF_INET6, a, tmp) == 1)
        snprintf(buf, sizeof buf, "%s", a);
    else if (!a) {
        struct ifaddrs *ifa = NULL;
        if (getifaddrs(&ifa) == 0) {
            for (struct ifaddrs *i = ifa; i && !buf[0]; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6)
                    continue;
                const struct in6_addr *in = &((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                if (!IN6_IS_ADDR_LOOPBACK(in) && !IN6_IS_ADDR_LINKLOCAL(in) && !IN6_IS_ADDR_V4MAPPED(in))
                    inet_ntop(AF_INET6, in, buf, sizeof buf);
            }
            freeifaddrs(ifa);
        }
    }
    tracker_client_set_ipv6(s->trackers, buf);
}

/* Opens listeners on a (NULL = everywhere) and port, then closes the old
 * ones (connected peers stay).  When that fails the old ones are kept.
 * Returns 1 when the address or port moved, 0 when not, or an error. */
static int listen_at(struct session *s, const char *a, int64_t want)
{
    uv_tcp_t *h4 = NULL, *h6 = NULL;
    uint16_t port = 0;
    int rc = want < 0 || want > 65535 ? -EINVAL : replace_listeners(s, a, (int)want, &h4, &h6, &port);
    char *addr = rc == 0 && a ? strdup(a) : NULL;
    if (rc == 0 && a && !addr)
        rc = -ENOMEM;
    if (rc != 0) {
        /* qBittorrent's line for libtorrent's listen_failed_alert. */
        log_msg(LOG_CRITICAL, "Failed to listen on IP. IP: \"%s\". Port: \"TCP/%lld\". Reason: \"%s\"",
                a ? a : "0.0.0.0", (long long)want, rc == -EINVAL ? "invalid address or port" : uv_strerror(rc));
        if (h4)
            uv_close((uv_handle_t *)h4, free_handle);
        if (h6)
            uv_close((uv_handle_t *)h6, free_handle);
        return rc;
    }
    bool moved = port != s->listen_port || !same_address(a, s->listen_address);
    adopt_listeners(s, h4, h6);
    s->listen_port = port;
    free(s->listen_address);
    s->listen_address = addr;
    tracker_client_set_port(s->trackers, port);
    tracker_client_set_bind(s->trackers, addr);
    set_announce_ipv6(s, addr);
    log_msg(LOG_INFO, "Successfully listening on IP. IP: \"%s\". Port: \"TCP/%u\"", addr ? addr : "0.0.0.0", port);
    return moved;
}

/* listen_port, current_interface_address or an interface name changed
 * (wanted_address): listen there at once, as libtorrent re-binds when
 * listen_interfaces changes.  The DHT and LSD share the port and follow;
 * active torrents announce the new port now. */
static void relisten(struct session *s)
{
    char buf[INET6_ADDRSTRLEN];
    const char *a = wanted_address(s, buf, sizeof buf);
    int64_t want = settings_int(&s->settings, SET_LISTEN_PORT);
    bool addr_moved = !same_address(a, s->listen_address);
    if (!addr_moved && want == s->listen_port)
        return;   /* e.g. listen_port 0 -> the port it got: already there */
    int rc = listen_at(s, a, want);
    if (rc < 0) {
        if (s->have_listener4 || s->have_listener6)
            log_msg(LOG_WARNING, "still listening for peers on %s port %u",
                    s->listen_address ? s->listen_address : "*", s->listen_port);
        return;
    }
    if (rc == 0)
        return;
    if (addr_moved) {
        ssltorrent_listen(s);   /* same address, its own port */
        etracker_listen_changed(s);
    }
    discovery_listen_changed(s);
    portmap_update(s);
    for (size_t i = 0; i < s->num_active; i++)
        torrent_reannounce(s->active[i]);
}

int session_connect_peer(struct session *s, struct torrent *t, const struct sockaddr *addr, uint8_t source)
{
    session_assert_loop_thread(s);
    char ip[64] = "";
    if (addr->sa_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)addr, ip, sizeof ip);
    else
        uv_ip6_name((const struct sockaddr_in6 *)addr, ip, sizeof ip);
    if (banlist_refusal(s, ip))
        return -EPERM;
    unsigned max = (unsigned)settings_int(&s->settings, SET_MAX_CONNEC);
    if (s->shutting_down || (max > 0 && s->num_peers >= max))
        return -EAGAIN;
    if (!peerpolicy_take_dial(s))
        return -EBUSY;   /* connection_speed: this second's attempts are used */
    if (s->listen_address && addr->sa_family == AF_INET) {
        /* Never dial ourselves. */
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        char ip[64];
        uv_ip4_name(in, ip, sizeof ip);
        if (strcmp(ip, s->listen_address) == 0 && ntohs(in->sin_port) == s->listen_port)
            return -ELOOP;
    }
    struct peer *p = NULL;
    int rc = peer_connect(s, t, addr, &p);
    if (rc == 0 && p)
        p->source = source;
    return rc;
}

/* ---- all-time statistics (kv "stats"/"alltime": {"dl":n,"ul":n}) ---- */

static int load_stats(void *ud, const char *key, const char *value)
{
    struct session *s = ud;
    if (strcmp(key, "xferhist") == 0)
        xferhist_load(s, value);
    if (strcmp(key, "alltime") != 0)
        return 0;
    struct record_alltime a;
    if (record_alltime_decode(value, &a) != 0)
        return 0;
    s->alltime_dl = a.dl > 0 ? a.dl : 0;
    s->alltime_ul = a.ul > 0 ? a.ul : 0;
    s->alltime_saved = s->alltime_dl + s->alltime_ul;
    return 0;
}

static void save_stats(struct session *s)
{
    int64_t dl = s->alltime_dl + s->dl_session, ul = s->alltime_ul + s->ul_session;
    if (!s->store || dl + ul == s->alltime_saved)
        return;
    char *v = NULL;
    if (record_alltime_encode(&(struct record_alltime){dl, ul}, &v) == 0 &&
        store_kv_put(s->store, "stats", "alltime", v, NULL, NULL) == 0)
        s->alltime_saved = dl + ul;
    free(v);
}

/* ---- tick ---- */

static void on_tick(uv_timer_t *h)
{
    struct session *s = h->data;
    s->now_ms = uv_now(s->loop);
    s->tick_count++;
    queue_tick(s);
    torrent_pump_checks(s);   /* max_active_checking_torrents raised */
    /* The walk may deactivate torrents: iterate over a snapshot count from the end. */
    for (size_t i = s->num_active; i-- > 0;) {
        if (i < s->num_active)
            torrent_tick(s->active[i], s->now_ms);
    }
    discovery_tick(s, s->now_ms);
    peerpolicy_tick(s, s->now_ms);
    xferhist_sample(s);
    if (s->tick_count % SESSION_STATS_SAVE_TICKS == 0) {
        save_stats(s);
        xferhist_save(s);
    }
    /* Handshakes that never complete. */
    struct peer *next;
    for (struct peer *p = s->handshaking; p; p = next) {
        next = p->next;
        peer_tick(p, s->now_ms);
    }
}

/* ---- startup ---- */

static int load_pref(void *ud, const char *key, const char *value)
{
    struct session *s = ud;
    if (strcmp(key, "web_ui_password_hash") == 0) {
        struct record_value v;
        if (record_value_decode(value, &v) == 0 && v.type == RECORD_TEXT) {
            free(s->settings.password_hash);
            s->settings.password_hash = strdup(v.s);
        }
        record_value_clear(&v);
        return 0;
    }
    int id = settings_find(key);
    /* Rows of keys no longer known, or of another type, are left alone. */
    if (id < 0 || settings_load_text(&s->settings, (enum setting_id)id, value) != 0)
        log_msg(LOG_WARNING, "stored preference \"%s\" ignored", key);
    return 0;
}

/* Intent rows of moves a crash interrupted (torrent_int.h), loaded before
 * the torrents that finish them. */
struct move_intent {
    char hash[65];
    char *value;
    bool used;
};

static int load_move_intent(void *ud, const char *key, const char *value)
{
    struct session *s = ud;
    struct move_intent *v = realloc(s->move_intents, (s->num_move_intents + 1) * sizeof *v);
    if (!v)
        return 0;
    s->move_intents = v;
    snprintf(v[s->num_move_intents].hash, sizeof v->hash, "%s", key);
    v[s->num_move_intents].used = false;
    if ((v[s->num_move_intents].value = strdup(value)) != NULL)
        s->num_move_intents++;
    return 0;
}

static const char *take_move_intent(struct session *s, const char *hash)
{
    for (size_t i = 0; i < s->num_move_intents; i++)
        if (strcmp(s->move_intents[i].hash, hash) == 0) {
            s->move_intents[i].used = true;
            return s->move_intents[i].value;
        }
    return NULL;
}

/* For torrent_finish_deletions: where a removed torrent's move was going. */
static const char *move_target(void *ud, const char *hash)
{
    struct session *s = ud;
    for (size_t i = 0; i < s->num_move_intents; i++)
        if (strcmp(s->move_intents[i].hash, hash) == 0) {
            const char *nl = strchr(s->move_intents[i].value, '\n');
            return nl && nl[1] ? nl + 1 : NULL;
        }
    return NULL;
}

/* Rows of torrents that are gone (removed while a move waited) go too. */
static void drop_move_intents(struct session *s)
{
    for (size_t i = 0; i < s->num_move_intents; i++) {
        struct move_intent *m = &s->move_intents[i];
        if (!m->used)
            store_kv_put(s->store, TORRENT_NS_MOVING, m->hash, NULL, NULL, NULL);
        free(m->value);
    }
    free(s->move_intents);
    s->move_intents = NULL;
    s->num_move_intents = 0;
}

static int load_torrent(void *ud, const struct store_torrent_row *row)
{
    struct session *s = ud;
    /* Storage is opened at creation, so the save path must be known first;
     * the rest of the settings are applied by torrent_restore. */
    struct record_torrent_settings ts;
    struct record_torrent_stats st;
    /* Unreadable rows: defaults, as before. */
    bool have_ts = record_torrent_settings_decode(row->settings, &ts) == 0;
    bool have_st = row->stats && record_torrent_stats_decode(row->stats, &st) == 0;
    struct torrent_add_params p = {
        .save_path = ts.save_path,
        .download_path = ts.download_path,
        .data_in_download_path = ts.data_in_download,
        .ratio_limit = -2, .seeding_time_limit = -2, .inactive_seeding_time_limit = -2,
    };
    struct torrent *t = NULL;
    char err[256] = "";
    int rc;
    if (row->metainfo) {
        struct bt_metainfo *mi;
        rc = bt_metainfo_parse(row->metainfo, row->metainfo_len, &mi, err, sizeof err);
        if (rc == 0 && mi->hybrid && strncmp(row->hash, mi->info_hash_v2_hex, 40) == 0)
            p.key = mi->info_hash_v2;   /* added by its v2 magnet: stored under that key */
        if (rc == 0)
            rc = torrent_create(s, mi, &p, row->added_on, &t);
    } else if (row->magnet) {
        struct bt_magnet *m;
        rc = bt_magnet_parse(row->magnet, &m, err, sizeof err);
        if (rc == 0) {
            rc = torrent_create_magnet(s, m, &p, row->added_on, &t);
            bt_magnet_free(m);
        }
    } else {
        rc = -ENOENT;
        snprintf(err, sizeof err, "neither metadata nor a magnet link");
    }
    if (rc != 0)
        log_msg(LOG_WARNING, "stored torrent %s cannot be loaded: %s", row->hash, *err ? err : strerror(-rc));
    else
        torrent_restore(t, have_ts ? &ts : NULL, row->have, row->have_len, row->files, row->files_len,
                        have_st ? &st : NULL, take_move_intent(s, row->hash));
    record_torrent_settings_clear(&ts);
    return 0;
}

static void trackers_apply(struct session *s);

int session_new(uv_loop_t *loop, const struct session_config *cfg, struct session **out)
{
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->loop_thread = uv_thread_self();
    s->loop_thread_known = true;
    s->profile_dir = strdup(cfg->profile_dir);
    if (cfg->listen_address && *cfg->listen_address)
        s->listen_address = strdup(cfg->listen_address);
    rate_init(&s->dl_rate);
    rate_init(&s->ul_rate);
    s->removed = calloc(SESSION_REMOVED_RING, sizeof *s->removed);
    bool oom = !s->profile_dir || !s->removed || (cfg->listen_address && *cfg->listen_address && !s->listen_address);
    int rc = oom ? -ENOMEM : settings_init(&s->settings);
    if (rc == 0)
        rc = add_hooks(s);
    if (rc == 0)
        rc = banlist_init(s);
    if (rc != 0)
        goto fail;
    rc = path_mkdirs(cfg->profile_dir);
    if (rc != 0) {
        log_msg(LOG_CRITICAL, "cannot create profile directory %s: %s", cfg->profile_dir, strerror(-rc));
        goto fail;
    }
    char db[4096];
    snprintf(db, sizeof db, "%s/torrentd.db", cfg->profile_dir);
    rc = store_open(loop, db, &s->store);
    if (rc != 0) {
        log_msg(LOG_CRITICAL, "cannot open %s: %s", db, strerror(-rc));
        goto fail;
    }
    store_load_prefs(s->store, load_pref, s);
    xferhist_init(&s->xfer.hist, (int64_t)time(NULL));
    store_load_kv(s->store, "stats", load_stats, s);
    rc = catalog_new(s->store, &s->catalog);
    if (rc != 0)
        goto fail;
    catalog_load(s->catalog);
    rc = cookiejar_load(s);
    if (rc != 0)
        goto fail;

    char dl[4096];
    snprintf(dl, sizeof dl, "%s/downloads", cfg->profile_dir);
    s->default_save_path = strdup(cfg->save_path && *cfg->save_path ? cfg->save_path : dl);
    if (!s->default_save_path) {
        rc = -ENOMEM;
        goto fail;
    }
    struct settings *st = &s->settings;
    if (cfg->save_path && *cfg->save_path)
        rc = settings_set_str(st, SET_SAVE_PATH, cfg->save_path, NULL);
    else if (!*settings_str(st, SET_SAVE_PATH))
        rc = settings_set_str(st, SET_SAVE_PATH, dl, NULL);
    /* The command line wins over the stored preferences (not stored). */
    if (rc == 0 && cfg->listen_port >= 0)
        rc = settings_set_int(st, SET_LISTEN_PORT, cfg->listen_port, NULL);
    if (rc == 0)
        rc = settings_set_bool(st, SET_RANDOM_PORT, settings_int(st, SET_LISTEN_PORT) == 0, NULL);
    if (rc == 0 && s->listen_address)
        rc = settings_set_str(st, SET_CURRENT_INTERFACE_ADDRESS, s->listen_address, NULL);
    /* qBittorrent's default log folder is <data dir>/logs: ours is the profile. */
    char logs[4096];
    snprintf(logs, sizeof logs, "%s/logs", cfg->profile_dir);
    if (rc == 0 && !*settings_str(st, SET_FILE_LOG_PATH))
        rc = settings_set_str(st, SET_FILE_LOG_PATH, logs, NULL);
    if (rc != 0) {
        log_msg(LOG_CRITICAL, "command-line setting refused: %s", strerror(-rc));
        goto fail;
    }
    const char *iface = settings_str(st, SET_CURRENT_INTERFACE_ADDRESS);
    unsigned char ip[16];
    if (s->listen_address || !*iface)
        ;   /* the command line's address, already in the setting; or all addresses */
    else if (inet_pton(AF_INET, iface, ip) == 1 || inet_pton(AF_INET6, iface, ip) == 1) {
        if (!(s->listen_address = strdup(iface))) {
            rc = -ENOMEM;
            goto fail;
        }
    } else
        log_msg(LOG_WARNING, "current_interface_address \"%s\" is not an IP address; listening on all addresses",
                iface);
    s->listen_port = (uint16_t)settings_int(st, SET_LISTEN_PORT);

    peerpolicy_make_peer_id(s);   /* anonymous_mode decides its form */

    rc = fetch_new(loop, &s->fetch);
    if (rc != 0)
        goto fail;
    rc = tracker_client_new(loop, s->fetch, s->peer_id, s->listen_port, &s->trackers);
    if (rc != 0)
        goto fail;
    if (s->listen_address)
        tracker_client_set_bind(s->trackers, s->listen_address);
    trackers_apply(s);
    rc = proxy_init(s);
    if (rc != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    cookiejar_free(s);
    catalog_free(s->catalog);
    if (s->store)
        store_close(s->store);
    if (s->trackers)
        tracker_client_free(s->trackers);
    if (s->fetch)
        fetch_free(s->fetch);
    settings_free(&s->settings);
    banlist_free(s);
    free(s->removed);
    free(s->profile_dir);
    free(s->listen_address);
    free(s->default_save_path);
    free(s);
    return rc ? rc : -ENOMEM;
}

int session_start(struct session *s)
{
    session_assert_loop_thread(s);
    /* First: the file gets the messages logged so far from the ring. */
    int rc = logfile_start(s);
    if (rc < 0)
        return rc;
    /* An interface name (current_network_interface, utserver.conf's
     * preferred_interface, applied after session_new) is looked up now. */
    char buf[INET6_ADDRSTRLEN];
    const char *a = s->listen_address ? s->listen_address : wanted_address(s, buf, sizeof buf);
    rc = listen_at(s, a, settings_int(&s->settings, SET_LISTEN_PORT));
    if (rc < 0)
        return rc;
    s->now_ms = uv_now(s->loop);
    rc = tuning_init(s);   /* before the torrents: their storages take its options */
    if (rc < 0)
        return rc;
    store_load_kv(s->store, TORRENT_NS_MOVING, load_move_intent, s);
    /* Before the torrents load: a torrent re-added at the same place must
     * not see the files a crash kept from being deleted. */
    torrent_finish_deletions(s, move_target, s);
    store_load_torrents(s->store, load_torrent, s);
    drop_move_intents(s);
    ssltorrent_load(s);
    ssltorrent_listen(s);
    queue_restore_order(s);
    queue_update(s);
    log_msg(LOG_INFO, "%zu torrents loaded", s->num_torrents);
    limits_init(s);
    int src = scheduler_start(s);   /* after limits_init: it may switch them */
    if (src != 0)
        log_msg(LOG_WARNING, "bandwidth scheduler not started: %s", strerror(-src));
    banlist_set_pref(s, settings_str(&s->settings, SET_BANNED_IPS));
    rc = ipfilter_start(s);
    if (rc == 0)
        rc = peerpolicy_start(s);
    if (rc != 0)
        return rc;
    discovery_start(s);
    /* After the load: what the automation modules see first is the stored
     * torrents (recorded, not acted on). */
    rc = runprog_start(s);
    if (rc == 0)
        rc = watchdir_start(s);
    if (rc == 0)
        rc = trackerlist_start(s);
    if (rc == 0)
        rc = etracker_start(s);
    if (rc == 0)   /* after the listeners and the tracker: it maps their ports */
        rc = portmap_start(s);
    if (rc != 0)
        return rc;
    uv_timer_init(s->loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, on_tick, SESSION_TICK_MS, SESSION_TICK_MS);
    return 0;
}

/* qBittorrent: random_port true means port 0 (any), whatever listen_port
 * says; random_port reads back as listen_port == 0. */
static void port_pair(struct session *s, struct settings_mask *changed)
{
    struct settings *st = &s->settings;
    bool random = settings_mask_has(changed, SET_RANDOM_PORT);
    if (random && settings_bool(st, SET_RANDOM_PORT) && settings_int(st, SET_LISTEN_PORT) != 0)
        settings_set_int(st, SET_LISTEN_PORT, 0, changed);
    if (random || settings_mask_has(changed, SET_LISTEN_PORT)) {
        settings_set_bool(st, SET_RANDOM_PORT, settings_int(st, SET_LISTEN_PORT) == 0, changed);
        settings_mask_add(changed, SET_RANDOM_PORT);   /* persisted whenever either was given */
    }
}

/* ---- live-apply hooks, dispatched by settings_notify ---- */

static void on_listen_changed(void *ud, const struct settings_mask *changed)
{
    struct session *s = ud;
    static const enum setting_id ids[] = {SET_LISTEN_PORT, SET_CURRENT_INTERFACE_ADDRESS,
                                          SET_CURRENT_NETWORK_INTERFACE, SET_UT_PREFERRED_INTERFACE};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (settings_mask_has(changed, ids[i])) {
            relisten(s);
            return;
        }
}

struct pw_job {
    struct session *s;
    char *hash;
    void (*done)(void *ud, int rc);
    void *ud;
};

static void on_pw_stored(void *ud, int rc)
{
    struct pw_job *j = ud;
    if (rc == 0) {
        /* Committed: now the live copy may change. */
        free(j->s->settings.password_hash);
        j->s->settings.password_hash = j->hash;
        j->hash = NULL;
    }
    if (j->done)
        j->done(j->ud, rc);
    free(j->hash);
    free(j);
}

int session_set_password_hash(struct session *s, const char *hash, void (*done)(void *ud, int rc), void *ud)
{
    /* Stored as a JSON string like every pref row (load_pref reads it so). */
    char *json = NULL;
    record_value_encode(&(struct record_value){.type = RECORD_TEXT, .s = hash}, &json);
    char *dup = strdup(hash);
    struct pw_job *j = json && dup ? calloc(1, sizeof *j) : NULL;
    int rc = -ENOMEM;
    if (j) {
        *j = (struct pw_job){s, dup, done, ud};
        rc = s->store ? store_pref_put(s->store, "web_ui_password_hash", json, on_pw_stored, j) : -EIO;
    }
    if (rc != 0) {
        free(dup);
        free(j);
    }
    free(json);
    return rc;
}

static void on_limits_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    limits_apply(ud);
}

/* The tracker timeouts (stop_tracker_timeout's too) and the HTTP announce cap, from the settings:
 * at start and whenever one changes (the requests in flight keep theirs). */
static void trackers_apply(struct session *s)
{
    const struct settings *st = &s->settings;
    int64_t n = settings_int(st, SET_MAX_CONCURRENT_HTTP_ANNOUNCES);
    tracker_client_set_timeouts(s->trackers, (uint32_t)settings_int(st, SET_TRACKER_RECEIVE_TIMEOUT) * 1000,
                                (uint32_t)settings_int(st, SET_TRACKER_COMPLETION_TIMEOUT) * 1000);
    /* qBittorrent stores any number: below 1 sends no stopped announce */
    int64_t stop_s = settings_int(st, SET_STOP_TRACKER_TIMEOUT);
    tracker_client_set_stop_timeout(s->trackers, stop_s <= 0 ? 0 : stop_s > 86400 ? 86400000u : (uint32_t)stop_s * 1000);
    /* qBittorrent stores any number; libtorrent needs at least one slot */
    tracker_client_set_max_http(s->trackers, n < 1 ? 1 : n > INT32_MAX ? INT32_MAX : (size_t)n);
    tracker_client_set_validate_https(s->trackers, settings_bool(st, SET_VALIDATE_HTTPS_TRACKER_CERTIFICATE));
    /* No announce_ip: the router's external address when port mapping found one. */
    const char *ip = settings_str(st, SET_ANNOUNCE_IP);
    tracker_client_set_announce(s->trackers, *ip ? ip : portmap_external_v4(s),
                                (uint16_t)settings_int(st, SET_ANNOUNCE_PORT));
}

static void on_trackers_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    trackers_apply(ud);
}

static void on_default_path_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    service_default_path_changed(ud);
}

static void on_bans_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    struct session *s = ud;
    banlist_set_pref(s, settings_str(&s->settings, SET_BANNED_IPS));
}

static void on_ssl_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    ssltorrent_listen(ud);
}

static void on_discovery_changed(void *ud, const struct settings_mask *changed)
{
    struct session *s = ud;
    if (settings_mask_has(changed, SET_DHT_BOOTSTRAP_NODES) && discovery_dht_running(s)) {
        /* New bootstrap nodes: restart the DHT with them. */
        settings_set_bool(&s->settings, SET_DHT, false, NULL);
        discovery_prefs_changed(s);
        settings_set_bool(&s->settings, SET_DHT, true, NULL);
    }
    discovery_prefs_changed(s);
}

static void on_utp_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    utpsock_sync(ud);
}

static int add_hooks(struct session *s)
{
    static const struct { unsigned groups; settings_hook_fn fn; } hooks[] = {
        {SG_LISTEN, on_listen_changed}, {SG_LIMITS, on_limits_changed}, {SG_BANS, on_bans_changed},
        {SG_SSL, on_ssl_changed},       {SG_DISCOVERY, on_discovery_changed},
        {SG_TRACKERS, on_trackers_changed}, {SG_DEFAULT_PATH, on_default_path_changed},
        {SG_ENCRYPTION, mseconn_on_settings},
        {SG_UTP, on_utp_changed},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof hooks / sizeof hooks[0]; i++)
        rc = settings_add_hook(&s->settings, hooks[i].groups, hooks[i].fn, s);
    return rc;
}

static int persist(struct session *s, const struct settings_mask *changed, void (*done)(void *ud, int rc), void *ud);

int session_settings_changed(struct session *s, struct settings_mask *changed, void (*done)(void *ud, int rc),
                             void *ud)
{
    session_assert_loop_thread(s);
    port_pair(s, changed);
    if (!settings_mask_empty(changed))
        settings_notify(&s->settings, changed);
    return persist(s, changed, done, ud);
}

int session_settings_store(struct session *s, struct settings_mask *changed, void (*done)(void *ud, int rc),
                           void *ud)
{
    session_assert_loop_thread(s);
    port_pair(s, changed);
    return persist(s, changed, done, ud);
}

static int persist(struct session *s, const struct settings_mask *changed, void (*done)(void *ud, int rc), void *ud)
{
    size_t n = settings_mask_count(changed);
    if (n == 0) {
        if (done)
            done(ud, 0);
        return 0;
    }
    const char **keys = calloc(n, sizeof *keys);
    char **vals = calloc(n, sizeof *vals);
    int rc = keys && vals ? 0 : -ENOMEM;
    size_t i = 0;
    for (int id = 0; rc == 0 && id < SET__COUNT; id++) {
        if (!settings_mask_has(changed, (enum setting_id)id))
            continue;
        keys[i] = settings_defs[id].name;
        vals[i] = settings_to_text(&s->settings, (enum setting_id)id);
        if (!vals[i])
            rc = -ENOMEM;
        i++;
    }
    if (rc == 0)
        rc = store_prefs_put(s->store, keys, (const char *const *)vals, n, done, ud);
    for (i = 0; vals && i < n; i++)
        free(vals[i]);
    free(vals);
    free(keys);
    return rc;
}

/* ---- shutdown ---- */

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void close_down(struct session *s)
{
    tracker_client_free(s->trackers);
    s->trackers = NULL;
    service_close(s);   /* normally done before the shutdown already */
    fetch_free(s->fetch);
    s->fetch = NULL;
    close_handle((uv_handle_t *)&s->tick);
    scheduler_close(s);
    limits_close(s);
    tuning_close(s);
    if (s->on_shutdown)
        s->on_shutdown(s->shutdown_ud);
}

/* The torrents' event=stopped announces went out as they closed; they may
 * hold up the exit for qBittorrent's stop_tracker_timeout seconds (0: not at
 * all), and the requests' own timeouts bound the wait anyway. */
static void on_stop_poll(uv_timer_t *h)
{
    struct session *s = h->data;
    if (tracker_client_idle(s->trackers) || uv_now(s->loop) >= s->stop_deadline_ms) {
        uv_timer_stop(h);
        close_down(s);
    }
}

static void finish_shutdown(struct session *s)
{
    utpsock_stop(s);   /* the peers are gone */
    save_stats(s);   /* after the torrents closed: nothing more arrives */
    xferhist_save(s);
    /* Everything is on disk before the trackers are waited for: a second
     * SIGTERM (the default action by then) loses nothing. */
    store_close(s->store);
    s->store = NULL;
    int64_t wait_s = settings_int(&s->settings, SET_STOP_TRACKER_TIMEOUT);
    if (wait_s <= 0 || tracker_client_idle(s->trackers)) {
        close_down(s);
        return;
    }
    s->stop_deadline_ms = uv_now(s->loop) + (uint64_t)wait_s * 1000;
    uv_timer_start(&s->tick, on_stop_poll, SESSION_STOP_POLL_MS, SESSION_STOP_POLL_MS);
}

void session_free(struct session *s)
{
    ipfilter_stop(s);   /* a session freed without a shutdown (tests) */
    peerpolicy_stop(s);
    portmap_free(s);
    service_close(s);
    cookiejar_free(s);
    catalog_free(s->catalog);
    settings_free(&s->settings);
    free(s->torrents);
    hmap_free(&s->index);
    mseconn_session_free(s);
    free(s->active);
    free(s->removed);
    banlist_free(s);
    free(s->profile_dir);
    free(s->listen_address);
    free(s->default_save_path);
    free(s);
}

static void on_torrent_closed(void *ud)
{
    struct session *s = ud;
    if (--s->closing_torrents == 0)
        finish_shutdown(s);
}

void session_removal_done(struct session *s)
{
    s->removals_in_flight--;
    if (s->shutting_down && s->removals_awaited > 0) {   /* one begun before the shutdown */
        s->removals_awaited--;
        on_torrent_closed(s);
    }
}

void session_shutdown(struct session *s, void (*done)(void *ud), void *ud)
{
    session_assert_loop_thread(s);
    if (s->shutting_down)
        return;
    s->shutting_down = true;
    s->on_shutdown = done;
    s->shutdown_ud = ud;
    uv_timer_stop(&s->tick);
    watchdir_close(s);
    runprog_close(s);
    trackerlist_close(s);
    ipfilter_stop(s);
    peerpolicy_stop(s);
    proxy_close(s);
    discovery_stop(s);
    etracker_stop(s);
    portmap_stop(s);   /* removes the mappings meanwhile; the loop runs until it is done */
    close_listeners(s);
    ssltorrent_stop(s);
    while (s->handshaking)
        peer_close(s->handshaking, "shutdown");
    /* One extra count so a torrent that closes synchronously cannot finish
     * the shutdown while others are still being asked. */
    s->removals_awaited = s->removals_in_flight;
    s->closing_torrents = s->num_torrents + s->removals_in_flight + 1;
    while (s->num_torrents > 0)
        torrent_close(s->torrents[s->num_torrents - 1], on_torrent_closed, s);
    on_torrent_closed(s);
}
