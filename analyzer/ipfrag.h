/*
 * ipfrag.h - IPv4 and IPv6 fragment reassembly.
 *
 * Large EDNS DNS answers arrive fragmented, so fragments are put back
 * together before transport decoding.  The table is bounded: at most
 * max_datagrams datagrams in progress and max_bytes buffered in total;
 * when a cap bites the oldest datagram is dropped and counted.  Overlapping
 * IPv4 fragments keep the bytes that arrived first (first-data-wins, the
 * same policy as TCP reassembly) and are counted.  Overlapping IPv6
 * fragments discard the whole datagram, silently, with every fragment of
 * it that is still to come (RFC 5722, RFC 8200 4.5): counted in
 * overlap_discarded.  Time is packet time.
 */
#ifndef FT_IPFRAG_H
#define FT_IPFRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct ipfrag_config {
    uint32_t max_datagrams; /* datagrams in progress at once */
    uint64_t max_bytes;     /* bytes buffered across all of them */
    int64_t timeout_ns;     /* a datagram not completed within this is dropped */
};

struct ipfrag_stats {
    uint64_t fragments;     /* fragments offered */
    uint64_t completed;     /* datagrams reassembled */
    uint64_t timed_out;     /* datagrams dropped incomplete after the timeout */
    uint64_t evicted;       /* datagrams dropped because a cap bit */
    uint64_t overlaps;      /* fragments that overlapped data already held
                               (or belong to a discarded IPv6 datagram) */
    uint64_t overlap_discarded; /* IPv6 datagrams discarded for an overlap */
    uint64_t invalid;       /* beyond 65535 bytes, conflicting last fragment, ... */
    uint64_t datagrams_now; /* in progress right now */
    uint64_t bytes_now;     /* buffered right now */
};

struct ipfrag_table;

/* Creates an empty table; NULL on allocation failure.  Free with ipfrag_free(). */
struct ipfrag_table *ipfrag_new(const struct ipfrag_config *cfg);

/* Frees the table and everything it holds.  NULL is fine. */
void ipfrag_free(struct ipfrag_table *t);

/* Offers one fragment: `data` holds `len` bytes of the original datagram's
 * payload starting at byte `offset`; `more` is the MF flag.  Returns true
 * when this fragment completed the datagram: *out and *out_len then give
 * the whole transport payload, owned by the table and valid until the next
 * ipfrag_add() call.  The id is 16-bit for IPv4 and 32-bit for IPv6. */
bool ipfrag_add(struct ipfrag_table *t, const struct ft_addr *src, const struct ft_addr *dst,
                uint8_t proto, uint32_t id, uint32_t offset, bool more, const uint8_t *data,
                uint32_t len, int64_t now_ns, const uint8_t **out, uint32_t *out_len);

/* Drops datagrams older than the timeout at packet time now_ns. */
void ipfrag_expire(struct ipfrag_table *t, int64_t now_ns);

const struct ipfrag_stats *ipfrag_stats(const struct ipfrag_table *t);

#endif
