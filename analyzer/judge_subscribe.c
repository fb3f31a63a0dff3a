/*
 * judge_subscribe.c - stage 6, presence subscription (RFC 6121 3.1): the
 * subscribe a user sent (c2s, when captured), its relay over s2s and the
 * answer or bounce.
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The last subscribe a user of `udom` sent to a user of `rdom` on a
 * client (5222) connection, and the server's first presence answer back
 * from that contact (subscribed, unsubscribed or an error). */
static void find_c2s_subscribe(const struct correlator *c, const char *udom, const char *rdom,
                               const struct cev **csub, const struct cconn **ck, const struct cev **cans)
{
    char key[2 * STR_CAP + 2], dt[STR_CAP];
    size_t n = corr_index_key2(key, sizeof(key), udom, rdom);
    *csub = *cans = NULL;
    *ck = NULL;
    for (uint32_t h = corr_index_first(&c->csub_ix, key, n); h; h = corr_index_next(&c->csub_ix, h)) {
        const struct corr_index_val *iv = corr_index_val(&c->csub_ix, h);
        const struct cconn *k = c->conns[iv->a];
        const struct cev *v = &k->ev[iv->b];
        char dom[STR_CAP];
        if (!identity_c2s_domain(k, dom, sizeof(dom)) || strcasecmp(dom, udom) != 0)
            continue;
        corr_jid_domain(v->to, dt, sizeof(dt));
        if (strcasecmp(dt, rdom) != 0)
            continue;
        if (!*csub || v->ref.ts_ns > (*csub)->ref.ts_ns) {
            *csub = v;
            *ck = k;
        }
    }
    if (!*csub)
        return;
    for (unsigned e = 0; e < (*ck)->nev; e++) {
        const struct cev *v = &(*ck)->ev[e];
        if (v->type == CEV_STANZA && v->flags == XMPP_STANZA_PRESENCE && v->dir == FT_DIR_RESP &&
            v->ref.ts_ns >= (*csub)->ref.ts_ns && corr_jid_eq_bare(v->from, (*csub)->to) &&
            (v->sub == XMPP_PRES_SUBSCRIBED || v->sub == XMPP_PRES_UNSUBSCRIBED || v->sub == XMPP_PRES_ERROR)) {
            *cans = v;
            return;
        }
    }
}

void judge_subscribe(struct dctx *x)
{
    const struct cev *sub = NULL, *ansr = NULL;
    const struct cconn *subk = NULL, *ansk = NULL;
    char df[STR_CAP], dt[STR_CAP], key[2 * STR_CAP + 2];
    const struct correlator *c = x->c;
    size_t n;

    if (judge_failed(x))
        return;
    /* The last subscribe from a user of `from` to a user of `to`. */
    n = corr_index_key2(key, sizeof(key), x->from, x->to);
    for (uint32_t h = corr_index_first(&c->sub_ix, key, n); h; h = corr_index_next(&c->sub_ix, h)) {
        const struct corr_index_val *iv = corr_index_val(&c->sub_ix, h);
        const struct cconn *k = c->conns[iv->a];
        const struct cev *v = &k->ev[iv->b];
        corr_jid_domain(v->from, df, sizeof(df));
        corr_jid_domain(v->to, dt, sizeof(dt));
        if (strcasecmp(df, x->from) != 0 || strcasecmp(dt, x->to) != 0)
            continue;
        if (!sub || v->ref.ts_ns > sub->ref.ts_ns) {
            sub = v;
            subk = k;
        }
    }
    /* The client side (5222), when captured: the subscribe as the user
     * sent it, and what the server told the user back. */
    const struct cev *csub = NULL, *cans = NULL;
    const struct cconn *ck = NULL;
    find_c2s_subscribe(c, x->from, x->to, &csub, &ck, &cans);
    if (csub) {
        timeline_add_event(x, ck, csub);
        if (cans)
            timeline_add_event(x, ck, cans);
    }
    if (!sub && csub && cans && cans->sub == XMPP_PRES_SUBSCRIBED) {
        /* The remote user's answer reached the user: the subscribe
         * crossed to `to` and the answer came back, inside TLS or not. */
        judge_evidence(x, &cans->ref);
        judge_evidence_flow(x, ck);
        if (!x->rule)
            x->rule = "c2s-subscribed";
        judge_stage_set(x, STAGE_SUBSCRIBE, STAGE_OK, VERDICT_CODE_NONE,
                        "%s approved the subscription (seen on the client side: the s2s legs both ways worked)",
                        cans->from ? cans->from : x->to);
        return;
    }
    if (!sub && !csub && x->d->stages[STAGE_AUTH] != STAGE_OK) {
        /* A subscription the other way round, answered, proves this
         * direction carries stanzas: the answer travelled from `from` to
         * `to`.  Only needed when nothing else showed it (encrypted). */
        const struct cev *rsub = NULL, *rans = NULL;
        const struct cconn *rk = NULL;
        find_c2s_subscribe(c, x->to, x->from, &rsub, &rk, &rans);
        if (rsub && rans && rans->sub == XMPP_PRES_SUBSCRIBED) {
            timeline_add_event(x, rk, rans);
            judge_evidence(x, &rans->ref);
            judge_evidence_flow(x, rk);
            if (!x->rule)
                x->rule = "c2s-subscribed";
            x->inferred_ok = true;
            judge_stage_set(x, STAGE_SUBSCRIBE, STAGE_NOT_SEEN, VERDICT_CODE_NONE,
                            "%s's answer to a subscription from %s reached the user (client side): %s -> %s "
                            "carries stanzas",
                            rans->from ? rans->from : x->from, rsub->from ? rsub->from : x->to, x->from, x->to);
            return;
        }
    }
    if (!sub && csub) {
        /* The user asked; nothing crossed s2s. */
        judge_evidence(x, &csub->ref);
        judge_evidence_flow(x, ck);
        if (cans && cans->sub == XMPP_PRES_ERROR) {
            judge_evidence(x, &cans->ref);
            corr_copy(x->t.v_cond, sizeof(x->t.v_cond), cans->cond);
            x->decisive = true;
            judge_stage_set(x, STAGE_SUBSCRIBE, STAGE_FAILED,
                      cans->cond && strcmp(cans->cond, "remote-server-not-found") == 0 ? VERDICT_STZ_BOUNCE_RSNF
                      : cans->cond && strcmp(cans->cond, "remote-server-timeout") == 0 ? VERDICT_STZ_BOUNCE_RST
                      : cans->cond && strcmp(cans->cond, "service-unavailable") == 0   ? VERDICT_STZ_SVC_UNAVAIL
                                                                                       : VERDICT_STZ_ERROR,
                      "%s bounced the subscription to %s back to the user: %s", x->from,
                      csub->to ? csub->to : x->to, cans->cond ? cans->cond : "error");
            return;
        }
        if (x->d->stages[STAGE_AUTH] == STAGE_OK && !x->opaque) {
            judge_stage_set(x, STAGE_SUBSCRIBE, STAGE_FAILED, VERDICT_STZ_SUB_NOT_SENT,
                      "the user's subscribe to %s was never relayed over s2s", csub->to ? csub->to : x->to);
            return;
        }
        judge_stage_set(x, STAGE_SUBSCRIBE, STAGE_NOT_SEEN, VERDICT_CODE_NONE, "the user asked to subscribe to %s; no s2s relay seen",
                  csub->to ? csub->to : x->to);
        return;
    }
    if (!sub)
        return;
    timeline_add_event(x, subk, sub);
    corr_jid_bare(sub->to, df, sizeof(df));
    corr_jid_bare(sub->from, dt, sizeof(dt));
    n = corr_index_key2(key, sizeof(key), df, dt);
    for (uint32_t h = corr_index_first(&c->answer_ix, key, n); h; h = corr_index_next(&c->answer_ix, h)) {
        const struct corr_index_val *iv = corr_index_val(&c->answer_ix, h);
        const struct cconn *k = c->conns[iv->a];
        const struct cev *v = &k->ev[iv->b];
        if (v->ref.ts_ns < sub->ref.ts_ns)
            continue;
        if (!corr_jid_eq_bare(v->from, sub->to) || !corr_jid_eq_bare(v->to, sub->from))
            continue;
        if (!ansr || v->ref.ts_ns < ansr->ref.ts_ns) {
            ansr = v;
            ansk = k;
        }
    }
    if (ansr)
        timeline_add_event(x, ansk, ansr);
    if (ansr && ansr->sub == XMPP_PRES_SUBSCRIBED) {
        judge_stage_set(x, STAGE_SUBSCRIBE, STAGE_OK, VERDICT_CODE_NONE, "%s approved the subscription of %s", ansr->from, sub->from);
        return;
    }
    judge_evidence(x, &sub->ref);
    judge_evidence_flow(x, subk);
    if (ansr) {
        judge_evidence(x, &ansr->ref);
        judge_evidence_flow(x, ansk);
        x->decisive = true;
        if (ansr->sub == XMPP_PRES_UNSUBSCRIBED) {
            judge_stage_set(x, STAGE_SUBSCRIBE, STAGE_FAILED, VERDICT_STZ_UNSUBSCRIBED, "%s refused the subscription of %s",
                      ansr->from ? ansr->from : x->to, sub->from ? sub->from : x->from);
            return;
        }
        corr_copy(x->t.v_cond, sizeof(x->t.v_cond), ansr->cond);
        judge_stage_set(x, STAGE_SUBSCRIBE, STAGE_FAILED,
                  ansr->cond && strcmp(ansr->cond, "remote-server-not-found") == 0 ? VERDICT_STZ_BOUNCE_RSNF
                  : ansr->cond && strcmp(ansr->cond, "service-unavailable") == 0 ? VERDICT_STZ_SVC_UNAVAIL
                                                                                 : VERDICT_STZ_ERROR,
                  "the subscription to %s bounced with %s", sub->to ? sub->to : x->to,
                  ansr->cond ? ansr->cond : "an error");
        return;
    }
    {
        int64_t waited = x->c->capture_end_ns - sub->ref.ts_ns;
        x->read_clock = true;
        snprintf(x->t.v_seconds, sizeof(x->t.v_seconds), "%.0f", (double)waited / 1e9);
        /* Unanswered when the capture ends: pending.  Before the timeout
         * the capture may simply have stopped too early (low confidence). */
        /* Not a broken federation: the subscribe crossed s2s and the
         * contact has not answered (yet).  The direction is OK with the
         * subscription pending (judge_direction). */
        judge_stage_set(x, STAGE_SUBSCRIBE, STAGE_NOT_SEEN, VERDICT_CODE_NONE,
                  "%s asked to subscribe to %s; no answer in the %s s the capture still ran: pending%s",
                  sub->from ? sub->from : x->from, sub->to ? sub->to : x->to, x->t.v_seconds,
                  waited < x->c->cfg.subscribe_timeout_ns ? " (the capture may have stopped too early)" : "");
        x->pending = true;
    }
}
