/*
 * output.c - the output handle: which format, what the document and the
 * report may hold (caps, counted when they bite), the fact sink, and the
 * lifetime of the spools (see output.h).  The formats are written by
 * output_json.c, output_ndjson.c and output_text.c; each event family is
 * built by its own output_<family>.c.
 */
#include "output_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 200000      /* XMPP events kept in the document (JSON/text) */
#define MAX_LOOKUPS 100000     /* DNS lookups listed in the text report */
#define MAX_TEXT_CONNS 10000   /* connections listed in the text report */

void output_spool_failed(struct output *o, const struct spool *s)
{
    if (o->spool_errno)
        return;
    o->spool_errno = s->err ? s->err : EIO;
    o->spool_created = s->created;
    snprintf(o->spool_dir, sizeof(o->spool_dir), "%s", s->dir);
}

static int open_spool(struct output *o, struct spool *s)
{
    if (spool_open(s) == 0)
        return 0;
    output_spool_failed(o, s);
    return -1;
}

struct output *output_new(enum output_format format, FILE *fp, int verbose, char *err, size_t errlen)
{
    struct output *o = calloc(1, sizeof(*o));
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    o->format = format;
    o->fp = fp;
    o->verbose = verbose;
    o->max_events = MAX_EVENTS;
    o->max_lookups = MAX_LOOKUPS;
    o->max_text_conns = MAX_TEXT_CONNS;
    jw_text_init(&o->event_text);
    jw_text_init(&o->elem_text);
    jw_text_layout(&o->elem_text, JSON_ELEM_FLAGS, 0);
    /* The JSON document nests a connection's events in it; the text
     * report lists them with -v.  NDJSON writes them as they come. */
    o->keep_events = format == OUTPUT_JSON || (format == OUTPUT_TEXT && verbose);
    if (o->keep_events && pending_init(&o->pending) != 0)
        output_spool_failed(o, &o->pending.spool);
    if (!o->spool_errno && (format == OUTPUT_JSON || (format == OUTPUT_TEXT && verbose)))
        open_spool(o, &o->dns);
    if (!o->spool_errno && format == OUTPUT_TEXT && verbose)
        open_spool(o, &o->conn_text);
    if (!o->spool_errno && format != OUTPUT_NDJSON)
        open_spool(o, &o->feds);
    if (format == OUTPUT_JSON) {
        o->dns_buf = malloc(DNS_PACK_MAX);
        o->dns_lk = malloc(sizeof(*o->dns_lk));
        if (!o->dns_buf || !o->dns_lk) {
            snprintf(err, errlen, "out of memory");
            output_free(o);
            return NULL;
        }
    }
    if (o->spool_errno) {
        output_error(o, err, errlen);
        output_free(o);
        return NULL;
    }
    ecs_init(o);
    if (format == OUTPUT_JSON)
        json_doc_head(o);
    return o;
}

void output_set_interrupted(struct output *o, const char *by)
{
    o->interrupted_by = by;
}

void output_set_absolute_time(struct output *o, bool on)
{
    o->absolute_time = on;
}

void output_set_summary(struct output *o, bool on)
{
    o->summary = on;
}

bool output_error(const struct output *o, char *buf, size_t len)
{
    if (!o->spool_errno)
        return false;
    snprintf(buf, len, "cannot %s a temporary file in '%s': %s", o->spool_created ? "write" : "create",
             o->spool_dir, strerror(o->spool_errno));
    return true;
}

/* ---- connections -------------------------------------------------------- */

static void discard_event(void *user, const char *data, size_t n)
{
    (void)user;
    (void)data;
    (void)n;
}

void output_conn(struct output *o, const struct conn_record *c)
{
    struct pending_conn pc;

    if (c->phase != CONN_END)
        return;
    switch (o->format) {
    case OUTPUT_NDJSON:
        ndjson_conn(o, c, conn_json(o, c));
        return;
    case OUTPUT_JSON:
        json_doc_conn(o, c);
        return;
    case OUTPUT_TEXT:
        break;
    }
    if (o->conns_listed >= o->max_text_conns) {
        o->conns_not_listed++;
        if (o->keep_events)
            pending_take(&o->pending, c->info.flow_id, &pc, discard_event, NULL);
        return;
    }
    o->conns_listed++;
    if (!o->verbose)
        return;
    if (o->conns_listed > o->text_conns_cap) {
        uint64_t ncap = o->text_conns_cap ? o->text_conns_cap * 2 : 256;
        struct text_conn_ref *nr;
        if (ncap > o->max_text_conns)
            ncap = o->max_text_conns;
        nr = realloc(o->text_conns, (size_t)ncap * sizeof(*nr));
        if (nr) {
            o->text_conns = nr;
            o->text_conns_cap = ncap;
        }
    }
    text_conn(o, c);
}

/* ---- XMPP events -------------------------------------------------------- */

/* Keeps one event for its connection's record: as JSON for the document,
 * as its report line for the text report. */
static void keep_event(struct output *o, struct pending_conn *pc, const struct flow_info *fi,
                       const struct xmpp_event *ev)
{
    int rc;
    if (o->format == OUTPUT_JSON) {
        const char *s;
        size_t n;
        jw_text_reset(&o->event_text);
        xmpp_write(&o->event_text, o, fi, ev, false);
        s = jw_text(&o->event_text, &n);
        rc = s ? pending_add(&o->pending, pc, s, n) : -1;
    } else {
        char line[TEXT_LINE_MAX];
        size_t n = text_xmpp_line(line, sizeof(line), ev);
        rc = pending_add(&o->pending, pc, line, n);
    }
    if (rc != 0) {
        o->events_dropped++;
        if (o->pending.spool.err)
            output_spool_failed(o, &o->pending.spool);
        return;
    }
    o->events_kept++;
}

void output_xmpp_event(struct output *o, const struct flow_info *fi, const struct xmpp_event *ev)
{
    struct pending_conn *pc = NULL;

    /* Encrypted record sizes feed the inferred verdicts; listing each one
     * would bury the events a reader wants. */
    if (ev->type == XMPP_EV_TLS && ev->tls && ev->tls->type == TLS_EV_RECORD)
        return;
    if (o->format == OUTPUT_NDJSON) {
        if (ev->type == XMPP_EV_STANZA && !o->verbose && !xmpp_stanza_is_notable(ev))
            return;
        ndjson_xmpp(o, fi, ev, xmpp_json(o, fi, ev));
        return;
    }
    if (o->keep_events)
        pc = pending_get(&o->pending, fi->flow_id, true);
    if (ev->type == XMPP_EV_STANZA && pc && (unsigned)ev->stanza < 3)
        pc->stanzas[ev->stanza]++;
    if (ev->type == XMPP_EV_STANZA && !o->verbose && !xmpp_stanza_is_notable(ev))
        return;
    if (o->events_kept >= o->max_events || (o->keep_events && !pc)) {
        o->events_dropped++;
        return;
    }
    if (!o->keep_events) {
        o->events_kept++; /* text without -v: counted, never listed */
        return;
    }
    keep_event(o, pc, fi, ev);
}

/* ---- DNS lookups -------------------------------------------------------- */

void output_dns_lookup(struct output *o, const struct dns_lookup *lk)
{
    switch (o->format) {
    case OUTPUT_NDJSON:
        ndjson_dns(o, lk, dns_json(o, lk));
        return;
    case OUTPUT_JSON:
        json_doc_dns(o, lk);
        return;
    case OUTPUT_TEXT:
        break;
    }
    if (o->lookups_listed >= o->max_lookups) {
        o->lookups_dropped++;
        return;
    }
    o->lookups_listed++;
    if (o->verbose)
        text_dns(o, lk);
}

/* ---- the end ------------------------------------------------------------ */

void output_verdict(void *ctx, const struct corr_federation *f, const struct corr_direction *d,
                    const struct corr_verdict_change *chg)
{
    struct output *o = ctx;
    if (o->format == OUTPUT_NDJSON)
        ndjson_verdict(o, f, d, chg);
}

void output_set_evidence(struct output *o, output_evidence_fn fn, const void *ctx)
{
    o->evidence = fn;
    o->evidence_ctx = ctx;
}

void output_federations(struct output *o, const struct correlator *corr, int64_t capture_start_ns)
{
    o->t0_ns = capture_start_ns;
    o->corr = corr;
}

int output_finish(struct output *o, const struct stats_snapshot *snap)
{
    switch (o->format) {
    case OUTPUT_JSON:
        if (json_doc_finish(o, snap) != 0)
            return -1;
        break;
    case OUTPUT_NDJSON:
        ndjson_finish(o, snap);
        break;
    case OUTPUT_TEXT:
        text_finish(o, snap);
        break;
    }
    if (o->spool_errno)
        return -1;
    if (fflush(o->fp) != 0 || ferror(o->fp))
        return -1;
    return 0;
}

void output_note_drops(struct output *o, int64_t from_ns, int64_t to_ns, uint64_t dropped)
{
    struct drop_window *w = o->ndrops ? &o->drops[o->ndrops - 1] : NULL;
    if (to_ns < from_ns)
        to_ns = from_ns;
    if (w && from_ns <= w->to_ns + FT_NS_PER_SEC) { /* touches the last one */
        if (to_ns > w->to_ns)
            w->to_ns = to_ns;
        w->dropped += dropped;
        return;
    }
    if (o->ndrops == OUTPUT_MAX_DROP_WINDOWS) {
        /* Full: the two oldest become one (wider, never forgotten). */
        o->drops[0].to_ns = o->drops[1].to_ns;
        o->drops[0].dropped += o->drops[1].dropped;
        memmove(&o->drops[1], &o->drops[2], (OUTPUT_MAX_DROP_WINDOWS - 2) * sizeof(o->drops[0]));
        o->ndrops--;
    }
    o->drops[o->ndrops++] = (struct drop_window){ from_ns, to_ns, dropped };
}

void output_stats_line(struct output *o, const struct stats_snapshot *snap)
{
    if (o->format == OUTPUT_NDJSON)
        ndjson_stats(o, snap, false);
}

void output_free(struct output *o)
{
    if (!o)
        return;
    ecs_free(o);
    if (o->keep_events)
        pending_free(&o->pending);
    spool_close(&o->dns);
    spool_close(&o->conn_text);
    spool_close(&o->feds);
    free(o->dns_refs);
    free(o->text_conns);
    free(o->dns_buf);
    free(o->dns_lk);
    jw_free(&o->event_text);
    jw_free(&o->elem_text);
    free(o);
}

/* ---- the fact sink ------------------------------------------------------ */

static void sink_conn(void *ctx, const struct conn_record *c)
{
    output_conn(ctx, c);
}

static void sink_xmpp(void *ctx, const struct xmpp_fact *x)
{
    output_xmpp_event(ctx, x->conn, x->ev);
}

static void sink_dns(void *ctx, const struct dns_lookup *lk)
{
    output_dns_lookup(ctx, lk);
}

struct fact_sink output_fact_sink(struct output *o)
{
    struct fact_sink s = { o, sink_conn, sink_xmpp, sink_dns, NULL };
    return s;
}
