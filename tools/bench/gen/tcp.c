/*
 * tcp.c - gen-busy's TCP: handshakes (answered, refused with RST, or SYNs
 * retransmitted into the void on a Linux schedule), data cut at MSS and at
 * random offsets, the receiver's ACKs, and on a share of sends the things a
 * SPAN port shows: segments out of order, retransmissions, and overlapping
 * retransmissions with different boundaries.  Sequence and acknowledgement
 * numbers stay consistent: the bytes of a retransmission are the bytes
 * first sent at that sequence number.
 */
#include "gen.h"

#include <string.h>

void tcp_init(struct gen *g, struct tcpc *c, struct host *client, struct host *server, uint16_t dport, bool v6,
              uint32_t rtt_us)
{
    memset(c, 0, sizeof *c);
    c->h[0] = client;
    c->h[1] = server;
    c->port[0] = (uint16_t)rng_range(&g->rng, 32768, 60999); /* Linux ephemeral range */
    c->port[1] = dport;
    c->v6 = v6 && client->has6 && server->has6;
    c->seq[0] = (uint32_t)rng_next(&g->rng);
    c->seq[1] = (uint32_t)rng_next(&g->rng);
    c->rtt_us = rtt_us;
    c->mss = c->v6 ? 1428 : 1448;
    c->anomaly = rng_chance(&g->rng, 0.15) ? 0.08 : 0.01;
}

/* MSS 1460, SACK permitted, timestamps, NOP, window scale 7 */
static const uint8_t syn_opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};

/* A dropped connect marks its third SYN (two retransmissions seen). */
uint64_t tcp_open(struct gen *g, struct tcpc *c, uint64_t t, enum syn_result r, const uint64_t *retries_us,
                  int nretries, uint64_t *cb, uint32_t *mark, uint32_t bits)
{
    c->opened_us = t;
    if (r == SYN_DROP) {
        for (int i = 0; i <= nretries; i++) {
            uint64_t at = t + (i ? retries_us[i - 1] : 0);
            wire_tcp(g, at, c, 0, c->seq[0], 0, TH_SYN, syn_opts, sizeof syn_opts, NULL, 0,
                     i == (nretries < 2 ? nretries : 2) ? mark : NULL, bits, cb);
        }
        c->closed = true;
        return t + (nretries ? retries_us[nretries - 1] : 0);
    }
    wire_tcp(g, t, c, 0, c->seq[0], 0, TH_SYN, syn_opts, sizeof syn_opts, NULL, 0, NULL, 0, cb);
    uint64_t back = t + c->rtt_us;
    if (r == SYN_RST) {
        wire_tcp(g, back, c, 1, 0, c->seq[0] + 1, TH_RST | TH_ACK, NULL, 0, NULL, 0, mark, bits, cb);
        c->closed = true;
        return back;
    }
    wire_tcp(g, back, c, 1, c->seq[1], c->seq[0] + 1, TH_SYN | TH_ACK, syn_opts, sizeof syn_opts, NULL, 0, NULL, 0,
             cb);
    c->seq[0]++;
    c->seq[1]++;
    wire_tcp(g, back + 30, c, 0, c->seq[0], c->seq[1], TH_ACK, NULL, 0, NULL, 0, NULL, 0, cb);
    c->established = true;
    return back + 40;
}

void tcp_midstream(struct tcpc *c)
{
    c->opened_us = 0;
    c->established = true;
}

struct seg {
    uint32_t off, len;
    uint64_t t;
};

#define MAX_SEGS 64

uint64_t tcp_send(struct gen *g, struct tcpc *c, int dir, uint64_t t, const uint8_t *data, size_t len, uint64_t *cb)
{
    if (c->closed || len == 0)
        return t;
    struct seg segs[MAX_SEGS + 4];
    int n = 0;
    size_t off = 0;
    /* Cut at MSS; a small send is sometimes cut at a random offset (a
     * stanza split over two segments). */
    if (len <= c->mss && len > 8 && rng_chance(&g->rng, 0.12)) {
        uint32_t cut = 1 + rng_below(&g->rng, (uint32_t)len - 1);
        segs[n++] = (struct seg){0, cut, t};
        segs[n++] = (struct seg){cut, (uint32_t)len - cut, t + 40 + rng_below(&g->rng, 400)};
        g->st.tcp_cut++;
        off = len;
    }
    uint64_t at = t;
    while (off < len) {
        size_t l = len - off < c->mss ? len - off : c->mss;
        if (n == MAX_SEGS) { /* very long sends go out in several windows */
            at += c->rtt_us;
        }
        if (n >= MAX_SEGS) {
            /* flush what we have, keep going with a fresh batch */
            for (int i = 0; i < n; i++)
                wire_tcp(g, segs[i].t, c, dir, c->seq[dir] + segs[i].off, c->seq[!dir], TH_ACK | TH_PSH, NULL, 0,
                         data + segs[i].off, segs[i].len, c->mark, c->mark_bits, cb);
            n = 0;
        }
        segs[n++] = (struct seg){(uint32_t)off, (uint32_t)l, at};
        at += 12 + l / 100; /* serialisation on a fast link */
        off += l;
    }
    uint64_t last = segs[n - 1].t;
    /* Disorder on the SPAN: two neighbours swapped. */
    if (n >= 2 && rng_chance(&g->rng, c->anomaly)) {
        int i = (int)rng_below(&g->rng, (uint32_t)n - 1);
        uint64_t tmp = segs[i].t;
        segs[i].t = segs[i + 1].t;
        segs[i + 1].t = tmp;
        g->st.tcp_reorder++;
    }
    for (int i = 0; i < n; i++)
        wire_tcp(g, segs[i].t, c, dir, c->seq[dir] + segs[i].off, c->seq[!dir], TH_ACK | TH_PSH, NULL, 0,
                 data + segs[i].off, segs[i].len, c->mark, c->mark_bits, cb);
    /* A retransmission after an RTO, or an overlapping one that covers the
     * tail of one segment and the head of the next. */
    if (rng_chance(&g->rng, c->anomaly)) {
        uint64_t rto = last + 200 * US_PER_MS + rng_below(&g->rng, 100 * US_PER_MS);
        int i = (int)rng_below(&g->rng, (uint32_t)n);
        if (n >= 2 && i + 1 < n && rng_chance(&g->rng, 0.5)) {
            uint32_t from = segs[i].off + segs[i].len / 2;
            uint32_t to = segs[i + 1].off + (segs[i + 1].len + 1) / 2;
            wire_tcp(g, rto, c, dir, c->seq[dir] + from, c->seq[!dir], TH_ACK | TH_PSH, NULL, 0, data + from,
                     to - from, NULL, 0, cb);
            g->st.tcp_overlap++;
        } else {
            wire_tcp(g, rto, c, dir, c->seq[dir] + segs[i].off, c->seq[!dir], TH_ACK | TH_PSH, NULL, 0,
                     data + segs[i].off, segs[i].len, NULL, 0, cb);
            g->st.tcp_retrans++;
        }
    }
    c->seq[dir] += (uint32_t)len;
    uint64_t arrive = last + c->rtt_us / 2;
    /* Delayed ACK: every second full segment is acknowledged; a lone
     * small send mostly on its own (40 ms later), otherwise on the
     * receiver's next data. */
    for (int i = 1; i < n; i += 2)
        wire_tcp(g, segs[i].t + c->rtt_us, c, !dir, c->seq[!dir], c->seq[dir] - (uint32_t)len + segs[i].off + segs[i].len,
                 TH_ACK, NULL, 0, NULL, 0, NULL, 0, cb);
    if (n % 2 == 1 && rng_chance(&g->rng, 0.75))
        wire_tcp(g, arrive + c->rtt_us / 2 + (n == 1 ? 40 * US_PER_MS : 0), c, !dir, c->seq[!dir], c->seq[dir], TH_ACK,
                 NULL, 0, NULL, 0, NULL, 0, cb);
    return arrive;
}

uint64_t tcp_fin(struct gen *g, struct tcpc *c, int first, uint64_t t, uint64_t *cb)
{
    if (c->closed)
        return t;
    wire_tcp(g, t, c, first, c->seq[first], c->seq[!first], TH_FIN | TH_ACK, NULL, 0, NULL, 0, NULL, 0, cb);
    c->seq[first]++;
    uint64_t t2 = t + c->rtt_us;
    wire_tcp(g, t2, c, !first, c->seq[!first], c->seq[first], TH_FIN | TH_ACK, NULL, 0, NULL, 0, NULL, 0, cb);
    c->seq[!first]++;
    wire_tcp(g, t2 + c->rtt_us, c, first, c->seq[first], c->seq[!first], TH_ACK, NULL, 0, NULL, 0, NULL, 0, cb);
    c->closed = true;
    return t2 + c->rtt_us;
}

uint64_t tcp_rst(struct gen *g, struct tcpc *c, int dir, uint64_t t, uint64_t *cb)
{
    if (c->closed)
        return t;
    wire_tcp(g, t, c, dir, c->seq[dir], c->seq[!dir], TH_RST | TH_ACK, NULL, 0, NULL, 0, NULL, 0, cb);
    c->closed = true;
    return t + c->rtt_us / 2;
}
