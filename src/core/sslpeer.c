#include "core/sslpeer.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"

/* Ciphertext is read from the socket in pieces of this size, unless
 * sslpeer_set_rbuf_size says otherwise. */
#define SSLPEER_RBUF (64u * 1024)
/* Plaintext is decrypted into the input buffer this much at a time. */
#define SSLPEER_READ_CHUNK (64u * 1024)

struct sslpeer_ctx {
    SSL_CTX *ctx;
    char *name;
    bool identity;
};

struct sslpeer_server {
    SSL_CTX *ctx;
    int refs;                    /* the owner + one per connection: SNI runs late */
    sslpeer_lookup_fn lookup;
    void *ud;
};

struct sslpeer {
    SSL *ssl;
    BIO *rbio, *wbio;            /* owned by ssl */
    struct sslpeer_server *srv;  /* incoming only */
    bool established;
    bool have_hash;
    uint8_t info_hash[20];
    char *name;                  /* the torrent the peer certificate must be issued for */
    char err[200];
    uint8_t *rbuf;
    size_t rbuf_len;
};

/* ---- pure helpers ---- */

int sslpeer_parse_sni(const char *name, uint8_t info_hash[20])
{
    if (!name || strlen(name) != 40 || hex_decode(name, 40, info_hash, 20) != 20)
        return -EINVAL;
    return 0;
}

bool sslpeer_name_matches(const char *cert_name, size_t len, const char *torrent_name)
{
    if (!cert_name || len == 0)
        return false;
    if (len == 1 && cert_name[0] == '*')
        return true;
    return torrent_name && strlen(torrent_name) == len && memcmp(cert_name, torrent_name, len) == 0;
}

static bool asn1_matches(const ASN1_STRING *s, const char *torrent_name)
{
    const unsigned char *d = s ? ASN1_STRING_get0_data(s) : NULL;
    int n = s ? ASN1_STRING_length(s) : 0;
    return d && n > 0 && sslpeer_name_matches((const char *)d, (size_t)n, torrent_name);
}

static bool x509_matches(X509 *x, const char *torrent_name)
{
    bool ok = false;
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; !ok && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS && ASN1_STRING_type(g->d.dNSName) == V_ASN1_IA5STRING)
            ok = asn1_matches(g->d.dNSName, torrent_name);
    }
    GENERAL_NAMES_free(gens);
    if (ok)
        return true;
    /* The most specific common name is the last one. */
    const X509_NAME *subject = X509_get_subject_name(x);
    const ASN1_STRING *cn = NULL;
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;)
        cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
    return asn1_matches(cn, torrent_name);
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;   /* encrypted keys are refused, never prompted for */
}

static X509 *read_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, no_passphrase, NULL) : NULL;
    BIO_free(b);
    return x;
}

bool sslpeer_pem_matches(const char *cert_pem, const char *torrent_name)
{
    X509 *x = cert_pem ? read_cert(cert_pem) : NULL;
    bool ok = x && x509_matches(x, torrent_name);
    X509_free(x);
    ERR_clear_error();
    return ok;
}

/* ---- contexts ---- */

static SSL_CTX *base_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx)
        return NULL;
    /* libtorrent refuses anything older than TLS 1.2 too. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    return ctx;
}

int sslpeer_ctx_new(const char *root_pem, const char *name, struct sslpeer_ctx **out)
{
    *out = NULL;
    struct sslpeer_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->name = strdup(name ? name : "");
    c->ctx = base_ctx();
    if (!c->name || !c->ctx) {
        sslpeer_ctx_free(c);
        return -ENOMEM;
    }
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE, NULL);
    /* The torrent's root is the only trust anchor: no system CAs. */
    X509_STORE *store = SSL_CTX_get_cert_store(c->ctx);
    BIO *b = BIO_new_mem_buf(root_pem, -1);
    int n = 0;
    X509 *x;
    while (b && (x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, x) == 1)
            n++;
        X509_free(x);
    }
    BIO_free(b);
    ERR_clear_error();
    if (n == 0) {
        sslpeer_ctx_free(c);
        return -EINVAL;
    }
    *out = c;
    return 0;
}

int sslpeer_ctx_set_identity(struct sslpeer_ctx *c, const char *cert, const char *key, const char *dh)
{
    int rc = -EINVAL;
    X509 *x = read_cert(cert);
    BIO *b = BIO_new_mem_buf(key, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
    BIO_free(b);
    b = BIO_new_mem_buf(dh, -1);
    EVP_PKEY *p = b ? PEM_read_bio_Parameters(b, NULL) : NULL;
    BIO_free(b);
    if (x && k && p && X509_check_private_key(x, k) == 1 && SSL_CTX_use_certificate(c->ctx, x) == 1 &&
        SSL_CTX_use_PrivateKey(c->ctx, k) == 1 && SSL_CTX_set0_tmp_dh_pkey(c->ctx, p) == 1) {
        p = NULL;   /* the context owns it now */
        c->identity = true;
        rc = 0;
    }
    X509_free(x);
    EVP_PKEY_free(k);
    EVP_PKEY_free(p);
    ERR_clear_error();
    return rc;
}

bool sslpeer_ctx_has_identity(const struct sslpeer_ctx *c)
{
    return c && c->identity;
}

void sslpeer_ctx_free(struct sslpeer_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);   /* connections still using it hold their own reference */
    free(c->name);
    free(c);
}

/* SNI names the torrent: switch the connection to that torrent's context
 * (its identity, its root, its verification) before the server answers. */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
    struct sslpeer_server *srv = arg;
    struct sslpeer *t = SSL_get_app_data(ssl);
    const char *sn = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    uint8_t h[20];
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    if (sslpeer_parse_sni(sn, h) != 0) {
        snprintf(t->err, sizeof t->err, "no info-hash in the TLS server name");
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    struct sslpeer_ctx *c = srv->lookup(srv->ud, h);
    if (!c || !c->identity) {
        snprintf(t->err, sizeof t->err, "no SSL torrent %.40s with a certificate here", sn);
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    free(t->name);
    t->name = strdup(c->name);
    if (!t->name || !SSL_set_SSL_CTX(ssl, c->ctx)) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    /* SSL_set_SSL_CTX takes the certificate, not the verification mode. */
    SSL_set_verify(ssl, SSL_CTX_get_verify_mode(c->ctx), NULL);
    memcpy(t->info_hash, h, 20);
    t->have_hash = true;
    return SSL_TLSEXT_ERR_OK;
}

int sslpeer_server_new(sslpeer_lookup_fn lookup, void *ud, struct sslpeer_server **out)
{
    *out = NULL;
    struct sslpeer_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return -ENOMEM;
    srv->ctx = base_ctx();
    if (!srv->ctx) {
        free(srv);
        return -ENOMEM;
    }
    srv->refs = 1;
    srv->lookup = lookup;
    srv->ud = ud;
    SSL_CTX_set_tlsext_servername_callback(srv->ctx, on_servername);
    SSL_CTX_set_tlsext_servername_arg(srv->ctx, srv);
    *out = srv;
    return 0;
}

void sslpeer_server_free(struct sslpeer_server *srv)
{
    if (!srv || --srv->refs > 0)
        return;
    SSL_CTX_free(srv->ctx);
    free(srv);
}

/* ---- connections ---- */

static struct sslpeer *conn_new(SSL_CTX *ctx)
{
    struct sslpeer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    t->rbuf = malloc(SSLPEER_RBUF);
    t->rbuf_len = SSLPEER_RBUF;
    if (!t->ssl || !t->rbio || !t->wbio || !t->rbuf) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        free(t->rbuf);
        free(t);
        return NULL;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_app_data(t->ssl, t);
    return t;
}

int sslpeer_connect(struct sslpeer_ctx *c, const uint8_t info_hash[20], struct sslpeer **out)
{
    *out = NULL;
    if (!c || !c->identity)
        return -EPERM;
    struct sslpeer *t = conn_new(c->ctx);
    char hex[41];
    hex_encode(info_hash, 20, hex);
    if (t && !(t->name = strdup(c->name))) {
        sslpeer_free(t);
        t = NULL;
    }
    if (!t)
        return -ENOMEM;
    memcpy(t->info_hash, info_hash, 20);
    t->have_hash = true;
    SSL_set_connect_state(t->ssl);
    if (SSL_set_tlsext_host_name(t->ssl, hex) != 1) {
        sslpeer_free(t);
        ERR_clear_error();
        return -ENOMEM;
    }
    *out = t;
    return 0;
}

int sslpeer_accept(struct sslpeer_server *srv, struct sslpeer **out)
{
    *out = NULL;
    struct sslpeer *t = conn_new(srv->ctx);
    if (!t)
        return -ENOMEM;
    t->srv = srv;
    srv->refs++;
    SSL_set_accept_state(t->ssl);
    *out = t;
    return 0;
}

void sslpeer_free(struct sslpeer *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    sslpeer_server_free(t->srv);
    free(t->name);
    free(t->rbuf);
    free(t);
}

uint8_t *sslpeer_rbuf(struct sslpeer *t, size_t *len)
{
    *len = t->rbuf_len;
    return t->rbuf;
}

int sslpeer_set_rbuf_size(struct sslpeer *t, size_t len)
{
    if (len < SSLPEER_RBUF_MIN)
        return -EINVAL;
    uint8_t *b = realloc(t->rbuf, len);
    if (!b)
        return -ENOMEM;
    t->rbuf = b;
    t->rbuf_len = len;
    return 0;
}

static int fail(struct sslpeer *t, int ret)
{
    long v = SSL_get_verify_result(t->ssl);
    unsigned long e = ERR_peek_last_error();
    if (t->err[0]) {
        /* a callback said why */
    } else if (v != X509_V_OK) {
        snprintf(t->err, sizeof t->err, "certificate rejected: %s", X509_verify_cert_error_string(v));
    } else if (e) {
        ERR_error_string_n(e, t->err, sizeof t->err);
    } else {
        snprintf(t->err, sizeof t->err, "%s", SSL_get_error(t->ssl, ret) == SSL_ERROR_ZERO_RETURN ? "closed by the peer"
                                                                                                    : "TLS failure");
    }
    ERR_clear_error();
    return -EPROTO;
}

/* Runs the handshake as far as the data allows; once done, checks that the
 * peer's certificate is issued for this torrent (the chain was checked by
 * OpenSSL against the torrent's root). */
static int handshake(struct sslpeer *t)
{
    if (t->established)
        return 0;
    int r = SSL_do_handshake(t->ssl);
    if (r != 1) {
        int e = SSL_get_error(t->ssl, r);
        return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : fail(t, r);
    }
    X509 *x = SSL_get0_peer_certificate(t->ssl);
    if (!x || SSL_get_verify_result(t->ssl) != X509_V_OK) {
        snprintf(t->err, sizeof t->err, "no valid peer certificate");
        return -EPROTO;
    }
    if (!x509_matches(x, t->name)) {
        snprintf(t->err, sizeof t->err, "peer certificate is not issued for \"%s\" or \"*\"", t->name);
        return -EPROTO;
    }
    t->established = true;
    return 0;
}

int sslpeer_feed(struct sslpeer *t, const uint8_t *data, size_t len, struct buf *plain)
{
    ERR_clear_error();
    if (len > 0 && BIO_write(t->rbio, data, (int)len) != (int)len)
        return -ENOMEM;
    int rc = handshake(t);
    if (rc != 0 || !t->established)
        return rc;
    for (;;) {
        if (buf_reserve(plain, SSLPEER_READ_CHUNK) != 0)
            return -ENOMEM;
        int n = SSL_read(t->ssl, plain->data + plain->len, (int)SSLPEER_READ_CHUNK);
        if (n > 0) {
            plain->len += (size_t)n;
            continue;
        }
        int e = SSL_get_error(t->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return 0;
        return fail(t, n);
    }
}

int sslpeer_seal(struct sslpeer *t, struct buf *plain, struct buf *cipher)
{
    ERR_clear_error();
    int rc = handshake(t);
    if (rc != 0)
        return rc;
    if (t->established && buf_size(plain) > 0) {
        /* Memory BIOs never push back: the whole buffer goes in one call. */
        size_t n = buf_size(plain);
        int w = SSL_write(t->ssl, buf_head(plain), n > INT32_MAX ? INT32_MAX : (int)n);
        if (w <= 0)
            return fail(t, w);
        buf_consume(plain, (size_t)w);
    }
    size_t pending;
    while ((pending = BIO_ctrl_pending(t->wbio)) > 0) {
        if (buf_reserve(cipher, pending) != 0)
            return -ENOMEM;
        int r = BIO_read(t->wbio, cipher->data + cipher->len, (int)pending);
        if (r <= 0)
            break;
        cipher->len += (size_t)r;
    }
    return 0;
}

bool sslpeer_established(const struct sslpeer *t)
{
    return t->established;
}

const uint8_t *sslpeer_info_hash(const struct sslpeer *t)
{
    return t->have_hash ? t->info_hash : NULL;
}

bool sslpeer_uses(const struct sslpeer *t, const struct sslpeer_ctx *c)
{
    return c && SSL_get_SSL_CTX(t->ssl) == c->ctx;
}

const char *sslpeer_error(const struct sslpeer *t)
{
    return t->err[0] ? t->err : "TLS failure";
}
