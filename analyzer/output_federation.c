/*
 * output_federation.c - what the correlator decided, as JSON: a
 * federation with its directions, each with its verdict (code, summary,
 * confidence, evidence, notes, rendered advice), stages and timeline; and
 * the NDJSON federation.verdict event of one direction.  Described once
 * on a writer (output_jwrite.h): the document writes a federation as
 * text (json_federation_element), NDJSON takes a verdict as a tree.
 */
#include "output_int.h"

#include <string.h>

/* Packets the capture dropped while direction d was active (the span of
 * its timeline and evidence): its verdict's confidence is lowered a step
 * and a note says why. */
static uint64_t drops_during(const struct output *o, const struct corr_direction *d)
{
    int64_t first = INT64_MAX, last = INT64_MIN;
    uint64_t dropped = 0;

    for (unsigned i = 0; i < d->n_timeline; i++) {
        int64_t t = d->timeline[i].ref.ts_ns;
        first = t < first ? t : first;
        last = t > last ? t : last;
    }
    for (unsigned i = 0; i < d->verdict.n_evidence; i++) {
        int64_t t = d->verdict.evidence_refs[i].ts_ns;
        first = t < first ? t : first;
        last = t > last ? t : last;
    }
    if (first > last)
        return 0;
    for (unsigned i = 0; i < o->ndrops; i++)
        if (o->drops[i].from_ns <= last && o->drops[i].to_ns >= first)
            dropped += o->drops[i].dropped;
    return dropped;
}

/* The verdict v; full: with title, evidence, notes, advice and refs.  d:
 * the direction whose time the capture's drops are weighed against (NULL:
 * none). */
static void verdict_write(struct jw *w, const char *key, const struct output *out, const struct corr_verdict *v,
                          bool full, const struct corr_direction *d)
{
    const struct verdict_info *vi = verdict_info_of(v->code);
    const char *confidence = v->confidence ? v->confidence : "low";
    uint64_t dropped = d ? drops_during(out, d) : 0;

    if (dropped)
        confidence = strcmp(confidence, "high") == 0 ? "medium" : "low";
    jw_open(w, key);
    jw_str(w, "status", corr_status_name(v->status));
    jw_str(w, "stage", fed_stage_name(v->stage));
    jw_str(w, "code", vi ? vi->code : "CAP-NOTHING");
    jw_str(w, "summary", v->summary);
    jw_str(w, "confidence", confidence);
    if (v->decrypted)
        jw_bool(w, "decrypted", true);
    if (v->inferred) {
        jw_bool(w, "inferred", true);
        if (v->rule)
            jw_str(w, "rule", v->rule);
    }
    if (!full) {
        jw_close(w);
        return;
    }
    if (vi)
        jw_str(w, "title", vi->title);
    jw_open(w, "evidence");
    jw_open_array(w, "frames");
    for (unsigned i = 0; i < v->n_evidence; i++)
        jw_int(w, NULL, (int64_t)v->evidence_refs[i].frame);
    jw_close(w);
    jw_open_array(w, "packets");
    for (unsigned i = 0; i < v->n_evidence; i++)
        jw_frame(w, NULL, &v->evidence_refs[i]);
    jw_close(w);
    jw_open_array(w, "uids");
    for (unsigned i = 0; i < v->n_flows; i++)
        jw_uid(w, NULL, out, v->evidence_flows[i], 'C');
    jw_close(w);
    jw_open_array(w, "dns");
    for (unsigned i = 0; i < v->n_dns; i++)
        jw_uid(w, NULL, out, v->evidence_dns[i], 'D');
    jw_close(w);
    jw_close(w);
    jw_open_array(w, "notes");
    for (unsigned i = 0; i < v->n_notes; i++)
        jw_str(w, NULL, v->notes[i]);
    if (dropped) {
        char note[200];
        snprintf(note, sizeof(note),
                 "the capture dropped %llu packets while this direction was active: confidence lowered",
                 (unsigned long long)dropped);
        jw_str(w, NULL, note);
    }
    jw_close(w);
    jw_open_array(w, "advice");
    if (vi && v->status != CORR_OK) {
        for (int i = 0; i < VERDICT_MAX_ADVICE && vi->advice[i]; i++) {
            char line[1024];
            verdict_render(vi->advice[i], &v->vars, line, sizeof(line));
            jw_str(w, NULL, line);
        }
    }
    jw_close(w);
    jw_str(w, "refs", vi && vi->refs ? vi->refs : "");
    jw_close(w);
}

json_object *verdict_json(const struct output *out, const struct corr_verdict *v, bool full,
                          const struct corr_direction *d)
{
    struct jw w;
    jw_tree_init(&w);
    verdict_write(&w, NULL, out, v, full, d);
    return jw_tree_done(&w);
}

/* The timeline's connections that were seen on both sides of a NAT, each
 * with its twin (what the report draws the firewall/NAT lane from):
 * "uid", "source", "observer" (when tagged) and the same of the twin as
 * "nat_peer", "nat_peer_source", "nat_peer_observer". */
static void nat_pairs_write(struct jw *w, const struct output *out, const struct corr_direction *d)
{
    jw_open_array(w, "nat_pairs");
    for (unsigned i = 0; i < d->n_nat && i < CORR_MAX_NAT_PAIRS; i++) {
        const struct corr_nat_pair *n = &d->nat[i];
        jw_open(w, NULL);
        jw_uid(w, "uid", out, n->flow_id[0], 'C');
        jw_int(w, "source", (int64_t)n->source[0]);
        if (n->source[0] < out->nsources && out->sources[n->source[0]].observer)
            jw_str(w, "observer", out->sources[n->source[0]].observer);
        jw_uid(w, "nat_peer", out, n->flow_id[1], 'C');
        jw_int(w, "nat_peer_source", (int64_t)n->source[1]);
        if (n->source[1] < out->nsources && out->sources[n->source[1]].observer)
            jw_str(w, "nat_peer_observer", out->sources[n->source[1]].observer);
        jw_close(w);
    }
    jw_close(w);
}

static void direction_write(struct jw *w, const struct output *out, const struct corr_direction *d)
{
    jw_open(w, NULL);
    jw_str(w, "from", d->from);
    jw_str(w, "to", d->to);
    verdict_write(w, "verdict", out, &d->verdict, true, d);
    jw_open(w, "stages");
    for (int s = 0; s < STAGE_CAPTURE; s++) {
        jw_open(w, fed_stage_name((enum fed_stage)s));
        jw_str(w, "status", corr_stage_status_name(d->stages[s]));
        if (d->stage_detail[s][0])
            jw_str(w, "detail", d->stage_detail[s]);
        jw_close(w);
    }
    jw_close(w);
    jw_open_array(w, "timeline");
    for (unsigned i = 0; i < d->n_timeline; i++) {
        const struct corr_tl *t = &d->timeline[i];
        jw_open(w, NULL);
        jw_frame_members(w, &t->ref);
        if (t->flow_id)
            jw_uid(w, "uid", out, t->flow_id, 'C');
        if (t->dns_id)
            jw_uid(w, "dns", out, t->dns_id, 'D');
        if (t->order_ns != t->ref.ts_ns) /* its capture point's clock is off */
            jw_time(w, "reference_ts", t->order_ns);
        jw_str(w, "stage", fed_stage_name((enum fed_stage)t->stage));
        jw_str(w, "what", t->what);
        if (t->failing)
            jw_bool(w, "failing", true);
        if (t->decrypted)
            jw_bool(w, "decrypted", true);
        jw_close(w);
    }
    jw_close(w);
    if (d->timeline_elided)
        jw_int(w, "timeline_elided", (int64_t)d->timeline_elided);
    if (d->n_nat)
        nat_pairs_write(w, out, d);
    if (out->evidence && out->evidence(out->evidence_ctx, d))
        jw_str(w, "evidence_file", out->evidence(out->evidence_ctx, d));
    jw_close(w);
}

void federation_write(struct jw *w, const struct output *out, const struct corr_federation *f)
{
    const struct corr_direction *vd = NULL; /* the direction whose verdict is the federation's */
    for (unsigned k = 0; k < f->n_dir; k++)
        if (f->verdict == &f->dir[k].verdict)
            vd = &f->dir[k];
    jw_open(w, NULL);
    jw_str(w, "id", f->id);
    jw_open_array(w, "domains");
    jw_str(w, NULL, f->domains[0]);
    jw_str(w, NULL, f->domains[1]);
    jw_close(w);
    if (f->local)
        jw_str(w, "local", f->local);
    else
        jw_null(w, "local");
    jw_bool(w, "roles_inferred", f->roles_inferred);
    jw_str(w, "role_reason", f->role_reason);
    verdict_write(w, "verdict", out, f->verdict, false, vd);
    jw_open_array(w, "directions");
    for (unsigned i = 0; i < f->n_dir; i++)
        direction_write(w, out, &f->dir[i]);
    jw_close(w);
    jw_close(w);
}

json_object *federation_json(const struct output *out, const struct corr_federation *f)
{
    struct jw w;
    jw_tree_init(&w);
    federation_write(&w, out, f);
    return jw_tree_done(&w);
}

json_object *federation_verdict_event(const struct output *out, const struct corr_federation *f,
                                      const struct corr_direction *d, const struct corr_verdict_change *chg)
{
    const struct corr_verdict *v = &d->verdict;
    const struct verdict_info *vi = verdict_info_of(v->code);
    struct ecs_event e = { v->status == CORR_FAILED ? "alert" : "state", "network", "info", "federation.verdict",
                           v->status == CORR_OK       ? "success"
                           : v->status == CORR_FAILED ? "failure"
                                                      : "unknown",
                           "fedtrace.verdict" };
    json_object *ev = json_object_new_object(), *ft = json_object_new_object();
    json_object *fed = verdict_json(out, v, true, d);
    /* Stamped with the packet time of the decision (the stream stays in
     * time order). */
    ecs_envelope(out, ev, chg->decided_ns, &e, -1);
    ecs_related_host(ev, d->from);
    ecs_related_host(ev, d->to);
    if (v->status == CORR_FAILED)
        ecs_error(ev, vi ? vi->code : "CAP-NOTHING", v->summary, fed_stage_name(v->stage));
    json_object_object_add(ft, "event_type", jstr("federation.verdict"));
    json_object_object_add(ft, "federation_id", jstr(f->id));
    json_object_object_add(fed, "from", jstr(d->from));
    json_object_object_add(fed, "to", jstr(d->to));
    if (f->local) {
        bool outbound = strcmp(f->local, d->from) == 0;
        json_object_object_add(fed, "local_domain", jstr(f->local));
        json_object_object_add(fed, "remote_domain", jstr(outbound ? d->to : d->from));
        json_object_object_add(fed, "direction", jstr(outbound ? "outbound" : "inbound"));
    }
    if (chg->has_previous) {
        json_object *prev = json_object_new_object();
        json_object_object_add(prev, "status", jstr(corr_status_name(chg->prev_status)));
        json_object_object_add(prev, "code", jstr(verdict_code_name(chg->prev_code)));
        json_object_object_add(fed, "previous", prev);
    }
    json_object_object_add(ft, "federation", fed);
    json_object_object_add(ev, "fedtrace", ft);
    return ev;
}
