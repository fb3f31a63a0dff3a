/*
 * metrics.h - the run's health as Prometheus text exposition (format
 * 0.0.4): packets, bytes, kernel and interface drops, flows, reassembly,
 * parse errors, every cap that bit, federations by status and failing, and
 * a counter of verdicts decided by stage and code.
 *
 * The verdict figures come from the verdict events as the correlator
 * sends them (metrics_on_verdict), never from the federations it still
 * keeps: a retired federation freed long ago still counts.  Each event is
 * one decision (new or changed) for the counter; the gauges of failing
 * directions and of federations by status follow a table of the last
 * status per direction and per federation, by name (a direction that
 * retired and comes back for the same domains is the same one), at most
 * METRICS_MAX_TRACKED entries (beyond it, an event counts as new and
 * `untracked` says how many).  Names follow the
 * Prometheus conventions: fedtrace_ prefix, _total on counters, units
 * (_bytes, _seconds) in the name.
 */
#ifndef FT_METRICS_H
#define FT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate.h"
#include "facts.h"
#include "verdict.h"

#define METRICS_MAX_TRACKED 65536   /* federation directions followed */
#define METRICS_MAX_TEXT (1u << 20) /* exposition text at most */

struct metrics_fed {
    uint64_t key;          /* hash of the federation id (and direction); 0: empty */
    uint8_t status;        /* enum corr_status last seen (a federation: its worst direction's) */
};

struct metrics {
    int64_t start_ns;                          /* wall time of the start */
    uint64_t verdicts[VERDICT_CODE_COUNT];     /* decided, by code */
    struct metrics_fed *feds;                  /* owned; open addressing */
    uint32_t cap, used;
    uint64_t untracked;                        /* verdict events of federations not followed (cap) */
    /* federations by the status of their worst direction, and directions
     * whose last verdict is failed, as the verdict events said */
    uint64_t fed_ok, fed_failed, fed_unknown, dirs_failing;
};

/* start_ns: the wall time the run started. */
void metrics_init(struct metrics *m, int64_t start_ns);
void metrics_free(struct metrics *m);

/* One verdict event (corr_verdict_fn): counts the decision and moves the
 * gauges. */
void metrics_on_verdict(struct metrics *m, const struct corr_federation *f, const struct corr_direction *d,
                        const struct corr_verdict_change *chg);

/* A growable text (owned buf; NUL-terminated). */
struct metrics_text {
    char *buf;
    size_t len, cap;
    bool truncated;        /* METRICS_MAX_TEXT reached */
};

/* Renders the exposition of snap and m into t (reset first).  0, or -1
 * when memory ran out (t holds what fit). */
int metrics_render(struct metrics_text *t, const struct metrics *m, const struct stats_snapshot *snap);
void metrics_text_free(struct metrics_text *t);

/* Writes text to path atomically: a temporary file in the same
 * directory, fsync, rename (what node_exporter's textfile collector
 * needs).  0, or -1 with errno set. */
int metrics_write_file(const char *path, const struct metrics_text *t);

#endif
