/*
 * xmpp.c - XMPP stream dissector (see xmpp.h for the contract): the
 * connection, its two directions and what each direction's bytes are.
 *
 * Three files do the work underneath, sharing xmpp_int.h:
 *   xmpp_xml.c     the expat layer: parsers, their memory budget, slicing,
 *                  halting and resynchronising (the only file that
 *                  includes expat.h);
 *   xmpp_stream.c  the stream/stanza state machine that turns elements
 *                  into XMPP facts (struct xmpp_event);
 *   xmpp_tls.c     the hand-off to TLS after <proceed/> or on a direct TLS
 *                  connection: the record reader, the decryptor, and the
 *                  decrypted bytes fed back here as the stream inside TLS.
 *   xml_scan.c     (used by xmpp_xml.c) the markup scanner that walks
 *                  element content nobody reads past expat.
 *
 * This file keeps the public entry points, the events every layer emits,
 * and the per-direction mode: before the first byte and after
 * <proceed/>/<starttls/> it "sniffs" the next non-blank byte: '<' means the
 * XML stream carries on (resynchronised with the current header), anything
 * else is the TLS handshake and goes to xmpp_tls.c.  Errors and caps halt
 * a direction for good; bytes after </stream:stream> are ignored.
 */
#include "xmpp_int.h"

#include <string.h>

#include "../analyzer/budget.h"

/* ---- configuration and names ------------------------------------------ */

void xmpp_config_default(struct xmpp_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_depth = 64;
    cfg->max_stanza = 1024 * 1024;
    cfg->max_token = 64 * 1024;
    cfg->include_body = false;
    cfg->max_body = 256;
    cfg->max_amplification = 100.0f;
    cfg->amplification_threshold = 8ull * 1024 * 1024;
    tls_config_default(&cfg->tls);
}

const char *xmpp_event_type_name(enum xmpp_event_type t)
{
    switch (t) {
    case XMPP_EV_STREAM_OPEN: return "stream_open";
    case XMPP_EV_FEATURES: return "features";
    case XMPP_EV_STARTTLS: return "starttls";
    case XMPP_EV_PROCEED: return "proceed";
    case XMPP_EV_TLS_FAILURE: return "tls_failure";
    case XMPP_EV_SASL_AUTH: return "sasl_auth";
    case XMPP_EV_SASL_SUCCESS: return "sasl_success";
    case XMPP_EV_SASL_FAILURE: return "sasl_failure";
    case XMPP_EV_DB_RESULT: return "db_result";
    case XMPP_EV_DB_VERIFY: return "db_verify";
    case XMPP_EV_STREAM_ERROR: return "stream_error";
    case XMPP_EV_STREAM_CLOSE: return "stream_close";
    case XMPP_EV_STANZA: return "stanza";
    case XMPP_EV_OTHER: return "other";
    case XMPP_EV_CLEARTEXT_AFTER_STARTTLS: return "cleartext_after_starttls";
    case XMPP_EV_TLS: return "tls";
    case XMPP_EV_DECRYPT_STOPPED: return "decrypt_stopped";
    case XMPP_EV_GAP: return "gap";
    case XMPP_EV_ERROR: return "error";
    case XMPP_EV_EOF: return "eof";
    }
    return "unknown";
}

const char *xmpp_error_name(enum xmpp_error e)
{
    switch (e) {
    case XMPP_ERR_NONE: return "none";
    case XMPP_ERR_XML: return "xml";
    case XMPP_ERR_DOCTYPE: return "doctype";
    case XMPP_ERR_DEPTH: return "depth";
    case XMPP_ERR_STANZA_SIZE: return "stanza_size";
    case XMPP_ERR_TOKEN_SIZE: return "token_size";
    case XMPP_ERR_NOT_STREAM: return "not_stream";
    case XMPP_ERR_TLS_IN_XML: return "tls_in_xml";
    case XMPP_ERR_NOMEM: return "nomem";
    }
    return "unknown";
}

const char *xmpp_presence_type_name(enum xmpp_presence_type p)
{
    switch (p) {
    case XMPP_PRES_AVAILABLE: return "available";
    case XMPP_PRES_UNAVAILABLE: return "unavailable";
    case XMPP_PRES_SUBSCRIBE: return "subscribe";
    case XMPP_PRES_SUBSCRIBED: return "subscribed";
    case XMPP_PRES_UNSUBSCRIBE: return "unsubscribe";
    case XMPP_PRES_UNSUBSCRIBED: return "unsubscribed";
    case XMPP_PRES_PROBE: return "probe";
    case XMPP_PRES_ERROR: return "error";
    case XMPP_PRES_OTHER: return "other";
    }
    return "other";
}

const char *xmpp_db_type_name(enum xmpp_db_type t)
{
    switch (t) {
    case XMPP_DB_NONE: return "none";
    case XMPP_DB_VALID: return "valid";
    case XMPP_DB_INVALID: return "invalid";
    case XMPP_DB_ERROR: return "error";
    case XMPP_DB_OTHER: return "other";
    }
    return "other";
}

/* ---- events ----------------------------------------------------------- */

void xmpp_ev_init(struct xdir *d, struct xmpp_event *ev, enum xmpp_event_type type)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    if (d->conn->meta != NULL)
        ev->meta = *d->conn->meta;
    ev->meta.dir = (uint8_t)d->dir;
    ev->dir = (uint8_t)d->dir;
    ev->decrypted = d->in_plain;
}

void xmpp_emit(struct xdir *d, struct xmpp_event *ev)
{
    struct xmpp_conn *c = d->conn;

    c->stats.events++;
    if (c->cb != NULL)
        c->cb(ev, c->user);
}

/* Real byte offset in this direction of parser position pos. */
static uint64_t real_offset(const struct xdir *d, uint64_t pos)
{
    if (pos < d->synth_len)
        return d->real_base;
    return d->real_base + (pos - d->synth_len);
}

/* Report an error at parser position pos and stop this direction. */
void xmpp_emit_error(struct xdir *d, enum xmpp_error code, const char *msg, uint64_t pos)
{
    struct xmpp_event ev;

    xmpp_ev_init(d, &ev, XMPP_EV_ERROR);
    ev.error = code;
    ev.error_msg = msg;
    ev.offset = real_offset(d, pos);
    if (code == XMPP_ERR_XML)
        xmpp_xml_where(d, &ev.line, &ev.column);
    switch (code) {
    case XMPP_ERR_DEPTH: d->conn->stats.depth_caps++; break;
    case XMPP_ERR_STANZA_SIZE:
    case XMPP_ERR_TOKEN_SIZE: d->conn->stats.size_caps++; break;
    default: d->conn->stats.xml_errors++; break;
    }
    d->mode = DM_DONE;
    xmpp_emit(d, &ev);
}

/* The direction stopped parsing XML for good (error, cap, gap, eof, TLS):
 * free its parser and string buffers.  Never from inside a handler. */
static void dir_release(struct xdir *d)
{
    xmpp_xml_free(d);
    xmpp_stream_release(d);
}

/* ---- feeding ----------------------------------------------------------- */

static bool is_blank(uint8_t b)
{
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
}

/* A byte XML text never holds (XML 1.0 Char; bytes UTF-8 never uses). */
static bool not_xml_text(uint8_t b)
{
    return (b < 0x20 && !is_blank(b)) || b == 0x7f || b == 0xc0 || b == 0xc1 || b >= 0xf5;
}

/* The element starts a capture picked up inside a tag resynchronises at;
 * '\1' stands for the byte ending a name (blank, '/' or '>'). */
static const char *const skip_starts[] = {
    "<message\1", "<presence\1", "<iq\1", "<db:", "<stream:", "</stream:stream>",
};

/* 2: tok[0..n) is one of skip_starts; 1: the beginning of one; 0: neither. */
static int skip_match(const uint8_t *tok, size_t n)
{
    int found = 0;

    for (size_t k = 0; k < sizeof(skip_starts) / sizeof(skip_starts[0]); k++) {
        const char *s = skip_starts[k];
        size_t m = strlen(s), i;

        if (n > m)
            continue;
        for (i = 0; i < n; i++)
            if (s[i] == '\1' ? !(is_blank(tok[i]) || tok[i] == '/' || tok[i] == '>') : tok[i] != (uint8_t)s[i])
                break;
        if (i < n)
            continue;
        if (n == m)
            return 2;
        found = 1;
    }
    return found;
}

/* DM_SKIP: the capture began inside a tag (the first bytes are text, not
 * '<'), or at a '<' no stanza starts at (an end tag, a child element:
 * the parser hands those back, xmpp_xml_skip_halt).  Skip, bounded and
 * counted, to the next element start a stream
 * picked up mid-stream resumes at (skip_starts), and give the parser the
 * bytes from its '<' on: the mid-stream path does the rest.  A byte XML
 * text cannot hold ends the direction quietly: it is not an XML stream. */
static size_t skip_step(struct xdir *d, const uint8_t *p, size_t n)
{
    size_t carried = d->skip_have, start = 0, i;

    for (i = 0; i < n; i++) {
        uint8_t b = p[i];
        int m;

        if (not_xml_text(b)) {
            d->conn->stats.midtag_skipped += d->skip_have;
            d->skip_have = 0;
            d->real += i;
            d->mode = DM_DONE;
            return i;
        }
        if (d->skip_have == 0 && b != '<') {
            d->skip_len++;
            d->conn->stats.midtag_skipped++;
        } else {
            if (d->skip_have == 0) {
                carried = 0;
                start = i;
            }
            d->skip_tok[d->skip_have++] = b;
            m = skip_match(d->skip_tok, d->skip_have);
            if (m == 2)
                break;
            if (m == 0) {
                /* not an element start: its bytes are skipped, a '<' may begin the next */
                size_t drop = d->skip_have - (b == '<' ? 1u : 0u);

                d->skip_len += (uint32_t)drop;
                d->conn->stats.midtag_skipped += drop;
                d->skip_have = 0;
                if (b == '<') {
                    d->skip_tok[d->skip_have++] = b;
                    carried = 0;
                    start = i;
                }
            }
        }
        if (d->skip_len > SKIP_MAX) {
            d->real += i + 1;
            d->mode = DM_DONE;
            xmpp_emit_error(d, XMPP_ERR_NOT_STREAM, "no element start within 64 KiB of a capture begun inside a tag",
                            d->real);
            return i + 1;
        }
    }
    if (i == n) { /* all skipped, or an element start still being matched */
        d->real += n - (d->skip_have - carried < n ? d->skip_have - carried : n);
        return n;
    }
    /* an element start: parse from its '<' on */
    {
        uint8_t early[SKIP_TOKEN_MAX];
        size_t from = carried > 0 ? 0 : start;

        memcpy(early, d->skip_tok, carried);
        d->skip_have = 0;
        d->real += from;
        if (!xmpp_xml_start(d)) {
            xmpp_emit_error(d, XMPP_ERR_NOMEM, "cannot create the XML parser", 0);
            d->mode = DM_DONE;
            return n;
        }
        d->mode = DM_XML;
        d->skip_matched = true;
        if (carried > 0) /* its first bytes came with an earlier chunk: a prefix, no token ends in it */
            xmpp_xml_step(d, early, carried);
        return from;
    }
}

/* DM_START / DM_SNIFF: decide between XML and TLS at the first non-blank byte. */
static size_t sniff_step(struct xdir *d, const uint8_t *p, size_t n)
{
    size_t i = 0;
    struct xmpp_event ev;

    while (i < n && is_blank(p[i]))
        i++;
    if (i == n) {
        d->real += n;
        return n;
    }
    if (d->mode == DM_START) {
        if (p[i] >= 0x14 && p[i] <= 0x17) {
            d->real += i;
            d->mode = DM_DONE;
            xmpp_emit_error(d, XMPP_ERR_TLS_IN_XML, "TLS record where an XML stream was expected",
                       d->real);
            if (!d->wire_tls)
                xmpp_tls_start(d);
            return i;
        }
        if (p[i] != '<' && !not_xml_text(p[i])) {
            /* text where a stream starts: the capture began inside a tag */
            d->real += i;
            d->mode = DM_SKIP;
            return i;
        }
        /* let expat see every byte, leading blanks included */
        if (!xmpp_xml_start(d)) {
            xmpp_emit_error(d, XMPP_ERR_NOMEM, "cannot create the XML parser", 0);
            return 0;
        }
        d->mode = DM_XML;
        return 0;
    }
    d->real += i;
    if (p[i] == '<') {
        if (d->conn->proceed_seen) {
            xmpp_ev_init(d, &ev, XMPP_EV_CLEARTEXT_AFTER_STARTTLS);
            xmpp_emit(d, &ev);
        }
        if (xmpp_xml_resync(d))
            d->mode = DM_XML;
        return i;
    }
    if (d->wire_tls || !xmpp_tls_start(d))
        d->mode = DM_DONE; /* TLS inside TLS: not followed */
    return i;
}

/* The XML layer of a direction: the wire bytes, or inside TLS the
 * decrypted ones; stops early when the wire turns to TLS (the rest of p is
 * then returned as not used). */
size_t xmpp_dir_layer(struct xdir *d, const uint8_t *p, size_t n)
{
    struct xmpp_conn *c = d->conn;
    size_t done = 0;
    bool wire = !d->wire_tls;

    while (done < n && !(wire && d->wire_tls)) {
        size_t used;

        switch (d->mode) {
        case DM_START:
        case DM_SNIFF:
            used = sniff_step(d, p + done, n - done);
            break;
        case DM_XML:
            used = xmpp_xml_step(d, p + done, n - done);
            break;
        case DM_DECL:
            used = xmpp_xml_decl_step(d, p + done, n - done);
            break;
        case DM_SKIP:
            used = skip_step(d, p + done, n - done);
            break;
        default: /* DM_TLS without plaintext (only inside TLS), DM_DONE */
            c->stats.ignored_bytes += n - done;
            d->real += n - done;
            used = n - done;
            break;
        }
        done += used;
    }
    return done;
}

void xmpp_dir_process(struct xdir *d, const uint8_t *p, size_t n)
{
    size_t used = d->wire_tls ? 0 : xmpp_dir_layer(d, p, n);

    if (used < n && d->wire_tls)
        xmpp_tls_wire_data(d, p + used, n - used);
    if ((d->mode == DM_DONE || d->mode == DM_TLS) && (d->parser != NULL || d->n_decls > 0))
        dir_release(d);
}

struct xmpp_conn *xmpp_conn_new(const struct xmpp_config *cfg, bool direct_tls,
                                xmpp_event_cb cb, void *user)
{
    struct xmpp_conn *c = budget_calloc(cfg != NULL ? cfg->budget : NULL, sizeof(*c));
    int i, k;

    if (c == NULL)
        return NULL;
    if (cfg != NULL)
        c->cfg = *cfg;
    else
        xmpp_config_default(&c->cfg);
    budget_init(&c->mem, 0, c->cfg.budget);
    budget_init(&c->d[0].mem, 0, &c->mem);
    budget_init(&c->d[1].mem, 0, &c->mem);
    c->cfg.tls.budget = &c->mem;
    if (c->cfg.max_depth < 2)
        c->cfg.max_depth = 2;
    if (c->cfg.max_stanza == 0)
        c->cfg.max_stanza = 1024 * 1024;
    if (c->cfg.max_token == 0)
        c->cfg.max_token = 64 * 1024;
    if (c->cfg.max_body > XMPP_TEXT_MAX)
        c->cfg.max_body = XMPP_TEXT_MAX;
    if (c->cfg.max_amplification < 1.0f)
        c->cfg.max_amplification = 1.0f;
    c->cb = cb;
    c->user = user;
    for (i = 0; i < 2; i++) {
        struct xdir *d = &c->d[i];

        d->conn = c;
        d->dir = i;
        d->mode = DM_START;
        for (k = 0; k < S_ATTR_COUNT; k++)
            d->str[k].cap = XMPP_ATTR_MAX;
        for (k = 0; k < T_COUNT; k++)
            d->txt[k].cap = XMPP_TEXT_MAX;
    }
    if (direct_tls && !xmpp_tls_direct(c))
        goto out_free_conn;
    return c;

out_free_conn:
    budget_free(c);
    return NULL;
}

void xmpp_conn_data(struct xmpp_conn *c, int dir, const uint8_t *data, size_t len,
                    const struct ft_meta *m)
{
    struct xdir *d;
    struct mem_budget *prev;

    if (c == NULL || (dir != 0 && dir != 1) || (data == NULL && len > 0))
        return;
    d = &c->d[dir];
    c->stats.bytes[dir] += len;
    if (d->eof || d->gapped) {
        c->stats.ignored_bytes += len;
        return;
    }
    c->meta = m;
    prev = xmpp_xml_scope_enter(d);
    xmpp_dir_process(d, data, len);
    xmpp_xml_lend_back(d);
    xmpp_xml_scope_leave(prev);
    c->meta = NULL;
}

void xmpp_conn_gap(struct xmpp_conn *c, int dir, uint64_t nbytes, const struct ft_meta *m)
{
    struct xdir *d;
    struct xmpp_event ev;
    struct mem_budget *prev;

    if (c == NULL || (dir != 0 && dir != 1))
        return;
    d = &c->d[dir];
    if (d->gapped || d->eof)
        return;
    c->meta = m;
    prev = xmpp_xml_scope_enter(d);
    xmpp_tls_dir_ends(d, true); /* decryption stops (held records first) */
    xmpp_xml_scope_leave(prev);
    d->gapped = true;
    xmpp_ev_init(d, &ev, XMPP_EV_GAP);
    ev.nbytes = nbytes;
    ev.in_tls = d->wire_tls;
    d->mode = DM_DONE;
    xmpp_emit(d, &ev);
    prev = xmpp_xml_scope_enter(d);
    dir_release(d);
    xmpp_xml_scope_leave(prev);
    c->meta = NULL;
}

void xmpp_conn_eof(struct xmpp_conn *c, int dir, const struct ft_meta *m)
{
    struct xdir *d;
    struct xmpp_event ev;
    struct mem_budget *prev;

    if (c == NULL || (dir != 0 && dir != 1))
        return;
    d = &c->d[dir];
    if (d->eof)
        return;
    c->meta = m;
    prev = xmpp_xml_scope_enter(d);
    xmpp_tls_dir_ends(d, false); /* records held for a late secret: last chance */
    xmpp_xml_scope_leave(prev);
    d->eof = true;
    xmpp_ev_init(d, &ev, XMPP_EV_EOF);
    ev.stream_closed = d->closed;
    ev.in_tls = d->wire_tls;
    if (d->wire_tls)
        tls_conn_eof(c->tls, dir, m);
    d->mode = DM_DONE;
    xmpp_emit(d, &ev);
    prev = xmpp_xml_scope_enter(d);
    dir_release(d);
    xmpp_xml_scope_leave(prev);
    c->meta = NULL;
}

const struct xmpp_stats *xmpp_conn_stats(const struct xmpp_conn *c)
{
    return c != NULL ? &c->stats : NULL;
}

void xmpp_conn_idle(struct xmpp_conn *c)
{
    struct mem_budget *prev;

    if (c == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        if (!xmpp_xml_at_rest(&c->d[i]))
            continue;
        prev = xmpp_xml_scope_enter(&c->d[i]);
        xmpp_xml_park(&c->d[i]);
        xmpp_xml_scope_leave(prev);
    }
}

void xmpp_conn_free(struct xmpp_conn *c)
{
    struct mem_budget *prev;
    int i;

    if (c == NULL)
        return;
    for (i = 0; i < 2; i++) {
        prev = xmpp_xml_scope_enter(&c->d[i]);
        dir_release(&c->d[i]);
        xmpp_xml_scope_leave(prev);
    }
    tls_conn_free(c->tls);
    tls_decrypt_free(c->dec);
    budget_free(c);
}

size_t xmpp_conn_state_bytes(const struct xmpp_conn *c)
{
    return c != NULL ? c->mem.used : 0;
}

bool xmpp_stanza_is_notable(const struct xmpp_event *ev)
{
    if (ev->type != XMPP_EV_STANZA)
        return false;
    if (ev->type_str && strcmp(ev->type_str, "error") == 0)
        return true;
    if (ev->stanza != XMPP_STANZA_PRESENCE)
        return false;
    switch (ev->presence) {
    case XMPP_PRES_SUBSCRIBE:
    case XMPP_PRES_SUBSCRIBED:
    case XMPP_PRES_UNSUBSCRIBE:
    case XMPP_PRES_UNSUBSCRIBED:
    case XMPP_PRES_ERROR:
        return true;
    default:
        return false;
    }
}
