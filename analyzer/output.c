/*
 * output.c - JSON, NDJSON and text rendering (see output.h).
 */
#include <config.h>

#include "output.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "ipfrag.h"

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

static json_object *jstr(const char *s)
{
    return json_object_new_string(s);
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

int output_init(struct output *o, enum output_format format, FILE *fp, int verbose)
{
    memset(o, 0, sizeof(*o));
    o->format = format;
    o->fp = fp;
    o->verbose = verbose;
    o->connections = json_object_new_array();
    return o->connections ? 0 : -1;
}

static void write_line(struct output *o, json_object *ev)
{
    fputs(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
          o->fp);
    fputc('\n', o->fp);
    o->ndjson_lines++;
}

void output_conn(struct output *o, const struct flow *f, enum flow_end_reason why)
{
    json_object *c = conn_json(f, why);

    if (o->format == OUTPUT_NDJSON) {
        json_object *ev = json_object_new_object(), *pcap = json_object_new_object();
        json_object *net = json_object_new_object();
        json_object_object_add(ev, "@timestamp", jtime(f->first_ns));
        json_object_object_add(ev, "event_type", jstr("connection"));
        json_object_object_add(ev, "uid", json_object_get(json_object_object_get(c, "uid")));
        json_object_object_add(pcap, "cnt", jint(f->first_frame));
        json_object_object_add(ev, "pcap", pcap);
        json_object_object_add(ev, "source", jendpoint(&f->info.addr[FT_DIR_ORIG], f->info.port[FT_DIR_ORIG]));
        json_object_object_add(ev, "destination", jendpoint(&f->info.addr[FT_DIR_RESP], f->info.port[FT_DIR_RESP]));
        json_object_object_add(net, "transport", jstr("tcp"));
        json_object_object_add(net, "protocol", jstr(app_proto_name(f->info.app)));
        json_object_object_add(ev, "network", net);
        json_object_object_add(ev, "connection", c);
        write_line(o, ev);
        json_object_put(ev);
        return;
    }
    json_object_array_add(o->connections, c);
}

static int by_flow_id(const void *a, const void *b)
{
    int64_t x = json_object_get_int64(json_object_object_get(*(json_object *const *)a, "flow_id"));
    int64_t y = json_object_get_int64(json_object_object_get(*(json_object *const *)b, "flow_id"));
    return x < y ? -1 : x > y;
}

static json_object *capture_json(const struct capture *cap, const struct pipeline *pl)
{
    json_object *o = json_object_new_object(), *srcs = json_object_new_array();
    for (unsigned i = 0; i < cap->nsrc; i++) {
        const struct capture_source *s = &cap->src[i];
        json_object *j = json_object_new_object();
        json_object_object_add(j, "name", jstr(s->name));
        json_object_object_add(j, "kind", jstr(s->live ? "interface" : "file"));
        if (s->observer)
            json_object_object_add(j, "observer", jstr(s->observer));
        json_object_object_add(j, "linktype", jstr(capture_linktype_name(s->linktype)));
        json_object_object_add(j, "snaplen", jint((uint64_t)s->snaplen));
        json_object_object_add(j, "frames", jint(s->frames));
        if (s->error[0])
            json_object_object_add(j, "error", jstr(s->error));
        if (s->have_stats) {
            json_object_object_add(j, "kernel_received", jint(s->kernel_received));
            json_object_object_add(j, "kernel_dropped", jint(s->kernel_dropped));
            json_object_object_add(j, "interface_dropped", jint(s->if_dropped));
        }
        json_object_array_add(srcs, j);
    }
    json_object_object_add(o, "sources", srcs);
    json_object_object_add(o, "frames", jint(cap->frames));
    if (pl->have_packets) {
        json_object_object_add(o, "first_ts", jtime(pl->stats.first_ns));
        json_object_object_add(o, "last_ts", jtime(pl->stats.last_ns));
        json_object_object_add(o, "duration_ms", jms(pl->stats.last_ns - pl->stats.first_ns));
    }
    return o;
}

#define ADD(obj, st, field) json_object_object_add(obj, #field, jint((st)->field))

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

static void text_report(struct output *o, const struct capture *cap, const struct pipeline *pl)
{
    FILE *fp = o->fp;
    char t0[40], t1[40];
    size_t n = json_object_array_length(o->connections);
    const struct decode_stats *d = &pl->dec.stats;
    const struct reasm_stats *rs = &pl->reasm.stats;

    fprintf(fp, "fedtrace %s: %" PRIu64 " frames from %u source%s", PACKAGE_VERSION, cap->frames,
            cap->nsrc, cap->nsrc == 1 ? "" : "s");
    if (pl->have_packets)
        fprintf(fp, ", %s .. %s", format_time(pl->stats.first_ns, t0, sizeof(t0)),
                format_time(pl->stats.last_ns, t1, sizeof(t1)));
    fputc('\n', fp);
    for (unsigned i = 0; i < cap->nsrc; i++) {
        const struct capture_source *s = &cap->src[i];
        fprintf(fp, "  [%u] %s%s%s  %s  %" PRIu64 " frames%s%s\n", i, s->name,
                s->observer ? "@" : "", s->observer ? s->observer : "",
                capture_linktype_name(s->linktype), s->frames, s->error[0] ? "  DAMAGED: " : "",
                s->error);
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
                json_object_get_string(json_object_object_get(c, "uid")),
                json_object_get_string(json_object_object_get(c, "app")), a, b,
                json_object_get_string(json_object_object_get(c, "conn_state")),
                json_object_get_string(json_object_object_get(c, "history")),
                json_object_get_int64(json_object_object_get(c, "first_frame")),
                json_object_get_int64(json_object_object_get(c, "last_frame")),
                json_object_get_int64(json_object_object_get(od, "payload_bytes")),
                json_object_get_int64(json_object_object_get(rd, "payload_bytes")));
        if (rtt)
            fprintf(fp, "  rtt %s ms", json_object_get_string(rtt));
        if (json_object_get_boolean(json_object_object_get(c, "midstream")))
            fprintf(fp, "  (capture started mid-connection)");
        fputc('\n', fp);
    }
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

int output_finish(struct output *o, const struct capture *cap, const struct pipeline *pl)
{
    json_object_array_sort(o->connections, by_flow_id);
    switch (o->format) {
    case OUTPUT_JSON: {
        json_object *doc = json_object_new_object(), *schema = json_object_new_object();
        json_object_object_add(schema, "name", jstr("fedtrace"));
        json_object_object_add(schema, "version", jstr(FEDTRACE_SCHEMA_VERSION));
        json_object_object_add(doc, "schema", schema);
        json_object_object_add(doc, "generator", jstr(PACKAGE_STRING));
        json_object_object_add(doc, "capture", capture_json(cap, pl));
        json_object_object_add(doc, "connections", json_object_get(o->connections));
        json_object_object_add(doc, "stats", stats_json(pl));
        fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE),
              o->fp);
        fputc('\n', o->fp);
        json_object_put(doc);
        break;
    }
    case OUTPUT_NDJSON: {
        json_object *ev = json_object_new_object();
        json_object_object_add(ev, "@timestamp", jtime(pl->stats.last_ns));
        json_object_object_add(ev, "event_type", jstr("capture.stats"));
        json_object_object_add(ev, "capture", capture_json(cap, pl));
        json_object_object_add(ev, "stats", stats_json(pl));
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
    o->connections = NULL;
}
