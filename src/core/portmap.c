#include "core/portmap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#define ENABLE_STRNATPMPERR 1   /* natpmp.h declares strnatpmperr only then */
#include <natpmp.h>
#include <uv.h>

#include "bt/tracker/tracker.h"
#include "core/etracker.h"
#include "core/session.h"
#include "util/log.h"

#define DISCOVER_MS 1000             /* SSDP: how long answers to one search are awaited (MX 1) */
#define NATPMP_WAIT_MS 2000          /* one NAT-PMP request's answer */
#define NATPMP_PERMANENT_S 7200      /* NAT-PMP has no permanent lease: libtorrent's 2 h */
#define RETRY_MIN_S 60               /* nothing found: ask again after this, doubling */
#define RETRY_MAX_S 3600
#define LEASE_MAX_S 604800           /* UPnP IGD v2's longest lease */
#define IGD_RETRY_MS (10 * 60 * 1000)   /* NAT-PMP works but no IGD: SSDP only this often */
#define DESC "torrentd"

/* What one mapping is held by. */
enum { VIA_UPNP = 1, VIA_PMP = 2 };

struct pm_have {
    struct portmap_want w;
    uint8_t via;
};

/* The router as the jobs know it: written only by the job that runs (one
 * at a time) and read by the loop only between jobs. */
struct pm_router {
    bool igd;                        /* urls/data valid */
    struct UPNPUrls urls;
    struct IGDdatas data;
    char lanaddr[64];                /* our address as the IGD sees it */
    uint64_t igd_retry_ms;           /* no IGD: SSDP again after this (monotonic ms) */
    bool pmp;                        /* a NAT-PMP gateway answered */
    struct pm_have have[PORTMAP_MAX * 2];
    size_t n_have;
};

struct pm_job {
    uv_work_t work;
    struct portmap *pm;
    /* in */
    struct portmap_want want[PORTMAP_MAX];
    size_t n_want;
    int64_t lease_s;
    bool stop;                       /* remove everything, forget the router */
    bool rediscover;
    char bind[64];                   /* our listen address ("" = any) */
    /* out */
    char ext4[INET_ADDRSTRLEN];
    bool found;                      /* a UPnP IGD or a NAT-PMP gateway answered */
    bool lost_igd;                   /* the IGD stopped answering: discover again */
};

struct portmap {
    struct session *s;
    uv_timer_t timer;                /* renewal, retry */
    bool job_running, again, stopping, timer_open;
    bool rediscover;                 /* the next job looks for the IGD afresh */
    struct pm_router r;
    struct portmap_want cur[PORTMAP_MAX];   /* what the last job was asked to map */
    size_t n_cur;
    int64_t cur_lease;
    uint32_t retry_s;
    char ext4[INET_ADDRSTRLEN];
    size_t mapped;
};

static const char *proto_name(uint8_t p)
{
    return p == PORTMAP_UDP ? "UDP" : "TCP";
}

static const char *what_name(uint8_t w)
{
    return w == PORTMAP_WEBUI ? "WebUI" : w == PORTMAP_TRACKER ? "embedded tracker" : "peer";
}

/* ---- pure parts ---- */

static size_t add_want(struct portmap_want *out, size_t n, uint16_t port, uint8_t proto, uint8_t what)
{
    if (port == 0 || n >= PORTMAP_MAX)
        return n;
    for (size_t i = 0; i < n; i++)
        if (out[i].port == port && out[i].proto == proto)
            return n;   /* two users of one port: one mapping */
    out[n] = (struct portmap_want){port, proto, what};
    return n + 1;
}

size_t portmap_wanted(const struct session *s, uint16_t tracker_port, struct portmap_want out[PORTMAP_MAX])
{
    const struct settings *st = &s->settings;
    if (!settings_bool(st, SET_UPNP))
        return 0;
    size_t n = 0;
    n = add_want(out, n, s->listen_port, PORTMAP_TCP, PORTMAP_PEER);
    n = add_want(out, n, s->listen_port, PORTMAP_UDP, PORTMAP_PEER);
    if (settings_bool(st, SET_WEB_UI_UPNP))
        n = add_want(out, n, (uint16_t)settings_int(st, SET_WEB_UI_PORT), PORTMAP_TCP, PORTMAP_WEBUI);
    if (settings_bool(st, SET_EMBEDDED_TRACKER_PORT_FORWARDING))
        n = add_want(out, n, tracker_port, PORTMAP_TCP, PORTMAP_TRACKER);
    return n;
}

uint32_t portmap_renew_after(int64_t lease_s, bool natpmp)
{
    if (lease_s <= 0)
        lease_s = natpmp ? NATPMP_PERMANENT_S : 2 * 3600;
    int64_t half = lease_s / 2;
    return half < 1 ? 1 : half > 86400 ? 86400 : (uint32_t)half;
}

/* ---- the job (threadpool) ---- */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void igd_forget(struct pm_router *r)
{
    if (r->igd)
        FreeUPNPUrls(&r->urls);
    r->igd = false;
}

/* SSDP on the local network only: TTL 2, out of our listen interface when
 * we are bound to one.  Only a connected IGD (1) is used. */
static void igd_discover(struct pm_router *r, const char *bind)
{
    igd_forget(r);
    int err = 0;
    /* Only gateways, v1 then v2 (a v2 device answers v1 searches too):
     * upnpDiscover's four search targets would wait 4 x DISCOVER_MS on a
     * network without one. */
    static const char *const types[] = {"urn:schemas-upnp-org:device:InternetGatewayDevice:1",
                                        "urn:schemas-upnp-org:device:InternetGatewayDevice:2", NULL};
    struct UPNPDev *devs =
        upnpDiscoverDevices(types, DISCOVER_MS, *bind ? bind : NULL, NULL, UPNP_LOCAL_PORT_ANY, 0, 2, &err, 0);
    if (!devs)
        return;
    memset(&r->urls, 0, sizeof r->urls);
    memset(&r->data, 0, sizeof r->data);
    int rc = UPNP_GetValidIGD(devs, &r->urls, &r->data, r->lanaddr, sizeof r->lanaddr);
    freeUPNPDevlist(devs);
    if (rc == 1) {
        r->igd = true;
        return;
    }
    if (rc != 0)
        FreeUPNPUrls(&r->urls);
}

/* One NAT-PMP request and its answer, waited for at most NATPMP_WAIT_MS
 * (libnatpmp's own retries would take a minute). */
static int pmp_exchange(natpmp_t *n, natpmpresp_t *resp)
{
    uint64_t until = mono_ms() + NATPMP_WAIT_MS;
    for (;;) {
        struct timeval tv;
        if (getnatpmprequesttimeout(n, &tv) < 0)
            return -1;
        uint64_t now = mono_ms();
        if (now >= until)
            return NATPMP_ERR_NETWORKFAILURE;
        uint64_t left = until - now, want = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
        if (want > left) {
            tv.tv_sec = (time_t)(left / 1000);
            tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
        }
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(n->s, &fds);
        if (select(n->s + 1, &fds, NULL, NULL, &tv) < 0 && errno != EINTR)
            return -1;
        int rc = readnatpmpresponseorretry(n, resp);
        if (rc != NATPMP_TRYAGAIN)
            return rc;
    }
}

static int pmp_map(natpmp_t *n, const struct portmap_want *w, uint32_t lifetime)
{
    int proto = w->proto == PORTMAP_UDP ? NATPMP_PROTOCOL_UDP : NATPMP_PROTOCOL_TCP;
    if (sendnewportmappingrequest(n, proto, w->port, w->port, lifetime) < 0)
        return -1;
    natpmpresp_t resp;
    return pmp_exchange(n, &resp);
}

static int upnp_map(struct pm_router *r, const char *bind, const struct portmap_want *w, int64_t lease_s)
{
    char port[8], lease[24];
    snprintf(port, sizeof port, "%u", w->port);
    snprintf(lease, sizeof lease, "%lld", (long long)(lease_s > 0 ? lease_s : 0));
    /* The internal client is the address we listen on when bound to one,
     * else the one the IGD was reached from. */
    const char *client = *bind ? bind : r->lanaddr;
    int rc = UPNP_AddPortMapping(r->urls.controlURL, r->data.first.servicetype, port, port, client, DESC,
                                 proto_name(w->proto), NULL, lease);
    if (rc == 725 && lease_s > 0)   /* OnlyPermanentLeasesSupported */
        rc = UPNP_AddPortMapping(r->urls.controlURL, r->data.first.servicetype, port, port, client, DESC,
                                 proto_name(w->proto), NULL, "0");
    return rc;
}

static void upnp_unmap(struct pm_router *r, const struct portmap_want *w)
{
    char port[8];
    snprintf(port, sizeof port, "%u", w->port);
    UPNP_DeletePortMapping(r->urls.controlURL, r->data.first.servicetype, port, proto_name(w->proto), NULL);
}

static bool wanted(const struct pm_job *j, const struct portmap_want *w)
{
    for (size_t i = 0; i < j->n_want; i++)
        if (j->want[i].port == w->port && j->want[i].proto == w->proto)
            return true;
    return false;
}

/* Whether an IPv4 interface other than loopback is up. */
static bool have_lan(void)
{
    struct ifaddrs *ifa;
    if (getifaddrs(&ifa) != 0)
        return true;   /* cannot tell: let discovery find out */
    bool lan = false;
    for (struct ifaddrs *i = ifa; i && !lan; i = i->ifa_next)
        lan = i->ifa_addr && i->ifa_addr->sa_family == AF_INET && (i->ifa_flags & IFF_UP) &&
              !(i->ifa_flags & IFF_LOOPBACK);
    freeifaddrs(ifa);
    return lan;
}

static void job_run(uv_work_t *work)
{
    struct pm_job *j = work->data;
    struct pm_router *r = &j->pm->r;
    uint64_t deadline = mono_ms() + PORTMAP_STOP_MS;
    natpmp_t n;
    bool pmp_open = false;

    if (!j->stop && !have_lan()) {
        j->found = false;   /* only loopback: no router to find, nothing is sent */
        return;
    }
    if (!j->stop && (j->rediscover || (!r->igd && mono_ms() >= r->igd_retry_ms))) {
        igd_discover(r, j->bind);
        r->igd_retry_ms = r->igd ? 0 : mono_ms() + IGD_RETRY_MS;
    }
    /* NAT-PMP goes to the default gateway (no route: nothing is sent). */
    if (initnatpmp(&n, 0, 0) == 0) {
        pmp_open = true;
        if (!j->stop && sendpublicaddressrequest(&n) >= 0) {
            natpmpresp_t resp;
            r->pmp = pmp_exchange(&n, &resp) == 0;
            if (r->pmp)
                inet_ntop(AF_INET, &resp.pnu.publicaddress.addr, j->ext4, sizeof j->ext4);
        }
    } else
        r->pmp = false;

    /* Remove what is no longer wanted (everything when stopping). */
    size_t keep = 0;
    for (size_t i = 0; i < r->n_have; i++) {
        struct pm_have *h = &r->have[i];
        if (!j->stop && wanted(j, &h->w)) {
            r->have[keep++] = *h;
            continue;
        }
        if (j->stop && mono_ms() >= deadline)
            continue;   /* the router is slow: the lease ends the rest */
        if ((h->via & VIA_UPNP) && r->igd)
            upnp_unmap(r, &h->w);
        if ((h->via & VIA_PMP) && pmp_open)
            pmp_map(&n, &h->w, 0);
        log_msg(LOG_INFO, "UPnP/NAT-PMP: removed the mapping of %s port %s/%u", what_name(h->w.what),
                proto_name(h->w.proto), h->w.port);
    }
    r->n_have = keep;

    if (!j->stop) {
        uint32_t pmp_life = j->lease_s > 0 ? (uint32_t)(j->lease_s > UINT32_MAX ? UINT32_MAX : j->lease_s)
                                           : NATPMP_PERMANENT_S;
        for (size_t i = 0; i < j->n_want; i++) {
            const struct portmap_want *w = &j->want[i];
            uint8_t via = 0;
            int urc = 0, prc = 0;
            if (r->igd && (urc = upnp_map(r, j->bind, w, j->lease_s)) == 0)
                via |= VIA_UPNP;
            /* NAT-PMP where UPnP did not do it (libtorrent asks both; one
             * mapping per port is enough and keeps the router's table clean) */
            if (r->pmp && !via && (prc = pmp_map(&n, w, pmp_life)) == 0)
                via |= VIA_PMP;
            size_t k = 0;
            while (k < r->n_have && !(r->have[k].w.port == w->port && r->have[k].w.proto == w->proto))
                k++;
            bool is_new = k == r->n_have;
            if (via && is_new && r->n_have < sizeof r->have / sizeof r->have[0])
                r->have[r->n_have++] = (struct pm_have){*w, via};
            else if (!is_new) {
                if (via)
                    r->have[k].via = via;
                else
                    r->have[k] = r->have[--r->n_have];
            }
            /* qBittorrent's lines for libtorrent's portmap alerts */
            if (via && is_new)
                log_msg(LOG_INFO, "UPnP/NAT-PMP port mapping succeeded. Message: \"%s %s port %u mapped via%s%s\"",
                        what_name(w->what), proto_name(w->proto), w->port, via & VIA_UPNP ? " UPnP" : "",
                        via & VIA_PMP ? " NAT-PMP" : "");
            else if (!via && (r->igd || r->pmp))
                log_msg(LOG_WARNING, "UPnP/NAT-PMP port mapping failed. Message: \"%s %s port %u: %s%s%s\"",
                        what_name(w->what), proto_name(w->proto), w->port,
                        r->igd ? (urc < 0 ? "UPnP: no answer" : strupnperror(urc) ? strupnperror(urc) : "UPnP error")
                               : "",
                        r->igd && r->pmp ? "; " : "", r->pmp ? strnatpmperr(prc) : "");
            if (!via && r->igd && urc < 0)
                j->lost_igd = true;   /* the IGD went away: look again next time */
        }
        if (r->igd && !*j->ext4) {
            char ip[40] = "";
            struct in_addr a;
            if (UPNP_GetExternalIPAddress(r->urls.controlURL, r->data.first.servicetype, ip) == 0 &&
                inet_pton(AF_INET, ip, &a) == 1)
                inet_ntop(AF_INET, &a, j->ext4, sizeof j->ext4);
        }
    }
    if (pmp_open)
        closenatpmp(&n);
    j->found = r->igd || r->pmp;
    if (j->stop) {
        igd_forget(r);
        r->pmp = false;
    }
}

/* qBittorrent stores any number: <= 0 is permanent, and no IGD (v2)
 * grants more than a week. */
static int64_t lease_of(const struct session *s)
{
    int64_t lease = settings_int(&s->settings, SET_UPNP_LEASE_DURATION);
    return lease <= 0 ? 0 : lease > LEASE_MAX_S ? LEASE_MAX_S : lease;
}

static void schedule(struct portmap *pm, uint32_t after_s);
static void run_job(struct portmap *pm, bool stop, bool rediscover);

static void job_done(uv_work_t *work, int status)
{
    struct pm_job *j = work->data;
    struct portmap *pm = j->pm;
    struct session *s = pm->s;
    pm->job_running = false;
    (void)status;
    if (j->stop) {
        pm->mapped = 0;
        free(j);
        return;
    }
    pm->mapped = pm->r.n_have;
    if (*j->ext4 && strcmp(j->ext4, pm->ext4) != 0) {
        snprintf(pm->ext4, sizeof pm->ext4, "%s", j->ext4);
        log_msg(LOG_INFO, "Detected external IP. IP: \"%s\"", pm->ext4);
        if (!*settings_str(&s->settings, SET_ANNOUNCE_IP) && s->trackers)
            tracker_client_set_announce(s->trackers, pm->ext4, (uint16_t)settings_int(&s->settings, SET_ANNOUNCE_PORT));
    }
    pm->rediscover |= j->lost_igd;
    bool wanted_any = j->n_want > 0;
    free(j);
    if (pm->stopping) {
        if (pm->r.n_have > 0)
            run_job(pm, true, false);   /* portmap_stop came while this job ran */
        return;
    }
    if (pm->again) {
        pm->again = false;
        run_job(pm, false, false);
        return;
    }
    if (!wanted_any)
        return;
    if (!pm->r.igd && !pm->r.pmp) {
        /* Nothing answered: ask again later, less and less often. */
        pm->retry_s = pm->retry_s ? (pm->retry_s * 2 > RETRY_MAX_S ? RETRY_MAX_S : pm->retry_s * 2) : RETRY_MIN_S;
        schedule(pm, pm->retry_s);
        return;
    }
    pm->retry_s = 0;
    uint32_t a = portmap_renew_after(pm->cur_lease, false), b = portmap_renew_after(pm->cur_lease, true);
    schedule(pm, pm->r.pmp && b < a ? b : a);
}

static void run_job(struct portmap *pm, bool stop, bool rediscover)
{
    struct session *s = pm->s;
    if (pm->job_running) {
        pm->again = !stop;   /* a stop waits for the job in flight (portmap_stop) */
        pm->rediscover |= rediscover;
        return;
    }
    rediscover |= pm->rediscover;
    pm->rediscover = false;
    struct pm_job *j = calloc(1, sizeof *j);
    if (!j) {
        log_msg(LOG_WARNING, "UPnP/NAT-PMP: out of memory");
        return;
    }
    j->pm = pm;
    j->stop = stop;
    j->rediscover = rediscover;
    /* A router cannot forward to a loopback address: bound to one (tests,
     * a local-only setup) there is nothing to map and no one to ask. */
    bool loopback = s->listen_address && (strncmp(s->listen_address, "127.", 4) == 0 ||
                                          strcmp(s->listen_address, "::1") == 0);
    j->n_want = stop || loopback ? 0 : portmap_wanted(s, etracker_port(s), j->want);
    j->lease_s = lease_of(s);
    if (s->listen_address && strchr(s->listen_address, '.'))
        snprintf(j->bind, sizeof j->bind, "%s", s->listen_address);
    memcpy(pm->cur, j->want, sizeof pm->cur);
    pm->n_cur = j->n_want;
    pm->cur_lease = j->lease_s;
    if (!stop && j->n_want == 0 && pm->r.n_have == 0) {
        free(j);   /* nothing to map, nothing to remove: leave the network alone */
        return;
    }
    j->work.data = j;
    if (uv_queue_work(s->loop, &j->work, job_run, job_done) != 0) {
        free(j);
        return;
    }
    pm->job_running = true;
}

static void on_timer(uv_timer_t *t)
{
    struct portmap *pm = t->data;
    run_job(pm, false, pm->retry_s > 0);
}

static void schedule(struct portmap *pm, uint32_t after_s)
{
    if (pm->timer_open)
        uv_timer_start(&pm->timer, on_timer, (uint64_t)after_s * 1000, 0);
}

/* ---- loop side ---- */

static void on_settings(void *ud, const struct settings_mask *changed)
{
    (void)changed;
    portmap_update(ud);
}

int portmap_start(struct session *s)
{
    struct portmap *pm = calloc(1, sizeof *pm);
    if (!pm)
        return -ENOMEM;
    pm->s = s;
    s->portmap = pm;
    uv_timer_init(s->loop, &pm->timer);
    pm->timer.data = pm;
    pm->timer_open = true;
    int rc = settings_add_hook(&s->settings, SG_PORTMAP | SG_WEBUI_BIND, on_settings, s);
    if (rc != 0)
        return rc;
    portmap_update(s);
    return 0;
}

void portmap_update(struct session *s)
{
    struct portmap *pm = s->portmap;
    if (!pm || pm->stopping)
        return;
    struct portmap_want w[PORTMAP_MAX];
    size_t n = portmap_wanted(s, etracker_port(s), w);
    int64_t lease = lease_of(s);
    if (!pm->job_running && n == pm->n_cur && lease == pm->cur_lease && memcmp(w, pm->cur, n * sizeof *w) == 0)
        return;
    if (n == 0 && pm->timer_open)
        uv_timer_stop(&pm->timer);
    pm->retry_s = 0;
    run_job(pm, false, pm->n_cur == 0 && n > 0);   /* switched on: look for the router afresh */
}

static void on_timer_closed(uv_handle_t *h)
{
    (void)h;
}

void portmap_stop(struct session *s)
{
    struct portmap *pm = s->portmap;
    if (!pm || pm->stopping)
        return;
    pm->stopping = true;
    pm->again = false;
    if (pm->timer_open) {
        pm->timer_open = false;
        uv_close((uv_handle_t *)&pm->timer, on_timer_closed);
    }
    /* A job in flight ends within its own bounds; job_done then removes. */
    if (!pm->job_running && pm->r.n_have > 0)
        run_job(pm, true, false);
}

void portmap_free(struct session *s)
{
    struct portmap *pm = s->portmap;
    if (!pm)
        return;
    igd_forget(&pm->r);
    free(pm);
    s->portmap = NULL;
}

const char *portmap_external_v4(const struct session *s)
{
    return s->portmap ? s->portmap->ext4 : "";
}

size_t portmap_mapped(const struct session *s)
{
    return s->portmap ? s->portmap->mapped : 0;
}
