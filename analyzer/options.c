/*
 * options.c - the command line: getopt_long over argv into struct
 * run_opts (options.h), the --help text, number and size parsing, the
 * default live-capture filter.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "output.h"


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
    OPT_EVIDENCE_DIR,
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
    { "write", required_argument, NULL, 'w' },
    { "evidence-dir", required_argument, NULL, OPT_EVIDENCE_DIR },
    { "full-timeline", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

/* The BPF used for live capture when none is given: DNS, the XMPP ports,
 * and IP fragments (which carry no ports).  The capture adds the
 * VLAN-tagged variant on link types that carry tags. */
char *options_default_live_filter(const struct port_set *ports)
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
            "  -c, --count N            stop after N packets that pass the filter (as\n"
            "                           tcpdump -c)\n"
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
            "      --timeline-keep N    a direction keeps its first and last N timeline\n"
            "                           lines and the failing ones (default 20)\n"
            "      --max-federations N  with --evidence-dir, retired federations kept for\n"
            "                           the report (default 10000; beyond, the oldest go\n"
            "                           and are counted); otherwise they are spooled to\n"
            "                           $TMPDIR as they retire and all are reported\n"
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
            "                           text, to a terminal, a pipe or a file alike\n"
            "      --rotate-size SIZE   NDJSON -o FILE: move FILE aside as FILE.<UTC time>\n"
            "                           once it holds SIZE bytes (K, M, G suffixes)\n"
            "      --rotate-seconds N   NDJSON -o FILE: the same every N seconds\n"
            "      --stats-interval N   NDJSON: a capture.stats event every N seconds\n"
            "      --metrics-file PATH  Prometheus metrics written to PATH (atomically, every\n"
            "                           10 s and at the end) for node_exporter's textfile\n"
            "                           collector\n"
            "      --metrics-listen ADDR:PORT  serve the metrics at http://ADDR:PORT/metrics\n"
            "  -w, --write FILE         also write the frames analysed (after the filter) to\n"
            "                           FILE, as tcpdump -w: pcap, or pcapng when the input\n"
            "                           is pcapng or several are merged (one interface per\n"
            "                           source, named after its observer)\n"
            "      --evidence-dir DIR   files only: for each failed federation direction, a\n"
            "                           capture in DIR holding just its DNS lookups and\n"
            "                           connections (the connect-back too), frames as in the\n"
            "                           input; the JSON, text and HTML reports name the file\n"
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
            "  -V, --full-timeline      the whole timeline of every direction (as tshark -V\n"
            "                           shows every detail): nothing elided from any\n"
            "                           direction (--timeline-keep), and each SYN\n"
            "                           retransmission a line of its own\n"
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
int options_parse(int argc, char **argv, struct run_opts *o)
{
    int ch;
    uint64_t v;

    while ((ch = getopt_long(argc, argv, "r:i:f:F:c:s:pB:Co:qvhd:nDVw:", long_options, NULL)) != -1) {
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
        case 'w':
            o->write_path = optarg;
            break;
        case OPT_EVIDENCE_DIR:
            o->evidence_dir = optarg;
            break;
        case 'V':
            o->corr.full_timeline = true;
            break;
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
    /* Text unless another format is asked for, terminal or not (as tshark
     * writes text unless -T asks otherwise). */
    if (o->format < 0)
        o->format = OUTPUT_TEXT;
    if (o->ninputs == 0) {
        fprintf(stderr, "fedtrace: no input: give -r FILE or -i INTERFACE (see --help)\n");
        return -1;
    }
    if ((o->rotate_size || o->rotate_seconds) &&
        (o->format != OUTPUT_NDJSON || !o->out_path || strcmp(o->out_path, "-") == 0)) {
        fprintf(stderr, "fedtrace: --rotate-size and --rotate-seconds need --format ndjson and -o FILE\n");
        return -1;
    }
    if (o->evidence_dir) {
        /* Evidence is cut in a second pass over the inputs once the
         * verdicts are known: a live interface or a pipe cannot be read
         * twice (-w FILE during a live run, --evidence-dir on FILE after). */
        for (unsigned i = 0; i < o->ninputs; i++) {
            if (o->input_live[i] || strcmp(o->inputs[i], "-") == 0 || strncmp(o->inputs[i], "-@", 2) == 0) {
                fprintf(stderr, "fedtrace: --evidence-dir needs capture files (it reads them twice); "
                                "for a live capture, write it with -w FILE and run --evidence-dir on FILE\n");
                return -1;
            }
        }
    }
    if (o->health.stats_interval_s && o->format != OUTPUT_NDJSON) {
        fprintf(stderr, "fedtrace: --stats-interval needs --format ndjson\n");
        return -1;
    }
    return 0;
}

