/*
 * capture.c - the capture: its list of sources and the timestamp merge
 * (see capture.h).
 *
 * Sources are opened by capture_live.c (interfaces) and capture_file.c
 * (files and standard input) and read frame by frame by capture_read.c;
 * this file adds them, hands their frames to the caller in time order
 * across sources (as mergecap does), and answers what a source was.
 * Writing frames back out is capture_dump.c.
 */
#include "capture_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"
#include "facts.h"
#include "pcapng.h"

struct capture *capture_new(const volatile sig_atomic_t *stop)
{
    struct capture *c = calloc(1, sizeof(*c));
    if (c)
        c->stop = stop;
    return c;
}

static void source_free(struct capture_source *s)
{
    for (unsigned i = 0; i < s->nlinks; i++)
        if (s->links[i].usable && s->filter)
            pcap_freecode(&s->links[i].prog);
    if (s->pcap)
        pcap_close(s->pcap);
    pcapng_close(s->ng);
    if (s->ng_file && s->ng_file != stdin)
        fclose(s->ng_file);
    free(s->filter);
    free(s->name);
    free(s->observer);
    free(s->readbuf);
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

int capture_add(struct capture *c, const char *spec, bool live, const struct capture_options *o,
                char *err, size_t errlen)
{
    struct capture_source s, *grown;
    char name[CAPTURE_LINKTYPE_NAME_SIZE];

    memset(&s, 0, sizeof(s));
    if (split_spec(spec, live, &s.name, &s.observer) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if ((live ? capture_open_live(&s, o, err, errlen) : capture_open_file(&s, o, err, errlen)) != 0)
        goto fail;
    if (s.kind == SRC_LIVE && !decode_link_supported(s.linktype))
        fprintf(stderr, "fedtrace: warning: '%s': link type %s (%d) is not decoded; its frames are counted only\n",
                s.name, capture_linktype_name(s.linktype, name, sizeof(name)), s.linktype);
    if (s.kind == SRC_PCAP) {
        struct link_filter *lf = capture_link_filter_for(&s, s.linktype, err, errlen);
        if (lf && !lf->usable)
            goto fail;
    } else if (s.kind == SRC_PCAPNG && s.filter) {
        /* The interfaces are not known yet: check the expression itself
         * against Ethernet, so a typo is an error at once. */
        struct bpf_program prog;
        pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
        if (!dead || pcap_compile(dead, &prog, s.filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, errlen, "bad filter '%s' for '%s': %s", s.filter, s.name,
                     dead ? pcap_geterr(dead) : "out of memory");
            if (dead)
                pcap_close(dead);
            goto fail;
        }
        pcap_freecode(&prog);
        pcap_close(dead);
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

void capture_set_clock(struct capture *c, capture_clock_fn fn, void *user)
{
    c->clock = fn;
    c->clock_user = user;
}

void capture_refresh_stats(struct capture *c)
{
    for (unsigned i = 0; i < c->nsrc; i++)
        capture_source_stats(&c->src[i]);
}

int capture_run(struct capture *c, const struct capture_options *o, capture_frame_fn fn,
                void *user)
{
    int errors = 0;
    bool live = false;
    unsigned since_clock = 0;

    for (unsigned i = 0; i < c->nsrc; i++)
        live |= c->src[i].kind == SRC_LIVE;
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
                capture_source_pull(c, s);
            if (s->have_frame) {
                if (!best || s->frame.ts_ns < best->frame.ts_ns)
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
            capture_wait_live(c);
            capture_clock_poll(c, live);
            since_clock = 0;
            continue;
        }
        /* A busy link: look at the clock every few frames. */
        if (live && ++since_clock >= 64) {
            capture_clock_poll(c, live);
            since_clock = 0;
        }

        struct ft_meta m;
        memset(&m, 0, sizeof(m));
        m.frame = ++c->frames;
        m.src_frame = best->frame.number;
        m.source = (uint32_t)(best - c->src);
        m.ts_ns = best->frame.ts_ns;
        best->bytes += best->frame.wirelen;
        if (++best->frames == 1)
            best->first_ns = m.ts_ns;
        if (m.ts_ns > best->last_ns)
            best->last_ns = m.ts_ns;
        best->have_frame = false;
        if (c->dump)
            (void)capture_dump_frame(c->dump, c, best->frame.linktype, best->frame.data, best->frame.caplen,
                                     best->frame.wirelen, &m);
        fn(user, best->frame.linktype, best->frame.data, best->frame.caplen, best->frame.wirelen,
           &m);
    }
    for (unsigned i = 0; i < c->nsrc; i++) {
        capture_source_stats(&c->src[i]);
        if (c->src[i].error[0])
            errors++;
    }
    return errors;
}

unsigned capture_source_count(const struct capture *c)
{
    return c->nsrc;
}

uint64_t capture_frames(const struct capture *c)
{
    return c->frames;
}

void capture_source_info(const struct capture *c, unsigned i, struct capture_source_info *info)
{
    const struct capture_source *s = &c->src[i];

    memset(info, 0, sizeof(*info));
    info->name = s->name;
    info->observer = s->observer;
    info->live = s->kind == SRC_LIVE;
    info->pcapng = s->kind == SRC_PCAPNG;
    info->linktype = s->linktype;
    capture_linktype_name(s->linktype, info->linktype_name, sizeof(info->linktype_name));
    info->linktypes = s->kind == SRC_PCAPNG ? s->nlinks : 1;
    info->snaplen = s->snaplen;
    info->frames = s->frames;
    info->bytes = s->bytes;
    info->records = s->records;
    info->first_ns = s->first_ns;
    info->last_ns = s->last_ns;
    info->bad_timestamps = s->bad_timestamps;
    info->error = s->error;
    info->have_stats = s->have_stats;
    info->kernel_received = s->kernel_received;
    info->kernel_dropped = s->kernel_dropped;
    info->if_dropped = s->if_dropped;
}

size_t capture_secrets_count(const struct capture *c, unsigned i)
{
    return c->src[i].ng ? pcapng_secrets_count(c->src[i].ng, NULL) : 0;
}

const uint8_t *capture_secrets_at(const struct capture *c, unsigned i, size_t j, uint32_t *type,
                                  size_t *len)
{
    return c->src[i].ng ? pcapng_secrets_at(c->src[i].ng, j, type, len) : NULL;
}

void capture_free(struct capture *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->nsrc; i++)
        source_free(&c->src[i]);
    free(c->src);
    free(c);
}

const char *capture_linktype_name(int linktype, char *buf, size_t len)
{
    const char *n = linktype >= 0 ? pcap_datalink_val_to_name(linktype) : NULL;
    if (len == 0)
        return n ? n : "unknown";
    if (n)
        snprintf(buf, len, "%s", n);
    else if (linktype < 0)
        snprintf(buf, len, "none");
    else
        snprintf(buf, len, "LINKTYPE_%d", linktype);
    return buf;
}

void capture_snapshot(const struct capture *c, struct stats_snapshot *snap)
{
    unsigned n = c->nsrc < FACT_MAX_SOURCES ? c->nsrc : FACT_MAX_SOURCES;
    snap->frames = c->frames;
    snap->nsources = n;
    for (unsigned i = 0; i < n; i++) {
        struct capture_source_info s;
        struct source_facts *o = &snap->sources[i];
        capture_source_info(c, i, &s);
        o->name = s.name;
        o->observer = s.observer;
        o->live = s.live;
        snprintf(o->linktype_name, sizeof(o->linktype_name), "%s", s.linktype_name);
        o->snaplen = s.snaplen;
        o->frames = s.frames;
        o->bytes = s.bytes;
        o->records = s.records;
        o->bad_timestamps = s.bad_timestamps;
        o->first_ns = s.first_ns;
        o->last_ns = s.last_ns;
        o->error = s.error;
        o->have_stats = s.have_stats;
        o->kernel_received = s.kernel_received;
        o->kernel_dropped = s.kernel_dropped;
        o->if_dropped = s.if_dropped;
    }
}
