/*
 * tls.c - passive TLS record/handshake reader (see tls.h for the contract).
 *
 * Per direction a small state machine walks the record layer without
 * buffering records: the 5-byte header is assembled across chunks, then
 * the fragment bytes are streamed into either the handshake-message
 * assembler (plaintext handshake), the 2-byte alert assembler, or skipped
 * (ciphertext).  A handshake message is parsed once complete, with a
 * struct cursor over the kept bytes; the first certificate is walked with a
 * bounded, iterative DER reader (RFC 5280 TBSCertificate).
 *
 * Direction state:  plaintext --CCS--> encrypted (<= 1.2, and 1.3 compat)
 *                   plaintext --ServerHello 1.3--> encrypted (server side)
 * The first record a direction sends that cannot be read yields
 * TLS_EV_ENCRYPTED; TLS 1.2 handshake completion is "CCS then an encrypted
 * handshake record (Finished)" in both directions.
 */
#include "tls.h"

#include "tls_wire.h"

#include <stdlib.h>
#include <string.h>

#include "../analyzer/cursor.h"
#include "../analyzer/tok.h"
#include "../analyzer/utf8.h"

#define TLS_RECORD_MAX (16384 + 2048) /* RFC 5246 6.2.3 ciphertext limit */

enum {
    EXT_SERVER_NAME = 0,
    EXT_ALPN = 16,
    EXT_ENCRYPT_THEN_MAC = 22,
    EXT_SUPPORTED_VERSIONS = 43,
    EXT_KEY_SHARE = 51,
};

#define HS_SERVER_KEY_EXCHANGE 12
#define EC_CURVE_NAMED 3 /* ECCurveType named_curve (RFC 8422 5.4) */

/* String slots inside struct tls_conn used by events. */
enum {
    SLOT_SNI = 0,
    SLOT_CN,
    SLOT_ISSUER_CN,
    SLOT_NOT_BEFORE,
    SLOT_NOT_AFTER,
    SLOT_ALPN0,
    SLOT_SAN0 = SLOT_ALPN0 + TLS_MAX_ALPN,
    SLOT_COUNT = SLOT_SAN0 + TLS_MAX_SAN,
};

struct tls_dir {
    uint8_t hdr[5];       /* record header being assembled */
    size_t hdr_have;
    bool in_record;       /* hdr complete, fragment bytes pending */
    uint8_t rec_type;
    size_t rec_left;      /* fragment bytes still to come */
    bool rec_opaque;      /* fragment is ciphertext: skip it */

    uint8_t hs_hdr[4];    /* handshake message header being assembled */
    size_t hs_hdr_have;
    uint32_t hs_len;      /* body length from the header */
    uint32_t hs_got;      /* body bytes seen */
    size_t hs_keep;       /* body bytes stored in hs_buf (<= max_handshake) */
    uint8_t *hs_buf;
    size_t hs_cap;

    uint8_t alert[2];
    size_t alert_have;
    char alert_level_name[TLS_NAME_BUFLEN]; /* names of the last alert when */
    char alert_desc_name[TLS_NAME_BUFLEN];  /* not in the tables: unknown(N) */

    bool encrypted;       /* records from now on are ciphertext */
    bool ccs;             /* ChangeCipherSpec sent */
    bool finished;        /* encrypted handshake record after CCS (<= 1.2) */
    bool enc_reported;    /* TLS_EV_ENCRYPTED emitted */
    bool dead;            /* error, gap or eof: ignore further bytes */
    uint64_t offset;      /* bytes consumed in this direction */
    uint32_t records;     /* opaque records seen (TLS_EV_RECORD sequence) */
    uint64_t records_unreported; /* opaque records beyond TLS_RECORD_EVENTS_MAX */
};

struct tls_conn {
    struct tls_config cfg;
    tls_event_cb cb;
    void *user;
    struct tls_dir d[2];
    uint16_t version;     /* negotiated (from ServerHello), 0 unknown */
    uint16_t cipher;      /* selected suite (from ServerHello), 0 unknown */
    bool hrr;             /* a HelloRetryRequest was seen: TLS 1.3 */
    bool done_reported;
    const struct ft_meta *meta; /* meta of the chunk being processed */
    char str[SLOT_COUNT][TLS_NAME_MAX + 1];
};

static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

void tls_config_default(struct tls_config *cfg)
{
    cfg->max_handshake = 65536;
    cfg->budget = NULL;
}

/* IANA "TLS ProtocolVersion" (RFC 8446 B.1 and earlier) */
static const struct tok version_toks[] = {
    { 0x0300, "SSL 3.0" }, { 0x0301, "TLS 1.0" }, { 0x0302, "TLS 1.1" },
    { 0x0303, "TLS 1.2" }, { 0x0304, "TLS 1.3" }, { 0, NULL },
};

/* IANA "TLS Alert Level" */
static const struct tok alert_level_toks[] = {
    { 1, "warning" }, { 2, "fatal" }, { 0, NULL },
};

/* IANA "TLS Alerts" (RFC 8446 6, RFC 5246 7.2, RFC 7301, RFC 8446 B.2) */
static const struct tok alert_toks[] = {
    { 0, "close_notify" },
    { 10, "unexpected_message" },
    { 20, "bad_record_mac" },
    { 21, "decryption_failed" },
    { 22, "record_overflow" },
    { 30, "decompression_failure" },
    { 40, "handshake_failure" },
    { 41, "no_certificate" },
    { 42, "bad_certificate" },
    { 43, "unsupported_certificate" },
    { 44, "certificate_revoked" },
    { 45, "certificate_expired" },
    { 46, "certificate_unknown" },
    { 47, "illegal_parameter" },
    { 48, "unknown_ca" },
    { 49, "access_denied" },
    { 50, "decode_error" },
    { 51, "decrypt_error" },
    { 60, "export_restriction" },
    { 70, "protocol_version" },
    { 71, "insufficient_security" },
    { 80, "internal_error" },
    { 86, "inappropriate_fallback" },
    { 90, "user_canceled" },
    { 100, "no_renegotiation" },
    { 109, "missing_extension" },
    { 110, "unsupported_extension" },
    { 111, "certificate_unobtainable" },
    { 112, "unrecognized_name" },
    { 113, "bad_certificate_status_response" },
    { 114, "bad_certificate_hash_value" },
    { 115, "unknown_psk_identity" },
    { 116, "certificate_required" },
    { 120, "no_application_protocol" },
    { 0, NULL },
};

const char *tls_version_name(uint16_t v, char *buf, size_t buflen)
{
    return tok2str(version_toks, v, "0x%04x", buf, buflen);
}

const char *tls_alert_level_name(uint8_t level, char *buf, size_t buflen)
{
    return tok2str(alert_level_toks, level, "unknown(%u)", buf, buflen);
}

const char *tls_alert_name(uint8_t desc, char *buf, size_t buflen)
{
    return tok2str(alert_toks, desc, "unknown(%u)", buf, buflen);
}

const char *tls_event_type_name(enum tls_event_type t)
{
    switch (t) {
    case TLS_EV_CLIENT_HELLO: return "client_hello";
    case TLS_EV_SERVER_HELLO: return "server_hello";
    case TLS_EV_CERTIFICATE: return "certificate";
    case TLS_EV_CERT_REQUEST: return "certificate_request";
    case TLS_EV_ALERT: return "alert";
    case TLS_EV_CCS: return "change_cipher_spec";
    case TLS_EV_HANDSHAKE_DONE: return "handshake_done";
    case TLS_EV_HANDSHAKE_ENCRYPTED: return "handshake_encrypted";
    case TLS_EV_ENCRYPTED: return "encrypted";
    case TLS_EV_ERROR: return "error";
    case TLS_EV_GAP: return "gap";
    case TLS_EV_RECORD: return "record";
    case TLS_EV_KEY_EXCHANGE: return "key_exchange";
    }
    return "unknown";
}

struct tls_conn *tls_conn_new(const struct tls_config *cfg, tls_event_cb cb, void *user)
{
    struct tls_conn *t = budget_calloc(cfg != NULL ? cfg->budget : NULL, sizeof(*t));

    if (t == NULL)
        return NULL;
    if (cfg != NULL)
        t->cfg = *cfg;
    else
        tls_config_default(&t->cfg);
    if (t->cfg.max_handshake == 0)
        t->cfg.max_handshake = 1;
    t->cb = cb;
    t->user = user;
    return t;
}

void tls_conn_free(struct tls_conn *t)
{
    if (t == NULL)
        return;
    budget_free(t->d[0].hs_buf);
    budget_free(t->d[1].hs_buf);
    budget_free(t);
}

uint64_t tls_conn_records_unreported(const struct tls_conn *t, int dir)
{
    if (t == NULL || (dir != 0 && dir != 1))
        return 0;
    return t->d[dir].records_unreported;
}

bool tls_conn_encrypted(const struct tls_conn *t, int dir)
{
    return t != NULL && (dir == 0 || dir == 1) && t->d[dir].enc_reported;
}

static void ev_init(const struct tls_conn *t, int dir, struct tls_event *ev, enum tls_event_type type)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->dir = (uint8_t)dir;
    if (t->meta != NULL)
        ev->meta = *t->meta;
    ev->meta.dir = (uint8_t)dir;
}

static void emit(struct tls_conn *t, const struct tls_event *ev)
{
    if (t->cb != NULL)
        t->cb(ev, t->user);
}

/* Copy wire bytes into string slot `slot`, NUL-terminated, control bytes
 * as '?', cut at TLS_NAME_MAX on a UTF-8 character boundary.  Bytes that
 * are not UTF-8 are kept: the output replaces and counts them. */
static const char *keep_str(struct tls_conn *t, int slot, const uint8_t *p, size_t n)
{
    char *dst = t->str[slot];
    size_t i;

    n = utf8_cut((const char *)p, n, TLS_NAME_MAX);
    for (i = 0; i < n; i++)
        dst[i] = (p[i] < 0x20 || p[i] == 0x7f) ? '?' : (char)p[i];
    dst[n] = '\0';
    return dst;
}

static void fail(struct tls_conn *t, int dir, const char *why)
{
    struct tls_event ev;
    struct tls_dir *d = &t->d[dir];

    if (d->dead)
        return;
    d->dead = true;
    ev_init(t, dir, &ev, TLS_EV_ERROR);
    ev.error = why;
    ev.offset = d->offset;
    emit(t, &ev);
}

static bool is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ---- hello messages --------------------------------------------------- */

static void parse_client_hello(struct tls_conn *t, int dir, const uint8_t *p, size_t n, bool trunc)
{
    struct tls_event ev;
    struct cursor c, exts;
    uint16_t ver, cs_len, ext_len;
    uint8_t sid_len, comp_len;
    bool have_sv = false;
    const uint8_t *rnd;

    ev_init(t, dir, &ev, TLS_EV_CLIENT_HELLO);
    ev.truncated = trunc;
    cursor_init(&c, p, n);
    cursor_be16(&c, &ver);
    ev.legacy_version = ver;
    rnd = cursor_take(&c, 32);
    if (rnd != NULL) {
        memcpy(ev.random, rnd, 32);
        ev.have_random = true;
    }
    cursor_u8(&c, &sid_len);
    cursor_skip(&c, sid_len);
    cursor_be16(&c, &cs_len);
    if (cursor_skip(&c, cs_len))
        ev.n_ciphers = cs_len / 2u;
    cursor_u8(&c, &comp_len);
    cursor_skip(&c, comp_len);
    if (!c.bad && cursor_left(&c) >= 2 && cursor_be16(&c, &ext_len)) {
        const uint8_t *eb = cursor_take(&c, ext_len);

        if (eb == NULL) { /* truncated extensions: read what is there */
            eb = cursor_ptr(&c);
            ext_len = (uint16_t)cursor_left(&c);
            ev.truncated = true;
        }
        cursor_init(&exts, eb, ext_len);
        while (cursor_left(&exts) >= 4) {
            uint16_t et, el;
            struct cursor x;
            const uint8_t *xb;

            cursor_be16(&exts, &et);
            cursor_be16(&exts, &el);
            xb = cursor_take(&exts, el);
            if (xb == NULL) {
                ev.truncated = true;
                break;
            }
            cursor_init(&x, xb, el);
            if (et == EXT_SERVER_NAME && ev.sni == NULL) {
                uint16_t list_len, nl;
                uint8_t nt;

                cursor_be16(&x, &list_len);
                while (!x.bad && cursor_left(&x) >= 3) {
                    const uint8_t *nb;

                    cursor_u8(&x, &nt);
                    cursor_be16(&x, &nl);
                    nb = cursor_take(&x, nl);
                    if (nb == NULL)
                        break;
                    if (nt == 0) {
                        ev.sni = keep_str(t, SLOT_SNI, nb, nl);
                        break;
                    }
                }
            } else if (et == EXT_ALPN) {
                uint16_t list_len;

                cursor_be16(&x, &list_len);
                while (!x.bad && cursor_left(&x) >= 1 && ev.n_alpn < TLS_MAX_ALPN) {
                    uint8_t pl;
                    const uint8_t *pb;

                    cursor_u8(&x, &pl);
                    pb = cursor_take(&x, pl);
                    if (pb == NULL)
                        break;
                    ev.alpn[ev.n_alpn] = keep_str(t, SLOT_ALPN0 + (int)ev.n_alpn, pb, pl);
                    ev.n_alpn++;
                }
            } else if (et == EXT_SUPPORTED_VERSIONS) {
                uint8_t vl;
                uint16_t v;

                have_sv = true;
                cursor_u8(&x, &vl);
                while (vl >= 2 && cursor_be16(&x, &v)) {
                    vl = (uint8_t)(vl - 2);
                    if (!is_grease(v) && ev.n_versions < TLS_MAX_VERSIONS)
                        ev.versions[ev.n_versions++] = v;
                }
            }
        }
    } else if (c.bad) {
        ev.truncated = true;
    }
    if (!have_sv && ev.n_versions == 0 && ver != 0)
        ev.versions[ev.n_versions++] = ver;
    emit(t, &ev);
}

static void parse_server_hello(struct tls_conn *t, int dir, const uint8_t *p, size_t n, bool trunc)
{
    struct tls_event ev;
    struct cursor c;
    uint16_t ver, cipher, ext_len;
    uint8_t sid_len, comp;
    const uint8_t *rnd;

    ev_init(t, dir, &ev, TLS_EV_SERVER_HELLO);
    ev.truncated = trunc;
    cursor_init(&c, p, n);
    cursor_be16(&c, &ver);
    ev.legacy_version = ver;
    ev.version = ver;
    rnd = cursor_take(&c, 32);
    if (rnd != NULL) {
        memcpy(ev.random, rnd, 32);
        ev.have_random = true;
    }
    if (rnd != NULL && memcmp(rnd, hrr_random, sizeof(hrr_random)) == 0)
        ev.hello_retry = true;
    cursor_u8(&c, &sid_len);
    cursor_skip(&c, sid_len);
    cursor_be16(&c, &cipher);
    ev.cipher = cipher;
    cursor_u8(&c, &comp);
    if (!c.bad && cursor_left(&c) >= 2 && cursor_be16(&c, &ext_len)) {
        struct cursor exts;
        const uint8_t *eb = cursor_take(&c, ext_len);

        if (eb == NULL) {
            eb = cursor_ptr(&c);
            ext_len = (uint16_t)cursor_left(&c);
            ev.truncated = true;
        }
        cursor_init(&exts, eb, ext_len);
        while (cursor_left(&exts) >= 4) {
            uint16_t et, el, v, list_len;
            uint8_t pl;
            struct cursor x;
            const uint8_t *xb, *pb;

            cursor_be16(&exts, &et);
            cursor_be16(&exts, &el);
            xb = cursor_take(&exts, el);
            if (xb == NULL) {
                ev.truncated = true;
                break;
            }
            cursor_init(&x, xb, el);
            if (et == EXT_SUPPORTED_VERSIONS && cursor_be16(&x, &v)) {
                ev.version = v;
            } else if (et == EXT_ENCRYPT_THEN_MAC) {
                ev.encrypt_then_mac = true;
            } else if (et == EXT_KEY_SHARE && cursor_be16(&x, &v)) {
                /* SH: KeyShareEntry (group first); HRR: selected_group */
                ev.group = v;
                ev.have_group = true;
            } else if (et == EXT_ALPN && ev.n_alpn == 0) {
                cursor_be16(&x, &list_len);
                cursor_u8(&x, &pl);
                pb = cursor_take(&x, pl);
                if (pb != NULL)
                    ev.alpn[ev.n_alpn++] = keep_str(t, SLOT_ALPN0, pb, pl);
            }
        }
    } else if (c.bad) {
        ev.truncated = true;
    }
    if (!ev.hello_retry) {
        t->version = ev.version;
        t->cipher = ev.cipher;
    } else
        t->hrr = true;
    emit(t, &ev);
    if (ev.version == 0x0304 && !ev.hello_retry) {
        struct tls_event he;

        t->d[dir].encrypted = true;
        ev_init(t, dir, &he, TLS_EV_HANDSHAKE_ENCRYPTED);
        he.version = ev.version;
        emit(t, &he);
    }
}

/* ---- certificate: bounded, iterative DER walk ----------------------- */

/* Read one DER TLV (single-byte tag, definite length) into *val. */
static bool der_next(struct cursor *c, uint8_t *tag, struct cursor *val)
{
    uint8_t t, l, b;
    size_t len = 0;
    const uint8_t *p;

    if (!cursor_u8(c, &t) || !cursor_u8(c, &l))
        return false;
    if ((t & 0x1f) == 0x1f)
        return false;
    if (l < 0x80) {
        len = l;
    } else {
        unsigned nb = l & 0x7fu, i;

        if (nb == 0 || nb > 3)
            return false;
        for (i = 0; i < nb; i++) {
            if (!cursor_u8(c, &b))
                return false;
            len = (len << 8) | b;
        }
    }
    p = cursor_take(c, len);
    if (p == NULL)
        return false;
    *tag = t;
    cursor_init(val, p, len);
    return true;
}

static bool is_string_tag(uint8_t tag)
{
    return tag == 0x0c || tag == 0x13 || tag == 0x16 || tag == 0x14; /* UTF8, Printable, IA5, T61 */
}

/* Find the commonName (2.5.4.3) in a Name (SEQUENCE OF SET OF SEQUENCE {OID, value}). */
static const char *name_cn(struct tls_conn *t, int slot, struct cursor name)
{
    static const uint8_t oid_cn[3] = {0x55, 0x04, 0x03};
    struct cursor rdn, atv, oid, val;
    uint8_t tag;

    while (cursor_left(&name) > 0 && der_next(&name, &tag, &rdn)) {
        if (tag != 0x31)
            return NULL;
        while (cursor_left(&rdn) > 0 && der_next(&rdn, &tag, &atv)) {
            if (tag != 0x30 || !der_next(&atv, &tag, &oid) || tag != 0x06)
                continue;
            if (oid.len != 3 || memcmp(oid.base, oid_cn, 3) != 0)
                continue;
            if (der_next(&atv, &tag, &val) && is_string_tag(tag))
                return keep_str(t, slot, val.base, val.len);
        }
    }
    return NULL;
}

static void parse_san(struct tls_conn *t, struct tls_event *ev, struct cursor octets)
{
    struct cursor names, gn;
    uint8_t tag;

    if (!der_next(&octets, &tag, &names) || tag != 0x30)
        return;
    while (cursor_left(&names) > 0 && ev->n_san < TLS_MAX_SAN && der_next(&names, &tag, &gn)) {
        if (tag == 0x82) { /* [2] IMPLICIT IA5String dNSName */
            ev->cert_san[ev->n_san] = keep_str(t, SLOT_SAN0 + (int)ev->n_san, gn.base, gn.len);
            ev->n_san++;
        }
    }
}

/* Fill the cert_* fields of ev from one DER Certificate; false if malformed. */
static bool parse_x509(struct tls_conn *t, struct tls_event *ev, const uint8_t *der, size_t n)
{
    static const uint8_t oid_san[3] = {0x55, 0x1d, 0x11};
    struct cursor c, cert, tbs, f, issuer, validity, subject, exts, ext, oid, val;
    uint8_t tag;

    cursor_init(&c, der, n);
    if (!der_next(&c, &tag, &cert) || tag != 0x30)
        return false;
    if (!der_next(&cert, &tag, &tbs) || tag != 0x30)
        return false;
    if (!der_next(&tbs, &tag, &f)) /* [0] version or serialNumber */
        return false;
    if (tag == 0xa0 && !der_next(&tbs, &tag, &f)) /* serialNumber */
        return false;
    if (!der_next(&tbs, &tag, &f) || tag != 0x30) /* signature AlgorithmIdentifier */
        return false;
    if (!der_next(&tbs, &tag, &issuer) || tag != 0x30)
        return false;
    if (!der_next(&tbs, &tag, &validity) || tag != 0x30)
        return false;
    if (!der_next(&tbs, &tag, &subject) || tag != 0x30)
        return false;
    ev->cert_parsed = true;
    ev->cert_cn = name_cn(t, SLOT_CN, subject);
    ev->cert_issuer_cn = name_cn(t, SLOT_ISSUER_CN, issuer);
    ev->cert_self_issued = issuer.len == subject.len && memcmp(issuer.base, subject.base, issuer.len) == 0;
    if (der_next(&validity, &tag, &f) && (tag == 0x17 || tag == 0x18))
        ev->cert_not_before = keep_str(t, SLOT_NOT_BEFORE, f.base, f.len);
    if (ev->cert_not_before != NULL && der_next(&validity, &tag, &f) && (tag == 0x17 || tag == 0x18))
        ev->cert_not_after = keep_str(t, SLOT_NOT_AFTER, f.base, f.len);
    if (!der_next(&tbs, &tag, &f)) /* subjectPublicKeyInfo */
        return true;
    while (cursor_left(&tbs) > 0 && der_next(&tbs, &tag, &f)) {
        if (tag != 0xa3)
            continue;
        if (!der_next(&f, &tag, &exts) || tag != 0x30)
            break;
        while (cursor_left(&exts) > 0 && der_next(&exts, &tag, &ext)) {
            if (tag != 0x30 || !der_next(&ext, &tag, &oid) || tag != 0x06)
                continue;
            if (oid.len != 3 || memcmp(oid.base, oid_san, 3) != 0)
                continue;
            if (!der_next(&ext, &tag, &val))
                break;
            if (tag == 0x01 && !der_next(&ext, &tag, &val)) /* critical BOOLEAN */
                break;
            if (tag == 0x04)
                parse_san(t, ev, val);
            break;
        }
        break;
    }
    return true;
}

static void parse_certificate(struct tls_conn *t, int dir, const uint8_t *p, size_t n,
                              uint32_t msg_len, bool trunc)
{
    struct tls_event ev;
    struct cursor c;
    uint32_t list_len, cert_len;

    ev_init(t, dir, &ev, TLS_EV_CERTIFICATE);
    ev.truncated = trunc;
    ev.cert_msg_len = msg_len;
    cursor_init(&c, p, n);
    if (cursor_be24(&c, &list_len)) {
        while (cursor_left(&c) >= 3) {
            const uint8_t *der;

            cursor_be24(&c, &cert_len);
            der = cursor_take(&c, cert_len);
            if (der == NULL) {
                ev.truncated = true;
                break;
            }
            if (ev.n_certs == 0)
                parse_x509(t, &ev, der, cert_len);
            ev.n_certs++;
        }
    }
    emit(t, &ev);
}

/* Suites whose ServerKeyExchange starts with ECParameters (RFC 8422 5.4):
 * ECDHE and ECDH_anon with ECDSA/RSA keys, AES/ARIA/Camellia/CCM/ChaCha. */
static bool cipher_ecdhe_ske(uint16_t c)
{
    return (c >= 0xc006 && c <= 0xc00a) ||  /* ECDHE_ECDSA  NULL..AES_256_CBC_SHA */
           (c >= 0xc010 && c <= 0xc019) ||  /* ECDHE_RSA, ECDH_anon */
           c == 0xc023 || c == 0xc024 || c == 0xc027 || c == 0xc028 || /* CBC SHA-2 */
           c == 0xc02b || c == 0xc02c || c == 0xc02f || c == 0xc030 || /* GCM */
           (c >= 0xc0ac && c <= 0xc0af) ||  /* ECDHE_ECDSA CCM */
           c == 0xcca8 || c == 0xcca9;      /* ChaCha20-Poly1305 */
}

/* TLS <= 1.2 ServerKeyExchange of an ECDHE suite: ECParameters come first;
 * only a named_curve names a group.  Anything else is ignored, never an error. */
static void parse_server_key_exchange(struct tls_conn *t, int dir, const uint8_t *p, size_t n)
{
    struct tls_event ev;
    struct cursor c;
    uint8_t curve_type;
    uint16_t group;

    if (t->version == 0x0304 || !cipher_ecdhe_ske(t->cipher))
        return;
    cursor_init(&c, p, n);
    if (!cursor_u8(&c, &curve_type) || curve_type != EC_CURVE_NAMED || !cursor_be16(&c, &group))
        return;
    ev_init(t, dir, &ev, TLS_EV_KEY_EXCHANGE);
    ev.version = t->version;
    ev.cipher = t->cipher;
    ev.group = group;
    ev.have_group = true;
    emit(t, &ev);
}

static void handshake_complete(struct tls_conn *t, int dir)
{
    struct tls_dir *d = &t->d[dir];
    bool trunc = d->hs_keep < d->hs_len;
    struct tls_event ev;

    switch (d->hs_hdr[0]) {
    case HS_CLIENT_HELLO:
        parse_client_hello(t, dir, d->hs_buf, d->hs_keep, trunc);
        break;
    case HS_SERVER_HELLO:
        parse_server_hello(t, dir, d->hs_buf, d->hs_keep, trunc);
        break;
    case HS_CERTIFICATE:
        if (t->version != 0x0304)
            parse_certificate(t, dir, d->hs_buf, d->hs_keep, d->hs_len, trunc);
        break;
    case HS_SERVER_KEY_EXCHANGE:
        parse_server_key_exchange(t, dir, d->hs_buf, d->hs_keep);
        break;
    case HS_CERT_REQUEST:
        ev_init(t, dir, &ev, TLS_EV_CERT_REQUEST);
        emit(t, &ev);
        break;
    default:
        break;
    }
}

/* Stream plaintext handshake bytes into the message assembler. */
static void handshake_bytes(struct tls_conn *t, int dir, const uint8_t *p, size_t n)
{
    struct tls_dir *d = &t->d[dir];

    while (n > 0 && !d->dead) {
        if (d->hs_hdr_have < 4) {
            size_t k = 4 - d->hs_hdr_have;

            if (k > n)
                k = n;
            memcpy(d->hs_hdr + d->hs_hdr_have, p, k);
            d->hs_hdr_have += k;
            p += k;
            n -= k;
            if (d->hs_hdr_have < 4)
                return;
            d->hs_len = ((uint32_t)d->hs_hdr[1] << 16) | ((uint32_t)d->hs_hdr[2] << 8) | d->hs_hdr[3];
            d->hs_got = 0;
            d->hs_keep = 0;
            {
                size_t want = d->hs_len < t->cfg.max_handshake ? d->hs_len : t->cfg.max_handshake;

                if (want > d->hs_cap) {
                    uint8_t *nb = d->hs_buf != NULL ? budget_realloc(d->hs_buf, want)
                                                    : budget_malloc(t->cfg.budget, want);

                    if (nb == NULL) {
                        fail(t, dir, "out of memory for a handshake message");
                        return;
                    }
                    d->hs_buf = nb;
                    d->hs_cap = want;
                }
            }
        } else {
            size_t k = d->hs_len - d->hs_got, room;

            if (k > n)
                k = n;
            room = d->hs_cap - d->hs_keep;
            if (d->hs_keep + room > t->cfg.max_handshake)
                room = t->cfg.max_handshake - d->hs_keep;
            if (room > k)
                room = k;
            if (room > 0) {
                memcpy(d->hs_buf + d->hs_keep, p, room);
                d->hs_keep += room;
            }
            d->hs_got += (uint32_t)k;
            p += k;
            n -= k;
        }
        if (d->hs_hdr_have == 4 && d->hs_got == d->hs_len) {
            handshake_complete(t, dir);
            d->hs_hdr_have = 0;
        }
    }
}

static void alert_bytes(struct tls_conn *t, int dir, const uint8_t *p, size_t n)
{
    struct tls_dir *d = &t->d[dir];
    struct tls_event ev;

    while (n > 0) {
        d->alert[d->alert_have++] = *p++;
        n--;
        if (d->alert_have < 2)
            continue;
        d->alert_have = 0;
        ev_init(t, dir, &ev, TLS_EV_ALERT);
        ev.alert_level = d->alert[0];
        ev.alert_desc = d->alert[1];
        ev.alert_level_name = tls_alert_level_name(d->alert[0], d->alert_level_name,
                                                   sizeof(d->alert_level_name));
        ev.alert_desc_name = tls_alert_name(d->alert[1], d->alert_desc_name, sizeof(d->alert_desc_name));
        emit(t, &ev);
    }
}

static void check_done(struct tls_conn *t, int dir)
{
    struct tls_event ev;

    if (t->done_reported || !t->d[0].finished || !t->d[1].finished)
        return;
    if (t->version == 0x0304)
        return;
    t->done_reported = true;
    ev_init(t, dir, &ev, TLS_EV_HANDSHAKE_DONE);
    ev.version = t->version;
    emit(t, &ev);
}

/* One opaque record: its size is all an observer without keys gets, and
 * it is enough to recognise much of what it hides.  Bounded: the first
 * TLS_RECORD_EVENTS_MAX per direction, the rest counted. */
static void report_record(struct tls_conn *t, int dir, uint8_t type, uint16_t len)
{
    struct tls_dir *d = &t->d[dir];
    struct tls_event ev;

    if (d->records >= TLS_RECORD_EVENTS_MAX) {
        d->records_unreported++;
        return;
    }
    ev_init(t, dir, &ev, TLS_EV_RECORD);
    ev.record_type = type;
    ev.record_len = len;
    ev.record_seq = d->records++;
    emit(t, &ev);
}

/* A complete record header is in d->hdr: validate it and decide what to do with the fragment. */
static bool record_start(struct tls_conn *t, int dir)
{
    struct tls_dir *d = &t->d[dir];
    uint8_t type = d->hdr[0];
    uint16_t len = load_be16(d->hdr + 3);
    struct tls_event ev;

    if (type < CT_CCS || type > CT_HEARTBEAT) {
        if (d->offset == 5 && type == '<')
            fail(t, dir, "XML where a TLS record was expected");
        else if (d->offset == 5 && (type & 0x80) && d->hdr[2] == 1)
            fail(t, dir, "SSLv2-format ClientHello");
        else
            fail(t, dir, "not a TLS record (bad content type)");
        return false;
    }
    if (d->hdr[1] != 3 || d->hdr[2] > 4) {
        fail(t, dir, "bad TLS record version");
        return false;
    }
    if (len > TLS_RECORD_MAX) {
        fail(t, dir, "TLS record too long");
        return false;
    }
    d->rec_type = type;
    d->rec_left = len;
    d->in_record = true;
    d->rec_opaque = false;
    switch (type) {
    case CT_APPDATA:
        d->rec_opaque = true;
        break;
    case CT_HANDSHAKE:
        if (d->encrypted) {
            d->rec_opaque = true;
            if (d->ccs && !d->finished) {
                d->finished = true;
            }
        }
        break;
    case CT_ALERT:
        /* a 2-byte alert is plaintext even after CCS: no cipher is that short */
        if (d->encrypted && len != 2) {
            d->rec_opaque = true;
            ev_init(t, dir, &ev, TLS_EV_ALERT);
            ev.alert_encrypted = true;
            ev.alert_level_name = "unknown";
            ev.alert_desc_name = "unknown";
            emit(t, &ev);
        }
        break;
    case CT_HEARTBEAT:
        d->rec_opaque = true;
        break;
    default:
        break;
    }
    if (d->rec_opaque && type != CT_HEARTBEAT && !d->enc_reported) {
        d->enc_reported = true;
        d->encrypted = true;
        ev_init(t, dir, &ev, TLS_EV_ENCRYPTED);
        ev.record_type = type;
        emit(t, &ev);
    }
    if (type == CT_HANDSHAKE && d->finished)
        check_done(t, dir);
    if (d->rec_opaque)
        report_record(t, dir, type, len);
    return true;
}

static void record_end(struct tls_conn *t, int dir)
{
    struct tls_dir *d = &t->d[dir];
    struct tls_event ev;

    d->in_record = false;
    if (d->rec_type == CT_CCS && !d->rec_opaque) {
        d->ccs = true;
        /* in TLS 1.3 a CCS is only middlebox compatibility (RFC 8446 D.4) */
        if (!(t->version == 0x0304 || t->hrr))
            d->encrypted = true;
        ev_init(t, dir, &ev, TLS_EV_CCS);
        emit(t, &ev);
    }
}

void tls_conn_data(struct tls_conn *t, int dir, const uint8_t *data, size_t len,
                   const struct ft_meta *m)
{
    struct tls_dir *d;
    struct cursor in;

    if (t == NULL || (dir != 0 && dir != 1))
        return;
    d = &t->d[dir];
    t->meta = m;
    cursor_init(&in, data, len);
    while (!d->dead && cursor_left(&in) > 0) {
        size_t k;
        const uint8_t *p;

        if (!d->in_record) {
            k = 5 - d->hdr_have;
            if (k > cursor_left(&in))
                k = cursor_left(&in);
            p = cursor_take(&in, k);
            memcpy(d->hdr + d->hdr_have, p, k);
            d->hdr_have += k;
            d->offset += k;
            if (d->hdr_have < 5)
                break;
            d->hdr_have = 0;
            if (!record_start(t, dir))
                break;
            if (d->rec_left == 0)
                record_end(t, dir);
            continue;
        }
        k = d->rec_left;
        if (k > cursor_left(&in))
            k = cursor_left(&in);
        p = cursor_take(&in, k);
        d->rec_left -= k;
        d->offset += k;
        if (!d->rec_opaque) {
            if (d->rec_type == CT_HANDSHAKE)
                handshake_bytes(t, dir, p, k);
            else if (d->rec_type == CT_ALERT)
                alert_bytes(t, dir, p, k);
        }
        if (d->rec_left == 0 && !d->dead)
            record_end(t, dir);
    }
    t->meta = NULL;
}

void tls_conn_gap(struct tls_conn *t, int dir, uint64_t nbytes, const struct ft_meta *m)
{
    struct tls_event ev;

    if (t == NULL || (dir != 0 && dir != 1) || t->d[dir].dead)
        return;
    t->d[dir].dead = true;
    t->meta = m;
    ev_init(t, dir, &ev, TLS_EV_GAP);
    ev.nbytes = nbytes;
    emit(t, &ev);
    t->meta = NULL;
}

void tls_conn_eof(struct tls_conn *t, int dir, const struct ft_meta *m)
{
    (void)m;
    if (t == NULL || (dir != 0 && dir != 1))
        return;
    t->d[dir].dead = true;
}
