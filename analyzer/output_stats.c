/*
 * output_stats.c - the capture (its sources, time span, interruption) and
 * every counter of the run as JSON, from a stats snapshot (facts.h) and
 * the output's and the correlator's own counters.
 */
#include "output_int.h"

json_object *capture_json(const struct output *out, const struct stats_snapshot *snap)
{
    json_object *o = json_object_new_object(), *srcs = json_object_new_array();
    for (unsigned i = 0; i < snap->nsources; i++) {
        struct source_facts s = snap->sources[i];
        struct corr_clock clk;
        json_object *j = json_object_new_object();
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
        if (out->corr && corr_clock_offset(out->corr, i, &clk)) {
            json_object *k = json_object_new_object();
            json_object_object_add(k, "reference", jint(clk.reference));
            json_object_object_add(k, "offset_ms", jms(clk.offset_ns));
            json_object_object_add(k, "pairs", jint(clk.pairs));
            json_object_object_add(j, "clock_offset", k);
        }
        if (s.have_stats) {
            json_object_object_add(j, "kernel_received", jint(s.kernel_received));
            json_object_object_add(j, "kernel_dropped", jint(s.kernel_dropped));
            json_object_object_add(j, "interface_dropped", jint(s.if_dropped));
        }
        json_object_array_add(srcs, j);
    }
    json_object_object_add(o, "sources", srcs);
    json_object_object_add(o, "frames", jint(snap->frames));
    if (snap->have_packets) {
        json_object_object_add(o, "first_ts", jtime(snap->pipeline.first_ns));
        json_object_object_add(o, "last_ts", jtime(snap->pipeline.last_ns));
        json_object_object_add(o, "duration_ms", jms(snap->pipeline.last_ns - snap->pipeline.first_ns));
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

static json_object *dissector_stats_json(const struct output *out, const struct stats_snapshot *snap)
{
    json_object *o = json_object_new_object(), *dns = json_object_new_object();
    json_object *x = json_object_new_object(), *errs = json_object_new_object();
    const struct dns_tracker_stats *ts = &snap->dns_tracker;
    const struct dns_stats *ps = &snap->dns_parse;
    const struct dispatch_stats *ds = &snap->dispatch;

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
    if (out->format == OUTPUT_JSON && !out->verbose)
        json_object_object_add(dns, "lookups_unreferenced", jint(out->lookups_unreferenced));
    json_object_object_add(o, "xmpp", x);
    json_object_object_add(o, "alloc_failures", jint(ds->alloc_failures));
    {
        json_object *st = json_object_new_object();
        json_object_object_add(st, "limit_bytes", jint(ds->state_limit));
        json_object_object_add(st, "peak_bytes", jint(ds->state_peak));
        json_object_object_add(st, "connections_not_dissected", jint(ds->state_cap));
        json_object_object_add(st, "allocations_refused", jint(ds->state_refused));
        json_object_object_add(o, "state", st);
    }
    if (snap->decrypt.enabled) {
        json_object *dc = json_object_new_object();
        const struct decrypt_stats *dst = &snap->decrypt;
        ADD(dc, dst, keylog_files);
        ADD(dc, dst, secrets_blocks);
        ADD(dc, dst, secrets);
        ADD(dc, dst, malformed_lines);
        ADD(dc, dst, connections);
        ADD(dc, dst, connections_refused);
        ADD(dc, dst, records);
        ADD(dc, dst, plaintext_bytes);
        ADD(dc, dst, auth_failures);
        ADD(dc, dst, no_key);
        ADD(dc, dst, unsupported);
        ADD(dc, dst, errors);
        ADD(dc, dst, key_updates);
        ADD(dc, dst, connections_decrypted);
        ADD(dc, dst, connections_fallen_back);
        ADD(dc, dst, key_waits);
        ADD(dc, dst, keys_late);
        ADD(dc, dst, held_records);
        ADD(dc, dst, held_overflows);
        json_object_object_add(o, "tls_decryption", dc);
    }
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
    ADD(o, cs, tls_records);
    ADD(o, cs, tls_records_dropped);
    ADD(o, cs, s2s_conns);
    ADD(o, cs, c2s_conns);
    ADD(o, cs, nat_pairs);
    ADD(o, cs, federations);
    ADD(o, cs, nat_candidates_capped);
    if (cs->nat_ambiguous)
        ADD(o, cs, nat_ambiguous);
    ADD(o, cs, directions_unjudged);
    ADD(o, cs, rounds);
    ADD(o, cs, verdict_events);
    ADD(o, cs, conns_retired);
    ADD(o, cs, conns_retired_early);
    ADD(o, cs, lookups_retired);
    ADD(o, cs, lookups_noise);
    ADD(o, cs, rounds_partial);
    ADD(o, cs, directions_retired);
    ADD(o, cs, federations_dropped);
    if (cs->federations_released)
        ADD(o, cs, federations_released);
    ADD(o, cs, timelines_elided);
    ADD(o, cs, timers_dropped);
    ADD(o, cs, identity_memory_dropped);
    ADD(o, cs, busy_ns);
    return o;
}

json_object *stats_json(const struct stats_snapshot *snap)
{
    json_object *o = json_object_new_object();
    json_object *dec = json_object_new_object(), *frag = json_object_new_object();
    json_object *flows = json_object_new_object(), *re = json_object_new_object();
    json_object *pipe = json_object_new_object();
    const struct decode_stats *d = &snap->decode;
    const struct ipfrag_stats *fs = &snap->ipfrag;
    const struct reasm_stats *rs = &snap->reasm;
    const struct pipeline_stats *ps = &snap->pipeline;

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
        const struct flow_stats *f = &snap->flows;
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


json_object *stats_full_json(const struct output *o, const struct stats_snapshot *snap)
{
    json_object *st = stats_json(snap);
    json_object_object_add(st, "dissectors", dissector_stats_json(o, snap));
    if (o->corr)
        json_object_object_add(st, "correlator", correlator_stats_json(o->corr));
    json_object_object_add(st, "output", output_stats_json(o));
    return st;
}
