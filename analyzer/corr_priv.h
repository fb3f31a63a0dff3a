/*
 * corr_priv.h - the correlator's state, shared by its modules (correlate.c,
 * corr_store, corr_identity, corr_registry, corr_timeline, judge_*).  Not
 * for use outside the correlator.
 */
#ifndef FT_CORR_PRIV_H
#define FT_CORR_PRIV_H

#include <time.h>

#include "correlate.h"
#include "corr_util.h"
#include "corr_store.h"
#include "corr_index.h"
#include "corr_book.h"
#include "corr_srv_names.h"
#include "corr_timer.h"
#include "corr_nat.h"

struct correlator {
    struct corr_config cfg;
    struct cconn **conns;
    unsigned nconns, capconns;
    uint64_t *map_keys;        /* flow_id -> index+1 (open addressing) */
    uint32_t *map_vals;
    uint32_t map_cap;
    struct clookup **lookups;
    unsigned nlookups, caplookups;
    struct book_layer book;          /* what connections say (and inferences), per round */
    struct book_layer dns_book;      /* what DNS answers say */
    struct book_layer dns_memory;    /* what the answers of claimed lookups since freed said:
                                      * kept for the run (max_lookups entries) */
    struct corr_federation **feds;
    unsigned nfeds, capfeds;
    int64_t src_first[64], src_last[64];
    bool src_seen[64];
    unsigned nsources;
    int64_t capture_end_ns;
    struct clock_book clocks;        /* capture points' clock offsets (corr_nat.c) */
    bool many_sources;               /* a connection came from a source other than 0 */
    struct corr_stats stats;
    bool stop_seen;                  /* the stop flag was noticed at ... */
    struct timespec stop_deadline;   /* ... and judging ends by then */
    /* Joins (built by corr_finish unless noted). */
    struct corr_index fed_ix;        /* "lo\0hi" -> federation */
    struct srv_names srv_names;      /* SRV target -> domains, for the whole run */
    struct corr_index lookup_dom_ix; /* domain (lowercase) -> lookups about it */
    struct corr_index dir_conn_ix;   /* "from\0to" -> s2s connections, in order */
    struct corr_index verify_ix;     /* from\1to -> db:verify requests (conn, event) */
    struct corr_index sub_ix;        /* from-domain\1to-domain -> s2s subscribes */
    struct corr_index csub_ix;       /* user's domain\1to-domain -> c2s subscribes */
    struct corr_index answer_ix;     /* bare from\1bare to -> subscription answers */
    struct corr_index names_ix;      /* domain name -> names[] (interned) */
    char **names;
    unsigned nnames, capnames;
    struct corr_index role_ix;       /* domain -> 1 private server, 2 lookups seen */
    /* What the lookups say, kept between full rounds and grown by the
     * partial ones (corr_stream.c): dns_book,
     * lookup_dom_ix, and these, over lookups[0 .. lookups_indexed). */
    unsigned lookups_indexed;
    unsigned lookups_dead;           /* holes (NULL) in lookups[] freed since the last full round */
    struct corr_index ans_addr_ix;   /* A/AAAA answer address -> lookup */
    /* Kept for the run (max_lookups of them): */
    struct corr_index client_ix;     /* lookup client address -> its first lookup */
    struct corr_index users_ix;      /* domain (lowercase) whose users' client streams were seen */
    struct ft_addr *clients;         /* the distinct clients, in order */
    unsigned nclients, capclients;
    uint64_t facts_since_full;       /* facts stored since the last full round */
    uint64_t names_epoch;            /* bumped when names_gc rebuilds names[] */
    /* corr_dns_noise.c: names[] lowercased, up to noise_names_done, as of
     * noise_names_epoch. */
    struct corr_index noise_names_ix;
    unsigned noise_names_done;
    uint64_t noise_names_epoch;
    /* Streaming (corr_stream.c). */
    struct timer_queue timers;
    corr_verdict_fn verdict_fn;
    void *verdict_ctx;
    corr_retired_fn retired_fn;      /* NULL: retired federations stay (max_federations) */
    void *retired_ctx;
    uint64_t handed_ns;              /* time in the two sinks above (the output's work), kept out of busy_ns */
    uint64_t round;                  /* rounds run (the final one included) */
    int64_t round_last_ns;           /* packet time of the last round */
    uint64_t facts_since_round;      /* facts stored since then */
    uint64_t live_events;            /* XMPP events kept */
    uint64_t conn_seq;               /* cconn create_seq / batch_seq source */
    uint64_t fact_seq;               /* facts and fired timers so far */
    bool timer_due;                  /* a timer fired since the last round */
    int64_t now_ns;                  /* newest packet time seen */
    /* Counts of what retired connections were (added to each round's). */
    uint64_t retired_s2s, retired_c2s, retired_nat_pairs;
};

/* corr_stream.c: timers for a fact just stored, the judging rounds. */
void stream_conn_timers(struct correlator *c, const struct cconn *k);
void stream_event_timers(struct correlator *c, const struct cconn *k, const struct cev *e);
void stream_round(struct correlator *c, int64_t now, bool final, bool full);
void stream_federation_free(struct corr_federation *f);
/* corr_retire.c: freeing facts and names (see there). */
bool stream_lookup_direction(struct correlator *c, const struct clookup *l, char *from, char *to);
struct corr_federation *stream_fed_find(struct correlator *c, const char *a, const char *b);
void stream_retire_facts(struct correlator *c, int64_t now);
void stream_close_lookup_holes(struct correlator *c);
void stream_names_gc(struct correlator *c);
/* corr_dns_noise.c: marks the lookups older than its window that nothing
 * XMPP claims (l->noise); returns how many. */
unsigned dns_noise_mark(struct correlator *c, int64_t now);

#include "corr_identity.h"
#include "corr_registry.h"
#include "judge.h"
#include "corr_timeline.h"

#endif
