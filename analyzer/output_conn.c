/*
 * output_conn.c - a connection record as JSON: identity, times, the
 * handshake, the close, Zeek's history and conn_state, per-direction
 * counters.  The same object in the JSON document and in NDJSON.
 */
#include <config.h>

#include "output_int.h"

#include <inttypes.h>

#include "community_id.h"

static json_object *jdirection(const struct conn_dir_facts *df)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "packets", jint(df->packets));
    json_object_object_add(o, "payload_bytes", jint(df->payload_bytes));
    json_object_object_add(o, "delivered_bytes", jint(df->delivered_bytes));
    json_object_object_add(o, "gaps", jint(df->gaps));
    json_object_object_add(o, "gap_bytes", jint(df->gap_bytes));
    json_object_object_add(o, "retransmissions", jint(df->retransmissions));
    json_object_object_add(o, "overlaps", jint(df->overlaps));
    json_object_object_add(o, "overlap_conflicts", jint(df->overlap_conflicts));
    json_object_object_add(o, "out_of_order", jint(df->out_of_order));
    json_object_object_add(o, "bad_checksums", jint(df->bad_checksums));
    json_object_object_add(o, "zero_windows", jint(df->zero_windows));
    if (df->mss)
        json_object_object_add(o, "mss", jint(df->mss));
    if (df->wscale >= 0)
        json_object_object_add(o, "window_scale", jint((uint64_t)df->wscale));
    json_object_object_add(o, "sack_permitted", json_object_new_boolean(df->sack_permitted));
    json_object_object_add(o, "timestamps", json_object_new_boolean(df->timestamps));
    jadd_opt(o, "first_data", jframe(&df->first_data));
    jadd_opt(o, "fin", jframe(&df->fin));
    return o;
}

/* The connection object: the same in the JSON document and in NDJSON. */
json_object *conn_json(const struct output *out, const struct conn_record *c)
{
    const struct conn_record *f = c;
    json_object *o = json_object_new_object(), *hs, *dirs;

    json_object_object_add(o, "uid", jref_uid(out, f->info.flow_id, 'C'));
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
    json_object_object_add(o, "conn_state", jstr(c->conn_state));
    json_object_object_add(o, "history", jstr(c->history));
    json_object_object_add(o, "midstream", json_object_new_boolean(c->midstream));
    json_object_object_add(o, "established", json_object_new_boolean(c->established));
    json_object_object_add(o, "end_reason", jstr(flow_end_reason_name(c->end_reason)));

    hs = json_object_new_object();
    jadd_opt(hs, "syn", jframe(&c->syn));
    json_object_object_add(hs, "syn_count", jint(c->syn_count));
    if (c->syn_count > 1) {
        json_object *times = json_object_new_array();
        int n = c->syn_count < FACT_MAX_SYN_TIMES ? c->syn_count : FACT_MAX_SYN_TIMES;
        for (int i = 0; i < n; i++)
            json_object_array_add(times, jtime(c->syn_times_ns[i]));
        json_object_object_add(hs, "syn_times", times);
    }
    jadd_opt(hs, "synack", jframe(&c->synack));
    json_object_object_add(hs, "synack_count", jint(c->synack_count));
    jadd_opt(hs, "ack", jframe(&c->ack));
    if (c->rtt_ns >= 0)
        json_object_object_add(hs, "rtt_ms", jms(c->rtt_ns));
    json_object_object_add(o, "handshake", hs);

    if (c->rst.frame) {
        json_object *r = jframe(&c->rst);
        json_object_object_add(r, "from", jstr(c->rst_dir == FT_DIR_ORIG ? "orig" : "resp"));
        json_object_object_add(o, "rst", r);
    }
    dirs = json_object_new_object();
    json_object_object_add(dirs, "orig", jdirection(&c->dir[FT_DIR_ORIG]));
    json_object_object_add(dirs, "resp", jdirection(&c->dir[FT_DIR_RESP]));
    json_object_object_add(o, "directions", dirs);
    return o;
}
