/*
 * judge_lookup.c - stage 1, the DNS lookup of the receiving domain: SRV,
 * its targets' addresses, the RFC 6120 fallback, private addresses.
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool srv_has_real_target(const struct clookup *l)
{
    for (unsigned i = 0; i < l->nans; i++)
        if (l->ans[i].type == DNS_T_SRV && l->ans[i].target && strcmp(l->ans[i].target, ".") != 0)
            return true;
    return false;
}

static bool srv_has_dot(const struct clookup *l)
{
    for (unsigned i = 0; i < l->nans; i++)
        if (l->ans[i].type == DNS_T_SRV && l->ans[i].target && strcmp(l->ans[i].target, ".") == 0)
            return true;
    return false;
}

/* ---- the stages ------------------------------------------------------- */

static bool any_established(const struct dctx *x)
{
    for (unsigned i = 0; i < x->nout; i++) {
        const struct cconn *k = x->out[i];
        if (k->established || k->midstream || (k->nat_peer && k->nat_peer->established))
            return true;
    }
    return false;
}

void judge_lookup(struct dctx *x)
{
    const struct clookup *srv_ok = NULL, *srv_dot = NULL, *srv_bad = NULL, *addr_ok = NULL, *addr_bad = NULL;
    const struct clookup *priv = NULL;
    struct ft_addr priv_addr;
    char ip[FT_ADDR_STRLEN];

    for (unsigned i = 0; i < x->nlk; i++) {
        const struct clookup *l = x->lk[i];
        timeline_add_lookup(x, l);
        if (l->qtype == DNS_T_SRV) {
            if (l->outcome == DNS_OUT_ANSWERED && srv_has_real_target(l))
                srv_ok = l;
            else if (l->outcome == DNS_OUT_ANSWERED && srv_has_dot(l))
                srv_dot = l;
            else if (l->outcome != DNS_OUT_TRUNCATED_THEN_TCP)
                srv_bad = l;
        } else {
            if (l->outcome == DNS_OUT_ANSWERED)
                addr_ok = l;
            else if (l->outcome != DNS_OUT_TRUNCATED_THEN_TCP)
                addr_bad = l;
        }
        for (unsigned k = 0; k < l->nans; k++)
            if ((l->ans[k].type == DNS_T_A || l->ans[k].type == DNS_T_AAAA) &&
                corr_addr_is_private(&l->ans[k].addr) && !priv) {
                priv = l;
                priv_addr = l->ans[k].addr;
            }
    }
    if (x->nlk == 0) {
        if (x->nout > 0) {
            judge_stage_set(x, STAGE_LOOKUP, STAGE_NOT_SEEN, VERDICT_CODE_NONE,
                      "no DNS lookup for %s in the capture (cached, static route, or resolver not on this path)",
                      x->to);
            judge_note(x, "DNS-NO-QUERY: no lookup of %s was captured", x->to);
        }
        return;
    }
    if (priv && !any_established(x)) {
        const struct clookup *l = priv;
        ft_addr_str(&priv_addr, ip, sizeof(ip));
        corr_copy(x->t.v_private, sizeof(x->t.v_private), ip);
        corr_copy(x->t.v_ip, sizeof(x->t.v_ip), ip);
        corr_copy(x->t.v_qname, sizeof(x->t.v_qname), l->qname);
        judge_evidence(x, &l->response);
        judge_evidence_dns(x, l);
        judge_stage_set(x, STAGE_LOOKUP, STAGE_FAILED, VERDICT_DNS_PRIVATE_ADDR,
                  "%s resolves to the private address %s, which %s cannot reach", l->qname, ip, x->from);
        x->decisive = true;
        return;
    }
    if (srv_ok) {
        if (!addr_ok && addr_bad && x->nout == 0) {
            corr_copy(x->t.v_qname, sizeof(x->t.v_qname), addr_bad->qname);
            judge_evidence(x, &addr_bad->response);
            judge_evidence_dns(x, addr_bad);
            judge_stage_set(x, STAGE_LOOKUP, STAGE_FAILED, VERDICT_DNS_TARGET_NXDOMAIN,
                      "the SRV target %s does not resolve (%s)", addr_bad->qname,
                      dns_outcome_name((enum dns_outcome)addr_bad->outcome));
            x->decisive = addr_bad->has_response;
            return;
        }
        judge_stage_set(x, STAGE_LOOKUP, STAGE_OK, VERDICT_CODE_NONE, "SRV %s answered", srv_ok->qname);
        return;
    }
    if (srv_dot) {
        corr_copy(x->t.v_qname, sizeof(x->t.v_qname), srv_dot->qname);
        judge_evidence(x, &srv_dot->response);
        judge_evidence_dns(x, srv_dot);
        judge_stage_set(x, STAGE_LOOKUP, STAGE_FAILED, VERDICT_DNS_SRV_DOT, "%s says: no XMPP server here (target '.')",
                  srv_dot->qname);
        x->decisive = true;
        return;
    }
    if (addr_ok || any_established(x)) {
        /* No usable SRV, but the RFC 6120 fallback to the domain's own
         * address worked: informational only. */
        if (srv_bad)
            judge_note(x, "%s: %s, fallback to the address of %s (RFC 6120 3.2.2)", srv_bad->qname,
                 dns_outcome_name((enum dns_outcome)srv_bad->outcome), x->to);
        judge_stage_set(x, STAGE_LOOKUP, STAGE_OK, VERDICT_CODE_NONE, "%s", addr_ok ? "address lookup answered (SRV fallback)"
                                                                   : "connected without a visible answer");
        return;
    }
    {
        const struct clookup *l = srv_bad ? srv_bad : addr_bad;
        enum verdict_code code;
        switch (l->outcome) {
        case DNS_OUT_NXDOMAIN:
            code = l->qtype == DNS_T_SRV ? VERDICT_DNS_SRV_NXDOMAIN : VERDICT_DNS_TARGET_NXDOMAIN;
            x->decisive = true;
            break;
        case DNS_OUT_NODATA:
            code = l->qtype == DNS_T_SRV ? VERDICT_DNS_SRV_NODATA : VERDICT_DNS_TARGET_NXDOMAIN;
            x->decisive = true;
            break;
        case DNS_OUT_SERVFAIL:
        case DNS_OUT_REFUSED:
        case DNS_OUT_OTHER_RCODE:
            code = VERDICT_DNS_SERVFAIL;
            x->decisive = true;
            break;
        case DNS_OUT_TRUNCATED:
            code = VERDICT_DNS_TRUNC_NO_TCP;
            break;
        default:
            code = VERDICT_DNS_TIMEOUT;
            break;
        }
        corr_copy(x->t.v_qname, sizeof(x->t.v_qname), l->qname);
        corr_copy(x->t.v_resolver, sizeof(x->t.v_resolver), ft_addr_str(&l->server, ip, sizeof(ip)));
        snprintf(x->t.v_n, sizeof(x->t.v_n), "%u", l->nqueries);
        judge_evidence(x, l->has_response ? &l->response : &l->query);
        if (l->has_response)
            judge_evidence(x, &l->query);
        judge_evidence_dns(x, l);
        if (addr_bad && addr_bad != l) {
            judge_evidence(x, addr_bad->has_response ? &addr_bad->response : &addr_bad->query);
            judge_evidence_dns(x, addr_bad);
        }
        char tb[DNS_TYPE_NAME_BUFLEN];
        judge_stage_set(x, STAGE_LOOKUP, STAGE_FAILED, code, "%s %s: %s%s", dns_type_name(l->qtype, tb, sizeof(tb)),
                  l->qname,
                  dns_outcome_name((enum dns_outcome)l->outcome),
                  addr_bad ? ", and the address fallback failed too" : "");
    }
}
