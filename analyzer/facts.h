/*
 * facts.h - the facts floor: plain value records the packet engine hands
 * to everything above it (the correlator, the output), and the one sink
 * interface they travel through.
 *
 *   capture -> decode -> flow/tcp/reasm -> dissectors
 *        |                  |                 |
 *        |            conn_record        xmpp_fact, dns_lookup
 *        +--- stats_snapshot (on request, at the end)
 *                           v
 *                   struct fact_sink (fan-out)
 *                     |             |
 *                correlator       output
 *
 * The records are values: no pointer into the flow table, the reassembler
 * or a dissector survives the callback that hands them over.  Modules
 * above this floor include facts.h and verdict.h, never flow.h, tcp.h,
 * pipeline.h, dispatch.h or capture.h.
 *
 * When a connection record is emitted.  The pipeline emits a record for
 * every TCP connection that matters (an XMPP or DNS port, or XMPP found by
 * content) when it leaves the flow table (phase CONN_END: timeout, eviction,
 * port reuse, end of input), with every counter final.  It also emits a
 * snapshot record when the handshake moves (CONN_SYN for the first SYN and
 * each retransmission, CONN_SYNACK, CONN_RST, CONN_FIN for the second FIN),
 * so a streaming judge can decide "reset" or "the last SYN was never
 * answered" at packet time: a RST'd flow stays in the table for the
 * close delay and an unanswered SYN for the handshake timeout, too late
 * for a verdict stamped with its decision time.  Consumers that only want
 * finished connections ignore every phase but CONN_END.
 *
 * Time.  on_time(now) is called whenever packet time moves forward, before
 * any fact stamped with `now` (a live capture may add a wall-clock tick
 * later).  Timers set on packet time fire from there.
 */
#ifndef FT_FACTS_H
#define FT_FACTS_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "decode.h"
#include "dissect.h"
#include "ipfrag.h"
#include "meta.h"
#include "reasm.h"
#include "dissectors/dns.h"
#include "dissectors/xmpp.h"

/* Where and when something was seen: enough to find the frame again. */
struct frame_ref {
    uint64_t frame;     /* 0 = never seen */
    uint64_t src_frame;
    uint32_t source;
    int64_t ts_ns;
};

/* The frame_ref of a meta. */
struct frame_ref frame_ref_of(const struct ft_meta *m);

/* ---- connections --------------------------------------------------------- */

#define FACT_MAX_SYN_TIMES 8   /* SYN transmissions whose time is kept */
#define FACT_HISTORY_LEN 21    /* Zeek history letters (2 x 10) + NUL */

/* Why a connection left the flow table. */
enum flow_end_reason {
    FLOW_END_TIMEOUT,
    FLOW_END_EVICTED,   /* the flow cap bit */
    FLOW_END_REUSED,    /* a new SYN on the 5-tuple of a closed connection */
    FLOW_END_INPUT,     /* end of the capture */
};

/* "timeout", "evicted", "reused", "end_of_input". */
const char *flow_end_reason_name(enum flow_end_reason r);

/* What moved when a connection record was emitted (see the top comment). */
enum conn_phase {
    CONN_SYN,      /* the originator's first SYN, or a retransmission of it */
    CONN_SYNACK,   /* the responder's first SYN-ACK */
    CONN_RST,      /* the first RST */
    CONN_FIN,      /* the second direction's FIN: both sides closed */
    CONN_END,      /* the connection left the table: the final record */
};

/* One direction of a connection (indexed by the sending side). */
struct conn_dir_facts {
    struct frame_ref first_data;
    struct frame_ref fin;
    uint64_t packets;
    uint64_t payload_bytes;    /* by the IP header, captured or not */
    uint64_t delivered_bytes;  /* handed to the dissector by reassembly */
    uint64_t gaps, gap_bytes;
    uint64_t retransmissions, overlaps, overlap_conflicts, out_of_order;
    uint64_t bad_checksums;
    uint64_t zero_windows;
    uint16_t mss;              /* from the SYN / SYN-ACK; 0 = none */
    int8_t wscale;             /* -1 = none */
    bool sack_permitted;
    bool timestamps;
};

/* The TCP facts of one connection, as values. */
struct conn_record {
    enum conn_phase phase;
    enum flow_end_reason end_reason;   /* meaningful when phase == CONN_END */
    struct flow_info info;             /* flow id (uid "C<id>"), endpoints, app */
    uint32_t source;                   /* capture source of the first packet */
    int64_t first_ns, last_ns;
    uint64_t first_frame, last_frame;

    struct frame_ref syn;              /* first SYN from the originator */
    struct frame_ref synack;           /* first SYN-ACK from the responder */
    struct frame_ref ack;              /* the ACK completing the handshake */
    struct frame_ref rst;              /* first RST */
    uint8_t rst_dir;                   /* enum ft_dir of the first RST */
    uint16_t syn_count;                /* SYNs sent by the originator (1 + retransmissions) */
    uint16_t synack_count;
    int64_t syn_times_ns[FACT_MAX_SYN_TIMES]; /* first min(syn_count, MAX) SYN times */
    /* SYN i's frame and file frame less syn's (i >= 1: a retransmission);
     * 0 = unknown (another source, or too far) */
    uint32_t syn_frame_off[FACT_MAX_SYN_TIMES], syn_src_frame_off[FACT_MAX_SYN_TIMES];
    int64_t rtt_ns;                    /* SYN -> SYN-ACK; -1 = unknown */
    uint32_t isn[2];                   /* initial sequence numbers: [ORIG] of the first SYN,
                                        * [RESP] of the first SYN-ACK (valid when that frame is
                                        * set); the evidence that pairs two views of one
                                        * connection across a NAT or two capture points */

    bool midstream;                    /* first packet was not a SYN: capture started late */
    bool established;
    bool closed;                       /* both FINs or a RST seen */
    char history[FACT_HISTORY_LEN];    /* Zeek conn.log history letters */
    char conn_state[8];                /* Zeek conn_state: S0 S1 SF REJ ... OTH */
    struct conn_dir_facts dir[2];
};

/* ---- XMPP and DNS -------------------------------------------------------- */

/* One XMPP protocol event and the connection it belongs to.  Both pointers
 * (and every string the event points at) are valid only during the call. */
struct xmpp_fact {
    const struct flow_info *conn;
    const struct xmpp_event *ev;
};

/* DNS lookups travel as struct dns_lookup (dissectors/dns.h), valid only
 * during the call. */

/* ---- statistics ---------------------------------------------------------- */

/* Counters of the flow table (flow.c). */
struct flow_stats {
    uint64_t created;
    uint64_t active, peak_active;
    uint64_t timed_out;
    uint64_t evicted;              /* the flow cap bit */
    uint64_t reused;               /* port reuse after close */
    uint64_t alloc_failures;
};

/* Counters of the per-packet path (pipeline.c). */
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

/* Counters of the dissector adapters (dispatch.c). */
struct dispatch_stats {
    uint64_t xmpp_connections;
    uint64_t xmpp_events;
    uint64_t dns_messages;
    uint64_t dns_parse_errors;
    uint64_t alloc_failures;
    /* the dissector state budget (dispatch.h) */
    uint64_t state_limit, state_peak; /* bytes */
    uint64_t state_cap;             /* connections left undissected: budget spent */
    uint64_t state_refused;         /* allocations refused inside running dissectors */
};

/* TLS decryption with key logs (keystore.c, dissectors/tls_decrypt.c);
 * all zero when no key log was given and no capture carried one.  Counts
 * only: the key material itself never leaves the key store. */
struct decrypt_stats {
    bool enabled;             /* a key log file was given or a capture carried secrets */
    unsigned keylog_files;
    uint64_t secrets_blocks;  /* pcapng Decryption Secrets Blocks read as TLS key logs */
    uint64_t secrets;         /* secrets stored, files and blocks */
    uint64_t malformed_lines; /* key log lines dropped */
    uint64_t connections;     /* TLS connections decryption was tried on */
    uint64_t connections_refused; /* over the decryptor's connection cap */
    uint64_t records;         /* records authenticated and decrypted */
    uint64_t plaintext_bytes; /* application bytes handed to the XMPP dissector */
    uint64_t auth_failures;   /* records that failed to authenticate (wrong key) */
    uint64_t no_key;          /* connections whose secrets the key logs lack */
    uint64_t unsupported;     /* version or cipher suite not handled */
    uint64_t errors;          /* malformed records, gaps */
    uint64_t key_updates;     /* TLS 1.3 KeyUpdate messages followed */
    uint64_t connections_decrypted; /* TLS connections with at least one record decrypted */
    uint64_t connections_fallen_back; /* decryption stopped (wrong or missing key, ...):
                                 judged from the encrypted records instead */
    uint64_t key_waits;       /* connections that held records for a secret the key
                                 log did not have yet (a growing key log) */
    uint64_t keys_late;       /* of them, decrypted once the secret was written */
    uint64_t held_records;    /* records held meanwhile */
    uint64_t held_overflows;  /* waits given up at the cap (in no_key too) */
};

#define FACT_MAX_SOURCES 64

/* One capture source as the run ends.  Strings are borrowed from the
 * capture and stay valid until it is closed. */
struct source_facts {
    const char *name;          /* file path, "-" or interface */
    const char *observer;      /* observer tag or NULL */
    bool live;
    char linktype_name[32];    /* "EN10MB", "LINUX_SLL2", "LINKTYPE_<n>" ... */
    int snaplen;
    uint64_t frames;           /* frames delivered */
    uint64_t bytes;            /* their wire length */
    uint64_t records;          /* packet records read (the last Wireshark frame number) */
    uint64_t bad_timestamps;   /* clamped into the capture's time range */
    int64_t first_ns, last_ns; /* time of the first and last delivered frame */
    const char *error;         /* damage found while reading; "" if none */
    bool have_stats;           /* live: kernel counters below are valid */
    uint64_t kernel_received, kernel_dropped, if_dropped;
};

/* Everything the engine counted, as plain values.  Filled on request by
 * capture_snapshot(), pipeline_snapshot() and dispatch_snapshot(), each
 * its own part. */
struct stats_snapshot {
    /* capture */
    struct source_facts sources[FACT_MAX_SOURCES];
    unsigned nsources;
    uint64_t frames;                 /* frames delivered, all sources */
    /* pipeline */
    bool have_packets;               /* pipeline.first_ns/last_ns are valid */
    struct pipeline_stats pipeline;
    struct decode_stats decode;
    struct ipfrag_stats ipfrag;
    struct flow_stats flows;
    struct reasm_stats reasm;
    /* dissectors */
    struct dispatch_stats dispatch;
    struct dns_stats dns_parse;
    struct dns_tracker_stats dns_tracker;
    /* key logs and decryption */
    struct decrypt_stats decrypt;
};

/* ---- the sink ------------------------------------------------------------ */

/* Where facts go.  Any callback may be NULL.  Records live for the call. */
struct fact_sink {
    void *ctx;
    void (*on_conn)(void *ctx, const struct conn_record *c);
    void (*on_xmpp)(void *ctx, const struct xmpp_fact *x);
    void (*on_dns)(void *ctx, const struct dns_lookup *lk);
    void (*on_time)(void *ctx, int64_t now_ns);
};

#define FACT_MAX_SINKS 4

/* Several sinks behind one: every fact goes to each, in the order added.
 * A plain value; the sinks' contexts are not owned. */
struct fact_fanout {
    struct fact_sink sink[FACT_MAX_SINKS];
    unsigned n;
};

/* Adds a sink.  0, or -1 when FACT_MAX_SINKS are already there. */
int fact_fanout_add(struct fact_fanout *fo, const struct fact_sink *s);

/* A sink that forwards to every sink of `fo` (which must outlive it). */
struct fact_sink fact_fanout_sink(struct fact_fanout *fo);

/* Emitters: call the sink's callback when it has one.  `s` may be NULL. */
void fact_emit_conn(const struct fact_sink *s, const struct conn_record *c);
void fact_emit_xmpp(const struct fact_sink *s, const struct flow_info *conn,
                    const struct xmpp_event *ev);
void fact_emit_dns(const struct fact_sink *s, const struct dns_lookup *lk);
void fact_emit_time(const struct fact_sink *s, int64_t now_ns);

#endif
