/*
 * tls_decrypt_int.h - what the TLS decryption files share (private to
 * tls_decrypt.c, tls13_decrypt.c and tls12_decrypt.c; users include
 * tls_decrypt.h): the suites, the per-direction and per-connection state,
 * and the functions each version's record code calls.  The state is owned
 * by the struct tls_decrypt it is in (tls_decrypt_new/tls_decrypt_free).
 */
#ifndef FT_TLS_DECRYPT_INT_H
#define FT_TLS_DECRYPT_INT_H

#include "tls_decrypt.h"

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
    bool need_app_keys;             /* TLS 1.3: the switch after Finished waits for
                                       the application secret (load it first) */

    uint8_t hdr[5];                 /* framing (tls_decrypt_data) */
    size_t hdr_have;
    bool in_body;
    size_t need, have;
    uint8_t *buf;                   /* TLS_DEC_MAX_CIPHERTEXT, allocated when a record is split */
};

struct tls_decrypt {
    struct tls_decrypt_ctx *ctx;
    struct mem_budget *budget;      /* borrowed, may be NULL: this struct and the buffers */
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

    /* a secret the key log lacks (tlsd_wait): records are held meanwhile */
    bool waiting, waited;
    bool hold_current;              /* the record that missed it is not consumed */
    int wait_dir;
    enum keylog_label wait_label;
    const char *wait_why;
    uint8_t *held;                  /* entries: dir, tag length, tag, header, fragment */
    size_t held_len, held_size;
    uint8_t tag[TLS_DEC_TAG_MAX];   /* the caller's tag for the bytes fed now */
    uint8_t tag_len;
    const uint8_t *cur_tag;         /* the tag of the record being processed */
    uint8_t cur_tag_len;
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

static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline void tlsd_put_be64(uint8_t *p, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* Key dd's cipher with key (AEAD or CBC); false on a libcrypto failure. */
bool tlsd_aead_key(struct tls_decrypt *d, struct dec_dir *dd, const uint8_t *key);
/* AEAD-open ct (ct_len bytes) with its tag into out; false when it does
 * not authenticate. */
bool tlsd_aead_open(struct dec_dir *dd, const uint8_t nonce[NONCE_LEN], const uint8_t *aad,
                    size_t aad_len, const uint8_t *ct, size_t ct_len, const uint8_t *tag,
                    uint8_t *out);

void tlsd_ev_init(const struct tls_decrypt *d, int dir, struct tls_decrypt_event *ev,
                  enum tls_decrypt_event_type type);
void tlsd_emit(struct tls_decrypt *d, const struct tls_decrypt_event *ev);
/* Stop decrypting the connection: one event of `type` saying `why` (static text). */
void tlsd_stop(struct tls_decrypt *d, int dir, enum tls_decrypt_event_type type, const char *why);
/* The key log lacks `label` of dir (why: static text): hold records and
 * look again later, or stop (NO_KEY) when holding is off.  The record
 * being processed is held too unless the caller clears hold_current. */
void tlsd_wait(struct tls_decrypt *d, int dir, enum keylog_label label, const char *why);
/* Application bytes of dir to the caller. */
void tlsd_deliver(struct tls_decrypt *d, int dir, const uint8_t *p, size_t n);
/* The DECRYPTED event, once per direction. */
void tlsd_first_decrypted(struct tls_decrypt *d, int dir);
/* A decrypted alert record. */
void tlsd_alert(struct tls_decrypt *d, int dir, const uint8_t *p, size_t n);

/* One whole record of dir (header and fragment), by version. */
void tlsd_record13(struct tls_decrypt *d, int dir, const uint8_t *hdr, const uint8_t *frag, size_t len);
void tlsd_record12(struct tls_decrypt *d, int dir, const uint8_t *hdr, const uint8_t *frag, size_t len);
/* TLS 1.3: load dir's application secret when the switch after Finished
 * waited for it; false when it is still missing or decryption stopped. */
bool tlsd_app_keys13(struct tls_decrypt *d, int dir);

#endif
