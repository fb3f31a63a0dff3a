/*
 * correlate.c - federation sessions and verdicts (see correlate.h).
 *
 * Three phases.  Collection keeps a compact copy of every fact that can
 * matter (the notable XMPP events of each connection, its TCP facts, the
 * DNS lookups).  corr_finish() then (1) classifies connections as s2s or
 * c2s, (2) pairs observations of one connection seen twice across a NAT,
 * (3) learns which addresses serve which domain (stream headers first,
 * DNS answers second), (4) names the originating and receiving domain of
 * every s2s connection, and (5) judges each federation direction stage by
 * stage, stopping at the earliest failure (failure-taxonomy.md §9).
 */
#include "correlate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STR_CAP 256

/* ---- collected facts ---------------------------------------------------- */

enum cev_type {
    CEV_OPEN,
    CEV_FEATURES,
    CEV_STARTTLS,
    CEV_PROCEED,
    CEV_TLS_FAILURE,
    CEV_SASL_AUTH,
    CEV_SASL_SUCCESS,
    CEV_SASL_FAILURE,
    CEV_DB_RESULT,
    CEV_DB_VERIFY,
    CEV_STREAM_ERROR,
    CEV_CLOSE,
    CEV_STANZA,
    CEV_TLS_HELLO,     /* ClientHello: text = SNI */
    CEV_TLS_SERVER,    /* ServerHello: id = version */
    CEV_TLS_ALERT,     /* cond = description */
    CEV_TLS_DONE,      /* handshake completed or continues encrypted */
    CEV_TLS_CERT,      /* text = subject CN */
    CEV_XML_ERROR,     /* cond = error name */
    CEV_GAP,
    CEV_CLEARTEXT_AFTER_STARTTLS,
};

enum {
    F_STARTTLS = 1,
    F_REQUIRED = 2,
    F_DIALBACK = 4,
    F_EXTERNAL = 8,
    F_DB_NS = 16,
    F_JSERVER = 32,
    F_JCLIENT = 64,
};

struct cev {
    uint8_t type, dir, sub, flags;
    struct frame_ref ref;
    char *from, *to, *id, *cond, *text; /* owned, may be NULL */
};

struct cconn {
    uint64_t flow_id;
    bool have_tcp;
    struct ft_addr addr[2];
    uint16_t port[2];
    uint32_t source;
    enum app_proto app;
    int64_t first_ns, last_ns;
    struct frame_ref syn, synack, rst, fin[2], first_data[2];
    uint8_t rst_dir;
    uint16_t syn_count;
    bool midstream, established;
    uint64_t pkts[2], bytes[2], gaps[2], badcsum[2];
    char state[8];
    char history[24];
    uint64_t stanzas[2];
    struct cev *ev;
    unsigned nev, cap;
    /* derived in corr_finish */
    bool s2s, c2s;
    struct cconn *nat_peer;  /* the same connection seen elsewhere */
    bool secondary;          /* the less informative view of a NAT pair */
    char dom_from[STR_CAP], dom_to[STR_CAP];
};

struct clookup {
    uint64_t id;
    struct ft_addr client, server;
    bool tcp;
    char *qname;
    uint16_t qtype;
    uint8_t outcome;
    uint16_t rcode;
    bool has_response;
    unsigned nqueries;
    struct frame_ref query, response;
    unsigned nans;
    struct {
        uint16_t type;
        struct ft_addr addr;
        uint16_t port;
        char *name, *target;
    } ans[DNS_LOOKUP_MAX_ANS];
};

struct addr_domain {
    struct ft_addr addr;
    char domain[STR_CAP];
    uint8_t strength; /* 2 = stream header, 1 = DNS */
};

struct correlator {
    struct corr_config cfg;
    struct cconn **conns;
    unsigned nconns, capconns;
    uint64_t *map_keys;        /* flow_id -> index+1 (open addressing) */
    uint32_t *map_vals;
    uint32_t map_cap;
    struct clookup **lookups;
    unsigned nlookups, caplookups;
    struct addr_domain *book;
    unsigned nbook, capbook;
    struct corr_federation **feds;
    unsigned nfeds, capfeds;
    int64_t src_first[64], src_last[64];
    bool src_seen[64];
    unsigned nsources;
    int64_t capture_end_ns;
    struct corr_stats stats;
};

/* ---- small helpers ------------------------------------------------------ */

static char *dup_cap(const char *s)
{
    return s ? strndup(s, STR_CAP - 1) : NULL;
}

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

static struct frame_ref ref_of_meta(const struct ft_meta *m)
{
    struct frame_ref r = { m->frame, m->src_frame, m->source, m->ts_ns };
    return r;
}

static bool grow(void **arr, unsigned *cap, unsigned need, size_t elem)
{
    void *n;
    unsigned nc;
    if (need <= *cap)
        return true;
    nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    n = realloc(*arr, (size_t)nc * elem);
    if (!n)
        return false;
    *arr = n;
    *cap = nc;
    return true;
}

/* The domain part of a JID ("user@dom/res" -> "dom"), lowercased. */
static void jid_domain(const char *jid, char *out, size_t len)
{
    const char *at, *slash, *start;
    size_t n;
    out[0] = '\0';
    if (!jid || !*jid)
        return;
    slash = strchr(jid, '/');
    at = strchr(jid, '@');
    if (at && slash && at > slash)
        at = NULL;
    start = at ? at + 1 : jid;
    n = slash ? (size_t)(slash - start) : strlen(start);
    if (n >= len)
        n = len - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)((start[i] >= 'A' && start[i] <= 'Z') ? start[i] + 32 : start[i]);
    out[n] = '\0';
}

/* The bare JID (no resource). */
static void jid_bare(const char *jid, char *out, size_t len)
{
    const char *slash;
    size_t n;
    out[0] = '\0';
    if (!jid)
        return;
    slash = strchr(jid, '/');
    n = slash ? (size_t)(slash - jid) : strlen(jid);
    if (n >= len)
        n = len - 1;
    memcpy(out, jid, n);
    out[n] = '\0';
}

static void addr_port_str(char *buf, size_t len, const struct ft_addr *a, uint16_t port)
{
    char ip[FT_ADDR_STRLEN];
    ft_addr_str(a, ip, sizeof(ip));
    snprintf(buf, len, a->family == 6 ? "[%s]:%u" : "%s:%u", ip, port);
}

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

static void cconn_free(struct cconn *k)
{
    for (unsigned i = 0; i < k->nev; i++) {
        free(k->ev[i].from);
        free(k->ev[i].to);
        free(k->ev[i].id);
        free(k->ev[i].cond);
        free(k->ev[i].text);
    }
    free(k->ev);
    free(k);
}

void corr_free(struct correlator *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->nconns; i++)
        cconn_free(c->conns[i]);
    free(c->conns);
    for (unsigned i = 0; i < c->nlookups; i++) {
        struct clookup *l = c->lookups[i];
        free(l->qname);
        for (unsigned k = 0; k < l->nans; k++) {
            free(l->ans[k].name);
            free(l->ans[k].target);
        }
        free(l);
    }
    free(c->lookups);
    for (unsigned i = 0; i < c->nfeds; i++) {
        free(c->feds[i]->dir[0].timeline);
        free(c->feds[i]->dir[1].timeline);
        free(c->feds[i]);
    }
    free(c->feds);
    free(c->book);
    free(c->map_keys);
    free(c->map_vals);
    free(c);
}

static uint32_t map_slot(const struct correlator *c, uint64_t key)
{
    uint64_t h = key * UINT64_C(0x9e3779b97f4a7c15);
    return (uint32_t)(h >> 32) & (c->map_cap - 1);
}

static bool map_grow(struct correlator *c)
{
    uint32_t ncap = c->map_cap * 2, old = c->map_cap;
    uint64_t *ok = c->map_keys;
    uint32_t *ov = c->map_vals;
    c->map_keys = calloc(ncap, sizeof(*c->map_keys));
    c->map_vals = calloc(ncap, sizeof(*c->map_vals));
    if (!c->map_keys || !c->map_vals) {
        free(c->map_keys);
        free(c->map_vals);
        c->map_keys = ok;
        c->map_vals = ov;
        return false;
    }
    c->map_cap = ncap;
    for (uint32_t i = 0; i < old; i++) {
        if (!ok[i])
            continue;
        uint32_t s = map_slot(c, ok[i]);
        while (c->map_keys[s])
            s = (s + 1) & (ncap - 1);
        c->map_keys[s] = ok[i];
        c->map_vals[s] = ov[i];
    }
    free(ok);
    free(ov);
    return true;
}

/* The connection record of a flow, created on first use; NULL when the
 * cap is reached (counted) or memory ran out. */
static struct cconn *conn_get(struct correlator *c, uint64_t flow_id)
{
    uint32_t s = map_slot(c, flow_id);
    struct cconn *k;
    while (c->map_keys[s]) {
        if (c->map_keys[s] == flow_id)
            return c->conns[c->map_vals[s] - 1];
        s = (s + 1) & (c->map_cap - 1);
    }
    if (c->nconns >= c->cfg.max_conns) {
        c->stats.conns_dropped++;
        return NULL;
    }
    if ((c->nconns + 1) * 2 > c->map_cap) {
        if (!map_grow(c))
            return NULL;
        return conn_get(c, flow_id);
    }
    if (!grow((void **)&c->conns, &c->capconns, c->nconns + 1, sizeof(*c->conns)))
        return NULL;
    k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->flow_id = flow_id;
    c->conns[c->nconns++] = k;
    c->map_keys[s] = flow_id;
    c->map_vals[s] = c->nconns;
    c->stats.conns++;
    return k;
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

void corr_conn_end(struct correlator *c, const struct flow *f)
{
    struct cconn *k;
    const struct tcp_conn *t = &f->tcp;
    bool xmppish = f->info.app == APP_XMPP || f->info.app == APP_XMPP_TLS ||
                   port_set_has(&c->cfg.xmpp_ports, f->info.port[FT_DIR_RESP]);
    if (!xmppish)
        return;
    k = conn_get(c, f->info.flow_id);
    if (!k)
        return;
    k->have_tcp = true;
    k->addr[0] = f->info.addr[0];
    k->addr[1] = f->info.addr[1];
    k->port[0] = f->info.port[0];
    k->port[1] = f->info.port[1];
    k->app = f->info.app;
    k->source = f->source;
    k->first_ns = f->first_ns;
    k->last_ns = f->last_ns;
    k->syn = t->syn;
    k->synack = t->synack;
    k->rst = t->rst;
    k->rst_dir = t->rst_dir;
    k->syn_count = t->syn_count;
    k->midstream = t->midstream;
    k->established = t->established || (t->synack.frame && t->dir[FT_DIR_ORIG].packets > 1);
    for (int d = 0; d < 2; d++) {
        k->fin[d] = t->dir[d].fin;
        k->first_data[d] = t->dir[d].first_data;
        k->pkts[d] = t->dir[d].packets;
        k->bytes[d] = t->dir[d].payload_bytes;
        k->gaps[d] = t->half[d].gap_count;
        k->badcsum[d] = t->dir[d].bad_checksums;
    }
    copy_str(k->state, sizeof(k->state), tcp_conn_state(t));
    copy_str(k->history, sizeof(k->history), t->history);
    if (f->last_ns > c->capture_end_ns)
        c->capture_end_ns = f->last_ns;
}

void corr_xmpp_event(struct correlator *c, const struct flow_info *fi, const struct xmpp_event *ev)
{
    struct cconn *k = conn_get(c, fi->flow_id);
    struct cev e;
    char vbuf[32];

    if (!k)
        return;
    if (!k->have_tcp) {
        k->addr[0] = fi->addr[0];
        k->addr[1] = fi->addr[1];
        k->port[0] = fi->port[0];
        k->port[1] = fi->port[1];
        k->app = fi->app;
    }
    memset(&e, 0, sizeof(e));
    e.dir = ev->dir;
    e.ref = ref_of_meta(&ev->meta);
    switch (ev->type) {
    case XMPP_EV_STREAM_OPEN:
        if (!ev->stream_ns_ok)
            return; /* a root element that is not a stream: the error follows */
        e.type = CEV_OPEN;
        if (ev->content_ns && strcmp(ev->content_ns, "jabber:server") == 0)
            e.flags |= F_JSERVER;
        if (ev->content_ns && strcmp(ev->content_ns, "jabber:client") == 0)
            e.flags |= F_JCLIENT;
        if (ev->db_ns)
            e.flags |= F_DB_NS;
        e.cond = dup_cap(ev->content_ns);
        break;
    case XMPP_EV_FEATURES:
        e.type = CEV_FEATURES;
        e.flags = (uint8_t)((ev->starttls ? F_STARTTLS : 0) | (ev->starttls_required ? F_REQUIRED : 0) |
                            (ev->dialback ? F_DIALBACK : 0) | (ev->sasl_external ? F_EXTERNAL : 0));
        e.text = dup_cap(ev->mechanisms);
        break;
    case XMPP_EV_STARTTLS:
        e.type = CEV_STARTTLS;
        break;
    case XMPP_EV_PROCEED:
        e.type = CEV_PROCEED;
        break;
    case XMPP_EV_TLS_FAILURE:
        e.type = CEV_TLS_FAILURE;
        break;
    case XMPP_EV_SASL_AUTH:
        e.type = CEV_SASL_AUTH;
        e.text = dup_cap(ev->mechanism);
        break;
    case XMPP_EV_SASL_SUCCESS:
        e.type = CEV_SASL_SUCCESS;
        break;
    case XMPP_EV_SASL_FAILURE:
        e.type = CEV_SASL_FAILURE;
        break;
    case XMPP_EV_DB_RESULT:
    case XMPP_EV_DB_VERIFY:
        e.type = ev->type == XMPP_EV_DB_RESULT ? CEV_DB_RESULT : CEV_DB_VERIFY;
        e.sub = (uint8_t)ev->db_type;
        break;
    case XMPP_EV_STREAM_ERROR:
        e.type = CEV_STREAM_ERROR;
        break;
    case XMPP_EV_STREAM_CLOSE:
        e.type = CEV_CLOSE;
        break;
    case XMPP_EV_STANZA:
        k->stanzas[ev->dir & 1]++;
        if (!xmpp_stanza_is_notable(ev))
            return;
        e.type = CEV_STANZA;
        e.sub = (uint8_t)(ev->stanza == XMPP_STANZA_PRESENCE ? ev->presence : 0xff);
        e.flags = (uint8_t)ev->stanza;
        e.text = dup_cap(ev->type_str);
        break;
    case XMPP_EV_TLS:
        if (!ev->tls)
            return;
        switch (ev->tls->type) {
        case TLS_EV_CLIENT_HELLO:
            e.type = CEV_TLS_HELLO;
            e.text = dup_cap(ev->tls->sni);
            break;
        case TLS_EV_SERVER_HELLO:
            e.type = CEV_TLS_SERVER;
            e.id = dup_cap(tls_version_name(ev->tls->version, vbuf, sizeof(vbuf)));
            break;
        case TLS_EV_ALERT:
            e.type = CEV_TLS_ALERT;
            e.cond = dup_cap(ev->tls->alert_encrypted ? "encrypted"
                                                      : (ev->tls->alert_desc_name ? ev->tls->alert_desc_name
                                                                                  : "unknown"));
            e.sub = ev->tls->alert_level;
            break;
        case TLS_EV_HANDSHAKE_DONE:
        case TLS_EV_HANDSHAKE_ENCRYPTED:
            e.type = CEV_TLS_DONE;
            break;
        case TLS_EV_CERTIFICATE:
            e.type = CEV_TLS_CERT;
            e.text = dup_cap(ev->tls->cert_cn);
            break;
        default:
            return;
        }
        break;
    case XMPP_EV_ERROR:
        e.type = CEV_XML_ERROR;
        e.cond = dup_cap(xmpp_error_name(ev->error));
        break;
    case XMPP_EV_GAP:
        e.type = CEV_GAP;
        break;
    case XMPP_EV_CLEARTEXT_AFTER_STARTTLS:
        e.type = CEV_CLEARTEXT_AFTER_STARTTLS;
        break;
    default:
        return;
    }
    if (!e.from)
        e.from = dup_cap(ev->from);
    if (!e.to)
        e.to = dup_cap(ev->to);
    if (!e.id)
        e.id = dup_cap(ev->id);
    if (ev->condition && !e.cond)
        e.cond = dup_cap(ev->condition);
    if (ev->text && !e.text)
        e.text = dup_cap(ev->text);
    if (k->nev >= c->cfg.max_events_per_conn ||
        !grow((void **)&k->ev, &k->cap, k->nev + 1, sizeof(*k->ev))) {
        c->stats.events_dropped++;
        free(e.from);
        free(e.to);
        free(e.id);
        free(e.cond);
        free(e.text);
        return;
    }
    k->ev[k->nev++] = e;
    c->stats.events++;
}

void corr_dns_lookup(struct correlator *c, const struct dns_lookup *lk)
{
    struct clookup *l;
    if (c->nlookups >= c->cfg.max_lookups) {
        c->stats.lookups_dropped++;
        return;
    }
    if (!grow((void **)&c->lookups, &c->caplookups, c->nlookups + 1, sizeof(*c->lookups)))
        return;
    l = calloc(1, sizeof(*l));
    if (!l)
        return;
    l->id = lk->id;
    l->client = lk->client.addr;
    l->server = lk->server.addr;
    l->tcp = lk->transport == DNS_TCP;
    l->qname = dup_cap(lk->qname ? lk->qname : "");
    l->qtype = lk->qtype;
    l->outcome = lk->outcome;
    l->rcode = lk->rcode;
    l->has_response = lk->has_response;
    l->nqueries = lk->nqueries;
    if (lk->nqueries)
        l->query = ref_of_meta(&lk->query[0]);
    if (lk->has_response)
        l->response = ref_of_meta(&lk->response);
    for (unsigned i = 0; i < lk->nans && i < DNS_LOOKUP_MAX_ANS; i++) {
        l->ans[i].type = lk->ans[i].type;
        l->ans[i].addr = lk->ans[i].addr;
        l->ans[i].port = lk->ans[i].port;
        l->ans[i].name = dup_cap(lk->ans[i].name);
        l->ans[i].target = dup_cap(lk->ans[i].target);
        l->nans++;
    }
    c->lookups[c->nlookups++] = l;
    c->stats.lookups++;
}

/* ---- queries over a connection's events ------------------------------- */

static const struct cev *first_ev(const struct cconn *k, enum cev_type t, int dir)
{
    for (unsigned i = 0; i < k->nev; i++)
        if (k->ev[i].type == t && (dir < 0 || k->ev[i].dir == dir))
            return &k->ev[i];
    return NULL;
}

static int64_t conn_start(const struct cconn *k)
{
    if (k->syn.frame)
        return k->syn.ts_ns;
    if (k->first_ns)
        return k->first_ns;
    return k->nev ? k->ev[0].ref.ts_ns : 0;
}

/* When this connection last learned its fate (authentication answered,
 * refused, or a stream error); 0 if never.  The latest such connection
 * tells a direction's current state: a retry that worked supersedes an
 * earlier failure, and a failure after a success is the news. */
static int64_t conn_decided_ns(const struct cconn *k)
{
    int64_t t = 0;
    for (unsigned i = 0; i < k->nev; i++) {
        const struct cev *e = &k->ev[i];
        bool decisive = (e->type == CEV_DB_RESULT && e->dir == FT_DIR_RESP && e->sub != XMPP_DB_NONE) ||
                        e->type == CEV_SASL_SUCCESS || e->type == CEV_SASL_FAILURE ||
                        e->type == CEV_STREAM_ERROR || e->type == CEV_TLS_ALERT;
        if (decisive && e->ref.ts_ns > t)
            t = e->ref.ts_ns;
    }
    return t;
}

/* How much a view of a connection shows: used to pick the primary of a pair. */
static int conn_richness(const struct cconn *k)
{
    return (int)k->nev * 4 + (k->established ? 2 : 0) + (k->syn.frame ? 1 : 0);
}

/* ---- phase 1: s2s or c2s ---------------------------------------------- */

static void classify(struct correlator *c)
{
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        bool jserver = false, jclient = false;
        for (unsigned e = 0; e < k->nev; e++) {
            if (k->ev[e].type == CEV_OPEN) {
                jserver |= (k->ev[e].flags & F_JSERVER) != 0;
                jclient |= (k->ev[e].flags & F_JCLIENT) != 0;
            }
        }
        if (jserver)
            k->s2s = true;
        else if (jclient)
            k->c2s = true;
        else if (k->port[FT_DIR_RESP] == 5222 || k->port[FT_DIR_RESP] == 5223)
            k->c2s = true;
        else
            k->s2s = true;
        if (k->s2s)
            c->stats.s2s_conns++;
        else
            c->stats.c2s_conns++;
    }
}

/* ---- phase 2: one connection seen on both sides of a NAT --------------- */

static bool same_endpoint(const struct cconn *a, int da, const struct cconn *b, int db)
{
    return a->port[da] == b->port[db] && ft_addr_eq(&a->addr[da], &b->addr[db]);
}

/* Stream headers both views carry must agree (a NAT does not touch them). */
static bool same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Stream headers both views carry must agree (a NAT does not touch them);
 * the receiving server's stream id is random per connection, so two
 * different connections between the same domains differ there. */
static bool headers_agree(const struct cconn *a, const struct cconn *b)
{
    const struct cev *ha = first_ev(a, CEV_OPEN, FT_DIR_ORIG), *hb = first_ev(b, CEV_OPEN, FT_DIR_ORIG);
    const struct cev *ra = first_ev(a, CEV_OPEN, FT_DIR_RESP), *rb = first_ev(b, CEV_OPEN, FT_DIR_RESP);
    if (ra && rb && !same_str(ra->id, rb->id))
        return false;
    if (!ha || !hb)
        return (ha == NULL) == (hb == NULL) || !a->nev || !b->nev;
    return same_str(ha->from, hb->from) && same_str(ha->to, hb->to);
}

/* A view that may be one side of a NAT pair: s2s, or a connection that
 * carried nothing and is c2s only by its port (the inside view of a static
 * PAT to the wrong inside port, 5222, looks like that). */
static bool nat_candidate(const struct cconn *k)
{
    return k->s2s || (k->c2s && k->nev == 0);
}

static void make_s2s(struct correlator *c, struct cconn *k)
{
    if (k->s2s)
        return;
    k->c2s = false;
    k->s2s = true;
    c->stats.c2s_conns--;
    c->stats.s2s_conns++;
}

static void pair_nat(struct correlator *c)
{
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *a = c->conns[i];
        if (!nat_candidate(a) || a->nat_peer)
            continue;
        for (unsigned j = i + 1; j < c->nconns; j++) {
            struct cconn *b = c->conns[j];
            int64_t dt;
            bool orig_same, resp_same;
            if (!nat_candidate(b) || b->nat_peer || (!a->s2s && !b->s2s))
                continue;
            dt = conn_start(a) - conn_start(b);
            if (dt < 0)
                dt = -dt;
            if (dt > FT_NS_PER_SEC / 2) /* a NAT forwards within milliseconds */
                continue;
            orig_same = same_endpoint(a, 0, b, 0);
            resp_same = same_endpoint(a, 1, b, 1);
            /* Exactly one side translated: the other endpoint is the same. */
            if (orig_same == resp_same)
                continue;
            /* The translated side keeps its service port for inbound
             * (static PAT) or its source port for outbound (PAT usually
             * keeps it); either way the stream must agree. */
            if (!headers_agree(a, b))
                continue;
            if ((a->syn_count > 0) != (b->syn_count > 0) && a->nev == 0 && b->nev == 0)
                continue;
            if (a->syn_count && b->syn_count && (a->syn_count > b->syn_count + 1 || b->syn_count > a->syn_count + 1))
                continue;
            a->nat_peer = b;
            b->nat_peer = a;
            make_s2s(c, a);
            make_s2s(c, b);
            if (conn_richness(b) > conn_richness(a))
                a->secondary = true;
            else
                b->secondary = true;
            c->stats.nat_pairs++;
            break;
        }
    }
}

/* Addresses a server on the Internet cannot reach: RFC 1918, CGNAT, ULA,
 * loopback, link-local, unspecified.  Documentation ranges are routable
 * for this purpose (labs and examples use them as public addresses). */
static bool addr_is_private(const struct ft_addr *a)
{
    switch (dns_addr_classify(a)) {
    case DNS_ADDR_PRIVATE:
    case DNS_ADDR_CGNAT:
    case DNS_ADDR_ULA:
    case DNS_ADDR_LOOPBACK:
    case DNS_ADDR_LINK_LOCAL:
    case DNS_ADDR_UNSPECIFIED:
        return true;
    default:
        return false;
    }
}

/* ---- phase 3: which address serves which domain ------------------------ */

static void book_add(struct correlator *c, const struct ft_addr *a, const char *domain, uint8_t strength)
{
    if (!domain || !*domain || !a->family)
        return;
    for (unsigned i = 0; i < c->nbook; i++) {
        struct addr_domain *b = &c->book[i];
        if (ft_addr_eq(&b->addr, a)) {
            if (strength > b->strength) {
                copy_str(b->domain, sizeof(b->domain), domain);
                b->strength = strength;
            }
            return;
        }
    }
    if (!grow((void **)&c->book, &c->capbook, c->nbook + 1, sizeof(*c->book)))
        return;
    c->book[c->nbook].addr = *a;
    copy_str(c->book[c->nbook].domain, sizeof(c->book[c->nbook].domain), domain);
    c->book[c->nbook].strength = strength;
    c->nbook++;
}

static const char *book_domain(const struct correlator *c, const struct ft_addr *a)
{
    for (unsigned i = 0; i < c->nbook; i++)
        if (ft_addr_eq(&c->book[i].addr, a))
            return c->book[i].domain;
    return NULL;
}

/* "_xmpp-server._tcp.example.org" -> "example.org" (also xmpps). */
static bool srv_domain(const char *qname, char *out, size_t len)
{
    static const char *const prefixes[] = { "_xmpp-server._tcp.", "_xmpps-server._tcp.", NULL };
    for (int i = 0; prefixes[i]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncasecmp(qname, prefixes[i], n) == 0 && qname[n]) {
            copy_str(out, len, qname + n);
            return true;
        }
    }
    return false;
}

/* The domain a host name serves for s2s according to the SRV answers seen
 * (target -> domain), or NULL. */
static bool srv_domain_of_target(const struct correlator *c, const char *host, char *out, size_t len)
{
    for (unsigned i = 0; i < c->nlookups; i++) {
        const struct clookup *l = c->lookups[i];
        char dom[STR_CAP];
        if (l->qtype != DNS_T_SRV || !srv_domain(l->qname, dom, sizeof(dom)))
            continue;
        for (unsigned k = 0; k < l->nans; k++)
            if (l->ans[k].type == DNS_T_SRV && l->ans[k].target &&
                strcasecmp(l->ans[k].target, host) == 0) {
                copy_str(out, len, dom);
                return true;
            }
    }
    return false;
}

static void learn_addresses(struct correlator *c)
{
    /* Stream headers: the strongest statement of who is who. */
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        const struct cev *ho, *hr;
        if (!k->s2s)
            continue;
        ho = first_ev(k, CEV_OPEN, FT_DIR_ORIG);
        hr = first_ev(k, CEV_OPEN, FT_DIR_RESP);
        if (ho && ho->from)
            book_add(c, &k->addr[FT_DIR_ORIG], ho->from, 2);
        if (hr && hr->from)
            book_add(c, &k->addr[FT_DIR_RESP], hr->from, 2);
        else if (ho && ho->to && hr)
            book_add(c, &k->addr[FT_DIR_RESP], ho->to, 2);
    }
    /* DNS: A/AAAA of an SRV target, or of the bare domain (fallback). */
    for (unsigned i = 0; i < c->nlookups; i++) {
        const struct clookup *l = c->lookups[i];
        char dom[STR_CAP];
        for (unsigned k = 0; k < l->nans; k++) {
            if (l->ans[k].type != DNS_T_A && l->ans[k].type != DNS_T_AAAA)
                continue;
            if (!l->ans[k].name)
                continue;
            if (srv_domain_of_target(c, l->ans[k].name, dom, sizeof(dom)))
                book_add(c, &l->ans[k].addr, dom, 1);
            else if (l->qtype == DNS_T_A || l->qtype == DNS_T_AAAA)
                book_add(c, &l->ans[k].addr, l->qname, 1);
        }
    }
}

/* ---- phase 4: the domains of each s2s connection ------------------------ */

static void name_endpoint(char *out, size_t len, const struct ft_addr *a)
{
    char ip[FT_ADDR_STRLEN];
    snprintf(out, len, "[%s]", ft_addr_str(a, ip, sizeof(ip)));
}

static void name_domains(struct correlator *c)
{
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        const struct cev *ho, *hr;
        if (!k->s2s)
            continue;
        ho = first_ev(k, CEV_OPEN, FT_DIR_ORIG);
        hr = first_ev(k, CEV_OPEN, FT_DIR_RESP);
        if (ho && ho->from && *ho->from)
            copy_str(k->dom_from, sizeof(k->dom_from), ho->from);
        else if (hr && hr->to && *hr->to)
            copy_str(k->dom_from, sizeof(k->dom_from), hr->to);
        if (ho && ho->to && *ho->to)
            copy_str(k->dom_to, sizeof(k->dom_to), ho->to);
        else if (hr && hr->from && *hr->from)
            copy_str(k->dom_to, sizeof(k->dom_to), hr->from);
    }
    /* Second pass: connections without headers borrow from their NAT twin,
     * then from what the addresses are known to serve. */
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        const char *d;
        if (!k->s2s)
            continue;
        if (k->nat_peer) {
            if (!k->dom_from[0])
                copy_str(k->dom_from, sizeof(k->dom_from), k->nat_peer->dom_from);
            if (!k->dom_to[0])
                copy_str(k->dom_to, sizeof(k->dom_to), k->nat_peer->dom_to);
        }
        if (!k->dom_from[0] && (d = book_domain(c, &k->addr[FT_DIR_ORIG])) != NULL)
            copy_str(k->dom_from, sizeof(k->dom_from), d);
        if (!k->dom_to[0] && (d = book_domain(c, &k->addr[FT_DIR_RESP])) != NULL)
            copy_str(k->dom_to, sizeof(k->dom_to), d);
        if (!k->dom_from[0] && c->cfg.n_local_domains == 1) {
            for (unsigned s = 0; s < c->cfg.n_local_servers; s++)
                if (ft_addr_eq(&c->cfg.local_servers[s], &k->addr[FT_DIR_ORIG]))
                    copy_str(k->dom_from, sizeof(k->dom_from), c->cfg.local_domains[0]);
        }
        if (!k->dom_to[0] && c->cfg.n_local_domains == 1) {
            for (unsigned s = 0; s < c->cfg.n_local_servers; s++)
                if (ft_addr_eq(&c->cfg.local_servers[s], &k->addr[FT_DIR_RESP]))
                    copy_str(k->dom_to, sizeof(k->dom_to), c->cfg.local_domains[0]);
        }
    }
    /* Third pass: a twin that learned its names from the book only in the
     * pass above (it came later in the list) still lends them; then the
     * bare address. */
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        if (!k->s2s)
            continue;
        if (k->nat_peer) {
            if (!k->dom_from[0])
                copy_str(k->dom_from, sizeof(k->dom_from), k->nat_peer->dom_from);
            if (!k->dom_to[0])
                copy_str(k->dom_to, sizeof(k->dom_to), k->nat_peer->dom_to);
        }
        if (!k->dom_from[0])
            name_endpoint(k->dom_from, sizeof(k->dom_from), &k->addr[FT_DIR_ORIG]);
        if (!k->dom_to[0])
            name_endpoint(k->dom_to, sizeof(k->dom_to), &k->addr[FT_DIR_RESP]);
    }
}

/* ---- phase 5: federations and their directions ------------------------ */

static struct corr_federation *fed_get(struct correlator *c, const char *a, const char *b)
{
    const char *lo = strcmp(a, b) <= 0 ? a : b, *hi = lo == a ? b : a;
    struct corr_federation *f;
    uint64_t h = UINT64_C(1469598103934665603);
    for (unsigned i = 0; i < c->nfeds; i++)
        if (strcmp(c->feds[i]->domains[0], lo) == 0 && strcmp(c->feds[i]->domains[1], hi) == 0)
            return c->feds[i];
    if (!grow((void **)&c->feds, &c->capfeds, c->nfeds + 1, sizeof(*c->feds)))
        return NULL;
    f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    copy_str(f->domains[0], sizeof(f->domains[0]), lo);
    copy_str(f->domains[1], sizeof(f->domains[1]), hi);
    for (const char *p = lo; *p; p++)
        h = (h ^ (uint8_t)*p) * UINT64_C(1099511628211);
    h = (h ^ 0xff) * UINT64_C(1099511628211);
    for (const char *p = hi; *p; p++)
        h = (h ^ (uint8_t)*p) * UINT64_C(1099511628211);
    snprintf(f->id, sizeof(f->id), "F%08" PRIx32, (uint32_t)(h ^ (h >> 32)));
    c->feds[c->nfeds++] = f;
    c->stats.federations++;
    return f;
}

static struct corr_direction *dir_get(struct correlator *c, const char *from, const char *to)
{
    struct corr_federation *f;
    if (!from[0] || !to[0] || strcmp(from, to) == 0)
        return NULL;
    f = fed_get(c, from, to);
    if (!f)
        return NULL;
    for (unsigned i = 0; i < f->n_dir; i++)
        if (strcmp(f->dir[i].from, from) == 0 && strcmp(f->dir[i].to, to) == 0)
            return &f->dir[i];
    if (f->n_dir >= 2)
        return NULL;
    copy_str(f->dir[f->n_dir].from, sizeof(f->dir[0].from), from);
    copy_str(f->dir[f->n_dir].to, sizeof(f->dir[0].to), to);
    return &f->dir[f->n_dir++];
}

/* Evaluation state of one direction. */
struct dctx {
    struct correlator *c;
    struct corr_direction *d;
    const char *from, *to;
    struct cconn *out[64];      /* s2s connections from -> to, by start time */
    unsigned nout;
    const struct clookup *lk[64]; /* lookups for `to` */
    unsigned nlk;
    struct cconn *main;         /* the most progressed connection */
    bool opaque;                /* TLS hides what follows */
    bool decisive;              /* the failure was seen, not inferred */
    bool low_confidence;        /* inferred from a short wait */
    bool inferred_ok;
};

static void tl_add(struct dctx *x, const struct frame_ref *r, uint64_t flow_id, uint64_t dns_id,
                   enum fed_stage st, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void tl_add(struct dctx *x, const struct frame_ref *r, uint64_t flow_id, uint64_t dns_id,
                   enum fed_stage st, const char *fmt, ...)
{
    struct corr_direction *d = x->d;
    struct corr_tl *t;
    va_list ap;
    if (!r->frame)
        return;
    for (unsigned i = 0; i < d->n_timeline; i++) /* once per frame and text */
        if (d->timeline[i].ref.frame == r->frame && d->timeline[i].flow_id == flow_id &&
            d->timeline[i].dns_id == dns_id)
            goto same_frame;
    if (0) {
same_frame:
        /* One line per frame of a flow: several events of one segment are
         * joined. */
        for (unsigned i = 0; i < d->n_timeline; i++) {
            struct corr_tl *o = &d->timeline[i];
            char more[200];
            size_t n;
            if (o->ref.frame != r->frame || o->flow_id != flow_id || o->dns_id != dns_id)
                continue;
            va_start(ap, fmt);
            vsnprintf(more, sizeof(more), fmt, ap);
            va_end(ap);
            if (strstr(o->what, more))
                return;
            n = strlen(o->what);
            snprintf(o->what + n, sizeof(o->what) - n, "; %s", more);
            return;
        }
        return;
    }
    if (!grow((void **)&d->timeline, &d->cap_timeline, d->n_timeline + 1, sizeof(*d->timeline)))
        return;
    t = &d->timeline[d->n_timeline++];
    memset(t, 0, sizeof(*t));
    t->ref = *r;
    t->flow_id = flow_id;
    t->dns_id = dns_id;
    t->stage = st;
    va_start(ap, fmt);
    vsnprintf(t->what, sizeof(t->what), fmt, ap);
    va_end(ap);
}

static void evidence(struct dctx *x, const struct frame_ref *r)
{
    struct corr_verdict *v = &x->d->verdict;
    if (!r || !r->frame)
        return;
    for (unsigned i = 0; i < v->n_evidence; i++)
        if (v->evidence_refs[i].frame == r->frame)
            return;
    if (v->n_evidence < 16) {
        v->evidence_refs[v->n_evidence] = *r;
        v->evidence_frames[v->n_evidence++] = r->frame;
    }
}

static void evidence_flow(struct dctx *x, const struct cconn *k)
{
    struct corr_verdict *v = &x->d->verdict;
    if (!k)
        return;
    for (unsigned i = 0; i < v->n_flows; i++)
        if (v->evidence_flows[i] == k->flow_id)
            return;
    if (v->n_flows < 8)
        v->evidence_flows[v->n_flows++] = k->flow_id;
}

static void evidence_dns(struct dctx *x, const struct clookup *l)
{
    struct corr_verdict *v = &x->d->verdict;
    for (unsigned i = 0; i < v->n_dns; i++)
        if (v->evidence_dns[i] == l->id)
            return;
    if (v->n_dns < 8)
        v->evidence_dns[v->n_dns++] = l->id;
}

static void note(struct dctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct dctx *x, const char *fmt, ...)
{
    struct corr_verdict *v = &x->d->verdict;
    va_list ap;
    if (v->n_notes >= 4)
        return;
    va_start(ap, fmt);
    vsnprintf(v->notes[v->n_notes], sizeof(v->notes[0]), fmt, ap);
    va_end(ap);
    for (unsigned i = 0; i < v->n_notes; i++)
        if (strcmp(v->notes[i], v->notes[v->n_notes]) == 0)
            return;
    v->n_notes++;
}

/* Records the stage result; the first failure decides the verdict. */
static void stage_set(struct dctx *x, enum fed_stage st, enum corr_stage_status s, const char *code,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void stage_set(struct dctx *x, enum fed_stage st, enum corr_stage_status s, const char *code,
                      const char *fmt, ...)
{
    struct corr_direction *d = x->d;
    va_list ap;
    d->stages[st] = s;
    va_start(ap, fmt);
    vsnprintf(d->stage_detail[st], sizeof(d->stage_detail[st]), fmt, ap);
    va_end(ap);
    if (s == STAGE_FAILED && d->verdict.status != CORR_FAILED) {
        d->verdict.status = CORR_FAILED;
        d->verdict.stage = st;
        d->verdict.code = code;
    }
}

static bool failed(const struct dctx *x)
{
    return x->d->verdict.status == CORR_FAILED;
}

static const char *ordinal_syns(uint16_t n, char *buf, size_t len)
{
    snprintf(buf, len, "%u SYN%s", n, n == 1 ? "" : "s");
    return buf;
}

static void add_ev_timeline(struct dctx *x, const struct cconn *k, const struct cev *e);

static void add_tcp_timeline(struct dctx *x, const struct cconn *k, enum fed_stage st_tcp)
{
    char a[80], b[80], s[24];
    addr_port_str(a, sizeof(a), &k->addr[0], k->port[0]);
    addr_port_str(b, sizeof(b), &k->addr[1], k->port[1]);
    if (k->syn.frame)
        tl_add(x, &k->syn, k->flow_id, 0, st_tcp, "SYN %s -> %s (%s in all)", a, b,
               ordinal_syns(k->syn_count, s, sizeof(s)));
    if (k->synack.frame)
        tl_add(x, &k->synack, k->flow_id, 0, st_tcp, "SYN-ACK from %s", b);
    if (!k->syn.frame && !k->synack.frame && k->first_ns)
        tl_add(x, &(struct frame_ref){ k->first_data[0].frame ? k->first_data[0].frame : 1,
                                       k->first_data[0].src_frame, k->source, k->first_ns },
               k->flow_id, 0, st_tcp, "connection %s -> %s already open when the capture started", a, b);
    if (k->rst.frame)
        tl_add(x, &k->rst, k->flow_id, 0, st_tcp, "RST from %s", k->rst_dir == FT_DIR_ORIG ? a : b);
    for (int dd = 0; dd < 2; dd++)
        if (k->fin[dd].frame)
            tl_add(x, &k->fin[dd], k->flow_id, 0, STAGE_STREAM, "FIN from %s", dd == FT_DIR_ORIG ? a : b);
}

static void add_conn_timeline(struct dctx *x, const struct cconn *k, enum fed_stage st_tcp)
{
    add_tcp_timeline(x, k, st_tcp);
    for (unsigned i = 0; i < k->nev; i++)
        add_ev_timeline(x, k, &k->ev[i]);
}

static void add_ev_timeline(struct dctx *x, const struct cconn *k, const struct cev *e)
{
    {
        const char *who = e->dir == FT_DIR_ORIG ? "->" : "<-";
        switch (e->type) {
        case CEV_OPEN:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_STREAM, "%s stream header from='%s' to='%s'%s%s%s", who,
                   e->from ? e->from : "", e->to ? e->to : "", e->id ? " id='" : "", e->id ? e->id : "",
                   e->id ? "'" : "");
            break;
        case CEV_FEATURES:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_STREAM, "%s features:%s%s%s%s%s", who,
                   (e->flags & F_STARTTLS) ? " starttls" : "", (e->flags & F_REQUIRED) ? "(required)" : "",
                   (e->flags & F_DIALBACK) ? " dialback" : "", e->text ? " sasl=" : "", e->text ? e->text : "");
            break;
        case CEV_STARTTLS:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s <starttls/>", who);
            break;
        case CEV_PROCEED:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s <proceed/>", who);
            break;
        case CEV_TLS_FAILURE:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s TLS <failure/>", who);
            break;
        case CEV_TLS_HELLO:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s TLS ClientHello%s%s", who, e->text ? " SNI=" : "",
                   e->text ? e->text : "");
            break;
        case CEV_TLS_SERVER:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s TLS ServerHello %s", who, e->id ? e->id : "");
            break;
        case CEV_TLS_ALERT:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s TLS alert %s", who, e->cond ? e->cond : "");
            break;
        case CEV_TLS_DONE:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s TLS handshake done, stream encrypted", who);
            break;
        case CEV_TLS_CERT:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s certificate%s%s", who, e->text ? " CN=" : "",
                   e->text ? e->text : "");
            break;
        case CEV_SASL_AUTH:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_AUTH, "%s SASL auth %s", who, e->text ? e->text : "");
            break;
        case CEV_SASL_SUCCESS:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_AUTH, "%s SASL success", who);
            break;
        case CEV_SASL_FAILURE:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_AUTH, "%s SASL failure %s", who, e->cond ? e->cond : "");
            break;
        case CEV_DB_RESULT:
        case CEV_DB_VERIFY:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_AUTH, "%s db:%s from='%s' to='%s' %s%s%s", who,
                   e->type == CEV_DB_RESULT ? "result" : "verify", e->from ? e->from : "", e->to ? e->to : "",
                   xmpp_db_type_name((enum xmpp_db_type)e->sub), e->cond ? " " : "", e->cond ? e->cond : "");
            break;
        case CEV_STREAM_ERROR:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_STREAM, "%s stream error <%s/>%s%s", who, e->cond ? e->cond : "?",
                   e->text ? " " : "", e->text ? e->text : "");
            break;
        case CEV_CLOSE:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_STREAM, "%s </stream:stream>", who);
            break;
        case CEV_STANZA:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_SUBSCRIBE, "%s %s type='%s' from='%s' to='%s'%s%s", who,
                   e->flags == XMPP_STANZA_PRESENCE ? "presence" : e->flags == XMPP_STANZA_MESSAGE ? "message" : "iq",
                   e->text ? e->text : "", e->from ? e->from : "", e->to ? e->to : "", e->cond ? " error " : "",
                   e->cond ? e->cond : "");
            break;
        case CEV_XML_ERROR:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_STREAM, "%s not XMPP: %s", who, e->cond ? e->cond : "");
            break;
        case CEV_CLEARTEXT_AFTER_STARTTLS:
            tl_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s XML after STARTTLS instead of TLS", who);
            break;
        default:
            break;
        }
    }
}

static void add_lookup_timeline(struct dctx *x, const struct clookup *l)
{
    char ans[160] = "";
    char tb[DNS_TYPE_NAME_BUFLEN];
    size_t used = 0;
    for (unsigned i = 0; i < l->nans && used < sizeof(ans) - 40; i++) {
        char ip[FT_ADDR_STRLEN];
        if (l->ans[i].type == DNS_T_SRV)
            used += (size_t)snprintf(ans + used, sizeof(ans) - used, " %s:%u", l->ans[i].target ? l->ans[i].target : "?",
                                     l->ans[i].port);
        else if (l->ans[i].type == DNS_T_A || l->ans[i].type == DNS_T_AAAA)
            used += (size_t)snprintf(ans + used, sizeof(ans) - used, " %s", ft_addr_str(&l->ans[i].addr, ip, sizeof(ip)));
    }
    tl_add(x, &l->query, 0, l->id, STAGE_LOOKUP, "DNS query %s %s", dns_type_name(l->qtype, tb, sizeof(tb)),
           l->qname);
    if (l->has_response)
        tl_add(x, &l->response, 0, l->id, STAGE_LOOKUP, "DNS answer %s: %s%s", l->qname,
               dns_outcome_name((enum dns_outcome)l->outcome), ans);
}

static bool lookup_is_for(const struct correlator *c, const struct clookup *l, const char *dom)
{
    char d[STR_CAP];
    if (srv_domain(l->qname, d, sizeof(d)))
        return strcasecmp(d, dom) == 0;
    if (l->qtype != DNS_T_A && l->qtype != DNS_T_AAAA)
        return false;
    if (strcasecmp(l->qname, dom) == 0)
        return true;
    return srv_domain_of_target(c, l->qname, d, sizeof(d)) && strcasecmp(d, dom) == 0;
}

static bool srv_has_real_target(const struct clookup *l)
{
    for (unsigned i = 0; i < l->nans; i++)
        if (l->ans[i].type == DNS_T_SRV && l->ans[i].target && strcmp(l->ans[i].target, ".") != 0)
            return true;
    return false;
}

static bool srv_has_dot(const struct clookup *l)
{
    for (unsigned i = 0; i < l->nans; i++)
        if (l->ans[i].type == DNS_T_SRV && l->ans[i].target && strcmp(l->ans[i].target, ".") == 0)
            return true;
    return false;
}

/* ---- the stages ------------------------------------------------------- */

static bool any_established(const struct dctx *x)
{
    for (unsigned i = 0; i < x->nout; i++) {
        const struct cconn *k = x->out[i];
        if (k->established || k->midstream || (k->nat_peer && k->nat_peer->established))
            return true;
    }
    return false;
}

static void eval_lookup(struct dctx *x)
{
    const struct clookup *srv_ok = NULL, *srv_dot = NULL, *srv_bad = NULL, *addr_ok = NULL, *addr_bad = NULL;
    const struct clookup *priv = NULL;
    struct ft_addr priv_addr;
    char ip[FT_ADDR_STRLEN];

    for (unsigned i = 0; i < x->nlk; i++) {
        const struct clookup *l = x->lk[i];
        add_lookup_timeline(x, l);
        if (l->qtype == DNS_T_SRV) {
            if (l->outcome == DNS_OUT_ANSWERED && srv_has_real_target(l))
                srv_ok = l;
            else if (l->outcome == DNS_OUT_ANSWERED && srv_has_dot(l))
                srv_dot = l;
            else if (l->outcome != DNS_OUT_TRUNCATED_THEN_TCP)
                srv_bad = l;
        } else {
            if (l->outcome == DNS_OUT_ANSWERED)
                addr_ok = l;
            else if (l->outcome != DNS_OUT_TRUNCATED_THEN_TCP)
                addr_bad = l;
        }
        for (unsigned k = 0; k < l->nans; k++)
            if ((l->ans[k].type == DNS_T_A || l->ans[k].type == DNS_T_AAAA) &&
                addr_is_private(&l->ans[k].addr) && !priv) {
                priv = l;
                priv_addr = l->ans[k].addr;
            }
    }
    if (x->nlk == 0) {
        if (x->nout > 0) {
            stage_set(x, STAGE_LOOKUP, STAGE_NOT_SEEN, NULL,
                      "no DNS lookup for %s in the capture (cached, static route, or resolver not on this path)",
                      x->to);
            note(x, "DNS-NO-QUERY: no lookup of %s was captured", x->to);
        }
        return;
    }
    if (priv && !any_established(x)) {
        const struct clookup *l = priv;
        ft_addr_str(&priv_addr, ip, sizeof(ip));
        copy_str(x->d->v_private, sizeof(x->d->v_private), ip);
        copy_str(x->d->v_ip, sizeof(x->d->v_ip), ip);
        copy_str(x->d->v_qname, sizeof(x->d->v_qname), l->qname);
        evidence(x, &l->response);
        evidence_dns(x, l);
        stage_set(x, STAGE_LOOKUP, STAGE_FAILED, "DNS-PRIVATE-ADDR",
                  "%s resolves to the private address %s, which %s cannot reach", l->qname, ip, x->from);
        x->decisive = true;
        return;
    }
    if (srv_ok) {
        if (!addr_ok && addr_bad && x->nout == 0) {
            copy_str(x->d->v_qname, sizeof(x->d->v_qname), addr_bad->qname);
            evidence(x, &addr_bad->response);
            evidence_dns(x, addr_bad);
            stage_set(x, STAGE_LOOKUP, STAGE_FAILED, "DNS-TARGET-NXDOMAIN",
                      "the SRV target %s does not resolve (%s)", addr_bad->qname,
                      dns_outcome_name((enum dns_outcome)addr_bad->outcome));
            x->decisive = addr_bad->has_response;
            return;
        }
        stage_set(x, STAGE_LOOKUP, STAGE_OK, NULL, "SRV %s answered", srv_ok->qname);
        return;
    }
    if (srv_dot) {
        copy_str(x->d->v_qname, sizeof(x->d->v_qname), srv_dot->qname);
        evidence(x, &srv_dot->response);
        evidence_dns(x, srv_dot);
        stage_set(x, STAGE_LOOKUP, STAGE_FAILED, "DNS-SRV-DOT", "%s says: no XMPP server here (target '.')",
                  srv_dot->qname);
        x->decisive = true;
        return;
    }
    if (addr_ok || any_established(x)) {
        /* No usable SRV, but the RFC 6120 fallback to the domain's own
         * address worked: informational only. */
        if (srv_bad)
            note(x, "%s: %s, fallback to the address of %s (RFC 6120 3.2.2)", srv_bad->qname,
                 dns_outcome_name((enum dns_outcome)srv_bad->outcome), x->to);
        stage_set(x, STAGE_LOOKUP, STAGE_OK, NULL, "%s", addr_ok ? "address lookup answered (SRV fallback)"
                                                                   : "connected without a visible answer");
        return;
    }
    {
        const struct clookup *l = srv_bad ? srv_bad : addr_bad;
        const char *code;
        switch (l->outcome) {
        case DNS_OUT_NXDOMAIN:
            code = l->qtype == DNS_T_SRV ? "DNS-SRV-NXDOMAIN" : "DNS-TARGET-NXDOMAIN";
            x->decisive = true;
            break;
        case DNS_OUT_NODATA:
            code = l->qtype == DNS_T_SRV ? "DNS-SRV-NODATA" : "DNS-TARGET-NXDOMAIN";
            x->decisive = true;
            break;
        case DNS_OUT_SERVFAIL:
        case DNS_OUT_REFUSED:
        case DNS_OUT_OTHER_RCODE:
            code = "DNS-SERVFAIL";
            x->decisive = true;
            break;
        case DNS_OUT_TRUNCATED:
            code = "DNS-TRUNC-NO-TCP";
            break;
        default:
            code = "DNS-TIMEOUT";
            break;
        }
        copy_str(x->d->v_qname, sizeof(x->d->v_qname), l->qname);
        copy_str(x->d->v_resolver, sizeof(x->d->v_resolver), ft_addr_str(&l->server, ip, sizeof(ip)));
        snprintf(x->d->v_n, sizeof(x->d->v_n), "%u", l->nqueries);
        evidence(x, l->has_response ? &l->response : &l->query);
        if (l->has_response)
            evidence(x, &l->query);
        evidence_dns(x, l);
        if (addr_bad && addr_bad != l) {
            evidence(x, addr_bad->has_response ? &addr_bad->response : &addr_bad->query);
            evidence_dns(x, addr_bad);
        }
        char tb[DNS_TYPE_NAME_BUFLEN];
        stage_set(x, STAGE_LOOKUP, STAGE_FAILED, code, "%s %s: %s%s", dns_type_name(l->qtype, tb, sizeof(tb)),
                  l->qname,
                  dns_outcome_name((enum dns_outcome)l->outcome),
                  addr_bad ? ", and the address fallback failed too" : "");
    }
}


static void eval_connect(struct dctx *x)
{
    struct cconn *rej = NULL, *s0 = NULL, *best = NULL;
    char a[80], s[24];

    for (unsigned i = 0; i < x->nout; i++) {
        struct cconn *k = x->out[i];
        add_conn_timeline(x, k, STAGE_CONNECT);
        if (k->established || k->midstream || k->nev > 0) {
            if (!best || conn_decided_ns(k) > conn_decided_ns(best) ||
                (conn_decided_ns(k) == conn_decided_ns(best) && conn_richness(k) > conn_richness(best)))
                best = k;
        } else if (k->rst.frame && k->rst_dir == FT_DIR_RESP) {
            rej = k;
        } else if (k->syn.frame) {
            s0 = k;
        }
    }
    x->main = best;
    if (failed(x))
        return;
    if (x->nout == 0) {
        if (x->d->stages[STAGE_LOOKUP] == STAGE_OK) {
            stage_set(x, STAGE_CONNECT, STAGE_NOT_SEEN, NULL, "no connection attempt from %s to %s seen", x->from,
                      x->to);
        }
        return;
    }
    if (best) {
        addr_port_str(a, sizeof(a), &best->addr[1], best->port[1]);
        if (best->midstream)
            stage_set(x, STAGE_CONNECT, STAGE_NOT_SEEN, NULL, "connection to %s was already open", a);
        else
            stage_set(x, STAGE_CONNECT, STAGE_OK, NULL, "connected to %s", a);
        return;
    }
    if (rej) {
        struct cconn *peer = rej->nat_peer;
        addr_port_str(a, sizeof(a), &rej->addr[1], rej->port[1]);
        ft_addr_str(&rej->addr[1], x->d->v_ip, sizeof(x->d->v_ip));
        snprintf(x->d->v_port, sizeof(x->d->v_port), "%u", rej->port[1]);
        evidence(x, &rej->syn);
        evidence(x, &rej->rst);
        evidence_flow(x, rej);
        x->decisive = true;
        if (peer && peer->port[1] != rej->port[1] && same_endpoint(peer, 0, rej, 0)) {
            /* The primary of the pair may be either view: the inside one
             * is the one that goes to a private address. */
            const struct cconn *pub = peer, *in = rej;
            char p[80], q[80];
            if (addr_is_private(&peer->addr[1]) && !addr_is_private(&rej->addr[1])) {
                pub = rej;
                in = peer;
            }
            addr_port_str(p, sizeof(p), &pub->addr[1], pub->port[1]);
            addr_port_str(q, sizeof(q), &in->addr[1], in->port[1]);
            evidence_flow(x, peer);
            copy_str(x->d->v_public, sizeof(x->d->v_public), p);
            copy_str(x->d->v_private, sizeof(x->d->v_private), q);
            stage_set(x, STAGE_CONNECT, STAGE_FAILED, "TCP-PAT-MISMATCH",
                      "%s is translated to %s, where nothing listens (reset)", p, q);
            return;
        }
        stage_set(x, STAGE_CONNECT, STAGE_FAILED, "TCP-RST", "%s refused the connection (reset)", a);
        return;
    }
    if (s0) {
        addr_port_str(a, sizeof(a), &s0->addr[1], s0->port[1]);
        ft_addr_str(&s0->addr[1], x->d->v_ip, sizeof(x->d->v_ip));
        snprintf(x->d->v_port, sizeof(x->d->v_port), "%u", s0->port[1]);
        snprintf(x->d->v_n, sizeof(x->d->v_n), "%u", s0->syn_count);
        evidence(x, &s0->syn);
        evidence_flow(x, s0);
        if (addr_is_private(&s0->addr[1]) && !s0->nat_peer) {
            copy_str(x->d->v_private, sizeof(x->d->v_private), x->d->v_ip);
            stage_set(x, STAGE_CONNECT, STAGE_FAILED, "DNS-PRIVATE-ADDR",
                      "%s tried the private address %s: %s, no answer", x->from, a,
                      ordinal_syns(s0->syn_count, s, sizeof(s)));
            return;
        }
        stage_set(x, STAGE_CONNECT, STAGE_FAILED, "TCP-NO-SYNACK", "%s to %s, never answered", 
                  ordinal_syns(s0->syn_count, s, sizeof(s)), a);
        if (x->c->nsources > 1 && !s0->nat_peer)
            note(x, "this connection attempt appears at one capture point only: it was not forwarded");
    }
}

/* The first stream error of a connection, and whether it came before any
 * negotiation (then it is the stream stage's failure). */
static const struct cev *stream_error(const struct cconn *k)
{
    return first_ev(k, CEV_STREAM_ERROR, -1);
}

static bool before_negotiation(const struct cconn *k, const struct cev *err)
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

static void fail_stream_error(struct dctx *x, enum fed_stage st, const struct cconn *k, const struct cev *err)
{
    char cond_up[64];
    size_t n = 0;
    const char *cond = err->cond ? err->cond : "undefined-condition";
    for (; cond[n] && n < sizeof(cond_up) - 1; n++)
        cond_up[n] = (char)(cond[n] >= 'a' && cond[n] <= 'z' ? cond[n] - 32 : cond[n]);
    cond_up[n] = '\0';
    copy_str(x->d->v_cond, sizeof(x->d->v_cond), cond);
    copy_str(x->d->v_text, sizeof(x->d->v_text), err->text);
    evidence(x, &err->ref);
    evidence_flow(x, k);
    x->decisive = true;
    {
        char want[80];
        const struct verdict_info *vi;
        snprintf(want, sizeof(want), "STR-%s", cond_up);
        vi = verdict_lookup(want);
        stage_set(x, st, STAGE_FAILED, vi ? vi->code : "STR-UNDEFINED-CONDITION",
                  "%s sent stream error <%s/>%s%s", err->dir == FT_DIR_ORIG ? x->from : x->to, cond,
                  err->text ? ": " : "", err->text ? err->text : "");
    }
}

static void eval_stream(struct dctx *x)
{
    struct cconn *k = x->main;
    const struct cev *ho, *hr, *err, *xerr;
    if (failed(x) || !k)
        return;
    ho = first_ev(k, CEV_OPEN, FT_DIR_ORIG);
    hr = first_ev(k, CEV_OPEN, FT_DIR_RESP);
    err = stream_error(k);
    xerr = first_ev(k, CEV_XML_ERROR, FT_DIR_ORIG);
    if (xerr && !ho && !k->midstream) {
        evidence(x, &xerr->ref);
        evidence_flow(x, k);
        x->decisive = true;
        stage_set(x, STAGE_STREAM, STAGE_FAILED, "STR-NO-HEADER", "%s sent %s instead of an XMPP stream header",
                  x->from, xerr->cond && strcmp(xerr->cond, "tls-in-xml") == 0 ? "TLS" : "something else");
        return;
    }
    if (!ho && !hr) {
        if (k->midstream) {
            stage_set(x, STAGE_STREAM, STAGE_NOT_SEEN, NULL, "stream opened before the capture started");
            note(x, "CAP-MIDSTREAM: the capture started after this connection was set up");
        } else if (k->app == APP_XMPP_TLS) {
            stage_set(x, STAGE_STREAM, STAGE_OPAQUE, NULL, "direct TLS (XEP-0368): stream inside TLS");
            x->opaque = true;
        } else if (!k->bytes[FT_DIR_ORIG] && k->established) {
            evidence(x, &k->synack);
            evidence_flow(x, k);
            stage_set(x, STAGE_STREAM, STAGE_NOT_SEEN, NULL, "connected, but %s never sent a stream header", x->from);
        }
        return;
    }
    if (ho && (ho->flags & F_JCLIENT)) {
        evidence(x, &ho->ref);
        evidence_flow(x, k);
        x->decisive = true;
        stage_set(x, STAGE_STREAM, STAGE_FAILED, "STR-NS", "%s opened a client (jabber:client) stream on the s2s port",
                  x->from);
        return;
    }
    if (hr && (hr->flags & F_JCLIENT) && !(ho && (ho->flags & F_JCLIENT))) {
        /* The server-to-server stream reached a client listener (SRV or
         * forwarding to the c2s port): taxonomy STR-NS, whatever error
         * (invalid-namespace, usually) follows. */
        const struct cev *e = stream_error(k);
        evidence(x, &hr->ref);
        if (e)
            evidence(x, &e->ref);
        evidence_flow(x, k);
        x->decisive = true;
        stage_set(x, STAGE_STREAM, STAGE_FAILED, "STR-NS",
                  "%s answered with a client (jabber:client) stream: port %u is a c2s listener", x->to, k->port[1]);
        return;
    }
    if (err && before_negotiation(k, err)) {
        fail_stream_error(x, STAGE_STREAM, k, err);
        return;
    }
    if (ho && !hr) {
        bool closed = k->rst.frame || k->fin[0].frame || k->fin[1].frame;
        evidence(x, &ho->ref);
        evidence_flow(x, k);
        if (closed || x->c->capture_end_ns - ho->ref.ts_ns > 10 * FT_NS_PER_SEC) {
            stage_set(x, STAGE_STREAM, STAGE_FAILED, "STR-NO-RESPONSE",
                      "%s opened its stream, %s never answered with its own", x->from, x->to);
        } else {
            stage_set(x, STAGE_STREAM, STAGE_NOT_SEEN, NULL, "no answer to the stream header before the capture ended");
        }
        return;
    }
    stage_set(x, STAGE_STREAM, STAGE_OK, NULL, "stream headers exchanged%s%s%s", hr && hr->id ? " (id " : "",
              hr && hr->id ? hr->id : "", hr && hr->id ? ")" : "");
}

static void eval_tls(struct dctx *x)
{
    struct cconn *k = x->main;
    const struct cev *feats, *st, *fail, *alert, *done, *desync, *hello;
    if (failed(x) || !k || x->opaque)
        return;
    if (x->d->stages[STAGE_STREAM] != STAGE_OK)
        return;
    feats = first_ev(k, CEV_FEATURES, FT_DIR_RESP);
    st = first_ev(k, CEV_STARTTLS, FT_DIR_ORIG);
    fail = first_ev(k, CEV_TLS_FAILURE, -1);
    done = first_ev(k, CEV_TLS_DONE, -1);
    desync = first_ev(k, CEV_CLEARTEXT_AFTER_STARTTLS, -1);
    hello = first_ev(k, CEV_TLS_HELLO, FT_DIR_ORIG);
    if (!st && !hello) {
        if (feats && (feats->flags & F_REQUIRED)) {
            const struct cev *err = stream_error(k);
            evidence(x, &feats->ref);
            evidence_flow(x, k);
            if (err)
                evidence(x, &err->ref);
            x->decisive = err != NULL;
            stage_set(x, STAGE_TLS, STAGE_FAILED, "TLS-REQUIRED-MISSING",
                      "%s requires STARTTLS, %s never started it", x->to, x->from);
            return;
        }
        stage_set(x, STAGE_TLS, STAGE_SKIPPED, NULL, "%s", feats && (feats->flags & F_STARTTLS)
                                                                ? "STARTTLS offered, not used"
                                                                : "no STARTTLS");
        return;
    }
    if (fail) {
        evidence(x, &fail->ref);
        evidence_flow(x, k);
        x->decisive = true;
        stage_set(x, STAGE_TLS, STAGE_FAILED, "TLS-FAILURE", "%s could not start TLS (<failure/>)", x->to);
        return;
    }
    if (desync) {
        evidence(x, &desync->ref);
        evidence_flow(x, k);
        x->decisive = true;
        stage_set(x, STAGE_TLS, STAGE_FAILED, "TLS-DESYNC", "XML continued after STARTTLS instead of TLS");
        return;
    }
    /* An alert after ChangeCipherSpec is encrypted: its level and reason
     * are unreadable and it is most often close_notify, so it proves
     * nothing by itself (the close timing below still counts). */
    alert = NULL;
    for (unsigned j = 0; j < k->nev && !alert; j++)
        if (k->ev[j].type == CEV_TLS_ALERT && k->ev[j].cond && strcmp(k->ev[j].cond, "close_notify") != 0 &&
            strcmp(k->ev[j].cond, "encrypted") != 0)
            alert = &k->ev[j];
    if (alert) {
        const char *by = alert->dir == FT_DIR_ORIG ? x->from : x->to;
        copy_str(x->d->v_alert, sizeof(x->d->v_alert), alert->cond);
        evidence(x, &alert->ref);
        evidence_flow(x, k);
        x->decisive = true;
        stage_set(x, STAGE_TLS, STAGE_FAILED, "TLS-ALERT", "%s sent TLS alert %s", by, alert->cond ? alert->cond : "?");
        return;
    }
    if (!done) {
        bool closed = k->rst.frame || k->fin[0].frame || k->fin[1].frame;
        if (closed) {
            evidence(x, hello ? &hello->ref : &st->ref);
            evidence_flow(x, k);
            stage_set(x, STAGE_TLS, STAGE_FAILED, "TLS-FAILURE", "the TLS handshake never completed");
        } else {
            stage_set(x, STAGE_TLS, STAGE_NOT_SEEN, NULL, "TLS handshake not complete when the capture ended");
        }
        return;
    }
    x->opaque = true;
    stage_set(x, STAGE_TLS, STAGE_OK, NULL, "TLS established");
    note(x, "CAP-ENCRYPTED: dialback and stanzas run inside TLS and cannot be seen");
    /* Closed within a second of the handshake with no sign of success:
     * most likely a certificate rejection nobody can read. */
    {
        /* The first close of either side (a late FIN from the other side
         * must not hide a close right after the handshake). */
        struct frame_ref end = { 0, 0, 0, 0 };
        const struct frame_ref *ends[3] = { &k->rst, &k->fin[0], &k->fin[1] };
        for (int i = 0; i < 3; i++)
            if (ends[i]->frame && (!end.frame || ends[i]->ts_ns < end.ts_ns))
                end = *ends[i];
        if (end.frame && end.ts_ns - done->ref.ts_ns < FT_NS_PER_SEC &&
            k->bytes[0] + k->bytes[1] < 16384) {
            evidence(x, &done->ref);
            evidence(x, &end);
            evidence_flow(x, k);
            stage_set(x, STAGE_TLS, STAGE_FAILED, "TLS-CLOSED-AFTER-HANDSHAKE",
                      "the connection closed right after the TLS handshake");
        }
    }
}

/* A db:verify request for a key: sent by `verifier` about `claimed`. */
static const struct cev *find_verify(const struct correlator *c, const char *verifier, const char *claimed,
                                     const char *stream_id, int64_t after, const struct cconn **on)
{
    for (unsigned i = 0; i < c->nconns; i++) {
        const struct cconn *k = c->conns[i];
        if (!k->s2s || k->secondary)
            continue;
        for (unsigned e = 0; e < k->nev; e++) {
            const struct cev *v = &k->ev[e];
            if (v->type != CEV_DB_VERIFY || v->sub != XMPP_DB_NONE || v->ref.ts_ns < after)
                continue;
            if (!v->from || !v->to || strcasecmp(v->from, verifier) != 0 || strcasecmp(v->to, claimed) != 0)
                continue;
            if (stream_id && v->id && strcmp(stream_id, v->id) != 0)
                continue;
            *on = k;
            return v;
        }
    }
    return NULL;
}

/* The answer to a verify request on the same connection. */
static const struct cev *verify_answer(const struct cconn *k, const struct cev *req)
{
    for (unsigned e = 0; e < k->nev; e++) {
        const struct cev *v = &k->ev[e];
        if (v->type == CEV_DB_VERIFY && v->dir != req->dir && v->sub != XMPP_DB_NONE &&
            v->ref.ts_ns >= req->ref.ts_ns && (!req->id || !v->id || strcmp(req->id, v->id) == 0))
            return v;
    }
    return NULL;
}

/* Connection attempts by the receiving side back to the originating
 * domain (the dialback connect-back), after `after`. */
static void connect_back_attempts(struct dctx *x, int64_t after, struct cconn **failed_out,
                                  struct cconn **ok_out)
{
    *failed_out = *ok_out = NULL;
    for (unsigned i = 0; i < x->c->nconns; i++) {
        struct cconn *k = x->c->conns[i];
        if (!k->s2s || k->secondary || conn_start(k) < after - FT_NS_PER_SEC)
            continue;
        if (strcmp(k->dom_from, x->to) != 0 || strcmp(k->dom_to, x->from) != 0)
            continue;
        add_tcp_timeline(x, k, STAGE_AUTH);
        if (k->established || k->nev)
            *ok_out = k;
        else if (!*failed_out)
            *failed_out = k;
    }
}

static void eval_auth(struct dctx *x)
{
    struct cconn *k = x->main;
    const struct cev *sasl, *dbr = NULL, *ans = NULL, *err;
    const char *sid = NULL;
    if (failed(x) || !k)
        return;
    if (x->opaque) {
        if (k->stanzas[FT_DIR_ORIG] == 0)
            stage_set(x, STAGE_AUTH, STAGE_OPAQUE, NULL, "inside TLS");
        return;
    }
    sasl = first_ev(k, CEV_SASL_AUTH, FT_DIR_ORIG);
    if (sasl) {
        const struct cev *ok = first_ev(k, CEV_SASL_SUCCESS, FT_DIR_RESP);
        const struct cev *no = first_ev(k, CEV_SASL_FAILURE, FT_DIR_RESP);
        if (ok) {
            stage_set(x, STAGE_AUTH, STAGE_OK, NULL, "SASL %s accepted", sasl->text ? sasl->text : "");
            return;
        }
        if (no) {
            copy_str(x->d->v_cond, sizeof(x->d->v_cond), no->cond);
            evidence(x, &no->ref);
            evidence(x, &sasl->ref);
            evidence_flow(x, k);
            x->decisive = true;
            stage_set(x, STAGE_AUTH, STAGE_FAILED, "SASL-FAIL", "%s refused SASL %s (%s)", x->to,
                      sasl->text ? sasl->text : "", no->cond ? no->cond : "failure");
            return;
        }
    }
    for (unsigned i = 0; i < k->nev; i++) {
        const struct cev *e = &k->ev[i];
        if (e->type != CEV_DB_RESULT)
            continue;
        if (e->dir == FT_DIR_ORIG && e->sub == XMPP_DB_NONE && !dbr)
            dbr = e;
        else if (e->dir == FT_DIR_RESP && e->sub != XMPP_DB_NONE && dbr && !ans)
            ans = e;
    }
    err = stream_error(k);
    if (!dbr) {
        if (err && !before_negotiation(k, err)) {
            fail_stream_error(x, STAGE_AUTH, k, err);
            return;
        }
        if (k->stanzas[FT_DIR_ORIG] > 0) {
            stage_set(x, STAGE_AUTH, STAGE_NOT_SEEN, NULL, "stanzas flow, authentication not seen");
            x->inferred_ok = true;
        }
        return;
    }
    {
        const struct cev *hr = first_ev(k, CEV_OPEN, FT_DIR_RESP);
        sid = hr && hr->id && *hr->id ? hr->id : NULL;
    }
    /* The receiving server checks the key by asking the originating
     * domain's authoritative server over a connection of its own. */
    {
        const struct cconn *vk = NULL;
        const struct cev *vreq = find_verify(x->c, x->to, x->from, sid, dbr->ref.ts_ns, &vk);
        const struct cev *vans = vreq ? verify_answer(vk, vreq) : NULL;
        char peer[80];
        if (vreq) {
            addr_port_str(peer, sizeof(peer), &vk->addr[vreq->dir == FT_DIR_ORIG ? 1 : 0],
                          vk->port[vreq->dir == FT_DIR_ORIG ? 1 : 0]);
            copy_str(x->d->v_peer, sizeof(x->d->v_peer), peer);
            add_ev_timeline(x, vk, vreq);
            if (vans)
                add_ev_timeline(x, vk, vans);
        }
        if (ans && ans->sub == XMPP_DB_VALID) {
            stage_set(x, STAGE_AUTH, STAGE_OK, NULL, "dialback valid%s%s", vreq ? ", verified via " : "",
                      vreq ? peer : "");
            if (!vreq)
                note(x, "no db:verify seen for this key (verified on a connection not captured, or XEP-0344 shortcut)");
            return;
        }
        if (ans && ans->sub == XMPP_DB_INVALID) {
            evidence(x, &ans->ref);
            evidence(x, &dbr->ref);
            if (vans)
                evidence(x, &vans->ref);
            evidence_flow(x, k);
            if (vk)
                evidence_flow(x, vk);
            x->decisive = true;
            if (vans && vans->sub == XMPP_DB_INVALID && vk) {
                /* Who answered for the originating domain, against where its
                 * key really came from: a different host means the receiving
                 * side's DNS for that domain leads somewhere else. */
                const struct ft_addr *answerer = &vk->addr[vreq->dir == FT_DIR_ORIG ? 1 : 0];
                bool elsewhere = !ft_addr_eq(answerer, &k->addr[FT_DIR_ORIG]) &&
                                 !(k->nat_peer && ft_addr_eq(answerer, &k->nat_peer->addr[FT_DIR_ORIG]));
                if (elsewhere) {
                    char sender[80];
                    addr_port_str(sender, sizeof(sender), &k->addr[FT_DIR_ORIG], k->port[FT_DIR_ORIG]);
                    copy_str(x->d->v_ip, sizeof(x->d->v_ip), peer);
                    stage_set(x, STAGE_AUTH, STAGE_FAILED, "DB-WRONG-AUTH",
                              "%s checked the key of %s with %s, which answered 'invalid'; the key came from %s: "
                              "%s's DNS as %s sees it points to another server",
                              x->to, x->from, peer, sender, x->from, x->to);
                } else {
                    stage_set(x, STAGE_AUTH, STAGE_FAILED, "DB-INVALID",
                              "%s rejected the dialback key of %s: %s itself answered the verification with 'invalid'",
                              x->to, x->from, peer);
                }
            } else {
                stage_set(x, STAGE_AUTH, STAGE_FAILED, "DB-INVALID", "%s rejected the dialback key of %s",
                          x->to, x->from);
            }
            return;
        }
        if (ans && ans->sub == XMPP_DB_ERROR) {
            copy_str(x->d->v_cond, sizeof(x->d->v_cond), ans->cond);
            copy_str(x->d->v_text, sizeof(x->d->v_text), ans->text);
            evidence(x, &ans->ref);
            evidence(x, &dbr->ref);
            evidence_flow(x, k);
            x->decisive = true;
            if (ans->cond && (strcmp(ans->cond, "remote-connection-failed") == 0 ||
                              strcmp(ans->cond, "remote-server-not-found") == 0 ||
                              strcmp(ans->cond, "remote-server-timeout") == 0)) {
                struct cconn *bad, *good;
                connect_back_attempts(x, dbr->ref.ts_ns, &bad, &good);
                if (bad) {
                    evidence(x, &bad->syn);
                    evidence_flow(x, bad);
                }
                stage_set(x, STAGE_AUTH, STAGE_FAILED, "DB-NO-BACKCONN",
                          "%s could not connect back to %s to verify the key (%s)", x->to, x->from, ans->cond);
                return;
            }
            stage_set(x, STAGE_AUTH, STAGE_FAILED, "DB-ERROR", "dialback error from %s: %s", x->to,
                      ans->cond ? ans->cond : "?");
            return;
        }
        /* No answer.  Did the receiving side try to call back? */
        {
            struct cconn *bad, *good;
            int64_t waited = (err ? err->ref.ts_ns : x->c->capture_end_ns) - dbr->ref.ts_ns;
            connect_back_attempts(x, dbr->ref.ts_ns, &bad, &good);
            evidence(x, &dbr->ref);
            evidence_flow(x, k);
            snprintf(x->d->v_seconds, sizeof(x->d->v_seconds), "%.1f", (double)waited / 1e9);
            if (vreq && !vans) {
                evidence(x, &vreq->ref);
                stage_set(x, STAGE_AUTH, STAGE_FAILED, "DB-TIMEOUT",
                          "%s asked %s to verify the key, no answer came", x->to, peer);
                return;
            }
            if (bad && !vreq) {
                char a[80], s[24], inside[80] = "";
                /* Seen on both sides of the NAT: cite the address the
                 * receiving side dialled, and where the NAT sent it. */
                const struct cconn *pub = bad, *twin = bad->nat_peer;
                if (twin && addr_is_private(&bad->addr[FT_DIR_RESP]) && !addr_is_private(&twin->addr[FT_DIR_RESP])) {
                    pub = twin;
                    twin = bad;
                }
                if (twin && same_endpoint(pub, 0, twin, 0))
                    addr_port_str(inside, sizeof(inside), &twin->addr[1], twin->port[1]);
                addr_port_str(a, sizeof(a), &pub->addr[1], pub->port[1]);
                copy_str(x->d->v_ip, sizeof(x->d->v_ip), a);
                if (inside[0]) {
                    copy_str(x->d->v_public, sizeof(x->d->v_public), a);
                    copy_str(x->d->v_private, sizeof(x->d->v_private), inside);
                }
                snprintf(x->d->v_n, sizeof(x->d->v_n), "%u", bad->syn_count);
                evidence(x, &pub->syn);
                if (pub->rst.frame)
                    evidence(x, &pub->rst);
                evidence_flow(x, pub);
                if (inside[0]) {
                    evidence(x, &twin->syn);
                    if (twin->rst.frame)
                        evidence(x, &twin->rst);
                    evidence_flow(x, twin);
                }
                x->decisive = true;
                stage_set(x, STAGE_AUTH, STAGE_FAILED, "DB-NO-BACKCONN",
                          "%s tried to connect back to %s at %s%s%s%s for dialback: %s", x->to, x->from, a,
                          inside[0] ? " (translated to " : "", inside, inside[0] ? ")" : "",
                          bad->rst.frame ? "refused" : ordinal_syns(bad->syn_count, s, sizeof(s)));
                if (inside[0] && pub->port[1] != twin->port[1])
                    note(x, "the NAT sends %s to %s, a different port than the one dialled (TCP-PAT-MISMATCH)", a,
                         inside);
                else if (addr_is_private(&pub->addr[FT_DIR_RESP]))
                    note(x, "the connect-back went to a private address: %s's DNS as %s sees it is wrong "
                            "(DNS-PRIVATE-ADDR)", x->from, x->to);
                else if (!bad->rst.frame)
                    note(x, "the connect-back SYNs were never answered: inbound 5269 is blocked or not translated");
                return;
            }
            if (err) {
                copy_str(x->d->v_cond, sizeof(x->d->v_cond), err->cond);
                evidence(x, &err->ref);
                if (err->cond && (strcmp(err->cond, "not-authorized") == 0)) {
                    fail_stream_error(x, STAGE_AUTH, k, err);
                    return;
                }
                stage_set(x, STAGE_AUTH, STAGE_FAILED, "DB-NO-BACKCONN",
                          "no answer to the dialback key of %s; the stream ended with <%s/> after %s s", x->from,
                          err->cond ? err->cond : "?", x->d->v_seconds);
                return;
            }
            if (waited >= x->c->cfg.dialback_timeout_ns) {
                stage_set(x, STAGE_AUTH, STAGE_FAILED, "DB-NO-BACKCONN",
                          "no answer to the dialback key of %s within %s s, and no connect-back from %s seen",
                          x->from, x->d->v_seconds, x->to);
                return;
            }
            stage_set(x, STAGE_AUTH, STAGE_NOT_SEEN, NULL, "dialback pending when the capture ended (%s s)",
                      x->d->v_seconds);
        }
    }
}

/* The domain a client connection serves: the `to` of the client's stream
 * header, or the `from` of the server's. */
static bool c2s_domain(const struct cconn *k, char *out, size_t len)
{
    const struct cev *ho = first_ev(k, CEV_OPEN, FT_DIR_ORIG), *hr = first_ev(k, CEV_OPEN, FT_DIR_RESP);
    if (ho && ho->to && *ho->to)
        jid_domain(ho->to, out, len);
    else if (hr && hr->from && *hr->from)
        jid_domain(hr->from, out, len);
    else
        return false;
    return out[0] != '\0';
}

static bool jid_eq_bare(const char *a, const char *b)
{
    char x[STR_CAP], y[STR_CAP];
    jid_bare(a, x, sizeof(x));
    jid_bare(b, y, sizeof(y));
    return x[0] && strcasecmp(x, y) == 0;
}

static void eval_subscribe(struct dctx *x)
{
    const struct cev *sub = NULL, *ansr = NULL;
    const struct cconn *subk = NULL, *ansk = NULL;
    char df[STR_CAP], dt[STR_CAP];

    if (failed(x))
        return;
    /* The last subscribe from a user of `from` to a user of `to`. */
    for (unsigned i = 0; i < x->c->nconns; i++) {
        const struct cconn *k = x->c->conns[i];
        if (!k->s2s || k->secondary)
            continue;
        for (unsigned e = 0; e < k->nev; e++) {
            const struct cev *v = &k->ev[e];
            if (v->type != CEV_STANZA || v->flags != XMPP_STANZA_PRESENCE || v->sub != XMPP_PRES_SUBSCRIBE)
                continue;
            jid_domain(v->from, df, sizeof(df));
            jid_domain(v->to, dt, sizeof(dt));
            if (strcasecmp(df, x->from) != 0 || strcasecmp(dt, x->to) != 0)
                continue;
            if (!sub || v->ref.ts_ns > sub->ref.ts_ns) {
                sub = v;
                subk = k;
            }
        }
    }
    /* The client side (5222), when captured: the subscribe as the user
     * sent it, and what the server told the user back. */
    const struct cev *csub = NULL, *cans = NULL;
    const struct cconn *ck = NULL;
    for (unsigned i = 0; i < x->c->nconns; i++) {
        const struct cconn *k = x->c->conns[i];
        char dom[STR_CAP];
        if (!k->c2s || !c2s_domain(k, dom, sizeof(dom)) || strcasecmp(dom, x->from) != 0)
            continue;
        for (unsigned e = 0; e < k->nev; e++) {
            const struct cev *v = &k->ev[e];
            if (v->type != CEV_STANZA || v->flags != XMPP_STANZA_PRESENCE || v->dir != FT_DIR_ORIG ||
                v->sub != XMPP_PRES_SUBSCRIBE)
                continue;
            jid_domain(v->to, dt, sizeof(dt));
            if (strcasecmp(dt, x->to) != 0)
                continue;
            if (!csub || v->ref.ts_ns > csub->ref.ts_ns) {
                csub = v;
                ck = k;
            }
        }
    }
    if (csub) {
        add_ev_timeline(x, ck, csub);
        for (unsigned e = 0; e < ck->nev; e++) {
            const struct cev *v = &ck->ev[e];
            if (v->type == CEV_STANZA && v->flags == XMPP_STANZA_PRESENCE && v->dir == FT_DIR_RESP &&
                v->ref.ts_ns >= csub->ref.ts_ns && jid_eq_bare(v->from, csub->to) &&
                (v->sub == XMPP_PRES_SUBSCRIBED || v->sub == XMPP_PRES_UNSUBSCRIBED || v->sub == XMPP_PRES_ERROR)) {
                cans = v;
                add_ev_timeline(x, ck, v);
                break;
            }
        }
    }
    if (!sub && csub) {
        /* The user asked; nothing crossed s2s. */
        evidence(x, &csub->ref);
        evidence_flow(x, ck);
        if (cans && cans->sub == XMPP_PRES_ERROR) {
            evidence(x, &cans->ref);
            copy_str(x->d->v_cond, sizeof(x->d->v_cond), cans->cond);
            x->decisive = true;
            stage_set(x, STAGE_SUBSCRIBE, STAGE_FAILED,
                      cans->cond && strcmp(cans->cond, "remote-server-not-found") == 0 ? "STZ-BOUNCE-RSNF"
                      : cans->cond && strcmp(cans->cond, "remote-server-timeout") == 0 ? "STZ-BOUNCE-RST"
                      : cans->cond && strcmp(cans->cond, "service-unavailable") == 0   ? "STZ-SVC-UNAVAIL"
                                                                                       : "STZ-ERROR",
                      "%s bounced the subscription to %s back to the user: %s", x->from,
                      csub->to ? csub->to : x->to, cans->cond ? cans->cond : "error");
            return;
        }
        if (x->d->stages[STAGE_AUTH] == STAGE_OK) {
            stage_set(x, STAGE_SUBSCRIBE, STAGE_FAILED, "STZ-SUB-NOT-SENT",
                      "the user's subscribe to %s was never relayed over s2s", csub->to ? csub->to : x->to);
            return;
        }
        stage_set(x, STAGE_SUBSCRIBE, STAGE_NOT_SEEN, NULL, "the user asked to subscribe to %s; no s2s relay seen",
                  csub->to ? csub->to : x->to);
        return;
    }
    if (!sub)
        return;
    add_ev_timeline(x, subk, sub);
    for (unsigned i = 0; i < x->c->nconns; i++) {
        const struct cconn *k = x->c->conns[i];
        if (k->secondary)
            continue;
        for (unsigned e = 0; e < k->nev; e++) {
            const struct cev *v = &k->ev[e];
            if (v->type != CEV_STANZA || v->flags != XMPP_STANZA_PRESENCE || v->ref.ts_ns < sub->ref.ts_ns)
                continue;
            if (v->sub != XMPP_PRES_SUBSCRIBED && v->sub != XMPP_PRES_UNSUBSCRIBED && v->sub != XMPP_PRES_ERROR)
                continue;
            if (!jid_eq_bare(v->from, sub->to) || !jid_eq_bare(v->to, sub->from))
                continue;
            if (!ansr || v->ref.ts_ns < ansr->ref.ts_ns) {
                ansr = v;
                ansk = k;
            }
        }
    }
    if (ansr)
        add_ev_timeline(x, ansk, ansr);
    if (ansr && ansr->sub == XMPP_PRES_SUBSCRIBED) {
        stage_set(x, STAGE_SUBSCRIBE, STAGE_OK, NULL, "%s approved the subscription of %s", ansr->from, sub->from);
        return;
    }
    evidence(x, &sub->ref);
    evidence_flow(x, subk);
    if (ansr) {
        evidence(x, &ansr->ref);
        evidence_flow(x, ansk);
        x->decisive = true;
        if (ansr->sub == XMPP_PRES_UNSUBSCRIBED) {
            stage_set(x, STAGE_SUBSCRIBE, STAGE_FAILED, "STZ-UNSUBSCRIBED", "%s refused the subscription of %s",
                      ansr->from ? ansr->from : x->to, sub->from ? sub->from : x->from);
            return;
        }
        copy_str(x->d->v_cond, sizeof(x->d->v_cond), ansr->cond);
        stage_set(x, STAGE_SUBSCRIBE, STAGE_FAILED,
                  ansr->cond && strcmp(ansr->cond, "remote-server-not-found") == 0 ? "STZ-BOUNCE-RSNF"
                  : ansr->cond && strcmp(ansr->cond, "service-unavailable") == 0 ? "STZ-SVC-UNAVAIL"
                                                                                 : "STZ-ERROR",
                  "the subscription to %s bounced with %s", sub->to ? sub->to : x->to,
                  ansr->cond ? ansr->cond : "an error");
        return;
    }
    {
        int64_t waited = x->c->capture_end_ns - sub->ref.ts_ns;
        snprintf(x->d->v_seconds, sizeof(x->d->v_seconds), "%.0f", (double)waited / 1e9);
        /* Unanswered when the capture ends: pending.  Before the timeout
         * the capture may simply have stopped too early (low confidence). */
        stage_set(x, STAGE_SUBSCRIBE, STAGE_FAILED, "STZ-SUB-PENDING",
                  "%s asked to subscribe to %s; no answer in the %s s the capture still ran",
                  sub->from ? sub->from : x->from, sub->to ? sub->to : x->to, x->d->v_seconds);
        if (waited < x->c->cfg.subscribe_timeout_ns)
            x->low_confidence = true;
    }
}

/* ---- one direction, start to end ---------------------------------------- */

static int by_start(const void *a, const void *b)
{
    const struct cconn *x = *(struct cconn *const *)a, *y = *(struct cconn *const *)b;
    int64_t sx = conn_start(x), sy = conn_start(y);
    if (sx != sy)
        return sx < sy ? -1 : 1;
    return x->flow_id < y->flow_id ? -1 : x->flow_id > y->flow_id;
}

static int by_frame(const void *a, const void *b)
{
    const struct corr_tl *x = a, *y = b;
    if (x->ref.ts_ns != y->ref.ts_ns)
        return x->ref.ts_ns < y->ref.ts_ns ? -1 : 1;
    if (x->ref.frame != y->ref.frame)
        return x->ref.frame < y->ref.frame ? -1 : 1;
    return strcmp(x->what, y->what);
}

static const char *downgrade(const char *conf)
{
    return strcmp(conf, "high") == 0 ? "medium" : "low";
}

static void eval_direction(struct correlator *c, struct corr_direction *d)
{
    struct dctx x;
    struct corr_verdict *v = &d->verdict;
    bool gaps = false, midstream = false, badcsum = false;

    memset(&x, 0, sizeof(x));
    x.c = c;
    x.d = d;
    x.from = d->from;
    x.to = d->to;
    v->status = CORR_UNKNOWN;
    for (unsigned i = 0; i < c->nconns && x.nout < 64; i++) {
        struct cconn *k = c->conns[i];
        if (k->s2s && !k->secondary && strcmp(k->dom_from, d->from) == 0 && strcmp(k->dom_to, d->to) == 0)
            x.out[x.nout++] = k;
    }
    qsort(x.out, x.nout, sizeof(x.out[0]), by_start);
    for (unsigned i = 0; i < c->nlookups && x.nlk < 64; i++)
        if (lookup_is_for(c, c->lookups[i], d->to))
            x.lk[x.nlk++] = c->lookups[i];

    eval_lookup(&x);
    eval_connect(&x);
    eval_stream(&x);
    eval_tls(&x);
    eval_auth(&x);
    eval_subscribe(&x);

    for (unsigned i = 0; i < x.nout; i++) {
        const struct cconn *k = x.out[i];
        gaps |= k->gaps[0] || k->gaps[1];
        midstream |= k->midstream;
        badcsum |= k->badcsum[0] || k->badcsum[1];
    }
    if (v->status == CORR_FAILED) {
        v->confidence = x.decisive ? "high" : "medium";
        if ((v->code && strcmp(v->code, "TLS-CLOSED-AFTER-HANDSHAKE") == 0) || x.low_confidence)
            v->confidence = "low";
        copy_str(v->summary, sizeof(v->summary), d->stage_detail[v->stage]);
    } else {
        bool auth_ok = d->stages[STAGE_AUTH] == STAGE_OK, sub_ok = d->stages[STAGE_SUBSCRIBE] == STAGE_OK;
        bool flowing = false;
        for (unsigned i = 0; i < x.nout; i++)
            flowing |= x.out[i]->stanzas[FT_DIR_ORIG] > 0;
        if (auth_ok || sub_ok) {
            v->status = CORR_OK;
            v->code = "OK";
            v->confidence = "high";
            v->stage = sub_ok ? STAGE_SUBSCRIBE : STAGE_AUTH;
            snprintf(v->summary, sizeof(v->summary), "%s -> %s works: %s%s%s", d->from, d->to,
                     d->stage_detail[STAGE_AUTH], sub_ok ? "; " : "", sub_ok ? d->stage_detail[STAGE_SUBSCRIBE] : "");
        } else if (flowing || x.inferred_ok) {
            v->status = CORR_OK;
            v->code = "OK";
            v->confidence = "medium";
            v->stage = STAGE_AUTH;
            snprintf(v->summary, sizeof(v->summary), "%s -> %s carries stanzas (authentication not seen)", d->from,
                     d->to);
        } else if (x.opaque && x.main && x.main->last_ns - x.main->first_ns > 5 * FT_NS_PER_SEC &&
                   !x.main->rst.frame) {
            v->status = CORR_OK;
            v->code = "OK";
            v->confidence = "low";
            v->stage = STAGE_TLS;
            snprintf(v->summary, sizeof(v->summary),
                     "%s -> %s: TLS established and the connection stayed up; what it carries is encrypted", d->from,
                     d->to);
        } else {
            int last = -1;
            for (int s = 0; s < STAGE_CAPTURE; s++)
                if (d->stages[s] == STAGE_OK || d->stages[s] == STAGE_SKIPPED)
                    last = s;
            v->status = CORR_UNKNOWN;
            v->stage = last < 0 ? STAGE_LOOKUP : (enum fed_stage)last;
            v->code = x.opaque ? "CAP-ENCRYPTED" : midstream ? "CAP-MIDSTREAM" : gaps ? "CAP-GAPS" : "CAP-NOTHING";
            v->confidence = "low";
            if (last < 0)
                snprintf(v->summary, sizeof(v->summary), "%s -> %s: not enough was captured to judge any stage",
                         d->from, d->to);
            else
                snprintf(v->summary, sizeof(v->summary),
                         "%s -> %s: not enough was captured to judge what followed the %s stage (%s)", d->from,
                         d->to, fed_stage_name((enum fed_stage)last), d->stage_detail[last]);
        }
        if (x.main)
            evidence_flow(&x, x.main);
    }
    if (gaps) {
        note(&x, "CAP-GAPS: the capture missed data on this federation's connections");
        v->confidence = downgrade(v->confidence);
    }
    if (midstream && v->status != CORR_UNKNOWN) {
        bool noted = false; /* eval_stream may have said it already */
        for (unsigned i = 0; i < v->n_notes; i++)
            noted |= strncmp(v->notes[i], "CAP-MIDSTREAM", 13) == 0;
        if (!noted)
            note(&x, "CAP-MIDSTREAM: a connection was already open when the capture started");
        v->confidence = downgrade(v->confidence);
    }
    if (badcsum)
        note(&x, "CAP-BAD-CSUM: bad TCP checksums (NIC offload on the capture host); ignored");
    /* Placeholder values for the advice. */
    v->vars.from = d->from;
    v->vars.to = d->to;
    v->vars.remote = d->to;
    v->vars.local = d->from;
    v->vars.qname = d->v_qname[0] ? d->v_qname : NULL;
    v->vars.resolver = d->v_resolver[0] ? d->v_resolver : NULL;
    v->vars.ip = d->v_ip[0] ? d->v_ip : NULL;
    v->vars.port = d->v_port[0] ? d->v_port : NULL;
    v->vars.peer = d->v_peer[0] ? d->v_peer : NULL;
    v->vars.public_ip = d->v_public[0] ? d->v_public : NULL;
    v->vars.private_ip = d->v_private[0] ? d->v_private : NULL;
    v->vars.condition = d->v_cond[0] ? d->v_cond : NULL;
    v->vars.text = d->v_text[0] ? d->v_text : NULL;
    v->vars.alert = d->v_alert[0] ? d->v_alert : NULL;
    v->vars.n = d->v_n[0] ? d->v_n : NULL;
    v->vars.seconds = d->v_seconds[0] ? d->v_seconds : NULL;
    if (d->n_timeline > 1) /* an empty timeline has no array: qsort(NULL) is undefined */
        qsort(d->timeline, d->n_timeline, sizeof(*d->timeline), by_frame);
    for (unsigned i = 0; i < d->n_timeline; i++)
        if (v->status == CORR_FAILED && v->n_evidence && d->timeline[i].ref.frame == v->evidence_refs[0].frame)
            d->timeline[i].failing = true;
}

/* Which domain of a federation is ours: -d first, then the side whose
 * server sits on a private address (behind the NAT), then the side whose
 * DNS lookups the capture shows. */
static void decide_roles(struct correlator *c, struct corr_federation *f)
{
    int score[2] = { 0, 0 };
    for (int i = 0; i < 2; i++) {
        for (unsigned k = 0; k < c->cfg.n_local_domains; k++)
            if (strcasecmp(c->cfg.local_domains[k], f->domains[i]) == 0)
                score[i] += 100;
        for (unsigned b = 0; b < c->nbook; b++)
            if (strcmp(c->book[b].domain, f->domains[i]) == 0 && c->book[b].strength == 2 &&
                addr_is_private(&c->book[b].addr))
                score[i] += 10;
        for (unsigned l = 0; l < c->nlookups; l++) {
            const char *d = book_domain(c, &c->lookups[l]->client);
            if (d && strcmp(d, f->domains[i]) == 0) {
                score[i] += 1;
                break;
            }
        }
    }
    if (score[0] == score[1]) {
        f->local = NULL;
        f->roles_inferred = true;
        copy_str(f->role_reason, sizeof(f->role_reason), "could not tell which side is local; use -d DOMAIN");
        return;
    }
    int li = score[0] > score[1] ? 0 : 1;
    f->local = f->domains[li];
    f->roles_inferred = score[li] < 100;
    copy_str(f->role_reason, sizeof(f->role_reason),
             score[li] >= 100 ? "given with -d"
             : score[li] >= 10 ? "its server has a private address (behind the NAT)"
                               : "its server's DNS lookups are in the capture");
}

static int fed_rank(enum corr_status s)
{
    return s == CORR_FAILED ? 2 : s == CORR_UNKNOWN ? 1 : 0;
}

void corr_finish(struct correlator *c)
{
    classify(c);
    pair_nat(c);
    learn_addresses(c);
    name_domains(c);

    /* Directions from connections. */
    for (unsigned i = 0; i < c->nconns; i++) {
        struct cconn *k = c->conns[i];
        if (k->s2s && !k->secondary)
            dir_get(c, k->dom_from, k->dom_to);
    }
    /* Directions from lookups that led nowhere. */
    for (unsigned i = 0; i < c->nlookups; i++) {
        const struct clookup *l = c->lookups[i];
        char to[STR_CAP], from[STR_CAP];
        const char *d;
        if (l->qtype != DNS_T_SRV || !srv_domain(l->qname, to, sizeof(to)))
            continue;
        d = book_domain(c, &l->client);
        if (d)
            copy_str(from, sizeof(from), d);
        else if (c->cfg.n_local_domains == 1)
            copy_str(from, sizeof(from), c->cfg.local_domains[0]);
        else
            name_endpoint(from, sizeof(from), &l->client);
        if (strcasecmp(from, to) == 0)
            continue;
        /* A lookup by the receiving side of its peer during dialback
         * belongs to that peer's direction only when it has none yet. */
        dir_get(c, from, to);
    }
    /* Directions from what users asked for on client connections. */
    for (unsigned i = 0; i < c->nconns; i++) {
        const struct cconn *k = c->conns[i];
        char from[STR_CAP], to[STR_CAP];
        if (!k->c2s || !c2s_domain(k, from, sizeof(from)))
            continue;
        for (unsigned e = 0; e < k->nev; e++) {
            const struct cev *v = &k->ev[e];
            if (v->type != CEV_STANZA || v->dir != FT_DIR_ORIG || v->flags != XMPP_STANZA_PRESENCE ||
                v->sub != XMPP_PRES_SUBSCRIBE)
                continue;
            jid_domain(v->to, to, sizeof(to));
            if (to[0] && strcasecmp(to, from) != 0)
                dir_get(c, from, to);
        }
    }
    for (unsigned i = 0; i < c->nfeds; i++) {
        struct corr_federation *f = c->feds[i];
        int worst = -1;
        for (unsigned j = 0; j < f->n_dir; j++) {
            eval_direction(c, &f->dir[j]);
            if (fed_rank(f->dir[j].verdict.status) > worst) {
                worst = fed_rank(f->dir[j].verdict.status);
                f->verdict = f->dir[j].verdict;
            }
        }
        decide_roles(c, f);
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
