/*
 * judge.h - the stage judges and what they share: the evaluation state of
 * one direction (struct dctx) and how a judge records stage results,
 * evidence and notes (judge_record.c).  Each judge looks at the facts of
 * one direction and stops when an earlier stage already failed.
 */
#ifndef FT_JUDGE_H
#define FT_JUDGE_H

#include "corr_store.h"

/* The encrypted record sequence of one connection, read without keys
 * (judge_records.c).  Pointers are into the connection's records. */
struct rec_shape {
    bool have;                   /* records were kept */
    bool handshake_seen;         /* a TLS 1.3 Finished marked the end of the handshake */
    unsigned overhead;           /* bytes a record adds to its plaintext; 0 unknown */
    unsigned data[2];            /* records carrying XMPP after the handshake, per sender */
    unsigned alerts[2];          /* alert-sized records (close_notify, mostly) */
    unsigned tickets;            /* TLS 1.3 NewSessionTickets (not XMPP) */
    const struct crec *first[2], *last[2]; /* first and last XMPP record per sender */
    const struct crec *first_alert;
    const struct crec *answer;   /* the receiver's first record after the initiator's first */
    unsigned orig_before_answer; /* initiator XMPP records before that answer */
    const struct crec *success;  /* a receiver record of <success/> size */
    const struct crec *restart;  /* an initiator record the size of its first one,
                                    after the receiver spoke: a stream restart */
    const struct crec *db_request; /* an initiator record of <db:result> size
                                      (from the two domains and a key) */
    const struct crec *db_answer;  /* the receiver's next record, when it has
                                      the size of a type='valid' or 'invalid' answer */
    bool db_valid;                 /* which of the two db_answer is */
};

void rec_shape_of(const struct cconn *k, struct rec_shape *s);

/* Evaluation state of one direction. */
struct dctx {
    struct correlator *c;
    struct corr_direction *d;
    const char *from, *to;
    struct cconn *out[64];      /* s2s connections from -> to, by start time */
    unsigned nout;
    const struct clookup *lk[64]; /* lookups for `to` */
    unsigned nlk;
    struct corr_dir_text t;     /* what the judges write */
    struct cconn *main;         /* the most progressed connection */
    bool opaque;                /* TLS hides what follows */
    bool decisive;              /* the failure was seen, not inferred */
    bool low_confidence;        /* inferred from a short wait */
    bool inferred_ok;
    bool pending;               /* a subscription crossed s2s and awaits its answer */
    bool read_clock;            /* a judge read the capture's end (a wait) */
    const char *rule;           /* static: the inference rule behind the verdict */
    struct rec_shape shape;     /* of `main`, once TLS made it opaque */
    /* (frame, flow, lookup) -> the first timeline line of it, index + 1
     * (open addressing; corr_timeline.c; freed by judge_direction). */
    uint32_t *tl_slot;
    uint32_t tl_cap, tl_used;
};

void judge_evidence(struct dctx *x, const struct frame_ref *r);
void judge_evidence_flow(struct dctx *x, const struct cconn *k);
void judge_evidence_dns(struct dctx *x, const struct clookup *l);
/* The same by id (a carried verdict's flows and lookups). */
void judge_evidence_flow_id(struct dctx *x, uint64_t flow_id);
void judge_evidence_dns_id(struct dctx *x, uint64_t dns_id);
void judge_note(struct dctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records the stage result; the first failure decides the verdict. */
void judge_stage_set(struct dctx *x, enum fed_stage st, enum corr_stage_status s, enum verdict_code code,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
bool judge_failed(const struct dctx *x);

/* The stages, in order (judge_direction runs them). */
void judge_lookup(struct dctx *x);
void judge_connect(struct dctx *x);
void judge_stream(struct dctx *x);
void judge_tls(struct dctx *x);
void judge_dialback(struct dctx *x);
void judge_subscribe(struct dctx *x);
void judge_direction(struct correlator *c, struct corr_direction *d);

/* What a direction remembers of retired facts (judge_carry.c).  take:
 * before the direction is judged again, moves its judged verdict, stages
 * and timeline into d->carry (the older carry is freed); free: frees one
 * (NULL is fine).  judge_direction calls fill_stages after the stage
 * judges (returns the stages it filled), settle once the status is set,
 * timeline before the timeline is sorted. */
void carry_take(struct corr_direction *d);
void carry_free(struct corr_carry *k);
unsigned carry_fill_stages(struct dctx *x);
void carry_settle(struct dctx *x, unsigned filled);
void carry_timeline(struct dctx *x);

/* Stream errors, shared by the stream, TLS and dialback judges. */
const struct cev *judge_first_stream_error(const struct cconn *k);
bool judge_before_negotiation(const struct cconn *k, const struct cev *err);
void judge_fail_stream_error(struct dctx *x, enum fed_stage st, const struct cconn *k, const struct cev *err);

#endif
