/*
 * output.h - rendering what fedtrace found: a JSON document, NDJSON
 * events, or a short text report.
 *
 * The output is a fact sink (facts.h): connection records, XMPP events and
 * DNS lookups arrive as they happen; the correlator's federations and a
 * stats snapshot at the end.  NDJSON lines are written as they happen so a
 * log shipper sees them live.  The JSON document is streamed: its head at
 * output_new, each connection as its flow ends, the DNS lookups (through a
 * temporary spool; without -v only those a federation refers to), the
 * federations, capture and stats at the end.  The
 * text report is written at the end from the C records (connections in
 * flow order).  Memory does not grow with the number of connections: what
 * waits for its place (the XMPP events of open connections, DNS lookups,
 * the text report's lists) waits in temporary files in $TMPDIR (or /tmp),
 * unlinked at once; only a small record per open XMPP connection stays in
 * memory.
 *
 * Whatever the wire carried, JSON and NDJSON leave as valid UTF-8 (every
 * serialised piece goes through utf8_fwrite_clean; replacements are
 * counted in stats.output) and the text report prints every string
 * through term_escape.  Each NDJSON line is flushed whole as it is made.
 *
 * The handle is opaque: only the output's own files know json-c.
 */
#ifndef FT_OUTPUT_H
#define FT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "correlate.h"
#include "facts.h"
#include "verdict.h"

#define FEDTRACE_SCHEMA_VERSION "1.2"

enum output_format {
    OUTPUT_JSON,
    OUTPUT_NDJSON,
    OUTPUT_TEXT,
};

struct output;

/* An output writing to fp (not owned; the caller closes it after
 * output_free).  NULL when memory or a temporary file ran out, with a
 * one-line reason in err. */
struct output *output_new(enum output_format format, FILE *fp, int verbose, char *err, size_t errlen);

/* Names capture source number `index` (added in this order) for the
 * NDJSON observer.* fields: its interface or file, its @OBS tag (NULL:
 * none) and whether it is live.  Strings are copied.  0, or -1 when memory
 * ran out or FACT_MAX_SOURCES are there. */
int output_add_source(struct output *o, const char *name, const char *observer, bool live);

/* Notes that the capture lost `dropped` packets (kernel or interface
 * drops) somewhere in packet time [from_ns, to_ns].  A verdict whose
 * direction had activity in such a window keeps its status and code but
 * its confidence goes one step down (high -> medium -> low) with a note
 * saying why.  Windows are merged when they touch; at most
 * OUTPUT_MAX_DROP_WINDOWS are kept (the oldest two are merged beyond). */
#define OUTPUT_MAX_DROP_WINDOWS 64
void output_note_drops(struct output *o, int64_t from_ns, int64_t to_ns, uint64_t dropped);

/* The output as a fact sink (ctx = o): the three functions below. */
struct fact_sink output_fact_sink(struct output *o);

/* Records one finished connection (records of other phases are ignored). */
void output_conn(struct output *o, const struct conn_record *c);

/* Records one XMPP event of connection fi. */
void output_xmpp_event(struct output *o, const struct flow_info *fi, const struct xmpp_event *ev);

/* Records one finished DNS lookup. */
void output_dns_lookup(struct output *o, const struct dns_lookup *lk);

/* A verdict as the correlator decides it (a corr_verdict_fn, ctx = the
 * output): NDJSON writes a federation.verdict event at once, stamped with
 * the decision time, with the previous verdict when it changed; the other
 * formats take the final verdicts from output_federations. */
void output_verdict(void *ctx, const struct corr_federation *f, const struct corr_direction *d,
                    const struct corr_verdict_change *chg);

/* A federation the correlator retired before the end (a corr_retired_fn,
 * ctx = the output): rendered at once as the format shows it at the end
 * (the document's element, the report's block) into a temporary file;
 * the document and the report list these first, then the federations
 * output_federations hands over.  A failed write is an output error
 * (output_finish fails, output_error says why). */
void output_retired(void *ctx, const struct corr_federation *f);

/* How many federations output_retired received failed (--fail-on-broken
 * adds the ones the correlator still holds). */
uint64_t output_failed_federations(const struct output *o);

/* Records the federations the correlator built (call once, before
 * output_finish; `corr` must live until then). */
void output_federations(struct output *o, const struct correlator *corr, int64_t capture_start_ns);

/* Records that the capture was stopped by a signal, by its name ("SIGINT";
 * a static string, NULL: it was not): capture.interrupted and
 * capture.interrupted_by in the document and the NDJSON capture.stats
 * event, a line in the text report. */
void output_set_interrupted(struct output *o, const char *by);

/* --evidence-dir: the file holding a direction's packets, or NULL; asked
 * when the document or report is written (output_finish). */
typedef const char *(*output_evidence_fn)(const void *ctx, const struct corr_direction *d);
void output_set_evidence(struct output *o, output_evidence_fn fn, const void *ctx);

/* Text report: the timeline's times absolute (UTC) instead of relative
 * to each direction's first step. */
void output_set_absolute_time(struct output *o, bool on);

/* Text report: only one line per federation direction (for scripts and
 * cron mails): status, code, the two domains, the summary. */
void output_set_summary(struct output *o, bool on);

/* NDJSON: writes a capture.stats event now (fedtrace.final false: the
 * run goes on); other formats ignore it. */
void output_stats_line(struct output *o, const struct stats_snapshot *snap);

/* Writes the document / the summary event / the report.  0, or -1 when
 * writing failed (errno or output_error say why). */
int output_finish(struct output *o, const struct stats_snapshot *snap);

/* After output_finish() failed: true and a one-line description in buf
 * when a temporary file was the cause; false when it was memory or the
 * output stream itself (errno, the stream's error). */
bool output_error(const struct output *o, char *buf, size_t len);

/* Frees everything the output holds.  NULL is fine. */
void output_free(struct output *o);

/* "2026-11-24T05:00:01.123456Z" into buf (at least 32 bytes). */
const char *format_time(int64_t ts_ns, char *buf, size_t len);

#endif
