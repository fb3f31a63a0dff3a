/*
 * main.c - the fedtrace run: sources, engine, output, exit status (options.c
 * parses the command line),
 * as fedtrace_main() (see main.h), so the program can also be run in-process
 * by the whole-program fuzz harness.  analyzer/fedtrace.c holds main().
 *
 * Exit status (see run_exit_status): 0 on success; 1 when
 * --fail-on-broken is given and a federation failed; 2 on usage,
 * input-open or output errors (one line on stderr); 3 when an input
 * capture was damaged or truncated (everything before the damage was
 * analysed); 128 + signal number when SIGINT or SIGTERM cut an offline run
 * short.  When several apply: 2 > 130/143 > 1 > 3 > 0.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "main.h"
#include "options.h"
#include "capture.h"
#include "correlate.h"
#include "dispatch.h"
#include "evidence.h"
#include "health.h"
#include "keystore.h"
#include "outfile.h"
#include "output.h"
#include "output_html.h"
#include "pipeline.h"
#include "signals.h"

#define EXIT_BROKEN 1  /* --fail-on-broken and a federation failed */
#define EXIT_USAGE 2   /* usage, input-open or output error */
#define EXIT_DAMAGED 3 /* an input was damaged or truncated; what came before was analysed */

/* What main watches while packets flow: the output file (SIGHUP reopen,
 * rotation, a failed write) and the periodic health duties. */
struct sinks {
    bool ndjson;                /* the output is NDJSON: SIGHUP reopens it */
    struct outfile *file;
    struct health *health;      /* NULL: no stats interval, no metrics */
    struct output *out;
};

/* The engine's parts a stats snapshot is taken from. */
struct engine {
    struct capture *cap;
    struct pipeline *pl;
    struct dispatch *disp;
    struct keystore *keys;  /* NULL without key logs */
    struct sinks *sinks;
    /* capture drops: what pcap_stats said last, and when (packet time) */
    uint64_t dropped;
    int64_t dropped_at_ns;
    unsigned clock_ticks;
};

/* Live: reads the kernel's counters and tells the output when packets
 * were lost since the last look (their verdicts' confidence goes down). */
static void check_drops(struct engine *e, int64_t now_ns)
{
    uint64_t dropped = 0;
    capture_refresh_stats(e->cap);
    for (unsigned i = 0; i < capture_source_count(e->cap); i++) {
        struct capture_source_info si;
        capture_source_info(e->cap, i, &si);
        if (si.have_stats)
            dropped += si.kernel_dropped + si.if_dropped;
    }
    /* The counters are read now, a clock slack after now_ns: the packets
     * lost may be stamped up to then. */
    if (dropped > e->dropped)
        output_note_drops(e->sinks->out, e->dropped_at_ns, now_ns + CAPTURE_CLOCK_SLACK_NS, dropped - e->dropped);
    e->dropped = dropped;
    e->dropped_at_ns = now_ns + CAPTURE_CLOCK_SLACK_NS;
}

/* How the run ended, for the exit status. */
struct run_result {
    bool error;             /* usage, input or output error: exit 2 */
    int stop_signal;        /* SIGINT/SIGTERM that stopped the run, or 0 */
    bool offline;           /* every input is a file */
    bool federation_failed; /* with --fail-on-broken */
    bool damaged;           /* an input was damaged or truncated */
};

/* 2 > 128+signal (offline runs only) > 1 > 3 > 0.  A live capture is
 * ended by SIGINT or SIGTERM as a matter of course: status 0, as tcpdump. */
static int run_exit_status(const struct run_result *r)
{
    if (r->error)
        return EXIT_USAGE;
    if (r->stop_signal && r->offline)
        return 128 + r->stop_signal;
    if (r->federation_failed)
        return EXIT_BROKEN;
    if (r->damaged)
        return EXIT_DAMAGED;
    return 0;
}

/* Between two output events: SIGHUP reopens an NDJSON file (a JSON
 * document or text report is one piece and keeps its file); a failed
 * write stops the run, nothing more can be delivered. */
static void sinks_poll(struct sinks *s)
{
    if (signals_take_hup() && s->ndjson && outfile_reopen(s->file) != 0)
        fprintf(stderr, "fedtrace: warning: cannot reopen '%s' (%s); still writing to the old file\n",
                outfile_name(s->file), strerror(errno));
    if (s->ndjson && outfile_rotate_due(s->file) != 0)
        fprintf(stderr, "fedtrace: warning: cannot rotate '%s' (%s); still writing to the old file\n",
                outfile_name(s->file), strerror(errno));
    if (outfile_failed(s->file))
        signals_request_stop();
    health_tick(s->health, s->out);
}

/* A verdict decided or changed (correlate.h): to the output and to the
 * verdict metrics, as it happens. */
static void on_verdict(void *ctx, const struct corr_federation *f, const struct corr_direction *d,
                       const struct corr_verdict_change *chg)
{
    struct sinks *s = ctx;
    output_verdict(s->out, f, d, chg);
    health_verdict(s->health, f, d, chg);
}

/* The health duties' view of the engine now. */
static void take_snapshot(void *user, struct stats_snapshot *snap)
{
    struct engine *e = user;
    memset(snap, 0, sizeof(*snap));
    capture_refresh_stats(e->cap);
    capture_snapshot(e->cap, snap);
    pipeline_snapshot(e->pl, snap);
    dispatch_snapshot(e->disp, snap);
    keystore_snapshot(e->keys, snap);
}

/* Glue: the capture loop calls this for every frame. */
static void on_frame(void *user, int linktype, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen, const struct ft_meta *m)
{
    pipeline_packet(user, linktype, data, caplen, wirelen, m);
}

/* Packet time moved on (facts.h: before any fact of that time): the one
 * place main looks in during the run, for SIGHUP and a failed write. */
static void on_time(void *user, int64_t now_ns)
{
    (void)now_ns;
    sinks_poll(user);
}

/* The live wall clock (capture.h): on an idle link it moves packet time
 * on, so timeouts and the judges' timers fire with no traffic at all. */
static void on_clock(void *user, int64_t now_ns)
{
    struct engine *e = user;
    if (!e->dropped_at_ns)
        e->dropped_at_ns = now_ns - FT_NS_PER_SEC;
    pipeline_advance(e->pl, now_ns);
    sinks_poll(e->sinks); /* also when packet time did not move */
    if (++e->clock_ticks % 10 == 0) /* about every second */
        check_drops(e, now_ns);
}

/* Adds every input of o to cap, each with its filter: the one given, or
 * for a live source the default (made once into *live_filter, owned by
 * the caller).  0, or -1 after a line on stderr. */
static int add_inputs(struct capture *cap, const struct run_opts *o, char **live_filter)
{
    char err[CAPTURE_ERRBUF_SIZE];
    for (unsigned i = 0; i < o->ninputs; i++) {
        struct capture_options co = o->cap;
        if (!o->filter_given && o->input_live[i]) {
            if (!*live_filter)
                *live_filter = options_default_live_filter(&o->pipe.xmpp_ports);
            co.filter = *live_filter;
            co.filter_vlan = true;
        } else {
            co.filter = o->filter;
        }
        if (capture_add(cap, o->inputs[i], o->input_live[i], &co, err, sizeof(err)) != 0) {
            fprintf(stderr, "fedtrace: %s\n", err);
            return -1;
        }
    }
    return 0;
}

static const char *evidence_of(const void *ctx, const struct corr_direction *d)
{
    return evidence_file_for(ctx, d);
}

/* --evidence-dir, once the verdicts are final: the inputs read a second
 * time, the packets of each failed direction written to its file.  0, or
 * -1 after a line on stderr. */
static int write_evidence(struct evidence *ev, const struct correlator *corr, const struct run_opts *o,
                          char **live_filter)
{
    char err[CAPTURE_ERRBUF_SIZE];
    struct capture *again = capture_new(signals_stop_flag());
    int rc = -1;

    if (!again) {
        fprintf(stderr, "fedtrace: out of memory\n");
        return -1;
    }
    if (add_inputs(again, o, live_filter) != 0)
        goto done;
    if (evidence_plan(ev, corr, capture_dump_is_pcapng(again)) != 0) {
        fprintf(stderr, "fedtrace: out of memory\n");
        goto done;
    }
    if (evidence_write(ev, again, &o->cap, err, sizeof(err)) != 0) {
        fprintf(stderr, "fedtrace: %s\n", err);
        goto done;
    }
    if (evidence_stats(ev)->directions_without_file && !o->quiet)
        fprintf(stderr, "fedtrace: warning: %" PRIu64 " failed directions got no evidence file (at most %u)\n",
                evidence_stats(ev)->directions_without_file, EVIDENCE_MAX_FILES);
    if ((evidence_stats(ev)->conns_dropped || evidence_stats(ev)->lookups_dropped) && !o->quiet)
        fprintf(stderr, "fedtrace: warning: evidence: %" PRIu64 " connections and %" PRIu64
                        " lookups past the first %u were not remembered; their packets are missing\n",
                evidence_stats(ev)->conns_dropped, evidence_stats(ev)->lookups_dropped, EVIDENCE_MAX_FACTS);
    rc = 0;
done:
    capture_free(again);
    return rc;
}

/* fedtrace explain [CODE] */
static int explain(int argc, char **argv)
{
    const struct verdict_info *vi;
    if (argc < 3) {
        size_t not_yet = 0;
        for (size_t i = 0; i < verdict_count(); i++) {
            vi = verdict_at(i);
            not_yet += !verdict_code_detected(vi->id);
            printf("%-28s %-9s %-8s %s\n", vi->code, fed_stage_name(vi->stage),
                   verdict_code_detected(vi->id) ? "detected" : "not yet", vi->title);
        }
        printf("\n%zu codes; fedtrace cannot yet detect the %zu marked 'not yet' (catalogue only)\n",
               verdict_count(), not_yet);
        return 0;
    }
    vi = verdict_lookup(argv[2]);
    if (!vi) {
        fprintf(stderr, "fedtrace: unknown verdict code '%s' (fedtrace explain lists them)\n", argv[2]);
        return EXIT_USAGE;
    }
    printf("%s (stage: %s)\n%s\n\n%s\n\n", vi->code, fed_stage_name(vi->stage), vi->title, vi->explain);
    if (!verdict_code_detected(vi->id))
        printf("fedtrace cannot detect this from a capture yet: the entry is in the catalogue so the\n"
               "explanation and advice are at hand.\n\n");
    printf("What to do:\n");
    for (int i = 0; i < VERDICT_MAX_ADVICE && vi->advice[i]; i++)
        printf("  - %s\n", vi->advice[i]);
    printf("\nReferences: %s\n", vi->refs);
    return 0;
}

/* fedtrace report FILE [-o OUT]: a saved JSON document as the HTML
 * report (the same page --format html writes). */
static int report_command(int argc, char **argv)
{
    const char *in_path = NULL, *out_path = NULL;
    struct outfile of;
    FILE *in;
    char err[256];
    int rc;

    for (int i = 2; i < argc; i++) {
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc)
            out_path = argv[++i];
        else if (!in_path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
            in_path = argv[i];
        else {
            fprintf(stderr, "fedtrace: usage: fedtrace report FILE.json [-o REPORT.html]\n");
            return EXIT_USAGE;
        }
    }
    if (!in_path) {
        fprintf(stderr, "fedtrace: usage: fedtrace report FILE.json [-o REPORT.html]\n");
        return EXIT_USAGE;
    }
    in = strcmp(in_path, "-") == 0 ? stdin : fopen(in_path, "r");
    if (!in) {
        fprintf(stderr, "fedtrace: cannot read '%s': %s\n", in_path, strerror(errno));
        return EXIT_USAGE;
    }
    if (outfile_open(&of, out_path, false) != 0) {
        fprintf(stderr, "fedtrace: cannot write '%s': %s\n", out_path ? out_path : "standard output",
                strerror(errno));
        if (in != stdin)
            fclose(in);
        return EXIT_USAGE;
    }
    rc = html_report_write(in, of.fp, err, sizeof(err));
    if (in != stdin)
        fclose(in);
    if (rc != 0)
        fprintf(stderr, "fedtrace: '%s': %s\n", in_path, err);
    if (outfile_close(&of) != 0 && rc == 0) {
        fprintf(stderr, "fedtrace: cannot write '%s': %s\n", outfile_name(&of), strerror(errno));
        rc = -1;
    }
    return rc == 0 ? 0 : EXIT_USAGE;
}

/* One line on stderr for a run whose output could not be written. */
static void report_write_error(const struct output *out, const struct outfile *of, int err)
{
    char msg[512];
    if (output_error(out, msg, sizeof(msg)))
        fprintf(stderr, "fedtrace: %s\n", msg);
    else
        fprintf(stderr, "fedtrace: cannot write '%s': %s\n", outfile_name(of), strerror(err));
}

int fedtrace_main(int argc, char **argv)
{
    struct run_opts o;
    struct capture *cap = NULL;
    struct pipeline pl;
    struct output *out = NULL;
    struct outfile of;
    struct dispatch disp;
    struct dissector_set dissectors;
    struct correlator *corr = NULL;
    struct keystore *keys = NULL;
    struct xmpp_config xmpp_cfg;
    struct sinks sinks = { .ndjson = false };
    struct engine engine;
    struct fact_fanout fanout = { .n = 0 };
    struct fact_sink facts, each;
    struct stats_snapshot *snap = NULL;
    struct run_result res = { .error = true };
    struct capture_dump *dump = NULL;   /* -w */
    struct evidence *evidence = NULL;   /* --evidence-dir */
    bool pipeline_ready = false, dispatch_ready = false, file_ready = false;
    bool write_reported = false;
    char err[CAPTURE_ERRBUF_SIZE];
    char *live_filter = NULL;
    FILE *html_doc = NULL; /* --format html: the JSON document, owned */
    int rc, damaged;

    if (argc >= 2 && strcmp(argv[1], "explain") == 0)
        return explain(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "report") == 0)
        return report_command(argc, argv);
    memset(&o, 0, sizeof(o));
    o.format = -1;
    corr_config_default(&o.corr);
    o.cap.promisc = true;
    pipeline_config_default(&o.pipe);

    rc = options_parse(argc, argv, &o);
    if (rc != 0) {
        res.error = rc < 0;
        goto done;
    }

    res.offline = true;
    cap = capture_new(signals_stop_flag());
    if (!cap) {
        fprintf(stderr, "fedtrace: out of memory\n");
        goto done;
    }
    for (unsigned i = 0; i < o.ninputs; i++)
        res.offline &= !o.input_live[i];
    if (add_inputs(cap, &o, &live_filter) != 0)
        goto done;
    if (o.write_path) {
        dump = capture_dump_open(cap, o.write_path, err, sizeof(err));
        if (!dump) {
            fprintf(stderr, "fedtrace: %s\n", err);
            goto done;
        }
        capture_set_dump(cap, dump);
    }
    if (o.evidence_dir && !(evidence = evidence_new(o.evidence_dir, err, sizeof(err)))) {
        fprintf(stderr, "fedtrace: %s\n", err);
        goto done;
    }

    /* The key store: key log files now (a bad one is a usage error), the
     * captures' secrets blocks as they are read.  Without a key log file
     * or a pcapng input there is nothing to decrypt with: no store, and
     * libcrypto is never initialised (about 3.5 MB of RSS). */
    bool want_keys = o.nkeylogs > 0;
    for (unsigned i = 0; i < capture_source_count(cap) && !want_keys; i++) {
        struct capture_source_info si;
        capture_source_info(cap, i, &si);
        want_keys = si.pcapng;
    }
    keys = want_keys ? keystore_new(cap) : NULL;
    if (want_keys && !keys) {
        fprintf(stderr, "fedtrace: cannot set up TLS decryption (libcrypto)\n");
        goto done;
    }
    for (unsigned i = 0; i < o.nkeylogs; i++) {
        char warn[512];
        if (keystore_add_file(keys, o.keylogs[i], err, sizeof(err), warn, sizeof(warn)) != 0) {
            fprintf(stderr, "fedtrace: %s\n", err);
            goto done;
        }
        if (warn[0] && !o.quiet)
            fprintf(stderr, "fedtrace: warning: %s\n", warn);
    }

    /* NDJSON is appended to (a log a shipper follows and logrotate
     * rotates); a JSON document or a text report replaces the file. */
    if (outfile_open(&of, o.out_path, o.format == OUTPUT_NDJSON) != 0) {
        fprintf(stderr, "fedtrace: cannot write '%s': %s\n", o.out_path ? o.out_path : "standard output",
                strerror(errno));
        goto done;
    }
    file_ready = true;
    if (o.format == OUTPUT_NDJSON) {
        outfile_whole_lines(&of);
        outfile_set_rotation(&of, o.rotate_size, o.rotate_seconds);
    }

    if (o.html) {
        char dir[256];
        html_doc = ft_tmpfile(dir, sizeof(dir));
        if (!html_doc) {
            fprintf(stderr, "fedtrace: cannot make a temporary file in %s: %s\n", dir, strerror(errno));
            goto done;
        }
    }
    out = output_new((enum output_format)o.format, html_doc ? html_doc : of.fp, o.verbose, err, sizeof(err));
    if (!out) {
        fprintf(stderr, "fedtrace: %s\n", err);
        goto done;
    }
    output_set_summary(out, o.summary);
    output_set_absolute_time(out, o.absolute_time);
    for (unsigned i = 0; i < capture_source_count(cap); i++) {
        struct capture_source_info si;
        capture_source_info(cap, i, &si);
        if (output_add_source(out, si.name, si.observer, si.live) != 0) {
            fprintf(stderr, "fedtrace: out of memory\n");
            goto done;
        }
    }
    o.corr.xmpp_ports = o.pipe.xmpp_ports;
    o.corr.stop = signals_stop_flag();
    corr = corr_new(&o.corr);
    if (!corr) {
        fprintf(stderr, "fedtrace: out of memory\n");
        goto done;
    }
    sinks.ndjson = o.format == OUTPUT_NDJSON;
    sinks.file = &of;
    sinks.out = out;
    corr_set_verdict_sink(corr, on_verdict, &sinks);
    /* Retired federations go to the output's spool, so memory stays flat;
     * --evidence-dir plans its files from every federation at the end, so
     * there they stay in memory (up to --max-federations). */
    if (!evidence)
        corr_set_retired_sink(corr, output_retired, out);
    /* Facts flow from the pipeline and the dissectors straight to the
     * correlator, then the output; main only watches packet time go by. */
    each = corr_fact_sink(corr);
    fact_fanout_add(&fanout, &each);
    each = (struct fact_sink){ .ctx = &sinks, .on_time = on_time };
    fact_fanout_add(&fanout, &each);
    each = output_fact_sink(out);
    fact_fanout_add(&fanout, &each);
    if (evidence) {
        each = evidence_fact_sink(evidence);
        fact_fanout_add(&fanout, &each);
        output_set_evidence(out, evidence_of, evidence);
    }
    facts = fact_fanout_sink(&fanout);
    xmpp_config_default(&xmpp_cfg);
    xmpp_cfg.decrypt = keystore_decrypt_ctx(keys);
    if (dispatch_init(&disp, &xmpp_cfg, &facts) != 0) {
        fprintf(stderr, "fedtrace: out of memory\n");
        goto done;
    }
    dispatch_ready = true;
    if (o.max_state)
        dispatch_set_state_limit(&disp, (size_t)o.max_state);
    dispatch_bind(&disp, &dissectors);
    if (pipeline_init(&pl, &o.pipe, &dissectors, &facts) != 0) {
        fprintf(stderr, "fedtrace: out of memory\n");
        goto done;
    }
    pipeline_ready = true;

    engine = (struct engine){ .cap = cap, .pl = &pl, .disp = &disp, .keys = keys, .sinks = &sinks };
    if (o.health.stats_interval_s || o.health.metrics_file || o.health.metrics_listen) {
        sinks.health = health_new(&o.health, take_snapshot, &engine, err, sizeof(err));
        if (!sinks.health) {
            fprintf(stderr, "fedtrace: %s\n", err);
            goto done;
        }
    }
    capture_set_clock(cap, on_clock, &engine);
    signals_install();

    damaged = capture_run(cap, &o.cap, on_frame, &pl);
    res.stop_signal = signals_stop_signal();
    if (dump) {
        capture_set_dump(cap, NULL);
        rc = capture_dump_close(dump, err, sizeof(err));
        dump = NULL;
        if (rc != 0) {
            fprintf(stderr, "fedtrace: %s\n", err);
            goto done;
        }
    }
    res.damaged = damaged > 0;
    if (res.stop_signal && res.offline)
        fprintf(stderr, "fedtrace: interrupted by %s after frame %" PRIu64 "; the output covers only what was read\n",
                signals_name(res.stop_signal), capture_frames(cap));
    output_set_interrupted(out, res.stop_signal ? signals_name(res.stop_signal) : NULL);
    if (!res.offline)
        check_drops(&engine, pl.stats.last_ns > engine.dropped_at_ns ? pl.stats.last_ns : engine.dropped_at_ns);
    pipeline_finish(&pl);
    for (unsigned i = 0; i < capture_source_count(cap); i++) {
        struct capture_source_info si;
        capture_source_info(cap, i, &si);
        if (si.error[0] && !o.quiet)
            fprintf(stderr,
                    "fedtrace: warning: '%s' is damaged after frame %" PRIu64
                    " (%s); analysed what came before\n",
                    si.name, si.records, si.error);
        corr_source_window(corr, i, si.first_ns, si.last_ns);
    }
    corr_finish(corr);
    sinks_poll(&sinks);
    output_federations(out, corr, pl.stats.first_ns);
    if (evidence && res.stop_signal) {
        if (!o.quiet)
            fprintf(stderr, "fedtrace: warning: interrupted: no evidence files written\n");
        output_set_evidence(out, NULL, NULL);
    } else if (evidence && write_evidence(evidence, corr, &o, &live_filter) != 0) {
        goto done;
    }
    snap = calloc(1, sizeof(*snap));
    if (!snap) {
        fprintf(stderr, "fedtrace: out of memory\n");
        goto done;
    }
    capture_snapshot(cap, snap);
    pipeline_snapshot(&pl, snap);
    dispatch_snapshot(&disp, snap);
    keystore_snapshot(keys, snap);
    health_finish(sinks.health, snap);
    if (output_finish(out, snap) != 0) {
        report_write_error(out, &of, of.err ? of.err : errno);
        write_reported = true;
        goto done;
    }
    if (html_doc) {
        rewind(html_doc);
        if (html_report_write(html_doc, of.fp, err, sizeof(err)) != 0) {
            fprintf(stderr, "fedtrace: %s\n", err);
            write_reported = true;
            goto done;
        }
    }
    res.error = false;
    if (o.fail_on_broken && output_failed_federations(out))
        res.federation_failed = true;
    if (o.fail_on_broken)
        for (unsigned i = 0; i < corr_federation_count(corr); i++)
            if (corr_federation_at(corr, i)->verdict->status == CORR_FAILED)
                res.federation_failed = true;

done:
    if (dump) {
        char ignored[CAPTURE_ERRBUF_SIZE];
        (void)capture_dump_close(dump, ignored, sizeof(ignored));
    }
    evidence_free(evidence);
    health_free(sinks.health);
    if (pipeline_ready)
        pipeline_destroy(&pl);
    if (dispatch_ready)
        dispatch_free(&disp);
    keystore_free(keys);
    corr_free(corr);
    if (file_ready && outfile_close(&of) != 0 && !write_reported) {
        fprintf(stderr, "fedtrace: cannot write '%s': %s\n", outfile_name(&of), strerror(errno));
        res.error = true;
    }
    output_free(out);
    if (html_doc)
        fclose(html_doc);
    capture_free(cap);
    free(snap);
    free(o.filter);
    free(live_filter);
    return run_exit_status(&res);
}
