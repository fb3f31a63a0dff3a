/*
 * judge_tls.c - stage 4, STARTTLS and the TLS handshake: required but not
 * started, <failure/>, alerts, desync, a close right after the handshake.
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Does the text of a stream error speak of encryption (Prosody "Encrypted
 * server-to-server communication is required", ejabberd "Use of STARTTLS
 * required")? */
static bool about_encryption(const char *text)
{
    static const char *const words[] = { "encrypt", "starttls", "tls" };
    if (!text)
        return false;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i]);
        for (const char *p = text; *p; p++)
            if (strncasecmp(p, words[i], n) == 0)
                return true;
    }
    return false;
}

/* A policy-violation about encryption on any s2s connection between the
 * two domains, either way: one of them refuses to federate in clear. */
static const struct cev *encryption_demanded(const struct dctx *x, const struct cconn **on)
{
    const struct correlator *c = x->c;
    for (int way = 0; way < 2; way++) {
        const char *f = way ? x->to : x->from, *t = way ? x->from : x->to;
        for (uint32_t h = registry_dir_conns(c, f, t); h; h = corr_index_next(&c->dir_conn_ix, h)) {
            const struct cconn *k = c->conns[corr_index_val(&c->dir_conn_ix, h)->a];
            for (unsigned e = 0; e < k->nev; e++) {
                const struct cev *v = &k->ev[e];
                if (v->type == CEV_STREAM_ERROR && v->cond && strcmp(v->cond, "policy-violation") == 0 &&
                    about_encryption(v->text) && !conn_first_ev(k, CEV_STARTTLS, -1) &&
                    !conn_first_ev(k, CEV_TLS_HELLO, -1)) {
                    *on = k;
                    return v;
                }
            }
        }
    }
    return NULL;
}

void judge_tls(struct dctx *x)
{
    struct cconn *k = x->main;
    const struct cev *feats, *st, *fail, *alert, *done, *desync, *hello;
    if (judge_failed(x) || !k || x->opaque)
        return;
    if (x->d->stages[STAGE_STREAM] != STAGE_OK &&
        !(x->d->stages[STAGE_STREAM] == STAGE_OPAQUE && k->app == APP_XMPP_TLS))
        return;
    feats = conn_first_ev(k, CEV_FEATURES, FT_DIR_RESP);
    st = conn_first_ev(k, CEV_STARTTLS, FT_DIR_ORIG);
    fail = conn_first_ev(k, CEV_TLS_FAILURE, -1);
    done = conn_first_ev(k, CEV_TLS_DONE, -1);
    desync = conn_first_ev(k, CEV_CLEARTEXT_AFTER_STARTTLS, -1);
    hello = conn_first_ev(k, CEV_TLS_HELLO, FT_DIR_ORIG);
    if (!st && !hello && k->app == APP_XMPP_TLS) {
        x->opaque = true;
        judge_stage_set(x, STAGE_TLS, STAGE_NOT_SEEN, VERDICT_CODE_NONE, "direct TLS: the handshake was not captured");
        return;
    }
    if (!st && !hello) {
        const struct cconn *ek = NULL;
        const struct cev *demand = encryption_demanded(x, &ek);
        if (demand && !(feats && (feats->flags & F_STARTTLS))) {
            /* One side requires encryption and nobody offered STARTTLS:
             * whatever dialback did in clear, the TLS stage failed. */
            const char *by = demand->dir == FT_DIR_ORIG ? ek->dom_from : ek->dom_to;
            judge_evidence(x, &demand->ref);
            if (feats)
                judge_evidence(x, &feats->ref);
            judge_evidence_flow(x, ek);
            judge_evidence_flow(x, k);
            corr_copy(x->t.v_cond, sizeof(x->t.v_cond), demand->cond);
            corr_copy(x->t.v_text, sizeof(x->t.v_text), demand->text);
            x->decisive = true;
            judge_stage_set(x, STAGE_TLS, STAGE_FAILED, VERDICT_TLS_NOT_OFFERED,
                            "%s requires encryption (<%s/>%s%s) but %s offered no STARTTLS", by ? by : x->to,
                            demand->cond ? demand->cond : "policy-violation", demand->text ? ": " : "",
                            demand->text ? demand->text : "", x->to);
            return;
        }
        if (feats && (feats->flags & F_REQUIRED)) {
            const struct cev *err = judge_first_stream_error(k);
            judge_evidence(x, &feats->ref);
            judge_evidence_flow(x, k);
            if (err)
                judge_evidence(x, &err->ref);
            x->decisive = err != NULL;
            judge_stage_set(x, STAGE_TLS, STAGE_FAILED, VERDICT_TLS_REQUIRED_MISSING,
                      "%s requires STARTTLS, %s never started it", x->to, x->from);
            return;
        }
        judge_stage_set(x, STAGE_TLS, STAGE_SKIPPED, VERDICT_CODE_NONE, "%s", feats && (feats->flags & F_STARTTLS)
                                                                ? "STARTTLS offered, not used"
                                                                : "no STARTTLS");
        return;
    }
    if (fail) {
        judge_evidence(x, &fail->ref);
        judge_evidence_flow(x, k);
        x->decisive = true;
        judge_stage_set(x, STAGE_TLS, STAGE_FAILED, VERDICT_TLS_FAILURE, "%s could not start TLS (<failure/>)", x->to);
        return;
    }
    if (desync) {
        judge_evidence(x, &desync->ref);
        judge_evidence_flow(x, k);
        x->decisive = true;
        judge_stage_set(x, STAGE_TLS, STAGE_FAILED, VERDICT_TLS_DESYNC, "XML continued after STARTTLS instead of TLS");
        return;
    }
    /* An alert after ChangeCipherSpec is encrypted: its level and reason
     * are unreadable and it is most often close_notify, so it proves
     * nothing by itself (the close timing below still counts). */
    alert = NULL;
    for (unsigned j = 0; j < k->nev && !alert; j++)
        if (k->ev[j].type == CEV_TLS_ALERT && k->ev[j].cond && strcmp(k->ev[j].cond, "close_notify") != 0 &&
            strcmp(k->ev[j].cond, "encrypted") != 0)
            alert = &k->ev[j];
    if (alert) {
        const char *by = alert->dir == FT_DIR_ORIG ? x->from : x->to;
        corr_copy(x->t.v_alert, sizeof(x->t.v_alert), alert->cond);
        judge_evidence(x, &alert->ref);
        judge_evidence_flow(x, k);
        x->decisive = true;
        judge_stage_set(x, STAGE_TLS, STAGE_FAILED, VERDICT_TLS_ALERT, "%s sent TLS alert %s", by, alert->cond ? alert->cond : "?");
        return;
    }
    if (!done) {
        bool closed = k->rst.frame || k->fin[0].frame || k->fin[1].frame;
        if (closed) {
            judge_evidence(x, hello ? &hello->ref : &st->ref);
            judge_evidence_flow(x, k);
            judge_stage_set(x, STAGE_TLS, STAGE_FAILED, VERDICT_TLS_FAILURE, "the TLS handshake never completed");
        } else {
            judge_stage_set(x, STAGE_TLS, STAGE_NOT_SEEN, VERDICT_CODE_NONE, "TLS handshake not complete when the capture ended");
        }
        return;
    }
    if (k->decrypted) {
        /* The stream inside TLS was read with a key log: the later
         * stages are judged on what it carried, as in cleartext. */
        x->d->verdict.decrypted = true;
        judge_stage_set(x, STAGE_TLS, STAGE_OK, VERDICT_CODE_NONE, "TLS established, decrypted with the key log%s",
                        k->decrypt_stopped ? " until decryption stopped" : "");
        judge_note(x, "decrypted: the stream inside TLS was read with the TLS key log");
        return;
    }
    x->opaque = true;
    judge_stage_set(x, STAGE_TLS, STAGE_OK, VERDICT_CODE_NONE, "TLS established");
    rec_shape_of(k, &x->shape);
    {
        /* The first close of either side (a late FIN from the other side
         * must not hide a close right after the handshake). */
        struct frame_ref end = { 0, 0, 0, 0 };
        const struct frame_ref *ends[3] = { &k->rst, &k->fin[0], &k->fin[1] };
        const struct rec_shape *sh = &x->shape;
        for (int i = 0; i < 3; i++)
            if (ends[i]->frame && (!end.frame || ends[i]->ts_ns < end.ts_ns))
                end = *ends[i];
        if (sh->have && (sh->data[0] || sh->data[1])) {
            /* The record sizes tell more than the timing.  A receiver that
             * answered the initiator's stream header with one record and
             * hung up within a second sent a stream error (a certificate
             * or policy rejection nobody can read); a connection that
             * carried XMPP both ways beyond that is judged at the next
             * stage. */
            const struct frame_ref *from = sh->answer ? &sh->answer->ref : &done->ref;
            if (end.frame && !sh->restart && sh->data[1] <= 1 && (sh->answer ? sh->orig_before_answer : sh->data[0]) <= 1 &&
                end.ts_ns - from->ts_ns < FT_NS_PER_SEC) {
                judge_evidence(x, from);
                judge_evidence(x, &end);
                judge_evidence_flow(x, k);
                x->rule = "tls-answer-then-close";
                if (sh->answer)
                    judge_stage_set(x, STAGE_TLS, STAGE_FAILED, VERDICT_TLS_CLOSED_AFTER_HANDSHAKE,
                                    "%s answered %s's encrypted stream header with one %u-byte record and closed "
                                    "within %" PRId64 " ms: a stream error (certificate or policy rejection), inferred",
                                    x->to, x->from, sh->answer->len, (end.ts_ns - from->ts_ns) / 1000000);
                else
                    judge_stage_set(x, STAGE_TLS, STAGE_FAILED, VERDICT_TLS_CLOSED_AFTER_HANDSHAKE,
                                    "the connection closed right after the TLS handshake, before %s answered", x->to);
            } else {
                judge_note(x, "CAP-ENCRYPTED: dialback and stanzas run inside TLS; judged from record sizes");
            }
            return;
        }
        judge_note(x, "CAP-ENCRYPTED: dialback and stanzas run inside TLS and cannot be seen");
        /* No record sizes: closed within a second of the handshake with no
         * sign of success is most likely a certificate rejection. */
        if (end.frame && end.ts_ns - done->ref.ts_ns < FT_NS_PER_SEC &&
            k->bytes[0] + k->bytes[1] < 16384) {
            judge_evidence(x, &done->ref);
            judge_evidence(x, &end);
            judge_evidence_flow(x, k);
            judge_stage_set(x, STAGE_TLS, STAGE_FAILED, VERDICT_TLS_CLOSED_AFTER_HANDSHAKE,
                      "the connection closed right after the TLS handshake");
        }
    }
}
