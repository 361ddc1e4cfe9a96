#include "core/ssltorrent.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "bt/metainfo.h"
#include "core/peer.h"
#include "core/session.h"
#include "core/sslpeer.h"
#include "core/torrent.h"
#include "store/record.h"
#include "store/store.h"
#include "util/log.h"

#define NS_SSL "ssl"   /* hex -> {ssl_certificate, ssl_private_key, ssl_dh_params, added_on} */
#define MAX_PEM (64u << 10)   /* one SSL parameter */

struct ssltorrent {
    bool is_ssl;                 /* the metadata has ssl-cert */
    struct sslpeer_ctx *ctx;     /* NULL when the root certificate is unusable */
    char *cert, *key, *dh;       /* identity (PEM); NULL until set */
};

struct ssltorrent_listener {
    struct sslpeer_server *srv;
    uv_tcp_t tcp4, tcp6;
    bool init4, init6;           /* handles to close */
    bool have4, have6;           /* handles listening */
    uint16_t port;
    int open_handles;
};

static void wipe_free(char *p)
{
    if (p) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

static void clear_identity(struct ssltorrent *st)
{
    free(st->cert);
    wipe_free(st->key);
    free(st->dh);
    st->cert = st->key = st->dh = NULL;
}

void ssltorrent_free(struct torrent *t)
{
    if (!t->ssl)
        return;
    sslpeer_ctx_free(t->ssl->ctx);
    clear_identity(t->ssl);
    free(t->ssl);
    t->ssl = NULL;
}

bool ssltorrent_is_ssl(const struct torrent *t)
{
    return t->ssl && t->ssl->is_ssl;
}

struct sslpeer_ctx *ssltorrent_ctx(const struct torrent *t)
{
    return ssltorrent_is_ssl(t) && sslpeer_ctx_has_identity(t->ssl->ctx) ? t->ssl->ctx : NULL;
}

uint16_t ssltorrent_announce_port(const struct torrent *t)
{
    return ssltorrent_is_ssl(t) ? ssltorrent_port(t->s) : t->s->listen_port;
}

static void apply_identity(struct torrent *t)
{
    struct ssltorrent *st = t->ssl;
    if (!st->ctx || !st->cert)
        return;
    if (sslpeer_ctx_set_identity(st->ctx, st->cert, st->key, st->dh) != 0) {
        log_msg(LOG_WARNING, "SSL torrent %s: the certificate, key and DH parameters set for it cannot be used",
                t->hex);
        return;
    }
    if (!sslpeer_pem_matches(st->cert, t->mi->name))
        log_msg(LOG_WARNING, "SSL torrent %s: its certificate is not issued for \"%s\" or \"*\"; peers will refuse it",
                t->hex, t->mi->name);
    log_msg(LOG_INFO, "SSL torrent %s: certificate set", t->hex);
}

static struct ssltorrent *ensure(struct torrent *t)
{
    if (!t->ssl)
        t->ssl = calloc(1, sizeof *t->ssl);
    return t->ssl;
}

void ssltorrent_metadata(struct torrent *t)
{
    if (!t->mi || !t->mi->ssl_cert || !ensure(t) || t->ssl->is_ssl)
        return;
    struct ssltorrent *st = t->ssl;
    st->is_ssl = true;
    if (sslpeer_ctx_new(t->mi->ssl_cert, t->mi->name, &st->ctx) != 0) {
        log_msg(LOG_WARNING, "SSL torrent %s: its ssl-cert holds no usable certificate; it makes no connections",
                t->hex);
        return;
    }
    if (st->cert)
        apply_identity(t);
    else
        log_msg(LOG_INFO, "SSL torrent %s: no certificate set (torrents/setSSLParameters); it makes no connections",
                t->hex);
    /* Peers that brought the metadata came in the clear. */
    struct peer *next;
    for (struct peer *p = t->peers; p; p = next) {
        next = p->next;
        if (!p->tls)
            peer_close(p, "SSL torrent: plain connection");
    }
}

int ssltorrent_set_params(struct session *s, const char *hex, const char *cert, const char *key, const char *dh)
{
    if (!cert || !key || !dh)
        return -EINVAL;
    struct torrent *t = session_find_hex(s, hex);
    if (!t)
        return -ENOENT;
    struct ssltorrent *st = ensure(t);
    if (!st)
        return -ENOMEM;
    clear_identity(st);
    st->cert = strdup(cert);
    st->key = strdup(key);
    st->dh = strdup(dh);
    if (!st->cert || !st->key || !st->dh) {
        clear_identity(st);
        return -ENOMEM;
    }
    apply_identity(t);
    return 0;
}

static int load_one(void *ud, const char *key, const char *value)
{
    struct session *s = ud;
    struct torrent *t = session_find_hex(s, key);
    struct record_ssl p = {0};
    /* A row written for an earlier torrent with this hash is not ours (an
     * old row without added_on counted as 0, as json_integer_value gave). */
    if (t && record_ssl_decode(value, &p) == 0 && (p.has_added_on ? p.added_on : 0) == t->added_on &&
        p.certificate && p.private_key && p.dh_params)
        ssltorrent_set_params(s, key, p.certificate, p.private_key, p.dh_params);
    record_ssl_clear(&p);
    return 0;
}

void ssltorrent_load(struct session *s)
{
    if (s->store)
        store_load_kv(s->store, NS_SSL, load_one, s);
}

/* ---- the parameters set by the user ---- */

void ssltorrent_params(const struct torrent *t, const char **cert, const char **key, const char **dh)
{
    const struct ssltorrent *st = t->ssl;
    *cert = st && st->cert ? st->cert : "";
    *key = st && st->key ? st->key : "";
    *dh = st && st->dh ? st->dh : "";
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;   /* encrypted keys are refused, never prompted for */
}

static char *bio_text(BIO *b)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        memcpy(s, p, (size_t)n);
        s[n] = 0;
    }
    return s;
}

/* qBittorrent's SSLParameters::isValid: a certificate, an RSA/EC/DSA key
 * (QSslKey) and DH parameters, all present.  The certificate and key are
 * kept re-encoded as Qt's toPem() gives them back; the DH parameters as
 * sent.  0 or -EINVAL. */
static int canonical(const char *cert, const char *key, const char *dh, char **cert_out, char **key_out)
{
    *cert_out = *key_out = NULL;
    if (!*cert || !*key || !*dh || strlen(cert) > MAX_PEM || strlen(key) > MAX_PEM || strlen(dh) > MAX_PEM)
        return -EINVAL;
    int rc = -EINVAL;
    X509 *x = NULL;
    EVP_PKEY *k = NULL, *p = NULL;
    BIO *in = NULL, *out = NULL;

    in = BIO_new_mem_buf(cert, -1);
    x = in ? PEM_read_bio_X509(in, NULL, no_passphrase, NULL) : NULL;
    BIO_free(in);
    in = BIO_new_mem_buf(key, -1);
    k = in ? PEM_read_bio_PrivateKey(in, NULL, no_passphrase, NULL) : NULL;
    BIO_free(in);
    in = BIO_new_mem_buf(dh, -1);
    p = in ? PEM_read_bio_Parameters(in, NULL) : NULL;
    BIO_free(in);
    if (!x || !k || !p)
        goto done;
    int kt = EVP_PKEY_get_base_id(k), pt = EVP_PKEY_get_base_id(p);
    if ((kt != EVP_PKEY_RSA && kt != EVP_PKEY_EC && kt != EVP_PKEY_DSA) ||
        (pt != EVP_PKEY_DH && pt != EVP_PKEY_DHX))
        goto done;
    rc = -ENOMEM;
    out = BIO_new(BIO_s_mem());
    if (!out || PEM_write_bio_X509(out, x) != 1 || !(*cert_out = bio_text(out)))
        goto done;
    BIO_free(out);
    out = BIO_new(BIO_s_mem());
    if (!out || PEM_write_bio_PrivateKey_traditional(out, k, NULL, NULL, 0, NULL, NULL) != 1 ||
        !(*key_out = bio_text(out)))
        goto done;
    rc = 0;
done:
    ERR_clear_error();
    BIO_free(out);
    X509_free(x);
    EVP_PKEY_free(k);
    EVP_PKEY_free(p);
    if (rc != 0) {
        free(*cert_out);
        free(*key_out);
        *cert_out = *key_out = NULL;
    }
    return rc;
}

struct save_job {
    struct session *s;
    char hex[41];
    char *cert, *key, *dh;
    void (*cb)(void *ud, int rc);
    void *ud;
};

static void save_job_free(struct save_job *j)
{
    free(j->cert);
    wipe_free(j->key);
    free(j->dh);
    free(j);
}

static void apply_job(struct save_job *j)
{
    /* The torrent may have gone while the row was written. */
    int rc = ssltorrent_set_params(j->s, j->hex, j->cert, j->key, j->dh);
    if (rc != 0 && rc != -ENOENT)
        log_msg(LOG_WARNING, "SSL parameters of %s not kept in memory", j->hex);
}

static void on_saved(void *ud, int rc)
{
    struct save_job *j = ud;
    if (rc != 0)
        log_msg(LOG_WARNING, "SSL parameters of %s could not be saved: %s", j->hex, strerror(-rc));
    else if (j->cb)
        apply_job(j);
    if (j->cb)
        j->cb(j->ud, rc);
    save_job_free(j);
}

int ssltorrent_save_params(struct session *s, struct torrent *t, const char *cert, const char *key, const char *dh,
                           void (*cb)(void *ud, int rc), void *ud)
{
    char *c = NULL, *k = NULL;
    int rc = canonical(cert, key, dh, &c, &k);
    if (rc != 0)
        return rc;
    struct save_job *j = calloc(1, sizeof *j);
    char *dh_dup = strdup(dh), *dump = NULL;
    record_ssl_encode(&(struct record_ssl){c, k, dh, true, t->added_on}, &dump);
    if (!j || !dh_dup || !dump) {
        free(c);
        wipe_free(k);
        free(dh_dup);
        free(j);
        free(dump);
        log_msg(LOG_WARNING, "SSL parameters could not be saved: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    *j = (struct save_job){s, "", c, k, dh_dup, cb, ud};
    memcpy(j->hex, t->hex, sizeof j->hex);
    /* Without a waiter (added with the torrent) they apply at once. */
    if (!cb)
        apply_job(j);
    rc = s->store ? store_kv_put(s->store, NS_SSL, j->hex, dump, on_saved, j) : -EIO;
    wipe_free(dump);
    if (rc != 0) {
        log_msg(LOG_WARNING, "SSL parameters could not be saved: %s", strerror(-rc));
        save_job_free(j);
    }
    return rc;
}

/* ---- the SSL listener ---- */

static struct sslpeer_ctx *lookup(void *ud, const uint8_t info_hash[20])
{
    struct torrent *t = session_find(ud, info_hash);
    if (!t || t->removing || t->stopped)
        return NULL;
    return ssltorrent_ctx(t);
}

static void on_listener_closed(uv_handle_t *h)
{
    struct ssltorrent_listener *l = h->data;
    if (--l->open_handles == 0) {
        sslpeer_server_free(l->srv);
        free(l);
    }
}

/* Every handle session_listen initialised is closed here, listening or not. */
static void close_listener(struct ssltorrent_listener *l)
{
    l->open_handles = l->init4 + l->init6;
    if (l->init4) {
        l->tcp4.data = l;   /* session_listen pointed it at the session */
        uv_close((uv_handle_t *)&l->tcp4, on_listener_closed);
    }
    if (l->init6) {
        l->tcp6.data = l;
        uv_close((uv_handle_t *)&l->tcp6, on_listener_closed);
    }
    if (l->open_handles == 0) {
        sslpeer_server_free(l->srv);
        free(l);
    }
}

void ssltorrent_stop(struct session *s)
{
    if (!s->ssl)
        return;
    close_listener(s->ssl);
    s->ssl = NULL;
    log_msg(LOG_INFO, "stopped listening for SSL peers");
}

static uint16_t bound_port(uv_tcp_t *h)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getsockname(h, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

int ssltorrent_listen(struct session *s)
{
    if (s->ssl)
        ssltorrent_stop(s);
    if (!settings_bool(&s->settings, SET_SSL_ENABLED) || s->shutting_down)
        return 0;
    int64_t want = settings_int(&s->settings, SET_SSL_LISTEN_PORT);
    if (want < 0 || want > 65535) {
        log_msg(LOG_WARNING, "ssl_listen_port %lld is not a port; not listening for SSL peers", (long long)want);
        return -EINVAL;
    }
    struct ssltorrent_listener *l = calloc(1, sizeof *l);
    if (!l || sslpeer_server_new(lookup, s, &l->srv) != 0) {
        free(l);
        return -ENOMEM;
    }
    struct sockaddr_storage ss;
    const char *a = s->listen_address;
    int port = (int)want;
    bool v4 = a && uv_ip4_addr(a, port, (struct sockaddr_in *)&ss) == 0;
    bool v6 = !v4 && a && uv_ip6_addr(a, port, (struct sockaddr_in6 *)&ss) == 0;
    if (!v4 && !v6) {
        v4 = v6 = true;
        uv_ip4_addr("0.0.0.0", port, (struct sockaddr_in *)&ss);
    }
    if (v4) {
        l->init4 = true;
        l->have4 = session_listen(s, &l->tcp4, (struct sockaddr *)&ss, 0) == 0;
        /* Port 0: the IPv6 socket takes the port the system gave the IPv4 one. */
        if (l->have4 && port == 0)
            port = bound_port(&l->tcp4);
        if (v6)
            uv_ip6_addr("::", port, (struct sockaddr_in6 *)&ss);
    }
    if (v6) {
        l->init6 = true;
        l->have6 = session_listen(s, &l->tcp6, (struct sockaddr *)&ss, UV_TCP_IPV6ONLY) == 0;
    }
    if (!l->have4 && !l->have6) {
        log_msg(LOG_WARNING, "cannot listen for SSL peers on %s port %d", a ? a : "*", port);
        close_listener(l);
        return -EADDRINUSE;
    }
    l->port = bound_port(l->have4 ? &l->tcp4 : &l->tcp6);
    s->ssl = l;
    log_msg(LOG_INFO, "listening for SSL peers on %s port %u", a ? a : "*", l->port);
    return 0;
}

bool ssltorrent_is_listener(const struct session *s, const uv_stream_t *h)
{
    const struct ssltorrent_listener *l = s->ssl;
    return l && (h == (const uv_stream_t *)&l->tcp4 || h == (const uv_stream_t *)&l->tcp6);
}

void ssltorrent_size_buffers(struct session *s, struct sslpeer *t)
{
    int64_t n = settings_int(&s->settings, SET_UT_ENCRYPT_BUFFER_SIZE);   /* >= 4096 by its bounds */
    int rc = sslpeer_set_rbuf_size(t, (size_t)(n > 16 << 20 ? 16 << 20 : n));
    if (rc != 0)
        log_msg(LOG_WARNING, "encrypt_buffer_size %lld: %s", (long long)n, strerror(-rc));
}

int ssltorrent_accept(struct session *s, struct sslpeer **out)
{
    *out = NULL;
    int rc = s->ssl ? sslpeer_accept(s->ssl->srv, out) : -ENOTCONN;
    if (rc == 0)
        ssltorrent_size_buffers(s, *out);
    return rc;
}

uint16_t ssltorrent_port(const struct session *s)
{
    return s->ssl ? s->ssl->port : 0;
}
