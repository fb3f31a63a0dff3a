/*
 * facts.c - the facts floor's few functions: frame references, end-reason
 * names and the sink fan-out (see facts.h).
 */
#include "facts.h"

struct frame_ref frame_ref_of(const struct ft_meta *m)
{
    struct frame_ref r = { m->frame, m->src_frame, m->source, m->ts_ns };
    return r;
}

const char *flow_end_reason_name(enum flow_end_reason r)
{
    switch (r) {
    case FLOW_END_TIMEOUT:
        return "timeout";
    case FLOW_END_EVICTED:
        return "evicted";
    case FLOW_END_REUSED:
        return "reused";
    case FLOW_END_INPUT:
        return "end_of_input";
    }
    return "?";
}

int fact_fanout_add(struct fact_fanout *fo, const struct fact_sink *s)
{
    if (fo->n >= FACT_MAX_SINKS)
        return -1;
    fo->sink[fo->n++] = *s;
    return 0;
}

static void fanout_conn(void *ctx, const struct conn_record *c)
{
    const struct fact_fanout *fo = ctx;
    for (unsigned i = 0; i < fo->n; i++)
        fact_emit_conn(&fo->sink[i], c);
}

static void fanout_xmpp(void *ctx, const struct xmpp_fact *x)
{
    const struct fact_fanout *fo = ctx;
    for (unsigned i = 0; i < fo->n; i++)
        if (fo->sink[i].on_xmpp)
            fo->sink[i].on_xmpp(fo->sink[i].ctx, x);
}

static void fanout_dns(void *ctx, const struct dns_lookup *lk)
{
    const struct fact_fanout *fo = ctx;
    for (unsigned i = 0; i < fo->n; i++)
        fact_emit_dns(&fo->sink[i], lk);
}

static void fanout_time(void *ctx, int64_t now_ns)
{
    const struct fact_fanout *fo = ctx;
    for (unsigned i = 0; i < fo->n; i++)
        fact_emit_time(&fo->sink[i], now_ns);
}

struct fact_sink fact_fanout_sink(struct fact_fanout *fo)
{
    struct fact_sink s = { fo, fanout_conn, fanout_xmpp, fanout_dns, fanout_time };
    return s;
}

void fact_emit_conn(const struct fact_sink *s, const struct conn_record *c)
{
    if (s && s->on_conn)
        s->on_conn(s->ctx, c);
}

void fact_emit_xmpp(const struct fact_sink *s, const struct flow_info *conn,
                    const struct xmpp_event *ev)
{
    struct xmpp_fact x = { conn, ev };
    if (s && s->on_xmpp)
        s->on_xmpp(s->ctx, &x);
}

void fact_emit_dns(const struct fact_sink *s, const struct dns_lookup *lk)
{
    if (s && s->on_dns)
        s->on_dns(s->ctx, lk);
}

void fact_emit_time(const struct fact_sink *s, int64_t now_ns)
{
    if (s && s->on_time)
        s->on_time(s->ctx, now_ns);
}
