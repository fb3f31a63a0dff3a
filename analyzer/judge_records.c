/*
 * judge_records.c - what the encrypted record sequence of one s2s
 * connection says about the XMPP it hides (no keys): where the TLS
 * handshake ends, which records are session tickets or alerts, how many
 * carry XMPP each way, whether the initiator restarted its stream (SASL
 * success), and whether the receiver answered once and hung up.
 *
 * Sizes leak plaintext lengths exactly: a TLS 1.3 AEAD record is the
 * plaintext + 1 (inner content type) + 16 (tag); TLS 1.2 GCM adds 24,
 * ChaCha20-Poly1305 16.  The rules use relative structure (a restart is
 * the size of the first header; <success/> has a fixed length), not the
 * lab's absolute sizes.  doc/verdicts.md lists the rules and their names.
 */
#include "corr_priv.h"

#include <string.h>

/* <success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/> */
#define SASL_SUCCESS_LEN 51
/* an alert: level + description */
#define ALERT_LEN 2

static bool cipher_is_chacha(uint16_t c)
{
    return c == 0xcca8 || c == 0xcca9 || c == 0xccaa || c == 0x1303;
}

static bool cipher_is_gcm12(uint16_t c)
{
    return (c >= 0x009c && c <= 0x00a7) || (c >= 0xc02b && c <= 0xc032);
}

/* Bytes a record adds to its plaintext; 0 when not known. */
static unsigned record_overhead(const struct cconn *k)
{
    if (k->tls_version == 0x0304)
        return 17;
    if (k->tls_version == 0x0303 && cipher_is_chacha(k->tls_cipher))
        return 16;
    if (k->tls_version == 0x0303 && cipher_is_gcm12(k->tls_cipher))
        return 24;
    return 0;
}

/* TLS 1.3 Finished record: verify_data (hash length) + 4 + 17. */
static unsigned finished_len13(const struct cconn *k)
{
    return (k->tls_cipher == 0x1302 ? 48u : 32u) + 4u + 17u;
}

void rec_shape_of(const struct cconn *k, struct rec_shape *s)
{
    unsigned start[2] = { 0, 0 }; /* index of the first record after the handshake */
    bool tls13 = k->tls_version == 0x0304;
    unsigned ov = record_overhead(k);

    memset(s, 0, sizeof(*s));
    if (!k->nrec)
        return;
    s->have = true;
    s->overhead = ov;
    if (tls13) {
        /* Each side's encrypted handshake ends with its Finished. */
        unsigned fin = finished_len13(k);
        for (int d = 0; d < 2; d++) {
            unsigned seen = 0;
            start[d] = k->nrec; /* no Finished seen: nothing after it */
            for (unsigned i = 0; i < k->nrec && seen < 8; i++) {
                if (k->rec[i].dir != d)
                    continue;
                seen++;
                if (k->rec[i].len == fin) {
                    start[d] = i + 1;
                    break;
                }
            }
            if (start[d] == k->nrec && seen >= 8)
                start[d] = 0; /* no Finished among the first: count everything */
        }
        s->handshake_seen = start[0] < k->nrec || start[1] < k->nrec;
    }
    {
        bool leading[2] = { true, true };
        uint16_t lead_len = 0;
        unsigned lead_run = 0;
        /* The receiver's leading run of equal-size records right after its
         * Finished are TLS 1.3 NewSessionTickets (OpenSSL sends two). */
        if (tls13) {
            for (unsigned i = start[1]; i < k->nrec; i++) {
                const struct crec *r = &k->rec[i];
                if (r->dir != FT_DIR_RESP || r->type != 23)
                    continue;
                if (!lead_run) {
                    lead_len = r->len;
                    lead_run = 1;
                } else if (r->len == lead_len) {
                    lead_run++;
                } else {
                    break;
                }
            }
            if (lead_run < 2)
                lead_run = 0;
        }
        for (unsigned i = 0; i < k->nrec; i++) {
            const struct crec *r = &k->rec[i];
            int d = r->dir & 1;
            if (i < start[d] || r->type != 23)
                continue;
            if (d == FT_DIR_RESP && leading[1] && lead_run && s->tickets < lead_run) {
                s->tickets++;
                continue;
            }
            leading[d] = false;
            if (ov && r->len == ALERT_LEN + ov) {
                s->alerts[d]++;
                if (!s->first_alert)
                    s->first_alert = r;
                continue;
            }
            if (!s->first[d])
                s->first[d] = r;
            s->last[d] = r;
            s->data[d]++;
            if (d == FT_DIR_RESP && ov && r->len == SASL_SUCCESS_LEN + ov && !s->success && s->first[0])
                s->success = r;
            if (d == FT_DIR_ORIG && s->first[0] != r && r->len == s->first[0]->len && s->data[1] > 0 &&
                !s->restart)
                s->restart = r;
            if (d == FT_DIR_RESP && s->data[0] && !s->answer) {
                s->answer = r;
                s->orig_before_answer = s->data[0];
            }
        }
    }
}
