/*
 * dispatch.c - dissector adapters and fact routing (see dispatch.h).
 */
#include "dispatch.h"

#include <stdlib.h>
#include <string.h>

/* ---- XMPP ---------------------------------------------------------------- */

struct xmpp_flow {
    struct dispatch *d;
    struct flow_info fi;
    struct xmpp_conn *conn;
};

static void xmpp_on_event(const struct xmpp_event *ev, void *user)
{
    struct xmpp_flow *xf = user;
    xf->d->stats.xmpp_events++;
    fact_emit_xmpp(&xf->d->sink, &xf->fi, ev);
}

/* Whether a new connection may have a dissector; counts a refusal. */
static bool state_room(struct dispatch *d)
{
    if (budget_has_room(&d->state, DISPATCH_OPEN_RESERVE))
        return true;
    d->stats.state_cap++;
    return false;
}

static void *xmpp_open(void *user, const struct flow_info *fi, const struct ft_meta *m)
{
    struct dispatch *d = user;
    struct xmpp_flow *xf;
    (void)m;
    if (!state_room(d))
        return NULL;
    xf = budget_calloc(&d->state, sizeof(*xf));
    if (!xf)
        goto fail;
    xf->d = d;
    xf->fi = *fi;
    xf->conn = xmpp_conn_new(&d->xmpp_cfg, fi->app == APP_XMPP_TLS, xmpp_on_event, xf);
    if (!xf->conn)
        goto fail;
    d->stats.xmpp_connections++;
    return xf;
fail:
    budget_free(xf);
    d->stats.alloc_failures++;
    return NULL;
}

static void xmpp_data(void *st, enum ft_dir dir, const uint8_t *p, size_t n, const struct ft_meta *m)
{
    struct xmpp_flow *xf = st;
    xmpp_conn_data(xf->conn, dir, p, n, m);
}

static void xmpp_gap(void *st, enum ft_dir dir, uint64_t n, const struct ft_meta *m)
{
    struct xmpp_flow *xf = st;
    xmpp_conn_gap(xf->conn, dir, n, m);
}

static void xmpp_eof(void *st, enum ft_dir dir, const struct ft_meta *m)
{
    struct xmpp_flow *xf = st;
    xmpp_conn_eof(xf->conn, dir, m);
}

static void xmpp_idle(void *st)
{
    struct xmpp_flow *xf = st;
    xmpp_conn_idle(xf->conn);
}

static void xmpp_close(void *st, const struct ft_meta *m)
{
    struct xmpp_flow *xf = st;
    (void)m;
    xmpp_conn_free(xf->conn);
    budget_free(xf);
}

/* ---- DNS ----------------------------------------------------------------- */

/* Parses one DNS message and feeds the tracker.  `client` asked. */
static void dns_message(struct dispatch *d, const struct flow_info *fi, uint8_t transport,
                        const uint8_t *p, size_t n, const struct ft_meta *m)
{
    struct dns_msg *msg = d->dns_msg;
    struct dns_endpoint client, server;

    d->stats.dns_messages++;
    if (dns_parse(p, n, m, msg, &d->dns_parse) != DNS_ERR_NONE)
        d->stats.dns_parse_errors++;
    client.addr = fi->addr[FT_DIR_ORIG];
    client.port = fi->port[FT_DIR_ORIG];
    server.addr = fi->addr[FT_DIR_RESP];
    server.port = fi->port[FT_DIR_RESP];
    /* The tracker ignores what it cannot use (no question, bad header). */
    dns_tracker_feed(d->dns, &client, &server, transport, msg, m);
}

static void dns_udp(void *user, const struct flow_info *fi, enum ft_dir dir, const uint8_t *p,
                    size_t n, bool truncated, const struct ft_meta *m)
{
    (void)dir;
    (void)truncated; /* a cut datagram fails to parse and is counted there */
    dns_message(user, fi, DNS_UDP, p, n, m);
}

struct dns_flow {
    struct dispatch *d;
    struct flow_info fi;
    struct dns_tcp_stream s[2];
};

static void dns_tcp_msg(void *user, const uint8_t *msg, size_t len, const struct ft_meta *m)
{
    struct dns_flow *df = user;
    dns_message(df->d, &df->fi, DNS_TCP, msg, len, m);
}

static void *dns_tcp_open(void *user, const struct flow_info *fi, const struct ft_meta *m)
{
    struct dispatch *d = user;
    struct dns_flow *df;
    (void)m;
    if (!state_room(d))
        return NULL;
    df = budget_calloc(&d->state, sizeof(*df));
    if (!df) {
        d->stats.alloc_failures++;
        return NULL;
    }
    df->d = d;
    df->fi = *fi;
    dns_tcp_init(&df->s[0], dns_tcp_msg, df);
    dns_tcp_init(&df->s[1], dns_tcp_msg, df);
    df->s[0].budget = &d->state;
    df->s[1].budget = &d->state;
    return df;
}

static void dns_tcp_data_cb(void *st, enum ft_dir dir, const uint8_t *p, size_t n,
                            const struct ft_meta *m)
{
    struct dns_flow *df = st;
    dns_tcp_data(&df->s[dir], p, n, m);
}

static void dns_tcp_gap_cb(void *st, enum ft_dir dir, uint64_t n, const struct ft_meta *m)
{
    struct dns_flow *df = st;
    dns_tcp_gap(&df->s[dir], n, m);
}

static void dns_tcp_eof_cb(void *st, enum ft_dir dir, const struct ft_meta *m)
{
    struct dns_flow *df = st;
    dns_tcp_eof(&df->s[dir], m);
}

static void dns_tcp_close(void *st, const struct ft_meta *m)
{
    struct dns_flow *df = st;
    (void)m;
    dns_tcp_release(&df->s[0]);
    dns_tcp_release(&df->s[1]);
    budget_free(df);
}

static void dns_on_lookup(void *user, const struct dns_lookup *lk)
{
    struct dispatch *d = user;
    fact_emit_dns(&d->sink, lk);
}

/* ---- hooks ------------------------------------------------------------- */

static void on_tick(void *user, int64_t now_ns)
{
    struct dispatch *d = user;
    dns_tracker_advance(d->dns, now_ns);
}

static void on_finish(void *user)
{
    struct dispatch *d = user;
    dns_tracker_flush(d->dns);
}

int dispatch_init(struct dispatch *d, const struct xmpp_config *xmpp_cfg,
                  const struct fact_sink *sink)
{
    memset(d, 0, sizeof(*d));
    if (xmpp_cfg)
        d->xmpp_cfg = *xmpp_cfg;
    else
        xmpp_config_default(&d->xmpp_cfg);
    if (sink)
        d->sink = *sink;
    budget_init(&d->state, DISPATCH_STATE_BUDGET, NULL);
    d->xmpp_cfg.budget = &d->state;
    d->xmpp_pool = xmpp_pool_new(&d->state);
    d->xmpp_cfg.pool = d->xmpp_pool;
    d->dns = dns_tracker_new(NULL, dns_on_lookup, d);
    d->dns_msg = malloc(sizeof(*d->dns_msg));
    if (!d->dns || !d->dns_msg || !d->xmpp_pool) {
        dispatch_free(d);
        return -1;
    }
    d->xmpp_ops = (struct stream_dissector){ "xmpp", xmpp_open, xmpp_data, xmpp_gap,
                                             xmpp_eof, xmpp_close, d, xmpp_idle };
    d->dns_tcp_ops = (struct stream_dissector){ "dns", dns_tcp_open, dns_tcp_data_cb,
                                                dns_tcp_gap_cb, dns_tcp_eof_cb, dns_tcp_close, d, NULL };
    d->dns_udp_ops = (struct datagram_dissector){ "dns", dns_udp, d };
    return 0;
}

void dispatch_set_state_limit(struct dispatch *d, size_t bytes)
{
    d->state.limit = bytes;
}

void dispatch_bind(struct dispatch *d, struct dissector_set *set)
{
    memset(set, 0, sizeof(*set));
    set->xmpp = &d->xmpp_ops;
    set->dns_tcp = &d->dns_tcp_ops;
    set->dns_udp = &d->dns_udp_ops;
    set->tick = on_tick;
    set->finish = on_finish;
    set->user = d;
}

void dispatch_free(struct dispatch *d)
{
    dns_tracker_free(d->dns);
    d->dns = NULL;
    free(d->dns_msg);
    d->dns_msg = NULL;
    xmpp_pool_free(d->xmpp_pool); /* after the connections (pipeline_destroy) */
    d->xmpp_pool = NULL;
    d->xmpp_cfg.pool = NULL;
}

void dispatch_snapshot(const struct dispatch *d, struct stats_snapshot *snap)
{
    snap->dispatch = d->stats;
    snap->dispatch.state_limit = d->state.limit;
    snap->dispatch.state_peak = d->state.peak;
    snap->dispatch.state_refused = d->state.refused;
    snap->dns_parse = d->dns_parse;
    if (d->dns)
        snap->dns_tracker = *dns_tracker_stats(d->dns);
}
