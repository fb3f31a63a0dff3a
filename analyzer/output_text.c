/*
 * output_text.c - the short text report for a terminal, rendered from the
 * C records: the capture sources, the federation ladder (each direction's
 * verdict, timeline, notes and advice), and with -v the DNS lookups and
 * the connections (in flow order, with their XMPP events) and every
 * counter.
 *
 * The lists are written to spools as their facts arrive (one line per
 * lookup, one block per connection, the event lines waiting in the
 * pending store until their connection ends), so the report's memory does
 * not grow with the capture.  Every string that came off the wire goes
 * through term_escape.
 */
#include <config.h>

#include "output_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "termsafe.h"

/* Every string the report prints goes through term_escape (a peer must
 * not start a line or steer the terminal), into one of a few rotating
 * buffers: enough for the strings of one fprintf. */
#define TEXT_SLOTS 8
struct text_scratch {
    char slot[TEXT_SLOTS][2048];
    unsigned next;
};

static const char *tesc(struct text_scratch *t, const char *s)
{
    char *b = t->slot[t->next++ % TEXT_SLOTS];
    return term_escape(b, sizeof(t->slot[0]), s);
}

/* A bounded line being built in the caller's buffer; what does not fit
 * is cut. */
struct line {
    char *buf;
    size_t cap, len;
};

static void line_add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line_add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (l->cap == 0 || l->len >= l->cap - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < l->cap - l->len ? (size_t)n : l->cap - 1 - l->len;
}

static void upper(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++)
        dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
    dst[i] = '\0';
}

/* "192.0.2.1:5269" or "[2001:db8::1]:5269" */
static void text_endpoint(char *buf, size_t len, const struct ft_addr *a, uint16_t port)
{
    char ip[FT_ADDR_STRLEN];
    ft_addr_str(a, ip, sizeof(ip));
    snprintf(buf, len, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
}

/* ---- what arrives during the run ---------------------------------------- */

/* What a TLS event tells, on its connection's line: the handshake's
 * parameters (version, cipher, group, ALPN, SNI) and the first
 * certificate (subject, issuer, validity in ISO 8601). */
static void text_tls_fields(struct line *l, struct text_scratch *tx, const struct tls_event *t)
{
    char b[TLS_NAME_BUFLEN], nb[32], na[32];
    const char *from, *until;

    line_add(l, " %s", tesc(tx, tls_event_type_name(t->type)));
    switch (t->type) {
    case TLS_EV_CLIENT_HELLO:
        if (t->sni)
            line_add(l, " sni=%s", tesc(tx, t->sni));
        for (unsigned i = 0; i < t->n_alpn; i++)
            line_add(l, "%s%s", i ? "," : " alpn=", tesc(tx, t->alpn[i]));
        break;
    case TLS_EV_SERVER_HELLO:
        line_add(l, " version=%s", tesc(tx, tls_version_name(t->version, b, sizeof(b))));
        line_add(l, " cipher=%s", tesc(tx, tls_cipher_name(t->cipher, b, sizeof(b))));
        if (t->have_group)
            line_add(l, " group=%s", tesc(tx, tls_group_name(t->group, b, sizeof(b))));
        if (t->n_alpn)
            line_add(l, " alpn=%s", tesc(tx, t->alpn[0]));
        if (t->hello_retry)
            line_add(l, " hello_retry");
        break;
    case TLS_EV_KEY_EXCHANGE:
        line_add(l, " group=%s", tesc(tx, tls_group_name(t->group, b, sizeof(b))));
        break;
    case TLS_EV_CERTIFICATE:
        if (t->cert_cn)
            line_add(l, " subject=%s", tesc(tx, t->cert_cn));
        if (t->cert_issuer_cn)
            line_add(l, " issuer=%s", tesc(tx, t->cert_issuer_cn));
        from = tls_time_iso(t->cert_not_before, nb, sizeof(nb));
        until = tls_time_iso(t->cert_not_after, na, sizeof(na));
        if (from || until)
            line_add(l, " valid=%s..%s", from ? from : "unknown", until ? until : "unknown");
        break;
    case TLS_EV_ALERT:
        line_add(l, " alert=%s", tesc(tx, t->alert_desc_name ? t->alert_desc_name : "unknown"));
        break;
    default:
        break;
    }
}

size_t text_xmpp_line(char *buf, size_t len, const struct xmpp_event *ev)
{
    struct text_scratch tx = { .next = 0 };
    struct line line = { buf, len, 0 }, *l = &line;
    char frame[24];

    if (len)
        buf[0] = '\0';
    snprintf(frame, sizeof(frame), "%" PRId64, (int64_t)ev->meta.frame);
    line_add(l, "        %6s %s %-13s", frame, ev->dir == FT_DIR_ORIG ? "->" : "<-",
             tesc(&tx, xmpp_event_type_name(ev->type)));
    if (ev->from)
        line_add(l, " from=%s", tesc(&tx, ev->from));
    if (ev->to)
        line_add(l, " to=%s", tesc(&tx, ev->to));
    if (ev->type == XMPP_EV_DB_RESULT || ev->type == XMPP_EV_DB_VERIFY)
        line_add(l, " db_type=%s", tesc(&tx, xmpp_db_type_name(ev->db_type)));
    if (ev->type == XMPP_EV_STANZA && ev->stanza == XMPP_STANZA_PRESENCE)
        line_add(l, " presence=%s", tesc(&tx, xmpp_presence_type_name(ev->presence)));
    if (ev->type == XMPP_EV_STANZA && ev->type_str)
        line_add(l, " stanza_type=%s", tesc(&tx, ev->type_str));
    if (ev->condition)
        line_add(l, " condition=%s", tesc(&tx, ev->condition));
    if (ev->type == XMPP_EV_TLS && ev->tls)
        text_tls_fields(l, &tx, ev->tls);
    if (ev->type == XMPP_EV_ERROR) {
        line_add(l, " error=%s", tesc(&tx, xmpp_error_name(ev->error)));
        if (ev->error_msg)
            line_add(l, " message=%s", tesc(&tx, ev->error_msg));
    }
    line_add(l, "\n");
    return l->len;
}

static void add_event_line(void *user, const char *line, size_t n)
{
    struct output *o = user;
    if (spool_append(&o->conn_text, line, n) < 0)
        output_spool_failed(o, &o->conn_text);
}

void text_conn(struct output *o, const struct conn_record *c)
{
    struct text_scratch tx = { .next = 0 };
    struct text_conn_ref *ref;
    struct pending_conn pc;
    char buf[TEXT_LINE_MAX];
    struct line line = { buf, sizeof(buf), 0 }, *l = &line;
    char a[80], b[80], uid[32];
    int64_t off = (int64_t)o->conn_text.size;

    if (o->conns_listed == 0 || o->conns_listed > o->text_conns_cap)
        return;
    text_endpoint(a, sizeof(a), &c->info.addr[FT_DIR_ORIG], c->info.port[FT_DIR_ORIG]);
    text_endpoint(b, sizeof(b), &c->info.addr[FT_DIR_RESP], c->info.port[FT_DIR_RESP]);
    snprintf(uid, sizeof(uid), "C%" PRIu64, c->info.flow_id);
    line_add(l, "  %-5s %-8s %s -> %s  %-6s %-12s frames %" PRId64 "-%" PRId64 "  %" PRId64 "/%" PRId64 " bytes",
             uid, tesc(&tx, app_proto_name(c->info.app)), a, b, tesc(&tx, c->conn_state), tesc(&tx, c->history),
             (int64_t)c->first_frame, (int64_t)c->last_frame, (int64_t)c->dir[FT_DIR_ORIG].payload_bytes,
             (int64_t)c->dir[FT_DIR_RESP].payload_bytes);
    if (c->rtt_ns >= 0)
        line_add(l, "  rtt %" PRId64 ".%03" PRId64 " ms", c->rtt_ns / 1000000, (c->rtt_ns % 1000000) / 1000);
    if (c->midstream)
        line_add(l, "  (capture started mid-connection)");
    line_add(l, "\n");
    if (spool_append(&o->conn_text, l->buf, l->len) < 0)
        output_spool_failed(o, &o->conn_text);
    pending_take(&o->pending, c->info.flow_id, &pc, add_event_line, o);
    ref = &o->text_conns[o->conns_listed - 1];
    ref->flow_id = c->info.flow_id;
    ref->off = (uint64_t)off;
    ref->len = o->conn_text.size - (uint64_t)off;
}

void text_dns(struct output *o, const struct dns_lookup *lk)
{
    struct text_scratch tx = { .next = 0 };
    unsigned nq = lk->nqueries < DNS_LOOKUP_MAX_TX ? lk->nqueries : DNS_LOOKUP_MAX_TX;
    char uid[32], tb[DNS_TYPE_NAME_BUFLEN], buf[TEXT_LINE_MAX];
    struct line line = { buf, sizeof(buf), 0 }, *l = &line;

    snprintf(uid, sizeof(uid), "D%" PRIu64, lk->id);
    line_add(l, "  %-5s %-5s %s  %s", uid, tesc(&tx, dns_type_name(lk->qtype, tb, sizeof(tb))),
             tesc(&tx, lk->qname ? lk->qname : ""), tesc(&tx, dns_outcome_name((enum dns_outcome)lk->outcome)));
    if (lk->nans)
        line_add(l, " (%u answers)", lk->nans);
    if (nq && lk->query[0].frame)
        line_add(l, "  frames %" PRId64, (int64_t)lk->query[0].frame);
    else
        line_add(l, "  frames -");
    if (lk->has_response && lk->response.frame)
        line_add(l, "->%" PRId64, (int64_t)lk->response.frame);
    line_add(l, "\n");
    if (spool_append(&o->dns, l->buf, l->len) < 0)
        output_spool_failed(o, &o->dns);
}

/* ---- the report --------------------------------------------------------- */

static const char *verdict_code_shown(const struct corr_verdict *v)
{
    const struct verdict_info *vi = verdict_info_of(v->code);
    return vi ? vi->code : "CAP-NOTHING";
}

static const char *confidence_shown(const struct corr_verdict *v)
{
    return v->confidence ? v->confidence : "low";
}

/* A step's frame as Wireshark numbers it in its own file: "N" with one
 * input, "OBS#N" (the @OBS tag, else the file's base name) when several
 * are merged. */
static const char *frame_shown(const struct output *o, const struct frame_ref *r, char *buf, size_t len)
{
    const char *name;
    if (o->nsources < 2 || r->source >= o->nsources) {
        snprintf(buf, len, "%" PRIu64, r->src_frame ? r->src_frame : r->frame);
        return buf;
    }
    name = o->sources[r->source].observer;
    if (!name && (name = o->sources[r->source].name) && strrchr(name, '/'))
        name = strrchr(name, '/') + 1;
    snprintf(buf, len, "%.24s#%" PRIu64, name ? name : "?", r->src_frame);
    return buf;
}

static void text_direction(const struct output *o, FILE *fp, struct text_scratch *tx, const struct corr_direction *d)
{
    int64_t t0 = d->n_timeline ? d->timeline[0].order_ns : 0; /* one clock for all capture points */
    const struct corr_verdict *v = &d->verdict;
    const struct verdict_info *vi = verdict_info_of(v->code);
    bool ok = strcmp(corr_status_name(v->status), "ok") == 0;
    char st[16];

    upper(st, sizeof(st), corr_status_name(v->status));
    fprintf(fp, "\n    %s -> %s: %s", tesc(tx, d->from), tesc(tx, d->to), st);
    if (!ok)
        fprintf(fp, " at %s, %s (confidence %s)", tesc(tx, fed_stage_name(v->stage)),
                tesc(tx, verdict_code_shown(v)), tesc(tx, confidence_shown(v)));
    else if (v->code != VERDICT_OK && vi) /* ok, with a remark: a pending subscription */
        fprintf(fp, " (%s, confidence %s)", tesc(tx, verdict_code_shown(v)), tesc(tx, confidence_shown(v)));
    else
        fprintf(fp, " (confidence %s)", tesc(tx, confidence_shown(v)));
    if (v->decrypted)
        fprintf(fp, " [decrypted]");
    if (v->inferred)
        fprintf(fp, " [inferred: %s]", tesc(tx, v->rule ? v->rule : "?"));
    fprintf(fp, "\n      %s\n", tesc(tx, v->summary));
    for (unsigned i = 0; i < d->n_timeline; i++) {
        const struct corr_tl *t = &d->timeline[i];
        char frame[48], uid[32] = "", when[40];
        if (d->timeline_elided && i == d->n_timeline / 2)
            fprintf(fp, "         ... %" PRIu64 " timeline lines elided ...\n", d->timeline_elided);
        frame_shown(o, &t->ref, frame, sizeof(frame));
        if (o->absolute_time)
            format_time(t->ref.ts_ns, when, sizeof(when));
        else
            snprintf(when, sizeof(when), "+%.6f", (double)(t->order_ns - t0) / 1e9);
        if (t->flow_id)
            snprintf(uid, sizeof(uid), "C%" PRIu64, (uint64_t)t->flow_id);
        else if (t->dns_id)
            snprintf(uid, sizeof(uid), "D%" PRIu64, t->dns_id);
        fprintf(fp, "      %s %s %-9s %10s %-5s %s%s\n", t->failing ? ">>" : "  ", when,
                tesc(tx, fed_stage_name(t->stage)), tesc(tx, frame), uid, tesc(tx, t->what),
                t->decrypted ? " [decrypted]" : "");
    }
    for (unsigned n = 0; n < v->n_notes; n++)
        fprintf(fp, "      note: %s\n", tesc(tx, v->notes[n]));
    if (o->evidence && o->evidence(o->evidence_ctx, d))
        fprintf(fp, "      evidence: %s\n", tesc(tx, o->evidence(o->evidence_ctx, d)));
    if (vi && v->status != CORR_OK && vi->advice[0]) {
        fprintf(fp, "      what to do (fedtrace explain %s):\n", tesc(tx, vi->code));
        for (int a = 0; a < VERDICT_MAX_ADVICE && vi->advice[a]; a++) {
            char line[1024];
            verdict_render(vi->advice[a], &v->vars, line, sizeof(line));
            fprintf(fp, "        - %s\n", tesc(tx, line));
        }
    }
}

/* The ladder of one federation: what happened in each direction, the
 * failing step marked, then the advice. */
static void text_fed_block(const struct output *o, FILE *fp, struct text_scratch *tx, const struct corr_federation *f)
{
    const struct corr_verdict *v = f->verdict;
    char st[16];
    upper(st, sizeof(st), corr_status_name(v->status));
    fprintf(fp, "\n  %s  %s <-> %s  %s", tesc(tx, f->id), tesc(tx, f->domains[0]), tesc(tx, f->domains[1]), st);
    if (strcmp(corr_status_name(v->status), "ok") != 0)
        fprintf(fp, " at %s: %s (confidence %s)", tesc(tx, fed_stage_name(v->stage)), tesc(tx, verdict_code_shown(v)),
                tesc(tx, confidence_shown(v)));
    fputc('\n', fp);
    if (f->local)
        fprintf(fp, "    local domain: %s (%s)\n", tesc(tx, f->local), tesc(tx, f->role_reason));
    else
        fprintf(fp, "    local domain: unknown (%s)\n", tesc(tx, f->role_reason));
    for (unsigned k = 0; k < f->n_dir; k++)
        text_direction(o, fp, tx, &f->dir[k]);
}

/* --summary: one line per direction of a federation. */
static void text_fed_summary(FILE *fp, struct text_scratch *tx, const struct corr_federation *f)
{
    for (unsigned k = 0; k < f->n_dir; k++) {
        const struct corr_verdict *v = &f->dir[k].verdict;
        char st[16];
        upper(st, sizeof(st), corr_status_name(v->status));
        fprintf(fp, "%s %s %s -> %s: %s\n", st, tesc(tx, verdict_code_shown(v)), tesc(tx, f->dir[k].from),
                tesc(tx, f->dir[k].to), tesc(tx, v->summary));
    }
}

void text_federation(const struct output *o, FILE *fp, const struct corr_federation *f)
{
    struct text_scratch *tx = malloc(sizeof(*tx));
    if (!tx)
        return;
    tx->next = 0;
    if (o->summary)
        text_fed_summary(fp, tx, f);
    else
        text_fed_block(o, fp, tx, f);
    free(tx);
}

/* The federations retired before the end (spooled as written), then the
 * ones the correlator still holds. */
static void text_federations(struct output *o, FILE *fp, struct text_scratch *tx)
{
    unsigned nf = o->corr ? corr_federation_count(o->corr) : 0;
    if (!o->summary)
        fprintf(fp, "\nfederations: %" PRIu64 "\n", o->feds_spooled + nf);
    if (o->feds_spooled && spool_copy(&o->feds, 0, o->feds.size, fp) != 0 && o->feds.err)
        output_spool_failed(o, &o->feds);
    for (unsigned i = 0; i < nf; i++) {
        const struct corr_federation *f = corr_federation_at(o->corr, i);
        if (o->summary)
            text_fed_summary(fp, tx, f);
        else
            text_fed_block(o, fp, tx, f);
    }
}

static int by_flow_id(const void *a, const void *b)
{
    uint64_t x = ((const struct text_conn_ref *)a)->flow_id, y = ((const struct text_conn_ref *)b)->flow_id;
    return x < y ? -1 : x > y;
}

/* The listed connections, in flow order. */
static void text_connections(struct output *o, FILE *fp)
{
    uint64_t n = o->conns_listed < o->text_conns_cap ? o->conns_listed : o->text_conns_cap;
    if (o->text_conns)
        qsort(o->text_conns, (size_t)n, sizeof(o->text_conns[0]), by_flow_id);
    for (uint64_t i = 0; i < n; i++)
        if (spool_copy(&o->conn_text, o->text_conns[i].off, o->text_conns[i].len, fp) != 0) {
            output_spool_failed(o, &o->conn_text);
            return;
        }
}

/* The clock offset of capture point i, when one was estimated and applied. */
static void text_clock_line(const struct output *o, FILE *fp, unsigned i)
{
    struct corr_clock clk;
    int64_t a;
    if (!o->corr || !corr_clock_offset(o->corr, i, &clk))
        return;
    a = clk.offset_ns < 0 ? -clk.offset_ns : clk.offset_ns;
    fprintf(fp, "      clock %c%" PRId64 ".%03" PRId64 " s against [%u], from %" PRIu64
                " connection%s both saw (applied to pairing and timelines)\n",
            clk.offset_ns < 0 ? '-' : '+', a / FT_NS_PER_SEC, (a % FT_NS_PER_SEC) / 1000000, clk.reference, clk.pairs,
            clk.pairs == 1 ? "" : "s");
}

void text_finish(struct output *o, const struct stats_snapshot *snap)
{
    FILE *fp = o->fp;
    struct text_scratch *tx = malloc(sizeof(*tx));
    char t0[40], t1[40];
    const struct decode_stats *d = &snap->decode;
    const struct reasm_stats *rs = &snap->reasm;
    unsigned nsrc = snap->nsources;
    struct cap_hit hits[CAPS_MAX];
    size_t nhits;

    if (!tx)
        return;
    tx->next = 0;
    if (o->summary) {
        text_federations(o, fp, tx);
        free(tx);
        return;
    }
    fprintf(fp, "fedtrace %s: %" PRIu64 " frames from %u source%s", PACKAGE_VERSION, snap->frames, nsrc,
            nsrc == 1 ? "" : "s");
    if (snap->have_packets)
        fprintf(fp, ", %s .. %s", format_time(snap->pipeline.first_ns, t0, sizeof(t0)),
                format_time(snap->pipeline.last_ns, t1, sizeof(t1)));
    fputc('\n', fp);
    for (unsigned i = 0; i < nsrc; i++) {
        const struct source_facts *s = &snap->sources[i];
        fprintf(fp, "  [%u] %s%s%s  %s  %" PRIu64 " frames%s%s\n", i, tesc(tx, s->name), s->observer ? "@" : "",
                tesc(tx, s->observer), tesc(tx, s->linktype_name), s->frames, s->error[0] ? "  DAMAGED: " : "",
                tesc(tx, s->error));
        text_clock_line(o, fp, i);
    }
    if (o->interrupted_by)
        fprintf(fp, "  interrupted by %s: the report covers only what was captured before\n", o->interrupted_by);
    text_federations(o, fp, tx);
    if (!o->verbose) {
        fprintf(fp, "\n%" PRIu64 " connections, %" PRIu64 " DNS lookups (-v lists them)\n", o->conns_listed,
                o->lookups_listed);
    } else {
        fprintf(fp, "\ndns lookups: %" PRIu64 "\n", o->lookups_listed);
        if (spool_copy(&o->dns, 0, o->dns.size, fp) != 0 && o->dns.err)
            output_spool_failed(o, &o->dns);
        fprintf(fp, "\nconnections: %" PRIu64 "\n", o->conns_listed);
        text_connections(o, fp);
    }
    if (o->conns_not_listed)
        fprintf(fp, "  ... and %" PRIu64 " more (use --format json or ndjson)\n", o->conns_not_listed);
    fprintf(fp, "\ncapture quality: %" PRIu64 " gaps (%" PRIu64 " bytes missing), %" PRIu64
                " bad TCP checksums, %" PRIu64 " frames cut by snaplen, %" PRIu64 " undecodable",
            rs->gaps, rs->gap_bytes, d->tcp_csum_bad, d->snaplen_cut,
            d->truncated_link + d->truncated_ip + d->truncated_l4 + d->invalid_ip + d->invalid_l4);
    nhits = caps_hit(snap, o->corr ? corr_stats(o->corr) : NULL, hits);
    for (size_t i = 0; i < nhits; i++)
        fprintf(fp, "%s%s cap (%" PRIu64 " %s)", i ? ", " : "; caps that bit: ", hits[i].cap,
                hits[i].count, hits[i].what);
    fputc('\n', fp);
    if (snap->decrypt.enabled) {
        const struct decrypt_stats *ds = &snap->decrypt;
        fprintf(fp, "tls decryption: %" PRIu64 " TLS connections, %" PRIu64 " decrypted, %" PRIu64
                    " fell back to inference; %" PRIu64 " records decrypted (%" PRIu64 " bytes); %" PRIu64
                    " failed to authenticate (wrong key), %" PRIu64 " without a key, %" PRIu64 " unsupported, %" PRIu64
                    " damaged",
                ds->connections, ds->connections_decrypted, ds->connections_fallen_back, ds->records,
                ds->plaintext_bytes, ds->auth_failures, ds->no_key, ds->unsupported, ds->errors);
        if (ds->key_waits)
            fprintf(fp, "; %" PRIu64 " waited for a key the log did not have yet (%" PRIu64 " got it later)",
                    ds->key_waits, ds->keys_late);
        fputc('\n', fp);
    }
    if (o->verbose) {
        json_object *st = stats_json(snap);
        fprintf(fp, "\nstatistics:\n%s\n", json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
        json_object_put(st);
    }
    free(tx);
}
