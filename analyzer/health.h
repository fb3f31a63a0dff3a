/*
 * health.h - the periodic duties of a long run: a capture.stats line every
 * --stats-interval seconds, the Prometheus exposition written atomically
 * to --metrics-file and served on --metrics-listen.  Driven by wall time:
 * health_tick() is called from the live clock and as packet time moves,
 * and does nothing until a duty is due.  It sees the engine only through
 * a snapshot callback, the output and the verdict events (health_verdict).
 */
#ifndef FT_HEALTH_H
#define FT_HEALTH_H

#include <stdint.h>

#include "correlate.h"
#include "facts.h"
#include "output.h"

struct health_config {
    uint64_t stats_interval_s;   /* 0: no periodic stats lines */
    const char *metrics_file;    /* NULL: none */
    const char *metrics_listen;  /* NULL: none */
};

#define HEALTH_METRICS_FILE_NS (10 * INT64_C(1000000000)) /* metrics file refresh */

/* Fills a stats snapshot of the engine as it is now. */
typedef void (*health_snapshot_fn)(void *user, struct stats_snapshot *snap);

struct health;

/* NULL with a one-line reason in err (memory, the listening socket). */
struct health *health_new(const struct health_config *cfg, health_snapshot_fn fill, void *user,
                          char *err, size_t errlen);

/* Does what is due at wall time now: the stats line (to `out`, NDJSON
 * only), the metrics file, answering scrapes. */
void health_tick(struct health *h, struct output *out);

/* A verdict event (corr_verdict_fn; h may be NULL): the verdict metrics
 * count it. */
void health_verdict(struct health *h, const struct corr_federation *f, const struct corr_direction *d,
                    const struct corr_verdict_change *chg);

/* The end of the run: the metrics file once more from `snap` (the final
 * snapshot). */
void health_finish(struct health *h, const struct stats_snapshot *snap);

/* NULL is fine. */
void health_free(struct health *h);

#endif
