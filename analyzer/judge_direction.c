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

struct text_move {
    const char **dst;
    const char *src;
    bool opt; /* empty -> NULL */
};

static int by_start(const void *a, const void *b)
{
    const struct cconn *x = *(struct cconn *const *)a, *y = *(struct cconn *const *)b;
    int64_t sx = conn_start(x), sy = conn_start(y);
    if (sx != sy)
        return sx < sy ? -1 : 1;
    return x->flow_id < y->flow_id ? -1 : x->flow_id > y->flow_id;
}

/* An address the book knows for `dom`, private (behind the NAT) or not. */
static const struct ft_addr *book_addr(const struct correlator *c, const char *dom, bool private)
{
    return identity_book_addr(c, dom, private);
}

/* Advice values the judges did not set, from what the capture shows
 * about the two domains: our server's inside and public addresses (the
 * side with a private address is ours), the other server's address, the
 * port.  What stays unknown is named for the reader by verdict_render. */
static const char *fill_advice_values(struct dctx *x)
{
    const struct correlator *c = x->c;
    const char *ours = book_addr(c, x->from, true) ? x->from : book_addr(c, x->to, true) ? x->to : NULL;
    const char *theirs;
    const struct ft_addr *a;
    if (!ours) /* no private address seen: the side that was dialled and failed */
        ours = x->d->verdict.stage == STAGE_AUTH ? x->from : x->to;
    theirs = ours == x->from ? x->to : x->from;
    if (ours && !x->t.v_private[0] && (a = book_addr(c, ours, true)) != NULL)
        ft_addr_str(a, x->t.v_private, sizeof(x->t.v_private));
    if (ours && !x->t.v_public[0] && (a = book_addr(c, ours, false)) != NULL)
        ft_addr_str(a, x->t.v_public, sizeof(x->t.v_public));
    if (!x->t.v_ip[0]) {
        if (x->main && x->main->have_tcp)
            ft_addr_str(&x->main->addr[FT_DIR_RESP], x->t.v_ip, sizeof(x->t.v_ip));
        else if ((a = book_addr(c, x->to, false)) != NULL || (a = book_addr(c, x->to, true)) != NULL)
            ft_addr_str(a, x->t.v_ip, sizeof(x->t.v_ip));
    }
    if (!x->t.v_peer[0] && (a = book_addr(c, theirs, false)) != NULL)
        ft_addr_str(a, x->t.v_peer, sizeof(x->t.v_peer));
    if (!x->t.v_port[0])
        snprintf(x->t.v_port, sizeof(x->t.v_port), "%u",
                 x->main && x->main->port[FT_DIR_RESP] ? x->main->port[FT_DIR_RESP] : 5269u);
    return ours;
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
    unsigned filled;

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
            if (c->lookups[corr_index_val(&c->lookup_dom_ix, h)->a]) /* not freed */
                x.lk[x.nlk++] = c->lookups[corr_index_val(&c->lookup_dom_ix, h)->a];
    }

    timeline_index_reserve(&x, d->cap_timeline);
    judge_lookup(&x);
    judge_connect(&x);
    judge_stream(&x);
    judge_tls(&x);
    judge_dialback(&x);
    judge_subscribe(&x);
    filled = carry_fill_stages(&x);

    for (unsigned i = 0; i < x.nout; i++) {
        const struct cconn *k = x.out[i];
        gaps |= k->gaps[0] || k->gaps[1];
        midstream |= k->midstream;
        badcsum |= k->badcsum[0] || k->badcsum[1];
    }
    if (v->status == CORR_FAILED) {
        v->confidence = x.decisive ? "high" : "medium";
        if ((v->code == VERDICT_TLS_CLOSED_AFTER_HANDSHAKE && !x.rule) || x.low_confidence)
            v->confidence = "low";
        corr_copy(x.t.summary, sizeof(x.t.summary), x.t.stage_detail[v->stage]);
    } else {
        bool auth_ok = d->stages[STAGE_AUTH] == STAGE_OK, sub_ok = d->stages[STAGE_SUBSCRIBE] == STAGE_OK;
        bool flowing = false;
        for (unsigned i = 0; i < x.nout; i++)
            flowing |= x.out[i]->stanzas[FT_DIR_ORIG] > 0;
        if (auth_ok || sub_ok) {
            v->status = CORR_OK;
            v->code = VERDICT_OK;
            v->confidence = x.rule && !sub_ok ? "medium" : "high";
            /* authentication read from record sizes is inferred: the last
             * stage the capture shows is TLS */
            v->stage = sub_ok ? STAGE_SUBSCRIBE
                       : x.rule && strncmp(x.rule, "tls-", 4) == 0 ? STAGE_TLS : STAGE_AUTH;
            corr_format(x.t.summary, sizeof(x.t.summary), "%s -> %s works: %s%s%s", d->from, d->to,
                     x.t.stage_detail[STAGE_AUTH], sub_ok ? "; " : "", sub_ok ? x.t.stage_detail[STAGE_SUBSCRIBE] : "");
        } else if (flowing || x.inferred_ok) {
            v->status = CORR_OK;
            v->code = VERDICT_OK;
            v->confidence = "medium";
            v->stage = STAGE_AUTH;
            corr_format(x.t.summary, sizeof(x.t.summary), "%s -> %s carries stanzas (authentication not seen)", d->from,
                     d->to);
        } else if (x.opaque && x.main && x.main->last_ns - x.main->first_ns > 5 * FT_NS_PER_SEC &&
                   !x.main->rst.frame) {
            v->status = CORR_OK;
            v->code = VERDICT_OK;
            v->confidence = "low";
            v->stage = STAGE_TLS;
            corr_format(x.t.summary, sizeof(x.t.summary),
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
                corr_format(x.t.summary, sizeof(x.t.summary), "%s -> %s: not enough was captured to judge any stage",
                         d->from, d->to);
            else
                corr_format(x.t.summary, sizeof(x.t.summary),
                         "%s -> %s: not enough was captured to judge what followed the %s stage (%s)", d->from,
                         d->to, fed_stage_name((enum fed_stage)last), x.t.stage_detail[last]);
        }
        if (x.main)
            judge_evidence_flow(&x, x.main);
        if (v->status == CORR_OK && x.pending) {
            /* the federation works; a person has not answered yet */
            size_t n = strlen(x.t.summary);
            v->code = VERDICT_STZ_SUB_PENDING;
            v->stage = STAGE_SUBSCRIBE;
            corr_format(x.t.summary + n, sizeof(x.t.summary) - n, "; subscription pending: %s",
                     x.t.stage_detail[STAGE_SUBSCRIBE]);
        }
    }
    carry_settle(&x, filled);
    if (x.rule && (v->status != CORR_UNKNOWN)) {
        v->inferred = true;
        v->rule = x.rule;
    }
    if (gaps) {
        judge_note(&x, "CAP-GAPS: the capture missed data on this federation's connections");
        v->confidence = downgrade(v->confidence);
    }
    if (midstream && v->status != CORR_UNKNOWN) {
        bool noted = false; /* eval_stream may have said it already */
        for (unsigned i = 0; i < v->n_notes; i++)
            noted |= strncmp(x.t.notes[i], "CAP-MIDSTREAM", 13) == 0;
        if (!noted)
            judge_note(&x, "CAP-MIDSTREAM: a connection was already open when the capture started");
        v->confidence = downgrade(v->confidence);
    }
    if (badcsum)
        judge_note(&x, "CAP-BAD-CSUM: bad TCP checksums (NIC offload on the capture host); ignored");
    v->vars.server = NULL;
    if (v->status == CORR_FAILED)
        corr_copy(x.t.v_server, sizeof(x.t.v_server), fill_advice_values(&x));
    /* Placeholder values for the advice. */
    v->vars.from = d->from;
    v->vars.to = d->to;
    v->vars.remote = d->to;
    v->vars.local = d->from;
    {
        /* Every string of the verdict moves from the judges' scratch text
         * into one block the direction owns, sized to what was written. */
        struct text_move m[STAGE_COUNT + 18];
        unsigned n = 0;
        size_t total = 0;
        char *p;
        for (int s = 0; s < STAGE_COUNT; s++)
            m[n++] = (struct text_move){ &d->stage_detail[s], x.t.stage_detail[s], false };
        m[n++] = (struct text_move){ &v->summary, x.t.summary, false };
        for (unsigned i = 0; i < v->n_notes; i++)
            m[n++] = (struct text_move){ &v->notes[i], x.t.notes[i], false };
        m[n++] = (struct text_move){ &v->vars.qname, x.t.v_qname, true };
        m[n++] = (struct text_move){ &v->vars.resolver, x.t.v_resolver, true };
        m[n++] = (struct text_move){ &v->vars.ip, x.t.v_ip, true };
        m[n++] = (struct text_move){ &v->vars.port, x.t.v_port, true };
        m[n++] = (struct text_move){ &v->vars.peer, x.t.v_peer, true };
        m[n++] = (struct text_move){ &v->vars.public_ip, x.t.v_public, true };
        m[n++] = (struct text_move){ &v->vars.private_ip, x.t.v_private, true };
        m[n++] = (struct text_move){ &v->vars.condition, x.t.v_cond, true };
        m[n++] = (struct text_move){ &v->vars.text, x.t.v_text, true };
        m[n++] = (struct text_move){ &v->vars.alert, x.t.v_alert, true };
        m[n++] = (struct text_move){ &v->vars.n, x.t.v_n, true };
        m[n++] = (struct text_move){ &v->vars.seconds, x.t.v_seconds, true };
        /* a copy: the federation's names may be replaced after this
         * judgement, while the advice is rendered when it is written */
        m[n++] = (struct text_move){ &v->vars.server, x.t.v_server, true };
        for (unsigned i = 0; i < n; i++)
            total += strlen(m[i].src) + 1;
        free(d->text);
        d->text = p = malloc(total);
        for (unsigned i = 0; i < n; i++) {
            size_t len = strlen(m[i].src);
            if (m[i].opt && !len) {
                *m[i].dst = NULL;
                continue;
            }
            if (!p) {
                *m[i].dst = "";
                continue;
            }
            memcpy(p, m[i].src, len + 1);
            *m[i].dst = p;
            p += len + 1;
        }
    }
    carry_timeline(&x);
    if (d->n_timeline > 1) /* an empty timeline has no array */
        timeline_sort(d->timeline, d->n_timeline);
    for (unsigned i = 0; i < d->n_timeline; i++)
        if (v->status == CORR_FAILED && v->n_evidence && d->timeline[i].ref.frame == v->evidence_refs[0].frame)
            d->timeline[i].failing = true;
    /* Where each stage passed stays when the timeline is cut (and says,
     * once those facts are retired, where and when it was seen). */
    for (int st = 0; st < STAGE_CAPTURE; st++) {
        if (d->stages[st] != STAGE_OK && d->stages[st] != STAGE_OPAQUE)
            continue;
        for (unsigned i = d->n_timeline; i-- > 0;)
            if (d->timeline[i].stage == (enum fed_stage)st) {
                d->timeline[i].key = true;
                break;
            }
    }
    d->read_clock = x.read_clock;
    free(x.tl_slot);
}
