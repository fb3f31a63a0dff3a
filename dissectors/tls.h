/*
 * tls.h - passive TLS handshake metadata from one TCP connection.
 *
 * Reads the TLS record layer of both directions of a connection (after
 * XMPP STARTTLS, or from the first byte for direct TLS, XEP-0368) and
 * reports what an observer without keys can learn: ClientHello (SNI,
 * offered versions, ALPN), ServerHello (chosen version, HelloRetryRequest),
 * key-exchange group (TLS 1.3 key_share, TLS <= 1.2 ECDHE ServerKeyExchange),
 * CertificateRequest, the TLS <= 1.2 Certificate message (length, count,
 * first certificate's subject CN / issuer CN / notBefore / notAfter / SAN
 * dNSNames),
 * alerts, ChangeCipherSpec, handshake completion, and the point where a
 * direction turns opaque.  No decryption.  RFC 5246, RFC 8446, RFC 5280.
 *
 *   record:    type(1) version(2) length(2) fragment(length)
 *   handshake: msg_type(1) length(3) body(length)   (may span records)
 *
 * Memory is bounded: per direction a 5-byte record header, a 2-byte alert
 * and at most cfg.max_handshake bytes of one handshake message (the rest of
 * a longer message is skipped and the event is flagged truncated).
 */
#ifndef FT_TLS_H
#define FT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/budget.h"
#include "../analyzer/meta.h"

#define TLS_MAX_VERSIONS 8  /* offered versions kept from one ClientHello */
#define TLS_MAX_ALPN 8      /* ALPN protocol names kept */
#define TLS_MAX_SAN 8       /* SAN dNSNames kept from the first certificate */
#define TLS_NAME_MAX 255    /* longest SNI / ALPN / CN / SAN string kept */
#define TLS_RECORD_EVENTS_MAX 64 /* opaque records per direction reported one by one;
                                    later ones are only counted */

struct tls_config {
    size_t max_handshake; /* bytes of one handshake message kept (default 65536) */
    struct mem_budget *budget; /* borrowed, may be NULL: the reader and its buffers
                                  are charged to it; a refused buffer ends that
                                  direction like an allocation failure */
};

/* Fill cfg with the defaults.  Borrows cfg. */
void tls_config_default(struct tls_config *cfg);

enum tls_event_type {
    TLS_EV_CLIENT_HELLO,        /* sni, legacy_version, versions[], alpn[], n_ciphers */
    TLS_EV_SERVER_HELLO,        /* legacy_version, version, cipher, hello_retry */
    TLS_EV_CERTIFICATE,         /* cert_msg_len, n_certs, cert_* (<= 1.2, plaintext) */
    TLS_EV_CERT_REQUEST,        /* server asked the client for a certificate */
    TLS_EV_ALERT,               /* alert_level/desc (+names) or alert_encrypted */
    TLS_EV_CCS,                 /* ChangeCipherSpec */
    TLS_EV_HANDSHAKE_DONE,      /* <= 1.2: CCS + Finished seen in both directions */
    TLS_EV_HANDSHAKE_ENCRYPTED, /* 1.3 ServerHello: the rest of the handshake is encrypted */
    TLS_EV_ENCRYPTED,           /* first unreadable record of this direction (once per dir) */
    TLS_EV_ERROR,               /* not TLS / malformed framing: this direction stops; error */
    TLS_EV_GAP,                 /* tls_conn_gap: bytes missing, this direction stops */
    TLS_EV_RECORD,              /* an opaque (encrypted) record: record_type, record_len,
                                   record_seq; for the first TLS_RECORD_EVENTS_MAX of
                                   each direction (the size of what it hides leaks:
                                   see doc/verdicts.md, inferred verdicts) */
    TLS_EV_KEY_EXCHANGE,        /* <= 1.2 ServerKeyExchange of an ECDHE suite: group
                                   (its named_curve) */
};

/*
 * One event.  Valid only during the callback: the strings point into
 * buffers owned by the tls_conn; copy what you keep.  Fields not listed
 * for a type are zero / NULL.
 */
struct tls_event {
    enum tls_event_type type;
    struct ft_meta meta; /* segment that completed the event */
    uint8_t dir;         /* enum ft_dir */
    bool truncated;      /* message longer than max_handshake or malformed tail */

    /* CLIENT_HELLO / SERVER_HELLO */
    uint16_t legacy_version;              /* the version field of the hello */
    uint16_t version;                     /* SH: negotiated (supported_versions wins) */
    uint16_t versions[TLS_MAX_VERSIONS];  /* CH: offered, GREASE removed, highest first as sent */
    unsigned n_versions;
    const char *sni;                      /* CH: host_name, NULL when absent */
    const char *alpn[TLS_MAX_ALPN];       /* CH: offered; SH: selected (n_alpn <= 1) */
    unsigned n_alpn;
    unsigned n_ciphers;                   /* CH: number of cipher suites offered */
    uint16_t cipher;                      /* SH: selected suite */
    bool hello_retry;                     /* SH is a TLS 1.3 HelloRetryRequest */
    uint8_t random[32];                   /* CH/SH: the hello's random (key-log lookup) */
    bool have_random;                     /* random was complete in the message */
    bool encrypt_then_mac;                /* SH: RFC 7366 extension accepted (CBC suites) */
    uint16_t group;                       /* SH 1.3: key_share NamedGroup (HRR: the group
                                             asked for); KEY_EXCHANGE: named_curve */
    bool have_group;                      /* group was on the wire */

    /* CERTIFICATE */
    uint32_t cert_msg_len;                /* handshake body length */
    unsigned n_certs;                     /* certificates counted (within the kept bytes) */
    bool cert_parsed;                     /* first certificate's fields below were found */
    const char *cert_cn;                  /* subject commonName, NULL if none */
    const char *cert_issuer_cn;           /* issuer commonName, NULL if none */
    const char *cert_not_before;          /* raw UTCTime/GeneralizedTime text */
    const char *cert_not_after;           /* raw UTCTime/GeneralizedTime text */
    bool cert_self_issued;                /* issuer Name == subject Name (bytewise) */
    const char *cert_san[TLS_MAX_SAN];    /* subjectAltName dNSName entries */
    unsigned n_san;

    /* ALERT */
    uint8_t alert_level, alert_desc;
    const char *alert_level_name;         /* "warning", "fatal", "unknown(N)"; "unknown" when encrypted */
    const char *alert_desc_name;          /* e.g. "unknown_ca", "unknown(201)"; "unknown" when encrypted */
    bool alert_encrypted;                 /* alert record after CCS: level/desc unreadable */

    /* ENCRYPTED, RECORD */
    uint8_t record_type;                  /* content type of the (first) opaque record */
    /* RECORD */
    uint16_t record_len;                  /* fragment length from the record header */
    uint32_t record_seq;                  /* 0-based index among this direction's opaque records */

    /* ERROR / GAP */
    const char *error;                    /* static description */
    uint64_t nbytes;                      /* GAP: bytes missing */
    uint64_t offset;                      /* ERROR: byte offset in this direction's TLS bytes */
};

typedef void (*tls_event_cb)(const struct tls_event *ev, void *user);

struct tls_conn;

/*
 * Create the state for one connection (both directions).  cfg may be NULL
 * for defaults; it is copied.  cb is called synchronously from the
 * tls_conn_* calls below; user is passed through untouched.
 * Returns NULL on allocation failure.  Caller frees with tls_conn_free().
 */
struct tls_conn *tls_conn_new(const struct tls_config *cfg, tls_event_cb cb, void *user);

/*
 * Feed in-order bytes of direction dir (FT_DIR_ORIG: client, FT_DIR_RESP:
 * server) in any chunking.  Borrows data and m for the call only.  After an
 * error, gap or eof in that direction the bytes are ignored.
 */
void tls_conn_data(struct tls_conn *t, int dir, const uint8_t *data, size_t len,
                   const struct ft_meta *m);

/* nbytes of direction dir are missing: emit TLS_EV_GAP once and stop that direction. */
void tls_conn_gap(struct tls_conn *t, int dir, uint64_t nbytes, const struct ft_meta *m);

/* Direction dir ended (FIN/RST/end of capture): no event, stop that direction. */
void tls_conn_eof(struct tls_conn *t, int dir, const struct ft_meta *m);

/* Opaque records of direction dir not reported one by one (beyond
 * TLS_RECORD_EVENTS_MAX); 0 for NULL. */
uint64_t tls_conn_records_unreported(const struct tls_conn *t, int dir);

/* True once direction dir has turned opaque (TLS_EV_ENCRYPTED was emitted). */
bool tls_conn_encrypted(const struct tls_conn *t, int dir);

/* Free everything; t may be NULL. */
void tls_conn_free(struct tls_conn *t);

/* Static names: "TLS 1.2", "SSL 3.0", "0x7f1c" style for unknown (buffer is
 * caller-provided, at least 8 bytes; the return value is either a static
 * string or buf). */
/* Names of wire values, never NULL: the IANA name, or the number as
 * Wireshark writes it ("0x7f1c" for a version, "unknown(201)" for an
 * alert) in buf (TLS_NAME_BUFLEN is enough; with a smaller buf, "?"). */
#define TLS_NAME_BUFLEN 24
const char *tls_version_name(uint16_t v, char *buf, size_t buflen);
const char *tls_alert_name(uint8_t desc, char *buf, size_t buflen);
const char *tls_alert_level_name(uint8_t level, char *buf, size_t buflen);
/* tls_names.c: IANA "TLS Supported Groups" name ("x25519",
 * "X25519MLKEM768"), else "0x%04x" in buf. */
const char *tls_group_name(uint16_t group, char *buf, size_t buflen);
/* tls_names.c: IANA "TLS Cipher Suites" name of the suites servers
 * negotiate today ("TLS_AES_128_GCM_SHA256"), else "0x%04x" in buf. */
const char *tls_cipher_name(uint16_t cipher, char *buf, size_t buflen);
/* tls_names.c: a certificate's UTCTime/GeneralizedTime ("261224054908Z")
 * as ISO 8601 ("2026-12-24T05:49:08Z") into buf (24 bytes are enough);
 * NULL when raw is NULL or not one. */
const char *tls_time_iso(const char *raw, char *buf, size_t len);
const char *tls_event_type_name(enum tls_event_type t);

#endif
