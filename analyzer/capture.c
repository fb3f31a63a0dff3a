/*
 * capture.c - libpcap sources and the timestamp merge (see capture.h).
 */
#include "capture.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"
#include "facts.h"

static void source_free(struct capture_source *s)
{
    if (s->pcap)
        pcap_close(s->pcap);
    free(s->name);
    free(s->observer);
}

static int split_spec(const char *spec, bool live, char **name, char **observer)
{
    struct stat st;
    const char *at = strrchr(spec, '@');

    *observer = NULL;
    if (!at || at == spec || at[1] == '\0' || (!live && stat(spec, &st) == 0)) {
        *name = strdup(spec);
        return *name ? 0 : -1;
    }
    *name = strndup(spec, (size_t)(at - spec));
    *observer = strdup(at + 1);
    if (!*name || !*observer) {
        free(*name);
        free(*observer);
        return -1;
    }
    return 0;
}

static int open_live(struct capture_source *s, const struct capture_options *o, char *err,
                     size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    int rc;

    s->pcap = pcap_create(s->name, ebuf);
    if (!s->pcap) {
        snprintf(err, errlen, "cannot open interface '%s': %s", s->name, ebuf);
        return -1;
    }
    pcap_set_snaplen(s->pcap, o->snaplen > 0 ? o->snaplen : 262144);
    pcap_set_promisc(s->pcap, o->promisc ? 1 : 0);
    pcap_set_timeout(s->pcap, 100);
    pcap_set_immediate_mode(s->pcap, 1);
    if (o->buffer_kib > 0)
        pcap_set_buffer_size(s->pcap, o->buffer_kib * 1024);
    s->nano = pcap_set_tstamp_precision(s->pcap, PCAP_TSTAMP_PRECISION_NANO) == 0;
    rc = pcap_activate(s->pcap);
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
    return 0;
}

static int open_file(struct capture_source *s, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    struct stat st;

    /* libpcap's messages for a missing file are less clear than errno's. */
    if (strcmp(s->name, "-") != 0 && stat(s->name, &st) != 0) {
        snprintf(err, errlen, "cannot open '%s': %s", s->name, strerror(errno));
        return -1;
    }
    s->pcap = pcap_open_offline_with_tstamp_precision(s->name, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!s->pcap) {
        snprintf(err, errlen, "cannot read '%s': %s", s->name, ebuf);
        return -1;
    }
    s->nano = true;
    return 0;
}

int capture_add(struct capture *c, const char *spec, bool live, const struct capture_options *o,
                char *err, size_t errlen)
{
    struct capture_source s, *grown;

    memset(&s, 0, sizeof(s));
    s.live = live;
    if (split_spec(spec, live, &s.name, &s.observer) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if ((live ? open_live(&s, o, err, errlen) : open_file(&s, err, errlen)) != 0)
        goto fail;
    s.linktype = pcap_datalink(s.pcap);
    s.snaplen = pcap_snapshot(s.pcap);
    if (!decode_link_supported(s.linktype))
        fprintf(stderr, "fedtrace: warning: '%s': link type %s (%d) is not decoded; its frames are counted only\n",
                s.name, capture_linktype_name(s.linktype), s.linktype);
    if (o->filter && *o->filter) {
        struct bpf_program prog;
        if (pcap_compile(s.pcap, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, errlen, "bad filter '%s' for '%s': %s", o->filter, s.name,
                     pcap_geterr(s.pcap));
            goto fail;
        }
        if (pcap_setfilter(s.pcap, &prog) != 0) {
            snprintf(err, errlen, "cannot set filter on '%s': %s", s.name, pcap_geterr(s.pcap));
            pcap_freecode(&prog);
            goto fail;
        }
        pcap_freecode(&prog);
    }
    grown = realloc(c->src, (c->nsrc + 1) * sizeof(*c->src));
    if (!grown) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    c->src = grown;
    c->src[c->nsrc++] = s;
    return 0;
fail:
    source_free(&s);
    return -1;
}

static int64_t frame_ns(const struct capture_source *s, const struct pcap_pkthdr *h)
{
    return (int64_t)h->ts.tv_sec * FT_NS_PER_SEC + (int64_t)h->ts.tv_usec * (s->nano ? 1 : 1000);
}

/* Reads the next frame of a source into have_frame/hdr/data.  Returns
 * 1 when a frame waits, 0 when a live source has nothing yet, -1 at the
 * end (or on error, recorded in s->error). */
static int source_pull(struct capture_source *s)
{
    int rc;
    if (s->done)
        return -1;
    rc = pcap_next_ex(s->pcap, &s->hdr, &s->data);
    if (rc == 1) {
        s->have_frame = true;
        return 1;
    }
    if (rc == 0)
        return 0;
    if (rc == PCAP_ERROR)
        snprintf(s->error, sizeof(s->error), "%s", pcap_geterr(s->pcap));
    s->done = true;
    return -1;
}

static void source_stats(struct capture_source *s)
{
    struct pcap_stat ps;
    if (!s->live || !s->pcap || pcap_stats(s->pcap, &ps) != 0)
        return;
    s->have_stats = true;
    s->kernel_received = ps.ps_recv;
    s->kernel_dropped = ps.ps_drop;
    s->if_dropped = ps.ps_ifdrop;
}

/* Waits up to 100 ms for any live source to become readable.  A signal
 * ends the wait early (EINTR), and the caller re-checks its stop flag. */
static void wait_live(const struct capture *c)
{
    struct pollfd fds[64];
    nfds_t n = 0;
    for (unsigned i = 0; i < c->nsrc && n < 64; i++) {
        if (!c->src[i].live || c->src[i].done)
            continue;
        fds[n].fd = pcap_get_selectable_fd(c->src[i].pcap);
        fds[n].events = POLLIN;
        fds[n].revents = 0;
        n++;
    }
    if (n)
        (void)poll(fds, n, 100);
}

int capture_run(struct capture *c, const struct capture_options *o, capture_frame_fn fn,
                void *user)
{
    int errors = 0;
    bool any_live = false;

    for (unsigned i = 0; i < c->nsrc; i++)
        any_live |= c->src[i].live;

    for (;;) {
        struct capture_source *best = NULL;
        bool pending = false;

        if (c->stop && *c->stop)
            break;
        if (o->max_frames && c->frames >= o->max_frames)
            break;
        for (unsigned i = 0; i < c->nsrc; i++) {
            struct capture_source *s = &c->src[i];
            if (!s->have_frame && !s->done)
                source_pull(s);
            if (s->have_frame) {
                if (!best || frame_ns(s, s->hdr) < frame_ns(best, best->hdr))
                    best = s;
            } else if (!s->done) {
                pending = true; /* a live source with nothing yet */
            }
        }
        /* Offline: a file source must not be overtaken by another that has
         * a frame ready, so wait only when a live source is idle. */
        if (!best) {
            if (!pending)
                break;
            wait_live(c);
            continue;
        }
        (void)any_live;

        struct ft_meta m;
        memset(&m, 0, sizeof(m));
        m.frame = ++c->frames;
        m.src_frame = ++best->frames;
        m.source = (uint32_t)(best - c->src);
        m.ts_ns = frame_ns(best, best->hdr);
        if (best->frames == 1)
            best->first_ns = m.ts_ns;
        if (m.ts_ns > best->last_ns)
            best->last_ns = m.ts_ns;
        best->have_frame = false;
        fn(user, best->linktype, best->data, best->hdr->caplen, best->hdr->len, &m);
    }
    for (unsigned i = 0; i < c->nsrc; i++) {
        source_stats(&c->src[i]);
        if (c->src[i].error[0])
            errors++;
    }
    return errors;
}

void capture_close(struct capture *c)
{
    for (unsigned i = 0; i < c->nsrc; i++)
        source_free(&c->src[i]);
    free(c->src);
    c->src = NULL;
    c->nsrc = 0;
}

const char *capture_linktype_name(int linktype)
{
    const char *n = pcap_datalink_val_to_name(linktype);
    return n ? n : "unknown";
}

void capture_snapshot(const struct capture *c, struct stats_snapshot *snap)
{
    unsigned n = c->nsrc < FACT_MAX_SOURCES ? c->nsrc : FACT_MAX_SOURCES;
    snap->frames = c->frames;
    snap->nsources = n;
    for (unsigned i = 0; i < n; i++) {
        const struct capture_source *s = &c->src[i];
        struct source_facts *o = &snap->sources[i];
        o->name = s->name;
        o->observer = s->observer;
        o->live = s->live;
        o->linktype_name = capture_linktype_name(s->linktype);
        o->snaplen = s->snaplen;
        o->frames = s->frames;
        o->error = s->error;
        o->have_stats = s->have_stats;
        o->kernel_received = s->kernel_received;
        o->kernel_dropped = s->kernel_dropped;
        o->if_dropped = s->if_dropped;
    }
}
