/*
 * tls_decrypt.h - decrypt the TLS records of one connection with a key log.
 *
 * Fed with the records of both directions (whole records, or the raw
 * in-order TLS bytes of a direction), the ClientHello random and the
 * ServerHello (random, negotiated version, cipher suite) that
 * dissectors/tls.c reports, it hands the decrypted application bytes of
 * each direction, in order, to a callback, and reports what happened as
 * events.  Supported:
 *
 *   TLS 1.3 (RFC 8446 section 7): TLS_AES_128_GCM_SHA256,
 *     TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256; key and iv by
 *     HKDF-Expand-Label from the handshake and application traffic
 *     secrets; nonce = iv XOR sequence number; AAD = the record header;
 *     inner content type after the zero padding; the switch to the
 *     application keys after each side's Finished (found by following the
 *     decrypted handshake messages); KeyUpdate; NewSessionTicket and other
 *     post-handshake messages skipped.
 *   TLS 1.2 (RFC 5246 6.3 key block from the master secret): AES-GCM
 *     (RFC 5288: 4-byte salt + 8-byte explicit nonce) and
 *     ChaCha20-Poly1305 (RFC 7905: iv XOR sequence number) suites with
 *     RSA, DHE or ECDHE key exchange; AAD = seq | type | version | length;
 *     and AES-CBC with HMAC-SHA1/256/384 (RFC 5246 6.2.3.2: explicit IV,
 *     MAC-then-encrypt, or encrypt-then-MAC when RFC 7366 was negotiated).
 *
 * A secret the key log lacks when a record needs it may still be on its
 * way (a server writes its key log moments after each handshake, and
 * fedtrace re-reads a growing file at most every 100 ms): the connection
 * then holds its records, both directions in arrival order, up to
 * max_held bytes, and looks again with each record that arrives and when
 * tls_decrypt_retry() is called; once the secret is there, the held
 * records are decrypted in order, each delivered with the caller's tag of
 * the packet it came in (tls_decrypt_set_tag/tls_decrypt_tag).  Past the
 * cap, or when the caller gives up (tls_decrypt_retry with final), it
 * stops as below (NO_KEY).
 *
 * A record that fails to authenticate, a missing secret, an unsupported
 * version or suite, a malformed or oversized record (ciphertext longer
 * than 2^14 + 256, plaintext longer than 2^14) or a gap stops decryption
 * of the whole connection: one event says why, and nothing more is
 * delivered.  Nothing is guessed: every byte delivered was authenticated
 * by its AEAD tag.  Per-connection state has a fixed size plus at most one
 * record buffer per direction (only when fed through tls_decrypt_data and
 * a record arrives in pieces); the number of connections a context serves
 * at once is capped.
 *
 * The cryptography is OpenSSL 3 libcrypto's EVP interfaces (EVP_CIPHER
 * AEAD and CBC, EVP_KDF "HKDF" and "TLS1-PRF", EVP_MAC "HMAC"); nothing in this header exposes
 * libcrypto.  Secrets and keys are wiped when they are replaced or freed.
 */
#ifndef FT_TLS_DECRYPT_H
#define FT_TLS_DECRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/budget.h"
#include "../analyzer/keylog.h"

#define TLS_DEC_MAX_CIPHERTEXT (16384 + 256) /* RFC 8446 5.2 */
#define TLS_DEC_MAX_PLAINTEXT 16384          /* 2^14 */
#define TLS_DEC_TAG_MAX 64                   /* bytes of caller tag kept per held record */

struct tls_decrypt_config {
    size_t max_conns; /* connections decrypting at once (default 4096) */
    size_t max_held;  /* bytes of records one connection holds while the key
                         log lacks its secret (default 32 KiB; 0: stop at once) */
};

/* Totals over every connection of a context. */
struct tls_decrypt_stats {
    uint64_t conns;          /* connections created */
    uint64_t conns_refused;  /* over max_conns: not decrypted */
    uint64_t records;        /* records authenticated and decrypted */
    uint64_t app_bytes;      /* application bytes delivered */
    uint64_t auth_failures;  /* records that failed to authenticate */
    uint64_t no_key;         /* connections without their secret in the key log */
    uint64_t unsupported;    /* connections with a version or suite not handled */
    uint64_t errors;         /* malformed records, gaps, protocol violations */
    uint64_t key_updates;    /* TLS 1.3 KeyUpdate messages followed */
    uint64_t conns_decrypted; /* connections with at least one record authenticated */
    uint64_t conns_stopped;  /* connections whose decryption stopped (any reason) */
    uint64_t key_waits;      /* connections that held records for a missing secret */
    uint64_t keys_late;      /* of them, decrypted once the secret appeared */
    uint64_t held_records;   /* records held while waiting */
    uint64_t held_overflows; /* waits given up at max_held (counted in no_key too) */
};

enum tls_decrypt_event_type {
    TLS_DEC_EV_KEYS,        /* dir now uses new keys: epoch says which */
    TLS_DEC_EV_DECRYPTED,   /* the first record of dir authenticated (once per dir) */
    TLS_DEC_EV_ALERT,       /* a decrypted alert: alert_level, alert_desc */
    TLS_DEC_EV_KEY_UPDATE,  /* TLS 1.3 KeyUpdate: dir moved to the next secret */
    TLS_DEC_EV_AUTH_FAILED, /* a record did not authenticate: decryption stops */
    TLS_DEC_EV_NO_KEY,      /* the key log lacks a secret (reason names it): stops */
    TLS_DEC_EV_UNSUPPORTED, /* version or cipher suite not handled: stops */
    TLS_DEC_EV_ERROR,       /* malformed/oversized record, gap, protocol violation: stops */
};

enum tls_decrypt_epoch {
    TLS_DEC_EPOCH_NONE = 0,
    TLS_DEC_EPOCH_HANDSHAKE,   /* TLS 1.3 handshake traffic keys */
    TLS_DEC_EPOCH_APPLICATION, /* TLS 1.3 application traffic keys, or TLS 1.2 keys */
};

/* One event; valid during the callback only. */
struct tls_decrypt_event {
    enum tls_decrypt_event_type type;
    int dir;                     /* 0 client, 1 server */
    uint16_t version;            /* negotiated (0x0303, 0x0304), 0 if unknown */
    uint16_t cipher;             /* negotiated suite, 0 if unknown */
    uint64_t record;             /* records of dir authenticated so far (a failing one is not counted) */
    enum tls_decrypt_epoch epoch;
    unsigned generation;         /* KEYS/KEY_UPDATE: 0 for *_TRAFFIC_SECRET_0, +1 per KeyUpdate */
    uint8_t alert_level, alert_desc;
    const char *reason;          /* static text; never contains secrets */
};

/* Application bytes of dir, in order; borrowed for the call only. */
typedef void (*tls_decrypt_data_fn)(void *user, int dir, const uint8_t *data, size_t len);
typedef void (*tls_decrypt_event_fn)(void *user, const struct tls_decrypt_event *ev);

struct tls_decrypt_ctx;
struct tls_decrypt;

void tls_decrypt_config_default(struct tls_decrypt_config *cfg);

/*
 * A context shared by the connections of one run: the key log (borrowed;
 * it must outlive the context), the fetched algorithms, the cap and the
 * totals.  cfg may be NULL.  NULL on allocation failure or when libcrypto
 * lacks an algorithm.  Free with tls_decrypt_ctx_free() after every
 * connection of it is freed.
 */
struct tls_decrypt_ctx *tls_decrypt_ctx_new(const struct tls_decrypt_config *cfg,
                                            struct keylog *kl);
void tls_decrypt_ctx_free(struct tls_decrypt_ctx *ctx);
/* True when the context's key log has anything to decrypt with
 * (keylog_has_secrets): a caller creates connections only then. */
bool tls_decrypt_ctx_has_keys(struct tls_decrypt_ctx *ctx);
void tls_decrypt_ctx_stats(const struct tls_decrypt_ctx *ctx, struct tls_decrypt_stats *st);

/*
 * State for one connection.  The callbacks (either may be NULL) are called
 * synchronously from the calls below with `user`.  budget (borrowed, may
 * be NULL) is charged with the state and its record buffers; a buffer it
 * refuses stops decryption (an ERROR event).  NULL on allocation failure
 * or when the context already serves max_conns connections (counted in
 * conns_refused).  Free with tls_decrypt_free().
 */
struct tls_decrypt *tls_decrypt_new(struct tls_decrypt_ctx *ctx, struct mem_budget *budget,
                                    tls_decrypt_data_fn data, tls_decrypt_event_fn event,
                                    void *user);

/* The ClientHello's random (borrowed). */
void tls_decrypt_client_hello(struct tls_decrypt *d, const uint8_t random[32]);

/* The ServerHello: random (borrowed), negotiated version (supported_versions
 * wins), cipher suite, and whether it accepted encrypt_then_mac (RFC 7366;
 * matters for CBC suites only).  A HelloRetryRequest (hello_retry) is
 * ignored. */
void tls_decrypt_server_hello(struct tls_decrypt *d, const uint8_t random[32], uint16_t version,
                              uint16_t cipher, bool hello_retry, bool encrypt_then_mac);

/* One whole record of direction dir: the 5-byte header and its fragment
 * (len must equal the header's length).  Borrows both. */
void tls_decrypt_record(struct tls_decrypt *d, int dir, const uint8_t hdr[5],
                        const uint8_t *frag, size_t len);

/* In-order TLS bytes of direction dir in any chunking (the same bytes
 * tls_conn_data gets); records are framed here.  Borrows data. */
void tls_decrypt_data(struct tls_decrypt *d, int dir, const uint8_t *data, size_t len);

/* Bytes of dir are missing: every later nonce is unknown, decryption stops
 * (after a last look at the key log for held records). */
void tls_decrypt_gap(struct tls_decrypt *d, int dir);

/* The caller's tag for the bytes fed next (e.g. the packet they came in):
 * copied, at most TLS_DEC_TAG_MAX bytes (longer: no tag). */
void tls_decrypt_set_tag(struct tls_decrypt *d, const void *tag, size_t len);

/* From the data or event callback: the tag that was current when the
 * record being delivered arrived (*len set), or NULL when none was set. */
const void *tls_decrypt_tag(const struct tls_decrypt *d, size_t *len);

/* True while the connection holds records for a secret the key log lacks. */
bool tls_decrypt_waiting(const struct tls_decrypt *d);

/* Look for a waiting connection's secret now, re-reading grown key log
 * files regardless of the rate limit; with final (the connection ends),
 * a secret still missing stops decryption (NO_KEY). */
void tls_decrypt_retry(struct tls_decrypt *d, bool final);

/* True once decryption stopped (a stopping event was emitted): the caller
 * falls back to inference for this connection. */
bool tls_decrypt_stopped(const struct tls_decrypt *d);

/* True when dir has delivered at least one authenticated record. */
bool tls_decrypt_decrypted(const struct tls_decrypt *d, int dir);

/* Wipe and free; NULL is fine.  A connection still waiting for its secret
 * is counted in no_key (no event). */
void tls_decrypt_free(struct tls_decrypt *d);

const char *tls_decrypt_event_name(enum tls_decrypt_event_type t);

/* ---- primitives (exposed for the test vectors) ---------------------- */

/* RFC 8446 7.1 HKDF-Expand-Label(secret, "tls13 " + label, context, outlen)
 * with SHA-384 when sha384, else SHA-256.  Returns 0, or -1. */
int tls_decrypt_expand_label(const struct tls_decrypt_ctx *ctx, bool sha384, const uint8_t *secret,
                             size_t secret_len, const char *label, const uint8_t *context,
                             size_t context_len, uint8_t *out, size_t outlen);

/* RFC 5246 5 PRF(secret, label, seed) with P_SHA384 when sha384, else
 * P_SHA256.  Returns 0, or -1. */
int tls_decrypt_prf(const struct tls_decrypt_ctx *ctx, bool sha384, const uint8_t *secret,
                    size_t secret_len, const char *label, const uint8_t *seed, size_t seed_len,
                    uint8_t *out, size_t outlen);

#endif
