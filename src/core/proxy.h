/* proxy — the proxy preferences as one URL, for whatever fetches on the
 * user's behalf (qBittorrent's proxy_type, proxy_ip, proxy_port,
 * proxy_auth_enabled + proxy_username/proxy_password,
 * proxy_hostname_lookup, and which uses it: proxy_rss for RSS feeds,
 * proxy_misc for everything else "general purpose": search plugins and
 * their downloads).  libcurl and Python's urllib both take the URL form.
 */
#ifndef TD_CORE_PROXY_H
#define TD_CORE_PROXY_H

#include <stddef.h>

struct session;

enum proxy_use { PROXY_USE_RSS, PROXY_USE_MISC };

/* Writes "http://[user:pass@]ip:port", "socks5h://…" (socks5 without
 * hostname lookup), "socks4a://" / "socks4://" (never credentials), or ""
 * when no proxy applies to `use` (type None, or its switch off).  Returns 0,
 * or -ENAMETOOLONG when it does not fit (buf then ""). */
int proxy_url(const struct session *s, enum proxy_use use, char *buf, size_t len);

#endif
