#include "bt/mse.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The 768-bit prime of the MSE specification (RFC 2409's first Oakley
 * group); the generator is 2. */
static const char mse_prime_hex[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563";

#define MSE_PRIV_LEN 20   /* 160-bit private keys, as the specification asks */
#define MSE_RC4_DROP 1024
#define MSE_VC_LEN 8

/* ---- process-wide crypto state, made once ---- */

static pthread_once_t mse_once = PTHREAD_ONCE_INIT;
static BIGNUM *mse_p;                /* the prime */
static OSSL_LIB_CTX *mse_libctx;     /* holds the legacy provider, nothing else */
static EVP_CIPHER *mse_evp_rc4;      /* NULL: the legacy provider is missing */
static bool mse_builtin_forced;

static void mse_init_once(void)
{
    BN_hex2bn(&mse_p, mse_prime_hex);
    mse_libctx = OSSL_LIB_CTX_new();
    if (mse_libctx && OSSL_PROVIDER_load(mse_libctx, "legacy"))
        mse_evp_rc4 = EVP_CIPHER_fetch(mse_libctx, "RC4", NULL);
    if (!mse_evp_rc4)
        ERR_clear_error();   /* no legacy provider: our RC4 does the work */
}

static void mse_init(void)
{
    pthread_once(&mse_once, mse_init_once);
}

/* ---- RC4 ---- */

struct mse_rc4 {
    EVP_CIPHER_CTX *evp;   /* OpenSSL's, or NULL for ours below */
    uint8_t s[256];
    uint8_t i, j;
};

const char *mse_rc4_backend(void)
{
    mse_init();
    return mse_evp_rc4 && !mse_builtin_forced ? "openssl-legacy" : "builtin";
}

void mse_rc4_force_builtin(bool on)
{
    mse_builtin_forced = on;
}

static void rc4_own_apply(struct mse_rc4 *r, const uint8_t *in, uint8_t *out, size_t len)
{
    uint8_t i = r->i, j = r->j, *s = r->s;
    for (size_t n = 0; n < len; n++) {
        i++;
        uint8_t si = s[i];
        j = (uint8_t)(j + si);
        s[i] = s[j];
        s[j] = si;
        out[n] = in[n] ^ s[(uint8_t)(s[i] + si)];
    }
    r->i = i;
    r->j = j;
}

void mse_rc4_apply(struct mse_rc4 *r, const uint8_t *in, uint8_t *out, size_t len)
{
    if (!r->evp) {
        rc4_own_apply(r, in, out, len);
        return;
    }
    while (len > 0) {   /* EVP takes an int length */
        int n = len > (1u << 30) ? 1 << 30 : (int)len, outl = 0;
        EVP_CipherUpdate(r->evp, out, &outl, in, n);   /* RC4 cannot fail on a set-up context */
        in += n;
        out += n;
        len -= (size_t)n;
    }
}

int mse_rc4_new(const uint8_t *key, size_t key_len, size_t drop, struct mse_rc4 **out)
{
    mse_init();
    if (key_len == 0 || key_len > 256)
        return -EINVAL;
    struct mse_rc4 *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    if (mse_evp_rc4 && !mse_builtin_forced) {
        r->evp = EVP_CIPHER_CTX_new();
        if (!r->evp || EVP_CipherInit_ex(r->evp, mse_evp_rc4, NULL, NULL, NULL, 1) != 1 ||
            EVP_CIPHER_CTX_set_key_length(r->evp, (int)key_len) != 1 ||
            EVP_CipherInit_ex(r->evp, NULL, NULL, key, NULL, 1) != 1) {
            EVP_CIPHER_CTX_free(r->evp);
            free(r);
            ERR_clear_error();
            return -EIO;
        }
    } else {
        for (int k = 0; k < 256; k++)
            r->s[k] = (uint8_t)k;
        uint8_t j = 0;
        for (int k = 0; k < 256; k++) {
            j = (uint8_t)(j + r->s[k] + key[(size_t)k % key_len]);
            uint8_t t = r->s[k];
            r->s[k] = r->s[j];
            r->s[j] = t;
        }
    }
    uint8_t zero[256] = {0}, sink[256];
    while (drop > 0) {
        size_t n = drop < sizeof zero ? drop : sizeof zero;
        mse_rc4_apply(r, zero, sink, n);
        drop -= n;
    }
    *out = r;
    return 0;
}

void mse_rc4_free(struct mse_rc4 *r)
{
    if (!r)
        return;
    EVP_CIPHER_CTX_free(r->evp);
    OPENSSL_cleanse(r, sizeof *r);
    free(r);
}

/* ---- hashes, Diffie-Hellman ---- */

/* SHA1(tag || a || b). */
static void hash_tag(const char *tag, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[20])
{
    uint8_t tmp[4 + MSE_KEY_LEN + 20];
    size_t tl = strlen(tag);
    memcpy(tmp, tag, tl);
    memcpy(tmp + tl, a, alen);
    if (blen)
        memcpy(tmp + tl + alen, b, blen);
    SHA1(tmp, tl + alen + blen, out);
    OPENSSL_cleanse(tmp, sizeof tmp);
}

void mse_req2_hash(const uint8_t info_hash[20], uint8_t out[20])
{
    hash_tag("req2", info_hash, 20, NULL, 0, out);
}

/* priv: 160 random bits; pub = 2^priv mod P, 96 bytes big-endian. */
static int dh_keypair(uint8_t priv[MSE_PRIV_LEN], uint8_t pub[MSE_KEY_LEN])
{
    if (!mse_p || RAND_bytes(priv, MSE_PRIV_LEN) != 1)
        return -EIO;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *x = BN_secure_new(), *g = BN_new(), *y = BN_new();
    int rc = -EIO;
    if (ctx && x && g && y && BN_bin2bn(priv, MSE_PRIV_LEN, x) && BN_set_word(g, 2)) {
        BN_set_flags(x, BN_FLG_CONSTTIME);
        if (BN_mod_exp(y, g, x, mse_p, ctx) == 1 && BN_bn2binpad(y, pub, MSE_KEY_LEN) == MSE_KEY_LEN)
            rc = 0;
    }
    BN_clear_free(x);
    BN_free(g);
    BN_free(y);
    BN_CTX_free(ctx);
    return rc;
}

/* S = peer^priv mod P.  -EPROTO for a public key outside 2..P-2 (1, P-1
 * and the like give a secret anyone can guess). */
static int dh_secret(const uint8_t priv[MSE_PRIV_LEN], const uint8_t peer[MSE_KEY_LEN], uint8_t s[MSE_KEY_LEN])
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *x = BN_secure_new(), *y = BN_new(), *lim = BN_new(), *r = BN_secure_new();
    int rc = -EIO;
    if (!ctx || !x || !y || !lim || !r || !BN_bin2bn(priv, MSE_PRIV_LEN, x) || !BN_bin2bn(peer, MSE_KEY_LEN, y) ||
        !BN_copy(lim, mse_p) || !BN_sub_word(lim, 1))
        goto out;
    rc = -EPROTO;
    if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, lim) >= 0)
        goto out;
    rc = -EIO;
    BN_set_flags(x, BN_FLG_CONSTTIME);
    if (BN_mod_exp(r, y, x, mse_p, ctx) == 1 && BN_bn2binpad(r, s, MSE_KEY_LEN) == MSE_KEY_LEN)
        rc = 0;
out:
    BN_clear_free(x);
    BN_free(y);
    BN_free(lim);
    BN_clear_free(r);
    BN_CTX_free(ctx);
    return rc;
}

/* ---- the handshake ---- */

enum mse_state {
    A_YB,       /* initiator: waiting for Yb */
    A_VC,       /* looking for ENCRYPT(VC) past PadB */
    A_SELECT,   /* crypto_select, len(PadD) */
    A_PADD,
    B_YA,       /* responder: waiting for Ya */
    B_REQ1,     /* looking for HASH('req1', S) past PadA */
    B_REQ2,     /* HASH('req2', SKEY) xor HASH('req3', S) */
    B_VC,       /* VC, crypto_provide, len(PadC) */
    B_PADC,
    B_IALEN,
    B_IA,
    MSE_EST,
    MSE_FAILED,
};

struct mse {
    bool initiator;
    enum mse_state st;
    struct mse_opts o;
    uint8_t x[MSE_PRIV_LEN], y[MSE_KEY_LEN], s[MSE_KEY_LEN], skey[20];
    mse_lookup_fn lookup;
    void *ud;
    struct mse_rc4 *enc, *dec;
    uint8_t mark[20];   /* what ends the peer's pad: req1 (B), ENCRYPT(VC) (A) */
    size_t mark_len;
    uint8_t req3[20];
    uint8_t rx[MSE_RX_MAX];
    size_t rx_len;
    size_t pad_left, ia_left;
    uint32_t select;
    bool send3;         /* initiator: step 3 is due */
    bool heard;
    struct buf pend;    /* handshake bytes not yet handed to mse_seal's caller */
    const char *why;
};

void mse_opts_default(struct mse_opts *o)
{
    o->crypto = MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN;
    o->pad_len = -1;
    o->prefer_rc4 = true;
}

static int fail(struct mse *m, const char *why)
{
    m->st = MSE_FAILED;
    m->why = why;
    return -EPROTO;
}

static size_t pad_len(const struct mse *m)
{
    if (m->o.pad_len >= 0)
        return (size_t)m->o.pad_len;
    uint16_t r = 0;
    RAND_bytes((unsigned char *)&r, sizeof r);
    return r % (MSE_PAD_MAX + 1);
}

/* Appends n random bytes. */
static int put_pad(struct buf *b, size_t n)
{
    uint8_t pad[MSE_PAD_MAX];
    if (n > sizeof pad)
        n = sizeof pad;
    if (n && RAND_bytes(pad, (int)n) != 1)
        return -EIO;
    return buf_append(b, pad, n);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int new_common(const struct mse_opts *opts, bool initiator, struct mse **out)
{
    mse_init();
    struct mse_opts def;
    if (!opts) {
        mse_opts_default(&def);
        opts = &def;
    }
    if (!(opts->crypto & (MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN)) || opts->pad_len > MSE_PAD_MAX)
        return -EINVAL;
    struct mse *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->o = *opts;
    m->o.crypto &= MSE_CRYPTO_RC4 | MSE_CRYPTO_PLAIN;
    m->initiator = initiator;
    m->st = initiator ? A_YB : B_YA;
    if (dh_keypair(m->x, m->y) != 0) {
        mse_free(m);
        return -EIO;
    }
    *out = m;
    return 0;
}

int mse_initiator_new(const uint8_t skey[20], const struct mse_opts *opts, struct mse **out)
{
    struct mse *m;
    int rc = new_common(opts, true, &m);
    if (rc)
        return rc;
    memcpy(m->skey, skey, 20);
    buf_append(&m->pend, m->y, MSE_KEY_LEN);
    put_pad(&m->pend, pad_len(m));
    if (buf_error(&m->pend)) {
        mse_free(m);
        return -ENOMEM;
    }
    *out = m;
    return 0;
}

int mse_responder_new(mse_lookup_fn lookup, void *ud, const struct mse_opts *opts, struct mse **out)
{
    struct mse *m;
    int rc = new_common(opts, false, &m);
    if (rc)
        return rc;
    m->lookup = lookup;
    m->ud = ud;
    *out = m;
    return 0;
}

void mse_free(struct mse *m)
{
    if (!m)
        return;
    mse_rc4_free(m->enc);
    mse_rc4_free(m->dec);
    buf_free(&m->pend);
    OPENSSL_cleanse(m, sizeof *m);
    free(m);
}

/* Both RC4 states once S and SKEY are known: A sends with keyA, B with keyB. */
static int derive_keys(struct mse *m)
{
    uint8_t ka[20], kb[20];
    hash_tag("keyA", m->s, MSE_KEY_LEN, m->skey, 20, ka);
    hash_tag("keyB", m->s, MSE_KEY_LEN, m->skey, 20, kb);
    int rc = mse_rc4_new(m->initiator ? ka : kb, 20, MSE_RC4_DROP, &m->enc);
    if (rc == 0)
        rc = mse_rc4_new(m->initiator ? kb : ka, 20, MSE_RC4_DROP, &m->dec);
    OPENSSL_cleanse(ka, sizeof ka);
    OPENSSL_cleanse(kb, sizeof kb);
    return rc;
}

static void consume(struct mse *m, size_t n)
{
    memmove(m->rx, m->rx + n, m->rx_len - n);
    m->rx_len -= n;
}

/* The first place of mark in rx, or -1. */
static long find_mark(const struct mse *m)
{
    if (m->rx_len < m->mark_len)
        return -1;
    for (size_t k = 0; k + m->mark_len <= m->rx_len; k++)
        if (memcmp(m->rx + k, m->mark, m->mark_len) == 0)
            return (long)k;
    return -1;
}

/* Decrypts n bytes of rx onto plain (n <= rx_len), or copies them for a
 * plaintext stream. */
static int rx_to_plain(struct mse *m, size_t n, bool decrypt, struct buf *plain)
{
    if (decrypt)
        mse_rc4_apply(m->dec, m->rx, m->rx, n);
    int rc = buf_append(plain, m->rx, n);
    consume(m, n);
    return rc;
}

/* Chooses from what the initiator offers: RC4 first when we prefer it or
 * do not accept plaintext. */
static uint32_t choose(const struct mse *m, uint32_t provide)
{
    uint32_t both = provide & m->o.crypto;
    if ((both & MSE_CRYPTO_RC4) && (m->o.prefer_rc4 || !(both & MSE_CRYPTO_PLAIN)))
        return MSE_CRYPTO_RC4;
    if (both & MSE_CRYPTO_PLAIN)
        return MSE_CRYPTO_PLAIN;
    return 0;
}

/* The responder's step 4 header: ENCRYPT(VC, crypto_select, len(PadD), PadD). */
static int queue_step4(struct mse *m)
{
    size_t pad = m->o.pad_len > 0 ? (size_t)m->o.pad_len : 0;
    uint8_t hdr[MSE_VC_LEN + 6 + MSE_PAD_MAX] = {0};
    put_be32(hdr + MSE_VC_LEN, m->select);
    hdr[MSE_VC_LEN + 4] = (uint8_t)(pad >> 8);
    hdr[MSE_VC_LEN + 5] = (uint8_t)pad;
    size_t n = MSE_VC_LEN + 6 + pad;
    mse_rc4_apply(m->enc, hdr, hdr, n);
    return buf_append(&m->pend, hdr, n);
}

/* One step on the bytes in rx: 1 moved on, 0 needs more bytes, <0 failed. */
static int step(struct mse *m, struct buf *plain)
{
    switch (m->st) {
    case A_YB:
    case B_YA: {
        if (m->rx_len < MSE_KEY_LEN)
            return 0;
        int rc = dh_secret(m->x, m->rx, m->s);
        if (rc)
            return rc == -EPROTO ? fail(m, "bad Diffie-Hellman key") : rc;
        consume(m, MSE_KEY_LEN);
        if (m->initiator) {
            if (derive_keys(m) != 0)
                return -ENOMEM;
            static const uint8_t vc[MSE_VC_LEN];
            /* ENCRYPT(VC) is the first 8 bytes of B's stream: run dec over it
             * now, so it stands right after VC when the mark is found. */
            mse_rc4_apply(m->dec, vc, m->mark, MSE_VC_LEN);
            m->mark_len = MSE_VC_LEN;
            m->send3 = true;
            m->st = A_VC;
        } else {
            hash_tag("req1", m->s, MSE_KEY_LEN, NULL, 0, m->mark);
            hash_tag("req3", m->s, MSE_KEY_LEN, NULL, 0, m->req3);
            m->mark_len = 20;
            buf_append(&m->pend, m->y, MSE_KEY_LEN);
            put_pad(&m->pend, pad_len(m));
            if (buf_error(&m->pend))
                return -ENOMEM;
            m->st = B_REQ1;
        }
        return 1;
    }
    case A_VC:
    case B_REQ1: {
        long k = find_mark(m);
        if (k < 0 || k > MSE_PAD_MAX) {
            if (k > MSE_PAD_MAX || m->rx_len >= MSE_PAD_MAX + m->mark_len)
                return fail(m, m->initiator ? "no VC within 512 bytes of padding" : "no req1 hash within 512 bytes of padding");
            return 0;
        }
        consume(m, (size_t)k + m->mark_len);
        m->st = m->initiator ? A_SELECT : B_REQ2;
        return 1;
    }
    case A_SELECT: {
        if (m->rx_len < 6)
            return 0;
        mse_rc4_apply(m->dec, m->rx, m->rx, 6);
        uint32_t sel = (uint32_t)m->rx[0] << 24 | (uint32_t)m->rx[1] << 16 | (uint32_t)m->rx[2] << 8 | m->rx[3];
        size_t pad = (size_t)m->rx[4] << 8 | m->rx[5];
        consume(m, 6);
        if ((sel != MSE_CRYPTO_RC4 && sel != MSE_CRYPTO_PLAIN) || !(sel & m->o.crypto))
            return fail(m, "crypto_select is not one we offered");
        if (pad > MSE_PAD_MAX)
            return fail(m, "PadD longer than 512 bytes");
        m->select = sel;
        m->pad_left = pad;
        m->st = A_PADD;
        return 1;
    }
    case A_PADD:
    case B_PADC: {
        if (m->pad_left > 0) {
            size_t n = m->rx_len < m->pad_left ? m->rx_len : m->pad_left;
            if (n == 0)
                return 0;
            mse_rc4_apply(m->dec, m->rx, m->rx, n);
            consume(m, n);
            m->pad_left -= n;
            if (m->pad_left > 0)
                return 1;
        }
        m->st = m->initiator ? MSE_EST : B_IALEN;
        return 1;
    }
    case B_REQ2: {
        if (m->rx_len < 20)
            return 0;
        uint8_t req2[20];
        for (int k = 0; k < 20; k++)
            req2[k] = m->rx[k] ^ m->req3[k];
        consume(m, 20);
        if (!m->lookup || m->lookup(m->ud, req2, m->skey) != 0)
            return fail(m, "no torrent for the obfuscated info-hash");
        if (derive_keys(m) != 0)
            return -ENOMEM;
        m->st = B_VC;
        return 1;
    }
    case B_VC: {
        if (m->rx_len < MSE_VC_LEN + 6)
            return 0;
        mse_rc4_apply(m->dec, m->rx, m->rx, MSE_VC_LEN + 6);
        static const uint8_t vc[MSE_VC_LEN];
        bool vc_ok = memcmp(m->rx, vc, MSE_VC_LEN) == 0;
        const uint8_t *p = m->rx + MSE_VC_LEN;
        uint32_t provide = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        size_t pad = (size_t)p[4] << 8 | p[5];
        consume(m, MSE_VC_LEN + 6);
        if (!vc_ok)
            return fail(m, "bad verification constant (wrong key or info-hash)");
        if (pad > MSE_PAD_MAX)
            return fail(m, "PadC longer than 512 bytes");
        m->select = choose(m, provide);
        if (!m->select)
            return fail(m, "no encryption method in common");
        m->pad_left = pad;
        m->st = B_PADC;
        return 1;
    }
    case B_IALEN:
        if (m->rx_len < 2)
            return 0;
        mse_rc4_apply(m->dec, m->rx, m->rx, 2);
        m->ia_left = (size_t)m->rx[0] << 8 | m->rx[1];
        consume(m, 2);
        if (queue_step4(m) != 0)
            return -ENOMEM;
        m->st = B_IA;
        return 1;
    case B_IA: {
        /* IA is always RC4 (it rides in ENCRYPT), whatever is selected. */
        if (m->ia_left > 0) {
            size_t n = m->rx_len < m->ia_left ? m->rx_len : m->ia_left;
            if (n == 0)
                return 0;
            if (rx_to_plain(m, n, true, plain) != 0)
                return -ENOMEM;
            m->ia_left -= n;
            if (m->ia_left > 0)
                return 1;
        }
        m->st = MSE_EST;
        return 1;
    }
    case MSE_EST:
        if (m->rx_len == 0)
            return 0;
        return rx_to_plain(m, m->rx_len, m->select == MSE_CRYPTO_RC4, plain) ? -ENOMEM : 1;
    case MSE_FAILED:
        return -EPROTO;
    }
    return -EPROTO;
}

int mse_feed(struct mse *m, const uint8_t *data, size_t len, struct buf *plain)
{
    if (m->st == MSE_FAILED)
        return -EPROTO;
    if (len)
        m->heard = true;
    for (;;) {
        if (m->st == MSE_EST && m->rx_len == 0) {
            if (len == 0)
                return 0;
            size_t at = buf_size(plain);
            if (buf_append(plain, data, len) != 0)
                return -ENOMEM;
            if (m->select == MSE_CRYPTO_RC4) {
                uint8_t *p = (uint8_t *)buf_head(plain) + at;
                mse_rc4_apply(m->dec, p, p, len);
            }
            return 0;
        }
        size_t n = sizeof m->rx - m->rx_len;
        if (n > len)
            n = len;
        memcpy(m->rx + m->rx_len, data, n);
        m->rx_len += n;
        data += n;
        len -= n;
        int rc;
        while ((rc = step(m, plain)) == 1)
            ;
        if (rc < 0) {
            if (m->st != MSE_FAILED)
                fail(m, "out of memory");
            return rc;
        }
        if (len == 0)
            return 0;
        if (m->rx_len == sizeof m->rx)   /* cannot happen: every wait is shorter */
            return fail(m, "handshake overflow");
    }
}

/* The initiator's step 3, with IA taken from plain. */
static int put_step3(struct mse *m, struct buf *plain, struct buf *out)
{
    uint8_t h[20], r3[20];
    hash_tag("req1", m->s, MSE_KEY_LEN, NULL, 0, h);
    buf_append(out, h, 20);
    mse_req2_hash(m->skey, h);
    hash_tag("req3", m->s, MSE_KEY_LEN, NULL, 0, r3);
    for (int k = 0; k < 20; k++)
        h[k] ^= r3[k];
    buf_append(out, h, 20);
    size_t pad = m->o.pad_len > 0 ? (size_t)m->o.pad_len : 0;
    size_t ia = buf_size(plain) < MSE_IA_MAX ? buf_size(plain) : MSE_IA_MAX;
    size_t at = buf_size(out);
    uint8_t hdr[MSE_VC_LEN + 6] = {0};
    put_be32(hdr + MSE_VC_LEN, m->o.crypto);
    hdr[MSE_VC_LEN + 4] = (uint8_t)(pad >> 8);
    hdr[MSE_VC_LEN + 5] = (uint8_t)pad;
    buf_append(out, hdr, sizeof hdr);
    uint8_t zero[MSE_PAD_MAX] = {0};
    buf_append(out, zero, pad);
    uint8_t ial[2] = {(uint8_t)(ia >> 8), (uint8_t)ia};
    buf_append(out, ial, 2);
    if (ia)
        buf_append(out, buf_head(plain), ia);
    if (buf_error(out))
        return -ENOMEM;
    buf_consume(plain, ia);
    uint8_t *p = (uint8_t *)buf_head(out) + at;
    mse_rc4_apply(m->enc, p, p, buf_size(out) - at);
    return 0;
}

int mse_seal(struct mse *m, struct buf *plain, struct buf *out)
{
    if (m->st == MSE_FAILED)
        return -EPROTO;
    if (buf_size(&m->pend) > 0) {
        if (buf_append(out, buf_head(&m->pend), buf_size(&m->pend)) != 0)
            return -ENOMEM;
        buf_reset(&m->pend);
    }
    if (m->send3) {
        if (put_step3(m, plain, out) != 0)
            return -ENOMEM;
        m->send3 = false;
    }
    size_t n = buf_size(plain);
    if (m->st != MSE_EST || n == 0)
        return 0;
    size_t at = buf_size(out);
    if (buf_append(out, buf_head(plain), n) != 0)
        return -ENOMEM;
    buf_consume(plain, n);
    if (m->select == MSE_CRYPTO_RC4) {
        uint8_t *p = (uint8_t *)buf_head(out) + at;
        mse_rc4_apply(m->enc, p, p, n);
    }
    return 0;
}

bool mse_established(const struct mse *m)
{
    return m->st == MSE_EST && !m->send3 && buf_size(&m->pend) == 0;
}

uint32_t mse_selected(const struct mse *m)
{
    return m->st == MSE_EST ? m->select : 0;
}

const uint8_t *mse_skey(const struct mse *m)
{
    return m->skey;
}

const char *mse_error(const struct mse *m)
{
    return m->why ? m->why : "encryption handshake failed";
}

bool mse_heard(const struct mse *m)
{
    return m->heard;
}

void mse_decrypt(struct mse *m, uint8_t *data, size_t len)
{
    if (m->select == MSE_CRYPTO_RC4)
        mse_rc4_apply(m->dec, data, data, len);
}

void mse_encrypt(struct mse *m, const uint8_t *in, uint8_t *out, size_t len)
{
    if (m->select == MSE_CRYPTO_RC4)
        mse_rc4_apply(m->enc, in, out, len);
    else if (in != out)
        memcpy(out, in, len);
}

enum mse_detect mse_detect(const uint8_t *data, size_t len)
{
    static const char proto[] = "\x13" "BitTorrent protocol";
    size_t n = len < 20 ? len : 20;
    if (memcmp(data, proto, n) != 0)
        return MSE_DETECT_MSE;
    return n == 20 ? MSE_DETECT_PLAIN : MSE_DETECT_MORE;
}
