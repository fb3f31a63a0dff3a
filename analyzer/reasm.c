/*
 * reasm.c - per-direction TCP reassembly (see reasm.h for the policy).
 *
 * Out-of-order data lives in a singly linked list sorted by stream offset,
 * with no two segments overlapping: a new segment only fills the holes
 * between what is already there (first data wins).  Lists stay short in
 * practice (a handful of segments around a loss), so a list is simpler and
 * no slower than a tree.  Memory accounting charges each buffered segment
 * its header plus its bytes, so many tiny segments cannot evade the caps.
 */
#include "reasm.h"

#include <stdlib.h>
#include <string.h>

#define BOGUS_AHEAD (UINT32_C(1) << 30) /* further ahead than any window */

struct reasm_seg {
    struct reasm_seg *next;
    uint64_t off;   /* stream offset of the first byte */
    uint32_t len;   /* bytes covered */
    bool hole;      /* no bytes: a snaplen-cut tail, delivered as a gap */
    uint8_t data[]; /* len bytes unless hole */
};

static uint64_t seg_cost(const struct reasm_seg *s)
{
    return sizeof(*s) + (s->hole ? 0 : s->len);
}

static void seg_free(struct reasm_ctx *rc, struct half_stream *hs, struct reasm_seg *s)
{
    uint64_t c = seg_cost(s);
    hs->ooo_bytes -= c;
    rc->stats.buffered_now -= c;
    free(s);
}

/* Hands n bytes (p != NULL) or a gap of n bytes (p == NULL) to the sink
 * and advances the stream. */
static void deliver(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir,
                    const uint8_t *p, uint64_t n, const struct ft_meta *m,
                    const struct reasm_sink *sink)
{
    if (n == 0)
        return;
    if (hs->eof_sent) {
        /* Bytes beyond the FIN (or after a RST flushed the stream): the
         * stream is over for its consumer. */
        rc->stats.after_eof_bytes += n;
        hs->next_off += n;
        hs->next_seq += (uint32_t)n;
        return;
    }
    hs->next_off += n;
    hs->next_seq += (uint32_t)n;
    if (p) {
        hs->delivered += n;
        rc->stats.bytes_delivered += n;
        if (!hs->ignore && sink->data)
            sink->data(sink->user, dir, p, (size_t)n, m);
    } else {
        hs->gap_count++;
        hs->gap_bytes += n;
        rc->stats.gaps++;
        rc->stats.gap_bytes += n;
        if (!hs->ignore && sink->gap)
            sink->gap(sink->user, dir, n, m);
    }
}

static void gap_to(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir, uint64_t off,
                   const struct ft_meta *m, const struct reasm_sink *sink)
{
    if (off > hs->next_off)
        deliver(rc, hs, dir, NULL, off - hs->next_off, m, sink);
}

/* Delivers buffered segments that now line up with next_off. */
static void drain(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir,
                  const struct ft_meta *m, const struct reasm_sink *sink)
{
    struct reasm_seg *s;
    while ((s = hs->ooo) != NULL && s->off <= hs->next_off) {
        uint64_t end = s->off + s->len;
        hs->ooo = s->next;
        if (end > hs->next_off) {
            uint64_t skip = hs->next_off - s->off;
            deliver(rc, hs, dir, s->hole ? NULL : s->data + skip, end - hs->next_off, m, sink);
        }
        seg_free(rc, hs, s);
    }
}

static void check_eof(struct half_stream *hs, enum ft_dir dir, const struct ft_meta *m,
                      const struct reasm_sink *sink)
{
    if (hs->fin_seen && !hs->eof_sent && hs->next_off >= hs->fin_off) {
        hs->eof_sent = true;
        if (!hs->ignore && sink->eof)
            sink->eof(sink->user, dir, m);
    }
}

/* Declares the first hole a gap and delivers what follows it. */
static void flush_first_hole(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir,
                             const struct ft_meta *m, const struct reasm_sink *sink)
{
    if (!hs->ooo)
        return;
    gap_to(rc, hs, dir, hs->ooo->off, m, sink);
    drain(rc, hs, dir, m, sink);
}

static struct reasm_seg *seg_new(struct reasm_ctx *rc, struct half_stream *hs, uint64_t off,
                                 uint32_t len, const uint8_t *p)
{
    struct reasm_seg *s = malloc(sizeof(*s) + (p ? len : 0));
    if (!s) {
        rc->stats.alloc_failures++;
        return NULL;
    }
    s->next = NULL;
    s->off = off;
    s->len = len;
    s->hole = p == NULL;
    if (p)
        memcpy(s->data, p, len);
    hs->ooo_bytes += seg_cost(s);
    rc->stats.buffered_now += seg_cost(s);
    if (rc->stats.buffered_now > rc->stats.buffered_peak)
        rc->stats.buffered_peak = rc->stats.buffered_now;
    return s;
}

/* Buffers [off, off+len) (bytes p, or a hole when p is NULL), keeping
 * whatever is already buffered where they overlap. */
static void insert_range(struct reasm_ctx *rc, struct half_stream *hs, uint64_t off, uint32_t len,
                         const uint8_t *p)
{
    struct reasm_seg **pp = &hs->ooo;
    uint64_t pos = off, end = off + len;
    bool overlapped = false, conflict = false;

    while (pos < end) {
        struct reasm_seg *cur = *pp;
        if (cur && cur->off + cur->len <= pos) {
            pp = &cur->next;
            continue;
        }
        if (!cur || cur->off > pos) {
            uint64_t piece_end = (!cur || cur->off >= end) ? end : cur->off;
            struct reasm_seg *s =
                seg_new(rc, hs, pos, (uint32_t)(piece_end - pos), p ? p + (pos - off) : NULL);
            if (s) {
                s->next = cur;
                *pp = s;
                pp = &s->next;
            }
            pos = piece_end;
            continue;
        }
        /* cur covers pos: the buffered bytes win. */
        uint64_t ov_end = cur->off + cur->len < end ? cur->off + cur->len : end;
        overlapped = true;
        if (p && !cur->hole &&
            memcmp(p + (pos - off), cur->data + (pos - cur->off), (size_t)(ov_end - pos)) != 0)
            conflict = true;
        pos = ov_end;
        pp = &cur->next;
    }
    if (overlapped) {
        hs->overlaps++;
        rc->stats.overlap_segments++;
    }
    if (conflict) {
        hs->conflicts++;
        rc->stats.overlap_conflicts++;
    }
}

/* When the receiver acknowledged past a hole and later data waits, the
 * hole will never be filled: the sender is not going to resend it. */
static void ack_flush(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir,
                      const struct ft_meta *m, const struct reasm_sink *sink)
{
    while (hs->ooo && hs->peer_ack_valid && hs->peer_ack_off > hs->next_off) {
        if (hs->ooo->off <= hs->peer_ack_off) {
            flush_first_hole(rc, hs, dir, m, sink);
        } else {
            gap_to(rc, hs, dir, hs->peer_ack_off, m, sink);
            break;
        }
    }
}

void reasm_start_syn(struct half_stream *hs, uint32_t isn)
{
    if (hs->started)
        return;
    hs->started = true;
    hs->next_seq = isn + 1;
    hs->next_off = 0;
}

void reasm_segment(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir, uint32_t seq,
                   const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                   const struct ft_meta *m, const struct reasm_sink *sink)
{
    int32_t rel;
    int64_t off;

    if (caplen > wirelen)
        caplen = wirelen;
    if (wirelen == 0)
        return;
    rc->stats.segments++;
    if (!hs->started) {
        hs->started = true;
        hs->next_seq = seq;
        hs->next_off = 0;
    }
    rel = (int32_t)(seq - hs->next_seq);
    if (rel > 0 && (uint32_t)rel > BOGUS_AHEAD) {
        rc->stats.bogus_seq++;
        return;
    }
    off = (int64_t)hs->next_off + rel;
    if (off + (int64_t)wirelen > (int64_t)hs->seen_end)
        hs->seen_end = (uint64_t)(off + (int64_t)wirelen);
    if (off + (int64_t)wirelen <= (int64_t)hs->next_off) {
        hs->retransmits++;
        rc->stats.retransmitted_segments++;
        return;
    }
    if (off < (int64_t)hs->next_off) {
        uint64_t trim = hs->next_off - (uint64_t)off;
        uint32_t dtrim = trim < caplen ? (uint32_t)trim : caplen;
        data += dtrim;
        caplen -= dtrim;
        wirelen -= (uint32_t)trim;
        off = (int64_t)hs->next_off;
        hs->overlaps++;
        rc->stats.overlap_segments++;
    }
    if (hs->ignore) {
        /* Nobody listens: keep the offsets moving, buffer nothing. */
        hs->next_seq += (uint32_t)((uint64_t)off + wirelen - hs->next_off);
        hs->next_off = (uint64_t)off + wirelen;
        hs->delivered += caplen;
        return;
    }
    if ((uint64_t)off == hs->next_off && hs->ooo && hs->ooo->off < (uint64_t)off + wirelen) {
        /* In order, but running into data buffered earlier: deliver the
         * part before it from the packet, and let the buffered bytes win
         * where the two overlap (first data wins). */
        uint64_t cut = hs->ooo->off - (uint64_t)off;
        uint32_t dcut = cut < caplen ? (uint32_t)cut : caplen;
        deliver(rc, hs, dir, data, dcut, m, sink);
        deliver(rc, hs, dir, NULL, cut - dcut, m, sink);
        if (caplen > dcut)
            insert_range(rc, hs, hs->next_off, caplen - dcut, data + dcut);
        if (wirelen > caplen && (uint64_t)off + caplen >= hs->next_off)
            insert_range(rc, hs, (uint64_t)off + caplen, wirelen - caplen, NULL);
        else if (wirelen > caplen)
            insert_range(rc, hs, hs->next_off, (uint32_t)((uint64_t)off + wirelen - hs->next_off),
                         NULL);
        drain(rc, hs, dir, m, sink);
        check_eof(hs, dir, m, sink);
        return;
    }
    if ((uint64_t)off == hs->next_off) {
        /* In order: deliver straight from the packet. */
        deliver(rc, hs, dir, data, caplen, m, sink);
        deliver(rc, hs, dir, NULL, wirelen - caplen, m, sink);
        drain(rc, hs, dir, m, sink);
        check_eof(hs, dir, m, sink);
        return;
    }

    hs->out_of_order++;
    rc->stats.out_of_order_segments++;
    if (caplen > 0)
        insert_range(rc, hs, (uint64_t)off, caplen, data);
    if (wirelen > caplen)
        insert_range(rc, hs, (uint64_t)off + caplen, wirelen - caplen, NULL);

    while (hs->ooo && hs->ooo_bytes > rc->max_stream_bytes) {
        rc->stats.forced_flushes_stream++;
        flush_first_hole(rc, hs, dir, m, sink);
    }
    while (hs->ooo && rc->stats.buffered_now > rc->max_total_bytes) {
        rc->stats.forced_flushes_total++;
        flush_first_hole(rc, hs, dir, m, sink);
    }
    ack_flush(rc, hs, dir, m, sink);
    check_eof(hs, dir, m, sink);
}

void reasm_ack(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir, uint32_t ack,
               const struct ft_meta *m, const struct reasm_sink *sink)
{
    int32_t rel;
    uint64_t a, ahead;

    if (!hs->started)
        return;
    rel = (int32_t)(ack - hs->next_seq);
    if (rel <= 0 || (uint32_t)rel > BOGUS_AHEAD)
        return;
    a = hs->next_off + (uint64_t)rel;
    ahead = hs->peer_window < REASM_ACK_AHEAD_MIN   ? REASM_ACK_AHEAD_MIN
            : hs->peer_window > REASM_ACK_AHEAD_MAX ? REASM_ACK_AHEAD_MAX
                                                    : hs->peer_window;
    if (a > hs->seen_end + ahead) {
        rc->stats.implausible_acks++;
        return;
    }
    if (hs->fin_seen && a > hs->fin_off)
        a = hs->fin_off; /* the FIN takes a sequence number but no byte */
    if (!hs->peer_ack_valid || a > hs->peer_ack_off) {
        hs->peer_ack_off = a;
        hs->peer_ack_valid = true;
    }
    ack_flush(rc, hs, dir, m, sink);
    check_eof(hs, dir, m, sink);
}

void reasm_fin(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir, uint32_t seq,
               const struct ft_meta *m, const struct reasm_sink *sink)
{
    int32_t rel;
    (void)rc;
    if (!hs->started) {
        hs->started = true;
        hs->next_seq = seq;
        hs->next_off = 0;
    }
    if (hs->fin_seen)
        return;
    rel = (int32_t)(seq - hs->next_seq);
    if (rel > 0 && (uint32_t)rel > BOGUS_AHEAD)
        return;
    hs->fin_seen = true;
    hs->fin_off = rel < 0 ? hs->next_off : hs->next_off + (uint64_t)rel;
    if (hs->fin_off + 1 > hs->seen_end)
        hs->seen_end = hs->fin_off + 1;
    check_eof(hs, dir, m, sink);
}

void reasm_flush(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir,
                 const struct ft_meta *m, const struct reasm_sink *sink)
{
    while (hs->ooo)
        flush_first_hole(rc, hs, dir, m, sink);
    /* Acknowledged but never captured is a gap -- except one sequence
     * number past the data with no FIN seen: that is the FIN the capture
     * missed (or saw out of order), not a lost byte. */
    if (hs->peer_ack_valid && !(hs->peer_ack_off == hs->next_off + 1 && !hs->fin_seen))
        gap_to(rc, hs, dir, hs->peer_ack_off, m, sink);
    if (hs->fin_seen)
        gap_to(rc, hs, dir, hs->fin_off, m, sink);
    if (!hs->eof_sent) {
        hs->eof_sent = true;
        if (!hs->ignore && sink->eof)
            sink->eof(sink->user, dir, m);
    }
}

void reasm_release(struct reasm_ctx *rc, struct half_stream *hs)
{
    while (hs->ooo) {
        struct reasm_seg *s = hs->ooo;
        hs->ooo = s->next;
        seg_free(rc, hs, s);
    }
}
