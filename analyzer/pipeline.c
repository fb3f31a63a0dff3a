/*
 * pipeline.c - the per-packet path: decode, flow lookup, TCP state and
 * reassembly, dissector choice and delivery (see pipeline.h).
 */
#include "pipeline.h"

#include <netinet/in.h>
#include <string.h>

#define DNS_PORT 53

/* What the reassembler's callbacks need to find their way back. */
struct delivery {
    struct pipeline *pl;
    struct flow *f;
};

void pipeline_config_default(struct pipeline_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    port_set_parse(&cfg->xmpp_ports, "5222,5269,5223,5270");
    cfg->verify_checksums = true;
    cfg->flows.max_flows = 65536;
    cfg->flows.timeout_ns[FLOW_LIST_NEW] = 120 * FT_NS_PER_SEC;
    cfg->flows.timeout_ns[FLOW_LIST_EST] = 3600 * FT_NS_PER_SEC;
    cfg->flows.timeout_ns[FLOW_LIST_CLOSED] = 5 * FT_NS_PER_SEC; /* as Zeek's tcp_close_delay */
    cfg->flows.timeout_ns[FLOW_LIST_UDP] = 60 * FT_NS_PER_SEC;
    cfg->max_stream_buffer = 1024 * 1024;
    cfg->max_total_buffer = 64 * 1024 * 1024;
    cfg->frags.max_datagrams = 256;
    cfg->frags.max_bytes = 4 * 1024 * 1024;
    cfg->frags.timeout_ns = 30 * FT_NS_PER_SEC;
}

static bool is_service_port(void *user, uint16_t port)
{
    const struct pipeline *pl = user;
    return port == DNS_PORT || port_set_has(&pl->cfg.xmpp_ports, port);
}

static const struct stream_dissector *dissector_for(const struct pipeline *pl, enum app_proto app)
{
    switch (app) {
    case APP_XMPP:
    case APP_XMPP_TLS:
        return pl->dissectors.xmpp;
    case APP_DNS:
        return pl->dissectors.dns_tcp;
    default:
        return NULL;
    }
}

/* Fixes the flow's protocol and opens its dissector.  A flow nobody
 * dissects stops buffering (its TCP facts are still kept). */
static void attach(struct pipeline *pl, struct flow *f, enum app_proto app, const struct ft_meta *m)
{
    f->info.app = app;
    switch (app) {
    case APP_XMPP:
        pl->stats.flows_xmpp++;
        break;
    case APP_XMPP_TLS:
        pl->stats.flows_xmpp_tls++;
        break;
    case APP_DNS:
        pl->stats.flows_dns++;
        break;
    default:
        break;
    }
    f->dis = dissector_for(pl, app);
    if (f->dis && f->dis->open)
        f->dis_state = f->dis->open(f->dis->user, &f->info, m);
    if (f->dis && !f->dis_state)
        f->dis = NULL; /* the dissector declined this connection */
    else if (f->dis || app != APP_NONE)
        return;
    {
        f->tcp.half[0].ignore = true;
        f->tcp.half[1].ignore = true;
        reasm_release(&pl->reasm, &f->tcp.half[0]);
        reasm_release(&pl->reasm, &f->tcp.half[1]);
    }
}

static void to_dissector(struct pipeline *pl, struct flow *f, enum ft_dir dir, const uint8_t *p,
                         size_t n, const struct ft_meta *m)
{
    if (f->dis && f->dis->data && n > 0) {
        pl->stats.bytes_to_dissectors += n;
        f->dis->data(f->dis_state, dir, p, n, m);
    }
}

/* The meta of a delivery, stamped with its flow and direction. */
static struct ft_meta flow_meta(const struct flow *f, enum ft_dir dir, const struct ft_meta *m)
{
    struct ft_meta fm = *m;
    fm.flow_id = f->info.flow_id;
    fm.dir = (uint8_t)dir;
    return fm;
}

/* The protocol from the first bytes: the originator's decide; a server
 * that speaks first is judged by its own. */
static enum app_proto choose_by_content(const struct pipeline *pl, const struct flow *f)
{
    enum ft_dir d = f->sniff_len[FT_DIR_ORIG] > 0 ? FT_DIR_ORIG : FT_DIR_RESP;
    return dissect_choose_tcp(&pl->cfg.xmpp_ports, f->info.port[FT_DIR_RESP], f->info.port[FT_DIR_ORIG],
                              f->sniff[d], f->sniff_len[d]);
}

/* Fixes the protocol and hands the dissector what was held back while
 * deciding: the bytes of `first` (the direction that did not trigger the
 * decision) then `last_len` bytes of the other.  Returns whether a
 * dissector now listens. */
static bool decide(struct pipeline *pl, struct flow *f, enum app_proto app, enum ft_dir last,
                   size_t last_len, const struct ft_meta *m)
{
    enum ft_dir first = (enum ft_dir)!last;
    struct ft_meta fm = flow_meta(f, first, m);
    attach(pl, f, app, m);
    if (!f->dis)
        return false;
    to_dissector(pl, f, first, f->sniff[first], f->sniff_len[first], &fm);
    fm.dir = (uint8_t)last;
    to_dissector(pl, f, last, f->sniff[last], last_len, &fm);
    return true;
}

static void on_data(void *user, enum ft_dir dir, const uint8_t *p, size_t n,
                    const struct ft_meta *m)
{
    struct delivery *dv = user;
    struct flow *f = dv->f;
    struct ft_meta fm = flow_meta(f, dir, m);

    if (f->info.app == APP_UNDECIDED) {
        size_t prev = f->sniff_len[dir];
        size_t room = sizeof(f->sniff[dir]) - prev;
        size_t k = n < room ? n : room;
        enum app_proto app;

        memcpy(f->sniff[dir] + prev, p, k);
        f->sniff_len[dir] = (uint8_t)(prev + k);
        app = choose_by_content(dv->pl, f);
        if (app == APP_UNDECIDED && f->sniff_len[dir] == sizeof(f->sniff[dir]))
            app = APP_NONE;
        /* This chunk is replayed whole below, so only this direction's
         * earlier bytes come from the sniff buffer. */
        if (app == APP_UNDECIDED || !decide(dv->pl, f, app, dir, prev, &fm))
            return;
    }
    to_dissector(dv->pl, f, dir, p, n, &fm);
}

static void on_gap(void *user, enum ft_dir dir, uint64_t nbytes, const struct ft_meta *m)
{
    struct delivery *dv = user;
    struct flow *f = dv->f;
    struct ft_meta fm = flow_meta(f, dir, m);

    if (f->info.app == APP_UNDECIDED) {
        /* No content to judge by: the port decides. */
        enum app_proto app = APP_NONE;
        if (f->info.port[FT_DIR_RESP] == DNS_PORT)
            app = APP_DNS;
        else if (port_set_has(&dv->pl->cfg.xmpp_ports, f->info.port[FT_DIR_RESP]))
            app = APP_XMPP;
        decide(dv->pl, f, app, dir, f->sniff_len[dir], &fm);
    }
    if (f->dis && f->dis->gap)
        f->dis->gap(f->dis_state, dir, nbytes, &fm);
}

static void on_eof(void *user, enum ft_dir dir, const struct ft_meta *m)
{
    struct delivery *dv = user;
    struct flow *f = dv->f;
    struct ft_meta fm = flow_meta(f, dir, m);

    if (f->info.app == APP_UNDECIDED && (f->sniff_len[0] || f->sniff_len[1])) {
        /* A short stream that never reached a decision: decide with what
         * there is. */
        enum app_proto app = choose_by_content(dv->pl, f);
        decide(dv->pl, f, app == APP_UNDECIDED ? APP_NONE : app, dir, f->sniff_len[dir], &fm);
    }
    if (f->dis && f->dis->eof)
        f->dis->eof(f->dis_state, dir, &fm);
    /* Both directions are over: the dissector has nothing left to see, so
     * free its state now rather than when the flow leaves the table. */
    if (f->dis && f->tcp.half[0].eof_sent && f->tcp.half[1].eof_sent) {
        if (f->dis->close)
            f->dis->close(f->dis_state, &fm);
        f->dis = NULL;
        f->dis_state = NULL;
    }
}

static bool flow_matters(const struct pipeline *pl, const struct flow *f)
{
    if (f->info.app != APP_UNDECIDED && f->info.app != APP_NONE)
        return true;
    return is_service_port((void *)pl, f->info.port[FT_DIR_RESP]);
}

/* Flow table callback: the flow is about to be freed. */
static void on_flow_end(void *user, struct flow *f, enum flow_end_reason why,
                        const struct ft_meta *m)
{
    struct pipeline *pl = user;
    struct delivery dv = { pl, f };
    struct reasm_sink sink = { on_data, on_gap, on_eof, &dv };
    struct ft_meta last = f->last_meta;
    (void)m;

    if (f->info.proto == IPPROTO_TCP) {
        tcp_conn_flush(&f->tcp, &pl->reasm, &last, &sink);
        tcp_conn_release(&f->tcp, &pl->reasm);
    }
    if (f->dis && f->dis->close)
        f->dis->close(f->dis_state, &last);
    f->dis_state = NULL;
    if (f->info.app == APP_UNDECIDED) {
        /* No payload ever arrived (an unanswered SYN, a reset): label the
         * attempt by its port. */
        if (f->info.port[FT_DIR_RESP] == DNS_PORT)
            f->info.app = APP_DNS;
        else if (port_set_has(&pl->cfg.xmpp_ports, f->info.port[FT_DIR_RESP]))
            f->info.app = APP_XMPP;
    }
    if (flow_matters(pl, f)) {
        struct conn_record rec;
        pl->stats.flows_reported++;
        if (pl->facts.on_conn) {
            flow_conn_record(f, CONN_END, why, &rec);
            pl->facts.on_conn(pl->facts.ctx, &rec);
        }
    } else {
        pl->stats.flows_ignored++;
    }
}

int pipeline_init(struct pipeline *pl, const struct pipeline_config *cfg,
                  const struct dissector_set *dissectors, const struct fact_sink *facts)
{
    memset(pl, 0, sizeof(*pl));
    pl->cfg = *cfg;
    if (dissectors)
        pl->dissectors = *dissectors;
    if (facts)
        pl->facts = *facts;
    pl->frags = ipfrag_new(&cfg->frags);
    if (!pl->frags)
        goto fail;
    pl->flows = flow_table_new(&cfg->flows, on_flow_end, pl);
    if (!pl->flows)
        goto fail;
    pl->dec.frags = pl->frags;
    pl->dec.verify_checksums = cfg->verify_checksums;
    pl->reasm.max_stream_bytes = cfg->max_stream_buffer;
    pl->reasm.max_total_bytes = cfg->max_total_buffer;
    return 0;
fail:
    ipfrag_free(pl->frags);
    pl->frags = NULL;
    return -1;
}

static void handle_udp(struct pipeline *pl, const struct packet *pkt)
{
    struct flow_info fi;
    enum ft_dir dir;
    struct ft_meta m = pkt->meta;

    pl->stats.udp_datagrams++;
    if (pkt->sport != DNS_PORT && pkt->dport != DNS_PORT) {
        pl->stats.ignored_udp++;
        return;
    }
    pl->stats.dns_datagrams++;
    if (!pl->dissectors.dns_udp || !pl->dissectors.dns_udp->datagram)
        return;
    /* The side on port 53 is the server; queries travel FT_DIR_ORIG. */
    dir = pkt->dport == DNS_PORT ? FT_DIR_ORIG : FT_DIR_RESP;
    memset(&fi, 0, sizeof(fi));
    fi.proto = IPPROTO_UDP;
    fi.app = APP_DNS;
    fi.addr[FT_DIR_ORIG] = dir == FT_DIR_ORIG ? pkt->src : pkt->dst;
    fi.addr[FT_DIR_RESP] = dir == FT_DIR_ORIG ? pkt->dst : pkt->src;
    fi.port[FT_DIR_ORIG] = dir == FT_DIR_ORIG ? pkt->sport : pkt->dport;
    fi.port[FT_DIR_RESP] = dir == FT_DIR_ORIG ? pkt->dport : pkt->sport;
    m.dir = (uint8_t)dir;
    pl->dissectors.dns_udp->datagram(pl->dissectors.dns_udp->user, &fi, dir, pkt->payload,
                                     pkt->payload_len, pkt->truncated, &m);
}

/* What a connection record reports early: the handshake and close. */
struct handshake_mark {
    uint16_t syn_count;
    bool synack, rst, both_fins;
};

static struct handshake_mark handshake_mark_of(const struct tcp_conn *t)
{
    struct handshake_mark h = { t->syn_count, t->synack.frame != 0, t->rst.frame != 0,
                                t->dir[0].fin.frame && t->dir[1].fin.frame };
    return h;
}

/* Emits a record of a connection that matters when this packet moved its
 * handshake or close (see facts.h on why these come before the end). */
static void report_handshake(struct pipeline *pl, const struct flow *f,
                             const struct handshake_mark *before)
{
    struct handshake_mark now = handshake_mark_of(&f->tcp);
    struct conn_record rec;
    enum conn_phase phase;

    if (!pl->facts.on_conn)
        return;
    if (now.syn_count != before->syn_count)
        phase = CONN_SYN;
    else if (now.synack != before->synack)
        phase = CONN_SYNACK;
    else if (now.rst != before->rst)
        phase = CONN_RST;
    else if (now.both_fins != before->both_fins)
        phase = CONN_FIN;
    else
        return;
    if (!flow_matters(pl, f))
        return;
    flow_conn_record(f, phase, FLOW_END_INPUT, &rec);
    pl->facts.on_conn(pl->facts.ctx, &rec);
}

static void handle_tcp(struct pipeline *pl, struct packet *pkt)
{
    enum ft_dir dir;
    struct flow *f;
    enum flow_list list;

    pl->stats.tcp_segments++;
    f = flow_get(pl->flows, IPPROTO_TCP, &pkt->src, pkt->sport, &pkt->dst, pkt->dport,
                 pkt->tcp_flags, is_service_port, pl, &pkt->meta, &dir);
    if (!f)
        return;
    /* A fresh SYN on the 5-tuple of a finished connection is a new
     * connection (port reuse), not a retransmission. */
    if ((pkt->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && f->tcp.closed &&
        pkt->seq != f->tcp.isn[FT_DIR_ORIG]) {
        flow_end(pl->flows, f, FLOW_END_REUSED, &pkt->meta);
        f = flow_get(pl->flows, IPPROTO_TCP, &pkt->src, pkt->sport, &pkt->dst, pkt->dport,
                     pkt->tcp_flags, is_service_port, pl, &pkt->meta, &dir);
        if (!f)
            return;
    }

    struct delivery dv = { pl, f };
    struct reasm_sink sink = { on_data, on_gap, on_eof, &dv };
    struct handshake_mark before = handshake_mark_of(&f->tcp);
    pkt->meta.flow_id = f->info.flow_id;
    pkt->meta.dir = (uint8_t)dir;
    tcp_conn_packet(&f->tcp, &pl->reasm, dir, pkt, &sink);

    if (f->tcp.closed)
        list = FLOW_LIST_CLOSED;
    else if (f->tcp.established || f->tcp.midstream)
        list = FLOW_LIST_EST;
    else
        list = FLOW_LIST_NEW;
    flow_touch(pl->flows, f, list, &pkt->meta);
    report_handshake(pl, f, &before);
}

/* A connection quiet this long (packet time) lets its dissector give back
 * what it can rebuild (the XMPP parsers between stanzas). */
#define DISSECTOR_IDLE_NS (5 * FT_NS_PER_SEC)

static void tell_idle(void *user, struct flow *f)
{
    (void)user;
    if (f->dis && f->dis->idle && f->dis_state)
        f->dis->idle(f->dis_state);
}

/* Packet time moved on to m->ts_ns: timers above may fire before facts
 * of that time, and timeouts run at most once per second of it. */
static void advance_clock(struct pipeline *pl, const struct ft_meta *m, bool first)
{
    if (m->ts_ns > pl->clock_ns || first) {
        pl->clock_ns = m->ts_ns;
        fact_emit_time(&pl->facts, m->ts_ns);
    }
    if (pl->have_packets && m->ts_ns >= pl->next_housekeeping_ns) {
        flow_expire(pl->flows, m->ts_ns, m);
        flow_for_idle(pl->flows, FLOW_LIST_EST, m->ts_ns, DISSECTOR_IDLE_NS, tell_idle, pl);
        ipfrag_expire(pl->frags, m->ts_ns);
        if (pl->dissectors.tick)
            pl->dissectors.tick(pl->dissectors.user, m->ts_ns);
        pl->next_housekeeping_ns = m->ts_ns + FT_NS_PER_SEC;
    }
}

void pipeline_advance(struct pipeline *pl, int64_t now_ns)
{
    struct ft_meta m;
    if (!pl->flows || now_ns <= pl->clock_ns)
        return;
    /* The records a timeout emits name the last frame seen, stamped now. */
    m = pl->last_meta;
    m.ts_ns = now_ns;
    advance_clock(pl, &m, false);
}

void pipeline_packet(struct pipeline *pl, int linktype, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen, const struct ft_meta *m)
{
    struct packet pkt;
    enum decode_result r;

    pl->stats.frames++;
    if (!pl->have_packets) {
        pl->stats.first_ns = m->ts_ns;
        pl->next_housekeeping_ns = m->ts_ns + FT_NS_PER_SEC;
        pl->have_packets = true;
    }
    if (m->ts_ns > pl->stats.last_ns)
        pl->stats.last_ns = m->ts_ns;
    pl->last_meta = *m;
    advance_clock(pl, m, pl->stats.frames == 1);

    pkt.meta = *m;
    pkt.caplen = caplen;
    pkt.wirelen = wirelen;
    r = decode_packet(&pl->dec, linktype, data, &pkt);
    if (r != DECODE_OK)
        return;
    if (pkt.proto == IPPROTO_TCP)
        handle_tcp(pl, &pkt);
    else if (pkt.proto == IPPROTO_UDP)
        handle_udp(pl, &pkt);
    else
        pl->stats.ignored_other++;
}

void pipeline_finish(struct pipeline *pl)
{
    if (!pl->flows)
        return;
    flow_end_all(pl->flows, &pl->last_meta);
    pl->flow_stats = *flow_table_stats(pl->flows);
    flow_table_free(pl->flows, &pl->last_meta);
    pl->flows = NULL;
    if (pl->dissectors.finish)
        pl->dissectors.finish(pl->dissectors.user);
}

void pipeline_destroy(struct pipeline *pl)
{
    pipeline_finish(pl);
    ipfrag_free(pl->frags);
    pl->frags = NULL;
}

void pipeline_snapshot(const struct pipeline *pl, struct stats_snapshot *snap)
{
    snap->have_packets = pl->have_packets;
    snap->pipeline = pl->stats;
    snap->decode = pl->dec.stats;
    if (pl->frags)
        snap->ipfrag = *ipfrag_stats(pl->frags);
    snap->flows = pl->flows ? *flow_table_stats(pl->flows) : pl->flow_stats;
    snap->reasm = pl->reasm.stats;
}
