/*
 * reasm.h - TCP reassembly of one direction of a connection.
 *
 * A half_stream turns segments, in whatever order the capture shows them,
 * into an in-order byte stream handed to a consumer through three
 * callbacks: data, gap (bytes that were never captured) and eof.
 *
 * Policy (documented in README): first data wins.  Bytes already delivered
 * or already buffered are never replaced by a later copy of the same
 * sequence range; retransmissions and overlaps are counted, and an overlap
 * whose bytes differ from what is buffered is counted as a conflict.
 *
 * In-order data is delivered straight from the packet buffer (no copy).
 * Only segments that arrive ahead of a hole are copied, and their total is
 * bounded per direction and across all streams: when a cap bites, the hole
 * is declared a gap and the buffered data is delivered.  A hole is also
 * declared a gap when the receiver has acknowledged past it while later
 * data waits, or when the stream is flushed (FIN/RST reached, idle timeout,
 * eviction, end of input).
 *
 * Sequence numbers are 32-bit and wrap; offsets inside the stream are
 * 64-bit, counted from the first byte after the SYN (or from the first
 * segment seen when the capture started mid-connection).
 */
#ifndef FT_REASM_H
#define FT_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta.h"

/* Where reassembled data goes.  Every callback receives the meta of the
 * segment that completed the delivery. */
struct reasm_sink {
    void (*data)(void *user, enum ft_dir dir, const uint8_t *p, size_t n,
                 const struct ft_meta *m);
    void (*gap)(void *user, enum ft_dir dir, uint64_t nbytes, const struct ft_meta *m);
    void (*eof)(void *user, enum ft_dir dir, const struct ft_meta *m);
    void *user;
};

/* Limits and counters shared by every half_stream of a run. */
struct reasm_stats {
    uint64_t segments;          /* segments carrying data (or a snaplen-cut part) */
    uint64_t bytes_delivered;
    uint64_t retransmitted_segments; /* wholly old data */
    uint64_t overlap_segments;  /* partly old, or overlapping buffered data */
    uint64_t overlap_conflicts; /* overlaps whose bytes differed (first kept) */
    uint64_t out_of_order_segments;
    uint64_t gaps, gap_bytes;
    uint64_t forced_flushes_stream; /* per-stream buffer cap bit */
    uint64_t forced_flushes_total;  /* global buffer cap bit */
    uint64_t bogus_seq;         /* segments more than 1 GiB ahead: ignored */
    uint64_t implausible_acks;  /* ACKs beyond any window past the data seen: ignored */
    uint64_t after_eof_bytes;   /* data beyond the FIN or after a reset: not delivered */
    uint64_t buffered_now, buffered_peak;
    uint64_t alloc_failures;
};

struct reasm_ctx {
    uint64_t max_stream_bytes; /* buffered out-of-order bytes per direction */
    uint64_t max_total_bytes;  /* buffered out-of-order bytes over all streams */
    struct reasm_stats stats;
};

struct reasm_seg;

struct half_stream {
    bool started;          /* next_seq is meaningful */
    bool ignore;           /* consumer lost interest: account only */
    bool fin_seen, eof_sent;
    bool peer_ack_valid;
    uint32_t next_seq;     /* sequence number of next_off */
    uint64_t next_off;     /* stream offset of the next byte to deliver */
    uint64_t fin_off;      /* stream offset of the FIN */
    uint64_t peer_ack_off; /* highest offset the receiver acknowledged */
    uint64_t seen_end;     /* highest offset any segment (or the FIN) reached */
    uint32_t peer_window;  /* receiver's last advertised window, scaled (bytes);
                              set by the TCP layer before reasm_ack() */
    struct reasm_seg *ooo; /* buffered segments, sorted, non-overlapping */
    uint64_t ooo_bytes;
    /* per-direction counters, reported with the connection */
    uint64_t delivered;    /* bytes handed to the consumer */
    uint64_t gap_count, gap_bytes;
    uint64_t retransmits, overlaps, conflicts, out_of_order;
};

/* Starts the stream at an initial sequence number from a SYN: data begins
 * at isn + 1.  Ignored when the stream already started. */
void reasm_start_syn(struct half_stream *hs, uint32_t isn);

/* Feeds one segment: `caplen` bytes of `wirelen` captured (wirelen > caplen
 * when the snapshot length cut it: the missing tail becomes a gap).  A
 * stream not yet started begins at this segment (mid-stream pickup). */
void reasm_segment(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir, uint32_t seq,
                   const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                   const struct ft_meta *m, const struct reasm_sink *sink);

/* An ACK may run ahead of the data the capture saw by at most the
 * receiver's window, taken between these bounds: the floor lets a
 * capture that lost a few MiB still declare the gap, the ceiling stops one
 * forged window from making any ACK plausible. */
#define REASM_ACK_AHEAD_MIN (UINT32_C(4) << 20)
#define REASM_ACK_AHEAD_MAX (UINT32_C(64) << 20)

/* The receiver of this direction acknowledged everything before `ack`.
 * An ACK more than the window (see above) past seen_end is counted as
 * implausible and ignored: it would otherwise declare a gap of bytes that
 * no window let the sender have in flight. */
void reasm_ack(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir, uint32_t ack,
               const struct ft_meta *m, const struct reasm_sink *sink);

/* A FIN was seen at sequence number `seq` (after any payload it carries). */
void reasm_fin(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir, uint32_t seq,
               const struct ft_meta *m, const struct reasm_sink *sink);

/* Delivers everything still buffered, declaring holes as gaps (and a gap
 * for data the receiver acknowledged but the capture never showed), then
 * eof once.  Used on RST, timeout, eviction and end of input. */
void reasm_flush(struct reasm_ctx *rc, struct half_stream *hs, enum ft_dir dir,
                 const struct ft_meta *m, const struct reasm_sink *sink);

/* Frees buffered segments without delivering them. */
void reasm_release(struct reasm_ctx *rc, struct half_stream *hs);

#endif
