/*
 * pipeline.h - decode -> flow table -> TCP reassembly -> dissectors.
 *
 * struct pipeline is the analysis context: everything a run needs lives
 * here or hangs off it (no globals).  The capture layer calls
 * pipeline_packet() for each frame in time order, then pipeline_finish().
 * Finished connections are reported to the sink with all their TCP facts.
 * Nothing here allocates per packet on the common path: flows are
 * allocated when they start, and only out-of-order TCP data is copied.
 */
#ifndef FT_PIPELINE_H
#define FT_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "dissect.h"
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

/* Where finished connections go (the correlator and the output). */
struct pipeline_sink {
    /* Called once per TCP flow that matters (an XMPP or DNS port, or XMPP
     * found by content), after its dissector saw eof and was closed. */
    void (*conn_end)(void *user, const struct flow *f, enum flow_end_reason why);
    void *user;
};

struct pipeline_stats {
    uint64_t frames;
    uint64_t tcp_segments, udp_datagrams;
    uint64_t dns_datagrams;
    uint64_t ignored_udp;            /* UDP not to/from port 53 */
    uint64_t ignored_other;          /* neither TCP nor UDP */
    uint64_t flows_ignored;          /* TCP flows that were not ours */
    uint64_t flows_reported;
    uint64_t flows_xmpp, flows_xmpp_tls, flows_dns;
    uint64_t bytes_to_dissectors;
    int64_t first_ns, last_ns;
};

struct pipeline {
    struct pipeline_config cfg;
    struct decoder dec;
    struct ipfrag_table *frags;      /* owned */
    struct flow_table *flows;        /* owned */
    struct reasm_ctx reasm;
    struct dissector_set dissectors; /* not owned */
    struct pipeline_sink sink;
    struct pipeline_stats stats;
    struct flow_stats flow_stats;    /* copied from the table at finish */
    int64_t next_housekeeping_ns;
    struct ft_meta last_meta;
    bool have_packets;
};

/* Sets up a pipeline.  0 on success, -1 on allocation failure (nothing to
 * free then).  Tear down with pipeline_destroy(). */
int pipeline_init(struct pipeline *pl, const struct pipeline_config *cfg,
                  const struct dissector_set *dissectors, const struct pipeline_sink *sink);

/* Processes one frame.  `m` gives its numbers and time. */
void pipeline_packet(struct pipeline *pl, int linktype, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen, const struct ft_meta *m);

/* Ends every flow (flushing reassembly, closing dissectors, reporting
 * connections).  Call once after the last packet. */
void pipeline_finish(struct pipeline *pl);

/* Frees what pipeline_init() allocated.  Calls pipeline_finish() if needed. */
void pipeline_destroy(struct pipeline *pl);

#endif
