/* xferhist — see xferhist.h. */
#include "core/xferhist.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/session.h"
#include "store/record.h"
#include "store/store.h"
#include "util/log.h"

_Static_assert(XFERHIST_DAYS == RECORD_XFERHIST_DAYS, "one number of days for the row and the history");

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil), so a local date becomes a day count
 * without mktime's DST games. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t xferhist_local_day(int64_t now)
{
    time_t t = (time_t)now;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return now / 86400;
    return days_from_civil((int64_t)tm.tm_year + 1900, (int64_t)tm.tm_mon + 1, tm.tm_mday);
}

void xferhist_init(struct xferhist *h, int64_t now)
{
    memset(h, 0, sizeof *h);
    h->day = xferhist_local_day(now);
    h->start = now;
}

static void shift(int64_t *v, int64_t by)
{
    if (by >= XFERHIST_DAYS) {
        memset(v, 0, XFERHIST_DAYS * sizeof *v);
        return;
    }
    memmove(v + by, v, (size_t)(XFERHIST_DAYS - by) * sizeof *v);
    memset(v, 0, (size_t)by * sizeof *v);
}

void xferhist_roll(struct xferhist *h, int64_t now)
{
    int64_t day = xferhist_local_day(now);
    if (day <= h->day)
        return;   /* same day, or the clock went back: never shift back */
    int64_t by = day - h->day;
    shift(h->dl, by);
    shift(h->ul, by);
    shift(h->dl_local, by);
    shift(h->ul_local, by);
    h->day = day;
    h->gen++;
}

void xferhist_add(struct xferhist *h, int64_t now, int64_t dl, int64_t ul, int64_t dl_local, int64_t ul_local)
{
    xferhist_roll(h, now);
    if (dl <= 0 && ul <= 0 && dl_local <= 0 && ul_local <= 0)
        return;
    h->dl[0] += dl > 0 ? dl : 0;
    h->ul[0] += ul > 0 ? ul : 0;
    h->dl_local[0] += dl_local > 0 ? dl_local : 0;
    h->ul_local[0] += ul_local > 0 ? ul_local : 0;
    h->gen++;
}

void xferhist_reset(struct xferhist *h, int64_t now)
{
    uint64_t gen = h->gen;
    xferhist_init(h, now);
    h->gen = gen + 1;
}

bool xferhist_addr_is_local(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
        return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 20) == 0xAC1 /* 172.16/12 */ ||
               (a >> 16) == 0xC0A8 /* 192.168/16 */ || (a >> 16) == 0xA9FE /* 169.254/16 */;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            struct sockaddr_in v4 = {.sin_family = AF_INET};
            memcpy(&v4.sin_addr, a->s6_addr + 12, 4);
            return xferhist_addr_is_local((const struct sockaddr *)&v4);
        }
        return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) || (a->s6_addr[0] & 0xFE) == 0xFC;
    }
    return false;
}

/* ---- the session's history ---- */

void xferhist_sample(struct session *s)
{
    struct session_xfer *x = &s->xfer;
    xferhist_add(&x->hist, (int64_t)time(NULL), s->dl_session - x->seen_dl, s->ul_session - x->seen_ul,
                 s->dl_local_session - x->seen_dl_local, s->ul_local_session - x->seen_ul_local);
    x->seen_dl = s->dl_session;
    x->seen_ul = s->ul_session;
    x->seen_dl_local = s->dl_local_session;
    x->seen_ul_local = s->ul_local_session;
}

const struct xferhist *xferhist_get(struct session *s)
{
    session_assert_loop_thread(s);
    xferhist_sample(s);
    return &s->xfer.hist;
}

void xferhist_load(struct session *s, const char *text)
{
    struct record_xferhist r;
    if (record_xferhist_decode(text, &r) != 0) {
        log_msg(LOG_WARNING, "stored transfer history unreadable: starting a new one");
        return;
    }
    struct xferhist *h = &s->xfer.hist;
    h->day = r.day;
    h->start = r.start;
    memcpy(h->dl, r.dl, sizeof h->dl);
    memcpy(h->ul, r.ul, sizeof h->ul);
    memcpy(h->dl_local, r.dl_local, sizeof h->dl_local);
    memcpy(h->ul_local, r.ul_local, sizeof h->ul_local);
    xferhist_roll(h, (int64_t)time(NULL));
    s->xfer.saved_gen = h->gen;
}

static int put(struct session *s, void (*done)(void *ud, int rc), void *ud)
{
    const struct xferhist *h = &s->xfer.hist;
    struct record_xferhist r = {.day = h->day, .start = h->start};
    memcpy(r.dl, h->dl, sizeof r.dl);
    memcpy(r.ul, h->ul, sizeof r.ul);
    memcpy(r.dl_local, h->dl_local, sizeof r.dl_local);
    memcpy(r.ul_local, h->ul_local, sizeof r.ul_local);
    char *v = NULL;
    int rc = record_xferhist_encode(&r, &v);
    if (rc == 0)
        rc = store_kv_put(s->store, "stats", "xferhist", v, done, ud);
    free(v);
    if (rc == 0)
        s->xfer.saved_gen = h->gen;
    return rc;
}

void xferhist_save(struct session *s)
{
    if (!s->store)
        return;
    xferhist_sample(s);
    if (s->xfer.hist.gen != s->xfer.saved_gen)
        put(s, NULL, NULL);
}

int xferhist_clear(struct session *s, void (*done)(void *ud, int rc), void *ud)
{
    session_assert_loop_thread(s);
    if (!s->store)
        return -ESHUTDOWN;
    xferhist_sample(s);   /* what came before the reset is not counted after it */
    xferhist_reset(&s->xfer.hist, (int64_t)time(NULL));
    return put(s, done, ud);
}
