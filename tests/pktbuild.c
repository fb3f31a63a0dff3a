/*
 * pktbuild.c - packet builder for the unit tests (see pktbuild.h).
 */
#include "pktbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Moves the payload out of the way first, for headers built in place. */
static void make_room(uint8_t *out, size_t hlen, const uint8_t *payload, size_t len)
{
    if (len)
        memmove(out + hlen, payload, len);
}

struct ft_addr pb_addr(const char *text)
{
    struct ft_addr a;
    if (!ft_addr_parse(&a, text)) {
        fprintf(stderr, "pb_addr: bad address %s\n", text);
        abort();
    }
    return a;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

static uint16_t csum_final(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t pb_l4_csum(const struct ft_addr *src, const struct ft_addr *dst, uint8_t proto,
                    const uint8_t *seg, size_t len)
{
    uint8_t ph[40];
    size_t alen = src->family == 4 ? 4 : 16, n = 0;
    memcpy(ph, src->b, alen);
    memcpy(ph + alen, dst->b, alen);
    n = 2 * alen;
    if (alen == 4) {
        ph[n++] = 0;
        ph[n++] = proto;
        put16(ph + n, (uint16_t)len);
        n += 2;
    } else {
        put32(ph + n, (uint32_t)len);
        n += 4;
        ph[n++] = 0;
        ph[n++] = 0;
        ph[n++] = 0;
        ph[n++] = proto;
    }
    return csum_final(csum_add(csum_add(0, ph, n), seg, len));
}

/* ---- link layer ---------------------------------------------------------- */

static const uint8_t MAC_DST[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t MAC_SRC[6] = { 2, 0, 0, 0, 0, 1 };

size_t pb_eth(uint8_t *out, uint16_t ethertype, const uint8_t *payload, size_t len)
{
    return pb_eth_tagged(out, NULL, NULL, 0, ethertype, payload, len);
}

size_t pb_eth_tagged(uint8_t *out, const uint16_t *tpids, const uint16_t *vids, unsigned ntags,
                     uint16_t ethertype, const uint8_t *payload, size_t len)
{
    size_t hlen = 14 + 4 * (size_t)ntags, n = 12;
    make_room(out, hlen, payload, len);
    memcpy(out, MAC_DST, 6);
    memcpy(out + 6, MAC_SRC, 6);
    for (unsigned i = 0; i < ntags; i++) {
        put16(out + n, tpids[i]);
        put16(out + n + 2, (uint16_t)(vids[i] & 0x0fff));
        n += 4;
    }
    put16(out + n, ethertype);
    return hlen + len;
}

size_t pb_mpls(uint8_t *out, const uint32_t *labels, unsigned n, const uint8_t *payload,
               size_t len)
{
    size_t hlen = 4 * (size_t)n;
    make_room(out, hlen, payload, len);
    for (unsigned i = 0; i < n; i++) {
        uint32_t e = (labels[i] & 0xfffff) << 12 | 64; /* TTL 64 */
        if (i + 1 == n)
            e |= 0x100;
        put32(out + 4 * i, e);
    }
    return hlen + len;
}

size_t pb_sll(uint8_t *out, uint16_t ethertype, const uint8_t *payload, size_t len)
{
    make_room(out, 16, payload, len);
    put16(out, 0);      /* packet type: to us */
    put16(out + 2, 1);  /* ARPHRD_ETHER */
    put16(out + 4, 6);  /* address length */
    memset(out + 6, 0, 8);
    memcpy(out + 6, MAC_SRC, 6);
    put16(out + 14, ethertype);
    return 16 + len;
}

size_t pb_sll2(uint8_t *out, uint16_t ethertype, const uint8_t *payload, size_t len)
{
    make_room(out, 20, payload, len);
    put16(out, ethertype);
    put16(out + 2, 0);  /* reserved */
    put32(out + 4, 3);  /* interface index */
    put16(out + 8, 1);  /* ARPHRD_ETHER */
    out[10] = 4;        /* outgoing */
    out[11] = 6;
    memset(out + 12, 0, 8);
    memcpy(out + 12, MAC_SRC, 6);
    return 20 + len;
}

size_t pb_null(uint8_t *out, uint32_t af, bool big_endian, const uint8_t *payload, size_t len)
{
    make_room(out, 4, payload, len);
    if (big_endian) {
        put32(out, af);
    } else {
        out[0] = (uint8_t)af;
        out[1] = (uint8_t)(af >> 8);
        out[2] = (uint8_t)(af >> 16);
        out[3] = (uint8_t)(af >> 24);
    }
    return 4 + len;
}

size_t pb_loop(uint8_t *out, uint32_t af, const uint8_t *payload, size_t len)
{
    return pb_null(out, af, true, payload, len);
}

size_t pb_gre(uint8_t *out, const struct pb_gre *g, const uint8_t *payload, size_t len)
{
    size_t hlen = 4 + (g->has_key ? 4 : 0) + (g->has_seq ? 4 : 0), n = 4;
    uint16_t flags = (uint16_t)((g->has_key ? 0x2000 : 0) | (g->has_seq ? 0x1000 : 0));
    make_room(out, hlen, payload, len);
    put16(out, flags);
    put16(out + 2, g->proto);
    if (g->has_key) {
        put32(out + n, g->key);
        n += 4;
    }
    if (g->has_seq)
        put32(out + n, g->seq);
    return hlen + len;
}

size_t pb_erspan2(uint8_t *out, uint16_t session, uint32_t seq, const uint8_t *frame,
                  size_t len)
{
    struct pb_gre g = { .proto = 0x88be, .has_seq = true, .seq = seq };
    uint8_t hdr[8];
    size_t n;
    put16(hdr, 0x1000);                       /* version 1 (type II), VLAN 0 */
    put16(hdr + 2, (uint16_t)(session & 0x3ff));
    put32(hdr + 4, 0);                        /* reserved, index */
    make_room(out, 16, frame, len);           /* GRE(4) + seq(4) + ERSPAN(8) */
    memcpy(out + 8, hdr, 8);                  /* ERSPAN header after GRE+seq */
    n = pb_gre(out, &g, out + 8, 8 + len);
    return n;
}

/* ---- IP -------------------------------------------------------------------- */

size_t pb_ipv4(uint8_t *out, const struct pb_ip4 *ip, const uint8_t *payload, size_t len)
{
    size_t hlen = 20 + ip->options_len;
    uint16_t frag = (uint16_t)((ip->frag_offset / 8) & 0x1fff);
    make_room(out, hlen, payload, len);
    out[0] = (uint8_t)(0x40 | (ip->ihl ? (ip->ihl & 0x0f) : (int)(hlen / 4)));
    out[1] = 0;
    put16(out + 2, (uint16_t)(ip->total_len ? ip->total_len : (int)(hlen + len)));
    put16(out + 4, ip->id);
    if (ip->mf)
        frag |= 0x2000;
    if (ip->df)
        frag |= 0x4000;
    put16(out + 6, frag);
    out[8] = ip->ttl ? ip->ttl : 64;
    out[9] = ip->proto;
    put16(out + 10, 0);
    memcpy(out + 12, ip->src.b, 4);
    memcpy(out + 16, ip->dst.b, 4);
    if (ip->options_len)
        memcpy(out + 20, ip->options, ip->options_len);
    uint16_t c = csum_final(csum_add(0, out, hlen));
    if (ip->bad_csum)
        c ^= 0x0100;
    put16(out + 10, c);
    return hlen + len;
}

size_t pb_ipv6(uint8_t *out, const struct pb_ip6 *ip, const uint8_t *payload, size_t len)
{
    make_room(out, 40, payload, len);
    put32(out, 0x60000000);
    if (ip->payload_len == -1)
        put16(out + 4, 0);
    else
        put16(out + 4, (uint16_t)(ip->payload_len ? ip->payload_len : (int)len));
    out[6] = ip->next;
    out[7] = ip->hlim ? ip->hlim : 64;
    memcpy(out + 8, ip->src.b, 16);
    memcpy(out + 24, ip->dst.b, 16);
    return 40 + len;
}

size_t pb_ip6_opts(uint8_t *out, uint8_t next, uint8_t len8, const uint8_t *payload, size_t len)
{
    size_t hlen = ((size_t)len8 + 1) * 8;
    make_room(out, hlen, payload, len);
    out[0] = next;
    out[1] = len8;
    out[2] = 1; /* PadN covering the rest */
    out[3] = (uint8_t)(hlen - 4);
    memset(out + 4, 0, hlen - 4);
    return hlen + len;
}

size_t pb_ip6_frag(uint8_t *out, uint8_t next, uint32_t offset, bool more, uint32_t id,
                   const uint8_t *payload, size_t len)
{
    make_room(out, 8, payload, len);
    out[0] = next;
    out[1] = 0;
    put16(out + 2, (uint16_t)((offset & 0xfff8) | (more ? 1 : 0)));
    put32(out + 4, id);
    return 8 + len;
}

/* ---- transport ------------------------------------------------------------- */

size_t pb_tcp(uint8_t *out, const struct pb_tcp *t, const struct ft_addr *src,
              const struct ft_addr *dst, const uint8_t *payload, size_t len)
{
    uint8_t opt[64];
    size_t olen = 0, hlen;

    if (t->mss) {
        opt[olen++] = 2;
        opt[olen++] = 4;
        put16(opt + olen, t->mss);
        olen += 2;
    }
    if (t->sack_perm) {
        opt[olen++] = 4;
        opt[olen++] = 2;
    }
    if (t->has_ts) {
        opt[olen++] = 1; /* NOP NOP, as stacks usually align it */
        opt[olen++] = 1;
        opt[olen++] = 8;
        opt[olen++] = 10;
        put32(opt + olen, t->tsval);
        put32(opt + olen + 4, t->tsecr);
        olen += 8;
    }
    if (t->has_wscale) {
        opt[olen++] = 1;
        opt[olen++] = 3;
        opt[olen++] = 3;
        opt[olen++] = t->wscale;
    }
    if (t->raw_opts_len) {
        memcpy(opt + olen, t->raw_opts, t->raw_opts_len);
        olen += t->raw_opts_len;
    }
    while (olen % 4)
        opt[olen++] = 0; /* EOL padding */
    hlen = 20 + olen;

    make_room(out, hlen, payload, len);
    put16(out, t->sport);
    put16(out + 2, t->dport);
    put32(out + 4, t->seq);
    put32(out + 8, t->ack);
    out[12] = (uint8_t)((t->data_offset ? t->data_offset : (int)(hlen / 4)) << 4);
    out[13] = t->flags;
    put16(out + 14, t->window);
    put16(out + 16, 0);
    put16(out + 18, 0);
    memcpy(out + 20, opt, olen);
    if (t->csum != PB_CSUM_ZERO) {
        uint16_t c = pb_l4_csum(src, dst, 6, out, hlen + len);
        if (t->csum == PB_CSUM_BAD)
            c ^= 0x0001;
        put16(out + 16, c);
    }
    return hlen + len;
}

size_t pb_udp(uint8_t *out, uint16_t sport, uint16_t dport, enum pb_csum csum,
              const struct ft_addr *src, const struct ft_addr *dst, const uint8_t *payload,
              size_t len)
{
    make_room(out, 8, payload, len);
    put16(out, sport);
    put16(out + 2, dport);
    put16(out + 4, (uint16_t)(8 + len));
    put16(out + 6, 0);
    if (csum != PB_CSUM_ZERO) {
        uint16_t c = pb_l4_csum(src, dst, 17, out, 8 + len);
        if (c == 0)
            c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
        if (csum == PB_CSUM_BAD)
            c ^= 0x0001;
        put16(out + 6, c);
    }
    return 8 + len;
}

/* ---- whole packets ----------------------------------------------------------- */

size_t pb_ip_tcp(uint8_t *out, const struct ft_addr *src, const struct ft_addr *dst,
                 const struct pb_tcp *t, const uint8_t *payload, size_t len)
{
    size_t n = pb_tcp(out, t, src, dst, payload, len);
    if (src->family == 4) {
        struct pb_ip4 ip = { .src = *src, .dst = *dst, .proto = 6 };
        return pb_ipv4(out, &ip, out, n);
    } else {
        struct pb_ip6 ip = { .src = *src, .dst = *dst, .next = 6 };
        return pb_ipv6(out, &ip, out, n);
    }
}

size_t pb_eth_ip_tcp(uint8_t *out, const struct ft_addr *src, const struct ft_addr *dst,
                     const struct pb_tcp *t, const uint8_t *payload, size_t len)
{
    size_t n = pb_ip_tcp(out, src, dst, t, payload, len);
    return pb_eth(out, src->family == 4 ? 0x0800 : 0x86dd, out, n);
}
