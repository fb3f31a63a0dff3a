/*
 * tls12_decrypt.c - TLS 1.2 decryption (RFC 5246): the key block from the
 * CLIENT_RANDOM master secret, AES-GCM (RFC 5288) and ChaCha20-Poly1305
 * (RFC 7905) records, and AES-CBC with HMAC, MAC-then-encrypt or
 * encrypt-then-MAC (RFC 7366).
 */
#include "tls_decrypt_int.h"

#include "tls_wire.h"

#include <string.h>

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
        if (n == 0)
            tlsd_wait(d, dir, KEYLOG_CLIENT_RANDOM, "no CLIENT_RANDOM line for this connection in the key log");
        else
            tlsd_stop(d, dir, TLS_DEC_EV_NO_KEY, "key log master secret is not 48 bytes");
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
        ok = tlsd_aead_key(d, &d->d[i], block + 2 * ml + (size_t)i * kl);
        d->d[i].epoch = TLS_DEC_EPOCH_APPLICATION;
        d->d[i].seq = 0;
    }
    OPENSSL_cleanse(block, sizeof(block));
    if (!ok) {
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "key derivation failed in libcrypto");
        return false;
    }
    d->keys12 = true;
    for (i = 0; i < 2; i++) {
        tlsd_ev_init(d, i, &ev, TLS_DEC_EV_KEYS);
        tlsd_emit(d, &ev);
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
    tlsd_first_decrypted(d, dir);
    switch (type) {
    case CT_HANDSHAKE:
        dd->finished12 = true; /* Finished, or a renegotiation request: not application data */
        break;
    case CT_APPDATA:
        if (!dd->finished12)
            tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "application data before Finished");
        else
            tlsd_deliver(d, dir, pt, plen);
        break;
    case CT_ALERT:
        tlsd_alert(d, dir, pt, plen);
        break;
    default:
        break; /* heartbeat */
    }
}

/* MAC pseudo-header: seq(8) type(1) version(2) length(2). */
static void pseudo12(uint8_t out[13], uint64_t seq, const uint8_t *hdr, size_t len)
{
    tlsd_put_be64(out, seq);
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
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "CBC record of an impossible length");
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
        tlsd_stop(d, dir, TLS_DEC_EV_AUTH_FAILED, "record failed to authenticate (wrong key or damaged)");
        return;
    }
    if ((size_t)content > TLS_DEC_MAX_PLAINTEXT) {
        OPENSSL_cleanse(pt, n);
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "decrypted record longer than 2^14");
        return;
    }
    plaintext12(d, dir, hdr[0], pt, (size_t)content);
    OPENSSL_cleanse(pt, n);
}

void tlsd_record12(struct tls_decrypt *d, int dir, const uint8_t *hdr, const uint8_t *frag,
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
                tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "malformed ChangeCipherSpec");
            else
                dd->encrypted = true;
        } else if (hdr[0] == CT_APPDATA) {
            tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "application data before ChangeCipherSpec");
        }
        return; /* plaintext handshake and alerts */
    }
    if (hdr[0] == CT_CCS) {
        tlsd_stop(d, dir, TLS_DEC_EV_UNSUPPORTED, "renegotiation is not decrypted");
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
            tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "encrypted record shorter than its tag");
            return;
        }
        memcpy(nonce, dd->iv, NONCE_LEN);
        tlsd_put_be64(aad, dd->seq);
        for (i = 0; i < 8; i++)
            nonce[NONCE_LEN - 8 + i] ^= aad[i];
        ct = frag;
        plen = len - TAG_LEN;
    } else {
        if (len < 8 + TAG_LEN) {
            tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "encrypted record shorter than its nonce and tag");
            return;
        }
        memcpy(nonce, dd->iv, 4);
        memcpy(nonce + 4, frag, 8);
        ct = frag + 8;
        plen = len - 8 - TAG_LEN;
    }
    if (plen > TLS_DEC_MAX_PLAINTEXT) {
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "decrypted record longer than 2^14");
        return;
    }
    tlsd_put_be64(aad, dd->seq);
    aad[8] = hdr[0];
    aad[9] = hdr[1];
    aad[10] = hdr[2];
    aad[11] = (uint8_t)(plen >> 8);
    aad[12] = (uint8_t)plen;
    if (!tlsd_aead_open(dd, nonce, aad, sizeof(aad), ct, plen, ct + plen, pt)) {
        tlsd_stop(d, dir, TLS_DEC_EV_AUTH_FAILED, "record failed to authenticate (wrong key or damaged)");
        return;
    }
    plaintext12(d, dir, hdr[0], pt, plen);
    OPENSSL_cleanse(pt, plen);
}

