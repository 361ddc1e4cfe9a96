#include "core/discovery.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "bt/dht/dht.h"
#include "bt/lsd.h"
#include "bt/metainfo.h"
#include "core/peer.h"
#include "core/proxy.h"
#include "core/session.h"
#include "core/ssltorrent.h"
#include "core/torrent.h"
#include "core/utpsock.h"
#include "store/record.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/log.h"

#define DHT_RELOOKUP_MS (15 * 60 * 1000)
#define DHT_RELOOKUP_LONELY_MS (60 * 1000)   /* no peers at all: ask again sooner */
#define LSD_INTERVAL_MS (5 * 60 * 1000)
#define LSD_MIN_GAP_MS (60 * 1000)       /* BEP14: at most once a minute */

static bool public_torrent(const struct torrent *t)
{
    return !(t->mi && t->mi->is_private);
}

static bool bound_to_loopback(const struct session *s)
{
    return s->listen_address &&
           (strncmp(s->listen_address, "127.", 4) == 0 || strcmp(s->listen_address, "::1") == 0);
}

/* ---- DHT ---- */

static int load_nodes(void *ud, const char *key, const char *value)
{
    struct session *s = ud;
    if (strcmp(key, "nodes") != 0 || !s->disc.dht)
        return 0;
    /* Stored as a JSON string of base64. */
    struct record_value v;
    if (record_value_decode(value, &v) != 0)
        return 0;
    size_t n = v.type == RECORD_TEXT ? strlen(v.s) : 0;
    uint8_t *raw = n ? malloc(n + 1) : NULL;
    int len = raw ? base64_decode(v.s, n, raw, n) : -1;
    if (len > 0)
        dht_load_nodes(s->disc.dht, raw, (size_t)len);
    free(raw);
    record_value_clear(&v);
    return 0;
}

static void save_nodes(struct session *s)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    if (!s->disc.dht || dht_save_nodes(s->disc.dht, &raw, &len) != 0 || len == 0) {
        free(raw);
        return;
    }
    size_t cap = 4 * (len / 3 + 1) + 4;
    char *b64 = malloc(cap + 1), *text = NULL;
    int n = b64 ? base64_encode(raw, len, b64, cap) : -1;
    if (n > 0) {
        b64[n] = 0;
        if (record_value_encode(&(struct record_value){.type = RECORD_TEXT, .s = b64}, &text) == 0)
            store_kv_put(s->store, "dht", "nodes", text, NULL, NULL);
    }
    free(text);
    free(b64);
    free(raw);
}

/* nodes: the table (and id) of the DHT being replaced; NULL = the stored one. */
static void dht_on(struct session *s, const uint8_t *nodes, size_t len)
{
    if (s->disc.dht)
        return;
    utpsock_release_port(s);   /* uTP's own socket lets go of the port; it moves onto the DHT's */
    struct dht_config cfg = {
        .bind_address = s->listen_address,
        .port = s->listen_port,
        .allow_local = bound_to_loopback(s),
        .ipv6 = s->listen_address == NULL,   /* BEP32 too when listening everywhere */
    };
    if (dht_new(s->loop, &cfg, &s->disc.dht) != 0) {
        log_msg(LOG_WARNING, "DHT: cannot start on port %u", s->listen_port);
        s->disc.dht = NULL;
        return;
    }
    if (nodes)
        dht_load_nodes(s->disc.dht, nodes, len);
    else
        store_load_kv(s->store, "dht", load_nodes, s);
    char *list = strdup(settings_str(&s->settings, SET_DHT_BOOTSTRAP_NODES)), *save = NULL;
    for (char *tok = list ? strtok_r(list, ", ", &save) : NULL; tok; tok = strtok_r(NULL, ", ", &save))
        dht_add_bootstrap(s->disc.dht, tok);
    free(list);
    log_msg(LOG_INFO, "DHT started on port %u", s->listen_port);
}

static void dht_off(struct session *s)
{
    if (!s->disc.dht)
        return;
    for (size_t i = 0; i < s->num_torrents; i++)
        discovery_torrent_gone(s->torrents[i]);
    save_nodes(s);
    utpsock_release_port(s);
    dht_free(s->disc.dht);
    s->disc.dht = NULL;
    log_msg(LOG_INFO, "DHT stopped");
}

static void on_dht_peers(void *ud, const struct sockaddr_storage *peers, size_t n, bool done)
{
    struct torrent *t = ud;
    for (size_t i = 0; i < n; i++)
        torrent_add_peer_addr(t, (const struct sockaddr *)&peers[i], t->active, PEER_SRC_DHT);
    if (done) {
        t->disc.lookup = NULL;
        t->disc.dht_next_ms = t->s->now_ms + (t->num_peers == 0 && t->num_cands == 0 ? DHT_RELOOKUP_LONELY_MS
                                                                                 : DHT_RELOOKUP_MS);
    }
}

void discovery_torrent_gone(struct torrent *t)
{
    if (t->disc.lookup) {
        dht_lookup_cancel(t->disc.lookup);
        t->disc.lookup = NULL;
    }
    t->disc.dht_next_ms = 0;
    /* lsd_next_ms is kept: a restarted torrent is not announced more often
     * than BEP14 allows. */
}

size_t discovery_dht_nodes(const struct session *s)
{
    return s->disc.dht ? dht_node_count(s->disc.dht) : 0;
}

bool discovery_dht_running(const struct session *s)
{
    return s->disc.dht != NULL;
}

/* ---- LSD ---- */

static void on_lsd_peer(void *ud, const uint8_t info_hash[20], const struct sockaddr *peer)
{
    struct session *s = ud;
    struct torrent *t = session_find(s, info_hash);
    if (t && t->active && public_torrent(t))
        torrent_add_peer_addr(t, peer, true, PEER_SRC_LSD);
}

static void lsd_on(struct session *s)
{
    if (s->disc.lsd)
        return;
    if (bt_lsd_new(s->loop, s->listen_port, s->listen_address, on_lsd_peer, s, &s->disc.lsd) != 0) {
        log_msg(LOG_WARNING, "LSD: cannot start");
        s->disc.lsd = NULL;
        return;
    }
}

static void lsd_off(struct session *s)
{
    if (s->disc.lsd) {
        bt_lsd_free(s->disc.lsd);
        s->disc.lsd = NULL;
    }
}

/* Each torrent is announced when it becomes active and every 5 minutes
 * after (BEP14 allows once a minute), several hashes to a message. */
static void lsd_announce(struct session *s, uint64_t now)
{
    const uint8_t **hashes = calloc(s->num_active ? s->num_active : 1, sizeof *hashes);
    size_t n = 0;
    if (!hashes)
        return;
    for (size_t i = 0; i < s->num_active; i++) {
        struct torrent *t = s->active[i];
        /* One port per message: SSL torrents (another port) are not announced. */
        if (!public_torrent(t) || ssltorrent_is_ssl(t) || now < t->disc.lsd_next_ms)
            continue;
        hashes[n++] = t->info_hash;
        t->disc.lsd_next_ms = now + LSD_INTERVAL_MS;
    }
    if (n > 0)
        bt_lsd_announce(s->disc.lsd, hashes, n);
    free(hashes);
}

/* ---- session hooks ---- */

void discovery_start(struct session *s)
{
    discovery_prefs_changed(s);
}

void discovery_prefs_changed(struct session *s)
{
    /* The DHT is UDP, which does not go through a proxy (core/proxy.h). */
    if (settings_bool(&s->settings, SET_DHT) && !proxy_udp_blocked(s))
        dht_on(s, NULL, 0);
    else
        dht_off(s);
    if (settings_bool(&s->settings, SET_LSD))
        lsd_on(s);
    else
        lsd_off(s);
    utpsock_sync(s);
}

void discovery_listen_changed(struct session *s)
{
    if (s->disc.dht) {
        /* Same id and table on the new port: the store write of dht_off
         * may not have landed before a reload. */
        uint8_t *raw = NULL;
        size_t len = 0;
        if (dht_save_nodes(s->disc.dht, &raw, &len) != 0)
            len = 0;
        dht_off(s);
        dht_on(s, len ? raw : NULL, len);
        free(raw);
    }
    if (s->disc.lsd) {
        lsd_off(s);
        lsd_on(s);
        /* Tell the LAN the new port soon, within BEP14's once a minute. */
        for (size_t i = 0; i < s->num_torrents; i++) {
            struct torrent *t = s->torrents[i];
            if (t->disc.lsd_next_ms > LSD_INTERVAL_MS)
                t->disc.lsd_next_ms -= LSD_INTERVAL_MS - LSD_MIN_GAP_MS;
        }
    }
    utpsock_sync(s);
}

void discovery_stop(struct session *s)
{
    dht_off(s);
    lsd_off(s);
}

void discovery_tick(struct session *s, uint64_t now)
{
    if (s->disc.dht) {
        dht_tick(s->disc.dht, now);
        for (size_t i = 0; i < s->num_active; i++) {
            struct torrent *t = s->active[i];
            if (t->disc.lookup || now < t->disc.dht_next_ms || !public_torrent(t))
                continue;
            /* SSL torrents announce their SSL port, and nothing while it is closed. */
            uint16_t port = ssltorrent_announce_port(t);
            if (dht_get_peers(s->disc.dht, t->info_hash, port != 0, port, on_dht_peers, t, &t->disc.lookup) != 0) {
                t->disc.lookup = NULL;
                t->disc.dht_next_ms = now + DHT_RELOOKUP_LONELY_MS;
            }
        }
        if (s->tick_count % 300 == 0)
            save_nodes(s);
    }
    if (s->disc.lsd && s->num_active > 0)
        lsd_announce(s, now);
}
