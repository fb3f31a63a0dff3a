/*
 * output.c - JSON, NDJSON and text rendering (see output.h).
 */
#include <config.h>

#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "community_id.h"
#include "ipfrag.h"
#include "outfile.h"
#include "termsafe.h"
#include "utf8.h"

const char *format_time(int64_t ts_ns, char *buf, size_t len)
{
    time_t sec = (time_t)(ts_ns / FT_NS_PER_SEC);
    long usec = (long)((ts_ns % FT_NS_PER_SEC) / 1000);
    struct tm tm;
    char day[32];
    if (usec < 0) {
        sec -= 1;
        usec += 1000000;
    }
    gmtime_r(&sec, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06ldZ", day, usec);
    return buf;
}

/* A wire-derived string that is missing becomes "", never a NULL handed
 * to json-c.  Its bytes are made valid UTF-8 where the JSON is written
 * (emit): json-c passes bytes >= 0x80 through untouched, so that is the
 * one place every string, whatever built it, passes. */
static json_object *jstr(const char *s)
{
    return json_object_new_string(s != NULL ? s : "");
}

static json_object *jint(uint64_t v)
{
    return json_object_new_int64((int64_t)v);
}

static json_object *jtime(int64_t ts_ns)
{
    char buf[40];
    return jstr(format_time(ts_ns, buf, sizeof(buf)));
}

/* Milliseconds with three decimals, printed the same on every machine. */
static json_object *jms(int64_t ns)
{
    char buf[40];
    snprintf(buf, sizeof(buf), "%" PRId64 ".%03" PRId64, ns / 1000000, (ns % 1000000) / 1000);
    return json_object_new_double_s((double)ns / 1e6, buf);
}

static json_object *jframe(const struct frame_ref *r)
{
    json_object *o;
    if (!r->frame)
        return NULL;
    o = json_object_new_object();
    json_object_object_add(o, "frame", jint(r->frame));
    json_object_object_add(o, "ts", jtime(r->ts_ns));
    json_object_object_add(o, "source", jint(r->source));
    json_object_object_add(o, "source_frame", jint(r->src_frame));
    return o;
}

static void add_opt(json_object *o, const char *key, json_object *v)
{
    if (v)
        json_object_object_add(o, key, v);
}

static json_object *jendpoint(const struct ft_addr *a, uint16_t port)
{
    char buf[FT_ADDR_STRLEN];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "ip", jstr(ft_addr_str(a, buf, sizeof(buf))));
    json_object_object_add(o, "port", jint(port));
    return o;
}

static json_object *jdirection(const struct tcp_conn *c, enum ft_dir d)
{
    const struct tcp_dir_facts *df = &c->dir[d];
    const struct half_stream *hs = &c->half[d];
    json_object *o = json_object_new_object();

    json_object_object_add(o, "packets", jint(df->packets));
    json_object_object_add(o, "payload_bytes", jint(df->payload_bytes));
    json_object_object_add(o, "delivered_bytes", jint(hs->delivered));
    json_object_object_add(o, "gaps", jint(hs->gap_count));
    json_object_object_add(o, "gap_bytes", jint(hs->gap_bytes));
    json_object_object_add(o, "retransmissions", jint(hs->retransmits));
    json_object_object_add(o, "overlaps", jint(hs->overlaps));
    json_object_object_add(o, "overlap_conflicts", jint(hs->conflicts));
    json_object_object_add(o, "out_of_order", jint(hs->out_of_order));
    json_object_object_add(o, "bad_checksums", jint(df->bad_checksums));
    json_object_object_add(o, "zero_windows", jint(df->zero_windows));
    if (df->mss)
        json_object_object_add(o, "mss", jint(df->mss));
    if (df->wscale >= 0)
        json_object_object_add(o, "window_scale", jint((uint64_t)df->wscale));
    json_object_object_add(o, "sack_permitted", json_object_new_boolean(df->sack_permitted));
    json_object_object_add(o, "timestamps", json_object_new_boolean(df->timestamps));
    add_opt(o, "first_data", jframe(&df->first_data));
    add_opt(o, "fin", jframe(&df->fin));
    return o;
}

/* The connection object: the same in the JSON document and in NDJSON. */
static json_object *conn_json(const struct flow *f, enum flow_end_reason why)
{
    const struct tcp_conn *c = &f->tcp;
    json_object *o = json_object_new_object(), *hs, *dirs;
    char uid[32];
    int64_t rtt;

    snprintf(uid, sizeof(uid), "C%" PRIu64, f->info.flow_id);
    json_object_object_add(o, "uid", jstr(uid));
    json_object_object_add(o, "flow_id", jint(f->info.flow_id));
    json_object_object_add(o, "transport", jstr("tcp"));
    json_object_object_add(o, "app", jstr(app_proto_name(f->info.app)));
    {
        char cid[COMMUNITY_ID_LEN];
        json_object_object_add(o, "community_id",
                               jstr(community_id(&f->info.addr[0], f->info.port[0], &f->info.addr[1],
                                                 f->info.port[1], 6, 0, cid)));
    }
    json_object_object_add(o, "orig", jendpoint(&f->info.addr[FT_DIR_ORIG], f->info.port[FT_DIR_ORIG]));
    json_object_object_add(o, "resp", jendpoint(&f->info.addr[FT_DIR_RESP], f->info.port[FT_DIR_RESP]));
    json_object_object_add(o, "start", jtime(f->first_ns));
    json_object_object_add(o, "end", jtime(f->last_ns));
    json_object_object_add(o, "duration_ms", jms(f->last_ns - f->first_ns));
    json_object_object_add(o, "first_frame", jint(f->first_frame));
    json_object_object_add(o, "last_frame", jint(f->last_frame));
    json_object_object_add(o, "source", jint(f->source));
    json_object_object_add(o, "conn_state", jstr(tcp_conn_state(c)));
    json_object_object_add(o, "history", jstr(c->history));
    json_object_object_add(o, "midstream", json_object_new_boolean(c->midstream));
    json_object_object_add(o, "established", json_object_new_boolean(c->established));
    json_object_object_add(o, "end_reason", jstr(flow_end_reason_name(why)));

    hs = json_object_new_object();
    add_opt(hs, "syn", jframe(&c->syn));
    json_object_object_add(hs, "syn_count", jint(c->syn_count));
    if (c->syn_count > 1) {
        json_object *times = json_object_new_array();
        int n = c->syn_count < TCP_MAX_SYN_TIMES ? c->syn_count : TCP_MAX_SYN_TIMES;
        for (int i = 0; i < n; i++)
            json_object_array_add(times, jtime(c->syn_times_ns[i]));
        json_object_object_add(hs, "syn_times", times);
    }
    add_opt(hs, "synack", jframe(&c->synack));
    json_object_object_add(hs, "synack_count", jint(c->synack_count));
    add_opt(hs, "ack", jframe(&c->ack));
    rtt = tcp_conn_rtt_ns(c);
    if (rtt >= 0)
        json_object_object_add(hs, "rtt_ms", jms(rtt));
    json_object_object_add(o, "handshake", hs);

    if (c->rst.frame) {
        json_object *r = jframe(&c->rst);
        json_object_object_add(r, "from", jstr(c->rst_dir == FT_DIR_ORIG ? "orig" : "resp"));
        json_object_object_add(o, "rst", r);
    }
    dirs = json_object_new_object();
    json_object_object_add(dirs, "orig", jdirection(c, FT_DIR_ORIG));
    json_object_object_add(dirs, "resp", jdirection(c, FT_DIR_RESP));
    json_object_object_add(o, "directions", dirs);
    return o;
}

#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Writes serialised JSON to fp with every ill-formed UTF-8 sequence
 * replaced by U+FFFD (counted) and U+0085/U+2028/U+2029 escaped.  json-c has already escaped quotes and
 * controls, and a replacement never touches an ASCII byte, so the JSON
 * around a string stays intact. */
static void emit(struct output *o, FILE *fp, const char *json)
{
    (void)utf8_fwrite_clean(fp, json, strlen(json), true, &o->utf8_replaced);
}

/* The JSON document is streamed: its head at init, each connection as it
 * ends, the rest at the end.  Memory then does not grow with the number
 * of connections. */
static void json_head(struct output *o)
{
    fprintf(o->fp, "{\n  \"schema\": { \"name\": \"fedtrace\", \"version\": \"%s\" },\n"
                   "  \"generator\": \"%s\",\n  \"connections\": [",
            FEDTRACE_SCHEMA_VERSION, PACKAGE_STRING);
}

int output_init(struct output *o, enum output_format format, FILE *fp, int verbose)
{
    memset(o, 0, sizeof(*o));
    o->format = format;
    o->fp = fp;
    o->verbose = verbose;
    o->connections = json_object_new_array();
    o->pending_xmpp = json_object_new_object();
    o->dns = json_object_new_array();
    o->federations = json_object_new_array();
    o->max_events = 200000;
    o->max_lookups = 100000;
    o->max_text_conns = 10000;
    if (!o->connections || !o->pending_xmpp || !o->dns)
        return -1;
    if (format == OUTPUT_JSON) {
        o->dns_spool = ft_tmpfile(o->spool_dir, sizeof(o->spool_dir));
        if (!o->dns_spool) {
            o->spool_errno = errno;
            return -1;
        }
        json_head(o);
    }
    return 0;
}

void output_set_interrupted(struct output *o, const char *by)
{
    o->interrupted_by = by;
}

bool output_error(const struct output *o, char *buf, size_t len)
{
    if (!o->spool_errno)
        return false;
    snprintf(buf, len, "cannot %s a temporary file in '%s': %s", o->dns_spool ? "write" : "create",
             o->spool_dir, strerror(o->spool_errno));
    return true;
}

/* One NDJSON line, flushed at once: with the stream's 64 KiB buffer the
 * line reaches the file in one write(), so a reader (or a kill between
 * events) never sees half of it. */
static void write_line(struct output *o, json_object *ev)
{
    emit(o, o->fp, json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    fputc('\n', o->fp);
    fflush(o->fp);
    o->ndjson_lines++;
}

/* Writes one NDJSON event: the common envelope (@timestamp, event_type,
 * uid, pcap.cnt, source, destination, network when given), then `body`
 * under `key`.  Takes ownership of the json objects passed. */
static void write_event(struct output *o, int64_t ts_ns, const char *type, json_object *uid, uint64_t frame,
                        json_object *src, json_object *dst, json_object *network, const char *key,
                        json_object *body)
{
    json_object *ev = json_object_new_object(), *pcap = json_object_new_object();
    json_object_object_add(ev, "@timestamp", jtime(ts_ns));
    json_object_object_add(ev, "event_type", jstr(type));
    json_object_object_add(ev, "uid", uid);
    json_object_object_add(pcap, "cnt", jint(frame));
    json_object_object_add(ev, "pcap", pcap);
    json_object_object_add(ev, "source", src);
    json_object_object_add(ev, "destination", dst);
    if (network)
        json_object_object_add(ev, "network", network);
    json_object_object_add(ev, key, body);
    write_line(o, ev);
    json_object_put(ev);
}

/* network.* of a TCP flow: transport, protocol and Community ID. */
static json_object *jnetwork(const struct flow_info *fi, const char *protocol)
{
    json_object *net = json_object_new_object();
    char cid[COMMUNITY_ID_LEN];
    json_object_object_add(net, "transport", jstr("tcp"));
    json_object_object_add(net, "protocol", jstr(protocol));
    json_object_object_add(net, "community_id",
                           jstr(community_id(&fi->addr[0], fi->port[0], &fi->addr[1], fi->port[1], 6, 0, cid)));
    return net;
}

void output_conn(struct output *o, const struct flow *f, enum flow_end_reason why)
{
    json_object *c = conn_json(f, why), *evs;

    const char *uid = json_object_get_string(json_object_object_get(c, "uid"));
    if (json_object_object_get_ex(o->pending_xmpp, uid, &evs)) {
        json_object *counts = json_object_new_object();
        json_object_object_add(c, "xmpp", json_object_get(json_object_object_get(evs, "events")));
        json_object_object_add(counts, "message", json_object_get(json_object_object_get(evs, "message")));
        json_object_object_add(counts, "presence", json_object_get(json_object_object_get(evs, "presence")));
        json_object_object_add(counts, "iq", json_object_get(json_object_object_get(evs, "iq")));
        json_object_object_add(c, "stanza_counts", counts);
        json_object_object_del(o->pending_xmpp, uid);
    }

    if (o->format == OUTPUT_NDJSON) {
        write_event(o, f->first_ns, "connection", json_object_get(json_object_object_get(c, "uid")), f->first_frame,
                    jendpoint(&f->info.addr[FT_DIR_ORIG], f->info.port[FT_DIR_ORIG]),
                    jendpoint(&f->info.addr[FT_DIR_RESP], f->info.port[FT_DIR_RESP]),
                    jnetwork(&f->info, app_proto_name(f->info.app)), "connection", c);
        return;
    }
    if (o->format == OUTPUT_JSON) {
        fputs(o->conns_written++ ? ",\n    " : "\n    ", o->fp);
        emit(o, o->fp, json_object_to_json_string_ext(c, JSON_FLAGS));
        json_object_put(c);
        return;
    }
    if (json_object_array_length(o->connections) >= o->max_text_conns) {
        o->conns_not_listed++;
        json_object_put(c);
        return;
    }
    json_object_array_add(o->connections, c);
}

static json_object *jopt_str(const char *s)
{
    return s ? jstr(s) : NULL;
}

static json_object *tls_json(const struct tls_event *t)
{
    json_object *o = json_object_new_object();
    char vb[32];
    json_object_object_add(o, "event", jstr(tls_event_type_name(t->type)));
    if (t->type == TLS_EV_CLIENT_HELLO) {
        json_object *v = json_object_new_array(), *a = json_object_new_array();
        for (unsigned i = 0; i < t->n_versions; i++)
            json_object_array_add(v, jstr(tls_version_name(t->versions[i], vb, sizeof(vb))));
        for (unsigned i = 0; i < t->n_alpn; i++)
            json_object_array_add(a, jstr(t->alpn[i]));
        add_opt(o, "sni", jopt_str(t->sni));
        json_object_object_add(o, "versions", v);
        json_object_object_add(o, "alpn", a);
    } else if (t->type == TLS_EV_SERVER_HELLO) {
        json_object_object_add(o, "version", jstr(tls_version_name(t->version, vb, sizeof(vb))));
        if (t->hello_retry)
            json_object_object_add(o, "hello_retry", json_object_new_boolean(true));
    } else if (t->type == TLS_EV_CERTIFICATE) {
        json_object_object_add(o, "length", jint(t->cert_msg_len));
        json_object_object_add(o, "certificates", jint(t->n_certs));
        add_opt(o, "subject_cn", jopt_str(t->cert_cn));
        add_opt(o, "issuer_cn", jopt_str(t->cert_issuer_cn));
        add_opt(o, "not_after", jopt_str(t->cert_not_after));
        if (t->cert_parsed)
            json_object_object_add(o, "self_issued", json_object_new_boolean(t->cert_self_issued));
        if (t->n_san) {
            json_object *a = json_object_new_array();
            for (unsigned i = 0; i < t->n_san; i++)
                json_object_array_add(a, jstr(t->cert_san[i]));
            json_object_object_add(o, "san", a);
        }
    } else if (t->type == TLS_EV_ALERT) {
        json_object_object_add(o, "level", jstr(t->alert_level_name ? t->alert_level_name : "unknown"));
        json_object_object_add(o, "description", jstr(t->alert_desc_name ? t->alert_desc_name : "unknown"));
        if (t->alert_encrypted)
            json_object_object_add(o, "encrypted", json_object_new_boolean(true));
    } else if (t->type == TLS_EV_ERROR) {
        add_opt(o, "error", jopt_str(t->error));
    }
    return o;
}

/* One XMPP event: the fields that mean something for its type. */
static json_object *xmpp_json(const struct flow_info *fi, const struct xmpp_event *ev)
{
    json_object *o = json_object_new_object();
    char uid[32];
    snprintf(uid, sizeof(uid), "C%" PRIu64, fi->flow_id);
    json_object_object_add(o, "frame", jint(ev->meta.frame));
    json_object_object_add(o, "ts", jtime(ev->meta.ts_ns));
    json_object_object_add(o, "uid", jstr(uid));
    json_object_object_add(o, "dir", jstr(ev->dir == FT_DIR_ORIG ? "orig" : "resp"));
    json_object_object_add(o, "type", jstr(xmpp_event_type_name(ev->type)));
    add_opt(o, "from", jopt_str(ev->from));
    add_opt(o, "to", jopt_str(ev->to));
    add_opt(o, "id", jopt_str(ev->id));
    switch (ev->type) {
    case XMPP_EV_STREAM_OPEN:
        add_opt(o, "version", jopt_str(ev->version));
        add_opt(o, "lang", jopt_str(ev->lang));
        add_opt(o, "content_ns", jopt_str(ev->content_ns));
        json_object_object_add(o, "dialback_ns", json_object_new_boolean(ev->db_ns));
        if (!ev->stream_ns_ok)
            json_object_object_add(o, "bad_stream_ns", json_object_new_boolean(true));
        if (ev->restart)
            json_object_object_add(o, "restart", json_object_new_boolean(true));
        break;
    case XMPP_EV_FEATURES:
        json_object_object_add(o, "starttls", json_object_new_boolean(ev->starttls));
        json_object_object_add(o, "starttls_required", json_object_new_boolean(ev->starttls_required));
        add_opt(o, "mechanisms", jopt_str(ev->mechanisms));
        json_object_object_add(o, "dialback", json_object_new_boolean(ev->dialback));
        json_object_object_add(o, "bidi", json_object_new_boolean(ev->bidi));
        json_object_object_add(o, "sm", json_object_new_boolean(ev->sm));
        break;
    case XMPP_EV_SASL_AUTH:
        add_opt(o, "mechanism", jopt_str(ev->mechanism));
        break;
    case XMPP_EV_DB_RESULT:
    case XMPP_EV_DB_VERIFY:
        json_object_object_add(o, "db_type", jstr(xmpp_db_type_name(ev->db_type)));
        break;
    case XMPP_EV_STANZA:
        add_opt(o, "stanza_type", jopt_str(ev->type_str));
        if (ev->stanza == XMPP_STANZA_PRESENCE)
            json_object_object_add(o, "presence", jstr(xmpp_presence_type_name(ev->presence)));
        add_opt(o, "child", jopt_str(ev->child_name));
        add_opt(o, "child_ns", jopt_str(ev->child_ns));
        add_opt(o, "body", jopt_str(ev->body));
        json_object_object_add(o, "size", jint(ev->size));
        break;
    case XMPP_EV_OTHER:
        add_opt(o, "element", jopt_str(ev->other_name));
        add_opt(o, "element_ns", jopt_str(ev->other_ns));
        break;
    case XMPP_EV_GAP:
        json_object_object_add(o, "bytes", jint(ev->nbytes));
        break;
    case XMPP_EV_ERROR:
        json_object_object_add(o, "error", jstr(xmpp_error_name(ev->error)));
        add_opt(o, "message", jopt_str(ev->error_msg));
        json_object_object_add(o, "offset", jint(ev->offset));
        break;
    case XMPP_EV_EOF:
        json_object_object_add(o, "stream_closed", json_object_new_boolean(ev->stream_closed));
        json_object_object_add(o, "in_tls", json_object_new_boolean(ev->in_tls));
        break;
    case XMPP_EV_TLS:
        if (ev->tls)
            json_object_object_add(o, "tls", tls_json(ev->tls));
        break;
    default:
        break;
    }
    add_opt(o, "condition", jopt_str(ev->condition));
    add_opt(o, "text", jopt_str(ev->text));
    add_opt(o, "condition_text", jopt_str(ev->cond_text));
    add_opt(o, "error_type", jopt_str(ev->error_type));
    if (ev->truncated)
        json_object_object_add(o, "truncated", json_object_new_boolean(true));
    return o;
}

static json_object *jdns_endpoint(const struct dns_endpoint *e)
{
    return jendpoint(&e->addr, e->port);
}

static json_object *jmeta(const struct ft_meta *m)
{
    struct frame_ref r = { m->frame, m->src_frame, m->source, m->ts_ns };
    return jframe(&r);
}

static json_object *dns_json(const struct dns_lookup *lk)
{
    json_object *o = json_object_new_object(), *q = json_object_new_array();
    json_object *ans = json_object_new_array();
    char id[32];
    unsigned nq = lk->nqueries < DNS_LOOKUP_MAX_TX ? lk->nqueries : DNS_LOOKUP_MAX_TX;

    snprintf(id, sizeof(id), "D%" PRIu64, lk->id);
    json_object_object_add(o, "uid", jstr(id));
    json_object_object_add(o, "ts", jtime(nq ? lk->query[0].ts_ns : lk->response.ts_ns));
    json_object_object_add(o, "client", jdns_endpoint(&lk->client));
    json_object_object_add(o, "server", jdns_endpoint(&lk->server));
    json_object_object_add(o, "transport", jstr(lk->transport == DNS_TCP ? "tcp" : "udp"));
    json_object_object_add(o, "txid", jint(lk->txid));
    json_object_object_add(o, "qname", jstr(lk->qname ? lk->qname : ""));
    {
        char tb[DNS_TYPE_NAME_BUFLEN];
        json_object_object_add(o, "qtype", jstr(dns_type_name(lk->qtype, tb, sizeof(tb))));
    }
    json_object_object_add(o, "outcome", jstr(dns_outcome_name((enum dns_outcome)lk->outcome)));
    if (lk->has_response) {
        json_object_object_add(o, "rcode", jint(lk->rcode));
        json_object_object_add(o, "response", jmeta(&lk->response));
        json_object_object_add(o, "aa", json_object_new_boolean(lk->aa));
        json_object_object_add(o, "tc", json_object_new_boolean(lk->tc));
    }
    for (unsigned i = 0; i < nq; i++)
        json_object_array_add(q, jmeta(&lk->query[i]));
    json_object_object_add(o, "queries", q);
    json_object_object_add(o, "retransmits", jint(lk->retransmits));
    if (lk->retry_of) {
        snprintf(id, sizeof(id), "D%" PRIu64, lk->retry_of);
        json_object_object_add(o, "retry_of", jstr(id));
    }
    if (lk->ncname) {
        json_object *c = json_object_new_array();
        for (unsigned i = 0; i < lk->ncname; i++)
            json_object_array_add(c, jstr(lk->cname[i]));
        json_object_object_add(o, "cname_chain", c);
    }
    for (unsigned i = 0; i < lk->nans; i++) {
        const struct dns_answer *a = &lk->ans[i];
        json_object *j = json_object_new_object();
        char ip[FT_ADDR_STRLEN];
        char tb[DNS_TYPE_NAME_BUFLEN];
        json_object_object_add(j, "name", jstr(a->name ? a->name : ""));
        json_object_object_add(j, "type", jstr(dns_type_name(a->type, tb, sizeof(tb))));
        json_object_object_add(j, "ttl", jint(a->ttl));
        if (a->section != DNS_SEC_ANSWER)
            json_object_object_add(j, "section", jstr(a->section == DNS_SEC_AUTHORITY ? "authority" : "additional"));
        if (a->type == DNS_T_A || a->type == DNS_T_AAAA)
            json_object_object_add(j, "address", jstr(ft_addr_str(&a->addr, ip, sizeof(ip))));
        if (a->type == DNS_T_SRV) {
            json_object_object_add(j, "priority", jint(a->priority));
            json_object_object_add(j, "weight", jint(a->weight));
            json_object_object_add(j, "port", jint(a->port));
        }
        add_opt(j, "target", jopt_str(a->target));
        json_object_array_add(ans, j);
    }
    json_object_object_add(o, "answers", ans);
    if (lk->ans_dropped)
        json_object_object_add(o, "answers_dropped", jint(lk->ans_dropped));
    if (lk->malformed)
        json_object_object_add(o, "malformed", json_object_new_boolean(true));
    return o;
}

/* The per-connection record of events while the connection is open. */
static json_object *pending_for(struct output *o, const struct flow_info *fi)
{
    char uid[32];
    json_object *p;
    snprintf(uid, sizeof(uid), "C%" PRIu64, fi->flow_id);
    if (!json_object_object_get_ex(o->pending_xmpp, uid, &p)) {
        p = json_object_new_object();
        json_object_object_add(p, "events", json_object_new_array());
        json_object_object_add(p, "message", json_object_new_int64(0));
        json_object_object_add(p, "presence", json_object_new_int64(0));
        json_object_object_add(p, "iq", json_object_new_int64(0));
        json_object_object_add(o->pending_xmpp, uid, p);
    }
    return p;
}

void output_xmpp_event(struct output *o, const struct flow_info *fi, const struct xmpp_event *ev)
{
    json_object *j, *arr, *pend = NULL;

    if (o->format != OUTPUT_NDJSON)
        pend = pending_for(o, fi);
    if (ev->type == XMPP_EV_STANZA && pend) {
        static const char *const kinds[] = { "message", "presence", "iq" };
        unsigned k = (unsigned)ev->stanza;
        json_object *cnt;
        if (k < 3 && json_object_object_get_ex(pend, kinds[k], &cnt))
            json_object_set_int64(cnt, json_object_get_int64(cnt) + 1);
    }
    if (ev->type == XMPP_EV_STANZA && !o->verbose && !xmpp_stanza_is_notable(ev))
        return;
    if (o->format != OUTPUT_NDJSON && o->events_kept >= o->max_events) {
        o->events_dropped++;
        return;
    }
    j = xmpp_json(fi, ev);
    if (o->format == OUTPUT_NDJSON) {
        char type[64];
        snprintf(type, sizeof(type), "xmpp.%s", xmpp_event_type_name(ev->type));
        write_event(o, ev->meta.ts_ns, type, json_object_get(json_object_object_get(j, "uid")), ev->meta.frame,
                    jendpoint(&fi->addr[ev->dir], fi->port[ev->dir]),
                    jendpoint(&fi->addr[!ev->dir], fi->port[!ev->dir]), jnetwork(fi, "xmpp"), "xmpp", j);
        return;
    }
    arr = json_object_object_get(pend, "events");
    json_object_object_del(j, "uid");
    json_object_array_add(arr, j);
    o->events_kept++;
}

void output_dns_lookup(struct output *o, const struct dns_lookup *lk)
{
    json_object *j;
    if (o->format == OUTPUT_TEXT && json_object_array_length(o->dns) >= o->max_lookups) {
        o->lookups_dropped++;
        return;
    }
    j = dns_json(lk);
    if (o->format == OUTPUT_JSON && o->dns_spool) {
        /* Spooled to a temporary file, spliced into the document at the end. */
        fputs(o->lookups_spooled++ ? ",\n    " : "\n    ", o->dns_spool);
        emit(o, o->dns_spool, json_object_to_json_string_ext(j, JSON_FLAGS));
        if (ferror(o->dns_spool) && !o->spool_errno)
            o->spool_errno = errno ? errno : EIO;
        json_object_put(j);
        return;
    }
    if (o->format == OUTPUT_NDJSON) {
        const struct ft_meta *first = lk->nqueries ? &lk->query[0] : &lk->response;
        write_event(o, first->ts_ns, "dns.lookup", json_object_get(json_object_object_get(j, "uid")), first->frame,
                    jdns_endpoint(&lk->client), jdns_endpoint(&lk->server), NULL, "dns", j);
        return;
    }
    json_object_array_add(o->dns, j);
}

static int by_flow_id(const void *a, const void *b)
{
    int64_t x = json_object_get_int64(json_object_object_get(*(json_object *const *)a, "flow_id"));
    int64_t y = json_object_get_int64(json_object_object_get(*(json_object *const *)b, "flow_id"));
    return x < y ? -1 : x > y;
}

static json_object *jref_uid(uint64_t flow_id, char prefix)
{
    char uid[32];
    snprintf(uid, sizeof(uid), "%c%" PRIu64, prefix, flow_id);
    return jstr(uid);
}

static json_object *verdict_json(const struct corr_verdict *v, bool full)
{
    json_object *o = json_object_new_object();
    const struct verdict_info *vi = v->code ? verdict_lookup(v->code) : NULL;
    json_object_object_add(o, "status", jstr(corr_status_name(v->status)));
    json_object_object_add(o, "stage", jstr(fed_stage_name(v->stage)));
    json_object_object_add(o, "code", jstr(v->code ? v->code : "CAP-NOTHING"));
    json_object_object_add(o, "summary", jstr(v->summary));
    json_object_object_add(o, "confidence", jstr(v->confidence ? v->confidence : "low"));
    if (!full)
        return o;
    if (vi)
        json_object_object_add(o, "title", jstr(vi->title));
    {
        json_object *ev = json_object_new_object(), *frames = json_object_new_array();
        json_object *refs = json_object_new_array(), *uids = json_object_new_array(), *dns = json_object_new_array();
        for (unsigned i = 0; i < v->n_evidence; i++) {
            json_object_array_add(frames, jint(v->evidence_frames[i]));
            json_object_array_add(refs, jframe(&v->evidence_refs[i]));
        }
        for (unsigned i = 0; i < v->n_flows; i++)
            json_object_array_add(uids, jref_uid(v->evidence_flows[i], 'C'));
        for (unsigned i = 0; i < v->n_dns; i++)
            json_object_array_add(dns, jref_uid(v->evidence_dns[i], 'D'));
        json_object_object_add(ev, "frames", frames);
        json_object_object_add(ev, "packets", refs);
        json_object_object_add(ev, "uids", uids);
        json_object_object_add(ev, "dns", dns);
        json_object_object_add(o, "evidence", ev);
    }
    {
        json_object *notes = json_object_new_array();
        for (unsigned i = 0; i < v->n_notes; i++)
            json_object_array_add(notes, jstr(v->notes[i]));
        json_object_object_add(o, "notes", notes);
    }
    {
        json_object *adv = json_object_new_array();
        if (vi && v->status != CORR_OK) {
            for (int i = 0; i < VERDICT_MAX_ADVICE && vi->advice[i]; i++) {
                char line[1024];
                verdict_render(vi->advice[i], &v->vars, line, sizeof(line));
                json_object_array_add(adv, jstr(line));
            }
        }
        json_object_object_add(o, "advice", adv);
        json_object_object_add(o, "refs", jstr(vi && vi->refs ? vi->refs : ""));
    }
    return o;
}

static json_object *direction_json(const struct corr_direction *d)
{
    json_object *o = json_object_new_object(), *st = json_object_new_object(), *tl = json_object_new_array();
    json_object_object_add(o, "from", jstr(d->from));
    json_object_object_add(o, "to", jstr(d->to));
    json_object_object_add(o, "verdict", verdict_json(&d->verdict, true));
    for (int s = 0; s < STAGE_CAPTURE; s++) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "status", jstr(corr_stage_status_name(d->stages[s])));
        if (d->stage_detail[s][0])
            json_object_object_add(j, "detail", jstr(d->stage_detail[s]));
        json_object_object_add(st, fed_stage_name((enum fed_stage)s), j);
    }
    json_object_object_add(o, "stages", st);
    for (unsigned i = 0; i < d->n_timeline; i++) {
        const struct corr_tl *t = &d->timeline[i];
        json_object *j = jframe(&t->ref);
        if (t->flow_id)
            json_object_object_add(j, "uid", jref_uid(t->flow_id, 'C'));
        if (t->dns_id)
            json_object_object_add(j, "dns", jref_uid(t->dns_id, 'D'));
        json_object_object_add(j, "stage", jstr(fed_stage_name(t->stage)));
        json_object_object_add(j, "what", jstr(t->what));
        if (t->failing)
            json_object_object_add(j, "failing", json_object_new_boolean(true));
        json_object_array_add(tl, j);
    }
    json_object_object_add(o, "timeline", tl);
    return o;
}

static json_object *federation_json(const struct corr_federation *f)
{
    json_object *o = json_object_new_object(), *doms = json_object_new_array(), *dirs = json_object_new_array();
    json_object_object_add(o, "id", jstr(f->id));
    json_object_array_add(doms, jstr(f->domains[0]));
    json_object_array_add(doms, jstr(f->domains[1]));
    json_object_object_add(o, "domains", doms);
    json_object_object_add(o, "local", f->local ? jstr(f->local) : NULL);
    json_object_object_add(o, "roles_inferred", json_object_new_boolean(f->roles_inferred));
    json_object_object_add(o, "role_reason", jstr(f->role_reason));
    json_object_object_add(o, "verdict", verdict_json(&f->verdict, false));
    for (unsigned i = 0; i < f->n_dir; i++)
        json_object_array_add(dirs, direction_json(&f->dir[i]));
    json_object_object_add(o, "directions", dirs);
    return o;
}

void output_federations(struct output *o, const struct correlator *corr, int64_t capture_start_ns)
{
    o->t0_ns = capture_start_ns;
    o->corr = corr;
    for (unsigned i = 0; i < corr_federation_count(corr); i++) {
        const struct corr_federation *f = corr_federation_at(corr, i);
        if (o->format != OUTPUT_NDJSON) {
            json_object_array_add(o->federations, federation_json(f));
            continue;
        }
        for (unsigned k = 0; k < f->n_dir; k++) {
            const struct corr_direction *d = &f->dir[k];
            const struct corr_verdict *v = &d->verdict;
            json_object *ev = json_object_new_object(), *event = json_object_new_object();
            json_object *x = json_object_new_object(), *fed = verdict_json(v, true);
            int64_t ts = d->n_timeline ? d->timeline[d->n_timeline - 1].ref.ts_ns : capture_start_ns;
            if (v->n_evidence)
                ts = v->evidence_refs[0].ts_ns;
            json_object_object_add(ev, "@timestamp", jtime(ts));
            json_object_object_add(ev, "event_type", jstr("federation.verdict"));
            json_object_object_add(ev, "federation_id", jstr(f->id));
            json_object_object_add(event, "kind", jstr(v->status == CORR_FAILED ? "alert" : "state"));
            json_object_object_add(event, "outcome", jstr(v->status == CORR_OK       ? "success"
                                                          : v->status == CORR_FAILED ? "failure"
                                                                                     : "unknown"));
            json_object_object_add(ev, "event", event);
            json_object_object_add(fed, "from", jstr(d->from));
            json_object_object_add(fed, "to", jstr(d->to));
            if (f->local) {
                bool out = strcmp(f->local, d->from) == 0;
                json_object_object_add(fed, "local_domain", jstr(f->local));
                json_object_object_add(fed, "remote_domain", jstr(out ? d->to : d->from));
                json_object_object_add(fed, "direction", jstr(out ? "outbound" : "inbound"));
            }
            json_object_object_add(x, "federation", fed);
            json_object_object_add(ev, "xmpp", x);
            write_line(o, ev);
            json_object_put(ev);
        }
    }
}

static json_object *capture_json(const struct output *out, const struct capture *cap, const struct pipeline *pl)
{
    json_object *o = json_object_new_object(), *srcs = json_object_new_array();
    for (unsigned i = 0; i < capture_source_count(cap); i++) {
        struct capture_source_info s;
        json_object *j = json_object_new_object();
        capture_source_info(cap, i, &s);
        json_object_object_add(j, "name", jstr(s.name));
        json_object_object_add(j, "kind", jstr(s.live ? "interface" : "file"));
        if (s.observer)
            json_object_object_add(j, "observer", jstr(s.observer));
        json_object_object_add(j, "linktype", jstr(s.linktype_name));
        json_object_object_add(j, "snaplen", jint((uint64_t)s.snaplen));
        json_object_object_add(j, "frames", jint(s.frames));
        if (s.records != s.frames)
            json_object_object_add(j, "records", jint(s.records));
        if (s.bad_timestamps)
            json_object_object_add(j, "bad_timestamps", jint(s.bad_timestamps));
        if (s.error[0])
            json_object_object_add(j, "error", jstr(s.error));
        if (s.have_stats) {
            json_object_object_add(j, "kernel_received", jint(s.kernel_received));
            json_object_object_add(j, "kernel_dropped", jint(s.kernel_dropped));
            json_object_object_add(j, "interface_dropped", jint(s.if_dropped));
        }
        json_object_array_add(srcs, j);
    }
    json_object_object_add(o, "sources", srcs);
    json_object_object_add(o, "frames", jint(capture_frames(cap)));
    if (pl->have_packets) {
        json_object_object_add(o, "first_ts", jtime(pl->stats.first_ns));
        json_object_object_add(o, "last_ts", jtime(pl->stats.last_ns));
        json_object_object_add(o, "duration_ms", jms(pl->stats.last_ns - pl->stats.first_ns));
    }
    if (out->interrupted_by) {
        json_object_object_add(o, "interrupted", json_object_new_boolean(true));
        json_object_object_add(o, "interrupted_by", jstr(out->interrupted_by));
    }
    return o;
}


#define ADD(obj, st, field) json_object_object_add(obj, #field, jint((st)->field))

static json_object *output_stats_json(const struct output *out)
{
    json_object *o = json_object_new_object();
    ADD(o, out, utf8_replaced);
    return o;
}

static json_object *dissector_stats_json(const struct output *out, const struct dispatch *disp)
{
    json_object *o = json_object_new_object(), *dns = json_object_new_object();
    json_object *x = json_object_new_object(), *errs = json_object_new_object();
    const struct dns_tracker_stats *ts = dns_tracker_stats(disp->dns);
    const struct dns_stats *ps = &disp->dns_parse;
    const struct dispatch_stats *ds = &disp->stats;

    ADD(dns, ps, messages);
    ADD(dns, ps, parsed_ok);
    for (int e = 1; e < DNS_ERR__COUNT; e++)
        json_object_object_add(errs, dns_err_name((enum dns_err)e), jint(ps->err[e]));
    json_object_object_add(dns, "parse_errors", errs);
    ADD(dns, ts, queries);
    ADD(dns, ts, responses);
    ADD(dns, ts, retransmits);
    ADD(dns, ts, matched);
    ADD(dns, ts, unmatched);
    ADD(dns, ts, unanswered);
    ADD(dns, ts, tc_linked);
    ADD(dns, ts, evicted);
    ADD(dns, ts, ignored);
    ADD(dns, ts, lookups);
    json_object_object_add(o, "dns", dns);
    json_object_object_add(x, "connections", jint(ds->xmpp_connections));
    json_object_object_add(x, "events", jint(ds->xmpp_events));
    json_object_object_add(x, "events_dropped_from_document", jint(out->events_dropped));
    json_object_object_add(dns, "lookups_dropped_from_document", jint(out->lookups_dropped));
    json_object_object_add(o, "xmpp", x);
    json_object_object_add(o, "alloc_failures", jint(ds->alloc_failures));
    return o;
}

static json_object *correlator_stats_json(const struct correlator *corr)
{
    json_object *o = json_object_new_object();
    const struct corr_stats *cs = corr_stats(corr);
    ADD(o, cs, conns);
    ADD(o, cs, conns_dropped);
    ADD(o, cs, lookups);
    ADD(o, cs, lookups_dropped);
    ADD(o, cs, events);
    ADD(o, cs, events_dropped);
    ADD(o, cs, s2s_conns);
    ADD(o, cs, c2s_conns);
    ADD(o, cs, nat_pairs);
    ADD(o, cs, federations);
    return o;
}

static json_object *stats_json(const struct pipeline *pl)
{
    json_object *o = json_object_new_object();
    json_object *dec = json_object_new_object(), *frag = json_object_new_object();
    json_object *flows = json_object_new_object(), *re = json_object_new_object();
    json_object *pipe = json_object_new_object();
    const struct decode_stats *d = &pl->dec.stats;
    const struct ipfrag_stats *fs = ipfrag_stats(pl->frags);
    const struct reasm_stats *rs = &pl->reasm.stats;
    const struct pipeline_stats *ps = &pl->stats;

    ADD(dec, d, packets);
    ADD(dec, d, ipv4);
    ADD(dec, d, ipv6);
    ADD(dec, d, tcp);
    ADD(dec, d, udp);
    ADD(dec, d, icmp);
    ADD(dec, d, other_ip);
    ADD(dec, d, not_ip);
    ADD(dec, d, unsupported_link);
    ADD(dec, d, vlan_tagged);
    ADD(dec, d, tunnelled);
    ADD(dec, d, truncated_link);
    ADD(dec, d, truncated_ip);
    ADD(dec, d, truncated_l4);
    ADD(dec, d, snaplen_cut);
    ADD(dec, d, invalid_ip);
    ADD(dec, d, invalid_l4);
    ADD(dec, d, ipv4_csum_bad);
    ADD(dec, d, tcp_csum_bad);
    ADD(dec, d, udp_csum_bad);
    ADD(dec, d, udp_csum_zero);
    ADD(dec, d, too_many_layers);
    ADD(dec, d, ipv6_ext_unsupported);
    ADD(dec, d, fragments);
    ADD(dec, d, reassembled);
    json_object_object_add(o, "decode", dec);

    ADD(frag, fs, fragments);
    ADD(frag, fs, completed);
    ADD(frag, fs, timed_out);
    ADD(frag, fs, evicted);
    ADD(frag, fs, overlaps);
    ADD(frag, fs, overlap_discarded);
    ADD(frag, fs, invalid);
    json_object_object_add(o, "ip_fragments", frag);

    {
        const struct flow_stats *f = pl->flows ? flow_table_stats(pl->flows) : &pl->flow_stats;
        ADD(flows, f, created);
        ADD(flows, f, peak_active);
        ADD(flows, f, timed_out);
        ADD(flows, f, evicted);
        ADD(flows, f, reused);
        ADD(flows, f, alloc_failures);
    }
    ADD(flows, ps, flows_reported);
    ADD(flows, ps, flows_ignored);
    ADD(flows, ps, flows_xmpp);
    ADD(flows, ps, flows_xmpp_tls);
    ADD(flows, ps, flows_dns);
    json_object_object_add(o, "flows", flows);

    ADD(re, rs, segments);
    ADD(re, rs, bytes_delivered);
    ADD(re, rs, retransmitted_segments);
    ADD(re, rs, overlap_segments);
    ADD(re, rs, overlap_conflicts);
    ADD(re, rs, out_of_order_segments);
    ADD(re, rs, gaps);
    ADD(re, rs, gap_bytes);
    ADD(re, rs, forced_flushes_stream);
    ADD(re, rs, forced_flushes_total);
    ADD(re, rs, bogus_seq);
    ADD(re, rs, implausible_acks);
    ADD(re, rs, after_eof_bytes);
    ADD(re, rs, buffered_peak);
    ADD(re, rs, alloc_failures);
    json_object_object_add(o, "reassembly", re);

    ADD(pipe, ps, frames);
    ADD(pipe, ps, tcp_segments);
    ADD(pipe, ps, udp_datagrams);
    ADD(pipe, ps, dns_datagrams);
    ADD(pipe, ps, ignored_udp);
    ADD(pipe, ps, ignored_other);
    ADD(pipe, ps, bytes_to_dissectors);
    json_object_object_add(o, "pipeline", pipe);
    return o;
}

/* "192.0.2.1:5269" or "[2001:db8::1]:5269" */
static void text_endpoint(char *buf, size_t len, json_object *ep)
{
    const char *ip = json_object_get_string(json_object_object_get(ep, "ip"));
    int port = json_object_get_int(json_object_object_get(ep, "port"));
    snprintf(buf, len, strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip, port);
}

/* Every string the text report prints goes through term_escape (a peer
 * must not start a line or steer the terminal), into one of a few
 * rotating buffers: enough for the strings of one fprintf. */
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

static const char *tget(struct text_scratch *t, json_object *v)
{
    return tesc(t, v ? json_object_get_string(v) : "");
}

static const char *jget(struct text_scratch *t, json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? tget(t, v) : "";
}

static void upper(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++)
        dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
    dst[i] = '\0';
}

/* The ladder: what happened in each direction, the failing step marked,
 * then the advice. */
static void text_federations(struct output *o, FILE *fp, struct text_scratch *tx)
{
    size_t nf = json_object_array_length(o->federations);
    fprintf(fp, "\nfederations: %zu\n", nf);
    for (size_t i = 0; i < nf; i++) {
        json_object *f = json_object_array_get_idx(o->federations, i), *v = json_object_object_get(f, "verdict");
        json_object *doms = json_object_object_get(f, "domains"), *dirs = json_object_object_get(f, "directions");
        char st[16];
        upper(st, sizeof(st), jget(tx, v, "status"));
        fprintf(fp, "\n  %s  %s <-> %s  %s", jget(tx, f, "id"),
                tget(tx, json_object_array_get_idx(doms, 0)),
                tget(tx, json_object_array_get_idx(doms, 1)), st);
        if (strcmp(jget(tx, v, "status"), "ok") != 0)
            fprintf(fp, " at %s: %s (confidence %s)", jget(tx, v, "stage"), jget(tx, v, "code"), jget(tx, v, "confidence"));
        fputc('\n', fp);
        if (json_object_object_get(f, "local"))
            fprintf(fp, "    local domain: %s (%s)\n", jget(tx, f, "local"), jget(tx, f, "role_reason"));
        else
            fprintf(fp, "    local domain: unknown (%s)\n", jget(tx, f, "role_reason"));
        for (size_t k = 0; k < json_object_array_length(dirs); k++) {
            json_object *d = json_object_array_get_idx(dirs, k), *dv = json_object_object_get(d, "verdict");
            json_object *tl = json_object_object_get(d, "timeline"), *adv = json_object_object_get(dv, "advice");
            json_object *notes = json_object_object_get(dv, "notes");
            upper(st, sizeof(st), jget(tx, dv, "status"));
            fprintf(fp, "\n    %s -> %s: %s", jget(tx, d, "from"), jget(tx, d, "to"), st);
            if (strcmp(jget(tx, dv, "status"), "ok") != 0)
                fprintf(fp, " at %s, %s (confidence %s)", jget(tx, dv, "stage"), jget(tx, dv, "code"), jget(tx, dv, "confidence"));
            else
                fprintf(fp, " (confidence %s)", jget(tx, dv, "confidence"));
            fprintf(fp, "\n      %s\n", jget(tx, dv, "summary"));
            for (size_t t = 0; t < json_object_array_length(tl); t++) {
                json_object *e = json_object_array_get_idx(tl, t), *fail = NULL;
                json_object *ts = json_object_object_get(e, "frame");
                const char *uid = jget(tx, e, "uid");
                json_object_object_get_ex(e, "failing", &fail);
                (void)ts;
                /* relative time from the capture start */
                fprintf(fp, "      %s %-9s %6s%s%-5s %s\n", fail ? ">>" : "  ", jget(tx, e, "stage"),
                        jget(tx, e, "frame"), json_object_get_int(json_object_object_get(e, "source")) ? "'" : " ",
                        uid[0] ? uid : jget(tx, e, "dns"), jget(tx, e, "what"));
            }
            for (size_t n = 0; n < json_object_array_length(notes); n++)
                fprintf(fp, "      note: %s\n", tget(tx, json_object_array_get_idx(notes, n)));
            if (json_object_array_length(adv)) {
                fprintf(fp, "      what to do (fedtrace explain %s):\n", jget(tx, dv, "code"));
                for (size_t n = 0; n < json_object_array_length(adv); n++)
                    fprintf(fp, "        - %s\n", tget(tx, json_object_array_get_idx(adv, n)));
            }
        }
    }
}

static void text_report(struct output *o, const struct capture *cap, const struct pipeline *pl)
{
    FILE *fp = o->fp;
    struct text_scratch scratch = { .next = 0 }, *tx = &scratch;
    char t0[40], t1[40];
    size_t n = json_object_array_length(o->connections);
    const struct decode_stats *d = &pl->dec.stats;
    const struct reasm_stats *rs = &pl->reasm.stats;

    unsigned nsrc = capture_source_count(cap);
    fprintf(fp, "fedtrace %s: %" PRIu64 " frames from %u source%s", PACKAGE_VERSION, capture_frames(cap),
            nsrc, nsrc == 1 ? "" : "s");
    if (pl->have_packets)
        fprintf(fp, ", %s .. %s", format_time(pl->stats.first_ns, t0, sizeof(t0)),
                format_time(pl->stats.last_ns, t1, sizeof(t1)));
    fputc('\n', fp);
    for (unsigned i = 0; i < nsrc; i++) {
        struct capture_source_info s;
        capture_source_info(cap, i, &s);
        fprintf(fp, "  [%u] %s%s%s  %s  %" PRIu64 " frames%s%s\n", i, tesc(tx, s.name),
                s.observer ? "@" : "", tesc(tx, s.observer), tesc(tx, s.linktype_name), s.frames,
                s.error[0] ? "  DAMAGED: " : "", tesc(tx, s.error));
    }
    if (o->interrupted_by) {
        fprintf(fp, "  interrupted by %s: the report covers only what was captured before\n", o->interrupted_by);
    }
    text_federations(o, fp, tx);
    if (!o->verbose) {
        fprintf(fp, "\n%zu connections, %zu DNS lookups (-v lists them)\n", n, json_object_array_length(o->dns));
        goto quality;
    }
    size_t nd = json_object_array_length(o->dns);
    fprintf(fp, "\ndns lookups: %zu\n", nd);
    for (size_t i = 0; i < nd; i++) {
        json_object *l = json_object_array_get_idx(o->dns, i), *resp = NULL;
        json_object *q = json_object_array_get_idx(json_object_object_get(l, "queries"), 0);
        json_object_object_get_ex(l, "response", &resp);
        fprintf(fp, "  %-5s %-5s %s  %s", tget(tx, json_object_object_get(l, "uid")),
                tget(tx, json_object_object_get(l, "qtype")),
                tget(tx, json_object_object_get(l, "qname")),
                tget(tx, json_object_object_get(l, "outcome")));
        if (json_object_array_length(json_object_object_get(l, "answers")))
            fprintf(fp, " (%zu answers)", json_object_array_length(json_object_object_get(l, "answers")));
        fprintf(fp, "  frames %s", q ? tget(tx, json_object_object_get(q, "frame")) : "-");
        if (resp)
            fprintf(fp, "->%s", tget(tx, json_object_object_get(resp, "frame")));
        fputc('\n', fp);
    }
    fprintf(fp, "\nconnections: %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(o->connections, i);
        json_object *orig = json_object_object_get(c, "orig"), *resp = json_object_object_get(c, "resp");
        json_object *hs = json_object_object_get(c, "handshake"), *rtt = NULL;
        json_object *dirs = json_object_object_get(c, "directions");
        json_object *od = json_object_object_get(dirs, "orig"), *rd = json_object_object_get(dirs, "resp");
        json_object_object_get_ex(hs, "rtt_ms", &rtt);
        char a[80], b[80];
        text_endpoint(a, sizeof(a), orig);
        text_endpoint(b, sizeof(b), resp);
        fprintf(fp, "  %-5s %-8s %s -> %s  %-6s %-12s frames %" PRId64 "-%" PRId64 "  %" PRId64 "/%" PRId64 " bytes",
                tget(tx, json_object_object_get(c, "uid")),
                tget(tx, json_object_object_get(c, "app")), a, b,
                tget(tx, json_object_object_get(c, "conn_state")),
                tget(tx, json_object_object_get(c, "history")),
                json_object_get_int64(json_object_object_get(c, "first_frame")),
                json_object_get_int64(json_object_object_get(c, "last_frame")),
                json_object_get_int64(json_object_object_get(od, "payload_bytes")),
                json_object_get_int64(json_object_object_get(rd, "payload_bytes")));
        if (rtt)
            fprintf(fp, "  rtt %s ms", tget(tx, rtt));
        if (json_object_get_boolean(json_object_object_get(c, "midstream")))
            fprintf(fp, "  (capture started mid-connection)");
        fputc('\n', fp);
        json_object *evs = NULL;
        if (json_object_object_get_ex(c, "xmpp", &evs)) {
            size_t ne = json_object_array_length(evs);
            for (size_t k = 0; k < ne; k++) {
                json_object *e = json_object_array_get_idx(evs, k), *v;
                const char *type = tget(tx, json_object_object_get(e, "type"));
                if (!o->verbose && strcmp(type, "eof") == 0)
                    continue;
                fprintf(fp, "        %6s %s %-13s", tget(tx, json_object_object_get(e, "frame")),
                        strcmp(tget(tx, json_object_object_get(e, "dir")), "orig") == 0 ? "->" : "<-",
                        type);
                static const char *const keys[] = { "from", "to", "db_type", "presence", "stanza_type",
                                                     "condition", "error", "message", NULL };
                for (int kk = 0; keys[kk]; kk++)
                    if (json_object_object_get_ex(e, keys[kk], &v))
                        fprintf(fp, " %s=%s", keys[kk], tget(tx, v));
                fputc('\n', fp);
            }
        }
    }
quality:
    if (o->conns_not_listed)
        fprintf(fp, "  ... and %" PRIu64 " more (use --format json or ndjson)\n", o->conns_not_listed);
    fprintf(fp, "\ncapture quality: %" PRIu64 " gaps (%" PRIu64 " bytes missing), %" PRIu64
                " bad TCP checksums, %" PRIu64 " frames cut by snaplen, %" PRIu64
                " undecodable\n",
            rs->gaps, rs->gap_bytes, d->tcp_csum_bad, d->snaplen_cut,
            d->truncated_link + d->truncated_ip + d->truncated_l4 + d->invalid_ip + d->invalid_l4);
    if (o->verbose) {
        json_object *st = stats_json(pl);
        fprintf(fp, "\nstatistics:\n%s\n",
                json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
        json_object_put(st);
    }
}

int output_finish(struct output *o, const struct capture *cap, const struct pipeline *pl,
                  const struct dispatch *disp)
{
    json_object *st;
    json_object_array_sort(o->connections, by_flow_id);
    switch (o->format) {
    case OUTPUT_JSON: {
        json_object *cj;
        fputs(o->conns_written ? "\n  ],\n  \"dns\": [" : "],\n  \"dns\": [", o->fp);
        if (o->dns_spool) {
            char buf[65536];
            size_t n;
            /* The spool's own error first: rewind() clears it. */
            if (fflush(o->dns_spool) != 0 || ferror(o->dns_spool) || o->spool_errno) {
                if (!o->spool_errno)
                    o->spool_errno = errno ? errno : EIO;
                return -1;
            }
            rewind(o->dns_spool);
            while ((n = fread(buf, 1, sizeof(buf), o->dns_spool)) > 0)
                fwrite(buf, 1, n, o->fp);
            if (ferror(o->dns_spool)) {
                o->spool_errno = errno ? errno : EIO;
                return -1;
            }
        }
        fputs(o->lookups_spooled ? "\n  ]" : "]", o->fp);
        fputs(",\n  \"federations\": ", o->fp);
        emit(o, o->fp, json_object_to_json_string_ext(o->federations, JSON_FLAGS));
        fputs(",\n  \"capture\": ", o->fp);
        cj = capture_json(o, cap, pl);
        emit(o, o->fp, json_object_to_json_string_ext(cj, JSON_FLAGS));
        json_object_put(cj);
        st = stats_json(pl);
        json_object_object_add(st, "dissectors", dissector_stats_json(o, disp));
        if (o->corr)
            json_object_object_add(st, "correlator", correlator_stats_json(o->corr));
        json_object_object_add(st, "output", output_stats_json(o));
        fputs(",\n  \"stats\": ", o->fp);
        emit(o, o->fp, json_object_to_json_string_ext(st, JSON_FLAGS));
        json_object_put(st);
        fputs("\n}\n", o->fp);
        break;
    }
    case OUTPUT_NDJSON: {
        json_object *ev = json_object_new_object();
        json_object_object_add(ev, "@timestamp", jtime(pl->stats.last_ns));
        json_object_object_add(ev, "event_type", jstr("capture.stats"));
        json_object_object_add(ev, "capture", capture_json(o, cap, pl));
        st = stats_json(pl);
        json_object_object_add(st, "dissectors", dissector_stats_json(o, disp));
        if (o->corr)
            json_object_object_add(st, "correlator", correlator_stats_json(o->corr));
        json_object_object_add(st, "output", output_stats_json(o));
        json_object_object_add(ev, "stats", st);
        write_line(o, ev);
        json_object_put(ev);
        break;
    }
    case OUTPUT_TEXT:
        text_report(o, cap, pl);
        break;
    }
    if (fflush(o->fp) != 0 || ferror(o->fp))
        return -1;
    return 0;
}

void output_free(struct output *o)
{
    json_object_put(o->connections);
    json_object_put(o->pending_xmpp);
    json_object_put(o->dns);
    json_object_put(o->federations);
    o->connections = o->pending_xmpp = o->dns = o->federations = NULL;
    if (o->dns_spool)
        fclose(o->dns_spool);
    o->dns_spool = NULL;
}
