/*
 * background.c - the traffic nobody asked fedtrace about: HTTPS (TLS 1.3
 * handshake, then request and response records of widely varied size),
 * plain HTTP on port 80, QUIC-like UDP on 443 and RTP-like voice streams.
 * A flow is scripted whole when it starts; its frames wait in the queue.
 */
#include "content.h"
#include "world.h"

#include <string.h>

static uint64_t *BG(struct gen *g)
{
    return &g->st.gen_bg;
}

static struct host *web_server(struct gen *g)
{
    /* a few servers get most of the traffic */
    uint32_t n = g->w->nweb;
    uint32_t i = (uint32_t)(rng_exp(&g->rng, n / 20.0)) % n;
    return &g->w->web[i];
}

/* No single flow may dominate a small capture. */
static double flow_cap(const struct gen *g)
{
    double cap = g->target_bytes ? (double)g->target_bytes / 400 : 6e6;
    return cap > 6e6 ? 6e6 : cap;
}

static size_t response_size(struct gen *g)
{
    double s = rng_lognormal(&g->rng, 12000, 1.9);
    if (s > flow_cap(g))
        s = flow_cap(g);
    return (size_t)s + 200;
}

static void https_flow(struct gen *g, uint64_t t)
{
    struct tcpc c;
    uint32_t rtt = (uint32_t)(2000 + rng_exp(&g->rng, 30000));
    bool v6 = rng_chance(&g->rng, 0.6);
    struct host *server = web_server(g);
    tcp_init(g, &c, world_client(g), server, 443, v6, rtt);
    g->st.conns_bg++;
    t = tcp_open(g, &c, t, SYN_OK, NULL, 0, BG(g), NULL, 0);
    char sni[64];
    snprintf(sni, sizeof sni, "%s%u.cdn.example", rng_chance(&g->rng, 0.5) ? "www" : "static",
             (unsigned)(c.h[1]->mac[5]));
    uint8_t *buf = world_wbuf(g, 1 << 16);
    size_t n = tls_client_hello(&g->rng, buf, sni, "h2");
    t = tcp_send(g, &c, 0, t, buf, n, BG(g));
    n = tls_server_flight(&g->rng, buf, 2500 + rng_below(&g->rng, 3000));
    t = tcp_send(g, &c, 1, t + 500, buf, n, BG(g));
    n = tls_client_finish(&g->rng, buf);
    t = tcp_send(g, &c, 0, t, buf, n, BG(g));
    unsigned rounds = 1 + rng_below(&g->rng, 6);
    for (unsigned i = 0; i < rounds; i++) {
        n = tls_app_records(&g->rng, buf, 80 + rng_below(&g->rng, 900));
        t = tcp_send(g, &c, 0, t, buf, n, BG(g));
        size_t resp = response_size(g);
        while (resp) {
            size_t chunk = resp > 60000 ? 60000 : resp;
            uint8_t *rb = world_wbuf(g, chunk + 200);
            n = tls_app_records(&g->rng, rb, chunk);
            t = tcp_send(g, &c, 1, t + 1000, rb, n, BG(g));
            resp -= chunk;
        }
        t += (uint64_t)rng_exp(&g->rng, 400000);
    }
    buf = world_wbuf(g, 64);
    n = tls_app_records(&g->rng, buf, 2); /* close_notify */
    t = tcp_send(g, &c, 0, t, buf, n, BG(g));
    if (rng_chance(&g->rng, 0.15))
        tcp_rst(g, &c, 0, t, BG(g));
    else
        tcp_fin(g, &c, 0, t, BG(g));
}

static void http_flow(struct gen *g, uint64_t t)
{
    struct tcpc c;
    uint32_t rtt = (uint32_t)(2000 + rng_exp(&g->rng, 30000));
    bool v6 = rng_chance(&g->rng, 0.6);
    struct host *server = web_server(g);
    tcp_init(g, &c, world_client(g), server, 80, v6, rtt);
    g->st.conns_bg++;
    t = tcp_open(g, &c, t, SYN_OK, NULL, 0, BG(g), NULL, 0);
    char req[256];
    int rl = snprintf(req, sizeof req,
                      "GET /assets/%u.bin HTTP/1.1\r\nHost: mirror%u.example\r\nUser-Agent: apt/2.6\r\nAccept: */*\r\n\r\n",
                      (unsigned)rng_below(&g->rng, 100000), (unsigned)c.h[1]->mac[5]);
    t = tcp_send(g, &c, 0, t, (const uint8_t *)req, (size_t)rl, BG(g));
    size_t body = response_size(g);
    size_t first = 1;
    while (body) {
        size_t chunk = body > 60000 ? 60000 : body;
        uint8_t *b = world_wbuf(g, chunk + 256);
        size_t hl = 0;
        if (first) {
            hl = (size_t)snprintf((char *)b, 256,
                                  "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                                  "%zu\r\n\r\n",
                                  body);
            first = 0;
        }
        rng_fill(&g->rng, b + hl, chunk);
        t = tcp_send(g, &c, 1, t + 800, b, hl + chunk, BG(g));
        body -= chunk;
    }
    tcp_fin(g, &c, 1, t + 2000, BG(g));
}

static void quic_flow(struct gen *g, uint64_t t)
{
    struct host *cl = world_client(g), *sv = web_server(g);
    bool v6 = cl->has6 && sv->has6 && rng_chance(&g->rng, 0.6);
    uint16_t sport = (uint16_t)rng_range(&g->rng, 32768, 60999);
    uint8_t *b = world_wbuf(g, 1400);
    rng_fill(&g->rng, b, 1250);
    b[0] = 0xc3; /* long header, Initial */
    wire_udp(g, t, cl, sv, v6, sport, 443, b, 1250, NULL, 0, BG(g));
    t += 20000 + rng_below(&g->rng, 40000);
    unsigned n = (unsigned)rng_lognormal(&g->rng, 80, 1.5);
    if (n > flow_cap(g) / 1250)
        n = (unsigned)(flow_cap(g) / 1250) + 1;
    for (unsigned i = 0; i < n; i++) {
        size_t l = 1200 + rng_below(&g->rng, 52);
        rng_fill(&g->rng, b, l);
        b[0] = 0x40 | (b[0] & 0x3f); /* short header */
        wire_udp(g, t, sv, cl, v6, 443, sport, b, l, NULL, 0, BG(g));
        if (i % 4 == 3) {
            rng_fill(&g->rng, b, 40);
            b[0] = 0x40 | (b[0] & 0x3f);
            wire_udp(g, t + 15000, cl, sv, v6, sport, 443, b, 40 + rng_below(&g->rng, 20), NULL, 0, BG(g));
        }
        t += 150 + rng_below(&g->rng, 1200);
    }
}

static void rtp_flow(struct gen *g, uint64_t t)
{
    struct host *a = world_client(g), *b = world_client(g);
    uint16_t pa = (uint16_t)(10000 + 2 * rng_below(&g->rng, 10000)), pb = (uint16_t)(10000 + 2 * rng_below(&g->rng, 10000));
    unsigned pkts = 100 + rng_below(&g->rng, 1400);
    uint8_t *buf = world_wbuf(g, 256);
    uint32_t ssrc = (uint32_t)rng_next(&g->rng);
    for (unsigned i = 0; i < pkts; i++) {
        buf[0] = 0x80;
        buf[1] = 0; /* PCMU */
        buf[2] = (uint8_t)(i >> 8);
        buf[3] = (uint8_t)i;
        memcpy(buf + 4, &i, 4);
        memcpy(buf + 8, &ssrc, 4);
        rng_fill(&g->rng, buf + 12, 160);
        wire_udp(g, t + i * 20000ull + rng_below(&g->rng, 2000), a, b, false, pa, pb, buf, 172, NULL, 0, BG(g));
        if (i % 2 == 0)
            wire_udp(g, t + i * 20000ull + 9000 + rng_below(&g->rng, 2000), b, a, false, pb, pa, buf, 172, NULL, 0,
                     BG(g));
    }
}

/* Everyday DNS from the user side: A and AAAA of web names (some through
 * a CNAME-less NXDOMAIN), HTTPS records answered empty, PTR lookups. */
void dns_noise(struct gen *g, uint64_t t)
{
    struct host *cl = world_client(g);
    struct host *res = &g->w->resolver[cl->mac[4] % 3];
    char name[96];
    unsigned r = rng_below(&g->rng, 100);
    uint16_t qtype = r < 50 ? QT_A : r < 85 ? QT_AAAA : r < 93 ? 65 : 12;
    if (qtype == 12)
    {
        unsigned o2 = rng_below(&g->rng, 250), o3 = rng_below(&g->rng, 250);
        snprintf(name, sizeof name, "%u.%u.19.198.in-addr.arpa", o3, o2);
    }
    else
        snprintf(name, sizeof name, "%s%u.%s.example", r % 3 ? "www" : "api", (unsigned)rng_below(&g->rng, 40),
                 r % 2 ? "cdn" : "shop");
    uint8_t *buf = world_wbuf(g, 2048);
    uint16_t id = (uint16_t)rng_next(&g->rng), sport = (uint16_t)rng_range(&g->rng, 1024, 65535);
    size_t n = dns_query(buf, id, name, qtype);
    wire_udp(g, t, cl, res, false, sport, 53, buf, n, NULL, 0, &g->st.gen_dns);
    struct dns_rr rr[4];
    memset(rr, 0, sizeof rr);
    int nrr = 0, rcode = 0;
    if (qtype == QT_A || qtype == QT_AAAA) {
        nrr = 1 + (int)rng_below(&g->rng, 4);
        for (int i = 0; i < nrr; i++) {
            rr[i].type = qtype;
            rng_fill(&g->rng, rr[i].addr, 16);
        }
        if (rng_chance(&g->rng, 0.04))
            rcode = 3;
    } else if (qtype == 12) {
        rcode = 3;
    }
    n = dns_response(buf, id, name, qtype, rcode, false, rr, nrr);
    wire_udp(g, t + 400 + (uint64_t)rng_exp(&g->rng, 15000), res, cl, false, 53, sport, buf, n, NULL, 0,
             &g->st.gen_dns);
    g->st.dns_queries++;
}

void bg_start(struct gen *g, uint64_t t)
{
    unsigned r = rng_below(&g->rng, 100);
    if (r < 42)
        https_flow(g, t);
    else if (r < 50)
        http_flow(g, t);
    else if (r < 66)
        quic_flow(g, t);
    else
        rtp_flow(g, t);
}
