/*
 * tls_decrypt.c - TLS 1.2 / 1.3 record decryption with a key log (see
 * tls_decrypt.h for the contract).
 *
 * Per direction:
 *
 *   TLS 1.3   none --first type-23 record--> handshake keys (C/S HTS)
 *             handshake --Finished completes a record--> application keys (C/S TS0)
 *             application --KeyUpdate completes a record--> next generation
 *   TLS 1.2   plaintext --CCS--> encrypted (key block from CLIENT_RANDOM)
 *
 * TLS 1.3 records (RFC 8446 5.2):  opaque_type(23) 0x0303 length | AEAD(
 *   content | inner type | zeros ) | 16-byte tag, nonce = iv ^ seq.
 * TLS 1.2 GCM (RFC 5288):          explicit_nonce(8) | ciphertext | tag(16)
 * TLS 1.2 ChaCha20 (RFC 7905):     ciphertext | tag(16), nonce = iv ^ seq.
 *
 * Handshake messages of TLS 1.3 are followed by their 4-byte headers only
 * (type, 24-bit length); their bodies are skipped, never buffered.  All
 * primitives come from libcrypto's EVP interfaces.
 */
#include "tls_decrypt.h"

#include "tls_wire.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

enum cipher_kind {
    AEAD_AES128_GCM,
    AEAD_AES256_GCM,
    AEAD_CHACHA20_POLY1305,
    CBC_AES128,
    CBC_AES256,
    CIPHER_KINDS,
};

#define TAG_LEN 16
#define NONCE_LEN 12
#define CBC_BLOCK 16
#define MAC_MAX 48

struct suite {
    uint16_t id;
    bool tls13;
    enum cipher_kind aead;
    bool sha384;        /* PRF / HKDF hash */
    uint8_t key_len;
    uint8_t iv_len;     /* TLS 1.2 AEAD: fixed iv from the key block */
    uint8_t mac_len;    /* CBC: HMAC-SHA1/256/384 length; 0 for AEAD */
};

/* IANA TLS Cipher Suites handled */
static const struct suite suites[] = {
    { 0x1301, true, AEAD_AES128_GCM, false, 16, 12, 0 },        /* TLS_AES_128_GCM_SHA256 */
    { 0x1302, true, AEAD_AES256_GCM, true, 32, 12, 0 },         /* TLS_AES_256_GCM_SHA384 */
    { 0x1303, true, AEAD_CHACHA20_POLY1305, false, 32, 12, 0 }, /* TLS_CHACHA20_POLY1305_SHA256 */
    { 0x009c, false, AEAD_AES128_GCM, false, 16, 4, 0 },        /* RSA_WITH_AES_128_GCM_SHA256 */
    { 0x009d, false, AEAD_AES256_GCM, true, 32, 4, 0 },         /* RSA_WITH_AES_256_GCM_SHA384 */
    { 0x009e, false, AEAD_AES128_GCM, false, 16, 4, 0 },        /* DHE_RSA_WITH_AES_128_GCM_SHA256 */
    { 0x009f, false, AEAD_AES256_GCM, true, 32, 4, 0 },         /* DHE_RSA_WITH_AES_256_GCM_SHA384 */
    { 0xc02b, false, AEAD_AES128_GCM, false, 16, 4, 0 },        /* ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
    { 0xc02c, false, AEAD_AES256_GCM, true, 32, 4, 0 },         /* ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 */
    { 0xc02f, false, AEAD_AES128_GCM, false, 16, 4, 0 },        /* ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
    { 0xc030, false, AEAD_AES256_GCM, true, 32, 4, 0 },         /* ECDHE_RSA_WITH_AES_256_GCM_SHA384 */
    { 0xcca8, false, AEAD_CHACHA20_POLY1305, false, 32, 12, 0 },/* ECDHE_RSA_WITH_CHACHA20_POLY1305 */
    { 0xcca9, false, AEAD_CHACHA20_POLY1305, false, 32, 12, 0 },/* ECDHE_ECDSA_WITH_CHACHA20_POLY1305 */
    { 0xccaa, false, AEAD_CHACHA20_POLY1305, false, 32, 12, 0 },/* DHE_RSA_WITH_CHACHA20_POLY1305 */
    /* CBC (RFC 5246 6.2.3.2; RFC 7366 encrypt-then-MAC when negotiated) */
    { 0x002f, false, CBC_AES128, false, 16, 0, 20 },         /* RSA_WITH_AES_128_CBC_SHA */
    { 0x0035, false, CBC_AES256, false, 32, 0, 20 },         /* RSA_WITH_AES_256_CBC_SHA */
    { 0x003c, false, CBC_AES128, false, 16, 0, 32 },         /* RSA_WITH_AES_128_CBC_SHA256 */
    { 0x003d, false, CBC_AES256, false, 32, 0, 32 },         /* RSA_WITH_AES_256_CBC_SHA256 */
    { 0x0033, false, CBC_AES128, false, 16, 0, 20 },         /* DHE_RSA_WITH_AES_128_CBC_SHA */
    { 0x0039, false, CBC_AES256, false, 32, 0, 20 },         /* DHE_RSA_WITH_AES_256_CBC_SHA */
    { 0x0067, false, CBC_AES128, false, 16, 0, 32 },         /* DHE_RSA_WITH_AES_128_CBC_SHA256 */
    { 0x006b, false, CBC_AES256, false, 32, 0, 32 },         /* DHE_RSA_WITH_AES_256_CBC_SHA256 */
    { 0xc009, false, CBC_AES128, false, 16, 0, 20 },         /* ECDHE_ECDSA_WITH_AES_128_CBC_SHA */
    { 0xc00a, false, CBC_AES256, false, 32, 0, 20 },         /* ECDHE_ECDSA_WITH_AES_256_CBC_SHA */
    { 0xc013, false, CBC_AES128, false, 16, 0, 20 },         /* ECDHE_RSA_WITH_AES_128_CBC_SHA */
    { 0xc014, false, CBC_AES256, false, 32, 0, 20 },         /* ECDHE_RSA_WITH_AES_256_CBC_SHA */
    { 0xc023, false, CBC_AES128, false, 16, 0, 32 },         /* ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 */
    { 0xc024, false, CBC_AES256, true, 32, 0, 48 },          /* ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 */
    { 0xc027, false, CBC_AES128, false, 16, 0, 32 },         /* ECDHE_RSA_WITH_AES_128_CBC_SHA256 */
    { 0xc028, false, CBC_AES256, true, 32, 0, 48 },          /* ECDHE_RSA_WITH_AES_256_CBC_SHA384 */
};

struct dec_dir {
    EVP_CIPHER_CTX *cctx;           /* keyed AEAD; NULL until keys */
    uint8_t iv[NONCE_LEN];          /* TLS 1.3 iv, 1.2 salt (4) or iv (12) */
    uint8_t mac_key[MAC_MAX];       /* TLS 1.2 CBC: HMAC key */
    uint8_t secret[KEYLOG_SECRET_MAX]; /* TLS 1.3 current traffic secret */
    size_t secret_len;
    uint64_t seq;
    uint64_t records;               /* encrypted records seen */
    enum tls_decrypt_epoch epoch;
    unsigned generation;
    bool encrypted;                 /* TLS 1.2: CCS seen */
    bool decrypted;                 /* DECRYPTED emitted */
    bool finished12;                /* TLS 1.2: the encrypted Finished was seen */

    uint8_t hs_hdr[4];              /* TLS 1.3 handshake message header */
    uint8_t hs_have;
    uint32_t hs_left;               /* body bytes of the current message to skip */
    bool pending_switch, pending_update;

    uint8_t hdr[5];                 /* framing (tls_decrypt_data) */
    size_t hdr_have;
    bool in_body;
    size_t need, have;
    uint8_t *buf;                   /* TLS_DEC_MAX_CIPHERTEXT, allocated when a record is split */
};

struct tls_decrypt {
    struct tls_decrypt_ctx *ctx;
    tls_decrypt_data_fn on_data;
    tls_decrypt_event_fn on_event;
    void *user;
    uint8_t client_random[32], server_random[32];
    bool have_cr, have_sh;
    uint16_t version, cipher;
    const struct suite *suite;
    bool keys12;
    bool etm;                       /* RFC 7366 encrypt-then-MAC negotiated */
    bool stopped;
    struct dec_dir d[2];
};

struct tls_decrypt_ctx {
    struct tls_decrypt_config cfg;
    struct keylog *kl;
    EVP_CIPHER *cipher[CIPHER_KINDS];
    EVP_KDF *hkdf, *prf;
    EVP_MAC *hmac;
    size_t live;
    struct tls_decrypt_stats st;
};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

const char *tls_decrypt_event_name(enum tls_decrypt_event_type t)
{
    switch (t) {
    case TLS_DEC_EV_KEYS: return "keys";
    case TLS_DEC_EV_DECRYPTED: return "decrypted";
    case TLS_DEC_EV_ALERT: return "alert";
    case TLS_DEC_EV_KEY_UPDATE: return "key_update";
    case TLS_DEC_EV_AUTH_FAILED: return "auth_failed";
    case TLS_DEC_EV_NO_KEY: return "no_key";
    case TLS_DEC_EV_UNSUPPORTED: return "unsupported";
    case TLS_DEC_EV_ERROR: return "error";
    }
    return "unknown";
}

void tls_decrypt_config_default(struct tls_decrypt_config *cfg)
{
    cfg->max_conns = 4096;
}

/* ---- context --------------------------------------------------------- */

struct tls_decrypt_ctx *tls_decrypt_ctx_new(const struct tls_decrypt_config *cfg,
                                            struct keylog *kl)
{
    static const char *const names[CIPHER_KINDS] = {
        "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305", "AES-128-CBC", "AES-256-CBC",
    };
    struct tls_decrypt_ctx *ctx = calloc(1, sizeof(*ctx));
    int i;

    if (ctx == NULL)
        return NULL;
    if (cfg != NULL)
        ctx->cfg = *cfg;
    else
        tls_decrypt_config_default(&ctx->cfg);
    ctx->kl = kl;
    for (i = 0; i < CIPHER_KINDS; i++) {
        ctx->cipher[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
        if (ctx->cipher[i] == NULL)
            goto out_free;
    }
    ctx->hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    ctx->prf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    ctx->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (ctx->hkdf == NULL || ctx->prf == NULL || ctx->hmac == NULL)
        goto out_free;
    return ctx;

out_free:
    tls_decrypt_ctx_free(ctx);
    return NULL;
}

void tls_decrypt_ctx_free(struct tls_decrypt_ctx *ctx)
{
    int i;

    if (ctx == NULL)
        return;
    for (i = 0; i < CIPHER_KINDS; i++)
        EVP_CIPHER_free(ctx->cipher[i]);
    EVP_KDF_free(ctx->hkdf);
    EVP_KDF_free(ctx->prf);
    EVP_MAC_free(ctx->hmac);
    free(ctx);
}

bool tls_decrypt_ctx_has_keys(struct tls_decrypt_ctx *ctx)
{
    return ctx != NULL && keylog_has_secrets(ctx->kl);
}

void tls_decrypt_ctx_stats(const struct tls_decrypt_ctx *ctx, struct tls_decrypt_stats *st)
{
    if (ctx == NULL)
        memset(st, 0, sizeof(*st));
    else
        *st = ctx->st;
}

/* ---- primitives ------------------------------------------------------ */

int tls_decrypt_expand_label(const struct tls_decrypt_ctx *ctx, bool sha384, const uint8_t *secret,
                             size_t secret_len, const char *label, const uint8_t *context,
                             size_t context_len, uint8_t *out, size_t outlen)
{
    static const char prefix[] = "tls13 ";
    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t label_len = strlen(label), n = 0;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, rc = -1;
    EVP_KDF_CTX *kctx;
    OSSL_PARAM params[5];

    if (ctx == NULL || outlen > 0xffff || label_len + 6 > 255 || context_len > 255)
        return -1;
    /* HkdfLabel: uint16 length, opaque label<7..255>, opaque context<0..255> */
    info[n++] = (uint8_t)(outlen >> 8);
    info[n++] = (uint8_t)outlen;
    info[n++] = (uint8_t)(label_len + 6);
    memcpy(info + n, prefix, 6);
    n += 6;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = (uint8_t)context_len;
    if (context_len > 0)
        memcpy(info + n, context, context_len);
    n += context_len;
    kctx = EVP_KDF_CTX_new(ctx->hkdf);
    if (kctx == NULL)
        return -1;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                 sha384 ? (char *)"SHA384" : (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
    params[4] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, out, outlen, params) == 1)
        rc = 0;
    EVP_KDF_CTX_free(kctx);
    return rc;
}

int tls_decrypt_prf(const struct tls_decrypt_ctx *ctx, bool sha384, const uint8_t *secret,
                    size_t secret_len, const char *label, const uint8_t *seed, size_t seed_len,
                    uint8_t *out, size_t outlen)
{
    uint8_t full[256];
    size_t label_len = strlen(label);
    EVP_KDF_CTX *kctx;
    OSSL_PARAM params[4];
    int rc = -1;

    if (ctx == NULL || label_len + seed_len > sizeof(full))
        return -1;
    memcpy(full, label, label_len);
    if (seed_len > 0)
        memcpy(full + label_len, seed, seed_len);
    kctx = EVP_KDF_CTX_new(ctx->prf);
    if (kctx == NULL)
        return -1;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                 sha384 ? (char *)"SHA384" : (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full, label_len + seed_len);
    params[3] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, out, outlen, params) == 1)
        rc = 0;
    EVP_KDF_CTX_free(kctx);
    return rc;
}

/* Key dd's AEAD with key; false on a libcrypto failure. */
static bool aead_key(struct tls_decrypt *d, struct dec_dir *dd, const uint8_t *key)
{
    EVP_CIPHER *cipher = d->ctx->cipher[d->suite->aead];

    if (dd->cctx == NULL) {
        dd->cctx = EVP_CIPHER_CTX_new();
        if (dd->cctx == NULL)
            return false;
    }
    if (d->suite->mac_len > 0) /* CBC: the record layer strips its own padding */
        return EVP_DecryptInit_ex(dd->cctx, cipher, NULL, key, NULL) == 1 &&
               EVP_CIPHER_CTX_set_padding(dd->cctx, 0) == 1;
    if (EVP_DecryptInit_ex(dd->cctx, cipher, NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(dd->cctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(dd->cctx, NULL, NULL, key, NULL) != 1)
        return false;
    return true;
}

/* HMAC(dd->mac_key, pseudo_header(13) | data) into out (mac_len bytes). */
static bool hmac12(const struct tls_decrypt *d, const struct dec_dir *dd, const uint8_t *pseudo,
                   const uint8_t *data, size_t n, uint8_t *out)
{
    size_t ml = d->suite->mac_len, outl = 0;
    const char *md = ml == 20 ? "SHA1" : ml == 32 ? "SHA256" : "SHA384";
    EVP_MAC_CTX *mc = EVP_MAC_CTX_new(d->ctx->hmac);
    OSSL_PARAM params[2];
    bool ok;

    if (mc == NULL)
        return false;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0);
    params[1] = OSSL_PARAM_construct_end();
    ok = EVP_MAC_init(mc, dd->mac_key, ml, params) == 1 && EVP_MAC_update(mc, pseudo, 13) == 1 &&
         (n == 0 || EVP_MAC_update(mc, data, n) == 1) &&
         EVP_MAC_final(mc, out, &outl, MAC_MAX) == 1 && outl == ml;
    EVP_MAC_CTX_free(mc);
    return ok;
}

/* AES-CBC without padding removal; false on a libcrypto failure. */
static bool cbc_decrypt(struct dec_dir *dd, const uint8_t *iv, const uint8_t *ct, size_t n,
                        uint8_t *out)
{
    int outl = 0;

    return EVP_DecryptInit_ex(dd->cctx, NULL, NULL, NULL, iv) == 1 &&
           EVP_DecryptUpdate(dd->cctx, out, &outl, ct, (int)n) == 1 && (size_t)outl == n;
}

/* TLS CBC padding (RFC 5246 6.2.3.2): n bytes end in pad+1 bytes of value
 * pad.  Returns the content length, or -1. */
static long cbc_unpad(const uint8_t *p, size_t n)
{
    size_t pad, i;

    if (n == 0)
        return -1;
    pad = p[n - 1];
    if (pad + 1 > n)
        return -1;
    for (i = n - pad - 1; i < n; i++)
        if (p[i] != pad)
            return -1;
    return (long)(n - pad - 1);
}

/* Authenticate and decrypt; out gets ct_len bytes.  False when the tag
 * does not verify (out is wiped then). */
static bool aead_open(struct dec_dir *dd, const uint8_t nonce[NONCE_LEN], const uint8_t *aad,
                      size_t aad_len, const uint8_t *ct, size_t ct_len, const uint8_t *tag,
                      uint8_t *out)
{
    uint8_t tagbuf[TAG_LEN];
    int outl = 0, finl = 0;
    bool ok;

    memcpy(tagbuf, tag, TAG_LEN);
    ok = EVP_DecryptInit_ex(dd->cctx, NULL, NULL, NULL, nonce) == 1 &&
         EVP_DecryptUpdate(dd->cctx, NULL, &outl, aad, (int)aad_len) == 1 &&
         (ct_len == 0 || EVP_DecryptUpdate(dd->cctx, out, &outl, ct, (int)ct_len) == 1) &&
         EVP_CIPHER_CTX_ctrl(dd->cctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tagbuf) == 1 &&
         EVP_DecryptFinal_ex(dd->cctx, out + (ct_len == 0 ? 0 : (size_t)outl), &finl) == 1;
    if (!ok)
        OPENSSL_cleanse(out, ct_len);
    return ok;
}

/* ---- connection ------------------------------------------------------ */

struct tls_decrypt *tls_decrypt_new(struct tls_decrypt_ctx *ctx, tls_decrypt_data_fn data,
                                    tls_decrypt_event_fn event, void *user)
{
    struct tls_decrypt *d;

    if (ctx == NULL)
        return NULL;
    if (ctx->live >= ctx->cfg.max_conns) {
        ctx->st.conns_refused++;
        return NULL;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->ctx = ctx;
    d->on_data = data;
    d->on_event = event;
    d->user = user;
    ctx->live++;
    ctx->st.conns++;
    return d;
}

static void wipe_dir(struct dec_dir *dd)
{
    EVP_CIPHER_CTX_free(dd->cctx); /* cleanses the key schedule */
    dd->cctx = NULL;
    OPENSSL_cleanse(dd->secret, sizeof(dd->secret));
    OPENSSL_cleanse(dd->iv, sizeof(dd->iv));
    OPENSSL_cleanse(dd->mac_key, sizeof(dd->mac_key));
    dd->secret_len = 0;
}

void tls_decrypt_free(struct tls_decrypt *d)
{
    int i;

    if (d == NULL)
        return;
    for (i = 0; i < 2; i++) {
        wipe_dir(&d->d[i]);
        free(d->d[i].buf);
    }
    if (d->ctx->live > 0)
        d->ctx->live--;
    OPENSSL_cleanse(d, sizeof(*d));
    free(d);
}

bool tls_decrypt_stopped(const struct tls_decrypt *d)
{
    return d == NULL || d->stopped;
}

bool tls_decrypt_decrypted(const struct tls_decrypt *d, int dir)
{
    return d != NULL && (dir == 0 || dir == 1) && d->d[dir].decrypted;
}

static void ev_init(const struct tls_decrypt *d, int dir, struct tls_decrypt_event *ev,
                    enum tls_decrypt_event_type type)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->dir = dir;
    ev->version = d->version;
    ev->cipher = d->cipher;
    ev->record = d->d[dir].records;
    ev->epoch = d->d[dir].epoch;
    ev->generation = d->d[dir].generation;
}

static void emit(struct tls_decrypt *d, const struct tls_decrypt_event *ev)
{
    if (d->on_event != NULL)
        d->on_event(d->user, ev);
}

/* Stop decrypting the connection: one event says why, keys are wiped. */
static void stop(struct tls_decrypt *d, int dir, enum tls_decrypt_event_type type, const char *why)
{
    struct tls_decrypt_event ev;

    if (d->stopped)
        return;
    d->stopped = true;
    switch (type) {
    case TLS_DEC_EV_AUTH_FAILED: d->ctx->st.auth_failures++; break;
    case TLS_DEC_EV_NO_KEY: d->ctx->st.no_key++; break;
    case TLS_DEC_EV_UNSUPPORTED: d->ctx->st.unsupported++; break;
    default: d->ctx->st.errors++; break;
    }
    ev_init(d, dir, &ev, type);
    ev.reason = why;
    emit(d, &ev);
    wipe_dir(&d->d[0]);
    wipe_dir(&d->d[1]);
}

void tls_decrypt_client_hello(struct tls_decrypt *d, const uint8_t random[32])
{
    if (d == NULL || d->stopped || random == NULL)
        return;
    memcpy(d->client_random, random, 32);
    d->have_cr = true;
}

void tls_decrypt_server_hello(struct tls_decrypt *d, const uint8_t random[32], uint16_t version,
                              uint16_t cipher, bool hello_retry, bool encrypt_then_mac)
{
    size_t i;

    if (d == NULL || d->stopped || hello_retry || d->have_sh)
        return;
    if (random != NULL)
        memcpy(d->server_random, random, 32);
    d->version = version;
    d->cipher = cipher;
    d->etm = encrypt_then_mac;
    d->have_sh = true;
    if (!d->have_cr) {
        stop(d, 1, TLS_DEC_EV_ERROR, "ServerHello without a ClientHello: no client random");
        return;
    }
    if (version != 0x0303 && version != 0x0304) {
        stop(d, 1, TLS_DEC_EV_UNSUPPORTED, "TLS version not decrypted (only 1.2 and 1.3)");
        return;
    }
    for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        if (suites[i].id == cipher && suites[i].tls13 == (version == 0x0304))
            d->suite = &suites[i];
    }
    if (d->suite == NULL)
        stop(d, 1, TLS_DEC_EV_UNSUPPORTED, "cipher suite not decrypted (AEAD and AES-CBC only)");
}

/* ---- TLS 1.3 ----------------------------------------------------------- */

static size_t hash_len(const struct suite *s)
{
    return s->sha384 ? 48 : 32;
}

/* Derive key and iv from dd->secret and key the AEAD; seq restarts. */
static bool install13(struct tls_decrypt *d, int dir)
{
    struct dec_dir *dd = &d->d[dir];
    uint8_t key[32];
    bool ok;

    ok = tls_decrypt_expand_label(d->ctx, d->suite->sha384, dd->secret, dd->secret_len, "key",
                                  NULL, 0, key, d->suite->key_len) == 0 &&
         tls_decrypt_expand_label(d->ctx, d->suite->sha384, dd->secret, dd->secret_len, "iv",
                                  NULL, 0, dd->iv, NONCE_LEN) == 0 &&
         aead_key(d, dd, key);
    OPENSSL_cleanse(key, sizeof(key));
    dd->seq = 0;
    if (!ok)
        stop(d, dir, TLS_DEC_EV_ERROR, "key derivation failed in libcrypto");
    return ok;
}

/* Load `label` from the key log as dir's traffic secret for `epoch`. */
static bool keys13_from_log(struct tls_decrypt *d, int dir, enum keylog_label label,
                            enum tls_decrypt_epoch epoch)
{
    struct dec_dir *dd = &d->d[dir];
    struct tls_decrypt_event ev;
    size_t n;

    OPENSSL_cleanse(dd->secret, sizeof(dd->secret));
    n = keylog_get(d->ctx->kl, d->client_random, label, dd->secret, sizeof(dd->secret));
    if (n == 0) {
        static const char *const why[KEYLOG_LABELS] = {
            "no CLIENT_RANDOM line for this connection in the key log",
            "no CLIENT_HANDSHAKE_TRAFFIC_SECRET for this connection in the key log",
            "no SERVER_HANDSHAKE_TRAFFIC_SECRET for this connection in the key log",
            "no CLIENT_TRAFFIC_SECRET_0 for this connection in the key log",
            "no SERVER_TRAFFIC_SECRET_0 for this connection in the key log",
        };
        stop(d, dir, TLS_DEC_EV_NO_KEY, why[label]);
        return false;
    }
    if (n != hash_len(d->suite)) {
        stop(d, dir, TLS_DEC_EV_NO_KEY, "key log secret length does not fit the cipher suite");
        return false;
    }
    dd->secret_len = n;
    dd->epoch = epoch;
    dd->generation = 0;
    if (!install13(d, dir))
        return false;
    ev_init(d, dir, &ev, TLS_DEC_EV_KEYS);
    emit(d, &ev);
    return true;
}

/* Follow the decrypted handshake messages of dir (headers only). */
static bool hs13_feed(struct tls_decrypt *d, int dir, const uint8_t *p, size_t n)
{
    struct dec_dir *dd = &d->d[dir];

    while (n > 0) {
        if (dd->pending_switch || dd->pending_update) {
            stop(d, dir, TLS_DEC_EV_ERROR, "handshake data after a key change in the same record");
            return false;
        }
        if (dd->hs_have < 4) {
            dd->hs_hdr[dd->hs_have++] = *p++;
            n--;
            if (dd->hs_have < 4)
                continue;
            dd->hs_left = (uint32_t)dd->hs_hdr[1] << 16 | (uint32_t)dd->hs_hdr[2] << 8 | dd->hs_hdr[3];
        } else {
            size_t k = n < dd->hs_left ? n : dd->hs_left;

            p += k;
            n -= k;
            dd->hs_left -= (uint32_t)k;
        }
        if (dd->hs_have == 4 && dd->hs_left == 0) {
            uint8_t type = dd->hs_hdr[0];

            dd->hs_have = 0;
            if (type == HS_FINISHED && dd->epoch == TLS_DEC_EPOCH_HANDSHAKE)
                dd->pending_switch = true;
            else if (type == HS_KEY_UPDATE && dd->epoch == TLS_DEC_EPOCH_APPLICATION)
                dd->pending_update = true;
            else if (type == HS_KEY_UPDATE) {
                stop(d, dir, TLS_DEC_EV_ERROR, "KeyUpdate before the handshake finished");
                return false;
            }
            /* NewSessionTicket, post-handshake authentication: skipped */
            (void)HS_NEW_SESSION_TICKET;
        }
    }
    return true;
}

static void deliver(struct tls_decrypt *d, int dir, const uint8_t *p, size_t n)
{
    d->ctx->st.app_bytes += n;
    if (n > 0 && d->on_data != NULL)
        d->on_data(d->user, dir, p, n);
}

static void first_decrypted(struct tls_decrypt *d, int dir)
{
    struct tls_decrypt_event ev;

    if (d->d[dir].decrypted)
        return;
    d->d[dir].decrypted = true;
    ev_init(d, dir, &ev, TLS_DEC_EV_DECRYPTED);
    emit(d, &ev);
}

static void alert(struct tls_decrypt *d, int dir, const uint8_t *p, size_t n)
{
    struct tls_decrypt_event ev;

    if (n != 2) {
        stop(d, dir, TLS_DEC_EV_ERROR, "decrypted alert is not 2 bytes");
        return;
    }
    ev_init(d, dir, &ev, TLS_DEC_EV_ALERT);
    ev.alert_level = p[0];
    ev.alert_desc = p[1];
    emit(d, &ev);
}

/* After a record: the key change its last handshake message asked for. */
static void key_change13(struct tls_decrypt *d, int dir)
{
    struct dec_dir *dd = &d->d[dir];
    struct tls_decrypt_event ev;

    if (dd->pending_switch) {
        dd->pending_switch = false;
        (void)keys13_from_log(d, dir, dir == 0 ? KEYLOG_CLIENT_TRAFFIC_0 : KEYLOG_SERVER_TRAFFIC_0,
                              TLS_DEC_EPOCH_APPLICATION);
    } else if (dd->pending_update) {
        uint8_t next[KEYLOG_SECRET_MAX];

        dd->pending_update = false;
        if (tls_decrypt_expand_label(d->ctx, d->suite->sha384, dd->secret, dd->secret_len,
                                     "traffic upd", NULL, 0, next, dd->secret_len) != 0) {
            stop(d, dir, TLS_DEC_EV_ERROR, "key derivation failed in libcrypto");
            return;
        }
        memcpy(dd->secret, next, dd->secret_len);
        OPENSSL_cleanse(next, sizeof(next));
        dd->generation++;
        if (!install13(d, dir))
            return;
        d->ctx->st.key_updates++;
        ev_init(d, dir, &ev, TLS_DEC_EV_KEY_UPDATE);
        emit(d, &ev);
    }
}

static void record13(struct tls_decrypt *d, int dir, const uint8_t *hdr, const uint8_t *frag,
                     size_t len)
{
    struct dec_dir *dd = &d->d[dir];
    uint8_t pt[TLS_DEC_MAX_CIPHERTEXT];
    uint8_t nonce[NONCE_LEN], seq[8];
    size_t plen, i;
    uint8_t inner;

    if (hdr[0] != CT_APPDATA)
        return; /* middlebox CCS, a plaintext alert, a ClientHello after HRR */
    if (dd->epoch == TLS_DEC_EPOCH_NONE &&
        !keys13_from_log(d, dir, dir == 0 ? KEYLOG_CLIENT_HANDSHAKE : KEYLOG_SERVER_HANDSHAKE,
                         TLS_DEC_EPOCH_HANDSHAKE))
        return;
    if (len < TAG_LEN + 1) {
        stop(d, dir, TLS_DEC_EV_ERROR, "encrypted record shorter than its tag");
        return;
    }
    plen = len - TAG_LEN;
    memcpy(nonce, dd->iv, NONCE_LEN);
    put_be64(seq, dd->seq);
    for (i = 0; i < 8; i++)
        nonce[NONCE_LEN - 8 + i] ^= seq[i];
    if (!aead_open(dd, nonce, hdr, 5, frag, plen, frag + plen, pt)) {
        stop(d, dir, TLS_DEC_EV_AUTH_FAILED, "record failed to authenticate (wrong key or damaged)");
        return;
    }
    dd->seq++;
    dd->records++;
    d->ctx->st.records++;
    while (plen > 0 && pt[plen - 1] == 0)
        plen--;
    if (plen == 0) {
        stop(d, dir, TLS_DEC_EV_ERROR, "decrypted record has no content type");
        goto out_wipe;
    }
    inner = pt[--plen];
    if (plen > TLS_DEC_MAX_PLAINTEXT) {
        stop(d, dir, TLS_DEC_EV_ERROR, "decrypted record longer than 2^14");
        goto out_wipe;
    }
    first_decrypted(d, dir);
    switch (inner) {
    case CT_HANDSHAKE:
        if (plen == 0) {
            stop(d, dir, TLS_DEC_EV_ERROR, "empty handshake record");
            break;
        }
        if (hs13_feed(d, dir, pt, plen))
            key_change13(d, dir);
        break;
    case CT_APPDATA:
        if (dd->epoch != TLS_DEC_EPOCH_APPLICATION) {
            stop(d, dir, TLS_DEC_EV_ERROR, "application data under handshake keys");
            break;
        }
        deliver(d, dir, pt, plen);
        break;
    case CT_ALERT:
        alert(d, dir, pt, plen);
        break;
    default:
        stop(d, dir, TLS_DEC_EV_ERROR, "unexpected inner content type");
        break;
    }
out_wipe:
    OPENSSL_cleanse(pt, len);
}

/* ---- TLS 1.2 ----------------------------------------------------------- */

/* RFC 5246 6.3: key block from the master secret; keys both directions. */
static bool keys12(struct tls_decrypt *d, int dir)
{
    const struct suite *s = d->suite;
    uint8_t master[KEYLOG_SECRET_MAX], seed[64], block[2 * MAC_MAX + 2 * 32 + 2 * 12];
    size_t n, kl = s->key_len, il = s->iv_len, ml = s->mac_len;
    struct tls_decrypt_event ev;
    bool ok;
    int i;

    n = keylog_get(d->ctx->kl, d->client_random, KEYLOG_CLIENT_RANDOM, master, sizeof(master));
    if (n != 48) {
        OPENSSL_cleanse(master, sizeof(master));
        stop(d, dir, TLS_DEC_EV_NO_KEY, "no CLIENT_RANDOM line for this connection in the key log");
        return false;
    }
    memcpy(seed, d->server_random, 32);
    memcpy(seed + 32, d->client_random, 32);
    ok = tls_decrypt_prf(d->ctx, s->sha384, master, 48, "key expansion", seed, sizeof(seed), block,
                         2 * ml + 2 * kl + 2 * il) == 0;
    OPENSSL_cleanse(master, sizeof(master));
    /* client/server_write_MAC_key (CBC), client/server_write_key,
     * client/server_write_IV (AEAD; CBC records carry their own) */
    for (i = 0; ok && i < 2; i++) {
        memcpy(d->d[i].mac_key, block + (size_t)i * ml, ml);
        memcpy(d->d[i].iv, block + 2 * ml + 2 * kl + (size_t)i * il, il);
        ok = aead_key(d, &d->d[i], block + 2 * ml + (size_t)i * kl);
        d->d[i].epoch = TLS_DEC_EPOCH_APPLICATION;
        d->d[i].seq = 0;
    }
    OPENSSL_cleanse(block, sizeof(block));
    if (!ok) {
        stop(d, dir, TLS_DEC_EV_ERROR, "key derivation failed in libcrypto");
        return false;
    }
    d->keys12 = true;
    for (i = 0; i < 2; i++) {
        ev_init(d, i, &ev, TLS_DEC_EV_KEYS);
        emit(d, &ev);
    }
    return true;
}

/* An authenticated TLS 1.2 record's plaintext. */
static void plaintext12(struct tls_decrypt *d, int dir, uint8_t type, const uint8_t *pt, size_t plen)
{
    struct dec_dir *dd = &d->d[dir];

    dd->seq++;
    dd->records++;
    d->ctx->st.records++;
    first_decrypted(d, dir);
    switch (type) {
    case CT_HANDSHAKE:
        dd->finished12 = true; /* Finished, or a renegotiation request: not application data */
        break;
    case CT_APPDATA:
        if (!dd->finished12)
            stop(d, dir, TLS_DEC_EV_ERROR, "application data before Finished");
        else
            deliver(d, dir, pt, plen);
        break;
    case CT_ALERT:
        alert(d, dir, pt, plen);
        break;
    default:
        break; /* heartbeat */
    }
}

/* MAC pseudo-header: seq(8) type(1) version(2) length(2). */
static void pseudo12(uint8_t out[13], uint64_t seq, const uint8_t *hdr, size_t len)
{
    put_be64(out, seq);
    out[8] = hdr[0];
    out[9] = hdr[1];
    out[10] = hdr[2];
    out[11] = (uint8_t)(len >> 8);
    out[12] = (uint8_t)len;
}

/* CBC record: IV(16) | AES-CBC(content | MAC | padding), or with
 * encrypt-then-MAC (RFC 7366) IV(16) | AES-CBC(content | padding) | MAC. */
static void record12_cbc(struct tls_decrypt *d, int dir, const uint8_t *hdr, const uint8_t *frag,
                         size_t len)
{
    struct dec_dir *dd = &d->d[dir];
    size_t ml = d->suite->mac_len, clen, n;
    uint8_t pt[TLS_DEC_MAX_CIPHERTEXT];
    uint8_t pseudo[13], mac[MAC_MAX];
    long content;
    bool ok;

    clen = d->etm ? (len >= ml ? len - ml : 0) : len; /* IV + ciphertext */
    if (clen < 2 * CBC_BLOCK || clen % CBC_BLOCK != 0 || (!d->etm && clen - CBC_BLOCK < ml + 1)) {
        stop(d, dir, TLS_DEC_EV_ERROR, "CBC record of an impossible length");
        return;
    }
    n = clen - CBC_BLOCK;
    if (d->etm) {
        pseudo12(pseudo, dd->seq, hdr, clen);
        ok = hmac12(d, dd, pseudo, frag, clen, mac) && CRYPTO_memcmp(mac, frag + clen, ml) == 0;
        ok = ok && cbc_decrypt(dd, frag, frag + CBC_BLOCK, n, pt);
        content = ok ? cbc_unpad(pt, n) : -1;
    } else {
        ok = cbc_decrypt(dd, frag, frag + CBC_BLOCK, n, pt);
        content = ok ? cbc_unpad(pt, n) : -1;
        if (content >= (long)ml) {
            content -= (long)ml;
            pseudo12(pseudo, dd->seq, hdr, (size_t)content);
            ok = hmac12(d, dd, pseudo, pt, (size_t)content, mac) &&
                 CRYPTO_memcmp(mac, pt + content, ml) == 0;
        } else {
            ok = false;
        }
    }
    if (!ok || content < 0) {
        OPENSSL_cleanse(pt, n);
        stop(d, dir, TLS_DEC_EV_AUTH_FAILED, "record failed to authenticate (wrong key or damaged)");
        return;
    }
    if ((size_t)content > TLS_DEC_MAX_PLAINTEXT) {
        OPENSSL_cleanse(pt, n);
        stop(d, dir, TLS_DEC_EV_ERROR, "decrypted record longer than 2^14");
        return;
    }
    plaintext12(d, dir, hdr[0], pt, (size_t)content);
    OPENSSL_cleanse(pt, n);
}

static void record12(struct tls_decrypt *d, int dir, const uint8_t *hdr, const uint8_t *frag,
                     size_t len)
{
    struct dec_dir *dd = &d->d[dir];
    uint8_t pt[TLS_DEC_MAX_CIPHERTEXT];
    uint8_t nonce[NONCE_LEN], aad[13];
    const uint8_t *ct;
    size_t plen, i;

    if (!dd->encrypted) {
        if (hdr[0] == CT_CCS) {
            if (len != 1 || frag[0] != 1)
                stop(d, dir, TLS_DEC_EV_ERROR, "malformed ChangeCipherSpec");
            else
                dd->encrypted = true;
        } else if (hdr[0] == CT_APPDATA) {
            stop(d, dir, TLS_DEC_EV_ERROR, "application data before ChangeCipherSpec");
        }
        return; /* plaintext handshake and alerts */
    }
    if (hdr[0] == CT_CCS) {
        stop(d, dir, TLS_DEC_EV_UNSUPPORTED, "renegotiation is not decrypted");
        return;
    }
    if (!d->keys12 && !keys12(d, dir))
        return;
    if (d->suite->mac_len > 0) {
        record12_cbc(d, dir, hdr, frag, len);
        return;
    }
    if (d->suite->aead == AEAD_CHACHA20_POLY1305) {
        if (len < TAG_LEN) {
            stop(d, dir, TLS_DEC_EV_ERROR, "encrypted record shorter than its tag");
            return;
        }
        memcpy(nonce, dd->iv, NONCE_LEN);
        put_be64(aad, dd->seq);
        for (i = 0; i < 8; i++)
            nonce[NONCE_LEN - 8 + i] ^= aad[i];
        ct = frag;
        plen = len - TAG_LEN;
    } else {
        if (len < 8 + TAG_LEN) {
            stop(d, dir, TLS_DEC_EV_ERROR, "encrypted record shorter than its nonce and tag");
            return;
        }
        memcpy(nonce, dd->iv, 4);
        memcpy(nonce + 4, frag, 8);
        ct = frag + 8;
        plen = len - 8 - TAG_LEN;
    }
    if (plen > TLS_DEC_MAX_PLAINTEXT) {
        stop(d, dir, TLS_DEC_EV_ERROR, "decrypted record longer than 2^14");
        return;
    }
    put_be64(aad, dd->seq);
    aad[8] = hdr[0];
    aad[9] = hdr[1];
    aad[10] = hdr[2];
    aad[11] = (uint8_t)(plen >> 8);
    aad[12] = (uint8_t)plen;
    if (!aead_open(dd, nonce, aad, sizeof(aad), ct, plen, ct + plen, pt)) {
        stop(d, dir, TLS_DEC_EV_AUTH_FAILED, "record failed to authenticate (wrong key or damaged)");
        return;
    }
    plaintext12(d, dir, hdr[0], pt, plen);
    OPENSSL_cleanse(pt, plen);
}

/* ---- records and framing ---------------------------------------------- */

void tls_decrypt_record(struct tls_decrypt *d, int dir, const uint8_t hdr[5],
                        const uint8_t *frag, size_t len)
{
    if (d == NULL || (dir != 0 && dir != 1) || d->stopped || hdr == NULL)
        return;
    if (len != be16(hdr + 3) || (len > 0 && frag == NULL)) {
        stop(d, dir, TLS_DEC_EV_ERROR, "record length does not match its header");
        return;
    }
    if (len > TLS_DEC_MAX_CIPHERTEXT) {
        stop(d, dir, TLS_DEC_EV_ERROR, "record longer than 2^14 + 256");
        return;
    }
    if (!d->have_sh || d->suite == NULL) {
        if (hdr[0] == CT_APPDATA)
            stop(d, dir, TLS_DEC_EV_ERROR, "encrypted record before the handshake was seen");
        return;
    }
    if (d->suite->tls13)
        record13(d, dir, hdr, frag, len);
    else
        record12(d, dir, hdr, frag, len);
}

void tls_decrypt_data(struct tls_decrypt *d, int dir, const uint8_t *data, size_t len)
{
    struct dec_dir *dd;

    if (d == NULL || (dir != 0 && dir != 1) || data == NULL)
        return;
    dd = &d->d[dir];
    while (len > 0 && !d->stopped) {
        size_t k;

        if (!dd->in_body) {
            k = 5 - dd->hdr_have;
            if (k > len)
                k = len;
            memcpy(dd->hdr + dd->hdr_have, data, k);
            dd->hdr_have += k;
            data += k;
            len -= k;
            if (dd->hdr_have < 5)
                break;
            dd->hdr_have = 0;
            if (dd->hdr[0] < CT_CCS || dd->hdr[0] > CT_HEARTBEAT || dd->hdr[1] != 3) {
                stop(d, dir, TLS_DEC_EV_ERROR, "not a TLS record");
                break;
            }
            dd->need = be16(dd->hdr + 3);
            dd->have = 0;
            if (dd->need > TLS_DEC_MAX_CIPHERTEXT) {
                stop(d, dir, TLS_DEC_EV_ERROR, "record longer than 2^14 + 256");
                break;
            }
            dd->in_body = true;
        }
        if (dd->have == 0 && len >= dd->need) { /* whole record in this chunk */
            dd->in_body = false;
            tls_decrypt_record(d, dir, dd->hdr, data, dd->need);
            data += dd->need;
            len -= dd->need;
            continue;
        }
        if (dd->buf == NULL) {
            dd->buf = malloc(TLS_DEC_MAX_CIPHERTEXT);
            if (dd->buf == NULL) {
                stop(d, dir, TLS_DEC_EV_ERROR, "out of memory for a record");
                break;
            }
        }
        k = dd->need - dd->have;
        if (k > len)
            k = len;
        memcpy(dd->buf + dd->have, data, k);
        dd->have += k;
        data += k;
        len -= k;
        if (dd->have == dd->need) {
            dd->in_body = false;
            tls_decrypt_record(d, dir, dd->hdr, dd->buf, dd->need);
        }
    }
}

void tls_decrypt_gap(struct tls_decrypt *d, int dir)
{
    if (d == NULL || (dir != 0 && dir != 1) || d->stopped)
        return;
    stop(d, dir, TLS_DEC_EV_ERROR, "bytes missing in the capture: later records cannot be decrypted");
}
