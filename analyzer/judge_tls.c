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

void judge_tls(struct dctx *x)
{
    struct cconn *k = x->main;
    const struct cev *feats, *st, *fail, *alert, *done, *desync, *hello;
    if (judge_failed(x) || !k || x->opaque)
        return;
    if (x->d->stages[STAGE_STREAM] != STAGE_OK)
        return;
    feats = conn_first_ev(k, CEV_FEATURES, FT_DIR_RESP);
    st = conn_first_ev(k, CEV_STARTTLS, FT_DIR_ORIG);
    fail = conn_first_ev(k, CEV_TLS_FAILURE, -1);
    done = conn_first_ev(k, CEV_TLS_DONE, -1);
    desync = conn_first_ev(k, CEV_CLEARTEXT_AFTER_STARTTLS, -1);
    hello = conn_first_ev(k, CEV_TLS_HELLO, FT_DIR_ORIG);
    if (!st && !hello) {
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
    judge_note(x, "CAP-ENCRYPTED: dialback and stanzas run inside TLS and cannot be seen");
    /* Closed within a second of the handshake with no sign of success:
     * most likely a certificate rejection nobody can read. */
    {
        /* The first close of either side (a late FIN from the other side
         * must not hide a close right after the handshake). */
        struct frame_ref end = { 0, 0, 0, 0 };
        const struct frame_ref *ends[3] = { &k->rst, &k->fin[0], &k->fin[1] };
        for (int i = 0; i < 3; i++)
            if (ends[i]->frame && (!end.frame || ends[i]->ts_ns < end.ts_ns))
                end = *ends[i];
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
