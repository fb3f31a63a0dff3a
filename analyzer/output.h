/*
 * output.h - rendering what the pipeline found: a JSON document, NDJSON
 * events, or a short text report.
 *
 * The output owns every json-c object it builds.  Connections arrive as
 * their flows end (output_conn), the run's summary at the end
 * (output_finish).  NDJSON lines are written as they happen so a log
 * shipper sees them live.  The JSON document is streamed too: its head at
 * output_init, each connection as its flow ends, DNS lookups, capture and
 * stats at the end, so memory does not grow with the connection count.
 * The text report is written at the end (connections in flow order).
 *
 * Whatever the wire carried, JSON and NDJSON leave as valid UTF-8 (every
 * serialised piece goes through utf8_fwrite_clean; replacements are
 * counted in stats.output) and the text report prints every string
 * through term_escape.  Each NDJSON line is flushed whole as it is made.
 */
#ifndef FT_OUTPUT_H
#define FT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "capture.h"
#include "correlate.h"
#include "dispatch.h"
#include "dissectors/dns.h"
#include "dissectors/xmpp.h"
#include "flow.h"
#include "pipeline.h"

#define FEDTRACE_SCHEMA_VERSION "1.1"

enum output_format {
    OUTPUT_JSON,
    OUTPUT_NDJSON,
    OUTPUT_TEXT,
};

struct output {
    enum output_format format;
    FILE *fp;                 /* not owned */
    int verbose;
    json_object *connections; /* array, owned; JSON and text formats */
    json_object *pending_xmpp; /* uid -> array of events of connections still open */
    json_object *dns;         /* array of lookups, owned */
    uint64_t ndjson_lines;
    uint64_t max_events;      /* events kept in the document (JSON/text) */
    uint64_t events_kept, events_dropped;
    uint64_t max_lookups, lookups_dropped;   /* DNS lookups kept in the document */
    uint64_t max_text_conns, conns_not_listed; /* connections listed in the text report */
    uint64_t conns_written;   /* JSON: connections streamed so far */
    FILE *dns_spool;          /* JSON: lookups waiting for their place (owned) */
    json_object *federations; /* array, owned; JSON and text */
    int64_t t0_ns;            /* capture start, for relative times in text */
    const struct correlator *corr; /* not owned; set by output_federations */
    uint64_t lookups_spooled;
    uint64_t utf8_replaced;   /* ill-formed UTF-8 sequences replaced by U+FFFD */
    const char *interrupted_by; /* "SIGINT"... that ended the capture; static */
    int spool_errno;          /* first error creating or writing dns_spool */
    char spool_dir[256];      /* where dns_spool was made */
};

/* Prepares an output writing to fp.  0, or -1 when memory or the
 * temporary file ran out (output_error says which; call output_free). */
int output_init(struct output *o, enum output_format format, FILE *fp, int verbose);

/* Records one finished connection. */
void output_conn(struct output *o, const struct flow *f, enum flow_end_reason why);

/* Records one XMPP event of connection fi. */
void output_xmpp_event(struct output *o, const struct flow_info *fi, const struct xmpp_event *ev);

/* Records one finished DNS lookup. */
void output_dns_lookup(struct output *o, const struct dns_lookup *lk);

/* Records the federations the correlator built (call once, before
 * output_finish).  NDJSON writes one federation.verdict event per
 * direction at once. */
void output_federations(struct output *o, const struct correlator *corr, int64_t capture_start_ns);

/* Writes the document / the summary event / the report.  0, or -1 when
 * writing failed (errno says why). */
int output_finish(struct output *o, const struct capture *cap, const struct pipeline *pl,
                  const struct dispatch *disp);

/* Records that the capture was stopped by a signal, by its name ("SIGINT";
 * a static string, NULL: it was not): capture.interrupted and
 * capture.interrupted_by in the document and the NDJSON capture.stats
 * event. */
void output_set_interrupted(struct output *o, const char *by);

/* After output_init() or output_finish() failed: true and a one-line
 * description in buf when a temporary file was the cause; false when it
 * was memory or the output stream itself (errno, the stream's error). */
bool output_error(const struct output *o, char *buf, size_t len);

/* Frees what output_init() and output_conn() built. */
void output_free(struct output *o);

/* "2026-11-24T05:00:01.123456Z" into buf (at least 32 bytes). */
const char *format_time(int64_t ts_ns, char *buf, size_t len);

#endif
