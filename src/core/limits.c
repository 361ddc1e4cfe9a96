#include "core/limits.h"

#include <stdlib.h>
#include <string.h>

#include "core/peer.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/xferhist.h"
#include "store/record.h"
#include "store/store.h"
#include "util/log.h"

#define LIMITS_QUOTA_MS 100

static uint64_t pref_limit(struct session *s, enum setting_id id)
{
    int64_t v = settings_int(&s->settings, id);
    return v > 0 ? (uint64_t)v : 0;
}

void limits_apply(struct session *s)
{
    bool alt = s->limits.alt;
    ratelimit_set(&s->limits.dl, pref_limit(s, alt ? SET_ALT_DL_LIMIT : SET_DL_LIMIT));
    ratelimit_set(&s->limits.ul, pref_limit(s, alt ? SET_ALT_UP_LIMIT : SET_UP_LIMIT));
    int64_t seed = settings_int(&s->settings, SET_UT_MAX_UL_RATE_SEED);
    s->limits.seed_ul = seed > 0 ? (uint64_t)seed * 1024 : 0;
}

int limits_set_alt(struct session *s, bool alt, void (*cb)(void *ud, int rc), void *ud)
{
    s->limits.alt = alt;
    limits_apply(s);
    log_msg(LOG_INFO, "%s speed limits in effect", alt ? "alternative" : "normal");
    char *v = NULL;
    int rc = record_value_encode(&(struct record_value){.type = RECORD_BOOL, .b = alt}, &v);
    if (rc == 0)
        rc = store_kv_put(s->store, "state", "alt_speed", v, cb, ud);
    free(v);
    return rc;
}

int limits_set_rate(struct session *s, bool download, int64_t limit, void (*cb)(void *ud, int rc), void *ud)
{
    enum setting_id id = s->limits.alt ? (download ? SET_ALT_DL_LIMIT : SET_ALT_UP_LIMIT)
                                       : (download ? SET_DL_LIMIT : SET_UP_LIMIT);
    struct settings_mask applied = {0};
    int rc = settings_set_int(&s->settings, id, limit < 0 ? 0 : limit, &applied);
    if (rc != 0)
        return rc;
    return session_settings_changed(s, &applied, cb, ud);
}

static int load_state(void *ud, const char *key, const char *value)
{
    struct session *s = ud;
    struct record_value v;
    if (strcmp(key, "alt_speed") == 0 && record_value_decode(value, &v) == 0) {
        s->limits.alt = v.type == RECORD_BOOL && v.b;
        record_value_clear(&v);
    }
    return 0;
}

bool limits_alt(const struct session *s)
{
    return s->limits.alt;
}

uint64_t limits_rate(const struct session *s, bool download)
{
    return (download ? &s->limits.dl : &s->limits.ul)->bytes_per_sec;
}

void limits_init_torrent(struct torrent *t)
{
    ratelimit_init(&t->limits.dl);
    ratelimit_init(&t->limits.ul);
    ratelimit_init(&t->limits.seed_ul);
}

void limits_apply_torrent(struct torrent *t)
{
    ratelimit_set(&t->limits.dl, t->dl_limit > 0 ? (uint64_t)t->dl_limit : 0);
    ratelimit_set(&t->limits.ul, t->up_limit > 0 ? (uint64_t)t->up_limit : 0);
}

/* limit_lan_peers false (µTorrent's rate_limit_local_peers false): a peer
 * on the local network does not pay the global buckets, as libtorrent's
 * local peer class is left out of the global one.  Its torrent's own limits
 * still apply. */
static bool global_exempt(const struct peer *p)
{
    if (p->over_utp && !settings_bool(&p->s->settings, SET_LIMIT_UTP_RATE))
        return true;   /* limit_utp_rate false: libtorrent leaves uTP peers out of the global class */
    return !settings_bool(&p->s->settings, SET_LIMIT_LAN_PEERS) &&
           xferhist_addr_is_local((const struct sockaddr *)&p->addr);
}

bool limits_take_upload(struct peer *p, uint32_t len)
{
    struct session *s = p->s;
    struct torrent *t = p->t;
    uint64_t now = uv_now(s->loop);
    /* max_ul_rate_seed: the bucket follows the setting lazily (the setting
     * is session-wide, the buckets are per torrent); a downloading torrent
     * does not draw from it. */
    struct ratelimit *seed = NULL;
    if (s->limits.seed_ul && torrent_is_finished(t)) {
        seed = &t->limits.seed_ul;
        if (seed->bytes_per_sec != s->limits.seed_ul)
            ratelimit_set(seed, s->limits.seed_ul);
    }
    uint64_t a = ratelimit_take(&t->limits.ul, len, now);
    if (a < len) {
        ratelimit_refund(&t->limits.ul, a);
        goto throttled;
    }
    uint64_t c = seed ? ratelimit_take(seed, len, now) : len;
    if (c < len) {
        ratelimit_refund(seed, c);
        ratelimit_refund(&t->limits.ul, a);
        goto throttled;
    }
    if (global_exempt(p))
        return true;
    uint64_t b = ratelimit_take(&s->limits.ul, len, now);
    if (b < len) {
        ratelimit_refund(&s->limits.ul, b);
        if (seed)
            ratelimit_refund(seed, c);
        ratelimit_refund(&t->limits.ul, a);
        goto throttled;
    }
    return true;
throttled:
    p->limits.up_throttled = true;
    s->limits.throttled = true;
    return false;
}

/* Pays what it can of p->limits.dl_debt; true when nothing is owed any more. */
static bool repay(struct peer *p, uint64_t now)
{
    struct session *s = p->s;
    struct torrent *t = p->t;
    uint64_t owe = p->limits.dl_debt;
    uint64_t a = ratelimit_take(&t->limits.dl, owe, now);
    uint64_t b = global_exempt(p) ? a : ratelimit_take(&s->limits.dl, a, now);
    if (b < a)
        ratelimit_refund(&t->limits.dl, a - b);
    p->limits.dl_debt -= b;
    return p->limits.dl_debt == 0;
}

size_t limits_read_allowance(struct peer *p)
{
    uint64_t now = uv_now(p->s->loop);
    uint64_t a = ratelimit_available(&p->t->limits.dl, now);
    if (!global_exempt(p)) {
        uint64_t b = ratelimit_available(&p->s->limits.dl, now);
        if (b < a)
            a = b;
    }
    if (a == UINT64_MAX)
        return SIZE_MAX;
    return a < LIMITS_MIN_READ ? LIMITS_MIN_READ : a > SIZE_MAX ? SIZE_MAX : (size_t)a;
}

bool limits_charge_download(struct peer *p, uint64_t n)
{
    p->limits.dl_debt += n;
    if (repay(p, uv_now(p->s->loop)))
        return true;
    p->s->limits.throttled = true;
    p->limits.read_paused = true;
    return false;
}

static void on_quota(uv_timer_t *h)
{
    struct session *s = h->data;
    if (!s->limits.throttled)
        return;
    s->limits.throttled = false;
    uint64_t now = uv_now(s->loop);
    for (size_t i = 0; i < s->num_active; i++) {
        struct torrent *t = s->active[i];
        for (struct peer *p = t->peers; p; p = p->next) {
            if (p->state != PEER_ACTIVE)
                continue;
            if (p->limits.read_paused) {
                if (repay(p, now)) {
                    p->limits.read_paused = false;
                    peer_resume_reading(p);
                } else {
                    s->limits.throttled = true;
                }
            }
            if (p->limits.up_throttled) {
                p->limits.up_throttled = false;
                peer_resume_uploads(p);   /* may throttle again */
            }
        }
    }
}

void limits_init(struct session *s)
{
    ratelimit_init(&s->limits.dl);
    ratelimit_init(&s->limits.ul);
    store_load_kv(s->store, "state", load_state, s);
    limits_apply(s);
    uv_timer_init(s->loop, &s->limits.quota_timer);
    s->limits.quota_timer.data = s;
    uv_timer_start(&s->limits.quota_timer, on_quota, LIMITS_QUOTA_MS, LIMITS_QUOTA_MS);
    uv_unref((uv_handle_t *)&s->limits.quota_timer);
}

void limits_close(struct session *s)
{
    if (!uv_is_closing((uv_handle_t *)&s->limits.quota_timer))
        uv_close((uv_handle_t *)&s->limits.quota_timer, NULL);
}
