#include "core/banlist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ipfilter.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/torrent.h"
#include "util/log.h"

#define BANLIST_LOG_SIZE 1000
#define BANLIST_MAX 100000

struct banlist {
    char **ips;          /* normalized textual addresses, unsorted (bans are rare) */
    bool *from_pref;
    size_t n, cap;
    struct banlist_entry log[BANLIST_LOG_SIZE];
    int64_t next_id;
};

/* inet_pton/ntop round trip: "::ffff:1.2.3.4" and "1.2.3.4" compare equal. */
static int normalize(const char *ip, char *out, size_t outlen)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, ip, b) == 1)
        return inet_ntop(AF_INET, b, out, (socklen_t)outlen) ? 0 : -EINVAL;
    if (inet_pton(AF_INET6, ip, b) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(b, mapped, 12) == 0)
            return inet_ntop(AF_INET, b + 12, out, (socklen_t)outlen) ? 0 : -EINVAL;
        return inet_ntop(AF_INET6, b, out, (socklen_t)outlen) ? 0 : -EINVAL;
    }
    return -EINVAL;
}

int banlist_init(struct session *s)
{
    s->bans = calloc(1, sizeof *s->bans);
    return s->bans ? 0 : -ENOMEM;
}

void banlist_free(struct session *s)
{
    struct banlist *b = s->bans;
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->ips[i]);
    free(b->ips);
    free(b->from_pref);
    free(b);
    s->bans = NULL;
}

void banlist_log(struct session *s, const char *ip, bool blocked, const char *reason)
{
    struct banlist *b = s->bans;
    if (!b)
        return;
    struct banlist_entry *e = &b->log[b->next_id % BANLIST_LOG_SIZE];
    e->id = b->next_id++;
    e->timestamp = (int64_t)time(NULL);
    snprintf(e->ip, sizeof e->ip, "%s", ip);
    e->blocked = blocked;
    snprintf(e->reason, sizeof e->reason, "%s", reason);
}

static ssize_t find(struct banlist *b, const char *norm)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->ips[i], norm) == 0)
            return (ssize_t)i;
    return -1;
}

static int add(struct banlist *b, const char *norm, bool from_pref)
{
    if (find(b, norm) >= 0)
        return 0;
    if (b->n >= BANLIST_MAX)
        return -ENOSPC;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        char **ips = realloc(b->ips, cap * sizeof *ips);
        if (!ips)
            return -ENOMEM;
        b->ips = ips;
        bool *fp = realloc(b->from_pref, cap * sizeof *fp);
        if (!fp)
            return -ENOMEM;
        b->from_pref = fp;
        b->cap = cap;
    }
    b->ips[b->n] = strdup(norm);
    if (!b->ips[b->n])
        return -ENOMEM;
    b->from_pref[b->n++] = from_pref;
    return 1;
}

static bool same_ip(const struct peer *p, const char *norm)
{
    char pn[64];
    return normalize(p->ip, pn, sizeof pn) == 0 && strcmp(pn, norm) == 0;
}

static void disconnect(struct session *s, const char *norm)
{
    /* Also those still in the handshake: they would join a torrent next. */
    struct peer *next;
    for (struct peer *p = s->handshaking; p; p = next) {
        next = p->next;
        if (same_ip(p, norm))
            peer_close(p, "banned");
    }
    for (size_t i = 0; i < s->num_torrents; i++) {
        struct torrent *t = s->torrents[i];
        for (struct peer *p = t->peers; p; p = next) {
            next = p->next;
            if (same_ip(p, norm))
                peer_close(p, "banned");
        }
    }
}

static int ban(struct session *s, const char *ip, bool blocked, const char *reason)
{
    char norm[64];
    if (!s->bans || normalize(ip, norm, sizeof norm) != 0)
        return -EINVAL;
    int rc = add(s->bans, norm, false);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        banlist_log(s, norm, blocked, reason);
        log_msg(blocked ? LOG_INFO : LOG_WARNING, "banned peer %s: %s", norm, reason);
    }
    disconnect(s, norm);
    return 0;
}

int banlist_ban(struct session *s, const char *ip, const char *reason)
{
    return ban(s, ip, true, reason);
}

int banlist_ban_peer(struct session *s, const char *ip, const char *reason)
{
    return ban(s, ip, false, reason);
}

bool banlist_is_banned(struct session *s, const char *ip)
{
    char norm[64];
    if (!s->bans || s->bans->n == 0 || normalize(ip, norm, sizeof norm) != 0)
        return false;
    return find(s->bans, norm) >= 0;
}

const char *banlist_refusal(struct session *s, const char *ip)
{
    if (banlist_is_banned(s, ip))
        return "banned IP address";
    if (ipfilter_blocks_text(s, ip))
        return "IP filter";
    return NULL;
}

void banlist_set_pref(struct session *s, const char *list)
{
    struct banlist *b = s->bans;
    if (!b)
        return;
    size_t w = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (b->from_pref[i]) {
            free(b->ips[i]);
            continue;
        }
        b->ips[w] = b->ips[i];
        b->from_pref[w++] = false;
    }
    b->n = w;
    char *dup = strdup(list ? list : ""), *save = NULL;
    if (!dup)
        return;
    for (char *tok = strtok_r(dup, "\n\r,; ", &save); tok; tok = strtok_r(NULL, "\n\r,; ", &save)) {
        char norm[64];
        if (normalize(tok, norm, sizeof norm) == 0 && add(b, norm, true) == 1)
            disconnect(s, norm);
    }
    free(dup);
}

void banlist_entries(struct session *s, int64_t after_id,
                     void (*fn)(const struct banlist_entry *e, void *ud), void *ud)
{
    struct banlist *b = s->bans;
    if (!b)
        return;
    int64_t first = b->next_id > BANLIST_LOG_SIZE ? b->next_id - BANLIST_LOG_SIZE : 0;
    if (after_id + 1 > first)
        first = after_id + 1;
    for (int64_t id = first; id < b->next_id; id++)
        fn(&b->log[id % BANLIST_LOG_SIZE], ud);
}
