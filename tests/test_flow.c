/*
 * test_flow.c - the flow table (lookup, direction, ids, per-list timeouts,
 * the flow cap) and the pipeline around it: a connection through
 * pipeline_packet() into a recording stream dissector, port reuse, content
 * sniffing, a SYN flood against the flow cap, port lists and sniff_stream.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pipeline.h"
#include "pktbuild.h"

static struct ft_addr A, B;

/* ---- flow table ------------------------------------------------------------- */

struct ended {
    uint64_t id[64];
    enum flow_end_reason why[64];
    int n;
};

static void on_end(void *user, struct flow *f, enum flow_end_reason why, const struct ft_meta *m)
{
    struct ended *e = user;
    (void)m;
    if (e->n < 64) {
        e->id[e->n] = f->info.flow_id;
        e->why[e->n] = why;
    }
    e->n++;
}

static bool svc_5269(void *user, uint16_t port)
{
    (void)user;
    return port == 5269;
}

static struct ft_meta at(int64_t ns, uint64_t frame)
{
    struct ft_meta m = { .frame = frame, .src_frame = frame, .ts_ns = ns };
    return m;
}

#define SEC FT_NS_PER_SEC

static struct flow_config cfg4(uint32_t max_flows)
{
    struct flow_config c = { .max_flows = max_flows };
    c.timeout_ns[FLOW_LIST_NEW] = 10 * SEC;
    c.timeout_ns[FLOW_LIST_EST] = 100 * SEC;
    c.timeout_ns[FLOW_LIST_CLOSED] = 5 * SEC;
    c.timeout_ns[FLOW_LIST_UDP] = 20 * SEC;
    return c;
}

static struct flow *get(struct flow_table *t, uint8_t proto, const struct ft_addr *s, uint16_t sp,
                        const struct ft_addr *d, uint16_t dp, uint8_t flags, int64_t ns,
                        enum ft_dir *dir)
{
    struct ft_meta m = at(ns, 1);
    return flow_get(t, proto, s, sp, d, dp, flags, svc_5269, NULL, &m, dir);
}

static void test_lookup_and_direction(void)
{
    struct ended e = { .n = 0 };
    struct flow_config c = cfg4(100);
    struct flow_table *t = flow_table_new(&c, on_end, &e);
    enum ft_dir dir;
    struct flow *f, *g;

    /* SYN: the sender opens; the answer finds the same flow. */
    f = get(t, 6, &A, 40000, &B, 5269, TCP_SYN, 0, &dir);
    CHECK(f && dir == FT_DIR_ORIG && f->info.flow_id == 1);
    CHECK(ft_addr_eq(&f->info.addr[FT_DIR_ORIG], &A) && f->info.port[FT_DIR_ORIG] == 40000);
    CHECK(ft_addr_eq(&f->info.addr[FT_DIR_RESP], &B) && f->info.port[FT_DIR_RESP] == 5269);
    g = get(t, 6, &B, 5269, &A, 40000, TCP_SYN | TCP_ACK, 1, &dir);
    CHECK(g == f && dir == FT_DIR_RESP);
    g = get(t, 6, &A, 40000, &B, 5269, TCP_ACK, 2, &dir);
    CHECK(g == f && dir == FT_DIR_ORIG);
    /* Same addresses, other protocol or port: other flows. */
    g = get(t, 17, &A, 40000, &B, 5269, 0, 3, &dir);
    CHECK(g && g != f && g->info.flow_id == 2);
    g = get(t, 6, &A, 40001, &B, 5269, TCP_SYN, 3, &dir);
    CHECK(g && g != f && g->info.flow_id == 3);

    /* SYN-ACK first (SYN missed): the receiver is the originator. */
    f = get(t, 6, &B, 5269, &A, 40002, TCP_SYN | TCP_ACK, 4, &dir);
    CHECK(f->info.flow_id == 4 && dir == FT_DIR_RESP);
    CHECK(ft_addr_eq(&f->info.addr[FT_DIR_ORIG], &A) && f->info.port[FT_DIR_ORIG] == 40002);
    CHECK(f->info.port[FT_DIR_RESP] == 5269);

    /* Mid-stream: the side on the service port answers. */
    f = get(t, 6, &B, 5269, &A, 40003, TCP_ACK, 5, &dir);
    CHECK(f->info.flow_id == 5 && dir == FT_DIR_RESP && f->info.port[FT_DIR_RESP] == 5269);
    g = get(t, 6, &A, 40003, &B, 5269, TCP_ACK, 6, &dir);
    CHECK(g == f && dir == FT_DIR_ORIG);
    f = get(t, 6, &A, 40004, &B, 5269, TCP_ACK, 7, &dir);
    CHECK(f->info.flow_id == 6 && dir == FT_DIR_ORIG);
    /* Neither or both on a service port: the first sender. */
    f = get(t, 6, &B, 2222, &A, 1111, TCP_ACK, 8, &dir);
    CHECK(f->info.flow_id == 7 && dir == FT_DIR_ORIG && f->info.port[FT_DIR_ORIG] == 2222);
    f = get(t, 6, &B, 5269, &A, 5269, TCP_ACK, 9, &dir);
    CHECK(f->info.flow_id == 8 && dir == FT_DIR_ORIG);
    CHECK(ft_addr_eq(&f->info.addr[FT_DIR_ORIG], &B));
    g = get(t, 6, &A, 5269, &B, 5269, TCP_ACK, 10, &dir);
    CHECK(g == f && dir == FT_DIR_RESP);
    /* A flow between two ports of one host. */
    f = get(t, 6, &A, 7000, &A, 7001, TCP_SYN, 11, &dir);
    g = get(t, 6, &A, 7001, &A, 7000, TCP_SYN | TCP_ACK, 12, &dir);
    CHECK(f == g && dir == FT_DIR_RESP && f->info.flow_id == 9);

    CHECK(flow_table_stats(t)->created == 9 && flow_table_stats(t)->active == 9);
    CHECK(flow_table_stats(t)->peak_active == 9);
    CHECK(e.n == 0);
    CHECK(strcmp(flow_end_reason_name(FLOW_END_REUSED), "reused") == 0);
    CHECK(strcmp(flow_end_reason_name(FLOW_END_INPUT), "end_of_input") == 0);
    flow_table_free(t, NULL);
    /* Ended in id order at the end of input. */
    CHECK(e.n == 9);
    for (int i = 0; i < 9; i++)
        CHECK(e.id[i] == (uint64_t)i + 1 && e.why[i] == FLOW_END_INPUT);
}

static void test_timeouts(void)
{
    struct ended e = { .n = 0 };
    struct flow_config c = cfg4(100);
    struct flow_table *t = flow_table_new(&c, on_end, &e);
    enum ft_dir dir;
    struct ft_meta m;

    struct flow *fnew = get(t, 6, &A, 1, &B, 5269, TCP_SYN, 0, &dir);
    struct flow *fest = get(t, 6, &A, 2, &B, 5269, TCP_SYN, 0, &dir);
    struct flow *fcl = get(t, 6, &A, 3, &B, 5269, TCP_SYN, 0, &dir);
    struct flow *fudp = get(t, 17, &A, 4, &B, 53, 0, 0, &dir);
    CHECK(fnew->list == FLOW_LIST_NEW && fudp->list == FLOW_LIST_UDP);
    m = at(0, 2);
    flow_touch(t, fest, FLOW_LIST_EST, &m);
    flow_touch(t, fcl, FLOW_LIST_CLOSED, &m);
    CHECK(fest->list == FLOW_LIST_EST && fcl->list == FLOW_LIST_CLOSED);

    flow_expire(t, 5 * SEC, &m); /* exactly the closed timeout: not yet */
    CHECK(e.n == 0);
    flow_expire(t, 5 * SEC + 1, &m);
    CHECK(e.n == 1 && e.id[0] == 3 && e.why[0] == FLOW_END_TIMEOUT);
    CHECK(flow_table_stats(t)->timed_out == 1 && flow_table_stats(t)->active == 3);
    flow_expire(t, 10 * SEC + 1, &m);
    CHECK(e.n == 2 && e.id[1] == 1);
    /* Activity resets the clock. */
    m = at(50 * SEC, 3);
    flow_touch(t, fest, FLOW_LIST_EST, &m);
    CHECK(fest->last_ns == 50 * SEC && fest->last_frame == 3 && fest->last_meta.flow_id == 2);
    flow_expire(t, 20 * SEC + 1, &m);
    CHECK(e.n == 3 && e.id[2] == 4);
    flow_expire(t, 101 * SEC, &m);
    CHECK(e.n == 3);
    flow_expire(t, 150 * SEC + 1, &m);
    CHECK(e.n == 4 && e.id[3] == 2 && e.why[3] == FLOW_END_TIMEOUT);
    CHECK(flow_table_stats(t)->timed_out == 4 && flow_table_stats(t)->active == 0);

    /* Lists stay in LRU order: a touched flow moves behind a quieter one,
     * which then expires first even though it was created later. */
    struct flow *x = get(t, 6, &A, 10, &B, 5269, TCP_SYN, 200 * SEC, &dir);
    struct flow *y = get(t, 6, &A, 11, &B, 5269, TCP_SYN, 201 * SEC, &dir);
    CHECK(x->info.flow_id == 5 && y->info.flow_id == 6);
    m = at(202 * SEC, 4);
    flow_touch(t, x, FLOW_LIST_NEW, &m);
    flow_expire(t, 211 * SEC + SEC / 2, &m);
    CHECK(e.n == 5 && e.id[4] == 6);
    CHECK(flow_table_stats(t)->active == 1);
    /* Packet time that goes backwards never makes a flow older. */
    m = at(100 * SEC, 5);
    flow_touch(t, x, FLOW_LIST_NEW, &m);
    CHECK(x->last_ns == 202 * SEC);
    flow_table_free(t, &m);
    CHECK(e.n == 6 && e.id[5] == 5 && e.why[5] == FLOW_END_INPUT);
}

static void test_cap(void)
{
    struct ended e = { .n = 0 };
    struct flow_config c = cfg4(4);
    struct flow_table *t = flow_table_new(&c, on_end, &e);
    enum ft_dir dir;
    struct ft_meta m;

    struct flow *f1 = get(t, 6, &A, 1, &B, 5269, TCP_SYN, 1 * SEC, &dir);
    struct flow *f2 = get(t, 6, &A, 2, &B, 5269, TCP_SYN, 2 * SEC, &dir);
    struct flow *f3 = get(t, 6, &A, 3, &B, 5269, TCP_SYN, 3 * SEC, &dir);
    get(t, 17, &A, 4, &B, 53, 0, 4 * SEC, &dir);
    m = at(2 * SEC, 2);
    flow_touch(t, f2, FLOW_LIST_EST, &m);
    m = at(3 * SEC, 3);
    flow_touch(t, f3, FLOW_LIST_CLOSED, &m);
    CHECK(f1->list == FLOW_LIST_NEW);
    /* Full: a closed connection goes first, although f1 is idler. */
    get(t, 6, &A, 5, &B, 5269, TCP_SYN, 5 * SEC, &dir);
    CHECK(e.n == 1 && e.id[0] == 3 && e.why[0] == FLOW_END_EVICTED);
    CHECK(flow_table_stats(t)->evicted == 1 && flow_table_stats(t)->active == 4);
    /* No closed flow left: the idlest over all lists. */
    get(t, 6, &A, 6, &B, 5269, TCP_SYN, 6 * SEC, &dir);
    CHECK(e.n == 2 && e.id[1] == 1 && e.why[1] == FLOW_END_EVICTED);
    get(t, 6, &A, 7, &B, 5269, TCP_SYN, 7 * SEC, &dir);
    CHECK(e.n == 3 && e.id[2] == 2);
    CHECK(flow_table_stats(t)->evicted == 3 && flow_table_stats(t)->active == 4);
    CHECK(flow_table_stats(t)->created == 7 && flow_table_stats(t)->peak_active == 4);
    /* The evicted flow comes back as a new one. */
    struct flow *again = get(t, 6, &A, 1, &B, 5269, TCP_ACK, 8 * SEC, &dir);
    CHECK(again->info.flow_id == 8 && e.n == 4 && e.id[3] == 4);
    /* flow_end of one flow, then the rest at the end in id order. */
    flow_end(t, again, FLOW_END_TIMEOUT, &m);
    CHECK(e.n == 5 && e.id[4] == 8 && flow_table_stats(t)->active == 3);
    flow_table_free(t, &m);
    CHECK(e.n == 8 && e.id[5] == 5 && e.id[6] == 6 && e.id[7] == 7);
    CHECK(e.why[7] == FLOW_END_INPUT);
    flow_table_free(NULL, NULL);
}

/* ---- pipeline ------------------------------------------------------------------ */

/* What one connection's dissector saw. */
struct drec {
    uint64_t flow_id;
    enum app_proto app;
    uint8_t bytes[2][4096];
    size_t n[2];
    int data_calls[2], gaps[2], eofs[2];
    int closed;
};

static struct drec g_dr[8];
static int g_ndr;

struct cend {
    uint64_t flow_id;
    enum flow_end_reason why;
    enum app_proto app;
    char history[32];
    char state_buf[8];
    const char *state;
};
static struct cend g_ce[8];
static int g_nce;
static uint64_t g_conn_ends, g_conn_updates;
static enum conn_phase g_phase[16];   /* phases of the records, in order */
static int64_t g_phase_ns[16];        /* packet time of the record's latest packet */
static unsigned g_nphase;
static int64_t g_clock_ns;            /* latest on_time */
static uint64_t g_clock_calls, g_clock_backwards;

static void *d_open(void *user, const struct flow_info *fi, const struct ft_meta *m)
{
    (void)user;
    (void)m;
    if (g_ndr >= 8)
        return NULL;
    struct drec *r = &g_dr[g_ndr++];
    r->flow_id = fi->flow_id;
    r->app = fi->app;
    return r;
}

static void d_data(void *state, enum ft_dir dir, const uint8_t *p, size_t n,
                   const struct ft_meta *m)
{
    struct drec *r = state;
    (void)m;
    if (r->n[dir] + n <= sizeof(r->bytes[dir]))
        memcpy(r->bytes[dir] + r->n[dir], p, n);
    r->n[dir] += n;
    r->data_calls[dir]++;
}

static void d_gap(void *state, enum ft_dir dir, uint64_t nbytes, const struct ft_meta *m)
{
    struct drec *r = state;
    (void)nbytes;
    (void)m;
    r->gaps[dir]++;
}

static void d_eof(void *state, enum ft_dir dir, const struct ft_meta *m)
{
    struct drec *r = state;
    (void)m;
    r->eofs[dir]++;
}

static void d_close(void *state, const struct ft_meta *m)
{
    struct drec *r = state;
    (void)m;
    r->closed++;
}

static const struct stream_dissector REC_DISSECTOR = {
    .name = "rec", .open = d_open, .data = d_data, .gap = d_gap, .eof = d_eof, .close = d_close,
};

static void conn_end(void *user, const struct conn_record *f)
{
    (void)user;
    if (g_nphase < 16) {
        g_phase_ns[g_nphase] = f->last_ns;
        g_phase[g_nphase++] = f->phase;
    }
    if (f->phase != CONN_END) {
        g_conn_updates++;
        return;
    }
    g_conn_ends++;
    if (g_nce < 8) {
        struct cend *c = &g_ce[g_nce++];
        c->flow_id = f->info.flow_id;
        c->why = f->end_reason;
        c->app = f->info.app;
        strcpy(c->history, f->history);
        snprintf(c->state_buf, sizeof(c->state_buf), "%s", f->conn_state);
        c->state = c->state_buf;
    }
}

static void clock_tick(void *user, int64_t now_ns)
{
    (void)user;
    if (now_ns <= g_clock_ns)
        g_clock_backwards++;
    g_clock_ns = now_ns;
    g_clock_calls++;
}

static void reset_records(void)
{
    memset(g_dr, 0, sizeof(g_dr));
    memset(g_ce, 0, sizeof(g_ce));
    g_ndr = g_nce = 0;
    g_conn_ends = 0;
    g_conn_updates = 0;
    g_nphase = 0;
    g_clock_ns = 0;
    g_clock_calls = g_clock_backwards = 0;
}

static struct pipeline PL;
static uint64_t g_frame;

static void pl_start(uint32_t max_flows)
{
    struct pipeline_config cfg;
    static const struct dissector_set ds = { .xmpp = &REC_DISSECTOR };
    static const struct fact_sink sink = { .on_conn = conn_end, .on_time = clock_tick };
    pipeline_config_default(&cfg);
    cfg.flows.max_flows = max_flows;
    cfg.flows.timeout_ns[FLOW_LIST_NEW] = 120 * SEC;
    cfg.flows.timeout_ns[FLOW_LIST_EST] = 3600 * SEC;
    cfg.flows.timeout_ns[FLOW_LIST_CLOSED] = 30 * SEC;
    cfg.flows.timeout_ns[FLOW_LIST_UDP] = 60 * SEC;
    reset_records();
    g_frame = 0;
    CHECK(pipeline_init(&PL, &cfg, &ds, &sink) == 0);
}

/* One TCP segment over Ethernet/IPv4 into the pipeline at time ms. */
static void tx(int64_t ms, const struct ft_addr *s, uint16_t sp, const struct ft_addr *d,
               uint16_t dp, uint8_t flags, uint32_t seq, uint32_t ack, const void *data,
               size_t len)
{
    uint8_t f[PB_MAX_FRAME];
    struct pb_tcp t = { .sport = sp, .dport = dp, .seq = seq, .ack = ack, .flags = flags,
                        .window = 64000 };
    uint64_t frame = ++g_frame;
    struct ft_meta m = { .frame = frame, .src_frame = frame,
                         .ts_ns = 1000 * SEC + ms * (SEC / 1000) };
    if (flags & TCP_SYN)
        t.mss = 1460;
    size_t n = pb_eth_ip_tcp(f, s, d, &t, data, len);
    pipeline_packet(&PL, FT_LINK_ETHERNET, f, (uint32_t)n, (uint32_t)n, &m);
}

#define C2S(ms, fl, seq, ack, s) tx(ms, &A, cport, &B, sport, fl, seq, ack, s, strlen(s))
#define S2C(ms, fl, seq, ack, s) tx(ms, &B, sport, &A, cport, fl, seq, ack, s, strlen(s))

static const char OPEN_C[] = "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                             "to='b.example' version='1.0'>";
static const char OPEN_S[] = "<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
                             "from='b.example' id='x1' version='1.0'><stream:features/>";

/* A whole s2s connection: handshake, one stream header each way, close. */
static void conversation_n(uint16_t cport, uint16_t sport, uint32_t ci, uint32_t si, int64_t t0,
                           const char *cdata, uint32_t cl, const char *sdata, uint32_t sl)
{
    C2S(t0 + 0, TCP_SYN, ci, 0, "");
    S2C(t0 + 20, TCP_SYN | TCP_ACK, si, ci + 1, "");
    C2S(t0 + 40, TCP_ACK, ci + 1, si + 1, "");
    tx(t0 + 41, &A, cport, &B, sport, TCP_ACK | TCP_PSH, ci + 1, si + 1, cdata, cl);
    S2C(t0 + 60, TCP_ACK, si + 1, ci + 1 + cl, "");
    tx(t0 + 61, &B, sport, &A, cport, TCP_ACK | TCP_PSH, si + 1, ci + 1 + cl, sdata, sl);
    C2S(t0 + 80, TCP_FIN | TCP_ACK, ci + 1 + cl, si + 1 + sl, "");
    S2C(t0 + 90, TCP_FIN | TCP_ACK, si + 1 + sl, ci + 2 + cl, "");
    C2S(t0 + 100, TCP_ACK, ci + 2 + cl, si + 2 + sl, "");
}

static void conversation(uint16_t cport, uint16_t sport, uint32_t ci, uint32_t si, int64_t t0,
                         const char *cdata, const char *sdata)
{
    conversation_n(cport, sport, ci, si, t0, cdata, (uint32_t)strlen(cdata), sdata,
                   (uint32_t)strlen(sdata));
}

static bool got_n(const struct drec *r, int dir, const char *s, size_t n)
{
    return r->n[dir] == n && memcmp(r->bytes[dir], s, n) == 0;
}

static bool got(const struct drec *r, int dir, const char *s)
{
    return got_n(r, dir, s, strlen(s));
}

static void test_pipeline_connection(void)
{
    pl_start(1000);
    conversation(40000, 5269, 100, 900, 0, OPEN_C, OPEN_S);
    CHECK(g_ndr == 1 && g_dr[0].flow_id == 1 && g_dr[0].app == APP_XMPP);
    CHECK(got(&g_dr[0], FT_DIR_ORIG, OPEN_C) && got(&g_dr[0], FT_DIR_RESP, OPEN_S));
    CHECK(g_dr[0].eofs[0] == 1 && g_dr[0].eofs[1] == 1 && g_dr[0].gaps[0] == 0);
    CHECK(g_dr[0].closed <= 1 && g_conn_ends == 0); /* still in the table */
    CHECK(PL.stats.frames == 9 && PL.stats.tcp_segments == 9 && PL.stats.flows_xmpp == 1);
    CHECK(PL.stats.bytes_to_dissectors == strlen(OPEN_C) + strlen(OPEN_S));
    pipeline_finish(&PL);
    CHECK(g_dr[0].closed == 1 && g_dr[0].eofs[0] == 1);
    CHECK(g_nce == 1 && g_ce[0].flow_id == 1 && g_ce[0].why == FLOW_END_INPUT);
    CHECK(g_ce[0].app == APP_XMPP && strcmp(g_ce[0].history, "ShADadFf") == 0);
    CHECK(strcmp(g_ce[0].state, "SF") == 0);
    CHECK(PL.stats.flows_reported == 1 && PL.flow_stats.created == 1);
    CHECK(PL.reasm.stats.buffered_now == 0 && PL.reasm.stats.gaps == 0);
    pipeline_destroy(&PL);

    /* Out of order on the wire: the dissector still gets the exact bytes. */
    pl_start(1000);
    uint16_t cport = 40001, sport = 5269;
    C2S(0, TCP_SYN, 10, 0, "");
    S2C(1, TCP_SYN | TCP_ACK, 20, 11, "");
    C2S(2, TCP_ACK | TCP_PSH, 19, 21, "stream:stream>");
    C2S(3, TCP_ACK | TCP_PSH, 11, 21, "<?xml?>");
    C2S(4, TCP_ACK | TCP_PSH, 18, 21, "<");
    C2S(5, TCP_ACK | TCP_PSH, 11, 21, "<?xml?>"); /* retransmission */
    pipeline_finish(&PL);
    CHECK(g_ndr == 1 && got(&g_dr[0], FT_DIR_ORIG, "<?xml?><stream:stream>"));
    CHECK(PL.reasm.stats.retransmitted_segments == 1 && PL.reasm.stats.out_of_order_segments == 1);
    CHECK(g_nce == 1 && strcmp(g_ce[0].history, "ShDT") == 0);
    pipeline_destroy(&PL);
}

/* Connection records come early when the handshake moves (each SYN, the
 * SYN-ACK, the RST, the second FIN), at packet time, and once more at the
 * end; a flow that is not ours gets none.  on_time follows packet time. */
static void test_early_records(void)
{
    uint16_t cport = 40100, sport = 5269;
    pl_start(1000);
    C2S(0, TCP_SYN, 10, 0, "");
    C2S(1000, TCP_SYN, 10, 0, "");   /* retransmission */
    CHECK(g_nphase == 2 && g_phase[0] == CONN_SYN && g_phase[1] == CONN_SYN);
    CHECK(g_phase_ns[1] == 1001 * SEC);
    S2C(1020, TCP_SYN | TCP_ACK, 50, 11, "");
    C2S(1040, TCP_ACK, 11, 51, "");  /* nothing new: no record */
    S2C(1500, TCP_RST, 51, 0, "");
    CHECK(g_nphase == 4 && g_phase[2] == CONN_SYNACK && g_phase[3] == CONN_RST);
    CHECK(g_conn_ends == 0 && g_conn_updates == 4);
    /* Not an XMPP or DNS port, no payload: not reported at all. */
    tx(1600, &A, 40200, &B, 8080, TCP_SYN, 1, 0, "", 0);
    tx(1610, &B, 8080, &A, 40200, TCP_SYN | TCP_ACK, 7, 2, "", 0);
    CHECK(g_nphase == 4);
    /* A clean close: the second FIN is reported. */
    cport = 40101;
    C2S(1700, TCP_SYN, 100, 0, "");
    S2C(1710, TCP_SYN | TCP_ACK, 500, 101, "");
    C2S(1720, TCP_FIN | TCP_ACK, 101, 501, "");
    CHECK(g_nphase == 6);
    S2C(1730, TCP_FIN | TCP_ACK, 501, 102, "");
    CHECK(g_nphase == 7 && g_phase[6] == CONN_FIN);
    pipeline_finish(&PL);
    CHECK(g_conn_ends == 2 && g_phase[7] == CONN_END && g_phase[8] == CONN_END);
    CHECK(g_ce[0].why == FLOW_END_INPUT && strcmp(g_ce[0].state, "RSTR") == 0);
    CHECK(g_clock_backwards == 0 && g_clock_ns == 1000 * SEC + 1730 * (SEC / 1000));
    CHECK(g_clock_calls == 11);
    pipeline_destroy(&PL);
}

static void test_port_reuse(void)
{
    pl_start(1000);
    conversation(40000, 5269, 100, 900, 0, OPEN_C, OPEN_S);
    /* The same SYN again (same ISN) after close is a retransmission... */
    uint16_t cport = 40000, sport = 5269;
    C2S(200, TCP_SYN, 100, 0, "");
    CHECK(g_nce == 0);
    /* ...a SYN with another ISN is a new connection. */
    conversation(40000, 5269, 5000, 7000, 1000, "<stream:stream>", "<stream:stream>");
    CHECK(g_nce == 1 && g_ce[0].flow_id == 1 && g_ce[0].why == FLOW_END_REUSED);
    CHECK(flow_table_stats(PL.flows)->reused == 1);
    CHECK(flow_table_stats(PL.flows)->created == 2 && flow_table_stats(PL.flows)->active == 1);
    CHECK(g_ndr == 2 && g_dr[1].flow_id == 2 && g_dr[0].closed == 1);
    CHECK(got(&g_dr[1], FT_DIR_ORIG, "<stream:stream>"));
    pipeline_finish(&PL);
    CHECK(g_nce == 2 && g_ce[1].flow_id == 2 && g_ce[1].why == FLOW_END_INPUT);
    CHECK(strcmp(g_ce[1].history, "ShADadFf") == 0);
    pipeline_destroy(&PL);

    /* Timeouts run on packet time, at most once per second of it: a closed
     * connection ends at the first housekeeping more than 30 s after its
     * last packet. */
    pl_start(1000);
    conversation(40000, 5269, 100, 900, 0, OPEN_C, OPEN_S);
    cport = 40001;
    C2S(30100, TCP_SYN, 1, 0, "");  /* housekeeping: idle exactly 30 s */
    CHECK(g_nce == 0);
    C2S(30200, TCP_SYN, 1, 0, "");  /* within a second of the last one */
    CHECK(g_nce == 0);
    C2S(31100, TCP_SYN, 1, 0, "");
    CHECK(g_nce == 1 && g_ce[0].flow_id == 1 && g_ce[0].why == FLOW_END_TIMEOUT);
    CHECK(flow_table_stats(PL.flows)->timed_out == 1 && flow_table_stats(PL.flows)->active == 1);
    pipeline_destroy(&PL);
    CHECK(g_nce == 2 && g_ce[1].flow_id == 2 && strcmp(g_ce[1].state, "S0") == 0);
}

static void test_sniffing(void)
{
    /* XMPP on a port nobody declared: found by its first bytes. */
    pl_start(1000);
    conversation(40000, 15269, 1, 2, 0, OPEN_C, OPEN_S);
    CHECK(g_ndr == 1 && g_dr[0].app == APP_XMPP && got(&g_dr[0], 0, OPEN_C));
    CHECK(got(&g_dr[0], 1, OPEN_S));
    /* "<stream:stream" without a declaration. */
    conversation(40001, 15269, 1, 2, 1000, "\r\n<stream:stream to='x'>", "<stream:stream>");
    CHECK(g_ndr == 2 && g_dr[1].app == APP_XMPP && got(&g_dr[1], 0, "\r\n<stream:stream to='x'>"));
    /* HTTP on 8080: not ours, no dissector, not reported. */
    conversation(40002, 8080, 1, 2, 2000, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK");
    CHECK(g_ndr == 2);
    /* A TLS ClientHello on 5223 (direct TLS port): XMPP over TLS. */
    static const char hello[] = "\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03";
    static const char shello[] = "\x16\x03\x03\x00\x10\x02";
    conversation_n(40003, 5223, 1, 2, 3000, hello, sizeof(hello) - 1, shello, sizeof(shello) - 1);
    CHECK(g_ndr == 3 && g_dr[2].app == APP_XMPP_TLS);
    CHECK(got_n(&g_dr[2], 0, hello, sizeof(hello) - 1));
    CHECK(got_n(&g_dr[2], 1, shello, sizeof(shello) - 1));
    /* The same ClientHello on an undeclared port: somebody else's TLS. */
    conversation_n(40004, 15270, 1, 2, 4000, hello, sizeof(hello) - 1, shello, sizeof(shello) - 1);
    CHECK(g_ndr == 3);
    CHECK(PL.stats.flows_xmpp == 2 && PL.stats.flows_xmpp_tls == 1);
    pipeline_finish(&PL);
    CHECK(g_nce == 3 && PL.stats.flows_reported == 3 && PL.stats.flows_ignored == 2);
    CHECK(g_ce[0].app == APP_XMPP && g_ce[2].app == APP_XMPP_TLS);
    pipeline_destroy(&PL);

    /* The first bytes one per segment: the decision waits for enough of
     * them, then the dissector gets every byte exactly once. */
    pl_start(1000);
    uint16_t cport = 40010, sport = 15269;
    uint32_t seq = 101;
    C2S(0, TCP_SYN, 100, 0, "");
    S2C(1, TCP_SYN | TCP_ACK, 500, 101, "");
    C2S(2, TCP_ACK, 101, 501, "");
    for (int i = 0; i < 5; i++) {
        char one[2] = { OPEN_C[i], 0 };
        C2S(3 + i, TCP_ACK | TCP_PSH, seq, 501, one);
        seq++;
        CHECK(g_ndr == (i < 4 ? 0 : 1)); /* "<?xml" is decided at its 5th byte */
    }
    C2S(10, TCP_ACK | TCP_PSH, seq, 501, OPEN_C + 5);
    CHECK(g_ndr == 1 && g_dr[0].app == APP_XMPP && got(&g_dr[0], 0, OPEN_C));
    /* Leading whitespace one byte at a time, then HTTP: decided "none". */
    cport = 40011;
    seq = 101;
    C2S(20, TCP_SYN, 100, 0, "");
    S2C(21, TCP_SYN | TCP_ACK, 500, 101, "");
    C2S(22, TCP_ACK | TCP_PSH, seq++, 501, " ");
    C2S(23, TCP_ACK | TCP_PSH, seq++, 501, "\n");
    C2S(24, TCP_ACK | TCP_PSH, seq++, 501, "<");
    C2S(25, TCP_ACK | TCP_PSH, seq++, 501, "h");
    C2S(26, TCP_ACK | TCP_PSH, seq++, 501, "tml>");
    pipeline_finish(&PL);
    CHECK(g_ndr == 1 && PL.stats.flows_ignored == 1);
    pipeline_destroy(&PL);
}

static void test_syn_flood(void)
{
    uint8_t f[256];
    struct pb_tcp t = { .dport = 5269, .flags = TCP_SYN, .window = 1024, .mss = 1460 };

    pl_start(1000);
    for (uint32_t i = 0; i < 100000; i++) {
        uint8_t ab[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
        struct ft_addr s;
        ft_addr_set4(&s, ab);
        t.sport = (uint16_t)(1024 + i % 60000);
        t.seq = i * 2654435761u;
        size_t n = pb_ip_tcp(f, &s, &B, &t, NULL, 0);
        struct ft_meta m = { .frame = i + 1, .src_frame = i + 1,
                             .ts_ns = 1000 * SEC + (int64_t)i * (SEC / 1000) };
        pipeline_packet(&PL, FT_LINK_RAW, f, (uint32_t)n, (uint32_t)n, &m);
        if (flow_table_stats(PL.flows)->active > 1000)
            break;
    }
    const struct flow_stats *st = flow_table_stats(PL.flows);
    CHECK(st->active == 1000 && st->peak_active == 1000);
    CHECK(st->created == 100000 && st->evicted == 99000 && st->timed_out == 0);
    CHECK(g_conn_ends == 99000);
    CHECK(PL.reasm.stats.buffered_now == 0 && g_ndr == 0);
    pipeline_finish(&PL);
    CHECK(g_conn_ends == 100000 && PL.stats.flows_reported == 100000);
    CHECK(g_ce[0].why == FLOW_END_EVICTED && strcmp(g_ce[0].state, "S0") == 0);
    CHECK(g_ce[0].app == APP_XMPP); /* labelled by its port */
    pipeline_destroy(&PL);
}

/* ---- port lists and sniffing ---------------------------------------------------- */

static void test_port_set(void)
{
    struct port_set ps = { .count = 0 };
    CHECK(port_set_parse(&ps, "5222,5269"));
    CHECK(ps.count == 2 && ps.port[0] == 5222 && ps.port[1] == 5269);
    CHECK(port_set_has(&ps, 5269) && !port_set_has(&ps, 5270));
    CHECK(port_set_parse(&ps, "5269,5269,1,65535"));
    CHECK(ps.count == 3 && ps.port[2] == 65535);
    /* Bad lists leave the set unchanged. */
    const char *bad[] = { "", "0", "65536", "52a9", "5222,,5269", ",5222", "5222;5269", "x" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(!port_set_parse(&ps, bad[i]));
        CHECK(ps.count == 3 && ps.port[0] == 5269);
    }
    /* At most MAX_XMPP_PORTS distinct ports. */
    char list[400] = "";
    for (int i = 1; i <= MAX_XMPP_PORTS; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i > 1 ? "," : "",
                 1000 + i);
    CHECK(port_set_parse(&ps, list) && ps.count == MAX_XMPP_PORTS);
    strcat(list, ",9999");
    CHECK(!port_set_parse(&ps, list) && ps.count == MAX_XMPP_PORTS);
}

static enum sniff_result sniff(const char *s, size_t n)
{
    return sniff_stream((const uint8_t *)s, n);
}

static void test_sniff_stream(void)
{
    CHECK(sniff("<?xml version", 13) == SNIFF_XML);
    CHECK(sniff("<?xml", 5) == SNIFF_XML);
    CHECK(sniff("<?xm", 4) == SNIFF_NEED_MORE);
    CHECK(sniff("<", 1) == SNIFF_NEED_MORE);
    CHECK(sniff("", 0) == SNIFF_NEED_MORE);
    CHECK(sniff("<stream:stream to='a'>", 22) == SNIFF_XML);
    CHECK(sniff("<stream:str", 11) == SNIFF_NEED_MORE);
    CHECK(sniff(" \t\r\n<?xml", 9) == SNIFF_XML);
    CHECK(sniff("\xef\xbb\xbf<?xml", 8) == SNIFF_XML);
    CHECK(sniff("   ", 3) == SNIFF_NEED_MORE);
    char spaces[64];
    memset(spaces, ' ', sizeof(spaces));
    CHECK(sniff(spaces, 63) == SNIFF_NEED_MORE);
    CHECK(sniff(spaces, 64) == SNIFF_NO);
    CHECK(sniff("<html>", 6) == SNIFF_NO);
    CHECK(sniff("<stream:features>", 17) == SNIFF_NO);
    CHECK(sniff("GET / HTTP/1.1", 14) == SNIFF_NO);
    CHECK(sniff("\x16\x03\x01\x00\x30\x01", 6) == SNIFF_TLS);
    CHECK(sniff("\x16\x03\x03\x00\x30\x02", 6) == SNIFF_NO); /* ServerHello */
    CHECK(sniff("\x16\x03\x01", 3) == SNIFF_NEED_MORE);
    CHECK(sniff("\x16", 1) == SNIFF_NEED_MORE);
    CHECK(sniff("\x16\x02", 2) == SNIFF_NO);
    CHECK(sniff("\x17\x03\x03\x00\x30\x01", 6) == SNIFF_NO); /* application data */

    struct port_set ps;
    CHECK(port_set_parse(&ps, "5222,5269,5223"));
    const uint8_t *lt = (const uint8_t *)"<";
    const uint8_t *tls = (const uint8_t *)"\x16\x03\x01\x00\x30\x01";
    CHECK(dissect_choose_tcp(&ps, 53, 40000, NULL, 0) == APP_DNS);
    CHECK(dissect_choose_tcp(&ps, 5269, 40000, NULL, 0) == APP_UNDECIDED);
    CHECK(dissect_choose_tcp(&ps, 5269, 40000, lt, 1) == APP_XMPP);
    CHECK(dissect_choose_tcp(&ps, 5223, 40000, tls, 1) == APP_XMPP_TLS);
    {
        /* binary data on an XMPP port is not XMPP; text from mid-stream
         * and TLS records picked up mid-stream are */
        static const uint8_t bin[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06 };
        static const uint8_t appdata[] = { 0x17, 0x03, 0x03, 0x00, 0x45 };
        static const char mid[] = "ody>hi</body></message><presence/>";
        CHECK(dissect_choose_tcp(&ps, 5269, 40000, bin, sizeof(bin)) == APP_NONE);
        CHECK(dissect_choose_tcp(&ps, 5269, 40000, appdata, sizeof(appdata)) == APP_XMPP_TLS);
        CHECK(dissect_choose_tcp(&ps, 5269, 40000, (const uint8_t *)mid, sizeof(mid) - 1) == APP_XMPP);
        CHECK(dissect_choose_tcp(&ps, 5269, 40000, (const uint8_t *)"caf\xc3\xa9 <b/>", 9) == APP_XMPP);
    }
    CHECK(dissect_choose_tcp(&ps, 15269, 40000, lt, 1) == APP_UNDECIDED);
    CHECK(dissect_choose_tcp(&ps, 15269, 40000, (const uint8_t *)"<?xml", 5) == APP_XMPP);
    CHECK(dissect_choose_tcp(&ps, 15269, 40000, tls, 6) == APP_NONE);
    CHECK(dissect_choose_tcp(&ps, 8080, 40000, (const uint8_t *)"GET", 3) == APP_NONE);
    CHECK(strcmp(app_proto_name(APP_XMPP_TLS), "xmpp-tls") == 0);
}

int main(void)
{
    A = pb_addr("192.0.2.1");
    B = pb_addr("198.51.100.2");
    test_lookup_and_direction();
    test_timeouts();
    test_cap();
    test_pipeline_connection();
    test_early_records();
    test_port_reuse();
    test_sniffing();
    test_syn_flood();
    test_port_set();
    test_sniff_stream();
    return check_summary("test_flow");
}
