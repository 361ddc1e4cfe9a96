/* ops internals shared by the files of src/ops/ (not for other layers). */
#ifndef TD_OPS_OPS_INT_H
#define TD_OPS_OPS_INT_H

#include <uv.h>

#include "core/torrent_status.h"
#include "ops/ops.h"
#include "util/hmap.h"

struct torrent;
struct fetch_req;

/* What ops last saw of a torrent (keyed by its hex in ops.recs). */
struct ops_rec {
    char hex[41];
    struct torrent *t;           /* valid while the torrent is in the session */
    enum torrent_state state;
    char *category;              /* owned, "" = none */
    bool tracker_error;
    uint64_t stalled_since_ms;   /* 0 = not stalled */
    bool arr_sent;               /* import command sent (or tagged imported already) */
    uint64_t seen_gen;           /* ops.gen of the last full walk that found it */
};

struct ops_cat {
    char *name;
    size_t n;
};

struct ops_arr;

struct ops {
    struct session *s;
    uv_timer_t *timer;
    uint64_t seq;                /* session change_seq seen */
    bool synced;                 /* recs built once */
    uint64_t gen;
    struct hmap recs;            /* hex -> struct ops_rec */
    size_t state_n[TORRENT_STATE_COUNT];
    struct ops_cat *cats;
    size_t ncats;
    size_t tracker_errors;
    struct hmap stalled;         /* hex -> struct ops_rec, stalled ones */
    uint64_t ticks;
    struct ops_counters c;
    struct ops_guard_state guard;
    uint64_t started_ms;
    uint64_t dht_started_ms, watch_started_ms, rss_started_ms;
    struct ops_arr *arrs;
    size_t narrs;
    struct ops_probe *probes;    /* probes in flight */
    bool stopping;
};

/* ops.c */
bool ops_managed(const struct ops *o, const struct torrent *t);
void ops_tag(struct ops *o, struct torrent *t, const char *tag, bool on);

/* rules.c */
void ops_rules_tick(struct ops *o);
void ops_stalled_check(struct ops *o, struct ops_rec *r);

/* arr.c */
int ops_arr_configure(struct ops *o);
void ops_arr_free(struct ops *o);
/* A torrent finished or was seen finished: the import, once. */
void ops_arr_finished(struct ops *o, struct ops_rec *r);

#endif
