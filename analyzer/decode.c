/*
 * decode.c - link / IP / TCP / UDP decoding (see decode.h).
 *
 * The decoder walks the frame with one cursor and a small loop over
 * "layers" (link header, tunnel, IP) instead of recursion, so nested
 * encapsulation (VLAN in GRE in IP ...) costs a bounded number of steps.
 * References: IEEE 802.1Q/802.1ad, RFC 791, RFC 8200, RFC 9293 (TCP),
 * RFC 768, RFC 2784/2890 (GRE), ERSPAN (draft-foschiano-erspan).
 */
#include "decode.h"

#include <netinet/in.h>
#include <string.h>

#include "cursor.h"
#include "ipfrag.h"

#define MAX_LAYERS 12        /* link + tags + tunnels before we give up */
#define MAX_IPV6_EXT 16      /* extension headers followed */

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MC 0x8848
#define ETHERTYPE_TEB 0x6558   /* transparent Ethernet bridging (GRE) */
#define ETHERTYPE_ERSPAN2 0x88be
#define ETHERTYPE_ERSPAN3 0x22eb

#define IPPROTO_GRE_ 47

enum layer {
    LAYER_ETHERNET,
    LAYER_ETHERTYPE, /* an ethertype value decides what follows */
    LAYER_IP_GUESS,  /* raw IP: version nibble decides */
    LAYER_IPV4,
    LAYER_IPV6,
    LAYER_MPLS,
};

bool decode_link_supported(int linktype)
{
    switch (linktype) {
    case FT_LINK_NULL:
    case FT_LINK_ETHERNET:
    case FT_LINK_RAW_DLT:
    case FT_LINK_RAW_BSD:
    case FT_LINK_RAW:
    case FT_LINK_LOOP:
    case FT_LINK_SLL:
    case FT_LINK_IPV4:
    case FT_LINK_IPV6:
    case FT_LINK_SLL2:
        return true;
    default:
        return false;
    }
}

/* ---- checksums ---------------------------------------------------------- */

/* The ones'-complement sum of p's 16-bit big-endian words (a last odd
 * byte padded with zero), added to sum.  Every packet of every flow is
 * verified, so this reads 8 bytes at a time in host order with an
 * end-around carry and swaps the folded result: the sum is the same in
 * either byte order, swapped (RFC 1071 section 2(B)). */
static uint32_t sum16(uint32_t sum, const uint8_t *p, uint32_t len)
{
    uint64_t acc = 0;
    uint32_t host;

    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, sizeof(w));
        acc += w;
        acc += acc < w; /* end-around carry */
        p += 8;
        len -= 8;
    }
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffu) + (acc >> 16);
    acc = (acc & 0xffffu) + (acc >> 16);
    acc = (acc & 0xffffu) + (acc >> 16);
    host = (uint32_t)acc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    host = ((host & 0xffu) << 8) | (host >> 8);
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
#error "unknown byte order"
#endif
    sum += host;
    while (len >= 2) {
        sum += (uint32_t)((p[0] << 8) | p[1]);
        p += 2;
        len -= 2;
    }
    if (len)
        sum += (uint32_t)(p[0] << 8);
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t decode_l4_checksum(const struct ft_addr *src, const struct ft_addr *dst, uint8_t proto,
                            const uint8_t *seg, uint32_t len)
{
    uint32_t sum = 0;
    unsigned alen = src->family == 4 ? 4 : 16;
    sum = sum16(sum, src->b, alen);
    sum = sum16(sum, dst->b, alen);
    sum += proto;
    sum += len & 0xffff;
    sum += len >> 16;
    /* Fold periodically so huge segments cannot overflow 32 bits. */
    while (len > 0) {
        uint32_t n = len > 65536 ? 65536 : len;
        sum = sum16(sum, seg, n);
        sum = (sum & 0xffff) + (sum >> 16);
        seg += n;
        len -= n;
    }
    return fold(sum);
}

/* ---- transport ------------------------------------------------------------ */

static void parse_tcp_options(struct decoder *d, struct packet *pkt, const uint8_t *p, size_t len)
{
    struct cursor c;
    cursor_init(&c, p, len);
    while (cursor_left(&c) > 0) {
        uint8_t kind, olen;
        cursor_u8(&c, &kind);
        if (kind == 0) /* end of option list */
            break;
        if (kind == 1) /* NOP */
            continue;
        if (!cursor_u8(&c, &olen) || olen < 2 || !cursor_need(&c, (size_t)olen - 2)) {
            d->stats.invalid_l4++;
            return;
        }
        const uint8_t *v = cursor_take(&c, (size_t)olen - 2);
        switch (kind) {
        case 2:
            if (olen == 4)
                pkt->opt.mss = load_be16(v);
            break;
        case 3:
            if (olen == 3)
                pkt->opt.wscale = (int8_t)(v[0] > 14 ? 14 : v[0]);
            break;
        case 4:
            if (olen == 2)
                pkt->opt.sack_permitted = true;
            break;
        case 8:
            if (olen == 10) {
                pkt->opt.has_timestamps = true;
                pkt->opt.tsval = load_be32(v);
                pkt->opt.tsecr = load_be32(v + 4);
            }
            break;
        default:
            break;
        }
    }
}

/* Decodes TCP or UDP from `seg`: `caplen` bytes captured of `wirelen`. */
static enum decode_result decode_transport(struct decoder *d, struct packet *pkt,
                                           const uint8_t *seg, uint32_t caplen, uint32_t wirelen)
{
    struct cursor c;
    bool whole = caplen >= wirelen;

    cursor_init(&c, seg, caplen);
    if (pkt->proto == IPPROTO_TCP) {
        uint8_t off_flags, flags;
        uint16_t csum, urg;
        d->stats.tcp++;
        cursor_be16(&c, &pkt->sport);
        cursor_be16(&c, &pkt->dport);
        cursor_be32(&c, &pkt->seq);
        cursor_be32(&c, &pkt->ack);
        cursor_u8(&c, &off_flags);
        cursor_u8(&c, &flags);
        cursor_be16(&c, &pkt->window);
        cursor_be16(&c, &csum);
        cursor_be16(&c, &urg);
        if (c.bad) {
            d->stats.truncated_l4++;
            return DECODE_INVALID;
        }
        uint32_t hlen = (uint32_t)(off_flags >> 4) * 4;
        if (hlen < 20 || hlen > wirelen) {
            d->stats.invalid_l4++;
            return DECODE_INVALID;
        }
        if (hlen > caplen) {
            d->stats.truncated_l4++;
            return DECODE_INVALID;
        }
        pkt->tcp_flags = flags;
        parse_tcp_options(d, pkt, seg + 20, hlen - 20);
        pkt->payload = seg + hlen;
        pkt->payload_len = caplen - hlen;
        pkt->payload_wire_len = wirelen - hlen;
        if (whole && d->verify_checksums) {
            if (decode_l4_checksum(&pkt->src, &pkt->dst, IPPROTO_TCP, seg, wirelen) != 0) {
                pkt->csum_bad = true;
                d->stats.tcp_csum_bad++;
            }
        } else {
            pkt->csum_unchecked = true;
        }
    } else if (pkt->proto == IPPROTO_UDP) {
        uint16_t ulen, csum;
        d->stats.udp++;
        cursor_be16(&c, &pkt->sport);
        cursor_be16(&c, &pkt->dport);
        cursor_be16(&c, &ulen);
        cursor_be16(&c, &csum);
        if (c.bad) {
            d->stats.truncated_l4++;
            return DECODE_INVALID;
        }
        /* The UDP length must fit the IP payload; it may be shorter
         * (trailing bytes are not data).  IPv6 jumbograms are not followed. */
        if (ulen < 8 || ulen > wirelen) {
            d->stats.invalid_l4++;
            return DECODE_INVALID;
        }
        wirelen = ulen;
        if (caplen > wirelen)
            caplen = wirelen;
        whole = caplen >= wirelen;
        pkt->payload = seg + 8;
        pkt->payload_len = caplen - 8;
        pkt->payload_wire_len = wirelen - 8;
        if (csum == 0) {
            pkt->csum_zero = true;
            d->stats.udp_csum_zero++;
        } else if (whole && d->verify_checksums) {
            if (decode_l4_checksum(&pkt->src, &pkt->dst, IPPROTO_UDP, seg, wirelen) != 0) {
                pkt->csum_bad = true;
                d->stats.udp_csum_bad++;
            }
        } else {
            pkt->csum_unchecked = true;
        }
    } else {
        if (pkt->proto == IPPROTO_ICMP || pkt->proto == IPPROTO_ICMPV6)
            d->stats.icmp++;
        else
            d->stats.other_ip++;
        pkt->payload = seg;
        pkt->payload_len = caplen;
        pkt->payload_wire_len = wirelen;
        return DECODE_OK;
    }
    if (pkt->payload_len < pkt->payload_wire_len) {
        pkt->truncated = true;
        d->stats.snaplen_cut++;
    }
    return DECODE_OK;
}

/* Hands a fragment to the reassembler; on completion decodes the whole
 * datagram's transport header. */
static enum decode_result decode_fragment(struct decoder *d, struct packet *pkt, uint32_t id,
                                          uint32_t offset, bool more, const uint8_t *p,
                                          uint32_t caplen, uint32_t wirelen)
{
    const uint8_t *whole;
    uint32_t whole_len;

    d->stats.fragments++;
    if (!d->frags)
        return DECODE_SKIP;
    if (caplen < wirelen) {
        /* A fragment cut by the snapshot length can never complete. */
        d->stats.snaplen_cut++;
        return DECODE_SKIP;
    }
    if (!ipfrag_add(d->frags, &pkt->src, &pkt->dst, pkt->proto, id, offset, more, p, wirelen,
                    pkt->meta.ts_ns, &whole, &whole_len))
        return DECODE_FRAG_HELD;
    d->stats.reassembled++;
    pkt->reassembled = true;
    return decode_transport(d, pkt, whole, whole_len, whole_len);
}

/* IPv4 at the cursor.  `tunnel` is set when the payload is GRE that the
 * caller should continue into. */
static enum decode_result decode_ipv4(struct decoder *d, struct packet *pkt, struct cursor *c,
                                      const uint8_t **inner, uint32_t *inner_len)
{
    const uint8_t *h = cursor_ptr(c);
    uint8_t vihl, tos, ttl, proto;
    uint16_t total, id, frag, hcsum;
    uint32_t hlen, caplen, wirelen;

    d->stats.ipv4++;
    cursor_u8(c, &vihl);
    cursor_u8(c, &tos);
    cursor_be16(c, &total);
    cursor_be16(c, &id);
    cursor_be16(c, &frag);
    cursor_u8(c, &ttl);
    cursor_u8(c, &proto);
    cursor_be16(c, &hcsum);
    if (!cursor_need(c, 8)) {
        d->stats.truncated_ip++;
        return DECODE_INVALID;
    }
    (void)tos;
    (void)hcsum;
    hlen = (uint32_t)(vihl & 0x0f) * 4;
    if ((vihl >> 4) != 4 || hlen < 20 || total < hlen) {
        d->stats.invalid_ip++;
        return DECODE_INVALID;
    }
    ft_addr_set4(&pkt->src, cursor_take(c, 4));
    ft_addr_set4(&pkt->dst, cursor_take(c, 4));
    if (!cursor_skip(c, hlen - 20)) {
        d->stats.truncated_ip++;
        return DECODE_INVALID;
    }
    if (d->verify_checksums && fold(sum16(0, h, hlen)) != 0)
        d->stats.ipv4_csum_bad++;
    pkt->ip_version = 4;
    pkt->proto = proto;
    pkt->ttl = ttl;
    wirelen = total - hlen;
    caplen = (uint32_t)cursor_left(c);
    if (caplen > wirelen)
        caplen = wirelen; /* link-layer padding is not data */
    else if (caplen < wirelen && pkt->caplen >= pkt->wirelen) {
        /* The whole frame was captured, yet it ends before the total
         * length: a bad header, not a snapshot-length cut. */
        d->stats.invalid_ip++;
        return DECODE_INVALID;
    }

    uint32_t offset = (uint32_t)(frag & 0x1fff) * 8;
    bool more = (frag & 0x2000) != 0;
    if (offset != 0 || more)
        return decode_fragment(d, pkt, id, offset, more, cursor_ptr(c), caplen, wirelen);
    if (proto == IPPROTO_GRE_) {
        *inner = cursor_ptr(c);
        *inner_len = caplen;
        return DECODE_OK;
    }
    return decode_transport(d, pkt, cursor_ptr(c), caplen, wirelen);
}

static enum decode_result decode_ipv6(struct decoder *d, struct packet *pkt, struct cursor *c,
                                      const uint8_t **inner, uint32_t *inner_len)
{
    uint32_t vtcfl, caplen, wirelen;
    uint16_t plen;
    uint8_t nh, hlim;
    bool is_frag = false, more = false;
    uint32_t frag_id = 0, frag_off = 0;

    d->stats.ipv6++;
    cursor_be32(c, &vtcfl);
    cursor_be16(c, &plen);
    cursor_u8(c, &nh);
    cursor_u8(c, &hlim);
    if (!cursor_need(c, 32)) {
        d->stats.truncated_ip++;
        return DECODE_INVALID;
    }
    if ((vtcfl >> 28) != 6) {
        d->stats.invalid_ip++;
        return DECODE_INVALID;
    }
    ft_addr_set6(&pkt->src, cursor_take(c, 16));
    ft_addr_set6(&pkt->dst, cursor_take(c, 16));
    pkt->ip_version = 6;
    pkt->ttl = hlim;
    if (plen == 0) { /* jumbogram (RFC 2675) or bogus */
        d->stats.ipv6_ext_unsupported++;
        return DECODE_SKIP;
    }
    /* Limit the cursor to the IPv6 payload: bytes past it are padding. */
    wirelen = plen;
    if (cursor_left(c) > wirelen)
        c->len = c->off + wirelen;
    else if (cursor_left(c) < wirelen && pkt->caplen >= pkt->wirelen) {
        d->stats.invalid_ip++; /* whole frame captured, shorter than plen */
        return DECODE_INVALID;
    }

    for (int n = 0;; n++) {
        uint8_t next, hl;
        if (n >= MAX_IPV6_EXT) {
            d->stats.ipv6_ext_unsupported++;
            return DECODE_SKIP;
        }
        switch (nh) {
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* HIP */
        case 140: /* shim6 */
            cursor_u8(c, &next);
            cursor_u8(c, &hl);
            if (!cursor_skip(c, (size_t)hl * 8 + 6))
                goto truncated;
            wirelen -= ((uint32_t)hl * 8 + 8) > wirelen ? wirelen : (uint32_t)hl * 8 + 8;
            nh = next;
            continue;
        case 51: /* AH: length in 4-octet units minus 2 */
            cursor_u8(c, &next);
            cursor_u8(c, &hl);
            if (!cursor_skip(c, (size_t)hl * 4 + 6))
                goto truncated;
            wirelen -= ((uint32_t)hl * 4 + 8) > wirelen ? wirelen : (uint32_t)hl * 4 + 8;
            nh = next;
            continue;
        case 44: { /* fragment */
            uint8_t res;
            uint16_t offflags;
            cursor_u8(c, &next);
            cursor_u8(c, &res);
            cursor_be16(c, &offflags);
            cursor_be32(c, &frag_id);
            if (c->bad)
                goto truncated;
            (void)res;
            wirelen -= 8 > wirelen ? wirelen : 8;
            frag_off = (uint32_t)(offflags & 0xfff8);
            more = (offflags & 1) != 0;
            /* An atomic fragment (offset 0, M=0) is a whole datagram. */
            is_frag = frag_off != 0 || more;
            nh = next;
            continue;
        }
        case 50: /* ESP: encrypted, nothing to see */
        case 59: /* no next header */
            pkt->proto = nh;
            d->stats.other_ip++;
            return DECODE_SKIP;
        default:
            break;
        }
        break;
    }
    pkt->proto = nh;
    caplen = (uint32_t)cursor_left(c);
    if (caplen > wirelen)
        caplen = wirelen;
    if (is_frag)
        return decode_fragment(d, pkt, frag_id, frag_off, more, cursor_ptr(c), caplen, wirelen);
    if (nh == IPPROTO_GRE_) {
        *inner = cursor_ptr(c);
        *inner_len = caplen;
        return DECODE_OK;
    }
    return decode_transport(d, pkt, cursor_ptr(c), caplen, wirelen);

truncated:
    d->stats.truncated_ip++;
    return DECODE_INVALID;
}

/* GRE (RFC 2784/2890) and ERSPAN II/III: positions the cursor on the inner
 * frame and says which layer it is.  false if we do not follow it. */
static bool decode_gre(struct decoder *d, struct cursor *c, enum layer *next, uint16_t *etype)
{
    uint16_t flags, proto;
    cursor_be16(c, &flags);
    cursor_be16(c, &proto);
    if (flags & 0x8000) /* checksum present */
        cursor_skip(c, 4);
    if (flags & 0x2000) /* key present */
        cursor_skip(c, 4);
    if (flags & 0x1000) /* sequence number present */
        cursor_skip(c, 4);
    if (c->bad || (flags & 0x0007) != 0) { /* version 0 only */
        d->stats.truncated_link++;
        return false;
    }
    d->stats.tunnelled++;
    if (proto == ETHERTYPE_ERSPAN2) {
        /* ERSPAN type II: 8-byte header (version 1) before the frame; with
         * no sequence number it is type I with no header at all. */
        if (flags & 0x1000) {
            if (!cursor_skip(c, 8))
                return false;
        }
        *next = LAYER_ETHERNET;
        return true;
    }
    if (proto == ETHERTYPE_ERSPAN3) {
        uint8_t b[12];
        const uint8_t *h = cursor_take(c, 12);
        if (!h)
            return false;
        memcpy(b, h, sizeof(b));
        if (b[11] & 0x01) /* O flag: 8-byte platform-specific subheader */
            if (!cursor_skip(c, 8))
                return false;
        *next = LAYER_ETHERNET;
        return true;
    }
    *etype = proto;
    *next = proto == ETHERTYPE_TEB ? LAYER_ETHERNET : LAYER_ETHERTYPE;
    return true;
}

enum decode_result decode_packet(struct decoder *d, int linktype, const uint8_t *data,
                                 struct packet *pkt)
{
    struct ft_meta meta = pkt->meta;
    uint32_t caplen = pkt->caplen, wirelen = pkt->wirelen;
    struct cursor c;
    enum layer layer;
    uint16_t etype = 0;

    memset(pkt, 0, sizeof(*pkt));
    pkt->meta = meta;
    pkt->caplen = caplen;
    pkt->wirelen = wirelen;
    pkt->opt.wscale = -1;
    d->stats.packets++;
    cursor_init(&c, data, caplen);

    switch (linktype) {
    case FT_LINK_ETHERNET:
        layer = LAYER_ETHERNET;
        break;
    case FT_LINK_SLL: {
        /* pkttype(2) hatype(2) halen(2) addr(8) protocol(2) */
        if (!cursor_skip(&c, 14) || !cursor_be16(&c, &etype))
            goto truncated_link;
        layer = LAYER_ETHERTYPE;
        break;
    }
    case FT_LINK_SLL2:
        /* protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8) */
        if (!cursor_be16(&c, &etype) || !cursor_skip(&c, 18))
            goto truncated_link;
        layer = LAYER_ETHERTYPE;
        break;
    case FT_LINK_NULL:
    case FT_LINK_LOOP: {
        const uint8_t *h = cursor_take(&c, 4);
        uint32_t af;
        if (!h)
            goto truncated_link;
        /* DLT_NULL is in the capturing host's byte order: accept both. */
        af = load_be32(h);
        if (linktype == FT_LINK_NULL && af > 0xff)
            af = (uint32_t)h[0] | ((uint32_t)h[1] << 8) | ((uint32_t)h[2] << 16) |
                 ((uint32_t)h[3] << 24);
        if (af == 2)
            layer = LAYER_IPV4;
        else if (af == 10 || af == 24 || af == 28 || af == 30)
            layer = LAYER_IPV6;
        else {
            d->stats.not_ip++;
            return DECODE_SKIP;
        }
        break;
    }
    case FT_LINK_RAW_DLT:
    case FT_LINK_RAW_BSD:
    case FT_LINK_RAW:
        layer = LAYER_IP_GUESS;
        break;
    case FT_LINK_IPV4:
        layer = LAYER_IPV4;
        break;
    case FT_LINK_IPV6:
        layer = LAYER_IPV6;
        break;
    default:
        d->stats.unsupported_link++;
        return DECODE_SKIP;
    }

    for (int depth = 0;; depth++) {
        const uint8_t *inner = NULL;
        uint32_t inner_len = 0;
        enum decode_result r;

        if (depth >= MAX_LAYERS) {
            d->stats.too_many_layers++;
            return DECODE_SKIP;
        }
        switch (layer) {
        case LAYER_ETHERNET:
            if (!cursor_skip(&c, 12) || !cursor_be16(&c, &etype))
                goto truncated_link;
            layer = LAYER_ETHERTYPE;
            continue;
        case LAYER_ETHERTYPE:
            switch (etype) {
            case ETHERTYPE_IPV4:
                layer = LAYER_IPV4;
                continue;
            case ETHERTYPE_IPV6:
                layer = LAYER_IPV6;
                continue;
            case ETHERTYPE_VLAN:
            case ETHERTYPE_QINQ:
            case ETHERTYPE_QINQ_OLD:
                /* TCI(2) then the encapsulated ethertype */
                if (!cursor_skip(&c, 2) || !cursor_be16(&c, &etype))
                    goto truncated_link;
                d->stats.vlan_tagged++;
                continue;
            case ETHERTYPE_MPLS:
            case ETHERTYPE_MPLS_MC:
                layer = LAYER_MPLS;
                continue;
            default:
                d->stats.not_ip++;
                return DECODE_SKIP;
            }
        case LAYER_MPLS: {
            uint32_t label;
            do {
                if (!cursor_be32(&c, &label))
                    goto truncated_link;
            } while (!(label & 0x100) && ++depth < MAX_LAYERS);
            layer = LAYER_IP_GUESS;
            continue;
        }
        case LAYER_IP_GUESS: {
            if (cursor_left(&c) < 1)
                goto truncated_link;
            uint8_t v = cursor_ptr(&c)[0] >> 4;
            if (v == 4)
                layer = LAYER_IPV4;
            else if (v == 6)
                layer = LAYER_IPV6;
            else {
                d->stats.not_ip++;
                return DECODE_SKIP;
            }
            continue;
        }
        case LAYER_IPV4:
        case LAYER_IPV6:
            r = layer == LAYER_IPV4 ? decode_ipv4(d, pkt, &c, &inner, &inner_len)
                                    : decode_ipv6(d, pkt, &c, &inner, &inner_len);
            if (r != DECODE_OK || !inner)
                return r;
            /* GRE: continue with the encapsulated frame. */
            cursor_init(&c, inner, inner_len);
            if (!decode_gre(d, &c, &layer, &etype))
                return DECODE_SKIP;
            continue;
        }
    }

truncated_link:
    d->stats.truncated_link++;
    return DECODE_INVALID;
}
