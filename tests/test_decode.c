/*
 * test_decode.c - decode_packet() and the IP fragment reassembler on
 * crafted frames: every link type, tunnels, IP options and extension
 * headers, truncation at every layer, malformed headers, TCP options,
 * checksums, and fragments in and out of order.
 *
 * Every frame is decoded from a heap copy of exactly caplen bytes, so a
 * read past the captured data shows up under ASan / valgrind.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "decode.h"
#include "ipfrag.h"
#include "pktbuild.h"

static const uint8_t HELLO[] = "hello, federation";
#define HELLO_LEN ((uint32_t)(sizeof(HELLO) - 1))

static struct ft_addr A4, B4, A6, B6;

/* The heap copy the last decode ran on; payload pointers point into it. */
static uint8_t *g_copy;

static enum decode_result run(struct decoder *d, int linktype, const uint8_t *frame,
                              uint32_t caplen, uint32_t wirelen, struct packet *pkt)
{
    free(g_copy);
    g_copy = malloc(caplen ? caplen : 1);
    if (caplen)
        memcpy(g_copy, frame, caplen);
    memset(pkt, 0, sizeof(*pkt));
    pkt->meta.frame = 42;
    pkt->meta.ts_ns = 5 * FT_NS_PER_SEC;
    pkt->caplen = caplen;
    pkt->wirelen = wirelen;
    return decode_packet(d, linktype, g_copy, pkt);
}

static enum decode_result run_whole(struct decoder *d, int linktype, const uint8_t *frame,
                                    size_t len, struct packet *pkt)
{
    return run(d, linktype, frame, (uint32_t)len, (uint32_t)len, pkt);
}

static void decoder_init(struct decoder *d)
{
    memset(d, 0, sizeof(*d));
    d->verify_checksums = true;
}

static struct pb_tcp std_tcp(void)
{
    struct pb_tcp t = { .sport = 40000, .dport = 5269, .seq = 1000, .ack = 2000,
                        .flags = TCP_ACK | TCP_PSH, .window = 512 };
    return t;
}

/* IPv4 (or IPv6) + TCP carrying HELLO; returns the IP packet length. */
static size_t ip_hello(uint8_t *out, int family)
{
    struct pb_tcp t = std_tcp();
    if (family == 4)
        return pb_ip_tcp(out, &A4, &B4, &t, HELLO, HELLO_LEN);
    return pb_ip_tcp(out, &A6, &B6, &t, HELLO, HELLO_LEN);
}

/* Checks that pkt is the standard HELLO segment of the given family. */
static void check_hello(const struct packet *p, int family)
{
    CHECK(p->ip_version == family);
    CHECK(p->proto == IPPROTO_TCP);
    CHECK(p->ttl == 64);
    CHECK(ft_addr_eq(&p->src, family == 4 ? &A4 : &A6));
    CHECK(ft_addr_eq(&p->dst, family == 4 ? &B4 : &B6));
    CHECK(p->sport == 40000 && p->dport == 5269);
    CHECK(p->seq == 1000 && p->ack == 2000);
    CHECK(p->tcp_flags == (TCP_ACK | TCP_PSH));
    CHECK(p->window == 512);
    CHECK(p->payload_len == HELLO_LEN && p->payload_wire_len == HELLO_LEN);
    CHECK(p->payload && memcmp(p->payload, HELLO, HELLO_LEN) == 0);
    CHECK(!p->truncated && !p->csum_bad && !p->csum_unchecked && !p->reassembled);
    CHECK(p->meta.frame == 42 && p->caplen > 0);
}

/* ---- link types ---------------------------------------------------------- */

static void test_ethernet(void)
{
    struct decoder d;
    struct packet p;
    uint8_t ip[2048], f[2048];
    size_t n;

    decoder_init(&d);
    n = pb_eth(f, 0x0800, ip, ip_hello(ip, 4));
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);
    CHECK(p.opt.wscale == -1 && p.opt.mss == 0 && !p.opt.sack_permitted && !p.opt.has_timestamps);
    CHECK(d.stats.packets == 1 && d.stats.ipv4 == 1 && d.stats.tcp == 1);
    CHECK(d.stats.vlan_tagged == 0 && d.stats.tcp_csum_bad == 0 && d.stats.ipv4_csum_bad == 0);

    n = pb_eth(f, 0x86dd, ip, ip_hello(ip, 6));
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_OK);
    check_hello(&p, 6);
    CHECK(d.stats.ipv6 == 1 && d.stats.tcp == 2);

    /* ARP is not IP. */
    uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
    n = pb_eth(f, 0x0806, arp, sizeof(arp));
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_SKIP);
    CHECK(d.stats.not_ip == 1);
}

static void test_vlan(void)
{
    struct decoder d;
    struct packet p;
    uint8_t ip[2048], f[2048];
    size_t n, iplen = ip_hello(ip, 4);
    uint16_t tp1[] = { 0x8100 }, vid1[] = { 100 };
    uint16_t tp2[] = { 0x88a8, 0x8100 }, vid2[] = { 10, 20 };
    uint16_t tp3[] = { 0x9100, 0x8100 }, vid3[] = { 30, 40 };

    decoder_init(&d);
    n = pb_eth_tagged(f, tp1, vid1, 1, 0x0800, ip, iplen);
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);
    CHECK(d.stats.vlan_tagged == 1);

    n = pb_eth_tagged(f, tp2, vid2, 2, 0x0800, ip, iplen);
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);
    CHECK(d.stats.vlan_tagged == 3);

    n = pb_eth_tagged(f, tp3, vid3, 2, 0x86dd, ip, ip_hello(ip, 6));
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_OK);
    check_hello(&p, 6);
    CHECK(d.stats.vlan_tagged == 5);

    /* Frame cut inside the tag: truncated link header. */
    n = pb_eth_tagged(f, tp1, vid1, 1, 0x0800, ip, iplen);
    CHECK(run(&d, FT_LINK_ETHERNET, f, 16, (uint32_t)n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_link == 1);
}

static void test_mpls(void)
{
    struct decoder d;
    struct packet p;
    uint8_t ip[2048], m[2048], f[2048];
    uint32_t labels[] = { 1000, 2000, 3000 };
    size_t n;

    decoder_init(&d);
    n = pb_mpls(m, labels, 3, ip, ip_hello(ip, 4));
    n = pb_eth(f, 0x8847, m, n);
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);

    n = pb_mpls(m, labels, 1, ip, ip_hello(ip, 6));
    n = pb_eth(f, 0x8848, m, n);
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_OK);
    check_hello(&p, 6);

    /* Label stack without bottom-of-stack that runs off the frame. */
    n = pb_mpls(m, labels, 2, NULL, 0);
    m[6] &= (uint8_t)~0x01; /* clear S on the last entry */
    n = pb_eth(f, 0x8847, m, n);
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_link == 1);
}

static void test_cooked_and_loopback(void)
{
    struct decoder d;
    struct packet p;
    uint8_t ip4[2048], ip6[2048], f[2048];
    size_t n, n4 = ip_hello(ip4, 4), n6 = ip_hello(ip6, 6);

    decoder_init(&d);
    n = pb_sll(f, 0x0800, ip4, n4);
    CHECK(n == 16 + n4);
    CHECK(run_whole(&d, FT_LINK_SLL, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);
    n = pb_sll(f, 0x86dd, ip6, n6);
    CHECK(run_whole(&d, FT_LINK_SLL, f, n, &p) == DECODE_OK);
    check_hello(&p, 6);
    CHECK(run(&d, FT_LINK_SLL, f, 15, (uint32_t)n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_link == 1);

    n = pb_sll2(f, 0x0800, ip4, n4);
    CHECK(n == 20 + n4);
    CHECK(run_whole(&d, FT_LINK_SLL2, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);
    n = pb_sll2(f, 0x86dd, ip6, n6);
    CHECK(run_whole(&d, FT_LINK_SLL2, f, n, &p) == DECODE_OK);
    check_hello(&p, 6);
    CHECK(run(&d, FT_LINK_SLL2, f, 19, (uint32_t)n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_link == 2);

    /* DLT_NULL: host byte order of the capturing machine, either way. */
    n = pb_null(f, 2, false, ip4, n4);
    CHECK(run_whole(&d, FT_LINK_NULL, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);
    n = pb_null(f, 2, true, ip4, n4);
    CHECK(run_whole(&d, FT_LINK_NULL, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);
    const uint32_t afs6[] = { 10, 24, 28, 30 };
    for (unsigned i = 0; i < 4; i++) {
        n = pb_null(f, afs6[i], i % 2 == 0, ip6, n6);
        CHECK(run_whole(&d, FT_LINK_NULL, f, n, &p) == DECODE_OK);
        check_hello(&p, 6);
    }
    n = pb_null(f, 7, false, ip4, n4); /* unknown AF */
    CHECK(run_whole(&d, FT_LINK_NULL, f, n, &p) == DECODE_SKIP);
    CHECK(d.stats.not_ip == 1);
    CHECK(run(&d, FT_LINK_NULL, f, 3, (uint32_t)n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_link == 3);

    /* DLT_LOOP: network byte order only. */
    n = pb_loop(f, 2, ip4, n4);
    CHECK(run_whole(&d, FT_LINK_LOOP, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);
    n = pb_loop(f, 24, ip6, n6);
    CHECK(run_whole(&d, FT_LINK_LOOP, f, n, &p) == DECODE_OK);
    check_hello(&p, 6);
    n = pb_null(f, 2, false, ip4, n4); /* little-endian AF is not LOOP */
    CHECK(run_whole(&d, FT_LINK_LOOP, f, n, &p) == DECODE_SKIP);
    CHECK(d.stats.not_ip == 2);

    /* Raw IP under every link type value that means it. */
    const int raws[] = { FT_LINK_RAW, FT_LINK_RAW_DLT, FT_LINK_RAW_BSD };
    for (unsigned i = 0; i < 3; i++) {
        CHECK(run_whole(&d, raws[i], ip4, n4, &p) == DECODE_OK);
        check_hello(&p, 4);
        CHECK(run_whole(&d, raws[i], ip6, n6, &p) == DECODE_OK);
        check_hello(&p, 6);
    }
    CHECK(run(&d, FT_LINK_RAW, ip4, 0, 0, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_link == 4);
    CHECK(run_whole(&d, FT_LINK_IPV4, ip4, n4, &p) == DECODE_OK);
    check_hello(&p, 4);
    CHECK(run_whole(&d, FT_LINK_IPV6, ip6, n6, &p) == DECODE_OK);
    check_hello(&p, 6);
    /* LINKTYPE_IPV4 carrying IPv6: a bad version, not a guess. */
    CHECK(run_whole(&d, FT_LINK_IPV4, ip6, n6, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_ip == 1);
    CHECK(run_whole(&d, FT_LINK_IPV6, ip4, n4, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_ip == 2);

    /* Unknown link type (LINKTYPE_IEEE802_11_RADIOTAP). */
    CHECK(!decode_link_supported(127));
    CHECK(decode_link_supported(FT_LINK_SLL2) && decode_link_supported(FT_LINK_NULL));
    CHECK(run_whole(&d, 127, ip4, n4, &p) == DECODE_SKIP);
    CHECK(d.stats.unsupported_link == 1);
}

static void test_tunnels(void)
{
    struct decoder d;
    struct packet p;
    uint8_t inner[2048], g[2048], f[2048];
    struct ft_addr ta = pb_addr("198.51.100.1"), tb = pb_addr("198.51.100.2");
    struct pb_ip4 outer = { .src = ta, .dst = tb, .proto = 47 };
    size_t n;

    decoder_init(&d);
    /* GRE transparent Ethernet bridging, with a key. */
    struct pb_gre teb = { .proto = 0x6558, .has_key = true, .key = 77 };
    n = pb_eth(inner, 0x0800, inner, ip_hello(inner, 4));
    n = pb_gre(g, &teb, inner, n);
    n = pb_ipv4(f, &outer, g, n);
    n = pb_eth(f, 0x0800, f, n);
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_OK);
    check_hello(&p, 4); /* the inner addresses, not the tunnel's */
    CHECK(d.stats.tunnelled == 1 && d.stats.ipv4 == 2);

    /* GRE carrying IPv6 directly, inside IPv6. */
    struct pb_gre g6 = { .proto = 0x86dd, .has_seq = true, .seq = 5 };
    struct pb_ip6 o6 = { .src = pb_addr("2001:db8:ffff::1"), .dst = pb_addr("2001:db8:ffff::2"),
                         .next = 47 };
    n = pb_gre(g, &g6, inner, ip_hello(inner, 6));
    n = pb_ipv6(f, &o6, g, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    check_hello(&p, 6);
    CHECK(d.stats.tunnelled == 2);

    /* ERSPAN type II. */
    n = pb_eth(inner, 0x0800, inner, ip_hello(inner, 4));
    n = pb_erspan2(g, 9, 1234, inner, n);
    n = pb_ipv4(f, &outer, g, n);
    n = pb_eth(f, 0x0800, f, n);
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);
    CHECK(d.stats.tunnelled == 3);

    /* GRE header cut short. */
    n = pb_gre(g, &teb, NULL, 0);
    n = pb_ipv4(f, &outer, g, 6);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_SKIP);
    CHECK(d.stats.truncated_link == 1 && d.stats.tunnelled == 3);
}

/* ---- IP ---------------------------------------------------------------------- */

static void test_ipv4_options_and_padding(void)
{
    struct decoder d;
    struct packet p;
    uint8_t seg[2048], f[2048];
    struct pb_tcp t = std_tcp();
    /* Router alert (4 bytes) + NOP x3 + EOL. */
    static const uint8_t opts[8] = { 0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00 };
    struct pb_ip4 ip = { .src = A4, .dst = B4, .proto = 6, .options = opts, .options_len = 8 };
    size_t n;

    decoder_init(&d);
    n = pb_tcp(seg, &t, &A4, &B4, HELLO, HELLO_LEN);
    n = pb_ipv4(f, &ip, seg, n);
    CHECK(f[0] == 0x47);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);
    CHECK(d.stats.ipv4_csum_bad == 0);

    /* A bare ACK in a minimum-size Ethernet frame: 6 bytes of padding
     * (non-zero, as some NICs leave) are not payload and do not break
     * the checksum. */
    struct pb_ip4 plain = { .src = A4, .dst = B4, .proto = 6 };
    t.flags = TCP_ACK;
    n = pb_tcp(seg, &t, &A4, &B4, NULL, 0);
    n = pb_ipv4(seg, &plain, seg, n);
    CHECK(n == 40);
    n = pb_eth(f, 0x0800, seg, n);
    memset(f + n, 0xee, 6);
    n += 6;
    CHECK(n == 60);
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_OK);
    CHECK(p.payload_len == 0 && p.payload_wire_len == 0);
    CHECK(!p.csum_bad && !p.truncated && !p.csum_unchecked);

    /* UDP with padding: payload from the UDP length. */
    plain.proto = 17;
    n = pb_udp(seg, 5353, 53, PB_CSUM_GOOD, &A4, &B4, (const uint8_t *)"ab", 2);
    n = pb_ipv4(seg, &plain, seg, n);
    n = pb_eth(f, 0x0800, seg, n);
    memset(f + n, 0x55, 60 - n);
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, 60, &p) == DECODE_OK);
    CHECK(p.proto == IPPROTO_UDP && p.sport == 5353 && p.dport == 53);
    CHECK(p.payload_len == 2 && p.payload_wire_len == 2 && memcmp(p.payload, "ab", 2) == 0);
    CHECK(!p.csum_bad && !p.csum_zero && d.stats.udp == 1);

    /* Bad IPv4 header checksum: counted, packet still decoded. */
    struct pb_ip4 badip = { .src = A4, .dst = B4, .proto = 6, .bad_csum = true };
    t = std_tcp();
    n = pb_tcp(seg, &t, &A4, &B4, HELLO, HELLO_LEN);
    n = pb_ipv4(f, &badip, seg, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    check_hello(&p, 4);
    CHECK(d.stats.ipv4_csum_bad == 1);
}

static void test_snaplen_cut(void)
{
    struct decoder d;
    struct packet p;
    uint8_t data[100], seg[2048], f[2048];
    struct pb_tcp t = std_tcp();
    size_t n;

    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    decoder_init(&d);
    n = pb_ip_tcp(f, &A4, &B4, &t, data, sizeof(data));
    n = pb_eth(f, 0x0800, f, n);
    CHECK(n == 14 + 20 + 20 + 100);
    /* snaplen 94: 40 bytes of payload captured. */
    CHECK(run(&d, FT_LINK_ETHERNET, f, 94, (uint32_t)n, &p) == DECODE_OK);
    CHECK(p.truncated && p.csum_unchecked && !p.csum_bad);
    CHECK(p.payload_len == 40 && p.payload_wire_len == 100);
    CHECK(memcmp(p.payload, data, 40) == 0);
    CHECK(d.stats.snaplen_cut == 1 && d.stats.tcp_csum_bad == 0);

    /* Cut exactly at the end of the TCP header. */
    CHECK(run(&d, FT_LINK_ETHERNET, f, 54, (uint32_t)n, &p) == DECODE_OK);
    CHECK(p.truncated && p.payload_len == 0 && p.payload_wire_len == 100);
    CHECK(d.stats.snaplen_cut == 2);

    /* Cut inside the TCP header. */
    CHECK(run(&d, FT_LINK_ETHERNET, f, 50, (uint32_t)n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_l4 == 1);
    /* TCP options cut: data offset says 28 bytes, 24 captured. */
    t.mss = 1460;
    t.has_wscale = true;
    t.wscale = 7;
    n = pb_ip_tcp(f, &A4, &B4, &t, data, 10);
    CHECK(run(&d, FT_LINK_RAW, f, 20 + 24, (uint32_t)n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_l4 == 2);
    /* Cut inside the IP header. */
    CHECK(run(&d, FT_LINK_RAW, f, 19, (uint32_t)n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_ip == 1);
    /* Cut inside the Ethernet header. */
    n = pb_eth(f, 0x0800, f, n);
    CHECK(run(&d, FT_LINK_ETHERNET, f, 13, (uint32_t)n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_link == 1);

    /* UDP header cut. */
    struct pb_ip4 uip = { .src = A4, .dst = B4, .proto = 17 };
    n = pb_udp(seg, 53, 5353, PB_CSUM_GOOD, &A4, &B4, data, 30);
    n = pb_ipv4(f, &uip, seg, n);
    CHECK(run(&d, FT_LINK_RAW, f, 26, (uint32_t)n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_l4 == 3);
    /* UDP payload cut: 10 of 30 bytes. */
    CHECK(run(&d, FT_LINK_RAW, f, 38, (uint32_t)n, &p) == DECODE_OK);
    CHECK(p.truncated && p.payload_len == 10 && p.payload_wire_len == 30 && p.csum_unchecked);
    CHECK(d.stats.snaplen_cut == 3);

    /* IPv6 cut inside the fixed header and inside an extension header. */
    uint8_t e[256];
    n = pb_tcp(seg, &t, &A6, &B6, data, 10);
    n = pb_ip6_opts(e, 6, 1, seg, n);
    struct pb_ip6 ip6 = { .src = A6, .dst = B6, .next = 0 };
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run(&d, FT_LINK_RAW, f, 39, (uint32_t)n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_ip == 2);
    CHECK(run(&d, FT_LINK_RAW, f, 50, (uint32_t)n, &p) == DECODE_INVALID);
    CHECK(d.stats.truncated_ip == 3);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.payload_len == 10 && memcmp(p.payload, data, 10) == 0);
}

static void test_bad_ip_headers(void)
{
    struct decoder d;
    struct packet p;
    uint8_t seg[2048], f[2048];
    struct pb_tcp t = std_tcp();
    size_t n, sn;

    decoder_init(&d);
    sn = pb_tcp(seg, &t, &A4, &B4, HELLO, HELLO_LEN);

    struct pb_ip4 ihl4 = { .src = A4, .dst = B4, .proto = 6, .ihl = 4 };
    n = pb_ipv4(f, &ihl4, seg, sn);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_ip == 1);

    /* IHL 15 (60 bytes) in a 57-byte packet: total length < header length. */
    struct pb_ip4 ihl15 = { .src = A4, .dst = B4, .proto = 6, .ihl = 15 };
    n = pb_ipv4(f, &ihl15, seg, sn);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_ip == 2);

    struct pb_ip4 short_total = { .src = A4, .dst = B4, .proto = 6, .total_len = 12 };
    n = pb_ipv4(f, &short_total, seg, sn);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_ip == 3);

    /* Total length beyond the frame although the whole frame was captured:
     * a broken header, not a snapshot-length cut. */
    struct pb_ip4 long_total = { .src = A4, .dst = B4, .proto = 6, .total_len = 1500 };
    n = pb_ipv4(f, &long_total, seg, sn);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_ip == 4 && d.stats.snaplen_cut == 0);
    n = pb_eth(f, 0x0800, f, n);
    CHECK(run_whole(&d, FT_LINK_ETHERNET, f, n, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_ip == 5 && d.stats.snaplen_cut == 0);
    /* The same IPv6 payload length mistake. */
    struct pb_ip6 long6 = { .src = A6, .dst = B6, .next = 6, .payload_len = 1400 };
    sn = pb_tcp(seg, &t, &A6, &B6, HELLO, HELLO_LEN);
    n = pb_ipv6(f, &long6, seg, sn);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_ip == 6 && d.stats.snaplen_cut == 0);

    /* Version 5 behind a raw link: not IP at all. */
    n = ip_hello(f, 4);
    f[0] = 0x55;
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_SKIP);
    CHECK(d.stats.not_ip == 1);

    /* IPv6 jumbogram marker: not followed. */
    struct pb_ip6 jumbo = { .src = A6, .dst = B6, .next = 6, .payload_len = -1 };
    n = pb_ipv6(f, &jumbo, seg, sn);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_SKIP);
    CHECK(d.stats.ipv6_ext_unsupported == 1);

    /* ICMP and other protocols decode as IP with an opaque payload. */
    struct pb_ip4 icmp = { .src = A4, .dst = B4, .proto = 1 };
    static const uint8_t echo[8] = { 8, 0, 0xf7, 0xff, 0, 0, 0, 0 };
    n = pb_ipv4(f, &icmp, echo, sizeof(echo));
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.proto == 1 && p.payload_len == 8 && d.stats.icmp == 1);
    struct pb_ip4 sctp = { .src = A4, .dst = B4, .proto = 132 };
    n = pb_ipv4(f, &sctp, echo, sizeof(echo));
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(d.stats.other_ip == 1);
}

static void test_ipv6_ext(void)
{
    struct decoder d;
    struct packet p;
    uint8_t seg[2048], e[2048], f[4096];
    struct pb_tcp t = std_tcp();
    struct pb_ip6 ip6 = { .src = A6, .dst = B6, .next = 0 };
    size_t n;

    decoder_init(&d);
    n = pb_tcp(seg, &t, &A6, &B6, HELLO, HELLO_LEN);
    n = pb_ip6_opts(e, 6, 2, seg, n);   /* destination options, 24 bytes */
    n = pb_ip6_opts(e, 60, 0, e, n);    /* hop-by-hop, 8 bytes */
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    check_hello(&p, 6);
    CHECK(d.stats.ipv6_ext_unsupported == 0);

    /* Atomic fragment (offset 0, M=0): a whole datagram, no reassembly. */
    n = pb_tcp(seg, &t, &A6, &B6, HELLO, HELLO_LEN);
    n = pb_ip6_frag(e, 6, 0, false, 99, seg, n);
    ip6.next = 44;
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    check_hello(&p, 6);
    CHECK(d.stats.fragments == 0);

    /* 15 extension headers are followed, 16 are too many. */
    for (int count = 15; count <= 16; count++) {
        n = pb_tcp(seg, &t, &A6, &B6, HELLO, HELLO_LEN);
        memcpy(e, seg, n);
        for (int i = 0; i < count; i++)
            n = pb_ip6_opts(e, i == 0 ? 6 : 60, 0, e, n);
        ip6.next = 60;
        n = pb_ipv6(f, &ip6, e, n);
        if (count == 15) {
            CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
            check_hello(&p, 6);
        } else {
            CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_SKIP);
            CHECK(d.stats.ipv6_ext_unsupported == 1);
        }
    }

    /* ESP: nothing to decode. */
    ip6.next = 50;
    n = pb_ipv6(f, &ip6, seg, 16);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_SKIP);
    CHECK(p.proto == 50);
}

/* ---- TCP / UDP ---------------------------------------------------------------- */

static void test_tcp_header_and_options(void)
{
    struct decoder d;
    struct packet p;
    uint8_t f[2048];
    struct pb_tcp t = std_tcp();
    size_t n;

    decoder_init(&d);
    t.flags = TCP_SYN;
    t.mss = 1460;
    t.sack_perm = true;
    t.has_ts = true;
    t.tsval = 0x01020304;
    t.tsecr = 0;
    t.has_wscale = true;
    t.wscale = 7;
    n = pb_ip_tcp(f, &A4, &B4, &t, NULL, 0);
    CHECK(n == 20 + 44);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.tcp_flags == TCP_SYN && p.payload_len == 0);
    CHECK(p.opt.mss == 1460 && p.opt.wscale == 7 && p.opt.sack_permitted);
    CHECK(p.opt.has_timestamps && p.opt.tsval == 0x01020304 && p.opt.tsecr == 0);
    CHECK(d.stats.invalid_l4 == 0);

    /* Window scale above 14 is clamped (RFC 7323). */
    t.wscale = 20;
    n = pb_ip_tcp(f, &A4, &B4, &t, NULL, 0);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.opt.wscale == 14);

    /* Malformed options: length 0, length 1, length past the header.  The
     * options before them are kept, the packet still decodes. */
    static const uint8_t len0[] = { 5, 0 }, len1[] = { 5, 1 }, past[] = { 30, 12, 0, 0 };
    const uint8_t *bad[] = { len0, len1, past };
    const size_t badlen[] = { sizeof(len0), sizeof(len1), sizeof(past) };
    struct pb_tcp b = std_tcp();
    b.mss = 1200;
    for (int i = 0; i < 3; i++) {
        b.raw_opts = bad[i];
        b.raw_opts_len = badlen[i];
        n = pb_ip_tcp(f, &A4, &B4, &b, HELLO, HELLO_LEN);
        CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
        CHECK(p.opt.mss == 1200 && p.opt.wscale == -1);
        CHECK(p.payload_len == HELLO_LEN && memcmp(p.payload, HELLO, HELLO_LEN) == 0);
        CHECK(!p.csum_bad);
        CHECK(d.stats.invalid_l4 == (uint64_t)i + 1);
    }
    /* An MSS option of the wrong length is ignored, not trusted. */
    static const uint8_t mss3[] = { 2, 3, 5, 1 };
    b.mss = 0;
    b.raw_opts = mss3;
    b.raw_opts_len = sizeof(mss3);
    n = pb_ip_tcp(f, &A4, &B4, &b, NULL, 0);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.opt.mss == 0 && d.stats.invalid_l4 == 3);

    /* Data offset below 5. */
    struct pb_tcp o = std_tcp();
    o.data_offset = 4;
    n = pb_ip_tcp(f, &A4, &B4, &o, HELLO, HELLO_LEN);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_l4 == 4);
    /* Data offset 15 (60 bytes) in a 20 + 17 byte segment. */
    o.data_offset = 15;
    n = pb_ip_tcp(f, &A4, &B4, &o, HELLO, HELLO_LEN);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_l4 == 5 && d.stats.truncated_l4 == 0);
}

/* The checksum word by word, as RFC 1071 writes it: the reference the
 * 8-bytes-at-a-time sum must equal. */
static uint16_t slow_l4_checksum(const struct ft_addr *src, const struct ft_addr *dst, uint8_t proto,
                                 const uint8_t *seg, uint32_t len)
{
    uint64_t sum = 0;
    unsigned alen = src->family == 4 ? 4 : 16;
    for (unsigned i = 0; i < alen; i += 2)
        sum += (uint32_t)(src->b[i] << 8 | src->b[i + 1]) + (uint32_t)(dst->b[i] << 8 | dst->b[i + 1]);
    sum += proto + (len & 0xffff) + (len >> 16);
    for (uint32_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(seg[i] << 8 | seg[i + 1]);
    if (len & 1)
        sum += (uint32_t)(seg[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Random segments of every length up to 300 bytes and a few large ones,
 * at every alignment, all-ones and all-zero data included. */
static void test_checksum_random(void)
{
    static uint8_t buf[70000 + 8];
    uint32_t x = 2463534242u;
    unsigned bad = 0, tried = 0;
    struct ft_addr s6 = A6, d6 = B6;

    for (size_t i = 0; i < sizeof(buf); i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    for (uint32_t len = 0; len <= 300; len++) {
        for (unsigned off = 0; off < 8; off++) {
            const struct ft_addr *s = (len & 1) ? &A4 : &s6, *d = (len & 1) ? &B4 : &d6;
            tried++;
            bad += decode_l4_checksum(s, d, IPPROTO_TCP, buf + off, len) !=
                   slow_l4_checksum(s, d, IPPROTO_TCP, buf + off, len);
        }
    }
    for (uint32_t len = 65530; len <= 65541; len++) {
        tried++;
        bad += decode_l4_checksum(&A4, &B4, IPPROTO_UDP, buf + 3, len) !=
               slow_l4_checksum(&A4, &B4, IPPROTO_UDP, buf + 3, len);
    }
    memset(buf, 0xff, 4000);
    tried++;
    bad += decode_l4_checksum(&A4, &B4, IPPROTO_TCP, buf, 4000) != slow_l4_checksum(&A4, &B4, IPPROTO_TCP, buf, 4000);
    memset(buf, 0, 4000);
    tried++;
    bad += decode_l4_checksum(&A4, &B4, IPPROTO_TCP, buf, 4000) != slow_l4_checksum(&A4, &B4, IPPROTO_TCP, buf, 4000);
    if (!CHECK(bad == 0))
        printf("  %u of %u checksums differ from the word-by-word sum\n", bad, tried);
}

static void test_checksums(void)
{
    struct decoder d;
    struct packet p;
    uint8_t seg[2048], f[2048];
    struct pb_tcp t = std_tcp();
    struct pb_ip4 uip = { .src = A4, .dst = B4, .proto = 17 };
    struct pb_ip6 uip6 = { .src = A6, .dst = B6, .next = 17 };
    size_t n;

    decoder_init(&d);
    t.csum = PB_CSUM_BAD;
    n = pb_ip_tcp(f, &A4, &B4, &t, HELLO, HELLO_LEN);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.csum_bad && !p.csum_unchecked && d.stats.tcp_csum_bad == 1);
    CHECK(p.payload_len == HELLO_LEN);
    n = pb_ip_tcp(f, &A6, &B6, &t, HELLO, HELLO_LEN);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.csum_bad && d.stats.tcp_csum_bad == 2);
    /* TCP with a zero checksum field (offload): it is simply wrong. */
    t.csum = PB_CSUM_ZERO;
    n = pb_ip_tcp(f, &A4, &B4, &t, HELLO, HELLO_LEN);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.csum_bad && !p.csum_zero && d.stats.tcp_csum_bad == 3);

    n = pb_udp(seg, 5353, 53, PB_CSUM_BAD, &A4, &B4, HELLO, HELLO_LEN);
    n = pb_ipv4(f, &uip, seg, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.csum_bad && d.stats.udp_csum_bad == 1);
    n = pb_udp(seg, 5353, 53, PB_CSUM_ZERO, &A4, &B4, HELLO, HELLO_LEN);
    n = pb_ipv4(f, &uip, seg, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.csum_zero && !p.csum_bad && d.stats.udp_csum_zero == 1);
    CHECK(p.payload_len == HELLO_LEN && memcmp(p.payload, HELLO, HELLO_LEN) == 0);
    n = pb_udp(seg, 5353, 53, PB_CSUM_GOOD, &A6, &B6, HELLO, HELLO_LEN);
    n = pb_ipv6(f, &uip6, seg, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(!p.csum_bad && !p.csum_zero && d.stats.udp_csum_bad == 1);

    /* Bad UDP length fields. */
    n = pb_udp(seg, 5353, 53, PB_CSUM_GOOD, &A4, &B4, HELLO, HELLO_LEN);
    seg[4] = 0;
    seg[5] = 7;
    n = pb_ipv4(f, &uip, seg, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_l4 == 1);
    n = pb_udp(seg, 5353, 53, PB_CSUM_GOOD, &A4, &B4, HELLO, HELLO_LEN);
    seg[5] = (uint8_t)(seg[5] + 1);
    n = pb_ipv4(f, &uip, seg, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_INVALID);
    CHECK(d.stats.invalid_l4 == 2);

    /* -C: nothing verified, nothing counted. */
    d.verify_checksums = false;
    t.csum = PB_CSUM_BAD;
    n = pb_ip_tcp(f, &A4, &B4, &t, HELLO, HELLO_LEN);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(!p.csum_bad && p.csum_unchecked && d.stats.tcp_csum_bad == 3);

    /* decode_l4_checksum against a value worked out by hand:
     * 192.0.2.1:1234 -> 192.0.2.2:53 UDP "abc", checksum field zero. */
    struct ft_addr s = pb_addr("192.0.2.1"), dd = pb_addr("192.0.2.2");
    uint8_t u[11] = { 0x04, 0xd2, 0x00, 0x35, 0x00, 0x0b, 0x00, 0x00, 'a', 'b', 'c' };
    CHECK(decode_l4_checksum(&s, &dd, IPPROTO_UDP, u, sizeof(u)) == 0xb26a);
    CHECK(pb_l4_csum(&s, &dd, IPPROTO_UDP, u, sizeof(u)) == 0xb26a);
    u[6] = 0xb2;
    u[7] = 0x6a;
    CHECK(decode_l4_checksum(&s, &dd, IPPROTO_UDP, u, sizeof(u)) == 0);
    /* And on an IPv6 segment built here: verifies to zero. */
    n = pb_udp(seg, 1, 2, PB_CSUM_GOOD, &A6, &B6, HELLO, HELLO_LEN);
    CHECK(decode_l4_checksum(&A6, &B6, IPPROTO_UDP, seg, (uint32_t)n) == 0);
    test_checksum_random();
}

/* ---- fragments ---------------------------------------------------------------- */

static struct ipfrag_table *frag_table(uint32_t max_dg, uint64_t max_bytes)
{
    struct ipfrag_config cfg = { .max_datagrams = max_dg, .max_bytes = max_bytes,
                                 .timeout_ns = 30 * FT_NS_PER_SEC };
    return ipfrag_new(&cfg);
}

/* One IPv4 fragment of `whole` (the transport datagram) as a raw IP packet. */
static size_t frag4(uint8_t *out, uint16_t id, const uint8_t *whole, uint32_t off, uint32_t len,
                    bool more)
{
    struct pb_ip4 ip = { .src = A4, .dst = B4, .proto = 17, .id = id, .frag_offset = off,
                         .mf = more };
    return pb_ipv4(out, &ip, whole + off, len);
}

static void test_ipv4_fragments(void)
{
    struct decoder d;
    struct packet p;
    uint8_t data[100], whole[256], f[512];
    size_t wl, n;

    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(0x30 + i % 64);
    wl = pb_udp(whole, 5353, 53, PB_CSUM_GOOD, &A4, &B4, data, sizeof(data));
    CHECK(wl == 108);

    decoder_init(&d);
    d.frags = frag_table(16, 1 << 20);
    /* Last, first, middle. */
    n = frag4(f, 7, whole, 96, 12, false);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    n = frag4(f, 7, whole, 0, 48, true);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    CHECK(ipfrag_stats(d.frags)->datagrams_now == 1);
    n = frag4(f, 7, whole, 48, 48, true);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.reassembled && p.proto == IPPROTO_UDP && p.sport == 5353 && p.dport == 53);
    CHECK(p.payload_len == 100 && p.payload_wire_len == 100);
    CHECK(memcmp(p.payload, data, 100) == 0);
    CHECK(!p.csum_bad && !p.truncated);
    CHECK(d.stats.fragments == 3 && d.stats.reassembled == 1 && d.stats.udp == 1);
    CHECK(ipfrag_stats(d.frags)->completed == 1 && ipfrag_stats(d.frags)->fragments == 3);
    CHECK(ipfrag_stats(d.frags)->datagrams_now == 0 && ipfrag_stats(d.frags)->bytes_now == 0);

    /* Overlap: the second fragment repeats bytes 40..47 with other
     * content.  The first copy wins, so the checksum still verifies. */
    uint8_t alt[256];
    memcpy(alt, whole, wl);
    memset(alt + 40, 'X', 8);
    n = frag4(f, 8, whole, 0, 48, true);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    n = frag4(f, 8, alt, 40, 68, false);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.payload_len == 100 && memcmp(p.payload, data, 100) == 0 && !p.csum_bad);
    CHECK(ipfrag_stats(d.frags)->overlaps == 1);
    /* The other order: now the altered bytes came first and stay. */
    n = frag4(f, 9, alt, 40, 68, false);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    n = frag4(f, 9, whole, 0, 48, true);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(memcmp(p.payload, data, 32) == 0 && memcmp(p.payload + 32, "XXXXXXXX", 8) == 0);
    CHECK(memcmp(p.payload + 40, data + 40, 60) == 0);
    CHECK(p.csum_bad && d.stats.udp_csum_bad == 1);
    CHECK(ipfrag_stats(d.frags)->overlaps == 2 && ipfrag_stats(d.frags)->completed == 3);

    /* A fragment cut by the snapshot length can never complete. */
    n = frag4(f, 10, whole, 0, 48, true);
    CHECK(run(&d, FT_LINK_RAW, f, 40, (uint32_t)n, &p) == DECODE_SKIP);
    CHECK(d.stats.snaplen_cut == 1 && ipfrag_stats(d.frags)->datagrams_now == 0);

    /* TCP split inside its header, reassembled and decoded. */
    struct pb_tcp t = std_tcp();
    uint8_t tw[256];
    size_t tl = pb_tcp(tw, &t, &A4, &B4, HELLO, HELLO_LEN);
    struct pb_ip4 ti = { .src = A4, .dst = B4, .proto = 6, .id = 11, .mf = true };
    n = pb_ipv4(f, &ti, tw, 8);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    ti.mf = false;
    ti.frag_offset = 8;
    n = pb_ipv4(f, &ti, tw + 8, tl - 8);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.reassembled && p.proto == IPPROTO_TCP && p.seq == 1000 && !p.csum_bad);
    CHECK(p.payload_len == HELLO_LEN && memcmp(p.payload, HELLO, HELLO_LEN) == 0);

    ipfrag_free(d.frags);

    /* Without a fragment table fragments are counted and skipped. */
    decoder_init(&d);
    n = frag4(f, 7, whole, 0, 48, true);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_SKIP);
    CHECK(d.stats.fragments == 1 && d.stats.reassembled == 0);
}

static void test_ipv6_fragments(void)
{
    struct decoder d;
    struct packet p;
    uint8_t data[120], seg[256], e[512], f[512];
    struct pb_tcp t = std_tcp();
    struct pb_ip6 ip6 = { .src = A6, .dst = B6, .next = 0 };
    size_t sl, n;

    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    sl = pb_tcp(seg, &t, &A6, &B6, data, sizeof(data));
    CHECK(sl == 140);
    decoder_init(&d);
    d.frags = frag_table(4, 1 << 20);

    /* Second fragment first, behind a hop-by-hop header; then the first. */
    n = pb_ip6_frag(e, 6, 64, false, 0xabcdef01, seg + 64, sl - 64);
    n = pb_ip6_opts(e, 44, 0, e, n);
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    ip6.next = 44;
    n = pb_ip6_frag(e, 6, 0, true, 0xabcdef01, seg, 64);
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.reassembled && p.ip_version == 6 && p.proto == IPPROTO_TCP);
    CHECK(p.sport == 40000 && p.seq == 1000 && !p.csum_bad);
    CHECK(p.payload_len == 120 && memcmp(p.payload, data, 120) == 0);
    CHECK(d.stats.fragments == 2 && d.stats.reassembled == 1);
    /* Same id from another source is another datagram. */
    struct pb_ip6 other = { .src = pb_addr("2001:db8::99"), .dst = B6, .next = 44 };
    n = pb_ip6_frag(e, 6, 0, true, 0xabcdef01, seg, 64);
    n = pb_ipv6(f, &other, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    n = pb_ip6_frag(e, 6, 64, false, 0xabcdef01, seg + 64, sl - 64);
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    CHECK(ipfrag_stats(d.frags)->datagrams_now == 2);
    ipfrag_free(d.frags);

    /* RFC 5722: overlapping IPv6 fragments discard the whole datagram,
     * including the fragments still to come.  Bytes 56..63 twice, same
     * content even: the datagram that would complete is dropped. */
    d.frags = frag_table(4, 1 << 20);
    ip6.next = 44;
    n = pb_ip6_frag(e, 6, 0, true, 0x5722, seg, 64);
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    n = pb_ip6_frag(e, 6, 56, false, 0x5722, seg + 56, sl - 56);
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    CHECK(ipfrag_stats(d.frags)->overlap_discarded == 1 && ipfrag_stats(d.frags)->completed == 0);
    CHECK(ipfrag_stats(d.frags)->bytes_now == 0);
    /* The fragment that would now complete it exactly is dropped too. */
    n = pb_ip6_frag(e, 6, 64, false, 0x5722, seg + 64, sl - 64);
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    n = pb_ip6_frag(e, 6, 0, true, 0x5722, seg, 64);
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    CHECK(ipfrag_stats(d.frags)->completed == 0 && ipfrag_stats(d.frags)->overlaps == 3);
    /* Until the timeout frees the slot; then the id may be used again. */
    ipfrag_expire(d.frags, 36 * FT_NS_PER_SEC);
    CHECK(ipfrag_stats(d.frags)->datagrams_now == 0 && ipfrag_stats(d.frags)->timed_out == 1);
    n = pb_ip6_frag(e, 6, 0, true, 0x5722, seg, 64);
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_FRAG_HELD);
    n = pb_ip6_frag(e, 6, 64, false, 0x5722, seg + 64, sl - 64);
    n = pb_ipv6(f, &ip6, e, n);
    CHECK(run_whole(&d, FT_LINK_RAW, f, n, &p) == DECODE_OK);
    CHECK(p.reassembled && p.payload_len == 120 && memcmp(p.payload, data, 120) == 0);
    ipfrag_free(d.frags);
}

static void test_ipfrag_caps(void)
{
    struct ipfrag_table *t;
    const uint8_t *out = NULL;
    uint32_t out_len = 0;
    uint8_t buf[6000];
    memset(buf, 'z', sizeof(buf));

    /* max_datagrams 2: the third datagram evicts the oldest. */
    t = frag_table(2, 1 << 20);
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 1, 0, true, buf, 16, 100, &out, &out_len));
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 2, 0, true, buf, 16, 200, &out, &out_len));
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 3, 0, true, buf, 16, 300, &out, &out_len));
    CHECK(ipfrag_stats(t)->evicted == 1 && ipfrag_stats(t)->datagrams_now == 2);
    /* id 1 is gone: its last fragment alone does not complete it. */
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 1, 16, false, buf, 8, 400, &out, &out_len));
    CHECK(ipfrag_stats(t)->evicted == 2 && ipfrag_stats(t)->completed == 0);
    /* id 3 survived (id 2 was the oldest at the last eviction). */
    CHECK(ipfrag_add(t, &A4, &B4, 17, 3, 16, false, buf, 8, 500, &out, &out_len));
    CHECK(out_len == 24 && out[0] == 'z' && out[23] == 'z');
    CHECK(ipfrag_stats(t)->completed == 1 && ipfrag_stats(t)->datagrams_now == 1);

    /* Timeout: dropped only when strictly older than timeout_ns. */
    int64_t to = 30 * FT_NS_PER_SEC;
    ipfrag_expire(t, 400 + to); /* id 1's slot started at 400 */
    CHECK(ipfrag_stats(t)->timed_out == 0 && ipfrag_stats(t)->datagrams_now == 1);
    ipfrag_expire(t, 401 + to);
    CHECK(ipfrag_stats(t)->timed_out == 1 && ipfrag_stats(t)->datagrams_now == 0);
    CHECK(ipfrag_stats(t)->bytes_now == 0);
    ipfrag_free(t);

    /* max_bytes: each datagram's buffer starts at 2048 bytes; a third does
     * not fit in 4096 and evicts the oldest. */
    t = frag_table(8, 4096);
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 1, 0, true, buf, 100, 1, &out, &out_len));
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 2, 0, true, buf, 100, 2, &out, &out_len));
    CHECK(ipfrag_stats(t)->bytes_now == 4096 && ipfrag_stats(t)->evicted == 0);
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 3, 0, true, buf, 100, 3, &out, &out_len));
    CHECK(ipfrag_stats(t)->evicted == 1 && ipfrag_stats(t)->bytes_now == 4096);
    CHECK(ipfrag_stats(t)->datagrams_now == 2);
    /* A datagram that alone exceeds the cap (an 8 KiB buffer) evicts the
     * others, still does not fit, and is dropped as invalid. */
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 4, 0, true, buf, 5000, 4, &out, &out_len));
    CHECK(ipfrag_stats(t)->invalid == 1 && ipfrag_stats(t)->evicted == 3);
    CHECK(ipfrag_stats(t)->datagrams_now == 0 && ipfrag_stats(t)->bytes_now == 0);
    /* Past 65535 bytes: invalid. */
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 5, 65528, false, buf, 16, 5, &out, &out_len));
    CHECK(ipfrag_stats(t)->invalid == 2);
    /* Two different "last" fragments: invalid. */
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 6, 16, false, buf, 16, 6, &out, &out_len));
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 6, 24, false, buf, 16, 6, &out, &out_len));
    CHECK(ipfrag_stats(t)->invalid == 3);
    /* A last fragment ending before data already held conflicts too, in
     * either order, and the datagram is dropped at once. */
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 7, 0, true, buf, 104, 7, &out, &out_len));
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 7, 80, false, buf, 16, 7, &out, &out_len));
    CHECK(ipfrag_stats(t)->invalid == 4 && ipfrag_stats(t)->datagrams_now == 0);
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 8, 80, false, buf, 16, 8, &out, &out_len));
    CHECK(!ipfrag_add(t, &A4, &B4, 17, 8, 0, true, buf, 104, 8, &out, &out_len));
    CHECK(ipfrag_stats(t)->invalid == 5 && ipfrag_stats(t)->datagrams_now == 0);
    CHECK(ipfrag_stats(t)->bytes_now == 0);
    ipfrag_free(t);
}

int main(void)
{
    A4 = pb_addr("192.0.2.10");
    B4 = pb_addr("203.0.113.20");
    A6 = pb_addr("2001:db8::10");
    B6 = pb_addr("2001:db8:1::20");

    test_ethernet();
    test_vlan();
    test_mpls();
    test_cooked_and_loopback();
    test_tunnels();
    test_ipv4_options_and_padding();
    test_snaplen_cut();
    test_bad_ip_headers();
    test_ipv6_ext();
    test_tcp_header_and_options();
    test_checksums();
    test_ipv4_fragments();
    test_ipv6_fragments();
    test_ipfrag_caps();
    free(g_copy);
    return check_summary("test_decode");
}
