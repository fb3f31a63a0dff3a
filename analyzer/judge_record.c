/*
 * judge_record.c - how a stage judge records what it found: the stage
 * status and detail (the first failure decides the verdict), evidence
 * frames, flows and lookups, and notes; every list is bounded.
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void judge_evidence(struct dctx *x, const struct frame_ref *r)
{
    struct corr_verdict *v = &x->d->verdict;
    if (!r || !r->frame)
        return;
    for (unsigned i = 0; i < v->n_evidence; i++)
        if (v->evidence_refs[i].frame == r->frame)
            return;
    if (v->n_evidence < 16) {
        v->evidence_refs[v->n_evidence++] = *r;
    }
}

void judge_evidence_flow_id(struct dctx *x, uint64_t flow_id)
{
    struct corr_verdict *v = &x->d->verdict;
    for (unsigned i = 0; i < v->n_flows; i++)
        if (v->evidence_flows[i] == flow_id)
            return;
    if (v->n_flows < 8)
        v->evidence_flows[v->n_flows++] = flow_id;
}

void judge_evidence_flow(struct dctx *x, const struct cconn *k)
{
    if (k)
        judge_evidence_flow_id(x, k->flow_id);
}

void judge_evidence_dns_id(struct dctx *x, uint64_t dns_id)
{
    struct corr_verdict *v = &x->d->verdict;
    for (unsigned i = 0; i < v->n_dns; i++)
        if (v->evidence_dns[i] == dns_id)
            return;
    if (v->n_dns < 8)
        v->evidence_dns[v->n_dns++] = dns_id;
}

void judge_evidence_dns(struct dctx *x, const struct clookup *l)
{
    judge_evidence_dns_id(x, l->id);
}

void judge_note(struct dctx *x, const char *fmt, ...)
{
    struct corr_verdict *v = &x->d->verdict;
    va_list ap;
    if (v->n_notes >= 4)
        return;
    va_start(ap, fmt);
    corr_vformat(x->t.notes[v->n_notes], sizeof(x->t.notes[0]), fmt, ap);
    va_end(ap);
    for (unsigned i = 0; i < v->n_notes; i++)
        if (strcmp(x->t.notes[i], x->t.notes[v->n_notes]) == 0)
            return;
    v->n_notes++;
}

/* Records the stage result; the first failure decides the verdict. */

void judge_stage_set(struct dctx *x, enum fed_stage st, enum corr_stage_status s, enum verdict_code code,
                      const char *fmt, ...)
{
    struct corr_direction *d = x->d;
    va_list ap;
    d->stages[st] = s;
    va_start(ap, fmt);
    corr_vformat(x->t.stage_detail[st], sizeof(x->t.stage_detail[st]), fmt, ap);
    va_end(ap);
    if (s == STAGE_FAILED && d->verdict.status != CORR_FAILED) {
        d->verdict.status = CORR_FAILED;
        d->verdict.stage = st;
        d->verdict.code = code;
    }
}

bool judge_failed(const struct dctx *x)
{
    return x->d->verdict.status == CORR_FAILED;
}
