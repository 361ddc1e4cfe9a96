/* web/auth — see auth.h. */
#include "web/auth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/log.h"

#define PBKDF2_ITERATIONS 100000
#define SALT_LEN 16
#define KEY_LEN 64
#define STORED_MAX 512          /* longest stored hash we bother parsing */
#define LIST_MAX 65536          /* longest subnet / domain list we look at */

void web_auth_config_defaults(struct web_auth_config *c)
{
    memset(c, 0, sizeof(*c));
    c->username = "admin";
    c->password_hash = "";
    c->max_auth_fail_count = 5;
    c->ban_duration_s = 3600;
    c->session_timeout_s = 3600;
    c->csrf_protection = true;
    c->clickjacking_protection = true;
    c->host_header_validation = true;
    c->domain_list = "*";
    c->bypass_auth_subnet_whitelist = "";
    c->secure_cookie = true;
    c->custom_headers = "";
    c->trusted_proxies = "";
}

/* ---- passwords ---------------------------------------------------------- */

int web_auth_hash_password(const char *plain, char *out, size_t outlen)
{
    uint8_t salt[SALT_LEN], key[KEY_LEN];
    char salt64[4 * ((SALT_LEN + 2) / 3) + 1], key64[4 * ((KEY_LEN + 2) / 3) + 1];

    if (!plain || !out)
        return -EINVAL;
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return -EIO;
    if (PKCS5_PBKDF2_HMAC(plain, (int)strlen(plain), salt, sizeof(salt), PBKDF2_ITERATIONS,
                          EVP_sha512(), sizeof(key), key) != 1)
        return -EIO;
    base64_encode(salt, sizeof(salt), salt64, sizeof(salt64));   /* sized above: cannot fail */
    base64_encode(key, sizeof(key), key64, sizeof(key64));
    int n = snprintf(out, outlen, "@ByteArray(%s:%s)", salt64, key64);
    OPENSSL_cleanse(key, sizeof(key));
    if (n < 0 || (size_t)n >= outlen)
        return -ENOSPC;
    return 0;
}

bool web_auth_check_password(const char *plain, const char *stored)
{
    if (!plain || !stored)
        return false;
    size_t n = strnlen(stored, STORED_MAX + 1);
    if (n > STORED_MAX)
        return false;
    const char *p = stored, *end = stored + n;
    if (end - p >= 2 && *p == '"' && end[-1] == '"')
        p++, end--;
    static const char pre[] = "@ByteArray(";
    if ((size_t)(end - p) > sizeof(pre) - 1 && memcmp(p, pre, sizeof(pre) - 1) == 0 && end[-1] == ')')
        p += sizeof(pre) - 1, end--;
    const char *colon = memchr(p, ':', (size_t)(end - p));
    if (!colon)
        return false;

    uint8_t salt[STORED_MAX], want[STORED_MAX], got[STORED_MAX];
    int slen = base64_decode(p, (size_t)(colon - p), salt, sizeof(salt));
    int klen = base64_decode(colon + 1, (size_t)(end - colon - 1), want, sizeof(want));
    if (slen <= 0 || klen <= 0)
        return false;
    if (PKCS5_PBKDF2_HMAC(plain, (int)strlen(plain), salt, slen, PBKDF2_ITERATIONS,
                          EVP_sha512(), klen, got) != 1)
        return false;
    bool ok = CRYPTO_memcmp(got, want, (size_t)klen) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return ok;
}

bool web_auth_equal(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    size_t la = strlen(a), lb = strlen(b);
    /* Compare over b's length whatever a is, so timing reveals only lb. */
    unsigned diff = la != lb;
    for (size_t i = 0; i < lb; i++)
        diff |= (unsigned)(uint8_t)(i < la ? a[i] : 0) ^ (uint8_t)b[i];
    return diff == 0;
}

/* ---- addresses ---------------------------------------------------------- */

/* Parses an address into 16 bytes (IPv4 as v4-mapped v6). */
static bool ip_parse(const char *s, size_t n, uint8_t out[16], bool *is_v4)
{
    char tmp[INET6_ADDRSTRLEN + 8];
    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    /* "[::1]" as it appears in URLs */
    char *t = tmp;
    if (t[0] == '[' && n > 2 && t[n - 1] == ']') {
        t[n - 1] = 0;
        t++;
    }
    struct in_addr a4;
    if (inet_pton(AF_INET, t, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        *is_v4 = true;
        return true;
    }
    if (inet_pton(AF_INET6, t, out) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        *is_v4 = memcmp(out, mapped, 12) == 0;
        return true;
    }
    return false;
}

int web_auth_ip_normalize(const char *ip, char *out, size_t outlen)
{
    uint8_t a[16];
    bool v4;
    if (!ip || !ip_parse(ip, strlen(ip), a, &v4))
        return -EINVAL;
    const char *r = v4 ? inet_ntop(AF_INET, a + 12, out, (socklen_t)outlen)
                       : inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
    return r ? 0 : -ENOSPC;
}

static bool prefix_match(const uint8_t a[16], const uint8_t net[16], unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

/* One whitelist entry "addr" or "addr/bits". */
static bool entry_contains(const char *e, size_t n, const uint8_t ip[16], bool ip_v4)
{
    const char *slash = memchr(e, '/', n);
    size_t alen = slash ? (size_t)(slash - e) : n;
    uint8_t net[16];
    bool v4;
    if (!ip_parse(e, alen, net, &v4))
        return false;
    unsigned bits = v4 ? 32 : 128;
    if (slash) {
        const char *b = slash + 1;
        size_t blen = n - alen - 1;
        if (blen == 0 || blen > 3)
            return false;
        unsigned v = 0;
        for (size_t i = 0; i < blen; i++) {
            if (!isdigit((unsigned char)b[i]))
                return false;
            v = v * 10 + (unsigned)(b[i] - '0');
        }
        if (v > bits)
            return false;
        bits = v;
    }
    if (v4 != ip_v4 && !(v4 && bits == 0))
        return false;
    return prefix_match(ip, net, v4 ? 96 + bits : bits);
}

bool web_auth_ip_in_subnets(const char *ip, const char *list)
{
    uint8_t a[16];
    bool v4;
    if (!ip || !list || !ip_parse(ip, strlen(ip), a, &v4))
        return false;
    size_t n = strnlen(list, LIST_MAX);
    const char *p = list, *end = list + n;
    while (p < end) {
        size_t skip = strspn(p, ",; \t\r\n");
        p += skip;
        if (p >= end)
            break;
        size_t len = strcspn(p, ",; \t\r\n");
        if (p + len > end)
            len = (size_t)(end - p);
        if (entry_contains(p, len, a, v4))
            return true;
        p += len;
    }
    return false;
}

bool web_auth_is_loopback(const char *ip)
{
    uint8_t a[16];
    bool v4;
    if (!ip || !ip_parse(ip, strlen(ip), a, &v4))
        return false;
    if (v4)
        return a[12] == 127;
    static const uint8_t one[16] = {[15] = 1};
    return memcmp(a, one, 16) == 0;
}

/* QHostAddress::isGlobal(): not loopback, private, link-local, unique-local,
 * site-local, multicast or broadcast. */
static bool ip_is_global(const uint8_t a[16], bool v4)
{
    if (v4) {
        const uint8_t *b = a + 12;
        if (b[0] == 127 || b[0] == 10 || b[0] == 0 || b[0] >= 224)
            return false;
        if (b[0] == 172 && (b[1] & 0xf0) == 16)
            return false;
        if (b[0] == 192 && b[1] == 168)
            return false;
        if (b[0] == 169 && b[1] == 254)
            return false;
        return true;
    }
    static const uint8_t zero[15];
    if (memcmp(a, zero, 15) == 0)   /* :: and ::1 */
        return false;
    if ((a[0] & 0xfe) == 0xfc)      /* fc00::/7 unique local */
        return false;
    if (a[0] == 0xfe && (a[1] & 0x80) == 0x80)  /* fe80::/10 link local, fec0::/10 site local */
        return false;
    if (a[0] == 0xff)               /* multicast */
        return false;
    return true;
}

void web_auth_client_ip(const char *peer_ip, const char *xff, bool proxies_enabled,
                        const char *trusted, char *out, size_t outlen)
{
    if (web_auth_ip_normalize(peer_ip, out, outlen) != 0)
        snprintf(out, outlen, "%s", peer_ip ? peer_ip : "");
    if (!proxies_enabled || !xff || !*xff || !web_auth_ip_in_subnets(peer_ip, trusted))
        return;
    const char *first = NULL;
    size_t first_len = 0;
    const char *p = xff;
    for (int guard = 0; *p && guard < 64; guard++) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (len == 0)
            break;
        uint8_t a[16];
        bool v4;
        if (ip_parse(p, len, a, &v4)) {
            if (!first)
                first = p, first_len = len;
            if (ip_is_global(a, v4)) {
                first = p, first_len = len;
                break;
            }
        }
        p += len;
    }
    if (first) {
        char tmp[INET6_ADDRSTRLEN + 8];
        snprintf(tmp, sizeof(tmp), "%.*s", (int)first_len, first);
        web_auth_ip_normalize(tmp, out, outlen);
    }
}

/* ---- CSRF and Host ------------------------------------------------------ */

struct origin {
    char host[256];
    long port;      /* -1 when absent, like QUrl::port() */
};

/* Parses a URL, or a bare Host header value as "http://<value>". */
static bool origin_parse(const char *s, struct origin *o)
{
    o->host[0] = 0;
    o->port = -1;
    if (!s || !*s || strlen(s) > 4096)
        return false;
    char *url = NULL;
    if (strstr(s, "://"))
        url = strdup(s);
    else if (asprintf(&url, "http://%s", s) < 0)
        url = NULL;
    if (!url)
        return false;
    bool ok = false;
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && strlen(host) < sizeof(o->host)) {
        snprintf(o->host, sizeof(o->host), "%s", host);
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
            o->port = strtol(port, NULL, 10);
        ok = true;
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    free(url);
    return ok;
}

static bool same_origin(const char *target, const char *source)
{
    struct origin a, b;
    bool pa = origin_parse(target, &a), pb = origin_parse(source, &b);
    /* An unparsable side has an empty host: equal only if both are empty. */
    return a.port == b.port && strcasecmp(a.host, b.host) == 0 && (pa || pb ? pa && pb : true);
}

bool web_auth_is_cross_site(const char *origin, const char *referer,
                            const char *host, const char *xfwd_host)
{
    const char *target = xfwd_host && *xfwd_host ? xfwd_host : host ? host : "";
    bool has_origin = origin && *origin, has_referer = referer && *referer;
    if (!has_origin && !has_referer)
        return false;
    const char *src = has_origin ? origin : referer;
    if (same_origin(target, src))
        return false;
    log_msg(LOG_WARNING, "WebUI: %s header & Target origin mismatch! %s header: '%s'. Target origin: '%s'",
            has_origin ? "Origin" : "Referer", has_origin ? "Origin" : "Referer", src, target);
    return true;
}

bool web_auth_host_valid(const char *host, int local_port, const char *local_ip,
                         const char *domain_list)
{
    struct origin o;
    if (!origin_parse(host ? host : "", &o))
        o.host[0] = 0, o.port = -1;
    if (o.port != -1 && o.port != local_port) {
        log_debug("web: Host header port mismatch: %s", host ? host : "");
        return false;
    }
    uint8_t a[16], b[16];
    bool v4a, v4b;
    if (local_ip && ip_parse(o.host, strlen(o.host), a, &v4a) &&
        ip_parse(local_ip, strlen(local_ip), b, &v4b) && memcmp(a, b, 16) == 0)
        return true;

    /* qBittorrent matches each entry as an unanchored wildcard regex. */
    const char *p = domain_list ? domain_list : "";
    size_t total = strnlen(p, LIST_MAX);
    const char *end = p + total;
    while (p < end) {
        size_t len = strcspn(p, ";");
        if (p + len > end)
            len = (size_t)(end - p);
        const char *s = p, *e = p + len;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (e > s && (size_t)(e - s) < 512) {
            char pat[520];
            snprintf(pat, sizeof(pat), "*%.*s*", (int)(e - s), s);
            if (fnmatch(pat, o.host, FNM_CASEFOLD) == 0)
                return true;
        }
        p += len + 1;
    }
    log_debug("web: Host header mismatch: %s", host ? host : "");
    return false;
}
