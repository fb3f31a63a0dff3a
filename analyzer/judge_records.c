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

/* Dialback (XEP-0220) inside TLS.  The request is
 *   <db:result from='A' to='B'>KEY</db:result>      37 + |A| + |B| + |KEY|
 * with a key of a known length: Prosody 0.12 and ejabberd 23 send the
 * HMAC-SHA256 in hex (64), older servers SHA-1 in hex (40), some base64
 * (44).  The valid answer is either self-closing (ejabberd 23)
 *   <db:result type='valid' to='A' from='B'/>        39 + |A| + |B|
 * or echoes the request with type and the stream id (Prosody 0.12, a
 * 36-character UUID)
 *   <db:result type='valid' from to id='UUID'>KEY</db:result>  request + 13 + 42
 * and type='invalid' is 2 bytes longer than the same valid answer.  The
 * lab's cleartext captures show exactly these sizes (129 / 67 / 184 / 186
 * bytes for two 14-character domains); attribute order does not matter. */
#define DB_REQUEST_FIXED 37
#define DB_SELFCLOSE_FIXED 39
#define DB_TYPE_VALID_LEN 13     /* " type='valid'" */
#define DB_UUID_ID_LEN 42        /* " id='" + 36 + "'" */
#define DB_INVALID_EXTRA 2       /* "invalid" - "valid" */
static const unsigned db_key_lens[] = { 64, 40, 44 };

/* Is plaintext length p a <db:result> request for domains of total length
 * d?  Sets *key to the key length it implies. */
static bool db_request_len(unsigned p, unsigned d, unsigned *key)
{
    for (size_t i = 0; i < sizeof(db_key_lens) / sizeof(db_key_lens[0]); i++)
        if (p == DB_REQUEST_FIXED + d + db_key_lens[i]) {
            *key = db_key_lens[i];
            return true;
        }
    return false;
}

/* 1 when plaintext length p is a valid answer to a request of req bytes,
 * -1 when it is an invalid one, 0 when it is neither. */
static int db_answer_len(unsigned p, unsigned d, unsigned req)
{
    const unsigned valid[] = { DB_SELFCLOSE_FIXED + d, req + DB_TYPE_VALID_LEN + DB_UUID_ID_LEN,
                               req + DB_TYPE_VALID_LEN };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        if (p == valid[i])
            return 1;
        if (p == valid[i] + DB_INVALID_EXTRA)
            return -1;
    }
    return 0;
}

/* Both domains of the connection, when it knows them (not "[address]"). */
static bool named_pair_len(const struct cconn *k, unsigned *d)
{
    if (!k->dom_from || !k->dom_to || !*k->dom_from || !*k->dom_to || k->dom_from[0] == '[' ||
        k->dom_to[0] == '[')
        return false;
    *d = (unsigned)(strlen(k->dom_from) + strlen(k->dom_to));
    return true;
}

/* The dialback request and its answer among the XMPP records: the first
 * initiator record of request size before any stream restart, and the
 * receiver's next XMPP record when it has an answer's size. */
static void find_dialback(const struct cconn *k, struct rec_shape *s, const unsigned start[2])
{
    unsigned d, key = 0, req = 0;
    if (!s->overhead || !named_pair_len(k, &d))
        return;
    for (unsigned i = 0; i < k->nrec; i++) {
        const struct crec *r = &k->rec[i];
        unsigned p;
        if (i < start[r->dir & 1] || r->type != 23 || r->len <= s->overhead)
            continue;
        p = r->len - s->overhead;
        if (!s->db_request) {
            if ((r->dir & 1) == FT_DIR_ORIG && r != s->first[0] && (!s->restart || r->ref.frame < s->restart->ref.frame) &&
                db_request_len(p, d, &key)) {
                s->db_request = r;
                req = p;
            }
            continue;
        }
        if ((r->dir & 1) != FT_DIR_RESP || (s->success && r == s->success))
            continue;
        if (p == ALERT_LEN)
            return; /* closed without an answer */
        {
            int a = db_answer_len(p, d, req);
            if (a) {
                s->db_answer = r;
                s->db_valid = a > 0;
            }
        }
        return; /* the receiver's next record answers, or it is not dialback */
    }
}

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
    find_dialback(k, s, start);
}
