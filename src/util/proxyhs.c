/* proxyhs — see proxyhs.h. */
#include "util/proxyhs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

enum step {
    ST_S4_REPLY,       /* 8 bytes: VN CD DSTPORT DSTIP */
    ST_S5_METHOD,      /* 2 bytes: VER METHOD */
    ST_S5_AUTH,        /* 2 bytes: VER STATUS (RFC 1929) */
    ST_S5_HEAD,        /* 5 bytes: VER REP RSV ATYP and the address's first byte */
    ST_S5_TAIL,        /* the rest of BND.ADDR and BND.PORT */
    ST_HTTP,           /* status line and headers up to the blank line */
    ST_OPEN,
    ST_FAILED,
};

static int fail(struct proxyhs *h, int rc, const char *what, const char *detail)
{
    snprintf(h->err, sizeof h->err, "%s%s", what, detail ? detail : "");
    h->step = ST_FAILED;
    h->rc = rc;
    return rc;
}

static void put_target_socks5(struct proxyhs *h, struct buf *out)
{
    uint8_t req[4] = {5, 1, 0, h->ip6 ? 4 : 1};   /* CONNECT, IPv4 or IPv6 address */
    buf_append(out, req, sizeof req);
    buf_append(out, h->ip, h->ip6 ? 16 : 4);
    buf_append_be16(out, h->port);
}

static int put_http_connect(struct proxyhs *h, struct buf *out)
{
    char host[64];
    char a[46];
    if (!inet_ntop(h->ip6 ? AF_INET6 : AF_INET, h->ip, a, sizeof a))
        return -EAFNOSUPPORT;
    snprintf(host, sizeof host, h->ip6 ? "[%s]:%u" : "%s:%u", a, h->port);
    buf_appendf(out, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", host, host);
    if (h->auth) {
        /* Basic: base64("user:pass") (RFC 7617); OpenSSL's encoder. */
        char cred[512];
        int n = snprintf(cred, sizeof cred, "%s:%s", h->user, h->pass);
        unsigned char b64[4 * ((sizeof cred + 2) / 3) + 1];
        int m = EVP_EncodeBlock(b64, (const unsigned char *)cred, n);
        buf_appendf(out, "Proxy-Authorization: Basic %.*s\r\n", m, (const char *)b64);
        memset(cred, 0, sizeof cred);
    }
    buf_append_str(out, "\r\n");
    return 0;
}

int proxyhs_start(struct proxyhs *h, enum proxyhs_kind kind, const struct sockaddr *target, const char *user,
                  const char *pass, struct buf *out)
{
    memset(h, 0, sizeof *h);
    h->kind = kind;
    if (target->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)target;
        memcpy(h->ip, &in->sin_addr, 4);
        h->port = ntohs(in->sin_port);
    } else if (target->sa_family == AF_INET6 && kind != PROXYHS_SOCKS4) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)target;
        memcpy(h->ip, &in6->sin6_addr, 16);
        h->ip6 = true;
        h->port = ntohs(in6->sin6_port);
    } else {
        return fail(h, -EAFNOSUPPORT, "SOCKS4 reaches IPv4 addresses only", NULL);
    }
    if (!user)
        user = "";
    if (!pass)
        pass = "";
    if (strlen(user) > 255 || strlen(pass) > 255)
        return fail(h, -ENAMETOOLONG, "proxy username or password over 255 bytes", NULL);
    h->auth = *user != '\0';
    memcpy(h->user, user, strlen(user) + 1);
    memcpy(h->pass, pass, strlen(pass) + 1);
    int rc = 0;
    switch (kind) {
    case PROXYHS_SOCKS4: {
        uint8_t req[8] = {4, 1};   /* VN 4, CONNECT */
        wr_be16(req + 2, h->port);
        memcpy(req + 4, h->ip, 4);
        buf_append(out, req, sizeof req);
        buf_append(out, h->user, strlen(h->user) + 1);   /* USERID, NUL-terminated */
        h->step = ST_S4_REPLY;
        break;
    }
    case PROXYHS_SOCKS5: {
        /* Offer username/password only when we have some: a proxy that
         * picks it then gets them, one that needs none picks 0. */
        static const uint8_t noauth[] = {5, 1, 0}, both[] = {5, 2, 0, 2};
        buf_append(out, h->auth ? both : noauth, h->auth ? sizeof both : sizeof noauth);
        h->step = ST_S5_METHOD;
        break;
    }
    case PROXYHS_HTTP:
        rc = put_http_connect(h, out);
        h->step = ST_HTTP;
        break;
    default:
        rc = -EINVAL;
    }
    if (rc == 0 && buf_error(out))
        rc = -ENOMEM;
    if (rc != 0)
        return fail(h, rc, "cannot build the proxy request", NULL);
    return 0;
}

/* Bytes the current step's reply has in all (ST_HTTP: unknown, 0). */
static size_t need(const struct proxyhs *h)
{
    switch (h->step) {
    case ST_S4_REPLY: return 8;
    case ST_S5_METHOD:
    case ST_S5_AUTH: return 2;
    case ST_S5_HEAD: return 5;
    case ST_S5_TAIL:
        return h->rx[3] == 1 ? 10 : h->rx[3] == 4 ? 22 : (size_t)7 + h->rx[4];   /* ATYP 3: length-prefixed name */
    default: return 0;
    }
}

static const char *socks5_rep(uint8_t rep, int *rc)
{
    static const struct { int rc; const char *msg; } reps[] = {
        {-ECONNREFUSED, "general failure"},        {-EACCES, "connection not allowed by ruleset"},
        {-ENETUNREACH, "network unreachable"},      {-EHOSTUNREACH, "host unreachable"},
        {-ECONNREFUSED, "connection refused"},      {-ETIMEDOUT, "TTL expired"},
        {-EPROTO, "command not supported"},         {-EPROTO, "address type not supported"},
    };
    if (rep >= 1 && rep <= 8) {
        *rc = reps[rep - 1].rc;
        return reps[rep - 1].msg;
    }
    *rc = -ECONNREFUSED;
    return "unknown error";
}

/* The step's reply is complete in rx: act on it.  1 open, 0 go on, < 0 error. */
static int on_reply(struct proxyhs *h, struct buf *out)
{
    const uint8_t *r = h->rx;
    switch (h->step) {
    case ST_S4_REPLY:
        /* VN is 0 in the protocol; some servers echo 4. */
        if (r[0] != 0 && r[0] != 4)
            return fail(h, -EPROTO, "not a SOCKS4 reply", NULL);
        if (r[1] == 0x5a)
            return 1;
        if (r[1] == 0x5c || r[1] == 0x5d)
            return fail(h, -EACCES, "SOCKS4 proxy: identd check failed", NULL);
        return fail(h, -ECONNREFUSED, "SOCKS4 proxy: request rejected or failed", NULL);
    case ST_S5_METHOD:
        if (r[0] != 5)
            return fail(h, -EPROTO, "not a SOCKS5 reply", NULL);
        if (r[1] == 0) {
            put_target_socks5(h, out);
            h->step = ST_S5_HEAD;
            return 0;
        }
        if (r[1] == 2 && h->auth) {
            size_t ul = strlen(h->user), pl = strlen(h->pass);
            buf_append_u8(out, 1);   /* RFC 1929 version */
            buf_append_u8(out, (uint8_t)ul);
            buf_append(out, h->user, ul);
            buf_append_u8(out, (uint8_t)pl);
            buf_append(out, h->pass, pl);
            h->step = ST_S5_AUTH;
            return 0;
        }
        if (r[1] == 0xff || r[1] == 2)
            return fail(h, -EACCES, "SOCKS5 proxy: no acceptable authentication method (credentials needed?)",
                        NULL);
        return fail(h, -EPROTO, "SOCKS5 proxy chose a method we did not offer", NULL);
    case ST_S5_AUTH:
        /* VER is 1 (RFC 1929); some servers answer 5. */
        if (r[0] != 1 && r[0] != 5)
            return fail(h, -EPROTO, "not a SOCKS5 authentication reply", NULL);
        if (r[1] != 0)
            return fail(h, -EACCES, "SOCKS5 proxy: username or password refused", NULL);
        put_target_socks5(h, out);
        h->step = ST_S5_HEAD;
        return 0;
    case ST_S5_HEAD:
        if (r[0] != 5 || r[2] != 0)
            return fail(h, -EPROTO, "not a SOCKS5 reply", NULL);
        if (r[1] != 0) {
            int rc;
            const char *m = socks5_rep(r[1], &rc);
            return fail(h, rc, "SOCKS5 proxy: ", m);
        }
        if (r[3] != 1 && r[3] != 3 && r[3] != 4)
            return fail(h, -EPROTO, "SOCKS5 reply with an unknown address type", NULL);
        h->step = ST_S5_TAIL;
        return 0;
    case ST_S5_TAIL:
        return 1;
    default:
        return fail(h, -EPROTO, "internal state", NULL);
    }
}

/* HTTP: the reply ends at its blank line; only the status line matters
 * (RFC 9110: a 2xx to CONNECT opens the tunnel).  No HTTP library here reads
 * a response off a raw socket, and this is the status line alone. */
static int on_http(struct proxyhs *h)
{
    const char *s = (const char *)h->rx;
    if (h->rxlen < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[8] != ' ')
        return fail(h, -EPROTO, "not an HTTP reply", NULL);
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fail(h, -EPROTO, "not an HTTP reply", NULL);
        code = code * 10 + (s[i] - '0');
    }
    if (code >= 200 && code < 300)
        return 1;
    char line[64];
    size_t n = strcspn(s, "\r\n");
    snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), s);
    for (char *c = line; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    return fail(h, code == 407 || code == 403 ? -EACCES : -ECONNREFUSED, "HTTP proxy: ", line);
}

int proxyhs_feed(struct proxyhs *h, const uint8_t *in, size_t len, size_t *used, struct buf *out)
{
    *used = 0;
    if (h->step == ST_OPEN)
        return 1;
    if (h->step == ST_FAILED)
        return h->rc;
    size_t i = 0;
    int rc = 0;
    while (rc == 0 && i < len) {
        if (h->step == ST_HTTP) {
            /* A byte at a time: the tunnel's bytes may follow the blank line. */
            if (h->rxlen == sizeof h->rx - 1) {
                *used = i;
                return fail(h, -EPROTO, "HTTP proxy reply too long", NULL);
            }
            h->rx[h->rxlen++] = in[i++];
            h->rx[h->rxlen] = 0;
            if (h->rxlen >= 4 && memcmp(h->rx + h->rxlen - 4, "\r\n\r\n", 4) == 0)
                rc = on_http(h);
            continue;
        }
        size_t want = need(h);
        size_t take = want - h->rxlen < len - i ? want - h->rxlen : len - i;
        memcpy(h->rx + h->rxlen, in + i, take);
        h->rxlen += take;
        i += take;
        if (h->rxlen < want)
            break;
        int step = h->step;
        rc = on_reply(h, out);
        /* A new reply starts after each complete one, but the CONNECT
         * reply's tail follows its head in the same buffer. */
        if (rc == 0 && !(step == ST_S5_HEAD && h->step == ST_S5_TAIL))
            h->rxlen = 0;
    }
    *used = i;
    if (rc == 0 && buf_error(out))
        rc = fail(h, -ENOMEM, "out of memory", NULL);
    if (rc == 1)
        h->step = ST_OPEN;
    return rc;
}

const char *proxyhs_error(const struct proxyhs *h) { return h->step == ST_FAILED ? h->err : ""; }
