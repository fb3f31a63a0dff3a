/*
 * test_reasm.c - TCP reassembly (reasm_*) driven segment by segment into a
 * recording sink, and the connection facts of tcp_conn_packet() from
 * struct packet values.
 *
 * The recorder keeps, per direction, the exact bytes delivered and a log
 * line per callback: "D<dir>:<len>@<frame>" for data, "G<dir>:<len>+<off>@<frame>"
 * for a gap of len bytes at stream offset off, "E<dir>@<frame>" for eof.
 * The frame is the meta.frame the callback carried, so the log also pins
 * down which segment completed each delivery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "decode.h"
#include "reasm.h"
#include "tcp.h"

struct rec {
    uint8_t bytes[2][4096];
    size_t n[2];
    uint64_t pos[2];  /* stream offset: data + gap bytes so far */
    int eofs[2];
    int gaps[2];
    char log[4096];
};

static void rec_log(struct rec *r, const char *s)
{
    size_t l = strlen(r->log);
    snprintf(r->log + l, sizeof(r->log) - l, "%s ", s);
}

static void on_data(void *user, enum ft_dir dir, const uint8_t *p, size_t n,
                    const struct ft_meta *m)
{
    struct rec *r = user;
    char s[64];
    if (r->n[dir] + n <= sizeof(r->bytes[dir]))
        memcpy(r->bytes[dir] + r->n[dir], p, n);
    r->n[dir] += n;
    r->pos[dir] += n;
    snprintf(s, sizeof(s), "D%d:%zu@%llu", (int)dir, n, (unsigned long long)m->frame);
    rec_log(r, s);
}

static void on_gap(void *user, enum ft_dir dir, uint64_t nbytes, const struct ft_meta *m)
{
    struct rec *r = user;
    char s[64];
    snprintf(s, sizeof(s), "G%d:%llu+%llu@%llu", (int)dir, (unsigned long long)nbytes,
             (unsigned long long)r->pos[dir], (unsigned long long)m->frame);
    r->pos[dir] += nbytes;
    r->gaps[dir]++;
    rec_log(r, s);
}

static void on_eof(void *user, enum ft_dir dir, const struct ft_meta *m)
{
    struct rec *r = user;
    char s[32];
    r->eofs[dir]++;
    snprintf(s, sizeof(s), "E%d@%llu", (int)dir, (unsigned long long)m->frame);
    rec_log(r, s);
}

/* Test fixture: one context, one half stream per direction, a recorder. */
struct fx {
    struct reasm_ctx rc;
    struct half_stream hs[2];
    struct rec rec;
    struct reasm_sink sink;
};

static void fx_init(struct fx *x, uint64_t max_stream, uint64_t max_total)
{
    memset(x, 0, sizeof(*x));
    x->rc.max_stream_bytes = max_stream;
    x->rc.max_total_bytes = max_total;
    x->sink.data = on_data;
    x->sink.gap = on_gap;
    x->sink.eof = on_eof;
    x->sink.user = &x->rec;
}

static struct ft_meta fm(uint64_t frame)
{
    struct ft_meta m = { .frame = frame, .src_frame = frame, .ts_ns = (int64_t)frame * 1000 };
    return m;
}

/* A segment of direction 0 with text data, fully captured. */
static void seg(struct fx *x, uint32_t seq, const char *text, uint64_t frame)
{
    struct ft_meta m = fm(frame);
    uint32_t n = (uint32_t)strlen(text);
    reasm_segment(&x->rc, &x->hs[0], FT_DIR_ORIG, seq, (const uint8_t *)text, n, n, &m, &x->sink);
}

static void flush0(struct fx *x, uint64_t frame)
{
    struct ft_meta m = fm(frame);
    reasm_flush(&x->rc, &x->hs[0], FT_DIR_ORIG, &m, &x->sink);
}

static bool out_is(const struct rec *r, int dir, const char *s)
{
    size_t n = strlen(s);
    return r->n[dir] == n && memcmp(r->bytes[dir], s, n) == 0;
}

static bool log_is(const struct rec *r, const char *s)
{
    if (strcmp(r->log, s) != 0) {
        printf("  log: \"%s\"\n  want \"%s\"\n", r->log, s);
        return false;
    }
    return true;
}

#define ISN 1000u /* data starts at 1001 */

static void test_in_order(void)
{
    struct fx x;
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    seg(&x, 1004, "def", 2);
    CHECK(out_is(&x.rec, 0, "abcdef"));
    CHECK(log_is(&x.rec, "D0:3@1 D0:3@2 "));
    CHECK(x.rc.stats.segments == 2 && x.rc.stats.bytes_delivered == 6);
    CHECK(x.rc.stats.out_of_order_segments == 0 && x.rc.stats.buffered_peak == 0);
    CHECK(x.hs[0].next_off == 6 && x.hs[0].next_seq == 1007 && x.hs[0].delivered == 6);
    /* A second SYN does not restart the stream. */
    reasm_start_syn(&x.hs[0], 5000);
    seg(&x, 1007, "g", 3);
    CHECK(out_is(&x.rec, 0, "abcdefg"));
    /* Empty segments are not segments. */
    seg(&x, 1008, "", 4);
    CHECK(x.rc.stats.segments == 3);
}

static void test_out_of_order(void)
{
    struct fx x;
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1007, "ccc", 1);
    seg(&x, 1004, "bbb", 2);
    CHECK(x.rec.n[0] == 0 && x.rc.stats.buffered_now > 6);
    CHECK(x.rc.stats.out_of_order_segments == 2 && x.hs[0].out_of_order == 2);
    seg(&x, 1001, "aaa", 3);
    CHECK(out_is(&x.rec, 0, "aaabbbccc"));
    /* Every chunk carries the meta of frame 3, which completed them. */
    CHECK(log_is(&x.rec, "D0:3@3 D0:3@3 D0:3@3 "));
    CHECK(x.rc.stats.buffered_now == 0 && x.hs[0].ooo_bytes == 0);
    CHECK(x.rc.stats.buffered_peak > 6);
    CHECK(x.rc.stats.gaps == 0);
}

static void test_retransmission(void)
{
    struct fx x;
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    seg(&x, 1001, "abc", 2);
    seg(&x, 1002, "b", 3);
    CHECK(out_is(&x.rec, 0, "abc"));
    CHECK(log_is(&x.rec, "D0:3@1 "));
    CHECK(x.rc.stats.retransmitted_segments == 2 && x.hs[0].retransmits == 2);
    CHECK(x.rc.stats.overlap_segments == 0);
    /* Partly old: the new tail is delivered, counted as an overlap. */
    seg(&x, 1002, "bcde", 4);
    CHECK(out_is(&x.rec, 0, "abcde"));
    CHECK(log_is(&x.rec, "D0:3@1 D0:2@4 "));
    CHECK(x.rc.stats.overlap_segments == 1 && x.rc.stats.retransmitted_segments == 2);
}

static void test_overlaps(void)
{
    struct fx x;

    /* Both buffered ahead of a hole; the earlier arrival wins the overlap. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1003, "cdef", 1);   /* offsets 2..6 */
    seg(&x, 1005, "WXYZQR", 2); /* offsets 4..10: "WX" conflicts with "ef" */
    seg(&x, 1001, "ab", 3);
    CHECK(out_is(&x.rec, 0, "abcdefYZQR"));
    CHECK(x.rc.stats.overlap_segments == 1 && x.rc.stats.overlap_conflicts == 1);
    CHECK(x.hs[0].overlaps == 1 && x.hs[0].conflicts == 1);
    CHECK(x.rc.stats.buffered_now == 0);

    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1005, "WXYZQR", 1);
    seg(&x, 1003, "cdef", 2);
    seg(&x, 1001, "ab", 3);
    CHECK(out_is(&x.rec, 0, "abcdWXYZQR"));
    CHECK(x.rc.stats.overlap_segments == 1 && x.rc.stats.overlap_conflicts == 1);

    /* Same bytes overlapping: an overlap, not a conflict. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1003, "cdef", 1);
    seg(&x, 1005, "efgh", 2);
    seg(&x, 1001, "ab", 3);
    CHECK(out_is(&x.rec, 0, "abcdefgh"));
    CHECK(x.rc.stats.overlap_segments == 1 && x.rc.stats.overlap_conflicts == 0);

    /* An in-order segment running into buffered data: the buffered bytes
     * win, the segment's own bytes fill around them. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1003, "XX", 1);     /* offsets 2..4 */
    seg(&x, 1001, "abcdef", 2); /* offsets 0..6 */
    CHECK(out_is(&x.rec, 0, "abXXef"));
    CHECK(log_is(&x.rec, "D0:2@2 D0:2@2 D0:2@2 "));
    CHECK(x.rc.stats.overlap_segments == 1 && x.rc.stats.overlap_conflicts == 1);
    CHECK(x.rc.stats.buffered_now == 0);
    /* Arrived in the other order the delivered copy wins: the second is
     * a plain retransmission. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abcdef", 1);
    seg(&x, 1003, "XX", 2);
    CHECK(out_is(&x.rec, 0, "abcdef"));
    CHECK(x.rc.stats.retransmitted_segments == 1 && x.rc.stats.overlap_conflicts == 0);
}

static void test_wraparound(void)
{
    struct fx x;
    uint8_t a[255], b[100];
    struct ft_meta m1 = fm(1), m2 = fm(2);

    for (unsigned i = 0; i < sizeof(a); i++)
        a[i] = (uint8_t)i;
    for (unsigned i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(200 - i);
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], 0xFFFFFF00u);
    /* The segment after the wrap arrives first. */
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 0, b, 100, 100, &m1, &x.sink);
    CHECK(x.rec.n[0] == 0 && x.rc.stats.bogus_seq == 0 && x.rc.stats.out_of_order_segments == 1);
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 0xFFFFFF01u, a, 255, 255, &m2, &x.sink);
    CHECK(x.rec.n[0] == 355);
    CHECK(memcmp(x.rec.bytes[0], a, 255) == 0 && memcmp(x.rec.bytes[0] + 255, b, 100) == 0);
    CHECK(x.hs[0].next_off == 355 && x.hs[0].next_seq == 100);
    /* An old segment from before the wrap is a retransmission. */
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 0xFFFFFFF0u, a, 10, 10, &m2, &x.sink);
    CHECK(x.rc.stats.retransmitted_segments == 1 && x.rec.n[0] == 355);
    /* The FIN just after the wrap. */
    reasm_fin(&x.rc, &x.hs[0], FT_DIR_ORIG, 100, &m2, &x.sink);
    CHECK(x.rec.eofs[0] == 1 && x.rc.stats.gaps == 0);
}

static void test_zero_window_probe(void)
{
    struct fx x;
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "a", 1);    /* the probe */
    seg(&x, 1001, "abcd", 2); /* resent inside the real segment */
    CHECK(out_is(&x.rec, 0, "abcd"));
    CHECK(log_is(&x.rec, "D0:1@1 D0:3@2 "));
    CHECK(x.rc.stats.retransmitted_segments == 0 && x.rc.stats.overlap_segments == 1);
    CHECK(x.rc.stats.overlap_conflicts == 0);
}

static void test_ack_gap(void)
{
    struct fx x;
    struct ft_meta m;

    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    seg(&x, 1007, "ghi", 2); /* hole 3..6 */
    m = fm(3);
    reasm_ack(&x.rc, &x.hs[0], FT_DIR_ORIG, 1004, &m, &x.sink); /* not past the hole */
    CHECK(log_is(&x.rec, "D0:3@1 "));
    m = fm(4);
    reasm_ack(&x.rc, &x.hs[0], FT_DIR_ORIG, 1008, &m, &x.sink); /* into the buffered data */
    CHECK(log_is(&x.rec, "D0:3@1 G0:3+3@4 D0:3@4 "));
    CHECK(x.rc.stats.gaps == 1 && x.rc.stats.gap_bytes == 3 && x.hs[0].gap_bytes == 3);
    CHECK(out_is(&x.rec, 0, "abcghi") && x.rc.stats.buffered_now == 0);

    /* The ACK passes a hole but stops short of the buffered data: the
     * acknowledged part is a gap, the rest of the hole may still come. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    seg(&x, 1013, "mno", 2); /* offsets 12..15 */
    m = fm(3);
    reasm_ack(&x.rc, &x.hs[0], FT_DIR_ORIG, 1007, &m, &x.sink);
    CHECK(log_is(&x.rec, "D0:3@1 G0:3+3@3 "));
    seg(&x, 1007, "ghijkl", 4); /* the rest of the hole arrives */
    CHECK(log_is(&x.rec, "D0:3@1 G0:3+3@3 D0:6@4 D0:3@4 "));
    CHECK(out_is(&x.rec, 0, "abcghijklmno"));
    flush0(&x, 5);
    CHECK(log_is(&x.rec, "D0:3@1 G0:3+3@3 D0:6@4 D0:3@4 E0@5 "));

    /* ACK with nothing buffered: the bytes may still show up; at flush
     * the acknowledged but never seen bytes are a gap. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    m = fm(2);
    reasm_ack(&x.rc, &x.hs[0], FT_DIR_ORIG, 1011, &m, &x.sink);
    CHECK(log_is(&x.rec, "D0:3@1 "));
    flush0(&x, 3);
    CHECK(log_is(&x.rec, "D0:3@1 G0:7+3@3 E0@3 "));
}

/* One ACK far beyond anything the sender was seen to send must not turn
 * into a gap of that size; a capture that lost a window's worth of data
 * still gets its gap. */
static void test_implausible_ack(void)
{
    struct fx x;
    struct ft_meta m;

    /* 1 GiB - 1 ahead, window unknown (the 4 MiB floor applies). */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    m = fm(2);
    reasm_ack(&x.rc, &x.hs[0], FT_DIR_ORIG, 1004 + (UINT32_C(1) << 30) - 1, &m, &x.sink);
    CHECK(x.rc.stats.implausible_acks == 1);
    flush0(&x, 3);
    CHECK(log_is(&x.rec, "D0:3@1 E0@3 "));
    CHECK(x.rc.stats.gaps == 0 && x.rc.stats.gap_bytes == 0);

    /* Just past the ceiling, even with a huge advertised window. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    x.hs[0].peer_window = UINT32_C(1) << 30;
    m = fm(2);
    reasm_ack(&x.rc, &x.hs[0], FT_DIR_ORIG, 1004 + REASM_ACK_AHEAD_MAX + 1, &m, &x.sink);
    flush0(&x, 3);
    CHECK(x.rc.stats.implausible_acks == 1 && x.rc.stats.gap_bytes == 0);

    /* A real capture loss of 3000 bytes: declared. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    m = fm(2);
    reasm_ack(&x.rc, &x.hs[0], FT_DIR_ORIG, 1004 + 3000, &m, &x.sink);
    flush0(&x, 3);
    CHECK(log_is(&x.rec, "D0:3@1 G0:3000+3@3 E0@3 "));
    CHECK(x.rc.stats.implausible_acks == 0);

    /* A window of 32 MiB makes 20 MiB ahead plausible; data then arrives
     * beyond the hole and the hole is declared at once. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    x.hs[0].peer_window = UINT32_C(32) << 20;
    m = fm(2);
    reasm_ack(&x.rc, &x.hs[0], FT_DIR_ORIG, 1004 + (UINT32_C(20) << 20), &m, &x.sink);
    CHECK(x.rc.stats.implausible_acks == 0);
    seg(&x, 1004 + (UINT32_C(20) << 20), "xyz", 3);
    CHECK(log_is(&x.rec, "D0:3@1 G0:20971520+3@3 D0:3@3 "));
    /* The seen data moved on: an ACK just past it is fine again. */
    m = fm(4);
    reasm_ack(&x.rc, &x.hs[0], FT_DIR_ORIG, 1007 + (UINT32_C(20) << 20), &m, &x.sink);
    CHECK(x.rc.stats.implausible_acks == 0);
}

static void test_flush_gap(void)
{
    struct fx x;
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    seg(&x, 1007, "ghi", 2);
    seg(&x, 1013, "mno", 3);
    flush0(&x, 9);
    CHECK(log_is(&x.rec, "D0:3@1 G0:3+3@9 D0:3@9 G0:3+9@9 D0:3@9 E0@9 "));
    CHECK(out_is(&x.rec, 0, "abcghimno"));
    CHECK(x.rc.stats.gaps == 2 && x.rc.stats.gap_bytes == 6 && x.rec.eofs[0] == 1);
    CHECK(x.rc.stats.buffered_now == 0);
    flush0(&x, 10); /* eof only once */
    CHECK(x.rec.eofs[0] == 1);
}

static void test_snaplen(void)
{
    struct fx x;
    struct ft_meta m;

    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    m = fm(1);
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 1001, (const uint8_t *)"abcd", 4, 10, &m, &x.sink);
    CHECK(log_is(&x.rec, "D0:4@1 G0:6+4@1 "));
    CHECK(x.hs[0].next_off == 10 && x.hs[0].delivered == 4 && x.rc.stats.gap_bytes == 6);
    seg(&x, 1011, "k", 2);
    CHECK(out_is(&x.rec, 0, "abcdk"));

    /* Cut segment ahead of a hole: its missing tail is buffered as a hole
     * and comes out as a gap once the data before it arrives. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    m = fm(1);
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 1004, (const uint8_t *)"de", 2, 4, &m, &x.sink);
    seg(&x, 1008, "hi", 2);
    seg(&x, 1001, "abc", 3);
    CHECK(log_is(&x.rec, "D0:3@3 D0:2@3 G0:2+5@3 D0:2@3 "));
    CHECK(out_is(&x.rec, 0, "abcdehi") && x.rc.stats.buffered_now == 0);
}

static void test_fin(void)
{
    struct fx x;
    struct ft_meta m;

    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    m = fm(2);
    reasm_fin(&x.rc, &x.hs[0], FT_DIR_ORIG, 1004, &m, &x.sink);
    CHECK(log_is(&x.rec, "D0:3@1 E0@2 "));
    reasm_fin(&x.rc, &x.hs[0], FT_DIR_ORIG, 1004, &m, &x.sink); /* retransmitted FIN */
    m = fm(3);
    reasm_ack(&x.rc, &x.hs[0], FT_DIR_ORIG, 1005, &m, &x.sink); /* ACK of the FIN */
    flush0(&x, 4);
    CHECK(log_is(&x.rec, "D0:3@1 E0@2 "));
    CHECK(x.rec.eofs[0] == 1 && x.rc.stats.gaps == 0);

    /* FIN seen before the last data: eof when the data arrives. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    m = fm(1);
    reasm_fin(&x.rc, &x.hs[0], FT_DIR_ORIG, 1004, &m, &x.sink);
    CHECK(x.rec.eofs[0] == 0);
    seg(&x, 1001, "abc", 2);
    CHECK(log_is(&x.rec, "D0:3@2 E0@2 "));

    /* FIN with a hole before it: no eof until the flush declares the gap. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    seg(&x, 1007, "ghi", 2);
    m = fm(3);
    reasm_fin(&x.rc, &x.hs[0], FT_DIR_ORIG, 1010, &m, &x.sink);
    CHECK(x.rec.eofs[0] == 0);
    flush0(&x, 4);
    CHECK(log_is(&x.rec, "D0:3@1 G0:3+3@4 D0:3@4 E0@4 "));
    CHECK(x.rec.eofs[0] == 1);

    /* FIN past the last data with nothing buffered: the flush fills up to
     * the FIN with a gap. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    m = fm(2);
    reasm_fin(&x.rc, &x.hs[0], FT_DIR_ORIG, 1010, &m, &x.sink);
    flush0(&x, 3);
    CHECK(log_is(&x.rec, "D0:3@1 G0:6+3@3 E0@3 "));
}

static void test_stream_cap(void)
{
    struct fx x;
    uint8_t big[200], mid[50];
    struct ft_meta m;

    memset(big, 'B', sizeof(big));
    memset(mid, 'M', sizeof(mid));
    fx_init(&x, 100, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    seg(&x, 1001, "abc", 1);
    m = fm(2);
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 1011, big, 200, 200, &m, &x.sink);
    CHECK(x.rc.stats.forced_flushes_stream == 1);
    CHECK(log_is(&x.rec, "D0:3@1 G0:7+3@2 D0:200@2 "));
    CHECK(x.rc.stats.buffered_now == 0 && x.hs[0].ooo_bytes == 0);
    CHECK(x.rc.stats.buffered_peak > 200);

    /* Two 50-byte segments: the first fits, the second pushes the stream
     * over its cap and exactly the first hole is given up. */
    m = fm(3);
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 1301, mid, 50, 50, &m, &x.sink); /* off 300 */
    CHECK(x.rc.stats.forced_flushes_stream == 1 && x.rc.stats.buffered_now > 50);
    m = fm(4);
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 1401, mid, 50, 50, &m, &x.sink); /* off 400 */
    CHECK(x.rc.stats.forced_flushes_stream == 2);
    CHECK(log_is(&x.rec, "D0:3@1 G0:7+3@2 D0:200@2 G0:90+210@4 D0:50@4 "));
    CHECK(x.rc.stats.buffered_now > 50 && x.rc.stats.buffered_now == x.hs[0].ooo_bytes);
    flush0(&x, 5);
    CHECK(x.rc.stats.buffered_now == 0 && x.rec.n[0] == 303);
    CHECK(x.rc.stats.gaps == 3 && x.rc.stats.gap_bytes == 7 + 90 + 50);
}

static void test_total_cap(void)
{
    struct fx x;
    uint8_t d[150];
    struct ft_meta m = fm(1);

    memset(d, 'q', sizeof(d));
    fx_init(&x, 1000, 300);
    reasm_start_syn(&x.hs[0], ISN);
    reasm_start_syn(&x.hs[1], 7000);
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 1011, d, 150, 150, &m, &x.sink);
    CHECK(x.rc.stats.forced_flushes_total == 0 && x.rec.n[0] == 0);
    uint64_t one = x.rc.stats.buffered_now;
    CHECK(one > 150 && one <= 300);
    m = fm(2);
    reasm_segment(&x.rc, &x.hs[1], FT_DIR_RESP, 7011, d, 150, 150, &m, &x.sink);
    /* The stream that went over the total gives up its hole. */
    CHECK(x.rc.stats.forced_flushes_total == 1 && x.rc.stats.forced_flushes_stream == 0);
    CHECK(log_is(&x.rec, "G1:10+0@2 D1:150@2 "));
    CHECK(x.rc.stats.buffered_now == one && x.hs[0].ooo_bytes == one);
    reasm_release(&x.rc, &x.hs[0]);
    CHECK(x.rc.stats.buffered_now == 0 && x.hs[0].ooo_bytes == 0);
    CHECK(x.rec.n[0] == 0); /* released, not delivered */
}

static void test_bogus_ignore_midstream(void)
{
    struct fx x;
    struct ft_meta m = fm(1);
    uint8_t d[4] = { 1, 2, 3, 4 };

    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 1001 + (1u << 30) + 1, d, 4, 4, &m, &x.sink);
    CHECK(x.rc.stats.bogus_seq == 1 && x.rc.stats.buffered_now == 0);
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 1001 + 0x80000000u, d, 4, 4, &m, &x.sink);
    CHECK(x.rc.stats.bogus_seq == 1 && x.rc.stats.retransmitted_segments == 1); /* "behind" */
    reasm_segment(&x.rc, &x.hs[0], FT_DIR_ORIG, 1001 + (1u << 30), d, 4, 4, &m, &x.sink);
    CHECK(x.rc.stats.bogus_seq == 1 && x.rc.stats.buffered_now > 0); /* exactly 1 GiB: kept */
    reasm_release(&x.rc, &x.hs[0]);
    CHECK(x.rc.stats.buffered_now == 0 && x.rec.log[0] == '\0');

    /* Ignore: offsets keep moving, nothing is buffered or called. */
    fx_init(&x, 1 << 20, 1 << 24);
    reasm_start_syn(&x.hs[0], ISN);
    x.hs[0].ignore = true;
    seg(&x, 1004, "def", 1);
    seg(&x, 1001, "abc", 2);
    seg(&x, 1007, "ghi", 3);
    m = fm(4);
    reasm_fin(&x.rc, &x.hs[0], FT_DIR_ORIG, 1010, &m, &x.sink);
    flush0(&x, 5);
    CHECK(x.rec.log[0] == '\0' && x.rec.n[0] == 0 && x.rec.eofs[0] == 0);
    CHECK(x.rc.stats.buffered_now == 0 && x.rc.stats.buffered_peak == 0);
    CHECK(x.hs[0].next_off == 9 && x.hs[0].eof_sent);

    /* Mid-stream start: the first segment seen starts the stream. */
    fx_init(&x, 1 << 20, 1 << 24);
    seg(&x, 500000, "xyz", 1);
    CHECK(out_is(&x.rec, 0, "xyz") && x.hs[0].started && x.hs[0].next_seq == 500003);
    seg(&x, 499990, "0123456789", 2); /* entirely before: old */
    CHECK(x.rc.stats.retransmitted_segments == 1 && out_is(&x.rec, 0, "xyz"));
    /* A FIN alone also starts a stream. */
    m = fm(3);
    reasm_fin(&x.rc, &x.hs[1], FT_DIR_RESP, 777, &m, &x.sink);
    CHECK(x.hs[1].started && x.rec.eofs[1] == 1);
    /* An ACK for a stream never started does nothing. */
    struct half_stream h = { .started = false };
    reasm_ack(&x.rc, &h, FT_DIR_RESP, 12345, &m, &x.sink);
    CHECK(!h.started && !h.peer_ack_valid);
}

/* ---- tcp_conn ----------------------------------------------------------------- */

struct conn_fx {
    struct tcp_conn c;
    struct reasm_ctx rc;
    struct rec rec;
    struct reasm_sink sink;
};

static void conn_init(struct conn_fx *x)
{
    memset(x, 0, sizeof(*x));
    x->c.dir[0].wscale = x->c.dir[1].wscale = -1;
    x->rc.max_stream_bytes = 1 << 20;
    x->rc.max_total_bytes = 1 << 24;
    x->sink.data = on_data;
    x->sink.gap = on_gap;
    x->sink.eof = on_eof;
    x->sink.user = &x->rec;
}

#define MS (FT_NS_PER_SEC / 1000)

static void pk(struct conn_fx *x, enum ft_dir dir, uint64_t frame, int64_t ts, uint8_t flags,
               uint32_t seq, uint32_t ack, const char *data)
{
    struct packet p;
    memset(&p, 0, sizeof(p));
    p.meta.frame = frame;
    p.meta.src_frame = frame;
    p.meta.ts_ns = ts;
    p.meta.dir = (uint8_t)dir;
    p.ip_version = 4;
    p.proto = 6;
    p.tcp_flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.window = 65535;
    p.opt.wscale = -1;
    if (flags & TCP_SYN) {
        p.opt.mss = dir == FT_DIR_ORIG ? 1460 : 1400;
        p.opt.wscale = dir == FT_DIR_ORIG ? 7 : 8;
        p.opt.sack_permitted = true;
    }
    p.payload = (const uint8_t *)data;
    p.payload_len = p.payload_wire_len = data ? (uint32_t)strlen(data) : 0;
    tcp_conn_packet(&x->c, &x->rc, dir, &p, &x->sink);
}

#define O FT_DIR_ORIG
#define R FT_DIR_RESP

static void handshake(struct conn_fx *x)
{
    pk(x, O, 1, 0, TCP_SYN, 100, 0, NULL);
    pk(x, R, 2, 30 * MS, TCP_SYN | TCP_ACK, 500, 101, NULL);
    pk(x, O, 3, 60 * MS, TCP_ACK, 101, 501, NULL);
}

static void test_conn_sf(void)
{
    struct conn_fx x;
    conn_init(&x);
    handshake(&x);
    CHECK(x.c.established && !x.c.closed && strcmp(tcp_conn_state(&x.c), "S1") == 0);
    pk(&x, O, 4, 70 * MS, TCP_ACK | TCP_PSH, 101, 501, "hello");
    pk(&x, R, 5, 80 * MS, TCP_ACK, 501, 106, NULL);
    pk(&x, R, 6, 90 * MS, TCP_ACK | TCP_PSH, 501, 106, "world!");
    pk(&x, O, 7, 100 * MS, TCP_FIN | TCP_ACK, 106, 507, NULL);
    pk(&x, R, 8, 110 * MS, TCP_FIN | TCP_ACK, 507, 107, NULL);
    pk(&x, O, 9, 120 * MS, TCP_ACK, 107, 508, NULL);
    CHECK(strcmp(x.c.history, "ShADadFf") == 0);
    CHECK(strcmp(tcp_conn_state(&x.c), "SF") == 0);
    CHECK(x.c.closed && x.c.established && !x.c.midstream);
    CHECK(tcp_conn_rtt_ns(&x.c) == 30 * MS);
    CHECK(x.c.syn.frame == 1 && x.c.synack.frame == 2 && x.c.ack.frame == 3);
    CHECK(x.c.isn[O] == 100 && x.c.isn[R] == 500 && x.c.syn_count == 1);
    CHECK(x.c.dir[O].first_data.frame == 4 && x.c.dir[R].first_data.frame == 6);
    CHECK(x.c.dir[O].fin.frame == 7 && x.c.dir[R].fin.frame == 8);
    CHECK(x.c.dir[O].packets == 5 && x.c.dir[R].packets == 4);
    CHECK(x.c.dir[O].payload_bytes == 5 && x.c.dir[R].payload_bytes == 6);
    CHECK(x.c.dir[O].mss == 1460 && x.c.dir[O].wscale == 7 && x.c.dir[O].sack_permitted);
    CHECK(x.c.dir[R].mss == 1400 && x.c.dir[R].wscale == 8);
    CHECK(out_is(&x.rec, O, "hello") && out_is(&x.rec, R, "world!"));
    CHECK(log_is(&x.rec, "D0:5@4 D1:6@6 E0@7 E1@8 "));
    tcp_conn_flush(&x.c, &x.rc, &(struct ft_meta){ .frame = 10 }, &x.sink);
    CHECK(x.rec.eofs[O] == 1 && x.rec.eofs[R] == 1 && x.rc.stats.gaps == 0);
    tcp_conn_release(&x.c, &x.rc);
}

static const char *state_after(struct conn_fx *x)
{
    return tcp_conn_state(&x->c);
}

static void test_conn_states(void)
{
    struct conn_fx x;

    /* S0: unanswered SYN, retransmitted twice (1 s and 3 s later). */
    conn_init(&x);
    pk(&x, O, 1, 0, TCP_SYN, 100, 0, NULL);
    pk(&x, O, 2, 1000 * MS, TCP_SYN, 100, 0, NULL);
    pk(&x, O, 3, 3000 * MS, TCP_SYN, 100, 0, NULL);
    CHECK(strcmp(state_after(&x), "S0") == 0);
    CHECK(x.c.syn_count == 3 && x.c.syn.frame == 1);
    CHECK(x.c.syn_times_ns[0] == 0 && x.c.syn_times_ns[1] == 1000 * MS &&
          x.c.syn_times_ns[2] == 3000 * MS);
    CHECK(strcmp(x.c.history, "ST") == 0);
    CHECK(tcp_conn_rtt_ns(&x.c) == -1 && !x.c.established && !x.c.midstream);
    /* ...then answered: the RTT is measured from the SYN that got through. */
    pk(&x, R, 4, 3050 * MS, TCP_SYN | TCP_ACK, 900, 101, NULL);
    CHECK(tcp_conn_rtt_ns(&x.c) == 50 * MS);
    CHECK(strcmp(state_after(&x), "S1") == 0 && !x.c.established);
    tcp_conn_release(&x.c, &x.rc);

    /* REJ: the responder resets the SYN. */
    conn_init(&x);
    pk(&x, O, 1, 0, TCP_SYN, 100, 0, NULL);
    pk(&x, R, 2, 1 * MS, TCP_RST | TCP_ACK, 0, 101, NULL);
    CHECK(strcmp(state_after(&x), "REJ") == 0);
    CHECK(strcmp(x.c.history, "Sr") == 0 && x.c.closed && x.c.rst.frame == 2);
    CHECK(x.c.rst_dir == R);
    CHECK(x.rec.eofs[O] == 1 && x.rec.eofs[R] == 1); /* a RST flushes both */

    /* RSTOS0: the originator gives up with a RST. */
    conn_init(&x);
    pk(&x, O, 1, 0, TCP_SYN, 100, 0, NULL);
    pk(&x, O, 2, 1 * MS, TCP_RST, 101, 0, NULL);
    CHECK(strcmp(state_after(&x), "RSTOS0") == 0);

    /* RSTO and RSTR after an established connection. */
    conn_init(&x);
    handshake(&x);
    pk(&x, O, 4, 70 * MS, TCP_ACK | TCP_PSH, 101, 501, "abc");
    pk(&x, O, 5, 80 * MS, TCP_RST | TCP_ACK, 104, 501, NULL);
    CHECK(strcmp(state_after(&x), "RSTO") == 0);
    CHECK(strcmp(x.c.history, "ShADR") == 0 && x.c.closed);
    CHECK(log_is(&x.rec, "D0:3@4 E0@5 E1@5 "));

    conn_init(&x);
    handshake(&x);
    pk(&x, R, 4, 70 * MS, TCP_RST, 501, 0, NULL);
    CHECK(strcmp(state_after(&x), "RSTR") == 0);
    CHECK(strcmp(x.c.history, "ShAr") == 0);

    /* SH: SYN then FIN, no answer. */
    conn_init(&x);
    pk(&x, O, 1, 0, TCP_SYN, 100, 0, NULL);
    pk(&x, O, 2, 1 * MS, TCP_FIN, 101, 0, NULL);
    CHECK(strcmp(state_after(&x), "SH") == 0);
    CHECK(strcmp(x.c.history, "SF") == 0);

    /* OTH: the capture started mid-connection. */
    conn_init(&x);
    pk(&x, O, 1, 0, TCP_ACK | TCP_PSH, 7000, 9000, "mid");
    pk(&x, R, 2, 1 * MS, TCP_ACK, 9000, 7003, NULL);
    pk(&x, O, 3, 2 * MS, TCP_ACK | TCP_PSH, 7003, 9000, "dle");
    CHECK(strcmp(state_after(&x), "OTH") == 0);
    CHECK(x.c.midstream && !x.c.established && x.c.syn.frame == 0);
    CHECK(strcmp(x.c.history, "Da") == 0);
    CHECK(out_is(&x.rec, O, "middle"));
    CHECK(tcp_conn_rtt_ns(&x.c) == -1);
    tcp_conn_release(&x.c, &x.rc);

    /* S1 with a lost segment: the ACK past the hole makes it a gap ('G'),
     * and a retransmission is a 'T'. */
    conn_init(&x);
    handshake(&x);
    pk(&x, O, 4, 70 * MS, TCP_ACK | TCP_PSH, 101, 501, "abc");
    pk(&x, O, 5, 71 * MS, TCP_ACK | TCP_PSH, 107, 501, "ghi");
    pk(&x, R, 6, 80 * MS, TCP_ACK, 501, 110, NULL);
    pk(&x, O, 7, 90 * MS, TCP_ACK | TCP_PSH, 107, 501, "ghi");
    CHECK(strcmp(state_after(&x), "S1") == 0);
    CHECK(strcmp(x.c.history, "ShADaGT") == 0);
    CHECK(log_is(&x.rec, "D0:3@4 G0:3+3@6 D0:3@6 "));
    CHECK(x.c.half[O].gap_count == 1 && x.c.half[O].retransmits == 1);
    /* Zero window and bad checksum letters from the responder. */
    struct packet p;
    memset(&p, 0, sizeof(p));
    p.meta.frame = 8;
    p.tcp_flags = TCP_ACK;
    p.seq = 501;
    p.ack = 110;
    p.window = 0;
    p.csum_bad = true;
    p.opt.wscale = -1;
    tcp_conn_packet(&x.c, &x.rc, R, &p, &x.sink);
    CHECK(strcmp(x.c.history, "ShADaGTcw") == 0);
    CHECK(x.c.dir[R].zero_windows == 1 && x.c.dir[R].bad_checksums == 1);
    tcp_conn_flush(&x.c, &x.rc, &p.meta, &x.sink);
    CHECK(x.rec.eofs[O] == 1 && x.rec.eofs[R] == 1);
    tcp_conn_release(&x.c, &x.rc);
    CHECK(x.rc.stats.buffered_now == 0);

    /* Handshake completed by data when the pure ACK is missing. */
    conn_init(&x);
    pk(&x, O, 1, 0, TCP_SYN, 100, 0, NULL);
    pk(&x, R, 2, 10 * MS, TCP_SYN | TCP_ACK, 500, 101, NULL);
    pk(&x, O, 3, 20 * MS, TCP_ACK | TCP_PSH, 101, 501, "x");
    CHECK(x.c.established && x.c.ack.frame == 0);
    CHECK(strcmp(x.c.history, "ShD") == 0);
}

int main(void)
{
    test_in_order();
    test_out_of_order();
    test_retransmission();
    test_overlaps();
    test_wraparound();
    test_zero_window_probe();
    test_ack_gap();
    test_flush_gap();
    test_implausible_ack();
    test_snaplen();
    test_fin();
    test_stream_cap();
    test_total_cap();
    test_bogus_ignore_midstream();
    test_conn_sf();
    test_conn_states();
    return check_summary("test_reasm");
}
