/*
 * main.c - the fedtrace command line: options, sources, the run, exit status,
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
#include "capture.h"
#include "correlate.h"
#include "dispatch.h"
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
#define MAX_SOURCES FACT_MAX_SOURCES
#define MAX_KEYLOGS 16

/* What main watches while packets flow: the output file (SIGHUP reopen,
 * rotation, a failed write) and the periodic health duties. */
struct sinks {
    bool ndjson;                /* the output is NDJSON: SIGHUP reopens it */
    struct outfile *file;
    struct health *health;      /* NULL: no stats interval, no metrics */
    struct output *out;
    const struct correlator *corr;
};

/* The engine's parts a stats snapshot is taken from. */
struct engine {
    struct capture *cap;
    struct pipeline *pl;
    struct dispatch *disp;
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

struct run_opts {
    const char *inputs[MAX_SOURCES];
    bool input_live[MAX_SOURCES];
    unsigned ninputs;
    char *filter;               /* owned */
    bool filter_given;
    const char *out_path;
    int format;                 /* -1 = choose by terminal */
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
};

enum {
    OPT_FORMAT = 256,
    OPT_XMPP_PORTS,
    OPT_VERSION,
    OPT_MAX_FLOWS,
    OPT_MAX_BUFFER,
    OPT_MAX_STATE,
    OPT_FAIL_ON_BROKEN,
    OPT_SERVER,
    OPT_TIMEOUT_SUBSCRIBE,
    OPT_TIMEOUT_DIALBACK,
    OPT_TLS_KEYLOG,
    OPT_IDLE_TIMEOUT,
    OPT_TIMELINE_KEEP,
    OPT_MAX_FEDERATIONS,
    OPT_MAX_CONNECTIONS,
    OPT_IMMEDIATE,
    OPT_ROTATE_SIZE,
    OPT_ROTATE_SECONDS,
    OPT_STATS_INTERVAL,
    OPT_METRICS_FILE,
    OPT_METRICS_LISTEN,
    OPT_SUMMARY,
    OPT_ABSOLUTE_TIME,
};

static const struct option long_options[] = {
    { "read", required_argument, NULL, 'r' },
    { "interface", required_argument, NULL, 'i' },
    { "filter", required_argument, NULL, 'f' },
    { "filter-file", required_argument, NULL, 'F' },
    { "count", required_argument, NULL, 'c' },
    { "snaplen", required_argument, NULL, 's' },
    { "no-promiscuous-mode", no_argument, NULL, 'p' },
    { "buffer-size", required_argument, NULL, 'B' },
    { "immediate", no_argument, NULL, OPT_IMMEDIATE },
    { "no-checksums", no_argument, NULL, 'C' },
    { "output", required_argument, NULL, 'o' },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "rotate-size", required_argument, NULL, OPT_ROTATE_SIZE },
    { "rotate-seconds", required_argument, NULL, OPT_ROTATE_SECONDS },
    { "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
    { "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
    { "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
    { "xmpp-ports", required_argument, NULL, OPT_XMPP_PORTS },
    { "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
    { "max-buffer", required_argument, NULL, OPT_MAX_BUFFER },
    { "max-dissector-state", required_argument, NULL, OPT_MAX_STATE },
    { "fail-on-broken", no_argument, NULL, OPT_FAIL_ON_BROKEN },
    { "domain", required_argument, NULL, 'd' },
    { "server", required_argument, NULL, OPT_SERVER },
    { "timeout-subscribe", required_argument, NULL, OPT_TIMEOUT_SUBSCRIBE },
    { "timeout-dialback", required_argument, NULL, OPT_TIMEOUT_DIALBACK },
    { "tls-keylog", required_argument, NULL, OPT_TLS_KEYLOG },
    { "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
    { "timeline-keep", required_argument, NULL, OPT_TIMELINE_KEEP },
    { "max-federations", required_argument, NULL, OPT_MAX_FEDERATIONS },
    { "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "version", no_argument, NULL, OPT_VERSION },
    { "help", no_argument, NULL, 'h' },
    { "summary", no_argument, NULL, OPT_SUMMARY },
    { "absolute-time", no_argument, NULL, OPT_ABSOLUTE_TIME },
    { "list-interfaces", no_argument, NULL, 'D' },
    { NULL, 0, NULL, 0 },
};

/* The BPF used for live capture when none is given: DNS, the XMPP ports,
 * and IP fragments (which carry no ports).  The capture adds the
 * VLAN-tagged variant on link types that carry tags. */
static char *default_live_filter(const struct port_set *ports)
{
    char base[1024];
    size_t off = 0;

    off += (size_t)snprintf(base + off, sizeof(base) - off, "port 53");
    for (unsigned i = 0; i < ports->count && off < sizeof(base); i++)
        off += (size_t)snprintf(base + off, sizeof(base) - off, " or tcp port %u", ports->port[i]);
    if (off < sizeof(base))
        snprintf(base + off, sizeof(base) - off,
                 " or (ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44)");
    return strdup(base);
}

static void usage(FILE *fp)
{
    fprintf(fp,
            "Usage: fedtrace [options] [BPF expression]\n"
            "Find where XMPP server-to-server federation broke, from packets.\n"
            "\n"
            "Input:\n"
            "  -r, --read FILE[@OBS]    read a pcap or pcapng file ('-' = stdin); repeatable,\n"
            "                           several files are merged by timestamp; @OBS names\n"
            "                           the capture point (e.g. inside, outside)\n"
            "  -i, --interface IF[@OBS] capture live on IF (repeatable; 'any' works)\n"
            "  -f, --filter EXPR        BPF filter (or give it as trailing arguments).\n"
            "                           Live default: DNS, the XMPP ports and IP fragments,\n"
            "                           tagged or not.  Files: no filter, every packet is\n"
            "                           examined so XMPP on other ports is found by content\n"
            "  -F, --filter-file FILE   read the BPF filter from FILE\n"
            "  -c, --count N            stop after N frames\n"
            "  -s, --snaplen N          live snapshot length (default 262144)\n"
            "  -p                       live: do not put the interface in promiscuous mode\n"
            "  -B, --buffer-size KIB    live: kernel capture buffer size\n"
            "      --immediate          live: hand each packet over at once (default: as\n"
            "                           the kernel's buffer fills, within 100 ms)\n"
            "  -C, --no-checksums       do not verify checksums (they never cause a drop;\n"
            "                           bad ones are counted as a capture-quality hint)\n"
            "      --xmpp-ports LIST    ports that mean XMPP (default 5222,5269,5223,5270);\n"
            "                           other ports are recognised by content\n"
            "      --max-flows N        flow table size (default 65536; the idlest flow is\n"
            "                           evicted and counted when it is full)\n"
            "      --max-buffer MIB     out-of-order TCP data buffered in all (default 64)\n"
            "      --max-dissector-state MIB  memory for per-connection XMPP, TLS and DNS\n"
            "                           parsing in all (default 48); when it is spent, new\n"
            "                           connections get TCP facts only, and this is counted\n"
            "\n"
            "Federation:\n"
            "  -d, --domain DOMAIN      our XMPP domain (repeatable); without it fedtrace\n"
            "                           infers which side is local and says so\n"
            "      --server ADDR        our XMPP server's address (repeatable)\n"
            "      --timeout-subscribe S  an unanswered subscribe is pending after S\n"
            "                           seconds of capture (default 30)\n"
            "      --timeout-dialback S a dialback key unanswered this long failed\n"
            "                           (default 30)\n"
            "      --idle-timeout S     a direction whose connections ended S seconds of\n"
            "                           capture ago retires: its facts are freed, its\n"
            "                           verdict and a shortened timeline stay (default 300)\n"
            "      --timeline-keep N    a retired direction keeps its first and last N\n"
            "                           timeline lines (default 20)\n"
            "      --max-federations N  retired federations kept for the report (default\n"
            "                           10000; beyond, the oldest go and are counted)\n"
            "      --max-connections N  connections the correlator keeps at once (default\n"
            "                           16384; near it, ended ones retire early; beyond,\n"
            "                           new ones are counted and not correlated)\n"
            "\n"
            "Decryption:\n"
            "      --tls-keylog FILE    decrypt TLS with the secrets in FILE (NSS key log,\n"
            "                           SSLKEYLOGFILE format; repeatable; re-read as it\n"
            "                           grows).  Key logs embedded in pcapng files\n"
            "                           (Decryption Secrets Blocks) are always used.  The\n"
            "                           decrypted stream is judged like a cleartext one;\n"
            "                           without the right key, as an encrypted one.  The\n"
            "                           secrets are never printed; keep FILE mode 0600\n"
            "\n"
            "Output:\n"
            "  -o, --output FILE        write to FILE instead of standard output; NDJSON is\n"
            "                           appended and SIGHUP reopens FILE (log rotation); a\n"
            "                           JSON document or text report replaces FILE and\n"
            "                           SIGHUP is ignored\n"
            "      --format FMT         json (one document), ndjson (one event per line),\n"
            "                           text (a short report) or html (one self-contained\n"
            "                           page with a ladder diagram per federation); default:\n"
            "                           text on a terminal, json otherwise\n"
            "      --rotate-size SIZE   NDJSON -o FILE: move FILE aside as FILE.<UTC time>\n"
            "                           once it holds SIZE bytes (K, M, G suffixes)\n"
            "      --rotate-seconds N   NDJSON -o FILE: the same every N seconds\n"
            "      --stats-interval N   NDJSON: a capture.stats event every N seconds\n"
            "      --metrics-file PATH  Prometheus metrics written to PATH (atomically, every\n"
            "                           10 s and at the end) for node_exporter's textfile\n"
            "                           collector\n"
            "      --metrics-listen ADDR:PORT  serve the metrics at http://ADDR:PORT/metrics\n"
            "      --fail-on-broken     exit with status 1 when a federation failed\n"
            "  -q, --quiet              no warnings on standard error, only errors\n"
            "  -v, --verbose            more detail (text: all counters; json: every DNS lookup)\n"
            "      --version            print the version and exit\n"
            "  -h, --help               print this help and exit\n"
            "      --summary            text: one line per federation direction (status,\n"
            "                           code, domains, summary), for scripts and cron mails\n"
            "      --absolute-time      text: timeline times in UTC instead of seconds since\n"
            "                           the direction's first step\n"
            "  -D, --list-interfaces    list the interfaces a live capture can use, and exit\n"
            "  -n                       accepted for tcpdump habit: fedtrace never resolves\n"
            "                           names\n"
            "\n"
            "Commands:\n"
            "  fedtrace explain CODE    the long explanation and advice for a verdict code\n"
            "  fedtrace explain         list every verdict code\n"
            "  fedtrace report FILE [-o OUT]  the HTML report of a saved JSON document\n"
            "                           (FILE '-' = standard input)\n"
            "\n"
            "Signals: SIGINT/SIGTERM stop the capture and the output is completed with\n"
            "capture.interrupted set; a second one ends the process at once.\n"
            "\n"
            "Exit status: 0 success (a live capture ended by SIGINT/SIGTERM included),\n"
            "1 a federation failed (with --fail-on-broken), 2 usage, input or output\n"
            "error (a full disk, a bad stdout or $TMPDIR), 3 an input capture was damaged\n"
            "or truncated (warned about; everything before the damage is still analysed),\n"
            "130/143 a run on files cut short by SIGINT/SIGTERM.  When several apply, the\n"
            "first of 2, 130/143, 1, 3 wins.\n"
            "See fedtrace(1).\n");
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (end == s || *end || errno || v > max || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

/* A size with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
    char num[32];
    size_t n = strlen(s);
    unsigned shift = 0;
    uint64_t v;

    if (n == 0 || n >= sizeof(num))
        return -1;
    memcpy(num, s, n + 1);
    switch (num[n - 1]) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: break;
    }
    if (shift)
        num[n - 1] = '\0';
    if (parse_u64(num, UINT64_MAX >> 30, &v) || v == 0)
        return -1;
    *out = v << shift;
    return 0;
}

static char *read_file_text(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int ch;
    if (!fp)
        return NULL;
    while ((ch = fgetc(fp)) != EOF) {
        if (len + 2 > cap) {
            char *nb;
            cap = cap ? cap * 2 : 256;
            if (cap > 1 << 20 || !(nb = realloc(buf, cap))) {
                free(buf);
                fclose(fp);
                errno = EFBIG;
                return NULL;
            }
            buf = nb;
        }
        buf[len++] = ch == '\n' ? ' ' : (char)ch;
    }
    fclose(fp);
    if (!buf)
        buf = strdup("");
    else
        buf[len] = '\0';
    return buf;
}

/* Parses argv into o.  Returns 0, 1 when the program should exit 0 right
 * away (--help, --version), or -1 after printing a usage error. */
static int parse_args(int argc, char **argv, struct run_opts *o)
{
    int ch;
    uint64_t v;

    while ((ch = getopt_long(argc, argv, "r:i:f:F:c:s:pB:Co:qvhd:nD", long_options, NULL)) != -1) {
        switch (ch) {
        case 'r':
        case 'i':
            if (o->ninputs >= MAX_SOURCES) {
                fprintf(stderr, "fedtrace: at most %d inputs\n", MAX_SOURCES);
                return -1;
            }
            o->input_live[o->ninputs] = ch == 'i';
            o->inputs[o->ninputs++] = optarg;
            break;
        case 'f':
            free(o->filter);
            o->filter = strdup(optarg);
            o->filter_given = true;
            break;
        case 'F':
            free(o->filter);
            o->filter = read_file_text(optarg);
            if (!o->filter) {
                fprintf(stderr, "fedtrace: cannot read filter file '%s': %s\n", optarg,
                        strerror(errno));
                return -1;
            }
            o->filter_given = true;
            break;
        case 'c':
            if (parse_u64(optarg, UINT64_MAX, &v) || v == 0) {
                fprintf(stderr, "fedtrace: invalid count '%s'\n", optarg);
                return -1;
            }
            o->cap.max_frames = v;
            break;
        case 's':
            if (parse_u64(optarg, 262144, &v)) {
                fprintf(stderr, "fedtrace: invalid snaplen '%s'\n", optarg);
                return -1;
            }
            o->cap.snaplen = v == 0 ? 262144 : (int)v;
            break;
        case 'p':
            o->cap.promisc = false;
            break;
        case 'B':
            if (parse_u64(optarg, 4 * 1024 * 1024, &v) || v == 0) {
                fprintf(stderr, "fedtrace: invalid buffer size '%s'\n", optarg);
                return -1;
            }
            o->cap.buffer_kib = (int)v;
            break;
        case OPT_ROTATE_SIZE:
            if (parse_size(optarg, &o->rotate_size)) {
                fprintf(stderr, "fedtrace: invalid rotation size '%s' (bytes, or with K, M, G)\n", optarg);
                return -1;
            }
            break;
        case OPT_ROTATE_SECONDS:
            if (parse_u64(optarg, 366 * 86400, &o->rotate_seconds) || o->rotate_seconds == 0) {
                fprintf(stderr, "fedtrace: invalid rotation interval '%s' (seconds)\n", optarg);
                return -1;
            }
            break;
        case OPT_STATS_INTERVAL:
            if (parse_u64(optarg, 86400, &o->health.stats_interval_s) || o->health.stats_interval_s == 0) {
                fprintf(stderr, "fedtrace: invalid stats interval '%s' (seconds)\n", optarg);
                return -1;
            }
            break;
        case OPT_METRICS_FILE:
            o->health.metrics_file = optarg;
            break;
        case OPT_METRICS_LISTEN:
            o->health.metrics_listen = optarg;
            break;
        case OPT_IMMEDIATE:
            o->cap.immediate = true;
            break;
        case 'C':
            o->pipe.verify_checksums = false;
            break;
        case 'o':
            o->out_path = optarg;
            break;
        case 'd':
            if (o->corr.n_local_domains >= CORR_MAX_LOCAL) {
                fprintf(stderr, "fedtrace: at most %d domains\n", CORR_MAX_LOCAL);
                return -1;
            }
            o->corr.local_domains[o->corr.n_local_domains++] = optarg;
            break;
        case OPT_SERVER:
            if (o->corr.n_local_servers >= CORR_MAX_LOCAL ||
                !ft_addr_parse(&o->corr.local_servers[o->corr.n_local_servers], optarg)) {
                fprintf(stderr, "fedtrace: invalid server address '%s'\n", optarg);
                return -1;
            }
            o->corr.n_local_servers++;
            break;
        case OPT_TIMEOUT_SUBSCRIBE:
        case OPT_TIMEOUT_DIALBACK:
            if (parse_u64(optarg, 86400, &v) || v == 0) {
                fprintf(stderr, "fedtrace: invalid timeout '%s' (seconds)\n", optarg);
                return -1;
            }
            if (ch == OPT_TIMEOUT_SUBSCRIBE)
                o->corr.subscribe_timeout_ns = (int64_t)v * FT_NS_PER_SEC;
            else
                o->corr.dialback_timeout_ns = (int64_t)v * FT_NS_PER_SEC;
            break;
        case OPT_IDLE_TIMEOUT:
            if (parse_u64(optarg, 86400, &v) || v == 0) {
                fprintf(stderr, "fedtrace: invalid timeout '%s' (seconds)\n", optarg);
                return -1;
            }
            o->corr.idle_timeout_ns = (int64_t)v * FT_NS_PER_SEC;
            break;
        case OPT_TIMELINE_KEEP:
        case OPT_MAX_FEDERATIONS:
        case OPT_MAX_CONNECTIONS:
            if (parse_u64(optarg, 100000000, &v) || (v == 0 && ch != OPT_TIMELINE_KEEP)) {
                fprintf(stderr, "fedtrace: invalid number '%s'\n", optarg);
                return -1;
            }
            if (ch == OPT_TIMELINE_KEEP)
                o->corr.timeline_keep = (uint32_t)v;
            else if (ch == OPT_MAX_FEDERATIONS)
                o->corr.max_federations = (uint32_t)v;
            else
                o->corr.max_conns = (uint32_t)v;
            break;
        case OPT_FAIL_ON_BROKEN:
            o->fail_on_broken = true;
            break;
        case OPT_TLS_KEYLOG:
            if (o->nkeylogs >= MAX_KEYLOGS) {
                fprintf(stderr, "fedtrace: at most %d key logs\n", MAX_KEYLOGS);
                return -1;
            }
            o->keylogs[o->nkeylogs++] = optarg;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0)
                o->format = OUTPUT_JSON;
            else if (strcmp(optarg, "ndjson") == 0)
                o->format = OUTPUT_NDJSON;
            else if (strcmp(optarg, "text") == 0)
                o->format = OUTPUT_TEXT;
            else if (strcmp(optarg, "html") == 0) {
                o->format = OUTPUT_JSON; /* the page is made from the document */
                o->html = true;
            }
            else {
                fprintf(stderr, "fedtrace: unknown format '%s' (json, ndjson, text or html)\n", optarg);
                return -1;
            }
            break;
        case OPT_XMPP_PORTS:
            if (!port_set_parse(&o->pipe.xmpp_ports, optarg)) {
                fprintf(stderr, "fedtrace: invalid port list '%s' (e.g. 5222,5269)\n", optarg);
                return -1;
            }
            break;
        case OPT_MAX_FLOWS:
            if (parse_u64(optarg, 16 * 1024 * 1024, &v) || v == 0) {
                fprintf(stderr, "fedtrace: invalid flow count '%s'\n", optarg);
                return -1;
            }
            o->pipe.flows.max_flows = (uint32_t)v;
            break;
        case OPT_MAX_BUFFER:
            if (parse_u64(optarg, 64 * 1024, &v) || v == 0) {
                fprintf(stderr, "fedtrace: invalid buffer size '%s' (MiB)\n", optarg);
                return -1;
            }
            o->pipe.max_total_buffer = v * 1024 * 1024;
            if (o->pipe.max_stream_buffer > o->pipe.max_total_buffer)
                o->pipe.max_stream_buffer = o->pipe.max_total_buffer;
            break;
        case OPT_MAX_STATE:
            if (parse_u64(optarg, 64 * 1024, &v) || v == 0) {
                fprintf(stderr, "fedtrace: invalid dissector state size '%s' (MiB)\n", optarg);
                return -1;
            }
            o->max_state = v * 1024 * 1024;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'v':
            o->verbose++;
            break;
        case OPT_SUMMARY:
            o->summary = true;
            break;
        case OPT_ABSOLUTE_TIME:
            o->absolute_time = true;
            break;
        case 'n':
            break; /* tcpdump habit; fedtrace never resolves names */
        case 'D': {
            char err[CAPTURE_ERRBUF_SIZE];
            if (capture_list_interfaces(stdout, err, sizeof(err)) != 0) {
                fprintf(stderr, "fedtrace: %s\n", err);
                return -1;
            }
            return 1;
        }
        case OPT_VERSION:
            printf("fedtrace %s\n%s\n", PACKAGE_VERSION, capture_lib_version());
            return 1;
        case 'h':
            usage(stdout);
            return 1;
        default:
            fprintf(stderr, "Try 'fedtrace --help' for more information.\n");
            return -1;
        }
    }
    /* tcpdump habit: a filter may follow the options. */
    if (optind < argc) {
        size_t len = 1;
        for (int i = optind; i < argc; i++)
            len += strlen(argv[i]) + 1;
        free(o->filter);
        o->filter = calloc(1, len);
        if (!o->filter)
            return -1;
        for (int i = optind; i < argc; i++) {
            if (i > optind)
                strcat(o->filter, " ");
            strcat(o->filter, argv[i]);
        }
        o->filter_given = true;
    }
    if (o->summary) {
        if (o->format >= 0 && (o->format != OUTPUT_TEXT || o->html)) {
            fprintf(stderr, "fedtrace: --summary is a text report (leave --format out or give text)\n");
            return -1;
        }
        o->format = OUTPUT_TEXT;
    }
    if (o->ninputs == 0) {
        fprintf(stderr, "fedtrace: no input: give -r FILE or -i INTERFACE (see --help)\n");
        return -1;
    }
    if ((o->rotate_size || o->rotate_seconds) &&
        (o->format != OUTPUT_NDJSON || !o->out_path || strcmp(o->out_path, "-") == 0)) {
        fprintf(stderr, "fedtrace: --rotate-size and --rotate-seconds need --format ndjson and -o FILE\n");
        return -1;
    }
    if (o->health.stats_interval_s && o->format != OUTPUT_NDJSON) {
        fprintf(stderr, "fedtrace: --stats-interval needs --format ndjson\n");
        return -1;
    }
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
    health_tick(s->health, s->out, s->corr);
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

    rc = parse_args(argc, argv, &o);
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
    for (unsigned i = 0; i < o.ninputs; i++) {
        struct capture_options co = o.cap;
        res.offline &= !o.input_live[i];
        if (!o.filter_given && o.input_live[i]) {
            if (!live_filter)
                live_filter = default_live_filter(&o.pipe.xmpp_ports);
            co.filter = live_filter;
            co.filter_vlan = true;
        } else {
            co.filter = o.filter;
        }
        if (capture_add(cap, o.inputs[i], o.input_live[i], &co, err, sizeof(err)) != 0) {
            fprintf(stderr, "fedtrace: %s\n", err);
            goto done;
        }
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
    if (o.format < 0)
        o.format = outfile_isatty(&of) ? OUTPUT_TEXT : OUTPUT_JSON;

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
    corr_set_verdict_sink(corr, output_verdict, out);
    sinks.ndjson = o.format == OUTPUT_NDJSON;
    sinks.file = &of;
    sinks.out = out;
    sinks.corr = corr;
    /* Facts flow from the pipeline and the dissectors straight to the
     * correlator, then the output; main only watches packet time go by. */
    each = corr_fact_sink(corr);
    fact_fanout_add(&fanout, &each);
    each = (struct fact_sink){ .ctx = &sinks, .on_time = on_time };
    fact_fanout_add(&fanout, &each);
    each = output_fact_sink(out);
    fact_fanout_add(&fanout, &each);
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

    engine = (struct engine){ .cap = cap, .pl = &pl, .disp = &disp, .sinks = &sinks };
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
    snap = calloc(1, sizeof(*snap));
    if (!snap) {
        fprintf(stderr, "fedtrace: out of memory\n");
        goto done;
    }
    capture_snapshot(cap, snap);
    pipeline_snapshot(&pl, snap);
    dispatch_snapshot(&disp, snap);
    keystore_snapshot(keys, snap);
    health_finish(sinks.health, corr, snap);
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
    if (o.fail_on_broken)
        for (unsigned i = 0; i < corr_federation_count(corr); i++)
            if (corr_federation_at(corr, i)->verdict->status == CORR_FAILED)
                res.federation_failed = true;

done:
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
