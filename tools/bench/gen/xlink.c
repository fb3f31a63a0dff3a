/*
 * xlink.c - one XMPP link on the wire: the small draws (RTT, think time,
 * stream ids, dialback keys), sending stanzas as text or as TLS 1.3
 * application records (length = plaintext + 17), the XML of stream
 * headers, features and dialback elements, message bodies, and opening a
 * server-to-server link up to dialback (lookup, TCP, headers, STARTTLS
 * and the TLS handshake, or the failure a scenario asks for).
 */
#include "content.h"
#include "xlink.h"

#include <string.h>

uint32_t pick_rtt(struct gen *g)
{
    double ms = rng_lognormal(&g->rng, 35.0, 0.8);
    if (ms < 0.3)
        ms = 0.3;
    if (ms > 400)
        ms = 400;
    return (uint32_t)(ms * 1000);
}

uint64_t think(struct gen *g)
{
    return 80 + rng_below(&g->rng, 1500);
}

void gen_id(struct gen *g, char *out, size_t cap, uint8_t kind)
{
    uint64_t a = rng_next(&g->rng), b = rng_next(&g->rng);
    if (kind == SRV_EJABBERD)
        snprintf(out, cap, "%llu", (unsigned long long)(a % 100000000000000000ull));
    else
        snprintf(out, cap, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
                 (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
                 (unsigned long long)(b & 0xffffffffffffull));
}

void gen_key(struct gen *g, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 64; i += 16) {
        uint64_t v = rng_next(&g->rng);
        for (int k = 0; k < 16; k++)
            out[i + k] = hex[(v >> (4 * k)) & 15];
    }
    out[64] = '\0';
}

void stanza_id(struct gen *g, char *out)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t v = rng_next(&g->rng);
    for (int i = 0; i < 12; i++) {
        out[i] = al[v % 36];
        v /= 36;
    }
    out[12] = '\0';
}

void open_count(struct gen *g, int d)
{
    if (d > 0) {
        g->st.open_xmpp++;
        if (g->st.open_xmpp > g->st.peak_open_xmpp)
            g->st.peak_open_xmpp = g->st.open_xmpp;
    } else if (g->st.open_xmpp) {
        g->st.open_xmpp--;
    }
}

/* Sends text on an XMPP connection (as TLS records once TLS is up); marks
 * the frames with bits on mark, plus M_ALIVE on the connection's truth
 * record.  Returns when the peer can answer. */
uint64_t xsend_m(struct gen *g, struct xconn *x, struct dtruth *dt, int dir, uint64_t t, const char *s,
                        size_t n, uint32_t *mark, uint32_t bits)
{
    if (!x->live || x->tcp.closed)
        return t;
    x->tcp.mark = NULL;
    x->tcp.mark_bits = 0;
    if (mark) {
        x->tcp.mark = mark;
        x->tcp.mark_bits = bits;
    }
    /* Alive: any stanza of a cleartext direction; an encrypted one only
     * by records more than 5 s after its connection opened (all a capture
     * without keys can tell). */
    if (dt && (!dt->encrypted || (x->tls && t >= x->tcp.opened_us + 6 * US_PER_S))) {
        if (x->tcp.mark && x->tcp.mark != &dt->marks) {
            /* two different records: the explicit mark wins */
        } else {
            x->tcp.mark = &dt->marks;
            x->tcp.mark_bits |= M_ALIVE;
        }
    }
    uint64_t r;
    if (x->tls) {
        uint8_t *buf = world_wbuf(g, n + 22 * (n / 16384 + 2));
        size_t len = tls_app_records(&g->rng, buf, n);
        r = tcp_send(g, &x->tcp, dir, t, buf, len, XB(g));
    } else {
        r = tcp_send(g, &x->tcp, dir, t, (const uint8_t *)s, n, XB(g));
    }
    x->tcp.mark = NULL;
    x->tcp.mark_bits = 0;
    return r + think(g);
}

uint64_t xsend(struct gen *g, struct xconn *x, struct dtruth *dt, int dir, uint64_t t, const struct sbuf *b)
{
    return xsend_m(g, x, dt, dir, t, b->p, b->len, NULL, 0);
}

uint64_t xsend_sm(struct gen *g, struct xconn *x, struct dtruth *dt, int dir, uint64_t t, const struct sbuf *b,
                         uint32_t *mark, uint32_t bits)
{
    return xsend_m(g, x, dt, dir, t, b->p, b->len, mark, bits);
}

void xclose_state(struct gen *g, struct xconn *x)
{
    if (x->live) {
        x->live = false;
        open_count(g, -1);
    }
}

/* ---- XML text ---------------------------------------------------------------- */
void hdr_init(struct sbuf *b, uint8_t kind, const char *from, const char *to)
{
    sb_reset(b);
    if (kind == SRV_EJABBERD)
        sb_printf(b,
                  "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/"
                  "streams' xmlns:db='jabber:server:dialback' from='%s' to='%s' version='1.0'>",
                  from, to);
    else
        sb_printf(b,
                  "<?xml version='1.0'?><stream:stream version='1.0' xmlns:db='jabber:server:dialback' to='%s' "
                  "xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' id='' from='%s' "
                  "xml:lang='en'>",
                  to, from);
}

void hdr_resp(struct sbuf *b, uint8_t kind, const char *from, const char *to, const char *id, enum feat feat)
{
    sb_reset(b);
    sb_printf(b,
              "<?xml version='1.0'?><stream:stream xmlns='jabber:server' id='%s' to='%s' xml:lang='en' "
              "version='1.0' xmlns:stream='http://etherx.jabber.org/streams' from='%s' "
              "xmlns:db='jabber:server:dialback'>",
              id, to, from);
    if (feat == FEAT_DIALBACK)
        sb_printf(b, "<stream:features><dialback xmlns='urn:xmpp:features:dialback'>%s</dialback></stream:features>",
                  kind == SRV_EJABBERD ? "<errors/>" : "");
    else if (feat == FEAT_STARTTLS)
        sb_printf(b, "<stream:features><starttls xmlns='" NS_TLS "'><required/></starttls></stream:features>");
}

void db_elem(struct sbuf *b, const char *el, const char *from, const char *to, const char *id,
                    const char *type, const char *key)
{
    sb_reset(b);
    sb_printf(b, "<db:%s from='%s' to='%s'", el, from, to);
    if (id)
        sb_printf(b, " id='%s'", id);
    if (type)
        sb_printf(b, " type='%s'", type);
    sb_printf(b, ">%s</db:%s>", key, el);
}

/* Message bodies: plain words, XML entities and multibyte UTF-8, in
 * sizes from a word to a long paste. */
static const char *const words[] = {
    "hello",  "ok",      "meeting", "tomorrow", "the",  "build", "is",      "green", "&amp;", "&lt;3",
    "&quot;", "caf\xc3\xa9", "na\xc3\xafve", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xf0\x9f\x98\x80",
    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", "&#x1F44D;", "stra\xc3\x9f\x65", "deploy", "lunch",
    "\xce\xb1\xce\xb2\xce\xb3", "&apos;quoted&apos;", "link:", "https://example.org/a?b=1&amp;c=2", "thanks"};

void body_text(struct gen *g, struct sbuf *b, size_t target)
{
    size_t start = b->len;
    while (b->len - start < target) {
        const char *w = words[rng_below(&g->rng, sizeof words / sizeof words[0])];
        sb_append(b, w, strlen(w));
        sb_append(b, " ", 1);
    }
}

size_t body_size(struct gen *g)
{
    double s = rng_lognormal(&g->rng, 60, 1.3);
    if (s > 12000)
        s = 12000;
    return (size_t)s + 1;
}

void jid(char *out, size_t cap, const char *user, const struct domain *d)
{
    snprintf(out, cap, "%s@%s", user, d->name);
}

/* ---- one s2s link ---------------------------------------------------------------- */

static const uint64_t syn_retries[] = {1 * US_PER_S, 3 * US_PER_S, 7 * US_PER_S, 15 * US_PER_S};

/* Opens link x from domain `from` to `to` up to the point where dialback
 * can start.  Returns the time, or 0 when the link failed on the way. */
uint64_t leg_open(struct gen *g, struct xconn *x, uint32_t from, uint32_t to, uint64_t t, const struct leg *L,
                         char *sid, size_t sidcap)
{
    struct domain *df = D(g, from), *dt = D(g, to);
    struct host *dst = L->dst ? L->dst : dt->server;
    struct sbuf *b = &g->w->sb;
    t = resolve(g, df->server, df->kind, to, dst, t, L->dns, L->cacheable, L->fail_mark, M_FAIL);
    if (L->dns != DNS_ANS && L->dns != DNS_TC_TCP)
        return 0;
    /* IPv6 only where the lookup asked for AAAA (Prosody does, ejabberd not) */
    uint32_t rtt = pick_rtt(g);
    bool v6 = df->kind == SRV_PROSODY && rng_chance(&g->rng, 0.6);
    tcp_init(g, &x->tcp, df->server, dst, 5269, v6, rtt);
    x->tls = false;
    x->c2s = false;
    g->st.conns_s2s++;
    t = tcp_open(g, &x->tcp, t, L->syn, syn_retries, 4, XB(g), L->fail_mark, M_FAIL);
    if (L->syn != SYN_OK)
        return 0;
    x->live = true;
    open_count(g, 1);
    hdr_init(b, df->kind, df->name, dt->name);
    t = xsend(g, x, L->dt, 0, t, b);
    gen_id(g, sid, sidcap, dt->kind);
    if (L->host_unknown) {
        hdr_resp(b, dt->kind, dt->name, df->name, sid, FEAT_NONE);
        sb_printf(b, "<stream:error><host-unknown xmlns='" NS_STREAMS "'/></stream:error></stream:stream>");
        t = xsend_sm(g, x, L->dt, 1, t, b, L->fail_mark, M_FAIL);
        sb_reset(b);
        sb_printf(b, "</stream:stream>");
        t = xsend(g, x, L->dt, 0, t, b);
        tcp_fin(g, &x->tcp, 1, t, XB(g));
        xclose_state(g, x);
        return 0;
    }
    hdr_resp(b, dt->kind, dt->name, df->name, sid, L->tls != TLSM_NONE ? FEAT_STARTTLS : FEAT_DIALBACK);
    t = xsend(g, x, L->dt, 1, t, b);
    if (L->tls == TLSM_NONE)
        return t;
    sb_reset(b);
    sb_printf(b, "<starttls xmlns='" NS_TLS "'/>");
    t = xsend(g, x, L->dt, 0, t, b);
    sb_reset(b);
    sb_printf(b, "<proceed xmlns='" NS_TLS "'/>");
    t = xsend(g, x, L->dt, 1, t, b);
    g->st.tls_sessions++;
    uint8_t *buf = world_wbuf(g, 8192);
    /* ejabberd sends SNI on STARTTLS; Prosody does not */
    size_t n = tls_client_hello(&g->rng, buf, df->kind == SRV_EJABBERD ? dt->name : NULL, "xmpp-server");
    t = tcp_send(g, &x->tcp, 0, t, buf, n, XB(g));
    n = tls_server_flight(&g->rng, buf, 1800 + rng_below(&g->rng, 2600));
    t = tcp_send(g, &x->tcp, 1, t + 400, buf, n, XB(g));
    if (L->tls == TLSM_ALERT) { /* bad_certificate (42), in the clear */
        n = tls_alert(buf, 42);
        x->tcp.mark = L->fail_mark;
        x->tcp.mark_bits = M_FAIL;
        t = tcp_send(g, &x->tcp, 0, t + 300, buf, n, XB(g));
        x->tcp.mark = NULL;
        tcp_fin(g, &x->tcp, 0, t + 100, XB(g));
        xclose_state(g, x);
        return 0;
    }
    n = tls_client_finish(&g->rng, buf);
    t = tcp_send(g, &x->tcp, 0, t + 200, buf, n, XB(g));
    x->tls = true;
    /* two session tickets */
    n = tls_app_records(&g->rng, buf, 57);
    n += tls_app_records(&g->rng, buf + n, 57);
    tcp_send(g, &x->tcp, 1, t, buf, n, XB(g));
    hdr_init(b, df->kind, df->name, dt->name);
    t = xsend(g, x, L->dt, 0, t, b);
    if (L->tls == TLSM_REJECT) {
        /* the server's one record (header + stream error + close), then
         * close_notify and FIN; the client's close_notify meets an RST */
        char sid2[48];
        gen_id(g, sid2, sizeof sid2, dt->kind);
        hdr_resp(b, dt->kind, dt->name, df->name, sid2, FEAT_NONE);
        sb_printf(b,
                  "<stream:error><not-authorized xmlns='" NS_STREAMS "'/><text xmlns='" NS_STREAMS
                  "'>Your server's certificate is invalid, expired, or not trusted by %s</text></stream:error>"
                  "</stream:stream>",
                  dt->name);
        t = xsend(g, x, L->dt, 1, t, b);
        n = tls_app_records(&g->rng, buf, 2);
        t = tcp_send(g, &x->tcp, 1, t, buf, n, XB(g));
        wire_tcp(g, t, &x->tcp, 1, x->tcp.seq[1], x->tcp.seq[0], TH_FIN | TH_ACK, NULL, 0, NULL, 0, L->fail_mark,
                 M_FAIL, XB(g));
        x->tcp.seq[1]++;
        n = tls_app_records(&g->rng, buf, 2);
        t = tcp_send(g, &x->tcp, 0, t + 400, buf, n, XB(g));
        tcp_rst(g, &x->tcp, 1, t + 20, XB(g));
        xclose_state(g, x);
        return 0;
    }
    hdr_resp(b, dt->kind, dt->name, df->name, sid, FEAT_DIALBACK);
    t = xsend(g, x, L->dt, 1, t, b);
    return t;
}

void leg_close(struct gen *g, struct xconn *x, struct dtruth *dt, uint64_t t)
{
    if (!x->live)
        return;
    struct sbuf *b = &g->w->sb;
    sb_reset(b);
    sb_printf(b, "</stream:stream>");
    t = xsend(g, x, dt, 0, t, b);
    t = xsend(g, x, dt, 1, t, b);
    if (!x->tls && rng_chance(&g->rng, 0.1))
        tcp_rst(g, &x->tcp, 0, t, XB(g));
    else
        tcp_fin(g, &x->tcp, rng_below(&g->rng, 2), t, XB(g));
    xclose_state(g, x);
}
