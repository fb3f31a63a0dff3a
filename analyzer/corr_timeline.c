/*
 * corr_timeline.c - the timeline of a direction: one line per frame (the
 * events of one segment joined), built from connections, XMPP events and
 * DNS lookups, sorted by time.
 */
#include "corr_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void timeline_add(struct dctx *x, const struct frame_ref *r, uint64_t flow_id, uint64_t dns_id,
                  enum fed_stage st, const char *fmt, ...)
{
    struct corr_direction *d = x->d;
    struct corr_tl *t;
    char line[320];
    va_list ap;
    if (!r->frame)
        return;
    va_start(ap, fmt);
    corr_vformat(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One line per frame of a flow: several events of one segment are
     * joined (the joined line is cut like a single one). */
    for (unsigned i = 0; i < d->n_timeline; i++) {
        struct corr_tl *o = &d->timeline[i];
        char joined[320];
        char *n;
        if (o->ref.frame != r->frame || o->flow_id != flow_id || o->dns_id != dns_id)
            continue;
        if (strstr(o->what, line))
            return;
        /* cut once, as a whole, at a word */
        corr_format(joined, sizeof(joined), "%s; %s", o->what, line);
        n = strdup(joined);
        if (n) {
            free(o->what);
            o->what = n;
        }
        return;
    }
    if (!corr_grow((void **)&d->timeline, &d->cap_timeline, d->n_timeline + 1, sizeof(*d->timeline)))
        return;
    t = &d->timeline[d->n_timeline];
    memset(t, 0, sizeof(*t));
    t->what = strdup(line);
    if (!t->what)
        return;
    d->n_timeline++;
    t->ref = *r;
    t->order_ns = nat_clock(x->c, r->source, r->ts_ns);
    t->flow_id = flow_id;
    t->dns_id = dns_id;
    t->stage = st;
}

/* Remembers that k and its NAT twin (the other observer's copy) are one
 * connection, once per pair, for the report to draw the NAT. */
static void note_nat_pair(struct corr_direction *d, const struct cconn *k)
{
    const struct cconn *p = k->nat_peer;
    if (!p)
        return;
    for (unsigned i = 0; i < d->n_nat; i++)
        if ((d->nat[i].flow_id[0] == k->flow_id && d->nat[i].flow_id[1] == p->flow_id) ||
            (d->nat[i].flow_id[0] == p->flow_id && d->nat[i].flow_id[1] == k->flow_id))
            return;
    if (d->n_nat == CORR_MAX_NAT_PAIRS)
        return;
    d->nat[d->n_nat].flow_id[0] = k->flow_id;
    d->nat[d->n_nat].flow_id[1] = p->flow_id;
    d->nat[d->n_nat].source[0] = k->source;
    d->nat[d->n_nat].source[1] = p->source;
    d->n_nat++;
}

void timeline_add_tcp(struct dctx *x, const struct cconn *k, enum fed_stage st_tcp)
{
    char a[80], b[80], s[24];
    note_nat_pair(x->d, k);
    corr_addr_port(a, sizeof(a), &k->addr[0], k->port[0]);
    corr_addr_port(b, sizeof(b), &k->addr[1], k->port[1]);
    if (k->syn.frame)
        timeline_add(x, &k->syn, k->flow_id, 0, st_tcp, "SYN %s -> %s (%s in all)", a, b,
               corr_syns_str(k->syn_count, s, sizeof(s)));
    /* -V: each retransmission a line (the ones whose frame is known) */
    for (unsigned i = 0; i < k->n_syn_retry; i++)
        timeline_add(x, &k->syn_retry[i], k->flow_id, 0, st_tcp, "SYN %s -> %s retransmitted", a, b);
    if (k->synack.frame)
        timeline_add(x, &k->synack, k->flow_id, 0, st_tcp, "SYN-ACK from %s", b);
    if (!k->syn.frame && !k->synack.frame && k->first_ns) {
        /* Cite the first data frame actually seen: the originator's, or
         * the responder's when only the responder spoke (never a made-up
         * frame). */
        struct frame_ref at = k->first_data[0];
        if (at.frame)
            at.ts_ns = k->first_ns;
        else
            at = k->first_data[1];
        at.source = k->source;
        if (at.frame)
            timeline_add(x, &at, k->flow_id, 0, st_tcp, "connection %s -> %s already open when the capture started",
                         a, b);
    }
    if (k->rst.frame)
        timeline_add(x, &k->rst, k->flow_id, 0, st_tcp, "RST from %s", k->rst_dir == FT_DIR_ORIG ? a : b);
    for (int dd = 0; dd < 2; dd++)
        if (k->fin[dd].frame)
            timeline_add(x, &k->fin[dd], k->flow_id, 0, STAGE_STREAM, "FIN from %s", dd == FT_DIR_ORIG ? a : b);
}

void timeline_add_conn(struct dctx *x, const struct cconn *k, enum fed_stage st_tcp)
{
    timeline_add_tcp(x, k, st_tcp);
    for (unsigned i = 0; i < k->nev; i++)
        timeline_add_event(x, k, &k->ev[i]);
}

/* The line of frame r in flow flow_id carries an element read from inside
 * TLS with the key log. */
static void timeline_mark_decrypted(struct dctx *x, const struct frame_ref *r, uint64_t flow_id)
{
    struct corr_direction *d = x->d;

    for (unsigned i = d->n_timeline; i-- > 0;) {
        struct corr_tl *t = &d->timeline[i];

        if (t->ref.frame == r->frame && t->flow_id == flow_id && t->dns_id == 0) {
            t->decrypted = true;
            return;
        }
    }
}

/* The line of one XMPP event; false for an event that has none. */
static bool timeline_add_event_line(struct dctx *x, const struct cconn *k, const struct cev *e)
{
    {
        const char *who = e->dir == FT_DIR_ORIG ? "->" : "<-";
        switch (e->type) {
        case CEV_OPEN:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_STREAM, "%s stream header from='%s' to='%s'%s%s%s", who,
                   e->from ? e->from : "", e->to ? e->to : "", e->id ? " id='" : "", e->id ? e->id : "",
                   e->id ? "'" : "");
            break;
        case CEV_FEATURES:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_STREAM, "%s features:%s%s%s%s%s", who,
                   (e->flags & F_STARTTLS) ? " starttls" : "", (e->flags & F_REQUIRED) ? "(required)" : "",
                   (e->flags & F_DIALBACK) ? " dialback" : "", e->text ? " sasl=" : "", e->text ? e->text : "");
            break;
        case CEV_STARTTLS:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s <starttls/>", who);
            break;
        case CEV_PROCEED:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s <proceed/>", who);
            break;
        case CEV_TLS_FAILURE:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s TLS <failure/>", who);
            break;
        case CEV_TLS_HELLO:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s TLS ClientHello%s%s%s%s", who, e->text ? " SNI=" : "",
                   e->text ? e->text : "", e->id ? " ALPN=" : "", e->id ? e->id : "");
            break;
        case CEV_TLS_SERVER:
        {
            char cb[TLS_NAME_BUFLEN], gb[TLS_NAME_BUFLEN];

            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s TLS ServerHello %s %s%s%s%s%s", who,
                         e->id ? e->id : "", tls_cipher_name(k->tls_cipher, cb, sizeof(cb)),
                         k->tls_have_group ? " group " : "",
                         k->tls_have_group ? tls_group_name(k->tls_group, gb, sizeof(gb)) : "",
                         e->text ? " ALPN=" : "", e->text ? e->text : "");
            break;
        }
        case CEV_TLS_ALERT:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s TLS alert %s", who, e->cond ? e->cond : "");
            break;
        case CEV_TLS_DONE:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s TLS handshake done, stream encrypted", who);
            break;
        case CEV_TLS_CERT:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s certificate%s%s%s%s", who, e->text ? " CN=" : "",
                   e->text ? e->text : "", e->id ? " valid " : "", e->id ? e->id : "");
            break;
        case CEV_SASL_AUTH:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_AUTH, "%s SASL auth %s", who, e->text ? e->text : "");
            break;
        case CEV_SASL_SUCCESS:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_AUTH, "%s SASL success", who);
            break;
        case CEV_SASL_FAILURE:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_AUTH, "%s SASL failure %s", who, e->cond ? e->cond : "");
            break;
        case CEV_DB_RESULT:
        case CEV_DB_VERIFY:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_AUTH, "%s db:%s from='%s' to='%s' %s%s%s", who,
                   e->type == CEV_DB_RESULT ? "result" : "verify", e->from ? e->from : "", e->to ? e->to : "",
                   xmpp_db_type_name((enum xmpp_db_type)e->sub), e->cond ? " " : "", e->cond ? e->cond : "");
            break;
        case CEV_STREAM_ERROR:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_STREAM, "%s stream error <%s/>%s%s", who, e->cond ? e->cond : "?",
                   e->text ? " " : "", e->text ? e->text : "");
            break;
        case CEV_CLOSE:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_STREAM, "%s </stream:stream>", who);
            break;
        case CEV_STANZA:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_SUBSCRIBE, "%s %s type='%s' from='%s' to='%s'%s%s", who,
                   e->flags == XMPP_STANZA_PRESENCE ? "presence" : e->flags == XMPP_STANZA_MESSAGE ? "message" : "iq",
                   e->text ? e->text : "", e->from ? e->from : "", e->to ? e->to : "", e->cond ? " error " : "",
                   e->cond ? e->cond : "");
            break;
        case CEV_XML_ERROR:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_STREAM, "%s not XMPP: %s", who, e->cond ? e->cond : "");
            break;
        case CEV_CLEARTEXT_AFTER_STARTTLS:
            timeline_add(x, &e->ref, k->flow_id, 0, STAGE_TLS, "%s XML after STARTTLS instead of TLS", who);
            break;
        default:
            return false;
        }
    }
    return true;
}

void timeline_add_event(struct dctx *x, const struct cconn *k, const struct cev *e)
{
    if (timeline_add_event_line(x, k, e) && e->decrypted && e->ref.frame)
        timeline_mark_decrypted(x, &e->ref, k->flow_id);
}

void timeline_add_lookup(struct dctx *x, const struct clookup *l)
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
    timeline_add(x, &l->query, 0, l->id, STAGE_LOOKUP, "DNS query %s %s", dns_type_name(l->qtype, tb, sizeof(tb)),
           l->qname);
    if (l->has_response)
        timeline_add(x, &l->response, 0, l->id, STAGE_LOOKUP, "DNS answer %s: %s%s", l->qname,
               dns_outcome_name((enum dns_outcome)l->outcome), ans);
}

int timeline_cmp(const void *a, const void *b)
{
    const struct corr_tl *x = a, *y = b;
    if (x->order_ns != y->order_ns)
        return x->order_ns < y->order_ns ? -1 : 1;
    if (x->ref.frame != y->ref.frame)
        return x->ref.frame < y->ref.frame ? -1 : 1;
    return strcmp(x->what, y->what);
}
