/*
 * test_correlate.c - unit tests of the federation correlator from synthetic
 * facts (no packets): finished connections, XMPP events and DNS lookups
 * are built by small helpers and the verdicts of every direction are
 * asserted exactly (status, stage, code, confidence, evidence, timeline).
 *
 * Conventions: times are milliseconds after T0; 0 means "absent".  The
 * frames of connection N are N*1000 + 1 (SYN), 2 (SYN-ACK), 3 (RST),
 * 4/5 (FIN orig/resp), 6/7 (first data orig/resp); XMPP events carry the
 * frame given by the test (below 1000); DNS lookup N uses 900000 + N*10 + 1
 * (query) and + 2 (response).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "corr_util.h"
#include "corr_timeline.h"
#include "tests/check.h"

#define T0 INT64_C(1700000000000000000)
#define MS(x) (T0 + (int64_t)(x) * INT64_C(1000000))

#define DOM_A "a.example.test"
#define DOM_B "b.example.test"
#define DOM_C "c.example.test"
#define IP_A "198.51.100.1"
#define IP_B "198.51.100.2"
#define IP_C "198.51.100.9"
#define RESOLVER "198.51.100.53"

/* ---- builders ------------------------------------------------------------ */

static struct ft_addr ip(const char *s)
{
    struct ft_addr a;
    if (!ft_addr_parse(&a, s)) {
        fprintf(stderr, "bad address %s\n", s);
        abort();
    }
    return a;
}

/* "10.0.0.1:40001" or "[2001:db8::1]:40001" -> address and port. */
static void endpoint(const char *s, struct ft_addr *a, uint16_t *port)
{
    char buf[80];
    char *colon;
    snprintf(buf, sizeof(buf), "%s", s);
    colon = strrchr(buf, ':');
    if (!colon)
        abort();
    *colon = '\0';
    if (buf[0] == '[' && colon > buf + 1 && colon[-1] == ']') { /* "[2001:db8::1]:5269" */
        colon[-1] = '\0';
        *a = ip(buf + 1);
    } else {
        *a = ip(buf);
    }
    *port = (uint16_t)atoi(colon + 1);
}

/* flow_info of each connection id (ids < 64), filled by conn()/flow_reg(). */
static struct flow_info infos[64];

static const struct flow_info *flow_reg(uint64_t id, const char *orig, const char *resp, enum app_proto app)
{
    struct flow_info *fi = &infos[id];
    memset(fi, 0, sizeof(*fi));
    fi->flow_id = id;
    fi->proto = 6;
    endpoint(orig, &fi->addr[0], &fi->port[0]);
    endpoint(resp, &fi->addr[1], &fi->port[1]);
    fi->app = app;
    return fi;
}

static struct frame_ref fref(uint64_t frame, int64_t ms, uint32_t source)
{
    struct frame_ref r = { frame, frame, source, MS(ms) };
    return r;
}

/* One finished connection.  Times in ms after T0, 0 = absent. */
struct cs {
    uint64_t id;
    const char *orig, *resp;
    int syn, synack;        /* first SYN / SYN-ACK */
    int rst;                /* RST time */
    int rst_dir;            /* FT_DIR_ORIG / FT_DIR_RESP */
    int syns;               /* SYN count (default 1 when syn is set) */
    bool midstream;
    int end;                /* last packet (default: latest time given) */
    int fin0, fin1;         /* FIN from orig / resp */
    uint64_t gaps;          /* gaps in the orig direction */
    uint64_t badcsum;
    uint64_t bytes;         /* payload bytes each way (default 2000 when established) */
    uint32_t source;
    enum app_proto app;     /* default APP_XMPP when established, else APP_UNDECIDED */
    bool resp_only;         /* midstream: only the responder sent anything */
};

static void conn(struct correlator *c, struct cs s)
{
    static struct conn_record f;
    struct conn_record *t = &f;
    unsigned hl = 0;
    int last = s.end;
    memset(&f, 0, sizeof(f));
    f.phase = CONN_END;
    f.rtt_ns = -1;
    f.info = *flow_reg(s.id, s.orig, s.resp, s.app);
    f.source = s.source;
    if (s.syn) {
        t->syn = fref(s.id * 1000 + 1, s.syn, s.source);
        t->syn_count = (uint16_t)(s.syns ? s.syns : 1);
        t->syn_times_ns[0] = MS(s.syn);
        t->history[hl++] = 'S';
    }
    t->midstream = s.midstream;
    if (s.synack) {
        t->synack = fref(s.id * 1000 + 2, s.synack, s.source);
        t->synack_count = 1;
        t->history[hl++] = 'h';
    }
    if (s.rst) {
        t->rst = fref(s.id * 1000 + 3, s.rst, s.source);
        t->rst_dir = (uint8_t)s.rst_dir;
        t->closed = true;
        t->history[hl++] = s.rst_dir == FT_DIR_ORIG ? 'R' : 'r';
    }
    t->established = (s.synack && s.syn) || s.midstream;
    if (t->established) {
        uint64_t bytes = s.bytes ? s.bytes : 2000;
        int first = s.synack ? s.synack : s.end;
        for (int d = 0; d < 2; d++) {
            t->dir[d].packets = 10;
            t->dir[d].payload_bytes = bytes;
            t->dir[d].first_data = fref(s.id * 1000 + 6 + (uint64_t)d, first + 1, s.source);
        }
        if (s.resp_only) {
            t->dir[0].packets = 0;
            t->dir[0].payload_bytes = 0;
            memset(&t->dir[0].first_data, 0, sizeof(t->dir[0].first_data));
        }
        if (!s.app)
            f.info.app = APP_XMPP;
        t->history[hl++] = 'D';
        t->history[hl++] = 'd';
    } else {
        t->dir[0].packets = t->syn_count;
        t->dir[1].packets = s.rst && s.rst_dir == FT_DIR_RESP ? 1 : 0;
    }
    if (s.fin0) {
        t->dir[0].fin = fref(s.id * 1000 + 4, s.fin0, s.source);
        t->history[hl++] = 'F';
    }
    if (s.fin1) {
        t->dir[1].fin = fref(s.id * 1000 + 5, s.fin1, s.source);
        t->history[hl++] = 'f';
    }
    t->closed = t->closed || (s.fin0 && s.fin1);
    t->dir[0].gaps = s.gaps;
    t->dir[0].bad_checksums = s.badcsum;
    {
        int times[] = { s.syn, s.synack, s.rst, s.fin0, s.fin1 };
        int first = 0;
        for (unsigned i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
            if (times[i] > last)
                last = times[i];
            if (times[i] && (!first || times[i] < first))
                first = times[i];
        }
        f.first_ns = MS(first ? first : s.end);
        f.first_frame = s.id * 1000 + 1;
    }
    f.last_ns = MS(last);
    f.last_frame = s.id * 1000 + 9;
    corr_conn_end(c, &f);
}

/* Options of one XMPP event. */
struct xo {
    const char *from, *to, *id;
    const char *ns;                 /* OPEN: content namespace (default jabber:server) */
    bool no_db_ns;
    bool starttls, required, dialback, external;
    const char *mechanisms;
    enum xmpp_db_type db;
    const char *cond, *text;
    enum xmpp_stanza_kind kind;
    enum xmpp_presence_type pres;
    enum tls_event_type tls;        /* for XMPP_EV_TLS */
    const char *alert, *sni;
    uint32_t source;
    bool decrypted;                 /* read from inside TLS with a key log */
};

static const char *pres_str(enum xmpp_presence_type p)
{
    switch (p) {
    case XMPP_PRES_SUBSCRIBE:
        return "subscribe";
    case XMPP_PRES_SUBSCRIBED:
        return "subscribed";
    case XMPP_PRES_UNSUBSCRIBE:
        return "unsubscribe";
    case XMPP_PRES_UNSUBSCRIBED:
        return "unsubscribed";
    case XMPP_PRES_UNAVAILABLE:
        return "unavailable";
    case XMPP_PRES_PROBE:
        return "probe";
    case XMPP_PRES_ERROR:
        return "error";
    default:
        return NULL;
    }
}

static const char *db_str(enum xmpp_db_type t)
{
    switch (t) {
    case XMPP_DB_VALID:
        return "valid";
    case XMPP_DB_INVALID:
        return "invalid";
    case XMPP_DB_ERROR:
        return "error";
    default:
        return NULL;
    }
}

static void xev(struct correlator *c, uint64_t flow, int dir, enum xmpp_event_type type, int ms, uint64_t frame,
                struct xo o)
{
    struct xmpp_event ev;
    struct tls_event tls;
    memset(&ev, 0, sizeof(ev));
    memset(&tls, 0, sizeof(tls));
    ev.type = type;
    ev.dir = (uint8_t)dir;
    ev.meta.frame = frame;
    ev.meta.src_frame = frame;
    ev.meta.source = o.source;
    ev.meta.ts_ns = MS(ms);
    ev.meta.flow_id = flow;
    ev.meta.dir = (uint8_t)dir;
    ev.from = o.from;
    ev.to = o.to;
    ev.id = o.id;
    ev.condition = o.cond;
    ev.text = o.text;
    ev.decrypted = o.decrypted;
    switch (type) {
    case XMPP_EV_STREAM_OPEN:
        ev.version = "1.0";
        ev.stream_ns = "http://etherx.jabber.org/streams";
        ev.stream_ns_ok = true;
        ev.content_ns = o.ns ? o.ns : "jabber:server";
        ev.db_ns = !o.no_db_ns && strcmp(ev.content_ns, "jabber:server") == 0;
        break;
    case XMPP_EV_FEATURES:
        ev.starttls = o.starttls || o.required;
        ev.starttls_required = o.required;
        ev.dialback = o.dialback;
        ev.sasl_external = o.external;
        ev.mechanisms = o.mechanisms;
        break;
    case XMPP_EV_DB_RESULT:
    case XMPP_EV_DB_VERIFY:
        ev.db_type = o.db;
        ev.type_str = db_str(o.db);
        ev.db_key_len = o.db == XMPP_DB_NONE ? 64 : 0;
        if (o.db == XMPP_DB_ERROR)
            ev.error_type = "cancel";
        break;
    case XMPP_EV_STANZA:
        ev.stanza = o.kind;
        if (o.kind == XMPP_STANZA_PRESENCE) {
            ev.presence = o.pres;
            ev.type_str = pres_str(o.pres);
        } else if (o.cond) {
            ev.type_str = "error";
        }
        if (o.cond)
            ev.error_type = "cancel";
        ev.size = 120;
        break;
    case XMPP_EV_TLS:
        tls.type = o.tls;
        tls.meta = ev.meta;
        tls.dir = (uint8_t)dir;
        tls.sni = o.sni;
        if (o.tls == TLS_EV_ALERT) {
            tls.alert_level = 2;
            tls.alert_level_name = "fatal";
            tls.alert_desc_name = o.alert;
        }
        if (o.tls == TLS_EV_SERVER_HELLO)
            tls.version = 0x0303;
        ev.tls = &tls;
        break;
    default:
        break;
    }
    corr_xmpp_event(c, &infos[flow], &ev);
}

/* A DNS lookup.  Answers: "SRV target port" or "A owner address", NULL-terminated. */
static void lookup(struct correlator *c, uint64_t id, const char *client, const char *qname, uint16_t qtype,
                   enum dns_outcome outcome, int ms, ...)
{
    struct dns_lookup *lk = calloc(1, sizeof(*lk));
    char names[DNS_LOOKUP_MAX_ANS][2][128];
    va_list ap;
    const char *a;
    if (!lk)
        abort();
    lk->id = id;
    lk->client.addr = ip(client);
    lk->client.port = 53000;
    lk->server.addr = ip(RESOLVER);
    lk->server.port = 53;
    lk->transport = DNS_UDP;
    lk->txid = (uint16_t)id;
    lk->qname = qname;
    lk->qtype = qtype;
    lk->outcome = (uint8_t)outcome;
    lk->nqueries = 1;
    lk->query[0].frame = lk->query[0].src_frame = 900000 + id * 10 + 1;
    lk->query[0].ts_ns = MS(ms);
    if (outcome != DNS_OUT_UNANSWERED) {
        lk->has_response = true;
        lk->rcode = outcome == DNS_OUT_NXDOMAIN ? DNS_RCODE_NXDOMAIN
                    : outcome == DNS_OUT_SERVFAIL ? DNS_RCODE_SERVFAIL
                                                  : DNS_RCODE_NOERROR;
        lk->response.frame = lk->response.src_frame = 900000 + id * 10 + 2;
        lk->response.ts_ns = MS(ms + 5);
    }
    va_start(ap, ms);
    while ((a = va_arg(ap, const char *)) != NULL && lk->nans < DNS_LOOKUP_MAX_ANS) {
        struct dns_answer *an = &lk->ans[lk->nans];
        char kind[8], x[128], y[128];
        if (sscanf(a, "%7s %127s %127s", kind, x, y) != 3)
            abort();
        snprintf(names[lk->nans][0], sizeof(names[0][0]), "%s", x);
        snprintf(names[lk->nans][1], sizeof(names[0][1]), "%s", y);
        an->ttl = 300;
        an->section = DNS_SEC_ANSWER;
        if (strcmp(kind, "SRV") == 0) {
            an->type = DNS_T_SRV;
            an->name = qname;
            an->target = names[lk->nans][0];
            an->port = (uint16_t)atoi(y);
            an->priority = 0;
            an->weight = 5;
        } else {
            an->type = DNS_T_A;
            an->name = names[lk->nans][0];
            an->addr = ip(y);
        }
        lk->nans++;
    }
    va_end(ap);
    corr_dns_lookup(c, lk);
    free(lk);
}

/* ---- readers --------------------------------------------------------------- */

static struct correlator *mk(const char *local, const char *server)
{
    struct corr_config cfg;
    struct correlator *c;
    corr_config_default(&cfg);
    if (local) {
        cfg.local_domains[0] = local;
        cfg.n_local_domains = 1;
    }
    if (server) {
        cfg.local_servers[0] = ip(server);
        cfg.n_local_servers = 1;
    }
    c = corr_new(&cfg);
    if (!c)
        abort();
    memset(infos, 0, sizeof(infos));
    return c;
}

static const struct corr_federation *fed(const struct correlator *c, const char *x, const char *y)
{
    for (unsigned i = 0; i < corr_federation_count(c); i++) {
        const struct corr_federation *f = corr_federation_at(c, i);
        if ((strcmp(f->domains[0], x) == 0 && strcmp(f->domains[1], y) == 0) ||
            (strcmp(f->domains[0], y) == 0 && strcmp(f->domains[1], x) == 0))
            return f;
    }
    return NULL;
}

static const struct corr_direction *dirn(const struct correlator *c, const char *from, const char *to)
{
    const struct corr_federation *f = fed(c, from, to);
    if (!f)
        return NULL;
    for (unsigned i = 0; i < f->n_dir; i++)
        if (strcmp(f->dir[i].from, from) == 0 && strcmp(f->dir[i].to, to) == 0)
            return &f->dir[i];
    return NULL;
}

static bool code_is(const struct corr_direction *d, enum verdict_code code)
{
    return d && d->verdict.code == code;
}

/* The code's name, or "-" when there is none. */
static const char *code_name(enum verdict_code c)
{
    return c ? verdict_code_name(c) : "-";
}

static bool conf_is(const struct corr_direction *d, const char *conf)
{
    return d && d->verdict.confidence && strcmp(d->verdict.confidence, conf) == 0;
}

static bool has_evidence(const struct corr_direction *d, uint64_t frame)
{
    if (!d)
        return false;
    for (unsigned i = 0; i < d->verdict.n_evidence; i++)
        if (d->verdict.evidence_refs[i].frame == frame)
            return true;
    return false;
}

static bool has_flow(const struct corr_direction *d, uint64_t flow)
{
    if (!d)
        return false;
    for (unsigned i = 0; i < d->verdict.n_flows; i++)
        if (d->verdict.evidence_flows[i] == flow)
            return true;
    return false;
}

/* The timeline line of (frame, flow), or NULL. */
static const struct corr_tl *tl_at(const struct corr_direction *d, uint64_t frame, uint64_t flow)
{
    if (!d)
        return NULL;
    for (unsigned i = 0; i < d->n_timeline; i++)
        if (d->timeline[i].ref.frame == frame && d->timeline[i].flow_id == flow)
            return &d->timeline[i];
    return NULL;
}

static bool tl_has(const struct corr_direction *d, uint64_t frame, uint64_t flow, const char *text)
{
    const struct corr_tl *t = tl_at(d, frame, flow);
    return t && strstr(t->what, text) != NULL;
}

static bool has_note(const struct corr_direction *d, const char *text)
{
    if (!d)
        return false;
    for (unsigned i = 0; i < d->verdict.n_notes; i++)
        if (strstr(d->verdict.notes[i], text))
            return true;
    return false;
}

static unsigned count_notes(const struct corr_direction *d, const char *text)
{
    unsigned n = 0;
    for (unsigned i = 0; d && i < d->verdict.n_notes; i++)
        if (strstr(d->verdict.notes[i], text))
            n++;
    return n;
}

static bool summary_has(const struct corr_direction *d, const char *text)
{
    return d && strstr(d->verdict.summary, text) != NULL;
}

/* Timeline sorted by time, then frame. */
static bool tl_sorted(const struct corr_direction *d)
{
    for (unsigned i = 1; d && i < d->n_timeline; i++) {
        const struct corr_tl *p = &d->timeline[i - 1], *q = &d->timeline[i];
        if (p->ref.ts_ns > q->ref.ts_ns || (p->ref.ts_ns == q->ref.ts_ns && p->ref.frame > q->ref.frame))
            return false;
    }
    return d != NULL;
}

static void dump(const struct correlator *c, const char *title)
{
    if (!getenv("CORR_DUMP"))
        return;
    printf("== %s: %u federations\n", title, corr_federation_count(c));
    for (unsigned i = 0; i < corr_federation_count(c); i++) {
        const struct corr_federation *f = corr_federation_at(c, i);
        printf(" %s %s <-> %s local=%s inferred=%d (%s)\n", f->id, f->domains[0], f->domains[1],
               f->local ? f->local : "-", f->roles_inferred, f->role_reason);
        for (unsigned j = 0; j < f->n_dir; j++) {
            const struct corr_direction *d = &f->dir[j];
            printf("  %s -> %s: %s stage=%s code=%s conf=%s\n   %s\n", d->from, d->to,
                   corr_status_name(d->verdict.status), fed_stage_name(d->verdict.stage),
                   code_name(d->verdict.code), d->verdict.confidence ? d->verdict.confidence : "-",
                   d->verdict.summary);
            for (unsigned n = 0; n < d->verdict.n_notes; n++)
                printf("   note: %s\n", d->verdict.notes[n]);
            printf("   evidence:");
            for (unsigned n = 0; n < d->verdict.n_evidence; n++)
                printf(" %llu", (unsigned long long)d->verdict.evidence_refs[n].frame);
            printf("\n");
            for (unsigned n = 0; n < d->n_timeline; n++)
                printf("   %c %7llu f%llu %s\n", d->timeline[n].failing ? '*' : ' ',
                       (unsigned long long)d->timeline[n].ref.frame, (unsigned long long)d->timeline[n].flow_id,
                       d->timeline[n].what);
        }
    }
}

/* ---- common pieces ----------------------------------------------------------- */

/* a's DNS for b: SRV answered, A of the target answered. */
static void dns_b_ok(struct correlator *c, int ms, const char *b_addr)
{
    lookup(c, 1, IP_A, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, DNS_OUT_ANSWERED, ms, "SRV xmpp." DOM_B " 5269",
           NULL);
    {
        char a[80];
        snprintf(a, sizeof(a), "A xmpp.%s %s", DOM_B, b_addr);
        lookup(c, 2, IP_A, "xmpp." DOM_B, DNS_T_A, DNS_OUT_ANSWERED, ms + 10, a, NULL);
    }
}

/* Stream headers of an s2s connection: orig from->to, resp to->from with id sid.
 * Frames fr, fr+1, features fr+2. */
static void s2s_open(struct correlator *c, uint64_t flow, const char *from, const char *to, const char *sid, int ms,
                     uint64_t fr)
{
    xev(c, flow, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, ms, fr, (struct xo){ .from = from, .to = to });
    xev(c, flow, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, ms + 1, fr + 1, (struct xo){ .from = to, .to = from, .id = sid });
    xev(c, flow, FT_DIR_RESP, XMPP_EV_FEATURES, ms + 2, fr + 2, (struct xo){ .dialback = true });
}

static void presence(struct correlator *c, uint64_t flow, int dir, int ms, uint64_t fr, enum xmpp_presence_type p,
                     const char *from, const char *to, const char *cond)
{
    xev(c, flow, dir, XMPP_EV_STANZA, ms, fr,
        (struct xo){ .kind = XMPP_STANZA_PRESENCE, .pres = p, .from = from, .to = to, .cond = cond });
}

/* The whole Prosody-style federation of scenario 1, with knobs. */
struct fedopt {
    uint64_t c1_gaps, c1_badcsum;
    bool no_subscribe;
};

static void prosody_federation(struct correlator *c, struct fedopt o)
{
    dns_b_ok(c, 50, IP_B);
    /* C1: a -> b */
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .end = 5000,
                         .gaps = o.c1_gaps, .badcsum = o.c1_badcsum });
    /* C2: b -> a */
    conn(c, (struct cs){ .id = 2, .orig = IP_B ":50001", .resp = IP_A ":5269", .syn = 110, .synack = 111, .end = 5000 });
    s2s_open(c, 1, DOM_A, DOM_B, "S1", 102, 10);
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 105, 13, (struct xo){ .from = DOM_A, .to = DOM_B });
    s2s_open(c, 2, DOM_B, DOM_A, "S2", 112, 20);
    /* b verifies a's key on its own outgoing connection C2 */
    xev(c, 2, FT_DIR_ORIG, XMPP_EV_DB_VERIFY, 115, 23, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "S1" });
    xev(c, 2, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 116, 24, (struct xo){ .from = DOM_B, .to = DOM_A });
    xev(c, 2, FT_DIR_RESP, XMPP_EV_DB_VERIFY, 117, 25,
        (struct xo){ .from = DOM_A, .to = DOM_B, .id = "S1", .db = XMPP_DB_VALID });
    /* a verifies b's key on C1 */
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_DB_VERIFY, 118, 16, (struct xo){ .from = DOM_A, .to = DOM_B, .id = "S2" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_DB_VERIFY, 119, 17,
        (struct xo){ .from = DOM_B, .to = DOM_A, .id = "S2", .db = XMPP_DB_VALID });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 120, 14, (struct xo){ .from = DOM_B, .to = DOM_A, .db = XMPP_DB_VALID });
    xev(c, 2, FT_DIR_RESP, XMPP_EV_DB_RESULT, 121, 26, (struct xo){ .from = DOM_A, .to = DOM_B, .db = XMPP_DB_VALID });
    if (!o.no_subscribe) {
        presence(c, 1, FT_DIR_ORIG, 130, 15, XMPP_PRES_SUBSCRIBE, "alice@" DOM_A, "bob@" DOM_B, NULL);
        presence(c, 2, FT_DIR_ORIG, 140, 27, XMPP_PRES_SUBSCRIBED, "bob@" DOM_B, "alice@" DOM_A, NULL);
    }
}

/* C1 a -> b with headers and a db:result (frames 10..13), the answer to come. */
static void c1_dbresult(struct correlator *c, int end_ms)
{
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101,
                         .end = end_ms });
    s2s_open(c, 1, DOM_A, DOM_B, "S1", 102, 10);
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 105, 13, (struct xo){ .from = DOM_A, .to = DOM_B });
}

/* ---- 1. working federation ---------------------------------------------------- */

static void test_working(void)
{
    struct correlator *c = mk(NULL, NULL);
    const struct corr_direction *ab, *ba;
    const struct corr_federation *f;
    prosody_federation(c, (struct fedopt){ 0 });
    corr_finish(c);
    dump(c, "working");
    CHECK(corr_federation_count(c) == 1);
    f = fed(c, DOM_A, DOM_B);
    CHECK(f != NULL);
    CHECK(f && f->n_dir == 2);
    CHECK(f && strcmp(f->domains[0], DOM_A) == 0 && strcmp(f->domains[1], DOM_B) == 0);
    CHECK(f && f->id[0] == 'F' && strlen(f->id) == 9);
    CHECK(f && f->verdict->status == CORR_OK);
    ab = dirn(c, DOM_A, DOM_B);
    ba = dirn(c, DOM_B, DOM_A);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(code_is(ab, VERDICT_OK));
    CHECK(conf_is(ab, "high"));
    CHECK(ab && ab->verdict.stage == STAGE_SUBSCRIBE);
    CHECK(ab && ab->stages[STAGE_LOOKUP] == STAGE_OK);
    CHECK(ab && ab->stages[STAGE_CONNECT] == STAGE_OK);
    CHECK(ab && ab->stages[STAGE_STREAM] == STAGE_OK);
    CHECK(ab && ab->stages[STAGE_TLS] == STAGE_SKIPPED);
    CHECK(ab && ab->stages[STAGE_AUTH] == STAGE_OK);
    CHECK(ab && ab->stages[STAGE_SUBSCRIBE] == STAGE_OK);
    /* the verify of a's key travelled on C2 and is linked */
    CHECK(tl_has(ab, 23, 2, "db:verify"));
    CHECK(tl_has(ab, 25, 2, "valid"));
    CHECK(tl_has(ab, 13, 1, "db:result"));
    CHECK(tl_has(ab, 15, 1, "subscribe"));
    CHECK(tl_has(ab, 27, 2, "subscribed"));
    CHECK(tl_has(ab, 1001, 1, "SYN"));
    CHECK(tl_at(ab, 900012, 0) != NULL); /* the SRV answer */
    CHECK(ab && strstr(ab->stage_detail[STAGE_AUTH], IP_A ":5269") != NULL); /* verified via a's server */
    CHECK(tl_sorted(ab));
    CHECK(has_flow(ab, 1));
    CHECK(ab && ab->verdict.n_notes == 0);
    CHECK(ba && ba->verdict.status == CORR_OK);
    CHECK(code_is(ba, VERDICT_OK));
    CHECK(conf_is(ba, "high"));
    CHECK(ba && ba->verdict.stage == STAGE_AUTH);
    CHECK(ba && ba->stages[STAGE_AUTH] == STAGE_OK);
    CHECK(ba && ba->stages[STAGE_LOOKUP] == STAGE_NOT_SEEN);
    CHECK(has_note(ba, "DNS-NO-QUERY"));
    CHECK(tl_has(ba, 16, 1, "db:verify")); /* b's key verified on C1 */
    CHECK(has_flow(ba, 2));
    CHECK(ab && ab->verdict.vars.from && strcmp(ab->verdict.vars.from, DOM_A) == 0);
    {
        const struct corr_stats *st = corr_stats(c);
        CHECK(st->conns == 2 && st->s2s_conns == 2 && st->c2s_conns == 0);
        CHECK(st->lookups == 2 && st->nat_pairs == 0 && st->federations == 1);
        CHECK(st->events_dropped == 0 && st->conns_dropped == 0);
    }
    corr_free(c);
}

/* ---- 2. ordering rule ------------------------------------------------------------ */

static void test_ordering(void)
{
    struct correlator *c = mk(NULL, NULL);
    const struct corr_direction *ab;
    /* b -> a works and tells who is who */
    conn(c, (struct cs){ .id = 5, .orig = IP_B ":50001", .resp = IP_A ":5269", .syn = 10, .synack = 11, .end = 9000 });
    s2s_open(c, 5, DOM_B, DOM_A, "S5", 12, 50);
    /* a -> b: SRV NXDOMAIN, A NXDOMAIN, then a connection that is reset */
    lookup(c, 1, IP_A, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, DNS_OUT_NXDOMAIN, 1000, NULL);
    lookup(c, 2, IP_A, DOM_B, DNS_T_A, DNS_OUT_NXDOMAIN, 1010, NULL);
    conn(c, (struct cs){ .id = 6, .orig = IP_A ":40006", .resp = IP_B ":5269", .syn = 2000, .rst = 2001,
                         .rst_dir = FT_DIR_RESP });
    corr_finish(c);
    dump(c, "ordering");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_DNS_SRV_NXDOMAIN));
    CHECK(ab && ab->verdict.stage == STAGE_LOOKUP);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 900012));
    CHECK(has_evidence(ab, 900022)); /* the failed fallback too */
    CHECK(ab && ab->verdict.n_dns == 2);
    CHECK(summary_has(ab, "fallback failed"));
    CHECK(ab && ab->verdict.vars.qname && strcmp(ab->verdict.vars.qname, "_xmpp-server._tcp." DOM_B) == 0);
    CHECK(ab && ab->stages[STAGE_CONNECT] == STAGE_NOT_SEEN); /* not judged after the failure */
    CHECK(tl_has(ab, 6003, 6, "RST")); /* the later RST is still on the timeline */
    CHECK(ab && ab->timeline[0].ref.frame == 900011);
    {
        const struct corr_tl *t = tl_at(ab, 900012, 0);
        CHECK(t && t->failing);
    }
    corr_free(c);

    /* NXDOMAIN SRV, A fallback answered, connection works: not a failure */
    c = mk(NULL, NULL);
    lookup(c, 1, IP_A, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, DNS_OUT_NXDOMAIN, 50, NULL);
    lookup(c, 2, IP_A, DOM_B, DNS_T_A, DNS_OUT_ANSWERED, 60, "A " DOM_B " " IP_B, NULL);
    c1_dbresult(c, 5000);
    xev(c, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 120, 14, (struct xo){ .from = DOM_B, .to = DOM_A, .db = XMPP_DB_VALID });
    corr_finish(c);
    dump(c, "fallback");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(corr_federation_count(c) == 1);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(code_is(ab, VERDICT_OK));
    CHECK(conf_is(ab, "high"));
    CHECK(ab && ab->stages[STAGE_LOOKUP] == STAGE_OK);
    CHECK(has_note(ab, "fallback"));
    CHECK(has_note(ab, "nxdomain"));
    /* without a stream-level db:verify, that is noted */
    CHECK(has_note(ab, "no db:verify seen"));
    corr_free(c);
}

/* A hosting server several domains' SRV name: an address lookup of it
 * belongs to the domain whose SRV named it last before it, from the same
 * asker when there is one (not to the first domain that named it). */
static void test_shared_target(void)
{
    struct correlator *c = mk(NULL, NULL);
    const struct corr_direction *ab;
    lookup(c, 1, IP_A, "_xmpp-server._tcp.other.example", DNS_T_SRV, DNS_OUT_ANSWERED, 10,
           "SRV s2s1.hosting.test 5269", NULL);
    lookup(c, 2, IP_A, "s2s1.hosting.test", DNS_T_A, DNS_OUT_ANSWERED, 20, "A s2s1.hosting.test " IP_B, NULL);
    lookup(c, 3, IP_A, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, DNS_OUT_ANSWERED, 40, "SRV s2s1.hosting.test 5269",
           NULL);
    lookup(c, 4, IP_A, "s2s1.hosting.test", DNS_T_A, DNS_OUT_ANSWERED, 50, "A s2s1.hosting.test " IP_B, NULL);
    lookup(c, 5, "198.51.100.9", "_xmpp-server._tcp.other.example", DNS_T_SRV, DNS_OUT_ANSWERED, 60,
           "SRV s2s1.hosting.test 5269", NULL);
    lookup(c, 6, IP_A, "s2s1.hosting.test", DNS_T_A, DNS_OUT_ANSWERED, 70, "A s2s1.hosting.test " IP_B, NULL);
    c1_dbresult(c, 5000);
    xev(c, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 120, 14, (struct xo){ .from = DOM_B, .to = DOM_A, .db = XMPP_DB_VALID });
    corr_finish(c);
    dump(c, "shared-target");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(tl_at(ab, 900031, 0) != NULL);  /* its SRV */
    CHECK(tl_at(ab, 900042, 0) != NULL);  /* the address lookup after it */
    CHECK(tl_at(ab, 900062, 0) != NULL);  /* the same asker's, after another asker named the host */
    CHECK(tl_at(ab, 900022, 0) == NULL);  /* the one other.example's SRV led to */
    CHECK(tl_at(ab, 900052, 0) == NULL);  /* other.example's SRV, from elsewhere */
    corr_free(c);
}

/* ---- 3. TCP ---------------------------------------------------------------------- */

static void test_tcp(void)
{
    struct correlator *c = mk(DOM_A, IP_A);
    const struct corr_direction *ab;
    dns_b_ok(c, 50, IP_B);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .syns = 4, .end = 15100 });
    corr_finish(c);
    dump(c, "no-synack");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(corr_federation_count(c) == 1);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_TCP_NO_SYNACK));
    CHECK(ab && ab->verdict.stage == STAGE_CONNECT);
    CHECK(conf_is(ab, "medium"));
    CHECK(has_evidence(ab, 1001));
    CHECK(has_flow(ab, 1));
    CHECK(ab && ab->verdict.vars.n && strcmp(ab->verdict.vars.n, "4") == 0);
    CHECK(ab && ab->verdict.vars.ip && strcmp(ab->verdict.vars.ip, IP_B) == 0);
    CHECK(ab && ab->verdict.vars.port && strcmp(ab->verdict.vars.port, "5269") == 0);
    CHECK(tl_has(ab, 1001, 1, "4 SYNs"));
    CHECK(ab && ab->stages[STAGE_LOOKUP] == STAGE_OK);
    CHECK(ab && ab->stages[STAGE_STREAM] == STAGE_NOT_SEEN);
    corr_free(c);

    c = mk(DOM_A, IP_A);
    dns_b_ok(c, 50, IP_B);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .rst = 101,
                         .rst_dir = FT_DIR_RESP });
    corr_finish(c);
    dump(c, "rst");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_TCP_RST));
    CHECK(ab && ab->verdict.stage == STAGE_CONNECT);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 1001));
    CHECK(has_evidence(ab, 1003));
    CHECK(tl_has(ab, 1003, 1, "RST from " IP_B ":5269"));
    {
        const struct corr_tl *t = tl_at(ab, 1001, 1);
        CHECK(t && t->failing);
    }
    corr_free(c);

    /* SRV -> target with a private address; SYNs to it unanswered */
    c = mk(DOM_A, IP_A);
    dns_b_ok(c, 50, "10.1.2.3");
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = "10.1.2.3:5269", .syn = 100, .syns = 3, .end = 7100 });
    corr_finish(c);
    dump(c, "private");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(corr_federation_count(c) == 1);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_DNS_PRIVATE_ADDR));
    CHECK(ab && ab->verdict.stage == STAGE_LOOKUP);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 900022));
    CHECK(ab && ab->verdict.vars.private_ip && strcmp(ab->verdict.vars.private_ip, "10.1.2.3") == 0);
    CHECK(summary_has(ab, "10.1.2.3"));
    CHECK(tl_has(ab, 1001, 1, "SYN"));
    corr_free(c);
}

/* ---- 4. stream ------------------------------------------------------------------- */

static void test_stream(void)
{
    struct correlator *c = mk(NULL, NULL);
    const struct corr_direction *ab;
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .fin1 = 106,
                         .fin0 = 107 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11, (struct xo){ .to = DOM_A, .id = "E1" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_ERROR, 104, 12, (struct xo){ .cond = "host-unknown" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_CLOSE, 105, 13, (struct xo){ 0 });
    corr_finish(c);
    dump(c, "host-unknown");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(corr_federation_count(c) == 1);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_STR_HOST_UNKNOWN));
    CHECK(ab && ab->verdict.stage == STAGE_STREAM);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 12));
    CHECK(ab && ab->verdict.vars.condition && strcmp(ab->verdict.vars.condition, "host-unknown") == 0);
    CHECK(summary_has(ab, DOM_B " sent stream error <host-unknown/>"));
    CHECK(tl_has(ab, 12, 1, "host-unknown"));
    corr_free(c);

    /* a jabber:client header on the s2s port, refused with invalid-namespace */
    c = mk(NULL, NULL);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .fin1 = 106 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B, .ns = "jabber:client" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "N1" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_ERROR, 104, 12, (struct xo){ .cond = "invalid-namespace" });
    corr_finish(c);
    dump(c, "str-ns");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(corr_federation_count(c) == 1);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_STR_NS));
    CHECK(ab && ab->verdict.stage == STAGE_STREAM);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 10));
    corr_free(c);

    /* the other mix-up (taxonomy STR-NS): a's server dials b's c2s port 5222
     * (SRV port wrong) with jabber:server; the c2s listener answers with a
     * jabber:client header and invalid-namespace */
    c = mk(NULL, NULL);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5222", .syn = 100, .synack = 101, .fin1 = 106 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11,
        (struct xo){ .from = DOM_B, .to = DOM_A, .id = "N1", .ns = "jabber:client" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_ERROR, 104, 12, (struct xo){ .cond = "invalid-namespace" });
    corr_finish(c);
    dump(c, "str-ns-c2s-port");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(corr_stats(c)->s2s_conns == 1);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(ab && ab->verdict.stage == STAGE_STREAM);
    CHECK(code_is(ab, VERDICT_STR_NS));
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 12));
    corr_free(c);
}

/* ---- 5. TLS ---------------------------------------------------------------------- */

static void tls_ev(struct correlator *c, uint64_t flow, int dir, int ms, uint64_t fr, enum tls_event_type t,
                   const char *alert)
{
    xev(c, flow, dir, XMPP_EV_TLS, ms, fr, (struct xo){ .tls = t, .alert = alert, .sni = DOM_B });
}

static void test_tls(void)
{
    struct correlator *c = mk(NULL, NULL);
    const struct corr_direction *ab;

    /* required, never started, and the receiving side says so */
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .fin1 = 108 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "T1" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_FEATURES, 104, 12, (struct xo){ .required = true, .dialback = true });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 105, 13, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_ERROR, 106, 14, (struct xo){ .cond = "policy-violation" });
    corr_finish(c);
    dump(c, "tls-required");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_TLS_REQUIRED_MISSING));
    CHECK(ab && ab->verdict.stage == STAGE_TLS);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 12));
    CHECK(has_evidence(ab, 14));
    CHECK(tl_has(ab, 12, 1, "starttls(required)"));
    corr_free(c);

    /* required, never started, no error seen: inferred */
    c = mk(NULL, NULL);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .end = 3000 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "T1" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_FEATURES, 104, 12, (struct xo){ .required = true });
    corr_finish(c);
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(code_is(ab, VERDICT_TLS_REQUIRED_MISSING));
    CHECK(conf_is(ab, "medium"));
    corr_free(c);

    /* STARTTLS, proceed, ClientHello, alert unknown_ca from the receiving side */
    c = mk(NULL, NULL);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .fin0 = 112,
                         .fin1 = 113 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "T2" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_FEATURES, 104, 12, (struct xo){ .starttls = true, .dialback = true });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STARTTLS, 105, 13, (struct xo){ 0 });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_PROCEED, 106, 14, (struct xo){ 0 });
    tls_ev(c, 1, FT_DIR_ORIG, 107, 15, TLS_EV_CLIENT_HELLO, NULL);
    tls_ev(c, 1, FT_DIR_RESP, 108, 16, TLS_EV_SERVER_HELLO, NULL);
    tls_ev(c, 1, FT_DIR_ORIG, 110, 17, TLS_EV_ALERT, "unknown_ca");
    corr_finish(c);
    dump(c, "tls-alert");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_TLS_ALERT));
    CHECK(ab && ab->verdict.stage == STAGE_TLS);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 17));
    CHECK(ab && ab->verdict.vars.alert && strcmp(ab->verdict.vars.alert, "unknown_ca") == 0);
    CHECK(summary_has(ab, DOM_A " sent TLS alert unknown_ca"));
    CHECK(tl_has(ab, 15, 1, "ClientHello SNI=" DOM_B));
    CHECK(ab && ab->stages[STAGE_STREAM] == STAGE_OK);
    corr_free(c);

    /* TLS done, closed 50 ms later */
    c = mk(NULL, NULL);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .fin1 = 160,
                         .fin0 = 161, .bytes = 3000 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "T3" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_FEATURES, 104, 12, (struct xo){ .required = true });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STARTTLS, 105, 13, (struct xo){ 0 });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_PROCEED, 106, 14, (struct xo){ 0 });
    tls_ev(c, 1, FT_DIR_ORIG, 107, 15, TLS_EV_CLIENT_HELLO, NULL);
    tls_ev(c, 1, FT_DIR_RESP, 108, 16, TLS_EV_SERVER_HELLO, NULL);
    tls_ev(c, 1, FT_DIR_RESP, 110, 17, TLS_EV_HANDSHAKE_DONE, NULL);
    corr_finish(c);
    dump(c, "tls-closed");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_TLS_CLOSED_AFTER_HANDSHAKE));
    CHECK(ab && ab->verdict.stage == STAGE_TLS);
    CHECK(conf_is(ab, "low"));
    CHECK(has_evidence(ab, 17));
    CHECK(has_evidence(ab, 1005));
    CHECK(has_note(ab, "CAP-ENCRYPTED"));
    corr_free(c);

    /* b closes 50 ms after the handshake, a only 1.5 s later: the first close counts */
    c = mk(NULL, NULL);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .fin1 = 160,
                         .fin0 = 1610, .bytes = 3000 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "T3" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_FEATURES, 104, 12, (struct xo){ .required = true });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STARTTLS, 105, 13, (struct xo){ 0 });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_PROCEED, 106, 14, (struct xo){ 0 });
    tls_ev(c, 1, FT_DIR_ORIG, 107, 15, TLS_EV_CLIENT_HELLO, NULL);
    tls_ev(c, 1, FT_DIR_RESP, 110, 17, TLS_EV_HANDSHAKE_DONE, NULL);
    corr_finish(c);
    dump(c, "tls-closed-late-fin");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(code_is(ab, VERDICT_TLS_CLOSED_AFTER_HANDSHAKE));
    CHECK(conf_is(ab, "low"));
    CHECK(has_evidence(ab, 1005));
    corr_free(c);

    /* TLS done and the connection stays up: ok with low confidence */
    c = mk(NULL, NULL);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .end = 60000,
                         .bytes = 50000 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "T4" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_FEATURES, 104, 12, (struct xo){ .required = true });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STARTTLS, 105, 13, (struct xo){ 0 });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_PROCEED, 106, 14, (struct xo){ 0 });
    tls_ev(c, 1, FT_DIR_ORIG, 107, 15, TLS_EV_CLIENT_HELLO, NULL);
    tls_ev(c, 1, FT_DIR_RESP, 108, 16, TLS_EV_HANDSHAKE_ENCRYPTED, NULL);
    corr_finish(c);
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(conf_is(ab, "low"));
    CHECK(ab && ab->stages[STAGE_AUTH] == STAGE_OPAQUE);
    CHECK(ab && ab->verdict.stage == STAGE_TLS);
    corr_free(c);
}

/* One encrypted record of `len` bytes (TLS 1.3 application data). */
static void rec_ev(struct correlator *c, uint64_t flow, int dir, int ms, uint64_t fr, unsigned len)
{
    struct xmpp_event ev;
    struct tls_event tls;
    memset(&ev, 0, sizeof(ev));
    memset(&tls, 0, sizeof(tls));
    ev.type = XMPP_EV_TLS;
    ev.dir = (uint8_t)dir;
    ev.meta.frame = ev.meta.src_frame = fr;
    ev.meta.ts_ns = MS(ms);
    ev.meta.flow_id = flow;
    ev.meta.dir = (uint8_t)dir;
    tls.type = TLS_EV_RECORD;
    tls.meta = ev.meta;
    tls.dir = (uint8_t)dir;
    tls.record_type = 23;
    tls.record_len = (uint16_t)len;
    ev.tls = &tls;
    corr_xmpp_event(c, &infos[flow], &ev);
}

/* STARTTLS up to a TLS 1.3 handshake (AES-128-GCM: 53-byte Finished), then
 * the records given as "dir:len" pairs (0 initiator, 1 receiver). */
static struct correlator *tls13_conn(struct cs tcp, const int (*recs)[2], unsigned n)
{
    struct correlator *c = mk(NULL, NULL);
    struct xmpp_event ev;
    struct tls_event tls;
    conn(c, tcp);
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "R1" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_FEATURES, 104, 12, (struct xo){ .required = true });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STARTTLS, 105, 13, (struct xo){ 0 });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_PROCEED, 106, 14, (struct xo){ 0 });
    tls_ev(c, 1, FT_DIR_ORIG, 107, 15, TLS_EV_CLIENT_HELLO, NULL);
    memset(&ev, 0, sizeof(ev));
    memset(&tls, 0, sizeof(tls));
    ev.type = XMPP_EV_TLS;
    ev.dir = FT_DIR_RESP;
    ev.meta.frame = ev.meta.src_frame = 16;
    ev.meta.ts_ns = MS(108);
    ev.meta.flow_id = 1;
    ev.meta.dir = FT_DIR_RESP;
    tls.type = TLS_EV_SERVER_HELLO;
    tls.dir = FT_DIR_RESP;
    tls.version = 0x0304;
    tls.cipher = 0x1301;
    ev.tls = &tls;
    corr_xmpp_event(c, &infos[1], &ev);
    tls_ev(c, 1, FT_DIR_RESP, 108, 16, TLS_EV_HANDSHAKE_ENCRYPTED, NULL);
    /* the handshakes: server EE/Cert/CV/Finished, client Cert/CV/Finished */
    rec_ev(c, 1, FT_DIR_RESP, 108, 16, 23);
    rec_ev(c, 1, FT_DIR_RESP, 108, 16, 902);
    rec_ev(c, 1, FT_DIR_RESP, 108, 16, 53);
    rec_ev(c, 1, FT_DIR_ORIG, 109, 17, 902);
    rec_ev(c, 1, FT_DIR_ORIG, 109, 17, 53);
    for (unsigned i = 0; i < n; i++)
        rec_ev(c, 1, recs[i][0], 110 + (int)i, 18 + i, (unsigned)recs[i][1]);
    corr_finish(c);
    return c;
}

/* Encrypted s2s judged from its record sizes. */
static void test_tls_records(void)
{
    /* tickets, header, features, auth, <success/> (51+17), restart (= header), features, a stanza */
    static const int sasl_ok[][2] = { { 1, 74 }, { 0, 233 }, { 1, 74 }, { 1, 447 }, { 0, 112 },
                                      { 1, 68 }, { 0, 233 }, { 1, 467 }, { 0, 149 } };
    /* the receiver answers the header with one record, then close_notify, FIN */
    static const int reject[][2] = { { 1, 74 }, { 1, 74 }, { 0, 233 }, { 1, 477 }, { 1, 19 } };
    /* XMPP both ways, no restart (dialback inside TLS), the stream stays up */
    static const int both[][2] = { { 1, 250 }, { 1, 250 }, { 0, 233 }, { 1, 447 }, { 0, 180 },
                                   { 1, 190 }, { 0, 149 }, { 0, 400 } };
    struct correlator *c;
    const struct corr_direction *ab;

    c = tls13_conn((struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101,
                                .end = 3000, .bytes = 5000 },
                   sasl_ok, sizeof(sasl_ok) / sizeof(sasl_ok[0]));
    dump(c, "tls-records-sasl");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(ab && ab->verdict.inferred && ab->verdict.rule && strcmp(ab->verdict.rule, "tls-sasl-restart") == 0);
    CHECK(ab && ab->stages[STAGE_AUTH] == STAGE_OK);
    CHECK(ab && ab->verdict.stage == STAGE_TLS);
    CHECK(conf_is(ab, "medium"));
    CHECK(has_evidence(ab, 24)); /* the restart */
    corr_free(c);

    c = tls13_conn((struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101,
                                .fin1 = 120, .fin0 = 121, .bytes = 3000 },
                   reject, sizeof(reject) / sizeof(reject[0]));
    dump(c, "tls-records-reject");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_TLS_CLOSED_AFTER_HANDSHAKE));
    CHECK(ab && ab->verdict.rule && strcmp(ab->verdict.rule, "tls-answer-then-close") == 0);
    CHECK(conf_is(ab, "medium"));
    CHECK(summary_has(ab, "one 477-byte record"));
    corr_free(c);

    c = tls13_conn((struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101,
                                .end = 60000, .bytes = 5000 },
                   both, sizeof(both) / sizeof(both[0]));
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(ab && ab->verdict.rule && strcmp(ab->verdict.rule, "tls-data-both-ways") == 0);
    corr_free(c);

    /* Dialback inside TLS (two 14-character domains, TLS 1.3 +17):
     * <db:result> 129 -> 146; Prosody's valid answer 184 -> 201, invalid
     * 186 -> 203; ejabberd's self-closing valid 67 -> 84. */
    {
        static const int db_prosody[][2] = { { 1, 74 }, { 1, 74 }, { 0, 233 }, { 1, 334 }, { 0, 146 },
                                             { 1, 201 }, { 0, 149 } };
        static const int db_ejabberd[][2] = { { 1, 74 }, { 1, 74 }, { 0, 233 }, { 1, 253 }, { 1, 214 },
                                              { 0, 146 }, { 1, 84 }, { 0, 149 } };
        static const int db_invalid[][2] = { { 1, 74 }, { 1, 74 }, { 0, 233 }, { 1, 334 }, { 0, 146 },
                                             { 1, 203 }, { 1, 19 } };
        /* a request-sized record, then an answer of neither size */
        static const int db_other[][2] = { { 1, 74 }, { 1, 74 }, { 0, 233 }, { 1, 334 }, { 0, 146 },
                                           { 1, 250 }, { 1, 19 } };
        const struct {
            const int (*recs)[2];
            unsigned n;
            enum corr_status status;
            const char *rule;
        } db[] = {
            { db_prosody, sizeof(db_prosody) / sizeof(db_prosody[0]), CORR_OK, "tls-dialback-size" },
            { db_ejabberd, sizeof(db_ejabberd) / sizeof(db_ejabberd[0]), CORR_OK, "tls-dialback-size" },
            { db_invalid, sizeof(db_invalid) / sizeof(db_invalid[0]), CORR_FAILED, "tls-dialback-size" },
            { db_other, sizeof(db_other) / sizeof(db_other[0]), CORR_UNKNOWN, NULL },
        };
        for (unsigned i = 0; i < sizeof(db) / sizeof(db[0]); i++) {
            bool closes = db[i].recs[db[i].n - 1][1] == 19;
            c = tls13_conn((struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100,
                                        .synack = 101, .end = closes ? 0 : 3000, .fin1 = closes ? 120 : 0,
                                        .fin0 = closes ? 121 : 0, .bytes = 3000 },
                           db[i].recs, db[i].n);
            dump(c, "tls-records-dialback");
            ab = dirn(c, DOM_A, DOM_B);
            if (!db[i].rule) { /* not dialback: the rule must not fire */
                CHECK(ab && !(ab->verdict.rule && strcmp(ab->verdict.rule, "tls-dialback-size") == 0));
                corr_free(c);
                continue;
            }
            CHECK(ab && ab->verdict.status == db[i].status);
            CHECK(ab && ab->verdict.rule && strcmp(ab->verdict.rule, db[i].rule) == 0);
            CHECK(ab && ab->verdict.inferred && conf_is(ab, "medium"));
            /* the dialback stage is judged; an ok verdict stays at the last
             * stage the capture shows (TLS), a failure is at dialback */
            CHECK(ab && ab->stages[STAGE_AUTH] == (db[i].status == CORR_OK ? STAGE_OK : STAGE_FAILED));
            CHECK(ab && ab->verdict.stage == (db[i].status == CORR_OK ? STAGE_TLS : STAGE_AUTH));
            for (unsigned r = 0; r < db[i].n; r++)
                if (db[i].recs[r][1] == 146)
                    CHECK(has_evidence(ab, 18 + r)); /* the request */
            if (i == 2)
                CHECK(code_is(ab, VERDICT_DB_INVALID));
            corr_free(c);
        }
    }

    /* the same data, then torn down by RST right away: not judged ok */
    c = tls13_conn((struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101,
                                .rst = 125, .rst_dir = FT_DIR_RESP, .bytes = 5000 },
                   both, sizeof(both) / sizeof(both[0]));
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status != CORR_OK);
    corr_free(c);
}

/* ---- 6. dialback ------------------------------------------------------------------ */

static void test_dialback(void)
{
    struct correlator *c = mk(NULL, NULL);
    const struct corr_direction *ab;

    /* no answer; b's connect-back to a:5269 is never answered */
    c1_dbresult(c, 12000);
    conn(c, (struct cs){ .id = 2, .orig = IP_B ":50002", .resp = IP_A ":5269", .syn = 110, .syns = 3, .end = 7110 });
    corr_finish(c);
    dump(c, "no-backconn");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(corr_federation_count(c) == 1);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_DB_NO_BACKCONN));
    CHECK(ab && ab->verdict.stage == STAGE_AUTH);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 13));
    CHECK(has_evidence(ab, 2001)); /* the connect-back SYN */
    CHECK(has_flow(ab, 2));
    CHECK(has_note(ab, "inbound 5269"));
    CHECK(summary_has(ab, IP_A ":5269"));
    CHECK(tl_has(ab, 2001, 2, "SYN " IP_B ":50002 -> " IP_A ":5269"));
    {
        const struct corr_direction *ba = dirn(c, DOM_B, DOM_A);
        CHECK(ba && code_is(ba, VERDICT_TCP_NO_SYNACK));
    }
    corr_free(c);

    /* invalid: a's own server answered the verification with invalid */
    c = mk(NULL, NULL);
    c1_dbresult(c, 5000);
    conn(c, (struct cs){ .id = 2, .orig = IP_B ":50003", .resp = IP_A ":5269", .syn = 110, .synack = 111, .end = 5000 });
    s2s_open(c, 2, DOM_B, DOM_A, "S2", 112, 20);
    xev(c, 2, FT_DIR_ORIG, XMPP_EV_DB_VERIFY, 115, 23, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "S1" });
    xev(c, 2, FT_DIR_RESP, XMPP_EV_DB_VERIFY, 117, 25,
        (struct xo){ .from = DOM_A, .to = DOM_B, .id = "S1", .db = XMPP_DB_INVALID });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 120, 14, (struct xo){ .from = DOM_B, .to = DOM_A, .db = XMPP_DB_INVALID });
    corr_finish(c);
    dump(c, "db-invalid-self");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_DB_INVALID));
    CHECK(ab && ab->verdict.stage == STAGE_AUTH);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 14) && has_evidence(ab, 13) && has_evidence(ab, 25));
    CHECK(summary_has(ab, IP_A ":5269"));
    CHECK(tl_has(ab, 23, 2, "db:verify"));
    corr_free(c);

    /* invalid, and the verify was answered invalid by a third server (one
     * that serves c.example.test): b's DNS for a leads elsewhere.  The
     * correlator calls this DB-WRONG-AUTH (a refinement of DB-INVALID). */
    c = mk(NULL, NULL);
    c1_dbresult(c, 5000);
    conn(c, (struct cs){ .id = 2, .orig = IP_B ":50003", .resp = IP_C ":5269", .syn = 110, .synack = 111, .end = 5000 });
    xev(c, 2, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 112, 20, (struct xo){ .from = DOM_B, .to = DOM_A });
    xev(c, 2, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 113, 21, (struct xo){ .from = DOM_C, .to = DOM_B, .id = "X9" });
    xev(c, 2, FT_DIR_ORIG, XMPP_EV_DB_VERIFY, 115, 23, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "S1" });
    xev(c, 2, FT_DIR_RESP, XMPP_EV_DB_VERIFY, 117, 25,
        (struct xo){ .from = DOM_A, .to = DOM_B, .id = "S1", .db = XMPP_DB_INVALID });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 120, 14, (struct xo){ .from = DOM_B, .to = DOM_A, .db = XMPP_DB_INVALID });
    corr_finish(c);
    dump(c, "db-invalid");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_DB_WRONG_AUTH));
    CHECK(ab && ab->verdict.stage == STAGE_AUTH);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 14));
    CHECK(has_evidence(ab, 13));
    CHECK(has_evidence(ab, 25));
    CHECK(has_flow(ab, 1) && has_flow(ab, 2));
    CHECK(summary_has(ab, IP_C ":5269"));
    CHECK(summary_has(ab, IP_A ":40001"));
    CHECK(ab && ab->verdict.vars.peer && strcmp(ab->verdict.vars.peer, IP_C ":5269") == 0);
    CHECK(tl_has(ab, 23, 2, "db:verify"));
    corr_free(c);

    /* db:result type=error remote-server-not-found */
    c = mk(NULL, NULL);
    c1_dbresult(c, 5000);
    xev(c, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 3000, 14,
        (struct xo){ .from = DOM_B, .to = DOM_A, .db = XMPP_DB_ERROR, .cond = "remote-server-not-found" });
    corr_finish(c);
    dump(c, "db-error-rsnf");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_DB_NO_BACKCONN));
    CHECK(ab && ab->verdict.stage == STAGE_AUTH);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 14));
    CHECK(ab && ab->verdict.vars.condition && strcmp(ab->verdict.vars.condition, "remote-server-not-found") == 0);
    corr_free(c);

    /* unanswered, capture ends 5 s later: unknown */
    c = mk(NULL, NULL);
    c1_dbresult(c, 5105);
    corr_finish(c);
    dump(c, "db-pending-5s");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_UNKNOWN);
    CHECK(ab && ab->stages[STAGE_AUTH] == STAGE_NOT_SEEN);
    CHECK(conf_is(ab, "low"));
    CHECK(ab && ab->verdict.code && strncmp(code_name(ab->verdict.code), "CAP-", 4) == 0);
    corr_free(c);

    /* unanswered, capture ends 60 s later: failed */
    c = mk(NULL, NULL);
    c1_dbresult(c, 60105);
    corr_finish(c);
    dump(c, "db-pending-60s");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_DB_NO_BACKCONN));
    CHECK(conf_is(ab, "medium"));
    CHECK(has_evidence(ab, 13));
    CHECK(ab && ab->verdict.vars.seconds && strcmp(ab->verdict.vars.seconds, "60.0") == 0);
    corr_free(c);

    /* the capture window, not only the connections, sets the end */
    c = mk(NULL, NULL);
    c1_dbresult(c, 5105);
    corr_source_window(c, 0, MS(0), MS(60105));
    corr_finish(c);
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(code_is(ab, VERDICT_DB_NO_BACKCONN));
    corr_free(c);
}

/* ---- 7. NAT pairing ------------------------------------------------------------------ */

#define IN_A "10.99.1.10"
#define PUB_A "198.51.100.2"
#define IP_B2 "198.51.100.20"

/* Wrong inside port: b dials a's public 198.51.100.2:5269, the firewall
 * forwards to 10.99.1.10:<inside_port> where nothing listens; both views
 * show the SYN and the reset.  inside_first: the order the flows ended. */
static void pat_mismatch(uint16_t inside_port, bool inside_first)
{
    struct correlator *c = mk(NULL, NULL);
    char inside[40], title[64];
    const struct corr_direction *d = NULL;
    struct cs out = { .id = 1, .orig = IP_B2 ":59166", .resp = PUB_A ":5269", .syn = 100, .rst = 103,
                      .rst_dir = FT_DIR_RESP, .source = 1 };
    struct cs in = { .id = 2, .orig = IP_B2 ":59166", .resp = inside, .syn = 101, .rst = 102,
                     .rst_dir = FT_DIR_RESP, .source = 0 };
    snprintf(inside, sizeof(inside), IN_A ":%u", inside_port);
    corr_source_window(c, 0, MS(0), MS(5000));
    corr_source_window(c, 1, MS(0), MS(5000));
    /* b's DNS says where a is */
    lookup(c, 1, IP_B2, "_xmpp-server._tcp." DOM_A, DNS_T_SRV, DNS_OUT_ANSWERED, 50, "SRV xmpp." DOM_A " 5269", NULL);
    lookup(c, 2, IP_B2, "xmpp." DOM_A, DNS_T_A, DNS_OUT_ANSWERED, 60, "A xmpp." DOM_A " " PUB_A, NULL);
    if (inside_first) {
        conn(c, in);
        conn(c, out);
    } else {
        conn(c, out);
        conn(c, in);
    }
    corr_finish(c);
    snprintf(title, sizeof(title), "pat-mismatch %u %s", inside_port, inside_first ? "inside-first" : "outside-first");
    dump(c, title);
    for (unsigned i = 0; i < corr_federation_count(c) && !d; i++) {
        const struct corr_federation *ff = corr_federation_at(c, i);
        for (unsigned j = 0; j < ff->n_dir; j++)
            if (strcmp(ff->dir[j].to, DOM_A) == 0)
                d = &ff->dir[j];
    }
    if (!CHECK(code_is(d, VERDICT_TCP_PAT_MISMATCH)))
        printf("  (%s: got %s)\n", title, d ? code_name(d->verdict.code) : "no direction");
    CHECK(corr_stats(c)->nat_pairs == 1);
    CHECK(d && d->verdict.status == CORR_FAILED);
    CHECK(d && d->verdict.stage == STAGE_CONNECT);
    CHECK(conf_is(d, "high"));
    /* advice values are bare addresses (the ports are in the summary) */
    CHECK(d && d->verdict.vars.public_ip && strcmp(d->verdict.vars.public_ip, PUB_A) == 0);
    CHECK(d && d->verdict.vars.private_ip && strcmp(d->verdict.vars.private_ip, IN_A) == 0);
    {
        char want[120];
        snprintf(want, sizeof(want), PUB_A ":5269 is translated to %s", inside);
        CHECK(summary_has(d, want));
    }
    CHECK(has_flow(d, 1) && has_flow(d, 2));
    corr_free(c);
}

static void test_nat(void)
{
    struct correlator *c = mk(NULL, NULL);
    const struct corr_direction *ab;
    const struct corr_federation *f;

    /* outbound: inside and outside view of one connection */
    corr_source_window(c, 0, MS(0), MS(5000));
    corr_source_window(c, 1, MS(0), MS(5000));
    conn(c, (struct cs){ .id = 1, .orig = IN_A ":43340", .resp = IP_B2 ":5269", .syn = 100, .synack = 102, .end = 5000,
                         .source = 0 });
    conn(c, (struct cs){ .id = 2, .orig = PUB_A ":43340", .resp = IP_B2 ":5269", .syn = 101, .synack = 101,
                         .end = 5000, .source = 1 });
    for (uint64_t k = 1; k <= 2; k++) {
        uint32_t src = (uint32_t)(k - 1);
        uint64_t fr = k * 100;
        int d = (int)k - 1;
        xev(c, k, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 103 + d, fr, (struct xo){ .from = DOM_A, .to = DOM_B, .source = src });
        xev(c, k, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 105 - d, fr + 1,
            (struct xo){ .from = DOM_B, .to = DOM_A, .id = "N1", .source = src });
        xev(c, k, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 106 + d, fr + 2, (struct xo){ .from = DOM_A, .to = DOM_B, .source = src });
        xev(c, k, FT_DIR_RESP, XMPP_EV_DB_RESULT, 200 - d, fr + 3,
            (struct xo){ .from = DOM_B, .to = DOM_A, .db = XMPP_DB_VALID, .source = src });
    }
    corr_finish(c);
    dump(c, "nat-out");
    CHECK(corr_stats(c)->nat_pairs == 1);
    CHECK(corr_federation_count(c) == 1);
    f = fed(c, DOM_A, DOM_B);
    CHECK(f && f->n_dir == 1);
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(code_is(ab, VERDICT_OK));
    CHECK(conf_is(ab, "high"));
    CHECK(ab && ab->verdict.n_flows == 1);
    CHECK(f && f->local && strcmp(f->local, DOM_A) == 0); /* its server is behind the NAT */
    CHECK(f && f->roles_inferred);
    corr_free(c);

    /* inbound: b connects to a's public address, forwarded to the inside */
    c = mk(NULL, NULL);
    conn(c, (struct cs){ .id = 1, .orig = IP_B2 ":59166", .resp = PUB_A ":5269", .syn = 100, .synack = 102, .end = 5000,
                         .source = 1 });
    conn(c, (struct cs){ .id = 2, .orig = IP_B2 ":59166", .resp = IN_A ":5269", .syn = 101, .synack = 101, .end = 5000,
                         .source = 0 });
    for (uint64_t k = 1; k <= 2; k++) {
        uint32_t src = (uint32_t)(2 - k);
        uint64_t fr = k * 100;
        xev(c, k, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 103, fr, (struct xo){ .from = DOM_B, .to = DOM_A, .source = src });
        xev(c, k, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 104, fr + 1,
            (struct xo){ .from = DOM_A, .to = DOM_B, .id = "N2", .source = src });
        xev(c, k, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 106, fr + 2, (struct xo){ .from = DOM_B, .to = DOM_A, .source = src });
        xev(c, k, FT_DIR_RESP, XMPP_EV_DB_RESULT, 200, fr + 3,
            (struct xo){ .from = DOM_A, .to = DOM_B, .db = XMPP_DB_VALID, .source = src });
    }
    corr_finish(c);
    dump(c, "nat-in");
    CHECK(corr_stats(c)->nat_pairs == 1);
    CHECK(corr_federation_count(c) == 1);
    f = fed(c, DOM_A, DOM_B);
    CHECK(f && f->n_dir == 1);
    {
        const struct corr_direction *ba = dirn(c, DOM_B, DOM_A);
        CHECK(ba && ba->verdict.status == CORR_OK);
        CHECK(conf_is(ba, "high"));
    }
    corr_free(c);

    pat_mismatch(5222, false);
    pat_mismatch(5222, true);
    pat_mismatch(5270, false);
    pat_mismatch(5270, true);
}

/* ---- 8. subscription -------------------------------------------------------------------- */

static struct correlator *sub_setup(int end_ms)
{
    struct correlator *c = mk(NULL, NULL);
    c1_dbresult(c, end_ms);
    xev(c, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 120, 14, (struct xo){ .from = DOM_B, .to = DOM_A, .db = XMPP_DB_VALID });
    presence(c, 1, FT_DIR_ORIG, 130, 15, XMPP_PRES_SUBSCRIBE, "alice@" DOM_A, "bob@" DOM_B, NULL);
    conn(c, (struct cs){ .id = 2, .orig = IP_B ":50001", .resp = IP_A ":5269", .syn = 140, .synack = 141, .end = end_ms });
    s2s_open(c, 2, DOM_B, DOM_A, "S2", 142, 20);
    xev(c, 2, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 145, 23, (struct xo){ .from = DOM_B, .to = DOM_A });
    xev(c, 2, FT_DIR_RESP, XMPP_EV_DB_RESULT, 150, 24, (struct xo){ .from = DOM_A, .to = DOM_B, .db = XMPP_DB_VALID });
    return c;
}

static void test_subscribe(void)
{
    struct correlator *c = sub_setup(40130);
    const struct corr_direction *ab;
    corr_finish(c);
    dump(c, "sub-pending");
    ab = dirn(c, DOM_A, DOM_B);
    /* not a broken federation: it works, a person has not answered */
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(code_is(ab, VERDICT_STZ_SUB_PENDING));
    CHECK(ab && ab->verdict.stage == STAGE_SUBSCRIBE);
    CHECK(conf_is(ab, "high"));
    CHECK(summary_has(ab, "works"));
    CHECK(summary_has(ab, "subscription pending"));
    CHECK(has_evidence(ab, 15));
    CHECK(ab && ab->verdict.vars.seconds && strcmp(ab->verdict.vars.seconds, "40") == 0);
    CHECK(ab && ab->stages[STAGE_AUTH] == STAGE_OK);
    CHECK(dirn(c, DOM_B, DOM_A) && dirn(c, DOM_B, DOM_A)->verdict.status == CORR_OK);
    corr_free(c);

    c = sub_setup(5000);
    presence(c, 2, FT_DIR_ORIG, 1500, 25, XMPP_PRES_UNSUBSCRIBED, "bob@" DOM_B, "alice@" DOM_A, NULL);
    corr_finish(c);
    dump(c, "unsubscribed");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_STZ_UNSUBSCRIBED));
    CHECK(ab && ab->verdict.stage == STAGE_SUBSCRIBE);
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 15) && has_evidence(ab, 25));
    CHECK(has_flow(ab, 1) && has_flow(ab, 2));
    corr_free(c);

    c = sub_setup(5000);
    presence(c, 2, FT_DIR_ORIG, 1500, 25, XMPP_PRES_ERROR, "bob@" DOM_B, "alice@" DOM_A, "remote-server-not-found");
    corr_finish(c);
    dump(c, "bounce");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_STZ_BOUNCE_RSNF));
    CHECK(conf_is(ab, "high"));
    CHECK(has_evidence(ab, 25));
    CHECK(ab && ab->verdict.vars.condition && strcmp(ab->verdict.vars.condition, "remote-server-not-found") == 0);
    corr_free(c);

    /* 5 s of capture after the subscribe: pending, and the summary says the
     * capture may have stopped too early */
    c = sub_setup(5130);
    corr_finish(c);
    dump(c, "sub-5s");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(code_is(ab, VERDICT_STZ_SUB_PENDING));
    CHECK(summary_has(ab, "stopped too early"));
    CHECK(ab && ab->stages[STAGE_AUTH] == STAGE_OK);
    CHECK(ab && ab->verdict.vars.seconds && strcmp(ab->verdict.vars.seconds, "5") == 0);
    corr_free(c);
}

/* ---- 9. c2s <-> s2s --------------------------------------------------------------------- */

#define CLIENT "198.51.100.77"

static void test_c2s_link(void)
{
    struct correlator *c = mk(NULL, NULL);
    const struct corr_direction *ab;
    /* alice's client on a */
    conn(c, (struct cs){ .id = 9, .orig = CLIENT ":51000", .resp = IP_A ":5222", .syn = 10, .synack = 11, .end = 5000 });
    xev(c, 9, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 12, 90, (struct xo){ .to = DOM_A, .ns = "jabber:client" });
    xev(c, 9, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 13, 91,
        (struct xo){ .from = DOM_A, .id = "C9", .ns = "jabber:client" });
    presence(c, 9, FT_DIR_ORIG, 95, 92, XMPP_PRES_SUBSCRIBE, NULL, "bob@" DOM_B, NULL);
    /* relayed on C1, answered on C2, relayed back to the client */
    prosody_federation(c, (struct fedopt){ 0 });
    presence(c, 9, FT_DIR_RESP, 141, 93, XMPP_PRES_SUBSCRIBED, "bob@" DOM_B, "alice@" DOM_A, NULL);
    corr_finish(c);
    dump(c, "c2s-link");
    CHECK(corr_stats(c)->c2s_conns == 1);
    CHECK(corr_federation_count(c) == 1);
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(code_is(ab, VERDICT_OK));
    CHECK(tl_has(ab, 92, 9, "subscribe"));
    CHECK(tl_has(ab, 15, 1, "subscribe"));
    corr_free(c);

    /* c2s only: the subscribe bounces, no s2s at all */
    c = mk(NULL, NULL);
    conn(c, (struct cs){ .id = 9, .orig = CLIENT ":51000", .resp = IP_A ":5222", .syn = 10, .synack = 11, .end = 5000 });
    xev(c, 9, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 12, 90, (struct xo){ .to = DOM_A, .ns = "jabber:client" });
    xev(c, 9, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 13, 91,
        (struct xo){ .from = DOM_A, .id = "C9", .ns = "jabber:client" });
    presence(c, 9, FT_DIR_ORIG, 95, 92, XMPP_PRES_SUBSCRIBE, NULL, "bob@" DOM_B, NULL);
    presence(c, 9, FT_DIR_RESP, 300, 93, XMPP_PRES_ERROR, "bob@" DOM_B, "alice@" DOM_A "/phone",
             "remote-server-not-found");
    corr_finish(c);
    dump(c, "c2s-bounce");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(corr_federation_count(c) == 1);
    CHECK(ab && ab->verdict.status == CORR_FAILED);
    CHECK(code_is(ab, VERDICT_STZ_BOUNCE_RSNF));
    CHECK(has_evidence(ab, 93));
    corr_free(c);
}

/* An SRV lookup of _xmpp-server._tcp.DOM_B from client at capture source
 * src with query id txid, answered by xmpp.DOM_B:5269 (answer_port). */
static void srv_lookup_at(struct correlator *c, uint64_t id, const char *client, uint32_t src, uint16_t txid,
                          int ms, uint16_t answer_port)
{
    struct dns_lookup *lk = calloc(1, sizeof(*lk));
    if (!lk)
        abort();
    lk->id = id;
    lk->client.addr = ip(client);
    lk->client.port = 53000;
    lk->server.addr = ip(RESOLVER);
    lk->server.port = 53;
    lk->transport = DNS_UDP;
    lk->txid = txid;
    lk->qname = "_xmpp-server._tcp." DOM_B;
    lk->qtype = DNS_T_SRV;
    lk->outcome = (uint8_t)DNS_OUT_ANSWERED;
    lk->nqueries = 1;
    lk->query[0].frame = lk->query[0].src_frame = 900000 + id * 10 + 1;
    lk->query[0].ts_ns = MS(ms);
    lk->query[0].source = src;
    lk->has_response = true;
    lk->response = lk->query[0];
    lk->response.frame = lk->response.src_frame = 900000 + id * 10 + 2;
    lk->response.ts_ns = MS(ms + 5);
    lk->ans[0].type = DNS_T_SRV;
    lk->ans[0].section = DNS_SEC_ANSWER;
    lk->ans[0].name = lk->qname;
    lk->ans[0].target = "xmpp." DOM_B;
    lk->ans[0].port = answer_port;
    lk->nans = 1;
    corr_dns_lookup(c, lk);
    free(lk);
}

/* One lookup seen at two capture points (the outside one from the NAT's
 * public address, query id rewritten) is one lookup: the outside client
 * takes the inside client's name, so no `[address] -> b` direction. */
static void test_lookup_twins(void)
{
    static const struct {
        uint32_t outside_src;
        int outside_ms;
        uint16_t outside_port;
        bool twins;
    } cases[] = {
        { 1, 3, 5269, true },     /* the same lookup at the other capture point */
        { 0, 3, 5269, false },    /* same capture point: two clients, two lookups */
        { 1, 60000, 5269, false }, /* a minute later: another lookup */
        { 1, 3, 5270, false },    /* another answer */
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct correlator *c = mk(NULL, NULL);
        char what[64];
        /* alice's client names the inside server a */
        conn(c, (struct cs){ .id = 9, .orig = CLIENT ":51000", .resp = "10.99.1.10:5222", .syn = 10, .synack = 11,
                             .end = 5000 });
        xev(c, 9, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 12, 90, (struct xo){ .to = DOM_A, .ns = "jabber:client" });
        xev(c, 9, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 13, 91,
            (struct xo){ .from = DOM_A, .id = "C9", .ns = "jabber:client" });
        srv_lookup_at(c, 1, "10.99.1.10", 0, 4242, 1000, 5269);
        srv_lookup_at(c, 2, IP_B, cases[i].outside_src, 777, 1000 + cases[i].outside_ms, cases[i].outside_port);
        corr_finish(c);
        snprintf(what, sizeof(what), "lookup-twins-%u", i);
        dump(c, what);
        CHECK(dirn(c, DOM_A, DOM_B) != NULL);
        CHECK((fed(c, "[" IP_B "]", DOM_B) == NULL) == cases[i].twins);
        CHECK(corr_federation_count(c) == (cases[i].twins ? 1u : 2u));
        corr_free(c);
    }
}

/* ---- 10. capture quality --------------------------------------------------------------------- */

static void test_capture_quality(void)
{
    struct correlator *c = mk(NULL, NULL);
    const struct corr_direction *ab;
    prosody_federation(c, (struct fedopt){ .c1_gaps = 2 });
    corr_finish(c);
    dump(c, "gaps");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(code_is(ab, VERDICT_OK));
    CHECK(conf_is(ab, "medium"));
    CHECK(has_note(ab, "CAP-GAPS"));
    CHECK(conf_is(dirn(c, DOM_B, DOM_A), "high")); /* C2 has no gaps */
    corr_free(c);

    /* mid-stream: stanzas flow, no handshake, no headers */
    c = mk(DOM_A, IP_A);
    dns_b_ok(c, 50, IP_B);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .midstream = true, .end = 3000 });
    for (int i = 0; i < 3; i++)
        xev(c, 1, FT_DIR_ORIG, XMPP_EV_STANZA, 1000 + i * 100, 10 + (uint64_t)i,
            (struct xo){ .kind = XMPP_STANZA_MESSAGE, .from = "alice@" DOM_A, .to = "bob@" DOM_B });
    corr_finish(c);
    dump(c, "midstream");
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(corr_federation_count(c) == 1);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(code_is(ab, VERDICT_OK));
    CHECK(conf_is(ab, "low"));
    CHECK(has_note(ab, "CAP-MIDSTREAM"));
    CHECK(count_notes(ab, "CAP-MIDSTREAM") == 1);
    CHECK(ab && ab->stages[STAGE_CONNECT] == STAGE_NOT_SEEN);
    corr_free(c);

    c = mk(NULL, NULL);
    prosody_federation(c, (struct fedopt){ .c1_badcsum = 7 });
    corr_finish(c);
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(conf_is(ab, "high"));
    CHECK(has_note(ab, "CAP-BAD-CSUM"));
    corr_free(c);
}

/* ---- 11. roles ------------------------------------------------------------------------------ */

static void test_roles(void)
{
    struct correlator *c = mk(DOM_A, NULL);
    const struct corr_federation *f;
    prosody_federation(c, (struct fedopt){ 0 });
    corr_finish(c);
    f = fed(c, DOM_A, DOM_B);
    CHECK(f && f->local && strcmp(f->local, DOM_A) == 0);
    CHECK(f && f->local == f->domains[0]);
    CHECK(f && !f->roles_inferred);
    corr_free(c);

    c = mk(DOM_B, NULL);
    prosody_federation(c, (struct fedopt){ 0 });
    corr_finish(c);
    f = fed(c, DOM_A, DOM_B);
    CHECK(f && f->local && strcmp(f->local, DOM_B) == 0);
    CHECK(f && !f->roles_inferred);
    corr_free(c);

    /* no -d: a's server sits on a private address */
    c = mk(NULL, NULL);
    conn(c, (struct cs){ .id = 1, .orig = "10.0.0.1:40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .end = 5000 });
    s2s_open(c, 1, DOM_A, DOM_B, "S1", 102, 10);
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 105, 13, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 120, 14, (struct xo){ .from = DOM_B, .to = DOM_A, .db = XMPP_DB_VALID });
    corr_finish(c);
    dump(c, "roles-private");
    f = fed(c, DOM_A, DOM_B);
    CHECK(f && f->local && strcmp(f->local, DOM_A) == 0);
    CHECK(f && f->roles_inferred);
    CHECK(f && strstr(f->role_reason, "private") != NULL);
    corr_free(c);

    /* nothing to tell the sides apart */
    c = mk(NULL, NULL);
    c1_dbresult(c, 5000);
    corr_finish(c);
    f = fed(c, DOM_A, DOM_B);
    CHECK(f && f->local == NULL);
    CHECK(f && f->roles_inferred);
    corr_free(c);

    /* no -d, public servers: b's users' client stream is in the capture */
    c = mk(NULL, NULL);
    c1_dbresult(c, 5000);
    conn(c, (struct cs){ .id = 9, .orig = CLIENT ":51000", .resp = IP_B ":5222", .syn = 10, .synack = 11, .end = 5000 });
    xev(c, 9, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 12, 90, (struct xo){ .to = DOM_B, .ns = "jabber:client" });
    corr_finish(c);
    f = fed(c, DOM_A, DOM_B);
    CHECK(f && f->local && strcmp(f->local, DOM_B) == 0);
    CHECK(f && f->roles_inferred);
    CHECK(f && strstr(f->role_reason, "users' client connections") != NULL);
    corr_free(c);
}

/* ---- every code the correlator can emit, each from a unit sequence ------ */

/* a -> b over connection 1, established, both stream headers. */
static struct correlator *one_stream(bool starttls)
{
    struct correlator *c = mk(DOM_A, IP_A);
    dns_b_ok(c, 50, IP_B);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .end = 5000 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "S1" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_FEATURES, 104, 12, (struct xo){ .dialback = true, .starttls = starttls });
    return c;
}

static void expect_code(struct correlator *c, const char *from, enum verdict_code code, const char *what)
{
    const struct corr_direction *d;
    corr_finish(c);
    d = dirn(c, from, DOM_B);
    if (!code_is(d, code)) {
        const struct verdict_info *vi = d ? verdict_info_of(d->verdict.code) : NULL;
        fprintf(stderr, "%s: got %s\n", what, vi ? vi->code : "(none)");
    }
    CHECK(code_is(d, code));
    corr_free(c);
}

static void test_every_code(void)
{
    static const struct {
        const char *cond;
        enum verdict_code code;
    } conds[] = {
        { "bad-format", VERDICT_STR_BAD_FORMAT },
        { "bad-namespace-prefix", VERDICT_STR_BAD_NAMESPACE_PREFIX },
        { "conflict", VERDICT_STR_CONFLICT },
        { "connection-timeout", VERDICT_STR_CONNECTION_TIMEOUT },
        { "host-gone", VERDICT_STR_HOST_GONE },
        { "host-unknown", VERDICT_STR_HOST_UNKNOWN },
        { "improper-addressing", VERDICT_STR_IMPROPER_ADDRESSING },
        { "internal-server-error", VERDICT_STR_INTERNAL_SERVER_ERROR },
        { "invalid-from", VERDICT_STR_INVALID_FROM },
        { "invalid-namespace", VERDICT_STR_INVALID_NAMESPACE },
        { "invalid-xml", VERDICT_STR_INVALID_XML },
        { "not-authorized", VERDICT_STR_NOT_AUTHORIZED },
        { "not-well-formed", VERDICT_STR_NOT_WELL_FORMED },
        { "policy-violation", VERDICT_STR_POLICY_VIOLATION },
        { "remote-connection-failed", VERDICT_STR_REMOTE_CONNECTION_FAILED },
        { "reset", VERDICT_STR_RESET },
        { "resource-constraint", VERDICT_STR_RESOURCE_CONSTRAINT },
        { "restricted-xml", VERDICT_STR_RESTRICTED_XML },
        { "see-other-host", VERDICT_STR_SEE_OTHER_HOST },
        { "system-shutdown", VERDICT_STR_SYSTEM_SHUTDOWN },
        { "undefined-condition", VERDICT_STR_UNDEFINED_CONDITION },
        { "unsupported-encoding", VERDICT_STR_UNSUPPORTED_ENCODING },
        { "unsupported-feature", VERDICT_STR_UNSUPPORTED_FEATURE },
        { "unsupported-stanza-type", VERDICT_STR_UNSUPPORTED_STANZA_TYPE },
        { "unsupported-version", VERDICT_STR_UNSUPPORTED_VERSION },
        { "made-up-by-the-peer", VERDICT_STR_UNDEFINED_CONDITION },
        { "no-header", VERDICT_STR_UNDEFINED_CONDITION }, /* not a catalogue lookup */
    };
    static const struct {
        enum dns_outcome outcome;
        enum verdict_code code;
    } dns[] = {
        { DNS_OUT_SERVFAIL, VERDICT_DNS_SERVFAIL },
        { DNS_OUT_NODATA, VERDICT_DNS_SRV_NODATA },
        { DNS_OUT_UNANSWERED, VERDICT_DNS_TIMEOUT },
        { DNS_OUT_TRUNCATED, VERDICT_DNS_TRUNC_NO_TCP },
    };
    struct correlator *c;

    /* stream errors before any negotiation: STR-<condition> */
    for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
        c = one_stream(false);
        xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_ERROR, 105, 13, (struct xo){ .cond = conds[i].cond });
        expect_code(c, DOM_A, conds[i].code, conds[i].cond);
    }
    /* STR-NO-HEADER: not XML where the stream header belongs */
    c = mk(DOM_A, IP_A);
    dns_b_ok(c, 50, IP_B);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .end = 5000 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_ERROR, 102, 10, (struct xo){ 0 });
    expect_code(c, DOM_A, VERDICT_STR_NO_HEADER, "no header");
    /* STR-NO-RESPONSE: our header, never theirs, connection closed */
    c = mk(DOM_A, IP_A);
    dns_b_ok(c, 50, IP_B);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .fin0 = 3000,
                         .end = 3000 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    expect_code(c, DOM_A, VERDICT_STR_NO_RESPONSE, "no response");
    /* TLS-FAILURE and TLS-DESYNC */
    c = one_stream(true);
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STARTTLS, 105, 13, (struct xo){ 0 });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_TLS_FAILURE, 106, 14, (struct xo){ 0 });
    expect_code(c, DOM_A, VERDICT_TLS_FAILURE, "tls failure");
    c = one_stream(true);
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STARTTLS, 105, 13, (struct xo){ 0 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_CLEARTEXT_AFTER_STARTTLS, 106, 14, (struct xo){ 0 });
    expect_code(c, DOM_A, VERDICT_TLS_DESYNC, "tls desync");
    /* SASL-FAIL */
    c = one_stream(false);
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_SASL_AUTH, 105, 13, (struct xo){ 0 });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_SASL_FAILURE, 106, 14, (struct xo){ .cond = "not-authorized" });
    expect_code(c, DOM_A, VERDICT_SASL_FAIL, "sasl");
    /* DB-ERROR: a dialback error that is not about the connect-back */
    c = one_stream(false);
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 105, 13, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 106, 14,
        (struct xo){ .from = DOM_B, .to = DOM_A, .db = XMPP_DB_ERROR, .cond = "policy-violation" });
    expect_code(c, DOM_A, VERDICT_DB_ERROR, "db error");
    /* DB-TIMEOUT: b asked a's server to verify the key, no answer came */
    c = one_stream(false);
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 105, 13, (struct xo){ .from = DOM_A, .to = DOM_B });
    conn(c, (struct cs){ .id = 2, .orig = IP_B ":50001", .resp = IP_A ":5269", .syn = 110, .synack = 111, .end = 5000 });
    s2s_open(c, 2, DOM_B, DOM_A, "S2", 112, 20);
    xev(c, 2, FT_DIR_ORIG, XMPP_EV_DB_VERIFY, 115, 23, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "S1" });
    expect_code(c, DOM_A, VERDICT_DB_TIMEOUT, "db timeout");
    /* DNS: the SRV lookup fails and nothing follows */
    for (size_t i = 0; i < sizeof(dns) / sizeof(dns[0]); i++) {
        c = mk(DOM_A, IP_A);
        lookup(c, 1, IP_A, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, dns[i].outcome, 50, NULL);
        expect_code(c, DOM_A, dns[i].code, "dns");
    }
    c = mk(DOM_A, IP_A);
    lookup(c, 1, IP_A, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, DNS_OUT_ANSWERED, 50, "SRV . 5269", NULL);
    expect_code(c, DOM_A, VERDICT_DNS_SRV_DOT, "srv dot");
    c = mk(DOM_A, IP_A);
    lookup(c, 1, IP_A, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, DNS_OUT_ANSWERED, 50, "SRV xmpp." DOM_B " 5269", NULL);
    lookup(c, 2, IP_A, "xmpp." DOM_B, DNS_T_A, DNS_OUT_NXDOMAIN, 60, NULL);
    expect_code(c, DOM_A, VERDICT_DNS_TARGET_NXDOMAIN, "target nxdomain");
    /* unknown: nothing after the lookup; a connection open before the
     * capture; data missing; direct TLS */
    c = mk(DOM_A, IP_A);
    dns_b_ok(c, 50, IP_B);
    expect_code(c, DOM_A, VERDICT_CAP_NOTHING, "nothing");
    c = mk(DOM_A, IP_A);
    dns_b_ok(c, 50, IP_B);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .midstream = true, .end = 3000 });
    expect_code(c, DOM_A, VERDICT_CAP_MIDSTREAM, "midstream");
    c = mk(DOM_A, IP_A);
    dns_b_ok(c, 50, IP_B);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .end = 3000,
                         .gaps = 1 });
    expect_code(c, DOM_A, VERDICT_CAP_GAPS, "gaps");
    c = mk(DOM_A, IP_A);
    dns_b_ok(c, 50, IP_B);
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5270", .syn = 100, .synack = 101, .end = 3000,
                         .app = APP_XMPP_TLS });
    expect_code(c, DOM_A, VERDICT_CAP_ENCRYPTED, "direct tls");
    /* subscriptions bounced back to the user, or never relayed */
    {
        static const struct {
            const char *cond;
            enum verdict_code code;
        } bounce[] = {
            { "remote-server-timeout", VERDICT_STZ_BOUNCE_RST },
            { "service-unavailable", VERDICT_STZ_SVC_UNAVAIL },
            { "forbidden", VERDICT_STZ_ERROR },
        };
        for (int i = 0; i < 4; i++) {
            c = mk(NULL, NULL);
            conn(c, (struct cs){ .id = 9, .orig = CLIENT ":51000", .resp = IP_A ":5222", .syn = 10, .synack = 11,
                                 .end = 5000 });
            xev(c, 9, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 12, 90, (struct xo){ .to = DOM_A, .ns = "jabber:client" });
            xev(c, 9, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 13, 91,
                (struct xo){ .from = DOM_A, .id = "C9", .ns = "jabber:client" });
            presence(c, 9, FT_DIR_ORIG, 95, 92, XMPP_PRES_SUBSCRIBE, NULL, "bob@" DOM_B, NULL);
            if (i < 3) {
                presence(c, 9, FT_DIR_RESP, 300, 93, XMPP_PRES_ERROR, "bob@" DOM_B, "alice@" DOM_A, bounce[i].cond);
                expect_code(c, DOM_A, bounce[i].code, bounce[i].cond);
            } else {
                /* a -> b authenticated, the subscribe never crossed */
                prosody_federation(c, (struct fedopt){ .no_subscribe = true });
                expect_code(c, DOM_A, VERDICT_STZ_SUB_NOT_SENT, "not sent");
            }
        }
    }
}

/* A connection already open when the capture started, where only the
 * responder speaks: its timeline line cites the responder's first data
 * frame, never a made-up frame 1. */
/* Connections picked up mid-stream are named by their stanzas and judged
 * by them; two of them to one server at capture start are not NAT twins
 * (no SYN, no header: timing is no evidence). */
static void test_midstream_stanzas(void)
{
    struct correlator *c = mk(NULL, NULL);
    const struct corr_direction *ab, *cb;
    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .midstream = true, .end = 4000,
                         .bytes = 3000 });
    conn(c, (struct cs){ .id = 2, .orig = IP_C ":40002", .resp = IP_B ":5269", .midstream = true, .end = 4000,
                         .bytes = 900 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STANZA, 1001, 10,
        (struct xo){ .from = "ann@" DOM_A "/r", .to = "bob@" DOM_B, .kind = XMPP_STANZA_MESSAGE });
    xev(c, 2, FT_DIR_ORIG, XMPP_EV_STANZA, 1002, 11,
        (struct xo){ .from = "cid@" DOM_C "/r", .to = "bob@" DOM_B, .kind = XMPP_STANZA_MESSAGE });
    corr_finish(c);
    dump(c, "midstream-stanzas");
    ab = dirn(c, DOM_A, DOM_B);
    cb = dirn(c, DOM_C, DOM_B);
    CHECK(corr_stats(c)->nat_pairs == 0);
    CHECK(ab && ab->verdict.status == CORR_OK && ab->verdict.inferred);
    CHECK(ab && ab->verdict.rule && strcmp(ab->verdict.rule, "stanzas-flow") == 0);
    CHECK(cb && cb->verdict.status == CORR_OK);
    corr_free(c);
}

static void test_midstream_responder_only(void)
{
    struct correlator *c = mk(NULL, NULL);
    char from[64];
    const struct corr_direction *d;
    dns_b_ok(c, 50, IP_B);
    conn(c, (struct cs){ .id = 3, .orig = IP_A ":40001", .resp = IP_B ":5269", .midstream = true, .end = 4000,
                         .resp_only = true });
    corr_finish(c);
    snprintf(from, sizeof(from), "[%s]", IP_A);
    d = dirn(c, from, DOM_B);
    CHECK(d != NULL);
    CHECK(tl_has(d, 3007, 3, "already open"));
    CHECK(tl_at(d, 1, 3) == NULL);
    for (unsigned i = 0; d && i < d->n_timeline; i++)
        CHECK(d->timeline[i].ref.frame != 1);
    corr_free(c);
}

/* A stop request (SIGINT) during the end phase: with no grace left every
 * direction is left unknown and says so, nothing half-judged; with the
 * default grace the same facts are judged as usual. */
static void test_stop(void)
{
    static volatile sig_atomic_t stop = 1;
    struct corr_config cfg;
    struct correlator *c;
    const struct corr_direction *ab;
    for (int grace = 0; grace < 2; grace++) {
        corr_config_default(&cfg);
        cfg.stop = &stop;
        cfg.stop_grace_ns = grace ? FT_NS_PER_SEC : 0;
        c = corr_new(&cfg);
        if (!c)
            abort();
        memset(infos, 0, sizeof(infos));
        prosody_federation(c, (struct fedopt){ 0 });
        corr_finish(c);
        ab = dirn(c, DOM_A, DOM_B);
        CHECK(corr_federation_count(c) == 1);
        if (!grace) {
            CHECK(ab && ab->verdict.status == CORR_UNKNOWN);
            CHECK(summary_has(ab, "not judged"));
            CHECK(ab && ab->stage_detail[STAGE_AUTH] && ab->stage_detail[STAGE_AUTH][0] == '\0');
            CHECK(corr_stats(c)->directions_unjudged == 2);
        } else {
            CHECK(ab && ab->verdict.status == CORR_OK);
            CHECK(corr_stats(c)->directions_unjudged == 0);
        }
        corr_free(c);
    }
}

/* ---- decrypted TLS ------------------------------------------------------------ */

/* C1 a -> b: STARTTLS (pre-TLS stream id P1), then with `keys` the stream
 * inside TLS, decrypted: restart with id S1, db:result; b verifies the key
 * on C2 with id S1 and answers valid.  Without keys only the TLS facts. */
static struct correlator *tls_dialback(bool keys, bool stopped)
{
    struct correlator *c = mk(NULL, NULL);
    struct xo dec = { .decrypted = true };

    conn(c, (struct cs){ .id = 1, .orig = IP_A ":40001", .resp = IP_B ":5269", .syn = 100, .synack = 101, .end = 9000 });
    conn(c, (struct cs){ .id = 2, .orig = IP_B ":50001", .resp = IP_A ":5269", .syn = 130, .synack = 131, .end = 9000 });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 102, 10, (struct xo){ .from = DOM_A, .to = DOM_B });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 103, 11, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "P1" });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_FEATURES, 104, 12, (struct xo){ .required = true, .dialback = true });
    xev(c, 1, FT_DIR_ORIG, XMPP_EV_STARTTLS, 105, 13, (struct xo){ 0 });
    xev(c, 1, FT_DIR_RESP, XMPP_EV_PROCEED, 106, 14, (struct xo){ 0 });
    tls_ev(c, 1, FT_DIR_ORIG, 107, 15, TLS_EV_CLIENT_HELLO, NULL);
    tls_ev(c, 1, FT_DIR_RESP, 108, 16, TLS_EV_SERVER_HELLO, NULL);
    tls_ev(c, 1, FT_DIR_RESP, 108, 16, TLS_EV_HANDSHAKE_ENCRYPTED, NULL);
    if (keys) {
        dec.from = DOM_A;
        dec.to = DOM_B;
        xev(c, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 110, 18, dec);
        dec.from = DOM_B;
        dec.to = DOM_A;
        dec.id = "S1";
        xev(c, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 111, 19, dec);
        dec.id = NULL;
        dec.dialback = true;
        xev(c, 1, FT_DIR_RESP, XMPP_EV_FEATURES, 112, 20, dec);
        dec.from = DOM_A;
        dec.to = DOM_B;
        xev(c, 1, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 113, 21, dec);
        if (stopped)
            xev(c, 1, FT_DIR_RESP, XMPP_EV_DECRYPT_STOPPED, 114, 22, (struct xo){ 0 });
        else
            xev(c, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 150, 24,
                (struct xo){ .from = DOM_B, .to = DOM_A, .db = XMPP_DB_VALID, .decrypted = true });
    }
    s2s_open(c, 2, DOM_B, DOM_A, "S2", 132, 30);
    xev(c, 2, FT_DIR_ORIG, XMPP_EV_DB_VERIFY, 135, 33, (struct xo){ .from = DOM_B, .to = DOM_A, .id = "S1" });
    xev(c, 2, FT_DIR_RESP, XMPP_EV_DB_VERIFY, 136, 34,
        (struct xo){ .from = DOM_A, .to = DOM_B, .id = "S1", .db = XMPP_DB_VALID });
    corr_finish(c);
    return c;
}

static void test_decrypted(void)
{
    struct correlator *c = tls_dialback(true, false);
    const struct corr_direction *ab = dirn(c, DOM_A, DOM_B);

    dump(c, "decrypted dialback");
    CHECK(ab && ab->verdict.status == CORR_OK);
    CHECK(code_is(ab, VERDICT_OK));
    CHECK(ab && ab->verdict.decrypted);
    CHECK(ab && ab->stages[STAGE_TLS] == STAGE_OK);
    CHECK(ab && ab->stages[STAGE_AUTH] == STAGE_OK);
    CHECK(has_note(ab, "decrypted"));
    CHECK(!has_note(ab, "CAP-ENCRYPTED"));
    /* the key went on the stream restarted inside TLS (id S1, not P1):
     * its verification on C2 is linked */
    CHECK(tl_has(ab, 33, 2, "db:verify"));
    CHECK(!has_note(ab, "no db:verify seen"));
    CHECK(tl_has(ab, 21, 1, "db:result"));
    corr_free(c);

    /* the same capture without keys: inferred, not decrypted */
    c = tls_dialback(false, false);
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && !ab->verdict.decrypted);
    CHECK(ab && ab->stages[STAGE_AUTH] != STAGE_OK);
    CHECK(has_note(ab, "CAP-ENCRYPTED"));
    corr_free(c);

    /* decryption stopped before the answer: decrypted up to there, the
     * TLS stage says so, the answer is not invented */
    c = tls_dialback(true, true);
    ab = dirn(c, DOM_A, DOM_B);
    CHECK(ab && ab->verdict.decrypted);
    CHECK(ab && ab->stage_detail[STAGE_TLS] && strstr(ab->stage_detail[STAGE_TLS], "until decryption stopped"));
    CHECK(ab && ab->verdict.status != CORR_OK);
    corr_free(c);
}

/* A dual-stack server asks over IPv4 and connects over IPv6: the refused
 * connection from its unnamed IPv6 address is its domain's, at connect
 * (not a separate [address] federation, not the bounce the user saw). */
static void test_lookup_names_source(void)
{
    static const struct {
        int syn_ms;         /* the SYN, after the A answer at 1005 ms */
        bool second_asker;  /* a server of another domain asked too */
        bool named;
    } cases[] = {
        { 1100, false, true },
        { 90000, false, false }, /* long after the answer: not its lookup */
        { 1100, true, false },   /* two askers: ambiguous */
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct correlator *c = mk(NULL, NULL);
        const struct corr_direction *ab;
        /* alice's client names a's IPv4 address */
        conn(c, (struct cs){ .id = 9, .orig = CLIENT ":51000", .resp = IP_A ":5222", .syn = 10, .synack = 11,
                             .end = 100000 });
        xev(c, 9, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 12, 90, (struct xo){ .to = DOM_A, .ns = "jabber:client" });
        xev(c, 9, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 13, 91,
            (struct xo){ .from = DOM_A, .id = "C9", .ns = "jabber:client" });
        lookup(c, 1, IP_A, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, DNS_OUT_ANSWERED, 990,
               "SRV xmpp." DOM_B " 5269", NULL);
        lookup(c, 2, IP_A, "xmpp." DOM_B, DNS_T_AAAA, DNS_OUT_ANSWERED, 1000, "A xmpp." DOM_B " 2001:db8::20", NULL);
        if (cases[i].second_asker) {
            conn(c, (struct cs){ .id = 8, .orig = "198.51.100.78:51000", .resp = "198.51.100.9:5222", .syn = 10,
                                 .synack = 11, .end = 100000 });
            xev(c, 8, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 12, 80, (struct xo){ .to = "c.example.test", .ns = "jabber:client" });
            xev(c, 8, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 13, 81,
                (struct xo){ .from = "c.example.test", .id = "C8", .ns = "jabber:client" });
            lookup(c, 3, "198.51.100.9", "xmpp." DOM_B, DNS_T_AAAA, DNS_OUT_ANSWERED, 1010,
                   "A xmpp." DOM_B " 2001:db8::20", NULL);
        }
        conn(c, (struct cs){ .id = 1, .orig = "[2001:db8::1]:40001", .resp = "[2001:db8::20]:5269",
                             .syn = cases[i].syn_ms, .rst = cases[i].syn_ms + 1, .rst_dir = FT_DIR_RESP });
        corr_finish(c);
        dump(c, "lookup-names-source");
        ab = dirn(c, DOM_A, DOM_B);
        CHECK((fed(c, "[2001:db8::1]", DOM_B) == NULL) == cases[i].named);
        if (cases[i].named)
            CHECK(ab && code_is(ab, VERDICT_TCP_RST) && ab->verdict.stage == STAGE_CONNECT);
        corr_free(c);
    }
}

/* Texts that do not fit end at a whole word and an ellipsis. */
/* timeline_sort gives qsort's (stable merge sort's) order on in-order,
 * nearly sorted, reversed and shuffled lines with ties of time, frame and
 * text; flow_id marks each line's first position to check stability. */
static void test_timeline_sort(void)
{
    static const char *texts[] = { "a", "b", "SYN", "a" };
    struct corr_tl got[300], want[300];
    uint32_t seed = 12345;
    for (int shape = 0; shape < 5; shape++) {
        for (unsigned n = 0; n <= 300; n += (n < 20 ? 1 : 37)) {
            for (unsigned i = 0; i < n; i++) {
                unsigned k = i;
                seed = seed * 1103515245u + 12345u;
                if (shape == 1 && seed % 16 == 0)
                    k = (seed >> 8) % (n ? n : 1);
                else if (shape == 2)
                    k = n - i;
                else if (shape == 3)
                    k = (seed >> 8) % 64;
                else if (shape == 4)
                    k = i / 3; /* ties of time */
                memset(&got[i], 0, sizeof(got[i]));
                got[i].order_ns = (int64_t)k * 1000;
                got[i].ref.frame = shape == 4 ? (seed >> 4) % 2 : k;
                got[i].borrowed = texts[(seed >> 12) % 4];
                got[i].flow_id = i;
            }
            memcpy(want, got, sizeof(got[0]) * n);
            if (n > 1) {
                qsort(want, n, sizeof(want[0]), timeline_cmp);
                timeline_sort(got, n);
            }
            {
                bool same = true;
                for (unsigned i = 0; i < n; i++)
                    same = same && got[i].flow_id == want[i].flow_id;
                CHECK(same);
            }
        }
    }
}

/* The reference spelling of an address and port: inet_ntop and snprintf,
 * cut like snprintf at len. */
static void ref_addr_port(char *buf, size_t len, const struct ft_addr *a, uint16_t port)
{
    char ip[FT_ADDR_STRLEN] = "?";
    if (a->family == 4 || a->family == 6)
        inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, ip, sizeof(ip));
    snprintf(buf, len, a->family == 6 ? "[%s]:%u" : "%s:%u", ip, port);
}

/* Checks ft_addr_str and corr_addr_port against inet_ntop and snprintf
 * for one address at every port edge and every short buffer. */
static void check_addr_text(const struct ft_addr *a)
{
    static const uint16_t ports[] = { 0, 1, 9, 10, 99, 100, 5269, 9999, 10000, 65535 };
    char got[80], want[80], ip[FT_ADDR_STRLEN];
    for (size_t p = 0; p < sizeof(ports) / sizeof(ports[0]); p++) {
        for (size_t len = 1; len <= sizeof(got); len++) {
            memset(got, 'x', sizeof(got));
            memset(want, 'x', sizeof(want));
            corr_addr_port(got, len, a, ports[p]);
            ref_addr_port(want, len, a, ports[p]);
            if (!CHECK(memcmp(got, want, sizeof(got)) == 0))
                printf("  port %u len %zu: got '%s' want '%s'\n", ports[p], len, got, want);
        }
    }
    for (size_t len = 2; len <= sizeof(ip); len++) {
        char ref[FT_ADDR_STRLEN];
        const char *r = NULL;
        memset(ip, 'x', sizeof(ip));
        memset(ref, 'x', sizeof(ref));
        if (a->family == 4 || a->family == 6)
            r = inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, ref, (socklen_t)len);
        if (!r)
            memcpy(ref, "?", 2);
        CHECK(ft_addr_str(a, ip, len) == ip);
        CHECK(memcmp(ip, ref, sizeof(ip)) == 0);
    }
}

/* Address text (digits by hand) is inet_ntop's and snprintf's, byte for
 * byte: 0.0.0.0, 255.255.255.255, one- two- and three-digit octets, IPv6
 * in brackets, an unset address, ports 0 and 65535, truncated buffers. */
static void test_addr_text(void)
{
    static const uint8_t v4[][4] = { { 0, 0, 0, 0 },       { 255, 255, 255, 255 }, { 1, 2, 3, 4 },
                                     { 10, 99, 100, 199 }, { 192, 168, 0, 1 },     { 9, 10, 200, 250 } };
    static const uint8_t v6[][16] = { { 0 },
                                      { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
                                      { [10] = 0xff, [11] = 0xff, [12] = 192, [13] = 0, [14] = 2, [15] = 1 },
                                      { 0xfe, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 },
                                      { [12] = 10, [13] = 1, [14] = 2, [15] = 3 },
                                      { [10] = 0xff, [11] = 0xff },
                                      { [0] = 1, [15] = 1 },
                                      { [1] = 1, [5] = 1, [11] = 1 },
                                      { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
    struct ft_addr a;
    char buf[80];
    for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
        ft_addr_set4(&a, v4[i]);
        check_addr_text(&a);
    }
    for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
        ft_addr_set6(&a, v6[i]);
        check_addr_text(&a);
    }
    memset(&a, 0, sizeof(a));
    check_addr_text(&a);
    /* every octet value, through a pseudo-random walk of the rest */
    for (unsigned v = 0; v < 256; v++) {
        uint8_t b[4] = { (uint8_t)v, (uint8_t)(v * 7), (uint8_t)(255 - v), (uint8_t)(v * 13 + 5) };
        ft_addr_set4(&a, b);
        check_addr_text(&a);
    }
    /* IPv6: words of 0, 0xffff, short and long hex in every arrangement
     * a pseudo-random walk reaches (zero runs, mapped and compatible
     * IPv4 tails), against inet_ntop */
    {
        static const unsigned words[] = { 0, 0, 0, 0xffff, 1, 0x10, 0xab0, 0x1234, 0xf00d };
        uint32_t seed = 99;
        bool same = true;
        for (unsigned k = 0; k < 200000; k++) {
            uint8_t b[16];
            char got[FT_ADDR_STRLEN], want[FT_ADDR_STRLEN];
            for (int w = 0; w < 8; w++) {
                unsigned v;
                seed = seed * 1103515245u + 12345u;
                v = words[(seed >> 16) % 9];
                if (v == 0x1234)
                    v = (seed >> 3) & 0xffff;
                b[2 * w] = (uint8_t)(v >> 8);
                b[2 * w + 1] = (uint8_t)v;
            }
            ft_addr_set6(&a, b);
            ft_addr_str(&a, got, sizeof(got));
            inet_ntop(AF_INET6, b, want, sizeof(want));
            if (strcmp(got, want) != 0) {
                if (same)
                    printf("  ipv6 got '%s' want '%s'\n", got, want);
                same = false;
            }
            if (k % 1000 == 0)
                check_addr_text(&a);
        }
        CHECK(same);
    }
    /* "N SYNs" against snprintf, every count and short buffers */
    {
        bool same = true;
        for (unsigned n = 0; n <= 65535; n++) {
            for (size_t len = (n < 20 || n == 65535) ? 1 : 16; len <= 16; len++) {
                char got[16], want[16];
                memset(got, 'x', sizeof(got));
                memset(want, 'x', sizeof(want));
                corr_syns_str((uint16_t)n, got, len);
                snprintf(want, len, "%u SYN%s", n, n == 1 ? "" : "s");
                same = same && memcmp(got, want, sizeof(got)) == 0;
            }
        }
        CHECK(same);
    }
    ft_addr_set4(&a, v4[1]);
    corr_addr_port(buf, sizeof(buf), &a, 65535);
    CHECK(strcmp(buf, "255.255.255.255:65535") == 0);
    ft_addr_set4(&a, v4[0]);
    corr_addr_port(buf, sizeof(buf), &a, 0);
    CHECK(strcmp(buf, "0.0.0.0:0") == 0);
    ft_addr_set6(&a, v6[1]);
    corr_addr_port(buf, sizeof(buf), &a, 5269);
    CHECK(strcmp(buf, "[2001:db8::1]:5269") == 0);
}

static void test_text_cut(void)
{
    char b[32];
    char *d;
    char longtext[600];
    corr_format(b, sizeof(b), "%s", "it points to another server, not to us");
    CHECK(strcmp(b, "it points to another server\xe2\x80\xa6") == 0);
    corr_format(b, sizeof(b), "%s", "short");
    CHECK(strcmp(b, "short") == 0);
    corr_format(b, sizeof(b), "%s", "0123456789012345678901234567890123456789");
    CHECK(strlen(b) == sizeof(b) - 1 && strcmp(b + sizeof(b) - 4, "\xe2\x80\xa6") == 0);
    memset(longtext, 0, sizeof(longtext));
    for (size_t i = 0; i + 9 < sizeof(longtext); i += 9)
        memcpy(longtext + i, "trusted. ", 9);
    d = corr_dup_text(longtext);
    CHECK(d && strlen(d) < STR_CAP && strstr(d, "trusted.\xe2\x80\xa6") && !strstr(d, "trust\xe2"));
    free(d);
}

int main(void)
{
    test_working();
    test_ordering();
    test_shared_target();
    test_tcp();
    test_stream();
    test_tls();
    test_tls_records();
    test_dialback();
    test_nat();
    test_subscribe();
    test_capture_quality();
    test_roles();
    test_c2s_link();
    test_lookup_twins();
    test_lookup_names_source();
    test_text_cut();
    test_addr_text();
    test_timeline_sort();
    test_stop();
    test_midstream_stanzas();
    test_midstream_responder_only();
    test_every_code();
    test_decrypted();
    return check_summary("correlate");
}
