/*
 * judge_connect.c - stage 2, the TCP connection to the receiving server:
 * reset, unanswered SYNs, a static PAT to the wrong inside port, a private
 * address.  Picks the connection the later stages judge (x->main).
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void judge_connect(struct dctx *x)
{
    struct cconn *rej = NULL, *s0 = NULL, *best = NULL;
    char a[80], s[24];

    for (unsigned i = 0; i < x->nout; i++) {
        struct cconn *k = x->out[i];
        timeline_add_conn(x, k, STAGE_CONNECT);
        if (k->established || k->midstream || k->nev > 0) {
            if (!best || conn_decided_ns(k) > conn_decided_ns(best) ||
                (conn_decided_ns(k) == conn_decided_ns(best) && conn_richness(k) > conn_richness(best)))
                best = k;
        } else if (k->rst.frame && k->rst_dir == FT_DIR_RESP) {
            rej = k;
        } else if (k->syn.frame) {
            s0 = k;
        }
    }
    x->main = best;
    if (judge_failed(x))
        return;
    if (x->nout == 0) {
        if (x->d->stages[STAGE_LOOKUP] == STAGE_OK) {
            judge_stage_set(x, STAGE_CONNECT, STAGE_NOT_SEEN, VERDICT_CODE_NONE, "no connection attempt from %s to %s seen", x->from,
                      x->to);
        }
        return;
    }
    if (best) {
        corr_addr_port(a, sizeof(a), &best->addr[1], best->port[1]);
        if (best->midstream)
            judge_stage_set(x, STAGE_CONNECT, STAGE_NOT_SEEN, VERDICT_CODE_NONE, "connection to %s was already open", a);
        else
            judge_stage_set(x, STAGE_CONNECT, STAGE_OK, VERDICT_CODE_NONE, "connected to %s", a);
        return;
    }
    if (rej) {
        struct cconn *peer = rej->nat_peer;
        corr_addr_port(a, sizeof(a), &rej->addr[1], rej->port[1]);
        ft_addr_str(&rej->addr[1], x->t.v_ip, sizeof(x->t.v_ip));
        snprintf(x->t.v_port, sizeof(x->t.v_port), "%u", rej->port[1]);
        judge_evidence(x, &rej->syn);
        judge_evidence(x, &rej->rst);
        judge_evidence_flow(x, rej);
        x->decisive = true;
        if (peer && peer->port[1] != rej->port[1] && conn_same_endpoint(peer, 0, rej, 0)) {
            /* The primary of the pair may be either view: the inside one
             * is the one that goes to a private address. */
            const struct cconn *pub = peer, *in = rej;
            char p[80], q[80];
            if (corr_addr_is_private(&peer->addr[1]) && !corr_addr_is_private(&rej->addr[1])) {
                pub = rej;
                in = peer;
            }
            corr_addr_port(p, sizeof(p), &pub->addr[1], pub->port[1]);
            corr_addr_port(q, sizeof(q), &in->addr[1], in->port[1]);
            judge_evidence_flow(x, peer);
            /* advice values are bare addresses: the ports are in the text */
            ft_addr_str(&pub->addr[1], x->t.v_public, sizeof(x->t.v_public));
            ft_addr_str(&in->addr[1], x->t.v_private, sizeof(x->t.v_private));
            judge_stage_set(x, STAGE_CONNECT, STAGE_FAILED, VERDICT_TCP_PAT_MISMATCH,
                      "%s is translated to %s, where nothing listens (reset)", p, q);
            return;
        }
        judge_stage_set(x, STAGE_CONNECT, STAGE_FAILED, VERDICT_TCP_RST, "%s refused the connection (reset)", a);
        return;
    }
    if (s0) {
        corr_addr_port(a, sizeof(a), &s0->addr[1], s0->port[1]);
        ft_addr_str(&s0->addr[1], x->t.v_ip, sizeof(x->t.v_ip));
        snprintf(x->t.v_port, sizeof(x->t.v_port), "%u", s0->port[1]);
        snprintf(x->t.v_n, sizeof(x->t.v_n), "%u", s0->syn_count);
        judge_evidence(x, &s0->syn);
        judge_evidence_flow(x, s0);
        if (corr_addr_is_private(&s0->addr[1]) && !s0->nat_peer) {
            corr_copy(x->t.v_private, sizeof(x->t.v_private), x->t.v_ip);
            judge_stage_set(x, STAGE_CONNECT, STAGE_FAILED, VERDICT_DNS_PRIVATE_ADDR,
                      "%s tried the private address %s: %s, no answer", x->from, a,
                      corr_syns_str(s0->syn_count, s, sizeof(s)));
            return;
        }
        ft_addr_str(&s0->addr[0], x->t.v_peer, sizeof(x->t.v_peer));
        judge_stage_set(x, STAGE_CONNECT, STAGE_FAILED, VERDICT_TCP_NO_SYNACK, "%s to %s, never answered", 
                  corr_syns_str(s0->syn_count, s, sizeof(s)), a);
        if (x->c->nsources > 1 && !s0->nat_peer)
            judge_note(x, "this connection attempt appears at one capture point only: it was not forwarded%s",
                       corr_addr_is_private(&s0->addr[0]) ? " outbound (the firewall dropped it)" : "");
        else if (x->c->nsources == 1 && corr_addr_is_private(&s0->addr[0]) && !corr_addr_is_private(&s0->addr[1]))
            judge_note(x, "seen from inside only: a capture outside the firewall would tell a firewall that drops "
                          "it from a remote that does not answer");
    }
}
