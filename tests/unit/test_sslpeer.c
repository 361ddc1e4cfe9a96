#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/sslpeer.h"
#include "util/buf.h"

/* ---- a tiny PKI built in memory ---- */

struct ident {
    EVP_PKEY *key;
    X509 *cert;
    char *cert_pem, *key_pem;
};

static long serial = 1;

static char *bio_string(BIO *b)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = malloc((size_t)n + 1);
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    BIO_free(b);
    return s;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

/* A root CA (issuer NULL) or a certificate it issues for cn (and san). */
static struct ident make_ident(const char *cn, const char *san, const struct ident *issuer)
{
    struct ident id;
    id.key = EVP_EC_gen("P-256");
    assert_non_null(id.key);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, id.key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert) : n);
    if (!issuer)
        add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE");
    if (san)
        add_ext(x, issuer ? issuer->cert : NULL, NID_subject_alt_name, san);
    assert_true(X509_sign(x, issuer ? issuer->key : id.key, EVP_sha256()) > 0);
    id.cert = x;
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    id.cert_pem = bio_string(b);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, id.key, NULL, NULL, 0, NULL, NULL);
    id.key_pem = bio_string(b);
    return id;
}

static void free_ident(struct ident *id)
{
    EVP_PKEY_free(id->key);
    X509_free(id->cert);
    free(id->cert_pem);
    free(id->key_pem);
}

static char *dh_pem(void)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
    EVP_PKEY *dh = NULL;
    assert_int_equal(EVP_PKEY_paramgen_init(pc), 1);
    assert_int_equal(EVP_PKEY_CTX_set_dh_nid(pc, NID_ffdhe2048), 1);
    assert_int_equal(EVP_PKEY_paramgen(pc, &dh), 1);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_Parameters(b, dh);
    EVP_PKEY_free(dh);
    EVP_PKEY_CTX_free(pc);
    return bio_string(b);
}

/* ---- pure helpers ---- */

static void parse_sni(void **state)
{
    (void)state;
    uint8_t h[20];
    assert_int_equal(sslpeer_parse_sni("00112233445566778899AABBCCDDEEFF00112233", h), 0);
    assert_int_equal(h[0], 0x00);
    assert_int_equal(h[10], 0xaa);
    assert_int_equal(h[19], 0x33);
    assert_int_equal(sslpeer_parse_sni("00112233445566778899aabbccddeeff00112233", h), 0);
    assert_int_equal(sslpeer_parse_sni("00112233445566778899aabbccddeeff0011223", h), -EINVAL);
    assert_int_equal(sslpeer_parse_sni("00112233445566778899aabbccddeeff001122334", h), -EINVAL);
    assert_int_equal(sslpeer_parse_sni("0011223344556677889 aabbccddeeff00112233", h), -EINVAL);
    assert_int_equal(sslpeer_parse_sni("example.org", h), -EINVAL);
    assert_int_equal(sslpeer_parse_sni("", h), -EINVAL);
    assert_int_equal(sslpeer_parse_sni(NULL, h), -EINVAL);
}

static void name_matches(void **state)
{
    (void)state;
    assert_true(sslpeer_name_matches("*", 1, "anything"));
    assert_true(sslpeer_name_matches("movie.mkv", 9, "movie.mkv"));
    assert_false(sslpeer_name_matches("movie.mkv", 9, "movie.mk"));
    assert_false(sslpeer_name_matches("movie.mk", 8, "movie.mkv"));
    assert_false(sslpeer_name_matches("Movie.mkv", 9, "movie.mkv"));
    assert_false(sslpeer_name_matches("*.mkv", 5, "movie.mkv"));   /* no wildcards beyond "*" */
    assert_false(sslpeer_name_matches("", 0, ""));
    /* a NUL inside a certificate name never matches a shorter torrent name */
    assert_false(sslpeer_name_matches("movie\0x", 7, "movie"));
}

static void pem_matches(void **state)
{
    (void)state;
    struct ident ca = make_ident("root", NULL, NULL);
    struct ident star = make_ident("*", NULL, &ca);
    struct ident named = make_ident("data.bin", NULL, &ca);
    struct ident alt = make_ident("someone", "DNS:other,DNS:data.bin", &ca);
    struct ident none = make_ident("someone", "DNS:other", &ca);
    assert_true(sslpeer_pem_matches(star.cert_pem, "data.bin"));
    assert_true(sslpeer_pem_matches(named.cert_pem, "data.bin"));
    assert_false(sslpeer_pem_matches(named.cert_pem, "data.bin2"));
    assert_true(sslpeer_pem_matches(alt.cert_pem, "data.bin"));
    assert_false(sslpeer_pem_matches(none.cert_pem, "data.bin"));
    assert_true(sslpeer_pem_matches(none.cert_pem, "someone"));   /* the common name still counts */
    assert_false(sslpeer_pem_matches("not a certificate", "data.bin"));
    free_ident(&ca);
    free_ident(&star);
    free_ident(&named);
    free_ident(&alt);
    free_ident(&none);
}

static void ctx_inputs(void **state)
{
    (void)state;
    struct ident ca = make_ident("root", NULL, NULL);
    struct ident me = make_ident("*", NULL, &ca);
    struct ident other = make_ident("*", NULL, &ca);
    char *dh = dh_pem();
    struct sslpeer_ctx *c;
    assert_int_equal(sslpeer_ctx_new("garbage", "x", &c), -EINVAL);
    assert_null(c);
    assert_int_equal(sslpeer_ctx_new(ca.cert_pem, "x", &c), 0);
    assert_false(sslpeer_ctx_has_identity(c));
    uint8_t h[20] = {1};
    struct sslpeer *t;
    assert_int_equal(sslpeer_connect(c, h, &t), -EPERM);   /* no identity, no connections */
    assert_int_equal(sslpeer_ctx_set_identity(c, me.cert_pem, other.key_pem, dh), -EINVAL);   /* key of another cert */
    assert_int_equal(sslpeer_ctx_set_identity(c, me.cert_pem, me.key_pem, "no dh"), -EINVAL);
    assert_false(sslpeer_ctx_has_identity(c));
    assert_int_equal(sslpeer_ctx_set_identity(c, me.cert_pem, me.key_pem, dh), 0);
    assert_true(sslpeer_ctx_has_identity(c));
    sslpeer_ctx_free(c);
    free(dh);
    free_ident(&ca);
    free_ident(&me);
    free_ident(&other);
}

/* ---- whole handshakes over memory ---- */

static struct sslpeer_ctx *g_server_ctx;
static uint8_t g_server_hash[20];

static struct sslpeer_ctx *lookup(void *ud, const uint8_t info_hash[20])
{
    (void)ud;
    return memcmp(info_hash, g_server_hash, 20) == 0 ? g_server_ctx : NULL;
}

/* Moves records both ways until nothing moves; the result of the first failure. */
static int pump(struct sslpeer *a, struct buf *a_out, struct buf *a_in, struct sslpeer *b, struct buf *b_out,
                struct buf *b_in)
{
    for (int round = 0; round < 50; round++) {
        struct buf wire = BUF_INIT;
        int rc = sslpeer_seal(a, a_out, &wire);
        if (rc == 0 && buf_size(&wire) > 0)
            rc = sslpeer_feed(b, buf_head(&wire), buf_size(&wire), b_in);
        size_t moved = buf_size(&wire);
        buf_free(&wire);
        if (rc != 0)
            return rc;
        rc = sslpeer_seal(b, b_out, &wire);
        if (rc == 0 && buf_size(&wire) > 0)
            rc = sslpeer_feed(a, buf_head(&wire), buf_size(&wire), a_in);
        moved += buf_size(&wire);
        buf_free(&wire);
        if (rc != 0)
            return rc;
        if (moved == 0)
            return 0;
    }
    return -ETIMEDOUT;
}

struct pair {
    struct sslpeer *cl, *sv;
    struct buf cl_out, cl_in, sv_out, sv_in;
};

static int run_pair(struct sslpeer_ctx *client, const uint8_t hash[20], struct sslpeer_server *srv, struct pair *p)
{
    memset(p, 0, sizeof *p);
    assert_int_equal(sslpeer_connect(client, hash, &p->cl), 0);
    assert_int_equal(sslpeer_accept(srv, &p->sv), 0);
    buf_append_str(&p->cl_out, "hello from the client");
    buf_append_str(&p->sv_out, "hello from the server");
    return pump(p->cl, &p->cl_out, &p->cl_in, p->sv, &p->sv_out, &p->sv_in);
}

/* A client context trusting root, presenting id. */
static struct sslpeer_ctx *client_ctx(const struct ident *root, const struct ident *id, const char *dh)
{
    struct sslpeer_ctx *c;
    assert_int_equal(sslpeer_ctx_new(root->cert_pem, "data.bin", &c), 0);
    assert_int_equal(sslpeer_ctx_set_identity(c, id->cert_pem, id->key_pem, dh), 0);
    return c;
}

static void free_pair(struct pair *p)
{
    sslpeer_free(p->cl);
    sslpeer_free(p->sv);
    buf_free(&p->cl_out);
    buf_free(&p->cl_in);
    buf_free(&p->sv_out);
    buf_free(&p->sv_in);
}

static struct sslpeer_ctx *no_torrent(void *ud, const uint8_t info_hash[20])
{
    (void)ud, (void)info_hash;
    return NULL;
}

/* encrypt_buffer_size: the ciphertext read buffer has the size set (ASan
 * checks the whole of it is there), 4096 at least. */
static void rbuf_size(void **state)
{
    (void)state;
    struct sslpeer_server *srv;
    assert_int_equal(sslpeer_server_new(no_torrent, NULL, &srv), 0);
    struct sslpeer *t;
    assert_int_equal(sslpeer_accept(srv, &t), 0);
    size_t len = 0;
    assert_non_null(sslpeer_rbuf(t, &len));
    assert_int_equal(len, 64 * 1024);
    assert_int_equal(sslpeer_set_rbuf_size(t, 4095), -EINVAL);
    assert_int_equal(sslpeer_set_rbuf_size(t, 4096), 0);
    memset(sslpeer_rbuf(t, &len), 0xab, 4096);
    assert_int_equal(len, 4096);
    assert_int_equal(sslpeer_set_rbuf_size(t, 102400), 0);
    memset(sslpeer_rbuf(t, &len), 0xcd, 102400);
    assert_int_equal(len, 102400);
    sslpeer_free(t);
    sslpeer_server_free(srv);
}

static void handshakes(void **state)
{
    (void)state;
    struct ident ca = make_ident("root", NULL, NULL);
    struct ident ca2 = make_ident("other root", NULL, NULL);
    struct ident srv_id = make_ident("*", NULL, &ca);
    struct ident cl_id = make_ident("data.bin", NULL, &ca);
    struct ident foreign = make_ident("*", NULL, &ca2);
    struct ident misnamed = make_ident("other.bin", NULL, &ca);
    char *dh = dh_pem();
    memset(g_server_hash, 0xab, 20);

    assert_int_equal(sslpeer_ctx_new(ca.cert_pem, "data.bin", &g_server_ctx), 0);
    assert_int_equal(sslpeer_ctx_set_identity(g_server_ctx, srv_id.cert_pem, srv_id.key_pem, dh), 0);
    struct sslpeer_server *srv;
    assert_int_equal(sslpeer_server_new(lookup, NULL, &srv), 0);

    /* both certificates from the torrent's root: plaintext flows both ways */
    struct sslpeer_ctx *cc = client_ctx(&ca, &cl_id, dh);
    struct pair p;
    assert_int_equal(run_pair(cc, g_server_hash, srv, &p), 0);
    assert_true(sslpeer_established(p.cl));
    assert_true(sslpeer_established(p.sv));
    assert_int_equal(buf_size(&p.sv_in), strlen("hello from the client"));
    assert_memory_equal(buf_head(&p.sv_in), "hello from the client", buf_size(&p.sv_in));
    assert_memory_equal(buf_head(&p.cl_in), "hello from the server", buf_size(&p.cl_in));
    assert_memory_equal(sslpeer_info_hash(p.sv), g_server_hash, 20);
    assert_true(sslpeer_uses(p.sv, g_server_ctx));
    assert_false(sslpeer_uses(p.sv, cc));
    /* a large write arrives whole */
    size_t big = 3u << 20;
    uint8_t *blob = malloc(big);
    for (size_t i = 0; i < big; i++)
        blob[i] = (uint8_t)(i * 7);
    buf_append(&p.cl_out, blob, big);
    assert_int_equal(pump(p.cl, &p.cl_out, &p.cl_in, p.sv, &p.sv_out, &p.sv_in), 0);
    assert_int_equal(buf_size(&p.sv_in), strlen("hello from the client") + big);
    assert_memory_equal(buf_head(&p.sv_in) + strlen("hello from the client"), blob, big);
    free(blob);
    free_pair(&p);

    /* an unknown info-hash in SNI: refused before any certificate is shown */
    uint8_t unknown[20] = {0};
    assert_int_equal(run_pair(cc, unknown, srv, &p), -EPROTO);
    assert_non_null(strstr(sslpeer_error(p.sv), "no SSL torrent"));
    assert_null(sslpeer_info_hash(p.sv));
    assert_int_equal(buf_size(&p.sv_in), 0);
    free_pair(&p);
    sslpeer_ctx_free(cc);

    /* a client certificate from another root: the server refuses it */
    cc = client_ctx(&ca, &foreign, dh);
    assert_int_equal(run_pair(cc, g_server_hash, srv, &p), -EPROTO);
    assert_int_equal(buf_size(&p.sv_in), 0);
    assert_false(sslpeer_established(p.sv));
    free_pair(&p);
    sslpeer_ctx_free(cc);

    /* right root, wrong name: refused once the handshake is done */
    cc = client_ctx(&ca, &misnamed, dh);
    assert_int_equal(run_pair(cc, g_server_hash, srv, &p), -EPROTO);
    assert_int_equal(buf_size(&p.sv_in), 0);
    assert_non_null(strstr(sslpeer_error(p.sv), "not issued for"));
    free_pair(&p);
    sslpeer_ctx_free(cc);

    /* a client that trusts another root refuses the server */
    cc = client_ctx(&ca2, &foreign, dh);
    assert_int_equal(run_pair(cc, g_server_hash, srv, &p), -EPROTO);
    assert_int_equal(buf_size(&p.cl_in), 0);
    assert_non_null(strstr(sslpeer_error(p.cl), "certificate"));
    free_pair(&p);
    sslpeer_ctx_free(cc);

    /* the listener may go first: accepted connections keep it alive */
    cc = client_ctx(&ca, &cl_id, dh);
    memset(&p, 0, sizeof p);
    assert_int_equal(sslpeer_connect(cc, g_server_hash, &p.cl), 0);
    assert_int_equal(sslpeer_accept(srv, &p.sv), 0);
    sslpeer_server_free(srv);
    assert_int_equal(pump(p.cl, &p.cl_out, &p.cl_in, p.sv, &p.sv_out, &p.sv_in), 0);
    assert_true(sslpeer_established(p.sv));
    free_pair(&p);
    sslpeer_ctx_free(cc);

    sslpeer_ctx_free(g_server_ctx);
    free(dh);
    free_ident(&ca);
    free_ident(&ca2);
    free_ident(&srv_id);
    free_ident(&cl_id);
    free_ident(&foreign);
    free_ident(&misnamed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_sni),
        cmocka_unit_test(name_matches),
        cmocka_unit_test(pem_matches),
        cmocka_unit_test(ctx_inputs),
        cmocka_unit_test(handshakes),
        cmocka_unit_test(rbuf_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
