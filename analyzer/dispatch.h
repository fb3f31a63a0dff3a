/*
 * dispatch.h - binds the dissectors in dissectors/ to the pipeline's hooks
 * and forwards the facts they find to one sink.
 *
 * The pipeline only knows struct stream_dissector / datagram_dissector;
 * the dissectors only know bytes and metas.  This module owns the per-flow
 * dissector objects (one xmpp_conn per XMPP connection, two DNS-over-TCP
 * framers per DNS connection), the run's DNS transaction tracker, and
 * hands every XMPP event and every finished DNS lookup to the fact sink
 * (facts.h: the correlator and the output).
 *
 * Per-flow dissector state is bounded by one byte budget (default
 * DISPATCH_STATE_BUDGET) like reassembly buffers are: every byte an XMPP
 * connection (struct, expat parsers, strings, TLS reader and decryptor) or a DNS-over-TCP
 * connection (struct, message buffers) holds is charged to it.  When less
 * than DISPATCH_OPEN_RESERVE is left, a new connection gets no dissector
 * (the pipeline then keeps its TCP facts only) and `state_cap` counts it;
 * connections already dissected keep going, and an allocation the budget
 * refuses inside one ends that direction's parsing (`state_refused`).
 * Refusing newcomers rather than closing the idlest keeps the connections
 * already being followed intact under a flood of new ones; the flow table
 * still evicts the idlest flows (and frees their state) when it is full.
 */
#ifndef FT_DISPATCH_H
#define FT_DISPATCH_H

#include "budget.h"
#include "dissect.h"
#include "facts.h"
#include "dissectors/dns.h"
#include "dissectors/xmpp.h"

#define DISPATCH_STATE_BUDGET (48u * 1024 * 1024) /* default, bytes */
#define DISPATCH_OPEN_RESERVE (64u * 1024)        /* room a new connection needs */

/* struct dispatch_stats lives in facts.h (part of the stats snapshot). */

struct dispatch {
    struct fact_sink sink;
    struct xmpp_config xmpp_cfg;
    struct xmpp_pool *xmpp_pool;    /* owned: parsers the XMPP connections share */
    struct dns_tracker *dns;        /* owned */
    struct dns_stats dns_parse;     /* per-error parse counters */
    struct dns_msg *dns_msg;        /* owned: parse buffer reused for every message */
    struct stream_dissector xmpp_ops, dns_tcp_ops;
    struct datagram_dissector dns_udp_ops;
    struct dispatch_stats stats;
    struct mem_budget state;        /* every per-flow dissector byte; see above.
                                       state.refused: allocations refused inside
                                       running dissectors */
};

/* Sets up the dissectors.  0, or -1 on allocation failure (nothing to
 * free).  `xmpp_cfg` may be NULL for the defaults; `sink` (copied, may be
 * NULL) receives XMPP events and DNS lookups. */
int dispatch_init(struct dispatch *d, const struct xmpp_config *xmpp_cfg,
                  const struct fact_sink *sink);

/* Sets the dissector state budget in bytes (0 = unlimited).  Call after
 * dispatch_init, before the first packet. */
void dispatch_set_state_limit(struct dispatch *d, size_t bytes);

/* Fills `set` with this dispatch's dissectors and hooks. */
void dispatch_bind(struct dispatch *d, struct dissector_set *set);

/* Fills the dissectors' part of a stats snapshot (dispatch, DNS parse
 * and tracker counters). */
void dispatch_snapshot(const struct dispatch *d, struct stats_snapshot *snap);

/* Frees the tracker.  Call after the pipeline finished. */
void dispatch_free(struct dispatch *d);

#endif
