/*
 * tls.c - passive TLS record/handshake reader (see tls.h for the contract).
 *
 * Per direction a small state machine walks the record layer without
 * buffering records: the 5-byte header is assembled across chunks, then
 * the fragment bytes are streamed into either the handshake-message
 * assembler (plaintext handshake), the 2-byte alert assembler, or skipped
 * (ciphertext).  A handshake message is parsed once complete, with a
 * struct cursor over the kept bytes: the hellos and the ServerKeyExchange
 * in tls_hello.c, the first certificate in tls_cert.c (tls_int.h).
 *
 * Direction state:  plaintext --CCS--> encrypted (<= 1.2, and 1.3 compat)
 *                   plaintext --ServerHello 1.3--> encrypted (server side)
 * The first record a direction sends that cannot be read yields
 * TLS_EV_ENCRYPTED; TLS 1.2 handshake completion is "CCS then an encrypted
 * handshake record (Finished)" in both directions.
 */
#include "tls_int.h"

#include "tls_wire.h"

#include <stdlib.h>
#include <string.h>

#include "../analyzer/cursor.h"

#define TLS_RECORD_MAX (16384 + 2048) /* RFC 5246 6.2.3 ciphertext limit */
#define HS_SERVER_KEY_EXCHANGE 12

void tls_config_default(struct tls_config *cfg)
{
    cfg->max_handshake = 65536;
    cfg->budget = NULL;
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

static void fail(struct tls_conn *t, int dir, const char *why)
{
    struct tls_event ev;
    struct tls_dir *d = &t->d[dir];

    if (d->dead)
        return;
    d->dead = true;
    tls_ev_init(t, dir, &ev, TLS_EV_ERROR);
    ev.error = why;
    ev.offset = d->offset;
    tls_emit(t, &ev);
}

static void handshake_complete(struct tls_conn *t, int dir)
{
    struct tls_dir *d = &t->d[dir];
    bool trunc = d->hs_keep < d->hs_len;
    struct tls_event ev;

    switch (d->hs_hdr[0]) {
    case HS_CLIENT_HELLO:
        tls_parse_client_hello(t, dir, d->hs_buf, d->hs_keep, trunc);
        break;
    case HS_SERVER_HELLO:
        tls_parse_server_hello(t, dir, d->hs_buf, d->hs_keep, trunc);
        break;
    case HS_CERTIFICATE:
        if (t->version != 0x0304)
            tls_parse_certificate(t, dir, d->hs_buf, d->hs_keep, d->hs_len, trunc);
        break;
    case HS_SERVER_KEY_EXCHANGE:
        tls_parse_server_key_exchange(t, dir, d->hs_buf, d->hs_keep);
        break;
    case HS_CERT_REQUEST:
        tls_ev_init(t, dir, &ev, TLS_EV_CERT_REQUEST);
        tls_emit(t, &ev);
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
        tls_ev_init(t, dir, &ev, TLS_EV_ALERT);
        ev.alert_level = d->alert[0];
        ev.alert_desc = d->alert[1];
        ev.alert_level_name = tls_alert_level_name(d->alert[0], d->alert_level_name,
                                                   sizeof(d->alert_level_name));
        ev.alert_desc_name = tls_alert_name(d->alert[1], d->alert_desc_name, sizeof(d->alert_desc_name));
        tls_emit(t, &ev);
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
    tls_ev_init(t, dir, &ev, TLS_EV_HANDSHAKE_DONE);
    ev.version = t->version;
    tls_emit(t, &ev);
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
    tls_ev_init(t, dir, &ev, TLS_EV_RECORD);
    ev.record_type = type;
    ev.record_len = len;
    ev.record_seq = d->records++;
    tls_emit(t, &ev);
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
            tls_ev_init(t, dir, &ev, TLS_EV_ALERT);
            ev.alert_encrypted = true;
            ev.alert_level_name = "unknown";
            ev.alert_desc_name = "unknown";
            tls_emit(t, &ev);
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
        tls_ev_init(t, dir, &ev, TLS_EV_ENCRYPTED);
        ev.record_type = type;
        tls_emit(t, &ev);
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
        tls_ev_init(t, dir, &ev, TLS_EV_CCS);
        tls_emit(t, &ev);
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
    tls_ev_init(t, dir, &ev, TLS_EV_GAP);
    ev.nbytes = nbytes;
    tls_emit(t, &ev);
    t->meta = NULL;
}

void tls_conn_eof(struct tls_conn *t, int dir, const struct ft_meta *m)
{
    (void)m;
    if (t == NULL || (dir != 0 && dir != 1))
        return;
    t->d[dir].dead = true;
}
