/*
 * pcapng.c - the pcapng block reader (see pcapng.h).
 *
 * Every block has the same frame (all fields in the section's byte order):
 *
 *    0                   1                   2                   3
 *   +---------------------------------------------------------------+
 *   |                          Block Type                           |
 *   +---------------------------------------------------------------+
 *   |                      Block Total Length                       |
 *   +---------------------------------------------------------------+
 *   /            Block Body (padded to 32 bits, options)            /
 *   +---------------------------------------------------------------+
 *   |                      Block Total Length                       |
 *   +---------------------------------------------------------------+
 *
 * The Section Header Block's type (0x0A0D0D0A) reads the same in both byte
 * orders; its byte-order magic (0x1A2B3C4D) says how to read the rest of
 * the section.  A block is read whole into one buffer (at most
 * PCAPNG_MAX_BLOCK bytes) and then parsed from memory with every length
 * checked against the bytes left; nothing is trusted before that.
 */
#include "pcapng.h"

#include <stdlib.h>
#include <string.h>

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_PB 0x00000002u   /* obsolete Packet Block */
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define BT_DSB 0x0000000Au
#define BT_JOURNAL 0x00000009u      /* systemd Journal Export Block */
#define BT_CUSTOM 0x00000BADu       /* custom block, may be copied */
#define BT_CUSTOM_NOCOPY 0x40000BADu
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

#define OPT_END 0
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14

struct pcapng_iface {
    int linktype;
    uint32_t snaplen;
    bool tsresol_binary;  /* units are 2^-exp seconds, else 10^-exp */
    uint8_t tsresol_exp;
    int64_t tsoffset_s;
};

struct pcapng_secret {
    uint32_t type;
    size_t off, len;      /* within secrets */
};

struct pcapng_reader {
    FILE *fp;             /* not owned */
    bool big_endian;      /* byte order of the current section */
    uint8_t *buf;         /* the current block, whole */
    size_t buf_size;
    struct pcapng_iface *ifaces;
    uint32_t nifaces, ifaces_cap;
    int first_linktype;
    uint32_t first_snaplen;
    uint64_t packets;
    int64_t last_ts_ns;
    uint64_t skipped;
    uint8_t *secrets;
    size_t secrets_len;
    struct pcapng_secret secret[PCAPNG_MAX_SECRET_BLOCKS];
    size_t nsecrets;
    uint64_t secrets_dropped;
    char error[160];
};

static uint16_t get16(const struct pcapng_reader *r, const uint8_t *p)
{
    return r->big_endian ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t get32(const struct pcapng_reader *r, const uint8_t *p)
{
    if (r->big_endian)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t get64(const struct pcapng_reader *r, const uint8_t *p)
{
    uint64_t a = get32(r, p), b = get32(r, p + 4);
    return r->big_endian ? a << 32 | b : b << 32 | a;
}

static enum pcapng_result fail(struct pcapng_reader *r, const char *why, uint64_t number)
{
    snprintf(r->error, sizeof(r->error), "%s (pcapng block after packet %llu)", why,
             (unsigned long long)number);
    return PCAPNG_ERROR;
}

bool pcapng_magic(const uint8_t first4[4])
{
    return first4[0] == 0x0A && first4[1] == 0x0D && first4[2] == 0x0D && first4[3] == 0x0A;
}

/* Reads exactly n bytes into buf at off.  Returns the number read. */
static size_t read_into(struct pcapng_reader *r, size_t off, size_t n)
{
    return fread(r->buf + off, 1, n, r->fp);
}

static bool reserve(struct pcapng_reader *r, size_t n)
{
    uint8_t *nb;
    size_t size = r->buf_size ? r->buf_size : 4096;
    if (n <= r->buf_size)
        return true;
    while (size < n)
        size *= 2;
    nb = realloc(r->buf, size);
    if (!nb)
        return false;
    r->buf = nb;
    r->buf_size = size;
    return true;
}

/* Reads the next block whole into r->buf.  *type and *total are set;
 * returns PCAPNG_PACKET when a block is in the buffer, PCAPNG_END at a
 * clean end of file, PCAPNG_ERROR otherwise. */
static enum pcapng_result read_block(struct pcapng_reader *r, uint32_t *type, uint32_t *total)
{
    size_t got, head = 8;

    if (!reserve(r, 12)) {
        snprintf(r->error, sizeof(r->error), "out of memory");
        return PCAPNG_ERROR;
    }
    got = read_into(r, 0, 8);
    if (got == 0 && !ferror(r->fp))
        return PCAPNG_END;
    if (got < 8)
        return fail(r, ferror(r->fp) ? "read error" : "file ends inside a block header", r->packets);
    if (pcapng_magic(r->buf)) {
        /* A new section: its byte-order magic says how to read everything. */
        if (read_into(r, 8, 4) < 4)
            return fail(r, "file ends inside a section header", r->packets);
        head = 12;
        r->big_endian = false;
        if (get32(r, r->buf + 8) != BYTE_ORDER_MAGIC) {
            r->big_endian = true;
            if (get32(r, r->buf + 8) != BYTE_ORDER_MAGIC)
                return fail(r, "bad byte-order magic in a section header", r->packets);
        }
    }
    *type = get32(r, r->buf);
    *total = get32(r, r->buf + 4);
    if (*total < 12 || *total % 4 != 0 || *total < head + 4)
        return fail(r, "bad block length", r->packets);
    if (*total > PCAPNG_MAX_BLOCK)
        return fail(r, "block larger than 16 MiB", r->packets);
    if (!reserve(r, *total)) {
        snprintf(r->error, sizeof(r->error), "out of memory");
        return PCAPNG_ERROR;
    }
    got = read_into(r, head, *total - head);
    if (got < *total - head)
        return fail(r, ferror(r->fp) ? "read error" : "truncated: file ends inside a block",
                    r->packets);
    if (get32(r, r->buf + *total - 4) != *total)
        return fail(r, "trailing block length does not match", r->packets);
    return PCAPNG_PACKET;
}

static enum pcapng_result section_header(struct pcapng_reader *r, const uint8_t *body, size_t len)
{
    /* byte-order magic (4), major (2), minor (2), section length (8) */
    if (len < 16)
        return fail(r, "section header too short", r->packets);
    if (get16(r, body + 4) != 1)
        return fail(r, "unsupported pcapng major version", r->packets);
    r->nifaces = 0; /* interface numbers start again in every section */
    return PCAPNG_PACKET;
}

static enum pcapng_result interface_block(struct pcapng_reader *r, const uint8_t *body, size_t len)
{
    struct pcapng_iface ifc = { 0 };
    size_t off = 8;

    if (len < 8)
        return fail(r, "interface description too short", r->packets);
    ifc.linktype = get16(r, body);
    ifc.snaplen = get32(r, body + 4);
    ifc.tsresol_exp = 6;
    while (len - off >= 4) {
        uint16_t code = get16(r, body + off), olen = get16(r, body + off + 2);
        size_t padded = ((size_t)olen + 3) & ~(size_t)3;
        const uint8_t *v = body + off + 4;
        if (code == OPT_END)
            break;
        if (padded > len - off - 4)
            return fail(r, "interface option runs past its block", r->packets);
        if (code == OPT_IF_TSRESOL && olen >= 1) {
            ifc.tsresol_binary = (v[0] & 0x80) != 0;
            ifc.tsresol_exp = v[0] & 0x7F;
            if (ifc.tsresol_binary ? ifc.tsresol_exp > 63 : ifc.tsresol_exp > 19)
                return fail(r, "if_tsresol out of range", r->packets);
        } else if (code == OPT_IF_TSOFFSET && olen == 8) {
            ifc.tsoffset_s = (int64_t)get64(r, v);
        }
        off += 4 + padded;
    }
    if (r->nifaces >= PCAPNG_MAX_INTERFACES)
        return fail(r, "too many interfaces", r->packets);
    if (r->nifaces == r->ifaces_cap) {
        uint32_t ncap = r->ifaces_cap ? r->ifaces_cap * 2 : 4;
        struct pcapng_iface *n = realloc(r->ifaces, ncap * sizeof(*n));
        if (!n) {
            snprintf(r->error, sizeof(r->error), "out of memory");
            return PCAPNG_ERROR;
        }
        r->ifaces = n;
        r->ifaces_cap = ncap;
    }
    r->ifaces[r->nifaces++] = ifc;
    if (r->first_linktype < 0) {
        r->first_linktype = ifc.linktype;
        r->first_snaplen = ifc.snaplen;
    }
    return PCAPNG_PACKET;
}

/* Nanoseconds since the epoch of a raw timestamp in the interface's units,
 * with every multiplication and addition checked.  False on overflow (then
 * *out is saturated). */
static bool timestamp_ns(const struct pcapng_iface *ifc, uint64_t ts, int64_t *out)
{
    uint64_t units = 1, sec, frac, frac_ns;
    int64_t s, ns;
    unsigned e = ifc->tsresol_exp;

    if (ifc->tsresol_binary) {
        units = UINT64_C(1) << e; /* e <= 63 */
        sec = ts >> e;
        frac = ts & (units - 1);
        frac_ns = e <= 34 ? (frac * UINT64_C(1000000000)) >> e
                          : ((frac >> (e - 34)) * UINT64_C(1000000000)) >> 34;
    } else {
        for (unsigned i = 0; i < e; i++)
            units *= 10; /* e <= 19: at most 10^19 < 2^64 */
        sec = ts / units;
        frac = ts % units;
        if (e <= 9) {
            for (unsigned i = e; i < 9; i++)
                frac *= 10;
            frac_ns = frac;
        } else {
            for (unsigned i = 9; i < e; i++)
                frac /= 10;
            frac_ns = frac;
        }
    }
    /* sec >= 0, so only the mul can overflow downwards (a large negative
     * if_tsoffset); everything else overflows upwards. */
    if (sec > (uint64_t)INT64_MAX || __builtin_add_overflow((int64_t)sec, ifc->tsoffset_s, &s)) {
        *out = INT64_MAX;
        return false;
    }
    if (__builtin_mul_overflow(s, INT64_C(1000000000), &ns) ||
        __builtin_add_overflow(ns, (int64_t)frac_ns, &ns)) {
        *out = s < 0 ? INT64_MIN : INT64_MAX;
        return false;
    }
    *out = ns;
    return true;
}

static enum pcapng_result packet_block(struct pcapng_reader *r, uint32_t type, const uint8_t *body,
                                       size_t len, struct pcapng_packet *pkt)
{
    const struct pcapng_iface *ifc;
    uint32_t ifidx, caplen, wirelen;
    uint64_t ts = 0;
    size_t fixed;

    memset(pkt, 0, sizeof(*pkt));
    if (type == BT_SPB) {
        fixed = 4;
        if (len < fixed)
            return fail(r, "simple packet block too short", r->packets);
        ifidx = 0;
        wirelen = get32(r, body);
        caplen = wirelen;
    } else {
        fixed = 20;
        if (len < fixed)
            return fail(r, "packet block too short", r->packets);
        ifidx = type == BT_PB ? get16(r, body) : get32(r, body);
        ts = (uint64_t)get32(r, body + 4) << 32 | get32(r, body + 8);
        caplen = get32(r, body + 12);
        wirelen = get32(r, body + 16);
        if (caplen > len - fixed)
            return fail(r, "captured length runs past its block", r->packets);
    }
    if (ifidx >= r->nifaces)
        return fail(r, "packet for an interface that was never described", r->packets);
    ifc = &r->ifaces[ifidx];
    if (type == BT_SPB) {
        /* The packet is cut to the snaplen and to the block. */
        if (ifc->snaplen && caplen > ifc->snaplen)
            caplen = ifc->snaplen;
        if (caplen > len - fixed)
            caplen = (uint32_t)(len - fixed);
        pkt->ts_missing = true;
        pkt->ts_valid = true;
        pkt->ts_ns = r->last_ts_ns;
    } else {
        pkt->ts_valid = timestamp_ns(ifc, ts, &pkt->ts_ns);
        if (pkt->ts_valid)
            r->last_ts_ns = pkt->ts_ns;
    }
    if (wirelen < caplen)
        wirelen = caplen;
    pkt->number = ++r->packets;
    pkt->interface = ifidx;
    pkt->linktype = ifc->linktype;
    pkt->snaplen = ifc->snaplen;
    pkt->data = body + fixed;
    pkt->caplen = caplen;
    pkt->wirelen = wirelen;
    return PCAPNG_PACKET;
}

static enum pcapng_result secrets_block(struct pcapng_reader *r, const uint8_t *body, size_t len)
{
    uint32_t type, slen;
    uint8_t *grown;

    if (len < 8)
        return fail(r, "decryption secrets block too short", r->packets);
    type = get32(r, body);
    slen = get32(r, body + 4);
    if (slen > len - 8)
        return fail(r, "secrets length runs past its block", r->packets);
    if (r->nsecrets >= PCAPNG_MAX_SECRET_BLOCKS || slen > PCAPNG_MAX_SECRETS - r->secrets_len) {
        r->secrets_dropped++;
        return PCAPNG_PACKET;
    }
    grown = realloc(r->secrets, r->secrets_len + slen + 1);
    if (!grown) {
        r->secrets_dropped++;
        return PCAPNG_PACKET;
    }
    r->secrets = grown;
    memcpy(r->secrets + r->secrets_len, body + 8, slen);
    r->secret[r->nsecrets].type = type;
    r->secret[r->nsecrets].off = r->secrets_len;
    r->secret[r->nsecrets].len = slen;
    r->nsecrets++;
    r->secrets_len += slen;
    return PCAPNG_PACKET;
}

enum pcapng_result pcapng_next(struct pcapng_reader *r, struct pcapng_packet *pkt)
{
    for (;;) {
        uint32_t type = 0, total = 0;
        enum pcapng_result rc;
        const uint8_t *body;
        size_t len;

        if (r->error[0])
            return PCAPNG_ERROR;
        rc = read_block(r, &type, &total);
        if (rc != PCAPNG_PACKET)
            return rc;
        body = r->buf + 8;
        len = total - 12;
        switch (type) {
        case BT_SHB:
            rc = section_header(r, body, len);
            break;
        case BT_IDB:
            rc = interface_block(r, body, len);
            break;
        case BT_EPB:
        case BT_SPB:
        case BT_PB:
            return packet_block(r, type, body, len, pkt);
        case BT_DSB:
            rc = secrets_block(r, body, len);
            break;
        case BT_JOURNAL:
        case BT_CUSTOM:
        case BT_CUSTOM_NOCOPY:
            /* Wireshark lists these as frames of their own: they take a
             * frame number, so the packets after them keep theirs. */
            r->packets++;
            r->skipped++;
            rc = PCAPNG_PACKET;
            break;
        default:
            /* statistics, name resolution, custom (0x00000BAD,
             * 0x40000BAD), systemd journal, anything newer: skipped */
            r->skipped++;
            rc = PCAPNG_PACKET;
            break;
        }
        if (rc == PCAPNG_ERROR)
            return rc;
    }
}

struct pcapng_reader *pcapng_open(FILE *fp, char *err, size_t errlen)
{
    struct pcapng_reader *r = calloc(1, sizeof(*r));
    uint32_t type = 0, total = 0;

    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->fp = fp;
    r->first_linktype = -1;
    if (read_block(r, &type, &total) != PCAPNG_PACKET || type != BT_SHB ||
        section_header(r, r->buf + 8, total - 12) != PCAPNG_PACKET) {
        snprintf(err, errlen, "not a pcapng file: %s", r->error[0] ? r->error : "no section header");
        pcapng_close(r);
        return NULL;
    }
    return r;
}

const char *pcapng_error(const struct pcapng_reader *r)
{
    return r->error;
}

int pcapng_first_linktype(const struct pcapng_reader *r)
{
    return r->first_linktype;
}

uint32_t pcapng_first_snaplen(const struct pcapng_reader *r)
{
    return r->first_snaplen;
}

size_t pcapng_secrets_count(const struct pcapng_reader *r, uint64_t *dropped)
{
    if (dropped)
        *dropped = r->secrets_dropped;
    return r->nsecrets;
}

const uint8_t *pcapng_secrets_at(const struct pcapng_reader *r, size_t i, uint32_t *type,
                                 size_t *len)
{
    if (i >= r->nsecrets)
        return NULL;
    *type = r->secret[i].type;
    *len = r->secret[i].len;
    return r->secrets + r->secret[i].off;
}

uint64_t pcapng_blocks_skipped(const struct pcapng_reader *r)
{
    return r->skipped;
}

void pcapng_close(struct pcapng_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->ifaces);
    free(r->secrets);
    free(r);
}
