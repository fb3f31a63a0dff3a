/*
 * content.h - gen-busy's payload builders: DNS messages (dnsmsg.c) and
 * TLS 1.3 record sequences (tlsrec.c).  Every builder writes into a
 * caller-owned buffer and returns the number of bytes written; the
 * caller sizes the buffer (bounds given per function).
 */
#ifndef GEN_CONTENT_H
#define GEN_CONTENT_H

#include "gen.h"

/* ---- DNS (RFC 1035, SRV RFC 2782, AAAA RFC 3596, EDNS RFC 6891) ---- */
#define QT_A 1
#define QT_SOA 6
#define QT_AAAA 28
#define QT_SRV 33

struct dns_rr {
    uint16_t type; /* QT_A, QT_AAAA, QT_SRV */
    uint8_t addr[16];
    uint16_t prio, weight, port;
    const char *target; /* SRV */
};

/* A query with an EDNS OPT record: at most 300 bytes for names < 255. */
size_t dns_query(uint8_t *buf, uint16_t id, const char *qname, uint16_t qtype);
/* A response to that query: rcode 0/2/3, tc sets the truncation bit.
 * Negative answers carry an SOA in the authority section.  buf must hold
 * 300 + 300 * n bytes. */
size_t dns_response(uint8_t *buf, uint16_t id, const char *qname, uint16_t qtype, int rcode, bool tc,
                    const struct dns_rr *rr, int n);

/* ---- TLS 1.3 (RFC 8446) as seen without keys --------------------------- */
/* ClientHello record: SNI when sni != NULL, ALPN alpn; < 600 bytes. */
size_t tls_client_hello(struct rng *r, uint8_t *buf, const char *sni, const char *alpn);
/* ServerHello, ChangeCipherSpec and the encrypted server flight
 * (EncryptedExtensions, Certificate of cert_len, CertificateVerify,
 * Finished) as records; < 800 + cert_len bytes. */
size_t tls_server_flight(struct rng *r, uint8_t *buf, size_t cert_len);
/* The client's ChangeCipherSpec and encrypted Finished; 64 bytes. */
size_t tls_client_finish(struct rng *r, uint8_t *buf);
/* One or more application_data records carrying plain_len bytes of
 * plaintext (AES-GCM: +1 content type +16 tag per record); buf must hold
 * plain_len + 22 * (plain_len / 16384 + 1) bytes. */
size_t tls_app_records(struct rng *r, uint8_t *buf, size_t plain_len);
/* A plaintext alert record (level fatal, the given description); 7 bytes. */
size_t tls_alert(uint8_t *buf, uint8_t desc);

#endif
