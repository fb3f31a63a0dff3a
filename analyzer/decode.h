/*
 * decode.h - link, IP, TCP and UDP decoding of one captured frame.
 *
 * decode_packet() turns the bytes of a frame into a struct packet: the
 * addresses, ports, TCP header fields and options, and a pointer to the
 * transport payload.  Every field is read through a bounds check; a frame
 * cut by the snapshot length is decoded as far as it goes.  Payload length
 * always comes from the IP header (Ethernet padding is not data), and the
 * captured part of it may be shorter (payload_len < payload_wire_len).
 *
 * Checksums are verified when the whole datagram was captured; a bad or
 * zero checksum is counted and flagged, never a reason to drop the packet
 * (capture hosts with NIC offload produce them on every outgoing packet).
 *
 * IP fragments are handed to the fragment reassembler (ipfrag.h); when a
 * datagram completes, the packet describes the reassembled datagram and its
 * payload points into memory owned by the reassembler, valid until the next
 * decode_packet() call.  No allocation happens for unfragmented traffic.
 */
#ifndef FT_DECODE_H
#define FT_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "meta.h"

struct ipfrag_table;

/* Link-layer header types we decode (LINKTYPE_* / DLT_* values). */
enum {
    FT_LINK_NULL = 0,      /* BSD loopback, host-order AF */
    FT_LINK_ETHERNET = 1,
    FT_LINK_RAW_DLT = 12,  /* DLT_RAW as libpcap reports it on most systems */
    FT_LINK_RAW_BSD = 14,  /* DLT_RAW on OpenBSD */
    FT_LINK_RAW = 101,     /* LINKTYPE_RAW */
    FT_LINK_LOOP = 108,    /* OpenBSD loopback, network-order AF */
    FT_LINK_SLL = 113,     /* Linux cooked v1 (tcpdump -i any) */
    FT_LINK_IPV4 = 228,
    FT_LINK_IPV6 = 229,
    FT_LINK_SLL2 = 276,    /* Linux cooked v2 */
};

/* TCP flag bits as on the wire. */
enum {
    TCP_FIN = 0x01,
    TCP_SYN = 0x02,
    TCP_RST = 0x04,
    TCP_PSH = 0x08,
    TCP_ACK = 0x10,
    TCP_URG = 0x20,
    TCP_ECE = 0x40,
    TCP_CWR = 0x80,
};

enum decode_result {
    DECODE_OK = 0,        /* struct packet describes an IP datagram */
    DECODE_FRAG_HELD,     /* an IP fragment was stored; nothing to do yet */
    DECODE_SKIP,          /* not IP, or a protocol we do not follow (counted) */
    DECODE_INVALID,       /* malformed or truncated before the transport header (counted) */
};

struct tcp_options {
    uint16_t mss;          /* 0 when absent */
    int8_t wscale;         /* -1 when absent */
    bool sack_permitted;
    bool has_timestamps;
    uint32_t tsval, tsecr;
};

struct packet {
    struct ft_meta meta;        /* filled by the caller before decoding */
    uint32_t caplen, wirelen;   /* frame lengths from the capture record */

    uint8_t ip_version;         /* 4 or 6 */
    uint8_t proto;              /* IPPROTO_TCP, IPPROTO_UDP, ... */
    uint8_t ttl;                /* TTL / hop limit */
    bool reassembled;           /* built from IP fragments */
    bool truncated;             /* snapshot length cut the transport part */
    bool csum_bad;              /* transport checksum verified and wrong */
    bool csum_zero;             /* UDP checksum field was zero (not computed) */
    bool csum_unchecked;        /* could not verify (data not all captured) */
    struct ft_addr src, dst;
    uint16_t sport, dport;

    /* TCP only */
    uint8_t tcp_flags;
    uint32_t seq, ack;
    uint16_t window;
    struct tcp_options opt;

    const uint8_t *payload;     /* transport payload (captured bytes) */
    uint32_t payload_len;       /* captured payload bytes */
    uint32_t payload_wire_len;  /* payload bytes according to the IP/UDP header */
};

/* Counters owned by struct decoder; all monotonic. */
struct decode_stats {
    uint64_t packets;
    uint64_t ipv4, ipv6, tcp, udp, icmp, other_ip;
    uint64_t not_ip;              /* ARP, LLDP, unknown ethertypes */
    uint64_t unsupported_link;    /* frames of a link type we do not decode */
    uint64_t vlan_tagged;
    uint64_t tunnelled;           /* GRE / ERSPAN decapsulated */
    uint64_t truncated_link;      /* frame ended inside the link header */
    uint64_t truncated_ip;        /* frame ended inside the IP header */
    uint64_t truncated_l4;        /* frame ended inside the TCP/UDP header */
    uint64_t snaplen_cut;         /* payload cut by the snapshot length */
    uint64_t invalid_ip;          /* bad version, header length, total length */
    uint64_t invalid_l4;          /* bad TCP data offset, UDP length, options */
    uint64_t ipv4_csum_bad;
    uint64_t tcp_csum_bad, udp_csum_bad, udp_csum_zero;
    uint64_t too_many_layers;     /* encapsulation deeper than we follow */
    uint64_t ipv6_ext_unsupported; /* jumbograms, ESP, too many extension headers */
    uint64_t fragments;           /* IP fragments seen */
    uint64_t reassembled;         /* datagrams completed from fragments */
};

struct decoder {
    struct ipfrag_table *frags;   /* not owned; may be NULL (fragments skipped) */
    bool verify_checksums;        /* false with -C / --no-checksums */
    struct decode_stats stats;
};

/* Decodes one frame of link type `linktype`.  `pkt->meta`, caplen and
 * wirelen must be set by the caller; everything else is overwritten.
 * Never reads outside data[0..caplen). */
enum decode_result decode_packet(struct decoder *d, int linktype, const uint8_t *data,
                                 struct packet *pkt);

/* True when decode_packet() knows the link type. */
bool decode_link_supported(int linktype);

/* The Internet checksum (RFC 1071) of the transport segment with its
 * pseudo-header; 0 means the checksum in the data verifies. */
uint16_t decode_l4_checksum(const struct ft_addr *src, const struct ft_addr *dst, uint8_t proto,
                            const uint8_t *seg, uint32_t len);

#endif
