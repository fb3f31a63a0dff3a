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

/* The two lines of a lookup. */
enum { TL_LOOKUP_QUERY = 1, TL_LOOKUP_ANSWER = 2 };
static const char *lookup_line(const struct clookup *l, int kind, char *buf, size_t len);

/* ---- one line per frame ----------------------------------------------------- */

static uint32_t line_hash(uint64_t frame, uint64_t flow_id, uint64_t dns_id)
{
    uint64_t h = frame * UINT64_C(0x9E3779B97F4A7C15);
    h ^= (flow_id + UINT64_C(0x632BE59BD9B4E019)) * UINT64_C(0xC2B2AE3D27D4EB4F);
    h ^= (dns_id + 1) * UINT64_C(0x165667B19E3779F9);
    return (uint32_t)(h ^ (h >> 29));
}

/* The line of (frame, flow, lookup) already in the timeline, or NULL. */
static struct corr_tl *line_find(const struct dctx *x, const struct frame_ref *r, uint64_t flow_id, uint64_t dns_id)
{
    if (!x->tl_cap)
        return NULL;
    for (uint32_t i = line_hash(r->frame, flow_id, dns_id) & (x->tl_cap - 1);; i = (i + 1) & (x->tl_cap - 1)) {
        struct corr_tl *o;
        if (!x->tl_slot[i])
            return NULL;
        o = &x->d->timeline[x->tl_slot[i] - 1];
        if (o->ref.frame == r->frame && o->flow_id == flow_id && o->dns_id == dns_id)
            return o;
    }
}

static void slot_put(struct dctx *x, uint32_t line)
{
    const struct corr_tl *t = &x->d->timeline[line];
    uint32_t i = line_hash(t->ref.frame, t->flow_id, t->dns_id) & (x->tl_cap - 1);
    while (x->tl_slot[i])
        i = (i + 1) & (x->tl_cap - 1);
    x->tl_slot[i] = line + 1;
    x->tl_used++;
}

/* Remembers the line just appended (the first of its frame).  Without
 * memory the table stops growing and later joins are missed: lines stay
 * separate, nothing is lost. */
static void line_index(struct dctx *x)
{
    uint32_t n = x->d->n_timeline;
    if (2 * (x->tl_used + 1) > x->tl_cap) {
        uint32_t cap = x->tl_cap ? 2 * x->tl_cap : 64;
        uint32_t *slot = calloc(cap, sizeof(*slot));
        if (!slot)
            return;
        free(x->tl_slot);
        x->tl_slot = slot;
        x->tl_cap = cap;
        x->tl_used = 0;
        for (uint32_t i = 0; i + 1 < n; i++)
            if (line_find(x, &x->d->timeline[i].ref, x->d->timeline[i].flow_id, x->d->timeline[i].dns_id) == NULL)
                slot_put(x, i);
    }
    slot_put(x, n - 1);
}

void timeline_index_reserve(struct dctx *x, unsigned lines)
{
    uint32_t cap = 64;
    uint32_t *slot;
    if (x->tl_cap || lines > UINT32_MAX / 4)
        return;
    while (cap < 2 * (uint32_t)lines + 2)
        cap *= 2;
    if (cap == 64)
        return; /* line_index's first table */
    if (!(slot = calloc(cap, sizeof(*slot))))
        return;
    x->tl_slot = slot;
    x->tl_cap = cap;
    x->tl_used = 0;
}

/* A timeline line stays one cache line: directions keep many of them. */
_Static_assert(sizeof(struct corr_tl) <= 64, "struct corr_tl grew past 64 bytes");

/* Appends a line (or joins the line of its frame).  The text is copied,
 * unless `borrowed` (then it is the fact's own, copied only if the line
 * is kept). */
static void add_line(struct dctx *x, const struct frame_ref *r, uint64_t flow_id, uint64_t dns_id,
                     enum fed_stage st, const char *line, bool borrowed)
{
    struct corr_direction *d = x->d;
    struct corr_tl *t, *o;
    if (!r->frame || !line)
        return;
    /* One line per frame of a flow: several events of one segment are
     * joined (the joined line is cut like a single one). */
    if ((o = line_find(x, r, flow_id, dns_id)) != NULL) {
        char joined[320];
        char *n;
        if (o->lent) { /* borrowed: copied now */
            char *own = strdup(o->borrowed);
            if (!own)
                return;
            o->what = own;
            o->lent = 0;
        }
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
    if (borrowed) {
        t->borrowed = line;
        t->lent = 1;
    } else if (!(t->what = strdup(line)))
        return;
    d->n_timeline++;
    t->ref = *r;
    t->order_ns = nat_clock(x->c, r->source, r->ts_ns);
    t->flow_id = flow_id;
    t->dns_id = dns_id;
    t->stage = st;
    line_index(x);
}

void timeline_add_carried(struct dctx *x, const struct corr_tl *t)
{
    const char *w = corr_tl_text(t);
    unsigned n = x->d->n_timeline;
    if (!w || line_find(x, &t->ref, t->flow_id, t->dns_id))
        return;
    add_line(x, &t->ref, t->flow_id, t->dns_id, t->stage, w, true);
    if (x->d->n_timeline > n) {
        x->d->timeline[n].order_ns = t->order_ns;
        x->d->timeline[n].decrypted = t->decrypted;
        x->d->timeline[n].key = t->key;
    }
}

void timeline_add(struct dctx *x, const struct frame_ref *r, uint64_t flow_id, uint64_t dns_id,
                  enum fed_stage st, const char *fmt, ...)
{
    char line[320];
    va_list ap;
    if (!r->frame)
        return;
    va_start(ap, fmt);
    corr_vformat(line, sizeof(line), fmt, ap);
    va_end(ap);
    add_line(x, r, flow_id, dns_id, st, line, false);
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

/* The text of one XMPP event's line; false for an event that has none. */
static bool event_line(char *out, size_t len, const struct cconn *k, const struct cev *e)
{
    {
        const char *who = e->dir == FT_DIR_ORIG ? "->" : "<-";
        switch (e->type) {
        case CEV_OPEN:
            corr_format(out, len, "%s stream header from='%s' to='%s'%s%s%s", who,
                   e->from ? e->from : "", e->to ? e->to : "", e->id ? " id='" : "", e->id ? e->id : "",
                   e->id ? "'" : "");
            break;
        case CEV_FEATURES:
            corr_format(out, len, "%s features:%s%s%s%s%s", who,
                   (e->flags & F_STARTTLS) ? " starttls" : "", (e->flags & F_REQUIRED) ? "(required)" : "",
                   (e->flags & F_DIALBACK) ? " dialback" : "", e->text ? " sasl=" : "", e->text ? e->text : "");
            break;
        case CEV_STARTTLS:
            corr_format(out, len, "%s <starttls/>", who);
            break;
        case CEV_PROCEED:
            corr_format(out, len, "%s <proceed/>", who);
            break;
        case CEV_TLS_FAILURE:
            corr_format(out, len, "%s TLS <failure/>", who);
            break;
        case CEV_TLS_HELLO:
            corr_format(out, len, "%s TLS ClientHello%s%s%s%s", who, e->text ? " SNI=" : "",
                   e->text ? e->text : "", e->id ? " ALPN=" : "", e->id ? e->id : "");
            break;
        case CEV_TLS_SERVER:
        {
            char cb[TLS_NAME_BUFLEN], gb[TLS_NAME_BUFLEN];

            corr_format(out, len, "%s TLS ServerHello %s %s%s%s%s%s", who,
                         e->id ? e->id : "", tls_cipher_name(k->tls_cipher, cb, sizeof(cb)),
                         k->tls_have_group ? " group " : "",
                         k->tls_have_group ? tls_group_name(k->tls_group, gb, sizeof(gb)) : "",
                         e->text ? " ALPN=" : "", e->text ? e->text : "");
            break;
        }
        case CEV_TLS_ALERT:
            corr_format(out, len, "%s TLS alert %s", who, e->cond ? e->cond : "");
            break;
        case CEV_TLS_DONE:
            corr_format(out, len, "%s TLS handshake done, stream encrypted", who);
            break;
        case CEV_TLS_CERT:
            corr_format(out, len, "%s certificate%s%s%s%s", who, e->text ? " CN=" : "",
                   e->text ? e->text : "", e->id ? " valid " : "", e->id ? e->id : "");
            break;
        case CEV_SASL_AUTH:
            corr_format(out, len, "%s SASL auth %s", who, e->text ? e->text : "");
            break;
        case CEV_SASL_SUCCESS:
            corr_format(out, len, "%s SASL success", who);
            break;
        case CEV_SASL_FAILURE:
            corr_format(out, len, "%s SASL failure %s", who, e->cond ? e->cond : "");
            break;
        case CEV_DB_RESULT:
        case CEV_DB_VERIFY:
            corr_format(out, len, "%s db:%s from='%s' to='%s' %s%s%s", who,
                   e->type == CEV_DB_RESULT ? "result" : "verify", e->from ? e->from : "", e->to ? e->to : "",
                   xmpp_db_type_name((enum xmpp_db_type)e->sub), e->cond ? " " : "", e->cond ? e->cond : "");
            break;
        case CEV_STREAM_ERROR:
            corr_format(out, len, "%s stream error <%s/>%s%s", who, e->cond ? e->cond : "?",
                   e->text ? " " : "", e->text ? e->text : "");
            break;
        case CEV_CLOSE:
            corr_format(out, len, "%s </stream:stream>", who);
            break;
        case CEV_STANZA:
            corr_format(out, len, "%s %s type='%s' from='%s' to='%s'%s%s", who,
                   e->flags == XMPP_STANZA_PRESENCE ? "presence" : e->flags == XMPP_STANZA_MESSAGE ? "message" : "iq",
                   e->text ? e->text : "", e->from ? e->from : "", e->to ? e->to : "", e->cond ? " error " : "",
                   e->cond ? e->cond : "");
            break;
        case CEV_XML_ERROR:
            corr_format(out, len, "%s not XMPP: %s", who, e->cond ? e->cond : "");
            break;
        case CEV_CLEARTEXT_AFTER_STARTTLS:
            corr_format(out, len, "%s XML after STARTTLS instead of TLS", who);
            break;
        default:
            return false;
        }
    }
    return true;
}

/* The stage an event's line belongs to. */
static enum fed_stage event_stage(const struct cev *e)
{
    switch (e->type) {
    case CEV_STARTTLS: case CEV_PROCEED: case CEV_TLS_FAILURE: case CEV_TLS_HELLO: case CEV_TLS_SERVER:
    case CEV_TLS_ALERT: case CEV_TLS_DONE: case CEV_TLS_CERT: case CEV_CLEARTEXT_AFTER_STARTTLS:
        return STAGE_TLS;
    case CEV_SASL_AUTH: case CEV_SASL_SUCCESS: case CEV_SASL_FAILURE: case CEV_DB_RESULT: case CEV_DB_VERIFY:
        return STAGE_AUTH;
    case CEV_STANZA:
        return STAGE_SUBSCRIBE;
    default:
        return STAGE_STREAM;
    }
}

/* An event's line is written once and kept with the event (a
 * federation is judged again as its facts come in); the ServerHello
 * line reads the connection's cipher and group, so it is written afresh
 * each time. */
void timeline_add_event(struct dctx *x, const struct cconn *k, const struct cev *e)
{
    char buf[320];
    const char *line = e->line;
    bool borrowed = line && e->type != CEV_TLS_SERVER;
    if (!borrowed) {
        if (!event_line(buf, sizeof(buf), k, e))
            return;
        line = buf;
        if (e->type != CEV_TLS_SERVER && !e->line && (((struct cev *)e)->line = strdup(buf)) != NULL) {
            line = e->line;
            borrowed = true;
        }
    }
    add_line(x, &e->ref, k->flow_id, 0, event_stage(e), line, borrowed);
    if (e->decrypted && e->ref.frame)
        timeline_mark_decrypted(x, &e->ref, k->flow_id);
}
/* ---- DNS lines, written only when kept ----------------------------------- */

/* The text of a DNS line, written once and kept with the lookup (into
 * buf when there is no memory to keep it). */
static const char *lookup_line(const struct clookup *l, int kind, char *buf, size_t len)
{
    char tb[DNS_TYPE_NAME_BUFLEN];
    char **cache = &((struct clookup *)l)->line[kind == TL_LOOKUP_QUERY ? 0 : 1];
    if (*cache)
        return *cache;
    if (kind == TL_LOOKUP_QUERY) {
        corr_format(buf, len, "DNS query %s %s", dns_type_name(l->qtype, tb, sizeof(tb)), l->qname);
    } else {
        char ans[160] = "";
        size_t used = 0;
        for (unsigned i = 0; i < l->nans && used < sizeof(ans) - 40; i++) {
            char ip[FT_ADDR_STRLEN];
            if (l->ans[i].type == DNS_T_SRV)
                used += (size_t)snprintf(ans + used, sizeof(ans) - used, " %s:%u",
                                         l->ans[i].target ? l->ans[i].target : "?", l->ans[i].port);
            else if (l->ans[i].type == DNS_T_A || l->ans[i].type == DNS_T_AAAA)
                used += (size_t)snprintf(ans + used, sizeof(ans) - used, " %s",
                                         ft_addr_str(&l->ans[i].addr, ip, sizeof(ip)));
        }
        corr_format(buf, len, "DNS answer %s: %s%s", l->qname, dns_outcome_name((enum dns_outcome)l->outcome), ans);
    }
    *cache = strdup(buf);
    return *cache ? *cache : buf;
}

void timeline_add_lookup(struct dctx *x, const struct clookup *l)
{
    char buf[320];
    const char *line = lookup_line(l, TL_LOOKUP_QUERY, buf, sizeof(buf));
    add_line(x, &l->query, 0, l->id, STAGE_LOOKUP, line, line != buf);
    if (l->has_response) {
        line = lookup_line(l, TL_LOOKUP_ANSWER, buf, sizeof(buf));
        add_line(x, &l->response, 0, l->id, STAGE_LOOKUP, line, line != buf);
    }
}

void timeline_materialize(struct corr_direction *d)
{
    size_t total = 0, at = 0;
    unsigned kept = 0;
    char *block;
    /* The kept lines' text goes into one block: a retired direction
     * holds one allocation for its timeline's text, not one per line. */
    for (unsigned i = 0; i < d->n_timeline; i++) {
        const char *w = corr_tl_text(&d->timeline[i]);
        total += w ? strlen(w) + 1 : 0;
    }
    block = total ? malloc(total) : NULL;
    if (!block) { /* nothing to pack, or no memory: each line its own copy */
        unsigned w = 0;
        for (unsigned i = 0; i < d->n_timeline; i++) {
            struct corr_tl *t = &d->timeline[i];
            if (t->lent) {
                const char *b = t->borrowed;
                t->what = b ? strdup(b) : NULL;
                t->lent = 0;
            }
            if (t->what)
                d->timeline[w++] = *t;
        }
        d->n_timeline = w;
        return;
    }
    for (unsigned i = 0; i < d->n_timeline; i++) {
        struct corr_tl *t = &d->timeline[i];
        const char *w = corr_tl_text(t);
        size_t n = w ? strlen(w) + 1 : 0;
        if (!n)
            continue; /* no text: the line goes */
        memcpy(block + at, w, n);
        if (!t->lent)
            free(t->what); /* a copy of its own */
        t->what = block + at;
        t->lent = 0;
        at += n;
        d->timeline[kept++] = *t;
    }
    d->n_timeline = kept;
    d->timeline_text = block;
}

int timeline_cmp(const void *a, const void *b)
{
    const struct corr_tl *x = a, *y = b;
    if (x->order_ns != y->order_ns)
        return x->order_ns < y->order_ns ? -1 : 1;
    if (x->ref.frame != y->ref.frame)
        return x->ref.frame < y->ref.frame ? -1 : 1;
    return strcmp(corr_tl_text(x), corr_tl_text(y));
}

void timeline_sort(struct corr_tl *t, unsigned n)
{
    /* Lines mostly arrive in time order (a round appends the new DNS lines
     * after the ones already sorted): a stable insertion pass, given up for
     * qsort once it has moved more than a few lines per line.  Both orders
     * are stable, so the result is the one qsort alone gives. */
    size_t moves = 0, budget = 4 * (size_t)n;
    unsigned i;
    for (i = 1; i < n; i++) {
        struct corr_tl tmp;
        unsigned j = i;
        if (timeline_cmp(&t[i - 1], &t[i]) <= 0)
            continue;
        tmp = t[i];
        while (j > 0 && timeline_cmp(&t[j - 1], &tmp) > 0) {
            t[j] = t[j - 1];
            j--;
            moves++;
        }
        t[j] = tmp;
        if (moves > budget)
            break;
    }
    if (i < n)
        qsort(t, n, sizeof(*t), timeline_cmp);
}
