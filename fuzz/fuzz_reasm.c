/*
 * fuzz_reasm.c - libFuzzer harness for TCP reassembly (analyzer/reasm.c)
 * with fuzzer-chosen segments, ACKs, FINs, SYNs and flushes on the two
 * directions of one connection.
 *
 * Input layout:
 *   byte 0   caps: bits 0-1 per-stream buffer (64, 512, 4096, 1 MiB),
 *            bits 2-3 total buffer (128, 1024, 16384, 2 MiB)
 *   then operations, each an op byte and its operands:
 *     bits 0-2 kind: 0-3 segment, 4 ack, 5 fin, 6 syn, 7 flush
 *     bit 3    direction
 *     bit 4    sequence number absolute (4 bytes) instead of a signed
 *              16-bit offset from the direction's next expected one
 *     bit 5    segment: payload taken from the input instead of computed
 *     bits 6-7 segment: the snapshot length cut 0, 1-255, 16-4080 or
 *              256-65280 bytes off the tail (1 operand byte)
 *     segment  [seq][len 1 byte][payload if bit 5]
 *     ack/fin/syn [seq]
 *
 * Checks the reassembler's contract on every callback: offsets match the
 * stream's position, data never follows eof, eof comes once and last, a
 * gap is never empty.  While a direction only saw computed payload (each
 * byte a function of its sequence number), every delivered byte must be
 * the one for its sequence number.  After each operation the buffer caps
 * hold and the memory accounting adds up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../analyzer/reasm.h"

struct fz_conn {
    struct reasm_ctx rc;
    struct half_stream hs[2];
    uint64_t off[2];      /* bytes and gap bytes delivered so far */
    int eof[2];
    int raw_payload[2];   /* a segment carried input bytes: no content check */
    uint64_t sum;
};

static uint8_t byte_for_seq(uint32_t seq)
{
    return (uint8_t)(seq ^ (seq >> 8) ^ (seq >> 16) ^ (seq >> 24) ^ 0x5a);
}

static void fz_data(void *user, enum ft_dir dir, const uint8_t *p, size_t n, const struct ft_meta *m)
{
    struct fz_conn *c = user;
    const struct half_stream *hs = &c->hs[dir];
    uint32_t seq = hs->next_seq - (uint32_t)n;
    (void)m;
    if (c->eof[dir] || n == 0 || c->off[dir] + n != hs->next_off)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (!c->raw_payload[dir] && p[i] != byte_for_seq(seq + (uint32_t)i))
            abort(); /* delivered a byte that was never sent at that place */
        c->sum = c->sum * 31 + p[i];
    }
    c->off[dir] += n;
}

static void fz_gap(void *user, enum ft_dir dir, uint64_t n, const struct ft_meta *m)
{
    struct fz_conn *c = user;
    (void)m;
    if (c->eof[dir] || n == 0 || c->off[dir] + n != c->hs[dir].next_off)
        abort();
    c->off[dir] += n;
}

static void fz_eof(void *user, enum ft_dir dir, const struct ft_meta *m)
{
    struct fz_conn *c = user;
    (void)m;
    if (c->eof[dir]++)
        abort();
}

/* Reads n big-endian bytes; false when the input ran out. */
static int take(const uint8_t **p, const uint8_t *end, size_t n, uint32_t *v)
{
    if ((size_t)(end - *p) < n)
        return 0;
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v = *v << 8 | (*p)[i];
    *p += n;
    return 1;
}

static int take_seq(const uint8_t **p, const uint8_t *end, uint8_t op, const struct half_stream *hs,
                    uint32_t *seq)
{
    uint32_t v;
    if (op & 0x10)
        return take(p, end, 4, seq);
    if (!take(p, end, 2, &v))
        return 0;
    *seq = hs->next_seq + (uint32_t)(int32_t)(int16_t)(uint16_t)v;
    return 1;
}

static void check_accounting(const struct fz_conn *c)
{
    uint64_t total = 0;
    for (int d = 0; d < 2; d++) {
        if (c->hs[d].ooo_bytes > c->rc.max_stream_bytes)
            abort();
        total += c->hs[d].ooo_bytes;
    }
    if (total != c->rc.stats.buffered_now || total > c->rc.max_total_bytes)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t STREAM_CAP[4] = { 64, 512, 4096, 1 << 20 };
    static const uint64_t TOTAL_CAP[4] = { 128, 1024, 16384, 2 << 20 };
    const uint8_t *p = data, *end = data + size;
    const struct reasm_sink sink = { fz_data, fz_gap, fz_eof, NULL };
    struct reasm_sink s = sink;
    struct fz_conn *c;
    struct ft_meta m;
    uint8_t payload[255];

    if (size < 1)
        return 0;
    c = calloc(1, sizeof(*c));
    if (!c)
        return 0;
    s.user = c;
    c->rc.max_stream_bytes = STREAM_CAP[data[0] & 3];
    c->rc.max_total_bytes = TOTAL_CAP[(data[0] >> 2) & 3];
    p++;
    memset(&m, 0, sizeof(m));

    while (p < end) {
        uint8_t op = *p++;
        enum ft_dir dir = (op & 8) ? FT_DIR_RESP : FT_DIR_ORIG;
        struct half_stream *hs = &c->hs[dir];
        uint32_t seq, len, cut = 0;

        m.frame = m.src_frame = m.frame + 1;
        m.ts_ns += 1000;
        switch (op & 7) {
        case 4:
            if (!take_seq(&p, end, op, hs, &seq))
                goto done;
            reasm_ack(&c->rc, hs, dir, seq, &m, &s);
            break;
        case 5:
            if (!take_seq(&p, end, op, hs, &seq))
                goto done;
            reasm_fin(&c->rc, hs, dir, seq, &m, &s);
            break;
        case 6:
            if (!take_seq(&p, end, op, hs, &seq))
                goto done;
            reasm_start_syn(hs, seq);
            break;
        case 7:
            reasm_flush(&c->rc, hs, dir, &m, &s);
            break;
        default:
            if (!take_seq(&p, end, op, hs, &seq) || !take(&p, end, 1, &len))
                goto done;
            if (op >> 6) {
                if (!take(&p, end, 1, &cut))
                    goto done;
                cut <<= 4 * ((op >> 6) - 1);
            }
            if (op & 0x20) {
                if ((size_t)(end - p) < len)
                    len = (uint32_t)(end - p);
                memcpy(payload, p, len);
                p += len;
                c->raw_payload[dir] = 1;
            } else {
                for (uint32_t i = 0; i < len; i++)
                    payload[i] = byte_for_seq(seq + i);
            }
            /* A segment that starts a stream mid-way sets its position:
             * the computed bytes still match their sequence numbers. */
            reasm_segment(&c->rc, hs, dir, seq, payload, len, len + cut, &m, &s);
            break;
        }
        check_accounting(c);
    }
done:
    for (int d = 0; d < 2; d++) {
        reasm_flush(&c->rc, &c->hs[d], (enum ft_dir)d, &m, &s);
        if (c->eof[d] != 1 || c->hs[d].ooo)
            abort();
    }
    for (int d = 0; d < 2; d++)
        reasm_release(&c->rc, &c->hs[d]);
    if (c->rc.stats.buffered_now != 0)
        abort();
    free(c);
    return 0;
}
