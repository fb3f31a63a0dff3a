/*
 * caps.h - which of a run's resource caps bit, and how often.
 *
 * Every cap that keeps memory bounded (flow table, reassembly buffers, IP
 * fragment table, DNS transactions, dissector state, the correlator's
 * tables) counts what it turned away.  This module gathers those counters
 * from the stats snapshot and the correlator's stats into one list, so
 * every report names the same caps the same way; the text report prints
 * them on its capture-quality line.  It only reads counters.
 */
#ifndef FT_CAPS_H
#define FT_CAPS_H

#include <stddef.h>
#include <stdint.h>

#include "correlate.h"
#include "facts.h"

#define CAPS_MAX 24

struct cap_hit {
    const char *cap;   /* static: "flow table", "dissector state", ... */
    const char *what;  /* static: what the count counts, "flows evicted" */
    uint64_t count;    /* > 0 */
};

/* Fills out[0..n) with the caps that bit, in pipeline order, and returns
 * n (<= CAPS_MAX).  cs (the correlator's counters) may be NULL. */
size_t caps_hit(const struct stats_snapshot *snap, const struct corr_stats *cs,
                struct cap_hit out[CAPS_MAX]);

#endif
