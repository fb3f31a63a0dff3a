/*
 * test_nat.c - unit tests of NAT pairing and clock offsets between capture
 * points: a pair needs evidence (the same ISN, stream id or stanzas), not
 * only a shared endpoint and the same half-second; two unrelated peers
 * whose SYNs were dropped stay apart; a SYN flood (random or one fixed
 * ISN) pairs nothing and its work is capped; two capture points whose
 * clocks differ by seconds still pair their views, and the offset is
 * estimated from the connections both saw; a DNS lookup both saw is one
 * lookup across that offset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "correlate.h"
#include "tests/check.h"

#define T0 INT64_C(1700000000000000000)
#define MS(x) (T0 + (int64_t)(x) * INT64_C(1000000))

#define DOM_A "a.example.test"
#define DOM_B "b.example.test"
#define IN_A "10.99.1.10"
#define PUB_A "198.51.100.2"
#define PUB_B "198.51.100.20"

static struct ft_addr ip(const char *s)
{
    struct ft_addr a;
    if (!ft_addr_parse(&a, s))
        abort();
    return a;
}

static struct correlator *mk(void)
{
    struct corr_config cfg;
    struct correlator *c;
    corr_config_default(&cfg);
    c = corr_new(&cfg);
    if (!c)
        abort();
    return c;
}

/* One connection to b's server port.  Times in ms after T0; synack 0 =
 * never answered (then `syns` SYNs, one a second). */
struct view {
    uint64_t id;
    const char *orig;
    uint16_t oport;
    const char *resp;
    uint32_t source;
    int syn, synack, syns;
    uint32_t isn, isn_resp;
};

static struct flow_info view_info(const struct view *v)
{
    struct flow_info fi;
    memset(&fi, 0, sizeof(fi));
    fi.flow_id = v->id;
    fi.proto = 6;
    fi.addr[0] = ip(v->orig);
    fi.addr[1] = ip(v->resp);
    fi.port[0] = v->oport;
    fi.port[1] = 5269;
    fi.app = v->synack ? APP_XMPP : APP_UNDECIDED;
    return fi;
}

static void view(struct correlator *c, struct view v)
{
    struct conn_record r;
    int syns = v.syns ? v.syns : 1, last = v.syn;
    memset(&r, 0, sizeof(r));
    r.phase = CONN_END;
    r.end_reason = FLOW_END_TIMEOUT;
    r.info = view_info(&v);
    r.source = v.source;
    r.rtt_ns = -1;
    r.first_ns = MS(v.syn);
    r.syn = (struct frame_ref){ v.id * 10 + 1, v.id * 10 + 1, v.source, MS(v.syn) };
    r.syn_count = (uint16_t)syns;
    for (int i = 0; i < syns && i < FACT_MAX_SYN_TIMES; i++)
        r.syn_times_ns[i] = MS(v.syn + 1000 * i);
    r.isn[0] = v.isn;
    r.dir[0].packets = (uint64_t)syns;
    if (v.synack) {
        r.synack = (struct frame_ref){ v.id * 10 + 2, v.id * 10 + 2, v.source, MS(v.synack) };
        r.synack_count = 1;
        r.isn[1] = v.isn_resp;
        r.established = true;
        r.dir[0].packets = r.dir[1].packets = 10;
        r.dir[0].payload_bytes = r.dir[1].payload_bytes = 2000;
        last = v.synack + 500;
    } else {
        last = v.syn + 1000 * (syns - 1);
    }
    r.last_ns = MS(last);
    corr_conn_record(c, &r);
}

static void stream_open(struct correlator *c, const struct view *v, int dir, int ms, const char *from,
                        const char *to, const char *sid)
{
    struct flow_info fi = view_info(v);
    struct xmpp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = XMPP_EV_STREAM_OPEN;
    ev.dir = (uint8_t)dir;
    ev.meta.frame = ev.meta.src_frame = v->id * 10 + 3 + (uint64_t)dir;
    ev.meta.ts_ns = MS(ms);
    ev.meta.flow_id = v->id;
    ev.meta.dir = (uint8_t)dir;
    ev.meta.source = v->source;
    ev.from = from;
    ev.to = to;
    ev.id = sid;
    ev.version = "1.0";
    ev.stream_ns = "http://etherx.jabber.org/streams";
    ev.stream_ns_ok = true;
    ev.content_ns = "jabber:server";
    ev.db_ns = true;
    corr_xmpp_event(c, &fi, &ev);
}

/* Two peers, unrelated, whose SYNs to b were both dropped: the same
 * server endpoint and the same half-second, seen at two capture points,
 * but different ISNs.  Not one connection. */
static void test_unrelated_syns(void)
{
    struct correlator *c = mk();
    corr_source_window(c, 0, MS(0), MS(9000));
    corr_source_window(c, 1, MS(0), MS(9000));
    view(c, (struct view){ .id = 1, .orig = "192.0.2.7", .oport = 40001, .resp = PUB_B, .source = 0, .syn = 100,
                           .syns = 3, .isn = 0x11111111 });
    view(c, (struct view){ .id = 2, .orig = "203.0.113.9", .oport = 40001, .resp = PUB_B, .source = 1, .syn = 150,
                           .syns = 3, .isn = 0x22222222 });
    corr_finish(c);
    CHECK(corr_stats(c)->nat_pairs == 0);
    corr_free(c);

    /* the same two with one ISN: the NAT kept it, they are one connection */
    c = mk();
    corr_source_window(c, 0, MS(0), MS(9000));
    corr_source_window(c, 1, MS(0), MS(9000));
    view(c, (struct view){ .id = 1, .orig = IN_A, .oport = 40001, .resp = PUB_B, .source = 0, .syn = 100, .syns = 3,
                           .isn = 0x11111111 });
    view(c, (struct view){ .id = 2, .orig = PUB_A, .oport = 40001, .resp = PUB_B, .source = 1, .syn = 101, .syns = 3,
                           .isn = 0x11111111 });
    corr_finish(c);
    CHECK(corr_stats(c)->nat_pairs == 1);
    corr_free(c);
}

/* A SYN flood to b's server port from many addresses inside one second:
 * no pair with random ISNs, none with one fixed ISN (ambiguous), and the
 * candidates each connection examines are capped (random ISNs: none
 * is even examined, they are indexed by ISN). */
static void test_syn_flood(void)
{
    for (int fixed = 0; fixed < 2; fixed++) {
        struct correlator *c = mk();
        uint32_t isn = 12345;
        const struct corr_stats *st;
        corr_source_window(c, 0, MS(0), MS(9000));
        for (unsigned i = 0; i < 2000; i++) {
            char a[32];
            snprintf(a, sizeof(a), "203.0.%u.%u", 1 + i / 250, 1 + i % 250);
            isn = isn * 1103515245u + 12345u;
            view(c, (struct view){ .id = 1 + i, .orig = a, .oport = (uint16_t)(1024 + i), .resp = PUB_B,
                                   .syn = 100 + (int)(i % 400), .isn = fixed ? 7 : isn });
        }
        corr_finish(c);
        st = corr_stats(c);
        if (!CHECK(st->nat_pairs == 0))
            printf("  (flood %s ISN: %llu pairs)\n", fixed ? "fixed" : "random", (unsigned long long)st->nat_pairs);
        if (fixed) { /* every view fits every other: none is paired, the work is capped */
            CHECK(st->nat_ambiguous > 0);
            CHECK(st->nat_candidates_capped > 0);
        } else { /* indexed by ISN: no view meets the others at all */
            CHECK(st->nat_ambiguous == 0 && st->nat_candidates_capped == 0);
        }
        corr_free(c);
    }
}

/* One outbound connection seen inside (source 0) and outside (source 1,
 * whose clock runs `skew_ms` ahead): paired by its ISN and stream id, the
 * offset estimated and reported. */
static void skewed_pair(int skew_ms, int expect_pairs)
{
    struct correlator *c = mk();
    struct view in = { .id = 1, .orig = IN_A, .oport = 43340, .resp = PUB_B, .source = 0, .syn = 100, .synack = 102,
                       .isn = 0xabcdef01, .isn_resp = 0x5050 };
    struct view out = { .id = 2, .orig = PUB_A, .oport = 43340, .resp = PUB_B, .source = 1, .syn = 101 + skew_ms,
                        .synack = 101 + skew_ms, .isn = 0xabcdef01, .isn_resp = 0x5050 };
    struct corr_clock clk;
    corr_source_window(c, 0, MS(0), MS(20000));
    corr_source_window(c, 1, MS(skew_ms), MS(20000 + skew_ms));
    view(c, in);
    view(c, out);
    stream_open(c, &in, FT_DIR_ORIG, 103, DOM_A, DOM_B, NULL);
    stream_open(c, &in, FT_DIR_RESP, 105, DOM_B, DOM_A, "S1");
    stream_open(c, &out, FT_DIR_ORIG, 102 + skew_ms, DOM_A, DOM_B, NULL);
    stream_open(c, &out, FT_DIR_RESP, 104 + skew_ms, DOM_B, DOM_A, "S1");
    corr_finish(c);
    if (!CHECK((int)corr_stats(c)->nat_pairs == expect_pairs))
        printf("  (skew %d ms: %llu pairs)\n", skew_ms, (unsigned long long)corr_stats(c)->nat_pairs);
    if (skew_ms >= 100) {
        CHECK(corr_clock_offset(c, 1, &clk));
        CHECK(clk.reference == 0 && clk.pairs == 1);
        CHECK(clk.offset_ns == (int64_t)(skew_ms + 1) * 1000000);
    } else {
        CHECK(!corr_clock_offset(c, 1, &clk)); /* forwarding delay, not a clock offset */
    }
    CHECK(!corr_clock_offset(c, 0, &clk)); /* the reference */
    CHECK(corr_federation_count(c) == 1);
    corr_free(c);
}

static void test_clock_offset(void)
{
    skewed_pair(0, 1);
    skewed_pair(7300, 1);
    skewed_pair(45000, 1);
}

/* One answered lookup (client port 53000, answer 5 ms later): an SRV
 * answer ("target port") when qtype is SRV, else one A record. */
static void lookup_seen(struct correlator *c, uint64_t id, uint32_t source, const char *client, const char *qname,
                        uint16_t qtype, int ms, const char *x, const char *y)
{
    struct dns_lookup lk;
    memset(&lk, 0, sizeof(lk));
    lk.id = id;
    lk.client.addr = ip(client);
    lk.client.port = 53000;
    lk.server.addr = ip("198.51.100.53");
    lk.server.port = 53;
    lk.transport = DNS_UDP;
    lk.txid = 77;
    lk.qname = qname;
    lk.qtype = qtype;
    lk.outcome = DNS_OUT_ANSWERED;
    lk.rcode = DNS_RCODE_NOERROR;
    lk.nqueries = 1;
    lk.query[0] = (struct ft_meta){ .frame = 900 + id * 10, .src_frame = 900 + id * 10, .source = source, .ts_ns = MS(ms) };
    lk.has_response = true;
    lk.response = (struct ft_meta){ .frame = 901 + id * 10, .src_frame = 901 + id * 10, .source = source,
                                    .ts_ns = MS(ms + 5) };
    lk.nans = 1;
    lk.ans[0].ttl = 300;
    lk.ans[0].section = DNS_SEC_ANSWER;
    if (qtype == DNS_T_SRV) {
        lk.ans[0].type = DNS_T_SRV;
        lk.ans[0].name = qname;
        lk.ans[0].target = x;
        lk.ans[0].port = (uint16_t)atoi(y);
        lk.ans[0].weight = 5;
    } else {
        lk.ans[0].type = DNS_T_A;
        lk.ans[0].name = x;
        lk.ans[0].addr = ip(y);
    }
    corr_dns_lookup(c, &lk);
}

/* a's server behind NAT: the inside capture (source 0) sees its lookups
 * of b from the inside address and its connection to b with the stream
 * headers; the outside capture (source 1, its clock `skew_ms` ahead) sees
 * the same lookups from the public address, the same connection (one
 * ISN) without them, and a later attempt from the public address that
 * only it saw (SYNs unanswered).  The offset estimated from the shared
 * connection makes the outside lookups twins of the inside ones, so the
 * public address is a's and so is the attempt: one federation, no
 * `[198.51.100.2] -> b` of its own.  The outside lookups are
 * `lookup_shift_ms` later than the same moment on the inside clock.
 * Returns the federations, plus 100 for each one named by a bare
 * address. */
static unsigned twins_across_skew(int skew_ms, int lookup_shift_ms)
{
    struct correlator *c = mk();
    struct view in = { .id = 1, .orig = IN_A, .oport = 43340, .resp = PUB_B, .source = 0, .syn = 100, .synack = 102,
                       .isn = 0xabcdef01, .isn_resp = 0x5050 };
    struct view out = { .id = 2, .orig = PUB_A, .oport = 43340, .resp = PUB_B, .source = 1, .syn = 101 + skew_ms,
                        .synack = 101 + skew_ms, .isn = 0xabcdef01, .isn_resp = 0x5050 };
    unsigned named = 0;
    corr_source_window(c, 0, MS(0), MS(20000));
    corr_source_window(c, 1, MS(skew_ms), MS(20000 + skew_ms));
    lookup_seen(c, 1, 0, IN_A, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, 50, "xmpp." DOM_B, "5269");
    lookup_seen(c, 2, 1, PUB_A, "_xmpp-server._tcp." DOM_B, DNS_T_SRV, 51 + skew_ms + lookup_shift_ms, "xmpp." DOM_B, "5269");
    lookup_seen(c, 3, 0, IN_A, "xmpp." DOM_B, DNS_T_A, 60, "xmpp." DOM_B, PUB_B);
    lookup_seen(c, 4, 1, PUB_A, "xmpp." DOM_B, DNS_T_A, 61 + skew_ms + lookup_shift_ms, "xmpp." DOM_B, PUB_B);
    view(c, in);
    view(c, out);
    view(c, (struct view){ .id = 3, .orig = PUB_A, .oport = 43341, .resp = PUB_B, .source = 1, .syn = 4000 + skew_ms,
                           .syns = 3, .isn = 0x12340000 });
    stream_open(c, &in, FT_DIR_ORIG, 103, DOM_A, DOM_B, NULL);
    stream_open(c, &in, FT_DIR_RESP, 105, DOM_B, DOM_A, "S1");
    corr_finish(c);
    for (unsigned i = 0; i < corr_federation_count(c); i++) {
        const struct corr_federation *f = corr_federation_at(c, i);
        if (f->domains[0] && f->domains[1] && f->domains[0][0] != '[' && f->domains[1][0] != '[')
            named++;
        else
            named += 100; /* a federation of a bare address */
    }
    corr_free(c);
    return named;
}

static void test_lookup_twins_skew(void)
{
    unsigned got;
    CHECK((got = twins_across_skew(0, 0)) == 1);
    got = twins_across_skew(30000, 0); /* 30 s: outside the fixed window, inside the corrected one */
    if (!CHECK(got == 1))
        printf("  (skew 30 s: %u)\n", got);
    /* the same question asked 30 s apart, though at one time on the two
     * raw clocks: not one lookup, the attempt stays a bare address's */
    got = twins_across_skew(30000, -30000);
    if (!CHECK(got == 101))
        printf("  (skew 30 s, lookups 30 s apart: %u)\n", got);
    /* 0.8 s apart on one clock: still one lookup (a slow NAT, a retry) */
    CHECK(twins_across_skew(30000, 800) == 1);
}

int main(void)
{
    test_unrelated_syns();
    test_syn_flood();
    test_clock_offset();
    test_lookup_twins_skew();
    return check_summary("nat");
}
