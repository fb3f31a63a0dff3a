/*
 * options.h - fedtrace's command line: the options a run is made of
 * (struct run_opts), parsed from argv, with the --help text and the
 * default live-capture filter.  main.c owns the run; this module only
 * turns arguments into options.
 */
#ifndef FT_OPTIONS_H
#define FT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "correlate.h"
#include "facts.h"
#include "health.h"
#include "pipeline.h"

#define MAX_SOURCES FACT_MAX_SOURCES
#define MAX_KEYLOGS 16

struct run_opts {
    const char *inputs[MAX_SOURCES];
    bool input_live[MAX_SOURCES];
    unsigned ninputs;
    char *filter;               /* owned */
    bool filter_given;
    const char *out_path;
    int format;                 /* enum output_format; -1 until parsed: text */
    bool html;                  /* --format html: a JSON document made into a page */
    bool summary;               /* --summary: text, one line per direction */
    bool absolute_time;         /* --absolute-time: text timeline in UTC */
    bool quiet;
    int verbose;
    bool fail_on_broken;
    struct capture_options cap;
    struct pipeline_config pipe;
    struct corr_config corr;
    uint64_t max_state;         /* dissector state budget, bytes */
    const char *keylogs[MAX_KEYLOGS]; /* --tls-keylog files (argv strings) */
    unsigned nkeylogs;
    uint64_t rotate_size;       /* NDJSON -o FILE: bytes per file; 0 = no limit */
    uint64_t rotate_seconds;    /* NDJSON -o FILE: seconds per file; 0 = no limit */
    struct health_config health;
    const char *write_path;     /* -w: the frames analysed go there (argv string) */
    const char *evidence_dir;   /* --evidence-dir (argv string); files only */
};

/* Fills o from argv (o holds its defaults already).  Returns 0 to run,
 * 1 when the run is done (--help, --version, -D: already answered), -1 on
 * a usage error (one line on stderr).  o->filter is owned by o: free it. */
int options_parse(int argc, char **argv, struct run_opts *o);

/* The BPF for live capture when none is given (malloc'd; NULL when out of
 * memory). */
char *options_default_live_filter(const struct port_set *ports);

#endif
