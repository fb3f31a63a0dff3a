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
    cfg->max_conns = 16384;
    cfg->max_lookups = 200000;
    cfg->max_events_per_conn = 512;
    cfg->stop_grace_ns = FT_NS_PER_SEC;
    cfg->syn_timeout_ns = 3 * FT_NS_PER_SEC;
    cfg->round_interval_ns = FT_NS_PER_SEC;
    cfg->max_lag_ns = 30 * FT_NS_PER_SEC;
    cfg->idle_timeout_ns = 300 * FT_NS_PER_SEC;
    cfg->timeline_keep = 20;
    cfg->max_federations = 10000;
}

/* ---- construction ------------------------------------------------------- */

struct correlator *corr_new(const struct corr_config *cfg)
{
    struct correlator *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->cfg = *cfg;
    srv_names_init(&c->srv_names, cfg->max_lookups ? cfg->max_lookups : 200000);
    timer_queue_init(&c->timers, cfg->max_conns ? 4 * cfg->max_conns : 1024);
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
    for (unsigned i = 0; i < c->nfeds; i++)
        stream_federation_free(c->feds[i]);
    free(c->feds);
    timer_queue_free(&c->timers);
    book_layer_free(&c->book);
    book_layer_free(&c->dns_book);
    book_layer_free(&c->dns_memory);
    corr_index_free(&c->noise_names_ix);
    corr_index_free(&c->ans_addr_ix);
    corr_index_free(&c->client_ix);
    corr_index_free(&c->users_ix);
    free(c->clients);
    corr_index_free(&c->fed_ix);
    srv_names_free(&c->srv_names);
    corr_index_free(&c->lookup_dom_ix);
    corr_index_free(&c->dir_conn_ix);
    corr_index_free(&c->verify_ix);
    corr_index_free(&c->sub_ix);
    corr_index_free(&c->csub_ix);
    corr_index_free(&c->answer_ix);
    corr_index_free(&c->role_ix);
    corr_index_free(&c->names_ix);
    clock_book_free(&c->clocks);
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

/* The sink times itself (stats busy_ns): what the correlator costs in a
 * run, without a profiler.  CLOCK_MONOTONIC is read in user space.  The
 * time the output spends in the verdict and retired sinks (writing a
 * verdict event, spooling a retired federation) is the output's and is
 * left out (handed_ns). */

void corr_set_verdict_sink(struct correlator *c, corr_verdict_fn fn, void *ctx)
{
    c->verdict_fn = fn;
    c->verdict_ctx = ctx;
}

void corr_set_retired_sink(struct correlator *c, corr_retired_fn fn, void *ctx)
{
    c->retired_fn = fn;
    c->retired_ctx = ctx;
}

void corr_finish(struct correlator *c)
{
    uint64_t t0 = corr_mono_ns(), handed0 = c->handed_ns;
    stream_round(c, c->capture_end_ns, true, true);
    c->stats.busy_ns += corr_mono_ns() - t0 - (c->handed_ns - handed0);
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

void corr_conn_record(struct correlator *c, const struct conn_record *r)
{
    store_conn_record(c, r);
}

void corr_conn_end(struct correlator *c, const struct conn_record *r)
{
    store_conn_record(c, r);
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
    struct correlator *c = ctx;
    uint64_t t0 = corr_mono_ns();
    corr_conn_record(c, r);
    c->stats.busy_ns += corr_mono_ns() - t0;
}

static void sink_xmpp(void *ctx, const struct xmpp_fact *x)
{
    struct correlator *c = ctx;
    uint64_t t0 = corr_mono_ns();
    corr_xmpp_event(c, x->conn, x->ev);
    c->stats.busy_ns += corr_mono_ns() - t0;
}

static void sink_dns(void *ctx, const struct dns_lookup *lk)
{
    struct correlator *c = ctx;
    uint64_t t0 = corr_mono_ns();
    corr_dns_lookup(c, lk);
    c->stats.busy_ns += corr_mono_ns() - t0;
}

/* Called for every packet: corr_on_time times its judging rounds itself,
 * so that a packet that moves nothing costs no clock reads. */
static void sink_time(void *ctx, int64_t now_ns)
{
    corr_on_time(ctx, now_ns);
}

struct fact_sink corr_fact_sink(struct correlator *c)
{
    struct fact_sink s = { c, sink_conn, sink_xmpp, sink_dns, sink_time };
    return s;
}
