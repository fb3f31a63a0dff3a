/*
 * output_federation.c - what the correlator decided, as JSON: a
 * federation with its directions, each with its verdict (code, summary,
 * confidence, evidence, notes, rendered advice), stages and timeline; and
 * the NDJSON federation.verdict event of one direction.
 */
#include "output_int.h"

#include <string.h>

json_object *verdict_json(const struct output *out, const struct corr_verdict *v, bool full)
{
    json_object *o = json_object_new_object();
    const struct verdict_info *vi = verdict_info_of(v->code);
    json_object_object_add(o, "status", jstr(corr_status_name(v->status)));
    json_object_object_add(o, "stage", jstr(fed_stage_name(v->stage)));
    json_object_object_add(o, "code", jstr(vi ? vi->code : "CAP-NOTHING"));
    json_object_object_add(o, "summary", jstr(v->summary));
    json_object_object_add(o, "confidence", jstr(v->confidence ? v->confidence : "low"));
    if (v->decrypted)
        json_object_object_add(o, "decrypted", json_object_new_boolean(true));
    if (v->inferred) {
        json_object_object_add(o, "inferred", json_object_new_boolean(true));
        if (v->rule)
            json_object_object_add(o, "rule", jstr(v->rule));
    }
    if (!full)
        return o;
    if (vi)
        json_object_object_add(o, "title", jstr(vi->title));
    {
        json_object *ev = json_object_new_object(), *frames = json_object_new_array();
        json_object *refs = json_object_new_array(), *uids = json_object_new_array(), *dns = json_object_new_array();
        for (unsigned i = 0; i < v->n_evidence; i++) {
            json_object_array_add(frames, jint(v->evidence_refs[i].frame));
            json_object_array_add(refs, jframe(&v->evidence_refs[i]));
        }
        for (unsigned i = 0; i < v->n_flows; i++)
            json_object_array_add(uids, jref_uid(out, v->evidence_flows[i], 'C'));
        for (unsigned i = 0; i < v->n_dns; i++)
            json_object_array_add(dns, jref_uid(out, v->evidence_dns[i], 'D'));
        json_object_object_add(ev, "frames", frames);
        json_object_object_add(ev, "packets", refs);
        json_object_object_add(ev, "uids", uids);
        json_object_object_add(ev, "dns", dns);
        json_object_object_add(o, "evidence", ev);
    }
    {
        json_object *notes = json_object_new_array();
        for (unsigned i = 0; i < v->n_notes; i++)
            json_object_array_add(notes, jstr(v->notes[i]));
        json_object_object_add(o, "notes", notes);
    }
    {
        json_object *adv = json_object_new_array();
        if (vi && v->status != CORR_OK) {
            for (int i = 0; i < VERDICT_MAX_ADVICE && vi->advice[i]; i++) {
                char line[1024];
                verdict_render(vi->advice[i], &v->vars, line, sizeof(line));
                json_object_array_add(adv, jstr(line));
            }
        }
        json_object_object_add(o, "advice", adv);
        json_object_object_add(o, "refs", jstr(vi && vi->refs ? vi->refs : ""));
    }
    return o;
}

void verdict_adjust_for_drops(const struct output *o, const struct corr_direction *d, json_object *vj)
{
    int64_t first = INT64_MAX, last = INT64_MIN;
    uint64_t dropped = 0;
    json_object *conf, *notes;
    const char *now, *lower;
    char note[200];

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
        return;
    for (unsigned i = 0; i < o->ndrops; i++)
        if (o->drops[i].from_ns <= last && o->drops[i].to_ns >= first)
            dropped += o->drops[i].dropped;
    if (!dropped || !json_object_object_get_ex(vj, "confidence", &conf))
        return;
    now = json_object_get_string(conf);
    lower = strcmp(now, "high") == 0 ? "medium" : "low";
    json_object_object_add(vj, "confidence", jstr(lower));
    if (json_object_object_get_ex(vj, "notes", &notes)) {
        snprintf(note, sizeof(note),
                 "the capture dropped %llu packets while this direction was active: confidence lowered",
                 (unsigned long long)dropped);
        json_object_array_add(notes, jstr(note));
    }
}

/* The timeline's connections that were seen on both sides of a NAT, each
 * with its twin (what the report draws the firewall/NAT lane from):
 * "uid", "source", "observer" (when tagged) and the same of the twin as
 * "nat_peer", "nat_peer_source", "nat_peer_observer". */
static json_object *nat_pairs_json(const struct output *out, const struct corr_direction *d)
{
    json_object *arr = json_object_new_array();
    for (unsigned i = 0; i < d->n_nat && i < CORR_MAX_NAT_PAIRS; i++) {
        const struct corr_nat_pair *n = &d->nat[i];
        json_object *p = json_object_new_object();
        json_object_object_add(p, "uid", jref_uid(out, n->flow_id[0], 'C'));
        json_object_object_add(p, "source", jint(n->source[0]));
        if (n->source[0] < out->nsources && out->sources[n->source[0]].observer)
            json_object_object_add(p, "observer", jstr(out->sources[n->source[0]].observer));
        json_object_object_add(p, "nat_peer", jref_uid(out, n->flow_id[1], 'C'));
        json_object_object_add(p, "nat_peer_source", jint(n->source[1]));
        if (n->source[1] < out->nsources && out->sources[n->source[1]].observer)
            json_object_object_add(p, "nat_peer_observer", jstr(out->sources[n->source[1]].observer));
        json_object_array_add(arr, p);
    }
    return arr;
}

static json_object *direction_json(const struct output *out, const struct corr_direction *d)
{
    json_object *o = json_object_new_object(), *st = json_object_new_object(), *tl = json_object_new_array();
    json_object_object_add(o, "from", jstr(d->from));
    json_object_object_add(o, "to", jstr(d->to));
    {
        json_object *vj = verdict_json(out, &d->verdict, true);
        verdict_adjust_for_drops(out, d, vj);
        json_object_object_add(o, "verdict", vj);
    }
    for (int s = 0; s < STAGE_CAPTURE; s++) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "status", jstr(corr_stage_status_name(d->stages[s])));
        if (d->stage_detail[s][0])
            json_object_object_add(j, "detail", jstr(d->stage_detail[s]));
        json_object_object_add(st, fed_stage_name((enum fed_stage)s), j);
    }
    json_object_object_add(o, "stages", st);
    for (unsigned i = 0; i < d->n_timeline; i++) {
        const struct corr_tl *t = &d->timeline[i];
        json_object *j = jframe(&t->ref);
        if (t->flow_id)
            json_object_object_add(j, "uid", jref_uid(out, t->flow_id, 'C'));
        if (t->dns_id)
            json_object_object_add(j, "dns", jref_uid(out, t->dns_id, 'D'));
        if (t->order_ns != t->ref.ts_ns) /* its capture point's clock is off */
            json_object_object_add(j, "reference_ts", jtime(t->order_ns));
        json_object_object_add(j, "stage", jstr(fed_stage_name(t->stage)));
        json_object_object_add(j, "what", jstr(t->what));
        if (t->failing)
            json_object_object_add(j, "failing", json_object_new_boolean(true));
        if (t->decrypted)
            json_object_object_add(j, "decrypted", json_object_new_boolean(true));
        json_object_array_add(tl, j);
    }
    json_object_object_add(o, "timeline", tl);
    if (d->timeline_elided)
        json_object_object_add(o, "timeline_elided", jint(d->timeline_elided));
    if (d->n_nat)
        json_object_object_add(o, "nat_pairs", nat_pairs_json(out, d));
    if (out->evidence && out->evidence(out->evidence_ctx, d))
        json_object_object_add(o, "evidence_file", jstr(out->evidence(out->evidence_ctx, d)));
    return o;
}

json_object *federation_json(const struct output *out, const struct corr_federation *f)
{
    json_object *o = json_object_new_object(), *doms = json_object_new_array(), *dirs = json_object_new_array();
    json_object_object_add(o, "id", jstr(f->id));
    json_object_array_add(doms, jstr(f->domains[0]));
    json_object_array_add(doms, jstr(f->domains[1]));
    json_object_object_add(o, "domains", doms);
    json_object_object_add(o, "local", f->local ? jstr(f->local) : NULL);
    json_object_object_add(o, "roles_inferred", json_object_new_boolean(f->roles_inferred));
    json_object_object_add(o, "role_reason", jstr(f->role_reason));
    {
        json_object *vj = verdict_json(out, f->verdict, false);
        for (unsigned k = 0; k < f->n_dir; k++)
            if (f->verdict == &f->dir[k].verdict)
                verdict_adjust_for_drops(out, &f->dir[k], vj);
        json_object_object_add(o, "verdict", vj);
    }
    for (unsigned i = 0; i < f->n_dir; i++)
        json_object_array_add(dirs, direction_json(out, &f->dir[i]));
    json_object_object_add(o, "directions", dirs);
    return o;
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
    json_object *fed = verdict_json(out, v, true);
    verdict_adjust_for_drops(out, d, fed);
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
