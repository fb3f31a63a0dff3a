/*
 * tls_int.h - what the TLS reader's files share and nobody else sees: the
 * per-connection state, the string slots events point into, and the
 * helpers every parser uses to fill and emit an event.
 *
 * tls.c walks the record layer and assembles handshake messages;
 * tls_hello.c parses the hellos and the ServerKeyExchange; tls_cert.c
 * walks the first certificate; tls_names.c names wire values.
 *
 * Ownership: a struct tls_conn (tls_conn_new/tls_conn_free, tls.c) owns
 * its two handshake buffers.  Strings an event carries point into the
 * connection's `str` slots: valid until the next event of the connection
 * that reuses the slot (the callback copies what it keeps).
 */
#ifndef FT_TLS_INT_H
#define FT_TLS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tls.h"
#include "../analyzer/utf8.h"

/* String slots inside struct tls_conn used by events. */
enum {
    TLS_SLOT_SNI = 0,
    TLS_SLOT_CN,
    TLS_SLOT_ISSUER_CN,
    TLS_SLOT_NOT_BEFORE,
    TLS_SLOT_NOT_AFTER,
    TLS_SLOT_ALPN0,
    TLS_SLOT_SAN0 = TLS_SLOT_ALPN0 + TLS_MAX_ALPN,
    TLS_SLOT_COUNT = TLS_SLOT_SAN0 + TLS_MAX_SAN,
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
    char str[TLS_SLOT_COUNT][TLS_NAME_MAX + 1];
};

static inline void tls_ev_init(const struct tls_conn *t, int dir, struct tls_event *ev, enum tls_event_type type)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->dir = (uint8_t)dir;
    if (t->meta != NULL)
        ev->meta = *t->meta;
    ev->meta.dir = (uint8_t)dir;
}

static inline void tls_emit(struct tls_conn *t, const struct tls_event *ev)
{
    if (t->cb != NULL)
        t->cb(ev, t->user);
}

/* Copy wire bytes into string slot `slot`, NUL-terminated, control bytes
 * as '?', cut at TLS_NAME_MAX on a UTF-8 character boundary.  Bytes that
 * are not UTF-8 are kept: the output replaces and counts them. */
static inline const char *tls_keep_str(struct tls_conn *t, int slot, const uint8_t *p, size_t n)
{
    char *dst = t->str[slot];
    size_t i;

    n = utf8_cut((const char *)p, n, TLS_NAME_MAX);
    for (i = 0; i < n; i++)
        dst[i] = (p[i] < 0x20 || p[i] == 0x7f) ? '?' : (char)p[i];
    dst[n] = '\0';
    return dst;
}

/* Parsers of complete handshake messages (`p`, `n`: the body bytes kept,
 * `trunc`: the message was longer than what was kept).  Each emits its
 * event through the connection's callback. */
void tls_parse_client_hello(struct tls_conn *t, int dir, const uint8_t *p, size_t n, bool trunc);
void tls_parse_server_hello(struct tls_conn *t, int dir, const uint8_t *p, size_t n, bool trunc);
void tls_parse_server_key_exchange(struct tls_conn *t, int dir, const uint8_t *p, size_t n);
void tls_parse_certificate(struct tls_conn *t, int dir, const uint8_t *p, size_t n, uint32_t msg_len,
                           bool trunc);

#endif
