/*
 * tlsrec.c - TLS 1.3 record sequences as a capture without keys shows
 * them (RFC 8446): a well-formed ClientHello (SNI, ALPN, supported_versions,
 * key_share x25519, groups, signature algorithms), a ServerHello choosing
 * TLS_AES_128_GCM_SHA256, the middlebox-compatibility ChangeCipherSpec,
 * and application_data records whose length is plaintext + 17.
 */
#include "content.h"

#include <string.h>

static size_t put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

static size_t put24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
    return 3;
}

static size_t record_header(uint8_t *p, uint8_t type, size_t len)
{
    p[0] = type;
    p[1] = 3;
    p[2] = type == 22 ? 1 : 3;
    put16(p + 3, (uint16_t)len);
    return 5;
}

size_t tls_client_hello(struct rng *r, uint8_t *buf, const char *sni, const char *alpn)
{
    uint8_t *hs = buf + 5;
    size_t n = 4; /* handshake header written at the end */
    n += put16(hs + n, 0x0303);
    rng_fill(r, hs + n, 32);
    n += 32;
    hs[n++] = 32; /* legacy session id (middlebox compatibility) */
    rng_fill(r, hs + n, 32);
    n += 32;
    static const uint16_t suites[] = {0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0xc02b, 0xc02f, 0x00ff};
    n += put16(hs + n, (uint16_t)(2 * (sizeof suites / sizeof suites[0])));
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        n += put16(hs + n, suites[i]);
    hs[n++] = 1;
    hs[n++] = 0;
    size_t extlen_at = n;
    n += 2;
    if (sni) {
        size_t l = strlen(sni);
        n += put16(hs + n, 0);
        n += put16(hs + n, (uint16_t)(l + 5));
        n += put16(hs + n, (uint16_t)(l + 3));
        hs[n++] = 0;
        n += put16(hs + n, (uint16_t)l);
        memcpy(hs + n, sni, l);
        n += l;
    }
    { /* ALPN */
        size_t l = strlen(alpn);
        n += put16(hs + n, 16);
        n += put16(hs + n, (uint16_t)(l + 3));
        n += put16(hs + n, (uint16_t)(l + 1));
        hs[n++] = (uint8_t)l;
        memcpy(hs + n, alpn, l);
        n += l;
    }
    { /* supported_groups: x25519, secp256r1, x448, secp384r1 */
        static const uint8_t e[] = {0, 10, 0, 10, 0, 8, 0, 0x1d, 0, 0x17, 0, 0x1e, 0, 0x18};
        memcpy(hs + n, e, sizeof e);
        n += sizeof e;
    }
    { /* signature_algorithms */
        static const uint8_t e[] = {0, 13, 0, 12, 0, 10, 4, 3, 8, 4, 4, 1, 5, 3, 8, 5};
        memcpy(hs + n, e, sizeof e);
        n += sizeof e;
    }
    { /* supported_versions: TLS 1.3, 1.2 */
        static const uint8_t e[] = {0, 43, 0, 5, 4, 3, 4, 3, 3};
        memcpy(hs + n, e, sizeof e);
        n += sizeof e;
    }
    { /* psk_key_exchange_modes */
        static const uint8_t e[] = {0, 45, 0, 2, 1, 1};
        memcpy(hs + n, e, sizeof e);
        n += sizeof e;
    }
    { /* key_share: x25519 */
        n += put16(hs + n, 51);
        n += put16(hs + n, 38);
        n += put16(hs + n, 36);
        n += put16(hs + n, 0x1d);
        n += put16(hs + n, 32);
        rng_fill(r, hs + n, 32);
        n += 32;
    }
    put16(hs + extlen_at, (uint16_t)(n - extlen_at - 2));
    hs[0] = 1;
    put24(hs + 1, (uint32_t)(n - 4));
    record_header(buf, 22, n);
    return 5 + n;
}

static size_t app_record(struct rng *r, uint8_t *p, size_t plain)
{
    size_t l = plain + 17;
    record_header(p, 23, l);
    rng_fill(r, p + 5, l);
    return 5 + l;
}

size_t tls_server_flight(struct rng *r, uint8_t *buf, size_t cert_len)
{
    uint8_t *hs = buf + 5;
    size_t n = 4;
    n += put16(hs + n, 0x0303);
    rng_fill(r, hs + n, 32);
    n += 32;
    hs[n++] = 32;
    rng_fill(r, hs + n, 32);
    n += 32;
    n += put16(hs + n, 0x1301);
    hs[n++] = 0;
    size_t extlen_at = n;
    n += 2;
    {
        static const uint8_t e[] = {0, 43, 0, 2, 3, 4};
        memcpy(hs + n, e, sizeof e);
        n += sizeof e;
    }
    n += put16(hs + n, 51);
    n += put16(hs + n, 36);
    n += put16(hs + n, 0x1d);
    n += put16(hs + n, 32);
    rng_fill(r, hs + n, 32);
    n += 32;
    put16(hs + extlen_at, (uint16_t)(n - extlen_at - 2));
    hs[0] = 2;
    put24(hs + 1, (uint32_t)(n - 4));
    record_header(buf, 22, n);
    buf[2] = 3; /* only a ClientHello's record says TLS 1.0 */
    size_t o = 5 + n;
    o += record_header(buf + o, 20, 1);
    buf[o++] = 1;
    o += app_record(r, buf + o, 6 + 4 + rng_below(r, 10)); /* EncryptedExtensions (ALPN) */
    o += app_record(r, buf + o, cert_len);                  /* Certificate */
    o += app_record(r, buf + o, 264);                       /* CertificateVerify (RSA-2048) */
    o += app_record(r, buf + o, 36);                        /* Finished */
    return o;
}

size_t tls_client_finish(struct rng *r, uint8_t *buf)
{
    size_t o = record_header(buf, 20, 1);
    buf[o++] = 1;
    o += app_record(r, buf + o, 36);
    return o;
}

size_t tls_app_records(struct rng *r, uint8_t *buf, size_t plain_len)
{
    size_t o = 0;
    do {
        size_t l = plain_len > 16384 ? 16384 : plain_len;
        o += app_record(r, buf + o, l);
        plain_len -= l;
    } while (plain_len);
    return o;
}

size_t tls_alert(uint8_t *buf, uint8_t desc)
{
    size_t o = record_header(buf, 21, 2);
    buf[1] = 3;
    buf[2] = 3;
    buf[o++] = 2;
    buf[o++] = desc;
    return o;
}
