/*
 * output_ndjson.c - the NDJSON writer: one event per line, written and
 * flushed as it happens.  Every event is an ECS document: the envelope,
 * source/destination, network, related, dns/tls/error under their ECS
 * names (output_ecs.c), and fedtrace's own fields under "fedtrace"
 * (event_type, uid, frame and the family's object: connection, xmpp, dns,
 * federation, capture and stats).
 */
#include "output_int.h"

#include <stdio.h>
#include <string.h>

/* One line, flushed at once: the outfile writes whole lines only, each
 * flush in one write(), so a reader (or a kill between events) never sees
 * half of it.  Takes ev. */
static void write_line(struct output *o, json_object *ev)
{
    output_emit(o, o->fp, json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    fputc('\n', o->fp);
    fflush(o->fp);
    o->ndjson_lines++;
    json_object_put(ev);
}

/* fedtrace.*: the event type, the uid of the connection or lookup, the
 * frame, and the family's own object under `key`.  Takes body. */
static json_object *fedtrace_part(struct output *o, const char *type, uint64_t id, char prefix, uint64_t frame,
                                  const char *key, json_object *body)
{
    json_object *ft = json_object_new_object();
    json_object_object_add(ft, "event_type", jstr(type));
    if (id)
        json_object_object_add(ft, "uid", jref_uid(o, id, prefix));
    if (frame)
        json_object_object_add(ft, "frame", jint(frame));
    json_object_object_add(ft, key, body);
    return ft;
}

void ndjson_conn(struct output *o, const struct conn_record *rec, json_object *c)
{
    const struct flow_info *fi = &rec->info;
    const char *st = rec->conn_state;
    bool refused = strcmp(st, "REJ") == 0, unanswered = strcmp(st, "S0") == 0;
    struct ecs_event d = { "event", "network", "connection,end", "connection",
                           refused || unanswered ? "failure" : rec->established ? "success" : "unknown",
                           "fedtrace.connection" };
    json_object *ev = json_object_new_object();

    ecs_envelope(o, ev, rec->first_ns, &d, (int)rec->source);
    ecs_endpoints(ev, &fi->addr[FT_DIR_ORIG], fi->port[FT_DIR_ORIG], &fi->addr[FT_DIR_RESP], fi->port[FT_DIR_RESP]);
    ecs_network(ev, &fi->addr[0], fi->port[0], &fi->addr[1], fi->port[1], false, app_proto_name(fi->app));
    if (refused)
        ecs_error(ev, "connection_refused", "the responder answered the SYN with a reset", "tcp");
    else if (unanswered)
        ecs_error(ev, "connection_unanswered", "no answer to the SYN", "tcp");
    json_object_object_add(ev, "fedtrace", fedtrace_part(o, "connection", fi->flow_id, 'C', rec->first_frame,
                                                         "connection", c));
    write_line(o, ev);
}

/* event.outcome and error.* of an XMPP event; NULL outcome: none. */
static const char *xmpp_outcome(json_object *ev, const struct xmpp_event *x)
{
    switch (x->type) {
    case XMPP_EV_STREAM_ERROR:
        ecs_error(ev, x->condition ? x->condition : "stream_error", x->text, "xmpp.stream_error");
        return "failure";
    case XMPP_EV_SASL_FAILURE:
        ecs_error(ev, x->condition ? x->condition : "sasl_failure", x->text, "xmpp.sasl");
        return "failure";
    case XMPP_EV_TLS_FAILURE:
        ecs_error(ev, "starttls_failure", NULL, "xmpp.starttls");
        return "failure";
    case XMPP_EV_ERROR:
        ecs_error(ev, xmpp_error_name(x->error), x->error_msg, "xmpp.parse");
        return "failure";
    case XMPP_EV_SASL_SUCCESS:
        return "success";
    case XMPP_EV_DB_RESULT:
    case XMPP_EV_DB_VERIFY:
        if (x->db_type == XMPP_DB_VALID)
            return "success";
        if (x->db_type == XMPP_DB_INVALID || x->db_type == XMPP_DB_ERROR) {
            ecs_error(ev, x->db_type == XMPP_DB_INVALID ? "dialback_invalid" : "dialback_error",
                      x->condition, "xmpp.dialback");
            return "failure";
        }
        return NULL;
    default:
        return NULL;
    }
}

void ndjson_xmpp(struct output *o, const struct flow_info *fi, const struct xmpp_event *ev, json_object *j)
{
    char type[64];
    struct ecs_event d = { "event", "network", "protocol", type, NULL, "fedtrace.xmpp" };
    json_object *e = json_object_new_object();

    snprintf(type, sizeof(type), "xmpp.%s", xmpp_event_type_name(ev->type));
    d.outcome = xmpp_outcome(e, ev);
    if (d.outcome && strcmp(d.outcome, "failure") == 0)
        d.type = "protocol,error";
    ecs_envelope(o, e, ev->meta.ts_ns, &d, (int)ev->meta.source);
    ecs_endpoints(e, &fi->addr[ev->dir], fi->port[ev->dir], &fi->addr[!ev->dir], fi->port[!ev->dir]);
    ecs_network(e, &fi->addr[0], fi->port[0], &fi->addr[1], fi->port[1], false, "xmpp");
    ecs_related_host(e, ev->from);
    ecs_related_host(e, ev->to);
    if (ev->type == XMPP_EV_TLS && ev->tls) {
        json_object *tls = ecs_tls(e, ev->tls, ev->dir == FT_DIR_RESP);
        if (tls)
            json_object_object_add(e, "tls", tls);
    }
    json_object_object_add(e, "fedtrace", fedtrace_part(o, type, fi->flow_id, 'C', ev->meta.frame, "xmpp", j));
    write_line(o, e);
}

void ndjson_dns(struct output *o, const struct dns_lookup *lk, json_object *j)
{
    const struct ft_meta *first = lk->nqueries ? &lk->query[0] : &lk->response;
    enum dns_outcome out = (enum dns_outcome)lk->outcome;
    bool ok = out == DNS_OUT_ANSWERED, unknown = out == DNS_OUT_TRUNCATED_THEN_TCP;
    struct ecs_event d = { "event", "network", ok || unknown ? "protocol" : "protocol,error", "dns.lookup",
                           ok ? "success" : unknown ? "unknown" : "failure", "fedtrace.dns" };
    json_object *ev = json_object_new_object();

    ecs_envelope(o, ev, first->ts_ns, &d, (int)first->source);
    ecs_endpoints(ev, &lk->client.addr, lk->client.port, &lk->server.addr, lk->server.port);
    ecs_network(ev, &lk->client.addr, lk->client.port, &lk->server.addr, lk->server.port,
                lk->transport != DNS_TCP, "dns");
    json_object_object_add(ev, "dns", ecs_dns(ev, lk));
    if (!ok && !unknown)
        ecs_error(ev, dns_outcome_name(out), NULL, "dns");
    json_object_object_add(ev, "fedtrace", fedtrace_part(o, "dns.lookup", lk->id, 'D', first->frame, "dns", j));
    write_line(o, ev);
}

/* Written as the correlator decides, between the events of the packets
 * before and after the decision: the stream stays in time order. */
void ndjson_verdict(struct output *o, const struct corr_federation *f, const struct corr_direction *d,
                    const struct corr_verdict_change *chg)
{
    write_line(o, federation_verdict_event(o, f, d, chg));
}

void ndjson_stats(struct output *o, const struct stats_snapshot *snap, bool final)
{
    struct ecs_event d = { "metric", "network", "info", "capture.stats", NULL, "fedtrace.stats" };
    json_object *ev = json_object_new_object(), *ft = json_object_new_object();
    /* A run that saw no packet yet is stamped with the wall clock, not 1970. */
    int64_t ts = snap->have_packets ? snap->pipeline.last_ns : ecs_wall_ns();

    ecs_envelope(o, ev, ts, &d, -1);
    json_object_object_add(ft, "event_type", jstr("capture.stats"));
    json_object_object_add(ft, "final", json_object_new_boolean(final));
    json_object_object_add(ft, "capture", capture_json(o, snap));
    json_object_object_add(ft, "stats", stats_full_json(o, snap));
    json_object_object_add(ev, "fedtrace", ft);
    write_line(o, ev);
}

void ndjson_finish(struct output *o, const struct stats_snapshot *snap)
{
    ndjson_stats(o, snap, true);
}
