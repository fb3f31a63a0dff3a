/*
 * capture.c - capture sources and the timestamp merge (see capture.h).
 *
 * Three kinds of source: a live interface (libpcap, filter in the kernel),
 * a classic pcap file (libpcap) and a pcapng file (pcapng.c).  For files the
 * BPF filter is run here, frame by frame, so every record of the file is
 * counted and frame numbers stay the ones Wireshark shows; a pcapng file
 * gets one compiled filter per link type among its interfaces.
 */
#include "capture.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture_write.h"
#include "decode.h"
#include "facts.h"
#include "pcapng.h"

#define MAX_LINKTYPES 16 /* distinct link types per source */
#define FILE_READ_BUF (256 * 1024) /* stdio buffer of a capture file */

enum source_kind {
    SRC_LIVE,
    SRC_PCAP,   /* classic pcap file through libpcap */
    SRC_PCAPNG, /* pcapng file through pcapng.c */
};

/* A compiled filter for one link type of a file source. */
struct link_filter {
    int linktype;
    bool usable;              /* compiled (or no filter given) */
    struct bpf_program prog;
};

/* The frame waiting to be merged. */
struct pending {
    int linktype;
    const uint8_t *data;
    uint32_t caplen, wirelen;
    int64_t ts_ns;
    uint64_t number;          /* record number in the source */
};

struct capture_source {
    char *name;               /* file path, "-" or interface (owned) */
    char *observer;           /* observer tag or NULL (owned) */
    enum source_kind kind;
    pcap_t *pcap;             /* live and classic pcap */
    struct pcapng_reader *ng; /* pcapng */
    FILE *ng_file;            /* the pcapng reader's input (owned) */
    char *readbuf;            /* stdio buffer of a regular file (owned; freed
                                 after the stream that uses it is closed) */
    char *filter;             /* file sources: the BPF expression (owned) or NULL */
    struct link_filter links[MAX_LINKTYPES];
    unsigned nlinks;
    bool nano;                /* libpcap timestamps have nanosecond resolution */
    bool file_nano;           /* a pcap file with nanosecond timestamps (its magic) */
    int linktype;
    int snaplen;
    uint64_t frames, records, bad_timestamps;
    uint64_t bytes;           /* wire length of the frames delivered */
    int64_t first_ns, last_ns;
    bool done;
    char error[PCAP_ERRBUF_SIZE + 64]; /* damage found while reading; "" if none */
    bool have_frame;
    struct pending frame;
    bool have_stats;
    uint64_t kernel_received, kernel_dropped, if_dropped;
};

struct capture {
    struct capture_source *src;
    unsigned nsrc;
    uint64_t frames;          /* frames delivered, all sources */
    const volatile sig_atomic_t *stop;
    capture_clock_fn clock;   /* the live wall clock, or NULL */
    void *clock_user;
    int64_t clock_last_ns;    /* last time handed to `clock` */
    int64_t clock_next_ns;    /* wall time of the next call */
    struct capture_dump *dump; /* -w, or NULL; not owned */
};

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

static int open_live(struct capture_source *s, const struct capture_options *o, char *err,
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

/* ---- reading a file whose first bytes were already looked at ------------- */

/* A pipe cannot be rewound after its magic number was read: this stream
 * hands the bytes already read back first, then the rest of the pipe. */
struct peeked {
    FILE *under;
    uint8_t head[4];
    size_t nhead, pos;
};

/* What the pipe has now (at least one byte, or end of file): a packet is
 * analysed as soon as its last byte arrived, not when a buffer filled up
 * (the pipe's stdio stream is unbuffered, see open_file). */
static ssize_t peeked_read(void *cookie, char *buf, size_t size)
{
    struct peeked *p = cookie;
    size_t n = 0;
    while (p->pos < p->nhead && n < size)
        buf[n++] = (char)p->head[p->pos++];
    if (n == 0 && size > 0) {
        ssize_t got;
        do
            got = read(fileno(p->under), buf, size);
        while (got < 0 && errno == EINTR);
        if (got < 0)
            return -1;
        n = (size_t)got;
    }
    return (ssize_t)n;
}

static int peeked_close(void *cookie)
{
    struct peeked *p = cookie;
    if (p->under != stdin)
        fclose(p->under);
    free(p);
    return 0;
}

/* Returns a stream that reads `fp` from its first byte again, after
 * `n` bytes of it went into head; takes ownership of fp.  NULL on failure
 * (fp is then closed unless it is stdin). */
static FILE *rewound(FILE *fp, const uint8_t *head, size_t n)
{
    cookie_io_functions_t io = { peeked_read, NULL, NULL, peeked_close };
    struct peeked *p;
    FILE *out;

    if (fseek(fp, 0, SEEK_SET) == 0)
        return fp;
    clearerr(fp);
    p = calloc(1, sizeof(*p));
    if (!p || !(out = fopencookie(p, "rb", io))) {
        free(p);
        if (fp != stdin)
            fclose(fp);
        return NULL;
    }
    p->under = fp;
    memcpy(p->head, head, n);
    p->nhead = n;
    return out;
}

static int open_file(struct capture_source *s, const struct capture_options *o, char *err,
                     size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    uint8_t magic[4] = { 0 };
    size_t got;
    FILE *fp;

    fp = strcmp(s->name, "-") == 0 ? stdin : fopen(s->name, "rb");
    if (!fp) {
        snprintf(err, errlen, "cannot open '%s': %s", s->name, strerror(errno));
        return -1;
    }
    {
        struct stat st;
        /* a pipe: no stdio read-ahead, so peeked_read can hand on each
         * packet as it arrives (see rewound) */
        if (fstat(fileno(fp), &st) == 0 && !S_ISREG(st.st_mode))
            setvbuf(fp, NULL, _IONBF, 0);
        /* a file: read in large blocks, not st_blksize (4 KiB) at a time
         * (busy 100 MB capture: 39,800 read(2) calls -> 400) */
        else if ((s->readbuf = malloc(FILE_READ_BUF)) != NULL)
            setvbuf(fp, s->readbuf, _IOFBF, FILE_READ_BUF);
    }
    got = fread(magic, 1, sizeof(magic), fp);
    if (got < sizeof(magic)) {
        snprintf(err, errlen, "cannot read '%s': %s", s->name,
                 ferror(fp) ? strerror(errno) : "file too short for a capture file header");
        if (fp != stdin)
            fclose(fp);
        return -1;
    }
    fp = rewound(fp, magic, got);
    if (!fp) {
        snprintf(err, errlen, "cannot read '%s': %s", s->name, strerror(errno));
        return -1;
    }
    if (pcapng_magic(magic)) {
        s->kind = SRC_PCAPNG;
        s->ng_file = fp;
        s->ng = pcapng_open(fp, ebuf, sizeof(ebuf));
        if (!s->ng) {
            snprintf(err, errlen, "cannot read '%s': %s", s->name, ebuf);
            return -1;
        }
        s->linktype = -1;
    } else {
        s->kind = SRC_PCAP;
        s->file_nano = (magic[0] == 0xa1 && magic[1] == 0xb2 && magic[2] == 0x3c && magic[3] == 0x4d) ||
                       (magic[0] == 0x4d && magic[1] == 0x3c && magic[2] == 0xb2 && magic[3] == 0xa1);
        s->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
        if (!s->pcap) {
            snprintf(err, errlen, "cannot read '%s': %s", s->name, ebuf);
            if (fp != stdin)
                fclose(fp);
            return -1;
        }
        s->nano = true;
        s->linktype = pcap_datalink(s->pcap);
        s->snaplen = pcap_snapshot(s->pcap);
    }
    if (o->filter && *o->filter) {
        s->filter = strdup(o->filter);
        if (!s->filter) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* The filter state for a link type of a file source, compiled on first
 * use.  NULL when the source already has MAX_LINKTYPES of them.  With
 * `err` (at open), a filter that does not compile is an error. */
static struct link_filter *link_filter_for(struct capture_source *s, int linktype, char *err,
                                           size_t errlen)
{
    struct link_filter *lf;
    char name[CAPTURE_LINKTYPE_NAME_SIZE];

    for (unsigned i = 0; i < s->nlinks; i++)
        if (s->links[i].linktype == linktype)
            return &s->links[i];
    if (s->nlinks == MAX_LINKTYPES)
        return NULL;
    lf = &s->links[s->nlinks++];
    memset(lf, 0, sizeof(*lf));
    lf->linktype = linktype;
    lf->usable = true;
    if (!decode_link_supported(linktype))
        fprintf(stderr, "fedtrace: warning: '%s': link type %s (%d) is not decoded; its frames are counted only\n",
                s->name, capture_linktype_name(linktype, name, sizeof(name)), linktype);
    if (s->filter) {
        pcap_t *dead = s->pcap ? NULL : pcap_open_dead(linktype, 262144);
        pcap_t *p = s->pcap ? s->pcap : dead;
        if (!p || pcap_compile(p, &lf->prog, s->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            lf->usable = false;
            if (err)
                snprintf(err, errlen, "bad filter '%s' for '%s': %s", s->filter, s->name,
                         p ? pcap_geterr(p) : "out of memory");
            else
                fprintf(stderr, "fedtrace: warning: '%s': filter '%s' does not apply to link type %s; its frames are skipped\n",
                        s->name, s->filter, capture_linktype_name(linktype, name, sizeof(name)));
        }
        if (dead)
            pcap_close(dead);
    }
    return lf;
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
    if ((live ? open_live(&s, o, err, errlen) : open_file(&s, o, err, errlen)) != 0)
        goto fail;
    if (s.kind == SRC_LIVE && !decode_link_supported(s.linktype))
        fprintf(stderr, "fedtrace: warning: '%s': link type %s (%d) is not decoded; its frames are counted only\n",
                s.name, capture_linktype_name(s.linktype, name, sizeof(name)), s.linktype);
    if (s.kind == SRC_PCAP) {
        struct link_filter *lf = link_filter_for(&s, s.linktype, err, errlen);
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

/* Puts a timestamp into [0, CAPTURE_TS_MAX_NS], counting the ones that
 * were not. */
static int64_t sane_time(struct capture_source *s, int64_t ns, bool valid)
{
    if (valid && ns >= 0 && ns <= CAPTURE_TS_MAX_NS)
        return ns;
    s->bad_timestamps++;
    return ns < 0 ? 0 : CAPTURE_TS_MAX_NS;
}

static int64_t libpcap_ns(struct capture_source *s, const struct pcap_pkthdr *h)
{
    int64_t sec, ns;
    bool ok = !__builtin_mul_overflow((int64_t)h->ts.tv_sec, FT_NS_PER_SEC, &sec) &&
              !__builtin_add_overflow(sec, (int64_t)h->ts.tv_usec * (s->nano ? 1 : 1000), &ns);
    if (!ok)
        ns = h->ts.tv_sec < 0 ? INT64_MIN : INT64_MAX;
    return sane_time(s, ns, ok);
}

/* Whether a frame of a file source passes its filter. */
static bool file_filter_pass(struct capture_source *s, int linktype, const uint8_t *data,
                             uint32_t caplen, uint32_t wirelen)
{
    struct link_filter *lf = link_filter_for(s, linktype, NULL, 0);
    struct pcap_pkthdr h;

    if (!s->filter)
        return true;
    if (!lf || !lf->usable)
        return false;
    memset(&h, 0, sizeof(h));
    h.caplen = caplen;
    h.len = wirelen;
    return pcap_offline_filter(&lf->prog, &h, data) != 0;
}

static int pull_libpcap(struct capture *c, struct capture_source *s)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc;

    for (;;) {
        rc = pcap_next_ex(s->pcap, &hdr, &data);
        if (rc == 0)
            return 0; /* live: nothing yet */
        if (rc != 1)
            break;
        s->records++;
        if (s->kind == SRC_PCAP && !file_filter_pass(s, s->linktype, data, hdr->caplen, hdr->len)) {
            if (c->stop && *c->stop)
                return 0;
            continue;
        }
        s->frame.linktype = s->linktype;
        s->frame.data = data;
        s->frame.caplen = hdr->caplen;
        s->frame.wirelen = hdr->len;
        s->frame.ts_ns = libpcap_ns(s, hdr);
        s->frame.number = s->records;
        s->have_frame = true;
        return 1;
    }
    if (rc == PCAP_ERROR)
        snprintf(s->error, sizeof(s->error), "%s", pcap_geterr(s->pcap));
    s->done = true;
    return -1;
}

static int pull_pcapng(struct capture *c, struct capture_source *s)
{
    struct pcapng_packet pkt;
    enum pcapng_result rc;

    while ((rc = pcapng_next(s->ng, &pkt)) == PCAPNG_PACKET) {
        s->records = pkt.number;
        if (s->linktype < 0) {
            s->linktype = pcapng_first_linktype(s->ng);
            s->snaplen = (int)(pcapng_first_snaplen(s->ng) & 0x7FFFFFFF);
        }
        if (!file_filter_pass(s, pkt.linktype, pkt.data, pkt.caplen, pkt.wirelen)) {
            if (c->stop && *c->stop)
                return 0;
            continue;
        }
        s->frame.linktype = pkt.linktype;
        s->frame.data = pkt.data;
        s->frame.caplen = pkt.caplen;
        s->frame.wirelen = pkt.wirelen;
        s->frame.ts_ns = sane_time(s, pkt.ts_ns, pkt.ts_valid);
        s->frame.number = pkt.number;
        s->have_frame = true;
        return 1;
    }
    if (s->linktype < 0 && pcapng_first_linktype(s->ng) >= 0) {
        s->linktype = pcapng_first_linktype(s->ng);
        s->snaplen = (int)(pcapng_first_snaplen(s->ng) & 0x7FFFFFFF);
    }
    if (rc == PCAPNG_ERROR)
        snprintf(s->error, sizeof(s->error), "%s", pcapng_error(s->ng));
    s->done = true;
    return -1;
}

/* Reads the next frame of a source into s->frame.  Returns 1 when a frame
 * waits, 0 when a live source has nothing yet (or a stop was requested),
 * -1 at the end (or on error, recorded in s->error). */
static int source_pull(struct capture *c, struct capture_source *s)
{
    if (s->done)
        return -1;
    return s->kind == SRC_PCAPNG ? pull_pcapng(c, s) : pull_libpcap(c, s);
}

void capture_set_clock(struct capture *c, capture_clock_fn fn, void *user)
{
    c->clock = fn;
    c->clock_user = user;
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
static void clock_poll(struct capture *c, bool live)
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

static void source_stats(struct capture_source *s)
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
static void wait_live(const struct capture *c)
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

void capture_refresh_stats(struct capture *c)
{
    for (unsigned i = 0; i < c->nsrc; i++)
        source_stats(&c->src[i]);
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
                source_pull(c, s);
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
            wait_live(c);
            clock_poll(c, live);
            since_clock = 0;
            continue;
        }
        /* A busy link: look at the clock every few frames. */
        if (live && ++since_clock >= 64) {
            clock_poll(c, live);
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
        source_stats(&c->src[i]);
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

/* ---- dumps ------------------------------------------------------------- */

#define DUMP_MAX_IFACES 256

struct dump_iface {
    uint32_t source;
    int linktype;
    int id;
};

struct capture_dump {
    struct capture_writer *w;
    bool pcapng;
    int pcap_linktype;
    struct dump_iface ifaces[DUMP_MAX_IFACES];
    unsigned nifaces;
    uint64_t unwritable; /* frames of a link type the file cannot hold */
};

bool capture_dump_is_pcapng(const struct capture *c)
{
    if (c->nsrc > 1) /* merged sources: each frame keeps its capture point */
        return true;
    return c->nsrc == 1 && c->src[0].kind == SRC_PCAPNG;
}

struct capture_dump *capture_dump_open(const struct capture *c, const char *path, char *err, size_t errlen)
{
    struct capture_dump *d = calloc(1, sizeof(*d));
    bool nano = false;
    uint32_t snaplen = 0;

    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->pcapng = capture_dump_is_pcapng(c);
    d->pcap_linktype = c->nsrc ? c->src[0].linktype : DLT_EN10MB;
    for (unsigned i = 0; i < c->nsrc; i++) {
        nano |= c->src[i].kind == SRC_LIVE ? c->src[i].nano : c->src[i].file_nano;
        if (c->src[i].snaplen > 0 && (uint32_t)c->src[i].snaplen > snaplen)
            snaplen = (uint32_t)c->src[i].snaplen;
    }
    d->w = capture_writer_open(path, d->pcapng ? CAPTURE_WRITE_PCAPNG : CAPTURE_WRITE_PCAP, d->pcap_linktype,
                               snaplen, nano, err, errlen);
    if (!d->w) {
        free(d);
        return NULL;
    }
    return d;
}

/* The file's interface for frames of this source and link type, described
 * on first use; -1 when the file cannot hold it. */
static int dump_iface_of(struct capture_dump *d, const struct capture *c, uint32_t source, int linktype)
{
    const struct capture_source *s;
    int id;

    if (!d->pcapng)
        return linktype == d->pcap_linktype ? 0 : -1;
    for (unsigned i = 0; i < d->nifaces; i++)
        if (d->ifaces[i].source == source && d->ifaces[i].linktype == linktype)
            return d->ifaces[i].id;
    if (d->nifaces == DUMP_MAX_IFACES || source >= c->nsrc)
        return -1;
    s = &c->src[source];
    /* snaplen 0 (no limit): a pcapng source's interfaces may differ */
    id = capture_writer_interface(d->w, linktype, 0,
                                  s->observer ? s->observer : s->name, s->name);
    if (id < 0)
        return -1;
    d->ifaces[d->nifaces++] = (struct dump_iface){ source, linktype, id };
    return id;
}

int capture_dump_frame(struct capture_dump *d, const struct capture *c, int linktype, const uint8_t *data,
                       uint32_t caplen, uint32_t wirelen, const struct ft_meta *m)
{
    int iface = dump_iface_of(d, c, m->source, linktype);
    if (iface < 0) {
        d->unwritable++;
        return -1;
    }
    return capture_writer_frame(d->w, iface, m->ts_ns, data, caplen, wirelen);
}

uint64_t capture_dump_frames(const struct capture_dump *d)
{
    return capture_writer_frames(d->w);
}

int capture_dump_close(struct capture_dump *d, char *err, size_t errlen)
{
    char path[512];
    uint64_t unwritable;
    if (!d)
        return 0;
    snprintf(path, sizeof(path), "%s", capture_writer_path(d->w));
    unwritable = d->unwritable;
    struct capture_writer *w = d->w;
    free(d);
    if (capture_writer_close(w) != 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    if (unwritable) {
        snprintf(err, errlen, "'%s': %" PRIu64 " frames of another link type could not be written", path,
                 unwritable);
        return -1;
    }
    return 0;
}

void capture_set_dump(struct capture *c, struct capture_dump *d)
{
    c->dump = d;
}
