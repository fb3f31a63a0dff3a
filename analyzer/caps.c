/*
 * caps.c - the list of caps that bit in a run (see caps.h).
 */
#include "caps.h"

static void add(struct cap_hit *out, size_t *n, const char *cap, const char *what,
                uint64_t count)
{
    if (count == 0 || *n >= CAPS_MAX)
        return;
    out[*n].cap = cap;
    out[*n].what = what;
    out[*n].count = count;
    (*n)++;
}

size_t caps_hit(const struct stats_snapshot *snap, const struct corr_stats *cs,
                struct cap_hit out[CAPS_MAX])
{
    size_t n = 0;

    add(out, &n, "flow table", "flows evicted", snap->flows.evicted);
    add(out, &n, "reassembly buffer", "forced flushes",
        snap->reasm.forced_flushes_stream + snap->reasm.forced_flushes_total);
    add(out, &n, "fragment table", "datagrams evicted", snap->ipfrag.evicted);
    add(out, &n, "dissector state", "connections not dissected", snap->dispatch.state_cap);
    add(out, &n, "dissector state", "allocations refused", snap->dispatch.state_refused);
    add(out, &n, "DNS transactions", "pending queries evicted", snap->dns_tracker.evicted);
    if (cs) {
        add(out, &n, "correlator", "connections dropped", cs->conns_dropped);
        add(out, &n, "correlator", "lookups dropped", cs->lookups_dropped);
        add(out, &n, "correlator", "events dropped", cs->events_dropped);
        add(out, &n, "correlator", "NAT twin candidates not examined", cs->nat_candidates_capped);
        add(out, &n, "correlator", "directions left unjudged", cs->directions_unjudged);
        add(out, &n, "correlator", "connections retired before their idle timeout",
            cs->conns_retired_early);
        add(out, &n, "federations kept", "retired federations left out", cs->federations_dropped);
        add(out, &n, "timeline", "lines elided", cs->timelines_elided);
        add(out, &n, "correlator timers", "timers not queued", cs->timers_dropped);
        add(out, &n, "correlator", "identity facts not remembered", cs->identity_memory_dropped);
        add(out, &n, "correlator", "TLS record sizes dropped", cs->tls_records_dropped);
    }
    return n;
}
