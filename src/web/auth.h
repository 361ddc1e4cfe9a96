/* web/auth — WebUI authentication rules, as qBittorrent 5.1 applies them.
 *
 * Pure functions (no server state) so that every rule of
 * ../shared/docs/api-surface.md §2 (outside the repository)
 * can be unit-tested on its own: the password format qBittorrent writes to
 * qBittorrent.conf (so a profile can be carried over unchanged), the CSRF
 * origin check, Host header validation, subnet whitelists and the choice of
 * client address behind a reverse proxy.  The router (web/router.c) and the
 * session table (web/session.c) combine them into the request pipeline.
 */
#ifndef TD_WEB_AUTH_H
#define TD_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* Live-changeable WebUI security settings (qBittorrent preference names in
 * brackets).  Strings are copied by web_server_set_auth(). */
struct web_auth_config {
    const char *username;                 /* web_ui_username */
    /* "@ByteArray(<b64 salt>:<b64 key>)", PBKDF2-HMAC-SHA512, 100000
     * iterations, 16-byte salt, 64-byte key: WebUI\Password_PBKDF2.
     * NULL or "" = no password can match. */
    const char *password_hash;
    int max_auth_fail_count;              /* 5; 0 = never ban */
    int ban_duration_s;                   /* 3600 */
    int session_timeout_s;                /* 3600; 0 = sessions never expire */
    bool csrf_protection;                 /* true */
    bool clickjacking_protection;         /* true */
    bool host_header_validation;          /* true */
    const char *domain_list;              /* "*"; ';'-separated wildcards */
    bool bypass_local_auth;               /* false */
    bool bypass_auth_subnet_whitelist_enabled;
    const char *bypass_auth_subnet_whitelist;  /* CIDRs, separated by , ; \n or space */
    bool secure_cookie;                   /* true; only effective over HTTPS */
    const char *custom_headers;           /* "Name: value" per line */
    bool use_custom_headers;
    bool reverse_proxy_enabled;           /* web_ui_reverse_proxy_enabled */
    const char *trusted_proxies;          /* web_ui_reverse_proxies_list, like the whitelist */
};

/* The defaults listed above (strings point to static storage). */
void web_auth_config_defaults(struct web_auth_config *c);

/* Writes a fresh "@ByteArray(salt:key)" for plain into out (needs at least
 * WEB_AUTH_HASH_MAX bytes).  Returns 0, -ENOSPC or -EIO (RNG/KDF failure). */
#define WEB_AUTH_HASH_MAX 160
int web_auth_hash_password(const char *plain, char *out, size_t outlen);

/* Verifies plain against a stored hash; accepts the value with or without
 * the @ByteArray( ) wrapper and surrounding quotes, as found in
 * qBittorrent.conf.  Malformed stored values never match.  The key
 * comparison is constant-time.  Costs ~100000 SHA-512 rounds: call it from
 * a worker thread, not from the loop. */
bool web_auth_check_password(const char *plain, const char *stored);

/* Constant-time string equality (the username comparison). */
bool web_auth_equal(const char *a, const char *b);

/* true if ip (v4, v6 or v4-mapped v6 text) is inside any subnet of list
 * ("10.0.0.0/8, 192.168.1.5, fd00::/8"; entries separated by , ; \n \t or
 * space; a bare address means a single host).  Invalid entries are skipped. */
bool web_auth_ip_in_subnets(const char *ip, const char *list);
bool web_auth_is_loopback(const char *ip);

/* §2.2: true when the request must be rejected as cross-site.  host and
 * xfwd_host are the Host and X-Forwarded-Host headers (either may be NULL). */
bool web_auth_is_cross_site(const char *origin, const char *referer,
                            const char *host, const char *xfwd_host);

/* §2.3: true when the Host header is acceptable: no port or the listening
 * port, and the host is the local socket address or matches domain_list. */
bool web_auth_host_valid(const char *host, int local_port, const char *local_ip,
                         const char *domain_list);

/* §2.1 step 2: the client address to use.  peer_ip is the socket peer;
 * xff the X-Forwarded-For header.  Only when proxies are enabled and the
 * peer is in trusted: the first global address of xff, else its first
 * valid address.  Writes into out (>= 46 bytes). */
void web_auth_client_ip(const char *peer_ip, const char *xff, bool proxies_enabled,
                        const char *trusted, char *out, size_t outlen);

/* Normalises an address text (v4-mapped v6 → v4) into out; -EINVAL if not an IP. */
int web_auth_ip_normalize(const char *ip, char *out, size_t outlen);

#endif
