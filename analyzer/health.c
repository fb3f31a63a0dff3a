/*
 * health.c - periodic stats lines and the metrics file and endpoint (see
 * health.h).
 */
#include <config.h>

#include "health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "metrics_http.h"

#define HEALTH_POLL_NS (50 * INT64_C(1000000)) /* look at the clock at most this often */

struct health {
    struct health_config cfg;
    health_snapshot_fn fill;
    void *user;
    struct stats_snapshot *snap;   /* owned: the latest snapshot */
    struct metrics m;
    struct metrics_text text;
    struct metrics_http *http;     /* owned or NULL */
    int64_t next_poll_ns, next_stats_ns, next_file_ns;
    bool file_warned;
};

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * FT_NS_PER_SEC + ts.tv_nsec;
}

struct health *health_new(const struct health_config *cfg, health_snapshot_fn fill, void *user,
                          char *err, size_t errlen)
{
    struct health *h = calloc(1, sizeof(*h));
    int64_t now = wall_ns();
    if (!h || !(h->snap = calloc(1, sizeof(*h->snap)))) {
        free(h);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->cfg = *cfg;
    h->fill = fill;
    h->user = user;
    metrics_init(&h->m, now);
    if (cfg->metrics_listen && !(h->http = metrics_http_listen(cfg->metrics_listen, err, errlen))) {
        health_free(h);
        return NULL;
    }
    h->next_stats_ns = now + (int64_t)cfg->stats_interval_s * FT_NS_PER_SEC;
    h->next_file_ns = now;
    return h;
}

/* The exposition text of the engine as it is now. */
static const char *render_now(struct health *h)
{
    h->fill(h->user, h->snap);
    metrics_render(&h->text, &h->m, h->snap);
    return h->text.buf;
}

static const char *http_body(void *user, size_t *len)
{
    struct health *h = user;
    const char *t = render_now(h);
    *len = h->text.len;
    return t;
}

static void write_file(struct health *h)
{
    if (metrics_write_file(h->cfg.metrics_file, &h->text) == 0) {
        h->file_warned = false;
        return;
    }
    if (!h->file_warned) /* once per failing streak, not every 10 s */
        fprintf(stderr, "fedtrace: warning: cannot write metrics to '%s': %s\n", h->cfg.metrics_file,
                strerror(errno));
    h->file_warned = true;
}

void health_verdict(struct health *h, const struct corr_federation *f, const struct corr_direction *d,
                    const struct corr_verdict_change *chg)
{
    if (h)
        metrics_on_verdict(&h->m, f, d, chg);
}

void health_tick(struct health *h, struct output *out)
{
    int64_t now;
    if (!h)
        return;
    now = wall_ns();
    if (now < h->next_poll_ns)
        return;
    h->next_poll_ns = now + HEALTH_POLL_NS;
    if (h->cfg.stats_interval_s && now >= h->next_stats_ns) {
        h->fill(h->user, h->snap);
        output_stats_line(out, h->snap);
        h->next_stats_ns = now + (int64_t)h->cfg.stats_interval_s * FT_NS_PER_SEC;
    }
    if (h->cfg.metrics_file && now >= h->next_file_ns) {
        render_now(h);
        write_file(h);
        h->next_file_ns = now + HEALTH_METRICS_FILE_NS;
    }
    metrics_http_poll(h->http, now, http_body, h);
}

void health_finish(struct health *h, const struct stats_snapshot *snap)
{
    if (!h)
        return;
    metrics_render(&h->text, &h->m, snap);
    if (h->cfg.metrics_file)
        write_file(h);
}

void health_free(struct health *h)
{
    if (!h)
        return;
    metrics_http_free(h->http);
    metrics_text_free(&h->text);
    metrics_free(&h->m);
    free(h->snap);
    free(h);
}
