/*
 * capture_live.c - live interfaces through libpcap: opening one with the
 * kernel filter, waiting for packets without blocking a stop request,
 * the wall clock a live run is judged on, the kernel's drop counters, and
 * the interface list (-D).
 */
#include "capture_int.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"

/* The expression a live source compiles: the filter, and with
 * filter_vlan the same inside 802.1Q tags when the link type carries them
 * (libpcap's `vlan` compiles only there: Linux cooked "any" has none).
 * Owned by the caller; NULL when memory ran out. */
static char *live_filter_text(const struct capture_options *o, int linktype)
{
    size_t n = 2 * strlen(o->filter) + 32;
    char *out = malloc(n);
    if (!out)
        return NULL;
    if (o->filter_vlan && linktype == DLT_EN10MB)
        snprintf(out, n, "(%s) or (vlan and (%s))", o->filter, o->filter);
    else
        snprintf(out, n, "%s", o->filter);
    return out;
}

int capture_open_live(struct capture_source *s, const struct capture_options *o, char *err,
                      size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    int rc;

    s->kind = SRC_LIVE;
    s->pcap = pcap_create(s->name, ebuf);
    if (!s->pcap) {
        snprintf(err, errlen, "cannot open interface '%s': %s", s->name, ebuf);
        return -1;
    }
    pcap_set_snaplen(s->pcap, o->snaplen > 0 ? o->snaplen : 262144);
    pcap_set_promisc(s->pcap, o->promisc ? 1 : 0);
    pcap_set_timeout(s->pcap, 100);
    pcap_set_immediate_mode(s->pcap, o->immediate ? 1 : 0);
    if (o->buffer_kib > 0)
        pcap_set_buffer_size(s->pcap, o->buffer_kib * 1024);
    s->nano = pcap_set_tstamp_precision(s->pcap, PCAP_TSTAMP_PRECISION_NANO) == 0;
    rc = pcap_activate(s->pcap);
    if (rc == PCAP_ERROR_PERM_DENIED) {
        snprintf(err, errlen,
                 "cannot capture on '%s': permission denied (needs CAP_NET_RAW: run as root "
                 "or grant it, e.g. setcap cap_net_raw,cap_net_admin=eip fedtrace)", s->name);
        return -1;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot capture on '%s': %s", s->name,
                 rc == PCAP_ERROR ? pcap_geterr(s->pcap) : pcap_statustostr(rc));
        return -1;
    }
    if (rc > 0) /* a warning, e.g. promiscuous mode not supported */
        fprintf(stderr, "fedtrace: warning: %s: %s\n", s->name, pcap_statustostr(rc));
    if (s->nano)
        s->nano = pcap_get_tstamp_precision(s->pcap) == PCAP_TSTAMP_PRECISION_NANO;
    /* Non-blocking: capture_run() waits in poll() itself, so a quiet link
     * cannot keep it from noticing a stop request. */
    if (pcap_setnonblock(s->pcap, 1, ebuf) != 0 || pcap_get_selectable_fd(s->pcap) < 0) {
        snprintf(err, errlen, "cannot capture on '%s': %s", s->name,
                 ebuf[0] ? ebuf : "no selectable descriptor");
        return -1;
    }
    s->linktype = pcap_datalink(s->pcap);
    s->snaplen = pcap_snapshot(s->pcap);
    if (o->filter && *o->filter) {
        struct bpf_program prog;
        char *expr = live_filter_text(o, s->linktype);
        int bad;
        if (!expr) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        bad = pcap_compile(s->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN);
        free(expr);
        if (bad != 0) {
            snprintf(err, errlen, "bad filter '%s' for '%s': %s", o->filter, s->name,
                     pcap_geterr(s->pcap));
            return -1;
        }
        if (pcap_setfilter(s->pcap, &prog) != 0) {
            snprintf(err, errlen, "cannot set filter on '%s': %s", s->name, pcap_geterr(s->pcap));
            pcap_freecode(&prog);
            return -1;
        }
        pcap_freecode(&prog);
    }
    return 0;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * FT_NS_PER_SEC + ts.tv_nsec;
}

/* The live wall clock: called every CAPTURE_CLOCK_NS or so.  The time
 * handed out stays behind the wall clock by the delivery slack, so a
 * packet still in the kernel's buffer is not older than it, and it never
 * goes backwards. */
void capture_clock_poll(struct capture *c, bool live)
{
    int64_t now, t;
    if (!c->clock || !live)
        return;
    now = wall_ns();
    if (now < c->clock_next_ns)
        return;
    c->clock_next_ns = now + CAPTURE_CLOCK_NS;
    t = now - CAPTURE_CLOCK_SLACK_NS;
    if (t <= c->clock_last_ns || t < 0 || t > CAPTURE_TS_MAX_NS)
        return;
    c->clock_last_ns = t;
    c->clock(c->clock_user, t);
}

void capture_source_stats(struct capture_source *s)
{
    struct pcap_stat ps;
    if (s->kind != SRC_LIVE || !s->pcap || pcap_stats(s->pcap, &ps) != 0)
        return;
    s->have_stats = true;
    s->kernel_received = ps.ps_recv;
    s->kernel_dropped = ps.ps_drop;
    s->if_dropped = ps.ps_ifdrop;
}

/* Waits up to 100 ms for any live source to become readable.  A signal
 * ends the wait early (EINTR), and the caller re-checks its stop flag. */
void capture_wait_live(const struct capture *c)
{
    struct pollfd fds[64];
    nfds_t n = 0;
    for (unsigned i = 0; i < c->nsrc && n < 64; i++) {
        if (c->src[i].kind != SRC_LIVE || c->src[i].done)
            continue;
        fds[n].fd = pcap_get_selectable_fd(c->src[i].pcap);
        fds[n].events = POLLIN;
        fds[n].revents = 0;
        n++;
    }
    if (n)
        (void)poll(fds, n, 100);
}

int capture_list_interfaces(FILE *fp, char *err, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    pcap_if_t *all = NULL;
    unsigned n = 0;

    if (pcap_findalldevs(&all, pcap_err) != 0) {
        snprintf(err, errlen, "cannot list interfaces: %s", pcap_err);
        return -1;
    }
    for (pcap_if_t *d = all; d; d = d->next) {
        fprintf(fp, "%u.%s", ++n, d->name);
        if (d->description)
            fprintf(fp, " (%s)", d->description);
        if (d->flags & PCAP_IF_LOOPBACK)
            fputs(" [Loopback]", fp);
        fputc('\n', fp);
    }
    pcap_freealldevs(all);
    if (n == 0)
        snprintf(err, errlen, "no interface can be captured on (permissions?)");
    return n ? 0 : -1;
}

const char *capture_lib_version(void)
{
    return pcap_lib_version();
}
