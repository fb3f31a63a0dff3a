/*
 * output_rss.c - what the output costs in memory: runs capture -> pipeline
 * -> dissectors -> output on one capture file, without the correlator, so
 * /usr/bin/time -f %M shows the engine and the output alone.
 *
 * Usage: output_rss FORMAT FILE [verbose]
 *   FORMAT: json, ndjson, text, or none (the engine alone: the baseline)
 * Example (tools/bench/gen-conns makes a capture of many connections):
 *   /usr/bin/time -f %M tests/output_rss json conns.pcap
 * Output goes to /dev/null.  Exit status 2 when the file cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "dispatch.h"
#include "output.h"
#include "pipeline.h"

static void on_frame(void *user, int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                     const struct ft_meta *m)
{
    pipeline_packet(user, linktype, data, caplen, wirelen, m);
}

int main(int argc, char **argv)
{
    struct capture *cap = capture_new(NULL);
    struct capture_options co = { 0 };
    struct pipeline_config pc;
    struct pipeline pl;
    struct dispatch disp;
    struct dissector_set ds;
    struct output *out = NULL;
    struct fact_sink facts = { 0 };
    struct stats_snapshot *snap = calloc(1, sizeof(*snap));
    char err[CAPTURE_ERRBUF_SIZE];
    enum output_format fmt = OUTPUT_JSON;
    FILE *fp = fopen("/dev/null", "w");
    int status = 2;

    if (argc < 3 || !cap || !snap || !fp) {
        fprintf(stderr, "usage: output_rss json|ndjson|text|none FILE [verbose]\n");
        goto done;
    }
    if (strcmp(argv[1], "ndjson") == 0)
        fmt = OUTPUT_NDJSON;
    else if (strcmp(argv[1], "text") == 0)
        fmt = OUTPUT_TEXT;
    if (capture_add(cap, argv[2], false, &co, err, sizeof(err)) != 0) {
        fprintf(stderr, "output_rss: %s\n", err);
        goto done;
    }
    if (strcmp(argv[1], "none") != 0) {
        out = output_new(fmt, fp, argc > 3, err, sizeof(err));
        if (!out) {
            fprintf(stderr, "output_rss: %s\n", err);
            goto done;
        }
        facts = output_fact_sink(out);
    }
    if (dispatch_init(&disp, NULL, &facts) != 0)
        goto done;
    dispatch_bind(&disp, &ds);
    pipeline_config_default(&pc);
    if (pipeline_init(&pl, &pc, &ds, &facts) != 0) {
        dispatch_free(&disp);
        goto done;
    }
    capture_run(cap, &co, on_frame, &pl);
    pipeline_finish(&pl);
    capture_snapshot(cap, snap);
    pipeline_snapshot(&pl, snap);
    dispatch_snapshot(&disp, snap);
    status = out && output_finish(out, snap) != 0 ? 1 : 0;
    pipeline_destroy(&pl);
    dispatch_free(&disp);
done:
    output_free(out);
    capture_free(cap);
    if (fp)
        fclose(fp);
    free(snap);
    return status;
}
