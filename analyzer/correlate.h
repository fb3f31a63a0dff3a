/*
 * correlate.h - the federation correlator: joins DNS lookups, TCP
 * connections, XMPP streams, the dialback connect-back and presence
 * subscriptions into federation sessions, and judges each direction.
 *
 * Input is facts, never bytes (facts.h): connection records (every phase:
 * the first creates the connection, later ones update it), XMPP events
 * and DNS lookups, all stamped with packet time and frame numbers.
 *
 * Streaming (corr_stream.c).  corr_on_time(now), called as packet time
 * advances (the fact sink's on_time; a live capture's clock tick too),
 * fires due timers (a min-heap: the last SYN's timeout, unanswered
 * db:result and subscribe) and, when facts or timers call for it, runs a
 * judging round: identity over the facts kept, then every federation one
 * of whose facts changed is judged again with `now` as the end of the
 * capture so far (each direction of it whose own inputs moved: an ok
 * verdict with nothing new in what it read stands).  A decided verdict (ok, failed) that differs from the
 * last one sent goes to the verdict sink (corr_set_verdict_sink) stamped
 * with `now`, with the previous verdict when it changed.  Rounds are rate
 * limited so the total work stays linear in the facts.  Ended connections
 * idle for idle_timeout are freed, and lookups as old; a direction none of
 * whose facts is left retires with its verdict, evidence and a timeline
 * cut to its first and last timeline_keep lines.  corr_finish() is the
 * last round: every direction still open judged as a batch pass over the
 * facts kept would, the verdicts that changed sent, the federations in the
 * batch order; the output reads them through the accessors below.  The
 * same facts and the same on_time calls give the same verdicts.
 *
 * A federation is an unordered pair of XMPP domains.  Each direction
 * (originating domain -> receiving domain) goes through the stages
 * lookup, connect, stream, tls, dialback (or SASL EXTERNAL), subscribe,
 * and ends with one verdict: ok, failed (earliest failed stage, with a
 * code from the verdict catalogue) or unknown (not enough was captured).
 * A federation whose every direction retired (verdicts settled and sent)
 * goes to the retired sink (corr_set_retired_sink), which keeps what it
 * needs of it (fedtrace's output writes it to a spool file), and is then
 * freed and forgotten: memory stays flat however many federations come
 * and go.  New facts of the same pair later make a new federation (a new
 * episode, its own entry).  The accessors below list only the federations
 * still held.  Without a retired sink, retired federations stay, at most
 * max_federations of them (beyond, the oldest are freed and counted).
 * Memory: connections kept at once are capped (max_conns; near it, ended
 * ones retire early), lookups too (max_lookups); every cap that bites is
 * counted in corr_stats.  Ownership: the correlator owns every record it
 * returns; they live until corr_free() (a retired federation handed to the
 * sink or dropped by the cap is freed at once, never one the caller is
 * handed during a verdict call).
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
    /* Streaming (corr_on_time). */
    int64_t syn_timeout_ns;        /* least wait after the last SYN before "unanswered" */
    int64_t round_interval_ns;     /* judging rounds at most this often (packet time) */
    int64_t max_lag_ns;            /* ... and at least this often while facts arrive */
    int64_t idle_timeout_ns;       /* an ended connection idle this long is retired */
    uint32_t timeline_keep;        /* a retired direction keeps the first and last N lines */
    uint32_t max_federations;      /* retired federations kept without a retired sink */
    bool full_timeline;            /* -V: nothing elided, each SYN retransmission a line */
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
    int64_t order_ns;          /* ref's time on the reference capture point's clock */
    /* Flow and lookup ids count from 1 in creation order, one per flow or
     * query seen, so 48 bits hold any capture's. */
    uint64_t flow_id : 48;     /* 0 for DNS */
    uint64_t stage : 8;        /* enum fed_stage */
    uint64_t failing : 1;      /* the step the verdict points at */
    uint64_t key : 1;          /* the last line of a stage that passed: kept when
                                * the timeline is cut, as the failing ones */
    uint64_t decrypted : 1;    /* an XMPP element read from inside TLS with a key log */
    uint64_t lent : 1;         /* the text is `borrowed`, not `what` */
    uint64_t dns_id;           /* 0 unless DNS */
    /* While a direction is judged, a line is copied only if it is kept
     * (timeline_materialize): until then `lent` is set and `borrowed`
     * points at the text its fact keeps.  Otherwise `what` (e.g.
     * "SYN 10.0.0.1:4001 -> 198.51.100.2:5269 (3rd)") is owned, or points
     * into the direction's timeline_text once judged.  corr_tl_text reads
     * either. */
    union {
        char *what;
        const char *borrowed;
    };
};

/* A timeline line's text, owned or borrowed (NULL if none). */
static inline const char *corr_tl_text(const struct corr_tl *t)
{
    return t->lent ? t->borrowed : t->what;
}


/* Two copies of one connection that observers on either side of a NAT
 * saw (identity_pair_nat pairs them): flow ids and capture sources. */
#define CORR_MAX_NAT_PAIRS 4
struct corr_nat_pair {
    uint64_t flow_id[2];
    uint32_t source[2];
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

struct corr_carry; /* judge_carry.c */

struct corr_direction {
    const char *from, *to;     /* point into the federation's domains */
    struct corr_verdict verdict;
    enum corr_stage_status stages[STAGE_COUNT];
    const char *stage_detail[STAGE_COUNT]; /* never NULL once judged */
    struct corr_tl *timeline;  /* owned */
    char *timeline_text;       /* owned: once judged, every line's `what` points
                                * into this one block (NULL while judging) */
    unsigned n_timeline, cap_timeline;
    uint64_t timeline_elided;  /* lines left out of a retired direction's timeline */
    struct corr_nat_pair nat[CORR_MAX_NAT_PAIRS]; /* NAT twins among the timeline's connections */
    unsigned n_nat;
    bool retired;              /* its facts are freed: verdict and timeline are final */
    bool facts_freed;          /* some of its facts were retired */
    struct corr_carry *carry;  /* owned: what an earlier judgement saw of facts
                                * since retired (judge_carry.c); NULL if none */
    /* Streaming bookkeeping (corr_stream.c). */
    uint64_t round;            /* the last judging round that saw facts of it */
    bool emitted;              /* a verdict event was sent ... */
    enum corr_status emitted_status; /* ... with this status and code */
    enum verdict_code emitted_code;
    enum fed_stage emitted_stage;
    uint64_t judged_seq;       /* the correlator's fact count when it was last judged */
    uint64_t inputs_sig;       /* of the connections and lookups that judgement read */
    bool read_clock;           /* that verdict read the capture's end (a wait that
                                * grows with time) */
    char *text;                /* owned: the summary, notes, stage details
                                * and advice values point into it */
};

/* The text a judge writes while it works on a direction; frozen into the
 * direction's compact text block when the verdict is settled. */
struct corr_dir_text {
    char stage_detail[STAGE_COUNT][320];
    char summary[1024];
    char notes[4][320];
    char v_ip[80], v_port[8], v_peer[80], v_public[80];
    char v_private[80], v_qname[300], v_resolver[80];
    char v_cond[64], v_text[200], v_alert[64], v_n[16], v_seconds[24];
    char v_server[300];         /* the domain whose server the advice names */
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
    uint64_t round;            /* the last judging round that saw facts of it */
    bool dirty;                /* a fact of it changed since it was judged */
    uint64_t judged_seq;       /* the correlator's fact count when it was judged */
    uint64_t side_seq;         /* newest change of a client or secondary (NAT twin)
                                * connection that touches it */
};

struct corr_stats {
    uint64_t conns, conns_dropped, lookups, lookups_dropped, events, events_dropped;
    uint64_t tls_records, tls_records_dropped; /* encrypted record sizes kept / over the cap */
    uint64_t s2s_conns, c2s_conns, nat_pairs, federations;
    uint64_t nat_candidates_capped; /* NAT twin candidates not examined (cap) */
    uint64_t nat_ambiguous;         /* views the pairing evidence fitted more than one twin of */
    uint64_t directions_unjudged;   /* left unknown: the run was stopped */
    /* streaming */
    uint64_t rounds;                /* judging rounds run on packet time */
    uint64_t verdict_events;        /* federation.verdict events sent */
    uint64_t conns_retired, lookups_retired, directions_retired;
    uint64_t lookups_noise; /* freed early: nothing XMPP claimed them */
    uint64_t rounds_partial; /* rounds that read only the new lookups */
    uint64_t conns_retired_early;   /* retired before the idle timeout: the connection cap was near */
    uint64_t federations_dropped;   /* retired federations left out of the document (cap) */
    uint64_t federations_released;  /* retired federations handed to the retired sink and freed */
    uint64_t timelines_elided;      /* timeline lines left out of retired directions */
    uint64_t timers_dropped;        /* timers not queued (cap) */
    uint64_t identity_memory_dropped; /* what identity keeps for the run (SRV namings, DNS
                                       * askers, freed lookups' addresses, domains whose
                                       * users were seen) not kept (cap) */
    uint64_t busy_ns;               /* time spent in the correlator (its sink and corr_finish),
                                     * not counting the output's verdict and retired sinks */
};

/* What a verdict event says besides the verdict: when it was decided and,
 * when it changes an earlier event's verdict, what that said. */
struct corr_verdict_change {
    int64_t decided_ns;
    bool has_previous;
    enum corr_status prev_status;
    enum verdict_code prev_code;
};

/* Receives every verdict as it is decided or changes (ctx, the
 * federation and the direction are valid during the call only). */
typedef void (*corr_verdict_fn)(void *ctx, const struct corr_federation *f, const struct corr_direction *d,
                                const struct corr_verdict_change *chg);

struct correlator;

/* NULL on allocation failure.  Free with corr_free(). */
struct correlator *corr_new(const struct corr_config *cfg);
void corr_free(struct correlator *c);

/* The correlator as a fact sink (ctx = c): connection records, XMPP
 * events and DNS lookups go to the functions below. */
struct fact_sink corr_fact_sink(struct correlator *c);

/* Facts, in any order, until corr_finish().  Connection records of every
 * phase: the first creates the connection, later ones update it. */
void corr_conn_record(struct correlator *c, const struct conn_record *r);
/* The same (the name callers feeding finished connections use). */
void corr_conn_end(struct correlator *c, const struct conn_record *r);
void corr_xmpp_event(struct correlator *c, const struct flow_info *fi, const struct xmpp_event *ev);
void corr_dns_lookup(struct correlator *c, const struct dns_lookup *lk);
/* Capture window per source (for "not seen at the other capture point"). */
void corr_source_window(struct correlator *c, uint32_t source, int64_t first_ns, int64_t last_ns);

/* Where verdict events go (NULL: nowhere).  Set before the first fact. */
void corr_set_verdict_sink(struct correlator *c, corr_verdict_fn fn, void *ctx);

/* Receives each federation that retired for good (every direction
 * retired, its verdicts sent), once, just before the correlator frees it:
 * f is valid during the call only.  Not called from corr_finish (the
 * federations still held are listed by the accessors). */
typedef void (*corr_retired_fn)(void *ctx, const struct corr_federation *f);

/* Where retired federations go (NULL: they stay, up to max_federations).
 * Set before the first fact. */
void corr_set_retired_sink(struct correlator *c, corr_retired_fn fn, void *ctx);

/* Packet time moved to now: due timers fire, and when facts or timers
 * call for it a judging round runs (see the top comment). */
void corr_on_time(struct correlator *c, int64_t now_ns);

/* End of input: judges everything still open as a batch pass over the
 * facts kept would, sends the verdicts that changed, and orders the
 * federations for the document.  Call once. */
void corr_finish(struct correlator *c);

/* The federations still held (with a retired sink, not those handed to
 * it); after corr_finish in the document's order. */
unsigned corr_federation_count(const struct correlator *c);
const struct corr_federation *corr_federation_at(const struct correlator *c, unsigned i);
const struct corr_stats *corr_stats(const struct correlator *c);

/* The clock of a capture source against the reference one (the lowest
 * numbered it is linked to): reference clock = own - offset_ns.  Estimated
 * from the SYN times of connections both points saw (same initial sequence
 * number); pairs is how many.  False when there is no estimate or it is
 * under 100 ms (forwarding delay: not applied). */
struct corr_clock {
    uint32_t reference;
    int64_t offset_ns;
    uint64_t pairs;
};
bool corr_clock_offset(const struct correlator *c, uint32_t source, struct corr_clock *out);

#endif
