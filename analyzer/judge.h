/*
 * judge.h - the stage judges and what they share: the evaluation state of
 * one direction (struct dctx) and how a judge records stage results,
 * evidence and notes (judge_record.c).  Each judge looks at the facts of
 * one direction and stops when an earlier stage already failed.
 */
#ifndef FT_JUDGE_H
#define FT_JUDGE_H

#include "corr_store.h"

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
};

void judge_evidence(struct dctx *x, const struct frame_ref *r);
void judge_evidence_flow(struct dctx *x, const struct cconn *k);
void judge_evidence_dns(struct dctx *x, const struct clookup *l);
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

/* Stream errors, shared by the stream, TLS and dialback judges. */
const struct cev *judge_first_stream_error(const struct cconn *k);
bool judge_before_negotiation(const struct cconn *k, const struct cev *err);
void judge_fail_stream_error(struct dctx *x, enum fed_stage st, const struct cconn *k, const struct cev *err);

#endif
