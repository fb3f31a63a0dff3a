/*
 * test_pcapng.c - unit tests for the pcapng reader: both byte orders,
 * several sections, per-interface link types and timestamp resolutions,
 * skipped and counted blocks, Decryption Secrets Blocks, and every length
 * check on damaged input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pcapng.h"

/* A growing byte buffer that writes pcapng blocks in either byte order. */
struct ng {
    uint8_t buf[1 << 16];
    size_t len;
    int big;
};

static void put(struct ng *g, const void *p, size_t n)
{
    memcpy(g->buf + g->len, p, n);
    g->len += n;
}

static void put16(struct ng *g, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(g->big ? v >> 8 : v), (uint8_t)(g->big ? v : v >> 8) };
    put(g, b, 2);
}

static void put32(struct ng *g, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (g->big ? 24 - 8 * i : 8 * i));
    put(g, b, 4);
}

static void put64(struct ng *g, uint64_t v)
{
    if (g->big) {
        put32(g, (uint32_t)(v >> 32));
        put32(g, (uint32_t)v);
    } else {
        put32(g, (uint32_t)v);
        put32(g, (uint32_t)(v >> 32));
    }
}

static void pad(struct ng *g)
{
    while (g->len % 4)
        g->buf[g->len++] = 0;
}

/* Starts a block; returns where its length goes. */
static size_t begin(struct ng *g, uint32_t type)
{
    size_t at = g->len;
    put32(g, type);
    put32(g, 0);
    return at;
}

/* Ends a block: patches both lengths (the trailing one plus `skew`). */
static void end(struct ng *g, size_t at, uint32_t skew)
{
    uint32_t total;
    size_t save;
    pad(g);
    total = (uint32_t)(g->len - at + 4);
    save = g->len;
    g->len = at + 4;
    put32(g, total);
    g->len = save;
    put32(g, total + skew);
}

static void shb(struct ng *g, int big)
{
    size_t at;
    g->big = big;
    at = begin(g, 0x0A0D0D0A);
    put32(g, 0x1A2B3C4D);
    put16(g, 1);
    put16(g, 0);
    put64(g, UINT64_MAX);
    end(g, at, 0);
}

static void idb(struct ng *g, uint16_t link, uint32_t snaplen, int tsresol, int64_t tsoffset)
{
    size_t at = begin(g, 1);
    put16(g, link);
    put16(g, 0);
    put32(g, snaplen);
    if (tsresol >= 0) {
        uint8_t v = (uint8_t)tsresol;
        put16(g, 9);
        put16(g, 1);
        put(g, &v, 1);
        pad(g);
    }
    if (tsoffset) {
        put16(g, 14);
        put16(g, 8);
        put64(g, (uint64_t)tsoffset);
    }
    put16(g, 0);
    put16(g, 0);
    end(g, at, 0);
}

static void epb(struct ng *g, uint32_t ifid, uint64_t ts, const char *data, uint32_t skew)
{
    size_t at = begin(g, 6);
    put32(g, ifid);
    put32(g, (uint32_t)(ts >> 32));
    put32(g, (uint32_t)ts);
    put32(g, (uint32_t)strlen(data));
    put32(g, (uint32_t)strlen(data) + 10);
    put(g, data, strlen(data));
    end(g, at, skew);
}

static void raw_block(struct ng *g, uint32_t type, const char *body)
{
    size_t at = begin(g, type);
    put(g, body, strlen(body));
    end(g, at, 0);
}

static struct pcapng_reader *open_mem(struct ng *g, FILE **fp)
{
    char err[256];
    struct pcapng_reader *r;
    *fp = fmemopen(g->buf, g->len, "rb");
    r = *fp ? pcapng_open(*fp, err, sizeof(err)) : NULL;
    if (!r && *fp) {
        fclose(*fp);
        *fp = NULL;
    }
    return r;
}

static void done(struct pcapng_reader *r, FILE *fp)
{
    pcapng_close(r);
    if (fp)
        fclose(fp);
}

static void test_two_sections_mixed_links(void)
{
    static struct ng g;
    struct pcapng_packet p;
    struct pcapng_reader *r;
    FILE *fp;

    memset(&g, 0, sizeof(g));
    shb(&g, 0);
    raw_block(&g, 0x00000BAD, "PEN.custom");  /* Wireshark frame 1 */
    idb(&g, 1, 65535, -1, 0);                 /* Ethernet, microseconds */
    idb(&g, 276, 0, 9, 0);                    /* SLL2, nanoseconds */
    idb(&g, 101, 0, 0x80 | 20, 0);            /* raw, 2^-20 s */
    raw_block(&g, 0x00000F00, "unknown");
    epb(&g, 0, UINT64_C(1700000000123456), "eth", 0);
    epb(&g, 1, UINT64_C(1700000000123456789), "sll2", 0);
    epb(&g, 2, (UINT64_C(1700000000) << 20) | (1u << 19), "raw", 0);
    shb(&g, 1);                               /* big-endian section */
    idb(&g, 113, 96, -1, 100);                /* SLL, if_tsoffset 100 s */
    epb(&g, 0, 5000000, "big", 0);
    epb(&g, 1, 0, "none", 0);                 /* interface 1 is gone */

    r = open_mem(&g, &fp);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK(pcapng_first_linktype(r) == -1);
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET);
    CHECK(p.number == 2 && p.linktype == 1 && p.caplen == 3 && p.wirelen == 13);
    CHECK(memcmp(p.data, "eth", 3) == 0);
    CHECK(p.ts_valid && p.ts_ns == INT64_C(1700000000123456000));
    CHECK(pcapng_first_linktype(r) == 1 && pcapng_first_snaplen(r) == 65535);
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET);
    CHECK(p.number == 3 && p.linktype == 276 && p.interface == 1);
    CHECK(p.ts_ns == INT64_C(1700000000123456789));
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET);
    CHECK(p.number == 4 && p.linktype == 101 && p.ts_ns == INT64_C(1700000000500000000));
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET);
    CHECK(p.number == 5 && p.linktype == 113 && p.snaplen == 96 && memcmp(p.data, "big", 3) == 0);
    CHECK(p.ts_ns == INT64_C(105000000000));
    CHECK(pcapng_next(r, &p) == PCAPNG_ERROR);
    CHECK(strstr(pcapng_error(r), "never described") != NULL);
    CHECK(pcapng_next(r, &p) == PCAPNG_ERROR); /* stays failed */
    CHECK(pcapng_blocks_skipped(r) == 2);
    done(r, fp);
}

static void test_timestamps_that_overflow(void)
{
    static struct ng g;
    struct pcapng_packet p;
    struct pcapng_reader *r;
    FILE *fp;

    memset(&g, 0, sizeof(g));
    shb(&g, 0);
    idb(&g, 1, 0, 9, 0);
    idb(&g, 1, 0, -1, INT64_C(1) << 62);
    idb(&g, 1, 0, -1, INT64_MIN);
    idb(&g, 1, 0, 0x80 | 63, 0);
    epb(&g, 0, UINT64_MAX, "a", 0);   /* 1.8e10 s: past int64 ns */
    epb(&g, 1, 1, "b", 0);            /* offset 2^62 s */
    epb(&g, 2, 1, "c", 0);            /* offset -2^63 s */
    epb(&g, 3, UINT64_MAX, "d", 0);   /* 2 s in 2^-63 units: fine */
    r = open_mem(&g, &fp);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET && !p.ts_valid && p.ts_ns == INT64_MAX);
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET && !p.ts_valid && p.ts_ns == INT64_MAX);
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET && !p.ts_valid && p.ts_ns == INT64_MIN);
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET && p.ts_valid && p.ts_ns / 1000000 == 1999);
    CHECK(pcapng_next(r, &p) == PCAPNG_END);
    done(r, fp);
}

static void test_simple_and_obsolete_blocks(void)
{
    static struct ng g;
    struct pcapng_packet p;
    struct pcapng_reader *r;
    size_t at;
    FILE *fp;

    memset(&g, 0, sizeof(g));
    shb(&g, 0);
    idb(&g, 1, 4, -1, 0);
    epb(&g, 0, 7000000, "x", 0);
    at = begin(&g, 3); /* SPB: cut to the snaplen (4) */
    put32(&g, 9);
    put(&g, "abcdefghi", 9);
    end(&g, at, 0);
    at = begin(&g, 2); /* obsolete Packet Block */
    put16(&g, 0);
    put16(&g, 0);
    put32(&g, 0);
    put32(&g, 8000000);
    put32(&g, 2);
    put32(&g, 2);
    put(&g, "pb", 2);
    end(&g, at, 0);
    r = open_mem(&g, &fp);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET && p.ts_ns == 7000000000);
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET);
    CHECK(p.number == 2 && p.caplen == 4 && p.wirelen == 9 && p.ts_missing && p.ts_ns == 7000000000);
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET);
    CHECK(p.number == 3 && p.caplen == 2 && memcmp(p.data, "pb", 2) == 0 && p.ts_ns == 8000000000);
    CHECK(pcapng_next(r, &p) == PCAPNG_END);
    done(r, fp);
}

static void test_secrets(void)
{
    static struct ng g;
    struct pcapng_packet p;
    struct pcapng_reader *r;
    const uint8_t *s;
    uint32_t type = 0;
    uint64_t dropped = 0;
    size_t len = 0, at;
    FILE *fp;

    memset(&g, 0, sizeof(g));
    shb(&g, 0);
    at = begin(&g, 0x0A);
    put32(&g, 0x544C534B);
    put32(&g, 6);
    put(&g, "KEYLOG", 6);
    end(&g, at, 0);
    r = open_mem(&g, &fp);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK(pcapng_next(r, &p) == PCAPNG_END);
    CHECK(pcapng_secrets_count(r, &dropped) == 1 && dropped == 0);
    s = pcapng_secrets_at(r, 0, &type, &len);
    CHECK(s && type == 0x544C534B && len == 6 && memcmp(s, "KEYLOG", 6) == 0);
    CHECK(pcapng_secrets_at(r, 1, &type, &len) == NULL);
    done(r, fp);

    /* Over the cap: counted, not kept. */
    {
        struct ng *h = malloc(sizeof(*h));
        uint8_t *mem;
        if (!h)
            return;
        memset(h, 0, sizeof(*h));
        shb(h, 0);
        mem = malloc(h->len + PCAPNG_MAX_SECRETS + 64);
        if (!mem) {
            free(h);
            return;
        }
        memcpy(mem, h->buf, h->len);
        /* DSB with PCAPNG_MAX_SECRETS + 4 bytes of secrets */
        {
            size_t n = h->len;
            uint32_t slen = PCAPNG_MAX_SECRETS + 4, total = 12 + 8 + slen;
            const uint32_t hdr[4] = { 0x0A, total, 0x544C534B, slen };
            for (int i = 0; i < 16; i++)
                mem[n + (size_t)i] = (uint8_t)(hdr[i / 4] >> (8 * (i % 4)));
            memset(mem + n + 16, 'k', slen);
            for (int i = 0; i < 4; i++)
                mem[n + 16 + slen + (size_t)i] = (uint8_t)(total >> (8 * i));
            fp = fmemopen(mem, n + total, "rb");
        }
        {
            char err[128];
            r = fp ? pcapng_open(fp, err, sizeof(err)) : NULL;
        }
        CHECK(r != NULL);
        if (r) {
            CHECK(pcapng_next(r, &p) == PCAPNG_END);
            CHECK(pcapng_secrets_count(r, &dropped) == 0 && dropped == 1);
        }
        done(r, fp);
        free(mem);
        free(h);
    }
}

/* Damage: each case has one good packet, then the fault. */
static void expect_damage(void (*fault)(struct ng *), const char *what)
{
    static struct ng g;
    struct pcapng_packet p;
    struct pcapng_reader *r;
    FILE *fp;

    memset(&g, 0, sizeof(g));
    shb(&g, 0);
    idb(&g, 1, 0, -1, 0);
    epb(&g, 0, 1, "good", 0);
    fault(&g);
    r = open_mem(&g, &fp);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK(pcapng_next(r, &p) == PCAPNG_PACKET && p.caplen == 4);
    if (!CHECK(pcapng_next(r, &p) == PCAPNG_ERROR && strstr(pcapng_error(r), what) != NULL))
        printf("  expected '%s', got '%s'\n", what, pcapng_error(r));
    done(r, fp);
}

static void fault_trailer(struct ng *g) { epb(g, 0, 2, "bad", 4); }
static void fault_truncated(struct ng *g) { epb(g, 0, 2, "cut", 0); g->len -= 6; }
static void fault_header(struct ng *g) { put32(g, 6); }
static void fault_huge(struct ng *g) { put32(g, 6); put32(g, (16u << 20) + 4); put32(g, 0); }
static void fault_odd_length(struct ng *g) { put32(g, 6); put32(g, 30); put32(g, 0); put32(g, 0); }
static void fault_caplen(struct ng *g)
{
    size_t at = begin(g, 6);
    put32(g, 0);
    put32(g, 0);
    put32(g, 0);
    put32(g, 1000); /* more than the block holds */
    put32(g, 1000);
    end(g, at, 0);
}
static void fault_option(struct ng *g)
{
    size_t at = begin(g, 1);
    put16(g, 1);
    put16(g, 0);
    put32(g, 0);
    put16(g, 9);
    put16(g, 200); /* runs past the block */
    end(g, at, 0);
}
static void fault_tsresol(struct ng *g)
{
    idb(g, 1, 0, 20, 0); /* 10^-20 does not fit */
}
static void fault_short_epb(struct ng *g)
{
    size_t at = begin(g, 6);
    put32(g, 0);
    end(g, at, 0);
}

static void test_damage(void)
{
    expect_damage(fault_trailer, "trailing block length");
    expect_damage(fault_truncated, "truncated");
    expect_damage(fault_header, "inside a block header");
    expect_damage(fault_huge, "16 MiB");
    expect_damage(fault_odd_length, "bad block length");
    expect_damage(fault_caplen, "captured length");
    expect_damage(fault_option, "option runs past");
    expect_damage(fault_tsresol, "if_tsresol");
    expect_damage(fault_short_epb, "too short");
}

static void test_not_pcapng(void)
{
    static const uint8_t pcap_magic[] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
    static const uint8_t bad_bom[] = { 0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4 };
    char err[256] = "";
    FILE *fp;

    CHECK(!pcapng_magic(pcap_magic));
    CHECK(pcapng_magic(bad_bom));
    fp = fmemopen((void *)bad_bom, sizeof(bad_bom), "rb");
    CHECK(fp && pcapng_open(fp, err, sizeof(err)) == NULL && strstr(err, "byte-order") != NULL);
    if (fp)
        fclose(fp);
}

int main(void)
{
    test_two_sections_mixed_links();
    test_timestamps_that_overflow();
    test_simple_and_obsolete_blocks();
    test_secrets();
    test_damage();
    test_not_pcapng();
    return check_summary("test_pcapng");
}
