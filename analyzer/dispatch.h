/*
 * dispatch.h - binds the dissectors in dissectors/ to the pipeline's hooks
 * and forwards the facts they find to one sink.
 *
 * The pipeline only knows struct stream_dissector / datagram_dissector;
 * the dissectors only know bytes and metas.  This module owns the per-flow
 * dissector objects (one xmpp_conn per XMPP connection, two DNS-over-TCP
 * framers per DNS connection), the run's DNS transaction tracker, and
 * hands every XMPP event and every finished DNS lookup to the fact sink
 * (the correlator and the output).
 */
#ifndef FT_DISPATCH_H
#define FT_DISPATCH_H

#include "dissect.h"
#include "dissectors/dns.h"
#include "dissectors/xmpp.h"

struct fact_sink {
    /* One XMPP protocol event of a connection; `ev` lives for the call. */
    void (*xmpp_event)(void *user, const struct flow_info *fi, const struct xmpp_event *ev);
    /* One finished DNS lookup; `lk` lives for the call. */
    void (*dns_lookup)(void *user, const struct dns_lookup *lk);
    void *user;
};

struct dispatch_stats {
    uint64_t xmpp_connections;
    uint64_t xmpp_events;
    uint64_t dns_messages;
    uint64_t dns_parse_errors;
    uint64_t alloc_failures;
};

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
 * free).  `xmpp_cfg` may be NULL for the defaults. */
int dispatch_init(struct dispatch *d, const struct xmpp_config *xmpp_cfg,
                  const struct fact_sink *sink);

/* Fills `set` with this dispatch's dissectors and hooks. */
void dispatch_bind(struct dispatch *d, struct dissector_set *set);

/* Frees the tracker.  Call after the pipeline finished. */
void dispatch_free(struct dispatch *d);

#endif
