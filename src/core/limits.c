#include "core/limits.h"

#include <string.h>

#include "core/peer.h"
#include "core/session.h"
#include "core/torrent.h"
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
    bool alt = s->alt_speed;
    ratelimit_set(&s->dl_limit, pref_limit(s, alt ? SET_ALT_DL_LIMIT : SET_DL_LIMIT));
    ratelimit_set(&s->ul_limit, pref_limit(s, alt ? SET_ALT_UP_LIMIT : SET_UP_LIMIT));
}

int limits_set_alt(struct session *s, bool alt, void (*cb)(void *ud, int rc), void *ud)
{
    s->alt_speed = alt;
    limits_apply(s);
    log_msg(LOG_INFO, "%s speed limits in effect", alt ? "alternative" : "normal");
    return store_kv_put(s->store, "state", "alt_speed", alt ? "true" : "false", cb, ud);
}

static int load_state(void *ud, const char *key, const char *value)
{
    struct session *s = ud;
    if (strcmp(key, "alt_speed") == 0)
        s->alt_speed = strcmp(value, "true") == 0;
    return 0;
}

void limits_apply_torrent(struct torrent *t)
{
    ratelimit_set(&t->dl_limit_rl, t->dl_limit > 0 ? (uint64_t)t->dl_limit : 0);
    ratelimit_set(&t->ul_limit_rl, t->up_limit > 0 ? (uint64_t)t->up_limit : 0);
}

bool limits_take_upload(struct peer *p, uint32_t len)
{
    struct session *s = p->s;
    struct torrent *t = p->t;
    uint64_t now = uv_now(s->loop);
    uint64_t a = ratelimit_take(&t->ul_limit_rl, len, now);
    if (a < len) {
        ratelimit_refund(&t->ul_limit_rl, a);
        goto throttled;
    }
    uint64_t b = ratelimit_take(&s->ul_limit, len, now);
    if (b < len) {
        ratelimit_refund(&s->ul_limit, b);
        ratelimit_refund(&t->ul_limit_rl, a);
        goto throttled;
    }
    return true;
throttled:
    p->up_throttled = true;
    s->throttled = true;
    return false;
}

/* Pays what it can of p->dl_debt; true when nothing is owed any more. */
static bool repay(struct peer *p, uint64_t now)
{
    struct session *s = p->s;
    struct torrent *t = p->t;
    uint64_t owe = p->dl_debt;
    uint64_t a = ratelimit_take(&t->dl_limit_rl, owe, now);
    uint64_t b = ratelimit_take(&s->dl_limit, a, now);
    if (b < a)
        ratelimit_refund(&t->dl_limit_rl, a - b);
    p->dl_debt -= b;
    return p->dl_debt == 0;
}

bool limits_charge_download(struct peer *p, uint64_t n)
{
    p->dl_debt += n;
    if (repay(p, uv_now(p->s->loop)))
        return true;
    p->s->throttled = true;
    return false;
}

static void on_quota(uv_timer_t *h)
{
    struct session *s = h->data;
    if (!s->throttled)
        return;
    s->throttled = false;
    uint64_t now = uv_now(s->loop);
    for (size_t i = 0; i < s->num_active; i++) {
        struct torrent *t = s->active[i];
        for (struct peer *p = t->peers; p; p = p->next) {
            if (p->state != PEER_ACTIVE)
                continue;
            if (p->read_paused) {
                if (repay(p, now)) {
                    p->read_paused = false;
                    peer_resume_reading(p);
                } else {
                    s->throttled = true;
                }
            }
            if (p->up_throttled) {
                p->up_throttled = false;
                peer_resume_uploads(p);   /* may throttle again */
            }
        }
    }
}

void limits_init(struct session *s)
{
    ratelimit_init(&s->dl_limit);
    ratelimit_init(&s->ul_limit);
    store_load_kv(s->store, "state", load_state, s);
    limits_apply(s);
    uv_timer_init(s->loop, &s->quota_timer);
    s->quota_timer.data = s;
    uv_timer_start(&s->quota_timer, on_quota, LIMITS_QUOTA_MS, LIMITS_QUOTA_MS);
    uv_unref((uv_handle_t *)&s->quota_timer);
}

void limits_close(struct session *s)
{
    if (!uv_is_closing((uv_handle_t *)&s->quota_timer))
        uv_close((uv_handle_t *)&s->quota_timer, NULL);
}
