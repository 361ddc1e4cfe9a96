/* web/api/ops_metrics — GET /metrics in Prometheus' text exposition format
 * (version 0.0.4), checked by `promtool check metrics` in
 * tests/integration/test_metrics.py.
 *
 * Names follow Prometheus' conventions: torrentd_ prefix, base units
 * (bytes, seconds), counters end in _total and only grow.  Cost per scrape:
 * the per-state and per-category counts come from src/ops (kept from the
 * session's change list), peers by source walk the active torrents' peer
 * lists; nothing walks every torrent.  Public unless ops_metrics_need_token
 * (Ops.MetricsRequireToken) and a token is set: then X-API-Token or Bearer
 * as the rest of the ops API, wrong tokens counting toward the login ban.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/discovery.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/torrent.h"
#include "ops/ops.h"
#include "util/buf.h"
#include "web/api/ops_int.h"
#include "web/api/qbt_v2_int.h"

#define put buf_appendf

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value escaped as the format wants (\\, \", \n). */
static void label(char *out, size_t len, const char *v)
{
    size_t o = 0;
    for (; *v && o + 3 < len; v++) {
        if (*v == '\\' || *v == '"') {
            out[o++] = '\\';
            out[o++] = *v;
        } else if (*v == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *v;
        }
    }
    out[o] = 0;
}

static void cat_line(void *ud, const char *cat, size_t n)
{
    char l[512];
    label(l, sizeof l, cat);
    put(ud, "torrentd_category_torrents{category=\"%s\"} %zu\n", l, n);
}

struct req_ctx {
    struct buf *b;
};

static void req_line(void *ud, const char *dialect, int status, uint64_t n)
{
    put(ud, "torrentd_api_requests_total{dialect=\"%s\",code=\"%d\"} %llu\n", dialect, status,
        (unsigned long long)n);
}

/* Protocol bytes are what went over peer connections beyond the payload;
 * the two are counted at different points (the wire at the socket, the
 * payload when a block is taken), so the difference is kept monotonic. */
static int64_t proto_last[2];

static int64_t monotonic_diff(int i, int64_t wire, int64_t payload)
{
    int64_t d = wire - payload;
    if (d > proto_last[i])
        proto_last[i] = d;
    return proto_last[i];
}

static bool token_ok(struct ops_web *w, struct web_req *r)
{
    const char *want = settings_str(&w->s->settings, SET_OPS_TOKEN);
    if (!settings_bool(&w->s->settings, SET_OPS_METRICS_NEED_TOKEN) || !*want)
        return true;
    const char *tok = web_req_header(r, "X-API-Token");
    const char *az = tok ? NULL : web_req_header(r, "Authorization");
    if (az && strncasecmp(az, "Bearer ", 7) == 0)
        for (tok = az + 7; *tok == ' '; tok++)
            ;
    if (!tok || !*tok) {
        ops_reply_error(r, 401, "unauthorized");
        return false;
    }
    if (web_ban_begin(r)) {
        web_reply_error(r, 403, "Your IP address has been banned after too many failed authentication attempts.");
        return false;
    }
    unsigned char a[32], b[32];
    EVP_Digest(tok, strlen(tok), a, NULL, EVP_sha256(), NULL);
    EVP_Digest(want, strlen(want), b, NULL, EVP_sha256(), NULL);
    bool ok = CRYPTO_memcmp(a, b, 32) == 0;
    web_ban_end(r, ok ? 1 : 0);
    if (!ok)
        ops_reply_error(r, 401, "unauthorized");
    return ok;
}

static void h_metrics(struct web_req *r, void *ud)
{
    struct ops_web *w = ud;
    if (!token_ok(w, r))
        return;
    struct session *s = w->s;
    struct buf b = {0};
    ops_sync(w->o);

    head(&b, "torrentd_torrents", "gauge", "Torrents by state (qBittorrent 5 state names).");
    for (int i = 0; i < TORRENT_STATE_COUNT; i++)
        put(&b, "torrentd_torrents{state=\"%s\"} %zu\n", qbt_v2_state_name((enum torrent_state)i, false),
            ops_state_count(w->o, (enum torrent_state)i));
    head(&b, "torrentd_category_torrents", "gauge", "Torrents by category (\"\" = none).");
    ops_category_counts(w->o, cat_line, &b);

    head(&b, "torrentd_payload_bytes_total", "counter", "Payload bytes this session.");
    put(&b, "torrentd_payload_bytes_total{direction=\"download\"} %lld\n", (long long)s->dl_session);
    put(&b, "torrentd_payload_bytes_total{direction=\"upload\"} %lld\n", (long long)s->ul_session);
    head(&b, "torrentd_alltime_payload_bytes_total", "counter", "Payload bytes of every run.");
    put(&b, "torrentd_alltime_payload_bytes_total{direction=\"download\"} %lld\n",
        (long long)(s->alltime_dl + s->dl_session));
    put(&b, "torrentd_alltime_payload_bytes_total{direction=\"upload\"} %lld\n",
        (long long)(s->alltime_ul + s->ul_session));
    head(&b, "torrentd_wire_bytes_total", "counter", "Every byte on peer connections this session.");
    put(&b, "torrentd_wire_bytes_total{direction=\"download\"} %lld\n", (long long)s->wire_dl_session);
    put(&b, "torrentd_wire_bytes_total{direction=\"upload\"} %lld\n", (long long)s->wire_ul_session);
    head(&b, "torrentd_protocol_bytes_total", "counter", "Peer connection bytes beyond the payload this session.");
    put(&b, "torrentd_protocol_bytes_total{direction=\"download\"} %lld\n",
        (long long)monotonic_diff(0, s->wire_dl_session, s->dl_session));
    put(&b, "torrentd_protocol_bytes_total{direction=\"upload\"} %lld\n",
        (long long)monotonic_diff(1, s->wire_ul_session, s->ul_session));
    head(&b, "torrentd_wasted_bytes_total", "counter", "Payload bytes discarded (failed pieces, duplicates).");
    put(&b, "torrentd_wasted_bytes_total %lld\n", (long long)s->wasted_session);

    head(&b, "torrentd_rate_bytes_per_second", "gauge", "Payload rate now.");
    put(&b, "torrentd_rate_bytes_per_second{direction=\"download\"} %llu\n",
        (unsigned long long)rate_get(&s->dl_rate, s->now_ms));
    put(&b, "torrentd_rate_bytes_per_second{direction=\"upload\"} %llu\n",
        (unsigned long long)rate_get(&s->ul_rate, s->now_ms));

    static const struct {
        unsigned bit;
        const char *name;
    } srcs[] = {{PEER_SRC_TRACKER, "tracker"}, {PEER_SRC_INCOMING, "incoming"}, {PEER_SRC_API, "api"},
                {PEER_SRC_PEX, "pex"},         {PEER_SRC_DHT, "dht"},           {PEER_SRC_LSD, "lsd"}};
    size_t by_src[6] = {0}, other = 0;
    for (size_t i = 0; i < s->num_active; i++)
        for (struct peer *p = s->active[i]->peers; p; p = p->next) {
            if (p->state != PEER_ACTIVE)
                continue;
            size_t j = 0;
            while (j < 6 && !(p->source & srcs[j].bit))
                j++;
            if (j < 6)
                by_src[j]++;
            else
                other++;
        }
    head(&b, "torrentd_peers_connected", "gauge", "Connected peers by how they were found (first source).");
    for (size_t j = 0; j < 6; j++)
        put(&b, "torrentd_peers_connected{source=\"%s\"} %zu\n", srcs[j].name, by_src[j]);
    put(&b, "torrentd_peers_connected{source=\"other\"} %zu\n", other);

    head(&b, "torrentd_dht_nodes", "gauge", "Nodes in the DHT routing table.");
    put(&b, "torrentd_dht_nodes %zu\n", discovery_dht_nodes(s));
    head(&b, "torrentd_tracker_error_torrents", "gauge", "Torrents with a tracker not working.");
    put(&b, "torrentd_tracker_error_torrents %zu\n", ops_tracker_error_torrents(w->o));
    head(&b, "torrentd_disk_cache_hits_total", "counter", "Upload reads served from the read cache.");
    put(&b, "torrentd_disk_cache_hits_total %llu\n", (unsigned long long)s->tune.rcache_hits);
    head(&b, "torrentd_disk_cache_misses_total", "counter", "Upload reads that loaded a piece.");
    put(&b, "torrentd_disk_cache_misses_total %llu\n", (unsigned long long)s->tune.rcache_misses);
    head(&b, "torrentd_hash_failures_total", "counter", "Pieces that failed their hash check.");
    put(&b, "torrentd_hash_failures_total %llu\n", (unsigned long long)s->hash_failures);
    head(&b, "torrentd_queued_torrents", "gauge", "Torrents held back by the queue.");
    put(&b, "torrentd_queued_torrents{direction=\"download\"} %zu\n",
        ops_state_count(w->o, TORRENT_STATE_QUEUED_DL));
    put(&b, "torrentd_queued_torrents{direction=\"upload\"} %zu\n", ops_state_count(w->o, TORRENT_STATE_QUEUED_UP));
    head(&b, "torrentd_checking_queue_torrents", "gauge", "Torrents waiting for a hash check.");
    size_t cq = 0;
    for (struct torrent *t = s->checkq_head; t; t = t->checkq_next)
        cq++;
    put(&b, "torrentd_checking_queue_torrents %zu\n", cq);

    char l[1024];
    label(l, sizeof l, session_default_save_path(s));
    head(&b, "torrentd_free_space_bytes", "gauge", "Free bytes under the default save path.");
    put(&b, "torrentd_free_space_bytes{path=\"%s\"} %lld\n", l,
        (long long)ops_free_bytes(session_default_save_path(s)));

    head(&b, "torrentd_api_requests_total", "counter", "HTTP requests answered, by API dialect and status.");
    web_server_request_counts(w->ws, req_line, &b);

    uint64_t aok, afail;
    ops_metrics_automation_runs(&aok, &afail);
    head(&b, "torrentd_automation_runs_total", "counter", "Automation runs (qbit_manage commands).");
    put(&b, "torrentd_automation_runs_total{result=\"ok\"} %llu\n", (unsigned long long)aok);
    put(&b, "torrentd_automation_runs_total{result=\"failed\"} %llu\n", (unsigned long long)afail);

    struct ops_counters c;
    ops_counters(w->o, &c);
    head(&b, "torrentd_ops_actions_total", "counter", "What the qBitrr rules did.");
    put(&b, "torrentd_ops_actions_total{action=\"stalled_tagged\"} %llu\n", (unsigned long long)c.stalled_tagged);
    put(&b, "torrentd_ops_actions_total{action=\"stalled_removed\"} %llu\n", (unsigned long long)c.stalled_removed);
    put(&b, "torrentd_ops_actions_total{action=\"free_space_paused\"} %llu\n", (unsigned long long)c.guard_paused);
    put(&b, "torrentd_ops_actions_total{action=\"free_space_resumed\"} %llu\n",
        (unsigned long long)c.guard_resumed);
    put(&b, "torrentd_ops_actions_total{action=\"seeding_removed\"} %llu\n", (unsigned long long)c.seeding_removed);
    put(&b, "torrentd_ops_actions_total{action=\"arr_import\"} %llu\n", (unsigned long long)c.arr_triggered);
    put(&b, "torrentd_ops_actions_total{action=\"arr_import_failed\"} %llu\n", (unsigned long long)c.arr_failed);

    web_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    buf_free(&b);
}

int ops_metrics_register(struct ops_web *w)
{
    static const struct web_route_def routes[] = {
        {"/metrics", WEB_GET, h_metrics, WEB_AUTH_PUBLIC, NULL},
    };
    return web_routes_add(w->ws, routes, sizeof routes / sizeof routes[0], w);
}
