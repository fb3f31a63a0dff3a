/*
 * flow.h - the flow table: one entry per bidirectional 5-tuple.
 *
 * Lookup is a hash table sized from the flow cap (power of two, at least
 * twice the cap), keyed by the 5-tuple with the lower endpoint first so
 * both directions find the same entry, and hashed with a per-table seed so
 * crafted traffic cannot pile flows into one bucket.
 *
 * Every flow sits on exactly one timeout list (unestablished TCP,
 * established TCP, closed TCP, UDP), each kept in least-recently-used
 * order with one idle timeout, so expiry only ever looks at list heads.
 * Time is packet time.  When the table is full, the idlest flow over all
 * lists is evicted and counted.  Ending a flow (timeout, eviction, end of
 * input) goes through the table's end callback before the memory is freed.
 */
#ifndef FT_FLOW_H
#define FT_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "dissect.h"
#include "facts.h"
#include "tcp.h"

enum flow_list {
    FLOW_LIST_NEW = 0,  /* TCP, not established */
    FLOW_LIST_EST,      /* TCP, established or mid-stream */
    FLOW_LIST_CLOSED,   /* TCP, RST or both FINs */
    FLOW_LIST_UDP,
    FLOW_LIST_COUNT
};

/* enum flow_end_reason and struct flow_stats live in facts.h: they reach
 * the correlator and the output as part of the facts. */

struct flow_key {
    struct ft_addr lo_addr, hi_addr;
    uint16_t lo_port, hi_port;
    uint8_t proto;
    uint8_t pad[3]; /* zeroed: keys are compared and hashed as bytes */
};

struct flow {
    struct flow *hnext;               /* hash chain */
    struct flow *lprev, *lnext;       /* timeout list */
    uint8_t list;                     /* enum flow_list */
    struct flow_key key;
    struct flow_info info;            /* id, endpoints by direction, app */
    bool lo_is_orig;                  /* key.lo is the originator */
    int64_t first_ns, last_ns;
    uint64_t first_frame, last_frame;
    uint32_t source;                  /* capture source of the first packet */
    struct ft_meta last_meta;         /* the flow's latest packet */

    struct tcp_conn tcp;              /* TCP only */

    /* Dissector attachment (pipeline.c). */
    const struct stream_dissector *dis;
    void *dis_state;
    uint8_t sniff[2][64];             /* first bytes per direction while undecided */
    uint8_t sniff_len[2];
    bool idle_told;                   /* flow_for_idle called back since the last touch */
};

struct flow_config {
    uint32_t max_flows;
    int64_t timeout_ns[FLOW_LIST_COUNT];
};

typedef void (*flow_end_fn)(void *user, struct flow *f, enum flow_end_reason why,
                            const struct ft_meta *m);

struct flow_table;

/* Creates a table; `on_end` is called for each flow before it is freed.
 * NULL on allocation failure.  Free with flow_table_free(). */
struct flow_table *flow_table_new(const struct flow_config *cfg, flow_end_fn on_end, void *user);

/* Ends every flow (reason FLOW_END_INPUT), oldest first. */
void flow_end_all(struct flow_table *t, const struct ft_meta *m);

/* Ends every flow and frees the table.  NULL is fine. */
void flow_table_free(struct flow_table *t, const struct ft_meta *m);

/* Finds the flow of a packet, or creates it (evicting the idlest flow when
 * full).  *dir tells which way the packet travels.  The first packet
 * decides the originator: the sender of a SYN, the receiver of a SYN-ACK,
 * otherwise the side not on a service port (`is_service_port`), otherwise
 * the sender.  NULL only on allocation failure. */
struct flow *flow_get(struct flow_table *t, uint8_t proto, const struct ft_addr *src,
                      uint16_t sport, const struct ft_addr *dst, uint16_t dport,
                      uint8_t tcp_flags, bool (*is_service_port)(void *, uint16_t),
                      void *port_user, const struct ft_meta *m, enum ft_dir *dir);

/* Records activity at packet time m->ts_ns and moves the flow to `list`. */
void flow_touch(struct flow_table *t, struct flow *f, enum flow_list list, const struct ft_meta *m);

/* Ends flows idle for longer than their list's timeout at time now_ns. */
void flow_expire(struct flow_table *t, int64_t now_ns, const struct ft_meta *m);

/* Calls fn once for each flow on `list` that has been idle for longer than
 * idle_ns at time now_ns and not been reported idle since it was last
 * touched.  Walks from the idlest flow and stops at the first busy one;
 * fn must not end or touch flows. */
void flow_for_idle(struct flow_table *t, enum flow_list list, int64_t now_ns, int64_t idle_ns,
                   void (*fn)(void *user, struct flow *f), void *user);

/* Ends one flow now. */
void flow_end(struct flow_table *t, struct flow *f, enum flow_end_reason why,
              const struct ft_meta *m);

const struct flow_stats *flow_table_stats(const struct flow_table *t);

/* The connection record of a TCP flow as it stands: identity, times and
 * the TCP facts.  `why` is kept only for phase CONN_END. */
void flow_conn_record(const struct flow *f, enum conn_phase phase, enum flow_end_reason why,
                      struct conn_record *out);

#endif
