/*
 * fuzz_pipeline.c - libFuzzer harness for decode, IP fragment reassembly,
 * the flow table and TCP reassembly.
 *
 * The input is a sequence of frames: a 1-byte link type selector, then
 * records of [2-byte length][frame bytes].  A small flow cap and small
 * buffers make eviction and forced flushes happen.  A recording dissector
 * checks the reassembler's contract: offsets only grow, and data never
 * arrives after eof.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

static const int LINKTYPES[] = { 1, 113, 276, 0, 108, 101, 228, 229 };

struct fz_stream {
    uint64_t off[2];
    int eof[2];
    uint64_t sum;
};

/* Reads every byte, so ASan checks the whole range the pipeline handed over. */
static uint64_t touch(const uint8_t *p, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = s * 31 + p[i];
    return s;
}

static void *fz_open(void *user, const struct flow_info *fi, const struct ft_meta *m)
{
    (void)user;
    (void)fi;
    (void)m;
    return calloc(1, sizeof(struct fz_stream));
}

static void fz_data(void *st, enum ft_dir dir, const uint8_t *p, size_t n, const struct ft_meta *m)
{
    struct fz_stream *s = st;
    (void)m;
    if (s->eof[dir])
        abort(); /* data after eof breaks the contract */
    s->sum += touch(p, n);
    s->off[dir] += n;
}

static void fz_gap(void *st, enum ft_dir dir, uint64_t n, const struct ft_meta *m)
{
    struct fz_stream *s = st;
    (void)m;
    if (s->eof[dir] || n == 0)
        abort();
    s->off[dir] += n;
}

static void fz_eof(void *st, enum ft_dir dir, const struct ft_meta *m)
{
    struct fz_stream *s = st;
    (void)m;
    if (s->eof[dir]++)
        abort(); /* eof exactly once */
}

static void fz_close(void *st, const struct ft_meta *m)
{
    (void)m;
    free(st);
}

static void fz_datagram(void *user, const struct flow_info *fi, enum ft_dir dir, const uint8_t *p,
                        size_t n, bool truncated, const struct ft_meta *m)
{
    (void)user;
    (void)fi;
    (void)dir;
    (void)truncated;
    (void)m;
    if (touch(p, n) == 0xdeadbeef)
        abort(); /* never: keeps the reads from being optimised away */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct stream_dissector sd = { "fuzz", fz_open, fz_data, fz_gap,
                                                fz_eof, fz_close, NULL, NULL };
    static const struct datagram_dissector dd = { "fuzz", fz_datagram, NULL };
    struct dissector_set ds = { .xmpp = &sd, .dns_tcp = &sd, .dns_udp = &dd };
    struct pipeline_config cfg;
    struct pipeline pl;
    size_t off = 1;
    uint64_t frame = 0;
    int linktype;

    if (size < 1)
        return 0;
    linktype = LINKTYPES[data[0] % (sizeof(LINKTYPES) / sizeof(LINKTYPES[0]))];
    pipeline_config_default(&cfg);
    cfg.flows.max_flows = 8;
    cfg.max_stream_buffer = 4096;
    cfg.max_total_buffer = 16384;
    cfg.frags.max_datagrams = 4;
    cfg.frags.max_bytes = 16384;
    if (pipeline_init(&pl, &cfg, &ds, NULL) != 0)
        return 0;
    while (off + 2 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        struct ft_meta m;
        uint8_t *copy;
        off += 2;
        if (len > size - off)
            len = size - off;
        /* A private copy so ASan catches any read past the frame. */
        copy = malloc(len ? len : 1);
        if (!copy)
            break;
        memcpy(copy, data + off, len);
        memset(&m, 0, sizeof(m));
        m.frame = m.src_frame = ++frame;
        m.ts_ns = (int64_t)frame * 400000000; /* 0.4 s apart: timeouts happen */
        pipeline_packet(&pl, linktype, copy, (uint32_t)len, (uint32_t)len + (data[0] & 0x80 ? 64 : 0),
                        &m);
        free(copy);
        off += len;
    }
    pipeline_destroy(&pl);
    return 0;
}
