/*
 * judge_stream.c - stage 3, the XMPP stream: headers exchanged, namespace,
 * stream errors before any negotiation, a server that never answers.
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The first stream error of a connection, and whether it came before any
 * negotiation (then it is the stream stage's failure). */
const struct cev *judge_first_stream_error(const struct cconn *k)
{
    return conn_first_ev(k, CEV_STREAM_ERROR, -1);
}

bool judge_before_negotiation(const struct cconn *k, const struct cev *err)
{
    for (unsigned i = 0; i < k->nev && &k->ev[i] != err; i++) {
        switch (k->ev[i].type) {
        case CEV_STARTTLS:
        case CEV_DB_RESULT:
        case CEV_DB_VERIFY:
        case CEV_SASL_AUTH:
        case CEV_STANZA:
            return false;
        default:
            break;
        }
    }
    return true;
}

/* The stream error conditions of RFC 6120 4.9.3 and their codes.  A
 * condition the peer made up (it is wire data) is not looked up in the
 * catalogue by name: it is STR-UNDEFINED-CONDITION. */
static const struct {
    const char *cond;
    enum verdict_code code;
} stream_conditions[] = {
    { "bad-format", VERDICT_STR_BAD_FORMAT },
    { "bad-namespace-prefix", VERDICT_STR_BAD_NAMESPACE_PREFIX },
    { "conflict", VERDICT_STR_CONFLICT },
    { "connection-timeout", VERDICT_STR_CONNECTION_TIMEOUT },
    { "host-gone", VERDICT_STR_HOST_GONE },
    { "host-unknown", VERDICT_STR_HOST_UNKNOWN },
    { "improper-addressing", VERDICT_STR_IMPROPER_ADDRESSING },
    { "internal-server-error", VERDICT_STR_INTERNAL_SERVER_ERROR },
    { "invalid-from", VERDICT_STR_INVALID_FROM },
    { "invalid-namespace", VERDICT_STR_INVALID_NAMESPACE },
    { "invalid-xml", VERDICT_STR_INVALID_XML },
    { "not-authorized", VERDICT_STR_NOT_AUTHORIZED },
    { "not-well-formed", VERDICT_STR_NOT_WELL_FORMED },
    { "policy-violation", VERDICT_STR_POLICY_VIOLATION },
    { "remote-connection-failed", VERDICT_STR_REMOTE_CONNECTION_FAILED },
    { "reset", VERDICT_STR_RESET },
    { "resource-constraint", VERDICT_STR_RESOURCE_CONSTRAINT },
    { "restricted-xml", VERDICT_STR_RESTRICTED_XML },
    { "see-other-host", VERDICT_STR_SEE_OTHER_HOST },
    { "system-shutdown", VERDICT_STR_SYSTEM_SHUTDOWN },
    { "undefined-condition", VERDICT_STR_UNDEFINED_CONDITION },
    { "unsupported-encoding", VERDICT_STR_UNSUPPORTED_ENCODING },
    { "unsupported-feature", VERDICT_STR_UNSUPPORTED_FEATURE },
    { "unsupported-stanza-type", VERDICT_STR_UNSUPPORTED_STANZA_TYPE },
    { "unsupported-version", VERDICT_STR_UNSUPPORTED_VERSION },
};

static enum verdict_code stream_condition_code(const char *cond)
{
    for (size_t i = 0; i < sizeof(stream_conditions) / sizeof(stream_conditions[0]); i++)
        if (strcmp(stream_conditions[i].cond, cond) == 0)
            return stream_conditions[i].code;
    return VERDICT_STR_UNDEFINED_CONDITION;
}

void judge_fail_stream_error(struct dctx *x, enum fed_stage st, const struct cconn *k, const struct cev *err)
{
    const char *cond = err->cond ? err->cond : "undefined-condition";
    corr_copy(x->t.v_cond, sizeof(x->t.v_cond), cond);
    corr_copy(x->t.v_text, sizeof(x->t.v_text), err->text);
    judge_evidence(x, &err->ref);
    judge_evidence_flow(x, k);
    x->decisive = true;
    judge_stage_set(x, st, STAGE_FAILED, stream_condition_code(cond), "%s sent stream error <%s/>%s%s",
                    err->dir == FT_DIR_ORIG ? x->from : x->to, cond, err->text ? ": " : "",
                    err->text ? err->text : "");
}

void judge_stream(struct dctx *x)
{
    struct cconn *k = x->main;
    const struct cev *ho, *hr, *err, *xerr;
    if (judge_failed(x) || !k)
        return;
    ho = conn_first_ev(k, CEV_OPEN, FT_DIR_ORIG);
    hr = conn_first_ev(k, CEV_OPEN, FT_DIR_RESP);
    err = judge_first_stream_error(k);
    xerr = conn_first_ev(k, CEV_XML_ERROR, FT_DIR_ORIG);
    if (xerr && !ho && !k->midstream) {
        judge_evidence(x, &xerr->ref);
        judge_evidence_flow(x, k);
        x->decisive = true;
        judge_stage_set(x, STAGE_STREAM, STAGE_FAILED, VERDICT_STR_NO_HEADER, "%s sent %s instead of an XMPP stream header",
                  x->from, xerr->cond && strcmp(xerr->cond, "tls-in-xml") == 0 ? "TLS" : "something else");
        return;
    }
    if (!ho && !hr) {
        if (k->midstream) {
            judge_stage_set(x, STAGE_STREAM, STAGE_NOT_SEEN, VERDICT_CODE_NONE, "stream opened before the capture started");
            judge_note(x, "CAP-MIDSTREAM: the capture started after this connection was set up");
        } else if (k->app == APP_XMPP_TLS) {
            /* the TLS judge reads the handshake and the record sizes */
            judge_stage_set(x, STAGE_STREAM, STAGE_OPAQUE, VERDICT_CODE_NONE, "direct TLS (XEP-0368): stream inside TLS");
        } else if (!k->bytes[FT_DIR_ORIG] && k->established) {
            judge_evidence(x, &k->synack);
            judge_evidence_flow(x, k);
            judge_stage_set(x, STAGE_STREAM, STAGE_NOT_SEEN, VERDICT_CODE_NONE, "connected, but %s never sent a stream header", x->from);
        }
        return;
    }
    if (ho && (ho->flags & F_JCLIENT)) {
        judge_evidence(x, &ho->ref);
        judge_evidence_flow(x, k);
        x->decisive = true;
        judge_stage_set(x, STAGE_STREAM, STAGE_FAILED, VERDICT_STR_NS, "%s opened a client (jabber:client) stream on the s2s port",
                  x->from);
        return;
    }
    if (hr && (hr->flags & F_JCLIENT) && !(ho && (ho->flags & F_JCLIENT))) {
        /* The server-to-server stream reached a client listener (SRV or
         * forwarding to the c2s port): taxonomy STR-NS, whatever error
         * (invalid-namespace, usually) follows. */
        const struct cev *e = judge_first_stream_error(k);
        judge_evidence(x, &hr->ref);
        if (e)
            judge_evidence(x, &e->ref);
        judge_evidence_flow(x, k);
        x->decisive = true;
        judge_stage_set(x, STAGE_STREAM, STAGE_FAILED, VERDICT_STR_NS,
                  "%s answered with a client (jabber:client) stream: port %u is a c2s listener", x->to, k->port[1]);
        return;
    }
    if (err && judge_before_negotiation(k, err)) {
        judge_fail_stream_error(x, STAGE_STREAM, k, err);
        return;
    }
    if (ho && !hr) {
        bool closed = k->rst.frame || k->fin[0].frame || k->fin[1].frame;
        x->read_clock |= !closed;
        judge_evidence(x, &ho->ref);
        judge_evidence_flow(x, k);
        if (closed || x->c->capture_end_ns - ho->ref.ts_ns > 10 * FT_NS_PER_SEC) {
            judge_stage_set(x, STAGE_STREAM, STAGE_FAILED, VERDICT_STR_NO_RESPONSE,
                      "%s opened its stream, %s never answered with its own", x->from, x->to);
        } else {
            judge_stage_set(x, STAGE_STREAM, STAGE_NOT_SEEN, VERDICT_CODE_NONE, "no answer to the stream header before the capture ended");
        }
        return;
    }
    judge_stage_set(x, STAGE_STREAM, STAGE_OK, VERDICT_CODE_NONE, "stream headers exchanged%s%s%s", hr && hr->id ? " (id " : "",
              hr && hr->id ? hr->id : "", hr && hr->id ? ")" : "");
}
