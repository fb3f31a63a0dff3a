/*
 * metrics.h - the run's health as Prometheus text exposition (format
 * 0.0.4): packets, bytes, kernel and interface drops, flows, reassembly,
 * parse errors, every cap that bit, federations by status and failing, and
 * a counter of verdicts decided by stage and code.
 *
 * The verdict counter counts decisions: metrics_observe() looks at the
 * correlator's federations and counts each direction whose verdict is new
 * or changed since the last look (a tracked table of at most
 * METRICS_MAX_TRACKED directions; beyond it, changes are counted once and
 * metrics_untracked says how many were not followed).  Names follow the
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

struct metrics_dir {
    uint64_t key;          /* hash of federation id and direction; 0: empty */
    uint16_t code;         /* enum verdict_code last seen */
    uint8_t status;        /* enum corr_status last seen */
};

struct metrics {
    int64_t start_ns;                          /* wall time of the start */
    uint64_t verdicts[VERDICT_CODE_COUNT];     /* decided, by code */
    struct metrics_dir *dirs;                  /* owned; open addressing */
    uint32_t cap, used;
    uint64_t untracked;                        /* directions not followed (cap) */
    /* federations by status at the last look */
    uint64_t fed_ok, fed_failed, fed_unknown, dirs_failing;
};

/* start_ns: the wall time the run started. */
void metrics_init(struct metrics *m, int64_t start_ns);
void metrics_free(struct metrics *m);

/* Counts every direction whose verdict is new or changed since the last
 * call, and the federations by status now.  corr may be NULL. */
void metrics_observe(struct metrics *m, const struct correlator *corr);

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
