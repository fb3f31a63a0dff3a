/*
 * pcapng.h - a reader for pcapng capture files (draft-ietf-opsawg-pcapng).
 *
 * libpcap 1.10 refuses a pcapng file whose interfaces have different link
 * types, which is what Wireshark and mergecap write when they merge an
 * Ethernet capture with a Linux "any" (SLL/SLL2) or raw-IP one.  This
 * reader gives every packet the link type, snaplen and timestamp
 * resolution of its own interface.  It understands:
 *
 *   Section Header Block     both byte orders; several sections per file
 *                            (each starts a new interface list)
 *   Interface Description    link type, snaplen, if_tsresol (10^-n and
 *                            2^-n), if_tsoffset
 *   Enhanced Packet Block    Simple Packet Block, and the obsolete Packet
 *                            Block
 *   Decryption Secrets Block kept (up to PCAPNG_MAX_SECRETS bytes) for a
 *                            later key-log feature, not interpreted
 * and skips every other block (statistics, name resolution, custom,
 * unknown).  Every length is checked against what is left of the block;
 * a block larger than PCAPNG_MAX_BLOCK, a bad trailing length or a file
 * that ends inside a block stops the reader with an error, and everything
 * before stays valid.  Packets are numbered as Wireshark numbers frames:
 * every packet block counts, and so do custom blocks and systemd journal
 * blocks, which Wireshark lists as frames of their own (checked against
 * tshark 4.0).
 *
 * Used by the capture module only; nothing here knows libpcap.
 */
#ifndef FT_PCAPNG_H
#define FT_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PCAPNG_MAX_BLOCK (16u << 20)     /* larger blocks are refused */
#define PCAPNG_MAX_INTERFACES 4096       /* per section */
#define PCAPNG_MAX_SECRETS (1u << 20)    /* bytes of DSB payload kept */
#define PCAPNG_MAX_SECRET_BLOCKS 64

struct pcapng_reader;

/* One packet.  `data` points into the reader's buffer and is valid until
 * the next pcapng_next() or pcapng_close(). */
struct pcapng_packet {
    uint64_t number;       /* 1-based frame number, as Wireshark shows it */
    uint32_t interface;    /* interface index within its section */
    int linktype;          /* LINKTYPE_ value of the interface */
    uint32_t snaplen;      /* of the interface (0 = none given) */
    const uint8_t *data;
    uint32_t caplen, wirelen;
    int64_t ts_ns;         /* nanoseconds since the epoch; see ts_valid */
    bool ts_valid;         /* false: the timestamp (with if_tsoffset) does
                              not fit 64-bit nanoseconds; ts_ns is then
                              saturated at INT64_MAX or INT64_MIN */
    bool ts_missing;       /* Simple Packet Block: no timestamp on the wire;
                              ts_ns repeats the previous packet's */
};

enum pcapng_result {
    PCAPNG_ERROR = -1,     /* damaged or truncated: pcapng_error() says how */
    PCAPNG_END = 0,        /* clean end of file */
    PCAPNG_PACKET = 1,     /* *pkt filled */
};

/* True when the first four bytes are a pcapng Section Header Block type. */
bool pcapng_magic(const uint8_t first4[4]);

/* Starts reading `fp` (not owned: the caller closes it after
 * pcapng_close) and checks that it begins with a Section Header Block.
 * Returns the reader, or NULL with a one-line reason in err. */
struct pcapng_reader *pcapng_open(FILE *fp, char *err, size_t errlen);

/* Reads blocks until the next packet, the end or damage. */
enum pcapng_result pcapng_next(struct pcapng_reader *r, struct pcapng_packet *pkt);

/* After PCAPNG_ERROR: what was wrong ("" otherwise).  Owned by r. */
const char *pcapng_error(const struct pcapng_reader *r);

/* Link type and snaplen of the first interface of the file, or -1 / 0
 * while no Interface Description Block has been read. */
int pcapng_first_linktype(const struct pcapng_reader *r);
uint32_t pcapng_first_snaplen(const struct pcapng_reader *r);

/* Decryption Secrets Blocks read so far: how many were kept, and the i-th
 * one's secrets type (e.g. 0x544c534b "TLSK", a TLS key log) and bytes,
 * owned by r.  Blocks beyond the caps are counted in *dropped. */
size_t pcapng_secrets_count(const struct pcapng_reader *r, uint64_t *dropped);
const uint8_t *pcapng_secrets_at(const struct pcapng_reader *r, size_t i, uint32_t *type,
                                 size_t *len);

/* Blocks read and skipped because they carry nothing fedtrace uses. */
uint64_t pcapng_blocks_skipped(const struct pcapng_reader *r);

/* Frees the reader (NULL is fine).  Does not close the file. */
void pcapng_close(struct pcapng_reader *r);

#endif
