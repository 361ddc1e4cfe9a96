/* fetch — HTTP(S) GET requests on the libuv loop (libcurl multi interface).
 *
 * One struct fetch per loop drives any number of concurrent transfers: curl
 * tells us which sockets to watch (one uv_poll_t each) and when to wake up
 * (one uv_timer_t), so nothing ever blocks the loop.  DNS runs on curl's
 * resolver thread.  Completion callbacks run on the loop thread, outside any
 * curl callback, so they may start new requests or cancel others.
 *
 * Only http:// and https:// are ever fetched.  Redirects are followed by us
 * (at most 10) when the target is http(s); a redirect to anything else (a
 * torrent URL answering with a magnet link) ends the request with -EXDEV and
 * the target URL in errmsg, so the caller can take it from there.
 */
#ifndef TD_UTIL_FETCH_H
#define TD_UTIL_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct fetch;
struct fetch_req;

struct fetch_opts {
    long timeout_ms;           /* whole transfer; 0 = 30 s */
    /* Receive timeout: connecting, or receiving nothing (under 1 byte/s),
     * for this long ends the request with -ETIMEDOUT (libtorrent's
     * tracker_receive_timeout); curl counts it in whole seconds.  0 = none. */
    long idle_timeout_ms;
    size_t max_body;           /* 0 = 16 MiB; a larger body ends the request with -E2BIG */
    const char *user_agent;    /* NULL = "torrentd/" TD_VERSION; "" = none */
    const char *bind_address;  /* NULL, or a local IP to send from (trackers per interface) */
    int follow_redirects;      /* 0: a 3xx is returned as is (rc 0, its status) */
    /* Cookies in Netscape cookie-file form ("domain\tTRUE\tpath\tFALSE\t
     * expiry\tname\tvalue"): curl sends each only where its domain and path
     * match, also after redirects. */
    const char *const *cookies;
    size_t num_cookies;
    const char *range;         /* "first-last" byte range (web seeds), or NULL */
    /* https:// without checking the server's certificate or host name
     * (qBittorrent's validate_https_tracker_certificate off).  Default:
     * checked against the system's CA store. */
    int insecure;
    /* A proxy URL ("http://u:p@host:port", "socks5h://host:port", ...;
     * core/proxy.h makes it from the preferences), or NULL/"" for none. */
    const char *proxy;
    /* POST instead of GET when post_body is not NULL: the body (copied) of
     * post_len bytes, sent with the headers below (say, a Content-Type).
     * Redirects are not followed for a POST (follow_redirects ignored). */
    const char *post_body;
    size_t post_len;
    /* NULL, or the request method to send instead (CURLOPT_CUSTOMREQUEST):
     * "GET" with a post_body sends a GET carrying a body, which is how
     * Notifiarr's API takes qbit_manage's notifications. */
    const char *method;
    /* Extra request headers, "Name: value" each (copied): an API key. */
    const char *const *headers;
    size_t num_headers;
    /* Called with each address curl is about to connect to and the URL it
     * is for (redirects and every address of a name included): true
     * refuses it, and a request left with none fails with -ECONNREFUSED
     * (libtorrent's apply_ip_filter_to_trackers, ssrf_mitigation).  NULL:
     * every address is fine. */
    bool (*refuse_addr)(void *ud, const char *url, const struct sockaddr *sa);
    void *refuse_ud;
};

/* rc is 0 when an HTTP response arrived, whatever its status (trackers put
 * bencoded failures in 4xx bodies), else negative: -ETIMEDOUT, -E2BIG (body
 * over max_body), -ECONNREFUSED, -EHOSTUNREACH (DNS), -EXDEV (redirect to a
 * non-http(s) URL, which is in errmsg), -ELOOP (too many redirects),
 * -EPROTONOSUPPORT (URL not http/https), -EIO (anything else).
 * body is NUL-terminated (not counted in len) and only valid during the call;
 * it is never NULL.  errmsg is "" on success. */
typedef void (*fetch_cb)(void *ud, int rc, long http_status, const uint8_t *body, size_t len,
                         const char *errmsg);

/* Returns 0 or -ENOMEM/-EIO. */
int fetch_new(uv_loop_t *loop, struct fetch **out);

/* Cancels every transfer without calling its callback.  Safe to call from a
 * fetch callback.  The loop must run once more afterwards so libuv can
 * finish closing the handles. */
void fetch_free(struct fetch *f);

/* Starts a GET (a POST with o->post_body).  o may be NULL for defaults.  *handle (if not NULL) is valid
 * until the callback starts or fetch_cancel() is called.  Returns 0,
 * -EINVAL (no url/cb), -EPROTONOSUPPORT (not http/https) or -ENOMEM; on
 * error the callback is never called. */
int fetch_get(struct fetch *f, const char *url, const struct fetch_opts *o, fetch_cb cb, void *ud,
              struct fetch_req **handle);

/* An e-mail over SMTP (smtp:// or smtps://, STARTTLS when `tls` and the
 * URL is smtp://), through the same loop-driven curl multi.  The callback's
 * http_status is the last SMTP reply code (250 = accepted). */
struct fetch_mail {
    const char *server;        /* "host" or "host:port" (default port 25) */
    bool tls;
    const char *username, *password;   /* NULL = no AUTH */
    const char *from, *to;
    const char *subject, *body;
    long timeout_ms;           /* 0 = 30 s */
};
int fetch_mail(struct fetch *f, const struct fetch_mail *m, fetch_cb cb, void *ud, struct fetch_req **handle);

/* Stops a transfer; its callback is never called.  A no-op when called on
 * the request whose callback is running. */
void fetch_cancel(struct fetch_req *r);

/* Number of transfers in flight (tests, stats). */
size_t fetch_active(const struct fetch *f);

#endif
