/*
 * pktbuild.h - build packets in memory for the analyzer unit tests.
 *
 * Every builder writes one header followed by a copy of `payload` (the
 * already-built inner layer) into the caller's buffer `out` and returns the
 * total length written.  Build from the inside out:
 *
 *     n = pb_tcp(seg, &tcp, &src, &dst, data, dlen);
 *     n = pb_ipv4(ip, &ip4, seg, n);
 *     n = pb_eth(frame, 0x0800, ip, n);
 *
 * `payload` may point into `out` (memmove is used).  Nothing is allocated
 * and nothing checks the buffer size: tests use generous stack buffers.
 * Checksums are computed by this file's own RFC 1071 code, independently
 * of decode_l4_checksum(), unless a test asks for a wrong one.
 */
#ifndef FT_PKTBUILD_H
#define FT_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define PB_MAX_FRAME 70000

/* Address from text ("192.0.2.1", "2001:db8::1"); aborts on a typo. */
struct ft_addr pb_addr(const char *text);

/* Internet checksum of the TCP/UDP segment with its pseudo-header. */
uint16_t pb_l4_csum(const struct ft_addr *src, const struct ft_addr *dst, uint8_t proto,
                    const uint8_t *seg, size_t len);

/* ---- link layer ---------------------------------------------------------- */

/* Ethernet II: fixed MACs 02:00:00:00:00:02 <- 02:00:00:00:00:01. */
size_t pb_eth(uint8_t *out, uint16_t ethertype, const uint8_t *payload, size_t len);

/* Ethernet with `ntags` 802.1Q/802.1ad tags, outermost first: tag i has
 * TPID tpids[i] (0x8100, 0x88a8, 0x9100) and VLAN id vids[i]. */
size_t pb_eth_tagged(uint8_t *out, const uint16_t *tpids, const uint16_t *vids, unsigned ntags,
                     uint16_t ethertype, const uint8_t *payload, size_t len);

/* MPLS label stack (labels[0] outermost); the last entry gets the S bit. */
size_t pb_mpls(uint8_t *out, const uint32_t *labels, unsigned n, const uint8_t *payload,
               size_t len);

/* Linux cooked capture v1 (16 bytes) and v2 (20 bytes). */
size_t pb_sll(uint8_t *out, uint16_t ethertype, const uint8_t *payload, size_t len);
size_t pb_sll2(uint8_t *out, uint16_t ethertype, const uint8_t *payload, size_t len);

/* BSD loopback: 4-byte address family, DLT_NULL in either byte order,
 * DLT_LOOP always big-endian. */
size_t pb_null(uint8_t *out, uint32_t af, bool big_endian, const uint8_t *payload, size_t len);
size_t pb_loop(uint8_t *out, uint32_t af, const uint8_t *payload, size_t len);

/* GRE (RFC 2784/2890) carrying `proto`; optional key and sequence number. */
struct pb_gre {
    uint16_t proto;
    bool has_key, has_seq;
    uint32_t key, seq;
};
size_t pb_gre(uint8_t *out, const struct pb_gre *g, const uint8_t *payload, size_t len);

/* GRE with sequence number + ERSPAN type II header around an Ethernet frame. */
size_t pb_erspan2(uint8_t *out, uint16_t session, uint32_t seq, const uint8_t *frame,
                  size_t len);

/* ---- IP -------------------------------------------------------------------- */

struct pb_ip4 {
    struct ft_addr src, dst;
    uint8_t proto;
    uint8_t ttl;               /* 0 means 64 */
    uint16_t id;
    uint32_t frag_offset;      /* in bytes (multiple of 8) */
    bool mf, df;
    const uint8_t *options;    /* options_len bytes, a multiple of 4 */
    size_t options_len;
    int total_len;             /* 0: computed; otherwise written as given */
    int ihl;                   /* 0: computed; otherwise written as given (4 bits) */
    bool bad_csum;             /* write a wrong header checksum */
};
size_t pb_ipv4(uint8_t *out, const struct pb_ip4 *ip, const uint8_t *payload, size_t len);

struct pb_ip6 {
    struct ft_addr src, dst;
    uint8_t next;              /* first next-header value */
    uint8_t hlim;              /* 0 means 64 */
    int payload_len;           /* 0: computed; -1: write 0 (jumbo); else as given */
};
size_t pb_ipv6(uint8_t *out, const struct pb_ip6 *ip, const uint8_t *payload, size_t len);

/* Hop-by-hop or destination options header: (len8 + 1) * 8 bytes of PadN. */
size_t pb_ip6_opts(uint8_t *out, uint8_t next, uint8_t len8, const uint8_t *payload, size_t len);

/* IPv6 fragment header; offset in bytes (multiple of 8). */
size_t pb_ip6_frag(uint8_t *out, uint8_t next, uint32_t offset, bool more, uint32_t id,
                   const uint8_t *payload, size_t len);

/* ---- transport ------------------------------------------------------------- */

enum pb_csum {
    PB_CSUM_GOOD = 0,
    PB_CSUM_BAD,   /* correct value with one bit flipped */
    PB_CSUM_ZERO,  /* field left 0 */
};

struct pb_tcp {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t window;           /* written as given (0 is a zero window) */
    uint16_t mss;              /* 0: no MSS option */
    bool has_wscale;
    uint8_t wscale;
    bool sack_perm;
    bool has_ts;
    uint32_t tsval, tsecr;
    const uint8_t *raw_opts;   /* appended after the options above, then EOL-padded */
    size_t raw_opts_len;
    int data_offset;           /* 0: computed; otherwise written as given (words) */
    enum pb_csum csum;
};
size_t pb_tcp(uint8_t *out, const struct pb_tcp *t, const struct ft_addr *src,
              const struct ft_addr *dst, const uint8_t *payload, size_t len);

size_t pb_udp(uint8_t *out, uint16_t sport, uint16_t dport, enum pb_csum csum,
              const struct ft_addr *src, const struct ft_addr *dst, const uint8_t *payload,
              size_t len);

/* ---- whole packets ----------------------------------------------------------- */

/* A TCP segment in a bare IPv4 or IPv6 header (by src->family): what
 * LINKTYPE_RAW carries. */
size_t pb_ip_tcp(uint8_t *out, const struct ft_addr *src, const struct ft_addr *dst,
                 const struct pb_tcp *t, const uint8_t *payload, size_t len);

/* The same inside Ethernet. */
size_t pb_eth_ip_tcp(uint8_t *out, const struct ft_addr *src, const struct ft_addr *dst,
                     const struct pb_tcp *t, const uint8_t *payload, size_t len);

#endif
