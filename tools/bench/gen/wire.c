/*
 * wire.c - gen-busy's bottom floor: the random helpers, the time-ordered
 * queue (a binary min-heap on packet time, ties in insertion order), frame
 * building (Ethernet, optional 802.1Q, IPv4 or IPv6, TCP or UDP, with valid
 * IP/UDP checksums, TCP checksums valid or zero for offloading hosts, and
 * Ethernet padding to 60 bytes) and the classic pcap file writer.
 */
#include "gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- random helpers ------------------------------------------------------ */
double rng_exp(struct rng *r, double mean)
{
    double u = rng_unit(r);
    return -mean * log(1.0 - u);
}

double rng_lognormal(struct rng *r, double median, double sigma)
{
    double u1 = rng_unit(r), u2 = rng_unit(r);
    double z = sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
    return median * exp(sigma * z);
}

void rng_fill(struct rng *r, uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint64_t v = rng_next(r);
        memcpy(p, &v, 8);
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t v = rng_next(r);
        memcpy(p, &v, n);
    }
}

/* ---- queue ------------------------------------------------------------- */
static bool qless(const struct qent *a, const struct qent *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void q_push(struct gen *g, struct qent e)
{
    struct queue *q = &g->q;
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 4096;
        struct qent *nh = realloc(q->h, ncap * sizeof *nh);
        if (!nh) {
            fprintf(stderr, "gen-busy: out of memory\n");
            exit(2);
        }
        q->h = nh;
        q->cap = ncap;
    }
    e.seq = q->seq++;
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!qless(&e, &q->h[parent]))
            break;
        q->h[i] = q->h[parent];
        i = parent;
    }
    q->h[i] = e;
}

void q_push_frame(struct gen *g, uint64_t t, struct frame *f)
{
    struct qent e = {.t = t, .p = f, .kind = Q_FRAME};
    q_push(g, e);
}

void q_push_wake(struct gen *g, uint64_t t, wake_fn fn, void *arg)
{
    struct qent e = {.t = t, .p = arg, .fn = fn, .kind = Q_WAKE};
    q_push(g, e);
}

bool q_pop(struct gen *g, struct qent *out)
{
    struct queue *q = &g->q;
    if (q->n == 0)
        return false;
    *out = q->h[0];
    struct qent last = q->h[--q->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const struct qent *best = &last;
        if (l < q->n && qless(&q->h[l], best)) {
            m = l;
            best = &q->h[l];
        }
        if (r < q->n && qless(&q->h[r], best))
            m = r;
        if (m == i)
            break;
        q->h[i] = q->h[m];
        i = m;
    }
    if (q->n)
        q->h[i] = last;
    return true;
}

void q_free(struct gen *g)
{
    for (size_t i = 0; i < g->q.n; i++)
        if (g->q.h[i].kind == Q_FRAME)
            free(g->q.h[i].p);
    free(g->q.h);
    g->q.h = NULL;
    g->q.n = g->q.cap = 0;
}

/* ---- checksums ------------------------------------------------------------ */
static uint64_t sum_bytes(uint64_t s, const uint8_t *p, size_t n)
{
    while (n >= 4) {
        s += ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        s += ((uint32_t)p[0] << 8) | p[1];
        p += 2;
        n -= 2;
    }
    if (n)
        s += (uint32_t)p[0] << 8;
    return s;
}

static uint16_t fold(uint64_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- frames ---------------------------------------------------------------- */
/* Allocates a frame with room for the link and IP headers plus l4len
 * bytes, writes Ethernet (+VLAN) and IP, and returns where L4 starts;
 * *pseudo gets the pseudo-header sum for the L4 checksum. */
static struct frame *frame_start(struct gen *g, struct host *src, struct host *dst, bool v6, uint8_t proto,
                                 size_t l4len, uint8_t **l4, uint64_t *pseudo)
{
    uint16_t vlan = src->vlan ? src->vlan : dst->vlan;
    size_t l2 = 14 + (vlan ? 4 : 0);
    size_t l3 = v6 ? 40 : 20;
    size_t len = l2 + l3 + l4len;
    size_t caplen = len < 60 ? 60 : len; /* Ethernet minimum: padded */
    struct frame *f = malloc(sizeof *f + caplen);
    if (!f) {
        fprintf(stderr, "gen-busy: out of memory\n");
        exit(2);
    }
    f->len = (uint32_t)caplen;
    f->mark = NULL;
    f->mark_bits = 0;
    uint8_t *p = f->data;
    memcpy(p, dst->mac, 6);
    memcpy(p + 6, src->mac, 6);
    if (vlan) {
        put16(p + 12, 0x8100);
        put16(p + 14, vlan);
        p += 4;
        g->st.vlan_frames++;
    }
    put16(p + 12, v6 ? 0x86dd : 0x0800);
    p += 14;
    if (v6) {
        put32(p, 0x60000000u);
        put16(p + 4, (uint16_t)l4len);
        p[6] = proto;
        p[7] = src->ttl;
        memcpy(p + 8, src->ip6, 16);
        memcpy(p + 24, dst->ip6, 16);
        *pseudo = sum_bytes(0, p + 8, 32) + l4len + proto;
        g->st.v6_frames++;
    } else {
        p[0] = 0x45;
        p[1] = 0;
        put16(p + 2, (uint16_t)(20 + l4len));
        put16(p + 4, src->ipid++);
        put16(p + 6, 0x4000);
        p[8] = src->ttl;
        p[9] = proto;
        put16(p + 10, 0);
        memcpy(p + 12, src->ip4, 4);
        memcpy(p + 16, dst->ip4, 4);
        put16(p + 10, fold(sum_bytes(0, p, 20)));
        *pseudo = sum_bytes(0, p + 12, 8) + l4len + proto;
    }
    p += l3;
    if (caplen > len) {
        memset(f->data + len, 0, caplen - len);
        g->st.padded_frames++;
    }
    *l4 = p;
    return f;
}

void wire_tcp(struct gen *g, uint64_t t, const struct tcpc *c, int dir, uint32_t seq, uint32_t ack, uint8_t flags,
              const uint8_t *opt, size_t optlen, const uint8_t *data, size_t len, uint32_t *mark, uint32_t bits,
              uint64_t *class_bytes)
{
    struct host *src = c->h[dir], *dst = c->h[!dir];
    size_t hl = 20 + optlen;
    uint8_t *p;
    uint64_t pseudo;
    struct frame *f = frame_start(g, src, dst, c->v6, 6, hl + len, &p, &pseudo);
    put16(p, c->port[dir]);
    put16(p + 2, c->port[!dir]);
    put32(p + 4, seq);
    put32(p + 8, (flags & TH_ACK) ? ack : 0);
    p[12] = (uint8_t)((hl / 4) << 4);
    p[13] = flags;
    put16(p + 14, (uint16_t)(flags & TH_SYN ? 64240 : 502 + (seq & 0x3ff)));
    put16(p + 16, 0);
    put16(p + 18, 0);
    if (optlen)
        memcpy(p + 20, opt, optlen);
    if (len)
        memcpy(p + hl, data, len);
    if (src->csum_offload)
        g->st.zero_csum_frames++;
    else
        put16(p + 16, fold(sum_bytes(pseudo, p, hl + len)));
    f->mark = mark;
    f->mark_bits = bits;
    if (class_bytes)
        *class_bytes += f->len;
    q_push_frame(g, t, f);
}

void wire_udp(struct gen *g, uint64_t t, struct host *src, struct host *dst, bool v6, uint16_t sport, uint16_t dport,
              const uint8_t *data, size_t len, uint32_t *mark, uint32_t bits, uint64_t *class_bytes)
{
    uint8_t *p;
    uint64_t pseudo;
    struct frame *f = frame_start(g, src, dst, v6, 17, 8 + len, &p, &pseudo);
    put16(p, sport);
    put16(p + 2, dport);
    put16(p + 4, (uint16_t)(8 + len));
    put16(p + 6, 0);
    if (len)
        memcpy(p + 8, data, len);
    uint16_t cs = fold(sum_bytes(pseudo, p, 8 + len));
    put16(p + 6, cs ? cs : 0xffff);
    f->mark = mark;
    f->mark_bits = bits;
    if (class_bytes)
        *class_bytes += f->len;
    q_push_frame(g, t, f);
}

/* ---- pcap ------------------------------------------------------------------ */
static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void pcap_write_header(struct gen *g)
{
    uint8_t h[24];
    le32(h, 0xa1b2c3d4u);
    h[4] = 2;
    h[5] = 0;
    h[6] = 4;
    h[7] = 0;
    le32(h + 8, 0);
    le32(h + 12, 0);
    le32(h + 16, 262144);
    le32(h + 20, 1); /* LINKTYPE_ETHERNET */
    fwrite(h, 1, sizeof h, g->out);
    g->st.bytes += sizeof h;
}

void pcap_write_frame(struct gen *g, uint64_t t, const struct frame *f)
{
    uint8_t h[16];
    uint64_t abs_us = g->epoch_s * US_PER_S + t;
    le32(h, (uint32_t)(abs_us / US_PER_S));
    le32(h + 4, (uint32_t)(abs_us % US_PER_S));
    le32(h + 8, f->len);
    le32(h + 12, f->len);
    fwrite(h, 1, sizeof h, g->out);
    fwrite(f->data, 1, f->len, g->out);
    g->st.bytes += sizeof h + f->len;
    g->st.frames++;
    if (f->mark)
        *f->mark |= f->mark_bits;
}
