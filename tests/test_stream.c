/*
 * test_stream.c - unit tests of the streaming correlator: facts fed through
 * its fact sink in packet-time order with on_time advancing, and the
 * verdict events it sends asserted with their decision times (a verdict
 * when the evidence is in, again with the previous one on a change, a
 * timer-driven failure with no further packet, retirement freeing the
 * facts, the retired timeline cut to its first and last lines and where
 * each stage passed, what a direction remembers of its retired facts when
 * it is judged again, and a partial round renaming a connection once DNS
 * names its address, and an advice still naming its domain after the
 * interned names are rebuilt).
 *
 * Times are milliseconds after T0.  Connection N uses frames N*1000 + x.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "correlate.h"
#include "tests/check.h"

#define T0 INT64_C(1700000000000000000)
#define MS(x) (T0 + (int64_t)(x) * INT64_C(1000000))

#define DOM_A "a.example.test"
#define DOM_B "b.example.test"
#define IP_A "198.51.100.1"
#define IP_B "198.51.100.2"

/* ---- what the correlator sent -------------------------------------------- */

struct sent {
    char from[64], to[64];
    enum corr_status status;
    enum verdict_code code;
    int64_t decided_ns;
    bool has_previous;
    enum corr_status prev_status;
    enum verdict_code prev_code;
};

static struct sent sent[64];
static unsigned nsent;

static void on_verdict(void *ctx, const struct corr_federation *f, const struct corr_direction *d,
                       const struct corr_verdict_change *chg)
{
    struct sent *s;
    (void)ctx;
    (void)f;
    if (nsent >= 64)
        return;
    s = &sent[nsent++];
    snprintf(s->from, sizeof(s->from), "%s", d->from);
    snprintf(s->to, sizeof(s->to), "%s", d->to);
    s->status = d->verdict.status;
    s->code = d->verdict.code;
    s->decided_ns = chg->decided_ns;
    s->has_previous = chg->has_previous;
    s->prev_status = chg->prev_status;
    s->prev_code = chg->prev_code;
}

/* The events sent for from -> to, in order: the n-th (0-based) or NULL. */
static const struct sent *sent_for(const char *from, const char *to, unsigned n)
{
    for (unsigned i = 0; i < nsent; i++)
        if (strcmp(sent[i].from, from) == 0 && strcmp(sent[i].to, to) == 0 && n-- == 0)
            return &sent[i];
    return NULL;
}

static unsigned count_for(const char *from, const char *to)
{
    unsigned n = 0;
    while (sent_for(from, to, n))
        n++;
    return n;
}

/* ---- feeding ------------------------------------------------------------- */

struct rig {
    struct correlator *c;
    struct fact_sink sink;
    struct flow_info fi[16];
};

static struct ft_addr ip(const char *s)
{
    struct ft_addr a;
    if (!ft_addr_parse(&a, s))
        abort();
    return a;
}

static void rig_init(struct rig *r, void (*tune)(struct corr_config *))
{
    struct corr_config cfg;
    corr_config_default(&cfg);
    cfg.local_domains[0] = DOM_A;
    cfg.n_local_domains = 1;
    cfg.local_servers[0] = ip(IP_A);
    cfg.n_local_servers = 1;
    cfg.round_interval_ns = 100 * INT64_C(1000000);
    if (tune)
        tune(&cfg);
    memset(r, 0, sizeof(*r));
    r->c = corr_new(&cfg);
    if (!r->c)
        abort();
    corr_set_verdict_sink(r->c, on_verdict, NULL);
    r->sink = corr_fact_sink(r->c);
    nsent = 0;
}

static void tick(struct rig *r, int ms)
{
    fact_emit_time(&r->sink, MS(ms));
}

static const struct flow_info *flow(struct rig *r, unsigned id, const char *orig_ip, uint16_t orig_port,
                                    const char *resp_ip)
{
    struct flow_info *fi = &r->fi[id];
    memset(fi, 0, sizeof(*fi));
    fi->flow_id = id;
    fi->proto = 6;
    fi->addr[0] = ip(orig_ip);
    fi->addr[1] = ip(resp_ip);
    fi->port[0] = orig_port;
    fi->port[1] = 5269;
    fi->app = APP_XMPP;
    return fi;
}

static struct frame_ref fref(uint64_t frame, int ms)
{
    struct frame_ref f = { frame, frame, 0, MS(ms) };
    return f;
}

/* A connection record of one phase.  syn/synack/rst/end: ms, 0 = absent. */
static void conn_rec(struct rig *r, unsigned id, enum conn_phase phase, int syn, int nsyn, int synack, int rst,
                     int end)
{
    struct conn_record rec;
    int last = syn;
    memset(&rec, 0, sizeof(rec));
    rec.phase = phase;
    rec.end_reason = FLOW_END_TIMEOUT;
    rec.info = r->fi[id];
    rec.rtt_ns = -1;
    rec.first_ns = MS(syn);
    rec.first_frame = id * 1000 + 1;
    rec.syn = fref(id * 1000 + 1, syn);
    rec.syn_count = (uint16_t)nsyn;
    for (int i = 0; i < nsyn && i < FACT_MAX_SYN_TIMES; i++)
        rec.syn_times_ns[i] = MS(syn + (i ? (1000 << (i - 1)) - 1000 + 1000 * i : 0));
    if (nsyn > 1)
        last = (int)((rec.syn_times_ns[nsyn - 1] - T0) / 1000000);
    rec.dir[0].packets = (uint64_t)nsyn;
    if (synack) {
        rec.synack = fref(id * 1000 + 2, synack);
        rec.synack_count = 1;
        rec.established = true;
        rec.dir[0].packets = 10;
        rec.dir[1].packets = 10;
        last = synack;
    }
    if (rst) {
        rec.rst = fref(id * 1000 + 3, rst);
        rec.rst_dir = FT_DIR_RESP;
        rec.closed = true;
        last = rst;
    }
    if (end)
        last = end;
    rec.last_ns = MS(last);
    rec.last_frame = id * 1000 + 9;
    fact_emit_conn(&r->sink, &rec);
}

static void xev(struct rig *r, unsigned id, int dir, enum xmpp_event_type type, int ms, uint64_t frame,
                const char *from, const char *to, const char *sid, enum xmpp_db_type db)
{
    struct xmpp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.dir = (uint8_t)dir;
    ev.meta.frame = ev.meta.src_frame = frame;
    ev.meta.ts_ns = MS(ms);
    ev.meta.flow_id = id;
    ev.meta.dir = (uint8_t)dir;
    ev.from = from;
    ev.to = to;
    ev.id = sid;
    if (type == XMPP_EV_STREAM_OPEN) {
        ev.version = "1.0";
        ev.stream_ns = "http://etherx.jabber.org/streams";
        ev.stream_ns_ok = true;
        ev.content_ns = "jabber:server";
        ev.db_ns = true;
    } else if (type == XMPP_EV_FEATURES) {
        ev.dialback = true;
    } else if (type == XMPP_EV_DB_RESULT) {
        ev.db_type = db;
        ev.type_str = db == XMPP_DB_VALID ? "valid" : db == XMPP_DB_INVALID ? "invalid" : NULL;
        ev.db_key_len = db == XMPP_DB_NONE ? 64 : 0;
    }
    fact_emit_xmpp(&r->sink, &r->fi[id], &ev);
}

/* Connection id a -> b at ms: SYN, SYN-ACK, stream headers, a db:result
 * answered `answer` (XMPP_DB_NONE: not answered) 400 ms later, with
 * on_time ticks every 50 ms in between. */
static void a_to_b(struct rig *r, unsigned id, int ms, enum xmpp_db_type answer)
{
    uint64_t fr = id * 1000 + 10;
    flow(r, id, IP_A, (uint16_t)(40000 + id), IP_B);
    tick(r, ms);
    conn_rec(r, id, CONN_SYN, ms, 1, 0, 0, 0);
    tick(r, ms + 1);
    conn_rec(r, id, CONN_SYNACK, ms, 1, ms + 1, 0, 0);
    tick(r, ms + 2);
    xev(r, id, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, ms + 2, fr, DOM_A, DOM_B, NULL, XMPP_DB_NONE);
    xev(r, id, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, ms + 3, fr + 1, DOM_B, DOM_A, "S1", XMPP_DB_NONE);
    xev(r, id, FT_DIR_RESP, XMPP_EV_FEATURES, ms + 4, fr + 2, NULL, NULL, NULL, XMPP_DB_NONE);
    tick(r, ms + 5);
    xev(r, id, FT_DIR_ORIG, XMPP_EV_DB_RESULT, ms + 5, fr + 3, DOM_A, DOM_B, NULL, XMPP_DB_NONE);
    for (int t = ms + 50; t < ms + 400; t += 50)
        tick(r, t);
    tick(r, ms + 400);
    if (answer != XMPP_DB_NONE)
        xev(r, id, FT_DIR_RESP, XMPP_EV_DB_RESULT, ms + 400, fr + 4, DOM_B, DOM_A, NULL, answer);
}

static void end_conn(struct rig *r, unsigned id, int syn, int end)
{
    tick(r, end);
    conn_rec(r, id, CONN_END, syn, 1, syn + 1, 0, end);
}

/* A presence stanza of type `type` on connection id. */
static void pres(struct rig *r, unsigned id, int dir, int ms, uint64_t frame, const char *from, const char *to,
                 enum xmpp_presence_type type)
{
    struct xmpp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = XMPP_EV_STANZA;
    ev.dir = (uint8_t)dir;
    ev.meta.frame = ev.meta.src_frame = frame;
    ev.meta.ts_ns = MS(ms);
    ev.meta.flow_id = id;
    ev.meta.dir = (uint8_t)dir;
    ev.from = from;
    ev.to = to;
    ev.stanza = XMPP_STANZA_PRESENCE;
    ev.presence = type;
    ev.type_str = type == XMPP_PRES_SUBSCRIBE    ? "subscribe"
                  : type == XMPP_PRES_SUBSCRIBED ? "subscribed"
                  : type == XMPP_PRES_ERROR      ? "error"
                  : type == XMPP_PRES_UNSUBSCRIBE ? "unsubscribe"
                                                 : "unsubscribed";
    if (type == XMPP_PRES_ERROR) {
        ev.condition = "remote-server-timeout";
        ev.error_type = "wait";
    }
    tick(r, ms);
    fact_emit_xmpp(&r->sink, &r->fi[id], &ev);
}

/* A client's stream header on connection id (a user of domain dom). */
static void client_stream(struct rig *r, unsigned id, int ms, const char *dom)
{
    struct xmpp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = XMPP_EV_STREAM_OPEN;
    ev.dir = FT_DIR_ORIG;
    ev.meta.frame = ev.meta.src_frame = id * 1000 + 10;
    ev.meta.ts_ns = MS(ms);
    ev.meta.flow_id = id;
    ev.to = dom;
    ev.version = "1.0";
    ev.stream_ns = "http://etherx.jabber.org/streams";
    ev.stream_ns_ok = true;
    ev.content_ns = "jabber:client";
    fact_emit_xmpp(&r->sink, &r->fi[id], &ev);
}

/* The direction from -> to among the federations kept, or NULL. */
static const struct corr_direction *dir_of(const struct correlator *c, const char *from, const char *to)
{
    for (unsigned i = 0; i < corr_federation_count(c); i++) {
        const struct corr_federation *f = corr_federation_at(c, i);
        for (unsigned j = 0; j < f->n_dir; j++)
            if (strcmp(f->dir[j].from, from) == 0 && strcmp(f->dir[j].to, to) == 0)
                return &f->dir[j];
    }
    return NULL;
}

static bool timeline_has(const struct corr_direction *d, uint64_t frame)
{
    for (unsigned i = 0; i < d->n_timeline; i++)
        if (d->timeline[i].ref.frame == frame)
            return true;
    return false;
}

/* Connection 1, a -> b at 1000 ms: dialback valid, then a user of a
 * asks a user of b for a subscription and gets `answer`; it ends at
 * 3000 ms and is retired 10 s later (short_idle). */
static void first_episode(struct rig *r, enum xmpp_presence_type answer)
{
    a_to_b(r, 1, 1000, XMPP_DB_VALID);
    pres(r, 1, FT_DIR_ORIG, 1500, 1020, "ann@" DOM_A, "bob@" DOM_B, XMPP_PRES_SUBSCRIBE);
    pres(r, 1, FT_DIR_RESP, 1600, 1021, "bob@" DOM_B, "ann@" DOM_A, answer);
    end_conn(r, 1, 1000, 3000);
    for (int t = 3100; t <= 20000; t += 100)
        tick(r, t);
}

/* ---- tests ----------------------------------------------------------------- */

/* Dialback answered valid at 1400 ms: one ok verdict for a -> b, decided
 * after the answer and within one round interval of it, nothing before. */
static void test_decided_when_evidence_in(void)
{
    struct rig r;
    const struct sent *s;
    rig_init(&r, NULL);
    a_to_b(&r, 1, 1000, XMPP_DB_NONE);
    CHECK(count_for(DOM_A, DOM_B) == 0); /* the key is not answered yet */
    tick(&r, 1400);
    xev(&r, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 1400, 1014, DOM_B, DOM_A, NULL, XMPP_DB_VALID);
    for (int t = 1450; t <= 2000; t += 50)
        tick(&r, t);
    s = sent_for(DOM_A, DOM_B, 0);
    CHECK(s != NULL);
    if (s) {
        CHECK(s->status == CORR_OK);
        CHECK(s->code == VERDICT_OK);
        CHECK(!s->has_previous);
        CHECK(s->decided_ns > MS(1400) && s->decided_ns <= MS(1500));
    }
    end_conn(&r, 1, 1000, 5000);
    corr_finish(r.c);
    CHECK(count_for(DOM_A, DOM_B) == 1); /* unchanged at the end: not sent again */
    CHECK(corr_federation_count(r.c) == 1);
    CHECK(corr_stats(r.c)->rounds > 0);
    corr_free(r.c);
}

/* A later connection whose key is refused: the verdict is sent again as
 * failed with the previous ok. */
static void test_change_sent_with_previous(void)
{
    struct rig r;
    const struct sent *s0, *s1;
    rig_init(&r, NULL);
    a_to_b(&r, 1, 1000, XMPP_DB_VALID);
    end_conn(&r, 1, 1000, 3000);
    a_to_b(&r, 2, 10000, XMPP_DB_INVALID);
    for (int t = 10450; t <= 11000; t += 50)
        tick(&r, t);
    s0 = sent_for(DOM_A, DOM_B, 0);
    s1 = sent_for(DOM_A, DOM_B, 1);
    CHECK(s0 && s0->status == CORR_OK);
    CHECK(s1 != NULL);
    if (s1) {
        CHECK(s1->status == CORR_FAILED);
        CHECK(s1->code == VERDICT_DB_INVALID);
        CHECK(s1->has_previous && s1->prev_status == CORR_OK && s1->prev_code == VERDICT_OK);
        CHECK(s1->decided_ns > MS(10400) && s1->decided_ns <= MS(10500));
    }
    corr_finish(r.c);
    CHECK(count_for(DOM_A, DOM_B) == 2);
    corr_free(r.c);
}

/* A SYN (and two retransmissions) never answered, then only clock ticks:
 * failed once the last SYN's wait (twice the last interval, at least the
 * SYN timeout) is over, not before. */
static void test_timer_fires_without_packets(void)
{
    struct rig r;
    const struct sent *s;
    rig_init(&r, NULL);
    /* the address book learns b's address from DNS */
    {
        struct dns_lookup lk;
        memset(&lk, 0, sizeof(lk));
        lk.id = 1;
        lk.client.addr = ip(IP_A);
        lk.server.addr = ip("198.51.100.53");
        lk.qname = "b.example.test";
        lk.qtype = DNS_T_A;
        lk.outcome = DNS_OUT_ANSWERED;
        lk.has_response = true;
        lk.nqueries = 1;
        lk.query[0].frame = 1;
        lk.query[0].ts_ns = MS(100);
        lk.response.frame = 2;
        lk.response.ts_ns = MS(105);
        lk.nans = 1;
        lk.ans[0].type = DNS_T_A;
        lk.ans[0].name = "b.example.test";
        lk.ans[0].addr = ip(IP_B);
        tick(&r, 100);
        fact_emit_dns(&r.sink, &lk);
    }
    flow(&r, 1, IP_A, 40001, IP_B);
    tick(&r, 1000);
    conn_rec(&r, 1, CONN_SYN, 1000, 1, 0, 0, 0);
    tick(&r, 2000);
    conn_rec(&r, 1, CONN_SYN, 1000, 2, 0, 0, 0); /* retransmission at 2000 */
    tick(&r, 4000);
    conn_rec(&r, 1, CONN_SYN, 1000, 3, 0, 0, 0); /* and at 4000: next wait 4 s */
    for (int t = 4100; t < 8000; t += 100)
        tick(&r, t);
    CHECK(count_for(DOM_A, DOM_B) == 0);
    for (int t = 8000; t <= 9000; t += 100)
        tick(&r, t);
    s = sent_for(DOM_A, DOM_B, 0);
    CHECK(s != NULL);
    if (s) {
        CHECK(s->status == CORR_FAILED);
        CHECK(s->code == VERDICT_TCP_NO_SYNACK);
        CHECK(s->decided_ns >= MS(8000) && s->decided_ns <= MS(8100));
    }
    corr_finish(r.c);
    corr_free(r.c);
}

static void short_idle(struct corr_config *cfg)
{
    cfg->idle_timeout_ns = 10 * INT64_C(1000000000);
    cfg->timeline_keep = 2;
}

/* An ended connection idle past --idle-timeout is freed; its direction
 * retires with its verdict, and its timeline keeps the first and last
 * two lines and the line where each stage passed, with the count of the
 * rest. */
static void test_retirement(void)
{
    struct rig r;
    const struct corr_federation *f;
    const struct corr_direction *d = NULL;
    rig_init(&r, short_idle);
    a_to_b(&r, 1, 1000, XMPP_DB_VALID);
    end_conn(&r, 1, 1000, 3000);
    for (int t = 3100; t <= 15000; t += 100)
        tick(&r, t);
    CHECK(corr_stats(r.c)->conns_retired == 1);
    CHECK(corr_stats(r.c)->directions_retired == 1);
    f = corr_federation_at(r.c, 0);
    CHECK(f != NULL);
    for (unsigned i = 0; f && i < f->n_dir; i++)
        if (strcmp(f->dir[i].from, DOM_A) == 0)
            d = &f->dir[i];
    CHECK(d != NULL);
    if (d) {
        CHECK(d->retired);
        CHECK(d->verdict.status == CORR_OK);
        /* the first and last two, and where each stage passed */
        CHECK(d->n_timeline >= 4 && d->n_timeline <= 4 + STAGE_CAPTURE);
        CHECK(d->timeline_elided > 0);
        CHECK(d->n_timeline >= 4 && d->timeline[0].ref.frame == 1001 &&
              d->timeline[d->n_timeline - 1].ref.ts_ns >= MS(1400));
        for (unsigned i = 2; i + 2 < d->n_timeline; i++)
            CHECK(d->timeline[i].key);
    }
    corr_finish(r.c);
    CHECK(corr_federation_count(r.c) == 1);
    f = corr_federation_at(r.c, 0);
    CHECK(f && f->verdict && f->verdict->status == CORR_OK);
    CHECK(count_for(DOM_A, DOM_B) == 1);
    corr_free(r.c);
}

/* A lookup of ms: qname/qtype answered with one record (A: addr; SRV:
 * target:5269). */
static void lookup(struct rig *r, uint64_t id, int ms, const char *qname, uint16_t qtype, const char *answer)
{
    struct dns_lookup lk;
    memset(&lk, 0, sizeof(lk));
    lk.id = id;
    lk.client.addr = ip("192.0.2.77");
    lk.server.addr = ip("198.51.100.53");
    lk.qname = qname;
    lk.qtype = qtype;
    lk.outcome = DNS_OUT_ANSWERED;
    lk.has_response = true;
    lk.nqueries = 1;
    lk.query[0].frame = id * 10;
    lk.query[0].ts_ns = MS(ms);
    lk.response.frame = id * 10 + 1;
    lk.response.ts_ns = MS(ms + 2);
    lk.nans = 1;
    lk.ans[0].type = qtype;
    lk.ans[0].name = qname;
    if (qtype == DNS_T_SRV) {
        lk.ans[0].target = answer;
        lk.ans[0].port = 5269;
    } else {
        lk.ans[0].addr = ip(answer);
    }
    tick(r, ms + 2);
    fact_emit_dns(&r->sink, &lk);
}

/* A user's web lookup nothing XMPP claims is freed once it is 10 s old
 * (counted in lookups_noise); the SRV, the address of its target and a
 * lookup whose address a server then connects to are kept. */
static void test_dns_noise(void)
{
    struct rig r;
    rig_init(&r, NULL);
    lookup(&r, 1, 100, "www.shop.example", DNS_T_A, "203.0.113.80");
    lookup(&r, 2, 200, "_xmpp-server._tcp.b.example.test", DNS_T_SRV, "xmpp.b.example.test");
    lookup(&r, 3, 210, "xmpp.b.example.test", DNS_T_A, IP_B);
    lookup(&r, 4, 300, "c.example.test", DNS_T_A, "203.0.113.9");
    flow(&r, 1, IP_A, 40001, "203.0.113.9");
    tick(&r, 320);
    conn_rec(&r, 1, CONN_SYN, 320, 1, 321, 0, 0);
    for (int t = 400; t < 9000; t += 500)
        tick(&r, t);
    CHECK(corr_stats(r.c)->lookups_noise == 0); /* not 10 s old yet */
    lookup(&r, 5, 12000, "www.news.example", DNS_T_A, "203.0.113.81");
    tick(&r, 12500);
    CHECK(corr_stats(r.c)->lookups_noise == 1);
    CHECK(corr_stats(r.c)->lookups == 5);
    corr_finish(r.c);
    corr_free(r.c);
}

/* What a claimed lookup's answer said outlives the lookup: the SRV of b
 * and the address of its target are freed after --idle-timeout, and a
 * later connection to that address that never gets an answer is still
 * a -> b, not a -> "[address]". */
static void test_dns_memory(void)
{
    struct rig r;
    const struct corr_direction *d;
    rig_init(&r, short_idle);
    lookup(&r, 1, 100, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, "xmpp." DOM_B);
    lookup(&r, 2, 110, "xmpp." DOM_B, DNS_T_A, "203.0.113.50");
    for (int t = 200; t <= 20000; t += 500)
        tick(&r, t);
    flow(&r, 1, IP_A, 40001, "203.0.113.50");
    tick(&r, 20100);
    conn_rec(&r, 1, CONN_SYN, 20100, 1, 0, 0, 0);
    for (int t = 20200; t <= 30000; t += 500)
        tick(&r, t);
    CHECK(corr_stats(r.c)->lookups_retired == 2);
    corr_finish(r.c);
    d = dir_of(r.c, DOM_A, DOM_B);
    CHECK(d != NULL);
    CHECK(dir_of(r.c, DOM_A, "[203.0.113.50]") == NULL);
    CHECK(d && d->verdict.status == CORR_FAILED && d->verdict.stage == STAGE_CONNECT);
    corr_free(r.c);
}

/* a -> b's direction, or NULL. */
static const struct corr_direction *dir_a_b(const struct correlator *c)
{
    for (unsigned i = 0; i < corr_federation_count(c); i++) {
        const struct corr_federation *f = corr_federation_at(c, i);
        for (unsigned j = 0; j < f->n_dir; j++)
            if (strcmp(f->dir[j].from, DOM_A) == 0 && strcmp(f->dir[j].to, DOM_B) == 0)
                return &f->dir[j];
    }
    return NULL;
}

/* An ok direction whose connection does not move keeps its verdict from
 * round to round, but a lookup about its receiving domain arriving later
 * is something its judgement reads: the next round judges it again and
 * the lookup's lines join its timeline (before the end of the run). */
static void test_new_lookup_judged_again(void)
{
    struct rig r;
    const struct corr_direction *d;
    unsigned before;
    rig_init(&r, NULL);
    a_to_b(&r, 1, 1000, XMPP_DB_VALID);
    for (int t = 1450; t <= 9000; t += 50) /* the SYN's timer has fired */
        tick(&r, t);
    d = dir_a_b(r.c);
    CHECK(d != NULL && d->verdict.status == CORR_OK);
    before = d ? d->n_timeline : 0;
    lookup(&r, 1, 10000, "_xmpp-server._tcp.b.example.test", DNS_T_SRV, "xmpp.b.example.test");
    for (int t = 10050; t <= 11000; t += 50)
        tick(&r, t);
    d = dir_a_b(r.c);
    CHECK(d != NULL && d->n_timeline == before + 2); /* the query and the answer */
    CHECK(count_for(DOM_A, DOM_B) == 1);              /* still ok: not sent again */
    corr_finish(r.c);
    corr_free(r.c);
}

static void busy_rounds(struct corr_config *cfg)
{
    cfg->max_lag_ns = 200 * INT64_C(1000000);
}

/* Rounds are partial once more than 4096 facts are kept (a busy
 * network's lookups): they read only the new lookups.  A connection
 * from an address nobody named yet is "[address]"; a DNS answer that
 * arrives later names the address, and the next partial round must
 * rename the connection and judge its direction under the new name. */
static void test_partial_round_renames(void)
{
    struct rig r;
    uint64_t partial;
    char qname[64];
    const char *ip_c = "203.0.113.5";
    rig_init(&r, busy_rounds);
    for (unsigned i = 0; i < 4200; i++) {
        snprintf(qname, sizeof(qname), "w%u.web.example", i);
        lookup(&r, 100 + i, 100 + (int)i / 100, qname, DNS_T_A, "203.0.113.200");
    }
    flow(&r, 1, ip_c, 40001, IP_B);
    tick(&r, 1000);
    conn_rec(&r, 1, CONN_SYN, 1000, 1, 0, 0, 0);
    conn_rec(&r, 1, CONN_SYNACK, 1000, 1, 1001, 0, 0);
    /* an old server: no 'from' on its stream header */
    xev(&r, 1, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, 1002, 1010, NULL, DOM_B, NULL, XMPP_DB_NONE);
    xev(&r, 1, FT_DIR_RESP, XMPP_EV_STREAM_OPEN, 1003, 1011, DOM_B, NULL, "S1", XMPP_DB_NONE);
    xev(&r, 1, FT_DIR_RESP, XMPP_EV_FEATURES, 1004, 1012, NULL, NULL, NULL, XMPP_DB_NONE);
    xev(&r, 1, FT_DIR_ORIG, XMPP_EV_DB_RESULT, 1005, 1013, "c.example.test", DOM_B, NULL, XMPP_DB_NONE);
    xev(&r, 1, FT_DIR_RESP, XMPP_EV_DB_RESULT, 1100, 1014, DOM_B, "c.example.test", NULL, XMPP_DB_VALID);
    for (int t = 1150; t <= 2000; t += 50)
        tick(&r, t);
    CHECK(corr_stats(r.c)->rounds_partial > 0);
    CHECK(count_for("c.example.test", DOM_B) == 0); /* "[203.0.113.5]" -> b: not sent */
    partial = corr_stats(r.c)->rounds_partial;
    lookup(&r, 9000, 2500, "c.example.test", DNS_T_A, ip_c);
    for (int t = 2550; t <= 3500; t += 50)
        tick(&r, t);
    CHECK(corr_stats(r.c)->rounds_partial > partial);
    CHECK(count_for("c.example.test", DOM_B) == 1);
    if (count_for("c.example.test", DOM_B))
        CHECK(sent_for("c.example.test", DOM_B, 0)->status == CORR_OK);
    corr_finish(r.c);
    corr_free(r.c);
}

static void tiny_caps(struct corr_config *cfg)
{
    short_idle(cfg);
    cfg->max_federations = 2;
}

/* Retired federations beyond --max-federations leave the document,
 * oldest first, and are counted. */
static void test_federation_cap(void)
{
    struct rig r;
    char name[8][32];
    rig_init(&r, tiny_caps);
    for (unsigned i = 0; i < 5; i++) {
        struct xmpp_event ev;
        unsigned id = i + 1;
        int ms = 1000 + (int)i * 20000;
        snprintf(name[i], sizeof(name[i]), "p%u.example.test", i);
        flow(&r, id, IP_A, (uint16_t)(40000 + id), IP_B);
        tick(&r, ms);
        conn_rec(&r, id, CONN_SYN, ms, 1, 0, 0, 0);
        conn_rec(&r, id, CONN_SYNACK, ms, 1, ms + 1, 0, 0);
        memset(&ev, 0, sizeof(ev));
        xev(&r, id, FT_DIR_ORIG, XMPP_EV_STREAM_OPEN, ms + 2, id * 1000 + 10, DOM_A, name[i], NULL, XMPP_DB_NONE);
        conn_rec(&r, id, CONN_END, ms, 1, ms + 1, ms + 3, ms + 3);
        for (int t = ms + 100; t < ms + 20000; t += 500)
            tick(&r, t);
    }
    corr_finish(r.c);
    CHECK(corr_stats(r.c)->federations_dropped >= 2);
    CHECK(corr_federation_count(r.c) <= 3);
    CHECK(corr_stats(r.c)->federations == corr_federation_count(r.c) + corr_stats(r.c)->federations_dropped);
    CHECK(corr_stats(r.c)->federations == 5);
    corr_free(r.c);
}

/* Retirement after 10 s; timelines cut at 20 lines each end. */
static void carry_idle(struct corr_config *cfg)
{
    cfg->idle_timeout_ns = 10 * INT64_C(1000000000);
}

/* The subscription completed on connection 1, which was retired; a later
 * connection only authenticates: the direction still reached subscribe
 * (ok), the stage says it was seen earlier, and the timeline shows both
 * connections. */
static void test_carry_keeps_stages(void)
{
    struct rig r;
    const struct corr_direction *d;
    rig_init(&r, carry_idle);
    first_episode(&r, XMPP_PRES_SUBSCRIBED);
    CHECK(corr_stats(r.c)->conns_retired == 1);
    a_to_b(&r, 2, 30000, XMPP_DB_VALID);
    end_conn(&r, 2, 30000, 31000);
    for (int t = 31100; t <= 32000; t += 100)
        tick(&r, t);
    corr_finish(r.c);
    d = dir_of(r.c, DOM_A, DOM_B);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->verdict.status == CORR_OK);
        CHECK(d->verdict.stage == STAGE_SUBSCRIBE);
        CHECK(d->stages[STAGE_SUBSCRIBE] == STAGE_OK);
        CHECK(d->stages[STAGE_AUTH] == STAGE_OK);
        CHECK(d->stage_detail[STAGE_SUBSCRIBE] && strstr(d->stage_detail[STAGE_SUBSCRIBE], "seen earlier: C1 at"));
        CHECK(timeline_has(d, 1021)); /* the answer, on the retired connection */
        CHECK(timeline_has(d, 2001)); /* the SYN of the new one */
    }
    corr_free(r.c);
}

/* The address lookup a direction's lookup stage read retires while its
 * connection stays open; judged again (a subscription on the open
 * connection), the direction still says its lookup was answered, seen
 * earlier, not "no DNS lookup in the capture". */
static void test_carry_address_lookup(void)
{
    struct rig r;
    const struct corr_direction *d;
    rig_init(&r, carry_idle);
    lookup(&r, 1, 900, DOM_B, DNS_T_A, IP_B); /* the RFC 6120 fallback, no SRV */
    a_to_b(&r, 1, 1000, XMPP_DB_VALID);
    pres(&r, 1, FT_DIR_ORIG, 15100, 1100, "u@" DOM_A, "v@" DOM_B, XMPP_PRES_SUBSCRIBE);
    for (int t = 15200; t <= 16000; t += 100)
        tick(&r, t);
    CHECK(corr_stats(r.c)->lookups_retired == 1);
    pres(&r, 1, FT_DIR_RESP, 16100, 1101, "v@" DOM_B, "u@" DOM_A, XMPP_PRES_SUBSCRIBED);
    for (int t = 16200; t <= 17000; t += 100)
        tick(&r, t);
    corr_finish(r.c);
    d = dir_of(r.c, DOM_A, DOM_B);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->verdict.status == CORR_OK);
        CHECK(d->stages[STAGE_LOOKUP] == STAGE_OK);
        CHECK(d->stage_detail[STAGE_LOOKUP] && strstr(d->stage_detail[STAGE_LOOKUP], "seen earlier"));
    }
    corr_free(r.c);
}

/* The same, but connection 2 is refused: failed at connect now (a failure
 * in the kept facts wins), and the timeline still shows the episode that
 * worked. */
static void test_carry_new_failure_wins(void)
{
    struct rig r;
    const struct corr_direction *d;
    rig_init(&r, carry_idle);
    first_episode(&r, XMPP_PRES_SUBSCRIBED);
    lookup(&r, 7, 29900, DOM_B, DNS_T_A, IP_B);
    flow(&r, 2, IP_A, 40002, IP_B);
    tick(&r, 30000);
    conn_rec(&r, 2, CONN_SYN, 30000, 1, 0, 0, 0);
    tick(&r, 30001);
    conn_rec(&r, 2, CONN_END, 30000, 1, 0, 30001, 30001);
    for (int t = 30100; t <= 32000; t += 100)
        tick(&r, t);
    corr_finish(r.c);
    d = dir_of(r.c, DOM_A, DOM_B);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->verdict.status == CORR_FAILED);
        CHECK(d->verdict.stage == STAGE_CONNECT);
        CHECK(d->verdict.code == VERDICT_TCP_RST);
        CHECK(d->stages[STAGE_SUBSCRIBE] == STAGE_NOT_SEEN); /* nothing after the failure */
        CHECK(timeline_has(d, 1021));
        CHECK(timeline_has(d, 2003)); /* the RST */
    }
    corr_free(r.c);
}

/* After connection 1 was retired only a lookup names the direction: the
 * lookup decides nothing, and the verdict connection 1 earned stands
 * (ok at subscribe; a refusal stays failed at subscribe), with a note. */
static void test_carry_lookup_only_episode(void)
{
    for (int refused = 0; refused < 2; refused++) {
        struct rig r;
        const struct corr_direction *d;
        rig_init(&r, carry_idle);
        first_episode(&r, refused ? XMPP_PRES_UNSUBSCRIBED : XMPP_PRES_SUBSCRIBED);
        lookup(&r, 8, 30000, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, "xmpp." DOM_B);
        for (int t = 30100; t <= 31000; t += 100)
            tick(&r, t);
        corr_finish(r.c);
        d = dir_of(r.c, DOM_A, DOM_B);
        CHECK(d != NULL);
        if (d) {
            bool noted = false;
            CHECK(d->verdict.status == (refused ? CORR_FAILED : CORR_OK));
            CHECK(d->verdict.stage == STAGE_SUBSCRIBE);
            CHECK(d->verdict.code == (refused ? VERDICT_STZ_UNSUBSCRIBED : VERDICT_OK));
            for (unsigned i = 0; i < d->verdict.n_notes; i++)
                noted |= strstr(d->verdict.notes[i], "judged from earlier facts (C1 at") != NULL;
            if (refused) /* the earlier verdict stands, and says so */
                CHECK(noted);
            else /* the stages passed then, each saying so */
                CHECK(strstr(d->verdict.summary, "(seen earlier: C1 at") != NULL);
            CHECK(timeline_has(d, 1021) && timeline_has(d, 80));
        }
        corr_free(r.c);
    }
}

/* Dialback refused on connection 1 (retired since); the user's subscribe
 * it bounced is on a client connection still open.  The bounce is the
 * dialback failure's consequence, not a later episode: failed at
 * dialback, not at subscribe. */
static void test_carry_earlier_failure_explains_bounce(void)
{
    struct rig r;
    const struct corr_direction *d;
    rig_init(&r, carry_idle);
    flow(&r, 3, "10.0.0.5", 50000, IP_A);
    r.fi[3].port[1] = 5222;
    tick(&r, 500);
    conn_rec(&r, 3, CONN_SYN, 500, 1, 501, 0, 0);
    client_stream(&r, 3, 502, DOM_A);
    a_to_b(&r, 1, 1000, XMPP_DB_INVALID);
    pres(&r, 3, FT_DIR_ORIG, 1500, 3020, NULL, "bob@" DOM_B, XMPP_PRES_SUBSCRIBE);
    pres(&r, 3, FT_DIR_RESP, 1600, 3021, "bob@" DOM_B, "ann@" DOM_A "/phone", XMPP_PRES_ERROR);
    end_conn(&r, 1, 1000, 3000);
    for (int t = 3100; t <= 20000; t += 100)
        tick(&r, t);
    CHECK(corr_stats(r.c)->conns_retired == 1);
    corr_finish(r.c);
    d = dir_of(r.c, DOM_A, DOM_B);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->verdict.status == CORR_FAILED);
        CHECK(d->verdict.stage == STAGE_AUTH);
        CHECK(d->verdict.code == VERDICT_DB_INVALID);
        CHECK(d->stages[STAGE_SUBSCRIBE] == STAGE_FAILED); /* the bounce is still shown */
    }
    corr_free(r.c);
}

/* The client connection that showed the subscription answered is retired
 * while the s2s connection stays open; when the direction is judged again
 * (a later stanza on it), the subscribe stage is still remembered. */
static void test_carry_client_leg_retired(void)
{
    struct rig r;
    const struct corr_direction *d;
    rig_init(&r, carry_idle);
    a_to_b(&r, 1, 1000, XMPP_DB_VALID);
    flow(&r, 3, "10.0.0.5", 50000, IP_A);
    r.fi[3].port[1] = 5222;
    tick(&r, 1450);
    conn_rec(&r, 3, CONN_SYN, 1450, 1, 1451, 0, 0);
    client_stream(&r, 3, 1452, DOM_A);
    pres(&r, 3, FT_DIR_ORIG, 1500, 3020, NULL, "bob@" DOM_B, XMPP_PRES_SUBSCRIBE);
    pres(&r, 3, FT_DIR_RESP, 1700, 3021, "bob@" DOM_B, "ann@" DOM_A "/phone", XMPP_PRES_SUBSCRIBED);
    end_conn(&r, 3, 1450, 2000);
    for (int t = 2100; t <= 20000; t += 100)
        tick(&r, t);
    CHECK(corr_stats(r.c)->conns_retired == 1); /* the client leg only */
    pres(&r, 1, FT_DIR_ORIG, 25000, 1030, "ann@" DOM_A, "carl@" DOM_B, XMPP_PRES_UNSUBSCRIBE);
    for (int t = 25100; t <= 26000; t += 100)
        tick(&r, t);
    d = dir_of(r.c, DOM_A, DOM_B);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->verdict.status == CORR_OK);
        CHECK(d->verdict.stage == STAGE_SUBSCRIBE);
        CHECK(d->stages[STAGE_SUBSCRIBE] == STAGE_OK);
        /* the subscribe stage was inferred from the client leg: the
         * verdict that rests on it says so, with the rule */
        CHECK(d->verdict.inferred);
        CHECK(d->verdict.rule != NULL && strcmp(d->verdict.rule, "c2s-subscribed") == 0);
    }
    corr_finish(r.c);
    corr_free(r.c);
}

/* One server (IP_A) serves a.example.test and c.example.test; the book
 * names its address after a.  A user of c asks b for a subscription and
 * the server's connection to b, which says nothing (refused), follows:
 * it is c's, so c -> b failed at connect, and a -> b keeps its ok. */
static void test_silent_connection_named_by_trigger(void)
{
    struct rig r;
    const struct corr_direction *d;
    rig_init(&r, NULL);
    a_to_b(&r, 1, 1000, XMPP_DB_VALID);
    flow(&r, 3, "10.0.0.5", 50000, IP_A);
    r.fi[3].port[1] = 5222;
    tick(&r, 2000);
    conn_rec(&r, 3, CONN_SYN, 2000, 1, 2001, 0, 0);
    client_stream(&r, 3, 2002, "c.example.test");
    pres(&r, 3, FT_DIR_ORIG, 3000, 3020, NULL, "bob@" DOM_B, XMPP_PRES_SUBSCRIBE);
    flow(&r, 2, IP_A, 40002, IP_B);
    tick(&r, 3050);
    conn_rec(&r, 2, CONN_SYN, 3050, 1, 0, 0, 0);
    tick(&r, 3051);
    conn_rec(&r, 2, CONN_END, 3050, 1, 0, 3051, 3051);
    for (int t = 3100; t <= 5000; t += 100)
        tick(&r, t);
    corr_finish(r.c);
    d = dir_of(r.c, "c.example.test", DOM_B);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->verdict.status == CORR_FAILED);
        CHECK(d->verdict.stage == STAGE_CONNECT);
        CHECK(d->verdict.code == VERDICT_TCP_RST);
    }
    d = dir_of(r.c, DOM_A, DOM_B);
    CHECK(d && d->verdict.status == CORR_OK);
    corr_free(r.c);
}

/* What the retired sink received: each federation's pair, worst status,
 * its direction count and timeline lines, copied during the call. */
struct released {
    char id[24], dom[2][64];
    enum corr_status status;
    enum verdict_code code;
    unsigned n_dir, n_timeline;
};
static struct released released[8];
static unsigned nreleased;

static void on_retired(void *ctx, const struct corr_federation *f)
{
    struct released *x;
    (void)ctx;
    if (nreleased >= 8)
        return;
    x = &released[nreleased++];
    snprintf(x->id, sizeof(x->id), "%s", f->id);
    snprintf(x->dom[0], sizeof(x->dom[0]), "%s", f->domains[0]);
    snprintf(x->dom[1], sizeof(x->dom[1]), "%s", f->domains[1]);
    x->status = f->verdict ? f->verdict->status : CORR_UNKNOWN;
    x->code = f->verdict ? f->verdict->code : VERDICT_CODE_NONE;
    x->n_dir = f->n_dir;
    x->n_timeline = 0;
    for (unsigned j = 0; j < f->n_dir; j++)
        x->n_timeline += f->dir[j].n_timeline;
}

/* With a retired sink, a federation whose directions all retired is
 * handed over once (verdict, timeline) and freed: the correlator no
 * longer lists it.  New facts of the same pair later make a new
 * federation (same id: it names the pair), judged from the new facts
 * only; the stats count both. */
static void test_retired_sink_and_revived_pair(void)
{
    struct rig r;
    const struct corr_federation *f;
    rig_init(&r, short_idle);
    nreleased = 0;
    corr_set_retired_sink(r.c, on_retired, NULL);
    a_to_b(&r, 1, 1000, XMPP_DB_INVALID); /* key refused: failed */
    end_conn(&r, 1, 1000, 3000);
    for (int t = 3100; t <= 15000; t += 100)
        tick(&r, t);
    CHECK(nreleased == 1);
    CHECK(corr_stats(r.c)->federations_released == 1);
    CHECK(corr_federation_count(r.c) == 0); /* freed, not held */
    if (nreleased == 1) {
        CHECK(strcmp(released[0].dom[0], DOM_A) == 0 && strcmp(released[0].dom[1], DOM_B) == 0);
        CHECK(released[0].status == CORR_FAILED);
        CHECK(released[0].code == VERDICT_DB_INVALID);
        CHECK(released[0].n_dir == 1 && released[0].n_timeline > 0);
    }
    CHECK(count_for(DOM_A, DOM_B) == 1); /* its verdict was sent before */
    /* The pair again, 20 s later: a new episode, accepted this time. */
    a_to_b(&r, 2, 20000, XMPP_DB_VALID);
    end_conn(&r, 2, 20000, 22000);
    corr_finish(r.c);
    CHECK(nreleased == 1); /* corr_finish hands nothing over */
    CHECK(corr_federation_count(r.c) == 1);
    f = corr_federation_at(r.c, 0);
    CHECK(f && f->verdict && f->verdict->status == CORR_OK);
    CHECK(f && nreleased == 1 && strcmp(f->id, released[0].id) == 0);
    CHECK(corr_stats(r.c)->federations == 2);
    CHECK(corr_stats(r.c)->federations_dropped == 0);
    CHECK(count_for(DOM_A, DOM_B) == 2);
    if (count_for(DOM_A, DOM_B) == 2) /* the new episode's verdict is its own, not a change */
        CHECK(sent_for(DOM_A, DOM_B, 1)->status == CORR_OK && !sent_for(DOM_A, DOM_B, 1)->has_previous);
    corr_free(r.c);
}

/* The interned domain names are rebuilt once they far outnumber the
 * federations kept (thousands of pairs came and were released).  A
 * failed verdict judged before that still names its own domain in the
 * advice ("<inside address of a.example.test's server>"): the advice
 * holds a copy, not a pointer into the old names. */
static void test_advice_survives_names_rebuild(void)
{
    struct rig r;
    const struct corr_direction *d;
    char out[256];
    rig_init(&r, short_idle);
    nreleased = 0;
    corr_set_retired_sink(r.c, on_retired, NULL);
    a_to_b(&r, 1, 1000, XMPP_DB_INVALID); /* failed, its connection stays open */
    for (unsigned i = 0; i < 2400; i++) {
        struct flow_info fi;
        struct conn_record rec;
        struct xmpp_event ev;
        char from[40], to[40];
        int ms = 2000 + (int)i * 5;
        unsigned id = 100 + i;
        snprintf(from, sizeof(from), "p%u.example.test", i);
        snprintf(to, sizeof(to), "q%u.example.test", i);
        memset(&fi, 0, sizeof(fi));
        fi.flow_id = id;
        fi.proto = 6;
        fi.addr[0] = ip("203.0.113.10");
        fi.addr[1] = ip("203.0.113.20");
        fi.port[0] = (uint16_t)(20000 + i);
        fi.port[1] = 5269;
        fi.app = APP_XMPP;
        tick(&r, ms);
        memset(&ev, 0, sizeof(ev));
        ev.type = XMPP_EV_STREAM_OPEN;
        ev.dir = FT_DIR_ORIG;
        ev.meta.frame = ev.meta.src_frame = id * 10;
        ev.meta.ts_ns = MS(ms);
        ev.meta.flow_id = id;
        ev.from = from;
        ev.to = to;
        ev.version = "1.0";
        ev.stream_ns = "http://etherx.jabber.org/streams";
        ev.stream_ns_ok = true;
        ev.content_ns = "jabber:server";
        fact_emit_xmpp(&r.sink, &fi, &ev);
        memset(&rec, 0, sizeof(rec));
        rec.phase = CONN_END;
        rec.end_reason = FLOW_END_TIMEOUT;
        rec.info = fi;
        rec.rtt_ns = -1;
        rec.first_ns = rec.last_ns = MS(ms);
        rec.first_frame = rec.last_frame = id * 10;
        fact_emit_conn(&r.sink, &rec);
    }
    for (int t = 14100; t <= 28000; t += 100) /* before the dialback timer judges a -> b again */
        tick(&r, t);
    CHECK(corr_stats(r.c)->federations_released >= 2000);
    d = dir_of(r.c, DOM_A, DOM_B);
    CHECK(d && d->verdict.status == CORR_FAILED && d->verdict.vars.server);
    if (d && d->verdict.vars.server) {
        verdict_render("{private_ip}", &d->verdict.vars, out, sizeof(out));
        CHECK(strcmp(out, "<inside address of " DOM_A "'s server>") == 0);
    }
    corr_finish(r.c);
    corr_free(r.c);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A verdict sink that takes its time, as a writer on a slow disk would. */
static void slow_verdict(void *ctx, const struct corr_federation *f, const struct corr_direction *d,
                         const struct corr_verdict_change *chg)
{
    uint64_t *spent = ctx, t0 = mono_ns();
    (void)f, (void)d, (void)chg;
    while (mono_ns() - t0 < 300000000u)
        ;
    *spent += mono_ns() - t0;
}

/* busy_ns is the correlator's own time: what the output spends in the
 * verdict sink it is handed (300 ms a verdict here, against microseconds
 * of judging) is not counted. */
static void test_busy_leaves_out_sinks(void)
{
    struct rig r;
    uint64_t spent = 0;
    rig_init(&r, NULL);
    corr_set_verdict_sink(r.c, slow_verdict, &spent);
    a_to_b(&r, 1, 1000, XMPP_DB_VALID);
    for (int t = 1100; t <= 3000; t += 100)
        tick(&r, t);
    end_conn(&r, 1, 1000, 5000);
    corr_finish(r.c);
    CHECK(spent >= 300000000u);
    CHECK(corr_stats(r.c)->busy_ns < 150000000u);
    corr_free(r.c);
}

int main(void)
{
    test_decided_when_evidence_in();
    test_change_sent_with_previous();
    test_timer_fires_without_packets();
    test_retirement();
    test_dns_noise();
    test_dns_memory();
    test_partial_round_renames();
    test_new_lookup_judged_again();
    test_federation_cap();
    test_carry_keeps_stages();
    test_carry_address_lookup();
    test_carry_new_failure_wins();
    test_carry_lookup_only_episode();
    test_carry_earlier_failure_explains_bounce();
    test_carry_client_leg_retired();
    test_silent_connection_named_by_trigger();
    test_retired_sink_and_revived_pair();
    test_advice_survives_names_rebuild();
    test_busy_leaves_out_sinks();
    return check_summary("test_stream");
}
