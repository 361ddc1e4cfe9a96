/* web/auth: passwords in qBittorrent's format, CIDR matching, CSRF and
 * Host header rules, client address behind proxies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>

#include "util/log.h"
#include "web/auth.h"

/* Made exactly as /work/shared/anchors/anchorlib.py qbt_password_hash()
 * does (hashlib.pbkdf2_hmac sha512, 100000, 64 bytes, b64) with a fixed salt. */
static const char VEC_ADMIN[] =
    "@ByteArray(AAECAwQFBgcICQoLDA0ODw==:UC4grCR8uxnR4Gzyoule02IP9X8mRb7SaEfCylvs19kyzc76Vdb/"
    "0xQlSKu43sz2Dl4vz2SIZymUO3PvTxIfVQ==)";
static const char VEC_UTF8[] =
    "@ByteArray(/v7+/v7+/v7+/v7+/v7+/g==:I2rUe8L6BHTPYX/69QDVl1Cz2uwYboxEsJ3D5rTXtJky09M2FiCd55ZmV+"
    "uUYJzbjr0kU2GqdcBIY4lPaMVNcg==)";

static void known_vectors(void **state)
{
    (void)state;
    assert_true(web_auth_check_password("adminadmin", VEC_ADMIN));
    assert_false(web_auth_check_password("adminadmiN", VEC_ADMIN));
    assert_false(web_auth_check_password("", VEC_ADMIN));
    assert_true(web_auth_check_password("p\xc3\xa4ssw\xc3\xb6rd", VEC_UTF8));
    assert_false(web_auth_check_password("password", VEC_UTF8));

    /* As found in qBittorrent.conf: quoted, and the bare QByteArray value. */
    char quoted[300], bare[300];
    snprintf(quoted, sizeof(quoted), "\"%s\"", VEC_ADMIN);
    assert_true(web_auth_check_password("adminadmin", quoted));
    size_t n = strlen(VEC_ADMIN) - strlen("@ByteArray(") - 1;
    memcpy(bare, VEC_ADMIN + strlen("@ByteArray("), n);
    bare[n] = 0;
    assert_true(web_auth_check_password("adminadmin", bare));
}

static void round_trip(void **state)
{
    (void)state;
    char h1[WEB_AUTH_HASH_MAX], h2[WEB_AUTH_HASH_MAX];
    assert_int_equal(web_auth_hash_password("s3cret pass", h1, sizeof(h1)), 0);
    assert_int_equal(web_auth_hash_password("s3cret pass", h2, sizeof(h2)), 0);
    /* @ByteArray(<24 chars b64 of 16 bytes>:<88 chars b64 of 64 bytes>) */
    assert_int_equal(strlen(h1), strlen("@ByteArray(") + 24 + 1 + 88 + 1);
    assert_memory_equal(h1, "@ByteArray(", 11);
    assert_int_equal(h1[11 + 24], ':');
    assert_int_equal(h1[strlen(h1) - 1], ')');
    assert_string_not_equal(h1, h2);   /* random salt */
    assert_true(web_auth_check_password("s3cret pass", h1));
    assert_true(web_auth_check_password("s3cret pass", h2));
    assert_false(web_auth_check_password("s3cret pas", h1));
    assert_false(web_auth_check_password("s3cret pass ", h1));

    char small[20];
    assert_int_equal(web_auth_hash_password("x", small, sizeof(small)), -ENOSPC);
}

static void malformed_stored(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "@ByteArray()", "@ByteArray(:)", "nocolon", "@ByteArray(AAECAwQFBgcICQoLDA0ODw==)",
        "@ByteArray(AAECAwQFBgcICQoLDA0ODw==:)", "@ByteArray(:UC4grCR8)", "@ByteArray(!!!!:?!?!)",
        "@ByteArray(AAECAwQFBgcICQoLDA0ODw=:UC4grCR8uxnR4Gzyoule02IP9X8mRb7SaEfCylvs19k=)",
        "adminadmin",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(web_auth_check_password("adminadmin", bad[i]));
    assert_false(web_auth_check_password(NULL, VEC_ADMIN));
    assert_false(web_auth_check_password("adminadmin", NULL));
    /* A huge stored value is rejected without work. */
    char *huge = malloc(100000);
    memset(huge, 'A', 99999);
    huge[99999] = 0;
    huge[50] = ':';
    assert_false(web_auth_check_password("adminadmin", huge));
    free(huge);
}

static void equal_is_exact(void **state)
{
    (void)state;
    assert_true(web_auth_equal("admin", "admin"));
    assert_true(web_auth_equal("", ""));
    assert_false(web_auth_equal("admin", "admi"));
    assert_false(web_auth_equal("admi", "admin"));
    assert_false(web_auth_equal("admin", "Admin"));
    assert_false(web_auth_equal("admin\0x", "admin "));
    assert_false(web_auth_equal(NULL, "admin"));
    assert_false(web_auth_equal("", "a"));
}

static void cidr(void **state)
{
    (void)state;
    const char *list = "10.0.0.0/8, 192.168.1.5;fd00::/8\n 172.16.0.0/12  bogus 1.2.3.4/33 ::ffff:0:0/999";
    assert_true(web_auth_ip_in_subnets("10.1.2.3", list));
    assert_true(web_auth_ip_in_subnets("::ffff:10.1.2.3", list));   /* v4-mapped */
    assert_true(web_auth_ip_in_subnets("192.168.1.5", list));
    assert_false(web_auth_ip_in_subnets("192.168.1.6", list));
    assert_true(web_auth_ip_in_subnets("fd12:3456::1", list));
    assert_false(web_auth_ip_in_subnets("fe80::1", list));
    assert_true(web_auth_ip_in_subnets("172.31.255.255", list));
    assert_false(web_auth_ip_in_subnets("172.32.0.0", list));
    assert_false(web_auth_ip_in_subnets("11.0.0.1", list));
    assert_false(web_auth_ip_in_subnets("1.2.3.4", list));          /* /33 is invalid */
    assert_false(web_auth_ip_in_subnets("not an ip", list));
    assert_false(web_auth_ip_in_subnets("10.0.0.1", ""));
    assert_false(web_auth_ip_in_subnets("10.0.0.1", NULL));
    assert_true(web_auth_ip_in_subnets("8.8.8.8", "0.0.0.0/0"));
    assert_false(web_auth_ip_in_subnets("2001:db8::1", "0.0.0.0/0"));
    assert_true(web_auth_ip_in_subnets("2001:db8::1", "::/0"));
    assert_true(web_auth_ip_in_subnets("2001:db8:0:1::7", "2001:db8::/47"));
    assert_false(web_auth_ip_in_subnets("2001:db8:2::7", "2001:db8::/47"));
    assert_true(web_auth_ip_in_subnets("192.168.3.77", "192.168.2.0/23"));
    assert_false(web_auth_ip_in_subnets("192.168.4.1", "192.168.2.0/23"));
    assert_false(web_auth_ip_in_subnets("10.0.0.1", "10.0.0.0/"));
    assert_false(web_auth_ip_in_subnets("10.0.0.1", "10.0.0.0/abc"));

    assert_true(web_auth_is_loopback("127.0.0.1"));
    assert_true(web_auth_is_loopback("127.8.9.1"));
    assert_true(web_auth_is_loopback("::1"));
    assert_true(web_auth_is_loopback("::ffff:127.0.0.1"));
    assert_false(web_auth_is_loopback("::2"));
    assert_false(web_auth_is_loopback("10.0.0.1"));
    assert_false(web_auth_is_loopback("localhost"));
}

static void csrf(void **state)
{
    (void)state;
    /* API clients send neither header. */
    assert_false(web_auth_is_cross_site(NULL, NULL, "localhost:8080", NULL));
    assert_false(web_auth_is_cross_site("", "", "localhost:8080", NULL));
    assert_false(web_auth_is_cross_site("http://localhost:8080", NULL, "localhost:8080", NULL));
    assert_false(web_auth_is_cross_site("https://LOCALHOST:8080", NULL, "localhost:8080", NULL));
    assert_true(web_auth_is_cross_site("http://localhost", NULL, "localhost:8080", NULL));
    assert_true(web_auth_is_cross_site("http://evil.com:8080", NULL, "localhost:8080", NULL));
    assert_true(web_auth_is_cross_site("null", NULL, "localhost:8080", NULL));
    /* Origin wins over Referer */
    assert_true(web_auth_is_cross_site("http://evil.com", "http://localhost:8080/", "localhost:8080", NULL));
    assert_false(web_auth_is_cross_site(NULL, "http://localhost:8080/x/y?z=1", "localhost:8080", NULL));
    assert_true(web_auth_is_cross_site(NULL, "http://localhost:8081/", "localhost:8080", NULL));
    /* X-Forwarded-Host is the target when present */
    assert_false(web_auth_is_cross_site("https://qb.example.com", NULL, "127.0.0.1:8080", "qb.example.com"));
    assert_true(web_auth_is_cross_site("http://127.0.0.1:8080", NULL, "127.0.0.1:8080", "qb.example.com"));
    assert_false(web_auth_is_cross_site("http://[::1]:8080", NULL, "[::1]:8080", NULL));
    assert_true(web_auth_is_cross_site("http://[::2]:8080", NULL, "[::1]:8080", NULL));
    assert_true(web_auth_is_cross_site("http://localhost:8080", NULL, NULL, NULL));
}

static void host_header(void **state)
{
    (void)state;
    assert_true(web_auth_host_valid("127.0.0.1:8080", 8080, "127.0.0.1", ""));
    assert_true(web_auth_host_valid("127.0.0.1", 8080, "127.0.0.1", ""));
    assert_false(web_auth_host_valid("127.0.0.1:8081", 8080, "127.0.0.1", "*"));  /* port mismatch */
    assert_false(web_auth_host_valid("evil.com:8080", 8080, "127.0.0.1", "example.com"));
    assert_true(web_auth_host_valid("evil.com:8080", 8080, "127.0.0.1", "*"));
    assert_true(web_auth_host_valid("QB.Example.COM", 8080, "127.0.0.1", "foo.org; *.example.com"));
    assert_false(web_auth_host_valid("example.org", 8080, "127.0.0.1", "foo.org; *.example.com"));
    assert_true(web_auth_host_valid("[::1]:8080", 8080, "::1", ""));
    assert_true(web_auth_host_valid("127.0.0.1:8080", 8080, "::ffff:127.0.0.1", ""));
    assert_false(web_auth_host_valid(NULL, 8080, "127.0.0.1", "example.com"));
    assert_false(web_auth_host_valid("", 8080, "127.0.0.1", ""));
}

static void client_ip(void **state)
{
    (void)state;
    char out[64];
    web_auth_client_ip("::ffff:10.0.0.2", "8.8.8.8", false, "10.0.0.0/8", out, sizeof(out));
    assert_string_equal(out, "10.0.0.2");
    web_auth_client_ip("10.0.0.2", "192.168.1.1, 8.8.8.8, 1.1.1.1", true, "10.0.0.0/8", out, sizeof(out));
    assert_string_equal(out, "8.8.8.8");
    web_auth_client_ip("10.0.0.2", "192.168.1.1, junk", true, "10.0.0.0/8", out, sizeof(out));
    assert_string_equal(out, "192.168.1.1");
    web_auth_client_ip("10.0.0.2", "junk", true, "10.0.0.0/8", out, sizeof(out));
    assert_string_equal(out, "10.0.0.2");
    /* Not from a trusted proxy: X-Forwarded-For is ignored. */
    web_auth_client_ip("11.0.0.2", "8.8.8.8", true, "10.0.0.0/8", out, sizeof(out));
    assert_string_equal(out, "11.0.0.2");
    web_auth_client_ip("10.0.0.2", "2001:db8::5", true, "10.0.0.0/8", out, sizeof(out));
    assert_string_equal(out, "2001:db8::5");
}

int main(void)
{
    log_set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_vectors),   cmocka_unit_test(round_trip), cmocka_unit_test(malformed_stored),
        cmocka_unit_test(equal_is_exact),  cmocka_unit_test(cidr),       cmocka_unit_test(csrf),
        cmocka_unit_test(host_header),     cmocka_unit_test(client_ip),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    log_shutdown();
    return rc;
}
