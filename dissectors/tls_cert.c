/*
 * tls_cert.c - the first certificate of a TLS <= 1.2 Certificate message:
 * subject and issuer commonName, validity times, DNS subjectAltNames,
 * whether it is self-issued.  A bounded, iterative DER reader (RFC 5280
 * TBSCertificate): no recursion, every length checked, nothing kept but
 * the strings the event reports.
 */
#include "tls_int.h"

#include "../analyzer/cursor.h"

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
                return tls_keep_str(t, slot, val.base, val.len);
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
            ev->cert_san[ev->n_san] = tls_keep_str(t, TLS_SLOT_SAN0 + (int)ev->n_san, gn.base, gn.len);
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
    ev->cert_cn = name_cn(t, TLS_SLOT_CN, subject);
    ev->cert_issuer_cn = name_cn(t, TLS_SLOT_ISSUER_CN, issuer);
    ev->cert_self_issued = issuer.len == subject.len && memcmp(issuer.base, subject.base, issuer.len) == 0;
    if (der_next(&validity, &tag, &f) && (tag == 0x17 || tag == 0x18))
        ev->cert_not_before = tls_keep_str(t, TLS_SLOT_NOT_BEFORE, f.base, f.len);
    if (ev->cert_not_before != NULL && der_next(&validity, &tag, &f) && (tag == 0x17 || tag == 0x18))
        ev->cert_not_after = tls_keep_str(t, TLS_SLOT_NOT_AFTER, f.base, f.len);
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

void tls_parse_certificate(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint32_t msg_len,
                           bool trunc)
{
    struct tls_event ev;
    struct cursor c;
    uint32_t list_len, cert_len;

    tls_ev_init(t, dir, &ev, TLS_EV_CERTIFICATE);
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
    tls_emit(t, &ev);
}
