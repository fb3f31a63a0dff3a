/*
 * c2s.c - a user's client session on 5222: stream, STARTTLS (then TLS 1.3
 * records) or cleartext, SASL PLAIN, bind, the roster (tens of KB for a
 * well-connected user) and initial presence; closed with unavailable and
 * </stream:stream>, sometimes by RST.
 */
#include "content.h"
#include "xlink.h"

#include <string.h>


void c2s_login(struct gen *g, struct xconn *x, uint32_t di, const char *user, const char *res,
                      uint64_t t)
{
    struct domain *d = D(g, di);
    struct sbuf *b = &g->w->sb;
    uint32_t rtt = pick_rtt(g) * 2;
    bool v6 = rng_chance(&g->rng, 0.6);
    tcp_init(g, &x->tcp, world_client(g), d->server, 5222, v6, rtt);
    t = tcp_open(g, &x->tcp, t, SYN_OK, NULL, 0, XB(g), NULL, 0);
    x->live = true;
    x->c2s = true;
    x->tls = false;
    open_count(g, 1);
    g->st.conns_c2s++;
    bool encrypted = rng_chance(&g->rng, 0.5);
    char id[48];
    gen_id(g, id, sizeof id, d->kind);
    sb_reset(b);
    sb_printf(b,
              "<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' xml:lang='en'>",
              d->name);
    t = xsend(g, x, NULL, 0, t, b);
    sb_reset(b);
    sb_printf(b,
              "<?xml version='1.0'?><stream:stream from='%s' id='%s' version='1.0' xml:lang='en' "
              "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><stream:features>"
              "<starttls xmlns='" NS_TLS "'%s</starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
              "<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
              d->name, id, encrypted ? "><required/>" : ">");
    t = xsend(g, x, NULL, 1, t, b);
    if (encrypted) {
        sb_reset(b);
        sb_printf(b, "<starttls xmlns='" NS_TLS "'/>");
        t = xsend(g, x, NULL, 0, t, b);
        sb_reset(b);
        sb_printf(b, "<proceed xmlns='" NS_TLS "'/>");
        t = xsend(g, x, NULL, 1, t, b);
        uint8_t *buf = world_wbuf(g, 8192);
        size_t n = tls_client_hello(&g->rng, buf, d->name, "xmpp-client");
        t = tcp_send(g, &x->tcp, 0, t, buf, n, XB(g));
        n = tls_server_flight(&g->rng, buf, 2400 + rng_below(&g->rng, 1600));
        t = tcp_send(g, &x->tcp, 1, t + 300, buf, n, XB(g));
        n = tls_client_finish(&g->rng, buf);
        t = tcp_send(g, &x->tcp, 0, t + 200, buf, n, XB(g));
        x->tls = true;
        g->st.tls_sessions++;
    }
    sb_reset(b);
    sb_printf(b, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHMzY3IzdA==</auth>");
    t = xsend(g, x, NULL, 0, t, b);
    sb_reset(b);
    sb_printf(b, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    t = xsend(g, x, NULL, 1, t, b);
    sb_reset(b);
    sb_printf(b,
              "<iq type='set' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>%s</resource>"
              "</bind></iq>",
              res);
    t = xsend(g, x, NULL, 0, t, b);
    sb_reset(b);
    sb_printf(b,
              "<iq type='result' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>%s@%s/%s</jid>"
              "</bind></iq>",
              user, d->name, res);
    t = xsend(g, x, NULL, 1, t, b);
    sb_reset(b);
    sb_printf(b, "<iq type='get' id='roster_1'><query xmlns='jabber:iq:roster'/></iq>");
    t = xsend(g, x, NULL, 0, t, b);
    /* The roster: tens of KB for a well-connected user. */
    sb_reset(b);
    sb_printf(b, "<iq type='result' id='roster_1' to='%s@%s/%s'><query xmlns='jabber:iq:roster' ver='%u'>", user,
              d->name, res, (unsigned)rng_below(&g->rng, 1000));
    unsigned items = (unsigned)rng_lognormal(&g->rng, 40, 1.2);
    if (items > 600)
        items = 600;
    for (unsigned i = 0; i < items; i++) {
        const struct domain *o = D(g, world_pick_domain(g));
        sb_printf(b, "<item jid='user%u@%s' subscription='both' name='%s %u'><group>%s</group></item>",
                  (unsigned)rng_below(&g->rng, 5000), o->name, i % 3 ? "Zo\xc3\xab" : "J\xc3\xbcrgen &amp; co", i,
                  i % 2 ? "Friends" : "\xe5\x90\x8c\xe4\xba\x8b");
    }
    sb_printf(b, "</query></iq>");
    t = xsend(g, x, NULL, 1, t, b);
    sb_reset(b);
    sb_printf(b, "<presence><priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                 "node='https://conversations.im' ver='JFHNHSXa0KJwcUf3Yq1nKGbDvFo='/></presence>");
    xsend(g, x, NULL, 0, t, b);
}

void c2s_close(struct gen *g, struct xconn *x, uint64_t t)
{
    if (!x->live)
        return;
    struct sbuf *b = &g->w->sb;
    sb_reset(b);
    sb_printf(b, "<presence type='unavailable'/></stream:stream>");
    t = xsend(g, x, NULL, 0, t, b);
    sb_reset(b);
    sb_printf(b, "</stream:stream>");
    t = xsend(g, x, NULL, 1, t, b);
    if (rng_chance(&g->rng, 0.2))
        tcp_rst(g, &x->tcp, 0, t, XB(g));
    else
        tcp_fin(g, &x->tcp, 0, t, XB(g));
    xclose_state(g, x);
}
