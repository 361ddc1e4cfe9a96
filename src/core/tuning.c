#include "core/tuning.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>

#include "core/session.h"
#include "core/torrent.h"
#include "core/ut_settings.h"
#include "disk/storage.h"
#include "util/log.h"

#define MIB (1024 * 1024)

static void on_check(uv_check_t *h)
{
    struct session *s = h->data;
    if (!s->tune.net_round)
        return;
    s->tune.net_round = false;
    struct timespec ts = {0, TUNING_LOW_CPU_SLEEP_MS * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void apply_disk(struct session *s)
{
    struct tuning *tu = &s->tune;
    const struct settings *st = &s->settings;
    tu->preallocate = settings_bool(st, SET_PREALLOCATE_ALL);
    bool sync = settings_bool(st, SET_UT_ALL_WRITES_SYNC);
    if (sync != tu->sync_writes) {
        tu->sync_writes = sync;
        for (size_t i = 0; i < s->num_torrents; i++)
            if (s->torrents[i]->st)
                storage_set_sync_writes(s->torrents[i]->st, sync);
    }
    int64_t ut = settings_int(st, SET_UT_DISK_CACHE_MAX_SIZE), qbt = settings_int(st, SET_DISK_CACHE);
    int64_t mib = ut > 0 ? ut : qbt;
    char what[96];
    if (mib > 0) {
        if (mib > INT64_C(1) << 20)
            mib = INT64_C(1) << 20;   /* 1 TiB: far beyond any memory, and no overflow */
        tu->rcache_budget = (uint64_t)mib * MIB;
        tu->rcache_slots = TUNING_RCACHE_SLOTS_MAX;
        snprintf(what, sizeof what, "%" PRId64 " MiB for all torrents", mib);
    } else if (mib == 0) {
        tu->rcache_budget = 0;
        tu->rcache_slots = 1;
        snprintf(what, sizeof what, "off (one piece per torrent)");
    } else {
        tu->rcache_budget = 0;
        tu->rcache_slots = TUNING_RCACHE_SLOTS_AUTO;
        snprintf(what, sizeof what, "auto (%d pieces per torrent)", TUNING_RCACHE_SLOTS_AUTO);
    }
    log_msg(LOG_INFO, "disk: preallocation %s, synchronous writes %s, read cache %s", tu->preallocate ? "on" : "off",
            tu->sync_writes ? "on" : "off", what);
}

static void apply_low_cpu(struct session *s)
{
    struct tuning *tu = &s->tune;
    bool on = settings_bool(&s->settings, SET_UT_LOW_CPU);
    if (on == tu->low_cpu)
        return;
    tu->low_cpu = on;
    tu->net_round = false;
    if (on)
        uv_check_start(&tu->low_cpu_check, on_check);
    else
        uv_check_stop(&tu->low_cpu_check);
    if (on)
        log_msg(LOG_INFO, "low_cpu: on (the loop pauses %d ms after each round of peer traffic)",
                TUNING_LOW_CPU_SLEEP_MS);
    else
        log_msg(LOG_INFO, "low_cpu: off");
}

static void apply_log(struct session *s)
{
    int64_t mask = settings_int(&s->settings, SET_UT_LOGMASK);
    unsigned src = ut_settings_log_sources(mask);
    log_set_sources(src);
    if (mask)
        log_msg(LOG_INFO, "logmask 0x%08" PRIx32 ": log sources 0x%x", (uint32_t)mask, src);
}

static void on_disk_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    apply_disk(ud);
}

static void on_log_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    apply_log(ud);
}

static void on_low_cpu_changed(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    apply_low_cpu(ud);
}

void tuning_peer_socket(struct session *s, uv_tcp_t *tcp)
{
    int64_t snd = settings_int(&s->settings, SET_SOCKET_SEND_BUFFER_SIZE);
    int64_t rcv = settings_int(&s->settings, SET_SOCKET_RECEIVE_BUFFER_SIZE);
    int v;
    if (snd > 0) {
        v = snd > INT_MAX / 2 ? INT_MAX / 2 : (int)snd;
        uv_send_buffer_size((uv_handle_t *)tcp, &v);
    }
    if (rcv > 0) {
        v = rcv > INT_MAX / 2 ? INT_MAX / 2 : (int)rcv;
        uv_recv_buffer_size((uv_handle_t *)tcp, &v);
    }
}

int tuning_request_queue(const struct session *s)
{
    int64_t n = settings_int(&s->settings, SET_REQUEST_QUEUE_SIZE);
    return n < 1 ? 1 : n > 100000 ? 100000 : (int)n;
}

int tuning_init(struct session *s)
{
    struct tuning *tu = &s->tune;
    uv_check_init(s->loop, &tu->low_cpu_check);
    tu->low_cpu_check.data = s;
    uv_unref((uv_handle_t *)&tu->low_cpu_check);   /* never what keeps the loop alive */
    tu->check_open = true;
    int rc = settings_add_hook(&s->settings, SG_DISK, on_disk_changed, s);
    if (rc == 0)
        rc = settings_add_hook(&s->settings, SG_LOG, on_log_changed, s);
    if (rc == 0)
        rc = settings_add_hook(&s->settings, SG_LOW_CPU, on_low_cpu_changed, s);
    apply_disk(s);
    apply_low_cpu(s);
    apply_log(s);
    return rc;
}

void tuning_close(struct session *s)
{
    struct tuning *tu = &s->tune;
    if (tu->check_open && !uv_is_closing((uv_handle_t *)&tu->low_cpu_check))
        uv_close((uv_handle_t *)&tu->low_cpu_check, NULL);
    tu->check_open = false;
}

void tuning_storage_opened(struct session *s, struct torrent *t)
{
    if (t->st)
        storage_set_sync_writes(t->st, s->tune.sync_writes);
}
