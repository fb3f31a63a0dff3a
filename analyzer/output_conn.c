/*
 * output_conn.c - a connection record as JSON: identity, times, the
 * handshake, the close, Zeek's history and conn_state, per-direction
 * counters.  Described once on a writer (output_jwrite.h): the same
 * object as text in the JSON document (output_json.c adds its XMPP
 * events) and as a json-c tree in NDJSON.
 */
#include <config.h>

#include "output_int.h"

#include <inttypes.h>

#include "community_id.h"

static void direction_write(struct jw *w, const char *key, const struct conn_dir_facts *df)
{
    jw_open(w, key);
    jw_int(w, "packets", (int64_t)df->packets);
    jw_int(w, "payload_bytes", (int64_t)df->payload_bytes);
    jw_int(w, "delivered_bytes", (int64_t)df->delivered_bytes);
    jw_int(w, "gaps", (int64_t)df->gaps);
    jw_int(w, "gap_bytes", (int64_t)df->gap_bytes);
    jw_int(w, "retransmissions", (int64_t)df->retransmissions);
    jw_int(w, "overlaps", (int64_t)df->overlaps);
    jw_int(w, "overlap_conflicts", (int64_t)df->overlap_conflicts);
    jw_int(w, "out_of_order", (int64_t)df->out_of_order);
    jw_int(w, "bad_checksums", (int64_t)df->bad_checksums);
    jw_int(w, "zero_windows", (int64_t)df->zero_windows);
    if (df->mss)
        jw_int(w, "mss", (int64_t)df->mss);
    if (df->wscale >= 0)
        jw_int(w, "window_scale", (int64_t)(uint64_t)df->wscale);
    jw_bool(w, "sack_permitted", df->sack_permitted);
    jw_bool(w, "timestamps", df->timestamps);
    jw_frame(w, "first_data", &df->first_data);
    jw_frame(w, "fin", &df->fin);
    jw_close(w);
}

void conn_members(struct jw *w, const struct output *out, const struct conn_record *c)
{
    const struct flow_info *fi = &c->info;

    jw_uid(w, "uid", out, fi->flow_id, 'C');
    jw_int(w, "flow_id", (int64_t)fi->flow_id);
    jw_str(w, "transport", "tcp");
    jw_str(w, "app", app_proto_name(fi->app));
    {
        char cid[COMMUNITY_ID_LEN];
        jw_str(w, "community_id", community_id(&fi->addr[0], fi->port[0], &fi->addr[1], fi->port[1], 6, 0, cid));
    }
    jw_endpoint(w, "orig", &fi->addr[FT_DIR_ORIG], fi->port[FT_DIR_ORIG]);
    jw_endpoint(w, "resp", &fi->addr[FT_DIR_RESP], fi->port[FT_DIR_RESP]);
    jw_time(w, "start", c->first_ns);
    jw_time(w, "end", c->last_ns);
    jw_ms(w, "duration_ms", c->last_ns - c->first_ns);
    jw_int(w, "first_frame", (int64_t)c->first_frame);
    jw_int(w, "last_frame", (int64_t)c->last_frame);
    jw_int(w, "source", (int64_t)c->source);
    jw_str(w, "conn_state", c->conn_state);
    jw_str(w, "history", c->history);
    jw_bool(w, "midstream", c->midstream);
    jw_bool(w, "established", c->established);
    jw_str(w, "end_reason", flow_end_reason_name(c->end_reason));

    jw_open(w, "handshake");
    jw_frame(w, "syn", &c->syn);
    jw_int(w, "syn_count", (int64_t)c->syn_count);
    if (c->syn_count > 1) {
        int n = c->syn_count < FACT_MAX_SYN_TIMES ? c->syn_count : FACT_MAX_SYN_TIMES;
        jw_open_array(w, "syn_times");
        for (int i = 0; i < n; i++)
            jw_time(w, NULL, c->syn_times_ns[i]);
        jw_close(w);
    }
    jw_frame(w, "synack", &c->synack);
    jw_int(w, "synack_count", (int64_t)c->synack_count);
    jw_frame(w, "ack", &c->ack);
    if (c->rtt_ns >= 0)
        jw_ms(w, "rtt_ms", c->rtt_ns);
    jw_close(w);

    if (c->rst.frame) {
        jw_open(w, "rst");
        jw_frame_members(w, &c->rst);
        jw_str(w, "from", c->rst_dir == FT_DIR_ORIG ? "orig" : "resp");
        jw_close(w);
    }
    jw_open(w, "directions");
    direction_write(w, "orig", &c->dir[FT_DIR_ORIG]);
    direction_write(w, "resp", &c->dir[FT_DIR_RESP]);
    jw_close(w);
}

json_object *conn_json(const struct output *out, const struct conn_record *c)
{
    struct jw w;
    jw_tree_init(&w);
    jw_open(&w, NULL);
    conn_members(&w, out, c);
    jw_close(&w);
    return jw_tree_done(&w);
}
