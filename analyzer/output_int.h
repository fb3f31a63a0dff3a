/*
 * output_int.h - the inside of the output: the handle, the JSON builder
 * helpers and what each of the output's files offers the others.  Only
 * analyzer/output*.c include it; it, output_jwrite.h and output_html_int.h
 * are the headers that name json-c, all three inside the output.
 *
 *   output.c            the handle: formats, caps, the fact sink, lifetime
 *   output_build.c      small JSON builders shared by every family
 *   output_conn.c       a connection record as JSON
 *   output_xmpp.c       an XMPP (and TLS) event as JSON
 *   output_jwrite.c     JSON written as a json-c tree or straight as text
 *   output_dns.c        a DNS lookup as JSON
 *   output_federation.c federations, directions and verdicts as JSON
 *   output_stats.c      the capture and the statistics as JSON
 *   output_json.c       the JSON document writer
 *   output_ndjson.c     the NDJSON line writer: each family's event
 *   output_ecs.c        the ECS envelope, ECS names of DNS/TLS, random uids
 *   output_text.c       the text report, rendered from the C records
 *   output_pending.c    XMPP events of open connections (spooled)
 *   output_retired.c    federations the correlator retired before the end (spooled)
 *   output_spool.c      temporary files
 *
 * Every json_object a builder returns belongs to the caller.
 */
#ifndef FT_OUTPUT_INT_H
#define FT_OUTPUT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "output.h"
#include "output_jwrite.h"
#include "output_pending.h"
#include "output_spool.h"

/* Every key the output adds is a literal or a static name (fed_stage_name,
 * dns_err_name...), so json-c need not copy it: a strdup and a free per
 * member were a fifth of a busy run's time.  A key built in a buffer must
 * use json_object_object_add_ex(o, k, v, 0). */
#define json_object_object_add(o, key, v) json_object_object_add_ex((o), (key), (v), JSON_C_OBJECT_ADD_CONSTANT_KEY)

#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
/* The document's connections and lookups: one line each (many, flat). */
#define JSON_ELEM_FLAGS (JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

/* A capture source as the ECS observer names it (output_add_source). */
struct output_source {
    char *name;                 /* owned: interface or file */
    char *observer;             /* owned: the @OBS tag or NULL */
    bool live;
};

/* Where the text report finds a listed connection's block (conn_text). */
struct text_conn_ref {
    uint64_t flow_id;
    uint64_t off, len;
};

struct output {
    enum output_format format;
    FILE *fp;                   /* not owned */
    int verbose;
    /* caps: what the document or the report holds at most */
    uint64_t max_events;        /* XMPP events kept (JSON/text) */
    uint64_t events_kept, events_dropped;
    uint64_t max_lookups;       /* DNS lookups listed (text) */
    uint64_t lookups_listed, lookups_dropped;
    uint64_t max_text_conns;    /* connections listed (text) */
    uint64_t conns_listed, conns_not_listed;
    /* progress */
    uint64_t conns_written;     /* JSON: connections streamed so far */
    uint64_t lookups_spooled;   /* JSON: lookups in the dns spool */
    uint64_t lookups_unreferenced; /* JSON without -v: lookups no federation refers to, left out */
    uint64_t ndjson_lines;
    uint64_t utf8_replaced;     /* ill-formed UTF-8 sequences replaced by U+FFFD */
    const char *interrupted_by; /* "SIGINT"... that ended the capture; static */
    const struct correlator *corr; /* not owned; set by output_federations */
    output_evidence_fn evidence;   /* --evidence-dir, or NULL */
    const void *evidence_ctx;      /* not owned */
    int64_t t0_ns;              /* capture start */
    /* what waits for its place */
    bool keep_events;           /* JSON, text -v: events go to `pending` */
    struct pending_store pending;
    struct jw event_text;       /* the document's event being written (buffer reused) */
    struct jw elem_text;        /* the document's connection being written (buffer reused) */
    struct spool dns;           /* JSON: packed lookups; text -v: report lines */
    unsigned char *dns_buf;     /* owned: JSON, one packed lookup (DNS_PACK_MAX) */
    struct dns_lookup *dns_lk;  /* owned: JSON, a lookup unpacked at the end */
    struct spool conn_text;     /* text -v: one block per listed connection */
    struct text_conn_ref *text_conns; /* owned; text -v, conns_listed of them */
    uint64_t text_conns_cap;
    /* federations the correlator retired and freed before the end
     * (output_retired): written out first at the end, then the live ones */
    struct spool feds;          /* JSON: one element each (u64 length, then
                                 * json-c's text); text: each one's block */
    uint64_t feds_spooled, feds_spooled_failed;
    uint8_t *dns_refs;          /* owned: JSON, one bit per lookup id a
                                 * federation refers to (ids count from 1) */
    uint64_t dns_refs_len;      /* bytes of dns_refs */
    bool dns_refs_all;          /* an id too large or no memory: list every lookup */
    /* capture drops (output_note_drops) */
    struct drop_window { int64_t from_ns, to_ns; uint64_t dropped; } drops[OUTPUT_MAX_DROP_WINDOWS];
    unsigned ndrops;
    /* ECS (output_ecs.c) */
    bool random_uids;           /* NDJSON: Zeek-style random uids */
    uint64_t uid_key[2];        /* random per run */
    char hostname[256];         /* observer.hostname; "" if unknown */
    struct output_source sources[FACT_MAX_SOURCES];
    unsigned nsources;
    bool absolute_time;         /* text: timeline times absolute, not relative */
    bool summary;               /* text: one line per federation direction only */
    /* the first temporary-file failure, for output_error() */
    int spool_errno;
    bool spool_created;         /* false: making the file failed */
    char spool_dir[256];
};

/* Notes a spool's failure (the first one wins). */
void output_spool_failed(struct output *o, const struct spool *s);

/* ---- output_build.c ---------------------------------------------------- */

/* A string ("" for NULL: never a NULL handed to json-c). */
json_object *jstr(const char *s);
/* A string, or NULL (nothing added by jadd_opt) for NULL. */
json_object *jopt_str(const char *s);
json_object *jint(uint64_t v);
json_object *jtime(int64_t ts_ns);
/* Milliseconds with three decimals, printed the same on every machine. */
json_object *jms(int64_t ns);
/* {frame, ts, source, source_frame}, or NULL when never seen. */
json_object *jframe(const struct frame_ref *r);
json_object *jmeta(const struct ft_meta *m);
json_object *jendpoint(const struct ft_addr *a, uint16_t port);
/* The uid of a connection (prefix 'C') or DNS lookup ('D'): output_uid. */
json_object *jref_uid(const struct output *o, uint64_t id, char prefix);
/* Adds v under key unless v is NULL. */
void jadd_opt(json_object *o, const char *key, json_object *v);
/* Writes serialised JSON to fp with every ill-formed UTF-8 sequence
 * replaced by U+FFFD (counted) and U+0085/U+2028/U+2029 escaped. */
void output_emit(struct output *o, FILE *fp, const char *json);
void output_emit_len(struct output *o, FILE *fp, const char *json, size_t len);

/* The same builders on a writer (output_jwrite.h), for the objects
 * described once for the tree and the text.  key: as jw_open's. */
void jw_time(struct jw *w, const char *key, int64_t ts_ns);
void jw_ms(struct jw *w, const char *key, int64_t ns);
/* frame, ts, source, source_frame into the open object. */
void jw_frame_members(struct jw *w, const struct frame_ref *r);
/* {frame, ts, source, source_frame}; a frame never seen: nothing in an
 * object, null in an array (key NULL). */
void jw_frame(struct jw *w, const char *key, const struct frame_ref *r);
void jw_endpoint(struct jw *w, const char *key, const struct ft_addr *a, uint16_t port);
void jw_uid(struct jw *w, const char *key, const struct output *o, uint64_t id, char prefix);
/* The tree a tree writer built (NULL if it failed); frees the writer. */
json_object *jw_tree_done(struct jw *w);

/* ---- the event families ------------------------------------------------ */

/* A connection's members written by w into the object it has open (the
 * document adds its XMPP events); conn_json: the object as a tree. */
void conn_members(struct jw *w, const struct output *o, const struct conn_record *c);
json_object *conn_json(const struct output *o, const struct conn_record *c);
/* An XMPP event written by w (output_jwrite.h): with "uid" for NDJSON,
 * without it for the document's connections. */
void xmpp_write(struct jw *w, const struct output *o, const struct flow_info *fi, const struct xmpp_event *ev,
                bool with_uid);
json_object *xmpp_json(const struct output *o, const struct flow_info *fi, const struct xmpp_event *ev);
json_object *dns_json(const struct output *o, const struct dns_lookup *lk);

/* A lookup as compact bytes (its strings as offsets into its pool) and
 * back: how the document's DNS spool keeps lookups until it knows which
 * to list.  dns_pack needs cap >= DNS_PACK_MAX and returns the length (0
 * when cap is short); dns_unpack checks every length and count. */
#define DNS_PACK_MAX (sizeof(struct dns_lookup) + 4 * (1 + DNS_LOOKUP_MAX_CNAME + 2 * DNS_LOOKUP_MAX_ANS) + 64)
size_t dns_pack(const struct dns_lookup *lk, unsigned char *out, size_t cap);
bool dns_unpack(struct dns_lookup *lk, const unsigned char *in, size_t len);
/* full: with title, evidence, notes, advice and refs.  When the
 * capture's drops touch direction d's time (d may be NULL), its
 * "confidence" is a step lower and, full, a note says so. */
json_object *verdict_json(const struct output *o, const struct corr_verdict *v, bool full,
                          const struct corr_direction *d);
/* Federation f written by w (the document: as text); federation_json:
 * the same as a tree. */
void federation_write(struct jw *w, const struct output *o, const struct corr_federation *f);
json_object *federation_json(const struct output *o, const struct corr_federation *f);
/* The NDJSON federation.verdict event of one direction, stamped with
 * the decision time and carrying the previous verdict when it changed. */
json_object *federation_verdict_event(const struct output *o, const struct corr_federation *f,
                                      const struct corr_direction *d, const struct corr_verdict_change *chg);
json_object *capture_json(const struct output *o, const struct stats_snapshot *snap);
/* decode, ip_fragments, flows, reassembly, pipeline. */
json_object *stats_json(const struct stats_snapshot *snap);
/* stats_json plus dissectors, correlator (when known) and output. */
json_object *stats_full_json(const struct output *o, const struct stats_snapshot *snap);

/* ---- output_ecs.c ------------------------------------------------------ */

/* How an event is classified in ECS.  category and type are one keyword
 * or several separated by commas (written as arrays). */
struct ecs_event {
    const char *kind;       /* event, alert, state, metric */
    const char *category;   /* e.g. "network" */
    const char *type;       /* e.g. "connection,end" */
    const char *action;     /* the fedtrace event type */
    const char *outcome;    /* success, failure, unknown; NULL: none */
    const char *dataset;    /* fedtrace.<family> */
};

/* Picks the run's uid key (random), the host name; uids are random for
 * NDJSON only. */
void ecs_init(struct output *o);
void ecs_free(struct output *o);
/* "C12" for the JSON document and the text report; for NDJSON a Zeek-style
 * "C" + 17 base-62 characters, the same for the same id within the run
 * and unrelated across runs and sensors.  Into buf (32 bytes are enough). */
const char *output_uid(const struct output *o, uint64_t id, char prefix, char *buf, size_t len);
/* @timestamp, ecs.version, event.*, observer.* (of capture source
 * `source`; -1: none in particular) into ev. */
void ecs_envelope(const struct output *o, json_object *ev, int64_t ts_ns, const struct ecs_event *d, int source);
/* source.* and destination.* (ip, port), their addresses in related.ip. */
void ecs_endpoints(json_object *ev, const struct ft_addr *src, uint16_t sport, const struct ft_addr *dst,
                   uint16_t dport);
/* network.transport/protocol/type/community_id. */
void ecs_network(json_object *ev, const struct ft_addr *a, uint16_t pa, const struct ft_addr *b, uint16_t pb,
                 bool udp, const char *protocol);
void ecs_related_ip(json_object *ev, const struct ft_addr *a);
void ecs_related_host(json_object *ev, const char *host);
/* error.code/message/type (NULL or "" parts left out). */
void ecs_error(json_object *ev, const char *code, const char *message, const char *type);
/* dns.* of a lookup (caller adds it as "dns"); its names and addresses go
 * to related.* of ev. */
json_object *ecs_dns(json_object *ev, const struct dns_lookup *lk);
/* tls.* of a TLS fact, or NULL when it has nothing under ECS names; an
 * alert or error sets error.* of ev. */
json_object *ecs_tls(json_object *ev, const struct tls_event *t, bool from_server);
/* The wall clock, for events with no packet time (an idle stats line). */
int64_t ecs_wall_ns(void);

/* ---- output_json.c ----------------------------------------------------- */

void json_doc_head(struct output *o);
/* Writes one finished connection with its XMPP events (taken from
 * `pending`) and stanza counts. */
void json_doc_conn(struct output *o, const struct conn_record *rec);
/* Spools one lookup (takes j). */
void json_doc_dns(struct output *o, const struct dns_lookup *lk);
int json_doc_finish(struct output *o, const struct stats_snapshot *snap);
/* The document element of federation f as json-c writes it with
 * JSON_FLAGS in the "federations" array, its indentation included
 * (NUL-ended; malloc'd, the caller frees; NULL when memory ran out). */
char *json_federation_element(const struct output *o, const struct corr_federation *f);

/* ---- output_retired.c -------------------------------------------------- */

/* Notes the lookups f refers to (verdict evidence and timeline lines) in
 * dns_refs. */
void retired_note_dns(struct output *o, const struct corr_federation *f);
/* Whether the document lists lookup `id` without -v. */
bool retired_dns_referenced(const struct output *o, uint64_t id);
/* JSON: writes the spooled federations' elements to o->fp, each preceded
 * by ",\n" but the first by "\n".  0, or -1 when the spool failed. */
int retired_write_json(struct output *o);

/* ---- output_ndjson.c --------------------------------------------------- */

void ndjson_conn(struct output *o, const struct conn_record *rec, json_object *c);
void ndjson_xmpp(struct output *o, const struct flow_info *fi, const struct xmpp_event *ev, json_object *j);
void ndjson_dns(struct output *o, const struct dns_lookup *lk, json_object *j);
void ndjson_verdict(struct output *o, const struct corr_federation *f, const struct corr_direction *d,
                    const struct corr_verdict_change *chg);
/* A capture.stats event; final: the closing one. */
void ndjson_stats(struct output *o, const struct stats_snapshot *snap, bool final);
void ndjson_finish(struct output *o, const struct stats_snapshot *snap);

/* ---- output_text.c ----------------------------------------------------- */

#define TEXT_LINE_MAX (8 * 2048 + 256) /* a report line: a few escaped strings */

/* The report line of an XMPP event (for the connection listing), into
 * buf; its length. */
size_t text_xmpp_line(char *buf, size_t len, const struct xmpp_event *ev);
/* Lists a finished connection (text -v): its line, then the event lines
 * waiting in `pending`, spooled as one block for the flow-order listing. */
void text_conn(struct output *o, const struct conn_record *rec);
void text_dns(struct output *o, const struct dns_lookup *lk);
void text_finish(struct output *o, const struct stats_snapshot *snap);
/* The report's block of federation f (with --summary its lines), written
 * to fp (a buffer to spool or the report). */
void text_federation(const struct output *o, FILE *fp, const struct corr_federation *f);

#endif
