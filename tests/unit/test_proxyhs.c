/* util/proxyhs: the requests each protocol sends, and every kind of reply
 * (granted, refused, malformed, split across reads, followed by tunnel
 * bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/proxyhs.h"

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 v6(const char *ip, uint16_t port)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

static void expect_out(struct buf *out, const void *want, size_t n)
{
    assert_int_equal(buf_size(out), n);
    assert_memory_equal(buf_head(out), want, n);
    buf_reset(out);
}

static int feed(struct proxyhs *h, const void *in, size_t n, size_t *used, struct buf *out)
{
    return proxyhs_feed(h, in, n, used, out);
}

static void socks4_granted(void **st)
{
    (void)st;
    struct proxyhs h;
    struct buf out = BUF_INIT;
    struct sockaddr_in a = v4("10.1.2.3", 6881);
    assert_int_equal(proxyhs_start(&h, PROXYHS_SOCKS4, (struct sockaddr *)&a, "bob", NULL, &out), 0);
    expect_out(&out, "\x04\x01\x1a\xe1\x0a\x01\x02\x03" "bob\0", 12);
    size_t used;
    /* split: 3 bytes, then the rest and two tunnel bytes */
    assert_int_equal(feed(&h, "\x00\x5a\x00", 3, &used, &out), 0);
    assert_int_equal(used, 3);
    assert_int_equal(feed(&h, "\x00\x00\x00\x00\x00" "BT", 7, &used, &out), 1);
    assert_int_equal(used, 5);
    assert_int_equal(buf_size(&out), 0);
    assert_string_equal(proxyhs_error(&h), "");
    assert_int_equal(feed(&h, "x", 1, &used, &out), 1);   /* open stays open, reads nothing */
    assert_int_equal(used, 0);
    buf_free(&out);
}

static void socks4_refused_and_ipv6(void **st)
{
    (void)st;
    struct proxyhs h;
    struct buf out = BUF_INIT;
    struct sockaddr_in a = v4("10.1.2.3", 80);
    proxyhs_start(&h, PROXYHS_SOCKS4, (struct sockaddr *)&a, NULL, NULL, &out);
    expect_out(&out, "\x04\x01\x00\x50\x0a\x01\x02\x03\0", 9);
    size_t used;
    assert_int_equal(feed(&h, "\x00\x5b\0\0\0\0\0\0", 8, &used, &out), -ECONNREFUSED);
    assert_non_null(strstr(proxyhs_error(&h), "rejected"));
    assert_int_equal(feed(&h, "\x00\x5a\0\0\0\0\0\0", 8, &used, &out), -ECONNREFUSED);   /* stays failed */
    proxyhs_start(&h, PROXYHS_SOCKS4, (struct sockaddr *)&a, NULL, NULL, &out);
    buf_reset(&out);
    assert_int_equal(feed(&h, "\x00\x5c\0\0\0\0\0\0", 8, &used, &out), -EACCES);
    proxyhs_start(&h, PROXYHS_SOCKS4, (struct sockaddr *)&a, NULL, NULL, &out);
    buf_reset(&out);
    assert_int_equal(feed(&h, "HTTP/1.0", 8, &used, &out), -EPROTO);
    struct sockaddr_in6 b = v6("::1", 80);
    assert_int_equal(proxyhs_start(&h, PROXYHS_SOCKS4, (struct sockaddr *)&b, NULL, NULL, &out), -EAFNOSUPPORT);
    assert_int_equal(buf_size(&out), 0);
    buf_free(&out);
}

static void socks5_noauth_ipv4(void **st)
{
    (void)st;
    struct proxyhs h;
    struct buf out = BUF_INIT;
    struct sockaddr_in a = v4("127.0.0.9", 51413);
    assert_int_equal(proxyhs_start(&h, PROXYHS_SOCKS5, (struct sockaddr *)&a, "", "x", &out), 0);
    expect_out(&out, "\x05\x01\x00", 3);
    size_t used;
    assert_int_equal(feed(&h, "\x05\x00", 2, &used, &out), 0);
    expect_out(&out, "\x05\x01\x00\x01\x7f\x00\x00\x09\xc8\xd5", 10);
    /* the reply a byte at a time */
    static const uint8_t rep[] = {5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90};
    for (size_t i = 0; i < sizeof rep - 1; i++) {
        assert_int_equal(feed(&h, rep + i, 1, &used, &out), 0);
        assert_int_equal(used, 1);
    }
    assert_int_equal(feed(&h, rep + 9, 1, &used, &out), 1);
    assert_int_equal(buf_size(&out), 0);
    buf_free(&out);
}

static void socks5_auth_ipv6_domain_reply(void **st)
{
    (void)st;
    struct proxyhs h;
    struct buf out = BUF_INIT;
    struct sockaddr_in6 a = v6("::1", 6881);
    assert_int_equal(proxyhs_start(&h, PROXYHS_SOCKS5, (struct sockaddr *)&a, "user", "p:ss", &out), 0);
    expect_out(&out, "\x05\x02\x00\x02", 4);
    size_t used;
    assert_int_equal(feed(&h, "\x05\x02", 2, &used, &out), 0);
    expect_out(&out, "\x01\x04user\x04p:ss", 11);
    assert_int_equal(feed(&h, "\x01\x00", 2, &used, &out), 0);
    uint8_t req[22] = {5, 1, 0, 4};
    req[19] = 1;
    req[20] = 0x1a;
    req[21] = 0xe1;
    expect_out(&out, req, sizeof req);
    /* BND.ADDR as a 4-byte name, then 3 tunnel bytes in the same read */
    assert_int_equal(feed(&h, "\x05\x00\x00\x03\x04host\x00\x50" "abc", 14, &used, &out), 1);
    assert_int_equal(used, 11);
    buf_free(&out);
}

static void socks5_failures(void **st)
{
    (void)st;
    struct proxyhs h;
    struct buf out = BUF_INIT;
    struct sockaddr_in a = v4("10.0.0.1", 1);
    size_t used;
    static const struct { const char *user; const char *bytes; size_t n; int rc; const char *msg; } cases[] = {
        {NULL, "\x05\xff", 2, -EACCES, "no acceptable"},
        {NULL, "\x05\x02", 2, -EACCES, "no acceptable"},   /* wants credentials we do not have */
        {NULL, "\x04\x00", 2, -EPROTO, "not a SOCKS5"},
        {NULL, "\x05\x01", 2, -EPROTO, "did not offer"},   /* GSSAPI */
        {"u", "\x05\x02\x01\x01", 4, -EACCES, "refused"},
        {NULL, "\x05\x00\x05\x05\x00\x01\x00", 7, -ECONNREFUSED, "connection refused"},
        {NULL, "\x05\x00\x05\x02\x00\x01\x00", 7, -EACCES, "ruleset"},
        {NULL, "\x05\x00\x05\x04\x00\x01\x00", 7, -EHOSTUNREACH, "host unreachable"},
        {NULL, "\x05\x00\x05\x03\x00\x01\x00", 7, -ENETUNREACH, "network"},
        {NULL, "\x05\x00\x05\x06\x00\x01\x00", 7, -ETIMEDOUT, "TTL"},
        {NULL, "\x05\x00\x05\x63\x00\x01\x00", 7, -ECONNREFUSED, "unknown"},
        {NULL, "\x05\x00\x05\x00\x00\x09\x00", 7, -EPROTO, "address type"},
        {NULL, "\x05\x00\x05\x00\x01\x01\x00", 7, -EPROTO, "not a SOCKS5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proxyhs_start(&h, PROXYHS_SOCKS5, (struct sockaddr *)&a, cases[i].user, "pw", &out);
        buf_reset(&out);
        int rc = feed(&h, cases[i].bytes, cases[i].n, &used, &out);
        assert_int_equal(rc, cases[i].rc);
        assert_non_null(strstr(proxyhs_error(&h), cases[i].msg));
    }
    char longpw[300];
    memset(longpw, 'p', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = 0;
    assert_int_equal(proxyhs_start(&h, PROXYHS_SOCKS5, (struct sockaddr *)&a, "u", longpw, &out), -ENAMETOOLONG);
    longpw[255] = 0;
    assert_int_equal(proxyhs_start(&h, PROXYHS_SOCKS5, (struct sockaddr *)&a, "u", longpw, &out), 0);
    buf_free(&out);
}

static void http_connect(void **st)
{
    (void)st;
    struct proxyhs h;
    struct buf out = BUF_INIT;
    struct sockaddr_in6 a = v6("::1", 6881);
    assert_int_equal(proxyhs_start(&h, PROXYHS_HTTP, (struct sockaddr *)&a, "Aladdin", "open sesame", &out), 0);
    const char *want = "CONNECT [::1]:6881 HTTP/1.1\r\nHost: [::1]:6881\r\n"
                       "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n";
    expect_out(&out, want, strlen(want));
    size_t used;
    const char *r1 = "HTTP/1.0 200 Connection established\r\nProxy-agent: x\r";
    assert_int_equal(feed(&h, r1, strlen(r1), &used, &out), 0);
    assert_int_equal(used, strlen(r1));
    assert_int_equal(feed(&h, "\n\r\n\x13" "Bit", 7, &used, &out), 1);
    assert_int_equal(used, 3);

    struct sockaddr_in b = v4("127.0.0.2", 80);
    proxyhs_start(&h, PROXYHS_HTTP, (struct sockaddr *)&b, NULL, NULL, &out);
    want = "CONNECT 127.0.0.2:80 HTTP/1.1\r\nHost: 127.0.0.2:80\r\n\r\n";
    expect_out(&out, want, strlen(want));
    const char *r2 = "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n";
    assert_int_equal(feed(&h, r2, strlen(r2), &used, &out), -EACCES);
    assert_string_equal(proxyhs_error(&h), "HTTP proxy: HTTP/1.1 407 Proxy Authentication Required");

    proxyhs_start(&h, PROXYHS_HTTP, (struct sockaddr *)&b, NULL, NULL, &out);
    const char *r3 = "HTTP/1.0 502 Bad Gateway\r\n\r\n";
    assert_int_equal(feed(&h, r3, strlen(r3), &used, &out), -ECONNREFUSED);
    proxyhs_start(&h, PROXYHS_HTTP, (struct sockaddr *)&b, NULL, NULL, &out);
    const char *r4 = "SSH-2.0-OpenSSH\r\n\r\n";
    assert_int_equal(feed(&h, r4, strlen(r4), &used, &out), -EPROTO);
    proxyhs_start(&h, PROXYHS_HTTP, (struct sockaddr *)&b, NULL, NULL, &out);
    const char *r5 = "HTTP/1.1 2x0 OK\r\n\r\n";
    assert_int_equal(feed(&h, r5, strlen(r5), &used, &out), -EPROTO);
    /* endless headers: refused at the cap, not read forever */
    proxyhs_start(&h, PROXYHS_HTTP, (struct sockaddr *)&b, NULL, NULL, &out);
    char big[PROXYHS_HTTP_MAX + 100];
    memset(big, 'a', sizeof big);
    int rc = feed(&h, big, sizeof big, &used, &out);
    assert_int_equal(rc, -EPROTO);
    assert_true(used < PROXYHS_HTTP_MAX);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(socks4_granted),       cmocka_unit_test(socks4_refused_and_ipv6),
        cmocka_unit_test(socks5_noauth_ipv4),   cmocka_unit_test(socks5_auth_ipv6_domain_reply),
        cmocka_unit_test(socks5_failures),      cmocka_unit_test(http_connect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
