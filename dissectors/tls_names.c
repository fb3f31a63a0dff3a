/*
 * tls_names.c - names of TLS wire values an observer reports: cipher
 * suites, key-exchange groups, protocol versions and alerts (IANA
 * registries), event types, and a certificate's ASN.1 validity time as
 * ISO 8601.  Pure functions, no state.
 */
#include "tls.h"

#include <stdio.h>
#include <string.h>

#include "../analyzer/tok.h"

/* IANA "TLS Cipher Suites" names of the suites servers negotiate today. */
static const struct tok cipher_toks[] = {
    { 0x1301, "TLS_AES_128_GCM_SHA256" },
    { 0x1302, "TLS_AES_256_GCM_SHA384" },
    { 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
    { 0x1304, "TLS_AES_128_CCM_SHA256" },
    { 0x1305, "TLS_AES_128_CCM_8_SHA256" },
    { 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA" },
    { 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
    { 0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
    { 0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
    { 0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
    { 0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
    { 0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
    { 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
    { 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
    { 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
    { 0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
    { 0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
    { 0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
    { 0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
    { 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
    { 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
    { 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0, NULL },
};

const char *tls_cipher_name(uint16_t cipher, char *buf, size_t buflen)
{
    return tok2str(cipher_toks, cipher, "0x%04x", buf, buflen);
}

/* IANA "TLS Supported Groups" (RFC 8446 4.2.7, RFC 7919, RFC 8422,
 * draft-kwiatkowski-tls-ecdhe-mlkem, draft-tls-westerbaan-xyber768d00) */
static const struct tok group_toks[] = {
    { 23, "secp256r1" }, { 24, "secp384r1" }, { 25, "secp521r1" },
    { 29, "x25519" }, { 30, "x448" },
    { 31, "brainpoolP256r1tls13" }, { 32, "brainpoolP384r1tls13" }, { 33, "brainpoolP512r1tls13" },
    { 256, "ffdhe2048" }, { 257, "ffdhe3072" }, { 258, "ffdhe4096" },
    { 259, "ffdhe6144" }, { 260, "ffdhe8192" },
    { 0x11eb, "SecP256r1MLKEM768" }, { 0x11ec, "X25519MLKEM768" }, { 0x11ed, "SecP384r1MLKEM1024" },
    { 0x6399, "X25519Kyber768Draft00" },
    { 0, NULL },
};

const char *tls_group_name(uint16_t group, char *buf, size_t buflen)
{
    return tok2str(group_toks, group, "0x%04x", buf, buflen);
}

const char *tls_time_iso(const char *raw, char *buf, size_t len)
{
    /* UTCTime YYMMDDHHMM[SS]Z (RFC 5280: YY < 50 is 20YY) or
     * GeneralizedTime YYYYMMDDHHMMSS[.f]Z. */
    char d[16];
    size_t n = 0, digits;
    int year;

    if (!raw)
        return NULL;
    while (raw[n] >= '0' && raw[n] <= '9' && n < sizeof(d) - 1) {
        d[n] = raw[n];
        n++;
    }
    d[n] = '\0';
    digits = n;
    if (raw[n] != 'Z' || raw[n + 1] != '\0' || (digits != 12 && digits != 14 && digits != 10))
        return NULL;
    if (digits == 14) {
        year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
        memmove(d, d + 4, 11);
    } else {
        int yy = (d[0] - '0') * 10 + (d[1] - '0');
        year = yy < 50 ? 2000 + yy : 1900 + yy;
        memmove(d, d + 2, 11);
        if (digits == 10) { /* no seconds */
            d[8] = '0';
            d[9] = '0';
            d[10] = '\0';
        }
    }
    /* d: MMDDHHMMSS */
    snprintf(buf, len, "%04d-%.2s-%.2sT%.2s:%.2s:%.2sZ", year, d, d + 2, d + 4, d + 6, d + 8);
    return buf;
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
