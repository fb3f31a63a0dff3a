/*
 * judge_carry.c - what a direction remembers of the facts retirement
 * freed: the stages an earlier judgement saw pass, its verdict and its
 * timeline (struct corr_carry), so that a direction judged again from the
 * facts still kept does not forget them.
 *
 * Rules (judge_direction calls them in this order):
 *  - a stage the kept facts do not reach takes the earlier pass (ok,
 *    skipped, opaque), its detail saying where and when it was seen; a
 *    failure in the kept facts still wins: only the stages before it are
 *    taken (carry_fill_stages);
 *  - an ok verdict reaches the furthest stage either judgement reached;
 *    when the kept facts decide nothing (unknown), the earlier decided
 *    verdict stands; an earlier failure stands unless the kept facts
 *    reached its stage or failed before it (carry_settle);
 *  - the earlier timeline lines join the new ones (carry_timeline).
 */
#include "corr_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Where a stage was seen: its last timeline line. */
struct carry_seen {
    int64_t ts_ns;      /* 0: not known */
    uint64_t flow_id, dns_id;
};

struct corr_carry {
    struct corr_verdict verdict;   /* the earlier judgement; strings point into text,
                                    * the domain names of vars are not kept */
    enum corr_stage_status stages[STAGE_COUNT];
    const char *detail[STAGE_COUNT]; /* as judged, without the "seen earlier" remark */
    struct carry_seen seen[STAGE_COUNT];
    unsigned filled;               /* stages the last judgement took from here */
    char *text;                    /* owned */
    struct corr_tl *timeline;      /* owned; the lines' text is in timeline_text,
                                    * or each line's own when that is NULL */
    char *timeline_text;
    unsigned n_timeline;
    uint64_t timeline_elided;
};

void carry_free(struct corr_carry *k)
{
    if (!k)
        return;
    if (k->timeline_text)
        free(k->timeline_text);
    else
        for (unsigned i = 0; i < k->n_timeline; i++)
            if (!k->timeline[i].lent)
                free(k->timeline[i].what);
    free(k->timeline);
    free(k->text);
    free(k);
}

static bool passed(enum corr_stage_status s)
{
    return s == STAGE_OK || s == STAGE_SKIPPED || s == STAGE_OPAQUE;
}

/* The strings of a carry, copied into one block. */
struct carry_str {
    const char **dst;
    const char *src;
};

static bool carry_copy_text(struct corr_carry *k, struct carry_str *m, unsigned n)
{
    size_t total = 1;
    char *p;
    for (unsigned i = 0; i < n; i++)
        total += m[i].src ? strlen(m[i].src) + 1 : 0;
    if (!(k->text = p = malloc(total)))
        return false;
    for (unsigned i = 0; i < n; i++) {
        size_t len;
        if (!m[i].src) {
            *m[i].dst = NULL;
            continue;
        }
        len = strlen(m[i].src);
        memcpy(p, m[i].src, len + 1);
        *m[i].dst = p;
        p += len + 1;
    }
    return true;
}

void carry_take(struct corr_direction *d)
{
    struct corr_carry *old = d->carry, *k;
    struct carry_str m[STAGE_COUNT + 17];
    struct verdict_vars *kv;
    const struct verdict_vars *dv = &d->verdict.vars;
    unsigned n = 0;

    if (!d->verdict.summary)
        return; /* never judged: nothing to remember */
    if (!(k = calloc(1, sizeof(*k))))
        return; /* no memory: the older memory stays */
    k->verdict = d->verdict;
    memcpy(k->stages, d->stages, sizeof(k->stages));
    for (int s = 0; s < STAGE_COUNT; s++) {
        bool again = old && (old->filled & (1u << s));
        m[n++] = (struct carry_str){ &k->detail[s], again ? old->detail[s] : d->stage_detail[s] };
        if (again) {
            k->seen[s] = old->seen[s];
            continue;
        }
        /* The stage's key line (judge_direction), else its last line. */
        for (unsigned i = d->n_timeline; i-- > 0;) {
            const struct corr_tl *t = &d->timeline[i];
            if (t->stage != (enum fed_stage)s || (k->seen[s].ts_ns && !t->key))
                continue;
            k->seen[s] = (struct carry_seen){ t->ref.ts_ns, t->flow_id, t->dns_id };
            if (t->key)
                break;
        }
    }
    kv = &k->verdict.vars;
    m[n++] = (struct carry_str){ &k->verdict.summary, d->verdict.summary };
    for (unsigned i = 0; i < d->verdict.n_notes; i++)
        m[n++] = (struct carry_str){ &k->verdict.notes[i], d->verdict.notes[i] };
    m[n++] = (struct carry_str){ &kv->qname, dv->qname };
    m[n++] = (struct carry_str){ &kv->resolver, dv->resolver };
    m[n++] = (struct carry_str){ &kv->ip, dv->ip };
    m[n++] = (struct carry_str){ &kv->port, dv->port };
    m[n++] = (struct carry_str){ &kv->public_ip, dv->public_ip };
    m[n++] = (struct carry_str){ &kv->private_ip, dv->private_ip };
    m[n++] = (struct carry_str){ &kv->condition, dv->condition };
    m[n++] = (struct carry_str){ &kv->text, dv->text };
    m[n++] = (struct carry_str){ &kv->alert, dv->alert };
    m[n++] = (struct carry_str){ &kv->peer, dv->peer };
    m[n++] = (struct carry_str){ &kv->n, dv->n };
    m[n++] = (struct carry_str){ &kv->seconds, dv->seconds };
    if (!carry_copy_text(k, m, n)) {
        free(k);
        return;
    }
    /* The interned domain names may be rebuilt (stream_names_gc): the
     * judgement that uses a carry sets them again. */
    kv->local = kv->remote = kv->from = kv->to = kv->server = NULL;
    /* The judged timeline moves over as it is (cut and packed). */
    k->timeline = d->timeline;
    k->n_timeline = d->n_timeline;
    k->timeline_text = d->timeline_text;
    k->timeline_elided = d->timeline_elided;
    d->timeline = NULL;
    d->timeline_text = NULL;
    d->n_timeline = d->cap_timeline = 0;
    d->timeline_elided = 0;
    carry_free(old);
    d->carry = k;
}

/* "C30 at 08:00:00.116 UTC" (D for a lookup); "" when not known. */
static const char *seen_str(const struct carry_seen *s, char *buf, size_t len)
{
    time_t t = (time_t)(s->ts_ns / FT_NS_PER_SEC);
    struct tm tm;
    char when[32] = "";
    if (!s->ts_ns) {
        buf[0] = '\0';
        return buf;
    }
    if (gmtime_r(&t, &tm))
        snprintf(when, sizeof(when), " at %02d:%02d:%02d.%03d UTC", tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(s->ts_ns % FT_NS_PER_SEC / 1000000));
    if (s->flow_id)
        snprintf(buf, len, "C%llu%s", (unsigned long long)s->flow_id, when);
    else if (s->dns_id)
        snprintf(buf, len, "D%llu%s", (unsigned long long)s->dns_id, when);
    else
        snprintf(buf, len, "%s", when + 1);
    return buf;
}

static void take_stage(struct dctx *x, const struct corr_carry *k, int s)
{
    char where[64];
    x->d->stages[s] = k->stages[s];
    seen_str(&k->seen[s], where, sizeof(where));
    corr_format(x->t.stage_detail[s], sizeof(x->t.stage_detail[s]), "%s (seen earlier%s%s, on facts since retired)",
                k->detail[s] ? k->detail[s] : "", where[0] ? ": " : "", where);
}

unsigned carry_fill_stages(struct dctx *x)
{
    const struct corr_carry *k = x->d->carry;
    unsigned filled = 0;
    int until = STAGE_CAPTURE;
    if (!k)
        return 0;
    if (judge_failed(x))
        until = (int)x->d->verdict.stage; /* a failure now wins over what passed after it */
    for (int s = 0; s < until; s++) {
        if (x->d->stages[s] != STAGE_NOT_SEEN || !passed(k->stages[s]))
            continue;
        if (s == STAGE_SUBSCRIBE && x->t.stage_detail[s][0])
            continue; /* the kept facts said something of it (pending, asked) */
        take_stage(x, k, s);
        filled |= 1u << s;
    }
    return filled;
}

/* The carried verdict's evidence joins the verdict's (no repeats, the
 * verdict's caps): the judges' own evidence adders do it. */
static void merge_evidence(struct dctx *x, const struct corr_verdict *from)
{
    for (unsigned i = 0; i < from->n_evidence; i++)
        judge_evidence(x, &from->evidence_refs[i]);
    for (unsigned i = 0; i < from->n_flows; i++)
        judge_evidence_flow_id(x, from->evidence_flows[i]);
    for (unsigned i = 0; i < from->n_dns; i++)
        judge_evidence_dns_id(x, from->evidence_dns[i]);
}

/* The earlier verdict stands: status, stage, code, summary, advice
 * values and evidence (its notes spoke of the facts then: the kept
 * facts' notes stay, and one says where the verdict comes from); the stages the kept facts did not reach
 * come from it too. */
static void restore(struct dctx *x, struct corr_carry *k)
{
    struct corr_verdict *v = &x->d->verdict;
    const struct verdict_vars *kv = &k->verdict.vars;
    char where[64];
    struct {
        char *dst;
        size_t len;
        const char *src;
    } vars[] = {
        { x->t.v_qname, sizeof(x->t.v_qname), kv->qname },
        { x->t.v_resolver, sizeof(x->t.v_resolver), kv->resolver },
        { x->t.v_ip, sizeof(x->t.v_ip), kv->ip },
        { x->t.v_port, sizeof(x->t.v_port), kv->port },
        { x->t.v_public, sizeof(x->t.v_public), kv->public_ip },
        { x->t.v_private, sizeof(x->t.v_private), kv->private_ip },
        { x->t.v_cond, sizeof(x->t.v_cond), kv->condition },
        { x->t.v_text, sizeof(x->t.v_text), kv->text },
        { x->t.v_alert, sizeof(x->t.v_alert), kv->alert },
        { x->t.v_peer, sizeof(x->t.v_peer), kv->peer },
        { x->t.v_n, sizeof(x->t.v_n), kv->n },
        { x->t.v_seconds, sizeof(x->t.v_seconds), kv->seconds },
    };

    for (int s = 0; s < STAGE_CAPTURE; s++)
        if (x->d->stages[s] == STAGE_NOT_SEEN && k->stages[s] != STAGE_NOT_SEEN) {
            take_stage(x, k, s);
            k->filled |= 1u << s;
        }
    v->status = k->verdict.status;
    v->stage = k->verdict.stage;
    v->code = k->verdict.code;
    v->confidence = k->verdict.confidence;
    v->decrypted = k->verdict.decrypted;
    x->rule = k->verdict.rule;
    v->n_evidence = v->n_flows = v->n_dns = 0;
    merge_evidence(x, &k->verdict);
    corr_copy(x->t.summary, sizeof(x->t.summary), k->verdict.summary);
    for (unsigned i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        corr_copy(vars[i].dst, vars[i].len, vars[i].src); /* NULL: "" */
    seen_str(&k->seen[v->stage], where, sizeof(where));
    judge_note(x, "the %s stage was judged from earlier facts%s%s%s, retired after the idle timeout; the later ones "
               "do not reach it", fed_stage_name(v->stage), where[0] ? " (" : "", where, where[0] ? ")" : "");
}

void carry_settle(struct dctx *x, unsigned filled)
{
    struct corr_carry *k = x->d->carry;
    struct corr_verdict *v = &x->d->verdict;
    if (!k)
        return;
    k->filled = filled;
    if (k->verdict.status == CORR_FAILED && !(v->status == CORR_FAILED && v->stage <= k->verdict.stage)) {
        /* The earlier failure stands unless the kept facts reached its
         * stage or failed before it: they decide nothing, pass only
         * earlier stages (a subscription refused, then a connection that
         * only authenticates) or fail only after it (the subscription the
         * failed dialback bounced, on a client connection still kept). */
        enum fed_stage fs = k->verdict.stage;
        bool reached = x->d->stages[fs] != STAGE_NOT_SEEN || (fs == STAGE_SUBSCRIBE && x->t.stage_detail[fs][0]);
        if (!reached && (v->status != CORR_OK || v->stage < fs))
            restore(x, k);
        return;
    }
    if (v->status == CORR_UNKNOWN && k->verdict.status == CORR_OK) {
        restore(x, k);
        return;
    }
    if (v->status != CORR_OK)
        return;
    if (k->verdict.status == CORR_OK && k->verdict.stage > v->stage) {
        char where[64];
        size_t n = strlen(x->t.summary);
        v->stage = k->verdict.stage;
        v->code = k->verdict.code;
        seen_str(&k->seen[v->stage], where, sizeof(where));
        corr_format(x->t.summary + n, sizeof(x->t.summary) - n, "; it reached the %s stage earlier%s%s%s",
                    fed_stage_name(v->stage), where[0] ? " (" : "", where, where[0] ? ")" : "");
        merge_evidence(x, &k->verdict);
        if (!x->rule)
            x->rule = k->verdict.rule; /* inferred then, inferred now */
    } else if (filled & (1u << v->stage)) {
        merge_evidence(x, &k->verdict);
        if (!x->rule)
            x->rule = k->verdict.rule;
    }
}

void carry_timeline(struct dctx *x)
{
    const struct corr_carry *k = x->d->carry;
    if (!k)
        return;
    for (unsigned i = 0; i < k->n_timeline; i++)
        timeline_add_carried(x, &k->timeline[i]);
    x->d->timeline_elided += k->timeline_elided;
}
