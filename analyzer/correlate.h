/*
 * correlate.h - the federation correlator: joins DNS lookups, TCP
 * connections, XMPP streams, the dialback connect-back and presence
 * subscriptions into federation sessions, and judges each direction.
 *
 * Input is facts, never bytes (facts.h): connection records, XMPP events
 * and DNS lookups, all stamped with packet time and
 * frame numbers.  corr_finish() builds the federations; the output module
 * reads them through the accessors below.  Everything is deterministic:
 * the same facts give the same verdicts.
 *
 * A federation is an unordered pair of XMPP domains.  Each direction
 * (originating domain -> receiving domain) goes through the stages
 * lookup, connect, stream, tls, dialback (or SASL EXTERNAL), subscribe,
 * and ends with one verdict: ok, failed (earliest failed stage, with a
 * code from the verdict catalogue) or unknown (not enough was captured).
 * Memory: facts are kept until corr_finish(); their number is capped and
 * what a cap drops is counted.
 */
#ifndef FT_CORRELATE_H
#define FT_CORRELATE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "dissect.h"
#include "facts.h"
#include "verdict.h"
#include "dissectors/dns.h"
#include "dissectors/xmpp.h"

#define CORR_MAX_LOCAL 16

struct corr_config {
    const char *local_domains[CORR_MAX_LOCAL]; /* -d, not owned */
    unsigned n_local_domains;
    struct ft_addr local_servers[CORR_MAX_LOCAL]; /* --server */
    unsigned n_local_servers;
    struct port_set xmpp_ports;
    int64_t subscribe_timeout_ns;  /* a subscribe unanswered this long is pending */
    int64_t dialback_timeout_ns;   /* a db:result unanswered this long failed */
    int64_t dns_window_ns;         /* a lookup explains connections this long after it */
    uint32_t max_conns;            /* connections kept for correlation */
    uint32_t max_lookups;
    uint32_t max_events_per_conn;
    /* Set (by a signal handler) when the run must end: corr_finish() then
     * judges for stop_grace_ns (a second) more and leaves the rest
     * unjudged.  Not owned; NULL = never. */
    const volatile sig_atomic_t *stop;
    int64_t stop_grace_ns;         /* judging time left once stop is seen */
};

void corr_config_default(struct corr_config *cfg);

enum corr_status {
    CORR_OK = 0,
    CORR_UNKNOWN,
    CORR_FAILED,
};
const char *corr_status_name(enum corr_status s);

enum corr_stage_status {
    STAGE_NOT_SEEN = 0, /* nothing of this stage in the capture */
    STAGE_OK,
    STAGE_FAILED,
    STAGE_SKIPPED,      /* not used by this direction (no STARTTLS, say) */
    STAGE_OPAQUE,       /* happened inside TLS: invisible */
};
const char *corr_stage_status_name(enum corr_stage_status s);

/* One line of a direction's timeline: something seen, where, and when. */
struct corr_tl {
    struct frame_ref ref;
    uint64_t flow_id;          /* 0 for DNS */
    uint64_t dns_id;           /* 0 unless DNS */
    enum fed_stage stage;
    bool failing;              /* the step the verdict points at */
    char *what;                /* e.g. "SYN 10.0.0.1:4001 -> 198.51.100.2:5269 (3rd)"; owned */
};

struct corr_verdict {
    enum corr_status status;
    enum fed_stage stage;      /* earliest failed (or last reached) stage */
    enum verdict_code code;    /* catalogue code; VERDICT_CODE_NONE until judged */
    const char *summary;       /* never NULL once judged */
    const char *confidence;    /* "high", "medium", "low" */
    bool inferred;             /* judged from encrypted record sizes, timing or
                                * the client side, not from the XMPP itself */
    const char *rule;          /* static: the inference rule that fired, or NULL */
    const char *notes[4];      /* capture-quality and informational remarks */
    unsigned n_notes;
    struct frame_ref evidence_refs[16];
    unsigned n_evidence;
    uint64_t evidence_flows[8];
    unsigned n_flows;
    uint64_t evidence_dns[8];
    unsigned n_dns;
    struct verdict_vars vars;  /* strings point into the direction's text */
    bool decrypted;            /* the judged connection's TLS was decrypted with a
                                  key log: the stages inside TLS were seen */
};

struct corr_direction {
    const char *from, *to;     /* point into the federation's domains */
    struct corr_verdict verdict;
    enum corr_stage_status stages[STAGE_COUNT];
    const char *stage_detail[STAGE_COUNT]; /* never NULL once judged */
    struct corr_tl *timeline;  /* owned */
    unsigned n_timeline, cap_timeline;
    char *text;                /* owned: the summary, notes, stage details
                                * and advice values point into it */
};

/* The text a judge writes while it works on a direction; frozen into the
 * direction's compact text block when the verdict is settled. */
struct corr_dir_text {
    char stage_detail[STAGE_COUNT][200];
    char summary[1024];
    char notes[4][200];
    char v_ip[80], v_port[8], v_peer[80], v_public[80];
    char v_private[80], v_qname[300], v_resolver[80];
    char v_cond[64], v_text[200], v_alert[64], v_n[16], v_seconds[24];
};

struct corr_federation {
    char id[24];               /* "F" + 8 hex digits of a hash of the pair */
    const char *domains[2];    /* sorted; owned by the correlator (one copy
                                * of each name) */
    const char *local;         /* points at domains[i], or NULL */
    bool roles_inferred;
    const char *role_reason;   /* static text */
    const struct corr_verdict *verdict; /* the worst direction's */
    struct corr_direction dir[2];
    unsigned n_dir;
};

struct corr_stats {
    uint64_t conns, conns_dropped, lookups, lookups_dropped, events, events_dropped;
    uint64_t tls_records, tls_records_dropped; /* encrypted record sizes kept / over the cap */
    uint64_t s2s_conns, c2s_conns, nat_pairs, federations;
    uint64_t nat_candidates_capped; /* NAT twin candidates not examined (cap) */
    uint64_t directions_unjudged;   /* left unknown: the run was stopped */
};

struct correlator;

/* NULL on allocation failure.  Free with corr_free(). */
struct correlator *corr_new(const struct corr_config *cfg);
void corr_free(struct correlator *c);

/* The correlator as a fact sink (ctx = c): connection records, XMPP
 * events and DNS lookups go to the functions below. */
struct fact_sink corr_fact_sink(struct correlator *c);

/* Facts, in any order, until corr_finish().  Only records of phase
 * CONN_END are used; earlier phases are ignored. */
void corr_conn_end(struct correlator *c, const struct conn_record *r);
void corr_xmpp_event(struct correlator *c, const struct flow_info *fi, const struct xmpp_event *ev);
void corr_dns_lookup(struct correlator *c, const struct dns_lookup *lk);
/* Capture window per source (for "not seen at the other capture point"). */
void corr_source_window(struct correlator *c, uint32_t source, int64_t first_ns, int64_t last_ns);

/* Builds the federations from everything seen.  Call once. */
void corr_finish(struct correlator *c);

unsigned corr_federation_count(const struct correlator *c);
const struct corr_federation *corr_federation_at(const struct correlator *c, unsigned i);
const struct corr_stats *corr_stats(const struct correlator *c);

#endif
