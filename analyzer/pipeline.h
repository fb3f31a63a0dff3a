/*
 * pipeline.h - decode -> flow table -> TCP reassembly -> dissectors.
 *
 * struct pipeline is the analysis context: everything a run needs lives
 * here or hangs off it (no globals).  The capture layer calls
 * pipeline_packet() for each frame in time order, then pipeline_finish().
 * Facts go to one struct fact_sink (facts.h): connection records (when the
 * handshake moves and when the connection ends), packet time (on_time), and
 * through the dissectors XMPP events and DNS lookups.
 * Nothing here allocates per packet on the common path: flows are
 * allocated when they start, and only out-of-order TCP data is copied.
 */
#ifndef FT_PIPELINE_H
#define FT_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "dissect.h"
#include "facts.h"
#include "flow.h"
#include "ipfrag.h"
#include "reasm.h"

struct pipeline_config {
    struct port_set xmpp_ports;      /* ports that mean XMPP (responder side) */
    bool verify_checksums;
    struct flow_config flows;
    uint64_t max_stream_buffer;      /* out-of-order bytes per direction */
    uint64_t max_total_buffer;       /* out-of-order bytes in all */
    struct ipfrag_config frags;
};

/* Sets the defaults documented in fedtrace(1). */
void pipeline_config_default(struct pipeline_config *cfg);

struct pipeline {
    struct pipeline_config cfg;
    struct decoder dec;
    struct ipfrag_table *frags;      /* owned */
    struct flow_table *flows;        /* owned */
    struct reasm_ctx reasm;
    struct dissector_set dissectors; /* not owned */
    struct fact_sink facts;          /* where records and time go */
    struct pipeline_stats stats;
    struct flow_stats flow_stats;    /* copied from the table at finish */
    int64_t next_housekeeping_ns;
    struct ft_meta last_meta;
    bool have_packets;
    int64_t clock_ns;                /* packet time last handed to facts.on_time */
};

/* Sets up a pipeline.  `facts` (copied; may be NULL) receives a record of
 * every TCP connection that matters (an XMPP or DNS port, or XMPP found by
 * content) and packet time.  0 on success, -1 on allocation failure
 * (nothing to free then).  Tear down with pipeline_destroy(). */
int pipeline_init(struct pipeline *pl, const struct pipeline_config *cfg,
                  const struct dissector_set *dissectors, const struct fact_sink *facts);

/* Processes one frame.  `m` gives its numbers and time. */
void pipeline_packet(struct pipeline *pl, int linktype, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen, const struct ft_meta *m);

/* Moves packet time on to now_ns with no packet (a live capture's
 * wall-clock tick on an idle link): facts.on_time and the timeouts run as
 * a packet of that time would make them.  Nothing when time would not
 * move forward or after pipeline_finish(). */
void pipeline_advance(struct pipeline *pl, int64_t now_ns);

/* Ends every flow (flushing reassembly, closing dissectors, reporting
 * connections).  Call once after the last packet. */
void pipeline_finish(struct pipeline *pl);

/* Fills the pipeline's part of a stats snapshot (times, decode, IP
 * fragments, flows, reassembly, per-packet counters). */
void pipeline_snapshot(const struct pipeline *pl, struct stats_snapshot *snap);

/* Frees what pipeline_init() allocated.  Calls pipeline_finish() if needed. */
void pipeline_destroy(struct pipeline *pl);

#endif
