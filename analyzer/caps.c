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

size_t caps_hit(const struct pipeline *pl, const struct dispatch *disp,
                const struct correlator *corr, struct cap_hit out[CAPS_MAX])
{
    const struct flow_stats *fs = pl->flows ? flow_table_stats(pl->flows) : &pl->flow_stats;
    const struct reasm_stats *rs = &pl->reasm.stats;
    size_t n = 0;

    add(out, &n, "flow table", "flows evicted", fs->evicted);
    add(out, &n, "reassembly buffer", "forced flushes",
        rs->forced_flushes_stream + rs->forced_flushes_total);
    if (pl->frags)
        add(out, &n, "fragment table", "datagrams evicted", ipfrag_stats(pl->frags)->evicted);
    if (disp) {
        add(out, &n, "dissector state", "connections not dissected", disp->stats.state_cap);
        add(out, &n, "dissector state", "allocations refused", disp->state.refused);
        if (disp->dns)
            add(out, &n, "DNS transactions", "pending queries evicted",
                dns_tracker_stats(disp->dns)->evicted);
    }
    if (corr) {
        const struct corr_stats *cs = corr_stats(corr);
        add(out, &n, "correlator", "connections dropped", cs->conns_dropped);
        add(out, &n, "correlator", "lookups dropped", cs->lookups_dropped);
        add(out, &n, "correlator", "events dropped", cs->events_dropped);
    }
    return n;
}
