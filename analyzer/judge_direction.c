/*
 * judge_direction.c - one direction from start to end: runs the stage
 * judges in order, then settles the overall status, confidence, capture-
 * quality notes and the advice placeholders.
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int by_start(const void *a, const void *b)
{
    const struct cconn *x = *(struct cconn *const *)a, *y = *(struct cconn *const *)b;
    int64_t sx = conn_start(x), sy = conn_start(y);
    if (sx != sy)
        return sx < sy ? -1 : 1;
    return x->flow_id < y->flow_id ? -1 : x->flow_id > y->flow_id;
}

static const char *downgrade(const char *conf)
{
    return strcmp(conf, "high") == 0 ? "medium" : "low";
}

void judge_direction(struct correlator *c, struct corr_direction *d)
{
    struct dctx x;
    struct corr_verdict *v = &d->verdict;
    bool gaps = false, midstream = false, badcsum = false;

    memset(&x, 0, sizeof(x));
    x.c = c;
    x.d = d;
    x.from = d->from;
    x.to = d->to;
    v->status = CORR_UNKNOWN;
    for (uint32_t h = registry_dir_conns(c, d->from, d->to); h && x.nout < 64; h = corr_index_next(&c->dir_conn_ix, h))
        x.out[x.nout++] = c->conns[corr_index_val(&c->dir_conn_ix, h)->a];
    qsort(x.out, x.nout, sizeof(x.out[0]), by_start);
    {
        char key[STR_CAP];
        size_t n = corr_index_key1(key, sizeof(key), d->to);
        for (uint32_t h = corr_index_first(&c->lookup_dom_ix, key, n); h && x.nlk < 64;
             h = corr_index_next(&c->lookup_dom_ix, h))
            x.lk[x.nlk++] = c->lookups[corr_index_val(&c->lookup_dom_ix, h)->a];
    }

    judge_lookup(&x);
    judge_connect(&x);
    judge_stream(&x);
    judge_tls(&x);
    judge_dialback(&x);
    judge_subscribe(&x);

    for (unsigned i = 0; i < x.nout; i++) {
        const struct cconn *k = x.out[i];
        gaps |= k->gaps[0] || k->gaps[1];
        midstream |= k->midstream;
        badcsum |= k->badcsum[0] || k->badcsum[1];
    }
    if (v->status == CORR_FAILED) {
        v->confidence = x.decisive ? "high" : "medium";
        if (v->code == VERDICT_TLS_CLOSED_AFTER_HANDSHAKE || x.low_confidence)
            v->confidence = "low";
        corr_copy(v->summary, sizeof(v->summary), d->stage_detail[v->stage]);
    } else {
        bool auth_ok = d->stages[STAGE_AUTH] == STAGE_OK, sub_ok = d->stages[STAGE_SUBSCRIBE] == STAGE_OK;
        bool flowing = false;
        for (unsigned i = 0; i < x.nout; i++)
            flowing |= x.out[i]->stanzas[FT_DIR_ORIG] > 0;
        if (auth_ok || sub_ok) {
            v->status = CORR_OK;
            v->code = VERDICT_OK;
            v->confidence = "high";
            v->stage = sub_ok ? STAGE_SUBSCRIBE : STAGE_AUTH;
            snprintf(v->summary, sizeof(v->summary), "%s -> %s works: %s%s%s", d->from, d->to,
                     d->stage_detail[STAGE_AUTH], sub_ok ? "; " : "", sub_ok ? d->stage_detail[STAGE_SUBSCRIBE] : "");
        } else if (flowing || x.inferred_ok) {
            v->status = CORR_OK;
            v->code = VERDICT_OK;
            v->confidence = "medium";
            v->stage = STAGE_AUTH;
            snprintf(v->summary, sizeof(v->summary), "%s -> %s carries stanzas (authentication not seen)", d->from,
                     d->to);
        } else if (x.opaque && x.main && x.main->last_ns - x.main->first_ns > 5 * FT_NS_PER_SEC &&
                   !x.main->rst.frame) {
            v->status = CORR_OK;
            v->code = VERDICT_OK;
            v->confidence = "low";
            v->stage = STAGE_TLS;
            snprintf(v->summary, sizeof(v->summary),
                     "%s -> %s: TLS established and the connection stayed up; what it carries is encrypted", d->from,
                     d->to);
        } else {
            int last = -1;
            for (int s = 0; s < STAGE_CAPTURE; s++)
                if (d->stages[s] == STAGE_OK || d->stages[s] == STAGE_SKIPPED)
                    last = s;
            v->status = CORR_UNKNOWN;
            v->stage = last < 0 ? STAGE_LOOKUP : (enum fed_stage)last;
            v->code = x.opaque ? VERDICT_CAP_ENCRYPTED : midstream ? VERDICT_CAP_MIDSTREAM : gaps ? VERDICT_CAP_GAPS : VERDICT_CAP_NOTHING;
            v->confidence = "low";
            if (last < 0)
                snprintf(v->summary, sizeof(v->summary), "%s -> %s: not enough was captured to judge any stage",
                         d->from, d->to);
            else
                snprintf(v->summary, sizeof(v->summary),
                         "%s -> %s: not enough was captured to judge what followed the %s stage (%s)", d->from,
                         d->to, fed_stage_name((enum fed_stage)last), d->stage_detail[last]);
        }
        if (x.main)
            judge_evidence_flow(&x, x.main);
    }
    if (gaps) {
        judge_note(&x, "CAP-GAPS: the capture missed data on this federation's connections");
        v->confidence = downgrade(v->confidence);
    }
    if (midstream && v->status != CORR_UNKNOWN) {
        bool noted = false; /* eval_stream may have said it already */
        for (unsigned i = 0; i < v->n_notes; i++)
            noted |= strncmp(v->notes[i], "CAP-MIDSTREAM", 13) == 0;
        if (!noted)
            judge_note(&x, "CAP-MIDSTREAM: a connection was already open when the capture started");
        v->confidence = downgrade(v->confidence);
    }
    if (badcsum)
        judge_note(&x, "CAP-BAD-CSUM: bad TCP checksums (NIC offload on the capture host); ignored");
    /* Placeholder values for the advice. */
    v->vars.from = d->from;
    v->vars.to = d->to;
    v->vars.remote = d->to;
    v->vars.local = d->from;
    v->vars.qname = d->v_qname[0] ? d->v_qname : NULL;
    v->vars.resolver = d->v_resolver[0] ? d->v_resolver : NULL;
    v->vars.ip = d->v_ip[0] ? d->v_ip : NULL;
    v->vars.port = d->v_port[0] ? d->v_port : NULL;
    v->vars.peer = d->v_peer[0] ? d->v_peer : NULL;
    v->vars.public_ip = d->v_public[0] ? d->v_public : NULL;
    v->vars.private_ip = d->v_private[0] ? d->v_private : NULL;
    v->vars.condition = d->v_cond[0] ? d->v_cond : NULL;
    v->vars.text = d->v_text[0] ? d->v_text : NULL;
    v->vars.alert = d->v_alert[0] ? d->v_alert : NULL;
    v->vars.n = d->v_n[0] ? d->v_n : NULL;
    v->vars.seconds = d->v_seconds[0] ? d->v_seconds : NULL;
    qsort(d->timeline, d->n_timeline, sizeof(*d->timeline), timeline_cmp);
    for (unsigned i = 0; i < d->n_timeline; i++)
        if (v->status == CORR_FAILED && v->n_evidence && d->timeline[i].ref.frame == v->evidence_refs[0].frame)
            d->timeline[i].failing = true;
}
