/*
 * corr_store.c - the correlator's fact store: compact copies of the
 * connections (TCP facts and notable XMPP events) and DNS lookups that can
 * matter to a verdict, indexed by flow id, and the queries the judges ask
 * of one connection.  Connections arrive as conn_records (facts.h).
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Frees the one block holding an event's strings (the first non-NULL of
 * from, to, id, cond, text points at its start) and clears them. */
static void cev_free_strings(struct cev *e)
{
    char *base = e->from ? e->from : e->to ? e->to : e->id ? e->id : e->cond ? e->cond : e->text;
    free(base);
    e->from = e->to = e->id = e->cond = e->text = NULL;
}

/* Copies the event's strings (each NULL or cut like corr_dup; text cut
 * like corr_dup_text when fit_text) into one allocation and points
 * e->from..e->text into it.  On no memory all stay NULL. */
static void cev_pack_strings(struct cev *e, const char *const src[5], bool fit_text)
{
    size_t len[5], cap[5], total = 0;
    char *block, *at, **dst[5] = {&e->from, &e->to, &e->id, &e->cond, &e->text};
    for (int i = 0; i < 5; i++) {
        len[i] = cap[i] = 0;
        if (!src[i])
            continue;
        len[i] = strnlen(src[i], STR_CAP);
        if (len[i] >= STR_CAP && !(i == 4 && fit_text))
            len[i] = STR_CAP - 1; /* cut as corr_dup */
        cap[i] = len[i] >= STR_CAP ? STR_CAP : len[i] + 1;
        total += cap[i];
    }
    if (!total)
        return;
    block = malloc(total);
    if (!block)
        return;
    at = block;
    for (int i = 0; i < 5; i++) {
        if (!src[i])
            continue;
        if (len[i] >= STR_CAP) {
            /* a wire text longer than STR_CAP - 1: as corr_dup_text */
            memcpy(at, src[i], STR_CAP - 1);
            at[STR_CAP - 1] = '\0';
            corr_fit_words(at, STR_CAP);
        } else {
            memcpy(at, src[i], len[i]);
            at[len[i]] = '\0';
        }
        *dst[i] = at;
        at += cap[i];
    }
}

void conn_free(struct cconn *k)
{
    for (unsigned i = 0; i < k->nev; i++) {
        cev_free_strings(&k->ev[i]);
        free(k->ev[i].line);
    }
    free(k->ev);
    free(k->rec);
    free(k->syn_retry);
    for (int d = 0; d < 2; d++) {
        free(k->stz_dom[d][0]);
        free(k->stz_dom[d][1]);
    }
    free(k);
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

struct cconn *store_conn_find(const struct correlator *c, uint64_t flow_id)
{
    uint32_t s = map_slot(c, flow_id);
    while (c->map_keys[s]) {
        if (c->map_keys[s] == flow_id)
            return c->conns[c->map_vals[s] - 1];
        s = (s + 1) & (c->map_cap - 1);
    }
    return NULL;
}

/* The connection record of a flow, created on first use; NULL when the
 * cap is reached (counted) or memory ran out. */
struct cconn *store_conn_get(struct correlator *c, uint64_t flow_id)
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
        c->facts_since_round++; /* counts toward the round that retires */
        return NULL;
    }
    if ((c->nconns + 1) * 2 > c->map_cap) {
        if (!map_grow(c))
            return NULL;
        return store_conn_get(c, flow_id);
    }
    if (!corr_grow((void **)&c->conns, &c->capconns, c->nconns + 1, sizeof(*c->conns)))
        return NULL;
    k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->flow_id = flow_id;
    k->create_seq = ++c->conn_seq;
    c->conns[c->nconns++] = k;
    c->map_keys[s] = flow_id;
    c->map_vals[s] = c->nconns;
    c->stats.conns++;
    return k;
}

/* Every phase of a connection record updates its entry: the first (a SYN,
 * or the record of a connection seen mid-stream) creates it, later ones
 * overwrite the TCP facts with the newer snapshot, CONN_END marks it
 * ended.  Times that can only move forward never go back (a late record
 * of an earlier phase cannot undo what a newer one said). */
/* -V: the frames of the SYN retransmissions the record knows, each to be
 * a timeline line of its own. */
static void keep_syn_retries(struct cconn *k, const struct conn_record *r)
{
    unsigned n = r->syn_count < FACT_MAX_SYN_TIMES ? r->syn_count : FACT_MAX_SYN_TIMES;
    if (!r->syn.frame || n < 2 || n - 1 <= k->n_syn_retry)
        return;
    if (!k->syn_retry && !(k->syn_retry = calloc(FACT_MAX_SYN_TIMES - 1, sizeof(*k->syn_retry))))
        return;
    k->n_syn_retry = 0;
    for (unsigned i = 1; i < n; i++) {
        struct frame_ref *f = &k->syn_retry[k->n_syn_retry];
        if (!r->syn_frame_off[i] || !r->syn_src_frame_off[i])
            continue;
        f->frame = r->syn.frame + r->syn_frame_off[i];
        f->src_frame = r->syn.src_frame + r->syn_src_frame_off[i];
        f->source = r->syn.source;
        f->ts_ns = r->syn_times_ns[i];
        k->n_syn_retry++;
    }
}

void store_conn_record(struct correlator *c, const struct conn_record *r)
{
    struct cconn *k;
    bool xmppish = r->info.app == APP_XMPP || r->info.app == APP_XMPP_TLS ||
                   port_set_has(&c->cfg.xmpp_ports, r->info.port[FT_DIR_RESP]);
    if (!xmppish)
        return;
    k = store_conn_get(c, r->info.flow_id);
    if (!k)
        return;
    k->have_tcp = true;
    k->addr[0] = r->info.addr[0];
    k->addr[1] = r->info.addr[1];
    k->port[0] = r->info.port[0];
    k->port[1] = r->info.port[1];
    k->app = r->info.app;
    k->source = r->source;
    k->clock_ns = nat_offset(c, r->source);
    if (r->source)
        c->many_sources = true;
    k->first_ns = r->first_ns;
    k->last_ns = r->last_ns;
    if (r->last_ns > k->active_ns)
        k->active_ns = r->last_ns;
    k->syn = r->syn;
    k->synack = r->synack;
    k->rst = r->rst;
    k->rst_dir = r->rst_dir;
    k->syn_count = r->syn_count;
    k->isn[0] = r->isn[0];
    k->isn[1] = r->isn[1];
    k->last_syn_ns = r->syn_count ? r->syn_times_ns[(r->syn_count < FACT_MAX_SYN_TIMES ? r->syn_count
                                                                                       : FACT_MAX_SYN_TIMES) - 1]
                                  : 0;
    if (r->syn_count >= 2 && r->syn_count <= FACT_MAX_SYN_TIMES)
        k->syn_gap_ns = r->syn_times_ns[r->syn_count - 1] - r->syn_times_ns[r->syn_count - 2];
    if (c->cfg.full_timeline)
        keep_syn_retries(k, r);
    k->midstream = r->midstream;
    k->established = r->established || (r->synack.frame && r->dir[FT_DIR_ORIG].packets > 1);
    for (int d = 0; d < 2; d++) {
        k->fin[d] = r->dir[d].fin;
        k->first_data[d] = r->dir[d].first_data;
        k->pkts[d] = r->dir[d].packets;
        k->bytes[d] = r->dir[d].payload_bytes;
        k->gaps[d] = r->dir[d].gaps;
        k->badcsum[d] = r->dir[d].bad_checksums;
    }
    corr_copy(k->state, sizeof(k->state), r->conn_state);
    corr_copy(k->history, sizeof(k->history), r->history);
    if (r->phase == CONN_END) {
        k->ended = true;
        if (!k->batch_seq)
            k->batch_seq = ++c->conn_seq;
        if (r->last_ns > c->capture_end_ns)
            c->capture_end_ns = r->last_ns;
    }
    c->facts_since_round++;
    k->changed_seq = ++c->fact_seq;
    stream_conn_timers(c, k);
}

/* An encrypted record of the connection, within CORR_MAX_RECORDS. */
static void store_tls_record(struct correlator *c, struct cconn *k, const struct xmpp_event *ev)
{
    unsigned cap = k->caprec;
    if (k->nrec >= CORR_MAX_RECORDS || !corr_grow((void **)&k->rec, &cap, k->nrec + 1u, sizeof(*k->rec))) {
        c->stats.tls_records_dropped++;
        return;
    }
    k->caprec = (uint16_t)(cap < CORR_MAX_RECORDS ? cap : CORR_MAX_RECORDS);
    k->rec[k->nrec++] = (struct crec){ corr_ref(&ev->meta), ev->tls->record_len, ev->tls->dir,
                                      ev->tls->record_type };
    c->stats.tls_records++;
    /* The record-size rules judge again at 1, 2, 4 ... 64 records, not at
     * every record (streaming: what changed is judged again). */
    if ((k->nrec & (k->nrec - 1)) == 0)
        k->changed_seq = ++c->fact_seq;
}

void store_xmpp_event(struct correlator *c, const struct flow_info *fi, const struct xmpp_event *ev)
{
    struct cconn *k = store_conn_get(c, fi->flow_id);
    struct cev e;
    const char *src[5] = {NULL, NULL, NULL, NULL, NULL}; /* from, to, id, cond, text */
    bool fit_text = false;
    char vbuf[32];
    char alpn[TLS_MAX_ALPN * 32]; /* offered ALPN list (src[2] may point here) */
    char valid[80];               /* certificate validity (src[2] may point here) */

    if (!k)
        return;
    if (!k->batch_seq)
        k->batch_seq = ++c->conn_seq;
    if (!k->have_tcp) {
        k->addr[0] = fi->addr[0];
        k->addr[1] = fi->addr[1];
        k->port[0] = fi->port[0];
        k->port[1] = fi->port[1];
        k->app = fi->app;
    }
    if (ev->meta.ts_ns > k->active_ns)
        k->active_ns = ev->meta.ts_ns;
    if (ev->type == XMPP_EV_STANZA && !k->stanzas[ev->dir & 1])
        k->changed_seq = ++c->fact_seq; /* the first stanza each way tells */
    if (ev->decrypted)
        k->decrypted = true;
    if (ev->type == XMPP_EV_DECRYPT_STOPPED) {
        k->decrypt_stopped = true;
        return;
    }
    memset(&e, 0, sizeof(e));
    e.dir = ev->dir;
    e.decrypted = ev->decrypted;
    e.ref = corr_ref(&ev->meta);
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
        src[3] = ev->content_ns;
        break;
    case XMPP_EV_FEATURES:
        e.type = CEV_FEATURES;
        e.flags = (uint8_t)((ev->starttls ? F_STARTTLS : 0) | (ev->starttls_required ? F_REQUIRED : 0) |
                            (ev->dialback ? F_DIALBACK : 0) | (ev->sasl_external ? F_EXTERNAL : 0));
        src[4] = ev->mechanisms;
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
        src[4] = ev->mechanism;
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
        if (!k->stz_dom[ev->dir & 1][0] && ev->from && ev->to) {
            char df[STR_CAP], dt[STR_CAP];
            corr_jid_domain(ev->from, df, sizeof(df));
            corr_jid_domain(ev->to, dt, sizeof(dt));
            if (df[0] && dt[0]) {
                k->stz_dom[ev->dir & 1][0] = corr_dup(df);
                k->stz_dom[ev->dir & 1][1] = corr_dup(dt);
            }
        }
        if (!xmpp_stanza_is_notable(ev))
            return;
        e.type = CEV_STANZA;
        e.sub = (uint8_t)(ev->stanza == XMPP_STANZA_PRESENCE ? ev->presence : 0xff);
        e.flags = (uint8_t)ev->stanza;
        src[4] = ev->type_str;
        break;
    case XMPP_EV_TLS:
        if (!ev->tls)
            return;
        if (ev->tls->type == TLS_EV_RECORD) {
            store_tls_record(c, k, ev);
            return;
        }
        if (ev->tls->type == TLS_EV_SERVER_HELLO && !ev->tls->hello_retry) {
            k->tls_version = ev->tls->version;
            k->tls_cipher = ev->tls->cipher;
        }
        if ((ev->tls->type == TLS_EV_SERVER_HELLO && !ev->tls->hello_retry) ||
            ev->tls->type == TLS_EV_KEY_EXCHANGE) {
            if (ev->tls->have_group) {
                k->tls_group = ev->tls->group;
                k->tls_have_group = true;
            }
            if (ev->tls->type == TLS_EV_KEY_EXCHANGE)
                return;
        }
        switch (ev->tls->type) {
        case TLS_EV_CLIENT_HELLO:
            e.type = CEV_TLS_HELLO;
            src[4] = ev->tls->sni;
            if (ev->tls->n_alpn) { /* offered ALPN, comma-separated (bounded) */
                size_t used = 0;

                alpn[0] = '\0';
                for (unsigned i = 0; i < ev->tls->n_alpn && used < sizeof(alpn); i++) {
                    int w = snprintf(alpn + used, sizeof(alpn) - used, "%s%s", i ? "," : "", ev->tls->alpn[i]);

                    if (w < 0)
                        break;
                    used += (size_t)w;
                }
                src[2] = alpn;
            }
            break;
        case TLS_EV_SERVER_HELLO:
            e.type = CEV_TLS_SERVER;
            src[2] = tls_version_name(ev->tls->version, vbuf, sizeof(vbuf));
            src[4] = ev->tls->n_alpn ? ev->tls->alpn[0] : NULL;
            break;
        case TLS_EV_ALERT:
            e.type = CEV_TLS_ALERT;
            src[3] = ev->tls->alert_encrypted ? "encrypted"
                                              : (ev->tls->alert_desc_name ? ev->tls->alert_desc_name : "unknown");
            e.sub = ev->tls->alert_level;
            break;
        case TLS_EV_HANDSHAKE_DONE:
        case TLS_EV_HANDSHAKE_ENCRYPTED:
            e.type = CEV_TLS_DONE;
            break;
        case TLS_EV_CERTIFICATE:
            e.type = CEV_TLS_CERT;
            src[4] = ev->tls->cert_cn;
            {
                char nb[32], na[32];
                const char *from = tls_time_iso(ev->tls->cert_not_before, nb, sizeof(nb));
                const char *until = tls_time_iso(ev->tls->cert_not_after, na, sizeof(na));

                if (from || until) {
                    snprintf(valid, sizeof(valid), "%s..%s", from ? from : "unknown", until ? until : "unknown");
                    src[2] = valid;
                }
            }
            break;
        default:
            return;
        }
        break;
    case XMPP_EV_ERROR:
        e.type = CEV_XML_ERROR;
        src[3] = xmpp_error_name(ev->error);
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
    if (!src[0])
        src[0] = ev->from;
    if (!src[1])
        src[1] = ev->to;
    if (!src[2])
        src[2] = ev->id;
    if (ev->condition && !src[3])
        src[3] = ev->condition;
    if (ev->text && !src[4]) {
        src[4] = ev->text;
        fit_text = true;
    }
    if (k->nev >= c->cfg.max_events_per_conn ||
        !corr_grow_from((void **)&k->ev, &k->cap, k->nev + 1, sizeof(*k->ev), 4)) {
        c->stats.events_dropped++;
        return;
    }
    cev_pack_strings(&e, src, fit_text);
    k->ev[k->nev++] = e;
    k->has_joins |= e.type == CEV_DB_VERIFY || (e.type == CEV_STANZA && e.flags == XMPP_STANZA_PRESENCE);
    c->stats.events++;
    c->live_events++;
    k->changed_seq = ++c->fact_seq;
    stream_event_timers(c, k, &k->ev[k->nev - 1]);
    c->facts_since_round++;
}

void store_dns_lookup(struct correlator *c, const struct dns_lookup *lk)
{
    struct clookup *l;
    if (c->nlookups - c->lookups_dead >= c->cfg.max_lookups) {
        c->stats.lookups_dropped++;
        c->facts_since_round++;
        return;
    }
    if (!corr_grow((void **)&c->lookups, &c->caplookups, c->nlookups + 1, sizeof(*c->lookups)))
        return;
    l = calloc(1, sizeof(*l) + (lk->nans < DNS_LOOKUP_MAX_ANS ? lk->nans : DNS_LOOKUP_MAX_ANS) * sizeof(l->ans[0]));
    if (!l)
        return;
    l->id = lk->id;
    l->client = lk->client.addr;
    l->server = lk->server.addr;
    l->tcp = lk->transport == DNS_TCP;
    l->txid = lk->txid;
    l->qname = corr_dup(lk->qname ? lk->qname : "");
    l->qtype = lk->qtype;
    l->outcome = lk->outcome;
    l->rcode = lk->rcode;
    l->has_response = lk->has_response;
    l->nqueries = lk->nqueries;
    if (lk->nqueries)
        l->query = corr_ref(&lk->query[0]);
    if (lk->has_response)
        l->response = corr_ref(&lk->response);
    for (unsigned i = 0; i < lk->nans && i < DNS_LOOKUP_MAX_ANS; i++) {
        l->ans[i].type = lk->ans[i].type;
        l->ans[i].addr = lk->ans[i].addr;
        l->ans[i].port = lk->ans[i].port;
        l->ans[i].name = corr_dup(lk->ans[i].name);
        l->ans[i].target = corr_dup(lk->ans[i].target);
        l->nans++;
    }
    l->added_seq = ++c->fact_seq;
    c->lookups[c->nlookups++] = l;
    c->stats.lookups++;
    c->facts_since_round++;
}

static int by_batch_order(const void *a, const void *b)
{
    const struct cconn *x = *(struct cconn *const *)a, *y = *(struct cconn *const *)b;
    uint64_t sx = x->batch_seq ? x->batch_seq : UINT64_MAX, sy = y->batch_seq ? y->batch_seq : UINT64_MAX;
    if (sx != sy)
        return sx < sy ? -1 : 1;
    return x->create_seq < y->create_seq ? -1 : x->create_seq > y->create_seq;
}

void store_map_rebuild(struct correlator *c)
{
    memset(c->map_keys, 0, c->map_cap * sizeof(*c->map_keys));
    for (unsigned i = 0; i < c->nconns; i++) {
        uint64_t id = c->conns[i]->flow_id;
        uint32_t s = map_slot(c, id);
        while (c->map_keys[s])
            s = (s + 1) & (c->map_cap - 1);
        c->map_keys[s] = id;
        c->map_vals[s] = i + 1;
    }
}

void store_order_conns(struct correlator *c)
{
    if (c->nconns > 1)
        qsort(c->conns, c->nconns, sizeof(*c->conns), by_batch_order);
    store_map_rebuild(c);
}

/* ---- queries over a connection's events ------------------------------- */

const struct cev *conn_first_ev(const struct cconn *k, enum cev_type t, int dir)
{
    for (unsigned i = 0; i < k->nev; i++)
        if (k->ev[i].type == t && (dir < 0 || k->ev[i].dir == dir))
            return &k->ev[i];
    return NULL;
}

int64_t conn_start(const struct cconn *k)
{
    if (k->syn.frame)
        return k->syn.ts_ns - k->clock_ns;
    if (k->first_ns)
        return k->first_ns - k->clock_ns;
    return k->nev ? k->ev[0].ref.ts_ns - k->clock_ns : 0;
}

/* When this connection last learned its fate (authentication answered,
 * refused, or a stream error); 0 if never.  The latest such connection
 * tells a direction's current state: a retry that worked supersedes an
 * earlier failure, and a failure after a success is the news. */
int64_t conn_decided_ns(const struct cconn *k)
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
    return t ? t - k->clock_ns : 0;
}

/* How much a view of a connection shows: used to pick the primary of a pair. */
int conn_richness(const struct cconn *k)
{
    return (int)k->nev * 4 + (k->established ? 2 : 0) + (k->syn.frame ? 1 : 0);
}

void store_lookup_free(struct clookup *l)
{
    if (!l)
        return;
    free(l->qname);
    free(l->line[0]);
    free(l->line[1]);
    for (unsigned k = 0; k < l->nans; k++) {
        free(l->ans[k].name);
        free(l->ans[k].target);
    }
    free(l);
}

void store_free(struct correlator *c)
{
    for (unsigned i = 0; i < c->nconns; i++)
        conn_free(c->conns[i]);
    free(c->conns);
    for (unsigned i = 0; i < c->nlookups; i++)
        store_lookup_free(c->lookups[i]);
    free(c->lookups);
    free(c->map_keys);
    free(c->map_vals);
}
