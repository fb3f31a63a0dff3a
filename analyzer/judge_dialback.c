/*
 * judge_dialback.c - stage 5, authentication: SASL EXTERNAL or dialback
 * (XEP-0220) with its db:verify on a connection of the receiving side and
 * the connect-back that may never have worked.
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A db:verify request for a key: sent by `verifier` about `claimed`. */
static const struct cev *find_verify(const struct correlator *c, const char *verifier, const char *claimed,
                                     const char *stream_id, int64_t after, const struct cconn **on)
{
    char key[2 * STR_CAP + 2];
    size_t n = corr_index_key2(key, sizeof(key), verifier, claimed);
    for (uint32_t h = corr_index_first(&c->verify_ix, key, n); h; h = corr_index_next(&c->verify_ix, h)) {
        const struct corr_index_val *iv = corr_index_val(&c->verify_ix, h);
        const struct cconn *k = c->conns[iv->a];
        const struct cev *v = &k->ev[iv->b];
        if (nat_clock(c, v->ref.source, v->ref.ts_ns) < after) /* on one clock */
            continue;
        if (strcasecmp(v->from, verifier) != 0 || strcasecmp(v->to, claimed) != 0)
            continue;
        if (stream_id && v->id && strcmp(stream_id, v->id) != 0)
            continue;
        *on = k;
        return v;
    }
    return NULL;
}

/* The answer to a verify request on the same connection. */
static const struct cev *verify_answer(const struct cconn *k, const struct cev *req)
{
    for (unsigned e = 0; e < k->nev; e++) {
        const struct cev *v = &k->ev[e];
        if (v->type == CEV_DB_VERIFY && v->dir != req->dir && v->sub != XMPP_DB_NONE &&
            v->ref.ts_ns >= req->ref.ts_ns && (!req->id || !v->id || strcmp(req->id, v->id) == 0))
            return v;
    }
    return NULL;
}

/* Connection attempts by the receiving side back to the originating
 * domain (the dialback connect-back), after `after`. */
static void connect_back_attempts(struct dctx *x, int64_t after, struct cconn **failed_out,
                                  struct cconn **ok_out)
{
    *failed_out = *ok_out = NULL;
    const struct correlator *c = x->c;
    for (uint32_t h = registry_dir_conns(c, x->to, x->from); h; h = corr_index_next(&c->dir_conn_ix, h)) {
        struct cconn *k = c->conns[corr_index_val(&c->dir_conn_ix, h)->a];
        if (conn_start(k) < after - FT_NS_PER_SEC) /* both on the reference clock */
            continue;
        timeline_add_tcp(x, k, STAGE_AUTH);
        if (k->established || k->nev)
            *ok_out = k;
        else if (!*failed_out)
            *failed_out = k;
    }
}

/* Authentication inside TLS, from the record sizes (judge_records.c):
 * a stream restart after a <success/>-sized answer is SASL EXTERNAL that
 * worked; XMPP both ways well past the header exchange on a connection
 * that was not torn down is an authenticated stream.  True when decided. */
static bool judge_auth_from_records(struct dctx *x, const struct cconn *k)
{
    const struct rec_shape *sh = &x->shape;
    bool torn = k->rst.frame != 0;
    int64_t span;
    if (!sh->have)
        return false;
    if (sh->db_request && sh->db_answer) {
        /* dialback inside TLS: the request and the answer have the sizes
         * the two domains and the key predict (judge_records.c) */
        judge_evidence(x, &sh->db_request->ref);
        judge_evidence(x, &sh->db_answer->ref);
        judge_evidence_flow(x, k);
        x->rule = "tls-dialback-size";
        if (sh->db_valid) {
            judge_stage_set(x, STAGE_AUTH, STAGE_OK, VERDICT_CODE_NONE,
                            "dialback, inferred: %s sent a <db:result>-sized record (%u bytes) and %s answered with "
                            "a type='valid'-sized one (%u bytes)",
                            x->from, sh->db_request->len, x->to, sh->db_answer->len);
        } else {
            judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_DB_INVALID,
                            "dialback, inferred: %s sent a <db:result>-sized record (%u bytes) and %s answered with "
                            "a type='invalid'-sized one (%u bytes): the key was not accepted",
                            x->from, sh->db_request->len, x->to, sh->db_answer->len);
        }
        return true;
    }
    if (sh->restart) {
        judge_evidence(x, &sh->restart->ref);
        if (sh->success)
            judge_evidence(x, &sh->success->ref);
        judge_evidence_flow(x, k);
        x->rule = "tls-sasl-restart";
        judge_stage_set(x, STAGE_AUTH, STAGE_OK, VERDICT_CODE_NONE,
                        "SASL EXTERNAL, inferred: %s restarted its stream (a %u-byte record, the size of its first "
                        "header) after %s answer",
                        x->from, sh->restart->len, sh->success ? "a <success/>-sized" : "the receiver's");
        return true;
    }
    span = sh->last[0] && sh->first[0] ? sh->last[0]->ref.ts_ns - sh->first[0]->ref.ts_ns : 0;
    if (sh->data[0] >= 3 && sh->data[1] >= 2 && (!torn || span > 5 * FT_NS_PER_SEC)) {
        judge_evidence(x, &sh->last[0]->ref);
        judge_evidence_flow(x, k);
        x->rule = "tls-data-both-ways";
        judge_stage_set(x, STAGE_AUTH, STAGE_OK, VERDICT_CODE_NONE,
                        "inferred: the stream carried XMPP both ways after the handshake (%u records from %s, %u "
                        "from %s)",
                        sh->data[0], x->from, sh->data[1], x->to);
        return true;
    }
    return false;
}

/* The DNS lookup whose address answer is `a` (the last one). */
static const struct clookup *lookup_answering(const struct correlator *c, const struct ft_addr *a)
{
    const struct clookup *found = NULL;
    for (uint32_t h = corr_index_first(&c->ans_addr_ix, a, sizeof(*a)); h; h = corr_index_next(&c->ans_addr_ix, h))
        if (c->lookups[corr_index_val(&c->ans_addr_ix, h)->a])
            found = c->lookups[corr_index_val(&c->ans_addr_ix, h)->a];
    return found;
}

void judge_dialback(struct dctx *x)
{
    struct cconn *k = x->main;
    const struct cev *sasl, *dbr = NULL, *ans = NULL, *err;
    const char *sid = NULL;
    if (judge_failed(x) || !k)
        return;
    if (x->opaque) {
        if (judge_auth_from_records(x, k))
            return;
        if (k->stanzas[FT_DIR_ORIG] == 0)
            judge_stage_set(x, STAGE_AUTH, STAGE_OPAQUE, VERDICT_CODE_NONE, "inside TLS");
        return;
    }
    sasl = conn_first_ev(k, CEV_SASL_AUTH, FT_DIR_ORIG);
    if (sasl) {
        const struct cev *ok = conn_first_ev(k, CEV_SASL_SUCCESS, FT_DIR_RESP);
        const struct cev *no = conn_first_ev(k, CEV_SASL_FAILURE, FT_DIR_RESP);
        if (ok) {
            judge_stage_set(x, STAGE_AUTH, STAGE_OK, VERDICT_CODE_NONE, "SASL %s accepted", sasl->text ? sasl->text : "");
            return;
        }
        if (no) {
            corr_copy(x->t.v_cond, sizeof(x->t.v_cond), no->cond);
            judge_evidence(x, &no->ref);
            judge_evidence(x, &sasl->ref);
            judge_evidence_flow(x, k);
            x->decisive = true;
            judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_SASL_FAIL, "%s refused SASL %s (%s)", x->to,
                      sasl->text ? sasl->text : "", no->cond ? no->cond : "failure");
            return;
        }
    }
    for (unsigned i = 0; i < k->nev; i++) {
        const struct cev *e = &k->ev[i];
        if (e->type != CEV_DB_RESULT)
            continue;
        if (e->dir == FT_DIR_ORIG && e->sub == XMPP_DB_NONE && !dbr)
            dbr = e;
        else if (e->dir == FT_DIR_RESP && e->sub != XMPP_DB_NONE && dbr && !ans)
            ans = e;
    }
    err = judge_first_stream_error(k);
    if (!dbr) {
        if (err && !judge_before_negotiation(k, err)) {
            judge_fail_stream_error(x, STAGE_AUTH, k, err);
            return;
        }
        if (k->stanzas[FT_DIR_ORIG] > 0) {
            judge_stage_set(x, STAGE_AUTH, STAGE_NOT_SEEN, VERDICT_CODE_NONE, "stanzas flow, authentication not seen");
            x->inferred_ok = true;
            if (!x->rule)
                x->rule = "stanzas-flow";
        }
        return;
    }
    {
        /* The id of the receiving stream the key was sent on: the last
         * header before it (after STARTTLS the stream restarts inside TLS
         * with a new id, which a decrypted capture shows). */
        const struct cev *hr = NULL;
        for (unsigned i = 0; i < k->nev; i++)
            if (k->ev[i].type == CEV_OPEN && k->ev[i].dir == FT_DIR_RESP &&
                (!hr || k->ev[i].ref.ts_ns <= dbr->ref.ts_ns))
                hr = &k->ev[i];
        sid = hr && hr->id && *hr->id ? hr->id : NULL;
    }
    /* The receiving server checks the key by asking the originating
     * domain's authoritative server over a connection of its own. */
    {
        const struct cconn *vk = NULL;
        const struct cev *vreq = find_verify(x->c, x->to, x->from, sid, nat_clock(x->c, dbr->ref.source, dbr->ref.ts_ns), &vk);
        const struct cev *vans = vreq ? verify_answer(vk, vreq) : NULL;
        char peer[80];
        if (vreq) {
            corr_addr_port(peer, sizeof(peer), &vk->addr[vreq->dir == FT_DIR_ORIG ? 1 : 0],
                          vk->port[vreq->dir == FT_DIR_ORIG ? 1 : 0]);
            corr_copy(x->t.v_peer, sizeof(x->t.v_peer), peer);
            timeline_add_event(x, vk, vreq);
            if (vans)
                timeline_add_event(x, vk, vans);
        }
        if (ans && ans->sub == XMPP_DB_VALID) {
            judge_stage_set(x, STAGE_AUTH, STAGE_OK, VERDICT_CODE_NONE, "dialback valid%s%s", vreq ? ", verified via " : "",
                      vreq ? peer : "");
            if (!vreq)
                judge_note(x, "no db:verify seen for this key (verified on a connection not captured, or XEP-0344 shortcut)");
            return;
        }
        if (ans && ans->sub == XMPP_DB_INVALID) {
            judge_evidence(x, &ans->ref);
            judge_evidence(x, &dbr->ref);
            if (vans)
                judge_evidence(x, &vans->ref);
            judge_evidence_flow(x, k);
            if (vk)
                judge_evidence_flow(x, vk);
            x->decisive = true;
            if (vans && vans->sub == XMPP_DB_INVALID && vk) {
                /* Who answered for the originating domain, against where its
                 * key really came from: a different host means the receiving
                 * side's DNS for that domain leads somewhere else. */
                const struct ft_addr *answerer = &vk->addr[vreq->dir == FT_DIR_ORIG ? 1 : 0];
                bool elsewhere = !ft_addr_eq(answerer, &k->addr[FT_DIR_ORIG]) &&
                                 !(k->nat_peer && ft_addr_eq(answerer, &k->nat_peer->addr[FT_DIR_ORIG]));
                if (elsewhere) {
                    char sender[80];
                    corr_addr_port(sender, sizeof(sender), &k->addr[FT_DIR_ORIG], k->port[FT_DIR_ORIG]);
                    ft_addr_str(answerer, x->t.v_ip, sizeof(x->t.v_ip));
                    judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_DB_WRONG_AUTH,
                              "%s checked the key of %s with %s, which answered 'invalid'; the key came from %s: "
                              "%s's DNS as %s sees it points to another server",
                              x->to, x->from, peer, sender, x->from, x->to);
                } else {
                    judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_DB_INVALID,
                              "%s rejected the dialback key of %s: %s itself answered the verification with 'invalid'",
                              x->to, x->from, peer);
                }
            } else {
                judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_DB_INVALID, "%s rejected the dialback key of %s",
                          x->to, x->from);
            }
            return;
        }
        if (ans && ans->sub == XMPP_DB_ERROR) {
            corr_copy(x->t.v_cond, sizeof(x->t.v_cond), ans->cond);
            corr_copy(x->t.v_text, sizeof(x->t.v_text), ans->text);
            judge_evidence(x, &ans->ref);
            judge_evidence(x, &dbr->ref);
            judge_evidence_flow(x, k);
            x->decisive = true;
            if (ans->cond && (strcmp(ans->cond, "remote-connection-failed") == 0 ||
                              strcmp(ans->cond, "remote-server-not-found") == 0 ||
                              strcmp(ans->cond, "remote-server-timeout") == 0)) {
                struct cconn *bad, *good;
                connect_back_attempts(x, nat_clock(x->c, dbr->ref.source, dbr->ref.ts_ns), &bad, &good);
                if (bad) {
                    judge_evidence(x, &bad->syn);
                    judge_evidence_flow(x, bad);
                }
                judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_DB_NO_BACKCONN,
                          "%s could not connect back to %s to verify the key (%s)", x->to, x->from, ans->cond);
                return;
            }
            judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_DB_ERROR, "dialback error from %s: %s", x->to,
                      ans->cond ? ans->cond : "?");
            return;
        }
        /* No answer.  Did the receiving side try to call back? */
        {
            struct cconn *bad, *good;
            int64_t waited = (err ? err->ref.ts_ns : x->c->capture_end_ns) - dbr->ref.ts_ns;
            x->read_clock |= !err;
            connect_back_attempts(x, nat_clock(x->c, dbr->ref.source, dbr->ref.ts_ns), &bad, &good);
            judge_evidence(x, &dbr->ref);
            judge_evidence_flow(x, k);
            snprintf(x->t.v_seconds, sizeof(x->t.v_seconds), "%.1f", (double)waited / 1e9);
            if (vreq && !vans) {
                judge_evidence(x, &vreq->ref);
                judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_DB_TIMEOUT,
                          "%s asked %s to verify the key, no answer came", x->to, peer);
                return;
            }
            if (bad && !vreq) {
                char a[80], s[24], inside[80] = "";
                /* Seen on both sides of the NAT: cite the address the
                 * receiving side dialled, and where the NAT sent it. */
                const struct cconn *pub = bad, *twin = bad->nat_peer;
                if (twin && corr_addr_is_private(&bad->addr[FT_DIR_RESP]) && !corr_addr_is_private(&twin->addr[FT_DIR_RESP])) {
                    pub = twin;
                    twin = bad;
                }
                if (twin && conn_same_endpoint(pub, 0, twin, 0))
                    corr_addr_port(inside, sizeof(inside), &twin->addr[1], twin->port[1]);
                corr_addr_port(a, sizeof(a), &pub->addr[1], pub->port[1]);
                ft_addr_str(&pub->addr[1], x->t.v_ip, sizeof(x->t.v_ip));
                snprintf(x->t.v_port, sizeof(x->t.v_port), "%u", pub->port[1]);
                if (inside[0]) {
                    ft_addr_str(&pub->addr[1], x->t.v_public, sizeof(x->t.v_public));
                    ft_addr_str(&twin->addr[1], x->t.v_private, sizeof(x->t.v_private));
                }
                snprintf(x->t.v_n, sizeof(x->t.v_n), "%u", bad->syn_count);
                judge_evidence(x, &pub->syn);
                if (pub->rst.frame)
                    judge_evidence(x, &pub->rst);
                judge_evidence_flow(x, pub);
                if (inside[0]) {
                    judge_evidence(x, &twin->syn);
                    if (twin->rst.frame)
                        judge_evidence(x, &twin->rst);
                    judge_evidence_flow(x, twin);
                }
                x->decisive = true;
                const struct clookup *l = !inside[0] && corr_addr_is_private(&pub->addr[FT_DIR_RESP])
                                              ? lookup_answering(x->c, &pub->addr[FT_DIR_RESP])
                                              : NULL;
                if (l && ft_addr_eq(&l->client, &pub->addr[FT_DIR_ORIG])) {
                    /* The receiving side's own lookup gave it a private
                     * address and it dialled that: DNS for the originating
                     * domain is the fault, not a firewall.  Lead with that
                     * and the DNS advice.  (A private answer to our own
                     * server's resolver is split horizon, not a fault.) */
                    char r[FT_ADDR_STRLEN];
                    judge_evidence_dns(x, l);
                    corr_copy(x->t.v_qname, sizeof(x->t.v_qname), l->qname);
                    corr_copy(x->t.v_resolver, sizeof(x->t.v_resolver), ft_addr_str(&l->server, r, sizeof(r)));
                    judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_DNS_PRIVATE_ADDR,
                                    "%s's DNS gives %s the private address %s for %s: the dialback connect-back "
                                    "cannot reach it (%s)",
                                    x->from, x->to, x->t.v_ip, l->qname,
                                    bad->rst.frame ? "refused" : corr_syns_str(bad->syn_count, s, sizeof(s)));
                    return;
                }
                judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_DB_NO_BACKCONN,
                          "%s tried to connect back to %s at %s%s%s%s for dialback: %s", x->to, x->from, a,
                          inside[0] ? " (translated to " : "", inside, inside[0] ? ")" : "",
                          bad->rst.frame ? "refused" : corr_syns_str(bad->syn_count, s, sizeof(s)));
                if (inside[0] && pub->port[1] != twin->port[1])
                    judge_note(x, "the NAT sends %s to %s, a different port than the one dialled (TCP-PAT-MISMATCH)", a,
                         inside);
                else if (corr_addr_is_private(&pub->addr[FT_DIR_RESP]))
                    judge_note(x, "the connect-back went to a private address: %s's DNS as %s sees it is wrong "
                            "(DNS-PRIVATE-ADDR)", x->from, x->to);
                else if (!bad->rst.frame)
                    judge_note(x, "the connect-back SYNs were never answered: inbound 5269 is blocked or not translated");
                return;
            }
            if (err) {
                corr_copy(x->t.v_cond, sizeof(x->t.v_cond), err->cond);
                judge_evidence(x, &err->ref);
                if (err->cond && (strcmp(err->cond, "not-authorized") == 0)) {
                    judge_fail_stream_error(x, STAGE_AUTH, k, err);
                    return;
                }
                judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_DB_NO_BACKCONN,
                          "no answer to the dialback key of %s; the stream ended with <%s/> after %s s", x->from,
                          err->cond ? err->cond : "?", x->t.v_seconds);
                return;
            }
            if (waited >= x->c->cfg.dialback_timeout_ns) {
                judge_stage_set(x, STAGE_AUTH, STAGE_FAILED, VERDICT_DB_NO_BACKCONN,
                          "no answer to the dialback key of %s within %s s, and no connect-back from %s seen",
                          x->from, x->t.v_seconds, x->to);
                return;
            }
            judge_stage_set(x, STAGE_AUTH, STAGE_NOT_SEEN, VERDICT_CODE_NONE, "dialback pending when the capture ended (%s s)",
                      x->t.v_seconds);
        }
    }
}
