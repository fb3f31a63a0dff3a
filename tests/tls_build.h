/*
 * tls_build.h - builders for crafted TLS records and a tiny X.509-shaped
 * DER certificate, shared by tests/test_tls.c and tests/test_xmpp.c.
 *
 * Everything writes into a caller-owned struct tb (fixed 16 KiB buffer);
 * overflow sets tb.bad instead of writing.  Test code only.
 */
#ifndef FT_TLS_BUILD_H
#define FT_TLS_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tb {
    uint8_t b[16384];
    size_t n;
    int bad;
};

static inline void tb_u8(struct tb *t, unsigned v)
{
    if (t->n + 1 > sizeof(t->b)) {
        t->bad = 1;
        return;
    }
    t->b[t->n++] = (uint8_t)v;
}

static inline void tb_u16(struct tb *t, unsigned v)
{
    tb_u8(t, (v >> 8) & 0xff);
    tb_u8(t, v & 0xff);
}

static inline void tb_u24(struct tb *t, unsigned long v)
{
    tb_u8(t, (unsigned)((v >> 16) & 0xff));
    tb_u8(t, (unsigned)((v >> 8) & 0xff));
    tb_u8(t, (unsigned)(v & 0xff));
}

static inline void tb_mem(struct tb *t, const void *p, size_t n)
{
    if (t->n + n > sizeof(t->b)) {
        t->bad = 1;
        return;
    }
    memcpy(t->b + t->n, p, n);
    t->n += n;
}

/* Reserve a big-endian length field of `width` bytes; tb_close fills it. */
static inline size_t tb_open(struct tb *t, int width)
{
    size_t at = t->n;
    int i;

    for (i = 0; i < width; i++)
        tb_u8(t, 0);
    return at;
}

static inline void tb_close(struct tb *t, size_t at, int width)
{
    size_t len = t->n - at - (size_t)width;
    int i;

    for (i = width - 1; i >= 0; i--) {
        t->b[at + (size_t)i] = (uint8_t)(len & 0xff);
        len >>= 8;
    }
}

/* One record of `type` around the bytes p[0..n). */
static inline void tb_record(struct tb *t, unsigned type, unsigned version, const uint8_t *p, size_t n)
{
    tb_u8(t, type);
    tb_u16(t, version);
    tb_u16(t, (unsigned)n);
    tb_mem(t, p, n);
}

/* ClientHello handshake message (no record header). */
static inline void tb_client_hello_msg(struct tb *t, const char *sni, const char *const *alpn, int n_alpn,
                                       const unsigned *versions, int n_versions)
{
    size_t body, exts, x, l;
    int i;

    tb_u8(t, 1);
    body = tb_open(t, 3);
    tb_u16(t, 0x0303);
    for (i = 0; i < 32; i++)
        tb_u8(t, (unsigned)i);
    tb_u8(t, 0);                  /* session id */
    tb_u16(t, 6);                 /* 3 suites */
    tb_u16(t, 0x1301);
    tb_u16(t, 0xc02f);
    tb_u16(t, 0x0a0a);            /* GREASE */
    tb_u8(t, 1);
    tb_u8(t, 0);                  /* null compression */
    exts = tb_open(t, 2);
    tb_u16(t, 0x2a2a);            /* GREASE extension */
    tb_u16(t, 0);
    if (sni != NULL) {
        tb_u16(t, 0);
        x = tb_open(t, 2);
        l = tb_open(t, 2);
        tb_u8(t, 0);
        tb_u16(t, (unsigned)strlen(sni));
        tb_mem(t, sni, strlen(sni));
        tb_close(t, l, 2);
        tb_close(t, x, 2);
    }
    if (n_alpn > 0) {
        tb_u16(t, 16);
        x = tb_open(t, 2);
        l = tb_open(t, 2);
        for (i = 0; i < n_alpn; i++) {
            tb_u8(t, (unsigned)strlen(alpn[i]));
            tb_mem(t, alpn[i], strlen(alpn[i]));
        }
        tb_close(t, l, 2);
        tb_close(t, x, 2);
    }
    if (n_versions > 0) {
        tb_u16(t, 43);
        x = tb_open(t, 2);
        l = tb_open(t, 1);
        tb_u16(t, 0x7a7a);        /* GREASE version */
        for (i = 0; i < n_versions; i++)
            tb_u16(t, versions[i]);
        tb_close(t, l, 1);
        tb_close(t, x, 2);
    }
    tb_close(t, exts, 2);
    tb_close(t, body, 3);
}

/* ServerHello handshake message; sv = supported_versions value or 0. */
static inline void tb_server_hello_msg(struct tb *t, unsigned legacy, unsigned sv, int hrr)
{
    static const uint8_t hrr_random[32] = {
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    };
    size_t body, exts, x;
    int i;

    tb_u8(t, 2);
    body = tb_open(t, 3);
    tb_u16(t, legacy);
    if (hrr)
        tb_mem(t, hrr_random, 32);
    else
        for (i = 0; i < 32; i++)
            tb_u8(t, 0x40u + (unsigned)i);
    tb_u8(t, 0);
    tb_u16(t, sv == 0x0304 ? 0x1301 : 0xc02f);
    tb_u8(t, 0);
    if (sv != 0) {
        exts = tb_open(t, 2);
        tb_u16(t, 43);
        x = tb_open(t, 2);
        tb_u16(t, sv);
        tb_close(t, x, 2);
        tb_close(t, exts, 2);
    }
    tb_close(t, body, 3);
}

/* DER TLV with minimal length encoding. */
static inline void tb_der(struct tb *t, unsigned tag, const uint8_t *p, size_t n)
{
    tb_u8(t, tag);
    if (n < 0x80) {
        tb_u8(t, (unsigned)n);
    } else if (n < 0x100) {
        tb_u8(t, 0x81);
        tb_u8(t, (unsigned)n);
    } else {
        tb_u8(t, 0x82);
        tb_u16(t, (unsigned)n);
    }
    tb_mem(t, p, n);
}

/* Name with a single CN. */
static inline void tb_der_name(struct tb *t, const char *cn)
{
    static const uint8_t oid_cn[3] = {0x55, 0x04, 0x03};
    struct tb atv = {{0}, 0, 0}, set = {{0}, 0, 0};

    tb_der(&atv, 0x06, oid_cn, 3);
    tb_der(&atv, 0x0c, (const uint8_t *)cn, strlen(cn));
    tb_der(&set, 0x30, atv.b, atv.n);
    atv.n = 0;
    tb_der(&atv, 0x31, set.b, set.n);
    tb_der(t, 0x30, atv.b, atv.n);
}

/* A certificate-shaped DER: subject CN, issuer CN, notAfter, SAN dNSNames. */
static inline void tb_der_cert(struct tb *out, const char *cn, const char *issuer, const char *not_after,
                               const char *const *san, int n_san)
{
    static const uint8_t oid_san[3] = {0x55, 0x1d, 0x11};
    static const uint8_t oid_rsa[9] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
    static const uint8_t v3[3] = {0x02, 0x01, 0x02};
    static const uint8_t serial[2] = {0x01, 0x23};
    static const uint8_t spki[4] = {0x05, 0x00, 0x03, 0x00};
    struct tb tbs = {{0}, 0, 0}, tmp = {{0}, 0, 0}, tmp2 = {{0}, 0, 0}, cert = {{0}, 0, 0};
    int i;

    tb_der(&tbs, 0xa0, v3, 3);
    tb_der(&tbs, 0x02, serial, 2);
    tb_der(&tmp, 0x06, oid_rsa, 9);
    tb_der(&tbs, 0x30, tmp.b, tmp.n);
    tb_der_name(&tbs, issuer);
    tmp.n = 0;
    tb_der(&tmp, 0x17, (const uint8_t *)"250101000000Z", 13);
    tb_der(&tmp, 0x17, (const uint8_t *)not_after, strlen(not_after));
    tb_der(&tbs, 0x30, tmp.b, tmp.n);
    tb_der_name(&tbs, cn);
    tb_der(&tbs, 0x30, spki, 4);
    /* extensions [3] { SEQUENCE { SEQUENCE { OID san, OCTET STRING { SEQUENCE { [2]... } } } } } */
    tmp.n = 0;
    for (i = 0; i < n_san; i++)
        tb_der(&tmp, 0x82, (const uint8_t *)san[i], strlen(san[i]));
    tmp2.n = 0;
    tb_der(&tmp2, 0x30, tmp.b, tmp.n);      /* GeneralNames */
    tmp.n = 0;
    tb_der(&tmp, 0x06, oid_san, 3);
    tb_der(&tmp, 0x04, tmp2.b, tmp2.n);     /* extnValue */
    tmp2.n = 0;
    tb_der(&tmp2, 0x30, tmp.b, tmp.n);      /* Extension */
    tmp.n = 0;
    tb_der(&tmp, 0x30, tmp2.b, tmp2.n);     /* Extensions */
    tb_der(&tbs, 0xa3, tmp.b, tmp.n);
    tb_der(&cert, 0x30, tbs.b, tbs.n);      /* TBSCertificate */
    tmp.n = 0;
    tb_der(&tmp, 0x06, oid_rsa, 9);
    tb_der(&cert, 0x30, tmp.b, tmp.n);      /* signatureAlgorithm */
    tb_der(&cert, 0x03, spki + 2, 2);       /* signature BIT STRING */
    tb_der(out, 0x30, cert.b, cert.n);
}

/* Certificate handshake message (TLS <= 1.2) holding `n` copies of der. */
static inline void tb_certificate_msg(struct tb *t, const uint8_t *der, size_t der_len, int n)
{
    size_t body, list;
    int i;

    tb_u8(t, 11);
    body = tb_open(t, 3);
    list = tb_open(t, 3);
    for (i = 0; i < n; i++) {
        tb_u24(t, der_len);
        tb_mem(t, der, der_len);
    }
    tb_close(t, list, 3);
    tb_close(t, body, 3);
}

#endif
