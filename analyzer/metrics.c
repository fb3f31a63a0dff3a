/*
 * metrics.c - Prometheus text exposition of the run's health and the
 * verdict counters (see metrics.h).
 */
#include <config.h>

#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void metrics_init(struct metrics *m, int64_t start_ns)
{
    memset(m, 0, sizeof(*m));
    m->start_ns = start_ns;
}

void metrics_free(struct metrics *m)
{
    free(m->feds);
    m->feds = NULL;
    m->cap = m->used = 0;
}

/* FNV-1a of the federation id, and for a direction of its originating
 * domain too (kind 1: a federation, 2: a direction); never 0. */
static uint64_t track_key(const char *id, const char *from, unsigned kind)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    h = (h ^ kind) * UINT64_C(0x100000001b3);
    for (const unsigned char *p = (const unsigned char *)(from ? from : ""); *p; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    return h ? h : 1;
}

static bool grow(struct metrics *m)
{
    uint32_t ncap = m->cap ? m->cap * 2 : 256;
    struct metrics_fed *nf;
    if (ncap > METRICS_MAX_TRACKED * 2)
        return false;
    nf = calloc(ncap, sizeof(*nf));
    if (!nf)
        return false;
    for (uint32_t i = 0; i < m->cap; i++) {
        uint32_t j;
        if (!m->feds[i].key)
            continue;
        for (j = (uint32_t)m->feds[i].key & (ncap - 1); nf[j].key; j = (j + 1) & (ncap - 1))
            ;
        nf[j] = m->feds[i];
    }
    free(m->feds);
    m->feds = nf;
    m->cap = ncap;
    return true;
}

/* The slot of key, made when absent (*fresh); NULL when the table is full
 * and key is not in it. */
static struct metrics_fed *slot_of(struct metrics *m, uint64_t key, bool *fresh)
{
    uint32_t j;
    *fresh = false;
    if (m->used < METRICS_MAX_TRACKED && (m->used + 1) * 2 > m->cap)
        (void)grow(m);
    if (!m->cap)
        return NULL;
    for (j = (uint32_t)key & (m->cap - 1); m->feds[j].key; j = (j + 1) & (m->cap - 1))
        if (m->feds[j].key == key)
            return &m->feds[j];
    if (m->used >= METRICS_MAX_TRACKED || (m->used + 1) * 2 > m->cap)
        return NULL;
    m->feds[j].key = key;
    m->used++;
    *fresh = true;
    return &m->feds[j];
}

static int status_rank(enum corr_status s)
{
    return s == CORR_FAILED ? 2 : s == CORR_UNKNOWN ? 1 : 0;
}

static uint64_t *fed_gauge(struct metrics *m, enum corr_status s)
{
    return s == CORR_FAILED ? &m->fed_failed : s == CORR_UNKNOWN ? &m->fed_unknown : &m->fed_ok;
}

/* Moves a tracked item (a federation or a direction, by key) to status
 * now; *old_status is what it had, *had whether it was known. */
static void track(struct metrics *m, uint64_t key, enum corr_status now, bool *had, enum corr_status *old_status)
{
    bool fresh;
    struct metrics_fed *slot = slot_of(m, key, &fresh);
    *had = slot && !fresh;
    *old_status = *had ? (enum corr_status)slot->status : CORR_UNKNOWN;
    if (slot)
        slot->status = (uint8_t)now;
    else
        m->untracked++;
}

void metrics_on_verdict(struct metrics *m, const struct corr_federation *f, const struct corr_direction *d,
                        const struct corr_verdict_change *chg)
{
    enum corr_status worst = d->verdict.status, old;
    bool had;

    (void)chg; /* a direction re-created for the same domains replaces the
                * retired one: its own previous verdict is not enough */
    if (d->verdict.code != VERDICT_CODE_NONE && (unsigned)d->verdict.code < VERDICT_CODE_COUNT)
        m->verdicts[d->verdict.code]++;
    /* Directions failing now, by name: a verdict event moves the count. */
    track(m, track_key(f->id, d->from, 2), d->verdict.status, &had, &old);
    if (d->verdict.status == CORR_FAILED && !(had && old == CORR_FAILED))
        m->dirs_failing++;
    else if (d->verdict.status != CORR_FAILED && had && old == CORR_FAILED && m->dirs_failing)
        m->dirs_failing--;
    /* Federations by the status of their worst direction. */
    for (unsigned k = 0; k < f->n_dir && k < 2; k++)
        if (status_rank(f->dir[k].verdict.status) > status_rank(worst))
            worst = f->dir[k].verdict.status;
    track(m, track_key(f->id, NULL, 1), worst, &had, &old);
    if (had && *fed_gauge(m, old))
        (*fed_gauge(m, old))--;
    (*fed_gauge(m, worst))++;
}

/* ---- text --------------------------------------------------------------- */

static void put(struct metrics_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct metrics_text *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (t->truncated)
        return;
    for (;;) {
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (t->buf && (size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t ncap = t->cap ? t->cap * 2 : 16384;
        char *nb;
        while (ncap < t->len + (size_t)n + 1)
            ncap *= 2;
        if (ncap > METRICS_MAX_TEXT || !(nb = realloc(t->buf, ncap))) {
            t->truncated = true;
            return;
        }
        t->buf = nb;
        t->cap = ncap;
    }
}

static void head(struct metrics_text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct metrics_text *t, const char *name, const char *type, const char *help, uint64_t v)
{
    head(t, name, type, help);
    put(t, "%s %llu\n", name, (unsigned long long)v);
}

/* A label value: backslash, quote and newline escaped (interface names
 * and file paths come from the command line). */
static const char *label(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (; s && *s && o + 3 < len; s++) {
        if (*s == '\\' || *s == '"') {
            buf[o++] = '\\';
            buf[o++] = *s;
        } else if (*s == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else {
            buf[o++] = *s;
        }
    }
    buf[o] = '\0';
    return buf;
}

static void per_source(struct metrics_text *t, const struct stats_snapshot *snap, const char *name,
                       const char *help, int which)
{
    char lb[256], ob[256];
    head(t, name, "counter", help);
    for (unsigned i = 0; i < snap->nsources; i++) {
        const struct source_facts *s = &snap->sources[i];
        uint64_t v;
        if (which >= 2 && !s->have_stats)
            continue;
        v = which == 0 ? s->frames : which == 1 ? s->bytes : which == 2 ? s->kernel_dropped : s->if_dropped;
        put(t, "%s{source=\"%s\",observer=\"%s\"} %llu\n", name, label(s->name, lb, sizeof(lb)),
            label(s->observer, ob, sizeof(ob)), (unsigned long long)v);
    }
}

int metrics_render(struct metrics_text *t, const struct metrics *m, const struct stats_snapshot *snap)
{
    const struct reasm_stats *r = &snap->reasm;
    const struct dispatch_stats *d = &snap->dispatch;
    char ob[256];

    t->len = 0;
    t->truncated = false;
    if (t->buf)
        t->buf[0] = '\0';
    head(t, "fedtrace_build_info", "gauge", "fedtrace version (value 1)");
    put(t, "fedtrace_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
    head(t, "fedtrace_start_time_seconds", "gauge", "Wall-clock time the run started");
    put(t, "fedtrace_start_time_seconds %lld.%03lld\n", (long long)(m->start_ns / FT_NS_PER_SEC),
        (long long)(m->start_ns % FT_NS_PER_SEC / 1000000));
    if (snap->have_packets) {
        head(t, "fedtrace_last_packet_time_seconds", "gauge", "Packet time of the newest frame");
        put(t, "fedtrace_last_packet_time_seconds %lld.%03lld\n", (long long)(snap->pipeline.last_ns / FT_NS_PER_SEC),
            (long long)(snap->pipeline.last_ns % FT_NS_PER_SEC / 1000000));
    }
    per_source(t, snap, "fedtrace_packets_total", "Frames delivered by the capture, per source", 0);
    per_source(t, snap, "fedtrace_bytes_total", "Bytes on the wire of the frames delivered, per source", 1);
    per_source(t, snap, "fedtrace_kernel_dropped_packets_total",
               "Packets the kernel dropped for lack of buffer space (pcap_stats ps_drop), live sources", 2);
    per_source(t, snap, "fedtrace_interface_dropped_packets_total",
               "Packets the interface or its driver dropped (pcap_stats ps_ifdrop), live sources", 3);
    one(t, "fedtrace_flows_active", "gauge", "TCP flows in the flow table", snap->flows.active);
    one(t, "fedtrace_flows_created_total", "counter", "TCP flows created", snap->flows.created);
    one(t, "fedtrace_flows_timed_out_total", "counter", "TCP flows that left the table idle", snap->flows.timed_out);
    one(t, "fedtrace_flows_evicted_total", "counter", "TCP flows evicted because the flow table was full",
        snap->flows.evicted);
    one(t, "fedtrace_reassembly_buffered_bytes", "gauge", "Out-of-order TCP bytes waiting in reassembly now",
        r->buffered_now);
    one(t, "fedtrace_reassembly_gaps_total", "counter", "TCP sequence gaps (data never seen)", r->gaps);
    head(t, "fedtrace_parse_errors_total", "counter", "Messages or packets that did not parse, by protocol");
    put(t, "fedtrace_parse_errors_total{protocol=\"dns\"} %llu\n", (unsigned long long)d->dns_parse_errors);
    put(t, "fedtrace_parse_errors_total{protocol=\"ip\"} %llu\n",
        (unsigned long long)(snap->decode.invalid_ip + snap->decode.truncated_ip));
    put(t, "fedtrace_parse_errors_total{protocol=\"tcp_udp\"} %llu\n",
        (unsigned long long)(snap->decode.invalid_l4 + snap->decode.truncated_l4));
    head(t, "fedtrace_cap_hits_total", "counter", "Times a memory or table cap bit, by cap");
    put(t, "fedtrace_cap_hits_total{cap=\"flows\"} %llu\n", (unsigned long long)snap->flows.evicted);
    put(t, "fedtrace_cap_hits_total{cap=\"reassembly_stream\"} %llu\n", (unsigned long long)r->forced_flushes_stream);
    put(t, "fedtrace_cap_hits_total{cap=\"reassembly_total\"} %llu\n", (unsigned long long)r->forced_flushes_total);
    put(t, "fedtrace_cap_hits_total{cap=\"dissector_state\"} %llu\n",
        (unsigned long long)(d->state_cap + d->state_refused));
    put(t, "fedtrace_cap_hits_total{cap=\"dns_pending\"} %llu\n", (unsigned long long)snap->dns_tracker.evicted);
    put(t, "fedtrace_cap_hits_total{cap=\"dns_records\"} %llu\n", (unsigned long long)snap->dns_parse.dropped);
    put(t, "fedtrace_cap_hits_total{cap=\"verdict_tracking\"} %llu\n", (unsigned long long)m->untracked);
    head(t, "fedtrace_federations", "gauge", "Federations (domain pairs) by the status of their worst direction");
    put(t, "fedtrace_federations{status=\"ok\"} %llu\n", (unsigned long long)m->fed_ok);
    put(t, "fedtrace_federations{status=\"failed\"} %llu\n", (unsigned long long)m->fed_failed);
    put(t, "fedtrace_federations{status=\"unknown\"} %llu\n", (unsigned long long)m->fed_unknown);
    one(t, "fedtrace_federation_directions_failing", "gauge", "Federation directions whose verdict is failed now",
        m->dirs_failing);
    head(t, "fedtrace_verdicts_total", "counter", "Verdicts decided (new or changed), by stage and code");
    for (unsigned c = 1; c < VERDICT_CODE_COUNT; c++) {
        const struct verdict_info *vi = verdict_info_of((enum verdict_code)c);
        if (!m->verdicts[c] || !vi)
            continue;
        put(t, "fedtrace_verdicts_total{stage=\"%s\",code=\"%s\"} %llu\n", fed_stage_name(vi->stage),
            label(vi->code, ob, sizeof(ob)), (unsigned long long)m->verdicts[c]);
    }
    return t->truncated ? -1 : 0;
}

void metrics_text_free(struct metrics_text *t)
{
    free(t->buf);
    memset(t, 0, sizeof(*t));
}

int metrics_write_file(const char *path, const struct metrics_text *t)
{
    char tmp[4096];
    size_t done = 0;
    int fd, e;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    while (done < t->len) {
        ssize_t n = write(fd, t->buf + done, t->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        done += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    e = errno ? errno : EIO;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = e;
    return -1;
}
