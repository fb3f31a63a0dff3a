/*
 * lookup.c - the DNS a server makes before it connects (Prosody: SRV
 * _xmpp-server._tcp, then A and AAAA of the target, or of the domain on
 * NXDOMAIN; ejabberd: SRV and A), with the failures a domain's fault
 * gives: NXDOMAIN, SERVFAIL, silence (libunbound's retransmissions),
 * truncation with or without the retry over TCP/53.
 */
#include "content.h"
#include "xlink.h"

#include <string.h>



static struct host *resolver_of(struct gen *g, const struct host *client)
{
    return &g->w->resolver[client->mac[5] % 3];
}

/* One DNS transaction from client; returns when the answer is in.  The
 * decisive frame (the failing answer, or the last unanswered query)
 * carries the mark. */
static uint64_t dns_xact(struct gen *g, struct host *client, const char *qname, uint16_t qtype, enum dnsout o,
                         const struct dns_rr *rr, int nrr, uint64_t t, uint32_t *mark, uint32_t bits)
{
    struct host *res = resolver_of(g, client);
    uint8_t *buf = world_wbuf(g, 4096);
    uint16_t id = (uint16_t)rng_next(&g->rng);
    uint16_t sport = (uint16_t)rng_range(&g->rng, 1024, 65535);
    size_t ql = dns_query(buf, id, qname, qtype);
    uint64_t *cb = &g->st.gen_dns;
    g->st.dns_queries++;
    if (o == DNS_NOANSWER) { /* libunbound's retransmissions, then silence */
        static const uint64_t retry[] = {0, 376 * US_PER_MS, 1128 * US_PER_MS, 2632 * US_PER_MS, 5640 * US_PER_MS};
        for (int i = 0; i < 5; i++)
            wire_udp(g, t + retry[i], client, res, false, sport, 53, buf, ql, i == 4 ? mark : NULL, bits, cb);
        return t + 17 * US_PER_S;
    }
    wire_udp(g, t, client, res, false, sport, 53, buf, ql, NULL, 0, cb);
    uint64_t back = t + 300 + (uint64_t)rng_exp(&g->rng, 8000);
    int rcode = o == DNS_NX ? 3 : o == DNS_SERVFAIL ? 2 : 0;
    bool tc = o == DNS_TC_TCP || o == DNS_TC_NOTCP;
    size_t rl = dns_response(buf, id, qname, qtype, rcode, tc, rr, tc ? (nrr > 1 ? 1 : nrr) : nrr);
    wire_udp(g, back, res, client, false, 53, sport, buf, rl, o == DNS_TC_TCP ? NULL : mark, bits, cb);
    if (o != DNS_TC_TCP)
        return back;
    /* Truncated: the same question again over TCP/53 (RFC 7766). */
    struct tcpc c;
    tcp_init(g, &c, client, res, 53, false, 600 + rng_below(&g->rng, 3000));
    g->st.conns_dns_tcp++;
    uint64_t tt = tcp_open(g, &c, back + 200, SYN_OK, NULL, 0, cb, NULL, 0);
    uint8_t *m = world_wbuf(g, 4096);
    ql = dns_query(m + 2, id, qname, qtype);
    m[0] = (uint8_t)(ql >> 8);
    m[1] = (uint8_t)ql;
    tt = tcp_send(g, &c, 0, tt, m, ql + 2, cb);
    rl = dns_response(m + 2, id, qname, qtype, 0, false, rr, nrr);
    m[0] = (uint8_t)(rl >> 8);
    m[1] = (uint8_t)rl;
    tt = tcp_send(g, &c, 1, tt + 500, m, rl + 2, cb);
    tcp_fin(g, &c, 0, tt + 100, cb);
    return tt;
}

/* The lookups a server makes before connecting to domain `to`: SRV, then
 * A (and AAAA for Prosody) of the target, or of the domain when there is
 * no SRV.  Returns when the address is known; *dst is where to connect. */
uint64_t resolve(struct gen *g, struct host *client, uint8_t client_kind, uint32_t to, struct host *dst,
                        uint64_t t, enum dnsout o, bool cacheable, uint32_t *mark, uint32_t bits)
{
    struct domain *d = D(g, to);
    char q[128];
    struct dns_rr rr[3];
    memset(rr, 0, sizeof rr);
    snprintf(q, sizeof q, "_xmpp-server._tcp.%s", d->name);
    if (o == DNS_ANS && cacheable && rng_chance(&g->rng, 0.15))
        return t; /* answered from the server's cache */
    if (o == DNS_ANS && d->fault == DF_DNS_BIG)
        o = DNS_TC_TCP; /* every lookup of this name is truncated first */
    if (o == DNS_NX || o == DNS_SERVFAIL || o == DNS_NOANSWER || o == DNS_TC_NOTCP) {
        t = dns_xact(g, client, q, QT_SRV, o, rr, 0, t, mark, bits);
        if (o == DNS_NX) { /* the fallback to the domain's own address fails too */
            uint64_t t2 = dns_xact(g, client, d->name, QT_A, DNS_NX, rr, 0, t + 100, NULL, 0);
            if (client_kind == SRV_PROSODY)
                dns_xact(g, client, d->name, QT_AAAA, DNS_NX, rr, 0, t + 120, NULL, 0);
            t = t2;
        }
        return t;
    }
    const char *aname = d->srv_target[0] ? d->srv_target : d->name;
    if (d->srv_target[0]) {
        int n = 1;
        rr[0].type = QT_SRV;
        rr[0].port = 5269;
        rr[0].weight = 5;
        rr[0].target = d->srv_target;
        if (o == DNS_TC_TCP) { /* a bigger set, so truncation is plausible */
            rr[1] = rr[0];
            rr[1].prio = 10;
            rr[2] = rr[0];
            rr[2].prio = 20;
            n = 3;
        }
        t = dns_xact(g, client, q, QT_SRV, o, rr, n, t, NULL, 0);
    } else {
        t = dns_xact(g, client, q, QT_SRV, DNS_NX, rr, 0, t, NULL, 0);
    }
    memset(rr, 0, sizeof rr);
    rr[0].type = QT_A;
    memcpy(rr[0].addr, dst->ip4, 4);
    uint64_t ta = dns_xact(g, client, aname, QT_A, DNS_ANS, rr, 1, t + 50, NULL, 0);
    if (client_kind == SRV_PROSODY) {
        rr[0].type = QT_AAAA;
        memcpy(rr[0].addr, dst->ip6, 16);
        uint64_t t6 = dns_xact(g, client, aname, QT_AAAA, DNS_ANS, rr, dst->has6 ? 1 : 0, t + 60, NULL, 0);
        if (t6 > ta)
            ta = t6;
    }
    return ta;
}
