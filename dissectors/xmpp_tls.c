/*
 * xmpp_tls.c - the XMPP dissector's hand-off to TLS: after <proceed/> (or
 * from the first byte of a direct TLS connection) a direction's bytes go
 * to the tls.c record reader, whose facts become XMPP_EV_TLS events, and,
 * when the key log has keys, to a tls_decrypt for the connection.  The
 * decrypted application bytes come back here and are parsed by the same
 * XML layer as the stream inside TLS (events marked `decrypted`); when
 * decryption stops (XMPP_EV_DECRYPT_STOPPED) the stream inside TLS is
 * dropped and the connection carries on as without keys.
 */
#include "xmpp_int.h"

#include <string.h>

static void on_tls(const struct tls_event *tev, void *user)
{
    struct xmpp_conn *c = user;
    struct xdir *d = &c->d[tev->dir & 1];
    struct xmpp_event ev;

    /* the decryptor learns the hello randoms, version and suite from the
     * reader, which sees every record first */
    if (c->dec != NULL && tev->have_random) {
        if (tev->type == TLS_EV_CLIENT_HELLO)
            tls_decrypt_client_hello(c->dec, tev->random);
        else if (tev->type == TLS_EV_SERVER_HELLO)
            tls_decrypt_server_hello(c->dec, tev->random, tev->version, tev->cipher,
                                     tev->hello_retry, tev->encrypt_then_mac);
    }
    xmpp_ev_init(d, &ev, XMPP_EV_TLS);
    ev.meta = tev->meta;
    ev.tls = tev;
    xmpp_emit(d, &ev);
}

/* The packet a decrypted record came in: the decryptor hands back the
 * meta it was given with the record (records held for a late secret are
 * decrypted with later packets); the current one otherwise. */
static const struct ft_meta *record_meta(const struct xmpp_conn *c, struct ft_meta *copy)
{
    size_t n = 0;
    const void *tag = tls_decrypt_tag(c->dec, &n);

    if (tag == NULL || n != sizeof(*copy))
        return c->meta;
    memcpy(copy, tag, sizeof(*copy));
    return copy;
}

/* Decrypted application bytes of dir: the stream inside TLS. */
static void on_plaintext(void *user, int dir, const uint8_t *p, size_t n)
{
    struct xmpp_conn *c = user;
    struct xdir *d = &c->d[dir & 1];
    const struct ft_meta *saved = c->meta;
    struct ft_meta m;
    struct mem_budget *prev;

    if (!d->wire_tls || d->eof || d->gapped)
        return;
    c->stats.decrypted_bytes[d->dir] += n;
    c->meta = record_meta(c, &m);
    prev = xmpp_xml_scope_enter(d);
    d->in_plain = true;
    xmpp_dir_layer(d, p, n);
    d->in_plain = false;
    xmpp_xml_scope_leave(prev);
    c->meta = saved;
}

/* Decryption stopped: the connection goes on as without keys. */
static void on_decrypt_event(void *user, const struct tls_decrypt_event *dev)
{
    struct xmpp_conn *c = user;
    struct xdir *d = &c->d[dev->dir & 1];
    struct xmpp_event ev;
    int i;

    switch (dev->type) {
    case TLS_DEC_EV_AUTH_FAILED:
    case TLS_DEC_EV_NO_KEY:
    case TLS_DEC_EV_UNSUPPORTED:
    case TLS_DEC_EV_ERROR:
        break;
    default:
        return;
    }
    for (i = 0; i < 2; i++)
        if (c->d[i].wire_tls && c->d[i].mode != DM_DONE)
            c->d[i].mode = DM_TLS; /* parsers are released outside this call */
    {
        const struct ft_meta *saved = c->meta;
        struct ft_meta m;

        c->meta = record_meta(c, &m);
        xmpp_ev_init(d, &ev, XMPP_EV_DECRYPT_STOPPED);
        c->meta = saved;
    }
    ev.decrypt_reason = dev->reason != NULL ? dev->reason : tls_decrypt_event_name(dev->type);
    xmpp_emit(d, &ev);
}

/* The record reader for the connection, and the decryptor when there are
 * keys (a decryptor that cannot be had leaves the connection without). */
static bool reader_new(struct xmpp_conn *c)
{
    c->tls = tls_conn_new(&c->cfg.tls, on_tls, c);
    if (c->tls == NULL)
        return false;
    if (c->cfg.decrypt != NULL && tls_decrypt_ctx_has_keys(c->cfg.decrypt))
        c->dec = tls_decrypt_new(c->cfg.decrypt, &c->mem, on_plaintext, on_decrypt_event, c);
    return true;
}

/* The wire of d turns to TLS: the reader (and the decryptor, when there
 * are keys) for the connection, and the XML layer waits for the stream
 * inside TLS, or gives up when it cannot be read. */
bool xmpp_tls_start(struct xdir *d)
{
    struct xmpp_conn *c = d->conn;

    if (c->tls == NULL && !reader_new(c)) {
        xmpp_emit_error(d, XMPP_ERR_NOMEM, "cannot allocate the TLS reader", d->real);
        return false;
    }
    d->wire_tls = true;
    d->mode = c->dec != NULL && !tls_decrypt_stopped(c->dec) ? DM_START : DM_TLS;
    return true;
}

/* TLS records of d: to the reader, and to the decryptor while it runs. */
void xmpp_tls_wire_data(struct xdir *d, const uint8_t *p, size_t n)
{
    struct xmpp_conn *c = d->conn;

    tls_conn_data(c->tls, d->dir, p, n, c->meta);
    if (c->dec != NULL && !tls_decrypt_stopped(c->dec)) {
        tls_decrypt_set_tag(c->dec, c->meta, c->meta != NULL ? sizeof(*c->meta) : 0);
        tls_decrypt_data(c->dec, d->dir, p, n);
    }
    if (d->mode == DM_TLS || d->mode == DM_DONE)
        d->real += n;
}


/* A direction of a TLS connection ends (eof) or loses bytes (gap): records
 * held for a secret the key log still lacked get a last chance while the
 * direction can still parse them; when the whole connection is over, a
 * secret still missing stops decryption. */
void xmpp_tls_dir_ends(struct xdir *d, bool gap)
{
    struct xmpp_conn *c = d->conn;

    if (!d->wire_tls || c->dec == NULL)
        return;
    if (gap) {
        tls_decrypt_gap(c->dec, d->dir);
        return;
    }
    tls_decrypt_retry(c->dec, c->d[!d->dir].eof || c->d[!d->dir].gapped);
}

/* A direct TLS connection (XEP-0368): both directions are TLS from the
 * first byte. */
bool xmpp_tls_direct(struct xmpp_conn *c)
{
    int i;

    if (!reader_new(c))
        return false;
    for (i = 0; i < 2; i++) {
        c->d[i].wire_tls = true;
        c->d[i].mode = c->dec != NULL ? DM_START : DM_TLS;
    }
    return true;
}
