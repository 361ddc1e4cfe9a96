#include "core/smartban.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct record {
    uint32_t block;
    struct smartban_ip ip;
    uint8_t sha1[20];
};

/* One failed piece: what each sender sent, by block.  Failures are rare, so
 * a flat list searched linearly is enough. */
struct tracked {
    uint32_t piece;
    uint32_t nblocks;
    struct record *recs;
    size_t n, cap;
};

struct smartban {
    struct tracked *pieces[SMARTBAN_MAX_PIECES];   /* oldest first */
    size_t n;
};

struct smartban *smartban_new(void)
{
    return calloc(1, sizeof(struct smartban));
}

static void tracked_free(struct tracked *tp)
{
    if (tp) {
        free(tp->recs);
        free(tp);
    }
}

void smartban_free(struct smartban *sb)
{
    if (!sb)
        return;
    for (size_t i = 0; i < sb->n; i++)
        tracked_free(sb->pieces[i]);
    free(sb);
}

struct smartban_ip smartban_ip_of(const struct sockaddr *sa)
{
    struct smartban_ip ip;
    memset(&ip, 0, sizeof ip);
    if (sa && sa->sa_family == AF_INET) {
        ip.len = 4;
        memcpy(ip.b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) {
            ip.len = 4;
            memcpy(ip.b, a + 12, 4);
        } else {
            ip.len = 16;
            memcpy(ip.b, a, 16);
        }
    }
    return ip;
}

bool smartban_ip_equal(const struct smartban_ip *a, const struct smartban_ip *b)
{
    return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

void smartban_ip_str(const struct smartban_ip *ip, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = 0;
    if (ip->len == 4 || ip->len == 16)
        if (!inet_ntop(ip->len == 4 ? AF_INET : AF_INET6, ip->b, buf, (socklen_t)len))
            buf[0] = 0;
}

static struct tracked *find(const struct smartban *sb, uint32_t piece, size_t *idx)
{
    for (size_t i = 0; i < sb->n; i++)
        if (sb->pieces[i]->piece == piece) {
            if (idx)
                *idx = i;
            return sb->pieces[i];
        }
    return NULL;
}

bool smartban_tracked(const struct smartban *sb, uint32_t piece)
{
    return sb && find(sb, piece, NULL);
}

size_t smartban_count(const struct smartban *sb)
{
    return sb ? sb->n : 0;
}

/* Adds ip to ban[] unless it is there already or full; returns the count. */
static int add_ban(struct smartban_ip *ban, int n, int max_ban, const struct smartban_ip *ip)
{
    for (int i = 0; i < n; i++)
        if (smartban_ip_equal(&ban[i], ip))
            return n;
    if (n < max_ban)
        ban[n++] = *ip;
    return n;
}

static void forget(struct smartban *sb, size_t idx)
{
    tracked_free(sb->pieces[idx]);
    memmove(&sb->pieces[idx], &sb->pieces[idx + 1], (sb->n - idx - 1) * sizeof sb->pieces[0]);
    sb->n--;
}

static struct tracked *track(struct smartban *sb, uint32_t piece, uint32_t nblocks)
{
    struct tracked *tp = find(sb, piece, NULL);
    if (tp)
        return tp;
    tp = calloc(1, sizeof *tp);
    if (!tp)
        return NULL;
    tp->piece = piece;
    tp->nblocks = nblocks;
    if (sb->n == SMARTBAN_MAX_PIECES)
        forget(sb, 0);   /* the oldest: bounded memory beats a complete record */
    sb->pieces[sb->n++] = tp;
    return tp;
}

static int record(struct tracked *tp, uint32_t block, const struct smartban_ip *ip, const uint8_t sha1[20],
                  bool *changed)
{
    int same_block = 0;
    *changed = false;
    for (size_t i = 0; i < tp->n; i++) {
        struct record *r = &tp->recs[i];
        if (r->block != block)
            continue;
        if (smartban_ip_equal(&r->ip, ip)) {
            *changed = memcmp(r->sha1, sha1, 20) != 0;
            return 0;
        }
        same_block++;
    }
    if (same_block >= SMARTBAN_PER_BLOCK)
        return 0;
    if (tp->n == tp->cap) {
        size_t cap = tp->cap ? tp->cap * 2 : tp->nblocks;
        struct record *r = realloc(tp->recs, cap * sizeof *r);
        if (!r)
            return -ENOMEM;
        tp->recs = r;
        tp->cap = cap;
    }
    struct record *r = &tp->recs[tp->n++];
    r->block = block;
    r->ip = *ip;
    memcpy(r->sha1, sha1, 20);
    return 0;
}

int smartban_piece_failed(struct smartban *sb, uint32_t piece, uint32_t nblocks,
                          const struct smartban_ip *senders, const uint8_t (*sha1)[20],
                          struct smartban_ip *ban, int max_ban)
{
    int nb = 0;
    if (nblocks == 0)
        return 0;
    /* Sent by one address alone: nobody else can have spoiled it. */
    bool sole = senders[0].len != 0;
    for (uint32_t i = 1; sole && i < nblocks; i++)
        sole = smartban_ip_equal(&senders[i], &senders[0]);
    if (sole)
        nb = add_ban(ban, nb, max_ban, &senders[0]);

    struct tracked *tp = track(sb, piece, nblocks);
    if (!tp)
        return nb > 0 ? nb : -ENOMEM;
    int rc = 0;
    for (uint32_t i = 0; i < nblocks; i++) {
        if (senders[i].len == 0)
            continue;
        bool changed;
        if (record(tp, i, &senders[i], sha1[i], &changed) != 0)
            rc = -ENOMEM;
        /* An honest peer sends the same bytes every time. */
        if (changed)
            nb = add_ban(ban, nb, max_ban, &senders[i]);
    }
    return nb > 0 || rc == 0 ? nb : rc;
}

int smartban_piece_passed(struct smartban *sb, uint32_t piece, uint32_t nblocks, const uint8_t (*sha1)[20],
                          struct smartban_ip *ban, int max_ban)
{
    size_t idx;
    struct tracked *tp = find(sb, piece, &idx);
    if (!tp)
        return 0;
    int nb = 0;
    for (size_t i = 0; i < tp->n; i++) {
        const struct record *r = &tp->recs[i];
        if (r->block < nblocks && memcmp(r->sha1, sha1[r->block], 20) != 0)
            nb = add_ban(ban, nb, max_ban, &r->ip);
    }
    forget(sb, idx);
    return nb;
}
