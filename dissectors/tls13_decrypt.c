/*
 * tls13_decrypt.c - TLS 1.3 decryption (RFC 8446 section 7): traffic keys
 * from the key log's secrets by HKDF-Expand-Label, the switch from
 * handshake to application keys after each side's Finished, KeyUpdate,
 * and the records: nonce = iv XOR sequence number, AAD = the record
 * header, the inner content type after the zero padding.
 */
#include "tls_decrypt_int.h"

#include "tls_wire.h"

#include <string.h>

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
         tlsd_aead_key(d, dd, key);
    OPENSSL_cleanse(key, sizeof(key));
    dd->seq = 0;
    if (!ok)
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "key derivation failed in libcrypto");
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
        tlsd_wait(d, dir, label, why[label]);
        return false;
    }
    if (n != hash_len(d->suite)) {
        tlsd_stop(d, dir, TLS_DEC_EV_NO_KEY, "key log secret length does not fit the cipher suite");
        return false;
    }
    dd->secret_len = n;
    dd->epoch = epoch;
    dd->generation = 0;
    if (!install13(d, dir))
        return false;
    tlsd_ev_init(d, dir, &ev, TLS_DEC_EV_KEYS);
    tlsd_emit(d, &ev);
    return true;
}

/* Follow the decrypted handshake messages of dir (headers only). */
static bool hs13_feed(struct tls_decrypt *d, int dir, const uint8_t *p, size_t n)
{
    struct dec_dir *dd = &d->d[dir];

    while (n > 0) {
        if (dd->pending_switch || dd->pending_update) {
            tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "handshake data after a key change in the same record");
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
                tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "KeyUpdate before the handshake finished");
                return false;
            }
            /* NewSessionTicket, post-handshake authentication: skipped */
            (void)HS_NEW_SESSION_TICKET;
        }
    }
    return true;
}




bool tlsd_app_keys13(struct tls_decrypt *d, int dir)
{
    struct dec_dir *dd = &d->d[dir];

    if (!dd->need_app_keys)
        return true;
    if (!keys13_from_log(d, dir, dir == 0 ? KEYLOG_CLIENT_TRAFFIC_0 : KEYLOG_SERVER_TRAFFIC_0,
                         TLS_DEC_EPOCH_APPLICATION))
        return false; /* still missing (need_app_keys stays) or stopped */
    dd->need_app_keys = false;
    return true;
}

/* After a record: the key change its last handshake message asked for. */
static void key_change13(struct tls_decrypt *d, int dir)
{
    struct dec_dir *dd = &d->d[dir];
    struct tls_decrypt_event ev;

    if (dd->pending_switch) {
        dd->pending_switch = false;
        dd->need_app_keys = true;
        if (!tlsd_app_keys13(d, dir) && d->waiting)
            d->hold_current = false; /* this record is done; the next ones wait */
    } else if (dd->pending_update) {
        uint8_t next[KEYLOG_SECRET_MAX];

        dd->pending_update = false;
        if (tls_decrypt_expand_label(d->ctx, d->suite->sha384, dd->secret, dd->secret_len,
                                     "traffic upd", NULL, 0, next, dd->secret_len) != 0) {
            tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "key derivation failed in libcrypto");
            return;
        }
        memcpy(dd->secret, next, dd->secret_len);
        OPENSSL_cleanse(next, sizeof(next));
        dd->generation++;
        if (!install13(d, dir))
            return;
        d->ctx->st.key_updates++;
        tlsd_ev_init(d, dir, &ev, TLS_DEC_EV_KEY_UPDATE);
        tlsd_emit(d, &ev);
    }
}

void tlsd_record13(struct tls_decrypt *d, int dir, const uint8_t *hdr, const uint8_t *frag,
                   size_t len)
{
    struct dec_dir *dd = &d->d[dir];
    uint8_t pt[TLS_DEC_MAX_CIPHERTEXT];
    uint8_t nonce[NONCE_LEN], seq[8];
    size_t plen, i;
    uint8_t inner;

    if (hdr[0] != CT_APPDATA)
        return; /* middlebox CCS, a plaintext alert, a ClientHello after HRR */
    if (!tlsd_app_keys13(d, dir))
        return;
    if (dd->epoch == TLS_DEC_EPOCH_NONE &&
        !keys13_from_log(d, dir, dir == 0 ? KEYLOG_CLIENT_HANDSHAKE : KEYLOG_SERVER_HANDSHAKE,
                         TLS_DEC_EPOCH_HANDSHAKE))
        return;
    if (len < TAG_LEN + 1) {
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "encrypted record shorter than its tag");
        return;
    }
    plen = len - TAG_LEN;
    memcpy(nonce, dd->iv, NONCE_LEN);
    tlsd_put_be64(seq, dd->seq);
    for (i = 0; i < 8; i++)
        nonce[NONCE_LEN - 8 + i] ^= seq[i];
    if (!tlsd_aead_open(dd, nonce, hdr, 5, frag, plen, frag + plen, pt)) {
        tlsd_stop(d, dir, TLS_DEC_EV_AUTH_FAILED, "record failed to authenticate (wrong key or damaged)");
        return;
    }
    dd->seq++;
    dd->records++;
    d->ctx->st.records++;
    while (plen > 0 && pt[plen - 1] == 0)
        plen--;
    if (plen == 0) {
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "decrypted record has no content type");
        goto out_wipe;
    }
    inner = pt[--plen];
    if (plen > TLS_DEC_MAX_PLAINTEXT) {
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "decrypted record longer than 2^14");
        goto out_wipe;
    }
    tlsd_first_decrypted(d, dir);
    switch (inner) {
    case CT_HANDSHAKE:
        if (plen == 0) {
            tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "empty handshake record");
            break;
        }
        if (hs13_feed(d, dir, pt, plen))
            key_change13(d, dir);
        break;
    case CT_APPDATA:
        if (dd->epoch != TLS_DEC_EPOCH_APPLICATION) {
            tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "application data under handshake keys");
            break;
        }
        tlsd_deliver(d, dir, pt, plen);
        break;
    case CT_ALERT:
        tlsd_alert(d, dir, pt, plen);
        break;
    default:
        tlsd_stop(d, dir, TLS_DEC_EV_ERROR, "unexpected inner content type");
        break;
    }
out_wipe:
    OPENSSL_cleanse(pt, len);
}

