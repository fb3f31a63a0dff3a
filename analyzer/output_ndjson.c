/*
 * output_ndjson.c - the NDJSON writer: one event per line, written and
 * flushed as it happens.  Connection, XMPP and DNS events share one
 * envelope (@timestamp, event_type, uid, pcap.cnt, source, destination,
 * network); federation verdicts and the closing capture.stats event are
 * whole events of their own.
 */
#include "output_int.h"

#include <stdio.h>

#include "community_id.h"

/* One line, flushed at once: with the stream's 64 KiB buffer the line
 * reaches the file in one write(), so a reader (or a kill between
 * events) never sees half of it.  Takes ev. */
static void write_line(struct output *o, json_object *ev)
{
    output_emit(o, o->fp, json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    fputc('\n', o->fp);
    fflush(o->fp);
    o->ndjson_lines++;
    json_object_put(ev);
}

/* The common envelope, then `body` under `key`.  Takes the json objects
 * passed. */
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

void ndjson_conn(struct output *o, const struct conn_record *rec, json_object *c)
{
    const struct flow_info *fi = &rec->info;
    write_event(o, rec->first_ns, "connection", jref_uid(fi->flow_id, 'C'), rec->first_frame,
                jendpoint(&fi->addr[FT_DIR_ORIG], fi->port[FT_DIR_ORIG]),
                jendpoint(&fi->addr[FT_DIR_RESP], fi->port[FT_DIR_RESP]), jnetwork(fi, app_proto_name(fi->app)),
                "connection", c);
}

void ndjson_xmpp(struct output *o, const struct flow_info *fi, const struct xmpp_event *ev, json_object *j)
{
    char type[64];
    snprintf(type, sizeof(type), "xmpp.%s", xmpp_event_type_name(ev->type));
    write_event(o, ev->meta.ts_ns, type, jref_uid(fi->flow_id, 'C'), ev->meta.frame,
                jendpoint(&fi->addr[ev->dir], fi->port[ev->dir]), jendpoint(&fi->addr[!ev->dir], fi->port[!ev->dir]),
                jnetwork(fi, "xmpp"), "xmpp", j);
}

void ndjson_dns(struct output *o, const struct dns_lookup *lk, json_object *j)
{
    const struct ft_meta *first = lk->nqueries ? &lk->query[0] : &lk->response;
    write_event(o, first->ts_ns, "dns.lookup", jref_uid(lk->id, 'D'), first->frame,
                jendpoint(&lk->client.addr, lk->client.port), jendpoint(&lk->server.addr, lk->server.port), NULL,
                "dns", j);
}

/* Written as the correlator decides, between the events of the packets
 * before and after the decision: the stream stays in time order. */
void ndjson_verdict(struct output *o, const struct corr_federation *f, const struct corr_direction *d,
                    const struct corr_verdict_change *chg)
{
    write_line(o, federation_verdict_event(f, d, chg));
}

void ndjson_finish(struct output *o, const struct stats_snapshot *snap)
{
    json_object *ev = json_object_new_object();
    json_object_object_add(ev, "@timestamp", jtime(snap->pipeline.last_ns));
    json_object_object_add(ev, "event_type", jstr("capture.stats"));
    json_object_object_add(ev, "capture", capture_json(o, snap));
    json_object_object_add(ev, "stats", stats_full_json(o, snap));
    write_line(o, ev);
}
