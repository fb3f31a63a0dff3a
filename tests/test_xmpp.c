/*
 * test_xmpp.c - unit tests for dissectors/xmpp.c.
 *
 * Server-to-server conversations shaped like the RFC 6120 / XEP-0220 /
 * XEP-0178 example flows (written for this project) are fed through an
 * xmpp_conn whole, split at every byte boundary, in chunk sizes 1..8 and in
 * random chunkings.  Each run renders the event sequence into one compact
 * string; it must equal the expected string every time.  Hostile inputs
 * (DOCTYPE, depth, size caps, XML errors, gaps) check that one direction
 * stops while the other carries on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/xmpp.h"
#include "check.h"
#include "tls_build.h"

struct seg {
    int dir;
    int op;              /* 0 data, 1 gap, 2 eof */
    const char *p;
    size_t n;            /* 0: strlen(p) */
};

/* The renderers below take the format as a parameter (test code only). */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

struct out {
    char s[16384];
    size_t n;
    char where[1024]; /* line:column of every error event, apart from s */
    size_t wn;
};

static void add(struct out *o, const char *fmt, const char *a)
{
    int k = snprintf(o->s + o->n, sizeof(o->s) - o->n, fmt, a != NULL ? a : "-");

    if (k > 0 && (size_t)k < sizeof(o->s) - o->n)
        o->n += (size_t)k;
}

static void addu(struct out *o, const char *fmt, unsigned long v)
{
    int k = snprintf(o->s + o->n, sizeof(o->s) - o->n, fmt, v);

    if (k > 0 && (size_t)k < sizeof(o->s) - o->n)
        o->n += (size_t)k;
}

static void render_tls(struct out *o, const struct tls_event *t)
{
    char vb[8];
    unsigned i;

    add(o, "tls:%s", tls_event_type_name(t->type));
    switch (t->type) {
    case TLS_EV_CLIENT_HELLO:
        add(o, "(sni=%s,alpn=", t->sni);
        for (i = 0; i < t->n_alpn; i++)
            add(o, i ? "/%s" : "%s", t->alpn[i]);
        add(o, "%s", ")");
        break;
    case TLS_EV_SERVER_HELLO: add(o, "(%s)", tls_version_name(t->version, vb, sizeof(vb))); break;
    case TLS_EV_CERTIFICATE: addu(o, "(n=%lu", t->n_certs); add(o, ",cn=%s)", t->cert_cn); break;
    case TLS_EV_ALERT: add(o, "(%s)", t->alert_desc_name); break;
    case TLS_EV_ERROR: add(o, "(%s)", t->error); break;
    default: break;
    }
}

static void on_event(const struct xmpp_event *ev, void *user)
{
    struct out *o = user;

    if (ev->type == XMPP_EV_TLS && ev->tls && ev->tls->type == TLS_EV_RECORD)
        return; /* record sizes are tests/test_tls.c's */
    if (o->n > 0)
        add(o, "%s", " ");
    add(o, "%s:", ev->dir == 0 ? "O" : "R");
    switch (ev->type) {
    case XMPP_EV_STREAM_OPEN:
        add(o, "open(to=%s", ev->to);
        add(o, ",from=%s", ev->from);
        add(o, ",id=%s", ev->id);
        add(o, ",v=%s", ev->version);
        if (ev->lang != NULL)
            add(o, ",lang=%s", ev->lang);
        add(o, ",ns=%s", ev->content_ns);
        add(o, "%s", ev->db_ns ? ",db" : "");
        add(o, "%s", ev->stream_ns_ok ? "" : ",badns");
        add(o, "%s)", ev->restart ? ",restart" : "");
        break;
    case XMPP_EV_FEATURES:
        add(o, "features(%s", ev->starttls ? (ev->starttls_required ? "starttls-req," : "starttls,") : "");
        if (ev->mechanisms != NULL) {
            add(o, "mechs=%s", ev->mechanisms);
            addu(o, "/%lu,", ev->n_mechanisms);
        }
        add(o, "%s", ev->sasl_external ? "ext," : "");
        add(o, "%s", ev->dialback ? (ev->dialback_errors ? "db-errors," : "db,") : "");
        add(o, "%s", ev->bidi ? "bidi," : "");
        add(o, "%s", ev->sm ? "sm," : "");
        addu(o, "other=%lu)", ev->n_other_features);
        break;
    case XMPP_EV_SASL_AUTH: add(o, "auth(%s)", ev->mechanism); break;
    case XMPP_EV_SASL_FAILURE:
    case XMPP_EV_STREAM_ERROR:
        add(o, "%s(", xmpp_event_type_name(ev->type));
        add(o, "%s", ev->condition);
        if (ev->text != NULL)
            add(o, ",text=%s", ev->text);
        if (ev->cond_text != NULL)
            add(o, ",host=%s", ev->cond_text);
        add(o, "%s", ")");
        break;
    case XMPP_EV_DB_RESULT:
    case XMPP_EV_DB_VERIFY:
        add(o, "%s(", ev->type == XMPP_EV_DB_RESULT ? "db:result" : "db:verify");
        add(o, "%s", xmpp_db_type_name(ev->db_type));
        add(o, ",%s", ev->from);
        add(o, ">%s", ev->to);
        add(o, ",id=%s", ev->id);
        addu(o, ",key=%lu", ev->db_key_len);
        if (ev->condition != NULL) {
            add(o, ",err=%s", ev->error_type);
            add(o, "/%s", ev->condition);
        }
        if (ev->text != NULL)
            add(o, ",text=%s", ev->text);
        add(o, "%s", ")");
        break;
    case XMPP_EV_STANZA:
        add(o, "%s(", ev->stanza == XMPP_STANZA_MESSAGE ? "message" : ev->stanza == XMPP_STANZA_IQ ? "iq" : "presence");
        if (ev->stanza == XMPP_STANZA_PRESENCE)
            add(o, "%s", xmpp_presence_type_name(ev->presence));
        else
            add(o, "%s", ev->type_str);
        add(o, ",%s", ev->from);
        add(o, ">%s", ev->to);
        if (ev->id != NULL)
            add(o, ",id=%s", ev->id);
        if (ev->child_name != NULL) {
            add(o, ",child=%s", ev->child_ns);
            add(o, "|%s", ev->child_name);
        }
        if (ev->condition != NULL) {
            add(o, ",err=%s", ev->error_type);
            add(o, "/%s", ev->condition);
        }
        if (ev->text != NULL)
            add(o, ",text=%s", ev->text);
        if (ev->body != NULL)
            add(o, ",body=%s", ev->body);
        add(o, "%s", ev->truncated ? ",trunc" : "");
        add(o, "%s", ")");
        break;
    case XMPP_EV_OTHER:
        add(o, "other(%s", ev->other_ns);
        add(o, "|%s)", ev->other_name);
        break;
    case XMPP_EV_TLS: render_tls(o, ev->tls); break;
    case XMPP_EV_GAP: addu(o, "gap(%lu)", ev->nbytes); break;
    case XMPP_EV_ERROR:
        add(o, "error(%s", xmpp_error_name(ev->error));
        if (ev->error == XMPP_ERR_XML)
            add(o, ",%s", ev->error_msg);
        addu(o, "@%lu)", ev->offset);
        {
            int k = snprintf(o->where + o->wn, sizeof(o->where) - o->wn, "%lu:%lu ", ev->line, ev->column);

            if (k > 0 && (size_t)k < sizeof(o->where) - o->wn)
                o->wn += (size_t)k;
        }
        break;
    case XMPP_EV_EOF:
        add(o, "eof(%s", ev->stream_closed ? "closed" : "open");
        add(o, "%s)", ev->in_tls ? ",tls" : "");
        break;
    default: add(o, "%s", xmpp_event_type_name(ev->type)); break;
    }
    addu(o, "#%lu", ev->meta.frame);
}

enum { CH_WHOLE, CH_SPLIT, CH_SIZE, CH_RANDOM };

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static size_t seg_len(const struct seg *s)
{
    return s->n != 0 ? s->n : (s->p != NULL ? strlen(s->p) : 0);
}

/* When set, run() tells the connection it is idle after every chunk: an
 * idle direction gives its parser back between stanzas, and what it
 * reports must not change. */
static bool g_idle_after_chunks;

/* When set, run() gives the connection a parser pool (cfg.pool) shared
 * with a decoy connection that parses a stanza, over two lines, between
 * every two chunks: the parsers a direction is lent have parsed other
 * bytes before, and what it reports must not change. */
static bool g_pooled;
static uint64_t g_lent; /* parsers the pooled runs lent: the pool was used */

static void ignore_event(const struct xmpp_event *ev, void *user)
{
    (void)ev;
    (void)user;
}

static void decoy_stanza(struct xmpp_conn *decoy, unsigned n)
{
    static const char *const hdr =
        "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
        "xmlns:db='jabber:server:dialback' to='b.example' from='a.example' version='1.0'>";
    static const char *const stanza = "<message from='u@a.example' to='v@b.example'>\n"
                                      "<body>decoy &amp; more</body></message>\n";
    struct ft_meta m;

    memset(&m, 0, sizeof(m));
    m.flow_id = 7;
    if (n == 0)
        xmpp_conn_data(decoy, 0, (const uint8_t *)hdr, strlen(hdr), &m);
    xmpp_conn_data(decoy, 0, (const uint8_t *)stanza, strlen(stanza), &m);
}

static void run(const struct seg *segs, size_t nseg, const struct xmpp_config *cfg, bool direct, int mode,
                size_t param, struct out *o)
{
    struct xmpp_config pooled;
    struct xmpp_pool *pool = NULL;
    struct xmpp_conn *c, *decoy = NULL;
    uint64_t rng = param * 104729u + 3u;
    unsigned chunks = 0;
    size_t i;

    if (g_pooled) {
        if (cfg != NULL)
            pooled = *cfg;
        else
            xmpp_config_default(&pooled);
        pool = xmpp_pool_new(pooled.budget);
        pooled.pool = pool;
        cfg = &pooled;
        decoy = xmpp_conn_new(cfg, false, ignore_event, NULL);
        CHECK(pool != NULL && decoy != NULL);
    }
    c = xmpp_conn_new(cfg, direct, on_event, o);
    o->n = 0;
    o->s[0] = '\0';
    o->wn = 0;
    o->where[0] = '\0';
    if (!CHECK(c != NULL))
        return;
    for (i = 0; i < nseg; i++) {
        struct ft_meta m;
        size_t off = 0, len = seg_len(&segs[i]);

        memset(&m, 0, sizeof(m));
        m.frame = i + 1;
        m.ts_ns = (int64_t)(i + 1) * 1000;
        m.flow_id = 42;
        m.dir = (uint8_t)segs[i].dir;
        if (segs[i].op == 1) {
            xmpp_conn_gap(c, segs[i].dir, segs[i].n, &m);
            continue;
        }
        if (segs[i].op == 2) {
            xmpp_conn_eof(c, segs[i].dir, &m);
            continue;
        }
        while (off < len) {
            size_t k = len - off;

            if (mode == CH_SPLIT && off == 0 && param < len)
                k = param;
            else if (mode == CH_SIZE && k > param)
                k = param;
            else if (mode == CH_RANDOM)
                k = 1 + (size_t)(lcg(&rng) % (k < 64 ? k : 64));
            xmpp_conn_data(c, segs[i].dir, (const uint8_t *)segs[i].p + off, k, &m);
            if (g_idle_after_chunks)
                xmpp_conn_idle(c);
            if (decoy != NULL)
                decoy_stanza(decoy, chunks++);
            off += k;
        }
    }
    xmpp_conn_free(c);
    xmpp_conn_free(decoy);
    if (pool != NULL)
        g_lent += xmpp_pool_stats(pool)->lent;
    xmpp_pool_free(pool);
}

static int expect_cfg(const char *name, const struct seg *segs, size_t nseg, const struct xmpp_config *cfg,
                      bool direct, const char *want)
{
    static struct out o;
    size_t maxlen = 0, i, k;
    int ok = 1;

    for (i = 0; i < nseg; i++)
        if (segs[i].op == 0 && seg_len(&segs[i]) > maxlen)
            maxlen = seg_len(&segs[i]);
    run(segs, nseg, cfg, direct, CH_WHOLE, 0, &o);
    if (!CHECK(strcmp(o.s, want) == 0)) {
        printf("  %s whole:\n    got  %s\n    want %s\n", name, o.s, want);
        return 0;
    }
    for (k = 1; k < maxlen && ok; k++) {
        run(segs, nseg, cfg, direct, CH_SPLIT, k, &o);
        if (strcmp(o.s, want) != 0) {
            printf("  %s split at %zu:\n    got  %s\n    want %s\n", name, k, o.s, want);
            ok = 0;
        }
    }
    for (k = 1; k <= 8 && ok; k++) {
        run(segs, nseg, cfg, direct, CH_SIZE, k, &o);
        if (strcmp(o.s, want) != 0) {
            printf("  %s chunk %zu:\n    got  %s\n    want %s\n", name, k, o.s, want);
            ok = 0;
        }
    }
    for (k = 0; k < 20 && ok; k++) {
        run(segs, nseg, cfg, direct, CH_RANDOM, k, &o);
        if (strcmp(o.s, want) != 0) {
            printf("  %s random %zu:\n    got  %s\n    want %s\n", name, k, o.s, want);
            ok = 0;
        }
    }
    /* the same, idle after every chunk */
    g_idle_after_chunks = true;
    for (k = 0; k < 28 && ok; k++) {
        if (k < 8)
            run(segs, nseg, cfg, direct, CH_SIZE, k + 1, &o);
        else
            run(segs, nseg, cfg, direct, CH_RANDOM, k, &o);
        if (strcmp(o.s, want) != 0) {
            printf("  %s idle after chunks (%zu):\n    got  %s\n    want %s\n", name, k, o.s, want);
            ok = 0;
        }
    }
    g_idle_after_chunks = false;
    /* the same, with a parser pool shared with a decoy connection: the
     * same events, and errors at the line and column a direction parked
     * at the same places reports (both count from the synthetic header) */
    for (k = 0; k < 28 + maxlen && ok; k++) {
        static struct out alone;
        int mode = k < 8 ? CH_SIZE : k < 28 ? CH_RANDOM : CH_SPLIT;
        size_t param = k < 8 ? k + 1 : k < 28 ? k : k - 27;

        g_idle_after_chunks = true;
        run(segs, nseg, cfg, direct, mode, param, &alone);
        g_idle_after_chunks = false;
        g_pooled = true;
        run(segs, nseg, cfg, direct, mode, param, &o);
        g_pooled = false;
        if (strcmp(o.s, want) != 0 || strcmp(o.where, alone.where) != 0) {
            printf("  %s pooled (%d %zu):\n    got  %s %s\n    want %s %s\n", name, mode, param, o.s, o.where,
                   want, alone.where);
            ok = 0;
        }
    }
    CHECK(ok);
    return ok;
}

static int expect(const char *name, const struct seg *segs, size_t nseg, const char *want)
{
    return expect_cfg(name, segs, nseg, NULL, false, want);
}

#define NSDECL "xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
#define DBDECL "xmlns:db='jabber:server:dialback' "
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

/* Initiating server a.example -> receiving server b.example, STARTTLS, TLS 1.2. */
static void test_starttls_tls12(void)
{
    static const char *const alpn[] = {"xmpp-server"};
    static const char *const san[] = {"b.example"};
    static const uint8_t ccs[1] = {1}, fin[40] = {9};
    static struct tb ch, sh, m, der, c2, s2;
    struct seg segs[12];

    memset(&ch, 0, sizeof(ch));
    memset(&sh, 0, sizeof(sh));
    memset(&m, 0, sizeof(m));
    memset(&der, 0, sizeof(der));
    memset(&c2, 0, sizeof(c2));
    memset(&s2, 0, sizeof(s2));
    tb_client_hello_msg(&m, "b.example", alpn, 1, NULL, 0);
    tb_record(&ch, 22, 0x0301, m.b, m.n);
    m.n = 0;
    tb_server_hello_msg(&m, 0x0303, 0, 0);
    tb_der_cert(&der, "b.example", "Example CA", "261231235959Z", san, 1);
    tb_certificate_msg(&m, der.b, der.n, 1);
    tb_record(&sh, 22, 0x0303, m.b, m.n);
    tb_record(&c2, 20, 0x0303, ccs, 1);
    tb_record(&c2, 22, 0x0303, fin, 40);
    tb_record(&s2, 20, 0x0303, ccs, 1);
    tb_record(&s2, 22, 0x0303, fin, 40);
    tb_record(&s2, 23, 0x0303, fin, 40);

    segs[0] = (struct seg){0, 0, "<?xml version='1.0'?><stream:stream " NSDECL DBDECL
                                 "from='a.example' to='b.example' version='1.0'>", 0};
    segs[1] = (struct seg){1, 0, "<stream:stream " NSDECL DBDECL "from='b.example' to='a.example' "
                                 "id='R-1f0c' version='1.0' xml:lang='en'><stream:features>"
                                 "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
                                 "<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>"
                                 "</stream:features>", 0};
    segs[2] = (struct seg){0, 0, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 0};
    segs[3] = (struct seg){1, 0, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 0};
    segs[4] = (struct seg){0, 0, (const char *)ch.b, ch.n};
    segs[5] = (struct seg){1, 0, (const char *)sh.b, sh.n};
    segs[6] = (struct seg){0, 0, (const char *)c2.b, c2.n};
    segs[7] = (struct seg){1, 0, (const char *)s2.b, s2.n};
    segs[8] = (struct seg){0, 0, (const char *)s2.b + 51, 45};
    segs[9] = (struct seg){0, 2, NULL, 0};
    segs[10] = (struct seg){1, 2, NULL, 0};
    segs[11] = (struct seg){1, 0, "junk after eof", 0};
    expect("starttls-tls12", segs, 12,
           "O:open(to=b.example,from=a.example,id=-,v=1.0,ns=jabber:server,db)#1 "
           "R:open(to=a.example,from=b.example,id=R-1f0c,v=1.0,lang=en,ns=jabber:server,db)#2 "
           "R:features(starttls-req,db-errors,other=0)#2 O:starttls#3 R:proceed#4 "
           "O:tls:client_hello(sni=b.example,alpn=xmpp-server)#5 R:tls:server_hello(TLS 1.2)#6 "
           "R:tls:certificate(n=1,cn=b.example)#6 O:tls:change_cipher_spec#7 O:tls:encrypted#7 "
           "R:tls:change_cipher_spec#8 R:tls:encrypted#8 R:tls:handshake_done#8 "
           "O:eof(open,tls)#10 R:eof(open,tls)#11");
}

/* Dialback on a cleartext stream, keepalives, several stanzas per segment, close. */
static void test_dialback_stanzas(void)
{
    struct seg segs[12];

    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL DBDECL "from='a.example' to='b.example' id='' "
                                 "version='1.0'>", 0};
    segs[1] = (struct seg){1, 0, "<stream:stream " NSDECL DBDECL "from='b.example' to='a.example' "
                                 "id='7731' version='1.0'>\n<stream:features><dialback "
                                 "xmlns='urn:xmpp:features:dialback'/><bidi xmlns='urn:xmpp:features:bidi'/>"
                                 "<ver xmlns='urn:xmpp:features:rosterver'/></stream:features>", 0};
    segs[2] = (struct seg){0, 0, "<db:result from='a.example' to='b.example'>b4835385f37fe2895af6c196b5"
                                 "9097b16862406db80559900d596f2aaf9c4d57</db:result>", 0};
    segs[3] = (struct seg){1, 0, " ", 0};
    segs[4] = (struct seg){1, 0, "<db:result from='b.example' to='a.example' type='valid'/>\n", 0};
    segs[5] = (struct seg){0, 0, "\n \n", 0};
    segs[6] = (struct seg){0, 0, "<presence from='ann@a.example' to='bob@b.example' type='subscribe'/>"
                                 "<presence from='ann@a.example/desk' to='bob@b.example' type='probe'/>"
                                 "<message from='ann@a.example/desk' to='bob@b.example' type='chat' id='m1'>"
                                 "<body>this stays private</body></message>", 0};
    segs[7] = (struct seg){1, 0, "<iq type='error' id='ping-1' from='b.example' to='a.example'>"
                                 "<ping xmlns='urn:xmpp:ping'/><error type='cancel'>"
                                 "<remote-server-not-found xmlns='" NS_STANZAS "'/>"
                                 "<text xmlns='" NS_STANZAS "'>no route to c.example</text></error></iq>", 0};
    segs[8] = (struct seg){1, 0, "<presence from='bob@b.example' to='ann@a.example' type='subscribed'/>"
                                 "<presence from='bob@b.example/x' to='ann@a.example'/>"
                                 "<presence from='bob@b.example/x' to='ann@a.example' type='unavailable'/>"
                                 "<presence from='bob@b.example' to='ann@a.example' type='unsubscribe'/>"
                                 "<presence from='bob@b.example' to='ann@a.example' type='unsubscribed'/>", 0};
    segs[9] = (struct seg){0, 0, "</stream:stream>", 0};
    segs[10] = (struct seg){1, 0, "</stream:stream>  trailing", 0};
    segs[11] = (struct seg){0, 2, NULL, 0};
    expect("dialback-stanzas", segs, 12,
           "O:open(to=b.example,from=a.example,id=,v=1.0,ns=jabber:server,db)#1 "
           "R:open(to=a.example,from=b.example,id=7731,v=1.0,ns=jabber:server,db)#2 "
           "R:features(db,bidi,other=1)#2 "
           "O:db:result(none,a.example>b.example,id=-,key=64)#3 "
           "R:db:result(valid,b.example>a.example,id=-,key=0)#5 "
           "O:presence(subscribe,ann@a.example>bob@b.example)#7 "
           "O:presence(probe,ann@a.example/desk>bob@b.example)#7 "
           "O:message(chat,ann@a.example/desk>bob@b.example,id=m1)#7 "
           "R:iq(error,b.example>a.example,id=ping-1,child=urn:xmpp:ping|ping,err=cancel/remote-server-not-found,"
           "text=no route to c.example)#8 "
           "R:presence(subscribed,bob@b.example>ann@a.example)#9 "
           "R:presence(available,bob@b.example/x>ann@a.example)#9 "
           "R:presence(unavailable,bob@b.example/x>ann@a.example)#9 "
           "R:presence(unsubscribe,bob@b.example>ann@a.example)#9 "
           "R:presence(unsubscribed,bob@b.example>ann@a.example)#9 "
           "O:stream_close#10 R:stream_close#11 O:eof(closed)#12");
}

/* Receiving server as authoritative server: verify invalid, dialback error. */
static void test_dialback_verify_error(void)
{
    struct seg segs[6];

    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL DBDECL "from='b.example' to='a.example'>", 0};
    segs[1] = (struct seg){1, 0, "<stream:stream " NSDECL DBDECL "id='D60000229F' from='a.example' "
                                 "to='b.example'>", 0};
    segs[2] = (struct seg){0, 0, "<db:verify from='b.example' to='a.example' id='417GAF25'>"
                                 "aaaa</db:verify><db:result from='b.example' to='c.example'>bbbb</db:result>", 0};
    segs[3] = (struct seg){1, 0, "<db:verify from='a.example' to='b.example' id='417GAF25' type='invalid'/>", 0};
    segs[4] = (struct seg){1, 0, "<db:result from='c.example' to='b.example' type='error'><error "
                                 "type='cancel'><item-not-found xmlns='" NS_STANZAS "'/></error></db:result>", 0};
    segs[5] = (struct seg){1, 0, "<db:result from='a.example' to='b.example' type='error'><error "
                                 "type='cancel'><remote-server-not-found xmlns='" NS_STANZAS "'/><text "
                                 "xmlns='" NS_STANZAS "'>Connection failed: timeout</text></error></db:result>", 0};
    expect("dialback-verify", segs, 6,
           "O:open(to=a.example,from=b.example,id=-,v=-,ns=jabber:server,db)#1 "
           "R:open(to=b.example,from=a.example,id=D60000229F,v=-,ns=jabber:server,db)#2 "
           "O:db:verify(none,b.example>a.example,id=417GAF25,key=4)#3 "
           "O:db:result(none,b.example>c.example,id=-,key=4)#3 "
           "R:db:verify(invalid,a.example>b.example,id=417GAF25,key=0)#4 "
           "R:db:result(error,c.example>b.example,id=-,key=0,err=cancel/item-not-found)#5 "
           "R:db:result(error,a.example>b.example,id=-,key=0,err=cancel/remote-server-not-found,"
           "text=Connection failed: timeout)#6");
}

/* host-unknown: the receiving server opens its reply stream, then errors and closes. */
static void test_host_unknown(void)
{
    struct seg segs[4];

    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL DBDECL "from='a.example' to='old.example' "
                                 "version='1.0'>", 0};
    segs[1] = (struct seg){1, 0, "<stream:stream " NSDECL DBDECL "from='old.example' id='x9' version='1.0'>"
                                 "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                                 "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>"
                                 "old.example is not served here</text></stream:error></stream:stream>", 0};
    segs[2] = (struct seg){0, 0, "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                                 "xmlns='jabber:server'><stream:error><see-other-host "
                                 "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>[2001:db8::1]:5269</see-other-host>"
                                 "</stream:error>", 0};
    segs[3] = (struct seg){1, 2, NULL, 0};
    expect("host-unknown", segs, 4,
           "O:open(to=old.example,from=a.example,id=-,v=1.0,ns=jabber:server,db)#1 "
           "R:open(to=-,from=old.example,id=x9,v=1.0,ns=jabber:server,db)#2 "
           "R:stream_error(host-unknown,text=old.example is not served here)#2 R:stream_close#2 "
           "O:open(to=-,from=-,id=-,v=-,ns=jabber:server,restart)#3 "
           "O:stream_error(see-other-host,host=[2001:db8::1]:5269)#3 R:eof(closed)#4");
}

/* SASL EXTERNAL (XEP-0178): failure, retry, success, stream restart mid-segment. */
static void test_sasl_restart(void)
{
    struct seg segs[8];

    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL "from='a.example' to='b.example' version='1.0'>", 0};
    segs[1] = (struct seg){1, 0, "<stream:stream " NSDECL "from='b.example' id='s1' version='1.0'>"
                                 "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                                 "<mechanism>EXTERNAL</mechanism><mechanism> SCRAM-SHA-1 </mechanism>"
                                 "</mechanisms></stream:features>", 0};
    segs[2] = (struct seg){0, 0, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>"
                                 "YS5leGFtcGxl</auth>", 0};
    segs[3] = (struct seg){1, 0, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>"
                                 "<text>certificate does not cover a.example</text></failure>", 0};
    segs[4] = (struct seg){0, 0, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>", 0};
    segs[5] = (struct seg){1, 0, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><stream:stream "
                                 "xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
                                 "from='b.example' id='s2' version='1.0'><stream:features><sm "
                                 "xmlns='urn:xmpp:sm:3'/></stream:features>", 0};
    segs[6] = (struct seg){0, 0, "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                                 "xmlns='jabber:server' from='a.example' to='b.example' version='1.0'>"
                                 "<presence from='ann@a.example' to='bob@b.example' type='probe'/>", 0};
    segs[7] = (struct seg){0, 0, "</stream:stream>", 0};
    expect("sasl-restart", segs, 8,
           "O:open(to=b.example,from=a.example,id=-,v=1.0,ns=jabber:server)#1 "
           "R:open(to=-,from=b.example,id=s1,v=1.0,ns=jabber:server)#2 "
           "R:features(mechs=EXTERNAL SCRAM-SHA-1/2,ext,other=0)#2 O:auth(EXTERNAL)#3 "
           "R:sasl_failure(not-authorized,text=certificate does not cover a.example)#4 O:auth(EXTERNAL)#5 "
           "R:sasl_success#6 R:open(to=-,from=b.example,id=s2,v=1.0,ns=jabber:server,restart)#6 "
           "R:features(sm,other=0)#6 "
           "O:open(to=b.example,from=a.example,id=-,v=1.0,ns=jabber:server,restart)#7 "
           "O:presence(probe,ann@a.example>bob@b.example)#7 O:stream_close#8");
}

/* Restarts that begin a new XML document (Prosody, ejabberd after SASL
 * success): the declaration may arrive in pieces. */
static void test_restart_declaration(void)
{
    struct seg segs[6];

    segs[0] = (struct seg){0, 0, "<?xml version='1.0'?><stream:stream " NSDECL "from='a.example' to='b.example' version='1.0'>", 0};
    segs[1] = (struct seg){1, 0, "<?xml version='1.0'?><stream:stream " NSDECL "from='b.example' id='s1' version='1.0'>"
                                 "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                                 "<mechanism>EXTERNAL</mechanism></mechanisms></stream:features>", 0};
    segs[2] = (struct seg){0, 0, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>", 0};
    segs[3] = (struct seg){1, 0, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>\n<?xml version='1.0'?>"
                                 "<stream:stream " NSDECL "from='b.example' id='s2' version='1.0'>"
                                 "<stream:features/>", 0};
    segs[4] = (struct seg){0, 0, "<?xml version='1.0'?>\n<stream:stream " NSDECL
                                 "from='a.example' to='b.example' version='1.0'>"
                                 "<presence from='ann@a.example' to='bob@b.example' type='subscribe'/>", 0};
    segs[5] = (struct seg){0, 0, "</stream:stream>", 0};
    expect("restart-declaration", segs, 6,
           "O:open(to=b.example,from=a.example,id=-,v=1.0,ns=jabber:server)#1 "
           "R:open(to=-,from=b.example,id=s1,v=1.0,ns=jabber:server)#2 "
           "R:features(mechs=EXTERNAL/1,ext,other=0)#2 O:auth(EXTERNAL)#3 "
           "R:sasl_success#4 R:open(to=-,from=b.example,id=s2,v=1.0,ns=jabber:server,restart)#4 "
           "R:features(other=0)#4 "
           "O:open(to=b.example,from=a.example,id=-,v=1.0,ns=jabber:server,restart)#5 "
           "O:presence(subscribe,ann@a.example>bob@b.example)#5 O:stream_close#6");
}

/* A restarted stream that opens with an XML declaration (ejabberd after
 * <success/>): the declaration is skipped and everything after it parses,
 * however the bytes are split. */
static void test_restart_xml_decl(void)
{
    struct seg segs[4];

    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL "from='a.example' to='b.example' version='1.0'>", 0};
    segs[1] = (struct seg){1, 0, "<?xml version='1.0'?><stream:stream " NSDECL "from='b.example' id='s1' "
                                 "version='1.0'><success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", 0};
    segs[2] = (struct seg){1, 0, "<?xml version='1.0' encoding='UTF-8'?>\n<stream:stream " NSDECL
                                 "from='b.example' id='s2' version='1.0'><stream:features/>"
                                 "<presence from='bob@b.example' to='ann@a.example' type='subscribed'/>", 0};
    segs[3] = (struct seg){1, 0, "</stream:stream>", 0};
    expect("restart-xml-decl", segs, 4,
           "O:open(to=b.example,from=a.example,id=-,v=1.0,ns=jabber:server)#1 "
           "R:open(to=-,from=b.example,id=s1,v=1.0,ns=jabber:server)#2 R:sasl_success#2 "
           "R:open(to=-,from=b.example,id=s2,v=1.0,ns=jabber:server,restart)#3 R:features(other=0)#3 "
           "R:presence(subscribed,bob@b.example>ann@a.example)#3 R:stream_close#4");
}

/* A capture that began mid-stream: no header, the first element is a
 * stanza (or a dialback element with an unbound prefix).  Parsing goes
 * on inside an assumed header: every stanza is reported, none becomes a
 * stream header, whatever the chunking. */
static void test_midstream(void)
{
    struct seg segs[4];

    segs[0] = (struct seg){0, 0, "<message from='ann@a.example/r' to='bob@b.example' type='chat'><body>hi</body>"
                                 "</message><presence from='ann@a.example' to='bob@b.example' type='subscribe'/>", 0};
    segs[1] = (struct seg){1, 0, "<db:result from='b.example' to='a.example'>k3y</db:result>"
                                 "<presence from='bob@b.example' to='ann@a.example' type='subscribed'/>", 0};
    segs[2] = (struct seg){0, 0, "<iq from='a.example' to='b.example' id='p1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>", 0};
    segs[3] = (struct seg){1, 0, "</stream:stream>", 0};
    expect("midstream", segs, 4,
           "O:message(chat,ann@a.example/r>bob@b.example)#1 O:presence(subscribe,ann@a.example>bob@b.example)#1 "
           "R:db:result(none,b.example>a.example,id=-,key=3)#2 R:presence(subscribed,bob@b.example>ann@a.example)#2 "
           "O:iq(get,a.example>b.example,id=p1,child=urn:xmpp:ping|ping)#3 R:stream_close#4");
    /* a lone close is a close, not an XML error */
    segs[0] = (struct seg){0, 0, " </stream:stream>", 0};
    expect("midstream-close", segs, 1, "O:stream_close#1");
}

/* A capture that began inside a tag: the first bytes are the tail of one
 * (attributes, an end tag, text).  They are skipped (counted) up to the
 * next top-level element start, where parsing resynchronises as above;
 * a '<' that starts none of them ("</message>", "<body>", "<messages")
 * is skipped too.  Text with control bytes in it is not XML: nothing. */
static void test_midtag(void)
{
    struct seg segs[3];

    segs[0] = (struct seg){0, 0, " xmlns='http://jabber.org/protocol/chatstates'/><body>x</body></message><messages/>"
                                 "<message from='ann@a.example/r' to='bob@b.example' type='chat'><body>hi</body>"
                                 "</message><presence from='ann@a.example' to='bob@b.example' type='subscribe'/>", 0};
    segs[1] = (struct seg){1, 0, "ed' to='a.example'>k3y</db:result><db:result from='b.example' to='a.example' "
                                 "type='valid'/><presence from='bob@b.example' to='ann@a.example' type='subscribed'/>", 0};
    segs[2] = (struct seg){1, 0, "</stream:stream>", 0};
    expect("midtag", segs, 3,
           "O:message(chat,ann@a.example/r>bob@b.example)#1 O:presence(subscribe,ann@a.example>bob@b.example)#1 "
           "R:db:result(valid,b.example>a.example,id=-,key=0)#2 "
           "R:presence(subscribed,bob@b.example>ann@a.example)#2 R:stream_close#3");
    /* only the close after the tail of a tag */
    segs[0] = (struct seg){0, 0, "ping'/></iq></stream:stream>", 0};
    expect("midtag-close", segs, 1, "O:stream_close#1");
    /* control bytes in the skipped part: not an XML stream, no event */
    segs[0] = (struct seg){0, 0, "abc\x01\x02<message to='b.example'/>", 0};
    expect("midtag-binary", segs, 1, "");
}

/* A capture that began mid-stream at the '<' of something no stanza
 * starts with: an end tag other than the stream's close, or a child
 * element (<body>).  Skipped, counted in midtag_skipped, to the next
 * top-level element start, never past one; however the bytes are split. */
static void test_midend(void)
{
    struct seg segs[3];

    segs[0] = (struct seg){0, 0, "</message><message from='ann@a.example/r' to='bob@b.example' type='chat'>"
                                 "<body>hi</body></message>", 0};
    segs[1] = (struct seg){1, 0, "<body>x</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>"
                                 "<presence from='bob@b.example' to='ann@a.example' type='subscribed'/>", 0};
    segs[2] = (struct seg){1, 0, "</stream:stream>", 0};
    expect("midend", segs, 3,
           "O:message(chat,ann@a.example/r>bob@b.example)#1 "
           "R:presence(subscribed,bob@b.example>ann@a.example)#2 R:stream_close#3");
    /* a dialback end tag, then dialback: resynchronised at <db:result */
    segs[0] = (struct seg){0, 0, "  </db:result><db:result from='b.example' to='a.example' type='valid'/>"
                                 "<iq from='a.example' to='b.example' id='p1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>", 0};
    expect("midend-db", segs, 1,
           "O:db:result(valid,b.example>a.example,id=-,key=0)#1 "
           "O:iq(get,a.example>b.example,id=p1,child=urn:xmpp:ping|ping)#1");
    /* end tags, then the stream's close */
    segs[0] = (struct seg){0, 0, "</body></message></stream:stream>", 0};
    expect("midend-close", segs, 1, "O:stream_close#1");
    /* a prefix no header bound that is not a stanza's: skipped too */
    segs[0] = (struct seg){0, 0, "<x:y>z</x:y><presence from='ann@a.example' to='bob@b.example' type='subscribe'/>", 0};
    expect("midend-prefix", segs, 1, "O:presence(subscribe,ann@a.example>bob@b.example)#1");

    /* the skipped bytes are counted */
    {
        static const char first[] = "</message><presence from='ann@a.example' to='bob@b.example' type='subscribe'/>";
        static struct out o;
        struct ft_meta m;
        struct xmpp_conn *c;

        memset(&o, 0, sizeof(o));
        memset(&m, 0, sizeof(m));
        m.frame = 1;
        c = xmpp_conn_new(NULL, false, on_event, &o);
        xmpp_conn_data(c, 0, (const uint8_t *)first, strlen(first), &m);
        CHECK(xmpp_conn_stats(c)->midtag_skipped == strlen("</message>"));
        CHECK(xmpp_conn_stats(c)->midstream_resyncs == 1);
        CHECK(xmpp_conn_stats(c)->stanzas == 1);
        xmpp_conn_free(c);
    }
}

/* STARTTLS on a cleartext test: XML continues after <proceed/>; also a TLS failure. */
static void test_cleartext_after_proceed(void)
{
    struct seg segs[6];

    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL "to='b.example' version='1.0'>", 0};
    segs[1] = (struct seg){1, 0, "<stream:stream " NSDECL "id='c1' version='1.0'><stream:features>"
                                 "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>", 0};
    segs[2] = (struct seg){0, 0, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", 0};
    segs[3] = (struct seg){1, 0, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\r\n<stream:stream "
                                 NSDECL "id='c2' version='1.0'>", 0};
    segs[4] = (struct seg){0, 0, "  <stream:stream " NSDECL "to='b.example' version='1.0'>", 0};
    segs[5] = (struct seg){1, 0, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>", 0};
    expect("cleartext-after-proceed", segs, 6,
           "O:open(to=b.example,from=-,id=-,v=1.0,ns=jabber:server)#1 "
           "R:open(to=-,from=-,id=c1,v=1.0,ns=jabber:server)#2 R:features(starttls,other=0)#2 "
           "O:starttls#3 R:proceed#4 R:cleartext_after_starttls#4 "
           "R:open(to=-,from=-,id=c2,v=1.0,ns=jabber:server,restart)#4 "
           "O:cleartext_after_starttls#5 O:open(to=b.example,from=-,id=-,v=1.0,ns=jabber:server,restart)#5 "
           "R:tls_failure#6 R:stream_close#6");
}

/* Direct TLS (XEP-0368) with TLS 1.3, and TLS sent to a STARTTLS port. */
static void test_direct_tls(void)
{
    static const char *const alpn[] = {"xmpp-server"};
    static const unsigned v13[] = {0x0304, 0x0303};
    static const uint8_t alert[2] = {2, 112};
    static struct tb ch, sh, m, al;
    struct seg segs[4];

    memset(&ch, 0, sizeof(ch));
    memset(&sh, 0, sizeof(sh));
    memset(&m, 0, sizeof(m));
    memset(&al, 0, sizeof(al));
    tb_client_hello_msg(&m, "b.example", alpn, 1, v13, 2);
    tb_record(&ch, 22, 0x0301, m.b, m.n);
    m.n = 0;
    tb_server_hello_msg(&m, 0x0303, 0x0304, 0);
    tb_record(&sh, 22, 0x0303, m.b, m.n);
    tb_record(&sh, 23, 0x0303, m.b, 30);
    tb_record(&al, 21, 0x0303, alert, 2);
    segs[0] = (struct seg){0, 0, (const char *)ch.b, ch.n};
    segs[1] = (struct seg){1, 0, (const char *)sh.b, sh.n};
    expect_cfg("direct-tls13", segs, 2, NULL, true,
               "O:tls:client_hello(sni=b.example,alpn=xmpp-server)#1 R:tls:server_hello(TLS 1.3)#2 "
               "R:tls:handshake_encrypted#2 R:tls:encrypted#2");
    /* ClientHello on the STARTTLS port; the server answers with an alert in XML mode */
    segs[1] = (struct seg){1, 0, (const char *)al.b, al.n};
    expect("tls-on-starttls-port", segs, 2,
           "O:error(tls_in_xml@0)#1 O:tls:client_hello(sni=b.example,alpn=xmpp-server)#1 "
           "R:error(tls_in_xml@0)#2 R:tls:alert(unrecognized_name)#2");
}

/* Hostile and broken input: one direction stops, the other carries on. */
static void test_hostile(void)
{
    struct xmpp_config cfg;
    struct seg segs[6];
    char deep[1024], big[2048];
    size_t i, n = 0;

    segs[0] = (struct seg){0, 0, "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 "
                                 "'&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>]><stream:stream " NSDECL ">&lol2;", 0};
    segs[1] = (struct seg){1, 0, "<stream:stream " NSDECL "id='h1'>", 0};
    segs[2] = (struct seg){0, 0, "<presence/>", 0};
    segs[3] = (struct seg){1, 0, "<message to='x@a.example'><body>hi</bdy></message>", 0};
    segs[4] = (struct seg){1, 0, "<presence/>", 0};
    expect("doctype-and-xml-error", segs, 5,
           "O:error(doctype@36)#1 R:open(to=-,from=-,id=h1,v=-,ns=jabber:server)#2 "
           "R:error(xml,mismatched tag@129)#4");

    /* depth cap */
    xmpp_config_default(&cfg);
    cfg.max_depth = 8;
    n = (size_t)snprintf(deep, sizeof(deep), "<message to='x'>");
    for (i = 0; i < 8; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<x%zu>", i);
    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL ">", 0};
    segs[1] = (struct seg){0, 0, deep, 0};
    segs[2] = (struct seg){1, 0, "<stream:stream " NSDECL "id='d'><iq type='get' id='1'><a><b><c><d/></c></b></a>"
                                 "</iq>", 0};
    expect_cfg("depth", segs, 3, &cfg, false,
               "O:open(to=-,from=-,id=-,v=-,ns=jabber:server)#1 O:error(depth@126)#2 "
               "R:open(to=-,from=-,id=d,v=-,ns=jabber:server)#3 R:iq(get,->-,id=1,child=jabber:server|a)#3");

    /* stanza size cap; long whitespace keepalives are not a stanza */
    xmpp_config_default(&cfg);
    cfg.max_stanza = 300;
    cfg.include_body = true;
    cfg.max_body = 10;
    n = (size_t)snprintf(big, sizeof(big), "<message to='x'><body>");
    memset(big + n, 'A', 400);
    n += 400;
    snprintf(big + n, sizeof(big) - n, "</body></message>");
    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL ">", 0};
    segs[1] = (struct seg){0, 0, "<message to='y' type='chat'><body>0123456789abc</body></message>", 0};
    segs[2] = (struct seg){1, 0, "<stream:stream " NSDECL "id='s'>", 0};
    segs[3] = (struct seg){1, 0, "                                                                      "
                                 "                                                                      "
                                 "                                                                      "
                                 "                                                                      "
                                 "                                                                      ", 0};
    segs[4] = (struct seg){1, 0, "<presence/>", 0};
    segs[5] = (struct seg){0, 0, big, 0};
    expect_cfg("size", segs, 6, &cfg, false,
               "O:open(to=-,from=-,id=-,v=-,ns=jabber:server)#1 O:message(chat,->y,body=0123456789,trunc)#2 "
               "R:open(to=-,from=-,id=s,v=-,ns=jabber:server)#3 R:presence(available,->-)#5 "
               "O:error(stanza_size@150)#6");

    /* gap: that direction stops, the other carries on */
    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL ">", 0};
    segs[1] = (struct seg){0, 1, NULL, 1200};
    segs[2] = (struct seg){0, 0, "<presence/>", 0};
    segs[3] = (struct seg){1, 0, "<stream:stream " NSDECL "><presence type='probe'/>", 0};
    segs[4] = (struct seg){0, 1, NULL, 5};
    expect("gap", segs, 5,
           "O:open(to=-,from=-,id=-,v=-,ns=jabber:server)#1 O:gap(1200)#2 "
           "R:open(to=-,from=-,id=-,v=-,ns=jabber:server)#4 R:presence(probe,->-)#4");

    /* not a stream (no stanza start in it: skipped quietly, as a capture
     * begun at a child element is, see test_midend), c2s namespace,
     * unknown top-level element */
    segs[0] = (struct seg){0, 0, "<html><body>", 0};
    segs[1] = (struct seg){1, 0, "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
                                 "streams'><bidi xmlns='urn:xmpp:bidi'/><r xmlns='urn:xmpp:sm:3'/>", 0};
    segs[2] = (struct seg){1, 0, "<stream xmlns='http://example.org/x'>", 0};
    expect("not-stream", segs, 3,
           "R:open(to=-,from=-,id=-,v=-,ns=jabber:client)#2 R:other(urn:xmpp:bidi|bidi)#2 "
           "R:other(urn:xmpp:sm:3|r)#2");
}

static void test_truncation(void)
{
    static char hdr[2048];
    size_t n;

    n = (size_t)snprintf(hdr, sizeof(hdr), "<stream:stream " NSDECL "to='");
    memset(hdr + n, 'h', 400);
    n += 400;
    snprintf(hdr + n, sizeof(hdr) - n, "'><presence from='%0300d'/>", 7);
    {
        static struct out o;
        const struct xmpp_stats *st;
        struct xmpp_conn *c = xmpp_conn_new(NULL, false, on_event, &o);
        struct ft_meta m;

        memset(&m, 0, sizeof(m));
        o.n = 0;
        xmpp_conn_data(c, 0, (const uint8_t *)hdr, strlen(hdr), &m);
        st = xmpp_conn_stats(c);
        CHECK(st->truncations == 2);
        CHECK(st->stanzas == 1);
        CHECK(st->bytes[0] == strlen(hdr));
        xmpp_conn_free(c);
    }
    xmpp_conn_free(NULL);
}

/* A <text> cut at its cap inside a two-byte character stays cut: the
 * one-byte pieces expat delivers after it (an entity, the next chunk) do
 * not slip into the room the cut left, at any chunking. */
static void test_text_cut_is_final(void)
{
    static char err[2048], want[4096];
    struct seg segs[2];
    size_t n;

    n = (size_t)snprintf(err, sizeof(err), "<stream:stream " NSDECL "from='b.example' id='c1' version='1.0'>"
                                           "<stream:error><policy-violation "
                                           "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
                                           "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>");
    memset(err + n, 'a', XMPP_TEXT_MAX - 1);
    n += XMPP_TEXT_MAX - 1;
    snprintf(err + n, sizeof(err) - n, "\xc3\xa9&amp;b</text></stream:error>");
    segs[0] = (struct seg){1, 0, err, 0};
    segs[1] = (struct seg){1, 2, NULL, 0};
    n = (size_t)snprintf(want, sizeof(want),
                         "R:open(to=-,from=b.example,id=c1,v=1.0,ns=jabber:server)#1 R:stream_error(policy-violation,text=");
    memset(want + n, 'a', XMPP_TEXT_MAX - 1);
    n += XMPP_TEXT_MAX - 1;
    snprintf(want + n, sizeof(want) - n, ")#1 R:eof(open)#2");
    expect("text-cut", segs, 2, want);
}

/* An unfinished token (here a comment) larger than max_token stops the direction. */
static void test_token_cap(void)
{
    static struct out o;
    static char chunk[1024];
    struct xmpp_config cfg;
    struct xmpp_conn *c;
    struct ft_meta m;
    const char *hdr = "<stream:stream " NSDECL "><!--";
    int i;

    xmpp_config_default(&cfg);
    cfg.max_token = 4096;
    c = xmpp_conn_new(&cfg, false, on_event, &o);
    memset(&m, 0, sizeof(m));
    memset(chunk, 'c', sizeof(chunk));
    o.n = 0;
    o.s[0] = '\0';
    m.frame = 1;
    xmpp_conn_data(c, 0, (const uint8_t *)hdr, strlen(hdr), &m);
    for (i = 0; i < 8; i++) {
        m.frame = (uint64_t)i + 2;
        xmpp_conn_data(c, 0, (const uint8_t *)chunk, sizeof(chunk), &m);
    }
    if (!CHECK(strcmp(o.s, "O:open(to=-,from=-,id=-,v=-,ns=jabber:server)#1 O:error(token_size@86)#5") == 0))
        printf("  got %s\n", o.s);
    CHECK(xmpp_conn_stats(c)->size_caps == 1);
    CHECK(xmpp_conn_stats(c)->ignored_bytes == 4 * sizeof(chunk));
    xmpp_conn_free(c);
}

/* Every byte a connection holds is charged to the configured budget, freed
 * when a direction ends, and a budget that refuses ends parsing cleanly. */
static void test_state_budget(void)
{
    static struct out o;
    struct mem_budget b;
    struct xmpp_config cfg;
    struct xmpp_conn *c;
    struct ft_meta m;
    const char *hdr = "<?xml version='1.0'?><stream:stream " NSDECL
                      "to='b.example' from='a.example' version='1.0'>"
                      "<message to='u@b.example'><body>never ends";
    size_t held;

    budget_init(&b, 0, NULL);
    xmpp_config_default(&cfg);
    cfg.budget = &b;
    memset(&m, 0, sizeof(m));
    m.frame = 1;
    o.n = 0;
    o.s[0] = '\0';
    c = xmpp_conn_new(&cfg, false, on_event, &o);
    CHECK(c != NULL && b.used > 0);
    xmpp_conn_data(c, 0, (const uint8_t *)hdr, strlen(hdr), &m);
    xmpp_conn_data(c, 1, (const uint8_t *)hdr, strlen(hdr), &m);
    held = xmpp_conn_state_bytes(c);
    CHECK(held > 0 && b.used > held);        /* parsers and strings are charged */
    CHECK(held < 64 * 1024);
    xmpp_conn_eof(c, 0, &m);
    CHECK(xmpp_conn_state_bytes(c) < held);  /* that direction's parser is gone */
    xmpp_conn_eof(c, 1, &m);
    CHECK(xmpp_conn_state_bytes(c) == 0);
    xmpp_conn_free(c);
    CHECK(b.used == 0);

    /* room for the connection but not for a parser */
    o.n = 0;
    o.s[0] = '\0';
    c = xmpp_conn_new(&cfg, false, on_event, &o);
    b.limit = b.used + 512;
    xmpp_conn_data(c, 0, (const uint8_t *)hdr, strlen(hdr), &m);
    if (!CHECK(strstr(o.s, "O:error(nomem") != NULL))
        printf("  got %s\n", o.s);
    CHECK(b.refused > 0 && b.used <= b.limit);
    xmpp_conn_free(c);
    CHECK(b.used == 0);
}

/* A large element grows expat's buffer; once it ended the direction gets a
 * fresh parser, and the stream goes on parsing as before. */
static void test_shrink_after_large_stanza(void)
{
    static struct out o;
    static char big[60 * 1024];  /* an attribute value: one unfinished token */
    struct mem_budget b;
    struct xmpp_config cfg;
    struct xmpp_conn *c;
    struct ft_meta m;
    const char *hdr = "<stream:stream " NSDECL "to='b.example' from='a.example' version='1.0'>";
    const char *open_msg = "<message to='u@b.example' from='v@a.example' id='";
    const char *close_msg = "'><body>hi</body></message>";
    const char *sub = "<presence type='subscribe' to='u@b.example' from='v@a.example'/>";
    size_t held;

    budget_init(&b, 0, NULL);
    xmpp_config_default(&cfg);
    cfg.budget = &b;
    memset(&m, 0, sizeof(m));
    memset(big, 'x', sizeof(big));
    o.n = 0;
    o.s[0] = '\0';
    c = xmpp_conn_new(&cfg, false, on_event, &o);
    m.frame = 1;
    xmpp_conn_data(c, 0, (const uint8_t *)hdr, strlen(hdr), &m);
    m.frame = 2;
    xmpp_conn_data(c, 0, (const uint8_t *)open_msg, strlen(open_msg), &m);
    xmpp_conn_data(c, 0, (const uint8_t *)big, sizeof(big), &m);
    held = xmpp_conn_state_bytes(c);
    CHECK(held > sizeof(big));               /* expat holds the unfinished tag */
    m.frame = 3;
    /* the end of the big one and the next stanza in the same segment */
    {
        char tail[256];
        snprintf(tail, sizeof(tail), "%s%s", close_msg, sub);
        xmpp_conn_data(c, 0, (const uint8_t *)tail, strlen(tail), &m);
    }
    CHECK(xmpp_conn_stats(c)->shrinks == 1);
    CHECK(xmpp_conn_state_bytes(c) < 64 * 1024);
    CHECK(xmpp_conn_stats(c)->stanzas == 2);
    if (!CHECK(strstr(o.s, "presence") != NULL && strstr(o.s, "error") == NULL))
        printf("  got %.300s\n", o.s);
    xmpp_conn_free(c);
    CHECK(b.used == 0);
}

/* An idle direction between stanzas frees its parser and strings; one
 * inside an element keeps them; both parse on as before. */
static void test_idle_parks_between_stanzas(void)
{
    static struct out o;
    struct mem_budget b;
    struct xmpp_config cfg;
    struct xmpp_conn *c;
    struct ft_meta m;
    const char *hdr = "<stream:stream " NSDECL "to='b.example' from='a.example' version='1.0'>";
    const char *sub = "<presence type='subscribe' to='u@b.example' from='v@a.example'/> ";
    const char *half = "<message to='u@b.example' from='v@a.example'><body>h\xc3";
    const char *rest = "\xa9llo</body></message>";
    size_t busy;

    budget_init(&b, 0, NULL);
    xmpp_config_default(&cfg);
    cfg.budget = &b;
    cfg.include_body = true;
    memset(&m, 0, sizeof(m));
    o.n = 0;
    o.s[0] = '\0';
    c = xmpp_conn_new(&cfg, false, on_event, &o);
    m.frame = 1;
    xmpp_conn_data(c, 0, (const uint8_t *)hdr, strlen(hdr), &m);
    xmpp_conn_data(c, 0, (const uint8_t *)sub, strlen(sub), &m);
    busy = xmpp_conn_state_bytes(c);
    xmpp_conn_idle(c);
    CHECK(xmpp_conn_stats(c)->parks == 1);   /* the other direction never spoke */
    if (!CHECK(xmpp_conn_state_bytes(c) + 4096 < busy))
        printf("  state %zu bytes busy, %zu parked\n", busy, xmpp_conn_state_bytes(c));
    xmpp_conn_idle(c);                       /* already parked: nothing more */
    CHECK(xmpp_conn_stats(c)->parks == 1);
    m.frame = 2;
    xmpp_conn_data(c, 0, (const uint8_t *)half, strlen(half), &m);
    xmpp_conn_idle(c);                       /* inside <message>: stays */
    CHECK(xmpp_conn_stats(c)->parks == 1);
    m.frame = 3;
    xmpp_conn_data(c, 0, (const uint8_t *)rest, strlen(rest), &m);
    CHECK(xmpp_conn_stats(c)->stanzas == 2);
    if (!CHECK(strstr(o.s, "subscribe") != NULL && strstr(o.s, "h\xc3\xa9llo") != NULL &&
               strstr(o.s, "error") == NULL))
        printf("  got %.400s\n", o.s);
    xmpp_conn_free(c);
    CHECK(b.used == 0);
}

/* ---- content nobody reads ------------------------------------------------ */

/* The events of segs with and without the bypass of unread content (which
 * must have happened: *unread > 0 unless no_bypass), in every chunking. */
static int expect_unread(const char *name, const struct seg *segs, size_t nseg, const struct xmpp_config *base,
                         bool no_bypass, const char *want)
{
    struct xmpp_config cfg;
    struct xmpp_conn *c;
    uint64_t unread = 0;
    int ok;

    if (base != NULL)
        cfg = *base;
    else
        xmpp_config_default(&cfg);
    cfg.parse_unread = false;
    ok = expect_cfg(name, segs, nseg, &cfg, false, want);
    /* how much bypassed expat, fed whole */
    c = xmpp_conn_new(&cfg, false, NULL, NULL);
    for (size_t i = 0; c != NULL && i < nseg; i++) {
        struct ft_meta m;

        memset(&m, 0, sizeof(m));
        if (segs[i].op == 0)
            xmpp_conn_data(c, segs[i].dir, (const uint8_t *)segs[i].p, seg_len(&segs[i]), &m);
    }
    if (c != NULL)
        unread = xmpp_conn_stats(c)->unread_bytes;
    xmpp_conn_free(c);
    if (!CHECK(no_bypass ? unread == 0 : unread > 0))
        printf("  %s: %lu bytes bypassed expat\n", name, (unsigned long)unread);
    /* the old path: every byte to expat */
    cfg.parse_unread = true;
    return expect_cfg(name, segs, nseg, &cfg, false, want) && ok;
}

#define LONG_TEXT "caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 &amp; &lt;3 &#x1F44D; " \
                  "&quot;quoted&quot; https://example.org/a?b=1&amp;c=2 thanks for the build, it is green "

static void test_unread_content(void)
{
    struct seg segs[12];
    struct xmpp_config cfg;
    static char deep[2048], big[2048];
    size_t n, i;

    /* bodies, nested same-name elements, '>' and "/>" in attribute values,
     * CDATA, comments and PIs holding markup, multibyte UTF-8, a body cut
     * across segments, an error stanza whose body is unread but whose
     * error is, and an XML error after all of it (its offset counts the
     * bytes that bypassed expat) */
    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL "to='b.example' from='a.example' version='1.0'>", 0};
    segs[1] = (struct seg){0, 0,
        "<message from='u@a.example/r' to='v@b.example' type='chat' id='m1'><body>" LONG_TEXT
        "<![CDATA[ a <b> ]> </body> ]] ]]]> <!-- a -> b </body> - c --> <?app x ? > y ?> "
        "</body><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' to='x@c.example' "
        "note='a>b' other=\"it's /> here\"><body>inner \xc3\xa9 \xe6\x97\xa5</body><message/>"
        "<message><message a='>'/></message></message></forwarded>"
        "<active xmlns='http://jabber.org/protocol/chatstates'/></message>", 0};
    segs[2] = (struct seg){0, 0,
        "<iq type='set' id='push1' to='v@b.example/r'><query xmlns='jabber:iq:roster' ver='v1'>"
        "<item jid='a@x.example' name='A &gt; B' subscription='both'><group>Friends</group></item>"
        "<item jid='b@x.example' subscription='to'/><item jid='c@x.example' name=\"q'uote\">"
        "<group>Work &amp; Play</group></item></query></iq>", 0};
    segs[3] = (struct seg){0, 0,
        "<message type='error' from='b.example' to='u@a.example/r' id='m2'><body>" LONG_TEXT "</body>"
        "<error type='cancel' by='b.example'><remote-server-not-found xmlns='" NS_STANZAS "'/>"
        "<text xmlns='" NS_STANZAS "'>no route</text></error></message>", 0};
    segs[4] = (struct seg){0, 0, "<presence from='u@a.example/r' to='v@b.example'><status>" LONG_TEXT
                                 "</status><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' ver='v'/>"
                                 "</presence>", 0};
    segs[5] = (struct seg){0, 0, "<message to='w@b.example'><body>" LONG_TEXT, 0};
    segs[6] = (struct seg){0, 0, LONG_TEXT "<x/><y>" LONG_TEXT "</y>", 0};
    segs[7] = (struct seg){0, 0, LONG_TEXT "</body></message>", 0};
    segs[8] = (struct seg){1, 0, "<stream:stream " NSDECL "id='s1' version='1.0'>"
                                 "<iq type='result' id='v1' to='u@a.example/r'><vCard xmlns='vcard-temp'><FN>"
                                 LONG_TEXT "</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>"
                                 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk</BINVAL></PHOTO>"
                                 "</vCard></iq>", 0};
    segs[9] = (struct seg){0, 0, "<message to='v@b.example'><body>x</bdy></message>", 0};
    expect_unread("unread", segs, 10, NULL, false,
                  "O:open(to=b.example,from=a.example,id=-,v=1.0,ns=jabber:server)#1 "
                  "O:message(chat,u@a.example/r>v@b.example,id=m1,child=urn:xmpp:forward:0|forwarded)#2 "
                  "O:iq(set,->v@b.example/r,id=push1,child=jabber:iq:roster|query)#3 "
                  "O:message(error,b.example>u@a.example/r,id=m2,err=cancel/remote-server-not-found,"
                  "text=no route)#4 "
                  "O:presence(available,u@a.example/r>v@b.example,child=jabber:server|status)#5 "
                  "O:message(-,->w@b.example)#8 "
                  "R:open(to=-,from=-,id=s1,v=1.0,ns=jabber:server)#9 "
                  "R:iq(result,->u@a.example/r,id=v1,child=vcard-temp|vCard)#9 "
                  "O:error(xml,mismatched tag@2335)#10");

    /* the depth cap holds inside unread content: same error, same offset */
    xmpp_config_default(&cfg);
    cfg.max_depth = 8;
    n = (size_t)snprintf(deep, sizeof(deep), "<message to='x'><body>%s", LONG_TEXT);
    for (i = 0; i < 8; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "<x%zu a='>'>", i);
    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL ">", 0};
    segs[1] = (struct seg){0, 0, deep, 0};
    segs[2] = (struct seg){1, 0, "<stream:stream " NSDECL "id='d'><presence/>", 0};
    expect_unread("unread-depth", segs, 3, &cfg, false,
                  "O:open(to=-,from=-,id=-,v=-,ns=jabber:server)#1 O:error(depth@295)#2 "
                  "R:open(to=-,from=-,id=d,v=-,ns=jabber:server)#3 R:presence(available,->-)#3");

    /* so does the size cap of a top-level element */
    xmpp_config_default(&cfg);
    cfg.max_stanza = 300;
    n = (size_t)snprintf(big, sizeof(big), "<message to='x'><body>");
    memset(big + n, 'A', 400);
    n += 400;
    snprintf(big + n, sizeof(big) - n, "</body></message>");
    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL ">", 0};
    segs[1] = (struct seg){0, 0, big, 0};
    segs[2] = (struct seg){1, 0, "<stream:stream " NSDECL "id='s'><presence/>", 0};
    expect_unread("unread-size", segs, 3, &cfg, false,
                  "O:open(to=-,from=-,id=-,v=-,ns=jabber:server)#1 O:error(stanza_size@86)#2 "
                  "R:open(to=-,from=-,id=s,v=-,ns=jabber:server)#3 R:presence(available,->-)#3");

    /* what is read is never bypassed: a captured body, stream errors, features */
    xmpp_config_default(&cfg);
    cfg.include_body = true;
    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL ">", 0};
    segs[1] = (struct seg){0, 0, "<message to='x'><body>" LONG_TEXT "</body></message>", 0};
    segs[2] = (struct seg){1, 0, "<stream:stream " NSDECL "id='e'><stream:features><starttls xmlns='"
                                 "urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><mechanisms xmlns='"
                                 "urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL</mechanism>"
                                 "<mechanism>SCRAM-SHA-1-PLUS-SOMETHING-LONG-ENOUGH-TO-BE-LONG</mechanism>"
                                 "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"
                                 "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
                                 LONG_TEXT "</host-unknown></stream:error>", 0};
    expect_unread("unread-read", segs, 3, &cfg, true,
                  "O:open(to=-,from=-,id=-,v=-,ns=jabber:server)#1 "
                  "O:message(-,->x,body=caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 & <3 "
                  "\xf0\x9f\x91\x8d \"quoted\" https://example.org/a?b=1&c=2 thanks for the build, it is green )#2 "
                  "R:open(to=-,from=-,id=e,v=-,ns=jabber:server)#3 "
                  "R:features(starttls-req,mechs=EXTERNAL SCRAM-SHA-1-PLUS-SOMETHING-LONG-ENOUGH-TO-BE-LONG PLAIN/3,"
                  "ext,other=0)#3 R:stream_error(host-unknown,host=caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
                  "\xf0\x9f\x98\x80 & <3 \xf0\x9f\x91\x8d \"quoted\" https://example.org/a?b=1&c=2 thanks for the build, it is "
                  "green )#3");
}

/* Malformed unread content: markup the scanner does not know is an XML
 * error after its '<' (as expat reports it); an error only a full parse sees
 * (here an undefined entity) is not reported inside unread content. */
static void test_unread_malformed(void)
{
    struct xmpp_config cfg;
    struct seg segs[3];

    xmpp_config_default(&cfg);
    segs[0] = (struct seg){0, 0, "<stream:stream " NSDECL ">", 0};
    segs[1] = (struct seg){0, 0, "<message to='x'><body>" LONG_TEXT "<1bad/></body></message><presence/>", 0};
    expect_cfg("unread-invalid-markup", segs, 2, &cfg, false,
               "O:open(to=-,from=-,id=-,v=-,ns=jabber:server)#1 "
               "O:error(xml,not well-formed (invalid token)@246)#2");
    cfg.parse_unread = true;
    expect_cfg("unread-invalid-markup-parsed", segs, 2, &cfg, false,
               "O:open(to=-,from=-,id=-,v=-,ns=jabber:server)#1 "
               "O:error(xml,not well-formed (invalid token)@246)#2");

    segs[1] = (struct seg){0, 0, "<message to='x'><body>" LONG_TEXT "&bogus;</body></message><presence/>", 0};
    cfg.parse_unread = false;
    expect_cfg("unread-entity", segs, 2, &cfg, false,
               "O:open(to=-,from=-,id=-,v=-,ns=jabber:server)#1 O:message(-,->x)#2 O:presence(available,->-)#2");
    cfg.parse_unread = true;
    expect_cfg("unread-entity-parsed", segs, 2, &cfg, false,
               "O:open(to=-,from=-,id=-,v=-,ns=jabber:server)#1 O:error(xml,undefined entity@245)#2");
}

int main(void)
{
    test_starttls_tls12();
    test_dialback_stanzas();
    test_dialback_verify_error();
    test_host_unknown();
    test_sasl_restart();
    test_restart_declaration();
    test_restart_xml_decl();
    test_midstream();
    test_midtag();
    test_midend();
    test_cleartext_after_proceed();
    test_direct_tls();
    test_hostile();
    test_truncation();
    test_text_cut_is_final();
    test_token_cap();
    test_state_budget();
    test_shrink_after_large_stanza();
    test_idle_parks_between_stanzas();
    test_unread_content();
    test_unread_malformed();
    if (!CHECK(g_lent > 10000))
        printf("  the pooled runs lent %llu parsers\n", (unsigned long long)g_lent);
    return check_summary("xmpp");
}
