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
 *
 * This file: the context, the primitives, the connection state, the
 * events, the hellos and the record framing; the key schedules and record
 * formats of each version are in tls13_decrypt.c and tls12_decrypt.c.
 */
#include "tls_decrypt_int.h"

#include "tls_wire.h"

#include <stdlib.h>
#include <string.h>

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
    cfg->max_held = 32 * 1024;
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
bool tlsd_aead_key(struct tls_decrypt *d, struct dec_dir *dd, const uint8_t *key)
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




/* Authenticate and decrypt; out gets ct_len bytes.  False when the tag
 * does not verify (out is wiped then). */
bool tlsd_aead_open(struct dec_dir *dd, const uint8_t nonce[NONCE_LEN], const uint8_t *aad,
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

/* ---- records held for a missing secret ---------------------------------- */

static void held_drop(struct tls_decrypt *d)
{
    if (d->held != NULL) {
        OPENSSL_cleanse(d->held, d->held_len);
        budget_free(d->held);
    }
    d->held = NULL;
    d->held_len = d->held_size = 0;
}

/* Give up waiting: the secret did not come in time. */
static void wait_give_up(struct tls_decrypt *d, const char *why)
{
    d->waiting = false;
    held_drop(d);
    tlsd_stop(d, d->wait_dir, TLS_DEC_EV_NO_KEY, why != NULL ? why : d->wait_why);
}

/* Keep one record (with the tag it came with) until the secret is there;
 * past max_held or without memory, give up. */
static void hold(struct tls_decrypt *d, int dir, const uint8_t *hdr, const uint8_t *frag, size_t len,
                 const uint8_t *tag, uint8_t tag_len)
{
    size_t need = 2 + (size_t)tag_len + 5 + len;

    if (d->held_len + need > d->ctx->cfg.max_held) {
        d->ctx->st.held_overflows++;
        wait_give_up(d, NULL);
        return;
    }
    if (d->held_len + need > d->held_size) {
        size_t size = d->held_size ? d->held_size : 2048;
        uint8_t *p;

        while (size < d->held_len + need)
            size *= 2;
        if (size > d->ctx->cfg.max_held)
            size = d->ctx->cfg.max_held;
        p = budget_malloc(d->budget, size);
        if (p == NULL) {
            wait_give_up(d, "no memory (or state budget) to hold records until the key log has the secret");
            return;
        }
        if (d->held != NULL) {
            memcpy(p, d->held, d->held_len);
            OPENSSL_cleanse(d->held, d->held_len);
            budget_free(d->held);
        }
        d->held = p;
        d->held_size = size;
    }
    {
        uint8_t *p = d->held + d->held_len;

        p[0] = (uint8_t)dir;
        p[1] = tag_len;
        memcpy(p + 2, tag, tag_len);
        memcpy(p + 2 + tag_len, hdr, 5);
        if (len > 0)
            memcpy(p + 2 + tag_len + 5, frag, len);
        d->held_len += need;
        d->ctx->st.held_records++;
    }
}

void tlsd_wait(struct tls_decrypt *d, int dir, enum keylog_label label, const char *why)
{
    if (d->ctx->cfg.max_held == 0) {
        tlsd_stop(d, dir, TLS_DEC_EV_NO_KEY, why);
        return;
    }
    if (!d->waited) {
        d->waited = true;
        d->ctx->st.key_waits++;
    }
    d->waiting = true;
    d->hold_current = true;
    d->wait_dir = dir;
    d->wait_label = label;
    d->wait_why = why;
}

static void process_record(struct tls_decrypt *d, int dir, const uint8_t *hdr, const uint8_t *frag,
                           size_t len);

/* The secret is there: decrypt the held records in order (holding again
 * from where the next secret is missing). */
static void replay_held(struct tls_decrypt *d)
{
    uint8_t *buf = d->held;
    size_t len = d->held_len, off = 0;

    d->held = NULL;
    d->held_len = d->held_size = 0;
    while (off + 2 <= len && !d->stopped) {
        int dir = buf[off];
        uint8_t tl = buf[off + 1];
        const uint8_t *tag = buf + off + 2, *hdr = tag + tl, *frag = hdr + 5;
        size_t flen = (size_t)hdr[3] << 8 | hdr[4];

        off += 2 + (size_t)tl + 5 + flen;
        if (d->waiting) {
            d->ctx->st.held_records--; /* counted when it was first held */
            hold(d, dir, hdr, frag, flen, tag, tl);
            continue;
        }
        d->cur_tag = tag;
        d->cur_tag_len = tl;
        process_record(d, dir, hdr, frag, flen);
        if (d->waiting && d->hold_current) {
            d->ctx->st.held_records--;
            hold(d, dir, hdr, frag, flen, tag, tl);
        }
    }
    d->cur_tag = NULL;
    OPENSSL_cleanse(buf, len);
    budget_free(buf);
}

/* Is the missing secret there now?  Then go on with the held records. */
static void wait_check(struct tls_decrypt *d, bool refresh)
{
    uint8_t secret[KEYLOG_SECRET_MAX];
    size_t n;

    if (!d->waiting || d->stopped)
        return;
    if (refresh)
        keylog_refresh(d->ctx->kl);
    n = keylog_get(d->ctx->kl, d->client_random, d->wait_label, secret, sizeof(secret));
    OPENSSL_cleanse(secret, sizeof(secret));
    if (n == 0)
        return;
    d->waiting = false;
    d->ctx->st.keys_late++;
    replay_held(d);
}

void tls_decrypt_retry(struct tls_decrypt *d, bool final)
{
    if (d == NULL || !d->waiting || d->stopped)
        return;
    wait_check(d, true);
    if (final && d->waiting && !d->stopped)
        wait_give_up(d, NULL);
}

bool tls_decrypt_waiting(const struct tls_decrypt *d)
{
    return d != NULL && d->waiting && !d->stopped;
}

void tls_decrypt_set_tag(struct tls_decrypt *d, const void *tag, size_t len)
{
    if (d == NULL)
        return;
    if (tag == NULL || len > TLS_DEC_TAG_MAX)
        len = 0;
    if (len > 0)
        memcpy(d->tag, tag, len);
    d->tag_len = (uint8_t)len;
}

const void *tls_decrypt_tag(const struct tls_decrypt *d, size_t *len)
{
    const uint8_t *t;
    uint8_t n;

    if (d == NULL)
        return NULL;
    t = d->cur_tag != NULL ? d->cur_tag : d->tag;
    n = d->cur_tag != NULL ? d->cur_tag_len : d->tag_len;
    if (n == 0)
        return NULL;
    if (len != NULL)
        *len = n;
    return t;
}

/* ---- connection ------------------------------------------------------ */

struct tls_decrypt *tls_decrypt_new(struct tls_decrypt_ctx *ctx, struct mem_budget *budget,
                                    tls_decrypt_data_fn data, tls_decrypt_event_fn event,
                                    void *user)
{
    struct tls_decrypt *d;

    if (ctx == NULL)
        return NULL;
    if (ctx->live >= ctx->cfg.max_conns) {
        ctx->st.conns_refused++;
        return NULL;
    }
    d = budget_calloc(budget, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->budget = budget;
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
    if (d->waiting && !d->stopped) { /* the secret never came */
        d->ctx->st.no_key++;
        d->ctx->st.conns_stopped++;
    }
    held_drop(d);
    for (i = 0; i < 2; i++) {
        wipe_dir(&d->d[i]);
        budget_free(d->d[i].buf);
    }
    if (d->ctx->live > 0)
        d->ctx->live--;
    OPENSSL_cleanse(d, sizeof(*d));
    budget_free(d);
}

bool tls_decrypt_stopped(const struct tls_decrypt *d)
{
    return d == NULL || d->stopped;
}

bool tls_decrypt_decrypted(const struct tls_decrypt *d, int dir)
{
    return d != NULL && (dir == 0 || dir == 1) && d->d[dir].decrypted;
}

void tlsd_ev_init(const struct tls_decrypt *d, int dir, struct tls_decrypt_event *ev,
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

void tlsd_emit(struct tls_decrypt *d, const struct tls_decrypt_event *ev)
{
    if (d->on_event != NULL)
        d->on_event(d->user, ev);
}


/* Stop decrypting the connection: one event says why, keys are wiped. */
void tlsd_stop(struct tls_decrypt *d, int dir, enum tls_decrypt_event_type type, const char *why)
{
    struct tls_decrypt_event ev;

    if (d->stopped)
        return;
    d->stopped = true;
    d->ctx->st.conns_stopped++;
    switch (type) {
    case TLS_DEC_EV_AUTH_FAILED: d->ctx->st.auth_failures++; break;
    case TLS_DEC_EV_NO_KEY: d->ctx->st.no_key++; break;
    case TLS_DEC_EV_UNSUPPORTED: d->ctx->st.unsupported++; break;
    default: d->ctx->st.errors++; break;
    }
    tlsd_ev_init(d, dir, &ev, type);
    ev.reason = why;
    tlsd_emit(d, &ev);
    wipe_dir(&d->d[0]);
    wipe_dir(&d->d[1]);
}

void tlsd_deliver(struct tls_decrypt *d, int dir, const uint8_t *p, size_t n)
{
    d->ctx->st.app_bytes += n;
    if (n > 0 && d->on_data != NULL)
        d->on_data(d->user, dir, p, n);
}

void tlsd_first_decrypted(struct tls_decrypt *d, int dir)
{
    struct tls_decrypt_event ev;

    if (d->d[dir].decrypted)
        return;
    if (!d->d[!dir].decrypted)
        d->ctx->st.conns_decrypted++;
    d->d[dir].decrypted = true;
    tlsd_ev_init(d, dir, &ev, TLS_DEC_EV_DECRYPTED);
    tlsd_emit(d, &ev);
}

void tlsd_alert(struct tls_decrypt *d, int dir, const uint8_t *p, size_t n)
{
    struct tls_decrypt_event ev;

    if (n != 2) {
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "decrypted alert is not 2 bytes");
        return;
    }
    tlsd_ev_init(d, dir, &ev, TLS_DEC_EV_ALERT);
    ev.alert_level = p[0];
    ev.alert_desc = p[1];
    tlsd_emit(d, &ev);
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
        tlsd_stop(d, 1, TLS_DEC_EV_ERROR, "ServerHello without a ClientHello: no client random");
        return;
    }
    if (version != 0x0303 && version != 0x0304) {
        tlsd_stop(d, 1, TLS_DEC_EV_UNSUPPORTED, "TLS version not decrypted (only 1.2 and 1.3)");
        return;
    }
    for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        if (suites[i].id == cipher && suites[i].tls13 == (version == 0x0304))
            d->suite = &suites[i];
    }
    if (d->suite == NULL)
        tlsd_stop(d, 1, TLS_DEC_EV_UNSUPPORTED, "cipher suite not decrypted (AEAD and AES-CBC only)");
}

/* ---- records and framing ---------------------------------------------- */

void tls_decrypt_record(struct tls_decrypt *d, int dir, const uint8_t hdr[5],
                        const uint8_t *frag, size_t len)
{
    if (d == NULL || (dir != 0 && dir != 1) || d->stopped || hdr == NULL)
        return;
    if (len != be16(hdr + 3) || (len > 0 && frag == NULL)) {
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "record length does not match its header");
        return;
    }
    if (len > TLS_DEC_MAX_CIPHERTEXT) {
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "record longer than 2^14 + 256");
        return;
    }
    if (d->waiting) { /* after the held ones, in order */
        hold(d, dir, hdr, frag, len, d->tag, d->tag_len);
        wait_check(d, false);
        return;
    }
    d->cur_tag = NULL;
    process_record(d, dir, hdr, frag, len);
    if (d->waiting && d->hold_current)
        hold(d, dir, hdr, frag, len, d->tag, d->tag_len);
}

/* One validated record, by version. */
static void process_record(struct tls_decrypt *d, int dir, const uint8_t *hdr, const uint8_t *frag,
                           size_t len)
{
    if (!d->have_sh || d->suite == NULL) {
        if (hdr[0] == CT_APPDATA)
            tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "encrypted record before the handshake was seen");
        return;
    }
    if (d->suite->tls13)
        tlsd_record13(d, dir, hdr, frag, len);
    else
        tlsd_record12(d, dir, hdr, frag, len);
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
                tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "not a TLS record");
                break;
            }
            dd->need = be16(dd->hdr + 3);
            dd->have = 0;
            if (dd->need > TLS_DEC_MAX_CIPHERTEXT) {
                tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "record longer than 2^14 + 256");
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
            dd->buf = budget_malloc(d->budget, TLS_DEC_MAX_CIPHERTEXT);
            if (dd->buf == NULL) {
                tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "no memory (or state budget) for a record");
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
    tls_decrypt_retry(d, false); /* the records before the gap can still be read */
    if (d->stopped)
        return;
    d->waiting = false;
    held_drop(d);
    tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "bytes missing in the capture: later records cannot be decrypted");
}
