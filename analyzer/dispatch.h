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
 */
#ifndef FT_DISPATCH_H
#define FT_DISPATCH_H

#include "dissect.h"
#include "facts.h"
#include "dissectors/dns.h"
#include "dissectors/xmpp.h"

/* struct dispatch_stats lives in facts.h (part of the stats snapshot). */

struct dispatch {
    struct fact_sink sink;
    struct xmpp_config xmpp_cfg;
    struct dns_tracker *dns;        /* owned */
    struct dns_stats dns_parse;     /* per-error parse counters */
    struct dns_msg *dns_msg;        /* owned: parse buffer reused for every message */
    struct stream_dissector xmpp_ops, dns_tcp_ops;
    struct datagram_dissector dns_udp_ops;
    struct dispatch_stats stats;
};

/* Sets up the dissectors.  0, or -1 on allocation failure (nothing to
 * free).  `xmpp_cfg` may be NULL for the defaults; `sink` (copied, may be
 * NULL) receives XMPP events and DNS lookups. */
int dispatch_init(struct dispatch *d, const struct xmpp_config *xmpp_cfg,
                  const struct fact_sink *sink);

/* Fills `set` with this dispatch's dissectors and hooks. */
void dispatch_bind(struct dispatch *d, struct dissector_set *set);

/* Fills the dissectors' part of a stats snapshot (dispatch, DNS parse
 * and tracker counters). */
void dispatch_snapshot(const struct dispatch *d, struct stats_snapshot *snap);

/* Frees the tracker.  Call after the pipeline finished. */
void dispatch_free(struct dispatch *d);

#endif
