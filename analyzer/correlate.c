/*
 * correlate.c - the correlator engine (see correlate.h): receives facts and
 * hands them to the store, then at the end runs identity, builds the
 * federation registry and has every direction judged.
 *
 * Modules: corr_store (facts), corr_identity (who is who), corr_registry
 * (federations), corr_timeline, judge_record and one judge per stage
 * (judge_lookup ... judge_subscribe, judge_direction).
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *corr_status_name(enum corr_status s)
{
    switch (s) {
    case CORR_OK:
        return "ok";
    case CORR_FAILED:
        return "failed";
    case CORR_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *corr_stage_status_name(enum corr_stage_status s)
{
    switch (s) {
    case STAGE_OK:
        return "ok";
    case STAGE_FAILED:
        return "failed";
    case STAGE_SKIPPED:
        return "skipped";
    case STAGE_OPAQUE:
        return "encrypted";
    case STAGE_NOT_SEEN:
        break;
    }
    return "not_seen";
}

void corr_config_default(struct corr_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    port_set_parse(&cfg->xmpp_ports, "5222,5269,5223,5270");
    cfg->subscribe_timeout_ns = 30 * FT_NS_PER_SEC;
    cfg->dialback_timeout_ns = 30 * FT_NS_PER_SEC;
    cfg->dns_window_ns = 120 * FT_NS_PER_SEC;
    cfg->max_conns = 200000;
    cfg->max_lookups = 200000;
    cfg->max_events_per_conn = 512;
    cfg->stop_grace_ns = FT_NS_PER_SEC;
}

/* ---- construction ------------------------------------------------------- */

struct correlator *corr_new(const struct corr_config *cfg)
{
    struct correlator *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->cfg = *cfg;
    c->map_cap = 1024;
    c->map_keys = calloc(c->map_cap, sizeof(*c->map_keys));
    c->map_vals = calloc(c->map_cap, sizeof(*c->map_vals));
    if (!c->map_keys || !c->map_vals) {
        corr_free(c);
        return NULL;
    }
    return c;
}

void corr_free(struct correlator *c)
{
    if (!c)
        return;
    store_free(c);
    for (unsigned i = 0; i < c->nfeds; i++) {
        for (unsigned d = 0; d < 2; d++) {
            struct corr_direction *dir = &c->feds[i]->dir[d];
            for (unsigned t = 0; t < dir->n_timeline; t++)
                free(dir->timeline[t].what);
            free(dir->timeline);
            free(dir->text);
        }
        free(c->feds[i]);
    }
    free(c->feds);
    free(c->book);
    corr_index_free(&c->book_ix);
    corr_index_free(&c->fed_ix);
    corr_index_free(&c->srv_target_ix);
    corr_index_free(&c->lookup_dom_ix);
    corr_index_free(&c->dir_conn_ix);
    corr_index_free(&c->verify_ix);
    corr_index_free(&c->sub_ix);
    corr_index_free(&c->csub_ix);
    corr_index_free(&c->answer_ix);
    corr_index_free(&c->role_ix);
    corr_index_free(&c->names_ix);
    for (unsigned i = 0; i < c->nnames; i++)
        free(c->names[i]);
    free(c->names);
    free(c);
}

void corr_source_window(struct correlator *c, uint32_t source, int64_t first_ns, int64_t last_ns)
{
    if (source >= 64)
        return;
    c->src_first[source] = first_ns;
    c->src_last[source] = last_ns;
    c->src_seen[source] = true;
    if (source + 1 > c->nsources)
        c->nsources = source + 1;
    if (last_ns > c->capture_end_ns)
        c->capture_end_ns = last_ns;
}

static int fed_rank(enum corr_status s)
{
    return s == CORR_FAILED ? 2 : s == CORR_UNKNOWN ? 1 : 0;
}

/* Once the stop flag is seen, judging goes on for a second at most. */
static bool stop_now(struct correlator *c)
{
    struct timespec now;
    if (!c->cfg.stop || !*c->cfg.stop)
        return false;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!c->stop_seen) {
        c->stop_seen = true;
        c->stop_deadline = now;
        c->stop_deadline.tv_sec += (time_t)(c->cfg.stop_grace_ns / FT_NS_PER_SEC);
        c->stop_deadline.tv_nsec += (long)(c->cfg.stop_grace_ns % FT_NS_PER_SEC);
        if (c->stop_deadline.tv_nsec >= 1000000000L) {
            c->stop_deadline.tv_sec++;
            c->stop_deadline.tv_nsec -= 1000000000L;
        }
        if (c->cfg.stop_grace_ns > 0)
            return false;
    }
    return now.tv_sec > c->stop_deadline.tv_sec ||
           (now.tv_sec == c->stop_deadline.tv_sec && now.tv_nsec >= c->stop_deadline.tv_nsec);
}

/* A direction the run was stopped before judging: unknown, and says so. */
static void leave_unjudged(struct correlator *c, struct corr_direction *d)
{
    d->verdict.status = CORR_UNKNOWN;
    d->verdict.stage = STAGE_LOOKUP;
    d->verdict.code = VERDICT_CAP_NOTHING;
    d->verdict.confidence = "low";
    d->verdict.summary = "not judged: the run was stopped before this direction's turn";
    for (int s = 0; s < STAGE_COUNT; s++)
        d->stage_detail[s] = "";
    d->verdict.vars.from = d->verdict.vars.local = d->from;
    d->verdict.vars.to = d->verdict.vars.remote = d->to;
    c->stats.directions_unjudged++;
}

void corr_finish(struct correlator *c)
{
    identity_classify(c);
    identity_pair_nat(c);
    identity_index_lookups(c);
    identity_learn_addresses(c);
    identity_index_roles(c);
    identity_name_domains(c);
    registry_index_facts(c);

    /* Directions from connections. */
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        if (k->s2s && !k->secondary)
            registry_dir_get(c, k->dom_from, k->dom_to);
    }
    /* Directions from lookups that led nowhere. */
    for (unsigned i = 0; i < c->nlookups; i++) {
        const struct clookup *l = c->lookups[i];
        char to[STR_CAP], from[STR_CAP];
        const char *d;
        if (l->qtype != DNS_T_SRV || !corr_srv_domain(l->qname, to, sizeof(to)))
            continue;
        d = identity_book_domain(c, &l->client);
        if (d)
            corr_copy(from, sizeof(from), d);
        else if (c->cfg.n_local_domains == 1)
            corr_copy(from, sizeof(from), c->cfg.local_domains[0]);
        else
            identity_name_endpoint(from, sizeof(from), &l->client);
        if (strcasecmp(from, to) == 0)
            continue;
        /* A lookup by the receiving side of its peer during dialback
         * belongs to that peer's direction only when it has none yet. */
        registry_dir_get(c, from, to);
    }
    /* Directions from what users asked for on client connections. */
    for (unsigned i = 0; i < c->nconns; i++) {
        const struct cconn *k = c->conns[i];
        char from[STR_CAP], to[STR_CAP];
        if (!k->c2s || !identity_c2s_domain(k, from, sizeof(from)))
            continue;
        for (unsigned e = 0; e < k->nev; e++) {
            const struct cev *v = &k->ev[e];
            if (v->type != CEV_STANZA || v->dir != FT_DIR_ORIG || v->flags != XMPP_STANZA_PRESENCE ||
                v->sub != XMPP_PRES_SUBSCRIBE)
                continue;
            corr_jid_domain(v->to, to, sizeof(to));
            if (to[0] && strcasecmp(to, from) != 0)
                registry_dir_get(c, from, to);
        }
    }
    for (unsigned i = 0; i < c->nfeds; i++) {
        struct corr_federation *f = c->feds[i];
        int worst = -1;
        bool judge = !stop_now(c);
        for (unsigned j = 0; j < f->n_dir; j++) {
            if (judge)
                judge_direction(c, &f->dir[j]);
            else
                leave_unjudged(c, &f->dir[j]);
            if (fed_rank(f->dir[j].verdict.status) > worst) {
                worst = fed_rank(f->dir[j].verdict.status);
                f->verdict = &f->dir[j].verdict;
            }
        }
        identity_decide_roles(c, f);
    }
}

unsigned corr_federation_count(const struct correlator *c)
{
    return c->nfeds;
}

const struct corr_federation *corr_federation_at(const struct correlator *c, unsigned i)
{
    return i < c->nfeds ? c->feds[i] : NULL;
}

const struct corr_stats *corr_stats(const struct correlator *c)
{
    return &c->stats;
}

/* ---- facts in ----------------------------------------------------------- */

void corr_conn_end(struct correlator *c, const struct conn_record *r)
{
    store_conn_end(c, r);
}

void corr_xmpp_event(struct correlator *c, const struct flow_info *fi, const struct xmpp_event *ev)
{
    store_xmpp_event(c, fi, ev);
}

void corr_dns_lookup(struct correlator *c, const struct dns_lookup *lk)
{
    store_dns_lookup(c, lk);
}

static void sink_conn(void *ctx, const struct conn_record *r)
{
    corr_conn_end(ctx, r);
}

static void sink_xmpp(void *ctx, const struct xmpp_fact *x)
{
    corr_xmpp_event(ctx, x->conn, x->ev);
}

static void sink_dns(void *ctx, const struct dns_lookup *lk)
{
    corr_dns_lookup(ctx, lk);
}

struct fact_sink corr_fact_sink(struct correlator *c)
{
    struct fact_sink s = { c, sink_conn, sink_xmpp, sink_dns, NULL };
    return s;
}
