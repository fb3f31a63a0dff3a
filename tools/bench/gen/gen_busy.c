/*
 * gen_busy.c - gen-busy's entry point: options, the pacing loop that
 * starts federations and background flows so the capture reaches the
 * requested size (or number of federations) over a realistic span of
 * packet time, the time-ordered write of every frame, and the truth file.
 *
 *   gen-busy -s 100M [-S SEED] [-d DOMAINS] -o OUT.pcap [-t OUT.truth.tsv]
 *   gen-busy -f 10000 [-r RATE] [-S SEED] -o OUT.pcap
 *
 * Sizes are decimal (1M = 10^6 bytes, 1G = 10^9).  The same options and
 * seed give the same bytes on every run.
 */
#include "world.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EPOCH_S 1795507200ull /* 2026-11-24T08:00:00Z */
#define TICK_US (100 * US_PER_MS)

struct run {
    struct gen *g;
    uint64_t duration_us;   /* -s: the span the size is spread over */
    uint64_t nfed_target;   /* -f */
    uint64_t nfed_started;
    double fed_rate;        /* -f: new federations per second (-r) */
    double fed_accum;
    uint64_t fed_stop_us;
};

static uint64_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || v <= 0 || end == s)
        return 0;
    switch (*end) {
    case 'k': case 'K': v *= 1e3; end++; break;
    case 'm': case 'M': v *= 1e6; end++; break;
    case 'g': case 'G': v *= 1e9; end++; break;
    default: break;
    }
    if (*end && strcmp(end, "B") != 0)
        return 0;
    return (uint64_t)v;
}

/* Starts activity on a domain pair drawn by popularity: a new federation,
 * or a new session of an idle one (which plays its scenario again). */
static bool start_session(struct gen *g, uint64_t t, bool only_new)
{
    for (int tries = 0; tries < 16; tries++) {
        uint32_t a = world_pick_domain(g), b = world_pick_domain(g);
        if (a == b)
            continue;
        struct fed *f = world_fed_for(g, a, b, -1);
        if (f) {
            if (f->active || only_new)
                continue;
            fed_start(g, f, t);
            return true;
        }
        f = world_fed_for(g, a, b, scenario_for(g, a, b, false));
        fed_start(g, f, t);
        return true;
    }
    return false;
}

static void pacer(struct gen *g, void *arg, uint64_t t)
{
    struct run *r = arg;
    struct world *w = g->w;
    if (g->stopped)
        return;
    g->st.open_sum += g->st.open_xmpp;
    g->st.open_samples++;
    double ts = (double)t / 1e6;
    if (r->nfed_target) {
        r->fed_accum += r->fed_rate * (double)TICK_US / 1e6;
        while (r->fed_accum >= 1.0 && r->nfed_started < r->nfed_target) {
            if (start_session(g, t + rng_below(&g->rng, (uint32_t)TICK_US), true))
                r->nfed_started++;
            r->fed_accum -= 1.0;
        }
        /* a little background, so the packet path is not idle */
        while ((double)g->st.gen_bg < 0.15 * (double)(g->st.gen_xmpp + g->st.gen_dns))
            bg_start(g, t);
        if (r->nfed_started < r->nfed_target)
            q_push_wake(g, t + TICK_US, pacer, r);
        return;
    }
    /* XMPP: keep enough federations chatting for the byte rate the size
     * and span ask for, corrected by how far behind or ahead we are
     * (a proportional controller with a 20 s time constant). */
    double span = (double)r->duration_us / 1e6;
    double want = (double)g->target_bytes * (ts / span < 1.0 ? ts / span : 1.0);
    double rate = w->chat_secs > 60 ? w->chat_bytes / w->chat_secs : 1300.0;
    double deficit = 0.6 * want - (double)g->st.gen_xmpp;
    double need = (0.6 * (double)g->target_bytes / span + deficit / 20.0) / rate;
    /* New sessions arrive spread over the tick, at most a fortieth of the
     * target per tick: no burst of simultaneous connects. */
    int limit = need / 40 > 3 ? (int)(need / 40) : 3;
    for (int i = 0; i < limit && (double)w->chatting < need; i++)
        if (!start_session(g, t + rng_below(&g->rng, (uint32_t)TICK_US), false))
            break;
    want = (double)g->target_bytes * ((ts + 1.0) / span < 1.05 ? (ts + 1.0) / span : 1.05);
    for (int i = 0; i < 400 && (double)g->st.gen_bg < 0.35 * want; i++)
        bg_start(g, t);
    for (int i = 0; i < 2000 && (double)g->st.gen_dns < 0.05 * want; i++)
        dns_noise(g, t + rng_below(&g->rng, (uint32_t)TICK_US));
    q_push_wake(g, t + TICK_US, pacer, r);
}

static const char *observable(const struct dtruth *d, uint64_t cap_end, const char **stage)
{
    if (d->outcome == OUT_NONE) {
        *stage = "-";
        return "no";
    }
    if (d->outcome == OUT_FAILED) {
        *stage = d->fail_stage;
        bool seen = (d->marks & d->need) == d->need;
        return seen && cap_end >= d->need_until ? "yes" : "no";
    }
    if (d->midstream) {
        *stage = d->encrypted ? "tls" : "dialback";
        return !d->encrypted && (d->marks & M_ALIVE) ? "inferred" : "no";
    }
    if (d->encrypted && (d->marks & M_SUB_CLEAR)) {
        /* the user's cleartext client leg shows the approval */
        *stage = "subscribe";
        return "yes";
    }
    if (d->encrypted) {
        *stage = "tls";
        return d->marks & M_ALIVE ? "inferred" : "no";
    }
    if (d->pending) {
        /* ok once the subscribe went unanswered past its timeout */
        *stage = "subscribe";
        bool seen = (d->marks & d->need) == d->need && (d->marks & M_AUTH);
        return seen && cap_end >= d->need_until ? "yes" : "no";
    }
    *stage = d->marks & M_SUB ? "subscribe" : "dialback";
    if ((d->marks & M_SUBSENT) && !(d->marks & M_SUB))
        return "no"; /* the subscribe was still waiting when the capture ended */
    return d->marks & M_AUTH ? "yes" : "no";
}

static void ip_str(const struct host *h, char *out, size_t cap)
{
    snprintf(out, cap, "%u.%u.%u.%u", h->ip4[0], h->ip4[1], h->ip4[2], h->ip4[3]);
}

static int write_truth(struct gen *g, const char *path, const char *args, uint64_t cap_end)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "gen-busy: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct world *w = g->w;
    fprintf(f, "# gen-busy truth: one line per federation direction (from -> to)\n");
    fprintf(f, "# args: %s\n", args);
    fprintf(f, "# capture: %.6f s of packet time from %llu (unix), %llu frames\n", (double)cap_end / 1e6,
            (unsigned long long)EPOCH_S, (unsigned long long)g->st.frames);
    fprintf(f, "# observable: yes = the decisive packets are in the capture; inferred = only by inference"
               " (encrypted, or the capture began mid-session); no = the capture does not show the outcome\n");
    fprintf(f, "from\tto\tfrom_addr\tto_addr\toutcome\tstage\tcode\tobservable\tscenario\tfirst_seen\tattempts\n");
    for (uint32_t i = 0; i < w->ntruth; i++) {
        const struct dtruth *d = w->truth[i];
        if (d->first_us > cap_end)
            continue; /* started after the last frame written */
        const char *stage = "";
        const char *obs = observable(d, cap_end, &stage);
        char fa[32], ta[32];
        ip_str(w->dom[d->from].server, fa, sizeof fa);
        ip_str(w->dom[d->to].server, ta, sizeof ta);
        fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.6f\t%u\n", w->dom[d->from].name, w->dom[d->to].name, fa, ta,
                d->outcome == OUT_OK ? "ok" : d->outcome == OUT_FAILED ? "failed" : "none", stage, d->code, obs, d->scenario,
                (double)(EPOCH_S * US_PER_S + d->first_us) / 1e6, d->attempts);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "gen-busy: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: gen-busy (-s SIZE | -f FEDERATIONS [-r RATE]) -o OUT.pcap [-t TRUTH.tsv] [-S SEED] [-d DOMAINS] [-q]\n"
                "  -s SIZE   capture size, decimal suffixes k M G (5M, 100M, 1G)\n"
                "  -f N      N federations, started at a steady rate: the span grows with N,\n"
                "            the number active at once does not (correlator scale)\n"
                "  -r RATE   with -f: new federations per second (default 20)\n"
                "  -t FILE   truth file (default OUT.pcap with .truth.tsv appended)\n"
                "  -S SEED   random seed (default 1)\n"
                "  -d N      number of domains (default 6000, or N/5 with -f when larger)\n"
                "  -q        no summary on standard error\n");
}

int main(int argc, char **argv)
{
    uint64_t size = 0, nfed = 0, seed = 1;
    double fed_rate = 20.0;
    uint32_t ndom = 0;
    const char *out = NULL, *truth = NULL;
    bool quiet = false;
    int c;
    char args[512] = "";
    for (int i = 1; i < argc; i++) {
        size_t l = strlen(args);
        snprintf(args + l, sizeof args - l, "%s%s", i > 1 ? " " : "", argv[i]);
    }
    while ((c = getopt(argc, argv, "s:f:r:o:t:S:d:qh")) != -1) {
        switch (c) {
        case 's': size = parse_size(optarg); if (!size) { usage(stderr); return 2; } break;
        case 'f': nfed = strtoull(optarg, NULL, 10); if (!nfed) { usage(stderr); return 2; } break;
        case 'r':
            fed_rate = strtod(optarg, NULL);
            if (!(fed_rate >= 0.01 && fed_rate <= 1000.0)) {
                fprintf(stderr, "gen-busy: -r must be between 0.01 and 1000\n");
                return 2;
            }
            break;
        case 'o': out = optarg; break;
        case 't': truth = optarg; break;
        case 'S': seed = strtoull(optarg, NULL, 10); break;
        case 'd': ndom = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if ((!size == !nfed) || !out || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (!ndom)
        ndom = nfed / 5 > 6000 ? (uint32_t)(nfed / 5) : 6000;
    if (ndom < 10 || ndom > 60000) {
        fprintf(stderr, "gen-busy: -d must be between 10 and 60000\n");
        return 2;
    }
    char truth_default[4096];
    if (!truth) {
        snprintf(truth_default, sizeof truth_default, "%s.truth.tsv", out);
        truth = truth_default;
    }
    struct gen g;
    memset(&g, 0, sizeof g);
    g.rng.s = seed * 0x2545F4914F6CDD1Dull + 17;
    g.epoch_s = EPOCH_S;
    g.out = strcmp(out, "-") == 0 ? stdout : fopen(out, "wb");
    if (!g.out) {
        fprintf(stderr, "gen-busy: %s: %s\n", out, strerror(errno));
        return 2;
    }
    static char obuf[1 << 20];
    setvbuf(g.out, obuf, _IOFBF, sizeof obuf);
    world_new(&g, ndom);
    struct run r = {.g = &g};
    if (size) {
        /* 1 GB spreads over ten minutes, small captures over at least two */
        r.duration_us = (uint64_t)((120.0 + 480.0 * (double)size / 1e9) * 1e6);
        g.target_bytes = size;
        g.min_life_s = 20.0;
        g.mean_life_s = 120.0;
        /* Half the federations the byte rate needs are already up when
         * the capture starts (their links show no SYN, no header). */
        uint64_t nmid = (uint64_t)(0.5 * 0.6 * (double)size / ((double)r.duration_us / 1e6) / 1300.0) + 2;
        for (uint64_t i = 0; i < nmid; i++) {
            uint32_t a = world_pick_domain(&g), b = world_pick_domain(&g);
            if (a == b || world_fed_for(&g, a, b, -1))
                continue;
            int scen = scenario_for(&g, a, b, true);
            if (scen == SC_COUNT)
                continue;
            struct fed *f = world_fed_for(&g, a, b, scen);
            fed_start_midstream(&g, f, rng_below(&g.rng, 2 * US_PER_S));
        }
    } else {
        r.nfed_target = nfed;
        /* A mirror port sees new federations at a steady rate for as long
         * as it runs: more federations means a longer span, not more of
         * them at once. */
        r.fed_rate = fed_rate;
        /* short sessions: the correlator, not the packet path, is measured */
        g.min_life_s = 2.0;
        g.mean_life_s = 5.0;
    }
    pcap_write_header(&g);
    q_push_wake(&g, 0, pacer, &r);
    clock_t c0 = clock();
    struct qent e;
    uint64_t cap_end = 0;
    while (q_pop(&g, &e)) {
        if (e.kind == Q_WAKE) {
            if (!g.stopped)
                e.fn(&g, e.p, e.t);
            continue;
        }
        struct frame *f = e.p;
        if (g.target_bytes && g.st.bytes + 16 + f->len > g.target_bytes) {
            g.stopped = true;
            free(f);
            break;
        }
        pcap_write_frame(&g, e.t, f);
        cap_end = e.t;
        free(f);
    }
    q_free(&g);
    int rc = 0;
    if (fflush(g.out) != 0 || ferror(g.out) || (g.out != stdout && fclose(g.out) != 0)) {
        fprintf(stderr, "gen-busy: %s: write error\n", out);
        rc = 2;
    }
    if (write_truth(&g, truth, args, cap_end) != 0)
        rc = 2;
    if (!quiet) {
        const struct gen_stats *s = &g.st;
        double tot = (double)(s->gen_xmpp + s->gen_dns + s->gen_bg);
        fprintf(stderr,
                "gen-busy: %llu frames, %llu bytes, %.1f s of packet time, %.1f s CPU\n"
                "  bytes generated: xmpp %.1f%%, dns %.1f%%, background %.1f%%\n"
                "  federations %u, directions in truth %u; connections s2s %llu (midstream %llu), c2s %llu, "
                "background %llu, DNS over TCP %llu; TLS sessions %llu; DNS queries %llu\n"
                "  XMPP connections open: mean %.0f, peak %llu; a chatting federation writes %.0f bytes/s\n"
                "  frames: IPv6 %.1f%%, VLAN %.1f%%, padded %.1f%%, zero TCP checksum %.1f%%; "
                "segments reordered %llu, retransmitted %llu, overlapping %llu, cut %llu\n",
                (unsigned long long)s->frames, (unsigned long long)s->bytes, (double)cap_end / 1e6,
                (double)(clock() - c0) / CLOCKS_PER_SEC, 100.0 * (double)s->gen_xmpp / tot,
                100.0 * (double)s->gen_dns / tot, 100.0 * (double)s->gen_bg / tot, g.w->nfeds, g.w->ntruth,
                (unsigned long long)s->conns_s2s, (unsigned long long)s->midstream, (unsigned long long)s->conns_c2s,
                (unsigned long long)s->conns_bg, (unsigned long long)s->conns_dns_tcp,
                (unsigned long long)s->tls_sessions, (unsigned long long)s->dns_queries,
                s->open_samples ? (double)s->open_sum / (double)s->open_samples : 0.0,
                (unsigned long long)s->peak_open_xmpp, g.w->chat_secs > 0 ? g.w->chat_bytes / g.w->chat_secs : 0.0,
                100.0 * (double)s->v6_frames / (double)s->frames,
                100.0 * (double)s->vlan_frames / (double)s->frames, 100.0 * (double)s->padded_frames / (double)s->frames,
                100.0 * (double)s->zero_csum_frames / (double)s->frames, (unsigned long long)s->tcp_reorder,
                (unsigned long long)s->tcp_retrans, (unsigned long long)s->tcp_overlap,
                (unsigned long long)s->tcp_cut);
    }
    world_free(g.w);
    return rc;
}
