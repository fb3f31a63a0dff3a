/*
 * corr_nat.h - one connection seen twice: on both sides of a NAT, or at
 * two capture points whose clocks differ.  Pairs rest on evidence (the
 * same initial sequence number, stream id or stanzas), never on proximity
 * alone; the clock offset between two capture points is estimated from
 * the connections both saw and applied to pairing and timeline order.
 */
#ifndef FT_CORR_NAT_H
#define FT_CORR_NAT_H

#include "corr_store.h"

/* Capture sources the correlator tells apart (the rest share source 63's
 * clock). */
#define CORR_MAX_SOURCES 64
/* SYN time differences kept per pair of capture points (the median of
 * these is the offset; later pairs are only counted). */
#define CLOCK_SAMPLES 63

/* SYN time at capture point b minus at a (a < b), for connections both
 * saw.  Owned by the correlator. */
struct clock_pair {
    uint32_t a, b;
    uint64_t pairs;                   /* evidence pairs found (all, kept or not) */
    unsigned n;
    int64_t sample[CLOCK_SAMPLES];
};

/* The clock of each capture point against the reference one. */
struct clock_book {
    struct clock_pair *pairs;         /* owned */
    unsigned npairs, cappairs;
    int64_t offset_ns[CORR_MAX_SOURCES]; /* subtract to get the reference clock */
    uint32_t reference[CORR_MAX_SOURCES];
    uint64_t evidence[CORR_MAX_SOURCES]; /* pairs the offset rests on */
    bool known[CORR_MAX_SOURCES];
    bool applied;                     /* some offset is large enough to apply */
};

void clock_book_free(struct clock_book *b);

/* Adds the SYN time differences of connections both capture points saw
 * (same initial sequence number, one endpoint in common, not ambiguous)
 * and re-estimates every offset.  Each connection counts once. */
void nat_estimate_clocks(struct correlator *c);
/* The offset applied to capture source `source` (0 when none). */
int64_t nat_offset(const struct correlator *c, uint32_t source);
/* A time of capture source `source` on the reference clock. */
int64_t nat_clock(const struct correlator *c, uint32_t source, int64_t ts_ns);
/* Whether the clocks of capture sources a and b are known against each
 * other (both estimated against one reference, or the same source): then
 * nat_clock() puts their times on one clock, within the estimate's error
 * (offsets under CLOCK_MIN_NS are not applied). */
bool nat_clocks_linked(const struct correlator *c, uint32_t a, uint32_t b);
/* Pairs the views of one connection across a NAT (nat_peer, secondary). */
void identity_pair_nat(struct correlator *c);
bool conn_same_endpoint(const struct cconn *a, int da, const struct cconn *b, int db);

#endif
